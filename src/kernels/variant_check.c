/* The self-check of the shader variants (t2g/variants.h): each variant beside the f32 path on
 * small random inputs of odd shapes, the verdicts cached on disk per device, driver and build. */
#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/atomic_write.h"
#include "core/cache_dir.h"
#include "core/hash.h"
#include "core/read_file.h"
#include "attention_internal.h"
#include "decode.h"
#include "kernel_util.h"
#include "matmul_internal.h"
#include "shaders.h"
#include "t2g/rng.h"
#include "t2g/variants.h"

/* ---- the cases: one per variant, its name with T standing for the 16-bit type and * for the
 * shader the device runs: the tiled GEMM's (matmul_gemm, matmul_gemm_cpu or matmul_panels_cpu,
 * whose 16-bit variants are its packing's: one verdict for each that the device's choice of tiles
 * may take, named after it), the decode attention's configuration's (decode_attention or
 * decode_attention_lanes) ---- */

typedef enum case_kind {
    CASE_CONVERT, CASE_WIDEN, CASE_GEMM, CASE_COOPMAT, CASE_LAYERNORM, CASE_RMSNORM, CASE_GELU, CASE_SWIGLU, CASE_ATTENTION,
    CASE_ATTENTION_BACKWARD, CASE_DECODE_STORE, CASE_DECODE_ATTENTION, CASE_GELU_KEEP, CASE_SWIGLU_KEEP,
} case_kind;

static const struct {
    case_kind kind;
    const char *name;  /* T: bf16 or f16; *: the tiled shader */
    bool a16;          /* GEMM: A is 16-bit too (else f32 A, 16-bit B); a keeping activation: its input is
                          16-bit and widened into an f32 keep (else f32, rounded into a 16-bit keep) */
} CASES[] = {
    {CASE_CONVERT, "convert@T", false},
    {CASE_WIDEN, "convert@f32_T", false},              /* a 16-bit model's kept attention input read back */
    {CASE_GEMM, "*@T_T", true},
    {CASE_GEMM, "*@f32_T", false},
    {CASE_COOPMAT, "matmul_coopmat@T_T", true}, /* only where t2g_matmul_use_coopmat: no verdict elsewhere */
    {CASE_LAYERNORM, "layernorm_forward@T", false},
    {CASE_RMSNORM, "rmsnorm_forward@T", false},
    {CASE_GELU, "gelu_forward@T", false},
    {CASE_SWIGLU, "swiglu_forward@T", false},
    {CASE_GELU_KEEP, "gelu_forward@T_f32_T", false},   /* a 16-bit model's MLP input kept in 16 bits ... */
    {CASE_GELU_KEEP, "gelu_forward@T_T_f32", true},    /* ... and widened back for the backward */
    {CASE_SWIGLU_KEEP, "swiglu_forward@T_f32_T", false},
    {CASE_SWIGLU_KEEP, "swiglu_forward@T_T_f32", true},
    {CASE_ATTENTION, "attention_forward@T", false},
    {CASE_ATTENTION_BACKWARD, "attention_backward_dot@T", false},
    {CASE_DECODE_STORE, "decode_store@T", false},         /* the generator's 16-bit KV cache */
    {CASE_DECODE_ATTENTION, "*@T", false},
};
#define CASE_COUNT (sizeof CASES / sizeof CASES[0])

/* Shapes: odd everywhere. GEMM M x K x N; rows N of C (norms, SwiGLU: F = C); attention B, T,
 * NH, KVH, hs; a decode step's caches (DS slots, DT positions, DKVH heads of AHS) and its DNH
 * query heads. */
enum { GM = 37, GK = 45, GN = 29, ROWS = 13, COLS = 40, AB = 2, AT = 5, ANH = 2, AKVH = 1, AHS = 8 };
enum { DS = 3, DT = 7, DNH = 4, DKVH = 2, DW = (DNH + 2 * DKVH) * AHS, DCACHE = DS * DT * DKVH * AHS };

/* One check: a case, and for the GEMM's cases the configuration it runs on (the tiled shader's
 * that the device may choose, or T2G_MATMUL_TILES_COOPMAT; AUTO for the other cases); the
 * shader that * stands for in its name. */
typedef struct planned {
    size_t c;
    t2g_matmul_tiles tiles;
    const char *shader;
} planned;

#define MAX_PLANNED (CASE_COUNT * T2G_MATMUL_SHADER_COUNT)

/* The checks of dtype's variants on this device, in the order of CASES; returns how many. */
static uint32_t plan_checks(const t2g_device *device, t2g_dtype dtype, planned out[MAX_PLANNED]) {
    t2g_matmul_tiles tiled[T2G_MATMUL_SHADER_COUNT];
    uint32_t shaders = t2g_matmul_choosable_shaders(device, tiled), n = 0;
    const char *decode_shader = t2g_decode_config_shader(t2g_decode_attention_choice(device));
    for (size_t c = 0; c < CASE_COUNT; c++) {
        if (CASES[c].kind == CASE_GEMM)
            for (uint32_t s = 0; s < shaders; s++)
                out[n++] = (planned){c, tiled[s], t2g_matmul_shader_name(t2g_matmul_tile_config_get(tiled[s])->shader)};
        else if (CASES[c].kind == CASE_DECODE_ATTENTION)
            out[n++] = (planned){c, T2G_MATMUL_TILES_AUTO, decode_shader};
        else if (CASES[c].kind != CASE_COOPMAT)
            out[n++] = (planned){c, T2G_MATMUL_TILES_AUTO, ""};
        else if (t2g_matmul_use_coopmat(t2g_device_get_info(device), dtype, dtype))
            out[n++] = (planned){c, T2G_MATMUL_TILES_COOPMAT, ""};
    }
    return n;
}

static void case_name(planned check, t2g_dtype dtype, char out[64]) {
    const char *type = t2g_dtype_name(dtype), *shader = check.shader;
    size_t n = 0;
    for (const char *p = CASES[check.c].name; *p && n < 63; p++) {
        if (*p == 'T') n += (size_t)snprintf(out + n, 64 - n, "%s", type);
        else if (*p == '*') n += (size_t)snprintf(out + n, 64 - n, "%s", shader);
        else out[n++] = *p;
    }
    out[n < 63 ? n : 63] = 0;
}

/* ---- host conversions ---- */

static float round_to(t2g_dtype dtype, float x) {
    return dtype == T2G_DTYPE_BF16 ? t2g_bf16_to_f32(t2g_f32_to_bf16(x)) : t2g_f16_to_f32(t2g_f32_to_f16(x));
}

/* The distance from x (a value of the format) to its neighbour away from zero. */
static double ulp_of(t2g_dtype dtype, float x) {
    uint16_t bits = dtype == T2G_DTYPE_BF16 ? t2g_f32_to_bf16(x) : t2g_f32_to_f16(x);
    float next = dtype == T2G_DTYPE_BF16 ? t2g_bf16_to_f32((uint16_t)(bits + 1)) : t2g_f16_to_f32((uint16_t)(bits + 1));
    return isfinite(next) ? fabs((double)next - x) : fabs((double)x) * 0x1p-7;
}

/* ---- device work ---- */

typedef struct env {
    t2g_device *device;
    t2g_recorder *rec;
    t2g_arena *arena;
    t2g_rng rng;
    t2g_error *err;
    t2g_status status;  /* the first failure; every later step is skipped */
} env;

static float *random_floats(env *e, size_t n, double lo, double hi) {
    float *x = malloc(n * sizeof *x);
    if (!x) {
        if (!e->status) e->status = t2g_fail(e->err, T2G_ERR_MEMORY, "out of host memory for the self-check");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) x[i] = (float)(lo + (hi - lo) * t2g_rng_uniform(&e->rng));
    return x;
}

/* A tensor of n elements of `dtype` holding host floats (rounded to the type; NULL: poisoned). */
static t2g_tensor tensor_of(env *e, t2g_dtype dtype, const float *values, size_t n) {
    t2g_tensor t = {0};
    if (e->status) return t;
    e->status = t2g_tensor_alloc_typed(e->arena, dtype, n, &t, e->err);
    size_t bytes = n * t2g_dtype_bytes(dtype);
    void *host = malloc(bytes ? bytes : 1);
    if (!e->status && !host) e->status = t2g_fail(e->err, T2G_ERR_MEMORY, "out of host memory for the self-check");
    for (size_t i = 0; i < n && host && !e->status; i++) {
        float v = values ? values[i] : NAN;
        if (dtype == T2G_DTYPE_F32) ((float *)host)[i] = v;
        else ((uint16_t *)host)[i] = dtype == T2G_DTYPE_BF16 ? t2g_f32_to_bf16(v) : t2g_f32_to_f16(v);
    }
    if (!e->status) e->status = t2g_tensor_upload(t, host, bytes, e->err);
    free(host);
    return t;
}

/* A u32 tensor of n elements holding `words`. */
static t2g_tensor words_of(env *e, const uint32_t *words, size_t n) {
    t2g_tensor t = {0};
    if (!e->status) e->status = t2g_tensor_alloc_typed(e->arena, T2G_DTYPE_U32, n, &t, e->err);
    if (!e->status) e->status = t2g_tensor_upload(t, words, n * sizeof *words, e->err);
    return t;
}

/* The tensor's first n elements as floats (malloc'ed), after the recording is submitted. */
static float *floats_of(env *e, t2g_tensor t, size_t n) {
    float *out = e->status ? NULL : malloc(n * sizeof *out);
    uint16_t *half = e->status ? NULL : malloc(n * sizeof *half);
    if (!e->status && (!out || !half)) e->status = t2g_fail(e->err, T2G_ERR_MEMORY, "out of host memory for the self-check");
    if (!e->status && t.dtype == T2G_DTYPE_F32) e->status = t2g_tensor_download(t, out, n * 4, e->err);
    else if (!e->status) e->status = t2g_tensor_download(t, half, n * 2, e->err);
    for (size_t i = 0; i < n && !e->status && t.dtype != T2G_DTYPE_F32; i++)
        out[i] = t.dtype == T2G_DTYPE_BF16 ? t2g_bf16_to_f32(half[i]) : t2g_f16_to_f32(half[i]);
    free(half);
    if (e->status) {
        free(out);
        return NULL;
    }
    return out;
}

static void record(env *e, t2g_status status) {
    if (!e->status) e->status = status;
}

/* What a case produced: the variant's results, what the f32 path says they must be, and how far
 * each may be from it. */
typedef struct outcome {
    float *got;
    double *want, *allowed;
    size_t n;
    size_t fused_from; /* the outputs from here (0: none) are a GEMM's with the residual added */
} outcome;

static bool outcome_alloc(env *e, outcome *o, size_t n) {
    o->n = n;
    o->want = calloc(n, sizeof *o->want);
    o->allowed = calloc(n, sizeof *o->allowed);
    if (o->want && o->allowed) return true;
    if (!e->status) e->status = t2g_fail(e->err, T2G_ERR_MEMORY, "out of host memory for the self-check");
    return false;
}

/* f32 results against the variant's f32 results: `magnitude` (per element, may be NULL: |want|)
 * times 2^-20. */
static void expect_same(env *e, outcome *o, float *variant, const float *f32, const double *magnitude, size_t n) {
    o->got = variant;
    if (!variant || !f32 || !outcome_alloc(e, o, n)) return;
    for (size_t i = 0; i < n; i++) {
        o->want[i] = f32[i];
        o->allowed[i] = ((magnitude ? magnitude[i] : fabs((double)f32[i])) + 1e-30) * 0x1p-20;
    }
}

/* 16-bit results against the f32 path's rounded: one unit in the last place of the format. */
static void expect_rounded(env *e, outcome *o, t2g_dtype dtype, float *variant, const float *f32, size_t n) {
    o->got = variant;
    if (!variant || !f32 || !outcome_alloc(e, o, n)) return;
    for (size_t i = 0; i < n; i++) {
        o->want[i] = round_to(dtype, f32[i]);
        o->allowed[i] = ulp_of(dtype, (float)o->want[i]);
    }
}

static void run_convert(env *e, t2g_dtype dtype, outcome *o) {
    enum { N = 777 };
    float *x = random_floats(e, N, -3, 3);
    if (x) {
        const float edges[] = {0.0f, -0.0f, 1e-30f, 65504.0f, 65520.0f, -1e5f, 1.00390625f, 3.0e-8f};
        memcpy(x, edges, sizeof edges);
    }
    t2g_tensor src = tensor_of(e, T2G_DTYPE_F32, x, N), dst = tensor_of(e, dtype, NULL, N);
    if (!e->status) record(e, t2g_convert(e->rec, dst, src, N, e->err));
    if (!e->status) record(e, t2g_recorder_submit(e->rec, e->err));
    expect_rounded(e, o, dtype, floats_of(e, dst, N), x, N);
    free(x);
}

/* Widening: random values of the format (rounded on the host) back to f32, exactly. */
static void run_widen(env *e, t2g_dtype dtype, outcome *o) {
    enum { N = 777 };
    float *x = random_floats(e, N, -70000, 70000);
    for (size_t i = 0; x && i < N; i++) { /* normal values (a device may flush f16 subnormals), overflows included */
        float v = x[i] * (i % 3 == 0 ? 1e-4f : 1.0f);
        x[i] = round_to(dtype, fabsf(v) < 0x1p-14f ? 0x1p-14f : v);
    }
    t2g_tensor src = tensor_of(e, dtype, x, N), dst = tensor_of(e, T2G_DTYPE_F32, NULL, N);
    if (!e->status) record(e, t2g_convert(e->rec, dst, src, N, e->err));
    if (!e->status) record(e, t2g_recorder_submit(e->rec, e->err));
    float *got = floats_of(e, dst, N);
    if (got && x && outcome_alloc(e, o, N)) {
        o->got = got;
        for (size_t i = 0; i < N; i++) o->want[i] = x[i], o->allowed[i] = 0x1p-1074; /* the same float */
    } else {
        free(got);
    }
    free(x);
}

/* More outputs of the variant (got, n of them, taken over) that must equal `want` exactly. */
static void expect_also_exact(env *e, outcome *o, float *got, const float *want, size_t n) {
    float *all = o->got && got ? realloc(o->got, (o->n + n) * sizeof *all) : NULL;
    double *all_want = all ? realloc(o->want, (o->n + n) * sizeof *all_want) : NULL;
    if (all) o->got = all;
    double *all_allowed = all_want ? realloc(o->allowed, (o->n + n) * sizeof *all_allowed) : NULL;
    if (all_want) o->want = all_want;
    if (all_allowed) o->allowed = all_allowed;
    if (!all_allowed) {
        if (!e->status) e->status = t2g_fail(e->err, T2G_ERR_MEMORY, "out of host memory for the self-check");
    } else {
        for (size_t i = 0; i < n; i++) {
            all[o->n + i] = got[i];
            all_want[o->n + i] = want[i];
            all_allowed[o->n + i] = 0x1p-1074; /* none: the same float */
        }
        o->fused_from = o->n;
        o->n += n;
    }
    free(got);
}

/* The GEMM on configuration `tiles` with the residual added in its outputs (gemm_epilogue.glsl,
 * as the model's projections run): its product `product` (M,N) plus the residual, exactly. */
static void run_gemm_residual(env *e, t2g_matmul_tiles tiles, t2g_tensor a, t2g_tensor b, const float *product,
                              outcome *o) {
    float *residual = random_floats(e, GM * GN, -2, 2), *want = product ? malloc(GM * GN * sizeof *want) : NULL;
    for (size_t i = 0; want && residual && i < GM * GN; i++) want[i] = residual[i] + product[i];
    t2g_tensor residual_t = tensor_of(e, T2G_DTYPE_F32, residual, GM * GN);
    t2g_tensor out = tensor_of(e, T2G_DTYPE_F32, NULL, GM * GN);
    if (!e->status)
        record(e, t2g_matmul_forward_residual_tiles(e->rec, tiles, out, residual_t, a, b, NULL, GM, GK, GN, e->err));
    if (!e->status) record(e, t2g_recorder_submit(e->rec, e->err));
    float *got = floats_of(e, out, GM * GN);
    if (want) expect_also_exact(e, o, got, want, GM * GN);
    else free(got);
    free(want);
    free(residual);
}

/* The variant on configuration `tiles` against the f32 path's automatic choice. The
 * cooperative-matrix GEMM (T2G_MATMUL_TILES_COOPMAT) runs its f32 sums in another order than the
 * f32 shader's: within K x 2^-23 of the products' magnitude sum (each order within K x 2^-24 of
 * the exact sum; the products of 16-bit values are exact in f32). With the residual added in its
 * outputs the cooperative-matrix GEMM gives its product plus the residual exactly: checked here
 * because no test suite runs it but on such a device (the tiled GEMMs' epilogue is the suite's,
 * bitwise on every configuration; here it would cost lavapipe a minute of cold compiling). */
static void run_gemm(env *e, t2g_dtype dtype, bool a16, t2g_matmul_tiles tiles, outcome *o) {
    float *a = random_floats(e, GM * GK, -1, 1), *b = random_floats(e, GN * GK, -1, 1);
    double *magnitude = calloc(GM * GN, sizeof *magnitude);
    if (a && b && magnitude) {
        for (size_t i = 0; i < GM * GK && a16; i++) a[i] = round_to(dtype, a[i]);
        for (size_t i = 0; i < GN * GK; i++) b[i] = round_to(dtype, b[i]);
        for (size_t m = 0; m < GM; m++)
            for (size_t n = 0; n < GN; n++)
                for (size_t k = 0; k < GK; k++) magnitude[m * GN + n] += fabs((double)a[m * GK + k] * b[n * GK + k]);
    }
    /* out (M,N) = a (M,K) b (N,K)^T, as the model's forward; the f32 path on the same values */
    t2g_tensor a32 = tensor_of(e, T2G_DTYPE_F32, a, GM * GK), b32 = tensor_of(e, T2G_DTYPE_F32, b, GN * GK);
    t2g_tensor a_v = a16 ? tensor_of(e, dtype, a, GM * GK) : a32, b_v = tensor_of(e, dtype, b, GN * GK);
    t2g_tensor out32 = tensor_of(e, T2G_DTYPE_F32, NULL, GM * GN), out_v = tensor_of(e, T2G_DTYPE_F32, NULL, GM * GN);
    if (!e->status) record(e, t2g_matmul_forward(e->rec, out32, a32, b32, NULL, GM, GK, GN, e->err));
    if (!e->status) record(e, t2g_matmul_forward_tiles(e->rec, tiles, out_v, a_v, b_v, NULL, GM, GK, GN, e->err));
    if (!e->status) record(e, t2g_recorder_submit(e->rec, e->err));
    float *f32 = floats_of(e, out32, GM * GN);
    expect_same(e, o, floats_of(e, out_v, GM * GN), f32, magnitude, GM * GN);
    bool coopmat = tiles == T2G_MATMUL_TILES_COOPMAT;
    for (size_t i = 0; coopmat && magnitude && o->allowed && i < o->n; i++) o->allowed[i] = (magnitude[i] + 1e-30) * GK * 0x1p-23;
    if (coopmat && !e->status) run_gemm_residual(e, tiles, a_v, b_v, o->got, o);
    free(f32);
    free(magnitude);
    free(a);
    free(b);
}

/* The activation kernels with a 16-bit output: the same inputs, an f32 and a 16-bit out. */
static t2g_status record_act(env *e, case_kind kind, t2g_tensor out, const t2g_tensor *in) {
    switch (kind) {
    case CASE_LAYERNORM:
        return t2g_layernorm_forward(e->rec, out, in[3], in[4], in[0], in[1], in[2], ROWS, COLS, e->err);
    case CASE_RMSNORM: return t2g_rmsnorm_forward(e->rec, out, in[4], in[0], in[1], ROWS, COLS, 1e-5f, e->err);
    case CASE_GELU: return t2g_gelu_forward(e->rec, out, in[0], (uint64_t)ROWS * COLS, e->err);
    case CASE_SWIGLU: return t2g_swiglu_forward(e->rec, out, in[0], ROWS, COLS / 2, e->err);
    default: /* the tiled forward, the shader whose variants these are, at f32 too */
        return t2g_attention_forward_config(e->rec, T2G_ATTENTION_TILED, out, in[4], in[0], AB, AT, ANH, AKVH, AHS,
                                            e->err);
    }
}

static size_t act_outputs(case_kind kind) {
    if (kind == CASE_SWIGLU) return (size_t)ROWS * (COLS / 2);
    if (kind == CASE_ATTENTION) return (size_t)AB * AT * ANH * AHS;
    return (size_t)ROWS * COLS;
}

static void run_act(env *e, case_kind kind, t2g_dtype dtype, outcome *o) {
    size_t n = act_outputs(kind), qkv = (size_t)AB * AT * (ANH + 2 * AKVH) * AHS;
    size_t inputs = kind == CASE_ATTENTION ? qkv : (size_t)ROWS * COLS;
    float *x = random_floats(e, inputs, -2, 2), *w = random_floats(e, COLS, 0.5, 1.5), *b = random_floats(e, COLS, -1, 1);
    const t2g_tensor in[5] = {tensor_of(e, T2G_DTYPE_F32, x, inputs), tensor_of(e, T2G_DTYPE_F32, w, COLS),
                              tensor_of(e, T2G_DTYPE_F32, b, COLS), tensor_of(e, T2G_DTYPE_F32, NULL, ROWS),
                              tensor_of(e, T2G_DTYPE_F32, NULL, 64)};
    t2g_tensor out32 = tensor_of(e, T2G_DTYPE_F32, NULL, n), out_v = tensor_of(e, dtype, NULL, n);
    if (!e->status) record(e, record_act(e, kind, out32, in));
    if (!e->status) record(e, record_act(e, kind, out_v, in));
    if (!e->status) record(e, t2g_recorder_submit(e->rec, e->err));
    float *f32 = floats_of(e, out32, n);
    expect_rounded(e, o, dtype, floats_of(e, out_v, n), f32, n);
    free(f32);
    free(x);
    free(w);
    free(b);
}

/* An activation keeping its input in another type (t2g_gelu_forward_keep): its 16-bit out against
 * the f32 path on the input rounded to the format, rounded; its keep against the input rounded
 * (one unit in the last place, as every 16-bit store), or widened from the 16-bit input exactly. */
static void run_keep(env *e, case_kind kind, t2g_dtype dtype, bool widen, outcome *o) {
    size_t n_in = (size_t)ROWS * COLS, n_out = kind == CASE_SWIGLU_KEEP ? n_in / 2 : n_in;
    float *x = random_floats(e, n_in, -3, 3), *rounded = x ? malloc(n_in * sizeof *rounded) : NULL;
    for (size_t i = 0; rounded && i < n_in; i++) rounded[i] = round_to(dtype, x[i]);
    t2g_tensor inp = tensor_of(e, widen ? dtype : T2G_DTYPE_F32, widen ? rounded : x, n_in);
    t2g_tensor keep = tensor_of(e, widen ? T2G_DTYPE_F32 : dtype, NULL, n_in);
    t2g_tensor inp32 = tensor_of(e, T2G_DTYPE_F32, rounded, n_in);
    t2g_tensor out32 = tensor_of(e, T2G_DTYPE_F32, NULL, n_out), out_v = tensor_of(e, dtype, NULL, n_out);
    bool gelu = kind == CASE_GELU_KEEP;
    if (!e->status)
        record(e, gelu ? t2g_gelu_forward(e->rec, out32, inp32, n_in, e->err)
                       : t2g_swiglu_forward(e->rec, out32, inp32, ROWS, COLS / 2, e->err));
    if (!e->status)
        record(e, gelu ? t2g_gelu_forward_keep(e->rec, out_v, keep, inp, n_in, e->err)
                       : t2g_swiglu_forward_keep(e->rec, out_v, keep, inp, ROWS, COLS / 2, e->err));
    if (!e->status) record(e, t2g_recorder_submit(e->rec, e->err));
    float *f32 = floats_of(e, out32, n_out);
    expect_rounded(e, o, dtype, floats_of(e, out_v, n_out), f32, n_out);
    float *kept = floats_of(e, keep, n_in);
    if (kept && rounded && o->got) { /* keep after out: rounded within an ulp, widened exactly */
        outcome k = {0};
        expect_rounded(e, &k, dtype, kept, x, n_in);
        float *got = realloc(o->got, (n_out + n_in) * sizeof *got);
        double *want = got ? realloc(o->want, (n_out + n_in) * sizeof *want) : NULL;
        if (got) o->got = got;
        double *allowed = want ? realloc(o->allowed, (n_out + n_in) * sizeof *allowed) : NULL;
        if (want) o->want = want;
        if (allowed) o->allowed = allowed;
        for (size_t i = 0; allowed && k.want && i < n_in; i++) {
            got[n_out + i] = kept[i];
            want[n_out + i] = k.want[i];
            allowed[n_out + i] = widen ? 0x1p-1074 : k.allowed[i];
        }
        if (allowed && k.want) o->n = n_out + n_in;
        else if (!e->status) e->status = t2g_fail(e->err, T2G_ERR_MEMORY, "out of host memory for the self-check");
        free(k.want);
        free(k.allowed);
    }
    free(kept);
    free(f32);
    free(rounded);
    free(x);
}

/* Attention's backward reading a 16-bit `out`: against the f32 shader on the same rounded out. */
static void run_attention_backward(env *e, t2g_dtype dtype, outcome *o) {
    size_t qkv_n = (size_t)AB * AT * (ANH + 2 * AKVH) * AHS, out_n = (size_t)AB * AT * ANH * AHS;
    float *qkv = random_floats(e, qkv_n, -1, 1), *dout = random_floats(e, out_n, -1, 1);
    t2g_tensor qkv_t = tensor_of(e, T2G_DTYPE_F32, qkv, qkv_n), dout_t = tensor_of(e, T2G_DTYPE_F32, dout, out_n);
    t2g_tensor out32 = tensor_of(e, T2G_DTYPE_F32, NULL, out_n), lse = tensor_of(e, T2G_DTYPE_F32, NULL, 64);
    if (!e->status) record(e, t2g_attention_forward(e->rec, out32, lse, qkv_t, AB, AT, ANH, AKVH, AHS, e->err));
    if (!e->status) record(e, t2g_recorder_submit(e->rec, e->err));
    float *out = floats_of(e, out32, out_n);
    for (size_t i = 0; out && i < out_n; i++) out[i] = round_to(dtype, out[i]);
    t2g_tensor rounded32 = tensor_of(e, T2G_DTYPE_F32, out, out_n), rounded_v = tensor_of(e, dtype, out, out_n);
    float zeros[(AB * AT * (ANH + 2 * AKVH) * AHS)] = {0};
    t2g_tensor d32 = tensor_of(e, T2G_DTYPE_F32, zeros, qkv_n), d_v = tensor_of(e, T2G_DTYPE_F32, zeros, qkv_n);
    if (!e->status)
        record(e, t2g_attention_backward(e->rec, d32, dout_t, qkv_t, rounded32, lse, AB, AT, ANH, AKVH, AHS, e->err));
    if (!e->status)
        record(e, t2g_attention_backward(e->rec, d_v, dout_t, qkv_t, rounded_v, lse, AB, AT, ANH, AKVH, AHS, e->err));
    if (!e->status) record(e, t2g_recorder_submit(e->rec, e->err));
    float *f32 = floats_of(e, d32, qkv_n);
    double *magnitude = calloc(qkv_n, sizeof *magnitude); /* the gradients' scale: their largest */
    double largest = 0;
    for (size_t i = 0; f32 && i < qkv_n; i++) largest = fmax(largest, fabs((double)f32[i]));
    for (size_t i = 0; magnitude && i < qkv_n; i++) magnitude[i] = largest;
    expect_same(e, o, floats_of(e, d_v, qkv_n), f32, magnitude, qkv_n);
    free(magnitude);
    free(f32);
    free(out);
    free(qkv);
    free(dout);
}

/* ---- the generator's KV cache: decode_store writes it, decode_attention reads it ---- */

/* A decode step's rows (n, 3), position-major as the generator's prefill orders them: every
 * position of every slot (decode_store: each cache element written once), or each slot at a
 * random position (decode_attention: rows of different lengths). Returns n. */
static uint32_t decode_rows(env *e, bool every_position, uint32_t rows[DS * DT * 3]) {
    uint32_t n = 0;
    for (uint32_t pos = 0; pos < DT && every_position; pos++)
        for (uint32_t slot = 0; slot < DS; slot++, n++) {
            rows[3 * n] = 1;
            rows[3 * n + 1] = slot;
            rows[3 * n + 2] = pos;
        }
    for (uint32_t slot = 0; slot < DS && !every_position; slot++, n++) {
        rows[3 * n] = 1;
        rows[3 * n + 1] = slot;
        rows[3 * n + 2] = slot == 0 ? DT - 1 : (uint32_t)(t2g_rng_uniform(&e->rng) * DT) % DT; /* one at the end */
    }
    return n;
}

/* decode_store with rope into 16-bit caches against the f32 caches of the f32 shader rounded on
 * the host: k (turned in f32) and v within one unit in the last place of the format, as the
 * other 16-bit outputs. Each shader turns the q of its own copy of qkv. */
static void run_decode_store(env *e, t2g_dtype dtype, outcome *o) {
    uint32_t rows[DS * DT * 3], n = decode_rows(e, true, rows);
    float table[DT * AHS];
    t2g_rope_table(table, DT, AHS, 10000.0);
    float *qkv = random_floats(e, (size_t)n * DW, -2, 2);
    t2g_tensor rows_t = words_of(e, rows, (size_t)n * 3), table_t = tensor_of(e, T2G_DTYPE_F32, table, DT * AHS);
    t2g_tensor qkv32 = tensor_of(e, T2G_DTYPE_F32, qkv, (size_t)n * DW), qkv_v = tensor_of(e, T2G_DTYPE_F32, qkv, (size_t)n * DW);
    t2g_tensor k32 = tensor_of(e, T2G_DTYPE_F32, NULL, DCACHE), v32 = tensor_of(e, T2G_DTYPE_F32, NULL, DCACHE);
    t2g_tensor k_v = tensor_of(e, dtype, NULL, DCACHE), v_v = tensor_of(e, dtype, NULL, DCACHE);
    if (!e->status)
        record(e, t2g_decode_store(e->rec, qkv32, k32, v32, rows_t, &table_t, n, DS, DT, DNH, DKVH, AHS, e->err));
    if (!e->status)
        record(e, t2g_decode_store(e->rec, qkv_v, k_v, v_v, rows_t, &table_t, n, DS, DT, DNH, DKVH, AHS, e->err));
    if (!e->status) record(e, t2g_recorder_submit(e->rec, e->err));
    float *caches32[2] = {floats_of(e, k32, DCACHE), floats_of(e, v32, DCACHE)};
    float *caches_v[2] = {floats_of(e, k_v, DCACHE), floats_of(e, v_v, DCACHE)};
    float *f32 = malloc(2 * DCACHE * sizeof *f32), *variant = malloc(2 * DCACHE * sizeof *variant);
    bool all = caches32[0] && caches32[1] && caches_v[0] && caches_v[1] && f32 && variant;
    for (int c = 0; c < 2 && all; c++) { /* (k cache, v cache) */
        memcpy(f32 + c * DCACHE, caches32[c], DCACHE * sizeof *f32);
        memcpy(variant + c * DCACHE, caches_v[c], DCACHE * sizeof *variant);
    }
    if (all) expect_rounded(e, o, dtype, variant, f32, 2 * DCACHE);
    else free(variant);
    for (int c = 0; c < 2; c++) {
        free(caches32[c]);
        free(caches_v[c]);
    }
    free(f32);
    free(qkv);
}

/* decode_attention on 16-bit caches against the f32 shader on the same values widened to f32
 * (exact): the same f32 operations in the same order on the same numbers, so only the two
 * compilations may differ (a product contracted into an fma in one and not the other; any
 * such change moves one rounding by at most 2^-24 of what it rounds). Here |q|, |k|, |v| <= 1:
 * a score differs by at most hs 2^-23 sum_e |q_e k_e| scale <= 8 2^-23 sqrt(8) < 2^-18; exp(s - m)
 * then by 2 2^-18 relative, the sum l and each output's weights by twice that, and the sums
 * over the DT <= 7 keys by 7 2^-23 more: each output within 2^-15 of the largest |v| its sum
 * weighs (a convex combination's bound). Allowed: 2^-14 of that, twice the derived bound; one
 * misread 16-bit value moves an output by its weight (about 1 / DT here) times the error. */
static void run_decode_attention(env *e, t2g_dtype dtype, outcome *o) {
    uint32_t rows[DS * DT * 3], n = decode_rows(e, false, rows);
    float *qkv = random_floats(e, (size_t)n * DW, -1, 1);
    float *kc = random_floats(e, DCACHE, -1, 1), *vc = random_floats(e, DCACHE, -1, 1);
    for (size_t i = 0; kc && vc && i < DCACHE; i++) {
        kc[i] = round_to(dtype, kc[i]);
        vc[i] = round_to(dtype, vc[i]);
    }
    size_t outs = (size_t)n * DNH * AHS;
    double *magnitude = calloc(outs, sizeof *magnitude); /* (n, DNH hs): the largest |v| each output weighs */
    for (uint32_t r = 0; magnitude && vc && r < n; r++)
        for (uint32_t h = 0; h < DNH; h++)
            for (uint32_t d = 0; d < AHS; d++)
                for (uint32_t j = 0; j <= rows[3 * r + 2]; j++) {
                    size_t at = (((size_t)rows[3 * r + 1] * DT + j) * DKVH + h / (DNH / DKVH)) * AHS + d;
                    double *m = &magnitude[((size_t)r * DNH + h) * AHS + d];
                    *m = fmax(*m, fabs((double)vc[at]) * 0x1p6); /* 2^-14 of it: 2^-20 of 2^6 of it */
                }
    t2g_tensor rows_t = words_of(e, rows, (size_t)n * 3), qkv_t = tensor_of(e, T2G_DTYPE_F32, qkv, (size_t)n * DW);
    t2g_tensor k32 = tensor_of(e, T2G_DTYPE_F32, kc, DCACHE), v32 = tensor_of(e, T2G_DTYPE_F32, vc, DCACHE);
    t2g_tensor k_v = tensor_of(e, dtype, kc, DCACHE), v_v = tensor_of(e, dtype, vc, DCACHE);
    t2g_tensor out32 = tensor_of(e, T2G_DTYPE_F32, NULL, outs), out_v = tensor_of(e, T2G_DTYPE_F32, NULL, outs);
    /* both with the configuration the device runs */
    t2g_decode_config config = t2g_decode_attention_choice(t2g_recorder_device(e->rec));
    if (!e->status)
        record(e, t2g_decode_attention(e->rec, out32, k32, v32, qkv_t, rows_t, n, DS, DT, DNH, DKVH, AHS, config,
                                       e->err));
    if (!e->status)
        record(e, t2g_decode_attention(e->rec, out_v, k_v, v_v, qkv_t, rows_t, n, DS, DT, DNH, DKVH, AHS, config,
                                       e->err));
    if (!e->status) record(e, t2g_recorder_submit(e->rec, e->err));
    float *f32 = floats_of(e, out32, outs);
    expect_same(e, o, floats_of(e, out_v, outs), f32, magnitude, outs);
    free(f32);
    free(magnitude);
    free(qkv);
    free(kc);
    free(vc);
}

/* Runs the check for dtype into *v; an error only when the check itself could not run. */
static t2g_status run_case(t2g_device *device, planned check, t2g_dtype dtype, t2g_variant_verdict *v,
                           t2g_error *err) {
    size_t c = check.c;
    env e = {.device = device, .rng = t2g_rng_seeded(0x5E1FC4EC + c), .err = err};
    outcome o = {0};
    e.status = t2g_recorder_create(device, NULL, &e.rec, err);
    if (!e.status) e.status = t2g_arena_create(device, 1u << 20, "self-check", &e.arena, err);
    if (!e.status) {
        switch (CASES[c].kind) {
        case CASE_CONVERT: run_convert(&e, dtype, &o); break;
        case CASE_WIDEN: run_widen(&e, dtype, &o); break;
        case CASE_GEMM:
        case CASE_COOPMAT: run_gemm(&e, dtype, CASES[c].a16, check.tiles, &o); break;
        case CASE_ATTENTION_BACKWARD: run_attention_backward(&e, dtype, &o); break;
        case CASE_DECODE_STORE: run_decode_store(&e, dtype, &o); break;
        case CASE_DECODE_ATTENTION: run_decode_attention(&e, dtype, &o); break;
        case CASE_GELU_KEEP:
        case CASE_SWIGLU_KEEP: run_keep(&e, CASES[c].kind, dtype, CASES[c].a16, &o); break;
        default: run_act(&e, CASES[c].kind, dtype, &o); break;
        }
    }
    t2g_status status = e.status;
    if (status == T2G_ERR_ARGUMENT || status == T2G_ERR_UNSUPPORTED) { /* the variant refused: a verdict */
        snprintf(v->message, sizeof v->message, "it could not run: %.200s", err->message);
        v->error = INFINITY;
        status = T2G_OK;
    } else if (!status && o.got) {
        if (strcmp(t2g_device_test_corrupted_variant(device), v->name) == 0) o.got[o.n / 2] += 1.0f + fabsf(o.got[o.n / 2]);
        for (size_t i = 0; i < o.n; i++) {
            bool same = (double)o.got[i] == o.want[i] || (isnan(o.got[i]) && isnan(o.want[i])); /* infinities too */
            double excess = same ? 0.0 : fabs((double)o.got[i] - o.want[i]) / o.allowed[i];
            if (!(excess <= v->error)) { /* NaN too */
                v->error = isnan(excess) ? INFINITY : excess;
                bool off = excess > 1 || isnan(excess);
                if (off && o.fused_from && i >= o.fused_from)
                    snprintf(v->message, sizeof v->message, "with the residual added in its outputs, element %zu: "
                             "%.9g where its product plus the residual is %.9g", i - o.fused_from, o.got[i],
                             o.want[i]);
                else if (off)
                    snprintf(v->message, sizeof v->message, "element %zu: %.9g where the f32 path gives %.9g (%.3g apart, "
                             "at most %.3g allowed)", i, o.got[i], o.want[i], fabs((double)o.got[i] - o.want[i]),
                             o.allowed[i]);
            }
        }
    }
    v->passed = !status && v->error <= 1.0;
    free(o.got);
    free(o.want);
    free(o.allowed);
    t2g_recorder_destroy(e.rec); /* first: a failed case may leave dispatches on the arena's tensors */
    t2g_arena_destroy(e.arena);
    return status;
}

/* ---- the verdict cache ---- */

/* The build a verdict holds for: FNV-1a over every embedded shader and over the size and
 * modification time of the running executable (a rebuild of the checks or kernels changes it).
 * Computed once per process (build_hash). */
static uint64_t the_build_hash;
static pthread_once_t build_hash_once = PTHREAD_ONCE_INIT;

static void compute_build_hash(void) {
    uint64_t h = T2G_FNV1A64_START;
    for (size_t i = 0; i < t2g_shader_blob_count; i++) h = t2g_fnv1a64(h, t2g_shader_blobs[i]->code, t2g_shader_blobs[i]->bytes);
    struct stat exe;
    if (stat("/proc/self/exe", &exe) == 0) {
        int64_t stamp[3] = {(int64_t)exe.st_size, (int64_t)exe.st_mtim.tv_sec, (int64_t)exe.st_mtim.tv_nsec};
        h = t2g_fnv1a64(h, stamp, sizeof stamp);
    }
    the_build_hash = h;
}

static uint64_t build_hash(void) {
    pthread_once(&build_hash_once, compute_build_hash);
    return the_build_hash;
}

void t2g_variants_cache_path(const t2g_device *device, char *out, size_t size) {
    const char *pipelines = t2g_device_pipeline_cache_path(device), *name = strrchr(pipelines, '/');
    const char *stem = name ? strstr(name, "pipelines-") : NULL, *dot = stem ? strrchr(stem, '.') : NULL;
    out[0] = 0;
    if (!stem || !dot) return;
    int n = snprintf(out, size, "%.*svariants-%.*s.json", (int)(stem - pipelines), pipelines, (int)(dot - stem - 10),
                     stem + 10);
    if (n < 0 || (size_t)n >= size) out[0] = 0;
}

/* The file holds the verdicts of the last few builds on this device and driver, oldest first:
 * {"<build hash>": {"verdicts": {"<variant>": {"passed", "error", "message"}, ...}}, ...}. */
#define CACHED_BUILDS 8

static void build_key(char key[17]) { snprintf(key, 17, "%016llx", (unsigned long long)build_hash()); }

static cJSON *read_cache(const char *path) {
    char *text = NULL;
    size_t bytes = 0;
    t2g_error ignored = {0};
    const t2g_read_cap cap = {1u << 20, NULL};
    if (!path[0] || t2g_file_read(path, "the self-check's verdicts", cap, &text, &bytes, &ignored)) return NULL;
    cJSON *root = cJSON_ParseWithLength(text, bytes);
    free(text);
    return root;
}

static bool from_cache(const cJSON *root, const char *build, t2g_variant_verdict *v) {
    const cJSON *verdicts = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, build), "verdicts");
    const cJSON *entry = cJSON_GetObjectItemCaseSensitive(verdicts, v->name);
    const cJSON *passed = cJSON_GetObjectItemCaseSensitive(entry, "passed");
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(entry, "error");
    const cJSON *message = cJSON_GetObjectItemCaseSensitive(entry, "message");
    if (!cJSON_IsBool(passed) || !cJSON_IsNumber(error) || !cJSON_IsString(message)) return false;
    v->passed = cJSON_IsTrue(passed);
    v->error = v->passed ? error->valuedouble : INFINITY;
    snprintf(v->message, sizeof v->message, "%s", message->valuestring);
    v->cached = true;
    return true;
}

static void write_cache(t2g_device *device, const char *path, cJSON *root, const char *build,
                        const t2g_variant_verdict *v, uint32_t n) {
    if (!path[0]) return;
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        root = cJSON_CreateObject();
    }
    cJSON *entry = cJSON_GetObjectItemCaseSensitive(root, build);
    if (!entry) {
        while (cJSON_GetArraySize(root) >= CACHED_BUILDS) cJSON_DeleteItemFromArray(root, 0); /* the oldest build */
        entry = cJSON_AddObjectToObject(root, build);
    }
    cJSON *verdicts = cJSON_GetObjectItemCaseSensitive(entry, "verdicts");
    if (!verdicts && entry) verdicts = cJSON_AddObjectToObject(entry, "verdicts");
    for (uint32_t i = 0; i < n && verdicts; i++) {
        cJSON *entry = cJSON_CreateObject();
        cJSON_AddBoolToObject(entry, "passed", v[i].passed);
        cJSON_AddNumberToObject(entry, "error", isfinite(v[i].error) ? v[i].error : 1e300);
        cJSON_AddStringToObject(entry, "message", v[i].message);
        cJSON_DeleteItemFromObjectCaseSensitive(verdicts, v[i].name);
        cJSON_AddItemToObject(verdicts, v[i].name, entry);
    }
    char *text = cJSON_Print(root);
    char dir[1100];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    t2g_error err = {0};
    if (!text || !t2g_make_dirs(dir) || t2g_atomic_write(path, text, strlen(text), &err))
        t2g_device_warn(device, "warning: the self-check's verdicts could not be saved to %s (%s); later runs check "
                                "again", path, err.message[0] ? err.message : "out of memory or no folder");
    cJSON_free(text);
    cJSON_Delete(root);
}

t2g_status t2g_variants_check(t2g_device *device, t2g_dtype dtype, bool use_cache, t2g_variant_verdict *verdicts,
                              uint32_t *count, t2g_error *err) {
    *count = 0;
    const t2g_device_info *info = t2g_device_get_info(device);
    if (!info->storage_16bit) return T2G_OK;
    char path[1100];
    t2g_variants_cache_path(device, path, sizeof path);
    cJSON *cache = read_cache(path);
    char build[17];
    build_key(build);
    bool corrupting = t2g_device_test_corrupted_variant(device)[0] != 0, ran = false;
    const t2g_dtype types[] = {T2G_DTYPE_BF16, T2G_DTYPE_F16};
    t2g_status status = T2G_OK;
    for (int t = 0; t < 2 && !status; t++) {
        if (dtype != T2G_DTYPE_COUNT && dtype != types[t]) continue;
        planned plan[MAX_PLANNED];
        uint32_t planned_count = plan_checks(device, types[t], plan);
        for (uint32_t p = 0; p < planned_count && !status && *count < T2G_MAX_VARIANT_VERDICTS; p++) {
            t2g_variant_verdict *v = &verdicts[(*count)++];
            *v = (t2g_variant_verdict){0};
            case_name(plan[p], types[t], v->name);
            v->optional = CASES[plan[p].c].kind == CASE_COOPMAT;
            if (t2g_device_variant_disabled(device, v->name)) { /* its first verdict stands */
                snprintf(v->message, sizeof v->message, "disabled by an earlier check on this device");
                v->error = INFINITY;
                continue;
            }
            if (use_cache && !corrupting && from_cache(cache, build, v)) continue;
            status = run_case(device, plan[p], types[t], v, err);
            ran = true;
        }
    }
    for (uint32_t i = 0; i < *count && !status; i++) {
        if (verdicts[i].passed || t2g_device_variant_disabled(device, verdicts[i].name)) continue;
        t2g_device_disable_variant(device, verdicts[i].name);
        t2g_device_warn(device, "warning: shader %s is disabled on %s (driver %s %s): against the f32 path, %s",
                        verdicts[i].name, info->name, info->driver_name, info->driver_info, verdicts[i].message);
    }
    if (!status && ran && !corrupting) write_cache(device, path, cache, build, verdicts, *count);
    else cJSON_Delete(cache);
    return status;
}
