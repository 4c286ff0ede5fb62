/* The training loop behind `t2g train` and `t2g demo`: a run folder with the effective
 * config, metrics.jsonl (one object per step), samples.jsonl (responses at each evaluation)
 * and checkpoint.bin; a progress line with ETA on a terminal, plain lines otherwise. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "t2g/train.h"

typedef struct run_state {
    t2g_config *config;
    t2g_device *device;
    t2g_trainer *trainer;
    t2g_generator *generator;  /* for evaluations, when the data is a task */
    FILE *metrics, *samples;
    char dir[1024];
    bool tty;
} run_state;

static void format_duration(double seconds, char *out, size_t size) {
    long s = (long)(seconds + 0.5);
    if (s >= 3600) snprintf(out, size, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else snprintf(out, size, "%ld:%02ld", s / 60, s % 60);
}

static void print_eval(const char *when, const t2g_eval_result *r) {
    printf("%s:", when);
    for (uint32_t i = 0; i < r->metrics.count; i++) printf(" %s %.4f", r->metrics.names[i], r->metrics.values[i]);
    printf(" (%u examples, %.1f s)\n", r->metrics.examples, r->seconds);
    for (uint32_t i = 0; i < r->sample_count && i < 3; i++)
        printf("  %s -> %s   (reference: %s)\n", r->samples[i].prompt, r->samples[i].response, r->samples[i].reference);
    fflush(stdout);
}

static cJSON *metrics_json(const t2g_task_metrics *m) {
    cJSON *o = cJSON_CreateObject();
    for (uint32_t i = 0; i < m->count; i++) cJSON_AddNumberToObject(o, m->names[i], m->values[i]);
    return o;
}

static void write_samples(run_state *s, uint64_t step, const t2g_eval_result *r) {
    for (uint32_t i = 0; i < r->sample_count; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "step", (double)step);
        cJSON_AddStringToObject(o, "prompt", r->samples[i].prompt);
        cJSON_AddStringToObject(o, "response", r->samples[i].response);
        cJSON_AddStringToObject(o, "reference", r->samples[i].reference);
        cJSON_AddItemToObject(o, "score", metrics_json(&r->samples[i].score));
        char *line = cJSON_PrintUnformatted(o);
        fprintf(s->samples, "%s\n", line);
        cJSON_free(line);
        cJSON_Delete(o);
    }
    fflush(s->samples);
}

/* Evaluates on the task's held-out prompts; adds "eval" to `line` (if not NULL). */
static int evaluate(run_state *s, uint64_t step, cJSON *line, const char *when) {
    const t2g_config *c = s->config;
    const t2g_task *task = t2g_trainer_task(s->trainer);
    if (!task || c->eval.examples == 0) return EXIT_OK;
    t2g_eval_result result;
    t2g_error err = {0};
    if (t2g_evaluate(t2g_trainer_model(s->trainer), s->generator, task, c->data.seed, c->eval.examples, c->eval.samples,
                     c->eval.max_new_tokens, &result, &err)) {
        cli_error("evaluating at step %llu: %s", (unsigned long long)step, err.message);
        return EXIT_FAILED;
    }
    if (s->tty) printf("\r\033[K");
    print_eval(when, &result);
    write_samples(s, step, &result);
    if (line) {
        cJSON *eval = metrics_json(&result.metrics);
        cJSON_AddNumberToObject(eval, "seconds", result.seconds);
        cJSON_AddItemToObject(line, "eval", eval);
    } else {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "step", (double)step);
        cJSON_AddItemToObject(o, "eval", metrics_json(&result.metrics));
        char *text = cJSON_PrintUnformatted(o);
        fprintf(s->metrics, "%s\n", text);
        fflush(s->metrics);
        cJSON_free(text);
        cJSON_Delete(o);
    }
    t2g_eval_result_free(&result);
    return EXIT_OK;
}

static void report_progress(run_state *s, const t2g_step_stats *st, double elapsed_s, uint64_t first_step) {
    const t2g_config *c = s->config;
    double per_step = elapsed_s / (double)(st->step - first_step);
    char eta[32];
    format_duration(per_step * (double)(c->steps - st->step), eta, sizeof eta);
    bool due = st->step % (c->log_every ? c->log_every : 1) == 0 || st->step == c->steps || st->step == first_step + 1;
    if (!s->tty && !due) return;
    printf("%sstep %llu/%u | loss %.4f | lr %.2e | grad norm %.3f | %.1f ms/step | %.0f tok/s | ETA %s%s",
           s->tty ? "\r\033[K" : "", (unsigned long long)st->step, c->steps, st->loss, st->lr, st->grad_norm, st->ms,
           st->tokens_per_s, eta, s->tty ? "" : "\n");
    fflush(stdout);
}

static int write_step(run_state *s, const t2g_step_stats *st) {
    const t2g_config *c = s->config;
    cJSON *line = cJSON_CreateObject();
    cJSON_AddNumberToObject(line, "step", (double)st->step);
    cJSON_AddNumberToObject(line, "loss", st->loss);
    cJSON_AddNumberToObject(line, "lr", st->lr);
    cJSON_AddNumberToObject(line, "grad_norm", st->grad_norm);
    cJSON_AddNumberToObject(line, "tokens_per_s", st->tokens_per_s);
    cJSON_AddNumberToObject(line, "ms_per_step", st->ms);
    cJSON_AddNumberToObject(line, "truncated", st->truncated);
    int code = EXIT_OK;
    bool eval_due = (c->eval.every && st->step % c->eval.every == 0) || st->step == c->steps;
    if (eval_due) {
        char when[64];
        snprintf(when, sizeof when, "eval at step %llu", (unsigned long long)st->step);
        code = evaluate(s, st->step, line, when);
    }
    char *text = cJSON_PrintUnformatted(line);
    fprintf(s->metrics, "%s\n", text);
    fflush(s->metrics);
    cJSON_free(text);
    cJSON_Delete(line);
    return code;
}

static int save_checkpoint(run_state *s) {
    char path[1200];
    snprintf(path, sizeof path, "%s/checkpoint.bin", s->dir);
    t2g_error err = {0};
    if (t2g_trainer_save(s->trainer, path, &err)) {
        cli_error("%s", err.message);
        return EXIT_FAILED;
    }
    return EXIT_OK;
}

/* The run folder: a new one, or the folder of the checkpoint being resumed. */
static int open_run_dir(run_state *s, const cli_run_options *o, const char *resumed_dir) {
    t2g_error err = {0};
    if (resumed_dir) snprintf(s->dir, sizeof s->dir, "%s", resumed_dir);
    else if (t2g_run_dir_create("runs", s->config->name, o->out, s->dir, sizeof s->dir, &err)) {
        cli_error("%s", err.message);
        return EXIT_USAGE;
    }
    char *json = t2g_config_to_json(s->config);
    if (!json || t2g_write_file_atomic(s->dir, "config.json", json, strlen(json), &err)) {
        cli_error("%s", json ? err.message : "out of memory");
        free(json);
        return EXIT_FAILED;
    }
    free(json);
    char path[1200];
    snprintf(path, sizeof path, "%s/metrics.jsonl", s->dir);
    s->metrics = fopen(path, "a");
    snprintf(path, sizeof path, "%s/samples.jsonl", s->dir);
    s->samples = fopen(path, "a");
    if (!s->metrics || !s->samples) {
        cli_error("cannot write in the run folder %s: %s", s->dir, strerror(errno));
        return EXIT_FAILED;
    }
    return EXIT_OK;
}

/* --resume: a checkpoint file, or a run folder holding checkpoint.bin. */
static int load_resume(const char *resume, t2g_checkpoint *checkpoint, char *dir, size_t size) {
    char path[1200];
    cli_resume_paths(resume, path, sizeof path, dir, size);
    t2g_error err = {0};
    if (t2g_checkpoint_load(path, checkpoint, &err)) {
        cli_error("--resume: %s", err.message);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

static int train_loop(run_state *s) {
    uint64_t first = t2g_trainer_steps_done(s->trainer);
    double start = 0;
    int code = EXIT_OK;
    for (uint64_t step = first; step < s->config->steps && !code; step++) {
        t2g_step_stats stats;
        t2g_error err = {0};
        if (t2g_trainer_step(s->trainer, &stats, &err)) {
            cli_error("%s", err.message);
            return EXIT_FAILED;
        }
        start += stats.ms * 1e-3;
        report_progress(s, &stats, start, first);
        code = write_step(s, &stats);
        uint32_t every = s->config->checkpoint.every;
        if (!code && every && stats.step % every == 0 && stats.step != s->config->steps) code = save_checkpoint(s);
    }
    if (s->tty) printf("\n");
    return code;
}

int cli_train_run(t2g_config *config, const cli_run_options *o, char *run_dir, size_t run_dir_size) {
    run_state s = {.config = config, .tty = isatty(STDOUT_FILENO) && !o->quiet};
    t2g_checkpoint checkpoint = {0};
    char resumed_dir[1024];
    int code = o->resume ? load_resume(o->resume, &checkpoint, resumed_dir, sizeof resumed_dir) : EXIT_OK;
    if (!code) code = cli_open_device(config->device[0] ? config->device : NULL, &s.device);
    t2g_error err = {0};
    if (!code && t2g_trainer_create(s.device, config, &s.trainer, &err)) {
        cli_error("%s", err.message);
        code = EXIT_USAGE;
    }
    if (!code && o->resume && t2g_trainer_resume(s.trainer, &checkpoint, &err)) {
        cli_error("--resume %s: %s", o->resume, err.message);
        code = EXIT_USAGE;
    }
    if (!code) code = open_run_dir(&s, o, o->resume ? resumed_dir : NULL);
    if (!code && t2g_trainer_task(s.trainer) && config->eval.examples) {
        uint32_t batch = config->eval.examples < 64 ? config->eval.examples : 64;
        if (t2g_generator_create(t2g_trainer_model(s.trainer), batch, &s.generator, &err)) {
            cli_error("%s", err.message);
            code = EXIT_FAILED;
        }
    }
    if (!code) {
        const t2g_device_info *info = t2g_device_get_info(s.device);
        printf("run %s on %s: %llu parameters, %zu training examples, %u steps of %u sequences\n", s.dir, info->name,
               (unsigned long long)t2g_gpt_parameter_count(t2g_trainer_model(s.trainer)),
               t2g_trainer_dataset(s.trainer)->count, config->steps, config->batch_size);
        fflush(stdout);
    }
    if (!code && o->evaluate_first && t2g_trainer_steps_done(s.trainer) == 0) code = evaluate(&s, 0, NULL, "before training");
    if (!code) code = train_loop(&s);
    if (!code) code = save_checkpoint(&s);
    if (!code) printf("run folder: %s (config.json, metrics.jsonl, samples.jsonl, checkpoint.bin)\n", s.dir);
    if (run_dir) snprintf(run_dir, run_dir_size, "%s", s.dir);
    if (s.metrics) fclose(s.metrics);
    if (s.samples) fclose(s.samples);
    t2g_generator_destroy(s.generator);
    t2g_trainer_destroy(s.trainer);
    t2g_checkpoint_free(&checkpoint);
    int closing = cli_close_device(s.device);
    return code ? code : closing;
}
