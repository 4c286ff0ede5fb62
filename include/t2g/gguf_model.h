/* A model in a GGUF file (t2g/gguf.h) as a t2g model: its architecture from the `<arch>.*`
 * metadata and its tensors mapped onto t2g's parameter table, dequantized to f32.
 *
 *   general.architecture   t2g                   tensors (ggml names; L the block)
 *   llama                  llama                 token_embd, blk.L.attn_norm, blk.L.attn_q/_k/_v
 *                                                (rows stored interleaved for ggml's rotary: put
 *                                                back in rotate-half order), blk.L.attn_output,
 *                                                blk.L.ffn_norm, blk.L.ffn_gate/_up/_down,
 *                                                output_norm, output (absent: tied head)
 *   qwen2                  llama, q/k/v biases   the same with blk.L.attn_q/_k/_v.bias, rows as
 *                                                stored (ggml's NeoX rotary is rotate-half)
 *   gpt2                   gpt2                  token_embd, position_embd, blk.L.attn_norm,
 *                                                attn_qkv, attn_output, ffn_norm, ffn_up,
 *                                                ffn_down (weights and biases), output_norm,
 *                                                output (if present, equal to token_embd)
 *
 * Keys read (P the architecture): P.embedding_length, P.block_count, P.attention.head_count,
 * P.attention.head_count_kv (default head_count), P.feed_forward_length, P.context_length,
 * P.rope.freq_base (default 10000), P.attention.layer_norm_rms_epsilon (llama, qwen2) or
 * P.attention.layer_norm_epsilon (gpt2), P.rope.dimension_count (must be the head size),
 * P.vocab_size (else token_embd's rows). Refused by name: another architecture (naming the
 * supported ones), rope scaling, a tensor of the file that no t2g tensor takes, a missing or
 * misshapen tensor. */
#ifndef T2G_GGUF_MODEL_H
#define T2G_GGUF_MODEL_H

#include <stdint.h>

#include "t2g/config.h"
#include "t2g/gguf.h"
#include "t2g/gpt.h"
#include "t2g/status.h"

/* The architecture of the file; its context at most max_context (0: its own, up to
 * T2G_CONTEXT_MAX). */
t2g_status t2g_gguf_read_config(const t2g_gguf *file, uint32_t max_context, t2g_model_config *model, t2g_error *err);

/* Fills params (at each table entry's offset) from the file's tensors; `model` must be the
 * file's (t2g_gguf_read_config) with any context up to its own. */
t2g_status t2g_gguf_read_weights(const t2g_gguf *file, const t2g_model_config *model, const t2g_gpt_param *table,
                                 uint32_t count, float *params, t2g_error *err);

#endif
