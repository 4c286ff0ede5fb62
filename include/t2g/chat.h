/* Chat templates of instruct models, by name: how a conversation (an optional system message, the
 * user's prompt, the assistant's response) becomes the text, special tokens included, that the
 * model was trained on, and then token ids. Host code only.
 *
 *   chatml  (SmolLM2, Qwen2.5):  <|im_start|>system\nSYSTEM<|im_end|>\n
 *                                <|im_start|>user\nPROMPT<|im_end|>\n
 *                                <|im_start|>assistant\nRESPONSE<|im_end|>\n
 *   llama3  (Llama 3.x):         BOS<|start_header_id|>system<|end_header_id|>\n\nSYSTEM<|eot_id|>
 *                                <|start_header_id|>user<|end_header_id|>\n\nPROMPT<|eot_id|>
 *                                <|start_header_id|>assistant<|end_header_id|>\n\nRESPONSE<|eot_id|>
 *                                (each content trimmed of leading and trailing whitespace)
 *   none                         BOS PROMPT RESPONSE
 *
 * (the line breaks after each turn above are for reading, except chatml's "\n" after <|im_end|>,
 * which is part of the format). The exact renderings are checked against transformers'
 * apply_chat_template (tests/golden/chat/). */
#ifndef T2G_CHAT_H
#define T2G_CHAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "t2g/bpe.h"
#include "t2g/status.h"
#include "t2g/tokenizer.h"

typedef enum t2g_chat_format { T2G_CHAT_NONE, T2G_CHAT_CHATML, T2G_CHAT_LLAMA3 } t2g_chat_format;

/* "none", "chatml", "llama3" (NULL for a value outside the enum). */
const char *t2g_chat_format_name(t2g_chat_format format);

/* name is "none" | "chatml" | "llama3" | "auto" (then *is_auto is true and *format untouched;
 * otherwise *is_auto is false). Anything else: T2G_ERR_ARGUMENT naming the choices. */
t2g_status t2g_chat_format_parse(const char *name, t2g_chat_format *format, bool *is_auto, t2g_error *err);

/* Recognises a Jinja chat template (tokenizer_config.json's "chat_template" when it is a string,
 * or GGUF's tokenizer.chat_template) by its markers: <|im_start|> and <|im_end|> -> chatml;
 * <|start_header_id|>, <|end_header_id|> and <|eot_id|> -> llama3. Anything else (neither set
 * complete, or both): T2G_ERR_UNSUPPORTED, with a message naming `where` (e.g. the file; NULL:
 * "the chat template"), saying the template is not recognised and naming the choices (set
 * model.chat_template=chatml|llama3|none). *format is set only on success.
 *
 * *default_system: the default system prompt the template inserts when the conversation has no
 * system message, malloc'ed (the caller frees it), or NULL when the template inserts none. It is
 * found as a string literal of the template (in single or double quotes, or several joined by
 * `+` or `~`; or the template's plain text outside {{ }} and {% %}) holding the format's whole
 * system turn with literal contents: "<|im_start|>system\n" CONTENTS "<|im_end|>" (chatml),
 * "<|start_header_id|>system<|end_header_id|>\n\n" CONTENTS "<|eot_id|>" (llama3). Jinja's
 * string escapes (\n, \t, \', \", \\, \xHH, \uHHHH, ...) are undone, as Jinja does. Two
 * different such literals: T2G_ERR_UNSUPPORTED. A default system prompt that the template
 * computes cannot be reproduced and gives NULL: contents built from variables (Llama 3.1's
 * "Cutting Knowledge Date" and "Today Date" lines from date_string), or set in a variable
 * ({% set system = '...' %}) and written elsewhere. */
t2g_status t2g_chat_recognise(const char *jinja, const char *where, t2g_chat_format *format, char **default_system,
                              t2g_error *err);

/* The end-of-turn token's text: "<|im_end|>" (chatml), "<|eot_id|>" (llama3), NULL (none). */
const char *t2g_chat_end_of_turn(t2g_chat_format format);

/* A rendered conversation: the text (malloc'ed, NUL-terminated; len bytes before the NUL),
 * markup included, and the byte ranges [start, end) of the special tokens the template itself
 * put there, in order (user content never adds ranges). */
typedef struct t2g_chat_text {
    char *text;
    size_t len;
    t2g_token_span *specials; /* [specials_count] */
    size_t specials_count;
} t2g_chat_text;

/* Frees what *text holds and zeroes it (NULL or a zeroed text: nothing to do). */
void t2g_chat_text_free(t2g_chat_text *text);

/* Renders a conversation exactly as the model's template does: bos (the BOS token's text, or
 * NULL) goes first where the template puts it (llama3 does, chatml does not: there it is
 * ignored); then an optional system message (system NULL: none; a system of length 0 is an
 * empty system message); the user's prompt; and then either the generation prompt (response
 * NULL: the assistant header, as apply_chat_template(add_generation_prompt=True)) or the response
 * followed by the end-of-turn token (NOT the "\n" chatml writes after it). llama3 trims each
 * content as its template does (Jinja's `trim`: the leading and trailing characters that
 * Python's str.isspace calls whitespace); chatml does not. format NONE: bos (if any) + prompt
 * (+ response), with no system message (a system is refused). Contents are bytes: their UTF-8 is
 * checked when encoding. A pointer may be NULL only with length 0. *out is zeroed first. */
t2g_status t2g_chat_render(t2g_chat_format format, const char *bos, const char *system, size_t system_len,
                           const char *prompt, size_t prompt_len, const char *response, size_t response_len,
                           t2g_chat_text *out, t2g_error *err);

/* Encodes a rendered text with a BPE: each range in text->specials becomes its special token's id
 * (looked up with t2g_bpe_token_id; a token the tokenizer lacks is T2G_ERR_FORMAT naming the
 * token; callers name the tokenizer's file with t2g_error_context), every other run of text is
 * encoded with t2g_bpe_encode(parse_special). malloc'ed *ids and *spans (spans may be NULL),
 * *count of each, as t2g_bpe_encode; the spans of special tokens cover their text's bytes, so
 * the spans tile the text. This is apply_chat_template(tokenize=True) with parse_special true,
 * and with parse_special false where the contents hold no special token's text (transformers has
 * no exact equivalent: its sanitize_control_tokens encodes each such text as a piece of its own,
 * t2g as part of the text around it). */
t2g_status t2g_chat_encode(const t2g_bpe *bpe, const t2g_chat_text *text, bool parse_special, uint32_t **ids,
                           t2g_token_span **spans, size_t *count, t2g_error *err);

#endif
