#include <stdio.h>
#include <string.h>

#include "kernel_util.h"
#include "shaders.h"

t2g_status t2g_need(t2g_tensor tensor, uint64_t count, const char *kernel, const char *name, t2g_error *err) {
    if (!tensor.arena || tensor.bytes == 0)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: tensor '%s' is missing (%llu elements needed)", kernel, name,
                        (unsigned long long)count);
    if (tensor.dtype != T2G_DTYPE_F32 && tensor.dtype != T2G_DTYPE_U32)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: tensor '%s' holds %s elements; the kernel reads 32-bit ones (f32, u32)",
                        kernel, name, t2g_dtype_name(tensor.dtype));
    if (t2g_tensor_count(tensor) < count)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: tensor '%s' holds %llu elements, the shape needs %llu", kernel, name,
                        (unsigned long long)t2g_tensor_count(tensor), (unsigned long long)count);
    return T2G_OK;
}

bool t2g_quad_view(const t2g_device_info *info, t2g_tensor tensor, t2g_quads *view) {
    uint64_t quad = 4ull * t2g_dtype_bytes(tensor.dtype);
    uint64_t alignment = info->min_texel_buffer_offset_alignment ? info->min_texel_buffer_offset_alignment : 1;
    uint64_t begin = tensor.offset / alignment * alignment;
    uint64_t texels = (tensor.offset + tensor.bytes - begin + quad - 1) / quad;
    bool fits = (tensor.offset - begin) % quad == 0 && texels <= info->max_texel_buffer_elements &&
                begin + texels * quad <= t2g_arena_capacity_bytes(tensor.arena);
    *view = fits ? (t2g_quads){begin, texels * quad, (uint32_t)((tensor.offset - begin) / quad)}
                 : (t2g_quads){0, quad, 0};
    return fits;
}

bool t2g_bind_quads(const t2g_device_info *info, t2g_tensor tensor, t2g_binding *binding, t2g_texel *texel,
                    uint32_t *first) {
    t2g_quads view;
    bool fits = t2g_quad_view(info, tensor, &view);
    *binding = (t2g_binding){{tensor.arena, view.offset, view.bytes, tensor.dtype}, T2G_READ};
    *texel = t2g_texel_of_quads(tensor.dtype);
    *first = view.first;
    return fits;
}

t2g_status t2g_need_float(t2g_tensor tensor, uint64_t count, const char *kernel, const char *name, t2g_error *err) {
    if (tensor.dtype == T2G_DTYPE_F32) return t2g_need(tensor, count, kernel, name, err);
    if (tensor.dtype != T2G_DTYPE_BF16 && tensor.dtype != T2G_DTYPE_F16)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: tensor '%s' holds %s elements; the kernel reads f32, bf16 or f16",
                        kernel, name, t2g_dtype_name(tensor.dtype));
    if (!tensor.arena || t2g_tensor_count(tensor) < count)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: tensor '%s' holds %llu %s elements, the shape needs %llu", kernel,
                        name, (unsigned long long)t2g_tensor_count(tensor), t2g_dtype_name(tensor.dtype),
                        (unsigned long long)count);
    return T2G_OK;
}

t2g_status t2g_variant_allowed(t2g_recorder *rec, const char *kernel, const char *base, const t2g_dtype *types,
                               uint32_t count, char name[T2G_SHADER_NAME_MAX], t2g_error *err) {
    bool all_f32 = true;
    for (uint32_t i = 0; i < count; i++) all_f32 &= types[i] == T2G_DTYPE_F32;
    int length = snprintf(name, T2G_SHADER_NAME_MAX, "%s", base);
    if (all_f32) return T2G_OK;
    const t2g_device_info *info = t2g_device_get_info(t2g_recorder_device(rec));
    if (!info->storage_16bit)
        return t2g_fail(err, T2G_ERR_UNSUPPORTED, "%s: %s has no 16-bit storage (storageBuffer16BitAccess), so it "
                        "cannot run the bf16 and f16 kernels; use train.precision = f32", kernel, info->name);
    for (uint32_t i = 0; i < count && length > 0 && length < T2G_SHADER_NAME_MAX; i++)
        length += snprintf(name + length, T2G_SHADER_NAME_MAX - (size_t)length, "%c%s", i ? '_' : '@',
                           t2g_dtype_name(types[i]));
    if (length <= 0 || length >= T2G_SHADER_NAME_MAX)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: t2g has no variant of shader %s for these element types (too many)",
                        kernel, base);
    if (t2g_device_variant_disabled(t2g_recorder_device(rec), name))
        return t2g_fail(err, T2G_ERR_UNSUPPORTED, "%s: shader %s is disabled on %s: the self-check found its results "
                        "wrong (t2g selfcheck shows why); use train.precision = f32", kernel, name, info->name);
    return T2G_OK;
}

t2g_status t2g_keep_types(const char *kernel, t2g_tensor out, t2g_tensor keep, t2g_tensor inp, t2g_dtype types[3],
                          t2g_error *err) {
    t2g_dtype half = inp.dtype == T2G_DTYPE_F32 ? keep.dtype : inp.dtype;
    bool ok = (half == T2G_DTYPE_BF16 || half == T2G_DTYPE_F16) && out.dtype == half &&
              (inp.dtype == T2G_DTYPE_F32) != (keep.dtype == T2G_DTYPE_F32);
    if (!ok)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: out %s, inp %s, keep %s: one of inp and keep is f32, the other bf16 "
                        "or f16, and out is of that 16-bit type", kernel, t2g_dtype_name(out.dtype),
                        t2g_dtype_name(inp.dtype), t2g_dtype_name(keep.dtype));
    types[0] = out.dtype, types[1] = inp.dtype, types[2] = keep.dtype;
    return T2G_OK;
}

t2g_status t2g_shader_variant(t2g_recorder *rec, const char *kernel, const char *base, const t2g_dtype *types,
                              uint32_t count, char name[T2G_SHADER_NAME_MAX], t2g_error *err) {
    t2g_status status = t2g_variant_allowed(rec, kernel, base, types, count, name, err);
    if (status) return status;
    if (!t2g_shader_find(name))
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: t2g has no variant of shader %s for these element types (%s)",
                        kernel, base, name);
    return T2G_OK;
}

t2g_status t2g_need_index(uint64_t count, const char *kernel, const char *what, t2g_error *err) {
    if (count > 0xFFFFFFFFull)
        return t2g_fail(err, T2G_ERR_TOO_LARGE, "%s: %s = %llu does not fit a 32-bit index", kernel, what,
                        (unsigned long long)count);
    return T2G_OK;
}

void t2g_groups_2d(uint64_t groups, uint32_t out[3]) {
    if (groups <= T2G_MAX_GROUPS_1D) {
        out[0] = (uint32_t)groups;
        out[1] = 1;
    } else {
        out[0] = T2G_MAX_GROUPS_1D;
        out[1] = t2g_ceil_div(groups, T2G_MAX_GROUPS_1D);
    }
    out[2] = 1;
}

uint32_t t2g_grid_stride_groups(t2g_recorder *rec, uint64_t items, uint32_t group_size) {
    uint32_t groups = t2g_stride_groups(items, group_size);
    t2g_device *device = t2g_recorder_device(rec);
    uint32_t threads = t2g_device_get_info(device)->host_threads;
    if (!threads || !t2g_device_layouts_for_cpu(device)) return groups;
    uint64_t most = (uint64_t)threads * T2G_CPU_GROUPS_PER_THREAD;
    return groups > most ? (uint32_t)most : groups;
}

/* t2g_record_elementwise with the texel formats of its bindings (NULL: storage buffers all) and a
 * grid for `items` invocations' work (n: one element each). */
static t2g_status record_elementwise_texels(t2g_recorder *rec, const char *shader, const t2g_binding *bindings,
                                            uint32_t binding_count, const t2g_texel *texels, const void *push,
                                            uint32_t push_bytes, uint64_t n, uint64_t items, t2g_error *err) {
    t2g_status status = t2g_need_index(n, shader, "n", err);
    if (status) return status;
    const uint32_t spec[] = {T2G_ELEMENTWISE_GROUP};
    t2g_dispatch dispatch = {
        .shader = shader,
        .spec = spec,
        .spec_count = 1,
        .bindings = bindings,
        .binding_count = binding_count,
        .texels = texels,
        .push = push,
        .push_bytes = push_bytes,
        .groups = {n ? t2g_grid_stride_groups(rec, items, T2G_ELEMENTWISE_GROUP) : 0, 1, 1},
    };
    return t2g_record_dispatch(rec, &dispatch, err);
}

t2g_status t2g_record_elementwise(t2g_recorder *rec, const char *shader, const t2g_binding *bindings,
                                  uint32_t binding_count, const void *push, uint32_t push_bytes, uint64_t n,
                                  t2g_error *err) {
    return record_elementwise_texels(rec, shader, bindings, binding_count, NULL, push, push_bytes, n, n, err);
}

t2g_status t2g_split_step(t2g_recorder *rec, const char *kernel, const t2g_tensor *tensors, uint32_t count,
                          uint64_t unit, uint64_t *step, t2g_error *err) {
    const t2g_device_info *info = t2g_device_get_info(t2g_recorder_device(rec));
    uint64_t range = info->max_storage_buffer_range;
    *step = 0;
    bool split = false;
    for (uint32_t i = 0; i < count; i++) split |= tensors[i].bytes > range;
    if (!split) return T2G_OK;
    for (uint32_t i = 0; i < count; i++)
        if (tensors[i].offset % T2G_TENSOR_ALIGNMENT)
            return t2g_fail(err, T2G_ERR_ARGUMENT,
                            "%s: a tensor of %llu bytes in arena '%s' exceeds one binding (%llu bytes) and starts at "
                            "byte %llu, not a multiple of %u, so it cannot be split",
                            kernel, (unsigned long long)tensors[i].bytes, tensors[i].arena->name,
                            (unsigned long long)range, (unsigned long long)tensors[i].offset, T2G_TENSOR_ALIGNMENT);
    /* chunks of `step` elements: within the range for the widest type, aligned for the narrowest */
    uint32_t widest = 4, narrowest = 4;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t size = t2g_dtype_bytes(tensors[i].dtype);
        if (size > widest) widest = size;
        if (size && size < narrowest) narrowest = size;
    }
    uint64_t aligned = T2G_TENSOR_ALIGNMENT / narrowest;
    uint64_t multiple = unit % aligned ? unit * aligned : unit;
    *step = range / widest / multiple * multiple;
    if (!*step)
        return t2g_fail(err, T2G_ERR_TOO_LARGE, "%s: chunks of %llu elements exceed the max storage-buffer range of %s (%llu bytes)",
                        kernel, (unsigned long long)multiple, info->name, (unsigned long long)range);
    return T2G_OK;
}

/* One dispatch of an elementwise kernel over n elements, with the views of `quads` (NULL: none)
 * of its chunk's split tensors bound after its own bindings. */
static t2g_status record_chunk_quads(t2g_recorder *rec, const char *shader, const t2g_binding *bindings,
                                     uint32_t binding_count, const t2g_split_quads *quads, void *push,
                                     uint32_t push_bytes, uint64_t n, t2g_error *err) {
    if (!quads) return t2g_record_elementwise(rec, shader, bindings, binding_count, push, push_bytes, n, err);
    t2g_quad_bindings views;
    t2g_status status = t2g_bind_quad_views(rec, shader, bindings, binding_count, quads, push, push_bytes, &views, err);
    if (status) return status;
    return record_elementwise_texels(rec, shader, views.all, views.count, views.texels, push, push_bytes, n,
                                     views.quads ? (n + 3) / 4 : n, err);
}

t2g_status t2g_bind_quad_views(t2g_recorder *rec, const char *shader, const t2g_binding *bindings,
                               uint32_t binding_count, const t2g_split_quads *quads, void *push, uint32_t push_bytes,
                               t2g_quad_bindings *out, t2g_error *err) {
    const t2g_device_info *info = t2g_device_get_info(t2g_recorder_device(rec));
    uint32_t words[1 + T2G_MAX_BINDINGS] = {0}, views = 0; /* quads, then first[] */
    bool fit = true;
    out->count = binding_count;
    for (uint32_t i = 0; i < T2G_MAX_BINDINGS; i++) out->texels[i] = T2G_TEXEL_NONE;
    for (uint32_t i = 0; i < binding_count; i++) out->all[i] = bindings[i];
    for (uint32_t i = 0; i < binding_count; i++)
        if (quads->of >> i & 1u) {
            if (out->count == T2G_MAX_BINDINGS)
                return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: %u bindings and their quads' views exceed %d bindings",
                                shader, binding_count, T2G_MAX_BINDINGS);
            uint32_t at = out->count++;
            fit = t2g_bind_quads(info, bindings[i].tensor, &out->all[at], &out->texels[at], &words[1 + views++]) && fit;
        }
    if (quads->at + 4ull * (1 + views) > push_bytes)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: push constants of %u bytes hold no quads flag and %u views at "
                        "byte %u", shader, push_bytes, views, quads->at);
    out->quads = fit && quads->allowed;
    words[0] = out->quads;
    memcpy((char *)push + quads->at, words, 4 * (1 + views));
    return T2G_OK;
}

t2g_status t2g_record_elementwise_split_quads(t2g_recorder *rec, const char *shader, const t2g_binding *bindings,
                                              uint32_t binding_count, uint32_t split, const t2g_split_quads *quads,
                                              void *push, uint32_t push_bytes, t2g_chunk_push_fn set_range,
                                              uint64_t first, uint64_t count, t2g_error *err) {
    t2g_tensor tensors[T2G_MAX_BINDINGS];
    for (uint32_t i = 0; i < split; i++) tensors[i] = bindings[i].tensor;
    uint64_t step, end = first + count;
    t2g_status status = t2g_split_step(rec, shader, tensors, split, 1, &step, err);
    if (status) return status;
    if (!step) {
        if (set_range) set_range(push, (uint32_t)first, (uint32_t)count);
        return record_chunk_quads(rec, shader, bindings, binding_count, quads, push, push_bytes, count, err);
    }
    if (!set_range)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: its tensors go in chunks, and the kernel gave no set_range", shader);
    t2g_binding chunk[T2G_MAX_BINDINGS];
    for (uint32_t i = 0; i < binding_count; i++) chunk[i] = bindings[i];
    for (uint64_t base = first / step * step; base < end && !status; base += step) {
        uint64_t stop = end - base < step ? end : base + step, skip = first > base ? first - base : 0;
        for (uint32_t i = 0; i < split; i++) chunk[i].tensor = t2g_tensor_slice(bindings[i].tensor, base, stop - base);
        set_range(push, (uint32_t)skip, (uint32_t)(stop - base - skip));
        status = record_chunk_quads(rec, shader, chunk, binding_count, quads, push, push_bytes, stop - base - skip, err);
    }
    return status;
}

t2g_status t2g_record_elementwise_split(t2g_recorder *rec, const char *shader, const t2g_binding *bindings,
                                        uint32_t binding_count, uint32_t split, void *push, uint32_t push_bytes,
                                        t2g_chunk_push_fn set_range, uint64_t first, uint64_t count, t2g_error *err) {
    return t2g_record_elementwise_split_quads(rec, shader, bindings, binding_count, split, NULL, push, push_bytes,
                                              set_range, first, count, err);
}
