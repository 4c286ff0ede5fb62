/* The byte-level tokenizer: one token per byte of the text (ids 0..255) plus special tokens.
 * Every token knows the byte range of the text it came from, so a critique's quoted span (a
 * byte range of the response) maps onto tokens exactly. */
#ifndef T2G_TOKENIZER_H
#define T2G_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#define T2G_TOKEN_BOS 256u    /* begins every sequence */
#define T2G_TOKEN_EOS 257u    /* ends a response */
#define T2G_TOKEN_PAD 258u    /* fills a batch row after EOS; never a target with weight > 0 */
#define T2G_BYTE_VOCAB 259u   /* the vocabulary size of the byte-level models */

typedef struct t2g_token_span {
    uint32_t start, end;      /* bytes [start, end) of the text; special tokens: start == end */
} t2g_token_span;

/* Encodes len bytes of text as len tokens: ids[i] = byte i, spans[i] = {i, i + 1} (spans may be
 * NULL). Returns the number of tokens written (len). */
size_t t2g_tokenize(const char *text, size_t len, uint32_t *ids, t2g_token_span *spans);

/* The bytes of ids[0..n), special tokens left out; malloc'ed and NUL-terminated, *len bytes
 * (not counting the NUL). NULL on out of memory. */
char *t2g_detokenize(const uint32_t *ids, size_t n, size_t *len);

/* Text that is valid UTF-8 whatever the bytes were: valid UTF-8 sequences are kept, every
 * other byte becomes the four characters \xHH (e.g. "\xC3"), and a backslash becomes "\\".
 * malloc'ed and NUL-terminated; NULL on out of memory. For every text written to a file or a
 * terminal (samples, JSON). */
char *t2g_utf8_escape(const char *bytes, size_t len);

/* "<|bos|>", "<|eos|>", "<|pad|>" for special tokens, NULL for byte tokens and unknown ids. */
const char *t2g_token_name(uint32_t id);

#endif
