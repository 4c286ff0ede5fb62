/* Checkpoints: everything a run needs to continue exactly where it stopped.
 *
 * The file, little-endian:
 *   magic "T2GCKPT\0" (8 bytes), format version (u32), header bytes (u32)
 *   header: step (u64), data cursor (seed, epoch, position: 3 x u64), rng state (u64),
 *           parameter count P (u64), config JSON bytes (u64),
 *           [version 2] auxiliary count A (u64), auxiliary scalar (f64 bits, u64)
 *           [version 3] run kind (u32: 1 train, 2 rl), the CRC-32 of the run's start (u32: the
 *           stored CRC of the checkpoint it started from, 0 when it started from nothing)
 *   the config (JSON text, the run's effective config)
 *   parameters, AdamW m, AdamW v: 3 x P float32
 *   [version 2] auxiliary parameters, their m, their v: 3 x A float32 (an RL run's value head)
 *   CRC-32 (IEEE, u32) of everything before it
 * Version 1 files (no auxiliary part) and version 2 files (no kind: taken from the auxiliary
 * part, which only RL runs have; no start CRC) are still read.
 * Written to "<path>.tmp.<pid>", flushed and synced, then renamed over <path>: a crash never
 * leaves a half-written checkpoint under the real name, and never damages the previous one. */
#ifndef T2G_CHECKPOINT_H
#define T2G_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "t2g/dataset.h"
#include "t2g/status.h"

#define T2G_CHECKPOINT_VERSION 3u

/* What wrote a checkpoint. */
typedef enum t2g_run_kind { T2G_RUN_UNKNOWN = 0, T2G_RUN_TRAIN = 1, T2G_RUN_RL = 2 } t2g_run_kind;

typedef struct t2g_checkpoint {
    uint64_t step;              /* optimizer steps taken */
    t2g_data_cursor cursor;
    uint64_t rng_state;         /* the run's t2g_rng */
    char *config_json;          /* NUL-terminated */
    uint64_t param_count;
    float *params, *m, *v;      /* param_count each */
    uint64_t aux_count;         /* auxiliary parameters (0: none) */
    float *aux_params, *aux_m, *aux_v; /* aux_count each */
    double aux_scalar;          /* an RL run's KL coefficient (0 when unused) */
    t2g_run_kind kind;          /* the run that wrote it */
    uint32_t start_crc;         /* the stored CRC-32 of the checkpoint the run started from (0: none) */
    uint32_t file_crc;          /* on load: this file's own stored CRC-32 (its identity) */
} t2g_checkpoint;

t2g_status t2g_checkpoint_save(const char *path, const t2g_checkpoint *checkpoint, t2g_error *err);
/* Reads and verifies (magic, version, sizes against the file's length, CRC); every failure
 * names the file and what is wrong. The arrays are malloc'ed: free with t2g_checkpoint_free. */
t2g_status t2g_checkpoint_load(const char *path, t2g_checkpoint *checkpoint, t2g_error *err);
void t2g_checkpoint_free(t2g_checkpoint *checkpoint);
/* The CRC-32 stored at the end of a checkpoint file, read without loading it (its identity, for
 * a run to check that the checkpoint it started from has not changed). */
t2g_status t2g_checkpoint_stored_crc(const char *path, uint32_t *crc, t2g_error *err);
/* The checkpoint a model path names: `path` itself, or <path>/checkpoint.bin when it is a run
 * folder. */
t2g_status t2g_checkpoint_resolve(const char *path, char *checkpoint, size_t size, t2g_error *err);
/* "train", "rl" or "unknown". */
const char *t2g_run_kind_name(t2g_run_kind kind);

/* CRC-32 (IEEE 802.3, as zlib's crc32), continuing from `crc` (0 to start). */
uint32_t t2g_crc32(uint32_t crc, const void *data, size_t len);

#endif
