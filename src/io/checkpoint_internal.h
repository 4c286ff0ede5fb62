/* What the checkpoint's files share (the format is in t2g/checkpoint.h): the byte order, the
 * streamed reader and writer that keep a running CRC-32, and the readers of each version. */
#ifndef T2G_IO_CHECKPOINT_INTERNAL_H
#define T2G_IO_CHECKPOINT_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "t2g/checkpoint.h"

enum {
    CKPT_PREAMBLE_BYTES = 16, /* magic, version, header (or directory) bytes */
    CKPT_CRC_BYTES = 4,
    CKPT_DATA_ALIGN = 64,     /* version 4: the data and each tensor start at a multiple of it */
    CKPT_CHUNK_FLOATS = 16384,
};

extern const unsigned char ckpt_magic[8]; /* "T2GCKPT\0" */

void ckpt_put_u32(unsigned char *p, uint32_t v);
uint32_t ckpt_get_u32(const unsigned char *p);
uint64_t ckpt_get_u64(const unsigned char *p);

/* ---- writing ---- */

typedef struct ckpt_writer {
    FILE *file;
    uint32_t crc;     /* of everything written */
    uint64_t written; /* bytes */
    int error;        /* errno of the first failed write */
} ckpt_writer;

void ckpt_write_bytes(ckpt_writer *w, const void *data, size_t len);
void ckpt_write_zeros(ckpt_writer *w, uint64_t n);
/* n floats, little-endian. */
void ckpt_write_floats(ckpt_writer *w, const float *x, uint64_t n);

/* ---- reading ---- */

typedef struct ckpt_reader {
    FILE *file;
    const char *path;
    uint64_t size; /* of the file */
    uint32_t crc;  /* of everything read */
} ckpt_reader;

/* A file whose header or directory disagrees with its length or itself: the message names the
 * file, and says when the CRC-32 does not match either (damage, then, is likelier). */
t2g_status ckpt_damaged(ckpt_reader *r, t2g_error *err, const char *format, ...) __attribute__((format(printf, 3, 4)));
t2g_status ckpt_read_exactly(ckpt_reader *r, void *data, size_t len, t2g_error *err);
/* n bytes read only for the CRC. */
t2g_status ckpt_skip(ckpt_reader *r, uint64_t n, t2g_error *err);
/* n little-endian floats. */
t2g_status ckpt_read_floats(ckpt_reader *r, float *x, uint64_t n, t2g_error *err);
/* Reads the stored CRC-32 (the reader must be just before it) and compares it with the one
 * computed; ck->file_crc is the stored one. */
t2g_status ckpt_check_crc(ckpt_reader *r, t2g_checkpoint *ck, t2g_error *err);

/* The readers of each version, after the 16-byte preamble: `header_bytes` is its last field. */
t2g_status ckpt_load_positional(ckpt_reader *r, uint32_t version, uint32_t header_bytes, t2g_checkpoint *ck,
                                t2g_error *err);
t2g_status ckpt_load_directory(ckpt_reader *r, uint32_t directory_bytes, t2g_checkpoint *ck, t2g_error *err);
/* The version 4 writer, after the checks of t2g_checkpoint_save: the file, written atomically. */
t2g_status ckpt_save_directory(const char *path, const t2g_checkpoint *ck, t2g_error *err);

#endif
