/* Training runs: the trainer (data -> batches -> optimizer steps), evaluation on a built-in
 * task, checkpoints and resuming, run directories. */
#ifndef T2G_TRAIN_H
#define T2G_TRAIN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "t2g/checkpoint.h"
#include "t2g/config.h"
#include "t2g/critic.h"
#include "t2g/dataset.h"
#include "t2g/device.h"
#include "t2g/generate.h"
#include "t2g/gpt.h"
#include "t2g/model_path.h"
#include "t2g/nonfinite.h"
#include "t2g/status.h"
#include "t2g/tasks.h"
#include "t2g/text.h"

/* The learning rate of step `step` (1 for the first): linear warm-up from lr / warmup_steps to
 * lr, then (kind "cosine") a cosine from lr down to lr * min_lr_fraction at the last step, or
 * (kind "constant") lr. */
double t2g_schedule_lr(const t2g_config *config, uint64_t step);

typedef struct t2g_step_stats {
    uint64_t step;            /* the step just taken, 1-based */
    double loss;              /* mean cross-entropy over the step's weighted targets */
    double lr;
    double grad_norm;         /* before clipping */
    double ms;                /* wall time of the step, data preparation included */
    double tokens_per_s;      /* weighted target tokens per second */
    uint32_t truncated;       /* examples cut at the context in this step */
    uint32_t nonfinite;       /* t2g_nonfinite bits: what was NaN or Inf in this step (0: nothing) */
    bool update_skipped;      /* the gradient norm was not finite: the GPU left parameters and moments as they were */
} t2g_step_stats;

typedef struct t2g_trainer t2g_trainer;

/* Loads the data the config names (a built-in task's demonstrations, or a file), creates the
 * model and initialises it from config->seed. */
t2g_status t2g_trainer_create(t2g_device *device, const t2g_config *config, t2g_trainer **trainer, t2g_error *err);
void t2g_trainer_destroy(t2g_trainer *trainer);

/* Continues from a checkpoint: parameters, moments, step, data cursor, random state. The
 * checkpoint's model must have the trainer's shape. */
t2g_status t2g_trainer_resume(t2g_trainer *trainer, const t2g_checkpoint *checkpoint, t2g_error *err);

/* One optimizer step over config->batch_size sequences in micro-batches, in one submission.
 * When the gradient norm is NaN or Inf the update is skipped on the GPU (stats->update_skipped);
 * stats->nonfinite names what was not finite. A skipped step still counts: its batch is used up
 * and the step counter advances, so a checkpoint written after it resumes exactly as the run
 * would have gone on. Whether to go on is the caller's decision (train.on_nonfinite). */
t2g_status t2g_trainer_step(t2g_trainer *trainer, t2g_step_stats *stats, t2g_error *err);

/* Writes a checkpoint of the current state (temporary file, then rename). */
t2g_status t2g_trainer_save(t2g_trainer *trainer, const char *path, t2g_error *err);

uint64_t t2g_trainer_steps_done(const t2g_trainer *trainer);
t2g_gpt *t2g_trainer_model(t2g_trainer *trainer);
const t2g_config *t2g_trainer_config(const t2g_trainer *trainer);
const t2g_dataset *t2g_trainer_dataset(const t2g_trainer *trainer);
/* The model's text (tokenizer and chat template) and the sentence on the template chosen. */
const t2g_text *t2g_trainer_text(const t2g_trainer *trainer);
const char *t2g_trainer_text_note(const t2g_trainer *trainer);
/* Points a checkpoint about to be saved at the text's tokenizer files (borrowed; NULL for the
 * byte tokenizer), so that the checkpoint carries its tokenizer. */
void t2g_checkpoint_set_tokenizer(t2g_checkpoint *checkpoint, const t2g_text *text);
/* The task the data came from, or NULL for a file. */
const t2g_task *t2g_trainer_task(const t2g_trainer *trainer);

/* ---- evaluation ---- */

typedef struct t2g_eval_sample {
    char *prompt;             /* escaped, valid UTF-8 */
    char *response;           /* escaped, valid UTF-8 */
    char *reference;
    t2g_task_metrics score;   /* this response's own metrics */
} t2g_eval_sample;

typedef struct t2g_eval_result {
    t2g_task_metrics metrics; /* over every example */
    uint32_t sample_count;
    t2g_eval_sample *samples; /* the first `samples` examples, kept for the run directory */
    double seconds;
} t2g_eval_result;

/* Greedy responses of the model to `examples` prompts of the task's evaluation stream for
 * `seed` (t2g_task_eval_seed), scored. `generator` may be NULL (one is made); `text` is the
 * model's (prompts wrapped in its chat template). */
t2g_status t2g_evaluate(t2g_gpt *gpt, t2g_generator *generator, const t2g_text *text, const t2g_task *task,
                        uint64_t seed, uint32_t examples, uint32_t samples, uint32_t max_new_tokens,
                        t2g_eval_result *result, t2g_error *err);
/* The same on examples 0 .. examples-1 of the task's stream `stream` itself: with the
 * training seed (data.seed), the prompts a run trained on, e.g. the pool of an RL run. */
t2g_status t2g_evaluate_stream(t2g_gpt *gpt, t2g_generator *generator, const t2g_text *text, const t2g_task *task,
                               uint64_t stream,
                               uint32_t examples, uint32_t samples, uint32_t max_new_tokens, t2g_eval_result *result,
                               t2g_error *err);
/* Held-out evaluation on prompt/response rows (eval.path): on the first `examples` rows (0: all),
 * metrics "loss" (the teacher-forced mean cross-entropy of the responses and their EOS, in
 * micro-batches of the model's capacity), then exact_match, bleu4 and rougeL of the greedy
 * responses against the rows' responses (t2g_reference_evaluate), and with a critic (one that
 * needs no task example: an external one; NULL: none) "critic_score", its mean score over the
 * responses it judged (none judged is an error). A prompt that leaves no room for a response in
 * the context is an error. `data` is tokenized with `text` (t2g_dataset_tokenize); prompts are
 * wrapped in the text's chat template, responses decoded without special tokens. */
t2g_status t2g_evaluate_data(t2g_gpt *gpt, t2g_generator *generator, const t2g_text *text, t2g_critic *critic,
                             const t2g_dataset *data,
                             uint32_t examples, uint32_t samples, uint32_t max_new_tokens, t2g_eval_result *result,
                             t2g_error *err);
void t2g_eval_result_free(t2g_eval_result *result);

/* ---- models from checkpoints and Hugging Face folders ---- */

/* The model a model path names (t2g/model_path.h), read on the host. */
typedef struct t2g_model_source {
    t2g_model_path_kind kind;
    char path[4200];            /* the checkpoint file (a run folder's checkpoint.bin), or the Hugging Face folder */
    t2g_config config;          /* a checkpoint's own config; a Hugging Face folder: the defaults with its model
                                 * and no data.task */
    t2g_checkpoint checkpoint;  /* a checkpoint's contents; a Hugging Face folder: its weights once read */
    t2g_text *text;             /* its tokenizer (t2g/text.h; no chat template chosen yet): a Hugging Face folder's
                                 * tokenizer.json, a GGUF file's tokenizer.ggml.* metadata, the one a checkpoint
                                 * carries, else t2g's byte tokenizer */
    struct t2g_gguf *gguf;      /* a GGUF file, open (mapped) while the source is */
} t2g_model_source;

/* Opens the model at `path`: a checkpoint is loaded whole; a GGUF file is mapped and its metadata
 * read (t2g_gguf_read_config, its tokenizer from tokenizer.ggml.*); a Hugging Face folder's config.json is
 * read (t2g_hf_read_config: its context is at most max_context, 0 meaning its own up to
 * T2G_CONTEXT_MAX) and its tokenizer (t2g_text_load_dir), its weights read later by
 * t2g_model_source_write. A checkpoint keeps its context whatever max_context says. Either way a
 * tokenizer with more ids than the model's vocabulary is refused. */
t2g_status t2g_model_source_open(const char *path, uint32_t max_context, t2g_model_source *source, t2g_error *err);
void t2g_model_source_close(t2g_model_source *source);
/* Its parameters into `gpt`, a model of source->config.model (any batch; for a Hugging Face
 * folder any context up to the folder's): a checkpoint's parameters with its AdamW moments when
 * `moments`, else zero moments (a new run); a Hugging Face folder's tensors (t2g_hf_read_weights
 * into the model's table, read once and kept in source->checkpoint.params for the next model of
 * the same table), zero moments. */
t2g_status t2g_model_source_write(t2g_model_source *source, t2g_gpt *gpt, bool moments, t2g_error *err);
/* The source's text with the chat template of `config` (model.chat_template, model.system_prompt)
 * chosen, moved to *text (the caller frees it); *chosen (may be NULL) receives the console's
 * sentence on the choice (t2g_text_set_chat). */
t2g_status t2g_model_source_text(t2g_model_source *source, const t2g_config *config, t2g_text **text, char *chosen,
                                 size_t chosen_size, t2g_error *err);
/* The identity a run records of its start (checkpoint v3's start CRC): t2g_model_path_crc. */
t2g_status t2g_model_source_crc(const t2g_model_source *source, uint32_t *crc, t2g_error *err);

/* The model at `path` (a checkpoint file, a run folder: its checkpoint.bin, or a Hugging Face
 * folder), for micro-batches of B x T (T = 0: the model's context), with its parameters and (a
 * checkpoint's) moments; *config receives the checkpoint's config, or for a Hugging Face folder
 * the defaults with the folder's model and no data.task. A Hugging Face folder's context is its own. */
t2g_status t2g_model_load(t2g_device *device, const char *path, uint32_t B, uint32_t T, t2g_gpt **gpt,
                          t2g_config *config, t2g_error *err);
/* The same, a Hugging Face folder's context at most max_context (0: its own). */
t2g_status t2g_model_load_context(t2g_device *device, const char *path, uint32_t max_context, uint32_t B, uint32_t T,
                                  t2g_gpt **gpt, t2g_config *config, t2g_error *err);
/* The same as a frozen model (t2g_gpt_create_frozen): the parameters only, for forward passes;
 * B at most, as for t2g_model_load_frozen_text. */
t2g_status t2g_model_load_frozen(t2g_device *device, const char *path, uint32_t B, uint32_t T, t2g_gpt **gpt,
                                 t2g_config *config, t2g_error *err);
/* A frozen model with its text (t2g_model_source_text with the model's own config), for sampling
 * and evaluation; a Hugging Face folder's or GGUF file's context at most max_context (0: its
 * own); *chosen as there. B is the most sequences a pass takes: fewer where the device holds
 * no more (t2g_gpt_fit_batch; t2g_gpt_capacity says how many). */
t2g_status t2g_model_load_frozen_text(t2g_device *device, const char *path, uint32_t max_context, uint32_t B,
                                      uint32_t T, t2g_gpt **gpt, t2g_config *config, t2g_text **text, char *chosen,
                                      size_t chosen_size, t2g_error *err);

/* ---- run directories ---- */

/* Creates `out` if given (it must not exist, or be an empty folder), else
 * <base>/<name>-<YYYYMMDD-HHMMSS>[-N] (a new folder, never an existing one). The path is
 * written to path (size bytes). */
t2g_status t2g_run_dir_create(const char *base, const char *name, const char *out, char *path, size_t size,
                              t2g_error *err);
/* Writes text to <dir>/<file> through a temporary file and a rename. */
t2g_status t2g_write_file_atomic(const char *dir, const char *file, const char *text, size_t len, t2g_error *err);

#endif
