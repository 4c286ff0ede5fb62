/* The self-check of t2g's fast paths: every shader variant a run may use (the bf16 and f16
 * storage variants of shaders/variants.txt) runs on random inputs beside the f32 path it
 * replaces before it is trusted on a device. A variant that disagrees is disabled on that
 * device (t2g_device_disable_variant: the kernels refuse it by name) with a warning naming it,
 * the driver and the error, so a driver bug cannot silently corrupt training.
 *
 * What "agrees" means, per kind of variant:
 *   16-bit operands (the GEMM's A and B): the variant on 16-bit copies of the inputs against the
 *     f32 shader on the same rounded values in f32: the same arithmetic, so within 2^-20 of the
 *     products' magnitude sum (what separate compilations of one loop may differ by);
 *   16-bit outputs (convert, the norms, GELU, SwiGLU, attention, the generator's KV cache as
 *     decode_store writes it): the variant's output against the f32 shader's rounded to the
 *     format on the host: at most one unit in the last place of the format (f16 conversion may
 *     round toward zero on some devices);
 *   16-bit inputs of a backward pass (attention's output): as for operands;
 *   the KV cache read by decode_attention: against the f32 shader on the same values widened,
 *     within 2^-14 of the largest |v| each output weighs (twice what separate compilations of
 *     its f32 sums may differ by; src/kernels/variant_check.c derives it).
 *
 * Verdicts are cached on disk per device, driver and build: beside the pipeline cache, one file
 * per device and driver (named after the pipeline-cache UUID) holding the verdicts of its last
 * 8 builds (a hash of every embedded shader and of the executable's size and time), so a run
 * pays for the checks once; t2g selfcheck runs them afresh. */
#ifndef T2G_VARIANTS_H
#define T2G_VARIANTS_H

#include <stdbool.h>
#include <stdint.h>

#include "t2g/device.h"
#include "t2g/dtype.h"
#include "t2g/status.h"

#define T2G_MAX_VARIANT_VERDICTS 32

typedef struct t2g_variant_verdict {
    char name[64];      /* the shader variant, e.g. "matmul_gemm@bf16_bf16" */
    bool passed;
    bool cached;        /* taken from the verdict cache, not run now */
    double error;       /* the worst difference from the f32 path over what is allowed (passes <= 1) */
    char message[256];  /* "" or what was wrong, e.g. "output 17: 0.3125 where the f32 path gives 0.25" */
    bool optional;      /* a fast path with a fallback (the cooperative-matrix GEMM): failing disables it,
                         * and the kernels take the other shader */
} t2g_variant_verdict;

/* Checks the variants of `dtype` (bf16 or f16; T2G_DTYPE_COUNT: both), taking cached verdicts
 * when use_cache; fills up to T2G_MAX_VARIANT_VERDICTS verdicts and disables every failed
 * variant on the device. A device without 16-bit storage has nothing to check (*count 0). An
 * error (T2G_ERR_*) only when the checks could not run at all (out of memory, a Vulkan failure);
 * a variant that is wrong is a verdict, not an error. */
t2g_status t2g_variants_check(t2g_device *device, t2g_dtype dtype, bool use_cache, t2g_variant_verdict *verdicts,
                              uint32_t *count, t2g_error *err);

/* The verdict cache's path on this device ("" when the device keeps no pipeline cache). */
void t2g_variants_cache_path(const t2g_device *device, char *out, size_t size);

#endif
