/* Scores against reference texts, for data that is not a built-in task (eval.path, t2g eval
 * --data): exact match, BLEU-4 and ROUGE-L. */
#include <string.h>

#include "task_internal.h"

static const char *const reference_metrics[] = {"exact_match", "bleu4", "rougeL"};
#define REFERENCE_METRICS 3u

static int is_blank(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* text[0..len) without the whitespace at both ends. */
static void trim(const char **text, size_t *len) {
    while (*len && is_blank((unsigned char)**text)) (*text)++, (*len)--;
    while (*len && is_blank((unsigned char)(*text)[*len - 1])) (*len)--;
}

static double exact_match(const char *reference, const char *response, size_t len) {
    size_t reference_len = strlen(reference);
    trim(&reference, &reference_len);
    trim(&response, &len);
    return len == reference_len && memcmp(reference, response, len) == 0 ? 1.0 : 0.0;
}

static void start(t2g_task_metrics *metrics, size_t n) {
    memset(metrics, 0, sizeof *metrics);
    metrics->count = REFERENCE_METRICS;
    for (uint32_t k = 0; k < REFERENCE_METRICS; k++) metrics->names[k] = reference_metrics[k];
    metrics->examples = (uint32_t)n;
}

void t2g_reference_evaluate(const char *const *references, const char *const *responses, const size_t *response_lens,
                            size_t n, t2g_task_metrics *metrics) {
    start(metrics, n);
    if (n == 0) return;
    t2g_bleu_stats bleu = {0};
    for (size_t i = 0; i < n; i++) {
        size_t reference_len = strlen(references[i]);
        metrics->values[0] += exact_match(references[i], responses[i], response_lens[i]);
        t2g_bleu_accumulate(&bleu, responses[i], response_lens[i], references[i], reference_len);
        metrics->values[2] += t2g_rouge_l(responses[i], response_lens[i], references[i], reference_len);
    }
    metrics->values[0] /= (double)n;
    metrics->values[1] = t2g_bleu_corpus(&bleu);
    metrics->values[2] /= (double)n;
}

void t2g_reference_score(const char *reference, const char *response, size_t len, t2g_task_metrics *metrics) {
    start(metrics, 1);
    size_t reference_len = strlen(reference);
    metrics->values[0] = exact_match(reference, response, len);
    metrics->values[1] = t2g_bleu_sentence(response, len, reference, reference_len);
    metrics->values[2] = t2g_rouge_l(response, len, reference, reference_len);
}
