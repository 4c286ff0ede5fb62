/* VkResult names, and the one place that turns a failed Vulkan call into a t2g_error. */
#include <stdio.h>

#include "vk_internal.h"

const char *t2g_vk_result_name(VkResult result) {
    switch (result) {
#define NAME(r) case r: return #r
    NAME(VK_SUCCESS);
    NAME(VK_NOT_READY);
    NAME(VK_TIMEOUT);
    NAME(VK_EVENT_SET);
    NAME(VK_EVENT_RESET);
    NAME(VK_INCOMPLETE);
    NAME(VK_ERROR_OUT_OF_HOST_MEMORY);
    NAME(VK_ERROR_OUT_OF_DEVICE_MEMORY);
    NAME(VK_ERROR_INITIALIZATION_FAILED);
    NAME(VK_ERROR_DEVICE_LOST);
    NAME(VK_ERROR_MEMORY_MAP_FAILED);
    NAME(VK_ERROR_LAYER_NOT_PRESENT);
    NAME(VK_ERROR_EXTENSION_NOT_PRESENT);
    NAME(VK_ERROR_FEATURE_NOT_PRESENT);
    NAME(VK_ERROR_INCOMPATIBLE_DRIVER);
    NAME(VK_ERROR_TOO_MANY_OBJECTS);
    NAME(VK_ERROR_FORMAT_NOT_SUPPORTED);
    NAME(VK_ERROR_FRAGMENTED_POOL);
    NAME(VK_ERROR_UNKNOWN);
    NAME(VK_ERROR_OUT_OF_POOL_MEMORY);
    NAME(VK_ERROR_INVALID_EXTERNAL_HANDLE);
    NAME(VK_ERROR_FRAGMENTATION);
    NAME(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS);
    NAME(VK_PIPELINE_COMPILE_REQUIRED);
    NAME(VK_ERROR_VALIDATION_FAILED_EXT);
#undef NAME
    default: return "an unknown VkResult";
    }
}

t2g_status t2g_vk_fail(t2g_error *err, VkResult result, const char *what_format, ...) {
    char what[T2G_ERROR_MESSAGE_BYTES - 64];
    va_list args;
    va_start(args, what_format);
    vsnprintf(what, sizeof what, what_format, args);
    va_end(args);
    bool out_of_memory = result == VK_ERROR_OUT_OF_HOST_MEMORY || result == VK_ERROR_OUT_OF_DEVICE_MEMORY;
    return t2g_fail(err, out_of_memory ? T2G_ERR_MEMORY : T2G_ERR_VULKAN, "%s: %s (%d)", what,
                    t2g_vk_result_name(result), (int)result);
}
