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
    t2g_gpt *model;            /* what evaluations sample from */
    const t2g_task *task;      /* NULL: no evaluations */
    t2g_generator *generator;
    t2g_dataset eval_data;     /* eval.path's rows, when set (replaces the task's held-out prompts) */
    t2g_critic *critic;        /* an RL run's external critic: judges eval.path's responses too (or NULL) */
    uint32_t eval_failures;    /* evaluations that failed: warnings, "eval_error" in metrics.jsonl */
} cli_run;

/* A new run folder (`out`, or runs/<name>-<time>), or `resumed_dir` when continuing; writes
 * config.json and run.json ({"kind", "t2g", "device": {"name", "type", "driver", "vulkan"},
 * "started"}) and opens the JSONL files for appending. */
int cli_run_open(cli_run *run, const char *out, const char *resumed_dir);
/* Loads eval.path and makes the generator of evaluations (when the run has a task or
 * eval.path, and eval.examples). */
int cli_run_prepare_eval(cli_run *run);
/* Evaluates on eval.path's rows or the task's held-out prompts, prints the result, keeps the
 * samples; adds "eval" to `line`, or writes {"step", "eval"} when line is NULL. A failed
 * evaluation does not end the run: a warning, "eval_error" in place of "eval", counted in
 * run->eval_failures; returns EXIT_OK either way. */
int cli_run_evaluate(cli_run *run, uint64_t step, cJSON *line, const char *when);
/* The exit code a finished run owes its evaluations: EXIT_EVAL_FAILED (with a message) if
 * any failed, else EXIT_OK. */
int cli_run_eval_verdict(const cli_run *run);
/* Appends one JSON object as a line (and deletes it). */
void cli_run_write(FILE *file, cJSON *object);
void cli_run_close(cli_run *run);

/* The options of a run command (train, rl, demo): --config, --set (repeatable), --out,
 * --resume, --device, --quiet, --help. */
typedef struct cli_run_args {
    const char *config, *out, *resume, *device;
    const char *sets[64];
    int set_count;
    bool quiet, help;
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
/* Loads the checkpoint of --resume (a run folder or a checkpoint) and its folder. */
int cli_run_load_resume(const char *resume, t2g_checkpoint *checkpoint, char *dir, size_t size);

#endif
