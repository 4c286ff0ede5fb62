/* The training loop behind `t2g train` and `t2g demo`: a run folder with the effective
 * config, metrics.jsonl (one object per step), samples.jsonl (responses at each evaluation)
 * and checkpoint.bin; a progress line with ETA on a terminal, plain lines otherwise. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "run_files.h"

typedef struct run_state {
    cli_run run;
    t2g_device *device;
    t2g_trainer *trainer;
} run_state;

static void report_progress(run_state *s, const t2g_step_stats *st, double elapsed_s, uint64_t first_step) {
    const t2g_config *c = s->run.config;
    double per_step = elapsed_s / (double)(st->step - first_step);
    char eta[32];
    cli_format_duration(per_step * (double)(c->steps - st->step), eta, sizeof eta);
    bool due = st->step % (c->log_every ? c->log_every : 1) == 0 || st->step == c->steps || st->step == first_step + 1;
    if (s->run.quiet || (!s->run.tty && !due)) return;
    printf("%sstep %llu/%u | loss %.4f | lr %.2e | grad norm %.3f | %.1f ms/step | %.0f tok/s | ETA %s%s",
           s->run.tty ? "\r\033[K" : "", (unsigned long long)st->step, c->steps, st->loss, st->lr, st->grad_norm, st->ms,
           st->tokens_per_s, eta, s->run.tty ? "" : "\n");
    fflush(stdout);
}

static int write_step(run_state *s, const t2g_step_stats *st) {
    const t2g_config *c = s->run.config;
    cJSON *line = cJSON_CreateObject();
    cJSON_AddNumberToObject(line, "step", (double)st->step);
    cJSON_AddNumberToObject(line, "loss", st->loss);
    cJSON_AddNumberToObject(line, "lr", st->lr);
    cJSON_AddNumberToObject(line, "grad_norm", st->grad_norm);
    cJSON_AddNumberToObject(line, "tokens_per_s", st->tokens_per_s);
    cJSON_AddNumberToObject(line, "ms_per_step", st->ms);
    cJSON_AddNumberToObject(line, "truncated", st->truncated);
    int nonfinite = cli_run_nonfinite(&s->run, st->step, st->nonfinite, st->update_skipped, line);
    bool eval_due = !nonfinite && ((c->eval.every && st->step % c->eval.every == 0) || st->step == c->steps);
    int code = EXIT_OK;
    if (eval_due) {
        char when[64];
        snprintf(when, sizeof when, "eval at step %llu", (unsigned long long)st->step);
        code = cli_run_evaluate(&s->run, st->step, line, when);
    }
    if (code) {
        cJSON_Delete(line);
        return code;
    }
    code = cli_run_write(&s->run, s->run.metrics, line); /* a non-finite step's line too */
    return code ? code : nonfinite;
}

static int save_checkpoint(run_state *s) {
    char path[1200];
    snprintf(path, sizeof path, "%s/checkpoint.bin", s->run.dir);
    t2g_error err = {0};
    if (t2g_trainer_save(s->trainer, path, &err)) {
        cli_error("%s", err.message);
        return EXIT_FAILED;
    }
    return EXIT_OK;
}

static int train_loop(run_state *s) {
    uint64_t first = t2g_trainer_steps_done(s->trainer);
    double elapsed = 0;
    int code = EXIT_OK;
    for (uint64_t step = first; step < s->run.config->steps && !code && !cli_interrupted(); step++) {
        t2g_step_stats stats;
        t2g_error err = {0};
        if (t2g_trainer_step(s->trainer, &stats, &err)) {
            cli_error("%s", err.message);
            return EXIT_FAILED;
        }
        elapsed += stats.ms * 1e-3;
        report_progress(s, &stats, elapsed, first);
        if (stats.step == first + 1) cli_run_first_step(&s->run, stats.ms);
        code = write_step(s, &stats);
        uint32_t every = s->run.config->checkpoint.every;
        if (!code && every && stats.step % every == 0 && stats.step != s->run.config->steps) code = save_checkpoint(s);
    }
    if (s->run.tty) printf("\n");
    return code;
}

int cli_train_run(t2g_config *config, const cli_run_options *o, char *run_dir, size_t run_dir_size) {
    run_state s = {.run = {.config = config, .tty = isatty(STDOUT_FILENO) && !o->quiet, .quiet = o->quiet, .lock = -1}};
    if (cli_interrupts_install()) return EXIT_FAILED;
    t2g_checkpoint checkpoint = {0};
    char resumed_dir[1024];
    int code = o->resume ? cli_run_load_resume(o->resume, T2G_RUN_TRAIN, &checkpoint, resumed_dir, sizeof resumed_dir)
                         : EXIT_OK;
    s.run.resumed_step = checkpoint.step;
    if (!code) code = cli_open_device(config->device[0] ? config->device : NULL, &s.device);
    t2g_error err = {0};
    if (!code && t2g_trainer_create(s.device, config, &s.trainer, &err)) {
        cli_error("%s", err.message);
        code = EXIT_USAGE;
    }
    if (!code) cli_note_model("model.from", config->model_from);
    if (!code) cli_warn_data_fit(s.trainer);
    if (!code && o->resume && t2g_trainer_resume(s.trainer, &checkpoint, &err)) {
        cli_error("--resume %s: %s", o->resume, err.message);
        code = EXIT_USAGE;
    }
    if (!code) {
        s.run.config = t2g_trainer_config(s.trainer); /* with model.from's model: what config.json records */
        s.run.model = t2g_trainer_model(s.trainer);
        s.run.text = t2g_trainer_text(s.trainer);
        cli_note_text(s.run.text, t2g_trainer_text_note(s.trainer));
        s.run.task = t2g_trainer_task(s.trainer);
        s.run.device = s.device;
        s.run.kind = o->kind ? o->kind : "train";
        code = cli_run_open(&s.run, o->out, o->resume ? resumed_dir : NULL);
    }
    if (!code) code = cli_run_prepare_eval(&s.run);
    if (!code) {
        const t2g_device_info *info = t2g_device_get_info(s.device);
        printf("run %s on %s: %llu parameters, %zu training examples, %u steps of %u sequences\n", s.run.dir, info->name,
               (unsigned long long)t2g_gpt_parameter_count(s.run.model), t2g_trainer_dataset(s.trainer)->count,
               config->steps, config->batch_size);
        cli_print_memory_plan(t2g_trainer_config(s.trainer), s.run.model, s.device, NULL);
        fflush(stdout);
    }
    if (!code && o->evaluate_first && t2g_trainer_steps_done(s.trainer) == 0)
        code = cli_run_evaluate(&s.run, 0, NULL, "before training");
    if (!code) code = train_loop(&s);
    if (!code || s.run.write_failed) code = save_checkpoint(&s) ? EXIT_FAILED : code;
    if (s.run.dir[0]) code = cli_run_stopped(&s.run, "train", s.trainer ? t2g_trainer_steps_done(s.trainer) : 0, code);
    if (!code) printf("run folder: %s (config.json, metrics.jsonl, samples.jsonl, checkpoint.bin)\n", s.run.dir);
    if (run_dir) snprintf(run_dir, run_dir_size, "%s", s.run.dir);
    cli_run_close(&s.run);
    if (!code) code = cli_run_eval_verdict(&s.run);
    t2g_trainer_destroy(s.trainer);
    t2g_checkpoint_free(&checkpoint);
    int closing = cli_close_device(s.device);
    return code ? code : closing;
}
