/* What the subcommands share: argument parsing, opening the device, reporting errors. Only
 * src/cli/ prints and exits. Exit codes: 0 success, 1 a check or run failed, 2 bad usage or
 * no usable Vulkan device. */
#ifndef T2G_CLI_H
#define T2G_CLI_H

#include <stdbool.h>

#include "t2g/t2g.h"
#include "t2g/config.h"
#include "t2g/train.h"

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

/* "t2g: error: ..." on standard error. */
void cli_error(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* Walks argv[first..argc): each call matches one option at *i. */
typedef struct cli_args {
    int argc;
    char **argv;
    int i;
    const char *command; /* for messages: "devices", "bench kernels", ... */
    bool failed;
} cli_args;

cli_args cli_args_start(int argc, char **argv, int first, const char *command);
bool cli_args_more(const cli_args *args);
/* true (and advances) if argv[i] is `name`. */
bool cli_flag(cli_args *args, const char *name);
/* true (and advances past both) if argv[i] is `name`; *value is the next argument. A missing
 * value is reported and sets args->failed. */
bool cli_value(cli_args *args, const char *name, const char **value);
/* Reports argv[i] as unknown, with the command's --help hint; returns EXIT_USAGE. */
int cli_unknown(cli_args *args);

/* Whole-string number parsing for option values: false unless the text is a number within
 * [min, max] and nothing else. */
bool cli_parse_u64(const char *text, uint64_t max, uint64_t *value);
bool cli_parse_double(const char *text, double min, double max, double *value);

/* Opens the device named by --device (or T2G_DEVICE, or the best one); prints the error and
 * returns EXIT_USAGE on failure. Validation messages go to standard error. */
int cli_open_device(const char *device, t2g_device **out);
/* Prints the validation summary; returns EXIT_FAILED if any message was received. */
int cli_close_device(t2g_device *device);

/* The config of --config (a file, or a built-in config of assets/ by name; NULL: the defaults)
 * with the --set overrides applied in order, validated; prints the error and returns
 * EXIT_USAGE on failure. */
int cli_load_config(const char *path, const char *const *sets, int set_count, t2g_config *config);
/* The same for a config of assets/ (embedded), never a file of that name. */
int cli_load_builtin_config(const char *name, const char *const *sets, int set_count, t2g_config *config);
/* --resume names a run folder (its checkpoint.bin) or a checkpoint (its folder is the run's). */
void cli_resume_paths(const char *resume, char *checkpoint, size_t checkpoint_size, char *dir, size_t dir_size);
/* The config stored in the checkpoint of `resume` (a checkpoint or a run folder), with --set
 * applied and validated. */
int cli_resume_config(const char *resume, const char *const *sets, int set_count, t2g_config *config);

/* The training loop shared by train and demo: creates or continues the run folder, trains,
 * evaluates, checkpoints; `resume` is a checkpoint or a run folder (or NULL). On success
 * run_dir holds the folder (run_dir_size bytes). */
typedef struct cli_run_options {
    const char *out;           /* --out, or NULL for runs/<name>-<time> */
    const char *resume;
    bool quiet;                /* no progress lines */
    bool evaluate_first;       /* also evaluate before the first step (demo) */
    const char *kind;          /* for run.json: NULL for the command's own ("train", "rl"), or "demo", "demo-sft" */
} cli_run_options;
int cli_train_run(t2g_config *config, const cli_run_options *options, char *run_dir, size_t run_dir_size);
/* The RL loop behind `t2g rl` and `t2g demo`; made_dir: a run folder made already (the demo's). */
int cli_rl_run(t2g_config *config, const cli_run_options *options, const char *made_dir);

/* A checkpoint's greedy metrics on a built-in task (t2g eval): held-out prompts, or with
 * practised the first `examples` of its training stream. 0 / NULL: the checkpoint's own
 * (data.seed; 200 held-out or data.examples practised examples; eval.max_new_tokens). */
typedef struct cli_eval_request {
    const t2g_task *task;
    bool practised;
    const uint64_t *seed;
    uint32_t examples, max_new_tokens;
} cli_eval_request;
int cli_eval_checkpoint(t2g_device *device, const char *ckpt, const cli_eval_request *request, t2g_eval_result *result);

int cmd_devices(int argc, char **argv);
int cmd_selfcheck(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int bench_kernels(int argc, char **argv);
int bench_train(int argc, char **argv);
int bench_rollout(int argc, char **argv);
int bench_align(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_align(int argc, char **argv);
int cmd_rl(int argc, char **argv);
int cmd_report(int argc, char **argv);

#endif
