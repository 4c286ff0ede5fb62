/* A transformer language model on the GPU, of one of the architectures of model.arch (see
 * t2g/config.h): gpt2 (pre-LayerNorm blocks, learned positions, GELU MLP, tied head) or llama
 * (RMSNorm, rotary positions, grouped-query attention, SwiGLU, tied or untied head). Each
 * architecture is a table of tensors and one block (src/nn/arch_*.c); everything below is shared.
 *
 * Parameters live in one flat device buffer (one table gives each tensor's place), gradients
 * and the AdamW moments in buffers of the same layout, each in its own allocation; a buffer may
 * exceed one storage binding (the whole-buffer kernels split it). Tensors that get weight decay (the
 * embeddings and the matmul weights) come first, so AdamW runs over two ranges. Activations are
 * sized once for (B, T); a pass may use any B' <= B and T' <= T.
 *
 * Precision (config->precision, from train.precision): f32 is the reference path. bf16 or f16
 * stores the operands of the matmuls in 16 bits: a copy of the parameters (the matmuls' weights;
 * refreshed from the f32 parameters by the first forward after init, write or update) and the
 * activations that feed matmuls inside the blocks (the norms' outputs, attention's output, the
 * MLP's activation). The f32 parameters stay the master weights; the gradients, AdamW's
 * moments, every other activation (the final norm's output included) and every sum stay f32.
 * No loss scaling: every gradient is f32, so f16's range never holds one. The decode path
 * (generation) reads the f32 weights.
 *
 * A training step, recorded into one submission:
 *   t2g_gpt_zero_grads
 *   per micro-batch: t2g_gpt_forward, t2g_gpt_backward, t2g_gpt_loss_sum
 *   t2g_gpt_update (global-norm clip and AdamW) */
#ifndef T2G_GPT_H
#define T2G_GPT_H

#include <stdbool.h>
#include <stdint.h>

#include "t2g/config.h"
#include "t2g/device.h"
#include "t2g/kernels.h"
#include "t2g/memory.h"
#include "t2g/recorder.h"
#include "t2g/status.h"

typedef struct t2g_gpt t2g_gpt;

/* One parameter tensor of the flat buffer. */
typedef struct t2g_gpt_param {
    const char *name;      /* the architecture's: "wte", "wpe", "ln1w", "qkvw", ..., "lnfw", "head" */
    int layer;             /* its block, or -1 for wte, wpe, lnfw, lnfb */
    uint64_t offset;       /* floats from the start of the buffer (a multiple of 64) */
    uint32_t rows, cols;   /* (rows, cols), row-major; vectors have rows 1 */
    bool decay;            /* AdamW's weight decay applies */
} t2g_gpt_param;

/* The device memory a model will hold, from its config alone, and its largest pieces: the
 * largest tensors that kernels bind whole (a parameter, an activation; the flat state buffers
 * are split and do not count) and the largest activation arena (one allocation; each state
 * buffer is one too). Bytes, as allocated (each tensor aligned): the model's own arenas only;
 * a run adds a little (its recorder's scratch, token buffers) and RL its reference model and
 * generation's KV cache. */
typedef struct t2g_gpt_memory {
    bool frozen;
    uint32_t B, T;                      /* the activations' capacity */
    uint32_t logit_rows;                /* rows of logits held at once; 0: all B x T (t2g_gpt_logit_rows) */
    uint64_t parameters;                /* the parameter buffer */
    uint64_t parameters16;              /* its 16-bit copy (precision bf16, f16); 0 at f32 */
    uint64_t gradients;                 /* 0 when frozen */
    uint64_t moments;                   /* AdamW m and v together; 0 when frozen */
    uint64_t activations;               /* every activation arena, for B x T */
    uint64_t total;
    uint64_t largest_parameter;         /* bytes of the largest parameter tensor */
    const char *largest_parameter_name; /* its name in the table: "wte", "fcw", ... */
    uint64_t largest_activation;        /* bytes of the largest activation tensor */
    const char *largest_activation_name; /* e.g. "logits (B, T, vocab)" */
    uint64_t largest_activation_arena;  /* bytes of the largest activation arena */
} t2g_gpt_memory;

/* The precision a model gets on this device: `requested`, or for auto bf16 on a GPU with 16-bit
 * storage and f32 on a CPU device (lavapipe runs 16-bit storage through conversions that cost
 * more than the bandwidth they save). */
t2g_precision t2g_precision_for_device(t2g_precision requested, const t2g_device_info *device);
/* "f32", "bf16", "f16", "auto" */
const char *t2g_precision_name(t2g_precision precision);

/* The logits in pieces (config->logit_rows). A micro-batch's logits take B x T x vocab floats:
 * GPT-2's 50257 columns make them 1.5 GiB at 8 x 1024 tokens, a fifth of its training memory, and
 * Qwen2.5's 151936 three times that. A model made with logit_rows (a multiple of 64, fewer than
 * B x T) holds logit_rows of them at a time: its forward pass stops at the final norm's output,
 * and the backward pass (or t2g_gpt_loss) runs the head, the cross-entropy and the head's
 * backward over one piece of rows after another, the head's weight gradient accumulating. The
 * sums are the same per row (each row's logits, loss and input gradient come from the same
 * kernels); the head's weight gradient adds the pieces' sums in turn. t2g_gpt_logits is then
 * empty: a reader of logits takes them piece by piece (t2g_gpt_logits_of_rows, as RL does). */
#define T2G_LOGIT_ROWS_STEP 64u                 /* a piece's rows: whole 256-byte views of a row's scalars */
#define T2G_LOGITS_AUTO_BYTES (256ull << 20)    /* what train.logit_rows = 0 lets one piece take */
#define T2G_LOGITS_AUTO_SHARE 8u                /* auto holds whole logits up to 1/8 of the device's memory */

/* The rows a model's logits hold for train.logit_rows `requested` on a device, for micro-batches
 * of `rows` positions: requested itself; for 0 (auto), 0 (whole) where a micro-batch's logits fit
 * one storage binding and take at most 1/T2G_LOGITS_AUTO_SHARE of the device-local memory (a
 * piece's head GEMMs have fewer rows of output to spread over a GPU: the head's input gradient,
 * rows x width outputs, gets few workgroups), else the most rows (a multiple of 64, at least 64)
 * whose vocab floats take at most T2G_LOGITS_AUTO_BYTES and one binding. */
uint32_t t2g_logit_rows_for_device(uint32_t requested, uint32_t vocab, uint64_t rows, const t2g_device_info *device);

/* What t2g_gpt_create (frozen: t2g_gpt_create_frozen) would allocate for this config and B x T;
 * T2G_ERR_ARGUMENT for a config it would refuse (a precision of auto included: resolve it with
 * t2g_precision_for_device first). */
t2g_status t2g_gpt_memory_needed(const t2g_model_config *config, uint32_t B, uint32_t T, bool frozen,
                                 t2g_gpt_memory *memory, t2g_error *err);
/* T2G_ERR_TOO_LARGE, with the sizes and advice, when the device cannot hold it. First what no
 * batch size helps (a parameter tensor past one storage binding, the parameter buffer past one
 * allocation, parameters, gradients and moments past the device-local heaps), then what a
 * smaller train.micro_batch or model.context helps (an activation past one binding, an
 * activation arena past one allocation, the total past the heaps). */
t2g_status t2g_gpt_memory_check(const t2g_gpt_memory *memory, const t2g_device_info *device, t2g_error *err);
/* The largest batch of at most max_B sequences of T tokens that the device holds (the checks of
 * t2g_gpt_memory_check, frozen as for t2g_gpt_memory_needed); 0 when not even one sequence fits. */
uint32_t t2g_gpt_fit_batch(const t2g_model_config *config, uint32_t max_B, uint32_t T, bool frozen,
                           const t2g_device_info *device);

/* A model for micro-batches of up to B sequences of up to T tokens (T <= config->context), in
 * config->precision (auto resolved by t2g_precision_for_device; T2G_ERR_UNSUPPORTED for bf16 or
 * f16 on a device without 16-bit storage). The memory is checked first (t2g_gpt_memory_check):
 * a model the device cannot hold is refused before anything is allocated. */
t2g_status t2g_gpt_create(t2g_device *device, const t2g_model_config *config, uint32_t B, uint32_t T,
                          t2g_gpt **gpt, t2g_error *err);
/* A frozen model (RL's reference policy): parameters and forward activations only, no
 * gradients, moments or backward scratch, and two blocks' activations that the blocks take in
 * turn. t2g_gpt_backward, _loss_sum, _zero_grads, _update and _read_grads refuse it
 * (T2G_ERR_ARGUMENT), as does t2g_gpt_read given m or v; t2g_gpt_write ignores m and v.
 * In bf16 or f16 it keeps no f32 copy of the weights only matmuls read (every block's matrices,
 * an untied head): those live in the 16-bit copy alone, rounded by t2g_gpt_write on the device
 * as a trainable model's copy is (the same bits, so the same forward pass), and t2g_gpt_read
 * gives them back widened from it. */
t2g_status t2g_gpt_create_frozen(t2g_device *device, const t2g_model_config *config, uint32_t B, uint32_t T,
                                 t2g_gpt **gpt, t2g_error *err);
void t2g_gpt_destroy(t2g_gpt *gpt);
bool t2g_gpt_is_frozen(const t2g_gpt *gpt);

const t2g_model_config *t2g_gpt_config(const t2g_gpt *gpt);
/* The precision the model was made in: f32, bf16 or f16 (auto resolved; f32 where the self-check
 * made auto fall back). */
t2g_precision t2g_gpt_precision(const t2g_gpt *gpt);
/* The activations' capacity: micro-batches of up to *B sequences of up to *T tokens. */
void t2g_gpt_capacity(const t2g_gpt *gpt, uint32_t *B, uint32_t *T);
t2g_device *t2g_gpt_device(const t2g_gpt *gpt);
/* The parameter table, in buffer order. */
uint32_t t2g_gpt_params(const t2g_gpt *gpt, const t2g_gpt_param **table);
/* Floats in the flat buffer (with the padding that aligns each tensor), and how many of the
 * first ones get weight decay. */
uint64_t t2g_gpt_buffer_floats(const t2g_gpt *gpt);
uint64_t t2g_gpt_decayed_floats(const t2g_gpt *gpt);
/* Parameters proper (without padding): what a model "has". */
uint64_t t2g_gpt_parameter_count(const t2g_gpt *gpt);
/* Device memory the model holds: parameters, gradients, moments and activations. */
uint64_t t2g_gpt_device_bytes(const t2g_gpt *gpt);

/* GPT-2's initialisation for every architecture, seeded: weights normal with std 0.02 (the
 * projections into the residual stream 0.02 / sqrt(2 layers)), biases 0, norm weights 1;
 * moments zeroed. */
t2g_status t2g_gpt_init(t2g_gpt *gpt, uint64_t seed, t2g_error *err);

/* Host copies of the flat buffers (t2g_gpt_buffer_floats floats each; m and v may be NULL),
 * for checkpoints and tests. Synchronous: nothing may be recorded and not yet submitted. */
t2g_status t2g_gpt_read(t2g_gpt *gpt, float *params, float *m, float *v, t2g_error *err);
t2g_status t2g_gpt_write(t2g_gpt *gpt, const float *params, const float *m, const float *v, t2g_error *err);
t2g_status t2g_gpt_read_grads(t2g_gpt *gpt, float *grads, t2g_error *err);

/* Records the forward pass of tokens (B', T') (uint32, B' <= B, T' <= T) up to the logits. */
t2g_status t2g_gpt_forward(t2g_gpt *gpt, t2g_recorder *rec, t2g_tensor tokens, uint32_t B, uint32_t T,
                           t2g_error *err);
/* (B, T, V) after t2g_gpt_forward; t2g_gpt_backward overwrites it with the logits' gradient. A
 * model whose logits come in pieces (t2g_gpt_logit_rows) has none: an empty tensor (arena NULL). */
t2g_tensor t2g_gpt_logits(const t2g_gpt *gpt);
/* The rows of one piece of logits, or 0 where the model holds a micro-batch's all at once. */
uint32_t t2g_gpt_logit_rows(const t2g_gpt *gpt);
/* Logits (n, V) of rows [first, first + n) of the last forward, for a reader that takes them piece
 * by piece (RL's log-probabilities): first a multiple of 64, n at most a piece's rows (or the
 * pass's, whole). Whole logits: their view. In pieces: records the head over those rows into the
 * one piece buffer (what the piece before left there is gone) and gives its view. */
t2g_status t2g_gpt_logits_of_rows(t2g_gpt *gpt, t2g_recorder *rec, uint32_t first, uint32_t n, t2g_tensor *logits,
                                  t2g_error *err);
/* (B, T): each position's cross-entropy, unweighted, after t2g_gpt_backward. */
t2g_tensor t2g_gpt_losses(const t2g_gpt *gpt);
/* (B, T, C): the final norm's output, the hidden state a value head reads. */
t2g_tensor t2g_gpt_hidden(const t2g_gpt *gpt);

/* Records the zeroing of every gradient. */
t2g_status t2g_gpt_zero_grads(t2g_gpt *gpt, t2g_recorder *rec, t2g_error *err);

/* Records the loss and the backward pass of the last forward: cross-entropy against targets
 * (B, T) with per-token weights (B, T), the gradient of dloss * sum(weights * losses) added
 * into the gradients (dloss = 1 / the step's total weight gives the mean). */
t2g_status t2g_gpt_backward(t2g_gpt *gpt, t2g_recorder *rec, t2g_tensor targets, t2g_tensor weights, uint32_t B,
                            uint32_t T, float dloss, t2g_error *err);

/* The same, with dhidden (B, T, C) added to the gradient of the final norm's output: the
 * gradient that a head on the hidden state (t2g_gpt_hidden; e.g. RL's value head) sends back. */
t2g_status t2g_gpt_backward_with_hidden(t2g_gpt *gpt, t2g_recorder *rec, t2g_tensor targets, t2g_tensor weights,
                                        uint32_t B, uint32_t T, float dloss, t2g_tensor dhidden, t2g_error *err);

/* Records the losses of the last forward against targets (B, T), weights (B, T) as the backward
 * takes them, without any gradient: t2g_gpt_losses after it as after a backward, for evaluation;
 * frozen models too. Whole logits are overwritten (with zeros). */
t2g_status t2g_gpt_loss(t2g_gpt *gpt, t2g_recorder *rec, t2g_tensor targets, t2g_tensor weights, uint32_t B,
                        uint32_t T, t2g_error *err);

/* Records out[0] = sum over the last backward's positions of weights * losses. */
t2g_status t2g_gpt_loss_sum(t2g_gpt *gpt, t2g_recorder *rec, t2g_tensor out, t2g_tensor weights, uint32_t B,
                            uint32_t T, t2g_error *err);

/* Records the optimizer step: the global gradient norm into norm_and_scale (2 floats: norm
 * and clip factor; grad_clip <= 0 does not clip), then AdamW, weight decay on the decayed
 * range only. */
t2g_status t2g_gpt_update(t2g_gpt *gpt, t2g_recorder *rec, const t2g_adamw_settings *settings, float grad_clip,
                          t2g_tensor norm_and_scale, t2g_error *err);

#endif
