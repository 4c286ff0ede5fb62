/* Creating a GPT: its parameter table, the flat state buffers (one arena each), and the
 * activations; and, from the config alone, the device memory all of that will take, checked
 * against the device (gpt_memory.c) before anything is allocated. */
#include <stdio.h>
#include <stdlib.h>

#include "gpt_internal.h"
#include "t2g/variants.h"

static t2g_status check_config(const t2g_model_config *c, uint32_t B, uint32_t T, t2g_error *err) {
    if (!gpt_arch_of(c->arch))
        return t2g_fail(err, T2G_ERR_ARGUMENT, "GPT: architecture %d is not one t2g has", (int)c->arch);
    if (!c->vocab || !c->context || !c->layers || !c->heads || !c->width || !B || !T)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "GPT: vocab, context, layers, heads, width, B and T must all be >= 1");
    if (c->width % c->heads || c->width / c->heads > 128)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "GPT: heads (%u) must divide width (%u) into heads of at most 128", c->heads,
                        c->width);
    uint32_t kv = t2g_model_kv_heads(c);
    if (kv > c->heads || c->heads % kv)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "GPT: kv_heads (%u) must divide heads (%u)", kv, c->heads);
    if (c->arch == T2G_ARCH_LLAMA && (c->width / c->heads) % 2)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "GPT: rotary positions need an even head size, not %u", c->width / c->heads);
    if (T > c->context)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "GPT: sequences of %u tokens exceed the model's context of %u", T, c->context);
    if (c->precision == T2G_PRECISION_AUTO)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "GPT: precision \"auto\" must be resolved against a device first "
                        "(t2g_precision_for_device)");
    if ((unsigned)c->precision > T2G_PRECISION_AUTO)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "GPT: precision %d is not one t2g has", (int)c->precision);
    if (c->logit_rows % T2G_LOGIT_ROWS_STEP)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "GPT: logit_rows (%u) must be 0 (all) or a multiple of %u", c->logit_rows,
                        T2G_LOGIT_ROWS_STEP);
    return T2G_OK;
}

uint32_t t2g_logit_rows_for_device(uint32_t requested, uint32_t vocab, uint64_t rows, const t2g_device_info *device) {
    if (requested) return requested;
    uint64_t range = device->max_storage_buffer_range, whole = rows * vocab * 4ull;
    bool fits_binding = !range || whole <= range;
    bool small_share = !device->device_local_bytes || whole <= device->device_local_bytes / T2G_LOGITS_AUTO_SHARE;
    if (fits_binding && small_share) return 0; /* whole: the head's GEMMs at their widest */
    uint64_t budget = range && range < T2G_LOGITS_AUTO_BYTES ? range : T2G_LOGITS_AUTO_BYTES;
    uint64_t piece = budget / (4ull * vocab) / T2G_LOGIT_ROWS_STEP * T2G_LOGIT_ROWS_STEP;
    if (piece < T2G_LOGIT_ROWS_STEP) return T2G_LOGIT_ROWS_STEP;
    return piece > UINT32_MAX - T2G_LOGIT_ROWS_STEP ? UINT32_MAX / T2G_LOGIT_ROWS_STEP * T2G_LOGIT_ROWS_STEP
                                                     : (uint32_t)piece;
}

t2g_precision t2g_precision_for_device(t2g_precision requested, const t2g_device_info *device) {
    if (requested != T2G_PRECISION_AUTO) return requested;
    return device->kind != T2G_DEVICE_CPU && device->storage_16bit ? T2G_PRECISION_BF16 : T2G_PRECISION_F32;
}

const char *t2g_precision_name(t2g_precision precision) {
    static const char *const names[] = {"f32", "bf16", "f16", "auto"};
    return (unsigned)precision <= T2G_PRECISION_AUTO ? names[precision] : "unknown";
}

/* The element type of the 16-bit copies and the matmuls' input activations. */
static t2g_dtype precision_dtype(t2g_precision precision) {
    return precision == T2G_PRECISION_BF16 ? T2G_DTYPE_BF16 : precision == T2G_PRECISION_F16 ? T2G_DTYPE_F16 : T2G_DTYPE_F32;
}

/* What 16-bit storage needs of a device: the feature, and views of the 16-bit copy binding where
 * they start (the parameter table aligns tensors to 64 elements: 128 bytes of 16-bit ones). */
static t2g_status check_precision_device(t2g_precision precision, const t2g_device_info *device, t2g_error *err) {
    if (!device->storage_16bit)
        return t2g_fail(err, T2G_ERR_UNSUPPORTED, "train.precision %s: %s has no 16-bit storage "
                        "(storageBuffer16BitAccess); use f32 or auto", t2g_precision_name(precision), device->name);
    if (device->min_storage_buffer_offset_alignment > 128)
        return t2g_fail(err, T2G_ERR_UNSUPPORTED, "train.precision %s: %s aligns storage-buffer offsets to %u bytes; "
                        "t2g's 16-bit weight views start on 128; use f32", t2g_precision_name(precision),
                        device->name, device->min_storage_buffer_offset_alignment);
    return T2G_OK;
}

/* The precision a model is made in: the request resolved against the device, its 16-bit
 * variants self-checked (t2g/variants.h; cached verdicts). A variant the check disabled makes
 * auto fall back to f32 (the check has warned) and a named 16-bit precision an error. */
static t2g_status resolve_precision(t2g_device *device, t2g_precision requested, t2g_precision *resolved,
                                    t2g_error *err) {
    const t2g_device_info *info = t2g_device_get_info(device);
    *resolved = t2g_precision_for_device(requested, info);
    if (*resolved == T2G_PRECISION_F32) return T2G_OK;
    t2g_status status = check_precision_device(*resolved, info, err);
    t2g_variant_verdict verdicts[T2G_MAX_VARIANT_VERDICTS];
    uint32_t count = 0;
    if (!status) status = t2g_variants_check(device, precision_dtype(*resolved), true, verdicts, &count, err);
    for (uint32_t i = 0; i < count && !status; i++) {
        if (verdicts[i].passed || verdicts[i].optional) continue; /* disabled, the kernels take the fallback */
        if (requested == T2G_PRECISION_AUTO) {
            *resolved = T2G_PRECISION_F32;
            return T2G_OK;
        }
        return t2g_fail(err, T2G_ERR_UNSUPPORTED, "train.precision %s: the self-check disabled shader %s on %s (%s); "
                        "use f32 (or auto, which falls back to it)", t2g_precision_name(*resolved), verdicts[i].name,
                        info->name, verdicts[i].message);
    }
    return status;
}

/* ---- the arenas, as lists of tensors: the one place that sizes them ---- */

#define MAX_REQUESTS 24 /* the longest plan (plan_rest, trainable) lists 14 */

typedef struct gpt_arena_plan {
    const char *names[MAX_REQUESTS];         /* each tensor's, for errors */
    t2g_typed_request requests[MAX_REQUESTS];
    size_t count;
} gpt_arena_plan;

static void add_typed(gpt_arena_plan *plan, const char *name, t2g_tensor *tensor, uint64_t count, t2g_dtype dtype) {
    plan->names[plan->count] = name;
    plan->requests[plan->count++] = (t2g_typed_request){tensor, count, dtype};
}

static void add(gpt_arena_plan *plan, const char *name, t2g_tensor *tensor, uint64_t floats) {
    add_typed(plan, name, tensor, floats, T2G_DTYPE_F32);
}

/* The activations' first arena: all but the blocks', with the one fch_act that every block's
 * forward writes and its backward recomputes (the projections' outputs before their residual
 * adds are never stored: the GEMMs add the residual in their outputs). A frozen model has no
 * backward scratch; dfch_act only an architecture whose MLP activation's backward reads it. */
static void plan_rest(t2g_gpt *gpt, gpt_arena_plan *plan) {
    const t2g_model_config *c = &gpt->config;
    uint64_t N = (uint64_t)gpt->B * gpt->T, C = c->width;
    plan->count = 0;
    add(plan, "encoded (B, T, width)", &gpt->encoded, N * C);
    add(plan, "lnf (B, T, width)", &gpt->lnf, N * C);
    add(plan, "lnf_mean (B, T)", &gpt->lnf_mean, N);
    add(plan, "lnf_rstd (B, T)", &gpt->lnf_rstd, N);
    if (gpt->logit_rows) add(plan, "logits (logit rows, vocab)", &gpt->logits, (uint64_t)gpt->logit_rows * c->vocab);
    else add(plan, "logits (B, T, vocab)", &gpt->logits, N * c->vocab);
    add(plan, "losses (B, T)", &gpt->losses, N);
    add(plan, "rope (context, head size)", &gpt->rope, gpt->arch->positions ? 1 : (uint64_t)c->context * gpt->hs);
    add_typed(plan, "fch_act (B, T, ffn width)", &gpt->fch_act, N * gpt->F, gpt->act_dtype); /* matmuls read it */
    if (gpt->act_dtype != T2G_DTYPE_F32) { /* what a 16-bit model keeps in 16 bits, as f32 for one block */
        add(plan, "qkv_wide (B, T, qkv width)", &gpt->qkv_wide, N * gpt->QKV);
        add(plan, "fch_wide (B, T, ffn input width)", &gpt->fch_wide, N * gpt->FIN);
    }
    if (gpt->frozen) return;
    add(plan, "dresidual (B, T, width)", &gpt->dresidual, N * C);
    add(plan, "dln (B, T, width)", &gpt->dln, N * C);
    add(plan, "datty (B, T, width)", &gpt->datty, N * C);
    add(plan, "dqkv (B, T, qkv width)", &gpt->dqkv, N * gpt->QKV);
    add(plan, "dfch (B, T, ffn input width)", &gpt->dfch, N * gpt->FIN);
    if (gpt->arch->mlp_act_gradient) add(plan, "dfch_act (B, T, ffn width)", &gpt->dfch_act, N * gpt->F);
}

/* One block's activations, into x. */
static void plan_block(t2g_gpt *gpt, gpt_block_acts *x, gpt_arena_plan *plan) {
    uint64_t N = (uint64_t)gpt->B * gpt->T, C = gpt->config.width;
    plan->count = 0;
    t2g_dtype act = gpt->act_dtype; /* the activations matmuls read */
    add_typed(plan, "ln1 (B, T, width)", &x->ln1, N * C, act);
    add(plan, "ln1_mean (B, T)", &x->ln1_mean, N);
    add(plan, "ln1_rstd (B, T)", &x->ln1_rstd, N);
    add_typed(plan, "qkv (B, T, qkv width)", &x->qkv, N * gpt->QKV, act); /* 16-bit: kept from qkv_wide */
    add_typed(plan, "atty (B, T, width)", &x->atty, N * C, act);
    add(plan, "lse (B, heads, T)", &x->lse, N * gpt->NH);
    add(plan, "residual2 (B, T, width)", &x->residual2, N * C);
    add_typed(plan, "ln2 (B, T, width)", &x->ln2, N * C, act);
    add(plan, "ln2_mean (B, T)", &x->ln2_mean, N);
    add(plan, "ln2_rstd (B, T)", &x->ln2_rstd, N);
    add_typed(plan, "fch (B, T, ffn input width)", &x->fch, N * gpt->FIN, act); /* 16-bit: kept from fch_wide */
    add(plan, "residual3 (B, T, width)", &x->residual3, N * C);
}

/* Sets of block activations: one per block, or, frozen, two that blocks take in turn (a block
 * reads only the previous block's output and writes its own set). */
static uint32_t activation_sets(const t2g_gpt *gpt) {
    return gpt->frozen && gpt->config.layers > 2 ? 2 : gpt->config.layers;
}

/* ---- sizing from the config alone ---- */

/* The model's sizes and parameter table: all that sizing and allocating start from. */
static t2g_status setup(t2g_gpt *gpt, const t2g_model_config *config, uint32_t B, uint32_t T, bool frozen,
                        t2g_error *err) {
    t2g_status status = check_config(config, B, T, err);
    if (status) return status;
    gpt->config = *config;
    gpt->arch = gpt_arch_of(config->arch);
    gpt->frozen = frozen;
    gpt->B = B;
    gpt->T = T;
    gpt->NH = config->heads;
    gpt->KVH = t2g_model_kv_heads(config);
    gpt->hs = t2g_model_head_size(config);
    gpt->QKV = gpt_arch_dim(gpt->arch, config, DIM_QKV);
    gpt->F = gpt_arch_dim(gpt->arch, config, DIM_FFN);
    gpt->FIN = gpt_arch_dim(gpt->arch, config, DIM_FFN_IN);
    gpt->act_dtype = precision_dtype(config->precision);
    /* pieces of logit_rows only where a micro-batch has more rows */
    gpt->logit_rows = config->logit_rows < (uint64_t)B * T ? config->logit_rows : 0;
    return gpt_build_table(gpt, err);
}

/* Keeps the larger of two tensors that kernels bind whole. */
static void note_largest(uint64_t *largest, const char **largest_name, const char *name, uint64_t bytes) {
    if (bytes <= *largest) return;
    *largest = bytes;
    *largest_name = name;
}

static void measure(t2g_gpt *gpt, t2g_gpt_memory *m) {
    *m = (t2g_gpt_memory){.frozen = gpt->frozen, .B = gpt->B, .T = gpt->T, .logit_rows = gpt->logit_rows};
    const t2g_tensor_request state = {NULL, gpt->buffer_floats}, params = {NULL, gpt->params_floats};
    uint64_t buffer = t2g_arena_bytes_for(&state, 1);
    m->parameters = t2g_arena_bytes_for(&params, 1);
    m->gradients = gpt->frozen ? 0 : buffer;
    m->moments = gpt->frozen ? 0 : 2 * buffer;
    const t2g_typed_request copy16 = {NULL, gpt->buffer_floats, gpt->act_dtype};
    m->parameters16 = gpt->act_dtype == T2G_DTYPE_F32 ? 0 : t2g_arena_bytes_for_typed(&copy16, 1);
    for (uint32_t i = 0; i < gpt->table_count; i++) {
        const t2g_gpt_param *p = &gpt->table[i];
        note_largest(&m->largest_parameter, &m->largest_parameter_name, p->name, 4 * (uint64_t)p->rows * p->cols);
    }
    gpt_arena_plan plan;
    gpt_block_acts scratch; /* the plan's tensors are not allocated here */
    for (uint32_t set = 0; set <= activation_sets(gpt); set++) {
        if (set == 0) plan_rest(gpt, &plan);
        else plan_block(gpt, &scratch, &plan);
        uint64_t bytes = t2g_arena_bytes_for_typed(plan.requests, plan.count);
        m->activations += bytes;
        if (bytes > m->largest_activation_arena) m->largest_activation_arena = bytes;
        for (size_t i = 0; i < plan.count; i++)
            note_largest(&m->largest_activation, &m->largest_activation_name, plan.names[i],
                         plan.requests[i].count * t2g_dtype_bytes(plan.requests[i].dtype));
    }
    m->total = m->parameters + m->parameters16 + m->gradients + m->moments + m->activations;
}

t2g_status t2g_gpt_memory_needed(const t2g_model_config *config, uint32_t B, uint32_t T, bool frozen,
                                 t2g_gpt_memory *memory, t2g_error *err) {
    *memory = (t2g_gpt_memory){0};
    t2g_gpt *gpt = calloc(1, sizeof *gpt);
    if (!gpt) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory sizing a GPT");
    t2g_status status = setup(gpt, config, B, T, frozen, err);
    if (!status) measure(gpt, memory);
    free(gpt->table);
    free(gpt->params_offset);
    free(gpt);
    return status;
}

/* ---- allocating ---- */

static t2g_status create_arena(t2g_gpt *gpt, const gpt_arena_plan *plan, const char *name, t2g_arena **arena,
                               t2g_error *err) {
    return t2g_arena_create_for_typed(gpt->device, name, plan->requests, plan->count, arena, err);
}

/* The rotation's cos and sin for every position, computed on the host in double. */
static t2g_status upload_rope_table(t2g_gpt *gpt, t2g_error *err) {
    uint64_t floats = (uint64_t)gpt->config.context * gpt->hs;
    float *table = malloc(floats * sizeof *table);
    if (!table) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory for the rotary table");
    t2g_rope_table(table, gpt->config.context, gpt->hs, gpt->config.rope_theta);
    t2g_status status = t2g_tensor_upload(gpt->rope, table, floats * sizeof *table, err);
    free(table);
    return status;
}

/* One arena per set of block activations and one for the rest: a large model's activations
 * need not fit one device allocation. */
static t2g_status alloc_activations(t2g_gpt *gpt, t2g_error *err) {
    uint32_t L = gpt->config.layers, sets = activation_sets(gpt);
    gpt->acts = calloc(L, sizeof *gpt->acts);
    gpt->act_arenas = calloc(sets + 1, sizeof *gpt->act_arenas);
    if (!gpt->acts || !gpt->act_arenas) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory for the activations' table");
    gpt->act_arena_count = sets + 1;
    gpt_arena_plan plan;
    plan_rest(gpt, &plan);
    t2g_status status = create_arena(gpt, &plan, "activations", &gpt->act_arenas[0], err);
    for (uint32_t l = 0; l < sets && !status; l++) {
        char name[40];
        snprintf(name, sizeof name, sets < L ? "activations of set %u" : "activations of block %u", l);
        plan_block(gpt, &gpt->acts[l], &plan);
        status = create_arena(gpt, &plan, name, &gpt->act_arenas[l + 1], err);
    }
    for (uint32_t l = sets; l < L; l++) gpt->acts[l] = gpt->acts[l % sets];
    if (!status && !gpt->arch->positions) status = upload_rope_table(gpt, err);
    return status;
}

/* Each state buffer in its own arena, so none of them need fit one allocation together; a
 * frozen model has the parameters only (lean: those read as f32, beside the 16-bit copy). */
static t2g_status alloc_state(t2g_gpt *gpt, t2g_error *err) {
    static const char *const names[GPT_STATE_BUFFERS] = {"parameters", "gradients", "AdamW m", "AdamW v"};
    t2g_tensor *buffers[GPT_STATE_BUFFERS] = {&gpt->params, &gpt->grads, &gpt->m, &gpt->v};
    t2g_status status = T2G_OK;
    for (int i = 0; i < (gpt->frozen ? 1 : GPT_STATE_BUFFERS) && !status; i++) {
        const t2g_tensor_request request = {buffers[i], i == 0 ? gpt->params_floats : gpt->buffer_floats};
        status = t2g_arena_create_for(gpt->device, names[i], &request, 1, &gpt->state_arenas[i], err);
    }
    if (status) return status;
    if (gpt->act_dtype != T2G_DTYPE_F32) {
        const t2g_typed_request request = {&gpt->params16, gpt->buffer_floats, gpt->act_dtype};
        status = t2g_arena_create_for_typed(gpt->device, "16-bit weights", &request, 1, &gpt->params16_arena, err);
        if (status) return status;
        gpt->params16_stale = true;
    }
    gpt->weights.blocks = calloc(gpt->config.layers, sizeof(gpt_block));
    gpt->grad_weights.blocks = calloc(gpt->config.layers, sizeof(gpt_block));
    gpt->weights16.blocks = calloc(gpt->config.layers, sizeof(gpt_block));
    if (!gpt->weights.blocks || !gpt->grad_weights.blocks || !gpt->weights16.blocks)
        return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory for the parameter views");
    gpt_make_params_views(gpt, &gpt->weights);
    if (!gpt->frozen) gpt_make_views(gpt, gpt->grads, &gpt->grad_weights);
    if (gpt->params16_arena) gpt_make_views(gpt, gpt->params16, &gpt->weights16);
    return T2G_OK;
}

static t2g_status create(t2g_device *device, const t2g_model_config *config, uint32_t B, uint32_t T, bool frozen,
                         t2g_gpt **out, t2g_error *err) {
    *out = NULL;
    t2g_gpt *gpt = calloc(1, sizeof *gpt);
    if (!gpt) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory creating a GPT");
    gpt->device = device;
    t2g_gpt_memory memory;
    const t2g_device_info *info = t2g_device_get_info(device);
    t2g_model_config resolved = *config;
    t2g_status status = resolve_precision(device, config->precision, &resolved.precision, err);
    if (!status) status = setup(gpt, &resolved, B, T, frozen, err);
    if (!status) {
        measure(gpt, &memory);
        status = t2g_gpt_memory_check(&memory, info, err);
    }
    if (!status) status = alloc_state(gpt, err);
    if (!status) status = alloc_activations(gpt, err);
    if (status) {
        t2g_error_context(err, "creating a %sGPT (%u layers, width %u, vocab %u) for %u x %u tokens",
                          frozen ? "frozen " : "", config->layers, config->width, config->vocab, B, T);
        t2g_gpt_destroy(gpt);
        return status;
    }
    *out = gpt;
    return T2G_OK;
}

t2g_status t2g_gpt_create(t2g_device *device, const t2g_model_config *config, uint32_t B, uint32_t T, t2g_gpt **out,
                          t2g_error *err) {
    return create(device, config, B, T, false, out, err);
}

t2g_status t2g_gpt_create_frozen(t2g_device *device, const t2g_model_config *config, uint32_t B, uint32_t T,
                                 t2g_gpt **out, t2g_error *err) {
    return create(device, config, B, T, true, out, err);
}

void t2g_gpt_destroy(t2g_gpt *gpt) {
    if (!gpt) return;
    for (uint32_t l = 0; l < gpt->act_arena_count; l++) t2g_arena_destroy(gpt->act_arenas[l]);
    free(gpt->act_arenas);
    for (int i = 0; i < GPT_STATE_BUFFERS; i++) t2g_arena_destroy(gpt->state_arenas[i]);
    t2g_arena_destroy(gpt->params16_arena);
    free(gpt->acts);
    free(gpt->weights.blocks);
    free(gpt->weights16.blocks);
    free(gpt->grad_weights.blocks);
    free(gpt->table);
    free(gpt->params_offset);
    free(gpt);
}

const t2g_model_config *t2g_gpt_config(const t2g_gpt *gpt) { return &gpt->config; }
t2g_precision t2g_gpt_precision(const t2g_gpt *gpt) { return gpt->config.precision; }
t2g_device *t2g_gpt_device(const t2g_gpt *gpt) { return gpt->device; }
bool t2g_gpt_is_frozen(const t2g_gpt *gpt) { return gpt->frozen; }
void t2g_gpt_capacity(const t2g_gpt *gpt, uint32_t *B, uint32_t *T) {
    *B = gpt->B;
    *T = gpt->T;
}
t2g_tensor t2g_gpt_logits(const t2g_gpt *gpt) { return gpt->logit_rows ? (t2g_tensor){0} : gpt->logits; }
uint32_t t2g_gpt_logit_rows(const t2g_gpt *gpt) { return gpt->logit_rows; }
t2g_tensor t2g_gpt_losses(const t2g_gpt *gpt) { return gpt->losses; }
t2g_tensor t2g_gpt_hidden(const t2g_gpt *gpt) { return gpt->lnf; }

uint64_t t2g_gpt_device_bytes(const t2g_gpt *gpt) {
    uint64_t bytes = 0;
    for (int i = 0; i < GPT_STATE_BUFFERS; i++)
        if (gpt->state_arenas[i]) bytes += t2g_arena_capacity_bytes(gpt->state_arenas[i]);
    if (gpt->params16_arena) bytes += t2g_arena_capacity_bytes(gpt->params16_arena);
    for (uint32_t l = 0; l < gpt->act_arena_count; l++) bytes += t2g_arena_capacity_bytes(gpt->act_arenas[l]);
    return bytes;
}
