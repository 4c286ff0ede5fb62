/* Streaming decode: a token's bytes let out up to the last complete UTF-8 character; and a
 * token's bytes and text by id. */
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "io/bpe_internal.h"

static uint32_t sequence_length(unsigned char lead) {
    return lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
}

/* How many bytes at the end of b[0..n) are an incomplete but valid start of a character. */
static size_t incomplete_tail(const unsigned char *b, size_t n) {
    for (size_t k = 1; k <= 3 && k <= n; k++) {
        unsigned char lead = b[n - k];
        if ((lead & 0xC0) == 0x80) continue; /* a continuation byte: look further back */
        uint32_t need = sequence_length(lead);
        if (need <= k) return 0;
        unsigned char candidate[4] = {0x80, 0x80, 0x80, 0x80};
        memcpy(candidate, b + n - k, k);
        if (k == 1) candidate[1] = lead == 0xE0 ? 0xA0 : lead == 0xF0 ? 0x90 : 0x80; /* the smallest valid second byte */
        return t2g_utf8_sequence(candidate, need, NULL) == need ? k : 0;
    }
    return 0;
}

t2g_status t2g_bpe_stream_push(t2g_bpe_stream *stream, const char *add, size_t add_len, char **bytes, size_t *len,
                               t2g_error *err) {
    *bytes = NULL;
    *len = 0;
    unsigned char *all = malloc((size_t)stream->held_len + add_len + 1);
    if (!all) return t2g_fail(err, T2G_ERR_MEMORY, "decode: out of memory");
    memcpy(all, stream->held, stream->held_len);
    if (add_len) memcpy(all + stream->held_len, add, add_len);
    size_t total = stream->held_len + add_len, keep = incomplete_tail(all, total);
    memcpy(stream->held, all + total - keep, keep);
    stream->held_len = (uint32_t)keep;
    all[total - keep] = 0;
    *bytes = (char *)all;
    *len = total - keep;
    return T2G_OK;
}

t2g_status t2g_bpe_stream_next(const t2g_bpe *bpe, t2g_bpe_stream *stream, uint32_t id, bool skip_special,
                               char **bytes, size_t *len, t2g_error *err) {
    *bytes = NULL;
    *len = 0;
    if (id >= bpe->size)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "decode: id %u is not below the vocab size %u", id, bpe->size);
    const bpe_token *t = &bpe->tokens[id];
    return t2g_bpe_stream_push(stream, t->bytes, skip_special && t->special ? 0 : t->bytes_len, bytes, len, err);
}

size_t t2g_bpe_stream_finish(t2g_bpe_stream *stream, char out[4]) {
    size_t n = stream->held_len;
    memcpy(out, stream->held, n);
    stream->held_len = 0;
    return n;
}

const char *t2g_bpe_token_bytes(const t2g_bpe *bpe, uint32_t id, size_t *len) {
    *len = 0;
    if (id >= bpe->size || !bpe->tokens[id].present) return NULL;
    *len = bpe->tokens[id].bytes_len;
    return bpe->tokens[id].bytes;
}

const char *t2g_bpe_token_text(const t2g_bpe *bpe, uint32_t id) {
    return id < bpe->size && bpe->tokens[id].present ? bpe->tokens[id].text : NULL;
}
