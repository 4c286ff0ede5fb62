/* The model a command reads: --ckpt (a t2g checkpoint or run folder) or --model (any model path,
 * t2g/model_path.h), the note printed when a Hugging Face folder's text is read with t2g's byte
 * tokenizer because the folder has no tokenizer.json (t2g_hf_check_tokenizer), and the chat
 * template its text is read with (--chat-template, --system-prompt). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

void cli_note_model(const char *what, const char *path) {
    t2g_model_path_kind kind;
    char dir[4200], tokenizer[4300];
    if (!path || !*path || t2g_model_path(path, &kind, dir, sizeof dir, NULL) || kind != T2G_MODEL_HF) return;
    snprintf(tokenizer, sizeof tokenizer, "%s/tokenizer.json", dir);
    if (access(tokenizer, F_OK) == 0) return;
    fprintf(stderr,
            "t2g: note: %s %s has no tokenizer.json: its text is read with t2g's byte tokenizer (ids 0-255 the bytes, "
            "256 <|bos|>, 257 <|eos|>, 258 <|pad|>)\n",
            what, path);
}

void cli_note_text(const t2g_text *text, const char *chosen) {
    if (text && !t2g_text_is_bytes(text) && chosen && chosen[0]) fprintf(stderr, "t2g: note: %s\n", chosen);
}

int cli_chat_config(const char *command, const char *chat_template, const char *system_prompt, t2g_config *config) {
    t2g_error err = {0};
    t2g_chat_format format;
    bool is_auto;
    if (chat_template && t2g_chat_format_parse(chat_template, &format, &is_auto, &err)) {
        cli_error("%s: --chat-template: %s", command, err.message);
        return EXIT_USAGE;
    }
    if (system_prompt && strlen(system_prompt) >= sizeof config->system_prompt) {
        cli_error("%s: --system-prompt: at most %zu bytes, got %zu", command, sizeof config->system_prompt - 1,
                  strlen(system_prompt));
        return EXIT_USAGE;
    }
    char assignment[64];
    snprintf(assignment, sizeof assignment, "model.chat_template=%s", chat_template ? chat_template : "");
    if (chat_template && t2g_config_set(config, assignment, &err)) { /* a name t2g_chat_format_parse took */
        cli_error("%s: --chat-template: %s", command, err.message);
        return EXIT_USAGE;
    }
    bool no_system_turn = chat_template && strcmp(chat_template, "none") == 0;
    if (no_system_turn && system_prompt && system_prompt[0]) {
        cli_error("%s: --system-prompt with --chat-template none: the template none has no system turn (give a "
                  "template that has one, or no --system-prompt)", command);
        return EXIT_USAGE;
    }
    if (system_prompt || no_system_turn)
        snprintf(config->system_prompt, sizeof config->system_prompt, "%s", system_prompt ? system_prompt : "");
    return EXIT_OK;
}

int cli_text_chat(const char *command, t2g_text *text, const t2g_config *config, const char *chat_template,
                  const char *system_prompt, const char *chosen) {
    char own_choice[512];
    if (chat_template || system_prompt) {
        t2g_config chat = *config;
        t2g_error err = {0};
        if (cli_chat_config(command, chat_template, system_prompt, &chat)) return EXIT_USAGE;
        const char *name = t2g_config_name("model.chat_template", chat.chat_template);
        if (t2g_text_set_chat(text, name, chat.system_prompt, own_choice, sizeof own_choice, &err)) {
            cli_error("%s: %s%s%s%s: %s", command, chat_template ? "--chat-template " : "", chat_template ? chat_template : "",
                      chat_template && system_prompt ? " " : "", system_prompt ? "--system-prompt" : "", err.message);
            return EXIT_USAGE;
        }
        chosen = own_choice;
    }
    cli_note_text(text, chosen);
    return EXIT_OK;
}

int cli_model_arg(const char *command, const char *ckpt, const char *model, const char **path) {
    *path = ckpt ? ckpt : model;
    if (ckpt && model) {
        cli_error("%s: give --ckpt or --model, not both (--model takes any model: a checkpoint, a run folder or a "
                  "Hugging Face folder)",
                  command);
        return EXIT_USAGE;
    }
    if (!*path) return EXIT_OK;
    t2g_model_path_kind kind;
    char resolved[4200];
    t2g_error err = {0};
    if (t2g_model_path(*path, &kind, resolved, sizeof resolved, &err)) {
        cli_error("%s: %s %s", command, ckpt ? "--ckpt" : "--model", err.message);
        return EXIT_USAGE;
    }
    if (ckpt && (kind == T2G_MODEL_HF || kind == T2G_MODEL_GGUF)) {
        cli_error("%s: --ckpt %s is a %s; --ckpt takes a t2g checkpoint or run folder: use --model %s", command, ckpt,
                  t2g_model_path_kind_name(kind), ckpt);
        return EXIT_USAGE;
    }
    cli_note_model("--model", model);
    return EXIT_OK;
}
