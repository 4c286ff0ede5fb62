/* The kernels of a decode step of a GPT with a KV cache (shaders/decode_embedding.comp,
 * decode_store.comp, decode_attention.comp,
 * decode_attention_lanes.comp). A step is n rows; row r is a t2g_decode_row: the
 * token going in, the cache slot of its sequence and its position there. The rows of one step
 * may be sequences at different positions (generation in lockstep) or one sequence at several
 * (a prompt's prefill, every position of it at once): every kernel computes each row alone, so
 * a row's results have the same bits whatever else the step holds. The other layers of a step
 * reuse the public kernels with N = n rows. Internal to the generator (src/nn/generate.c) and
 * its tests: includes only public headers, so tests/check/check_decode.c can include it. Not
 * installed. */
#ifndef T2G_DECODE_H
#define T2G_DECODE_H

#include <stdint.h>

#include "t2g/kernels.h"

/* Head sizes up to this are supported (as in t2g_attention_forward). */
#define T2G_DECODE_MAX_HEAD 128u

/* One row of a step; a step's rows are a (n, 3) uint32 tensor of these. */
typedef struct t2g_decode_row {
    uint32_t token, slot, position;
} t2g_decode_row;
#define T2G_DECODE_ROW_WORDS 3u

/* out (n,C) = wte (V,C)[token] + wpe (P,C)[position] of each row; wpe NULL: out = wte[token]
 * only (a model without a position table). A token >= V, or a position >= P with wpe, makes
 * its row NaN (nothing is read out of bounds). */
t2g_status t2g_decode_embedding(t2g_recorder *rec, t2g_tensor out, t2g_tensor rows, t2g_tensor wte,
                                const t2g_tensor *wpe, uint32_t n, uint32_t C, uint32_t V, uint32_t P, t2g_error *err);

/* The step's keys and values into the caches, turned first with rope_table (NULL: no rotary
 * position embedding):
 *   rope_table: q of the NH heads turned in place in qkv, k turned, by the row's position
 *               (table (>= T, hs) as t2g_rope_table fills it; turned as t2g_rope does)
 *   kcache[slot][position] = k, vcache[slot][position] = v of each row
 * qkv (n,(NH + 2 KVH) hs) as t2g_attention_forward lays out one position; kcache, vcache
 * (slots, T, KVH hs), both f32 or both bf16 or both f16 (a 16-bit model's cache: k and v are
 * computed in f32 and rounded as they are stored, bf16 to nearest even as t2g_f32_to_bf16, f16
 * by the device). A row whose slot >= slots or position >= T writes nothing. The rest of the
 * caches is untouched; nothing else of qkv changes. */
t2g_status t2g_decode_store(t2g_recorder *rec, t2g_tensor qkv, t2g_tensor kcache, t2g_tensor vcache,
                            t2g_tensor rows, const t2g_tensor *rope_table, uint32_t n, uint32_t slots, uint32_t T,
                            uint32_t NH, uint32_t KVH, uint32_t hs, t2g_error *err);

/* The ways decode_attention can run; a step's bits depend on which. */
typedef enum t2g_decode_config {
    T2G_DECODE_AUTO = 0,  /* the device's choice (t2g_decode_attention_choice) */
    T2G_DECODE_GROUP8,    /* decode_attention.comp, a workgroup of 8 per (row, head): keys in chunks of 8 */
    T2G_DECODE_GROUP16,   /* ... of 16 */
    T2G_DECODE_GROUP32,   /* ... of 32 */
    T2G_DECODE_GROUP64,   /* ... of 64 */
    T2G_DECODE_GROUP128,  /* ... of 128 */
    T2G_DECODE_LANES,     /* decode_attention_lanes.comp: one invocation per (row, head) */
    T2G_DECODE_CONFIGS    /* the count */
} t2g_decode_config;

/* The step's attention, after t2g_decode_store (grouped-query: NH query heads share KVH
 * key/value heads, query head h using kv head h / (NH / KVH); KVH divides NH):
 *   out (n,NH hs) = softmax(q k_j^T / sqrt(hs), j = 0..t) v_j per query head
 * for each row at position t of slot s, with q from qkv (n,(NH + 2 KVH) hs) and k_j, v_j from
 * kcache, vcache (slots, T, KVH hs) at [s][j], both f32 or both bf16 or both f16 (widened to
 * f32 as they are read; every sum is f32). A row whose slot >= slots or t >= T gives NaN.
 * hs <= 128. `config`: how it runs (every configuration reads every cache type); T2G_DECODE_AUTO,
 * what the generator uses: t2g_decode_attention_choice. Deterministic, and
 * a row's output has the same bits whatever else the step holds (for one configuration). */
t2g_status t2g_decode_attention(t2g_recorder *rec, t2g_tensor out, t2g_tensor kcache, t2g_tensor vcache,
                                t2g_tensor qkv, t2g_tensor rows, uint32_t n, uint32_t slots, uint32_t T, uint32_t NH,
                                uint32_t KVH, uint32_t hs, t2g_decode_config config, t2g_error *err);
/* The device's configuration, for every cache type: T2G_DECODE_LANES where the device takes the
 * CPU layouts (t2g_device_layouts_for_cpu), T2G_DECODE_GROUP128 elsewhere. */
t2g_decode_config t2g_decode_attention_choice(const t2g_device *device);
/* A configuration's name ("group 8", "lanes"; "unknown" out of range), for messages. */
const char *t2g_decode_config_name(t2g_decode_config config);
/* The shader a configuration runs ("decode_attention", "decode_attention_lanes"; "unknown" out of
 * range): with the caches' type, the variant a self-check verdict names. */
const char *t2g_decode_config_shader(t2g_decode_config config);

#endif
