/* Helpers of the checkpoint checks (check_checkpoint.c, check_checkpoint_v4.c). */
#ifndef T2G_CHECK_CHECKPOINT_FILES_H
#define T2G_CHECK_CHECKPOINT_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "t2g/checkpoint.h"

/* ---- scratch files ---- */

/* A new scratch directory under $TMPDIR (or /tmp) into dir. */
bool ct_make_dir(check_ctx *ctx, char *dir, size_t size);
/* Removes the files of a scratch directory (one level of subdirectories) and the directory. */
void ct_remove_dir(const char *dir);
/* Files of dir whose name holds ".tmp.". */
int ct_temp_files(const char *dir);
/* The whole file (host memory of the case), NULL if it cannot be opened. */
unsigned char *ct_read_file(check_ctx *ctx, const char *path, size_t *len);
bool ct_write_file(const char *path, const void *bytes, size_t len);

/* ---- checkpoints ---- */

/* n floats of random bits, never NaN or Inf (checkpoints refuse non-finite values). */
float *ct_random_floats_bits(check_ctx *ctx, uint64_t n);
/* Adds an auxiliary part: aux_count floats of each array and a finite scalar. */
void ct_add_aux(check_ctx *ctx, t2g_checkpoint *ck, uint64_t aux_count);
/* Random counters, kind and start CRC, param_count random floats in params, m and v; no table. */
t2g_checkpoint ct_random_checkpoint(check_ctx *ctx, uint64_t param_count, const char *config);
/* Every field and array of a equal, bit for bit, in b (the table aside). */
bool ct_same_checkpoint(const t2g_checkpoint *a, const t2g_checkpoint *b);
/* Writes `bytes` to path (unless NULL) and expects loading it to fail with `status` and a
 * message holding the path and each of `a` and `b` (NULLs ignored), the output left cleared. */
bool ct_expect_load_error(check_ctx *ctx, const char *path, const void *bytes, size_t len, t2g_status status,
                          const char *label, const char *a, const char *b);

/* ---- bytes ---- */

uint32_t ct_le32(const unsigned char *p);
uint64_t ct_le64(const unsigned char *p);
void ct_put_le32(unsigned char *p, uint32_t v);
void ct_put_le64(unsigned char *p, uint64_t v);
/* The CRC-32 of a file's bytes but the last 4, stored in them. */
void ct_reseal(unsigned char *file, size_t len);
/* CRC-32 bit by bit, as a reference for the table-driven one. */
uint32_t ct_bitwise_crc32(const unsigned char *p, size_t len);
/* A checkpoint in the version 3 layout (host memory of the case), sealed. */
unsigned char *ct_v3_file(check_ctx *ctx, const t2g_checkpoint *ck, size_t *len);
/* Whether `file` is ck in the version 4 layout, byte by byte: the preamble, a directory of ck's
 * scalars and config and `tensors` tensors, zeros up to the 64-byte aligned data, each tensor
 * aligned, after the previous one with zeros between, its floats little-endian as in ck, and the
 * CRC-32. If not, why. */
bool ct_v4_layout(const unsigned char *file, size_t len, const t2g_checkpoint *ck, uint32_t tensors, char *why,
                  size_t size);

#endif
