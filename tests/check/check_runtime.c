/* The runtime itself: barriers from hazard tracking, limits and error messages, timestamps,
 * recorded updates, scratch memory and the on-disk pipeline cache. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static float *constant_floats(check_ctx *ctx, size_t n, float value) {
    float *x = check_host(ctx, n * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = value;
    return x;
}

static bool all_equal(const float *x, size_t n, float value) {
    for (size_t i = 0; i < n; i++)
        if (x[i] != value) return false;
    return true;
}

T2G_CHECK(runtime_barriers) {
    check_case_begin(ctx);
    const size_t n = 1000;
    t2g_tensor a = check_poisoned(ctx, n), b = check_poisoned(ctx, n), c = check_poisoned(ctx, n);
    t2g_recorder *rec = ctx->recorder;
    uint64_t barriers = t2g_recorder_barrier_count(rec);
    /* Two independent fills need no barrier between them; a + b reads both (one barrier); the
     * copy reads what the add wrote (one more); a fill of c then overwrites what the copy wrote
     * (a write after write: one more). */
    check_status(ctx, t2g_fill(rec, a, n, 1.0f, &ctx->err), "fill a");
    check_status(ctx, t2g_fill(rec, b, n, 2.0f, &ctx->err), "fill b");
    uint64_t after_fills = t2g_recorder_barrier_count(rec) - barriers;
    check_status(ctx, t2g_axpby(rec, a, b, n, 1.0f, 1.0f, &ctx->err), "a += b");
    check_status(ctx, t2g_copy(rec, c, a, n, &ctx->err), "c = a");
    check_status(ctx, t2g_axpby(rec, c, c, n, 0.5f, 1.0f, &ctx->err), "c += 0.5 c");
    check_submit(ctx);
    uint64_t total = t2g_recorder_barrier_count(rec) - barriers;
    check_true(ctx, after_fills == 0, "independent dispatches get no barrier (%llu)", (unsigned long long)after_fills);
    check_true(ctx, total == 3, "a chain of 3 dependent dispatches gets 3 barriers (%llu)", (unsigned long long)total);
    float *av = check_download(ctx, a, n), *cv = check_download(ctx, c, n);
    check_true(ctx, all_equal(av, n, 3.0f) && all_equal(cv, n, 4.5f),
               "the chain's results are right after one submission (a=%g, c=%g)", av[0], cv[0]);

    /* Many dependent steps in one submission: x += 1, 200 times. */
    check_case_begin(ctx);
    t2g_tensor x = check_upload(ctx, constant_floats(ctx, n, 0.0f), n), one = check_upload(ctx, constant_floats(ctx, n, 1.0f), n);
    for (int i = 0; i < 200; i++) check_status(ctx, t2g_axpby(rec, x, one, n, 1.0f, 1.0f, &ctx->err), "x += 1");
    check_submit(ctx);
    float *xv = check_download(ctx, x, n);
    check_true(ctx, all_equal(xv, n, 200.0f), "200 dependent dispatches in one submission give 200 (got %g)", xv[0]);
    return ctx->failures;
}

T2G_CHECK(runtime_limits) {
    check_case_begin(ctx);
    const t2g_device_info *info = t2g_device_get_info(ctx->device);
    /* A tensor beyond one binding (the range lowered by the test hook) is allocated; a kernel that
     * does not split its tensors refuses it, naming itself and the tensor's arena. */
    t2g_tensor t;
    check_status(ctx, t2g_device_limit_binding(ctx->device, 4096, &ctx->err), "lowering the binding range");
    t2g_status status = t2g_tensor_alloc_f32(ctx->arena, 2048, &t, &ctx->err);
    check_true(ctx, status == T2G_OK, "a tensor beyond the storage-buffer range is allocated (%s)", t2g_status_name(status));
    status = t2g_gelu_forward(ctx->recorder, t, t, 2048, &ctx->err);
    check_true(ctx, status == T2G_ERR_TOO_LARGE && strstr(ctx->err.message, "gelu_forward") &&
                        strstr(ctx->err.message, "arena 'check'") && strstr(ctx->err.message, "max storage-buffer range"),
               "a kernel that does not split refuses a tensor beyond one binding: %s", ctx->err.message);
    status = t2g_device_limit_binding(ctx->device, 100, &ctx->err);
    check_true(ctx, status == T2G_ERR_ARGUMENT, "a binding limit under 1024 bytes is refused: %s", ctx->err.message);
    check_status(ctx, t2g_device_limit_binding(ctx->device, 0, &ctx->err), "restoring the binding range");
    check_true(ctx, info->max_storage_buffer_range > 4096, "the device's own range is back (%llu bytes)",
               (unsigned long long)info->max_storage_buffer_range);
    /* The texel-view test hook takes only what the device could report itself. */
    uint32_t texel_alignment = info->min_texel_buffer_offset_alignment;
    uint64_t texel_elements = info->max_texel_buffer_elements;
    status = t2g_device_test_limit_texels(ctx->device, 3 * texel_alignment, 0, &ctx->err);
    check_true(ctx, status == T2G_ERR_ARGUMENT, "a texel alignment not a power of two is refused: %s", ctx->err.message);
    status = t2g_device_test_limit_texels(ctx->device, 0, texel_elements + 1, &ctx->err);
    check_true(ctx, status == T2G_ERR_ARGUMENT, "more texels than the device's views hold are refused: %s",
               ctx->err.message);
    check_status(ctx, t2g_device_test_limit_texels(ctx->device, 256, 7, &ctx->err), "limiting texel views");
    check_true(ctx, info->min_texel_buffer_offset_alignment == (texel_alignment > 256 ? texel_alignment : 256) &&
                        info->max_texel_buffer_elements == 7, "the texel limits are lowered (%u bytes, %llu texels)",
               info->min_texel_buffer_offset_alignment, (unsigned long long)info->max_texel_buffer_elements);
    check_status(ctx, t2g_device_test_limit_texels(ctx->device, 0, 0, &ctx->err), "restoring the texel limits");
    check_true(ctx, info->min_texel_buffer_offset_alignment == texel_alignment &&
                        info->max_texel_buffer_elements == texel_elements,
               "the device's own texel limits are back (%u bytes, %llu texels)", texel_alignment,
               (unsigned long long)texel_elements);
    t2g_arena *arena = NULL;
    status = t2g_arena_create(ctx->device, info->max_allocation_bytes + (1ull << 20), "huge", &arena, &ctx->err);
    check_true(ctx, status == T2G_ERR_TOO_LARGE && arena == NULL, "an arena beyond one allocation is refused: %s",
               ctx->err.message);
    status = t2g_tensor_alloc(ctx->arena, t2g_arena_capacity_bytes(ctx->arena), &t, &ctx->err);
    check_true(ctx, status != T2G_OK, "an arena that is full says so: %s", ctx->err.message);

    t2g_tensor small = check_poisoned(ctx, 10), big = check_poisoned(ctx, 100);
    status = t2g_gelu_forward(ctx->recorder, small, big, 100, &ctx->err);
    check_true(ctx, status == T2G_ERR_ARGUMENT && strstr(ctx->err.message, "'out'") && strstr(ctx->err.message, "100"),
               "a kernel given a tensor too small names it: %s", ctx->err.message);
    t2g_tensor missing = {0};
    status = t2g_gelu_forward(ctx->recorder, big, missing, 100, &ctx->err);
    check_true(ctx, status == T2G_ERR_ARGUMENT && strstr(ctx->err.message, "'inp'"),
               "a kernel given no tensor names it: %s", ctx->err.message);
    status = t2g_record_update(ctx->recorder, small, NULL, 6, &ctx->err);
    check_true(ctx, status == T2G_ERR_ARGUMENT, "a recorded update of 6 bytes is refused: %s", ctx->err.message);
    /* Nothing was recorded by the refused calls: submitting does nothing and succeeds. */
    check_true(ctx, t2g_recorder_submit(ctx->recorder, &ctx->err) == T2G_OK, "refused calls leave the recorder usable");
    return ctx->failures;
}

T2G_CHECK(runtime_timestamps) {
    check_case_begin(ctx);
    const t2g_device_info *info = t2g_device_get_info(ctx->device);
    if (!info->timestamps) {
        check_log(ctx, "  device has no timestamps: skipped");
        return ctx->failures;
    }
    t2g_recorder *rec;
    t2g_recorder_options options = {.timestamp_capacity = 4};
    if (!check_status(ctx, t2g_recorder_create(ctx->device, &options, &rec, &ctx->err), "recorder with timestamps"))
        return ctx->failures;
    const size_t n = 1 << 20;
    t2g_tensor x = check_poisoned(ctx, n), y = check_poisoned(ctx, n);
    for (int round = 0; round < 2; round++) {
        check_status(ctx, t2g_fill(rec, x, n, 1.0f, &ctx->err), "fill");
        check_status(ctx, t2g_gelu_forward(rec, y, x, n, &ctx->err), "gelu");
        for (int i = 0; i < 4; i++) check_status(ctx, t2g_axpby(rec, y, x, n, 1.0f, 1.0f, &ctx->err), "axpby");
        check_status(ctx, t2g_recorder_submit(rec, &ctx->err), "submit");
        const t2g_timing *timings;
        uint32_t count = t2g_recorder_timings(rec, &timings);
        bool positive = count == 4;
        for (uint32_t i = 0; i < count; i++) positive = positive && timings[i].ms > 0 && timings[i].ms < 60000;
        check_true(ctx, count == 4 && strcmp(timings[0].label, "fill") == 0 && strcmp(timings[1].label, "gelu_forward") == 0,
                   "round %d: the first 4 of 6 dispatches are timed, in order (%u timings)", round, count);
        check_true(ctx, positive, "round %d: each timing is positive and finite", round);
    }
    t2g_recorder_destroy(rec);
    return ctx->failures;
}

T2G_CHECK(runtime_update_scratch) {
    check_case_begin(ctx);
    const size_t n = 4096;
    float *values = check_random_floats(ctx, n, -1, 1);
    t2g_tensor x = check_poisoned(ctx, n), y = check_poisoned(ctx, n);
    /* The update is ordered before the copy that reads it, inside one recording. */
    check_status(ctx, t2g_fill(ctx->recorder, x, n, 5.0f, &ctx->err), "fill");
    check_status(ctx, t2g_record_update(ctx->recorder, x, values, n * 4, &ctx->err), "recorded update");
    check_status(ctx, t2g_copy(ctx->recorder, y, x, n, &ctx->err), "copy");
    check_submit(ctx);
    float *yv = check_download(ctx, y, n);
    check_true(ctx, memcmp(yv, values, n * 4) == 0, "a recorded update is seen by the next dispatch");

    /* Scratch beyond the first 16 MiB block grows a second block; both are usable. */
    const size_t big = 5u << 20; /* 20 MiB of floats */
    t2g_tensor s1, s2;
    check_status(ctx, t2g_recorder_scratch(ctx->recorder, 1 << 20, &s1, &ctx->err), "scratch 1 MiB");
    check_status(ctx, t2g_recorder_scratch(ctx->recorder, big * 4, &s2, &ctx->err), "scratch 20 MiB");
    check_true(ctx, s1.arena != s2.arena, "a large scratch request gets its own block");
    t2g_tensor out = check_poisoned(ctx, 1);
    check_status(ctx, t2g_fill(ctx->recorder, s2, big, 0.5f, &ctx->err), "fill scratch");
    check_status(ctx, t2g_dot(ctx->recorder, out, s2, s2, big, &ctx->err), "dot of scratch");
    check_submit(ctx);
    float *dot = check_download(ctx, out, 1);
    check_true(ctx, fabs(dot[0] - 0.25 * (double)big) <= 1e-5 * 0.25 * (double)big, "scratch holds what was written (%g)",
               dot[0]);

    /* Shared scratch: the same memory while it is large enough, a larger region when asked for
     * more, a fresh start after the submit; a later caller's write is ordered after an earlier
     * caller's read of the same memory. */
    t2g_tensor h1, h2, h3, h4;
    check_status(ctx, t2g_recorder_shared_scratch(ctx->recorder, 4096, &h1, &ctx->err), "shared scratch 4 KiB");
    check_status(ctx, t2g_recorder_shared_scratch(ctx->recorder, 1024, &h2, &ctx->err), "shared scratch 1 KiB");
    check_true(ctx, h1.arena == h2.arena && h1.offset == h2.offset && h1.bytes == 4096 && h2.bytes == 1024,
               "a smaller shared scratch is the same memory, as many bytes as asked");
    check_status(ctx, t2g_recorder_shared_scratch(ctx->recorder, 8192, &h3, &ctx->err), "shared scratch 8 KiB");
    check_true(ctx, h3.bytes == 8192 && (h3.arena != h1.arena || h3.offset >= h1.offset + 4096 ||
                                        h3.offset + 8192 <= h1.offset),
               "a larger shared scratch is other memory");
    t2g_tensor first_sum = check_poisoned(ctx, 1), second_sum = check_poisoned(ctx, 1);
    check_status(ctx, t2g_fill(ctx->recorder, h2, 256, 2.0f, &ctx->err), "fill shared");
    check_status(ctx, t2g_dot(ctx->recorder, first_sum, h2, h2, 256, &ctx->err), "dot of shared");
    check_status(ctx, t2g_fill(ctx->recorder, h2, 256, 3.0f, &ctx->err), "refill shared");
    check_status(ctx, t2g_dot(ctx->recorder, second_sum, h2, h2, 256, &ctx->err), "dot again");
    check_submit(ctx);
    float first = check_download(ctx, first_sum, 1)[0], second = check_download(ctx, second_sum, 1)[0];
    check_true(ctx, first == 4.0f * 256 && second == 9.0f * 256,
               "each reader of shared scratch sees what was written before it (%g, %g)", first, second);
    check_status(ctx, t2g_recorder_shared_scratch(ctx->recorder, 16, &h4, &ctx->err), "shared scratch after submit");
    check_true(ctx, h4.bytes == 16, "shared scratch after a submit: %llu bytes", (unsigned long long)h4.bytes);
    check_submit(ctx);
    return ctx->failures;
}

static void print_nothing(void *user, const char *message) {
    (void)user;
    (void)message;
}

static long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* The file starts with a VkPipelineCacheHeaderVersionOne (32 bytes, version 1). Some drivers
 * (lavapipe) keep nothing else in it. */
static bool valid_cache_header(const char *path) {
    uint32_t header[2] = {0, 0};
    FILE *file = fopen(path, "rb");
    if (!file) return false;
    bool read = fread(header, sizeof header, 1, file) == 1;
    fclose(file);
    return read && header[0] == 32 && header[1] == 1;
}

/* A device of its own, caching pipelines in `dir`; builds the gelu pipeline. */
static long run_with_cache(check_ctx *ctx, const char *dir, char *path, size_t path_size) {
    t2g_device_options options = t2g_device_options_default();
    options.cache_dir = dir;
    options.device = t2g_device_get_info(ctx->device)->name;
    options.log = print_nothing;
    t2g_device *device;
    t2g_error err;
    if (t2g_device_create(&options, &device, &err)) {
        check_fail(ctx, "opening a second device: %s", err.message);
        return -1;
    }
    snprintf(path, path_size, "%s", t2g_device_pipeline_cache_path(device));
    t2g_arena *arena = NULL;
    t2g_recorder *rec = NULL;
    t2g_tensor x;
    bool ok = !t2g_arena_create(device, 1 << 16, "cache test", &arena, &err);
    ok = ok && !t2g_recorder_create(device, NULL, &rec, &err);
    ok = ok && !t2g_tensor_alloc_f32(arena, 16, &x, &err);
    ok = ok && !t2g_gelu_forward(rec, x, x, 0, &err) && !t2g_fill(rec, x, 16, 1.0f, &err);
    ok = ok && !t2g_recorder_submit(rec, &err);
    if (!ok) check_fail(ctx, "using the second device: %s", err.message);
    uint32_t messages = t2g_device_validation_messages(device);
    t2g_recorder_destroy(rec);
    t2g_arena_destroy(arena);
    t2g_device_destroy(device);
    check_true(ctx, messages == 0, "the second device had no validation messages (%u)", messages);
    return file_size(path);
}

T2G_CHECK(runtime_pipeline_cache) {
    check_case_begin(ctx);
    char dir[] = "/tmp/t2g-cache-test-XXXXXX";
    if (!mkdtemp(dir)) {
        check_fail(ctx, "cannot make a temporary folder");
        return ctx->failures;
    }
    char nested[128], path[1100];
    snprintf(nested, sizeof nested, "%s/a/b", dir); /* folders are created as needed */
    long first = run_with_cache(ctx, nested, path, sizeof path);
    check_true(ctx, first >= 32 && valid_cache_header(path), "the pipeline cache is written on close (%ld bytes)", first);
    long second = run_with_cache(ctx, nested, path, sizeof path);
    check_true(ctx, second == first, "a second run with the same pipelines leaves it as it was (%ld bytes)", second);
    /* A damaged cache file is ignored, then replaced. */
    FILE *file = fopen(path, "r+b");
    if (file) {
        fwrite("garbage!", 1, 8, file);
        fclose(file);
    }
    long third = run_with_cache(ctx, nested, path, sizeof path);
    check_true(ctx, third >= 32 && valid_cache_header(path), "a damaged cache file is ignored and rewritten (%ld bytes)",
               third);
    /* An unwritable folder costs only a warning. */
    long fourth = run_with_cache(ctx, "/proc/t2g-cannot-write-here", path, sizeof path);
    check_true(ctx, fourth < 0, "an unwritable cache folder is not an error");
    remove(path);
    char cleanup[256];
    snprintf(cleanup, sizeof cleanup, "rm -rf '%s'", dir);
    if (system(cleanup) != 0) check_log(ctx, "  could not remove %s", dir);
    return ctx->failures;
}
