/* t2g-tests NAME [--seed S]: runs one check on the default device (T2G_DEVICE chooses), with
 * the validation layer on when T2G_VALIDATE=1 (ctest sets it); any validation message fails
 * the test. The seed is drawn fresh each run and printed; --seed or T2G_TEST_SEED repeats
 * a run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check/check.h"

static void print_message(void *user, const char *message) {
    (void)user;
    fprintf(stderr, "%s\n", message);
}

static uint64_t fresh_seed(void) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return ((uint64_t)now.tv_sec * 1000003u) ^ (uint64_t)now.tv_nsec ^ ((uint64_t)getpid() << 32);
}

static int usage(void) {
    fprintf(stderr, "usage: t2g-tests NAME [--seed S]\nchecks:");
    for (size_t i = 0; i < t2g_check_count; i++) fprintf(stderr, " %s", t2g_checks[i].name);
    fprintf(stderr, "\n");
    return 2;
}

int main(int argc, char **argv) {
    if (argc < 2) return usage();
    const check_entry *entry = check_find(argv[1]);
    if (!entry) return usage();
    uint64_t seed = fresh_seed() % 1000000000u;
    const char *seed_text = getenv("T2G_TEST_SEED");
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) seed_text = argv[++i];
        else return usage();
    }
    if (seed_text && *seed_text) seed = strtoull(seed_text, NULL, 10);
    printf("%s: seed %llu (repeat with --seed %llu)\n", entry->name, (unsigned long long)seed, (unsigned long long)seed);

    t2g_device_options options = t2g_device_options_default();
    options.log = print_message;
    t2g_device *device;
    t2g_error err = {0};
    if (t2g_device_create(&options, &device, &err)) {
        fprintf(stderr, "FAIL: %s\n", err.message);
        return 1;
    }
    const t2g_device_info *info = t2g_device_get_info(device);
    printf("device: %s (%s), validation %s\n", info->name, info->type, t2g_device_validation_enabled(device) ? "on" : "off");

    check_ctx ctx;
    int failures = 1;
    if (check_begin(&ctx, device, seed, 768ull << 20, false, stdout)) {
        entry->run(&ctx);
        failures = ctx.failures;
        printf("%s: %d comparisons, %d failures; worst relative error against the reference %.3e (%s)\n", entry->name,
               ctx.comparisons, ctx.failures, ctx.worst_error, ctx.worst_label[0] ? ctx.worst_label : "none");
    }
    check_end(&ctx);
    uint32_t messages = t2g_device_validation_messages(device);
    t2g_device_destroy(device);
    if (messages) {
        fprintf(stderr, "FAIL: %u validation messages\n", messages);
        failures++;
    }
    if (failures) printf("seed was %llu\n", (unsigned long long)seed);
    return failures ? 1 : 0;
}
