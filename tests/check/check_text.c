/* A model's text (include/t2g/text.h) on the byte tokenizer and on the golden GPT-2-style BPE
 * (tests/golden/tokenizers/gpt2): the sequence layout (prompt ids, response ids with the end of
 * turn), the special ids tokenizer_config.json names, the chat-template choices and their
 * refusals, sampling's stop and banned ids, and the spans of decoded ids tiling the decoding
 * (tokens that hold part of a character included), never a re-tokenization. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/read_file.h"
#include "t2g/text.h"

static bool same_ids(const uint32_t *a, size_t n, const uint32_t *b, size_t m) {
    return n == m && (n == 0 || memcmp(a, b, n * sizeof *a) == 0);
}

T2G_HOST_CHECK(text_bytes) {
    check_case_begin(ctx);
    t2g_text *text;
    if (!check_status(ctx, t2g_text_bytes(&text, &ctx->err), "the byte tokenizer")) return ctx->failures;
    check_true(ctx, t2g_text_is_bytes(text) && t2g_text_vocab(text) == T2G_BYTE_VOCAB, "bytes: vocab 259");
    check_status(ctx, t2g_text_set_chat(text, "auto", "", NULL, 0, &ctx->err), "auto is none");
    uint32_t *ids;
    size_t n;
    if (check_status(ctx, t2g_text_prompt(text, "ab\xFF", 3, false, &ids, &n, &ctx->err), "prompt")) {
        check_true(ctx, same_ids(ids, n, (uint32_t[]){T2G_TOKEN_BOS, 'a', 'b', 0xFF}, 4), "BOS then the bytes, any bytes");
        free(ids);
    }
    if (check_status(ctx, t2g_text_response(text, "cd", 2, false, &ids, &n, &ctx->err), "response")) {
        check_true(ctx, same_ids(ids, n, (uint32_t[]){'c', 'd', T2G_TOKEN_EOS}, 3), "the bytes then EOS");
        free(ids);
    }
    t2g_sampling s = t2g_sampling_default();
    t2g_text_sampling(text, &s);
    check_true(ctx, s.stop_count == 1 && s.stop_ids[0] == T2G_TOKEN_EOS && s.banned_count == 2 &&
                        s.banned_ids[0] == T2G_TOKEN_BOS && s.banned_ids[1] == T2G_TOKEN_PAD,
               "stop at EOS; BOS and PAD never sampled");
    t2g_token_span spans[4];
    uint32_t decoded[] = {'h', 'i', T2G_TOKEN_EOS};
    if (check_status(ctx, t2g_text_spans(text, decoded, 3, spans, &ctx->err), "spans"))
        check_true(ctx, spans[0].start == 0 && spans[1].end == 2 && spans[2].start == 2 && spans[2].end == 2,
                   "a byte a token; EOS an empty range at the end");
    check_true(ctx, t2g_text_spans(text, (uint32_t[]){300}, 1, spans, &ctx->err) == T2G_ERR_ARGUMENT,
               "an id past the vocab is refused");
    /* Choices a byte model cannot have. */
    check_true(ctx, t2g_text_set_chat(text, "chatml", "", NULL, 0, &ctx->err) == T2G_ERR_ARGUMENT &&
                        strstr(ctx->err.message, "byte tokenizer"),
               "chatml on the byte tokenizer is refused: %s", ctx->err.message);
    check_true(ctx, t2g_text_set_chat(text, "none", "Be brief.", NULL, 0, &ctx->err) == T2G_ERR_ARGUMENT &&
                        strstr(ctx->err.message, "model.system_prompt"),
               "a system prompt with no template to hold it is refused: %s", ctx->err.message);
    check_true(ctx, t2g_text_set_chat(text, "vicuna", "", NULL, 0, &ctx->err) != T2G_OK &&
                        strstr(ctx->err.message, "model.chat_template"),
               "an unknown template name is refused naming the key: %s", ctx->err.message);
    t2g_text_free(text);
    return ctx->failures;
}

/* The golden GPT-2-style tokenizer.json with `config` as its tokenizer_config.json (NULL: none). */
static t2g_text *gpt2_text(check_ctx *ctx, const char *config) {
    char path[4200];
    snprintf(path, sizeof path, "%s/tests/golden/tokenizers/gpt2/tokenizer.json", check_source_dir());
    char *json;
    size_t len;
    if (!check_status(ctx, t2g_file_read(path, "tokenizer", (t2g_read_cap){64u << 20, NULL}, &json, &len, &ctx->err),
                      path))
        return NULL;
    t2g_text *text = NULL;
    check_status(ctx, t2g_text_parse(json, len, config, config ? strlen(config) : 0, "gpt2", &text, &ctx->err),
                 "parsing the gpt2 tokenizer");
    free(json);
    return text;
}

T2G_HOST_CHECK(text_bpe) {
    check_case_begin(ctx);
    /* No tokenizer_config.json: text encodes, but no EOS ends a response: refused naming eos_token. */
    t2g_text *text = gpt2_text(ctx, NULL);
    if (!text) return ctx->failures;
    check_status(ctx, t2g_text_set_chat(text, "auto", "", NULL, 0, &ctx->err), "auto with no tokenizer_config.json");
    uint32_t *none;
    size_t none_n;
    check_true(ctx, t2g_text_response(text, "a", 1, false, &none, &none_n, &ctx->err) == T2G_ERR_FORMAT &&
                        strstr(ctx->err.message, "eos_token") && !none,
               "no eos_token and no template: a response is refused naming eos_token (%s)", ctx->err.message);
    t2g_text_free(text);

    text = gpt2_text(ctx, "{\"eos_token\": {\"content\": \"<|endoftext|>\"}, \"bos_token\": \"<|endoftext|>\"}");
    if (!text) return ctx->failures;
    char chosen[512];
    check_status(ctx, t2g_text_set_chat(text, "auto", "", chosen, sizeof chosen, &ctx->err), "auto");
    check_true(ctx, t2g_text_chat(text) == T2G_CHAT_NONE && strstr(chosen, "none"), "no chat_template: none (%s)",
               chosen);
    int64_t bos, eos, pad;
    t2g_text_special_ids(text, &bos, &eos, &pad);
    check_true(ctx, bos == 1499 && eos == 1499 && pad == -1 && t2g_text_bos(text) == -1,
               "bos/eos 1499 from tokenizer_config.json, no pad, no BOS added (GPT-2 adds none)");
    const char *prompt = "Hello world, caf\xC3\xA9 \xF0\x9F\x98\x80!";
    uint32_t *plain, *ids;
    size_t plain_n, n;
    t2g_token_span *spans;
    bool ok = check_status(ctx, t2g_text_encode(text, prompt, strlen(prompt), false, &plain, &spans, &plain_n, &ctx->err),
                           "encode") &&
              check_status(ctx, t2g_text_prompt(text, prompt, strlen(prompt), false, &ids, &n, &ctx->err), "prompt");
    if (ok) {
        check_true(ctx, same_ids(ids, n, plain, plain_n), "template none, no BOS: the prompt's ids as they are");
        free(ids);
    }
    if (ok && check_status(ctx, t2g_text_response(text, prompt, strlen(prompt), false, &ids, &n, &ctx->err), "response")) {
        check_true(ctx, n == plain_n + 1 && same_ids(ids, plain_n, plain, plain_n) && ids[plain_n] == 1499,
                   "the response's ids then EOS 1499");
        free(ids);
    }
    /* The spans of the decoding of those ids are the encoder's spans: the emoji's four bytes may
     * be split over tokens, and the ranges still tile the text. */
    if (ok) {
        t2g_token_span *decoded = check_host(ctx, (plain_n + 1) * sizeof *decoded);
        if (check_status(ctx, t2g_text_spans(text, plain, plain_n, decoded, &ctx->err), "spans of the ids")) {
            bool same = true;
            for (size_t i = 0; i < plain_n; i++) same = same && decoded[i].start == spans[i].start && decoded[i].end == spans[i].end;
            check_true(ctx, same && decoded[plain_n - 1].end == strlen(prompt),
                       "decoded spans equal the encoder's and end at the text's end");
        }
        free(plain);
        free(spans);
    }
    t2g_sampling s = t2g_sampling_default();
    t2g_text_sampling(text, &s);
    check_true(ctx, s.stop_count == 1 && s.stop_ids[0] == 1499 && s.banned_count == 0,
               "stop at <|endoftext|>; nothing banned (ids 256 and 258 are real tokens)");
    check_true(ctx, t2g_text_set_chat(text, "chatml", "", NULL, 0, &ctx->err) == T2G_ERR_FORMAT &&
                        strstr(ctx->err.message, "<|im_end|>"),
               "chatml with a tokenizer that lacks <|im_end|> is refused naming it (%s)", ctx->err.message);
    t2g_text_free(text);

    /* A tokenizer_config.json naming a token the tokenizer does not have. */
    char path[4200];
    snprintf(path, sizeof path, "%s/tests/golden/tokenizers/gpt2/tokenizer.json", check_source_dir());
    char *json;
    size_t len;
    if (check_status(ctx, t2g_file_read(path, "tokenizer", (t2g_read_cap){64u << 20, NULL}, &json, &len, &ctx->err), path)) {
        static const char bad[] = "{\"eos_token\": \"</s>\"}";
        check_true(ctx, t2g_text_parse(json, len, bad, strlen(bad), "gpt2", &text, &ctx->err) == T2G_ERR_FORMAT &&
                            strstr(ctx->err.message, "eos_token") && strstr(ctx->err.message, "</s>"),
                   "an eos_token that is no token is refused naming it (%s)", ctx->err.message);
        static const char list[] = "{\"eos_token\": \"<|endoftext|>\", \"chat_template\": [{\"name\": \"default\"}]}";
        check_true(ctx, t2g_text_parse(json, len, list, strlen(list), "gpt2", &text, &ctx->err) == T2G_ERR_UNSUPPORTED &&
                            strstr(ctx->err.message, "chat_template"),
                   "a list of named templates is refused (%s)", ctx->err.message);
        free(json);
    }
    return ctx->failures;
}
