/* BPE on one word: the word's bytes as a linked list of symbols, and a binary heap of the
 * adjacent pairs that have a merge, lowest rank first (then leftmost). Each merge pops the
 * best pair, checks it is still current, joins the two symbols and pushes the new neighbours'
 * pairs: O(n log n) for a word of n bytes. Short words (most of them) take the same merges in
 * the same order from a scan of an array instead, without allocating. */
#include <stdlib.h>
#include <string.h>

#include "io/bpe_internal.h"

bool bpe_output_push(bpe_output *out, uint32_t id, uint32_t start, uint32_t end) {
    if (out->count == out->capacity) {
        size_t capacity = out->capacity ? 2 * out->capacity : 64;
        uint32_t *ids = realloc(out->ids, capacity * sizeof *ids);
        if (!ids) return false;
        out->ids = ids;
        t2g_token_span *spans = realloc(out->spans, capacity * sizeof *spans);
        if (!spans) return false;
        out->spans = spans;
        out->capacity = capacity;
    }
    out->ids[out->count] = id;
    out->spans[out->count] = (t2g_token_span){start, end};
    out->count++;
    return true;
}

t2g_status bpe_output_give(bpe_output *out, t2g_status status, uint32_t **ids, t2g_token_span **spans, size_t *count) {
    if (status != T2G_OK) {
        free(out->ids);
        free(out->spans);
        return status;
    }
    *ids = out->ids;
    *count = out->count;
    if (spans) *spans = out->spans;
    else free(out->spans);
    return T2G_OK;
}

typedef struct symbol {
    uint32_t id, start, end; /* bytes [start, end) of the text */
    int32_t prev, next;      /* -1: none */
} symbol;

typedef struct pair_entry {
    uint32_t rank, merged;
    int32_t left, right;      /* symbol indices when pushed */
    uint32_t left_id, right_id;
} pair_entry;

static bool pair_before(const pair_entry *a, const pair_entry *b) {
    return a->rank != b->rank ? a->rank < b->rank : a->left < b->left;
}

static void heap_push(pair_entry *heap, size_t *n, pair_entry e) {
    size_t i = (*n)++;
    while (i > 0 && pair_before(&e, &heap[(i - 1) / 2])) {
        heap[i] = heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    heap[i] = e;
}

static pair_entry heap_pop(pair_entry *heap, size_t *n) {
    pair_entry top = heap[0], last = heap[--*n];
    size_t i = 0;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= *n) break;
        if (child + 1 < *n && pair_before(&heap[child + 1], &heap[child])) child++;
        if (!pair_before(&heap[child], &last)) break;
        heap[i] = heap[child];
        i = child;
    }
    if (*n) heap[i] = last;
    return top;
}

static void push_pair(const t2g_bpe *bpe, const symbol *sym, int32_t left, pair_entry *heap, size_t *n) {
    if (left < 0 || sym[left].next < 0) return;
    int32_t right = sym[left].next;
    pair_entry e = {0, 0, left, right, sym[left].id, sym[right].id};
    if (bpe_find_merge(bpe, e.left_id, e.right_id, &e.rank, &e.merged)) heap_push(heap, n, e);
}

/* The word in ByteLevel characters, looked up whole (ignore_merges). */
static uint32_t whole_word(const t2g_bpe *bpe, const char *text, bpe_piece piece) {
    size_t n = piece.end - piece.start;
    char *chars = malloc(2 * n + 1);
    if (!chars) return UINT32_MAX;
    size_t k = 0;
    for (size_t i = piece.start; i < piece.end; i++) {
        uint32_t cp = bpe_byte_char((uint8_t)text[i]);
        if (cp < 0x80) chars[k++] = (char)cp;
        else {
            chars[k++] = (char)(0xC0 | cp >> 6);
            chars[k++] = (char)(0x80 | (cp & 0x3F));
        }
    }
    uint32_t id = bpe_find(bpe, chars, k);
    free(chars);
    return id;
}

/* ---- short words: an array scanned for the best pair ---- */

#define SHORT_WORD_BYTES 32

typedef struct short_symbol {
    uint32_t id, start, end; /* bytes [start, end) of the text */
    uint32_t rank, merged;   /* the merge of this symbol and the next; rank UINT32_MAX: none */
} short_symbol;

static void short_pair(const t2g_bpe *bpe, short_symbol *sym, size_t i, size_t n) {
    sym[i].rank = UINT32_MAX;
    if (i + 1 < n && !bpe_find_merge(bpe, sym[i].id, sym[i + 1].id, &sym[i].rank, &sym[i].merged))
        sym[i].rank = UINT32_MAX;
}

/* The lowest rank, then the leftmost: the heap's order, as every current pair is scanned. */
static bool merge_short_word(const t2g_bpe *bpe, const char *text, bpe_piece piece, bpe_output *out) {
    short_symbol sym[SHORT_WORD_BYTES];
    size_t n = 0;
    for (uint32_t at = piece.start; at < piece.end; at++) {
        uint32_t id = bpe->byte_id[(uint8_t)text[at]];
        if (id != UINT32_MAX) sym[n++] = (short_symbol){id, at, at + 1, UINT32_MAX, 0};
    }
    for (size_t i = 0; i + 1 < n; i++) short_pair(bpe, sym, i, n);
    for (;;) {
        size_t best = n;
        uint32_t best_rank = UINT32_MAX;
        for (size_t i = 0; i + 1 < n; i++)
            if (sym[i].rank < best_rank) best_rank = sym[i].rank, best = i;
        if (best == n) break;
        sym[best].id = sym[best].merged;
        sym[best].end = sym[best + 1].end;
        memmove(&sym[best + 1], &sym[best + 2], (n - best - 2) * sizeof *sym);
        n--;
        short_pair(bpe, sym, best, n);
        if (best > 0) short_pair(bpe, sym, best - 1, n);
    }
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) ok = bpe_output_push(out, sym[i].id, sym[i].start, sym[i].end);
    return ok;
}

bool bpe_merge_word(const t2g_bpe *bpe, const char *text, bpe_piece piece, bpe_output *out) {
    size_t n = piece.end - piece.start;
    if (n == 0) return true;
    if (bpe->ignore_merges) {
        uint32_t id = whole_word(bpe, text, piece);
        if (id != UINT32_MAX) return bpe_output_push(out, id, piece.start, piece.end);
    }
    if (n <= SHORT_WORD_BYTES) return merge_short_word(bpe, text, piece, out);
    symbol *sym = malloc(n * sizeof *sym);
    pair_entry *heap = malloc(3 * n * sizeof *heap); /* n - 1 pairs at first, 2 more per merge */
    if (!sym || !heap) {
        free(sym);
        free(heap);
        return false;
    }
    size_t kept = 0;
    for (uint32_t at = piece.start; at < piece.end; at++) {
        uint32_t id = bpe->byte_id[(uint8_t)text[at]];
        if (id != UINT32_MAX) sym[kept] = (symbol){id, at, at + 1, (int32_t)kept - 1, (int32_t)kept + 1}, kept++;
    }
    n = kept;
    if (n) sym[n - 1].next = -1;
    size_t heap_n = 0;
    for (size_t i = 0; i + 1 < n; i++) push_pair(bpe, sym, (int32_t)i, heap, &heap_n);
    while (heap_n) {
        pair_entry e = heap_pop(heap, &heap_n);
        symbol *left = &sym[e.left];
        if (left->next != e.right || left->id != e.left_id || sym[e.right].id != e.right_id ||
            sym[e.right].prev != e.left)
            continue; /* stale: one side was merged since */
        symbol *right = &sym[e.right];
        left->id = e.merged;
        left->end = right->end;
        left->next = right->next;
        if (right->next >= 0) sym[right->next].prev = e.left;
        right->id = UINT32_MAX; /* dead */
        right->prev = right->next = -1;
        push_pair(bpe, sym, left->prev, heap, &heap_n);
        push_pair(bpe, sym, e.left, heap, &heap_n);
    }
    bool ok = true;
    for (int32_t i = n ? 0 : -1; i >= 0 && ok; i = sym[i].next) ok = bpe_output_push(out, sym[i].id, sym[i].start, sym[i].end);
    free(sym);
    free(heap);
    return ok;
}
