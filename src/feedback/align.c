/* Finding a critique's quoted spans in the response (include/t2g/feedback.h).
 *
 * Three searches, in order, each taking the first occurrence that starts and ends on character
 * boundaries and overlaps no range claimed by an identical span (the same quoted text, whatever
 * its kind: a critique that quotes the digits of "888" left to right as good, poor, good puts
 * each on its own digit) listed earlier:
 *   exact       the span's bytes;
 *   normalized  the span and the response folded by fb_normalize (ASCII case, every run of
 *               whitespace and punctuation one separator, the span's own leading and trailing
 *               separators dropped); the match maps back to the original bytes from its first
 *               to its last matched character, then grows over separator characters next to it
 *               only where the span had the same punctuation, never over whitespace ("cat."
 *               finds "Cat." whole, "cat" finds "Cat" without the period);
 *   fuzzy       the stretch of the normalized response, between 0.5x and 1.5x the normalized
 *               span's length, with the highest similarity 2 LCS / (m + n) on normalized bytes
 *               (difflib's ratio with the LCS as the matching characters), accepted at
 *               >= fuzzy_threshold. Stretches run from a word's start to a word's end, so the
 *               bounds are tight to whole words (a typo at a word's end keeps its word, where a
 *               byte-tight optimum would cut "pla\xC3\xAEt" to "pla"); a text with no stretch
 *               of whole words of a fitting length (Chinese, without spaces) is searched
 *               character by character. Ties: the earlier start, then the shorter stretch.
 * A span found by none of them, whose identical predecessor was found, shares that match (a
 * critique that lists a phrase twice). Work caps (feedback_internal.h): spans over
 * FB_FUZZY_MAX_SPAN (1024) normalized bytes get no fuzzy search; a fuzzy search does at most
 * about FB_FUZZY_BUDGET (16M) 64-bit word operations, which a whole 10 KB response against a
 * 500-byte span fits, its starts taken in decreasing order of an upper bound on their similarity
 * and none tried that cannot beat the best so far or reach the threshold (scan_starts). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/grow.h"
#include "core/hash.h"
#include "feedback/feedback_internal.h"
#include "t2g/feedback.h"

t2g_span_scores t2g_span_scores_default(void) {
    return (t2g_span_scores){
        .good = 1.0, .poor = -1.0, .neutral = 0.0, .unannotated = 0.0, .zero_punctuation = true, .fuzzy_threshold = 0.7};
}

typedef struct range {
    int64_t start, end;
} range;

/* Spans with the same quoted text (whatever their kind), in the critique's order, share what
 * their searches found: the ranges their matches claim (sorted, disjoint: overlapping or
 * touching ones merged, which answers "does this overlap a claimed range" the same), and how
 * far each search has got. Claims only grow, so an occurrence once refused (claimed, or off a
 * character boundary) stays refused: the next identical span resumes where the last search
 * stopped, and once a span finds nothing every later identical span finds nothing too and
 * shares the group's first match. Every span is then searched at most once per occurrence it
 * could take, and the whole alignment is near-linear in the span count. */
typedef struct group {
    range *claimed;
    size_t claimed_count, claimed_capacity;
    size_t exact_from;           /* response bytes before it hold no acceptable exact match */
    size_t normalized_from;      /* nor normalized positions before it a normalized one */
    fb_normalized span;          /* the span normalized (trimmed), once needed */
    bool normalized;
    bool exhausted;              /* a span of the group found nothing */
    bool has_first;
    t2g_aligned_span first;      /* the group's first match */
} group;

typedef struct aligner {
    const unsigned char *r; /* the response, n bytes */
    size_t n;
    bool *boundary;         /* n + 1 */
    fb_normalized norm;     /* the response, normalized with its map */
    uint32_t *word_starts;  /* normalized positions where a word starts */
    uint32_t *word_ends;    /* and where one ends (one past its last byte), as many, ascending */
    size_t word_count;
    double threshold;
    const group *g;         /* the group of the span being searched */
    uint64_t work;          /* comparisons and 64-bit word operations done (fb_work) */
} aligner;

static _Atomic uint64_t total_work;

uint64_t fb_work(void) { return atomic_load_explicit(&total_work, memory_order_relaxed); }

void fb_work_add(uint64_t work) { atomic_fetch_add_explicit(&total_work, work, memory_order_relaxed); }

/* The first occurrence of needle (m > 0 bytes) in hay[from..n), or -1. */
static int64_t find_bytes(const unsigned char *hay, size_t n, size_t from, const unsigned char *needle, size_t m) {
    while (from + m <= n) {
        const unsigned char *hit = memchr(hay + from, needle[0], n - m + 1 - from);
        if (!hit) return -1;
        size_t at = (size_t)(hit - hay);
        if (memcmp(hit, needle, m) == 0) return (int64_t)at;
        from = at + 1;
    }
    return -1;
}

/* The number of claimed ranges of g with start < `end` (binary search). */
static size_t starting_before(aligner *a, const group *g, int64_t end) {
    size_t lo = 0, hi = g->claimed_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        a->work++;
        if (g->claimed[mid].start < end) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* [start, end) overlaps a range claimed by the current span's group. The ranges are disjoint
 * and sorted, so of those starting before `end` the last one ends last. */
static bool claimed(aligner *a, int64_t start, int64_t end) {
    size_t before = starting_before(a, a->g, end);
    return before > 0 && a->g->claimed[before - 1].end > start;
}

/* Adds [start, end) to g's claims, merged with the ranges it overlaps or touches. */
static t2g_status claim(aligner *a, group *g, int64_t start, int64_t end, t2g_error *err) {
    size_t last = starting_before(a, g, end + 1); /* ranges [first, last) overlap or touch it */
    size_t first = last;
    while (first > 0 && g->claimed[first - 1].end >= start) {
        a->work++;
        first--;
    }
    if (first < last) {
        if (g->claimed[first].start < start) start = g->claimed[first].start;
        if (g->claimed[last - 1].end > end) end = g->claimed[last - 1].end;
    } else if (!t2g_grow(&g->claimed, &g->claimed_capacity, g->claimed_count + 1, sizeof *g->claimed)) {
        return t2g_fail(err, T2G_ERR_MEMORY, "out of memory recording the matches of identical spans (%zu)",
                        g->claimed_count + 1);
    }
    /* ranges [first, last) become one: shift the tail by 1 - (last - first) */
    size_t tail = g->claimed_count - last;
    memmove(g->claimed + first + 1, g->claimed + last, tail * sizeof *g->claimed);
    g->claimed[first] = (range){start, end};
    g->claimed_count = first + 1 + tail;
    a->work += tail;
    return T2G_OK;
}

/* A whitespace character: ASCII whitespace, U+00A0, U+2000..U+200B, U+2028, U+2029, U+202F,
 * U+205F, U+3000, U+FEFF (k: its length, a separator). */
static bool is_space(const unsigned char *c, size_t k) {
    if (k == 1) return c[0] == ' ' || (c[0] >= '\t' && c[0] <= '\r');
    if (k == 2) return c[0] == 0xC2 && c[1] == 0xA0;
    if (k != 3) return false;
    uint32_t u = (uint32_t)(c[0] & 0x0F) << 12 | (uint32_t)(c[1] & 0x3F) << 6 | (c[2] & 0x3F);
    return (u >= 0x2000 && u <= 0x200B) || u == 0x2028 || u == 0x2029 || u == 0x202F || u == 0x205F || u == 0x3000 ||
           u == 0xFEFF;
}

/* The start of the character before position i (i > 0) in a text with boundary map b. */
static size_t previous_char(const bool *b, size_t i) {
    do i--;
    while (i > 0 && !b[i]);
    return i;
}

/* Grows [*start, *end) over punctuation of the response that equals, character for character,
 * the punctuation that the span p (m bytes) begins or ends with, up to the first whitespace:
 * a match never starts or ends in whitespace, nor in punctuation that the span did not have. */
static t2g_status grow_edges(const aligner *a, const unsigned char *p, size_t m, int64_t *start, int64_t *end,
                             t2g_error *err) {
    size_t lead = 0, trail = m;
    size_t k;
    while (lead < m && (k = fb_separator_length(p + lead, m - lead)) != 0) lead += k;
    if (lead == m) return T2G_OK;
    /* the trailing run: after the last character that is not a separator */
    for (size_t i = lead; i < m;) {
        size_t c = fb_char_length(p + i, m - i);
        if (!fb_separator_length(p + i, m - i)) trail = i + c;
        i += c;
    }
    size_t j = (size_t)*end;
    for (size_t i = trail; i < m && j < a->n;) {
        size_t kp = fb_separator_length(p + i, m - i);
        size_t kr = fb_char_length(a->r + j, a->n - j);
        if (!kp || kp != kr || memcmp(p + i, a->r + j, kp) != 0 || is_space(p + i, kp)) break;
        i += kp;
        j += kr;
    }
    *end = (int64_t)j;
    if (lead == 0) return T2G_OK;
    /* the leading run, matched backwards from its last character */
    bool *pb = t2g_malloc(m + 1);
    if (!pb) return t2g_fail(err, T2G_ERR_MEMORY, "out of memory for the boundaries of a span of %zu bytes", m);
    fb_boundaries(p, m, pb);
    size_t i = lead;
    j = (size_t)*start;
    while (i > 0 && j > 0) {
        size_t pi = previous_char(pb, i), rj = previous_char(a->boundary, j);
        if (i - pi != j - rj || memcmp(p + pi, a->r + rj, i - pi) != 0 || is_space(p + pi, i - pi)) break;
        i = pi;
        j = rj;
    }
    *start = (int64_t)j;
    free(pb);
    return T2G_OK;
}


static bool find_exact(aligner *a, group *g, const unsigned char *p, size_t m, t2g_aligned_span *out) {
    for (int64_t at = find_bytes(a->r, a->n, g->exact_from, p, m); at >= 0;
         at = find_bytes(a->r, a->n, (size_t)at + 1, p, m)) {
        a->work++;
        int64_t end = at + (int64_t)m;
        if (a->boundary[at] && a->boundary[end] && !claimed(a, at, end)) {
            g->exact_from = (size_t)at + 1;
            *out = (t2g_aligned_span){T2G_MATCH_EXACT, at, end, 1.0};
            return true;
        }
    }
    g->exact_from = a->n;
    return false;
}

static t2g_status find_normalized(aligner *a, group *g, const unsigned char *p, size_t m, t2g_aligned_span *out,
                                  bool *found, t2g_error *err) {
    const fb_normalized *ps = &g->span, *nr = &a->norm;
    if (ps->len == 0) return T2G_OK;
    for (int64_t q = find_bytes(nr->bytes, nr->len, g->normalized_from, ps->bytes, ps->len); q >= 0;
         q = find_bytes(nr->bytes, nr->len, (size_t)q + 1, ps->bytes, ps->len)) {
        a->work++;
        int64_t start = nr->from[q], end = nr->to[(size_t)q + ps->len - 1];
        if (a->boundary[start] && a->boundary[end] && !claimed(a, start, end)) {
            g->normalized_from = (size_t)q + 1;
            t2g_status status = grow_edges(a, p, m, &start, &end, err);
            if (status) return status;
            *out = (t2g_aligned_span){T2G_MATCH_NORMALIZED, start, end, 1.0};
            *found = true;
            return T2G_OK;
        }
    }
    g->normalized_from = nr->len;
    return T2G_OK;
}

typedef struct candidate {
    bool found;
    size_t s, e, l; /* normalized [s, e), LCS l */
} candidate;

/* Keeps [s, e) with LCS l if it beats *best (2l/(m+n) higher; equal: the earlier start, then the
 * shorter stretch) and overlaps no claimed range. */
static void consider(aligner *a, size_t m, size_t s, size_t e, size_t l, candidate *best) {
    if (l == 0) return;
    if (best->found) {
        /* l / (m + n) against best.l / (m + best.n), in integers */
        unsigned long long lhs = (unsigned long long)l * (m + (best->e - best->s));
        unsigned long long rhs = (unsigned long long)best->l * (m + (e - s));
        if (lhs < rhs || (lhs == rhs && (s > best->s || (s == best->s && e >= best->e)))) return;
    }
    if (claimed(a, a->norm.from[s], a->norm.to[e - 1])) return;
    *best = (candidate){true, s, e, l};
}

/* Every stretch [s, e) from start s with lo <= e - s <= hi that ends on a character (on a word
 * end when `words`), against *best. */
static void scan_from(aligner *a, fb_lcs *lcs, size_t s, size_t lo, size_t hi, bool words, candidate *best) {
    const unsigned char *r = a->norm.bytes;
    size_t nn = a->norm.len, last = s + hi < nn ? s + hi : nn;
    fb_lcs_reset(lcs);
    for (size_t e = s + 1; e <= last; e++) {
        fb_lcs_step(lcs, r[e - 1]);
        a->work += lcs->words;
        if (e - s < lo || r[e - 1] == ' ' || !a->boundary[a->norm.to[e - 1]]) continue;
        if (words && e < nn && r[e] != ' ') continue;
        consider(a, lcs->m, s, e, fb_lcs_length(lcs), best);
    }
}

typedef struct start_bound {
    uint32_t s;
    double bound;
} start_bound;

static int by_bound(const void *x, const void *y) {
    const start_bound *a = x, *b = y;
    if (a->bound != b->bound) return a->bound > b->bound ? -1 : 1;
    return a->s < b->s ? -1 : a->s > b->s;
}

/* Scans starts[0..count) (ascending; with `words`, only those with a word end in reach) in
 * decreasing order of an upper bound on the similarity
 * that any stretch from them can reach: with U the size of the byte-multiset intersection of the
 * span and the longest stretch [s, s + hi), LCS <= min(U, n), so 2 LCS / (m + n) <= 2 U / (m + U)
 * (n = U is the best length; U below lo: 2 U / (m + lo)). Stops when the next bound is below the
 * threshold or the best so far (equal, at a later start: a tie the earlier start wins), or after
 * FB_FUZZY_BUDGET word operations. *any: whether any start had a stretch of a fitting length. */
static t2g_status scan_starts(aligner *a, fb_lcs *lcs, const unsigned char *p, const uint32_t *starts, size_t count,
                              size_t lo, size_t hi, bool words, candidate *best, bool *any, t2g_error *err) {
    const unsigned char *r = a->norm.bytes;
    size_t nn = a->norm.len, m = lcs->m;
    start_bound *order = t2g_malloc((count + 1) * sizeof *order);
    if (!order) return t2g_fail(err, T2G_ERR_MEMORY, "out of memory ordering %zu starts of a fuzzy search", count);
    uint32_t need[256] = {0}, have[256] = {0};
    for (size_t i = 0; i < m; i++) need[p[i]]++;
    size_t wl = 0, wr = 0, u = 0, kept = 0; /* the window [wl, wr) and its intersection u */
    size_t end_index = 0;
    for (size_t i = 0; i < count; i++) {
        size_t s = starts[i], stop = s + hi < nn ? s + hi : nn;
        if (stop - s < lo) continue; /* too near the end for any stretch */
        if (words) { /* a word must end within [s + lo, s + hi] */
            while (end_index < a->word_count && a->word_ends[end_index] < s + lo) end_index++;
            if (end_index == a->word_count || a->word_ends[end_index] > stop) continue;
        }
        for (; wr < stop; wr++)
            if (have[r[wr]]++ < need[r[wr]]) u++;
        for (; wl < s; wl++)
            if (--have[r[wl]] < need[r[wl]]) u--;
        size_t n = u < lo ? lo : u;
        order[kept++] = (start_bound){(uint32_t)s, fb_similarity(u, m, n)};
    }
    a->work += count;
    qsort(order, kept, sizeof *order, by_bound);
    unsigned long long work = 0;
    for (size_t i = 0; i < kept && work < FB_FUZZY_BUDGET; i++) {
        double bound = order[i].bound;
        if (bound < a->threshold - 1e-12) break;
        if (best->found) {
            double have_best = fb_similarity(best->l, m, best->e - best->s);
            if (bound < have_best - 1e-12) break;
            if (bound < have_best + 1e-12 && order[i].s > best->s) continue;
        }
        scan_from(a, lcs, order[i].s, lo, hi, words, best);
        work += (unsigned long long)hi * lcs->words;
    }
    free(order);
    *any = kept > 0;
    return T2G_OK;
}

static t2g_status find_fuzzy(aligner *a, const fb_normalized *ps, const unsigned char *p, size_t m,
                             t2g_aligned_span *out, bool *found, t2g_error *err) {
    size_t pm = ps->len, nn = a->norm.len;
    if (pm == 0 || pm > FB_FUZZY_MAX_SPAN || nn == 0) return T2G_OK;
    size_t lo = (pm + 1) / 2, hi = pm + pm / 2;
    fb_lcs lcs;
    if (!fb_lcs_init(&lcs, ps->bytes, pm))
        return t2g_fail(err, T2G_ERR_MEMORY, "out of memory for the fuzzy search of a span of %zu bytes", pm);
    candidate best = {0};
    bool any = false;
    /* whole words: from a word's start to a word's end */
    t2g_status status = scan_starts(a, &lcs, ps->bytes, a->word_starts, a->word_count, lo, hi, true, &best, &any, err);
    if (!status && !any) {
        /* no stretch of whole words has a fitting length (text without spaces, such as
         * Chinese): every character */
        uint32_t *starts = t2g_malloc((nn + 1) * sizeof *starts);
        if (!starts)
            status = t2g_fail(err, T2G_ERR_MEMORY, "out of memory for the fuzzy search of a %zu-byte response", a->n);
        else {
            size_t count = 0;
            for (size_t u = 0; u < nn; u++)
                if (a->norm.bytes[u] != ' ' && a->boundary[a->norm.from[u]]) starts[count++] = (uint32_t)u;
            status = scan_starts(a, &lcs, ps->bytes, starts, count, lo, hi, false, &best, &any, err);
            free(starts);
        }
    }
    fb_lcs_free(&lcs);
    if (status || !best.found) return status;
    double similarity = fb_similarity(best.l, pm, best.e - best.s);
    if (similarity < a->threshold) return T2G_OK;
    int64_t start = a->norm.from[best.s], end = a->norm.to[best.e - 1];
    status = grow_edges(a, p, m, &start, &end, err);
    if (status) return status;
    *out = (t2g_aligned_span){T2G_MATCH_FUZZY, start, end, similarity};
    *found = true;
    return T2G_OK;
}

/* ---- the spans' groups ---- */

static bool identical(const t2g_critique_span *x, const t2g_critique_span *y) {
    size_t nx = x->text ? x->len : 0, ny = y->text ? y->len : 0;
    return nx == ny && (nx == 0 || memcmp(x->text, y->text, nx) == 0);
}

static uint64_t text_hash(const t2g_critique_span *span) {
    return t2g_fnv1a64(T2G_FNV1A64_START, span->text, span->text ? span->len : 0);
}

/* of_span[i]: the group of span i, numbered in order of first appearance (*count groups), by a
 * hash table of the spans' texts. */
static t2g_status group_spans(aligner *a, const t2g_critique *c, uint32_t *of_span, size_t *count, t2g_error *err) {
    size_t slots = 16;
    while (slots < 2 * (size_t)c->span_count) slots *= 2;
    uint32_t *first = t2g_malloc(slots * sizeof *first); /* the first span of the group in a slot */
    uint32_t *which = t2g_malloc(slots * sizeof *which); /* and its group */
    if (!first || !which) {
        free(first);
        free(which);
        return t2g_fail(err, T2G_ERR_MEMORY, "out of memory grouping %u spans", c->span_count);
    }
    for (size_t k = 0; k < slots; k++) first[k] = UINT32_MAX;
    *count = 0;
    for (uint32_t i = 0; i < c->span_count; i++) {
        size_t k = (size_t)text_hash(&c->spans[i]) & (slots - 1);
        for (;; k = (k + 1) & (slots - 1)) {
            a->work++;
            if (first[k] == UINT32_MAX) {
                first[k] = i;
                which[k] = (uint32_t)(*count)++;
                break;
            }
            if (identical(&c->spans[first[k]], &c->spans[i])) break;
        }
        of_span[i] = which[k];
    }
    free(first);
    free(which);
    return T2G_OK;
}

static void aligner_free(aligner *a) {
    free(a->boundary);
    fb_normalized_free(&a->norm);
    free(a->word_starts);
    free(a->word_ends);
}

/* The response's boundaries, normalized form and words. */
static t2g_status aligner_init(aligner *a, const char *response, size_t len, const t2g_span_scores *scores,
                               t2g_error *err) {
    *a = (aligner){.r = (const unsigned char *)response, .n = len};
    a->threshold = scores->fuzzy_threshold;
    if (!(a->threshold <= 1.0)) a->threshold = 1.0; /* also NaN: only perfect fuzzy matches */
    if (a->threshold < 1e-9) a->threshold = 1e-9;
    a->boundary = t2g_malloc(len + 1);
    if (!a->boundary || !fb_normalize(a->r, len, false, true, &a->norm))
        return t2g_fail(err, T2G_ERR_MEMORY, "out of memory aligning spans in a response of %zu bytes", len);
    fb_boundaries(a->r, len, a->boundary);
    a->word_starts = t2g_malloc((a->norm.len + 1) * sizeof *a->word_starts);
    a->word_ends = t2g_malloc((a->norm.len + 1) * sizeof *a->word_ends);
    if (!a->word_starts || !a->word_ends)
        return t2g_fail(err, T2G_ERR_MEMORY, "out of memory for the words of a response of %zu bytes", len);
    /* separators are whole characters, so a word's first and last bytes are on boundaries */
    for (size_t i = 0, ends = 0; i < a->norm.len; i++) {
        if (a->norm.bytes[i] == ' ') continue;
        if (i == 0 || a->norm.bytes[i - 1] == ' ') a->word_starts[a->word_count++] = (uint32_t)i;
        if (i + 1 == a->norm.len || a->norm.bytes[i + 1] == ' ') a->word_ends[ends++] = (uint32_t)(i + 1);
    }
    return T2G_OK;
}

/* Span i of group g: exact, normalized, fuzzy; *found. */
static t2g_status search(aligner *a, group *g, const t2g_critique_span *span, t2g_aligned_span *out, bool *found,
                         t2g_error *err) {
    const unsigned char *p = (const unsigned char *)span->text;
    size_t m = span->len;
    a->g = g;
    *found = find_exact(a, g, p, m, out);
    if (*found) return T2G_OK;
    if (!g->normalized) {
        if (m < UINT32_MAX && !fb_normalize(p, m, true, false, &g->span))
            return t2g_fail(err, T2G_ERR_MEMORY, "out of memory normalizing a span of %zu bytes", m);
        g->normalized = true; /* a span of 4 GiB or more stays unnormalized (len 0): searched exactly only */
    }
    t2g_status status = find_normalized(a, g, p, m, out, found, err);
    if (!status && !*found) status = find_fuzzy(a, &g->span, p, m, out, found, err);
    return status;
}

t2g_status t2g_align_spans(const char *response, size_t len, const t2g_critique *critique, const t2g_span_scores *scores,
                           t2g_aligned_span *out, t2g_error *err) {
    if (!critique) return t2g_fail(err, T2G_ERR_ARGUMENT, "t2g_align_spans: no critique");
    uint32_t n = critique->span_count;
    if (n && !out) return t2g_fail(err, T2G_ERR_ARGUMENT, "t2g_align_spans: no room for the %u spans' matches", n);
    for (uint32_t i = 0; i < n; i++) out[i] = (t2g_aligned_span){T2G_MATCH_NONE, -1, -1, 0.0};
    if (n == 0) return T2G_OK;
    if (!response && len) return t2g_fail(err, T2G_ERR_ARGUMENT, "t2g_align_spans: %zu response bytes but no response", len);
    if (len >= UINT32_MAX)
        return t2g_fail(err, T2G_ERR_TOO_LARGE, "a response of %zu bytes: at most %u can be aligned", len, UINT32_MAX - 1);
    if (!response) response = "";
    t2g_span_scores defaults = t2g_span_scores_default();
    if (!scores) scores = &defaults;

    aligner a;
    size_t group_count = 0;
    uint32_t *of_span = t2g_malloc(n * sizeof *of_span);
    group *groups = NULL;
    t2g_status status = of_span ? aligner_init(&a, response, len, scores, err)
                                : t2g_fail(err, T2G_ERR_MEMORY, "out of memory aligning %u spans", n);
    if (!of_span) a = (aligner){0};
    if (!status) status = group_spans(&a, critique, of_span, &group_count, err);
    if (!status) {
        groups = t2g_calloc(group_count, sizeof *groups);
        if (!groups) status = t2g_fail(err, T2G_ERR_MEMORY, "out of memory for %zu groups of spans", group_count);
    }
    for (uint32_t i = 0; !status && i < n; i++) {
        const t2g_critique_span *span = &critique->spans[i];
        group *g = &groups[of_span[i]];
        if (!span->text || span->len == 0) continue;
        bool found = false;
        if (!g->exhausted) status = search(&a, g, span, &out[i], &found, err);
        if (status) break;
        if (found) {
            status = claim(&a, g, out[i].start, out[i].end, err);
            if (!g->has_first) g->first = out[i];
            g->has_first = true;
        } else {
            g->exhausted = true; /* every later span of the group finds nothing too */
            if (g->has_first) out[i] = g->first;
        }
    }
    for (size_t k = 0; groups && k < group_count; k++) {
        free(groups[k].claimed);
        fb_normalized_free(&groups[k].span);
    }
    free(groups);
    free(of_span);
    aligner_free(&a);
    fb_work_add(a.work);
    if (status)
        for (uint32_t i = 0; i < n; i++) out[i] = (t2g_aligned_span){T2G_MATCH_NONE, -1, -1, 0.0};
    return status;
}
