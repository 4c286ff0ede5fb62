/* The VkPipelineCache kept on disk, so that later runs skip shader compilation. One file per
 * device and driver build (the driver's pipelineCacheUUID is in the name); written to a
 * temporary file and renamed, so concurrent runs never see half a file. A cache that cannot be
 * read or written is a warning, never an error: it only costs time. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/atomic_write.h"
#include "core/cache_dir.h"
#include "core/read_file.h"
#include "vk_internal.h"

#define CACHE_HEADER_BYTES 32 /* VkPipelineCacheHeaderVersionOne */
#define MAX_CACHE_FILE_BYTES (256u << 20)

/* The saved data, if it was written by this very device and driver. */
static void *read_matching_cache(const char *path, const VkPhysicalDeviceProperties *properties, size_t *bytes) {
    *bytes = 0;
    FILE *file;
    uint64_t file_size = 0;
    t2g_error ignored;
    if (t2g_file_open(path, "the pipeline cache", &file, &file_size, &ignored)) return NULL; /* none: made anew */
    unsigned char *data = NULL;
    long size = file_size <= MAX_CACHE_FILE_BYTES ? (long)file_size : -1;
    if (size >= CACHE_HEADER_BYTES && size <= (long)MAX_CACHE_FILE_BYTES) {
        data = malloc((size_t)size);
        if (data && fread(data, 1, (size_t)size, file) != (size_t)size) {
            free(data);
            data = NULL;
        }
    }
    fclose(file);
    if (!data) return NULL;
    uint32_t header[4];
    memcpy(header, data, sizeof header);
    bool matches = header[0] == CACHE_HEADER_BYTES && header[1] == VK_PIPELINE_CACHE_HEADER_VERSION_ONE &&
                   header[2] == properties->vendorID && header[3] == properties->deviceID &&
                   memcmp(data + 16, properties->pipelineCacheUUID, VK_UUID_SIZE) == 0;
    if (!matches) {
        free(data);
        return NULL;
    }
    *bytes = (size_t)size;
    return data;
}

t2g_status t2g_pipeline_cache_open(t2g_device *device, const char *cache_dir, t2g_error *err) {
    VkPhysicalDeviceProperties properties;
    vkGetPhysicalDeviceProperties(device->physical, &properties);
    char dir[900];
    bool have_dir = cache_dir ? snprintf(dir, sizeof dir, "%s", cache_dir) < (int)sizeof dir && *cache_dir
                              : t2g_cache_default_dir(dir, sizeof dir);
    device->pipeline_cache_path[0] = 0;
    void *data = NULL;
    size_t bytes = 0;
    if (have_dir) {
        char uuid[2 * VK_UUID_SIZE + 1];
        for (unsigned i = 0; i < VK_UUID_SIZE; i++) snprintf(uuid + 2 * i, 3, "%02x", properties.pipelineCacheUUID[i]);
        snprintf(device->pipeline_cache_path, sizeof device->pipeline_cache_path, "%s/pipelines-%04x-%04x-%s.bin", dir,
                 properties.vendorID, properties.deviceID, uuid);
        data = read_matching_cache(device->pipeline_cache_path, &properties, &bytes);
    }
    VkPipelineCacheCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
        .initialDataSize = bytes,
        .pInitialData = data,
    };
    VkResult result = vkCreatePipelineCache(device->device, &info, NULL, &device->pipeline_cache);
    free(data);
    if (result != VK_SUCCESS) return t2g_vk_fail(err, result, "creating the pipeline cache");
    device->pipeline_cache_loaded_bytes = bytes;
    return T2G_OK;
}

static void save(t2g_device *device) {
    const char *path = device->pipeline_cache_path;
    size_t bytes = 0;
    if (vkGetPipelineCacheData(device->device, device->pipeline_cache, &bytes, NULL) != VK_SUCCESS) return;
    if (bytes == 0 || bytes == device->pipeline_cache_loaded_bytes) return; /* nothing new */
    void *data = malloc(bytes);
    if (!data) return;
    VkResult result = vkGetPipelineCacheData(device->device, device->pipeline_cache, &bytes, data);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    t2g_error err = {0};
    t2g_status status = T2G_OK;
    if (result != VK_SUCCESS) status = t2g_fail(&err, T2G_ERR_VULKAN, "the driver gave no cache data");
    else if (!t2g_make_dirs(dir)) status = t2g_fail(&err, T2G_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
    else status = t2g_atomic_write(path, data, bytes, &err);
    free(data);
    if (status)
        t2g_device_warn(device, "warning: the pipeline cache could not be saved to %s (%s); later runs will compile "
                                "shaders again (set T2G_CACHE_DIR to a writable folder)",
                        path, err.message);
}

void t2g_pipeline_cache_close(t2g_device *device) {
    if (!device->pipeline_cache) return;
    if (device->pipeline_cache_path[0]) save(device);
    vkDestroyPipelineCache(device->device, device->pipeline_cache, NULL);
    device->pipeline_cache = VK_NULL_HANDLE;
}
