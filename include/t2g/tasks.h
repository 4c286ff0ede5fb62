/* Built-in tasks: each makes prompts, reference answers and demonstrations, deterministic per
 * seed, and scores responses.
 *   arith  multi-digit addition, prompt "347+589=", answer "936"; metric exact match
 *   facts  a record "name=Ada; city=Oslo; job=chef; pet=cat" (3 to 5 fields), answer one
 *          sentence stating every field (several templates); metrics BLEU-4 and ROUGE-L
 *          against the reference, fact precision and recall (our stand-in for SLF5K) */
#ifndef T2G_TASKS_H
#define T2G_TASKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define T2G_TASK_TEXT 512
#define T2G_TASK_MAX_FIELDS 8
#define T2G_TASK_MAX_METRICS 6

typedef struct t2g_task_field {
    char key[32];    /* e.g. "city" (arith: "a", "b", "sum") */
    char value[64];  /* e.g. "Oslo" */
} t2g_task_field;

typedef struct t2g_task_example {
    char prompt[T2G_TASK_TEXT];   /* what the model sees, e.g. "347+589=" */
    char answer[T2G_TASK_TEXT];   /* the reference response, e.g. "936" */
    uint32_t field_count;         /* the facts behind the example, for scoring and critics */
    t2g_task_field fields[T2G_TASK_MAX_FIELDS];
} t2g_task_example;

typedef struct t2g_task_metrics {
    uint32_t count;                            /* metrics of the task */
    const char *names[T2G_TASK_MAX_METRICS];   /* e.g. "exact_match", "bleu4", "rougeL", ... */
    double values[T2G_TASK_MAX_METRICS];       /* in [0, 1] */
    uint32_t examples;                         /* how many examples were scored */
} t2g_task_metrics;

typedef struct t2g_task t2g_task;

/* "arith" or "facts"; NULL for another name. */
const t2g_task *t2g_task_find(const char *name);
/* The built-in tasks, for listing. */
const t2g_task *const *t2g_task_list(size_t *count);
const char *t2g_task_name(const t2g_task *task);
const char *t2g_task_description(const t2g_task *task);
/* The metric that sums the task up ("exact_match" for arith, "bleu4" for facts). */
const char *t2g_task_headline_metric(const t2g_task *task);

/* Whether one word (the metrics' tokenization: a run of letters, digits and bytes >= 0x80, or
 * one other non-space byte; case folded) belongs to the language of the task's references: a
 * word or punctuation mark of its sentence templates, or one of its known values. What a
 * critic quotes as "not part of a summary". True for every word of a task without a fixed
 * language (arith). */
/* Scores against reference texts, for data without a task: exact_match (the texts equal once
 * whitespace is trimmed from both ends), bleu4 (corpus-level; t2g_reference_score:
 * sentence-level, smoothed) and rougeL (mean F1). references[i] is NUL-terminated. */
void t2g_reference_evaluate(const char *const *references, const char *const *responses, const size_t *response_lens,
                            size_t n, t2g_task_metrics *metrics);
void t2g_reference_score(const char *reference, const char *response, size_t len, t2g_task_metrics *metrics);

bool t2g_task_word_known(const t2g_task *task, const char *word, size_t len);

/* Example `index` of the stream of `seed`: the same (seed, index) always gives the same
 * example, whatever was generated before. Training uses seed S, evaluation a stream that the
 * caller derives from S (t2g_task_eval_seed), so they do not share a sequence of examples. */
void t2g_task_example_at(const t2g_task *task, uint64_t seed, uint64_t index, t2g_task_example *example);
uint64_t t2g_task_eval_seed(uint64_t seed);

/* Metrics of n responses (bytes, not necessarily NUL-terminated) to n examples: averages of
 * per-example scores, except BLEU-4, which is corpus-level (clipped n-gram counts and lengths
 * summed over the examples). */
void t2g_task_evaluate(const t2g_task *task, const t2g_task_example *examples, const char *const *responses,
                       const size_t *response_lens, size_t n, t2g_task_metrics *metrics);
/* The same for one response (BLEU-4 then sentence-level, smoothed). */
void t2g_task_score(const t2g_task *task, const t2g_task_example *example, const char *response, size_t len,
                    t2g_task_metrics *metrics);

#endif
