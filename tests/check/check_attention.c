/* Causal grouped-query self-attention, forward and backward, against tests/ref/attention.c, on
 * each configuration (src/kernels/attention_internal.h: the tiled kernels and the lanes kernels,
 * forced whatever the device would choose): multi-head (KVH = NH) at head sizes 2 to 128 (each block-size choice of src/kernels/attention.c
 * at 32 KiB of shared memory), sequence lengths from 1 to past several blocks (and not a
 * multiple of them), a grid of more than 65535 workgroups; grouped-query (NH = 9 over KVH = 3
 * as SmolLM2, 6 over 2 at head size 7) and multi-query (KVH = 1) shapes, where dk, dv sum over a
 * group; an exact softmax invariant; the reference backward against finite differences; the
 * shape errors; out stored as bf16 and f16, and the backward from that stored out; the lanes
 * kernels reading through texel views that start before their tensors and through none (scalar
 * loads): the same bits; the device's choice of configuration. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "kernels/attention_internal.h"
#include "ref/ref.h"
#include "storage16.h"

typedef struct attention_shape {
    int B, T, NH, KVH, hs;
    double std; /* of q, k and v */
    int runs;   /* 2: also bitwise reproducibility; 1 where lavapipe would take too long */
    t2g_attention_config config; /* the kernels that run (set per pass of T2G_CHECK(attention)) */
} attention_shape;

/* Elements of qkv (B,T,(NH + 2 KVH) hs), of out (B,T,NH hs) and of lse (B,NH,T). */
static size_t qkv_count(const attention_shape *s) { return (size_t)s->B * s->T * (s->NH + 2 * s->KVH) * s->hs; }
static size_t out_count(const attention_shape *s) { return (size_t)s->B * s->T * s->NH * s->hs; }
static size_t lse_count(const attention_shape *s) { return (size_t)s->B * s->NH * s->T; }

typedef struct attention_loss {
    const double *qkv, *g;
    double *out, *lse;
    attention_shape s;
} attention_loss;

/* sum g * out: its gradient with respect to qkv is what the backward computes from dout = g. */
static double loss_of(void *user) {
    attention_loss *l = user;
    const attention_shape *s = &l->s;
    ref_attention_forward(l->out, l->lse, l->qkv, s->B, s->T, s->NH, s->KVH, s->hs);
    double sum = 0;
    for (size_t i = 0; i < out_count(s); i++) sum += l->g[i] * l->out[i];
    return sum;
}

/* Runs forward then backward `runs` times on the device, out and lse poisoned and dqkv reset
 * to dqkv0 before each run; returns the runs' results. */
static void run_kernels(check_ctx *ctx, const attention_shape *s, int runs, const float *qkv_host,
                        const float *dout_host, const float *dqkv0, float *outs[2], float *lses[2], float *dqkvs[2]) {
    size_t n_qkv = qkv_count(s), n_out = out_count(s), n_lse = lse_count(s);
    t2g_tensor qkv = check_upload(ctx, qkv_host, n_qkv), dout = check_upload(ctx, dout_host, n_out);
    t2g_tensor out = check_poisoned(ctx, n_out), lse = check_poisoned(ctx, n_lse), dqkv = check_poisoned(ctx, n_qkv);
    for (int run = 0; run < runs; run++) {
        check_poison(ctx, out, n_out);
        check_poison(ctx, lse, n_lse);
        check_reupload(ctx, dqkv, dqkv0, n_qkv);
        check_status(ctx,
                     t2g_attention_forward_config(ctx->recorder, s->config, out, lse, qkv, s->B, s->T, s->NH, s->KVH,
                                                  s->hs, &ctx->err),
                     "attention_forward");
        check_status(ctx,
                     t2g_attention_backward_config(ctx->recorder, s->config, dqkv, dout, qkv, out, lse, s->B, s->T,
                                                   s->NH, s->KVH, s->hs, &ctx->err),
                     "attention_backward");
        check_submit(ctx);
        outs[run] = check_download(ctx, out, n_out);
        lses[run] = check_download(ctx, lse, n_lse);
        dqkvs[run] = check_download(ctx, dqkv, n_qkv);
    }
}

/* The columns in a qkv row of part 0 (q, NH heads), 1 (k, KVH heads) or 2 (v, KVH heads). */
static size_t part_column(const attention_shape *s, int part) {
    return part == 0 ? 0 : ((size_t)s->NH + (part == 2 ? (size_t)s->KVH : 0)) * s->hs;
}
static size_t part_width(const attention_shape *s, int part) { return (size_t)(part == 0 ? s->NH : s->KVH) * s->hs; }

/* The part (0 q, 1 k, 2 v) of a qkv tensor, gathered into (B,T,width); in floats as
 * after - before when `before` is given. */
static float *part_of(check_ctx *ctx, const float *after, const float *before, const attention_shape *s, int part) {
    size_t rows = (size_t)s->B * s->T, W = (size_t)(s->NH + 2 * s->KVH) * s->hs;
    size_t column = part_column(s, part), width = part_width(s, part);
    float *x = check_host(ctx, rows * width * sizeof *x);
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < width; c++) {
            size_t i = r * W + column + c;
            x[r * width + c] = before ? after[i] - before[i] : after[i];
        }
    return x;
}

static double *part_of_double(check_ctx *ctx, const double *x, const attention_shape *s, int part) {
    size_t rows = (size_t)s->B * s->T, W = (size_t)(s->NH + 2 * s->KVH) * s->hs;
    size_t column = part_column(s, part), width = part_width(s, part);
    double *y = check_doubles(ctx, rows * width);
    for (size_t r = 0; r < rows; r++) memcpy(y + r * width, x + r * W + column, width * sizeof *y);
    return y;
}

static void describe(char *shape, size_t size, const attention_shape *s) {
    snprintf(shape, size, "%s%sB=%d T=%d NH=%d KVH=%d hs=%d", s->config ? t2g_attention_config_name(s->config) : "",
             s->config ? " " : "", s->B, s->T, s->NH, s->KVH, s->hs);
}

static void attention_case(check_ctx *ctx, attention_shape s) {
    check_case_begin(ctx);
    size_t n_qkv = qkv_count(&s), n_out = out_count(&s), n_lse = lse_count(&s);
    char shape[96], label[160];
    describe(shape, sizeof shape, &s);

    float *qkv = check_normal_floats(ctx, n_qkv, s.std);
    float *g = check_normal_floats(ctx, n_out, 1.0);
    float *dqkv0 = check_random_floats(ctx, n_qkv, -1, 1); /* the backward accumulates into this */
    double *qkv_d = check_to_double(ctx, qkv, n_qkv), *g_d = check_to_double(ctx, g, n_out);
    double *ref_out = check_doubles(ctx, n_out), *ref_lse = check_doubles(ctx, n_lse);
    double *ref_grad = check_doubles(ctx, n_qkv);
    ref_attention_forward(ref_out, ref_lse, qkv_d, s.B, s.T, s.NH, s.KVH, s.hs);
    ref_attention_backward(ref_grad, g_d, qkv_d, s.B, s.T, s.NH, s.KVH, s.hs);
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
        check_close(ctx, label, part_of(ctx, dqkvs[0], dqkv0, &s, part), part_of_double(ctx, ref_grad, &s, part),
                    (size_t)s.B * s.T * part_width(&s, part), 1e-4);
    }
}

/* With every value row of a kv head equal, each output row of its query heads is that row
 * whatever the probabilities are: the softmax sums to one across tiles and rescalings. */
static void softmax_invariant_case(check_ctx *ctx, attention_shape s) {
    check_case_begin(ctx);
    size_t n_qkv = qkv_count(&s), n_out = out_count(&s);
    size_t W = (size_t)(s.NH + 2 * s.KVH) * s.hs, v0 = part_column(&s, 2), hs = (size_t)s.hs;
    float *qkv = check_normal_floats(ctx, n_qkv, s.std);
    double *expected = check_doubles(ctx, n_out);
    for (int b = 0; b < s.B; b++)
        for (int t = 0; t < s.T; t++) {
            const float *first = qkv + (size_t)b * s.T * W; /* row t = 0 */
            float *row = qkv + ((size_t)b * s.T + t) * W;
            memcpy(row + v0, first + v0, part_width(&s, 2) * sizeof *row);
            for (int h = 0; h < s.NH; h++)
                for (size_t d = 0; d < hs; d++)
                    expected[(((size_t)b * s.T + t) * s.NH + h) * hs + d] =
                        first[v0 + (size_t)(h / (s.NH / s.KVH)) * hs + d];
        }
    t2g_tensor qkv_t = check_upload(ctx, qkv, n_qkv);
    t2g_tensor out = check_poisoned(ctx, n_out), lse = check_poisoned(ctx, lse_count(&s));
    check_status(ctx,
                 t2g_attention_forward_config(ctx->recorder, s.config, out, lse, qkv_t, s.B, s.T, s.NH, s.KVH, s.hs,
                                              &ctx->err),
                 "attention_forward");
    check_submit(ctx);
    char shape[96], label[160];
    describe(shape, sizeof shape, &s);
    snprintf(label, sizeof label, "attention softmax sums to 1: %s", shape);
    check_close(ctx, label, check_download(ctx, out, n_out), expected, n_out, 1e-5);
}

static void finite_difference_case(check_ctx *ctx, attention_shape s) {
    check_case_begin(ctx);
    size_t n_qkv = qkv_count(&s), n_out = out_count(&s);
    double *qkv = check_to_double(ctx, check_normal_floats(ctx, n_qkv, 1.0), n_qkv);
    double *g = check_to_double(ctx, check_normal_floats(ctx, n_out, 1.0), n_out);
    double *analytic = check_doubles(ctx, n_qkv);
    ref_attention_backward(analytic, g, qkv, s.B, s.T, s.NH, s.KVH, s.hs);
    attention_loss l = {qkv, g, check_doubles(ctx, n_out), check_doubles(ctx, lse_count(&s)), s};
    char shape[96], label[160];
    describe(shape, sizeof shape, &s);
    snprintf(label, sizeof label, "attention reference backward vs fd %s", shape);
    check_finite_differences(ctx, label, loss_of, &l, qkv, analytic, n_qkv, n_qkv, 1e-6);
}

typedef struct attention_call {
    attention_shape s;
    t2g_tensor lse, qkv, dout, dqkv;
    const float *dqkv0;
} attention_call;

/* Forward into out, then the backward from it, dqkv reset to dqkv0 first. */
static bool record_attention(check_ctx *ctx, t2g_tensor out, void *user) {
    attention_call *c = user;
    const attention_shape *s = &c->s;
    check_reupload(ctx, c->dqkv, c->dqkv0, qkv_count(s));
    return check_status(ctx, t2g_attention_forward_config(ctx->recorder, s->config, out, c->lse, c->qkv, s->B, s->T,
                                                          s->NH, s->KVH, s->hs, &ctx->err),
                        "attention_forward") &&
           check_status(ctx, t2g_attention_backward_config(ctx->recorder, s->config, c->dqkv, c->dout, c->qkv, out,
                                                           c->lse, s->B, s->T, s->NH, s->KVH, s->hs, &ctx->err),
                        "attention_backward");
}

/* out stored as `dtype`: the f32 tolerance plus the rounding of each stored value (storage16.h,
 * check_close_stored); lse as in f32; the backward, which reads the stored out (its rows' sums
 * dout . out), against the reference computed from those very values, at the f32 tolerance. */
static void attention16_case(check_ctx *ctx, t2g_dtype dtype, attention_shape s) {
    check_case_begin(ctx);
    size_t n_qkv = qkv_count(&s), n_out = out_count(&s), n_lse = lse_count(&s);
    char shape[96], label[160];
    describe(shape, sizeof shape, &s);
    float *qkv = check_normal_floats(ctx, n_qkv, s.std), *g = check_normal_floats(ctx, n_out, 1.0);
    float *dqkv0 = check_random_floats(ctx, n_qkv, -1, 1);
    double *qkv_d = check_to_double(ctx, qkv, n_qkv), *g_d = check_to_double(ctx, g, n_out);
    double *ref_out = check_doubles(ctx, n_out), *ref_lse = check_doubles(ctx, n_lse);
    ref_attention_forward(ref_out, ref_lse, qkv_d, s.B, s.T, s.NH, s.KVH, s.hs);
    attention_call call = {s, check_poisoned(ctx, n_lse), check_upload(ctx, qkv, n_qkv), check_upload(ctx, g, n_out),
                           check_poisoned(ctx, n_qkv), dqkv0};
    snprintf(label, sizeof label, "attention forward out %s", shape);
    float *out = check_stored_output(ctx, label, dtype, n_out, ref_out, 1e-4, record_attention, &call);
    if (!out) return;
    snprintf(label, sizeof label, "attention forward lse %s, %s out", shape, t2g_dtype_name(dtype));
    check_close(ctx, label, check_download(ctx, call.lse, n_lse), ref_lse, n_lse, 1e-4);

    /* The reference backward from the stored out, which with the exact out is the Jacobian's. */
    double *from_stored = check_doubles(ctx, n_qkv), *from_exact = check_doubles(ctx, n_qkv);
    double *jacobian = check_doubles(ctx, n_qkv);
    ref_attention_backward_from_out(from_stored, g_d, qkv_d, check_to_double(ctx, out, n_out), s.B, s.T, s.NH, s.KVH,
                                    s.hs);
    ref_attention_backward_from_out(from_exact, g_d, qkv_d, ref_out, s.B, s.T, s.NH, s.KVH, s.hs);
    ref_attention_backward(jacobian, g_d, qkv_d, s.B, s.T, s.NH, s.KVH, s.hs);
    float *exact_f = check_host(ctx, n_qkv * sizeof *exact_f);
    for (size_t i = 0; i < n_qkv; i++) exact_f[i] = (float)from_exact[i];
    snprintf(label, sizeof label, "attention reference from out vs the Jacobian's %s", shape);
    check_close(ctx, label, exact_f, jacobian, n_qkv, 1e-7);
    float *dqkv = check_download(ctx, call.dqkv, n_qkv);
    static const char *const parts[] = {"dq", "dk", "dv"};
    for (int part = 0; part < 3; part++) {
        size_t n = (size_t)s.B * s.T * part_width(&s, part);
        float *increment = part_of(ctx, dqkv, dqkv0, &s, part);
        snprintf(label, sizeof label, "attention backward %s %s, from the %s out", parts[part], shape,
                 t2g_dtype_name(dtype));
        check_close(ctx, label, increment, part_of_double(ctx, from_stored, &s, part), n, 1e-4);
        /* what reading a 16-bit out costs the gradient, against the exact out's (not a bound) */
        double *exact = part_of_double(ctx, jacobian, &s, part), diff = 0;
        for (size_t i = 0; i < n; i++) diff += (increment[i] - exact[i]) * (increment[i] - exact[i]);
        check_log(ctx, "  %s: against the exact out's gradient %.2e", label, sqrt(diff) / check_norm(exact, n));
    }
}

/* The lanes kernels with qkv and dout slices of larger tensors (padded before with NaN), read
 * through texel views that start before them (a texel alignment stricter than theirs) and through
 * none (views of at most 4 texels: scalar loads): the same bits as tensors of their own. */
static void quad_views_case(check_ctx *ctx, attention_shape s) {
    check_case_begin(ctx);
    s.config = T2G_ATTENTION_LANES;
    const t2g_device_info *info = t2g_device_get_info(ctx->device);
    size_t pad = info->min_storage_buffer_offset_alignment / 4 ? info->min_storage_buffer_offset_alignment / 4 : 1;
    if (pad % 4 || 4 * pad >= 256) {
        check_log(ctx, "attention quad views: storage-buffer offsets on %u bytes leave no slice a view of 256 bytes "
                  "starts before; skipped", info->min_storage_buffer_offset_alignment);
        return;
    }
    size_t n_qkv = qkv_count(&s), n_out = out_count(&s), n_lse = lse_count(&s);
    const float *hosts[2] = {check_normal_floats(ctx, n_qkv, s.std), check_normal_floats(ctx, n_out, 1.0)};
    const size_t counts[2] = {n_qkv, n_out};
    float *dqkv0 = check_random_floats(ctx, n_qkv, -1, 1);
    t2g_tensor own[2], sliced[2]; /* qkv (B,T,W), dout (B,T,C) */
    for (int i = 0; i < 2; i++) {
        own[i] = check_upload(ctx, hosts[i], counts[i]);
        sliced[i] = check_upload_after_nans(ctx, hosts[i], counts[i], pad);
    }
    const check_texel_way *ways = check_texel_ways;
    float *got[3][3] = {{NULL}}; /* [way][out, lse, dqkv] */
    for (int w = 0; w < 3 && !ctx->failures; w++) {
        const t2g_tensor *in = w ? sliced : own;
        if (!check_status(ctx, t2g_device_test_limit_texels(ctx->device, ways[w].alignment, ways[w].texels, &ctx->err),
                          "limiting texel views"))
            break;
        t2g_tensor out = check_poisoned(ctx, n_out), lse = check_poisoned(ctx, n_lse);
        t2g_tensor dqkv = check_upload(ctx, dqkv0, n_qkv);
        if (check_status(ctx, t2g_attention_forward_config(ctx->recorder, s.config, out, lse, in[0], s.B, s.T, s.NH,
                                                           s.KVH, s.hs, &ctx->err),
                         "attention_forward") &&
            check_status(ctx, t2g_attention_backward_config(ctx->recorder, s.config, dqkv, in[1], in[0], out, lse, s.B,
                                                            s.T, s.NH, s.KVH, s.hs, &ctx->err),
                         "attention_backward")) {
            check_submit(ctx);
            got[w][0] = check_download(ctx, out, n_out);
            got[w][1] = check_download(ctx, lse, n_lse);
            got[w][2] = check_download(ctx, dqkv, n_qkv);
        }
    }
    check_status(ctx, t2g_device_test_limit_texels(ctx->device, 0, 0, &ctx->err), "restoring texel views");
    char shape[96], label[200];
    describe(shape, sizeof shape, &s);
    static const char *const outputs[] = {"out", "lse", "dqkv"};
    const size_t sizes[] = {n_out, n_lse, n_qkv};
    for (int w = 1; w < 3 && got[w][0]; w++)
        for (int o = 0; o < 3; o++) {
            snprintf(label, sizeof label, "attention %s %s: %s against own tensors", outputs[o], shape, ways[w].what);
            check_bitwise(ctx, label, got[0][o], got[w][o], sizes[o]);
        }
}

/* The device's choice: lanes on CPU devices but where a test has them take the GPU layouts, tiled
 * elsewhere. */
static void choice_case(check_ctx *ctx) {
    check_case_begin(ctx);
    bool cpu = t2g_device_get_info(ctx->device)->kind == T2G_DEVICE_CPU;
    t2g_attention_config want = cpu ? T2G_ATTENTION_LANES : T2G_ATTENTION_TILED;
    t2g_attention_config got = t2g_attention_choice(ctx->device);
    check_true(ctx, got == want, "attention on %s: %s (expected %s)", cpu ? "a CPU device" : "a GPU",
               t2g_attention_config_name(got), t2g_attention_config_name(want));
    t2g_device_test_layouts_as_gpu(ctx->device, true);
    got = t2g_attention_choice(ctx->device);
    t2g_device_test_layouts_as_gpu(ctx->device, false);
    check_true(ctx, got == T2G_ATTENTION_TILED, "attention in the GPU layouts: %s (expected tiled)",
               t2g_attention_config_name(got));
}

static void expect_refused(check_ctx *ctx, t2g_status status, const char *needle, const char *what) {
    check_true(ctx, status == T2G_ERR_ARGUMENT && strstr(ctx->err.message, needle), "attention refuses %s: %s", what,
               status ? ctx->err.message : "accepted");
}

/* Bad shapes are refused before anything is recorded. */
static void argument_case(check_ctx *ctx) {
    check_case_begin(ctx);
    t2g_recorder *rec = ctx->recorder;
    t2g_tensor big = check_poisoned(ctx, 3 * 2 * 4 * 258), small = check_poisoned(ctx, 10);
    uint64_t before = t2g_recorder_dispatch_count(rec);
    expect_refused(ctx, t2g_attention_forward(rec, big, big, big, 2, 4, 2, 2, 129, &ctx->err), "head size",
                   "head size 129");
    expect_refused(ctx, t2g_attention_backward(rec, big, big, big, big, big, 2, 4, 6, 4, 8, &ctx->err), "multiple",
                   "KVH = 4 not dividing NH = 6");
    expect_refused(ctx, t2g_attention_forward(rec, big, big, big, 2, 4, 2, 4, 8, &ctx->err), "multiple",
                   "KVH = 4 > NH = 2");
    expect_refused(ctx, t2g_attention_forward(rec, big, big, big, 2, 4, 6, 0, 8, &ctx->err), "KVH",
                   "KVH = 0");
    expect_refused(ctx, t2g_attention_backward(rec, big, big, big, big, big, 2, 4, 6, 0, 8, &ctx->err), "KVH",
                   "KVH = 0 (backward)");
    expect_refused(ctx, t2g_attention_forward(rec, big, small, big, 2, 4, 6, 2, 8, &ctx->err), "lse",
                   "a short lse (needs 48)");
    /* qkv of 2 * 4 * (6 + 2 * 3) * 8 = 768 floats is one float short for KVH = 3 with 767 */
    t2g_tensor qkv_short = check_poisoned(ctx, 767);
    expect_refused(ctx, t2g_attention_forward(rec, big, big, qkv_short, 2, 4, 6, 3, 8, &ctx->err), "qkv",
                   "a qkv one float short");
    expect_refused(ctx, t2g_attention_forward_config(rec, T2G_ATTENTION_CONFIGS, big, big, big, 2, 4, 2, 2, 8, &ctx->err),
                   "configuration", "an unknown configuration");
    check_true(ctx, t2g_recorder_dispatch_count(rec) == before, "attention: refused calls record nothing");
}

T2G_CHECK(attention) {
    static const attention_shape cases[] = {
        /* multi-head: KVH = NH */
        {2, 7, 6, 6, 8, 1.0, 2, T2G_ATTENTION_AUTO},     /* hs 8 */
        {1, 1, 1, 1, 64, 1.0, 2, T2G_ATTENTION_AUTO},    /* hs 64, a single token */
        {3, 130, 2, 2, 64, 1.0, 2, T2G_ATTENTION_AUTO},  /* hs 64, past four 32-row blocks */
        {2, 37, 2, 2, 40, 1.0, 2, T2G_ATTENTION_AUTO},   /* hs 40 */
        {1, 45, 3, 3, 24, 1.5, 2, T2G_ATTENTION_AUTO},   /* hs 24, sharper softmax */
        {1, 50, 2, 2, 96, 1.0, 2, T2G_ATTENTION_AUTO},   /* hs 96: 16-row blocks in the backward */
        {2, 77, 2, 2, 128, 1.0, 2, T2G_ATTENTION_AUTO},  /* hs 128: the smallest blocks used at 32 KiB */
        {1, 20, 1, 1, 7, 1.0, 2, T2G_ATTENTION_AUTO},    /* hs 7: micro-tiles past the head's end */
        /* 65538 workgroups per kernel, a two-dimensional grid; once (lavapipe pays ~70 us a
         * workgroup, so a second run would cost ~15 s for nothing new) */
        {32769, 2, 2, 2, 2, 1.0, 1, T2G_ATTENTION_AUTO},
        /* grouped-query: dk, dv of a kv head sum over its NH / KVH query heads */
        {1, 67, 9, 3, 64, 1.0, 2, T2G_ATTENTION_AUTO},   /* SmolLM2's heads, three 32-row blocks */
        {3, 1, 9, 3, 64, 1.0, 2, T2G_ATTENTION_AUTO},    /* a single token */
        {3, 5, 4, 1, 16, 1.0, 2, T2G_ATTENTION_AUTO},    /* multi-query */
        {2, 67, 6, 2, 7, 1.0, 2, T2G_ATTENTION_AUTO},    /* hs 7 */
        {1, 67, 4, 1, 7, 1.5, 2, T2G_ATTENTION_AUTO},    /* multi-query, hs 7, sharper softmax */
        {2, 37, 4, 2, 128, 1.0, 2, T2G_ATTENTION_AUTO},  /* hs 128: the smallest blocks */
        {1, 50, 6, 3, 96, 1.0, 2, T2G_ATTENTION_AUTO},   /* hs 96: 16-row blocks in the backward */
    };
    static const t2g_attention_config configs[] = {T2G_ATTENTION_TILED, T2G_ATTENTION_LANES};
    for (size_t c = 0; c < sizeof configs / sizeof configs[0]; c++) {
        attention_shape first = cases[0];
        first.config = configs[c];
        attention_case(ctx, first);
    }
    if (ctx->quick) return ctx->failures;
    for (size_t c = 0; c < sizeof configs / sizeof configs[0]; c++) {
        for (size_t i = 1; i < sizeof cases / sizeof cases[0]; i++) {
            attention_shape shape = cases[i];
            shape.config = configs[c];
            attention_case(ctx, shape);
        }
        softmax_invariant_case(ctx, (attention_shape){2, 130, 3, 3, 32, 2.0, 1, configs[c]});
        softmax_invariant_case(ctx, (attention_shape){2, 67, 6, 2, 16, 2.0, 1, configs[c]});
        for (int f = 0; f < 2; f++)
            attention16_case(ctx, check_formats16[f], (attention_shape){2, 37, 6, 2, 16, 1.0, 2, configs[c]});
    }
    quad_views_case(ctx, (attention_shape){2, 37, 6, 2, 16, 1.0, 1, T2G_ATTENTION_LANES});
    quad_views_case(ctx, (attention_shape){1, 67, 9, 3, 48, 1.0, 1, T2G_ATTENTION_LANES}); /* fewer rows an invocation */
    /* the reference alone (no kernel runs): once */
    finite_difference_case(ctx, (attention_shape){1, 4, 2, 2, 4, 1.0, 1, T2G_ATTENTION_AUTO});
    finite_difference_case(ctx, (attention_shape){2, 3, 3, 3, 2, 1.0, 1, T2G_ATTENTION_AUTO});
    finite_difference_case(ctx, (attention_shape){1, 4, 4, 2, 3, 1.0, 1, T2G_ATTENTION_AUTO});
    finite_difference_case(ctx, (attention_shape){2, 3, 3, 1, 2, 1.0, 1, T2G_ATTENTION_AUTO});
    choice_case(ctx);
    argument_case(ctx);
    return ctx->failures;
}
