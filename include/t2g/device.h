/* Vulkan devices: listing them, describing them, opening one.
 *
 * A t2g_device owns the Vulkan instance, the logical device and its compute queue, the
 * pipelines built from t2g's embedded shaders, the on-disk pipeline cache, and (with
 * validation on) a counter of validation messages. */
#ifndef T2G_DEVICE_H
#define T2G_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "t2g/status.h"

typedef struct t2g_device t2g_device;

#define T2G_MAX_COOPMAT_SHAPES 64 /* shapes kept per device (a longer list is cut here) */

typedef struct t2g_coopmat_shape {
    uint32_t m, n, k;
    const char *a_type, *b_type, *c_type, *result_type; /* e.g. "f16", "f32", "bf16" */
    bool subgroup_scope;
} t2g_coopmat_shape;

/* What kind of device it is, in the order t2g prefers them when none is named. */
typedef enum t2g_device_kind {
    T2G_DEVICE_OTHER,
    T2G_DEVICE_CPU,                 /* lavapipe, SwiftShader */
    T2G_DEVICE_VIRTUAL_GPU,
    T2G_DEVICE_INTEGRATED_GPU,
    T2G_DEVICE_DISCRETE_GPU,
} t2g_device_kind;

typedef struct t2g_device_info {
    uint32_t index;                 /* position in t2g_list_devices' order */
    char name[256];
    t2g_device_kind kind;
    const char *type;               /* kind's name: "discrete GPU", "integrated GPU", "virtual GPU", "CPU", "other" */
    uint32_t vendor_id, device_id;
    const char *vendor;             /* "NVIDIA", "AMD", "Intel", "Mesa", ... or "unknown" */
    char driver_name[256];          /* VkPhysicalDeviceDriverProperties, e.g. "llvmpipe" */
    char driver_info[256];
    char driver_version[64];        /* decoded the way the vendor encodes it */
    uint32_t api_version;           /* VK_MAKE_API_VERSION encoding */
    char api_version_string[32];    /* "1.3.230" */
    uint32_t subgroup_size, min_subgroup_size, max_subgroup_size;
    uint32_t max_shared_memory_bytes;
    uint64_t max_storage_buffer_range;
    uint64_t max_allocation_bytes;
    uint64_t max_buffer_bytes;
    uint64_t device_local_bytes;    /* what runs may plan for: the sum of the device-local heaps, or where
                                     * the device's memory is the host's (memory_note), the host's
                                     * available memory when the device was described */
    uint64_t reported_heap_bytes;   /* the sum of the device-local heaps as the driver reports them */
    char memory_note[192];          /* "" or why device_local_bytes is not the reported heaps */
    uint32_t host_threads;          /* a CPU implementation that runs shaders on the host's processors
                                     * (lavapipe, SwiftShader): how many (0 for other devices), which
                                     * the grid-stride kernels size their grids by */
    uint32_t max_push_constant_bytes;
    uint32_t max_workgroup_invocations;
    uint32_t max_workgroup_count[3];
    uint32_t min_storage_buffer_offset_alignment;
    uint32_t min_texel_buffer_offset_alignment;
    uint64_t max_texel_buffer_elements; /* texels one uniform texel buffer view may hold */
    bool uniform_texel_quads;       /* uniform texel buffers of RGBA32F, RG32UI and RGBA16F (quads of
                                     * f32, bf16 and f16 elements; Vulkan requires all three) */
    bool fp16, bf16, int8, fp64;    /* arithmetic in shaders */
    bool storage_16bit, storage_8bit;
    bool timestamps;
    double timestamp_period_ns;
    bool vulkan_memory_model;       /* VkPhysicalDeviceVulkan12Features::vulkanMemoryModel */
    bool cooperative_matrix;        /* VK_KHR_cooperative_matrix, with its feature cooperativeMatrix */
    uint32_t coopmat_shape_count;
    t2g_coopmat_shape coopmat_shapes[T2G_MAX_COOPMAT_SHAPES];
    /* t2g's cooperative-matrix kernels this device runs (t2g_device_info_choose_coopmat): */
    bool coopmat_f16_16x16x16;      /* the f16 x f16 -> f32 GEMM on 16 x 16 x 16 subgroup matrices
                                     * (shaders/matmul_coopmat.comp, "matmul_coopmat@f16_f16") */
    bool usable;                    /* Vulkan >= 1.2 with a compute queue: t2g can run on it */
    char unusable_reason[128];
} t2g_device_info;

/* Sets the coopmat_* flags of `info` from what it reports: a flag is set where the device reports
 * the kernel's cooperative-matrix shape (subgroup scope) and has the features its shader needs
 * (Vulkan 1.3, f16 arithmetic, 16-bit storage, the Vulkan memory model, cooperativeMatrix), and
 * t2g was built with the kernel's shader (it needs a compiler that knows cooperative matrices:
 * tools/setup.sh --coopmat). One table, in src/vk/physical.c; t2g_list_devices calls it, and the
 * logical device enables what the set flags need. Tests call it on a made-up info. */
void t2g_device_info_choose_coopmat(t2g_device_info *info);

/* Describes every Vulkan device. *infos is malloc'ed; free it with free(). */
t2g_status t2g_list_devices(t2g_device_info **infos, uint32_t *count, t2g_error *err);

typedef void (*t2g_log_fn)(void *user, const char *message);

typedef struct t2g_device_options {
    /* An index ("1") or part of a name ("llvmpipe", case-insensitive). NULL: the
     * T2G_DEVICE environment variable, else the best device (discrete GPU > integrated >
     * virtual > CPU). */
    const char *device;
    /* 1 on, 0 off, -1 (the default of t2g_device_options_default): T2G_VALIDATE=1 turns on
     * the Khronos validation layer. */
    int validate;
    /* Receives validation messages and warnings (e.g. a pipeline cache that could not be
     * saved). NULL: they are only counted. */
    t2g_log_fn log;
    void *log_user;
    /* Folder of the pipeline cache. NULL: $T2G_CACHE_DIR, else $XDG_CACHE_HOME/t2g, else
     * ~/.cache/t2g. "" disables the on-disk cache. */
    const char *cache_dir;
} t2g_device_options;

t2g_device_options t2g_device_options_default(void);

t2g_status t2g_device_create(const t2g_device_options *options, t2g_device **device, t2g_error *err);
/* Saves the pipeline cache and frees everything the device owns. NULL is fine. */
void t2g_device_destroy(t2g_device *device);

const t2g_device_info *t2g_device_get_info(const t2g_device *device);
bool t2g_device_validation_enabled(const t2g_device *device);
/* Validation messages (warnings and errors) received so far. */
uint32_t t2g_device_validation_messages(const t2g_device *device);
/* The first validation message received, or "" if none. */
const char *t2g_device_first_validation_message(const t2g_device *device);
/* Where the pipeline cache is kept, or "" when there is none. */
const char *t2g_device_pipeline_cache_path(const t2g_device *device);

/* The pipelines a device has created: each once, on the first dispatch that uses it (so a command
 * creates only those it uses), also when recorders in several threads ask for one at once. */
typedef struct t2g_pipeline_stats {
    uint32_t created;   /* pipelines created so far */
    uint32_t waits;     /* times a thread waited for a pipeline that another thread was creating */
    double create_ms;   /* time spent creating them (shader modules, layouts, vkCreateComputePipelines),
                         * summed over threads. Some drivers compile at the first dispatch instead
                         * (lavapipe: LLVM, cached in Mesa's own shader cache): that time is not here */
} t2g_pipeline_stats;
t2g_pipeline_stats t2g_device_pipeline_stats(t2g_device *device);
/* For tests: a thread about to create a pipeline first waits (at most 10 s) until `waiters` other
 * threads are waiting for a pipeline being created (t2g_pipeline_stats.waits counts them), so that
 * a test sees several threads ask for one pipeline at once; 0 (the default) turns it off. */
void t2g_device_test_hold_pipelines(t2g_device *device, uint32_t waiters);

/* Shader variants (fast paths) the self-check disabled on this device: a disabled variant is
 * never dispatched (the kernels refuse it, naming it). */
bool t2g_device_variant_disabled(const t2g_device *device, const char *name);
void t2g_device_disable_variant(t2g_device *device, const char *name);
/* For tests: the self-check sees the results of variant `name` corrupted, as a driver bug would
 * make them (NULL or "": none); such a run never writes the verdict cache. Setting or clearing
 * it also forgets every variant disabled so far, so a test leaves the device as it found it. */
void t2g_device_test_corrupt_variant(t2g_device *device, const char *name);
const char *t2g_device_test_corrupted_variant(const t2g_device *device);

/* For tests: lowers the storage-buffer range t2g uses on this device (info.max_storage_buffer_range)
 * to `bytes`, rounded down to a multiple of 256 (at least 1024, at most the device's own range), so
 * that the kernels' splitting of tensors larger than one binding runs at small sizes; 0 restores
 * the device's own range. The environment variable T2G_TEST_MAX_BINDING=<bytes> does the same
 * when a device is created. */
t2g_status t2g_device_limit_binding(t2g_device *device, uint64_t bytes, t2g_error *err);

/* Whether the kernels that lay their work out by device class (the rows of LayerNorm, RMSNorm and
 * the cross-entropy; attention's and decode attention's configurations; the partials of dot and
 * grad_norm) take their CPU layout: a
 * CPU device, unless a test has it take the GPU layout (t2g_device_test_layouts_as_gpu: true
 * until set back to false), so both run on lavapipe. */
bool t2g_device_layouts_for_cpu(const t2g_device *device);
void t2g_device_test_layouts_as_gpu(t2g_device *device, bool as_gpu);

/* For tests: a stricter texel-buffer offset alignment (a power of two, a multiple of the device's
 * own) and fewer texels a view may hold (at most the device's own) than the device allows, so
 * that views which start before their tensor, and tensors too large for a view, occur at small
 * sizes; 0 restores the device's own value. */
t2g_status t2g_device_test_limit_texels(t2g_device *device, uint32_t alignment, uint64_t max_elements,
                                        t2g_error *err);

#endif
