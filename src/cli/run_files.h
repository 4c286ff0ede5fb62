/* What `t2g train`, `t2g demo` and `t2g rl` share about a run: its folder (config.json,
 * metrics.jsonl, samples.jsonl, checkpoint.bin), evaluations on the task, progress lines. */
#ifndef T2G_CLI_RUN_FILES_H
#define T2G_CLI_RUN_FILES_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "cli.h"
#include "t2g/train.h"

typedef struct cli_run {
    const t2g_config *config;
    const char *kind;          /* "train", "rl", "demo": what run.json says made the run */
    t2g_device *device;        /* for run.json */
    char dir[1024];
    FILE *metrics, *samples;
    bool tty;                  /* progress on one line, rewritten */
    bool quiet;                /* --quiet: no progress lines (evaluations and errors still print) */
    t2g_gpt *model;            /* what evaluations sample from */
    const t2g_text *text;      /* the model's tokenizer and chat template */
    const t2g_task *task;      /* NULL: no evaluations */
    t2g_generator *generator;
    int lock;                  /* the run folder's lock file, held for the life of the run (-1: none) */
    uint64_t resumed_step;     /* continuing: the checkpoint's step (later lines are dropped) */
    bool write_failed;         /* a line could not be written: the run stops */
    t2g_dataset eval_data;     /* eval.path's rows, when set (replaces the task's held-out prompts) */
    t2g_critic *critic;        /* an RL run's external critic: judges eval.path's responses too (or NULL) */
    uint32_t eval_failures;    /* evaluations that failed: warnings, "eval_error" in metrics.jsonl */
    uint64_t skipped_steps;    /* steps with a non-finite value under train.on_nonfinite "skip" */
} cli_run;

/* A new run folder (`out`, or runs/<name>-<time>), or `resumed_dir` when continuing. Takes the
 * folder's lock (<dir>/lock: one process per run), removes temporary files left by an
 * interrupted write, and when continuing drops the lines of metrics.jsonl and samples.jsonl
 * past run->resumed_step; writes config.json and run.json ({"kind", "t2g", "device": {"name",
 * "type", "driver", "vulkan"}, "started"}) and opens the JSONL files for appending. */
int cli_run_open(cli_run *run, const char *out, const char *resumed_dir);
/* Loads eval.path and makes the generator of evaluations (when the run has a task or
 * eval.path, and eval.examples). */
int cli_run_prepare_eval(cli_run *run);
/* Evaluates on eval.path's rows or the task's held-out prompts, prints the result, keeps the
 * samples; adds "eval" to `line`, or writes {"step", "eval"} when line is NULL. A failed
 * evaluation does not end the run: a warning, "eval_error" in place of "eval", counted in
 * run->eval_failures; returns EXIT_OK either way. */
int cli_run_evaluate(cli_run *run, uint64_t step, cJSON *line, const char *when);
/* Appends one JSON object as a line to the run's metrics or samples file (and deletes it). A
 * failed write or flush (a full disk) is reported once, sets run->write_failed and returns
 * EXIT_FAILED; later writes do nothing. */
int cli_run_write(cli_run *run, FILE *file, cJSON *object);
/* What ends a run loop: the exit code of an interrupt (128 + signal), else `code`. After the
 * loop, cli_run_stopped prints how to continue an interrupted run. */
int cli_run_stopped(const cli_run *run, const char *command, uint64_t steps_done, int code);
/* The exit code a finished run owes its evaluations: EXIT_EVAL_FAILED (with a message) if
 * any failed, else EXIT_OK. */
int cli_run_eval_verdict(const cli_run *run);
/* A step in which something went NaN or Inf (`what`: t2g_nonfinite bits; 0: nothing, returns
 * EXIT_OK): adds "nonfinite" (the names) and "update_skipped" to the step's metrics `line`; with
 * train.on_nonfinite "stop", says on stderr which step and what went non-finite and returns
 * EXIT_FAILED (the caller then saves nothing more, so checkpoint.bin stays the last good one);
 * with "skip", a warning, the count in run->skipped_steps, EXIT_OK. */
int cli_run_nonfinite(cli_run *run, uint64_t step, uint32_t what, bool update_skipped, cJSON *line);
/* After the run's first step, `ms` long (it creates most pipelines): one line, unless quiet, with
 * the pipelines created so far and the time t2g spent creating them. */
void cli_run_first_step(const cli_run *run, double ms);
void cli_run_close(cli_run *run);

/* The options of a run command (train, rl, demo): --config, --set (repeatable), --out,
 * --resume, --device, --quiet, --help. */
typedef struct cli_run_args {
    const char *config, *out, *resume, *device;
    const char *sets[64];
    int set_count;
    bool quiet, help;
    bool trust_critic;         /* rl --resume: run the critic command stored in the checkpoint */
    bool from_scratch;         /* demo only: train the SFT start first, */
    const char *sft_sets[16];  /* with these KEY=VALUE overrides of its config (--sft-set) */
    int sft_set_count;
} cli_run_args;
/* Parses argv[2..); options a command does not take (allowed: a string of the option names
 * it does take) are refused as unknown. */
int cli_parse_run_args(int argc, char **argv, const char *command, const char *allowed, cli_run_args *args);
/* The run's config: --resume's checkpoint's, else --config (a file or a built-in name; or
 * `builtin` when given, never a file), with --set applied in order and --device. */
int cli_run_config(const cli_run_args *args, const char *command, const char *builtin, t2g_config *config);

/* "1:05" or "1:02:03". */
void cli_format_duration(double seconds, char *out, size_t size);
/* Loads the checkpoint of --resume, which names a run folder (one with checkpoint.bin) written
 * by a run of `kind`, and gives its folder. */
int cli_run_load_resume(const char *resume, t2g_run_kind kind, t2g_checkpoint *checkpoint, char *dir, size_t size);

#endif
