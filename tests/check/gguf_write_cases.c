/* The GGUF writer checks' shared cases and scratch folders (gguf_write_cases.h). */
#include "gguf_write_cases.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

t2g_status gguf_case_add(t2g_gguf_writer *w, const gguf_case *c, t2g_error *err) {
    const void *v = c->values;
    if (!c->array) {
        switch (c->type) {
        case GGUF_U8: return t2g_gguf_add_u8(w, c->key, *(const uint8_t *)v, err);
        case GGUF_I8: return t2g_gguf_add_i8(w, c->key, *(const int8_t *)v, err);
        case GGUF_U16: return t2g_gguf_add_u16(w, c->key, *(const uint16_t *)v, err);
        case GGUF_I16: return t2g_gguf_add_i16(w, c->key, *(const int16_t *)v, err);
        case GGUF_U32: return t2g_gguf_add_u32(w, c->key, *(const uint32_t *)v, err);
        case GGUF_I32: return t2g_gguf_add_i32(w, c->key, *(const int32_t *)v, err);
        case GGUF_U64: return t2g_gguf_add_u64(w, c->key, *(const uint64_t *)v, err);
        case GGUF_I64: return t2g_gguf_add_i64(w, c->key, *(const int64_t *)v, err);
        case GGUF_F32: return t2g_gguf_add_f32(w, c->key, *(const float *)v, err);
        case GGUF_F64: return t2g_gguf_add_f64(w, c->key, *(const double *)v, err);
        case GGUF_BOOL: return t2g_gguf_add_bool(w, c->key, *(const bool *)v, err);
        default: return t2g_gguf_add_string(w, c->key, *(const char *const *)v, err);
        }
    }
    switch (c->type) {
    case GGUF_U8: return t2g_gguf_add_u8_array(w, c->key, v, c->count, err);
    case GGUF_I8: return t2g_gguf_add_i8_array(w, c->key, v, c->count, err);
    case GGUF_U16: return t2g_gguf_add_u16_array(w, c->key, v, c->count, err);
    case GGUF_I16: return t2g_gguf_add_i16_array(w, c->key, v, c->count, err);
    case GGUF_U32: return t2g_gguf_add_u32_array(w, c->key, v, c->count, err);
    case GGUF_I32: return t2g_gguf_add_i32_array(w, c->key, v, c->count, err);
    case GGUF_U64: return t2g_gguf_add_u64_array(w, c->key, v, c->count, err);
    case GGUF_I64: return t2g_gguf_add_i64_array(w, c->key, v, c->count, err);
    case GGUF_F32: return t2g_gguf_add_f32_array(w, c->key, v, c->count, err);
    case GGUF_F64: return t2g_gguf_add_f64_array(w, c->key, v, c->count, err);
    case GGUF_BOOL: return t2g_gguf_add_bool_array(w, c->key, v, c->count, err);
    default: return t2g_gguf_add_string_array(w, c->key, v, c->lengths, c->count, err);
    }
}

/* Value i of the case as the file's bits (integers zero-extended from their width). */
static uint64_t case_bits(const gguf_case *c, uint64_t i) {
    const void *v = c->values;
    switch (c->type) {
    case GGUF_U8: return ((const uint8_t *)v)[i];
    case GGUF_I8: return (uint8_t)((const int8_t *)v)[i];
    case GGUF_U16: return ((const uint16_t *)v)[i];
    case GGUF_I16: return (uint16_t)((const int16_t *)v)[i];
    case GGUF_U32: return ((const uint32_t *)v)[i];
    case GGUF_I32: return (uint32_t)((const int32_t *)v)[i];
    case GGUF_U64: return ((const uint64_t *)v)[i];
    case GGUF_I64: return (uint64_t)((const int64_t *)v)[i];
    case GGUF_BOOL: return ((const bool *)v)[i] ? 1 : 0;
    case GGUF_F32: {
        uint32_t bits;
        memcpy(&bits, (const float *)v + i, 4);
        return bits;
    }
    default: {
        uint64_t bits;
        memcpy(&bits, (const double *)v + i, 8);
        return bits;
    }
    }
}

bool gguf_case_matches(const gguf_parsed_kv *kv, const gguf_case *c) {
    size_t key_len = strlen(c->key);
    if (kv->key_len != key_len || memcmp(kv->key, c->key, key_len) != 0) return false;
    if (kv->type != (c->array ? (uint32_t)GGUF_ARRAY : c->type)) return false;
    if (c->array && (kv->array_type != c->type || kv->array_count != c->count)) return false;
    const unsigned char *p = kv->value;
    for (uint64_t i = 0; i < c->count; i++) {
        if (c->type == GGUF_STRING) {
            const char *s = ((const char *const *)c->values)[i];
            uint64_t len = c->lengths ? c->lengths[i] : strlen(s);
            if (gguf_parse_le(p, 8) != len || memcmp(p + 8, s, len) != 0) return false;
            p += 8 + len;
        } else {
            unsigned size = gguf_parse_scalar_bytes(c->type);
            if (gguf_parse_le(p, size) != case_bits(c, i)) return false;
            p += size;
        }
    }
    return p == kv->value + kv->value_bytes;
}

uint64_t gguf_case_elements(const gguf_tensor_case *t) {
    uint64_t n = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) n *= t->dims[d];
    return n;
}

t2g_status gguf_tensor_case_add(t2g_gguf_writer *w, const gguf_tensor_case *t, t2g_error *err) {
    return t2g_gguf_add_tensor(w, t->name, t->type, t->n_dims, t->dims, err);
}

bool gguf_scratch_dir(check_ctx *ctx, char *dir, size_t size) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, size, "%s/t2g-check-gguf-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        check_fail(ctx, "mkdtemp %s: %s", dir, strerror(errno));
        return false;
    }
    return true;
}

bool gguf_dir_empty(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return false;
    bool empty = true;
    for (struct dirent *e; empty && (e = readdir(d));) empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    return empty;
}

bool gguf_remove_scratch(const char *dir) {
    bool empty = gguf_dir_empty(dir);
    DIR *d = opendir(dir);
    char path[1024];
    for (struct dirent *e; d && (e = readdir(d));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        remove(path);
    }
    if (d) closedir(d);
    rmdir(dir);
    return empty;
}
