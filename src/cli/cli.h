/* What the subcommands share: argument parsing, opening the device, reporting errors. Only
 * src/cli/ prints and exits. Exit codes: 0 success, 1 a check or run failed, 2 bad usage or
 * no usable Vulkan device, 3 a run that finished (checkpoint and report written) but one of
 * its evaluations failed. */
#ifndef T2G_CLI_H
#define T2G_CLI_H

#include <stdbool.h>

#include "t2g/t2g.h"
#include "t2g/config.h"
#include "t2g/train.h"

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_EVAL_FAILED = 3 };

/* "t2g: error: ..." on standard error. */
void cli_error(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* Interrupts (SIGINT, SIGTERM, SIGHUP) during runs: the first is noted (and asks the library to
 * stop, t2g_interrupt_request); a second exits at once with 128 + its number. */
int cli_interrupts_install(void);
/* The signal caught (0: none). */
int cli_interrupted(void);
const char *cli_signal_name(int signal_number);

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
 * with the --set overrides applied in order, coupled settings adjusted for a train or (rl) an RL
 * run (t2g_config_adjust, a "t2g: note:" each), validated; prints the error and returns
 * EXIT_USAGE on failure. */
int cli_load_config(const char *path, const char *const *sets, int set_count, bool rl, t2g_config *config);
/* EXIT_USAGE (with the message) when `path` names no file but a built-in config meant for
 * another command (e.g. `t2g train --config demo`, which is t2g rl's). */
int cli_check_config_command(const char *path, const char *command);
/* The same for a config of assets/ (embedded), never a file of that name. */
int cli_load_builtin_config(const char *name, const char *const *sets, int set_count, bool rl, t2g_config *config);
/* --resume names a run folder (its checkpoint.bin); anything else is refused (EXIT_USAGE, with
 * the message). */
int cli_resume_paths(const char *resume, char *checkpoint, size_t checkpoint_size, char *dir, size_t dir_size);
/* EXIT_USAGE (with the message) unless the checkpoint was written by a run of `kind`. */
int cli_check_resume_kind(const char *resume, const t2g_checkpoint *checkpoint, t2g_run_kind kind);
/* The config stored in the checkpoint of the run folder `resume`, made by a run of `kind`, with
 * --set applied, coupled settings adjusted and validated. */
int cli_resume_config(const char *resume, t2g_run_kind kind, const char *const *sets, int set_count, t2g_config *config);

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
/* A warning on standard error when model.context cuts training examples (t2g_dataset_fit):
 * the count, those left with no response token, and the --set model.context that keeps them. */
void cli_warn_data_fit(const t2g_trainer *trainer);
/* "memory: parameters ... GiB, ..." for a run's model (and for an rl run, NULL otherwise, its
 * reference policy, generator and model critic). */
void cli_print_memory_plan(const t2g_config *config, const t2g_gpt *model, const t2g_device *device, const t2g_rl *rl);
/* The RL loop behind `t2g rl` and `t2g demo`; made_dir: a run folder made already (the demo's). */
int cli_rl_run(t2g_config *config, const cli_run_options *options, const char *made_dir);

/* A checkpoint's greedy metrics (t2g eval) on a built-in task (task; NULL: the checkpoint's
 * data.task, set into the request): held-out prompts, or with practised the first `examples`
 * of its training stream; or on the rows of a JSONL file (data, t2g_evaluate_data). 0 / NULL:
 * the checkpoint's own (data.seed; 200 held-out, data.examples practised or every row;
 * eval.max_new_tokens). */
typedef struct cli_eval_request {
    const t2g_task *task;
    const char *data;
    bool practised;
    const uint64_t *seed;
    uint32_t examples, max_new_tokens;
    uint32_t context;           /* --context: a Hugging Face folder's or GGUF file's context at most this (0: its own) */
    const char *chat_template;  /* --chat-template, --system-prompt (NULL: the model's own; cli_text_chat) */
    const char *system_prompt;
} cli_eval_request;
int cli_eval_checkpoint(t2g_device *device, const char *ckpt, cli_eval_request *request, t2g_eval_result *result);

/* The model of --ckpt CKPT (a t2g checkpoint or run folder) or --model PATH (any model path,
 * t2g_model_path), at most one of them, in *path (NULL: neither); EXIT_USAGE with the message
 * when both are given, the path names no model or --ckpt names a Hugging Face folder. */
int cli_model_arg(const char *command, const char *ckpt, const char *model, const char **path);
/* "t2g: note: ..." on standard error when `path` is a Hugging Face folder without tokenizer.json
 * (its text is read with t2g's byte tokenizer); `what` names the option or key ("model.from"). */
void cli_note_model(const char *what, const char *path);
/* "t2g: note: <chosen>" on stderr for a model with a BPE tokenizer (t2g_text_set_chat's sentence). */
void cli_note_text(const t2g_text *text, const char *chosen);
/* --chat-template NAME and --system-prompt TEXT (NULL: not given) into config's model.chat_template
 * and model.system_prompt; --chat-template none without --system-prompt also clears
 * model.system_prompt (none has no system turn). EXIT_USAGE, with a message naming the option, the
 * value and what it takes, when the name is no template or the text is too long. */
int cli_chat_config(const char *command, const char *chat_template, const char *system_prompt, t2g_config *config);
/* A loaded model's text (config: the model's) read with --chat-template / --system-prompt when
 * either is given (cli_chat_config on a copy of config, then t2g_text_set_chat), and the note on
 * the choice (cli_note_text; `chosen`: the sentence of the model's own choice, when neither is
 * given). EXIT_USAGE with the message when the text cannot take them. */
int cli_text_chat(const char *command, t2g_text *text, const t2g_config *config, const char *chat_template,
                  const char *system_prompt, const char *chosen);

struct cJSON;
/* A critique's spans found in a response and the score each (byte) token gets: the readable view
 * of t2g align, or with json (an object, taken and freed) its "tokens" and "spans" added and the
 * object printed as one line. EXIT_OK, or the exit code after printing the error. */
int cli_show_critique(const char *command, const char *response, size_t len, const t2g_critique *critique,
                      const t2g_span_scores *scores, struct cJSON *json);
/* Gives a language-model critic its cache (critic.cache; "": run_dir/critiques.jsonl, none
 * without a run folder; "none": no cache). EXIT_OK, or EXIT_USAGE after the message. */
int cli_critic_cache(t2g_critic *critic, const t2g_config *config, const char *run_dir);

int cmd_devices(int argc, char **argv);
int cmd_selfcheck(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int bench_kernels(int argc, char **argv);
int bench_train(int argc, char **argv);
int bench_rollout(int argc, char **argv);
int bench_align(int argc, char **argv);
int bench_tokenize(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_align(int argc, char **argv);
int cmd_rl(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_critique(int argc, char **argv);

#endif
