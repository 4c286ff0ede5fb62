/* The BPE tokenizer's NFC normalizer (src/io/bpe_normalize.c) on hand-made text, with the
 * Qwen2-style golden tokenizer (normalizer NFC): text that NFC changes must give the ids of its
 * NFC form, and each token's byte range must be its range in the NFC form mapped through the
 * expected input byte of each NFC byte (written out by hand below, from the rule in
 * bpe_internal.h: a composed character starts on the first input character it was made from and
 * owns the ones it absorbed), so the ranges tile the input. Then the special tokens (matched
 * before normalization), and the fast path (text already NFC is not copied). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "io/bpe_internal.h"

#define NFC_CASE_MAX_BYTES 24

typedef struct nfc_case {
    const char *name, *text, *nfc;
    uint32_t from[NFC_CASE_MAX_BYTES + 1]; /* [strlen(nfc) + 1]: each NFC byte's input byte, then the input's length */
} nfc_case;

static const nfc_case CASES[] = {
    {"e + U+0301 -> U+00E9", "e\xCC\x81", "\xC3\xA9", {0, 1, 3}},
    {"a + U+0328 -> U+0105 (a composite below U+0300)", "a\xCC\xA8", "\xC4\x85", {0, 1, 3}},
    {"Angstrom sign U+212B -> U+00C5", "\xE2\x84\xAB", "\xC3\x85", {0, 1, 3}},
    {"Hangul jamo L V T -> one syllable", "x\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8y", "x\xEA\xB0\x81y",
     {0, 1, 2, 3, 10, 11}},
    {"a lone combining mark first: unchanged", "\xCC\x81" "a", "\xCC\x81" "a", {0, 1, 2, 3}},
    {"A + ring + acute -> U+01FA", "A\xCC\x8A\xCC\x81x", "\xC7\xBAx", {0, 1, 5, 6}},
    {"reordered: a + U+0307 + U+0323 -> U+1EA1 + U+0307 on the U+0323", "a\xCC\x87\xCC\xA3",
     "\xE1\xBA\xA1\xCC\x87", {0, 1, 2, 3, 4, 5}},
    {"U+0344 -> U+0308 U+0301 (more bytes than the input: the last ones get empty ranges)", "\xCD\x84",
     "\xCC\x88\xCC\x81", {0, 1, 2, 2, 2}},
    {"NFC and non-NFC runs mixed", "Ca\xCC\x81" "fe\xCC\x81 ok \xC3\xA9", "C\xC3\xA1" "f\xC3\xA9 ok \xC3\xA9",
     {0, 1, 2, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14}},
};

static bool encode(check_ctx *ctx, const t2g_bpe *bpe, const char *text, bool parse_special, uint32_t **ids,
                   t2g_token_span **spans, size_t *count) {
    return check_status(ctx, t2g_bpe_encode(bpe, text, strlen(text), parse_special, ids, spans, count, &ctx->err),
                        "encode");
}

static bool tiles(const t2g_token_span *spans, size_t count, size_t len) {
    uint32_t at = 0;
    for (size_t k = 0; k < count; k++) {
        if (spans[k].start != at || spans[k].end < at) return false;
        at = spans[k].end;
    }
    return at == len;
}

static void check_case(check_ctx *ctx, const t2g_bpe *bpe, const nfc_case *c) {
    uint32_t *ids = NULL, *nfc_ids = NULL;
    t2g_token_span *spans = NULL, *nfc_spans = NULL;
    size_t count = 0, nfc_count = 0;
    if (encode(ctx, bpe, c->text, false, &ids, &spans, &count) &&
        encode(ctx, bpe, c->nfc, false, &nfc_ids, &nfc_spans, &nfc_count)) {
        bool same_ids = count == nfc_count && count > 0 && memcmp(ids, nfc_ids, count * sizeof *ids) == 0;
        bool mapped = same_ids;
        for (size_t k = 0; mapped && k < count; k++)
            mapped = spans[k].start == c->from[nfc_spans[k].start] && spans[k].end == c->from[nfc_spans[k].end];
        check_true(ctx, same_ids, "%s: the ids of its NFC form (%zu tokens, %zu)", c->name, count, nfc_count);
        check_true(ctx, mapped && tiles(spans, count, strlen(c->text)),
                   "%s: ranges mapped from the NFC form's, tiling the %zu bytes", c->name, strlen(c->text));
    }
    free(ids);
    free(spans);
    free(nfc_ids);
    free(nfc_spans);
}

/* A whole token's id and range: the only token of text. */
static void check_one_token(check_ctx *ctx, const t2g_bpe *bpe, const char *text, const char *vocab, const char *what) {
    uint32_t *ids = NULL;
    t2g_token_span *spans = NULL;
    size_t count = 0;
    int64_t id = t2g_bpe_token_id(bpe, vocab);
    if (encode(ctx, bpe, text, false, &ids, &spans, &count))
        check_true(ctx,
                   id >= 0 && count == 1 && ids[0] == (uint32_t)id && spans[0].start == 0 && spans[0].end == strlen(text),
                   "%s: one token, id %lld, range [0, %zu) (%zu tokens)", what, (long long)id, strlen(text), count);
    free(ids);
    free(spans);
}

/* "<|im_end|>" + U+0338: as plain text '>' and U+0338 compose to U+226F; with special tokens
 * matched, the special is cut out first and the mark stays alone (as Hugging Face does). */
static void check_special(check_ctx *ctx, const t2g_bpe *bpe) {
    const char *text = "<|im_end|>\xCC\xB8";
    uint32_t *ids = NULL, *alone = NULL, *plain = NULL, *composed = NULL;
    t2g_token_span *spans = NULL, *alone_spans = NULL, *plain_spans = NULL, *composed_spans = NULL;
    size_t count = 0, alone_count = 0, plain_count = 0, composed_count = 0;
    int64_t im_end = t2g_bpe_token_id(bpe, "<|im_end|>");
    if (encode(ctx, bpe, text, true, &ids, &spans, &count) &&
        encode(ctx, bpe, "\xCC\xB8", false, &alone, &alone_spans, &alone_count) &&
        encode(ctx, bpe, text, false, &plain, &plain_spans, &plain_count) &&
        encode(ctx, bpe, "<|im_end|\xE2\x89\xAF", false, &composed, &composed_spans, &composed_count)) {
        bool same = count == alone_count + 1 && im_end >= 0 && ids[0] == (uint32_t)im_end && spans[0].start == 0 &&
                    spans[0].end == 10 && memcmp(ids + 1, alone, alone_count * sizeof *ids) == 0;
        check_true(ctx, same && tiles(spans, count, 12), "special token then U+0338: the special, then the mark alone");
        bool folded = plain_count == composed_count && memcmp(plain, composed, plain_count * sizeof *plain) == 0 &&
                      memcmp(plain_spans, composed_spans, plain_count * sizeof *plain_spans) == 0;
        check_true(ctx, folded, "as plain text, '>' + U+0338 is U+226F (same bytes, same ranges)");
    }
    free(ids), free(alone), free(plain), free(composed);
    free(spans), free(alone_spans), free(plain_spans), free(composed_spans);
}

/* Text already in NFC (with marks in canonical order, like Hindi's virama) is not copied. */
static void check_fast_path(check_ctx *ctx) {
    static const char *const nfc_texts[] = {
        "",
        "plain ASCII",
        "caf\xC3\xA9 \xC3\x85ngstr\xC3\xB6m",
        "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 \xD0\xB9",
        "\xE0\xA4\xA8\xE0\xA4\xAE\xE0\xA4\xB8\xE0\xA5\x8D\xE0\xA4\xA4\xE0\xA5\x87", /* a virama (class 9) */
        "\xE4\xBD\xA0\xE5\xA5\xBD \xEA\xB0\x81",
        "\314\201a", "q\xCC\xA3\xCC\x81"}; /* a lone U+0301 then "a" (octal: "\x81a" would be one escape) */
    for (size_t i = 0; i < sizeof nfc_texts / sizeof nfc_texts[0]; i++) {
        bpe_nfc_text n = {0};
        if (check_status(ctx, bpe_nfc(nfc_texts[i], (uint32_t)strlen(nfc_texts[i]), &n, &ctx->err), "bpe_nfc"))
            check_true(ctx, !n.text, "already NFC, left as is: text %zu", i);
        bpe_nfc_free(&n);
    }
}

T2G_HOST_CHECK(bpe_nfc) {
    check_case_begin(ctx);
    char path[4300];
    snprintf(path, sizeof path, "%s/tests/golden/tokenizers/qwen2/tokenizer.json", check_source_dir());
    t2g_bpe *bpe = NULL;
    if (!check_status(ctx, t2g_bpe_load(path, &bpe, &ctx->err), path)) return ctx->failures;
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) check_case(ctx, bpe, &CASES[c]);
    check_one_token(ctx, bpe, "e\xCC\x81", "\xC3\x83\xC2\xA9", "e + U+0301 is the token of U+00E9");
    check_one_token(ctx, bpe, "\xE2\x84\xAB", "\xC3\x83\xC4\xA7", "U+212B is the token of U+00C5");
    check_one_token(ctx, bpe, "\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8", "\xC3\xAA\xC2\xB0\xC4\xA3",
                    "jamo L V T are the token of U+AC01");
    check_special(ctx, bpe);
    check_fast_path(ctx);
    t2g_bpe_free(bpe);
    return ctx->failures;
}
