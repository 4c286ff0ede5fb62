/* A model's tokenizer as GGUF metadata (t2g/gguf_export.h), from its tokenizer.json and
 * tokenizer_config.json texts: the reverse of gguf_tokenizer.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "io/gguf_export_internal.h"
#include "io/gguf_tokenizer_internal.h"
#include "io/hf_internal.h"

enum { TYPE_NORMAL = 1, TYPE_CONTROL = 3, TYPE_USER_DEFINED = 4, TYPE_UNUSED = 5 };

/* The tokens of ids 0..vocab-1 with their types; pads: the "[PAD<id>]" strings made. */
typedef struct token_list {
    const char **tokens;       /* [vocab] */
    int32_t *types;            /* [vocab] */
    char **pads;               /* [vocab], NULL where the token is the tokenizer's */
    uint32_t vocab;
} token_list;

static void token_list_free(token_list *t) {
    for (uint32_t i = 0; t->pads && i < t->vocab; i++) free(t->pads[i]);
    free(t->tokens), free(t->types), free(t->pads);
}

/* An id of the tokenizer.json: an integer below the model's vocabulary. */
static t2g_status token_id(const cJSON *value, const char *what, const char *token, const char *path, uint32_t vocab,
                           uint32_t *id, t2g_error *err) {
    double v = cJSON_IsNumber(value) ? value->valuedouble : -1;
    if (v < 0 || v >= vocab || v != (double)(uint32_t)v)
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: the tokenizer's %s \"%.64s\" has id %.17g; expected an integer below "
                        "the model's vocabulary (%u)", path, what, token, cJSON_IsNumber(value) ? v : -1.0, vocab);
    *id = (uint32_t)v;
    return T2G_OK;
}

static t2g_status collect_tokens(const cJSON *root, const char *path, token_list *t, t2g_error *err) {
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "model"), "vocab");
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    if (!cJSON_IsObject(vocab))
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: the tokenizer.json has no model.vocab object", path);
    t2g_status s = T2G_OK;
    uint32_t id = 0;
    for (const cJSON *v = vocab->child; v && !s; v = v->next) {
        s = token_id(v, "vocab token", v->string, path, t->vocab, &id, err);
        if (!s) t->tokens[id] = v->string, t->types[id] = TYPE_NORMAL;
    }
    for (const cJSON *a = cJSON_IsArray(added) ? added->child : NULL; a && !s; a = a->next) {
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(a, "content");
        if (!cJSON_IsString(content))
            return t2g_fail(err, T2G_ERR_FORMAT, "%s: an added token of the tokenizer.json has no content string", path);
        s = token_id(cJSON_GetObjectItemCaseSensitive(a, "id"), "added token", content->valuestring, path, t->vocab, &id,
                     err);
        if (!s) t->tokens[id] = content->valuestring;
        if (!s) t->types[id] = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "special")) ? TYPE_CONTROL : TYPE_USER_DEFINED;
    }
    for (uint32_t i = 0; i < t->vocab && !s; i++) {
        if (t->tokens[i]) continue;
        t->pads[i] = malloc(32);
        if (!t->pads[i]) return t2g_fail(err, T2G_ERR_MEMORY, "%s: out of host memory", path);
        snprintf(t->pads[i], 32, "[PAD%u]", i);
        t->tokens[i] = t->pads[i], t->types[i] = TYPE_UNUSED;
    }
    return s;
}

static t2g_status add_tokens(t2g_gguf_writer *w, const cJSON *root, const char *path, uint32_t vocab, t2g_error *err) {
    token_list t = {.tokens = calloc(vocab, sizeof *t.tokens), .types = calloc(vocab, sizeof *t.types),
                    .pads = calloc(vocab, sizeof *t.pads), .vocab = vocab};
    t2g_status s = t.tokens && t.types && t.pads ? T2G_OK : t2g_fail(err, T2G_ERR_MEMORY, "%s: out of host memory", path);
    if (!s) s = collect_tokens(root, path, &t, err);
    if (!s) s = t2g_gguf_add_string_array(w, "tokenizer.ggml.tokens", t.tokens, NULL, vocab, err);
    if (!s) s = t2g_gguf_add_i32_array(w, "tokenizer.ggml.token_type", t.types, vocab, err);
    token_list_free(&t);
    return s;
}

/* model.merges, each "a b" or ["a", "b"], as "a b" strings. */
static t2g_status add_merges(t2g_gguf_writer *w, const cJSON *root, const char *path, uint64_t *count, t2g_error *err) {
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "model"), "merges");
    uint64_t n = cJSON_IsArray(merges) ? (uint64_t)cJSON_GetArraySize(merges) : 0;
    char **pairs = calloc(n ? n : 1, sizeof *pairs);
    t2g_status s = pairs ? T2G_OK : t2g_fail(err, T2G_ERR_MEMORY, "%s: out of host memory", path);
    uint64_t i = 0;
    for (const cJSON *m = n ? merges->child : NULL; m && !s; m = m->next, i++) {
        const cJSON *a = cJSON_GetArrayItem(m, 0), *b = cJSON_GetArrayItem(m, 1);
        if (cJSON_IsString(m)) {
            size_t len = strlen(m->valuestring) + 1;
            pairs[i] = malloc(len);
            if (pairs[i]) memcpy(pairs[i], m->valuestring, len);
        } else if (cJSON_GetArraySize(m) == 2 && cJSON_IsString(a) && cJSON_IsString(b) && !strchr(a->valuestring, ' ') &&
                   !strchr(b->valuestring, ' ')) {
            size_t len = strlen(a->valuestring) + strlen(b->valuestring) + 2;
            pairs[i] = malloc(len);
            if (pairs[i]) snprintf(pairs[i], len, "%s %s", a->valuestring, b->valuestring);
        } else {
            s = t2g_fail(err, T2G_ERR_FORMAT, "%s: merge %llu of the tokenizer.json is not \"a b\" or two strings without "
                         "spaces", path, (unsigned long long)i);
            break;
        }
        if (!pairs[i]) s = t2g_fail(err, T2G_ERR_MEMORY, "%s: out of host memory", path);
    }
    if (!s) s = t2g_gguf_add_string_array(w, "tokenizer.ggml.merges", (const char *const *)pairs, NULL, n, err);
    for (uint64_t k = 0; pairs && k < n; k++) free(pairs[k]);
    free(pairs);
    *count = n;
    return s;
}

/* tokenizer.ggml.pre: the pre-tokenizer's name; without merges the pieces do not change the ids. */
static t2g_status add_pre(t2g_gguf_writer *w, const cJSON *root, uint64_t merges, const char *path, t2g_error *err) {
    const cJSON *normalizer = cJSON_GetObjectItemCaseSensitive(root, "normalizer");
    bool plain = merges == 0 && (!normalizer || cJSON_IsNull(normalizer));
    const char *name = plain ? "gpt-2" : gguf_pre_name_of_json(root);
    if (name) return t2g_gguf_add_string(w, "tokenizer.ggml.pre", name, err);
    char *pre = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer"));
    char *norm = cJSON_PrintUnformatted(normalizer);
    t2g_fail(err, T2G_ERR_UNSUPPORTED, "%s: the tokenizer's pre_tokenizer %.160s (normalizer %.40s) has no GGUF name "
             "(tokenizer.ggml.pre); t2g writes %s", path, pre ? pre : "(none)", norm ? norm : "null",
             gguf_pre_names_written());
    free(pre), free(norm);
    return T2G_ERR_UNSUPPORTED;
}

/* The special ids, add_bos_token and the chat template of tokenizer_config.json. */
static t2g_status add_config(t2g_gguf_writer *w, const t2g_text *text, const cJSON *config, const char *path,
                             t2g_error *err) {
    int64_t ids[3];
    t2g_text_special_ids(text, &ids[0], &ids[1], &ids[2]);
    static const char *const KEYS[3] = {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                                        "tokenizer.ggml.padding_token_id"};
    t2g_status s = T2G_OK;
    for (int i = 0; i < 3 && !s; i++)
        if (ids[i] >= 0) s = t2g_gguf_add_u32(w, KEYS[i], (uint32_t)ids[i], err);
    if (!s) s = t2g_gguf_add_bool(w, "tokenizer.ggml.add_bos_token", t2g_text_bos(text) >= 0, err);
    const cJSON *chat = cJSON_GetObjectItemCaseSensitive(config, "chat_template");
    if (!s && chat && !cJSON_IsNull(chat) && !cJSON_IsString(chat))
        return t2g_fail(err, T2G_ERR_UNSUPPORTED, "%s: the tokenizer_config.json's chat_template is not one string "
                        "(GGUF's tokenizer.chat_template holds one)", path);
    if (!s && cJSON_IsString(chat)) s = t2g_gguf_add_string(w, "tokenizer.chat_template", chat->valuestring, err);
    return s;
}

t2g_status gguf_export_tokenizer(t2g_gguf_writer *w, const char *path, const t2g_text *text, uint32_t vocab,
                                 t2g_error *err) {
    const char *json, *config_json;
    size_t json_len, config_len;
    t2g_text_files(text, &json, &json_len, &config_json, &config_len);
    char *bytes_json = t2g_text_is_bytes(text) ? t2g_hf_tokenizer_json() : NULL;
    if (bytes_json) json = bytes_json, json_len = strlen(bytes_json);
    cJSON *root = json ? cJSON_ParseWithLength(json, json_len) : NULL;
    cJSON *config = config_json ? cJSON_ParseWithLength(config_json, config_len) : NULL;
    t2g_status s = T2G_OK;
    if (!root || (config_json && !config))
        s = t2g_fail(err, T2G_ERR_FORMAT, "%s: the model's %s is not JSON (or out of host memory)", path,
                     root ? "tokenizer_config.json" : "tokenizer.json");
    uint64_t merges = 0;
    if (!s) s = t2g_gguf_add_string(w, "tokenizer.ggml.model", "gpt2", err);
    if (!s) s = add_tokens(w, root, path, vocab, err);
    if (!s) s = add_merges(w, root, path, &merges, err);
    if (!s) s = add_pre(w, root, merges, path, err);
    if (!s) s = add_config(w, text, config, path, err);
    cJSON_Delete(root);
    cJSON_Delete(config);
    free(bytes_json);
    return s;
}
