/* Chat templates (include/t2g/chat.h) against transformers' apply_chat_template
 * (tests/golden/chat/; its README says how the files were made and their format), with no Python:
 * for each of the four styles, the golden tokenizer_config.json's template must be recognised as
 * the expected format with the expected default system prompt, and for every golden conversation
 * t2g_chat_render + t2g_chat_encode must give the reference's ids exactly, for the generation
 * prompt and for the whole conversation (whose chatml rendering ends before the "\n" after
 * <|im_end|>: the reference's last token must be that "\n"). With special tokens matched in the
 * contents (as apply_chat_template does), and also with them read as plain text where the
 * contents hold none. Then unit cases: names, bad names, templates not recognised, literal
 * escapes, defaults, rendering details and a tokenizer lacking a template's special token. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/alloc.h"
#include "core/read_file.h"
#include "golden_file.h"
#include "t2g/chat.h"

#define SMOLLM2_SYSTEM "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
#define QWEN2_SYSTEM "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."

typedef struct chat_style {
    const char *name;           /* the folder under tests/golden/chat */
    t2g_chat_format format;
    const char *default_system; /* what t2g_chat_recognise must find; NULL: none */
    const char *tokenizer;      /* under tests/golden */
} chat_style;

static const chat_style styles[] = {
    {"chatml_smollm2", T2G_CHAT_CHATML, SMOLLM2_SYSTEM, "tokenizers/smollm2/tokenizer.json"},
    {"chatml_qwen2", T2G_CHAT_CHATML, QWEN2_SYSTEM, "tokenizers/smollm2/tokenizer.json"},
    {"chatml_plain", T2G_CHAT_CHATML, NULL, "tokenizers/smollm2/tokenizer.json"},
    {"llama3", T2G_CHAT_LLAMA3, NULL, "chat/llama3/tokenizer.json"},
};

/* ---- the golden files ---- */

typedef struct chat_piece { const char *text; size_t len; } chat_piece;
typedef struct conversation {
    bool has_system;
    chat_piece system, prompt, response;
} conversation;

/* conversations.bin into host memory of the case; *count of them, or NULL. */
static conversation *read_conversations(check_ctx *ctx, golden_file *f, uint32_t *count) {
    if (!check_true(ctx, golden_magic(f, "t2gconv1"), "conversations.bin begins with t2gconv1")) return NULL;
    *count = golden_u32(f);
    conversation *c = check_host(ctx, ((size_t)*count + 1) * sizeof *c);
    for (uint32_t i = 0; i < *count && !f->bad; i++) {
        c[i].has_system = golden_u8(f) != 0;
        chat_piece *pieces[3] = {&c[i].system, &c[i].prompt, &c[i].response};
        for (int k = 0; k < 3; k++) {
            pieces[k]->len = golden_u16(f);
            pieces[k]->text = (const char *)golden_take(f, pieces[k]->len);
        }
    }
    return check_true(ctx, !f->bad && f->at == f->len, "conversations.bin holds its %u conversations", *count) ? c : NULL;
}

/* n ids (u16) of f into host memory. */
static uint32_t *read_ids(check_ctx *ctx, golden_file *f, size_t n) {
    uint32_t *ids = check_host(ctx, (n + 1) * sizeof *ids);
    for (size_t i = 0; i < n; i++) ids[i] = golden_u16(f);
    return ids;
}

/* The style's tokenizer_config.json: its chat_template and bos_token (NULL when null). */
typedef struct chat_config {
    cJSON *json;
    const char *template, *bos;
} chat_config;

static bool read_config(check_ctx *ctx, const char *style, chat_config *config) {
    char path[4300];
    snprintf(path, sizeof path, "%s/tests/golden/chat/%s/tokenizer_config.json", check_source_dir(), style);
    char *text = NULL;
    size_t len = 0;
    memset(config, 0, sizeof *config);
    if (!check_status(ctx, t2g_file_read(path, "a golden file", (t2g_read_cap){1u << 20, NULL}, &text, &len, &ctx->err), path))
        return false;
    config->json = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(config->json, "chat_template");
    const cJSON *bos = cJSON_GetObjectItemCaseSensitive(config->json, "bos_token");
    config->template = cJSON_GetStringValue(t);
    config->bos = cJSON_GetStringValue(bos);
    return check_true(ctx, config->template && (cJSON_IsString(bos) || cJSON_IsNull(bos)),
                      "%s: chat_template is a string, bos_token a string or null", path);
}

/* ---- one conversation ---- */

/* Whether text holds a special token's text (it encodes differently with parse_special). */
static bool holds_special(check_ctx *ctx, const t2g_bpe *bpe, chat_piece p) {
    uint32_t *ids = NULL;
    size_t count = 0;
    bool found = false;
    if (check_status(ctx, t2g_bpe_encode(bpe, p.text, p.len, true, &ids, NULL, &count, &ctx->err), "encoding contents"))
        for (size_t i = 0; i < count; i++) found = found || t2g_bpe_is_special(bpe, ids[i]);
    free(ids);
    return found;
}

typedef struct chat_counts {
    uint32_t compared, mismatches, not_prefix;
} chat_counts;

/* Renders and encodes a conversation and compares with expected[0..n); the spans must tile the text. */
static void compare_one(check_ctx *ctx, const chat_style *style, const t2g_bpe *bpe, const char *bos,
                        const chat_piece *system, const conversation *c, bool full, bool parse_special,
                        const uint32_t *expected, size_t n, uint32_t index, chat_counts *counts) {
    t2g_chat_text text;
    uint32_t *ids = NULL;
    t2g_token_span *spans = NULL;
    size_t count = 0;
    t2g_status status = t2g_chat_render(style->format, bos, system ? system->text : NULL, system ? system->len : 0,
                                        c->prompt.text, c->prompt.len, full ? c->response.text : NULL,
                                        full ? c->response.len : 0, &text, &ctx->err);
    if (status == T2G_OK) status = t2g_chat_encode(bpe, &text, parse_special, &ids, &spans, &count, &ctx->err);
    bool same = status == T2G_OK && count == n;
    for (size_t i = 0; same && i < n; i++) same = ids[i] == expected[i];
    bool tiled = status == T2G_OK && (count ? spans[0].start == 0 && spans[count - 1].end == text.len : text.len == 0);
    for (size_t i = 1; tiled && i < count; i++) tiled = spans[i].start == spans[i - 1].end && spans[i].end > spans[i].start;
    counts->compared++;
    if (!same || !tiled) {
        counts->mismatches++;
        check_fail(ctx, "%s: conversation %u (%s, parse_special %d): %s", style->name, index,
                   full ? "full" : "generation prompt", parse_special,
                   status != T2G_OK ? ctx->err.message : !same ? "ids differ from the reference's" : "spans do not tile the text");
    }
    t2g_chat_text_free(&text);
    free(ids);
    free(spans);
}

/* ---- one style ---- */

/* Every conversation of ids.bin (f) against t2g. */
static void compare_style(check_ctx *ctx, const chat_style *style, const t2g_bpe *bpe, const char *bos,
                          const char *default_system, const conversation *convs, uint32_t count, golden_file *f) {
    if (!check_true(ctx, golden_magic(f, "t2gchid1") && golden_u32(f) == count,
                    "%s/ids.bin begins with t2gchid1 and holds %u conversations", style->name, count))
        return;
    chat_piece fallback = {default_system, default_system ? strlen(default_system) : 0};
    uint32_t *newline = NULL; /* chatml's "\n" after the last <|im_end|>, which t2g_chat_render leaves out */
    size_t newline_count = 0;
    bool newline_ok = check_status(ctx, t2g_bpe_encode(bpe, "\n", 1, false, &newline, NULL, &newline_count, &ctx->err),
                                   "encoding \"\\n\"") &&
                      check_true(ctx, newline_count == 1, "\"\\n\" is one token (%zu)", newline_count);
    uint32_t newline_id = newline_ok ? newline[0] : 0;
    free(newline);
    if (!newline_ok) return;
    chat_counts counts = {0};
    uint32_t plain = 0;
    for (uint32_t i = 0; i < count; i++) {
        size_t m = golden_u16(f);
        uint32_t *full = read_ids(ctx, f, m);
        size_t shared = golden_u16(f), rest = golden_u16(f);
        uint32_t *gen = check_host(ctx, (shared + rest + 1) * sizeof *gen);
        for (size_t k = 0; k < rest; k++) gen[shared + k] = golden_u16(f);
        if (!check_expect(ctx, !f->bad && shared <= m, "%s/ids.bin: conversation %u is whole", style->name, i)) return;
        memcpy(gen, full, shared * sizeof *gen);
        counts.not_prefix += rest > 0;
        size_t n = m;
        if (style->format == T2G_CHAT_CHATML &&
            check_expect(ctx, m > 0 && full[m - 1] == newline_id, "%s: conversation %u ends in \"\\n\"", style->name, i))
            n = m - 1;
        const conversation *c = &convs[i];
        const chat_piece *system = c->has_system ? &c->system : default_system ? &fallback : NULL;
        bool plain_too = !holds_special(ctx, bpe, c->system) && !holds_special(ctx, bpe, c->prompt) &&
                         !holds_special(ctx, bpe, c->response);
        plain += plain_too;
        for (int parse_special = 1; parse_special >= !plain_too; parse_special--) {
            compare_one(ctx, style, bpe, bos, system, c, false, parse_special, gen, shared + rest, i, &counts);
            compare_one(ctx, style, bpe, bos, system, c, true, parse_special, full, n, i, &counts);
        }
    }
    check_true(ctx, f->at == f->len, "%s/ids.bin is read whole", style->name);
    check_true(ctx, counts.mismatches == 0 && counts.compared == 2 * (count + plain),
               "%s: %u renderings equal the reference's ids of %u conversations (generation prompt and full; "
               "with special tokens matched, and for %u also read as plain text): %u differ",
               style->name, counts.compared - counts.mismatches, count, plain, counts.mismatches);
    check_log(ctx, "  %-15s %u generation prompts whose ids are not a prefix of the full conversation's", style->name,
              counts.not_prefix);
}

static void golden_style(check_ctx *ctx, const chat_style *style, const conversation *convs, uint32_t count) {
    chat_config config;
    char *default_system = NULL;
    t2g_chat_format format = T2G_CHAT_NONE;
    t2g_bpe *bpe = NULL;
    golden_file f = {0};
    char path[4300], ids_name[64];
    snprintf(path, sizeof path, "%s/tests/golden/%s", check_source_dir(), style->tokenizer);
    snprintf(ids_name, sizeof ids_name, "%s/ids.bin", style->name);
    if (read_config(ctx, style->name, &config) &&
        check_status(ctx, t2g_chat_recognise(config.template, style->name, &format, &default_system, &ctx->err),
                     style->name) &&
        check_true(ctx, format == style->format, "%s: recognised as %s (%s)", style->name,
                   t2g_chat_format_name(style->format), t2g_chat_format_name(format)) &&
        check_true(ctx, style->default_system ? default_system && strcmp(default_system, style->default_system) == 0
                                              : !default_system,
                   "%s: default system prompt \"%s\" (found \"%s\")", style->name,
                   style->default_system ? style->default_system : "(none)", default_system ? default_system : "(none)") &&
        check_status(ctx, t2g_bpe_load(path, &bpe, &ctx->err), path) && golden_load(ctx, "chat", ids_name, &f))
        compare_style(ctx, style, bpe, config.bos, default_system, convs, count, &f);
    cJSON_Delete(config.json);
    free(default_system);
    t2g_bpe_free(bpe);
    free(f.data);
}

T2G_HOST_CHECK(chat_golden) {
    check_case_begin(ctx);
    golden_file f;
    if (!golden_load(ctx, "chat", "conversations.bin", &f)) return ctx->failures;
    uint32_t count = 0;
    conversation *convs = read_conversations(ctx, &f, &count);
    if (convs)
        for (size_t s = 0; s < sizeof styles / sizeof styles[0]; s++) golden_style(ctx, &styles[s], convs, count);
    free(f.data);
    return ctx->failures;
}

/* ---- unit cases ---- */

T2G_HOST_CHECK(chat_names) {
    check_case_begin(ctx);
    const char *names[] = {"none", "chatml", "llama3"};
    for (int i = 0; i < 3; i++) {
        t2g_chat_format format = T2G_CHAT_NONE;
        bool is_auto = true;
        check_true(ctx, t2g_chat_format_parse(names[i], &format, &is_auto, &ctx->err) == T2G_OK && !is_auto &&
                            strcmp(t2g_chat_format_name(format), names[i]) == 0,
                   "\"%s\" parses to itself", names[i]);
    }
    t2g_chat_format format = T2G_CHAT_LLAMA3;
    bool is_auto = false;
    check_true(ctx, t2g_chat_format_parse("auto", &format, &is_auto, &ctx->err) == T2G_OK && is_auto &&
                        format == T2G_CHAT_LLAMA3,
               "\"auto\" sets is_auto and leaves the format alone");
    const char *bad[] = {"ChatML", "", "llama-3", "auto "};
    for (int i = 0; i < 4; i++) {
        t2g_status status = t2g_chat_format_parse(bad[i], &format, &is_auto, &ctx->err);
        check_true(ctx, status == T2G_ERR_ARGUMENT && strstr(ctx->err.message, bad[i]) &&
                            strstr(ctx->err.message, "auto, chatml, llama3, none") && format == T2G_CHAT_LLAMA3,
                   "\"%s\" is refused naming it and the choices (%s)", bad[i], ctx->err.message);
    }
    check_true(ctx, t2g_chat_format_parse(NULL, &format, &is_auto, &ctx->err) == T2G_ERR_ARGUMENT, "a NULL name is refused");
    check_true(ctx, t2g_chat_format_name((t2g_chat_format)7) == NULL, "no name outside the enum");
    check_true(ctx, strcmp(t2g_chat_end_of_turn(T2G_CHAT_CHATML), "<|im_end|>") == 0 &&
                        strcmp(t2g_chat_end_of_turn(T2G_CHAT_LLAMA3), "<|eot_id|>") == 0 &&
                        t2g_chat_end_of_turn(T2G_CHAT_NONE) == NULL,
               "end-of-turn tokens: <|im_end|>, <|eot_id|>, none");
    return ctx->failures;
}

/* t2g_chat_recognise of jinja: the status, and on success the format and default system. */
static void recognise(check_ctx *ctx, const char *what, const char *jinja, t2g_status expected_status,
                      t2g_chat_format expected_format, const char *expected_system) {
    t2g_chat_format format = T2G_CHAT_NONE;
    char *system = (char *)"not set";
    t2g_status status = t2g_chat_recognise(jinja, "test/tokenizer_config.json", &format, &system, &ctx->err);
    if (expected_status != T2G_OK) {
        check_true(ctx, status == expected_status && !system && strstr(ctx->err.message, "test/tokenizer_config.json") &&
                            strstr(ctx->err.message, "not recognised") &&
                            strstr(ctx->err.message, "model.chat_template=chatml|llama3|none"),
                   "%s: refused naming the file and the choices (%s)", what, status ? ctx->err.message : "accepted");
        return;
    }
    bool same_system = expected_system ? system && strcmp(system, expected_system) == 0 : !system;
    check_true(ctx, status == T2G_OK && format == expected_format && same_system, "%s: %s, default system \"%s\" (%s)",
               what, t2g_chat_format_name(expected_format), expected_system ? expected_system : "(none)",
               status ? ctx->err.message : system ? system : "(none)");
    if (status == T2G_OK) free(system);
}

T2G_HOST_CHECK(chat_recognise_cases) {
    check_case_begin(ctx);
    recognise(ctx, "a Vicuna-style template",
              "{% for m in messages %}{% if m['role'] == 'user' %}USER: {{ m['content'] }}\n{% else %}ASSISTANT: "
              "{{ m['content'] }}</s>\n{% endif %}{% endfor %}{% if add_generation_prompt %}ASSISTANT:{% endif %}",
              T2G_ERR_UNSUPPORTED, T2G_CHAT_NONE, NULL);
    recognise(ctx, "an empty template", "", T2G_ERR_UNSUPPORTED, T2G_CHAT_NONE, NULL);
    recognise(ctx, "chatml without <|im_end|>", "{{ '<|im_start|>' + m.role }}", T2G_ERR_UNSUPPORTED, T2G_CHAT_NONE, NULL);
    recognise(ctx, "llama3 without <|eot_id|>", "{{ '<|start_header_id|>' + r + '<|end_header_id|>' }}",
              T2G_ERR_UNSUPPORTED, T2G_CHAT_NONE, NULL);
    recognise(ctx, "both formats' markers", "<|im_start|><|im_end|><|start_header_id|><|end_header_id|><|eot_id|>",
              T2G_ERR_UNSUPPORTED, T2G_CHAT_NONE, NULL);
    recognise(ctx, "chatml, no default system",
              "{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{% endfor %}",
              T2G_OK, T2G_CHAT_CHATML, NULL);
    recognise(ctx, "chatml, a default with escapes, after a comment with a quote",
              "{# the default's 'escapes' #}{% if messages[0].role != 'system' %}{{ '<|im_start|>system\\n"
              "You\\'re \\\"kind\\\"\\\\ \\x41\\u00e9\\U0001F600\\t\\101\\q<|im_end|>\\n' }}{% endif %}<|im_start|>",
              T2G_OK, T2G_CHAT_CHATML, "You're \"kind\"\\ A\xc3\xa9\xf0\x9f\x98\x80\tA\\q");
    recognise(ctx, "chatml, a default in double quotes joined by ~ and +, across lines",
              "{{- \"<|im_start|>system\\n\" ~ \"Be \" +\n  'brief.' ~ \"<|im_end|>\\n\" -}}", T2G_OK, T2G_CHAT_CHATML,
              "Be brief.");
    recognise(ctx, "chatml, a default in the template's plain text",
              "{% if not system %}<|im_start|>system\nPlain default.<|im_end|>\n{% endif %}", T2G_OK, T2G_CHAT_CHATML,
              "Plain default.");
    recognise(ctx, "chatml, the same default twice",
              "{{ '<|im_start|>system\\nX<|im_end|>' }}{{ \"<|im_start|>system\\nX<|im_end|>\" }}", T2G_OK,
              T2G_CHAT_CHATML, "X");
    t2g_chat_format format = T2G_CHAT_NONE;
    char *system = NULL;
    t2g_status status = t2g_chat_recognise("{{ '<|im_start|>system\\nX<|im_end|>' }}{{ '<|im_start|>system\\nY<|im_end|>' }}",
                                           "two.json", &format, &system, &ctx->err);
    check_true(ctx, status == T2G_ERR_UNSUPPORTED && !system && strstr(ctx->err.message, "two different default system"),
               "two different default system prompts are refused (%s)", status ? ctx->err.message : "accepted");
    recognise(ctx, "chatml, the system turn built from a variable",
              "{{ '<|im_start|>system\\n' + default_system + '<|im_end|>\\n' }}", T2G_OK, T2G_CHAT_CHATML, NULL);
    recognise(ctx, "llama3, a literal default",
              "{{ bos_token + '<|start_header_id|>system<|end_header_id|>\\n\\nBe kind.<|eot_id|>' }}"
              "{{ '<|start_header_id|>' + m.role + '<|end_header_id|>\\n\\n' + m.content | trim + '<|eot_id|>' }}",
              T2G_OK, T2G_CHAT_LLAMA3, "Be kind.");
    recognise(ctx, "llama3, a default computed from variables (Llama 3.1's date lines)",
              "{{- \"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}{{- \"Cutting Knowledge Date: December 2023\\n\" }}"
              "{{- \"Today Date: \" + date_string + \"\\n\\n\" }}{{- system_message }}{{- \"<|eot_id|>\" }}",
              T2G_OK, T2G_CHAT_LLAMA3, NULL);
    check_true(ctx, t2g_chat_recognise(NULL, "x", &format, &system, &ctx->err) == T2G_ERR_ARGUMENT,
               "a NULL template is refused");
    return ctx->failures;
}

/* Renders and compares the text and the special tokens' texts. */
static void render(check_ctx *ctx, const char *what, t2g_chat_format format, const char *bos, const char *system,
                   const char *prompt, const char *response, const char *expected, const char *const *specials,
                   size_t specials_count) {
    t2g_chat_text text;
    t2g_status status = t2g_chat_render(format, bos, system, system ? strlen(system) : 0, prompt, strlen(prompt),
                                        response, response ? strlen(response) : 0, &text, &ctx->err);
    bool same = status == T2G_OK && text.len == strlen(expected) && memcmp(text.text, expected, text.len) == 0 &&
                text.text[text.len] == '\0' && text.specials_count == specials_count;
    for (size_t i = 0; same && i < specials_count; i++) {
        t2g_token_span s = text.specials[i];
        same = s.end - s.start == strlen(specials[i]) && memcmp(text.text + s.start, specials[i], s.end - s.start) == 0;
    }
    check_true(ctx, same, "%s: rendered as expected (%s)", what, status ? ctx->err.message : "");
    t2g_chat_text_free(&text);
}

T2G_HOST_CHECK(chat_render_cases) {
    check_case_begin(ctx);
    const char *chatml_gen[] = {"<|im_start|>", "<|im_end|>", "<|im_start|>"};
    render(ctx, "chatml generation prompt, bos ignored, no trim", T2G_CHAT_CHATML, "<|endoftext|>", NULL, " hi\n", NULL,
           "<|im_start|>user\n hi\n<|im_end|>\n<|im_start|>assistant\n", chatml_gen, 3);
    const char *chatml_full[] = {"<|im_start|>", "<|im_end|>", "<|im_start|>", "<|im_end|>", "<|im_start|>", "<|im_end|>"};
    render(ctx, "chatml with an empty system, full", T2G_CHAT_CHATML, NULL, "", "q", " a ",
           "<|im_start|>system\n<|im_end|>\n<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n a <|im_end|>",
           chatml_full, 6);
    const char *llama3_full[] = {"<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
                                 "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<|start_header_id|>",
                                 "<|end_header_id|>", "<|eot_id|>"};
    render(ctx, "llama3 trims Python's whitespace, not U+200B", T2G_CHAT_LLAMA3, "<|begin_of_text|>", " \x1c S \xc2\x85",
           "\xe3\x80\x80P\xe2\x80\x8b\n", "\xe2\x80\xa8R<|eot_id|>\xc2\xa0\t",
           "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|><|start_header_id|>user"
           "<|end_header_id|>\n\nP\xe2\x80\x8b<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nR<|eot_id|>"
           "<|eot_id|>",
           llama3_full, 10);
    render(ctx, "llama3 whitespace-only contents become empty, invalid UTF-8 is kept", T2G_CHAT_LLAMA3, NULL, NULL,
           " \xff ", "\n\t ",
           "<|start_header_id|>user<|end_header_id|>\n\n\xff<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
           "<|eot_id|>",
           llama3_full + 4, 6);
    const char *bos[] = {"<s>"};
    render(ctx, "none: bos, prompt, response", T2G_CHAT_NONE, "<s>", NULL, " p", " r", "<s> p r", bos, 1);
    render(ctx, "none: no bos, empty", T2G_CHAT_NONE, NULL, NULL, "", NULL, "", NULL, 0);
    t2g_chat_text text;
    check_true(ctx, t2g_chat_render(T2G_CHAT_NONE, NULL, "sys", 3, "p", 1, NULL, 0, &text, &ctx->err) == T2G_ERR_ARGUMENT &&
                        !text.text,
               "none refuses a system message (%s)", ctx->err.message);
    check_true(ctx, t2g_chat_render(T2G_CHAT_CHATML, NULL, NULL, 0, NULL, 2, NULL, 0, &text, &ctx->err) == T2G_ERR_ARGUMENT,
               "a NULL prompt of length 2 is refused");
    check_true(ctx, t2g_chat_render((t2g_chat_format)9, NULL, NULL, 0, "", 0, NULL, 0, &text, &ctx->err) == T2G_ERR_ARGUMENT,
               "an unknown format is refused");
    /* every allocation that fails reaches the caller, with nothing left behind */
    t2g_alloc_fail_at(0);
    const char *long_prompt = "a prompt long enough to grow the text more than once, past sixteen bytes and more";
    check_status(ctx, t2g_chat_render(T2G_CHAT_LLAMA3, "<|begin_of_text|>", "s", 1, long_prompt, strlen(long_prompt), "r", 1,
                                      &text, &ctx->err), "render");
    t2g_chat_text_free(&text);
    uint64_t calls = t2g_alloc_calls();
    for (uint64_t nth = 1; nth <= calls; nth++) {
        t2g_alloc_fail_at(nth);
        t2g_status status = t2g_chat_render(T2G_CHAT_LLAMA3, "<|begin_of_text|>", "s", 1, long_prompt, strlen(long_prompt),
                                            "r", 1, &text, &ctx->err);
        t2g_alloc_fail_at(0);
        check_expect(ctx, status == T2G_ERR_MEMORY && !text.text && !text.specials,
                     "allocation %llu of %llu failing: out of memory, nothing returned", (unsigned long long)nth,
                     (unsigned long long)calls);
        t2g_chat_text_free(&text);
    }
    check_true(ctx, calls >= 2, "render allocates (%llu times) and each failure is reported", (unsigned long long)calls);
    t2g_chat_text zero = {0};
    t2g_chat_text_free(&zero);
    t2g_chat_text_free(NULL);
    return ctx->failures;
}

T2G_HOST_CHECK(chat_encode_errors) {
    check_case_begin(ctx);
    char path[4300];
    snprintf(path, sizeof path, "%s/tests/golden/tokenizers/smollm2/tokenizer.json", check_source_dir());
    t2g_bpe *bpe = NULL;
    if (!check_status(ctx, t2g_bpe_load(path, &bpe, &ctx->err), path)) return ctx->failures;
    t2g_chat_text text;
    uint32_t *ids = NULL;
    size_t count = 7;
    if (check_status(ctx, t2g_chat_render(T2G_CHAT_LLAMA3, NULL, NULL, 0, "hi", 2, NULL, 0, &text, &ctx->err), "render")) {
        t2g_status status = t2g_chat_encode(bpe, &text, false, &ids, NULL, &count, &ctx->err);
        check_true(ctx, status == T2G_ERR_FORMAT && strstr(ctx->err.message, "<|start_header_id|>") && !ids && count == 0,
                   "llama3 with a tokenizer lacking <|start_header_id|>: refused naming it (%s)",
                   status ? ctx->err.message : "accepted");
        text.specials[1].start = 0; /* ranges out of order */
        status = t2g_chat_encode(bpe, &text, false, &ids, NULL, &count, &ctx->err);
        check_true(ctx, status == T2G_ERR_ARGUMENT, "special ranges out of order are refused (%s)", ctx->err.message);
        t2g_chat_text_free(&text);
    }
    /* a special range over text that is not one token */
    t2g_token_span odd = {1, 6};
    t2g_chat_text made = {(char *)"a<|x|>", 6, &odd, 1};
    check_true(ctx, t2g_chat_encode(bpe, &made, false, &ids, NULL, &count, &ctx->err) == T2G_ERR_FORMAT,
               "a special range whose text is no token is refused (%s)", ctx->err.message);
    /* invalid UTF-8 in the contents: the BPE's error */
    if (check_status(ctx, t2g_chat_render(T2G_CHAT_CHATML, NULL, NULL, 0, "a\xff", 2, NULL, 0, &text, &ctx->err), "render")) {
        check_true(ctx, t2g_chat_encode(bpe, &text, false, &ids, NULL, &count, &ctx->err) != T2G_OK,
                   "invalid UTF-8 in a prompt is refused (%s)", ctx->err.message);
        t2g_chat_text_free(&text);
    }
    /* spans may be NULL; an empty text gives no tokens */
    if (check_status(ctx, t2g_chat_render(T2G_CHAT_NONE, NULL, NULL, 0, "", 0, NULL, 0, &text, &ctx->err), "render")) {
        check_true(ctx, t2g_chat_encode(bpe, &text, true, &ids, NULL, &count, &ctx->err) == T2G_OK && count == 0,
                   "an empty text gives no tokens");
        free(ids);
        t2g_chat_text_free(&text);
    }
    t2g_bpe_free(bpe);
    return ctx->failures;
}
