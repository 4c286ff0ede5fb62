/* The GGUF writer's tensor data (t2g/gguf_write.h): the caller's f32 pieces converted in
 * chunks (F32, F16, BF16) or quantized block by block (Q8_0) and streamed to the file, each
 * tensor padded with zeros to the alignment. */
#include <math.h>
#include <string.h>

#include "io/gguf_write_internal.h"
#include "t2g/dtype.h"

enum { CHUNK_ELEMENTS = 4096 }; /* a multiple of the Q8_0 block */

bool t2g_gguf_q8_0_block(const float *x, unsigned char *out, uint32_t *bad) {
    float amax = 0.0f;
    for (uint32_t j = 0; j < T2G_GGUF_WRITE_Q8_0_BLOCK; j++) {
        if (!isfinite(x[j])) {
            *bad = j;
            return false;
        }
        if (fabsf(x[j]) > amax) amax = fabsf(x[j]);
    }
    /* in f32, as ggml: d = amax / 127, q = round(x * (1 / d)), halves away from zero */
    float d = amax / 127.0f, inverse = d != 0.0f ? 1.0f / d : 0.0f;
    uint16_t d16 = t2g_f32_to_f16(d);
    if ((d16 & 0x7C00u) == 0x7C00u) {
        *bad = 0;
        for (uint32_t j = 1; j < T2G_GGUF_WRITE_Q8_0_BLOCK; j++)
            if (fabsf(x[j]) == amax) *bad = j;
        return false;
    }
    unsigned char *q = t2g_gguf_put_le(out, d16, 2);
    /* where 1/d overflows f32 (max|x| below about 4e-37; ggml's product is then undefined), x / d */
    bool divide = isinf(inverse);
    for (uint32_t j = 0; j < T2G_GGUF_WRITE_Q8_0_BLOCK; j++) {
        float scaled = divide ? x[j] / d : x[j] * inverse; /* |scaled| <= 127 (up to rounding of 1/d) */
        int8_t v = (int8_t)roundf(scaled);
        memcpy(&q[j], &v, 1);
    }
    return true;
}

/* n elements (F32, F16, BF16) into out. */
static void encode_plain(t2g_gguf_write_type type, const float *x, uint64_t n, unsigned char *out) {
    for (uint64_t i = 0; i < n; i++) {
        if (type == T2G_GGUF_WRITE_F32) {
            uint32_t bits;
            memcpy(&bits, &x[i], sizeof bits);
            out = t2g_gguf_put_le(out, bits, 4);
        } else {
            out = t2g_gguf_put_le(out, type == T2G_GGUF_WRITE_F16 ? t2g_f32_to_f16(x[i]) : t2g_f32_to_bf16(x[i]), 2);
        }
    }
}

/* blocks Q8_0 blocks of x, the first of them element `first` of the current tensor, into the file. */
static t2g_status put_q8_0(t2g_gguf_writer *w, const float *x, uint64_t blocks, uint64_t first, t2g_error *err) {
    unsigned char out[CHUNK_ELEMENTS / T2G_GGUF_WRITE_Q8_0_BLOCK * T2G_GGUF_Q8_0_BLOCK_BYTES];
    for (uint64_t i = 0; i < blocks; i++) {
        uint32_t bad = 0;
        if (!t2g_gguf_q8_0_block(x + i * T2G_GGUF_WRITE_Q8_0_BLOCK, out + i * T2G_GGUF_Q8_0_BLOCK_BYTES, &bad)) {
            uint64_t at = first + i * T2G_GGUF_WRITE_Q8_0_BLOCK + bad;
            float v = x[i * T2G_GGUF_WRITE_Q8_0_BLOCK + bad];
            return t2g_gguf_stop(w, err, T2G_ERR_ARGUMENT,
                                 "tensor %s: element %llu is %g, which Q8_0 cannot store (finite values, "
                                 "|x| / 127 within f16's range)",
                                 w->tensors[w->current].name, (unsigned long long)at, (double)v);
        }
    }
    return t2g_gguf_put_bytes(w, out, (size_t)(blocks * T2G_GGUF_Q8_0_BLOCK_BYTES), err);
}

/* n elements of the current tensor (n at most what it lacks). */
static t2g_status put_elements(t2g_gguf_writer *w, const float *x, uint64_t n, t2g_error *err) {
    const t2g_gguf_write_tensor *t = &w->tensors[w->current];
    while (n) {
        t2g_status status = T2G_OK;
        uint64_t used;
        if (t->type != T2G_GGUF_WRITE_Q8_0) {
            unsigned char out[4 * CHUNK_ELEMENTS];
            used = n < CHUNK_ELEMENTS ? n : CHUNK_ELEMENTS;
            encode_plain(t->type, x, used, out);
            status = t2g_gguf_put_bytes(w, out, (size_t)t2g_gguf_write_type_bytes(t->type, used), err);
            w->encoded += used;
        } else if (w->pending_count || n < T2G_GGUF_WRITE_Q8_0_BLOCK) { /* a block split between pieces */
            uint32_t room = T2G_GGUF_WRITE_Q8_0_BLOCK - w->pending_count;
            used = n < room ? n : room;
            memcpy(w->pending + w->pending_count, x, (size_t)used * sizeof *x);
            w->pending_count += (uint32_t)used;
            if (w->pending_count == T2G_GGUF_WRITE_Q8_0_BLOCK) {
                status = put_q8_0(w, w->pending, 1, w->encoded, err);
                w->encoded += T2G_GGUF_WRITE_Q8_0_BLOCK;
                w->pending_count = 0;
            }
        } else {
            uint64_t blocks = n / T2G_GGUF_WRITE_Q8_0_BLOCK;
            if (blocks > CHUNK_ELEMENTS / T2G_GGUF_WRITE_Q8_0_BLOCK) blocks = CHUNK_ELEMENTS / T2G_GGUF_WRITE_Q8_0_BLOCK;
            used = blocks * T2G_GGUF_WRITE_Q8_0_BLOCK;
            status = put_q8_0(w, x, blocks, w->encoded, err);
            w->encoded += used;
        }
        if (status) return status;
        x += used;
        n -= used;
    }
    return T2G_OK;
}

t2g_status t2g_gguf_write_data(t2g_gguf_writer *w, const float *values, uint64_t count, t2g_error *err) {
    t2g_status status = t2g_gguf_start_data(w, err);
    if (status) return status;
    if (!count) return T2G_OK;
    if (!values) return t2g_gguf_stop(w, err, T2G_ERR_ARGUMENT, "%llu elements but no data", (unsigned long long)count);
    if (w->current == w->tensor_count)
        return t2g_gguf_stop(w, err, T2G_ERR_ARGUMENT, "%llu elements more than its %zu tensors hold",
                             (unsigned long long)count, w->tensor_count);
    const t2g_gguf_write_tensor *t = &w->tensors[w->current];
    uint64_t lacking = t->elements - w->encoded - w->pending_count;
    if (count > lacking)
        return t2g_gguf_stop(w, err, T2G_ERR_ARGUMENT, "tensor %s lacks %llu of its %llu elements, given %llu", t->name,
                             (unsigned long long)lacking, (unsigned long long)t->elements, (unsigned long long)count);
    status = put_elements(w, values, count, err);
    if (status || w->encoded < t->elements) return status;
    status = t2g_gguf_put_zeros(w, t2g_gguf_align(t->bytes, w->alignment) - t->bytes, err);
    w->current++;
    w->encoded = 0;
    return status;
}
