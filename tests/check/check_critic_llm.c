/* What the language-model critics share (src/critic/prompt.h, src/critic/cache.h): the critique
 * prompt's template filled in and refused where it is wrong (naming the line), and the critique
 * cache: stored answers found again byte for byte, across reopening, with a torn last line, a
 * malformed line named by its number, equal keys (a forced collision) told apart by their text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "critic/cache.h"
#include "critic/prompt.h"
#include "t2g/tasks.h"

/* ---- the template ---- */

static char *render(critic_prompt *p, const char *prompt, const char *response, size_t len, const char *reference) {
    t2g_critic_request r = {.prompt = prompt, .response = response, .response_len = len, .reference = reference};
    char *text = NULL;
    size_t text_len = 0;
    t2g_error err = {0};
    if (critic_prompt_render(p, &r, &text, &text_len, &err)) return NULL;
    return strlen(text) == text_len ? text : NULL;
}

static void check_template_fill(check_ctx *ctx) {
    const char *t = "P={{prompt}} R={{response}}{{#reference}} REF={{reference}}{{/reference}} {\"json\": 1}";
    critic_prompt *p = NULL;
    if (!check_status(ctx, critic_prompt_parse(t, strlen(t), "test", &p, &ctx->err), "a template parses")) return;
    char *a = render(p, "2+2?", "4", 1, "4");
    char *b = render(p, "2+2?", "4", 1, NULL);
    char *c = render(p, "q", "a\0b\xff", 4, "");
    check_true(ctx, a && strcmp(a, "P=2+2? R=4 REF=4 {\"json\": 1}") == 0, "placeholders and a kept section (%s)", a ? a : "");
    check_true(ctx, b && strcmp(b, "P=2+2? R=4 {\"json\": 1}") == 0, "no reference: the section is left out (%s)", b ? b : "");
    check_true(ctx, c && strcmp(c, "P=q R=a\xEF\xBF\xBD" "b\xEF\xBF\xBD {\"json\": 1}") == 0,
               "an empty reference is none; NUL and invalid bytes of the response become U+FFFD");
    free(a);
    free(b);
    free(c);
    critic_prompt_free(p);

    /* the built-in one: everything filled in, nothing left of the syntax */
    check_status(ctx, critic_prompt_load(NULL, &p, &ctx->err), "the built-in template parses");
    if (!p) return;
    char *d = render(p, "What is 17 + 25?", "The sum is 43.", 14, "42");
    check_true(ctx, d && strstr(d, "What is 17 + 25?") && strstr(d, "The sum is 43.") && strstr(d, "Reference answer") &&
                        strstr(d, "42") && !strstr(d, "{{") && strstr(d, "\"good_spans\""),
               "the built-in template asks for spans and holds prompt, response and reference");
    char *e = render(p, "q", "r", 1, NULL);
    check_true(ctx, e && !strstr(e, "Reference answer") && !strstr(e, "reference answer as the truth"),
               "the built-in template without a reference says nothing of one");
    free(d);
    free(e);
    critic_prompt_free(p);
}

static void check_template_errors(check_ctx *ctx) {
    static const struct {
        const char *text, *expect;
    } bad[] = {
        {"line one\n{{response}} {{answer}}", "test, line 2: unknown placeholder {{answer}}"},
        {"{{prompt}}", "no {{response}} placeholder"},
        {"{{response}}\n\n{{#reference}}", "test, line 3: {{#reference}} is never closed"},
        {"{{response}}{{/reference}}", "line 1: {{/reference}} without {{#reference}}"},
        {"{{response}}{{#reference}}{{#reference}}{{/reference}}", "inside the {{#reference}} of line 1"},
        {"{{response}}\n{{prompt", "line 2: \"{{\" without \"}}\""},
        {"{{response}} \xC3\x28", "not valid UTF-8"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        critic_prompt *p = NULL;
        t2g_error err = {0};
        t2g_status status = critic_prompt_parse(bad[i].text, strlen(bad[i].text), "test", &p, &err);
        check_true(ctx, status == T2G_ERR_FORMAT && !p && strstr(err.message, bad[i].expect), "refused: %s", err.message);
        critic_prompt_free(p);
    }
    critic_prompt *p = NULL;
    t2g_error err = {0};
    check_true(ctx, critic_prompt_load("/nonexistent/prompt.txt", &p, &err) != T2G_OK && strstr(err.message, "critic.prompt_file"),
               "a missing prompt file is named (%s)", err.message);
}

T2G_HOST_CHECK(critic_prompt_template) {
    check_case_begin(ctx);
    check_template_fill(ctx);
    check_template_errors(ctx);
    return ctx->failures;
}

/* ---- the cache ---- */

static bool write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (!f) return false;
    bool ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok;
}

static char *find(critic_cache *c, const char *settings, const char *message, t2g_status *status) {
    char *answer = NULL;
    size_t len = 0;
    t2g_error err = {0};
    *status = critic_cache_find(c, settings, message, &answer, &len, &err);
    return answer;
}

T2G_HOST_CHECK(critic_cache) {
    check_case_begin(ctx);
    char dir[] = "/tmp/t2g-cache-XXXXXX";
    if (!mkdtemp(dir)) return check_true(ctx, false, "a temporary folder"), ctx->failures;
    char path[256];
    snprintf(path, sizeof path, "%s/critiques.jsonl", dir);
    critic_cache *c = NULL;
    t2g_error *err = &ctx->err;
    t2g_status status;
    check_status(ctx, critic_cache_open(path, &c, err), "a cache that does not exist yet opens empty");
    if (!c) return ctx->failures;
    check_true(ctx, critic_cache_size(c) == 0 && access(path, F_OK) != 0, "nothing is written before the first store");
    const char *answer = "{\"textual_feedback\": \"ok \\u00e9\", \"good_spans\": [\"4\"], \"poor_spans\": []}\nthanks";
    check_status(ctx, critic_cache_store(c, "http url=a", "message one", answer, strlen(answer), err), "store one");
    check_status(ctx, critic_cache_store(c, "http url=a", "message two", "second", 6, err), "store two");
    char *got = find(c, "http url=a", "message one", &status);
    check_true(ctx, !status && got && strcmp(got, answer) == 0, "an answer comes back byte for byte");
    free(got);
    got = find(c, "http url=b", "message one", &status);
    check_true(ctx, !status && !got, "other settings: a miss");
    free(got);
    got = find(c, "http url=a", "message three", &status);
    check_true(ctx, !status && !got, "another message: a miss");
    free(got);
    critic_cache_close(c);

    /* reopened: the same answers; a torn last line is left out and the next line starts anew */
    FILE *f = fopen(path, "ab");
    if (f) {
        fputs("{\"key\": \"00\", \"settings\": \"http", f);
        fclose(f);
    }
    c = NULL;
    check_status(ctx, critic_cache_open(path, &c, err), "a cache with a torn last line opens");
    if (!c) return ctx->failures;
    check_true(ctx, critic_cache_size(c) == 2, "two entries read back (%zu)", critic_cache_size(c));
    got = find(c, "http url=a", "message two", &status);
    check_true(ctx, !status && got && strcmp(got, "second") == 0, "found again after reopening");
    free(got);
    check_status(ctx, critic_cache_store(c, "s", "m", "third", 5, err), "store after the torn line");
    critic_cache_close(c);
    c = NULL;
    check_status(ctx, critic_cache_open(path, &c, err), "and it reopens");
    if (c) {
        check_true(ctx, critic_cache_size(c) == 3, "the torn line is skipped, the new one read (%zu)", critic_cache_size(c));
        got = find(c, "s", "m", &status);
        check_true(ctx, !status && got && strcmp(got, "third") == 0, "the line after the torn one is found");
        free(got);
        critic_cache_close(c);
    }

    /* equal keys (a collision written by hand): told apart by settings and message */
    snprintf(path, sizeof path, "%s/collide.jsonl", dir);
    write_text(path, "{\"key\":\"1\",\"settings\":\"s\",\"message\":\"x\",\"answer\":\"wrong\"}\n"
                     "{\"key\":\"1\",\"settings\":\"s\",\"message\":\"y\",\"answer\":\"right\"}\n\n");
    c = NULL;
    check_status(ctx, critic_cache_open(path, &c, err), "a cache of two lines and a blank one opens");
    if (c) {
        got = find(c, "s", "y", &status);
        check_true(ctx, !status && got && strcmp(got, "right") == 0, "each message finds its own answer");
        free(got);
        critic_cache_close(c);
    }

    /* a malformed line in the middle: named */
    static const struct {
        const char *text, *expect;
    } bad[] = {
        {"{\"key\":\"1\",\"settings\":\"s\",\"message\":\"x\",\"answer\":\"a\"}\nnot json\n{}\n", "line 2: not a JSON object"},
        {"{\"key\":\"1\",\"settings\":\"s\",\"message\":\"x\"}\n", "line 1: no string \"answer\""},
        {"[1]\n", "line 1: not a JSON object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(path, sizeof path, "%s/bad%zu.jsonl", dir, i);
        write_text(path, bad[i].text);
        c = NULL;
        status = critic_cache_open(path, &c, err);
        check_true(ctx, status == T2G_ERR_FORMAT && !c && strstr(err->message, path) && strstr(err->message, bad[i].expect),
                   "refused: %s", err->message);
        critic_cache_close(c);
    }
    snprintf(path, sizeof path, "%s", dir);
    c = NULL;
    check_true(ctx, critic_cache_open(path, &c, err) != T2G_OK && !c, "a folder is refused (%s)", err->message);
    char command[300];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    if (system(command) != 0) check_true(ctx, false, "removing %s", dir);
    return ctx->failures;
}
