/* f16/bf16 conversions (every 16-bit pattern against ldexp; rounding against a search over the
 * narrow type's values), and safetensors files: a bit-exact round trip, the byte layout, and a
 * table of broken files each with the message it must get. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "t2g/dtype.h"
#include "t2g/safetensors.h"

/* ---- conversions ---- */

/* f16 by its definition: (-1)^s 2^(e-15) (1 + m/1024), subnormals 2^-14 (m/1024). */
static double f16_reference(uint32_t h) {
    int sign = h >> 15, exponent = (h >> 10) & 31, mantissa = h & 1023;
    double magnitude = exponent == 31 ? (mantissa ? NAN : INFINITY)
                       : exponent   ? ldexp(1024 + mantissa, exponent - 25)
                                    : ldexp(mantissa, -24);
    return sign ? -magnitude : magnitude;
}

static double bf16_reference(uint32_t h) {
    int sign = h >> 15, exponent = (h >> 7) & 255, mantissa = h & 127;
    double magnitude = exponent == 255 ? (mantissa ? NAN : INFINITY)
                       : exponent    ? ldexp(128 + mantissa, exponent - 134)
                                     : ldexp(mantissa, -133);
    return sign ? -magnitude : magnitude;
}

/* The nearest value of the narrow type to x (ties to the even pattern), by binary search over
 * its positive patterns 0 .. top (monotonic in value); past the largest finite value by half a
 * step or more: infinity. Independent of the library's bit arithmetic. */
static uint16_t nearest(double x, double (*value)(uint32_t), uint32_t top_finite, uint32_t inf) {
    uint32_t sign = signbit(x) ? 0x8000u : 0;
    double a = fabs(x);
    double step = value(top_finite) - value(top_finite - 1);
    if (a >= value(top_finite) + step / 2) {
        if (a == value(top_finite) + step / 2 && !(top_finite & 1)) return (uint16_t)(sign | top_finite);
        return (uint16_t)(sign | inf);
    }
    uint32_t lo = 0, hi = top_finite;
    while (hi - lo > 1) {
        uint32_t mid = (lo + hi) / 2;
        if (value(mid) <= a) lo = mid;
        else hi = mid;
    }
    double dlo = a - value(lo), dhi = value(hi) - a;
    uint32_t pick = dlo < dhi ? lo : dhi < dlo ? hi : (lo & 1 ? hi : lo);
    if (a >= value(top_finite)) pick = top_finite;
    return (uint16_t)(sign | pick);
}

T2G_HOST_CHECK(dtype_conversions) {
    check_case_begin(ctx);
    uint32_t wrong_f16 = 0, wrong_bf16 = 0, wrong_back = 0, first_f16 = 0, first_bf16 = 0, first_back = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = t2g_f16_to_f32((uint16_t)h), b = t2g_bf16_to_f32((uint16_t)h);
        double rf = f16_reference(h), rb = bf16_reference(h);
        bool f_ok = isnan(rf) ? isnan(f) && (t2g_f32_bits(f) >> 31) == (h >> 15) : (double)f == rf && !signbit(f) == !signbit(rf);
        bool b_ok = isnan(rb) ? isnan(b) && (t2g_f32_bits(b) >> 31) == (h >> 15) : (double)b == rb && !signbit(b) == !signbit(rb);
        if (!f_ok && !wrong_f16++) first_f16 = h;
        if (!b_ok && !wrong_bf16++) first_bf16 = h;
        /* narrowing what widening gave is the identity on every pattern but NaN (NaN stays NaN) */
        uint16_t f_back = t2g_f32_to_f16(f), b_back = t2g_f32_to_bf16(b);
        bool back_ok = isnan(rf) ? isnan(t2g_f16_to_f32(f_back)) : f_back == h;
        back_ok = back_ok && (isnan(rb) ? isnan(t2g_bf16_to_f32(b_back)) : b_back == h);
        if (!back_ok && !wrong_back++) first_back = h;
    }
    check_true(ctx, wrong_f16 == 0, "f16 -> f32 agrees with ldexp on all 65536 patterns (%u wrong, first 0x%04x)", wrong_f16,
               first_f16);
    check_true(ctx, wrong_bf16 == 0, "bf16 -> f32 agrees with ldexp on all 65536 patterns (%u wrong, first 0x%04x)",
               wrong_bf16, first_bf16);
    check_true(ctx, wrong_back == 0, "f32 -> f16 and -> bf16 give back every non-NaN pattern (%u wrong, first 0x%04x)",
               wrong_back, first_back);

    /* rounding: every midpoint between neighbouring f16 values, and nudged just off it; random
     * f32 bit patterns (every exponent) against the search */
    uint32_t wrong = 0;
    char first[160] = "";
    for (uint32_t h = 0; h < 0x7C00u; h++) {
        double mid = (f16_reference(h) + f16_reference(h + 1)) / 2; /* exact in f32 */
        float x = (float)mid, tries[3] = {x, nextafterf(x, -INFINITY), nextafterf(x, INFINITY)};
        for (int t = 0; t < 3; t++) {
            uint16_t want = nearest(tries[t], f16_reference, 0x7BFFu, 0x7C00u), got = t2g_f32_to_f16(tries[t]);
            uint16_t neg_want = (uint16_t)(want | 0x8000u), neg_got = t2g_f32_to_f16(-tries[t]);
            if ((got != want || neg_got != neg_want) && !wrong++)
                snprintf(first, sizeof first, "f16 of %.9g: 0x%04x, expected 0x%04x", tries[t], got, want);
        }
    }
    for (int i = 0; i < 200000; i++) {
        float x = t2g_f32_from_bits((uint32_t)check_random_u64(ctx));
        if (isnan(x)) continue;
        uint16_t f = t2g_f32_to_f16(x), wf = nearest(x, f16_reference, 0x7BFFu, 0x7C00u);
        uint16_t b = t2g_f32_to_bf16(x), wb = nearest(x, bf16_reference, 0x7F7Fu, 0x7F80u);
        if ((f != wf || b != wb) && !wrong++)
            snprintf(first, sizeof first, "%.9g: f16 0x%04x (expected 0x%04x), bf16 0x%04x (expected 0x%04x)", x, f, wf, b, wb);
    }
    check_true(ctx, wrong == 0, "f32 -> f16/bf16 round to nearest even at every f16 midpoint and 200000 random floats (%u wrong%s%s)",
               wrong, wrong ? ": " : "", first);

    /* the edges, spelled out */
    check_true(ctx, t2g_f32_to_f16(65504.0f) == 0x7BFF && t2g_f32_to_f16(65519.996f) == 0x7BFF &&
                        t2g_f32_to_f16(65520.0f) == 0x7C00 && t2g_f32_to_f16(1e10f) == 0x7C00 &&
                        t2g_f32_to_f16(-INFINITY) == 0xFC00,
               "f16: 65504 and 65519.996 stay finite, 65520 and above overflow to inf");
    check_true(ctx, t2g_f32_to_f16(ldexpf(1, -25)) == 0 && t2g_f32_to_f16(nextafterf(ldexpf(1, -25), 1)) == 1 &&
                        t2g_f32_to_f16(ldexpf(3, -25)) == 2 && t2g_f32_to_f16(-0.0f) == 0x8000,
               "f16: 2^-25 ties to 0, just above it is the least subnormal, 3 x 2^-25 ties to even (2), -0 keeps its sign");
    check_true(ctx, t2g_f32_to_bf16(t2g_f32_from_bits(0x7F7FFFFFu)) == 0x7F80 && t2g_f32_to_bf16(t2g_f32_from_bits(0x3F808000u)) == 0x3F80 &&
                        t2g_f32_to_bf16(t2g_f32_from_bits(0x3F818000u)) == 0x3F82 && t2g_f32_to_bf16(t2g_f32_from_bits(0x3F808001u)) == 0x3F81,
               "bf16: the largest float overflows to inf; ties go to even; above a tie rounds up");
    float nans[3] = {NAN, t2g_f32_from_bits(0x7F800001u), t2g_f32_from_bits(0xFFC00000u)};
    bool nan_ok = true;
    for (int i = 0; i < 3; i++)
        nan_ok = nan_ok && isnan(t2g_f16_to_f32(t2g_f32_to_f16(nans[i]))) && isnan(t2g_bf16_to_f32(t2g_f32_to_bf16(nans[i])));
    check_true(ctx, nan_ok, "NaN stays NaN (quiet, signalling with a low payload, negative) both ways");
    return ctx->failures;
}

/* ---- scratch files ---- */

static bool scratch_dir(check_ctx *ctx, char *dir, size_t size) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, size, "%s/t2g-check-st-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        check_fail(ctx, "mkdtemp %s: %s", dir, strerror(errno));
        return false;
    }
    return true;
}

static void remove_scratch(const char *dir, const char *const *files, size_t n) {
    char path[1024];
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        remove(path);
    }
    rmdir(dir);
}

/* u64 header length (`declared`, or the header's own length when ~0), the header, data_bytes
 * zero bytes. */
static bool write_raw(const char *path, uint64_t declared, const char *header, size_t data_bytes) {
    FILE *f = fopen(path, "wb");
    if (!f) return false;
    uint64_t n = declared == ~0ull ? strlen(header) : declared;
    unsigned char prefix[8];
    for (int i = 0; i < 8; i++) prefix[i] = (unsigned char)(n >> (8 * i));
    bool ok = fwrite(prefix, 1, 8, f) == 8 && fwrite(header, 1, strlen(header), f) == strlen(header);
    for (size_t i = 0; ok && i < data_bytes; i++) ok = fputc(0x3C, f) != EOF;
    return fclose(f) == 0 && ok;
}

static off_t file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : 0;
}

/* ---- round trips ---- */

static float *random_bits(check_ctx *ctx, size_t n) {
    float *x = check_host(ctx, (n ? n : 1) * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = t2g_f32_from_bits((uint32_t)check_random_u64(ctx));
    return x;
}

T2G_HOST_CHECK(safetensors_roundtrip) {
    check_case_begin(ctx);
    char dir[512], path[600];
    if (!scratch_dir(ctx, dir, sizeof dir)) return ctx->failures;
    snprintf(path, sizeof path, "%s/t.safetensors", dir);
    /* shapes of every rank, an empty tensor, odd sizes, a transposed matrix, f16 and bf16 */
    enum { N = 7 };
    t2g_safetensors_entry e[N] = {
        {.name = "a.weight", .rank = 2, .shape = {5, 3}},
        {.name = "scalar-like", .rank = 1, .shape = {1}},
        {.name = "empty", .rank = 2, .shape = {0, 4}},
        {.name = "cube", .rank = 3, .shape = {2, 3, 7}},
        {.name = "conv1d", .rank = 2, .shape = {4, 6}, .transposed = true},
        {.name = "half", .rank = 1, .shape = {33}, .dtype = T2G_DTYPE_F16},
        {.name = "caf\xc3\xa9 \"quoted\"", .rank = 2, .shape = {3, 11}, .dtype = T2G_DTYPE_BF16},
    };
    uint64_t elements[N];
    for (int i = 0; i < N; i++) {
        elements[i] = 1;
        for (uint32_t d = 0; d < e[i].rank; d++) elements[i] *= e[i].shape[d];
        e[i].data = random_bits(ctx, elements[i]);
    }
    t2g_safetensors *st = NULL;
    if (!check_status(ctx, t2g_safetensors_write(path, e, N, &ctx->err), "writing") ||
        !check_status(ctx, t2g_safetensors_open(path, &st, &ctx->err), "opening what was written")) {
        remove_scratch(dir, (const char *[]){"t.safetensors"}, 1);
        return ctx->failures;
    }
    check_true(ctx, t2g_safetensors_count(st) == N, "the file lists %d tensors (%u)", N, t2g_safetensors_count(st));
    const char *format = t2g_safetensors_metadata(st, "format");
    check_true(ctx, format && strcmp(format, "pt") == 0, "__metadata__ holds format: pt");
    for (int i = 0; i < N; i++) {
        const t2g_safetensors_tensor *t = t2g_safetensors_find(st, e[i].name);
        if (!check_true(ctx, t != NULL, "tensor \"%s\" is found", e[i].name)) continue;
        bool shape = t->rank == e[i].rank && t->elements == elements[i];
        for (uint32_t d = 0; shape && d < t->rank; d++) shape = t->shape[d] == e[i].shape[d];
        check_true(ctx, shape && t->dtype == e[i].dtype, "tensor \"%s\": shape and dtype %s as written", e[i].name, t->dtype_name);
        float *back = check_host(ctx, (elements[i] ? elements[i] : 1) * sizeof *back);
        if (!check_status(ctx, t2g_safetensors_read_f32(st, t, back, elements[i], &ctx->err), e[i].name)) continue;
        uint64_t mismatched = 0;
        for (uint64_t k = 0; k < elements[i]; k++) {
            float want = e[i].data[k];
            if (e[i].transposed) want = e[i].data[(k % e[i].shape[1]) * e[i].shape[0] + k / e[i].shape[1]];
            if (e[i].dtype == T2G_DTYPE_F16) want = t2g_f16_to_f32(t2g_f32_to_f16(want));
            if (e[i].dtype == T2G_DTYPE_BF16) want = t2g_bf16_to_f32(t2g_f32_to_bf16(want));
            bool same = t2g_f32_bits(back[k]) == t2g_f32_bits(want) || (isnan(back[k]) && isnan(want));
            mismatched += !same;
        }
        check_true(ctx, mismatched == 0, "tensor \"%s\" (%s%s) reads back bit for bit (%llu differ)", e[i].name,
                   t->dtype_name, e[i].transposed ? ", written transposed" : "", (unsigned long long)mismatched);
    }
    /* a range from the middle, and the count that must match */
    const t2g_safetensors_tensor *cube = t2g_safetensors_find(st, "cube");
    float part[5];
    if (cube && check_status(ctx, t2g_safetensors_read_range(st, cube, 17, 5, part, &ctx->err), "a range"))
        check_true(ctx, memcmp(part, e[3].data + 17, sizeof part) == 0, "elements [17, 22) of cube read back");
    t2g_error err = {0};
    check_true(ctx, cube && t2g_safetensors_read_f32(st, cube, part, 5, &err) == T2G_ERR_ARGUMENT &&
                        strstr(err.message, "42 elements") && strstr(err.message, "holds 5") && strstr(err.message, "cube"),
               "a buffer of the wrong count is refused naming both counts: %s", err.message);
    check_true(ctx, cube && t2g_safetensors_read_range(st, cube, 40, 5, part, &err) == T2G_ERR_ARGUMENT,
               "a range past the end is refused: %s", err.message);
    check_true(ctx, t2g_safetensors_find(st, "nothing") == NULL, "an absent name is not found");
    t2g_safetensors_close(st);

    /* the layout: header length, padding to 8 with spaces, the data right after */
    FILE *f = fopen(path, "rb");
    unsigned char prefix[8] = {0};
    bool read = f && fread(prefix, 1, 8, f) == 8;
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | prefix[i];
    char *header = check_host(ctx, n + 1);
    read = read && fread(header, 1, n, f) == n;
    header[n] = 0;
    if (f) fclose(f);
    check_true(ctx, read && n % 8 == 0 && header[0] == '{' && strstr(header, "\"__metadata__\":{\"format\":\"pt\"}") &&
                        strstr(header, "\"a.weight\":{\"dtype\":\"F32\",\"shape\":[5,3],\"data_offsets\":[0,60]}"),
               "the header is %llu bytes (a multiple of 8), metadata first, offsets from the data's start", (unsigned long long)n);
    remove_scratch(dir, (const char *[]){"t.safetensors"}, 1);
    return ctx->failures;
}

/* ---- broken files ---- */

typedef struct broken_case {
    const char *what;
    uint64_t declared;   /* the header length written; ~0 = the header's */
    const char *header;
    size_t data_bytes;
    const char *expect[3]; /* substrings of the message (besides the path) */
    const char *read;      /* tensor to read after a successful open, which must fail; NULL: open must fail */
} broken_case;

T2G_HOST_CHECK(safetensors_errors) {
    check_case_begin(ctx);
    char dir[512], path[600];
    if (!scratch_dir(ctx, dir, sizeof dir)) return ctx->failures;
    snprintf(path, sizeof path, "%s/bad.safetensors", dir);
    static const broken_case cases[] = {
        {"header longer than the file", 1000, "{}", 0, {"header length 1000", "longer than the file"}, NULL},
        {"an empty header", ~0ull, "", 0, {"not JSON"}, NULL},
        {"not JSON", ~0ull, "{\"a\":", 0, {"not JSON"}, NULL},
        {"JSON but not an object", ~0ull, "[1, 2]", 0, {"not a JSON object"}, NULL},
        {"two JSON values", ~0ull, "{} {}", 0, {"more than one JSON value"}, NULL},
        {"offsets past the end", ~0ull, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4,
         {"tensor w", "outside the data", "4 bytes"}, NULL},
        {"end before begin", ~0ull, "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}", 8,
         {"tensor w", "outside the data"}, NULL},
        {"overlapping tensors", ~0ull,
         "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[4,12]}}",
         12, {"tensors a [0, 8] and b [4, 12] overlap"}, NULL},
        {"one tensor inside another", ~0ull,
         "{\"a\":{\"dtype\":\"U8\",\"shape\":[16],\"data_offsets\":[0,16]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
         16, {"a [0, 16] and b [4, 8] overlap"}, NULL},
        {"shape x dtype != bytes", ~0ull, "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8,
         {"tensor w", "hold 8 bytes", "need 12"}, NULL},
        {"unknown dtype", ~0ull, "{\"w\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
         {"tensor w", "unknown dtype \"F33\""}, NULL},
        {"a listed dtype t2g does not read", ~0ull, "{\"ids\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}",
         16, {"tensor ids", "dtype I64", "F32, F16 and BF16"}, "ids"},
        {"the same name twice", ~0ull,
         "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
         8, {"tensor w appears twice"}, NULL},
        {"a shape that overflows", ~0ull,
         "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,0]}}", 0,
         {"tensor w", "overflows"}, NULL},
        {"a fractional offset", ~0ull, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0.5,4]}}", 4,
         {"tensor w", "whole bytes"}, NULL},
        {"a negative size", ~0ull, "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4,
         {"tensor w", "shape entry 0"}, NULL},
        {"an unknown key", ~0ull, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"strides\":[1]}}", 4,
         {"tensor w", "unknown key \"strides\""}, NULL},
        {"an entry that is no object", ~0ull, "{\"w\":[1]}", 0, {"tensor w", "not a JSON object"}, NULL},
        {"metadata of a number", ~0ull, "{\"__metadata__\":{\"format\":1}}", 0, {"\"__metadata__\" key \"format\""}, NULL},
        {"a rank past the limit", ~0ull, "{\"w\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 1,
         {"tensor w", "at most 8"}, NULL},
    };
    size_t n = sizeof cases / sizeof cases[0];
    for (size_t i = 0; i < n; i++) {
        const broken_case *c = &cases[i];
        if (!check_true(ctx, write_raw(path, c->declared, c->header, c->data_bytes), "writing case %zu", i)) continue;
        t2g_error err = {0};
        t2g_safetensors *st = NULL;
        t2g_status status = t2g_safetensors_open(path, &st, &err);
        if (c->read && status == T2G_OK) {
            const t2g_safetensors_tensor *t = t2g_safetensors_find(st, c->read);
            float out[16];
            status = t ? t2g_safetensors_read_f32(st, t, out, t->elements, &err) : T2G_ERR_ARGUMENT;
            t2g_safetensors_close(st);
            st = NULL;
        }
        bool named = status != T2G_OK && st == NULL && strstr(err.message, path);
        for (int k = 0; k < 3 && c->expect[k]; k++) named = named && strstr(err.message, c->expect[k]);
        check_true(ctx, named, "%s: refused with a message naming it: %s", c->what, err.message);
    }

    /* shorter than the header length itself */
    FILE *f = fopen(path, "wb");
    bool short_file = f && fwrite("\x02\0\0", 1, 3, f) == 3;
    if (f) short_file = fclose(f) == 0 && short_file;
    t2g_safetensors *st = NULL;
    t2g_error err = {0};
    check_true(ctx, short_file && t2g_safetensors_open(path, &st, &err) == T2G_ERR_FORMAT && strstr(err.message, "3 bytes: too short"),
               "a 3-byte file: %s", err.message);

    /* a file truncated after it was written: its last tensor now ends past the data */
    t2g_safetensors_entry e = {.name = "w", .rank = 1, .shape = {100}, .data = check_random_floats(ctx, 100, -1, 1)};
    bool written = check_status(ctx, t2g_safetensors_write(path, &e, 1, &ctx->err), "writing") &&
                   truncate(path, file_size(path) - 1) == 0;
    check_true(ctx, written && t2g_safetensors_open(path, &st, &err) == T2G_ERR_FORMAT && strstr(err.message, "tensor w") &&
                        strstr(err.message, "outside the data"),
               "a truncated file is refused naming the tensor cut off: %s", err.message);
    /* a header length over the cap, in a (sparse) file long enough to hold it */
    written = write_raw(path, T2G_SAFETENSORS_HEADER_MAX + 1ull, "{}", 0) && truncate(path, T2G_SAFETENSORS_HEADER_MAX + 64ll) == 0;
    check_true(ctx, written && t2g_safetensors_open(path, &st, &err) == T2G_ERR_TOO_LARGE &&
                        strstr(err.message, "more than the 100000000 bytes allowed"),
               "a header over the cap is refused before it is read: %s", err.message);
    snprintf(path, sizeof path, "%s/absent.safetensors", dir);
    check_true(ctx, t2g_safetensors_open(path, &st, &err) == T2G_ERR_IO && strstr(err.message, path),
               "an absent file: %s", err.message);
    remove_scratch(dir, (const char *[]){"bad.safetensors"}, 1);
    return ctx->failures;
}
