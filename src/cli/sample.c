/* t2g sample --ckpt C|--model M --prompt P: generate from a model, many prompts at once. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/read_file.h"
#include "t2g/tokenizer.h"
#include "t2g/train.h"

#define MAX_PROMPTS 256

static const char HELP[] =
    "usage: t2g sample --ckpt CHECKPOINT|RUN | --model MODEL --prompt TEXT [--prompt TEXT ...] [--prompts-file FILE]\n"
    "                  [--temperature T] [--top-k K] [--top-p P] [--max-new N] [--seed S] [--no-eos-stop]\n"
    "                  [--special] [--chat-template NAME] [--system-prompt TEXT] [--context N]\n"
    "                  [--device N|NAME] [--json]\n"
    "\n"
    "Generates a response to every prompt, all in one batch, with the KV cache on the GPU.\n"
    "Each prompt is wrapped as in training: in the model's chat template (model.chat_template of\n"
    "its run; a Hugging Face folder or GGUF file: the template its tokenizer names), or for t2g's\n"
    "byte models after BOS. Generation stops at the end-of-turn token. One prompt's response is\n"
    "printed as it is generated (never half a character). Output is valid UTF-8: a byte that is\n"
    "not part of a valid character is written as \\xHH; special tokens are left out.\n"
    "\n"
    "  --ckpt C            a t2g checkpoint, or a run folder (its checkpoint.bin)\n"
    "  --model M           any model instead: a checkpoint, a run folder, a Hugging Face folder\n"
    "                      (config.json, model.safetensors, tokenizer.json and tokenizer_config.json;\n"
    "                      no tokenizer.json: t2g's byte tokenizer) or a GGUF file\n"
    "  --prompt TEXT       a prompt (repeatable; up to 256)\n"
    "  --prompts-file F    one prompt per line\n"
    "  --temperature T     0 is greedy (default 1)\n"
    "  --top-k K           keep the K most likely tokens (default 0: all)\n"
    "  --top-p P           nucleus sampling, 0 < P <= 1 (default 1: all)\n"
    "  --max-new N         at most N new tokens per prompt (default 64)\n"
    "  --seed S            the same seed gives the same text (default 1)\n"
    "  --no-eos-stop       keep generating after an end-of-turn token\n"
    "  --special           special-token texts in a prompt (\"<|im_end|>\") become those tokens\n"
    "  --chat-template N   auto|none|chatml|llama3 instead of the model's own (a run's\n"
    "                      model.chat_template; else auto: the template its tokenizer names); none:\n"
    "                      BOS (if the tokenizer adds one) and the prompt. t2g's byte models have no\n"
    "                      chat template: they take only auto or none, and no --system-prompt\n"
    "  --system-prompt T   the system turn (default: the run's model.system_prompt, else the template's\n"
    "                      own, if any; none with --chat-template none)\n"
    "  --context N         a Hugging Face folder's or GGUF file's context at most N (default: its own;\n"
    "                      SmolLM2's 8192 needs a large KV cache)\n"
    "  --json              {\"samples\": [{\"prompt\", \"prompt_tokens\", \"response\", \"tokens\",\n"
    "                      \"ended_with_eos\"}]} (prompt_tokens: the prompt's ids, template included)\n"
    "\n"
    "example: t2g sample --ckpt runs/arith-20261127-120000/checkpoint.bin --prompt '347+589=' --temperature 0\n"
    "         t2g sample --model exported/ --prompt '347+589=' --temperature 0\n"
    "         t2g sample --model smollm2.gguf --prompt 'Hi' --system-prompt 'Answer in French.'\n";

typedef struct prompts {
    char *text[MAX_PROMPTS];
    size_t len[MAX_PROMPTS];
    uint32_t count;
    char *file_data;
} prompts;

static int add_prompt(prompts *p, char *text, size_t len) {
    if (p->count == MAX_PROMPTS) {
        cli_error("sample: at most %d prompts at once", MAX_PROMPTS);
        return EXIT_USAGE;
    }
    p->text[p->count] = text;
    p->len[p->count++] = len;
    return EXIT_OK;
}

static int read_prompts_file(prompts *p, const char *path) {
    size_t len;
    t2g_error err = {0};
    /* at most MAX_PROMPTS prompts, each shorter than a context: 1 MiB is ample */
    if (t2g_file_read(path, "the prompts file", (t2g_read_cap){T2G_CONFIG_MAX_BYTES, NULL}, &p->file_data, &len, &err)) {
        cli_error("sample: --prompts-file: %s", err.message);
        return EXIT_USAGE;
    }
    for (char *line = p->file_data; *line;) {
        char *end = strchr(line, '\n');
        if (end) *end = 0;
        size_t n = strlen(line);
        if (n && line[n - 1] == '\r') line[--n] = 0;
        if (n && add_prompt(p, line, n)) return EXIT_USAGE;
        if (!end) break;
        line = end + 1;
    }
    return EXIT_OK;
}

static void print_results(const t2g_text *text, const prompts *p, const uint32_t *prompt_lens, const t2g_generation *g,
                          bool json) {
    cJSON *root = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(root, "samples");
    for (uint32_t i = 0; i < p->count; i++) {
        uint32_t len = g->lengths[i] - (g->ended_with_eos[i] ? 1 : 0);
        size_t bytes;
        char *raw = NULL;
        t2g_error ignored; /* ids the model made are ids of its vocabulary; a failure is out of memory */
        t2g_text_decode(text, g->tokens + (size_t)i * g->max_new_tokens, len, true, &raw, &bytes, &ignored);
        char *response = raw ? t2g_utf8_escape(raw, bytes) : NULL;
        char *prompt = t2g_utf8_escape(p->text[i], p->len[i]);
        if (json) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "prompt", prompt ? prompt : "");
            cJSON_AddNumberToObject(o, "prompt_tokens", prompt_lens[i]);
            cJSON_AddStringToObject(o, "response", response ? response : "");
            cJSON_AddNumberToObject(o, "tokens", g->lengths[i]);
            cJSON_AddBoolToObject(o, "ended_with_eos", g->ended_with_eos[i]);
            cJSON_AddItemToArray(list, o);
        } else {
            printf("%s%s%s\n", prompt ? prompt : "", response ? response : "", g->ended_with_eos[i] ? "" : " [no EOS]");
        }
        free(raw);
        free(response);
        free(prompt);
    }
    if (json) {
        char *text = cJSON_Print(root);
        puts(text);
        cJSON_free(text);
    }
    cJSON_Delete(root);
}

/* One prompt's response printed as it is generated, as print_results would print it: the
 * prompt, then each token's bytes (special tokens left out) once they end a whole character. */
typedef struct stream_printer {
    const t2g_text *text;
    t2g_bpe_stream stream;
    bool stopped;               /* the end-of-turn token came: nothing after it is printed */
    bool started;               /* the prompt is printed (with the first token: not before an error) */
    const t2g_sampling *sampling;
    const char *prompt;
    size_t prompt_len;
} stream_printer;

static void print_bytes(const char *bytes, size_t len) {
    char *escaped = t2g_utf8_escape(bytes, len);
    if (escaped) fputs(escaped, stdout);
    free(escaped);
}

static void print_token(void *user, uint32_t sequence, uint32_t token) {
    stream_printer *printer = user;
    (void)sequence;
    if (!printer->started) print_bytes(printer->prompt, printer->prompt_len);
    printer->started = true;
    for (uint32_t k = 0; k < printer->sampling->stop_count && printer->sampling->stop_at_eos; k++)
        printer->stopped = printer->stopped || token == printer->sampling->stop_ids[k];
    char *bytes = NULL;
    size_t len = 0;
    t2g_error ignored;
    if (!printer->stopped && !t2g_text_stream_next(printer->text, &printer->stream, token, true, &bytes, &len, &ignored))
        print_bytes(bytes, len);
    free(bytes);
    fflush(stdout);
}

static int generate(t2g_gpt *gpt, const t2g_text *text, bool parse_special, const prompts *p,
                    const t2g_sampling *sampling_in, bool json) {
    t2g_sampling copy = *sampling_in, *sampling = &copy;
    stream_printer printer = {.text = text, .sampling = sampling, .prompt = p->text[0], .prompt_len = p->len[0]};
    bool streaming = p->count == 1 && !json;
    uint32_t *ids[MAX_PROMPTS] = {0}, lens[MAX_PROMPTS];
    int code = EXIT_OK;
    t2g_error err = {0};
    for (uint32_t i = 0; i < p->count && !code; i++) {
        size_t count = 0;
        if (t2g_text_prompt(text, p->text[i], p->len[i], parse_special, &ids[i], &count, &err)) {
            cli_error("sample: prompt %u: %s", i + 1, err.message);
            code = EXIT_USAGE;
        }
        lens[i] = count > UINT32_MAX ? UINT32_MAX : (uint32_t)count;
    }
    t2g_generator *generator = NULL;
    t2g_generation generation = {0};
    if (!code && streaming) {
        sampling->on_token = print_token;
        sampling->on_token_user = &printer;
    }
    if (!code && (t2g_generator_create(gpt, p->count, &generator, &err) ||
                  t2g_generate(generator, (const uint32_t *const *)ids, lens, p->count, sampling, &generation, &err))) {
        cli_error("sample: %s", err.message);
        code = err.status == T2G_ERR_ARGUMENT ? EXIT_USAGE : EXIT_FAILED;
    }
    if (!code && streaming) {
        char held[4];
        print_bytes(held, t2g_bpe_stream_finish(&printer.stream, held));
        printf("%s\n", generation.ended_with_eos[0] ? "" : " [no EOS]");
    } else if (!code) {
        print_results(text, p, lens, &generation, json);
    }
    t2g_generation_free(&generation);
    t2g_generator_destroy(generator);
    for (uint32_t i = 0; i < p->count; i++) free(ids[i]);
    return code;
}

int cmd_sample(int argc, char **argv) {
    const char *ckpt = NULL, *model = NULL, *file = NULL, *device = NULL, *text = NULL;
    const char *temperature = NULL, *top_k = NULL, *top_p = NULL, *max_new = NULL, *seed = NULL, *context_text = NULL;
    const char *chat_template = NULL, *system_prompt = NULL;
    bool json = false, no_eos_stop = false, special = false;
    prompts p = {0};
    int code = EXIT_OK;
    cli_args args = cli_args_start(argc, argv, 2, "sample");
    while (cli_args_more(&args) && !code) {
        if (cli_flag(&args, "--help") || cli_flag(&args, "-h")) {
            fputs(HELP, stdout);
            return EXIT_OK;
        } else if (cli_value(&args, "--prompt", &text)) {
            if (text) code = add_prompt(&p, (char *)text, strlen(text));
        } else if (cli_value(&args, "--ckpt", &ckpt) || cli_value(&args, "--model", &model) ||
                   cli_value(&args, "--prompts-file", &file) ||
                   cli_value(&args, "--device", &device) || cli_value(&args, "--temperature", &temperature) ||
                   cli_value(&args, "--top-k", &top_k) || cli_value(&args, "--top-p", &top_p) ||
                   cli_value(&args, "--max-new", &max_new) || cli_value(&args, "--seed", &seed) ||
                   cli_value(&args, "--context", &context_text) ||
                   cli_value(&args, "--chat-template", &chat_template) ||
                   cli_value(&args, "--system-prompt", &system_prompt)) {
        } else if (cli_flag(&args, "--json")) {
            json = true;
        } else if (cli_flag(&args, "--no-eos-stop")) {
            no_eos_stop = true;
        } else if (cli_flag(&args, "--special")) {
            special = true;
        } else {
            return cli_unknown(&args);
        }
    }
    if (args.failed || code) return EXIT_USAGE;
    if (file && read_prompts_file(&p, file)) return EXIT_USAGE;
    if ((!ckpt && !model) || p.count == 0) {
        cli_error("sample: --ckpt (or --model) and at least one --prompt (or --prompts-file) are required (see 't2g "
                  "sample --help')");
        free(p.file_data);
        return EXIT_USAGE;
    }
    t2g_sampling sampling = t2g_sampling_default();
    double t = sampling.temperature, tp = sampling.top_p;
    uint64_t k = sampling.top_k, n = sampling.max_new_tokens, s = sampling.seed, context = 0;
    if ((temperature && !cli_parse_double(temperature, 0, 100, &t)) || (top_p && !cli_parse_double(top_p, 1e-9, 1, &tp)) ||
        (top_k && !cli_parse_u64(top_k, 1u << 20, &k)) || (max_new && (!cli_parse_u64(max_new, 1u << 20, &n) || !n)) ||
        (seed && !cli_parse_u64(seed, UINT64_MAX, &s)) ||
        (context_text && (!cli_parse_u64(context_text, T2G_CONTEXT_MAX, &context) || context < 2))) {
        cli_error("sample: --temperature expects a number in [0, 100], --top-p in (0, 1], --top-k a non-negative "
                  "integer, --max-new a positive integer, --seed a non-negative integer, --context an integer from 2 "
                  "to %u", T2G_CONTEXT_MAX);
        free(p.file_data);
        return EXIT_USAGE;
    }
    sampling.temperature = (float)t, sampling.top_p = (float)tp, sampling.top_k = (uint32_t)k;
    sampling.max_new_tokens = (uint32_t)n, sampling.seed = s, sampling.stop_at_eos = !no_eos_stop;
    const char *path;
    t2g_config checked = t2g_config_defaults(); /* a bad --chat-template is named before the model loads */
    if (cli_chat_config("sample", chat_template, system_prompt, &checked) || cli_model_arg("sample", ckpt, model, &path)) {
        free(p.file_data);
        return EXIT_USAGE;
    }

    t2g_device *dev;
    code = cli_open_device(device, &dev);
    t2g_gpt *gpt = NULL;
    t2g_text *model_text = NULL;
    t2g_config config;
    t2g_error err = {0};
    char chosen[512];
    if (!code && t2g_model_load_frozen_text(dev, path, (uint32_t)context, 1, 0, &gpt, &config, &model_text, chosen, sizeof chosen, &err)) {
        cli_error("sample: %s", err.message);
        code = EXIT_USAGE;
    }
    if (!code) code = cli_text_chat("sample", model_text, &config, chat_template, system_prompt, chosen);
    if (!code) {
        t2g_text_sampling(model_text, &sampling);
        code = generate(gpt, model_text, special, &p, &sampling, json);
    }
    t2g_gpt_destroy(gpt);
    t2g_text_free(model_text);
    free(p.file_data);
    int closing = code == EXIT_USAGE && !dev ? EXIT_OK : cli_close_device(dev);
    return code ? code : closing;
}
