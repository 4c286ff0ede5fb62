/* What every kernel wrapper needs: checking tensors against shapes, and sizing grids. */
#ifndef T2G_KERNEL_UTIL_H
#define T2G_KERNEL_UTIL_H

#include "quad_view.h"
#include "t2g/kernels.h"
#include "vk_internal.h"

/* Workgroup size of the one-dimensional elementwise kernels. */
#define T2G_ELEMENTWISE_GROUP 256u
#define T2G_CPU_GROUPS_PER_THREAD 32u /* a grid-stride kernel's workgroups per host thread of a CPU device
                                        * (t2g_grid_stride_groups): 8 left the small step's GELU forward
                                        * slower than 32, whose grids are 64 workgroups on 2 cores */
/* Most workgroups in one dimension that every Vulkan device allows. */
#define T2G_MAX_GROUPS_1D 65535u

/* The tensor exists, its elements are 32-bit (f32 or u32: every kernel computes in f32 today)
 * and it holds at least `count` of them; otherwise T2G_ERR_ARGUMENT naming the kernel, the
 * tensor, its type and the sizes. */
t2g_status t2g_need(t2g_tensor tensor, uint64_t count, const char *kernel, const char *name, t2g_error *err);

/* The same for a tensor of float elements of any stored type (f32, bf16, f16): a kernel that has
 * 16-bit variants (shaders/variants.txt). */
t2g_status t2g_need_float(t2g_tensor tensor, uint64_t count, const char *kernel, const char *name, t2g_error *err);

/* The shader to run for these element types of a shader's 16-bit roles (shaders/storage.glsl, in
 * the order variants.txt names them): `base` itself when every one is f32, else the variant
 * "base@<type>_<type>..." (e.g. "matmul_gemm@f32_bf16"), written into name (64 bytes).
 * T2G_ERR_UNSUPPORTED when the device has no 16-bit storage; T2G_ERR_ARGUMENT when t2g has no
 * such variant. */
#define T2G_SHADER_NAME_MAX 64
t2g_status t2g_shader_variant(t2g_recorder *rec, const char *kernel, const char *base, const t2g_dtype *types,
                              uint32_t count, char name[T2G_SHADER_NAME_MAX], t2g_error *err);

/* The checks of t2g_shader_variant for a variant that is no one shader but the name of a pipeline
 * of them (matmul_panels_cpu@bf16_f32: its packing shaders' variants convert): 16-bit storage, and
 * a variant the self-check has not disabled; writes the name, and does not look for a shader of it. */
t2g_status t2g_variant_allowed(t2g_recorder *rec, const char *kernel, const char *base, const t2g_dtype *types,
                               uint32_t count, char name[T2G_SHADER_NAME_MAX], t2g_error *err);

/* `count` fits in a 32-bit index (shaders index with uint). */
t2g_status t2g_need_index(uint64_t count, const char *kernel, const char *what, t2g_error *err);

static inline uint32_t t2g_ceil_div(uint64_t a, uint64_t b) { return (uint32_t)((a + b - 1) / b); }

/* Workgroups for a grid-stride loop over n items with `group_size` invocations a group. */
static inline uint32_t t2g_stride_groups(uint64_t n, uint32_t group_size) {
    uint64_t groups = (n + group_size - 1) / group_size;
    return groups > T2G_MAX_GROUPS_1D ? T2G_MAX_GROUPS_1D : (uint32_t)(groups ? groups : 1);
}

/* The workgroups of `group_size` invocations of a one-dimensional grid-stride kernel for `items`
 * invocations' work: one invocation an item, except on a CPU implementation laid out as a CPU
 * (t2g_device_layouts_for_cpu, host_threads > 0), where at most T2G_CPU_GROUPS_PER_THREAD
 * workgroups a host thread loop over the items. There every workgroup costs lavapipe its setup
 * (a vector of 8 invocations at a time), however little it does: AdamW over 4M elements took
 * 13.7 to 14.0 ms in 4096 workgroups of 256 and 6.7 to 9.3 in 16 to 64 (bench kernels --size
 * small, 2 cores, 2026-12-07), GELU's forward 1.30 against 0.70. Each element's operations are
 * the same whichever invocation does them, so the same bits. */
uint32_t t2g_grid_stride_groups(t2g_recorder *rec, uint64_t items, uint32_t group_size);

/* Splits `groups` workgroups into x * y (x <= 65535), for shaders whose group index is
 * gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x (common.glsl: flat_group_id);
 * the shader skips indices >= the real count. */
void t2g_groups_2d(uint64_t groups, uint32_t out[3]);

/* The types of an activation kernel that keeps its input in another type (t2g_gelu_forward_keep):
 * one of inp and keep f32, the other bf16 or f16, out of that 16-bit type; names the tensors
 * otherwise (T2G_ERR_ARGUMENT). types gets {out, inp, keep}, the variant's order. */
t2g_status t2g_keep_types(const char *kernel, t2g_tensor out, t2g_tensor keep, t2g_tensor inp, t2g_dtype types[3],
                          t2g_error *err);

/* Records a one-dimensional grid-stride elementwise kernel over n elements. */
t2g_status t2g_record_elementwise(t2g_recorder *rec, const char *shader, const t2g_binding *bindings,
                                  uint32_t binding_count, const void *push, uint32_t push_bytes, uint64_t n,
                                  t2g_error *err);

/* A tensor's quads as a binding of a shader that reads them through a uniform texel buffer, and
 * the quad of the view where the tensor starts (t2g_quad_view); false where they cannot serve
 * (the binding is then the buffer's first texel, never read). */
bool t2g_bind_quads(const t2g_device_info *info, t2g_tensor tensor, t2g_binding *binding, t2g_texel *texel,
                    uint32_t *first);

/* ---- tensors larger than one binding ----
 *
 * A flat buffer (a model's parameters, gradients, moments) may exceed the device's max
 * storage-buffer range. The kernels that take one whole (fill, axpby, dot, grad_norm, grad_clip,
 * adamw) then record one dispatch per chunk: chunk k binds elements [k step, (k + 1) step) of
 * each such tensor (cut at the work's end), so every binding stays within the range and starts
 * aligned. Elementwise work gives the same bits split or not; the reductions split at their
 * slices' boundaries, so their partial sums, and so their results, are the same too. */

/* The chunk size, in 32-bit elements, for kernel work on `tensors`: 0 when each fits one binding
 * (bind them whole, one dispatch), otherwise the largest multiple of `unit` elements and of the
 * 256-byte alignment within the range. T2G_ERR_ARGUMENT for a tensor that must be split but
 * starts unaligned; T2G_ERR_TOO_LARGE when `unit` elements exceed the range. */
t2g_status t2g_split_step(t2g_recorder *rec, const char *kernel, const t2g_tensor *tensors, uint32_t count,
                          uint64_t unit, uint64_t *step, t2g_error *err);

/* Sets a chunk's range in the kernel's push constants: elements [skip, skip + count) of the
 * chunk's bindings. */
typedef void (*t2g_chunk_push_fn)(void *push, uint32_t skip, uint32_t count);

/* Records an elementwise kernel over elements [first, first + count) of flat tensors: the
 * first `split` bindings are those tensors (bound in chunks when one exceeds the binding range),
 * the others are bound whole (16-bit tensors are cut at the same elements as 32-bit ones, every
 * chunk starting on the 256-byte alignment); set_range writes each dispatch's range into push (at most
 * T2G_PUSH_CONSTANT_BYTES), which otherwise stays as given. */
t2g_status t2g_record_elementwise_split(t2g_recorder *rec, const char *shader, const t2g_binding *bindings,
                                        uint32_t binding_count, uint32_t split, void *push, uint32_t push_bytes,
                                        t2g_chunk_push_fn set_range, uint64_t first, uint64_t count, t2g_error *err);

/* Quads of some of the bindings, read through texel views as well (t2g_bind_quads): bit i of
 * `of` reads binding i (a split one: its chunk's view); the views are bound after the kernel's own
 * bindings, in the order of the bits, each dispatch's views of its chunk. The kernel's push
 * constants hold, from byte `at`, uint quads and uint first[one per bit]: the recorder writes
 * there whether the shader reads the quads (every view serves, and the kernel's own condition
 * `allowed`, e.g. C % 4 == 0; else it takes its scalar loads) and the texel of each view where its
 * tensor or chunk starts. Where the quads are read, an elementwise grid is sized for a quad an
 * invocation (lavapipe pays for every workgroup, idle or not). */
typedef struct t2g_split_quads {
    uint32_t of;
    bool allowed;
    uint32_t at; /* offsetof(the push constants' struct, quads) */
} t2g_split_quads;

/* The push constants of an elementwise kernel over n elements, bound whole, with up to three
 * texel views of quads (GELU, the residual): n, whether the shader reads the quads, the texel
 * where each view starts. */
typedef struct t2g_quads_push {
    uint32_t n, quads, first[3];
} t2g_quads_push;

/* A kernel's bindings followed by texel views of the quads of those in quads->of (in the order of
 * the bits), and whether the shader reads them (also written into the push constants with where
 * each view starts, as t2g_split_quads says): what t2g_record_elementwise_split_quads binds, for
 * kernels that record their own dispatch. */
typedef struct t2g_quad_bindings {
    t2g_binding all[T2G_MAX_BINDINGS];
    t2g_texel texels[T2G_MAX_BINDINGS];
    uint32_t count;
    bool quads;
} t2g_quad_bindings;
t2g_status t2g_bind_quad_views(t2g_recorder *rec, const char *shader, const t2g_binding *bindings,
                               uint32_t binding_count, const t2g_split_quads *quads, void *push, uint32_t push_bytes,
                               t2g_quad_bindings *out, t2g_error *err);

/* t2g_record_elementwise_split with texel views of quads (NULL: none). set_range may be NULL
 * where nothing is split (split 0): the push constants then hold the whole range already. */
t2g_status t2g_record_elementwise_split_quads(t2g_recorder *rec, const char *shader, const t2g_binding *bindings,
                                              uint32_t binding_count, uint32_t split, const t2g_split_quads *quads,
                                              void *push, uint32_t push_bytes, t2g_chunk_push_fn set_range,
                                              uint64_t first, uint64_t count, t2g_error *err);

#endif
