/* Encoding text to ids with byte spans (added tokens split out first, then the normalizer, the
 * pre-tokenizer, then BPE on each piece) and decoding ids back to bytes. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "io/bpe_internal.h"

uint32_t t2g_bpe_vocab_size(const t2g_bpe *bpe) { return bpe->size; }

int64_t t2g_bpe_token_id(const t2g_bpe *bpe, const char *content) {
    uint32_t id = bpe_find(bpe, content, strlen(content));
    return id == UINT32_MAX ? -1 : (int64_t)id;
}

bool t2g_bpe_is_special(const t2g_bpe *bpe, uint32_t id) { return id < bpe->size && bpe->tokens[id].special; }

/* The added token (longest first) that text[at..len) starts with, or UINT32_MAX. */
static uint32_t added_at(const t2g_bpe *bpe, const char *text, size_t at, size_t len, bool parse_special) {
    for (uint32_t i = 0; i < bpe->added_count; i++) {
        const bpe_token *t = &bpe->tokens[bpe->added[i]];
        if ((parse_special || !t->special) && t->text_len <= len - at && text[at] == t->text[0] &&
            memcmp(text + at, t->text, t->text_len) == 0)
            return bpe->added[i];
    }
    return UINT32_MAX;
}

/* starts[b]: whether an added token that this encode matches starts with byte b (the others
 * need no look at the added tokens). */
static void added_starts(const t2g_bpe *bpe, bool parse_special, bool starts[256]) {
    memset(starts, 0, 256 * sizeof *starts);
    for (uint32_t i = 0; i < bpe->added_count; i++) {
        const bpe_token *t = &bpe->tokens[bpe->added[i]];
        if (parse_special || !t->special) starts[(uint8_t)t->text[0]] = true;
    }
}

/* A cache of the words met in one encode call: a word seen before copies the tokens of its
 * first occurrence (spans shifted) instead of merging again. Its size follows the text's (a
 * short text clears only a few slots); when half full, new words are merged as usual. */
#define WORD_CACHE_MIN_SLOTS 16u
#define WORD_CACHE_MAX_SLOTS 65536u

typedef struct word_entry {
    uint32_t start, len;   /* the first occurrence: text[start, start + len); len 0: empty slot */
    size_t first, count;   /* its tokens in the output */
} word_entry;

typedef struct word_cache {
    word_entry *slots;     /* [size], NULL: no cache (out of memory) */
    uint32_t size, used;   /* size: a power of two */
    uint64_t lookups, hits;
} word_cache;

/* One slot for every 2 bytes of text (a word takes 2 or more, with its space), within bounds. */
static word_cache cache_for(size_t len) {
    uint32_t size = WORD_CACHE_MIN_SLOTS;
    while (size < WORD_CACHE_MAX_SLOTS && size < len / 2) size *= 2;
    return (word_cache){calloc(size, sizeof(word_entry)), size, 0, 0, 0};
}

static _Atomic uint64_t cache_lookups, cache_hits; /* over every call: bpe_word_cache_counts */

void bpe_word_cache_counts(uint64_t *lookups, uint64_t *hits) {
    *lookups = atomic_load_explicit(&cache_lookups, memory_order_relaxed);
    *hits = atomic_load_explicit(&cache_hits, memory_order_relaxed);
}

/* The slot of the word text[piece]: its entry, or the empty slot to fill; NULL when full. */
static word_entry *cache_slot(const word_cache *cache, const char *text, bpe_piece piece) {
    uint32_t len = piece.end - piece.start;
    uint32_t mask = cache->size - 1, i = (uint32_t)bpe_hash(text + piece.start, len) & mask;
    for (uint32_t probes = 0; probes < cache->size; probes++, i = (i + 1) & mask) {
        word_entry *e = &cache->slots[i];
        if (e->len == 0 || (e->len == len && memcmp(text + e->start, text + piece.start, len) == 0)) return e;
    }
    return NULL;
}

static bool encode_word(const t2g_bpe *bpe, const char *text, bpe_piece piece, word_cache *cache, bpe_output *out) {
    word_entry *e = cache->slots ? cache_slot(cache, text, piece) : NULL;
    if (e && e->len == 0 && cache->used >= cache->size / 2) e = NULL; /* full enough: no more words */
    cache->lookups++;
    if (e && e->len) {
        cache->hits++;
        for (size_t i = 0; i < e->count; i++) {
            t2g_token_span span = out->spans[e->first + i];
            if (!bpe_output_push(out, out->ids[e->first + i], span.start - e->start + piece.start,
                                 span.end - e->start + piece.start))
                return false;
        }
        return true;
    }
    size_t first = out->count;
    if (!bpe_merge_word(bpe, text, piece, out)) return false;
    if (e) {
        *e = (word_entry){piece.start, piece.end - piece.start, first, out->count - first};
        cache->used++;
    }
    return true;
}

/* The ordinary text [start, end): pre-tokenized, then BPE on each piece. */
static t2g_status encode_plain(const t2g_bpe *bpe, const char *text, uint32_t start, uint32_t end, word_cache *cache,
                               bpe_output *out, t2g_error *err) {
    if (start == end) return T2G_OK;
    bpe_piece *pieces;
    size_t count;
    t2g_status status = bpe_pre_tokenize(bpe, text, (bpe_piece){start, end}, &pieces, &count, err);
    if (status != T2G_OK) return status;
    for (size_t i = 0; status == T2G_OK && i < count; i++)
        if (!encode_word(bpe, text, pieces[i], cache, out)) status = t2g_fail(err, T2G_ERR_MEMORY, "out of memory encoding");
    free(pieces);
    return status;
}

/* The ordinary text [start, end) through the normalizer, if any: a normalized copy is encoded
 * (with a word cache of its own: its words are not in text) and the spans mapped back. */
static t2g_status encode_normalized(const t2g_bpe *bpe, const char *text, uint32_t start, uint32_t end,
                                    word_cache *cache, bpe_output *out, t2g_error *err) {
    bpe_nfc_text n = {0};
    t2g_status status = bpe->nfc ? bpe_nfc(text + start, end - start, &n, err) : T2G_OK;
    if (status != T2G_OK) return status;
    if (!n.text) return encode_plain(bpe, text, start, end, cache, out, err);
    size_t first = out->count;
    word_cache own = cache_for(n.len);
    status = encode_plain(bpe, n.text, 0, n.len, &own, out, err);
    cache->lookups += own.lookups;
    cache->hits += own.hits;
    free(own.slots);
    for (size_t i = first; status == T2G_OK && i < out->count; i++)
        out->spans[i] = (t2g_token_span){start + n.from[out->spans[i].start], start + n.from[out->spans[i].end]};
    bpe_nfc_free(&n);
    return status;
}

static t2g_status check_text(const char *text, size_t len, t2g_error *err) {
    if (len >= UINT32_MAX) return t2g_fail(err, T2G_ERR_TOO_LARGE, "text of %zu bytes: at most 4 GiB - 1", len);
    for (size_t i = 0; i < len;) {
        if ((unsigned char)text[i] < 0x80) { /* ASCII, most of most texts */
            i++;
            continue;
        }
        size_t n = t2g_utf8_sequence((const unsigned char *)text + i, len - i, NULL);
        if (!n) return t2g_fail(err, T2G_ERR_FORMAT, "the text is not valid UTF-8 at byte %zu (0x%02X)", i,
                                (unsigned)(unsigned char)text[i]);
        i += n;
    }
    return T2G_OK;
}

t2g_status t2g_bpe_encode(const t2g_bpe *bpe, const char *text, size_t len, bool parse_special, uint32_t **ids,
                          t2g_token_span **spans, size_t *count, t2g_error *err) {
    *ids = NULL;
    if (spans) *spans = NULL;
    *count = 0;
    t2g_status status = check_text(text, len, err);
    bpe_output out = {0};
    word_cache cache = cache_for(len);
    bool starts[256];
    added_starts(bpe, parse_special, starts);
    uint32_t plain = 0;
    for (size_t at = 0; status == T2G_OK && at < len;) {
        while (at < len && !starts[(uint8_t)text[at]]) at++;
        if (at == len) break;
        uint32_t id = added_at(bpe, text, at, len, parse_special);
        if (id == UINT32_MAX) {
            at++;
            continue;
        }
        status = encode_normalized(bpe, text, plain, (uint32_t)at, &cache, &out, err);
        uint32_t end = (uint32_t)at + bpe->tokens[id].text_len;
        if (status == T2G_OK && !bpe_output_push(&out, id, (uint32_t)at, end))
            status = t2g_fail(err, T2G_ERR_MEMORY, "out of memory encoding");
        plain = end;
        at = end;
    }
    if (status == T2G_OK) status = encode_normalized(bpe, text, plain, (uint32_t)len, &cache, &out, err);
    free(cache.slots);
    atomic_fetch_add_explicit(&cache_lookups, cache.lookups, memory_order_relaxed);
    atomic_fetch_add_explicit(&cache_hits, cache.hits, memory_order_relaxed);
    return bpe_output_give(&out, status, ids, spans, count);
}

t2g_status t2g_bpe_decode(const t2g_bpe *bpe, const uint32_t *ids, size_t n, bool skip_special, char **bytes,
                          size_t *len, t2g_error *err) {
    *bytes = NULL;
    *len = 0;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] >= bpe->size)
            return t2g_fail(err, T2G_ERR_ARGUMENT, "decode: id %u at position %zu is not below the vocab size %u", ids[i],
                            i, bpe->size);
        total += bpe->tokens[ids[i]].bytes_len;
    }
    char *out = malloc(total + 1);
    if (!out) return t2g_fail(err, T2G_ERR_MEMORY, "decode: out of memory for %zu bytes", total);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const bpe_token *t = &bpe->tokens[ids[i]];
        if (skip_special && t->special) continue;
        memcpy(out + k, t->bytes, t->bytes_len);
        k += t->bytes_len;
    }
    out[k] = 0;
    *bytes = out;
    *len = k;
    return T2G_OK;
}
