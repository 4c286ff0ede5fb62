/* The element types' table (t2g/dtype.h). */
#include <string.h>

#include "t2g/dtype.h"

static const struct {
    const char *name;
    uint32_t bytes;
} dtypes[T2G_DTYPE_COUNT] = {
    [T2G_DTYPE_F32] = {"f32", 4}, [T2G_DTYPE_F16] = {"f16", 2}, [T2G_DTYPE_BF16] = {"bf16", 2}, [T2G_DTYPE_U32] = {"u32", 4},
};

const char *t2g_dtype_name(t2g_dtype dtype) { return (unsigned)dtype < T2G_DTYPE_COUNT ? dtypes[dtype].name : "unknown"; }
uint32_t t2g_dtype_bytes(t2g_dtype dtype) { return (unsigned)dtype < T2G_DTYPE_COUNT ? dtypes[dtype].bytes : 0; }

/* ---- f16 and bf16 (bit manipulation on the IEEE layouts; tests check every 16-bit pattern) ---- */

/* f16: 1 sign, 5 exponent (bias 15), 10 mantissa bits; f32: 1, 8 (bias 127), 23. */
float t2g_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exponent = (h >> 10) & 0x1Fu, mantissa = h & 0x3FFu;
    if (exponent == 0x1Fu) return t2g_f32_from_bits(sign | 0x7F800000u | (mantissa << 13)); /* inf, NaN */
    if (exponent) return t2g_f32_from_bits(sign | ((exponent + 112u) << 23) | (mantissa << 13));
    if (!mantissa) return t2g_f32_from_bits(sign); /* +-0 */
    /* a subnormal, mantissa x 2^-24: shift its leading one up to the implicit bit */
    uint32_t f32_exponent = 113u;
    while (!(mantissa & 0x400u)) {
        mantissa <<= 1;
        f32_exponent--;
    }
    return t2g_f32_from_bits(sign | (f32_exponent << 23) | ((mantissa & 0x3FFu) << 13));
}

float t2g_bf16_to_f32(uint16_t bits) { return t2g_f32_from_bits((uint32_t)bits << 16); }

/* value >> shift, rounded to the nearest integer, ties to even (1 <= shift <= 31). */
static uint32_t shift_round_even(uint32_t value, uint32_t shift) {
    uint32_t kept = value >> shift, rest = value & ((1u << shift) - 1u), half = 1u << (shift - 1);
    return kept + (rest > half || (rest == half && (kept & 1u)));
}

uint16_t t2g_f32_to_f16(float value) {
    uint32_t bits = t2g_f32_bits(value), sign = (bits >> 16) & 0x8000u, magnitude = bits & 0x7FFFFFFFu;
    if (magnitude > 0x7F800000u) return (uint16_t)(sign | 0x7E00u | ((magnitude >> 13) & 0x3FFu)); /* NaN, quiet */
    if (magnitude >= 0x477FF000u) return (uint16_t)(sign | 0x7C00u); /* >= 65520 (halfway to 2^16): inf */
    if (magnitude >= 0x38800000u) /* normal in f16 (>= 2^-14): rebias, round the 13 dropped bits */
        return (uint16_t)(sign | shift_round_even(magnitude - 0x38000000u, 13));
    uint32_t exponent = magnitude >> 23;
    if (exponent < 102u) return (uint16_t)sign; /* below 2^-25: rounds to zero */
    /* a subnormal in units of 2^-24: the 24-bit mantissa times 2^(exponent - 126) */
    return (uint16_t)(sign | shift_round_even((magnitude & 0x7FFFFFu) | 0x800000u, 126u - exponent));
}

uint16_t t2g_f32_to_bf16(float value) {
    uint32_t bits = t2g_f32_bits(value);
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((bits >> 16) | 0x0040u); /* NaN, quiet */
    return (uint16_t)shift_round_even(bits, 16); /* a carry goes into the exponent, up to inf */
}
