/* Preloaded (LD_PRELOAD) into every test of a T2G_SANITIZE build: dlclose does nothing, so the
 * Vulkan loader's drivers and layers stay mapped after vkDestroyInstance. LeakSanitizer then
 * sees what they still reference as reachable and names their frames, instead of reporting
 * their allocations as leaks of "<unknown module>". Built without sanitizers: it is also loaded
 * into the shells and Python critics that the CLI tests start. */
int dlclose(void *handle);

int dlclose(void *handle) {
    (void)handle;
    return 0;
}
