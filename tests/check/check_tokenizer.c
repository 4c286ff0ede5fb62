/* The byte-level tokenizer: ids and spans of random bytes, detokenizing around special
 * tokens, and the UTF-8 escape on every kind of invalid sequence (checked against a table of
 * cases, then on random bytes against an independent decoder and an unescape). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "t2g/tokenizer.h"


T2G_HOST_CHECK(tokenizer_roundtrip) {
    check_case_begin(ctx);
    for (int round = 0; round < 200; round++) {
        size_t len = round == 0 ? 0 : round == 1 ? 256 : check_random_below(ctx, 300);
        unsigned char *bytes = check_host(ctx, len + 1);
        for (size_t i = 0; i < len; i++)
            bytes[i] = round == 1 ? (unsigned char)i : (unsigned char)check_random_below(ctx, 256);
        uint32_t *ids = check_host(ctx, (2 * len + 2) * sizeof *ids);
        t2g_token_span *spans = check_host(ctx, (len + 1) * sizeof *spans);
        size_t n = t2g_tokenize((const char *)bytes, len, ids, spans);
        if (!check_expect(ctx, n == len, "tokenize: %zu tokens for %zu bytes", n, len)) return 1;
        for (size_t i = 0; i < len; i++)
            if (!check_expect(ctx, ids[i] == bytes[i] && spans[i].start == i && spans[i].end == i + 1,
                        "tokenize: token %zu is %u [%u, %u), expected byte %u [%zu, %zu)", i, ids[i], spans[i].start,
                        spans[i].end, bytes[i], i, i + 1))
                return 1;
        check_expect(ctx, t2g_tokenize((const char *)bytes, len, ids, NULL) == len, "tokenize without spans");

        /* Special tokens scattered among the bytes are left out by detokenize. */
        size_t m = 0;
        uint32_t *mixed = check_host(ctx, (2 * len + 2) * sizeof *mixed);
        mixed[m++] = T2G_TOKEN_BOS;
        for (size_t i = 0; i < len; i++) {
            if (check_random_below(ctx, 4) == 0)
                mixed[m++] = check_random_below(ctx, 2) ? T2G_TOKEN_PAD : T2G_TOKEN_EOS;
            mixed[m++] = ids[i];
        }
        mixed[m++] = T2G_TOKEN_EOS;
        size_t out_len = 12345;
        char *text = t2g_detokenize(mixed, m, &out_len);
        if (!check_expect(ctx, text != NULL, "detokenize returned NULL")) return 1;
        check_expect(ctx, out_len == len && memcmp(text, bytes, len) == 0 && text[len] == 0,
               "detokenize: %zu bytes back from %zu, expected the same bytes, NUL-terminated", out_len, len);
        free(text);
    }
    check_true(ctx, ctx->failures == 0,
               "200 random texts (0 to 300 bytes, and all 256 bytes): ids, spans, detokenize around BOS/EOS/PAD");
    check_true(ctx, strcmp(t2g_token_name(T2G_TOKEN_BOS), "<|bos|>") == 0, "name of BOS");
    check_true(ctx, strcmp(t2g_token_name(T2G_TOKEN_EOS), "<|eos|>") == 0, "name of EOS");
    check_true(ctx, strcmp(t2g_token_name(T2G_TOKEN_PAD), "<|pad|>") == 0, "name of PAD");
    check_true(ctx,
               !t2g_token_name(0) && !t2g_token_name('a') && !t2g_token_name(255) && !t2g_token_name(T2G_BYTE_VOCAB),
               "byte tokens and unknown ids have no name");
    check_true(ctx, T2G_BYTE_VOCAB == 259 && T2G_TOKEN_PAD < T2G_BYTE_VOCAB, "the vocabulary holds the special tokens");
    return ctx->failures;
}

typedef struct escape_case {
    const char *what;
    const char *in;
    size_t len; /* 0: strlen(in) */
    const char *out;
} escape_case;

static const escape_case CASES[] = {
    {"ASCII", "Ada is a chef.\n", 0, "Ada is a chef.\n"},
    {"empty", "", 0, ""},
    {"backslash", "a\\b\\", 0, "a\\\\b\\\\"},
    {"text that looks like an escape", "\\xC3", 0, "\\\\xC3"},
    {"NUL (valid, but it would end the C string)", "a\0b", 3, "a\\x00b"},
    {"2-byte U+00E9", "caf\xC3\xA9", 0, "caf\xC3\xA9"},
    {"2-byte U+0080, the smallest", "\xC2\x80", 0, "\xC2\x80"},
    {"3-byte U+20AC", "\xE2\x82\xAC", 0, "\xE2\x82\xAC"},
    {"3-byte U+0800, the smallest", "\xE0\xA0\x80", 0, "\xE0\xA0\x80"},
    {"3-byte U+D7FF, below the surrogates", "\xED\x9F\xBF", 0, "\xED\x9F\xBF"},
    {"3-byte U+E000, above the surrogates", "\xEE\x80\x80", 0, "\xEE\x80\x80"},
    {"3-byte U+FFFF", "\xEF\xBF\xBF", 0, "\xEF\xBF\xBF"},
    {"4-byte U+1F600", "\xF0\x9F\x98\x80", 0, "\xF0\x9F\x98\x80"},
    {"4-byte U+10000, the smallest", "\xF0\x90\x80\x80", 0, "\xF0\x90\x80\x80"},
    {"4-byte U+10FFFF, the largest", "\xF4\x8F\xBF\xBF", 0, "\xF4\x8F\xBF\xBF"},
    {"lone continuation byte", "a\x80z", 0, "a\\x80z"},
    {"continuation bytes in a row", "\xBF\x80", 0, "\\xBF\\x80"},
    {"2-byte lead at the end", "ab\xC3", 0, "ab\\xC3"},
    {"2-byte lead before ASCII", "\xC3z", 0, "\\xC3z"},
    {"3-byte sequence cut after 2", "\xE2\x82", 0, "\\xE2\\x82"},
    {"3-byte sequence cut, then a valid one", "\xE2\x82\xC3\xA9", 0, "\\xE2\\x82\xC3\xA9"},
    {"4-byte sequence cut after 3", "\xF0\x9F\x98z", 0, "\\xF0\\x9F\\x98z"},
    {"overlong 2-byte '/' (C0 AF)", "\xC0\xAF", 0, "\\xC0\\xAF"},
    {"overlong 2-byte (C1 BF)", "\xC1\xBF", 0, "\\xC1\\xBF"},
    {"overlong 3-byte '/' (E0 80 AF)", "\xE0\x80\xAF", 0, "\\xE0\\x80\\xAF"},
    {"overlong 3-byte U+07FF (E0 9F BF)", "\xE0\x9F\xBF", 0, "\\xE0\\x9F\\xBF"},
    {"overlong 4-byte '/' (F0 80 80 AF)", "\xF0\x80\x80\xAF", 0, "\\xF0\\x80\\x80\\xAF"},
    {"overlong 4-byte U+FFFF (F0 8F BF BF)", "\xF0\x8F\xBF\xBF", 0, "\\xF0\\x8F\\xBF\\xBF"},
    {"surrogate U+D800", "\xED\xA0\x80", 0, "\\xED\\xA0\\x80"},
    {"surrogate U+DFFF", "\xED\xBF\xBF", 0, "\\xED\\xBF\\xBF"},
    {"surrogate pair as CESU-8", "\xED\xA0\xBD\xED\xB8\x80", 0, "\\xED\\xA0\\xBD\\xED\\xB8\\x80"},
    {"U+110000, above the largest", "\xF4\x90\x80\x80", 0, "\\xF4\\x90\\x80\\x80"},
    {"lead F5 (beyond U+10FFFF)", "\xF5\x80\x80\x80", 0, "\\xF5\\x80\\x80\\x80"},
    {"bytes FE FF", "\xFE\xFF", 0, "\\xFE\\xFF"},
    {"5-byte form (F8)", "\xF8\x88\x80\x80\x80", 0, "\\xF8\\x88\\x80\\x80\\x80"},
    {"valid and invalid mixed", "\xC3\xA9\xFF\xE2\x82\xAC\\", 0, "\xC3\xA9\\xFF\xE2\x82\xAC\\\\"},
};

T2G_HOST_CHECK(tokenizer_escape_cases) {
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        const escape_case *e = &CASES[c];
        size_t len = e->len ? e->len : strlen(e->in);
        /* Continuation bytes after the end: a sequence cut by the end must not read them. */
        char in[64];
        memcpy(in, e->in, len);
        memset(in + len, 0x80, 4);
        char *out = t2g_utf8_escape(in, len);
        if (!check_expect(ctx, out != NULL, "%s: escape returned NULL", e->what)) continue;
        if (!check_true(ctx, strcmp(out, e->out) == 0, "escape: %s", e->what)) {
            /* Both escaped once more, to print them. */
            char *got = t2g_utf8_escape(out, strlen(out)), *want = t2g_utf8_escape(e->out, strlen(e->out));
            check_log(ctx, "    got      \"%s\"\n    expected \"%s\" (both escaped once more)", got, want);
            free(got);
            free(want);
        }
        free(out);
    }
    return ctx->failures;
}

/* ---- an independent UTF-8 validator: decode, then check the code point's range ---- */

/* The length of the valid sequence at s[0..n), or 0. */
static size_t decode_one(const unsigned char *s, size_t n) {
    size_t len;
    uint32_t cp, min;
    if (s[0] < 0x80) return 1;
    if ((s[0] & 0xE0) == 0xC0)
        len = 2, cp = s[0] & 0x1F, min = 0x80;
    else if ((s[0] & 0xF0) == 0xE0)
        len = 3, cp = s[0] & 0x0F, min = 0x800;
    else if ((s[0] & 0xF8) == 0xF0)
        len = 4, cp = s[0] & 0x07, min = 0x10000;
    else
        return 0;
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

static bool valid_utf8(const char *text, size_t n) {
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < n;) {
        size_t len = decode_one(s + i, n - i);
        if (len == 0 || s[i] == 0) return false;
        i += len;
    }
    return true;
}

static int hex_value(char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1; }

/* The inverse of the escape; the byte count, or -1 for a malformed escape. */
static long unescape(const char *in, unsigned char *out) {
    long n = 0;
    for (size_t i = 0; in[i];) {
        if (in[i] != '\\') {
            out[n++] = (unsigned char)in[i++];
        } else if (in[i + 1] == '\\') {
            out[n++] = '\\';
            i += 2;
        } else if (in[i + 1] == 'x' && hex_value(in[i + 2]) >= 0 && hex_value(in[i + 3]) >= 0) {
            out[n++] = (unsigned char)(hex_value(in[i + 2]) * 16 + hex_value(in[i + 3]));
            i += 4;
        } else
            return -1;
    }
    return n;
}

T2G_HOST_CHECK(tokenizer_escape_random) {
    /* Bytes biased towards UTF-8 structure (leads, continuations, the edge bytes), so that
     * valid, truncated, overlong and out-of-range sequences all turn up. */
    static const unsigned char interesting[] = {0x00, 0x5C, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2,
                                                0xDF, 0xE0, 0xE1, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF4, 0xF5, 0xFF};
    check_case_begin(ctx);
    size_t kept_multibyte = 0, escaped = 0;
    for (int round = 0; round < 3000; round++) {
        size_t len = check_random_below(ctx, 40);
        unsigned char *bytes = check_host(ctx, len + 4);
        memset(bytes + len, 0xBF, 4); /* continuation bytes past the end, never to be read */
        for (size_t i = 0; i < len; i++) {
            uint32_t r = check_random_below(ctx, 4);
            bytes[i] = r == 0   ? (unsigned char)('a' + check_random_below(ctx, 26))
                       : r == 1 ? interesting[check_random_below(ctx, sizeof interesting)]
                       : r == 2 ? (unsigned char)(0x80 + check_random_below(ctx, 64))
                                : (unsigned char)check_random_below(ctx, 256);
        }
        char *out = t2g_utf8_escape((const char *)bytes, len);
        if (!check_expect(ctx, out != NULL, "escape returned NULL")) return 1;
        size_t out_len = strlen(out);
        unsigned char *back = check_host(ctx, out_len + 1);
        long back_len = unescape(out, back);
        bool valid = valid_utf8(out, out_len);
        bool same = back_len == (long)len && memcmp(back, bytes, len) == 0;
        /* Every valid sequence of the input must be kept: it is an invalid byte exactly when
         * the escape wrote \xHH for it. */
        size_t expected_escapes = 0;
        for (size_t i = 0; i < len;) {
            size_t n = bytes[i] ? decode_one(bytes + i, len - i) : 0;
            if (n == 0)
                expected_escapes++, i++;
            else
                kept_multibyte += n > 1, i += n;
        }
        size_t escapes = 0;
        for (size_t i = 0; i + 1 < out_len; i++) {
            if (out[i] == '\\' && out[i + 1] == 'x') escapes++;
            if (out[i] == '\\') i++;
        }
        escaped += escapes;
        if (!check_expect(ctx, valid && same && escapes == expected_escapes,
                    "round %d: escape of %zu random bytes: %s, %s, %zu escapes (expected %zu)", round, len,
                    valid ? "valid UTF-8" : "NOT valid UTF-8",
                    same ? "unescapes to the input" : "does NOT unescape to the input", escapes, expected_escapes)) {
            free(out);
            return 1;
        }
        free(out);
    }
    check_true(ctx, ctx->failures == 0,
               "3000 random byte strings: valid UTF-8 out, unescaped back, exactly the invalid bytes escaped");
    check_true(ctx, kept_multibyte > 100 && escaped > 1000,
               "the random inputs covered both kinds (%zu kept, %zu escaped)", kept_multibyte, escaped);
    return ctx->failures;
}
