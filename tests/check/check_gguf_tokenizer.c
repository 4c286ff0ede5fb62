/* Tokenizers read from a GGUF file's metadata (t2g_gguf_tokenizer_files): GGUF files made with
 * t2g's writer from the golden GPT-2, SmolLM2 and Qwen2 style tokenizers (their tokens, token
 * types, merges and llama.cpp's pre-tokenizer name for each) must, through t2g_text_parse, give
 * the ids Hugging Face `tokenizers` gave for all 10,000 golden strings (tests/golden/tokenizers/),
 * with special-token texts as plain text and matched; added tokens of each type, ids and
 * defaults; and every broken file refused naming its key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "check/gguf_tokenizer_files.h"
#include "check/gguf_write_cases.h"
#include "golden_file.h"
#include "t2g/gguf_tokenizer.h"
#include "t2g/text.h"

/* SmolLM2-135M-Instruct's tokenizer.chat_template (docs/smollm2-gguf.md). */
static const char SMOLLM2_TEMPLATE[] =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\n"
    "You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";


/* The GGUF at path through t2g_gguf_tokenizer_files and t2g_text_parse. */
static t2g_status gguf_text(const char *path, t2g_text **text, t2g_error *err) {
    t2g_gguf *file = NULL;
    char *tokenizer = NULL, *config = NULL;
    *text = NULL;
    t2g_status status = t2g_gguf_open(path, &file, err);
    if (!status) status = t2g_gguf_tokenizer_files(file, &tokenizer, &config, err);
    if (!status) status = t2g_text_parse(tokenizer, strlen(tokenizer), config, strlen(config), path, text, err);
    free(tokenizer);
    free(config);
    t2g_gguf_close(file);
    return status;
}

/* The ids of one expected file (NAME.plain.bin or NAME.special.bin); returns the strings whose
 * ids are identical. */
static uint32_t same_ids(check_ctx *ctx, const t2g_text *text, const golden_corpus *c, const char *name, bool parse_special,
                         uint32_t *records) {
    golden_file f;
    uint32_t same = 0, shown = 0;
    *records = 0;
    if (!golden_load(ctx, "tokenizers", name, &f)) return 0;
    if (check_true(ctx, golden_magic(&f, "t2gtoks1"), "%s begins with t2gtoks1", name)) *records = golden_u32(&f);
    for (uint32_t r = 0; r < *records && !f.bad; r++) {
        uint32_t index = golden_u16(&f), n = golden_u16(&f);
        const unsigned char *ids = golden_take(&f, 2 * (size_t)n);
        golden_take(&f, 2 * (size_t)n); /* the byte ranges: check_bpe_golden.c compares those */
        if (f.bad || !check_expect(ctx, index < c->count, "%s: record %u names string %u", name, r, index)) break;
        uint32_t *got = NULL;
        size_t count = 0;
        if (!check_status(ctx, t2g_text_encode(text, (const char *)c->text[index], c->len[index], parse_special, &got,
                                               NULL, &count, &ctx->err),
                          name))
            break;
        bool equal = count == n;
        for (uint32_t k = 0; equal && k < n; k++) equal = got[k] == (uint32_t)(ids[2 * k] | ids[2 * k + 1] << 8);
        same += equal;
        if (!equal && shown++ < 3) check_fail(ctx, "%s: string %u: %zu ids, the reference %u, or they differ", name, index, count, n);
        free(got);
    }
    check_true(ctx, !f.bad, "%s is read whole", name);
    free(f.data);
    return same;
}

typedef struct style_case {
    const char *style, *pre;
    int64_t bos, eos, pad;
    const char *chat_template;
    t2g_chat_format chat; /* what "auto" finds */
} style_case;

static void golden_style(check_ctx *ctx, const golden_corpus *c, const char *dir, const style_case *s) {
    gguf_tok tok;
    char path[600];
    snprintf(path, sizeof path, "%s/%s.gguf", dir, s->style);
    const gguf_tok_file how = {"gpt2", s->pre, s->bos, s->eos, s->pad, s->chat_template, false, false, 0};
    t2g_text *text = NULL;
    if (!gguf_tok_golden(ctx, s->style, 0, &tok) || !gguf_tok_write(ctx, path, &tok, &how) ||
        !check_status(ctx, gguf_text(path, &text, &ctx->err), path)) {
        remove(path);
        return;
    }
    char name[64];
    uint32_t records;
    snprintf(name, sizeof name, "%s.plain.bin", s->style);
    uint32_t same = same_ids(ctx, text, c, name, false, &records);
    check_true(ctx, records == c->count && same == records, "%s (pre %s): %u of %u strings give the reference's ids",
               name, s->pre, same, records);
    snprintf(name, sizeof name, "%s.special.bin", s->style);
    same = same_ids(ctx, text, c, name, true, &records);
    check_true(ctx, records > 0 && same == records, "%s, specials matched: %u of %u strings give the reference's ids",
               name, same, records);
    int64_t bos, eos, pad;
    t2g_text_special_ids(text, &bos, &eos, &pad);
    check_true(ctx, bos == s->bos && eos == s->eos && pad == s->pad && t2g_text_vocab(text) == tok.count &&
                        t2g_text_bos(text) == -1,
               "%s: BOS %lld, EOS %lld, PAD %lld (the file's), %u tokens, no BOS added (gpt2 default)", s->style,
               (long long)bos, (long long)eos, (long long)pad, t2g_text_vocab(text));
    char chosen[256];
    check_true(ctx, check_status(ctx, t2g_text_set_chat(text, "auto", "", chosen, sizeof chosen, &ctx->err), "auto chat") &&
                        t2g_text_chat(text) == s->chat,
               "%s: the chat template found is %s", s->style, t2g_chat_format_name(s->chat));
    t2g_text_free(text);
    remove(path);
}

T2G_HOST_CHECK(gguf_tokenizer_golden) {
    check_case_begin(ctx);
    golden_file f = {0};
    golden_corpus c;
    char dir[512];
    if (golden_load_corpus(ctx, &f, &c) && gguf_scratch_dir(ctx, dir, sizeof dir)) {
        const style_case cases[] = {
            {"gpt2", "gpt-2", 1499, 1499, -1, NULL, T2G_CHAT_NONE},
            {"smollm2", "smollm", 1, 2, 2, SMOLLM2_TEMPLATE, T2G_CHAT_CHATML},
            {"qwen2", "qwen2", -1, 1499, 1497, NULL, T2G_CHAT_NONE},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) golden_style(ctx, &c, dir, &cases[i]);
        check_true(ctx, gguf_remove_scratch(dir), "nothing else was left in %s", dir);
    }
    free(f.data);
    return ctx->failures;
}

static bool encodes_to(check_ctx *ctx, const t2g_text *text, const char *s, bool parse_special, const uint32_t *want,
                       size_t n) {
    uint32_t *ids = NULL;
    size_t count = 0;
    bool same = check_status(ctx, t2g_text_encode(text, s, strlen(s), parse_special, &ids, NULL, &count, &ctx->err), s) &&
                count == n && (n == 0 || memcmp(ids, want, n * sizeof *ids) == 0);
    free(ids);
    return same;
}

/* Added tokens of each type; a string outside the byte alphabet; add_bos_token's defaults. */
T2G_HOST_CHECK(gguf_tokenizer_added) {
    check_case_begin(ctx);
    gguf_tok tok;
    char dir[512], path[600];
    if (!gguf_tok_golden(ctx, "gpt2", 3, &tok) || !gguf_scratch_dir(ctx, dir, sizeof dir)) return ctx->failures;
    snprintf(path, sizeof path, "%s/added.gguf", dir);
    uint32_t think = tok.count, control = tok.count + 1, spaced = tok.count + 2;
    tok.token[think] = "<think>", tok.type[think] = 4;      /* user defined: always matched whole */
    tok.token[control] = "<|x y|>", tok.type[control] = 3;  /* control, a raw space: added only */
    tok.token[spaced] = " zzqx", tok.type[spaced] = 1;      /* normal, a raw space: spelled "Ġzzqx" */
    tok.count += 3;
    uint32_t byte_4 = 192;                                   /* "Ą", byte 0x04: no merge uses it */
    check_true(ctx, strcmp(tok.token[byte_4], "\xc4\x84") == 0, "id 192 is byte 0x04's token");
    tok.token[byte_4] = "<unused192>", tok.type[byte_4] = 5; /* now no token has byte 0x04 */
    t2g_text *text = NULL;
    gguf_tok_file how = {"gpt2", "smollm", 1499, 1499, -1, NULL, false, false, 0};
    if (gguf_tok_write(ctx, path, &tok, &how) && check_status(ctx, gguf_text(path, &text, &ctx->err), path)) {
        size_t len;
        const char *bytes = t2g_text_token_bytes(text, spaced, &len);
        check_true(ctx, bytes && len == 5 && memcmp(bytes, " zzqx", 5) == 0 &&
                            strcmp(t2g_text_token_name(text, spaced), "\xc4\xa0zzqx") == 0,
                   "a normal token with a raw space is the vocab entry \"Ġzzqx\", decoding to \" zzqx\"");
        uint32_t want_think[] = {think};
        check_true(ctx, encodes_to(ctx, text, "<think>", false, want_think, 1) &&
                            encodes_to(ctx, text, "<think>", true, want_think, 1),
                   "<think> (user defined) is one token, special tokens matched or not");
        uint32_t want_control[] = {control};
        check_true(ctx, encodes_to(ctx, text, "<|x y|>", true, want_control, 1) &&
                            !encodes_to(ctx, text, "<|x y|>", false, want_control, 1) &&
                            t2g_text_vocab(text) == tok.count,
                   "<|x y|> (control) is one token only when special tokens are matched");
        check_true(ctx, t2g_text_bos(text) == -1, "smollm: no BOS added when the file does not say");
        uint32_t bangs = 1218;
        check_true(ctx, strcmp(tok.token[bangs], "!!") == 0 && encodes_to(ctx, text, "\x04", false, NULL, 0) &&
                            encodes_to(ctx, text, "\x04", false, NULL, 0) && encodes_to(ctx, text, "!\x04!", false, &bangs, 1),
                   "a byte without a token is dropped before the merges, as Hugging Face drops it: \"!\\x04!\" is \"!!\"");
    }
    t2g_text_free(text);
    how.pre = "llama-bpe";
    if (gguf_tok_write(ctx, path, &tok, &how) && check_status(ctx, gguf_text(path, &text, &ctx->err), path))
        check_true(ctx, t2g_text_bos(text) == 1499, "llama-bpe: BOS added when the file does not say (as llama.cpp)");
    t2g_text_free(text);
    remove(path);
    check_true(ctx, gguf_remove_scratch(dir), "nothing else was left in %s", dir);
    return ctx->failures;
}

/* A broken file: refused, the message naming the file and every word of `words`. */
static void expect_refused(check_ctx *ctx, const char *path, const gguf_tok *tok, const gguf_tok_file *how,
                           const char *what, const char *const *words) {
    t2g_gguf *file = NULL;
    char *tokenizer = (char *)"", *config = (char *)"";
    t2g_status status = T2G_ERR_IO;
    if (gguf_tok_write(ctx, path, tok, how) && check_status(ctx, t2g_gguf_open(path, &file, &ctx->err), path))
        status = t2g_gguf_tokenizer_files(file, &tokenizer, &config, &ctx->err);
    bool named = status != T2G_OK && strstr(ctx->err.message, path) && !tokenizer && !config;
    for (const char *const *w = words; named && *w; w++) named = strstr(ctx->err.message, *w) != NULL;
    check_true(ctx, named, "%s: refused naming the file and %s (%s)", what, words[0], ctx->err.message);
    if (status == T2G_OK) {
        free(tokenizer);
        free(config);
    }
    t2g_gguf_close(file);
    remove(path);
}

T2G_HOST_CHECK(gguf_tokenizer_refusals) {
    check_case_begin(ctx);
    gguf_tok tok;
    char dir[512], path[600];
    if (!gguf_tok_golden(ctx, "gpt2", 1, &tok) || !gguf_scratch_dir(ctx, dir, sizeof dir)) return ctx->failures;
    snprintf(path, sizeof path, "%s/bad.gguf", dir);
    const gguf_tok_file good = {"gpt2", "gpt-2", 1499, 1499, -1, NULL, false, false, 0};
    gguf_tok_file how = good;
    how.model = "llama";
    expect_refused(ctx, path, &tok, &how, "SentencePiece",
                   (const char *const[]){"tokenizer.ggml.model", "\"llama\"", "SentencePiece", "gpt2", NULL});
    how = good, how.pre = "no-such-pre";
    expect_refused(ctx, path, &tok, &how, "an unknown pre-tokenizer",
                   (const char *const[]){"tokenizer.ggml.pre", "no-such-pre", "\"smollm\"", "\"qwen2\"", "\"llama-bpe\"", NULL});
    how = good, how.no_merges = true;
    expect_refused(ctx, path, &tok, &how, "no merges", (const char *const[]){"tokenizer.ggml.merges", NULL});
    how = good, how.bos = tok.count;
    expect_refused(ctx, path, &tok, &how, "BOS past the vocab", (const char *const[]){"tokenizer.ggml.bos_token_id", "1500", NULL});
    how = good, how.types_short = 1;
    expect_refused(ctx, path, &tok, &how, "a type short",
                   (const char *const[]){"tokenizer.ggml.token_type", "1499 types", "1500 tokens", NULL});
    how = good, how.tokens_as_ints = true;
    expect_refused(ctx, path, &tok, &how, "tokens as integers", (const char *const[]){"tokenizer.ggml.tokens", NULL});
    tok.token[tok.count] = tok.token[300], tok.type[tok.count] = 1, tok.count++;
    expect_refused(ctx, path, &tok, &good, "a token twice",
                   (const char *const[]){"tokenizer.ggml.tokens", "ids 300 and 1500", NULL});
    tok.count--;
    tok.merge[7] = "nospace";
    expect_refused(ctx, path, &tok, &good, "a merge without a space", (const char *const[]){"tokenizer.ggml.merges[7]", NULL});
    check_true(ctx, gguf_remove_scratch(dir), "nothing else was left in %s", dir);
    return ctx->failures;
}
