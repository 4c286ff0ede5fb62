// 16-bit storage of float data, chosen when a shader is compiled (shaders/variants.txt). A
// shader has up to three roles whose buffers may hold 16-bit elements: A and B (a GEMM's
// operands) and ACT (an activation a kernel writes or reads). Compiled with ROLE_BF16 or
// ROLE_F16 defined, the role's elements are bf16 or f16; otherwise f32. Declare the buffer with
// ROLE_T elements, read with ROLE_LOAD(x) (a float), write with ROLE_STORE(value):
//   layout(...) buffer Out { ACT_T out_values[]; };  out_values[i] = ACT_STORE(v);
// Arithmetic stays in f32 (every reduction included); only the stored values are 16-bit.
//   bf16: the high half of an f32, rounded to nearest, ties to even (as t2g_f32_to_bf16 on the
//         host: a NaN stays a NaN, quieted; overflow rounds to infinity).
//   f16:  the device's conversion (round to nearest even, or toward zero where a device does
//         that: either is within one f16 unit in the last place).
// Include this file right after #version, before common.glsl: it may enable extensions.
#if defined(A_BF16) || defined(B_BF16) || defined(ACT_BF16)
#extension GL_EXT_shader_16bit_storage : require
#define T2G_HAS_BF16 1
#endif
#if defined(A_F16) || defined(B_F16) || defined(ACT_F16)
#extension GL_EXT_shader_16bit_storage : require
#endif

#ifdef T2G_HAS_BF16
// 16-bit values pass through 32-bit ones at once, so only 16-bit storage is needed (no 16-bit
// integer arithmetic).
float bf16_bits_to_float(uint bits) { return uintBitsToFloat(bits << 16); }

uint float_to_bf16_bits(float value) {
    uint bits = floatBitsToUint(value);
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return (bits >> 16) | 0x0040u; // NaN, quieted
    return (bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16;
}
#endif

#if defined(A_BF16)
#define A_T uint16_t
#define A_LOAD(x) bf16_bits_to_float(uint(x))
#define A_STORE(v) uint16_t(float_to_bf16_bits(v))
#elif defined(A_F16)
#define A_T float16_t
#define A_LOAD(x) float(x)
#define A_STORE(v) float16_t(v)
#else
#define A_T float
#define A_LOAD(x) (x)
#define A_STORE(v) (v)
#endif

#if defined(B_BF16)
#define B_T uint16_t
#define B_LOAD(x) bf16_bits_to_float(uint(x))
#define B_STORE(v) uint16_t(float_to_bf16_bits(v))
#elif defined(B_F16)
#define B_T float16_t
#define B_LOAD(x) float(x)
#define B_STORE(v) float16_t(v)
#else
#define B_T float
#define B_LOAD(x) (x)
#define B_STORE(v) (v)
#endif

#if defined(ACT_BF16)
#define ACT_T uint16_t
#define ACT_LOAD(x) bf16_bits_to_float(uint(x))
#define ACT_STORE(v) uint16_t(float_to_bf16_bits(v))
#elif defined(ACT_F16)
#define ACT_T float16_t
#define ACT_LOAD(x) float(x)
#define ACT_STORE(v) float16_t(v)
#else
#define ACT_T float
#define ACT_LOAD(x) (x)
#define ACT_STORE(v) (v)
#endif

// Quads: four consecutive elements of a role as one texel of a uniform texel buffer (the host's
// t2g_texel formats: RGBA32F for f32, RG32UI for bf16, two values a uint, low half first, and
// RGBA16F for f16, widened by the fetch). Declare `layout(binding = N) uniform ROLE4_SAMPLER
// name;` and read a quad as a vec4 with ROLE4_LOAD(texelFetch(name, index)).
#ifdef T2G_HAS_BF16
vec4 bf16x4_to_vec4(uvec2 q) {
    return vec4(bf16_bits_to_float(q.x & 0xFFFFu), bf16_bits_to_float(q.x >> 16), bf16_bits_to_float(q.y & 0xFFFFu),
                bf16_bits_to_float(q.y >> 16));
}
#endif
#if defined(A_BF16)
#define A4_SAMPLER usamplerBuffer
#define A4_LOAD(x) bf16x4_to_vec4((x).xy)
#else
#define A4_SAMPLER samplerBuffer
#define A4_LOAD(x) (x)
#endif
#if defined(B_BF16)
#define B4_SAMPLER usamplerBuffer
#define B4_LOAD(x) bf16x4_to_vec4((x).xy)
#else
#define B4_SAMPLER samplerBuffer
#define B4_LOAD(x) (x)
#endif
#if defined(ACT_BF16)
#define ACT4_SAMPLER usamplerBuffer
#define ACT4_LOAD(x) bf16x4_to_vec4((x).xy)
#else
#define ACT4_SAMPLER samplerBuffer
#define ACT4_LOAD(x) (x)
#endif
