/* What the Hugging Face folder code shares (t2g/hf.h): config.json both ways, and which Hugging
 * Face tensors make each tensor of t2g's parameter table. */
#ifndef T2G_IO_HF_INTERNAL_H
#define T2G_IO_HF_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "t2g/config.h"
#include "t2g/gpt.h"
#include "t2g/hf.h"
#include "t2g/status.h"

/* config.json of `dir` read as t2g_hf_read_config does; *positions (may be NULL) is the
 * folder's own position count (max_position_embeddings, n_positions), before clamping. */
t2g_status t2g_hf_config_read(const char *dir, uint32_t max_context, t2g_model_config *model, uint64_t *positions,
                              t2g_error *err);
/* config.json for a t2g model (malloc'ed JSON text; the special ids of `text`, NULL: the byte
 * tokenizer's), NULL on out of memory. */
char *t2g_hf_config_json(const t2g_model_config *model, const t2g_hf_text *text);
/* tokenizer.json, tokenizer_config.json and generation_config.json of t2g's byte tokenizer. */
char *t2g_hf_tokenizer_json(void);
char *t2g_hf_tokenizer_config_json(const t2g_model_config *model);
char *t2g_hf_generation_config_json(const t2g_hf_text *text);

/* One Hugging Face tensor that fills part of a t2g tensor. */
typedef struct hf_part {
    char name[96];          /* without the base model's prefix: "h.3.attn.c_attn.weight", "lm_head.weight" */
    bool prefixed;          /* saved under the base model's prefix ("transformer.", "model.") */
    uint32_t rank;          /* 1 or 2 */
    uint64_t shape[2];      /* as stored in the Hugging Face file */
    bool transposed;        /* GPT-2's Conv1D: stored (in, out), the whole t2g tensor (out, in) */
    uint64_t offset;        /* floats into the t2g tensor where the part goes */
    uint64_t elements;      /* floats of the t2g tensor it fills: its first ones (a position table
                             * may hold more positions than the t2g model) */
} hf_part;

#define HF_MAX_PARTS 3

/* The base model's prefix of an architecture: "transformer." (gpt2) or "model." (llama). */
const char *t2g_hf_prefix(const t2g_model_config *model);

/* The Hugging Face tensors of t2g tensor `param`, for a model whose Hugging Face position table
 * holds `positions` rows (gpt2; positions >= model->context). An error when the table entry's
 * name or layer is unknown to the architecture or its shape is not the one the model implies. */
t2g_status t2g_hf_parts(const t2g_model_config *model, uint64_t positions, const t2g_gpt_param *param,
                        hf_part parts[HF_MAX_PARTS], uint32_t *count, t2g_error *err);

/* The table holds each tensor of the architecture once and nothing else (t2g_hf_parts on each). */
t2g_status t2g_hf_check_table(const t2g_model_config *model, const t2g_gpt_param *table, uint32_t count,
                              t2g_error *err);

/* A tensor of a Hugging Face file that belongs to no parameter: GPT-2's attention mask buffers,
 * Llama's rotary inv_freq (older transformers saved them). `name` without the prefix. */
bool t2g_hf_is_buffer(const t2g_model_config *model, const char *name);

#endif
