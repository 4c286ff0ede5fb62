/* What the GGUF reader's files share (t2g/gguf.h): the open file, validated whole by
 * t2g_gguf_open before any of this is used. */
#ifndef T2G_IO_GGUF_INTERNAL_H
#define T2G_IO_GGUF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "t2g/gguf.h"

/* One metadata value; offsets are from the start of the file. */
typedef struct gguf_value {
    t2g_gguf_value_type type;
    uint64_t at;                      /* a scalar's bytes; a string's bytes; an array's first element */
    uint64_t len;                     /* a string's bytes; an array's element count */
    t2g_gguf_value_type element_type; /* arrays */
    uint64_t *strings;                /* arrays of strings: where each element's u64 length is (len) */
} gguf_value;

typedef struct gguf_key {
    char *name; /* NUL-terminated copy (a key holds no NUL byte) */
    gguf_value value;
} gguf_key;

/* A name and the index of its key or tensor, in arrays sorted by name (strcmp). */
typedef struct gguf_name {
    const char *name;
    uint64_t index;
} gguf_name;

struct t2g_gguf {
    char *path;
    const uint8_t *map; /* the whole file, read-only */
    uint64_t size;
    uint32_t version, alignment;
    uint64_t data_offset;      /* the data section: [data_offset, size) */
    uint64_t key_count, tensor_count;
    gguf_key *keys;            /* (key_count) in file order */
    gguf_name *keys_sorted;    /* (key_count) by name, for lookups */
    t2g_gguf_tensor *tensors;  /* (tensor_count) in file order; names malloc'ed */
    gguf_name *tensors_sorted; /* (tensor_count) by name */
};

/* Bytes of one scalar of `type` (0 for a string, an array or an unknown type). */
uint32_t gguf_scalar_bytes(t2g_gguf_value_type type);

/* The key's name made printable for messages: in quotes, escapes for other bytes, cut at 80. */
void gguf_quote(const uint8_t *bytes, uint64_t len, char *out, size_t size);

/* Little-endian reads from the map (the caller checked the bounds). */
uint64_t gguf_u64_at(const uint8_t *p);

/* The index of `name` in `sorted` (of `count`), or -1. */
int64_t gguf_find_name(const gguf_name *sorted, uint64_t count, const char *name);

#endif
