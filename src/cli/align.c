/* t2g align: a critique's quoted spans found in a response, and the score each token gets. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "core/read_file.h"
#include "t2g/checkpoint.h"
#include "t2g/feedback.h"
#include "t2g/tokenizer.h"

static const char HELP[] =
    "usage: t2g align (--response TEXT | --response-file FILE) --feedback FILE|- [options]\n"
    "       t2g align --batch FILE.jsonl [--out FILE] [options]\n"
    "\n"
    "Finds the phrases that a critique quotes from a response and shows the score each token of\n"
    "the response gets from them: what the Text2Grad trainer learns from.\n"
    "\n"
    "A critique is JSON, bare, in a ```json fence or inside prose, in one of three formats:\n"
    "  {\"textual_feedback\": \"...\", \"good_spans\": [\"...\"], \"poor_spans\": [\"...\"]}\n"
    "  {\"Code Feedback\": \"...\", \"wrong_code\": [\"...\"], \"improvement_code\": [\"...\"]}\n"
    "  {\"textual_feedback\": \"...\", \"word_score_list\": [[\"word\", 1], [\"word\", -1], [\"word\", 0]]}\n"
    "Each span is searched exactly, then ignoring case, whitespace and punctuation (mapped back\n"
    "to the exact bytes), then fuzzily (the most similar stretch of the response). A token takes\n"
    "the score of the span covering its first byte: good +1, poor and wrong_code -1, neutral and\n"
    "improvement_code 0, the lowest where spans overlap; other tokens get the unannotated score;\n"
    "whitespace and punctuation tokens get 0.\n"
    "\n"
    "  --response TEXT       the response\n"
    "  --response-file FILE  the response, read verbatim (a final newline is kept)\n"
    "  --feedback FILE|-     the critique (- reads standard input)\n"
    "  --json                one JSON object on standard output:\n"
    "                        {\"tokens\": [{\"text\", \"start\", \"end\", \"score\"}],\n"
    "                         \"spans\": [{\"text\", \"kind\", \"match\", \"start\", \"end\"}]}\n"
    "                        kind: good|poor|neutral; match: exact|normalized|fuzzy|none; offsets are\n"
    "                        bytes of the response, end exclusive, -1 when unmatched; a token's text\n"
    "                        is valid UTF-8 (a byte that is part of a character reads \\xC3, a\n"
    "                        backslash \\\\)\n"
    "  --batch FILE.jsonl    one record a line, {\"prompt\", \"response\", \"critique\"} (the critique\n"
    "                        a string or an object), to JSONL records {\"prompt\", \"response\",\n"
    "                        \"tokens\", \"spans\"}, with \"parse_error\" when a critique cannot be\n"
    "                        read; match statistics on standard error at the end. A malformed line\n"
    "                        is reported by its number and skipped.\n"
    "  --out FILE            with --batch: write FILE instead of standard output\n"
    "  --ckpt C              check that checkpoint C uses the byte tokenizer (vocabulary 259)\n"
    "  --threshold X         the lowest similarity of a fuzzy match, in (0, 1] (default 0.7)\n"
    "  --unannotated X       the score of tokens no span covers (default 0; the paper's code task: 1)\n"
    "  --keep-punctuation    whitespace and punctuation tokens keep their span's score\n"
    "  --set KEY=N           raise a cap (defaults as in a config): critic.max_spans (256 spans\n"
    "                        per critique), critic.max_bytes (1 MiB per critique, the --feedback\n"
    "                        file or input included), data.max_line_bytes (1 MiB per --batch line\n"
    "                        and for --response-file); a critique over a cap is refused\n"
    "\n"
    "Without --json, the response is printed with each token's score marked (colours on a\n"
    "terminal, else [+...] for positive, [-...] negative, [=...] zero scores; unannotated tokens\n"
    "plain), then the spans with their match and offsets.\n"
    "\n"
    "exit status: 0; 1 on a write error, or with --batch when a line was malformed; 2 on bad\n"
    "usage or input that cannot be read or parsed.\n"
    "\n"
    "example: t2g align --response 'The sum is 12.' --feedback critique.json --json\n";

typedef struct align_options {
    t2g_span_scores scores;
    bool json;
    t2g_critique_limits limits;  /* critic.max_spans, critic.max_bytes */
    uint64_t max_line_bytes;     /* data.max_line_bytes */
} align_options;

/* The caps that --set may raise: t2g align reads no other key. */
static const char *const CAP_KEYS[] = {"critic.max_spans", "critic.max_bytes", "data.max_line_bytes"};

static int set_cap(t2g_config *caps, const char *assignment) {
    bool known = false;
    for (size_t k = 0; k < sizeof CAP_KEYS / sizeof CAP_KEYS[0]; k++) {
        size_t n = strlen(CAP_KEYS[k]);
        known = known || (strncmp(assignment, CAP_KEYS[k], n) == 0 && assignment[n] == '=');
    }
    if (!known) {
        cli_error("align: --set %s: t2g align takes only critic.max_spans, critic.max_bytes and data.max_line_bytes",
                  assignment);
        return EXIT_USAGE;
    }
    t2g_error err = {0};
    if (t2g_config_set(caps, assignment, &err)) {
        cli_error("align: %s", err.message);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* The exit code of a critique that was not read: over a cap or malformed is the input's
 * fault, out of memory is not. */
static int critique_error(const char *where, const t2g_error *err) {
    const char *hint = strstr(err->message, "critic.max_spans") ? " (raise it with --set critic.max_spans=N)"
                       : strstr(err->message, "critic.max_bytes") ? " (raise it with --set critic.max_bytes=N)"
                                                                  : "";
    cli_error("align: the critique %s: %s%s", where, err->message, err->status == T2G_ERR_TOO_LARGE ? hint : "");
    return err->status == T2G_ERR_MEMORY ? EXIT_FAILED : EXIT_USAGE;
}

/* Text for JSON: the bytes themselves when they are valid UTF-8 without NUL, else the escaped
 * form of t2g_utf8_escape (invalid bytes and NUL as \xHH, a backslash doubled). malloc'ed;
 * NULL on out of memory. */
static char *json_text(const char *bytes, size_t len) {
    char *escaped = t2g_utf8_escape(bytes, len);
    if (!escaped) return NULL;
    size_t backslashes = 0;
    for (size_t i = 0; i < len; i++) backslashes += bytes[i] == '\\';
    if (strlen(escaped) != len + backslashes) return escaped; /* some byte became \xHH */
    memcpy(escaped, bytes, len);
    escaped[len] = 0;
    return escaped;
}

/* A float score as the shortest decimal that reads back as the same float (0.1, not
 * 0.10000000149011612). */
static double score_value(float score) {
    char text[32];
    for (int digits = 1; digits <= 9; digits++) {
        snprintf(text, sizeof text, "%.*g", digits, (double)score);
        if ((float)strtod(text, NULL) == score) break;
    }
    return strtod(text, NULL);
}

static bool add_string(cJSON *object, const char *key, const char *bytes, size_t len) {
    char *text = json_text(bytes, len);
    bool ok = text && cJSON_AddStringToObject(object, key, text);
    free(text);
    return ok;
}

/* {"tokens": [...], "spans": [...]} into `object`. */
static bool add_alignment(cJSON *object, const char *response, size_t len, const t2g_token_span *tokens,
                          const float *scores, size_t count, const t2g_critique *critique,
                          const t2g_aligned_span *aligned) {
    cJSON *list = cJSON_AddArrayToObject(object, "tokens");
    if (!list) return false;
    for (size_t t = 0; t < count; t++) {
        cJSON *token = cJSON_CreateObject();
        if (!token) return false;
        cJSON_AddItemToArray(list, token);
        char *text = t2g_utf8_escape(response + tokens[t].start, tokens[t].end - tokens[t].start);
        bool ok = text && cJSON_AddStringToObject(token, "text", text) &&
                  cJSON_AddNumberToObject(token, "start", tokens[t].start) &&
                  cJSON_AddNumberToObject(token, "end", tokens[t].end) &&
                  cJSON_AddNumberToObject(token, "score", score_value(scores[t]));
        free(text);
        if (!ok) return false;
    }
    (void)len;
    list = cJSON_AddArrayToObject(object, "spans");
    if (!list) return false;
    for (uint32_t i = 0; critique && i < critique->span_count; i++) {
        cJSON *span = cJSON_CreateObject();
        if (!span) return false;
        cJSON_AddItemToArray(list, span);
        if (!add_string(span, "text", critique->spans[i].text, critique->spans[i].len) ||
            !cJSON_AddStringToObject(span, "kind", t2g_span_kind_name(critique->spans[i].kind)) ||
            !cJSON_AddStringToObject(span, "match", t2g_match_kind_name(aligned[i].match)) ||
            !cJSON_AddNumberToObject(span, "start", (double)aligned[i].start) ||
            !cJSON_AddNumberToObject(span, "end", (double)aligned[i].end))
            return false;
    }
    return true;
}

/* The alignment of one response: tokens, their scores, the spans found. */
typedef struct alignment {
    size_t count;
    t2g_token_span *tokens;
    float *scores;
    t2g_aligned_span *aligned;
} alignment;

static void alignment_free(alignment *a) {
    free(a->tokens);
    free(a->scores);
    free(a->aligned);
    memset(a, 0, sizeof *a);
}

/* critique may be NULL (unparsed): every token unannotated, punctuation 0. */
static t2g_status align_response(const char *response, size_t len, const t2g_critique *critique,
                                 const t2g_span_scores *scores, alignment *a, t2g_error *err) {
    memset(a, 0, sizeof *a);
    uint32_t spans = critique ? critique->span_count : 0;
    uint32_t *ids = malloc((len + 1) * sizeof *ids);
    a->tokens = malloc((len + 1) * sizeof *a->tokens);
    a->scores = malloc((len + 1) * sizeof *a->scores);
    a->aligned = malloc((spans + 1) * sizeof *a->aligned);
    t2g_status status = ids && a->tokens && a->scores && a->aligned
                            ? T2G_OK
                            : t2g_fail(err, T2G_ERR_MEMORY, "out of memory aligning a response of %zu bytes", len);
    if (!status) a->count = t2g_tokenize(response, len, ids, a->tokens);
    free(ids);
    if (!status && critique) status = t2g_align_spans(response, len, critique, scores, a->aligned, err);
    if (!status)
        status = t2g_token_scores(critique, critique ? a->aligned : NULL, response, len, a->tokens, a->count, scores,
                                  a->scores, err);
    if (status) alignment_free(a);
    return status;
}

/* ---- the readable view ---- */

static void print_view(const char *response, size_t len, const t2g_critique *critique, const alignment *a,
                       const t2g_span_scores *scores) {
    bool color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
    float plain = (float)scores->unannotated;
    if (color)
        printf("response, %zu bytes: \033[1;32mpositive\033[0m, \033[1;31mnegative\033[0m, \033[4mzero\033[0m "
               "scores; unannotated tokens (%g) plain\n",
               len, scores->unannotated);
    else
        printf("response, %zu bytes: [+...] positive, [-...] negative, [=...] zero scores; unannotated tokens (%g) "
               "plain\n",
               len, scores->unannotated);
    for (size_t t = 0; t < a->count;) {
        size_t first = t;
        float s = a->scores[t];
        while (t < a->count && a->scores[t] == s) t++;
        size_t start = a->tokens[first].start, end = a->tokens[t - 1].end;
        char *text = t2g_utf8_escape(response + start, end - start);
        if (!text) return;
        if (s == plain)
            fputs(text, stdout);
        else if (color)
            printf("%s%s\033[0m", s > 0 ? "\033[1;32m" : s < 0 ? "\033[1;31m" : "\033[4m", text);
        else
            printf("[%c%s]", s > 0 ? '+' : s < 0 ? '-' : '=', text);
        free(text);
    }
    if (len == 0 || response[len - 1] != '\n') putchar('\n');
    uint32_t found = 0;
    for (uint32_t i = 0; i < critique->span_count; i++) found += a->aligned[i].match != T2G_MATCH_NONE;
    printf("spans: %u found of %u\n", found, critique->span_count);
    for (uint32_t i = 0; i < critique->span_count; i++) {
        const t2g_aligned_span *s = &a->aligned[i];
        char match[32], range[48];
        if (s->match == T2G_MATCH_FUZZY)
            snprintf(match, sizeof match, "fuzzy %.2f", s->similarity);
        else
            snprintf(match, sizeof match, "%s", t2g_match_kind_name(s->match));
        if (s->match == T2G_MATCH_NONE)
            snprintf(range, sizeof range, "-");
        else
            snprintf(range, sizeof range, "[%lld, %lld)", (long long)s->start, (long long)s->end);
        char *text = t2g_utf8_escape(critique->spans[i].text, critique->spans[i].len);
        printf("  %-7s %-10s %-14s \"%s\"", t2g_span_kind_name(critique->spans[i].kind), match, range, text ? text : "");
        free(text);
        if (s->match != T2G_MATCH_NONE && s->match != T2G_MATCH_EXACT) {
            char *found_text = t2g_utf8_escape(response + s->start, (size_t)(s->end - s->start));
            printf(" -> \"%s\"", found_text ? found_text : "");
            free(found_text);
        }
        putchar('\n');
    }
    static const char *const formats[] = {"spans", "code", "words"};
    char *feedback = t2g_utf8_escape(critique->feedback, strlen(critique->feedback));
    printf("format: %s", formats[critique->format]);
    if (critique->has_score) printf("; score: %g", critique->score);
    printf("\nfeedback: %s\n", feedback ? feedback : "");
    free(feedback);
}

/* ---- one response ---- */

int cli_show_critique(const char *command, const char *response, size_t len, const t2g_critique *critique,
                      const t2g_span_scores *scores, cJSON *json) {
    alignment a;
    t2g_error err = {0};
    int code = EXIT_OK;
    if (align_response(response, len, critique, scores, &a, &err)) {
        cli_error("%s: %s", command, err.message);
        cJSON_Delete(json);
        return err.status == T2G_ERR_MEMORY ? EXIT_FAILED : EXIT_USAGE;
    }
    if (json) {
        char *text = add_alignment(json, response, len, a.tokens, a.scores, a.count, critique, a.aligned)
                         ? cJSON_PrintUnformatted(json)
                         : NULL;
        cJSON_Delete(json);
        if (!text) {
            cli_error("%s: out of memory writing JSON", command);
            code = EXIT_FAILED;
        } else {
            fputs(text, stdout);
            fputc('\n', stdout);
            free(text);
        }
    } else
        print_view(response, len, critique, &a, scores);
    if (fflush(stdout) != 0 && code == EXIT_OK) {
        cli_error("%s: cannot write standard output: %s", command, strerror(errno));
        code = EXIT_FAILED;
    }
    alignment_free(&a);
    return code;
}


static int align_single(const char *response_text, const char *response_file, const char *feedback_path,
                        const align_options *o) {
    size_t len = 0, feedback_len = 0;
    char *response = NULL;
    t2g_error err = {0};
    if (response_file) {
        t2g_read_cap cap = {o->max_line_bytes, "data.max_line_bytes"};
        if (t2g_file_read(response_file, "the response file", cap, &response, &len, &err)) {
            cli_error("align: %s", err.message);
            return err.status == T2G_ERR_MEMORY ? EXIT_FAILED : EXIT_USAGE;
        }
    } else {
        len = strlen(response_text);
        response = malloc(len + 1);
        if (!response) {
            cli_error("align: out of memory");
            return EXIT_FAILED;
        }
        memcpy(response, response_text, len + 1);
    }
    bool from_stdin = strcmp(feedback_path, "-") == 0;
    char *feedback = NULL;
    t2g_read_cap cap = {o->limits.max_bytes, "critic.max_bytes"};
    t2g_status read = from_stdin ? t2g_stream_read(stdin, "the critique on standard input", cap, &feedback, &feedback_len, &err)
                                 : t2g_file_read(feedback_path, "the critique", cap, &feedback, &feedback_len, &err);
    if (read) {
        cli_error("align: %s", err.message);
        free(response);
        return read == T2G_ERR_MEMORY ? EXIT_FAILED : EXIT_USAGE;
    }
    if (len >= UINT32_MAX) {
        cli_error("align: the response is %zu bytes; at most %u can be aligned", len, UINT32_MAX - 1);
        free(response);
        free(feedback);
        return EXIT_USAGE;
    }
    t2g_critique critique;
    t2g_status status = t2g_critique_parse_limited(feedback, feedback_len, &o->limits, &critique, &err);
    free(feedback);
    if (status != T2G_OK) {
        char where[1100];
        snprintf(where, sizeof where, "%s", from_stdin ? "on standard input" : feedback_path);
        free(response);
        return critique_error(where, &err);
    }
    int code = cli_show_critique("align", response, len, &critique, &o->scores, o->json ? cJSON_CreateObject() : NULL);
    t2g_critique_free(&critique);
    free(response);
    return code;
}

/* ---- --batch ---- */

typedef struct batch_state {
    const char *path;
    FILE *out;
    const char *out_name;
    const align_options *o;
    t2g_span_stats stats;
    size_t records, malformed;
    bool write_failed;
} batch_state;

static void line_error(batch_state *b, size_t line, const char *format, ...) __attribute__((format(printf, 3, 4)));
static void line_error(batch_state *b, size_t line, const char *format, ...) {
    char what[600];
    va_list args;
    va_start(args, format);
    vsnprintf(what, sizeof what, format, args);
    va_end(args);
    cli_error("align: %s:%zu: %s; the line is skipped", b->path, line, what);
    b->malformed++;
}

/* One line of the input (len bytes, no newline). */
static void batch_line(batch_state *b, const char *text, size_t len, size_t line) {
    const char *end = NULL;
    cJSON *record = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!record || !cJSON_IsObject(record)) {
        char detail[64];
        if (!record)
            snprintf(detail, sizeof detail, "not JSON (an error at column %zu)",
                     end && end >= text ? (size_t)(end - text) + 1 : (size_t)1);
        else
            snprintf(detail, sizeof detail, "a JSON value that is not an object");
        line_error(b, line, "%s: expected {\"prompt\", \"response\", \"critique\"}", detail);
        cJSON_Delete(record);
        return;
    }
    const char *trailing = end;
    while (trailing && trailing < text + len && (*trailing == ' ' || *trailing == '\t')) trailing++;
    if (trailing && trailing < text + len) {
        line_error(b, line, "%s", "more than one JSON value on the line");
        cJSON_Delete(record);
        return;
    }
    const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(record, "prompt");
    const cJSON *response = cJSON_GetObjectItemCaseSensitive(record, "response");
    const cJSON *critique_item = cJSON_GetObjectItemCaseSensitive(record, "critique");
    const char *problem = NULL;
    if (!response)
        problem = "no \"response\"";
    else if (!cJSON_IsString(response))
        problem = "\"response\" is not a string";
    else if (!critique_item)
        problem = "no \"critique\"";
    else if (!cJSON_IsString(critique_item) && !cJSON_IsObject(critique_item))
        problem = "\"critique\" is neither a string nor an object";
    else if (prompt && !cJSON_IsString(prompt))
        problem = "\"prompt\" is not a string";
    if (problem) {
        line_error(b, line, "%s", problem);
        cJSON_Delete(record);
        return;
    }
    b->records++;
    char *critique_text = cJSON_IsString(critique_item) ? NULL : cJSON_PrintUnformatted(critique_item);
    const char *ctext = critique_text ? critique_text : critique_item->valuestring;
    t2g_critique critique;
    t2g_error err = {0};
    t2g_status status = ctext ? t2g_critique_parse_limited(ctext, strlen(ctext), &b->o->limits, &critique, &err)
                              : t2g_fail(&err, T2G_ERR_MEMORY, "out of memory");
    free(critique_text);
    if (status == T2G_ERR_MEMORY) { /* not the critique's fault: no record says it was */
        cli_error("align: %s:%zu: %s", b->path, line, err.message);
        b->write_failed = true;
        cJSON_Delete(record);
        return;
    }
    bool parsed = status == T2G_OK;

    const char *resp = response->valuestring;
    size_t resp_len = strlen(resp);
    alignment a;
    cJSON *out = cJSON_CreateObject();
    t2g_error align_err = {0};
    bool ok = out && align_response(resp, resp_len, parsed ? &critique : NULL, &b->o->scores, &a, &align_err) == T2G_OK;
    if (ok) {
        const char *p = prompt ? prompt->valuestring : "";
        ok = add_string(out, "prompt", p, strlen(p)) && add_string(out, "response", resp, resp_len) &&
             add_alignment(out, resp, resp_len, a.tokens, a.scores, a.count, parsed ? &critique : NULL, a.aligned) &&
             (parsed || cJSON_AddStringToObject(out, "parse_error", err.message));
        t2g_span_stats_add(&b->stats, parsed ? &critique : NULL, a.aligned);
        alignment_free(&a);
    }
    char *json = ok ? cJSON_PrintUnformatted(out) : NULL;
    cJSON_Delete(out);
    if (parsed) t2g_critique_free(&critique);
    cJSON_Delete(record);
    if (!json) {
        cli_error("align: %s:%zu: %s", b->path, line, align_err.message[0] ? align_err.message : "out of memory");
        b->write_failed = true;
        return;
    }
    if (fputs(json, b->out) == EOF || fputc('\n', b->out) == EOF) b->write_failed = true;
    free(json);
}

static void print_stats(const batch_state *b) {
    const t2g_span_stats *s = &b->stats;
    fprintf(stderr, "align: %zu records, %zu malformed lines skipped, %u critiques unparsed; spans found:", b->records,
            b->malformed, s->unparsed);
    for (int k = 0; k < 3; k++) {
        uint32_t found = s->spans[k] - s->matched[k][T2G_MATCH_NONE];
        fprintf(stderr, "%s %s %u/%u (exact %u, normalized %u, fuzzy %u)", k ? "," : "", t2g_span_kind_name((t2g_span_kind)k),
                found, s->spans[k], s->matched[k][T2G_MATCH_EXACT], s->matched[k][T2G_MATCH_NORMALIZED],
                s->matched[k][T2G_MATCH_FUZZY]);
    }
    fputc('\n', stderr);
}

static int align_batch(const char *path, const char *out_path, const align_options *o) {
    t2g_line_reader lines;
    t2g_error err = {0};
    if (t2g_lines_open(&lines, path, "the batch file", (t2g_read_cap){o->max_line_bytes, "data.max_line_bytes"}, &err)) {
        cli_error("align: %s", err.message);
        return EXIT_USAGE;
    }
    batch_state b = {.path = path, .o = o, .out = stdout, .out_name = "standard output"};
    if (out_path) {
        b.out = fopen(out_path, "wb");
        b.out_name = out_path;
        if (!b.out) {
            cli_error("align: cannot write %s: %s", out_path, strerror(errno));
            t2g_lines_close(&lines);
            return EXIT_FAILED;
        }
    }
    int code = EXIT_OK;
    while (!b.write_failed) {
        const char *text;
        size_t n;
        if (t2g_lines_next(&lines, &text, &n, &err)) { /* a line over the cap, or unreadable: the rest is not read */
            cli_error("align: %s", err.message);
            code = err.status == T2G_ERR_TOO_LARGE || err.status == T2G_ERR_IO ? EXIT_USAGE : EXIT_FAILED;
            break;
        }
        if (!text) break;
        bool blank = true;
        for (size_t i = 0; i < n && blank; i++) blank = text[i] == ' ' || text[i] == '\t';
        if (!blank) batch_line(&b, text, n, (size_t)lines.number);
    }
    t2g_lines_close(&lines);
    if (code == EXIT_OK && b.malformed) code = EXIT_FAILED;
    if (b.write_failed || fflush(b.out) != 0) {
        cli_error("align: cannot write %s: %s", b.out_name, strerror(errno));
        if (code == EXIT_OK) code = EXIT_FAILED;
    }
    if (out_path && fclose(b.out) != 0 && code == EXIT_OK) {
        cli_error("align: cannot write %s: %s", out_path, strerror(errno));
        code = EXIT_FAILED;
    }
    print_stats(&b);
    return code;
}

/* --ckpt: the checkpoint's model must be a byte-level one. */
static int check_checkpoint(const char *path) {
    t2g_checkpoint checkpoint;
    t2g_error err = {0};
    if (t2g_checkpoint_load(path, &checkpoint, &err) != T2G_OK) {
        cli_error("align: --ckpt: %s", err.message);
        return EXIT_USAGE;
    }
    t2g_config config = t2g_config_defaults();
    t2g_status status = t2g_config_parse(&config, checkpoint.config_json, strlen(checkpoint.config_json), path, &err);
    t2g_checkpoint_free(&checkpoint);
    if (status != T2G_OK) {
        cli_error("align: --ckpt: %s", err.message);
        return EXIT_USAGE;
    }
    if (config.model.vocab != T2G_BYTE_VOCAB) {
        cli_error("align: --ckpt %s: its model has a vocabulary of %u tokens; alignment knows only the byte-level "
                  "tokenizer (vocabulary %u)",
                  path, config.model.vocab, T2G_BYTE_VOCAB);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

int cmd_align(int argc, char **argv) {
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(HELP, stdout);
            return EXIT_OK;
        }
    const char *response = NULL, *response_file = NULL, *feedback = NULL, *batch = NULL, *out = NULL, *ckpt = NULL;
    const char *threshold = NULL, *unannotated = NULL, *set = NULL;
    align_options o = {.scores = t2g_span_scores_default()};
    t2g_config caps = t2g_config_defaults();
    cli_args args = cli_args_start(argc, argv, 2, "align");
    while (cli_args_more(&args)) {
        if (cli_value(&args, "--set", &set)) {
            if (set_cap(&caps, set)) return EXIT_USAGE;
            continue;
        }
        if (cli_value(&args, "--response", &response) || cli_value(&args, "--response-file", &response_file) ||
            cli_value(&args, "--feedback", &feedback) || cli_value(&args, "--batch", &batch) ||
            cli_value(&args, "--out", &out) || cli_value(&args, "--ckpt", &ckpt) ||
            cli_value(&args, "--threshold", &threshold) || cli_value(&args, "--unannotated", &unannotated))
            continue;
        if (cli_flag(&args, "--json"))
            o.json = true;
        else if (cli_flag(&args, "--keep-punctuation"))
            o.scores.zero_punctuation = false;
        else
            return cli_unknown(&args);
    }
    if (args.failed) return EXIT_USAGE;
    o.limits = (t2g_critique_limits){caps.critic.max_spans, caps.critic.max_bytes};
    o.max_line_bytes = caps.data.max_line_bytes;
    if (threshold && (!cli_parse_double(threshold, 0.0, 1.0, &o.scores.fuzzy_threshold) || o.scores.fuzzy_threshold <= 0)) {
        cli_error("align: --threshold '%s': expected a similarity in (0, 1], e.g. 0.7", threshold);
        return EXIT_USAGE;
    }
    if (unannotated && !cli_parse_double(unannotated, -1e6, 1e6, &o.scores.unannotated)) {
        cli_error("align: --unannotated '%s': expected a number from -1e6 to 1e6, e.g. 0 or 1", unannotated);
        return EXIT_USAGE;
    }
    if (batch) {
        if (response || response_file || feedback) {
            cli_error("align: --batch reads responses and critiques from its file; drop --response, --response-file "
                      "and --feedback (see 't2g align --help')");
            return EXIT_USAGE;
        }
    } else {
        if (out) {
            cli_error("align: --out goes with --batch (a single alignment goes to standard output)");
            return EXIT_USAGE;
        }
        if (!response == !response_file) {
            cli_error("align: %s (see 't2g align --help')", response ? "--response and --response-file are exclusive: give one"
                                                                     : "no response: give --response TEXT or --response-file FILE, or --batch FILE");
            return EXIT_USAGE;
        }
        if (!feedback) {
            cli_error("align: no critique: give --feedback FILE, or --feedback - to read standard input (see 't2g "
                      "align --help')");
            return EXIT_USAGE;
        }
    }
    if (ckpt) {
        int code = check_checkpoint(ckpt);
        if (code != EXIT_OK) return code;
    }
    return batch ? align_batch(batch, out, &o) : align_single(response, response_file, feedback, &o);
}
