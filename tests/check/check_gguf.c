/* The GGUF reader on files the tests build (gguf_builder.h): every metadata type read back
 * through every getter (and refused by the wrong ones, naming the key), tensors of every type
 * at alignments 32, 64 and 8 read back in place and dequantized, and hostile files: truncated
 * at every byte, counts and lengths that overflow, offsets past the end, misaligned or
 * overlapping tensors, duplicate names, unknown value and tensor types, bad alignments, split
 * and big-endian files; each an error naming the file and the thing, never a crash. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "gguf_builder.h"
#include "t2g/gguf.h"

/* ---- the metadata every round trip writes ---- */

enum { KEY_COUNT = 28 };

static void write_keys(gguf_builder *k) {
    gb_key(k, "t.u8", T2G_GGUF_U8), gb_u8(k, 200);
    gb_key(k, "t.i8", T2G_GGUF_I8), gb_u8(k, (uint8_t)-100);
    gb_key(k, "t.u16", T2G_GGUF_U16), gb_u16(k, 60000);
    gb_key(k, "t.i16", T2G_GGUF_I16), gb_u16(k, (uint16_t)-30000);
    gb_key(k, "t.u32", T2G_GGUF_U32), gb_u32(k, 4000000000u);
    gb_key(k, "t.i32", T2G_GGUF_I32), gb_u32(k, (uint32_t)-2000000000);
    gb_key(k, "t.f32", T2G_GGUF_F32), gb_f32(k, 1.5f);
    gb_key(k, "t.bool", T2G_GGUF_BOOL), gb_u8(k, 1);
    gb_key(k, "t.string", T2G_GGUF_STRING), gb_string(k, "h\xc3\xa9llo");
    gb_key(k, "t.u64", T2G_GGUF_U64), gb_u64(k, (1ull << 63) + 5);
    gb_key(k, "t.i64", T2G_GGUF_I64), gb_u64(k, (uint64_t)-(1ll << 62));
    gb_key(k, "t.f64", T2G_GGUF_F64), gb_f64(k, 0.1);
    gb_key(k, "t.empty_string", T2G_GGUF_STRING), gb_string(k, "");
    gb_key(k, "t.nul_string", T2G_GGUF_STRING), gb_u64(k, 3), gb_bytes(k, "a\0b", 3);
    /* arrays: three elements of each scalar type, 1, -2 (or 254 unsigned), 3 */
    static const struct { const char *name; uint32_t type; int bytes; } arrays[] = {
        {"a.u8", T2G_GGUF_U8, 1},   {"a.i8", T2G_GGUF_I8, 1},   {"a.u16", T2G_GGUF_U16, 2}, {"a.i16", T2G_GGUF_I16, 2},
        {"a.u32", T2G_GGUF_U32, 4}, {"a.i32", T2G_GGUF_I32, 4}, {"a.u64", T2G_GGUF_U64, 8}, {"a.i64", T2G_GGUF_I64, 8},
    };
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) {
        gb_key(k, arrays[i].name, T2G_GGUF_ARRAY), gb_u32(k, arrays[i].type), gb_u64(k, 3);
        const uint64_t values[3] = {1, (uint64_t)-2, 3};
        for (int e = 0; e < 3; e++)
            for (int b = 0; b < arrays[i].bytes; b++) gb_u8(k, (uint8_t)(values[e] >> (8 * b)));
    }
    gb_key(k, "a.f32", T2G_GGUF_ARRAY), gb_u32(k, T2G_GGUF_F32), gb_u64(k, 2), gb_f32(k, -0.25f), gb_f32(k, 1e30f);
    gb_key(k, "a.f64", T2G_GGUF_ARRAY), gb_u32(k, T2G_GGUF_F64), gb_u64(k, 2), gb_f64(k, 1e-300), gb_f64(k, -2.5);
    gb_key(k, "a.bool", T2G_GGUF_ARRAY), gb_u32(k, T2G_GGUF_BOOL), gb_u64(k, 2), gb_u8(k, 0), gb_u8(k, 1);
    gb_key(k, "a.string", T2G_GGUF_ARRAY), gb_u32(k, T2G_GGUF_STRING), gb_u64(k, 3);
    gb_string(k, "first"), gb_string(k, ""), gb_string(k, "<|im_end|>");
    gb_key(k, "a.empty", T2G_GGUF_ARRAY), gb_u32(k, T2G_GGUF_U32), gb_u64(k, 0);
    gb_key(k, "a.nested_empty", T2G_GGUF_ARRAY), gb_u32(k, T2G_GGUF_ARRAY), gb_u64(k, 0);
}

/* A failed call whose message names the file and `thing`. */
static bool refused(check_ctx *ctx, t2g_status status, t2g_status expected, const char *path, const char *thing,
                    const char *label) {
    return check_true(ctx, status == expected && strstr(ctx->err.message, path) && strstr(ctx->err.message, thing),
                      "%s: status %s (wanted %s), message \"%s\" (wanted the file and \"%s\")", label,
                      t2g_status_name(status), t2g_status_name(expected), ctx->err.message, thing);
}

static void check_scalars(check_ctx *ctx, const t2g_gguf *g, const char *path) {
    t2g_error *err = &ctx->err;
    uint64_t u = 0;
    uint32_t u32 = 0;
    int64_t i = 0;
    double f = 0;
    bool b = false, found = true;
    const char *text = NULL;
    size_t len = 0;
    check_true(ctx, !t2g_gguf_get_u64(g, "t.u8", NULL, &u, err) && u == 200, "t.u8 as u64: %llu", (unsigned long long)u);
    check_true(ctx, !t2g_gguf_get_u32(g, "t.u16", NULL, &u32, err) && u32 == 60000, "t.u16 as u32");
    check_true(ctx, !t2g_gguf_get_u32(g, "t.u32", NULL, &u32, err) && u32 == 4000000000u, "t.u32 as u32");
    check_true(ctx, !t2g_gguf_get_u64(g, "t.u64", NULL, &u, err) && u == (1ull << 63) + 5, "t.u64 as u64");
    check_true(ctx, !t2g_gguf_get_i64(g, "t.i8", NULL, &i, err) && i == -100, "t.i8 as i64: %lld", (long long)i);
    check_true(ctx, !t2g_gguf_get_i64(g, "t.i16", NULL, &i, err) && i == -30000, "t.i16 as i64");
    check_true(ctx, !t2g_gguf_get_i64(g, "t.i32", NULL, &i, err) && i == -2000000000, "t.i32 as i64");
    check_true(ctx, !t2g_gguf_get_i64(g, "t.i64", NULL, &i, err) && i == -(1ll << 62), "t.i64 as i64");
    check_true(ctx, !t2g_gguf_get_i64(g, "t.u32", NULL, &i, err) && i == 4000000000ll, "t.u32 as i64");
    check_true(ctx, !t2g_gguf_get_f64(g, "t.f32", NULL, &f, err) && f == 1.5, "t.f32");
    check_true(ctx, !t2g_gguf_get_f64(g, "t.f64", NULL, &f, err) && f == 0.1, "t.f64");
    check_true(ctx, !t2g_gguf_get_bool(g, "t.bool", NULL, &b, err) && b, "t.bool");
    check_true(ctx, !t2g_gguf_get_string(g, "t.string", NULL, &text, &len, err) && len == 6 &&
                        memcmp(text, "h\xc3\xa9llo", 6) == 0, "t.string");
    char *copy = NULL;
    check_true(ctx, !t2g_gguf_get_string_copy(g, "t.string", NULL, &copy, err) && copy && strcmp(copy, "h\xc3\xa9llo") == 0,
               "t.string copied");
    free(copy);
    copy = NULL;
    check_true(ctx, !t2g_gguf_get_string_copy(g, "t.empty_string", NULL, &copy, err) && copy && !*copy, "t.empty_string");
    free(copy);
    /* missing: an error without `found`, found = false (and *out untouched) with it */
    u = 7;
    check_true(ctx, !t2g_gguf_get_u64(g, "no.such", &found, &u, err) && !found && u == 7, "missing with found");
    check_true(ctx, !t2g_gguf_get_u64(g, "t.u8", &found, &u, err) && found && u == 200, "present with found");
    refused(ctx, t2g_gguf_get_u64(g, "no.such", NULL, &u, err), T2G_ERR_FORMAT, path, "no key no.such", "missing");
    /* wrong types and ranges */
    refused(ctx, t2g_gguf_get_u32(g, "t.u64", NULL, &u32, err), T2G_ERR_FORMAT, path, "t.u64", "u64 above u32");
    refused(ctx, t2g_gguf_get_u64(g, "t.i8", NULL, &u, err), T2G_ERR_FORMAT, path, "t.i8 is -100", "negative as u64");
    refused(ctx, t2g_gguf_get_i64(g, "t.u64", NULL, &i, err), T2G_ERR_FORMAT, path, "t.u64", "u64 above i64");
    refused(ctx, t2g_gguf_get_f64(g, "t.u8", NULL, &f, err), T2G_ERR_FORMAT, path, "t.u8 is a u8, wanted an f32 or f64",
            "u8 as float");
    refused(ctx, t2g_gguf_get_u64(g, "t.f32", NULL, &u, err), T2G_ERR_FORMAT, path, "t.f32 is a f32", "float as u64");
    refused(ctx, t2g_gguf_get_bool(g, "t.u8", NULL, &b, err), T2G_ERR_FORMAT, path, "wanted a bool", "u8 as bool");
    refused(ctx, t2g_gguf_get_string(g, "a.string", NULL, &text, &len, err), T2G_ERR_FORMAT, path,
            "a.string is an array of string, wanted a string", "array as string");
    refused(ctx, t2g_gguf_get_string_copy(g, "t.nul_string", NULL, &copy, err), T2G_ERR_FORMAT, path, "NUL byte",
            "NUL in a copied string");
    check_true(ctx, !t2g_gguf_get_string(g, "t.nul_string", NULL, &text, &len, err) && len == 3, "NUL string in place");
}

static void check_arrays(check_ctx *ctx, const t2g_gguf *g, const char *path) {
    t2g_error *err = &ctx->err;
    static const char *const ints[] = {"a.u8", "a.i8", "a.u16", "a.i16", "a.u32", "a.i32", "a.u64", "a.i64"};
    for (int a = 0; a < 8; a++) {
        t2g_gguf_array array;
        check_true(ctx, !t2g_gguf_get_array(g, ints[a], NULL, &array, err) && array.count == 3, "%s", ints[a]);
        const int64_t unsigned_second[] = {254, 65534, 4294967294ll};
        for (uint64_t e = 0; e < 3; e++) {
            int64_t v = 0;
            t2g_status status = t2g_gguf_array_i64(&array, e, &v, err);
            if (a == 6 && e == 1) { /* 2^64 - 2 does not fit an i64 */
                refused(ctx, status, T2G_ERR_FORMAT, path, "a.u64", "u64 element above i64");
                continue;
            }
            int64_t want = e == 0 ? 1 : e == 2 ? 3 : (a % 2 || a == 6) ? -2 : unsigned_second[a / 2];
            check_true(ctx, !status && v == want, "%s[%llu] = %lld, want %lld", ints[a], (unsigned long long)e,
                       (long long)v, (long long)want);
        }
        int64_t v;
        refused(ctx, t2g_gguf_array_i64(&array, 3, &v, err), T2G_ERR_ARGUMENT, path, ints[a], "element past the end");
        double f;
        refused(ctx, t2g_gguf_array_f64(&array, 0, &f, err), T2G_ERR_FORMAT, path, "wanted an array of f32 or f64",
                "integers as floats");
    }
    t2g_gguf_array array;
    double f = 0;
    check_true(ctx, !t2g_gguf_get_array(g, "a.f32", NULL, &array, err) && array.type == T2G_GGUF_F32 && array.count == 2 &&
                        !t2g_gguf_array_f64(&array, 1, &f, err) && f == (double)1e30f, "a.f32");
    check_true(ctx, !t2g_gguf_get_array(g, "a.f64", NULL, &array, err) && !t2g_gguf_array_f64(&array, 0, &f, err) &&
                        f == 1e-300, "a.f64");
    check_true(ctx, !t2g_gguf_get_array(g, "a.bool", NULL, &array, err) && array.type == T2G_GGUF_BOOL && array.count == 2,
               "a.bool");
    check_true(ctx, !t2g_gguf_get_array(g, "a.string", NULL, &array, err) && array.type == T2G_GGUF_STRING, "a.string");
    static const char *const strings[] = {"first", "", "<|im_end|>"};
    for (uint64_t e = 0; e < 3; e++) {
        const char *text = NULL;
        size_t len = 99;
        check_true(ctx, !t2g_gguf_array_string(&array, e, &text, &len, err) && len == strlen(strings[e]) &&
                            memcmp(text, strings[e], len) == 0, "a.string[%llu]", (unsigned long long)e);
    }
    int64_t v;
    refused(ctx, t2g_gguf_array_i64(&array, 0, &v, err), T2G_ERR_FORMAT, path, "a.string is an array of string",
            "strings as integers");
    check_true(ctx, !t2g_gguf_get_array(g, "a.empty", NULL, &array, err) && array.count == 0, "a.empty");
    check_true(ctx, !t2g_gguf_get_array(g, "a.nested_empty", NULL, &array, err) && array.count == 0 &&
                        array.type == T2G_GGUF_ARRAY, "a.nested_empty");
    refused(ctx, t2g_gguf_get_array(g, "t.u8", NULL, &array, err), T2G_ERR_FORMAT, path, "t.u8 is a u8, wanted an array",
            "scalar as array");
}

/* ---- tensors of every readable type ---- */

static const struct {
    uint32_t type;
    uint32_t n_dims;
    uint64_t dims[4];
} tensor_shapes[] = {
    {T2G_GGUF_TYPE_F32, 2, {5, 3}},          {T2G_GGUF_TYPE_F16, 1, {7}},        {T2G_GGUF_TYPE_BF16, 4, {3, 2, 2, 1}},
    {T2G_GGUF_TYPE_Q8_0, 2, {64, 3}},        {T2G_GGUF_TYPE_Q4_0, 2, {32, 5}},   {T2G_GGUF_TYPE_Q4_1, 3, {96, 1, 2}},
    {T2G_GGUF_TYPE_Q5_0, 1, {32}},           {T2G_GGUF_TYPE_Q5_1, 2, {64, 2}},   {T2G_GGUF_TYPE_Q4_K, 2, {256, 2}},
    {T2G_GGUF_TYPE_Q5_K, 1, {512}},          {T2G_GGUF_TYPE_Q6_K, 2, {256, 3}},  {T2G_GGUF_TYPE_F32, 0, {0}},
    {10 /* Q2_K: known, not read */, 1, {256}},
};
enum { TENSOR_COUNT = sizeof tensor_shapes / sizeof tensor_shapes[0] };

static void check_tensors(check_ctx *ctx, const t2g_gguf *g, const char *path, const gb_tensor *tensors,
                          uint32_t alignment) {
    t2g_error *err = &ctx->err;
    check_true(ctx, t2g_gguf_tensor_count(g) == TENSOR_COUNT && t2g_gguf_alignment(g) == alignment &&
                        t2g_gguf_data_offset(g) % alignment == 0, "tensor count, alignment %u", alignment);
    for (uint32_t i = 0; i < TENSOR_COUNT && i < t2g_gguf_tensor_count(g); i++) {
        const t2g_gguf_tensor *t = t2g_gguf_tensor_at(g, i);
        uint64_t index = 99;
        bool same = t2g_gguf_tensor_find(g, tensors[i].name, &index) == t && index == i && strcmp(t->name, tensors[i].name) == 0 &&
                    t->n_dims == tensors[i].n_dims && t->type == tensors[i].type && t->bytes == tensors[i].bytes &&
                    t->offset % alignment == 0 && memcmp(t->data, tensors[i].data, t->bytes) == 0;
        uint64_t elements = 1;
        for (uint32_t d = 0; d < 4; d++) {
            uint64_t want = d < t->n_dims ? tensors[i].dims[d] : 1;
            same = same && t->dims[d] == want;
            elements *= want;
        }
        check_true(ctx, same && t->elements == elements, "tensor %s read back (alignment %u)", tensors[i].name, alignment);
        float *out = check_host(ctx, (t->elements + 1) * sizeof *out), *want = check_host(ctx, (t->elements + 1) * sizeof *want);
        t2g_status status = t2g_gguf_tensor_read_f32(g, i, out, t->elements, err);
        if (!t2g_gguf_type_readable(t->type)) {
            refused(ctx, status, T2G_ERR_UNSUPPORTED, path, "tensor q2k: GGUF tensor type 10 (Q2_K)", "unread type");
            continue;
        }
        check_true(ctx, !status && !t2g_gguf_dequantize(t->type, tensors[i].data, t->elements, want, err) &&
                            memcmp(out, want, t->elements * sizeof *out) == 0, "tensor %s dequantized", t->name);
        refused(ctx, t2g_gguf_tensor_read_f32(g, i, out, t->elements + 1, err), T2G_ERR_ARGUMENT, path, t->name,
                "wrong count");
    }
    check_true(ctx, !t2g_gguf_tensor_find(g, "no.such", NULL) && !t2g_gguf_tensor_at(g, TENSOR_COUNT), "no such tensor");
}

T2G_HOST_CHECK(gguf_roundtrip) {
    char dir[256], path[300];
    if (!gb_temp_dir(ctx, dir, sizeof dir)) return 1;
    snprintf(path, sizeof path, "%s/model.gguf", dir);
    static const char *const names[TENSOR_COUNT] = {"f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0",
                                                    "q5_1", "q4k", "q5k", "q6k", "scalar", "q2k"};
    static const uint32_t alignments[] = {32, 64, 8};
    for (int a = 0; a < 3; a++) {
        check_case_begin(ctx);
        gguf_builder keys = {0}, file = {0};
        write_keys(&keys);
        if (alignments[a] != 32) gb_key(&keys, "general.alignment", T2G_GGUF_U32), gb_u32(&keys, alignments[a]);
        gb_tensor tensors[TENSOR_COUNT];
        for (uint32_t i = 0; i < TENSOR_COUNT; i++) {
            uint32_t block_elements, block_bytes;
            t2g_gguf_type_block(tensor_shapes[i].type, &block_elements, &block_bytes);
            uint64_t elements = 1;
            for (uint32_t d = 0; d < tensor_shapes[i].n_dims; d++) elements *= tensor_shapes[i].dims[d];
            size_t bytes = (size_t)(elements / block_elements * block_bytes);
            unsigned char *data = check_host(ctx, bytes);
            for (size_t b = 0; b < bytes; b++) data[b] = (unsigned char)check_random_u64(ctx);
            tensors[i] = (gb_tensor){names[i], tensor_shapes[i].n_dims, {0}, tensor_shapes[i].type, data, bytes};
            memcpy(tensors[i].dims, tensor_shapes[i].dims, sizeof tensors[i].dims);
        }
        gb_file(&file, a == 1 ? 2 : 3, KEY_COUNT + (alignments[a] != 32), &keys, tensors, TENSOR_COUNT, alignments[a], NULL);
        t2g_gguf *g = NULL;
        if (gb_save(ctx, path, file.data, file.len) &&
            check_status(ctx, t2g_gguf_open(path, &g, &ctx->err), "open the round-trip file")) {
            check_true(ctx, t2g_gguf_version(g) == (a == 1 ? 2u : 3u) && strcmp(t2g_gguf_path(g), path) == 0 &&
                                t2g_gguf_key_count(g) == KEY_COUNT + (alignments[a] != 32u), "version, path, key count");
            check_true(ctx, strcmp(t2g_gguf_key(g, 0), "t.u8") == 0 && t2g_gguf_value_type_at(g, 8) == T2G_GGUF_STRING &&
                                t2g_gguf_find_key(g, "a.string") == 25 && t2g_gguf_find_key(g, "t.u") == -1 &&
                                !t2g_gguf_key(g, 99) && strcmp(t2g_gguf_value_type_name(T2G_GGUF_F64), "f64") == 0,
                       "key iteration");
            check_scalars(ctx, g, path);
            check_arrays(ctx, g, path);
            check_tensors(ctx, g, path, tensors, alignments[a]);
            t2g_gguf_close(g);
        }
        check_log(ctx, "alignment %u: %zu bytes read back", alignments[a], file.len);
        gb_free(&keys);
        gb_free(&file);
    }
    unlink(path);
    rmdir(dir);
    return ctx->failures;
}
