/* The BPE tokenizer's lookup tables: GPT-2's byte alphabet, the token-text index and the merge
 * table (both open addressing). */
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "io/bpe_internal.h"

/* Bytes that print stand for themselves; the others (0-32, 127-160, 173) take the code points
 * from 256 up, in byte order. */
static bool byte_prints(unsigned b) { return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174; }

uint32_t bpe_byte_char(uint8_t b) {
    if (byte_prints(b)) return b;
    uint32_t n = 0;
    for (unsigned c = 0; c < b; c++) n += !byte_prints(c);
    return 256 + n;
}

int bpe_char_byte(uint32_t cp) {
    if (cp < 256) return byte_prints(cp) ? (int)cp : -1;
    uint32_t n = 256;
    for (unsigned c = 0; c < 256; c++)
        if (!byte_prints(c) && n++ == cp) return (int)c;
    return -1;
}

uint64_t bpe_hash(const char *s, size_t n) {
    return t2g_fnv1a64(T2G_FNV1A64_START, s, n);
}

uint32_t bpe_find(const t2g_bpe *bpe, const char *s, size_t n) {
    if (!bpe->text_slots) return UINT32_MAX;
    uint32_t mask = bpe->text_slots - 1;
    for (uint32_t i = (uint32_t)bpe_hash(s, n) & mask;; i = (i + 1) & mask) {
        uint32_t id = bpe->text_index[i];
        if (id == UINT32_MAX) return UINT32_MAX;
        const bpe_token *t = &bpe->tokens[id];
        if (t->text_len == n && memcmp(t->text, s, n) == 0) return id;
    }
}

bool bpe_index_texts(t2g_bpe *bpe, uint32_t *duplicate) {
    *duplicate = UINT32_MAX;
    uint32_t slots = 16;
    while (slots < 2 * (uint64_t)bpe->size) slots *= 2;
    bpe->text_index = malloc((size_t)slots * sizeof *bpe->text_index);
    if (!bpe->text_index) return false;
    memset(bpe->text_index, 0xff, (size_t)slots * sizeof *bpe->text_index);
    bpe->text_slots = slots;
    for (uint32_t id = 0; id < bpe->size; id++) {
        const bpe_token *t = &bpe->tokens[id];
        if (!t->present) continue;
        if (bpe_find(bpe, t->text, t->text_len) != UINT32_MAX) {
            if (*duplicate == UINT32_MAX) *duplicate = id;
            continue;
        }
        uint32_t i = (uint32_t)bpe_hash(t->text, t->text_len) & (slots - 1);
        while (bpe->text_index[i] != UINT32_MAX) i = (i + 1) & (slots - 1);
        bpe->text_index[i] = id;
    }
    return true;
}

static uint32_t pair_slot(uint64_t pair, uint32_t slots) {
    return (uint32_t)((pair * 0x9E3779B97F4A7C15ull) >> 32) & (slots - 1);
}

bool bpe_find_merge(const t2g_bpe *bpe, uint32_t left, uint32_t right, uint32_t *rank, uint32_t *merged) {
    if (!bpe->merge_slots) return false;
    uint64_t pair = (uint64_t)left << 32 | right;
    for (uint32_t i = pair_slot(pair, bpe->merge_slots);; i = (i + 1) & (bpe->merge_slots - 1)) {
        const bpe_merge_slot *s = &bpe->merges[i];
        if (s->pair == UINT64_MAX) return false;
        if (s->pair == pair) {
            *rank = s->rank;
            *merged = s->merged;
            return true;
        }
    }
}

void bpe_add_merge(t2g_bpe *bpe, uint32_t left, uint32_t right, uint32_t rank, uint32_t merged) {
    uint64_t pair = (uint64_t)left << 32 | right;
    uint32_t i = pair_slot(pair, bpe->merge_slots);
    while (bpe->merges[i].pair != UINT64_MAX) {
        if (bpe->merges[i].pair == pair) return;
        i = (i + 1) & (bpe->merge_slots - 1);
    }
    bpe->merges[i] = (bpe_merge_slot){pair, rank, merged};
}
