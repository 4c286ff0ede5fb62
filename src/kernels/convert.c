/* dst = src rounded to dst's element type (shaders/convert.comp and its variants), in chunks
 * when a tensor exceeds one binding: the 16-bit copies of f32 weights. */
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
    if (!status) status = t2g_need(src, n, kernel, "src", err);
    if (!status) status = t2g_shader_variant(rec, kernel, "convert", &dst.dtype, 1, shader, err);
    if (status) return status;
    convert_push push = {0};
    t2g_binding bindings[] = {{dst, T2G_WRITE}, {src, T2G_READ}};
    return t2g_record_elementwise_split(rec, shader, bindings, 2, 2, &push, sizeof push, convert_range, 0, n, err);
}
