/* Version 4 checkpoints: the tensor directory. A round trip with the tables of real gpt2 and
 * llama models (arrays and directory bit-exact, the layout byte by byte), every way a directory
 * can be wrong (each refused before anything is allocated, with a message naming the file and
 * the tensor or key), and the check of a directory against a model's table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "checkpoint_files.h"
#include "t2g/checkpoint.h"
#include "t2g/gpt.h"

/* ---- a table by hand ---- */

enum { HAND_ROWS = 7 };

/* A small model's table, laid out as the model lays out its buffer: each tensor at the next
 * multiple of 64 floats. Returns the buffer's floats. */
static uint64_t hand_table(t2g_gpt_param *table) {
    static const struct {
        const char *name;
        int layer;
        uint32_t rows, cols;
    } rows[HAND_ROWS] = {{"wte", -1, 11, 8},  {"qkvw", 0, 8, 24}, {"qkvw", 1, 8, 24}, {"ln1w", 0, 1, 8},
                         {"ln1w", 1, 1, 8},   {"lnfw", -1, 1, 8}, {"lnfb", -1, 1, 8}};
    uint64_t at = 0;
    for (int i = 0; i < HAND_ROWS; i++) {
        table[i] = (t2g_gpt_param){rows[i].name, rows[i].layer, at, rows[i].rows, rows[i].cols, rows[i].rows > 1};
        at += ((uint64_t)rows[i].rows * rows[i].cols + 63) / 64 * 64;
    }
    return at;
}

/* Zeros in the floats of params, m and v that no tensor of the table covers (a model's padding
 * is 0, and a checkpoint does not store it). */
static void zero_padding(t2g_checkpoint *ck, const t2g_gpt_param *table, uint32_t count) {
    char *covered = calloc(ck->param_count ? ck->param_count : 1, 1);
    for (uint32_t i = 0; i < count; i++) memset(covered + table[i].offset, 1, (size_t)table[i].rows * table[i].cols);
    for (uint64_t k = 0; k < ck->param_count; k++)
        if (!covered[k]) ck->params[k] = ck->m[k] = ck->v[k] = 0;
    free(covered);
}

static bool same_table(const t2g_gpt_param *a, uint32_t na, const t2g_gpt_param *b, uint32_t nb) {
    if (na != nb) return false;
    for (uint32_t i = 0; i < na; i++)
        if (strcmp(a[i].name, b[i].name) != 0 || a[i].layer != b[i].layer || a[i].offset != b[i].offset ||
            a[i].rows != b[i].rows || a[i].cols != b[i].cols)
            return false;
    return true;
}

/* Saves ck, loads it back and checks both the file's layout and the loaded checkpoint. */
static void round_trip(check_ctx *ctx, const char *path, const t2g_checkpoint *ck, const char *label) {
    if (!check_status(ctx, t2g_checkpoint_save(path, ck, &ctx->err), "saving")) return;
    size_t len;
    unsigned char *file = ct_read_file(ctx, path, &len);
    char why[200];
    uint32_t tensors = 3 * ck->table_count + (ck->aux_count ? 3 : 0);
    bool layout = file && ct_v4_layout(file, len, ck, tensors, why, sizeof why);
    check_true(ctx, layout, "%s: %zu bytes in the version 4 layout, %u tensors (%s)", label, len, tensors, layout ? "ok" : why);
    t2g_checkpoint back;
    if (!check_status(ctx, t2g_checkpoint_load(path, &back, &ctx->err), "loading")) return;
    check_true(ctx, ct_same_checkpoint(ck, &back), "%s: the loaded checkpoint is bit-exact", label);
    check_true(ctx, same_table(ck->table, ck->table_count, back.table, back.table_count),
               "%s: its directory is the table it was saved from (%u rows)", label, back.table_count);
    t2g_error err = {0};
    t2g_status status = t2g_checkpoint_match_table(&back, ck->table, ck->table_count, ck->param_count, &err);
    check_true(ctx, status == T2G_OK, "%s: it matches its own table (%s)", label, status ? err.message : "ok");
    t2g_checkpoint_free(&back);
}

/* ---- the round trip with real models ---- */

static t2g_model_config llama_config(void) {
    return (t2g_model_config){.arch = T2G_ARCH_LLAMA, .vocab = 259, .context = 16, .layers = 2, .heads = 6, .width = 24,
                              .kv_heads = 2, .ffn_width = 10, .rope_theta = 5e5, .norm_eps = 1e-6, .qkv_bias = 1,
                              .tied_head = 0};
}

T2G_CHECK(checkpoint_v4_models) {
    check_case_begin(ctx);
    char dir[512], path[600];
    if (!ct_make_dir(ctx, dir, sizeof dir)) return ctx->failures;
    snprintf(path, sizeof path, "%s/model.ckpt", dir);
    const t2g_model_config configs[] = {T2G_MODEL_GPT2(261, 13, 2, 3, 12), llama_config()};
    t2g_gpt *gpts[2] = {NULL, NULL};
    for (int c = 0; c < 2; c++) {
        if (!check_status(ctx, t2g_gpt_create(ctx->device, &configs[c], 1, 8, &gpts[c], &ctx->err), "creating a model"))
            break;
        const t2g_gpt_param *table;
        uint32_t count = t2g_gpt_params(gpts[c], &table);
        t2g_checkpoint ck = ct_random_checkpoint(ctx, t2g_gpt_buffer_floats(gpts[c]), "{\"model\": {}}");
        ck.table = table;
        ck.table_count = count;
        zero_padding(&ck, table, count);
        if (c == 1) ct_add_aux(ctx, &ck, 25); /* an RL run's value head */
        round_trip(ctx, path, &ck, c ? "llama" : "gpt2");
        t2g_checkpoint back;
        if (check_status(ctx, t2g_checkpoint_load(path, &back, &ctx->err), "loading")) {
            t2g_error err = {0};
            t2g_status status = t2g_checkpoint_match_model(&back, gpts[c], path, &err);
            check_true(ctx, status == T2G_OK, "the checkpoint matches the model it was saved from (%s)",
                       status ? err.message : "ok");
            if (c == 1 && gpts[0]) {
                status = t2g_checkpoint_match_model(&back, gpts[0], path, &err);
                check_true(ctx, status == T2G_ERR_FORMAT && strstr(err.message, path) && strstr(err.message, "tensor"),
                           "a llama checkpoint does not match a gpt2 model, naming a tensor (%s)",
                           status ? err.message : "matched");
            }
            t2g_checkpoint_free(&back);
        }
    }
    for (int c = 0; c < 2; c++) t2g_gpt_destroy(gpts[c]);
    ct_remove_dir(dir);
    return ctx->failures;
}

/* ---- a directory that is wrong ---- */

/* A version 4 file of a directory and data: the preamble, the directory, zeros to the 64-byte
 * aligned data, the data, the CRC-32 (host memory of the case). */
static unsigned char *v4_file(check_ctx *ctx, const cJSON *dir, const unsigned char *data, size_t data_bytes,
                              size_t *len) {
    char *text = cJSON_PrintUnformatted(dir);
    size_t directory_bytes = text ? strlen(text) : 0, start = (16 + directory_bytes + 63) / 64 * 64;
    *len = start + data_bytes + 4;
    unsigned char *file = check_host(ctx, *len);
    memset(file, 0, *len);
    memcpy(file, "T2GCKPT\0", 8);
    ct_put_le32(file + 8, 4);
    ct_put_le32(file + 12, (uint32_t)directory_bytes);
    if (text) memcpy(file + 16, text, directory_bytes);
    memcpy(file + start, data, data_bytes);
    ct_reseal(file, *len);
    free(text);
    return file;
}

static cJSON *tensor_at(cJSON *dir, int i) { return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(dir, "tensors"), i); }

static void set_number(cJSON *object, const char *key, double value) {
    cJSON_ReplaceItemInObjectCaseSensitive(object, key, cJSON_CreateNumber(value));
}
static void set_string(cJSON *object, const char *key, const char *value) {
    cJSON_ReplaceItemInObjectCaseSensitive(object, key, cJSON_CreateString(value));
}

/* One way a directory can be wrong: what is changed, and what the message says. */
typedef enum wrong {
    OFFSET_PAST_END, OVERLAP, DUPLICATE_NAME, UNKNOWN_DTYPE, BYTES_NOT_SHAPE, DATA_2_62, TENSOR_2_62, BUFFER_2_62,
    NO_MOMENT, UNKNOWN_KEY, MISSING_KEY, UNKNOWN_NAME, RUN_KIND, STEP_NUMBER, NO_BUFFER_OFFSET, MOMENT_SHAPE,
    OUTSIDE_BUFFER, SHARED_BUFFER, RANK_3, AUX_LENGTH, WRONG_COUNT,
} wrong;

static const struct {
    const char *label, *expect, *also;
} wrongs[WRONG_COUNT] = {
    [OFFSET_PAST_END] = {"a tensor past the end of the data", "params/h.0.qkvw: bytes", "past the end of the data"},
    [OVERLAP] = {"two tensors overlapping", "overlap", "params/h.0.qkvw"},
    [DUPLICATE_NAME] = {"a name twice", "params/h.0.qkvw appears twice", NULL},
    [UNKNOWN_DTYPE] = {"an unknown dtype", "params/wte: dtype \"f64\"", NULL},
    [BYTES_NOT_SHAPE] = {"bytes that are not its shape's", "params/wte: 88 f32 elements are 352 bytes; its entry says 356", NULL},
    [DATA_2_62] = {"a directory claiming 2^62 bytes of data", "truncated", "4611686018427387904 bytes of data"},
    [TENSOR_2_62] = {"a tensor of 2^62 bytes", "value_head/params: bytes", "4611686018427387904 lie past the end"},
    [BUFFER_2_62] = {"a buffer of 2^62 floats", "a buffer of 4611686018427387904 floats", "padding"},
    [NO_MOMENT] = {"a parameter without its adamw_v", "every parameter needs its adamw_v", NULL},
    [UNKNOWN_KEY] = {"an unknown key", "unknown key \"extra\"", NULL},
    [MISSING_KEY] = {"a missing key", "no key \"rng_state\"", NULL},
    [UNKNOWN_NAME] = {"an unknown name", "tensor weights/wte: not a name", NULL},
    [RUN_KIND] = {"an unknown run kind", "\"run_kind\"", NULL},
    [STEP_NUMBER] = {"a step as a JSON number", "strings of decimal digits", NULL},
    [NO_BUFFER_OFFSET] = {"a parameter without its buffer offset", "params/h.1.qkvw: a \"buffer_offset\"", NULL},
    [MOMENT_SHAPE] = {"a moment of another shape", "adamw_m/h.0.qkvw: shape [24, 8]", "its parameter params/h.0.qkvw has [8, 24]"},
    [OUTSIDE_BUFFER] = {"a parameter outside the buffer", "params/lnfb: floats", "outside the buffer"},
    [SHARED_BUFFER] = {"two parameters sharing floats of the buffer", "share floats of the buffer", NULL},
    [RANK_3] = {"a shape of rank 3", "params/wte: \"shape\" is not an array of 1 or 2 sizes", NULL},
    [AUX_LENGTH] = {"value_head tensors of two lengths", "value_head", "one length"},
};

/* The change; `data_bytes` is the data's length, `P` the buffer's floats. */
static void make_wrong(cJSON *dir, wrong w, size_t data_bytes, uint64_t P) {
    cJSON *wte = tensor_at(dir, 0), *qkvw0 = tensor_at(dir, 1), *qkvw1 = tensor_at(dir, 2);
    switch (w) {
    case OFFSET_PAST_END: set_number(qkvw0, "offset", (double)data_bytes); break;
    case OVERLAP: set_number(qkvw1, "offset", cJSON_GetNumberValue(cJSON_GetObjectItem(qkvw0, "offset")) + 64); break;
    case DUPLICATE_NAME: set_string(qkvw1, "name", "params/h.0.qkvw"); break;
    case UNKNOWN_DTYPE: set_string(wte, "dtype", "f64"); break;
    case BYTES_NOT_SHAPE: set_number(wte, "bytes", 356); break;
    case DATA_2_62: set_number(dir, "data_bytes", 4611686018427387904.0); break;
    case TENSOR_2_62: {
        cJSON *head = tensor_at(dir, 3 * HAND_ROWS);
        cJSON_ReplaceItemInObjectCaseSensitive(head, "shape", cJSON_CreateDoubleArray((const double[]){1152921504606846976.0}, 1));
        set_number(head, "bytes", 4611686018427387904.0);
        set_number(head, "offset", 0);
        break;
    }
    case BUFFER_2_62: set_number(dir, "buffer_floats", 4611686018427387904.0); break;
    case NO_MOMENT: cJSON_DeleteItemFromArray(cJSON_GetObjectItem(dir, "tensors"), 3 * HAND_ROWS - 1); break;
    case UNKNOWN_KEY: cJSON_AddNumberToObject(dir, "extra", 1); break;
    case MISSING_KEY: cJSON_DeleteItemFromObjectCaseSensitive(dir, "rng_state"); break;
    case UNKNOWN_NAME: set_string(wte, "name", "weights/wte"); break;
    case RUN_KIND: set_string(dir, "run_kind", "eval"); break;
    case STEP_NUMBER: set_number(dir, "step", 3); break;
    case NO_BUFFER_OFFSET: cJSON_DeleteItemFromObjectCaseSensitive(qkvw1, "buffer_offset"); break;
    case MOMENT_SHAPE:
        cJSON_ReplaceItemInObjectCaseSensitive(tensor_at(dir, HAND_ROWS + 1), "shape",
                                               cJSON_CreateIntArray((const int[]){24, 8}, 2));
        break;
    case OUTSIDE_BUFFER: set_number(tensor_at(dir, HAND_ROWS - 1), "buffer_offset", (double)P); break;
    case SHARED_BUFFER:
        set_number(qkvw1, "buffer_offset", cJSON_GetNumberValue(cJSON_GetObjectItem(qkvw0, "buffer_offset")) + 8);
        break;
    case RANK_3:
        cJSON_ReplaceItemInObjectCaseSensitive(wte, "shape", cJSON_CreateIntArray((const int[]){11, 8, 1}, 3));
        break;
    case AUX_LENGTH:
        cJSON_ReplaceItemInObjectCaseSensitive(tensor_at(dir, 3 * HAND_ROWS + 2), "shape",
                                               cJSON_CreateIntArray((const int[]){8}, 1));
        set_number(tensor_at(dir, 3 * HAND_ROWS + 2), "bytes", 32);
        break;
    case WRONG_COUNT: break;
    }
}

T2G_HOST_CHECK(checkpoint_v4_errors) {
    check_case_begin(ctx);
    char dir[512], good[600], bad[600];
    if (!ct_make_dir(ctx, dir, sizeof dir)) return ctx->failures;
    snprintf(good, sizeof good, "%s/good.ckpt", dir);
    snprintf(bad, sizeof bad, "%s/bad.ckpt", dir);
    t2g_gpt_param table[HAND_ROWS];
    uint64_t P = hand_table(table);
    t2g_checkpoint ck = ct_random_checkpoint(ctx, P, "{\"name\": \"v4 errors\"}");
    ck.table = table;
    ck.table_count = HAND_ROWS;
    zero_padding(&ck, table, HAND_ROWS);
    ct_add_aux(ctx, &ck, 9);
    round_trip(ctx, good, &ck, "a hand-made table");
    size_t len;
    unsigned char *file = ct_read_file(ctx, good, &len);
    if (!file) {
        ct_remove_dir(dir);
        return ctx->failures;
    }
    size_t directory_bytes = ct_le32(file + 12), start = (16 + directory_bytes + 63) / 64 * 64;
    const unsigned char *data = file + start;
    size_t data_bytes = len - start - 4;
    unsigned char *copy = check_host(ctx, len + 8);

    /* truncated: in the preamble, the directory, the padding, a tensor, the CRC */
    const size_t lengths[] = {0, 5, 15, 16, 16 + directory_bytes / 2, 16 + directory_bytes, start + 10,
                              start + data_bytes / 2, len - 4, len - 1};
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        char label[64], has[64];
        snprintf(label, sizeof label, "truncated to %zu of %zu bytes", lengths[i], len);
        snprintf(has, sizeof has, "has %zu", lengths[i]);
        ct_expect_load_error(ctx, bad, file, lengths[i], T2G_ERR_FORMAT, label, "truncated", lengths[i] >= 16 ? has : NULL);
    }
    /* a directory longer than the file; one cut short, sealed; bytes after the data */
    memcpy(copy, file, len);
    ct_put_le32(copy + 12, (uint32_t)len);
    ct_reseal(copy, len);
    ct_expect_load_error(ctx, bad, copy, len, T2G_ERR_FORMAT, "a directory longer than the file", "truncated",
                         "its directory alone has");
    memcpy(copy, file, len);
    ct_put_le32(copy + 12, (uint32_t)directory_bytes / 2);
    ct_reseal(copy, len);
    ct_expect_load_error(ctx, bad, copy, len, T2G_ERR_FORMAT, "a directory cut in half", "not JSON", NULL);
    memcpy(copy, file, len);
    memset(copy + len, 0, 8);
    ct_reseal(copy, len + 8);
    ct_expect_load_error(ctx, bad, copy, len + 8, T2G_ERR_FORMAT, "8 bytes more, sealed", "8 more than its directory", NULL);

    /* one flipped bit anywhere: the preamble, the directory, the data, the CRC */
    int caught = 0;
    for (int trial = 0; trial < 300; trial++) {
        size_t at = trial < 40 ? (size_t)trial : check_random_below(ctx, (uint32_t)len);
        memcpy(copy, file, len);
        copy[at] ^= (unsigned char)(1u << check_random_below(ctx, 8));
        const char *want = at < 8 ? "not a t2g checkpoint" : at < 12 ? "unsupported format version" : "CRC-32";
        t2g_error err = {0};
        t2g_checkpoint out;
        t2g_status got = ct_write_file(bad, copy, len) ? t2g_checkpoint_load(bad, &out, &err) : T2G_ERR_IO;
        if (got == T2G_ERR_FORMAT && strstr(err.message, want) && strstr(err.message, bad)) caught++;
        else check_fail(ctx, "byte %zu flipped: expected \"%s\", got %s", at, want, got ? err.message : "a checkpoint");
        if (got == T2G_OK) t2g_checkpoint_free(&out);
    }
    check_true(ctx, caught == 300, "each of 300 one-bit flips is caught and named (%d)", caught);
    memcpy(copy, file, len);
    copy[start + 5] ^= 1;
    ct_expect_load_error(ctx, bad, copy, len, T2G_ERR_FORMAT, "a flipped bit in params/wte", "CRC-32 mismatch", NULL);

    /* directories that are wrong, properly sealed: refused, naming the tensor or key */
    cJSON *parsed = cJSON_ParseWithLength((const char *)file + 16, directory_bytes);
    char scalar[40]; /* cJSON prints a double to within a relative epsilon only: its exact digits instead */
    snprintf(scalar, sizeof scalar, "%.17g", ck.aux_scalar);
    cJSON_ReplaceItemInObjectCaseSensitive(parsed, "aux_scalar", cJSON_CreateRaw(scalar));
    for (int w = 0; w < WRONG_COUNT && parsed; w++) {
        cJSON *changed = cJSON_Duplicate(parsed, 1);
        make_wrong(changed, (wrong)w, data_bytes, P);
        size_t n;
        unsigned char *bytes = v4_file(ctx, changed, data, data_bytes, &n);
        ct_expect_load_error(ctx, bad, bytes, n, T2G_ERR_FORMAT, wrongs[w].label, wrongs[w].expect, wrongs[w].also);
        cJSON_Delete(changed);
    }
    /* and the same directory, unchanged and rewritten, loads */
    size_t n;
    unsigned char *same = v4_file(ctx, parsed, data, data_bytes, &n);
    t2g_checkpoint back;
    if (ct_write_file(bad, same, n) && check_status(ctx, t2g_checkpoint_load(bad, &back, &ctx->err), "loading")) {
        check_true(ctx, ct_same_checkpoint(&ck, &back), "the directory rewritten compactly loads bit-exact");
        t2g_checkpoint_free(&back);
    }
    cJSON_Delete(parsed);
    ct_remove_dir(dir);
    return ctx->failures;
}

/* ---- a directory against a model's table ---- */

static void expect_mismatch(check_ctx *ctx, const t2g_checkpoint *ck, const t2g_gpt_param *table, uint32_t count,
                            uint64_t floats, const char *label, const char *a, const char *b) {
    t2g_error err = {0};
    t2g_status status = t2g_checkpoint_match_table(ck, table, count, floats, &err);
    check_true(ctx, status == T2G_ERR_FORMAT && strstr(err.message, a) && (!b || strstr(err.message, b)), "%s -> %s",
               label, status ? err.message : "matched");
}

T2G_HOST_CHECK(checkpoint_v4_match) {
    check_case_begin(ctx);
    char dir[512], path[600];
    if (!ct_make_dir(ctx, dir, sizeof dir)) return ctx->failures;
    snprintf(path, sizeof path, "%s/model.ckpt", dir);
    t2g_gpt_param table[HAND_ROWS], other[HAND_ROWS];
    uint64_t P = hand_table(table);
    t2g_checkpoint ck = ct_random_checkpoint(ctx, P, "{}"), back;
    ck.table = table;
    ck.table_count = HAND_ROWS;
    zero_padding(&ck, table, HAND_ROWS);
    if (check_status(ctx, t2g_checkpoint_save(path, &ck, &ctx->err), "saving") &&
        check_status(ctx, t2g_checkpoint_load(path, &back, &ctx->err), "loading")) {
        t2g_error err = {0};
        t2g_status status = t2g_checkpoint_match_table(&back, table, HAND_ROWS, P, &err);
        check_true(ctx, status == T2G_OK, "the checkpoint matches its table (%s)", status ? err.message : "ok");
        expect_mismatch(ctx, &back, table, HAND_ROWS - 1, P, "a model without lnfb",
                        "the checkpoint has a tensor lnfb [8] that the model has not", NULL);
        memcpy(other, table, sizeof table);
        other[3].name = "ln2w";
        expect_mismatch(ctx, &back, other, HAND_ROWS, P, "a model with h.0.ln2w for h.0.ln1w",
                        "the checkpoint has no tensor h.0.ln2w (the model's is [8])", NULL);
        memcpy(other, table, sizeof table);
        other[2].cols = 32;
        expect_mismatch(ctx, &back, other, HAND_ROWS, P, "a model with a wider h.1.qkvw",
                        "tensor h.1.qkvw is [8, 24] in the checkpoint, [8, 32] in the model", NULL);
        memcpy(other, table, sizeof table);
        other[6].offset += 64;
        expect_mismatch(ctx, &back, other, HAND_ROWS, P + 64, "a model with lnfb further on", "tensor lnfb [8] lies at float",
                        NULL);
        expect_mismatch(ctx, &back, table, HAND_ROWS, P + 64, "a model with a longer buffer",
                        "holds 768 floats", "the model 832");
        t2g_checkpoint_free(&back);
    }
    /* without a directory (saved without a table, as versions 1 to 3): the parameter count only */
    ck.table = NULL;
    ck.table_count = 0;
    if (check_status(ctx, t2g_checkpoint_save(path, &ck, &ctx->err), "saving without a table") &&
        check_status(ctx, t2g_checkpoint_load(path, &back, &ctx->err), "loading")) {
        t2g_error err = {0};
        t2g_status status = t2g_checkpoint_match_table(&back, table, HAND_ROWS, P, &err);
        check_true(ctx, status == T2G_OK && back.table == NULL && back.table_count == 0,
                   "a checkpoint without a directory matches a model of its parameter count (%s)",
                   status ? err.message : "ok");
        expect_mismatch(ctx, &back, table, HAND_ROWS, P - 1, "one of another count", "holds", NULL);
        t2g_checkpoint_free(&back);
    }
    /* a table that is not one: refused at the save */
    memcpy(other, table, sizeof table);
    other[4].name = "ln1w";
    other[4].layer = 0;
    ck.table = other;
    ck.table_count = HAND_ROWS;
    t2g_error err = {0};
    t2g_status status = t2g_checkpoint_save(path, &ck, &err);
    check_true(ctx, status == T2G_ERR_ARGUMENT && strstr(err.message, "h.0.ln1w appears twice"),
               "a table with a tensor twice is refused at the save (%s)", status ? err.message : "saved");
    other[4] = table[4];
    other[4].offset = P;
    status = t2g_checkpoint_save(path, &ck, &err);
    check_true(ctx, status == T2G_ERR_ARGUMENT && strstr(err.message, "table row 4"),
               "a table row outside the buffer is refused at the save (%s)", status ? err.message : "saved");
    ct_remove_dir(dir);
    return ctx->failures;
}
