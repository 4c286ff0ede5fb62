/* Critiques in words, their quoted spans, and the token scores they give a response.
 *
 * A critique is what a judge (a person, an LLM, a built-in critic) writes about a response: text
 * and phrases quoted verbatim from the response, each marked good, poor or neutral. Three formats
 * come from the Text2Grad pipeline (arXiv 2505.22338, its public code):
 *   {"textual_feedback": "...", "good_spans": [...], "poor_spans": [...]}
 *   {"Code Feedback": "...", "wrong_code": [...], "improvement_code": [...]}
 *   {"textual_feedback": "...", "word_score_list": [["word", 1], ["word", -1], ["word", 0], ...]}
 * Language models wrap such JSON in prose or a ```json fence, escape quotes, add keys: all of that
 * is accepted. Then each span is found in the response (exact, then on normalized text mapped
 * back to exact byte offsets, then fuzzy), and the spans' scores land on the response's tokens. */
#ifndef T2G_FEEDBACK_H
#define T2G_FEEDBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "t2g/status.h"
#include "t2g/tokenizer.h"

typedef enum t2g_span_kind {
    T2G_SPAN_GOOD,     /* good_spans, +1 words */
    T2G_SPAN_POOR,     /* poor_spans, wrong_code, -1 words */
    T2G_SPAN_NEUTRAL,  /* improvement_code, 0 words */
} t2g_span_kind;

typedef enum t2g_critique_format {
    T2G_CRITIQUE_SPANS,  /* textual_feedback + good_spans / poor_spans */
    T2G_CRITIQUE_CODE,   /* Code Feedback + wrong_code / improvement_code */
    T2G_CRITIQUE_WORDS,  /* textual_feedback + word_score_list */
} t2g_critique_format;

typedef struct t2g_critique_span {
    char *text;          /* as quoted in the critique (UTF-8 bytes), NUL-terminated */
    size_t len;
    t2g_span_kind kind;
} t2g_critique_span;

typedef struct t2g_critique {
    t2g_critique_format format;
    char *feedback;      /* the critique in words ("" if none), NUL-terminated */
    t2g_critique_span *spans;
    uint32_t span_count; /* in the order the critique lists them */
    bool has_score;      /* a scalar "score" key was present */
    double score;
} t2g_critique;

/* Finds the critique's JSON object in text (bare, inside a ```json fence, or surrounded by
 * prose) and reads it. Extra keys are ignored; an absent span list is empty. Errors
 * (T2G_ERR_FORMAT): no JSON object, malformed JSON (trailing commas, unbalanced brackets: the
 * message says where), a span list that is not an array of strings, a word_score_list entry that
 * is not [string, -1|0|1], no known format; T2G_ERR_MEMORY when out of memory (never read as
 * a format error). Never crashes on any input. */
t2g_status t2g_critique_parse(const char *text, size_t len, t2g_critique *critique, t2g_error *err);
void t2g_critique_free(t2g_critique *critique);

/* Caps on one critique (critic.max_spans, critic.max_bytes): they keep a critique's cost
 * bounded, whatever a judge writes. */
typedef struct t2g_critique_limits {
    uint32_t max_spans;  /* quoted spans (word_score_list entries count as spans) */
    uint64_t max_bytes;  /* the critique's text as written; for a critique already read, its
                          * words plus its spans' bytes */
} t2g_critique_limits;

/* t2g_critique_parse within limits (NULL: none): a text over max_bytes is refused before it is
 * read, a critique with more than max_spans spans as soon as the list passes the cap
 * (T2G_ERR_TOO_LARGE, the message names the cap's key). */
t2g_status t2g_critique_parse_limited(const char *text, size_t len, const t2g_critique_limits *limits,
                                      t2g_critique *critique, t2g_error *err);
/* Whether a critique (from any critic) is within limits; T2G_ERR_TOO_LARGE naming the cap if not. */
t2g_status t2g_critique_check_limits(const t2g_critique *critique, const t2g_critique_limits *limits, t2g_error *err);
/* A deep copy (for keeping a critique beyond its source). */
t2g_status t2g_critique_copy(const t2g_critique *source, t2g_critique *copy, t2g_error *err);

/* The values that spans give tokens, and how spans are found. */
typedef struct t2g_span_scores {
    double good;             /* +1 */
    double poor;             /* -1 */
    double neutral;          /* 0 */
    double unannotated;      /* 0 (the paper's code task used +1) */
    bool zero_punctuation;   /* tokens made only of whitespace or punctuation get 0 (true) */
    double fuzzy_threshold;  /* the lowest similarity of a fuzzy match, in (0, 1] (0.7) */
} t2g_span_scores;

t2g_span_scores t2g_span_scores_default(void);

typedef enum t2g_match_kind {
    T2G_MATCH_NONE,
    T2G_MATCH_EXACT,
    T2G_MATCH_NORMALIZED,    /* equal after folding case, punctuation and whitespace */
    T2G_MATCH_FUZZY,         /* the best-matching substring, similarity >= fuzzy_threshold */
} t2g_match_kind;

typedef struct t2g_aligned_span {
    t2g_match_kind match;
    int64_t start, end;      /* bytes [start, end) of the response; -1, -1 when unmatched */
    double similarity;       /* 1 for exact and normalized matches */
} t2g_aligned_span;

/* Finds every span of the critique in the response (out: span_count entries, in the critique's
 * order). A repeated phrase takes the first occurrence not already claimed by an identical span
 * (the same quoted text, whatever its kind) listed before it, so a critique that quotes
 * repeated words in reading order puts each on its own occurrence. Offsets always fall on UTF-8
 * character boundaries. Work grows about linearly with the span count (identical spans are
 * searched as one). Errors: out of memory (T2G_ERR_MEMORY, every span left unmatched: never
 * read it as "no span matched"), a response of 2^32 - 1 bytes or more (T2G_ERR_TOO_LARGE). */
t2g_status t2g_align_spans(const char *response, size_t len, const t2g_critique *critique,
                           const t2g_span_scores *scores, t2g_aligned_span *out, t2g_error *err);

/* The score of each token of the response: a token takes the score of the matched span covering
 * its first byte (the lowest, when spans overlap), `unannotated` when none does, and 0 when it
 * is whitespace or punctuation only and zero_punctuation is set. tokens: the response's tokens'
 * byte ranges (t2g_tokenize), count of them; out: count floats. T2G_ERR_MEMORY when out of
 * memory. */
t2g_status t2g_token_scores(const t2g_critique *critique, const t2g_aligned_span *aligned, const char *response,
                            size_t len, const t2g_token_span *tokens, size_t count, const t2g_span_scores *scores,
                            float *out, t2g_error *err);

/* The same as runs of equal score over token indices [first, last] (inclusive, ascending,
 * disjoint, covering only tokens whose score differs from `unannotated`), for the GPU's span
 * mask: out has room for `count` runs; returns how many were written. */
typedef struct t2g_score_run {
    uint32_t first, last;
    float score;
} t2g_score_run;
size_t t2g_score_runs(const float *token_scores, size_t count, double unannotated, t2g_score_run *out);

/* Span statistics of a batch: matched per kind and match kind, unmatched per kind. */
typedef struct t2g_span_stats {
    uint32_t spans[3];              /* by t2g_span_kind */
    uint32_t matched[3][4];         /* [span kind][match kind] */
    uint32_t critiques, unparsed;   /* critiques seen, and those that could not be parsed */
} t2g_span_stats;
void t2g_span_stats_add(t2g_span_stats *stats, const t2g_critique *critique, const t2g_aligned_span *aligned);

const char *t2g_span_kind_name(t2g_span_kind kind);    /* "good", "poor", "neutral" */
const char *t2g_match_kind_name(t2g_match_kind kind);  /* "none", "exact", "normalized", "fuzzy" */

#endif
