/* A model's device memory: the estimate from the config alone against what t2g_gpt_create
 * allocates, the refusals (with advice) of a device too small, and frozen models (parameters
 * and forward activations only) that give the same logits as a trainable one, and the one fch_act
 * that all blocks share (recomputed in the backward pass). */
#include <string.h>

#include "check.h"
#include "t2g/dtype.h"
#include "t2g/gpt.h"

enum { B = 3, T = 7 };

/* Three layers, so that a frozen model's blocks share two sets of activations. */
static const t2g_model_config GPT2 = T2G_MODEL_GPT2(259, 11, 3, 3, 36);
static const t2g_model_config LLAMA = {.arch = T2G_ARCH_LLAMA, .vocab = 259, .context = 11, .layers = 3, .heads = 4,
                                       .kv_heads = 2, .width = 32, .ffn_width = 40, .rope_theta = 10000,
                                       .norm_eps = 1e-5, .tied_head = 0};

/* SmolLM2-135M and GPT-2 124M, as Hugging Face configures them. */
static const t2g_model_config SMOLLM2 = {.arch = T2G_ARCH_LLAMA, .vocab = 49152, .context = 8192, .layers = 30,
                                         .heads = 9, .kv_heads = 3, .width = 576, .ffn_width = 1536,
                                         .rope_theta = 100000, .norm_eps = 1e-5, .tied_head = 1};
static const t2g_model_config GPT2_124M = T2G_MODEL_GPT2(50257, 1024, 12, 12, 768);

static float *forward_logits(check_ctx *ctx, t2g_gpt *gpt, t2g_tensor tokens, const t2g_model_config *c) {
    check_status(ctx, t2g_gpt_init(gpt, 11, &ctx->err), "initialising");
    check_status(ctx, t2g_gpt_forward(gpt, ctx->recorder, tokens, B, T, &ctx->err), "forward");
    check_submit(ctx);
    return check_download(ctx, t2g_gpt_logits(gpt), (size_t)B * T * c->vocab);
}

/* The weights that only matmuls read (arch_reader MATMULS_ONLY): a frozen 16-bit model keeps them
 * in 16 bits alone. */
static bool matmuls_only(const char *name) {
    static const char *const names[] = {"qkvw", "attprojw", "fcw", "fcprojw", "head"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0) return true;
    return false;
}

/* Floats of f32 parameters a lean model keeps: the other tensors, each aligned to 64 floats as in
 * the buffer. */
static uint64_t kept_floats(const t2g_gpt *gpt) {
    const t2g_gpt_param *table;
    uint32_t count = t2g_gpt_params(gpt, &table);
    uint64_t floats = 0;
    for (uint32_t i = 0; i < count; i++)
        if (!matmuls_only(table[i].name)) floats += ((uint64_t)table[i].rows * table[i].cols + 63) / 64 * 64;
    return floats;
}

static float widened(t2g_precision precision, float x) {
    return precision == T2G_PRECISION_BF16 ? t2g_bf16_to_f32(t2g_f32_to_bf16(x)) : t2g_f16_to_f32(t2g_f32_to_f16(x));
}

/* A frozen bf16 or f16 model (lean) holds the matmuls' weights in 16 bits alone: its parameters
 * are the other tensors', and it reads back those weights as the 16-bit values its matmuls use
 * (the trainable model's rounded exactly), the others exact. */
static void lean_checks(check_ctx *ctx, const char *name, t2g_gpt *trainable, t2g_gpt *frozen,
                        const t2g_gpt_memory need[2]) {
    t2g_precision precision = t2g_gpt_precision(frozen);
    const t2g_tensor_request kept = {NULL, kept_floats(frozen)};
    check_true(ctx, need[1].parameters == t2g_arena_bytes_for(&kept, 1) && need[1].parameters < need[0].parameters / 2 &&
                        need[1].parameters16 == need[0].parameters16,
               "%s frozen %s: %llu bytes of f32 parameters (the tensors besides the matmuls' weights) against %llu, "
               "and the 16-bit copy", name, t2g_precision_name(precision), (unsigned long long)need[1].parameters,
               (unsigned long long)need[0].parameters);
    uint64_t n = t2g_gpt_buffer_floats(frozen);
    float *want = check_host(ctx, n * sizeof(float)), *got = check_host(ctx, n * sizeof(float));
    check_status(ctx, t2g_gpt_read(trainable, want, NULL, NULL, &ctx->err), "reading the trainable model");
    check_status(ctx, t2g_gpt_read(frozen, got, NULL, NULL, &ctx->err), "reading the frozen model");
    const t2g_gpt_param *table;
    uint32_t count = t2g_gpt_params(frozen, &table);
    for (uint32_t i = 0; i < count && !ctx->failures; i++) {
        const t2g_gpt_param *p = &table[i];
        size_t floats = (size_t)p->rows * p->cols;
        float *rounded = check_host(ctx, floats * sizeof(float));
        for (size_t k = 0; k < floats; k++)
            rounded[k] = matmuls_only(p->name) ? widened(precision, want[p->offset + k]) : want[p->offset + k];
        char label[96];
        snprintf(label, sizeof label, "%s frozen %s: %s read back", name, t2g_precision_name(precision), p->name);
        check_bitwise(ctx, label, rounded, got + p->offset, floats);
    }
}

static void frozen_case(check_ctx *ctx, const char *name, const t2g_model_config *model, t2g_precision precision) {
    check_case_begin(ctx);
    t2g_model_config config = *model;
    config.precision = precision;
    const t2g_model_config *c = &config;
    t2g_gpt *trainable = NULL, *frozen = NULL;
    t2g_gpt_memory need[2];
    check_status(ctx, t2g_gpt_memory_needed(c, B, T, false, &need[0], &ctx->err), "sizing the model");
    check_status(ctx, t2g_gpt_memory_needed(c, B, T, true, &need[1], &ctx->err), "sizing the frozen model");
    if (!check_status(ctx, t2g_gpt_create(ctx->device, c, B, T, &trainable, &ctx->err), "creating the model") ||
        !check_status(ctx, t2g_gpt_create_frozen(ctx->device, c, B, T, &frozen, &ctx->err), "creating the frozen model")) {
        t2g_gpt_destroy(trainable);
        return;
    }
    check_true(ctx, need[0].total == t2g_gpt_device_bytes(trainable) && need[1].total == t2g_gpt_device_bytes(frozen),
               "%s: the estimates (%llu, frozen %llu bytes) are what is allocated (%llu, %llu)", name,
               (unsigned long long)need[0].total, (unsigned long long)need[1].total,
               (unsigned long long)t2g_gpt_device_bytes(trainable), (unsigned long long)t2g_gpt_device_bytes(frozen));
    bool lean = precision != T2G_PRECISION_F32;
    check_true(ctx, need[1].gradients == 0 && need[1].moments == 0 &&
                        (lean || need[1].parameters == need[0].parameters) && need[1].activations < need[0].activations,
               "%s frozen: no gradients or moments, fewer activations (%llu of %llu bytes)", name,
               (unsigned long long)need[1].activations, (unsigned long long)need[0].activations);
    check_true(ctx, t2g_gpt_is_frozen(frozen) && !t2g_gpt_is_frozen(trainable), "%s: t2g_gpt_is_frozen", name);

    t2g_tensor tokens = check_upload(ctx, check_random_tokens(ctx, B * T, c->vocab), B * T);
    float *want = forward_logits(ctx, trainable, tokens, c), *got = forward_logits(ctx, frozen, tokens, c);
    char label[96];
    snprintf(label, sizeof label, "%s frozen model's logits (%s)", name, t2g_precision_name(precision));
    check_bitwise(ctx, label, want, got, (size_t)B * T * c->vocab);
    if (lean) lean_checks(ctx, name, trainable, frozen, need);

    /* Everything that needs gradients or moments is refused, naming the frozen model. */
    t2g_tensor weights = check_upload(ctx, check_random_floats(ctx, B * T, 0, 1), B * T), norm = check_poisoned(ctx, 2);
    t2g_adamw_settings settings = {.learning_rate = 1e-3f, .beta1 = 0.9f, .beta2 = 0.95f, .epsilon = 1e-8f, .step = 1};
    float *host = check_host(ctx, t2g_gpt_buffer_floats(frozen) * sizeof(float));
    const t2g_status refused[] = {
        t2g_gpt_backward(frozen, ctx->recorder, tokens, weights, B, T, 1.0f, &ctx->err),
        t2g_gpt_loss_sum(frozen, ctx->recorder, norm, weights, B, T, &ctx->err),
        t2g_gpt_zero_grads(frozen, ctx->recorder, &ctx->err),
        t2g_gpt_update(frozen, ctx->recorder, &settings, 1.0f, norm, &ctx->err),
        t2g_gpt_read_grads(frozen, host, &ctx->err),
        t2g_gpt_read(frozen, host, host, NULL, &ctx->err),
    };
    static const char *const what[] = {"backward", "loss sum", "zero grads", "update", "read grads", "read of m"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        check_true(ctx, refused[i] == T2G_ERR_ARGUMENT, "%s frozen: %s refused (%s)", name, what[i],
                   t2g_status_name(refused[i]));
    check_true(ctx, strstr(ctx->err.message, "frozen") != NULL, "the refusal says why: %s", ctx->err.message);
    check_status(ctx, t2g_gpt_read(frozen, host, NULL, NULL, &ctx->err), "reading a frozen model's parameters");
    t2g_gpt_destroy(trainable);
    t2g_gpt_destroy(frozen);
}

T2G_CHECK(gpt_frozen) {
    bool storage16 = t2g_device_get_info(ctx->device)->storage_16bit; /* bf16 and f16 need it */
    for (t2g_precision precision = T2G_PRECISION_F32; precision <= (storage16 ? T2G_PRECISION_F16 : T2G_PRECISION_F32);
         precision++) {
        frozen_case(ctx, "gpt2", &GPT2, precision);
        frozen_case(ctx, "llama", &LLAMA, precision);
    }
    return ctx->failures;
}

/* The activations of c with `layers` layers and an MLP `ffn` wide, for 8 x 8 tokens. */
static uint64_t activations_of(check_ctx *ctx, t2g_model_config c, uint32_t layers, uint32_t ffn, bool frozen) {
    c.layers = layers;
    c.ffn_width = ffn;
    t2g_gpt_memory m = {0};
    check_status(ctx, t2g_gpt_memory_needed(&c, 8, 8, frozen, &m, &ctx->err), "sizing a model");
    return m.activations;
}

/* The GELU or SwiGLU of fch is recomputed in the backward pass, not kept per block: an MLP 32
 * wider (F, and fch's FIN = F or 2 F) costs each set of block activations its wider fch only,
 * and the model one wider fch_act shared by the blocks (and, to train, one wider dfch, and
 * dfch_act where SwiGLU's backward reads it: GELU's gradient goes through the GEMM's outputs).
 * 64 tokens make each of these tensors whole 256-byte alignments: the sums are exact. */
static void recompute_case(check_ctx *ctx, const char *name, const t2g_model_config *c, uint64_t fin_per_f,
                           bool act_gradient) {
    const uint64_t N = 8 * 8, dF = 4 * N * 32, dFIN = fin_per_f * dF;
    for (int frozen = 0; frozen < 2; frozen++)
        for (uint32_t L = 1; L <= 4; L++) {
            uint64_t sets = frozen && L > 2 ? 2 : L; /* frozen: blocks take two sets in turn */
            uint64_t got = activations_of(ctx, *c, L, 72, frozen) - activations_of(ctx, *c, L, 40, frozen);
            uint64_t want = sets * dFIN + dF + (frozen ? 0 : dFIN + (act_gradient ? dF : 0));
            check_true(ctx, got == want,
                       "%s%s, %u layers: an MLP 32 wider adds %llu bytes of activations, %llu (fch per set, one fch_act)",
                       frozen ? "frozen " : "", name, L, (unsigned long long)got, (unsigned long long)want);
        }
}

T2G_HOST_CHECK(gpt_memory_recompute) {
    recompute_case(ctx, "gpt2", &GPT2, 1, false);
    recompute_case(ctx, "llama", &LLAMA, 2, true);
    return ctx->failures;
}

/* A device described by its limits alone, as t2g_gpt_memory_check reads them. */
static t2g_device_info device_of(uint64_t binding, uint64_t allocation, uint64_t heaps) {
    t2g_device_info info = {.max_storage_buffer_range = binding, .max_allocation_bytes = allocation,
                            .max_buffer_bytes = allocation, .device_local_bytes = heaps};
    snprintf(info.name, sizeof info.name, "a test device");
    return info;
}

static void expect_refusal(check_ctx *ctx, const t2g_gpt_memory *m, t2g_device_info device, const char *what,
                           const char *says, const char *advice) {
    t2g_status status = t2g_gpt_memory_check(m, &device, &ctx->err);
    check_true(ctx, status == T2G_ERR_TOO_LARGE && strstr(ctx->err.message, says) && strstr(ctx->err.message, advice),
               "%s is refused (%s): %s", what, t2g_status_name(status), ctx->err.message);
}

T2G_HOST_CHECK(gpt_memory_estimate) {
    t2g_gpt_memory m;
    const uint64_t GIB = 1ull << 30, MIB = 1ull << 20;
    /* SmolLM2-135M has 134,515,008 parameters: each buffer that, plus each tensor's alignment. */
    if (!check_status(ctx, t2g_gpt_memory_needed(&SMOLLM2, 8, 1024, false, &m, &ctx->err), "sizing SmolLM2-135M"))
        return ctx->failures;
    check_true(ctx, m.parameters >= 4ull * 134515008 && m.parameters < 4ull * 134515008 + 256 * 300 &&
                        m.gradients == m.parameters && m.moments == 2 * m.parameters,
               "SmolLM2-135M: %llu bytes of parameters, as many of gradients, twice that of moments",
               (unsigned long long)m.parameters);
    check_true(ctx, m.largest_activation == 4ull * 8 * 1024 * 49152 && strstr(m.largest_activation_name, "logits") &&
                        m.largest_parameter == 4ull * 49152 * 576 && strcmp(m.largest_parameter_name, "wte") == 0,
               "SmolLM2-135M at 8 x 1024: the largest tensors are the logits (%s, %llu bytes) and the embedding (%s, %llu)",
               m.largest_activation_name, (unsigned long long)m.largest_activation, m.largest_parameter_name,
               (unsigned long long)m.largest_parameter);
    check_log(ctx, "  SmolLM2-135M at 8 x 1024: %.2f GiB (parameters %.3f, activations %.2f)", (double)m.total / GIB,
              (double)m.parameters / GIB, (double)m.activations / GIB);
    /* Mesa 22's lavapipe: 128 MiB bindings, 2 GiB allocations and heap; its state alone is past 2 GiB. */
    t2g_device_info lavapipe = device_of(128 * MIB, 2 * GIB, 2 * GIB);
    expect_refusal(ctx, &m, lavapipe, "SmolLM2-135M at 8 x 1024 on lavapipe", "moments", "alone do not fit");
    /* With 24 GiB (Mesa 25's lavapipe): the logits past one binding; a smaller batch helps. */
    expect_refusal(ctx, &m, device_of(128 * MIB, 2 * GIB, 24 * GIB), "SmolLM2-135M at 8 x 1024 on 24 GiB",
                   "logits (B, T, vocab)", "train.micro_batch");
    check_status(ctx, t2g_gpt_memory_needed(&SMOLLM2, 1, 256, false, &m, &ctx->err), "sizing SmolLM2-135M at 1 x 256");
    check_status(ctx, t2g_gpt_memory_check(&m, &(t2g_device_info){.max_storage_buffer_range = 128 * MIB,
                                                                  .max_allocation_bytes = 2 * GIB,
                                                                  .max_buffer_bytes = 2 * GIB,
                                                                  .device_local_bytes = 24 * GIB},
                                           &ctx->err),
                 "SmolLM2-135M at 1 x 256 on 24 GiB");
    t2g_gpt_memory frozen;
    check_status(ctx, t2g_gpt_memory_needed(&SMOLLM2, 1, 256, true, &frozen, &ctx->err), "sizing a frozen SmolLM2");
    check_status(ctx, t2g_gpt_memory_check(&frozen, &lavapipe, &ctx->err), "a frozen SmolLM2-135M at 1 x 256 on lavapipe");
    check_true(ctx, frozen.total < m.total / 3, "frozen: %.3f GiB, trainable %.3f GiB", (double)frozen.total / GIB,
               (double)m.total / GIB);
    /* Frozen in bf16: the f32 parameters are the embedding (49152 x 576, tied to the head) and the
     * norms' weights; every block's matrices are in the 16-bit copy alone. */
    t2g_model_config smollm2_bf16 = SMOLLM2;
    smollm2_bf16.precision = T2G_PRECISION_BF16;
    t2g_gpt_memory lean;
    check_status(ctx, t2g_gpt_memory_needed(&smollm2_bf16, 1, 256, true, &lean, &ctx->err), "sizing a frozen bf16 SmolLM2");
    uint64_t f32_floats = 49152ull * 576 + 61 * 576; /* wte; ln1w and ln2w of 30 blocks, lnfw */
    check_true(ctx, lean.parameters >= 4 * f32_floats && lean.parameters < 4 * f32_floats + 256 * 64 &&
                        lean.parameters16 >= 2ull * 134515008 && lean.parameters16 < 2ull * 134515008 + 128 * 300,
               "frozen bf16 SmolLM2-135M: %llu bytes of f32 parameters (embedding and norms), %llu of bf16 weights",
               (unsigned long long)lean.parameters, (unsigned long long)lean.parameters16);
    check_log(ctx, "  frozen SmolLM2-135M's weights: bf16 %.1f MiB (f32 %.1f + bf16 %.1f), f32 %.1f MiB",
              (double)(lean.parameters + lean.parameters16) / MIB, (double)lean.parameters / MIB,
              (double)lean.parameters16 / MIB, (double)frozen.parameters / MIB);
    /* A binding too small for a parameter: no batch helps. */
    expect_refusal(ctx, &m, device_of(64 * MIB, 2 * GIB, 64 * GIB), "SmolLM2-135M's embedding past a 64 MiB binding",
                   "parameter 'wte'", "no batch size helps");
    expect_refusal(ctx, &m, device_of(GIB, 256 * MIB, 64 * GIB), "a parameter buffer past one allocation",
                   "parameters", "no batch size helps");
    /* Enough for the state but not the activations: smaller batches help. */
    t2g_gpt_memory big;
    check_status(ctx, t2g_gpt_memory_needed(&GPT2_124M, 64, 1024, false, &big, &ctx->err), "sizing GPT-2 at 64 x 1024");
    expect_refusal(ctx, &big, device_of(64 * GIB, 64 * GIB, big.total - 1), "GPT-2 124M at 64 x 1024 in one byte too few",
                   "activations", "train.micro_batch or model.context");
    check_status(ctx, t2g_gpt_memory_check(&big, &(t2g_device_info){.max_storage_buffer_range = 64 * GIB,
                                                                    .max_allocation_bytes = 64 * GIB,
                                                                    .max_buffer_bytes = 64 * GIB,
                                                                    .device_local_bytes = big.total},
                                           &ctx->err),
                 "GPT-2 124M at 64 x 1024 on a device of exactly its size");
    t2g_status status = t2g_gpt_memory_needed(&GPT2_124M, 1, 2048, false, &m, &ctx->err);
    check_true(ctx, status == T2G_ERR_ARGUMENT, "T past the context is refused: %s", ctx->err.message);
    return ctx->failures;
}

/* train.logit_rows = 0 (auto): whole logits where they fit a binding and an eighth of the device's
 * memory, else pieces of at most 256 MiB and a binding; what the plan then holds. */
T2G_HOST_CHECK(gpt_memory_logit_rows) {
    const uint64_t GIB = 1ull << 30, MIB = 1ull << 20;
    t2g_device_info h100 = device_of(4 * GIB - 1, 64 * GIB, 80 * GIB), small = device_of(4 * GIB - 1, 4 * GIB, 8 * GIB);
    t2g_device_info lavapipe = device_of(128 * MIB, 2 * GIB, 24 * GIB);
    const uint64_t gpt2_rows = 8 * 1024;
    struct {
        const char *what;
        uint32_t requested, vocab;
        uint64_t rows;
        const t2g_device_info *device;
        uint32_t want;
    } cases[] = {
        {"GPT-2 at 8 x 1024 on 80 GiB: 1.5 GiB of logits, whole", 0, 50257, gpt2_rows, &h100, 0},
        {"GPT-2 at 8 x 1024 on 8 GiB: past an eighth, pieces of 256 MiB", 0, 50257, gpt2_rows, &small, 1280},
        {"Qwen2.5 at 8 x 1024 on 80 GiB: 4.6 GiB, past a 4 GiB binding", 0, 151936, gpt2_rows, &h100, 384},
        {"SmolLM2 at 1 x 128 on lavapipe: 24 MiB, whole", 0, 49152, 128, &lavapipe, 0},
        {"SmolLM2 at 4 x 256 on lavapipe: 192 MiB, past its 128 MiB binding", 0, 49152, 1024, &lavapipe, 640},
        {"a vocabulary of 2^24 on lavapipe: pieces of 64 rows at least", 0, 1u << 24, 1024, &lavapipe, 64},
        {"train.logit_rows = 128 as asked", 128, 50257, gpt2_rows, &h100, 128},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t got = t2g_logit_rows_for_device(cases[i].requested, cases[i].vocab, cases[i].rows, cases[i].device);
        check_true(ctx, got == cases[i].want, "%s: %u rows (want %u; 0: whole)", cases[i].what, got, cases[i].want);
    }
    /* the plan in pieces of 1280 rows: the logits 1280 x 50257 floats, the rest as whole */
    t2g_model_config pieces = GPT2_124M;
    pieces.logit_rows = 1280;
    t2g_gpt_memory whole, held;
    check_status(ctx, t2g_gpt_memory_needed(&GPT2_124M, 8, 1024, false, &whole, &ctx->err), "sizing GPT-2 whole");
    check_status(ctx, t2g_gpt_memory_needed(&pieces, 8, 1024, false, &held, &ctx->err), "sizing GPT-2 in pieces");
    uint64_t saved = whole.total - held.total, logits = (8ull * 1024 - 1280) * 50257 * 4;
    check_true(ctx, held.logit_rows == 1280 && saved >= logits && saved < logits + 256,
               "GPT-2 124M at 8 x 1024 in pieces of 1280 rows: %.1f MiB against %.1f (the logits' %llu bytes fewer)",
               (double)held.total / MIB, (double)whole.total / MIB, (unsigned long long)logits);
    return ctx->failures;
}

/* t2g_gpt_create refuses, before allocating, a model whose logits exceed one binding (lowered). */
T2G_CHECK(gpt_memory_refused) {
    check_case_begin(ctx);
    t2g_gpt_memory m;
    check_status(ctx, t2g_gpt_memory_needed(&GPT2, B, T, false, &m, &ctx->err), "sizing the model");
    check_status(ctx, t2g_device_limit_binding(ctx->device, 16384, &ctx->err), "lowering the binding range");
    t2g_gpt *gpt = NULL;
    t2g_status status = t2g_gpt_create(ctx->device, &GPT2, B, T, &gpt, &ctx->err);
    check_true(ctx, status == T2G_ERR_TOO_LARGE && gpt == NULL && strstr(ctx->err.message, "parameter 'wte'"),
               "a model whose embedding (%llu bytes) exceeds a binding of 16384 bytes is refused: %s",
               (unsigned long long)m.largest_parameter, ctx->err.message);
    check_status(ctx, t2g_device_limit_binding(ctx->device, 0, &ctx->err), "restoring the binding range");
    return ctx->failures;
}
