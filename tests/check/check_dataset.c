/* Datasets: JSONL (happy path and every error with its line), plain-text chunks, built-in
 * tasks, the exact layout of a batch row, truncation, and the seeded shuffle (a permutation
 * per epoch, the same for the same cursor, wrapping into the next epoch). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "t2g/dataset.h"
#include "t2g/tokenizer.h"


/* A temporary file holding `len` bytes; its path (remove it with unlink). */
static const char *temp_file(check_ctx *ctx, const char *bytes, size_t len) {
    const char *dir = getenv("TMPDIR");
    char *path = check_host(ctx, 512);
    snprintf(path, 512, "%s/t2g-dataset-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, bytes, len) != (ssize_t)len) {
        check_fail(ctx, "cannot write the temporary file %s", path);
        if (fd >= 0) close(fd);
        return NULL;
    }
    close(fd);
    return path;
}

static bool example_is(const t2g_example *e, const char *prompt, const char *response) {
    return e->prompt_len == strlen(prompt) && strcmp(e->prompt, prompt) == 0 && e->response_len == strlen(response) &&
           strcmp(e->response, response) == 0;
}

T2G_HOST_CHECK(dataset_jsonl) {
    check_case_begin(ctx);
    static const char text[] =
        "\xEF\xBB\xBF{\"prompt\": \"2+2=\", \"response\": \"4\"}\n"
        "\n"
        "   \t\r\n"
        "{\"id\": 7, \"response\": \"caf\\u00e9 \\\"ok\\\"\\n\", \"prompt\": \"say\\tit\", \"extra\": [1, 2]}\r\n"
        "  {\"prompt\": \"\", \"response\": \"\"}  \n"
        "{\"prompt\":\"last\",\"response\":\"line without a newline\"}";
    const char *path = temp_file(ctx, text, sizeof text - 1);
    if (!path) return 1;
    t2g_dataset d;
    t2g_status status = t2g_dataset_load_jsonl(path, 1u << 20, &d, &ctx->err);
    unlink(path);
    if (!check_status(ctx, status, "loading a JSONL file")) return 1;
    check_true(ctx, d.count == 4 && !d.is_text, "4 examples (blank lines skipped), not text: got %zu", d.count);
    if (d.count == 4) {
        check_true(ctx, example_is(&d.examples[0], "2+2=", "4"), "example 1 (after a byte order mark)");
        check_true(ctx, example_is(&d.examples[1], "say\tit", "caf\xC3\xA9 \"ok\"\n"),
                   "example 2: escapes decoded, keys in any order, other keys ignored, CRLF");
        check_true(ctx, example_is(&d.examples[2], "", ""), "example 3: empty strings, surrounding spaces");
        check_true(ctx, example_is(&d.examples[3], "last", "line without a newline"), "example 4: no final newline");
    }
    t2g_dataset_free(&d);
    check_true(ctx, d.count == 0 && d.examples == NULL, "free clears the dataset");
    return ctx->failures;
}

typedef struct jsonl_error_case {
    const char *bad_line; /* put on line 3, after a good line and a blank one */
    const char *expected; /* in the message, after "PATH:3: " */
} jsonl_error_case;

T2G_HOST_CHECK(dataset_jsonl_errors) {
    static const jsonl_error_case cases[] = {
        {"prompt: 1", "not JSON (error near column 1); expected one JSON object {\"prompt\": string, \"response\": "
                      "string} per line"},
        {"{\"prompt\": \"a\", \"response\": \"b\"", "not JSON"},
        {"{\"prompt\": \"a\", \"response\": \"b\"} trailing", "not JSON (error near column 34)"},
        {"[\"a\", \"b\"]", "an array, expected one JSON object"},
        {"\"just a string\"", "a string, expected one JSON object"},
        {"42", "a number, expected one JSON object"},
        {"{\"response\": \"b\"}", "no \"prompt\" key; expected one JSON object {\"prompt\": string"},
        {"{\"prompt\": \"a\"}", "no \"response\" key; expected"},
        {"{\"Prompt\": \"a\", \"response\": \"b\"}", "no \"prompt\" key"},
        {"{\"prompt\": 12, \"response\": \"b\"}", "\"prompt\" is a number, expected a string"},
        {"{\"prompt\": \"a\", \"response\": null}", "\"response\" is null, expected a string"},
        {"{\"prompt\": \"a\", \"response\": [\"b\"]}", "\"response\" is an array, expected a string"},
        {"{\"prompt\": \"a\", \"response\": {\"text\": \"b\"}}", "\"response\" is an object, expected a string"},
        {"{\"prompt\": true, \"response\": \"b\"}", "\"prompt\" is a boolean, expected a string"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        check_case_begin(ctx);
        char text[512];
        int len =
            snprintf(text, sizeof text,
                     "{\"prompt\": \"ok\", \"response\": \"fine\"}\n\n%s\n{\"prompt\": \"x\", \"response\": \"y\"}\n",
                     cases[c].bad_line);
        const char *path = temp_file(ctx, text, (size_t)len);
        if (!path) return 1;
        t2g_dataset d;
        memset(&ctx->err, 0, sizeof ctx->err);
        t2g_status status = t2g_dataset_load_jsonl(path, 1u << 20, &d, &ctx->err);
        unlink(path);
        char expected[1024];
        snprintf(expected, sizeof expected, "%s:3: %s", path, cases[c].expected);
        check_true(ctx, status == T2G_ERR_FORMAT && strstr(ctx->err.message, expected) && d.count == 0 && !d.examples,
                   "line '%s': expected a format error containing '%s', got status %d: %s", cases[c].bad_line, expected,
                   (int)status, ctx->err.message);
    }

    /* A NUL byte in a line, a file of blank lines, an empty file, a missing file. */
    check_case_begin(ctx);
    static const char nul_text[] =
        "{\"prompt\": \"a\", \"response\": \"b\"}\n{\"prompt\": \"a\0\", \"response\": \"b\"}\n";
    const char *path = temp_file(ctx, nul_text, sizeof nul_text - 1);
    t2g_dataset d;
    char expected[1024];
    if (path) {
        t2g_status status = t2g_dataset_load_jsonl(path, 1u << 20, &d, &ctx->err);
        unlink(path);
        snprintf(expected, sizeof expected, "%s:2: a NUL byte at column 14", path);
        check_true(ctx, status == T2G_ERR_FORMAT && strstr(ctx->err.message, expected), "NUL byte: got %s",
                   ctx->err.message);
    }
    path = temp_file(ctx, "\n  \n\n", 5);
    if (path) {
        t2g_status status = t2g_dataset_load_jsonl(path, 1u << 20, &d, &ctx->err);
        unlink(path);
        snprintf(expected, sizeof expected, "%s: no examples (3 lines, all blank)", path);
        check_true(ctx, status == T2G_ERR_FORMAT && strstr(ctx->err.message, expected), "blank file: got %s",
                   ctx->err.message);
    }
    path = temp_file(ctx, "", 0);
    if (path) {
        t2g_status status = t2g_dataset_load_jsonl(path, 1u << 20, &d, &ctx->err);
        unlink(path);
        snprintf(expected, sizeof expected, "%s: no examples (0 lines", path);
        check_true(ctx, status == T2G_ERR_FORMAT && strstr(ctx->err.message, expected), "empty file: got %s",
                   ctx->err.message);
    }
    t2g_status status = t2g_dataset_load_jsonl("/nonexistent/t2g/data.jsonl", 1u << 20, &d, &ctx->err);
    check_true(
        ctx, status == T2G_ERR_IO && strstr(ctx->err.message, "cannot read the data file /nonexistent/t2g/data.jsonl: No such file"),
        "missing file: got %d: %s", (int)status, ctx->err.message);
    return ctx->failures;
}

/* Compares row `row` of the batch with the expected ids, targets and weights. */
static void expect_row(check_ctx *ctx, const char *what, const t2g_batch *batch, uint32_t row, const uint32_t *inputs,
                       const uint32_t *targets, const float *weights) {
    bool same = true;
    for (uint32_t t = 0; t < batch->T && same; t++) {
        size_t i = (size_t)row * batch->T + t;
        same = check_expect(
            ctx, batch->inputs[i] == inputs[t] && batch->targets[i] == targets[t] && batch->weights[i] == weights[t],
            "%s: position %u holds input %u target %u weight %g, expected %u %u %g", what, t, batch->inputs[i],
            batch->targets[i], (double)batch->weights[i], inputs[t], targets[t], (double)weights[t]);
    }
    check_true(ctx, same, "row %u, %s: inputs, targets and weights as expected", row, what);
}

enum { BOS = T2G_TOKEN_BOS, EOS = T2G_TOKEN_EOS, PAD = T2G_TOKEN_PAD };

T2G_HOST_CHECK(dataset_batch_layout) {
    t2g_batch batch;
    if (!check_status(ctx, t2g_batch_alloc(&batch, 5, 8, &ctx->err), "allocating a batch")) return 1;
    /* Row 0: BOS a b x y z EOS (7 tokens): weights on the response targets and EOS. */
    t2g_example short_one = {"ab", 2, "xyz", 3, NULL, 0, NULL, 0};
    t2g_batch_set_row(&batch, 0, &short_one, 0);
    expect_row(ctx, "prompt 'ab' response 'xyz'", &batch, 0, (uint32_t[]){BOS, 'a', 'b', 'x', 'y', 'z', EOS, PAD},
               (uint32_t[]){'a', 'b', 'x', 'y', 'z', EOS, PAD, PAD}, (float[]){0, 0, 1, 1, 1, 1, 0, 0});
    /* Row 1: exactly T + 1 = 9 tokens: fits, the EOS is the last target. */
    t2g_example exact = {"pq", 2, "abcde", 5, NULL, 0, NULL, 0};
    t2g_batch_set_row(&batch, 1, &exact, 0);
    expect_row(ctx, "T + 1 tokens", &batch, 1, (uint32_t[]){BOS, 'p', 'q', 'a', 'b', 'c', 'd', 'e'},
               (uint32_t[]){'p', 'q', 'a', 'b', 'c', 'd', 'e', EOS}, (float[]){0, 0, 1, 1, 1, 1, 1, 1});
    check_true(ctx, batch.truncated == 0 && batch.weight_sum == 4 + 6,
               "rows 0-1: truncated %u weight sum %g, expected 0 and 10", batch.truncated, batch.weight_sum);
    /* Row 2: 13 tokens, cut at 9: no EOS. */
    t2g_example long_one = {"p", 1, "0123456789", 10, NULL, 0, NULL, 0};
    t2g_batch_set_row(&batch, 2, &long_one, 0);
    expect_row(ctx, "13 tokens cut at 9", &batch, 2, (uint32_t[]){BOS, 'p', '0', '1', '2', '3', '4', '5'},
               (uint32_t[]){'p', '0', '1', '2', '3', '4', '5', '6'}, (float[]){0, 1, 1, 1, 1, 1, 1, 1});
    check_true(ctx, batch.truncated == 1 && batch.weight_sum == 17,
               "after the long row: truncated %u weight sum %g, expected 1 and 17", batch.truncated, batch.weight_sum);
    /* Row 3: a prompt longer than the row: nothing to learn, all weights 0. Bytes >= 0x80 are
     * tokens 128..255. */
    t2g_example all_prompt = {"\xC3\xA9\xFF"
                              "123456789",
                              12, "r", 1, NULL, 0, NULL, 0};
    t2g_batch_set_row(&batch, 3, &all_prompt, 0);
    expect_row(ctx, "prompt longer than the row", &batch, 3, (uint32_t[]){BOS, 0xC3, 0xA9, 0xFF, '1', '2', '3', '4'},
               (uint32_t[]){0xC3, 0xA9, 0xFF, '1', '2', '3', '4', '5'}, (float[]){0, 0, 0, 0, 0, 0, 0, 0});
    /* Row 4: an empty response: only the EOS is learned. */
    t2g_example empty = {"ab", 2, "", 0, NULL, 0, NULL, 0};
    t2g_batch_set_row(&batch, 4, &empty, 0);
    expect_row(ctx, "empty response", &batch, 4, (uint32_t[]){BOS, 'a', 'b', EOS, PAD, PAD, PAD, PAD},
               (uint32_t[]){'a', 'b', EOS, PAD, PAD, PAD, PAD, PAD}, (float[]){0, 0, 1, 0, 0, 0, 0, 0});
    check_true(ctx, batch.truncated == 2 && batch.weight_sum == 18,
               "after 5 rows: truncated %u weight sum %g, expected 2 and 18", batch.truncated, batch.weight_sum);

    /* Text: BOS chunk PAD...; every real target weighted; T bytes fill a row exactly. */
    t2g_batch_free(&batch);
    if (!check_status(ctx, t2g_batch_alloc(&batch, 3, 8, &ctx->err), "allocating a batch")) return 1;
    t2g_example hello = {"", 0, "hello", 5, NULL, 0, NULL, 0}, eight = {"", 0, "12345678", 8, NULL, 0, NULL, 0}, nine = {"", 0, "123456789", 9, NULL, 0, NULL, 0};
    t2g_batch_set_row(&batch, 0, &hello, 1);
    expect_row(ctx, "text 'hello'", &batch, 0, (uint32_t[]){BOS, 'h', 'e', 'l', 'l', 'o', PAD, PAD},
               (uint32_t[]){'h', 'e', 'l', 'l', 'o', PAD, PAD, PAD}, (float[]){1, 1, 1, 1, 1, 0, 0, 0});
    t2g_batch_set_row(&batch, 1, &eight, 1);
    expect_row(ctx, "text of T bytes", &batch, 1, (uint32_t[]){BOS, '1', '2', '3', '4', '5', '6', '7'},
               (uint32_t[]){'1', '2', '3', '4', '5', '6', '7', '8'}, (float[]){1, 1, 1, 1, 1, 1, 1, 1});
    check_true(ctx, batch.truncated == 0, "a text chunk of T bytes is not truncated");
    t2g_batch_set_row(&batch, 2, &nine, 1);
    expect_row(ctx, "text of T + 1 bytes", &batch, 2, (uint32_t[]){BOS, '1', '2', '3', '4', '5', '6', '7'},
               (uint32_t[]){'1', '2', '3', '4', '5', '6', '7', '8'}, (float[]){1, 1, 1, 1, 1, 1, 1, 1});
    check_true(ctx, batch.truncated == 1 && batch.weight_sum == 21,
               "text rows: truncated %u weight sum %g, expected 1 and 21", batch.truncated, batch.weight_sum);
    t2g_batch_free(&batch);
    check_true(ctx, batch.inputs == NULL && batch.B == 0, "batch_free clears the batch");
    check_true(ctx, t2g_batch_alloc(&batch, 0, 8, &ctx->err) == T2G_ERR_ARGUMENT && strstr(ctx->err.message, "B=0"),
               "a batch of 0 rows is refused: %s", ctx->err.message);
    check_true(ctx, t2g_batch_alloc(&batch, 2, 0, &ctx->err) == T2G_ERR_ARGUMENT && strstr(ctx->err.message, "T=0"),
               "a batch of 0 positions is refused: %s", ctx->err.message);
    return ctx->failures;
}

/* The example index of each row (prompts are "e<index>" and distinct). */
static void row_examples(const t2g_batch *batch, uint32_t *out) {
    for (uint32_t b = 0; b < batch->B; b++) {
        const uint32_t *in = batch->inputs + (size_t)b * batch->T;
        out[b] = (in[2] - '0') * 10 + (in[3] - '0');
    }
}

T2G_HOST_CHECK(dataset_shuffle) {
    enum { N = 23, B = 5, BATCHES = 3 * N / B + 2 };
    t2g_dataset d = {0};
    d.count = N;
    d.examples = check_host(ctx, N * sizeof *d.examples);
    char(*prompts)[4] = check_host(ctx, N * sizeof *prompts);
    for (int i = 0; i < N; i++) {
        snprintf(prompts[i], sizeof prompts[i], "e%02d", i);
        d.examples[i] = (t2g_example){prompts[i], 3, "r", 1, NULL, 0, NULL, 0};
    }
    t2g_batch batch;
    if (!check_status(ctx, t2g_batch_alloc(&batch, B, 6, &ctx->err), "allocating a batch")) return 1;

    uint64_t seed = check_random_u64(ctx);
    uint32_t order[BATCHES * B], again[BATCHES * B], other[BATCHES * B];
    t2g_data_cursor cursor = {seed, 0, 0}, resumed = {0};
    for (int k = 0; k < BATCHES; k++) {
        if (k == 4) resumed = cursor; /* a checkpoint in the middle of epoch 0 */
        if (!check_status(ctx, t2g_dataset_next_batch(&d, &cursor, &batch, &ctx->err), "next batch")) return 1;
        row_examples(&batch, order + k * B);
        /* The cursor counts the examples handed out; an exhausted epoch starts the next. */
        uint64_t handed = (uint64_t)(k + 1) * B;
        check_true(ctx, cursor.epoch == handed / N && cursor.position == handed % N,
                   "after batch %d: epoch %llu position %llu, expected %llu %llu", k, (unsigned long long)cursor.epoch,
                   (unsigned long long)cursor.position, (unsigned long long)(handed / N),
                   (unsigned long long)(handed % N));
        check_true(ctx, batch.weight_sum == 2.0 * B && batch.truncated == 0, "batch %d: weight sum %g, expected %d", k,
                   batch.weight_sum, 2 * B);
    }
    /* Each epoch is a permutation of the examples, and the epochs differ. */
    for (int e = 0; e < 3; e++) {
        int seen[N] = {0};
        for (int i = 0; i < N; i++)
            seen[order[e * N + i] < N ? order[e * N + i] : 0]++;
        bool permutation = true;
        for (int i = 0; i < N; i++)
            permutation &= seen[i] == 1;
        check_true(ctx, permutation, "epoch %d hands out every example once", e);
    }
    check_true(ctx, memcmp(order, order + N, N * sizeof *order) != 0, "epochs 0 and 1 have different orders");
    bool identity = true;
    for (int i = 0; i < N; i++)
        identity &= order[i] == (uint32_t)i;
    check_true(ctx, !identity, "epoch 0 is shuffled");

    /* The same cursor gives the same batches: from the start and from the saved cursor. */
    cursor = (t2g_data_cursor){seed, 0, 0};
    for (int k = 0; k < BATCHES; k++) {
        t2g_dataset_next_batch(&d, &cursor, &batch, &ctx->err);
        row_examples(&batch, again + k * B);
    }
    check_true(ctx, memcmp(order, again, sizeof order) == 0, "a second run from the same seed gives the same batches");
    for (int k = 4; k < BATCHES; k++) {
        t2g_dataset_next_batch(&d, &resumed, &batch, &ctx->err);
        row_examples(&batch, again + k * B);
    }
    check_true(ctx, memcmp(order, again, sizeof order) == 0, "resuming from a saved cursor continues the same batches");
    cursor = (t2g_data_cursor){seed + 1, 0, 0};
    for (int k = 0; k < BATCHES; k++) {
        t2g_dataset_next_batch(&d, &cursor, &batch, &ctx->err);
        row_examples(&batch, other + k * B);
    }
    check_true(ctx, memcmp(order, other, sizeof order) != 0, "another seed gives another order");

    /* A batch larger than the dataset wraps through several epochs; a cursor saved at the end
     * of an epoch starts the next; a cursor past the end is refused. */
    t2g_batch big;
    if (check_status(ctx, t2g_batch_alloc(&big, 2 * N + 3, 6, &ctx->err), "allocating a batch")) {
        cursor = (t2g_data_cursor){seed, 0, 0};
        check_status(ctx, t2g_dataset_next_batch(&d, &cursor, &big, &ctx->err), "a batch of 2N + 3 rows");
        uint32_t *rows = check_host(ctx, big.B * sizeof *rows);
        row_examples(&big, rows);
        check_true(
            ctx, cursor.epoch == 2 && cursor.position == 3 && memcmp(rows, order, big.B * sizeof *rows) == 0,
            "a batch of 2N + 3 rows: the first 2N + 3 of the stream, cursor at epoch 2 position 3 (got %llu %llu)",
            (unsigned long long)cursor.epoch, (unsigned long long)cursor.position);
        t2g_batch_free(&big);
    }
    if (check_status(ctx, t2g_batch_alloc(&big, N, 6, &ctx->err), "allocating a batch")) {
        cursor = (t2g_data_cursor){seed, 0, 0};
        t2g_dataset_next_batch(&d, &cursor, &big, &ctx->err);
        check_true(ctx, cursor.epoch == 1 && cursor.position == 0,
                   "a batch of exactly N rows ends epoch 0: the cursor reads epoch 1 position 0 (got %llu %llu)",
                   (unsigned long long)cursor.epoch, (unsigned long long)cursor.position);
        t2g_batch_free(&big);
    }
    cursor = (t2g_data_cursor){seed, 0, N};
    t2g_dataset_next_batch(&d, &cursor, &batch, &ctx->err);
    row_examples(&batch, again);
    check_true(ctx, memcmp(again, order + N, B * sizeof *again) == 0 && cursor.epoch == 1 && cursor.position == B,
               "a cursor at the end of epoch 0 continues with epoch 1");
    cursor = (t2g_data_cursor){seed, 0, N + 1};
    t2g_status status = t2g_dataset_next_batch(&d, &cursor, &batch, &ctx->err);
    check_true(ctx,
               status == T2G_ERR_FORMAT && strstr(ctx->err.message, "24") && strstr(ctx->err.message, "23 examples"),
               "a cursor past the end of the dataset is refused: %s", ctx->err.message);
    t2g_batch_free(&batch);

    /* Every order is equally likely: the 6 orders of 3 examples over 1200 shuffles (about 200
     * each; a Fisher-Yates with an off-by-one, e.g. Sattolo's cycles, makes only 2). */
    d.count = 3;
    if (!check_status(ctx, t2g_batch_alloc(&batch, 3, 6, &ctx->err), "allocating a batch")) return 1;
    unsigned counts[6] = {0};
    for (uint64_t s = 0; s < 1200; s++) {
        cursor = (t2g_data_cursor){seed, s, 0};
        t2g_dataset_next_batch(&d, &cursor, &batch, &ctx->err);
        uint32_t rows[3];
        row_examples(&batch, rows);
        /* the rank of the order among the 6 */
        counts[rows[0] * 2 + (rows[1] > rows[2])]++;
    }
    unsigned lo = counts[0], hi = counts[0];
    for (int i = 1; i < 6; i++) {
        lo = counts[i] < lo ? counts[i] : lo;
        hi = counts[i] > hi ? counts[i] : hi;
    }
    check_true(ctx, lo > 140 && hi < 260,
               "the 6 orders of 3 examples over 1200 epochs: %u to %u times each, expected about 200", lo, hi);
    t2g_batch_free(&batch);
    return ctx->failures;
}

T2G_HOST_CHECK(dataset_text_and_task) {
    check_case_begin(ctx);
    static const char text[] = "The quick brown fox jumps"; /* 25 bytes */
    const char *path = temp_file(ctx, text, sizeof text - 1);
    if (!path) return 1;
    t2g_dataset d;
    if (check_status(ctx, t2g_dataset_load_text(path, 10, &d, &ctx->err), "loading text")) {
        check_true(ctx, d.count == 3 && d.is_text, "25 bytes in chunks of 10: %zu chunks, expected 3", d.count);
        if (d.count == 3)
            check_true(ctx,
                       example_is(&d.examples[0], "", "The quick ") && example_is(&d.examples[1], "", "brown fox ") &&
                           example_is(&d.examples[2], "", "jumps"),
                       "chunks of 10, 10 and 5 bytes with empty prompts");
        t2g_dataset_free(&d);
    }
    if (check_status(ctx, t2g_dataset_load_text(path, 25, &d, &ctx->err), "loading text")) {
        check_true(ctx, d.count == 1 && example_is(&d.examples[0], "", text), "a chunk the size of the file");
        t2g_dataset_free(&d);
    }
    check_true(ctx, t2g_dataset_load_text(path, 0, &d, &ctx->err) == T2G_ERR_ARGUMENT && strstr(ctx->err.message, path),
               "a chunk of 0 bytes is refused: %s", ctx->err.message);
    unlink(path);
    check_true(ctx,
               t2g_dataset_load_text("/nonexistent/t2g/book.txt", 10, &d, &ctx->err) == T2G_ERR_IO &&
                   strstr(ctx->err.message, "cannot read the text file /nonexistent/t2g/book.txt"),
               "a missing text file: %s", ctx->err.message);
    path = temp_file(ctx, "", 0);
    if (path) {
        check_true(
            ctx, t2g_dataset_load_text(path, 10, &d, &ctx->err) == T2G_ERR_FORMAT && strstr(ctx->err.message, "empty"),
            "an empty text file is refused: %s", ctx->err.message);
        unlink(path);
    }

    /* A task's dataset is its stream: example i of (seed, i). */
    const t2g_task *task = t2g_task_find("facts");
    uint64_t seed = check_random_u64(ctx);
    if (check_status(ctx, t2g_dataset_from_task(task, seed, 50, &d, &ctx->err), "a dataset from the facts task")) {
        check_true(ctx, d.count == 50 && !d.is_text, "50 examples");
        for (size_t i = 0; i < d.count; i++) {
            t2g_task_example ex;
            t2g_task_example_at(task, seed, i, &ex);
            if (!check_expect(ctx, example_is(&d.examples[i], ex.prompt, ex.answer),
                        "example %zu is not the task's example %zu", i, i))
                break;
        }
        check_true(ctx, ctx->failures == 0, "the dataset holds the task's examples 0..49 of the seed");
        t2g_dataset_free(&d);
    }
    check_true(ctx, t2g_dataset_from_task(task, seed, 0, &d, &ctx->err) == T2G_ERR_ARGUMENT, "0 examples are refused");
    return ctx->failures;
}

/* RL prompt files: only "prompt" is required; the row's other keys are kept for the critic. */
T2G_HOST_CHECK(dataset_prompts) {
    check_case_begin(ctx);
    static const char text[] = "{\"prompt\": \"2+2=\"}\n"
                               "\n"
                               "{\"level\": 3, \"prompt\": \"name=Ada\\nSummary: \", \"response\": \"Ada.\", \"tags\": [\"a\"]}\n";
    const char *path = temp_file(ctx, text, sizeof text - 1);
    if (!path) return 1;
    t2g_dataset d;
    t2g_status status = t2g_dataset_load_prompts(path, 1u << 20, &d, &ctx->err);
    if (check_status(ctx, status, "loading a prompts file without responses")) {
        check_true(ctx, d.count == 2 && d.fields, "2 prompts, with fields (%zu)", d.count);
        if (d.count == 2 && d.fields) {
            check_true(ctx, example_is(&d.examples[0], "2+2=", "") && strcmp(d.fields[0], "{}") == 0,
                       "a row with only a prompt: no response, fields {} (%s)", d.fields[0]);
            check_true(ctx, example_is(&d.examples[1], "name=Ada\nSummary: ", "") &&
                                strcmp(d.fields[1], "{\"level\":3,\"response\":\"Ada.\",\"tags\":[\"a\"]}") == 0,
                       "the other keys, response included, as JSON in the row's order (%s)", d.fields[1]);
        }
        t2g_dataset_free(&d);
        check_true(ctx, d.fields == NULL && d.count == 0, "free clears the fields");
    }
    /* the SFT loader still wants a response, and gives no fields */
    status = t2g_dataset_load_jsonl(path, 1u << 20, &d, &ctx->err);
    check_true(ctx, status == T2G_ERR_FORMAT && strstr(ctx->err.message, ":1: no \"response\" key"),
               "SFT loading of the same file: line 1 has no response (%s)", ctx->err.message);
    unlink(path);
    static const char bad[] = "{\"prompt\": \"ok\"}\n{\"response\": \"no prompt\"}\n";
    path = temp_file(ctx, bad, sizeof bad - 1);
    if (!path) return 1;
    status = t2g_dataset_load_prompts(path, 1u << 20, &d, &ctx->err);
    unlink(path);
    check_true(ctx, status == T2G_ERR_FORMAT && strstr(ctx->err.message, ":2: no \"prompt\" key") &&
                        strstr(ctx->err.message, "{\"prompt\": string, ...}"),
               "a row without a prompt: an error naming the line (%s)", ctx->err.message);
    memset(&ctx->err, 0, sizeof ctx->err);
    return ctx->failures;
}

/* Bounded inputs: a JSONL line over data.max_line_bytes is an error naming the file and the
 * line (a line at the cap is read); a FIFO and a device are refused at once, without reading
 * (a FIFO with no writer used to block for ever, /dev/zero to fill memory). */
T2G_HOST_CHECK(dataset_bounded_inputs) {
    check_case_begin(ctx);
    const char *line = "{\"prompt\": \"a\", \"response\": \"b\"}"; /* 33 bytes */
    char text[256];
    snprintf(text, sizeof text, "%s\r\n%s   \n%s\n", line, line, line);
    const char *path = temp_file(ctx, text, strlen(text));
    if (!path) return ctx->failures;
    t2g_dataset d;
    size_t at_cap = strlen(line) + 3; /* line 2, with three spaces */
    if (check_status(ctx, t2g_dataset_load_jsonl(path, at_cap, &d, &ctx->err), "lines at the cap (CRLF included)")) {
        check_true(ctx, d.count == 3, "three examples (%zu)", d.count);
        t2g_dataset_free(&d);
    }
    char expected[600];
    snprintf(expected, sizeof expected, "%s:2: the line is longer than the %zu bytes allowed (data.max_line_bytes", path,
             at_cap - 1);
    t2g_status status = t2g_dataset_load_jsonl(path, at_cap - 1, &d, &ctx->err);
    check_true(ctx, status == T2G_ERR_TOO_LARGE && strstr(ctx->err.message, expected) && d.count == 0,
               "a line one byte over data.max_line_bytes: %s", ctx->err.message);
    unlink(path);

    char fifo[512];
    snprintf(fifo, sizeof fifo, "%s.fifo", path);
    if (check_true(ctx, mkfifo(fifo, 0600) == 0, "mkfifo %s", fifo)) {
        status = t2g_dataset_load_jsonl(fifo, 1u << 20, &d, &ctx->err);
        check_true(ctx, status == T2G_ERR_IO && strstr(ctx->err.message, fifo) && strstr(ctx->err.message, "FIFO"),
                   "a FIFO is refused without waiting for a writer: %s", ctx->err.message);
        status = t2g_dataset_load_text(fifo, 64, &d, &ctx->err);
        check_true(ctx, status == T2G_ERR_IO && strstr(ctx->err.message, "FIFO"), "as text too: %s", ctx->err.message);
        unlink(fifo);
    }
    status = t2g_dataset_load_text("/dev/zero", 64, &d, &ctx->err);
    check_true(ctx, status == T2G_ERR_IO && strstr(ctx->err.message, "/dev/zero: it is a character device"),
               "/dev/zero is refused: %s", ctx->err.message);
    status = t2g_dataset_load_jsonl("/tmp", 1u << 20, &d, &ctx->err);
    check_true(ctx, status == T2G_ERR_IO && strstr(ctx->err.message, "a directory"), "a directory: %s", ctx->err.message);
    return ctx->failures;
}
