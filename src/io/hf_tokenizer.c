/* Which tokenizer a Hugging Face folder has, and whether t2g can read its text (t2g/hf.h):
 * none (the byte tokenizer is assumed) or the byte tokenizer t2g_hf_write writes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/read_file.h"
#include "io/hf_internal.h"
#include "t2g/hf.h"
#include "t2g/tokenizer.h"

/* t2g's tokenizer.json is a few kilobytes; a larger file is someone else's and is not parsed. */
#define OWN_TOKENIZER_MAX_BYTES (1u << 20)

/* What a foreign tokenizer.json is, for the refusal: its model's type and vocabulary size. */
static void describe(const cJSON *root, uint64_t bytes, char *out, size_t size) {
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(model, "type");
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    if (cJSON_IsString(type))
        snprintf(out, size, "a %s tokenizer with %d vocabulary entries, not t2g's byte tokenizer", type->valuestring,
                 cJSON_GetArraySize(vocab));
    else
        snprintf(out, size, "%llu bytes that are not t2g's byte tokenizer", (unsigned long long)bytes);
}

static t2g_status refuse(const char *path, const char *what, t2g_error *err) {
    return t2g_fail(err, T2G_ERR_UNSUPPORTED,
                    "%s: a tokenizer t2g cannot read yet (issue 11): %s. t2g reads a Hugging Face folder with no "
                    "tokenizer.json (its byte tokenizer) or with the tokenizer.json `t2g export` writes",
                    path, what);
}

t2g_status t2g_hf_check_tokenizer(const char *dir, uint32_t vocab, bool *assumed, t2g_error *err) {
    *assumed = false;
    char path[4200];
    int n = snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    if (n < 0 || (size_t)n >= sizeof path) return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: the path is too long", dir);
    if (vocab < T2G_BYTE_VOCAB)
        return t2g_fail(err, T2G_ERR_UNSUPPORTED,
                        "%s: vocab_size %u is below 259: t2g reads text with its byte tokenizer (ids 0-258) until "
                        "Hugging Face tokenizers are read (issue 11)",
                        dir, vocab);
    FILE *file;
    uint64_t bytes;
    t2g_status status = t2g_file_open(path, "the tokenizer", &file, &bytes, err);
    if (status && errno == ENOENT) {
        *assumed = true;
        return T2G_OK;
    }
    if (status) return status;
    fclose(file);
    if (bytes > OWN_TOKENIZER_MAX_BYTES) return refuse(path, "a file of more than 1 MiB, not t2g's byte tokenizer", err);
    char *text, *own = t2g_hf_tokenizer_json();
    size_t len;
    status = own ? t2g_file_read(path, "the tokenizer", (t2g_read_cap){OWN_TOKENIZER_MAX_BYTES, NULL}, &text, &len, err)
                 : t2g_fail(err, T2G_ERR_MEMORY, "%s: out of host memory", path);
    if (status) {
        free(own);
        return status;
    }
    cJSON *theirs = cJSON_ParseWithLength(text, len), *ours = cJSON_Parse(own);
    free(text);
    free(own);
    char what[256];
    if (!ours) status = t2g_fail(err, T2G_ERR_MEMORY, "%s: out of host memory", path);
    else if (!theirs) status = refuse(path, "not JSON", err);
    else if (!cJSON_Compare(theirs, ours, true)) {
        describe(theirs, bytes, what, sizeof what);
        status = refuse(path, what, err);
    }
    cJSON_Delete(theirs);
    cJSON_Delete(ours);
    return status;
}
