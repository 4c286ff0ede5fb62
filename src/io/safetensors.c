/* Reading safetensors files (the format and the checks are in t2g/safetensors.h). Nothing of the
 * header is used before the whole of it has been checked against the file's size; tensors are
 * then streamed from the file in chunks, decoded byte by byte (little-endian whatever the host). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/read_file.h"
#include "io/safetensors_internal.h"
#include "t2g/safetensors.h"

struct t2g_safetensors {
    char *path;
    FILE *file;
    uint64_t data_start, data_bytes;       /* the data: where it starts in the file, its length */
    cJSON *header;                         /* owns the names the tensors point to */
    const cJSON *metadata;                 /* "__metadata__", or NULL */
    uint32_t count;
    t2g_safetensors_tensor *tensors;       /* (count) in the header's order */
    const t2g_safetensors_tensor **sorted; /* (count) by name, for t2g_safetensors_find */
};

/* ---- safetensors' element types ---- */

static const struct {
    const char *name;
    uint32_t bytes;
    t2g_dtype dtype; /* what t2g reads it as; T2G_DTYPE_COUNT: listed, not read */
} st_dtypes[] = {
    {"F32", 4, T2G_DTYPE_F32},     {"F16", 2, T2G_DTYPE_F16},     {"BF16", 2, T2G_DTYPE_BF16},
    {"F64", 8, T2G_DTYPE_COUNT},   {"I64", 8, T2G_DTYPE_COUNT},   {"U64", 8, T2G_DTYPE_COUNT},
    {"I32", 4, T2G_DTYPE_COUNT},   {"U32", 4, T2G_DTYPE_COUNT},   {"I16", 2, T2G_DTYPE_COUNT},
    {"U16", 2, T2G_DTYPE_COUNT},   {"I8", 1, T2G_DTYPE_COUNT},    {"U8", 1, T2G_DTYPE_COUNT},
    {"BOOL", 1, T2G_DTYPE_COUNT},  {"F8_E4M3", 1, T2G_DTYPE_COUNT}, {"F8_E5M2", 1, T2G_DTYPE_COUNT},
    {"F8_E8M0", 1, T2G_DTYPE_COUNT},
};

const char *t2g_safetensors_dtype_name(t2g_dtype dtype) {
    for (size_t i = 0; i < 3; i++)
        if (st_dtypes[i].dtype == dtype) return st_dtypes[i].name;
    return NULL;
}

/* ---- checking the header ---- */

#define MAX_EXACT 9007199254740992.0 /* 2^53: every integer up to it is exact in a double */

static uint64_t get_u64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* A JSON number that is a whole number in [0, 2^53]. */
static bool whole_number(const cJSON *item, uint64_t *value) {
    if (!cJSON_IsNumber(item)) return false;
    double d = item->valuedouble;
    if (!(d >= 0 && d <= MAX_EXACT) || d != (double)(uint64_t)d) return false;
    *value = (uint64_t)d;
    return true;
}

static t2g_status check_metadata(const t2g_safetensors *st, const cJSON *metadata, t2g_error *err) {
    if (!cJSON_IsObject(metadata))
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: \"__metadata__\" is not a JSON object", st->path);
    for (const cJSON *m = metadata->child; m; m = m->next)
        if (!cJSON_IsString(m))
            return t2g_fail(err, T2G_ERR_FORMAT, "%s: \"__metadata__\" key \"%s\" is not a string", st->path, m->string);
    return T2G_OK;
}

/* One entry of the header: its keys, dtype, shape and offsets, and the sizes agreeing. */
static t2g_status check_entry(const t2g_safetensors *st, const cJSON *entry, t2g_safetensors_tensor *t,
                              t2g_error *err) {
    const char *path = st->path, *name = entry->string;
    t->name = name;
    if (!cJSON_IsObject(entry))
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: tensor %s: its entry is not a JSON object", path, name);
    const cJSON *dtype = NULL, *shape = NULL, *offsets = NULL;
    for (const cJSON *k = entry->child; k; k = k->next) {
        const cJSON **slot = strcmp(k->string, "dtype") == 0          ? &dtype
                             : strcmp(k->string, "shape") == 0        ? &shape
                             : strcmp(k->string, "data_offsets") == 0 ? &offsets
                                                                      : NULL;
        if (!slot || *slot)
            return t2g_fail(err, T2G_ERR_FORMAT, "%s: tensor %s: %s key \"%s\" (expected dtype, shape, data_offsets)",
                            path, name, slot ? "a repeated" : "an unknown", k->string);
        *slot = k;
    }
    if (!cJSON_IsString(dtype))
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: tensor %s: no \"dtype\" string", path, name);
    size_t d = 0, known = sizeof st_dtypes / sizeof st_dtypes[0];
    while (d < known && strcmp(st_dtypes[d].name, dtype->valuestring) != 0) d++;
    if (d == known)
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: tensor %s: unknown dtype \"%s\"", path, name, dtype->valuestring);
    t->dtype_name = st_dtypes[d].name;
    t->dtype = st_dtypes[d].dtype;
    t->element_bytes = st_dtypes[d].bytes;

    int rank = cJSON_IsArray(shape) ? cJSON_GetArraySize(shape) : -1;
    if (rank < 0 || rank > (int)T2G_SAFETENSORS_MAX_RANK)
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: tensor %s: \"shape\" is not an array of at most %u sizes", path,
                        name, T2G_SAFETENSORS_MAX_RANK);
    t->rank = (uint32_t)rank;
    t->elements = 1;
    bool overflow = false;
    uint32_t i = 0;
    for (const cJSON *dim = shape->child; dim; dim = dim->next, i++) {
        if (!whole_number(dim, &t->shape[i]))
            return t2g_fail(err, T2G_ERR_FORMAT, "%s: tensor %s: shape entry %u is not a whole number", path, name, i);
        if (t->shape[i] && t->elements > UINT64_MAX / t->shape[i]) overflow = true;
        t->elements *= t->shape[i];
    }
    uint64_t bytes = t->elements * t->element_bytes;
    if (overflow || t->elements > UINT64_MAX / t->element_bytes)
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: tensor %s: its shape overflows 64 bits", path, name);

    if (!cJSON_IsArray(offsets) || cJSON_GetArraySize(offsets) != 2 || !whole_number(offsets->child, &t->begin) ||
        !whole_number(offsets->child->next, &t->end))
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: tensor %s: \"data_offsets\" is not [begin, end] in whole bytes", path,
                        name);
    if (t->begin > t->end || t->end > st->data_bytes)
        return t2g_fail(err, T2G_ERR_FORMAT,
                        "%s: tensor %s: data_offsets [%llu, %llu] lie outside the data (%llu bytes after the header)",
                        path, name, (unsigned long long)t->begin, (unsigned long long)t->end,
                        (unsigned long long)st->data_bytes);
    if (t->end - t->begin != bytes)
        return t2g_fail(err, T2G_ERR_FORMAT,
                        "%s: tensor %s: data_offsets [%llu, %llu] hold %llu bytes; its shape and dtype %s need %llu",
                        path, name, (unsigned long long)t->begin, (unsigned long long)t->end,
                        (unsigned long long)(t->end - t->begin), t->dtype_name, (unsigned long long)bytes);
    return T2G_OK;
}

static int by_name(const void *a, const void *b) {
    return strcmp((*(const t2g_safetensors_tensor *const *)a)->name, (*(const t2g_safetensors_tensor *const *)b)->name);
}

static int by_begin(const void *a, const void *b) {
    const t2g_safetensors_tensor *x = *(const t2g_safetensors_tensor *const *)a, *y = *(const t2g_safetensors_tensor *const *)b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : 0;
}

/* No name twice; no two tensors sharing a byte (an empty tensor shares none). */
static t2g_status check_layout(t2g_safetensors *st, t2g_error *err) {
    for (uint32_t i = 0; i < st->count; i++) st->sorted[i] = &st->tensors[i];
    qsort(st->sorted, st->count, sizeof *st->sorted, by_name);
    for (uint32_t i = 1; i < st->count; i++)
        if (strcmp(st->sorted[i - 1]->name, st->sorted[i]->name) == 0)
            return t2g_fail(err, T2G_ERR_FORMAT, "%s: tensor %s appears twice in the header", st->path, st->sorted[i]->name);
    const t2g_safetensors_tensor **order = malloc((st->count ? st->count : 1) * sizeof *order);
    if (!order) return t2g_fail(err, T2G_ERR_MEMORY, "%s: out of memory for %u tensors", st->path, st->count);
    memcpy(order, st->sorted, st->count * sizeof *order);
    qsort(order, st->count, sizeof *order, by_begin);
    const t2g_safetensors_tensor *reach = NULL; /* the non-empty tensor seen so far that ends last */
    t2g_status status = T2G_OK;
    for (uint32_t i = 0; i < st->count && !status; i++) {
        const t2g_safetensors_tensor *t = order[i];
        if (t->begin == t->end) continue;
        if (reach && t->begin < reach->end)
            status = t2g_fail(err, T2G_ERR_FORMAT, "%s: tensors %s [%llu, %llu] and %s [%llu, %llu] overlap", st->path,
                              reach->name, (unsigned long long)reach->begin, (unsigned long long)reach->end, t->name,
                              (unsigned long long)t->begin, (unsigned long long)t->end);
        if (!reach || t->end > reach->end) reach = t;
    }
    free(order);
    return status;
}

static t2g_status parse_header(t2g_safetensors *st, const char *text, size_t len, t2g_error *err) {
    const char *end = NULL;
    st->header = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!st->header) {
        if (!end || end < text || end > text + len) end = text;
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: the header is not JSON (at byte %zu of %zu)", st->path,
                        (size_t)(end - text), len);
    }
    for (const char *p = end; p < text + len; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            return t2g_fail(err, T2G_ERR_FORMAT, "%s: the header holds more than one JSON value (byte %zu)", st->path,
                            (size_t)(p - text));
    if (!cJSON_IsObject(st->header))
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: the header is not a JSON object", st->path);
    uint32_t count = 0;
    for (const cJSON *e = st->header->child; e; e = e->next) count += strcmp(e->string, "__metadata__") != 0;
    st->tensors = calloc(count ? count : 1, sizeof *st->tensors);
    st->sorted = calloc(count ? count : 1, sizeof *st->sorted);
    if (!st->tensors || !st->sorted) return t2g_fail(err, T2G_ERR_MEMORY, "%s: out of memory for %u tensors", st->path, count);
    for (const cJSON *e = st->header->child; e; e = e->next) {
        t2g_status status;
        if (strcmp(e->string, "__metadata__") == 0) {
            if (st->metadata) return t2g_fail(err, T2G_ERR_FORMAT, "%s: \"__metadata__\" appears twice", st->path);
            st->metadata = e;
            status = check_metadata(st, e, err);
        } else
            status = check_entry(st, e, &st->tensors[st->count++], err);
        if (status) return status;
    }
    return check_layout(st, err);
}

static t2g_status open_file(t2g_safetensors *st, t2g_error *err) {
    uint64_t size = 0;
    t2g_status status = t2g_file_open(st->path, "the safetensors file", &st->file, &size, err);
    if (status) return status;
    unsigned char prefix[8];
    if (size < sizeof prefix || fread(prefix, 1, sizeof prefix, st->file) != sizeof prefix)
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: %llu bytes: too short for a safetensors file (8-byte header length)",
                        st->path, (unsigned long long)size);
    uint64_t header_bytes = get_u64(prefix);
    if (header_bytes > size - sizeof prefix)
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: the header length %llu is longer than the file (%llu bytes)", st->path,
                        (unsigned long long)header_bytes, (unsigned long long)size);
    if (header_bytes > T2G_SAFETENSORS_HEADER_MAX)
        return t2g_fail(err, T2G_ERR_TOO_LARGE, "%s: the header length %llu is more than the %u bytes allowed", st->path,
                        (unsigned long long)header_bytes, T2G_SAFETENSORS_HEADER_MAX);
    st->data_start = sizeof prefix + header_bytes;
    st->data_bytes = size - st->data_start;
    char *text = malloc(header_bytes ? header_bytes : 1);
    if (!text) return t2g_fail(err, T2G_ERR_MEMORY, "%s: out of memory for a %llu-byte header", st->path, (unsigned long long)header_bytes);
    if (fread(text, 1, header_bytes, st->file) != header_bytes)
        status = t2g_fail(err, T2G_ERR_IO, "%s: cannot read the header: %s", st->path,
                          ferror(st->file) ? strerror(errno) : "the file ended early");
    else
        status = parse_header(st, text, header_bytes, err);
    free(text);
    return status;
}

t2g_status t2g_safetensors_open(const char *path, t2g_safetensors **file, t2g_error *err) {
    *file = NULL;
    if (!path || !*path) return t2g_fail(err, T2G_ERR_ARGUMENT, "opening a safetensors file: no path");
    t2g_safetensors *st = calloc(1, sizeof *st);
    if (st) st->path = strdup(path);
    if (!st || !st->path) {
        if (st) free(st);
        return t2g_fail(err, T2G_ERR_MEMORY, "%s: out of memory", path);
    }
    t2g_status status = open_file(st, err);
    if (status) {
        t2g_safetensors_close(st);
        return status;
    }
    *file = st;
    return T2G_OK;
}

void t2g_safetensors_close(t2g_safetensors *st) {
    if (!st) return;
    if (st->file) fclose(st->file);
    cJSON_Delete(st->header);
    free(st->tensors);
    free(st->sorted);
    free(st->path);
    free(st);
}

/* ---- what the file holds ---- */

const char *t2g_safetensors_path(const t2g_safetensors *st) { return st->path; }
uint32_t t2g_safetensors_count(const t2g_safetensors *st) { return st->count; }

const t2g_safetensors_tensor *t2g_safetensors_at(const t2g_safetensors *st, uint32_t index) {
    return index < st->count ? &st->tensors[index] : NULL;
}

const t2g_safetensors_tensor *t2g_safetensors_find(const t2g_safetensors *st, const char *name) {
    t2g_safetensors_tensor key = {.name = name};
    const t2g_safetensors_tensor *key_pointer = &key;
    const t2g_safetensors_tensor **found = bsearch(&key_pointer, st->sorted, st->count, sizeof *st->sorted, by_name);
    return found ? *found : NULL;
}

const char *t2g_safetensors_metadata(const t2g_safetensors *st, const char *key) {
    const cJSON *value = st->metadata ? cJSON_GetObjectItemCaseSensitive(st->metadata, key) : NULL;
    return cJSON_IsString(value) ? value->valuestring : NULL;
}

/* ---- reading tensors ---- */

enum { CHUNK_BYTES = 1 << 16 };

static void decode(t2g_dtype dtype, const unsigned char *bytes, uint64_t n, float *out) {
    for (uint64_t i = 0; i < n; i++) {
        if (dtype == T2G_DTYPE_F32) {
            const unsigned char *p = bytes + 4 * i;
            uint32_t bits = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
            memcpy(&out[i], &bits, sizeof bits);
        } else {
            uint16_t bits = (uint16_t)(bytes[2 * i] | bytes[2 * i + 1] << 8);
            out[i] = dtype == T2G_DTYPE_F16 ? t2g_f16_to_f32(bits) : t2g_bf16_to_f32(bits);
        }
    }
}

/* One element of F64, I64 or I32 as a double (I64 beyond 2^53 rounds). */
static double decode_wide(const char *dtype, const unsigned char *p) {
    uint64_t bits = 0;
    int bytes = strcmp(dtype, "I32") == 0 ? 4 : 8;
    for (int i = bytes - 1; i >= 0; i--) bits = bits << 8 | p[i];
    if (strcmp(dtype, "F64") == 0) {
        double v;
        memcpy(&v, &bits, sizeof v);
        return v;
    }
    if (bytes == 4) return (double)(int32_t)(uint32_t)bits;
    return (double)(int64_t)bits;
}

static bool is_wide(const char *dtype) {
    return strcmp(dtype, "F64") == 0 || strcmp(dtype, "I64") == 0 || strcmp(dtype, "I32") == 0;
}

static t2g_status read_elements(t2g_safetensors *st, const t2g_safetensors_tensor *t, uint64_t first, uint64_t count,
                                float *out, double *wide, t2g_error *err);

t2g_status t2g_safetensors_read_f64(t2g_safetensors *st, const t2g_safetensors_tensor *t, double *out, uint64_t count,
                                    t2g_error *err) {
    if (count != t->elements)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: tensor %s has %llu elements; the buffer given holds %llu", st->path,
                        t->name, (unsigned long long)t->elements, (unsigned long long)count);
    if (is_wide(t->dtype_name)) return read_elements(st, t, 0, count, NULL, out, err);
    float *narrow = malloc((count ? count : 1) * sizeof *narrow);
    if (!narrow) return t2g_fail(err, T2G_ERR_MEMORY, "%s: tensor %s: out of host memory", st->path, t->name);
    t2g_status status = t2g_safetensors_read_range(st, t, 0, count, narrow, err);
    for (uint64_t i = 0; !status && i < count; i++) out[i] = narrow[i];
    free(narrow);
    return status;
}

t2g_status t2g_safetensors_read_range(t2g_safetensors *st, const t2g_safetensors_tensor *t, uint64_t first,
                                      uint64_t count, float *out, t2g_error *err) {
    if (t->dtype != T2G_DTYPE_F32 && t->dtype != T2G_DTYPE_F16 && t->dtype != T2G_DTYPE_BF16)
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: tensor %s: dtype %s: t2g reads F32, F16 and BF16 tensors", st->path,
                        t->name, t->dtype_name);
    return read_elements(st, t, first, count, out, NULL, err);
}

/* Elements [first, first + count) into out (F32, F16, BF16) or wide (F64, I64, I32). */
static t2g_status read_elements(t2g_safetensors *st, const t2g_safetensors_tensor *t, uint64_t first, uint64_t count,
                                float *out, double *wide, t2g_error *err) {
    if (first > t->elements || count > t->elements - first)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: tensor %s: elements [%llu, %llu) asked of its %llu", st->path,
                        t->name, (unsigned long long)first, (unsigned long long)(first + count),
                        (unsigned long long)t->elements);
    if (count == 0) return T2G_OK;
    uint32_t size = t->element_bytes;
    if (fseeko(st->file, (off_t)(st->data_start + t->begin + first * size), SEEK_SET) != 0)
        return t2g_fail(err, T2G_ERR_IO, "%s: tensor %s: cannot seek: %s", st->path, t->name, strerror(errno));
    unsigned char chunk[CHUNK_BYTES];
    for (uint64_t done = 0; done < count;) {
        uint64_t n = count - done < CHUNK_BYTES / size ? count - done : CHUNK_BYTES / size;
        if (fread(chunk, size, (size_t)n, st->file) != n)
            return t2g_fail(err, T2G_ERR_IO, "%s: tensor %s: cannot read its data: %s", st->path, t->name,
                            ferror(st->file) ? strerror(errno) : "the file ended early (truncated since it was opened?)");
        if (wide)
            for (uint64_t i = 0; i < n; i++) wide[done + i] = decode_wide(t->dtype_name, chunk + i * size);
        else
            decode(t->dtype, chunk, n, out + done);
        done += n;
    }
    return T2G_OK;
}

t2g_status t2g_safetensors_read_f32(t2g_safetensors *st, const t2g_safetensors_tensor *t, float *out, uint64_t count,
                                    t2g_error *err) {
    if (count != t->elements)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: tensor %s has %llu elements; the buffer given holds %llu", st->path,
                        t->name, (unsigned long long)t->elements, (unsigned long long)count);
    return t2g_safetensors_read_range(st, t, 0, count, out, err);
}
