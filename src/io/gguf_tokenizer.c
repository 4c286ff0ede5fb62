/* A GGUF file's tokenizer (llama.cpp's tokenizer.* keys) as the texts of a tokenizer.json and a
 * tokenizer_config.json: see t2g/gguf_tokenizer.h for what each key becomes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "io/bpe_internal.h"
#include "io/gguf_tokenizer_internal.h"
#include "t2g/gguf_tokenizer.h"

#define KEY_MODEL "tokenizer.ggml.model"
#define KEY_TOKENS "tokenizer.ggml.tokens"
#define KEY_TYPES "tokenizer.ggml.token_type"
#define KEY_MERGES "tokenizer.ggml.merges"

/* llama.cpp's token types (tokenizer.ggml.token_type). */
enum { TYPE_NORMAL = 1, TYPE_CONTROL = 3, TYPE_USER_DEFINED = 4, TYPE_LAST = 6 };

/* Tokenizer models that are not byte-level BPE, named in the refusal. */
static const struct {
    const char *model, *kind;
} OTHER_MODELS[] = {{"llama", "SentencePiece"}, {"t5", "Unigram"}, {"bert", "WordPiece"}, {"rwkv", "RWKV"}};

/* The file's tokens, by id. */
typedef struct vocab {
    uint64_t count;
    char **name;    /* [count] the model.vocab key (the string as stored, or its UTF-8 bytes in the byte
                       alphabet) or, for an added token outside that alphabet, its content */
    uint8_t *type;  /* [count] 1 to 6 */
    bool *in_vocab; /* [count] whether it is a model.vocab entry */
} vocab;

static void vocab_free(vocab *v) {
    for (uint64_t i = 0; v->name && i < v->count; i++) free(v->name[i]);
    free(v->name);
    free(v->type);
    free(v->in_vocab);
}

static t2g_status out_of_memory(const t2g_gguf *file, t2g_error *err) {
    return t2g_fail(err, T2G_ERR_MEMORY, "%s: out of host memory for its tokenizer", t2g_gguf_path(file));
}

static t2g_status check_model(const t2g_gguf *file, t2g_error *err) {
    const char *model;
    size_t len;
    t2g_status status = t2g_gguf_get_string(file, KEY_MODEL, NULL, &model, &len, err);
    if (status != T2G_OK || (len == 4 && memcmp(model, "gpt2", 4) == 0)) return status;
    const char *kind = NULL;
    for (size_t i = 0; i < sizeof OTHER_MODELS / sizeof OTHER_MODELS[0]; i++)
        if (strlen(OTHER_MODELS[i].model) == len && memcmp(OTHER_MODELS[i].model, model, len) == 0) kind = OTHER_MODELS[i].kind;
    return t2g_fail(err, T2G_ERR_UNSUPPORTED, "%s: key %s is \"%.*s\"%s%s%s: only byte-level BPE tokenizers (\"gpt2\") are read",
                    t2g_gguf_path(file), KEY_MODEL, (int)(len > 64 ? 64 : len), model, kind ? " (" : "", kind ? kind : "",
                    kind ? ")" : "");
}

/* Element i of a string array as a NUL-terminated copy, refused when it holds a NUL byte or is
 * not UTF-8. */
static t2g_status copy_element(const t2g_gguf *file, const t2g_gguf_array *array, const char *key, uint64_t i,
                               char **out, t2g_error *err) {
    const char *text;
    size_t len;
    t2g_status status = t2g_gguf_array_string(array, i, &text, &len, err);
    if (status != T2G_OK) return status;
    for (size_t at = 0, n; at < len; at += n) {
        n = t2g_utf8_sequence((const unsigned char *)text + at, len - at, NULL);
        if (n == 0 || text[at] == 0)
            return t2g_fail(err, T2G_ERR_FORMAT, "%s: key %s[%llu]: %s at byte %zu", t2g_gguf_path(file), key,
                            (unsigned long long)i, n ? "a NUL byte" : "not UTF-8", at);
    }
    *out = malloc(len + 1);
    if (!*out) return out_of_memory(file, err);
    memcpy(*out, text, len);
    (*out)[len] = 0;
    return T2G_OK;
}

static bool in_byte_alphabet(const char *s) {
    for (size_t at = 0, n, len = strlen(s); at < len; at += n) {
        uint32_t cp;
        n = t2g_utf8_sequence((const unsigned char *)s + at, len - at, &cp);
        if (bpe_char_byte(cp) < 0) return false;
    }
    return true;
}

/* s's UTF-8 bytes spelled in the byte alphabet, malloc'ed (each byte is one character of at most
 * 2 bytes). */
static char *byte_level_spelling(const char *s) {
    size_t len = strlen(s), at = 0;
    char *out = malloc(2 * len + 1);
    for (size_t i = 0; out && i < len; i++) at += t2g_utf8_encode(bpe_byte_char((uint8_t)s[i]), out + at);
    if (out) out[at] = 0;
    return out;
}

/* Token types: absent, every token normal (as llama.cpp reads such a file). */
static t2g_status read_types(const t2g_gguf *file, vocab *v, t2g_error *err) {
    t2g_gguf_array array;
    bool found;
    t2g_status status = t2g_gguf_get_array(file, KEY_TYPES, &found, &array, err);
    if (status != T2G_OK) return status;
    if (found && array.count != v->count)
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: key %s holds %llu types for the %llu tokens of %s", t2g_gguf_path(file),
                        KEY_TYPES, (unsigned long long)array.count, (unsigned long long)v->count, KEY_TOKENS);
    for (uint64_t i = 0; i < v->count; i++) {
        int64_t type = TYPE_NORMAL;
        if (found && (status = t2g_gguf_array_i64(&array, i, &type, err)) != T2G_OK) return status;
        if (type < TYPE_NORMAL || type > TYPE_LAST)
            return t2g_fail(err, T2G_ERR_FORMAT, "%s: key %s[%llu] is %lld: expected 1 (normal) to 6 (byte)",
                            t2g_gguf_path(file), KEY_TYPES, (unsigned long long)i, (long long)type);
        v->type[i] = (uint8_t)type;
    }
    return T2G_OK;
}

/* Two ids with one name are refused, naming both. */
static t2g_status check_unique(const t2g_gguf *file, const vocab *v, t2g_error *err) {
    uint64_t slots = 16;
    while (slots < 2 * v->count) slots *= 2;
    uint32_t *index = malloc(slots * sizeof *index);
    if (!index) return out_of_memory(file, err);
    memset(index, 0xff, slots * sizeof *index);
    t2g_status status = T2G_OK;
    for (uint32_t id = 0; id < v->count && status == T2G_OK; id++) {
        size_t len = strlen(v->name[id]);
        uint64_t i = bpe_hash(v->name[id], len) & (slots - 1);
        for (; index[i] != UINT32_MAX; i = (i + 1) & (slots - 1))
            if (strcmp(v->name[index[i]], v->name[id]) == 0) {
                status = t2g_fail(err, T2G_ERR_FORMAT, "%s: key %s: ids %u and %u are both \"%s\"", t2g_gguf_path(file),
                                  KEY_TOKENS, index[i], id, v->name[id]);
                break;
            }
        index[i] = id;
    }
    free(index);
    return status;
}

static t2g_status read_vocab(const t2g_gguf *file, vocab *v, t2g_error *err) {
    t2g_gguf_array array;
    t2g_status status = t2g_gguf_get_array(file, KEY_TOKENS, NULL, &array, err);
    if (status != T2G_OK) return status;
    if (array.count == 0 || array.count > BPE_MAX_TOKENS)
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: key %s holds %llu tokens: expected 1 to %u", t2g_gguf_path(file),
                        KEY_TOKENS, (unsigned long long)array.count, BPE_MAX_TOKENS);
    v->count = array.count;
    v->name = calloc(v->count, sizeof *v->name);
    v->type = calloc(v->count, sizeof *v->type);
    v->in_vocab = calloc(v->count, sizeof *v->in_vocab);
    if (!v->name || !v->type || !v->in_vocab) return out_of_memory(file, err);
    if ((status = read_types(file, v, err)) != T2G_OK) return status;
    for (uint64_t i = 0; i < v->count; i++) {
        if ((status = copy_element(file, &array, KEY_TOKENS, i, &v->name[i], err)) != T2G_OK) return status;
        bool added = v->type[i] == TYPE_CONTROL || v->type[i] == TYPE_USER_DEFINED;
        if (!v->name[i][0])
            return t2g_fail(err, T2G_ERR_FORMAT, "%s: key %s[%llu] is empty", t2g_gguf_path(file), KEY_TOKENS,
                            (unsigned long long)i);
        v->in_vocab[i] = !added || in_byte_alphabet(v->name[i]);
        if (v->in_vocab[i] && !in_byte_alphabet(v->name[i])) {
            char *spelled = byte_level_spelling(v->name[i]);
            if (!spelled) return out_of_memory(file, err);
            free(v->name[i]);
            v->name[i] = spelled;
        }
    }
    return check_unique(file, v, err);
}

/* One added token: content as stored, matched whole in the original text. */
static cJSON *added_token(const vocab *v, uint32_t id) {
    cJSON *a = cJSON_CreateObject();
    if (a && cJSON_AddNumberToObject(a, "id", id) && cJSON_AddStringToObject(a, "content", v->name[id]) &&
        cJSON_AddFalseToObject(a, "single_word") && cJSON_AddFalseToObject(a, "lstrip") &&
        cJSON_AddFalseToObject(a, "rstrip") && cJSON_AddFalseToObject(a, "normalized") &&
        cJSON_AddBoolToObject(a, "special", v->type[id] == TYPE_CONTROL))
        return a;
    cJSON_Delete(a);
    return NULL;
}

static bool add_item(cJSON *object, const char *key, cJSON *item) {
    if (item && cJSON_AddItemToObject(object, key, item)) return true;
    cJSON_Delete(item);
    return false;
}

static cJSON *added_tokens(const vocab *v) {
    cJSON *list = cJSON_CreateArray();
    for (uint32_t id = 0; list && id < v->count; id++) {
        if (v->type[id] != TYPE_CONTROL && v->type[id] != TYPE_USER_DEFINED) continue;
        cJSON *a = added_token(v, id);
        if (!a || !cJSON_AddItemToArray(list, a)) {
            cJSON_Delete(a);
            cJSON_Delete(list);
            return NULL;
        }
    }
    return list;
}

/* Each merge "a b": one space between two non-empty pieces. */
static t2g_status read_merges(const t2g_gguf *file, cJSON *merges, t2g_error *err) {
    t2g_gguf_array array;
    t2g_status status = t2g_gguf_get_array(file, KEY_MERGES, NULL, &array, err);
    for (uint64_t i = 0; status == T2G_OK && i < array.count; i++) {
        char *merge;
        if ((status = copy_element(file, &array, KEY_MERGES, i, &merge, err)) != T2G_OK) break;
        const char *space = strchr(merge, ' ');
        if (!space || space == merge || !space[1] || strchr(space + 1, ' '))
            status = t2g_fail(err, T2G_ERR_FORMAT, "%s: key %s[%llu] is \"%.64s\": expected two pieces and one space",
                              t2g_gguf_path(file), KEY_MERGES, (unsigned long long)i, merge);
        else if (!cJSON_AddItemToArray(merges, cJSON_CreateString(merge)))
            status = out_of_memory(file, err);
        free(merge);
    }
    return status;
}

static cJSON *vocab_object(const vocab *v) {
    cJSON *entries = cJSON_CreateObject();
    for (uint32_t id = 0; entries && id < v->count; id++)
        if (v->in_vocab[id] && !cJSON_AddNumberToObject(entries, v->name[id], id)) {
            cJSON_Delete(entries);
            entries = NULL;
        }
    return entries;
}

static t2g_status bpe_model(const t2g_gguf *file, const gguf_pre_style *style, const vocab *v, cJSON *model,
                            t2g_error *err) {
    bool ok = cJSON_AddStringToObject(model, "type", "BPE") && cJSON_AddNullToObject(model, "dropout") &&
              cJSON_AddNullToObject(model, "unk_token") && cJSON_AddNullToObject(model, "continuing_subword_prefix") &&
              cJSON_AddNullToObject(model, "end_of_word_suffix") && cJSON_AddFalseToObject(model, "fuse_unk") &&
              cJSON_AddFalseToObject(model, "byte_fallback") &&
              cJSON_AddBoolToObject(model, "ignore_merges", style->ignore_merges) &&
              add_item(model, "vocab", vocab_object(v));
    cJSON *merges = ok ? cJSON_CreateArray() : NULL;
    if (!add_item(model, "merges", merges)) return out_of_memory(file, err);
    return read_merges(file, merges, err);
}

static cJSON *byte_level_decoder(void) {
    cJSON *decoder = cJSON_CreateObject();
    if (decoder && cJSON_AddStringToObject(decoder, "type", "ByteLevel") &&
        cJSON_AddFalseToObject(decoder, "add_prefix_space") && cJSON_AddFalseToObject(decoder, "trim_offsets") &&
        cJSON_AddFalseToObject(decoder, "use_regex"))
        return decoder;
    cJSON_Delete(decoder);
    return NULL;
}

static t2g_status tokenizer_json(const t2g_gguf *file, const gguf_pre_style *style, const vocab *v, cJSON *root,
                                 t2g_error *err) {
    bool ok = cJSON_AddStringToObject(root, "version", "1.0") && cJSON_AddNullToObject(root, "truncation") &&
              cJSON_AddNullToObject(root, "padding") && add_item(root, "added_tokens", added_tokens(v)) &&
              gguf_pre_style_json(style, root) && cJSON_AddNullToObject(root, "post_processor") &&
              add_item(root, "decoder", byte_level_decoder());
    cJSON *model = ok ? cJSON_CreateObject() : NULL;
    if (!add_item(root, "model", model)) return out_of_memory(file, err);
    return bpe_model(file, style, v, model, err);
}

/* config[name] = the name of the token whose id the key holds, when the file has the key. */
static t2g_status special_token(const t2g_gguf *file, const vocab *v, const char *key, const char *name, cJSON *config,
                                t2g_error *err) {
    uint64_t id;
    bool found;
    t2g_status status = t2g_gguf_get_u64(file, key, &found, &id, err);
    if (status != T2G_OK || !found) return status;
    if (id >= v->count)
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: key %s is %llu, past the %llu tokens of %s", t2g_gguf_path(file), key,
                        (unsigned long long)id, (unsigned long long)v->count, KEY_TOKENS);
    return cJSON_AddStringToObject(config, name, v->name[id]) ? T2G_OK : out_of_memory(file, err);
}

static t2g_status config_json(const t2g_gguf *file, const gguf_pre_style *style, const vocab *v, cJSON *config,
                              t2g_error *err) {
    static const char *const SPECIALS[][2] = {{"tokenizer.ggml.bos_token_id", "bos_token"},
                                              {"tokenizer.ggml.eos_token_id", "eos_token"},
                                              {"tokenizer.ggml.padding_token_id", "pad_token"},
                                              {"tokenizer.ggml.unknown_token_id", "unk_token"}};
    t2g_status status = T2G_OK;
    for (size_t i = 0; i < 4 && status == T2G_OK; i++) status = special_token(file, v, SPECIALS[i][0], SPECIALS[i][1], config, err);
    bool add_bos = style->add_bos, add_eos, found_eos, found;
    char *jinja = NULL;
    if (status == T2G_OK) status = t2g_gguf_get_bool(file, "tokenizer.ggml.add_bos_token", &found, &add_bos, err);
    if (status == T2G_OK) status = t2g_gguf_get_bool(file, "tokenizer.ggml.add_eos_token", &found_eos, &add_eos, err);
    if (status == T2G_OK) status = t2g_gguf_get_string_copy(file, "tokenizer.chat_template", &found, &jinja, err);
    if (status != T2G_OK) return status;
    bool ok = cJSON_AddBoolToObject(config, "add_bos_token", add_bos) &&
              (!found_eos || cJSON_AddBoolToObject(config, "add_eos_token", add_eos)) &&
              (!jinja || cJSON_AddStringToObject(config, "chat_template", jinja));
    free(jinja);
    return ok ? T2G_OK : out_of_memory(file, err);
}

/* cJSON's printed text as the caller's malloc'ed copy (cJSON's is freed with cJSON_free). */
static char *printed(char *text) {
    char *copy = text ? strdup(text) : NULL;
    cJSON_free(text);
    return copy;
}

t2g_status t2g_gguf_tokenizer_files(const t2g_gguf *file, char **tokenizer_json_text, char **config_json_text,
                                    t2g_error *err) {
    *tokenizer_json_text = *config_json_text = NULL;
    const gguf_pre_style *style = NULL;
    vocab v = {0};
    cJSON *tokenizer = cJSON_CreateObject(), *config = cJSON_CreateObject();
    t2g_status status = tokenizer && config ? check_model(file, err) : out_of_memory(file, err);
    if (status == T2G_OK) status = gguf_pre_style_of(file, &style, err);
    if (status == T2G_OK) status = read_vocab(file, &v, err);
    if (status == T2G_OK) status = tokenizer_json(file, style, &v, tokenizer, err);
    if (status == T2G_OK) status = config_json(file, style, &v, config, err);
    if (status == T2G_OK) {
        *tokenizer_json_text = printed(cJSON_PrintUnformatted(tokenizer));
        *config_json_text = printed(cJSON_Print(config));
        if (!*tokenizer_json_text || !*config_json_text) status = out_of_memory(file, err);
    }
    if (status != T2G_OK) {
        free(*tokenizer_json_text);
        free(*config_json_text);
        *tokenizer_json_text = *config_json_text = NULL;
    }
    vocab_free(&v);
    cJSON_Delete(tokenizer);
    cJSON_Delete(config);
    return status;
}
