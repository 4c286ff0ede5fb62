/* Recognising a Jinja chat template by its markers, and finding the default system prompt it
 * writes as a literal (include/t2g/chat.h). This reads the template's text; it does not run it. */
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "core/utf8.h"
#include "t2g/chat.h"

/* ---- undoing Jinja's string escapes (Python's unicode-escape) ---- */

typedef struct chat_string {
    char *bytes;
    size_t len, capacity;
    bool out_of_memory;
} chat_string;

static void string_put(chat_string *s, const char *bytes, size_t n) {
    if (s->out_of_memory || !t2g_grow(&s->bytes, &s->capacity, s->len + n + 1, 1)) {
        s->out_of_memory = true;
        return;
    }
    memcpy(s->bytes + s->len, bytes, n);
    s->len += n;
    s->bytes[s->len] = '\0';
}

/* The value of the `digits` hex digits at p, or -1 when one is not a hex digit (reading stops
 * there, so a NUL ends it). */
static int64_t hex_value(const char *p, size_t digits) {
    int64_t v = 0;
    for (size_t i = 0; i < digits; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Appends the escape at p (p[0] is the backslash, p[1] is not the NUL that ends the text) and
 * returns the bytes it took. What Python's unicode-escape does not know (\q, a short \x,
 * \N{...}) is kept as written. */
static size_t string_put_escape(chat_string *s, const char *p) {
    static const char simple_from[] = "nt\\'\"rabfv\n", simple_to[] = "\n\t\\'\"\r\a\b\f\v";
    const char *simple = strchr(simple_from, p[1]);
    if (simple && p[1]) {
        if (p[1] != '\n') string_put(s, &simple_to[simple - simple_from], 1); /* backslash-newline: nothing */
        return 2;
    }
    char u[4];
    if (p[1] >= '0' && p[1] <= '7') {
        uint32_t v = 0;
        size_t n = 1;
        while (n <= 3 && p[n] >= '0' && p[n] <= '7') v = v * 8 + (uint32_t)(p[n++] - '0');
        string_put(s, u, t2g_utf8_encode(v, u));
        return n;
    }
    size_t digits = p[1] == 'x' ? 2 : p[1] == 'u' ? 4 : p[1] == 'U' ? 8 : 0;
    int64_t v = digits ? hex_value(p + 2, digits) : -1; /* a NUL is not a hex digit */
    size_t n = v >= 0 && v <= 0x10FFFF ? t2g_utf8_encode((uint32_t)v, u) : 0;
    if (n) {
        string_put(s, u, n);
        return 2 + digits;
    }
    string_put(s, p, 2); /* kept as written, and so is a surrogate's escape (a lone surrogate has no UTF-8) */
    return 2;
}

/* ---- the template's literal text: quoted strings (joined by + or ~) and plain text ---- */

/* What is called with each run of literal text found: text[0..len), not NUL-terminated. */
typedef void (*literal_fn)(const char *text, size_t len, void *context);

/* Skips spaces; returns the position of the next non-space byte. */
static size_t skip_spaces(const char *t, size_t at) {
    while (t[at] == ' ' || t[at] == '\t' || t[at] == '\n' || t[at] == '\r') at++;
    return at;
}

/* The string literal at t[at] (a quote): appended to s unescaped, with "\r\n" and "\r" written as
 * they stand turned into "\n" first, as Jinja does. Returns where it ends (past the closing
 * quote, or the end of the template when it has none). */
static size_t take_literal(const char *t, size_t at, chat_string *s) {
    char quote = t[at++];
    size_t run = at; /* the start of the bytes not yet appended */
    while (t[at] && t[at] != quote) {
        if (t[at] == '\\' && t[at + 1]) {
            string_put(s, t + run, at - run);
            at += string_put_escape(s, t + at);
            run = at;
        } else if (t[at] == '\r') {
            string_put(s, t + run, at - run);
            string_put(s, "\n", 1);
            at += t[at + 1] == '\n' ? 2 : 1;
            run = at;
        } else {
            at++;
        }
    }
    string_put(s, t + run, at - run);
    return t[at] ? at + 1 : at;
}

/* The inside of a tag from t[at] to its closing `close` ("}}" or "%}") outside quotes: each chain
 * of joined literals goes to found. Returns where the tag ends. */
static size_t scan_tag(const char *t, size_t at, const char *close, chat_string *s, literal_fn found, void *context) {
    while (t[at] && strncmp(t + at, close, 2) != 0) {
        if (t[at] != '\'' && t[at] != '"') {
            at++;
            continue;
        }
        s->len = 0;
        at = take_literal(t, at, s);
        for (;;) {
            size_t next = skip_spaces(t, at);
            if (t[next] != '+' && t[next] != '~') break;
            next = skip_spaces(t, next + 1);
            if (t[next] != '\'' && t[next] != '"') break;
            at = take_literal(t, next, s);
        }
        if (!s->out_of_memory) found(s->bytes ? s->bytes : "", s->len, context);
    }
    return t[at] ? at + 2 : at;
}

/* The next tag opening ("{{", "{%" or "{#") from t[at], or NULL. */
static const char *next_tag(const char *t, size_t at) {
    for (const char *tag = strchr(t + at, '{'); tag; tag = strchr(tag + 1, '{'))
        if (tag[1] == '{' || tag[1] == '%' || tag[1] == '#') return tag;
    return NULL;
}

/* Calls found(text, len, context) with each run of literal text of the template t: a string
 * literal inside a tag, or several joined by `+` or `~`, unescaped; or a run of plain text
 * outside tags, as it stands. Comments ({# #}) are skipped. Returns false when out of memory. */
static bool scan_literals(const char *t, literal_fn found, void *context) {
    chat_string s = {0};
    size_t at = 0;
    while (t[at]) {
        const char *tag = next_tag(t, at);
        size_t text_end = tag ? (size_t)(tag - t) : strlen(t);
        if (text_end > at) found(t + at, text_end - at, context); /* plain text, written as it is */
        if (!tag) break;
        if (tag[1] == '#') {
            const char *end = strstr(tag + 2, "#}");
            at = end ? (size_t)(end - t) + 2 : strlen(t);
        } else {
            at = scan_tag(t, text_end + 2, tag[1] == '{' ? "}}" : "%}", &s, found, context);
        }
    }
    bool ok = !s.out_of_memory;
    free(s.bytes);
    return ok;
}

/* ---- the default system prompt ---- */

typedef struct default_search {
    const char *open, *close;  /* the format's system turn around its contents */
    char *found;               /* the first contents found (malloc'ed) */
    bool differ;               /* another literal held different contents */
    bool out_of_memory;
} default_search;

static const char *find_bytes(const char *text, size_t len, const char *what) {
    size_t n = strlen(what);
    for (size_t i = 0; n <= len && i <= len - n; i++)
        if (memcmp(text + i, what, n) == 0) return text + i;
    return NULL;
}

static void look_for_default(const char *text, size_t len, void *context) {
    default_search *d = context;
    const char *open = find_bytes(text, len, d->open);
    if (!open) return;
    const char *contents = open + strlen(d->open);
    const char *close = find_bytes(contents, len - (size_t)(contents - text), d->close);
    if (!close) return;
    size_t n = (size_t)(close - contents);
    if (d->found) {
        if (strlen(d->found) != n || memcmp(d->found, contents, n) != 0) d->differ = true;
        return;
    }
    d->found = malloc(n + 1);
    if (!d->found) {
        d->out_of_memory = true;
        return;
    }
    memcpy(d->found, contents, n);
    d->found[n] = '\0';
}

/* ---- the markers ---- */

static bool has_all(const char *jinja, const char *const *markers, size_t count) {
    for (size_t i = 0; i < count; i++)
        if (!strstr(jinja, markers[i])) return false;
    return true;
}

t2g_status t2g_chat_recognise(const char *jinja, const char *where, t2g_chat_format *format, char **default_system,
                              t2g_error *err) {
    if (!jinja || !format || !default_system)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "t2g_chat_recognise: a NULL argument");
    *default_system = NULL;
    if (!where) where = "the chat template";
    static const char *const chatml[] = {"<|im_start|>", "<|im_end|>"};
    static const char *const llama3[] = {"<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"};
    bool is_chatml = has_all(jinja, chatml, 2), is_llama3 = has_all(jinja, llama3, 3);
    if (is_chatml == is_llama3)
        return t2g_fail(err, T2G_ERR_UNSUPPORTED,
                        "%s: the chat template is not recognised (%s); set model.chat_template=chatml|llama3|none", where,
                        is_chatml ? "it has the markers of both chatml and llama3"
                                  : "chatml has <|im_start|> and <|im_end|>, llama3 has <|start_header_id|>, "
                                    "<|end_header_id|> and <|eot_id|>");
    t2g_chat_format recognised = is_chatml ? T2G_CHAT_CHATML : T2G_CHAT_LLAMA3;
    default_search d = {0};
    d.open = is_chatml ? "<|im_start|>system\n" : "<|start_header_id|>system<|end_header_id|>\n\n";
    d.close = t2g_chat_end_of_turn(recognised);
    if (!scan_literals(jinja, look_for_default, &d) || d.out_of_memory) {
        free(d.found);
        return t2g_fail(err, T2G_ERR_MEMORY, "%s: out of memory reading the chat template", where);
    }
    if (d.differ) {
        free(d.found);
        return t2g_fail(err, T2G_ERR_UNSUPPORTED,
                        "%s: the %s chat template writes two different default system prompts; set "
                        "model.system_prompt to the one wanted", where, t2g_chat_format_name(recognised));
    }
    *format = recognised;
    *default_system = d.found;
    return T2G_OK;
}
