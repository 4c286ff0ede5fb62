/* Reference of one decode step's kernels (src/kernels/decode.h), in double precision: every
 * sequence at position t, one row per sequence. */
#ifndef T2G_DECODE_REF_H
#define T2G_DECODE_REF_H

#include <stdint.h>

/* out (n,C) = wte (V,C)[tokens (n)] + wpe (>= t+1, C)[t]; wpe NULL: wte only */
void ref_decode_embedding(double *out, const uint32_t *tokens, const double *wte, const double *wpe, int n, int t, int C);

/* kcache, vcache (n,T,KVH hs): row t of sequence b becomes the k, v of qkv (n,(NH + 2 KVH) hs)
 * row b; then out (n,NH hs) = softmax(q k_j / sqrt(hs), j = 0..t) v_j per query head h, with the
 * k, v of kv head h / (NH / KVH). */
void ref_decode_attention(double *out, double *kcache, double *vcache, const double *qkv, int n, int t, int T, int NH,
                          int KVH, int hs);

#endif
