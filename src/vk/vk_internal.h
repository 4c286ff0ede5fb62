/* What the runtime's files share: the Vulkan objects behind t2g_device, t2g_arena and
 * t2g_recorder, and the helpers that check Vulkan calls. Not a public header. */
#ifndef T2G_VK_INTERNAL_H
#define T2G_VK_INTERNAL_H

#define VK_NO_PROTOTYPES
#include <volk.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "t2g/device.h"
#include "t2g/memory.h"
#include "t2g/recorder.h"
#include "t2g/status.h"

/* ---- results and errors ---- */

const char *t2g_vk_result_name(VkResult result);
/* Fills err with "<what>: <VkResult name>" and returns T2G_ERR_MEMORY for the
 * out-of-memory results, T2G_ERR_VULKAN otherwise. */
t2g_status t2g_vk_fail(t2g_error *err, VkResult result, const char *what_format, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- instance and physical devices (instance.c, physical.c) ---- */

typedef struct t2g_validation {
    bool enabled;
    uint32_t messages;
    char first_message[T2G_ERROR_MESSAGE_BYTES];
    t2g_log_fn log;
    void *log_user;
} t2g_validation;

/* Opens the Vulkan loader through volk (once per process). */
t2g_status t2g_vk_load(t2g_error *err);
/* An instance; with validation->enabled, the Khronos layer and a messenger that counts into
 * *validation (which must outlive the instance). */
t2g_status t2g_vk_instance_create(t2g_validation *validation, VkInstance *instance,
                                  VkDebugUtilsMessengerEXT *messenger, t2g_error *err);
void t2g_vk_instance_destroy(VkInstance instance, VkDebugUtilsMessengerEXT messenger);
/* Every physical device, described; *devices and *infos are malloc'ed. */
t2g_status t2g_vk_enumerate(VkInstance instance, VkPhysicalDevice **devices,
                            t2g_device_info **infos, uint32_t *count, t2g_error *err);
/* The queue family with compute, or UINT32_MAX. */
uint32_t t2g_vk_compute_queue_family(VkPhysicalDevice device);

/* Corrects what a driver (driver: VkPhysicalDeviceDriverProperties::driverID, 0 before Vulkan
 * 1.2) reports that t2g must not take at its word (quirks.c's table); sets reported_heap_bytes. */
void t2g_vk_apply_quirks(VkDriverId driver, t2g_device_info *info);

/* ---- pipelines (pipeline.c) ---- */

#define T2G_MAX_SPEC_CONSTANTS 16
#define T2G_MAX_BINDINGS 12
#define T2G_PUSH_CONSTANT_BYTES 128

typedef struct t2g_pipeline {
    const char *shader;                 /* name of the embedded shader, e.g. "gelu_forward" */
    uint32_t spec[T2G_MAX_SPEC_CONSTANTS];
    uint32_t spec_count;
    uint32_t binding_count;
    uint32_t texel_bindings;            /* bit i: binding i is a uniform texel buffer */
    VkDescriptorSetLayout set_layout;
    VkPipelineLayout layout;
    VkPipeline pipeline;
    bool built;                         /* false while a thread creates it (the others wait) */
} t2g_pipeline;

/* The pipeline of `shader` with these specialization constants (constant_id 0..n-1) and
 * `binding_count` bindings at 0..n-1, storage buffers but for the uniform texel buffers of
 * `texel_bindings` (bit i: binding i); built on first use, then cached. Safe to call from
 * several threads: each pipeline is created once. */
t2g_status t2g_pipeline_get(t2g_device *device, const char *shader, const uint32_t *spec,
                            uint32_t spec_count, uint32_t binding_count, uint32_t texel_bindings,
                            const t2g_pipeline **pipeline, t2g_error *err);
/* The pipeline table's lock (before any t2g_pipeline_get); t2g_pipelines_destroy frees both. */
t2g_status t2g_pipelines_init(t2g_device *device, t2g_error *err);
void t2g_pipelines_destroy(t2g_device *device);

/* The on-disk VkPipelineCache (pipeline_cache.c). */
t2g_status t2g_pipeline_cache_open(t2g_device *device, const char *cache_dir, t2g_error *err);
void t2g_pipeline_cache_close(t2g_device *device);

/* ---- the device ---- */

#define T2G_MAX_DISABLED_VARIANTS 32

struct t2g_device {
    t2g_device_info info;               /* max_storage_buffer_range may be lowered by a test hook */
    uint64_t own_binding_range;         /* the device's max storage-buffer range */
    uint32_t own_texel_alignment;       /* the device's min texel-buffer offset alignment */
    uint64_t own_texel_elements;        /* the device's max texel-buffer elements */
    t2g_validation validation;
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    VkPhysicalDevice physical;
    VkPhysicalDeviceMemoryProperties memory_properties;
    VkDevice device;
    uint32_t queue_family;
    VkQueue queue;
    uint32_t timestamp_valid_bits;

    VkPipelineCache pipeline_cache;
    char pipeline_cache_path[1024];
    size_t pipeline_cache_loaded_bytes;
    pthread_mutex_t pipeline_lock;      /* guards the table and pipeline_stats */
    pthread_cond_t pipeline_built;      /* signalled when a pipeline is built or fails */
    bool pipeline_lock_made;
    t2g_pipeline **pipelines;           /* built or being built, each its own allocation */
    uint32_t pipeline_count;
    size_t pipeline_capacity;
    t2g_pipeline_stats pipeline_stats;
    uint32_t test_hold_waiters;         /* t2g_device_test_hold_pipelines */

    /* The shader variants the self-check found wrong on this device (src/kernels/variant_check.c),
     * never dispatched again; and the one a test has the self-check see corrupted. */
    char disabled_variants[T2G_MAX_DISABLED_VARIANTS][64];
    uint32_t disabled_variant_count;
    char test_corrupt_variant[64];
    bool test_layouts_as_gpu;           /* t2g_device_test_layouts_as_gpu */

    /* Immediate transfers (uploads, downloads) through a host-visible staging buffer. */
    VkCommandPool transfer_pool;
    VkCommandBuffer transfer_commands;
    VkFence transfer_fence;
    VkBuffer staging_buffer;
    VkDeviceMemory staging_memory;
    void *staging_mapped;
    uint64_t staging_bytes;
};

/* Logs a warning through the device's log callback (if any). */
void t2g_device_warn(t2g_device *device, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* A memory type with all of `required` among `allowed_types`, preferring `preferred`. */
t2g_status t2g_vk_memory_type(const t2g_device *device, uint32_t allowed_types,
                              VkMemoryPropertyFlags required, VkMemoryPropertyFlags preferred,
                              uint32_t *type_index, t2g_error *err);

/* ---- arenas ---- */

struct t2g_arena {
    t2g_device *device;
    char name[64];
    VkBuffer buffer;
    VkDeviceMemory memory;
    void *mapped;         /* non-NULL when the memory is host-visible and coherent */
    uint64_t capacity;
    uint64_t used;
    uint64_t alignment;
};

/* Frees the staging buffer and transfer objects of the device (memory.c). */
void t2g_transfer_destroy(t2g_device *device);

/* ---- recording (recorder.c) ---- */

typedef enum t2g_access { T2G_READ = 1, T2G_WRITE = 2, T2G_READ_WRITE = 3 } t2g_access;

/* How a shader sees a binding: as a storage buffer (the zero value), or as a uniform texel buffer
 * of quads, one of these formats (texel.c's table). lavapipe compiles a texel fetch as vector
 * loads across its lanes where it compiles a storage-buffer load as a loop over the lanes (see
 * shaders/matmul_gemm_cpu.comp). */
typedef enum t2g_texel {
    T2G_TEXEL_NONE = 0,
    T2G_TEXEL_F32X4, /* VK_FORMAT_R32G32B32A32_SFLOAT: 4 floats, a vec4 (samplerBuffer) */
    T2G_TEXEL_U32X2, /* VK_FORMAT_R32G32_UINT: 4 bf16 as 2 uints, a uvec2 (usamplerBuffer) */
    T2G_TEXEL_F16X4, /* VK_FORMAT_R16G16B16A16_SFLOAT: 4 f16, read as a vec4 (samplerBuffer) */
    T2G_TEXEL_COUNT
} t2g_texel;
VkFormat t2g_texel_format(t2g_texel texel);
uint32_t t2g_texel_bytes(t2g_texel texel);
const char *t2g_texel_name(t2g_texel texel);
/* The texel format of quads of elements of this type (NONE for a type without one). */
t2g_texel t2g_texel_of_quads(t2g_dtype dtype);

typedef struct t2g_binding {
    t2g_tensor tensor;
    t2g_access access;
} t2g_binding;

typedef struct t2g_dispatch {
    const char *shader;          /* the embedded shader */
    const uint32_t *spec;        /* specialization constants 0..spec_count-1 */
    uint32_t spec_count;
    const t2g_binding *bindings; /* bound at 0..binding_count-1 */
    uint32_t binding_count;
    const t2g_texel *texels;     /* NULL: every binding a storage buffer; else binding i is a uniform
                                  * texel buffer over its tensor where texels[i] is not NONE: the
                                  * tensor starts on the device's min_texel_buffer_offset_alignment
                                  * and holds whole texels, at most max_texel_buffer_elements (the
                                  * recorder checks) */
    const void *push;            /* push constants, at most T2G_PUSH_CONSTANT_BYTES */
    uint32_t push_bytes;
    uint32_t groups[3];          /* workgroups in x, y, z */
    const char *label;           /* for timings; NULL: the shader's name */
} t2g_dispatch;

t2g_status t2g_record_dispatch(t2g_recorder *recorder, const t2g_dispatch *dispatch, t2g_error *err);

#endif
