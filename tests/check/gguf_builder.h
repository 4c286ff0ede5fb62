/* A tiny GGUF writer for the tests only (little-endian bytes in memory): the checks of
 * check_gguf*.c build files with it, field by field, then break them on purpose. Independent of
 * the library's GGUF writer. Allocation failure exits (as check_host does). */
#ifndef T2G_CHECK_GGUF_BUILDER_H
#define T2G_CHECK_GGUF_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check.h"

typedef struct gguf_builder {
    unsigned char *data;
    size_t len, capacity;
} gguf_builder;

void gb_bytes(gguf_builder *b, const void *bytes, size_t n);
void gb_u8(gguf_builder *b, uint8_t v);
void gb_u16(gguf_builder *b, uint16_t v);
void gb_u32(gguf_builder *b, uint32_t v);
void gb_u64(gguf_builder *b, uint64_t v);
void gb_f32(gguf_builder *b, float v);
void gb_f64(gguf_builder *b, double v);
void gb_string(gguf_builder *b, const char *s); /* u64 length + bytes */
/* A key's name and value type; the caller writes the value. */
void gb_key(gguf_builder *b, const char *name, uint32_t value_type);
void gb_free(gguf_builder *b);

/* A tensor to lay out: its data (bytes) is written at the next aligned offset. */
typedef struct gb_tensor {
    const char *name;
    uint32_t n_dims;
    uint64_t dims[4];
    uint32_t type;
    const void *data;
    size_t bytes;
} gb_tensor;

/* Where gb_file put things (offsets in the file), for tests that break them. */
typedef struct gb_layout {
    size_t keys_at;           /* the first key */
    size_t infos_at;          /* the first tensor info */
    size_t offset_field_at[16]; /* each tensor's u64 offset field (first 16 tensors) */
    size_t type_field_at[16];   /* each tensor's u32 type field */
    size_t data_at;           /* the data section */
    uint64_t tensor_offset[16]; /* each tensor's offset from the data section */
} gb_layout;

/* A whole file: header (version, tensor count, key_count), the keys' bytes as given, the
 * tensor infos, padding to `alignment` and the tensors' data, each padded to `alignment`
 * (the last one not padded, so the file ends with its data). */
void gb_file(gguf_builder *out, uint32_t version, uint64_t key_count, const gguf_builder *keys, const gb_tensor *tensors,
             uint32_t tensor_count, uint32_t alignment, gb_layout *layout);

/* Writes bytes[0..len) to path; false (a failure) if it cannot. */
bool gb_save(check_ctx *ctx, const char *path, const void *bytes, size_t len);

/* A fresh temporary folder for a check's files (path holds at least 256 bytes). */
bool gb_temp_dir(check_ctx *ctx, char *path, size_t size);

#endif
