/* The run report (t2g_report_write) on synthetic run folders: a train run and an RL run with
 * hostile text everywhere a file can put it (responses, critiques, spans, config strings, the
 * device, the folder's name), empty responses, non-ASCII text, control characters and bytes
 * that are not UTF-8. The page must be well-formed (a tag-balance check), script-free,
 * self-contained, valid UTF-8, with every section and no raw hostile text; overlaid runs get one
 * legend per chart naming both; a train run has no RL charts; a missing run.json is fine;
 * malformed lines are named with their line numbers; a folder that is not a run is refused; a
 * run of thousands of steps takes well under a second. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "t2g/report.h"

#define HOSTILE "</script><img src=x onerror=alert(1)>\"'&amp;"
#define HOSTILE_ESCAPED "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;amp;"
#define RL_DIR_NAME "rl<img src=x onerror=alert(1)>\"'&"
#define RL_DIR_ESCAPED "rl&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;"

/* ---- scratch folders ---- */

static void remove_tree(const char *path) {
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char child[2048];
            snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            remove_tree(child);
        }
        closedir(d);
        rmdir(path);
    } else {
        remove(path);
    }
}

static bool write_text(check_ctx *ctx, const char *dir, const char *name, const char *text) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(text, 1, strlen(text), f) == strlen(text);
    if (f) ok = fclose(f) == 0 && ok;
    return check_true(ctx, ok, "write %s", path);
}

/* Appends a cJSON object as one line (and deletes it). */
static void put_line(FILE *f, cJSON *o) {
    char *text = cJSON_PrintUnformatted(o);
    if (text) fprintf(f, "%s\n", text);
    cJSON_free(text);
    cJSON_Delete(o);
}

static FILE *open_in(const char *dir, const char *name) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return fopen(path, "wb");
}

static char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *data = malloc(cap + 1);
    size_t got;
    while (data && (got = fread(data + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *grown = realloc(data, 2 * cap + 1);
            if (!grown) {
                free(data);
                data = NULL;
                break;
            }
            data = grown;
            cap *= 2;
        }
    }
    fclose(f);
    if (data) data[n] = 0;
    if (len) *len = n;
    return data;
}

/* ---- the synthetic runs ---- */

static cJSON *eval_sample(double step, const char *prompt, const char *response, const char *reference, double score) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "step", step);
    cJSON_AddStringToObject(o, "kind", "eval");
    cJSON_AddStringToObject(o, "prompt", prompt);
    cJSON_AddStringToObject(o, "response", response);
    cJSON_AddStringToObject(o, "reference", reference);
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(o, "score"), "exact_match", score);
    return o;
}

/* A train run: run.json (a hostile device name), a config with hostile strings, `steps` steps
 * with evaluations at 0, the middle and the end, and samples with hostile, empty, non-ASCII,
 * control-character and non-UTF-8 responses. */
static bool make_train_run(check_ctx *ctx, const char *dir, int steps, int eval_every) {
    if (!check_true(ctx, mkdir(dir, 0755) == 0, "mkdir %s", dir)) return false;
    write_text(ctx, dir, "run.json",
               "{\"kind\": \"train\", \"t2g\": \"0.1.0\", \"device\": {\"name\": \"GPU \\\"<b>bold</b>\\\"\", \"type\": "
               "\"CPU\", \"driver\": \"Mesa <i>\", \"vulkan\": \"1.3\"}, \"started\": \"2026-01-01T00:00:00Z\"}\n");
    cJSON *config = cJSON_CreateObject();
    cJSON_AddStringToObject(config, "name", HOSTILE);
    cJSON_AddNumberToObject(config, "seed", 1);
    cJSON *model = cJSON_AddObjectToObject(config, "model");
    cJSON_AddNumberToObject(model, "layers", 2);
    cJSON_AddNumberToObject(model, "width", 32);
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(config, "train"), "steps", steps);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(config, "critic"), "command", HOSTILE " --flag='x'");
    char *text = cJSON_Print(config);
    cJSON_Delete(config);
    write_text(ctx, dir, "config.json", text);
    cJSON_free(text);

    FILE *metrics = open_in(dir, "metrics.jsonl"), *samples = open_in(dir, "samples.jsonl");
    if (!check_true(ctx, metrics && samples, "create the JSONL files in %s", dir)) {
        if (metrics) fclose(metrics);
        if (samples) fclose(samples);
        return false;
    }
    for (int step = 0; step <= steps; step++) {
        cJSON *line = cJSON_CreateObject();
        cJSON_AddNumberToObject(line, "step", step);
        if (step > 0) {
            cJSON_AddNumberToObject(line, "loss", 5.0 / (1 + 0.05 * step) + 0.05 * ((step * 7919) % 13) / 13.0);
            cJSON_AddNumberToObject(line, "lr", 1e-3 * (step < 10 ? step / 10.0 : 1.0));
            cJSON_AddNumberToObject(line, "grad_norm", 2.0 - step * 0.5 / steps);
            cJSON_AddNumberToObject(line, "tokens_per_s", 6000 + (step % 7) * 100);
            cJSON_AddNumberToObject(line, "ms_per_step", 100);
            cJSON_AddNumberToObject(line, "truncated", 0);
        }
        bool evaluate = step % eval_every == 0 || step == steps;
        if (evaluate) {
            cJSON *eval = cJSON_AddObjectToObject(line, "eval");
            cJSON_AddNumberToObject(eval, "exact_match", (double)step / steps);
            cJSON_AddNumberToObject(eval, "seconds", 0.5);
            put_line(samples, eval_sample(step, "1+1=", "", "2", 0));
            put_line(samples, eval_sample(step, HOSTILE, HOSTILE "\x07 bell", "ref " HOSTILE, 0));
            put_line(samples, eval_sample(step, "日本語 ✓ é", "\xff\xfe bad \xE2\x80\xAE bidi", "日本語", 1));
        }
        put_line(metrics, line);
    }
    fclose(metrics);
    fclose(samples);
    return true;
}

static cJSON *token(const char *text, double score) {
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "text", text);
    cJSON_AddNumberToObject(t, "score", score);
    return t;
}

static cJSON *span(const char *text, const char *kind, const char *match) {
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "text", text);
    cJSON_AddStringToObject(s, "kind", kind);
    cJSON_AddStringToObject(s, "match", match);
    return s;
}

/* An RL run without run.json: rl metrics at steps 1..10, evaluations at 0 and 10, rollouts at
 * steps 1, 5 and 10 (step 5's must not be shown) with coloured tokens, an unmatched span and an
 * empty response. */
static bool make_rl_run(check_ctx *ctx, const char *dir) {
    if (!check_true(ctx, mkdir(dir, 0755) == 0, "mkdir the RL run")) return false;
    write_text(ctx, dir, "config.json", "{\"name\": \"rl\", \"rl\": {\"start\": \"runA/<checkpoint>.bin\"}, "
                                        "\"train\": {\"steps\": 10}}");
    FILE *metrics = open_in(dir, "metrics.jsonl"), *samples = open_in(dir, "samples.jsonl");
    if (!check_true(ctx, metrics && samples, "create the RL run's JSONL files")) {
        if (metrics) fclose(metrics);
        if (samples) fclose(samples);
        return false;
    }
    static const char *const keys[] = {"score", "token_score", "reward", "kl", "beta", "policy_loss", "value_loss",
                                       "clip_fraction", "approx_kl", "entropy", "span_match_rate",
                                       "rollout_tokens_per_s", "train_tokens_per_s", "ms_per_step"};
    for (int step = 0; step <= 10; step++) {
        cJSON *line = cJSON_CreateObject();
        cJSON_AddNumberToObject(line, "step", step);
        if (step > 0) {
            for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
                cJSON_AddNumberToObject(line, keys[k], 0.1 * step + (double)k);
            cJSON *spans = cJSON_AddObjectToObject(line, "spans");
            cJSON_AddNumberToObject(cJSON_AddObjectToObject(spans, "poor"), "spans", 3);
            cJSON_AddNullToObject(line, "critic_failures"); /* a gap */
        }
        if (step == 0 || step == 10) {
            cJSON *eval = cJSON_AddObjectToObject(line, "eval");
            cJSON_AddNumberToObject(eval, "exact_match", step / 20.0);
            put_line(samples, eval_sample(step, "2+2=", step ? "4" : "5", "4", step ? 1 : 0));
        }
        put_line(metrics, line);
        if (step == 1 || step == 5 || step == 10) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "step", step);
            cJSON_AddStringToObject(o, "kind", "rollout");
            cJSON_AddStringToObject(o, "prompt", "2+2=");
            cJSON_AddStringToObject(o, "response", "4 <b>x</b>");
            cJSON_AddStringToObject(o, "critique", step == 5 ? "MIDDLE-STEP" : HOSTILE " 'quoted' \"double\"");
            cJSON_AddNumberToObject(o, "score", 0.5);
            cJSON *tokens = cJSON_AddArrayToObject(o, "tokens");
            cJSON_AddItemToArray(tokens, token("4", 1));
            cJSON_AddItemToArray(tokens, token(" <b>", -0.5));
            cJSON_AddItemToArray(tokens, token("x\x01", 0));
            cJSON_AddItemToArray(tokens, token("</b>\"'", -2));
            cJSON *spans = cJSON_AddArrayToObject(o, "spans");
            cJSON_AddItemToArray(spans, span("4", "good", "exact"));
            cJSON_AddItemToArray(spans, span("UNMATCHED " HOSTILE, "poor", "none"));
            put_line(samples, o);
            o = cJSON_CreateObject(); /* a zero-length response */
            cJSON_AddNumberToObject(o, "step", step);
            cJSON_AddStringToObject(o, "kind", "rollout");
            cJSON_AddStringToObject(o, "prompt", "3+3=");
            cJSON_AddStringToObject(o, "response", "");
            cJSON_AddStringToObject(o, "critique", "");
            cJSON_AddNumberToObject(o, "score", -1);
            cJSON_AddArrayToObject(o, "tokens");
            cJSON_AddArrayToObject(o, "spans");
            put_line(samples, o);
        }
    }
    fclose(metrics);
    fclose(samples);
    return true;
}

/* ---- what a page must be ---- */

static bool is_void(const char *name) {
    static const char *const names[] = {"area", "base", "br", "col", "embed", "hr", "img", "input",
                                        "link", "meta", "source", "track", "wbr"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(name, names[i]) == 0) return true;
    return false;
}

/* Every element closed in order (void elements aside; "/>" only inside <svg>), attribute values
 * in double quotes without < or ", no on* attribute, no raw < or > in text, the style sheet the only raw text.
 * Returns NULL, or what is wrong (in `why`). */
static const char *tag_balance(const char *html, char *why, size_t size) {
    char stack[256][16];
    int depth = 0, svg_depth = 0;
    const char *p = html;
    if (strncmp(p, "<!DOCTYPE html>", 15) != 0) return snprintf(why, size, "no <!DOCTYPE html> first"), why;
    p += 15;
    while (*p) {
        if (*p == '>') return snprintf(why, size, "a raw '>' in text at byte %ld", (long)(p - html)), why;
        if (*p != '<') {
            p++;
            continue;
        }
        long at = (long)(p - html);
        if (!strncmp(p, "<!--", 4)) {
            const char *end = strstr(p, "-->");
            if (!end) return snprintf(why, size, "an unclosed comment at byte %ld", at), why;
            p = end + 3;
            continue;
        }
        bool closing = p[1] == '/';
        const char *q = p + 1 + closing;
        char name[16];
        size_t n = 0;
        while ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9'))
            if (n < sizeof name - 1) name[n++] = *q++;
            else q++;
        name[n] = 0;
        if (n == 0) return snprintf(why, size, "a raw '<' in text at byte %ld", at), why;
        /* attributes */
        bool self_closed = false;
        while (*q && *q != '>') {
            if (*q == '"') {
                const char *end = strchr(q + 1, '"');
                if (!end) return snprintf(why, size, "an unterminated attribute value at byte %ld", at), why;
                for (const char *c = q + 1; c < end; c++)
                    if (*c == '<') return snprintf(why, size, "a '<' in an attribute value at byte %ld", at), why;
                q = end + 1;
                continue;
            }
            if (*q == '\'') return snprintf(why, size, "a single-quoted attribute at byte %ld", at), why;
            if (*q == '<') return snprintf(why, size, "a '<' inside the tag at byte %ld", at), why;
            if (*q == '/' && q[1] == '>') self_closed = true;
            if (*q == ' ' || *q == '\n' || *q == '\t') {
                const char *attribute = q + 1;
                if (strncasecmp(attribute, "on", 2) == 0)
                    return snprintf(why, size, "an event handler attribute in <%s at byte %ld", name, at), why;
                static const char *const external[] = {"src=", "srcset=", "action=", "formaction=", "xlink:href=",
                                                       "poster=", "data=", "background="};
                for (size_t i = 0; i < sizeof external / sizeof external[0]; i++)
                    if (strncasecmp(attribute, external[i], strlen(external[i])) == 0)
                        return snprintf(why, size, "%s in <%s at byte %ld", external[i], name, at), why;
                if (strncasecmp(attribute, "href=", 5) == 0 && strncmp(attribute, "href=\"#", 7) != 0)
                    return snprintf(why, size, "a link out of the page in <%s at byte %ld", name, at), why;
            }
            q++;
        }
        if (!*q) return snprintf(why, size, "an unterminated tag <%s at byte %ld", name, at), why;
        p = q + 1;
        if (closing) {
            if (depth == 0 || strcasecmp(stack[depth - 1], name) != 0)
                return snprintf(why, size, "</%s> at byte %ld closes <%s>", name, at, depth ? stack[depth - 1] : "nothing"),
                       why;
            depth--;
            if (strcasecmp(name, "svg") == 0) svg_depth--;
            continue;
        }
        if (is_void(name)) continue;
        if (self_closed) {
            if (svg_depth == 0) return snprintf(why, size, "<%s/> outside SVG at byte %ld", name, at), why;
            continue;
        }
        if (depth == 256) return snprintf(why, size, "elements nested too deep"), why;
        snprintf(stack[depth++], sizeof stack[0], "%s", name);
        if (strcasecmp(name, "svg") == 0) svg_depth++;
        if (strcasecmp(name, "style") == 0) { /* raw text up to </style> */
            const char *end = strstr(p, "</style>");
            if (!end) return snprintf(why, size, "an unclosed <style>"), why;
            p = end;
        }
    }
    if (depth) return snprintf(why, size, "<%s> is never closed", stack[depth - 1]), why;
    return NULL;
}

/* Every '&' starts an entity of the few the page uses. */
static const char *bad_entity(const char *html) {
    for (const char *p = strchr(html, '&'); p; p = strchr(p + 1, '&')) {
        const char *q = p + 1;
        if (*q == '#') {
            q++;
            int digits = 0;
            while (*q >= '0' && *q <= '9') q++, digits++;
            if (digits == 0 || digits > 7 || *q != ';') return p;
        } else if (strncmp(q, "amp;", 4) && strncmp(q, "lt;", 3) && strncmp(q, "gt;", 3) && strncmp(q, "quot;", 5)) {
            return p;
        }
    }
    return NULL;
}

/* The offset of the first byte that is not valid UTF-8 or is a control character other than
 * \n and \t; -1 if none. */
static long bad_byte(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c < 0x80) {
            if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7F) return (long)i;
            i++;
            continue;
        }
        size_t len = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c <= 0xDF ? 2 : 0;
        if (len == 0 || c > 0xF4 || i + len > n) return (long)i;
        for (size_t k = 1; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80) return (long)i;
        if (c == 0xE0 && s[i + 1] < 0xA0) return (long)i;  /* overlong */
        if (c == 0xED && s[i + 1] > 0x9F) return (long)i;  /* surrogate */
        if (c == 0xF0 && s[i + 1] < 0x90) return (long)i;  /* overlong */
        if (c == 0xF4 && s[i + 1] > 0x8F) return (long)i;  /* past U+10FFFF */
        if (c == 0xC2 && s[i + 1] < 0xA0) return (long)i;  /* a C1 control */
        i += len;
    }
    return -1;
}

static int count(const char *haystack, const char *needle) {
    int n = 0;
    for (const char *p = strstr(haystack, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

static bool contains_nocase(const char *haystack, const char *needle) {
    size_t n = strlen(needle);
    for (const char *p = haystack; *p; p++)
        if (strncasecmp(p, needle, n) == 0) return true;
    return false;
}

/* The checks every page must pass. */
static void check_page(check_ctx *ctx, const char *label, const char *html, size_t len) {
    char why[256];
    const char *problem = tag_balance(html, why, sizeof why);
    check_true(ctx, !problem, "%s: well-formed%s%s", label, problem ? ": " : "", problem ? problem : "");
    const char *entity = bad_entity(html);
    check_true(ctx, !entity, "%s: every & starts an entity%s%.12s", label, entity ? ": " : "", entity ? entity : "");
    long bad = bad_byte((const unsigned char *)html, len);
    check_true(ctx, bad < 0, "%s: valid UTF-8 without control characters (first bad byte at %ld)", label, bad);
    check_true(ctx, strlen(html) == len, "%s: no NUL byte", label);
    check_true(ctx, !contains_nocase(html, "<script") && !contains_nocase(html, "javascript:"), "%s: no script", label);
    check_true(ctx, !contains_nocase(html, "http:") && !contains_nocase(html, "https:") &&
                        !contains_nocase(html, "url(") && !contains_nocase(html, "@import") &&
                        !contains_nocase(html, "<link"),
               "%s: no external reference (and none in a tag: the tag check)", label);
    check_true(ctx, !strstr(html, "<img") && !strstr(html, "<b>bold") && !strstr(html, "<i>") && !strstr(html, HOSTILE) &&
                        !strstr(html, "onerror=alert(1)>"),
               "%s: no raw hostile text", label);
    check_true(ctx, strstr(html, "<header") && strstr(html, "id=\"config\"") && strstr(html, "id=\"curves\"") &&
                        strstr(html, "id=\"samples\"") && strstr(html, "id=\"reproduce\"") && strstr(html, "<footer"),
               "%s: every section (header, config, curves, samples, reproduce)", label);
    int figures = count(html, "<figure class=\"chart\">");
    check_true(ctx, figures > 0 && count(html, "<ul class=\"legend\">") == figures &&
                        count(html, "<svg class=\"plot\"") == figures,
               "%s: each of the %d charts has one plot and one legend", label, figures);
}

/* The text of the chart whose title is `title`, or NULL. */
static char *chart(const char *html, const char *title, char *out, size_t size) {
    char needle[128];
    snprintf(needle, sizeof needle, "<figcaption><b>%s</b>", title);
    const char *start = strstr(html, needle);
    if (!start) return NULL;
    const char *end = strstr(start, "</figure>");
    if (!end) return NULL;
    snprintf(out, size, "%.*s", (int)(end - start), start);
    return out;
}

static char *report(check_ctx *ctx, const char *const *dirs, uint32_t n, const char *out, t2g_status expect,
                    size_t *len) {
    t2g_error err = {0};
    t2g_status status = t2g_report_write(dirs, n, out, &err);
    check_true(ctx, status == expect, "report of %s%s: status %s (expected %s)%s%s", dirs[0], n > 1 ? " and more" : "",
               t2g_status_name(status), t2g_status_name(expect), status ? ": " : "", status ? err.message : "");
    return out && (status == T2G_OK || status == T2G_ERR_FORMAT) ? read_all(out, len) : NULL;
}

static double seconds_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

T2G_HOST_CHECK(report_html) {
    char root[512], a[600], rl[700], out[800], c[600];
    const char *tmp = getenv("TMPDIR");
    snprintf(root, sizeof root, "%s/t2g-check-report-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(root)) {
        check_fail(ctx, "mkdtemp %s: %s", root, strerror(errno));
        return ctx->failures;
    }
    snprintf(a, sizeof a, "%s/runA", root);
    snprintf(rl, sizeof rl, "%s/%s", root, RL_DIR_NAME);
    if (!make_train_run(ctx, a, 40, 20) || !make_rl_run(ctx, rl)) {
        remove_tree(root);
        return ctx->failures;
    }
    size_t len = 0;
    char figure[200000];

    /* a train run, to the default path */
    const char *one[] = {a};
    char path[800];
    snprintf(path, sizeof path, "%s/report.html", a);
    free(report(ctx, one, 1, NULL, T2G_OK, &len));
    char *html = read_all(path, &len);
    check_true(ctx, html != NULL, "the default path is <run>/report.html");
    if (html) {
        check_page(ctx, "train run", html, len);
        check_true(ctx, strstr(html, HOSTILE_ESCAPED) != NULL, "hostile text is shown, escaped");
        check_true(ctx, strstr(html, "\\x07") && strstr(html, "\\xFF") && strstr(html, "\\xFE") && strstr(html, "\\u202E"),
                   "a control character, bytes that are not UTF-8 and a bidi override are shown as escapes");
        check_true(ctx, strstr(html, "日本語 ✓ é") != NULL, "non-ASCII text is kept as it is");
        check_true(ctx, strstr(html, "(empty)") != NULL, "an empty response is shown as (empty)");
        check_true(ctx, strstr(html, "GPU &quot;&lt;b&gt;bold&lt;/b&gt;&quot;") != NULL, "the device name, escaped");
        check_true(ctx, chart(html, "loss", figure, sizeof figure) && chart(html, "exact_match", figure, sizeof figure),
                   "train run: a loss chart and an evaluation chart");
        char *plot_end = chart(html, "exact_match", figure, sizeof figure) ? strstr(figure, "</svg>") : NULL;
        if (plot_end) *plot_end = 0; /* the plot, not the legend's swatch */
        check_true(ctx, plot_end && count(figure, "<circle") == 3,
                   "the evaluation chart marks its 3 evaluations, step 0 included");
        check_true(ctx, !strstr(html, "critic score") && !strstr(html, "clip fraction") && !strstr(html, "value loss") &&
                        !strstr(html, "rollouts at step"),
                   "a run without RL metrics has no RL charts and no rollouts");
        check_true(ctx, strstr(html, "before (step 0) and after (step 40)") != NULL,
                   "samples of the first and last evaluation");
        check_true(ctx, strstr(html, "t2g train --config") != NULL, "the footer says how to reproduce");
        check_true(ctx, strstr(html, "4.0 s") != NULL, "wall time: the sum of ms_per_step (40 x 100 ms)");
    }
    free(html);
    char leftover[900];
    snprintf(leftover, sizeof leftover, "%s/report.html.tmp.%ld", a, (long)getpid());
    check_true(ctx, access(leftover, F_OK) != 0, "no temporary file left behind");

    /* an RL run without run.json */
    snprintf(out, sizeof out, "%s/rl.html", root);
    const char *rl_only[] = {rl};
    html = report(ctx, rl_only, 1, out, T2G_OK, &len);
    if (html) {
        check_page(ctx, "RL run", html, len);
        check_true(ctx, strstr(html, RL_DIR_ESCAPED) && !strstr(html, RL_DIR_NAME), "the run's name, escaped");
        check_true(ctx, strstr(html, "guessed: no run.json") != NULL, "missing run.json: the kind is guessed");
        static const char *const titles[] = {"critic score", "token score", "reward", "KL to the start",
                                             "\xCE\xB2, the KL coefficient", "clip fraction", "approximate KL",
                                             "value loss", "entropy", "exact_match"};
        for (size_t i = 0; i < sizeof titles / sizeof titles[0]; i++)
            check_true(ctx, chart(html, titles[i], figure, sizeof figure) != NULL, "RL run: a chart of %s", titles[i]);
        check_true(ctx, !chart(html, "loss", figure, sizeof figure), "RL run: no loss chart");
        check_true(ctx, strstr(html, "rollouts at step 1 ") && strstr(html, "rollouts at step 10 ") &&
                        !strstr(html, "MIDDLE-STEP"),
                   "rollouts of the first and last RL step only");
        check_true(ctx, strstr(html, "class=\"tok g\"") && strstr(html, "class=\"tok p\"") &&
                        strstr(html, "class=\"tok n\""),
                   "tokens coloured good, poor and neutral");
        check_true(ctx, strstr(html, "&lt;/b&gt;&quot;&#39;</span>") != NULL, "a token's hostile text, escaped");
        check_true(ctx, strstr(html, "x<span class=\"esc\">\\x01</span>") != NULL, "a control character in a token");
        check_true(ctx, count(html, "<ul class=\"unmatched\">") == 2 && count(html, "UNMATCHED " HOSTILE_ESCAPED) == 2,
                   "the unmatched span listed, escaped, once per shown step");
        check_true(ctx, strstr(html, "(empty response)") != NULL, "a zero-length response");
        check_true(ctx, strstr(html, "t2g rl --config") && strstr(html, "runA/&lt;checkpoint&gt;.bin"),
                   "the footer: t2g rl and the starting checkpoint");
    }
    free(html);

    /* both overlaid */
    snprintf(out, sizeof out, "%s/both.html", root);
    const char *both[] = {a, rl};
    html = report(ctx, both, 2, out, T2G_OK, &len);
    if (html) {
        check_page(ctx, "two runs", html, len);
        bool found = chart(html, "exact_match", figure, sizeof figure) != NULL;
        check_true(ctx, found && count(figure, "<ul class=\"legend\">") == 1 && strstr(figure, ">runA</span>") &&
                        strstr(figure, ">" RL_DIR_ESCAPED "</span>"),
                   "the evaluation chart of two runs: one legend with both names");
        check_true(ctx, found && strstr(figure, "#0072B2") && strstr(figure, "#D55E00") && strstr(figure, "stroke-dasharray"),
                   "two runs: two colours, and a dash pattern");
        check_true(ctx, strstr(html, "class=\"diff\"") && strstr(html, "keys differ"),
                   "config keys that differ are marked");
    }
    free(html);

    /* malformed lines: named with their line numbers, left out, the report still written */
    snprintf(c, sizeof c, "%s/runC", root);
    mkdir(c, 0755);
    write_text(ctx, c, "config.json", "{\"name\": \"c\"}");
    write_text(ctx, c, "metrics.jsonl",
               "{\"step\": 1, \"loss\": 2}\n{\"step\": 2, \"loss\": 1.5}\n{\"step\": 3, \"loss\": \n[1, 2]\n"
               "{\"loss\": 1}\n\n{\"step\": 6, \"loss\": 1}\n");
    write_text(ctx, c, "samples.jsonl", "{\"step\": 1, \"kind\": \"eval\", \"prompt\": \"p\"}\nnot json\n");
    snprintf(out, sizeof out, "%s/c.html", root);
    const char *malformed[] = {c};
    t2g_error err = {0};
    t2g_status status = t2g_report_write(malformed, 1, out, &err);
    check_true(ctx, status == T2G_ERR_FORMAT && strstr(err.message, "metrics.jsonl line 3"),
               "a malformed metrics line is named with its line number: %s", err.message);
    html = read_all(out, &len);
    check_true(ctx, html != NULL, "the report is written without the malformed lines");
    if (html) {
        check_page(ctx, "malformed lines", html, len);
        check_true(ctx, strstr(html, "metrics.jsonl line 3") && strstr(html, "metrics.jsonl line 4") &&
                        strstr(html, "metrics.jsonl line 5") && strstr(html, "samples.jsonl line 2") &&
                        !strstr(html, "metrics.jsonl line 6") && !strstr(html, "metrics.jsonl line 7"),
                   "the page lists each malformed line (and not the blank or good ones)");
    }
    free(html);

    /* not a run folder; a folder that does not exist; an unreadable file; too many runs */
    char empty[700], missing[700], unreadable[700], sub[800];
    snprintf(empty, sizeof empty, "%s/empty", root);
    mkdir(empty, 0755);
    snprintf(missing, sizeof missing, "%s/no-such-run", root);
    snprintf(unreadable, sizeof unreadable, "%s/unreadable", root);
    mkdir(unreadable, 0755);
    write_text(ctx, unreadable, "config.json", "{}");
    snprintf(sub, sizeof sub, "%s/metrics.jsonl", unreadable);
    mkdir(sub, 0755); /* a folder where a file should be */
    snprintf(out, sizeof out, "%s/never.html", root);
    struct {
        const char *dir, *expect;
    } refused[] = {{empty, "is not a run folder"}, {missing, "cannot open the run folder"}, {unreadable, "cannot read"}};
    for (size_t i = 0; i < 3; i++) {
        memset(&err, 0, sizeof err);
        const char *dirs[] = {a, refused[i].dir};
        status = t2g_report_write(dirs, 2, out, &err);
        check_true(ctx, status == T2G_ERR_IO && strstr(err.message, refused[i].expect) && strstr(err.message, refused[i].dir),
                   "refused with T2G_ERR_IO naming the folder (%s): %s", refused[i].expect, err.message);
    }
    check_true(ctx, access(out, F_OK) != 0, "a refused report writes nothing");
    /* a FIFO where a run file should be: refused at once (reading it would wait for a writer) */
    char piped[700], fifo[800];
    snprintf(piped, sizeof piped, "%s/piped", root);
    mkdir(piped, 0755);
    write_text(ctx, piped, "config.json", "{}");
    snprintf(fifo, sizeof fifo, "%s/metrics.jsonl", piped);
    if (check_true(ctx, mkfifo(fifo, 0600) == 0, "mkfifo %s", fifo)) {
        const char *dirs[] = {a, piped};
        status = t2g_report_write(dirs, 2, out, &err);
        check_true(ctx, status == T2G_ERR_IO && strstr(err.message, fifo) && strstr(err.message, "FIFO"),
                   "a FIFO metrics.jsonl is refused without blocking: %s", err.message);
        unlink(fifo);
    }
    const char *many[17];
    for (int i = 0; i < 17; i++) many[i] = a;
    check_true(ctx, t2g_report_write(many, 17, out, &err) == T2G_ERR_ARGUMENT && t2g_report_write(many, 0, out, &err),
               "17 runs or none: refused");

    /* thousands of steps: a page of bounded size */
    char big[700];
    snprintf(big, sizeof big, "%s/big", root);
    if (make_train_run(ctx, big, 5000, 100)) {
        snprintf(out, sizeof out, "%s/big.html", root);
        const char *dirs[] = {big, a};
        double start = seconds_now();
        html = report(ctx, dirs, 2, out, T2G_OK, &len);
        double took = seconds_now() - start;
        check_log(ctx, "  5000 steps and 40 steps overlaid: %.3f s, %zu bytes", took, len);
        /* bounded by what is drawn (a few points per pixel column), not by seconds: the time is
         * logged for information; `t2g report` speed belongs in a benchmark */
        check_true(ctx, len < 3000000, "a report of 5000 steps stays small: %zu bytes", len);
        if (html) check_page(ctx, "5000 steps", html, len);
        free(html);
    }
    remove_tree(root);
    return ctx->failures;
}
