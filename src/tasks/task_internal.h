/* What a built-in task is made of (include/t2g/tasks.h), and the text metrics they share. */
#ifndef T2G_TASK_INTERNAL_H
#define T2G_TASK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "t2g/rng.h"
#include "t2g/tasks.h"

typedef struct t2g_word t2g_word; /* a word of a text (below) */

struct t2g_task {
    const char *name;
    const char *description;
    uint32_t metric_count;
    const char *metrics[T2G_TASK_MAX_METRICS]; /* metrics[0] is the headline metric */
    /* Example from a fresh stream for one (seed, index): fills every field of *example. */
    void (*generate)(t2g_rng *rng, t2g_task_example *example);
    /* values[k] for metrics[k] of one response; BLEU-4 sentence-level (smoothed). */
    void (*score)(const t2g_task_example *example, const char *response, size_t len, double *values);
    int corpus_bleu; /* index of the metric that t2g_task_evaluate computes as corpus BLEU-4, or -1 */
    /* Whether a word (lowercase) is of the references' language; NULL: every word is. */
    int (*word_known)(t2g_word word);
};

extern const t2g_task t2g_task_arith;
extern const t2g_task t2g_task_facts;

/* ---- metrics.c: word tokens, BLEU-4, ROUGE-L ----
 * The tokenization of every text metric: ASCII letters are lowercased; a word is a maximal
 * run of ASCII letters, digits and bytes >= 0x80 (so a UTF-8 word stays one token); every
 * other byte that is not whitespace (space, \t, \n, \v, \f, \r) is a token of its own
 * (punctuation: "Oslo." is "oslo" "."); whitespace only separates.
 * "Ada's cat, Rex!" -> ada ' s cat , rex ! */

typedef struct t2g_word {
    const char *text; /* lowercased, not NUL-terminated */
    uint32_t len;
} t2g_word;

/* The words of text[0..len): *count words pointing into a lowercased copy (*storage, free it
 * with free(); the words array lives in the same block). NULL words on out of memory (then
 * *count is 0). */
t2g_word *t2g_words_split(const char *text, size_t len, size_t *count, void **storage);
int t2g_word_equal(t2g_word a, t2g_word b);

/* Clipped n-gram matches and candidate n-gram counts for n = 1..4, and the lengths: what
 * BLEU-4 sums over a corpus. */
typedef struct t2g_bleu_stats {
    double matches[4], totals[4];
    double candidate_len, reference_len;
} t2g_bleu_stats;

/* Adds the statistics of one (candidate, reference) pair to *stats. */
void t2g_bleu_accumulate(t2g_bleu_stats *stats, const char *candidate, size_t candidate_len, const char *reference,
                         size_t reference_len);
/* BLEU-4 (Papineni et al.): brevity penalty times the geometric mean of the four n-gram
 * precisions; 0 if any precision is 0 or there is no candidate. */
double t2g_bleu_corpus(const t2g_bleu_stats *stats);
/* Sentence-level BLEU-4 with add-one smoothing of the 2- to 4-gram precisions (Lin and Och
 * 2004, "BLEU+1"): p_n = (m_n + 1) / (t_n + 1) for n >= 2; unigram precision unsmoothed, so
 * a response with no word of the reference scores 0 and an identical one 1. */
double t2g_bleu_sentence(const char *candidate, size_t candidate_len, const char *reference, size_t reference_len);
/* ROUGE-L F1: LCS of the word sequences, P = LCS / candidate words, R = LCS / reference
 * words, F1 = 2PR / (P + R); 0 when either text has no words. */
double t2g_rouge_l(const char *candidate, size_t candidate_len, const char *reference, size_t reference_len);

#endif
