/* Element types of tensors and of the files t2g reads and writes. f32 is the type every kernel
 * computes in; f16 and bf16 are storage types: weights stored in them (safetensors, GGUF) are
 * converted to f32 on load, and train.precision's 16-bit tensors hold them. u32 holds token ids
 * and targets. */
#ifndef T2G_DTYPE_H
#define T2G_DTYPE_H

#include <stdint.h>
#include <string.h>

/* The bit pattern of an f32, and the f32 of a bit pattern. */
static inline uint32_t t2g_f32_bits(float value) {
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    return bits;
}
static inline float t2g_f32_from_bits(uint32_t bits) {
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

typedef enum t2g_dtype { T2G_DTYPE_F32 = 0, T2G_DTYPE_F16, T2G_DTYPE_BF16, T2G_DTYPE_U32, T2G_DTYPE_COUNT } t2g_dtype;

/* "f32", "f16", "bf16", "u32"; "unknown" past the table. */
const char *t2g_dtype_name(t2g_dtype dtype);
/* Bytes of one element (0 past the table). */
uint32_t t2g_dtype_bytes(t2g_dtype dtype);

/* IEEE binary16 (f16) and bfloat16 (bf16) bit patterns to and from f32. Widening is exact for
 * every pattern (f16 subnormals included; infinities kept; a NaN stays a NaN with its payload's
 * top bits). Narrowing rounds to the nearest value, ties to even; a value past the largest
 * finite one (f16: 65504) becomes an infinity of its sign; a NaN stays a (quiet) NaN. */
float t2g_f16_to_f32(uint16_t bits);
float t2g_bf16_to_f32(uint16_t bits);
uint16_t t2g_f32_to_f16(float value);
uint16_t t2g_f32_to_bf16(float value);

#endif
