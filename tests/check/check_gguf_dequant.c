/* The GGUF dequantizers against a double reference written here from the block formats, one
 * element at a time (where the library decodes whole blocks): random blocks with scales drawn
 * from every f16 range (zero, subnormal, the largest, negative). Where the format is a scale
 * times a small integer the f32 result is exact, so it must equal the reference; where a min
 * or an offset is added (Q4_1, Q5_1, Q4_K, Q5_K) once, it must be the reference rounded to
 * f32: within half an ulp. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "t2g/gguf.h"

/* An f16 bit pattern's value: sign, 5-bit exponent (bias 15; 31: infinity or NaN), 10-bit
 * fraction. */
static double half(const uint8_t *p) {
    unsigned bits = p[0] | p[1] << 8u;
    double fraction = (bits & 0x3ff) / 1024.0;
    int exponent = (bits >> 10) & 0x1f;
    double magnitude = exponent == 31  ? (fraction > 0 ? NAN : INFINITY)
                       : exponent == 0 ? ldexp(fraction, -14)
                                       : ldexp(1.0 + fraction, exponent - 15);
    return bits & 0x8000 ? -magnitude : magnitude;
}

/* Bit `k` of the little-endian bit string at p. */
static unsigned bit(const uint8_t *p, unsigned k) { return (p[k / 8] >> (k % 8)) & 1u; }

/* The 4-bit value of element e (0..31) of a 32-element block's 16 nibble bytes: bytes hold
 * elements e and e + 16. */
static unsigned nibble32(const uint8_t *qs, unsigned e) { return e < 16 ? qs[e] & 15u : qs[e - 16] >> 4; }

/* The K quants' sub-block s (0..7) 6-bit scale and min from the 12 bytes: the first four of
 * each in bytes 0..3 / 4..7 (low 6 bits); the last four split between the nibbles of bytes
 * 8..11 (low bits) and the top two bits of bytes 0..3 / 4..7 (high bits). */
static void k_scales(const uint8_t *s, unsigned sub, double *scale, double *min) {
    if (sub < 4) {
        *scale = s[sub] % 64;
        *min = s[sub + 4] % 64;
    } else {
        *scale = (s[sub + 4] % 16) + 16 * (s[sub - 4] / 64);
        *min = (s[sub + 4] / 16) + 16 * (s[sub] / 64);
    }
}

/* The K quants' 4-bit value of element e (0..255): 64-element groups each take 32 bytes, low
 * nibbles first. */
static unsigned nibble256(const uint8_t *qs, unsigned e) {
    unsigned group = e / 64, within = e % 64;
    uint8_t byte = qs[32 * group + within % 32];
    return within < 32 ? byte & 15u : byte >> 4;
}

/* Element e of one block of `type`. */
static double reference(uint32_t type, const uint8_t *b, unsigned e) {
    double scale, min;
    switch (type) {
    case T2G_GGUF_TYPE_Q8_0: return half(b) * (int8_t)b[2 + e];
    case T2G_GGUF_TYPE_Q4_0: return half(b) * ((int)nibble32(b + 2, e) - 8);
    case T2G_GGUF_TYPE_Q4_1: return half(b) * nibble32(b + 4, e) + half(b + 2);
    case T2G_GGUF_TYPE_Q5_0: return half(b) * ((int)(nibble32(b + 6, e) + 16 * bit(b + 2, e)) - 16);
    case T2G_GGUF_TYPE_Q5_1: return half(b) * (nibble32(b + 8, e) + 16 * bit(b + 4, e)) + half(b + 2);
    case T2G_GGUF_TYPE_Q4_K:
        k_scales(b + 4, e / 32, &scale, &min);
        return half(b) * scale * nibble256(b + 16, e) - half(b + 2) * min;
    case T2G_GGUF_TYPE_Q5_K:
        k_scales(b + 4, e / 32, &scale, &min);
        /* the fifth bit: bit (e / 32) of byte e % 32 of the 32 qh bytes */
        return half(b) * scale * (nibble256(b + 48, e) + 16 * bit(b + 16, 8 * (e % 32) + e / 32)) - half(b + 2) * min;
    case T2G_GGUF_TYPE_Q6_K: {
        /* element e = 128 h + 32 k + l: low nibble bytes ql[64 h + l + 32 (k odd)] (high nibble
         * for k >= 2), two high bits 2k, 2k+1 of qh[32 h + l], scale e / 16 */
        unsigned h = e / 128, k = (e % 128) / 32, l = e % 32;
        uint8_t low_byte = b[64 * h + l + (k % 2 ? 32 : 0)];
        unsigned low = k >= 2 ? low_byte >> 4 : low_byte & 15u;
        unsigned high = (b[128 + 32 * h + l] >> (2 * k)) & 3u;
        return half(b + 208) * (int8_t)b[192 + e / 16] * ((int)(low + 16 * high) - 32);
    }
    case T2G_GGUF_TYPE_F16: return half(b);
    case T2G_GGUF_TYPE_BF16: {
        uint32_t bits = (uint32_t)(b[0] | b[1] << 8) << 16;
        float f;
        memcpy(&f, &bits, sizeof f);
        return f;
    }
    default: { /* F32 */
        uint32_t bits = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
        float f;
        memcpy(&f, &bits, sizeof f);
        return f;
    }
    }
}

/* Where a block's f16 fields are (byte offsets; -1 ends). */
static void f16_fields(uint32_t type, int fields[3]) {
    fields[0] = type == T2G_GGUF_TYPE_Q6_K ? 208 : 0;
    fields[1] = type == T2G_GGUF_TYPE_Q4_1 || type == T2G_GGUF_TYPE_Q5_1 || type == T2G_GGUF_TYPE_Q4_K ||
                        type == T2G_GGUF_TYPE_Q5_K ? 2 : -1;
    fields[2] = -1;
}

/* A finite f16 from every range: zero, subnormal, the smallest normal, the largest, any. */
static uint16_t random_scale(check_ctx *ctx) {
    static const uint16_t extremes[] = {0x0000, 0x8000, 0x0001, 0x03ff, 0x0400, 0x7bff, 0xfbff, 0x3c00};
    uint32_t pick = check_random_below(ctx, 16);
    if (pick < 8) return extremes[pick];
    uint16_t bits;
    do bits = (uint16_t)check_random_u64(ctx);
    while (((bits >> 10) & 0x1f) == 0x1f);
    return bits;
}

/* The distance from `got` to the reference in units of the f32 spacing at the reference. */
static double ulps(float got, double want) {
    if ((double)got == want) return 0;
    float near = (float)want;
    double spacing = (double)nextafterf(fabsf(near), INFINITY) - fabsf(near);
    return fabs((double)got - want) / spacing;
}

T2G_HOST_CHECK(gguf_dequantize) {
    static const uint32_t types[] = {T2G_GGUF_TYPE_F32,  T2G_GGUF_TYPE_F16,  T2G_GGUF_TYPE_BF16, T2G_GGUF_TYPE_Q8_0,
                                     T2G_GGUF_TYPE_Q4_0, T2G_GGUF_TYPE_Q4_1, T2G_GGUF_TYPE_Q5_0, T2G_GGUF_TYPE_Q5_1,
                                     T2G_GGUF_TYPE_Q4_K, T2G_GGUF_TYPE_Q5_K, T2G_GGUF_TYPE_Q6_K};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        check_case_begin(ctx);
        uint32_t type = types[t], block_elements = 0, block_bytes = 0;
        check_true(ctx, t2g_gguf_type_block(type, &block_elements, &block_bytes) && t2g_gguf_type_readable(type),
                   "type %u in the table", type);
        const size_t blocks = block_elements == 1 ? 4096 : 400;
        uint8_t *data = check_host(ctx, blocks * block_bytes);
        for (size_t i = 0; i < blocks * block_bytes; i++) data[i] = (uint8_t)check_random_u64(ctx);
        int fields[3];
        f16_fields(type, fields);
        for (size_t k = 0; block_elements > 1 && k < blocks; k++)
            for (int f = 0; fields[f] >= 0; f++) {
                uint16_t s = random_scale(ctx);
                data[k * block_bytes + fields[f]] = (uint8_t)s, data[k * block_bytes + fields[f] + 1] = (uint8_t)(s >> 8);
            }
        size_t n = blocks * block_elements;
        float *out = check_host(ctx, n * sizeof *out);
        for (size_t i = 0; i < n; i++) out[i] = NAN;
        if (!check_status(ctx, t2g_gguf_dequantize(type, data, n, out, &ctx->err), "dequantize")) continue;
        bool rounded = type == T2G_GGUF_TYPE_Q4_1 || type == T2G_GGUF_TYPE_Q5_1 || type == T2G_GGUF_TYPE_Q4_K ||
                       type == T2G_GGUF_TYPE_Q5_K;
        double worst = 0;
        size_t bad = 0;
        for (size_t i = 0; i < n; i++) {
            double want = reference(type, data + i / block_elements * block_bytes, (unsigned)(i % block_elements));
            bool nan = isnan(want) || isnan(out[i]);
            double error = nan ? (isnan(want) && isnan(out[i]) ? 0 : INFINITY) : ulps(out[i], want);
            if (error > worst) worst = error;
            if (rounded ? error > 0.5 + 1e-9 : error != 0) bad++;
        }
        check_true(ctx, bad == 0, "%s: %zu of %zu elements off the reference (worst %.3g ulp)", t2g_gguf_type_name(type),
                   bad, n, worst);
        check_log(ctx, "%s: %zu elements, worst %.3g ulp from the double reference", t2g_gguf_type_name(type), n, worst);
    }
    /* misuse: a type not read, a partial block */
    float out[32];
    uint8_t zeros[64] = {0};
    check_true(ctx, t2g_gguf_dequantize(10, zeros, 256, out, &ctx->err) == T2G_ERR_UNSUPPORTED &&
                        strstr(ctx->err.message, "Q2_K") && strstr(ctx->err.message, "Q6_K"), "Q2_K refused: %s",
               ctx->err.message);
    check_true(ctx, t2g_gguf_dequantize(T2G_GGUF_TYPE_Q8_0, zeros, 31, out, &ctx->err) == T2G_ERR_ARGUMENT,
               "a partial block refused: %s", ctx->err.message);
    check_true(ctx, !t2g_gguf_type_name(4) && !t2g_gguf_type_block(4, NULL, NULL) && !t2g_gguf_type_readable(99) &&
                        strcmp(t2g_gguf_type_name(30), "BF16") == 0, "unknown types");
    return ctx->failures;
}
