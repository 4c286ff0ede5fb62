/* NaN and Inf in a step, through the library: the step reports what went non-finite, the
 * update is skipped on the GPU (parameters and moments bit for bit as before), the step still
 * counts, and the steps after it train as usual.
 *   - training: T2G_TEST_POISON_STEP puts a NaN loss weight into step 2;
 *   - RL: a value head with a NaN bias (written into a checkpoint, then resumed) makes the
 *     values NaN while the rollout stays finite, so PPO's gradients go NaN and both gated
 *     updates (policy, value head) must be skipped on the device. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "t2g/rl.h"
#include "t2g/train.h"

static t2g_config tiny_config(uint32_t steps) {
    t2g_config c = t2g_config_defaults();
    c.model = (t2g_model_config)T2G_MODEL_GPT2(259, 16, 1, 2, 32);
    c.data.examples = 64;
    c.batch_size = 8;
    c.micro_batch = 4;
    c.steps = steps;
    c.schedule.warmup_steps = 0;
    c.eval.examples = 0;
    return c;
}

/* The model's params, m and v (3 n floats, malloc'ed), or NULL after a failure. */
static float *read_state(check_ctx *ctx, t2g_gpt *gpt) {
    uint64_t n = t2g_gpt_buffer_floats(gpt);
    float *state = check_host(ctx, 3 * n * sizeof *state);
    return check_status(ctx, t2g_gpt_read(gpt, state, state + n, state + 2 * n, &ctx->err), "reading the model")
               ? state
               : NULL;
}

T2G_CHECK(train_nonfinite) {
    check_case_begin(ctx);
    t2g_config c = tiny_config(3);
    t2g_trainer *t = NULL;
    if (!check_status(ctx, t2g_trainer_create(ctx->device, &c, &t, &ctx->err), "creating the trainer"))
        return ctx->failures;
    t2g_gpt *gpt = t2g_trainer_model(t);
    uint64_t n = t2g_gpt_buffer_floats(gpt);
    t2g_step_stats stats[3];
    bool ok = check_status(ctx, t2g_trainer_step(t, &stats[0], &ctx->err), "step 1");
    float *before = ok ? read_state(ctx, gpt) : NULL;
    setenv("T2G_TEST_POISON_STEP", "2", 1);
    ok = before && check_status(ctx, t2g_trainer_step(t, &stats[1], &ctx->err), "step 2 (poisoned)");
    unsetenv("T2G_TEST_POISON_STEP");
    float *skipped = ok ? read_state(ctx, gpt) : NULL;
    ok = skipped && check_status(ctx, t2g_trainer_step(t, &stats[2], &ctx->err), "step 3");
    float *after = ok ? read_state(ctx, gpt) : NULL;
    if (after) {
        check_true(ctx, stats[0].nonfinite == 0 && !stats[0].update_skipped, "step 1 is finite");
        check_true(ctx, stats[1].nonfinite == (T2G_NONFINITE_LOSS | T2G_NONFINITE_GRAD_NORM) && stats[1].update_skipped,
                   "step 2 reports loss and grad_norm non-finite (bits %u) and the update skipped (%d)",
                   stats[1].nonfinite, stats[1].update_skipped);
        check_bitwise(ctx, "step 2 leaves params, m and v as step 1 left them", before, skipped, 3 * n);
        check_true(ctx, stats[1].step == 2 && t2g_trainer_steps_done(t) == 3, "the skipped step counts as a step");
        check_true(ctx, stats[2].nonfinite == 0 && !stats[2].update_skipped && isfinite(stats[2].loss),
                   "step 3 is finite again (loss %g)", stats[2].loss);
        check_true(ctx, memcmp(skipped, after, n * sizeof *after) != 0, "step 3 updates the parameters");
    }
    t2g_trainer_destroy(t);
    return ctx->failures;
}

T2G_CHECK(rl_nonfinite) {
    check_case_begin(ctx);
    char sft[256], run[256];
    snprintf(sft, sizeof sft, "/tmp/t2g-nonfinite-sft-%ld.bin", (long)getpid());
    snprintf(run, sizeof run, "/tmp/t2g-nonfinite-rl-%ld.bin", (long)getpid());
    t2g_config c = tiny_config(2);
    t2g_trainer *t = NULL;
    t2g_step_stats sft_stats;
    bool ok = check_status(ctx, t2g_trainer_create(ctx->device, &c, &t, &ctx->err), "creating the trainer") &&
              check_status(ctx, t2g_trainer_step(t, &sft_stats, &ctx->err), "SFT step") &&
              check_status(ctx, t2g_trainer_save(t, sft, &ctx->err), "saving the SFT checkpoint");
    t2g_trainer_destroy(t);

    snprintf(c.rl.start, sizeof c.rl.start, "%s", sft);
    c.rl.prompts = 2;
    c.rl.samples_per_prompt = 2;
    c.rl.max_new_tokens = 4;
    c.rl.ppo_epochs = 2;
    c.rl.samples_kept = 0;
    c.batch_size = c.micro_batch = 4;
    t2g_rl *rl = NULL;
    t2g_checkpoint ck = {0};
    ok = ok && check_status(ctx, t2g_rl_create(ctx->device, &c, &rl, &ctx->err), "creating the RL run") &&
         check_status(ctx, t2g_rl_save(rl, run, &ctx->err), "saving the RL checkpoint") &&
         check_status(ctx, t2g_checkpoint_load(run, &ck, &ctx->err), "loading it");
    if (ok) ck.aux_params[ck.aux_count - 1] = NAN; /* the value head's bias */
    ok = ok && check_status(ctx, t2g_rl_resume(rl, &ck, &ctx->err), "resuming with a NaN value head");
    t2g_gpt *policy = t2g_rl_policy(rl);
    uint64_t n = ok ? t2g_gpt_buffer_floats(policy) : 0;
    float *before = ok ? read_state(ctx, policy) : NULL;
    t2g_rl_stats stats;
    ok = before && check_status(ctx, t2g_rl_step(rl, &stats, &ctx->err), "the RL step");
    float *after = ok ? read_state(ctx, policy) : NULL;
    if (after) {
        uint32_t norms = T2G_NONFINITE_GRAD_NORM | T2G_NONFINITE_VALUE_GRAD_NORM;
        check_true(ctx, (stats.nonfinite & norms) == norms && stats.update_skipped,
                   "both gradient norms reported non-finite (bits %u), the update skipped (%d)", stats.nonfinite,
                   stats.update_skipped);
        check_true(ctx, !(stats.nonfinite & (T2G_NONFINITE_REWARD | T2G_NONFINITE_KL)),
                   "the rollout itself stayed finite (bits %u): the GPU gate, not the host, skipped the update",
                   stats.nonfinite);
        check_bitwise(ctx, "the policy's params, m and v are untouched", before, after, 3 * n);
        check_true(ctx, isfinite(stats.beta) && t2g_rl_steps_done(rl) == 1, "beta finite (%g), the step counted",
                   stats.beta);
        t2g_error err = {0};
        check_true(ctx, t2g_rl_save(rl, run, &err) != T2G_OK && strstr(err.message, "non-finite"),
                   "saving the NaN value head is refused (%s)", err.message);
    }
    t2g_rl_destroy(rl);
    t2g_checkpoint_free(&ck);
    remove(sft);
    remove(run);
    return ctx->failures;
}
