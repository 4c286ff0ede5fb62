/* The chat template of a model's text (t2g_text_set_chat): the name asked for, or the one its
 * tokenizer_config.json's template is recognised as; its end-of-turn token; the system prompt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/text_internal.h"

/* The system prompt: model.system_prompt when set, else the template's default (NULL: none). */
static t2g_status choose_system(t2g_text *text, const char *system, char **default_system, t2g_error *err) {
    free(text->system);
    text->system = NULL;
    if (system && system[0]) {
        text->system = strdup(system);
        if (!text->system) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory");
    } else {
        text->system = *default_system;
        *default_system = NULL;
    }
    return T2G_OK;
}

/* The format "auto" stands for: the tokenizer_config.json's template recognised, or none. */
static t2g_status recognise(t2g_text *text, t2g_chat_format *format, char **default_system, const char **from,
                            t2g_error *err) {
    *from = "tokenizer_config.json has no chat_template";
    if (!text->template_jinja) return T2G_OK;
    char where[600];
    snprintf(where, sizeof where, "%s: tokenizer_config.json: chat_template", text->where);
    *from = "recognised in tokenizer_config.json's chat_template";
    return t2g_chat_recognise(text->template_jinja, where, format, default_system, err);
}

/* The end-of-turn token of the format: its special token, or EOS for none. */
static t2g_status end_of_turn(t2g_text *text, t2g_chat_format format, t2g_error *err) {
    const char *marker = t2g_chat_end_of_turn(format);
    if (!marker) {
        text->end_of_turn = text->eos; /* none: a response needs one (t2g_text_response says so) */
        return T2G_OK;
    }
    int64_t id = t2g_bpe_token_id(text->bpe, marker);
    if (id < 0)
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: the %s chat template ends a turn with %s, which the tokenizer does not "
                        "have: expected the tokenizer of a %s model", text->where, t2g_chat_format_name(format),
                        marker, t2g_chat_format_name(format));
    text->end_of_turn = id;
    return T2G_OK;
}

t2g_status t2g_text_set_chat(t2g_text *text, const char *name, const char *system, char *chosen, size_t chosen_size,
                             t2g_error *err) {
    t2g_chat_format format = T2G_CHAT_NONE;
    bool is_auto = false;
    char *default_system = NULL;
    const char *from = "as model.chat_template asks";
    t2g_status status = t2g_chat_format_parse(name, &format, &is_auto, err);
    if (status) return t2g_error_context(err, "model.chat_template");
    if (!text->bpe) {
        if (format != T2G_CHAT_NONE)
            return t2g_fail(err, T2G_ERR_ARGUMENT, "model.chat_template is \"%s\" but the model reads text with t2g's "
                            "byte tokenizer, which has no chat template: expected \"none\" or \"auto\"", name);
        if (system && system[0])
            return t2g_fail(err, T2G_ERR_ARGUMENT, "model.system_prompt is set but the model reads text with t2g's "
                            "byte tokenizer, which has no chat template to put it in");
        if (chosen && chosen_size) snprintf(chosen, chosen_size, "chat template none (t2g's byte tokenizer)");
        return T2G_OK;
    }
    if (is_auto) status = recognise(text, &format, &default_system, &from, err);
    if (!status && format == T2G_CHAT_NONE && system && system[0])
        status = t2g_fail(err, T2G_ERR_ARGUMENT, "model.system_prompt is set but the chat template is none (%s), which "
                          "has no system turn: set model.chat_template", from);
    if (!status) status = end_of_turn(text, format, err);
    if (!status) status = choose_system(text, system, &default_system, err);
    free(default_system);
    if (status) return status;
    text->chat = format;
    if (chosen && chosen_size)
        snprintf(chosen, chosen_size, "chat template %s (%s), %s", t2g_chat_format_name(format), from,
                 text->system ? (system && system[0] ? "system prompt from model.system_prompt"
                                                     : "the template's default system prompt")
                              : "no system prompt");
    return T2G_OK;
}
