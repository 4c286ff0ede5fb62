/* The kernels of one decode step of a GPT with a KV cache (shaders/decode_embedding.comp,
 * shaders/decode_attention.comp): every sequence of the batch at the same position t, one row
 * per sequence. The other layers of a step reuse the public kernels with N = n sequences.
 * Internal to the generator (src/nn/generate.c) and its tests: includes only public headers,
 * so tests/check/check_decode.c can include it. Not installed. */
#ifndef T2G_DECODE_H
#define T2G_DECODE_H

#include <stdint.h>

#include "t2g/kernels.h"

/* Head sizes up to this are supported (as in t2g_attention_forward). */
#define T2G_DECODE_MAX_HEAD 128u

/* out (n,C) = wte (V,C)[tokens (n)] + wpe (>= t+1, C)[t]; wpe NULL: out = wte[tokens] only (a
 * model without a position table). A token >= V makes its row NaN (it is never read out of
 * bounds). */
t2g_status t2g_decode_embedding(t2g_recorder *rec, t2g_tensor out, t2g_tensor tokens, t2g_tensor wte, const t2g_tensor *wpe, uint32_t n, uint32_t t, uint32_t C, uint32_t V, t2g_error *err);

/* The attention of one step, with the cache write (grouped-query: NH query heads share KVH
 * key/value heads, query head h using kv head h / (NH / KVH); KVH divides NH):
 *   kcache[b][t] = k of qkv[b], vcache[b][t] = v of qkv[b]  (the rest of the caches untouched)
 *   out (n,NH hs) = softmax(q k_j^T / sqrt(hs), j = 0..t) v_j per query head
 * qkv (n,(NH + 2 KVH) hs) as t2g_attention_forward lays out one position (q of the NH heads,
 * then k, then v of the KVH heads); kcache, vcache (>= n, T, KVH hs): sequence b's keys and
 * values of positions 0..t-1 at [b][j], T the cache's positions per sequence (t < T);
 * hs <= 128. Deterministic. */
t2g_status t2g_decode_attention(t2g_recorder *rec, t2g_tensor out, t2g_tensor kcache, t2g_tensor vcache,
                                t2g_tensor qkv, uint32_t n, uint32_t t, uint32_t T, uint32_t NH, uint32_t KVH,
                                uint32_t hs, t2g_error *err);

#endif
