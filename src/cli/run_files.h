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
    uint64_t skipped_steps;    /* steps with a non-finite value under train.on_nonfinite "skip" */
} cli_run;

/* A new run folder (`out`, or runs/<name>-<time>), or `resumed_dir` when continuing; writes
 * config.json and run.json ({"kind", "t2g", "device": {"name", "type", "driver", "vulkan"},
 * "started"}) and opens the JSONL files for appending. */
int cli_run_open(cli_run *run, const char *out, const char *resumed_dir);
/* Makes the generator of evaluations (when the run has a task and eval.examples). */
int cli_run_prepare_eval(cli_run *run);
/* Evaluates on the task's held-out prompts, prints the result, keeps the samples; adds "eval"
 * to `line`, or writes {"step", "eval"} when line is NULL. */
int cli_run_evaluate(cli_run *run, uint64_t step, cJSON *line, const char *when);
/* A step in which something went NaN or Inf (`what`: t2g_nonfinite bits; 0: nothing, returns
 * EXIT_OK): adds "nonfinite" (the names) and "update_skipped" to the step's metrics `line`; with
 * train.on_nonfinite "stop", says on stderr which step and what went non-finite and returns
 * EXIT_FAILED (the caller then saves nothing more, so checkpoint.bin stays the last good one);
 * with "skip", a warning, the count in run->skipped_steps, EXIT_OK. */
int cli_run_nonfinite(cli_run *run, uint64_t step, uint32_t what, bool update_skipped, cJSON *line);
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
