/* GGUF files holding a tokenizer, made from a tokenizer.json: see gguf_tokenizer_files.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "check/gguf_tokenizer_files.h"
#include "core/read_file.h"
#include "t2g/gguf_write.h"

static const cJSON *item(const cJSON *node, const char *key) { return cJSON_GetObjectItemCaseSensitive(node, key); }

static char *host_copy(check_ctx *ctx, const char *s) {
    char *copy = check_host(ctx, strlen(s) + 1);
    memcpy(copy, s, strlen(s) + 1);
    return copy;
}

/* Every id of vocab and added_tokens gets its string; added tokens their type. */
static bool read_tokens(check_ctx *ctx, const cJSON *root, uint32_t extra, gguf_tok *tok) {
    const cJSON *vocab = item(item(root, "model"), "vocab"), *added = item(root, "added_tokens");
    uint32_t count = 0;
    for (const cJSON *v = vocab ? vocab->child : NULL; v; v = v->next)
        if ((uint32_t)v->valuedouble + 1 > count) count = (uint32_t)v->valuedouble + 1;
    for (const cJSON *a = added ? added->child : NULL; a; a = a->next)
        if ((uint32_t)item(a, "id")->valuedouble + 1 > count) count = (uint32_t)item(a, "id")->valuedouble + 1;
    tok->count = count;
    tok->token = check_host(ctx, (count + extra) * sizeof *tok->token);
    tok->type = check_host(ctx, (count + extra) * sizeof *tok->type);
    memset(tok->token, 0, (count + extra) * sizeof *tok->token);
    for (const cJSON *v = vocab ? vocab->child : NULL; v; v = v->next) {
        tok->token[(uint32_t)v->valuedouble] = host_copy(ctx, v->string);
        tok->type[(uint32_t)v->valuedouble] = 1;
    }
    for (const cJSON *a = added ? added->child : NULL; a; a = a->next) {
        uint32_t id = (uint32_t)item(a, "id")->valuedouble;
        tok->token[id] = host_copy(ctx, item(a, "content")->valuestring);
        tok->type[id] = cJSON_IsTrue(item(a, "special")) ? 3 : 4;
    }
    for (uint32_t id = 0; id < count; id++)
        if (!check_expect(ctx, tok->token[id] != NULL, "the golden tokenizer has a token for id %u", id)) return false;
    return true;
}

/* Merges as "a b", whether given so or as ["a", "b"]. */
static void read_merges(check_ctx *ctx, const cJSON *root, gguf_tok *tok) {
    const cJSON *merges = item(item(root, "model"), "merges");
    tok->merge_count = (uint32_t)cJSON_GetArraySize(merges);
    tok->merge = check_host(ctx, (tok->merge_count + 1) * sizeof *tok->merge);
    uint32_t i = 0;
    for (const cJSON *m = merges ? merges->child : NULL; m; m = m->next, i++) {
        if (cJSON_IsString(m)) {
            tok->merge[i] = host_copy(ctx, m->valuestring);
            continue;
        }
        const char *a = m->child->valuestring, *b = m->child->next->valuestring;
        char *joined = check_host(ctx, strlen(a) + strlen(b) + 2);
        sprintf(joined, "%s %s", a, b);
        tok->merge[i] = joined;
    }
}

bool gguf_tok_golden(check_ctx *ctx, const char *style, uint32_t extra, gguf_tok *tok) {
    char path[4300], *json = NULL;
    size_t len;
    snprintf(path, sizeof path, "%s/tests/golden/tokenizers/%s/tokenizer.json", check_source_dir(), style);
    if (!check_status(ctx, t2g_file_read(path, "a golden tokenizer", (t2g_read_cap){64u << 20, NULL}, &json, &len, &ctx->err),
                      path))
        return false;
    cJSON *root = cJSON_ParseWithLength(json, len);
    free(json);
    bool ok = check_true(ctx, root != NULL, "%s is JSON", path) && read_tokens(ctx, root, extra, tok);
    if (ok) read_merges(ctx, root, tok);
    cJSON_Delete(root);
    return ok;
}

static t2g_status add_id(t2g_gguf_writer *w, const char *key, int64_t id, t2g_error *err) {
    return id < 0 ? T2G_OK : t2g_gguf_add_u32(w, key, (uint32_t)id, err);
}

static t2g_status add_keys(t2g_gguf_writer *w, const gguf_tok *tok, const gguf_tok_file *how, t2g_error *err) {
    t2g_status status = t2g_gguf_add_string(w, "general.architecture", "llama", err);
    if (!status) status = t2g_gguf_add_string(w, "tokenizer.ggml.model", how->model, err);
    if (!status && how->pre) status = t2g_gguf_add_string(w, "tokenizer.ggml.pre", how->pre, err);
    if (!status && how->tokens_as_ints) status = t2g_gguf_add_i32_array(w, "tokenizer.ggml.tokens", tok->type, tok->count, err);
    if (!status && !how->tokens_as_ints)
        status = t2g_gguf_add_string_array(w, "tokenizer.ggml.tokens", tok->token, NULL, tok->count, err);
    if (!status)
        status = t2g_gguf_add_i32_array(w, "tokenizer.ggml.token_type", tok->type, tok->count - how->types_short, err);
    if (!status && !how->no_merges)
        status = t2g_gguf_add_string_array(w, "tokenizer.ggml.merges", tok->merge, NULL, tok->merge_count, err);
    if (!status) status = add_id(w, "tokenizer.ggml.bos_token_id", how->bos, err);
    if (!status) status = add_id(w, "tokenizer.ggml.eos_token_id", how->eos, err);
    if (!status) status = add_id(w, "tokenizer.ggml.padding_token_id", how->pad, err);
    if (!status && how->chat_template) status = t2g_gguf_add_string(w, "tokenizer.chat_template", how->chat_template, err);
    return status;
}

bool gguf_tok_write(check_ctx *ctx, const char *path, const gguf_tok *tok, const gguf_tok_file *how) {
    t2g_gguf_writer *w = NULL;
    t2g_status status = t2g_gguf_writer_new(path, &w, &ctx->err);
    if (!status) status = add_keys(w, tok, how, &ctx->err);
    if (!status) status = t2g_gguf_writer_finish(w, &ctx->err);
    t2g_gguf_writer_free(w);
    return check_status(ctx, status, path);
}
