/* arith: "A+B=" -> the decimal sum. Each operand has 1 to 3 digits (the number of digits
 * uniform, then the value uniform among the numbers of that many digits, no leading zeros:
 * 0..9, 10..99, 100..999). Metric: exact match of the response, trimmed of surrounding
 * whitespace, with the answer. */
#include <stdio.h>
#include <string.h>

#include "task_internal.h"

static unsigned operand(t2g_rng *rng) {
    unsigned digits = 1 + (unsigned)t2g_rng_below(rng, 3);
    unsigned lo = digits == 1 ? 0 : digits == 2 ? 10 : 100, hi = digits == 1 ? 9 : digits == 2 ? 99 : 999;
    return lo + (unsigned)t2g_rng_below(rng, hi - lo + 1);
}

static void set_field(t2g_task_example *ex, const char *key, unsigned value) {
    t2g_task_field *f = &ex->fields[ex->field_count++];
    snprintf(f->key, sizeof f->key, "%s", key);
    snprintf(f->value, sizeof f->value, "%u", value);
}

static void arith_generate(t2g_rng *rng, t2g_task_example *ex) {
    unsigned a = operand(rng), b = operand(rng);
    snprintf(ex->prompt, sizeof ex->prompt, "%u+%u=", a, b);
    snprintf(ex->answer, sizeof ex->answer, "%u", a + b);
    set_field(ex, "a", a);
    set_field(ex, "b", b);
    set_field(ex, "sum", a + b);
}

static int is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

static void arith_score(const t2g_task_example *ex, const char *response, size_t len, double *values) {
    size_t start = 0;
    while (start < len && is_space(response[start]))
        start++;
    while (len > start && is_space(response[len - 1]))
        len--;
    size_t answer_len = strlen(ex->answer);
    values[0] = len - start == answer_len && memcmp(response + start, ex->answer, answer_len) == 0;
}

const t2g_task t2g_task_arith = {
    .name = "arith",
    .description = "\"347+589=\" -> \"936\", operands of 1 to 3 digits (exact_match)",
    .metric_count = 1,
    .metrics = {"exact_match"},
    .generate = arith_generate,
    .score = arith_score,
    .corpus_bleu = -1,
};
