/* Chat templates on arbitrary bytes: the input is a Jinja chat template for t2g_chat_recognise
 * (which gives a format and a default system prompt, or an error with a message), and its bytes,
 * cut in three, are a system message, a prompt and a response for t2g_chat_render in every
 * format, with and without a response. A rendering holds the contents (chatml and none: whole;
 * llama3: trimmed, so no longer), and its special-token ranges are in order, inside the text,
 * each the text of a token the format writes. */
#include <string.h>

#include "fuzz.h"

static bool known_special(const char *s, size_t n) {
    static const char *const tokens[] = {"<|im_start|>", "<|im_end|>", "<|start_header_id|>", "<|end_header_id|>",
                                         "<|eot_id|>", "<s>"};
    for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++)
        if (strlen(tokens[i]) == n && memcmp(tokens[i], s, n) == 0) return true;
    return false;
}

static void render(t2g_chat_format format, const char *bytes, size_t a, size_t b, size_t len, bool response) {
    t2g_chat_text text;
    t2g_error err = {0};
    bool system = format != T2G_CHAT_NONE;
    t2g_status status = t2g_chat_render(format, "<s>", system ? bytes : NULL, system ? a : 0, bytes + a, b - a,
                                        response ? bytes + b : NULL, response ? len - b : 0, &text, &err);
    FUZZ_CHECK(status == T2G_OK);
    size_t contents = (system ? a : 0) + (b - a) + (response ? len - b : 0), markup = 0, at = 0;
    for (size_t i = 0; i < text.specials_count; i++) {
        t2g_token_span s = text.specials[i];
        FUZZ_CHECK(s.start >= at && s.end > s.start && s.end <= text.len);
        FUZZ_CHECK(known_special(text.text + s.start, s.end - s.start));
        markup += s.end - s.start;
        at = s.end;
    }
    FUZZ_CHECK(text.text[text.len] == '\0' && text.len >= markup);
    if (format == T2G_CHAT_LLAMA3) FUZZ_CHECK(text.len - markup <= contents + 25); /* roles: 19 bytes, "\n\n": 6 */
    else FUZZ_CHECK(text.len - markup >= contents);
    t2g_chat_text_free(&text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *jinja = malloc(size + 1);
    FUZZ_CHECK(jinja != NULL);
    memcpy(jinja, data, size);
    jinja[size] = '\0';
    t2g_chat_format format = (t2g_chat_format)99;
    char *system = NULL;
    t2g_error err = {0};
    t2g_status status = t2g_chat_recognise(jinja, "fuzz", &format, &system, &err);
    FUZZ_CHECK_ERROR(status, err);
    if (status == T2G_OK) FUZZ_CHECK(t2g_chat_format_name(format) != NULL && (!system || strlen(system) <= size));
    else FUZZ_CHECK(format == (t2g_chat_format)99 && !system);
    free(system);
    size_t a = size / 3, b = 2 * size / 3;
    const t2g_chat_format formats[] = {T2G_CHAT_NONE, T2G_CHAT_CHATML, T2G_CHAT_LLAMA3};
    for (int f = 0; f < 3; f++)
        for (int response = 0; response < 2; response++) render(formats[f], jinja, a, b, size, response);
    free(jinja);
    return 0;
}
