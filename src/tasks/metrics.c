/* Text metrics of the tasks: word tokens, BLEU-4 (corpus-level and smoothed sentence-level)
 * and ROUGE-L. The tokenization is described in task_internal.h. An allocation that fails
 * (texts of millions of words) scores 0. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "task_internal.h"

static int is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
static int is_word_byte(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

t2g_word *t2g_words_split(const char *text, size_t len, size_t *count, void **storage) {
    *count = 0;
    *storage = NULL;
    /* At most one word per byte; the words first, then the lowercased copy. */
    if (len > (SIZE_MAX - 1) / (sizeof(t2g_word) + 1)) return NULL;
    char *block = malloc(len * sizeof(t2g_word) + len + 1);
    if (!block) return NULL;
    t2g_word *words = (t2g_word *)block;
    char *lower = block + len * sizeof(t2g_word);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        lower[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)text[i];
        if (is_space(c)) {
            i++;
            continue;
        }
        size_t start = i++;
        if (is_word_byte(c))
            while (i < len && is_word_byte((unsigned char)text[i]))
                i++;
        words[n++] = (t2g_word){lower + start, (uint32_t)(i - start)};
    }
    *count = n;
    *storage = block;
    return words;
}

int t2g_word_equal(t2g_word a, t2g_word b) { return a.len == b.len && memcmp(a.text, b.text, a.len) == 0; }

/* ---- word ids: equal words, equal ids, so n-grams compare as integers ---- */

typedef struct tokens {
    size_t count;
    uint32_t *ids;
    void *storage;
} tokens;

/* Splits both texts and numbers their distinct words. 0 on out of memory. */
static int tokens_pair(tokens *a, const char *text_a, size_t len_a, tokens *b, const char *text_b, size_t len_b) {
    memset(a, 0, sizeof *a);
    memset(b, 0, sizeof *b);
    size_t na, nb;
    void *sa, *sb;
    t2g_word *wa = t2g_words_split(text_a, len_a, &na, &sa);
    t2g_word *wb = t2g_words_split(text_b, len_b, &nb, &sb);
    uint32_t *ids = malloc((na + nb + 1) * sizeof *ids);
    t2g_word *distinct = malloc((na + nb + 1) * sizeof *distinct);
    int ok = wa && wb && ids && distinct;
    if (ok) {
        size_t n_distinct = 0;
        for (size_t i = 0; i < na + nb; i++) {
            t2g_word w = i < na ? wa[i] : wb[i - na];
            size_t d = 0;
            while (d < n_distinct && !t2g_word_equal(distinct[d], w))
                d++;
            if (d == n_distinct) distinct[n_distinct++] = w;
            ids[i] = (uint32_t)d;
        }
        a->count = na;
        a->ids = ids;
        a->storage = ids;
        b->count = nb;
        b->ids = ids + na;
    } else
        free(ids);
    free(distinct);
    free(sa);
    free(sb);
    return ok;
}

static void tokens_free(tokens *a) { free(a->storage); }

static int gram_equal(const uint32_t *x, const uint32_t *y, size_t n) { return memcmp(x, y, n * sizeof *x) == 0; }

static void bleu_stats_of(t2g_bleu_stats *s, const tokens *c, const tokens *r) {
    s->candidate_len += (double)c->count;
    s->reference_len += (double)r->count;
    for (size_t n = 1; n <= 4; n++) {
        if (c->count < n) continue;
        size_t grams = c->count - n + 1;
        s->totals[n - 1] += (double)grams;
        for (size_t i = 0; i < grams; i++) {
            const uint32_t *g = c->ids + i;
            int seen = 0;
            for (size_t j = 0; j < i && !seen; j++)
                seen = gram_equal(c->ids + j, g, n);
            if (seen) continue; /* counted with its first occurrence */
            size_t in_candidate = 0, in_reference = 0;
            for (size_t j = i; j < grams; j++)
                in_candidate += gram_equal(c->ids + j, g, n);
            for (size_t j = 0; j + n <= r->count; j++)
                in_reference += gram_equal(r->ids + j, g, n);
            s->matches[n - 1] += (double)(in_candidate < in_reference ? in_candidate : in_reference);
        }
    }
}

void t2g_bleu_accumulate(t2g_bleu_stats *stats, const char *candidate, size_t candidate_len, const char *reference,
                         size_t reference_len) {
    tokens c, r;
    if (!tokens_pair(&c, candidate, candidate_len, &r, reference, reference_len)) return;
    bleu_stats_of(stats, &c, &r);
    tokens_free(&c);
}

static double brevity_penalty(double c, double r) { return c >= r ? 1.0 : exp(1.0 - r / c); }

double t2g_bleu_corpus(const t2g_bleu_stats *s) {
    if (s->candidate_len <= 0) return 0;
    double log_sum = 0;
    for (int n = 0; n < 4; n++) {
        if (s->totals[n] <= 0 || s->matches[n] <= 0) return 0;
        log_sum += log(s->matches[n] / s->totals[n]);
    }
    return brevity_penalty(s->candidate_len, s->reference_len) * exp(log_sum / 4);
}

double t2g_bleu_sentence(const char *candidate, size_t candidate_len, const char *reference, size_t reference_len) {
    t2g_bleu_stats s = {0};
    t2g_bleu_accumulate(&s, candidate, candidate_len, reference, reference_len);
    if (s.candidate_len <= 0 || s.matches[0] <= 0) return 0;
    double log_sum = log(s.matches[0] / s.totals[0]);
    for (int n = 1; n < 4; n++)
        log_sum += log((s.matches[n] + 1) / (s.totals[n] + 1));
    return brevity_penalty(s.candidate_len, s.reference_len) * exp(log_sum / 4);
}

double t2g_rouge_l(const char *candidate, size_t candidate_len, const char *reference, size_t reference_len) {
    tokens c, r;
    if (!tokens_pair(&c, candidate, candidate_len, &r, reference, reference_len)) return 0;
    double f = 0;
    size_t *row = c.count && r.count ? calloc(2 * (r.count + 1), sizeof *row) : NULL;
    if (row) {
        /* lcs[i][j] of c[0..i) and r[0..j), two rows at a time. */
        size_t *prev = row, *cur = row + r.count + 1;
        for (size_t i = 1; i <= c.count; i++) {
            cur[0] = 0;
            for (size_t j = 1; j <= r.count; j++) {
                if (c.ids[i - 1] == r.ids[j - 1])
                    cur[j] = prev[j - 1] + 1;
                else
                    cur[j] = prev[j] > cur[j - 1] ? prev[j] : cur[j - 1];
            }
            size_t *t = prev;
            prev = cur;
            cur = t;
        }
        double lcs = (double)prev[r.count];
        if (lcs > 0) {
            double p = lcs / (double)c.count, rec = lcs / (double)r.count;
            f = 2 * p * rec / (p + rec);
        }
        free(row);
    }
    tokens_free(&c);
    return f;
}
