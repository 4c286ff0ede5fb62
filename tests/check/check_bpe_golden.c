/* The byte-level BPE tokenizer against Hugging Face `tokenizers` (tests/golden/tokenizers/; its
 * README says how the files were made and their format): for the GPT-2, SmolLM2 and Qwen2 styles,
 * every one of the 10,000 strings must give the reference's ids and byte ranges tiling the text,
 * and each range, turned into the reference's kind, must equal the reference's: widened to whole
 * UTF-8 characters (the reference reports a token holding part of a character with that
 * character's range) and, for Qwen2's NFC, narrowed off the input characters that NFC folded into
 * the one before (the reference gives a composed character the range of the input character it
 * was placed on only). Once with special-token texts read as plain text, once (on the strings
 * holding them) with special tokens matched. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "golden_file.h"
#include "io/bpe_internal.h"
#include "t2g/bpe.h"

static bool load(check_ctx *ctx, const char *name, golden_file *f) { return golden_load(ctx, "tokenizers", name, f); }

/* The UTF-8 character boundaries around byte i of text: its character's first byte. */
static uint32_t char_start(const unsigned char *text, uint32_t i) {
    while (i > 0 && (text[i] & 0xC0) == 0x80) i--;
    return i;
}
static uint32_t char_end(const unsigned char *text, uint32_t len, uint32_t i) {
    while (i < len && (text[i] & 0xC0) == 0x80) i++;
    return i;
}


/* placed[b]: whether the input character starting at byte b keeps its own range in the
 * reference: false for one that NFC folded into the character before (text between special
 * tokens is normalized on its own, as the reference does). All true without NFC. *changed
 * counts the strings NFC changes. */
static bool mark_placed(check_ctx *ctx, const t2g_bpe *bpe, const unsigned char *text, uint32_t len,
                        const uint32_t *ids, const t2g_token_span *spans, size_t count, bool nfc, bool parse_special,
                        bool *placed, uint32_t *changed) {
    bool any = false;
    for (uint32_t b = 0; b <= len; b++) placed[b] = true;
    for (size_t k = 0, segment = 0; nfc && k <= count; k++) {
        bool special = k < count && parse_special && t2g_bpe_is_special(bpe, ids[k]);
        if (k < count && !special) continue;
        uint32_t a = (uint32_t)segment, b = k < count ? spans[k].start : len;
        bpe_nfc_text n;
        if (!check_status(ctx, bpe_nfc((const char *)text + a, b - a, &n, &ctx->err), "NFC of a test string"))
            return false;
        any = any || n.text;
        for (uint32_t i = a; n.text && i < b; i++) placed[i] = false;
        for (uint32_t j = 0; n.text && j < n.len; j++)
            if (((unsigned char)n.text[j] & 0xC0) != 0x80) placed[a + n.from[j]] = true;
        bpe_nfc_free(&n);
        if (k < count) segment = spans[k].end;
    }
    *changed += any;
    return true;
}

/* The reference's range for the tiling byte range [start, end): from the first byte of start's
 * character to the end of the last character before end, each moved back to the character it
 * was folded into. */
static bool reference_range(const unsigned char *text, uint32_t len, const bool *placed, t2g_token_span span,
                            uint32_t expected_start, uint32_t expected_end) {
    uint32_t first = char_start(text, span.start < len ? span.start : len);
    uint32_t last = char_start(text, span.end ? span.end - 1 : 0);
    while (first > 0 && !placed[first]) first = char_start(text, first - 1);
    while (last > 0 && !placed[last]) last = char_start(text, last - 1);
    return first == expected_start && char_end(text, len, last + 1) == expected_end;
}

/* Whether the spans tile text[0..len) in order. */
static bool tiles(const t2g_token_span *spans, size_t count, uint32_t len) {
    uint32_t at = 0;
    for (size_t k = 0; k < count; k++) {
        if (spans[k].start != at || spans[k].end < at) return false;
        at = spans[k].end;
    }
    return at == len;
}

/* One expected file against the tokenizer; returns the strings compared. */
static uint32_t compare(check_ctx *ctx, const t2g_bpe *bpe, const golden_corpus *c, const char *name, bool nfc,
                        bool parse_special) {
    golden_file f;
    if (!load(ctx, name, &f)) return 0;
    uint32_t compared = 0, changed = 0, id_mismatches = 0, span_mismatches = 0;
    bool *placed = check_host(ctx, 65537 * sizeof *placed);
    if (check_true(ctx, golden_magic(&f, "t2gtoks1"), "%s begins with t2gtoks1", name)) {
        uint32_t records = golden_u32(&f);
        for (uint32_t r = 0; r < records && !f.bad; r++) {
            uint32_t index = golden_u16(&f), n = golden_u16(&f);
            const unsigned char *ids = golden_take(&f, 2 * (size_t)n), *starts = golden_take(&f, n), *ends = golden_take(&f, n);
            if (f.bad || !check_expect(ctx, index < c->count, "%s: record %u names string %u", name, r, index)) break;
            uint32_t *got = NULL;
            t2g_token_span *spans = NULL;
            size_t count = 0;
            const unsigned char *text = c->text[index];
            uint32_t len = c->len[index];
            if (!check_status(ctx, t2g_bpe_encode(bpe, (const char *)text, len, parse_special, &got, &spans, &count,
                                                  &ctx->err),
                              name) ||
                !mark_placed(ctx, bpe, text, len, got, spans, count, nfc, parse_special, placed, &changed))
                break;
            bool ids_same = count == n, spans_same = count == n && tiles(spans, count, len);
            for (uint32_t k = 0; ids_same && k < n; k++) ids_same = got[k] == (uint32_t)(ids[2 * k] | ids[2 * k + 1] << 8);
            for (uint32_t k = 0; ids_same && k < n; k++)
                spans_same = spans_same && reference_range(text, len, placed, spans[k], starts[k], ends[k]);
            if (!ids_same && id_mismatches++ < 3)
                check_fail(ctx, "%s: string %u (%u bytes): %zu ids, the reference %u, or they differ", name, index, len,
                           count, n);
            if (ids_same && !spans_same && span_mismatches++ < 3)
                check_fail(ctx, "%s: string %u: the byte ranges differ from the reference's or do not tile the text",
                           name, index);
            compared++;
            free(got);
            free(spans);
        }
        check_true(ctx, !f.bad, "%s is read whole", name);
    }
    check_log(ctx, "  %-26s %u strings (%u changed by NFC), %u with other ids, %u with other ranges", name, compared,
              changed, id_mismatches, span_mismatches);
    free(f.data);
    return compared;
}

static void golden_style(check_ctx *ctx, const golden_corpus *c, const char *style, bool nfc) {
    char path[4300], name[64];
    snprintf(path, sizeof path, "%s/tests/golden/tokenizers/%s/tokenizer.json", check_source_dir(), style);
    t2g_bpe *bpe = NULL;
    if (!check_status(ctx, t2g_bpe_load(path, &bpe, &ctx->err), path)) return;
    snprintf(name, sizeof name, "%s.plain.bin", style);
    uint32_t plain = compare(ctx, bpe, c, name, nfc, false);
    check_true(ctx, plain == c->count, "%s: all %u strings compared (%u)", name, c->count, plain);
    snprintf(name, sizeof name, "%s.special.bin", style);
    check_true(ctx, compare(ctx, bpe, c, name, nfc, true) > 0, "%s: its strings compared", name);
    t2g_bpe_free(bpe);
}

T2G_HOST_CHECK(bpe_golden) {
    check_case_begin(ctx);
    golden_file f;
    golden_corpus c;
    if (golden_load_corpus(ctx, &f, &c)) {
        golden_style(ctx, &c, "gpt2", false);
        golden_style(ctx, &c, "smollm2", false);
        golden_style(ctx, &c, "qwen2", true);
    }
    free(f.data);
    return ctx->failures;
}
