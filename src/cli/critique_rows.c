/* t2g critique --batch (critique_rows.h). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/clock.h"
#include "core/grow.h"
#include "core/read_file.h"
#include "core/utf8.h"
#include "critique_rows.h"

static const char *row_problem(const cJSON *row) {
    if (!cJSON_IsObject(row)) return "not a JSON object";
    const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(row, "prompt");
    const cJSON *response = cJSON_GetObjectItemCaseSensitive(row, "response");
    const cJSON *reference = cJSON_GetObjectItemCaseSensitive(row, "reference");
    if (!cJSON_IsString(prompt)) return "no string \"prompt\"";
    if (!cJSON_IsString(response)) return "no string \"response\"";
    if (reference && !cJSON_IsString(reference) && !cJSON_IsNull(reference)) return "\"reference\" is not a string";
    return NULL;
}

static char *copy_string(const cJSON *item) { return cJSON_IsString(item) ? strdup(item->valuestring) : NULL; }

int critique_rows_read(const char *path, const t2g_config *config, critique_rows *rows) {
    rows->path = path;
    t2g_line_reader lines;
    t2g_error err = {0};
    if (t2g_lines_open(&lines, path, "the --batch file", (t2g_read_cap){config->data.max_line_bytes, "data.max_line_bytes"},
                       &err)) {
        cli_error("critique: --batch: %s", err.message);
        return EXIT_USAGE;
    }
    int code = EXIT_OK;
    for (;;) {
        const char *line;
        size_t len;
        if (t2g_lines_next(&lines, &line, &len, &err)) {
            cli_error("critique: --batch: %s", err.message);
            code = EXIT_USAGE;
            break;
        }
        if (!line) break;
        size_t blank = 0;
        while (blank < len && (line[blank] == ' ' || line[blank] == '\t')) blank++;
        if (blank == len) continue;
        cJSON *row = cJSON_ParseWithLength(line, len);
        const char *problem = row ? row_problem(row) : "not JSON";
        if (problem) {
            cli_error("critique: %s:%llu: %s (a line is {\"prompt\": string, \"response\": string[, \"reference\": string]})",
                      path, (unsigned long long)lines.number, problem);
            cJSON_Delete(row);
            code = EXIT_USAGE;
            break;
        }
        critique_row r = {copy_string(cJSON_GetObjectItemCaseSensitive(row, "prompt")),
                          copy_string(cJSON_GetObjectItemCaseSensitive(row, "response")),
                          copy_string(cJSON_GetObjectItemCaseSensitive(row, "reference"))};
        cJSON_Delete(row);
        if (!r.prompt || !r.response || !t2g_grow(&rows->rows, &rows->cap, rows->count + 1, sizeof *rows->rows)) {
            free(r.prompt), free(r.response), free(r.reference);
            cli_error("critique: out of memory reading %s", path);
            code = EXIT_FAILED;
            break;
        }
        rows->rows[rows->count++] = r;
    }
    t2g_lines_close(&lines);
    if (!code && rows->count == 0) {
        cli_error("critique: --batch %s holds no row", path);
        code = EXIT_USAGE;
    }
    return code;
}

void critique_rows_free(critique_rows *rows) {
    for (size_t i = 0; i < rows->count; i++) {
        free(rows->rows[i].prompt);
        free(rows->rows[i].response);
        free(rows->rows[i].reference);
    }
    free(rows->rows);
    memset(rows, 0, sizeof *rows);
}

static void add_text(cJSON *o, const char *key, const char *bytes, size_t len) {
    char *clean = t2g_utf8_sanitize(bytes, len, NULL);
    cJSON_AddStringToObject(o, key, clean ? clean : "");
    free(clean);
}

/* One row's line: the result, its spans with where they were found. */
static cJSON *row_json(const critique_row *row, const t2g_critic_result *r, t2g_span_stats *stats) {
    cJSON *o = cJSON_CreateObject();
    add_text(o, "prompt", row->prompt, strlen(row->prompt));
    add_text(o, "response", row->response, strlen(row->response));
    cJSON_AddBoolToObject(o, "ok", r->ok);
    cJSON_AddNumberToObject(o, "attempts", r->attempts);
    if (!r->ok) {
        add_text(o, "error", r->error, strlen(r->error));
        if (r->answer) add_text(o, "answer", r->answer, strlen(r->answer)); /* what did not parse */
        return o;
    }
    const t2g_critique *c = &r->critique;
    add_text(o, "feedback", c->feedback, strlen(c->feedback));
    cJSON_AddNumberToObject(o, "score", r->score);
    t2g_aligned_span *aligned = calloc(c->span_count + 1, sizeof *aligned);
    t2g_span_scores scores = t2g_span_scores_default();
    t2g_error err = {0};
    bool found = aligned && t2g_align_spans(row->response, strlen(row->response), c, &scores, aligned, &err) == T2G_OK;
    if (found) t2g_span_stats_add(stats, c, aligned);
    cJSON *spans = cJSON_AddArrayToObject(o, "spans");
    for (uint32_t k = 0; k < c->span_count; k++) {
        cJSON *span = cJSON_CreateObject();
        add_text(span, "text", c->spans[k].text, c->spans[k].len);
        cJSON_AddStringToObject(span, "kind", t2g_span_kind_name(c->spans[k].kind));
        cJSON_AddStringToObject(span, "match", found ? t2g_match_kind_name(aligned[k].match) : "none");
        cJSON_AddNumberToObject(span, "start", found ? (double)aligned[k].start : -1);
        cJSON_AddNumberToObject(span, "end", found ? (double)aligned[k].end : -1);
        cJSON_AddItemToArray(spans, span);
    }
    free(aligned);
    return o;
}

static void print_counts(const critique_rows *rows, const t2g_critic_stats *s, const t2g_span_stats *spans, double ms) {
    uint32_t total = 0, found = 0;
    for (int k = 0; k < 3; k++) {
        total += spans->spans[k];
        found += spans->spans[k] - spans->matched[k][T2G_MATCH_NONE];
    }
    fprintf(stderr,
            "critique: %zu rows in %.1f s: %llu judged, %llu without a critique (%llu answers unparsed); %u spans, "
            "%u found in their responses; %llu requests, %llu retries, %llu cache hits, tokens %llu in + %llu out\n",
            rows->count, ms / 1e3, (unsigned long long)s->judged, (unsigned long long)s->failed,
            (unsigned long long)s->unparsed, total, found, (unsigned long long)s->requests,
            (unsigned long long)s->retries, (unsigned long long)s->cache_hits, (unsigned long long)s->prompt_tokens,
            (unsigned long long)s->completion_tokens);
}

int critique_rows_judge(const critique_rows *rows, const char *out, t2g_critic *critic) {
    size_t n = rows->count;
    if (n > UINT32_MAX) {
        cli_error("critique: --batch %s: %zu rows; at most %u at once", rows->path, n, UINT32_MAX);
        return EXIT_USAGE;
    }
    t2g_critic_request *requests = calloc(n, sizeof *requests);
    t2g_critic_result *results = calloc(n, sizeof *results);
    FILE *f = out ? fopen(out, "wb") : stdout;
    if (!requests || !results || !f) {
        if (!f) cli_error("critique: --out %s: %s", out, strerror(errno));
        else cli_error("critique: out of memory");
        free(requests);
        free(results);
        return EXIT_FAILED;
    }
    for (size_t i = 0; i < n; i++)
        requests[i] = (t2g_critic_request){.id = i, .prompt = rows->rows[i].prompt, .response = rows->rows[i].response,
                                           .response_len = strlen(rows->rows[i].response),
                                           .reference = rows->rows[i].reference};
    t2g_error err = {0};
    double start = t2g_clock_ms();
    int code = EXIT_OK;
    if (t2g_critic_judge(critic, requests, (uint32_t)n, results, &err)) {
        cli_error("critique: %s", err.message);
        code = EXIT_FAILED;
    }
    double ms = t2g_clock_ms() - start;
    t2g_span_stats spans = {0};
    size_t ok = 0;
    for (size_t i = 0; !code && i < n; i++) {
        cJSON *line = row_json(&rows->rows[i], &results[i], &spans);
        char *text = line ? cJSON_PrintUnformatted(line) : NULL;
        cJSON_Delete(line);
        if (!text || fputs(text, f) == EOF || fputc('\n', f) == EOF) code = EXIT_FAILED;
        free(text);
        ok += results[i].ok;
    }
    if ((out ? fclose(f) : fflush(f)) != 0 && !code) code = EXIT_FAILED;
    if (code == EXIT_FAILED && !err.message[0]) cli_error("critique: cannot write %s", out ? out : "standard output");
    if (!code) print_counts(rows, t2g_critic_get_stats(critic), &spans, ms);
    if (!code && ok == 0) {
        cli_error("critique: the critic gave no critique for any of the %zu rows (the first: %s)", n, results[0].error);
        code = EXIT_FAILED;
    }
    for (size_t i = 0; i < n; i++) t2g_critic_result_free(&results[i]);
    free(requests);
    free(results);
    return code;
}
