/* The GGUF writer's refusals (t2g/gguf_write.h): each bad input or failed write an error that
 * names the key, tensor or file and what was expected, with nothing left behind, the file
 * already at the path untouched; and every allocation failing in turn. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "check.h"
#include "core/alloc.h"
#include "gguf_write_cases.h"
#include "t2g/gguf_write.h"

/* The status is `want` and the message holds every one of the needles (NULL-terminated). */
static bool refused_with(check_ctx *ctx, t2g_status status, t2g_status want, const char *what,
                         const char *const *needles) {
    bool ok = status == want;
    for (int i = 0; ok && needles[i]; i++) ok = strstr(ctx->err.message, needles[i]) != NULL;
    return check_true(ctx, ok, "%s: refused (%s)", what, status ? ctx->err.message : "accepted");
}
#define REFUSED(status, want, what, ...) refused_with(ctx, status, want, what, (const char *const[]){__VA_ARGS__, NULL})

static const uint64_t dims_64x2[] = {64, 2}, dims_33[] = {33}, dims_32x2[] = {32, 2};

static void metadata_and_declarations(check_ctx *ctx, const char *path) {
    t2g_gguf_writer *w;
    if (!check_status(ctx, t2g_gguf_writer_new(path, &w, &ctx->err), "a writer")) return;
    check_status(ctx, t2g_gguf_add_u32(w, "dup.key", 1, &ctx->err), "a first key");
    REFUSED(t2g_gguf_add_string(w, "dup.key", "x", &ctx->err), T2G_ERR_ARGUMENT, "a key given twice", "dup.key", "twice",
            path);
    REFUSED(t2g_gguf_add_u32_array(w, "dup.key", (const uint32_t[]){1}, 1, &ctx->err),
            T2G_ERR_ARGUMENT, "a key given twice as an array", "dup.key", "twice");
    REFUSED(t2g_gguf_add_u32(w, "general.alignment", 48, &ctx->err), T2G_ERR_ARGUMENT, "alignment 48",
            "general.alignment", "48", "power of two");
    REFUSED(t2g_gguf_add_u32(w, "general.alignment", 0, &ctx->err), T2G_ERR_ARGUMENT, "alignment 0",
            "general.alignment", "power of two");
    REFUSED(t2g_gguf_add_u64(w, "general.alignment", 64, &ctx->err), T2G_ERR_ARGUMENT, "alignment as a u64",
            "general.alignment", "u32");
    REFUSED(t2g_gguf_add_string(w, "", "x", &ctx->err), T2G_ERR_ARGUMENT, "an empty key", "key");
    REFUSED(t2g_gguf_add_string(w, "no.value", NULL, &ctx->err), T2G_ERR_ARGUMENT, "a NULL string", "no.value");
    REFUSED(t2g_gguf_add_string_array(w, "holes", (const char *const[]){"a", NULL}, (const uint64_t[]){1, 2}, 2, &ctx->err),
            T2G_ERR_ARGUMENT, "a missing string", "holes", "string 1");
    REFUSED(t2g_gguf_add_f32_array(w, "no.array", NULL, 3, &ctx->err), T2G_ERR_ARGUMENT, "a NULL array", "no.array");

    REFUSED(t2g_gguf_add_tensor(w, "odd.q8", T2G_GGUF_WRITE_Q8_0, 1, dims_33, &ctx->err), T2G_ERR_ARGUMENT,
            "a Q8_0 tensor of 33 elements", "odd.q8", "Q8_0", "33");
    REFUSED(t2g_gguf_add_tensor(w, "rows.q8", T2G_GGUF_WRITE_Q8_0, 2, (const uint64_t[]){48, 2}, &ctx->err),
            T2G_ERR_ARGUMENT, "a Q8_0 tensor of 96 elements whose rows are 48", "rows.q8", "48");
    check_status(ctx, t2g_gguf_add_tensor(w, "w", T2G_GGUF_WRITE_Q8_0, 2, dims_64x2, &ctx->err), "a Q8_0 tensor");
    REFUSED(t2g_gguf_add_tensor(w, "w", T2G_GGUF_WRITE_F32, 1, dims_33, &ctx->err), T2G_ERR_ARGUMENT,
            "a tensor name given twice", "tensor w", "twice");
    REFUSED(t2g_gguf_add_tensor(w, "rank0", T2G_GGUF_WRITE_F32, 0, dims_33, &ctx->err), T2G_ERR_ARGUMENT, "0 dims",
            "rank0", "0 dims");
    REFUSED(t2g_gguf_add_tensor(w, "rank5", T2G_GGUF_WRITE_F32, 5, (const uint64_t[]){1, 1, 1, 1, 1}, &ctx->err),
            T2G_ERR_ARGUMENT, "5 dims", "rank5", "5 dims");
    REFUSED(t2g_gguf_add_tensor(w, "zero", T2G_GGUF_WRITE_F32, 2, (const uint64_t[]){4, 0}, &ctx->err),
            T2G_ERR_ARGUMENT, "a zero dim", "zero", "dims[1] is 0");
    REFUSED(t2g_gguf_add_tensor(w, "huge", T2G_GGUF_WRITE_F32, 2, (const uint64_t[]){1ull << 40, 1ull << 40}, &ctx->err),
            T2G_ERR_ARGUMENT, "dims that overflow", "huge", "overflow");
    REFUSED(t2g_gguf_add_tensor(w, "q4", (t2g_gguf_write_type)2, 1, dims_33, &ctx->err), T2G_ERR_ARGUMENT,
            "a type the writer does not write (Q4_0)", "q4", "F32, F16, BF16 or Q8_0");
    char long_name[80];
    memset(long_name, 'n', 64);
    long_name[64] = 0;
    REFUSED(t2g_gguf_add_tensor(w, long_name, T2G_GGUF_WRITE_F32, 1, dims_33, &ctx->err), T2G_ERR_ARGUMENT,
            "a name of 64 bytes", "64 bytes", "1 to 63");
    t2g_gguf_writer_free(w);
}

/* A writer of one F32 tensor of 33 and one Q8_0 of 64 x 2 at path (NULL on failure). */
static t2g_gguf_writer *two_tensors(check_ctx *ctx, const char *path) {
    t2g_gguf_writer *w;
    if (!check_status(ctx, t2g_gguf_writer_new(path, &w, &ctx->err), "a writer")) return NULL;
    if (check_status(ctx, t2g_gguf_add_string(w, "general.architecture", "llama", &ctx->err), "a key") &&
        check_status(ctx, t2g_gguf_add_tensor(w, "first", T2G_GGUF_WRITE_F32, 1, dims_33, &ctx->err), "a tensor") &&
        check_status(ctx, t2g_gguf_add_tensor(w, "second", T2G_GGUF_WRITE_Q8_0, 2, dims_64x2, &ctx->err), "a tensor"))
        return w;
    t2g_gguf_writer_free(w);
    return NULL;
}

/* The file at path still holds "old". */
static bool untouched(const char *path) {
    char text[8] = "";
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f) fclose(f);
    return n == 3 && memcmp(text, "old", 3) == 0;
}

static void stopped_writes(check_ctx *ctx, const char *dir) {
    char path[600], missing[600];
    snprintf(path, sizeof path, "%s/model.gguf", dir);
    FILE *old = fopen(path, "wb");
    check_true(ctx, old && fputs("old", old) >= 0 && fclose(old) == 0, "a file already at %s", path);
    float *x = check_random_floats(ctx, 128, -1, 1);
    t2g_gguf_writer *w = two_tensors(ctx, path);
    if (!w) return;
    REFUSED(t2g_gguf_write_data(w, x, 34, &ctx->err), T2G_ERR_ARGUMENT, "34 elements for a tensor of 33", path,
            "tensor first", "33", "34");
    REFUSED(t2g_gguf_write_data(w, x, 1, &ctx->err), T2G_ERR_ARGUMENT, "data after an error", "earlier error");
    REFUSED(t2g_gguf_writer_finish(w, &ctx->err), T2G_ERR_ARGUMENT, "finishing after an error", "earlier error");
    t2g_gguf_writer_free(w);
    check_true(ctx, untouched(path), "after the error the file at the path is as it was");

    if (!(w = two_tensors(ctx, path))) return;
    check_status(ctx, t2g_gguf_write_data(w, x, 33, &ctx->err), "the first tensor");
    check_status(ctx, t2g_gguf_write_data(w, x, 40, &ctx->err), "part of the second");
    REFUSED(t2g_gguf_writer_finish(w, &ctx->err), T2G_ERR_ARGUMENT, "finishing with a tensor unfilled", path,
            "tensor second", "40 of its 128");
    t2g_gguf_writer_free(w);

    if (!(w = two_tensors(ctx, path))) return;
    check_status(ctx, t2g_gguf_write_data(w, x, 33, &ctx->err), "the first tensor");
    REFUSED(t2g_gguf_add_u8(w, "later", 1, &ctx->err), T2G_ERR_ARGUMENT, "metadata after the data began", "later",
            "after the tensor data began");
    REFUSED(t2g_gguf_add_tensor(w, "later", T2G_GGUF_WRITE_F32, 1, dims_33, &ctx->err), T2G_ERR_ARGUMENT,
            "a tensor after the data began", "later", "after the tensor data began");
    x[64 + 5] = NAN;
    REFUSED(t2g_gguf_write_data(w, x, 128, &ctx->err), T2G_ERR_ARGUMENT, "a NaN in a Q8_0 tensor", path,
            "tensor second", "element 69", "nan");
    t2g_gguf_writer_free(w);

    if (!(w = two_tensors(ctx, path))) return;
    x[64 + 5] = 1e10f;
    check_status(ctx, t2g_gguf_write_data(w, x, 33, &ctx->err), "the first tensor");
    REFUSED(t2g_gguf_write_data(w, x, 128, &ctx->err), T2G_ERR_ARGUMENT, "1e10 in a Q8_0 tensor (its scale past f16)",
            "tensor second", "element 69", "f16");
    t2g_gguf_writer_free(w);

    if (!(w = two_tensors(ctx, path))) return;
    check_status(ctx, t2g_gguf_write_data(w, x, 20, &ctx->err), "part of a tensor");
    t2g_gguf_writer_free(w); /* abandoned half way */
    check_true(ctx, untouched(path), "a writer freed half way leaves the file at the path as it was");
    remove(path);
    check_true(ctx, gguf_dir_empty(dir), "no temporary file is left in %s", dir);

    snprintf(missing, sizeof missing, "%s/no-such-folder/model.gguf", dir);
    if (!(w = two_tensors(ctx, missing))) return;
    REFUSED(t2g_gguf_write_data(w, x, 33, &ctx->err), T2G_ERR_IO, "a file in a folder that does not exist", missing);
    t2g_gguf_writer_free(w);
    if (!(w = two_tensors(ctx, missing))) return;
    REFUSED(t2g_gguf_writer_finish(w, &ctx->err), T2G_ERR_IO, "finishing in a folder that does not exist", missing);
    t2g_gguf_writer_free(w);
}

/* A file larger than the process may write (RLIMIT_FSIZE): the failed write names the file. */
static void failed_write(check_ctx *ctx, const char *dir) {
    char path[600];
    snprintf(path, sizeof path, "%s/big.gguf", dir);
    struct rlimit saved, small;
    if (getrlimit(RLIMIT_FSIZE, &saved) != 0) return;
    small = saved;
    small.rlim_cur = 20000;
    void (*previous)(int) = signal(SIGXFSZ, SIG_IGN);
    if (setrlimit(RLIMIT_FSIZE, &small) != 0) {
        signal(SIGXFSZ, previous);
        return;
    }
    enum { N = 64 * 1024 };
    float *x = check_random_floats(ctx, N, -1, 1);
    t2g_gguf_writer *w;
    t2g_status status = t2g_gguf_writer_new(path, &w, &ctx->err);
    if (!status) status = t2g_gguf_add_tensor(w, "big", T2G_GGUF_WRITE_F32, 1, (const uint64_t[]){N}, &ctx->err);
    if (!status) status = t2g_gguf_write_data(w, x, N, &ctx->err);
    if (!status) status = t2g_gguf_writer_finish(w, &ctx->err);
    t2g_gguf_writer_free(w);
    setrlimit(RLIMIT_FSIZE, &saved);
    signal(SIGXFSZ, previous);
    REFUSED(status, T2G_ERR_IO, "a write past the file size limit", path);
    check_true(ctx, gguf_dir_empty(dir), "no temporary file is left after the failed write");
}

T2G_HOST_CHECK(gguf_write_errors) {
    check_case_begin(ctx);
    char dir[512], path[600];
    if (!gguf_scratch_dir(ctx, dir, sizeof dir)) return ctx->failures;
    snprintf(path, sizeof path, "%s/model.gguf", dir);
    metadata_and_declarations(ctx, path);
    check_true(ctx, gguf_dir_empty(dir), "refused metadata and tensors leave nothing in %s", dir);
    stopped_writes(ctx, dir);
    failed_write(ctx, dir);
    check_true(ctx, gguf_remove_scratch(dir), "nothing was left in %s", dir);
    return ctx->failures;
}

/* A small file with strings, arrays and both kinds of tensor, every allocation failing in turn. */
static t2g_status small_file(const char *path, const float *x, t2g_error *err) {
    static const char *const strings[] = {"a", "bc", ""};
    t2g_gguf_writer *w;
    t2g_status status = t2g_gguf_writer_new(path, &w, err);
    if (status) return status;
    status = t2g_gguf_add_string(w, "general.architecture", "llama", err);
    if (!status) status = t2g_gguf_add_u32(w, "general.alignment", 64, err);
    if (!status) status = t2g_gguf_add_string_array(w, "tokenizer.ggml.tokens", strings, NULL, 3, err);
    if (!status) status = t2g_gguf_add_f32_array(w, "scores", x, 3, err);
    if (!status) status = t2g_gguf_add_tensor(w, "a", T2G_GGUF_WRITE_F16, 1, dims_33, err);
    if (!status) status = t2g_gguf_add_tensor(w, "b", T2G_GGUF_WRITE_Q8_0, 2, dims_32x2, err);
    if (!status) status = t2g_gguf_write_data(w, x, 33, err);
    if (!status) status = t2g_gguf_write_data(w, x, 64, err);
    if (!status) status = t2g_gguf_writer_finish(w, err);
    t2g_gguf_writer_free(w);
    return status;
}

T2G_HOST_CHECK(gguf_write_out_of_memory) {
    check_case_begin(ctx);
    char dir[512], path[600];
    if (!gguf_scratch_dir(ctx, dir, sizeof dir)) return ctx->failures;
    snprintf(path, sizeof path, "%s/m.gguf", dir);
    float *x = check_random_floats(ctx, 64, -1, 1);
    t2g_alloc_fail_at(0);
    t2g_status status = small_file(path, x, &ctx->err);
    uint64_t calls = t2g_alloc_calls();
    check_status(ctx, status, "the small file without failures");
    remove(path);
    uint64_t wrong = 0;
    for (uint64_t n = 1; n <= calls; n++) {
        t2g_alloc_fail_at(n);
        status = small_file(path, x, &ctx->err);
        t2g_alloc_fail_at(0);
        bool ok = status == T2G_ERR_MEMORY && strstr(ctx->err.message, path) && gguf_dir_empty(dir);
        if (!ok && !wrong++) check_fail(ctx, "allocation %llu failing: %s", (unsigned long long)n, ctx->err.message);
    }
    check_true(ctx, calls >= 5 && !wrong, "each of the %llu allocations failing gives an out-of-memory error naming "
               "the file, and leaves nothing behind", (unsigned long long)calls);
    check_true(ctx, gguf_remove_scratch(dir), "nothing was left in %s", dir);
    return ctx->failures;
}
