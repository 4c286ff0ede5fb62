/* The fuzzy matcher's similarity: the longest common subsequence of a span and a stretch of the
 * response, computed for every end of the stretch at once, 64 span bytes per machine word. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "feedback/feedback_internal.h"

bool fb_lcs_init(fb_lcs *lcs, const unsigned char *p, size_t m) {
    memset(lcs, 0, sizeof *lcs);
    lcs->m = m;
    lcs->words = (m + 63) / 64;
    if (lcs->words == 0) lcs->words = 1;
    lcs->pm = t2g_calloc(256 * lcs->words, sizeof *lcs->pm);
    lcs->v = t2g_malloc(lcs->words * sizeof *lcs->v);
    if (!lcs->pm || !lcs->v) {
        fb_lcs_free(lcs);
        return false;
    }
    for (size_t i = 0; i < m; i++) lcs->pm[(size_t)p[i] * lcs->words + i / 64] |= (uint64_t)1 << (i % 64);
    fb_lcs_reset(lcs);
    return true;
}

void fb_lcs_reset(fb_lcs *lcs) {
    for (size_t w = 0; w < lcs->words; w++) lcs->v[w] = ~(uint64_t)0;
}

void fb_lcs_step(fb_lcs *lcs, unsigned char c) {
    const uint64_t *pm = lcs->pm + (size_t)c * lcs->words;
    uint64_t *v = lcs->v;
    uint64_t carry = 0;
    for (size_t w = 0; w < lcs->words; w++) {
        uint64_t vw = v[w], u = vw & pm[w];
        /* vw + u + carry with the carry out: add-with-carry, in two overflow-checked adds */
        uint64_t sum, total;
        uint64_t c1 = __builtin_add_overflow(vw, u, &sum);
        uint64_t c2 = __builtin_add_overflow(sum, carry, &total);
        carry = c1 | c2;
        v[w] = total | (vw & ~pm[w]);
    }
}

size_t fb_lcs_length(const fb_lcs *lcs) {
    size_t ones = 0;
    for (size_t w = 0; w < lcs->words; w++) {
        uint64_t x = lcs->v[w];
        size_t bits = lcs->m - w * 64;
        if (bits < 64) x &= ((uint64_t)1 << bits) - 1;
        ones += (size_t)__builtin_popcountll(x);
    }
    return lcs->m - ones;
}

void fb_lcs_free(fb_lcs *lcs) {
    free(lcs->pm);
    free(lcs->v);
    memset(lcs, 0, sizeof *lcs);
}

double fb_similarity(size_t l, size_t m, size_t n) {
    return m + n == 0 ? 1.0 : 2.0 * (double)l / (double)(m + n);
}
