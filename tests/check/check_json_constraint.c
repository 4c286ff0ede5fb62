/* Constrained critique JSON (src/critic/json_constraint.h): the byte automaton on outputs
 * written by hand (every whitespace, escape, UTF-8 and score form it takes; wrong key orders,
 * missing keys, trailing commas, control bytes, bad escapes, invalid UTF-8, scores out of range
 * and bytes past the end refused at the byte that breaks them), caps and SUBSTRINGS mode;
 * random walks under a byte budget that always end in JSON t2g_critique_parse reads, with every
 * span found in the response; the length of a shortest completion against a breadth-first
 * search over all 256 bytes; the token mask against stepping each token's bytes one by one;
 * random token walks; the missing-byte error; every allocation failing; and the mask's speed over a vocabulary the size
 * of SmolLM2's (printed, not asserted). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "core/alloc.h"
#include "core/utf8.h"
#include "critic/json_constraint.h"
#include "t2g/feedback.h"

/* ---- helpers ---- */

static critic_json_shape *make_shape(check_ctx *ctx, const critic_json_options *o) {
    critic_json_shape *shape = NULL;
    check_status(ctx, critic_json_shape_create(o, &shape, &ctx->err), "critic_json_shape_create");
    return shape;
}

/* Steps len bytes of text from *st; returns how many were accepted. */
static size_t feed(const critic_json_shape *shape, critic_json_state *st, const char *text, size_t len) {
    size_t i = 0;
    while (i < len && critic_json_step(shape, st, (unsigned char)text[i])) i++;
    return i;
}

static bool contains(const char *hay, size_t n, const char *needle, size_t m) {
    for (size_t i = 0; m <= n && i <= n - m; i++)
        if (memcmp(hay + i, needle, m) == 0) return true;
    return false;
}

/* A completed output: valid UTF-8, read by t2g_critique_parse as the spans format with a score
 * in [-1, 1], within the caps, and in SUBSTRINGS mode every span non-empty and in the response. */
static void check_output(check_ctx *ctx, const critic_json_options *o, const char *out, size_t len, const char *what) {
    for (size_t i = 0; i < len;) {
        size_t n = t2g_utf8_sequence((const unsigned char *)out + i, len - i, NULL);
        if (!check_expect(ctx, n > 0, "%s: invalid UTF-8 at byte %zu of '%.*s'", what, i, (int)len, out)) return;
        i += n;
    }
    t2g_critique c;
    t2g_error err = {0};
    if (!check_expect(ctx, t2g_critique_parse(out, len, &c, &err) == T2G_OK, "%s: '%.*s' does not parse: %s", what,
                      (int)len, out, err.message))
        return;
    check_expect(ctx, c.format == T2G_CRITIQUE_SPANS && c.has_score && c.score >= -1 && c.score <= 1,
                 "%s: format %d, score %d %g in '%.*s'", what, c.format, c.has_score, c.score, (int)len, out);
    check_expect(ctx, !o->max_feedback_bytes || strlen(c.feedback) <= o->max_feedback_bytes, "%s: feedback of %zu bytes",
                 what, strlen(c.feedback));
    uint32_t per_kind[3] = {0};
    for (uint32_t i = 0; i < c.span_count; i++) {
        const t2g_critique_span *s = &c.spans[i];
        per_kind[s->kind]++;
        check_expect(ctx, !o->max_span_bytes || s->len <= o->max_span_bytes, "%s: span of %zu bytes", what, s->len);
        if (o->spans_from_response)
            check_expect(ctx, s->len > 0 && contains(o->response, o->response_len, s->text, s->len),
                         "%s: span '%s' is not a non-empty substring of the response", what, s->text);
    }
    check_expect(ctx, !o->max_spans || (per_kind[0] <= o->max_spans && per_kind[1] <= o->max_spans),
                 "%s: %u good and %u poor spans, cap %u", what, per_kind[0], per_kind[1], o->max_spans);
    t2g_critique_free(&c);
}

/* critic_json_close from st: critic_json_close_bytes bytes that finish the JSON. */
static void check_close_writes(check_ctx *ctx, const critic_json_shape *shape, critic_json_state st, const char *what) {
    char tail[512];
    uint32_t need = critic_json_close_bytes(shape, &st);
    size_t n = critic_json_close(shape, st, tail, sizeof tail);
    size_t fed = feed(shape, &st, tail, n < sizeof tail ? n : sizeof tail);
    check_expect(ctx, n == need && fed == n && critic_json_done(&st), "%s: close wrote %zu bytes (%zu stepped), "
                 "close_bytes %u, done %d", what, n, fed, need, critic_json_done(&st));
}

/* ---- hand-written outputs ---- */

#define STR "{\"textual_feedback\":\""
#define FB "{\"textual_feedback\":\"x\","
#define LISTS FB "\"good_spans\":[],\"poor_spans\":[],"
#define SCORE LISTS "\"score\":"

typedef struct good_output {
    const char *what, *text, *feedback;
    double score;
} good_output;

static const good_output GOOD[] = {
    {"one line", "{\"textual_feedback\":\"Right sum.\",\"good_spans\":[\"12 + 30\"],\"poor_spans\":[\"= 41\",\"carry\"],"
     "\"score\":0.5}", "Right sum.", 0.5},
    {"indented", "{\n  \"textual_feedback\": \"ok\",\n  \"good_spans\": [\n    \"a\",\n    \"b\"\n  ],\n  \"poor_spans\": [],"
     "\n  \"score\": -1\n}", "ok", -1},
    {"tabs, empty lists with whitespace inside", "{\t\"textual_feedback\"\t:\t\"\" ,\"good_spans\":[ ],\"poor_spans\":[\n],"
     "\"score\" :1 }", "", 1},
    {"eight whitespace bytes in a row", "{ \n\t     \"textual_feedback\":\"w\",\"good_spans\":[],\"poor_spans\":[],"
     "\"score\":0}", "w", 0},
    {"every escape", STR "q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t \\u00e9\\u20AC\\uFFFD\\u0041\\uE000\",\"good_spans\":[\"\\\"\"],"
     "\"poor_spans\":[],\"score\":-0.25}", "q\" b\\ s/ \b\f\n\r\t \xC3\xA9\xE2\x82\xAC\xEF\xBF\xBD" "A\xEE\x80\x80", -0.25},
    {"raw UTF-8 of every length, the edges of the ranges, DEL",
     STR "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF \xED\x9F\xBF \xEE\x80\x80 \xE0\xA0\x80 \xF0\x90\x80\x80 "
     "\x7F\",\"good_spans\":[\"\xC3\xA9\"],\"poor_spans\":[\"\xF0\x9F\x98\x80\"],\"score\":0.125}",
     "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF \xED\x9F\xBF \xEE\x80\x80 \xE0\xA0\x80 \xF0\x90\x80\x80 \x7F",
     0.125},
};

static const char *const SCORES[] = {"-1", "0", "1", "0.5", "-0.25", "0.125", "-0.001", "0.0", "-0.0", "0.999", "0.10",
                                     "1.0", "1.00", "1.000", "-1.0", "-1.00", "-1.000"};

typedef struct bad_output {
    const char *what, *prefix, *bad; /* prefix is accepted; bad's first byte is refused */
} bad_output;

static const bad_output BAD[] = {
    {"leading whitespace", "", " {"},
    {"single quotes", "{", "'"},
    {"wrong key order", "{\"textual_feedback\":\"x\",\"", "poor_spans"},
    {"textual_feedback missing", "{\"", "good_spans"},
    {"a key misspelt", "{\"textual", "Feedback"},
    {"whitespace inside a key", "{\"textual", " _feedback"},
    {"score missing", FB "\"good_spans\":[],\"poor_spans\":[]", "}"},
    {"a key after the score", SCORE "0", ",\"x\":1}"},
    {"a trailing comma in a list", FB "\"good_spans\":[\"a\",", "]"},
    {"a trailing comma before whitespace", FB "\"good_spans\":[\"a\", \n", "]"},
    {"a comma before the first span", FB "\"good_spans\":[", ",\"a\"]"},
    {"a number in a list", FB "\"good_spans\":[", "1]"},
    {"a trailing comma after the lists", LISTS, "}"},
    {"a control byte in a string", STR "a", "\x01"},
    {"a raw newline in a string", STR "a", "\n"},
    {"a raw tab in a string", STR, "\t"},
    {"\\x", STR "\x7F\\", "x"},
    {"\\U", STR "\\", "U0041"},
    {"a non-hex digit in \\u", STR "\\u12", "g4"},
    {"\\u0000", STR "\\u000", "0"},
    {"a high surrogate escape", STR "\\uD", "83D"},
    {"a low surrogate escape", STR "\\ud", "fff"},
    {"overlong C0", STR, "\xC0\x80"},
    {"overlong C1", STR, "\xC1\xBF"},
    {"overlong E0 80", STR "\xE0", "\x80\x80"},
    {"overlong F0 8F", STR "\xF0", "\x8F\xBF\xBF"},
    {"a raw surrogate ED A0", STR "\xED", "\xA0\x80"},
    {"past U+10FFFF: F4 90", STR "\xF4", "\x90\x80\x80"},
    {"F5", STR, "\xF5\x80\x80\x80"},
    {"FF", STR, "\xFF"},
    {"a stray continuation byte", STR "a", "\x80"},
    {"a character cut by the quote", STR "\xE2\x82", "\""},
    {"ASCII inside a character", STR "\xC3", "A"},
    {"a fifth byte", STR "\xF0\x9F\x98\x80", "\x80"},
    {"score 2", SCORE, "2"},
    {"score 1.5", SCORE "1.", "5"},
    {"score -1.01", SCORE "-1.0", "1"},
    {"four decimals", SCORE "0.123", "4"},
    {"1.0000", SCORE "1.000", "0"},
    {"a leading zero", SCORE "0", "1"},
    {"-0 alone", SCORE "-0", "}"},
    {"--1", SCORE "-", "-1"},
    {"+1", SCORE, "+1"},
    {"an exponent", SCORE "1", "e0"},
    {".5", SCORE, ".5"},
    {"no digit after the point", SCORE "0.", "}"},
    {"a string score", SCORE, "\"1\""},
    {"a space after the end", SCORE "0}", " "},
    {"a byte after the end", SCORE "0 }", "x"},
    {"nine whitespace bytes", "{        ", " "},
    {"\\r is not whitespace here", "{", "\r"},
};

/* Each prefix is accepted; the bad byte is refused and leaves the state as it was. */
static void check_refusals(check_ctx *ctx, const critic_json_shape *shape, const bad_output *bad, size_t count) {
    for (size_t k = 0; k < count; k++) {
        const bad_output *b = &bad[k];
        critic_json_state st = critic_json_start(shape);
        size_t n = strlen(b->prefix), fed = feed(shape, &st, b->prefix, n);
        if (!check_expect(ctx, fed == n, "%s: the prefix '%s' is refused at byte %zu", b->what, b->prefix, fed)) continue;
        critic_json_state before = st;
        check_expect(ctx, !critic_json_step(shape, &st, (unsigned char)b->bad[0]) && memcmp(&st, &before, sizeof st) == 0,
                     "%s: '%s' then '%s' is not refused at its first byte (or the state changed)", b->what, b->prefix,
                     b->bad);
        check_close_writes(ctx, shape, st, b->what);
    }
}

static void check_accepts(check_ctx *ctx, const critic_json_shape *shape, const critic_json_options *o, const char *what,
                          const char *text) {
    critic_json_state st = critic_json_start(shape);
    size_t n = strlen(text), fed = feed(shape, &st, text, n);
    if (check_expect(ctx, fed == n && critic_json_done(&st) && critic_json_close_bytes(shape, &st) == 0,
                     "%s: refused at byte %zu of '%s' (done %d)", what, fed, text, critic_json_done(&st)))
        check_output(ctx, o, text, n, what);
}

T2G_HOST_CHECK(json_constraint_bytes) {
    check_case_begin(ctx);
    critic_json_options plain = {0};
    critic_json_shape *shape = make_shape(ctx, &plain);
    if (!shape) return ctx->failures;
    for (size_t k = 0; k < sizeof GOOD / sizeof GOOD[0]; k++) {
        const good_output *g = &GOOD[k];
        check_accepts(ctx, shape, &plain, g->what, g->text);
        t2g_critique c;
        t2g_error err = {0};
        if (t2g_critique_parse(g->text, strlen(g->text), &c, &err) != T2G_OK) continue;
        check_expect(ctx, strcmp(c.feedback, g->feedback) == 0 && c.score == g->score, "%s: read '%s' %g", g->what,
                     c.feedback, c.score);
        t2g_critique_free(&c);
    }
    for (size_t k = 0; k < sizeof SCORES / sizeof SCORES[0]; k++)
        for (int end = 0; end < 3; end++) {
            char text[160], what[64];
            snprintf(text, sizeof text, "%s%s%s", SCORE, SCORES[k], end == 0 ? "}" : end == 1 ? " }" : "\n\t}");
            snprintf(what, sizeof what, "score %s", SCORES[k]);
            check_accepts(ctx, shape, &plain, what, text);
            t2g_critique c;
            t2g_error err = {0};
            if (t2g_critique_parse(text, strlen(text), &c, &err) != T2G_OK) continue;
            check_expect(ctx, c.score == strtod(SCORES[k], NULL), "%s: read as %g", what, c.score);
            t2g_critique_free(&c);
        }
    check_refusals(ctx, shape, BAD, sizeof BAD / sizeof BAD[0]);
    critic_json_shape_free(shape);

    /* caps: 3 decoded bytes of feedback, 2 per span, 1 span per list */
    critic_json_options capped = {.max_feedback_bytes = 3, .max_span_bytes = 2, .max_spans = 1};
    if (!(shape = make_shape(ctx, &capped))) return ctx->failures;
    check_accepts(ctx, shape, &capped, "within the caps",
                  STR "a\\u00e9\",\"good_spans\":[\"\\u00e9\"],\"poor_spans\":[\"ab\"],\"score\":0}");
    static const bad_output CAPPED[] = {
        {"a fourth feedback byte", STR "abc", "d"},
        {"a 2-byte character with one byte left", STR "ab", "\xC3\xA9"},
        {"\\u00e9 with one byte left", STR "ab\\u00", "e9"},
        {"an escape with no byte left", STR "a\\n\\t", "\\"},
        {"a second span", FB "\"good_spans\":[\"a\"", ",\"b\"]"},
        {"a third span byte", FB "\"good_spans\":[\"ab", "c"},
        {"a 3-byte character in a span of 2", FB "\"good_spans\":[\"", "\xE2\x82\xAC"},
    };
    check_refusals(ctx, shape, CAPPED, sizeof CAPPED / sizeof CAPPED[0]);
    critic_json_shape_free(shape);

    /* SUBSTRINGS: spans are pieces of the response, written as JSON */
    static const char response[] = "He said \"hi\"\n\tto caf\xC3\xA9 \\ 1\xE2\x82\xAC \xFF\xC3( a\0b";
    critic_json_options quoted = {.spans_from_response = true, .response = response, .response_len = sizeof response - 1};
    if (!(shape = make_shape(ctx, &quoted))) return ctx->failures;
    check_accepts(ctx, shape, &quoted, "spans from the response",
                  STR "anything \xC3\xA9?\",\"good_spans\":[\"said \\\"hi\\\"\\n\\t\", \"caf\xC3\xA9\",\"\\\\ 1\","
                  "\"\xE2\x82\xAC\"],\"poor_spans\":[\"\\u0048e\",\"\\u0009to\",\"a\"],\"score\":-0.5}");
    static const bad_output QUOTED[] = {
        {"an empty span", FB "\"good_spans\":[\"", "\""},
        {"a byte the response lacks", FB "\"good_spans\":[\"", "x"},
        {"a span that leaves the response", FB "\"good_spans\":[\"said ", "said"},
        {"a non-ASCII \\u escape", FB "\"good_spans\":[\"\\u00", "e9"},
        {"an escape after caf (only \xC3 follows)", FB "\"good_spans\":[\"caf", "\\u00e9"},
        {"\\u0000 though the response holds a NUL", FB "\"good_spans\":[\"a\\u00", "00b"},
        {"a span starting inside a character", FB "\"good_spans\":[\"", "\xA9"},
        {"the response's invalid byte", FB "\"good_spans\":[\"", "\xFF"},
        {"the response's cut character", FB "\"good_spans\":[\"\xC3", "("},
        {"an escape of a byte the response lacks", FB "\"good_spans\":[\"said \\", "n"},
    };
    check_refusals(ctx, shape, QUOTED, sizeof QUOTED / sizeof QUOTED[0]);
    critic_json_shape_free(shape);

    /* a response with no valid character: both lists stay empty */
    static const char nothing[] = "\xFF\x80\xC3";
    critic_json_options none = {.spans_from_response = true, .response = nothing, .response_len = 3};
    if (!(shape = make_shape(ctx, &none))) return ctx->failures;
    static const bad_output NONE[] = {{"a span from a response without a character", FB "\"good_spans\":[", "\""}};
    check_refusals(ctx, shape, NONE, 1);
    check_accepts(ctx, shape, &none, "empty lists", LISTS "\"score\":1}");
    critic_json_shape_free(shape);

    critic_json_shape *s = NULL;
    t2g_error err = {0};
    check_true(ctx, critic_json_shape_create(NULL, &s, &err) == T2G_ERR_ARGUMENT, "no options: argument error");
    critic_json_options no_bytes = {.spans_from_response = true, .response_len = 4};
    check_true(ctx, critic_json_shape_create(&no_bytes, &s, &err) == T2G_ERR_ARGUMENT && s == NULL,
               "a NULL response of 4 bytes: argument error (%s)", err.message);
    return ctx->failures;
}

/* ---- random walks ---- */

typedef struct piece {
    const char *p;
    size_t n;
} piece;
#define PIECE(s) {s, sizeof s - 1}

static const piece RESPONSE_PIECES[] = {
    PIECE("a"), PIECE("b"), PIECE("the"), PIECE(" "), PIECE("\""), PIECE("\\"), PIECE("\n"), PIECE("\t"), PIECE("\x01"),
    PIECE("/"), PIECE("\xC3\xA9"), PIECE("\xE2\x82\xAC"), PIECE("\xF0\x9F\x98\x80"), PIECE("\xFF"), PIECE("\x80"),
    PIECE("\xE2\x82"), PIECE("\0"), PIECE("12"), PIECE("{"), PIECE("}"),
};

/* Responses whose spans are few and odd: only a control byte, only escaped bytes, one character
 * of each length, a character cut off, nothing. */
static const piece ODD_RESPONSES[] = {
    PIECE("\x01"), PIECE("\x01\xFF\x1F"), PIECE("\""), PIECE("\\\n"), PIECE("\xC3\xA9"), PIECE("\xE2\x82\xAC"),
    PIECE("\xF0\x9F\x98\x80\xFF"), PIECE("\xE2\x82"), PIECE("\0a"), PIECE(""),
};

/* A response of up to `most` bytes (at least 5) built from RESPONSE_PIECES, or one of
 * ODD_RESPONSES. */
static size_t random_response(check_ctx *ctx, char *out, size_t most) {
    if (check_random_below(ctx, 4) == 0) {
        const piece *p = &ODD_RESPONSES[check_random_below(ctx, sizeof ODD_RESPONSES / sizeof ODD_RESPONSES[0])];
        memcpy(out, p->p, p->n);
        return p->n;
    }
    size_t n = 0, want = check_random_below(ctx, (uint32_t)most + 1);
    while (n < want) {
        const piece *p = &RESPONSE_PIECES[check_random_below(ctx, sizeof RESPONSE_PIECES / sizeof RESPONSE_PIECES[0])];
        if (n + p->n > most) break;
        memcpy(out + n, p->p, p->n);
        n += p->n;
    }
    return n;
}

/* Random options over the response (caps 0 or small). */
static critic_json_options random_options(check_ctx *ctx, const char *response, size_t len, bool tiny) {
    critic_json_options o = {.spans_from_response = check_random_below(ctx, 2), .response = response, .response_len = len};
    uint32_t caps = tiny ? 5 : 12;
    o.max_spans = tiny ? 1 + check_random_below(ctx, 2) : check_random_below(ctx, 4);
    o.max_feedback_bytes = tiny ? 1 + check_random_below(ctx, 4) : check_random_below(ctx, caps);
    o.max_span_bytes = check_random_below(ctx, caps);
    if (tiny && !o.spans_from_response) o.max_span_bytes = 1 + check_random_below(ctx, 4);
    return o;
}

/* A random output, one byte at a time among those that keep the JSON closable within the
 * budget (structural bytes favoured, so lists fill). Stops when done or after `most` bytes;
 * returns the bytes written (st: where it stopped). At each state close_bytes must be one more
 * than its least value after any byte (which makes it exact: it is then the length of the path
 * that follows the least, and falls by at most one a byte on any path), and some byte must be
 * allowed. */
static size_t walk_bytes(check_ctx *ctx, const critic_json_shape *shape, uint32_t budget, size_t most, char *out,
                         critic_json_state *st, const char *what) {
    *st = critic_json_start(shape);
    size_t n = 0;
    while (!critic_json_done(st) && n < most) {
        unsigned char allowed[256], preferred[256];
        uint32_t count = 0, favoured = 0;
        uint32_t before = critic_json_close_bytes(shape, st), least = UINT32_MAX;
        for (unsigned b = 0; b < 256; b++) {
            critic_json_state next = *st;
            if (!critic_json_step(shape, &next, (unsigned char)b)) continue;
            uint32_t after = critic_json_close_bytes(shape, &next);
            if (after < least) least = after;
            if (after >= budget) continue;
            allowed[count++] = (unsigned char)b;
            if (strchr("\"],}:{[", (int)b) && b) preferred[favoured++] = (unsigned char)b;
        }
        /* exact when it is one more than the least over the next bytes (and 0 only when done) */
        check_expect(ctx, before > 0 && least + 1 == before, "%s: close_bytes %u after '%.*s', but the least after a "
                     "byte is %u", what, before, (int)n, out, least);
        if (!check_expect(ctx, count > 0, "%s: no byte allowed after '%.*s' with budget %u (close_bytes %u)", what, (int)n,
                          out, budget, before))
            break;
        unsigned char b = favoured && check_random_below(ctx, 6) == 0 ? preferred[check_random_below(ctx, favoured)]
                                                                     : allowed[check_random_below(ctx, count)];
        critic_json_step(shape, st, b);
        out[n++] = (char)b;
        budget--;
        if (check_random_below(ctx, 8) == 0) check_close_writes(ctx, shape, *st, what);
    }
    return n;
}

T2G_HOST_CHECK(json_constraint_walks) {
    check_case_begin(ctx);
    const int rounds = ctx->quick ? 20 : 400;
    char response[64], *out = check_host(ctx, 4096);
    size_t longest = 0;
    for (int round = 0; round < rounds; round++) {
        size_t rlen = random_response(ctx, response, sizeof response);
        critic_json_options o = random_options(ctx, response, rlen, false);
        critic_json_shape *shape = make_shape(ctx, &o);
        if (!shape) break;
        char what[96];
        critic_json_state start = critic_json_start(shape), st;
        uint32_t least = critic_json_close_bytes(shape, &start);
        /* the tightest budget, then a roomy one */
        for (int roomy = 0; roomy < 2; roomy++) {
            uint32_t budget = least + (roomy ? check_random_below(ctx, 400) : 0);
            snprintf(what, sizeof what, "round %d (%s, budget %u)", round, o.spans_from_response ? "substrings" : "plain",
                     budget);
            size_t n = walk_bytes(ctx, shape, budget, 4096, out, &st, what);
            if (!check_expect(ctx, critic_json_done(&st) && n <= budget, "%s: not done after %zu bytes", what, n)) continue;
            check_output(ctx, &o, out, n, what);
            if (n > longest) longest = n;
        }
        critic_json_shape_free(shape);
    }
    check_log(ctx, "  %d rounds of random walks, the longest output %zu bytes", rounds, longest);
    return ctx->failures;
}

/* ---- close_bytes against a breadth-first search ---- */

typedef struct state_set {
    critic_json_state *states; /* in the order found */
    uint32_t *table;           /* open addressing: index + 1, 0 empty */
    uint32_t count, most, mask;
} state_set;

static uint64_t state_hash(const critic_json_state *st) {
    const unsigned char *p = (const unsigned char *)st;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < sizeof *st; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

/* Adds st; false when it was there already or the set is full (*full). */
static bool set_add(state_set *set, const critic_json_state *st, bool *full) {
    uint32_t at = (uint32_t)state_hash(st) & set->mask;
    for (; set->table[at]; at = (at + 1) & set->mask)
        if (memcmp(&set->states[set->table[at] - 1], st, sizeof *st) == 0) return false;
    if (set->count == set->most) return !(*full = true);
    set->states[set->count++] = *st;
    set->table[at] = set->count;
    return true;
}

/* The length of a shortest completion from st over all 256 bytes; -1 when the search passed
 * set->most states, -2 when no completion exists. */
static int shortest_completion(state_set *set, critic_json_state st, const critic_json_shape *shape) {
    memset(set->table, 0, (set->mask + 1) * sizeof *set->table);
    set->count = 0;
    bool full = false;
    set_add(set, &st, &full);
    if (critic_json_done(&st)) return 0;
    for (uint32_t begin = 0, end = 1, depth = 1; begin < end; begin = end, end = set->count, depth++)
        for (uint32_t i = begin; i < end; i++)
            for (unsigned b = 0; b < 256; b++) {
                critic_json_state next = set->states[i];
                if (!critic_json_step(shape, &next, (unsigned char)b)) continue;
                if (critic_json_done(&next)) return (int)depth;
                set_add(set, &next, &full);
                if (full) return -1;
            }
    return -2;
}

T2G_HOST_CHECK(json_constraint_close) {
    check_case_begin(ctx);
    state_set set = {.most = 1u << 19, .mask = (1u << 20) - 1};
    set.states = check_host(ctx, set.most * sizeof *set.states);
    set.table = check_host(ctx, (set.mask + 1) * sizeof *set.table);
    const int shapes = ctx->quick ? 2 : 40, per_shape = 6;
    char response[16], out[512];
    int compared = 0, too_big = 0;
    for (int k = 0; k < shapes; k++) {
        size_t rlen = random_response(ctx, response, 8);
        critic_json_options o = random_options(ctx, response, rlen, true);
        critic_json_shape *shape = make_shape(ctx, &o);
        if (!shape) break;
        critic_json_state start = critic_json_start(shape), st;
        uint32_t length = critic_json_close_bytes(shape, &start) + check_random_below(ctx, 30);
        for (int p = 0; p < per_shape; p++) {
            char what[96];
            size_t n = walk_bytes(ctx, shape, length, check_random_below(ctx, length + 1), out, &st, "a prefix");
            snprintf(what, sizeof what, "shape %d (%s), after '%.*s'", k, o.spans_from_response ? "substrings" : "plain",
                     (int)n, out);
            int exact = shortest_completion(&set, st, shape);
            if (exact == -1) {
                too_big++;
                continue;
            }
            compared++;
            check_expect(ctx, exact >= 0 && (uint32_t)exact == critic_json_close_bytes(shape, &st),
                         "%s: close_bytes %u, the search finds %d", what, critic_json_close_bytes(shape, &st), exact);
            check_close_writes(ctx, shape, st, what);
        }
        critic_json_shape_free(shape);
    }
    check_log(ctx, "  close_bytes equal to the search from %d states (%d searches too large, skipped)", compared, too_big);
    check_true(ctx, compared >= (shapes * per_shape) / 2, "most states compared (%d of %d)", compared, shapes * per_shape);
    return ctx->failures;
}

/* ---- tokens ---- */

typedef struct test_vocab {
    uint32_t V;
    char **bytes;      /* [V], NULL: no bytes */
    size_t *len;       /* [V] */
    bool *special;     /* [V] */
    uint32_t stop;
} test_vocab;

static const char *vocab_bytes(void *user, uint32_t id, size_t *len) {
    test_vocab *v = user;
    *len = v->len[id];
    return v->bytes[id];
}

static bool vocab_special(void *user, uint32_t id) { return ((test_vocab *)user)->special[id]; }

static const char *const JSON_PIECES[] = {
    "{", "{\"", "{\n  \"", "\"textual_feedback\"", "textual", "_feedback", "\":", "\": \"", "\",", "\", \"", "\",\n  \"",
    "good_spans", "poor_spans", "\":[", "\": [", "[\"", "[]", "\"]", "\"],", "],", "score", "\":0.", "-", "1", "0", "5",
    "}", "\n}", " ", "  ", "\n", "\t", "\\", "\\\"", "\\n", "\\u00", "\\u", "e9", "41", "\xC3", "\xA9", "\xC3\xA9",
    "\xE2\x82\xAC", "\xF0\x9F", "the", " cat", "said", "a", "b", ".", "...", "\"", "\xFF",
};

/* All 256 bytes at random ids, then `extra` tokens of 1 to 3 pieces (JSON pieces, pieces of
 * RESPONSE_PIECES, random bytes), a few without bytes or special, and a special stop token. */
static test_vocab random_vocab(check_ctx *ctx, uint32_t extra) {
    test_vocab v = {.V = 256 + extra + 1};
    v.bytes = check_host(ctx, v.V * sizeof *v.bytes);
    v.len = check_host(ctx, v.V * sizeof *v.len);
    v.special = check_host(ctx, v.V * sizeof *v.special);
    uint32_t *order = check_host(ctx, v.V * sizeof *order);
    for (uint32_t i = 0; i < v.V; i++) order[i] = i;
    for (uint32_t i = v.V - 1; i > 0; i--) {
        uint32_t j = check_random_below(ctx, i + 1), t = order[i];
        order[i] = order[j], order[j] = t;
    }
    for (uint32_t i = 0; i < v.V; i++) {
        uint32_t id = order[i];
        char *b = v.bytes[id] = check_host(ctx, 48);
        size_t n = 0;
        v.special[id] = false;
        if (i < 256) {
            b[n++] = (char)i;
        } else if (i == v.V - 1) {
            n = (size_t)snprintf(b, 48, "<|im_end|>");
            v.special[id] = true;
            v.stop = id;
        } else {
            for (uint32_t parts = 1 + check_random_below(ctx, 3); parts > 0; parts--) {
                uint32_t kind = check_random_below(ctx, 3);
                const char *p;
                size_t m;
                char random_byte;
                if (kind == 0) {
                    p = JSON_PIECES[check_random_below(ctx, sizeof JSON_PIECES / sizeof JSON_PIECES[0])], m = strlen(p);
                } else if (kind == 1) {
                    const piece *q = &RESPONSE_PIECES[check_random_below(ctx, sizeof RESPONSE_PIECES / sizeof RESPONSE_PIECES[0])];
                    p = q->p, m = q->n;
                } else {
                    random_byte = (char)check_random_below(ctx, 256), p = &random_byte, m = 1;
                }
                if (n + m > 40) break;
                memcpy(b + n, p, m);
                n += m;
            }
            uint32_t odd = check_random_below(ctx, 50);
            if (odd == 0) v.bytes[id] = NULL;
            if (odd == 1) v.special[id] = true;
        }
        v.len[id] = n;
    }
    return v;
}

static critic_vocab *make_vocab(check_ctx *ctx, test_vocab *v) {
    critic_vocab *vocab = NULL;
    check_status(ctx, critic_vocab_create(v->V, vocab_bytes, vocab_special, v, &v->stop, 1, &vocab, &ctx->err),
                 "critic_vocab_create");
    return vocab;
}

/* Whether token t may come next, its bytes stepped one by one. */
static bool naive_allowed(const test_vocab *v, const critic_json_shape *shape, const critic_json_state *state,
                          uint32_t budget, uint32_t t) {
    if (critic_json_done(state)) return t == v->stop;
    if (!v->bytes[t] || v->special[t] || v->len[t] == 0) return false;
    critic_json_state st = *state;
    return feed(shape, &st, v->bytes[t], v->len[t]) == v->len[t] && critic_json_close_bytes(shape, &st) < budget;
}

/* The mask against naive_allowed over every token; returns the mask's count. */
static uint32_t check_mask(check_ctx *ctx, const test_vocab *v, const critic_vocab *vocab, const critic_json_shape *shape,
                           const critic_json_state *st, uint32_t budget, float *logits, const char *what) {
    for (uint32_t t = 0; t < v->V; t++) logits[t] = (float)t;
    uint32_t count = critic_json_mask(vocab, shape, st, budget, logits), finite = 0, differ = 0;
    for (uint32_t t = 0; t < v->V; t++) {
        bool allowed = logits[t] == (float)t;
        finite += allowed;
        if (allowed != naive_allowed(v, shape, st, budget, t) || (!allowed && logits[t] != -INFINITY)) differ++;
    }
    check_expect(ctx, differ == 0 && count == finite, "%s: %u tokens differ from stepping their bytes, count %u of %u "
                 "allowed", what, differ, count, finite);
    return count;
}

/* A random output of tokens: at each step a random token the mask allows. */
static void walk_tokens(check_ctx *ctx, const test_vocab *v, const critic_vocab *vocab, const critic_json_shape *shape,
                        const critic_json_options *o, uint32_t budget, float *logits, const char *what) {
    critic_json_state st = critic_json_start(shape);
    static char out[16384];
    size_t n = 0;
    for (;;) {
        uint32_t count = critic_json_mask(vocab, shape, &st, budget, logits);
        if (!check_expect(ctx, count >= 1, "%s: no token allowed after '%.*s' with budget %u", what, (int)n, out, budget))
            return;
        uint32_t pick = check_random_below(ctx, count), t = 0;
        for (;; t++)
            if (logits[t] != -INFINITY && pick-- == 0) break;
        bool done = critic_json_done(&st);
        if (!check_expect(ctx, critic_json_advance(vocab, shape, &st, t), "%s: the allowed token %u does not advance",
                          what, t))
            return;
        if (done) {
            check_expect(ctx, t == v->stop && count == 1 && critic_json_done(&st), "%s: token %u of %u after the end",
                         what, t, count);
            break;
        }
        if (n + v->len[t] > sizeof out) break;
        memcpy(out + n, v->bytes[t], v->len[t]);
        n += v->len[t];
        budget--;
        for (uint32_t i = 0; i < v->V; i++) logits[i] = 0;
    }
    check_output(ctx, o, out, n, what);
}

T2G_HOST_CHECK(json_constraint_mask) {
    check_case_begin(ctx);
    test_vocab v = random_vocab(ctx, ctx->quick ? 300 : 3000);
    critic_vocab *vocab = make_vocab(ctx, &v);
    if (!vocab) return ctx->failures;
    float *logits = check_host(ctx, v.V * sizeof *logits);
    char response[64], out[4096];
    const int rounds = ctx->quick ? 10 : 120;
    for (int round = 0; round < rounds; round++) {
        size_t rlen = random_response(ctx, response, sizeof response);
        critic_json_options o = random_options(ctx, response, rlen, false);
        critic_json_shape *shape = make_shape(ctx, &o);
        if (!shape) break;
        char what[96];
        critic_json_state start = critic_json_start(shape), st;
        uint32_t least = critic_json_close_bytes(shape, &start);
        /* random states, budgets around what they need */
        for (int k = 0; k < 4; k++) {
            size_t n = walk_bytes(ctx, shape, least + 300, check_random_below(ctx, 200), out, &st, "a prefix");
            uint32_t need = critic_json_close_bytes(shape, &st);
            static const int slack[] = {-1, 0, 1, 2, 5, 60};
            int extra = slack[check_random_below(ctx, 6)];
            uint32_t budget = extra < 0 && need == 0 ? 0 : (uint32_t)((int)need + extra);
            snprintf(what, sizeof what, "round %d, after %zu bytes, budget %u (needs %u)", round, n, budget, need);
            uint32_t count = check_mask(ctx, &v, vocab, shape, &st, budget, logits, what);
            check_expect(ctx, budget < need || count >= 1, "%s: no token allowed", what);
        }
        /* token walks: the tightest budget, then a roomy one */
        for (int roomy = 0; roomy < 2; roomy++) {
            uint32_t budget = least + (roomy ? check_random_below(ctx, 200) : 0);
            snprintf(what, sizeof what, "round %d token walk (%s, budget %u)", round,
                     o.spans_from_response ? "substrings" : "plain", budget);
            for (uint32_t i = 0; i < v.V; i++) logits[i] = 0;
            walk_tokens(ctx, &v, vocab, shape, &o, budget, logits, what);
        }
        critic_json_shape_free(shape);
    }
    critic_json_state st = critic_json_start(NULL);
    check_true(ctx, !critic_json_advance(vocab, NULL, &st, v.stop) && !critic_json_advance(vocab, NULL, &st, v.V),
               "the stop token and an id past V do not advance before the end");
    critic_vocab_free(vocab);

    /* a byte without a one-byte token: the error names it */
    for (int special = 0; special < 2; special++) {
        bool *was_q = check_host(ctx, v.V);
        for (uint32_t id = 0; id < v.V; id++) {
            was_q[id] = v.bytes[id] && v.len[id] == 1 && v.bytes[id][0] == 'q' && !v.special[id];
            if (!was_q[id]) continue;
            if (special)
                v.special[id] = true;
            else
                v.len[id] = 2, v.bytes[id][1] = 'q';
        }
        critic_vocab *missing = NULL;
        t2g_error err = {0};
        t2g_status status = critic_vocab_create(v.V, vocab_bytes, vocab_special, &v, &v.stop, 1, &missing, &err);
        check_true(ctx, status == T2G_ERR_ARGUMENT && missing == NULL && strstr(err.message, "0x71"),
                   "no one-byte token for 'q'%s: an error naming 0x71 (%s)", special ? " but a special one" : "", err.message);
        for (uint32_t id = 0; id < v.V; id++)
            if (was_q[id]) v.special[id] = false, v.len[id] = 1;
    }
    uint32_t past = v.V;
    critic_vocab *bad = NULL;
    t2g_error err = {0};
    check_true(ctx, critic_vocab_create(v.V, vocab_bytes, vocab_special, &v, &past, 1, &bad, &err) == T2G_ERR_ARGUMENT,
               "a stop id past the vocabulary: argument error (%s)", err.message);
    return ctx->failures;
}

/* ---- out of memory ---- */

/* Every allocation of the shape and the vocabulary, made to fail in turn: an out-of-memory
 * error and nothing made. */
T2G_HOST_CHECK(json_constraint_memory) {
    check_case_begin(ctx);
    static const char response[] = "He said \"hi\" to caf\xC3\xA9.";
    critic_json_options o = {.spans_from_response = true, .response = response, .response_len = sizeof response - 1};
    test_vocab v = random_vocab(ctx, 100);
    for (int part = 0; part < 2; part++) {
        critic_json_shape *shape = NULL;
        critic_vocab *vocab = NULL;
        t2g_error err = {0};
        t2g_alloc_fail_at(UINT64_MAX); /* counts only */
        t2g_status status = part == 0 ? critic_json_shape_create(&o, &shape, &err)
                                      : critic_vocab_create(v.V, vocab_bytes, vocab_special, &v, &v.stop, 1, &vocab, &err);
        uint64_t calls = t2g_alloc_calls(), errors = 0;
        t2g_alloc_fail_at(0);
        critic_json_shape_free(shape);
        critic_vocab_free(vocab);
        check_true(ctx, status == T2G_OK && calls >= 3, "%s: %llu allocations", part ? "vocabulary" : "shape",
                   (unsigned long long)calls);
        for (uint64_t n = 1; n <= calls; n++) {
            shape = NULL, vocab = NULL;
            t2g_alloc_fail_at(n);
            status = part == 0 ? critic_json_shape_create(&o, &shape, &err)
                               : critic_vocab_create(v.V, vocab_bytes, vocab_special, &v, &v.stop, 1, &vocab, &err);
            t2g_alloc_fail_at(0);
            errors += status == T2G_ERR_MEMORY && !shape && !vocab && strstr(err.message, "out of memory");
            critic_json_shape_free(shape);
            critic_vocab_free(vocab);
        }
        check_true(ctx, errors == calls, "%s: each of %llu allocations failing is an out-of-memory error (%llu were)",
                   part ? "vocabulary" : "shape", (unsigned long long)calls, (unsigned long long)errors);
    }
    return ctx->failures;
}

/* ---- speed ---- */

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* Mean microseconds per mask over the states of a random walk. */
static double time_masks(check_ctx *ctx, const critic_vocab *vocab, const critic_json_options *o, float *logits,
                         int *masks) {
    critic_json_shape *shape = make_shape(ctx, o);
    if (!shape) return 0;
    static char out[4096];
    critic_json_state st;
    size_t n = walk_bytes(ctx, shape, 3000, 3000, out, &st, "a timed walk");
    double total = 0;
    *masks = 0;
    critic_json_state replay = critic_json_start(shape);
    for (size_t i = 0; i < n; i++) {
        if (i) feed(shape, &replay, out + i - 1, 1);
        double t0 = seconds();
        critic_json_mask(vocab, shape, &replay, 1u << 20, logits);
        total += seconds() - t0;
        ++*masks;
    }
    critic_json_shape_free(shape);
    return *masks ? total / *masks * 1e6 : 0;
}

T2G_HOST_CHECK(json_constraint_speed) {
    check_case_begin(ctx);
    const uint32_t extra = 49152;
    test_vocab v = {.V = 256 + extra + 1};
    v.bytes = check_host(ctx, v.V * sizeof *v.bytes);
    v.len = check_host(ctx, v.V * sizeof *v.len);
    v.special = check_host(ctx, v.V * sizeof *v.special);
    char *pool = check_host(ctx, (size_t)v.V * 16);
    for (uint32_t t = 0; t < v.V; t++) {
        v.bytes[t] = pool + (size_t)t * 16;
        v.special[t] = t == v.V - 1;
        v.len[t] = t < 256 ? 1 : 1 + check_random_below(ctx, 16);
        for (size_t i = 0; i < v.len[t]; i++) v.bytes[t][i] = t < 256 ? (char)t : (char)check_random_below(ctx, 256);
    }
    v.stop = v.V - 1;
    critic_vocab *vocab = make_vocab(ctx, &v);
    if (!vocab) return ctx->failures;
    float *logits = check_host(ctx, v.V * sizeof *logits);
    char response[2048];
    size_t rlen = random_response(ctx, response, sizeof response);
    critic_json_options plain = {0}, quoted = {.spans_from_response = true, .response = response, .response_len = rlen};
    int masks_plain = 0, masks_quoted = 0;
    double plain_us = time_masks(ctx, vocab, &plain, logits, &masks_plain);
    double quoted_us = time_masks(ctx, vocab, &quoted, logits, &masks_quoted);
    /* printable ASCII tokens inside a string: every token's every byte is stepped */
    for (uint32_t t = 256; t < v.V - 1; t++)
        for (size_t i = 0; i < v.len[t]; i++) v.bytes[t][i] = (char)(0x61 + check_random_below(ctx, 26));
    critic_vocab_free(vocab);
    if (!(vocab = make_vocab(ctx, &v))) return ctx->failures;
    critic_json_shape *shape = make_shape(ctx, &plain);
    critic_json_state st = critic_json_start(shape);
    feed(shape, &st, STR "some words", strlen(STR "some words"));
    double t0 = seconds();
    const int reps = 20;
    uint32_t allowed = 0;
    for (int r = 0; r < reps; r++) allowed = critic_json_mask(vocab, shape, &st, 1u << 20, logits);
    double words_us = (seconds() - t0) / reps * 1e6;
    /* every letter token, and the one-byte tokens a string takes: 0x20..0x7F, the leads C2..F4 */
    check_true(ctx, allowed == extra + 96 + 51, "%u tokens allowed inside a string, expected %u", allowed, extra + 96 + 51);
    check_log(ctx, "  mask over %u tokens (49,152 random byte strings of 1-16 bytes, 256 single bytes): %.1f us mean over %d "
              "states of a plain walk, %.1f us over %d of a SUBSTRINGS walk (response of %zu bytes); %.1f us inside a "
              "string with every token lower-case letters", v.V, plain_us, masks_plain, quoted_us, masks_quoted, rlen,
              words_us);
    critic_json_shape_free(shape);
    critic_vocab_free(vocab);
    return ctx->failures;
}
