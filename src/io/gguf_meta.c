/* Reading an open GGUF file (t2g/gguf.h): its metadata by key with typed, range-checked
 * getters, and its tensors, dequantized to f32. Everything read here was bounds-checked by
 * t2g_gguf_open. */
#include <stdlib.h>
#include <string.h>

#include "io/gguf_internal.h"

static unsigned long long ull(uint64_t v) { return (unsigned long long)v; }

const char *t2g_gguf_path(const t2g_gguf *g) { return g->path; }
uint32_t t2g_gguf_version(const t2g_gguf *g) { return g->version; }
uint32_t t2g_gguf_alignment(const t2g_gguf *g) { return g->alignment; }
uint64_t t2g_gguf_data_offset(const t2g_gguf *g) { return g->data_offset; }

/* ---- keys ---- */

static const char *const value_type_names[T2G_GGUF_VALUE_TYPE_COUNT] = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64",
};

const char *t2g_gguf_value_type_name(t2g_gguf_value_type type) {
    return (unsigned)type < T2G_GGUF_VALUE_TYPE_COUNT ? value_type_names[type] : "unknown";
}

uint64_t t2g_gguf_key_count(const t2g_gguf *g) { return g->key_count; }

const char *t2g_gguf_key(const t2g_gguf *g, uint64_t index) {
    return index < g->key_count ? g->keys[index].name : NULL;
}

int64_t t2g_gguf_find_key(const t2g_gguf *g, const char *key) { return gguf_find_name(g->keys_sorted, g->key_count, key); }

t2g_gguf_value_type t2g_gguf_value_type_at(const t2g_gguf *g, uint64_t index) {
    return index < g->key_count ? g->keys[index].value.type : T2G_GGUF_VALUE_TYPE_COUNT;
}

/* The value of `key`: *v NULL (and *found false) when it is absent and `found` was given; an
 * error naming it when absent and `found` is NULL. */
static t2g_status lookup(const t2g_gguf *g, const char *key, bool *found, const gguf_value **v, t2g_error *err) {
    int64_t index = t2g_gguf_find_key(g, key);
    *v = index >= 0 ? &g->keys[index].value : NULL;
    if (found) *found = *v != NULL;
    if (!*v && !found) return t2g_fail(err, T2G_ERR_FORMAT, "%s: no key %s", g->path, key);
    return T2G_OK;
}

static t2g_status wrong_type(const t2g_gguf *g, const char *key, const gguf_value *v, const char *wanted, t2g_error *err) {
    if (v->type == T2G_GGUF_ARRAY)
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: key %s is an array of %s, wanted %s", g->path, key,
                        t2g_gguf_value_type_name(v->element_type), wanted);
    return t2g_fail(err, T2G_ERR_FORMAT, "%s: key %s is a %s, wanted %s", g->path, key, t2g_gguf_value_type_name(v->type),
                    wanted);
}

/* ---- scalars from the map ---- */

/* An integer of `type` at p: false for a type that is not an integer. A negative value in
 * *s (and *negative); any other in *u. */
static bool integer_at(const uint8_t *p, t2g_gguf_value_type type, bool *negative, uint64_t *u, int64_t *s) {
    uint32_t bytes = gguf_scalar_bytes(type);
    bool is_signed = type == T2G_GGUF_I8 || type == T2G_GGUF_I16 || type == T2G_GGUF_I32 || type == T2G_GGUF_I64;
    bool is_unsigned = type == T2G_GGUF_U8 || type == T2G_GGUF_U16 || type == T2G_GGUF_U32 || type == T2G_GGUF_U64;
    if (!is_signed && !is_unsigned) return false;
    uint64_t bits = 0;
    for (uint32_t i = bytes; i-- > 0;) bits = bits << 8 | p[i];
    *negative = is_signed && (bits >> (8 * bytes - 1)) & 1;
    if (*negative) {
        uint64_t extended = bytes < 8 ? bits | ~0ull << (8 * bytes) : bits; /* sign-extended two's complement */
        memcpy(s, &extended, sizeof *s);
    }
    *u = bits;
    return true;
}

/* f32 or f64 at p: false for another type. */
static bool float_at(const uint8_t *p, t2g_gguf_value_type type, double *out) {
    if (type == T2G_GGUF_F32) {
        uint32_t bits = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        float f;
        memcpy(&f, &bits, sizeof f);
        *out = f;
        return true;
    }
    if (type == T2G_GGUF_F64) {
        uint64_t bits = gguf_u64_at(p);
        memcpy(out, &bits, sizeof *out);
        return true;
    }
    return false;
}

/* An unsigned integer at most `max`, named `wanted` in messages. */
static t2g_status unsigned_value(const t2g_gguf *g, const char *key, const gguf_value *v, uint64_t max,
                                 const char *wanted, uint64_t *out, t2g_error *err) {
    bool negative;
    uint64_t u;
    int64_t s;
    if (!integer_at(g->map + v->at, v->type, &negative, &u, &s)) return wrong_type(g, key, v, wanted, err);
    if (negative) return t2g_fail(err, T2G_ERR_FORMAT, "%s: key %s is %lld, wanted %s (not negative)", g->path, key, (long long)s, wanted);
    if (u > max)
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: key %s is %llu, more than %s holds", g->path, key, ull(u), wanted);
    *out = u;
    return T2G_OK;
}

t2g_status t2g_gguf_get_u64(const t2g_gguf *g, const char *key, bool *found, uint64_t *out, t2g_error *err) {
    const gguf_value *v;
    t2g_status status = lookup(g, key, found, &v, err);
    if (status || !v) return status;
    return unsigned_value(g, key, v, UINT64_MAX, "a u64", out, err);
}

t2g_status t2g_gguf_get_u32(const t2g_gguf *g, const char *key, bool *found, uint32_t *out, t2g_error *err) {
    const gguf_value *v;
    t2g_status status = lookup(g, key, found, &v, err);
    if (status || !v) return status;
    uint64_t value = 0;
    status = unsigned_value(g, key, v, UINT32_MAX, "a u32", &value, err);
    if (!status) *out = (uint32_t)value;
    return status;
}

/* An integer element at p as an int64 (a u64 above 2^63 - 1 refused). */
static t2g_status signed_value(const t2g_gguf *g, const char *key, const uint8_t *p, const gguf_value *v,
                               t2g_gguf_value_type type, int64_t *out, t2g_error *err) {
    bool negative;
    uint64_t u;
    int64_t s;
    if (!integer_at(p, type, &negative, &u, &s)) return wrong_type(g, key, v, "an integer", err);
    if (!negative && u > (uint64_t)INT64_MAX)
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: key %s holds %llu, more than an i64 holds", g->path, key, ull(u));
    *out = negative ? s : (int64_t)u;
    return T2G_OK;
}

t2g_status t2g_gguf_get_i64(const t2g_gguf *g, const char *key, bool *found, int64_t *out, t2g_error *err) {
    const gguf_value *v;
    t2g_status status = lookup(g, key, found, &v, err);
    if (status || !v) return status;
    return signed_value(g, key, g->map + v->at, v, v->type, out, err);
}

t2g_status t2g_gguf_get_f64(const t2g_gguf *g, const char *key, bool *found, double *out, t2g_error *err) {
    const gguf_value *v;
    t2g_status status = lookup(g, key, found, &v, err);
    if (status || !v) return status;
    return float_at(g->map + v->at, v->type, out) ? T2G_OK : wrong_type(g, key, v, "an f32 or f64", err);
}

t2g_status t2g_gguf_get_bool(const t2g_gguf *g, const char *key, bool *found, bool *out, t2g_error *err) {
    const gguf_value *v;
    t2g_status status = lookup(g, key, found, &v, err);
    if (status || !v) return status;
    if (v->type != T2G_GGUF_BOOL) return wrong_type(g, key, v, "a bool", err);
    *out = g->map[v->at] != 0;
    return T2G_OK;
}

t2g_status t2g_gguf_get_string(const t2g_gguf *g, const char *key, bool *found, const char **text, size_t *len,
                               t2g_error *err) {
    const gguf_value *v;
    t2g_status status = lookup(g, key, found, &v, err);
    if (status || !v) return status;
    if (v->type != T2G_GGUF_STRING) return wrong_type(g, key, v, "a string", err);
    *text = (const char *)g->map + v->at;
    *len = (size_t)v->len;
    return T2G_OK;
}

t2g_status t2g_gguf_get_string_copy(const t2g_gguf *g, const char *key, bool *found, char **out, t2g_error *err) {
    const char *text = NULL;
    size_t len = 0;
    bool here = true;
    t2g_status status = t2g_gguf_get_string(g, key, found ? &here : NULL, &text, &len, err);
    if (found) *found = here;
    if (status || !here) return status;
    if (memchr(text, 0, len))
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: key %s: the string holds a NUL byte", g->path, key);
    char *copy = malloc(len + 1);
    if (!copy) return t2g_fail(err, T2G_ERR_MEMORY, "%s: key %s: out of memory for %zu bytes", g->path, key, len);
    memcpy(copy, text, len);
    copy[len] = '\0';
    *out = copy;
    return T2G_OK;
}

/* ---- arrays ---- */

t2g_status t2g_gguf_get_array(const t2g_gguf *g, const char *key, bool *found, t2g_gguf_array *out, t2g_error *err) {
    const gguf_value *v;
    t2g_status status = lookup(g, key, found, &v, err);
    if (status || !v) return status;
    if (v->type != T2G_GGUF_ARRAY) return wrong_type(g, key, v, "an array", err);
    *out = (t2g_gguf_array){g, (uint64_t)t2g_gguf_find_key(g, key), v->element_type, v->len};
    return T2G_OK;
}

/* The array's value and key, or an error when i is past its end. */
static t2g_status element(const t2g_gguf_array *a, uint64_t i, const gguf_value **v, const char **key, t2g_error *err) {
    const t2g_gguf *g = a->file;
    *v = &g->keys[a->key_index].value;
    *key = g->keys[a->key_index].name;
    if (i >= (*v)->len)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: key %s: element %llu of an array of %llu", g->path, *key, ull(i),
                        ull((*v)->len));
    return T2G_OK;
}

static t2g_status wrong_element(const t2g_gguf *g, const char *key, const gguf_value *v, const char *wanted,
                                t2g_error *err) {
    return t2g_fail(err, T2G_ERR_FORMAT, "%s: key %s is an array of %s, wanted an array of %s", g->path, key,
                    t2g_gguf_value_type_name(v->element_type), wanted);
}

t2g_status t2g_gguf_array_string(const t2g_gguf_array *a, uint64_t i, const char **text, size_t *len, t2g_error *err) {
    const gguf_value *v;
    const char *key;
    t2g_status status = element(a, i, &v, &key, err);
    if (status) return status;
    if (v->element_type != T2G_GGUF_STRING) return wrong_element(a->file, key, v, "strings", err);
    const uint8_t *length = a->file->map + v->strings[i];
    *len = (size_t)gguf_u64_at(length);
    *text = (const char *)length + 8;
    return T2G_OK;
}

t2g_status t2g_gguf_array_i64(const t2g_gguf_array *a, uint64_t i, int64_t *out, t2g_error *err) {
    const gguf_value *v;
    const char *key;
    t2g_status status = element(a, i, &v, &key, err);
    if (status) return status;
    const uint8_t *p = a->file->map + v->at + i * gguf_scalar_bytes(v->element_type);
    bool negative;
    uint64_t u;
    int64_t s;
    if (!integer_at(p, v->element_type, &negative, &u, &s)) return wrong_element(a->file, key, v, "integers", err);
    return signed_value(a->file, key, p, v, v->element_type, out, err);
}

t2g_status t2g_gguf_array_f64(const t2g_gguf_array *a, uint64_t i, double *out, t2g_error *err) {
    const gguf_value *v;
    const char *key;
    t2g_status status = element(a, i, &v, &key, err);
    if (status) return status;
    const uint8_t *p = a->file->map + v->at + i * gguf_scalar_bytes(v->element_type);
    return float_at(p, v->element_type, out) ? T2G_OK : wrong_element(a->file, key, v, "f32 or f64", err);
}

/* ---- tensors ---- */

uint64_t t2g_gguf_tensor_count(const t2g_gguf *g) { return g->tensor_count; }

const t2g_gguf_tensor *t2g_gguf_tensor_at(const t2g_gguf *g, uint64_t index) {
    return index < g->tensor_count ? &g->tensors[index] : NULL;
}

const t2g_gguf_tensor *t2g_gguf_tensor_find(const t2g_gguf *g, const char *name, uint64_t *index) {
    int64_t i = gguf_find_name(g->tensors_sorted, g->tensor_count, name);
    if (i < 0) return NULL;
    if (index) *index = (uint64_t)i;
    return &g->tensors[i];
}

t2g_status t2g_gguf_tensor_read_f32(const t2g_gguf *g, uint64_t index, float *out, size_t count, t2g_error *err) {
    if (index >= g->tensor_count)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: tensor %llu of %llu", g->path, ull(index), ull(g->tensor_count));
    const t2g_gguf_tensor *t = &g->tensors[index];
    if (count != t->elements)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: tensor %s holds %llu elements, not %zu", g->path, t->name,
                        ull(t->elements), count);
    t2g_status status = t2g_gguf_dequantize(t->type, t->data, count, out, err);
    if (status) t2g_error_context(err, "%s: tensor %s", g->path, t->name);
    return status;
}
