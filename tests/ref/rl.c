/* Reference: the kernels of token-level PPO (include/t2g/rl_kernels.h), in double precision,
 * written from the formulas of the header. */
#include <math.h>
#include <string.h>

#include "rl_ref.h"

void ref_span_reward_mask(double *scores, double *mask, const uint32_t *ranges, const uint32_t *range_offsets,
                          const uint32_t *bounds, int B, int T, double unannotated) {
    for (int b = 0; b < B; b++) {
        uint32_t start = bounds[2 * b], end = bounds[2 * b + 1];
        if (end > (uint32_t)T) end = (uint32_t)T;
        for (int t = 0; t < T; t++) {
            double *score = &scores[(size_t)b * T + t], *m = &mask[(size_t)b * T + t];
            if ((uint32_t)t < start || (uint32_t)t >= end) {
                *score = 0;
                *m = 0;
                continue;
            }
            *m = 1;
            int covered = 0;
            double lowest = 0;
            for (uint32_t r = range_offsets[b]; r < range_offsets[b + 1]; r++) {
                const uint32_t *range = ranges + 4 * (size_t)r; /* {sequence, first, last, score bits} */
                if ((uint32_t)t < range[1] || (uint32_t)t > range[2]) continue;
                float value;
                memcpy(&value, &range[3], sizeof value);
                if (!covered || value < lowest) lowest = value;
                covered = 1;
            }
            *score = covered ? lowest : unannotated;
        }
    }
}

void ref_token_logprobs(double *logprobs, double *entropy, double *kl_full, const double *logits,
                        const double *ref_logits, const uint32_t *targets, int N, int V) {
    for (int n = 0; n < N; n++) {
        const double *x = logits + (size_t)n * V;
        double max = x[0];
        for (int v = 1; v < V; v++) max = x[v] > max ? x[v] : max;
        double sum = 0;
        for (int v = 0; v < V; v++) sum += exp(x[v] - max);
        double lse = log(sum) + max; /* log p_v = x_v - lse */
        logprobs[n] = targets[n] < (uint32_t)V ? x[targets[n]] - lse : NAN;
        if (entropy) {
            double h = 0;
            for (int v = 0; v < V; v++)
                if (x[v] != -INFINITY) h -= exp(x[v] - lse) * (x[v] - lse); /* p log p -> 0 as p -> 0 */
            entropy[n] = h;
        }
        if (kl_full) {
            const double *y = ref_logits + (size_t)n * V;
            double ymax = y[0];
            for (int v = 1; v < V; v++) ymax = y[v] > ymax ? y[v] : ymax;
            double ysum = 0;
            for (int v = 0; v < V; v++) ysum += exp(y[v] - ymax);
            double ylse = log(ysum) + ymax; /* log q_v = y_v - ylse */
            double kl = 0;
            for (int v = 0; v < V; v++)
                if (x[v] != -INFINITY) kl += exp(x[v] - lse) * ((x[v] - lse) - (y[v] - ylse));
            kl_full[n] = kl;
        }
    }
}

void ref_ppo_rewards(double *rewards, double *kl, const double *scores, const double *mask, const double *logprobs,
                     const double *ref_logprobs, const double *kl_full, double beta, int N) {
    for (int n = 0; n < N; n++) {
        if (mask[n] == 0) { /* 0, whatever the (possibly undefined) inputs */
            kl[n] = 0;
            rewards[n] = 0;
            continue;
        }
        kl[n] = mask[n] * (kl_full ? kl_full[n] : logprobs[n] - ref_logprobs[n]);
        rewards[n] = mask[n] * (scores[n] - beta * kl[n]);
    }
}

void ref_gae(double *advantages, double *returns, const double *rewards, const double *values, const double *mask,
             int B, int T, double gamma, double lambda) {
    for (int b = 0; b < B; b++) {
        double next_value = 0, next_advantage = 0; /* of the following masked position */
        for (int t = T - 1; t >= 0; t--) {
            size_t i = (size_t)b * T + t;
            if (mask[i] == 0) {
                advantages[i] = 0;
                returns[i] = 0;
                continue;
            }
            double delta = rewards[i] + gamma * next_value - values[i];
            double a = delta + gamma * lambda * next_advantage;
            advantages[i] = a;
            returns[i] = a + values[i];
            next_value = values[i];
            next_advantage = a;
        }
    }
}

void ref_whiten(double *x, const double *mask, size_t N) {
    double count = 0, sum = 0;
    for (size_t i = 0; i < N; i++)
        if (mask[i] != 0) {
            count += 1;
            sum += x[i];
        }
    double mean = count > 0 ? sum / count : 0;
    double squares = 0;
    for (size_t i = 0; i < N; i++)
        if (mask[i] != 0) squares += (x[i] - mean) * (x[i] - mean);
    double scale = count >= 2 ? 1.0 / sqrt(squares / (count - 1) + 1e-8) : 1.0;
    for (size_t i = 0; i < N; i++) x[i] = mask[i] != 0 ? (x[i] - mean) * scale : 0;
}

void ref_value_head_forward(double *values, const double *hidden, const double *weight, int N, int C) {
    for (int n = 0; n < N; n++) {
        double sum = weight[C];
        for (int c = 0; c < C; c++) sum += hidden[(size_t)n * C + c] * weight[c];
        values[n] = sum;
    }
}

void ref_value_head_backward(double *dhidden, double *dweight, const double *dvalues, const double *hidden,
                             const double *weight, int N, int C) {
    for (int n = 0; n < N; n++) {
        for (int c = 0; c < C; c++) {
            dhidden[(size_t)n * C + c] += dvalues[n] * weight[c];
            dweight[c] += dvalues[n] * hidden[(size_t)n * C + c];
        }
        dweight[C] += dvalues[n];
    }
}

static double clamp(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

void ref_ppo_loss(double *policy_weights, double *dvalues, double *stats, const double *logprobs,
                  const double *old_logprobs, const double *advantages, const double *values,
                  const double *old_values, const double *returns, const double *mask, int N,
                  const ref_ppo_settings *settings, double scale) {
    const ref_ppo_settings *k = settings;
    for (int n = 0; n < N; n++) {
        double *policy_loss = &stats[n], *value_loss = &stats[N + n], *clipped = &stats[2 * (size_t)N + n],
               *approx_kl = &stats[3 * (size_t)N + n];
        if (mask[n] == 0) {
            policy_weights[n] = dvalues[n] = *policy_loss = *value_loss = *clipped = *approx_kl = 0;
            continue;
        }
        double raw = logprobs[n] - old_logprobs[n];
        double lr = clamp(raw, -k->log_ratio_clamp, k->log_ratio_clamp);
        double ratio = exp(lr), a = advantages[n];
        double pg1 = -a * ratio, pg2 = -a * clamp(ratio, 1 - k->clip, 1 + k->clip);
        *policy_loss = pg1 > pg2 ? pg1 : pg2;
        policy_weights[n] = pg1 >= pg2 && lr == raw ? scale * a * ratio : 0;
        *clipped = pg2 > pg1 ? 1 : 0;
        *approx_kl = 0.5 * lr * lr;

        double change = values[n] - old_values[n];
        double clipped_change = clamp(change, -k->value_clip, k->value_clip);
        double vc = clipped_change == change ? values[n] : old_values[n] + clipped_change;
        double l1 = (values[n] - returns[n]) * (values[n] - returns[n]), l2 = (vc - returns[n]) * (vc - returns[n]);
        *value_loss = 0.5 * (l1 > l2 ? l1 : l2);
        /* d(value loss)/d values: where the clipped term is the larger one, the change is
         * outside the clip (inside, vc = values and the terms tie), so the term is flat. */
        dvalues[n] = l1 >= l2 ? scale * k->value_coef * (values[n] - returns[n]) : 0;
        /* non-finite inputs give NaN, never a finite gradient */
        if (!isfinite(raw) || !isfinite(a)) policy_weights[n] = *policy_loss = NAN;
        if (!isfinite(values[n]) || !isfinite(old_values[n]) || !isfinite(returns[n])) dvalues[n] = *value_loss = NAN;
    }
}
