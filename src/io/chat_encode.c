/* A rendered conversation to token ids (include/t2g/chat.h): the template's special tokens by
 * their text, the runs between them by the BPE. */
#include <stdlib.h>
#include <string.h>

#include "io/bpe_internal.h"
#include "t2g/chat.h"

/* The id of the special token text->text[span]. */
static t2g_status special_id(const t2g_bpe *bpe, const t2g_chat_text *text, t2g_token_span span, uint32_t *id,
                             t2g_error *err) {
    size_t n = span.end - span.start;
    char *token = malloc(n + 1);
    if (!token) return t2g_fail(err, T2G_ERR_MEMORY, "t2g_chat_encode: out of memory");
    memcpy(token, text->text + span.start, n);
    token[n] = '\0';
    int64_t found = t2g_bpe_token_id(bpe, token);
    t2g_status status = T2G_OK;
    if (found < 0 || strlen(token) != n)
        status = t2g_fail(err, T2G_ERR_FORMAT, "the tokenizer has no token \"%.200s\", which the chat template writes",
                          token);
    else
        *id = (uint32_t)found;
    free(token);
    return status;
}

/* Appends the BPE's tokens of text->text[start, end), spans shifted to the whole text. */
static t2g_status encode_run(const t2g_bpe *bpe, const t2g_chat_text *text, size_t start, size_t end,
                             bool parse_special, bpe_output *out, t2g_error *err) {
    if (start == end) return T2G_OK;
    uint32_t *ids = NULL;
    t2g_token_span *spans = NULL;
    size_t count = 0;
    t2g_status status = t2g_bpe_encode(bpe, text->text + start, end - start, parse_special, &ids, &spans, &count, err);
    if (status != T2G_OK) t2g_error_context(err, "the chat text's bytes [%zu, %zu)", start, end);
    for (size_t i = 0; status == T2G_OK && i < count; i++) {
        if (!bpe_output_push(out, ids[i], spans[i].start + (uint32_t)start, spans[i].end + (uint32_t)start))
            status = t2g_fail(err, T2G_ERR_MEMORY, "t2g_chat_encode: out of memory");
    }
    free(ids);
    free(spans);
    return status;
}

static t2g_status check_specials(const t2g_chat_text *text, t2g_error *err) {
    if (text->len > UINT32_MAX)
        return t2g_fail(err, T2G_ERR_TOO_LARGE, "t2g_chat_encode: a text of %zu bytes is above 4 GiB", text->len);
    size_t at = 0;
    for (size_t i = 0; i < text->specials_count; i++) {
        t2g_token_span s = text->specials[i];
        if (s.start < at || s.end <= s.start || s.end > text->len)
            return t2g_fail(err, T2G_ERR_ARGUMENT,
                            "t2g_chat_encode: special token %zu's range [%u, %u) is empty, out of order or past "
                            "the text's %zu bytes", i, s.start, s.end, text->len);
        at = s.end;
    }
    return T2G_OK;
}

t2g_status t2g_chat_encode(const t2g_bpe *bpe, const t2g_chat_text *text, bool parse_special, uint32_t **ids,
                           t2g_token_span **spans, size_t *count, t2g_error *err) {
    if (!bpe || !text || !ids || !count || (!text->text && text->len) || (!text->specials && text->specials_count))
        return t2g_fail(err, T2G_ERR_ARGUMENT, "t2g_chat_encode: a NULL argument");
    *ids = NULL;
    if (spans) *spans = NULL;
    *count = 0;
    t2g_status status = check_specials(text, err);
    bpe_output out = {0};
    size_t at = 0;
    for (size_t i = 0; status == T2G_OK && i <= text->specials_count; i++) {
        size_t run_end = i < text->specials_count ? text->specials[i].start : text->len;
        status = encode_run(bpe, text, at, run_end, parse_special, &out, err);
        if (status != T2G_OK || i == text->specials_count) break;
        t2g_token_span special = text->specials[i];
        uint32_t id = 0;
        status = special_id(bpe, text, special, &id, err);
        if (status == T2G_OK && !bpe_output_push(&out, id, special.start, special.end))
            status = t2g_fail(err, T2G_ERR_MEMORY, "t2g_chat_encode: out of memory");
        at = special.end;
    }
    return bpe_output_give(&out, status, ids, spans, count);
}
