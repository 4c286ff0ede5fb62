/* Reference of a decode step's kernels (src/kernels/decode.h), in double precision. A step is n
 * rows; row r is rows[3r .. 3r+2] = (token, slot, position). */
#ifndef T2G_DECODE_REF_H
#define T2G_DECODE_REF_H

#include <stdint.h>

/* out (n,C) = wte (V,C)[token] + wpe (P,C)[position] of each row; wpe NULL: wte only. Every row
 * must be valid (token < V, position < P). */
void ref_decode_embedding(double *out, const uint32_t *rows, const double *wte, const double *wpe, int n, int C);

/* The cache write: kcache, vcache (slots,T,KVH hs) at [slot][position] = the k, v of qkv
 * (n,(NH + 2 KVH) hs) row r; with table (>= T, hs; cos at [p][i], sin at [p][hs/2 + i]), q turned
 * in place in qkv and k turned in the cache (rotate-half). table NULL: copied as they are. Rows whose
 * slot >= slots or position >= T are skipped. */
void ref_decode_store(double *qkv, double *kcache, double *vcache, const uint32_t *rows, const double *table, int n,
                      int slots, int T, int NH, int KVH, int hs);

/* out (n,NH hs) = softmax(q k_j / sqrt(hs), j = 0..t) v_j per query head h of each row (slot s,
 * position t), with k_j, v_j of kv head h / (NH / KVH) from the caches at [s][j]. Every row must
 * be valid. */
void ref_decode_attention(double *out, const double *kcache, const double *vcache, const double *qkv,
                          const uint32_t *rows, int n, int T, int NH, int KVH, int hs);

#endif
