/* Training data (include/t2g/dataset.h): JSONL, plain text and built-in tasks; batches of
 * token ids with loss weights; the seeded shuffle behind the data cursor. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "core/read_file.h"
#include "t2g/dataset.h"
#include "t2g/rng.h"
#include "t2g/text.h"
#include "t2g/tokenizer.h"

static const char EXPECTED[] = "expected one JSON object {\"prompt\": string, \"response\": string} per line";
static const char EXPECTED_PROMPTS[] = "expected one JSON object {\"prompt\": string, ...} per line";

void t2g_dataset_free(t2g_dataset *dataset) {
    if (!dataset) return;
    for (size_t i = 0; i < dataset->count; i++) {
        free(dataset->examples[i].prompt);
        free(dataset->examples[i].response);
        free(dataset->examples[i].prompt_ids);
        free(dataset->examples[i].response_ids);
        if (dataset->fields) free(dataset->fields[i]);
    }
    free(dataset->fields);
    free(dataset->examples);
    memset(dataset, 0, sizeof *dataset);
}

static char *copy_bytes(const char *bytes, size_t len) {
    char *copy = malloc(len + 1);
    if (!copy) return NULL;
    if (len) memcpy(copy, bytes, len);
    copy[len] = 0;
    return copy;
}

/* Appends one example (copies of the bytes); grows the array as needed. */
static t2g_status add_example(t2g_dataset *d, size_t *capacity, const char *prompt, size_t prompt_len,
                              const char *response, size_t response_len, t2g_error *err) {
    if (!t2g_grow(&d->examples, capacity, d->count + 1, sizeof *d->examples))
        return t2g_fail(err, T2G_ERR_MEMORY, "out of memory for %zu examples", d->count + 1);
    t2g_example *e = &d->examples[d->count];
    memset(e, 0, sizeof *e);
    e->prompt = copy_bytes(prompt, prompt_len);
    e->response = copy_bytes(response, response_len);
    e->prompt_len = prompt_len;
    e->response_len = response_len;
    if (!e->prompt || !e->response) {
        free(e->prompt);
        free(e->response);
        return t2g_fail(err, T2G_ERR_MEMORY, "out of memory for example %zu", d->count + 1);
    }
    d->count++;
    return T2G_OK;
}

static const char *json_kind(const cJSON *item) {
    if (cJSON_IsArray(item)) return "an array";
    if (cJSON_IsString(item)) return "a string";
    if (cJSON_IsNumber(item)) return "a number";
    if (cJSON_IsBool(item)) return "a boolean";
    if (cJSON_IsNull(item)) return "null";
    if (cJSON_IsObject(item)) return "an object";
    return "not a JSON value";
}

static int blank(const char *line, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '\n') return 0;
    return 1;
}

/* The row's keys besides "prompt", as a JSON object's text: the last example's fields (the
 * array grows with the examples: capacity of them). */
static t2g_status keep_fields(cJSON *root, t2g_dataset *d, size_t capacity, t2g_error *err) {
    char **fields = realloc(d->fields, capacity * sizeof *fields);
    if (!fields) { /* the example goes too: every example below count has its slot */
        d->count--;
        free(d->examples[d->count].prompt);
        free(d->examples[d->count].response);
        return t2g_fail(err, T2G_ERR_MEMORY, "out of memory for example %zu", d->count + 1);
    }
    d->fields = fields;
    cJSON_DeleteItemFromObjectCaseSensitive(root, "prompt");
    char *text = cJSON_PrintUnformatted(root);
    fields[d->count - 1] = text ? copy_bytes(text, strlen(text)) : NULL;
    cJSON_free(text);
    return fields[d->count - 1] ? T2G_OK : t2g_fail(err, T2G_ERR_MEMORY, "out of memory for example %zu", d->count);
}

/* One line, not blank: the example it holds, or an error naming path:line. prompts: only the
 * prompt is required, the other keys are kept (t2g_dataset_load_prompts). */
static t2g_status parse_line(const char *path, size_t number, char *line, size_t len, t2g_dataset *d, size_t *capacity,
                             bool prompts, t2g_error *err) {
    const char *expected = prompts ? EXPECTED_PROMPTS : EXPECTED;
    if (strlen(line) != len)
        return t2g_fail(err, T2G_ERR_FORMAT, "%s:%zu: a NUL byte at column %zu; %s", path, number, strlen(line) + 1,
                        expected);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(line, &end, 1);
    if (!root) {
        size_t column = end && end >= line ? (size_t)(end - line) + 1 : 1;
        return t2g_fail(err, T2G_ERR_FORMAT, "%s:%zu: not JSON (error near column %zu); %s", path, number, column,
                        expected);
    }
    t2g_status status = T2G_OK;
    const char *keys[2] = {"prompt", "response"};
    const cJSON *values[2] = {NULL, NULL};
    if (!cJSON_IsObject(root))
        status = t2g_fail(err, T2G_ERR_FORMAT, "%s:%zu: %s, %s", path, number, json_kind(root), expected);
    for (int k = 0; k < (prompts ? 1 : 2) && status == T2G_OK; k++) {
        values[k] = cJSON_GetObjectItemCaseSensitive(root, keys[k]);
        if (!values[k])
            status = t2g_fail(err, T2G_ERR_FORMAT, "%s:%zu: no \"%s\" key; %s", path, number, keys[k], expected);
        else if (!cJSON_IsString(values[k]) || !values[k]->valuestring)
            status = t2g_fail(err, T2G_ERR_FORMAT, "%s:%zu: \"%s\" is %s, expected a string", path, number, keys[k],
                              json_kind(values[k]));
    }
    if (status == T2G_OK) {
        const char *prompt = values[0]->valuestring, *response = prompts ? "" : values[1]->valuestring;
        status = add_example(d, capacity, prompt, strlen(prompt), response, strlen(response), err);
        if (status == T2G_OK && prompts) status = keep_fields(root, d, *capacity, err);
    }
    cJSON_Delete(root);
    return status;
}

static t2g_status load_jsonl(const char *path, uint64_t max_line_bytes, t2g_dataset *dataset, bool prompts,
                             t2g_error *err) {
    memset(dataset, 0, sizeof *dataset);
    t2g_line_reader lines;
    t2g_status status = t2g_lines_open(&lines, path, "the data file", (t2g_read_cap){max_line_bytes, "data.max_line_bytes"}, err);
    size_t capacity = 0;
    for (;;) {
        const char *line;
        size_t len;
        if (!status) status = t2g_lines_next(&lines, &line, &len, err);
        if (status || !line) break;
        char *start = (char *)line;
        /* A UTF-8 byte order mark before the first line is not part of the data. */
        if (lines.number == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) start += 3, len -= 3;
        if (blank(start, len)) continue;
        status = parse_line(path, lines.number, start, len, dataset, &capacity, prompts, err);
    }
    uint64_t number = lines.number;
    t2g_lines_close(&lines);
    if (status == T2G_OK && dataset->count == 0)
        status = t2g_fail(err, T2G_ERR_FORMAT, "%s: no examples (%llu lines, all blank); %s", path,
                          (unsigned long long)number, prompts ? EXPECTED_PROMPTS : EXPECTED);
    if (status != T2G_OK) t2g_dataset_free(dataset);
    return status;
}

t2g_status t2g_dataset_load_jsonl(const char *path, uint64_t max_line_bytes, t2g_dataset *dataset, t2g_error *err) {
    return load_jsonl(path, max_line_bytes, dataset, false, err);
}

t2g_status t2g_dataset_load_prompts(const char *path, uint64_t max_line_bytes, t2g_dataset *dataset, t2g_error *err) {
    return load_jsonl(path, max_line_bytes, dataset, true, err);
}

t2g_status t2g_dataset_load_text(const char *path, size_t chunk_bytes, t2g_dataset *dataset, t2g_error *err) {
    memset(dataset, 0, sizeof *dataset);
    if (chunk_bytes == 0)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: the chunk size is 0, expected at least 1 byte", path);
    FILE *file;
    t2g_status opened = t2g_file_open(path, "the text file", &file, NULL, err);
    if (opened) return opened;
    char *chunk = malloc(chunk_bytes);
    size_t capacity = 0;
    t2g_status status =
        chunk ? T2G_OK : t2g_fail(err, T2G_ERR_MEMORY, "out of memory for a chunk of %zu bytes", chunk_bytes);
    dataset->is_text = 1;
    while (status == T2G_OK) {
        size_t got = fread(chunk, 1, chunk_bytes, file);
        if (got == 0) break;
        status = add_example(dataset, &capacity, "", 0, chunk, got, err);
        if (got < chunk_bytes) break;
    }
    if (status == T2G_OK && ferror(file)) status = t2g_fail(err, T2G_ERR_IO, "%s: read error", path);
    if (status == T2G_OK && dataset->count == 0)
        status = t2g_fail(err, T2G_ERR_FORMAT, "%s: the file is empty, expected text to learn from", path);
    free(chunk);
    fclose(file);
    if (status != T2G_OK) t2g_dataset_free(dataset);
    return status;
}

t2g_status t2g_dataset_from_task(const t2g_task *task, uint64_t seed, size_t n, t2g_dataset *dataset, t2g_error *err) {
    memset(dataset, 0, sizeof *dataset);
    if (n == 0)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "task %s: 0 examples asked for, expected at least 1",
                        t2g_task_name(task));
    dataset->examples = calloc(n, sizeof *dataset->examples);
    if (!dataset->examples)
        return t2g_fail(err, T2G_ERR_MEMORY, "task %s: out of memory for %zu examples", t2g_task_name(task), n);
    size_t capacity = n;
    t2g_task_example ex;
    for (size_t i = 0; i < n; i++) {
        t2g_task_example_at(task, seed, i, &ex);
        t2g_status status =
            add_example(dataset, &capacity, ex.prompt, strlen(ex.prompt), ex.answer, strlen(ex.answer), err);
        if (status != T2G_OK) {
            t2g_dataset_free(dataset);
            return status;
        }
    }
    return T2G_OK;
}

/* ---- batches ---- */

t2g_status t2g_batch_alloc(t2g_batch *batch, uint32_t B, uint32_t T, t2g_error *err) {
    memset(batch, 0, sizeof *batch);
    if (B == 0 || T == 0)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "a batch of B=%u rows of T=%u positions: both must be at least 1", B, T);
    size_t n = (size_t)B * T;
    if (n > SIZE_MAX / sizeof(uint32_t))
        return t2g_fail(err, T2G_ERR_TOO_LARGE, "a batch of B=%u x T=%u does not fit in host memory", B, T);
    batch->inputs = malloc(n * sizeof *batch->inputs);
    batch->targets = malloc(n * sizeof *batch->targets);
    batch->weights = malloc(n * sizeof *batch->weights);
    if (!batch->inputs || !batch->targets || !batch->weights) {
        t2g_batch_free(batch);
        return t2g_fail(err, T2G_ERR_MEMORY, "out of memory for a batch of B=%u x T=%u", B, T);
    }
    batch->B = B;
    batch->T = T;
    for (size_t i = 0; i < n; i++) {
        batch->inputs[i] = batch->targets[i] = T2G_TOKEN_PAD;
        batch->weights[i] = 0;
    }
    return T2G_OK;
}

void t2g_batch_free(t2g_batch *batch) {
    if (!batch) return;
    free(batch->inputs);
    free(batch->targets);
    free(batch->weights);
    memset(batch, 0, sizeof *batch);
}

/* Row layout. The sequence of an example is its prompt ids then its response ids (L tokens), cut
 * at T + 1 tokens; without ids, the byte tokenizer's
 *   SFT:  BOS prompt response EOS      (L = P + R + 2 tokens)
 *   text: BOS chunk                    (L = R + 1: a chunk is a window of running text, not
 *                                       its end, so no EOS; a chunk of T bytes fills a row)
 * inputs[t] = seq[t], targets[t] = seq[t + 1]; past the sequence both are PAD with weight 0. The
 * target seq[j] has weight 1 if it is a response id (j >= the prompt's length). */
typedef struct row_sequence {
    const t2g_example *e;
    size_t prompt_count, length; /* ids of the prompt, of the whole sequence */
    bool bytes;                  /* no ids: the byte layout above */
    int is_text;
} row_sequence;

static row_sequence sequence_of(const t2g_example *e, int is_text) {
    row_sequence q = {.e = e, .is_text = is_text, .bytes = e->prompt_ids == NULL && e->response_ids == NULL};
    if (q.bytes) {
        q.prompt_count = is_text ? 1 : 1 + e->prompt_len;
        q.length = q.prompt_count + e->response_len + (is_text ? 0 : 1);
    } else {
        q.prompt_count = e->prompt_count;
        q.length = (size_t)e->prompt_count + e->response_count;
    }
    return q;
}

/* seq[j], j < q->length */
static uint32_t sequence_at(const row_sequence *q, size_t j) {
    const t2g_example *e = q->e;
    if (!q->bytes) return j < q->prompt_count ? e->prompt_ids[j] : e->response_ids[j - q->prompt_count];
    if (j == 0) return T2G_TOKEN_BOS;
    if (j < q->prompt_count) return (uint32_t)(unsigned char)e->prompt[j - 1];
    if (j - q->prompt_count < e->response_len) return (uint32_t)(unsigned char)e->response[j - q->prompt_count];
    return T2G_TOKEN_EOS;
}

void t2g_batch_set_row(t2g_batch *batch, uint32_t row, const t2g_example *example, int is_text) {
    const uint32_t T = batch->T;
    uint32_t *inputs = batch->inputs + (size_t)row * T, *targets = batch->targets + (size_t)row * T;
    float *weights = batch->weights + (size_t)row * T;
    row_sequence q = sequence_of(example, is_text);
    size_t L = q.length;
    if (L > (size_t)T + 1) {
        L = (size_t)T + 1;
        batch->truncated++;
    }
    double sum = 0;
    for (size_t t = 0; t < T; t++) {
        inputs[t] = t < L ? sequence_at(&q, t) : T2G_TOKEN_PAD;
        size_t j = t + 1;
        if (j < L) {
            targets[t] = sequence_at(&q, j);
            weights[t] = j >= q.prompt_count ? 1.0f : 0.0f;
        } else {
            targets[t] = T2G_TOKEN_PAD;
            weights[t] = 0.0f;
        }
        sum += weights[t];
    }
    batch->weight_sum += sum;
}

t2g_data_fit t2g_dataset_fit(const t2g_dataset *dataset, uint32_t T) {
    t2g_data_fit fit = {.examples = dataset->count};
    for (size_t i = 0; i < dataset->count && !dataset->is_text; i++) {
        row_sequence q = sequence_of(&dataset->examples[i], 0);
        size_t needed = q.length - 1; /* the targets: the prompt's last token on, up to the end of turn */
        if (needed > fit.longest) fit.longest = needed;
        if (needed > T) fit.cut++;
        if (q.prompt_count > T) fit.cut_away++; /* the first response target sits at position prompt_count - 1 */
    }
    return fit;
}

/* One example's ids: the prompt and response of the layout. */
static t2g_status tokenize_example(t2g_example *e, const t2g_text *text, bool parse_special, t2g_error *err) {
    uint32_t *prompt = NULL, *response = NULL;
    size_t prompt_count = 0, response_count = 0;
    t2g_status status = t2g_text_prompt(text, e->prompt, e->prompt_len, parse_special, &prompt, &prompt_count, err);
    if (!status)
        status = t2g_text_response(text, e->response, e->response_len, parse_special, &response, &response_count, err);
    if (!status && (prompt_count > UINT32_MAX || response_count > UINT32_MAX))
        status = t2g_fail(err, T2G_ERR_TOO_LARGE, "more than 2^32 tokens");
    if (status) {
        free(prompt);
        free(response);
        return status;
    }
    free(e->prompt_ids);
    free(e->response_ids);
    e->prompt_ids = prompt;
    e->prompt_count = (uint32_t)prompt_count;
    e->response_ids = response;
    e->response_count = (uint32_t)response_count;
    return T2G_OK;
}

/* A text chunk of the byte tokenizer: BOS, then its bytes. */
static t2g_status tokenize_byte_chunk(t2g_example *e, t2g_error *err) {
    e->prompt_ids = malloc(sizeof *e->prompt_ids);
    e->response_ids = malloc((e->response_len ? e->response_len : 1) * sizeof *e->response_ids);
    if (!e->prompt_ids || !e->response_ids) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory");
    e->prompt_ids[0] = T2G_TOKEN_BOS;
    e->prompt_count = 1;
    e->response_count = (uint32_t)t2g_tokenize(e->response, e->response_len, e->response_ids, NULL);
    return T2G_OK;
}

/* Language-modelling text with a BPE: the chunks joined again, encoded once, and cut into rows of
 * context + 1 tokens (BOS, if the tokenizer adds one, in front of each). The chunks' bytes stay
 * as they were: rows are ids only. */
static t2g_status tokenize_text(t2g_dataset *d, const t2g_text *text, bool parse_special, uint32_t context,
                                const char *source, t2g_error *err) {
    size_t bytes = 0;
    for (size_t i = 0; i < d->count; i++) bytes += d->examples[i].response_len;
    char *all = malloc(bytes + 1);
    if (!all) return t2g_fail(err, T2G_ERR_MEMORY, "%s: out of host memory for %zu bytes of text", source, bytes);
    size_t at = 0;
    for (size_t i = 0; i < d->count; i++) {
        memcpy(all + at, d->examples[i].response, d->examples[i].response_len);
        at += d->examples[i].response_len;
    }
    uint32_t *ids;
    size_t count;
    t2g_status status = t2g_text_encode(text, all, bytes, parse_special, &ids, NULL, &count, err);
    free(all);
    if (status) return t2g_error_context(err, "%s", source);
    int64_t bos = t2g_text_bos(text);
    size_t per_row = (size_t)context + 1 - (bos >= 0), rows = count ? (count + per_row - 1) / per_row : 0;
    t2g_example *examples = calloc(rows ? rows : 1, sizeof *examples);
    size_t made = 0;
    for (size_t r = 0; examples && r < rows; r++, made++) {
        t2g_example *e = &examples[r];
        size_t first = r * per_row, n = count - first < per_row ? count - first : per_row;
        e->prompt = calloc(1, 1);
        e->response = calloc(1, 1);
        e->prompt_ids = malloc(sizeof *e->prompt_ids);
        e->response_ids = malloc(n * sizeof *e->response_ids);
        if (!e->prompt || !e->response || !e->prompt_ids || !e->response_ids) break;
        if (bos >= 0) e->prompt_ids[e->prompt_count++] = (uint32_t)bos;
        memcpy(e->response_ids, ids + first, n * sizeof *ids);
        e->response_count = (uint32_t)n;
    }
    free(ids);
    bool complete = examples && made == rows;
    t2g_dataset replaced = {.examples = complete ? d->examples : examples, .count = complete ? d->count : made + 1};
    if (!examples) replaced.count = 0;
    if (complete) {
        d->examples = examples;
        d->count = rows;
    }
    t2g_dataset_free(&replaced);
    return complete ? T2G_OK : t2g_fail(err, T2G_ERR_MEMORY, "%s: out of host memory for %zu rows", source, rows);
}

t2g_status t2g_dataset_tokenize(t2g_dataset *dataset, const t2g_text *text, bool parse_special, uint32_t context,
                                const char *source, t2g_error *err) {
    dataset->parse_special = parse_special;
    if (dataset->is_text && !t2g_text_is_bytes(text))
        return tokenize_text(dataset, text, parse_special, context, source, err);
    for (size_t i = 0; i < dataset->count; i++) {
        t2g_example *e = &dataset->examples[i];
        t2g_status status = dataset->is_text ? tokenize_byte_chunk(e, err)
                                             : tokenize_example(e, text, parse_special, err);
        if (status)
            return t2g_error_context(err, "%s: %s %zu", source, dataset->is_text ? "text chunk" : "example", i + 1);
    }
    return T2G_OK;
}

/* The shuffle of epoch `epoch`: a Fisher-Yates permutation of 0..n-1 from (seed, epoch). */
static void permutation(uint64_t seed, uint64_t epoch, size_t *order, size_t n) {
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    t2g_rng rng = t2g_rng_stream(seed, epoch);
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)t2g_rng_below(&rng, i);
        size_t swap = order[i - 1];
        order[i - 1] = order[j];
        order[j] = swap;
    }
}

t2g_status t2g_dataset_next_batch(const t2g_dataset *dataset, t2g_data_cursor *cursor, t2g_batch *batch,
                                  t2g_error *err) {
    if (dataset->count == 0) return t2g_fail(err, T2G_ERR_ARGUMENT, "the dataset has no examples");
    if (!batch->inputs || batch->B == 0)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "the batch is not allocated (t2g_batch_alloc)");
    if (cursor->position > dataset->count)
        return t2g_fail(err, T2G_ERR_FORMAT,
                        "the data cursor is at example %llu of epoch %llu but the dataset has %zu examples; expected "
                        "the dataset the cursor was saved with",
                        (unsigned long long)cursor->position, (unsigned long long)cursor->epoch, dataset->count);
    size_t *order = malloc(dataset->count * sizeof *order);
    if (!order) return t2g_fail(err, T2G_ERR_MEMORY, "out of memory for the shuffle of %zu examples", dataset->count);
    batch->truncated = 0;
    batch->weight_sum = 0;
    t2g_data_cursor c = *cursor;
    int have = 0;
    for (uint32_t b = 0; b < batch->B; b++) {
        if (c.position == dataset->count) { /* a cursor saved at the very end of an epoch */
            c.epoch++;
            c.position = 0;
            have = 0;
        }
        if (!have) {
            permutation(c.seed, c.epoch, order, dataset->count);
            have = 1;
        }
        t2g_batch_set_row(batch, b, &dataset->examples[order[c.position]], dataset->is_text);
        if (++c.position == dataset->count) { /* the epoch is over: the next one begins */
            c.epoch++;
            c.position = 0;
            have = 0;
        }
    }
    free(order);
    *cursor = c;
    return T2G_OK;
}
