/* Critics (include/t2g/critic.h): the built-in critics of arith and facts on cases worked out
 * by hand and on random ones, checking that every quoted span is a piece of the response that
 * lands, under the aligner's rule (a repeated phrase takes the first occurrence that no
 * identical phrase listed before it has claimed), on the bytes it judges; and the external
 * critic protocol against tools/example_critic.py and the misbehaving critics of
 * tests/critics/ (slow, crashing, garbage, skipped ids, a command that does not exist),
 * with bounded wall times, retries and statistics, no zombie left, and SIGPIPE harmless. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "t2g/critic.h"

/* ---- helpers ---- */

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* Where each span lands under the aligner's rule for exact matches: the first occurrence that
 * overlaps no occurrence of an identical span listed before it; -1 when it is not a piece of
 * the response. Reading A: identical means the same text; B: the same text and kind (the
 * header leaves it open; the critics must be right under A and, where they can, under B). */
static void land(const char *response, size_t len, const t2g_critique *c, bool by_kind, long *starts) {
    for (uint32_t i = 0; i < c->span_count; i++) {
        const t2g_critique_span *s = &c->spans[i];
        starts[i] = -1;
        for (size_t p = 0; s->len && p + s->len <= len && starts[i] < 0; p++) {
            if (memcmp(response + p, s->text, s->len) != 0) continue;
            bool claimed = false;
            for (uint32_t k = 0; k < i && !claimed; k++)
                claimed = starts[k] >= 0 && c->spans[k].len == s->len && (!by_kind || c->spans[k].kind == s->kind) &&
                          memcmp(c->spans[k].text, s->text, s->len) == 0 && (long)p < starts[k] + (long)s->len &&
                          starts[k] < (long)(p + s->len);
            if (!claimed) starts[i] = (long)p;
        }
    }
}

/* The label of each byte once the spans have landed: P, N or G for the lowest kind of the
 * spans covering it (poor < neutral < good), '.' for none; false when a span does not land. */
static bool labels(const char *response, size_t len, const t2g_critique *c, bool by_kind, char *out) {
    long starts[128];
    if (c->span_count > 128) return false;
    land(response, len, c, by_kind, starts);
    memset(out, '.', len);
    out[len] = 0;
    for (uint32_t i = 0; i < c->span_count; i++) {
        if (starts[i] < 0) return false;
        char mark = c->spans[i].kind == T2G_SPAN_POOR ? 'P' : c->spans[i].kind == T2G_SPAN_NEUTRAL ? 'N' : 'G';
        for (size_t b = (size_t)starts[i]; b < (size_t)starts[i] + c->spans[i].len; b++)
            if (out[b] == '.' || (mark == 'P') || (mark == 'N' && out[b] == 'G')) out[b] = mark;
    }
    return true;
}

/* labels equal want, except where want has '-' (separators: token scores leave them at 0). */
static bool labels_match(const char *got, const char *want, size_t len) {
    for (size_t b = 0; b < len; b++)
        if (want[b] != '-' && want[b] != got[b]) return false;
    return true;
}

static t2g_task_example arith_example(unsigned a, unsigned b) {
    t2g_task_example ex;
    memset(&ex, 0, sizeof ex);
    snprintf(ex.prompt, sizeof ex.prompt, "%u+%u=", a, b);
    snprintf(ex.answer, sizeof ex.answer, "%u", a + b);
    const char *keys[3] = {"a", "b", "sum"};
    unsigned values[3] = {a, b, a + b};
    for (int f = 0; f < 3; f++) {
        snprintf(ex.fields[f].key, sizeof ex.fields[f].key, "%s", keys[f]);
        snprintf(ex.fields[f].value, sizeof ex.fields[f].value, "%u", values[f]);
    }
    ex.field_count = 3;
    return ex;
}

static bool judge_one(check_ctx *ctx, t2g_critic *critic, const t2g_task_example *ex, const char *response, size_t len,
                      t2g_critic_result *result) {
    t2g_critic_request request = {.id = 1, .prompt = ex->prompt, .response = response, .response_len = len, .example = ex};
    return check_status(ctx, t2g_critic_judge(critic, &request, 1, result, &ctx->err), "t2g_critic_judge");
}

static const char *kind_name(t2g_span_kind kind) {
    return kind == T2G_SPAN_GOOD ? "good" : kind == T2G_SPAN_POOR ? "poor" : "neutral";
}

typedef struct expected_span {
    const char *text;
    t2g_span_kind kind;
    long at;
    size_t len; /* 0: strlen(text) */
} expected_span;

/* The critique has exactly these spans, in this order, landing at these offsets. */
static void expect_spans(check_ctx *ctx, const char *label, const char *response, size_t len, const t2g_critique *c,
                         const expected_span *want, uint32_t count) {
    long starts[64];
    if (!check_true(ctx, c->span_count == count && count <= 64, "%s: %u spans, expected %u", label, c->span_count, count))
        return;
    long starts_b[64];
    land(response, len, c, false, starts);
    land(response, len, c, true, starts_b);
    for (uint32_t i = 0; i < count; i++)
        check_true(ctx, starts[i] == starts_b[i], "%s: span %u lands at %ld and %ld under the two readings", label, i,
                   starts[i], starts_b[i]);
    for (uint32_t i = 0; i < count; i++) {
        size_t n = want[i].len ? want[i].len : strlen(want[i].text);
        check_true(ctx,
                   c->spans[i].len == n && memcmp(c->spans[i].text, want[i].text, n) == 0 && c->spans[i].kind == want[i].kind &&
                       starts[i] == want[i].at,
                   "%s: span %u is %s '%.*s' landing at %ld, expected %s '%s' at %ld", label, i,
                   kind_name(c->spans[i].kind), (int)c->spans[i].len, c->spans[i].text, starts[i],
                   kind_name(want[i].kind), want[i].len ? "(bytes)" : want[i].text, want[i].at);
    }
}

/* ---- built-in arith ---- */

typedef struct arith_case {
    unsigned a, b;
    const char *response;
    size_t len; /* 0: strlen */
    double score;
    const char *says[3];
    const char *labels;  /* per byte: G good, P poor, . none, - either (a separator) */
    bool only_a;         /* right under reading A only (see land) */
} arith_case;

static const arith_case ARITH_CASES[] = {
    {347, 589, "936", 0, 1.0, {"The answer 936 is correct."}, "GGG", false},
    {347, 589, " 936\n", 0, 1.0, {"correct"}, "-GGG-", false},
    {347, 589, "946", 0, 1.0 / 3, {"The answer 946 is wrong", "the tens digit should be 3, not 4", "is 936."}, "GPG", false},
    /* repeated digits: each mark lands on its own occurrence */
    {555, 556, "1211", 0, 0.5, {"the hundreds digit should be 1, not 2"}, "GPGG", false},
    {499, 499, "988", 0, 1.0 / 3, {"the tens digit should be 9, not 8"}, "GPG", false},
    {3, 4, "777", 0, -1.0 / 3, {"too long", "the hundreds digit (7) and the tens digit (7) should not be there"}, "PPG", false},
    /* a poor 8 after a good 8: only claims by text put it on the second 8 */
    {409, 409, "888", 0, 1.0 / 3, {"the tens digit should be 1, not 8"}, "GPG", true},
    /* too short, too long */
    {347, 589, "36", 0, 1.0 / 3, {"too short", "lacks the hundreds digit (9)"}, "GG", false},
    {7, 5, "2", 0, 0.0, {"too short", "lacks the tens digit (1)", "The correct answer is 12."}, "G", false},
    {347, 589, "1936", 0, 0.5, {"too long", "the thousands digit (1) should not be there"}, "PGGG", false},
    /* garbage */
    {347, 589, "93x", 0, -1.0, {"the units digit should be 6, not 3", "not part of the answer"}, "PPP", false},
    {347, 589, "abc", 0, -1.0, {"no number", "936"}, "PPP", false},
    {347, 589, "", 0, -1.0, {"no number"}, "", false},
    {347, 589, "936 936", 0, 2.0 / 3, {"is right, but"}, "GGG-PPP", false},
    {5, 6, "11 11", 0, 0.5, {"is right"}, "GG-PP", false},
    {347, 589, "9\0\37736", 5, -1.0, {"the units digit should be 6, not 9"}, "PPPPP", false},
};

T2G_HOST_CHECK(critic_builtin_arith) {
    const t2g_task *arith = t2g_task_find("arith");
    t2g_critic *critic = NULL;
    t2g_error err = {0};
    check_true(ctx, t2g_critic_builtin(NULL, &critic, &err) == T2G_ERR_ARGUMENT && strstr(err.message, "arith"),
               "no task: refused, naming the tasks that have a critic (%s)", err.message);
    if (!check_status(ctx, t2g_critic_builtin(arith, &critic, &ctx->err), "t2g_critic_builtin(arith)")) return 1;

    for (size_t c = 0; c < sizeof ARITH_CASES / sizeof ARITH_CASES[0]; c++) {
        const arith_case *k = &ARITH_CASES[c];
        t2g_task_example ex = arith_example(k->a, k->b);
        size_t len = k->len ? k->len : strlen(k->response);
        char label[640];
        snprintf(label, sizeof label, "%s '%.*s'", ex.prompt, (int)strnlen(k->response, 20), k->response);
        t2g_critic_result r;
        if (!judge_one(ctx, critic, &ex, k->response, len, &r)) continue;
        check_true(ctx, r.ok && r.attempts == 1, "%s: judged", label);
        /* what is missing is penalised on the last token: -1 per missing digit */
        char answer[32];
        int A = snprintf(answer, sizeof answer, "%d", k->a + k->b);
        size_t skip = 0, D = 0;
        while (skip < len && (k->response[skip] == ' ' || k->response[skip] == '\n')) skip++;
        while (skip + D < len && k->response[skip + D] >= '0' && k->response[skip + D] <= '9') D++;
        double final = (int)D < A ? -(double)(A - (int)D) : 0.0;
        check_true(ctx, fabs(r.score - k->score) < 1e-12 && fabs(r.final_score - final) < 1e-12,
                   "%s: score %.6f, expected %.6f (final %g, expected %g)", label, r.score, k->score, r.final_score,
                   final);
        check_true(ctx, r.critique.has_score && r.critique.score == r.score, "%s: the critique carries the score", label);
        check_true(ctx, r.critique.format == T2G_CRITIQUE_SPANS, "%s: spans format", label);
        for (int s = 0; s < 3 && k->says[s]; s++)
            check_true(ctx, r.critique.feedback && strstr(r.critique.feedback, k->says[s]), "%s: the text says '%s': \"%s\"",
                       label, k->says[s], r.critique.feedback ? r.critique.feedback : "(null)");
        char got_a[64], got_b[64];
        bool landed = labels(k->response, len, &r.critique, false, got_a) && labels(k->response, len, &r.critique, true, got_b);
        check_true(ctx, landed && labels_match(got_a, k->labels, len), "%s: marks %s (text claims), expected %s", label,
                   got_a, k->labels);
        if (k->only_a)
            check_log(ctx, "  %s: marks %s when claims go by text and kind (a known limit)\n", label, got_b);
        else
            check_true(ctx, landed && labels_match(got_b, k->labels, len), "%s: marks %s (text and kind claims), expected %s",
                       label, got_b, k->labels);
        t2g_critic_result_free(&r);
    }

    /* Random answers and mistakes: every digit quoted once, on itself, good exactly when it is
     * the answer's digit of that place; garbage poor; scores in range; deterministic. */
    int bad = 0;
    for (int t = 0; t < 400 && bad < 5; t++) {
        unsigned a = check_random_below(ctx, 1000), b = check_random_below(ctx, 1000);
        t2g_task_example ex = arith_example(a, b);
        char response[64];
        size_t len = 0;
        for (uint32_t s = check_random_below(ctx, 3); s > 0; s--)
            response[len++] = ' ';
        size_t digits_at = len, answer_len = strlen(ex.answer);
        uint32_t shape = check_random_below(ctx, 4);
        size_t nd = shape == 0 ? answer_len : 1 + check_random_below(ctx, 6);
        for (size_t i = 0; i < nd; i++) {
            /* mostly the answer's digit of that place, sometimes another */
            size_t place = nd - 1 - i;
            char right = place < answer_len ? ex.answer[answer_len - 1 - place] : '1';
            response[len++] = check_random_below(ctx, 3) ? right : (char)('0' + check_random_below(ctx, 10));
        }
        size_t digits_end = len;
        if (shape == 3) {
            const char *tails[] = {" x", "abc", "\n12", " 936", "+1", "9"};
            const char *tail = tails[check_random_below(ctx, 6)];
            if (tail[0] >= '0' && tail[0] <= '9') tail = "z9"; /* a digit would extend the number */
            memcpy(response + len, tail, strlen(tail));
            len += strlen(tail);
        }
        for (uint32_t s = check_random_below(ctx, 2); s > 0; s--)
            response[len++] = '\n';
        t2g_critic_result r, again;
        if (!judge_one(ctx, critic, &ex, response, len, &r)) return 1;
        if (!judge_one(ctx, critic, &ex, response, len, &again)) return 1;
        bool exact = digits_end - digits_at == answer_len && memcmp(response + digits_at, ex.answer, answer_len) == 0 &&
                     shape != 3;
        bool ok = r.ok && (exact ? r.score == 1.0 : r.score >= -1.0 && r.score < 1.0);
        bool same = r.critique.span_count == again.critique.span_count && r.score == again.score &&
                    strcmp(r.critique.feedback, again.critique.feedback) == 0;
        for (uint32_t s = 0; same && s < r.critique.span_count; s++)
            same = r.critique.spans[s].len == again.critique.spans[s].len &&
                   memcmp(r.critique.spans[s].text, again.critique.spans[s].text, r.critique.spans[s].len) == 0;
        /* The marks wanted: each digit good exactly when it is the answer's digit of its place,
         * the rest of the trimmed response poor. */
        char want[64], got_a[64], got_b[64];
        memset(want, '-', len);
        want[len] = 0;
        bool only_a = false;
        for (size_t i = 0; i < nd; i++) {
            size_t place = nd - 1 - i;
            bool right = place < answer_len && response[digits_at + i] == ex.answer[answer_len - 1 - place];
            want[digits_at + i] = right ? 'G' : 'P';
            for (size_t k = 0; k < i && !right; k++)
                only_a = only_a || response[digits_at + k] == response[digits_at + i];
        }
        for (size_t i = digits_end; i < len; i++)
            if (response[i] != ' ' && response[i] != '\n') want[i] = 'P';
        /* garbage that repeats text before it (" 936 936") lands there when claims go by text
         * and kind (builtin_arith.c: a known limit of quotes) */
        size_t g = digits_end, g_end = len;
        while (g < g_end && (response[g] == ' ' || response[g] == '\n')) g++;
        while (g_end > g && (response[g_end - 1] == ' ' || response[g_end - 1] == '\n')) g_end--;
        for (size_t at = 0; g < g_end && at < g && !only_a; at++)
            only_a = at + (g_end - g) <= len && memcmp(response + at, response + g, g_end - g) == 0;
        ok = ok && labels(response, len, &r.critique, false, got_a) && labels_match(got_a, want, len);
        ok = ok && labels(response, len, &r.critique, true, got_b) && (only_a || labels_match(got_b, want, len));
        if (!check_expect(ctx, ok && same,
                          "random case %s '%.*s': marks %s / %s, expected %s; score %g; deterministic %d", ex.prompt,
                          (int)len, response, got_a, got_b, want, r.score, same))
            bad++;
        t2g_critic_result_free(&r);
        t2g_critic_result_free(&again);
    }
    check_true(ctx, bad == 0, "400 random responses: spans land on their digits, scores in range, deterministic");

    /* Bad requests: no example; an example that is not arith's. */
    t2g_critic_result r;
    t2g_critic_request request = {.id = 9, .prompt = "1+1=", .response = "2", .response_len = 1};
    check_true(ctx, t2g_critic_judge(critic, &request, 1, &r, &err) == T2G_ERR_ARGUMENT && strstr(err.message, "example") &&
                        strstr(err.message, "id 9"),
               "no example: refused (%s)", err.message);
    t2g_task_example facts_ex;
    t2g_task_example_at(t2g_task_find("facts"), 1, 0, &facts_ex);
    request.example = &facts_ex;
    check_true(ctx, t2g_critic_judge(critic, &request, 1, &r, &err) == T2G_ERR_ARGUMENT && strstr(err.message, "not a number"),
               "a facts example given to the arith critic: refused (%s)", err.message);
    const t2g_critic_stats *stats = t2g_critic_get_stats(critic);
    check_true(ctx, stats->judged > 0 && stats->failed == 0 && stats->timeouts == 0, "stats count the judged samples");
    t2g_critic_destroy(critic);
    t2g_critic_destroy(NULL);
    return ctx->failures;
}

/* ---- built-in facts ---- */

static t2g_task_example facts_example(const char *const *pairs, uint32_t count) {
    t2g_task_example ex;
    memset(&ex, 0, sizeof ex);
    for (uint32_t f = 0; f < count; f++) {
        snprintf(ex.fields[f].key, sizeof ex.fields[f].key, "%s", pairs[2 * f]);
        snprintf(ex.fields[f].value, sizeof ex.fields[f].value, "%s", pairs[2 * f + 1]);
    }
    ex.field_count = count;
    snprintf(ex.prompt, sizeof ex.prompt, "a record\nSummary: ");
    return ex;
}

#define SPAN(text, kind, at) {text, kind, at, 0}
#define G T2G_SPAN_GOOD
#define P T2G_SPAN_POOR

typedef struct facts_case {
    const char *response;
    double score, final_score;
    const char *says[3];
    uint32_t span_count;
    expected_span spans[8];
} facts_case;

static const facts_case FACTS_CASES[] = {
    {"Ada is a chef from Oslo who has a cat.", 1.0, 0.0, {"every fact"}, 4,
     {SPAN("Ada", G, 0), SPAN("chef", G, 9), SPAN("Oslo", G, 19), SPAN("cat", G, 34)}},
    {"Ada is a chef from Paris who has a cat.", 0.5, 0.0, {"The city is Oslo, not Paris."}, 4,
     {SPAN("Ada", G, 0), SPAN("chef", G, 9), SPAN("Paris", P, 19), SPAN("cat", G, 35)}},
    {"Ada is a chef from Oslo who has a cat and likes red.", 0.75, 0.0, {"red", "made up"}, 5,
     {SPAN("Ada", G, 0), SPAN("chef", G, 9), SPAN("Oslo", G, 19), SPAN("cat", G, 34), SPAN("red", P, 48)}},
    /* what is left out costs its value's bytes on the last token, as if said wrong */
    {"Ada is a chef from Oslo.", 0.75, -3.0, {"It does not mention the pet (cat)."}, 3,
     {SPAN("Ada", G, 0), SPAN("chef", G, 9), SPAN("Oslo", G, 19)}},
    /* case folded, quoted as written; "Adam" is not "Ada": the quote widens to land on "Ada".
     * Words that are neither values nor the templates' words are quoted as poor, in runs of
     * such words in a row, and each distinct run costs as much as a wrong value. */
    {"Adam knows ADA, a CHEF in oslo with a CAT.", 1.0 - 0.5, 0.0,
     {"\"Adam knows\" does not belong in a summary", "\"with\" does not belong"}, 6,
     {SPAN("Adam knows", P, 0), SPAN("ADA", G, 11), SPAN("CHEF", G, 18), SPAN("oslo", G, 26), SPAN("with", P, 31),
      SPAN("CAT", G, 38)}},
    {"Adam knows Ada, a chef in Oslo with a cat.", 1.0 - 0.5, 0.0, {"It states Ada, Oslo, chef and cat correctly."}, 6,
     {SPAN("Adam knows", P, 0), SPAN("Ada,", G, 11), SPAN("chef", G, 18), SPAN("Oslo", G, 26), SPAN("with", P, 31),
      SPAN("cat", G, 38)}},
    {"Ada zzq is a chef zzq from Oslo who has a cat.", 1.0 - 0.25, 0.0, {"\"zzq\" does not belong"}, 6,
     {SPAN("Ada", G, 0), SPAN("zzq", P, 4), SPAN("chef", G, 13), SPAN("zzq", P, 18), SPAN("Oslo", G, 27), SPAN("cat", G, 42)}},
    /* a wrong pet and a wrong job said twice: each distinct wrong value counts once */
    {"Ada, a baker, has a dog; the baker is from Oslo.", 0.5 - 0.75, -0.0,
     {"The job is chef, not baker.", "The pet is cat, not dog.", "\"; the\" does not belong"}, 6,
     {SPAN("Ada", G, 0), SPAN("baker", P, 7), SPAN("dog", P, 20), SPAN("; the", P, 23), SPAN("baker", P, 29),
      SPAN("Oslo", G, 43)}},
    {"", 0.0, -14.0, {"It does not mention the name (Ada).", "It does not mention the pet (cat)."}, 0, {{0}}},
};

T2G_HOST_CHECK(critic_builtin_facts) {
    const t2g_task *facts = t2g_task_find("facts");
    t2g_critic *critic = NULL;
    if (!check_status(ctx, t2g_critic_builtin(facts, &critic, &ctx->err), "t2g_critic_builtin(facts)")) return 1;
    const char *const record[] = {"name", "Ada", "city", "Oslo", "job", "chef", "pet", "cat"};
    t2g_task_example ex = facts_example(record, 4);
    for (size_t c = 0; c < sizeof FACTS_CASES / sizeof FACTS_CASES[0]; c++) {
        const facts_case *k = &FACTS_CASES[c];
        size_t len = strlen(k->response);
        char label[96];
        snprintf(label, sizeof label, "'%s'", k->response);
        t2g_critic_result r;
        if (!judge_one(ctx, critic, &ex, k->response, len, &r)) continue;
        check_true(ctx, r.ok, "%s: judged", label);
        check_true(ctx, fabs(r.score - k->score) < 1e-12 && fabs(r.final_score - k->final_score) < 1e-12,
                   "%s: score %g final %g, expected %g and %g", label, r.score, r.final_score, k->score, k->final_score);
        for (int s = 0; s < 3 && k->says[s]; s++)
            check_true(ctx, strstr(r.critique.feedback, k->says[s]) != NULL, "%s: the text says '%s': \"%s\"", label,
                       k->says[s], r.critique.feedback);
        expect_spans(ctx, label, k->response, len, &r.critique, k->spans, k->span_count);
        t2g_critic_result_free(&r);
    }

    /* Generated records: the reference answer is all right; another record's answer is judged
     * consistently with the task's own fact metrics. */
    uint64_t seed = check_random_u64(ctx);
    int bad = 0;
    for (uint64_t i = 0; i < 60 && bad < 5; i++) {
        t2g_task_example mine, other;
        t2g_task_example_at(facts, seed, i, &mine);
        t2g_task_example_at(facts, seed, i + 1000, &other);
        t2g_critic_result r;
        if (!judge_one(ctx, critic, &mine, mine.answer, strlen(mine.answer), &r)) return 1;
        bool ok = r.ok && r.score == 1.0 && r.final_score == 0.0 && r.critique.span_count >= mine.field_count;
        for (uint32_t s = 0; ok && s < r.critique.span_count; s++)
            ok = r.critique.spans[s].kind == G;
        if (!check_expect(ctx, ok, "'%s' for '%s': score %g final %g, %u spans (all good expected)", mine.answer, mine.prompt,
                     r.score, r.final_score, r.critique.span_count)) bad++;
        t2g_critic_result_free(&r);

        if (!judge_one(ctx, critic, &mine, other.answer, strlen(other.answer), &r)) return 1;
        t2g_task_metrics m;
        t2g_task_score(facts, &mine, other.answer, strlen(other.answer), &m);
        long starts[64];
        land(other.answer, strlen(other.answer), &r.critique, false, starts);
        uint32_t good = 0, poor = 0;
        ok = r.ok && r.critique.span_count <= 64;
        for (uint32_t s = 0; ok && s < r.critique.span_count; s++) {
            ok = starts[s] >= 0 && (s == 0 || starts[s] > starts[s - 1]);
            good += r.critique.spans[s].kind == G;
            poor += r.critique.spans[s].kind == P;
        }
        /* score = recall - wrong/fields: at most recall, and the same when nothing is poor */
        double recall = m.values[3];
        double all_values = 0;
        for (uint32_t f = 0; f < mine.field_count; f++) all_values += (double)strlen(mine.fields[f].value);
        ok = ok && r.score <= recall + 1e-12 && r.score >= -1.0 && (poor > 0 || fabs(r.score - recall) < 1e-12) &&
             r.final_score <= 0 && r.final_score >= -all_values && (poor == 0) == (m.values[2] == 1.0);
        if (!check_expect(ctx, ok, "'%s' for '%s': score %g (recall %g, precision %g), %u good, %u poor spans", other.answer,
                     mine.prompt, r.score, recall, m.values[2], good, poor)) bad++;
        t2g_critic_result_free(&r);
    }
    check_true(ctx, bad == 0, "60 generated records: reference answers all good, others consistent with fact metrics");

    t2g_critic_result r;
    t2g_critic_request request = {.id = 4, .prompt = "x", .response = "Ada", .response_len = 3, .example = NULL};
    check_true(ctx, t2g_critic_judge(critic, &request, 1, &r, &ctx->err) == T2G_ERR_ARGUMENT, "no example: refused");
    t2g_task_example empty = facts_example(record, 0);
    request.example = &empty;
    check_true(ctx, t2g_critic_judge(critic, &request, 1, &r, &ctx->err) == T2G_ERR_ARGUMENT &&
                        strstr(ctx->err.message, "0 fields"),
               "a record with no field: refused (%s)", ctx->err.message);
    memset(&ctx->err, 0, sizeof ctx->err);
    t2g_critic_destroy(critic);
    return ctx->failures;
}

/* ---- external critics ---- */

/* Our children that are zombies (Linux /proc); -1 when it cannot be told. */
static int zombie_children(void) {
    DIR *proc = opendir("/proc");
    if (!proc) return -1;
    int zombies = 0;
    struct dirent *e;
    while ((e = readdir(proc))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = 0;
        char *close_paren = strrchr(buf, ')');
        char state;
        int ppid;
        if (close_paren && sscanf(close_paren + 1, " %c %d", &state, &ppid) == 2 && ppid == (int)getpid() && state == 'Z')
            zombies++;
    }
    closedir(proc);
    return zombies;
}

/* No child left at all (after destroy). */
static bool no_children(void) {
    int status;
    return waitpid(-1, &status, WNOHANG) < 0 && errno == ECHILD;
}

static bool have_python(check_ctx *ctx) {
    return check_true(ctx, system("command -v python3 >/dev/null 2>&1") == 0,
                      "python3 is on PATH (the external critic tests run python critics)");
}

typedef struct batch {
    t2g_task_example *examples;
    t2g_critic_request *requests;
    t2g_critic_result *results;
    char (*responses)[32];
} batch;

/* The attempts of results[0..n): how bounded a call was, counted instead of timed (a clock
 * fails on a loaded machine). */
static uint64_t attempts(const batch *b, uint32_t n) {
    uint64_t sum = 0;
    for (uint32_t i = 0; i < n; i++) sum += b->results[i].attempts;
    return sum;
}

/* n arith samples with ids ids[i] (or i when ids is NULL): responses right for i % 3 == 0,
 * else the answer with its last digit changed. */
static batch arith_batch(check_ctx *ctx, uint32_t n, const uint64_t *ids) {
    batch b = {check_host(ctx, n * sizeof *b.examples), check_host(ctx, n * sizeof *b.requests),
               check_host(ctx, n * sizeof *b.results), check_host(ctx, n * sizeof *b.responses)};
    const t2g_task *arith = t2g_task_find("arith");
    for (uint32_t i = 0; i < n; i++) {
        t2g_task_example_at(arith, 77, i, &b.examples[i]);
        /* an arith answer is at most 4 digits: the copy is never cut */
        snprintf(b.responses[i], sizeof b.responses[i], "%.*s", (int)(sizeof b.responses[i] - 1), b.examples[i].answer);
        if (i % 3) {
            size_t last = strlen(b.responses[i]) - 1;
            b.responses[i][last] = (char)('0' + (b.responses[i][last] - '0' + 1 + i % 7) % 10);
        }
        b.requests[i] = (t2g_critic_request){.id = ids ? ids[i] : i, .prompt = b.examples[i].prompt,
                                             .response = b.responses[i], .response_len = strlen(b.responses[i]),
                                             .example = &b.examples[i]};
    }
    return b;
}

static t2g_critic *external(check_ctx *ctx, const char *command, uint32_t workers, uint32_t timeout_ms, uint32_t retries) {
    t2g_external_critic_options options = {.command = command, .workers = workers, .timeout_ms = timeout_ms,
                                           .retries = retries};
    t2g_critic *critic = NULL;
    if (!check_status(ctx, t2g_critic_external(&options, &critic, &ctx->err), command)) return NULL;
    return critic;
}

static void free_results(t2g_critic_result *results, uint32_t n) {
    for (uint32_t i = 0; i < n; i++)
        t2g_critic_result_free(&results[i]);
}

/* results[i].critique says "reply to id <requests[i].id>". */
static bool replies_match(const batch *b, uint32_t i) {
    char want[64];
    snprintf(want, sizeof want, "reply to id %llu", (unsigned long long)b->requests[i].id);
    return b->results[i].ok && b->results[i].critique.feedback && strcmp(b->results[i].critique.feedback, want) == 0;
}

T2G_HOST_CHECK(critic_external_ok) {
    if (!have_python(ctx)) return ctx->failures;
    char command[4600];
    snprintf(command, sizeof command, "python3 '%s/tools/example_critic.py'", check_source_dir());
    enum { N = 40 };
    /* ids out of order, far apart: results must follow the requests, not the ids */
    uint64_t ids[N];
    for (uint32_t i = 0; i < N; i++)
        ids[i] = 1000000 - 7919ull * i + (i % 2) * 3;
    batch b = arith_batch(ctx, N, ids);
    /* a request that is not a sum, with bytes JSON must escape or replace */
    static const char odd[] = "quote \" backslash \\ newline \n tab \t NUL \0 bad \xff\xfe end";
    b.requests[N - 1].prompt = "name=Ada; city=Oslo\nSummary: ";
    b.requests[N - 1].response = odd;
    b.requests[N - 1].response_len = sizeof odd - 1;

    t2g_critic *critic = external(ctx, command, 3, 20000, 1);
    if (!critic) return 1;
    double start = seconds();
    if (!check_status(ctx, t2g_critic_judge(critic, b.requests, N, b.results, &ctx->err), "judge 40 samples")) {
        t2g_critic_destroy(critic);
        return 1;
    }
    double took = seconds() - start;
    int bad = 0;
    for (uint32_t i = 0; i + 1 < N; i++) {
        const t2g_critic_result *r = &b.results[i];
        char says[96];
        if (i % 3 == 0)
            snprintf(says, sizeof says, "The answer %s is correct.", b.responses[i]);
        else
            snprintf(says, sizeof says, "The answer %s is wrong", b.responses[i]);
        bool ok = r->ok && r->attempts == 1 && strstr(r->critique.feedback, says) &&
                  (i % 3 == 0 ? r->score == 1.0 : r->score < 1.0) && r->critique.span_count >= 1;
        if (!check_expect(ctx, ok, "sample %u (id %llu, '%s' for %s): ok %d, score %g, \"%s\"", i,
                     (unsigned long long)b.requests[i].id, b.responses[i], b.examples[i].prompt, r->ok, r->score,
                     r->ok ? r->critique.feedback : r->error)) bad++;
    }
    check_true(ctx, bad == 0, "40 samples on 3 workers: each result answers its own request (%d wrong)", bad);
    const t2g_critic_result *last = &b.results[N - 1];
    check_true(ctx, last->ok && last->score == 0.0 && last->critique.span_count == 0 && strstr(last->critique.feedback, "no opinion"),
               "a response with quotes, newlines, NUL and invalid UTF-8 is sent and judged");
    const t2g_critic_stats *stats = t2g_critic_get_stats(critic);
    check_true(ctx,
               stats->judged == N && stats->failed == 0 && stats->retries == 0 && stats->crashes == 0 &&
                   stats->garbage == 0 && stats->timeouts == 0 && stats->missing == 0,
               "stats: %llu judged, %llu failed, %llu retries, %llu crashes, %llu garbage", (unsigned long long)stats->judged,
               (unsigned long long)stats->failed, (unsigned long long)stats->retries, (unsigned long long)stats->crashes,
               (unsigned long long)stats->garbage);
    free_results(b.results, N);
    /* the same processes judge a second call */
    if (check_status(ctx, t2g_critic_judge(critic, b.requests, 5, b.results, &ctx->err), "a second call")) {
        check_true(ctx, b.results[0].ok && b.results[4].ok && stats->judged == N + 5 && stats->crashes == 0,
                   "a second call is judged by the same processes");
        free_results(b.results, 5);
    }
    /* ids must be distinct and exact in JSON */
    b.requests[1].id = b.requests[0].id;
    check_true(ctx, t2g_critic_judge(critic, b.requests, 3, b.results, &ctx->err) == T2G_ERR_ARGUMENT &&
                        strstr(ctx->err.message, "twice"),
               "a repeated id is refused (%s)", ctx->err.message);
    b.requests[1].id = 1ull << 60;
    check_true(ctx, t2g_critic_judge(critic, b.requests, 3, b.results, &ctx->err) == T2G_ERR_ARGUMENT &&
                        strstr(ctx->err.message, "2^53"),
               "an id beyond 2^53 is refused (%s)", ctx->err.message);
    memset(&ctx->err, 0, sizeof ctx->err);
    check_true(ctx, zombie_children() <= 0, "no zombie while the critic runs");
    double stop = seconds();
    t2g_critic_destroy(critic);
    check_true(ctx, no_children(), "destroy stops and reaps every process");
    check_log(ctx, "40 samples in %.2f s; destroy %.3f s\n", took, seconds() - stop);
    return ctx->failures;
}

T2G_HOST_CHECK(critic_external_slow) {
    char command[4600];
    snprintf(command, sizeof command, "sh '%s/tests/critics/slow.sh' 2,5", check_source_dir());
    enum { N = 8 };
    batch b = arith_batch(ctx, N, NULL);
    t2g_critic *critic = external(ctx, command, 2, 2000, 1);
    if (!critic) return 1;
    double start = seconds();
    t2g_status status = t2g_critic_judge(critic, b.requests, N, b.results, &ctx->err);
    double took = seconds() - start;
    check_status(ctx, status, "judge with a critic that stalls on ids 2 and 5");
    for (uint32_t i = 0; i < N && status == T2G_OK; i++) {
        if (i == 2 || i == 5)
            check_true(ctx, !b.results[i].ok && b.results[i].attempts == 2 && strstr(b.results[i].error, "timeout after 2000 ms"),
                       "id %u: skipped after 2 attempts (%s)", i, b.results[i].error);
        else
            check_true(ctx, replies_match(&b, i), "id %u: judged (%s)", i, b.results[i].ok ? b.results[i].critique.feedback : b.results[i].error);
    }
    const t2g_critic_stats *stats = t2g_critic_get_stats(critic);
    check_true(ctx, stats->timeouts == 4 && stats->failed == 2 && stats->judged == 6 && stats->retries == 2,
               "stats: %llu timeouts, %llu failed, %llu judged, %llu retries (expected 4, 2, 6, 2)",
               (unsigned long long)stats->timeouts, (unsigned long long)stats->failed, (unsigned long long)stats->judged,
               (unsigned long long)stats->retries);
    check_true(ctx, attempts(&b, N) == N + 2, "bounded: %llu attempts for %u samples, two stalled ones tried twice (%.2f s)",
               (unsigned long long)attempts(&b, N), N, took);
    free_results(b.results, N);
    t2g_critic_destroy(critic);

    /* A critic that never answers: every sample skipped, destroy quick despite its sleep. */
    char marker[512];
    snprintf(marker, sizeof marker, "/tmp/t2g-slow-critic-%ld.done", (long)getpid());
    remove(marker);
    snprintf(command, sizeof command, "sh '%.4000s/tests/critics/slow.sh' all; touch '%.200s'", check_source_dir(), marker);
    critic = external(ctx, command, 3, 200, 0);
    if (!critic) return 1;
    start = seconds();
    status = t2g_critic_judge(critic, b.requests, N, b.results, &ctx->err);
    took = seconds() - start;
    check_status(ctx, status, "judge with a critic that never answers");
    uint32_t skipped = 0;
    for (uint32_t i = 0; i < N; i++)
        skipped += !b.results[i].ok && strstr(b.results[i].error, "timeout") != NULL;
    check_true(ctx, skipped == N, "every sample skipped with a timeout (%u of %u)", skipped, N);
    /* 8 samples, 3 workers, one at a time blamed per worker: each timed out once */
    check_true(ctx, attempts(&b, N) == N && t2g_critic_get_stats(critic)->timeouts == N,
               "bounded: one attempt and one timeout per sample (%llu attempts, %llu timeouts, %.2f s)",
               (unsigned long long)attempts(&b, N), (unsigned long long)t2g_critic_get_stats(critic)->timeouts, took);
    t2g_critic_destroy(critic);
    /* a critic left to finish its 30 s sleep would then reach the end of its input and exit
     * normally, running `touch`: killed, it never does */
    check_true(ctx, no_children() && access(marker, F_OK) != 0, "destroy kills a sleeping critic (no %s)", marker);
    remove(marker);
    return ctx->failures;
}

T2G_HOST_CHECK(critic_external_crash) {
    if (!have_python(ctx)) return ctx->failures;
    char command[4600];
    enum { N = 20 };
    batch b = arith_batch(ctx, N, NULL);
    const char *modes[2] = {"3", "2 partial"};
    for (int m = 0; m < 2; m++) {
        snprintf(command, sizeof command, "python3 '%s/tests/critics/crash.py' %s", check_source_dir(), modes[m]);
        t2g_critic *critic = external(ctx, command, 2, 5000, 2);
        if (!critic) return 1;
        double start = seconds();
        t2g_status status = t2g_critic_judge(critic, b.requests, N, b.results, &ctx->err);
        double took = seconds() - start;
        check_status(ctx, status, command);
        uint32_t matched = 0, retried = 0;
        for (uint32_t i = 0; i < N && status == T2G_OK; i++) {
            matched += replies_match(&b, i);
            retried += b.results[i].attempts > 1;
        }
        const t2g_critic_stats *stats = t2g_critic_get_stats(critic);
        check_true(ctx, matched == N, "%s: every sample judged by its own reply (%u of %u)", modes[m], matched, N);
        check_true(ctx, stats->crashes >= 5 && stats->judged == N && stats->failed == 0 && stats->retries == retried &&
                            retried >= 1,
                   "%s: %llu crashes, %llu judged, %llu retries (%u samples retried)", modes[m],
                   (unsigned long long)stats->crashes, (unsigned long long)stats->judged,
                   (unsigned long long)stats->retries, retried);
        int zombies = zombie_children();
        check_true(ctx, zombies <= 0, "%s: crashed processes were reaped (%d zombies)", modes[m], zombies);
        check_log(ctx, "%s: %.2f s, %llu crashes\n", modes[m], took, (unsigned long long)stats->crashes);
        free_results(b.results, N);
        t2g_critic_destroy(critic);
        check_true(ctx, no_children(), "%s: no process left", modes[m]);
    }

    /* A critic that exits before answering anything: the call fails, quickly, saying so. */
    t2g_critic *critic = external(ctx, "exit 3", 2, 5000, 2);
    if (!critic) return 1;
    double start = seconds();
    t2g_status status = t2g_critic_judge(critic, b.requests, N, b.results, &ctx->err);
    check_true(ctx, status == T2G_ERR_IO && strstr(ctx->err.message, "never answered") && strstr(ctx->err.message, "exit status 3"),
               "a critic that only exits: T2G_ERR_IO (%s)", ctx->err.message);
    check_true(ctx, !b.results[0].ok && !b.results[N - 1].ok && b.results[N - 1].error[0], "every sample not ok");
    {
        const t2g_critic_stats *st = t2g_critic_get_stats(critic);
        check_true(ctx, attempts(&b, N) <= N && st->crashes <= 3,
                   "and after at most retries + 1 deaths (%llu crashes, %llu attempts; %.2f s)",
                   (unsigned long long)st->crashes, (unsigned long long)attempts(&b, N), seconds() - start);
    }
    t2g_critic_destroy(critic);

    /* SIGPIPE: a critic that reads a byte and exits while t2g writes large requests. */
    struct sigaction before, after;
    sigset_t mask_before, mask_after, pending;
    sigaction(SIGPIPE, NULL, &before);
    sigprocmask(SIG_BLOCK, NULL, &mask_before);
    size_t big = 300000;
    char *large = check_host(ctx, big);
    memset(large, 'x', big);
    for (uint32_t i = 0; i < 4; i++) {
        b.requests[i].response = large;
        b.requests[i].response_len = big;
    }
    critic = external(ctx, "head -c 1 >/dev/null; exit 5", 2, 5000, 1);
    if (!critic) return 1;
    status = t2g_critic_judge(critic, b.requests, 4, b.results, &ctx->err);
    check_true(ctx, status == T2G_ERR_IO && strstr(ctx->err.message, "exit status 5"),
               "writing to a critic that exited: an error, not a SIGPIPE (%s)", ctx->err.message);
    sigaction(SIGPIPE, NULL, &after);
    sigprocmask(SIG_BLOCK, NULL, &mask_after);
    sigpending(&pending);
    check_true(ctx,
               before.sa_handler == after.sa_handler && sigismember(&mask_before, SIGPIPE) == sigismember(&mask_after, SIGPIPE) &&
                   !sigismember(&pending, SIGPIPE),
               "SIGPIPE's disposition and mask are as before, none pending");
    t2g_critic_destroy(critic);
    memset(&ctx->err, 0, sizeof ctx->err);
    check_true(ctx, no_children(), "no process left");
    return ctx->failures;
}

T2G_HOST_CHECK(critic_external_garbage) {
    if (!have_python(ctx)) return ctx->failures;
    char command[4600];
    snprintf(command, sizeof command, "python3 '%s/tests/critics/garbage.py'", check_source_dir());
    enum { N = 16 };
    batch b = arith_batch(ctx, N, NULL);
    t2g_critic *critic = external(ctx, command, 2, 5000, 1);
    if (!critic) return 1;
    double start = seconds();
    t2g_status status = t2g_critic_judge(critic, b.requests, N, b.results, &ctx->err);
    double took = seconds() - start;
    check_status(ctx, status, "judge with a critic that writes garbage");
    static const char *const why[4] = {NULL, "not a whole number", "unknown id", "has no critique"};
    for (uint32_t i = 0; i < N && status == T2G_OK; i++) {
        if (i % 4 == 0)
            check_true(ctx, replies_match(&b, i), "id %u: judged (%s)", i, b.results[i].ok ? b.results[i].critique.feedback : b.results[i].error);
        else
            check_true(ctx, !b.results[i].ok && b.results[i].attempts == 2 && strstr(b.results[i].error, "garbage") &&
                                strstr(b.results[i].error, why[i % 4]),
                       "id %u: skipped after 2 attempts as '%s' (%s)", i, why[i % 4], b.results[i].error);
    }
    const t2g_critic_stats *stats = t2g_critic_get_stats(critic);
    check_true(ctx, stats->garbage == 24 && stats->judged == 4 && stats->failed == 12 && stats->retries == 12,
               "stats: %llu garbage lines, %llu judged, %llu failed, %llu retries (expected 24, 4, 12, 12)",
               (unsigned long long)stats->garbage, (unsigned long long)stats->judged, (unsigned long long)stats->failed,
               (unsigned long long)stats->retries);
    check_true(ctx, attempts(&b, N) == N + 12, "bounded: %llu attempts (12 samples tried twice; %.2f s)",
               (unsigned long long)attempts(&b, N), took);
    free_results(b.results, N);
    t2g_critic_destroy(critic);

    /* cat answers every request with the request itself: an id but no critique */
    critic = external(ctx, "cat", 1, 5000, 2);
    if (!critic) return 1;
    status = t2g_critic_judge(critic, b.requests, 5, b.results, &ctx->err);
    check_status(ctx, status, "judge with cat");
    uint32_t skipped = 0;
    for (uint32_t i = 0; i < 5; i++)
        skipped += !b.results[i].ok && b.results[i].attempts == 3 && strstr(b.results[i].error, "no critique") != NULL;
    check_true(ctx, skipped == 5 && stats != NULL && t2g_critic_get_stats(critic)->garbage == 15,
               "cat: every sample skipped after 3 attempts, 15 garbage lines (%u, %llu)", skipped,
               (unsigned long long)t2g_critic_get_stats(critic)->garbage);
    t2g_critic_destroy(critic);
    check_true(ctx, no_children(), "no process left");
    return ctx->failures;
}

T2G_HOST_CHECK(critic_external_missing) {
    if (!have_python(ctx)) return ctx->failures;
    char command[4600];
    snprintf(command, sizeof command, "python3 '%s/tests/critics/missing.py'", check_source_dir());
    enum { N = 20 };
    batch b = arith_batch(ctx, N, NULL);
    t2g_critic *critic = external(ctx, command, 2, 3000, 1);
    if (!critic) return 1;
    double start = seconds();
    t2g_status status = t2g_critic_judge(critic, b.requests, N, b.results, &ctx->err);
    double took = seconds() - start;
    check_status(ctx, status, "judge with a critic that answers out of order and skips ids");
    for (uint32_t i = 0; i < N && status == T2G_OK; i++) {
        if (i % 5 == 3)
            check_true(ctx, !b.results[i].ok && b.results[i].attempts == 2 &&
                                (strstr(b.results[i].error, "missing") || strstr(b.results[i].error, "timeout")),
                       "id %u: never answered, skipped after 2 attempts (%s)", i, b.results[i].error);
        else
            check_true(ctx, replies_match(&b, i), "id %u: judged by its own reply, out of order (%s)", i,
                       b.results[i].ok ? b.results[i].critique.feedback : b.results[i].error);
    }
    const t2g_critic_stats *stats = t2g_critic_get_stats(critic);
    check_true(ctx, stats->missing + stats->timeouts == 8 && stats->missing >= 1 && stats->judged == 16 && stats->failed == 4,
               "stats: %llu missing + %llu timeouts (expected 8 in all, some missing), %llu judged, %llu failed",
               (unsigned long long)stats->missing, (unsigned long long)stats->timeouts, (unsigned long long)stats->judged,
               (unsigned long long)stats->failed);
    check_true(ctx, attempts(&b, N) == N + 4, "bounded: %llu attempts (4 samples tried twice; %.2f s)",
               (unsigned long long)attempts(&b, N), took);
    check_log(ctx, "missing: %.2f s, %llu missing, %llu timeouts\n", took, (unsigned long long)stats->missing,
              (unsigned long long)stats->timeouts);
    free_results(b.results, N);
    t2g_critic_destroy(critic);
    check_true(ctx, no_children(), "no process left");
    return ctx->failures;
}

T2G_HOST_CHECK(critic_external_no_command) {
    t2g_critic *critic = NULL;
    t2g_error err = {0};
    t2g_external_critic_options bad[] = {
        {.command = NULL, .workers = 1, .timeout_ms = 100},
        {.command = "", .workers = 1, .timeout_ms = 100},
        {.command = "cat", .workers = 0, .timeout_ms = 100},
        {.command = "cat", .workers = 1, .timeout_ms = 0},
    };
    const char *says[] = {"no command", "no command", "workers", "timeout"};
    for (int i = 0; i < 4; i++)
        check_true(ctx, t2g_critic_external(&bad[i], &critic, &err) == T2G_ERR_ARGUMENT && !critic && strstr(err.message, says[i]),
                   "bad options %d refused: %s", i, err.message);
    check_true(ctx, t2g_critic_external(NULL, &critic, &err) == T2G_ERR_ARGUMENT, "no options refused");

    enum { N = 6 };
    batch b = arith_batch(ctx, N, NULL);
    const char *commands[2] = {"t2g-no-such-critic-command --judge", "/etc/passwd"};
    const char *status_text[2] = {"exit status 127", "exit status 126"};
    for (int c = 0; c < 2; c++) {
        /* create succeeds (/bin/sh starts); the first judge call fails every sample, quickly */
        critic = external(ctx, commands[c], 3, 5000, 2);
        if (!critic) return 1;
        for (int call = 0; call < 2; call++) {
            double start = seconds();
            t2g_status status = t2g_critic_judge(critic, b.requests, N, b.results, &ctx->err);
            double took = seconds() - start;
            check_true(ctx, status == T2G_ERR_IO && strstr(ctx->err.message, commands[c]) &&
                                strstr(ctx->err.message, status_text[c]),
                       "'%s', call %d: T2G_ERR_IO naming the command and its status (%s)", commands[c], call,
                       ctx->err.message);
            uint32_t failed = 0;
            for (uint32_t i = 0; i < N; i++)
                failed += !b.results[i].ok && strstr(b.results[i].error, commands[c]) != NULL;
            check_true(ctx, failed == N, "every sample failed with the reason (%u of %u)", failed, N);
            check_true(ctx, attempts(&b, N) <= N && t2g_critic_get_stats(critic)->crashes <= 3u * (call + 1),
                       "at once: %llu crashes, %llu attempts for %u samples (%.2f s)",
                       (unsigned long long)t2g_critic_get_stats(critic)->crashes, (unsigned long long)attempts(&b, N), N,
                       took);
        }
        const t2g_critic_stats *stats = t2g_critic_get_stats(critic);
        check_true(ctx, stats->failed == 2 * N && stats->judged == 0, "stats: %llu failed", (unsigned long long)stats->failed);
        t2g_critic_destroy(critic);
        check_true(ctx, no_children(), "no process left");
    }
    memset(&ctx->err, 0, sizeof ctx->err);
    return ctx->failures;
}

/* ---- the protocol as users meet it (issue 9) ---- */

/* A critic that debugs on stdout: its lines are not replies, so they are logged and counted,
 * not blamed on a sample, and the critic is never restarted for them. */
T2G_HOST_CHECK(critic_external_stray) {
    if (!have_python(ctx)) return ctx->failures;
    char command[4600], log[256];
    snprintf(command, sizeof command, "python3 '%s/tests/critics/chatty.py'", check_source_dir());
    snprintf(log, sizeof log, "/tmp/t2g-critic-log-%ld.txt", (long)getpid());
    unlink(log);
    enum { N = 8 };
    batch b = arith_batch(ctx, N, NULL);
    for (int logged = 1; logged >= 0; logged--) {
        t2g_critic *critic = external(ctx, command, 2, 20000, 0);
        if (!critic) return 1;
        if (logged && !check_status(ctx, t2g_critic_set_log(critic, log, &ctx->err), "t2g_critic_set_log")) return 1;
        t2g_status status = t2g_critic_judge(critic, b.requests, N, b.results, &ctx->err);
        check_status(ctx, status, "judge with a chatty critic");
        uint32_t matched = 0;
        for (uint32_t i = 0; i < N && status == T2G_OK; i++) matched += replies_match(&b, i);
        const t2g_critic_stats *stats = t2g_critic_get_stats(critic);
        /* per sample a text line and an object without an id (blank lines are not counted), and
         * each of the 2 processes' banner */
        check_true(ctx, matched == N && stats->judged == N && stats->garbage == 0 && stats->crashes == 0 &&
                            stats->retries == 0 && stats->stray == 2 * N + 2,
                   "%s: every sample judged by its reply, no garbage, no restart, %llu stray lines (expected %d)",
                   logged ? "logged" : "no log", (unsigned long long)stats->stray, 2 * N + 2);
        check_true(ctx, stats->stray_unlogged == (logged ? 0 : stats->stray), "%llu of them not logged",
                   (unsigned long long)stats->stray_unlogged);
        free_results(b.results, N);
        t2g_critic_destroy(critic);
    }
    FILE *f = fopen(log, "r");
    char line[256];
    int lines = 0, debug = 0, banners = 0;
    while (f && fgets(line, sizeof line, f)) {
        lines++;
        debug += strncmp(line, "debug: got id ", 14) == 0;
        banners += strcmp(line, "chatty critic ready\n") == 0;
    }
    if (f) fclose(f);
    unlink(log);
    check_true(ctx, lines == 2 * N + 2 && debug == N && banners == 2,
               "the log holds the stray lines as written: %d lines, %d debug, %d banners", lines, debug, banners);
    check_true(ctx, no_children(), "no process left");
    return ctx->failures;
}

/* A critic whose stdout is block-buffered answers nothing in time: every sample fails as a
 * timeout (timed_out, which t2g rl turns into an error naming stdout buffering); the same
 * critic flushing each reply answers every sample. */
T2G_HOST_CHECK(critic_external_buffered) {
    if (!have_python(ctx)) return ctx->failures;
    enum { N = 3 };
    batch b = arith_batch(ctx, N, NULL);
    for (int unbuffered = 0; unbuffered < 2; unbuffered++) {
        char command[4600];
        snprintf(command, sizeof command, "python3 '%s/tests/critics/buffered.py'%s", check_source_dir(),
                 unbuffered ? " flush" : "");
        t2g_critic *critic = external(ctx, command, 1, unbuffered ? 20000 : 300, 0);
        if (!critic) return 1;
        t2g_status status = t2g_critic_judge(critic, b.requests, N, b.results, &ctx->err);
        check_status(ctx, status, command);
        uint32_t timed_out = 0, matched = 0;
        const char *other = "";
        for (uint32_t i = 0; i < N && status == T2G_OK; i++) {
            bool timeout = !b.results[i].ok && b.results[i].timed_out && strstr(b.results[i].error, "timeout") != NULL;
            timed_out += timeout;
            if (!timeout) other = b.results[i].ok ? b.results[i].critique.feedback : b.results[i].error;
            matched += replies_match(&b, i) && !b.results[i].timed_out;
        }
        if (unbuffered)
            check_true(ctx, matched == N, "flushed: every sample judged (%u of %u)", matched, N);
        else
            check_true(ctx, timed_out == N && t2g_critic_get_stats(critic)->timeouts == N,
                       "block-buffered: every sample failed as a timeout (%u of %u; other: '%s')", timed_out, N, other);
        free_results(b.results, N);
        t2g_critic_destroy(critic);
    }
    /* other failures are not timeouts */
    char command[4600];
    snprintf(command, sizeof command, "python3 '%s/tests/critics/garbage.py'", check_source_dir());
    t2g_critic *critic = external(ctx, command, 1, 20000, 0);
    if (!critic) return 1;
    if (check_status(ctx, t2g_critic_judge(critic, b.requests, N, b.results, &ctx->err), "garbage"))
        check_true(ctx, !b.results[1].ok && !b.results[1].timed_out, "garbage is not a timeout (%s)", b.results[1].error);
    free_results(b.results, N);
    t2g_critic_destroy(critic);
    check_true(ctx, no_children(), "no process left");
    return ctx->failures;
}

/* The request carries the task's reference answer and the facts behind the prompt: a built-in
 * task example's, or a prompt file row's other keys (given as JSON). */
T2G_HOST_CHECK(critic_external_context) {
    if (!have_python(ctx)) return ctx->failures;
    char command[4600];
    snprintf(command, sizeof command, "python3 '%s/tests/critics/context.py'", check_source_dir());
    batch b = arith_batch(ctx, 3, NULL);
    b.requests[1].example = NULL;
    b.requests[1].fields = "{\"topic\": \"maths\", \"level\": 3}";
    b.requests[2].example = NULL;
    t2g_critic *critic = external(ctx, command, 1, 20000, 0);
    if (!critic) return 1;
    if (check_status(ctx, t2g_critic_judge(critic, b.requests, 3, b.results, &ctx->err), "judge")) {
        const t2g_task_example *ex = &b.examples[0];
        char want[1400];
        snprintf(want, sizeof want, "reference=%s fields={\"a\":\"%s\",\"b\":\"%s\",\"sum\":\"%s\"}", ex->answer,
                 ex->fields[0].value, ex->fields[1].value, ex->answer);
        const char *said[3];
        for (int i = 0; i < 3; i++) said[i] = b.results[i].ok ? b.results[i].critique.feedback : b.results[i].error;
        check_true(ctx, strcmp(said[0], want) == 0, "a task example: its answer and fields (%s; expected %s)", said[0], want);
        check_true(ctx, strcmp(said[1], "reference=- fields={\"level\":3,\"topic\":\"maths\"}") == 0,
                   "a prompt row's fields, no reference (%s)", said[1]);
        check_true(ctx, strcmp(said[2], "reference=- fields=-") == 0, "nothing more to send (%s)", said[2]);
        free_results(b.results, 3);
    }
    t2g_critic_destroy(critic);
    return ctx->failures;
}

/* A reply line over 1 MiB is a failure of its sample, retried, then skipped; it is never read
 * whole, and the samples around it are judged. */
T2G_HOST_CHECK(critic_external_long_line) {
    if (!have_python(ctx)) return ctx->failures;
    char command[4600];
    snprintf(command, sizeof command, "python3 '%s/tests/critics/long_line.py'", check_source_dir());
    enum { N = 4 };
    /* the default cap (1 MiB) against 1.5 MB replies, then critic.max_bytes 200 against the
     * same critic: its short replies (about 100 bytes) pass, the long ones are cut at 200 */
    const size_t caps[] = {0, 200};
    const char *says[] = {"over critic.max_bytes (1048576 bytes)", "over critic.max_bytes (200 bytes)"};
    for (int c = 0; c < 2; c++) {
        check_case_begin(ctx);
        batch b = arith_batch(ctx, N, NULL);
        t2g_external_critic_options options = {.command = command, .workers = 1, .timeout_ms = 20000, .retries = 1,
                                               .max_bytes = caps[c]};
        t2g_critic *critic = NULL;
        if (!check_status(ctx, t2g_critic_external(&options, &critic, &ctx->err), command)) return ctx->failures;
        t2g_status status = t2g_critic_judge(critic, b.requests, N, b.results, &ctx->err);
        check_status(ctx, status, "judge with a critic whose even replies are 1.5 MB");
        for (uint32_t i = 0; i < N && status == T2G_OK; i++) {
            if (i % 2)
                check_true(ctx, replies_match(&b, i), "id %u: judged (%s)", i, b.results[i].ok ? "ok" : b.results[i].error);
            else
                check_true(ctx, !b.results[i].ok && b.results[i].attempts == 2 && strstr(b.results[i].error, says[c]),
                           "id %u: a failure after 2 attempts (%s)", i, b.results[i].ok ? "ok" : b.results[i].error);
        }
        check_true(ctx, t2g_critic_get_stats(critic)->garbage == N, "%llu over-long lines counted",
                   (unsigned long long)t2g_critic_get_stats(critic)->garbage);
        free_results(b.results, N);
        t2g_critic_destroy(critic);
        check_true(ctx, no_children(), "no process left");
    }
    return ctx->failures;
}

/* critic.command is checked before anything runs: its program, and an interpreter's script. */
T2G_HOST_CHECK(critic_command_check) {
    char example[4600], slow[4600], flags[4600];
    snprintf(example, sizeof example, "python3 '%s/tools/example_critic.py'", check_source_dir());
    snprintf(slow, sizeof slow, "sh \"%s/tests/critics/slow.sh\" 2,5", check_source_dir());
    snprintf(flags, sizeof flags, "PYTHONIOENCODING=utf-8 exec python3 -u -W ignore %s/tools/example_critic.py --x",
             check_source_dir());
    const char *fine[] = {example, slow, flags, "cat", "head -c 1 >/dev/null; exit 5", "exit 3",
                          "$HOME/critic --judge", "python3 -c 'import sys'", "sh -c 'cat'", "`which cat`"};
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        t2g_error err = {0};
        check_true(ctx, t2g_critic_check_command(fine[i], &err) == T2G_OK, "'%s' passes (%s)", fine[i], err.message);
    }
    static const struct {
        const char *command, *says;
    } bad[] = {
        {"t2g-no-such-critic-command --judge", "'t2g-no-such-critic-command' is not on PATH"},
        {"/etc/passwd", "'/etc/passwd' is not an executable file"},
        {"/t2g/no/such/critic", "'/t2g/no/such/critic' does not exist"},
        {"python3 -u t2g-no-such-critic.py", "the script 't2g-no-such-critic.py' given to python3 does not exist"},
        {"X=1 exec sh /t2g/missing.sh", "the script '/t2g/missing.sh' given to sh does not exist"},
        {"python3 /tmp", "the script '/tmp' given to python3 is not a file"},
        {"", "critic.command is empty"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (strncmp(bad[i].command, "python3", 7) == 0 && system("command -v python3 >/dev/null 2>&1") != 0) continue;
        t2g_error err = {0};
        check_true(ctx, t2g_critic_check_command(bad[i].command, &err) == T2G_ERR_ARGUMENT && strstr(err.message, bad[i].says),
                   "'%s': refused saying \"%s\" (%s)", bad[i].command, bad[i].says, err.message);
    }
    return ctx->failures;
}
