/* The architecture's norm, for the code that every architecture shares (the final norm) and
 * for the architectures' tables. */
#include "gpt_internal.h"

const gpt_arch *gpt_arch_of(t2g_arch id) {
    switch (id) {
    case T2G_ARCH_GPT2: return &gpt_arch_gpt2;
    case T2G_ARCH_LLAMA: return &gpt_arch_llama;
    }
    return NULL;
}

t2g_status gpt_norm_forward(const t2g_gpt *gpt, t2g_recorder *rec, t2g_tensor out, t2g_tensor mean, t2g_tensor rstd,
                            t2g_tensor inp, t2g_tensor weight, t2g_tensor bias, uint32_t N, t2g_error *err) {
    uint32_t C = gpt->config.width;
    if (gpt->arch->norm == NORM_RMS)
        return t2g_rmsnorm_forward(rec, out, rstd, inp, weight, N, C, (float)gpt->config.norm_eps, err);
    return t2g_layernorm_forward(rec, out, mean, rstd, inp, weight, bias, N, C, err);
}

t2g_status gpt_norm_backward(const t2g_gpt *gpt, t2g_recorder *rec, t2g_tensor dinp, t2g_tensor dweight,
                             t2g_tensor dbias, t2g_tensor dout, t2g_tensor inp, t2g_tensor weight, t2g_tensor mean,
                             t2g_tensor rstd, uint32_t N, t2g_error *err) {
    uint32_t C = gpt->config.width;
    if (gpt->arch->norm == NORM_RMS) return t2g_rmsnorm_backward(rec, dinp, dweight, dout, inp, weight, rstd, N, C, err);
    return t2g_layernorm_backward(rec, dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C, err);
}
