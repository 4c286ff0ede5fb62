/* The GGUF writer's metadata (t2g/gguf_write.h): each key-value pair serialized as it is added
 * into one growing buffer, the metadata section exactly as it will be stored. */
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "io/gguf_write_internal.h"

static const char ALIGNMENT_KEY[] = "general.alignment";

/* Bytes of one value of a scalar type. */
static unsigned scalar_bytes(uint32_t type) {
    switch (type) {
    case T2G_GGUF_VALUE_U8:
    case T2G_GGUF_VALUE_I8:
    case T2G_GGUF_VALUE_BOOL: return 1;
    case T2G_GGUF_VALUE_U16:
    case T2G_GGUF_VALUE_I16: return 2;
    case T2G_GGUF_VALUE_U32:
    case T2G_GGUF_VALUE_I32:
    case T2G_GGUF_VALUE_F32: return 4;
    default: return 8; /* U64, I64, F64 */
    }
}

/* Checks the key (length, not given before, general.alignment a u32 scalar), makes room for the
 * entry, stores the key and the value type, and sets *value to where `value_bytes` bytes of the
 * value go. Nothing can fail after it returns T2G_OK: the entry is counted already. */
static t2g_status begin_entry(t2g_gguf_writer *w, const char *key, uint32_t type, uint64_t value_bytes,
                              unsigned char **value, t2g_error *err) {
    if (w->state != T2G_GGUF_ADDING)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: metadata key %s added after the tensor data began", w->path,
                        key ? key : "(no key)");
    size_t len = key ? strlen(key) : 0;
    if (len < 1 || len > T2G_GGUF_WRITE_MAX_KEY)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: a metadata key has %zu bytes (1 to %u)", w->path, len,
                        T2G_GGUF_WRITE_MAX_KEY);
    for (size_t i = 0; i < w->kv_count; i++)
        if (w->keys[i].length == len && memcmp(w->kv + w->keys[i].offset, key, len) == 0)
            return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: metadata key %s is given twice", w->path, key);
    if (strcmp(key, ALIGNMENT_KEY) == 0 && type != T2G_GGUF_VALUE_U32)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: metadata key %s must be a u32 (GGUF's alignment)", w->path, key);
    uint64_t entry = 8 + (uint64_t)len + 4 + value_bytes;
    if (value_bytes > SIZE_MAX / 2 || entry > SIZE_MAX - w->kv_bytes ||
        !t2g_grow(&w->kv, &w->kv_capacity, w->kv_bytes + (size_t)entry, 1) ||
        !t2g_grow(&w->keys, &w->keys_capacity, w->kv_count + 1, sizeof *w->keys))
        return t2g_fail(err, T2G_ERR_MEMORY, "%s: out of memory adding metadata key %s (%llu bytes)", w->path, key,
                        (unsigned long long)value_bytes);
    unsigned char *p = t2g_gguf_put_le(w->kv + w->kv_bytes, len, 8);
    w->keys[w->kv_count++] = (t2g_gguf_key_span){.offset = (size_t)(p - w->kv), .length = len};
    memcpy(p, key, len);
    *value = t2g_gguf_put_le(p + len, type, 4);
    w->kv_bytes += (size_t)entry;
    return T2G_OK;
}

/* count values of a scalar type from the caller's array (its C type: uint8_t, int16_t, float,
 * bool, ...), little-endian, at p. */
static void put_values(unsigned char *p, uint32_t type, const void *values, uint64_t count) {
    const unsigned char *from = values;
    unsigned size = scalar_bytes(type);
    for (uint64_t i = 0; i < count; i++, from += size) {
        uint64_t bits;
        if (type == T2G_GGUF_VALUE_BOOL) {
            bool b;
            memcpy(&b, from, 1);
            bits = b ? 1 : 0;
        } else if (size == 1) {
            bits = from[0];
        } else if (size == 2) {
            uint16_t v;
            memcpy(&v, from, 2);
            bits = v;
        } else if (size == 4) {
            uint32_t v;
            memcpy(&v, from, 4);
            bits = v;
        } else {
            memcpy(&bits, from, 8);
        }
        p = t2g_gguf_put_le(p, bits, size);
    }
}

static t2g_status add_scalar(t2g_gguf_writer *w, const char *key, uint32_t type, const void *value, t2g_error *err) {
    unsigned char *p;
    t2g_status status = begin_entry(w, key, type, scalar_bytes(type), &p, err);
    if (!status) put_values(p, type, value, 1);
    return status;
}

static t2g_status add_array(t2g_gguf_writer *w, const char *key, uint32_t type, const void *values, uint64_t count,
                            t2g_error *err) {
    if (count && !values)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: metadata key %s: %llu values but no array", w->path,
                        key ? key : "(no key)", (unsigned long long)count);
    if (count > (SIZE_MAX / 2 - 12) / scalar_bytes(type))
        return t2g_fail(err, T2G_ERR_TOO_LARGE, "%s: metadata key %s: %llu values are too many", w->path,
                        key ? key : "(no key)", (unsigned long long)count);
    unsigned char *p;
    t2g_status status = begin_entry(w, key, T2G_GGUF_VALUE_ARRAY, 12 + count * scalar_bytes(type), &p, err);
    if (status) return status;
    p = t2g_gguf_put_le(t2g_gguf_put_le(p, type, 4), count, 8);
    put_values(p, type, values, count);
    return T2G_OK;
}

t2g_status t2g_gguf_add_u8(t2g_gguf_writer *w, const char *key, uint8_t value, t2g_error *err) {
    return add_scalar(w, key, T2G_GGUF_VALUE_U8, &value, err);
}
t2g_status t2g_gguf_add_i8(t2g_gguf_writer *w, const char *key, int8_t value, t2g_error *err) {
    return add_scalar(w, key, T2G_GGUF_VALUE_I8, &value, err);
}
t2g_status t2g_gguf_add_u16(t2g_gguf_writer *w, const char *key, uint16_t value, t2g_error *err) {
    return add_scalar(w, key, T2G_GGUF_VALUE_U16, &value, err);
}
t2g_status t2g_gguf_add_i16(t2g_gguf_writer *w, const char *key, int16_t value, t2g_error *err) {
    return add_scalar(w, key, T2G_GGUF_VALUE_I16, &value, err);
}
t2g_status t2g_gguf_add_u32(t2g_gguf_writer *w, const char *key, uint32_t value, t2g_error *err) {
    bool alignment = key && strcmp(key, ALIGNMENT_KEY) == 0;
    if (alignment && (value == 0 || (value & (value - 1))))
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: metadata key %s is %u (a power of two: 1, 2, 4, ... 32, 64, ...)",
                        w->path, key, value);
    t2g_status status = add_scalar(w, key, T2G_GGUF_VALUE_U32, &value, err);
    if (!status && alignment) w->alignment = value;
    return status;
}
t2g_status t2g_gguf_add_i32(t2g_gguf_writer *w, const char *key, int32_t value, t2g_error *err) {
    return add_scalar(w, key, T2G_GGUF_VALUE_I32, &value, err);
}
t2g_status t2g_gguf_add_u64(t2g_gguf_writer *w, const char *key, uint64_t value, t2g_error *err) {
    return add_scalar(w, key, T2G_GGUF_VALUE_U64, &value, err);
}
t2g_status t2g_gguf_add_i64(t2g_gguf_writer *w, const char *key, int64_t value, t2g_error *err) {
    return add_scalar(w, key, T2G_GGUF_VALUE_I64, &value, err);
}
t2g_status t2g_gguf_add_f32(t2g_gguf_writer *w, const char *key, float value, t2g_error *err) {
    return add_scalar(w, key, T2G_GGUF_VALUE_F32, &value, err);
}
t2g_status t2g_gguf_add_f64(t2g_gguf_writer *w, const char *key, double value, t2g_error *err) {
    return add_scalar(w, key, T2G_GGUF_VALUE_F64, &value, err);
}
t2g_status t2g_gguf_add_bool(t2g_gguf_writer *w, const char *key, bool value, t2g_error *err) {
    return add_scalar(w, key, T2G_GGUF_VALUE_BOOL, &value, err);
}

t2g_status t2g_gguf_add_u8_array(t2g_gguf_writer *w, const char *key, const uint8_t *values, uint64_t count,
                                 t2g_error *err) {
    return add_array(w, key, T2G_GGUF_VALUE_U8, values, count, err);
}
t2g_status t2g_gguf_add_i8_array(t2g_gguf_writer *w, const char *key, const int8_t *values, uint64_t count,
                                 t2g_error *err) {
    return add_array(w, key, T2G_GGUF_VALUE_I8, values, count, err);
}
t2g_status t2g_gguf_add_u16_array(t2g_gguf_writer *w, const char *key, const uint16_t *values, uint64_t count,
                                  t2g_error *err) {
    return add_array(w, key, T2G_GGUF_VALUE_U16, values, count, err);
}
t2g_status t2g_gguf_add_i16_array(t2g_gguf_writer *w, const char *key, const int16_t *values, uint64_t count,
                                  t2g_error *err) {
    return add_array(w, key, T2G_GGUF_VALUE_I16, values, count, err);
}
t2g_status t2g_gguf_add_u32_array(t2g_gguf_writer *w, const char *key, const uint32_t *values, uint64_t count,
                                  t2g_error *err) {
    return add_array(w, key, T2G_GGUF_VALUE_U32, values, count, err);
}
t2g_status t2g_gguf_add_i32_array(t2g_gguf_writer *w, const char *key, const int32_t *values, uint64_t count,
                                  t2g_error *err) {
    return add_array(w, key, T2G_GGUF_VALUE_I32, values, count, err);
}
t2g_status t2g_gguf_add_u64_array(t2g_gguf_writer *w, const char *key, const uint64_t *values, uint64_t count,
                                  t2g_error *err) {
    return add_array(w, key, T2G_GGUF_VALUE_U64, values, count, err);
}
t2g_status t2g_gguf_add_i64_array(t2g_gguf_writer *w, const char *key, const int64_t *values, uint64_t count,
                                  t2g_error *err) {
    return add_array(w, key, T2G_GGUF_VALUE_I64, values, count, err);
}
t2g_status t2g_gguf_add_f32_array(t2g_gguf_writer *w, const char *key, const float *values, uint64_t count,
                                  t2g_error *err) {
    return add_array(w, key, T2G_GGUF_VALUE_F32, values, count, err);
}
t2g_status t2g_gguf_add_f64_array(t2g_gguf_writer *w, const char *key, const double *values, uint64_t count,
                                  t2g_error *err) {
    return add_array(w, key, T2G_GGUF_VALUE_F64, values, count, err);
}
t2g_status t2g_gguf_add_bool_array(t2g_gguf_writer *w, const char *key, const bool *values, uint64_t count,
                                   t2g_error *err) {
    return add_array(w, key, T2G_GGUF_VALUE_BOOL, values, count, err);
}

/* ---- strings ---- */

static uint64_t string_length(const char *const *strings, const uint64_t *lengths, uint64_t i) {
    return lengths ? lengths[i] : strings[i] ? strlen(strings[i]) : 0;
}

static unsigned char *put_string(unsigned char *p, const char *s, uint64_t len) {
    p = t2g_gguf_put_le(p, len, 8);
    if (len) memcpy(p, s, (size_t)len);
    return p + len;
}

t2g_status t2g_gguf_add_string(t2g_gguf_writer *w, const char *key, const char *value, t2g_error *err) {
    if (!value)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: metadata key %s: no string", w->path, key ? key : "(no key)");
    uint64_t len = strlen(value);
    unsigned char *p;
    t2g_status status = begin_entry(w, key, T2G_GGUF_VALUE_STRING, 8 + len, &p, err);
    if (!status) put_string(p, value, len);
    return status;
}

t2g_status t2g_gguf_add_string_array(t2g_gguf_writer *w, const char *key, const char *const *strings,
                                     const uint64_t *lengths, uint64_t count, t2g_error *err) {
    const char *name = key ? key : "(no key)";
    if (count && !strings)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: metadata key %s: %llu strings but no array", w->path, name,
                        (unsigned long long)count);
    uint64_t bytes = 12;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t len = string_length(strings, lengths, i);
        if (!strings[i] && len)
            return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: metadata key %s: string %llu is missing", w->path, name,
                            (unsigned long long)i);
        if (len > SIZE_MAX / 4 || bytes > SIZE_MAX / 4 - 8 - len)
            return t2g_fail(err, T2G_ERR_TOO_LARGE, "%s: metadata key %s: the strings are too long", w->path, name);
        bytes += 8 + len;
    }
    unsigned char *p;
    t2g_status status = begin_entry(w, key, T2G_GGUF_VALUE_ARRAY, bytes, &p, err);
    if (status) return status;
    p = t2g_gguf_put_le(t2g_gguf_put_le(p, T2G_GGUF_VALUE_STRING, 4), count, 8);
    for (uint64_t i = 0; i < count; i++) p = put_string(p, strings[i], string_length(strings, lengths, i));
    return T2G_OK;
}
