/* Checkpoints: CRC-32, the byte layout, a bit-exact round trip, every way a version 1 to 3 file
 * can be wrong (version 4's are in check_checkpoint_v4.c), and the atomic save (a failed save
 * leaves no temp file and the previous checkpoint intact),
 * with the atomic write under it (src/core/atomic_write.h). */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "checkpoint_files.h"
#include "core/atomic_write.h"
#include "t2g/checkpoint.h"
#include "t2g/config.h"

T2G_HOST_CHECK(checkpoint_roundtrip) {
    check_case_begin(ctx);
    /* CRC-32 as zlib computes it */
    check_true(ctx, t2g_crc32(0, "123456789", 9) == 0xCBF43926u, "crc32(\"123456789\") = 0xcbf43926 (0x%08x)",
               t2g_crc32(0, "123456789", 9));
    check_true(ctx, t2g_crc32(0, "", 0) == 0 && t2g_crc32(0, NULL, 0) == 0, "crc32 of nothing is 0");
    check_true(ctx, t2g_crc32(0, "The quick brown fox jumps over the lazy dog", 43) == 0x414FA339u,
               "crc32 of the fox is 0x414fa339");
    size_t n = 5000;
    unsigned char *bytes = check_host(ctx, n);
    for (size_t i = 0; i < n; i++) bytes[i] = (unsigned char)check_random_u64(ctx);
    size_t cut = check_random_below(ctx, (uint32_t)n);
    uint32_t whole = t2g_crc32(0, bytes, n);
    check_true(ctx, whole == ct_bitwise_crc32(bytes, n), "the table agrees with the bit-by-bit CRC on random bytes");
    check_true(ctx, t2g_crc32(t2g_crc32(0, bytes, cut), bytes + cut, n - cut) == whole,
               "crc32 continues across a cut at %zu", cut);

    char dir[512], path[600];
    if (!ct_make_dir(ctx, dir, sizeof dir)) return ctx->failures;
    snprintf(path, sizeof path, "%s/model.ckpt", dir);
    t2g_config config = t2g_config_defaults();
    char *config_json = t2g_config_to_json(&config);

    /* round trips, bit for bit: no parameters, one, and more than a write chunk */
    const uint64_t counts[] = {0, 1, 7, 16384, 40000 + check_random_below(ctx, 1000)};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        check_case_begin(ctx);
        const char *text = c == 1 ? "" : c == 2 ? "{\"name\": \"caf\xc3\xa9\"}" : config_json;
        t2g_checkpoint ck = ct_random_checkpoint(ctx, counts[c], text), back;
        if (c % 2 == 1) ct_add_aux(ctx, &ck, 33 * c); /* an RL run's value head */
        bool saved = check_status(ctx, t2g_checkpoint_save(path, &ck, &ctx->err), "saving");
        bool loaded = saved && check_status(ctx, t2g_checkpoint_load(path, &back, &ctx->err), "loading");
        if (loaded) {
            check_true(ctx, ct_same_checkpoint(&ck, &back), "%llu parameters: the loaded checkpoint is bit-exact",
                       (unsigned long long)counts[c]);
            t2g_checkpoint_free(&back);
            check_true(ctx, back.params == NULL && back.config_json == NULL, "free clears the checkpoint");
        }
        /* the layout, byte by byte: the whole buffers and the value head as 3 or 6 tensors */
        size_t len;
        unsigned char *file = ct_read_file(ctx, path, &len);
        char why[200];
        bool layout = file && ct_v4_layout(file, len, &ck, ck.aux_count ? 6 : 3, why, sizeof why);
        check_true(ctx, layout, "%llu parameters: %zu bytes, version 4: a directory, the tensors little-endian at 64-byte "
                   "offsets, CRC-32 of the rest at the end (%s)",
                   (unsigned long long)counts[c], len, layout ? "ok" : why);
        check_true(ctx, ct_temp_files(dir) == 0, "no temp file left after a save");
    }
    free(config_json);
    ct_remove_dir(dir);
    return ctx->failures;
}

/* A version 3 file (what t2g wrote before the directory) and every way it can be wrong; the
 * version 1 and 2 files made from it still load. */
T2G_HOST_CHECK(checkpoint_errors) {
    check_case_begin(ctx);
    char dir[512], good[600], bad[600], text[700];
    if (!ct_make_dir(ctx, dir, sizeof dir)) return ctx->failures;
    snprintf(good, sizeof good, "%s/good.ckpt", dir);
    snprintf(bad, sizeof bad, "%s/bad.ckpt", dir);
    const char *config = "{\"name\": \"errors\"}";
    const uint64_t P = 300;
    t2g_checkpoint ck = ct_random_checkpoint(ctx, P, config);
    ck.kind = T2G_RUN_TRAIN; /* what a version 1 or 2 file without auxiliary part is read as */
    ck.start_crc = 0;
    size_t len;
    unsigned char *file = ct_v3_file(ctx, &ck, &len);
    if (!ct_write_file(good, file, len)) {
        check_fail(ctx, "cannot write %s", good);
        ct_remove_dir(dir);
        return ctx->failures;
    }
    size_t config_end = 96 + strlen(config);
    unsigned char *copy = check_host(ctx, len + 8);

    /* missing, a directory, not a checkpoint */
    snprintf(text, sizeof text, "%s/absent.ckpt", dir);
    ct_expect_load_error(ctx, text, NULL, 0, T2G_ERR_IO, "a missing file", "no such file", NULL);
    ct_expect_load_error(ctx, dir, NULL, 0, T2G_ERR_IO, "a directory", "not a regular file", NULL);
    const char *words = "{\"this is\": \"a JSON file, not a checkpoint, and long enough to have a header\"}\n";
    ct_expect_load_error(ctx, bad, words, strlen(words), T2G_ERR_FORMAT, "a JSON file", "not a t2g checkpoint", NULL);
    ct_expect_load_error(ctx, bad, "T2G", 3, T2G_ERR_FORMAT, "3 bytes of the magic", "truncated", "has 3 bytes");

    /* truncated: inside the magic, the version, the header, the config, each array, the CRC */
    const size_t lengths[] = {0, 5, 8, 13, 16, 40, 71, 72, 87, 95, config_end - 3, config_end + 4 * P / 2,
                              config_end + 4 * P + 7, config_end + 8 * P + 4 * P - 1, len - 4, len - 1};
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        char label[64], has[64];
        snprintf(label, sizeof label, "truncated to %zu of %zu bytes", lengths[i], len);
        snprintf(has, sizeof has, "%zu", lengths[i]);
        ct_expect_load_error(ctx, bad, file, lengths[i], T2G_ERR_FORMAT, label, "truncated", has);
    }
    /* where the header is complete, the message says what size was expected */
    snprintf(text, sizeof text, "truncated: expected %zu bytes (300 parameters, 18 bytes of config), the file has %zu",
             len, config_end + 10);
    ct_expect_load_error(ctx, bad, file, config_end + 10, T2G_ERR_FORMAT, "truncated inside the parameters", text, NULL);
    ct_expect_load_error(ctx, bad, file, 40, T2G_ERR_FORMAT, "truncated inside the header", "expected at least 100", NULL);

    /* one flipped bit anywhere: the header fields, the config, the arrays, the CRC itself */
    int flips = 0, caught = 0;
    for (size_t trial = 0; trial < 400; trial++) {
        size_t at = trial < 80 ? trial : check_random_below(ctx, (uint32_t)len);
        unsigned bit = check_random_below(ctx, 8);
        memcpy(copy, file, len);
        copy[at] ^= (unsigned char)(1u << bit);
        /* a flip in the version gives an unknown version, or an older one whose layout then fails */
        const char *want = at < 8 ? "not a t2g checkpoint" : at < 12 && copy[8] > 4 ? "unsupported format version" : at < 12 ? "" : "CRC-32";
        if (!ct_write_file(bad, copy, len)) break;
        t2g_checkpoint out;
        t2g_error err = {0};
        t2g_status got = t2g_checkpoint_load(bad, &out, &err);
        flips++;
        if (got == T2G_ERR_FORMAT && strstr(err.message, want) && strstr(err.message, bad)) caught++;
        else check_fail(ctx, "bit %u of byte %zu flipped: expected \"%s\", got %s", bit, at, want,
                        got ? err.message : "a loaded checkpoint");
        if (got == T2G_OK) t2g_checkpoint_free(&out);
    }
    check_true(ctx, flips == 400 && caught == flips, "each of %d one-bit flips is caught and named (%d)", flips, caught);
    memcpy(copy, file, len);
    copy[len - 100] ^= 4;
    ct_expect_load_error(ctx, bad, copy, len, T2G_ERR_FORMAT, "a flipped bit in v", "corrupted: CRC-32 mismatch", "stored 0x");

    /* wrong magic; a future version, properly sealed */
    memcpy(copy, file, len);
    memcpy(copy, "T2GCKPU\0", 8);
    ct_expect_load_error(ctx, bad, copy, len, T2G_ERR_FORMAT, "a wrong magic", "not a t2g checkpoint", NULL);
    memcpy(copy, file, len);
    ct_put_le32(copy + 8, 5);
    ct_reseal(copy, len);
    ct_expect_load_error(ctx, bad, copy, len, T2G_ERR_FORMAT, "version 5", "unsupported format version 5",
                         "this t2g reads versions 1 to 4");
    ct_put_le32(copy + 8, 0);
    ct_reseal(copy, len);
    ct_expect_load_error(ctx, bad, copy, len, T2G_ERR_FORMAT, "version 0", "unsupported format version 0", NULL);

    /* absurd sizes with a valid CRC: refused from the file's length, nothing allocated */
    const struct {
        size_t offset;
        uint64_t value;
        const char *expect;
    } absurd[] = {
        {56, 1ull << 62, "4611686018427387904 parameters"},
        {56, UINT64_MAX, "18446744073709551615 parameters"},
        {56, P + 1, "301 parameters"},
        {64, UINT64_MAX, "18446744073709551615 bytes of config"},
        {64, 1ull << 40, "1099511627776 bytes of config"},
    };
    for (size_t i = 0; i < sizeof absurd / sizeof absurd[0]; i++) {
        memcpy(copy, file, len);
        ct_put_le64(copy + absurd[i].offset, absurd[i].value);
        ct_reseal(copy, len);
        ct_expect_load_error(ctx, bad, copy, len, T2G_ERR_FORMAT, absurd[i].expect, "truncated", absurd[i].expect);
    }
    memcpy(copy, file, len);
    ct_put_le32(copy + 12, 0x7FFFFFFFu);
    ct_reseal(copy, len);
    ct_expect_load_error(ctx, bad, copy, len, T2G_ERR_FORMAT, "a 2 GiB header", "truncated", "2147483647");
    memcpy(copy, file, len);
    ct_put_le32(copy + 12, 8);
    ct_reseal(copy, len);
    ct_expect_load_error(ctx, bad, copy, len, T2G_ERR_FORMAT, "an 8-byte header", "a header of 8 bytes", NULL);
    memcpy(copy, file, len);
    ct_put_le64(copy + 56, P - 1);
    ct_reseal(copy, len);
    ct_expect_load_error(ctx, bad, copy, len, T2G_ERR_FORMAT, "fewer parameters than the file holds", "12 more than", NULL);
    memcpy(copy, file, len);
    memset(copy + len, 0, 8);
    ct_expect_load_error(ctx, bad, copy, len + 8, T2G_ERR_FORMAT, "8 bytes of trailing garbage", "8 more than", NULL);

    /* a run kind that is neither train nor rl, properly sealed */
    memcpy(copy, file, len);
    ct_put_le32(copy + 88, 7);
    ct_reseal(copy, len);
    ct_expect_load_error(ctx, bad, copy, len, T2G_ERR_FORMAT, "run kind 7", "run kind 7 is neither", NULL);

    /* a version 1 file (written before the auxiliary part existed) still loads, with no aux */
    memcpy(copy, file, 72);
    memcpy(copy + 72, file + 96, len - 96);
    ct_put_le32(copy + 8, 1);
    ct_put_le32(copy + 12, 56);
    ct_reseal(copy, len - 24);
    t2g_checkpoint old;
    if (ct_write_file(bad, copy, len - 24) && check_status(ctx, t2g_checkpoint_load(bad, &old, &ctx->err), "loading version 1")) {
        check_true(ctx, ct_same_checkpoint(&ck, &old) && old.aux_count == 0 && old.aux_params == NULL &&
                            old.kind == T2G_RUN_TRAIN && old.start_crc == 0,
                   "a version 1 checkpoint loads bit-exact, without auxiliary parameters, as a train run's");
        t2g_checkpoint_free(&old);
    }
    /* a version 2 file (no kind, no start CRC) loads, its kind taken from the auxiliary part */
    memcpy(copy, file, 88);
    memcpy(copy + 88, file + 96, len - 96);
    ct_put_le32(copy + 8, 2);
    ct_put_le32(copy + 12, 72);
    ct_reseal(copy, len - 8);
    if (ct_write_file(bad, copy, len - 8) && check_status(ctx, t2g_checkpoint_load(bad, &old, &ctx->err), "loading version 2")) {
        check_true(ctx, ct_same_checkpoint(&ck, &old) && old.kind == T2G_RUN_TRAIN && old.start_crc == 0,
                   "a version 2 checkpoint without auxiliary parameters loads bit-exact as a train run's");
        t2g_checkpoint_free(&old);
    }

    /* the good file still loads */
    t2g_checkpoint back;
    if (check_status(ctx, t2g_checkpoint_load(good, &back, &ctx->err), "loading the good file")) {
        check_true(ctx, ct_same_checkpoint(&ck, &back), "the good file loads bit-exact");
        t2g_checkpoint_free(&back);
    }
    ct_remove_dir(dir);
    return ctx->failures;
}

T2G_HOST_CHECK(checkpoint_atomic) {
    check_case_begin(ctx);
    char dir[512], path[600], text[800];
    if (!ct_make_dir(ctx, dir, sizeof dir)) return ctx->failures;
    snprintf(path, sizeof path, "%s/run.ckpt", dir);
    t2g_checkpoint a = ct_random_checkpoint(ctx, 1000, "{\"name\": \"a\"}");
    t2g_checkpoint b = ct_random_checkpoint(ctx, 3000, "{\"name\": \"b\"}");
    t2g_error err = {0};

    /* a nonexistent directory: a clean failure naming the path */
    snprintf(text, sizeof text, "%s/no/such/dir/run.ckpt", dir);
    t2g_status status = t2g_checkpoint_save(text, &a, &err);
    check_true(ctx, status == T2G_ERR_IO && strstr(err.message, text) && strstr(err.message, "No such file"),
               "a save into a nonexistent directory fails (%s)", status ? err.message : "saved");

    /* an unwritable directory (root writes anywhere: then this case proves nothing and is skipped) */
    snprintf(text, sizeof text, "%s/locked", dir);
    mkdir(text, 0700);
    chmod(text, 0500);
    if (access(text, W_OK) == 0) {
        check_log(ctx, "  (running as root: the unwritable-directory case is skipped)");
    } else {
        char inside[900];
        snprintf(inside, sizeof inside, "%s/run.ckpt", text);
        status = t2g_checkpoint_save(inside, &a, &err);
        check_true(ctx, status == T2G_ERR_IO && strstr(err.message, inside) && ct_temp_files(text) == 0,
                   "a save into an unwritable directory fails and leaves nothing (%s)", status ? err.message : "saved");
    }
    chmod(text, 0700);
    rmdir(text);

    /* an existing checkpoint survives a save that fails while writing (file size limit: EFBIG) */
    check_status(ctx, t2g_checkpoint_save(path, &a, &ctx->err), "saving a");
    struct rlimit old_limit, limit;
    getrlimit(RLIMIT_FSIZE, &old_limit);
    limit = old_limit;
    limit.rlim_cur = 4096;
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    bool limited = setrlimit(RLIMIT_FSIZE, &limit) == 0;
    status = limited ? t2g_checkpoint_save(path, &b, &err) : T2G_OK;
    setrlimit(RLIMIT_FSIZE, &old_limit);
    signal(SIGXFSZ, old_handler);
    if (!limited) {
        check_log(ctx, "  (cannot limit the file size: the failed-write case is skipped)");
    } else {
        check_true(ctx, status == T2G_ERR_IO && strstr(err.message, path) && strstr(err.message, ".tmp."),
                   "a save that cannot write all its bytes fails (%s)", status ? err.message : "saved");
        check_true(ctx, ct_temp_files(dir) == 0, "and leaves no temp file");
        t2g_checkpoint back;
        if (check_status(ctx, t2g_checkpoint_load(path, &back, &ctx->err), "loading a after the failed save")) {
            check_true(ctx, ct_same_checkpoint(&a, &back), "the previous checkpoint is intact after the failed save");
            t2g_checkpoint_free(&back);
        }
    }

    /* a failure at the rename (the path is a directory): the temp file is removed */
    snprintf(text, sizeof text, "%s/taken", dir);
    mkdir(text, 0700);
    snprintf(text + strlen(text), sizeof text - strlen(text), "/inner");
    mkdir(text, 0700);
    text[strlen(text) - strlen("/inner")] = '\0';
    status = t2g_checkpoint_save(text, &a, &err);
    check_true(ctx, status == T2G_ERR_IO && strstr(err.message, "renaming") && ct_temp_files(dir) == 0,
               "a save whose rename fails removes its temp file (%s)", status ? err.message : "saved");

    /* a successful save replaces the previous checkpoint */
    status = t2g_checkpoint_save(path, &b, &err);
    check_true(ctx, status == T2G_OK, "saving b over a (%s)", status ? err.message : "ok");
    t2g_checkpoint back;
    if (check_status(ctx, t2g_checkpoint_load(path, &back, &ctx->err), "loading b")) {
        check_true(ctx, ct_same_checkpoint(&b, &back), "a successful save replaces the checkpoint");
        t2g_checkpoint_free(&back);
    }
    check_true(ctx, ct_temp_files(dir) == 0, "no temp file after the successful save");

    /* bad arguments */
    t2g_checkpoint empty = {0};
    empty.param_count = 5;
    check_true(ctx, t2g_checkpoint_save(path, &empty, &err) == T2G_ERR_ARGUMENT, "a checkpoint without arrays is refused");
    check_true(ctx, t2g_checkpoint_save(NULL, &a, &err) == T2G_ERR_ARGUMENT, "a NULL path is refused");
    ct_remove_dir(dir);
    return ctx->failures;
}

/* The atomic write the checkpoint streams through: a file streamed in pieces is committed whole;
 * an abort, or a commit after a failed write, leaves the file there before byte for byte and
 * no temporary file, and the failure names the step and the error. */
T2G_HOST_CHECK(atomic_write) {
    check_case_begin(ctx);
    char dir[512], path[600];
    if (!ct_make_dir(ctx, dir, sizeof dir)) return ctx->failures;
    snprintf(path, sizeof path, "%s/file.txt", dir);
    check_status(ctx, t2g_atomic_write(path, "before", 6, &ctx->err), "writing the first version");

    t2g_atomic_file out;
    t2g_error err = {0};
    if (check_status(ctx, t2g_atomic_open(&out, path, &ctx->err), "opening")) {
        fputs("half", out.file);
        check_true(ctx, ct_temp_files(dir) == 1, "the open write is one temporary file beside the path");
        t2g_atomic_abort(&out);
    }
    size_t len;
    unsigned char *now = ct_read_file(ctx, path, &len);
    check_true(ctx, len == 6 && memcmp(now, "before", 6) == 0 && ct_temp_files(dir) == 0,
               "an abort keeps the file there before and removes the temporary file");

    if (check_status(ctx, t2g_atomic_open(&out, path, &ctx->err), "opening")) {
        fputs("half", out.file);
        t2g_status status = t2g_atomic_commit(&out, ENOSPC, &err);
        check_true(ctx, status == T2G_ERR_IO && strstr(err.message, "writing") && strstr(err.message, strerror(ENOSPC)),
                   "a commit after a failed write fails, naming it (%s)", status ? err.message : "committed");
    }
    now = ct_read_file(ctx, path, &len);
    check_true(ctx, len == 6 && memcmp(now, "before", 6) == 0 && ct_temp_files(dir) == 0,
               "and keeps the file there before, removing the temporary file");

    if (check_status(ctx, t2g_atomic_open(&out, path, &ctx->err), "opening")) {
        for (int piece = 0; piece < 1000; piece++) fprintf(out.file, "%04d", piece);
        check_status(ctx, t2g_atomic_commit(&out, 0, &ctx->err), "committing");
    }
    now = ct_read_file(ctx, path, &len);
    check_true(ctx, len == 4000 && memcmp(now, "0000", 4) == 0 && memcmp(now + 3996, "0999", 4) == 0 &&
                        ct_temp_files(dir) == 0,
               "a file streamed in 1000 pieces is committed whole (%zu bytes)", len);
    ct_remove_dir(dir);
    return ctx->failures;
}

/* A model that diverged is never saved: a NaN or Inf anywhere (parameters, moments, the
 * auxiliary part or scalar) is refused with a message naming the file and the element, and
 * the good checkpoint already under that name stays byte for byte. */
T2G_HOST_CHECK(checkpoint_refuses_nonfinite) {
    check_case_begin(ctx);
    char dir[512], path[600];
    if (!ct_make_dir(ctx, dir, sizeof dir)) return ctx->failures;
    snprintf(path, sizeof path, "%s/checkpoint.bin", dir);
    t2g_checkpoint good = ct_random_checkpoint(ctx, 500, "{\"name\": \"good\"}");
    ct_add_aux(ctx, &good, 9);
    check_status(ctx, t2g_checkpoint_save(path, &good, &ctx->err), "saving the good checkpoint");
    size_t good_len;
    unsigned char *good_bytes = ct_read_file(ctx, path, &good_len);
    static const char *const names[] = {"parameter", "AdamW m", "AdamW v", "auxiliary parameter", "auxiliary AdamW m",
                                        "auxiliary AdamW v"};
    static const float poisons[] = {NAN, INFINITY, -INFINITY};
    for (int a = 0; a < 7; a++) {
        for (int p = 0; p < 3; p++) {
            t2g_checkpoint bad = ct_random_checkpoint(ctx, 500, "{\"name\": \"bad\"}");
            ct_add_aux(ctx, &bad, 9);
            float *arrays[6] = {bad.params, bad.m, bad.v, bad.aux_params, bad.aux_m, bad.aux_v};
            uint64_t at = check_random_below(ctx, a < 3 ? 500 : 9);
            if (a < 6) arrays[a][at] = poisons[p];
            else bad.aux_scalar = poisons[p];
            t2g_error err = {0};
            t2g_status status = t2g_checkpoint_save(path, &bad, &err);
            char element[96];
            snprintf(element, sizeof element, "%s %llu of", a < 6 ? names[a] : "", (unsigned long long)at);
            bool named = strstr(err.message, path) && strstr(err.message, "non-finite") &&
                         (a == 6 || strstr(err.message, element));
            size_t len;
            unsigned char *now = ct_read_file(ctx, path, &len);
            check_true(ctx, status == T2G_ERR_ARGUMENT && named, "a %g in %s is refused, naming it (%s)",
                       (double)poisons[p], a < 6 ? names[a] : "the auxiliary scalar", err.message);
            check_true(ctx, now && good_bytes && len == good_len && memcmp(now, good_bytes, len) == 0 && ct_temp_files(dir) == 0,
                       "after a refused %g in %s the good checkpoint is unchanged and no temporary file is left",
                       (double)poisons[p], a < 6 ? names[a] : "the auxiliary scalar");
        }
    }
    ct_remove_dir(dir);
    return ctx->failures;
}
