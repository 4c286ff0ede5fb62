/* The self-check of the 16-bit shader variants (t2g/variants.h): on this device every variant
 * agrees with the f32 path; one whose results a driver bug corrupts (simulated by the test hook)
 * is disabled, named, and refused by the kernels and by a 16-bit model; verdicts come back from
 * the cache without running anything. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/read_file.h"
#include "kernels/decode.h"
#include "kernels/matmul_internal.h"
#include "t2g/gpt.h"
#include "t2g/variants.h"

static const t2g_variant_verdict *find(const t2g_variant_verdict *v, uint32_t count, const char *name) {
    for (uint32_t i = 0; i < count; i++)
        if (strcmp(v[i].name, name) == 0) return &v[i];
    return NULL;
}

/* The name of the tiled GEMM's variant for `types` ("bf16_bf16") on configuration `tiles`. */
static void gemm_variant(t2g_matmul_tiles tiles, const char *types, char name[64]) {
    snprintf(name, 64, "%s@%s", t2g_matmul_shader_name(t2g_matmul_tile_config_get(tiles)->shader), types);
}

T2G_CHECK(variants_selfcheck) {
    check_case_begin(ctx);
    const t2g_device_info *info = t2g_device_get_info(ctx->device);
    t2g_variant_verdict v[T2G_MAX_VARIANT_VERDICTS];
    uint32_t count = 0;
    if (!check_status(ctx, t2g_variants_check(ctx->device, T2G_DTYPE_BF16, false, v, &count, &ctx->err), "checking"))
        return ctx->failures;
    if (!info->storage_16bit) {
        check_true(ctx, count == 0, "a device without 16-bit storage has no variant to check");
        return ctx->failures;
    }
    bool all = count >= 11; /* convert, 2 GEMM pairs, 6 activations, the KV cache's 2; more with coopmat */
    for (uint32_t i = 0; i < count; i++) {
        all &= v[i].passed && !v[i].cached && strstr(v[i].name, "bf16") != NULL;
        check_log(ctx, "  %-28s %s, %.3g of the allowed difference%s%s", v[i].name, v[i].passed ? "ok" : "FAILED",
                  v[i].error, v[i].message[0] ? ": " : "", v[i].message);
    }
    check_true(ctx, all, "every bf16 variant agrees with the f32 path, run afresh (%u variants)", count);
    char decode_attention[64]; /* the variant of the configuration the device runs bf16 caches with */
    snprintf(decode_attention, sizeof decode_attention, "%s@bf16",
             t2g_decode_config_shader(t2g_decode_attention_choice(ctx->device)));
    check_true(ctx, find(v, count, "decode_store@bf16") && find(v, count, decode_attention),
               "the generator's KV-cache variants are checked too (decode_store@bf16, %s)", decode_attention);
    t2g_matmul_tiles tiled[T2G_MATMUL_SHADER_COUNT];
    uint32_t shaders = t2g_matmul_choosable_shaders(ctx->device, tiled);
    for (uint32_t s = 0; s < shaders; s++) {
        char both[64], weights[64];
        gemm_variant(tiled[s], "bf16_bf16", both);
        gemm_variant(tiled[s], "f32_bf16", weights);
        check_true(ctx, find(v, count, both) && find(v, count, weights),
                   "the GEMM's verdicts are named after the tiled shader the device may choose (%s, %s)", both, weights);
    }

    /* the verdicts again, from the cache (a cached verdict is never run) */
    char path[1100];
    t2g_variants_cache_path(ctx->device, path, sizeof path);
    t2g_variant_verdict again[T2G_MAX_VARIANT_VERDICTS];
    uint32_t again_count = 0;
    check_status(ctx, t2g_variants_check(ctx->device, T2G_DTYPE_BF16, true, again, &again_count, &ctx->err), "cached");
    bool cached = again_count == count && path[0] && access(path, R_OK) == 0;
    for (uint32_t i = 0; i < again_count && cached; i++) cached = again[i].cached && again[i].passed == v[i].passed;
    check_true(ctx, cached, "the verdicts come back from %s, not run again", path[0] ? path : "(no cache path)");

    /* the file keeps the last 8 builds: with 8 older ones in it, this build's verdicts (checked
     * again: not there) push out the oldest */
    FILE *file = path[0] ? fopen(path, "w") : NULL;
    if (file) {
        fputs("{", file);
        for (int b = 1; b <= 8; b++) fprintf(file, "%s\"%016x\": {\"verdicts\": {}}", b > 1 ? ", " : "", b);
        fputs("}", file);
        fclose(file);
    }
    check_status(ctx, t2g_variants_check(ctx->device, T2G_DTYPE_BF16, true, again, &again_count, &ctx->err), "again");
    char *text = NULL;
    size_t bytes = 0;
    const t2g_read_cap cap = {1u << 20, NULL};
    cJSON *root = path[0] && !t2g_file_read(path, "verdicts", cap, &text, &bytes, &ctx->err) ? cJSON_Parse(text) : NULL;
    const cJSON *first = root ? root->child : NULL, *last = cJSON_GetArrayItem(root, cJSON_GetArraySize(root) - 1);
    check_true(ctx, file && cJSON_GetArraySize(root) == 8 && first && strcmp(first->string, "0000000000000002") == 0 &&
                        last && cJSON_GetObjectItem(cJSON_GetObjectItem(last, "verdicts"), "convert@bf16") &&
                        !again[0].cached,
               "a ninth build's verdicts replace the oldest build's (%d builds in the file)", cJSON_GetArraySize(root));
    cJSON_Delete(root);
    free(text);
    return ctx->failures;
}

T2G_CHECK(variants_disable) {
    check_case_begin(ctx);
    if (!t2g_device_get_info(ctx->device)->storage_16bit) return ctx->failures;
    /* the variant of the tiled shader that the 8 x 8 x 8 products below run on */
    t2g_matmul_tiles tiles = t2g_matmul_choose_tiles(ctx->device, 8, 8, 8);
    char bad[64], f32_weights[64];
    gemm_variant(tiles, "bf16_bf16", bad);
    gemm_variant(tiles, "f32_bf16", f32_weights);
    t2g_device_test_corrupt_variant(ctx->device, bad);
    t2g_variant_verdict v[T2G_MAX_VARIANT_VERDICTS];
    uint32_t count = 0;
    check_status(ctx, t2g_variants_check(ctx->device, T2G_DTYPE_BF16, true, v, &count, &ctx->err), "checking");
    const t2g_variant_verdict *gemm = find(v, count, bad), *other = find(v, count, f32_weights);
    check_true(ctx, gemm && !gemm->passed && !gemm->cached && strstr(gemm->message, "element") && gemm->error > 1,
               "a corrupted variant (%s) fails afresh, even with the cache asked for (%s)", bad,
               gemm ? gemm->message : "missing");
    check_true(ctx, other && other->passed, "the other variants still pass");
    check_true(ctx, t2g_device_variant_disabled(ctx->device, bad), "the failed variant is disabled on the device");

    /* the kernels refuse it by name, before recording anything */
    float ones[64];
    for (int i = 0; i < 64; i++) ones[i] = 1.0f;
    t2g_tensor a = check_upload(ctx, ones, 64), out = check_upload(ctx, ones, 64);
    t2g_tensor a16 = {0}, b16 = {0};
    t2g_tensor_alloc_typed(ctx->arena, T2G_DTYPE_BF16, 64, &a16, &ctx->err);
    t2g_tensor_alloc_typed(ctx->arena, T2G_DTYPE_BF16, 64, &b16, &ctx->err);
    uint64_t dispatches = t2g_recorder_dispatch_count(ctx->recorder);
    t2g_status status = t2g_matmul_forward(ctx->recorder, out, a16, b16, NULL, 8, 8, 8, &ctx->err);
    check_true(ctx, status == T2G_ERR_UNSUPPORTED && strstr(ctx->err.message, bad) &&
                        t2g_recorder_dispatch_count(ctx->recorder) == dispatches,
               "the disabled variant is refused by name (%s)", ctx->err.message);
    status = t2g_matmul_forward(ctx->recorder, out, a, b16, NULL, 8, 8, 8, &ctx->err);
    check_true(ctx, status == T2G_OK, "an enabled variant still records (%s)", status ? ctx->err.message : "ok");
    check_submit(ctx);

    /* a bf16 model is refused, naming the variant; f32 is unaffected */
    t2g_model_config config = T2G_MODEL_GPT2(259, 11, 1, 2, 16);
    config.precision = T2G_PRECISION_BF16;
    t2g_gpt *gpt = NULL;
    status = t2g_gpt_create(ctx->device, &config, 2, 5, &gpt, &ctx->err);
    check_true(ctx, status == T2G_ERR_UNSUPPORTED && !gpt && strstr(ctx->err.message, bad) &&
                        strstr(ctx->err.message, "bf16"),
               "a bf16 model is refused, naming the disabled variant (%s)", ctx->err.message);
    config.precision = T2G_PRECISION_F32;
    check_status(ctx, t2g_gpt_create(ctx->device, &config, 2, 5, &gpt, &ctx->err), "an f32 model");
    t2g_gpt_destroy(gpt);
    t2g_device_test_corrupt_variant(ctx->device, NULL);
    check_true(ctx, !t2g_device_variant_disabled(ctx->device, bad), "clearing the hook forgets the verdict");

    /* the tiled shader of products of 300 rows (cpu_panels on a CPU device: its verdict is its
     * packing's variants together) is refused by name too */
    char many_rows[64];
    gemm_variant(t2g_matmul_choose_tiles(ctx->device, 300, 8, 8), "bf16_bf16", many_rows);
    t2g_device_test_corrupt_variant(ctx->device, many_rows);
    check_status(ctx, t2g_variants_check(ctx->device, T2G_DTYPE_BF16, true, v, &count, &ctx->err), "checking again");
    t2g_tensor rows16 = {0}, rows_out = {0};
    t2g_tensor_alloc_typed(ctx->arena, T2G_DTYPE_BF16, 300 * 8, &rows16, &ctx->err);
    t2g_tensor_alloc_f32(ctx->arena, 300 * 8, &rows_out, &ctx->err);
    dispatches = t2g_recorder_dispatch_count(ctx->recorder);
    status = t2g_matmul_forward(ctx->recorder, rows_out, rows16, b16, NULL, 300, 8, 8, &ctx->err);
    check_true(ctx, status == T2G_ERR_UNSUPPORTED && strstr(ctx->err.message, many_rows) &&
                        t2g_recorder_dispatch_count(ctx->recorder) == dispatches,
               "a disabled variant of the shader of many rows is refused by name (%s)", ctx->err.message);
    t2g_device_test_corrupt_variant(ctx->device, NULL);
    ctx->err.message[0] = 0;
    return ctx->failures;
}
