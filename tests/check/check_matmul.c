/* matmul forward and backward against tests/ref/matmul.c, on every tile configuration of
 * shaders/matmul_gemm.comp (src/kernels/matmul_internal.h lets a test pick one; lavapipe would
 * otherwise only run the CPU's), and through the public functions' automatic choice. */
#include <math.h>
#include <string.h>

#include "kernels/matmul_internal.h"
#include "kernels/quad_view.h"
#include "check.h"
#include "storage16.h"
#include "ref/ref.h"

enum {
    WITH_BIAS = 1,      /* forward with a bias (else NULL) */
    WITH_DINP = 2,      /* backward computes dinp (else NULL) */
    WITH_DBIAS = 4,     /* backward computes dbias (else NULL) */
    FORWARD_ONLY = 8,
    ALL = WITH_BIAS | WITH_DINP | WITH_DBIAS,
};

/* What the outputs' tails hold (written by no kernel). */
#define GUARD 3.0f

/* A tensor of n elements (NULL: NaN) followed by `tail` elements of `tail_value`. */
static t2g_tensor upload_tailed(check_ctx *ctx, const float *data, size_t n, size_t tail, float tail_value) {
    float *host = check_host(ctx, (n + tail) * sizeof *host);
    for (size_t i = 0; i < n; i++) host[i] = data ? data[i] : NAN;
    for (size_t i = 0; i < tail; i++) host[n + i] = tail_value;
    return check_upload(ctx, host, n + tail);
}

static const char *tiles_name(t2g_matmul_tiles tiles) {
    return tiles == T2G_MATMUL_TILES_AUTO ? "auto" : t2g_matmul_tile_config_get(tiles)->name;
}

static t2g_status record_forward(check_ctx *ctx, t2g_matmul_tiles tiles, t2g_tensor out, t2g_tensor inp,
                                 t2g_tensor weight, const t2g_tensor *bias, int N, int C, int OC) {
    if (tiles == T2G_MATMUL_TILES_AUTO)
        return t2g_matmul_forward(ctx->recorder, out, inp, weight, bias, N, C, OC, &ctx->err);
    return t2g_matmul_forward_tiles(ctx->recorder, tiles, out, inp, weight, bias, N, C, OC, &ctx->err);
}

static t2g_status record_backward(check_ctx *ctx, t2g_matmul_tiles tiles, const t2g_tensor *dinp, t2g_tensor dweight,
                                  const t2g_tensor *dbias, t2g_tensor dout, t2g_tensor inp, t2g_tensor weight, int N,
                                  int C, int OC) {
    if (tiles == T2G_MATMUL_TILES_AUTO)
        return t2g_matmul_backward(ctx->recorder, dinp, dweight, dbias, dout, inp, weight, N, C, OC, &ctx->err);
    return t2g_matmul_backward_tiles(ctx->recorder, tiles, dinp, dweight, dbias, dout, inp, weight, N, C, OC,
                                     &ctx->err);
}

static void matmul_case(check_ctx *ctx, t2g_matmul_tiles tiles, int N, int C, int OC, int flags) {
    check_case_begin(ctx);
    char label[160];
    bool with_bias = flags & WITH_BIAS, with_dinp = flags & WITH_DINP, with_dbias = flags & WITH_DBIAS;
    bool backward = !(flags & FORWARD_ONLY);
    size_t nin = (size_t)N * C, nw = (size_t)OC * C, nout = (size_t)N * OC;
    float *inp_h = check_random_floats(ctx, nin, -1, 1);     /* inp (N,C) */
    float *weight_h = check_random_floats(ctx, nw, -1, 1);   /* weight (OC,C) */
    float *bias_h = check_random_floats(ctx, OC, -1, 1);     /* bias (OC) */
    float *dout_h = check_random_floats(ctx, nout, -1, 1);   /* dout (N,OC) */
    float *dinp0 = check_random_floats(ctx, nin, -1, 1);     /* the backward adds into these */
    float *dweight0 = check_random_floats(ctx, nw, -1, 1);
    float *dbias0 = check_random_floats(ctx, OC, -1, 1);

    double *ref_out = check_doubles(ctx, nout);
    double *ref_dinp = check_to_double(ctx, dinp0, nin), *ref_dweight = check_to_double(ctx, dweight0, nw);
    double *ref_dbias = check_to_double(ctx, dbias0, OC);
    double *inp_d = check_to_double(ctx, inp_h, nin), *weight_d = check_to_double(ctx, weight_h, nw);
    ref_matmul_forward(ref_out, inp_d, weight_d, with_bias ? check_to_double(ctx, bias_h, OC) : NULL, N, C, OC);
    if (backward)
        ref_matmul_backward(with_dinp ? ref_dinp : NULL, ref_dweight, with_dbias ? ref_dbias : NULL,
                            check_to_double(ctx, dout_h, nout), inp_d, weight_d, N, C, OC);
    /* The yardstick of each result: the same sums over the terms' magnitudes (|A| |B| + |bias|,
     * plus |initial value| where the backward adds), the bound of float summation error. The
     * result itself can cancel to near 0 (a 1x1x1 product plus a bias), the magnitudes cannot. */
    double *mag_out = check_doubles(ctx, nout);
    double *mag_dinp = check_abs(ctx, check_to_double(ctx, dinp0, nin), nin);
    double *mag_dweight = check_abs(ctx, check_to_double(ctx, dweight0, nw), nw);
    double *mag_dbias = check_abs(ctx, check_to_double(ctx, dbias0, OC), OC);
    double *abs_inp = check_abs(ctx, inp_d, nin), *abs_weight = check_abs(ctx, weight_d, nw);
    ref_matmul_forward(mag_out, abs_inp, abs_weight, with_bias ? check_abs(ctx, check_to_double(ctx, bias_h, OC), OC) : NULL,
                       N, C, OC);
    if (backward)
        ref_matmul_backward(mag_dinp, mag_dweight, mag_dbias, check_abs(ctx, check_to_double(ctx, dout_h, nout), nout),
                            abs_inp, abs_weight, N, C, OC);

    /* Every tensor is bound with a tail beyond its matrix: NaN after the inputs (a read past a
     * matrix's edge would reach the results) and GUARD after the outputs (a write past the edge
     * would show). The tails are larger than any tile overhangs. */
    size_t tail = 128 * ((size_t)(C > OC ? C : OC) + 1);
    t2g_tensor inp = upload_tailed(ctx, inp_h, nin, tail, NAN), weight = upload_tailed(ctx, weight_h, nw, tail, NAN);
    t2g_tensor bias = upload_tailed(ctx, bias_h, OC, tail, NAN), dout = upload_tailed(ctx, dout_h, nout, tail, NAN);
    t2g_tensor out = upload_tailed(ctx, NULL, nout, tail, GUARD), dinp = upload_tailed(ctx, NULL, nin, tail, GUARD);
    t2g_tensor dweight = upload_tailed(ctx, NULL, nw, tail, GUARD), dbias = upload_tailed(ctx, NULL, OC, tail, GUARD);
    float *gpu_out[2], *gpu_dinp[2], *gpu_dweight[2], *gpu_dbias[2];
    for (int run = 0; run < 2; run++) {
        check_poison(ctx, out, nout);
        check_reupload(ctx, dinp, dinp0, nin);
        check_reupload(ctx, dweight, dweight0, nw);
        check_reupload(ctx, dbias, dbias0, OC);
        check_status(ctx, record_forward(ctx, tiles, out, inp, weight, with_bias ? &bias : NULL, N, C, OC),
                     "matmul_forward");
        if (backward)
            check_status(ctx, record_backward(ctx, tiles, with_dinp ? &dinp : NULL, dweight, with_dbias ? &dbias : NULL,
                                              dout, inp, weight, N, C, OC),
                         "matmul_backward");
        check_submit(ctx);
        gpu_out[run] = check_download(ctx, out, nout + tail);
        gpu_dinp[run] = check_download(ctx, dinp, nin + tail);
        gpu_dweight[run] = check_download(ctx, dweight, nw + tail);
        gpu_dbias[run] = check_download(ctx, dbias, OC + tail);
    }
    size_t untouched = 0;
    for (size_t i = 0; i < tail; i++)
        untouched += (gpu_out[0][nout + i] == GUARD) + (gpu_dinp[0][nin + i] == GUARD) +
                     (gpu_dweight[0][nw + i] == GUARD) + (gpu_dbias[0][OC + i] == GUARD);
    char what[96];
    snprintf(what, sizeof what, "%s %dx%dx%d%s", tiles_name(tiles), N, C, OC, with_bias ? " bias" : "");
    snprintf(label, sizeof label, "matmul forward %s", what);
    check_bitwise(ctx, label, gpu_out[0], gpu_out[1], nout);
    check_close_scaled(ctx, label, gpu_out[0], ref_out, nout, check_norm(mag_out, nout), 1e-4);
    check_true(ctx, untouched == 4 * tail, "matmul %s: %zu of %zu elements past the outputs written", what,
               4 * tail - untouched, 4 * tail);
    if (!backward) return;
    snprintf(what, sizeof what, "%s %dx%dx%d", tiles_name(tiles), N, C, OC);
    /* a NULL dinp or dbias leaves the tensor as it was: the initial values are the reference */
    snprintf(label, sizeof label, "matmul backward dinp%s %s", with_dinp ? "" : " (NULL: untouched)", what);
    check_bitwise(ctx, label, gpu_dinp[0], gpu_dinp[1], nin);
    check_close_scaled(ctx, label, gpu_dinp[0], ref_dinp, nin, check_norm(mag_dinp, nin), with_dinp ? 1e-4 : 0);
    snprintf(label, sizeof label, "matmul backward dweight %s", what);
    check_bitwise(ctx, label, gpu_dweight[0], gpu_dweight[1], nw);
    check_close_scaled(ctx, label, gpu_dweight[0], ref_dweight, nw, check_norm(mag_dweight, nw), 1e-4);
    snprintf(label, sizeof label, "matmul backward dbias%s %s", with_dbias ? "" : " (NULL: untouched)", what);
    check_bitwise(ctx, label, gpu_dbias[0], gpu_dbias[1], OC);
    check_close_scaled(ctx, label, gpu_dbias[0], ref_dbias, OC, check_norm(mag_dbias, OC), with_dbias ? 1e-4 : 0);
}

/* ---- the reference backward against finite differences of loss = sum(g * out) ---- */

typedef struct matmul_loss {
    const double *inp, *weight, *bias, *g;
    double *out;
    int N, C, OC;
} matmul_loss;

static double loss_of(void *user) {
    matmul_loss *l = user;
    ref_matmul_forward(l->out, l->inp, l->weight, l->bias, l->N, l->C, l->OC);
    double sum = 0;
    for (size_t i = 0; i < (size_t)l->N * l->OC; i++) sum += l->g[i] * l->out[i];
    return sum;
}

static void finite_difference_case(check_ctx *ctx, int N, int C, int OC) {
    check_case_begin(ctx);
    size_t nin = (size_t)N * C, nw = (size_t)OC * C, nout = (size_t)N * OC;
    double *inp = check_to_double(ctx, check_random_floats(ctx, nin, -1, 1), nin);
    double *weight = check_to_double(ctx, check_random_floats(ctx, nw, -1, 1), nw);
    double *bias = check_to_double(ctx, check_random_floats(ctx, OC, -1, 1), OC);
    double *g = check_to_double(ctx, check_random_floats(ctx, nout, -1, 1), nout);
    double *dinp = check_doubles(ctx, nin), *dweight = check_doubles(ctx, nw), *dbias = check_doubles(ctx, OC);
    ref_matmul_backward(dinp, dweight, dbias, g, inp, weight, N, C, OC);
    matmul_loss l = {inp, weight, bias, g, check_doubles(ctx, nout), N, C, OC};
    char label[128];
    snprintf(label, sizeof label, "matmul reference dinp vs finite diff %dx%dx%d", N, C, OC);
    check_finite_differences(ctx, label, loss_of, &l, inp, dinp, nin, nin, 1e-6);
    snprintf(label, sizeof label, "matmul reference dweight vs finite diff %dx%dx%d", N, C, OC);
    check_finite_differences(ctx, label, loss_of, &l, weight, dweight, nw, nw, 1e-6);
    snprintf(label, sizeof label, "matmul reference dbias vs finite diff %dx%dx%d", N, C, OC);
    check_finite_differences(ctx, label, loss_of, &l, bias, dbias, OC, OC, 1e-6);
}

/* ---- shapes the tensors cannot hold: an error, and nothing recorded ---- */

static void rejection_case(check_ctx *ctx) {
    check_case_begin(ctx);
    const int N = 4, C = 3, OC = 5;
    float zeros[64] = {0};
    t2g_tensor inp = check_upload(ctx, zeros, N * C), weight = check_upload(ctx, zeros, OC * C);
    t2g_tensor out = check_upload(ctx, zeros, N * OC), dout = check_upload(ctx, zeros, N * OC);
    t2g_tensor short_bias = check_upload(ctx, zeros, OC - 1), dinp = check_upload(ctx, zeros, N * C);
    uint64_t before = t2g_recorder_dispatch_count(ctx->recorder);
    t2g_status status = t2g_matmul_forward(ctx->recorder, out, inp, weight, NULL, N + 1, C, OC, &ctx->err);
    check_true(ctx, status == T2G_ERR_ARGUMENT, "matmul_forward rejects N beyond out and inp");
    status = t2g_matmul_forward(ctx->recorder, out, inp, weight, &short_bias, N, C, OC, &ctx->err);
    check_true(ctx, status == T2G_ERR_ARGUMENT, "matmul_forward rejects a short bias");
    status = t2g_matmul_forward(ctx->recorder, out, inp, weight, NULL, N, C, 0, &ctx->err);
    check_true(ctx, status == T2G_ERR_ARGUMENT, "matmul_forward rejects OC = 0");
    status = t2g_matmul_backward(ctx->recorder, &dinp, weight, &short_bias, dout, inp, weight, N, C, OC, &ctx->err);
    check_true(ctx, status == T2G_ERR_ARGUMENT && strstr(ctx->err.message, "dbias") != NULL,
               "matmul_backward rejects a short dbias, naming it");
    status = t2g_matmul_backward(ctx->recorder, &dinp, weight, NULL, dout, inp, weight, N, C + 1, OC, &ctx->err);
    check_true(ctx, status == T2G_ERR_ARGUMENT, "matmul_backward rejects C beyond the tensors");
    status = t2g_matmul_forward_residual(ctx->recorder, out, short_bias, inp, weight, NULL, N, C, OC, &ctx->err);
    check_true(ctx, status == T2G_ERR_ARGUMENT && strstr(ctx->err.message, "residual") != NULL,
               "matmul_forward_residual rejects a short residual, naming it");
    if (t2g_device_get_info(ctx->device)->storage_16bit) {
        t2g_tensor pre16 = check_upload_typed(ctx, T2G_DTYPE_BF16, zeros, N * C, 0, 0);
        status = t2g_matmul_backward_gelu(ctx->recorder, dinp, weight, NULL, dout, inp, weight, pre16, N, C, OC,
                                          &ctx->err);
        check_true(ctx, status == T2G_ERR_ARGUMENT && strstr(ctx->err.message, "pre") != NULL,
                   "matmul_backward_gelu rejects a bf16 pre (the fused GEMM reads it as f32), naming it");
    }
    check_true(ctx, t2g_recorder_dispatch_count(ctx->recorder) == before, "rejected matmuls record nothing");
    ctx->err.message[0] = 0;
}

/* A fused kernel's outputs (fused[i]) against those of the kernels it stands for (plain[i]),
 * bitwise, and its dispatches (dispatches[0] against [1]): fewer, every GEMM fusing them. */
typedef struct fused_output {
    const char *name;
    t2g_tensor fused, plain;
    size_t count;
} fused_output;

static void check_fused(check_ctx *ctx, t2g_matmul_tiles tiles, const char *kernel, int N, int C, int OC,
                        const fused_output *outputs, int output_count, const uint64_t dispatches[2]) {
    const char *name = tiles_name(tiles);
    for (int i = 0; i < output_count; i++) {
        const fused_output *o = &outputs[i];
        char label[128];
        snprintf(label, sizeof label, "%s %s %dx%dx%d %s against the plain kernels", kernel, name, N, C, OC, o->name);
        check_bitwise(ctx, label, check_download(ctx, o->plain, o->count), check_download(ctx, o->fused, o->count),
                      o->count);
    }
    check_true(ctx, dispatches[0] < dispatches[1], "%s %s %dx%dx%d: %llu dispatches against the plain kernels' %llu",
               kernel, name, N, C, OC, (unsigned long long)dispatches[0], (unsigned long long)dispatches[1]);
}

/* A backward's random inputs: dout (N,OC), inp (N,C), weight (OC,C), each in [-1, 1). */
static void backward_inputs(check_ctx *ctx, int N, int C, int OC, t2g_tensor *dout, t2g_tensor *inp,
                            t2g_tensor *weight) {
    size_t nin = (size_t)N * C, nw = (size_t)OC * C, nout = (size_t)N * OC;
    *dout = check_upload(ctx, check_random_floats(ctx, nout, -1, 1), nout);
    *inp = check_upload(ctx, check_random_floats(ctx, nin, -1, 1), nin);
    *weight = check_upload(ctx, check_random_floats(ctx, nw, -1, 1), nw);
}

/* t2g_matmul_backward_gelu on configuration `tiles` against its definition, the three kernels
 * (a scratch zeroed, matmul_backward into it, gelu_backward into dinp) on the same tiles: the
 * same bits for dinp (which starts non-zero), dweight and dbias, in fewer dispatches. */
static void gelu_fused_case(check_ctx *ctx, t2g_matmul_tiles tiles, int N, int C, int OC) {
    check_case_begin(ctx);
    size_t nin = (size_t)N * C, nw = (size_t)OC * C;
    t2g_tensor dout, inp, weight;
    backward_inputs(ctx, N, C, OC, &dout, &inp, &weight);
    t2g_tensor pre = check_upload(ctx, check_random_floats(ctx, nin, -4, 4), nin);
    float *dinp0 = check_random_floats(ctx, nin, -1, 1), *zeros_w = check_random_floats(ctx, nw, 0, 0);
    float *zeros_b = check_random_floats(ctx, OC, 0, 0);
    t2g_tensor dinp[2], dweight[2], dbias[2];
    uint64_t dispatches[2];
    for (int way = 0; way < 2; way++) { /* 0: fused where it can be, 1: the three kernels */
        dinp[way] = check_upload(ctx, dinp0, nin);
        dweight[way] = check_upload(ctx, zeros_w, nw);
        dbias[way] = check_upload(ctx, zeros_b, OC);
        t2g_tensor scratch = check_poisoned(ctx, nin);
        uint64_t before = t2g_recorder_dispatch_count(ctx->recorder);
        t2g_status status;
        if (way == 0) {
            status = t2g_matmul_backward_gelu_tiles(ctx->recorder, tiles, dinp[0], dweight[0], &dbias[0], dout, inp,
                                                    weight, pre, N, C, OC, &ctx->err);
        } else {
            status = t2g_fill(ctx->recorder, scratch, nin, 0.0f, &ctx->err);
            if (!status)
                status = t2g_matmul_backward_tiles(ctx->recorder, tiles, &scratch, dweight[1], &dbias[1], dout, inp,
                                                   weight, N, C, OC, &ctx->err);
            if (!status) status = t2g_gelu_backward(ctx->recorder, dinp[1], pre, scratch, nin, &ctx->err);
        }
        dispatches[way] = t2g_recorder_dispatch_count(ctx->recorder) - before;
        if (!check_status(ctx, status, way ? "the three kernels" : "matmul_backward_gelu")) return;
    }
    if (!check_submit(ctx)) return;
    const fused_output outputs[] = {{"dinp", dinp[0], dinp[1], nin},
                                    {"dweight", dweight[0], dweight[1], nw},
                                    {"dbias", dbias[0], dbias[1], (size_t)OC}};
    check_fused(ctx, tiles, "matmul_backward_gelu", N, C, OC, outputs, 3, dispatches);
}

/* t2g_matmul_backward_set on configuration `tiles` against its definition, dinp zeroed then
 * t2g_matmul_backward on the same tiles: the same bits for dinp (poisoned before: its old contents
 * are never read), dweight and dbias, in one dispatch fewer (no zeroing); with the automatic
 * choice, a short dinp refused by name. */
static void set_case(check_ctx *ctx, t2g_matmul_tiles tiles, int N, int C, int OC) {
    check_case_begin(ctx);
    size_t nin = (size_t)N * C, nw = (size_t)OC * C;
    t2g_tensor dout, inp, weight;
    backward_inputs(ctx, N, C, OC, &dout, &inp, &weight);
    float *dweight0 = check_random_floats(ctx, nw, -1, 1), *dbias0 = check_random_floats(ctx, OC, -1, 1);
    t2g_tensor dinp[2], dweight[2], dbias[2];
    uint64_t dispatches[2];
    for (int way = 0; way < 2; way++) { /* 0: set, 1: zeroed then added to */
        dinp[way] = check_poisoned(ctx, nin);
        dweight[way] = check_upload(ctx, dweight0, nw);
        dbias[way] = check_upload(ctx, dbias0, OC);
        uint64_t before = t2g_recorder_dispatch_count(ctx->recorder);
        t2g_status status =
            way == 0 ? t2g_matmul_backward_set_tiles(ctx->recorder, tiles, dinp[0], dweight[0], &dbias[0], dout, inp,
                                                     weight, N, C, OC, &ctx->err)
                     : t2g_fill(ctx->recorder, dinp[1], nin, 0.0f, &ctx->err);
        if (way == 1 && !status)
            status = t2g_matmul_backward_tiles(ctx->recorder, tiles, &dinp[1], dweight[1], &dbias[1], dout, inp, weight,
                                               N, C, OC, &ctx->err);
        dispatches[way] = t2g_recorder_dispatch_count(ctx->recorder) - before;
        if (!check_status(ctx, status, way ? "zeroing and matmul_backward" : "matmul_backward_set")) return;
    }
    if (!check_submit(ctx)) return;
    const char *name = tiles_name(tiles);
    const fused_output outputs[] = {{"dinp", dinp[0], dinp[1], nin},
                                    {"dweight", dweight[0], dweight[1], nw},
                                    {"dbias", dbias[0], dbias[1], (size_t)OC}};
    for (int i = 0; i < 3; i++) {
        char label[128];
        snprintf(label, sizeof label, "matmul_backward_set %s %dx%dx%d %s against zeroing and adding", name, N, C, OC,
                 outputs[i].name);
        check_bitwise(ctx, label, check_download(ctx, outputs[i].plain, outputs[i].count),
                      check_download(ctx, outputs[i].fused, outputs[i].count), outputs[i].count);
    }
    check_true(ctx, dispatches[0] + 1 == dispatches[1], "matmul_backward_set %s %dx%dx%d: %llu dispatches, one fewer "
               "than zeroing and adding (%llu)", name, N, C, OC, (unsigned long long)dispatches[0],
               (unsigned long long)dispatches[1]);
    if (tiles != T2G_MATMUL_TILES_AUTO) return;
    t2g_tensor short_dinp = check_poisoned(ctx, nin - 1);
    t2g_status refused = t2g_matmul_backward_set(ctx->recorder, short_dinp, dweight[0], NULL, dout, inp, weight, N, C,
                                                 OC, &ctx->err);
    check_true(ctx, refused == T2G_ERR_ARGUMENT && strstr(ctx->err.message, "dinp") != NULL,
               "matmul_backward_set refuses a dinp one float short, naming it: %s", ctx->err.message);
    ctx->err.message[0] = 0;
}

/* t2g_matmul_forward_residual on configuration `tiles` against its definition, matmul_forward on
 * the same tiles into a scratch then residual_forward: the same bits, in fewer dispatches. */
static void residual_fused_case(check_ctx *ctx, t2g_matmul_tiles tiles, int N, int C, int OC) {
    check_case_begin(ctx);
    size_t nin = (size_t)N * C, nw = (size_t)OC * C, nout = (size_t)N * OC;
    t2g_tensor inp = check_upload(ctx, check_random_floats(ctx, nin, -1, 1), nin);
    t2g_tensor weight = check_upload(ctx, check_random_floats(ctx, nw, -1, 1), nw);
    t2g_tensor bias = check_upload(ctx, check_random_floats(ctx, OC, -1, 1), OC);
    t2g_tensor residual = check_upload(ctx, check_random_floats(ctx, nout, -2, 2), nout);
    t2g_tensor out[2];
    uint64_t dispatches[2];
    for (int way = 0; way < 2; way++) { /* 0: fused where it can be, 1: the two kernels */
        out[way] = check_poisoned(ctx, nout);
        t2g_tensor scratch = check_poisoned(ctx, nout);
        uint64_t before = t2g_recorder_dispatch_count(ctx->recorder);
        t2g_status status =
            way == 0 ? t2g_matmul_forward_residual_tiles(ctx->recorder, tiles, out[0], residual, inp, weight, &bias, N,
                                                         C, OC, &ctx->err)
                     : t2g_matmul_forward_tiles(ctx->recorder, tiles, scratch, inp, weight, &bias, N, C, OC, &ctx->err);
        if (way == 1 && !status) status = t2g_residual_forward(ctx->recorder, out[1], residual, scratch, nout, &ctx->err);
        dispatches[way] = t2g_recorder_dispatch_count(ctx->recorder) - before;
        if (!check_status(ctx, status, way ? "the two kernels" : "matmul_forward_residual")) return;
    }
    if (!check_submit(ctx)) return;
    const fused_output output = {"out", out[0], out[1], nout};
    check_fused(ctx, tiles, "matmul_forward_residual", N, C, OC, &output, 1, dispatches);
}

/* The forward of one product on every configuration the device can run: the same bits (each
 * output is one invocation's sum over k in increasing order, whatever the tiles). */
static void same_bits_everywhere(check_ctx *ctx, int N, int C, int OC) {
    check_case_begin(ctx);
    size_t nin = (size_t)N * C, nw = (size_t)OC * C, nout = (size_t)N * OC;
    t2g_tensor inp = check_upload(ctx, check_random_floats(ctx, nin, -1, 1), nin);
    t2g_tensor weight = check_upload(ctx, check_random_floats(ctx, nw, -1, 1), nw);
    t2g_tensor bias = check_upload(ctx, check_random_floats(ctx, OC, -1, 1), OC);
    float *first = NULL;
    const char *first_name = NULL;
    for (int t = 0; t < T2G_MATMUL_TILES_COUNT; t++) {
        const t2g_matmul_tile_config *cfg = t2g_matmul_tile_config_get(t);
        const t2g_device_info *info = t2g_device_get_info(ctx->device);
        if (t2g_matmul_tile_shared_bytes(cfg) > info->max_shared_memory_bytes ||
            t2g_matmul_tile_invocations(cfg) > info->max_workgroup_invocations)
            continue; /* a configuration this device cannot run */
        t2g_tensor out = check_poisoned(ctx, nout);
        if (!check_status(ctx, t2g_matmul_forward_tiles(ctx->recorder, t, out, inp, weight, &bias, N, C, OC, &ctx->err),
                          cfg->name) ||
            !check_submit(ctx))
            return;
        float *got = check_download(ctx, out, nout);
        char label[128];
        snprintf(label, sizeof label, "matmul %dx%dx%d: tiles %s against %s", N, C, OC, cfg->name,
                 first_name ? first_name : cfg->name);
        if (first) check_bitwise(ctx, label, first, got, nout);
        else first = got, first_name = cfg->name;
    }
}

/* The CPU shaders' 16-bit variants (matmul_gemm_cpu's, or matmul_pack_cpu's on cpu_panels: A and
 * B of `dtype`, or f32 A and B of `dtype`, as the model's forward and backward): the bits of the
 * f32 products of the same rounded values (a product of two 16-bit values is exact in f32; each
 * sum runs in one order). Whole tiles with leading dimensions multiples of 4 take the quad loads,
 * the others scalar ones. */
static void lanes_16bit_case(check_ctx *ctx, t2g_matmul_tiles LN, t2g_dtype dtype, int N, int C, int OC) {
    check_case_begin(ctx);
    size_t nin = (size_t)N * C, nw = (size_t)OC * C, nout = (size_t)N * OC;
    float *inp_h = check_rounded(ctx, dtype, check_random_floats(ctx, nin, -1, 1), nin);
    float *weight_h = check_rounded(ctx, dtype, check_random_floats(ctx, nw, -1, 1), nw);
    float *dout_h = check_random_floats(ctx, nout, -1, 1);
    t2g_tensor inp = check_upload(ctx, inp_h, nin), weight = check_upload(ctx, weight_h, nw);
    t2g_tensor inp16 = check_upload_typed(ctx, dtype, inp_h, nin, 0, 0);
    t2g_tensor weight16 = check_upload_typed(ctx, dtype, weight_h, nw, 0, 0);
    t2g_tensor dout = check_upload(ctx, dout_h, nout);
    float *zeros_in = check_random_floats(ctx, nin, 0, 0), *zeros_w = check_random_floats(ctx, nw, 0, 0);
    t2g_tensor out[2], dinp[2], dweight[2];
    for (int v = 0; v < 2; v++) { /* 0: f32, 1: 16-bit */
        out[v] = check_poisoned(ctx, nout);
        dinp[v] = check_upload(ctx, zeros_in, nin);
        dweight[v] = check_upload(ctx, zeros_w, nw);
        t2g_tensor in_v = v ? inp16 : inp, w_v = v ? weight16 : weight;
        t2g_status status = t2g_matmul_forward_tiles(ctx->recorder, LN, out[v], in_v, w_v, NULL, N, C, OC, &ctx->err);
        if (!check_status(ctx, status, "forward")) break;
        status = t2g_matmul_backward_tiles(ctx->recorder, LN, &dinp[v], dweight[v], NULL, dout, in_v, w_v, N, C, OC,
                                           &ctx->err);
        if (!check_status(ctx, status, "backward")) break;
    }
    if (ctx->failures || !check_submit(ctx)) return;
    char label[128];
    const char *type = t2g_dtype_name(dtype), *tiles = tiles_name(LN);
    snprintf(label, sizeof label, "%s %s %dx%dx%d forward against f32", tiles, type, N, C, OC);
    check_bitwise(ctx, label, check_download(ctx, out[0], nout), check_download(ctx, out[1], nout), nout);
    snprintf(label, sizeof label, "%s %s %dx%dx%d dinp against f32", tiles, type, N, C, OC);
    check_bitwise(ctx, label, check_download(ctx, dinp[0], nin), check_download(ctx, dinp[1], nin), nin);
    snprintf(label, sizeof label, "%s %s %dx%dx%d dweight against f32", tiles, type, N, C, OC);
    check_bitwise(ctx, label, check_download(ctx, dweight[0], nw), check_download(ctx, dweight[1], nw), nw);
}

/* Where matmul_gemm_cpu reads its operands' quads (t2g_quad_view): from the view's quad
 * where the operand starts, or nowhere (scalar loads) where the operand is off a quad of the view,
 * the view would hold too many texels or run past the arena's buffer. */
static void quad_view_decisions(check_ctx *ctx) {
    check_case_begin(ctx);
    t2g_device_info info = *t2g_device_get_info(ctx->device);
    info.min_texel_buffer_offset_alignment = 256;
    info.max_texel_buffer_elements = 1000;
    t2g_tensor arena = check_poisoned(ctx, 4096); /* its arena: 16 KiB at least */
    uint64_t base = arena.offset, capacity = t2g_arena_capacity_bytes(arena.arena);
    static const struct {
        uint64_t offset; /* from base */
        uint64_t elements;
        t2g_dtype dtype;
        bool fits;
        uint64_t view_offset; /* from base */
        uint64_t view_bytes;
        uint32_t first;
    } cases[] = {
        {0, 64, T2G_DTYPE_F32, true, 0, 256, 0},
        {16, 64, T2G_DTYPE_F32, true, 0, 272, 1},       /* the view starts a quad before the operand */
        {272, 5, T2G_DTYPE_F32, true, 256, 48, 1},      /* 5 floats: the last quad holds one */
        {8, 64, T2G_DTYPE_F32, false, 0, 16, 0},        /* off a quad of the view */
        {8, 64, T2G_DTYPE_BF16, true, 0, 136, 1},       /* a bf16 quad is 8 bytes */
        {12, 64, T2G_DTYPE_F16, false, 0, 8, 0},
        {0, 4000, T2G_DTYPE_F32, true, 0, 16000, 0},    /* 1000 texels: as many as a view holds */
        {0, 4001, T2G_DTYPE_F32, false, 0, 16, 0},      /* 1001 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t size = t2g_dtype_bytes(cases[i].dtype);
        t2g_tensor operand = {arena.arena, base + cases[i].offset, cases[i].elements * size, cases[i].dtype};
        t2g_quads view;
        bool fits = t2g_quad_view(&info, operand, &view);
        uint64_t want_offset = cases[i].fits ? base + cases[i].view_offset : 0;
        check_true(ctx, fits == cases[i].fits && view.offset == want_offset && view.bytes == cases[i].view_bytes &&
                            view.first == cases[i].first,
                   "quad view of %llu %s at byte %llu (views on 256 bytes, at most 1000 texels): %s, bytes %llu+%llu, "
                   "quad %u (expected %s, %llu+%llu, %u)",
                   (unsigned long long)cases[i].elements, t2g_dtype_name(cases[i].dtype),
                   (unsigned long long)operand.offset, fits ? "fits" : "scalar", (unsigned long long)view.offset,
                   (unsigned long long)view.bytes, view.first, cases[i].fits ? "fits" : "scalar",
                   (unsigned long long)want_offset, (unsigned long long)cases[i].view_bytes, cases[i].first);
    }
    /* a view that would run past the arena's buffer */
    t2g_tensor last = {arena.arena, capacity - 4, 4, T2G_DTYPE_F32};
    info.min_texel_buffer_offset_alignment = 4;
    t2g_quads view;
    check_true(ctx, !t2g_quad_view(&info, last, &view), "a quad view past the end of the arena's buffer is refused");
}

/* The products of cpu_lanes or cpu_panels with operands and outputs that are slices of larger
 * tensors (padded before with NaN), read through views that start before them (a texel alignment
 * stricter than theirs; whole tiles' outputs read, when accumulating, and written as quads) and
 * through none (views too small: scalar loads and stores; cpu_panels then runs on cpu_lanes): the
 * same bits as in tensors of their own. */
typedef struct matmul_views {
    t2g_matmul_tiles tiles;
    int N, C, OC;
    const float *inp, *weight, *dout, *nans, *zeros_in, *zeros_w;
} matmul_views;

static t2g_status record_matmul_views(check_ctx *ctx, int way, size_t pad, void *user,
                                      t2g_tensor outs[CHECK_WAY_OUTPUTS]) {
    const matmul_views *c = user;
    size_t nin = (size_t)c->N * c->C, nw = (size_t)c->OC * c->C, nout = (size_t)c->N * c->OC;
    t2g_tensor inp = check_upload_for_way(ctx, way, c->inp, nin, pad);
    t2g_tensor weight = check_upload_for_way(ctx, way, c->weight, nw, pad);
    t2g_tensor dout = check_upload_for_way(ctx, way, c->dout, nout, pad);
    /* the outputs too: tensors of their own, then slices (C's quads read and written at an offset):
     * out, dinp, dweight, dbias */
    outs[0] = check_upload_for_way(ctx, way, c->nans, nout, pad);
    outs[1] = check_upload_for_way(ctx, way, c->zeros_in, nin, pad);
    outs[2] = check_upload_for_way(ctx, way, c->zeros_w, nw, pad);
    outs[3] = check_upload_for_way(ctx, way, c->zeros_w, c->OC, pad);
    t2g_status status = t2g_matmul_forward_tiles(ctx->recorder, c->tiles, outs[0], inp, weight, NULL, c->N, c->C, c->OC,
                                                 &ctx->err);
    if (!status)
        status = t2g_matmul_backward_tiles(ctx->recorder, c->tiles, &outs[1], outs[2], &outs[3], dout, inp, weight, c->N,
                                           c->C, c->OC, &ctx->err);
    return status;
}

static void quad_views_case(check_ctx *ctx, t2g_matmul_tiles LN, int N, int C, int OC) {
    check_case_begin(ctx);
    size_t nin = (size_t)N * C, nw = (size_t)OC * C, nout = (size_t)N * OC;
    float *nans = check_random_floats(ctx, nout, 0, 0);
    for (size_t e = 0; e < nout; e++) nans[e] = NAN;
    matmul_views c = {LN, N, C, OC, check_random_floats(ctx, nin, -1, 1), check_random_floats(ctx, nw, -1, 1),
                      check_random_floats(ctx, nout, -1, 1), nans, check_random_floats(ctx, nin, 0, 0),
                      check_random_floats(ctx, nw, 0, 0)};
    static const char *names[4] = {"forward", "dinp", "dweight", "dbias"};
    const size_t counts[4] = {nout, nin, nw, (size_t)OC};
    float *got[CHECK_TEXEL_WAYS][CHECK_WAY_OUTPUTS] = {{NULL}};
    char what[96];
    snprintf(what, sizeof what, "%s %dx%dx%d", tiles_name(LN), N, C, OC);
    check_texel_ways_case(ctx, what, names, counts, 4, record_matmul_views, &c, got);
}

/* More texel views in one recording than one descriptor pool holds (the recorder's pools hold
 * 1024 texel descriptors, two a cpu_lanes product): every product runs, with the same bits. */
static void many_views_case(check_ctx *ctx) {
    check_case_begin(ctx);
    enum { PRODUCTS = 600, N = 5, C = 8, OC = 12 };
    t2g_tensor inp = check_upload(ctx, check_random_floats(ctx, N * C, -1, 1), N * C);
    t2g_tensor weight = check_upload(ctx, check_random_floats(ctx, OC * C, -1, 1), OC * C);
    t2g_tensor out = check_poisoned(ctx, (size_t)PRODUCTS * N * OC);
    for (int i = 0; i < PRODUCTS && !ctx->failures; i++)
        check_status(ctx, t2g_matmul_forward_tiles(ctx->recorder, T2G_MATMUL_TILES_CPU_LANES,
                                                   t2g_tensor_slice(out, (uint64_t)i * N * OC, N * OC), inp, weight,
                                                   NULL, N, C, OC, &ctx->err),
                     "a product");
    if (ctx->failures || !check_submit(ctx)) return;
    float *got = check_download(ctx, out, (size_t)PRODUCTS * N * OC);
    bool same = true;
    for (size_t e = 0; e < (size_t)PRODUCTS * N * OC; e++) same = same && memcmp(&got[e], &got[e % (N * OC)], 4) == 0;
    check_true(ctx, same && isfinite(got[0]), "%d cpu_lanes products in one recording (%d texel views) give the same "
               "bits", PRODUCTS, 2 * PRODUCTS);
}

/* cpu_panels with room for fewer panels than a product needs (t2g_matmul_test_panels), both
 * operands packed: A whole and B in chunks, B whole and A in chunks, both in chunks; a
 * storage-buffer range too short for a panel (packed in pieces); each operand read in place where
 * it can be (f32; A stored (M,K): K and its leading dimension multiples of 4; A stored (K,M) or B
 * stored (K,N): M or N and the leading dimension multiples of 4), in one chunk (fewer dispatches
 * than packed, where anything is in place) and with room for one tile of B (the packed operand in
 * chunks, or cpu_lanes where both are packed). Each the bits of the product in one chunk with both
 * packed, on more dispatches where chunks were asked for (so they did happen). Each of the three
 * products (the three layouts of the operands) on room sized for its own panels, two tiles of C or
 * more each way. */
static void panels_chunked_case(check_ctx *ctx, int N, int C, int OC) {
    check_case_begin(ctx);
    const t2g_matmul_tiles PN = T2G_MATMUL_TILES_CPU_PANELS;
    const t2g_matmul_tile_config *cfg = t2g_matmul_tile_config_get(PN);
    size_t nin = (size_t)N * C, nw = (size_t)OC * C, nout = (size_t)N * OC;
    t2g_tensor inp = check_upload(ctx, check_random_floats(ctx, nin, -1, 1), nin);
    t2g_tensor weight = check_upload(ctx, check_random_floats(ctx, nw, -1, 1), nw);
    t2g_tensor bias = check_upload(ctx, check_random_floats(ctx, OC, -1, 1), OC);
    t2g_tensor dout = check_upload(ctx, check_random_floats(ctx, nout, -1, 1), nout);
    float *zeros_in = check_random_floats(ctx, nin, 0, 0), *zeros_w = check_random_floats(ctx, nw, 0, 0);
    static const char *names[3] = {"forward", "dinp", "dweight"};
    /* each product's M x K x N: out (N,OC) over C, dinp (N,C) over OC, dweight (OC,C) over N; A
     * is inp (N,C) in the forward, dout (N,OC) in dinp (both rows of K), dout^T in dweight */
    const int shapes[3][3] = {{N, C, OC}, {N, OC, C}, {OC, N, C}};
    const size_t counts[3] = {nout, nin, nw};
    /* a binding range that holds every tensor of the product but not every panel */
    size_t largest = nout > nin ? nout : nin;
    uint64_t range = ((largest > nw ? largest : nw) * 4 + 255) / 256 * 256;
    for (int p = 0; p < 3 && !ctx->failures; p++) {
        uint64_t k4 = (uint64_t)(shapes[p][1] + 3) / 4;
        uint64_t a_rows = (uint64_t)(shapes[p][0] + cfg->bm - 1) / cfg->bm * cfg->bm;
        uint64_t b_rows = (uint64_t)(shapes[p][2] + cfg->bn - 1) / cfg->bn * cfg->bn;
        /* in place: forward's and dinp's A (K % 4), dinp's and dweight's B (N % 4), dweight's A (M % 4) */
        bool a_in = p < 2 ? shapes[p][1] % 4 == 0 : shapes[p][0] % 4 == 0, b_in = p > 0 && shapes[p][2] % 4 == 0;
        /* room for one tile of B: the packed operand in chunks, or none packed, or no room for both */
        uint64_t room = cfg->bn, packed_rows = (a_in ? 0 : a_rows) + (b_in ? 0 : b_rows);
        bool fits = (a_in ? 0 : cfg->bm) + (b_in ? 0 : cfg->bn) <= room, chunked = fits && packed_rows > room;
        char in_place_what[2][96];
        snprintf(in_place_what[0], sizeof in_place_what[0], "A %s, B %s, one chunk", a_in ? "in place" : "packed",
                 b_in ? "in place" : "packed");
        snprintf(in_place_what[1], sizeof in_place_what[1], "A %s, B %s, room for one tile of B%s",
                 a_in ? "in place" : "packed", b_in ? "in place" : "packed",
                 !fits ? ": cpu_lanes" : chunked ? ": in chunks" : "");
        const t2g_panels_in_place PACKED = T2G_PANELS_PACKED, IN_PLACE = T2G_PANELS_IN_PLACE;
        const struct {
            uint64_t bytes, range;
            t2g_panels_in_place a;
            bool chunks; /* more dispatches than in one chunk */
            const char *what;
        } rooms[] = {
            {0, 0, PACKED, false, "one chunk"},
            {16 * k4 * (a_rows + cfg->bn), 0, PACKED, true, "A whole, B in chunks"},
            {16 * k4 * (b_rows + 2 * cfg->bm), 0, PACKED, true, "B whole, A in chunks"},
            {16 * k4 * 2 * cfg->bn, 0, PACKED, true, "both in chunks"},
            /* the range splits only a panel larger than every tensor */
            {0, range, PACKED, 16 * k4 * (a_rows > b_rows ? a_rows : b_rows) > range,
             "one chunk, panels packed in pieces of the binding range"},
            {0, 0, IN_PLACE, false, in_place_what[0]},
            {16 * k4 * room, 0, IN_PLACE, chunked, in_place_what[1]},
        };
        enum { ROOMS = sizeof rooms / sizeof rooms[0] };
        float *got[ROOMS];
        uint64_t dispatches[ROOMS];
        for (int r = 0; r < ROOMS; r++) {
            t2g_matmul_test_panels(rooms[r].bytes, rooms[r].a);
            if (rooms[r].range) check_status(ctx, t2g_device_limit_binding(ctx->device, rooms[r].range, &ctx->err),
                                             "lowering the binding range");
            t2g_tensor out = p == 0 ? check_poisoned(ctx, nout) : check_upload(ctx, p == 1 ? zeros_in : zeros_w, counts[p]);
            uint64_t before = t2g_recorder_dispatch_count(ctx->recorder);
            t2g_status status =
                p == 0   ? t2g_matmul_forward_tiles(ctx->recorder, PN, out, inp, weight, &bias, N, C, OC, &ctx->err)
                : p == 1 ? t2g_matmul_backward_tiles(ctx->recorder, PN, &out, check_upload(ctx, zeros_w, nw), NULL, dout,
                                                     inp, weight, N, C, OC, &ctx->err)
                         : t2g_matmul_backward_tiles(ctx->recorder, PN, NULL, out, NULL, dout, inp, weight, N, C, OC,
                                                     &ctx->err);
            dispatches[r] = t2g_recorder_dispatch_count(ctx->recorder) - before;
            if (p == 1 && !status) { /* dinp's own dispatches: without those of the dweight beside it */
                before = t2g_recorder_dispatch_count(ctx->recorder);
                status = t2g_matmul_backward_tiles(ctx->recorder, PN, NULL, check_upload(ctx, zeros_w, nw), NULL, dout,
                                                   inp, weight, N, C, OC, &ctx->err);
                dispatches[r] -= t2g_recorder_dispatch_count(ctx->recorder) - before;
            }
            bool recorded = check_status(ctx, status, rooms[r].what) && check_submit(ctx);
            t2g_device_limit_binding(ctx->device, 0, &ctx->err);
            if (!recorded) break;
            got[r] = check_download(ctx, out, counts[p]);
        }
        t2g_matmul_test_panels(0, T2G_PANELS_AUTO);
        for (int r = 1; r < ROOMS && !ctx->failures; r++) {
            char label[160];
            snprintf(label, sizeof label, "cpu_panels %dx%dx%d %s, %s, against one chunk", N, C, OC, names[p],
                     rooms[r].what);
            check_bitwise(ctx, label, got[0], got[r], counts[p]);
            uint64_t base = rooms[r].a == IN_PLACE && !rooms[r].chunks ? dispatches[r] : dispatches[rooms[r].a == IN_PLACE ? 5 : 0];
            if (rooms[r].chunks)
                check_true(ctx, dispatches[r] > base, "cpu_panels %dx%dx%d %s, %s: %llu dispatches against %llu in "
                           "one chunk", N, C, OC, names[p], rooms[r].what, (unsigned long long)dispatches[r],
                           (unsigned long long)base);
        }
        if (!ctx->failures && (a_in || b_in))
            check_true(ctx, dispatches[5] < dispatches[0], "cpu_panels %dx%dx%d %s, %s: %llu dispatches against %llu "
                       "with both packed", N, C, OC, names[p], rooms[5].what, (unsigned long long)dispatches[5],
                       (unsigned long long)dispatches[0]);
    }
}

T2G_CHECK(matmul) {
    const t2g_matmul_tiles GS = T2G_MATMUL_TILES_GPU_SMALL, GL = T2G_MATMUL_TILES_GPU_LARGE;
    const t2g_matmul_tiles CS = T2G_MATMUL_TILES_CPU_SMALL, CL = T2G_MATMUL_TILES_CPU_LARGE;
    const t2g_matmul_tiles A = T2G_MATMUL_TILES_AUTO;
    matmul_case(ctx, A, 37, 53, 71, ALL); /* the device's own choice (t2g selfcheck runs only this) */
    if (ctx->quick) return ctx->failures;
    for (int t = 0; t < T2G_MATMUL_TILES_COUNT; t++) {
        const t2g_matmul_tile_config *cfg = t2g_matmul_tile_config_get(t);
        check_log(ctx, "tiles %s: %ux%u, K slices of %u, %ux%u per invocation, %u invocations, %u bytes shared",
                  cfg->name, cfg->bm, cfg->bn, cfg->bk, cfg->tm, cfg->tn, t2g_matmul_tile_invocations(cfg),
                  t2g_matmul_tile_shared_bytes(cfg));
    }
    /* The 4-row tiles (decode steps of one to four sequences), and every configuration's bits
     * equal to every other's: the generator picks tiles by rows and promises the same text. */
    const t2g_matmul_tiles R = T2G_MATMUL_TILES_ROWS;
    matmul_case(ctx, R, 1, 1, 1, ALL);
    matmul_case(ctx, R, 1, 576, 1536, WITH_BIAS);
    matmul_case(ctx, R, 3, 53, 259, ALL);
    matmul_case(ctx, R, 4, 48, 129, ALL);
    matmul_case(ctx, R, 37, 53, 71, ALL);
    /* the CPU's 4-row tiles: one to three rows read their quads too (rows clamped), the forward
     * as a decode step's (B stored by columns) and the backward's layouts */
    const t2g_matmul_tiles CR = T2G_MATMUL_TILES_CPU_ROWS;
    matmul_case(ctx, CR, 1, 576, 1536, WITH_BIAS);
    matmul_case(ctx, CR, 3, 64, 129, ALL);
    matmul_case(ctx, CR, 2, 53, 71, ALL);
    same_bits_everywhere(ctx, 1, 96, 133);
    same_bits_everywhere(ctx, 3, 96, 133);
    same_bits_everywhere(ctx, 37, 53, 71);
    same_bits_everywhere(ctx, 300, 40, 260); /* several tiles of each configuration, cut at the edges */
    /* Each configuration on the shapes it serves, plus edge cases: 1x1x1, a single row, tiles
     * cut at every edge (200x136x260 against 128-tiles), more than 8 tile rows (GROUP_ROWS). */
    matmul_case(ctx, GS, 37, 53, 71, ALL);
    matmul_case(ctx, GS, 1, 1, 1, ALL);
    matmul_case(ctx, GS, 1, 7, 5, ALL);
    matmul_case(ctx, GS, 1, 7, 5, 0);
    matmul_case(ctx, GS, 7, 48, 259, WITH_DINP);
    matmul_case(ctx, GS, 130, 48, 192, WITH_BIAS | WITH_DBIAS);
    matmul_case(ctx, GS, 64, 64, 64, ALL);
    matmul_case(ctx, GS, 300, 33, 40, ALL);
    matmul_case(ctx, GL, 200, 136, 260, ALL);
    matmul_case(ctx, GL, 130, 48, 192, WITH_DINP);
    matmul_case(ctx, GL, 37, 53, 71, WITH_BIAS);
    matmul_case(ctx, GL, 1, 1, 1, ALL);
    matmul_case(ctx, GL, 1, 7, 5, WITH_DBIAS);
    matmul_case(ctx, GL, 64, 64, 64, ALL);
    matmul_case(ctx, GL, 7, 48, 259, ALL);
    matmul_case(ctx, CS, 37, 53, 71, 0);
    matmul_case(ctx, CS, 1, 1, 1, ALL);
    matmul_case(ctx, CS, 1, 7, 5, WITH_BIAS | WITH_DINP);
    matmul_case(ctx, CS, 7, 48, 259, ALL);
    matmul_case(ctx, CS, 130, 48, 192, ALL);
    matmul_case(ctx, CS, 64, 64, 64, WITH_DBIAS);
    matmul_case(ctx, CL, 200, 136, 260, ALL);
    matmul_case(ctx, CL, 130, 48, 192, WITH_BIAS);
    matmul_case(ctx, CL, 1, 7, 5, ALL);
    matmul_case(ctx, CL, 1100, 20, 24, ALL);
    const t2g_matmul_tiles CW = T2G_MATMUL_TILES_CPU_WIDE; /* 256 x 128: edges cut, > 8 tile rows */
    matmul_case(ctx, CW, 300, 136, 260, ALL);
    matmul_case(ctx, CW, 1, 7, 5, ALL);
    matmul_case(ctx, CW, 2100, 20, 24, WITH_BIAS | WITH_DINP);
    /* matmul_gemm_cpu.comp: whole tiles with leading dimensions multiples of 4 (vec4 loads in all
     * three products), a K of dweight not a multiple of 4 (vec4 loads, then scalar), cut tiles,
     * leading dimensions not multiples of 4 (scalar loads only), > 8 tile rows */
    static const int lanes_cases[][4] = {/* N, C, OC, flags */
        {64, 64, 128, ALL}, {67, 64, 128, ALL},      {200, 136, 260, ALL},
        {37, 53, 71, ALL},  {1, 7, 5, ALL},          {300, 48, 192, WITH_BIAS},
        {131, 72, 260, WITH_BIAS | WITH_DINP},
    };
    for (size_t i = 0; i < sizeof lanes_cases / sizeof lanes_cases[0]; i++)
        matmul_case(ctx, T2G_MATMUL_TILES_CPU_LANES, lanes_cases[i][0], lanes_cases[i][1], lanes_cases[i][2],
                    lanes_cases[i][3]);
    /* matmul_panels_cpu.comp on matmul_pack_cpu.comp's panels: the same edges, plus K below 4 and
     * K past a multiple of 4 in each product, and more than 8 tile rows of 16 */
    static const int panels_cases[][4] = {/* N, C, OC, flags */
        {64, 64, 128, ALL}, {67, 64, 128, ALL},  {200, 136, 260, ALL}, {37, 53, 71, ALL},
        {1, 7, 5, ALL},     {300, 48, 192, WITH_BIAS}, {131, 72, 260, WITH_BIAS | WITH_DINP},
        {5, 3, 130, ALL},   {161, 130, 6, ALL},
    };
    const t2g_matmul_tiles PN = T2G_MATMUL_TILES_CPU_PANELS;
    for (size_t i = 0; i < sizeof panels_cases / sizeof panels_cases[0]; i++)
        matmul_case(ctx, PN, panels_cases[i][0], panels_cases[i][1], panels_cases[i][2], panels_cases[i][3]);
    /* the 16 x 16 per invocation of cpu_panels_wide: edges cut, K past a multiple of 4, A read
     * in place (forward and dinp, N < 512) and packed (dweight; and N = 520) */
    const t2g_matmul_tiles PW = T2G_MATMUL_TILES_CPU_PANELS_WIDE;
    matmul_case(ctx, PW, 200, 136, 260, ALL);
    matmul_case(ctx, PW, 37, 53, 71, ALL);
    matmul_case(ctx, PW, 300, 48, 520, WITH_BIAS | WITH_DINP);
    matmul_case(ctx, PW, 5, 3, 130, ALL);
    panels_chunked_case(ctx, 150, 132, 260);
    panels_chunked_case(ctx, 37, 130, 133);
    panels_chunked_case(ctx, 150, 132, 261); /* A packed and B in place (dinp, dweight) */
    /* gelu_backward fused into dinp: whole tiles of quads and cut ones (67x64x128), one at a
     * time (C % 4 != 0: 37x53x71), B packed (600 rows: dinp's weight from M = 512 is); on the
     * other tiled GEMMs (cpu_lanes: whole tiles of quads, WHOLE, and one at a time; gpu_small:
     * edge tiles, the GPUs' SGEMM whose gpu_large pipelines take lavapipe 20 s and more to compile
     * cold) */
    gelu_fused_case(ctx, PN, 67, 64, 128);
    gelu_fused_case(ctx, PN, 37, 53, 71);
    gelu_fused_case(ctx, PW, 600, 64, 96);
    gelu_fused_case(ctx, T2G_MATMUL_TILES_CPU_LANES, 67, 64, 128);
    gelu_fused_case(ctx, T2G_MATMUL_TILES_CPU_LANES, 64, 64, 128);
    gelu_fused_case(ctx, T2G_MATMUL_TILES_CPU_LANES, 37, 53, 71);
    gelu_fused_case(ctx, GS, 37, 53, 71);
    /* the residual add fused into the forward: the same shapes */
    residual_fused_case(ctx, PN, 67, 64, 128);
    residual_fused_case(ctx, PN, 37, 53, 71);
    residual_fused_case(ctx, PW, 600, 64, 96);
    residual_fused_case(ctx, T2G_MATMUL_TILES_CPU_LANES, 67, 64, 128);
    residual_fused_case(ctx, T2G_MATMUL_TILES_CPU_LANES, 64, 64, 128);
    residual_fused_case(ctx, T2G_MATMUL_TILES_CPU_LANES, 37, 53, 71);
    residual_fused_case(ctx, GS, 37, 53, 71);
    /* dinp set rather than added to, on each GEMM: whole and cut tiles, packed and in place */
    set_case(ctx, T2G_MATMUL_TILES_AUTO, 300, 64, 259);
    set_case(ctx, PN, 67, 64, 128);
    set_case(ctx, PN, 37, 53, 71);
    set_case(ctx, PW, 600, 64, 96);
    set_case(ctx, T2G_MATMUL_TILES_CPU_LANES, 64, 64, 128);
    set_case(ctx, T2G_MATMUL_TILES_CPU_LANES, 37, 53, 71);
    set_case(ctx, GS, 37, 53, 71);
    set_case(ctx, GL, 130, 40, 72);
    if (t2g_device_get_info(ctx->device)->storage_16bit)
        for (int f = 0; f < 2; f++) {
            lanes_16bit_case(ctx, T2G_MATMUL_TILES_CPU_LANES, check_formats16[f], 67, 64, 128);
            lanes_16bit_case(ctx, T2G_MATMUL_TILES_CPU_LANES, check_formats16[f], 37, 53, 71);
            lanes_16bit_case(ctx, PN, check_formats16[f], 67, 64, 128);
            lanes_16bit_case(ctx, PN, check_formats16[f], 37, 53, 71);
            lanes_16bit_case(ctx, PW, check_formats16[f], 37, 53, 71);
        }
    quad_view_decisions(ctx);
    quad_views_case(ctx, T2G_MATMUL_TILES_CPU_LANES, 64, 64, 128);
    quad_views_case(ctx, T2G_MATMUL_TILES_CPU_LANES, 37, 52, 68);
    quad_views_case(ctx, PN, 64, 64, 128);
    quad_views_case(ctx, PN, 37, 52, 68);
    many_views_case(ctx);
    /* the public functions, choosing for this device */
    matmul_case(ctx, A, 130, 48, 192, ALL);
    matmul_case(ctx, A, 256, 96, 520, WITH_BIAS);
    /* more tiles than one grid dimension holds (t2g_groups_2d): 65537 row tiles of 32 */
    matmul_case(ctx, GS, 65536 * 32 + 5, 3, 2, WITH_BIAS | FORWARD_ONLY);
    finite_difference_case(ctx, 3, 4, 5);
    finite_difference_case(ctx, 1, 1, 2);
    rejection_case(ctx);
    return ctx->failures;
}
