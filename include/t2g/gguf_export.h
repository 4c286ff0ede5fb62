/* A t2g model written as a GGUF file that llama.cpp, the gguf Python package, transformers and
 * t2g itself (t2g/gguf_model.h, t2g/gguf_tokenizer.h) read: the reverse of those readers.
 *
 * Metadata: general.architecture (gpt2; llama; qwen2 for a llama with q/k/v biases), general.name,
 * general.file_type (llama.cpp's: 0 all F32, 1 mostly F16, 7 mostly Q8_0, 32 mostly BF16),
 * general.quantization_version 2 (Q8_0); <arch>.vocab_size, context_length, embedding_length,
 * block_count, feed_forward_length, attention.head_count, attention.head_count_kv,
 * rope.freq_base, rope.dimension_count (llama, qwen2), the norm epsilon
 * (attention.layer_norm_rms_epsilon; gpt2 attention.layer_norm_epsilon); the tokenizer:
 *   tokenizer.ggml.model       "gpt2" (byte-level BPE)
 *   tokenizer.ggml.tokens      every id's string in id order: the vocab's ByteLevel strings,
 *                              added tokens' contents; ids the tokenizer lacks up to the model's
 *                              vocabulary "[PAD<id>]" (as llama.cpp's converter pads them)
 *   tokenizer.ggml.token_type  3 control (special added tokens), 4 user defined (other added
 *                              tokens), 5 unused (the padding), 1 normal
 *   tokenizer.ggml.merges      "a b", in order
 *   tokenizer.ggml.pre         llama.cpp's name of the tokenizer.json's normalizer and
 *                              pre-tokenizer ("gpt-2", "smollm", "qwen2", "llama-bpe"); one
 *                              without a name is refused naming it. A tokenizer without merges
 *                              (t2g's byte tokenizer) is "gpt-2": its pieces give the same ids.
 *   tokenizer.ggml.bos_token_id, eos_token_id, padding_token_id (those it has),
 *   tokenizer.ggml.add_bos_token, tokenizer.chat_template (when it has one)
 * t2g's byte tokenizer is written from its tokenizer.json (256 byte tokens, <|bos|> <|eos|>
 * <|pad|> control): read back, it is a BPE giving the same ids on any UTF-8 text.
 *
 * Tensors (names and layout: t2g/gguf_model.h; Llama's q/k rows interleaved per head as
 * llama.cpp's converter stores them) in `dtype`; 1-D tensors (norms, biases) stay F32 at every
 * dtype, as llama.cpp's converter keeps them, and so do Q8_0 matrices whose rows (dims[0]) are not
 * a multiple of 32. */
#ifndef T2G_GGUF_EXPORT_H
#define T2G_GGUF_EXPORT_H

#include <stdint.h>

#include "t2g/config.h"
#include "t2g/gguf_write.h"
#include "t2g/gpt.h"
#include "t2g/status.h"
#include "t2g/text.h"

/* Writes the model (its config, parameter table and the params the table indexes) and its text's
 * tokenizer to `path` (atomically: nothing is left there on error). */
t2g_status t2g_gguf_write_model(const char *path, const t2g_model_config *model, const t2g_gpt_param *table,
                                uint32_t count, const float *params, const t2g_text *text, t2g_gguf_write_type dtype,
                                t2g_error *err);

/* The type a tensor of n_dims dims, dims[0] = cols, is stored in when `dtype` is asked for. */
t2g_gguf_write_type t2g_gguf_export_tensor_type(t2g_gguf_write_type dtype, uint32_t n_dims, uint64_t cols);

#endif
