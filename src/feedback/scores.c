/* From aligned spans to token scores, runs of equal score, and span statistics
 * (include/t2g/feedback.h). */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "feedback/feedback_internal.h"
#include "t2g/feedback.h"

/* A token with no bytes (a special token) has no first byte: no span covers it and it holds no
 * punctuation, so it gets `unannotated`. A token is whitespace or punctuation only when all of
 * its bytes are whole separator characters (fb_separator_length): for the byte tokenizer that
 * is one ASCII space or punctuation byte; a lone byte of a multi-byte character never is.
 * Which kinds cover a byte comes from a running count per kind (+1 where a span starts, -1
 * where it ends): work linear in bytes + spans + tokens. */
t2g_status t2g_token_scores(const t2g_critique *critique, const t2g_aligned_span *aligned, const char *response,
                            size_t len, const t2g_token_span *tokens, size_t count, const t2g_span_scores *scores,
                            float *out, t2g_error *err) {
    t2g_span_scores defaults = t2g_span_scores_default();
    if (!scores) scores = &defaults;
    uint32_t spans = critique && aligned ? critique->span_count : 0;
    /* (len + 1, 3): per byte, the spans of each kind (good, poor, neutral) covering it */
    int32_t *cover = t2g_calloc((len + 1) * 3, sizeof *cover);
    if (!cover) return t2g_fail(err, T2G_ERR_MEMORY, "out of memory scoring the tokens of a %zu-byte response", len);
    for (uint32_t i = 0; i < spans; i++) {
        const t2g_aligned_span *a = &aligned[i];
        if (a->match == T2G_MATCH_NONE || a->start < 0 || a->start >= a->end || (uint64_t)a->start >= len) continue;
        size_t start = (size_t)a->start, end = (uint64_t)a->end < len ? (size_t)a->end : len;
        unsigned k = critique->spans[i].kind == T2G_SPAN_GOOD ? 0 : critique->spans[i].kind == T2G_SPAN_POOR ? 1 : 2;
        cover[3 * start + k]++;
        cover[3 * end + k]--;
    }
    for (size_t b = 1; b <= len; b++)
        for (unsigned k = 0; k < 3; k++) cover[3 * b + k] += cover[3 * (b - 1) + k];
    const double kind_scores[3] = {scores->good, scores->poor, scores->neutral};
    for (size_t t = 0; t < count; t++) {
        uint32_t start = tokens[t].start, end = tokens[t].end;
        double score = scores->unannotated;
        if (start < end && start < len) {
            bool covered = false;
            for (unsigned k = 0; k < 3; k++) {
                if (cover[3 * (size_t)start + k] <= 0) continue;
                if (!covered || kind_scores[k] < score) score = kind_scores[k];
                covered = true;
            }
            if (end > len) end = (uint32_t)len;
            if (scores->zero_punctuation && response &&
                fb_only_separators((const unsigned char *)response + start, end - start))
                score = 0.0;
        }
        out[t] = (float)score;
    }
    free(cover);
    fb_work_add(len + spans + count);
    return T2G_OK;
}

size_t t2g_score_runs(const float *token_scores, size_t count, double unannotated, t2g_score_run *out) {
    float skip = (float)unannotated;
    size_t runs = 0;
    for (size_t t = 0; t < count;) {
        float s = token_scores[t];
        if (s == skip) {
            t++;
            continue;
        }
        size_t first = t;
        while (t + 1 < count && token_scores[t + 1] == s) t++;
        out[runs++] = (t2g_score_run){(uint32_t)first, (uint32_t)t, s};
        t++;
    }
    return runs;
}

void t2g_span_stats_add(t2g_span_stats *stats, const t2g_critique *critique, const t2g_aligned_span *aligned) {
    if (!stats) return;
    stats->critiques++;
    if (!critique) {
        stats->unparsed++;
        return;
    }
    for (uint32_t i = 0; i < critique->span_count; i++) {
        unsigned kind = (unsigned)critique->spans[i].kind;
        unsigned match = aligned ? (unsigned)aligned[i].match : T2G_MATCH_NONE;
        if (kind > T2G_SPAN_NEUTRAL || match > T2G_MATCH_FUZZY) continue;
        stats->spans[kind]++;
        stats->matched[kind][match]++;
    }
}

const char *t2g_span_kind_name(t2g_span_kind kind) {
    switch (kind) {
    case T2G_SPAN_GOOD: return "good";
    case T2G_SPAN_POOR: return "poor";
    case T2G_SPAN_NEUTRAL: return "neutral";
    }
    return "unknown";
}

const char *t2g_match_kind_name(t2g_match_kind kind) {
    switch (kind) {
    case T2G_MATCH_NONE: return "none";
    case T2G_MATCH_EXACT: return "exact";
    case T2G_MATCH_NORMALIZED: return "normalized";
    case T2G_MATCH_FUZZY: return "fuzzy";
    }
    return "unknown";
}
