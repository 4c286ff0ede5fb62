/* safetensors files (Hugging Face's weight format), read and written by t2g's own code.
 *
 * The layout: a u64 little-endian N, N bytes of a JSON object (the header), then the data. The
 * header maps each tensor's name to {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets":
 * [begin, end]} (bytes, relative to the start of the data, row-major, little-endian); the key
 * "__metadata__" holds an object of strings.
 *
 * The reader validates the whole header against the file's size before anything uses it: the
 * header within the file and at most T2G_SAFETENSORS_HEADER_MAX bytes, every entry's dtype one
 * of safetensors' names, shape elements x dtype size == end - begin (without overflow),
 * begin <= end <= the data's size, no two tensors overlapping, no name twice. Every error
 * names the file and the tensor. Tensors are streamed from the file when read, never held
 * whole in memory; any of F32, F16 and BF16 is read converted to f32 (other dtypes are listed,
 * and refused when read). */
#ifndef T2G_SAFETENSORS_H
#define T2G_SAFETENSORS_H

#include <stdbool.h>
#include <stdint.h>

#include "t2g/dtype.h"
#include "t2g/status.h"

#define T2G_SAFETENSORS_HEADER_MAX 100000000u /* bytes of the JSON header (as the safetensors library) */
#define T2G_SAFETENSORS_MAX_RANK 8u

/* One tensor of an open file. */
typedef struct t2g_safetensors_tensor {
    const char *name;
    const char *dtype_name;                    /* as in the file: "F32", "BF16", "I64", ... */
    t2g_dtype dtype;                           /* F32, F16 or BF16; T2G_DTYPE_COUNT for any other */
    uint32_t element_bytes;                    /* bytes of one element (of dtype_name) */
    uint32_t rank;                             /* 0 (a scalar) .. T2G_SAFETENSORS_MAX_RANK */
    uint64_t shape[T2G_SAFETENSORS_MAX_RANK];
    uint64_t elements;                         /* the product of the shape (1 for a scalar) */
    uint64_t begin, end;                       /* bytes, from the start of the data */
} t2g_safetensors_tensor;

typedef struct t2g_safetensors t2g_safetensors;

/* Opens and validates `path`; the file stays open until t2g_safetensors_close. */
t2g_status t2g_safetensors_open(const char *path, t2g_safetensors **file, t2g_error *err);
void t2g_safetensors_close(t2g_safetensors *file);

const char *t2g_safetensors_path(const t2g_safetensors *file);
/* The tensors, in the header's order. */
uint32_t t2g_safetensors_count(const t2g_safetensors *file);
const t2g_safetensors_tensor *t2g_safetensors_at(const t2g_safetensors *file, uint32_t index);
/* The tensor of that name, or NULL. */
const t2g_safetensors_tensor *t2g_safetensors_find(const t2g_safetensors *file, const char *name);
/* A string of "__metadata__", or NULL. */
const char *t2g_safetensors_metadata(const t2g_safetensors *file, const char *key);

/* Elements [first, first + count) of a tensor (row-major), converted to f32, into out[0..count).
 * An F32, F16 or BF16 tensor only; a range past its elements is an error naming both. */
t2g_status t2g_safetensors_read_range(t2g_safetensors *file, const t2g_safetensors_tensor *tensor, uint64_t first,
                                      uint64_t count, float *out, t2g_error *err);
/* The whole tensor into out, which holds `count` floats: count must equal its elements (an
 * error naming both otherwise). */
t2g_status t2g_safetensors_read_f32(t2g_safetensors *file, const t2g_safetensors_tensor *tensor, float *out,
                                    uint64_t count, t2g_error *err);

/* The whole tensor as doubles (count must equal its elements): F64, I64 and I32 as well as F32,
 * F16 and BF16, for reference outputs and token ids (I64 beyond 2^53 rounds). */
t2g_status t2g_safetensors_read_f64(t2g_safetensors *file, const t2g_safetensors_tensor *tensor, double *out,
                                    uint64_t count, t2g_error *err);

/* A tensor to write: its f32 data and the dtype stored. */
typedef struct t2g_safetensors_entry {
    const char *name;
    uint32_t rank;                             /* 1 .. T2G_SAFETENSORS_MAX_RANK */
    uint64_t shape[T2G_SAFETENSORS_MAX_RANK];
    const float *data;                         /* the product of the shape floats */
    bool transposed;                           /* rank 2 only: data holds (shape[1], shape[0]) row-major,
                                                * the tensor's transpose, and is written transposed back */
    t2g_dtype dtype;                           /* stored as F32 (0), F16 or BF16 (rounded to nearest even) */
} t2g_safetensors_entry;

/* Writes the tensors to `path` atomically (t2g's atomic write: a temporary file renamed over the
 * path when complete). The header holds "__metadata__": {"format": "pt"} (transformers requires
 * it) and is padded with spaces to a multiple of 8 bytes; the data follows in the order given. */
t2g_status t2g_safetensors_write(const char *path, const t2g_safetensors_entry *tensors, uint32_t count,
                                 t2g_error *err);

#endif
