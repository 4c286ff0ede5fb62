/* Writing safetensors files (t2g/safetensors.h): the header built with cJSON (sizes as raw
 * integer text, never through a double), padded with spaces to a multiple of 8 bytes, then each
 * tensor's data encoded little-endian in chunks, all through one atomic write. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/atomic_write.h"
#include "io/safetensors_internal.h"
#include "t2g/safetensors.h"

/* The entry's elements and bytes, or an error naming it. */
static t2g_status check_entry(const char *path, const t2g_safetensors_entry *e, uint64_t *elements, uint64_t *bytes,
                              t2g_error *err) {
    const char *name = e->name ? e->name : "(no name)";
    if (!e->name || !*e->name || strcmp(e->name, "__metadata__") == 0)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: a tensor's name may be neither empty nor \"__metadata__\"", path);
    if (e->rank < 1 || e->rank > T2G_SAFETENSORS_MAX_RANK || (e->transposed && e->rank != 2))
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: tensor %s: rank %u (1 to %u; 2 when transposed)", path, name, e->rank,
                        T2G_SAFETENSORS_MAX_RANK);
    if (!t2g_safetensors_dtype_name(e->dtype))
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: tensor %s: t2g writes F32, F16 or BF16, not %s", path, name,
                        t2g_dtype_name(e->dtype));
    *elements = 1;
    for (uint32_t i = 0; i < e->rank; i++) {
        if (e->shape[i] && *elements > UINT64_MAX / 8 / e->shape[i])
            return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: tensor %s: its shape overflows", path, name);
        *elements *= e->shape[i];
    }
    if (*elements && !e->data) return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: tensor %s: no data", path, name);
    *bytes = *elements * t2g_dtype_bytes(e->dtype);
    return T2G_OK;
}

static bool add_integer(cJSON *array, uint64_t value) {
    char text[24];
    snprintf(text, sizeof text, "%llu", (unsigned long long)value);
    cJSON *item = cJSON_CreateRaw(text);
    return item && cJSON_AddItemToArray(array, item);
}

/* The header text, padded with spaces to a multiple of 8 bytes (malloc'ed, *len bytes). */
static t2g_status build_header(const char *path, const t2g_safetensors_entry *tensors, uint32_t count, char **text,
                               size_t *len, t2g_error *err) {
    *text = NULL;
    cJSON *root = cJSON_CreateObject(), *metadata = cJSON_AddObjectToObject(root, "__metadata__");
    bool ok = metadata && cJSON_AddStringToObject(metadata, "format", "pt");
    uint64_t offset = 0;
    for (uint32_t i = 0; ok && i < count; i++) {
        const t2g_safetensors_entry *e = &tensors[i];
        uint64_t elements = 0, bytes = 0;
        t2g_status status = check_entry(path, e, &elements, &bytes, err);
        if (status) {
            cJSON_Delete(root);
            return status;
        }
        if (cJSON_GetObjectItemCaseSensitive(root, e->name)) {
            cJSON_Delete(root);
            return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: tensor %s is given twice", path, e->name);
        }
        cJSON *entry = cJSON_AddObjectToObject(root, e->name);
        ok = entry && cJSON_AddStringToObject(entry, "dtype", t2g_safetensors_dtype_name(e->dtype));
        cJSON *shape = ok ? cJSON_AddArrayToObject(entry, "shape") : NULL;
        cJSON *offsets = shape ? cJSON_AddArrayToObject(entry, "data_offsets") : NULL;
        ok = offsets != NULL;
        for (uint32_t d = 0; ok && d < e->rank; d++) ok = add_integer(shape, e->shape[d]);
        ok = ok && add_integer(offsets, offset) && add_integer(offsets, offset + bytes);
        offset += bytes;
    }
    char *json = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!json) return t2g_fail(err, T2G_ERR_MEMORY, "%s: out of memory building the header", path);
    size_t used = strlen(json), padded = (used + 7) / 8 * 8;
    char *grown = realloc(json, padded);
    if (!grown) {
        free(json);
        return t2g_fail(err, T2G_ERR_MEMORY, "%s: out of memory building the header", path);
    }
    *text = grown;
    memset(*text + used, ' ', padded - used);
    *len = padded;
    return T2G_OK;
}

enum { CHUNK_FLOATS = 16384 };

/* Element i of the tensor as stored (row-major over its shape). */
static float element(const t2g_safetensors_entry *e, uint64_t i) {
    if (!e->transposed) return e->data[i];
    uint64_t rows = e->shape[0], cols = e->shape[1], row = i / cols, col = i % cols;
    return e->data[col * rows + row]; /* data is (cols, rows) */
}

static void write_data(FILE *file, const t2g_safetensors_entry *e, uint64_t elements, int *error) {
    unsigned char chunk[4 * CHUNK_FLOATS];
    uint32_t size = t2g_dtype_bytes(e->dtype);
    for (uint64_t done = 0; done < elements && !*error;) {
        uint64_t n = elements - done < CHUNK_FLOATS ? elements - done : CHUNK_FLOATS;
        for (uint64_t i = 0; i < n; i++) {
            float x = element(e, done + i);
            uint32_t bits;
            if (e->dtype == T2G_DTYPE_F32) memcpy(&bits, &x, sizeof bits);
            else bits = e->dtype == T2G_DTYPE_F16 ? t2g_f32_to_f16(x) : t2g_f32_to_bf16(x);
            for (uint32_t b = 0; b < size; b++) chunk[size * i + b] = (unsigned char)(bits >> (8 * b));
        }
        errno = 0;
        if (fwrite(chunk, size, (size_t)n, file) != n) *error = errno ? errno : EIO;
        done += n;
    }
}

t2g_status t2g_safetensors_write(const char *path, const t2g_safetensors_entry *tensors, uint32_t count,
                                 t2g_error *err) {
    if (!path || !*path) return t2g_fail(err, T2G_ERR_ARGUMENT, "writing a safetensors file: no path");
    if (count && !tensors) return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: no tensors given", path);
    char *header;
    size_t header_bytes = 0;
    t2g_status status = build_header(path, tensors, count, &header, &header_bytes, err);
    if (status) return status;
    t2g_atomic_file out;
    if (t2g_atomic_open(&out, path, err)) {
        free(header);
        return t2g_error_context(err, "safetensors file %s", path);
    }
    unsigned char prefix[8];
    for (int b = 0; b < 8; b++) prefix[b] = (unsigned char)((uint64_t)header_bytes >> (8 * b));
    int error = 0;
    errno = 0;
    if (fwrite(prefix, 1, sizeof prefix, out.file) != sizeof prefix || fwrite(header, 1, header_bytes, out.file) != header_bytes)
        error = errno ? errno : EIO;
    free(header);
    for (uint32_t i = 0; i < count && !error; i++) {
        uint64_t elements = 1;
        for (uint32_t d = 0; d < tensors[i].rank; d++) elements *= tensors[i].shape[d];
        write_data(out.file, &tensors[i], elements, &error);
    }
    if (t2g_atomic_commit(&out, error, err)) return t2g_error_context(err, "safetensors file %s", path);
    return T2G_OK;
}
