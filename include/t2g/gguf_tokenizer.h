/* A model's tokenizer and chat template from a GGUF file's metadata (llama.cpp's keys), as the
 * texts of a Hugging Face tokenizer.json and tokenizer_config.json, which t2g_text_parse
 * (t2g/text.h) then reads like those of a model folder.
 *
 * Read: only byte-level BPE, tokenizer.ggml.model "gpt2" ("llama", SentencePiece, and every other
 * model is refused by name).
 *   tokenizer.ggml.tokens      (required, strings) the token of each id. Types 3 (control) and 4
 *                              (user defined) are added tokens, special and not special, matched
 *                              whole in the text, their content the string as stored; they are in
 *                              model.vocab too when every character of theirs is in ByteLevel's
 *                              byte alphabet (as SmolLM2's own tokenizer.json has them), otherwise
 *                              only under added_tokens. Every other type (1 normal, 2 unknown,
 *                              5 unused, 6 byte) is a model.vocab entry; a string with characters
 *                              outside the byte alphabet is spelled there as its UTF-8 bytes in
 *                              that alphabet (as transformers converts it). Two ids with one
 *                              string are refused naming both.
 *   tokenizer.ggml.token_type  (integers 1 to 6, one per token) absent: every token normal, as
 *                              llama.cpp reads such a file.
 *   tokenizer.ggml.merges      (required, strings "a b") model.merges, in order.
 *   tokenizer.ggml.pre         the pre-tokenizer, by llama.cpp's name (a table, see the .c file):
 *                              "gpt-2" and "default" ByteLevel with GPT-2's regex; "smollm"
 *                              Digits(individual) then ByteLevel with GPT-2's regex (SmolLM2's own
 *                              tokenizer.json); "qwen2" NFC, Split(Qwen2's regex, Isolated),
 *                              ByteLevel without regex; "llama3", "llama-v3", "llama-bpe" Llama 3's
 *                              Split and ByteLevel without regex, model.ignore_merges true. Absent:
 *                              "default", as llama.cpp reads it (whose own "default" regex differs:
 *                              t2g reads it as transformers does, GPT-2's). Other names are refused,
 *                              listing these.
 *   tokenizer.ggml.bos_token_id, eos_token_id, padding_token_id, unknown_token_id
 *                              bos_token, eos_token, pad_token, unk_token: the tokens' strings (an
 *                              id past the tokens is refused naming the key); absent: none.
 *   tokenizer.ggml.add_bos_token, add_eos_token
 *                              add_bos_token, add_eos_token as given; add_bos_token absent: what
 *                              llama.cpp assumes for the pre-tokenizer (true for the Llama 3 names,
 *                              false for the others).
 *   tokenizer.chat_template    chat_template when present.
 * The decoder is ByteLevel, there is no post-processor. A missing required key, a value of
 * another type, a string that is not UTF-8 or holds a NUL byte is an error naming the file
 * (t2g_gguf_path) and the key (and the element). */
#ifndef T2G_GGUF_TOKENIZER_H
#define T2G_GGUF_TOKENIZER_H

#include "t2g/gguf.h"
#include "t2g/status.h"

/* The tokenizer.json and tokenizer_config.json texts of the file's tokenizer: malloc'ed,
 * NUL-terminated (the caller frees them); both NULL on error. */
t2g_status t2g_gguf_tokenizer_files(const t2g_gguf *file, char **tokenizer_json, char **tokenizer_config_json,
                                    t2g_error *err);

#endif
