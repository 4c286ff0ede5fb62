/* GGUF files holding a tokenizer in llama.cpp's keys, made with t2g's GGUF writer from a
 * tokenizer.json (the golden ones of tests/golden/tokenizers/), for check_gguf_tokenizer.c. */
#ifndef T2G_CHECK_GGUF_TOKENIZER_FILES_H
#define T2G_CHECK_GGUF_TOKENIZER_FILES_H

#include <stdbool.h>
#include <stdint.h>

#include "check.h"

/* A tokenizer as GGUF arrays (check_host memory). */
typedef struct gguf_tok {
    uint32_t count;       /* tokens */
    const char **token;   /* [count] the vocab string, or an added token's content */
    int32_t *type;        /* [count] 1 normal, 3 control (a special added token), 4 user defined */
    uint32_t merge_count;
    const char **merge;   /* [merge_count] "a b" */
} gguf_tok;

/* tests/golden/tokenizers/<style>/tokenizer.json as GGUF arrays, with room for `extra` more
 * tokens after its own. */
bool gguf_tok_golden(check_ctx *ctx, const char *style, uint32_t extra, gguf_tok *tok);

/* What to write beside the arrays, and how to break the file on purpose. */
typedef struct gguf_tok_file {
    const char *model;         /* tokenizer.ggml.model */
    const char *pre;           /* tokenizer.ggml.pre; NULL: absent */
    int64_t bos, eos, pad;     /* the ids; -1: absent */
    const char *chat_template; /* NULL: absent */
    bool no_merges;            /* leave tokenizer.ggml.merges out */
    bool tokens_as_ints;       /* tokenizer.ggml.tokens an array of i32 */
    uint32_t types_short;      /* tokenizer.ggml.token_type holds this many fewer than the tokens */
} gguf_tok_file;

/* Writes the GGUF file (no tensors) at path; false (a failure) if it cannot. */
bool gguf_tok_write(check_ctx *ctx, const char *path, const gguf_tok *tok, const gguf_tok_file *how);

#endif
