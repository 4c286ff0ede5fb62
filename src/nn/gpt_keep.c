/* A bf16 or f16 model's q, k and v kept in 16 bits per block (gpt_keep_qkv): one shared f32
 * buffer, qkv_wide, holds the block's values while kernels that read f32 need them. */
#include "gpt_internal.h"

t2g_status gpt_keep_qkv(const t2g_gpt *gpt, t2g_recorder *rec, const gpt_block_acts *a, bool widen, uint32_t N,
                        t2g_error *err) {
    if (!gpt->qkv_wide.arena) return T2G_OK;
    uint64_t n = (uint64_t)N * gpt->QKV;
    if (!widen) TRY(t2g_convert(rec, a->qkv, gpt->qkv_wide, n, err)); /* rounded into the block's copy */
    return t2g_convert(rec, gpt->qkv_wide, a->qkv, n, err);         /* and read back as kept */
}
