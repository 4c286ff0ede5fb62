/* What the GGUF writer's files share (t2g/gguf_write.h): the writer's state, the encoding of
 * tensor data, and the header's construction. */
#ifndef T2G_IO_GGUF_WRITE_INTERNAL_H
#define T2G_IO_GGUF_WRITE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/atomic_write.h"
#include "t2g/gguf_write.h"

#define T2G_GGUF_Q8_0_BLOCK_BYTES 34u /* f16 scale + 32 int8 */

/* GGUF's metadata value types, as stored. */
enum {
    T2G_GGUF_VALUE_U8 = 0, T2G_GGUF_VALUE_I8 = 1, T2G_GGUF_VALUE_U16 = 2, T2G_GGUF_VALUE_I16 = 3,
    T2G_GGUF_VALUE_U32 = 4, T2G_GGUF_VALUE_I32 = 5, T2G_GGUF_VALUE_F32 = 6, T2G_GGUF_VALUE_BOOL = 7,
    T2G_GGUF_VALUE_STRING = 8, T2G_GGUF_VALUE_ARRAY = 9, T2G_GGUF_VALUE_U64 = 10, T2G_GGUF_VALUE_I64 = 11,
    T2G_GGUF_VALUE_F64 = 12,
};

typedef struct t2g_gguf_write_tensor {
    char *name;
    t2g_gguf_write_type type;
    uint32_t n_dims;
    uint64_t dims[T2G_GGUF_WRITE_MAX_DIMS]; /* ggml order: dims[0] fastest */
    uint64_t elements, bytes;               /* bytes before padding */
    uint64_t offset;                        /* from the start of the data, set when the header is built */
} t2g_gguf_write_tensor;

typedef enum t2g_gguf_write_state {
    T2G_GGUF_ADDING,  /* metadata and tensor declarations */
    T2G_GGUF_WRITING, /* the header is written; tensor data follows */
    T2G_GGUF_DONE,    /* renamed over the path */
    T2G_GGUF_FAILED,  /* an error stopped it; the temporary file is gone */
} t2g_gguf_write_state;

typedef struct t2g_gguf_key_span {
    size_t offset, length; /* the key's bytes in the metadata buffer */
} t2g_gguf_key_span;

struct t2g_gguf_writer {
    char *path;
    t2g_gguf_write_state state;
    uint32_t alignment;

    unsigned char *kv;           /* the metadata section as stored */
    size_t kv_bytes, kv_capacity;
    t2g_gguf_key_span *keys;     /* kv_count keys, for refusing one given twice */
    size_t kv_count, keys_capacity;

    t2g_gguf_write_tensor *tensors;
    size_t tensor_count, tensors_capacity;

    t2g_atomic_file file;        /* while WRITING */
    size_t current;              /* the tensor being filled */
    uint64_t encoded;            /* its elements written to the file */
    float pending[T2G_GGUF_WRITE_Q8_0_BLOCK]; /* a Q8_0 block begun by the caller's last piece */
    uint32_t pending_count;
};

/* Little-endian bytes of value (1, 2, 4 or 8 of them) at p; returns p past them. */
unsigned char *t2g_gguf_put_le(unsigned char *p, uint64_t value, unsigned bytes);

/* value rounded up to a multiple of alignment (a power of two). */
uint64_t t2g_gguf_align(uint64_t value, uint32_t alignment);

/* One Q8_0 block of x[0..32) into out[0..34): false (with *bad the index of the culprit) when an
 * element is not finite or the scale exceeds f16's range, which Q8_0 cannot store. */
bool t2g_gguf_q8_0_block(const float *x, unsigned char *out, uint32_t *bad);

/* Creates the temporary file and writes the header (metadata, tensor infos, padding). */
t2g_status t2g_gguf_write_header(t2g_gguf_writer *w, t2g_error *err);
/* Where tensor data may be written: the header written first if it is not yet; an error when
 * the writer finished or stopped. */
t2g_status t2g_gguf_start_data(t2g_gguf_writer *w, t2g_error *err);

/* Writes bytes to the file; on failure stops the writer (the temporary file removed) and
 * fails naming the file. */
t2g_status t2g_gguf_put_bytes(t2g_gguf_writer *w, const void *bytes, size_t count, t2g_error *err);
/* count zero bytes, likewise. */
t2g_status t2g_gguf_put_zeros(t2g_gguf_writer *w, uint64_t count, t2g_error *err);

/* Stops the writer after an error of the caller's: removes the temporary file and fails with
 * the message, which names the file. */
t2g_status t2g_gguf_stop(t2g_gguf_writer *w, t2g_error *err, t2g_status status, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

#endif
