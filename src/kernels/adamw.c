/* AdamW over a flat parameter buffer (shaders/adamw.comp), in chunks when the buffers exceed one
 * binding; the buffers' quads are read through texel views as well, four elements an invocation
 * on a grid sized for the quads (t2g_record_elementwise_split_quads), the same bits. On lavapipe
 * (2026-12-07 15:38 UTC, otherwise idle, the builds one after the other): bench kernels' 4M
 * elements 28.0 -> 13.4 ms; SmolLM2's shape (bench train --preset smollm2-135m --batch 1 --context
 * 128 --profile) 704 -> 422 ms of a 3.06 -> 2.78 s step; the small step's 3.1 -> 1.5 ms. On the
 * grid of one element an invocation the quads were slower than none (55 -> 72 ms at load 2). */
#include <math.h>
#include <stddef.h>

#include "kernel_util.h"

typedef struct adamw_push {
    uint32_t offset, count; /* elements [offset, offset + count) of the bound params, grads, m, v */
    float learning_rate, beta1, beta2, epsilon, weight_decay, m_correction, v_correction;
    uint32_t scaled;
    uint32_t quads;    /* the texel views of params, grads, m, v serve */
    uint32_t first[4]; /* the texel of each view where its chunk starts */
} adamw_push;

static void adamw_range(void *push, uint32_t skip, uint32_t count) {
    ((adamw_push *)push)->offset = skip;
    ((adamw_push *)push)->count = count;
}

t2g_status t2g_adamw_update(t2g_recorder *rec, t2g_tensor params, t2g_tensor grads, t2g_tensor m, t2g_tensor v,
                            const t2g_tensor *norm_and_scale, uint64_t offset, uint64_t count,
                            const t2g_adamw_settings *settings, t2g_error *err) {
    const char *kernel = "adamw_update";
    if (!settings) return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: no settings", kernel);
    if (settings->step < 1)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: step is %u; the first update is step 1", kernel, settings->step);
    uint64_t end = offset + count;
    t2g_status status = end < offset ? t2g_fail(err, T2G_ERR_ARGUMENT, "%s: offset + count overflows", kernel) : T2G_OK;
    if (!status) status = t2g_need(params, end, kernel, "params", err); /* (offset + count) each */
    if (!status) status = t2g_need(grads, end, kernel, "grads", err);
    if (!status) status = t2g_need(m, end, kernel, "m", err);
    if (!status) status = t2g_need(v, end, kernel, "v", err);
    if (!status && norm_and_scale) status = t2g_need(*norm_and_scale, 2, kernel, "norm_and_scale", err); /* (2) */
    if (!status) status = t2g_need_index(end, kernel, "offset + count", err);
    if (status) return status;

    /* Bias corrections in double on the host, passed as floats. */
    double m_correction = 1.0 / (1.0 - pow((double)settings->beta1, (double)settings->step));
    double v_correction = 1.0 / (1.0 - pow((double)settings->beta2, (double)settings->step));
    adamw_push push = {
        0, 0,
        settings->learning_rate, settings->beta1, settings->beta2, settings->epsilon, settings->weight_decay,
        (float)m_correction, (float)v_correction,
        norm_and_scale != NULL, 0, {0},
    };
    /* Without norm_and_scale the shader never reads binding 4; grads' first element stands in for it. */
    t2g_binding bindings[] = {
        {params, T2G_READ_WRITE}, {grads, T2G_READ}, {m, T2G_READ_WRITE}, {v, T2G_READ_WRITE},
        {norm_and_scale ? *norm_and_scale : t2g_tensor_slice(grads, 0, 1), T2G_READ},
    };
    /* params, grads, m and v read as quads too (bindings 5 to 8) */
    const t2g_split_quads quads = {0xFu, true, offsetof(adamw_push, quads)};
    return t2g_record_elementwise_split_quads(rec, "adamw", bindings, 5, 4, &quads, &push, sizeof push, adamw_range,
                                              offset, count, err);
}
