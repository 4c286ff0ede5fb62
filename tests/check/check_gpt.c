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

/* A model of `config` for rows x cols tokens with GPT-2 initialisation plus noise on every
 * parameter (LayerNorm weights away from 1, biases away from 0), so that every gradient is
 * exercised. */
static t2g_gpt *random_model_of(check_ctx *ctx, const t2g_model_config *config, uint32_t rows, uint32_t cols,
                                float *params) {
    t2g_gpt *gpt;
    if (!check_status(ctx, t2g_gpt_create(ctx->device, config, rows, cols, &gpt, &ctx->err), "creating the GPT"))
        return NULL;
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

static t2g_gpt *random_model(check_ctx *ctx, float *params) { return random_model_of(ctx, &TINY, B, T, params); }

typedef struct batch_data {
    uint32_t *tokens, *targets;
    float *weights;
    double *weights_d;
    double weight_sum;
    t2g_tensor tokens_t, targets_t, weights_t;
} batch_data;

/* n positions' tokens, targets and weights (some 0, some 1, some between). */
static batch_data random_batch_of(check_ctx *ctx, uint32_t n) {
    batch_data b;
    b.tokens = check_random_tokens(ctx, n, TINY.vocab);
    b.targets = check_random_tokens(ctx, n, TINY.vocab);
    b.weights = check_host(ctx, n * sizeof(float));
    b.weight_sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t kind = check_random_below(ctx, 3);
        b.weights[i] = kind == 0 ? 0.0f : kind == 1 ? 1.0f : (float)check_uniform(ctx, 0.5, 2.0);
        b.weight_sum += b.weights[i];
    }
    b.weights_d = check_to_double(ctx, b.weights, n);
    b.tokens_t = check_upload(ctx, b.tokens, n);
    b.targets_t = check_upload(ctx, b.targets, n);
    b.weights_t = check_upload(ctx, b.weights, n);
    return b;
}

static batch_data random_batch(check_ctx *ctx) { return random_batch_of(ctx, B * T); }

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

/* ---- logits in pieces (t2g_model_config.logit_rows) ---- */

/* One backward of `batch` (rows x cols) through a model whose logits come in pieces, against the
 * reference: losses, their weighted sum and every gradient; then the forward-only loss
 * (t2g_gpt_loss) of the same pass, bitwise the backward's. */
static void pieces_pass(check_ctx *ctx, t2g_gpt *gpt, const double *flat, uint32_t rows, uint32_t cols) {
    uint32_t n = rows * cols;
    uint64_t floats = t2g_gpt_buffer_floats(gpt);
    batch_data batch = random_batch_of(ctx, n);
    float dloss = (float)(1.0 / (batch.weight_sum > 0 ? batch.weight_sum : 1));
    t2g_tensor sum = check_poisoned(ctx, 1);
    check_status(ctx, t2g_gpt_zero_grads(gpt, ctx->recorder, &ctx->err), "zero grads");
    check_status(ctx, t2g_gpt_forward(gpt, ctx->recorder, batch.tokens_t, rows, cols, &ctx->err), "forward");
    check_poison(ctx, t2g_gpt_losses(gpt), n);
    check_status(ctx, t2g_gpt_backward(gpt, ctx->recorder, batch.targets_t, batch.weights_t, rows, cols, dloss, &ctx->err),
                 "backward");
    check_status(ctx, t2g_gpt_loss_sum(gpt, ctx->recorder, sum, batch.weights_t, rows, cols, &ctx->err), "loss sum");
    check_submit(ctx);
    float *losses = check_download(ctx, t2g_gpt_losses(gpt), n), *sums = check_download(ctx, sum, 1);
    float *grads = check_host(ctx, floats * sizeof(float));
    check_status(ctx, t2g_gpt_read_grads(gpt, grads, &ctx->err), "reading the gradients");

    ref_gpt_shape shape = shape_of(&TINY);
    double *ref_grads = check_doubles(ctx, floats), *ref_losses = check_doubles(ctx, n);
    ref_gpt_weights w, g;
    bind(gpt, (double *)flat, &w);
    bind(gpt, ref_grads, &g);
    double ref_sum = ref_gpt_forward_backward(&shape, &w, &g, batch.tokens, batch.targets, batch.weights_d, rows, cols,
                                              dloss, NULL, NULL, ref_losses);
    char label[96];
    snprintf(label, sizeof label, "pieces of %u rows, %u x %u tokens: per-token losses", t2g_gpt_logit_rows(gpt), rows,
             cols);
    check_close(ctx, label, losses, ref_losses, n, 1e-4);
    check_close(ctx, "pieces: the weighted loss sum", sums, &ref_sum, 1, 1e-4);
    compare_tensors(ctx, "pieces: gradient", gpt, grads, ref_grads);

    check_status(ctx, t2g_gpt_forward(gpt, ctx->recorder, batch.tokens_t, rows, cols, &ctx->err), "forward");
    check_poison(ctx, t2g_gpt_losses(gpt), n);
    check_status(ctx, t2g_gpt_loss(gpt, ctx->recorder, batch.targets_t, batch.weights_t, rows, cols, &ctx->err), "loss");
    check_submit(ctx);
    check_bitwise(ctx, "pieces: t2g_gpt_loss's losses against the backward's", check_download(ctx, t2g_gpt_losses(gpt), n),
                  losses, n);
}

/* Pieces of 64 rows over 9 x 11 = 99 positions (a whole piece and a cut one), then a pass of
 * fewer positions than one piece; a frozen model's forward-only loss; the memory they save; a
 * micro-batch no larger than a piece held whole; a piece that is not a multiple of 64 refused. */
T2G_CHECK(gpt_logit_rows) {
    check_case_begin(ctx);
    enum { ROWS = 9, COLS = 11, PIECE = 64 };
    t2g_model_config pieces = TINY;
    pieces.logit_rows = PIECE;
    float *params = check_host(ctx, 1 << 22);
    t2g_gpt *gpt = random_model_of(ctx, &pieces, ROWS, COLS, params);
    if (!gpt) return ctx->failures;
    uint64_t floats = t2g_gpt_buffer_floats(gpt);
    double *flat = check_to_double(ctx, params, floats);
    check_true(ctx, t2g_gpt_logit_rows(gpt) == PIECE && t2g_gpt_logits(gpt).arena == NULL,
               "a model of %u x %u tokens with logit_rows %u holds pieces of %u rows and no whole logits", ROWS, COLS,
               PIECE, t2g_gpt_logit_rows(gpt));
    pieces_pass(ctx, gpt, flat, ROWS, COLS);
    t2g_tensor view; /* after a pass of 99 rows */
    check_true(ctx, t2g_gpt_logits_of_rows(gpt, ctx->recorder, 32, 8, &view, &ctx->err) == T2G_ERR_ARGUMENT &&
                        t2g_gpt_logits_of_rows(gpt, ctx->recorder, 0, 65, &view, &ctx->err) == T2G_ERR_ARGUMENT &&
                        strstr(ctx->err.message, "the last forward had 99 rows, a piece holds 64"),
               "logits of rows off a piece's start, or more than a piece, are refused (%s)", ctx->err.message);
    pieces_pass(ctx, gpt, flat, 2, 5); /* 10 positions: one piece, cut */
    t2g_gpt_destroy(gpt);

    /* a frozen model in pieces: the forward-only loss against the reference's */
    t2g_gpt *frozen;
    if (check_status(ctx, t2g_gpt_create_frozen(ctx->device, &pieces, ROWS, COLS, &frozen, &ctx->err), "a frozen model")) {
        check_status(ctx, t2g_gpt_write(frozen, params, NULL, NULL, &ctx->err), "writing the frozen model");
        batch_data batch = random_batch_of(ctx, ROWS * COLS);
        check_status(ctx, t2g_gpt_forward(frozen, ctx->recorder, batch.tokens_t, ROWS, COLS, &ctx->err), "forward");
        check_poison(ctx, t2g_gpt_losses(frozen), ROWS * COLS);
        check_status(ctx, t2g_gpt_loss(frozen, ctx->recorder, batch.targets_t, batch.weights_t, ROWS, COLS, &ctx->err),
                     "the frozen model's loss");
        check_submit(ctx);
        ref_gpt_shape shape = shape_of(&TINY);
        ref_gpt_weights w;
        bind(frozen, flat, &w);
        double *ref_losses = check_doubles(ctx, ROWS * COLS);
        ref_gpt_forward_backward(&shape, &w, NULL, batch.tokens, batch.targets, batch.weights_d, ROWS, COLS, 1.0, NULL,
                                 NULL, ref_losses);
        check_close(ctx, "pieces: a frozen model's losses (t2g_gpt_loss)", check_download(ctx, t2g_gpt_losses(frozen),
                    ROWS * COLS), ref_losses, ROWS * COLS, 1e-4);
        check_true(ctx, t2g_gpt_loss(frozen, ctx->recorder, batch.targets_t, batch.weights_t, ROWS, 7, &ctx->err) ==
                            T2G_ERR_ARGUMENT && strstr(ctx->err.message, "last forward"),
                   "a loss of another shape than the forward's is refused (%s)", ctx->err.message);
        t2g_gpt_destroy(frozen);
    }

    /* the memory: the logits' arena shrinks by the rows a piece does not hold */
    t2g_gpt_memory whole, held;
    check_status(ctx, t2g_gpt_memory_needed(&TINY, ROWS, COLS, false, &whole, &ctx->err), "sizing whole");
    check_status(ctx, t2g_gpt_memory_needed(&pieces, ROWS, COLS, false, &held, &ctx->err), "sizing in pieces");
    uint64_t fewer = whole.activations - held.activations, least = (uint64_t)(ROWS * COLS - PIECE) * TINY.vocab * 4;
    check_true(ctx, held.logit_rows == PIECE && whole.logit_rows == 0 && fewer >= least && fewer < least + 256,
               "pieces of %u rows: activations %llu bytes fewer (the logits' %llu, to alignment); logit rows %u and %u",
               PIECE, (unsigned long long)fewer, (unsigned long long)least, held.logit_rows, whole.logit_rows);
    check_status(ctx, t2g_gpt_memory_needed(&pieces, 8, 8, false, &held, &ctx->err), "sizing 8 x 8");
    check_true(ctx, held.logit_rows == 0, "a micro-batch of 64 rows with logit_rows 64 is held whole (logit rows %u)",
               held.logit_rows);
    t2g_model_config odd = TINY;
    odd.logit_rows = 100;
    check_true(ctx, t2g_gpt_memory_needed(&odd, ROWS, COLS, false, &held, &ctx->err) == T2G_ERR_ARGUMENT &&
                        strstr(ctx->err.message, "logit_rows (100)") && strstr(ctx->err.message, "multiple of 64"),
               "logit_rows 100 is refused by name (%s)", ctx->err.message);
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
