/* Rotary position embedding (t2g_rope, t2g_rope_table) against tests/ref/rope.c, whose angles
 * come from theta in double, not from the table. Rows carry columns beyond the rotated heads
 * and the tensor a row beyond B * T, all poisoned with a NaN of a distinctive payload: they must
 * come back bit-identical (and, being NaN, any leak into a rotated column fails the comparison).
 * Forward and inverse against the reference, forward then inverse back to the input, the
 * inverse as the transpose (<rope(x), y> = <x, rope_inverse(y)>), two runs bit for bit, the
 * reference's inverse as the gradient of sum(g * rope(x)) by finite differences, and the shape
 * errors. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "ref/ref.h"

#define ROPE_POISON 0x7FC0BEEFu /* a quiet NaN no arithmetic produces */

typedef struct rope_shape {
    uint32_t B, T, stride, heads, hs, pos0;
    double theta;
} rope_shape;

/* x (rows, stride): whether element i lies in a rotated head of a row of the B * T rows. */
static bool rotated(const rope_shape *s, size_t i) {
    return i / s->stride < (size_t)s->B * s->T && i % s->stride < (size_t)s->heads * s->hs;
}

/* Copies the rotated elements of x (floats or doubles) into a compact array; returns their count. */
static size_t gather_rotated(const rope_shape *s, size_t n, const float *src_f, const double *src_d, float *dst_f,
                             double *dst_d) {
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (!rotated(s, i)) continue;
        if (src_f) dst_f[kept] = src_f[i];
        if (src_d) dst_d[kept] = src_d[i];
        kept++;
    }
    return kept;
}

/* Every element outside the rotated heads has the bits it was uploaded with. */
static bool rest_untouched(const rope_shape *s, const float *got, const float *uploaded, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!rotated(s, i) && memcmp(&got[i], &uploaded[i], sizeof *got) != 0) return false;
    return true;
}

typedef struct rope_loss {
    const rope_shape *s;
    const double *x, *g;
    double *work;
    size_t n;
} rope_loss;

/* sum g * rope(x): its gradient in x is rope_inverse(g). */
static double loss_of(void *user) {
    rope_loss *l = user;
    memcpy(l->work, l->x, l->n * sizeof *l->work);
    ref_rope(l->work, (int)l->s->B, (int)l->s->T, (int)l->s->stride, (int)l->s->heads, (int)l->s->hs,
             (int)l->s->pos0, l->s->theta, 0);
    double sum = 0;
    for (size_t i = 0; i < l->n; i++) sum += l->g[i] * l->work[i];
    return sum;
}

/* The reference on a copy of x (doubles of the rows (B*T, stride)). */
static double *ref_rotated(check_ctx *ctx, const rope_shape *s, const double *x, size_t n, int inverse) {
    double *out = check_doubles(ctx, n);
    memcpy(out, x, n * sizeof *out);
    ref_rope(out, (int)s->B, (int)s->T, (int)s->stride, (int)s->heads, (int)s->hs, (int)s->pos0, s->theta, inverse);
    return out;
}

/* The table's entries are the angle's cosine and sine rounded to float. */
static void table_case(check_ctx *ctx, const float *table, uint32_t P, const rope_shape *s, const char *shape) {
    uint32_t half = s->hs / 2;
    double worst = 0;
    for (uint32_t p = 0; p < P; p++) {
        for (uint32_t i = 0; i < half; i++) {
            double angle = (double)p / pow(s->theta, 2.0 * i / s->hs);
            worst = fmax(worst, fabs(table[(size_t)p * s->hs + i] - cos(angle)));
            worst = fmax(worst, fabs(table[(size_t)p * s->hs + half + i] - sin(angle)));
        }
    }
    check_true(ctx, worst <= 0x1p-24 * 1.0001, "rope table %s: cos and sin within float rounding (worst %.3g)", shape,
               worst);
}

static void rope_case(check_ctx *ctx, rope_shape s) {
    check_case_begin(ctx);
    char shape[128], label[192];
    snprintf(shape, sizeof shape, "B=%u T=%u stride=%u heads=%u hs=%u pos0=%u theta=%g", s.B, s.T, s.stride, s.heads,
             s.hs, s.pos0, s.theta);
    size_t n = ((size_t)s.B * s.T + 1) * s.stride; /* one poisoned row past the B * T rows */
    uint32_t P = s.pos0 + s.T + 2;                  /* the table holds more positions than read */

    float *x = check_normal_floats(ctx, n, 1.0), *y = check_normal_floats(ctx, n, 1.0);
    for (size_t i = 0; i < n; i++) {
        if (rotated(&s, i)) continue;
        uint32_t poison = ROPE_POISON;
        memcpy(&x[i], &poison, sizeof poison);
        memcpy(&y[i], &poison, sizeof poison);
    }
    float *table = check_host(ctx, (size_t)P * s.hs * sizeof *table);
    t2g_rope_table(table, P, s.hs, s.theta);
    table_case(ctx, table, P, &s, shape);

    double *x_d = check_to_double(ctx, x, n), *y_d = check_to_double(ctx, y, n);
    double *ref_forward = ref_rotated(ctx, &s, x_d, n, 0), *ref_inverse = ref_rotated(ctx, &s, x_d, n, 1);

    t2g_tensor x_t = check_upload(ctx, x, n), y_t = check_upload(ctx, y, n);
    t2g_tensor table_t = check_upload(ctx, table, (size_t)P * s.hs);
    float *forward[2], *inverse[2], *round_trip = NULL, *y_inverse = NULL;
    for (int run = 0; run < 2; run++) {
        check_reupload(ctx, x_t, x, n);
        check_reupload(ctx, y_t, y, n);
        check_status(ctx,
                     t2g_rope(ctx->recorder, x_t, table_t, s.B, s.T, s.stride, s.heads, s.hs, s.pos0, false, &ctx->err),
                     "rope");
        check_status(ctx,
                     t2g_rope(ctx->recorder, y_t, table_t, s.B, s.T, s.stride, s.heads, s.hs, s.pos0, true, &ctx->err),
                     "rope inverse");
        check_submit(ctx);
        forward[run] = check_download(ctx, x_t, n);
        y_inverse = check_download(ctx, y_t, n);
        /* back again: x rotated forward, then inverse */
        check_status(ctx,
                     t2g_rope(ctx->recorder, x_t, table_t, s.B, s.T, s.stride, s.heads, s.hs, s.pos0, true, &ctx->err),
                     "rope inverse");
        check_submit(ctx);
        round_trip = check_download(ctx, x_t, n);
        /* the inverse of x itself, for the reference */
        check_reupload(ctx, x_t, x, n);
        check_status(ctx,
                     t2g_rope(ctx->recorder, x_t, table_t, s.B, s.T, s.stride, s.heads, s.hs, s.pos0, true, &ctx->err),
                     "rope inverse");
        check_submit(ctx);
        inverse[run] = check_download(ctx, x_t, n);
    }

    float *got = check_host(ctx, n * sizeof *got);
    double *want = check_doubles(ctx, n);
    snprintf(label, sizeof label, "rope forward %s", shape);
    check_bitwise(ctx, label, forward[0], forward[1], n);
    size_t kept = gather_rotated(&s, n, forward[0], ref_forward, got, want);
    check_close(ctx, label, got, want, kept, 1e-6);
    snprintf(label, sizeof label, "rope inverse %s", shape);
    check_bitwise(ctx, label, inverse[0], inverse[1], n);
    gather_rotated(&s, n, inverse[0], ref_inverse, got, want);
    check_close(ctx, label, got, want, kept, 1e-6);
    snprintf(label, sizeof label, "rope forward then inverse = input %s", shape);
    gather_rotated(&s, n, round_trip, x_d, got, want);
    check_close(ctx, label, got, want, kept, 1e-6);
    bool untouched = rest_untouched(&s, forward[0], x, n) && rest_untouched(&s, inverse[0], x, n) &&
                     rest_untouched(&s, round_trip, x, n) && rest_untouched(&s, y_inverse, y, n);
    check_true(ctx, untouched, "rope %s: the %zu elements outside the rotated heads stay bit-identical", shape,
               n - kept);

    /* <rope(x), y> = <x, rope_inverse(y)>, in double over the rotated elements (the rest is NaN) */
    double forward_y = 0, x_inverse = 0, xx = 0, yy = 0;
    for (size_t i = 0; i < n; i++) {
        if (!rotated(&s, i)) continue;
        forward_y += (double)forward[0][i] * y[i];
        x_inverse += (double)x[i] * y_inverse[i];
        xx += (double)x[i] * x[i];
        yy += (double)y[i] * y[i];
    }
    double transpose_error = fabs(forward_y - x_inverse) / sqrt(xx * yy);
    /* each rotated element carries a few float roundings (2^-24 each): far below 5e-7 */
    check_true(ctx, transpose_error <= 5e-7,
               "rope %s: <rope(x), y> = <x, rope_inverse(y)> (%.17g vs %.17g, %.3g of ||x|| ||y||)", shape, forward_y,
               x_inverse, transpose_error);

    /* the reference's inverse is the gradient of sum(g * rope(x)) */
    double *analytic = ref_rotated(ctx, &s, y_d, n, 1);
    for (size_t i = 0; i < n; i++)
        if (!rotated(&s, i)) x_d[i] = y_d[i] = analytic[i] = 0; /* the NaN poison out of the sums */
    rope_loss l = {&s, x_d, y_d, check_doubles(ctx, n), n};
    snprintf(label, sizeof label, "rope reference inverse vs finite diff %s", shape);
    check_finite_differences(ctx, label, loss_of, &l, x_d, analytic, n, 64, 1e-6);
}

static void shape_errors(check_ctx *ctx) {
    check_case_begin(ctx);
    t2g_recorder *rec = ctx->recorder;
    t2g_error *err = &ctx->err;
    t2g_tensor x = check_poisoned(ctx, 2 * 3 * 16), table = check_poisoned(ctx, 5 * 8), none = {0};
    uint64_t before = t2g_recorder_dispatch_count(rec);
    check_refused(ctx, t2g_rope(rec, x, table, 2, 3, 16, 2, 7, 0, false, err), "rope", "an odd head size");
    check_refused(ctx, t2g_rope(rec, x, table, 2, 3, 16, 2, 0, 0, false, err), "rope", "head size 0");
    check_refused(ctx, t2g_rope(rec, x, table, 2, 3, 16, 3, 8, 0, false, err), "rope", "3 heads of 8 in a row of 16");
    check_refused(ctx, t2g_rope(rec, x, table, 2, 3, 16, 2, 8, 3, false, err), "rope",
                  "positions 3..5 of a 5-row table");
    check_refused(ctx, t2g_rope(rec, x, table, 2, 4, 16, 2, 8, 0, false, err), "rope", "x one row short");
    check_refused(ctx, t2g_rope(rec, x, none, 2, 3, 16, 2, 8, 0, false, err), "rope", "a missing table");
    check_true(ctx, t2g_recorder_dispatch_count(rec) == before, "rope: refused calls record nothing");
    check_status(ctx, t2g_rope(rec, x, table, 2, 3, 16, 2, 8, 2, true, err), "rope at the table's last positions");
    check_submit(ctx);
}

T2G_CHECK(rope) {
    rope_case(ctx, (rope_shape){3, 37, 12 * 6 + 5, 12, 6, 100, 100000.0});
    if (ctx->quick) return ctx->failures;
    rope_case(ctx, (rope_shape){1, 1, 2 + 3, 1, 2, 0, 10000.0});
    rope_case(ctx, (rope_shape){3, 37, 3 * 64, 1, 64, 0, 10000.0});         /* q rotates, k and v do not */
    rope_case(ctx, (rope_shape){1, 37, 16 * 128, 12, 128, 100, 100000.0});  /* Llama qkv: NH 8, KVH 4 */
    rope_case(ctx, (rope_shape){3, 1, 16 * 64 + 1, 12, 64, 100, 10000.0});  /* one decode step */
    rope_case(ctx, (rope_shape){1, 37, 2 * 2, 2, 2, 100, 10000.0});         /* no leftover columns */
    rope_case(ctx, (rope_shape){2, 5, 3 * 128, 2, 128, 4000, 500000.0});    /* far positions */
    shape_errors(ctx);
    return ctx->failures;
}
