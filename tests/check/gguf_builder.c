/* The tests' GGUF writer (gguf_builder.h). */
#include "gguf_builder.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gb_bytes(gguf_builder *b, const void *bytes, size_t n) {
    if (b->len + n > b->capacity) {
        size_t capacity = b->capacity ? b->capacity : 256;
        while (capacity < b->len + n) capacity *= 2;
        unsigned char *grown = realloc(b->data, capacity);
        if (!grown) {
            fprintf(stderr, "gguf_builder: out of memory for %zu bytes\n", capacity);
            exit(1);
        }
        b->data = grown;
        b->capacity = capacity;
    }
    if (n) memcpy(b->data + b->len, bytes, n);
    b->len += n;
}

/* v's low `n` bytes, least significant first. */
static void little_endian(gguf_builder *b, uint64_t v, int n) {
    unsigned char bytes[8];
    for (int i = 0; i < n; i++) bytes[i] = (unsigned char)(v >> (8 * i));
    gb_bytes(b, bytes, (size_t)n);
}

void gb_u8(gguf_builder *b, uint8_t v) { little_endian(b, v, 1); }
void gb_u16(gguf_builder *b, uint16_t v) { little_endian(b, v, 2); }
void gb_u32(gguf_builder *b, uint32_t v) { little_endian(b, v, 4); }
void gb_u64(gguf_builder *b, uint64_t v) { little_endian(b, v, 8); }

void gb_f32(gguf_builder *b, float v) {
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    gb_u32(b, bits);
}

void gb_f64(gguf_builder *b, double v) {
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    gb_u64(b, bits);
}

void gb_string(gguf_builder *b, const char *s) {
    gb_u64(b, strlen(s));
    gb_bytes(b, s, strlen(s));
}

void gb_key(gguf_builder *b, const char *name, uint32_t value_type) {
    gb_string(b, name);
    gb_u32(b, value_type);
}

void gb_free(gguf_builder *b) {
    free(b->data);
    *b = (gguf_builder){0};
}

static void pad_to(gguf_builder *b, uint32_t alignment) {
    while (b->len % alignment) gb_u8(b, 0);
}

void gb_file(gguf_builder *out, uint32_t version, uint64_t key_count, const gguf_builder *keys, const gb_tensor *tensors,
             uint32_t tensor_count, uint32_t alignment, gb_layout *layout) {
    gb_layout unused;
    if (!layout) layout = &unused;
    memset(layout, 0, sizeof *layout);
    gb_bytes(out, "GGUF", 4);
    gb_u32(out, version);
    gb_u64(out, tensor_count);
    gb_u64(out, key_count);
    layout->keys_at = out->len;
    gb_bytes(out, keys->data, keys->len);
    layout->infos_at = out->len;
    uint64_t offset = 0;
    for (uint32_t i = 0; i < tensor_count; i++) {
        const gb_tensor *t = &tensors[i];
        gb_string(out, t->name);
        gb_u32(out, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++) gb_u64(out, t->dims[d]);
        if (i < 16) layout->type_field_at[i] = out->len;
        gb_u32(out, t->type);
        if (i < 16) {
            layout->offset_field_at[i] = out->len;
            layout->tensor_offset[i] = offset;
        }
        gb_u64(out, offset);
        offset += (t->bytes + alignment - 1) / alignment * alignment;
    }
    pad_to(out, alignment);
    layout->data_at = out->len;
    for (uint32_t i = 0; i < tensor_count; i++) {
        gb_bytes(out, tensors[i].data, tensors[i].bytes);
        if (i + 1 < tensor_count) pad_to(out, alignment);
    }
}

bool gb_save(check_ctx *ctx, const char *path, const void *bytes, size_t len) {
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(bytes, 1, len, f) == len;
    if (f && fclose(f) != 0) ok = false;
    if (!ok) check_fail(ctx, "cannot write %s: %s", path, strerror(errno));
    return ok;
}

bool gb_temp_dir(check_ctx *ctx, char *path, size_t size) {
    const char *tmp = getenv("TMPDIR");
    snprintf(path, size, "%s/t2g-check-gguf-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(path)) {
        check_fail(ctx, "mkdtemp %s: %s", path, strerror(errno));
        return false;
    }
    return true;
}
