/* Text2Grad end to end on lavapipe: a short SFT on arith, then RL with the built-in critic.
 * Span rewards must raise the mean critic score over the first steps (fixed seed, so the run
 * is the same on every run of a device); the scalar baseline must run through the same path;
 * an RL run resumed from its checkpoint must continue exactly. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/alloc.h"
#include "t2g/rl.h"
#include "t2g/train.h"

/* A small arith policy: enough SFT that it answers with digits, far from always right (steps 0;
 * else that many steps). */
static bool sft_steps(check_ctx *ctx, const char *name, uint32_t steps, char *path, size_t size) {
    snprintf(path, size, "/tmp/t2g-%s-sft-%ld.bin", name, (long)getpid());
    t2g_config c = t2g_config_defaults();
    c.model = (t2g_model_config)T2G_MODEL_GPT2(259, 16, 1, 2, 32);
    c.data.examples = 5000;
    c.batch_size = c.micro_batch = 32;
    c.steps = steps ? steps : ctx->quick ? 20 : 150;
    c.schedule.warmup_steps = 10;
    c.optim.lr = 3e-3;
    c.eval.examples = 0;
    t2g_trainer *trainer = NULL;
    if (!check_status(ctx, t2g_trainer_create(ctx->device, &c, &trainer, &ctx->err), "creating the SFT trainer"))
        return false;
    t2g_step_stats stats;
    bool ok = true;
    for (uint32_t s = 0; s < c.steps && ok; s++) ok = check_status(ctx, t2g_trainer_step(trainer, &stats, &ctx->err), "SFT step");
    check_log(ctx, "  SFT: loss %.3f after %u steps", stats.loss, c.steps);
    ok = ok && check_status(ctx, t2g_trainer_save(trainer, path, &ctx->err), "saving the SFT checkpoint");
    t2g_trainer_destroy(trainer);
    return ok;
}

static bool sft_checkpoint(check_ctx *ctx, const char *name, char *path, size_t size) {
    return sft_steps(ctx, name, 0, path, size);
}

/* RL practises a pool of 8 prompts (data.examples), 8 responses each a step: the mean critic
 * score then measures the policy on the same prompts step after step, not the difficulty of
 * each step's draw of sums. */
static t2g_config rl_config(const char *start, t2g_reward_granularity granularity, uint32_t steps) {
    t2g_config c = t2g_config_defaults();
    c.seed = 7;
    c.data.examples = 8;
    snprintf(c.rl.start, sizeof c.rl.start, "%s", start);
    c.rl.reward_granularity = granularity;
    c.rl.prompts = 8;
    c.rl.samples_per_prompt = 8;
    c.rl.max_new_tokens = 6;
    c.rl.kl_beta = 0.05;
    c.rl.kl_target = 0; /* a fixed beta keeps the test's arithmetic simple */
    c.rl.samples_kept = 2;
    c.micro_batch = 32;
    c.batch_size = 64;
    c.steps = steps;
    c.optim.lr = 1e-3;
    c.optim.weight_decay = 0;
    c.schedule.kind = T2G_SCHEDULE_CONSTANT;
    c.schedule.warmup_steps = 0;
    c.eval.examples = 0;
    return c;
}

/* Runs `steps` RL steps from `rl`, recording each step's scores. */
static bool run_steps(check_ctx *ctx, t2g_rl *rl, uint32_t steps, t2g_rl_stats *stats) {
    for (uint32_t s = 0; s < steps; s++)
        if (!check_status(ctx, t2g_rl_step(rl, &stats[s], &ctx->err), "RL step")) return false;
    return true;
}

static double mean_score(const t2g_rl_stats *stats, uint32_t from, uint32_t to) {
    double sum = 0;
    for (uint32_t s = from; s < to; s++) sum += stats[s].score;
    return sum / (to - from);
}

T2G_CHECK(rl_e2e_span) {
    check_case_begin(ctx);
    char start[256];
    if (!sft_checkpoint(ctx, "span", start, sizeof start)) return ctx->failures;
    const uint32_t steps = ctx->quick ? 2 : 30;
    t2g_config config = rl_config(start, T2G_REWARD_SPAN, steps);
    t2g_rl *rl = NULL;
    t2g_rl_stats stats[30];
    if (check_status(ctx, t2g_rl_create(ctx->device, &config, &rl, &ctx->err), "creating the RL run") &&
        run_steps(ctx, rl, steps, stats)) {
        for (uint32_t s = 0; s < steps; s++)
            check_log(ctx, "  step %u: score %.3f token score %.3f kl %.4f clip %.2f value loss %.3f spans matched %.2f",
                      s + 1, stats[s].score, stats[s].token_score, stats[s].kl, stats[s].clip_fraction,
                      stats[s].value_loss,
                      stats[s].spans.spans[0] + stats[s].spans.spans[1]
                          ? 1.0 - (double)(stats[s].spans.matched[0][0] + stats[s].spans.matched[1][0]) /
                                      (stats[s].spans.spans[0] + stats[s].spans.spans[1])
                          : 1.0);
        const t2g_rl_sample *samples;
        uint32_t kept = t2g_rl_samples(rl, &samples);
        check_true(ctx, kept == 2 && samples[0].token_count > 0, "the step's first responses are kept with their token scores");
        check_true(ctx, stats[0].spans.spans[0] + stats[0].spans.spans[1] > 0, "the critic quoted spans (%u good, %u poor)",
                   stats[0].spans.spans[0], stats[0].spans.spans[1]);
        if (!ctx->quick) {
            /* Measured on lavapipe: about -0.86 over the first five steps, -0.70 over the last. */
            double early = mean_score(stats, 0, 5), late = mean_score(stats, steps - 5, steps);
            check_true(ctx, late > early, "span rewards raise the mean critic score: %.3f over steps 1-5, %.3f over %u-%u",
                       early, late, steps - 4, steps);
        }
    }
    t2g_rl_destroy(rl);
    remove(start);
    return ctx->failures;
}

T2G_CHECK(rl_e2e_scalar) {
    check_case_begin(ctx);
    char start[256];
    if (!sft_checkpoint(ctx, "scalar", start, sizeof start)) return ctx->failures;
    const uint32_t steps = ctx->quick ? 1 : 3;
    t2g_config config = rl_config(start, T2G_REWARD_SCALAR, steps);
    t2g_rl *rl = NULL;
    t2g_rl_stats stats[3];
    if (check_status(ctx, t2g_rl_create(ctx->device, &config, &rl, &ctx->err), "creating the RL run") &&
        run_steps(ctx, rl, steps, stats)) {
        bool finite = true;
        for (uint32_t s = 0; s < steps; s++)
            finite = finite && stats[s].score == stats[s].score && stats[s].policy_loss == stats[s].policy_loss &&
                     stats[s].value_loss == stats[s].value_loss;
        check_true(ctx, finite, "the scalar baseline runs through the same engine (score %.3f, value loss %.3f)",
                   stats[steps - 1].score, stats[steps - 1].value_loss);
        /* scalar rewards: every token 0 but the last, which carries the critic's score */
        const t2g_rl_sample *samples;
        uint32_t kept = t2g_rl_samples(rl, &samples);
        bool scalar = kept > 0;
        for (uint32_t i = 0; i < kept; i++) {
            const t2g_rl_sample *x = &samples[i];
            for (uint32_t t = 0; t + 1 < x->token_count; t++) scalar = scalar && x->token_scores[t] == 0.0f;
            scalar = scalar && x->token_count > 0 && x->token_scores[x->token_count - 1] == (float)x->score;
        }
        check_true(ctx, scalar, "scalar rewards: 0 on every token but the last, which has the critic's score");
    }
    t2g_rl_destroy(rl);
    remove(start);
    return ctx->failures;
}

/* In bf16 (and f16) the reference policy is a frozen 16-bit model, which keeps the matmuls'
 * weights in 16 bits alone (rounded by the device, as the policy's copy): before its first update
 * the policy is the reference, bit for bit, so every token's KL of the first step is 0 exactly
 * (with the k1 estimate and with the full one); and the reference needs less memory than an f32
 * one. */
T2G_CHECK(rl_reference_16bit) {
    check_case_begin(ctx);
    if (!t2g_device_get_info(ctx->device)->storage_16bit) {
        check_log(ctx, "  %s has no 16-bit storage: no 16-bit models to check", t2g_device_get_info(ctx->device)->name);
        return ctx->failures;
    }
    char start[256];
    if (!sft_steps(ctx, "reference16", 10, start, sizeof start)) return ctx->failures; /* any policy serves */
    /* bf16 (f16's frozen model is gpt_frozen's: the same code, and its pipelines would cost
     * lavapipe half a minute more of cold compiling here) */
    const t2g_precision precisions[] = {T2G_PRECISION_BF16};
    for (size_t i = 0; i < sizeof precisions / sizeof precisions[0] && !ctx->failures; i++)
        for (int full = 0; full < (ctx->quick ? 1 : 2) && !ctx->failures; full++) { /* selfcheck: k1 */
            t2g_config config = rl_config(start, T2G_REWARD_SPAN, 1);
            config.precision = precisions[i];
            config.rl.kl = full ? T2G_KL_FULL : T2G_KL_K1;
            t2g_rl *rl = NULL;
            t2g_rl_stats stats;
            if (check_status(ctx, t2g_rl_create(ctx->device, &config, &rl, &ctx->err), "creating the RL run") &&
                run_steps(ctx, rl, 1, &stats))
                check_true(ctx, stats.kl == 0.0, "%s, %s KL: the first step's KL against the frozen 16-bit reference "
                           "is %g", t2g_precision_name(precisions[i]), full ? "full" : "k1", stats.kl);
            t2g_rl_destroy(rl);
        }
    t2g_model_config model = T2G_MODEL_GPT2(259, 16, 1, 2, 32), model16 = model;
    model16.precision = T2G_PRECISION_BF16;
    t2g_gpt_memory f32, bf16;
    check_status(ctx, t2g_gpt_memory_needed(&model, 32, 16, true, &f32, &ctx->err), "sizing the f32 reference");
    check_status(ctx, t2g_gpt_memory_needed(&model16, 32, 16, true, &bf16, &ctx->err), "sizing the bf16 reference");
    check_true(ctx, bf16.parameters < f32.parameters, "the bf16 reference keeps %llu bytes of f32 parameters, the f32 "
               "one %llu", (unsigned long long)bf16.parameters, (unsigned long long)f32.parameters);
    remove(start);
    return ctx->failures;
}

/* RL with its logits in pieces (train.logit_rows): one step whose micro-batches of 32 x 16 = 512
 * positions go in pieces of 192 rows (two whole pieces and a cut one), with the full KL (the
 * reference's pieces beside the policy's), against the same step with whole logits. Both sample
 * from the same weights, so the rollouts are the same, and the statistics and the policy after
 * the update agree to float32 rounding (each piece's head sums over its own rows). */
T2G_CHECK(rl_logit_rows) {
    check_case_begin(ctx);
    char start[256];
    if (!sft_steps(ctx, "pieces", 10, start, sizeof start)) return ctx->failures;
    const uint32_t pieces[2] = {0, 192};
    t2g_rl_stats stats[2] = {{0}};
    float *params[2] = {NULL, NULL};
    uint64_t n = 0;
    for (int p = 0; p < 2; p++) {
        t2g_config config = rl_config(start, T2G_REWARD_SPAN, 1);
        config.rl.kl = T2G_KL_FULL;
        config.logit_rows = pieces[p];
        t2g_rl *rl = NULL;
        if (check_status(ctx, t2g_rl_create(ctx->device, &config, &rl, &ctx->err), "creating the RL run")) {
            t2g_gpt *policy = t2g_rl_policy(rl);
            check_true(ctx, t2g_gpt_logit_rows(policy) == pieces[p], "train.logit_rows %u: the policy holds pieces of %u "
                       "rows (0: whole)", pieces[p], t2g_gpt_logit_rows(policy));
            n = t2g_gpt_buffer_floats(policy);
            params[p] = check_host(ctx, n * sizeof(float));
            if (run_steps(ctx, rl, 1, &stats[p]))
                check_status(ctx, t2g_gpt_read(policy, params[p], NULL, NULL, &ctx->err), "reading the policy");
        }
        t2g_rl_destroy(rl);
    }
    remove(start);
    if (ctx->failures) return ctx->failures;
    const char *names[] = {"score", "reward", "kl", "policy loss", "value loss", "approx kl", "entropy"};
    const double whole[] = {stats[0].score, stats[0].reward, stats[0].kl, stats[0].policy_loss, stats[0].value_loss,
                            stats[0].approx_kl, stats[0].entropy};
    const double cut[] = {stats[1].score, stats[1].reward, stats[1].kl, stats[1].policy_loss, stats[1].value_loss,
                          stats[1].approx_kl, stats[1].entropy};
    for (int i = 0; i < 7; i++)
        check_true(ctx, fabs(cut[i] - whole[i]) <= 1e-5 * fmax(1.0, fabs(whole[i])),
                   "pieces of 192 rows: the step's %s %.9g, whole logits' %.9g", names[i], cut[i], whole[i]);
    /* before its first update the policy is the reference: each of the reference's pieces beside the
     * policy's same rows gives a full KL of 0 exactly (rows of another piece would not) */
    check_true(ctx, stats[1].kl == 0.0, "pieces: the first step's full KL against the reference is %g", stats[1].kl);
    check_close(ctx, "pieces of 192 rows: the policy after one RL step, against whole logits'", params[1],
                check_to_double(ctx, params[0], n), n, 1e-5);
    return ctx->failures;
}

/* The value head after one RL step with rl.value_lr_scale = scale, minus its start, largest
 * |change|; -1 when something failed. */
static double value_head_change(check_ctx *ctx, const char *start, double scale) {
    t2g_config config = rl_config(start, T2G_REWARD_SPAN, 1);
    config.rl.value_lr_scale = scale;
    char before[256], after[256];
    snprintf(before, sizeof before, "/tmp/t2g-value-lr-%ld-a.bin", (long)getpid());
    snprintf(after, sizeof after, "/tmp/t2g-value-lr-%ld-b.bin", (long)getpid());
    t2g_rl *rl = NULL;
    t2g_rl_stats stats;
    bool ok = check_status(ctx, t2g_rl_create(ctx->device, &config, &rl, &ctx->err), "creating the RL run") &&
              check_status(ctx, t2g_rl_save(rl, before, &ctx->err), "saving before the step") &&
              check_status(ctx, t2g_rl_step(rl, &stats, &ctx->err), "RL step") &&
              check_status(ctx, t2g_rl_save(rl, after, &ctx->err), "saving after the step");
    t2g_rl_destroy(rl);
    t2g_checkpoint a = {0}, b = {0};
    ok = ok && check_status(ctx, t2g_checkpoint_load(before, &a, &ctx->err), "loading") &&
         check_status(ctx, t2g_checkpoint_load(after, &b, &ctx->err), "loading");
    double change = -1;
    if (ok && a.aux_count == b.aux_count && a.aux_count > 0) {
        change = 0;
        for (uint64_t i = 0; i < a.aux_count; i++) change = fmax(change, fabs((double)b.aux_params[i] - a.aux_params[i]));
    }
    t2g_checkpoint_free(&a);
    t2g_checkpoint_free(&b);
    remove(before);
    remove(after);
    return change;
}

/* rl.value_lr_scale sets the value head's rate apart from the policy's: 0 holds it still; 10
 * moves it about ten times as far as 1 (AdamW's first steps move each parameter by about the
 * rate). */
T2G_CHECK(rl_value_lr_scale) {
    check_case_begin(ctx);
    char start[256];
    if (!sft_checkpoint(ctx, "value-lr", start, sizeof start)) return ctx->failures;
    double still = value_head_change(ctx, start, 0.0), one = value_head_change(ctx, start, 1.0),
           ten = value_head_change(ctx, start, 10.0);
    check_true(ctx, still == 0.0, "value_lr_scale 0: the value head does not move (largest change %g)", still);
    check_true(ctx, one > 0 && ten > 5 * one && ten < 15 * one,
               "value_lr_scale 10 moves the value head about ten times as far as 1 (%g against %g)", ten, one);
    remove(start);
    return ctx->failures;
}

T2G_CHECK(rl_resume) {
    check_case_begin(ctx);
    char start[256], saved[256];
    if (!sft_checkpoint(ctx, "resume", start, sizeof start)) return ctx->failures;
    snprintf(saved, sizeof saved, "/tmp/t2g-rl-resume-%ld.bin", (long)getpid());
    const uint32_t half = ctx->quick ? 1 : 2;
    t2g_config config = rl_config(start, T2G_REWARD_SPAN, 2 * half);
    config.rl.kl_target = 6; /* adaptive beta: its state must survive the checkpoint too */
    t2g_rl_stats straight[4], resumed[4];
    t2g_rl *a = NULL, *b = NULL, *c = NULL;
    if (check_status(ctx, t2g_rl_create(ctx->device, &config, &a, &ctx->err), "creating run a"))
        run_steps(ctx, a, 2 * half, straight);
    if (check_status(ctx, t2g_rl_create(ctx->device, &config, &b, &ctx->err), "creating run b") &&
        run_steps(ctx, b, half, resumed))
        check_status(ctx, t2g_rl_save(b, saved, &ctx->err), "saving run b");
    t2g_checkpoint checkpoint;
    if (check_status(ctx, t2g_rl_create(ctx->device, &config, &c, &ctx->err), "creating run c") &&
        check_status(ctx, t2g_checkpoint_load(saved, &checkpoint, &ctx->err), "loading run b's checkpoint")) {
        check_status(ctx, t2g_rl_resume(c, &checkpoint, &ctx->err), "resuming");
        t2g_checkpoint_free(&checkpoint);
        run_steps(ctx, c, half, resumed + half);
    }
    bool same = true;
    for (uint32_t s = 0; s < 2 * half; s++)
        same = same && memcmp(&straight[s].score, &resumed[s].score, sizeof(double)) == 0 &&
               memcmp(&straight[s].policy_loss, &resumed[s].policy_loss, sizeof(double)) == 0 &&
               memcmp(&straight[s].value_loss, &resumed[s].value_loss, sizeof(double)) == 0 &&
               memcmp(&straight[s].beta, &resumed[s].beta, sizeof(double)) == 0;
    check_true(ctx, same, "RL resumed from its checkpoint gives the same scores, losses and beta, bit for bit");
    uint64_t n = a ? t2g_gpt_buffer_floats(t2g_rl_policy(a)) : 0;
    float *pa = check_host(ctx, 4 * n + 4), *pc = check_host(ctx, 4 * n + 4);
    if (a && c) {
        check_status(ctx, t2g_gpt_read(t2g_rl_policy(a), pa, NULL, NULL, &ctx->err), "reading a");
        check_status(ctx, t2g_gpt_read(t2g_rl_policy(c), pc, NULL, NULL, &ctx->err), "reading c");
        check_bitwise(ctx, "policy parameters, straight vs resumed", pa, pc, n);
    }
    t2g_rl_destroy(a);
    t2g_rl_destroy(b);
    t2g_rl_destroy(c);
    remove(saved);
    remove(start);
    return ctx->failures;
}

/* A critique over critic.max_spans is a critic failure of its response, counted and named
 * like the others; an allocation failing in the rollout's scoring is an error of the step,
 * never scores (it used to reuse the previous response's). */
T2G_CHECK(rl_critique_caps_and_memory) {
    check_case_begin(ctx);
    char start[256];
    if (!sft_checkpoint(ctx, "caps", start, sizeof start)) return ctx->failures;
    t2g_config config = rl_config(start, T2G_REWARD_SPAN, 1);
    config.critic.max_spans = 0; /* every critique that quotes a span is over it */
    t2g_rl *rl = NULL;
    t2g_rl_stats stats;
    if (check_status(ctx, t2g_rl_create(ctx->device, &config, &rl, &ctx->err), "creating the RL run") &&
        run_steps(ctx, rl, 1, &stats)) {
        uint32_t quoted = stats.spans.spans[0] + stats.spans.spans[1] + stats.spans.spans[2];
        check_true(ctx, stats.critic_failures > 0 && quoted == 0 && strstr(stats.first_failure, "critic.max_spans = 0"),
                   "critiques over critic.max_spans are critic failures (%u of 64, %u spans aligned): %s",
                   stats.critic_failures, quoted, stats.first_failure);
    }
    t2g_rl_destroy(rl);
    config.critic.max_spans = 256;
    /* a clean step counts its allocations (the same on every run: fixed seed); the first and
     * the last are the recorder's (its arrays of memory accesses and texel-buffer views grow
     * through t2g_grow), the one two before the last the scoring of the last responses */
    uint64_t calls = 0;
    for (int k = 0; k < 4; k++) {
        rl = NULL;
        if (!check_status(ctx, t2g_rl_create(ctx->device, &config, &rl, &ctx->err), "creating the RL run")) break;
        uint64_t nth = k == 0 ? UINT64_MAX : k == 1 ? calls : k == 2 ? calls - 2 : 1;
        t2g_error err = {0};
        t2g_alloc_fail_at(nth);
        t2g_status status = t2g_rl_step(rl, &stats, &err);
        if (k == 0) calls = t2g_alloc_calls();
        t2g_alloc_fail_at(0);
        if (k == 0)
            check_true(ctx, status == T2G_OK && calls > 3, "a clean step: %llu allocations counted (%s)",
                       (unsigned long long)calls, status ? err.message : "ok");
        else
            check_true(ctx, status == T2G_ERR_MEMORY && strstr(err.message, "out of memory"),
                       "allocation %llu of %llu failing: the step fails (%d: %s)", (unsigned long long)nth,
                       (unsigned long long)calls, status, err.message);
        t2g_rl_destroy(rl);
        if (k == 0 && (status || calls <= 3)) break;
    }
    remove(start);
    return ctx->failures;
}
