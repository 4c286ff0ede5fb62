/* fill, copy, scaled add (gradient accumulation) and the residual connection against
 * tests/ref/elementwise.c. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "ref/ref.h"

static const size_t SIZES[] = {7, 1, 130, 65535u * 256u + 3u};
#define SIZE_COUNT (sizeof SIZES / sizeof SIZES[0])

T2G_CHECK(fill_copy) {
    for (size_t s = 0; s < (ctx->quick ? 1 : SIZE_COUNT); s++) {
        size_t n = SIZES[s];
        check_case_begin(ctx);
        char label[96];
        float *x = check_random_floats(ctx, n, -3, 3);
        double *expected_fill = check_doubles(ctx, n);
        float value = (float)check_uniform(ctx, -2, 2);
        for (size_t i = 0; i < n; i++) expected_fill[i] = value;
        /* One element past n stays untouched: the kernels write exactly n elements. */
        t2g_tensor src = check_upload(ctx, x, n), dst = check_poisoned(ctx, n + 1), filled = check_poisoned(ctx, n + 1);
        float *copies[2], *fills[2];
        for (int run = 0; run < 2; run++) {
            check_poison(ctx, dst, n + 1);
            check_poison(ctx, filled, n + 1);
            check_status(ctx, t2g_copy(ctx->recorder, dst, src, n, &ctx->err), "copy");
            check_status(ctx, t2g_fill(ctx->recorder, filled, n, value, &ctx->err), "fill");
            check_submit(ctx);
            copies[run] = check_download(ctx, dst, n + 1);
            fills[run] = check_download(ctx, filled, n + 1);
        }
        snprintf(label, sizeof label, "copy n=%zu", n);
        check_bitwise(ctx, label, copies[0], copies[1], n);
        check_close(ctx, label, copies[0], check_to_double(ctx, x, n), n, 0);
        snprintf(label, sizeof label, "fill n=%zu", n);
        check_bitwise(ctx, label, fills[0], fills[1], n);
        check_close(ctx, label, fills[0], expected_fill, n, 0);
        check_true(ctx, isnan(copies[0][n]) && isnan(fills[0][n]), "copy and fill n=%zu leave element n alone", n);
    }
    return ctx->failures;
}

T2G_CHECK(grad_accum) {
    /* y = alpha x + beta y: accumulation (beta 1), scaled copy over NaN (beta 0), decay. */
    const float settings[][2] = {{1.0f, 1.0f}, {0.25f, 0.0f}, {-0.5f, 0.9f}};
    for (size_t s = 0; s < (ctx->quick ? 1 : SIZE_COUNT); s++) {
        for (size_t k = 0; k < 3; k++) {
            size_t n = SIZES[s];
            float alpha = settings[k][0], beta = settings[k][1];
            check_case_begin(ctx);
            float *x = check_random_floats(ctx, n, -3, 3);
            float *y0 = check_random_floats(ctx, n, -3, 3);
            if (beta == 0.0f)
                for (size_t i = 0; i < n; i++) y0[i] = NAN; /* beta 0 must not read y */
            double *ref = check_to_double(ctx, y0, n);
            ref_axpby(ref, check_to_double(ctx, x, n), n, alpha, beta);
            /* alpha x + beta y can cancel: the yardstick is |alpha x| + |beta y|. */
            double *magnitude = check_doubles(ctx, n);
            for (size_t i = 0; i < n; i++) magnitude[i] = fabs(alpha * x[i]) + (beta == 0.0f ? 0 : fabs(beta * y0[i]));
            t2g_tensor xt = check_upload(ctx, x, n), yt = check_upload(ctx, y0, n);
            float *results[2];
            for (int run = 0; run < 2; run++) {
                check_reupload(ctx, yt, y0, n);
                check_status(ctx, t2g_axpby(ctx->recorder, yt, xt, n, alpha, beta, &ctx->err), "axpby");
                check_submit(ctx);
                results[run] = check_download(ctx, yt, n);
            }
            char label[96];
            snprintf(label, sizeof label, "axpby n=%zu alpha=%g beta=%g", n, alpha, beta);
            check_bitwise(ctx, label, results[0], results[1], n);
            check_close_scaled(ctx, label, results[0], ref, n, check_norm(magnitude, n), 1e-6);
        }
        if (ctx->quick) break;
    }
    return ctx->failures;
}

/* The forward reading a's and b's quads through texel views of their own tensors, through ones
 * that start before them and through none (views of at most 4 texels): the same bits. */
typedef struct residual_views {
    size_t n;
    const float *a, *b;
} residual_views;

static t2g_status record_residual_views(check_ctx *ctx, int way, size_t pad, void *user,
                                        t2g_tensor outs[CHECK_WAY_OUTPUTS]) {
    const residual_views *c = user;
    t2g_tensor a = check_upload_for_way(ctx, way, c->a, c->n, pad), b = check_upload_for_way(ctx, way, c->b, c->n, pad);
    outs[0] = check_poisoned(ctx, c->n + 1); /* out, and one element past it */
    return t2g_residual_forward(ctx->recorder, outs[0], a, b, c->n, &ctx->err);
}

static void residual_views_case(check_ctx *ctx, size_t n) {
    check_case_begin(ctx);
    residual_views c = {n, check_random_floats(ctx, n, -3, 3), check_random_floats(ctx, n, -3, 3)};
    static const char *names[1] = {"forward"};
    const size_t counts[1] = {n + 1};
    float *got[CHECK_TEXEL_WAYS][CHECK_WAY_OUTPUTS] = {{NULL}};
    char what[64];
    snprintf(what, sizeof what, "residual n=%zu", n);
    if (check_texel_ways_case(ctx, what, names, counts, 1, record_residual_views, &c, got))
        check_true(ctx, isnan(got[0][0][n]), "residual n=%zu through views leaves element n alone", n);
}

T2G_CHECK(residual) {
    for (size_t s = 0; s < (ctx->quick ? 1 : SIZE_COUNT); s++) {
        size_t n = SIZES[s];
        check_case_begin(ctx);
        float *a = check_random_floats(ctx, n, -3, 3), *b = check_random_floats(ctx, n, -3, 3);
        float *g = check_random_floats(ctx, n, -1, 1);
        float *da0 = check_random_floats(ctx, n, -1, 1), *db0 = check_random_floats(ctx, n, -1, 1);
        double *ref_out = check_doubles(ctx, n);
        double *ref_da = check_to_double(ctx, da0, n), *ref_db = check_to_double(ctx, db0, n);
        ref_residual_forward(ref_out, check_to_double(ctx, a, n), check_to_double(ctx, b, n), n);
        ref_residual_backward(ref_da, ref_db, check_to_double(ctx, g, n), n);

        t2g_tensor at = check_upload(ctx, a, n), bt = check_upload(ctx, b, n), dout = check_upload(ctx, g, n);
        t2g_tensor out = check_poisoned(ctx, n), da = check_poisoned(ctx, n), db = check_poisoned(ctx, n);
        float *outs[2], *das[2], *dbs[2];
        for (int run = 0; run < 2; run++) {
            check_poison(ctx, out, n);
            check_reupload(ctx, da, da0, n);
            check_reupload(ctx, db, db0, n);
            check_status(ctx, t2g_residual_forward(ctx->recorder, out, at, bt, n, &ctx->err), "residual_forward");
            check_status(ctx, t2g_residual_backward(ctx->recorder, da, db, dout, n, &ctx->err), "residual_backward");
            check_submit(ctx);
            outs[run] = check_download(ctx, out, n);
            das[run] = check_download(ctx, da, n);
            dbs[run] = check_download(ctx, db, n);
        }
        char label[96];
        snprintf(label, sizeof label, "residual forward n=%zu", n);
        check_bitwise(ctx, label, outs[0], outs[1], n);
        check_close(ctx, label, outs[0], ref_out, n, 1e-6);
        snprintf(label, sizeof label, "residual backward da n=%zu", n);
        check_bitwise(ctx, label, das[0], das[1], n);
        check_close(ctx, label, das[0], ref_da, n, 1e-6);
        snprintf(label, sizeof label, "residual backward db n=%zu", n);
        check_bitwise(ctx, label, dbs[0], dbs[1], n);
        check_close(ctx, label, dbs[0], ref_db, n, 1e-6);
    }
    if (!ctx->quick) {
        residual_views_case(ctx, 130);
        residual_views_case(ctx, 4099);
    }
    return ctx->failures;
}
