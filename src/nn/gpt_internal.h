/* The GPT's state, shared by the files of src/nn/ (params, forward, backward). */
#ifndef T2G_GPT_INTERNAL_H
#define T2G_GPT_INTERNAL_H

#include "t2g/gpt.h"

/* The tensors of one block, as views into a flat buffer (parameters or gradients). */
typedef struct gpt_block {
    t2g_tensor ln1w, ln1b;         /* (C), (C) */
    t2g_tensor qkvw, qkvb;         /* (3C, C), (3C) */
    t2g_tensor attprojw, attprojb; /* (C, C), (C) */
    t2g_tensor ln2w, ln2b;         /* (C), (C) */
    t2g_tensor fcw, fcb;           /* (4C, C), (4C) */
    t2g_tensor fcprojw, fcprojb;   /* (C, 4C), (C) */
} gpt_block;

typedef struct gpt_weights {
    t2g_tensor wte;                /* (V, C) */
    t2g_tensor wpe;                /* (maxT, C) */
    gpt_block *blocks;             /* (L) */
    t2g_tensor lnfw, lnfb;         /* (C), (C) */
} gpt_weights;

/* The activations of one block for (B, T), kept from forward to backward. */
typedef struct gpt_block_acts {
    t2g_tensor ln1, ln1_mean, ln1_rstd; /* (B,T,C), (B,T), (B,T) */
    t2g_tensor qkv;                     /* (B,T,3C) */
    t2g_tensor atty;                    /* (B,T,C) */
    t2g_tensor lse;                     /* (B,NH,T) */
    t2g_tensor attproj;                 /* (B,T,C) */
    t2g_tensor residual2;               /* (B,T,C) */
    t2g_tensor ln2, ln2_mean, ln2_rstd; /* (B,T,C), (B,T), (B,T) */
    t2g_tensor fch, fch_gelu;           /* (B,T,4C) */
    t2g_tensor fcproj;                  /* (B,T,C) */
    t2g_tensor residual3;               /* (B,T,C): the block's output */
} gpt_block_acts;

struct t2g_gpt {
    t2g_device *device;
    t2g_model_config config;
    uint32_t B, T;                      /* the activations' capacity */

    t2g_gpt_param *table;
    uint32_t table_count;
    uint64_t buffer_floats, decayed_floats, parameter_count;

    t2g_arena *state_arena;             /* params, grads, m, v */
    t2g_tensor params, grads, m, v;     /* (buffer_floats) each */
    gpt_weights weights, grad_weights;  /* views into params and grads */

    t2g_arena **act_arenas;             /* (L + 1): the rest, then one per block */
    t2g_tensor encoded;                 /* (B,T,C) */
    gpt_block_acts *acts;               /* (L) */
    t2g_tensor lnf, lnf_mean, lnf_rstd; /* (B,T,C), (B,T), (B,T) */
    t2g_tensor logits;                  /* (B,T,V), then its gradient */
    t2g_tensor losses;                  /* (B,T) */
    /* backward scratch, reused by every block */
    t2g_tensor dresidual;               /* (B,T,C): the gradient flowing down the residual stream */
    t2g_tensor dln;                     /* (B,T,C) */
    t2g_tensor datty;                   /* (B,T,C) */
    t2g_tensor dqkv;                    /* (B,T,3C) */
    t2g_tensor dfch, dfch_gelu;         /* (B,T,4C) */

    t2g_tensor tokens;                  /* of the last forward */
    uint32_t pass_B, pass_T;            /* 0 until a forward is recorded */
};

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

/* Builds the parameter table and the views (gpt_params.c). */
t2g_status gpt_build_table(t2g_gpt *gpt, t2g_error *err);
void gpt_make_views(const t2g_gpt *gpt, t2g_tensor buffer, gpt_weights *views);

#endif
