/* A decode step's kernels (src/kernels/decode.h) against tests/ref/decode.c. A step's rows are
 * sequences' cache slots at positions: every sequence at one position (lockstep generation),
 * every position of a few sequences (a prompt's prefill, where a row attends to keys its own
 * step wrote), and a mix of runs of positions, with a row of an unknown slot and one past the
 * cache (NaN, nothing written). decode_store then decode_attention, as a model's step records
 * them, without and with rotary position embedding; head sizes 7 to 128, positions up to 200
 * (one, two chunks of keys), multi-head, grouped-query (SmolLM2's 9 over 3) and multi-query; a
 * grid of more than 65535 workgroups; each in the configurations the devices choose (decode.c:
 * workgroups of 8 and 128, and lanes); a row's output has the same bits when its step holds
 * only it. lanes reads the caches through texel views that start before them, and through
 * none (views too small): the same bits as through its own. The caches are poisoned where the step writes (they must be written) and after
 * each sequence's last row (never read, never written); everything else keeps its bits. The
 * caches of a 16-bit model (bf16, f16): what the f32 shader writes, rounded, and the attention
 * on the 16-bit values they hold.
 * The embedding at per-row positions; the shape errors. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "kernels/decode.h"
#include "ref/decode_ref.h"
#include "storage16.h"
#include "t2g/kernels.h"

typedef enum rows_kind { ROWS_LOCKSTEP, ROWS_PREFILL, ROWS_MIXED } rows_kind;

typedef struct decode_shape {
    int slots, NH, KVH, hs, T; /* caches (slots, T, KVH hs) */
    rows_kind kind;
    int t;                     /* lockstep: every slot at t; prefill: positions 0..t of each; mixed: up to t */
    bool rope;
    int runs;                  /* 2: also bitwise reproducibility */
    t2g_decode_config config;  /* how decode_attention runs (decode.h) */
    t2g_dtype dtype;           /* the caches' type: f32 (the zero value), or bf16 or f16 (step16_case) */
} decode_shape;

/* The bits of every element of a and b agree (NaN included). */
static bool same_bits(const float *a, const float *b, size_t n, size_t *where) {
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], sizeof a[i]) != 0) {
            *where = i;
            return false;
        }
    return true;
}

/* The step's rows (n, 3) for a shape: position-major, as the generator's prefill orders them.
 * Mixed: each slot but the last a run of 1 to 4 positions ending at most at t, then a row of an
 * unknown slot and one at position T. */
static uint32_t *make_rows(check_ctx *ctx, decode_shape s, int *n) {
    uint32_t *rows = check_host(ctx, (size_t)(s.slots * (s.t + 1) + 2) * 3 * sizeof *rows);
    int *first = check_host(ctx, (size_t)s.slots * sizeof *first), *last = check_host(ctx, (size_t)s.slots * sizeof *last);
    int k = 0;
    for (int b = 0; b < s.slots; b++) {
        first[b] = s.kind == ROWS_LOCKSTEP ? s.t : 0;
        last[b] = s.t;
        if (s.kind == ROWS_MIXED) {
            first[b] = (int)check_random_below(ctx, (uint32_t)s.t + 1);
            int most = s.t + 1 - first[b] < 4 ? s.t + 1 - first[b] : 4;
            last[b] = b == s.slots - 1 && s.slots > 1 ? -1 : first[b] + (int)check_random_below(ctx, (uint32_t)most);
        }
    }
    for (int p = 0; p <= s.t; p++)
        for (int b = 0; b < s.slots; b++)
            if (p >= first[b] && p <= last[b]) {
                rows[3 * k] = check_random_below(ctx, 1000);
                rows[3 * k + 1] = (uint32_t)b;
                rows[3 * k + 2] = (uint32_t)p;
                k++;
            }
    if (s.kind == ROWS_MIXED) {
        uint32_t bad[2][2] = {{(uint32_t)s.slots, 0}, {0, (uint32_t)s.T}};
        for (int i = 0; i < 2; i++, k++) {
            rows[3 * k] = 1;
            rows[3 * k + 1] = bad[i][0];
            rows[3 * k + 2] = bad[i][1];
        }
    }
    *n = k;
    return rows;
}

static bool row_valid(const uint32_t *rows, int r, decode_shape s) {
    return rows[3 * r + 1] < (uint32_t)s.slots && rows[3 * r + 2] < (uint32_t)s.T;
}

/* The caches before the step: random where a slot's rows will read what earlier steps wrote
 * (below its last row's position, not written by this step); NaN where the step writes and
 * after each slot's last row. written (slots, T): the positions the step writes. */
static void make_caches(check_ctx *ctx, decode_shape s, const uint32_t *rows, int n, float *kc, float *vc,
                        bool *written) {
    int KC = s.KVH * s.hs;
    for (int b = 0; b < s.slots; b++) {
        int last = -1;
        for (int r = 0; r < n; r++)
            if (row_valid(rows, r, s) && rows[3 * r + 1] == (uint32_t)b) {
                written[(size_t)b * s.T + rows[3 * r + 2]] = true;
                if ((int)rows[3 * r + 2] > last) last = (int)rows[3 * r + 2];
            }
        bool any = last >= 0;
        for (int j = 0; j < s.T; j++) {
            bool poison = written[(size_t)b * s.T + j] || (any && j > last);
            for (int c = 0; c < KC; c++) {
                size_t i = ((size_t)b * s.T + j) * KC + c;
                kc[i] = poison ? NAN : (float)check_normal(ctx);
                vc[i] = poison ? NAN : (float)check_normal(ctx);
            }
        }
    }
}

/* A cache after the step: its unwritten elements keep their bits, the written ones match the
 * reference (bit for bit without a rotation: they are copies). */
static void check_cache(check_ctx *ctx, const char *label, const float *got, const float *before, const double *ref,
                        const bool *written, size_t n, int KC, bool exact) {
    size_t kept_wrong = 0, where = 0, count = 0;
    float *w = check_host(ctx, n * sizeof *w);
    double *wref = check_doubles(ctx, n);
    for (size_t i = 0; i < n; i++) {
        if (!written[i / (size_t)KC]) {
            if (memcmp(&got[i], &before[i], sizeof got[i]) != 0 && kept_wrong++ == 0) where = i;
            continue;
        }
        w[count] = got[i];
        wref[count++] = ref[i];
    }
    check_true(ctx, kept_wrong == 0, "%s: %zu unwritten elements changed (first at %zu)", label, kept_wrong, where);
    if (!exact) {
        check_close(ctx, label, w, wref, count, 1e-5);
        return;
    }
    size_t wrong = 0;
    for (size_t i = 0; i < count; i++) wrong += !((double)w[i] == wref[i]);
    check_true(ctx, wrong == 0, "%s: the %zu written elements are the step's k and v (%zu differ)", label, count, wrong);
}

/* A step's inputs and the double reference of its decode_store. The caches before the step hold
 * what the caches' type stores (rounded to a 16-bit type: check_rounded). */
typedef struct step_inputs {
    int n, valid;                 /* rows; the valid ones come first */
    int C, KC, W;                 /* widths of out, of a cache row, of qkv */
    size_t n_qkv, n_out, n_cache;
    uint32_t *rows;               /* (n, 3) */
    float *qkv, *kc, *vc, *table; /* qkv (n, W); the caches before the step (slots, T, KC); table (T, hs) */
    bool *written;                /* (slots, T): the positions the step writes */
    double *ref_qkv, *ref_k, *ref_v; /* after ref_decode_store: q turned with rope; the caches written */
    char shape[160];
} step_inputs;

static step_inputs make_step(check_ctx *ctx, decode_shape s) {
    step_inputs in = {0};
    in.rows = make_rows(ctx, s, &in.n);
    in.C = s.NH * s.hs, in.KC = s.KVH * s.hs, in.W = in.C + 2 * in.KC;
    in.n_qkv = (size_t)in.n * in.W, in.n_out = (size_t)in.n * in.C, in.n_cache = (size_t)s.slots * s.T * in.KC;
    static const char *kinds[] = {"lockstep", "prefill", "mixed"};
    snprintf(in.shape, sizeof in.shape, "%s n=%d slots=%d NH=%d KVH=%d hs=%d t=%d T=%d%s, %s%s%s", kinds[s.kind],
             in.n, s.slots, s.NH, s.KVH, s.hs, s.t, s.T, s.rope ? " rope" : "", t2g_decode_config_name(s.config),
             s.dtype == T2G_DTYPE_F32 ? "" : ", caches ", s.dtype == T2G_DTYPE_F32 ? "" : t2g_dtype_name(s.dtype));

    in.qkv = check_normal_floats(ctx, in.n_qkv, 1.0);
    float *kc = check_host(ctx, in.n_cache * sizeof *kc), *vc = check_host(ctx, in.n_cache * sizeof *vc);
    in.written = check_host(ctx, (size_t)s.slots * s.T * sizeof *in.written);
    make_caches(ctx, s, in.rows, in.n, kc, vc, in.written);
    in.kc = check_rounded(ctx, s.dtype, kc, in.n_cache);
    in.vc = check_rounded(ctx, s.dtype, vc, in.n_cache);
    in.table = check_host(ctx, (size_t)s.T * s.hs * sizeof *in.table);
    if (s.rope) t2g_rope_table(in.table, (uint32_t)s.T, (uint32_t)s.hs, 10000.0);

    in.ref_qkv = check_to_double(ctx, in.qkv, in.n_qkv);
    in.ref_k = check_to_double(ctx, in.kc, in.n_cache), in.ref_v = check_to_double(ctx, in.vc, in.n_cache);
    ref_decode_store(in.ref_qkv, in.ref_k, in.ref_v, in.rows,
                     s.rope ? check_to_double(ctx, in.table, (size_t)s.T * s.hs) : NULL, in.n, s.slots, s.T, s.NH,
                     s.KVH, s.hs);
    for (int r = 0; r < in.n; r++) in.valid += row_valid(in.rows, r, s);
    return in;
}

/* Records the step as a model's step records it: decode_store, then decode_attention. */
static void record_step(check_ctx *ctx, decode_shape s, const step_inputs *in, t2g_tensor qkv, t2g_tensor kc,
                        t2g_tensor vc, t2g_tensor rows, const t2g_tensor *table, t2g_tensor out) {
    check_status(ctx,
                 t2g_decode_store(ctx->recorder, qkv, kc, vc, rows, s.rope ? table : NULL, (uint32_t)in->n,
                                  (uint32_t)s.slots, (uint32_t)s.T, (uint32_t)s.NH, (uint32_t)s.KVH, (uint32_t)s.hs,
                                  &ctx->err),
                 "decode_store");
    check_status(ctx,
                 t2g_decode_attention(ctx->recorder, out, kc, vc, qkv, rows, (uint32_t)in->n, (uint32_t)s.slots,
                                      (uint32_t)s.T, (uint32_t)s.NH, (uint32_t)s.KVH, (uint32_t)s.hs, s.config, &ctx->err),
                 "decode_attention");
}

/* The step's attention against ref_out (n_out, from the caches the step wrote) and its qkv (q
 * turned in place with rope; else unchanged) against the reference's. */
static void check_outputs(check_ctx *ctx, const step_inputs *in, const float *out, const double *ref_out,
                          const float *qkv) {
    char label[224];
    snprintf(label, sizeof label, "decode attention %s", in->shape);
    check_close(ctx, label, out, ref_out, (size_t)in->valid * in->C, 1e-5);
    bool nan_rows = true;
    for (size_t i = (size_t)in->valid * in->C; i < in->n_out; i++) nan_rows = nan_rows && isnan(out[i]);
    if (in->valid < in->n) check_true(ctx, nan_rows, "%s: a row of an unknown slot or past the cache gives NaN", label);
    snprintf(label, sizeof label, "decode store %s: qkv", in->shape);
    check_close(ctx, label, qkv, in->ref_qkv, in->n_qkv, 1e-5);
}

/* A row alone in its step (qkv after the step's decode_store, against the caches the whole step
 * wrote): the same bits as in the step's out. */
static void check_row_alone(check_ctx *ctx, decode_shape s, const step_inputs *in, t2g_tensor kc, t2g_tensor vc,
                            const float *qkv, const float *out) {
    int r = in->valid / 2;
    t2g_tensor one_row = check_upload(ctx, in->rows + 3 * r, 3);
    t2g_tensor one_qkv = check_upload(ctx, qkv + (size_t)r * in->W, (size_t)in->W), one_out = check_poisoned(ctx, (size_t)in->C);
    check_status(ctx,
                 t2g_decode_attention(ctx->recorder, one_out, kc, vc, one_qkv, one_row, 1, (uint32_t)s.slots,
                                      (uint32_t)s.T, (uint32_t)s.NH, (uint32_t)s.KVH, (uint32_t)s.hs,
                                      s.config, &ctx->err),
                 "decode_attention of one row");
    check_submit(ctx);
    size_t where = 0;
    check_true(ctx, same_bits(check_download(ctx, one_out, (size_t)in->C), out + (size_t)r * in->C, (size_t)in->C, &where),
               "decode attention %s: row %d alone in a step gives the same bits (first difference at %zu)", in->shape,
               r, where);
}

static void step_case(check_ctx *ctx, decode_shape s) {
    check_case_begin(ctx);
    step_inputs in = make_step(ctx, s);
    size_t n_qkv = in.n_qkv, n_out = in.n_out, n_cache = in.n_cache;
    char label[224];
    double *ref_out = check_doubles(ctx, n_out);
    ref_decode_attention(ref_out, in.ref_k, in.ref_v, in.ref_qkv, in.rows, in.valid, s.T, s.NH, s.KVH, s.hs);

    t2g_tensor rows_t = check_upload(ctx, in.rows, (size_t)in.n * 3);
    t2g_tensor table_t = check_upload(ctx, in.table, (size_t)s.T * s.hs);
    t2g_tensor qkv_t = check_upload(ctx, in.qkv, n_qkv), out = check_poisoned(ctx, n_out);
    t2g_tensor kc_t = check_upload(ctx, in.kc, n_cache), vc_t = check_upload(ctx, in.vc, n_cache);
    float *outs[2] = {NULL, NULL}, *ks[2] = {NULL, NULL}, *vs[2] = {NULL, NULL}, *qkvs[2] = {NULL, NULL};
    for (int run = 0; run < s.runs; run++) {
        check_poison(ctx, out, n_out);
        check_reupload(ctx, qkv_t, in.qkv, n_qkv);
        check_reupload(ctx, kc_t, in.kc, n_cache);
        check_reupload(ctx, vc_t, in.vc, n_cache);
        record_step(ctx, s, &in, qkv_t, kc_t, vc_t, rows_t, &table_t, out);
        check_submit(ctx);
        outs[run] = check_download(ctx, out, n_out);
        qkvs[run] = check_download(ctx, qkv_t, n_qkv);
        ks[run] = check_download(ctx, kc_t, n_cache);
        vs[run] = check_download(ctx, vc_t, n_cache);
    }
    if (s.runs == 2) {
        snprintf(label, sizeof label, "decode step %s, run twice", in.shape);
        check_bitwise(ctx, label, outs[0], outs[1], n_out);
        check_bitwise(ctx, label, ks[0], ks[1], n_cache);
        check_bitwise(ctx, label, vs[0], vs[1], n_cache);
    }
    check_outputs(ctx, &in, outs[0], ref_out, qkvs[0]);
    snprintf(label, sizeof label, "decode store %s: key cache", in.shape);
    check_cache(ctx, label, ks[0], in.kc, in.ref_k, in.written, n_cache, in.KC, !s.rope);
    snprintf(label, sizeof label, "decode store %s: value cache", in.shape);
    check_cache(ctx, label, vs[0], in.vc, in.ref_v, in.written, n_cache, in.KC, true);
    check_row_alone(ctx, s, &in, kc_t, vc_t, qkvs[0], outs[0]);
}

/* ---- the caches of a 16-bit model (bf16, f16) ---- */

static uint16_t bits16(t2g_dtype dtype, float x) {
    return dtype == T2G_DTYPE_BF16 ? t2g_f32_to_bf16(x) : t2g_f32_to_f16(x);
}

static float widen16(t2g_dtype dtype, uint16_t bits) {
    return dtype == T2G_DTYPE_BF16 ? t2g_bf16_to_f32(bits) : t2g_f16_to_f32(bits);
}

/* A 16-bit tensor's first n elements, as stored. */
static uint16_t *download_bits16(check_ctx *ctx, t2g_tensor tensor, size_t n) {
    uint16_t *bits = check_host(ctx, n * sizeof *bits);
    memset(bits, 0xFF, n * sizeof *bits); /* NaN in both formats, should the download fail */
    check_status(ctx, t2g_tensor_download(tensor, bits, n * sizeof *bits, &ctx->err), "downloading a 16-bit cache");
    return bits;
}

/* A 16-bit cache after the step: its unwritten elements keep their bits; the written ones are
 * the f32 shader's values `want` rounded to the format: bf16 bit for bit as t2g_f32_to_bf16
 * rounds them (the shader rounds to nearest even too), f16 within one unit in the last place
 * (the device's conversion, to nearest or toward zero: check_rounding_of). */
static void check_cache16(check_ctx *ctx, const char *label, t2g_dtype dtype, const uint16_t *got, const float *before,
                          const float *want, const bool *written, size_t n, int KC) {
    check_rounding rounding = check_rounding_of(dtype);
    size_t kept_wrong = 0, kept_where = 0, wrong = 0, where = 0, count = 0, inexact = 0;
    for (size_t i = 0; i < n; i++) {
        if (!written[i / (size_t)KC]) {
            if (got[i] != bits16(dtype, before[i]) && kept_wrong++ == 0) kept_where = i;
            continue;
        }
        count++;
        bool right = dtype == T2G_DTYPE_BF16
                         ? got[i] == t2g_f32_to_bf16(want[i])
                         : fabs((double)widen16(dtype, got[i]) - want[i]) <= rounding.relative * fabs(want[i]) + rounding.floor;
        if (!right && wrong++ == 0) where = i;
        inexact += got[i] != bits16(dtype, want[i]);
    }
    check_true(ctx, kept_wrong == 0, "%s: %zu unwritten elements changed (first at %zu)", label, kept_wrong, kept_where);
    char detail[128] = "";
    if (wrong)
        snprintf(detail, sizeof detail, "; %zu differ, first at %zu: %.9g where the f32 value is %.9g", wrong, where,
                 widen16(dtype, got[where]), want[where]);
    check_true(ctx, count > 0 && wrong == 0,
               "%s: the %zu written elements are the f32 shader's k and v rounded to %s (%s; %zu not the host's "
               "rounding%s)", label, count, t2g_dtype_name(dtype),
               dtype == T2G_DTYPE_BF16 ? "bit for bit" : "within one unit in the last place", inexact, detail);
}

/* The step with the caches stored as s.dtype (a bf16 or f16 model's generator): the caches
 * hold what the f32 shader computes on the same stored caches, rounded (check_cache16); the
 * attention matches the double reference computed on the 16-bit values the caches hold, at
 * the f32 tolerance (the kernel widens them exactly and computes in f32). Twice, bit for bit. */
static void step16_case(check_ctx *ctx, decode_shape s) {
    check_case_begin(ctx);
    if (!t2g_device_get_info(ctx->device)->storage_16bit) return; /* no 16-bit model runs there */
    step_inputs in = make_step(ctx, s);
    size_t n_qkv = in.n_qkv, n_out = in.n_out, n_cache = in.n_cache;
    char label[224];
    t2g_tensor rows_t = check_upload(ctx, in.rows, (size_t)in.n * 3);
    t2g_tensor table_t = check_upload(ctx, in.table, (size_t)s.T * s.hs);

    /* what the f32 shader writes on the same caches (held as f32) */
    t2g_tensor qkv32 = check_upload(ctx, in.qkv, n_qkv);
    t2g_tensor k32 = check_upload(ctx, in.kc, n_cache), v32 = check_upload(ctx, in.vc, n_cache);
    check_status(ctx,
                 t2g_decode_store(ctx->recorder, qkv32, k32, v32, rows_t, s.rope ? &table_t : NULL, (uint32_t)in.n,
                                  (uint32_t)s.slots, (uint32_t)s.T, (uint32_t)s.NH, (uint32_t)s.KVH, (uint32_t)s.hs,
                                  &ctx->err),
                 "decode_store into f32 caches");
    check_submit(ctx);
    float *want_k = check_download(ctx, k32, n_cache), *want_v = check_download(ctx, v32, n_cache);

    t2g_tensor kc_t = {0}, vc_t = {0};
    float *outs[2] = {NULL, NULL}, *qkvs[2] = {NULL, NULL};
    uint16_t *ks[2] = {NULL, NULL}, *vs[2] = {NULL, NULL};
    for (int run = 0; run < s.runs; run++) {
        t2g_tensor qkv_t = check_upload(ctx, in.qkv, n_qkv), out = check_poisoned(ctx, n_out);
        kc_t = check_upload_typed(ctx, s.dtype, in.kc, n_cache, 0, 0);
        vc_t = check_upload_typed(ctx, s.dtype, in.vc, n_cache, 0, 0);
        record_step(ctx, s, &in, qkv_t, kc_t, vc_t, rows_t, &table_t, out);
        check_submit(ctx);
        outs[run] = check_download(ctx, out, n_out);
        qkvs[run] = check_download(ctx, qkv_t, n_qkv);
        ks[run] = download_bits16(ctx, kc_t, n_cache);
        vs[run] = download_bits16(ctx, vc_t, n_cache);
    }
    if (s.runs == 2) {
        snprintf(label, sizeof label, "decode step %s, run twice", in.shape);
        check_bitwise(ctx, label, outs[0], outs[1], n_out);
        check_true(ctx, memcmp(ks[0], ks[1], n_cache * sizeof *ks[0]) == 0 &&
                            memcmp(vs[0], vs[1], n_cache * sizeof *vs[0]) == 0,
                   "%s: the caches have the same bits", label);
    }
    snprintf(label, sizeof label, "decode store %s: key cache", in.shape);
    check_cache16(ctx, label, s.dtype, ks[0], in.kc, want_k, in.written, n_cache, in.KC);
    snprintf(label, sizeof label, "decode store %s: value cache", in.shape);
    check_cache16(ctx, label, s.dtype, vs[0], in.vc, want_v, in.written, n_cache, in.KC);

    double *held_k = check_doubles(ctx, n_cache), *held_v = check_doubles(ctx, n_cache), *ref_out = check_doubles(ctx, n_out);
    for (size_t i = 0; i < n_cache; i++) {
        held_k[i] = widen16(s.dtype, ks[0][i]);
        held_v[i] = widen16(s.dtype, vs[0][i]);
    }
    ref_decode_attention(ref_out, held_k, held_v, in.ref_qkv, in.rows, in.valid, s.T, s.NH, s.KVH, s.hs);
    check_outputs(ctx, &in, outs[0], ref_out, qkvs[0]);
    check_row_alone(ctx, s, &in, kc_t, vc_t, qkvs[0], outs[0]);
}

/* positions false: no wpe (a model without a position table), and the rows must be wte's bits.
 * bad: the last two rows hold a token >= V and (with wpe) a position >= P: NaN rows. */
static void embedding_case(check_ctx *ctx, int n, int C, int V, int P, bool bad, bool positions) {
    check_case_begin(ctx);
    size_t n_out = (size_t)n * C;
    uint32_t *rows = check_host(ctx, (size_t)n * 3 * sizeof *rows);
    for (int r = 0; r < n; r++) {
        rows[3 * r] = check_random_below(ctx, (uint32_t)V);
        rows[3 * r + 1] = check_random_below(ctx, 5);
        rows[3 * r + 2] = check_random_below(ctx, (uint32_t)P);
    }
    int good = bad ? n - 2 : n;
    if (bad) {
        rows[3 * (n - 2)] = (uint32_t)V;     /* one past the vocabulary */
        rows[3 * (n - 1) + 2] = (uint32_t)P; /* one past the position table */
    }
    float *wte = check_normal_floats(ctx, (size_t)V * C, 1.0), *wpe = check_normal_floats(ctx, (size_t)P * C, 1.0);
    double *ref = check_doubles(ctx, n_out);
    ref_decode_embedding(ref, rows, check_to_double(ctx, wte, (size_t)V * C),
                         positions ? check_to_double(ctx, wpe, (size_t)P * C) : NULL, good, C);
    t2g_tensor rows_t = check_upload(ctx, rows, (size_t)n * 3), wte_t = check_upload(ctx, wte, (size_t)V * C);
    t2g_tensor wpe_t = check_upload(ctx, wpe, (size_t)P * C), out = check_poisoned(ctx, n_out);
    float *outs[2];
    for (int run = 0; run < 2; run++) {
        check_poison(ctx, out, n_out);
        check_status(ctx,
                     t2g_decode_embedding(ctx->recorder, out, rows_t, wte_t, positions ? &wpe_t : NULL, (uint32_t)n,
                                          (uint32_t)C, (uint32_t)V, (uint32_t)P, &ctx->err),
                     "decode_embedding");
        check_submit(ctx);
        outs[run] = check_download(ctx, out, n_out);
    }
    char label[128];
    snprintf(label, sizeof label, "decode embedding n=%d C=%d V=%d P=%d%s", n, C, V, P, positions ? "" : " no wpe");
    check_bitwise(ctx, label, outs[0], outs[1], n_out);
    check_close(ctx, label, outs[0], ref, (size_t)good * C, 1e-5);
    bool copies = true;
    for (int r = 0; r < good && !positions; r++)
        copies = copies && memcmp(outs[0] + (size_t)r * C, wte + (size_t)rows[3 * r] * C, (size_t)C * sizeof *wte) == 0;
    if (!positions) check_true(ctx, copies, "%s: each row is its token's wte row, bit for bit", label);
    if (bad) {
        bool nan_rows = true;
        for (size_t i = (size_t)good * C; i < n_out; i++) nan_rows = nan_rows && (isnan(outs[0][i]) || !positions);
        for (int c = 0; c < C; c++) nan_rows = nan_rows && isnan(outs[0][(size_t)(n - 2) * C + c]);
        check_true(ctx, nan_rows, "%s: a token >= V, or a position >= P with wpe, gives a NaN row", label);
    }
}

static void shape_errors(check_ctx *ctx) {
    check_case_begin(ctx);
    t2g_recorder *rec = ctx->recorder;
    /* 2 rows, NH = KVH = 2, hs = 8: qkv (2, 48), caches (2 slots, 4, 16) */
    t2g_tensor qkv = check_poisoned(ctx, 2 * 3 * 16), out = check_poisoned(ctx, 2 * 16), rows = check_poisoned(ctx, 6);
    t2g_tensor cache = check_poisoned(ctx, 2 * 4 * 16), small = check_poisoned(ctx, 2 * 4 * 16 - 1);
    t2g_tensor table = check_poisoned(ctx, 4 * 8), short_table = check_poisoned(ctx, 3 * 8);
    uint64_t before = t2g_recorder_dispatch_count(rec);
    check_refused(ctx, t2g_decode_attention(rec, out, cache, small, qkv, rows, 2, 2, 4, 2, 2, 8, 0, &ctx->err), "decode",
                  "a value cache one float short");
    check_refused(ctx, t2g_decode_attention(rec, out, cache, cache, qkv, rows, 2, 3, 4, 2, 2, 8, 0, &ctx->err), "decode",
                  "caches too small for 3 slots");
    check_refused(ctx, t2g_decode_attention(rec, out, cache, cache, qkv, rows, 2, 2, 4, 3, 2, 4, 0, &ctx->err), "decode",
                  "KVH = 2 not dividing NH = 3");
    check_refused(ctx, t2g_decode_attention(rec, out, cache, cache, qkv, rows, 2, 2, 4, 2, 0, 8, 0, &ctx->err), "decode",
                  "KVH = 0");
    check_refused(ctx, t2g_decode_attention(rec, out, cache, cache, qkv, rows, 0, 2, 4, 2, 2, 8, 0, &ctx->err), "decode",
                  "n = 0");
    check_refused(ctx, t2g_decode_attention(rec, out, cache, cache, out, rows, 2, 2, 4, 2, 2, 8, 0, &ctx->err), "decode",
                  "a qkv too short for its heads");
    check_refused(ctx, t2g_decode_attention(rec, out, cache, cache, qkv, rows, 3, 1, 4, 2, 2, 8, 0, &ctx->err), "decode",
                  "rows for 2 of 3 rows");
    t2g_tensor big = check_poisoned(ctx, 3 * 258);
    check_refused(ctx, t2g_decode_attention(rec, big, big, big, big, big, 1, 1, 1, 1, 1, 258, 0, &ctx->err), "decode",
                  "head size 258");
    check_refused(ctx, t2g_decode_attention(rec, out, cache, cache, qkv, rows, 2, 2, 4, 2, 2, 8, T2G_DECODE_CONFIGS,
                                            &ctx->err),
                  "decode", "a configuration past the last");
    check_refused(ctx, t2g_decode_attention(rec, out, cache, cache, qkv, rows, 2, 2, 4, 2, 2, 8, (t2g_decode_config)-1,
                                            &ctx->err),
                  "decode", "configuration -1");
    check_refused(ctx, t2g_decode_attention(rec, out, cache, small, qkv, rows, 2, 2, 4, 2, 2, 8, T2G_DECODE_LANES,
                                            &ctx->err),
                  "decode", "lanes with a value cache one float short");
    check_refused(ctx, t2g_decode_store(rec, qkv, cache, cache, rows, &short_table, 2, 2, 4, 2, 2, 8, &ctx->err),
                  "decode", "a rope table of 3 positions for a cache of 4");
    check_refused(ctx, t2g_decode_store(rec, qkv, cache, cache, rows, &table, 2, 2, 4, 2, 2, 7, &ctx->err), "decode",
                  "an odd head size to turn");
    check_refused(ctx, t2g_decode_store(rec, qkv, small, cache, rows, NULL, 2, 2, 4, 2, 2, 8, &ctx->err), "decode",
                  "a key cache one float short");
    if (t2g_device_get_info(ctx->device)->storage_16bit) {
        t2g_tensor cache16 = check_upload_typed(ctx, T2G_DTYPE_BF16, NULL, 2 * 4 * 16, 0, 0);
        t2g_tensor small16 = check_upload_typed(ctx, T2G_DTYPE_F16, NULL, 2 * 4 * 16 - 1, 0, 0);
        t2g_status mixed = t2g_decode_store(rec, qkv, cache16, cache, rows, NULL, 2, 2, 4, 2, 2, 8, &ctx->err);
        check_true(ctx, mixed == T2G_ERR_ARGUMENT && strstr(ctx->err.message, "bf16") && strstr(ctx->err.message, "f32"),
                   "decode: a bf16 key cache beside an f32 value cache is refused, naming both (%s)",
                   mixed ? ctx->err.message : "accepted");
        check_refused(ctx, t2g_decode_attention(rec, out, small16, small16, qkv, rows, 2, 2, 4, 2, 2, 8, 0, &ctx->err),
                      "decode", "f16 caches one element short");
        check_refused(ctx, t2g_decode_attention(rec, out, small16, small16, qkv, rows, 2, 2, 4, 2, 2, 8,
                                                T2G_DECODE_LANES, &ctx->err),
                      "decode", "lanes with f16 caches one element short");
        t2g_status mixed_lanes = t2g_decode_attention(rec, out, cache16, cache, qkv, rows, 2, 2, 4, 2, 2, 8,
                                                      T2G_DECODE_LANES, &ctx->err);
        check_true(ctx, mixed_lanes == T2G_ERR_ARGUMENT && strstr(ctx->err.message, "bf16") &&
                            strstr(ctx->err.message, "f32"),
                   "decode: lanes refuses a bf16 key cache beside an f32 value cache, naming both (%s)",
                   mixed_lanes ? ctx->err.message : "accepted");
        t2g_tensor words = {0};
        check_status(ctx, t2g_tensor_alloc_typed(ctx->arena, T2G_DTYPE_U32, 2 * 4 * 16, &words, &ctx->err), "u32");
        check_refused(ctx, t2g_decode_store(rec, qkv, words, words, rows, NULL, 2, 2, 4, 2, 2, 8, &ctx->err), "decode",
                      "u32 caches");
    }
    check_refused(ctx, t2g_decode_embedding(rec, out, rows, qkv, &qkv, 2, 16, 2, 7, &ctx->err), "decode",
                  "wpe of 7 positions that holds 6");
    check_refused(ctx, t2g_decode_embedding(rec, out, rows, qkv, NULL, 3, 8, 2, 1, &ctx->err), "decode",
                  "rows for 2 of 3 rows");
    check_true(ctx, t2g_recorder_dispatch_count(rec) == before, "decode: refused calls record nothing");
}

/* lanes reading the caches (of `dtype`) through texel views of their own, through views that
 * start before them (slices of larger tensors padded before with NaN, under a texel alignment of
 * 256 bytes), and through none (views of at most 4 texels: scalar loads): the same bits. */
static void lanes_views_case(check_ctx *ctx, t2g_dtype dtype) {
    check_case_begin(ctx);
    enum { SLOTS = 3, T = 9, NH = 4, KVH = 2, HS = 16, W = (NH + 2 * KVH) * HS, CACHE = SLOTS * T * KVH * HS };
    if (dtype != T2G_DTYPE_F32 && !t2g_device_get_info(ctx->device)->storage_16bit) return;
    const t2g_device_info *info = t2g_device_get_info(ctx->device);
    uint32_t elements = info->min_storage_buffer_offset_alignment / t2g_dtype_bytes(dtype); /* the slices' offset */
    if (elements == 0 || elements % 4 || info->min_storage_buffer_offset_alignment >= 256) {
        check_log(ctx, "decode lanes views: storage-buffer offsets on %u bytes leave no slice a view of 256 bytes "
                  "starts before; skipped", info->min_storage_buffer_offset_alignment);
        return;
    }
    uint32_t rows_h[SLOTS * 3];
    for (uint32_t b = 0; b < SLOTS; b++) {
        rows_h[3 * b] = 1;
        rows_h[3 * b + 1] = b;
        rows_h[3 * b + 2] = T - 1 - b;
    }
    t2g_tensor rows = check_upload(ctx, rows_h, SLOTS * 3);
    t2g_tensor qkv = check_upload(ctx, check_random_floats(ctx, SLOTS * W, -1, 1), SLOTS * W);
    t2g_tensor own[2], sliced[2];
    for (int c = 0; c < 2; c++) {
        float *values = check_random_floats(ctx, CACHE, -1, 1);
        float *padded = check_host(ctx, (elements + CACHE) * sizeof *padded);
        for (uint32_t e = 0; e < elements; e++) padded[e] = NAN;
        memcpy(padded + elements, values, CACHE * sizeof *values);
        own[c] = check_upload_typed(ctx, dtype, values, CACHE, 0, 0);
        sliced[c] = t2g_tensor_slice(check_upload_typed(ctx, dtype, padded, elements + CACHE, 0, 0), elements, CACHE);
    }
    const check_texel_way *ways = check_texel_ways;
    float *got[3] = {NULL};
    for (int w = 0; w < 3 && !ctx->failures; w++) {
        const t2g_tensor *caches = w ? sliced : own;
        t2g_tensor out = check_poisoned(ctx, SLOTS * NH * HS);
        t2g_status status = t2g_device_test_limit_texels(ctx->device, ways[w].alignment, ways[w].texels, &ctx->err);
        if (!status)
            status = t2g_decode_attention(ctx->recorder, out, caches[0], caches[1], qkv, rows, SLOTS, SLOTS, T, NH, KVH,
                                          HS, T2G_DECODE_LANES, &ctx->err);
        if (check_status(ctx, status, ways[w].what) && check_submit(ctx)) got[w] = check_download(ctx, out, SLOTS * NH * HS);
    }
    t2g_device_test_limit_texels(ctx->device, 0, 0, &ctx->err);
    if (ctx->failures) return;
    bool finite = true;
    for (int i = 0; i < SLOTS * NH * HS; i++) finite = finite && isfinite(got[0][i]);
    check_true(ctx, finite, "decode lanes %s: every output finite with the caches' own views", t2g_dtype_name(dtype));
    for (int w = 1; w < 3; w++) {
        char label[160];
        snprintf(label, sizeof label, "decode lanes %s caches, %s, against own caches", t2g_dtype_name(dtype),
                 ways[w].what);
        check_bitwise(ctx, label, got[0], got[w], SLOTS * NH * HS);
    }
}

T2G_CHECK(decode) {
    static const decode_shape cases[] = {
        /* lockstep, multi-head: KVH = NH (GPT-2) */
        {3, 2, 2, 8, 9, ROWS_LOCKSTEP, 6, false, 2, 0, T2G_DTYPE_F32},
        {3, 2, 2, 8, 5, ROWS_LOCKSTEP, 0, false, 2, 0, T2G_DTYPE_F32},
        {2, 3, 3, 12, 7, ROWS_LOCKSTEP, 1, false, 2, 0, T2G_DTYPE_F32},
        {3, 1, 1, 8, 131, ROWS_LOCKSTEP, 129, false, 2, 0, T2G_DTYPE_F32},
        {2, 3, 3, 7, 67, ROWS_LOCKSTEP, 66, false, 2, 0, T2G_DTYPE_F32},
        {1, 2, 2, 128, 201, ROWS_LOCKSTEP, 200, false, 2, 0, T2G_DTYPE_F32},
        {4099, 16, 16, 8, 3, ROWS_LOCKSTEP, 2, false, 1, 0, T2G_DTYPE_F32}, /* 65584 workgroups: a 2-D grid */
        /* lockstep, grouped-query and multi-query with rope (Llama, SmolLM2's heads) */
        {3, 9, 3, 64, 9, ROWS_LOCKSTEP, 6, true, 2, 0, T2G_DTYPE_F32},
        {1, 9, 3, 64, 1, ROWS_LOCKSTEP, 0, true, 2, 0, T2G_DTYPE_F32},
        {2, 4, 1, 16, 131, ROWS_LOCKSTEP, 129, true, 2, 0, T2G_DTYPE_F32},
        {1, 4, 2, 128, 203, ROWS_LOCKSTEP, 200, true, 2, 0, T2G_DTYPE_F32},
        /* prefill: every position of each sequence, attending to keys its own step wrote */
        {2, 2, 2, 8, 9, ROWS_PREFILL, 6, false, 2, 0, T2G_DTYPE_F32},
        {1, 9, 3, 64, 140, ROWS_PREFILL, 130, true, 2, 0, T2G_DTYPE_F32},
        {3, 6, 2, 12, 40, ROWS_PREFILL, 33, true, 2, 0, T2G_DTYPE_F32},
        {2, 3, 3, 7, 12, ROWS_PREFILL, 10, false, 2, 0, T2G_DTYPE_F32},
        /* mixed runs of positions, an idle slot, a row of an unknown slot and one past the cache */
        {4, 6, 2, 16, 20, ROWS_MIXED, 17, true, 2, 0, T2G_DTYPE_F32},
        {3, 2, 2, 8, 140, ROWS_MIXED, 135, false, 2, 0, T2G_DTYPE_F32},
        {5, 9, 3, 64, 12, ROWS_MIXED, 9, true, 2, 0, T2G_DTYPE_F32},
    };
    /* every case in each configuration the devices choose (decode.c); a few with the workgroups
     * between, and lanes in a grid of more than 65535 workgroups */
    const t2g_decode_config configs[] = {T2G_DECODE_GROUP8, T2G_DECODE_GROUP128, T2G_DECODE_LANES};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (size_t k = 0; k < sizeof configs / sizeof configs[0]; k++) {
            decode_shape c = cases[i];
            c.config = configs[k];
            step_case(ctx, c);
            if (ctx->quick) return ctx->failures;
        }
    static const decode_shape between[] = {
        {2, 3, 3, 12, 40, ROWS_PREFILL, 33, false, 2, T2G_DECODE_GROUP16, T2G_DTYPE_F32},
        {3, 9, 3, 64, 140, ROWS_MIXED, 135, true, 2, T2G_DECODE_GROUP32, T2G_DTYPE_F32},
        {2, 4, 2, 128, 80, ROWS_LOCKSTEP, 70, true, 2, T2G_DECODE_GROUP64, T2G_DTYPE_F32},
        /* 532870 (row, head) pairs, 8 a workgroup: lanes in a 2-D grid */
        {4099, 130, 130, 1, 2, ROWS_LOCKSTEP, 1, false, 1, T2G_DECODE_LANES, T2G_DTYPE_F32},
    };
    for (size_t i = 0; i < sizeof between / sizeof between[0]; i++) step_case(ctx, between[i]);
    /* the caches of a bf16 or f16 model: each shape in both formats (dtype set below) in both
     * configurations that read them */
    const t2g_decode_config configs16[] = {T2G_DECODE_GROUP8, T2G_DECODE_GROUP128, T2G_DECODE_LANES};
    static const decode_shape cases16[] = {
        {3, 2, 2, 8, 9, ROWS_LOCKSTEP, 6, false, 2, 0, T2G_DTYPE_BF16},
        {3, 9, 3, 64, 9, ROWS_LOCKSTEP, 6, true, 2, 0, T2G_DTYPE_BF16},
        {2, 3, 3, 7, 12, ROWS_PREFILL, 10, false, 2, 0, T2G_DTYPE_BF16}, /* odd head: 16-bit elements at odd places */
        {1, 9, 3, 64, 140, ROWS_PREFILL, 130, true, 2, 0, T2G_DTYPE_BF16},
        {4, 6, 2, 16, 20, ROWS_MIXED, 17, true, 2, 0, T2G_DTYPE_BF16},
        {3, 2, 2, 8, 140, ROWS_MIXED, 135, false, 2, 0, T2G_DTYPE_BF16},
    };
    for (size_t f = 0; f < 2; f++)
        for (size_t i = 0; i < sizeof cases16 / sizeof cases16[0]; i++)
            for (size_t k = 0; k < sizeof configs16 / sizeof configs16[0]; k++) {
                decode_shape c = cases16[i];
                c.config = configs16[k];
                c.dtype = check_formats16[f];
                step16_case(ctx, c);
            }
    for (size_t f = 0; f < 3; f++) lanes_views_case(ctx, f ? check_formats16[f - 1] : T2G_DTYPE_F32);
    embedding_case(ctx, 3, 36, 259, 10, false, true);
    embedding_case(ctx, 5, 13, 7, 4, true, true);
    embedding_case(ctx, 3, 36, 259, 10, false, false);
    embedding_case(ctx, 5, 13, 7, 4, true, false);
    shape_errors(ctx);
    return ctx->failures;
}
