/* What `t2g align` does with a response and a critique: the bytes before the first NUL are the
 * response, the rest the critique. Every span lands inside the response on UTF-8 character
 * boundaries (or nowhere), every token gets a finite score, and the score runs are ordered,
 * disjoint and within the tokens. */
#include <math.h>
#include <string.h>

#include "feedback/feedback_internal.h"
#include "fuzz.h"

/* boundary[i] (i = 0..len): whether byte i starts a character (a byte that starts no valid
 * UTF-8 sequence is a character of its own, as the aligner counts it). */
static void mark_boundaries(const char *text, size_t len, uint8_t *boundary) {
    memset(boundary, 0, len + 1);
    for (size_t i = 0; i < len; i += fb_char_length((const unsigned char *)text + i, len - i))
        boundary[i] = 1;
    boundary[len] = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *response = (const char *)data;
    const char *nul = memchr(data, 0, size);
    size_t len = nul ? (size_t)(nul - response) : size;
    const char *text = nul ? nul + 1 : "";
    size_t text_len = nul ? size - len - 1 : 0;

    t2g_critique critique;
    t2g_error err = {0};
    t2g_status status = t2g_critique_parse(text, text_len, &critique, &err);
    FUZZ_CHECK_ERROR(status, err);
    const t2g_critique *parsed = status == T2G_OK ? &critique : NULL;
    t2g_span_scores scores = t2g_span_scores_default();
    uint32_t spans = parsed ? critique.span_count : 0;
    t2g_aligned_span *aligned = calloc(spans ? spans : 1, sizeof *aligned);
    uint32_t *ids = malloc((len ? len : 1) * sizeof *ids);
    t2g_token_span *tokens = malloc((len ? len : 1) * sizeof *tokens);
    float *token_scores = malloc((len ? len : 1) * sizeof *token_scores);
    t2g_score_run *runs = malloc((len ? len : 1) * sizeof *runs);
    uint8_t *boundary = malloc(len + 1);
    FUZZ_CHECK(aligned && ids && tokens && token_scores && runs && boundary);
    mark_boundaries(response, len, boundary);

    t2g_error align_err = {0};
    if (parsed) FUZZ_CHECK(t2g_align_spans(response, len, parsed, &scores, aligned, &align_err) == T2G_OK);
    for (uint32_t i = 0; i < spans; i++) {
        const t2g_aligned_span *a = &aligned[i];
        if (a->match == T2G_MATCH_NONE) {
            FUZZ_CHECK(a->start == -1 && a->end == -1);
            continue;
        }
        FUZZ_CHECK(0 <= a->start && a->start <= a->end && a->end <= (int64_t)len);
        FUZZ_CHECK(boundary[a->start] && boundary[a->end]);
        FUZZ_CHECK(a->similarity >= scores.fuzzy_threshold && a->similarity <= 1.0);
    }
    size_t count = t2g_tokenize(response, len, ids, tokens);
    FUZZ_CHECK(count == len);
    FUZZ_CHECK(t2g_token_scores(parsed, parsed ? aligned : NULL, response, len, tokens, count, &scores, token_scores,
                                &align_err) == T2G_OK);
    for (size_t i = 0; i < count; i++)
        FUZZ_CHECK(isfinite(token_scores[i]));
    size_t run_count = t2g_score_runs(token_scores, count, scores.unannotated, runs);
    FUZZ_CHECK(run_count <= count);
    for (size_t r = 0; r < run_count; r++) {
        FUZZ_CHECK(runs[r].first <= runs[r].last && runs[r].last < count);
        FUZZ_CHECK(r == 0 || runs[r].first > runs[r - 1].last);
    }
    t2g_span_stats stats;
    memset(&stats, 0, sizeof stats);
    t2g_span_stats_add(&stats, parsed, parsed ? aligned : NULL);
    if (parsed) t2g_critique_free(&critique);
    free(aligned);
    free(ids);
    free(tokens);
    free(token_scores);
    free(runs);
    free(boundary);
    return 0;
}
