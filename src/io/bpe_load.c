/* Loading a byte-level BPE tokenizer from a Hugging Face tokenizer.json: the model (vocab,
 * merges), the added tokens, and refusals by name of what t2g does not implement. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/read_file.h"
#include "core/utf8.h"
#include "io/bpe_internal.h"

#define BPE_FILE_MAX_BYTES (64u << 20)

static const cJSON *item(const cJSON *node, const char *key) { return cJSON_GetObjectItemCaseSensitive(node, key); }

/* The raw bytes of a vocab string in GPT-2's byte alphabet; false if a character is outside it. */
static bool byte_level_bytes(bpe_token *t) {
    t->bytes = malloc(t->text_len + 1);
    if (!t->bytes) return false;
    size_t k = 0;
    for (size_t i = 0; i < t->text_len;) {
        uint32_t cp;
        size_t n = t2g_utf8_sequence((const unsigned char *)t->text + i, t->text_len - i, &cp);
        int b = n ? bpe_char_byte(cp) : -1;
        if (b < 0) return false;
        t->bytes[k++] = (char)b;
        i += n;
    }
    t->bytes_len = (uint32_t)k;
    return true;
}

static t2g_status set_token(t2g_bpe *bpe, uint32_t id, const char *text, const char *name, const char *key,
                            t2g_error *err) {
    bpe_token *t = &bpe->tokens[id];
    if (t->present && strcmp(t->text, text) != 0)
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: %s: id %u is given to both \"%s\" and \"%s\"", name, key, id, t->text,
                        text);
    if (t->present) return T2G_OK;
    t->text = strdup(text);
    if (!t->text) return t2g_fail(err, T2G_ERR_MEMORY, "%s: out of memory", name);
    t->text_len = (uint32_t)strlen(text);
    t->present = true;
    return T2G_OK;
}

static bool read_id(const cJSON *value, uint32_t *id) {
    if (!cJSON_IsNumber(value) || value->valuedouble < 0 || value->valuedouble >= BPE_MAX_TOKENS ||
        value->valuedouble != (double)(uint32_t)value->valuedouble)
        return false;
    *id = (uint32_t)value->valuedouble;
    return true;
}

/* The size: one more than the largest id of the vocab and added tokens. */
static t2g_status count_ids(const cJSON *vocab, const cJSON *added, const char *name, uint32_t *size, t2g_error *err) {
    *size = 0;
    for (const cJSON *v = vocab->child; v; v = v->next) {
        uint32_t id;
        if (!read_id(v, &id))
            return t2g_fail(err, T2G_ERR_FORMAT, "%s: model.vocab[\"%s\"]: expected an id from 0 to %u", name,
                            v->string, BPE_MAX_TOKENS - 1);
        if (id + 1 > *size) *size = id + 1;
    }
    int i = 0;
    for (const cJSON *a = added ? added->child : NULL; a; a = a->next, i++) {
        uint32_t id;
        if (!read_id(item(a, "id"), &id) || !cJSON_IsString(item(a, "content")))
            return t2g_fail(err, T2G_ERR_FORMAT, "%s: added_tokens[%d]: expected an id from 0 to %u and a content string",
                            name, i, BPE_MAX_TOKENS - 1);
        if (id + 1 > *size) *size = id + 1;
    }
    if (*size == 0) return t2g_fail(err, T2G_ERR_FORMAT, "%s: model.vocab is empty", name);
    return T2G_OK;
}

static t2g_status load_added(t2g_bpe *bpe, const cJSON *added, const char *name, t2g_error *err) {
    int i = 0;
    for (const cJSON *a = added ? added->child : NULL; a; a = a->next, i++) {
        char key[64];
        snprintf(key, sizeof key, "added_tokens[%d]", i);
        const char *flags[] = {"single_word", "lstrip", "rstrip"};
        for (int f = 0; f < 3; f++)
            if (cJSON_IsTrue(item(a, flags[f])))
                return t2g_fail(err, T2G_ERR_UNSUPPORTED, "%s: %s.%s true is not supported", name, key, flags[f]);
        uint32_t id = (uint32_t)item(a, "id")->valuedouble;
        const char *content = item(a, "content")->valuestring;
        if (!content[0]) return t2g_fail(err, T2G_ERR_FORMAT, "%s: %s.content is empty", name, key);
        t2g_status status = set_token(bpe, id, content, name, key, err);
        if (status != T2G_OK) return status;
        bpe_token *t = &bpe->tokens[id];
        if (t->added) return t2g_fail(err, T2G_ERR_FORMAT, "%s: %s: id %u is added twice", name, key, id);
        t->added = true;
        t->special = cJSON_IsTrue(item(a, "special"));
        const cJSON *normalized = item(a, "normalized"); /* absent: Hugging Face's default, !special */
        if (bpe->nfc && (normalized ? cJSON_IsTrue(normalized) : !t->special))
            return t2g_fail(err, T2G_ERR_UNSUPPORTED,
                            "%s: %s.normalized true is not supported with the NFC normalizer (added tokens are matched "
                            "in the text before normalization)", name, key);
        bpe->added[bpe->added_count++] = id;
    }
    return T2G_OK;
}

static t2g_status load_vocab(t2g_bpe *bpe, const cJSON *vocab, const char *name, t2g_error *err) {
    for (const cJSON *v = vocab->child; v; v = v->next) {
        t2g_status status = set_token(bpe, (uint32_t)v->valuedouble, v->string, name, "model.vocab", err);
        if (status != T2G_OK) return status;
    }
    for (uint32_t id = 0; id < bpe->size; id++) {
        bpe_token *t = &bpe->tokens[id];
        if (!t->present) return t2g_fail(err, T2G_ERR_FORMAT, "%s: model.vocab: id %u has no token (ids must run from 0 to %u)", name, id, bpe->size - 1);
        if (t->added) {
            t->bytes = strdup(t->text);
            if (!t->bytes) return t2g_fail(err, T2G_ERR_MEMORY, "%s: out of memory", name);
            t->bytes_len = t->text_len;
        } else if (!byte_level_bytes(t)) {
            return t2g_fail(err, T2G_ERR_FORMAT,
                            "%s: model.vocab[\"%s\"] (id %u) holds a character outside ByteLevel's byte alphabet", name,
                            t->text, id);
        }
    }
    uint32_t duplicate;
    if (!bpe_index_texts(bpe, &duplicate)) return t2g_fail(err, T2G_ERR_MEMORY, "%s: out of memory", name);
    if (duplicate != UINT32_MAX)
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: model.vocab: \"%s\" appears twice (ids %u and %u)", name,
                        bpe->tokens[duplicate].text, bpe_find(bpe, bpe->tokens[duplicate].text, bpe->tokens[duplicate].text_len),
                        duplicate);
    for (unsigned b = 0; b < 256; b++) {
        uint32_t cp = bpe_byte_char((uint8_t)b);
        char s[2] = {(char)(cp < 0x80 ? cp : 0xC0 | cp >> 6), (char)(0x80 | (cp & 0x3F))};
        /* A byte without a token (SmolLM2 has none for 21 bytes) is dropped when encoding. */
        bpe->byte_id[b] = bpe_find(bpe, s, cp < 0x80 ? 1 : 2);
        if (bpe->byte_id[b] != UINT32_MAX && bpe->tokens[bpe->byte_id[b]].added)
            return t2g_fail(err, T2G_ERR_FORMAT, "%s: the token for byte 0x%02X is an added token, not a model.vocab entry",
                            name, b);
    }
    return T2G_OK;
}

/* merges[i]: "a b" or ["a", "b"]; both halves and their join must be in the vocab. */
static t2g_status load_merges(t2g_bpe *bpe, const cJSON *merges, const char *name, t2g_error *err) {
    uint32_t count = (uint32_t)cJSON_GetArraySize(merges), slots = 16;
    if (count > BPE_MAX_TOKENS) return t2g_fail(err, T2G_ERR_TOO_LARGE, "%s: model.merges: more than %u", name, BPE_MAX_TOKENS);
    while (slots < 2 * (uint64_t)count) slots *= 2;
    bpe->merges = malloc((size_t)slots * sizeof *bpe->merges);
    if (!bpe->merges) return t2g_fail(err, T2G_ERR_MEMORY, "%s: out of memory", name);
    memset(bpe->merges, 0xff, (size_t)slots * sizeof *bpe->merges);
    bpe->merge_slots = slots;
    uint32_t rank = 0;
    for (const cJSON *m = merges->child; m; m = m->next, rank++) {
        const char *left = NULL, *right = NULL;
        size_t left_len = 0, right_len = 0;
        if (cJSON_IsString(m)) {
            const char *space = strchr(m->valuestring, ' ');
            if (space && !strchr(space + 1, ' ')) {
                left = m->valuestring, left_len = (size_t)(space - left);
                right = space + 1, right_len = strlen(right);
            }
        } else if (cJSON_GetArraySize(m) == 2 && cJSON_IsString(m->child) && cJSON_IsString(m->child->next)) {
            left = m->child->valuestring, left_len = strlen(left);
            right = m->child->next->valuestring, right_len = strlen(right);
        }
        if (!left || !left_len || !right_len)
            return t2g_fail(err, T2G_ERR_FORMAT, "%s: model.merges[%u]: expected \"a b\" or [\"a\", \"b\"]", name, rank);
        uint32_t a = bpe_find(bpe, left, left_len), b = bpe_find(bpe, right, right_len);
        char *joined = malloc(left_len + right_len + 1);
        if (!joined) return t2g_fail(err, T2G_ERR_MEMORY, "%s: out of memory", name);
        memcpy(joined, left, left_len);
        memcpy(joined + left_len, right, right_len);
        joined[left_len + right_len] = 0;
        uint32_t c = bpe_find(bpe, joined, left_len + right_len);
        t2g_status status = T2G_OK;
        if (a == UINT32_MAX || b == UINT32_MAX || c == UINT32_MAX)
            status = t2g_fail(err, T2G_ERR_FORMAT, "%s: model.merges[%u]: \"%.*s\" is not in the vocab", name, rank,
                              (int)(a == UINT32_MAX ? left_len : b == UINT32_MAX ? right_len : left_len + right_len),
                              a == UINT32_MAX ? left : b == UINT32_MAX ? right : joined);
        free(joined);
        if (status != T2G_OK) return status;
        bpe_add_merge(bpe, a, b, rank, c);
    }
    return T2G_OK;
}

/* What t2g does not implement is refused by name rather than half-done. */
static t2g_status check_model(const cJSON *root, const char *name, t2g_error *err) {
    const cJSON *model = item(root, "model");
    const cJSON *type = item(model, "type");
    if (!cJSON_IsObject(model)) return t2g_fail(err, T2G_ERR_FORMAT, "%s: model: expected an object", name);
    if (!cJSON_IsString(type) || strcmp(type->valuestring, "BPE") != 0)
        return t2g_fail(err, T2G_ERR_UNSUPPORTED, "%s: model type \"%s\" is not supported (only BPE)", name,
                        cJSON_IsString(type) ? type->valuestring : "(none)");
    if (cJSON_IsTrue(item(model, "byte_fallback")))
        return t2g_fail(err, T2G_ERR_UNSUPPORTED,
                        "%s: model.byte_fallback true is not supported (SentencePiece-style tokenizers come later)", name);
    const cJSON *dropout = item(model, "dropout");
    if (dropout && !cJSON_IsNull(dropout) && !(cJSON_IsNumber(dropout) && dropout->valuedouble == 0))
        return t2g_fail(err, T2G_ERR_UNSUPPORTED, "%s: model.dropout is not supported", name);
    const char *affixes[] = {"continuing_subword_prefix", "end_of_word_suffix"};
    for (int i = 0; i < 2; i++) {
        const cJSON *a = item(model, affixes[i]);
        if (a && !cJSON_IsNull(a) && !(cJSON_IsString(a) && !a->valuestring[0]))
            return t2g_fail(err, T2G_ERR_UNSUPPORTED, "%s: model.%s is not supported", name, affixes[i]);
    }
    if (!cJSON_IsObject(item(model, "vocab")))
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: model.vocab: expected an object of token: id", name);
    if (!cJSON_IsArray(item(model, "merges")))
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: model.merges: expected an array", name);
    const cJSON *added = item(root, "added_tokens");
    if (added && !cJSON_IsNull(added) && !cJSON_IsArray(added))
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: added_tokens: expected an array", name);
    return T2G_OK;
}

/* One normalizer: NFC (sets bpe->nfc); anything else is refused by name. */
static t2g_status load_normalizer(t2g_bpe *bpe, const cJSON *normalizer, const char *key, const char *name,
                                  t2g_error *err) {
    const cJSON *type = item(normalizer, "type");
    const char *t = cJSON_IsString(type) ? type->valuestring : "(none)";
    if (strcmp(t, "NFC") == 0) {
        bpe->nfc = true;
        return T2G_OK;
    }
    if (strcmp(t, "Sequence") != 0 || strcmp(key, "normalizer") != 0)
        return t2g_fail(err, T2G_ERR_UNSUPPORTED,
                        "%s: %s type \"%s\" is not supported (null, NFC or a Sequence of NFC)", name, key, t);
    const cJSON *list = item(normalizer, "normalizers");
    if (!cJSON_IsArray(list))
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: normalizer.normalizers: expected an array", name);
    int i = 0;
    for (const cJSON *n = list->child; n; n = n->next, i++) {
        char inner[48];
        snprintf(inner, sizeof inner, "normalizer.normalizers[%d]", i);
        t2g_status status = load_normalizer(bpe, n, inner, name, err);
        if (status != T2G_OK) return status;
    }
    return T2G_OK;
}

/* The normalizer (into bpe->nfc) and the decoder: what is not supported is refused by name. */
static t2g_status check_normalizer_decoder(t2g_bpe *bpe, const cJSON *root, const char *name, t2g_error *err) {
    const cJSON *normalizer = item(root, "normalizer");
    if (normalizer && !cJSON_IsNull(normalizer)) {
        t2g_status status = load_normalizer(bpe, normalizer, "normalizer", name, err);
        if (status != T2G_OK) return status;
    }
    const cJSON *decoder = item(root, "decoder");
    const cJSON *type = item(decoder, "type");
    if (!cJSON_IsString(type) || strcmp(type->valuestring, "ByteLevel") != 0)
        return t2g_fail(err, T2G_ERR_UNSUPPORTED, "%s: decoder type \"%s\" is not supported (only ByteLevel)", name,
                        cJSON_IsString(type) ? type->valuestring : "(none)");
    return T2G_OK;
}

/* Longest content first, so that matching tries "<|im_start|>" before "<|im" (insertion sort:
 * added tokens are few). */
static void sort_added(t2g_bpe *bpe) {
    for (uint32_t i = 1; i < bpe->added_count; i++) {
        uint32_t id = bpe->added[i], j = i;
        for (; j > 0 && bpe->tokens[bpe->added[j - 1]].text_len < bpe->tokens[id].text_len; j--)
            bpe->added[j] = bpe->added[j - 1];
        bpe->added[j] = id;
    }
}

t2g_status t2g_bpe_parse(const char *json, size_t len, const char *name, t2g_bpe **out, t2g_error *err) {
    *out = NULL;
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root) return t2g_fail(err, T2G_ERR_FORMAT, "%s: not valid JSON", name);
    t2g_bpe *bpe = calloc(1, sizeof *bpe);
    t2g_status status = bpe ? check_model(root, name, err) : t2g_fail(err, T2G_ERR_MEMORY, "%s: out of memory", name);
    if (status == T2G_OK) status = check_normalizer_decoder(bpe, root, name, err);
    const cJSON *model = item(root, "model"), *added = item(root, "added_tokens");
    if (status == T2G_OK) status = count_ids(item(model, "vocab"), added, name, &bpe->size, err);
    if (status == T2G_OK) {
        bpe->tokens = calloc(bpe->size, sizeof *bpe->tokens);
        bpe->added = calloc((size_t)cJSON_GetArraySize(added) + 1, sizeof *bpe->added);
        if (!bpe->tokens || !bpe->added) status = t2g_fail(err, T2G_ERR_MEMORY, "%s: out of memory", name);
    }
    if (status == T2G_OK) status = load_added(bpe, added, name, err);
    if (status == T2G_OK) status = load_vocab(bpe, item(model, "vocab"), name, err);
    if (status == T2G_OK) status = load_merges(bpe, item(model, "merges"), name, err);
    if (status == T2G_OK) status = bpe_load_pre_tokenizer(bpe, item(root, "pre_tokenizer"), name, err);
    if (status == T2G_OK) {
        bpe->ignore_merges = cJSON_IsTrue(item(model, "ignore_merges"));
        sort_added(bpe);
    }
    cJSON_Delete(root);
    if (status != T2G_OK) {
        t2g_bpe_free(bpe);
        return status;
    }
    *out = bpe;
    return T2G_OK;
}

t2g_status t2g_bpe_load(const char *path, t2g_bpe **out, t2g_error *err) {
    char *json;
    size_t len;
    *out = NULL;
    t2g_status status = t2g_file_read(path, "the tokenizer", (t2g_read_cap){BPE_FILE_MAX_BYTES, NULL}, &json, &len, err);
    if (status != T2G_OK) return status;
    status = t2g_bpe_parse(json, len, path, out, err);
    free(json);
    return status;
}

void t2g_bpe_free(t2g_bpe *bpe) {
    if (!bpe) return;
    for (uint32_t i = 0; bpe->tokens && i < bpe->size; i++) {
        free(bpe->tokens[i].text);
        free(bpe->tokens[i].bytes);
    }
    for (uint32_t s = 0; s < bpe->step_count; s++) pcre2_code_free(bpe->steps[s].regex);
    free(bpe->tokens);
    free(bpe->text_index);
    free(bpe->merges);
    free(bpe->added);
    free(bpe);
}
