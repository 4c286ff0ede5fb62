/* t2g selfcheck: every kernel once, on small odd shapes, against the CPU reference. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check/check.h"
#include "cli.h"
#include "t2g/variants.h"

static const char HELP[] =
    "usage: t2g selfcheck [--device N|NAME] [--seed S] [--verbose]\n"
    "\n"
    "Runs every GPU kernel once on the chosen device, on random inputs of small odd shapes,\n"
    "and compares it with t2g's double-precision CPU reference (the first case of each test\n"
    "in the test suite); then runs every bf16 and f16 shader variant (train.precision) beside\n"
    "the f32 path it replaces, and disables on this device, for later runs too, any that\n"
    "disagrees. Prints one line per kernel and variant (for a variant, its worst difference\n"
    "from the f32 path over the difference allowed: at most 1 passes); exits 1 if any is off.\n"
    "\n"
    "  --device N|NAME   the device (default: T2G_DEVICE, else the best one)\n"
    "  --seed S          the random inputs' seed (default: from the clock; printed)\n"
    "  --verbose         every comparison, not only one line per kernel\n"
    "\n"
    "example: t2g selfcheck --device llvmpipe\n";

/* The fast paths (t2g/variants.h), run afresh against the f32 path (the cache updated): one line
 * each; the number that failed (each now disabled, with a warning). */
static int check_variants(t2g_device *device) {
    t2g_variant_verdict verdicts[T2G_MAX_VARIANT_VERDICTS];
    uint32_t count = 0;
    t2g_error err = {0};
    if (t2g_variants_check(device, T2G_DTYPE_COUNT, false, verdicts, &count, &err)) {
        printf("%-24s %12s %16s  FAILED: %s\n", "variants", "", "", err.message);
        return 1;
    }
    if (!count) printf("%-24s %12s %16s  none: the device has no 16-bit storage\n", "variants", "", "");
    else printf("%-37s %16s  %s\n", "variant (against the f32 path)", "worst / allowed", "result");
    int failed = 0;
    for (uint32_t i = 0; i < count; i++) {
        failed += !verdicts[i].passed;
        printf("%-37s %16.3g  %s%s\n", verdicts[i].name, verdicts[i].error, verdicts[i].passed ? "ok" : "DISABLED: ",
               verdicts[i].message);
    }
    return failed;
}

int cmd_selfcheck(int argc, char **argv) {
    const char *device_name = NULL, *seed_text = NULL;
    bool verbose = false;
    cli_args args = cli_args_start(argc, argv, 2, "selfcheck");
    while (cli_args_more(&args)) {
        if (cli_flag(&args, "--help") || cli_flag(&args, "-h")) {
            fputs(HELP, stdout);
            return EXIT_OK;
        } else if (cli_value(&args, "--device", &device_name) || cli_value(&args, "--seed", &seed_text)) {
        } else if (cli_flag(&args, "--verbose")) {
            verbose = true;
        } else {
            return cli_unknown(&args);
        }
    }
    if (args.failed) return EXIT_USAGE;
    uint64_t seed = (uint64_t)time(NULL) % 1000000u;
    if (seed_text) {
        char *end;
        seed = strtoull(seed_text, &end, 10);
        if (*end || !*seed_text) {
            cli_error("selfcheck: --seed expects a non-negative integer, got '%s'", seed_text);
            return EXIT_USAGE;
        }
    }
    t2g_device *device;
    int code = cli_open_device(device_name, &device);
    if (code) return code;
    const t2g_device_info *info = t2g_device_get_info(device);
    printf("selfcheck on %u: %s (%s), seed %llu\n", info->index, info->name, info->type, (unsigned long long)seed);
    printf("%-24s %12s %16s  %s\n", "check", "comparisons", "worst rel error", "result");
    int failed = 0;
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    size_t checks = 0;
    for (size_t i = 0; i < t2g_check_count; i++) {
        /* host checks need no device; model_* checks need the real model and its oracle (label model);
         * variants_* test the variants' self-check itself (one corrupts a variant on purpose): the
         * self-check proper runs below */
        if (t2g_checks[i].host_only || strncmp(t2g_checks[i].name, "model_", 6) == 0 ||
            strncmp(t2g_checks[i].name, "variants_", 9) == 0)
            continue;
        checks++;
        check_ctx ctx;
        bool opened = check_begin(&ctx, device, seed + i, 256ull << 20, true, verbose ? stdout : NULL);
        if (opened) t2g_checks[i].run(&ctx);
        bool ok = opened && ctx.failures == 0;
        printf("%-24s %12d %16.2e  %s\n", t2g_checks[i].name, ctx.comparisons, ctx.worst_error, ok ? "ok" : "FAILED");
        fflush(stdout);
        failed += !ok;
        check_end(&ctx);
    }
    failed += check_variants(device);
    clock_gettime(CLOCK_MONOTONIC, &end);
    double seconds = (double)(end.tv_sec - start.tv_sec) + 1e-9 * (double)(end.tv_nsec - start.tv_nsec);
    printf("%zu checks in %.1f s: %s\n", checks, seconds,
           failed ? "some are OFF (details above)" : "all match the reference");
    code = cli_close_device(device);
    return failed ? EXIT_FAILED : code;
}
