/* The model's state, shared by the files of src/nn/ (params, forward, backward, the blocks,
 * generation). QKV = (heads + 2 kv_heads) x head size; F the MLP's hidden width, FIN its first
 * projection's width (F for gpt2, 2F for llama's gate and up). */
#ifndef T2G_GPT_INTERNAL_H
#define T2G_GPT_INTERNAL_H

#include "arch.h"
#include "kernels/matmul_internal.h"
#include "t2g/gpt.h"

/* The tensors of one block, as views into a flat buffer (parameters or gradients). An
 * architecture uses the ones its table names; the others stay empty (arena NULL). */
typedef struct gpt_block {
    t2g_tensor ln1w, ln1b;         /* (C), (C) */
    t2g_tensor qkvw, qkvb;         /* (QKV, C), (QKV) */
    t2g_tensor attprojw, attprojb; /* (C, C), (C) */
    t2g_tensor ln2w, ln2b;         /* (C), (C) */
    t2g_tensor fcw, fcb;           /* (FIN, C), (FIN) */
    t2g_tensor fcprojw, fcprojb;   /* (C, F), (C) */
} gpt_block;

typedef struct gpt_weights {
    t2g_tensor wte;                /* (V, C) */
    t2g_tensor wpe;                /* (maxT, C): gpt2 */
    gpt_block *blocks;             /* (L) */
    t2g_tensor lnfw, lnfb;         /* (C), (C) */
    t2g_tensor head;               /* (V, C): an untied output head; empty when it is wte */
} gpt_weights;

/* The activations of one block for (B, T), kept from forward to backward. */
typedef struct gpt_block_acts {
    t2g_tensor ln1, ln1_mean, ln1_rstd; /* (B,T,C), (B,T), (B,T): mean unused by RMSNorm */
    t2g_tensor qkv;                     /* (B,T,QKV): llama's q and k after the rotation; in the model's
                                           16-bit type where it has one (qkv_wide) */
    t2g_tensor atty;                    /* (B,T,C) */
    t2g_tensor lse;                     /* (B,NH,T) */
    t2g_tensor residual2;               /* (B,T,C) */
    t2g_tensor ln2, ln2_mean, ln2_rstd; /* (B,T,C), (B,T), (B,T) */
    t2g_tensor fch;                     /* (B,T,FIN): the MLP's input, in the model's 16-bit type where it
                                           has one (fch_wide) */
    t2g_tensor residual3;               /* (B,T,C): the block's output */
} gpt_block_acts;

#define GPT_STATE_BUFFERS 4

struct t2g_gpt {
    t2g_device *device;
    t2g_model_config config;
    const gpt_arch *arch;
    bool frozen;                        /* parameters and forward activations only */
    uint32_t B, T;                      /* the activations' capacity */
    uint32_t NH, KVH, hs;               /* heads, kv heads, head size */
    uint32_t QKV, F, FIN;               /* the widths named above */

    t2g_gpt_param *table;
    uint32_t table_count;
    uint64_t buffer_floats, decayed_floats, parameter_count;

    t2g_arena *state_arenas[GPT_STATE_BUFFERS]; /* params, grads, m, v: one arena each (frozen: params only) */
    t2g_tensor params, grads, m, v;     /* (buffer_floats) each; params (params_floats) */
    gpt_weights weights, grad_weights;  /* views into params and grads */
    /* A frozen bf16 or f16 model is lean (gpt_lean): params holds only the tensors read as f32 (the
     * table's F32_TOO ones), one after the other, and the matmuls' weights are in params16 alone
     * (their views in weights stay empty). Otherwise params has the buffer's layout. */
    uint64_t params_floats;             /* buffer_floats, or lean those tensors' */
    uint64_t *params_offset;            /* lean, (table_count): each tensor's first float in params
                                           (MATMULS_ONLY: UINT64_MAX, none); else NULL */

    /* train.precision bf16 or f16 (t2g/gpt.h): act_dtype is the type of the activations that feed
     * matmuls (f32 otherwise), params16 a copy of params in that type that the matmuls read,
     * refreshed before the next forward whenever params change (params16_stale). */
    t2g_dtype act_dtype;
    t2g_arena *params16_arena;          /* NULL at f32 */
    t2g_tensor params16;                /* (buffer_floats) of act_dtype */
    gpt_weights weights16;              /* views into params16 */
    bool params16_stale;

    t2g_arena **act_arenas;             /* (act_arena_count): the rest, then one per set of block activations */
    uint32_t act_arena_count;
    t2g_tensor encoded;                 /* (B,T,C) */
    gpt_block_acts *acts;               /* (L): one set per block; frozen, blocks take two sets in turn */
    t2g_tensor fch_act;                 /* (B,T,F): the GELU or SwiGLU of a block's fch, one for all blocks:
                                           the forward pass writes it for the next matmul, the backward
                                           pass recomputes it from the block's fch (as llm.c's recompute) */
    t2g_tensor qkv_wide;                /* (B,T,QKV) f32, bf16 or f16 models only (else none), one for all
                                           blocks: the qkv matmul's output (llama: rotated), rounded to
                                           the block's 16-bit qkv and read back, which attention reads;
                                           in the backward, that qkv widened again */
    t2g_tensor fch_wide;                /* (B,T,FIN) f32, bf16 or f16 models only (else none), one for all
                                           blocks: the first MLP matmul's output, which the activation
                                           keeps in the block's 16-bit fch and activates as kept; in the
                                           backward, that fch widened again for the kernels that read it */
    t2g_tensor lnf, lnf_mean, lnf_rstd; /* (B,T,C), (B,T), (B,T) */
    t2g_tensor rope;                    /* (context, hs): the rotation's cos and sin (llama) */
    uint32_t logit_rows;                /* 0: logits hold a micro-batch's rows; else the rows of one piece
                                           (a multiple of 64, fewer than B x T): gpt_head.c */
    t2g_tensor logits;                  /* (B,T,V) or (logit_rows,V), then its gradient */
    t2g_tensor losses;                  /* (B,T) */
    /* backward scratch, reused by every block (none when frozen) */
    t2g_tensor dresidual;               /* (B,T,C): the gradient flowing down the residual stream */
    t2g_tensor dln;                     /* (B,T,C) */
    t2g_tensor datty;                   /* (B,T,C) */
    t2g_tensor dqkv;                    /* (B,T,QKV) */
    t2g_tensor dfch;                    /* (B,T,FIN) */
    t2g_tensor dfch_act;                /* (B,T,F): where the arch has it (mlp_act_gradient) */

    t2g_tensor tokens;                  /* of the last forward */
    uint32_t pass_B, pass_T;            /* 0 until a forward is recorded */
};

/* Whether the model is lean: frozen, in bf16 or f16 (its f32 params lack the matmuls' weights). */
static inline bool gpt_lean(const t2g_gpt *gpt) { return gpt->frozen && gpt->act_dtype != T2G_DTYPE_F32; }

/* Block l's MLP input as f32 (the first MLP matmul writes it, the backward reads it): fch_wide
 * in a bf16 or f16 model, where the block keeps it in 16 bits, else the block's fch. */
static inline t2g_tensor gpt_fch_f32(const t2g_gpt *gpt, const gpt_block_acts *a) {
    return gpt->fch_wide.arena ? gpt->fch_wide : a->fch;
}

/* Block l's q, k and v as f32: qkv_wide in a bf16 or f16 model, where the block keeps them in 16
 * bits, else the block's qkv. */
static inline t2g_tensor gpt_qkv_f32(const t2g_gpt *gpt, const gpt_block_acts *a) {
    return gpt->qkv_wide.arena ? gpt->qkv_wide : a->qkv;
}

/* The residual stream entering block l (l = layers: the last block's output). */
static inline t2g_tensor gpt_block_input(const t2g_gpt *gpt, uint32_t l) {
    return l == 0 ? gpt->encoded : gpt->acts[l - 1].residual3;
}

/* Records one kernel; the first failure stops the pass. */
#define TRY(call)               \
    do {                        \
        t2g_status s_ = (call); \
        if (s_) return s_;      \
    } while (0)

/* Builds the parameter table (and where each tensor is in params: gpt->frozen and
 * gpt->act_dtype say whether the model is lean) and the views: of a buffer in the table's layout,
 * or of params in its own (gpt_params.c). */
t2g_status gpt_build_table(t2g_gpt *gpt, t2g_error *err);
void gpt_make_views(const t2g_gpt *gpt, t2g_tensor buffer, gpt_weights *views);
void gpt_make_params_views(const t2g_gpt *gpt, gpt_weights *views);

/* The output head: the untied head, or the token embedding. */
static inline t2g_tensor gpt_head(const gpt_weights *w) { return w->head.arena ? w->head : w->wte; }

/* The weights the matmuls read: the 16-bit copies, or the f32 parameters. Only the matmul
 * weights of these views are used (biases and norm weights come from gpt->weights). */
static inline const gpt_weights *gpt_matmul_weights(const t2g_gpt *gpt) {
    return gpt->params16_arena ? &gpt->weights16 : &gpt->weights;
}

/* A bf16 or f16 model keeps block a's q, k and v in 16 bits: the forward rounds qkv_wide (the
 * matmul's output, rotated) into the block's qkv and widens it back in place, so attention reads
 * the values kept; the backward (widen) widens the block's qkv into qkv_wide. Nothing at f32
 * (gpt_keep.c). */
t2g_status gpt_keep_qkv(const t2g_gpt *gpt, t2g_recorder *rec, const gpt_block_acts *a, bool widen, uint32_t N,
                        t2g_error *err);

/* Records the refresh of the 16-bit weight copies when the parameters changed since the last one
 * (gpt_params.c); a no-op at f32 and for a lean model (t2g_gpt_write fills its copies). */
t2g_status gpt_refresh_params16(t2g_gpt *gpt, t2g_recorder *rec, t2g_error *err);

/* The head over a pass of N rows: its logits where the model holds them whole (a model whose
 * logits come in pieces computes them in gpt_head_loss); then the loss of targets and weights
 * (N) each, dloss times the logits' gradient in their place, and with backward dln (N, C) set
 * and the head's weight gradient added to (gpt_head.c). */
t2g_status gpt_head_forward(const t2g_gpt *gpt, t2g_recorder *rec, uint32_t N, t2g_error *err);
t2g_status gpt_head_loss(const t2g_gpt *gpt, t2g_recorder *rec, t2g_tensor targets, t2g_tensor weights, uint32_t N,
                         float dloss, bool backward, t2g_error *err);

/* The architecture's norm (LayerNorm or RMSNorm with model.norm_eps) over N rows of C: an
 * RMSNorm has no mean and no bias, and ignores those arguments (gpt_norm.c). */
t2g_status gpt_norm_forward(const t2g_gpt *gpt, t2g_recorder *rec, t2g_tensor out, t2g_tensor mean, t2g_tensor rstd,
                            t2g_tensor inp, t2g_tensor weight, t2g_tensor bias, uint32_t N, t2g_error *err);
t2g_status gpt_norm_backward(const t2g_gpt *gpt, t2g_recorder *rec, t2g_tensor dinp, t2g_tensor dweight,
                             t2g_tensor dbias, t2g_tensor dout, t2g_tensor inp, t2g_tensor weight, t2g_tensor mean,
                             t2g_tensor rstd, uint32_t N, t2g_error *err);

/* One decode step (src/nn/generate.c) as a block's decode function sees it: n rows, each a
 * sequence's slot at a position (t2g_decode_row, src/kernels/decode.h); every kernel works row
 * by row, and every tile configuration of the matmuls sums alike, so a row's results have the
 * same bits whatever else the step holds. */
struct gpt_decode {
    const t2g_gpt *gpt;
    t2g_recorder *rec;
    uint32_t n, slots;           /* rows; sequences the caches hold */
    t2g_tensor rows;             /* (n, 3) uint32: token, slot, position of each row */
    t2g_tensor x, x2;            /* (n, C): the residual stream, after attention in x2 */
    t2g_tensor ln, mean, rstd;   /* (n, C), (n), (n): every norm's output and statistics */
    t2g_tensor qkv;              /* (n, QKV) */
    t2g_tensor atty;             /* (n, C) */
    t2g_tensor fch;              /* (n, FIN) */
    t2g_tensor fch_act;          /* (n, F) */
    const t2g_tensor *kcache, *vcache; /* (L) each (slots, context, KVH x hs) */
};

#endif
