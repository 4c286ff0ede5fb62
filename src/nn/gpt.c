/* Creating a GPT: its parameter table, the flat state buffers, and the activations. */
#include <stdio.h>
#include <stdlib.h>

#include "gpt_internal.h"

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
    return T2G_OK;
}

static t2g_status alloc_block(t2g_gpt *gpt, uint32_t l, t2g_error *err) {
    const t2g_model_config *c = &gpt->config;
    uint64_t N = (uint64_t)gpt->B * gpt->T, C = c->width;
    gpt_block_acts *x = &gpt->acts[l];
    const t2g_tensor_request requests[] = {
        {&x->ln1, N * C},      {&x->ln1_mean, N},     {&x->ln1_rstd, N},         {&x->qkv, N * gpt->QKV},
        {&x->atty, N * C},     {&x->lse, (uint64_t)gpt->B * c->heads * gpt->T}, {&x->attproj, N * C},
        {&x->residual2, N * C}, {&x->ln2, N * C},     {&x->ln2_mean, N},         {&x->ln2_rstd, N},
        {&x->fch, N * gpt->FIN}, {&x->fch_act, N * gpt->F}, {&x->fcproj, N * C}, {&x->residual3, N * C},
    };
    char name[32];
    snprintf(name, sizeof name, "activations of block %u", l);
    return t2g_arena_create_for(gpt->device, name, requests, sizeof requests / sizeof requests[0], &gpt->act_arenas[l + 1], err);
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

/* One arena per block and one for the rest: a large model's activations need not fit one
 * device allocation. */
static t2g_status alloc_activations(t2g_gpt *gpt, t2g_error *err) {
    const t2g_model_config *c = &gpt->config;
    uint64_t N = (uint64_t)gpt->B * gpt->T, C = c->width;
    gpt->acts = calloc(c->layers, sizeof *gpt->acts);
    gpt->act_arenas = calloc(c->layers + 1, sizeof *gpt->act_arenas);
    if (!gpt->acts || !gpt->act_arenas) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory for the activations' table");
    uint64_t rope_floats = gpt->arch->positions ? 1 : (uint64_t)c->context * gpt->hs;
    const t2g_tensor_request requests[] = {
        {&gpt->encoded, N * C},  {&gpt->lnf, N * C},   {&gpt->lnf_mean, N},       {&gpt->lnf_rstd, N},
        {&gpt->logits, N * c->vocab}, {&gpt->losses, N}, {&gpt->dresidual, N * C}, {&gpt->dln, N * C},
        {&gpt->datty, N * C},    {&gpt->dqkv, N * gpt->QKV}, {&gpt->dfch, N * gpt->FIN}, {&gpt->dfch_act, N * gpt->F},
        {&gpt->rope, rope_floats},
    };
    t2g_status status =
        t2g_arena_create_for(gpt->device, "activations", requests, sizeof requests / sizeof requests[0], &gpt->act_arenas[0], err);
    for (uint32_t l = 0; l < c->layers && !status; l++) status = alloc_block(gpt, l, err);
    if (!status && !gpt->arch->positions) status = upload_rope_table(gpt, err);
    return status;
}

/* Each flat buffer in its own arena: none of the four need fit one allocation together. */
static t2g_status alloc_state(t2g_gpt *gpt, t2g_error *err) {
    static const char *const names[GPT_STATE_BUFFERS] = {"parameters", "gradients", "AdamW m", "AdamW v"};
    t2g_tensor *buffers[GPT_STATE_BUFFERS] = {&gpt->params, &gpt->grads, &gpt->m, &gpt->v};
    t2g_status status = T2G_OK;
    for (int i = 0; i < GPT_STATE_BUFFERS && !status; i++) {
        const t2g_tensor_request request = {buffers[i], gpt->buffer_floats};
        status = t2g_arena_create_for(gpt->device, names[i], &request, 1, &gpt->state_arenas[i], err);
    }
    if (status) return status;
    gpt->weights.blocks = calloc(gpt->config.layers, sizeof(gpt_block));
    gpt->grad_weights.blocks = calloc(gpt->config.layers, sizeof(gpt_block));
    if (!gpt->weights.blocks || !gpt->grad_weights.blocks)
        return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory for the parameter views");
    gpt_make_views(gpt, gpt->params, &gpt->weights);
    gpt_make_views(gpt, gpt->grads, &gpt->grad_weights);
    return T2G_OK;
}

t2g_status t2g_gpt_create(t2g_device *device, const t2g_model_config *config, uint32_t B, uint32_t T, t2g_gpt **out,
                          t2g_error *err) {
    *out = NULL;
    t2g_status status = check_config(config, B, T, err);
    if (status) return status;
    t2g_gpt *gpt = calloc(1, sizeof *gpt);
    if (!gpt) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory creating a GPT");
    gpt->device = device;
    gpt->config = *config;
    gpt->arch = gpt_arch_of(config->arch);
    gpt->B = B;
    gpt->T = T;
    gpt->NH = config->heads;
    gpt->KVH = t2g_model_kv_heads(config);
    gpt->hs = t2g_model_head_size(config);
    gpt->QKV = gpt_arch_dim(gpt->arch, config, DIM_QKV);
    gpt->F = gpt_arch_dim(gpt->arch, config, DIM_FFN);
    gpt->FIN = gpt_arch_dim(gpt->arch, config, DIM_FFN_IN);
    status = gpt_build_table(gpt, err);
    if (!status) status = alloc_state(gpt, err);
    if (!status) status = alloc_activations(gpt, err);
    if (status) {
        t2g_error_context(err, "creating a GPT (%u layers, width %u, vocab %u) for %u x %u tokens", config->layers,
                          config->width, config->vocab, B, T);
        t2g_gpt_destroy(gpt);
        return status;
    }
    *out = gpt;
    return T2G_OK;
}

void t2g_gpt_destroy(t2g_gpt *gpt) {
    if (!gpt) return;
    for (uint32_t l = 0; gpt->act_arenas && l <= gpt->config.layers; l++) t2g_arena_destroy(gpt->act_arenas[l]);
    free(gpt->act_arenas);
    for (int i = 0; i < GPT_STATE_BUFFERS; i++) t2g_arena_destroy(gpt->state_arenas[i]);
    free(gpt->acts);
    free(gpt->weights.blocks);
    free(gpt->grad_weights.blocks);
    free(gpt->table);
    free(gpt);
}

const t2g_model_config *t2g_gpt_config(const t2g_gpt *gpt) { return &gpt->config; }
t2g_device *t2g_gpt_device(const t2g_gpt *gpt) { return gpt->device; }
void t2g_gpt_capacity(const t2g_gpt *gpt, uint32_t *B, uint32_t *T) {
    *B = gpt->B;
    *T = gpt->T;
}
t2g_tensor t2g_gpt_logits(const t2g_gpt *gpt) { return gpt->logits; }
t2g_tensor t2g_gpt_losses(const t2g_gpt *gpt) { return gpt->losses; }
t2g_tensor t2g_gpt_hidden(const t2g_gpt *gpt) { return gpt->lnf; }

uint64_t t2g_gpt_device_bytes(const t2g_gpt *gpt) {
    uint64_t bytes = 0;
    for (int i = 0; i < GPT_STATE_BUFFERS; i++) bytes += t2g_arena_capacity_bytes(gpt->state_arenas[i]);
    for (uint32_t l = 0; l <= gpt->config.layers; l++) bytes += t2g_arena_capacity_bytes(gpt->act_arenas[l]);
    return bytes;
}
