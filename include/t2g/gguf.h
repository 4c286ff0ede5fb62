/* GGUF files (ggml's model format, as llama.cpp ships models), read by t2g's own code.
 *
 * The layout (little-endian): "GGUF", u32 version (2 or 3), u64 tensor count, u64 key count;
 * then each key: a string (u64 length, bytes, no NUL), a u32 value type and the value (a
 * string as above; an array as a u32 element type, a u64 count and the elements); then each
 * tensor's info: its name (a string), u32 n_dims (at most 4), n_dims u64 sizes (dims[0] varies
 * fastest), a u32 ggml type and a u64 offset into the data; then padding to `general.alignment`
 * (default 32, a power of two) and the data, each tensor starting at an aligned offset.
 *
 * t2g_gguf_open maps the whole file read-only and validates all of it before anything uses it:
 * every count, length, size and offset against the file's size (without overflow), every value
 * type, no key or tensor name twice, every tensor's type known, its first size a multiple of
 * its type's block, its bytes aligned, inside the data and overlapping no other tensor. Every
 * error names the file and the key or tensor (and the byte offset where that helps). Refused
 * by name: version 1, big-endian files, a part of a split model (split.count or
 * general.split.count above 1, split.no above 0), arrays of non-empty arrays. Tensor data and
 * strings are then read in place from the map, valid until t2g_gguf_close (the file must not be
 * truncated meanwhile: a read past its new end would be a SIGBUS, as for any mapped file). An
 * open file is only read: several threads may use it at once. */
#ifndef T2G_GGUF_H
#define T2G_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "t2g/status.h"

#define T2G_GGUF_MAX_DIMS 4u
#define T2G_GGUF_MAX_NAME 64u          /* bytes of a tensor's name (as ggml) */
#define T2G_GGUF_DEFAULT_ALIGNMENT 32u

/* Metadata value types (the numbers of the format). */
typedef enum t2g_gguf_value_type {
    T2G_GGUF_U8 = 0,
    T2G_GGUF_I8 = 1,
    T2G_GGUF_U16 = 2,
    T2G_GGUF_I16 = 3,
    T2G_GGUF_U32 = 4,
    T2G_GGUF_I32 = 5,
    T2G_GGUF_F32 = 6,
    T2G_GGUF_BOOL = 7,
    T2G_GGUF_STRING = 8,
    T2G_GGUF_ARRAY = 9,
    T2G_GGUF_U64 = 10,
    T2G_GGUF_I64 = 11,
    T2G_GGUF_F64 = 12,
    T2G_GGUF_VALUE_TYPE_COUNT
} t2g_gguf_value_type;

/* Tensor types t2g reads (ggml's numbers); other known ggml types are listed by
 * t2g_gguf_type_name and t2g_gguf_type_block, and refused when read. */
enum {
    T2G_GGUF_TYPE_F32 = 0,
    T2G_GGUF_TYPE_F16 = 1,
    T2G_GGUF_TYPE_Q4_0 = 2,
    T2G_GGUF_TYPE_Q4_1 = 3,
    T2G_GGUF_TYPE_Q5_0 = 6,
    T2G_GGUF_TYPE_Q5_1 = 7,
    T2G_GGUF_TYPE_Q8_0 = 8,
    T2G_GGUF_TYPE_Q4_K = 12,
    T2G_GGUF_TYPE_Q5_K = 13,
    T2G_GGUF_TYPE_Q6_K = 14,
    T2G_GGUF_TYPE_BF16 = 30,
};

typedef struct t2g_gguf t2g_gguf;

/* One tensor of an open file. */
typedef struct t2g_gguf_tensor {
    const char *name;                   /* NUL-terminated, 1..T2G_GGUF_MAX_NAME bytes */
    uint32_t n_dims;                    /* 0..T2G_GGUF_MAX_DIMS */
    uint64_t dims[T2G_GGUF_MAX_DIMS];   /* dims[0] varies fastest (ggml's ne); 1 past n_dims */
    uint32_t type;                      /* ggml type number */
    uint64_t elements;                  /* the product of dims */
    uint64_t offset;                    /* bytes from the start of the data section */
    uint64_t bytes;                     /* elements / block elements x block bytes */
    const void *data;                   /* into the map: `bytes` bytes */
} t2g_gguf_tensor;

t2g_status t2g_gguf_open(const char *path, t2g_gguf **out, t2g_error *err);
void t2g_gguf_close(t2g_gguf *file);

const char *t2g_gguf_path(const t2g_gguf *file);
uint32_t t2g_gguf_version(const t2g_gguf *file);
uint32_t t2g_gguf_alignment(const t2g_gguf *file);
/* Where the data section starts in the file: a multiple of the alignment (or, in a file of no
 * tensors that leaves out the padding, its size). */
uint64_t t2g_gguf_data_offset(const t2g_gguf *file);

/* ---- metadata ---- */

uint64_t t2g_gguf_key_count(const t2g_gguf *file);
/* The key at `index` (file order), NUL-terminated; NULL past the end. */
const char *t2g_gguf_key(const t2g_gguf *file, uint64_t index);
/* The index of `key`, or -1. */
int64_t t2g_gguf_find_key(const t2g_gguf *file, const char *key);
/* The value type of the key at `index` (T2G_GGUF_VALUE_TYPE_COUNT past the end). */
t2g_gguf_value_type t2g_gguf_value_type_at(const t2g_gguf *file, uint64_t index);
/* "u8", "i8", ..., "string", "array", ...; "unknown" past the table. */
const char *t2g_gguf_value_type_name(t2g_gguf_value_type type);

/* The typed getters. `found` NULL: a missing key is an error (T2G_ERR_FORMAT) naming it;
 * `found` given: a missing key sets *found = false, leaves *out alone and returns T2G_OK.
 * A value of another type, or out of the wanted range, is always an error naming the key, the
 * type found and the type wanted. */
/* Any integer type, non-negative (and for u32 at most 2^32 - 1). */
t2g_status t2g_gguf_get_u64(const t2g_gguf *file, const char *key, bool *found, uint64_t *out, t2g_error *err);
t2g_status t2g_gguf_get_u32(const t2g_gguf *file, const char *key, bool *found, uint32_t *out, t2g_error *err);
/* Any integer type (a u64 above 2^63 - 1 refused). */
t2g_status t2g_gguf_get_i64(const t2g_gguf *file, const char *key, bool *found, int64_t *out, t2g_error *err);
/* f32 or f64. */
t2g_status t2g_gguf_get_f64(const t2g_gguf *file, const char *key, bool *found, double *out, t2g_error *err);
t2g_status t2g_gguf_get_bool(const t2g_gguf *file, const char *key, bool *found, bool *out, t2g_error *err);
/* A string in place: *text points into the map (not NUL-terminated), *len bytes. */
t2g_status t2g_gguf_get_string(const t2g_gguf *file, const char *key, bool *found, const char **text, size_t *len,
                               t2g_error *err);
/* A string as a malloc'ed NUL-terminated copy (the caller frees it); one holding a NUL byte is
 * refused. */
t2g_status t2g_gguf_get_string_copy(const t2g_gguf *file, const char *key, bool *found, char **out, t2g_error *err);

/* An array value: its element type and count; the elements through the t2g_gguf_array_* below. */
typedef struct t2g_gguf_array {
    const t2g_gguf *file;
    uint64_t key_index;
    t2g_gguf_value_type type; /* of the elements (T2G_GGUF_ARRAY only for an empty array of arrays) */
    uint64_t count;
} t2g_gguf_array;

t2g_status t2g_gguf_get_array(const t2g_gguf *file, const char *key, bool *found, t2g_gguf_array *out,
                              t2g_error *err);
/* Element i (i < count) as a string in place / an integer (any integer type) / a float (f32 or
 * f64); another element type or i past the end is an error naming the key. */
t2g_status t2g_gguf_array_string(const t2g_gguf_array *array, uint64_t i, const char **text, size_t *len,
                                 t2g_error *err);
t2g_status t2g_gguf_array_i64(const t2g_gguf_array *array, uint64_t i, int64_t *out, t2g_error *err);
t2g_status t2g_gguf_array_f64(const t2g_gguf_array *array, uint64_t i, double *out, t2g_error *err);

/* ---- tensors ---- */

uint64_t t2g_gguf_tensor_count(const t2g_gguf *file);
/* The tensor at `index` (file order), or NULL past the end. */
const t2g_gguf_tensor *t2g_gguf_tensor_at(const t2g_gguf *file, uint64_t index);
/* The tensor named `name` (and its index in *index if not NULL), or NULL. */
const t2g_gguf_tensor *t2g_gguf_tensor_find(const t2g_gguf *file, const char *name, uint64_t *index);
/* The whole tensor at `index` dequantized to f32 into out[0..count): count must equal its
 * elements; a type t2g does not read is an error naming the tensor and the type. */
t2g_status t2g_gguf_tensor_read_f32(const t2g_gguf *file, uint64_t index, float *out, size_t count, t2g_error *err);

/* ---- tensor types (one table) ---- */

/* "F32", "Q4_K", ... for every ggml type number known; NULL for an unknown number. */
const char *t2g_gguf_type_name(uint32_t type);
/* The layout of a known type: elements per block and bytes per block; false for an unknown one. */
bool t2g_gguf_type_block(uint32_t type, uint32_t *block_elements, uint32_t *block_bytes);
/* Whether t2g dequantizes the type (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K). */
bool t2g_gguf_type_readable(uint32_t type);
/* `elements` values of blocks of `type` (elements a multiple of its block) into out: the
 * arithmetic of ggml's reference dequantizers, in f32, so results are exact and the same on
 * every host. */
t2g_status t2g_gguf_dequantize(uint32_t type, const void *blocks, size_t elements, float *out, t2g_error *err);

#endif
