/* From aligned spans to token scores, runs of equal score, and span statistics
 * (include/t2g/feedback.h). */
#include <string.h>

#include "feedback/feedback_internal.h"
#include "t2g/feedback.h"

static double kind_score(const t2g_span_scores *scores, t2g_span_kind kind) {
    switch (kind) {
    case T2G_SPAN_GOOD: return scores->good;
    case T2G_SPAN_POOR: return scores->poor;
    default: return scores->neutral;
    }
}

/* A token with no bytes (a special token) has no first byte: no span covers it and it holds no
 * punctuation, so it gets `unannotated`. A token is whitespace or punctuation only when all of
 * its bytes are whole separator characters (fb_separator_length): for the byte tokenizer that
 * is one ASCII space or punctuation byte; a lone byte of a multi-byte character never is. */
void t2g_token_scores(const t2g_critique *critique, const t2g_aligned_span *aligned, const char *response, size_t len,
                      const t2g_token_span *tokens, size_t count, const t2g_span_scores *scores, float *out) {
    t2g_span_scores defaults = t2g_span_scores_default();
    if (!scores) scores = &defaults;
    uint32_t spans = critique && aligned ? critique->span_count : 0;
    for (size_t t = 0; t < count; t++) {
        uint32_t start = tokens[t].start, end = tokens[t].end;
        double score = scores->unannotated;
        if (start < end && start < len) {
            bool covered = false;
            for (uint32_t i = 0; i < spans; i++) {
                const t2g_aligned_span *a = &aligned[i];
                if (a->match == T2G_MATCH_NONE || a->start < 0 || (int64_t)start < a->start || (int64_t)start >= a->end)
                    continue;
                double s = kind_score(scores, critique->spans[i].kind);
                if (!covered || s < score) score = s;
                covered = true;
            }
            if (end > len) end = (uint32_t)len;
            if (scores->zero_punctuation && response &&
                fb_only_separators((const unsigned char *)response + start, end - start))
                score = 0.0;
        }
        out[t] = (float)score;
    }
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
