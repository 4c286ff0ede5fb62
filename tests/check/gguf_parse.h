/* A minimal GGUF parser for the writer's tests, written from the format's description and
 * independent of src/io: the header, every key-value pair (where its value's bytes are), the
 * tensor infos and where the data starts. Bounds-checked: a malformed file gives a message. */
#ifndef T2G_TESTS_GGUF_PARSE_H
#define T2G_TESTS_GGUF_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GGUF_PARSE_MAX_KV 64
#define GGUF_PARSE_MAX_TENSORS 32

typedef struct gguf_parsed_kv {
    const unsigned char *key;  /* key_len bytes */
    uint64_t key_len;
    uint32_t type;             /* GGUF's value type (9: an array) */
    uint32_t array_type;       /* arrays: the elements' type */
    uint64_t array_count;      /* arrays: how many */
    const unsigned char *value; /* scalars and strings: the value as stored; arrays: the first element */
    uint64_t value_bytes;      /* arrays: of the elements only */
} gguf_parsed_kv;

typedef struct gguf_parsed_tensor {
    const unsigned char *name;
    uint64_t name_len;
    uint32_t n_dims;
    uint64_t dims[4];
    uint32_t type;
    uint64_t offset;
} gguf_parsed_tensor;

typedef struct gguf_parsed {
    unsigned char *bytes;      /* the whole file (malloc'ed) */
    uint64_t size;
    uint32_t version;
    uint64_t tensor_count, kv_count;
    gguf_parsed_kv kv[GGUF_PARSE_MAX_KV];
    gguf_parsed_tensor tensors[GGUF_PARSE_MAX_TENSORS];
    uint64_t header_end;       /* bytes of header, metadata and tensor infos */
    uint32_t alignment;        /* general.alignment, else 32 */
    uint64_t data_start;       /* header_end rounded up to the alignment */
} gguf_parsed;

/* Reads and parses the file; false with a message in why[why_size] on a malformed one. */
bool gguf_parse_file(const char *path, gguf_parsed *out, char *why, size_t why_size);
void gguf_parse_free(gguf_parsed *parsed);

/* Little-endian integer of `bytes` bytes at p. */
uint64_t gguf_parse_le(const unsigned char *p, unsigned bytes);
/* Bytes of one scalar of a value type (0 for a string or an array). */
unsigned gguf_parse_scalar_bytes(uint32_t type);
/* The pair whose key is `key`, or NULL. */
const gguf_parsed_kv *gguf_parse_find(const gguf_parsed *parsed, const char *key);

#endif
