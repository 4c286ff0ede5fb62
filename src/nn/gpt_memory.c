/* A model's memory need (t2g_gpt_memory_needed, in gpt.c) against a device's limits: what no
 * batch size helps first, then what a smaller one does, each with the sizes and the advice. */
#include <stdio.h>
#include <string.h>

#include "t2g/gpt.h"

static double gib(uint64_t bytes) { return (double)bytes / (1ull << 30); }
static double mib(uint64_t bytes) { return (double)bytes / (1ull << 20); }

#define NO_BATCH_HELPS "no batch size helps: a device with more memory, or a smaller model"
#define SMALLER_BATCH "use a smaller train.micro_batch or model.context"

/* The whole need against the device-local heaps. */
static t2g_status too_little(const t2g_gpt_memory *m, const t2g_device_info *device, const char *advice, t2g_error *err) {
    char copy16[48] = "";
    if (m->parameters16) snprintf(copy16, sizeof copy16, ", their 16-bit copy %.2f", gib(m->parameters16));
    return t2g_fail(err, T2G_ERR_TOO_LARGE,
                    "the model needs %.2f GiB of device memory (parameters %.2f%s, gradients %.2f, AdamW moments "
                    "%.2f, activations %.2f for %u x %u tokens), and %s offers %.2f GiB; %s",
                    gib(m->total), gib(m->parameters), copy16, gib(m->gradients), gib(m->moments),
                    gib(m->activations), m->B,
                    m->T, device->name, gib(device->device_local_bytes), advice);
}

t2g_status t2g_gpt_memory_check(const t2g_gpt_memory *m, const t2g_device_info *device, t2g_error *err) {
    uint64_t range = device->max_storage_buffer_range, heaps = device->device_local_bytes;
    uint64_t one = device->max_allocation_bytes < device->max_buffer_bytes ? device->max_allocation_bytes
                                                                           : device->max_buffer_bytes;
    uint64_t state = m->parameters + m->parameters16 + m->gradients + m->moments;
    if (m->largest_parameter > range)
        return t2g_fail(err, T2G_ERR_TOO_LARGE,
                        "the parameter '%s' needs %.1f MiB in one binding, beyond the max storage-buffer range of %s "
                        "(%.1f MiB), and the kernels bind it whole; no batch size helps: a device with a larger range, "
                        "or a smaller model",
                        m->largest_parameter_name, mib(m->largest_parameter), device->name, mib(range));
    if (m->parameters > one)
        return t2g_fail(err, T2G_ERR_TOO_LARGE,
                        "the parameters need %.2f GiB in one allocation, beyond the %.2f GiB that %s allows; " NO_BATCH_HELPS,
                        gib(m->parameters), gib(one), device->name);
    if (heaps && state > heaps)
        return too_little(m, device, "its parameters, gradients and moments alone do not fit; " NO_BATCH_HELPS, err);
    if (m->largest_activation > range) /* a piece of logits past it shrinks with train.logit_rows alone */
        return t2g_fail(err, T2G_ERR_TOO_LARGE,
                        "the activation %s needs %.1f MiB in one binding for %u x %u tokens, beyond the max "
                        "storage-buffer range of %s (%.1f MiB); %s",
                        m->largest_activation_name, mib(m->largest_activation), m->B, m->T, device->name, mib(range),
                        m->logit_rows && m->largest_activation_name && !strncmp(m->largest_activation_name, "logits", 6)
                            ? "use a smaller train.logit_rows (0: pieces that fit)"
                            : SMALLER_BATCH);
    if (m->largest_activation_arena > one)
        return t2g_fail(err, T2G_ERR_TOO_LARGE,
                        "the activations need %.2f GiB in one allocation for %u x %u tokens, beyond the %.2f GiB that %s "
                        "allows; " SMALLER_BATCH,
                        gib(m->largest_activation_arena), m->B, m->T, gib(one), device->name);
    if (heaps && m->total > heaps) return too_little(m, device, SMALLER_BATCH, err);
    return T2G_OK;
}

uint32_t t2g_gpt_fit_batch(const t2g_model_config *config, uint32_t max_B, uint32_t T, bool frozen,
                           const t2g_device_info *device) {
    t2g_model_config resolved = *config;
    resolved.precision = t2g_precision_for_device(config->precision, device);
    for (uint32_t B = max_B; B > 0; B--) { /* the need grows with B: the first that fits is the largest */
        t2g_gpt_memory m;
        t2g_error ignored = {0};
        if (!t2g_gpt_memory_needed(&resolved, B, T, frozen, &m, &ignored) && !t2g_gpt_memory_check(&m, device, &ignored))
            return B;
    }
    return 0;
}
