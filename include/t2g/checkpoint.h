/* Checkpoints: everything a run needs to continue exactly where it stopped.
 *
 * The file (version 4), little-endian:
 *   magic "T2GCKPT\0" (8 bytes), format version (u32: 4), directory bytes D (u32)
 *   the directory: D bytes of UTF-8 JSON, one object with exactly these keys (two optional):
 *     "step", "rng_state"         64-bit integers as strings of decimal digits (a JSON number is
 *                                 a double and cannot hold every 64-bit value)
 *     "data_cursor"               {"seed", "epoch", "position"}: 64-bit integers as strings
 *     "run_kind"                  "train" or "rl"
 *     "start_crc"                 the stored CRC-32 of the checkpoint the run started from (0: none)
 *     "aux_scalar"                a number (an RL run's KL coefficient; 0 when unused)
 *     "config"                    a string: the run's effective config, its JSON text as is
 *     "buffer_floats"             P: floats of the flat parameter buffer (and of m and v)
 *     "data_bytes"                the length of the data
 *     "tokenizer", "tokenizer_config"  optional strings: the texts of the model's tokenizer.json and
 *                                 tokenizer_config.json (a model from a Hugging Face folder); absent:
 *                                 t2g's byte tokenizer
 *     "tensors"                   an array of {"name", "dtype": "f32", "shape": [d0] or [d0, d1],
 *                                 "offset" and "bytes" (in the data), and for the parameters and
 *                                 their moments "buffer_offset" (floats into the flat buffer)}
 *   zeros up to the next multiple of 64 bytes from the start of the file: where the data starts
 *   the data: data_bytes bytes; each tensor row-major at its offset (the writer puts each at a
 *     multiple of 64 bytes and fills the gaps with zeros)
 *   CRC-32 (IEEE, u32) of everything before it
 * The tensors, by name:
 *   "params/wte", "params/h.3.qkvw", ...  each parameter tensor of the model's table (a tensor
 *     of block l is "h.<l>.<name>", one of the model "<name>"); vectors have shape [cols],
 *     matrices [rows, cols]; "adamw_m/..." and "adamw_v/..." the same for AdamW's moments, each
 *     with the shape and buffer offset of its parameter
 *   or, for a checkpoint saved without a table, "params", "adamw_m", "adamw_v": shape [P] each,
 *     the flat buffers whole
 *   "value_head/params", "value_head/adamw_m", "value_head/adamw_v": the auxiliary part (an RL
 *     run's value head), shape [A] each, or absent
 * The flat buffer's floats that no tensor covers (the padding that aligns each tensor) are 0.
 * Before anything is allocated or read the loader checks the directory against the file's length
 * (D, data_bytes, every offset and size; at most 64 floats of padding per tensor in the buffer);
 * then that every name is unique and known, every dtype f32, shape product x 4 == bytes, no two
 * tensors share a byte of the data or a float of the buffer, and every parameter has its two
 * moments. Every failure names the file and the tensor or key.
 *
 * Versions 1 to 3 (no directory: the parameters, m and v positional, 3 x P float32 in the layout
 * of gpt2's table, which is unchanged) are still read:
 *   magic, version (u32), header bytes (u32)
 *   header: step (u64), data cursor (seed, epoch, position: 3 x u64), rng state (u64),
 *           parameter count P (u64), config JSON bytes (u64),
 *           [version 2] auxiliary count A (u64), auxiliary scalar (f64 bits, u64)
 *           [version 3] run kind (u32: 1 train, 2 rl), the start's CRC-32 (u32)
 *   the config (JSON text); parameters, AdamW m, AdamW v: 3 x P float32
 *   [version 2] auxiliary parameters, their m, their v: 3 x A float32; CRC-32 of the rest
 * Version 1 files have no auxiliary part; version 2 files no kind (taken from the auxiliary part,
 * which only RL runs have) and no start CRC.
 * Written to "<path>.tmp.<pid>", flushed and synced, then renamed over <path>: a crash never
 * leaves a half-written checkpoint under the real name, and never damages the previous one. */
#ifndef T2G_CHECKPOINT_H
#define T2G_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "t2g/dataset.h"
#include "t2g/gpt.h"
#include "t2g/status.h"

#define T2G_CHECKPOINT_VERSION 4u
/* The most bytes of a version 4 directory a loader accepts. */
#define T2G_CHECKPOINT_DIRECTORY_MAX (64u << 20)

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
    char *tokenizer_json;       /* the model's tokenizer.json text, NUL-terminated; NULL: t2g's byte tokenizer */
    char *tokenizer_config_json;/* its tokenizer_config.json text; NULL: none */
    /* The parameter tensors that params, m and v hold. On save: the model's table
     * (t2g_gpt_params), each row within param_count floats; NULL (count 0) saves the buffers as
     * the tensors "params", "adamw_m" and "adamw_v" whole. On load: the file's directory, malloc'ed
     * (names included; decay false), in the file's order; NULL (count 0) for a version 1 to 3
     * file or one saved without a table. */
    const t2g_gpt_param *table;
    uint32_t table_count;
} t2g_checkpoint;

/* Writes version 4, atomically. Refused (T2G_ERR_ARGUMENT, the file at `path` kept): a NaN or
 * Inf anywhere, no run kind, a table row that is not a tensor of the buffer (a name of letters,
 * digits and '_', inside param_count floats) or two rows sharing a name, block or floats. */
t2g_status t2g_checkpoint_save(const char *path, const t2g_checkpoint *checkpoint, t2g_error *err);
/* Reads and verifies (magic, version, the header or directory against the file's length and
 * itself, CRC); every failure names the file and what is wrong. The arrays (and the directory's
 * table) are malloc'ed: free with t2g_checkpoint_free. */
t2g_status t2g_checkpoint_load(const char *path, t2g_checkpoint *checkpoint, t2g_error *err);
void t2g_checkpoint_free(t2g_checkpoint *checkpoint);
/* Whether a loaded checkpoint holds the model of this table (t2g_gpt_params) and flat buffer of
 * buffer_floats floats (t2g_gpt_buffer_floats), so that its params, m and v can be written into
 * it as they are: every tensor of the table in the checkpoint's directory with the same shape
 * and buffer offset, and no other. A tensor missing, one too many or a shape or place that
 * disagrees is an error naming the tensor and both shapes. A checkpoint without a directory
 * (versions 1 to 3, or saved without a table) matches when its parameter count is buffer_floats. */
t2g_status t2g_checkpoint_match_table(const t2g_checkpoint *checkpoint, const t2g_gpt_param *table, uint32_t count,
                                      uint64_t buffer_floats, t2g_error *err);
/* The same for the table and buffer of a model; `what` (the checkpoint's path, "model.from")
 * goes in front of the message. */
t2g_status t2g_checkpoint_match_model(const t2g_checkpoint *checkpoint, const t2g_gpt *gpt, const char *what,
                                      t2g_error *err);
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
