/* The GPU passes of a step: scoring the rollout (old log-probabilities and values, the
 * reference, the span-reward mask, rewards, GAE, whitened advantages), then the PPO epochs. */
#include <stdlib.h>
#include <string.h>

#include "rl_internal.h"
#include "t2g/train.h"

#define TRY(call)               \
    do {                        \
        t2g_status s_ = (call); \
        if (s_) return s_;      \
    } while (0)

static bool full_kl(const t2g_rl *rl) { return rl->config.rl.kl == T2G_KL_FULL; }

/* Rows of logits the passes take at once: a piece's (the policy and the reference share the
 * config, so their pieces), or all N of a micro-batch. */
static uint32_t piece_rows(const t2g_rl *rl, uint32_t N) {
    uint32_t rows = t2g_gpt_logit_rows(rl->policy);
    return rows ? rows : N;
}

/* The reference's and the policy's log-probabilities of rows [first, first + n) of micro-batch
 * k, the policy's entropy and, full, the KL over the vocabulary. */
static t2g_status score_rows(t2g_rl *rl, const rl_micro *x, uint32_t first, uint32_t n, t2g_error *err) {
    uint32_t V = rl->config.model.vocab;
    t2g_recorder *rec = rl->rec;
    t2g_tensor ref_logits, policy_logits; /* (n, V) each */
    TRY(t2g_gpt_logits_of_rows(rl->reference, rec, first, n, &ref_logits, err));
    TRY(t2g_gpt_logits_of_rows(rl->policy, rec, first, n, &policy_logits, err));
    t2g_tensor targets = t2g_tensor_slice(x->targets, first, n), entropy = t2g_tensor_slice(rl->entropy, first, n);
    t2g_tensor kl_full = t2g_tensor_slice(x->kl_full, first, n);
    TRY(t2g_token_logprobs(rec, t2g_tensor_slice(x->ref_logprobs, first, n), NULL, NULL, ref_logits, NULL, targets, n,
                           V, err));
    return t2g_token_logprobs(rec, t2g_tensor_slice(x->old_logprobs, first, n), &entropy, full_kl(rl) ? &kl_full : NULL,
                              policy_logits, full_kl(rl) ? &ref_logits : NULL, targets, n, V, err);
}

/* The policy's and the reference's view of micro-batch k, the mask and the rewards. */
static t2g_status record_scoring(t2g_rl *rl, uint32_t k, t2g_tensor entropy_sum, t2g_error *err) {
    const rl_micro *x = &rl->micro[k];
    const t2g_config *c = &rl->config;
    uint32_t m = rl->m, T = rl->T, N = m * T, rows = piece_rows(rl, N);
    bool span = c->rl.reward_granularity == T2G_REWARD_SPAN;
    t2g_recorder *rec = rl->rec;
    TRY(t2g_gpt_forward(rl->reference, rec, x->inputs, m, T, err));
    TRY(t2g_gpt_forward(rl->policy, rec, x->inputs, m, T, err));
    for (uint32_t first = 0; first < N; first += rows)
        TRY(score_rows(rl, x, first, N - first < rows ? N - first : rows, err));
    TRY(t2g_value_head_forward(rec, x->old_values, t2g_gpt_hidden(rl->policy), rl->head, N, rl->C, err));
    TRY(t2g_span_reward_mask(rec, x->scores, x->mask, x->ranges, x->range_offsets, x->bounds, m, T,
                             span ? (float)c->rl.score_unannotated : 0.0f, err));
    TRY(t2g_dot(rec, entropy_sum, rl->entropy, x->mask, N, err));
    TRY(t2g_ppo_rewards(rec, x->rewards, x->kl, x->scores, x->mask, x->old_logprobs, x->ref_logprobs,
                        full_kl(rl) ? &x->kl_full : NULL, (float)rl->beta, N, err));
    TRY(t2g_gae(rec, x->advantages, x->returns, x->rewards, x->old_values, x->mask, m, T, (float)c->rl.gamma,
                (float)c->rl.lambda, err));
    return T2G_OK;
}

/* Sums over each response of x (positions of row b of micro-batch k). */
static double row_sum(const t2g_rl *rl, const float *wide, uint32_t r) {
    const float *row = wide + (size_t)(r / rl->m) * rl->S + (size_t)(r % rl->m) * rl->T;
    double sum = 0;
    for (uint32_t t = 0; t < rl->T; t++) sum += row[t];
    return sum;
}

/* The rollout's statistics, from the scoring pass's results. */
static t2g_status rollout_stats(t2g_rl *rl, const float *entropy_sums, t2g_rl_stats *stats, t2g_error *err) {
    uint64_t MS = (uint64_t)rl->M * rl->S;
    float *host = malloc(4 * MS * sizeof *host);
    if (!host) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory");
    float *scores = host, *mask = host + MS, *rewards = host + 2 * MS, *kl = host + 3 * MS;
    t2g_status status = t2g_tensor_download(rl->scores, scores, 4 * MS, err);
    if (!status) status = t2g_tensor_download(rl->mask, mask, 4 * MS, err);
    if (!status) status = t2g_tensor_download(rl->rewards, rewards, 4 * MS, err);
    if (!status) status = t2g_tensor_download(rl->kl, kl, 4 * MS, err);
    if (!status) {
        double tokens = 0, token_score = 0, entropy = 0;
        for (uint32_t r = 0; r < rl->R; r++) {
            tokens += row_sum(rl, mask, r);
            token_score += row_sum(rl, scores, r);
            stats->reward += row_sum(rl, rewards, r) / rl->R;
            stats->kl += row_sum(rl, kl, r) / rl->R;
            stats->score += rl->batch.critic_scores[r] / rl->R;
        }
        for (uint32_t k = 0; k < rl->M; k++) entropy += entropy_sums[k * 64];
        stats->token_score = tokens > 0 ? token_score / tokens : 0;
        stats->entropy = tokens > 0 ? entropy / tokens : 0;
        stats->response_tokens = (double)rl->batch.generated_tokens / rl->R;
    }
    free(host);
    return status;
}

t2g_status rl_score(t2g_rl *rl, t2g_rl_stats *stats, t2g_error *err) {
    uint64_t MS = (uint64_t)rl->M * rl->S;
    t2g_tensor entropy_sums = rl->entropy_sums;
    /* the padding between micro-batches stays masked out and 0 */
    t2g_status status = t2g_fill(rl->rec, rl->mask, MS, 0.0f, err);
    if (!status) status = t2g_fill(rl->rec, rl->advantages, MS, 0.0f, err);
    for (uint32_t k = 0; k < rl->M && !status; k++) {
        t2g_tensor slot = t2g_tensor_slice(entropy_sums, 64ull * k, 1);
        status = record_scoring(rl, k, slot, err);
    }
    if (!status) status = t2g_whiten(rl->rec, rl->advantages, rl->mask, (uint32_t)MS, err);
    if (!status) status = t2g_recorder_submit(rl->rec, err);
    float *sums = malloc(rl->M * 64 * sizeof *sums);
    if (!status && !sums) status = t2g_fail(err, T2G_ERR_MEMORY, "out of host memory");
    if (!status) status = t2g_tensor_download(entropy_sums, sums, 4ull * rl->M * 64, err);
    if (!status) status = rollout_stats(rl, sums, stats, err);
    free(sums);
    return status;
}

/* ---- PPO ---- */

static t2g_status record_micro(t2g_rl *rl, uint32_t k, float scale, t2g_error *err) {
    const rl_micro *x = &rl->micro[k];
    const t2g_config *c = &rl->config;
    uint32_t m = rl->m, T = rl->T, N = m * T;
    t2g_recorder *rec = rl->rec;
    t2g_ppo_settings settings = {(float)c->rl.clip, (float)c->rl.value_clip, (float)c->rl.value_coef,
                                 (float)c->rl.log_ratio_clamp};
    t2g_tensor hidden = t2g_gpt_hidden(rl->policy);
    TRY(t2g_gpt_forward(rl->policy, rec, x->inputs, m, T, err));
    /* the log-probabilities piece by piece; in pieces the backward computes each piece's logits again */
    for (uint32_t first = 0, rows = piece_rows(rl, N); first < N; first += rows) {
        uint32_t n = N - first < rows ? N - first : rows;
        t2g_tensor logits; /* (n, V) */
        TRY(t2g_gpt_logits_of_rows(rl->policy, rec, first, n, &logits, err));
        TRY(t2g_token_logprobs(rec, t2g_tensor_slice(rl->logprobs, first, n), NULL, NULL, logits, NULL,
                               t2g_tensor_slice(x->targets, first, n), n, c->model.vocab, err));
    }
    TRY(t2g_value_head_forward(rec, rl->values, hidden, rl->head, N, rl->C, err));
    TRY(t2g_ppo_loss(rec, rl->policy_weights, rl->dvalues, x->stats, rl->S, rl->logprobs, x->old_logprobs,
                     x->advantages, rl->values, x->old_values, x->returns, x->mask, N, &settings, scale, err));
    TRY(t2g_fill(rec, rl->dhidden, (uint64_t)N * rl->C, 0.0f, err));
    TRY(t2g_value_head_backward(rec, rl->dhidden, rl->head_grad, rl->dvalues, hidden, rl->head, N, rl->C, err));
    /* the policy gradient is the cross-entropy's with the PPO weights (dloss 1) */
    TRY(t2g_gpt_backward_with_hidden(rl->policy, rec, x->targets, rl->policy_weights, m, T, 1.0f, rl->dhidden, err));
    return T2G_OK;
}

static t2g_status record_update(t2g_rl *rl, uint32_t opt_step, t2g_error *err) {
    const t2g_config *c = &rl->config;
    t2g_adamw_settings settings = {
        .learning_rate = (float)t2g_schedule_lr(c, rl->step + 1), .beta1 = (float)c->optim.beta1,
        .beta2 = (float)c->optim.beta2, .epsilon = (float)c->optim.epsilon, .weight_decay = (float)c->optim.weight_decay,
        .step = opt_step};
    float clip = (float)c->optim.grad_clip;
    TRY(t2g_gpt_update(rl->policy, rl->rec, &settings, clip, rl->policy_norm, err));
    t2g_adamw_settings head = settings; /* the value head: its own rate, no decay */
    head.learning_rate = (float)(settings.learning_rate * c->rl.value_lr_scale);
    head.weight_decay = 0.0f;
    TRY(t2g_grad_norm(rl->rec, rl->head_norm, rl->head_grad, rl->C + 1, clip, err));
    TRY(t2g_adamw_update(rl->rec, rl->head, rl->head_grad, rl->head_m, rl->head_v, &rl->head_norm, 0, rl->C + 1, &head,
                         err));
    return T2G_OK;
}

/* Adds micro-batch k's loss statistics (rows of 4 x S, zero where unmasked). */
static t2g_status add_stats(t2g_rl *rl, uint32_t k, float *host, double sums[4], t2g_error *err) {
    TRY(t2g_tensor_download(rl->micro[k].stats, host, 16ull * rl->S, err));
    for (int row = 0; row < 4; row++)
        for (uint32_t n = 0; n < rl->m * rl->T; n++) sums[row] += host[(size_t)row * rl->S + n];
    return T2G_OK;
}

static uint32_t valid_positions(const t2g_rl *rl, uint32_t k) {
    uint32_t valid = 0;
    for (uint32_t b = 0; b < rl->m; b++) {
        const uint32_t *bounds = rl->batch.bounds + 2 * ((size_t)k * rl->m + b);
        valid += bounds[1] - bounds[0];
    }
    return valid;
}

/* After an update's submission: a norm that is not finite means adamw.comp skipped that update;
 * non-finite losses so far (sums: policy, value) end the step's updates too. */
static t2g_status check_norms(t2g_rl *rl, t2g_rl_stats *stats, const double sums[4], t2g_error *err) {
    float policy[2], head[2]; /* norm, clip factor */
    TRY(t2g_tensor_download(rl->policy_norm, policy, sizeof policy, err));
    TRY(t2g_tensor_download(rl->head_norm, head, sizeof head, err));
    uint32_t bits = t2g_nonfinite_bit(policy[0], T2G_NONFINITE_GRAD_NORM) |
                    t2g_nonfinite_bit(head[0], T2G_NONFINITE_VALUE_GRAD_NORM);
    stats->nonfinite |= bits;
    if (bits) stats->update_skipped = true;
    stats->nonfinite |= t2g_nonfinite_bit(sums[0], T2G_NONFINITE_POLICY_LOSS) |
                        t2g_nonfinite_bit(sums[1], T2G_NONFINITE_VALUE_LOSS);
    return T2G_OK;
}

t2g_status rl_optimize(t2g_rl *rl, t2g_rl_stats *stats, t2g_error *err) {
    const t2g_config *c = &rl->config;
    uint32_t epochs = c->rl.ppo_epochs, minibatches = c->rl.minibatches, per = rl->M / minibatches;
    double sums[4] = {0, 0, 0, 0}, tokens = 0;
    float *host = malloc(4ull * rl->S * sizeof *host);
    t2g_status status = host ? T2G_OK : t2g_fail(err, T2G_ERR_MEMORY, "out of host memory");
    for (uint32_t e = 0; e < epochs && !status; e++) {
        for (uint32_t mb = 0; mb < minibatches && !status; mb++) {
            uint32_t valid = 0;
            for (uint32_t k = mb * per; k < (mb + 1) * per; k++) valid += valid_positions(rl, k);
            float scale = valid ? 1.0f / (float)valid : 0.0f;
            status = t2g_gpt_zero_grads(rl->policy, rl->rec, err);
            if (!status) status = t2g_fill(rl->rec, rl->head_grad, rl->C + 1, 0.0f, err);
            for (uint32_t k = mb * per; k < (mb + 1) * per && !status; k++) status = record_micro(rl, k, scale, err);
            uint32_t opt_step = (uint32_t)(rl->step * epochs * minibatches + e * minibatches + mb + 1);
            if (!status) status = record_update(rl, opt_step, err);
            if (!status) status = t2g_recorder_submit(rl->rec, err);
            for (uint32_t k = mb * per; k < (mb + 1) * per && !status; k++) status = add_stats(rl, k, host, sums, err);
            tokens += valid;
            if (!status) status = check_norms(rl, stats, sums, err);
            if (stats->nonfinite) break; /* the step's later updates are not made */
        }
        if (stats->nonfinite) break;
    }
    free(host);
    if (status) return status;
    stats->policy_loss = tokens ? sums[0] / tokens : 0;
    stats->value_loss = tokens ? sums[1] / tokens : 0;
    stats->nonfinite |= t2g_nonfinite_bit(stats->policy_loss, T2G_NONFINITE_POLICY_LOSS) |
                        t2g_nonfinite_bit(stats->value_loss, T2G_NONFINITE_VALUE_LOSS);
    stats->clip_fraction = tokens ? sums[2] / tokens : 0;
    stats->approx_kl = tokens ? sums[3] / tokens : 0;
    return T2G_OK;
}
