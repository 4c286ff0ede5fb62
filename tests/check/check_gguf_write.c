/* The GGUF writer (t2g/gguf_write.h): files with every metadata type, arrays of strings and
 * tensors of every type at alignments 32, 64 and 8, read back by the tests' own parser
 * (gguf_parse.c) and checked byte by byte: header, metadata, tensor infos, offsets, padding,
 * data (Q8_0 against an independent reference); the same file written in odd pieces is
 * identical. With T2G_GGUF_WRITE_SAMPLES=DIR the sample files are kept in DIR for
 * tests/oracle/check_gguf_write.py (the gguf Python package's reader and quantizer).
 * Errors: check_gguf_write_errors.c. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "gguf_parse.h"
#include "gguf_write_cases.h"
#include "t2g/dtype.h"
#include "t2g/gguf_write.h"

/* ---- the sample's metadata: one key of every type, arrays of every type, strings ---- */

static const uint8_t u8_value = 200;
static const int8_t i8_value = -100;
static const uint16_t u16_value = 60000;
static const int16_t i16_value = -30000;
static const uint32_t u32_value = 4000000000u;
static const int32_t i32_value = -2000000000;
static const uint64_t u64_value = 18000000000000000000ull;
static const int64_t i64_value = -9000000000000000000ll;
static const float f32_value = 0.1f;
static const double f64_value = -2.5e300;
static const bool true_value = true, false_value = false;
static const char *const string_value = "caf\xc3\xa9 \"GGUF\"\n", *const empty_value = "", *const arch_value = "t2g-test";

static const uint8_t u8s[] = {0, 1, 127, 128, 255};
static const int8_t i8s[] = {-128, -1, 0, 1, 127};
static const uint16_t u16s[] = {0, 1, 32768, 65535};
static const int16_t i16s[] = {-32768, -1, 0, 32767};
static const uint32_t u32s[] = {0, 1, 2147483648u, 4294967295u};
static const int32_t i32s[] = {INT32_MIN, -1, 0, INT32_MAX};
static const uint64_t u64s[] = {0, 1, 1ull << 63, UINT64_MAX};
static const int64_t i64s[] = {INT64_MIN, -1, 0, INT64_MAX};
static const float f32s[] = {0.0f, -0.0f, 1.5f, -3.25e-5f, 3.4e38f};
static const double f64s[] = {0.0, 1e-300, -2.5, DBL_MAX};
static const bool bools[] = {true, false, true};
static const char *const nul_strings[] = {"a\0b", "\0", "xyz"};
static const uint64_t nul_lengths[] = {3, 1, 3};

enum { TOKENS = 1000 };
static char token_text[TOKENS][16];
static const char *tokens[TOKENS];

/* "tok0" .. "tok999", but 1: UTF-8 of three and four bytes, 2: empty, 3: control characters
 * (tests/oracle/check_gguf_write.py builds the same). */
static void make_tokens(void) {
    for (int i = 0; i < TOKENS; i++) {
        snprintf(token_text[i], sizeof token_text[i], "tok%d", i);
        tokens[i] = token_text[i];
    }
    tokens[1] = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
    tokens[2] = "";
    tokens[3] = "a\nb\tc";
}

#define SCALAR(key, type, value) {key, type, false, &(value), 1, NULL}
#define ARRAY(key, type, values) {key, type, true, values, sizeof values / sizeof values[0], NULL}
static const gguf_case sample_meta[] = {
    SCALAR("general.architecture", GGUF_STRING, arch_value),
    SCALAR("test.u8", GGUF_U8, u8_value),
    SCALAR("test.i8", GGUF_I8, i8_value),
    SCALAR("test.u16", GGUF_U16, u16_value),
    SCALAR("test.i16", GGUF_I16, i16_value),
    SCALAR("test.u32", GGUF_U32, u32_value),
    SCALAR("test.i32", GGUF_I32, i32_value),
    SCALAR("test.u64", GGUF_U64, u64_value),
    SCALAR("test.i64", GGUF_I64, i64_value),
    SCALAR("test.f32", GGUF_F32, f32_value),
    SCALAR("test.f64", GGUF_F64, f64_value),
    SCALAR("test.bool", GGUF_BOOL, true_value),
    SCALAR("test.bool_false", GGUF_BOOL, false_value),
    SCALAR("test.string", GGUF_STRING, string_value),
    SCALAR("test.empty_string", GGUF_STRING, empty_value),
    ARRAY("test.u8s", GGUF_U8, u8s),
    ARRAY("test.i8s", GGUF_I8, i8s),
    ARRAY("test.u16s", GGUF_U16, u16s),
    ARRAY("test.i16s", GGUF_I16, i16s),
    ARRAY("test.u32s", GGUF_U32, u32s),
    ARRAY("test.i32s", GGUF_I32, i32s),
    ARRAY("test.u64s", GGUF_U64, u64s),
    ARRAY("test.i64s", GGUF_I64, i64s),
    ARRAY("test.f32s", GGUF_F32, f32s),
    ARRAY("test.f64s", GGUF_F64, f64s),
    ARRAY("test.bools", GGUF_BOOL, bools),
    {"test.empty_i32s", GGUF_I32, true, NULL, 0, NULL},
    {"test.nul_strings", GGUF_STRING, true, nul_strings, 3, nul_lengths},
    {"tokenizer.ggml.tokens", GGUF_STRING, true, tokens, TOKENS, NULL},
};
enum { SAMPLE_META = sizeof sample_meta / sizeof sample_meta[0] };

/* ---- the sample's tensors, each converted one followed by its f32 twin "ref.<name>" ---- */

static const gguf_tensor_case sample_tensors[] = {
    {"f32.matrix", T2G_GGUF_WRITE_F32, 2, {7, 3, 1, 1}},
    {"f16.vector", T2G_GGUF_WRITE_F16, 1, {33, 1, 1, 1}},
    {"bf16.cube", T2G_GGUF_WRITE_BF16, 3, {5, 3, 2, 1}},
    {"q8_0.matrix", T2G_GGUF_WRITE_Q8_0, 2, {64, 5, 1, 1}},
    {"q8_0.4d", T2G_GGUF_WRITE_Q8_0, 4, {32, 2, 1, 3}},
};
enum { SAMPLE_SOURCES = sizeof sample_tensors / sizeof sample_tensors[0], SAMPLE_TENSORS = 2 * SAMPLE_SOURCES - 1 };

typedef struct sample {
    gguf_tensor_case tensors[SAMPLE_TENSORS];
    char names[SAMPLE_TENSORS][64];
    const float *data[SAMPLE_TENSORS];
} sample;

static float *f16_edge_data(check_ctx *ctx, uint64_t n) {
    float *x = check_host(ctx, n * sizeof *x);
    for (uint64_t i = 0; i < n; i++) x[i] = (float)(check_normal(ctx) * ldexp(1, (int)check_random_below(ctx, 50) - 30));
    x[0] = 1.0f + ldexpf(1, -11);        /* a tie: to 1 (even) */
    x[1] = 1.0f + 3 * ldexpf(1, -11);    /* a tie: up, to the even pattern */
    x[2] = 70000.0f;                     /* past f16's range: inf */
    x[3] = ldexpf(1, -25);               /* half the least subnormal: to 0 */
    x[4] = -0.0f;
    return x;
}

/* Blocks of 32: random ones, and the edges ggml's quantizer meets. */
static float *q8_0_edge_data(check_ctx *ctx, uint64_t n) {
    float *x = check_host(ctx, n * sizeof *x);
    for (uint64_t i = 0; i < n; i++) x[i] = (float)(check_normal(ctx) * ldexp(1, (int)(i / 32 % 5) - 2));
    if (n < 10 * 32) return x;
    memset(x + 4 * 32, 0, 32 * sizeof *x);                                      /* all zero: d = 0 */
    for (int j = 0; j < 31; j++) x[5 * 32 + j] = (float)j - 15.5f;              /* d = 1: halves round away from 0 */
    x[5 * 32 + 31] = -127.0f;
    for (int j = 0; j < 32; j++) x[6 * 32 + j] = (float)(check_normal(ctx) * 1e-7); /* d below f16's normals */
    for (int j = 0; j < 32; j++) x[7 * 32 + j] = (float)(check_normal(ctx) * 1e5);
    x[7 * 32 + 9] = 8e6f;                                                       /* d = 62992: near f16's top */
    memset(x + 8 * 32, 0, 32 * sizeof *x);
    x[8 * 32 + 3] = -2.5f;                                                      /* one value: q = -127 */
    for (int j = 0; j < 32; j++) x[9 * 32 + j] = (float)check_uniform(ctx, -1, 1);
    return x;
}

static void make_sample(check_ctx *ctx, sample *s) {
    int k = 0;
    for (int i = 0; i < SAMPLE_SOURCES; i++) {
        const gguf_tensor_case *c = &sample_tensors[i];
        uint64_t n = gguf_case_elements(c);
        const float *data;
        if (c->type == T2G_GGUF_WRITE_Q8_0) data = q8_0_edge_data(ctx, n);
        else if (c->type == T2G_GGUF_WRITE_F32) data = check_random_floats(ctx, n, -1e30, 1e30);
        else data = f16_edge_data(ctx, n);
        s->tensors[k] = *c;
        s->data[k++] = data;
        if (c->type == T2G_GGUF_WRITE_F32) continue;
        s->tensors[k] = *c;
        s->tensors[k].type = T2G_GGUF_WRITE_F32;
        snprintf(s->names[k], sizeof s->names[k], "ref.%s", c->name);
        s->tensors[k].name = s->names[k];
        s->data[k++] = data;
    }
}

/* Writes the sample at `alignment` (32: no general.alignment key), each tensor whole or in
 * random pieces of 1 to 45 elements. */
static bool write_sample(check_ctx *ctx, const sample *s, const char *path, uint32_t alignment, bool pieces) {
    t2g_gguf_writer *w = NULL;
    t2g_status status = t2g_gguf_writer_new(path, &w, &ctx->err);
    for (int i = 0; !status && i < SAMPLE_META; i++) {
        status = gguf_case_add(w, &sample_meta[i], &ctx->err);
        if (!status && i == 0 && alignment != 32) status = t2g_gguf_add_u32(w, "general.alignment", alignment, &ctx->err);
    }
    for (int i = 0; !status && i < SAMPLE_TENSORS; i++) status = gguf_tensor_case_add(w, &s->tensors[i], &ctx->err);
    for (int i = 0; !status && i < SAMPLE_TENSORS; i++) {
        uint64_t n = gguf_case_elements(&s->tensors[i]);
        for (uint64_t done = 0; !status && done < n;) {
            uint64_t piece = pieces ? 1 + check_random_below(ctx, 45) : n;
            if (piece > n - done) piece = n - done;
            status = t2g_gguf_write_data(w, s->data[i] + done, piece, &ctx->err);
            done += piece;
        }
    }
    if (!status) status = t2g_gguf_writer_finish(w, &ctx->err);
    t2g_gguf_writer_free(w);
    return check_status(ctx, status, pieces ? "writing the sample in pieces" : "writing the sample");
}

/* ---- Q8_0, independently: f32 steps done in double and rounded to f32 (exact for one
 * operation on f32 operands), f16 by rint on the significand ---- */

static uint16_t f16_bits(double x) {
    uint16_t sign = signbit(x) ? 0x8000u : 0;
    double a = fabs(x);
    if (a < ldexp(1, -14)) return (uint16_t)(sign | (uint16_t)rint(ldexp(a, 24))); /* subnormal (1024: the least normal) */
    int e;
    double m = frexp(a, &e);                 /* a = m 2^e, m in [0.5, 1) */
    double r = rint(ldexp(m, 11));           /* 11 significant bits */
    if (r == 2048) r = 1024, e++;
    int biased = e + 14;
    if (biased >= 31) return (uint16_t)(sign | 0x7C00u);
    return (uint16_t)(sign | (biased << 10) | ((int)r - 1024));
}

static void q8_0_reference(const float *x, unsigned char out[34]) {
    double amax = 0;
    for (int j = 0; j < 32; j++) amax = fmax(amax, fabs((double)x[j]));
    float d = (float)(amax / 127.0), inverse = d != 0 ? (float)(1.0 / d) : 0.0f;
    bool divide = isinf(inverse); /* 1/d past f32: the writer divides */
    uint16_t d16 = f16_bits(d);
    out[0] = (unsigned char)d16;
    out[1] = (unsigned char)(d16 >> 8);
    for (int j = 0; j < 32; j++) {
        double scaled = divide ? (float)((double)x[j] / d) : (float)((double)x[j] * inverse);
        double q = copysign(floor(fabs(scaled) + 0.5), scaled); /* halves away from zero */
        out[2 + j] = (unsigned char)(int8_t)q;
    }
}

/* The tensor's data as the file should hold it, into out (t2g_gguf_write_type_bytes long). */
static void expected_bytes(const gguf_tensor_case *t, const float *x, uint64_t n, unsigned char *out) {
    for (uint64_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &x[i], 4);
        if (t->type == T2G_GGUF_WRITE_F32)
            for (int b = 0; b < 4; b++) out[4 * i + b] = (unsigned char)(bits >> (8 * b));
        else if (t->type != T2G_GGUF_WRITE_Q8_0) {
            uint16_t h = t->type == T2G_GGUF_WRITE_F16 ? t2g_f32_to_f16(x[i]) : t2g_f32_to_bf16(x[i]);
            out[2 * i] = (unsigned char)h;
            out[2 * i + 1] = (unsigned char)(h >> 8);
        }
    }
    if (t->type == T2G_GGUF_WRITE_Q8_0)
        for (uint64_t b = 0; b < n / 32; b++) q8_0_reference(x + 32 * b, out + 34 * b);
}

/* ---- checking a file ---- */

static uint64_t plain_bytes(uint32_t type, uint64_t n) {
    return type == 0 ? 4 * n : type == 8 ? n / 32 * 34 : 2 * n;
}

static bool zeros(const unsigned char *p, uint64_t n) {
    for (uint64_t i = 0; i < n; i++)
        if (p[i]) return false;
    return true;
}

/* Worst |dequantized - x| / max|x| of the file's Q8_0 blocks. */
static double q8_0_worst(const unsigned char *q, const float *x, uint64_t n) {
    double worst = 0;
    for (uint64_t b = 0; b < n / 32; b++) {
        double d = t2g_f16_to_f32((uint16_t)gguf_parse_le(q + 34 * b, 2)), amax = 0, err = 0;
        for (int j = 0; j < 32; j++) {
            amax = fmax(amax, fabs((double)x[32 * b + j]));
            err = fmax(err, fabs((int8_t)q[34 * b + 2 + j] * d - x[32 * b + j]));
        }
        if (amax > 1e-3) worst = fmax(worst, err / amax); /* below, d is not a normal f16 */
    }
    return worst;
}

static void check_tensors(check_ctx *ctx, const gguf_parsed *g, const sample *s, uint32_t alignment) {
    uint64_t offset = 0, wrong_info = 0, wrong_data = 0, wrong_padding = 0;
    double worst = 0;
    for (int i = 0; i < SAMPLE_TENSORS; i++) {
        const gguf_parsed_tensor *t = &g->tensors[i];
        const gguf_tensor_case *c = &s->tensors[i];
        uint64_t n = gguf_case_elements(c), bytes = plain_bytes(c->type, n);
        bool info_ok = t->name_len == strlen(c->name) && memcmp(t->name, c->name, t->name_len) == 0 &&
                       t->n_dims == c->n_dims && t->type == (uint32_t)c->type && t->offset == offset &&
                       memcmp(t->dims, c->dims, c->n_dims * sizeof *t->dims) == 0;
        uint64_t padded = (bytes + alignment - 1) / alignment * alignment;
        if (!info_ok || g->data_start + offset + padded > g->size) {
            check_fail(ctx, "tensor %d (%s): the info or its place in the file is wrong", i, c->name);
            wrong_info++;
            break;
        }
        const unsigned char *data = g->bytes + g->data_start + offset;
        unsigned char *want = check_host(ctx, bytes);
        expected_bytes(c, s->data[i], n, want);
        if (memcmp(data, want, bytes) != 0) {
            uint64_t at = 0;
            while (data[at] == want[at]) at++;
            check_fail(ctx, "tensor %s (%s): byte %llu is 0x%02x, expected 0x%02x", c->name,
                       t2g_gguf_write_type_name(c->type), (unsigned long long)at, data[at], want[at]);
            wrong_data++;
        }
        if (!zeros(data + bytes, padded - bytes)) wrong_padding++;
        if (c->type == T2G_GGUF_WRITE_Q8_0) worst = fmax(worst, q8_0_worst(data, s->data[i], n));
        offset += padded;
    }
    check_true(ctx, !wrong_info && g->size == g->data_start + offset,
               "tensor infos: names, dims, types, offsets %% %u == 0; the file ends after the last tensor's padding",
               alignment);
    check_true(ctx, !wrong_data, "tensor data: F32 bits, F16/BF16 rounded to even, Q8_0 as the independent reference");
    check_true(ctx, !wrong_padding && zeros(g->bytes + g->header_end, g->data_start - g->header_end),
               "the padding after the header and after each tensor is zeros");
    check_true(ctx, worst <= 0.5 / 127 + 1.0 / 1024, "Q8_0 dequantized within half a step of max|x| (worst %.3g)", worst);
    if (worst > ctx->worst_error) {
        ctx->worst_error = worst;
        snprintf(ctx->worst_label, sizeof ctx->worst_label, "Q8_0 dequantized vs max|x|");
    }
}

static void check_file(check_ctx *ctx, const char *path, const sample *s, uint32_t alignment) {
    gguf_parsed g;
    char why[256] = "a GGUF file";
    if (!check_true(ctx, gguf_parse_file(path, &g, why, sizeof why), "%s parses (%s)", path, why)) return;
    uint64_t kv_expected = SAMPLE_META + (alignment != 32);
    check_true(ctx, g.version == 3 && g.tensor_count == SAMPLE_TENSORS && g.kv_count == kv_expected,
               "header: GGUF version 3, %d tensors, %llu pairs (%u, %llu, %llu)", SAMPLE_TENSORS,
               (unsigned long long)kv_expected, g.version, (unsigned long long)g.tensor_count,
               (unsigned long long)g.kv_count);
    int wrong = 0;
    for (uint64_t i = 0, m = 0; i < g.kv_count && m < SAMPLE_META; i++) {
        const gguf_parsed_kv *kv = &g.kv[i];
        if (i == 1 && alignment != 32) {
            wrong += !(kv->key_len == 17 && memcmp(kv->key, "general.alignment", 17) == 0 && kv->type == 4 &&
                       gguf_parse_le(kv->value, 4) == alignment);
            continue;
        }
        if (!gguf_case_matches(kv, &sample_meta[m++]) && !wrong++)
            check_fail(ctx, "metadata key %s is not as written", sample_meta[m - 1].key);
    }
    check_true(ctx, !wrong && g.alignment == alignment,
               "metadata: %d keys of every type in order, arrays of every type, %d strings; alignment %u", SAMPLE_META,
               TOKENS, alignment);
    if (g.tensor_count == SAMPLE_TENSORS) check_tensors(ctx, &g, s, alignment);
    gguf_parse_free(&g);
}

static bool same_file(const char *a, const char *b) {
    gguf_parsed x, y;
    char why[256];
    bool same = gguf_parse_file(a, &x, why, sizeof why) && gguf_parse_file(b, &y, why, sizeof why) &&
                x.size == y.size && memcmp(x.bytes, y.bytes, x.size) == 0;
    gguf_parse_free(&x);
    gguf_parse_free(&y);
    return same;
}

T2G_HOST_CHECK(gguf_write_sample) {
    check_case_begin(ctx);
    make_tokens();
    sample s;
    make_sample(ctx, &s);
    const char *keep = getenv("T2G_GGUF_WRITE_SAMPLES");
    char dir[512];
    if (keep && *keep) snprintf(dir, sizeof dir, "%s", keep);
    else if (!gguf_scratch_dir(ctx, dir, sizeof dir)) return ctx->failures;
    static const uint32_t alignments[] = {32, 64, 8};
    for (int a = 0; a < 3; a++) {
        char path[600], pieces[600];
        snprintf(path, sizeof path, "%s/align%u.gguf", dir, alignments[a]);
        snprintf(pieces, sizeof pieces, "%s/pieces%u.gguf", dir, alignments[a]);
        check_log(ctx, "alignment %u:", alignments[a]);
        if (write_sample(ctx, &s, path, alignments[a], false)) check_file(ctx, path, &s, alignments[a]);
        if (write_sample(ctx, &s, pieces, alignments[a], true))
            check_true(ctx, same_file(path, pieces), "written in pieces of 1 to 45 elements: the same bytes");
        remove(pieces);
        if (!keep || !*keep) remove(path);
    }
    if (!keep || !*keep) check_true(ctx, gguf_remove_scratch(dir), "nothing else was left in %s", dir);
    return ctx->failures;
}

/* A Q8_0 block so small that 1/d overflows f32 (ggml's x * (1/d) is then undefined): the
 * writer divides, and zeros stay zeros. */
T2G_HOST_CHECK(gguf_write_q8_0_tiny) {
    check_case_begin(ctx);
    char dir[512], path[600];
    if (!gguf_scratch_dir(ctx, dir, sizeof dir)) return ctx->failures;
    snprintf(path, sizeof path, "%s/tiny.gguf", dir);
    float x[32];
    for (int j = 0; j < 32; j++) x[j] = (float)(j - 16) * 1e-40f; /* f32 subnormals, max|x| 1.6e-39 */
    const gguf_tensor_case tiny = {"tiny", T2G_GGUF_WRITE_Q8_0, 1, {32, 1, 1, 1}};
    t2g_gguf_writer *w = NULL;
    t2g_status status = t2g_gguf_writer_new(path, &w, &ctx->err);
    if (!status) status = gguf_tensor_case_add(w, &tiny, &ctx->err);
    if (!status) status = t2g_gguf_write_data(w, x, 32, &ctx->err);
    if (!status) status = t2g_gguf_writer_finish(w, &ctx->err);
    t2g_gguf_writer_free(w);
    gguf_parsed g;
    char why[256] = "";
    if (check_status(ctx, status, "writing a block of subnormals") &&
        check_true(ctx, gguf_parse_file(path, &g, why, sizeof why), "it parses (%s)", why)) {
        unsigned char want[34];
        q8_0_reference(x, want);
        const unsigned char *q = g.bytes + g.data_start;
        check_true(ctx, g.data_start + 34 <= g.size && memcmp(q, want, 34) == 0 && q[2 + 16] == 0 &&
                            (int8_t)q[2] == -127 && (int8_t)q[2 + 31] == 119,
                   "q = round(x / d): -127 .. 119, zero at x = 0, the scale an f16 zero");
        gguf_parse_free(&g);
    }
    remove(path);
    check_true(ctx, gguf_remove_scratch(dir), "nothing else was left in %s", dir);
    return ctx->failures;
}
