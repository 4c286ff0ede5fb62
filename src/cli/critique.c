/* t2g critique: one critique from the configured critic, with its spans found in the response:
 * for tuning a critique prompt or checking a critic server before a run. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "critique_rows.h"
#include "core/clock.h"
#include "core/read_file.h"
#include "core/utf8.h"

static const char HELP[] =
    "usage: t2g critique [--config FILE|NAME] [--set critic.KEY=VALUE ...] --prompt P\n"
    "                    (--response R | --response-file F) [--reference X] [--show-prompt] [--json]\n"
    "                    [--device D]\n"
    "       t2g critique [--config FILE|NAME] [--set critic.KEY=VALUE ...] --batch FILE.jsonl\n"
    "                    [--out FILE] [--device D]\n"
    "\n"
    "Asks the critic of the config (critic.kind \"http\": an OpenAI-compatible server;\n"
    "\"model\": a language model t2g runs; \"external\": a critic command) for one critique of a\n"
    "response to a prompt, and shows it: its words, its score, and each quoted span found in the\n"
    "response with the score every (byte) token gets, as t2g align shows them. The critic.* keys\n"
    "are those of t2g rl ('t2g train --help' lists them); critic.cache is used only when it names\n"
    "a file (there is no run folder).\n"
    "\n"
    "  --config FILE|NAME  a config file (its critic.* keys), or a built-in config\n"
    "  --set KEY=VALUE     override a key, e.g. --set critic.kind=http --set critic.url=http://127.0.0.1:8080/v1\n"
    "  --prompt P          the prompt the response answers\n"
    "  --response R        the response to judge\n"
    "  --response-file F   the response, read verbatim from a file\n"
    "  --reference X       a reference answer ({{reference}} in the prompt template)\n"
    "  --show-prompt       print the critique prompt sent to the model first (http and model critics)\n"
    "  --json              one JSON object: {\"feedback\", \"score\", \"format\", \"critic\": {...}, \"tokens\",\n"
    "                      \"spans\"} (tokens and spans as t2g align --json writes them)\n"
    "  --device D          the device of a model critic (index or part of its name)\n"
    "  --batch FILE.jsonl  many critiques at once (critic.workers in flight): one {\"prompt\", \"response\"\n"
    "                      [, \"reference\"]} object a line, all read (and checked) before the first is\n"
    "                      asked; out one JSON line each, in order: {\"prompt\", \"response\", \"ok\",\n"
    "                      \"attempts\", \"error\" and \"answer\" (not ok: the model's last answer, when it\n"
    "                      had one) or \"feedback\", \"score\", \"spans\"}; the counts\n"
    "                      on standard error (judged, failed, unparsed, spans found, requests, time)\n"
    "  --out FILE          with --batch: write FILE instead of standard output\n"
    "\n"
    "exit status: 0; 1 when the critic gave no critique (the reason on standard error; with --batch:\n"
    "when it gave none at all) or on a write error; 2 on bad usage, a malformed --batch line (named\n"
    "by its number) or a critic that cannot start.\n"
    "\n"
    "example: t2g critique --set critic.kind=http --set critic.url=http://127.0.0.1:8080/v1 \\\n"
    "           --prompt 'What is 17 + 25?' --response 'The sum is 43.' --reference 42\n";

typedef struct critique_args {
    const char *config, *prompt, *response, *response_file, *reference, *device, *batch, *out;
    const char *sets[64];
    int set_count;
    bool show_prompt, json;
} critique_args;

static int parse_args(int argc, char **argv, critique_args *a) {
    cli_args args = cli_args_start(argc, argv, 2, "critique");
    while (cli_args_more(&args)) {
        const char *set = NULL;
        if (cli_value(&args, "--config", &a->config) || cli_value(&args, "--prompt", &a->prompt) ||
            cli_value(&args, "--response", &a->response) || cli_value(&args, "--response-file", &a->response_file) ||
            cli_value(&args, "--reference", &a->reference) || cli_value(&args, "--device", &a->device) ||
            cli_value(&args, "--batch", &a->batch) || cli_value(&args, "--out", &a->out))
            continue;
        if (cli_flag(&args, "--show-prompt")) a->show_prompt = true;
        else if (cli_flag(&args, "--json")) a->json = true;
        else if (cli_value(&args, "--set", &set)) {
            if (a->set_count == 64) {
                cli_error("critique: at most 64 --set options");
                return EXIT_USAGE;
            }
            a->sets[a->set_count++] = set;
        } else
            return cli_unknown(&args);
    }
    if (args.failed) return EXIT_USAGE;
    if (a->batch ? a->prompt || a->response || a->response_file || a->reference || a->show_prompt || a->json
                 : !a->prompt || !a->response == !a->response_file || a->out) {
        cli_error("critique: give --prompt and one of --response or --response-file, or --batch FILE.jsonl alone "
                  "(with --out) (see 't2g critique --help')");
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

int cli_critic_cache(t2g_critic *critic, const t2g_config *config, const char *run_dir) {
    if (config->critic.kind != T2G_CRITIC_HTTP && config->critic.kind != T2G_CRITIC_MODEL) return EXIT_OK;
    if (strcmp(config->critic.cache, "none") == 0 || (!config->critic.cache[0] && !run_dir)) return EXIT_OK;
    char path[1200];
    snprintf(path, sizeof path, "%s", config->critic.cache[0] ? config->critic.cache : "");
    if (!config->critic.cache[0]) snprintf(path, sizeof path, "%s/critiques.jsonl", run_dir);
    t2g_error err = {0};
    if (t2g_critic_set_cache(critic, path, &err)) {
        cli_error("%s", err.message);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* The critic of the config: a language-model one (a device for "model") or an external command. */
static int make_critic(const t2g_config *config, const critique_args *a, t2g_device **device, t2g_critic **critic) {
    if (config->critic.kind == T2G_CRITIC_BUILTIN) {
        cli_error("critique: critic.kind is \"builtin\": the built-in critics judge their tasks' own examples; set "
                  "critic.kind to http, model or external (see 't2g critique --help')");
        return EXIT_USAGE;
    }
    if (config->critic.kind == T2G_CRITIC_MODEL &&
        cli_open_device(a->device ? a->device : config->device[0] ? config->device : NULL, device))
        return EXIT_USAGE;
    t2g_error err = {0};
    if ((config->critic.kind == T2G_CRITIC_EXTERNAL && t2g_critic_check_command(config->critic.command, &err)) ||
        t2g_critic_from_config(config, NULL, *device, critic, &err)) {
        cli_error("critique: %s", err.message);
        return err.status == T2G_ERR_MEMORY ? EXIT_FAILED : EXIT_USAGE;
    }
    return cli_critic_cache(*critic, config, NULL);
}

static cJSON *stats_json(const t2g_critic_stats *s, double ms) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "ms", ms);
    cJSON_AddNumberToObject(o, "requests", (double)s->requests);
    cJSON_AddNumberToObject(o, "retries", (double)s->retries);
    cJSON_AddNumberToObject(o, "prompt_tokens", (double)s->prompt_tokens);
    cJSON_AddNumberToObject(o, "completion_tokens", (double)s->completion_tokens);
    cJSON_AddNumberToObject(o, "cache_hits", (double)s->cache_hits);
    return o;
}

static void print_result(const t2g_config *config, const t2g_critic_stats *s, double ms) {
    if (config->critic.kind == T2G_CRITIC_EXTERNAL) { /* no requests or tokens of its own to count */
        printf("critic external: %.0f ms, %llu retr%s\n", ms, (unsigned long long)s->retries, s->retries == 1 ? "y" : "ies");
        return;
    }
    printf("critic %s: %.0f ms, %llu request%s, %llu retr%s, tokens %llu in + %llu out%s\n",
           t2g_config_name("critic.kind", config->critic.kind), ms, (unsigned long long)s->requests,
           s->requests == 1 ? "" : "s", (unsigned long long)s->retries, s->retries == 1 ? "y" : "ies",
           (unsigned long long)s->prompt_tokens, (unsigned long long)s->completion_tokens,
           s->cache_hits ? " (from the cache)" : "");
}

static int judge(const t2g_config *config, const critique_args *a, t2g_critic *critic, const char *response, size_t len) {
    t2g_critic_request request = {.id = 0, .prompt = a->prompt, .response = response, .response_len = len,
                                  .reference = a->reference};
    t2g_error err = {0};
    if (a->show_prompt) {
        char *text = NULL;
        size_t text_len = 0;
        if (t2g_critic_prompt(critic, &request, &text, &text_len, &err)) {
            cli_error("critique: --show-prompt: %s", err.message);
            return EXIT_USAGE;
        }
        printf("---- the critique prompt (%zu bytes) ----\n%s\n---- end of the prompt ----\n", text_len, text);
        free(text);
    }
    t2g_critic_result result = {0};
    double start = t2g_clock_ms();
    if (t2g_critic_judge(critic, &request, 1, &result, &err)) {
        cli_error("critique: %s", err.message);
        return EXIT_FAILED;
    }
    double ms = t2g_clock_ms() - start;
    const t2g_critic_stats *s = t2g_critic_get_stats(critic);
    if (!result.ok) {
        cli_error("critique: the critic gave no critique after %u attempt%s: %s", result.attempts,
                  result.attempts == 1 ? "" : "s", result.error);
        if (result.answer) {
            char *answer = t2g_utf8_sanitize(result.answer, strlen(result.answer), NULL);
            fprintf(stderr, "its last answer:\n%s\n", answer ? answer : "");
            free(answer);
        }
        t2g_critic_result_free(&result);
        return EXIT_FAILED;
    }
    cJSON *json = NULL;
    if (a->json) {
        static const char *const formats[] = {"spans", "code", "words"};
        json = cJSON_CreateObject();
        char *feedback = t2g_utf8_sanitize(result.critique.feedback, strlen(result.critique.feedback), NULL);
        cJSON_AddStringToObject(json, "feedback", feedback ? feedback : "");
        free(feedback);
        cJSON_AddNumberToObject(json, "score", result.score);
        cJSON_AddStringToObject(json, "format", formats[result.critique.format]);
        cJSON_AddItemToObject(json, "critic", stats_json(s, ms));
    } else {
        print_result(config, s, ms);
    }
    t2g_span_scores scores = t2g_span_scores_default();
    scores.fuzzy_threshold = config->rl.fuzzy_threshold;
    scores.zero_punctuation = config->rl.zero_punctuation != 0;
    int code = cli_show_critique("critique", response, len, &result.critique, &scores, json);
    t2g_critic_result_free(&result);
    return code;
}

int cmd_critique(int argc, char **argv) {
    if (argc >= 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
        fputs(HELP, stdout);
        return EXIT_OK;
    }
    critique_args a = {0};
    int code = parse_args(argc, argv, &a);
    t2g_config config;
    if (!code) code = cli_load_config(a.config, a.sets, a.set_count, false, &config);
    char *response = NULL;
    size_t len = 0;
    t2g_error err = {0};
    critique_rows rows = {0};
    if (!code && a.batch) code = critique_rows_read(a.batch, &config, &rows); /* every line checked before the critic starts */
    if (!code && a.response_file &&
        t2g_file_read(a.response_file, "the response file", (t2g_read_cap){config.data.max_line_bytes, "data.max_line_bytes"},
                      &response, &len, &err)) {
        cli_error("critique: --response-file: %s", err.message);
        code = EXIT_USAGE;
    }
    if (!code && a.response) {
        len = strlen(a.response);
        response = strdup(a.response);
        if (!response) code = EXIT_FAILED;
    }
    t2g_device *device = NULL;
    t2g_critic *critic = NULL;
    if (!code) code = make_critic(&config, &a, &device, &critic);
    if (!code) code = a.batch ? critique_rows_judge(&rows, a.out, critic) : judge(&config, &a, critic, response, len);
    critique_rows_free(&rows);
    t2g_critic_destroy(critic);
    free(response);
    int closing = device ? cli_close_device(device) : EXIT_OK;
    return code ? code : closing;
}
