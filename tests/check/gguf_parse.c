/* The tests' minimal GGUF parser (gguf_parse.h). */
#include "gguf_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cursor {
    const unsigned char *bytes;
    uint64_t size, at;
    char *why;
    size_t why_size;
} cursor;

static bool take(cursor *c, uint64_t n, const unsigned char **p, const char *what) {
    if (n > c->size - c->at) {
        snprintf(c->why, c->why_size, "%s: %llu bytes at %llu run past the end (%llu)", what, (unsigned long long)n,
                 (unsigned long long)c->at, (unsigned long long)c->size);
        return false;
    }
    *p = c->bytes + c->at;
    c->at += n;
    return true;
}

static bool take_le(cursor *c, unsigned n, uint64_t *v, const char *what) {
    const unsigned char *p;
    if (!take(c, n, &p, what)) return false;
    *v = gguf_parse_le(p, n);
    return true;
}

static bool take_string(cursor *c, const unsigned char **s, uint64_t *len, const char *what) {
    return take_le(c, 8, len, what) && take(c, *len, s, what);
}

uint64_t gguf_parse_le(const unsigned char *p, unsigned bytes) {
    uint64_t v = 0;
    for (unsigned b = 0; b < bytes; b++) v |= (uint64_t)p[b] << (8 * b);
    return v;
}

unsigned gguf_parse_scalar_bytes(uint32_t type) {
    static const unsigned sizes[13] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    return type < 13 ? sizes[type] : 0;
}

/* The bytes of `count` values of `type` (strings walked one by one). */
static bool take_values(cursor *c, uint32_t type, uint64_t count, uint64_t *bytes, const char *what) {
    uint64_t start = c->at;
    if (type == 8) {
        for (uint64_t i = 0; i < count; i++) {
            const unsigned char *s;
            uint64_t len;
            if (!take_string(c, &s, &len, what)) return false;
        }
    } else {
        unsigned size = gguf_parse_scalar_bytes(type);
        const unsigned char *p;
        if (!size) {
            snprintf(c->why, c->why_size, "%s: value type %u", what, type);
            return false;
        }
        if (count > c->size / size || !take(c, count * size, &p, what)) return false;
    }
    *bytes = c->at - start;
    return true;
}

static bool parse_kv(cursor *c, gguf_parsed_kv *kv) {
    uint64_t type;
    if (!take_string(c, &kv->key, &kv->key_len, "a key") || !take_le(c, 4, &type, "a value type")) return false;
    kv->type = (uint32_t)type;
    if (type != 9) {
        kv->value = c->bytes + c->at;
        return take_values(c, kv->type, 1, &kv->value_bytes, "a value");
    }
    uint64_t element_type;
    if (!take_le(c, 4, &element_type, "an array's type") || !take_le(c, 8, &kv->array_count, "an array's count"))
        return false;
    kv->array_type = (uint32_t)element_type;
    kv->value = c->bytes + c->at;
    return take_values(c, kv->array_type, kv->array_count, &kv->value_bytes, "an array");
}

static bool parse_tensor(cursor *c, gguf_parsed_tensor *t) {
    uint64_t n_dims, type;
    if (!take_string(c, &t->name, &t->name_len, "a tensor name") || !take_le(c, 4, &n_dims, "a tensor's n_dims"))
        return false;
    if (n_dims < 1 || n_dims > 4) {
        snprintf(c->why, c->why_size, "a tensor with %llu dims", (unsigned long long)n_dims);
        return false;
    }
    t->n_dims = (uint32_t)n_dims;
    for (uint32_t d = 0; d < t->n_dims; d++)
        if (!take_le(c, 8, &t->dims[d], "a tensor's dims")) return false;
    if (!take_le(c, 4, &type, "a tensor's type") || !take_le(c, 8, &t->offset, "a tensor's offset")) return false;
    t->type = (uint32_t)type;
    return true;
}

static bool parse(cursor *c, gguf_parsed *g) {
    const unsigned char *magic;
    uint64_t version;
    if (!take(c, 4, &magic, "the magic") || memcmp(magic, "GGUF", 4) != 0) {
        snprintf(c->why, c->why_size, "no GGUF magic");
        return false;
    }
    if (!take_le(c, 4, &version, "the version") || !take_le(c, 8, &g->tensor_count, "the tensor count") ||
        !take_le(c, 8, &g->kv_count, "the metadata count"))
        return false;
    g->version = (uint32_t)version;
    if (g->kv_count > GGUF_PARSE_MAX_KV || g->tensor_count > GGUF_PARSE_MAX_TENSORS) {
        snprintf(c->why, c->why_size, "more pairs or tensors than the parser holds");
        return false;
    }
    g->alignment = 32;
    for (uint64_t i = 0; i < g->kv_count; i++) {
        if (!parse_kv(c, &g->kv[i])) return false;
        const gguf_parsed_kv *kv = &g->kv[i];
        if (kv->key_len == 17 && memcmp(kv->key, "general.alignment", 17) == 0 && kv->type == 4)
            g->alignment = (uint32_t)gguf_parse_le(kv->value, 4);
    }
    for (uint64_t i = 0; i < g->tensor_count; i++)
        if (!parse_tensor(c, &g->tensors[i])) return false;
    g->header_end = c->at;
    g->data_start = (c->at + g->alignment - 1) / g->alignment * g->alignment;
    return true;
}

bool gguf_parse_file(const char *path, gguf_parsed *out, char *why, size_t why_size) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, why_size, "cannot open %s", path);
        return false;
    }
    bool ok = fseek(f, 0, SEEK_END) == 0;
    long size = ok ? ftell(f) : -1;
    ok = size >= 0 && fseek(f, 0, SEEK_SET) == 0 && (out->bytes = malloc((size_t)size + 1)) != NULL &&
         fread(out->bytes, 1, (size_t)size, f) == (size_t)size;
    fclose(f);
    if (!ok) {
        snprintf(why, why_size, "cannot read %s", path);
        gguf_parse_free(out);
        return false;
    }
    out->size = (uint64_t)size;
    cursor c = {.bytes = out->bytes, .size = out->size, .why = why, .why_size = why_size};
    if (!parse(&c, out)) {
        gguf_parse_free(out);
        return false;
    }
    return true;
}

void gguf_parse_free(gguf_parsed *parsed) {
    free(parsed->bytes);
    parsed->bytes = NULL;
}

const gguf_parsed_kv *gguf_parse_find(const gguf_parsed *parsed, const char *key) {
    size_t len = strlen(key);
    for (uint64_t i = 0; i < parsed->kv_count; i++)
        if (parsed->kv[i].key_len == len && memcmp(parsed->kv[i].key, key, len) == 0) return &parsed->kv[i];
    return NULL;
}
