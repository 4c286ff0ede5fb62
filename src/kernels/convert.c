/* dst = src in dst's element type (shaders/convert.comp and its variants), in chunks when a
 * tensor exceeds one binding: f32 rounded to bf16 or f16 (the 16-bit copies of f32 weights, a
 * 16-bit model's kept activations) or bf16 or f16 widened to f32 (those activations read back). */
#include "kernel_util.h"

typedef struct convert_push { uint32_t n; } convert_push;

static void convert_range(void *push, uint32_t skip, uint32_t count) {
    (void)skip; /* the work starts at element 0: every chunk from its first element */
    ((convert_push *)push)->n = count;
}

t2g_status t2g_convert(t2g_recorder *rec, t2g_tensor dst, t2g_tensor src, uint64_t n, t2g_error *err) {
    const char *kernel = "convert";
    char shader[T2G_SHADER_NAME_MAX];
    t2g_status status = t2g_need_float(dst, n, kernel, "dst", err);
    if (!status) status = t2g_need_float(src, n, kernel, "src", err);
    if (!status && src.dtype != T2G_DTYPE_F32 && dst.dtype != T2G_DTYPE_F32)
        status = t2g_fail(err, T2G_ERR_ARGUMENT, "%s: dst %s from src %s: one of them is f32", kernel,
                          t2g_dtype_name(dst.dtype), t2g_dtype_name(src.dtype));
    /* the variant: rounding names dst's type, widening dst's and src's */
    const t2g_dtype types[2] = {dst.dtype, src.dtype};
    if (!status) status = t2g_shader_variant(rec, kernel, "convert", types, src.dtype == T2G_DTYPE_F32 ? 1 : 2, shader, err);
    if (status) return status;
    convert_push push = {0};
    t2g_binding bindings[] = {{dst, T2G_WRITE}, {src, T2G_READ}};
    return t2g_record_elementwise_split(rec, shader, bindings, 2, 2, &push, sizeof push, convert_range, 0, n, err);
}
