#include "check.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct check_host_block {
    check_host_block *next;
    _Alignas(16) unsigned char data[];
};

const check_entry *check_find(const char *name) {
    for (size_t i = 0; i < t2g_check_count; i++)
        if (strcmp(t2g_checks[i].name, name) == 0) return &t2g_checks[i];
    return NULL;
}

void check_log(check_ctx *ctx, const char *format, ...) {
    if (!ctx->out) return;
    va_list args;
    va_start(args, format);
    vfprintf(ctx->out, format, args);
    va_end(args);
    fputc('\n', ctx->out);
    fflush(ctx->out);
}

void check_fail(check_ctx *ctx, const char *format, ...) {
    va_list args;
    va_start(args, format);
    fputs("FAIL: ", stderr);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
    ctx->failures++;
}

bool check_status(check_ctx *ctx, t2g_status status, const char *what) {
    if (status == T2G_OK) return true;
    check_fail(ctx, "%s: %s (%s)", what, ctx->err.message, t2g_status_name(status));
    return false;
}

bool check_begin(check_ctx *ctx, t2g_device *device, uint64_t seed, uint64_t arena_bytes, bool quick, FILE *out) {
    memset(ctx, 0, sizeof *ctx);
    ctx->device = device;
    ctx->seed = seed;
    ctx->rng.state = seed ^ 0x9E3779B97F4A7C15ull;
    ctx->quick = quick;
    ctx->out = out;
    if (!check_status(ctx, t2g_arena_create(device, arena_bytes, "check", &ctx->arena, &ctx->err), "creating the test arena"))
        return false;
    return check_status(ctx, t2g_recorder_create(device, NULL, &ctx->recorder, &ctx->err), "creating the recorder");
}

static void free_host(check_ctx *ctx) {
    while (ctx->host) {
        check_host_block *next = ctx->host->next;
        free(ctx->host);
        ctx->host = next;
    }
}

void check_end(check_ctx *ctx) {
    free_host(ctx);
    t2g_recorder_destroy(ctx->recorder);
    t2g_arena_destroy(ctx->arena);
    ctx->recorder = NULL;
    ctx->arena = NULL;
}

void check_case_begin(check_ctx *ctx) {
    free_host(ctx);
    /* What an earlier case recorded and left unsubmitted (it returned early after a failure)
     * runs now, before its tensors' memory is handed out again: it would otherwise run with the
     * next submission and write into this case's tensors. Its failure was reported already. */
    if (ctx->recorder) {
        t2g_error ignored = {0};
        (void)t2g_recorder_submit(ctx->recorder, &ignored);
    }
    if (ctx->arena) t2g_arena_reset(ctx->arena);
}

/* ---- random numbers: t2g's splitmix64 (t2g/rng.h) ---- */

uint64_t check_random_u64(check_ctx *ctx) { return t2g_rng_u64(&ctx->rng); }

double check_uniform(check_ctx *ctx, double lo, double hi) {
    double unit = (double)(check_random_u64(ctx) >> 11) * 0x1.0p-53;
    return lo + (hi - lo) * unit;
}

double check_normal(check_ctx *ctx) {
    double u1 = check_uniform(ctx, 0x1.0p-53, 1.0), u2 = check_uniform(ctx, 0.0, 1.0);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

uint32_t check_random_below(check_ctx *ctx, uint32_t n) { return (uint32_t)(check_random_u64(ctx) % n); }

/* ---- host memory ---- */

void *check_host(check_ctx *ctx, size_t bytes) {
    check_host_block *block = calloc(1, sizeof *block + (bytes ? bytes : 1));
    if (!block) {
        fprintf(stderr, "FAIL: out of host memory (%zu bytes)\n", bytes);
        exit(1);
    }
    block->next = ctx->host;
    ctx->host = block;
    return block->data;
}

float *check_random_floats(check_ctx *ctx, size_t n, double lo, double hi) {
    float *x = check_host(ctx, n * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = (float)check_uniform(ctx, lo, hi);
    return x;
}

float *check_normal_floats(check_ctx *ctx, size_t n, double std) {
    float *x = check_host(ctx, n * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = (float)(std * check_normal(ctx));
    return x;
}

uint32_t *check_random_tokens(check_ctx *ctx, size_t n, uint32_t below) {
    uint32_t *x = check_host(ctx, n * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = check_random_below(ctx, below);
    return x;
}

double *check_to_double(check_ctx *ctx, const float *x, size_t n) {
    double *d = check_host(ctx, n * sizeof *d);
    for (size_t i = 0; i < n; i++) d[i] = x[i];
    return d;
}

double *check_doubles(check_ctx *ctx, size_t n) { return check_host(ctx, n * sizeof(double)); }

double *check_abs(check_ctx *ctx, const double *x, size_t n) {
    double *a = check_host(ctx, n * sizeof *a);
    for (size_t i = 0; i < n; i++) a[i] = fabs(x[i]);
    return a;
}

double check_norm(const double *x, size_t n) {
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += x[i] * x[i];
    return sqrt(sum);
}

/* ---- device memory ---- */

t2g_tensor check_upload(check_ctx *ctx, const void *data, size_t n32) {
    t2g_tensor t;
    if (!check_status(ctx, t2g_tensor_alloc_f32(ctx->arena, n32, &t, &ctx->err), "allocating a test tensor"))
        return (t2g_tensor){0};
    check_reupload(ctx, t, data, n32);
    return t;
}

const check_texel_way check_texel_ways[CHECK_TEXEL_WAYS] = {
    {0, 0, "own tensors"},
    {256, 0, "slices read through views that start before them"},
    {256, 4, "slices too large for a view (scalar loads)"},
};

t2g_tensor check_upload_after_nans(check_ctx *ctx, const float *x, size_t n, size_t pad) {
    float *padded = check_host(ctx, (pad + n) * sizeof *padded);
    for (size_t e = 0; e < pad; e++) padded[e] = NAN;
    memcpy(padded + pad, x, n * sizeof *padded);
    return t2g_tensor_slice(check_upload(ctx, padded, pad + n), pad, n);
}

t2g_tensor check_upload_for_way(check_ctx *ctx, int way, const float *x, size_t n, size_t pad) {
    return way ? check_upload_after_nans(ctx, x, n, pad) : check_upload(ctx, x, n);
}

/* The floats a slice is put after: the device's storage-buffer offset alignment, so that a view of
 * 256-byte alignment starts before it; 0, after a log line naming `what`, where none can. */
static size_t texel_pad(check_ctx *ctx, const char *what) {
    const t2g_device_info *info = t2g_device_get_info(ctx->device);
    size_t pad = info->min_storage_buffer_offset_alignment / 4;
    if (pad == 0 || pad % 4 || 4 * pad >= 256) {
        check_log(ctx, "%s: storage-buffer offsets on %u bytes leave no slice a view of 256 bytes starts before; "
                  "skipped", what, info->min_storage_buffer_offset_alignment);
        return 0;
    }
    return pad;
}

bool check_texel_ways_case(check_ctx *ctx, const char *what, const char *const *names, const size_t *counts,
                           int outputs, check_way_fn record, void *user,
                           float *got[CHECK_TEXEL_WAYS][CHECK_WAY_OUTPUTS]) {
    size_t pad = texel_pad(ctx, what);
    if (!pad) return false;
    for (int w = 0; w < CHECK_TEXEL_WAYS && !ctx->failures; w++) {
        const check_texel_way *way = &check_texel_ways[w];
        t2g_tensor outs[CHECK_WAY_OUTPUTS] = {{0}};
        t2g_status status = t2g_device_test_limit_texels(ctx->device, way->alignment, way->texels, &ctx->err);
        if (!status) status = record(ctx, w, pad, user, outs);
        if (check_status(ctx, status, way->what) && check_submit(ctx))
            for (int k = 0; k < outputs; k++) got[w][k] = check_download(ctx, outs[k], counts[k]);
    }
    t2g_device_test_limit_texels(ctx->device, 0, 0, &ctx->err);
    if (ctx->failures) return false;
    for (int w = 1; w < CHECK_TEXEL_WAYS; w++)
        for (int k = 0; k < outputs; k++) {
            char label[200];
            snprintf(label, sizeof label, "%s %s, %s, against own tensors", what, names[k], check_texel_ways[w].what);
            check_bitwise(ctx, label, got[0][k], got[w][k], counts[k]);
        }
    return true;
}

void check_reupload(check_ctx *ctx, t2g_tensor tensor, const void *data, size_t n32) {
    check_status(ctx, t2g_tensor_upload(tensor, data, n32 * 4, &ctx->err), "uploading a test tensor");
}

static float *nan_floats(check_ctx *ctx, size_t n) {
    float *x = check_host(ctx, n * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = NAN;
    return x;
}

t2g_tensor check_poisoned(check_ctx *ctx, size_t n32) { return check_upload(ctx, nan_floats(ctx, n32), n32); }

void check_poison(check_ctx *ctx, t2g_tensor tensor, size_t n32) { check_reupload(ctx, tensor, nan_floats(ctx, n32), n32); }

float *check_download(check_ctx *ctx, t2g_tensor tensor, size_t n) {
    float *x = nan_floats(ctx, n);
    check_status(ctx, t2g_tensor_download(tensor, x, n * 4, &ctx->err), "downloading a test tensor");
    return x;
}

bool check_submit(check_ctx *ctx) {
    return check_status(ctx, t2g_recorder_submit(ctx->recorder, &ctx->err), "running the recorded kernels");
}

/* ---- comparisons ---- */

/* ||gpu - ref|| / scale, or -1 (and a failure) if gpu holds a NaN. */
static double relative_error(check_ctx *ctx, const char *label, const float *gpu, const double *ref, size_t n,
                             double scale) {
    double diff = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(gpu[i])) {
            check_fail(ctx, "%s: element %zu of %zu is NaN (unwritten or invalid; reference %.6g)", label, i, n, ref[i]);
            return -1;
        }
        double d = (double)gpu[i] - ref[i];
        diff += d * d;
    }
    return scale > 0 ? sqrt(diff) / scale : sqrt(diff);
}

bool check_close_scaled(check_ctx *ctx, const char *label, const float *gpu, const double *ref, size_t n, double scale,
                        double tolerance) {
    ctx->comparisons++;
    double error = relative_error(ctx, label, gpu, ref, n, scale);
    if (error < 0) return false;
    if (error > ctx->worst_error || ctx->worst_label[0] == 0) {
        ctx->worst_error = error;
        snprintf(ctx->worst_label, sizeof ctx->worst_label, "%s", label);
    }
    bool ok = error <= tolerance && !isnan(error);
    check_log(ctx, "  %-58s rel err %.2e (tol %.0e) %s", label, error, tolerance, ok ? "ok" : "FAIL");
    if (!ok) check_fail(ctx, "%s: relative error %.3e > %.0e over %zu elements", label, error, tolerance, n);
    return ok;
}

bool check_close(check_ctx *ctx, const char *label, const float *gpu, const double *ref, size_t n, double tolerance) {
    return check_close_scaled(ctx, label, gpu, ref, n, check_norm(ref, n), tolerance);
}

bool check_bitwise(check_ctx *ctx, const char *label, const float *a, const float *b, size_t n) {
    ctx->comparisons++;
    for (size_t i = 0; i < n; i++) {
        if (memcmp(&a[i], &b[i], sizeof a[i]) != 0) {
            check_fail(ctx, "%s: run 1 and run 2 differ at element %zu of %zu (%.9g vs %.9g)", label, i, n, a[i], b[i]);
            return false;
        }
    }
    check_log(ctx, "  %-58s bitwise identical twice", label);
    return true;
}

bool check_expect(check_ctx *ctx, bool condition, const char *format, ...) {
    if (condition) return true;
    char text[1024];
    va_list args;
    va_start(args, format);
    vsnprintf(text, sizeof text, format, args);
    va_end(args);
    check_fail(ctx, "%s", text);
    return false;
}

bool check_true(check_ctx *ctx, bool condition, const char *format, ...) {
    char text[512];
    va_list args;
    va_start(args, format);
    vsnprintf(text, sizeof text, format, args);
    va_end(args);
    ctx->comparisons++;
    check_log(ctx, "  %-58s %s", text, condition ? "ok" : "FAIL");
    if (!condition) check_fail(ctx, "%s", text);
    return condition;
}

bool check_refused(check_ctx *ctx, t2g_status status, const char *kernel, const char *what) {
    return check_true(ctx, status == T2G_ERR_ARGUMENT, "%s: %s is refused (%s)", kernel, what,
                      status ? ctx->err.message : "accepted");
}

bool check_finite_differences(check_ctx *ctx, const char *label, check_loss_fn loss, void *user, double *params,
                              const double *analytic, size_t n, size_t samples, double tolerance) {
    if (ctx->quick) return true;
    const double h = 1e-6;
    double worst = 0;
    size_t count = samples < n ? samples : n;
    for (size_t s = 0; s < count; s++) {
        size_t i = samples < n ? check_random_below(ctx, (uint32_t)n) : s;
        double saved = params[i];
        params[i] = saved + h;
        double plus = loss(user);
        params[i] = saved - h;
        double minus = loss(user);
        params[i] = saved;
        double fd = (plus - minus) / (2 * h);
        double error = fabs(fd - analytic[i]) / (1 + fabs(analytic[i]));
        if (error > worst) worst = error;
        if (!(error <= tolerance)) {
            ctx->comparisons++;
            check_fail(ctx, "%s: finite difference %.9g vs reference backward %.9g at element %zu", label, fd, analytic[i], i);
            return false;
        }
    }
    ctx->comparisons++;
    check_log(ctx, "  %-58s fd err %.2e (tol %.0e) ok, %zu coords", label, worst, tolerance, count);
    return true;
}

const char *check_source_dir(void) {
    static char dir[4096];
    const char *env = getenv("T2G_SOURCE_DIR");
    if (env && *env) return env;
    snprintf(dir, sizeof dir, "%s", __FILE__);
    char *cut = strstr(dir, "/tests/check/check.c");
    if (cut)
        *cut = 0;
    else
        snprintf(dir, sizeof dir, ".");
    return dir;
}

t2g_model_config check_small_llama(uint32_t context) {
    t2g_model_config m = T2G_MODEL_GPT2(259, context, 2, 4, 32);
    m.arch = T2G_ARCH_LLAMA;
    m.kv_heads = 2;
    m.ffn_width = 44;
    m.qkv_bias = 1;
    m.tied_head = 0;
    m.norm_eps = 1e-6;
    return m;
}
