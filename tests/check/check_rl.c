/* The token-level PPO kernels of include/t2g/rl_kernels.h against tests/ref/rl.c: the
 * span-reward mask, token log-probabilities with entropy and full KL, rewards, GAE, masked
 * whitening and the value head (the PPO losses: check_ppo_loss.c). Inputs that the kernels must
 * not read (past a response, outside a mask) hold NaN, outputs are poisoned, every kernel runs
 * twice for bitwise reproducibility. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "ref/rl_ref.h"
#include "t2g/rl_kernels.h"

static uint32_t bits_of_float(float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits;
}

/* largest |x| */
static double max_abs(const float *x, size_t n) {
    double worst = 0;
    for (size_t i = 0; i < n; i++) worst = fabs(x[i]) > worst ? fabs(x[i]) : worst;
    return worst;
}

/* ==== span-reward mask ==== */

/* Sequence b's response: kinds cycle through an empty response (start == end), the whole
 * sequence, one running to the end, and random ones. Ranges may start before the response,
 * run past it and past T, overlap one another, or cover nothing (last < first). */
static void span_case(check_ctx *ctx, uint32_t B, uint32_t T, uint32_t max_ranges, float unannotated) {
    check_case_begin(ctx);
    char label[128];
    uint32_t *offsets = check_host(ctx, (B + 1) * sizeof *offsets), *bounds = check_host(ctx, 2 * B * sizeof *bounds);
    offsets[0] = 0;
    for (uint32_t b = 0; b < B; b++)
        offsets[b + 1] = offsets[b] + (max_ranges ? check_random_below(ctx, max_ranges + 1) : 0);
    uint32_t R = offsets[B];
    uint32_t *ranges = check_host(ctx, 4 * (size_t)R * sizeof *ranges);
    for (uint32_t b = 0; b < B; b++) {
        uint32_t start = check_random_below(ctx, T + 1), end;
        switch (b % 5) {
        case 0: end = start; break;
        case 1:
            start = 0;
            end = T;
            break;
        case 2: end = T; break;
        default: end = start + check_random_below(ctx, T - start + 1); break;
        }
        bounds[2 * b] = start;
        bounds[2 * b + 1] = end;
        for (uint32_t r = offsets[b]; r < offsets[b + 1]; r++) {
            uint32_t first = check_random_below(ctx, T + 2);
            uint32_t last = first + check_random_below(ctx, T / 3 + 2);
            if (first > 0 && check_random_below(ctx, 8) == 0) last = first - 1; /* covers nothing */
            static const float levels[] = {-1, 0, 1};
            float score = check_random_below(ctx, 4) ? levels[check_random_below(ctx, 3)]
                                                     : (float)check_uniform(ctx, -2, 2);
            ranges[4 * r] = b;
            ranges[4 * r + 1] = first;
            ranges[4 * r + 2] = last;
            ranges[4 * r + 3] = bits_of_float(score);
        }
    }
    size_t BT = (size_t)B * T;
    double *ref_scores = check_doubles(ctx, BT), *ref_mask = check_doubles(ctx, BT);
    ref_span_reward_mask(ref_scores, ref_mask, ranges, offsets, bounds, (int)B, (int)T, unannotated);

    /* No ranges at all: no tensor (the kernel binds one of its own). */
    t2g_tensor ranges_t = R ? check_upload(ctx, ranges, 4 * (size_t)R) : (t2g_tensor){0};
    t2g_tensor offsets_t = check_upload(ctx, offsets, B + 1), bounds_t = check_upload(ctx, bounds, 2 * (size_t)B);
    t2g_tensor scores = check_poisoned(ctx, BT), mask = check_poisoned(ctx, BT);
    float *gpu[2][2];
    for (int run = 0; run < 2; run++) {
        check_poison(ctx, scores, BT);
        check_poison(ctx, mask, BT);
        check_status(ctx,
                     t2g_span_reward_mask(ctx->recorder, scores, mask, ranges_t, offsets_t, bounds_t, B, T, unannotated,
                                          &ctx->err),
                     "span_reward_mask");
        check_submit(ctx);
        gpu[run][0] = check_download(ctx, scores, BT);
        gpu[run][1] = check_download(ctx, mask, BT);
    }
    /* Copies, not arithmetic: exactly the reference (tolerance 0). */
    snprintf(label, sizeof label, "span scores B=%u T=%u R=%u unannotated=%g", B, T, R, unannotated);
    check_bitwise(ctx, label, gpu[0][0], gpu[1][0], BT);
    check_close(ctx, label, gpu[0][0], ref_scores, BT, 0.0);
    snprintf(label, sizeof label, "span mask B=%u T=%u", B, T);
    check_bitwise(ctx, label, gpu[0][1], gpu[1][1], BT);
    check_close(ctx, label, gpu[0][1], ref_mask, BT, 0.0);
}

/* A hand-made case: overlapping ranges where the lowest wins, a range over the prompt. */
static void span_fixed_case(check_ctx *ctx) {
    check_case_begin(ctx);
    const uint32_t B = 2, T = 10;
    /* sequence 0: response [2, 9), ranges [3,6] -> 1, [5,8] -> -1 (overlap: -1 wins), [0,1] -> -1
     * (the prompt only); sequence 1: an empty response with a range over it */
    uint32_t ranges[] = {0, 3, 6, bits_of_float(1.0f), 0, 5, 8, bits_of_float(-1.0f), 0, 0, 1, bits_of_float(-1.0f),
                         1, 4, 4, bits_of_float(0.5f)};
    uint32_t offsets[] = {0, 3, 4}, bounds[] = {2, 9, 4, 4};
    const float want_scores[] = {0, 0, 7, 1, 1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    const float want_mask[] = {0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    t2g_tensor scores = check_poisoned(ctx, B * T), mask = check_poisoned(ctx, B * T);
    check_status(ctx,
                 t2g_span_reward_mask(ctx->recorder, scores, mask, check_upload(ctx, ranges, 16),
                                      check_upload(ctx, offsets, 3), check_upload(ctx, bounds, 4), B, T, 7.0f,
                                      &ctx->err),
                 "span_reward_mask");
    check_submit(ctx);
    float *got_scores = check_download(ctx, scores, B * T), *got_mask = check_download(ctx, mask, B * T);
    check_true(ctx,
               memcmp(got_scores, want_scores, sizeof want_scores) == 0 &&
                   memcmp(got_mask, want_mask, sizeof want_mask) == 0,
               "span mask hand-made case: lowest overlapping score, prompt range ignored, empty response");
    /* bad shapes are refused */
    t2g_status status = t2g_span_reward_mask(ctx->recorder, scores, mask, check_upload(ctx, ranges, 16),
                                             check_upload(ctx, offsets, 2), check_upload(ctx, bounds, 4), B, T, 0.0f,
                                             &ctx->err);
    check_true(ctx, status == T2G_ERR_ARGUMENT, "span mask refuses range_offsets shorter than B + 1");
}

T2G_CHECK(span_mask) {
    span_case(ctx, 5, 37, 6, 0.0f);
    if (ctx->quick) return ctx->failures;
    span_fixed_case(ctx);
    span_case(ctx, 3, 1, 2, 1.0f);       /* T = 1 */
    span_case(ctx, 4, 20, 0, -0.25f);    /* no ranges at all */
    span_case(ctx, 64, 1031, 24, 0.5f);
    span_case(ctx, 2, 70001, 40, 0.0f);
    return ctx->failures;
}

/* ==== token log-probabilities, entropy, full KL ==== */

typedef enum reference_kind {
    REF_NONE,        /* no reference logits: logprobs (and entropy) only */
    REF_NOISY,       /* logits + N(0, 0.5^2): KL of order 0.1 */
    REF_INDEPENDENT, /* unrelated logits: KL of order 1 */
    REF_SAME,        /* equal values in a tensor of their own: KL exactly 0 */
    REF_SAME_TENSOR, /* the very tensor of the logits */
    REF_SHIFTED,     /* logits + 7.25: the same distribution, KL 0 up to rounding */
} reference_kind;

static const char *const reference_names[] = {"none", "noisy", "independent", "same", "same tensor", "shifted"};

static void logprob_case(check_ctx *ctx, uint32_t N, uint32_t V, double std, double offset, reference_kind kind,
                         bool with_entropy, uint32_t neg_inf_per_row) {
    check_case_begin(ctx);
    char label[160];
    size_t NV = (size_t)N * V;
    float *x = check_host(ctx, NV * sizeof *x), *y = check_host(ctx, NV * sizeof *y);
    uint32_t *targets = check_random_tokens(ctx, N, V);
    for (size_t i = 0; i < NV; i++) {
        x[i] = (float)(offset + std * check_normal(ctx));
        switch (kind) {
        case REF_NOISY: y[i] = (float)(x[i] + 0.5 * check_normal(ctx)); break;
        case REF_INDEPENDENT: y[i] = (float)(offset + std * check_normal(ctx)); break;
        case REF_SHIFTED: y[i] = x[i] + 7.25f; break;
        default: y[i] = x[i]; break;
        }
    }
    /* Banned tokens: -inf in both (never the target). */
    for (uint32_t n = 0; n < N; n++)
        for (uint32_t k = 0; k < neg_inf_per_row; k++) {
            uint32_t v = check_random_below(ctx, V);
            if (v == targets[n]) continue;
            x[(size_t)n * V + v] = y[(size_t)n * V + v] = -INFINITY;
        }
    bool with_kl = kind != REF_NONE;
    double *xd = check_to_double(ctx, x, NV), *yd = check_to_double(ctx, y, NV);
    double *ref_lp = check_doubles(ctx, N), *ref_h = check_doubles(ctx, N), *ref_kl = check_doubles(ctx, N);
    ref_token_logprobs(ref_lp, ref_h, ref_kl, xd, yd, targets, (int)N, (int)V);
    /* logprob = x_t - lse: the yardstick of its rounding is |lse| + |x_t| */
    double *magnitude = check_doubles(ctx, N);
    for (uint32_t n = 0; n < N; n++) {
        double t = xd[(size_t)n * V + targets[n]];
        magnitude[n] = fabs(t - ref_lp[n]) + fabs(t);
    }

    t2g_tensor logits = check_upload(ctx, x, NV), targets_t = check_upload(ctx, targets, N);
    t2g_tensor ref_logits = kind == REF_SAME_TENSOR ? logits : with_kl ? check_upload(ctx, y, NV) : (t2g_tensor){0};
    t2g_tensor logprobs = check_poisoned(ctx, N), entropy = check_poisoned(ctx, N), kl = check_poisoned(ctx, N);
    float *gpu[2][3];
    for (int run = 0; run < 2; run++) {
        check_poison(ctx, logprobs, N);
        check_poison(ctx, entropy, N);
        check_poison(ctx, kl, N);
        check_status(ctx,
                     t2g_token_logprobs(ctx->recorder, logprobs, with_entropy ? &entropy : NULL, with_kl ? &kl : NULL,
                                        logits, with_kl ? &ref_logits : NULL, targets_t, N, V, &ctx->err),
                     "token_logprobs");
        check_submit(ctx);
        gpu[run][0] = check_download(ctx, logprobs, N);
        gpu[run][1] = check_download(ctx, entropy, N);
        gpu[run][2] = check_download(ctx, kl, N);
    }
    const char *name = reference_names[kind];
    snprintf(label, sizeof label, "logprob N=%u V=%u offset=%g ref=%s", N, V, offset, name);
    check_bitwise(ctx, label, gpu[0][0], gpu[1][0], N);
    check_close_scaled(ctx, label, gpu[0][0], ref_lp, N, check_norm(magnitude, N), 1e-5);
    if (with_entropy) {
        snprintf(label, sizeof label, "entropy N=%u V=%u offset=%g -inf/row=%u", N, V, offset, neg_inf_per_row);
        check_bitwise(ctx, label, gpu[0][1], gpu[1][1], N);
        if (V == 1) check_close_scaled(ctx, label, gpu[0][1], ref_h, N, 1.0, 1e-6); /* exactly 0: absolute */
        else check_close(ctx, label, gpu[0][1], ref_h, N, 1e-5);
    } else {
        bool untouched = true;
        for (uint32_t n = 0; n < N; n++) untouched = untouched && isnan(gpu[0][1][n]);
        check_true(ctx, untouched, "entropy NULL: the poisoned tensor is not written (N=%u V=%u)", N, V);
    }
    if (with_kl) {
        snprintf(label, sizeof label, "kl N=%u V=%u ref=%s (max |kl| %.3g)", N, V, name, max_abs(gpu[0][2], N));
        check_bitwise(ctx, label, gpu[0][2], gpu[1][2], N);
        if (kind == REF_NOISY || kind == REF_INDEPENDENT) check_close(ctx, label, gpu[0][2], ref_kl, N, 1e-4);
        else if (kind == REF_SHIFTED) check_close_scaled(ctx, label, gpu[0][2], ref_kl, N, 1.0, 1e-5); /* absolute */
        else check_true(ctx, max_abs(gpu[0][2], N) <= 1e-6, "%s: |kl| <= 1e-6", label); /* the reference: 0 */
    }
}

static void logprob_arguments(check_ctx *ctx) {
    check_case_begin(ctx);
    t2g_tensor t = check_poisoned(ctx, 64);
    check_true(ctx,
               t2g_token_logprobs(ctx->recorder, t, NULL, &t, t, NULL, t, 4, 8, &ctx->err) == T2G_ERR_ARGUMENT,
               "token_logprobs refuses kl_full without ref_logits");
    check_true(ctx, t2g_token_logprobs(ctx->recorder, t, NULL, NULL, t, NULL, t, 4, 0, &ctx->err) == T2G_ERR_ARGUMENT,
               "token_logprobs refuses V = 0");
    check_true(ctx, t2g_token_logprobs(ctx->recorder, t, NULL, NULL, t, NULL, t, 4, 17, &ctx->err) == T2G_ERR_ARGUMENT,
               "token_logprobs refuses logits smaller than N * V");
}

T2G_CHECK(kl_token_logprob) {
    logprob_case(ctx, 5, 259, 2, 0, REF_NOISY, true, 0);
    if (ctx->quick) return ctx->failures;
    logprob_case(ctx, 7, 259, 2, 0, REF_INDEPENDENT, true, 3);
    logprob_case(ctx, 4, 259, 2, 0, REF_SAME, true, 0);
    logprob_case(ctx, 4, 259, 2, 0, REF_SAME_TENSOR, false, 2);
    logprob_case(ctx, 4, 259, 2, 0, REF_SHIFTED, true, 0);
    logprob_case(ctx, 3, 50257, 2.5, 0, REF_NOISY, true, 0);
    logprob_case(ctx, 2, 50257, 1, 40, REF_INDEPENDENT, true, 5);  /* logits far from 0 */
    logprob_case(ctx, 3, 50257, 3, 0, REF_SAME, true, 0);
    logprob_case(ctx, 1, 1, 1, 0, REF_NOISY, true, 0);             /* V = 1: logprob, entropy, KL all 0 */
    logprob_case(ctx, 6, 33, 4, 0, REF_NONE, false, 0);
    logprob_case(ctx, 9, 3, 1, -20, REF_NONE, true, 0);
    logprob_case(ctx, 70001, 2, 1, 0, REF_NOISY, true, 0);          /* more rows than one grid dimension */
    logprob_arguments(ctx);
    return ctx->failures;
}

/* ==== rewards ==== */

static void rewards_case(check_ctx *ctx, uint32_t N, bool with_kl_full, float beta) {
    check_case_begin(ctx);
    char label[128];
    float *scores = check_random_floats(ctx, N, -1, 1), *mask = check_host(ctx, N * sizeof *mask);
    float *lp = check_random_floats(ctx, N, -8, 0), *ref_lp = check_random_floats(ctx, N, -8, 0);
    float *kl_full = check_random_floats(ctx, N, 0, 2);
    for (uint32_t n = 0; n < N; n++) {
        mask[n] = check_random_below(ctx, 4) ? 1.0f : 0.0f;
        if (mask[n] == 0) scores[n] = lp[n] = ref_lp[n] = kl_full[n] = NAN; /* never read */
    }
    double *ref_rewards = check_doubles(ctx, N), *ref_kl = check_doubles(ctx, N);
    ref_ppo_rewards(ref_rewards, ref_kl, check_to_double(ctx, scores, N), check_to_double(ctx, mask, N),
                    check_to_double(ctx, lp, N), check_to_double(ctx, ref_lp, N),
                    with_kl_full ? check_to_double(ctx, kl_full, N) : NULL, beta, (int)N);

    t2g_tensor scores_t = check_upload(ctx, scores, N), mask_t = check_upload(ctx, mask, N);
    t2g_tensor lp_t = check_upload(ctx, lp, N), ref_lp_t = check_upload(ctx, ref_lp, N);
    t2g_tensor kl_full_t = check_upload(ctx, kl_full, N);
    t2g_tensor rewards = check_poisoned(ctx, N), kl = check_poisoned(ctx, N);
    float *gpu[2][2];
    for (int run = 0; run < 2; run++) {
        check_poison(ctx, rewards, N);
        check_poison(ctx, kl, N);
        check_status(ctx,
                     t2g_ppo_rewards(ctx->recorder, rewards, kl, scores_t, mask_t, lp_t, ref_lp_t,
                                     with_kl_full ? &kl_full_t : NULL, beta, N, &ctx->err),
                     "ppo_rewards");
        check_submit(ctx);
        gpu[run][0] = check_download(ctx, rewards, N);
        gpu[run][1] = check_download(ctx, kl, N);
    }
    const char *source = with_kl_full ? "full" : "k1";
    snprintf(label, sizeof label, "rewards N=%u kl=%s beta=%g", N, source, beta);
    check_bitwise(ctx, label, gpu[0][0], gpu[1][0], N);
    check_close(ctx, label, gpu[0][0], ref_rewards, N, 1e-5);
    snprintf(label, sizeof label, "rewards' kl N=%u kl=%s", N, source);
    check_bitwise(ctx, label, gpu[0][1], gpu[1][1], N);
    check_close(ctx, label, gpu[0][1], ref_kl, N, 1e-5);
}

T2G_CHECK(ppo_rewards) {
    rewards_case(ctx, 37, false, 0.05f);
    if (ctx->quick) return ctx->failures;
    rewards_case(ctx, 1, false, 0.1f);
    rewards_case(ctx, 37, true, 0.2f);
    rewards_case(ctx, 4099, false, 0.2f);
    rewards_case(ctx, 65535u * 256u + 77u, true, 0.05f); /* more elements than one grid covers */
    return ctx->failures;
}

/* ==== GAE ==== */

/* mask: per sequence one contiguous run [first, first + length) (length 0 possible), or with
 * `gaps`, a few runs (the recursion then links each masked position to the next masked one).
 * Rewards and values outside the mask are NaN: never read. */
/* The yardsticks of GAE's sums, whose results can cancel (delta = r + gamma V' - V; with T = 1,
 * R = (r - V) + V): the same recursion over the terms' magnitudes, |r| + gamma |V'| + |V|
 * discounted by gamma lambda, and |A| + |V| for the returns. */
static void gae_magnitudes(double *mag_a, double *mag_r, const float *rewards, const float *values, const float *mask,
                           uint32_t B, uint32_t T, double gamma, double lambda) {
    for (uint32_t b = 0; b < B; b++) {
        double next_value = 0, next_mag = 0;
        for (uint32_t t = T; t-- > 0;) {
            size_t i = (size_t)b * T + t;
            if (mask[i] == 0) {
                mag_a[i] = mag_r[i] = 0;
                continue;
            }
            double v = fabs(values[i]);
            mag_a[i] = fabs(rewards[i]) + gamma * next_value + v + gamma * lambda * next_mag;
            mag_r[i] = mag_a[i] + v;
            next_value = v;
            next_mag = mag_a[i];
        }
    }
}

static void gae_case(check_ctx *ctx, uint32_t B, uint32_t T, float gamma, float lambda, bool gaps) {
    check_case_begin(ctx);
    char label[128];
    size_t BT = (size_t)B * T;
    float *rewards = check_random_floats(ctx, BT, -1, 1), *values = check_random_floats(ctx, BT, -2, 2);
    float *mask = check_host(ctx, BT * sizeof *mask);
    for (uint32_t b = 0; b < B; b++) {
        uint32_t first = b % 4 == 0 ? 0 : check_random_below(ctx, T + 1);
        uint32_t length = b % 4 == 1 ? T - first : check_random_below(ctx, T - first + 1);
        for (uint32_t t = 0; t < T; t++) {
            bool in = t >= first && t < first + length;
            if (gaps && check_random_below(ctx, 3) == 0) in = !in;
            mask[(size_t)b * T + t] = in ? 1.0f : 0.0f;
        }
    }
    for (size_t i = 0; i < BT; i++)
        if (mask[i] == 0) rewards[i] = values[i] = NAN;
    double *ref_a = check_doubles(ctx, BT), *ref_r = check_doubles(ctx, BT);
    ref_gae(ref_a, ref_r, check_to_double(ctx, rewards, BT), check_to_double(ctx, values, BT),
            check_to_double(ctx, mask, BT), (int)B, (int)T, gamma, lambda);

    t2g_tensor rewards_t = check_upload(ctx, rewards, BT), values_t = check_upload(ctx, values, BT);
    t2g_tensor mask_t = check_upload(ctx, mask, BT);
    t2g_tensor advantages = check_poisoned(ctx, BT), returns = check_poisoned(ctx, BT);
    float *gpu[2][2];
    for (int run = 0; run < 2; run++) {
        check_poison(ctx, advantages, BT);
        check_poison(ctx, returns, BT);
        check_status(ctx,
                     t2g_gae(ctx->recorder, advantages, returns, rewards_t, values_t, mask_t, B, T, gamma, lambda,
                             &ctx->err),
                     "gae");
        check_submit(ctx);
        gpu[run][0] = check_download(ctx, advantages, BT);
        gpu[run][1] = check_download(ctx, returns, BT);
    }
    snprintf(label, sizeof label, "gae advantages B=%u T=%u gamma=%g lambda=%g%s", B, T, gamma, lambda,
             gaps ? " gaps" : "");
    double *mag_a = check_doubles(ctx, BT), *mag_r = check_doubles(ctx, BT);
    gae_magnitudes(mag_a, mag_r, rewards, values, mask, B, T, gamma, lambda);
    check_bitwise(ctx, label, gpu[0][0], gpu[1][0], BT);
    check_close_scaled(ctx, label, gpu[0][0], ref_a, BT, check_norm(mag_a, BT), 1e-5);
    snprintf(label, sizeof label, "gae returns B=%u T=%u gamma=%g lambda=%g%s", B, T, gamma, lambda,
             gaps ? " gaps" : "");
    check_bitwise(ctx, label, gpu[0][1], gpu[1][1], BT);
    check_close_scaled(ctx, label, gpu[0][1], ref_r, BT, check_norm(mag_r, BT), 1e-5);
}

T2G_CHECK(gae) {
    gae_case(ctx, 6, 37, 1.0f, 0.95f, false);
    if (ctx->quick) return ctx->failures;
    gae_case(ctx, 5, 1, 1.0f, 0.95f, false);   /* T = 1 */
    gae_case(ctx, 1, 1, 0.9f, 0.95f, false);
    gae_case(ctx, 7, 50, 0.9f, 0.95f, false);  /* gamma 0.9 */
    gae_case(ctx, 9, 41, 1.0f, 0.95f, true);   /* masks with gaps */
    gae_case(ctx, 131, 1029, 1.0f, 0.95f, false);
    gae_case(ctx, 70, 300, 0.9f, 0.5f, false);
    return ctx->failures;
}

/* ==== whitening ==== */

typedef enum mask_kind { MASK_RANDOM, MASK_ALL, MASK_NONE, MASK_ONE, MASK_TWO } mask_kind;

static void whiten_case(check_ctx *ctx, uint32_t N, double offset, double spread, mask_kind kind) {
    check_case_begin(ctx);
    char label[128];
    float *x = check_host(ctx, N * sizeof *x), *mask = check_host(ctx, N * sizeof *mask);
    for (uint32_t i = 0; i < N; i++) {
        x[i] = (float)(offset + spread * check_normal(ctx));
        mask[i] = kind == MASK_ALL || (kind == MASK_RANDOM && check_random_below(ctx, 10) < 7) ? 1.0f : 0.0f;
    }
    if (kind == MASK_ONE || kind == MASK_TWO) mask[check_random_below(ctx, N)] = 1.0f;
    if (kind == MASK_TWO) {
        uint32_t i;
        do i = check_random_below(ctx, N);
        while (mask[i] != 0);
        mask[i] = 1.0f;
    }
    for (uint32_t i = 0; i < N; i++)
        if (mask[i] == 0 && i % 2) x[i] = NAN; /* outside the mask: never read, always 0 */
    double *ref_x = check_to_double(ctx, x, N);
    ref_whiten(ref_x, check_to_double(ctx, mask, N), N);

    t2g_tensor x_t = check_upload(ctx, x, N), mask_t = check_upload(ctx, mask, N);
    float *gpu[2];
    for (int run = 0; run < 2; run++) {
        check_reupload(ctx, x_t, x, N);
        check_status(ctx, t2g_whiten(ctx->recorder, x_t, mask_t, N, &ctx->err), "whiten");
        check_submit(ctx);
        gpu[run] = check_download(ctx, x_t, N);
    }
    static const char *const kinds[] = {"70%", "all", "none", "one", "two"};
    snprintf(label, sizeof label, "whiten N=%u x~%g+%g*N(0,1) mask=%s", N, offset, spread, kinds[kind]);
    check_bitwise(ctx, label, gpu[0], gpu[1], N);
    check_close(ctx, label, gpu[0], ref_x, N, 1e-5);
}

T2G_CHECK(whiten) {
    whiten_case(ctx, 1000, 0.5, 2, MASK_RANDOM);
    if (ctx->quick) return ctx->failures;
    whiten_case(ctx, 1, 3, 1, MASK_ALL);    /* fewer than 2: x - mean = 0 */
    whiten_case(ctx, 1, 3, 1, MASK_NONE);
    whiten_case(ctx, 37, 3, 1, MASK_ONE);
    whiten_case(ctx, 37, 3, 1, MASK_TWO);
    whiten_case(ctx, 37, 3, 1, MASK_NONE);
    whiten_case(ctx, 4099, 1000, 0.01, MASK_RANDOM); /* a mean far from 0 compared with the spread */
    whiten_case(ctx, 100003, -2, 5, MASK_ALL);       /* many slices */
    whiten_case(ctx, 3000017, 50, 3, MASK_RANDOM);
    return ctx->failures;
}

/* ==== the value head ==== */

typedef struct value_head_loss {
    const double *hidden, *weight, *g;
    double *values;
    int N, C;
} value_head_loss;

/* sum_n g_n values_n: its gradients are what the backward computes from dvalues = g */
static double value_head_loss_of(void *user) {
    value_head_loss *l = user;
    ref_value_head_forward(l->values, l->hidden, l->weight, l->N, l->C);
    double sum = 0;
    for (int n = 0; n < l->N; n++) sum += l->g[n] * l->values[n];
    return sum;
}

static void value_head_case(check_ctx *ctx, uint32_t N, uint32_t C) {
    check_case_begin(ctx);
    char label[128];
    size_t NC = (size_t)N * C;
    float *h = check_random_floats(ctx, NC, -2, 2), *w = check_random_floats(ctx, C + 1, -1, 1);
    float *g = check_random_floats(ctx, N, -1, 1);
    float *dhidden0 = check_random_floats(ctx, NC, -1, 1), *dweight0 = check_random_floats(ctx, C + 1, -1, 1);
    double *hd = check_to_double(ctx, h, NC), *wd = check_to_double(ctx, w, C + 1), *gd = check_to_double(ctx, g, N);
    double *ref_values = check_doubles(ctx, N);
    double *ref_dhidden = check_to_double(ctx, dhidden0, NC), *ref_dweight = check_to_double(ctx, dweight0, C + 1);
    ref_value_head_forward(ref_values, hd, wd, (int)N, (int)C);
    ref_value_head_backward(ref_dhidden, ref_dweight, gd, hd, wd, (int)N, (int)C);
    /* Yardsticks of sums that may cancel: sum |h w| + |bias| per value; |dweight0| + sum |g h|. */
    double *value_magnitude = check_doubles(ctx, N);
    double *dweight_magnitude = check_abs(ctx, check_to_double(ctx, dweight0, C + 1), C + 1);
    double *dhidden_magnitude = check_abs(ctx, check_to_double(ctx, dhidden0, NC), NC);
    for (uint32_t n = 0; n < N; n++) {
        value_magnitude[n] = fabs(wd[C]);
        for (uint32_t c = 0; c < C; c++) {
            double hw = hd[(size_t)n * C + c] * wd[c], gh = gd[n] * hd[(size_t)n * C + c];
            value_magnitude[n] += fabs(hw);
            dweight_magnitude[c] += fabs(gh);
            dhidden_magnitude[(size_t)n * C + c] += fabs(gd[n] * wd[c]);
        }
        dweight_magnitude[C] += fabs(gd[n]);
    }

    t2g_tensor hidden = check_upload(ctx, h, NC), weight = check_upload(ctx, w, C + 1);
    t2g_tensor dvalues = check_upload(ctx, g, N);
    t2g_tensor values = check_poisoned(ctx, N), dhidden = check_poisoned(ctx, NC), dweight = check_poisoned(ctx, C + 1);
    float *gpu[2][3];
    for (int run = 0; run < 2; run++) {
        check_poison(ctx, values, N);
        check_reupload(ctx, dhidden, dhidden0, NC);
        check_reupload(ctx, dweight, dweight0, C + 1);
        check_status(ctx, t2g_value_head_forward(ctx->recorder, values, hidden, weight, N, C, &ctx->err),
                     "value_head_forward");
        check_status(ctx,
                     t2g_value_head_backward(ctx->recorder, dhidden, dweight, dvalues, hidden, weight, N, C, &ctx->err),
                     "value_head_backward");
        check_submit(ctx);
        gpu[run][0] = check_download(ctx, values, N);
        gpu[run][1] = check_download(ctx, dhidden, NC);
        gpu[run][2] = check_download(ctx, dweight, C + 1);
    }
    snprintf(label, sizeof label, "value head forward N=%u C=%u", N, C);
    check_bitwise(ctx, label, gpu[0][0], gpu[1][0], N);
    check_close_scaled(ctx, label, gpu[0][0], ref_values, N, check_norm(value_magnitude, N), 1e-5);
    snprintf(label, sizeof label, "value head dhidden N=%u C=%u", N, C);
    check_bitwise(ctx, label, gpu[0][1], gpu[1][1], NC);
    check_close_scaled(ctx, label, gpu[0][1], ref_dhidden, NC, check_norm(dhidden_magnitude, NC), 1e-5);
    snprintf(label, sizeof label, "value head dweight N=%u C=%u", N, C);
    check_bitwise(ctx, label, gpu[0][2], gpu[1][2], C + 1);
    check_close_scaled(ctx, label, gpu[0][2], ref_dweight, C + 1, check_norm(dweight_magnitude, C + 1), 1e-5);

    if (NC <= 100000) {
        /* The reference backward (from zero gradients) against finite differences. */
        double *dh = check_doubles(ctx, NC), *dw = check_doubles(ctx, C + 1);
        ref_value_head_backward(dh, dw, gd, hd, wd, (int)N, (int)C);
        value_head_loss l = {hd, wd, gd, check_doubles(ctx, N), (int)N, (int)C};
        snprintf(label, sizeof label, "value head reference dhidden vs finite diff N=%u C=%u", N, C);
        check_finite_differences(ctx, label, value_head_loss_of, &l, hd, dh, NC, 256, 1e-6);
        snprintf(label, sizeof label, "value head reference dweight vs finite diff N=%u C=%u", N, C);
        check_finite_differences(ctx, label, value_head_loss_of, &l, wd, dw, C + 1, 256, 1e-6);
    }
}

T2G_CHECK(value_head) {
    value_head_case(ctx, 37, 64);
    if (ctx->quick) return ctx->failures;
    value_head_case(ctx, 1, 1);
    value_head_case(ctx, 5, 3);
    value_head_case(ctx, 130, 768);
    value_head_case(ctx, 513, 77);
    value_head_case(ctx, 1000, 1025);
    value_head_case(ctx, 65535u * 256u + 3u, 1); /* more workgroups and row chunks than one grid dimension */
    return ctx->failures;
}
