/* AdamW over a flat parameter buffer (shaders/adamw.comp), in chunks when
 * the buffers exceed one binding. */
#include <math.h>

#include "kernel_util.h"

typedef struct adamw_push {
    uint32_t offset, count; /* elements [offset, offset + count) of the bound params, grads, m, v */
    float learning_rate, beta1, beta2, epsilon, weight_decay, m_correction, v_correction;
    uint32_t scaled;
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
        norm_and_scale != NULL,
    };
    /* Without norm_and_scale the shader never reads binding 4; grads' first element stands in for it. */
    t2g_binding bindings[] = {
        {params, T2G_READ_WRITE}, {grads, T2G_READ}, {m, T2G_READ_WRITE}, {v, T2G_READ_WRITE},
        {norm_and_scale ? *norm_and_scale : t2g_tensor_slice(grads, 0, 1), T2G_READ},
    };
    return t2g_record_elementwise_split(rec, "adamw", bindings, 5, 4, &push, sizeof push, adamw_range, offset, count, err);
}
