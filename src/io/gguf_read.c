/* Opening a GGUF file (the format and the checks are in t2g/gguf.h): the file is mapped
 * read-only and walked once with a cursor that checks every length against what is left of the
 * file before taking it; counts are bounded by the bytes left before anything is allocated for
 * them, so no hostile count allocates more than the file's size in entries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/read_file.h"
#include "io/gguf_internal.h"

#define MIN_KEY_BYTES 13u  /* an empty name's length (8), a value type (4), a u8 (1) */
#define MIN_INFO_BYTES 24u /* a name's length (8), n_dims (4), a type (4), an offset (8) */

typedef struct cursor {
    t2g_gguf *g;
    uint64_t at; /* the next byte to read */
    t2g_error *err;
} cursor;

uint64_t gguf_u64_at(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static uint32_t u32_at(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t left(const cursor *c) { return c->g->size - c->at; }

static unsigned long long ull(uint64_t v) { return (unsigned long long)v; }

/* Takes n bytes (*p their start), or fails naming `what` and where the file ends. */
static t2g_status take(cursor *c, uint64_t n, const char *what, const uint8_t **p) {
    if (n > left(c))
        return t2g_fail(c->err, T2G_ERR_FORMAT, "%s: truncated: %s at byte %llu needs %llu bytes, the file has %llu left",
                        c->g->path, what, ull(c->at), ull(n), ull(left(c)));
    *p = c->g->map + c->at;
    c->at += n;
    return T2G_OK;
}

static t2g_status take_u32(cursor *c, const char *what, uint32_t *v) {
    const uint8_t *p = NULL;
    t2g_status status = take(c, 4, what, &p);
    if (!status) *v = u32_at(p);
    return status;
}

static t2g_status take_u64(cursor *c, const char *what, uint64_t *v) {
    const uint8_t *p = NULL;
    t2g_status status = take(c, 8, what, &p);
    if (!status) *v = gguf_u64_at(p);
    return status;
}

/* A string: its u64 length, then its bytes (*at their offset). */
static t2g_status take_string(cursor *c, const char *what, uint64_t *at, uint64_t *len) {
    uint64_t length_at = c->at;
    t2g_status status = take_u64(c, what, len);
    if (status) return status;
    if (*len > left(c))
        return t2g_fail(c->err, T2G_ERR_FORMAT,
                        "%s: %s at byte %llu claims %llu bytes, more than the %llu left in the file", c->g->path,
                        what, ull(length_at), ull(*len), ull(left(c)));
    *at = c->at;
    c->at += *len;
    return T2G_OK;
}

/* ---- names in messages ---- */

void gguf_quote(const uint8_t *bytes, uint64_t len, char *out, size_t size) {
    size_t used = 0;
    out[used++] = '"';
    for (uint64_t i = 0; i < len && used + 8 < size; i++) {
        if (i == 80) {
            used += (size_t)snprintf(out + used, size - used, "...");
            break;
        }
        uint8_t b = bytes[i];
        if (b >= 0x20 && b < 0x7f && b != '"' && b != '\\') out[used++] = (char)b;
        else used += (size_t)snprintf(out + used, size - used, "\\x%02x", b);
    }
    out[used++] = '"';
    out[used] = '\0';
}

/* ---- metadata ---- */

static const uint32_t scalar_bytes[T2G_GGUF_VALUE_TYPE_COUNT] = {
    [T2G_GGUF_U8] = 1,  [T2G_GGUF_I8] = 1,  [T2G_GGUF_U16] = 2, [T2G_GGUF_I16] = 2, [T2G_GGUF_U32] = 4,
    [T2G_GGUF_I32] = 4, [T2G_GGUF_F32] = 4, [T2G_GGUF_BOOL] = 1, [T2G_GGUF_U64] = 8, [T2G_GGUF_I64] = 8,
    [T2G_GGUF_F64] = 8,
};

uint32_t gguf_scalar_bytes(t2g_gguf_value_type type) {
    return (unsigned)type < T2G_GGUF_VALUE_TYPE_COUNT ? scalar_bytes[type] : 0;
}

static t2g_status check_bools(cursor *c, const char *key, uint64_t at, uint64_t count) {
    for (uint64_t i = 0; i < count; i++)
        if (c->g->map[at + i] > 1)
            return t2g_fail(c->err, T2G_ERR_FORMAT, "%s: key %s: bool %s at byte %llu is %u, not 0 or 1", c->g->path,
                            key, count > 1 ? "element" : "value", ull(at + i), c->g->map[at + i]);
    return T2G_OK;
}

static t2g_status string_array(cursor *c, const char *key, gguf_value *v) {
    if (v->len > left(c) / 8)
        return t2g_fail(c->err, T2G_ERR_FORMAT,
                        "%s: key %s: an array of %llu strings cannot fit in the %llu bytes left in the file", c->g->path,
                        key, ull(v->len), ull(left(c)));
    v->strings = malloc((v->len ? v->len : 1) * sizeof *v->strings);
    if (!v->strings)
        return t2g_fail(c->err, T2G_ERR_MEMORY, "%s: key %s: out of memory for %llu strings", c->g->path, key, ull(v->len));
    for (uint64_t i = 0; i < v->len; i++) {
        v->strings[i] = c->at;
        uint64_t len = left(c) >= 8 ? gguf_u64_at(c->g->map + c->at) : 0;
        if (left(c) < 8 || len > left(c) - 8) { /* take_string fails, naming it (formatted only then: vocabularies are long) */
            char what[256];
            snprintf(what, sizeof what, "key %s: the length of string %llu", key, ull(i));
            uint64_t at = 0;
            return take_string(c, what, &at, &len);
        }
        c->at += 8 + len;
    }
    return T2G_OK;
}

static t2g_status array_value(cursor *c, const char *key, gguf_value *v) {
    char what[256];
    snprintf(what, sizeof what, "key %s: the array's element type", key);
    uint32_t type = 0;
    t2g_status status = take_u32(c, what, &type);
    snprintf(what, sizeof what, "key %s: the array's count", key);
    if (!status) status = take_u64(c, what, &v->len);
    if (status) return status;
    v->element_type = (t2g_gguf_value_type)type;
    v->at = c->at;
    if (type == T2G_GGUF_ARRAY) {
        if (v->len == 0) return T2G_OK;
        return t2g_fail(c->err, T2G_ERR_UNSUPPORTED, "%s: key %s: an array of %llu arrays (nested arrays are not read)",
                        c->g->path, key, ull(v->len));
    }
    if (type == T2G_GGUF_STRING) return string_array(c, key, v);
    uint32_t bytes = gguf_scalar_bytes(v->element_type);
    if (!bytes)
        return t2g_fail(c->err, T2G_ERR_FORMAT, "%s: key %s: unknown array element type %u (value types are 0..12)",
                        c->g->path, key, type);
    if (v->len > left(c) / bytes)
        return t2g_fail(c->err, T2G_ERR_FORMAT,
                        "%s: key %s: an array of %llu %s values at byte %llu runs past the end of the file (%llu bytes left)",
                        c->g->path, key, ull(v->len), t2g_gguf_value_type_name(v->element_type), ull(v->at),
                        ull(left(c)));
    c->at += v->len * bytes;
    return type == T2G_GGUF_BOOL ? check_bools(c, key, v->at, v->len) : T2G_OK;
}

static t2g_status key_value(cursor *c, const char *key, gguf_value *v) {
    char what[256];
    snprintf(what, sizeof what, "key %s: its value type", key);
    uint32_t type = 0;
    t2g_status status = take_u32(c, what, &type);
    if (status) return status;
    v->type = (t2g_gguf_value_type)type;
    if (type == T2G_GGUF_ARRAY) return array_value(c, key, v);
    snprintf(what, sizeof what, "key %s: its value", key);
    if (type == T2G_GGUF_STRING) return take_string(c, what, &v->at, &v->len);
    uint32_t bytes = gguf_scalar_bytes(v->type);
    if (!bytes)
        return t2g_fail(c->err, T2G_ERR_FORMAT, "%s: key %s at byte %llu: unknown value type %u (value types are 0..12)",
                        c->g->path, key, ull(c->at - 4), type);
    const uint8_t *p = NULL;
    v->at = c->at;
    status = take(c, bytes, what, &p);
    return status || type != T2G_GGUF_BOOL ? status : check_bools(c, key, v->at, 1);
}

static t2g_status read_key(cursor *c, uint64_t index, gguf_key *k) {
    char what[256], key[128];
    snprintf(what, sizeof what, "the name of key %llu", ull(index));
    uint64_t at = 0, len = 0;
    t2g_status status = take_string(c, what, &at, &len);
    if (status) return status;
    gguf_quote(c->g->map + at, len, key, sizeof key);
    if (memchr(c->g->map + at, 0, len))
        return t2g_fail(c->err, T2G_ERR_FORMAT, "%s: key %llu %s at byte %llu holds a NUL byte", c->g->path, ull(index),
                        key, ull(at));
    k->name = malloc(len + 1);
    if (!k->name) return t2g_fail(c->err, T2G_ERR_MEMORY, "%s: out of memory for key %s", c->g->path, key);
    memcpy(k->name, c->g->map + at, len);
    k->name[len] = '\0';
    return key_value(c, key, &k->value);
}

/* ---- lookups by name ---- */

static int by_name(const void *a, const void *b) {
    return strcmp(((const gguf_name *)a)->name, ((const gguf_name *)b)->name);
}

int64_t gguf_find_name(const gguf_name *sorted, uint64_t count, const char *name) {
    uint64_t lo = 0, hi = count;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        int order = strcmp(sorted[mid].name, name);
        if (order == 0) return (int64_t)sorted[mid].index;
        if (order < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

/* Sorts the names (filled in); returns the index of a name that appears twice, or -1. */
static int64_t sort_names(gguf_name *sorted, uint64_t count) {
    qsort(sorted, count, sizeof *sorted, by_name);
    for (uint64_t i = 1; i < count; i++)
        if (strcmp(sorted[i - 1].name, sorted[i].name) == 0) return (int64_t)sorted[i].index;
    return -1;
}

/* ---- the header and the metadata ---- */

static t2g_status read_header(cursor *c) {
    t2g_gguf *g = c->g;
    if (g->size < 4 || memcmp(g->map, "GGUF", 4) != 0)
        return t2g_fail(c->err, T2G_ERR_FORMAT, "%s: not a GGUF file (it does not start with \"GGUF\")", g->path);
    c->at = 4;
    t2g_status status = take_u32(c, "the version", &g->version);
    if (status) return status;
    uint32_t swapped = __builtin_bswap32(g->version);
    if (g->version == 1)
        return t2g_fail(c->err, T2G_ERR_UNSUPPORTED, "%s: GGUF version 1 is not supported (t2g reads versions 2 and 3; "
                        "convert the file with a current llama.cpp)", g->path);
    if (swapped >= 1 && swapped <= 3)
        return t2g_fail(c->err, T2G_ERR_UNSUPPORTED, "%s: a big-endian GGUF file (version %u byte-swapped); t2g reads "
                        "little-endian GGUF only", g->path, swapped);
    if (g->version != 2 && g->version != 3)
        return t2g_fail(c->err, T2G_ERR_UNSUPPORTED, "%s: GGUF version %u is not supported (t2g reads versions 2 and 3)",
                        g->path, g->version);
    status = take_u64(c, "the tensor count", &g->tensor_count);
    if (!status) status = take_u64(c, "the key count", &g->key_count);
    if (status) return status;
    if (g->key_count > left(c) / MIN_KEY_BYTES)
        return t2g_fail(c->err, T2G_ERR_FORMAT, "%s: the header claims %llu keys; the %llu bytes after it hold at most %llu",
                        g->path, ull(g->key_count), ull(left(c)), ull(left(c) / MIN_KEY_BYTES));
    return T2G_OK;
}

static t2g_status read_metadata(cursor *c) {
    t2g_gguf *g = c->g;
    g->keys = calloc(g->key_count ? g->key_count : 1, sizeof *g->keys);
    g->keys_sorted = malloc((g->key_count ? g->key_count : 1) * sizeof *g->keys_sorted);
    if (!g->keys || !g->keys_sorted)
        return t2g_fail(c->err, T2G_ERR_MEMORY, "%s: out of memory for %llu keys", g->path, ull(g->key_count));
    for (uint64_t i = 0; i < g->key_count; i++) {
        t2g_status status = read_key(c, i, &g->keys[i]);
        if (status) {
            g->key_count = i + 1; /* what close frees */
            return status;
        }
    }
    for (uint64_t i = 0; i < g->key_count; i++) g->keys_sorted[i] = (gguf_name){g->keys[i].name, i};
    int64_t twice = sort_names(g->keys_sorted, g->key_count);
    if (twice >= 0)
        return t2g_fail(c->err, T2G_ERR_FORMAT, "%s: key \"%s\" appears twice", g->path, g->keys[twice].name);
    return T2G_OK;
}

/* general.alignment (default 32): a power of two. */
static t2g_status read_alignment(t2g_gguf *g, t2g_error *err) {
    bool found;
    g->alignment = T2G_GGUF_DEFAULT_ALIGNMENT;
    t2g_status status = t2g_gguf_get_u32(g, "general.alignment", &found, &g->alignment, err);
    if (status) return status;
    if (g->alignment == 0 || (g->alignment & (g->alignment - 1)))
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: general.alignment is %u, not a power of two", g->path, g->alignment);
    return T2G_OK;
}

/* A part of a model split over several files (llama.cpp's gguf-split) is refused. */
static t2g_status refuse_split(t2g_gguf *g, t2g_error *err) {
    static const char *const counts[] = {"split.count", "general.split.count"};
    for (size_t i = 0; i < 2; i++) {
        bool found = false;
        uint64_t n = 0;
        t2g_status status = t2g_gguf_get_u64(g, counts[i], &found, &n, err);
        if (status) return status;
        if (n > 1)
            return t2g_fail(err, T2G_ERR_UNSUPPORTED, "%s: a part of a split model (%s = %llu); t2g reads a model in "
                            "one file (merge the parts with llama.cpp's gguf-split --merge)", g->path, counts[i], ull(n));
    }
    bool found = false;
    uint64_t part = 0;
    t2g_status status = t2g_gguf_get_u64(g, "split.no", &found, &part, err);
    if (!status && part > 0)
        status = t2g_fail(err, T2G_ERR_UNSUPPORTED, "%s: a part of a split model (split.no = %llu); t2g reads a model in "
                          "one file (merge the parts with llama.cpp's gguf-split --merge)", g->path, ull(part));
    return status;
}

/* ---- tensor infos ---- */

static t2g_status read_tensor_info(cursor *c, uint64_t index, t2g_gguf_tensor *t) {
    t2g_gguf *g = c->g;
    char what[256], name[128];
    snprintf(what, sizeof what, "the name of tensor %llu", ull(index));
    uint64_t at = 0, len = 0;
    t2g_status status = take_string(c, what, &at, &len);
    if (status) return status;
    gguf_quote(g->map + at, len, name, sizeof name);
    if (len == 0 || len > T2G_GGUF_MAX_NAME || memchr(g->map + at, 0, len))
        return t2g_fail(c->err, T2G_ERR_FORMAT, "%s: tensor %llu: its name %s at byte %llu is %s", g->path, ull(index),
                        name, ull(at), len == 0 ? "empty" : len > T2G_GGUF_MAX_NAME ? "longer than 64 bytes"
                                                                                    : "holding a NUL byte");
    char *copy = malloc(len + 1);
    if (!copy) return t2g_fail(c->err, T2G_ERR_MEMORY, "%s: out of memory for tensor %s", g->path, name);
    memcpy(copy, g->map + at, len);
    copy[len] = '\0';
    t->name = copy;

    snprintf(what, sizeof what, "tensor %s: its n_dims", name);
    status = take_u32(c, what, &t->n_dims);
    if (status) return status;
    if (t->n_dims > T2G_GGUF_MAX_DIMS)
        return t2g_fail(c->err, T2G_ERR_FORMAT, "%s: tensor %s has %u dimensions (at most %u)", g->path, name, t->n_dims,
                        T2G_GGUF_MAX_DIMS);
    for (uint32_t d = 0; d < T2G_GGUF_MAX_DIMS; d++) {
        t->dims[d] = 1;
        if (d >= t->n_dims) continue;
        snprintf(what, sizeof what, "tensor %s: its size %u", name, d);
        status = take_u64(c, what, &t->dims[d]);
        if (status) return status;
        if (t->dims[d] > (uint64_t)INT64_MAX)
            return t2g_fail(c->err, T2G_ERR_FORMAT, "%s: tensor %s: size %u is %llu, more than 2^63 - 1", g->path, name, d,
                            ull(t->dims[d]));
    }
    snprintf(what, sizeof what, "tensor %s: its type", name);
    status = take_u32(c, what, &t->type);
    snprintf(what, sizeof what, "tensor %s: its offset", name);
    if (!status) status = take_u64(c, what, &t->offset);
    if (status) return status;
    if (!t2g_gguf_type_block(t->type, NULL, NULL))
        return t2g_fail(c->err, T2G_ERR_UNSUPPORTED, "%s: tensor %s has the unknown tensor type %u", g->path, name, t->type);
    return T2G_OK;
}

/* Its elements, bytes and place in the data section, checked. */
static t2g_status place_tensor(t2g_gguf *g, t2g_gguf_tensor *t, t2g_error *err) {
    uint32_t block_elements, block_bytes;
    t2g_gguf_type_block(t->type, &block_elements, &block_bytes);
    const char *type = t2g_gguf_type_name(t->type);
    if (t->dims[0] % block_elements)
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: tensor %s: its rows of %llu elements are not whole %s blocks of %u",
                        g->path, t->name, ull(t->dims[0]), type, block_elements);
    t->elements = 1;
    bool overflow = false;
    for (uint32_t d = 0; d < T2G_GGUF_MAX_DIMS; d++)
        overflow |= __builtin_mul_overflow(t->elements, t->dims[d], &t->elements);
    overflow |= __builtin_mul_overflow(t->elements / block_elements, (uint64_t)block_bytes, &t->bytes);
    if (overflow || t->elements > (uint64_t)INT64_MAX)
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: tensor %s: its sizes %llu x %llu x %llu x %llu overflow", g->path,
                        t->name, ull(t->dims[0]), ull(t->dims[1]), ull(t->dims[2]), ull(t->dims[3]));
    uint64_t data_bytes = g->size - g->data_offset;
    if (t->offset % g->alignment)
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: tensor %s: its offset %llu is not a multiple of the alignment %u",
                        g->path, t->name, ull(t->offset), g->alignment);
    if (t->offset > data_bytes || t->bytes > data_bytes - t->offset)
        return t2g_fail(err, T2G_ERR_FORMAT,
                        "%s: tensor %s: its %llu bytes at offset %llu run past the end of the data section (%llu bytes "
                        "from byte %llu)", g->path, t->name, ull(t->bytes), ull(t->offset), ull(data_bytes),
                        ull(g->data_offset));
    t->data = g->map + g->data_offset + t->offset;
    return T2G_OK;
}

static int by_offset(const void *a, const void *b) {
    const t2g_gguf_tensor *x = *(const t2g_gguf_tensor *const *)a, *y = *(const t2g_gguf_tensor *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* No two tensors share a byte (an empty tensor holds none). */
static t2g_status check_overlaps(t2g_gguf *g, t2g_error *err) {
    const t2g_gguf_tensor **order = malloc((g->tensor_count ? g->tensor_count : 1) * sizeof *order);
    if (!order) return t2g_fail(err, T2G_ERR_MEMORY, "%s: out of memory for %llu tensors", g->path, ull(g->tensor_count));
    for (uint64_t i = 0; i < g->tensor_count; i++) order[i] = &g->tensors[i];
    qsort(order, g->tensor_count, sizeof *order, by_offset);
    const t2g_gguf_tensor *reach = NULL; /* the non-empty tensor so far that ends last */
    t2g_status status = T2G_OK;
    for (uint64_t i = 0; i < g->tensor_count && !status; i++) {
        const t2g_gguf_tensor *t = order[i];
        if (!t->bytes) continue;
        if (reach && t->offset < reach->offset + reach->bytes)
            status = t2g_fail(err, T2G_ERR_FORMAT, "%s: tensors %s (bytes %llu..%llu) and %s (bytes %llu..%llu) overlap",
                              g->path, reach->name, ull(reach->offset), ull(reach->offset + reach->bytes), t->name,
                              ull(t->offset), ull(t->offset + t->bytes));
        if (!reach || t->offset + t->bytes > reach->offset + reach->bytes) reach = t;
    }
    free(order);
    return status;
}

static t2g_status read_tensors(cursor *c) {
    t2g_gguf *g = c->g;
    if (g->tensor_count > left(c) / MIN_INFO_BYTES)
        return t2g_fail(c->err, T2G_ERR_FORMAT,
                        "%s: the header claims %llu tensors; the %llu bytes after the metadata hold at most %llu",
                        g->path, ull(g->tensor_count), ull(left(c)), ull(left(c) / MIN_INFO_BYTES));
    g->tensors = calloc(g->tensor_count ? g->tensor_count : 1, sizeof *g->tensors);
    g->tensors_sorted = malloc((g->tensor_count ? g->tensor_count : 1) * sizeof *g->tensors_sorted);
    if (!g->tensors || !g->tensors_sorted)
        return t2g_fail(c->err, T2G_ERR_MEMORY, "%s: out of memory for %llu tensors", g->path, ull(g->tensor_count));
    for (uint64_t i = 0; i < g->tensor_count; i++) {
        t2g_status status = read_tensor_info(c, i, &g->tensors[i]);
        if (status) return status;
    }
    for (uint64_t i = 0; i < g->tensor_count; i++) g->tensors_sorted[i] = (gguf_name){g->tensors[i].name, i};
    int64_t twice = sort_names(g->tensors_sorted, g->tensor_count);
    if (twice >= 0) return t2g_fail(c->err, T2G_ERR_FORMAT, "%s: tensor %s appears twice", g->path, g->tensors[twice].name);
    uint64_t padding = (g->alignment - c->at % g->alignment) % g->alignment;
    if (g->tensor_count == 0 && padding > left(c)) padding = left(c); /* metadata only: the padding may be left out */
    if (padding > left(c))
        return t2g_fail(c->err, T2G_ERR_FORMAT, "%s: truncated: the padding to the data section at byte %llu needs %llu "
                        "bytes (alignment %u), the file has %llu left", g->path, ull(c->at), ull(padding), g->alignment,
                        ull(left(c)));
    g->data_offset = c->at + padding;
    for (uint64_t i = 0; i < g->tensor_count; i++) {
        t2g_status status = place_tensor(g, &g->tensors[i], c->err);
        if (status) return status;
    }
    return check_overlaps(g, c->err);
}

/* ---- open and close ---- */

static t2g_status map_file(t2g_gguf *g, t2g_error *err) {
    FILE *file;
    t2g_status status = t2g_file_open(g->path, "the GGUF file", &file, &g->size, err);
    if (status) return status;
    if (g->size == 0) status = t2g_fail(err, T2G_ERR_FORMAT, "%s: not a GGUF file (it is empty)", g->path);
    else if (g->size > SIZE_MAX) status = t2g_fail(err, T2G_ERR_TOO_LARGE, "%s: too large to map", g->path);
    else {
        void *map = mmap(NULL, (size_t)g->size, PROT_READ, MAP_PRIVATE, fileno(file), 0);
        if (map == MAP_FAILED) status = t2g_fail(err, T2G_ERR_IO, "%s: cannot map the file into memory", g->path);
        else g->map = map;
    }
    fclose(file);
    return status;
}

t2g_status t2g_gguf_open(const char *path, t2g_gguf **out, t2g_error *err) {
    *out = NULL;
    t2g_gguf *g = calloc(1, sizeof *g);
    if (!g || !(g->path = strdup(path))) {
        free(g);
        return t2g_fail(err, T2G_ERR_MEMORY, "%s: out of memory", path);
    }
    cursor c = {g, 0, err};
    t2g_status status = map_file(g, err);
    if (!status) status = read_header(&c);
    if (!status) status = read_metadata(&c);
    if (!status) status = read_alignment(g, err);
    if (!status) status = refuse_split(g, err);
    if (!status) status = read_tensors(&c);
    if (status) {
        t2g_gguf_close(g);
        return status;
    }
    *out = g;
    return T2G_OK;
}

void t2g_gguf_close(t2g_gguf *g) {
    if (!g) return;
    if (g->keys)
        for (uint64_t i = 0; i < g->key_count; i++) {
            free(g->keys[i].name);
            free(g->keys[i].value.strings);
        }
    if (g->tensors)
        for (uint64_t i = 0; i < g->tensor_count; i++) free((char *)g->tensors[i].name);
    free(g->keys);
    free(g->keys_sorted);
    free(g->tensors);
    free(g->tensors_sorted);
    if (g->map) munmap((void *)g->map, (size_t)g->size);
    free(g->path);
    free(g);
}
