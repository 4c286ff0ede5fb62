/* GGUF tensor types: one table of ggml's type numbers, names and block layouts, and the block
 * dequantizers of the types t2g reads. The arithmetic follows ggml's reference dequantizers in
 * f32 (a scale times a small integer is exact in f32; a min or an offset is added once), so a
 * block gives the same floats on every host and as the `gguf` Python package. A product and the
 * min added to it are separate statements, which no compiler may fuse into one multiply-add in
 * ISO C (that would round once instead of twice). The layouts are from ggml's documentation of
 * each block (little-endian; f16 scales). */
#include <stdio.h>
#include <string.h>

#include "t2g/dtype.h"
#include "t2g/gguf.h"

typedef void (*block_decoder)(const uint8_t *block, float *out);

static float f16_at(const uint8_t *p) { return t2g_f16_to_f32((uint16_t)(p[0] | p[1] << 8)); }

/* ---- one element per block ---- */

static void decode_f32(const uint8_t *b, float *out) {
    uint32_t bits = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    memcpy(out, &bits, sizeof *out);
}

static void decode_f16(const uint8_t *b, float *out) { *out = f16_at(b); }

static void decode_bf16(const uint8_t *b, float *out) { *out = t2g_bf16_to_f32((uint16_t)(b[0] | b[1] << 8)); }

/* ---- 32 elements per block: d (f16) [, m (f16)] [, 32 high bits] then 16 bytes of nibbles;
 * byte j holds element j (low nibble) and element j + 16 (high nibble) ---- */

/* Q4_0 (18 bytes): x = d * (q - 8) */
static void decode_q4_0(const uint8_t *b, float *out) {
    float d = f16_at(b);
    const uint8_t *qs = b + 2;
    for (int j = 0; j < 16; j++) {
        out[j] = d * (float)((qs[j] & 15) - 8);
        out[j + 16] = d * (float)((qs[j] >> 4) - 8);
    }
}

/* Q4_1 (20 bytes): x = d * q + m */
static void decode_q4_1(const uint8_t *b, float *out) {
    float d = f16_at(b), m = f16_at(b + 2);
    const uint8_t *qs = b + 4;
    for (int j = 0; j < 16; j++) {
        float low = d * (float)(qs[j] & 15), high = d * (float)(qs[j] >> 4);
        out[j] = low + m;
        out[j + 16] = high + m;
    }
}

/* The fifth bit of element j of a Q5 block: bit j of the u32 qh. */
static int fifth_bit(uint32_t qh, int j) { return (int)((qh >> j) & 1u) << 4; }

static uint32_t u32_at(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Q5_0 (22 bytes): x = d * (q - 16), q 5 bits */
static void decode_q5_0(const uint8_t *b, float *out) {
    float d = f16_at(b);
    uint32_t qh = u32_at(b + 2);
    const uint8_t *qs = b + 6;
    for (int j = 0; j < 16; j++) {
        out[j] = d * (float)(((qs[j] & 15) | fifth_bit(qh, j)) - 16);
        out[j + 16] = d * (float)(((qs[j] >> 4) | fifth_bit(qh, j + 16)) - 16);
    }
}

/* Q5_1 (24 bytes): x = d * q + m, q 5 bits */
static void decode_q5_1(const uint8_t *b, float *out) {
    float d = f16_at(b), m = f16_at(b + 2);
    uint32_t qh = u32_at(b + 4);
    const uint8_t *qs = b + 8;
    for (int j = 0; j < 16; j++) {
        float low = d * (float)((qs[j] & 15) | fifth_bit(qh, j)), high = d * (float)((qs[j] >> 4) | fifth_bit(qh, j + 16));
        out[j] = low + m;
        out[j + 16] = high + m;
    }
}

/* Q8_0 (34 bytes): x = q * d, q a signed byte */
static void decode_q8_0(const uint8_t *b, float *out) {
    float d = f16_at(b);
    for (int j = 0; j < 32; j++) out[j] = (float)(int8_t)b[2 + j] * d;
}

/* ---- 256 elements per block (the K quants), in sub-blocks ---- */

/* The 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K block from its 12 scale bytes:
 * sub-blocks 0..3 in the low 6 bits of bytes j and j + 4; 4..7 in the nibbles of byte j + 4 with
 * their top 2 bits in the top 2 bits of bytes j - 4 and j. */
static void k_scale_min(const uint8_t *s, int j, float *scale, float *min) {
    if (j < 4) {
        *scale = (float)(s[j] & 63);
        *min = (float)(s[j + 4] & 63);
    } else {
        *scale = (float)((s[j + 4] & 15) | (s[j - 4] >> 6) << 4);
        *min = (float)((s[j + 4] >> 4) | (s[j] >> 6) << 4);
    }
}

/* Q4_K (144 bytes): d, dmin (f16), 12 scale bytes, 128 bytes of nibbles; 8 sub-blocks of 32:
 * sub-block j takes the low (j even) or high (j odd) nibbles of bytes 32 (j / 2) .. + 31;
 * x = (d * scale_j) * q - (dmin * min_j). Q5_K (176 bytes) has 32 bytes qh before the nibbles:
 * bit j of qh[l] is the fifth bit of element l of sub-block j. qh NULL: Q4_K. */
static void decode_k_nibbles(const uint8_t *b, const uint8_t *qh, const uint8_t *qs, float *out) {
    float d = f16_at(b), dmin = f16_at(b + 2);
    const uint8_t *scales = b + 4;
    for (int j = 0; j < 8; j++) {
        float scale, min;
        k_scale_min(scales, j, &scale, &min);
        float step = d * scale, offset = dmin * min;
        const uint8_t *q = qs + 32 * (j / 2);
        int shift = 4 * (j % 2);
        for (int l = 0; l < 32; l++) {
            uint32_t high = qh ? ((qh[l] >> j) & 1u) << 4 : 0u;
            float scaled = step * (float)(((q[l] >> shift) & 15u) | high);
            out[32 * j + l] = scaled - offset;
        }
    }
}

static void decode_q4_k(const uint8_t *b, float *out) { decode_k_nibbles(b, NULL, b + 16, out); }

static void decode_q5_k(const uint8_t *b, float *out) { decode_k_nibbles(b, b + 16, b + 48, out); }

/* Q6_K (210 bytes): 128 bytes ql (low 4 bits), 64 bytes qh (high 2 bits), 16 signed scales,
 * d (f16). Two halves of 128 elements; in half h, element 32 k + l (k 0..3, l 0..31) takes the
 * low (k < 2) or high nibble of ql[64 h + l + 32 (k % 2)], bits 2k, 2k+1 of qh[32 h + l] and
 * scale 8 h + l / 16 + 2 k; x = (d * scale) * (q - 32). */
static void decode_q6_k(const uint8_t *b, float *out) {
    const uint8_t *ql = b, *qh = b + 128;
    const int8_t *scales = (const int8_t *)(b + 192);
    float d = f16_at(b + 208);
    for (int h = 0; h < 2; h++)
        for (int k = 0; k < 4; k++)
            for (int l = 0; l < 32; l++) {
                int low = (ql[64 * h + l + 32 * (k % 2)] >> (4 * (k / 2))) & 15;
                int high = (qh[32 * h + l] >> (2 * k)) & 3;
                float step = d * (float)scales[8 * h + l / 16 + 2 * k];
                out[128 * h + 32 * k + l] = step * (float)((low | high << 4) - 32);
            }
}

/* ---- the table: every ggml type number known (its layout), with a decoder where t2g reads it ---- */

static const struct gguf_type_entry {
    uint32_t number;
    const char *name;
    uint32_t block_elements, block_bytes;
    block_decoder decode; /* NULL: known, not read */
} gguf_types[] = {
    {0, "F32", 1, 4, decode_f32},          {1, "F16", 1, 2, decode_f16},
    {2, "Q4_0", 32, 18, decode_q4_0},      {3, "Q4_1", 32, 20, decode_q4_1},
    {6, "Q5_0", 32, 22, decode_q5_0},      {7, "Q5_1", 32, 24, decode_q5_1},
    {8, "Q8_0", 32, 34, decode_q8_0},      {9, "Q8_1", 32, 40, NULL},
    {10, "Q2_K", 256, 84, NULL},           {11, "Q3_K", 256, 110, NULL},
    {12, "Q4_K", 256, 144, decode_q4_k},   {13, "Q5_K", 256, 176, decode_q5_k},
    {14, "Q6_K", 256, 210, decode_q6_k},   {15, "Q8_K", 256, 292, NULL},
    {16, "IQ2_XXS", 256, 66, NULL},        {17, "IQ2_XS", 256, 74, NULL},
    {18, "IQ3_XXS", 256, 98, NULL},        {19, "IQ1_S", 256, 50, NULL},
    {20, "IQ4_NL", 32, 18, NULL},          {21, "IQ3_S", 256, 110, NULL},
    {22, "IQ2_S", 256, 82, NULL},          {23, "IQ4_XS", 256, 136, NULL},
    {24, "I8", 1, 1, NULL},                {25, "I16", 1, 2, NULL},
    {26, "I32", 1, 4, NULL},               {27, "I64", 1, 8, NULL},
    {28, "F64", 1, 8, NULL},               {29, "IQ1_M", 256, 56, NULL},
    {30, "BF16", 1, 2, decode_bf16},       {34, "TQ1_0", 256, 54, NULL},
    {35, "TQ2_0", 256, 66, NULL},          {39, "MXFP4", 32, 17, NULL},
};

static const struct gguf_type_entry *type_entry(uint32_t type) {
    for (size_t i = 0; i < sizeof gguf_types / sizeof gguf_types[0]; i++)
        if (gguf_types[i].number == type) return &gguf_types[i];
    return NULL;
}

const char *t2g_gguf_type_name(uint32_t type) {
    const struct gguf_type_entry *e = type_entry(type);
    return e ? e->name : NULL;
}

bool t2g_gguf_type_block(uint32_t type, uint32_t *block_elements, uint32_t *block_bytes) {
    const struct gguf_type_entry *e = type_entry(type);
    if (!e) return false;
    if (block_elements) *block_elements = e->block_elements;
    if (block_bytes) *block_bytes = e->block_bytes;
    return true;
}

bool t2g_gguf_type_readable(uint32_t type) {
    const struct gguf_type_entry *e = type_entry(type);
    return e && e->decode;
}

/* "F32, F16, ..." : the types t2g reads, for messages. */
static void readable_list(char *out, size_t size) {
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof gguf_types / sizeof gguf_types[0] && used < size; i++)
        if (gguf_types[i].decode)
            used += (size_t)snprintf(out + used, size - used, "%s%s", used ? ", " : "", gguf_types[i].name);
}

t2g_status t2g_gguf_dequantize(uint32_t type, const void *blocks, size_t elements, float *out, t2g_error *err) {
    const struct gguf_type_entry *e = type_entry(type);
    if (!e || !e->decode) {
        char list[160];
        readable_list(list, sizeof list);
        return t2g_fail(err, T2G_ERR_UNSUPPORTED, "GGUF tensor type %u (%s) cannot be read by t2g (it reads %s)", type,
                        e ? e->name : "unknown", list);
    }
    if (elements % e->block_elements)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%zu elements of %s are not whole blocks of %u", elements, e->name,
                        e->block_elements);
    const uint8_t *block = blocks;
    for (size_t done = 0; done < elements; done += e->block_elements, block += e->block_bytes)
        e->decode(block, out + done);
    return T2G_OK;
}
