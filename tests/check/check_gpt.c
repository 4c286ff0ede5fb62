/* The whole GPT on the GPU against tests/ref/gpt.c at a tiny config with odd sizes: logits,
 * losses and every parameter's gradient; then ten AdamW steps whose losses must track the
 * reference's. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "ref/ref.h"
#include "t2g/gpt.h"

/* Odd sizes everywhere: vocabulary 259, head size 12, 3 heads, T = 7 of a context of 11. */
static const t2g_model_config TINY = T2G_MODEL_GPT2(259, 11, 2, 3, 36);
enum { B = 3, T = 7 };

/* Points each tensor of `w` at its place in the flat array, following the model's table. */
static void bind(const t2g_gpt *gpt, double *flat, ref_gpt_weights *w) {
    const t2g_gpt_param *table;
    uint32_t count = t2g_gpt_params(gpt, &table);
    memset(w, 0, sizeof *w);
    for (uint32_t i = 0; i < count; i++) {
        const t2g_gpt_param *p = &table[i];
        double *x = flat + p->offset;
        int l = p->layer;
        if (!strcmp(p->name, "wte")) w->wte = x;
        else if (!strcmp(p->name, "wpe")) w->wpe = x;
        else if (!strcmp(p->name, "lnfw")) w->lnfw = x;
        else if (!strcmp(p->name, "lnfb")) w->lnfb = x;
        else if (!strcmp(p->name, "ln1w")) w->ln1w[l] = x;
        else if (!strcmp(p->name, "ln1b")) w->ln1b[l] = x;
        else if (!strcmp(p->name, "qkvw")) w->qkvw[l] = x;
        else if (!strcmp(p->name, "qkvb")) w->qkvb[l] = x;
        else if (!strcmp(p->name, "attprojw")) w->attprojw[l] = x;
        else if (!strcmp(p->name, "attprojb")) w->attprojb[l] = x;
        else if (!strcmp(p->name, "ln2w")) w->ln2w[l] = x;
        else if (!strcmp(p->name, "ln2b")) w->ln2b[l] = x;
        else if (!strcmp(p->name, "fcw")) w->fcw[l] = x;
        else if (!strcmp(p->name, "fcb")) w->fcb[l] = x;
        else if (!strcmp(p->name, "fcprojw")) w->fcprojw[l] = x;
        else if (!strcmp(p->name, "fcprojb")) w->fcprojb[l] = x;
    }
}

static ref_gpt_shape shape_of(const t2g_model_config *c) {
    return (ref_gpt_shape){(int)c->vocab, (int)c->context, (int)c->layers, (int)c->heads, (int)c->width};
}

/* A model with GPT-2 initialisation plus noise on every parameter (LayerNorm weights away from
 * 1, biases away from 0), so that every gradient is exercised. */
static t2g_gpt *random_model(check_ctx *ctx, float *params) {
    t2g_gpt *gpt;
    if (!check_status(ctx, t2g_gpt_create(ctx->device, &TINY, B, T, &gpt, &ctx->err), "creating the GPT")) return NULL;
    check_status(ctx, t2g_gpt_init(gpt, ctx->seed, &ctx->err), "initialising the GPT");
    check_status(ctx, t2g_gpt_read(gpt, params, NULL, NULL, &ctx->err), "reading the parameters");
    const t2g_gpt_param *table;
    uint32_t count = t2g_gpt_params(gpt, &table);
    for (uint32_t i = 0; i < count; i++)
        for (uint64_t k = 0; k < (uint64_t)table[i].rows * table[i].cols; k++)
            params[table[i].offset + k] += (float)check_uniform(ctx, -0.2, 0.2);
    check_status(ctx, t2g_gpt_write(gpt, params, NULL, NULL, &ctx->err), "writing the parameters");
    return gpt;
}

typedef struct batch_data {
    uint32_t *tokens, *targets;
    float *weights;
    double *weights_d;
    double weight_sum;
    t2g_tensor tokens_t, targets_t, weights_t;
} batch_data;

static batch_data random_batch(check_ctx *ctx) {
    batch_data b;
    b.tokens = check_random_tokens(ctx, B * T, TINY.vocab);
    b.targets = check_random_tokens(ctx, B * T, TINY.vocab);
    b.weights = check_host(ctx, B * T * sizeof(float));
    b.weight_sum = 0;
    for (int i = 0; i < B * T; i++) {
        uint32_t kind = check_random_below(ctx, 3);
        b.weights[i] = kind == 0 ? 0.0f : kind == 1 ? 1.0f : (float)check_uniform(ctx, 0.5, 2.0);
        b.weight_sum += b.weights[i];
    }
    b.weights_d = check_to_double(ctx, b.weights, B * T);
    b.tokens_t = check_upload(ctx, b.tokens, B * T);
    b.targets_t = check_upload(ctx, b.targets, B * T);
    b.weights_t = check_upload(ctx, b.weights, B * T);
    return b;
}

/* Compares each parameter tensor (or gradient) on its own, named "<what> <tensor>". */
static void compare_tensors(check_ctx *ctx, const char *what, const t2g_gpt *gpt, const float *gpu, const double *ref) {
    const t2g_gpt_param *table;
    uint32_t count = t2g_gpt_params(gpt, &table);
    for (uint32_t i = 0; i < count; i++) {
        const t2g_gpt_param *p = &table[i];
        char label[96];
        if (p->layer >= 0) snprintf(label, sizeof label, "%s %s of block %d", what, p->name, p->layer);
        else snprintf(label, sizeof label, "%s %s", what, p->name);
        check_close(ctx, label, gpu + p->offset, ref + p->offset, (size_t)p->rows * p->cols, 1e-4);
    }
}


typedef struct fd_loss {
    const ref_gpt_shape *shape;
    const ref_gpt_weights *w;
    const batch_data *batch;
} fd_loss;

static double loss_of(void *user) {
    fd_loss *f = user;
    double sum = ref_gpt_forward_backward(f->shape, f->w, NULL, f->batch->tokens, f->batch->targets, f->batch->weights_d,
                                          B, T, 1.0, NULL, NULL, NULL);
    return sum / f->batch->weight_sum;
}

T2G_CHECK(gpt_model) {
    check_case_begin(ctx);
    float *params = check_host(ctx, 1 << 22); /* more than the tiny model's buffer */
    t2g_gpt *gpt = random_model(ctx, params);
    if (!gpt) return ctx->failures;
    uint64_t n = t2g_gpt_buffer_floats(gpt);
    const size_t NV = (size_t)B * T * TINY.vocab;
    batch_data batch = random_batch(ctx);
    float dloss = (float)(1.0 / batch.weight_sum);
    t2g_tensor loss_sum = check_poisoned(ctx, 1);

    float *logits[2], *losses[2], *sums[2], *grads[2];
    for (int run = 0; run < 2; run++) {
        check_status(ctx, t2g_gpt_zero_grads(gpt, ctx->recorder, &ctx->err), "zero grads");
        check_status(ctx, t2g_gpt_forward(gpt, ctx->recorder, batch.tokens_t, B, T, &ctx->err), "forward");
        check_submit(ctx);
        logits[run] = check_download(ctx, t2g_gpt_logits(gpt), NV);
        check_poison(ctx, t2g_gpt_losses(gpt), B * T);
        check_status(ctx, t2g_gpt_backward(gpt, ctx->recorder, batch.targets_t, batch.weights_t, B, T, dloss, &ctx->err),
                     "backward");
        check_status(ctx, t2g_gpt_loss_sum(gpt, ctx->recorder, loss_sum, batch.weights_t, B, T, &ctx->err), "loss sum");
        check_submit(ctx);
        losses[run] = check_download(ctx, t2g_gpt_losses(gpt), B * T);
        sums[run] = check_download(ctx, loss_sum, 1);
        grads[run] = check_host(ctx, n * sizeof(float));
        check_status(ctx, t2g_gpt_read_grads(gpt, grads[run], &ctx->err), "reading the gradients");
    }

    ref_gpt_shape shape = shape_of(&TINY);
    double *flat = check_to_double(ctx, params, n), *ref_grads = check_doubles(ctx, n);
    ref_gpt_weights w, g;
    bind(gpt, flat, &w);
    bind(gpt, ref_grads, &g);
    double *ref_logits = check_doubles(ctx, NV), *ref_losses = check_doubles(ctx, B * T);
    double ref_sum = ref_gpt_forward_backward(&shape, &w, &g, batch.tokens, batch.targets, batch.weights_d, B, T, dloss,
                                              NULL, ref_logits, ref_losses);

    check_bitwise(ctx, "gpt logits", logits[0], logits[1], NV);
    check_close(ctx, "gpt logits (B=3 T=7 V=259 C=36 3 heads 2 layers)", logits[0], ref_logits, NV, 1e-4);
    check_bitwise(ctx, "gpt losses", losses[0], losses[1], B * T);
    check_close(ctx, "gpt per-token losses", losses[0], ref_losses, B * T, 1e-4);
    check_close(ctx, "gpt weighted loss sum", sums[0], &ref_sum, 1, 1e-4);
    check_bitwise(ctx, "gpt gradients (the whole buffer)", grads[0], grads[1], n);
    compare_tensors(ctx, "gpt gradient", gpt, grads[0], ref_grads);
    bool padding_zero = true;
    const t2g_gpt_param *table;
    uint32_t count = t2g_gpt_params(gpt, &table);
    for (uint32_t i = 0; i < count; i++) {
        uint64_t end = i + 1 < count ? table[i + 1].offset : n;
        for (uint64_t k = table[i].offset + (uint64_t)table[i].rows * table[i].cols; k < end; k++)
            padding_zero = padding_zero && grads[0][k] == 0.0f;
    }
    check_true(ctx, padding_zero, "the padding between parameter tensors has zero gradient");

    fd_loss f = {&shape, &w, &batch};
    check_finite_differences(ctx, "gpt reference backward vs finite diff", loss_of, &f, flat, ref_grads, n, 40, 1e-6);

    /* A head on the hidden state sends a gradient back through the model (RL's value head). */
    const size_t NC = (size_t)B * T * TINY.width;
    float *dhidden = check_random_floats(ctx, NC, -0.5, 0.5);
    t2g_tensor dhidden_t = check_upload(ctx, dhidden, NC);
    check_status(ctx, t2g_gpt_zero_grads(gpt, ctx->recorder, &ctx->err), "zero grads");
    check_status(ctx, t2g_gpt_forward(gpt, ctx->recorder, batch.tokens_t, B, T, &ctx->err), "forward");
    check_status(ctx, t2g_gpt_backward_with_hidden(gpt, ctx->recorder, batch.targets_t, batch.weights_t, B, T, dloss,
                                                   dhidden_t, &ctx->err),
                 "backward with a hidden-state gradient");
    check_submit(ctx);
    float *with_hidden = check_host(ctx, n * sizeof(float));
    check_status(ctx, t2g_gpt_read_grads(gpt, with_hidden, &ctx->err), "reading the gradients");
    double *ref_with_hidden = check_doubles(ctx, n);
    ref_gpt_weights gh;
    bind(gpt, ref_with_hidden, &gh);
    ref_gpt_forward_backward(&shape, &w, &gh, batch.tokens, batch.targets, batch.weights_d, B, T, dloss,
                             check_to_double(ctx, dhidden, NC), NULL, NULL);
    compare_tensors(ctx, "gpt gradient with dhidden:", gpt, with_hidden, ref_with_hidden);
    t2g_gpt_destroy(gpt);
    return ctx->failures;
}

/* ---- ten AdamW steps, two micro-batches each ---- */

typedef struct ref_state {
    double *params, *m, *v, *grads;
    ref_gpt_weights w, g;
} ref_state;

T2G_CHECK(train_steps) {
    check_case_begin(ctx);
    float *params = check_host(ctx, 1 << 22);
    t2g_gpt *gpt = random_model(ctx, params);
    if (!gpt) return ctx->failures;
    uint64_t n = t2g_gpt_buffer_floats(gpt), decayed = t2g_gpt_decayed_floats(gpt);
    ref_gpt_shape shape = shape_of(&TINY);
    ref_state r = {.params = check_to_double(ctx, params, n), .m = check_doubles(ctx, n), .v = check_doubles(ctx, n),
                   .grads = check_doubles(ctx, n)};
    bind(gpt, r.params, &r.w);
    bind(gpt, r.grads, &r.g);
    t2g_adamw_settings settings = {.learning_rate = 1e-2f, .beta1 = 0.9f, .beta2 = 0.95f, .epsilon = 1e-8f,
                                   .weight_decay = 0.1f};
    const float clip = 1.0f;
    t2g_tensor norm = check_poisoned(ctx, 2);
    t2g_tensor slots[2] = {check_poisoned(ctx, 1), check_poisoned(ctx, 1)}; /* each micro-batch's loss sum */
    const int steps = ctx->quick ? 2 : 10;
    int clipped = 0;
    float *gpu_grads = check_host(ctx, n * sizeof(float));
    for (int step = 1; step <= steps; step++) {
        batch_data micro[2] = {random_batch(ctx), random_batch(ctx)};
        double total = micro[0].weight_sum + micro[1].weight_sum;
        settings.step = (uint32_t)step;
        check_status(ctx, t2g_gpt_zero_grads(gpt, ctx->recorder, &ctx->err), "zero grads");
        for (int k = 0; k < 2; k++) {
            check_status(ctx, t2g_gpt_forward(gpt, ctx->recorder, micro[k].tokens_t, B, T, &ctx->err), "forward");
            check_status(ctx, t2g_gpt_backward(gpt, ctx->recorder, micro[k].targets_t, micro[k].weights_t, B, T,
                                               (float)(1.0 / total), &ctx->err),
                         "backward");
            check_status(ctx, t2g_gpt_loss_sum(gpt, ctx->recorder, slots[k], micro[k].weights_t, B, T, &ctx->err),
                         "loss sum");
        }
        check_submit(ctx);
        check_status(ctx, t2g_gpt_read_grads(gpt, gpu_grads, &ctx->err), "reading the gradients");
        check_status(ctx, t2g_gpt_update(gpt, ctx->recorder, &settings, clip, norm, &ctx->err), "update");
        check_submit(ctx);
        float *first = check_download(ctx, slots[0], 1), *second = check_download(ctx, slots[1], 1);
        double gpu_loss = ((double)first[0] + second[0]) / total;

        /* The reference's loss and gradients at its parameters, against the GPU's ... */
        memset(r.grads, 0, n * sizeof *r.grads);
        double ref_loss = 0;
        for (int k = 0; k < 2; k++)
            ref_loss += ref_gpt_forward_backward(&shape, &r.w, &r.g, micro[k].tokens, micro[k].targets,
                                                 micro[k].weights_d, B, T, 1.0 / total, NULL, NULL, NULL);
        ref_loss /= total;
        char label[64];
        snprintf(label, sizeof label, "train step %d loss (gpu %.6f)", step, gpu_loss);
        float gpu_loss_f = (float)gpu_loss;
        check_close(ctx, label, &gpu_loss_f, &ref_loss, 1, 1e-4);
        snprintf(label, sizeof label, "train step %d gradients", step);
        check_close(ctx, label, gpu_grads, r.grads, n, 1e-4);
        /* ... then the reference AdamW steps on the GPU's own gradients: AdamW divides each moment
         * by the root of the second, so an element whose gradient is small against its history
         * would turn the float32 rounding of that gradient into a fraction of lr of difference
         * (up to 3e-4 of a tensor's norm after ten steps on some seeds); on the same gradients only
         * the optimizer's own arithmetic differs, and the parameters must agree within 1e-4. */
        double *used = check_to_double(ctx, gpu_grads, n);
        double norm_and_scale[2];
        ref_grad_norm(norm_and_scale, used, n, clip);
        clipped += norm_and_scale[1] < 1.0;
        ref_adamw_update(r.params, used, r.m, r.v, decayed, norm_and_scale[1], settings.learning_rate, settings.beta1,
                         settings.beta2, settings.epsilon, settings.weight_decay, step);
        ref_adamw_update(r.params + decayed, used + decayed, r.m + decayed, r.v + decayed, n - decayed,
                         norm_and_scale[1], settings.learning_rate, settings.beta1, settings.beta2, settings.epsilon, 0.0,
                         step);
    }
    float *final = check_host(ctx, n * sizeof(float));
    check_status(ctx, t2g_gpt_read(gpt, final, NULL, NULL, &ctx->err), "reading the parameters");
    compare_tensors(ctx, "after the AdamW steps:", gpt, final, r.params);
    check_log(ctx, "  %d of %d steps were clipped", clipped, steps);
    t2g_gpt_destroy(gpt);
    return ctx->failures;
}
