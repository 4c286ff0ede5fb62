/* Writing GGUF files (ggml's and llama.cpp's model format), version 3, little-endian.
 *
 * The layout: "GGUF", u32 version 3, u64 tensor count, u64 metadata count; the metadata, each a
 * key (u64 length, bytes), a u32 value type and the value (strings: u64 length and bytes; arrays:
 * u32 element type, u64 count, the elements); the tensor infos, each a name, u32 rank, u64 dims
 * (ggml order: dims[0] varies fastest, so a row-major [rows, cols] matrix has dims {cols, rows}),
 * u32 tensor type and a u64 offset from the start of the data; zero padding to the alignment;
 * then each tensor's data, padded with zeros to the alignment. The alignment is 32 bytes unless
 * the u32 key "general.alignment" says otherwise (a power of two).
 *
 * Use: t2g_gguf_writer_new(path); add the metadata and declare the tensors (name, type, dims), in
 * any order; then give each tensor's f32 elements, in ggml order, tensor after tensor in the
 * order declared, each whole or in pieces (t2g_gguf_write_data); t2g_gguf_writer_finish renames the
 * complete file over the path. The header is built in memory (a tokenizer's 50k strings are a
 * few MB); tensor data is converted in small chunks and streamed to the file, never held whole.
 * The file is written atomically (a temporary file beside the path, renamed when complete);
 * after any error nothing is left behind and the writer only accepts t2g_gguf_writer_free.
 *
 * Stored types: F32; F16 and BF16 rounded to nearest, ties to even (t2g/dtype.h); Q8_0 blocks
 * of 32 elements along dims[0] (34 bytes: the scale d = max|x| / 127 as f16, then 32 int8
 * q = x * (1/d) rounded half away from zero, as ggml's reference quantizer and the gguf Python
 * package compute them in f32; where 1/d overflows f32, max|x| below about 4e-37, q = x / d). */
#ifndef T2G_GGUF_WRITE_H
#define T2G_GGUF_WRITE_H

#include <stdbool.h>
#include <stdint.h>

#include "t2g/status.h"

#define T2G_GGUF_WRITE_MAX_DIMS 4u
#define T2G_GGUF_WRITE_MAX_NAME 63u              /* bytes of a tensor's name (ggml's limit) */
#define T2G_GGUF_WRITE_MAX_KEY 65535u            /* bytes of a metadata key (the spec's limit) */
#define T2G_GGUF_WRITE_DEFAULT_ALIGNMENT 32u
#define T2G_GGUF_WRITE_Q8_0_BLOCK 32u            /* elements of one Q8_0 block */

/* The types a tensor can be written in; the values are ggml's type ids as stored in the file. */
typedef enum t2g_gguf_write_type {
    T2G_GGUF_WRITE_F32 = 0,
    T2G_GGUF_WRITE_F16 = 1,
    T2G_GGUF_WRITE_Q8_0 = 8,
    T2G_GGUF_WRITE_BF16 = 30,
} t2g_gguf_write_type;

/* "F32", "F16", "Q8_0", "BF16"; NULL for another value. */
const char *t2g_gguf_write_type_name(t2g_gguf_write_type type);
/* The type of a name, any case ("f16", "Q8_0", ...); false for another name. */
bool t2g_gguf_write_type_from_name(const char *name, t2g_gguf_write_type *type);
/* Bytes a tensor of `elements` takes in the file before padding (Q8_0: elements a multiple of 32). */
uint64_t t2g_gguf_write_type_bytes(t2g_gguf_write_type type, uint64_t elements);

typedef struct t2g_gguf_writer t2g_gguf_writer;

/* A writer for the file at `path` (nothing is created until the first data or finish). */
t2g_status t2g_gguf_writer_new(const char *path, t2g_gguf_writer **writer, t2g_error *err);
/* Frees the writer; an unfinished file is removed (the path keeps what it had). NULL is fine. */
void t2g_gguf_writer_free(t2g_gguf_writer *writer);

/* ---- metadata, in the order added; a key given twice is refused naming it ---- */
/* Keys: 1 to T2G_GGUF_WRITE_MAX_KEY bytes. "general.alignment" must be a u32 and a power of two;
 * it sets the alignment of the tensor data. */

t2g_status t2g_gguf_add_u8(t2g_gguf_writer *writer, const char *key, uint8_t value, t2g_error *err);
t2g_status t2g_gguf_add_i8(t2g_gguf_writer *writer, const char *key, int8_t value, t2g_error *err);
t2g_status t2g_gguf_add_u16(t2g_gguf_writer *writer, const char *key, uint16_t value, t2g_error *err);
t2g_status t2g_gguf_add_i16(t2g_gguf_writer *writer, const char *key, int16_t value, t2g_error *err);
t2g_status t2g_gguf_add_u32(t2g_gguf_writer *writer, const char *key, uint32_t value, t2g_error *err);
t2g_status t2g_gguf_add_i32(t2g_gguf_writer *writer, const char *key, int32_t value, t2g_error *err);
t2g_status t2g_gguf_add_u64(t2g_gguf_writer *writer, const char *key, uint64_t value, t2g_error *err);
t2g_status t2g_gguf_add_i64(t2g_gguf_writer *writer, const char *key, int64_t value, t2g_error *err);
t2g_status t2g_gguf_add_f32(t2g_gguf_writer *writer, const char *key, float value, t2g_error *err);
t2g_status t2g_gguf_add_f64(t2g_gguf_writer *writer, const char *key, double value, t2g_error *err);
t2g_status t2g_gguf_add_bool(t2g_gguf_writer *writer, const char *key, bool value, t2g_error *err);
/* A NUL-terminated string (UTF-8 by convention; the bytes are stored as given). */
t2g_status t2g_gguf_add_string(t2g_gguf_writer *writer, const char *key, const char *value, t2g_error *err);

/* Arrays of `count` values (count may be 0; values may then be NULL). */
t2g_status t2g_gguf_add_u8_array(t2g_gguf_writer *writer, const char *key, const uint8_t *values, uint64_t count,
                                 t2g_error *err);
t2g_status t2g_gguf_add_i8_array(t2g_gguf_writer *writer, const char *key, const int8_t *values, uint64_t count,
                                 t2g_error *err);
t2g_status t2g_gguf_add_u16_array(t2g_gguf_writer *writer, const char *key, const uint16_t *values, uint64_t count,
                                  t2g_error *err);
t2g_status t2g_gguf_add_i16_array(t2g_gguf_writer *writer, const char *key, const int16_t *values, uint64_t count,
                                  t2g_error *err);
t2g_status t2g_gguf_add_u32_array(t2g_gguf_writer *writer, const char *key, const uint32_t *values, uint64_t count,
                                  t2g_error *err);
t2g_status t2g_gguf_add_i32_array(t2g_gguf_writer *writer, const char *key, const int32_t *values, uint64_t count,
                                  t2g_error *err);
t2g_status t2g_gguf_add_u64_array(t2g_gguf_writer *writer, const char *key, const uint64_t *values, uint64_t count,
                                  t2g_error *err);
t2g_status t2g_gguf_add_i64_array(t2g_gguf_writer *writer, const char *key, const int64_t *values, uint64_t count,
                                  t2g_error *err);
t2g_status t2g_gguf_add_f32_array(t2g_gguf_writer *writer, const char *key, const float *values, uint64_t count,
                                  t2g_error *err);
t2g_status t2g_gguf_add_f64_array(t2g_gguf_writer *writer, const char *key, const double *values, uint64_t count,
                                  t2g_error *err);
t2g_status t2g_gguf_add_bool_array(t2g_gguf_writer *writer, const char *key, const bool *values, uint64_t count,
                                   t2g_error *err);
/* `count` strings; lengths[i] bytes of strings[i] (which may then hold NUL bytes), or with
 * lengths NULL each up to its NUL. */
t2g_status t2g_gguf_add_string_array(t2g_gguf_writer *writer, const char *key, const char *const *strings,
                                     const uint64_t *lengths, uint64_t count, t2g_error *err);

/* ---- tensors ---- */

/* Declares the next tensor: its name (1 to T2G_GGUF_WRITE_MAX_NAME bytes, not given before),
 * the type it is stored in, and n_dims (1 to 4) dims in ggml order, each >= 1. Q8_0 needs
 * dims[0] to be a multiple of 32 (its blocks run along dims[0]). Before any data is written. */
t2g_status t2g_gguf_add_tensor(t2g_gguf_writer *writer, const char *name, t2g_gguf_write_type type, uint32_t n_dims,
                               const uint64_t *dims, t2g_error *err);

/* The next `count` f32 elements (ggml order) of the current tensor, converted to its type: the
 * first call creates the file and writes the header. count is at most what the tensor still
 * lacks (a piece never spans two tensors; a Q8_0 block may span two pieces); a filled tensor is
 * padded and the next one becomes current. A Q8_0 tensor's elements must be finite, with
 * max|x| / 127 within f16's range. Any error stops the writer and removes its file. */
t2g_status t2g_gguf_write_data(t2g_gguf_writer *writer, const float *values, uint64_t count, t2g_error *err);

/* Completes the file (every tensor's data given) and renames it over the path. */
t2g_status t2g_gguf_writer_finish(t2g_gguf_writer *writer, t2g_error *err);

#endif
