/* Creating a GPT: its parameter table, the flat state buffers, and the activations. */
#include <stdio.h>
#include <stdlib.h>

#include "gpt_internal.h"

static t2g_status check_config(const t2g_model_config *c, uint32_t B, uint32_t T, t2g_error *err) {
    if (!c->vocab || !c->context || !c->layers || !c->heads || !c->width || !B || !T)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "GPT: vocab, context, layers, heads, width, B and T must all be >= 1");
    if (c->width % c->heads || c->width / c->heads > 128)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "GPT: heads (%u) must divide width (%u) into heads of at most 128", c->heads,
                        c->width);
    if (T > c->context)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "GPT: sequences of %u tokens exceed the model's context of %u", T, c->context);
    return T2G_OK;
}

static t2g_status alloc(t2g_arena *arena, uint64_t floats, t2g_tensor *t, t2g_error *err) {
    return t2g_tensor_alloc_f32(arena, floats, t, err);
}

/* Floats of one block's activations, and of the rest (embedding, final LayerNorm, logits,
 * backward scratch), plus 256 bytes of alignment room per tensor. */
static uint64_t block_bytes(const t2g_model_config *c, uint64_t N, uint64_t lse) {
    uint64_t C = c->width;
    return 4 * (N * C * 7 + N * 4 + N * 3 * C + lse + N * 4 * C * 2) + 256 * 16;
}

static uint64_t rest_bytes(const t2g_model_config *c, uint64_t N) {
    uint64_t C = c->width;
    return 4 * (N * C * 2 + N * 2 + N * c->vocab + N + N * C * 2 + N * 3 * C + N * 4 * C * 2) + 256 * 16;
}

static t2g_status alloc_block(t2g_gpt *gpt, uint32_t l, t2g_error *err) {
    const t2g_model_config *c = &gpt->config;
    uint64_t N = (uint64_t)gpt->B * gpt->T, C = c->width, lse = (uint64_t)gpt->B * c->heads * gpt->T;
    char name[32];
    snprintf(name, sizeof name, "activations of block %u", l);
    t2g_status status = t2g_arena_create(gpt->device, block_bytes(c, N, lse), name, &gpt->act_arenas[l + 1], err);
    t2g_arena *a = gpt->act_arenas[l + 1];
    gpt_block_acts *x = &gpt->acts[l];
    t2g_tensor *nc[] = {&x->ln1, &x->atty, &x->attproj, &x->residual2, &x->ln2, &x->fcproj, &x->residual3};
    for (size_t i = 0; i < 7 && !status; i++) status = alloc(a, N * C, nc[i], err);
    t2g_tensor *n1[] = {&x->ln1_mean, &x->ln1_rstd, &x->ln2_mean, &x->ln2_rstd};
    for (size_t i = 0; i < 4 && !status; i++) status = alloc(a, N, n1[i], err);
    if (!status) status = alloc(a, N * 3 * C, &x->qkv, err);
    if (!status) status = alloc(a, lse, &x->lse, err);
    if (!status) status = alloc(a, N * 4 * C, &x->fch, err);
    if (!status) status = alloc(a, N * 4 * C, &x->fch_gelu, err);
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
    t2g_status status = t2g_arena_create(gpt->device, rest_bytes(c, N), "activations", &gpt->act_arenas[0], err);
    t2g_arena *a = gpt->act_arenas[0];
    if (!status) status = alloc(a, N * C, &gpt->encoded, err);
    if (!status) status = alloc(a, N * C, &gpt->lnf, err);
    if (!status) status = alloc(a, N, &gpt->lnf_mean, err);
    if (!status) status = alloc(a, N, &gpt->lnf_rstd, err);
    if (!status) status = alloc(a, N * c->vocab, &gpt->logits, err);
    if (!status) status = alloc(a, N, &gpt->losses, err);
    if (!status) status = alloc(a, N * C, &gpt->dresidual, err);
    if (!status) status = alloc(a, N * C, &gpt->dln, err);
    if (!status) status = alloc(a, N * C, &gpt->datty, err);
    if (!status) status = alloc(a, N * 3 * C, &gpt->dqkv, err);
    if (!status) status = alloc(a, N * 4 * C, &gpt->dfch, err);
    if (!status) status = alloc(a, N * 4 * C, &gpt->dfch_gelu, err);
    for (uint32_t l = 0; l < c->layers && !status; l++) status = alloc_block(gpt, l, err);
    return status;
}

static t2g_status alloc_state(t2g_gpt *gpt, t2g_error *err) {
    uint64_t n = gpt->buffer_floats;
    t2g_status status = t2g_arena_create(gpt->device, 4 * (4 * n + 256), "parameters", &gpt->state_arena, err);
    if (!status) status = alloc(gpt->state_arena, n, &gpt->params, err);
    if (!status) status = alloc(gpt->state_arena, n, &gpt->grads, err);
    if (!status) status = alloc(gpt->state_arena, n, &gpt->m, err);
    if (!status) status = alloc(gpt->state_arena, n, &gpt->v, err);
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
    gpt->B = B;
    gpt->T = T;
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
    t2g_arena_destroy(gpt->state_arena);
    free(gpt->acts);
    free(gpt->weights.blocks);
    free(gpt->grad_weights.blocks);
    free(gpt->table);
    free(gpt);
}

const t2g_model_config *t2g_gpt_config(const t2g_gpt *gpt) { return &gpt->config; }
t2g_device *t2g_gpt_device(const t2g_gpt *gpt) { return gpt->device; }
t2g_tensor t2g_gpt_logits(const t2g_gpt *gpt) { return gpt->logits; }
t2g_tensor t2g_gpt_losses(const t2g_gpt *gpt) { return gpt->losses; }
t2g_tensor t2g_gpt_hidden(const t2g_gpt *gpt) { return gpt->lnf; }

uint64_t t2g_gpt_device_bytes(const t2g_gpt *gpt) {
    uint64_t bytes = t2g_arena_capacity_bytes(gpt->state_arena);
    for (uint32_t l = 0; l <= gpt->config.layers; l++) bytes += t2g_arena_capacity_bytes(gpt->act_arenas[l]);
    return bytes;
}
