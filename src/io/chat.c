/* Chat formats by name, and rendering a conversation in one (include/t2g/chat.h). */
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "core/utf8.h"
#include "t2g/chat.h"

const char *t2g_chat_format_name(t2g_chat_format format) {
    switch (format) {
    case T2G_CHAT_NONE: return "none";
    case T2G_CHAT_CHATML: return "chatml";
    case T2G_CHAT_LLAMA3: return "llama3";
    }
    return NULL;
}

t2g_status t2g_chat_format_parse(const char *name, t2g_chat_format *format, bool *is_auto, t2g_error *err) {
    if (!name || !format || !is_auto) return t2g_fail(err, T2G_ERR_ARGUMENT, "t2g_chat_format_parse: a NULL argument");
    *is_auto = strcmp(name, "auto") == 0;
    if (*is_auto) return T2G_OK;
    const t2g_chat_format formats[] = {T2G_CHAT_NONE, T2G_CHAT_CHATML, T2G_CHAT_LLAMA3};
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (strcmp(name, t2g_chat_format_name(formats[i])) == 0) {
            *format = formats[i];
            return T2G_OK;
        }
    return t2g_fail(err, T2G_ERR_ARGUMENT, "chat template \"%.200s\" is not one of auto, chatml, llama3, none", name);
}

const char *t2g_chat_end_of_turn(t2g_chat_format format) {
    switch (format) {
    case T2G_CHAT_CHATML: return "<|im_end|>";
    case T2G_CHAT_LLAMA3: return "<|eot_id|>";
    case T2G_CHAT_NONE: break;
    }
    return NULL;
}

void t2g_chat_text_free(t2g_chat_text *text) {
    if (!text) return;
    free(text->text);
    free(text->specials);
    memset(text, 0, sizeof *text);
}

/* ---- the text being rendered ---- */

typedef struct chat_builder {
    t2g_chat_text *out;
    size_t text_capacity, specials_capacity;
    bool out_of_memory;
} chat_builder;

static void put_text(chat_builder *b, const char *bytes, size_t n) {
    t2g_chat_text *t = b->out;
    if (b->out_of_memory || n > SIZE_MAX - 1 - t->len || !t2g_grow(&t->text, &b->text_capacity, t->len + n + 1, 1)) {
        b->out_of_memory = true;
        return;
    }
    if (n) memcpy(t->text + t->len, bytes, n);
    t->len += n;
    t->text[t->len] = '\0';
}

static void put_string(chat_builder *b, const char *s) { put_text(b, s, strlen(s)); }

/* A special token the template writes: its text, and its range. */
static void put_special(chat_builder *b, const char *token) {
    t2g_chat_text *t = b->out;
    size_t start = t->len;
    put_string(b, token);
    if (b->out_of_memory) return;
    if (!t2g_grow(&t->specials, &b->specials_capacity, t->specials_count + 1, sizeof *t->specials)) {
        b->out_of_memory = true;
        return;
    }
    t->specials[t->specials_count++] = (t2g_token_span){(uint32_t)start, (uint32_t)t->len};
}

/* ---- Jinja's trim: Python's str.strip(), whose whitespace is str.isspace's ---- */

/* The code points for which Python's str.isspace() is true: general category Zs, or
 * bidirectional class WS, B or S. */
static bool python_space(uint32_t cp) {
    if ((cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 || cp == 0x1680)
        return true;
    return (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
           cp == 0x3000;
}

/* Narrows s[*start, *end) past the whitespace characters at both ends (bytes that are not valid
 * UTF-8 are not whitespace). */
static void trim(const char *s, size_t *start, size_t *end) {
    const unsigned char *b = (const unsigned char *)s;
    uint32_t cp;
    size_t n;
    while (*start < *end && (n = t2g_utf8_sequence(b + *start, *end - *start, &cp)) && python_space(cp)) *start += n;
    while (*end > *start) {
        size_t first = *end - 1;
        while (first > *start && *end - first < 4 && (b[first] & 0xC0) == 0x80) first--;
        n = t2g_utf8_sequence(b + first, *end - first, &cp);
        if (n != *end - first || !python_space(cp)) break;
        *end = first;
    }
}

/* A message's contents, trimmed when the format does. */
static void put_content(chat_builder *b, t2g_chat_format format, const char *s, size_t n) {
    size_t start = 0, end = n;
    if (format == T2G_CHAT_LLAMA3) trim(s, &start, &end);
    put_text(b, s + start, end - start);
}

/* One header: the role's markup up to where the contents begin. */
static void put_header(chat_builder *b, t2g_chat_format format, const char *role) {
    if (format == T2G_CHAT_CHATML) {
        put_special(b, "<|im_start|>");
        put_string(b, role);
        put_string(b, "\n");
    } else {
        put_special(b, "<|start_header_id|>");
        put_string(b, role);
        put_special(b, "<|end_header_id|>");
        put_string(b, "\n\n");
    }
}

/* A whole turn: header, contents, end of turn (and chatml's "\n" after it). */
static void put_turn(chat_builder *b, t2g_chat_format format, const char *role, const char *s, size_t n) {
    put_header(b, format, role);
    put_content(b, format, s, n);
    put_special(b, t2g_chat_end_of_turn(format));
    if (format == T2G_CHAT_CHATML) put_string(b, "\n");
}

static t2g_status check_content(const char *what, const char *s, size_t n, t2g_error *err) {
    if (!s && n) return t2g_fail(err, T2G_ERR_ARGUMENT, "t2g_chat_render: the %s is NULL with length %zu", what, n);
    return T2G_OK;
}

t2g_status t2g_chat_render(t2g_chat_format format, const char *bos, const char *system, size_t system_len,
                           const char *prompt, size_t prompt_len, const char *response, size_t response_len,
                           t2g_chat_text *out, t2g_error *err) {
    if (!out) return t2g_fail(err, T2G_ERR_ARGUMENT, "t2g_chat_render: out is NULL");
    memset(out, 0, sizeof *out);
    if (!t2g_chat_format_name(format)) return t2g_fail(err, T2G_ERR_ARGUMENT, "t2g_chat_render: unknown format %d", (int)format);
    t2g_status status;
    if ((status = check_content("system message", system ? system : "", system_len, err)) != T2G_OK ||
        (status = check_content("prompt", prompt, prompt_len, err)) != T2G_OK ||
        (status = check_content("response", response ? response : "", response_len, err)) != T2G_OK)
        return status;
    if (format == T2G_CHAT_NONE && system)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "chat template none has no system message; set model.chat_template "
                                               "to chatml or llama3, or leave the system prompt out");
    chat_builder b = {out, 0, 0, false};
    put_text(&b, "", 0); /* the NUL of an empty text */
    if (bos && format != T2G_CHAT_CHATML) put_special(&b, bos);
    if (format == T2G_CHAT_NONE) {
        put_text(&b, prompt, prompt_len);
        if (response) put_text(&b, response, response_len);
    } else {
        if (system) put_turn(&b, format, "system", system, system_len);
        put_turn(&b, format, "user", prompt, prompt_len);
        put_header(&b, format, "assistant");
        if (response) {
            put_content(&b, format, response, response_len);
            put_special(&b, t2g_chat_end_of_turn(format));
        }
    }
    if (!b.out_of_memory && out->len > UINT32_MAX) {
        t2g_chat_text_free(out);
        return t2g_fail(err, T2G_ERR_TOO_LARGE, "t2g_chat_render: the conversation's %zu bytes are above 4 GiB",
                        out->len);
    }
    if (b.out_of_memory) {
        t2g_chat_text_free(out);
        return t2g_fail(err, T2G_ERR_MEMORY, "t2g_chat_render: out of memory for a conversation of %zu bytes",
                        system_len + prompt_len + response_len);
    }
    return T2G_OK;
}
