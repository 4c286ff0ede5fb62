/* The built-in critic of facts: checks a one-sentence summary against its record, fact by fact.
 *
 * Words are those of the task's metrics (src/tasks/task_internal.h: runs of ASCII letters,
 * digits and bytes >= 0x80; any other non-space byte a token of its own; case folded). Which
 * words are known values, and of which key, is asked of the task itself (t2g_task_score's
 * fact_precision), so the critic and the metrics share one set of value lists.
 *   a record value stated (its words in a row)         good span quoting it as written
 *   a known value of a key of the record, not its value  poor span, "The city is Oslo, not Paris."
 *   a known value of a key the record does not have      poor span, "The record says nothing
 *                                                        about a dog: it is made up."
 *   words in a row that are neither values nor words    poor span, "\"wors allama\" does not
 *   of the task's templates (t2g_task_word_known:        belong in a summary of the record."
 *   gibberish, or anything a summary of the record
 *   does not say)
 *   a field neither stated nor given a wrong value       named, "It does not mention the pet
 *                                                        (cat).", and its value's bytes
 *                                                        penalised on the last token:
 *                                                        final_score = -(bytes of the omitted
 *                                                        values), what the value would have cost
 *                                                        stated wrong, so that leaving a field
 *                                                        out never pays better than trying it
 *   score = fact_recall - (distinct wrong or invented values, and distinct runs of words that
 *   do not belong, stated) / fields, in [-1, 1].
 * A field given a wrong value is not also "omitted": its poor span already says so.
 * Spans are listed left to right; a quote that would land on an earlier occurrence of the same
 * text is widened by the separators around it (critic_place). Deterministic. */
#include <stdlib.h>
#include <string.h>

#include "critic_internal.h"

typedef struct token {
    size_t start, len;
} token;

static bool is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
static bool is_word_byte(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}
static unsigned char fold(unsigned char c) { return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c; }

/* The tokens of text[0..len) (the metrics' rule); NULL on out of memory (count 0 for none). */
static token *tokenize(const char *text, size_t len, size_t *count) {
    token *tokens = malloc((len + 1) * sizeof *tokens);
    *count = 0;
    if (!tokens) return NULL;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)text[i];
        if (is_space(c)) {
            i++;
            continue;
        }
        size_t j = i + 1;
        if (is_word_byte(c))
            while (j < len && is_word_byte((unsigned char)text[j]))
                j++;
        tokens[(*count)++] = (token){i, j - i};
        i = j;
    }
    return tokens;
}

static bool same_token(const char *a, token ta, const char *b, token tb) {
    if (ta.len != tb.len) return false;
    for (size_t i = 0; i < ta.len; i++)
        if (fold((unsigned char)a[ta.start + i]) != fold((unsigned char)b[tb.start + i])) return false;
    return true;
}

static int metric_index(const t2g_task_metrics *m, const char *name) {
    for (uint32_t k = 0; k < m->count; k++)
        if (strcmp(m->names[k], name) == 0) return (int)k;
    return -1;
}

/* Whether word is in the value list of `key` (any key when key is NULL), asked of the task:
 * the fact precision of a one-word response is 0 for a known value when the record has no
 * field (nothing stated is right), and 1 for a value of `key` when the record is {key: word}. */
static bool known_value(const t2g_task *task, const char *word, size_t len, const char *key) {
    t2g_task_example ex;
    memset(&ex, 0, sizeof ex);
    if (len >= sizeof ex.fields[0].value) return false; /* longer than any value can be */
    if (key) {
        ex.field_count = 1;
        memcpy(ex.fields[0].key, key, strnlen(key, sizeof ex.fields[0].key - 1));
        memcpy(ex.fields[0].value, word, len);
    }
    t2g_task_metrics m;
    t2g_task_score(task, &ex, word, len, &m);
    int precision = metric_index(&m, "fact_precision");
    if (precision < 0) return false;
    return key ? m.values[precision] == 1.0 : m.values[precision] == 0.0;
}

enum { WORD_PLAIN, WORD_GOOD, WORD_WRONG, WORD_INVENTED, WORD_FOREIGN };

static bool is_bad(unsigned char what) { return what == WORD_WRONG || what == WORD_INVENTED || what == WORD_FOREIGN; }

/* Whether tokens [a, a + n) of text a and [b, b + n) of text b are the same words. */
static bool same_tokens(const char *text, const token *tokens, size_t a, size_t b, size_t n) {
    for (size_t k = 0; k < n; k++)
        if (!same_token(text, tokens[a + k], text, tokens[b + k])) return false;
    return true;
}

/* A field's key and value for "%.*s", bounded by their buffers (they need no terminator). */
#define KEY(ex, f) (int)strnlen((ex)->fields[f].key, sizeof (ex)->fields[f].key), (ex)->fields[f].key
#define VALUE(ex, f) (int)strnlen((ex)->fields[f].value, sizeof (ex)->fields[f].value), (ex)->fields[f].value

t2g_status critic_facts_judge(const t2g_task *task, const t2g_critic_request *request, t2g_critic_result *result,
                              t2g_error *err) {
    const t2g_task_example *ex = request->example;
    if (!ex) return t2g_fail(err, T2G_ERR_ARGUMENT, "no task example (the built-in critic needs one)");
    uint32_t fields = ex->field_count;
    if (fields == 0 || fields > T2G_TASK_MAX_FIELDS)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "the example has %u fields (a facts record has 1 to %d)", fields,
                        T2G_TASK_MAX_FIELDS);
    const char *r = request->response ? request->response : "";
    size_t len = request->response_len;

    size_t count = 0;
    token *tokens = tokenize(r, len, &count);
    /* Per token: what it is, the field it belongs to (good, wrong) and, where a stated value
     * starts, how many tokens it has. */
    unsigned char *what = calloc(count + 1, 1);
    int *field_of = calloc(count + 1, sizeof *field_of);
    size_t *run = calloc(count + 1, sizeof *run);
    bool stated[T2G_TASK_MAX_FIELDS] = {0}, wrong_key[T2G_TASK_MAX_FIELDS] = {0};
    t2g_critique critique = {.format = T2G_CRITIQUE_SPANS};
    critic_placer placer = {.response = r, .len = len};
    critic_text text = {0};
    bool no_memory = !tokens || !what || !field_of || !run;

    /* Record values stated: each occurrence of a value's tokens in a row. */
    for (uint32_t f = 0; f < fields && !no_memory; f++) {
        const char *value = ex->fields[f].value;
        size_t vcount;
        token *vt = tokenize(value, strnlen(value, sizeof ex->fields[f].value), &vcount);
        if (!vt) {
            no_memory = true;
            break;
        }
        for (size_t i = 0; vcount && i + vcount <= count; i++) {
            size_t j = 0;
            while (j < vcount && same_token(r, tokens[i + j], value, vt[j]))
                j++;
            if (j < vcount) continue;
            stated[f] = true;
            bool free_run = true;
            for (j = 0; j < vcount; j++)
                free_run = free_run && what[i + j] == WORD_PLAIN;
            if (!free_run) continue; /* already quoted for another field of the same value */
            for (j = 0; j < vcount; j++) {
                what[i + j] = WORD_GOOD;
                field_of[i + j] = (int)f;
            }
            run[i] = vcount;
        }
        free(vt);
    }
    /* Other words: known values, wrong (a key of the record) or invented; or foreign to the
     * task's language, quoted in runs of such words in a row. */
    for (size_t i = 0; i < count && !no_memory; i++) {
        if (what[i] != WORD_PLAIN) continue;
        const char *word = r + tokens[i].start;
        if (!t2g_task_word_known(task, word, tokens[i].len)) {
            what[i] = WORD_FOREIGN;
            if (i > 0 && what[i - 1] == WORD_FOREIGN) {
                size_t first = i - 1;
                while (!run[first]) first--;
                run[first]++;
            } else {
                run[i] = 1;
            }
            continue;
        }
        if (!is_word_byte((unsigned char)word[0]) || !known_value(task, word, tokens[i].len, NULL)) continue;
        what[i] = WORD_INVENTED;
        run[i] = 1;
        for (uint32_t f = 0; f < fields; f++)
            if (known_value(task, word, tokens[i].len, ex->fields[f].key)) {
                what[i] = WORD_WRONG;
                field_of[i] = (int)f;
                wrong_key[f] = true;
                break;
            }
    }

    /* Spans, left to right. */
    for (size_t i = 0; i < count && !no_memory; i++) {
        if (!run[i]) continue;
        size_t start = tokens[i].start, end = tokens[i + run[i] - 1].start + tokens[i + run[i] - 1].len;
        t2g_span_kind kind = what[i] == WORD_GOOD ? T2G_SPAN_GOOD : T2G_SPAN_POOR;
        size_t lo, hi;
        critic_separators_around(&placer, start, end, &lo, &hi);
        no_memory = critic_place(&placer, &critique, start, end, lo, hi, kind, false) == CRITIC_PLACE_NO_MEMORY;
    }

    /* Words: what is right, what is wrong, what is made up, what is missing. Each distinct
     * wrong or invented word once (the first time it is said). */
    uint32_t good = 0, bad = 0;
    for (uint32_t f = 0; f < fields; f++)
        good += stated[f];
    if (!no_memory) {
        if (good == fields && count > 0) {
            bool clean = true;
            for (size_t i = 0; i < count; i++)
                clean = clean && !is_bad(what[i]);
            if (clean) critic_text_printf(&text, "The summary states every fact of the record correctly.");
        }
        if (text.len == 0 && good > 0) {
            critic_text_printf(&text, "It states ");
            uint32_t k = 0;
            for (uint32_t f = 0; f < fields; f++) {
                if (!stated[f]) continue;
                k++;
                critic_text_printf(&text, "%s%.*s", k == 1 ? "" : k == good ? " and " : ", ", VALUE(ex, f));
            }
            critic_text_printf(&text, " correctly.");
        }
        for (size_t i = 0; i < count; i++) {
            if (!is_bad(what[i]) || !run[i]) continue;
            bool first = true;
            for (size_t j = 0; j < i && first; j++)
                first = !(what[j] == what[i] && run[j] == run[i] && same_tokens(r, tokens, j, i, run[i]));
            if (!first) continue;
            bad++;
            int w = (int)tokens[i].len;
            const char *word = r + tokens[i].start;
            if (text.len) critic_text_put(&text, " ", 1);
            if (what[i] == WORD_FOREIGN) {
                size_t end = tokens[i + run[i] - 1].start + tokens[i + run[i] - 1].len;
                critic_text_printf(&text, "\"%.*s\" does not belong in a summary of the record.",
                                   (int)(end - tokens[i].start), word);
            } else if (what[i] == WORD_WRONG)
                critic_text_printf(&text, "The %.*s is %.*s, not %.*s.", KEY(ex, field_of[i]), VALUE(ex, field_of[i]), w,
                                   word);
            else
                critic_text_printf(&text, "The record says nothing about %.*s: it is made up.", w, word);
        }
        for (uint32_t f = 0; f < fields; f++) {
            if (stated[f] || wrong_key[f]) continue;
            if (text.len) critic_text_put(&text, " ", 1);
            critic_text_printf(&text, "It does not mention the %.*s (%.*s).", KEY(ex, f), VALUE(ex, f));
        }
        if (text.len == 0) critic_text_printf(&text, "The summary states no fact of the record.");
    }

    t2g_task_metrics metrics;
    t2g_task_score(task, ex, r, len, &metrics);
    int recall_index = metric_index(&metrics, "fact_recall");
    double recall = recall_index >= 0 ? metrics.values[recall_index] : (double)good / fields;
    double score = recall - (double)bad / fields;
    if (score < -1.0) score = -1.0;
    if (score > 1.0) score = 1.0;
    double final_score = 0.0;
    for (uint32_t f = 0; f < fields; f++)
        if (!stated[f] && !wrong_key[f]) final_score -= (double)strnlen(ex->fields[f].value, sizeof ex->fields[f].value);

    free(tokens);
    free(what);
    free(field_of);
    free(run);
    critic_placer_free(&placer);
    return critic_finish(&critique, &text, no_memory, score, final_score, result, err);
}
