/* Hostile GGUF files: a small valid file cut at every byte, and a table of broken files (each
 * one field of the valid file changed), each refused with the status and the words it must
 * get, the message naming the file. A crash or a read out of bounds fails under ASan. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "gguf_builder.h"
#include "t2g/gguf.h"

/* What a case changes in the base file. */
typedef struct hostile {
    const char *label;
    t2g_status status;
    const char *words; /* in the message */
    /* the base file's parts, changed by `edit` before it is built; `patch` after */
    void (*edit)(gguf_builder *keys, uint64_t *key_count, gb_tensor *tensors, uint32_t *tensor_count, uint32_t *alignment);
    void (*patch)(gguf_builder *file, const gb_layout *layout);
} hostile;

static const float f32_data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
static unsigned char q8_data[34] = {0x00, 0x3c}; /* d = 1, q = 0 */

static void base_keys(gguf_builder *k) {
    gb_key(k, "general.architecture", T2G_GGUF_STRING), gb_string(k, "llama");
    gb_key(k, "llama.block_count", T2G_GGUF_U32), gb_u32(k, 2);
    gb_key(k, "tokenizer.ggml.tokens", T2G_GGUF_ARRAY), gb_u32(k, T2G_GGUF_STRING), gb_u64(k, 2);
    gb_string(k, "a"), gb_string(k, "bc");
    gb_key(k, "tokenizer.ggml.scores", T2G_GGUF_ARRAY), gb_u32(k, T2G_GGUF_F32), gb_u64(k, 2), gb_f32(k, 0), gb_f32(k, -1);
    gb_key(k, "tokenizer.ggml.add_bos_token", T2G_GGUF_BOOL), gb_u8(k, 1);
}
enum { BASE_KEYS = 5 };

static void base_tensors(gb_tensor *t, uint32_t *count) {
    t[0] = (gb_tensor){"token_embd.weight", 2, {4, 2}, T2G_GGUF_TYPE_F32, f32_data, sizeof f32_data};
    t[1] = (gb_tensor){"output.weight", 1, {32}, T2G_GGUF_TYPE_Q8_0, q8_data, sizeof q8_data};
    *count = 2;
}

static void put_u64(gguf_builder *f, size_t at, uint64_t v) {
    for (int i = 0; i < 8; i++) f->data[at + i] = (unsigned char)(v >> (8 * i));
}
static void put_u32(gguf_builder *f, size_t at, uint32_t v) {
    for (int i = 0; i < 4; i++) f->data[at + i] = (unsigned char)(v >> (8 * i));
}

/* ---- the cases: header ---- */
static void bad_magic(gguf_builder *f, const gb_layout *l) { (void)l, f->data[3] = 'X'; }
static void version_1(gguf_builder *f, const gb_layout *l) { (void)l, put_u32(f, 4, 1); }
static void version_4(gguf_builder *f, const gb_layout *l) { (void)l, put_u32(f, 4, 4); }
static void big_endian(gguf_builder *f, const gb_layout *l) { (void)l, put_u32(f, 4, 0x03000000u); }
static void keys_2_63(gguf_builder *f, const gb_layout *l) { (void)l, put_u64(f, 16, 1ull << 63); }
static void keys_plus_one(gguf_builder *f, const gb_layout *l) { (void)l, put_u64(f, 16, BASE_KEYS + 1); }
static void tensors_2_63(gguf_builder *f, const gb_layout *l) { (void)l, put_u64(f, 8, 1ull << 63); }
static void tensors_plus_one(gguf_builder *f, const gb_layout *l) { (void)l, put_u64(f, 8, 3); }
/* the first key's name length (the first key: general.architecture) */
static void key_name_2_64(gguf_builder *f, const gb_layout *l) { put_u64(f, l->keys_at, UINT64_MAX); }
/* its string value's length: after the name (8 + 20) and the value type (4) */
static void string_2_64(gguf_builder *f, const gb_layout *l) { put_u64(f, l->keys_at + 32, UINT64_MAX); }
static void value_type_13(gguf_builder *f, const gb_layout *l) { put_u32(f, l->keys_at + 28, 13); }
/* the first tensor info: name (8 + 17), n_dims (4), dims, type, offset */
static void n_dims_5(gguf_builder *f, const gb_layout *l) { put_u32(f, l->infos_at + 25, 5); }
static void dims_2_63(gguf_builder *f, const gb_layout *l) { put_u64(f, l->infos_at + 29, 1ull << 63); }
static void dims_overflow(gguf_builder *f, const gb_layout *l) {
    put_u64(f, l->infos_at + 29, 1ull << 40), put_u64(f, l->infos_at + 37, 1ull << 40);
}
static void tensor_name_2_64(gguf_builder *f, const gb_layout *l) { put_u64(f, l->infos_at, UINT64_MAX); }
static void tensor_type_99(gguf_builder *f, const gb_layout *l) { put_u32(f, l->type_field_at[1], 99); }
static void offset_past_end(gguf_builder *f, const gb_layout *l) { put_u64(f, l->offset_field_at[1], 1ull << 20); }
static void offset_2_64(gguf_builder *f, const gb_layout *l) { put_u64(f, l->offset_field_at[1], UINT64_MAX - 31); }
static void misaligned(gguf_builder *f, const gb_layout *l) { put_u64(f, l->offset_field_at[1], l->tensor_offset[1] - 4); }
static void overlapping(gguf_builder *f, const gb_layout *l) { put_u64(f, l->offset_field_at[1], 0); }

/* ---- the cases: keys and tensors ---- */
static void key_twice(gguf_builder *k, uint64_t *n, gb_tensor *t, uint32_t *tn, uint32_t *a) {
    (void)t, (void)tn, (void)a;
    gb_key(k, "llama.block_count", T2G_GGUF_U32), gb_u32(k, 3), ++*n;
}
static void tensor_twice(gguf_builder *k, uint64_t *n, gb_tensor *t, uint32_t *tn, uint32_t *a) {
    (void)k, (void)n, (void)tn, (void)a;
    t[1].name = "token_embd.weight";
}
static void nested_array(gguf_builder *k, uint64_t *n, gb_tensor *t, uint32_t *tn, uint32_t *a) {
    (void)t, (void)tn, (void)a;
    gb_key(k, "t.nested", T2G_GGUF_ARRAY), gb_u32(k, T2G_GGUF_ARRAY), gb_u64(k, 1), gb_u32(k, T2G_GGUF_U8), gb_u64(k, 0), ++*n;
}
static void array_2_63(gguf_builder *k, uint64_t *n, gb_tensor *t, uint32_t *tn, uint32_t *a) {
    (void)t, (void)tn, (void)a;
    gb_key(k, "t.huge", T2G_GGUF_ARRAY), gb_u32(k, T2G_GGUF_U32), gb_u64(k, 1ull << 63), ++*n;
}
static void strings_2_62(gguf_builder *k, uint64_t *n, gb_tensor *t, uint32_t *tn, uint32_t *a) {
    (void)t, (void)tn, (void)a;
    gb_key(k, "t.strings", T2G_GGUF_ARRAY), gb_u32(k, T2G_GGUF_STRING), gb_u64(k, 1ull << 62), ++*n;
}
static void array_type_77(gguf_builder *k, uint64_t *n, gb_tensor *t, uint32_t *tn, uint32_t *a) {
    (void)t, (void)tn, (void)a;
    gb_key(k, "t.odd", T2G_GGUF_ARRAY), gb_u32(k, 77), gb_u64(k, 1), gb_u8(k, 0), ++*n;
}
static void bool_2(gguf_builder *k, uint64_t *n, gb_tensor *t, uint32_t *tn, uint32_t *a) {
    (void)t, (void)tn, (void)a;
    gb_key(k, "t.bool", T2G_GGUF_BOOL), gb_u8(k, 2), ++*n;
}
static void key_with_nul(gguf_builder *k, uint64_t *n, gb_tensor *t, uint32_t *tn, uint32_t *a) {
    (void)t, (void)tn, (void)a;
    gb_u64(k, 3), gb_bytes(k, "a\0b", 3), gb_u32(k, T2G_GGUF_U8), gb_u8(k, 0), ++*n;
}
static void alignment_key(gguf_builder *k, uint64_t *n, uint32_t value) {
    gb_key(k, "general.alignment", T2G_GGUF_U32), gb_u32(k, value), ++*n;
}
static void alignment_0(gguf_builder *k, uint64_t *n, gb_tensor *t, uint32_t *tn, uint32_t *a) {
    (void)t, (void)tn, (void)a, alignment_key(k, n, 0);
}
static void alignment_3(gguf_builder *k, uint64_t *n, gb_tensor *t, uint32_t *tn, uint32_t *a) {
    (void)t, (void)tn, (void)a, alignment_key(k, n, 3);
}
static void alignment_string(gguf_builder *k, uint64_t *n, gb_tensor *t, uint32_t *tn, uint32_t *a) {
    (void)t, (void)tn, (void)a;
    gb_key(k, "general.alignment", T2G_GGUF_STRING), gb_string(k, "32"), ++*n;
}
static void split_count_3(gguf_builder *k, uint64_t *n, gb_tensor *t, uint32_t *tn, uint32_t *a) {
    (void)t, (void)tn, (void)a;
    gb_key(k, "split.count", T2G_GGUF_U16), gb_u16(k, 3), ++*n;
}
static void split_part_2(gguf_builder *k, uint64_t *n, gb_tensor *t, uint32_t *tn, uint32_t *a) {
    (void)t, (void)tn, (void)a;
    gb_key(k, "split.no", T2G_GGUF_U16), gb_u16(k, 2), ++*n;
}
static void general_split(gguf_builder *k, uint64_t *n, gb_tensor *t, uint32_t *tn, uint32_t *a) {
    (void)t, (void)tn, (void)a;
    gb_key(k, "general.split.count", T2G_GGUF_U32), gb_u32(k, 2), ++*n;
}
static void rows_33(gguf_builder *k, uint64_t *n, gb_tensor *t, uint32_t *tn, uint32_t *a) {
    (void)k, (void)n, (void)tn, (void)a;
    t[1].dims[0] = 33;
}
static void empty_name(gguf_builder *k, uint64_t *n, gb_tensor *t, uint32_t *tn, uint32_t *a) {
    (void)k, (void)n, (void)tn, (void)a;
    t[1].name = "";
}
static void long_name(gguf_builder *k, uint64_t *n, gb_tensor *t, uint32_t *tn, uint32_t *a) {
    (void)k, (void)n, (void)tn, (void)a;
    t[1].name = "blk.0.a_name_longer_than_sixty_four_bytes_which_ggml_cannot_hold.weight";
}
static void short_data(gguf_builder *k, uint64_t *n, gb_tensor *t, uint32_t *tn, uint32_t *a) {
    (void)k, (void)n, (void)tn, (void)a;
    t[1].bytes = 20; /* its info says 34 */
}

static const hostile cases[] = {
    {"bad magic", T2G_ERR_FORMAT, "not a GGUF file", NULL, bad_magic},
    {"version 1", T2G_ERR_UNSUPPORTED, "version 1", NULL, version_1},
    {"version 4", T2G_ERR_UNSUPPORTED, "version 4", NULL, version_4},
    {"big-endian", T2G_ERR_UNSUPPORTED, "big-endian", NULL, big_endian},
    {"2^63 keys", T2G_ERR_FORMAT, "claims 9223372036854775808 keys", NULL, keys_2_63},
    {"one key more", T2G_ERR_FORMAT, "", NULL, keys_plus_one},
    {"2^63 tensors", T2G_ERR_FORMAT, "claims 9223372036854775808 tensors", NULL, tensors_2_63},
    {"one tensor more", T2G_ERR_FORMAT, "tensor 2", NULL, tensors_plus_one},
    {"key name 2^64-1", T2G_ERR_FORMAT, "the name of key 0", NULL, key_name_2_64},
    {"string 2^64-1", T2G_ERR_FORMAT, "key \"general.architecture\": its value", NULL, string_2_64},
    {"value type 13", T2G_ERR_FORMAT, "\"general.architecture\" at byte 52: unknown value type 13", NULL, value_type_13},
    {"n_dims 5", T2G_ERR_FORMAT, "tensor \"token_embd.weight\" has 5 dimensions", NULL, n_dims_5},
    {"dims 2^63", T2G_ERR_FORMAT, "\"token_embd.weight\": size 0 is 9223372036854775808", NULL, dims_2_63},
    {"dims overflow", T2G_ERR_FORMAT, "token_embd.weight: its sizes 1099511627776 x 1099511627776", NULL, dims_overflow},
    {"tensor name 2^64-1", T2G_ERR_FORMAT, "the name of tensor 0", NULL, tensor_name_2_64},
    {"tensor type 99", T2G_ERR_UNSUPPORTED, "tensor \"output.weight\" has the unknown tensor type 99", NULL, tensor_type_99},
    {"offset past the end", T2G_ERR_FORMAT, "output.weight: its 34 bytes at offset 1048576 run past the end", NULL,
     offset_past_end},
    {"offset near 2^64", T2G_ERR_FORMAT, "output.weight: its 34 bytes at offset 18446744073709551584", NULL, offset_2_64},
    {"misaligned", T2G_ERR_FORMAT, "output.weight: its offset 28 is not a multiple of the alignment 32", NULL, misaligned},
    {"overlapping", T2G_ERR_FORMAT, "overlap", NULL, overlapping},
    {"key twice", T2G_ERR_FORMAT, "key \"llama.block_count\" appears twice", key_twice, NULL},
    {"tensor twice", T2G_ERR_FORMAT, "tensor token_embd.weight appears twice", tensor_twice, NULL},
    {"nested array", T2G_ERR_UNSUPPORTED, "\"t.nested\": an array of 1 arrays", nested_array, NULL},
    {"array 2^63", T2G_ERR_FORMAT, "\"t.huge\": an array of 9223372036854775808 u32 values", array_2_63, NULL},
    {"strings 2^62", T2G_ERR_FORMAT, "\"t.strings\": an array of 4611686018427387904 strings", strings_2_62, NULL},
    {"array element type 77", T2G_ERR_FORMAT, "\"t.odd\": unknown array element type 77", array_type_77, NULL},
    {"bool 2", T2G_ERR_FORMAT, "\"t.bool\": bool value", bool_2, NULL},
    {"key with NUL", T2G_ERR_FORMAT, "\"a\\x00b\"", key_with_nul, NULL},
    {"alignment 0", T2G_ERR_FORMAT, "general.alignment is 0, not a power of two", alignment_0, NULL},
    {"alignment 3", T2G_ERR_FORMAT, "general.alignment is 3, not a power of two", alignment_3, NULL},
    {"alignment string", T2G_ERR_FORMAT, "general.alignment is a string, wanted a u32", alignment_string, NULL},
    {"split.count 3", T2G_ERR_UNSUPPORTED, "split model (split.count = 3)", split_count_3, NULL},
    {"split.no 2", T2G_ERR_UNSUPPORTED, "split model (split.no = 2)", split_part_2, NULL},
    {"general.split.count", T2G_ERR_UNSUPPORTED, "general.split.count = 2", general_split, NULL},
    {"rows of 33", T2G_ERR_FORMAT, "output.weight: its rows of 33 elements are not whole Q8_0 blocks of 32", rows_33, NULL},
    {"empty name", T2G_ERR_FORMAT, "tensor 1: its name \"\" at byte", empty_name, NULL},
    {"long name", T2G_ERR_FORMAT, "longer than 64 bytes", long_name, NULL},
    {"short data", T2G_ERR_FORMAT, "output.weight: its 34 bytes at offset 32 run past the end", short_data, NULL},
};

static bool build_case(const hostile *c, gguf_builder *file) {
    gguf_builder keys = {0};
    base_keys(&keys);
    uint64_t key_count = BASE_KEYS;
    gb_tensor tensors[4];
    uint32_t tensor_count, alignment = 32;
    base_tensors(tensors, &tensor_count);
    if (c && c->edit) c->edit(&keys, &key_count, tensors, &tensor_count, &alignment);
    gb_layout layout;
    gb_file(file, 3, key_count, &keys, tensors, tensor_count, alignment, &layout);
    if (c && c->patch) c->patch(file, &layout);
    gb_free(&keys);
    return true;
}

T2G_HOST_CHECK(gguf_hostile) {
    check_case_begin(ctx);
    char dir[256], path[300];
    if (!gb_temp_dir(ctx, dir, sizeof dir)) return 1;
    snprintf(path, sizeof path, "%s/hostile.gguf", dir);
    t2g_gguf *g = NULL;
    gguf_builder file = {0};
    build_case(NULL, &file);
    if (gb_save(ctx, path, file.data, file.len) && check_status(ctx, t2g_gguf_open(path, &g, &ctx->err), "the base file"))
        t2g_gguf_close(g);
    gb_free(&file);
    /* metadata only, the padding after it left out (as a vocabulary-only file may): read */
    gguf_builder keys = {0};
    base_keys(&keys);
    gb_layout layout;
    gb_file(&file, 3, BASE_KEYS, &keys, NULL, 0, 32, &layout);
    if (gb_save(ctx, path, file.data, layout.infos_at) &&
        check_status(ctx, t2g_gguf_open(path, &g, &ctx->err), "a file of metadata only, unpadded")) {
        check_true(ctx, t2g_gguf_key_count(g) == BASE_KEYS && t2g_gguf_tensor_count(g) == 0 &&
                            t2g_gguf_data_offset(g) == layout.infos_at, "metadata only: %u keys, no tensors", BASE_KEYS);
        t2g_gguf_close(g);
    }
    gb_free(&keys);
    gb_free(&file);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const hostile *c = &cases[i];
        build_case(c, &file);
        g = NULL;
        ctx->err.message[0] = '\0';
        t2g_status status = gb_save(ctx, path, file.data, file.len) ? t2g_gguf_open(path, &g, &ctx->err) : T2G_OK;
        check_true(ctx, status == c->status && !g && strstr(ctx->err.message, path) && strstr(ctx->err.message, c->words),
                   "%s: %s \"%s\" (wanted %s and \"%s\")", c->label, t2g_status_name(status), ctx->err.message,
                   t2g_status_name(c->status), c->words);
        check_log(ctx, "%s: %s", c->label, ctx->err.message);
        t2g_gguf_close(g);
        gb_free(&file);
    }
    /* not a regular file, an empty file, a missing file */
    check_true(ctx, t2g_gguf_open(dir, &g, &ctx->err) == T2G_ERR_IO && strstr(ctx->err.message, "a directory"),
               "a directory: %s", ctx->err.message);
    gb_save(ctx, path, "", 0);
    check_true(ctx, t2g_gguf_open(path, &g, &ctx->err) == T2G_ERR_FORMAT && strstr(ctx->err.message, "empty"), "empty: %s",
               ctx->err.message);
    unlink(path);
    check_true(ctx, t2g_gguf_open(path, &g, &ctx->err) == T2G_ERR_IO && strstr(ctx->err.message, path), "missing: %s",
               ctx->err.message);
    rmdir(dir);
    return ctx->failures;
}

/* The base file cut after each of its bytes: every prefix refused (the last tensor ends the
 * file, so no prefix is a whole file), naming the file. */
T2G_HOST_CHECK(gguf_truncated) {
    check_case_begin(ctx);
    char dir[256], path[300];
    if (!gb_temp_dir(ctx, dir, sizeof dir)) return 1;
    snprintf(path, sizeof path, "%s/cut.gguf", dir);
    gguf_builder file = {0};
    build_case(NULL, &file);
    size_t refused = 0;
    for (size_t len = 0; len < file.len; len++) {
        t2g_gguf *g = NULL;
        ctx->err.message[0] = '\0';
        t2g_status status = gb_save(ctx, path, file.data, len) ? t2g_gguf_open(path, &g, &ctx->err) : T2G_OK;
        refused += status == T2G_ERR_FORMAT;
        check_expect(ctx, status == T2G_ERR_FORMAT && !g && strstr(ctx->err.message, path),
                     "cut at %zu of %zu bytes: %s \"%s\"", len, file.len, t2g_status_name(status), ctx->err.message);
        t2g_gguf_close(g);
    }
    check_true(ctx, refused == file.len, "%zu of %zu prefixes refused", refused, file.len);
    gb_free(&file);
    unlink(path);
    rmdir(dir);
    return ctx->failures;
}
