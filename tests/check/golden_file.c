/* Reading golden files (golden_file.h). */
#include <stdio.h>
#include <string.h>

#include "core/read_file.h"
#include "golden_file.h"

#define GOLDEN_MAX_BYTES (4u << 20)

bool golden_load(check_ctx *ctx, const char *folder, const char *name, golden_file *f) {
    char path[4300];
    snprintf(path, sizeof path, "%s/tests/golden/%s/%s", check_source_dir(), folder, name);
    char *data = NULL;
    size_t len = 0;
    memset(f, 0, sizeof *f);
    if (!check_status(ctx, t2g_file_read(path, "a golden file", (t2g_read_cap){GOLDEN_MAX_BYTES, NULL}, &data, &len, &ctx->err), path))
        return false;
    f->data = (unsigned char *)data;
    f->len = len;
    return true;
}

const unsigned char *golden_take(golden_file *f, size_t n) {
    if (f->bad || n > f->len - f->at) {
        f->bad = true;
        return NULL;
    }
    const unsigned char *p = f->data + f->at;
    f->at += n;
    return p;
}

uint32_t golden_u8(golden_file *f) {
    const unsigned char *p = golden_take(f, 1);
    return p ? p[0] : 0;
}

uint32_t golden_u16(golden_file *f) {
    const unsigned char *p = golden_take(f, 2);
    return p ? (uint32_t)(p[0] | p[1] << 8) : 0;
}

uint32_t golden_u32(golden_file *f) {
    const unsigned char *p = golden_take(f, 4);
    return p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24 : 0;
}

bool golden_magic(golden_file *f, const char *expected) {
    const unsigned char *p = golden_take(f, 8);
    return p && memcmp(p, expected, 8) == 0;
}

bool golden_load_corpus(check_ctx *ctx, golden_file *f, golden_corpus *c) {
    if (!golden_load(ctx, "tokenizers", "corpus.bin", f) ||
        !check_true(ctx, golden_magic(f, "t2gtext1"), "corpus.bin begins with t2gtext1"))
        return false;
    c->count = golden_u32(f);
    c->text = check_host(ctx, (c->count + 1) * sizeof *c->text);
    c->len = check_host(ctx, (c->count + 1) * sizeof *c->len);
    for (uint32_t i = 0; i < c->count && !f->bad; i++) {
        c->len[i] = golden_u16(f);
        c->text[i] = golden_take(f, c->len[i]);
    }
    return check_true(ctx, !f->bad, "corpus.bin holds its %u strings", c->count);
}
