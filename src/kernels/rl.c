/* The GPU kernels of token-level PPO (include/t2g/rl_kernels.h): span-reward mask, token
 * log-probabilities with entropy and full KL, rewards, GAE, masked whitening, the value head,
 * the clipped PPO losses. Shaders: span_reward_mask, token_logprob, ppo_rewards, gae,
 * whiten_{partials,finish,apply}, value_head_{forward,backward,partials}, ppo_loss.
 *
 * Every reduction has a fixed order that depends on the shapes alone (never on the device):
 * token_logprob and value_head_forward reduce within a workgroup through shared-memory trees;
 * whitening and the value head's weight gradient go through partial sums in the recorder's
 * scratch memory. No atomics. */
#include "t2g/rl_kernels.h"

#include "reduce_columns.h"

#define RL_GROUP 256u               /* elementwise kernels, whitening, the value head forward */
#define GAE_GROUP 64u               /* sequences per workgroup */
#define LOGPROB_GROUP_MIN 32u       /* token_logprob: invocations per row, a power of two */
#define LOGPROB_GROUP_MAX 256u
#define WHITEN_MAX_PARTIALS 1024u   /* most stage-1 workgroups of whitening */
#define WHITEN_MIN_SLICE (4u * RL_GROUP)

static t2g_status record(t2g_recorder *rec, const char *shader, const uint32_t *spec, uint32_t spec_count,
                         const t2g_binding *bindings, uint32_t binding_count, const void *push, uint32_t push_bytes,
                         const uint32_t groups[3], t2g_error *err) {
    t2g_dispatch dispatch = {
        .shader = shader, .spec = spec, .spec_count = spec_count,
        .bindings = bindings, .binding_count = binding_count,
        .push = push, .push_bytes = push_bytes,
        .groups = {groups[0], groups[1], groups[2]},
    };
    return t2g_record_dispatch(rec, &dispatch, err);
}

/* A grid-stride loop over n elements, RL_GROUP invocations a workgroup. */
static void stride_grid(uint64_t n, uint32_t groups[3]) {
    groups[0] = t2g_stride_groups(n, RL_GROUP);
    groups[1] = groups[2] = 1;
}

/* ---- span-reward mask ---- */

t2g_status t2g_span_reward_mask(t2g_recorder *rec, t2g_tensor scores, t2g_tensor mask, t2g_tensor ranges,
                                t2g_tensor range_offsets, t2g_tensor bounds, uint32_t B, uint32_t T, float unannotated,
                                t2g_error *err) {
    const char *k = "span_reward_mask";
    uint64_t BT = (uint64_t)B * T;
    t2g_status status = t2g_need_index(BT, k, "B * T", err);
    if (!status) status = t2g_need(scores, BT, k, "scores", err);                         /* (B,T) */
    if (!status) status = t2g_need(mask, BT, k, "mask", err);                             /* (B,T) */
    if (!status) status = t2g_need(range_offsets, (uint64_t)B + 1, k, "range_offsets", err); /* (B+1) */
    if (!status) status = t2g_need(bounds, 2 * (uint64_t)B, k, "bounds", err);            /* (B,2) */
    if (status || BT == 0) return status;
    /* ranges (R,4): R from the tensor's size, so that no offset reads past it. No tensor at all
     * stands for an empty list (a tiny scratch tensor is bound in its place). */
    uint64_t R = ranges.arena ? ranges.bytes / 16 : 0;
    if (R > 0xFFFFFFFFull / 4) R = 0xFFFFFFFFull / 4;
    if (R == 0) {
        status = t2g_recorder_scratch(rec, 16, &ranges, err);
        if (status) return status;
    }
    const uint32_t spec[] = {RL_GROUP};
    struct { uint32_t B, T, R; float unannotated; } push = {B, T, (uint32_t)R, unannotated};
    t2g_binding bindings[] = {{scores, T2G_WRITE}, {mask, T2G_WRITE}, {ranges, T2G_READ},
                              {range_offsets, T2G_READ}, {bounds, T2G_READ}};
    uint32_t groups[3];
    stride_grid(BT, groups);
    return record(rec, "span_reward_mask", spec, 1, bindings, 5, &push, sizeof push, groups, err);
}

/* ---- token log-probabilities, entropy, full KL ---- */

t2g_status t2g_token_logprobs(t2g_recorder *rec, t2g_tensor logprobs, const t2g_tensor *entropy,
                              const t2g_tensor *kl_full, t2g_tensor logits, const t2g_tensor *ref_logits,
                              t2g_tensor targets, uint32_t N, uint32_t V, t2g_error *err) {
    const char *k = "token_logprobs";
    uint64_t NV = (uint64_t)N * V;
    if (V == 0) return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: V must be at least 1 (N = %u)", k, N);
    if (!kl_full != !ref_logits)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: kl_full and ref_logits come together (got %s without %s)", k,
                        kl_full ? "kl_full" : "ref_logits", kl_full ? "ref_logits" : "kl_full");
    t2g_status status = t2g_need_index(NV, k, "N * V", err);
    if (!status) status = t2g_need(logprobs, N, k, "logprobs", err);                 /* (N) */
    if (!status && entropy) status = t2g_need(*entropy, N, k, "entropy", err);       /* (N) */
    if (!status && kl_full) status = t2g_need(*kl_full, N, k, "kl_full", err);       /* (N) */
    if (!status) status = t2g_need(logits, NV, k, "logits", err);                    /* (N,V) */
    if (!status && ref_logits) status = t2g_need(*ref_logits, NV, k, "ref_logits", err); /* (N,V) */
    if (!status) status = t2g_need(targets, N, k, "targets", err);                   /* (N) */
    if (status || N == 0) return status;

    uint32_t group = LOGPROB_GROUP_MIN;
    while (group < V && group < LOGPROB_GROUP_MAX) group *= 2;
    const uint32_t spec[] = {group, kl_full ? 1u : 0u};
    struct { uint32_t N, V, with_entropy; } push = {N, V, entropy ? 1u : 0u};
    /* Absent outputs and inputs: slots the shader never touches, filled with tensors it has. */
    t2g_binding bindings[] = {{logprobs, T2G_WRITE},
                              entropy ? (t2g_binding){*entropy, T2G_WRITE} : (t2g_binding){logprobs, T2G_READ},
                              kl_full ? (t2g_binding){*kl_full, T2G_WRITE} : (t2g_binding){logprobs, T2G_READ},
                              {logits, T2G_READ},
                              {ref_logits ? *ref_logits : logits, T2G_READ},
                              {targets, T2G_READ}};
    uint32_t groups[3];
    t2g_groups_2d(N, groups);
    return record(rec, "token_logprob", spec, 2, bindings, 6, &push, sizeof push, groups, err);
}

/* ---- rewards ---- */

t2g_status t2g_ppo_rewards(t2g_recorder *rec, t2g_tensor rewards, t2g_tensor kl, t2g_tensor scores, t2g_tensor mask,
                           t2g_tensor logprobs, t2g_tensor ref_logprobs, const t2g_tensor *kl_full, float beta,
                           uint32_t N, t2g_error *err) {
    const char *k = "ppo_rewards";
    t2g_status status = t2g_need(rewards, N, k, "rewards", err); /* all (N) */
    if (!status) status = t2g_need(kl, N, k, "kl", err);
    if (!status) status = t2g_need(scores, N, k, "scores", err);
    if (!status) status = t2g_need(mask, N, k, "mask", err);
    if (kl_full) {
        if (!status) status = t2g_need(*kl_full, N, k, "kl_full", err);
    } else {
        if (!status) status = t2g_need(logprobs, N, k, "logprobs", err);
        if (!status) status = t2g_need(ref_logprobs, N, k, "ref_logprobs", err);
    }
    if (status || N == 0) return status;
    /* With kl_full, logprobs and ref_logprobs are not read (and may be absent). */
    t2g_tensor lp = kl_full ? *kl_full : logprobs, ref_lp = kl_full ? *kl_full : ref_logprobs;
    const uint32_t spec[] = {RL_GROUP, kl_full ? 1u : 0u};
    struct { uint32_t N; float beta; } push = {N, beta};
    t2g_binding bindings[] = {{rewards, T2G_WRITE}, {kl, T2G_WRITE},    {scores, T2G_READ},
                              {mask, T2G_READ},     {lp, T2G_READ},     {ref_lp, T2G_READ},
                              {kl_full ? *kl_full : ref_logprobs, T2G_READ}};
    uint32_t groups[3];
    stride_grid(N, groups);
    return record(rec, "ppo_rewards", spec, 2, bindings, 7, &push, sizeof push, groups, err);
}

/* ---- GAE ---- */

t2g_status t2g_gae(t2g_recorder *rec, t2g_tensor advantages, t2g_tensor returns, t2g_tensor rewards,
                   t2g_tensor values, t2g_tensor mask, uint32_t B, uint32_t T, float gamma, float lambda,
                   t2g_error *err) {
    const char *k = "gae";
    uint64_t BT = (uint64_t)B * T;
    t2g_status status = t2g_need_index(BT, k, "B * T", err);
    if (!status) status = t2g_need(advantages, BT, k, "advantages", err); /* all (B,T) */
    if (!status) status = t2g_need(returns, BT, k, "returns", err);
    if (!status) status = t2g_need(rewards, BT, k, "rewards", err);
    if (!status) status = t2g_need(values, BT, k, "values", err);
    if (!status) status = t2g_need(mask, BT, k, "mask", err);
    if (status || BT == 0) return status;
    const uint32_t spec[] = {GAE_GROUP};
    struct { uint32_t B, T; float gamma, lambda; } push = {B, T, gamma, lambda};
    t2g_binding bindings[] = {{advantages, T2G_WRITE}, {returns, T2G_WRITE}, {rewards, T2G_READ},
                              {values, T2G_READ},      {mask, T2G_READ}};
    uint32_t groups[3];
    t2g_groups_2d(t2g_ceil_div(B, GAE_GROUP), groups);
    return record(rec, "gae", spec, 1, bindings, 5, &push, sizeof push, groups, err);
}

/* ---- whitening ---- */

/* Elements per stage-1 workgroup: a multiple of RL_GROUP, at least WHITEN_MIN_SLICE, large
 * enough that WHITEN_MAX_PARTIALS slices cover n; from n alone. */
static uint32_t whiten_slice(uint64_t n) {
    uint64_t slice = (n + WHITEN_MAX_PARTIALS - 1) / WHITEN_MAX_PARTIALS;
    slice = (slice + RL_GROUP - 1) / RL_GROUP * RL_GROUP;
    return slice < WHITEN_MIN_SLICE ? WHITEN_MIN_SLICE : (uint32_t)slice;
}

t2g_status t2g_whiten(t2g_recorder *rec, t2g_tensor x, t2g_tensor mask, uint32_t N, t2g_error *err) {
    const char *k = "whiten";
    t2g_status status = t2g_need(x, N, k, "x", err); /* (N) */
    if (!status) status = t2g_need(mask, N, k, "mask", err); /* (N) */
    if (status || N == 0) return status;
    uint32_t slice = whiten_slice(N), count = t2g_ceil_div(N, slice);
    /* partials (count, 4): n, a, delta, M2 of each slice; stats (3): mean0, shift, scale */
    t2g_tensor partials, stats;
    status = t2g_recorder_scratch(rec, (uint64_t)count * 4 * 4, &partials, err);
    if (!status) status = t2g_recorder_scratch(rec, 3 * 4, &stats, err);
    if (status) return status;
    const uint32_t spec[] = {RL_GROUP};

    struct { uint32_t N, slice; } stage1_push = {N, slice};
    t2g_binding stage1[] = {{partials, T2G_WRITE}, {x, T2G_READ}, {mask, T2G_READ}};
    uint32_t stage1_groups[3] = {count, 1, 1};
    status = record(rec, "whiten_partials", spec, 1, stage1, 3, &stage1_push, sizeof stage1_push, stage1_groups, err);
    if (status) return status;

    uint32_t stage2_push = count;
    t2g_binding stage2[] = {{stats, T2G_WRITE}, {partials, T2G_READ}};
    uint32_t one_group[3] = {1, 1, 1};
    status = record(rec, "whiten_finish", spec, 1, stage2, 2, &stage2_push, sizeof stage2_push, one_group, err);
    if (status) return status;

    uint32_t stage3_push = N;
    t2g_binding stage3[] = {{x, T2G_READ_WRITE}, {mask, T2G_READ}, {stats, T2G_READ}};
    uint32_t groups[3];
    stride_grid(N, groups);
    return record(rec, "whiten_apply", spec, 1, stage3, 3, &stage3_push, sizeof stage3_push, groups, err);
}

/* ---- the value head ---- */

static t2g_status value_head_shape(const char *kernel, uint32_t N, uint32_t C, t2g_error *err) {
    if (C == 0) return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: C must be at least 1 (N = %u)", kernel, N);
    return t2g_need_index((uint64_t)N * C, kernel, "N * C", err);
}

t2g_status t2g_value_head_forward(t2g_recorder *rec, t2g_tensor values, t2g_tensor hidden, t2g_tensor weight,
                                  uint32_t N, uint32_t C, t2g_error *err) {
    const char *k = "value_head_forward";
    t2g_status status = value_head_shape(k, N, C, err);
    if (!status) status = t2g_need(values, N, k, "values", err);                 /* (N) */
    if (!status) status = t2g_need(hidden, (uint64_t)N * C, k, "hidden", err);  /* (N,C) */
    if (!status) status = t2g_need(weight, (uint64_t)C + 1, k, "weight", err);   /* (C+1) */
    if (status || N == 0) return status;
    /* Lanes per row: the power of two >= ceil(C / 4), at most RL_GROUP; RL_GROUP / lanes rows
     * share a workgroup. */
    uint32_t want = (uint32_t)(((uint64_t)C + 3) / 4), lanes = 1;
    while (lanes < want && lanes < RL_GROUP) lanes *= 2;
    const uint32_t spec[] = {RL_GROUP, lanes};
    struct { uint32_t N, C; } push = {N, C};
    t2g_binding bindings[] = {{values, T2G_WRITE}, {hidden, T2G_READ}, {weight, T2G_READ}};
    uint32_t groups[3];
    t2g_groups_2d(t2g_ceil_div(N, RL_GROUP / lanes), groups);
    return record(rec, "value_head_forward", spec, 2, bindings, 3, &push, sizeof push, groups, err);
}

t2g_status t2g_value_head_backward(t2g_recorder *rec, t2g_tensor dhidden, t2g_tensor dweight, t2g_tensor dvalues,
                                   t2g_tensor hidden, t2g_tensor weight, uint32_t N, uint32_t C, t2g_error *err) {
    const char *k = "value_head_backward";
    uint64_t NC = (uint64_t)N * C;
    t2g_status status = value_head_shape(k, N, C, err);
    if (!status) status = t2g_need(dhidden, NC, k, "dhidden", err);               /* (N,C) */
    if (!status) status = t2g_need(dweight, (uint64_t)C + 1, k, "dweight", err);   /* (C+1) */
    if (!status) status = t2g_need(dvalues, N, k, "dvalues", err);                 /* (N) */
    if (!status) status = t2g_need(hidden, NC, k, "hidden", err);                  /* (N,C) */
    if (!status) status = t2g_need(weight, (uint64_t)C + 1, k, "weight", err);     /* (C+1) */
    if (status || N == 0) return status;

    /* dhidden += dvalues weight, elementwise. */
    const uint32_t spec[] = {RL_GROUP};
    struct { uint32_t N, C; } push = {N, C};
    t2g_binding bindings[] = {{dhidden, T2G_READ_WRITE}, {dvalues, T2G_READ}, {weight, T2G_READ}};
    uint32_t groups[3];
    stride_grid(NC, groups);
    status = record(rec, "value_head_backward", spec, 1, bindings, 3, &push, sizeof push, groups, err);
    if (status) return status;

    /* dweight += sum_n dvalues [hidden, 1]: partials (chunks, C+1) in row chunks, then
     * reduce_partials. Chunks of at least T2G_ROWS_PER_CHUNK rows, at most 65535 of them. */
    uint32_t rows = T2G_ROWS_PER_CHUNK;
    if (t2g_ceil_div(N, rows) > T2G_MAX_GROUPS_1D) rows = t2g_ceil_div(N, T2G_MAX_GROUPS_1D);
    uint32_t chunks = t2g_ceil_div(N, rows), columns = C + 1;
    status = t2g_need_index((uint64_t)chunks * columns, k, "chunks * (C + 1)", err);
    if (status) return status;
    t2g_tensor partials;
    status = t2g_recorder_scratch(rec, (uint64_t)chunks * columns * 4, &partials, err);
    if (status) return status;
    const uint32_t partial_spec[] = {T2G_COLUMNS_PER_GROUP};
    struct { uint32_t N, C, rows_per_chunk; } partial_push = {N, C, rows};
    t2g_binding partial_bindings[] = {{partials, T2G_WRITE}, {dvalues, T2G_READ}, {hidden, T2G_READ}};
    uint32_t partial_groups[3] = {t2g_ceil_div(columns, T2G_COLUMNS_PER_GROUP), chunks, 1};
    status = record(rec, "value_head_partials", partial_spec, 1, partial_bindings, 3, &partial_push,
                    sizeof partial_push, partial_groups, err);
    if (status) return status;
    return t2g_reduce_partials(rec, dweight, partials, chunks, columns, err);
}

/* ---- the clipped PPO losses ---- */

t2g_status t2g_ppo_loss(t2g_recorder *rec, t2g_tensor policy_weights, t2g_tensor dvalues, t2g_tensor stats,
                        uint32_t stats_stride, t2g_tensor logprobs, t2g_tensor old_logprobs, t2g_tensor advantages,
                        t2g_tensor values, t2g_tensor old_values, t2g_tensor returns, t2g_tensor mask, uint32_t N,
                        const t2g_ppo_settings *settings, float scale, t2g_error *err) {
    const char *k = "ppo_loss";
    if (!settings) return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: settings are missing", k);
    if (stats_stride < N || stats_stride % 64 != 0)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: stats_stride = %u must be >= N = %u and a multiple of 64", k,
                        stats_stride, N);
    t2g_status status = t2g_need_index(4 * (uint64_t)stats_stride, k, "4 * stats_stride", err);
    if (!status) status = t2g_need(policy_weights, N, k, "policy_weights", err); /* (N) */
    if (!status) status = t2g_need(dvalues, N, k, "dvalues", err);               /* (N) */
    if (!status) status = t2g_need(stats, 4 * (uint64_t)stats_stride, k, "stats", err); /* (4, stats_stride) */
    if (!status) status = t2g_need(logprobs, N, k, "logprobs", err);             /* inputs: (N) each */
    if (!status) status = t2g_need(old_logprobs, N, k, "old_logprobs", err);
    if (!status) status = t2g_need(advantages, N, k, "advantages", err);
    if (!status) status = t2g_need(values, N, k, "values", err);
    if (!status) status = t2g_need(old_values, N, k, "old_values", err);
    if (!status) status = t2g_need(returns, N, k, "returns", err);
    if (!status) status = t2g_need(mask, N, k, "mask", err);
    if (status || N == 0) return status;
    const uint32_t spec[] = {RL_GROUP};
    struct {
        uint32_t N, stride;
        float clip, value_clip, value_coef, log_ratio_clamp, scale;
    } push = {N, stats_stride, settings->clip, settings->value_clip, settings->value_coef, settings->log_ratio_clamp,
              scale};
    t2g_binding bindings[] = {{policy_weights, T2G_WRITE}, {dvalues, T2G_WRITE},   {stats, T2G_WRITE},
                              {logprobs, T2G_READ},        {old_logprobs, T2G_READ}, {advantages, T2G_READ},
                              {values, T2G_READ},          {old_values, T2G_READ}, {returns, T2G_READ},
                              {mask, T2G_READ}};
    uint32_t groups[3];
    stride_grid(N, groups);
    return record(rec, "ppo_loss", spec, 1, bindings, 10, &push, sizeof push, groups, err);
}
