/* Text to ids and back for a model's text (include/t2g/text.h): plain text, the prompt and
 * response of the sequence layout, decoding, spans of decoded ids, streaming, sampling settings. */
#include <stdlib.h>
#include <string.h>

#include "io/text_internal.h"

static t2g_status out_of_memory(t2g_error *err, size_t tokens) {
    return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory for %zu tokens", tokens);
}

t2g_status t2g_text_encode(const t2g_text *text, const char *s, size_t len, bool parse_special, uint32_t **ids,
                           t2g_token_span **spans, size_t *count, t2g_error *err) {
    if (text->bpe) return t2g_bpe_encode(text->bpe, s, len, parse_special, ids, spans, count, err);
    *count = 0;
    *ids = malloc((len ? len : 1) * sizeof **ids);
    if (spans) *spans = malloc((len ? len : 1) * sizeof **spans);
    if (!*ids || (spans && !*spans)) {
        free(*ids);
        *ids = NULL;
        if (spans) {
            free(*spans);
            *spans = NULL;
        }
        return out_of_memory(err, len);
    }
    *count = t2g_tokenize(s, len, *ids, spans ? *spans : NULL);
    return T2G_OK;
}

/* first (when >= 0), then the ids of s, then last (when >= 0), in one malloc'ed array. */
static t2g_status encode_between(const t2g_text *text, int64_t first, const char *s, size_t len, bool parse_special,
                                 int64_t last, uint32_t **ids, size_t *count, t2g_error *err) {
    uint32_t *body;
    size_t n;
    *ids = NULL;
    *count = 0;
    t2g_status status = t2g_text_encode(text, s, len, parse_special, &body, NULL, &n, err);
    if (status) return status;
    size_t total = n + (first >= 0) + (last >= 0);
    uint32_t *all = malloc((total ? total : 1) * sizeof *all);
    if (!all) {
        free(body);
        return out_of_memory(err, total);
    }
    size_t k = 0;
    if (first >= 0) all[k++] = (uint32_t)first;
    if (n) memcpy(all + k, body, n * sizeof *body);
    k += n;
    if (last >= 0) all[k++] = (uint32_t)last;
    free(body);
    *ids = all;
    *count = total;
    return T2G_OK;
}

/* The BOS text the chat template may put first (llama3 does), NULL when there is none. */
static const char *bos_text(const t2g_text *text) {
    return text->bos >= 0 ? t2g_bpe_token_text(text->bpe, (uint32_t)text->bos) : NULL;
}

t2g_status t2g_text_render(const t2g_text *text, const char *prompt, size_t prompt_len, const char *response,
                           size_t response_len, t2g_chat_text *out, t2g_error *err) {
    memset(out, 0, sizeof *out);
    const char *system = text->system;
    return t2g_chat_render(text->chat, text->bpe ? bos_text(text) : NULL, system, system ? strlen(system) : 0, prompt,
                           prompt_len, response, response_len, out, err);
}

t2g_status t2g_text_encode_rendered(const t2g_text *text, const t2g_chat_text *rendered, bool parse_special,
                                    uint32_t **ids, t2g_token_span **spans, size_t *count, t2g_error *err) {
    if (!text->bpe) return t2g_text_encode(text, rendered->text, rendered->len, parse_special, ids, spans, count, err);
    t2g_status status = t2g_chat_encode(text->bpe, rendered, parse_special, ids, spans, count, err);
    return status ? t2g_error_context(err, "%s", text->where) : T2G_OK;
}

t2g_status t2g_text_prompt(const t2g_text *text, const char *prompt, size_t len, bool parse_special, uint32_t **ids,
                           size_t *count, t2g_error *err) {
    if (text->chat == T2G_CHAT_NONE)
        return encode_between(text, t2g_text_bos(text), prompt, len, parse_special, -1, ids, count, err);
    t2g_chat_text rendered;
    t2g_status status = t2g_text_render(text, prompt, len, NULL, 0, &rendered, err);
    if (!status) status = t2g_text_encode_rendered(text, &rendered, parse_special, ids, NULL, count, err);
    t2g_chat_text_free(&rendered);
    return status;
}

t2g_status t2g_text_response(const t2g_text *text, const char *response, size_t len, bool parse_special,
                             uint32_t **ids, size_t *count, t2g_error *err) {
    *ids = NULL;
    *count = 0;
    if (text->end_of_turn < 0)
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: no eos_token (tokenizer_config.json) to end a response with, and no "
                        "chat template: set model.chat_template to the template of the model's turns", text->where);
    return encode_between(text, -1, response, len, parse_special, text->end_of_turn, ids, count, err);
}

void t2g_text_sampling(const t2g_text *text, t2g_sampling *sampling) {
    sampling->stop_count = 0;
    if (text->end_of_turn >= 0) sampling->stop_ids[sampling->stop_count++] = (uint32_t)text->end_of_turn;
    if (text->eos >= 0 && text->eos != text->end_of_turn) sampling->stop_ids[sampling->stop_count++] = (uint32_t)text->eos;
    sampling->banned_count = 0;
    if (!text->bpe) {
        sampling->banned_ids[sampling->banned_count++] = T2G_TOKEN_BOS;
        sampling->banned_ids[sampling->banned_count++] = T2G_TOKEN_PAD;
    }
}

bool t2g_text_is_special(const t2g_text *text, uint32_t id) {
    return text->bpe ? t2g_bpe_is_special(text->bpe, id) : id >= 256;
}

const char *t2g_text_token_bytes(const t2g_text *text, uint32_t id, size_t *len) {
    static const unsigned char bytes[256] = {
#define B4(n) n, n + 1, n + 2, n + 3
#define B16(n) B4(n), B4(n + 4), B4(n + 8), B4(n + 12)
#define B64(n) B16(n), B16(n + 16), B16(n + 32), B16(n + 48)
        B64(0), B64(64), B64(128), B64(192)
#undef B64
#undef B16
#undef B4
    };
    if (text->bpe) return t2g_bpe_token_bytes(text->bpe, id, len);
    *len = id < 256 ? 1 : 0;
    return id < T2G_BYTE_VOCAB ? (const char *)bytes + (id < 256 ? id : 0) : NULL;
}

const char *t2g_text_token_name(const t2g_text *text, uint32_t id) {
    return text->bpe ? t2g_bpe_token_text(text->bpe, id) : t2g_token_name(id);
}

t2g_status t2g_text_decode(const t2g_text *text, const uint32_t *ids, size_t n, bool skip_special, char **bytes,
                           size_t *len, t2g_error *err) {
    if (text->bpe) return t2g_bpe_decode(text->bpe, ids, n, skip_special, bytes, len, err);
    for (size_t i = 0; i < n; i++)
        if (ids[i] >= T2G_BYTE_VOCAB)
            return t2g_fail(err, T2G_ERR_ARGUMENT, "decode: id %u is not below the byte tokenizer's vocab size %u", ids[i],
                            T2G_BYTE_VOCAB);
    *bytes = t2g_detokenize(ids, n, len);
    return *bytes ? T2G_OK : out_of_memory(err, n);
}

t2g_status t2g_text_spans(const t2g_text *text, const uint32_t *ids, size_t n, t2g_token_span *spans, t2g_error *err) {
    uint32_t at = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        if (!t2g_text_token_bytes(text, ids[i], &len))
            return t2g_fail(err, T2G_ERR_ARGUMENT, "token %zu: id %u is not a token of %s", i, ids[i], text->where);
        spans[i] = (t2g_token_span){at, at + (uint32_t)len};
        at += (uint32_t)len;
    }
    return T2G_OK;
}

t2g_status t2g_text_stream_next(const t2g_text *text, t2g_bpe_stream *stream, uint32_t id, bool skip_special,
                                char **bytes, size_t *len, t2g_error *err) {
    if (text->bpe) return t2g_bpe_stream_next(text->bpe, stream, id, skip_special, bytes, len, err);
    size_t n;
    const char *b = t2g_text_token_bytes(text, id, &n);
    if (!b) return t2g_fail(err, T2G_ERR_ARGUMENT, "decode: id %u is not a token of %s", id, text->where);
    (void)skip_special; /* the byte tokenizer's special tokens decode to no bytes anyway */
    return t2g_bpe_stream_push(stream, b, n, bytes, len, err);
}
