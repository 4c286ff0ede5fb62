/* The byte-level BPE tokenizer (include/t2g/bpe.h) on hand-written tokenizer.json files: a
 * GPT-2-style one (ByteLevel pre-tokenizer, "a b" merges) and a SmolLM2-style one (Digits
 * individual + ByteLevel, ["a", "b"] merges), with ids worked out by hand; spans tiling the
 * text, decode(encode(x)) == x and streaming decode on random texts; special tokens only with
 * the flag; Split's behaviors; and a table of bad files, each with the message it must give. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "t2g/bpe.h"

/* GPT-2's byte alphabet, written out independently of src/io: printing bytes stand for
 * themselves, the others take U+0100 up in byte order. */
static void byte_char_utf8(unsigned b, char out[3]) {
    bool prints = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
    unsigned cp = b;
    if (!prints) {
        cp = 256;
        for (unsigned c = 0; c < b; c++) cp += !((c >= 33 && c <= 126) || (c >= 161 && c <= 172) || c >= 174);
    }
    if (cp < 0x80) out[0] = (char)cp, out[1] = 0;
    else out[0] = (char)(0xC0 | cp >> 6), out[1] = (char)(0x80 | (cp & 0x3F)), out[2] = 0;
}

/* The parts of a tokenizer.json; NULL takes the GPT-2-style default. */
typedef struct tok_parts {
    const char *type, *model_extra, *vocab_extra, *merges, *added, *pre, *normalizer, *decoder;
    int skip_byte; /* a byte left out of the vocab, or -1 (0 means none too: byte 0 is always there) */
} tok_parts;

/* Ids 0-255 are the bytes (id b: byte b); 256-263 the merges below, in rank order. */
static const char GPT2_MERGES[] = "[\"\xC4\xA0 t\", \"h e\", \"\xC4\xA0t he\", \"' s\", \"l l\", \"\xC3\x83 \xC2\xA9\", "
                                  "\"\xC3\xB0 \xC5\x81\", \"1 2\"]";
static const char SMOL_MERGES[] = "[[\"\xC4\xA0\", \"t\"], [\"h\", \"e\"], [\"\xC4\xA0t\", \"he\"], [\"'\", \"s\"], "
                                  "[\"l\", \"l\"], [\"\xC3\x83\", \"\xC2\xA9\"], [\"\xC3\xB0\", \"\xC5\x81\"], [\"1\", \"2\"]]";
static const char MERGED_VOCAB[] = ", \"\xC4\xA0t\": 256, \"he\": 257, \"\xC4\xA0the\": 258, \"'s\": 259, \"ll\": 260, "
                                   "\"\xC3\x83\xC2\xA9\": 261, \"\xC3\xB0\xC5\x81\": 262, \"12\": 263, "
                                   "\"<|endoftext|>\": 264";
static const char GPT2_ADDED[] = "[{\"id\": 264, \"content\": \"<|endoftext|>\", \"single_word\": false, \"lstrip\": false, "
                                 "\"rstrip\": false, \"normalized\": false, \"special\": true}]";
static const char BYTE_LEVEL[] = "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, "
                                 "\"use_regex\": true}";

static char *tokenizer_json(check_ctx *ctx, tok_parts p) {
    char *vocab = check_host(ctx, 8192);
    size_t k = 0;
    vocab[k++] = '{';
    for (unsigned b = 0; b < 256; b++) {
        if (p.skip_byte > 0 && (unsigned)p.skip_byte == b) continue;
        char c[3];
        byte_char_utf8(b, c);
        const char *escape = c[0] == '"' || c[0] == '\\' ? "\\" : "";
        k += (size_t)snprintf(vocab + k, 8192 - k, "%s\"%s%s\": %u", k > 1 ? ", " : "", escape, c, b);
    }
    char *json = check_host(ctx, 16384);
    snprintf(json, 16384,
             "{\"version\": \"1.0\", \"truncation\": null, \"padding\": null, \"added_tokens\": %s, \"normalizer\": %s, "
             "\"pre_tokenizer\": %s, \"post_processor\": null, \"decoder\": %s, \"model\": {\"type\": \"%s\", "
             "\"dropout\": null, \"unk_token\": null, %s\"vocab\": %s%s%s}, \"merges\": %s}}",
             p.added ? p.added : GPT2_ADDED, p.normalizer ? p.normalizer : "null", p.pre ? p.pre : BYTE_LEVEL,
             p.decoder ? p.decoder : BYTE_LEVEL, p.type ? p.type : "BPE", p.model_extra ? p.model_extra : "", vocab,
             MERGED_VOCAB, p.vocab_extra ? p.vocab_extra : "", p.merges ? p.merges : GPT2_MERGES);
    return json;
}

/* Writes the json to a temporary file and loads it; *path (for messages) is check_host memory. */
static t2g_status load_json(check_ctx *ctx, const char *json, t2g_bpe **bpe, char **path) {
    const char *dir = getenv("TMPDIR");
    *path = check_host(ctx, 512);
    snprintf(*path, 512, "%s/t2g-bpe-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(*path);
    size_t len = strlen(json);
    if (fd < 0 || write(fd, json, len) != (ssize_t)len) {
        if (fd >= 0) close(fd);
        return t2g_fail(&ctx->err, T2G_ERR_IO, "cannot write %s", *path);
    }
    close(fd);
    t2g_status status = t2g_bpe_load(*path, bpe, &ctx->err);
    unlink(*path);
    return status;
}

static t2g_bpe *load_parts(check_ctx *ctx, tok_parts parts) {
    t2g_bpe *bpe = NULL;
    char *path;
    if (!check_status(ctx, load_json(ctx, tokenizer_json(ctx, parts), &bpe, &path), "load the tokenizer")) return NULL;
    return bpe;
}

typedef struct known_case {
    const char *text;
    bool parse_special;
    uint32_t ids[16];
    size_t count;
    uint32_t ends[16]; /* each token's end byte; starts follow from tiling */
} known_case;

/* Encodes each case, compares ids and spans, and decodes back. */
static void check_known(check_ctx *ctx, const t2g_bpe *bpe, const char *which, const known_case *cases, size_t n) {
    for (size_t c = 0; c < n; c++) {
        const known_case *k = &cases[c];
        uint32_t *ids;
        t2g_token_span *spans;
        size_t count;
        if (!check_status(ctx, t2g_bpe_encode(bpe, k->text, strlen(k->text), k->parse_special, &ids, &spans, &count,
                                              &ctx->err),
                          "encode"))
            continue;
        bool same = count == k->count;
        for (size_t i = 0; same && i < count; i++)
            same = ids[i] == k->ids[i] && spans[i].end == k->ends[i] && spans[i].start == (i ? k->ends[i - 1] : 0);
        char got[512] = "";
        for (size_t i = 0, w = 0; i < count && w < sizeof got - 32; i++)
            w += (size_t)snprintf(got + w, sizeof got - w, " %u[%u,%u)", ids[i], spans[i].start, spans[i].end);
        check_true(ctx, same, "%s: \"%s\"%s: %zu tokens:%s", which, k->text, k->parse_special ? " (special)" : "", count,
                   got);
        char *bytes;
        size_t len;
        if (check_status(ctx, t2g_bpe_decode(bpe, ids, count, false, &bytes, &len, &ctx->err), "decode")) {
            check_expect(ctx, len == strlen(k->text) && memcmp(bytes, k->text, len) == 0, "%s: decode(encode(\"%s\"))",
                         which, k->text);
            free(bytes);
        }
        free(ids);
        free(spans);
    }
}

/* Streams ids through t2g_bpe_stream_next: true when every chunk is whole UTF-8 characters and
 * the chunks, then the held bytes, make text[0..len). */
static bool stream_gives(const t2g_bpe *bpe, const uint32_t *ids, size_t count, const char *text, size_t len) {
    t2g_bpe_stream stream = {0};
    size_t at = 0;
    bool ok = true;
    for (size_t i = 0; ok && i < count; i++) {
        char *bytes;
        size_t n;
        t2g_error err;
        if (t2g_bpe_stream_next(bpe, &stream, ids[i], false, &bytes, &n, &err) != T2G_OK) return false;
        for (size_t k = 0; ok && k < n;) {
            size_t step = 1;
            unsigned char lead = (unsigned char)bytes[k];
            if (lead >= 0xC0) step = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
            ok = (lead & 0xC0) != 0x80 && k + step <= n;
            k += step;
        }
        ok = ok && at + n <= len && memcmp(text + at, bytes, n) == 0;
        at += n;
        free(bytes);
    }
    char held[4];
    size_t n = t2g_bpe_stream_finish(&stream, held);
    return ok && at + n == len && memcmp(text + at, held, n) == 0;
}

T2G_HOST_CHECK(bpe_gpt2) {
    check_case_begin(ctx);
    t2g_bpe *bpe = load_parts(ctx, (tok_parts){0});
    if (!bpe) return 1;
    check_true(ctx, t2g_bpe_vocab_size(bpe) == 265, "vocab size %u, expected 265", t2g_bpe_vocab_size(bpe));
    check_true(ctx, t2g_bpe_token_id(bpe, "<|endoftext|>") == 264 && t2g_bpe_token_id(bpe, "\xC4\xA0the") == 258 &&
                        t2g_bpe_token_id(bpe, "nope") == -1 && t2g_bpe_is_special(bpe, 264) && !t2g_bpe_is_special(bpe, 258),
               "token_id and is_special");
    /* "the": t h e -> t he (no merge "t he"); " cat": no merges; "'s": one. " the": (Ġ t) rank 0,
     * (h e) rank 1, (Ġt he) rank 2. "café": é = C3 A9 = "Ã©"; " 😀" = F0 9F 98 80 -> ð Ł ĺ Ģ, of
     * which "ðŁ" merges: a token holding part of a character. "x  123": GPT-2's regex gives
     * "x", " " (\s+(?!\S)), " 123", and "12" merges. */
    static const known_case cases[] = {
        {"the cat's", false, {116, 257, 32, 99, 97, 116, 259}, 7, {1, 3, 4, 5, 6, 7, 9}},
        {" the hello", false, {258, 32, 257, 260, 111}, 5, {4, 5, 7, 9, 10}},
        {"caf\xC3\xA9 \xF0\x9F\x98\x80", false, {99, 97, 102, 261, 32, 262, 152, 128}, 8, {1, 2, 3, 5, 6, 8, 9, 10}},
        {"x  123", false, {120, 32, 32, 263, 51}, 5, {1, 2, 3, 5, 6}},
        {"hi<|endoftext|>", true, {104, 105, 264}, 3, {1, 2, 15}},
        {"<|endoftext|><|endoftext|>", true, {264, 264}, 2, {13, 26}},
        {"a\n\n b", false, {97, 10, 10, 32, 98}, 5, {1, 2, 3, 4, 5}},
        /* repeated words: the second " hello" comes from the word cache, spans shifted */
        {"hello hello hello", false, {257, 260, 111, 32, 257, 260, 111, 32, 257, 260, 111}, 11,
         {2, 4, 5, 6, 8, 10, 11, 12, 14, 16, 17}},
        {"", false, {0}, 0, {0}},
    };
    check_known(ctx, bpe, "gpt2", cases, sizeof cases / sizeof cases[0]);

    /* Without the flag the special token's text is ordinary text: "<|", "endoftext", "|>". */
    uint32_t *ids;
    size_t count;
    const char *text = "hi<|endoftext|>";
    if (check_status(ctx, t2g_bpe_encode(bpe, text, strlen(text), false, &ids, NULL, &count, &ctx->err), "encode")) {
        bool has_special = false;
        for (size_t i = 0; i < count; i++) has_special |= ids[i] == 264;
        check_true(ctx, count == 15 && !has_special, "without parse_special: %zu tokens, none 264 (expected 15)", count);
        free(ids);
    }
    uint32_t mixed[] = {104, 264, 105, 264};
    char *bytes;
    size_t len;
    if (check_status(ctx, t2g_bpe_decode(bpe, mixed, 4, true, &bytes, &len, &ctx->err), "decode")) {
        check_true(ctx, len == 2 && strcmp(bytes, "hi") == 0, "decode with skip_special leaves out <|endoftext|>");
        free(bytes);
    }
    /* " 😀c": the emoji's bytes F0 9F | 98 | 80 come in three tokens; nothing of it is let out
     * until the last. */
    static const uint32_t emoji[] = {32, 262, 152, 128, 99};
    static const size_t expect_len[] = {1, 0, 0, 4, 1};
    t2g_bpe_stream stream = {0};
    bool chunks = true;
    for (size_t i = 0; i < 5; i++) {
        if (!check_status(ctx, t2g_bpe_stream_next(bpe, &stream, emoji[i], false, &bytes, &len, &ctx->err), "stream")) break;
        chunks &= len == expect_len[i] && strlen(bytes) == len;
        free(bytes);
    }
    char held[4];
    check_true(ctx, chunks && t2g_bpe_stream_finish(&stream, held) == 0, "stream decode holds back a split emoji");
    check_true(ctx, t2g_bpe_stream_next(bpe, &stream, 262, false, &bytes, &len, &ctx->err) == T2G_OK && len == 0 &&
                        t2g_bpe_stream_finish(&stream, held) == 2 && (unsigned char)held[0] == 0xF0,
               "stream finish gives back the held bytes of an unfinished character");
    free(bytes);
    uint32_t bad_id = 265;
    check_true(ctx, t2g_bpe_decode(bpe, &bad_id, 1, false, &bytes, &len, &ctx->err) == T2G_ERR_ARGUMENT,
               "decode refuses an id at the vocab size");
    const char invalid[] = "ok\xC3\x28";
    t2g_status status = t2g_bpe_encode(bpe, invalid, 4, false, &ids, NULL, &count, &ctx->err);
    check_true(ctx, status == T2G_ERR_FORMAT && strstr(ctx->err.message, "at byte 2"),
               "invalid UTF-8 refused at its byte offset: %s", ctx->err.message);
    t2g_bpe_free(bpe);
    return ctx->failures;
}

T2G_HOST_CHECK(bpe_smollm2) {
    check_case_begin(ctx);
    char pre[512];
    snprintf(pre, sizeof pre,
             "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Digits\", \"individual_digits\": true}, %s]}",
             BYTE_LEVEL);
    static const char added[] =
        "[{\"id\": 264, \"content\": \"<|endoftext|>\", \"special\": true}, "
        "{\"id\": 265, \"content\": \"<|im_start|>\", \"special\": true}, "
        "{\"id\": 266, \"content\": \"<|im\", \"special\": false}]";
    t2g_bpe *bpe = load_parts(ctx, (tok_parts){.merges = SMOL_MERGES, .pre = pre, .added = added,
                                               .normalizer = "{\"type\": \"Sequence\", \"normalizers\": []}"});
    if (!bpe) return 1;
    check_true(ctx, t2g_bpe_vocab_size(bpe) == 267, "vocab size %u, expected 267", t2g_bpe_vocab_size(bpe));
    /* Digits first: "x  " "1" "2" "3", then ByteLevel's regex splits "x  " into "x", "  ". The
     * longest added token wins ("<|im_start|>" over "<|im"); "<|im" is not special, so it is
     * split out even without the flag. */
    static const known_case cases[] = {
        {"x  123", false, {120, 32, 32, 49, 50, 51}, 6, {1, 2, 3, 4, 5, 6}},
        {" the 12", false, {258, 32, 49, 50}, 4, {4, 5, 6, 7}},
        {"<|im_start|>he", true, {265, 257}, 2, {12, 14}},
        {"<|im_start|>he", false, {266, 95, 115, 116, 97, 114, 116, 124, 62, 257}, 10, {4, 5, 6, 7, 8, 9, 10, 11, 12, 14}},
        {"\xC3\xA9\xC3\xA9", false, {261, 261}, 2, {2, 4}},
    };
    check_known(ctx, bpe, "smollm2", cases, sizeof cases / sizeof cases[0]);

    /* Random texts from pieces that exercise every path: spans tile, decode gives the text back. */
    static const char *parts[] = {"the", " ", "'s", "\xC3\xA9", "\xF0\x9F\x98\x80", "12", "\n", "<|im_start|>", "x",
                                  "<|im", "  ", "9", "ll", "\xE4\xB8\xAD", "!?"};
    int bad = 0;
    for (int round = 0; round < 300 && bad < 3; round++) {
        char text[256];
        size_t len = 0;
        for (uint32_t n = check_random_below(ctx, 12); n > 0; n--) {
            const char *p = parts[check_random_below(ctx, sizeof parts / sizeof parts[0])];
            memcpy(text + len, p, strlen(p));
            len += strlen(p);
        }
        bool special = round % 2;
        uint32_t *ids;
        t2g_token_span *spans;
        size_t count;
        if (!check_status(ctx, t2g_bpe_encode(bpe, text, len, special, &ids, &spans, &count, &ctx->err), "encode")) break;
        bool tiles = count ? spans[0].start == 0 && spans[count - 1].end == len : len == 0;
        for (size_t i = 0; i < count; i++) tiles &= spans[i].start < spans[i].end && (!i || spans[i].start == spans[i - 1].end);
        char *bytes;
        size_t out_len;
        bool same = false;
        if (check_status(ctx, t2g_bpe_decode(bpe, ids, count, false, &bytes, &out_len, &ctx->err), "decode")) {
            same = out_len == len && memcmp(bytes, text, len) == 0;
            free(bytes);
        }
        bool streamed = stream_gives(bpe, ids, count, text, len);
        bad += !check_expect(ctx, tiles && same && streamed,
                             "random text %d (%zu bytes): spans tile %d, decode(encode) same %d, streamed %d", round, len,
                             tiles, same, streamed);
        free(ids);
        free(spans);
    }
    check_true(ctx, bad == 0, "300 random texts: spans tile the text, decode(encode(x)) == x, streamed in whole characters");
    t2g_bpe_free(bpe);
    return ctx->failures;
}

T2G_HOST_CHECK(bpe_split_behaviors) {
    check_case_begin(ctx);
    /* Split on "-" of "a-b--c" with each behavior. ignore_merges and a vocab holding every
     * possible piece whole make each piece one token, so the spans show the pieces. */
    static const struct {
        const char *behavior;
        bool invert;
        uint32_t count;
        uint32_t ends[8];
    } cases[] = {
        {"Isolated", false, 6, {1, 2, 3, 4, 5, 6}},           /* a - b - - c */
        {"Removed", false, 3, {1, 3, 6}},                     /* a b c */
        {"MergedWithPrevious", false, 4, {2, 4, 5, 6}},       /* a- b- - c */
        {"MergedWithNext", false, 4, {1, 3, 4, 6}},           /* a -b - -c */
        {"Contiguous", false, 5, {1, 2, 3, 5, 6}},            /* a - b -- c */
        {"MergedWithPrevious", true, 4, {1, 3, 4, 6}},        /* a -b - -c */
        {"Removed", true, 3, {2, 4, 5}},                      /* - - - */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char pre[256];
        snprintf(pre, sizeof pre,
                 "{\"type\": \"Split\", \"pattern\": {\"String\": \"-\"}, \"behavior\": \"%s\", \"invert\": %s}",
                 cases[c].behavior, cases[c].invert ? "true" : "false");
        t2g_bpe *bpe = load_parts(ctx, (tok_parts){.pre = pre, .model_extra = "\"ignore_merges\": true, ",
                                                   .vocab_extra = ", \"a-\": 265, \"b-\": 266, \"-b\": 267, "
                                                                  "\"-c\": 268, \"--\": 269"});
        if (!bpe) return 1;
        uint32_t *ids;
        t2g_token_span *spans;
        size_t count;
        if (check_status(ctx, t2g_bpe_encode(bpe, "a-b--c", 6, false, &ids, &spans, &count, &ctx->err), "encode")) {
            bool same = count == cases[c].count;
            char got[128] = "";
            for (size_t i = 0, w = 0; i < count && w < sizeof got - 16; i++)
                w += (size_t)snprintf(got + w, sizeof got - w, " [%u,%u)", spans[i].start, spans[i].end);
            for (size_t i = 0; same && i < count; i++) same = spans[i].end == cases[c].ends[i];
            check_true(ctx, same, "Split \"-\" %s%s: %zu tokens:%s", cases[c].behavior,
                       cases[c].invert ? " (invert)" : "", count, got);
            free(ids);
            free(spans);
        }
        t2g_bpe_free(bpe);
    }
    return ctx->failures;
}

typedef struct bad_file {
    tok_parts parts;
    const char *message; /* after "FILE: " */
} bad_file;

T2G_HOST_CHECK(bpe_bad_files) {
    check_case_begin(ctx);
    static const bad_file cases[] = {
        {{.pre = "{\"type\": \"Metaspace\", \"replacement\": \"_\"}"},
         "pre_tokenizer type \"Metaspace\" is not supported (SentencePiece-style tokenizers come later)"},
        {{.pre = "{\"type\": \"Whitespace\"}"}, "pre_tokenizer type \"Whitespace\" is not supported"},
        {{.pre = "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Digits\"}, {\"type\": \"Punctuation\"}]}"},
         "pre_tokenizer.pretokenizers[1] type \"Punctuation\" is not supported"},
        {{.pre = "{\"type\": \"ByteLevel\", \"add_prefix_space\": true}"}, "pre_tokenizer.add_prefix_space true is not supported"},
        {{.pre = "{\"type\": \"ByteLevel\"}"}, "pre_tokenizer: add_prefix_space (given) and use_regex must be true or false"},
        {{.pre = "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": 1}"},
         "pre_tokenizer: add_prefix_space (given) and use_regex must be true or false"},
        {{.pre = "{\"type\": \"Split\", \"pattern\": {\"Regex\": \"(\"}, \"behavior\": \"Isolated\"}"},
         "pre_tokenizer: the regex does not compile"},
        {{.pre = "{\"type\": \"Split\", \"pattern\": {\"Regex\": \"a\"}, \"behavior\": \"Bogus\"}"},
         "pre_tokenizer.behavior \"Bogus\" is not supported"},
        {{.type = "WordPiece"}, "model type \"WordPiece\" is not supported (only BPE)"},
        {{.type = "Unigram"}, "model type \"Unigram\" is not supported (only BPE)"},
        {{.model_extra = "\"byte_fallback\": true, "}, "model.byte_fallback true is not supported"},
        {{.model_extra = "\"continuing_subword_prefix\": \"##\", "}, "model.continuing_subword_prefix is not supported"},
        {{.normalizer = "{\"type\": \"NFD\"}"}, "normalizer type \"NFD\" is not supported (null, NFC or a Sequence of NFC)"},
        {{.normalizer = "{\"type\": \"Sequence\", \"normalizers\": [{\"type\": \"NFC\"}, {\"type\": \"Lowercase\"}]}"},
         "normalizer.normalizers[1] type \"Lowercase\" is not supported"},
        {{.normalizer = "{\"type\": \"NFC\"}",
          .added = "[{\"id\": 264, \"content\": \"<|endoftext|>\", \"normalized\": true, \"special\": true}]"},
         "added_tokens[0].normalized true is not supported with the NFC normalizer"},
        {{.normalizer = "{\"type\": \"NFC\"}", .added = "[{\"id\": 264, \"content\": \"<|endoftext|>\"}]"},
         "added_tokens[0].normalized true is not supported with the NFC normalizer"},
        {{.normalizer = "{\"type\": \"Lowercase\"}"}, "normalizer type \"Lowercase\" is not supported"},
        {{.decoder = "{\"type\": \"WordPiece\"}"}, "decoder type \"WordPiece\" is not supported (only ByteLevel)"},
        {{.merges = "[\"\xC4\xA0 zz\"]"}, "model.merges[0]: \"zz\" is not in the vocab"},
        {{.merges = "[\"h e\", \"a b\"]"}, "model.merges[1]: \"ab\" is not in the vocab"},
        {{.merges = "[\"abc\"]"}, "model.merges[0]: expected \"a b\" or [\"a\", \"b\"]"},
        {{.merges = "[[\"a\"]]"}, "model.merges[0]: expected"},
        {{.merges = "{}"}, "model.merges: expected an array"},
        {{.vocab_extra = ", \"hello\": 97"}, "model.vocab: id 97 is given to both"},
        {{.vocab_extra = ", \"a\": 265"}, "model.vocab: \"a\" appears twice (ids 97 and 265)"},
        {{.vocab_extra = ", \"zz\": 300"}, "model.vocab: id 265 has no token"},
        {{.vocab_extra = ", \"zz\": -1"}, "model.vocab[\"zz\"]: expected an id from 0 to"},
        {{.vocab_extra = ", \"zz\": 1.5"}, "model.vocab[\"zz\"]: expected an id from 0 to"},
        {{.vocab_extra = ", \"zz\": 99999999999"}, "model.vocab[\"zz\"]: expected an id from 0 to"},
        {{.vocab_extra = ", \"\xE4\xB8\xAD\": 265"}, "model.vocab[\"\xE4\xB8\xAD\"] (id 265) holds a character outside"},
        {{.added = "[{\"id\": 264, \"content\": \"<|endoftext|>\", \"lstrip\": true}]"},
         "added_tokens[0].lstrip true is not supported"},
        {{.added = "[{\"id\": 264}]"}, "added_tokens[0]: expected an id"},
        {{.added = "[{\"id\": 264, \"content\": \"other\"}]"}, "id 264 is given to both"},
        {{.added = "{}"}, "added_tokens: expected an array"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        t2g_bpe *bpe = NULL;
        char *path;
        t2g_status status = load_json(ctx, tokenizer_json(ctx, cases[c].parts), &bpe, &path);
        size_t path_len = strlen(path);
        bool named = strncmp(ctx->err.message, path, path_len) == 0 && strncmp(ctx->err.message + path_len, ": ", 2) == 0;
        check_true(ctx, status != T2G_OK && !bpe && named && strstr(ctx->err.message, cases[c].message),
                   "bad file %zu: \"%s\" (got \"%s\")", c, cases[c].message, status == T2G_OK ? "ok" : ctx->err.message);
        t2g_bpe_free(bpe);
    }
    t2g_bpe *bpe = NULL;
    check_true(ctx, t2g_bpe_parse("{\"model\":", 9, "x.json", &bpe, &ctx->err) == T2G_ERR_FORMAT &&
                        strcmp(ctx->err.message, "x.json: not valid JSON") == 0,
               "truncated JSON: %s", ctx->err.message);
    check_true(ctx, t2g_bpe_parse("{}", 2, "x.json", &bpe, &ctx->err) == T2G_ERR_FORMAT &&
                        strcmp(ctx->err.message, "x.json: model: expected an object") == 0,
               "no model: %s", ctx->err.message);
    return ctx->failures;
}
