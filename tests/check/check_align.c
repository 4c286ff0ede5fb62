/* Finding a critique's spans in a response and scoring its tokens (t2g/feedback.h): exact,
 * normalized (case, punctuation, whitespace) and fuzzy matches with their offsets, absent
 * spans, repeated phrases claimed in order, multi-byte UTF-8 (offsets on character boundaries,
 * checked on random texts too), token scores (overlaps, the punctuation switch, unannotated),
 * runs, statistics; the bit-parallel LCS against a plain dynamic programme; and the time of a
 * 500-byte span in a 10 KB response. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/alloc.h"
#include "feedback/feedback_internal.h"
#include "t2g/feedback.h"

typedef struct span_in {
    const char *text;
    t2g_span_kind kind;
} span_in;

/* A critique over literal spans (memory of the case; not for t2g_critique_free). */
static t2g_critique make_critique(check_ctx *ctx, const span_in *spans, uint32_t n) {
    t2g_critique c = {0};
    c.feedback = (char *)"";
    c.spans = check_host(ctx, (n + 1) * sizeof *c.spans);
    for (uint32_t i = 0; i < n; i++) c.spans[i] = (t2g_critique_span){(char *)spans[i].text, strlen(spans[i].text), spans[i].kind};
    c.span_count = n;
    return c;
}

/* The start of the nth (0-based) occurrence of text in hay, or -1. */
static int64_t occurrence(const char *hay, const char *text, int nth) {
    const char *at = hay;
    for (;;) {
        const char *hit = strstr(at, text);
        if (!hit) return -1;
        if (nth-- == 0) return hit - hay;
        at = hit + 1;
    }
}

#define G T2G_SPAN_GOOD
#define P T2G_SPAN_POOR
#define N T2G_SPAN_NEUTRAL
#define NONE T2G_MATCH_NONE
#define EXACT T2G_MATCH_EXACT
#define NORM T2G_MATCH_NORMALIZED
#define FUZZY T2G_MATCH_FUZZY

typedef struct expect {
    t2g_match_kind match;
    const char *text; /* the response's bytes it should cover (NULL: unmatched) */
    int nth;          /* which occurrence of them */
} expect;

typedef struct align_case {
    const char *what;
    const char *response;
    double threshold;   /* 0: the default */
    span_in spans[5];
    expect want[5];
} align_case;

static const align_case CASES[] = {
    {"exact", "The quick brown fox.", 0, {{"quick brown", G}}, {{EXACT, "quick brown", 0}}},
    {"exact: the first occurrence", "a cat, a cat", 0, {{"a cat", P}}, {{EXACT, "a cat", 0}}},
    {"case", "The Quick Brown fox", 0, {{"the quick brown", G}}, {{NORM, "The Quick Brown", 0}}},
    {"punctuation", "Well, the sum is: 42!", 0, {{"the sum is 42", G}}, {{NORM, "the sum is: 42", 0}}},
    {"whitespace", "one\n\n  two\tthree", 0, {{"one two three", G}}, {{NORM, "one\n\n  two\tthree", 0}}},
    {"the span's period is kept", "He left. Then", 0, {{"he LEFT.", P}}, {{NORM, "He left.", 0}}},
    {"no period the span lacks", "He left. Then", 0, {{"HE left", P}}, {{NORM, "He left", 0}}},
    {"punctuation the response lacks", "it is good", 0, {{"it is good!", G}}, {{NORM, "it is good", 0}}},
    {"a leading quote the span has", "she said \"Hello there\" loudly", 0, {{"\"hello there", G}},
     {{NORM, "\"Hello there", 0}}},
    {"never the whitespace around", "The quick brown fox", 0, {{"  Quick  brown  ", G}}, {{NORM, "quick brown", 0}}},
    {"typo: fuzzy, tight bounds", "The answer is definately fourty two. Next.", 0, {{"definitely forty two", P}},
     {{FUZZY, "definately fourty two", 0}}},
    {"fuzzy: a dropped letter", "xx The quick brown fox jumps yy", 0, {{"quick brwn fox jumps", G}},
     {{FUZZY, "quick brown fox jumps", 0}}},
    {"fuzzy: case and typo together", "Then we ADD THE NUMBRES together.", 0, {{"add the numbers", P}},
     {{FUZZY, "ADD THE NUMBRES", 0}}},
    {"fuzzy: below the threshold", "The answer is definately fourty two.", 0.95, {{"definitely forty two", P}},
     {{NONE, NULL, 0}}},
    {"absent", "The quick brown fox.", 0, {{"purple elephant", P}}, {{NONE, NULL, 0}}},
    {"empty span", "The quick brown fox.", 0, {{"", G}}, {{NONE, NULL, 0}}},
    {"punctuation-only span", "wait... what", 0, {{"...", P}, {"!!!", P}}, {{EXACT, "...", 0}, {NONE, NULL, 0}}},
    {"repeated phrase: claimed in order, then shared", "the cat and the cat and the cat", 0,
     {{"the cat", G}, {"the cat", G}, {"the cat", G}, {"the cat", G}},
     {{EXACT, "the cat", 0}, {EXACT, "the cat", 1}, {EXACT, "the cat", 2}, {EXACT, "the cat", 0}}},
    {"repeated phrase: the same text of another kind is claimed in order", "the cat and the cat", 0,
     {{"the cat", G}, {"the cat", P}}, {{EXACT, "the cat", 0}, {EXACT, "the cat", 1}}},
    {"repeated digits quoted in reading order land on their own digits", "888", 0, {{"8", G}, {"8", P}, {"8", G}},
     {{EXACT, "8", 0}, {EXACT, "8", 1}, {EXACT, "8", 2}}},
    {"repeated phrase, normalized", "The cat. the CAT.", 0, {{"THE CAT", P}, {"THE CAT", P}},
     {{NORM, "The cat", 0}, {NORM, "the CAT", 0}}},
    {"repeated phrase: exact then normalized", "The cat saw the cat", 0, {{"the cat", G}, {"the cat", G}},
     {{EXACT, "the cat", 0}, {NORM, "The cat", 0}}},
    {"multi-byte: exact", "Un caf\xC3\xA9 cr\xC3\xA8me, s'il vous pla\xC3\xAEt.", 0, {{"cr\xC3\xA8me", G}},
     {{EXACT, "cr\xC3\xA8me", 0}}},
    {"multi-byte: normalized", "Un caf\xC3\xA9 cr\xC3\xA8me br\xC3\xBBl\xC3\xA9" "e.", 0,
     {{"CR\xC3\xA8me  Br\xC3\xBBl\xC3\xA9" "e", G}}, {{NORM, "cr\xC3\xA8me br\xC3\xBBl\xC3\xA9" "e", 0}}},
    {"multi-byte: fuzzy ends on a whole character", "Merci, s'il vous pla\xC3\xAEt.", 0, {{"s'il vous plait", G}},
     {{FUZZY, "s'il vous pla\xC3\xAEt", 0}}},
    {"no spaces (Chinese): fuzzy by character", "\xE6\x88\x91\xE4\xBB\xAC\xE5\x8E\xBB\xE5\x85\xAC\xE5\x9B\xAD"
     "\xE6\x95\xA3\xE6\xAD\xA5\xE7\x84\xB6\xE5\x90\x8E\xE5\x9B\x9E\xE5\xAE\xB6\xE3\x80\x82", 0,
     {{"\xE6\x88\x91\xE4\xBB\xAC\xE5\x8E\xBB\xE5\x85\xAC\xE5\x9C\x86\xE6\x95\xA3\xE6\xAD\xA5", G}},
     {{FUZZY, "\xE6\x88\x91\xE4\xBB\xAC\xE5\x8E\xBB\xE5\x85\xAC\xE5\x9B\xAD\xE6\x95\xA3\xE6\xAD\xA5", 0}}},
    {"multi-byte: half a character is never matched", "caf\xC3\xA9", 0, {{"\xA9", P}}, {{NONE, NULL, 0}}},
    {"invalid UTF-8 in the response", "ab\xC3 cd\xA9" "ef", 0, {{"cd", G}, {"\xA9" "ef", P}},
     {{EXACT, "cd", 0}, {EXACT, "\xA9" "ef", 0}}},
    {"curly quotes and dashes are punctuation", "He said \xE2\x80\x9Cstop\xE2\x80\x9D \xE2\x80\x94 twice", 0,
     {{"said stop twice", P}}, {{NORM, "said \xE2\x80\x9Cstop\xE2\x80\x9D \xE2\x80\x94 twice", 0}}},
};

T2G_HOST_CHECK(align_cases) {
    check_case_begin(ctx);
    for (size_t k = 0; k < sizeof CASES / sizeof CASES[0]; k++) {
        const align_case *a = &CASES[k];
        uint32_t n = 0;
        while (n < 5 && a->spans[n].text) n++;
        t2g_critique c = make_critique(ctx, a->spans, n);
        t2g_span_scores scores = t2g_span_scores_default();
        if (a->threshold > 0) scores.fuzzy_threshold = a->threshold;
        t2g_aligned_span out[5];
        check_status(ctx, t2g_align_spans(a->response, strlen(a->response), &c, &scores, out, &ctx->err), "aligning");
        bool ok = true;
        for (uint32_t i = 0; i < n; i++) {
            const expect *w = &a->want[i];
            int64_t start = w->text ? occurrence(a->response, w->text, w->nth) : -1;
            int64_t end = w->text ? start + (int64_t)strlen(w->text) : -1;
            bool same = out[i].match == w->match && out[i].start == start && out[i].end == end;
            if (same && (w->match == EXACT || w->match == NORM)) same = out[i].similarity == 1.0;
            if (same && w->match == FUZZY)
                same = out[i].similarity >= (a->threshold > 0 ? a->threshold : 0.7) && out[i].similarity < 1.0;
            if (!same)
                check_fail(ctx, "%s: span %u '%s': %s [%lld, %lld) similarity %.3f, expected %s [%lld, %lld)", a->what, i,
                           a->spans[i].text, t2g_match_kind_name(out[i].match), (long long)out[i].start,
                           (long long)out[i].end, out[i].similarity, t2g_match_kind_name(w->match), (long long)start,
                           (long long)end);
            else if (w->match == FUZZY)
                check_log(ctx, "    %s: similarity %.3f", a->what, out[i].similarity);
            ok = ok && same;
        }
        check_true(ctx, ok, "%s", a->what);
    }
    /* no critique: an argument error; no spans: nothing written */
    t2g_error err = {0};
    check_true(ctx, t2g_align_spans("x", 1, NULL, NULL, NULL, &err) == T2G_ERR_ARGUMENT, "no critique: %s", err.message);
    t2g_critique empty = {0};
    t2g_aligned_span untouched = {T2G_MATCH_FUZZY, 5, 6, 0.5};
    check_status(ctx, t2g_align_spans("x", 1, &empty, NULL, &untouched, &ctx->err), "no spans");
    check_true(ctx, untouched.match == T2G_MATCH_FUZZY && untouched.start == 5, "a critique without spans writes nothing");
    span_in one = {"x", G};
    t2g_critique c = make_critique(ctx, &one, 1);
    check_status(ctx, t2g_align_spans("", 0, &c, NULL, &untouched, &ctx->err), "aligning");
    check_true(ctx, untouched.match == NONE && untouched.start == -1 && untouched.end == -1, "an empty response: unmatched");
    return ctx->failures;
}

/* ---- random multi-byte texts: offsets on boundaries, matches that hold ---- */

static const char *const PIECES[] = {"a", "b", "c", "ab", " ", "  ", ",", ".", "\n", "\xC3\xA9", "\xC3\x89", "\xE2\x80\x94",
                                     "\xF0\x9F\x98\x80", "\xE2\x82\xAC", "\xFF", "\xA9", "A", "Z", "x1"};

static size_t random_text(check_ctx *ctx, char *out, size_t pieces) {
    size_t n = 0;
    for (size_t i = 0; i < pieces; i++) {
        const char *p = PIECES[check_random_below(ctx, sizeof PIECES / sizeof PIECES[0])];
        size_t k = strlen(p);
        memcpy(out + n, p, k);
        n += k;
    }
    out[n] = 0;
    return n;
}

/* The best fuzzy stretch by brute force (a dynamic programme per stretch): from a word's start to
 * a word's end, or between any characters when no such stretch has a fitting length; the
 * highest 2 LCS / (m + n), then the earliest start, then the shortest. Returns its similarity
 * and original byte range, or -1 when there is no candidate. */
static double brute_fuzzy(const char *response, size_t len, const char *span, size_t m, int64_t *start, int64_t *end) {
    fb_normalized nr, ns;
    bool *b = malloc(len + 1);
    if (!b || !fb_normalize((const unsigned char *)response, len, false, true, &nr)) return free(b), -2;
    if (!fb_normalize((const unsigned char *)span, m, true, false, &ns)) return fb_normalized_free(&nr), free(b), -2;
    fb_boundaries((const unsigned char *)response, len, b);
    size_t pm = ns.len, nn = nr.len, lo = (pm + 1) / 2, hi = pm + pm / 2;
    double best = -1;
    bool any = false;
    size_t *row = malloc((pm + 1) * sizeof *row), *prev = malloc((pm + 1) * sizeof *prev);
    for (int words = 1; words >= 0 && !any && pm > 0 && row && prev; words--)
        for (size_t s = 0; s < nn; s++) {
            if (nr.bytes[s] == ' ' || !b[nr.from[s]] || (words && s > 0 && nr.bytes[s - 1] != ' ')) continue;
            for (size_t i = 0; i <= pm; i++) prev[i] = 0;
            for (size_t e = s + 1; e <= nn && e - s <= hi; e++) {
                row[0] = 0;
                for (size_t i = 1; i <= pm; i++)
                    row[i] = ns.bytes[i - 1] == nr.bytes[e - 1] ? prev[i - 1] + 1 : (prev[i] > row[i - 1] ? prev[i] : row[i - 1]);
                memcpy(prev, row, (pm + 1) * sizeof *row);
                if (e - s < lo || nr.bytes[e - 1] == ' ' || !b[nr.to[e - 1]]) continue;
                if (words && e < nn && nr.bytes[e] != ' ') continue;
                any = true;
                double sim = fb_similarity(prev[pm], pm, e - s);
                if (prev[pm] > 0 && sim > best + 1e-12) {
                    best = sim;
                    *start = nr.from[s];
                    *end = nr.to[e - 1];
                }
            }
        }
    free(row);
    free(prev);
    free(b);
    fb_normalized_free(&nr);
    fb_normalized_free(&ns);
    return best;
}

static bool is_space_byte(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

T2G_HOST_CHECK(align_utf8_random) {
    check_case_begin(ctx);
    int rounds = ctx->quick ? 100 : 2000, bad = 0, matched[4] = {0}, fuzzy_checked = 0;
    char *response = check_host(ctx, 400), *span_text = check_host(ctx, 400);
    bool *boundary = check_host(ctx, 401);
    for (int round = 0; round < rounds; round++) {
        size_t len = random_text(ctx, response, 1 + check_random_below(ctx, 60));
        /* a span: a random byte range of the response (often cutting a character), maybe mutated,
         * or random text */
        size_t m;
        if (check_random_below(ctx, 4) == 0)
            m = random_text(ctx, span_text, 1 + check_random_below(ctx, 8));
        else {
            size_t a = check_random_below(ctx, (uint32_t)len), b = a + 1 + check_random_below(ctx, (uint32_t)(len - a));
            m = b - a;
            memcpy(span_text, response + a, m);
            if (check_random_below(ctx, 2)) span_text[check_random_below(ctx, (uint32_t)m)] ^= 0x20;
            span_text[m] = 0;
        }
        span_in in = {span_text, (t2g_span_kind)check_random_below(ctx, 3)};
        t2g_critique c = make_critique(ctx, &in, 1);
        c.spans[0].len = m; /* the text may hold no NUL, but say the length anyway */
        t2g_aligned_span out;
        check_status(ctx, t2g_align_spans(response, len, &c, NULL, &out, &ctx->err), "aligning");
        matched[out.match]++;
        fb_boundaries((const unsigned char *)response, len, boundary);
        bool ok;
        if (out.match == NONE)
            ok = out.start == -1 && out.end == -1;
        else
            ok = out.start >= 0 && out.start < out.end && out.end <= (int64_t)len && boundary[out.start] &&
                 boundary[out.end];
        if (ok && out.match == EXACT)
            ok = (size_t)(out.end - out.start) == m && memcmp(response + out.start, span_text, m) == 0;
        if (ok && out.match == NORM) {
            fb_normalized x, y;
            ok = fb_normalize((const unsigned char *)span_text, m, true, false, &x) &&
                 fb_normalize((const unsigned char *)response + out.start, (size_t)(out.end - out.start), true, false, &y) &&
                 x.len == y.len && memcmp(x.bytes, y.bytes, x.len) == 0;
            fb_normalized_free(&x);
            fb_normalized_free(&y);
        }
        if (ok && out.match == FUZZY) {
            /* the best stretch: brute force agrees (the ends may then grow over punctuation) */
            int64_t bs = -1, be = -1;
            double best = brute_fuzzy(response, len, span_text, m, &bs, &be);
            ok = fabs(best - out.similarity) < 1e-12 && out.start <= bs && out.end >= be;
            fuzzy_checked++;
        }
        if (ok && out.match == NONE) {
            int64_t bs, be;
            ok = brute_fuzzy(response, len, span_text, m, &bs, &be) < 0.7;
        }
        if (ok && out.match != NONE && out.match != EXACT)
            ok = !is_space_byte((unsigned char)response[out.start]) && !is_space_byte((unsigned char)response[out.end - 1]);
        if (!ok && bad++ < 5) {
            char *r = t2g_utf8_escape(response, len), *s = t2g_utf8_escape(span_text, m);
            int64_t bs = -1, be = -1;
            double best = brute_fuzzy(response, len, span_text, m, &bs, &be);
            for (char *q = r; *q; q++) if (*q == '\n') *q = '~';
            for (char *q = s; *q; q++) if (*q == '\n') *q = '~';
            check_fail(ctx, "response '%s', span '%s': %s [%lld, %lld) %.4f; brute force fuzzy %.4f [%lld, %lld)", r, s,
                       t2g_match_kind_name(out.match), (long long)out.start, (long long)out.end, out.similarity, best,
                       (long long)bs, (long long)be);
            free(r);
            free(s);
        }
    }
    check_log(ctx, "    none %d, exact %d, normalized %d, fuzzy %d", matched[0], matched[1], matched[2], matched[3]);
    check_true(ctx, bad == 0, "%d random multi-byte and invalid UTF-8 texts: offsets on character boundaries, exact "
               "matches equal, normalized matches equal when normalized, no whitespace at the ends; %d fuzzy matches "
               "the best stretch by brute force, unmatched spans below the threshold", rounds, fuzzy_checked);
    check_true(ctx, matched[0] && matched[1] && matched[2] && matched[3], "every kind of match occurs");
    return ctx->failures;
}

/* ---- token scores ---- */

static bool scores_are(check_ctx *ctx, const char *what, const float *got, const float *want, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (got[i] != want[i]) {
            check_fail(ctx, "%s: token %zu scores %g, expected %g", what, i, got[i], want[i]);
            return check_true(ctx, false, "%s", what);
        }
    return check_true(ctx, true, "%s", what);
}

T2G_HOST_CHECK(align_token_scores) {
    check_case_begin(ctx);
    /*                  0         1         2         3
     *                  0123456789012345678901234567890123 */
    const char *r = "Good job, but 2 + 2 = 5 is wrong.";
    size_t len = strlen(r);
    span_in in[] = {{"Good job", G}, {"2 + 2 = 5", P}, {"2 + 2", G}, {"wrong", N}, {"absent", G}};
    t2g_critique c = make_critique(ctx, in, 5);
    t2g_aligned_span aligned[5];
    t2g_span_scores s = t2g_span_scores_default();
    check_status(ctx, t2g_align_spans(r, len, &c, &s, aligned, &ctx->err), "aligning");
    uint32_t *ids = check_host(ctx, len * sizeof *ids);
    t2g_token_span *tokens = check_host(ctx, len * sizeof *tokens);
    float *got = check_host(ctx, len * sizeof *got), *want = check_host(ctx, len * sizeof *want);
    t2g_tokenize(r, len, ids, tokens);

    /* default: good 1, poor -1, neutral 0, unannotated 0, punctuation 0 */
    check_status(ctx, t2g_token_scores(&c, aligned, r, len, tokens, len, &s, got, &ctx->err), "token scores");
    const char *def = "++++0+++000000-000-000-0000000000";
    /* '+' 1, '-' -1, '0' 0; "2 + 2" is good and poor: poor wins */
    for (size_t i = 0; i < len; i++) want[i] = def[i] == '+' ? 1.0f : def[i] == '-' ? -1.0f : 0.0f;
    scores_are(ctx, "defaults: spans' scores, the lower on overlap, punctuation and space 0", got, want, len);

    s.zero_punctuation = false;
    check_status(ctx, t2g_token_scores(&c, aligned, r, len, tokens, len, &s, got, &ctx->err), "token scores");
    const char *keep = "++++++++000000---------0000000000";
    for (size_t i = 0; i < len; i++) want[i] = keep[i] == '+' ? 1.0f : keep[i] == '-' ? -1.0f : 0.0f;
    scores_are(ctx, "--keep-punctuation: spaces and punctuation inside spans keep the span's score", got, want, len);

    s.zero_punctuation = true;
    s.unannotated = 1.0;
    s.good = 0.5;
    s.poor = -2.0;
    s.neutral = 0.25;
    check_status(ctx, t2g_token_scores(&c, aligned, r, len, tokens, len, &s, got, &ctx->err), "token scores");
    const char *un = "hhhh0hhh00uuu0-000-000-0uu0nnnnn0";
    for (size_t i = 0; i < len; i++)
        want[i] = un[i] == 'h' ? 0.5f : un[i] == '-' ? -2.0f : un[i] == 'u' ? 1.0f : un[i] == 'n' ? 0.25f : 0.0f;
    scores_are(ctx, "unannotated 1 and custom span scores (good 0.5, poor -2, neutral 0.25)", got, want, len);

    /* multi-byte characters: byte tokens of letters and of an em dash are not punctuation; a
     * token covering a whole em dash is; an empty (special) token and one past the end are
     * unannotated */
    const char *u = "tr\xC3\xA8s \xE2\x80\x94 bien";
    size_t ulen = strlen(u);
    span_in uin[] = {{"tr\xC3\xA8s \xE2\x80\x94 bien", G}};
    t2g_critique uc = make_critique(ctx, uin, 1);
    t2g_aligned_span ua;
    s = t2g_span_scores_default();
    check_status(ctx, t2g_align_spans(u, ulen, &uc, &s, &ua, &ctx->err), "aligning");
    t2g_token_span *ut = check_host(ctx, (ulen + 8) * sizeof *ut);
    uint32_t *uid = check_host(ctx, (ulen + 8) * sizeof *uid);
    t2g_tokenize(u, ulen, uid, ut);
    check_status(ctx, t2g_token_scores(&uc, &ua, u, ulen, ut, ulen, &s, got, &ctx->err), "token scores");
    const char *bytes = "+++++0+++0++++";
    for (size_t i = 0; i < ulen; i++) want[i] = bytes[i] == '+' ? 1.0f : 0.0f;
    scores_are(ctx, "byte tokens: the bytes of \xC3\xA8 and of an em dash take the span's score", got, want, ulen);
    t2g_token_span wide[] = {{0, 5}, {5, 6}, {6, 9}, {9, 9}, {100, 101}, {2, 3}};
    check_status(ctx, t2g_token_scores(&uc, &ua, u, ulen, wide, 6, &s, got, &ctx->err), "token scores");
    float wide_want[] = {1, 0, 0, 0, 0, 1};
    scores_are(ctx, "wider tokens: a whole em dash is punctuation; empty and out-of-range tokens unannotated", got,
               wide_want, 6);
    s.unannotated = 1;
    check_status(ctx, t2g_token_scores(NULL, NULL, u, ulen, wide, 6, &s, got, &ctx->err), "token scores");
    float none_want[] = {1, 0, 0, 1, 1, 1};
    scores_are(ctx, "no critique: unannotated everywhere, punctuation 0", got, none_want, 6);
    return ctx->failures;
}

T2G_HOST_CHECK(align_runs_stats) {
    check_case_begin(ctx);
    float s[] = {0, 1, 1, 0, -1, -1, 1, 0, 0};
    t2g_score_run runs[9];
    size_t n = t2g_score_runs(s, 9, 0.0, runs);
    check_true(ctx, n == 3 && runs[0].first == 1 && runs[0].last == 2 && runs[0].score == 1 && runs[1].first == 4 &&
                        runs[1].last == 5 && runs[1].score == -1 && runs[2].first == 6 && runs[2].last == 6 &&
                        runs[2].score == 1,
               "runs over unannotated 0: [1,2] +1, [4,5] -1, [6,6] +1");
    n = t2g_score_runs(s, 9, 1.0, runs);
    check_true(ctx, n == 4 && runs[0].first == 0 && runs[0].last == 0 && runs[0].score == 0 && runs[1].first == 3 &&
                        runs[1].last == 3 && runs[2].first == 4 && runs[2].last == 5 && runs[2].score == -1 &&
                        runs[3].first == 7 && runs[3].last == 8 && runs[3].score == 0,
               "runs over unannotated 1: [0,0] 0, [3,3] 0, [4,5] -1, [7,8] 0");
    check_true(ctx, t2g_score_runs(s, 0, 0.0, runs) == 0, "no tokens, no runs");
    float same[] = {-1, -1, -1};
    n = t2g_score_runs(same, 3, 0.0, runs);
    check_true(ctx, n == 1 && runs[0].first == 0 && runs[0].last == 2, "all annotated alike: one run");

    span_in in[] = {{"a", G}, {"b", G}, {"c", P}, {"d", N}, {"e", P}};
    t2g_critique c = make_critique(ctx, in, 5);
    t2g_aligned_span aligned[5] = {{EXACT, 0, 1, 1}, {NONE, -1, -1, 0}, {FUZZY, 2, 3, 0.8}, {NORM, 3, 4, 1},
                                   {EXACT, 4, 5, 1}};
    t2g_span_stats st = {0};
    t2g_span_stats_add(&st, &c, aligned);
    t2g_span_stats_add(&st, &c, aligned);
    t2g_span_stats_add(&st, NULL, NULL);
    check_true(ctx, st.critiques == 3 && st.unparsed == 1, "stats: 3 critiques, 1 unparsed (NULL)");
    check_true(ctx, st.spans[G] == 4 && st.spans[P] == 4 && st.spans[N] == 2, "stats: spans per kind");
    check_true(ctx, st.matched[G][EXACT] == 2 && st.matched[G][NONE] == 2 && st.matched[P][FUZZY] == 2 &&
                        st.matched[P][EXACT] == 2 && st.matched[N][NORM] == 2 && st.matched[P][NONE] == 0,
               "stats: matched per kind and match kind, unmatched under none");
    check_true(ctx, strcmp(t2g_span_kind_name(G), "good") == 0 && strcmp(t2g_span_kind_name(P), "poor") == 0 &&
                        strcmp(t2g_span_kind_name(N), "neutral") == 0,
               "kind names");
    check_true(ctx, strcmp(t2g_match_kind_name(NONE), "none") == 0 && strcmp(t2g_match_kind_name(EXACT), "exact") == 0 &&
                        strcmp(t2g_match_kind_name(NORM), "normalized") == 0 &&
                        strcmp(t2g_match_kind_name(FUZZY), "fuzzy") == 0,
               "match names");
    t2g_span_scores d = t2g_span_scores_default();
    check_true(ctx, d.good == 1 && d.poor == -1 && d.neutral == 0 && d.unannotated == 0 && d.zero_punctuation &&
                        d.fuzzy_threshold == 0.7,
               "defaults: +1, -1, 0, 0, punctuation 0, threshold 0.7");
    return ctx->failures;
}

/* ---- the pieces: normalization map, LCS ---- */

T2G_HOST_CHECK(align_normalize_lcs) {
    check_case_begin(ctx);
    const char *t = "  Hello,  W\xC3\xB6rld! ";
    fb_normalized n;
    check_true(ctx, fb_normalize((const unsigned char *)t, strlen(t), false, true, &n), "normalize");
    check_true(ctx, n.len == 14 && memcmp(n.bytes, " hello w\xC3\xB6rld ", 14) == 0,
               "folded: ' hello w\xC3\xB6rld ' (runs of space and punctuation one separator)");
    check_true(ctx, n.from[0] == 0 && n.to[0] == 2 && n.from[1] == 2 && n.to[1] == 3 && n.from[6] == 7 && n.to[6] == 10 &&
                        n.from[8] == 11 && n.from[13] == 16 && n.to[13] == 18,
               "the map: each unit's bytes of the original");
    fb_normalized_free(&n);
    check_true(ctx, fb_normalize((const unsigned char *)t, strlen(t), true, false, &n) && n.len == 12 &&
                        memcmp(n.bytes, "hello w\xC3\xB6rld", 12) == 0 && !n.from,
               "trimmed: no separator at either end");
    fb_normalized_free(&n);
    check_true(ctx, fb_only_separators((const unsigned char *)" ,\xE2\x80\x94\xC2\xA0", 7) &&
                        !fb_only_separators((const unsigned char *)"\xE2\x80", 2) &&
                        !fb_only_separators((const unsigned char *)"\xC3", 1) && !fb_only_separators(NULL, 0),
               "separators: space, comma, em dash, no-break space; not a cut character, not nothing");

    /* the bit-parallel LCS against the dynamic programme, for every prefix of the text */
    int bad = 0;
    unsigned char a[300], b[300];
    size_t *row = check_host(ctx, 301 * sizeof *row), *prev = check_host(ctx, 301 * sizeof *prev);
    for (int round = 0; round < (ctx->quick ? 20 : 300); round++) {
        size_t m = check_random_below(ctx, 200), tn = check_random_below(ctx, 250);
        uint32_t alphabet = 2 + check_random_below(ctx, 6);
        if (round < 4) m = 64 * (size_t)(round + 1) - (round & 1);
        for (size_t i = 0; i < m; i++) a[i] = (unsigned char)('a' + check_random_below(ctx, alphabet));
        for (size_t i = 0; i < tn; i++) b[i] = (unsigned char)('a' + check_random_below(ctx, alphabet));
        fb_lcs l;
        if (!fb_lcs_init(&l, a, m)) return check_fail(ctx, "out of memory"), 1;
        for (size_t i = 0; i <= m; i++) prev[i] = 0;
        for (size_t j = 1; j <= tn; j++) {
            row[0] = 0;
            for (size_t i = 1; i <= m; i++)
                row[i] = a[i - 1] == b[j - 1] ? prev[i - 1] + 1 : (prev[i] > row[i - 1] ? prev[i] : row[i - 1]);
            memcpy(prev, row, (m + 1) * sizeof *row);
            fb_lcs_step(&l, b[j - 1]);
            if (fb_lcs_length(&l) != prev[m] && bad++ < 3)
                check_fail(ctx, "LCS of %zu and %zu bytes (prefix %zu): %zu, expected %zu", m, tn, j, fb_lcs_length(&l),
                           prev[m]);
        }
        fb_lcs_free(&l);
    }
    check_true(ctx, bad == 0, "bit-parallel LCS equals the dynamic programme on every prefix (patterns up to 256 bytes)");
    check_true(ctx, fb_similarity(3, 4, 2) == 1.0 && fb_similarity(0, 0, 0) == 1.0 && fb_similarity(1, 3, 1) == 0.5,
               "similarity 2 l / (m + n)");
    return ctx->failures;
}

/* ---- time ---- */

/* The work (fb_work: comparisons and 64-bit word operations) of one alignment. */
static uint64_t align_work(check_ctx *ctx, const char *r, size_t len, const t2g_critique *c, t2g_aligned_span *out) {
    uint64_t before = fb_work();
    check_status(ctx, t2g_align_spans(r, len, c, NULL, out, &ctx->err), "aligning");
    return fb_work() - before;
}

/* The fuzzy search's cost is bounded by work counted, not by a clock (a loaded machine would
 * fail a clock): each 500-byte span against a 10 KB response does at most the fuzzy budget
 * plus one scan's words, and a linear number of comparisons besides. Speed: t2g bench align. */
T2G_HOST_CHECK(align_speed) {
    check_case_begin(ctx);
    static const char *const words[] = {"the", "model", "adds", "two", "numbers", "and", "carries", "a", "digit", "then",
                                        "writes", "its", "answer", "sum", "of", "is"};
    size_t cap = 10240;
    char *r = check_host(ctx, cap + 64);
    size_t len = 0;
    while (len < cap - 16) {
        const char *w = words[check_random_below(ctx, 16)];
        len += (size_t)sprintf(r + len, "%s%s", w, check_random_below(ctx, 9) == 0 ? ". " : " ");
    }
    /* spans of about 500 bytes cut from it, with typos; and absent ones of the same length */
    enum { SPANS = 12 };
    span_in in[SPANS];
    char *texts = check_host(ctx, SPANS * 600);
    size_t starts[SPANS];
    for (int i = 0; i < SPANS; i++) {
        char *t = texts + i * 600;
        size_t at = check_random_below(ctx, (uint32_t)(len - 520));
        while (at > 0 && r[at - 1] != ' ') at--;
        starts[i] = at;
        memcpy(t, r + at, 500);
        t[500] = 0;
        if (i % 3 == 2)
            for (int k = 0; k < 500; k++) t[k] = (char)('A' + (k * 7 + i) % 26); /* nothing like the response */
        else
            for (int k = 0; k < 12; k++) t[50 + k * 37] = 'x'; /* a typo every 37 bytes */
        in[i] = (span_in){t, (t2g_span_kind)(i % 2)};
    }
    t2g_critique c = make_critique(ctx, in, SPANS);
    t2g_aligned_span out[SPANS];
    /* one scan: 750 columns (1.5 x 500) of 8 words; comparisons: a few per response byte */
    const uint64_t bound = FB_FUZZY_BUDGET + 750 * 8 + 64 * (uint64_t)len;
    uint64_t worst = 0, total = 0;
    int found = 0;
    for (int i = 0; i < SPANS; i++) {
        t2g_critique one = c;
        one.spans = &c.spans[i];
        one.span_count = 1;
        uint64_t work = align_work(ctx, r, len, &one, &out[i]);
        total += work;
        if (work > worst) worst = work;
        if (i % 3 != 2) found += out[i].match == FUZZY && out[i].start == (int64_t)starts[i] &&
                                 out[i].end >= (int64_t)starts[i] + 495 && out[i].end <= (int64_t)starts[i] + 505;
        else
            found += out[i].match == NONE;
    }
    check_log(ctx, "    %zu-byte response, 500-byte spans: %.2fM word operations a span on average, %.2fM at worst",
              len, total / (SPANS * 1e6), worst / 1e6);
    check_true(ctx, found == SPANS, "typo'd 500-byte spans found fuzzily where they were cut (%d of %d right)", found, SPANS);
    check_true(ctx, worst <= bound, "each span within the fuzzy budget: %llu <= %llu", (unsigned long long)worst,
               (unsigned long long)bound);

    /* the worst case for word starts: one-letter words */
    for (size_t i = 0; i < len; i++) r[i] = i % 2 ? ' ' : (char)('a' + check_random_below(ctx, 26));
    uint64_t work = align_work(ctx, r, len, &c, out);
    check_log(ctx, "    one-letter words: %.2fM word operations a span", work / (SPANS * 1e6));
    check_true(ctx, work <= SPANS * bound, "one-letter words: within the budget (%llu <= %llu)", (unsigned long long)work,
               (unsigned long long)(SPANS * bound));
    return ctx->failures;
}

/* n copies of one span: identical spans are searched as one group, so the work grows about
 * linearly with n (it grew with n squared: 100k spans took 68 s). */
static uint64_t identical_work(check_ctx *ctx, const char *r, const char *text, uint32_t n, t2g_aligned_span **out) {
    span_in one = {text, P};
    t2g_critique c = {0};
    c.feedback = (char *)"";
    c.spans = check_host(ctx, n * sizeof *c.spans);
    for (uint32_t i = 0; i < n; i++) c.spans[i] = (t2g_critique_span){(char *)one.text, strlen(one.text), one.kind};
    c.span_count = n;
    *out = check_host(ctx, n * sizeof **out);
    return align_work(ctx, r, strlen(r), &c, *out);
}

T2G_HOST_CHECK(align_identical_spans) {
    check_case_begin(ctx);
    /* 300 occurrences of "cat", and a span that matches none */
    size_t cap = 300 * 8 + 1;
    char *r = check_host(ctx, cap);
    r[0] = 0;
    for (int i = 0; i < 300; i++) strcat(r, "cat sat ");
    const char *texts[3] = {"cat", "cat sat cat", "dog"};
    for (int k = 0; k < 3; k++) {
        t2g_aligned_span *small, *large;
        uint64_t w1 = identical_work(ctx, r, texts[k], 10000, &small);
        uint64_t w2 = identical_work(ctx, r, texts[k], 100000, &large);
        check_log(ctx, "    \"%s\" x 10k: %llu, x 100k: %llu (%.1fx)", texts[k], (unsigned long long)w1,
                  (unsigned long long)w2, (double)w2 / (double)w1);
        check_true(ctx, w2 < 20 * w1, "\"%s\": 10x the identical spans, less than 20x the work (%.1fx)", texts[k],
                   (double)w2 / (double)w1);
        /* the rule holds: each takes the next free occurrence, then all share the first's */
        size_t m = strlen(texts[k]), free_occurrences = k == 0 ? 300 : k == 1 ? 150 : 0;
        bool ok = true;
        for (uint32_t i = 0; i < 100000 && ok; i++) {
            int64_t want = i < free_occurrences ? (int64_t)(i * (k == 0 ? 8 : 16)) : k == 2 ? -1 : 0;
            ok = large[i].start == want && (want < 0 || large[i].end == want + (int64_t)m);
            if (!ok)
                check_fail(ctx, "\"%s\" span %u at [%lld, %lld), expected %lld", texts[k], i, (long long)large[i].start,
                           (long long)large[i].end, (long long)want);
        }
        check_true(ctx, ok, "\"%s\": spans on their own occurrences in order, then sharing the first", texts[k]);
    }
    return ctx->failures;
}

/* Every allocation of the alignment and the scoring, made to fail in turn: each failure is an
 * error (T2G_ERR_MEMORY), never "no span matched" and never scores. */
T2G_HOST_CHECK(align_memory_failures) {
    check_case_begin(ctx);
    const char *r = "The cat sat on the mat, (the cat) ran; un caf\xC3\xA9 cr\xC3\xA8me.";
    size_t len = strlen(r);
    span_in in[] = {{"cat", G}, {"cat", P}, {"(THE  CAT)", N}, {"the mta", P}, {"cafe creme", G}, {"absent", G}};
    t2g_critique c = make_critique(ctx, in, 6);
    t2g_aligned_span aligned[6];
    t2g_token_span *tokens = check_host(ctx, len * sizeof *tokens);
    uint32_t *ids = check_host(ctx, len * sizeof *ids);
    float *scores = check_host(ctx, len * sizeof *scores);
    t2g_tokenize(r, len, ids, tokens);
    t2g_alloc_fail_at(UINT64_MAX); /* counts only */
    bool ok = check_status(ctx, t2g_align_spans(r, len, &c, NULL, aligned, &ctx->err), "aligning") &&
              check_status(ctx, t2g_token_scores(&c, aligned, r, len, tokens, len, NULL, scores, &ctx->err), "scores");
    uint64_t calls = t2g_alloc_calls();
    check_true(ctx, ok && calls >= 8 && aligned[2].match == NORM && aligned[3].match == FUZZY,
               "a clean run: %llu allocations, normalized and fuzzy matches", (unsigned long long)calls);
    uint64_t errors = 0;
    for (uint64_t n = 1; n <= calls; n++) {
        t2g_error err = {0};
        t2g_alloc_fail_at(n);
        t2g_status status = t2g_align_spans(r, len, &c, NULL, aligned, &err);
        bool none = true; /* a failed alignment leaves no match to be read */
        for (int i = 0; i < 6 && status; i++) none = none && aligned[i].match == NONE;
        if (!status) status = t2g_token_scores(&c, aligned, r, len, tokens, len, NULL, scores, &err);
        bool right = status == T2G_ERR_MEMORY && strstr(err.message, "out of memory") && none;
        errors += right;
        if (!right) check_fail(ctx, "allocation %llu failing: status %d (%s)", (unsigned long long)n, status, err.message);
    }
    t2g_alloc_fail_at(0);
    check_true(ctx, errors == calls, "each of the %llu allocations failing is an out-of-memory error, every span unmatched",
               (unsigned long long)calls);

    /* reading a critique: the same */
    const char *text = "Sure: ```json\n{\"textual_feedback\": \"ok\", \"good_spans\": [\"cat\", \"mat\"], "
                       "\"poor_spans\": [\"ran\"]}\n```";
    t2g_critique parsed;
    t2g_alloc_fail_at(UINT64_MAX);
    ok = check_status(ctx, t2g_critique_parse(text, strlen(text), &parsed, &ctx->err), "parsing");
    calls = t2g_alloc_calls();
    if (ok) t2g_critique_free(&parsed);
    errors = 0;
    for (uint64_t n = 1; n <= calls; n++) {
        t2g_error err = {0};
        t2g_alloc_fail_at(n);
        t2g_status status = t2g_critique_parse(text, strlen(text), &parsed, &err);
        errors += status == T2G_ERR_MEMORY;
        if (status == T2G_OK) t2g_critique_free(&parsed);
        if (status != T2G_ERR_MEMORY) check_fail(ctx, "parse, allocation %llu failing: status %d", (unsigned long long)n, status);
    }
    t2g_alloc_fail_at(0);
    check_true(ctx, calls >= 4 && errors == calls, "parsing: each of %llu allocations failing is an out-of-memory error",
               (unsigned long long)calls);
    return ctx->failures;
}
