/* Opening a device: choosing among the physical devices, the logical device and its compute
 * queue, and closing it again. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coopmat_khr.h"
#include "vk_internal.h"

t2g_device_options t2g_device_options_default(void) {
    return (t2g_device_options){.device = NULL, .validate = -1, .log = NULL, .log_user = NULL, .cache_dir = NULL};
}

static bool contains_ignoring_case(const char *haystack, const char *needle) {
    size_t n = strlen(needle);
    for (const char *h = haystack; *h; h++) {
        size_t i = 0;
        while (i < n && h[i] && tolower((unsigned char)h[i]) == tolower((unsigned char)needle[i])) i++;
        if (i == n) return true;
    }
    return n == 0;
}

static bool all_digits(const char *s) {
    if (!*s) return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) return false;
    return true;
}

/* "0: llvmpipe (CPU); 1: ..." for error messages. */
static void list_names(const t2g_device_info *infos, uint32_t count, char *out, size_t size) {
    size_t used = 0;
    out[0] = 0;
    for (uint32_t i = 0; i < count && used < size; i++) {
        int n = snprintf(out + used, size - used, "%s%u: %s (%s%s%s)", i ? "; " : "", i, infos[i].name,
                         infos[i].type, infos[i].usable ? "" : ", unusable: ",
                         infos[i].usable ? "" : infos[i].unusable_reason);
        if (n < 0) break;
        used += (size_t)n;
    }
}

static t2g_status choose(const char *request, const t2g_device_info *infos, uint32_t count, uint32_t *chosen,
                         t2g_error *err) {
    char names[700];
    list_names(infos, count, names, sizeof names);
    if (count == 0)
        return t2g_fail(err, T2G_ERR_NO_DEVICE,
                        "no Vulkan device found. Install a driver; on Debian/Ubuntu, 'apt install "
                        "mesa-vulkan-drivers' gives a CPU device (lavapipe)");
    if (!request || !*request) {
        int best = -1;
        for (uint32_t i = 0; i < count; i++)
            if (infos[i].usable && (best < 0 || infos[i].kind > infos[best].kind)) best = (int)i;
        if (best < 0)
            return t2g_fail(err, T2G_ERR_NO_DEVICE, "no Vulkan device can run t2g; the devices are: %s", names);
        *chosen = (uint32_t)best;
        return T2G_OK;
    }
    uint32_t index = UINT32_MAX;
    if (all_digits(request)) {
        unsigned long value = strtoul(request, NULL, 10);
        if (value < count) index = (uint32_t)value;
    } else {
        for (uint32_t i = 0; i < count && index == UINT32_MAX; i++)
            if (contains_ignoring_case(infos[i].name, request)) index = i;
    }
    if (index == UINT32_MAX)
        return t2g_fail(err, T2G_ERR_NO_DEVICE, "no Vulkan device matches '%s'; the devices are: %s", request, names);
    if (!infos[index].usable)
        return t2g_fail(err, T2G_ERR_UNSUPPORTED, "device %u (%s) cannot run t2g: %s", index, infos[index].name,
                        infos[index].unusable_reason);
    *chosen = index;
    return T2G_OK;
}

static bool validation_requested(int option) {
    if (option >= 0) return option > 0;
    const char *env = getenv("T2G_VALIDATE");
    return env && *env && strcmp(env, "0") != 0;
}

static t2g_status create_logical_device(t2g_device *device, t2g_error *err) {
    float priority = 1.0f;
    VkDeviceQueueCreateInfo queue = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = device->queue_family,
        .queueCount = 1,
        .pQueuePriorities = &priority,
    };
    /* The optional features t2g's variants use, enabled where the device has them (the
     * capabilities t2g_device_info reports): 16-bit storage for the bf16 and f16 kernels; for the
     * cooperative-matrix kernels the device runs (t2g_device_info_choose_coopmat decided that
     * from the same report), VK_KHR_cooperative_matrix and what their shaders use besides. */
    bool coopmat = device->info.coopmat_f16_16x16x16;
    VkPhysicalDeviceCooperativeMatrixFeaturesKHR coopmat_features = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_KHR,
        .cooperativeMatrix = VK_TRUE,
    };
    VkPhysicalDeviceVulkan12Features features12 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
        .pNext = coopmat ? &coopmat_features : NULL,
        .shaderFloat16 = coopmat,
        .vulkanMemoryModel = coopmat,
    };
    VkPhysicalDeviceVulkan11Features features11 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES,
        .pNext = &features12,
        .storageBuffer16BitAccess = device->info.storage_16bit,
    };
    VkPhysicalDeviceFeatures2 features = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &features11};
    const char *extensions[] = {VK_KHR_COOPERATIVE_MATRIX_EXTENSION_NAME};
    VkDeviceCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .pNext = &features,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &queue,
        .enabledExtensionCount = coopmat ? 1u : 0u,
        .ppEnabledExtensionNames = extensions,
    };
    VkResult result = vkCreateDevice(device->physical, &info, NULL, &device->device);
    if (result != VK_SUCCESS) return t2g_vk_fail(err, result, "creating the logical device on %s", device->info.name);
    vkGetDeviceQueue(device->device, device->queue_family, 0, &device->queue);

    uint32_t count = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(device->physical, &count, NULL);
    VkQueueFamilyProperties families[64];
    if (count > 64) count = 64;
    vkGetPhysicalDeviceQueueFamilyProperties(device->physical, &count, families);
    device->timestamp_valid_bits = families[device->queue_family].timestampValidBits;
    vkGetPhysicalDeviceMemoryProperties(device->physical, &device->memory_properties);
    return T2G_OK;
}

static t2g_status create_transfer_objects(t2g_device *device, t2g_error *err) {
    VkCommandPoolCreateInfo pool = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
        .queueFamilyIndex = device->queue_family,
    };
    VkResult result = vkCreateCommandPool(device->device, &pool, NULL, &device->transfer_pool);
    if (result != VK_SUCCESS) return t2g_vk_fail(err, result, "creating the command pool for transfers");
    VkCommandBufferAllocateInfo alloc = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = device->transfer_pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    result = vkAllocateCommandBuffers(device->device, &alloc, &device->transfer_commands);
    if (result != VK_SUCCESS) return t2g_vk_fail(err, result, "allocating the command buffer for transfers");
    VkFenceCreateInfo fence = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    result = vkCreateFence(device->device, &fence, NULL, &device->transfer_fence);
    if (result != VK_SUCCESS) return t2g_vk_fail(err, result, "creating the fence for transfers");
    return T2G_OK;
}

t2g_status t2g_device_limit_binding(t2g_device *device, uint64_t bytes, t2g_error *err) {
    uint64_t own = device->own_binding_range;
    if (bytes && (bytes < 1024 || bytes > own))
        return t2g_fail(err, T2G_ERR_ARGUMENT, "a binding limit of %llu bytes: expected 1024 to %llu (the range of %s), or 0",
                        (unsigned long long)bytes, (unsigned long long)own, device->info.name);
    device->info.max_storage_buffer_range = bytes ? bytes / 256 * 256 : own;
    return T2G_OK;
}

t2g_status t2g_device_test_limit_texels(t2g_device *device, uint32_t alignment, uint64_t max_elements, t2g_error *err) {
    uint32_t own_alignment = device->own_texel_alignment ? device->own_texel_alignment : 1;
    if ((alignment && (alignment % own_alignment || alignment & (alignment - 1))) ||
        max_elements > device->own_texel_elements)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "texel limits of %u bytes and %llu texels: expected a power of two that "
                        "is a multiple of %u bytes and at most %llu texels (those of %s), or 0", alignment,
                        (unsigned long long)max_elements, own_alignment, (unsigned long long)device->own_texel_elements,
                        device->info.name);
    device->info.min_texel_buffer_offset_alignment = alignment ? alignment : device->own_texel_alignment;
    device->info.max_texel_buffer_elements = max_elements ? max_elements : device->own_texel_elements;
    return T2G_OK;
}

/* T2G_TEST_MAX_BINDING=<bytes>: the test hook of t2g_device_limit_binding. */
static t2g_status binding_limit_from_environment(t2g_device *device, t2g_error *err) {
    device->own_binding_range = device->info.max_storage_buffer_range;
    device->own_texel_alignment = device->info.min_texel_buffer_offset_alignment;
    device->own_texel_elements = device->info.max_texel_buffer_elements;
    const char *env = getenv("T2G_TEST_MAX_BINDING");
    if (!env || !*env) return T2G_OK;
    char *end;
    unsigned long long bytes = strtoull(env, &end, 10);
    if (*end || !isdigit((unsigned char)*env))
        return t2g_fail(err, T2G_ERR_ARGUMENT, "T2G_TEST_MAX_BINDING is '%s'; expected a number of bytes", env);
    t2g_status status = t2g_device_limit_binding(device, bytes, err);
    return status ? t2g_error_context(err, "T2G_TEST_MAX_BINDING") : T2G_OK;
}

t2g_status t2g_device_create(const t2g_device_options *options, t2g_device **out, t2g_error *err) {
    *out = NULL;
    t2g_device_options defaults = t2g_device_options_default();
    if (!options) options = &defaults;
    t2g_device *device = calloc(1, sizeof *device);
    if (!device) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory creating a device");
    device->validation.enabled = validation_requested(options->validate);
    device->validation.log = options->log;
    device->validation.log_user = options->log_user;

    t2g_status status = t2g_vk_instance_create(&device->validation, &device->instance, &device->messenger, err);
    VkPhysicalDevice *physicals = NULL;
    t2g_device_info *infos = NULL;
    uint32_t count = 0, chosen = 0;
    if (!status) status = t2g_vk_enumerate(device->instance, &physicals, &infos, &count, err);
    if (!status) {
        const char *request = options->device ? options->device : getenv("T2G_DEVICE");
        status = choose(request, infos, count, &chosen, err);
    }
    if (!status) {
        device->info = infos[chosen];
        device->physical = physicals[chosen];
        device->queue_family = t2g_vk_compute_queue_family(device->physical);
    }
    free(physicals);
    free(infos);
    if (!status) status = create_logical_device(device, err);
    if (!status) status = create_transfer_objects(device, err);
    if (!status) status = t2g_pipelines_init(device, err);
    if (!status) status = t2g_pipeline_cache_open(device, options->cache_dir, err);
    if (!status) status = binding_limit_from_environment(device, err);
    if (status) {
        t2g_device_destroy(device);
        return status;
    }
    *out = device;
    return T2G_OK;
}

void t2g_device_destroy(t2g_device *device) {
    if (!device) return;
    if (device->device) {
        vkDeviceWaitIdle(device->device);
        t2g_pipelines_destroy(device);
        t2g_pipeline_cache_close(device);
        t2g_transfer_destroy(device);
        vkDestroyDevice(device->device, NULL);
    }
    t2g_vk_instance_destroy(device->instance, device->messenger);
    free(device);
}

void t2g_device_warn(t2g_device *device, const char *format, ...) {
    if (!device->validation.log) return;
    char message[T2G_ERROR_MESSAGE_BYTES];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    device->validation.log(device->validation.log_user, message);
}

const t2g_device_info *t2g_device_get_info(const t2g_device *device) { return &device->info; }
bool t2g_device_validation_enabled(const t2g_device *device) { return device->validation.enabled; }
uint32_t t2g_device_validation_messages(const t2g_device *device) { return device->validation.messages; }
const char *t2g_device_first_validation_message(const t2g_device *device) {
    return device->validation.first_message;
}
const char *t2g_device_pipeline_cache_path(const t2g_device *device) { return device->pipeline_cache_path; }

bool t2g_device_variant_disabled(const t2g_device *device, const char *name) {
    for (uint32_t i = 0; i < device->disabled_variant_count; i++)
        if (strcmp(device->disabled_variants[i], name) == 0) return true;
    return false;
}

void t2g_device_disable_variant(t2g_device *device, const char *name) {
    if (t2g_device_variant_disabled(device, name) || device->disabled_variant_count == T2G_MAX_DISABLED_VARIANTS) return;
    snprintf(device->disabled_variants[device->disabled_variant_count++], sizeof device->disabled_variants[0], "%s", name);
}

void t2g_device_test_corrupt_variant(t2g_device *device, const char *name) {
    device->disabled_variant_count = 0;
    snprintf(device->test_corrupt_variant, sizeof device->test_corrupt_variant, "%s", name ? name : "");
}

const char *t2g_device_test_corrupted_variant(const t2g_device *device) { return device->test_corrupt_variant; }

void t2g_device_test_layouts_as_gpu(t2g_device *device, bool as_gpu) { device->test_layouts_as_gpu = as_gpu; }

bool t2g_device_layouts_for_cpu(const t2g_device *device) {
    return device->info.kind == T2G_DEVICE_CPU && !device->test_layouts_as_gpu;
}
