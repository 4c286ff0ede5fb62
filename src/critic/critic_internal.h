/* What the critics share (include/t2g/critic.h): the critic object, a growing text buffer for
 * critiques in words, and a helper that appends a quoted span to a critique so that the span
 * alignment of t2g/feedback.h lands it on the intended bytes of the response. */
#ifndef T2G_CRITIC_INTERNAL_H
#define T2G_CRITIC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "t2g/critic.h"

typedef enum critic_kind { CRITIC_ARITH, CRITIC_FACTS, CRITIC_EXTERNAL, CRITIC_LLM } critic_kind;

typedef struct critic_external critic_external;
typedef struct critic_llm critic_llm;

struct t2g_critic {
    critic_kind kind;
    const t2g_task *task;      /* built-in critics */
    t2g_critic_stats stats;
    critic_external *external; /* external critics */
    critic_llm *llm;           /* language-model critics (http, model) */
};

/* ---- text: a NUL-terminated string that grows; `failed` after an allocation failed ---- */

typedef struct critic_text {
    char *p;
    size_t len, cap;
    bool failed;
} critic_text;

void critic_text_printf(critic_text *t, const char *format, ...) __attribute__((format(printf, 2, 3)));
void critic_text_put(critic_text *t, const char *bytes, size_t len);
/* Moves the text into the critique's feedback ("" when empty); false on out of memory. */
bool critic_text_give(critic_text *t, t2g_critique *critique);
void critic_text_free(critic_text *t);

/* ---- building a critique's spans ----
 * The aligner (t2g_align_spans) finds a quoted phrase at its first occurrence in the response
 * that overlaps no occurrence claimed by an identical phrase listed before it. Whether
 * "identical" includes the span's kind, the header leaves open; the placer follows both
 * readings: A, the same text (so that single digits quoted left to right land on their own
 * occurrence, whatever their kind), and B, the same text and kind.
 *
 * critic_place quotes bytes [s, e) of the response with lo <= s <= start and end <= e <= hi,
 * the shortest such stretch (then the one starting latest) that lands on itself under both
 * readings; failing that, unless both_only, the shortest that lands on itself under reading
 * A; failing that, nothing (the critique's words still say it). Callers choose lo and hi so
 * that the widening is harmless: separators (which token scores leave at 0), or, for a good
 * span, neighbours that a poor span also covers (overlapping spans give a token the lower
 * score). A widened quote no longer claims its bytes for later quotes of the core text, so
 * quotes that rely on in-order claims (single digits) are not widened. */

typedef struct critic_placer {
    const char *response;
    size_t len;
    size_t *start_a, *start_b; /* where spans[i] of the critique lands under readings A and B */
    size_t cap;
} critic_placer;

typedef enum critic_place_result { CRITIC_PLACED, CRITIC_NOT_PLACED, CRITIC_PLACE_NO_MEMORY } critic_place_result;

critic_place_result critic_place(critic_placer *placer, t2g_critique *critique, size_t start, size_t end, size_t lo,
                                 size_t hi, t2g_span_kind kind, bool both_only);
/* The separators (whitespace, ASCII punctuation) around [start, end): *lo and *hi. */
void critic_separators_around(const critic_placer *placer, size_t start, size_t end, size_t *lo, size_t *hi);
void critic_placer_free(critic_placer *placer);

/* Appends a span quoting text[0..len) (copied, NUL-terminated); false on out of memory. */
bool critic_add_span(t2g_critique *critique, const char *text, size_t len, t2g_span_kind kind);
/* Frees what a critique built here holds (the same as t2g_critique_free, without needing it). */
void critic_critique_clear(t2g_critique *critique);
/* The end of a built-in judge: the text becomes the critique's feedback, the critique is
 * copied into result with its score and final score, and what was built here is freed (also on
 * failure). no_memory: building the critique already ran out of memory. */
t2g_status critic_finish(t2g_critique *critique, critic_text *text, bool no_memory, double score, double final_score,
                         t2g_critic_result *result, t2g_error *err);

/* ---- language-model critics ---- */

/* Reads a language model's answer (its text, len bytes: the critique's JSON, bare, fenced or in
 * prose; bytes that are not valid UTF-8, and NUL, read as U+FFFD, as t2g_utf8_sanitize makes
 * them) into result within limits (NULL: none): ok, the critique, score = its "score" (0 when
 * absent), final_score 0. A text with no readable critique: result not ok, result->error says
 * why (T2G_OK: that is the sample's failure); T2G_ERR_MEMORY only when out of memory. */
t2g_status critic_reply_read(const char *text, size_t len, const t2g_critique_limits *limits,
                             t2g_critic_result *result, t2g_error *err);

/* ---- the critics ---- */

/* Built-in judges of one sample: fill result (ok, critique, score, final_score) or return an
 * error for a request they cannot judge at all (no example, an example of another task). */
t2g_status critic_arith_judge(const t2g_critic_request *request, t2g_critic_result *result, t2g_error *err);
t2g_status critic_facts_judge(const t2g_task *task, const t2g_critic_request *request, t2g_critic_result *result,
                              t2g_error *err);

t2g_status critic_external_start(const t2g_external_critic_options *options, critic_external **external,
                                 t2g_error *err);
t2g_status critic_external_judge(critic_external *external, t2g_critic_stats *stats,
                                 const t2g_critic_request *requests, uint32_t n, t2g_critic_result *results,
                                 t2g_error *err);
void critic_external_stop(critic_external *external);
t2g_status critic_external_set_log(critic_external *external, const char *path, t2g_error *err);
/* The critique of one reply line of an external critic (a JSON object), as the judge reads it. */
t2g_status critic_external_read_reply(const char *line, size_t len, t2g_critique *critique, t2g_error *err);

#endif
