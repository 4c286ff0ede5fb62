/* The GGUF reader on files written by the `gguf` Python package (tests/golden/gguf/, made by
 * tests/oracle/make_gguf_golden.py): every tensor type's blocks dequantized by t2g equal the
 * package's dequantized floats bit for bit, and a file of every metadata value type written by
 * gguf.GGUFWriter reads back. No Python here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "t2g/gguf.h"

static t2g_gguf *open_golden(check_ctx *ctx, const char *name) {
    char path[4300];
    snprintf(path, sizeof path, "%s/tests/golden/gguf/%s", check_source_dir(), name);
    t2g_gguf *g = NULL;
    return check_status(ctx, t2g_gguf_open(path, &g, &ctx->err), path) ? g : NULL;
}

static void check_type(check_ctx *ctx, const char *type_name, uint32_t type) {
    char name[64];
    snprintf(name, sizeof name, "%s.gguf", type_name);
    t2g_gguf *g = open_golden(ctx, name);
    if (!g) return;
    uint64_t blocks_at = 0, floats_at = 0;
    const t2g_gguf_tensor *blocks = t2g_gguf_tensor_find(g, "blocks", &blocks_at);
    const t2g_gguf_tensor *floats = t2g_gguf_tensor_find(g, "dequantized", &floats_at);
    uint32_t alignment = type == T2G_GGUF_TYPE_Q4_0 || type == T2G_GGUF_TYPE_Q6_K ? 64 : 32;
    if (check_true(ctx, blocks && floats && blocks->type == type && floats->type == T2G_GGUF_TYPE_F32 &&
                            blocks->elements == floats->elements && blocks->n_dims == 2 && blocks->dims[1] == 8 &&
                            t2g_gguf_alignment(g) == alignment && t2g_gguf_version(g) == 3,
                   "%s: the tensors blocks (%s) and dequantized (F32), alignment %u", name, type_name, alignment)) {
        size_t n = (size_t)blocks->elements;
        float *got = check_host(ctx, n * sizeof *got), *want = check_host(ctx, n * sizeof *want);
        if (check_status(ctx, t2g_gguf_tensor_read_f32(g, blocks_at, got, n, &ctx->err), "read blocks") &&
            check_status(ctx, t2g_gguf_tensor_read_f32(g, floats_at, want, n, &ctx->err), "read dequantized")) {
            size_t differ = 0;
            for (size_t i = 0; i < n; i++) differ += memcmp(&got[i], &want[i], sizeof got[i]) != 0;
            check_true(ctx, differ == 0, "%s: %zu of %zu floats differ from the gguf package's", type_name, differ, n);
        }
    }
    t2g_gguf_close(g);
}

static void check_metadata(check_ctx *ctx) {
    t2g_gguf *g = open_golden(ctx, "metadata.gguf");
    if (!g) return;
    t2g_error *err = &ctx->err;
    uint64_t u = 0;
    int64_t i = 0;
    double f = 0;
    bool b = false;
    char *text = NULL;
    check_true(ctx, t2g_gguf_key_count(g) == 25 && strcmp(t2g_gguf_key(g, 0), "general.architecture") == 0,
               "25 keys, general.architecture first");
    check_true(ctx, !t2g_gguf_get_string_copy(g, "general.architecture", NULL, &text, err) && strcmp(text, "t2g-golden") == 0,
               "general.architecture");
    free(text);
    text = NULL;
    check_true(ctx, !t2g_gguf_get_string_copy(g, "t.string", NULL, &text, err) &&
                        strcmp(text, "h\xc3\xa9llo, \xe4\xb8\x96\xe7\x95\x8c") == 0, "t.string (UTF-8)");
    free(text);
    static const struct { const char *key; t2g_gguf_value_type type; int64_t value; } ints[] = {
        {"t.u8", T2G_GGUF_U8, 200},          {"t.i8", T2G_GGUF_I8, -100},
        {"t.u16", T2G_GGUF_U16, 60000},      {"t.i16", T2G_GGUF_I16, -30000},
        {"t.u32", T2G_GGUF_U32, 4000000000}, {"t.i32", T2G_GGUF_I32, -2000000000},
        {"t.i64", T2G_GGUF_I64, -(1ll << 62)},
    };
    for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++)
        check_true(ctx, t2g_gguf_value_type_at(g, (uint64_t)t2g_gguf_find_key(g, ints[k].key)) == ints[k].type &&
                            !t2g_gguf_get_i64(g, ints[k].key, NULL, &i, err) && i == ints[k].value,
                   "%s = %lld", ints[k].key, (long long)ints[k].value);
    check_true(ctx, !t2g_gguf_get_u64(g, "t.u64", NULL, &u, err) && u == (1ull << 63) + 5, "t.u64");
    check_true(ctx, !t2g_gguf_get_f64(g, "t.f32", NULL, &f, err) && f == 1.5, "t.f32");
    check_true(ctx, !t2g_gguf_get_f64(g, "t.f64", NULL, &f, err) && f == 0.1, "t.f64");
    check_true(ctx, !t2g_gguf_get_bool(g, "t.bool", NULL, &b, err) && b, "t.bool");
    static const char *const arrays[] = {"a.u8", "a.i8", "a.u16", "a.i16", "a.u32", "a.i32", "a.u64", "a.i64"};
    for (int a = 0; a < 8; a++) {
        t2g_gguf_array array;
        int64_t e1 = 0, e2 = 0;
        check_true(ctx, !t2g_gguf_get_array(g, arrays[a], NULL, &array, err) && array.count == 3 &&
                            !t2g_gguf_array_i64(&array, 1, &e1, err) && !t2g_gguf_array_i64(&array, 2, &e2, err) &&
                            e1 == (a % 2 ? -2 : 2) && e2 == 3, "%s", arrays[a]);
    }
    t2g_gguf_array array;
    check_true(ctx, !t2g_gguf_get_array(g, "a.f32", NULL, &array, err) && !t2g_gguf_array_f64(&array, 1, &f, err) &&
                        f == (double)1e30f, "a.f32");
    check_true(ctx, !t2g_gguf_get_array(g, "a.f64", NULL, &array, err) && !t2g_gguf_array_f64(&array, 0, &f, err) &&
                        f == 1e-300, "a.f64");
    check_true(ctx, !t2g_gguf_get_array(g, "a.bool", NULL, &array, err) && array.type == T2G_GGUF_BOOL && array.count == 2,
               "a.bool");
    const char *s = NULL;
    size_t len = 0;
    check_true(ctx, !t2g_gguf_get_array(g, "a.string", NULL, &array, err) && array.count == 3 &&
                        !t2g_gguf_array_string(&array, 2, &s, &len, err) && len == 10 && memcmp(s, "<|im_end|>", 10) == 0,
               "a.string");
    const t2g_gguf_tensor *tiny = t2g_gguf_tensor_find(g, "tiny", NULL);
    float values[6];
    check_true(ctx, tiny && tiny->dims[0] == 3 && tiny->dims[1] == 2 &&
                        !t2g_gguf_tensor_read_f32(g, 0, values, 6, err) && values[5] == 5.0f, "tiny (3 x 2, ggml order)");
    t2g_gguf_close(g);
}

T2G_HOST_CHECK(gguf_golden) {
    check_case_begin(ctx);
    static const char *const names[] = {"F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"};
    static const uint32_t types[] = {T2G_GGUF_TYPE_F16,  T2G_GGUF_TYPE_BF16, T2G_GGUF_TYPE_Q8_0, T2G_GGUF_TYPE_Q4_0,
                                     T2G_GGUF_TYPE_Q4_1, T2G_GGUF_TYPE_Q5_0, T2G_GGUF_TYPE_Q5_1, T2G_GGUF_TYPE_Q4_K,
                                     T2G_GGUF_TYPE_Q5_K, T2G_GGUF_TYPE_Q6_K};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) check_type(ctx, names[t], types[t]);
    check_metadata(ctx);
    return ctx->failures;
}
