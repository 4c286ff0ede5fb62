/* t2g bench align: the speed of finding a critique's spans in a response, the measurement that
 * the tests leave out (they bound the work counted, never the time). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "core/clock.h"
#include "feedback/feedback_internal.h"
#include "t2g/feedback.h"
#include "t2g/rng.h"

static const char HELP[] =
    "usage: t2g bench align [--json]\n"
    "\n"
    "Times t2g_align_spans on the host (no device): 12 spans of 500 bytes (8 with a typo every\n"
    "37 bytes, found fuzzily; 4 absent) in a 10 KB response of words, one at a time; and one\n"
    "critique of 100000 identical spans. Reports ms and the work counted (comparisons and 64-bit\n"
    "word operations, what the tests bound).\n"
    "\n"
    "example: t2g bench align --json\n";

enum { RESPONSE_BYTES = 10240, SPANS = 12, SPAN_BYTES = 500, IDENTICAL = 100000 };


typedef struct measured {
    double ms, worst_ms;
    unsigned long long work;
    int found;
} measured;

/* One span at a time, as the fuzzy search's worst cases. */
static int fuzzy_spans(measured *m) {
    static const char *const words[] = {"the", "model", "adds", "two", "numbers", "and", "carries", "a", "digit", "then",
                                        "writes", "its", "answer", "sum", "of", "is"};
    t2g_rng rng = t2g_rng_stream(1, 0);
    char *r = malloc(RESPONSE_BYTES + 64), *texts = malloc(SPANS * (SPAN_BYTES + 1));
    t2g_critique_span *spans = malloc(SPANS * sizeof *spans);
    if (!r || !texts || !spans) {
        free(r);
        free(texts);
        free(spans);
        cli_error("bench align: out of memory");
        return EXIT_FAILED;
    }
    size_t len = 0;
    while (len < RESPONSE_BYTES - 16)
        len += (size_t)sprintf(r + len, "%s%s", words[t2g_rng_below(&rng, 16)], t2g_rng_below(&rng, 9) ? " " : ". ");
    memset(m, 0, sizeof *m);
    int code = EXIT_OK;
    for (int i = 0; i < SPANS && code == EXIT_OK; i++) {
        char *t = texts + i * (SPAN_BYTES + 1);
        size_t at = (size_t)t2g_rng_below(&rng, len - SPAN_BYTES - 20);
        while (at > 0 && r[at - 1] != ' ') at--;
        memcpy(t, r + at, SPAN_BYTES);
        t[SPAN_BYTES] = 0;
        for (int k = 0; k < SPAN_BYTES; k++)
            if (i % 3 == 2) t[k] = (char)('A' + (k * 7 + i) % 26); /* nothing like the response */
            else if (k >= 50 && (k - 50) % 37 == 0) t[k] = 'x';
        spans[i] = (t2g_critique_span){t, SPAN_BYTES, T2G_SPAN_GOOD};
        t2g_critique one = {.feedback = (char *)"", .spans = &spans[i], .span_count = 1};
        t2g_aligned_span out;
        t2g_error err = {0};
        unsigned long long work = fb_work();
        double start = t2g_clock_ms();
        if (t2g_align_spans(r, len, &one, NULL, &out, &err)) {
            cli_error("bench align: %s", err.message);
            code = EXIT_FAILED;
        }
        double ms = t2g_clock_ms() - start;
        m->work += fb_work() - work;
        m->ms += ms;
        if (ms > m->worst_ms) m->worst_ms = ms;
        m->found += (out.match != T2G_MATCH_NONE) == (i % 3 != 2);
    }
    m->ms /= SPANS;
    m->work /= SPANS;
    free(r);
    free(texts);
    free(spans);
    return code;
}

/* One critique quoting the same word IDENTICAL times (it took 68 s before identical spans
 * were searched as one). */
static int identical_spans(measured *m) {
    char r[2401] = "";
    for (int i = 0; i < 300; i++) strcat(r, "cat sat ");
    t2g_critique_span *spans = malloc(IDENTICAL * sizeof *spans);
    t2g_aligned_span *out = malloc(IDENTICAL * sizeof *out);
    int code = EXIT_OK;
    if (!spans || !out) {
        cli_error("bench align: out of memory");
        code = EXIT_FAILED;
    }
    memset(m, 0, sizeof *m);
    for (uint32_t i = 0; code == EXIT_OK && i < IDENTICAL; i++) spans[i] = (t2g_critique_span){(char *)"cat", 3, T2G_SPAN_POOR};
    t2g_critique c = {.feedback = (char *)"", .spans = spans, .span_count = IDENTICAL};
    t2g_error err = {0};
    unsigned long long work = fb_work();
    double start = t2g_clock_ms();
    if (code == EXIT_OK && t2g_align_spans(r, strlen(r), &c, NULL, out, &err)) {
        cli_error("bench align: %s", err.message);
        code = EXIT_FAILED;
    }
    m->ms = m->worst_ms = t2g_clock_ms() - start;
    m->work = fb_work() - work;
    m->found = code == EXIT_OK && out[299].start == 299 * 8 && out[IDENTICAL - 1].start == 0;
    free(spans);
    free(out);
    return code;
}

int bench_align(int argc, char **argv) {
    bool json = false;
    cli_args args = cli_args_start(argc, argv, 3, "bench align");
    while (cli_args_more(&args)) {
        if (cli_flag(&args, "--help") || cli_flag(&args, "-h")) {
            fputs(HELP, stdout);
            return EXIT_OK;
        }
        if (cli_flag(&args, "--json"))
            json = true;
        else
            return cli_unknown(&args);
    }
    measured fuzzy, identical;
    int code = fuzzy_spans(&fuzzy);
    if (code == EXIT_OK) code = identical_spans(&identical);
    if (code != EXIT_OK) return code;
    if (!json) {
        printf("bench align on the host\n");
        printf("fuzzy: %d spans of %d bytes in a %d-byte response: %.1f ms a span (worst %.1f), %.2fM word operations, "
               "%d of %d right\n", SPANS, SPAN_BYTES, RESPONSE_BYTES, fuzzy.ms, fuzzy.worst_ms, fuzzy.work / 1e6,
               fuzzy.found, SPANS);
        printf("identical: %d copies of one span: %.1f ms, %llu comparisons, %s\n", IDENTICAL, identical.ms,
               identical.work, identical.found ? "right" : "WRONG");
        return EXIT_OK;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *f = cJSON_AddObjectToObject(o, "fuzzy"), *i = cJSON_AddObjectToObject(o, "identical");
    if (f && i) {
        cJSON_AddNumberToObject(f, "spans", SPANS);
        cJSON_AddNumberToObject(f, "ms_per_span", fuzzy.ms);
        cJSON_AddNumberToObject(f, "worst_ms", fuzzy.worst_ms);
        cJSON_AddNumberToObject(f, "work_per_span", (double)fuzzy.work);
        cJSON_AddNumberToObject(f, "right", fuzzy.found);
        cJSON_AddNumberToObject(i, "spans", IDENTICAL);
        cJSON_AddNumberToObject(i, "ms", identical.ms);
        cJSON_AddNumberToObject(i, "work", (double)identical.work);
        cJSON_AddBoolToObject(i, "right", identical.found);
    }
    char *text = f && i ? cJSON_Print(o) : NULL;
    cJSON_Delete(o);
    if (!text) {
        cli_error("bench align: out of memory writing JSON");
        return EXIT_FAILED;
    }
    puts(text);
    free(text);
    return EXIT_OK;
}
