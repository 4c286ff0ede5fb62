/* What some drivers report that t2g must not take at its word: one table entry a driver, applied
 * to a device's description (t2g_device_info) as it is made. */
#include <stdio.h>

#include "core/host_cpus.h"
#include "core/host_memory.h"
#include "vk_internal.h"

typedef struct heap_quirk {
    VkDriverId driver;
    const char *why; /* completes "device-local memory is the host's available memory: " */
} heap_quirk;

/* CPU implementations whose device memory is malloc'ed host memory: the heap size they report is
 * a constant, not a limit (Mesa 22.3's lavapipe reports 2 GiB whatever the host has), so a run's
 * memory plan is checked against what the host has available instead. They run shaders on a
 * thread per host processor (lavapipe: unless LP_NUM_THREADS says otherwise), host_threads. */
static const heap_quirk HEAP_IS_HOST_MEMORY[] = {
    {VK_DRIVER_ID_MESA_LLVMPIPE, "lavapipe allocates device memory from the host and reports a fixed heap size"},
    {VK_DRIVER_ID_GOOGLE_SWIFTSHADER, "SwiftShader allocates device memory from the host"},
};

void t2g_vk_apply_quirks(VkDriverId driver, t2g_device_info *info) {
    info->reported_heap_bytes = info->device_local_bytes;
    for (size_t i = 0; i < sizeof HEAP_IS_HOST_MEMORY / sizeof HEAP_IS_HOST_MEMORY[0]; i++) {
        if (HEAP_IS_HOST_MEMORY[i].driver != driver) continue;
        info->host_threads = t2g_host_cpus();
        uint64_t host = t2g_host_available_bytes();
        if (host == 0) continue; /* unknown: the reported heap stands */
        info->device_local_bytes = host;
        snprintf(info->memory_note, sizeof info->memory_note,
                 "device-local memory is the host's available memory: %s (%.0f MiB reported)",
                 HEAP_IS_HOST_MEMORY[i].why, (double)info->reported_heap_bytes / (1024.0 * 1024.0));
    }
}
