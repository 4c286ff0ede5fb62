/* Reading critiques (t2g/feedback.h): the three formats and their key spellings, JSON wrapped in
 * fences and prose, escaped quotes, extra keys, empty and missing fields; every kind of broken
 * JSON with the message naming what and where; a deep copy; and thousands of random and mutated
 * inputs that must neither crash nor leak (run under valgrind or ASan to see the leaks). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "t2g/feedback.h"

static t2g_status parse(const char *text, t2g_critique *c, t2g_error *err) {
    return t2g_critique_parse(text, strlen(text), c, err);
}

/* "good:a|poor:b|neutral:c": the spans, in order, for comparisons. */
static void describe(const t2g_critique *c, char *out, size_t size) {
    size_t used = 0;
    out[0] = 0;
    for (uint32_t i = 0; i < c->span_count && used < size; i++) {
        int n = snprintf(out + used, size - used, "%s%s:%s", i ? "|" : "", t2g_span_kind_name(c->spans[i].kind),
                         c->spans[i].text);
        if (n < 0) break;
        used += (size_t)n;
    }
}

typedef struct good_case {
    const char *what;
    const char *text;
    t2g_critique_format format;
    const char *feedback;
    const char *spans; /* describe() of the expected spans */
    bool has_score;
    double score;
} good_case;

static const good_case GOOD[] = {
    {"spans format", "{\"textual_feedback\": \"Right sum, wrong carry.\", \"good_spans\": [\"12 + 30\"], \"poor_spans\": "
     "[\"= 41\", \"carry\"]}",
     T2G_CRITIQUE_SPANS, "Right sum, wrong carry.", "good:12 + 30|poor:= 41|poor:carry", false, 0},
    {"code format", "{\"Code Feedback\": \"Off by one.\", \"wrong_code\": [\"range(n + 1)\"], \"improvement_code\": "
     "[\"range(n)\"]}",
     T2G_CRITIQUE_CODE, "Off by one.", "poor:range(n + 1)|neutral:range(n)", false, 0},
    {"words format, 1.0 and -1.0 as numbers", "{\"textual_feedback\": \"ok\", \"word_score_list\": [[\"The\", 1], "
     "[\"cat\", -1.0], [\"sat\", 0], [\"down\", 1.0]]}",
     T2G_CRITIQUE_WORDS, "ok", "good:The|poor:cat|neutral:sat|good:down", false, 0},
    {"spans in the order the critique lists them (poor first)", "{\"poor_spans\": [\"b\"], \"textual_feedback\": \"t\", "
     "\"good_spans\": [\"a\", \"c\"]}",
     T2G_CRITIQUE_SPANS, "t", "poor:b|good:a|good:c", false, 0},
    {"extra keys ignored, score read", "{\"id\": 7, \"textual_feedback\": \"fine\", \"meta\": {\"x\": [1, {\"y\": null}]}, "
     "\"good_spans\": [\"x\"], \"score\": 8.5, \"notes\": \"}{\"}",
     T2G_CRITIQUE_SPANS, "fine", "good:x", true, 8.5},
    {"\"critique\" as the text key", "{\"critique\": \"Too long.\", \"poor_spans\": [\"very very\"]}", T2G_CRITIQUE_SPANS,
     "Too long.", "poor:very very", false, 0},
    {"\"feedback\" as the text key", "{\"feedback\": \"Nice.\", \"good_spans\": [\"Nice\"]}", T2G_CRITIQUE_SPANS, "Nice.",
     "good:Nice", false, 0},
    {"key spellings: code_feedback, Good-Spans, WRONG CODE",
     "{\"code_feedback\": \"c\", \"Good-Spans\": [\"g\"], \"WRONG CODE\": [\"w\"]}", T2G_CRITIQUE_CODE, "c",
     "good:g|poor:w", false, 0},
    {"textual_feedback wins over critique", "{\"critique\": \"second\", \"textual_feedback\": \"first\"}",
     T2G_CRITIQUE_SPANS, "first", "", false, 0},
    {"escaped quotes and unicode escapes in spans", "{\"textual_feedback\": \"He wrote \\\"hi\\\".\", \"poor_spans\": "
     "[\"said \\\"hi\\\" twice\", \"caf\\u00e9\", \"tab\\there\", \"back\\\\slash\"]}",
     T2G_CRITIQUE_SPANS, "He wrote \"hi\".", "poor:said \"hi\" twice|poor:caf\xC3\xA9|poor:tab\there|poor:back\\slash",
     false, 0},
    {"```json fence with prose around",
     "Sure! Here is my critique.\n```json\n{\"textual_feedback\": \"ok\", \"good_spans\": [\"a\"]}\n```\nHope it helps {:}",
     T2G_CRITIQUE_SPANS, "ok", "good:a", false, 0},
    {"```JSON fence in capitals, a decoy object before it",
     "Format: {like this}.\n```JSON\n{\"textual_feedback\": \"fenced\", \"poor_spans\": [\"p\"]}\n```",
     T2G_CRITIQUE_SPANS, "fenced", "poor:p", false, 0},
    {"bare ``` fence", "```\n{\"textual_feedback\": \"bare\", \"good_spans\": [\"g\"]}\n```", T2G_CRITIQUE_SPANS, "bare",
     "good:g", false, 0},
    {"a ```python fence is not the critique", "```python\nprint({1: 2})\n```\n{\"textual_feedback\": \"t\", "
     "\"good_spans\": [\"print\"]}",
     T2G_CRITIQUE_SPANS, "t", "good:print", false, 0},
    {"fence cut off (no closing ```)", "```json\n{\"textual_feedback\": \"cut\", \"good_spans\": [\"g\"]}\n",
     T2G_CRITIQUE_SPANS, "cut", "good:g", false, 0},
    {"prose-wrapped, braces and quotes inside strings",
     "My verdict is below.\n{\"textual_feedback\": \"Use {x} and \\\"}\\\" carefully\", \"good_spans\": [\"{x}\", \"}\"]}"
     "\nThat's all {folks}.",
     T2G_CRITIQUE_SPANS, "Use {x} and \"}\" carefully", "good:{x}|good:}", false, 0},
    {"a braced decoy in prose before the object", "I'd rate it {good}. {\"textual_feedback\": \"t\", \"poor_spans\": "
     "[\"q\"]}",
     T2G_CRITIQUE_SPANS, "t", "poor:q", false, 0},
    {"JSON pasted from inside a string (escaped once)",
     "{\\\"textual_feedback\\\": \\\"esc\\\", \\\"good_spans\\\": [\\\"say \\\\\\\"x\\\\\\\"\\\"]}", T2G_CRITIQUE_SPANS,
     "esc", "good:say \"x\"", false, 0},
    {"a raw newline inside a string (as LLMs write)", "{\"textual_feedback\": \"line one\nline two\", \"good_spans\": "
     "[\"a\nb\"]}",
     T2G_CRITIQUE_SPANS, "line one\nline two", "good:a\nb", false, 0},
    {"null lists and null text", "{\"textual_feedback\": null, \"good_spans\": null, \"poor_spans\": [\"p\"], "
     "\"score\": null}",
     T2G_CRITIQUE_SPANS, "", "poor:p", false, 0},
    {"empty lists and empty text", "{\"textual_feedback\": \"\", \"good_spans\": [], \"poor_spans\": []}",
     T2G_CRITIQUE_SPANS, "", "", false, 0},
    {"missing text, lists only", "{\"poor_spans\": [\"\", \"x\"]}", T2G_CRITIQUE_SPANS, "", "poor:|poor:x", false, 0},
    {"text only", "  {\"textual_feedback\": \"Nothing to quote.\"}  ", T2G_CRITIQUE_SPANS, "Nothing to quote.", "",
     false, 0},
    {"whitespace and a negative exponent score", "{ \"score\" : -1.5e-1 ,\r\n\t\"textual_feedback\":\"w\" }",
     T2G_CRITIQUE_SPANS, "w", "", true, -0.15},
};

T2G_HOST_CHECK(critique_parse_formats) {
    check_case_begin(ctx);
    for (size_t k = 0; k < sizeof GOOD / sizeof GOOD[0]; k++) {
        const good_case *g = &GOOD[k];
        t2g_critique c;
        t2g_error err = {0};
        t2g_status status = parse(g->text, &c, &err);
        if (!check_true(ctx, status == T2G_OK, "%s", g->what)) {
            check_log(ctx, "    error: %s", err.message);
            continue;
        }
        char spans[512];
        describe(&c, spans, sizeof spans);
        check_expect(ctx, c.format == g->format, "%s: format %d, expected %d", g->what, c.format, g->format);
        check_expect(ctx, c.feedback && strcmp(c.feedback, g->feedback) == 0, "%s: feedback '%s', expected '%s'", g->what,
                     c.feedback ? c.feedback : "(null)", g->feedback);
        check_expect(ctx, strcmp(spans, g->spans) == 0, "%s: spans '%s', expected '%s'", g->what, spans, g->spans);
        check_expect(ctx, c.has_score == g->has_score && (!g->has_score || fabs(c.score - g->score) < 1e-12),
                     "%s: score %d %g, expected %d %g", g->what, c.has_score, c.score, g->has_score, g->score);
        for (uint32_t i = 0; i < c.span_count; i++)
            check_expect(ctx, c.spans[i].len == strlen(c.spans[i].text), "%s: span %u's len", g->what, i);
        t2g_critique_free(&c);
        check_expect(ctx, c.spans == NULL && c.span_count == 0 && c.feedback == NULL, "%s: free zeroes", g->what);
    }
    t2g_critique_free(NULL);
    return ctx->failures;
}

typedef struct bad_case {
    const char *what;
    const char *text;
    size_t len;              /* 0: strlen */
    const char *message[3];  /* each must appear in the error message */
} bad_case;

static const bad_case BAD[] = {
    {"empty input", "", 0, {"empty"}},
    {"whitespace only", " \n\t ", 0, {"empty"}},
    {"no object, prose only", "The response is fine.", 0, {"no JSON object"}},
    {"an array, not an object", "[\"good_spans\"]", 0, {"no JSON object"}},
    {"trailing comma in an array", "{\"good_spans\": [\"a\", \"b\",]}", 0,
     {"trailing comma (at line 1, column 25 (byte 24))", "line 1, column 26 (byte 25)", "array opened at line 1, column 16"}},
    {"trailing comma in an object, on line 3", "{\n  \"textual_feedback\": \"x\",\n  \"good_spans\": [],\n}", 0,
     {"trailing comma (at line 3, column 19", "object opened at line 1, column 1"}},
    {"unbalanced: ] closes an object", "{\"good_spans\": [\"a\"]]", 0, {"line 1, column 21 (byte 20)", "wrong bracket", "object opened at line 1, column 1"}},
    {"unbalanced: } closes an array", "{\"good_spans\": [\"a\"}", 0,
     {"wrong bracket", "array opened at line 1, column 16"}},
    {"truncated inside a list", "{\"textual_feedback\": \"x\", \"good_spans\": [\"a\", \"b\"", 0,
     {"never closed", "cut off"}},
    {"truncated inside a string", "{\"textual_feedback\": \"the answ", 0, {"string opened at line 1, column 22", "never closed"}},
    {"truncated after a key", "{\"textual_feedback\"", 0, {"expected ':'", "the end of the text"}},
    {"missing comma", "{\"good_spans\": [\"a\" \"b\"]}", 0, {"expected ',' or ']'", "found '\"'"}},
    {"single-quoted strings", "{'good_spans': ['a']}", 0, {"expected a string key", "quote"}},
    {"unquoted key", "{good_spans: [\"a\"]}", 0, {"expected a string key", "found 'g'"}},
    {"invalid escape", "{\"good_spans\": [\"a\\qb\"]}", 0, {"escape", "column 20"}},
    {"bad \\u escape", "{\"good_spans\": [\"\\u12G4\"]}", 0, {"four hexadecimal digits"}},
    {"bad number", "{\"score\": 1.}", 0, {"digit after the decimal point"}},
    {"NaN is not JSON", "{\"score\": NaN}", 0, {"expected a value"}},
    {"misspelt literal", "{\"score\": nul}", 0, {"null?"}},
    {"NUL byte inside a string", "{\"good_spans\": [\"a\0b\"]}", 23, {"NUL byte"}},
    {"span list is a string", "{\"textual_feedback\": \"x\", \"good_spans\": \"a\"}", 0,
     {"\"good_spans\" must be an array of strings", "found a string"}},
    {"span list holds a number", "{\"poor_spans\": [\"a\", 3]}", 0, {"\"poor_spans\"[1] must be a string", "a number 3"}},
    {"span list holds an object", "{\"wrong_code\": [{\"text\": \"a\"}]}", 0, {"\"wrong_code\"[0] must be a string"}},
    {"word entry with score 2", "{\"word_score_list\": [[\"a\", 1], [\"b\", 2]]}", 0,
     {"\"word_score_list\"[1] must be [word, -1|0|1]", "[\"b\",2]"}},
    {"word entry with score 0.5", "{\"word_score_list\": [[\"a\", 0.5]]}", 0, {"\"word_score_list\"[0]"}},
    {"word entry with a string score", "{\"word_score_list\": [[\"a\", \"1\"]]}", 0, {"\"word_score_list\"[0]"}},
    {"word entry with three items", "{\"word_score_list\": [[\"a\", 1, 0]]}", 0, {"\"word_score_list\"[0]"}},
    {"word entry that is a string", "{\"word_score_list\": [\"a\"]}", 0, {"\"word_score_list\"[0]"}},
    {"word list that is an object", "{\"word_score_list\": {\"a\": 1}}", 0, {"must be an array of [word, -1|0|1]"}},
    {"score as a string", "{\"textual_feedback\": \"x\", \"score\": \"8/10\"}", 0, {"\"score\" must be a number"}},
    {"text as a number", "{\"textual_feedback\": 3, \"good_spans\": []}", 0, {"\"textual_feedback\" must be a string"}},
    {"no known format", "{\"verdict\": \"good\", \"rating\": 3}", 0, {"no known critique format", "\"verdict\", \"rating\""}},
    {"empty object", "{}", 0, {"no known critique format", "no keys"}},
    {"broken JSON in a fence, error placed in the whole text", "intro\n```json\n{\"good_spans\": [\"a\",]}\n```", 0,
     {"trailing comma", "line 3"}},
    {"deep nesting", NULL, 0, {"nesting deeper than"}},
};

T2G_HOST_CHECK(critique_parse_errors) {
    check_case_begin(ctx);
    char *deep = check_host(ctx, 20000);
    {
        size_t n = 0;
        n += (size_t)sprintf(deep, "{\"x\": ");
        for (int i = 0; i < 5000; i++) deep[n++] = '[';
        for (int i = 0; i < 5000; i++) deep[n++] = ']';
        deep[n++] = '}';
        deep[n] = 0;
    }
    for (size_t k = 0; k < sizeof BAD / sizeof BAD[0]; k++) {
        const bad_case *b = &BAD[k];
        const char *text = b->text ? b->text : deep;
        size_t len = b->len ? b->len : strlen(text);
        t2g_critique c;
        memset(&c, 0x5A, sizeof c);
        t2g_error err = {0};
        t2g_status status = t2g_critique_parse(text, len, &c, &err);
        bool ok = status == T2G_ERR_FORMAT && c.spans == NULL && c.span_count == 0 && c.feedback == NULL;
        for (int m = 0; m < 3 && b->message[m]; m++) ok = ok && strstr(err.message, b->message[m]) != NULL;
        check_true(ctx, ok, "%s", b->what);
        check_log(ctx, "    %s", err.message);
        if (!ok)
            check_fail(ctx, "%s: status %d, message '%s', expected the words '%s' '%s' '%s'", b->what, status, err.message,
                       b->message[0], b->message[1] ? b->message[1] : "", b->message[2] ? b->message[2] : "");
        if (status == T2G_OK) t2g_critique_free(&c);
    }
    t2g_critique c;
    t2g_error err = {0};
    check_true(ctx, t2g_critique_parse(NULL, 0, &c, &err) == T2G_ERR_FORMAT, "NULL text of 0 bytes: empty");
    check_true(ctx, t2g_critique_parse("{}", 2, NULL, &err) == T2G_ERR_ARGUMENT, "NULL critique: argument error");
    /* the length is respected: a valid object cut by len is truncated JSON */
    const char *whole = "{\"good_spans\": [\"a\"]}";
    check_true(ctx, t2g_critique_parse(whole, strlen(whole) - 2, &c, &err) == T2G_ERR_FORMAT && strstr(err.message, "never closed"),
               "len cuts the text: the bytes past it are not read");
    return ctx->failures;
}

T2G_HOST_CHECK(critique_parse_copy) {
    check_case_begin(ctx);
    t2g_critique c, copy;
    t2g_error err = {0};
    const char *text = "{\"textual_feedback\": \"words\", \"good_spans\": [\"a\", \"\"], \"poor_spans\": [\"b c\"], \"score\": 3}";
    if (!check_true(ctx, parse(text, &c, &err) == T2G_OK, "parse the source")) return ctx->failures;
    check_true(ctx, t2g_critique_copy(&c, &copy, &err) == T2G_OK, "copy");
    char a[256], b[256];
    describe(&c, a, sizeof a);
    describe(&copy, b, sizeof b);
    check_true(ctx, strcmp(a, b) == 0 && copy.span_count == 3 && copy.format == c.format && copy.has_score &&
                        copy.score == 3 && strcmp(copy.feedback, "words") == 0,
               "the copy holds the same spans, format, score and text");
    check_true(ctx, copy.spans != c.spans && copy.spans[0].text != c.spans[0].text && copy.feedback != c.feedback,
               "the copy owns its memory");
    t2g_critique_free(&c);
    check_true(ctx, strcmp(copy.spans[2].text, "b c") == 0 && copy.spans[1].len == 0,
               "the copy outlives its source");
    t2g_critique_free(&copy);
    t2g_critique empty = {0};
    check_true(ctx, t2g_critique_copy(&empty, &copy, &err) == T2G_OK && copy.span_count == 0 && copy.feedback &&
                        copy.feedback[0] == 0,
               "copy of an empty critique: no spans, text \"\"");
    t2g_critique_free(&copy);
    return ctx->failures;
}

/* ---- fuzz ---- */

static const char *const SEEDS[] = {
    "{\"textual_feedback\": \"Good start.\", \"good_spans\": [\"12 + 30 = 42\", \"carry\"], \"poor_spans\": [\"= 41\"]}",
    "```json\n{\"Code Feedback\": \"x\", \"wrong_code\": [\"for i in range(n + 1):\"], \"improvement_code\": [\"n\"]}\n```",
    "Here: {\"textual_feedback\": \"w\", \"word_score_list\": [[\"The\", 1], [\"cat\", -1], [\"sat\", 0]], \"score\": 2}",
    "{\"critique\": \"caf\\u00e9 \\\"q\\\"\", \"poor_spans\": [\"caf\xC3\xA9\", \"\\\"q\\\"\"], \"x\": [1, 2.5e3, true, null]}",
    "{\\\"textual_feedback\\\": \\\"esc\\\", \\\"good_spans\\\": [\\\"a\\\"]}",
};

static const char STRUCTURE[] = "{}[]\",:\\` \n0-1.eE+tfnu";

/* A mutated copy of a seed, or random bytes; *len bytes in buf (room for 600). */
static size_t fuzz_input(check_ctx *ctx, char *buf) {
    uint32_t mode = check_random_below(ctx, 5);
    if (mode == 0) {
        size_t n = check_random_below(ctx, 200);
        for (size_t i = 0; i < n; i++)
            buf[i] = check_random_below(ctx, 2) ? STRUCTURE[check_random_below(ctx, sizeof STRUCTURE - 1)]
                                                : (char)check_random_below(ctx, 256);
        return n;
    }
    const char *seed = SEEDS[check_random_below(ctx, sizeof SEEDS / sizeof SEEDS[0])];
    size_t n = strlen(seed);
    memcpy(buf, seed, n);
    uint32_t edits = 1 + check_random_below(ctx, 6);
    for (uint32_t e = 0; e < edits && n > 0; e++) {
        size_t at = check_random_below(ctx, (uint32_t)n);
        switch (check_random_below(ctx, 5)) {
        case 0: buf[at] = (char)check_random_below(ctx, 256); break;                               /* flip */
        case 1: buf[at] = STRUCTURE[check_random_below(ctx, sizeof STRUCTURE - 1)]; break;          /* structural */
        case 2: memmove(buf + at, buf + at + 1, n - at - 1), n--; break;                             /* delete */
        case 3:                                                                                      /* insert */
            if (n < 590) {
                memmove(buf + at + 1, buf + at, n - at);
                buf[at] = STRUCTURE[check_random_below(ctx, sizeof STRUCTURE - 1)];
                n++;
            }
            break;
        default: n = at; break;                                                                      /* truncate */
        }
    }
    return n;
}

T2G_HOST_CHECK(critique_parse_fuzz) {
    check_case_begin(ctx);
    const int rounds = ctx->quick ? 500 : 20000;
    int parsed = 0, refused = 0, bad = 0;
    char *buf = check_host(ctx, 600);
    const char *response = "The cat sat: 12 + 30 = 42, caf\xC3\xA9 \"q\" for i in range(n + 1):";
    size_t rlen = strlen(response);
    t2g_token_span *tokens = check_host(ctx, rlen * sizeof *tokens);
    uint32_t *ids = check_host(ctx, rlen * sizeof *ids);
    float *scores = check_host(ctx, rlen * sizeof *scores);
    t2g_tokenize(response, rlen, ids, tokens);
    t2g_span_scores defaults = t2g_span_scores_default();
    t2g_span_stats stats = {0};
    for (int round = 0; round < rounds; round++) {
        size_t n = fuzz_input(ctx, buf);
        /* an exact-size copy, so a read past len is a heap overflow under ASan and valgrind */
        char *text = malloc(n ? n : 1);
        if (!text) return check_fail(ctx, "out of memory"), 1;
        memcpy(text, buf, n);
        t2g_critique c;
        t2g_error err = {0};
        t2g_status status = t2g_critique_parse(text, n, &c, &err);
        if (status == T2G_OK) {
            parsed++;
            bool sane = c.feedback != NULL && (c.span_count == 0 || c.spans != NULL);
            for (uint32_t i = 0; sane && i < c.span_count; i++)
                sane = c.spans[i].text && c.spans[i].len == strlen(c.spans[i].text) && c.spans[i].kind <= T2G_SPAN_NEUTRAL;
            if (!sane) bad++;
            t2g_aligned_span *aligned = malloc((c.span_count + 1) * sizeof *aligned);
            if (aligned) {
                check_status(ctx, t2g_align_spans(response, rlen, &c, &defaults, aligned, &ctx->err), "aligning");
                check_status(ctx, t2g_token_scores(&c, aligned, response, rlen, tokens, rlen, &defaults, scores, &ctx->err), "token scores");
                t2g_span_stats_add(&stats, &c, aligned);
                free(aligned);
            }
            t2g_critique copy;
            if (t2g_critique_copy(&c, &copy, &err) == T2G_OK) t2g_critique_free(&copy);
            t2g_critique_free(&c);
        } else {
            refused++;
            if (status != T2G_ERR_FORMAT || err.message[0] == 0 || c.spans || c.feedback || c.span_count) bad++;
        }
        free(text);
    }
    check_log(ctx, "    %d parsed, %d refused", parsed, refused);
    check_true(ctx, bad == 0, "%d random and mutated critiques: parsed ones sane, refused ones T2G_ERR_FORMAT with a "
               "message (%d bad)", rounds, bad);
    check_true(ctx, parsed > rounds / 50 && refused > rounds / 4, "the fuzz reaches both outcomes (%d parsed, %d refused)",
               parsed, refused);
    return ctx->failures;
}

/* critic.max_spans and critic.max_bytes: a critique over either is refused (T2G_ERR_TOO_LARGE,
 * naming the key), whether read from text or handed over by a critic; at the cap it is read. */
T2G_HOST_CHECK(critique_limits) {
    check_case_begin(ctx);
    const char *text = "{\"textual_feedback\": \"ok\", \"good_spans\": [\"a\", \"b\"], "
                       "\"word_score_list\": [[\"c\", 1]]}";
    size_t len = strlen(text);
    t2g_critique c;
    t2g_error err = {0};
    t2g_critique_limits at_cap = {3, len};
    bool read = check_status(ctx, t2g_critique_parse_limited(text, len, &at_cap, &c, &ctx->err), "at both caps");
    check_true(ctx, read && c.span_count == 3, "3 spans and %zu bytes read at caps of 3 and %zu", len, len);
    if (read) {
        t2g_critique_limits spans = {2, len}, bytes = {3, 4};
        check_true(ctx, t2g_critique_check_limits(&c, &at_cap, &err) == T2G_OK, "within the caps when checked");
        check_true(ctx, t2g_critique_check_limits(&c, &spans, &err) == T2G_ERR_TOO_LARGE &&
                            strstr(err.message, "3 spans") && strstr(err.message, "critic.max_spans = 2"),
                   "a critic's critique over critic.max_spans: %s", err.message);
        check_true(ctx, t2g_critique_check_limits(&c, &bytes, &err) == T2G_ERR_TOO_LARGE &&
                            strstr(err.message, "critic.max_bytes = 4"),
                   "a critic's critique over critic.max_bytes: %s", err.message);
        t2g_critique_free(&c);
    }
    t2g_critique_limits fewer = {2, len}, shorter = {3, len - 1};
    check_true(ctx, t2g_critique_parse_limited(text, len, &fewer, &c, &err) == T2G_ERR_TOO_LARGE &&
                        strstr(err.message, "at least 3 spans") && c.span_count == 0 && !c.spans,
               "a third span over critic.max_spans = 2 is refused, nothing kept: %s", err.message);
    check_true(ctx, t2g_critique_parse_limited(text, len, &shorter, &c, &err) == T2G_ERR_TOO_LARGE &&
                        strstr(err.message, "critic.max_bytes"),
               "one byte over critic.max_bytes is refused before reading: %s", err.message);
    /* the cap holds for a critique found on a second reading (outside a fence) too */
    const char *fenced = "```json\nnot json\n``` {\"good_spans\": [\"a\", \"b\", \"c\"]}";
    check_true(ctx, t2g_critique_parse_limited(fenced, strlen(fenced), &fewer, &c, &err) == T2G_ERR_TOO_LARGE,
               "and on a second reading: %s", err.message);
    /* JSON that cJSON would not read is refused by the check, so cJSON failing means memory */
    const char *lone = "{\"good_spans\": [\"\\uDC00\"]}", *unpaired = "{\"good_spans\": [\"\\uD800x\"]}";
    check_true(ctx, t2g_critique_parse(lone, strlen(lone), &c, &err) == T2G_ERR_FORMAT && strstr(err.message, "lone low"),
               "a lone low surrogate: %s", err.message);
    check_true(ctx, t2g_critique_parse(unpaired, strlen(unpaired), &c, &err) == T2G_ERR_FORMAT &&
                        strstr(err.message, "low surrogate"),
               "a high surrogate alone: %s", err.message);
    const char *pair = "{\"good_spans\": [\"\\uD83D\\uDE00\"]}";
    read = t2g_critique_parse(pair, strlen(pair), &c, &err) == T2G_OK;
    check_true(ctx, read && c.span_count == 1 && c.spans[0].len == 4, "a surrogate pair is one character");
    if (read) t2g_critique_free(&c);
    return ctx->failures;
}
