/* Training data: supervised fine-tuning examples from JSONL ({"prompt", "response"} per line)
 * or from a built-in task, and plain text for language modelling; batches of token ids with a
 * per-target loss weight; a seeded shuffle with a cursor that a checkpoint stores. */
#ifndef T2G_DATASET_H
#define T2G_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "t2g/status.h"
#include "t2g/tasks.h"

typedef struct t2g_example {
    char *prompt;           /* bytes, NUL-terminated */
    size_t prompt_len;
    char *response;
    size_t response_len;
    /* After t2g_dataset_tokenize, the sequence layout of t2g/text.h; NULL before, when a row is
     * laid out with t2g's byte tokenizer (BOS prompt response EOS). */
    uint32_t *prompt_ids;   /* (prompt_count): the chat template's prompt (text: BOS, if any) */
    uint32_t prompt_count;
    uint32_t *response_ids; /* (response_count): the response and its end-of-turn token (text: the chunk) */
    uint32_t response_count;
} t2g_example;

typedef struct t2g_dataset {
    t2g_example *examples;
    size_t count;
    char **fields;          /* (count), t2g_dataset_load_prompts: each row's other keys, a JSON object's text; else NULL */
    int is_text;            /* language modelling: every example is a chunk of text with an
                             * empty prompt and a weight on every target */
    bool parse_special;     /* how t2g_dataset_tokenize read special-token texts */
} t2g_dataset;

/* JSONL, one {"prompt": string, "response": string} object a line (other keys are ignored;
 * blank lines are skipped). Errors name the file and the line: "data.jsonl:12: ...", also for a
 * line over max_line_bytes (data.max_line_bytes). Only a regular file is read. */
t2g_status t2g_dataset_load_jsonl(const char *path, uint64_t max_line_bytes, t2g_dataset *dataset, t2g_error *err);
/* RL prompts from JSONL: one object a line with a "prompt" string; the row's other keys (a
 * "response" too, if any) are kept, as a JSON object's text, in the dataset's fields, and each
 * response is empty. Errors as for t2g_dataset_load_jsonl. */
t2g_status t2g_dataset_load_prompts(const char *path, uint64_t max_line_bytes, t2g_dataset *dataset, t2g_error *err);
/* Plain text cut into chunks of `chunk_bytes` bytes (the last one shorter); a regular file only. */
t2g_status t2g_dataset_load_text(const char *path, size_t chunk_bytes, t2g_dataset *dataset, t2g_error *err);
/* Tokenizes every example with a model's text (t2g/text.h: prompt ids, response ids);
 * parse_special: data.parse_special. Text for language modelling: with the byte tokenizer each
 * chunk is BOS and its bytes; with a BPE the whole text is encoded once (chunks of bytes could cut
 * a character) and cut anew into rows of context + 1 tokens, BOS first if the tokenizer adds one
 * (the dataset's count changes). An example the tokenizer refuses (not UTF-8) is an error naming
 * `source` and the example. */
struct t2g_text;
t2g_status t2g_dataset_tokenize(t2g_dataset *dataset, const struct t2g_text *text, bool parse_special,
                                uint32_t context, const char *source, t2g_error *err);
/* Examples 0..n-1 of a built-in task's stream for `seed`. */
t2g_status t2g_dataset_from_task(const t2g_task *task, uint64_t seed, size_t n, t2g_dataset *dataset, t2g_error *err);
void t2g_dataset_free(t2g_dataset *dataset);

/* How a dataset fits a context of T tokens (a row holds the prompt ids and the response ids,
 * targets from the second token on). Text chunks always keep their tokens. */
typedef struct t2g_data_fit {
    size_t examples;
    size_t cut;             /* examples cut at the context (cut_away included) */
    size_t cut_away;        /* of them, those with no response target left: they train on nothing */
    size_t longest;         /* the context that keeps every example whole: the longest prompt + response - 1 */
} t2g_data_fit;
t2g_data_fit t2g_dataset_fit(const t2g_dataset *dataset, uint32_t T);

/* Where a run is in its data: the shuffle of epoch e is a permutation drawn from (seed, e). */
typedef struct t2g_data_cursor {
    uint64_t seed;
    uint64_t epoch;
    uint64_t position;      /* examples of this epoch already handed out */
} t2g_data_cursor;

/* A batch of B rows of T positions, llm.c style: row b holds the tokens
 *   prompt ids, response ids, PAD PAD ...   (byte tokenizer: BOS prompt response EOS PAD ...)
 * inputs[b][t] is token t, targets[b][t] token t + 1; weights[b][t] is 1 where the target is a
 * response id (the end-of-turn token included; for text: every real token), 0 for prompt targets
 * and padding. PAD (258) only ever fills masked positions.
 * An example longer than T + 1 tokens is cut at T + 1 tokens (counted in `truncated`). */
typedef struct t2g_batch {
    uint32_t B, T;
    uint32_t *inputs;       /* (B, T) */
    uint32_t *targets;      /* (B, T) */
    float *weights;         /* (B, T) */
    uint32_t truncated;     /* examples of this batch that were cut */
    double weight_sum;      /* sum of weights */
} t2g_batch;

t2g_status t2g_batch_alloc(t2g_batch *batch, uint32_t B, uint32_t T, t2g_error *err);
void t2g_batch_free(t2g_batch *batch);

/* Tokenizes one example into row `row` of the batch (adds to batch->truncated, weight_sum). */
void t2g_batch_set_row(t2g_batch *batch, uint32_t row, const t2g_example *example, int is_text);

/* Fills the batch with the next B examples in the cursor's shuffled order and advances it
 * (an exhausted epoch starts the next, with a new permutation). */
t2g_status t2g_dataset_next_batch(const t2g_dataset *dataset, t2g_data_cursor *cursor, t2g_batch *batch,
                                  t2g_error *err);

#endif
