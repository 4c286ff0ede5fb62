/* An architecture as data: the table of its tensors, and the few functions that are its block.
 *
 * Everything about a model's parameters derives from the table: the flat buffer's layout (and so
 * AdamW's two ranges and a checkpoint's contents), the views the kernels use, initialisation and
 * the names that files (checkpoints, Hugging Face folders) use. The block functions are the only
 * code an architecture has: forward, backward and one decode step of one transformer block. The
 * embedding, the final norm and the output head are shared, steered by `positions` and `norm`. */
#ifndef T2G_ARCH_H
#define T2G_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "t2g/config.h"
#include "t2g/kernels.h"
#include "t2g/recorder.h"

typedef struct t2g_gpt t2g_gpt;
typedef struct gpt_decode gpt_decode;

/* A tensor's dimension, in the config's sizes. */
typedef enum arch_dim {
    DIM_ONE,     /* 1 (a vector's rows) */
    DIM_VOCAB,   /* V */
    DIM_CONTEXT, /* the position table's rows */
    DIM_WIDTH,   /* C */
    DIM_QKV,     /* (heads + 2 kv_heads) x head size: q, k and v side by side */
    DIM_FFN,     /* F, the MLP's hidden width */
    DIM_FFN_IN,  /* the MLP's first projection: F (gpt2) or 2F, gate then up (llama) */
} arch_dim;

typedef enum arch_init {
    INIT_NORMAL,   /* normal, std 0.02 */
    INIT_RESIDUAL, /* normal, std 0.02 / sqrt(2 layers): projections into the residual stream */
    INIT_ONES,     /* norm weights */
    INIT_ZEROS,    /* biases */
} arch_init;

/* When a tensor exists. */
typedef enum arch_presence { ALWAYS, WITH_QKV_BIAS, WITH_UNTIED_HEAD } arch_presence;

typedef enum arch_norm { NORM_LAYER, NORM_RMS } arch_norm;

/* Which kernels read a tensor: F32_TOO, kernels that take it as f32 (norms, biases, the embedding);
 * MATMULS_ONLY, the matmuls alone, which read the 16-bit copy in a bf16 or f16 model: a frozen
 * 16-bit model keeps no f32 copy of such a tensor (src/nn/gpt_params.c). */
typedef enum arch_reader { F32_TOO, MATMULS_ONLY } arch_reader;

typedef struct arch_tensor {
    const char *name;    /* its name in checkpoints and tests: "wte", "qkvw", ... */
    bool per_layer;      /* one per block, or one in the model */
    arch_dim rows, cols; /* (rows, cols), row-major; vectors have rows DIM_ONE */
    arch_init init;
    bool decay;          /* AdamW's weight decay applies */
    arch_presence when;
    arch_reader read;
    size_t slot;         /* offsetof its view in gpt_block (per layer) or gpt_weights */
} arch_tensor;

typedef t2g_status (*block_forward_fn)(t2g_gpt *gpt, t2g_recorder *rec, uint32_t layer, t2g_tensor residual,
                                       uint32_t B, uint32_t T, t2g_error *err);
typedef t2g_status (*block_backward_fn)(t2g_gpt *gpt, t2g_recorder *rec, uint32_t layer, uint32_t B, uint32_t T,
                                        t2g_error *err);
typedef t2g_status (*block_decode_fn)(const gpt_decode *d, uint32_t layer, t2g_error *err);

typedef struct gpt_arch {
    t2g_arch id;
    const char *name;             /* as model.arch spells it */
    const arch_tensor *tensors;
    uint32_t tensor_count;
    bool positions;               /* a learned position table (wpe); otherwise rotary positions in the block */
    arch_norm norm;               /* every norm of the model */
    uint32_t ffn_in_factor;       /* DIM_FFN_IN = this x F */
    bool mlp_act_gradient;        /* the MLP's activation has a gradient buffer of its own (dfch_act,
                                     which SwiGLU's backward reads); GELU's goes through the GEMM's
                                     outputs (t2g_matmul_backward_gelu) */
    block_forward_fn block_forward;
    block_backward_fn block_backward;
    block_decode_fn block_decode;
} gpt_arch;

const gpt_arch *gpt_arch_of(t2g_arch id);
extern const gpt_arch gpt_arch_gpt2, gpt_arch_llama;

/* The size of a dimension for a model. */
uint32_t gpt_arch_dim(const gpt_arch *arch, const t2g_model_config *c, arch_dim dim);
/* Whether a tensor exists in a model of this config. */
bool gpt_arch_has(const arch_tensor *t, const t2g_model_config *c);

#endif
