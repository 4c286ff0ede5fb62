/* The console's word on a run's device memory, printed at its start: what the model holds (and an
 * RL run's frozen reference policy, generator and model critic), against what the device offers. */
#include <stdio.h>

#include "cli.h"

/* bytes as "12.3 MiB" or "1.25 GiB" */
static const char *size_text(uint64_t bytes, char *out, size_t size) {
    double mib = (double)bytes / (1024.0 * 1024.0);
    if (mib < 1024.0) snprintf(out, size, "%.1f MiB", mib);
    else snprintf(out, size, "%.2f GiB", mib / 1024.0);
    return out;
}

void cli_print_memory_plan(const t2g_config *config, const t2g_gpt *model, const t2g_device *device, const t2g_rl *run) {
    bool rl = run != NULL;
    const t2g_device_info *info = t2g_device_get_info(device);
    t2g_model_config planned = config->model;
    planned.precision = t2g_gpt_precision(model); /* as the run made it (auto resolved) */
    planned.logit_rows = t2g_gpt_logit_rows(model);
    const t2g_model_config *m = &planned;
    t2g_gpt_memory train, reference = {0};
    t2g_error err = {0};
    if (t2g_gpt_memory_needed(m, config->micro_batch, m->context, false, &train, &err) ||
        (rl && t2g_gpt_memory_needed(m, config->micro_batch, m->context, true, &reference, &err)))
        return; /* the model was created from this config: this cannot fail; say nothing rather than guess */
    char a[32], b[32], c[32], d[32], e[32], f[32], g[32], h[48] = "";
    if (train.parameters16) {
        char copy[32];
        snprintf(h, sizeof h, " (+ %s copy %s)", t2g_precision_name(m->precision),
                 size_text(train.parameters16, copy, sizeof copy));
    }
    char pieces[64] = "";
    if (train.logit_rows) snprintf(pieces, sizeof pieces, ", logits in pieces of %u rows", train.logit_rows);
    printf("memory: parameters %s%s, gradients %s, AdamW moments %s, activations %s (%u x %u tokens%s)",
           size_text(train.parameters, a, sizeof a), h, size_text(train.gradients, b, sizeof b),
           size_text(train.moments, c, sizeof c), size_text(train.activations, d, sizeof d), train.B, train.T, pieces);
    uint64_t more = 0;
    if (rl) {
        t2g_rl_memory held = t2g_rl_device_memory(run);
        printf(", reference policy %s, generation %s (KV cache of %u sequences)", size_text(reference.total, e, sizeof e),
               size_text(held.generation, a, sizeof a), held.sequences);
        if (held.critic) printf(", critic model %s", size_text(held.critic, b, sizeof b));
        more = held.generation + held.critic;
    }
    printf(": %s of the %s %s offers%s\n", size_text(train.total + reference.total + more, f, sizeof f),
           size_text(info->device_local_bytes, g, sizeof g), info->name,
           info->memory_note[0] ? " (the host's available memory)" : "");
}
