/* t2g rl: Text2Grad reinforcement learning from a checkpoint, with the built-in or an external
 * critic; a run folder like train's, with each step's responses, critiques and token scores. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "run_files.h"
#include "t2g/rl.h"

static const char HELP[] =
    "usage: t2g rl --config FILE|NAME [--set KEY=VALUE ...] [--out DIR] [--resume RUN [--trust-critic]]\n"
    "              [--device N|NAME] [--quiet]\n"
    "\n"
    "Text2Grad: the policy (rl.start: an SFT checkpoint or run folder) answers prompts (data.task's, or the\n"
    "prompts of the JSONL file data.path); a critic (critic.kind: the task's built-in critic, a\n"
    "command (critic.command), an OpenAI-compatible server (critic.url) or a language model t2g\n"
    "runs (critic.model_path); try one with 't2g critique') writes a critique quoting good and\n"
    "poor spans; the spans become per-token\n"
    "scores; PPO with rewards score - beta KL (to the frozen rl.start) updates the policy.\n"
    "rl.reward_granularity \"scalar\" puts the critic's scalar score on the last token instead\n"
    "(standard PPO, the baseline). The run folder holds config.json, metrics.jsonl (one object per\n"
    "step), samples.jsonl (responses with their critiques and token scores) and checkpoint.bin.\n"
    "--resume RUN continues an rl run from its folder; when its critic is an external command, give\n"
    "the command again (--set critic.command=...) or confirm the stored one with --trust-critic.\n"
    "rl.start must still be the checkpoint the run started from (its CRC-32 is checked).\n"
    "Ctrl-C, SIGTERM or SIGHUP abandon the step in progress (nothing of it is applied unless its\n"
    "update had begun), save the checkpoint of the last completed step, write the report, stop\n"
    "the critic's processes and exit with 128 + the signal; a second Ctrl-C exits at once.\n"
    "The rl.* and critic.* keys are listed by 't2g train --help'.\n"
    "\n"
    "example: t2g rl --config rl_arith --set rl.start=runs/arith-500/checkpoint.bin --set train.steps=50\n";

typedef struct rl_state {
    cli_run run;
    t2g_device *device;
    t2g_rl *rl;
    uint64_t stray;    /* the critic's stray stdout lines reported so far */
} rl_state;

static cJSON *span_stats_json(const t2g_span_stats *s) {
    cJSON *o = cJSON_CreateObject();
    static const char *const kinds[] = {"good", "poor", "neutral"};
    for (int k = 0; k < 3; k++) {
        cJSON *kind = cJSON_AddObjectToObject(o, kinds[k]);
        cJSON_AddNumberToObject(kind, "spans", s->spans[k]);
        for (int m = 0; m < 4; m++) cJSON_AddNumberToObject(kind, t2g_match_kind_name((t2g_match_kind)m), s->matched[k][m]);
    }
    cJSON_AddNumberToObject(o, "critiques", s->critiques);
    cJSON_AddNumberToObject(o, "unparsed", s->unparsed);
    return o;
}

/* The share of spans found in their responses. */
static double match_rate(const t2g_span_stats *s) {
    double spans = 0, found = 0;
    for (int k = 0; k < 3; k++) {
        spans += s->spans[k];
        found += s->spans[k] - s->matched[k][0];
    }
    return spans ? found / spans : 1.0;
}

/* The critic's figures of one step: its time, what it asked and how that went, the spans per
 * critique and the share of them found in their responses. */
static cJSON *critic_json(const t2g_rl_stats *st) {
    const t2g_critic_stats *c = &st->critic;
    cJSON *o = cJSON_CreateObject();
    double spans = (double)st->spans.spans[0] + st->spans.spans[1] + st->spans.spans[2];
    uint64_t unanswered = c->timeouts + c->crashes; /* requests with no HTTP answer: no latency */
    uint64_t answered = c->requests > unanswered ? c->requests - unanswered : 0;
    cJSON_AddNumberToObject(o, "ms", st->critic_ms);
    cJSON_AddNumberToObject(o, "judged", (double)c->judged);
    cJSON_AddNumberToObject(o, "failed", (double)c->failed);
    cJSON_AddNumberToObject(o, "requests", (double)c->requests);
    cJSON_AddNumberToObject(o, "retries", (double)c->retries);
    cJSON_AddNumberToObject(o, "timeouts", (double)c->timeouts);
    cJSON_AddNumberToObject(o, "crashes", (double)c->crashes);
    cJSON_AddNumberToObject(o, "garbage", (double)c->garbage);
    cJSON_AddNumberToObject(o, "rate_limited", (double)c->rate_limited);
    cJSON_AddNumberToObject(o, "http_errors", (double)c->http_errors);
    cJSON_AddNumberToObject(o, "unparsed", (double)c->unparsed);
    cJSON_AddNumberToObject(o, "cache_hits", (double)c->cache_hits);
    cJSON_AddNumberToObject(o, "cache_misses", (double)c->cache_misses);
    cJSON_AddNumberToObject(o, "prompt_tokens", (double)c->prompt_tokens);
    cJSON_AddNumberToObject(o, "completion_tokens", (double)c->completion_tokens);
    cJSON_AddNumberToObject(o, "latency_ms", answered ? c->latency_ms / (double)answered : 0);
    cJSON_AddNumberToObject(o, "spans_per_critique", st->spans.critiques ? spans / st->spans.critiques : 0);
    cJSON_AddNumberToObject(o, "spans_found", match_rate(&st->spans));
    return o;
}

static cJSON *step_json(const t2g_rl_stats *st) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "step", (double)st->step);
    cJSON_AddNumberToObject(o, "score", st->score);
    cJSON_AddNumberToObject(o, "token_score", st->token_score);
    cJSON_AddNumberToObject(o, "reward", st->reward);
    cJSON_AddNumberToObject(o, "kl", st->kl);
    cJSON_AddNumberToObject(o, "beta", st->beta);
    cJSON_AddNumberToObject(o, "policy_loss", st->policy_loss);
    cJSON_AddNumberToObject(o, "value_loss", st->value_loss);
    cJSON_AddNumberToObject(o, "clip_fraction", st->clip_fraction);
    cJSON_AddNumberToObject(o, "approx_kl", st->approx_kl);
    cJSON_AddNumberToObject(o, "entropy", st->entropy);
    cJSON_AddNumberToObject(o, "response_tokens", st->response_tokens);
    cJSON_AddNumberToObject(o, "span_match_rate", match_rate(&st->spans));
    cJSON_AddItemToObject(o, "spans", span_stats_json(&st->spans));
    cJSON_AddNumberToObject(o, "critic_failures", st->critic_failures);
    cJSON_AddItemToObject(o, "critic", critic_json(st));
    cJSON_AddNumberToObject(o, "rollout_tokens_per_s", st->rollout_tokens_per_s);
    cJSON_AddNumberToObject(o, "train_tokens_per_s", st->train_tokens_per_s);
    cJSON_AddNumberToObject(o, "ms_per_step", st->ms);
    return o;
}

static int write_samples(rl_state *s, uint64_t step) {
    const t2g_rl_sample *samples;
    uint32_t count = t2g_rl_samples(s->rl, &samples);
    for (uint32_t i = 0; i < count; i++) {
        const t2g_rl_sample *x = &samples[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "step", (double)step);
        cJSON_AddStringToObject(o, "kind", "rollout");
        cJSON_AddStringToObject(o, "prompt", x->prompt ? x->prompt : "");
        cJSON_AddStringToObject(o, "response", x->response ? x->response : "");
        cJSON_AddStringToObject(o, "critique", x->feedback ? x->feedback : "");
        cJSON_AddNumberToObject(o, "score", x->score);
        cJSON *tokens = cJSON_AddArrayToObject(o, "tokens");
        for (uint32_t t = 0; t < x->token_count; t++) {
            cJSON *token = cJSON_CreateObject();
            cJSON_AddStringToObject(token, "text", x->token_texts[t] ? x->token_texts[t] : "");
            cJSON_AddNumberToObject(token, "score", x->token_scores[t]);
            cJSON_AddItemToArray(tokens, token);
        }
        cJSON *spans = cJSON_AddArrayToObject(o, "spans");
        for (uint32_t k = 0; k < x->span_count; k++) {
            cJSON *span = cJSON_CreateObject();
            cJSON_AddStringToObject(span, "text", x->span_texts[k] ? x->span_texts[k] : "");
            cJSON_AddStringToObject(span, "kind", t2g_span_kind_name(x->span_kinds[k]));
            cJSON_AddStringToObject(span, "match", t2g_match_kind_name(x->span_matches[k]));
            cJSON_AddItemToArray(spans, span);
        }
        if (cli_run_write(&s->run, s->run.samples, o)) return EXIT_FAILED;
    }
    return EXIT_OK;
}

static void report(rl_state *s, const t2g_rl_stats *st, double elapsed, uint64_t first) {
    const t2g_config *c = s->run.config;
    bool due = st->step % (c->log_every ? c->log_every : 1) == 0 || st->step == c->steps || st->step == first + 1;
    if (s->run.quiet || (!s->run.tty && !due)) return;
    char eta[32];
    cli_format_duration(elapsed / (double)(st->step - first) * (double)(c->steps - st->step), eta, sizeof eta);
    printf("%sstep %llu/%u | score %.3f | token score %.3f | kl %.3f | beta %.3f | clip %.2f | %.0f ms/step | ETA %s%s",
           s->run.tty ? "\r\033[K" : "", (unsigned long long)st->step, c->steps, st->score, st->token_score, st->kl,
           st->beta, st->clip_fraction, st->ms, eta, s->run.tty ? "" : "\n");
    fflush(stdout);
}

static int save(rl_state *s) {
    char path[1200];
    snprintf(path, sizeof path, "%s/checkpoint.bin", s->run.dir);
    t2g_error err = {0};
    if (t2g_rl_save(s->rl, path, &err)) {
        cli_error("%s", err.message);
        return EXIT_FAILED;
    }
    return EXIT_OK;
}

static int loop(rl_state *s) {
    const t2g_config *c = s->run.config;
    uint64_t first = t2g_rl_steps_done(s->rl);
    double elapsed = 0;
    int code = EXIT_OK;
    for (uint64_t step = first; step < c->steps && !code && !cli_interrupted(); step++) {
        t2g_rl_stats stats;
        t2g_error err = {0};
        t2g_status status = t2g_rl_step(s->rl, &stats, &err);
        if (status == T2G_ERR_INTERRUPTED) break; /* the step is abandoned: nothing of it was applied */
        if (status) {
            cli_error("%s", err.message);
            return EXIT_FAILED;
        }
        elapsed += stats.ms * 1e-3;
        if (stats.critic_failures) {
            if (s->run.tty) printf("\r\033[K");
            fprintf(stderr, "t2g: warning: step %llu: %u responses had no usable critique and were left out of the "
                            "update (first: %s)\n",
                    (unsigned long long)stats.step, stats.critic_failures, stats.first_failure);
        }
        if (stats.critic_stray > s->stray && s->stray == 0) {
            if (s->run.tty) printf("\r\033[K");
            fprintf(stderr, "t2g: note: step %llu: the critic wrote %llu lines to stdout that are not replies; they are "
                            "in %s/critic.log (a critic's stdout is for replies, its stderr for anything else)\n",
                    (unsigned long long)stats.step, (unsigned long long)stats.critic_stray, s->run.dir);
        }
        s->stray = stats.critic_stray;
        report(s, &stats, elapsed, first);
        if (stats.step == first + 1) cli_run_first_step(&s->run, stats.ms);
        code = write_samples(s, stats.step);
        cJSON *line = step_json(&stats);
        int nonfinite = cli_run_nonfinite(&s->run, stats.step, stats.nonfinite, stats.update_skipped, line);
        if (!code && !nonfinite && ((c->eval.every && stats.step % c->eval.every == 0) || stats.step == c->steps)) {
            char when[64];
            snprintf(when, sizeof when, "eval at step %llu", (unsigned long long)stats.step);
            code = cli_run_evaluate(&s->run, stats.step, line, when);
        }
        if (!code) code = cli_run_write(&s->run, s->run.metrics, line); /* a non-finite step's line too */
        else cJSON_Delete(line);
        if (!code) code = nonfinite;
        if (!code && c->checkpoint.every && stats.step % c->checkpoint.every == 0 && stats.step != c->steps)
            code = save(s);
    }
    if (s->run.tty) printf("\n");
    return code;
}

int cli_rl_run(t2g_config *config, const cli_run_options *o, const char *made_dir) {
    const char *out = o->out, *resume = o->resume;
    rl_state s = {.run = {.config = config, .tty = isatty(STDOUT_FILENO) && !o->quiet, .quiet = o->quiet, .lock = -1}};
    if (cli_interrupts_install()) return EXIT_FAILED;
    t2g_checkpoint checkpoint = {0};
    char resumed_dir[1024];
    int code = resume ? cli_run_load_resume(resume, T2G_RUN_RL, &checkpoint, resumed_dir, sizeof resumed_dir) : EXIT_OK;
    s.run.resumed_step = checkpoint.step;
    if (made_dir) snprintf(resumed_dir, sizeof resumed_dir, "%s", made_dir);
    if (!code) code = cli_open_device(config->device[0] ? config->device : NULL, &s.device);
    t2g_error err = {0};
    if (!code && t2g_rl_create(s.device, config, &s.rl, &err)) {
        cli_error("%s", err.message);
        code = EXIT_USAGE;
    }
    if (!code) cli_note_model("rl.start", config->rl.start);
    if (!code && resume && t2g_rl_resume(s.rl, &checkpoint, &err)) {
        cli_error("--resume %s: %s", resume, err.message);
        code = EXIT_USAGE;
    }
    if (!code) {
        s.run.config = t2g_rl_config(s.rl); /* with rl.start's model: what config.json records */
        s.run.model = t2g_rl_policy(s.rl);
        s.run.text = t2g_rl_text(s.rl);
        cli_note_text(s.run.text, t2g_rl_text_note(s.rl));
        if (config->critic.kind != T2G_CRITIC_BUILTIN) s.run.critic = t2g_rl_critic(s.rl); /* built-in ones need a task */
        s.run.task = t2g_rl_task(s.rl);
        s.run.device = s.device;
        s.run.kind = o->kind ? o->kind : "rl";
        code = cli_run_open(&s.run, out, resume || made_dir ? resumed_dir : NULL);
    }
    if (!code && config->critic.kind != T2G_CRITIC_BUILTIN) {
        char log[1200];
        snprintf(log, sizeof log, "%s/critic.log", s.run.dir);
        if (t2g_rl_set_critic_log(s.rl, log, &err)) {
            cli_error("%s", err.message);
            code = EXIT_FAILED;
        }
    }
    if (!code) code = cli_critic_cache(t2g_rl_critic(s.rl), config, s.run.dir);
    if (!code) code = cli_run_prepare_eval(&s.run);
    if (!code) {
        printf("rl run %s on %s: %s rewards, %u prompts x %u responses a step, %u steps, critic %s\n", s.run.dir,
               t2g_device_get_info(s.device)->name, t2g_config_name("rl.reward_granularity", config->rl.reward_granularity),
               config->rl.prompts, config->rl.samples_per_prompt, config->steps,
               t2g_config_name("critic.kind", config->critic.kind));
        cli_print_memory_plan(t2g_rl_config(s.rl), s.run.model, s.device, s.rl);
        fflush(stdout);
    }
    if (!code && t2g_rl_steps_done(s.rl) == 0) code = cli_run_evaluate(&s.run, 0, NULL, "before RL");
    if (!code) code = loop(&s);
    if (!code || s.run.write_failed) code = save(&s) ? EXIT_FAILED : code;
    if (s.run.dir[0]) code = cli_run_stopped(&s.run, "rl", s.rl ? t2g_rl_steps_done(s.rl) : 0, code);
    if (!code && s.stray)
        printf("the critic wrote %llu stray lines to stdout: %s/critic.log\n", (unsigned long long)s.stray, s.run.dir);
    if (!code) printf("run folder: %s (config.json, metrics.jsonl, samples.jsonl, checkpoint.bin)\n", s.run.dir);
    cli_run_close(&s.run);
    if (!code) code = cli_run_eval_verdict(&s.run);
    t2g_rl_destroy(s.rl);
    t2g_checkpoint_free(&checkpoint);
    int closing = cli_close_device(s.device);
    return code ? code : closing;
}

/* A run continued with --resume would run the shell command stored in its checkpoint: it must
 * be given again (--set critic.command=...) or confirmed (--trust-critic). */
static int check_stored_critic(const cli_run_args *args, const t2g_config *config) {
    if (!args->resume || args->trust_critic || config->critic.kind != T2G_CRITIC_EXTERNAL) return EXIT_OK;
    for (int i = 0; i < args->set_count; i++)
        if (strncmp(args->sets[i], "critic.command=", 15) == 0) return EXIT_OK;
    cli_error("rl --resume %s: the run's critic is the shell command stored in its checkpoint:\n    %s\n"
              "t2g does not run a stored command unasked: give it again with --set critic.command=..., or run it as "
              "stored with --trust-critic",
              args->resume, config->critic.command);
    return EXIT_USAGE;
}

int cmd_rl(int argc, char **argv) {
    cli_run_args args;
    t2g_config config;
    int code = cli_parse_run_args(argc, argv, "rl", "--config --set --out --resume --device --quiet --trust-critic", &args);
    if (code || args.help) {
        if (args.help) fputs(HELP, stdout);
        return code;
    }
    if ((code = cli_run_config(&args, "rl", NULL, &config)) || (code = check_stored_critic(&args, &config))) return code;
    cli_run_options options = {.out = args.out, .resume = args.resume, .quiet = args.quiet};
    return cli_rl_run(&config, &options, NULL);
}
