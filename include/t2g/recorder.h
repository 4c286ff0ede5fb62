/* Recording GPU work: many dispatches in one command buffer, one submission.
 *
 * Kernel wrappers (t2g/kernels.h) record into a recorder; nothing runs until
 * t2g_recorder_submit, which submits once and waits. The recorder inserts a pipeline barrier
 * only where a dispatch touches memory that an earlier, unsynchronized one wrote (or writes
 * memory an earlier one read), so independent dispatches may overlap on the GPU. */
#ifndef T2G_RECORDER_H
#define T2G_RECORDER_H

#include <stdbool.h>
#include <stdint.h>

#include "t2g/device.h"
#include "t2g/memory.h"
#include "t2g/status.h"

typedef struct t2g_recorder t2g_recorder;

typedef struct t2g_recorder_options {
    /* Dispatches timed with GPU timestamps per submission (0: no timing). */
    uint32_t timestamp_capacity;
} t2g_recorder_options;

t2g_status t2g_recorder_create(t2g_device *device, const t2g_recorder_options *options,
                               t2g_recorder **recorder, t2g_error *err);
void t2g_recorder_destroy(t2g_recorder *recorder);
t2g_device *t2g_recorder_device(const t2g_recorder *recorder);

/* Submits what was recorded, waits for it to finish, and starts a new recording. The
 * recorder's scratch memory is reused by the next recording. */
t2g_status t2g_recorder_submit(t2g_recorder *recorder, t2g_error *err);

/* Temporary device memory that lives until the next submit (kernels use it for partial
 * sums). */
t2g_status t2g_recorder_scratch(t2g_recorder *recorder, uint64_t bytes, t2g_tensor *tensor,
                                t2g_error *err);

/* Temporary device memory that every caller in a recording shares (kernels use it for operands
 * they repack just before reading them): the same memory at each call while it is large enough,
 * else a larger region of scratch memory; until the next submit. A caller's contents last until
 * the next caller writes there (the hazard tracking orders the two). */
t2g_status t2g_recorder_shared_scratch(t2g_recorder *recorder, uint64_t bytes, t2g_tensor *tensor,
                                       t2g_error *err);

/* Small host data written into a tensor as part of the recording (at most 65536 bytes, a
 * multiple of 4): e.g. this step's token ids. */
t2g_status t2g_record_update(t2g_recorder *recorder, t2g_tensor tensor, const void *data,
                             uint32_t bytes, t2g_error *err);

/* Every 32-bit word of a tensor (its offset and size multiples of 4) set to `word`, as part of
 * the recording (vkCmdFillBuffer: the driver's own fill, no pipeline; timed and counted as a
 * dispatch under `label`, which must outlive the recorder). */
t2g_status t2g_record_fill(t2g_recorder *recorder, t2g_tensor tensor, uint32_t word, const char *label,
                           t2g_error *err);

/* Timings of the last submission: one per timed dispatch, in recording order. */
typedef struct t2g_timing {
    const char *label;  /* the kernel's name; valid until the recorder is destroyed */
    double ms;
} t2g_timing;
uint32_t t2g_recorder_timings(const t2g_recorder *recorder, const t2g_timing **timings);

/* Dispatches (fills included) recorded since the recorder was created, and barriers the hazard tracking
 * inserted (for tests of the barrier logic and for benchmarks). */
uint64_t t2g_recorder_dispatch_count(const t2g_recorder *recorder);
uint64_t t2g_recorder_barrier_count(const t2g_recorder *recorder);

#endif
