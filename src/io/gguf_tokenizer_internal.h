/* The inside of t2g_gguf_tokenizer_files (t2g/gguf_tokenizer.h), shared by src/io/gguf_tokenizer*.c. */
#ifndef T2G_IO_GGUF_TOKENIZER_INTERNAL_H
#define T2G_IO_GGUF_TOKENIZER_INTERNAL_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "t2g/gguf.h"
#include "t2g/status.h"

/* How a pre-tokenizer name of llama.cpp reads as a tokenizer.json: its normalizer,
 * pre_tokenizer and model.ignore_merges, and the add_bos_token llama.cpp assumes. */
typedef struct gguf_pre_style {
    bool nfc;              /* normalizer NFC (else none) */
    bool digits;           /* Digits(individual_digits) before the rest */
    const char *split;     /* Split(this regex, Isolated) then ByteLevel without its regex; NULL:
                              ByteLevel with GPT-2's regex */
    bool ignore_merges;    /* a word that is a token is that token, merges or not */
    bool add_bos;          /* llama.cpp's add_bos when tokenizer.ggml.add_bos_token is absent */
} gguf_pre_style;

/* The style of the file's tokenizer.ggml.pre (absent: "default"); an unknown name is refused
 * naming the known ones. */
t2g_status gguf_pre_style_of(const t2g_gguf *file, const gguf_pre_style **style, t2g_error *err);

/* Adds "normalizer" and "pre_tokenizer" of the style to root; false when out of memory. */
bool gguf_pre_style_json(const gguf_pre_style *style, cJSON *root);

/* The reverse, for writing: the name of the style of a tokenizer.json (`root`: its normalizer,
 * pre_tokenizer and model.ignore_merges); NULL when no name has that style. */
const char *gguf_pre_name_of_json(const cJSON *root);

/* "gpt-2 (...), smollm (...), ...": the styles written, for messages. */
const char *gguf_pre_names_written(void);

#endif
