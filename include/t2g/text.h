/* A model's text: its tokenizer and its chat template, in one place for every command that turns
 * text into token ids and back (training data, prompts, sampling, RL, t2g tokenize).
 *
 * Two kinds of tokenizer:
 *   bytes  t2g's own models: one token per byte (ids 0-255), BOS 256, EOS 257, PAD 258 (t2g/tokenizer.h);
 *          no chat template
 *   bpe    a byte-level BPE from a Hugging Face tokenizer.json (t2g/bpe.h), with the special tokens
 *          and chat template of its tokenizer_config.json
 *
 * How a prompt/response pair becomes one sequence (the same for SFT data, RL and sampling):
 *   prompt ids    the chat template's rendering of (system prompt, user prompt) up to and with the
 *                 assistant's header; template "none": BOS (when the tokenizer has one to add) and
 *                 the prompt's ids
 *   response ids  the response's ids and the end-of-turn token (chatml <|im_end|>, llama3
 *                 <|eot_id|>, none: EOS)
 * Losses and rewards cover the response ids only; generation stops at the end-of-turn token (and
 * at EOS). The response is encoded apart from the prompt, as the model generates it. */
#ifndef T2G_TEXT_H
#define T2G_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "t2g/bpe.h"
#include "t2g/chat.h"
#include "t2g/generate.h"
#include "t2g/status.h"
#include "t2g/tokenizer.h"

typedef struct t2g_text t2g_text;

/* The byte tokenizer of t2g's own models. */
t2g_status t2g_text_bytes(t2g_text **out, t2g_error *err);
/* A BPE from the text of a tokenizer.json and (config_json may be NULL) of a tokenizer_config.json:
 * its bos_token, eos_token, pad_token (a string or {"content": ...}), add_bos_token and chat_template.
 * `where` names their origin in messages (a folder, a checkpoint). The texts are kept (see
 * t2g_text_files). */
t2g_status t2g_text_parse(const char *tokenizer_json, size_t tokenizer_len, const char *config_json, size_t config_len,
                          const char *where, t2g_text **out, t2g_error *err);
/* A Hugging Face folder's tokenizer.json (and tokenizer_config.json if there is one). No
 * tokenizer.json, or the byte tokenizer's own (as `t2g export --format hf` writes it for t2g's
 * models): the byte tokenizer. */
t2g_status t2g_text_load_dir(const char *dir, t2g_text **out, t2g_error *err);
void t2g_text_free(t2g_text *text);

bool t2g_text_is_bytes(const t2g_text *text);
/* One more than the largest id a token has. */
uint32_t t2g_text_vocab(const t2g_text *text);
/* The tokenizer.json and tokenizer_config.json texts a BPE was made from (NULL, 0 for the byte
 * tokenizer; config NULL when there was none): what a checkpoint keeps and an export writes. */
void t2g_text_files(const t2g_text *text, const char **tokenizer_json, size_t *tokenizer_len, const char **config_json,
                    size_t *config_len);

/* The chat template: name "auto" | "none" | "chatml" | "llama3" (model.chat_template). "auto":
 * the one the tokenizer_config.json's chat_template is recognised as (t2g_chat_recognise), none
 * when it has none or the tokenizer is t2g's byte tokenizer. `system` (model.system_prompt): ""
 * keeps the template's default system prompt (none for "none" and templates with no default).
 * A template whose special tokens the tokenizer lacks is refused naming them. *chosen (may be
 * NULL) receives a sentence for the console: which template, from where, which system prompt. */
t2g_status t2g_text_set_chat(t2g_text *text, const char *name, const char *system, char *chosen, size_t chosen_size,
                             t2g_error *err);
t2g_chat_format t2g_text_chat(const t2g_text *text);

/* Ordinary text: its ids and the byte range of each (spans may be NULL), malloc'ed, *count of
 * each; special-token texts become their tokens only when parse_special. Text a BPE cannot read
 * (not UTF-8) is refused naming the byte offset. The byte tokenizer takes any bytes. */
t2g_status t2g_text_encode(const t2g_text *text, const char *s, size_t len, bool parse_special, uint32_t **ids,
                           t2g_token_span **spans, size_t *count, t2g_error *err);
/* The prompt ids of the sequence layout above (malloc'ed *ids, *count). */
t2g_status t2g_text_prompt(const t2g_text *text, const char *prompt, size_t len, bool parse_special, uint32_t **ids,
                           size_t *count, t2g_error *err);
/* The response ids of the layout above, the end-of-turn token last. */
t2g_status t2g_text_response(const t2g_text *text, const char *response, size_t len, bool parse_special,
                             uint32_t **ids, size_t *count, t2g_error *err);
/* The rendered prompt (or, with a response, the whole conversation) and its special ranges, as
 * t2g tokenize --chat shows it. */
t2g_status t2g_text_render(const t2g_text *text, const char *prompt, size_t prompt_len, const char *response,
                           size_t response_len, t2g_chat_text *out, t2g_error *err);
/* The ids tokenizer_config.json names (the byte tokenizer: 256, 257, 258); -1: none. */
void t2g_text_special_ids(const t2g_text *text, int64_t *bos, int64_t *eos, int64_t *pad);
/* The ids and spans (byte ranges of out->text) of a rendered conversation (t2g_chat_encode). */
t2g_status t2g_text_encode_rendered(const t2g_text *text, const t2g_chat_text *rendered, bool parse_special,
                                    uint32_t **ids, t2g_token_span **spans, size_t *count, t2g_error *err);
/* BOS when the tokenizer adds one (add_special): for t2g tokenize --add-special. -1: none. */
int64_t t2g_text_bos(const t2g_text *text);
/* The token that ends a response (see above; "none": EOS), -1 when the tokenizer has none (a
 * response is then refused by t2g_text_response, naming eos_token). */
int64_t t2g_text_end_of_turn(const t2g_text *text);

/* Generation settings for this text: stop at the end-of-turn token and EOS (those it has);
 * never sample the byte tokenizer's BOS and PAD (a BPE bans nothing). */
void t2g_text_sampling(const t2g_text *text, t2g_sampling *sampling);

/* The bytes of ids[0..n) (special tokens left out when skip_special), malloc'ed and
 * NUL-terminated, *len bytes. An id the tokenizer does not have is refused. */
t2g_status t2g_text_decode(const t2g_text *text, const uint32_t *ids, size_t n, bool skip_special, char **bytes,
                           size_t *len, t2g_error *err);
/* The byte range of each of ids[0..n) in their decoding (t2g_text_decode without skipping): token
 * i covers the bytes it decodes to, so the spans tile the decoded text; the byte tokenizer's
 * special tokens are empty ranges. spans has room for n. Never re-tokenizes. */
t2g_status t2g_text_spans(const t2g_text *text, const uint32_t *ids, size_t n, t2g_token_span *spans, t2g_error *err);
/* Whether id is a special token (a BPE's added token marked special; the byte tokenizer's
 * BOS, EOS, PAD): left out by decoding with skip_special. */
bool t2g_text_is_special(const t2g_text *text, uint32_t id);
/* The bytes token id decodes to (*len), or NULL for an id it does not have. */
const char *t2g_text_token_bytes(const t2g_text *text, uint32_t id, size_t *len);
/* The token's name for a display: a BPE's vocab string or added token's content, the byte
 * tokenizer's "<|bos|>"-style name; NULL for byte tokens and unknown ids. */
const char *t2g_text_token_name(const t2g_text *text, uint32_t id);

/* Streaming decode for printing while sampling (t2g_bpe_stream for either kind). */
t2g_status t2g_text_stream_next(const t2g_text *text, t2g_bpe_stream *stream, uint32_t id, bool skip_special,
                                char **bytes, size_t *len, t2g_error *err);

#endif
