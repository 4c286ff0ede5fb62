/* t2g tokenize: a model's token ids and byte offsets for a text, a file or JSONL lines. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/read_file.h"
#include "core/utf8.h"

static const char HELP[] =
    "usage: t2g tokenize --model MODEL | --tokenizer FILE  (--text S | --file F | --jsonl F)\n"
    "                    [--json] [--add-special] [--special] [--chat] [--chat-template NAME]\n"
    "                    [--system-prompt TEXT]\n"
    "\n"
    "Token ids and byte offsets of a text, with a model's own tokenizer: a Hugging Face folder's\n"
    "tokenizer.json (byte-level BPE: GPT-2, SmolLM2, Qwen2, Llama 3 styles), the tokenizer a\n"
    "checkpoint carries, or t2g's byte tokenizer. Offsets are byte ranges [start, end) of the UTF-8\n"
    "text; they tile it (each starts where the one before ended). Text that is not UTF-8 is refused.\n"
    "\n"
    "  --model MODEL       a t2g checkpoint, run folder or Hugging Face folder\n"
    "  --tokenizer FILE    a tokenizer.json (and the tokenizer_config.json beside it, if any)\n"
    "  --text S            the text S\n"
    "  --file F            the whole of file F as one text\n"
    "  --jsonl F           one {\"text\": string} object a line; out: one {\"ids\": [...], \"offsets\":\n"
    "                      [[start, end], ...]} line each (with --chat: {\"prompt\": string} lines, and\n"
    "                      \"response\" when a line has one; the rendered \"text\" is printed too)\n"
    "  --json              for --text and --file: the same JSON object; else a table of\n"
    "                      id, start, end and the token's text\n"
    "  --add-special       put the tokenizer's BOS first, when it adds one (offsets [0, 0])\n"
    "  --special           special-token texts (\"<|im_start|>\") become those tokens (default: plain text)\n"
    "  --chat              wrap the text as a user prompt in the chat template, up to the assistant's turn\n"
    "  --chat-template N   auto|none|chatml|llama3 (default: the model's model.chat_template)\n"
    "  --system-prompt T   the system turn (default: the template's own, if any)\n"
    "\n"
    "example: t2g tokenize --model smollm2/ --text 'Hello world' --json\n"
    "         t2g tokenize --model smollm2/ --chat --text 'What is the capital of France?'\n";

typedef struct tokenize_options {
    const char *model, *tokenizer, *text, *file, *jsonl, *chat_template, *system_prompt;
    bool json, add_special, special, chat;
} tokenize_options;

/* The tokenizer of --model or --tokenizer with the chat template chosen. */
static int open_text(const tokenize_options *o, t2g_text **text) {
    t2g_error err = {0};
    t2g_config config = t2g_config_defaults();
    t2g_model_source source = {0};
    t2g_status status = T2G_OK;
    if (o->model) {
        status = t2g_model_source_open(o->model, 0, &source, &err);
        if (!status) config = source.config;
    } else {
        char *json = NULL, *side = NULL, dir[4200];
        size_t len = 0, side_len = 0;
        snprintf(dir, sizeof dir, "%s", o->tokenizer);
        char *slash = strrchr(dir, '/');
        snprintf(slash ? slash + 1 : dir, sizeof dir - (size_t)(slash ? slash + 1 - dir : 0), "tokenizer_config.json");
        status = t2g_file_read(o->tokenizer, "the tokenizer", (t2g_read_cap){64u << 20, NULL}, &json, &len, &err);
        if (!status && t2g_file_read(dir, "tokenizer_config.json", (t2g_read_cap){16u << 20, NULL}, &side, &side_len, &err))
            side = NULL; /* none beside it */
        if (!status) status = t2g_text_parse(json, len, side, side_len, o->tokenizer, &source.text, &err);
        free(json);
        free(side);
    }
    if (!status && cli_chat_config("tokenize", o->chat_template, o->system_prompt, &config)) {
        t2g_model_source_close(&source);
        return EXIT_USAGE;
    }
    char chosen[512] = "";
    if (!status) status = t2g_model_source_text(&source, &config, text, chosen, sizeof chosen, &err);
    t2g_model_source_close(&source);
    if (status) {
        cli_error("tokenize: %s", err.message);
        return EXIT_USAGE;
    }
    if (o->chat) cli_note_text(*text, chosen);
    return EXIT_OK;
}

/* 0 when s[0..len) is UTF-8, else 1 with the offset of the first byte that is not. */
static bool invalid_utf8(const char *s, size_t len, size_t *at) {
    const unsigned char *b = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        size_t n = t2g_utf8_sequence(b + i, len - i, NULL);
        if (!n) {
            *at = i;
            return true;
        }
        i += n;
    }
    return false;
}

/* The ids and offsets of one input: plain (BOS first with --add-special) or, with --chat, the
 * prompt (and response) rendered in the chat template; *rendered the chat text (NULL otherwise). */
static t2g_status encode(const t2g_text *text, const tokenize_options *o, const char *s, size_t len,
                         const char *response, size_t response_len, uint32_t **ids, t2g_token_span **spans,
                         size_t *count, t2g_chat_text *rendered, t2g_error *err) {
    memset(rendered, 0, sizeof *rendered);
    if (o->chat && !t2g_text_is_bytes(text) && t2g_text_chat(text) != T2G_CHAT_NONE) {
        t2g_status status = t2g_text_render(text, s, len, response, response_len, rendered, err);
        if (!status) status = t2g_text_encode_rendered(text, rendered, o->special, ids, spans, count, err);
        return status;
    }
    int64_t bos = o->add_special || o->chat ? t2g_text_bos(text) : -1;
    t2g_status status = t2g_text_encode(text, s, len, o->special, ids, spans, count, err);
    if (status || bos < 0) return status;
    uint32_t *more_ids = realloc(*ids, (*count + 1) * sizeof *more_ids);
    if (more_ids) *ids = more_ids;
    t2g_token_span *more_spans = more_ids ? realloc(*spans, (*count + 1) * sizeof *more_spans) : NULL;
    if (more_spans) *spans = more_spans;
    if (!more_ids || !more_spans) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory");
    memmove(*ids + 1, *ids, *count * sizeof **ids);
    memmove(*spans + 1, *spans, *count * sizeof **spans);
    (*ids)[0] = (uint32_t)bos;
    (*spans)[0] = (t2g_token_span){0, 0};
    (*count)++;
    return T2G_OK;
}

static cJSON *result_json(const uint32_t *ids, const t2g_token_span *spans, size_t count, const t2g_chat_text *rendered) {
    cJSON *root = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(root, "ids");
    cJSON *offsets = cJSON_AddArrayToObject(root, "offsets");
    for (size_t i = 0; i < count; i++) {
        cJSON_AddItemToArray(list, cJSON_CreateNumber(ids[i]));
        cJSON *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(pair, cJSON_CreateNumber(spans[i].start));
        cJSON_AddItemToArray(pair, cJSON_CreateNumber(spans[i].end));
        cJSON_AddItemToArray(offsets, pair);
    }
    if (rendered->text) {
        char *escaped = t2g_utf8_escape(rendered->text, rendered->len);
        cJSON_AddStringToObject(root, "text", escaped ? escaped : "");
        free(escaped);
    }
    return root;
}

static void print_json_line(cJSON *root) {
    char *line = cJSON_PrintUnformatted(root);
    if (line) puts(line);
    cJSON_free(line);
    cJSON_Delete(root);
}

/* The table: id, start, end, the token's text (a JSON string). */
static void print_table(const char *s, const uint32_t *ids, const t2g_token_span *spans, size_t count) {
    printf("%8s %8s %8s  %s\n", "id", "start", "end", "text");
    for (size_t i = 0; i < count; i++) {
        cJSON *piece = cJSON_CreateString("");
        char *escaped = t2g_utf8_escape(s + spans[i].start, spans[i].end - spans[i].start);
        cJSON_SetValuestring(piece, escaped ? escaped : "");
        char *quoted = cJSON_PrintUnformatted(piece);
        printf("%8u %8u %8u  %s\n", ids[i], spans[i].start, spans[i].end, quoted ? quoted : "");
        cJSON_free(quoted);
        free(escaped);
        cJSON_Delete(piece);
    }
}

/* --text or --file: one text. */
static int tokenize_one(const t2g_text *text, const tokenize_options *o, const char *s, size_t len, const char *what) {
    size_t at;
    if (invalid_utf8(s, len, &at)) {
        cli_error("tokenize: %s is not valid UTF-8 at byte %zu", what, at);
        return EXIT_USAGE;
    }
    uint32_t *ids = NULL;
    t2g_token_span *spans = NULL;
    size_t count = 0;
    t2g_chat_text rendered;
    t2g_error err = {0};
    if (encode(text, o, s, len, NULL, 0, &ids, &spans, &count, &rendered, &err)) {
        cli_error("tokenize: %s: %s", what, err.message);
        t2g_chat_text_free(&rendered);
        return err.status == T2G_ERR_MEMORY ? EXIT_FAILED : EXIT_USAGE;
    }
    if (o->json) print_json_line(result_json(ids, spans, count, &rendered));
    else print_table(rendered.text ? rendered.text : s, ids, spans, count);
    t2g_chat_text_free(&rendered);
    free(ids);
    free(spans);
    return EXIT_OK;
}

/* One line of --jsonl: {"text"} (or with --chat {"prompt", "response"?}). */
static int tokenize_line(const t2g_text *text, const tokenize_options *o, const char *line, size_t len,
                         uint64_t number) {
    cJSON *root = cJSON_ParseWithLength(line, len);
    const char *key = o->chat ? "prompt" : "text";
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(root, key);
    const cJSON *response = o->chat ? cJSON_GetObjectItemCaseSensitive(root, "response") : NULL;
    int code = EXIT_OK;
    if (!cJSON_IsString(value) || (response && !cJSON_IsString(response))) {
        cli_error("tokenize: %s:%llu: expected a JSON object with a string \"%s\"%s", o->jsonl,
                  (unsigned long long)number, key, o->chat ? " (and optionally a string \"response\")" : "");
        code = EXIT_USAGE;
    }
    char what[4300];
    snprintf(what, sizeof what, "%s:%llu", o->jsonl, (unsigned long long)number);
    size_t at;
    const char *s = code ? NULL : value->valuestring, *r = response ? response->valuestring : NULL;
    if (!code && (invalid_utf8(s, strlen(s), &at) || (r && invalid_utf8(r, strlen(r), &at)))) {
        cli_error("tokenize: %s: \"%s\" is not valid UTF-8 at byte %zu", what, key, at);
        code = EXIT_USAGE;
    }
    uint32_t *ids = NULL;
    t2g_token_span *spans = NULL;
    size_t count = 0;
    t2g_chat_text rendered = {0};
    t2g_error err = {0};
    if (!code && encode(text, o, s, strlen(s), r, r ? strlen(r) : 0, &ids, &spans, &count, &rendered, &err)) {
        cli_error("tokenize: %s: %s", what, err.message);
        code = err.status == T2G_ERR_MEMORY ? EXIT_FAILED : EXIT_USAGE;
    }
    if (!code) print_json_line(result_json(ids, spans, count, &rendered));
    t2g_chat_text_free(&rendered);
    free(ids);
    free(spans);
    cJSON_Delete(root);
    return code;
}

static int tokenize_jsonl(const t2g_text *text, const tokenize_options *o) {
    t2g_line_reader reader;
    t2g_error err = {0};
    t2g_read_cap cap = {t2g_config_defaults().data.max_line_bytes, NULL};
    if (t2g_lines_open(&reader, o->jsonl, "the JSONL file", cap, &err)) {
        cli_error("tokenize: %s", err.message);
        return EXIT_USAGE;
    }
    int code = EXIT_OK;
    while (!code) {
        const char *line;
        size_t len;
        if (t2g_lines_next(&reader, &line, &len, &err)) {
            cli_error("tokenize: %s", err.message);
            code = EXIT_USAGE;
        } else if (!line) {
            break;
        } else if (len) {
            code = tokenize_line(text, o, line, len, reader.number);
        }
    }
    t2g_lines_close(&reader);
    return code;
}

int cmd_tokenize(int argc, char **argv) {
    tokenize_options o = {0};
    cli_args args = cli_args_start(argc, argv, 2, "tokenize");
    while (cli_args_more(&args)) {
        if (cli_flag(&args, "--help") || cli_flag(&args, "-h")) {
            fputs(HELP, stdout);
            return EXIT_OK;
        } else if (cli_value(&args, "--model", &o.model) || cli_value(&args, "--tokenizer", &o.tokenizer) ||
                   cli_value(&args, "--text", &o.text) || cli_value(&args, "--file", &o.file) ||
                   cli_value(&args, "--jsonl", &o.jsonl) || cli_value(&args, "--chat-template", &o.chat_template) ||
                   cli_value(&args, "--system-prompt", &o.system_prompt)) {
        } else if (cli_flag(&args, "--json")) {
            o.json = true;
        } else if (cli_flag(&args, "--add-special")) {
            o.add_special = true;
        } else if (cli_flag(&args, "--special")) {
            o.special = true;
        } else if (cli_flag(&args, "--chat")) {
            o.chat = true;
        } else {
            return cli_unknown(&args);
        }
    }
    if (args.failed) return EXIT_USAGE;
    if (!o.model == !o.tokenizer || (!!o.text + !!o.file + !!o.jsonl) != 1) {
        cli_error("tokenize: give one of --model or --tokenizer, and one of --text, --file or --jsonl (see 't2g "
                  "tokenize --help')");
        return EXIT_USAGE;
    }
    t2g_text *text = NULL;
    int code = open_text(&o, &text);
    if (!code && o.jsonl) code = tokenize_jsonl(text, &o);
    else if (!code && o.text) code = tokenize_one(text, &o, o.text, strlen(o.text), "--text");
    else if (!code) {
        char *data = NULL;
        size_t len = 0;
        t2g_error err = {0};
        if (t2g_file_read(o.file, "the text file", (t2g_read_cap){1ull << 30, NULL}, &data, &len, &err)) {
            cli_error("tokenize: %s", err.message);
            code = EXIT_USAGE;
        } else {
            code = tokenize_one(text, &o, data, len, o.file);
        }
        free(data);
    }
    t2g_text_free(text);
    return code;
}
