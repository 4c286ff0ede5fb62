/* Device memory: arenas and the tensors carved from them.
 *
 * An arena is one device allocation with one buffer over it; tensors are byte ranges of
 * that buffer, handed out by a bump allocator. Tensors are plain values: copying one copies
 * the view, not the data. Uploads and downloads are synchronous and happen at once, outside
 * any recording: record, submit, then download. */
#ifndef T2G_MEMORY_H
#define T2G_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#include "t2g/device.h"
#include "t2g/dtype.h"
#include "t2g/status.h"

typedef struct t2g_arena t2g_arena;

typedef struct t2g_tensor {
    t2g_arena *arena;  /* NULL: no tensor */
    uint64_t offset;   /* bytes from the start of the arena's buffer */
    uint64_t bytes;
    t2g_dtype dtype;   /* its elements' type: f32 (the zero value) unless said otherwise */
} t2g_tensor;

/* Elements [first, first + count) of a tensor, as a tensor of the same type (unchecked: the
 * caller keeps it inside). */
static inline t2g_tensor t2g_tensor_slice(t2g_tensor tensor, uint64_t first, uint64_t count) {
    uint64_t size = t2g_dtype_bytes(tensor.dtype);
    return (t2g_tensor){tensor.arena, tensor.offset + first * size, count * size, tensor.dtype};
}

/* Elements of the tensor's type it holds. */
static inline uint64_t t2g_tensor_count(t2g_tensor tensor) {
    uint32_t size = t2g_dtype_bytes(tensor.dtype);
    return size ? tensor.bytes / size : 0;
}

t2g_status t2g_arena_create(t2g_device *device, uint64_t capacity_bytes, const char *name,
                            t2g_arena **arena, t2g_error *err);
void t2g_arena_destroy(t2g_arena *arena);
/* Forgets every tensor allocated so far; their memory is reused by later allocations. */
void t2g_arena_reset(t2g_arena *arena);
uint64_t t2g_arena_used_bytes(const t2g_arena *arena);
uint64_t t2g_arena_capacity_bytes(const t2g_arena *arena);
t2g_device *t2g_arena_device(const t2g_arena *arena);

/* Where tensors start in an arena: a multiple of this many bytes (Vulkan caps every device's
 * storage-buffer offset alignment at 256). */
#define T2G_TENSOR_ALIGNMENT 256u

/* A tensor of `bytes` bytes, aligned for binding as a storage buffer. Fails with
 * T2G_ERR_MEMORY when the arena is full. A tensor may exceed the device's max storage-buffer
 * range (one binding): the kernels that take whole flat buffers (fill, axpby, dot, grad_norm,
 * grad_clip, adamw_update) split it into bindings of at most the range; any other kernel given
 * it is refused when recording (T2G_ERR_TOO_LARGE, naming the kernel and the tensor's arena). */
t2g_status t2g_tensor_alloc(t2g_arena *arena, uint64_t bytes, t2g_tensor *tensor, t2g_error *err);
/* The same for `count` 32-bit elements (float or uint32). */
t2g_status t2g_tensor_alloc_f32(t2g_arena *arena, uint64_t count, t2g_tensor *tensor, t2g_error *err);
/* The same for `count` elements of a type. */
t2g_status t2g_tensor_alloc_typed(t2g_arena *arena, t2g_dtype dtype, uint64_t count, t2g_tensor *tensor, t2g_error *err);

/* An arena sized for exactly these tensors (of `floats` 32-bit elements each), and the tensors:
 * the size comes from the very list that fills it, so the two cannot disagree. */
typedef struct t2g_tensor_request {
    t2g_tensor *tensor;
    uint64_t floats;
} t2g_tensor_request;
/* The bytes of an arena for exactly these tensors (what t2g_arena_create_for allocates). */
uint64_t t2g_arena_bytes_for(const t2g_tensor_request *requests, size_t count);
t2g_status t2g_arena_create_for(t2g_device *device, const char *name, const t2g_tensor_request *requests, size_t count,
                                t2g_arena **arena, t2g_error *err);

/* The same for tensors of any element type: `count` elements of `dtype` each. */
typedef struct t2g_typed_request {
    t2g_tensor *tensor;
    uint64_t count;
    t2g_dtype dtype;
} t2g_typed_request;
uint64_t t2g_arena_bytes_for_typed(const t2g_typed_request *requests, size_t count);
t2g_status t2g_arena_create_for_typed(t2g_device *device, const char *name, const t2g_typed_request *requests,
                                      size_t count, t2g_arena **arena, t2g_error *err);

/* Copies host data into the first `bytes` bytes of the tensor, and back. */
t2g_status t2g_tensor_upload(t2g_tensor tensor, const void *source, uint64_t bytes, t2g_error *err);
t2g_status t2g_tensor_download(t2g_tensor tensor, void *destination, uint64_t bytes, t2g_error *err);

#endif
