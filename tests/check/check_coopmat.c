/* The cooperative-matrix GEMM (shaders/matmul_coopmat.comp): which devices get it (a pure
 * function of t2g_device_info, checked on made-up devices), that a device without it neither
 * runs it nor self-checks it, and on a device with it, its products against tests/ref/matmul.c. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "kernels/matmul_internal.h"
#include "ref/ref.h"
#include "t2g/variants.h"
#include "vk/shaders.h"

#define COOPMAT_SHADER "matmul_coopmat@f16_f16"

/* A made-up device with everything the f16 16 x 16 x 16 GEMM needs, as an H200 reports it. */
static t2g_device_info capable_device(void) {
    t2g_device_info info = {.api_version = (1u << 22) | (3u << 12), .subgroup_size = 32, .min_subgroup_size = 32,
                            .max_subgroup_size = 32, .max_shared_memory_bytes = 49152,
                            .max_workgroup_invocations = 1024, .fp16 = true, .storage_16bit = true,
                            .vulkan_memory_model = true, .cooperative_matrix = true, .coopmat_shape_count = 3};
    snprintf(info.name, sizeof info.name, "made-up GPU");
    info.coopmat_shapes[0] = (t2g_coopmat_shape){16, 8, 16, "f16", "f16", "f32", "f32", true};
    info.coopmat_shapes[1] = (t2g_coopmat_shape){16, 16, 16, "bf16", "bf16", "f32", "f32", true};
    info.coopmat_shapes[2] = (t2g_coopmat_shape){16, 16, 16, "f16", "f16", "f32", "f32", true};
    return info;
}

/* Whether `info`, once t2g_device_info_choose_coopmat has looked at it, gets the coopmat GEMM
 * for f16 x f16. */
static bool chooses_coopmat(t2g_device_info info) {
    t2g_device_info_choose_coopmat(&info);
    return t2g_matmul_use_coopmat(&info, T2G_DTYPE_F16, T2G_DTYPE_F16);
}

T2G_HOST_CHECK(coopmat_selection) {
    check_case_begin(ctx);
    bool embedded = t2g_shader_find(COOPMAT_SHADER) != NULL;
    check_log(ctx, "  %s is %s in this build", COOPMAT_SHADER, embedded ? "embedded" : "not embedded");
    t2g_device_info info = capable_device();
    t2g_device_info_choose_coopmat(&info);
    check_true(ctx, info.coopmat_f16_16x16x16 == embedded,
               "a device reporting the f16 16x16x16 subgroup shape runs the coopmat GEMM exactly when it is embedded");
    check_true(ctx, t2g_matmul_use_coopmat(&info, T2G_DTYPE_F16, T2G_DTYPE_F16) == embedded, "f16 x f16 products use it");
    const t2g_dtype others[][2] = {{T2G_DTYPE_BF16, T2G_DTYPE_BF16}, {T2G_DTYPE_F32, T2G_DTYPE_F16},
                                   {T2G_DTYPE_F16, T2G_DTYPE_F32}, {T2G_DTYPE_F32, T2G_DTYPE_F32},
                                   {T2G_DTYPE_F32, T2G_DTYPE_BF16}};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        check_true(ctx, !t2g_matmul_use_coopmat(&info, others[i][0], others[i][1]), "%s x %s products do not",
                   t2g_dtype_name(others[i][0]), t2g_dtype_name(others[i][1]));

    /* each thing the kernel needs, taken away: never chosen */
    t2g_device_info lacking[11];
    for (size_t i = 0; i < 11; i++) lacking[i] = capable_device();
    lacking[0].coopmat_shapes[2].result_type = "f16";      /* f16 accumulators only */
    lacking[1].coopmat_shapes[2].subgroup_scope = false;   /* a workgroup-scope shape */
    lacking[2].coopmat_shapes[2].k = 8;                    /* 16 x 16 x 8 */
    lacking[3].coopmat_shape_count = 2;                    /* the shape not reported */
    lacking[4].cooperative_matrix = false;
    lacking[5].api_version = (1u << 22) | (2u << 12);      /* Vulkan 1.2: no SPIR-V 1.6 */
    lacking[6].fp16 = false;
    lacking[7].vulkan_memory_model = false;
    lacking[8].storage_16bit = false;
    lacking[9].max_subgroup_size = 512;                    /* 4 subgroups of 512 > 1024 invocations */
    lacking[10].max_shared_memory_bytes = 8192;            /* the kernel's 13.5 KiB do not fit */
    for (size_t i = 0; i < 11; i++)
        check_true(ctx, !chooses_coopmat(lacking[i]), "made-up device %zu, lacking one requirement, does not use it", i);
    return ctx->failures;
}

/* out (N,OC) = inp (N,C) weight (OC,C)^T + bias on f16 inp and weight, through `tiles`; with a
 * residual (N,OC) (not NULL), plus it, in the GEMM's outputs (t2g_matmul_forward_residual). */
static float *forward_f16(check_ctx *ctx, t2g_matmul_tiles tiles, const float *inp, const float *weight,
                          const float *bias, const float *residual, int N, int C, int OC) {
    size_t nin = (size_t)N * C, nw = (size_t)OC * C, nout = (size_t)N * OC;
    uint16_t *inp16 = check_host(ctx, nin * 2), *weight16 = check_host(ctx, nw * 2);
    for (size_t i = 0; i < nin; i++) inp16[i] = t2g_f32_to_f16(inp[i]);
    for (size_t i = 0; i < nw; i++) weight16[i] = t2g_f32_to_f16(weight[i]);
    t2g_tensor inp_t = {0}, weight_t = {0};
    check_status(ctx, t2g_tensor_alloc_typed(ctx->arena, T2G_DTYPE_F16, nin, &inp_t, &ctx->err), "inp");
    check_status(ctx, t2g_tensor_alloc_typed(ctx->arena, T2G_DTYPE_F16, nw, &weight_t, &ctx->err), "weight");
    check_status(ctx, t2g_tensor_upload(inp_t, inp16, nin * 2, &ctx->err), "inp");
    check_status(ctx, t2g_tensor_upload(weight_t, weight16, nw * 2, &ctx->err), "weight");
    t2g_tensor bias_t = check_upload(ctx, bias, OC), out = check_poisoned(ctx, nout);
    t2g_status status = residual ? t2g_matmul_forward_residual_tiles(ctx->recorder, tiles, out,
                                                                     check_upload(ctx, residual, nout), inp_t, weight_t,
                                                                     &bias_t, N, C, OC, &ctx->err)
                                 : t2g_matmul_forward_tiles(ctx->recorder, tiles, out, inp_t, weight_t, &bias_t, N, C,
                                                            OC, &ctx->err);
    check_status(ctx, status, "recording");
    check_submit(ctx);
    return check_download(ctx, out, nout);
}

/* On a device with the coopmat GEMM: its products against the reference on the same f16 values,
 * within K x 2^-23 of the products' magnitude (each output's, here as a norm), bitwise the same
 * run to run, and what the automatic choice runs; with the residual added in its outputs, the
 * product plus the residual, bitwise (one f32 add each). */
static void coopmat_case(check_ctx *ctx, int N, int C, int OC) {
    check_case_begin(ctx);
    size_t nin = (size_t)N * C, nw = (size_t)OC * C, nout = (size_t)N * OC;
    float *inp = check_random_floats(ctx, nin, -1, 1), *weight = check_random_floats(ctx, nw, -1, 1);
    float *bias = check_random_floats(ctx, OC, -1, 1);
    for (size_t i = 0; i < nin; i++) inp[i] = t2g_f16_to_f32(t2g_f32_to_f16(inp[i]));
    for (size_t i = 0; i < nw; i++) weight[i] = t2g_f16_to_f32(t2g_f32_to_f16(weight[i]));
    float *residual = check_random_floats(ctx, nout, -2, 2);
    float *first = forward_f16(ctx, T2G_MATMUL_TILES_COOPMAT, inp, weight, bias, NULL, N, C, OC);
    float *again = forward_f16(ctx, T2G_MATMUL_TILES_COOPMAT, inp, weight, bias, NULL, N, C, OC);
    float *automatic = forward_f16(ctx, T2G_MATMUL_TILES_AUTO, inp, weight, bias, NULL, N, C, OC);
    float *fused = forward_f16(ctx, T2G_MATMUL_TILES_COOPMAT, inp, weight, bias, residual, N, C, OC);
    double *ref = check_doubles(ctx, nout), *magnitude = check_doubles(ctx, nout);
    double *inp_d = check_to_double(ctx, inp, nin), *weight_d = check_to_double(ctx, weight, nw);
    double *bias_d = check_to_double(ctx, bias, OC);
    ref_matmul_forward(ref, inp_d, weight_d, bias_d, N, C, OC);
    ref_matmul_forward(magnitude, check_abs(ctx, inp_d, nin), check_abs(ctx, weight_d, nw), check_abs(ctx, bias_d, OC),
                       N, C, OC);
    char label[96];
    snprintf(label, sizeof label, "coopmat forward N=%d C=%d OC=%d", N, C, OC);
    if (!first || !again || !automatic || !fused) return;
    check_close_scaled(ctx, label, first, ref, nout, check_norm(magnitude, nout), C * 0x1p-23);
    check_bitwise(ctx, "coopmat twice", first, again, nout);
    check_bitwise(ctx, "the automatic choice is the coopmat GEMM", first, automatic, nout);
    float *plus = check_host(ctx, nout * sizeof(float));
    for (size_t i = 0; i < nout; i++) plus[i] = residual[i] + first[i];
    check_bitwise(ctx, "coopmat with the residual added in its outputs", plus, fused, nout);
}

T2G_CHECK(coopmat_matmul) {
    check_case_begin(ctx);
    const t2g_device_info *info = t2g_device_get_info(ctx->device);
    bool runs = t2g_matmul_use_coopmat(info, T2G_DTYPE_F16, T2G_DTYPE_F16);
    check_log(ctx, "  %s %s the cooperative-matrix GEMM", info->name, runs ? "has" : "does not have");

    /* the self-check of f16 checks it exactly where the device has it (no verdict elsewhere) */
    t2g_variant_verdict v[T2G_MAX_VARIANT_VERDICTS];
    uint32_t count = 0;
    check_status(ctx, t2g_variants_check(ctx->device, T2G_DTYPE_F16, true, v, &count, &ctx->err), "self-check");
    const t2g_variant_verdict *verdict = NULL;
    for (uint32_t i = 0; i < count; i++)
        if (strstr(v[i].name, "matmul_coopmat")) verdict = &v[i];
    check_true(ctx, runs ? verdict && verdict->passed : !verdict, "the self-check %s (%s)",
               runs ? "passes the coopmat GEMM" : "has no verdict on the coopmat GEMM",
               verdict ? verdict->message : "no verdict");
    if (!runs && info->storage_16bit) {
        /* asked for anyway, it is refused before anything is recorded */
        t2g_tensor a = {0}, out = check_poisoned(ctx, 64);
        check_status(ctx, t2g_tensor_alloc_typed(ctx->arena, T2G_DTYPE_F16, 64, &a, &ctx->err), "a");
        uint64_t dispatches = t2g_recorder_dispatch_count(ctx->recorder);
        t2g_status status = t2g_matmul_forward_tiles(ctx->recorder, T2G_MATMUL_TILES_COOPMAT, out, a, a, NULL, 8, 8, 8,
                                                     &ctx->err);
        check_true(ctx, status == T2G_ERR_UNSUPPORTED && t2g_recorder_dispatch_count(ctx->recorder) == dispatches,
                   "the coopmat GEMM is refused on %s (%s)", info->name, ctx->err.message);
        ctx->err.message[0] = 0;
    }
    if (!runs) return ctx->failures;
    /* odd shapes: ragged edges in every dimension, one and several 64 x 64 tiles and K slices */
    const int shapes[][3] = {{1, 1, 1}, {37, 45, 29}, {64, 64, 64}, {130, 75, 67}, {200, 33, 130}, {5, 300, 3}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        coopmat_case(ctx, shapes[s][0], shapes[s][1], shapes[s][2]);
        if (ctx->quick) break;
    }
    return ctx->failures;
}
