/* The GGUF writer (t2g/gguf_write.h): its life, the tensor declarations, the header, and the
 * file's completion. Metadata: gguf_write_meta.c; tensor data: gguf_write_data.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/grow.h"
#include "io/gguf_write_internal.h"

static const struct {
    t2g_gguf_write_type type;
    const char *name;
} type_names[] = {
    {T2G_GGUF_WRITE_F32, "F32"}, {T2G_GGUF_WRITE_F16, "F16"}, {T2G_GGUF_WRITE_Q8_0, "Q8_0"}, {T2G_GGUF_WRITE_BF16, "BF16"},
};
enum { TYPE_COUNT = sizeof type_names / sizeof type_names[0] };

const char *t2g_gguf_write_type_name(t2g_gguf_write_type type) {
    for (int i = 0; i < TYPE_COUNT; i++)
        if (type_names[i].type == type) return type_names[i].name;
    return NULL;
}

bool t2g_gguf_write_type_from_name(const char *name, t2g_gguf_write_type *type) {
    for (int i = 0; name && i < TYPE_COUNT; i++)
        if (strcasecmp(name, type_names[i].name) == 0) {
            *type = type_names[i].type;
            return true;
        }
    return false;
}

uint64_t t2g_gguf_write_type_bytes(t2g_gguf_write_type type, uint64_t elements) {
    switch (type) {
    case T2G_GGUF_WRITE_F32: return 4 * elements;
    case T2G_GGUF_WRITE_F16:
    case T2G_GGUF_WRITE_BF16: return 2 * elements;
    case T2G_GGUF_WRITE_Q8_0: return elements / T2G_GGUF_WRITE_Q8_0_BLOCK * T2G_GGUF_Q8_0_BLOCK_BYTES;
    }
    return 0;
}

unsigned char *t2g_gguf_put_le(unsigned char *p, uint64_t value, unsigned bytes) {
    for (unsigned b = 0; b < bytes; b++) *p++ = (unsigned char)(value >> (8 * b));
    return p;
}

uint64_t t2g_gguf_align(uint64_t value, uint32_t alignment) {
    return (value + alignment - 1) & ~(uint64_t)(alignment - 1);
}

t2g_status t2g_gguf_writer_new(const char *path, t2g_gguf_writer **writer, t2g_error *err) {
    *writer = NULL;
    if (!path || !*path) return t2g_fail(err, T2G_ERR_ARGUMENT, "writing a GGUF file: no path");
    t2g_gguf_writer *w = t2g_calloc(1, sizeof *w);
    size_t len = strlen(path);
    char *copy = w ? t2g_malloc(len + 1) : NULL;
    if (!copy) {
        free(w);
        return t2g_fail(err, T2G_ERR_MEMORY, "GGUF file %s: out of memory", path);
    }
    memcpy(copy, path, len + 1);
    w->path = copy;
    w->alignment = T2G_GGUF_WRITE_DEFAULT_ALIGNMENT;
    w->state = T2G_GGUF_ADDING;
    *writer = w;
    return T2G_OK;
}

void t2g_gguf_writer_free(t2g_gguf_writer *w) {
    if (!w) return;
    if (w->state == T2G_GGUF_WRITING) t2g_atomic_abort(&w->file);
    for (size_t i = 0; i < w->tensor_count; i++) free(w->tensors[i].name);
    free(w->tensors);
    free(w->keys);
    free(w->kv);
    free(w->path);
    free(w);
}

/* ---- tensor declarations ---- */

/* The tensor's elements, or an error naming it and what is wrong with its dims. */
static t2g_status check_dims(const t2g_gguf_writer *w, const char *name, t2g_gguf_write_type type, uint32_t n_dims,
                             const uint64_t *dims, uint64_t *elements, t2g_error *err) {
    if (n_dims < 1 || n_dims > T2G_GGUF_WRITE_MAX_DIMS || !dims)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: tensor %s: %u dims (1 to %u)", w->path, name, n_dims,
                        T2G_GGUF_WRITE_MAX_DIMS);
    *elements = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
        if (dims[d] < 1)
            return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: tensor %s: dims[%u] is 0 (each must be at least 1)", w->path,
                            name, d);
        if (dims[d] > (uint64_t)INT64_MAX / 4 / *elements)
            return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: tensor %s: its dims overflow", w->path, name);
        *elements *= dims[d];
    }
    if (type == T2G_GGUF_WRITE_Q8_0 && dims[0] % T2G_GGUF_WRITE_Q8_0_BLOCK)
        return t2g_fail(err, T2G_ERR_ARGUMENT,
                        "%s: tensor %s cannot be Q8_0: its blocks of %u elements run along dims[0], which is %llu "
                        "(the tensor has %llu elements); store it as F32, F16 or BF16",
                        w->path, name, T2G_GGUF_WRITE_Q8_0_BLOCK, (unsigned long long)dims[0],
                        (unsigned long long)*elements);
    return T2G_OK;
}

t2g_status t2g_gguf_add_tensor(t2g_gguf_writer *w, const char *name, t2g_gguf_write_type type, uint32_t n_dims,
                               const uint64_t *dims, t2g_error *err) {
    if (w->state != T2G_GGUF_ADDING)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: tensor %s declared after the tensor data began", w->path,
                        name ? name : "(no name)");
    size_t len = name ? strlen(name) : 0;
    if (len < 1 || len > T2G_GGUF_WRITE_MAX_NAME)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: tensor name \"%s\" has %zu bytes (1 to %u)", w->path,
                        name ? name : "", len, T2G_GGUF_WRITE_MAX_NAME);
    if (!t2g_gguf_write_type_name(type))
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: tensor %s: type %d (F32, F16, BF16 or Q8_0)", w->path, name,
                        (int)type);
    for (size_t i = 0; i < w->tensor_count; i++)
        if (strcmp(w->tensors[i].name, name) == 0)
            return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: tensor %s is given twice", w->path, name);
    uint64_t elements = 0;
    t2g_status status = check_dims(w, name, type, n_dims, dims, &elements, err);
    if (status) return status;
    char *copy = t2g_malloc(len + 1);
    if (!copy || !t2g_grow(&w->tensors, &w->tensors_capacity, w->tensor_count + 1, sizeof *w->tensors)) {
        free(copy);
        return t2g_fail(err, T2G_ERR_MEMORY, "%s: out of memory declaring tensor %s", w->path, name);
    }
    memcpy(copy, name, len + 1);
    t2g_gguf_write_tensor *t = &w->tensors[w->tensor_count++];
    *t = (t2g_gguf_write_tensor){.name = copy, .type = type, .n_dims = n_dims, .elements = elements};
    memcpy(t->dims, dims, n_dims * sizeof *dims);
    t->bytes = t2g_gguf_write_type_bytes(type, elements);
    return T2G_OK;
}

/* ---- writing ---- */

t2g_status t2g_gguf_stop(t2g_gguf_writer *w, t2g_error *err, t2g_status status, const char *format, ...) {
    if (w->state == T2G_GGUF_WRITING) t2g_atomic_abort(&w->file);
    w->state = T2G_GGUF_FAILED;
    va_list args;
    va_start(args, format);
    t2g_failv(err, status, format, args);
    va_end(args);
    return t2g_error_context(err, "GGUF file %s (not written)", w->path);
}

t2g_status t2g_gguf_put_bytes(t2g_gguf_writer *w, const void *bytes, size_t count, t2g_error *err) {
    errno = 0;
    if (fwrite(bytes, 1, count, w->file.file) == count) return T2G_OK;
    int error = errno ? errno : EIO;
    t2g_atomic_commit(&w->file, error, err); /* fails naming the file; removes the temporary file */
    w->state = T2G_GGUF_FAILED;
    return t2g_error_context(err, "GGUF file %s", w->path);
}

t2g_status t2g_gguf_put_zeros(t2g_gguf_writer *w, uint64_t count, t2g_error *err) {
    static const unsigned char zeros[4096];
    for (uint64_t done = 0; done < count;) {
        size_t n = count - done < sizeof zeros ? (size_t)(count - done) : sizeof zeros;
        t2g_status status = t2g_gguf_put_bytes(w, zeros, n, err);
        if (status) return status;
        done += n;
    }
    return T2G_OK;
}

/* The tensor infos as stored, with each tensor's offset set (malloc'ed, *bytes long). */
static t2g_status build_infos(t2g_gguf_writer *w, unsigned char **infos, size_t *bytes, t2g_error *err) {
    size_t total = 0;
    for (size_t i = 0; i < w->tensor_count; i++)
        total += 8 + strlen(w->tensors[i].name) + 4 + 8 * (size_t)w->tensors[i].n_dims + 4 + 8;
    unsigned char *p = *infos = t2g_malloc(total ? total : 1);
    if (!p) return t2g_fail(err, T2G_ERR_MEMORY, "%s: out of memory building the tensor infos", w->path);
    uint64_t offset = 0;
    for (size_t i = 0; i < w->tensor_count; i++) {
        t2g_gguf_write_tensor *t = &w->tensors[i];
        size_t len = strlen(t->name);
        p = t2g_gguf_put_le(p, len, 8);
        memcpy(p, t->name, len);
        p = t2g_gguf_put_le(p + len, t->n_dims, 4);
        for (uint32_t d = 0; d < t->n_dims; d++) p = t2g_gguf_put_le(p, t->dims[d], 8);
        p = t2g_gguf_put_le(p, (uint32_t)t->type, 4);
        t->offset = offset;
        p = t2g_gguf_put_le(p, offset, 8);
        offset = t2g_gguf_align(offset + t->bytes, w->alignment);
    }
    *bytes = total;
    return T2G_OK;
}

t2g_status t2g_gguf_write_header(t2g_gguf_writer *w, t2g_error *err) {
    unsigned char *infos = NULL, head[24];
    size_t info_bytes = 0;
    t2g_status status = build_infos(w, &infos, &info_bytes, err);
    if (status) return status;
    if (t2g_atomic_open(&w->file, w->path, err)) {
        free(infos);
        w->state = T2G_GGUF_FAILED;
        return t2g_error_context(err, "GGUF file %s", w->path);
    }
    w->state = T2G_GGUF_WRITING;
    memcpy(head, "GGUF", 4);
    t2g_gguf_put_le(t2g_gguf_put_le(t2g_gguf_put_le(head + 4, 3, 4), w->tensor_count, 8), w->kv_count, 8);
    uint64_t header_bytes = sizeof head + w->kv_bytes + info_bytes;
    status = t2g_gguf_put_bytes(w, head, sizeof head, err);
    if (!status && w->kv_bytes) status = t2g_gguf_put_bytes(w, w->kv, w->kv_bytes, err);
    if (!status && info_bytes) status = t2g_gguf_put_bytes(w, infos, info_bytes, err);
    free(infos);
    if (!status) status = t2g_gguf_put_zeros(w, t2g_gguf_align(header_bytes, w->alignment) - header_bytes, err);
    w->current = 0;
    w->encoded = 0;
    w->pending_count = 0;
    return status;
}

t2g_status t2g_gguf_start_data(t2g_gguf_writer *w, t2g_error *err) {
    if (w->state == T2G_GGUF_ADDING) {
        t2g_status status = t2g_gguf_write_header(w, err);
        if (status) return status;
    }
    if (w->state != T2G_GGUF_WRITING)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "GGUF file %s: %s", w->path,
                        w->state == T2G_GGUF_DONE ? "finished already" : "an earlier error stopped its writing");
    return T2G_OK;
}

t2g_status t2g_gguf_writer_finish(t2g_gguf_writer *w, t2g_error *err) {
    t2g_status status = t2g_gguf_start_data(w, err);
    if (status) return status;
    if (w->current < w->tensor_count) {
        const t2g_gguf_write_tensor *t = &w->tensors[w->current];
        return t2g_gguf_stop(w, err, T2G_ERR_ARGUMENT, "tensor %s has %llu of its %llu elements (finished early)",
                             t->name, (unsigned long long)(w->encoded + w->pending_count),
                             (unsigned long long)t->elements);
    }
    w->state = T2G_GGUF_DONE;
    if (t2g_atomic_commit(&w->file, 0, err)) {
        w->state = T2G_GGUF_FAILED;
        return t2g_error_context(err, "GGUF file %s", w->path);
    }
    return T2G_OK;
}
