/* Causal multi-head self-attention, forward and backward, against tests/ref/attention.c: head
 * sizes 2 to 128 (each block-size choice of src/kernels/attention.c at 32 KiB of shared
 * memory), sequence lengths from 1 to past several blocks (and not a multiple of them), a grid
 * of more than 65535 workgroups, an exact softmax invariant, the reference backward against
 * finite differences, and the shape errors. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "ref/ref.h"

typedef struct attention_shape {
    int B, T, C, NH;
    double std; /* of q, k and v */
    int runs;   /* 2: also bitwise reproducibility; 1 where lavapipe would take too long */
} attention_shape;

typedef struct attention_loss {
    const double *qkv, *g;
    double *out, *lse;
    int B, T, C, NH;
} attention_loss;

/* sum g * out: its gradient with respect to qkv is what the backward computes from dout = g. */
static double loss_of(void *user) {
    attention_loss *l = user;
    ref_attention_forward(l->out, l->lse, l->qkv, l->B, l->T, l->C, l->NH);
    double sum = 0;
    for (size_t i = 0; i < (size_t)l->B * l->T * l->C; i++) sum += l->g[i] * l->out[i];
    return sum;
}

/* Runs forward then backward `runs` times on the device, out and lse poisoned and dqkv reset
 * to dqkv0 before each run; returns the runs' results. */
static void run_kernels(check_ctx *ctx, const attention_shape *s, int runs, const float *qkv_host,
                        const float *dout_host, const float *dqkv0, float *outs[2], float *lses[2], float *dqkvs[2]) {
    size_t n_qkv = (size_t)s->B * s->T * 3 * s->C, n_out = (size_t)s->B * s->T * s->C;
    size_t n_lse = (size_t)s->B * s->NH * s->T;
    t2g_tensor qkv = check_upload(ctx, qkv_host, n_qkv), dout = check_upload(ctx, dout_host, n_out);
    t2g_tensor out = check_poisoned(ctx, n_out), lse = check_poisoned(ctx, n_lse), dqkv = check_poisoned(ctx, n_qkv);
    for (int run = 0; run < runs; run++) {
        check_poison(ctx, out, n_out);
        check_poison(ctx, lse, n_lse);
        check_reupload(ctx, dqkv, dqkv0, n_qkv);
        check_status(ctx, t2g_attention_forward(ctx->recorder, out, lse, qkv, s->B, s->T, s->C, s->NH, &ctx->err),
                     "attention_forward");
        check_status(
            ctx, t2g_attention_backward(ctx->recorder, dqkv, dout, qkv, out, lse, s->B, s->T, s->C, s->NH, &ctx->err),
            "attention_backward");
        check_submit(ctx);
        outs[run] = check_download(ctx, out, n_out);
        lses[run] = check_download(ctx, lse, n_lse);
        dqkvs[run] = check_download(ctx, dqkv, n_qkv);
    }
}

/* The part (0 q, 1 k, 2 v) of a (B,T,3C) tensor, gathered into (B,T,C); in floats as
 * after - before when `before` is given. */
static float *part_of(check_ctx *ctx, const float *after, const float *before, const attention_shape *s, int part) {
    size_t rows = (size_t)s->B * s->T, C = (size_t)s->C;
    float *x = check_host(ctx, rows * C * sizeof *x);
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < C; c++) {
            size_t i = r * 3 * C + (size_t)part * C + c;
            x[r * C + c] = before ? after[i] - before[i] : after[i];
        }
    return x;
}

static double *part_of_double(check_ctx *ctx, const double *x, const attention_shape *s, int part) {
    size_t rows = (size_t)s->B * s->T, C = (size_t)s->C;
    double *y = check_doubles(ctx, rows * C);
    for (size_t r = 0; r < rows; r++) memcpy(y + r * C, x + r * 3 * C + (size_t)part * C, C * sizeof *y);
    return y;
}

static void attention_case(check_ctx *ctx, attention_shape s) {
    check_case_begin(ctx);
    size_t n_qkv = (size_t)s.B * s.T * 3 * s.C, n_out = (size_t)s.B * s.T * s.C, n_lse = (size_t)s.B * s.NH * s.T;
    char shape[96], label[160];
    snprintf(shape, sizeof shape, "B=%d T=%d C=%d NH=%d (hs %d)", s.B, s.T, s.C, s.NH, s.C / s.NH);

    float *qkv = check_normal_floats(ctx, n_qkv, s.std);
    float *g = check_normal_floats(ctx, n_out, 1.0);
    float *dqkv0 = check_random_floats(ctx, n_qkv, -1, 1); /* the backward accumulates into this */
    double *qkv_d = check_to_double(ctx, qkv, n_qkv), *g_d = check_to_double(ctx, g, n_out);
    double *ref_out = check_doubles(ctx, n_out), *ref_lse = check_doubles(ctx, n_lse);
    double *ref_grad = check_doubles(ctx, n_qkv);
    ref_attention_forward(ref_out, ref_lse, qkv_d, s.B, s.T, s.C, s.NH);
    ref_attention_backward(ref_grad, g_d, qkv_d, s.B, s.T, s.C, s.NH);
    double *ref_dqkv = check_to_double(ctx, dqkv0, n_qkv);
    for (size_t i = 0; i < n_qkv; i++) ref_dqkv[i] += ref_grad[i];

    float *outs[2], *lses[2], *dqkvs[2];
    run_kernels(ctx, &s, s.runs, qkv, g, dqkv0, outs, lses, dqkvs);

    snprintf(label, sizeof label, "attention forward out %s", shape);
    if (s.runs == 2) check_bitwise(ctx, label, outs[0], outs[1], n_out);
    check_close(ctx, label, outs[0], ref_out, n_out, 1e-4);
    snprintf(label, sizeof label, "attention forward lse %s", shape);
    if (s.runs == 2) check_bitwise(ctx, label, lses[0], lses[1], n_lse);
    check_close(ctx, label, lses[0], ref_lse, n_lse, 1e-4);
    snprintf(label, sizeof label, "attention backward dqkv += %s", shape);
    if (s.runs == 2) check_bitwise(ctx, label, dqkvs[0], dqkvs[1], n_qkv);
    check_close(ctx, label, dqkvs[0], ref_dqkv, n_qkv, 1e-4);
    /* The increments alone, per part: the random start would hide a small gradient's error. */
    static const char *const parts[] = {"dq", "dk", "dv"};
    for (int part = 0; part < 3; part++) {
        snprintf(label, sizeof label, "attention backward %s %s", parts[part], shape);
        check_close(ctx, label, part_of(ctx, dqkvs[0], dqkv0, &s, part), part_of_double(ctx, ref_grad, &s, part), n_out,
                    1e-4);
    }
}

/* With every value row of a head equal, each output row is that row whatever the
 * probabilities are: the softmax sums to one across tiles and rescalings. */
static void softmax_invariant_case(check_ctx *ctx, int B, int T, int C, int NH) {
    check_case_begin(ctx);
    size_t n_qkv = (size_t)B * T * 3 * C, n_out = (size_t)B * T * C;
    float *qkv = check_normal_floats(ctx, n_qkv, 2.0);
    double *expected = check_doubles(ctx, n_out);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int c = 0; c < C; c++) {
                float v = qkv[(size_t)b * T * 3 * C + 2 * (size_t)C + (size_t)c]; /* row t = 0 */
                qkv[((size_t)b * T + t) * 3 * C + 2 * (size_t)C + (size_t)c] = v;
                expected[((size_t)b * T + t) * C + c] = v;
            }
    t2g_tensor qkv_t = check_upload(ctx, qkv, n_qkv);
    t2g_tensor out = check_poisoned(ctx, n_out), lse = check_poisoned(ctx, (size_t)B * NH * T);
    check_status(ctx, t2g_attention_forward(ctx->recorder, out, lse, qkv_t, B, T, C, NH, &ctx->err),
                 "attention_forward");
    check_submit(ctx);
    char label[128];
    snprintf(label, sizeof label, "attention softmax sums to 1: B=%d T=%d C=%d NH=%d", B, T, C, NH);
    check_close(ctx, label, check_download(ctx, out, n_out), expected, n_out, 1e-5);
}

static void finite_difference_case(check_ctx *ctx, int B, int T, int C, int NH) {
    check_case_begin(ctx);
    size_t n_qkv = (size_t)B * T * 3 * C, n_out = (size_t)B * T * C;
    double *qkv = check_to_double(ctx, check_normal_floats(ctx, n_qkv, 1.0), n_qkv);
    double *g = check_to_double(ctx, check_normal_floats(ctx, n_out, 1.0), n_out);
    double *analytic = check_doubles(ctx, n_qkv);
    ref_attention_backward(analytic, g, qkv, B, T, C, NH);
    attention_loss l = {qkv, g, check_doubles(ctx, n_out), check_doubles(ctx, (size_t)B * NH * T), B, T, C, NH};
    char label[128];
    snprintf(label, sizeof label, "attention reference backward vs fd B=%d T=%d C=%d NH=%d", B, T, C, NH);
    check_finite_differences(ctx, label, loss_of, &l, qkv, analytic, n_qkv, n_qkv, 1e-6);
}

/* Bad shapes are refused before anything is recorded. */
static void argument_case(check_ctx *ctx) {
    check_case_begin(ctx);
    t2g_tensor big = check_poisoned(ctx, 3 * 2 * 4 * 258);
    t2g_status status;
    status = t2g_attention_forward(ctx->recorder, big, big, big, 2, 4, 258, 2, &ctx->err); /* hs 129 */
    check_true(ctx, status == T2G_ERR_ARGUMENT && strstr(ctx->err.message, "head size"),
               "attention_forward refuses head size 129: %s", ctx->err.message);
    status = t2g_attention_backward(ctx->recorder, big, big, big, big, big, 2, 4, 48, 5, &ctx->err); /* 48 % 5 */
    check_true(ctx, status == T2G_ERR_ARGUMENT && strstr(ctx->err.message, "multiple"),
               "attention_backward refuses C %% NH != 0: %s", ctx->err.message);
    t2g_tensor small = check_poisoned(ctx, 10);
    status = t2g_attention_forward(ctx->recorder, big, small, big, 2, 4, 48, 6, &ctx->err); /* lse needs 48 */
    check_true(ctx, status == T2G_ERR_ARGUMENT && strstr(ctx->err.message, "lse"),
               "attention_forward refuses a short lse: %s", ctx->err.message);
}

T2G_CHECK(attention) {
    static const attention_shape cases[] = {
        {2, 7, 48, 6, 1.0, 2},     /* hs 8 */
        {1, 1, 64, 1, 1.0, 2},     /* hs 64, a single token */
        {3, 130, 128, 2, 1.0, 2},  /* hs 64, past four 32-row blocks */
        {2, 37, 80, 2, 1.0, 2},    /* hs 40 */
        {1, 45, 72, 3, 1.5, 2},    /* hs 24, sharper softmax */
        {1, 50, 192, 2, 1.0, 2},   /* hs 96: 16-row blocks in the backward */
        {2, 77, 256, 2, 1.0, 2},   /* hs 128: the smallest blocks used at 32 KiB */
        {1, 20, 7, 1, 1.0, 2},     /* hs 7: micro-tiles past the head's end */
        /* 65538 workgroups per kernel, a two-dimensional grid; once (lavapipe pays ~70 us a
         * workgroup, so a second run would cost ~15 s for nothing new) */
        {32769, 2, 4, 2, 1.0, 1},
    };
    attention_case(ctx, cases[0]);
    if (ctx->quick) return ctx->failures;
    for (size_t i = 1; i < sizeof cases / sizeof cases[0]; i++) attention_case(ctx, cases[i]);
    softmax_invariant_case(ctx, 2, 130, 96, 3);
    finite_difference_case(ctx, 1, 4, 8, 2);
    finite_difference_case(ctx, 2, 3, 6, 3);
    argument_case(ctx);
    return ctx->failures;
}
