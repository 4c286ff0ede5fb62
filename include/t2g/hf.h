/* Hugging Face model folders in and out, on the host: config.json, model.safetensors (or the
 * shards of model.safetensors.index.json) and, when written, generation_config.json and the
 * byte tokenizer. The tensors map onto t2g's parameter table (t2g/gpt.h); which Hugging Face
 * tensor fills which t2g tensor is listed in src/io/hf_names.c.
 *
 * config.json: model_type "gpt2" (GPT2LMHeadModel) or "llama", "qwen2", "mistral" (t2g's llama
 * block; qwen2 has q/k/v biases). A field t2g does not implement at a value other than the one
 * t2g computes is refused by name ("config.json: rope_scaling = {...}: t2g does not implement
 * it"), and so is a field t2g does not know at all, except those that change nothing t2g
 * computes (names, token ids, generation settings, dtypes, initializer_range, use_cache, and
 * dropout rates: t2g trains without dropout, so a model trained with it is fine-tuned without).
 * Absent fields take transformers' defaults (num_key_value_heads: llama the heads, qwen2 32,
 * mistral 8; rms_norm_eps 1e-6; rope_theta 10000; tie_word_embeddings false for llama, qwen2
 * and mistral, true for gpt2); the sizes (vocab, width, layers, heads, intermediate size,
 * positions) must be given. A sliding window (mistral; qwen2 with use_sliding_window; absent,
 * transformers' 4096) is accepted only when it spans the whole context t2g runs, which a smaller
 * max_context can make so. Head sizes above T2G_HF_HEAD_SIZE_MAX are refused. */
#ifndef T2G_HF_H
#define T2G_HF_H

#include <stdbool.h>
#include <stdint.h>

#include "t2g/config.h"
#include "t2g/gpt.h"
#include "t2g/status.h"

#define T2G_HF_HEAD_SIZE_MAX 128u

/* The model of DIR/config.json. Its context is min(max_position_embeddings (gpt2: n_positions),
 * max_context), max_context 0 meaning T2G_CONTEXT_MAX: a position table holding more positions
 * is read up to the context. Errors name the file and the field. */
t2g_status t2g_hf_read_config(const char *dir, uint32_t max_context, t2g_model_config *model, t2g_error *err);

/* Fills params (at each table entry's offset, rows x cols floats) from DIR/model.safetensors or,
 * when there is none, the shards DIR/model.safetensors.index.json names (plain file names in DIR).
 * F32, F16 and BF16 are converted to f32; GPT-2's Conv1D weights are transposed; the tensors may
 * carry the base model's prefix ("transformer.", "model.") or not. `model` must be DIR's
 * (t2g_hf_read_config) with any context up to its own; the table must hold each tensor of the
 * architecture once. Every tensor of the files must fill a t2g tensor, except the buffers older
 * transformers saved (GPT-2's attn.bias and attn.masked_bias, Llama's rotary_emb.inv_freq) and,
 * for a tied head, an lm_head.weight equal to the embedding (one that differs is an error). A
 * missing tensor names the Hugging Face tensor and the t2g one; a shape that disagrees with
 * config.json names the tensor, the shape found and the one expected. */
t2g_status t2g_hf_read_weights(const char *dir, const t2g_model_config *model, const t2g_gpt_param *table,
                               uint32_t count, float *params, t2g_error *err);

/* The tokenizer a Hugging Face folder gets (t2g_hf_write): the texts of tokenizer.json and
 * tokenizer_config.json as they are, and the ids config.json and generation_config.json name
 * (-1: none, written as null). */
typedef struct t2g_hf_text {
    const char *tokenizer_json;
    const char *tokenizer_config_json;  /* NULL: none is written */
    int64_t bos_id, eos_id, pad_id;
} t2g_hf_text;

/* Writes a folder transformers loads (AutoModelForCausalLM.from_pretrained): config.json
 * (gpt2: GPT2LMHeadModel; llama with q/k/v biases: Qwen2ForCausalLM; llama without:
 * LlamaForCausalLM), model.safetensors (F32, Hugging Face's names with the base model's prefix,
 * Conv1D weights transposed back), and the tokenizer: `text`'s files and ids, or with text NULL
 * generation_config.json (BOS 256, EOS 257, PAD 258) and t2g's byte tokenizer: tokenizer.json, a byte-level BPE whose 256 byte tokens have the byte values as
 * ids, no merges, and the special tokens 256 <|bos|>, 257 <|eos|>, 258 <|pad|>, so `tokenizers`
 * gives t2g's ids on any text (tokenizer_config.json sets split_special_tokens: a text's
 * "<|eos|>" is seven bytes, as in t2g), and t2g's sequences begin with <|bos|>, which the caller
 * adds as t2g does. DIR is created if it does not exist (its parent must); each file is written
 * atomically. model->vocab must be at least 259. */
t2g_status t2g_hf_write(const char *dir, const t2g_model_config *model, const t2g_gpt_param *table, uint32_t count,
                        const float *params, const t2g_hf_text *text, t2g_error *err);

#endif
