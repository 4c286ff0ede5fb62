/* The byte-level tokenizer (include/t2g/tokenizer.h): token i is byte i of the text, plus the
 * special tokens BOS, EOS and PAD; and the escape that makes any bytes printable as UTF-8. */
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "t2g/tokenizer.h"

size_t t2g_tokenize(const char *text, size_t len, uint32_t *ids, t2g_token_span *spans) {
    const unsigned char *bytes = (const unsigned char *)text;
    for (size_t i = 0; i < len; i++) {
        ids[i] = bytes[i];
        if (spans) spans[i] = (t2g_token_span){(uint32_t)i, (uint32_t)(i + 1)};
    }
    return len;
}

char *t2g_detokenize(const uint32_t *ids, size_t n, size_t *len) {
    char *text = malloc(n + 1);
    if (!text) return NULL;
    size_t out = 0;
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 256u) text[out++] = (char)(unsigned char)ids[i];
    text[out] = 0;
    if (len) *len = out;
    return text;
}

/* A NUL byte is valid UTF-8 but would end the returned C string early, so it is escaped
 * too ("\x00"): the result then always holds every byte of the input. */
char *t2g_utf8_escape(const char *bytes, size_t len) {
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *b = (const unsigned char *)bytes;
    /* At most four output bytes per input byte ("\xHH"). */
    if (len > (SIZE_MAX - 1) / 4) return NULL;
    char *out = malloc(4 * len + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t n = b[i] ? t2g_utf8_sequence(b + i, len - i, NULL) : 0;
        if (n == 1 && b[i] == '\\') {
            out[o++] = '\\';
            out[o++] = '\\';
        } else if (n > 0) {
            memcpy(out + o, b + i, n);
            o += n;
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[b[i] >> 4];
            out[o++] = hex[b[i] & 15];
            n = 1; /* the next byte gets its own chance to start a sequence */
        }
        i += n;
    }
    out[o] = 0;
    return out;
}

const char *t2g_token_name(uint32_t id) {
    switch (id) {
    case T2G_TOKEN_BOS: return "<|bos|>";
    case T2G_TOKEN_EOS: return "<|eos|>";
    case T2G_TOKEN_PAD: return "<|pad|>";
    default: return NULL;
    }
}
