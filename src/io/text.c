/* A model's text (include/t2g/text.h): which tokenizer, its special tokens from
 * tokenizer_config.json, and the chat template chosen for it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/read_file.h"
#include "io/hf_internal.h"
#include "io/text_internal.h"

/* A tokenizer.json of a real model is a few megabytes; Qwen2's, the largest we know, about 7. */
#define TOKENIZER_MAX_BYTES (64u << 20)
#define TOKENIZER_CONFIG_MAX_BYTES (16u << 20)

static t2g_text *new_text(const char *where) {
    t2g_text *text = calloc(1, sizeof *text);
    if (!text) return NULL;
    snprintf(text->where, sizeof text->where, "%s", where);
    text->bos = text->eos = text->pad = -1;
    text->chat = T2G_CHAT_NONE;
    return text;
}

t2g_status t2g_text_bytes(t2g_text **out, t2g_error *err) {
    *out = new_text("t2g's byte tokenizer");
    if (!*out) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory for a tokenizer");
    (*out)->bos = T2G_TOKEN_BOS;
    (*out)->eos = T2G_TOKEN_EOS;
    (*out)->pad = T2G_TOKEN_PAD;
    (*out)->add_bos = true;
    (*out)->end_of_turn = T2G_TOKEN_EOS;
    return T2G_OK;
}

void t2g_text_free(t2g_text *text) {
    if (!text) return;
    t2g_bpe_free(text->bpe);
    free(text->tokenizer_json);
    free(text->config_json);
    free(text->template_jinja);
    free(text->system);
    free(text);
}

static char *copy_text(const char *s, size_t len) {
    char *copy = malloc(len + 1);
    if (!copy) return NULL;
    memcpy(copy, s, len);
    copy[len] = 0;
    return copy;
}

/* A special token named by tokenizer_config.json's `key`: a string, {"content": string}, null or
 * absent (*id -1). A token the tokenizer does not have is an error naming the key. */
static t2g_status special_id(const t2g_text *text, const cJSON *config, const char *key, int64_t *id, t2g_error *err) {
    *id = -1;
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(config, key);
    if (!item || cJSON_IsNull(item)) return T2G_OK;
    if (cJSON_IsObject(item)) item = cJSON_GetObjectItemCaseSensitive(item, "content");
    if (!cJSON_IsString(item) || !item->valuestring)
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: tokenizer_config.json: \"%s\" is not a string or {\"content\": string}",
                        text->where, key);
    *id = t2g_bpe_token_id(text->bpe, item->valuestring);
    if (*id < 0)
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: tokenizer_config.json: \"%s\" is \"%s\", which is not a token of "
                        "tokenizer.json", text->where, key, item->valuestring);
    return T2G_OK;
}

/* Whether tokenizer.json's post_processor puts a special token in front of a single text
 * (TemplateProcessing whose "single" starts with a SpecialToken, as Llama 3's does): that token
 * is the BOS added. */
static t2g_status post_processor_bos(t2g_text *text, const cJSON *tokenizer, t2g_error *err) {
    const cJSON *post = cJSON_GetObjectItemCaseSensitive(tokenizer, "post_processor");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(post, "type");
    if (!cJSON_IsString(type) || strcmp(type->valuestring, "TemplateProcessing") != 0) return T2G_OK;
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(post, "single"), 0);
    const cJSON *special = cJSON_GetObjectItemCaseSensitive(first, "SpecialToken");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(special, "id");
    if (!special) return T2G_OK;
    int64_t token = cJSON_IsString(id) ? t2g_bpe_token_id(text->bpe, id->valuestring) : -1;
    if (token < 0)
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: tokenizer.json: post_processor.single begins with a SpecialToken "
                        "that is not a token", text->where);
    text->add_bos = true;
    text->bos = token;
    return T2G_OK;
}

/* tokenizer_config.json: the special tokens, add_bos_token and chat_template. */
static t2g_status read_config(t2g_text *text, const cJSON *config, t2g_error *err) {
    if (!cJSON_IsObject(config))
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: tokenizer_config.json is not a JSON object", text->where);
    int64_t bos;
    t2g_status status = special_id(text, config, "bos_token", &bos, err);
    if (!status) status = special_id(text, config, "eos_token", &text->eos, err);
    if (!status) status = special_id(text, config, "pad_token", &text->pad, err);
    if (status) return status;
    if (bos >= 0) text->bos = bos;
    const cJSON *add_bos = cJSON_GetObjectItemCaseSensitive(config, "add_bos_token");
    if (add_bos && !cJSON_IsBool(add_bos))
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: tokenizer_config.json: \"add_bos_token\" is not true or false",
                        text->where);
    if (cJSON_IsTrue(add_bos)) {
        if (text->bos < 0)
            return t2g_fail(err, T2G_ERR_FORMAT, "%s: tokenizer_config.json: \"add_bos_token\" is true but there is "
                            "no \"bos_token\"", text->where);
        text->add_bos = true;
    }
    const cJSON *jinja = cJSON_GetObjectItemCaseSensitive(config, "chat_template");
    if (!jinja || cJSON_IsNull(jinja)) return T2G_OK;
    if (!cJSON_IsString(jinja))
        return t2g_fail(err, T2G_ERR_UNSUPPORTED, "%s: tokenizer_config.json: \"chat_template\" is not one template "
                        "(a string); named lists of templates are not read: set model.chat_template", text->where);
    text->template_jinja = copy_text(jinja->valuestring, strlen(jinja->valuestring));
    return text->template_jinja ? T2G_OK : t2g_fail(err, T2G_ERR_MEMORY, "%s: out of host memory", text->where);
}

t2g_status t2g_text_parse(const char *tokenizer_json, size_t tokenizer_len, const char *config_json, size_t config_len,
                          const char *where, t2g_text **out, t2g_error *err) {
    t2g_text *text = *out = new_text(where);
    if (!text) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory for a tokenizer");
    char name[600];
    snprintf(name, sizeof name, "%s: tokenizer.json", where);
    t2g_status status = t2g_bpe_parse(tokenizer_json, tokenizer_len, name, &text->bpe, err);
    text->tokenizer_json = status ? NULL : copy_text(tokenizer_json, tokenizer_len);
    text->tokenizer_len = tokenizer_len;
    if (!status && !text->tokenizer_json) status = t2g_fail(err, T2G_ERR_MEMORY, "%s: out of host memory", where);
    cJSON *tokenizer = status ? NULL : cJSON_ParseWithLength(tokenizer_json, tokenizer_len);
    if (!status && !tokenizer) status = t2g_fail(err, T2G_ERR_MEMORY, "%s: out of host memory", where);
    if (!status) status = post_processor_bos(text, tokenizer, err);
    cJSON_Delete(tokenizer);
    if (!status && config_json) {
        text->config_json = copy_text(config_json, config_len);
        text->config_len = config_len;
        cJSON *config = cJSON_ParseWithLength(config_json, config_len);
        status = !text->config_json ? t2g_fail(err, T2G_ERR_MEMORY, "%s: out of host memory", where)
                 : !config          ? t2g_fail(err, T2G_ERR_FORMAT, "%s: tokenizer_config.json is not JSON", where)
                                    : read_config(text, config, err);
        cJSON_Delete(config);
    }
    if (!status) text->end_of_turn = text->eos;
    if (status) {
        t2g_text_free(text);
        *out = NULL;
    }
    return status;
}

/* Whether `json` is the byte tokenizer's own tokenizer.json (t2g export writes it: a few KiB;
 * a real model's, megabytes, is not parsed here at all). */
static t2g_status is_own_tokenizer(const char *json, size_t len, bool *own, t2g_error *err) {
    *own = false;
    if (len > (64u << 10)) return T2G_OK;
    char *mine = t2g_hf_tokenizer_json();
    cJSON *theirs = cJSON_ParseWithLength(json, len), *ours = mine ? cJSON_Parse(mine) : NULL;
    free(mine);
    t2g_status status = ours ? T2G_OK : t2g_fail(err, T2G_ERR_MEMORY, "out of host memory");
    *own = theirs && ours && cJSON_Compare(theirs, ours, true);
    cJSON_Delete(theirs);
    cJSON_Delete(ours);
    return status;
}

/* dir/name read whole, or *data NULL when there is no such file. */
static t2g_status read_optional(const char *dir, const char *name, uint64_t cap, char **data, size_t *len,
                                t2g_error *err) {
    *data = NULL;
    *len = 0;
    char path[4400];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof path) return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: the path is too long", dir);
    t2g_status status = t2g_file_read(path, name, (t2g_read_cap){cap, NULL}, data, len, err);
    if (status && errno == ENOENT) return T2G_OK;
    return status;
}

t2g_status t2g_text_load_dir(const char *dir, t2g_text **out, t2g_error *err) {
    *out = NULL;
    char *tokenizer, *config = NULL;
    size_t tokenizer_len, config_len = 0;
    bool own = false;
    t2g_status status = read_optional(dir, "tokenizer.json", TOKENIZER_MAX_BYTES, &tokenizer, &tokenizer_len, err);
    if (!status && tokenizer) status = is_own_tokenizer(tokenizer, tokenizer_len, &own, err);
    if (!status && tokenizer && !own)
        status = read_optional(dir, "tokenizer_config.json", TOKENIZER_CONFIG_MAX_BYTES, &config, &config_len, err);
    if (!status)
        status = tokenizer && !own ? t2g_text_parse(tokenizer, tokenizer_len, config, config_len, dir, out, err)
                                   : t2g_text_bytes(out, err);
    free(tokenizer);
    free(config);
    return status;
}

bool t2g_text_is_bytes(const t2g_text *text) { return text->bpe == NULL; }

uint32_t t2g_text_vocab(const t2g_text *text) { return text->bpe ? t2g_bpe_vocab_size(text->bpe) : T2G_BYTE_VOCAB; }

void t2g_text_files(const t2g_text *text, const char **tokenizer_json, size_t *tokenizer_len, const char **config_json,
                    size_t *config_len) {
    *tokenizer_json = text->tokenizer_json;
    *tokenizer_len = text->tokenizer_len;
    *config_json = text->config_json;
    *config_len = text->config_len;
}

t2g_chat_format t2g_text_chat(const t2g_text *text) { return text->chat; }

void t2g_text_special_ids(const t2g_text *text, int64_t *bos, int64_t *eos, int64_t *pad) {
    *bos = text->bos;
    *eos = text->eos;
    *pad = text->pad;
}

int64_t t2g_text_bos(const t2g_text *text) { return text->add_bos ? text->bos : -1; }

int64_t t2g_text_end_of_turn(const t2g_text *text) { return text->end_of_turn; }
