/* facts: a record of 3 to 5 fields -> one sentence that states every field.
 *   prompt  "name=Ada; city=Oslo; job=chef; pet=cat\nSummary: "
 *   answer  e.g. "Ada is a chef from Oslo who has a cat."
 * The name is always there, with 2 to 4 of the other keys (uniform count, then a uniform
 * choice), in the order of KEYS. Every value is one word and the value lists are disjoint, so
 * a value found in a response says which key it belongs to; no word of the templates is a
 * value. Values are short (names up to 4 letters, others up to 5) so that prompt + answer
 * stay near 100 bytes for a small byte-level model: at most FACTS_MAX_BYTES = 127, so
 * BOS prompt answer EOS fits a context of T = 128 (a longer draw is drawn again, which makes
 * long values a little rarer in 5-field records).
 *
 * Metrics (tokenization in task_internal.h):
 *   bleu4           BLEU-4 against the answer (corpus-level in t2g_task_evaluate)
 *   rougeL          ROUGE-L F1 against the answer
 *   fact_precision  of the distinct known values stated (a value of any key's list that is a
 *                   word of the response), the fraction that are this record's value for that
 *                   key; 1 when the response states no known value (nothing false was said:
 *                   recall is what an empty response loses)
 *   fact_recall     the fraction of the record's fields whose value is a word of the response
 *                   (the value's words in a row, for a value that is not a single word) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "task_internal.h"

typedef struct facts_key {
    const char *key;
    const char *const *values;
    uint32_t count;
} facts_key;

static const char *const NAMES[] = {"Ada", "Ben",  "Cleo", "Dan",  "Eva",  "Finn", "Gus",  "Hana", "Ivan", "Jade",
                                    "Kai", "Lena", "Milo", "Nora", "Omar", "Pia",  "Ravi", "Sara", "Tom",  "Uma"};
static const char *const CITIES[] = {"Oslo",  "Paris", "Rome", "Lima", "Cairo", "Tokyo", "Quito", "Delhi",
                                     "Seoul", "Bern",  "Riga", "Kyiv", "Baku",  "Dakar", "Accra", "Perth"};
static const char *const JOBS[] = {"chef",  "baker", "pilot", "nurse", "actor", "judge", "vet",
                                   "coach", "guard", "clerk", "miner", "diver", "tutor"};
static const char *const PETS[] = {"cat", "dog",  "goat", "horse", "snake", "mouse", "pony", "frog",
                                   "owl", "duck", "crab", "sheep", "llama", "gecko", "hen"};
static const char *const COLORS[] = {"red",  "blue", "green", "pink",  "brown", "black", "white",
                                     "gray", "teal", "gold",  "beige", "lilac", "navy",  "amber"};
static const char *const FOODS[] = {"pizza", "sushi", "pasta", "soup", "rice", "curry", "tacos",
                                    "salad", "bread", "pie",   "stew", "figs", "kale",  "beans"};
static const char *const HOBBIES[] = {"chess", "golf",  "yoga",  "judo",  "jazz", "darts",
                                      "poker", "rugby", "tango", "bingo", "polo", "sumo"};

#define COUNT(a) (uint32_t)(sizeof a / sizeof a[0])
enum { MAX_VALUES = 32 };       /* no value list is longer */
enum { FACTS_MAX_BYTES = 127 }; /* prompt + answer */
_Static_assert(COUNT(NAMES) <= MAX_VALUES && COUNT(CITIES) <= MAX_VALUES && COUNT(JOBS) <= MAX_VALUES &&
                   COUNT(PETS) <= MAX_VALUES && COUNT(COLORS) <= MAX_VALUES && COUNT(FOODS) <= MAX_VALUES &&
                   COUNT(HOBBIES) <= MAX_VALUES,
               "a value list longer than MAX_VALUES");
enum { KEY_NAME, KEY_CITY, KEY_JOB, KEY_PET, KEY_COLOR, KEY_FOOD, KEY_HOBBY, KEY_COUNT };
static const facts_key KEYS[KEY_COUNT] = {
    {"name", NAMES, COUNT(NAMES)},      {"city", CITIES, COUNT(CITIES)},  {"job", JOBS, COUNT(JOBS)},
    {"pet", PETS, COUNT(PETS)},         {"color", COLORS, COUNT(COLORS)}, {"food", FOODS, COUNT(FOODS)},
    {"hobby", HOBBIES, COUNT(HOBBIES)},
};

/* Two ways to state each key other than the name; "%a" is "a" or "an" for the value. */
static const char *const PHRASES[KEY_COUNT][2] = {
    {"", ""},
    {"lives in %s", "is from %s"},
    {"is %a %s", "works as %a %s"},
    {"has %a %s", "owns %a %s"},
    {"likes %s", "wears %s"},
    {"eats %s", "loves %s"},
    {"enjoys %s", "is into %s"},
};

/* ---- text building, bounded by the buffer ---- */

typedef struct text {
    char *p;
    size_t len, cap;
} text;

static void put(text *t, const char *s) {
    size_t n = strlen(s);
    if (t->len + n >= t->cap) n = t->cap - 1 - t->len;
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = 0;
}

static const char *article(const char *word) { return strchr("aeiouAEIOU", word[0]) ? "an" : "a"; }

/* The phrase of `key` (variant v) for `value`, e.g. "has a cat". */
static void put_phrase(text *t, int key, int v, const char *value) {
    for (const char *f = PHRASES[key][v]; *f; f++) {
        if (f[0] == '%' && f[1] == 's')
            put(t, value), f++;
        else if (f[0] == '%' && f[1] == 'a')
            put(t, article(value)), f++;
        else
            put(t, (char[]){*f, 0});
    }
}

/* Phrases of fields[first..], in order or reversed, joined "A", "A and B", "A, B and C". */
static void put_phrases(text *t, const t2g_task_example *ex, const int *keys, const int *variants, uint32_t first,
                        int reversed) {
    uint32_t n = ex->field_count - first;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t f = reversed ? ex->field_count - 1 - i : first + i;
        if (i > 0) put(t, i + 1 == n ? " and " : ", ");
        put_phrase(t, keys[f], variants[f], ex->fields[f].value);
    }
}

/* Values, wording and template for the keys marked in chosen[]: the example's fields, prompt
 * and answer. */
static void draw(t2g_rng *rng, const int *chosen, t2g_task_example *ex) {
    int keys[T2G_TASK_MAX_FIELDS], variants[T2G_TASK_MAX_FIELDS];
    ex->field_count = 0;
    for (int k = 0; k < KEY_COUNT; k++) {
        if (!chosen[k]) continue;
        t2g_task_field *f = &ex->fields[ex->field_count];
        keys[ex->field_count] = k;
        variants[ex->field_count] = (int)t2g_rng_below(rng, 2);
        snprintf(f->key, sizeof f->key, "%s", KEYS[k].key);
        snprintf(f->value, sizeof f->value, "%s", KEYS[k].values[t2g_rng_below(rng, KEYS[k].count)]);
        ex->field_count++;
    }

    text prompt = {ex->prompt, 0, sizeof ex->prompt};
    for (uint32_t i = 0; i < ex->field_count; i++) {
        if (i) put(&prompt, "; ");
        put(&prompt, ex->fields[i].key);
        put(&prompt, "=");
        put(&prompt, ex->fields[i].value);
    }
    put(&prompt, "\nSummary: ");

    /* Templates: 0 "Ada has a cat and likes red."  1 the phrases reversed "Ada likes red and
     * has a cat."  2 (with a job and a city) "Ada is a chef from Oslo who has a cat and likes
     * red." */
    text answer = {ex->answer, 0, sizeof ex->answer};
    uint32_t template = (uint32_t)t2g_rng_below(rng, chosen[KEY_JOB] && chosen[KEY_CITY] ? 3 : 2);
    put(&answer, ex->fields[0].value);
    if (template == 2) {
        /* fields[1] is the city and fields[2] the job (KEYS order); the rest follow "who". */
        const char *city = ex->fields[1].value, *job = ex->fields[2].value;
        put(&answer, " is ");
        put(&answer, article(job));
        put(&answer, " ");
        put(&answer, job);
        put(&answer, " from ");
        put(&answer, city);
        if (ex->field_count > 3) {
            put(&answer, " who ");
            put_phrases(&answer, ex, keys, variants, 3, 0);
        }
    } else {
        put(&answer, " ");
        put_phrases(&answer, ex, keys, variants, 1, template == 1);
    }
    put(&answer, ".");
}

static void facts_generate(t2g_rng *rng, t2g_task_example *ex) {
    /* Which keys: the name, then 2 to 4 of the other six (a partial Fisher-Yates shuffle),
     * kept in the order of KEYS. */
    int others[KEY_COUNT - 1];
    for (int k = 1; k < KEY_COUNT; k++)
        others[k - 1] = k;
    uint32_t extra = 2 + (uint32_t)t2g_rng_below(rng, 3);
    for (uint32_t i = 0; i < extra; i++) {
        uint32_t j = i + (uint32_t)t2g_rng_below(rng, KEY_COUNT - 1 - i);
        int swap = others[i];
        others[i] = others[j];
        others[j] = swap;
    }
    int chosen[KEY_COUNT] = {1};
    for (uint32_t i = 0; i < extra; i++)
        chosen[others[i]] = 1;
    /* Values and wording, drawn again while prompt + answer exceed FACTS_MAX_BYTES (about
     * one 5-field draw in six; a 3- or 4-field one always fits). The cap of tries only guards
     * the loop: a draw of the shortest values is far below the limit. */
    for (int attempt = 0; attempt < 1000; attempt++) {
        draw(rng, chosen, ex);
        if (strlen(ex->prompt) + strlen(ex->answer) <= FACTS_MAX_BYTES) break;
    }
}

/* ---- scoring ---- */

/* The key whose list holds `word` (lowercase), or -1. */
static int key_of(t2g_word word, int *value_index) {
    for (int k = 0; k < KEY_COUNT; k++)
        for (uint32_t v = 0; v < KEYS[k].count; v++) {
            const char *value = KEYS[k].values[v];
            if (strlen(value) != word.len) continue;
            uint32_t i = 0;
            while (i < word.len && (value[i] | 0x20) == word.text[i])
                i++;
            if (i == word.len) {
                *value_index = (int)v;
                return k;
            }
        }
    return -1;
}

static int same_word(const char *a, const char *b) {
    for (; *a && *b; a++, b++)
        if ((*a | 0x20) != (*b | 0x20)) return 0;
    return *a == *b;
}

/* Whether the words of `value` appear, in a row, among words[0..count). */
static int states(const t2g_word *words, size_t count, const char *value) {
    size_t n;
    void *storage;
    t2g_word *want = t2g_words_split(value, strlen(value), &n, &storage);
    int found = 0;
    for (size_t i = 0; want && n && i + n <= count && !found; i++) {
        size_t j = 0;
        while (j < n && t2g_word_equal(words[i + j], want[j]))
            j++;
        found = j == n;
    }
    free(storage);
    return found;
}

/* fact precision and recall of a response (see the top of this file). */
static void facts_facts(const t2g_task_example *ex, const char *response, size_t len, double *precision,
                        double *recall) {
    size_t count;
    void *storage;
    t2g_word *words = t2g_words_split(response, len, &count, &storage);
    if (!words) count = 0;
    /* stated[k][v]: value v of key k is a word of the response. */
    unsigned char stated[KEY_COUNT][MAX_VALUES] = {{0}};
    for (size_t i = 0; i < count; i++) {
        int v, k = key_of(words[i], &v);
        if (k >= 0) stated[k][v] = 1;
    }
    uint32_t said = 0, correct = 0, recalled = 0;
    for (int k = 0; k < KEY_COUNT; k++)
        for (uint32_t v = 0; v < KEYS[k].count; v++) {
            if (!stated[k][v]) continue;
            said++;
            for (uint32_t f = 0; f < ex->field_count; f++)
                if (strcmp(ex->fields[f].key, KEYS[k].key) == 0 && same_word(ex->fields[f].value, KEYS[k].values[v]))
                    correct++;
        }
    for (uint32_t f = 0; f < ex->field_count; f++)
        recalled += states(words, count, ex->fields[f].value);
    free(storage);
    *precision = said ? (double)correct / said : 1.0;
    *recall = ex->field_count ? (double)recalled / ex->field_count : 0.0;
}

/* The words of the templates outside PHRASES: draw()'s " is ", " from ", " who ", ".",
 * put_phrases' " and " and ", ", article()'s "a" and "an". (A check makes sure every word of
 * every reference answer is known.) */
static const char *const JOINERS[] = {"is", "from", "who", "and", ",", ".", "a", "an"};

/* Whether `word` (lowercase) is a word of a PHRASES entry (its "%" placeholders aside). */
static int in_phrases(t2g_word word) {
    for (int k = 0; k < KEY_COUNT; k++)
        for (int v = 0; v < 2; v++)
            for (const char *p = PHRASES[k][v]; *p;) {
                size_t n = strcspn(p, " ");
                if (p[0] != '%' && n == word.len && strncmp(p, word.text, n) == 0) return 1;
                p += n + (p[n] == ' ');
            }
    return 0;
}

/* Whether `word` is of the references' language: a template word or a known value. */
static int facts_word_known(t2g_word word) {
    int value;
    if (key_of(word, &value) >= 0 || in_phrases(word)) return 1;
    for (size_t i = 0; i < sizeof JOINERS / sizeof JOINERS[0]; i++)
        if (strlen(JOINERS[i]) == word.len && strncmp(JOINERS[i], word.text, word.len) == 0) return 1;
    return 0;
}

static void facts_score(const t2g_task_example *ex, const char *response, size_t len, double *values) {
    size_t answer_len = strlen(ex->answer);
    values[0] = t2g_bleu_sentence(response, len, ex->answer, answer_len);
    values[1] = t2g_rouge_l(response, len, ex->answer, answer_len);
    facts_facts(ex, response, len, &values[2], &values[3]);
}

const t2g_task t2g_task_facts = {
    .name = "facts",
    .description = "\"name=Ada; city=Oslo; job=chef\" -> one sentence stating every field (bleu4, rougeL, "
                   "fact_precision, fact_recall)",
    .metric_count = 4,
    .metrics = {"bleu4", "rougeL", "fact_precision", "fact_recall"},
    .generate = facts_generate,
    .score = facts_score,
    .corpus_bleu = 0,
    .word_known = facts_word_known,
};
