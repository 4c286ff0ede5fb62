/* The critique JSON over a tokenizer's vocabulary (critic/json_constraint.h): the tokens sorted
 * by their bytes once, then walked as a trie at each step, one automaton state per prefix
 * depth, so that a shared prefix is stepped once and a refused prefix refuses every token that
 * starts with it without looking at their bytes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/utf8.h"
#include "json_constraint_internal.h"

enum { TOKEN_NEVER, TOKEN_TEXT, TOKEN_STOP }; /* what a token may be */

struct critic_vocab {
    uint32_t V;
    uint8_t *kind;           /* [V] */
    uint32_t *slot;          /* [V]: a text token's place in the sorted order */
    uint32_t count;          /* text tokens */
    uint32_t *id;            /* [count] by bytes, ascending */
    uint32_t *offset, *len;  /* [count]: the token's bytes in `bytes` */
    uint32_t *shared;        /* [count]: bytes in common with the token before (0 for the first) */
    bool *plain;             /* [count]: whole UTF-8 characters, no '"', '\\' or control byte (cj_in_plain_text) */
    unsigned char *bytes;
    uint32_t stops;          /* distinct stop ids */
    uint32_t *never;         /* [never_count]: the tokens that are not text (stop ids included) */
    uint32_t never_count;
};

typedef struct token_ref {
    const unsigned char *p;
    uint32_t len, id;
} token_ref;

static int by_bytes(const void *a, const void *b) {
    const token_ref *x = a, *y = b;
    uint32_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->p, y->p, n);
    if (c) return c;
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static bool plain_text(const unsigned char *p, uint32_t len) {
    for (uint32_t i = 0; i < len;) {
        size_t n = t2g_utf8_sequence(p + i, len - i, NULL);
        if (n == 0 || p[i] < 0x20 || p[i] == '"' || p[i] == '\\') return false;
        i += (uint32_t)n;
    }
    return true;
}

/* Fills the sorted arrays from refs (sorted), copying the bytes. */
static bool fill_sorted(critic_vocab *v, const token_ref *refs, size_t total_bytes) {
    v->id = t2g_malloc((v->count + 1) * sizeof *v->id);
    v->offset = t2g_malloc((v->count + 1) * sizeof *v->offset);
    v->len = t2g_malloc((v->count + 1) * sizeof *v->len);
    v->shared = t2g_malloc((v->count + 1) * sizeof *v->shared);
    v->plain = t2g_malloc((v->count + 1) * sizeof *v->plain);
    v->bytes = t2g_malloc(total_bytes + 1);
    if (!v->id || !v->offset || !v->len || !v->shared || !v->plain || !v->bytes) return false;
    uint32_t at = 0;
    for (uint32_t i = 0; i < v->count; i++) {
        const token_ref *r = &refs[i];
        v->id[i] = r->id;
        v->offset[i] = at;
        v->len[i] = r->len;
        memcpy(v->bytes + at, r->p, r->len);
        at += r->len;
        uint32_t shared = 0;
        if (i > 0)
            while (shared < r->len && shared < refs[i - 1].len && refs[i - 1].p[shared] == r->p[shared]) shared++;
        v->shared[i] = shared;
        v->plain[i] = plain_text(r->p, r->len);
        v->slot[r->id] = i;
    }
    return true;
}

/* A byte a shortest completion may need, whatever the response, that no one-byte text token
 * gives, or -1: ASCII 0x20..0x7F and the continuation bytes 0x80..0xBF. (The lead bytes of
 * longer characters are needed only to open a span with a response that has no cheaper first
 * character; SmolLM2's vocabulary lacks F1 and F2, which begin only unassigned planes.) */
static int missing_byte(const critic_vocab *v) {
    bool have[256] = {false};
    for (uint32_t i = 0; i < v->count; i++)
        if (v->len[i] == 1) have[v->bytes[v->offset[i]]] = true;
    for (int b = 0x20; b <= 0xBF; b++)
        if (!have[b]) return b;
    return -1;
}

t2g_status critic_vocab_create(uint32_t V, const char *(*token_bytes)(void *user, uint32_t id, size_t *len),
                               bool (*special)(void *user, uint32_t id), void *user, const uint32_t *stop_ids,
                               uint32_t stop_count, critic_vocab **out, t2g_error *err) {
    if (!token_bytes || !out || (stop_count && !stop_ids))
        return t2g_fail(err, T2G_ERR_ARGUMENT, "critic_vocab_create: no token_bytes callback, no stop ids or no place "
                        "for the vocabulary");
    *out = NULL;
    for (uint32_t i = 0; i < stop_count; i++)
        if (stop_ids[i] >= V)
            return t2g_fail(err, T2G_ERR_ARGUMENT, "the stop token %u is not in the vocabulary of %u tokens", stop_ids[i], V);
    critic_vocab *v = t2g_calloc(1, sizeof *v);
    token_ref *refs = t2g_malloc(((size_t)V + 1) * sizeof *refs);
    if (v) {
        v->V = V;
        v->kind = t2g_calloc((size_t)V + 1, 1);
        v->slot = t2g_calloc((size_t)V + 1, sizeof *v->slot);
    }
    if (!v || !refs || !v->kind || !v->slot) {
        free(refs);
        critic_vocab_free(v);
        return t2g_fail(err, T2G_ERR_MEMORY, "out of memory for a vocabulary of %u tokens", V);
    }
    for (uint32_t i = 0; i < stop_count; i++) {
        v->stops += v->kind[stop_ids[i]] != TOKEN_STOP;
        v->kind[stop_ids[i]] = TOKEN_STOP;
    }
    size_t total = 0;
    for (uint32_t t = 0; t < V; t++) {
        size_t len = 0;
        const char *p = v->kind[t] == TOKEN_STOP || (special && special(user, t)) ? NULL : token_bytes(user, t, &len);
        if (!p || len == 0 || len > UINT32_MAX - total) continue;
        v->kind[t] = TOKEN_TEXT;
        refs[v->count++] = (token_ref){(const unsigned char *)p, (uint32_t)len, t};
        total += len;
    }
    qsort(refs, v->count, sizeof *refs, by_bytes);
    bool ok = fill_sorted(v, refs, total) && (v->never = t2g_malloc(((size_t)V - v->count + 1) * sizeof *v->never));
    for (uint32_t t = 0; ok && t < V; t++)
        if (v->kind[t] != TOKEN_TEXT) v->never[v->never_count++] = t;
    free(refs);
    if (!ok) {
        critic_vocab_free(v);
        return t2g_fail(err, T2G_ERR_MEMORY, "out of memory copying the %zu bytes of a vocabulary of %u tokens", total, V);
    }
    int missing = missing_byte(v);
    if (missing >= 0) {
        critic_vocab_free(v);
        return t2g_fail(err, T2G_ERR_ARGUMENT, "the vocabulary has no single-byte token for byte 0x%02X%s%c%s: constrained "
                        "critique JSON needs one for every byte a shortest completion may write (0x20..0xBF)", missing, missing < 0x7F ? " ('" : "", missing < 0x7F ? missing : ' ',
                        missing < 0x7F ? "')" : "");
    }
    *out = v;
    return T2G_OK;
}

void critic_vocab_free(critic_vocab *v) {
    if (!v) return;
    free(v->kind), free(v->slot), free(v->id), free(v->offset), free(v->len), free(v->shared), free(v->plain), free(v->bytes), free(v->never);
    free(v);
}

/* ---- the mask ---- */

#define TRIE_DEPTH 64 /* states kept per prefix depth; bytes past it are stepped without keeping */

uint32_t critic_json_mask(const critic_vocab *v, const critic_json_shape *shape, const critic_json_state *state,
                          uint32_t budget, float *logits) {
    if (critic_json_done(state)) {
        for (uint32_t t = 0; t < v->V; t++)
            if (v->kind[t] != TOKEN_STOP) logits[t] = -INFINITY;
        return v->stops;
    }
    for (uint32_t i = 0; i < v->never_count; i++) logits[v->never[i]] = -INFINITY;
    critic_json_state depth[TRIE_DEPTH + 1]; /* depth[d]: the state after the current token's first d bytes */
    depth[0] = *state;
    uint32_t known = 0;            /* depth[0..known] hold for the current token */
    uint32_t refused = UINT32_MAX; /* a prefix of this many bytes of the last token stepped was refused */
    uint32_t allowed = 0;
    /* inside a plain string, text tokens need no stepping: they fit or they do not */
    uint32_t room = 0;
    bool in_text = cj_in_plain_text(shape, state, &room) && critic_json_close_bytes(shape, state) < budget;
    for (uint32_t i = 0; i < v->count; i++) {
        uint32_t shared = v->shared[i];
        if (shared >= refused) { /* starts with the refused prefix */
            logits[v->id[i]] = -INFINITY;
            continue;
        }
        refused = UINT32_MAX;
        if (in_text && v->plain[i]) {
            if (v->len[i] <= room)
                allowed++;
            else
                logits[v->id[i]] = -INFINITY;
            if (shared < known) known = shared; /* depth[] past the shared bytes was not this token's */
            continue;
        }
        const unsigned char *b = v->bytes + v->offset[i];
        uint32_t k = shared < known ? shared : known;
        /* the next token shares at most `keep` bytes with this one: deeper states are not kept */
        uint32_t keep = i + 1 < v->count ? v->shared[i + 1] : 0;
        if (keep > TRIE_DEPTH) keep = TRIE_DEPTH;
        critic_json_state st = depth[k];
        for (; k < v->len[i]; k++) {
            if (!cj_step(shape, &st, b[k])) {
                refused = k + 1;
                break;
            }
            if (k + 1 <= keep) depth[k + 1] = st;
        }
        known = k < keep ? k : keep;
        if (refused == UINT32_MAX && critic_json_close_bytes(shape, &st) < budget)
            allowed++;
        else
            logits[v->id[i]] = -INFINITY;
    }
    return allowed;
}

bool critic_json_advance(const critic_vocab *v, const critic_json_shape *shape, critic_json_state *state,
                         uint32_t token) {
    if (token >= v->V) return false;
    if (critic_json_done(state)) return v->kind[token] == TOKEN_STOP;
    if (v->kind[token] != TOKEN_TEXT) return false;
    uint32_t i = v->slot[token];
    critic_json_state st = *state;
    for (uint32_t k = 0; k < v->len[i]; k++)
        if (!critic_json_step(shape, &st, v->bytes[v->offset[i] + k])) return false;
    *state = st;
    return true;
}
