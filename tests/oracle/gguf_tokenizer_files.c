/* gguf_tokenizer_files GGUF OUT [STRINGS]: the oracle's view of t2g_gguf_tokenizer_files (used by
 * tests/oracle/check_gguf_tokenizer.py). Writes OUT/tokenizer.json and OUT/tokenizer_config.json
 * made from the GGUF file's metadata and, given STRINGS (the "t2gtext1" format of
 * tests/golden/tokenizers/corpus.bin), OUT/ids.bin: for each string, what t2g_text_encode makes
 * of it through those two texts, first with special-token texts as plain text, then matched:
 * each a u32 count and that many u32 ids (little-endian). Exit 0, or 1 with the error. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/read_file.h"
#include "t2g/gguf.h"
#include "t2g/gguf_tokenizer.h"
#include "t2g/text.h"

static t2g_status write_text(const char *dir, const char *name, const char *text, size_t len, t2g_error *err) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(text, 1, len, f) == len;
    if (f && fclose(f) != 0) ok = false;
    return ok ? T2G_OK : t2g_fail(err, T2G_ERR_IO, "cannot write %s", path);
}

static void put_u32(FILE *f, uint32_t v) {
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
    fwrite(b, 1, 4, f);
}

/* Every string of the file through text, both ways, into out. */
static t2g_status encode_strings(const t2g_text *text, const char *strings, FILE *out, t2g_error *err) {
    char *data;
    size_t len;
    t2g_status status = t2g_file_read(strings, "the strings", (t2g_read_cap){256u << 20, NULL}, &data, &len, err);
    if (status != T2G_OK) return status;
    const unsigned char *p = (const unsigned char *)data, *end = p + len;
    uint32_t count = len >= 12 && memcmp(p, "t2gtext1", 8) == 0 ? p[8] | p[9] << 8 | p[10] << 16 | (uint32_t)p[11] << 24 : 0;
    p += 12;
    for (uint32_t i = 0; i < count && status == T2G_OK; i++) {
        uint32_t n = end - p >= 2 ? (uint32_t)(p[0] | p[1] << 8) : UINT32_MAX;
        if (n == UINT32_MAX || (size_t)(end - p - 2) < n) {
            status = t2g_fail(err, T2G_ERR_FORMAT, "%s: string %u runs past the end", strings, i);
            break;
        }
        for (int special = 0; special < 2 && status == T2G_OK; special++) {
            uint32_t *ids = NULL;
            size_t k = 0;
            status = t2g_text_encode(text, (const char *)p + 2, n, special, &ids, NULL, &k, err);
            if (status == T2G_OK) put_u32(out, (uint32_t)k);
            for (size_t j = 0; j < k && status == T2G_OK; j++) put_u32(out, ids[j]);
            free(ids);
        }
        p += 2 + n;
    }
    free(data);
    return status;
}

int main(int argc, char **argv) {
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: gguf_tokenizer_files GGUF OUT [STRINGS]\n");
        return 2;
    }
    t2g_error err = {0};
    t2g_gguf *file = NULL;
    t2g_text *text = NULL;
    char *tokenizer = NULL, *config = NULL, ids_path[4200];
    t2g_status status = t2g_gguf_open(argv[1], &file, &err);
    if (!status) status = t2g_gguf_tokenizer_files(file, &tokenizer, &config, &err);
    if (!status) status = write_text(argv[2], "tokenizer.json", tokenizer, strlen(tokenizer), &err);
    if (!status) status = write_text(argv[2], "tokenizer_config.json", config, strlen(config), &err);
    if (!status && argc == 4) {
        status = t2g_text_parse(tokenizer, strlen(tokenizer), config, strlen(config), argv[1], &text, &err);
        snprintf(ids_path, sizeof ids_path, "%s/ids.bin", argv[2]);
        FILE *out = status ? NULL : fopen(ids_path, "wb");
        if (!status && !out) status = t2g_fail(&err, T2G_ERR_IO, "cannot write %s", ids_path);
        if (!status) status = encode_strings(text, argv[3], out, &err);
        if (out && fclose(out) != 0 && !status) status = t2g_fail(&err, T2G_ERR_IO, "cannot write %s", ids_path);
    }
    t2g_text_free(text);
    free(tokenizer);
    free(config);
    t2g_gguf_close(file);
    if (status) fprintf(stderr, "gguf_tokenizer_files: %s\n", err.message);
    return status ? 1 : 0;
}
