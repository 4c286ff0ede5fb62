/* The registry of built-in tasks, their example streams and their evaluation. */
#include <stdlib.h>
#include <string.h>

#include "task_internal.h"

static const t2g_task *const TASKS[] = {&t2g_task_arith, &t2g_task_facts};

const t2g_task *t2g_task_find(const char *name) {
    if (!name) return NULL;
    for (size_t i = 0; i < sizeof TASKS / sizeof TASKS[0]; i++)
        if (strcmp(TASKS[i]->name, name) == 0) return TASKS[i];
    return NULL;
}

const t2g_task *const *t2g_task_list(size_t *count) {
    *count = sizeof TASKS / sizeof TASKS[0];
    return TASKS;
}

const char *t2g_task_name(const t2g_task *task) { return task->name; }
const char *t2g_task_description(const t2g_task *task) { return task->description; }
const char *t2g_task_headline_metric(const t2g_task *task) { return task->metrics[0]; }

/* Each example draws from its own stream (seed, index), so it does not depend on which
 * examples were generated before it. */
void t2g_task_example_at(const t2g_task *task, uint64_t seed, uint64_t index, t2g_task_example *example) {
    memset(example, 0, sizeof *example);
    t2g_rng rng = t2g_rng_stream(seed, index);
    task->generate(&rng, example);
}

/* A seed whose streams share nothing with the streams of `seed`: a splitmix64 draw from a
 * generator seeded with it (a bijection of the seed that looks random). */
uint64_t t2g_task_eval_seed(uint64_t seed) {
    t2g_rng rng = t2g_rng_seeded(seed ^ 0x45564C5345454421ull); /* "EVLSEED!" */
    return t2g_rng_u64(&rng);
}

static void metrics_start(const t2g_task *task, t2g_task_metrics *metrics) {
    memset(metrics, 0, sizeof *metrics);
    metrics->count = task->metric_count;
    for (uint32_t k = 0; k < task->metric_count; k++)
        metrics->names[k] = task->metrics[k];
}

void t2g_task_evaluate(const t2g_task *task, const t2g_task_example *examples, const char *const *responses,
                       const size_t *response_lens, size_t n, t2g_task_metrics *metrics) {
    metrics_start(task, metrics);
    metrics->examples = (uint32_t)n;
    if (n == 0) return;
    t2g_bleu_stats bleu = {0};
    for (size_t i = 0; i < n; i++) {
        double values[T2G_TASK_MAX_METRICS] = {0};
        task->score(&examples[i], responses[i], response_lens[i], values);
        for (uint32_t k = 0; k < task->metric_count; k++)
            metrics->values[k] += values[k];
        if (task->corpus_bleu >= 0)
            t2g_bleu_accumulate(&bleu, responses[i], response_lens[i], examples[i].answer, strlen(examples[i].answer));
    }
    for (uint32_t k = 0; k < task->metric_count; k++)
        metrics->values[k] /= (double)n;
    if (task->corpus_bleu >= 0) metrics->values[task->corpus_bleu] = t2g_bleu_corpus(&bleu);
}

void t2g_task_score(const t2g_task *task, const t2g_task_example *example, const char *response, size_t len,
                    t2g_task_metrics *metrics) {
    metrics_start(task, metrics);
    metrics->examples = 1;
    task->score(example, response, len, metrics->values);
}

bool t2g_task_word_known(const t2g_task *task, const char *word, size_t len) {
    if (!task->word_known) return true;
    size_t count;
    void *storage;
    t2g_word *words = t2g_words_split(word, len, &count, &storage);
    bool known = words && count == 1 && task->word_known(words[0]);
    free(storage);
    return known;
}
