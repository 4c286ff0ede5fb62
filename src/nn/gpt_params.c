/* The parameter table of the flat buffer, views into it, initialisation, host copies. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpt_internal.h"
#include "t2g/rng.h"

#define ALIGN_FLOATS 64u /* 256 bytes: any device's storage-buffer offset alignment */

typedef enum kind {
    WTE, WPE, QKVW, ATTPROJW, FCW, FCPROJW,           /* decayed */
    LN1W, LN1B, QKVB, ATTPROJB, LN2W, LN2B, FCB, FCPROJB, LNFW, LNFB
} kind;

static const char *const KIND_NAMES[] = {"wte", "wpe", "qkvw", "attprojw", "fcw", "fcprojw", "ln1w", "ln1b",
                                         "qkvb", "attprojb", "ln2w", "ln2b", "fcb", "fcprojb", "lnfw", "lnfb"};

static void shape_of(const t2g_model_config *c, kind k, uint32_t *rows, uint32_t *cols) {
    uint32_t C = c->width;
    *rows = 1;
    *cols = C;
    switch (k) {
    case WTE: *rows = c->vocab; break;
    case WPE: *rows = c->context; break;
    case QKVW: *rows = 3 * C; break;
    case ATTPROJW: *rows = C; break;
    case FCW: *rows = 4 * C; break;
    case FCPROJW: *rows = C, *cols = 4 * C; break;
    case QKVB: *cols = 3 * C; break;
    case FCB: *cols = 4 * C; break;
    default: break; /* vectors of C */
    }
}

/* Appends tensor `k` of block `layer` (-1: not in a block) at the next aligned offset. */
static void append(t2g_gpt *gpt, kind k, int layer, uint64_t *offset) {
    t2g_gpt_param *p = &gpt->table[gpt->table_count++];
    p->name = KIND_NAMES[k];
    p->layer = layer;
    shape_of(&gpt->config, k, &p->rows, &p->cols);
    p->decay = k <= FCPROJW;
    p->offset = *offset;
    uint64_t count = (uint64_t)p->rows * p->cols;
    *offset += (count + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
    gpt->parameter_count += count;
}

t2g_status gpt_build_table(t2g_gpt *gpt, t2g_error *err) {
    uint32_t L = gpt->config.layers;
    gpt->table = calloc(4 + 12 * (size_t)L, sizeof *gpt->table);
    if (!gpt->table) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory for the parameter table");
    /* The buffer: wte, wpe, every block's matrices (all decayed), then every vector. */
    uint64_t offset = 0;
    append(gpt, WTE, -1, &offset);
    append(gpt, WPE, -1, &offset);
    for (uint32_t l = 0; l < L; l++)
        for (kind k = QKVW; k <= FCPROJW; k++) append(gpt, k, (int)l, &offset);
    gpt->decayed_floats = offset;
    for (uint32_t l = 0; l < L; l++)
        for (kind k = LN1W; k <= FCPROJB; k++) append(gpt, k, (int)l, &offset);
    append(gpt, LNFW, -1, &offset);
    append(gpt, LNFB, -1, &offset);
    gpt->buffer_floats = offset;
    return T2G_OK;
}

static t2g_tensor view(t2g_tensor buffer, const t2g_gpt_param *p) {
    return (t2g_tensor){buffer.arena, buffer.offset + 4 * p->offset, 4ull * p->rows * p->cols};
}

static t2g_tensor *slot(gpt_weights *w, const t2g_gpt_param *p) {
    if (p->layer < 0) {
        if (strcmp(p->name, "wte") == 0) return &w->wte;
        if (strcmp(p->name, "wpe") == 0) return &w->wpe;
        if (strcmp(p->name, "lnfw") == 0) return &w->lnfw;
        return &w->lnfb;
    }
    gpt_block *b = &w->blocks[p->layer];
    t2g_tensor *slots[] = {&b->ln1w, &b->ln1b, &b->qkvw, &b->qkvb, &b->attprojw, &b->attprojb,
                           &b->ln2w, &b->ln2b, &b->fcw, &b->fcb, &b->fcprojw, &b->fcprojb};
    static const char *const names[] = {"ln1w", "ln1b", "qkvw", "qkvb", "attprojw", "attprojb",
                                        "ln2w", "ln2b", "fcw", "fcb", "fcprojw", "fcprojb"};
    for (int i = 0; i < 12; i++)
        if (strcmp(p->name, names[i]) == 0) return slots[i];
    return NULL;
}

void gpt_make_views(const t2g_gpt *gpt, t2g_tensor buffer, gpt_weights *views) {
    for (uint32_t i = 0; i < gpt->table_count; i++) *slot(views, &gpt->table[i]) = view(buffer, &gpt->table[i]);
}

t2g_status t2g_gpt_init(t2g_gpt *gpt, uint64_t seed, t2g_error *err) {
    uint64_t n = gpt->buffer_floats;
    float *params = calloc(n, sizeof *params);
    if (!params) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory initialising %llu parameters", (unsigned long long)n);
    t2g_rng rng = t2g_rng_seeded(seed);
    double residual_std = 0.02 / sqrt(2.0 * gpt->config.layers);
    for (uint32_t i = 0; i < gpt->table_count; i++) {
        const t2g_gpt_param *p = &gpt->table[i];
        float *x = params + p->offset;
        uint64_t count = (uint64_t)p->rows * p->cols;
        bool is_ln_weight = strcmp(p->name, "ln1w") == 0 || strcmp(p->name, "ln2w") == 0 || strcmp(p->name, "lnfw") == 0;
        if (p->decay) {
            bool into_residual = strcmp(p->name, "attprojw") == 0 || strcmp(p->name, "fcprojw") == 0;
            double std = into_residual ? residual_std : 0.02;
            for (uint64_t k = 0; k < count; k++) x[k] = (float)(std * t2g_rng_normal(&rng));
        } else if (is_ln_weight) {
            for (uint64_t k = 0; k < count; k++) x[k] = 1.0f;
        } /* biases stay 0 */
    }
    float *zeros = calloc(n, sizeof *zeros);
    t2g_status status = zeros ? t2g_gpt_write(gpt, params, zeros, zeros, err)
                              : t2g_fail(err, T2G_ERR_MEMORY, "out of host memory initialising the optimizer state");
    free(zeros);
    free(params);
    return status;
}

t2g_status t2g_gpt_read(t2g_gpt *gpt, float *params, float *m, float *v, t2g_error *err) {
    uint64_t bytes = 4 * gpt->buffer_floats;
    t2g_status status = t2g_tensor_download(gpt->params, params, bytes, err);
    if (!status && m) status = t2g_tensor_download(gpt->m, m, bytes, err);
    if (!status && v) status = t2g_tensor_download(gpt->v, v, bytes, err);
    return status;
}

t2g_status t2g_gpt_write(t2g_gpt *gpt, const float *params, const float *m, const float *v, t2g_error *err) {
    uint64_t bytes = 4 * gpt->buffer_floats;
    t2g_status status = t2g_tensor_upload(gpt->params, params, bytes, err);
    if (!status && m) status = t2g_tensor_upload(gpt->m, m, bytes, err);
    if (!status && v) status = t2g_tensor_upload(gpt->v, v, bytes, err);
    return status;
}

t2g_status t2g_gpt_read_grads(t2g_gpt *gpt, float *grads, t2g_error *err) {
    return t2g_tensor_download(gpt->grads, grads, 4 * gpt->buffer_floats, err);
}

uint32_t t2g_gpt_params(const t2g_gpt *gpt, const t2g_gpt_param **table) {
    *table = gpt->table;
    return gpt->table_count;
}
uint64_t t2g_gpt_buffer_floats(const t2g_gpt *gpt) { return gpt->buffer_floats; }
uint64_t t2g_gpt_decayed_floats(const t2g_gpt *gpt) { return gpt->decayed_floats; }
uint64_t t2g_gpt_parameter_count(const t2g_gpt *gpt) { return gpt->parameter_count; }
