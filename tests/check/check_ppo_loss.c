/* The clipped PPO losses (t2g_ppo_loss) against tests/ref/rl.c, the reference's gradients
 * against finite differences of its scalar losses, and the composed policy gradient:
 * logits -> t2g_token_logprobs -> t2g_ppo_loss -> t2g_crossentropy_forward_backward (weights =
 * policy_weights, dloss = 1) against finite differences of s * sum(policy loss) in the logits.
 *
 * Inputs stay at least 1e-3 away from every kink (ratio = 1 +- clip, |log ratio| = clamp,
 * |values - old_values| = value_clip, equal value-loss terms): there the float kernel and the
 * double reference may take different branches, and finite differences are meaningless. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "ref/ref.h"
#include "ref/rl_ref.h"
#include "t2g/rl_kernels.h"

#define KINK_MARGIN 1e-3

typedef struct ppo_inputs {
    float *logprobs, *old_logprobs, *advantages, *values, *old_values, *returns, *mask; /* (N) each */
    uint32_t masked;
} ppo_inputs;

/* Random inputs: 80% masked; of those, a `clamped` fraction with |log ratio| past the clamp,
 * the rest with ratios on both sides of the clip range; value changes inside and outside the
 * value clip. With `cycle`, position n takes branch n % 5 instead of a random one: ratio inside
 * the clip range; outside it and clipped (no gradient); outside it on the side that keeps the
 * gradient (pg1 > pg2); clamped (inside if clamped = 0); masked out (except when N = 1).
 * logprobs: given (e.g. from logits), or drawn. Masked-out positions hold NaN (except given
 * logprobs): the kernel must not read them. */
static void draw_inputs(check_ctx *ctx, uint32_t N, const t2g_ppo_settings *k, double clamped, bool cycle,
                        const float *given, ppo_inputs *in) {
    float **arrays[] = {&in->logprobs, &in->old_logprobs, &in->advantages, &in->values,
                        &in->old_values, &in->returns, &in->mask};
    for (size_t a = 0; a < sizeof arrays / sizeof *arrays; a++) *arrays[a] = check_host(ctx, N * sizeof(float));
    in->masked = 0;
    for (uint32_t n = 0; n < N; n++) {
        enum { INSIDE, CLIPPED, OUTSIDE, CLAMPED, UNMASKED, RANDOM };
        uint32_t branch = cycle ? n % 5 : RANDOM;
        bool masked = N == 1 || (cycle ? branch != UNMASKED : check_random_below(ctx, 5) != 0);
        in->mask[n] = masked ? 1.0f : 0.0f;
        in->logprobs[n] = given ? given[n] : (float)check_uniform(ctx, -6, -0.05);
        if (!masked) {
            if (!given) in->logprobs[n] = NAN;
            in->old_logprobs[n] = in->advantages[n] = in->values[n] = in->old_values[n] = in->returns[n] = NAN;
            continue;
        }
        in->masked++;
        for (;;) { /* the policy's inputs */
            double lr = check_uniform(ctx, -0.6, 0.6), sign = check_random_below(ctx, 2) ? 1 : -1;
            double lo = log(1 - k->clip), hi = log(1 + k->clip); /* the clip range of lr */
            if (branch == INSIDE || (branch == CLAMPED && clamped == 0)) lr = check_uniform(ctx, lo, hi);
            else if (branch == CLIPPED || branch == OUTSIDE)
                lr = sign > 0 ? hi + check_uniform(ctx, 0.01, 0.5) : lo - check_uniform(ctx, 0.01, 0.5);
            if (branch == CLAMPED ? clamped > 0 : branch == RANDOM && check_uniform(ctx, 0, 1) < clamped)
                lr = sign * (k->log_ratio_clamp + check_uniform(ctx, 0.5, 3));
            in->old_logprobs[n] = (float)(in->logprobs[n] - lr);
            double raw = (double)in->logprobs[n] - in->old_logprobs[n], ratio = exp(raw);
            if (fabs(ratio - (1 - k->clip)) > KINK_MARGIN && fabs(ratio - (1 + k->clip)) > KINK_MARGIN &&
                fabs(fabs(raw) - k->log_ratio_clamp) > KINK_MARGIN)
                break;
        }
        do in->advantages[n] = (float)check_normal(ctx);
        while (fabs(in->advantages[n]) < KINK_MARGIN);
        /* clipped: A pushes the ratio further out (A > 0 above the range, A < 0 below) */
        bool above = in->logprobs[n] > in->old_logprobs[n];
        bool positive = in->advantages[n] > 0;
        if ((branch == CLIPPED && positive != above) || (branch == OUTSIDE && positive == above))
            in->advantages[n] = -in->advantages[n];
        for (;;) { /* the value's inputs */
            in->old_values[n] = (float)check_normal(ctx);
            in->values[n] = (float)(in->old_values[n] + check_uniform(ctx, -0.6, 0.6));
            in->returns[n] = (float)check_normal(ctx);
            double change = (double)in->values[n] - in->old_values[n];
            if (fabs(fabs(change) - k->value_clip) <= KINK_MARGIN) continue;
            if (fabs(change) < k->value_clip) break; /* inside the clip: no second branch */
            double vc = in->old_values[n] + (change > 0 ? k->value_clip : -k->value_clip);
            if (fabs(in->values[n] + vc - 2.0 * in->returns[n]) > 2 * KINK_MARGIN) break; /* the terms differ */
        }
    }
}

typedef struct ppo_doubles {
    double *logprobs, *old_logprobs, *advantages, *values, *old_values, *returns, *mask;
} ppo_doubles;

static ppo_doubles to_doubles(check_ctx *ctx, const ppo_inputs *in, uint32_t N) {
    return (ppo_doubles){check_to_double(ctx, in->logprobs, N),   check_to_double(ctx, in->old_logprobs, N),
                         check_to_double(ctx, in->advantages, N), check_to_double(ctx, in->values, N),
                         check_to_double(ctx, in->old_values, N), check_to_double(ctx, in->returns, N),
                         check_to_double(ctx, in->mask, N)};
}

static ref_ppo_settings ref_settings(const t2g_ppo_settings *k) {
    return (ref_ppo_settings){k->clip, k->value_clip, k->value_coef, k->log_ratio_clamp};
}

/* ---- finite differences of the reference's scalar losses ---- */

typedef struct ppo_loss_fd {
    ppo_doubles in;
    ref_ppo_settings settings;
    double scale;
    double *policy_weights, *dvalues, *stats; /* scratch of the reference */
    int N;
    int row; /* 0: s * sum policy loss; 1: s * value_coef * sum value loss */
} ppo_loss_fd;

static double ppo_loss_of(void *user) {
    ppo_loss_fd *l = user;
    ref_ppo_loss(l->policy_weights, l->dvalues, l->stats, l->in.logprobs, l->in.old_logprobs, l->in.advantages,
                 l->in.values, l->in.old_values, l->in.returns, l->in.mask, l->N, &l->settings, l->scale);
    double sum = 0;
    for (int n = 0; n < l->N; n++) sum += l->stats[(size_t)l->row * l->N + n]; /* 0 where unmasked */
    return l->scale * (l->row == 1 ? l->settings.value_coef : 1.0) * sum;
}

static void ppo_finite_differences(check_ctx *ctx, ppo_doubles in, uint32_t N, const ref_ppo_settings *settings,
                                   double scale, const double *ref_weights, const double *ref_dvalues) {
    char label[128];
    ppo_loss_fd l = {in,     *settings, scale, check_doubles(ctx, N), check_doubles(ctx, N),
                     check_doubles(ctx, 4 * (size_t)N), (int)N, 0};
    /* d(s sum policy loss)/d logprobs = -policy_weights (the gradient of -w logp) */
    double *minus_weights = check_doubles(ctx, N);
    for (uint32_t n = 0; n < N; n++) minus_weights[n] = -ref_weights[n];
    /* every coordinate (samples = N); masked-out ones must come out 0 on both sides */
    snprintf(label, sizeof label, "ppo reference -policy_weights vs finite diff N=%u L=%g", N,
             settings->log_ratio_clamp);
    check_finite_differences(ctx, label, ppo_loss_of, &l, in.logprobs, minus_weights, N, N, 1e-6);
    l.row = 1;
    snprintf(label, sizeof label, "ppo reference dvalues vs finite diff N=%u", N);
    check_finite_differences(ctx, label, ppo_loss_of, &l, in.values, ref_dvalues, N, N, 1e-6);
}

/* ---- the kernel against the reference ---- */

static void ppo_loss_case(check_ctx *ctx, uint32_t N, uint32_t stride, const t2g_ppo_settings *k, double clamped,
                          bool unit_scale) {
    check_case_begin(ctx);
    char label[160];
    ppo_inputs in;
    draw_inputs(ctx, N, k, clamped, false, NULL, &in);
    double scale = unit_scale ? 0.37 : 1.0 / (in.masked ? in.masked : 1);
    ppo_doubles d = to_doubles(ctx, &in, N);
    ref_ppo_settings rk = ref_settings(k);
    double *ref_weights = check_doubles(ctx, N), *ref_dvalues = check_doubles(ctx, N);
    double *ref_stats = check_doubles(ctx, 4 * (size_t)N);
    ref_ppo_loss(ref_weights, ref_dvalues, ref_stats, d.logprobs, d.old_logprobs, d.advantages, d.values,
                 d.old_values, d.returns, d.mask, (int)N, &rk, scale);

    float *const inputs[] = {in.logprobs,   in.old_logprobs, in.advantages, in.values,
                             in.old_values, in.returns,      in.mask};
    t2g_tensor t[7];
    for (int i = 0; i < 7; i++) t[i] = check_upload(ctx, inputs[i], N);
    t2g_tensor weights = check_poisoned(ctx, N), dvalues = check_poisoned(ctx, N);
    t2g_tensor stats = check_poisoned(ctx, 4 * (size_t)stride);
    float *gpu[2][3];
    for (int run = 0; run < 2; run++) {
        check_poison(ctx, weights, N);
        check_poison(ctx, dvalues, N);
        check_poison(ctx, stats, 4 * (size_t)stride);
        check_status(ctx,
                     t2g_ppo_loss(ctx->recorder, weights, dvalues, stats, stride, t[0], t[1], t[2], t[3], t[4], t[5],
                                  t[6], N, k, (float)scale, &ctx->err),
                     "ppo_loss");
        check_submit(ctx);
        gpu[run][0] = check_download(ctx, weights, N);
        gpu[run][1] = check_download(ctx, dvalues, N);
        gpu[run][2] = check_download(ctx, stats, 4 * (size_t)stride);
    }
    snprintf(label, sizeof label, "ppo policy_weights N=%u clip=%g L=%g", N, k->clip, k->log_ratio_clamp);
    check_bitwise(ctx, label, gpu[0][0], gpu[1][0], N);
    check_close(ctx, label, gpu[0][0], ref_weights, N, 1e-5);
    snprintf(label, sizeof label, "ppo dvalues N=%u value_clip=%g", N, k->value_clip);
    check_bitwise(ctx, label, gpu[0][1], gpu[1][1], N);
    check_close(ctx, label, gpu[0][1], ref_dvalues, N, 1e-5);
    static const char *const rows[] = {"policy loss", "value loss", "clipped", "approx kl"};
    for (int row = 0; row < 4; row++) {
        snprintf(label, sizeof label, "ppo stats %s N=%u stride=%u", rows[row], N, stride);
        const float *a = gpu[0][2] + (size_t)row * stride, *b = gpu[1][2] + (size_t)row * stride;
        check_bitwise(ctx, label, a, b, N);
        /* clipped is 0 or 1: exactly */
        check_close(ctx, label, a, ref_stats + (size_t)row * N, N, row == 2 ? 0.0 : 1e-5);
    }
    /* the branches this case covered */
    uint32_t clipped = 0, clamped_count = 0, zero_weight = 0, value_outside = 0, value_flat = 0;
    for (uint32_t n = 0; n < N; n++) {
        if (in.mask[n] == 0) continue;
        clipped += ref_stats[2 * (size_t)N + n] != 0;
        clamped_count += fabs((double)in.logprobs[n] - in.old_logprobs[n]) > k->log_ratio_clamp;
        zero_weight += ref_weights[n] == 0;
        value_outside += fabs((double)in.values[n] - in.old_values[n]) > k->value_clip;
        value_flat += ref_dvalues[n] == 0;
    }
    check_log(ctx,
              "  (%u masked: %u clipped, %u with a clamped log ratio, %u with weight 0; %u values outside the "
              "clip, %u of them on the flat clipped term)",
              in.masked, clipped, clamped_count, zero_weight, value_outside, value_flat);

    /* Finite differences, where exp(clamp) keeps the loss's rounding far below the step's effect. */
    if (N <= 4099 && (clamped == 0 || k->log_ratio_clamp <= 5)) {
        /* NaN inputs of unmasked positions: the reference never reads them, but a perturbed
         * NaN stays NaN; replace them by 0 for the finite differences. */
        double *arrays[] = {d.logprobs, d.old_logprobs, d.advantages, d.values, d.old_values, d.returns};
        for (size_t a = 0; a < 6; a++)
            for (uint32_t n = 0; n < N; n++)
                if (isnan(arrays[a][n])) arrays[a][n] = 0;
        ppo_finite_differences(ctx, d, N, &rk, scale, ref_weights, ref_dvalues);
    }
}

static void ppo_loss_arguments(check_ctx *ctx) {
    check_case_begin(ctx);
    t2g_ppo_settings k = {0.2f, 0.2f, 0.1f, 20.0f};
    t2g_tensor t = check_poisoned(ctx, 4 * 128);
    check_true(ctx,
               t2g_ppo_loss(ctx->recorder, t, t, t, 100, t, t, t, t, t, t, t, 50, &k, 1.0f, &ctx->err) ==
                   T2G_ERR_ARGUMENT,
               "ppo_loss refuses a stats_stride that is not a multiple of 64");
    check_true(ctx,
               t2g_ppo_loss(ctx->recorder, t, t, t, 64, t, t, t, t, t, t, t, 65, &k, 1.0f, &ctx->err) ==
                   T2G_ERR_ARGUMENT,
               "ppo_loss refuses a stats_stride below N");
    check_true(ctx,
               t2g_ppo_loss(ctx->recorder, t, t, t, 192, t, t, t, t, t, t, t, 65, &k, 1.0f, &ctx->err) ==
                   T2G_ERR_ARGUMENT,
               "ppo_loss refuses stats smaller than 4 * stats_stride");
    check_true(ctx,
               t2g_ppo_loss(ctx->recorder, t, t, t, 64, t, t, t, t, t, t, t, 50, NULL, 1.0f, &ctx->err) ==
                   T2G_ERR_ARGUMENT,
               "ppo_loss refuses missing settings");
}

/* Non-finite inputs at masked positions: NaN, +Inf or -Inf in one input each; the position's
 * policy weight and loss (policy inputs) or dvalue and value loss (value inputs) must be NaN, as
 * in the reference, and every other position must match the reference as usual. */
static void ppo_loss_poisoned(check_ctx *ctx, uint32_t N) {
    check_case_begin(ctx);
    const t2g_ppo_settings k = {0.2f, 0.2f, 0.1f, 20.0f};
    ppo_inputs in;
    draw_inputs(ctx, N, &k, 0.1, false, NULL, &in);
    float *arrays[6] = {in.logprobs, in.old_logprobs, in.advantages, in.values, in.old_values, in.returns};
    static const float poisons[3] = {NAN, INFINITY, -INFINITY};
    bool *poisoned = check_host(ctx, N * sizeof *poisoned);
    for (uint32_t n = 0, i = 0; n < N; n++) {
        poisoned[n] = in.mask[n] != 0 && n % 3 == 0;
        if (poisoned[n]) arrays[i % 6][n] = poisons[(i / 6) % 3], i++;
    }
    ppo_doubles d = to_doubles(ctx, &in, N);
    ref_ppo_settings rk = ref_settings(&k);
    double *ref_out[3] = {check_doubles(ctx, N), check_doubles(ctx, N), check_doubles(ctx, 4 * (size_t)N)};
    ref_ppo_loss(ref_out[0], ref_out[1], ref_out[2], d.logprobs, d.old_logprobs, d.advantages, d.values, d.old_values,
                 d.returns, d.mask, (int)N, &rk, 0.5);
    float *const inputs[] = {in.logprobs, in.old_logprobs, in.advantages, in.values, in.old_values, in.returns, in.mask};
    t2g_tensor t[7];
    for (int i = 0; i < 7; i++) t[i] = check_upload(ctx, inputs[i], N);
    t2g_tensor weights = check_poisoned(ctx, N), dvalues = check_poisoned(ctx, N), stats = check_poisoned(ctx, 4 * 64);
    check_status(ctx,
                 t2g_ppo_loss(ctx->recorder, weights, dvalues, stats, 64, t[0], t[1], t[2], t[3], t[4], t[5], t[6], N,
                              &k, 0.5f, &ctx->err),
                 "ppo_loss");
    check_submit(ctx);
    /* weights, dvalues, policy loss, value loss: GPU and reference side by side */
    const float *gpu[4] = {check_download(ctx, weights, N), check_download(ctx, dvalues, N), NULL, NULL};
    float *all_stats = check_download(ctx, stats, 4 * 64);
    gpu[2] = all_stats;
    gpu[3] = all_stats + 64;
    const double *ref[4] = {ref_out[0], ref_out[1], ref_out[2], ref_out[2] + N};
    static const char *const names[4] = {"policy weights", "dvalues", "policy loss", "value loss"};
    for (int o = 0; o < 4; o++) {
        float *finite_gpu = check_host(ctx, N * sizeof(float));
        double *finite_ref = check_doubles(ctx, N);
        uint32_t nan_mismatch = 0;
        for (uint32_t n = 0; n < N; n++) {
            bool want_nan = isnan(ref[o][n]);
            nan_mismatch += want_nan != (bool)isnan(gpu[o][n]);
            finite_gpu[n] = want_nan ? 0.0f : gpu[o][n];
            finite_ref[n] = want_nan ? 0.0 : ref[o][n];
        }
        char label[128];
        snprintf(label, sizeof label, "ppo poisoned N=%u %s (finite positions)", N, names[o]);
        check_true(ctx, nan_mismatch == 0, "ppo poisoned N=%u %s: NaN exactly where the reference has NaN (%u differ)",
                   N, names[o], nan_mismatch);
        check_close(ctx, label, finite_gpu, finite_ref, N, 1e-5);
    }
    uint32_t nan_anywhere = 0;
    for (uint32_t n = 0; n < N; n++) nan_anywhere += poisoned[n] && !isnan(ref[0][n]) && !isnan(ref[1][n]);
    check_true(ctx, nan_anywhere == 0, "every poisoned position gives NaN in the policy or the value gradient");
}

T2G_CHECK(ppo_loss_nonfinite) {
    ppo_loss_poisoned(ctx, 37);
    return ctx->failures;
}

T2G_CHECK(ppo_loss) {
    const t2g_ppo_settings defaults = {0.2f, 0.2f, 0.1f, 20.0f}, other = {0.1f, 0.5f, 0.5f, 1.5f};
    ppo_loss_case(ctx, 37, 64, &defaults, 0.1, false);
    if (ctx->quick) return ctx->failures;
    ppo_loss_case(ctx, 1, 64, &defaults, 0.0, false);
    ppo_loss_case(ctx, 37, 128, &other, 0.15, true);
    ppo_loss_case(ctx, 1000, 1024, &defaults, 0.0, false); /* finite differences at the defaults */
    ppo_loss_case(ctx, 4099, 4160, &other, 0.1, false);
    ppo_loss_case(ctx, 100003, 100032, &defaults, 0.1, false);
    ppo_loss_arguments(ctx);
    return ctx->failures;
}

/* ==== composed: the policy gradient through the logits ==== */

typedef struct composed_fd {
    const double *logits;
    const uint32_t *targets;
    ppo_doubles in; /* in.logprobs: scratch, recomputed from the logits */
    ref_ppo_settings settings;
    double scale;
    double *policy_weights, *dvalues, *stats;
    int N, V;
} composed_fd;

/* s * sum policy loss, as a function of the logits */
static double composed_loss_of(void *user) {
    composed_fd *l = user;
    ref_token_logprobs(l->in.logprobs, NULL, NULL, l->logits, NULL, l->targets, l->N, l->V);
    ref_ppo_loss(l->policy_weights, l->dvalues, l->stats, l->in.logprobs, l->in.old_logprobs, l->in.advantages,
                 l->in.values, l->in.old_values, l->in.returns, l->in.mask, l->N, &l->settings, l->scale);
    double sum = 0;
    for (int n = 0; n < l->N; n++) sum += l->stats[n];
    return l->scale * sum;
}

static void composed_case(check_ctx *ctx, uint32_t N, uint32_t V, const t2g_ppo_settings *k, double clamped,
                          size_t samples) {
    check_case_begin(ctx);
    char label[160];
    size_t NV = (size_t)N * V;
    float *logits = check_normal_floats(ctx, NV, 2.0);
    uint32_t *targets = check_random_tokens(ctx, N, V);
    double *xd = check_to_double(ctx, logits, NV);
    double *ref_lp = check_doubles(ctx, N);
    ref_token_logprobs(ref_lp, NULL, NULL, xd, NULL, targets, (int)N, (int)V);
    float *lp = check_host(ctx, N * sizeof *lp);
    for (uint32_t n = 0; n < N; n++) lp[n] = (float)ref_lp[n];
    ppo_inputs in;
    draw_inputs(ctx, N, k, clamped, true, lp, &in); /* ratios from the logits' own log-probabilities */
    double scale = 1.0 / (in.masked ? in.masked : 1);
    ppo_doubles d = to_doubles(ctx, &in, N);
    d.logprobs = ref_lp;
    ref_ppo_settings rk = ref_settings(k);

    /* The reference chain: policy weights, then cross-entropy's dlogits with them. */
    double *ref_weights = check_doubles(ctx, N), *ref_dvalues = check_doubles(ctx, N);
    double *ref_stats = check_doubles(ctx, 4 * (size_t)N);
    ref_ppo_loss(ref_weights, ref_dvalues, ref_stats, d.logprobs, d.old_logprobs, d.advantages, d.values,
                 d.old_values, d.returns, d.mask, (int)N, &rk, scale);
    double *ref_losses = check_doubles(ctx, N), *ref_dlogits = check_doubles(ctx, NV);
    ref_crossentropy_forward_backward(ref_losses, ref_dlogits, xd, targets, ref_weights, (int)N, (int)V, 1.0);

    uint32_t stride = (N + 63) / 64 * 64;
    t2g_tensor logits_t = check_upload(ctx, logits, NV), targets_t = check_upload(ctx, targets, N);
    float *const inputs[] = {in.old_logprobs, in.advantages, in.values, in.old_values, in.returns, in.mask};
    t2g_tensor t[6];
    for (int i = 0; i < 6; i++) t[i] = check_upload(ctx, inputs[i], N);
    t2g_tensor logprobs = check_poisoned(ctx, N), weights = check_poisoned(ctx, N), dvalues = check_poisoned(ctx, N);
    t2g_tensor stats = check_poisoned(ctx, 4 * (size_t)stride), losses = check_poisoned(ctx, N);
    t2g_tensor dlogits = check_poisoned(ctx, NV);
    float *gpu[2];
    for (int run = 0; run < 2; run++) {
        check_poison(ctx, logprobs, N);
        check_poison(ctx, weights, N);
        check_poison(ctx, dlogits, NV);
        check_status(ctx,
                     t2g_token_logprobs(ctx->recorder, logprobs, NULL, NULL, logits_t, NULL, targets_t, N, V,
                                        &ctx->err),
                     "token_logprobs");
        check_status(ctx,
                     t2g_ppo_loss(ctx->recorder, weights, dvalues, stats, stride, logprobs, t[0], t[1], t[2], t[3],
                                  t[4], t[5], N, k, (float)scale, &ctx->err),
                     "ppo_loss");
        check_status(ctx,
                     t2g_crossentropy_forward_backward(ctx->recorder, losses, dlogits, logits_t, targets_t, weights, N,
                                                       V, 1.0f, &ctx->err),
                     "crossentropy_forward_backward");
        check_submit(ctx);
        gpu[run] = check_download(ctx, dlogits, NV);
    }
    uint32_t weighted = 0;
    for (uint32_t n = 0; n < N; n++) weighted += ref_weights[n] != 0;
    check_true(ctx, weighted > 0 && weighted < in.masked, "composed N=%u V=%u: %u of %u masked rows with a gradient",
               N, V, weighted, in.masked);
    snprintf(label, sizeof label, "composed dlogits N=%u V=%u L=%g", N, V, k->log_ratio_clamp);
    check_bitwise(ctx, label, gpu[0], gpu[1], NV);
    check_close(ctx, label, gpu[0], ref_dlogits, NV, 1e-4);

    /* The GPU's dlogits against finite differences of the reference's s * sum(policy loss). */
    double *analytic = check_to_double(ctx, gpu[0], NV);
    double *arrays[] = {d.old_logprobs, d.advantages, d.values, d.old_values, d.returns};
    for (size_t a = 0; a < 5; a++)
        for (uint32_t n = 0; n < N; n++)
            if (isnan(arrays[a][n])) arrays[a][n] = 0;
    d.logprobs = check_doubles(ctx, N);
    composed_fd l = {xd, targets, d, rk, scale, check_doubles(ctx, N), check_doubles(ctx, N),
                     check_doubles(ctx, 4 * (size_t)N), (int)N, (int)V};
    snprintf(label, sizeof label, "composed GPU dlogits vs finite diff of reference N=%u V=%u", N, V);
    check_finite_differences(ctx, label, composed_loss_of, &l, xd, analytic, NV, samples, 1e-5);
}

T2G_CHECK(ppo_composed) {
    const t2g_ppo_settings defaults = {0.2f, 0.2f, 0.1f, 20.0f}, tight = {0.1f, 0.2f, 0.1f, 0.4f};
    composed_case(ctx, 5, 7, &defaults, 0.0, 64);
    if (ctx->quick) return ctx->failures;
    composed_case(ctx, 9, 7, &tight, 0.2, 64);  /* clamped log ratios: no gradient */
    composed_case(ctx, 6, 259, &defaults, 0.0, 1554);
    composed_case(ctx, 4, 50257, &tight, 0.2, 300);
    return ctx->failures;
}
