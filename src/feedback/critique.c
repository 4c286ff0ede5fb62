/* Reading a critique (include/t2g/feedback.h): finding its JSON object in whatever a judge
 * wrote, checking the JSON with messages that say what is wrong and where, and reading the
 * known keys with cJSON.
 *
 * Where the object is looked for, in order:
 *   1. the first ```json fence (the tag in any case), its content up to the closing ``` (or the
 *      end of the text, when the fence was cut off); else the first fence with any other or no
 *      tag whose content begins with '{';
 *   2. in that content (or, with no fence, the whole text): the first balanced {...}, counting
 *      braces outside JSON strings only (a backslash escapes the next byte inside a string); of
 *      several, the first that is valid JSON; if none is, the first that looks like JSON ('{'
 *      then '"' or '}') or else the first, for its error message;
 *   3. no balanced object: from the first '{' to the end (the error then says which bracket is
 *      never closed); no '{' at all: "no JSON object".
 * A region that is not valid JSON but holds \" is also tried once with one level of string
 * escaping undone ({\"good_spans\": [\"a\"]}, JSON pasted from inside a string).
 *
 * The check is a strict JSON grammar, except that raw control characters (a newline) inside
 * strings are accepted as cJSON accepts them; a raw NUL byte is not. Nesting deeper than
 * MAX_DEPTH is refused. Keys are matched ignoring ASCII case, with ' ', '_' and '-' alike
 * ("Code Feedback", "code_feedback"). A null span list is an empty one; a null text is "". */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/grow.h"
#include "t2g/feedback.h"

enum { MAX_DEPTH = 128, MAX_CANDIDATES = 4096 };

/* "line L, column C (byte B)" of byte `at` of text. */
static void where(const char *text, size_t len, size_t at, char *out, size_t size) {
    size_t line = 1, column = 1;
    if (at > len) at = len;
    for (size_t i = 0; i < at; i++) {
        if (text[i] == '\n') {
            line++;
            column = 1;
        } else
            column++;
    }
    snprintf(out, size, "line %zu, column %zu (byte %zu)", line, column, at);
}

/* What stands at byte `at`: "'x'", "end of text", or a byte in hex. */
static void what_at(const char *text, size_t len, size_t at, char *out, size_t size) {
    if (at >= len)
        snprintf(out, size, "the end of the text");
    else {
        unsigned char c = (unsigned char)text[at];
        if (c >= 0x20 && c < 0x7F && c != '\'')
            snprintf(out, size, "'%c'", c);
        else if (c == '\'')
            snprintf(out, size, "a quote (')");
        else if (c == '\n')
            snprintf(out, size, "a newline");
        else
            snprintf(out, size, "byte 0x%02X", c);
    }
}

/* ---- the JSON check ---- */

typedef struct checker {
    const char *text; /* the whole critique, for positions */
    size_t len;
    size_t pos, end;  /* the region being checked */
    bool failed;
    char message[600];
} checker;

static void check_error(checker *c, size_t at, const char *format, ...) __attribute__((format(printf, 3, 4)));
static void check_error(checker *c, size_t at, const char *format, ...) {
    if (c->failed) return;
    c->failed = true;
    char place[96], found[48], what[400];
    where(c->text, c->len, at, place, sizeof place);
    /* past the region's end reads as the end of the text */
    what_at(c->text, at < c->end ? c->len : 0, at, found, sizeof found);
    va_list args;
    va_start(args, format);
    vsnprintf(what, sizeof what, format, args);
    va_end(args);
    if (strncmp(format, "expected", 8) == 0)
        snprintf(c->message, sizeof c->message, "malformed JSON at %.96s: %.400s, found %.48s", place, what, found);
    else
        snprintf(c->message, sizeof c->message, "malformed JSON at %.96s: %.400s", place, what);
}

static void skip_space(checker *c) {
    while (c->pos < c->end) {
        char ch = c->text[c->pos];
        if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') break;
        c->pos++;
    }
}

static bool hex_digit(char ch) { return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F'); }

/* The four hexadecimal digits after the \\u at `at`, into *unit; false (an error) if not. */
static bool check_hex4(checker *c, size_t at, unsigned *unit) {
    *unit = 0;
    for (size_t k = 2; k < 6; k++) {
        if (at + k >= c->end || !hex_digit(c->text[at + k])) {
            check_error(c, at + k, "expected four hexadecimal digits after \\u");
            return false;
        }
        char h = c->text[at + k];
        *unit = *unit * 16 + (unsigned)(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
    }
    return true;
}

static void check_string(checker *c) {
    size_t open = c->pos++;
    while (c->pos < c->end) {
        char ch = c->text[c->pos];
        if (ch == '"') {
            c->pos++;
            return;
        }
        if (ch == 0) {
            check_error(c, c->pos, "a NUL byte inside a string (write it as \\u0000)");
            return;
        }
        if (ch == '\\') {
            if (c->pos + 1 >= c->end) break;
            char e = c->text[c->pos + 1];
            if (e == 'u') {
                unsigned unit = 0;
                if (!check_hex4(c, c->pos, &unit)) return;
                if (unit >= 0xDC00 && unit <= 0xDFFF) {
                    check_error(c, c->pos, "a lone low surrogate \\u%04X (expected a high one, \\uD800 to \\uDBFF, "
                                "before it)", unit);
                    return;
                }
                c->pos += 6;
                if (unit >= 0xD800 && unit <= 0xDBFF) { /* a high surrogate: its low half must follow */
                    unsigned low = 0;
                    if (c->pos + 1 >= c->end || c->text[c->pos] != '\\' || c->text[c->pos + 1] != 'u') {
                        check_error(c, c->pos, "expected \\u and a low surrogate after the high surrogate \\u%04X", unit);
                        return;
                    }
                    if (!check_hex4(c, c->pos, &low)) return;
                    if (low < 0xDC00 || low > 0xDFFF) {
                        check_error(c, c->pos, "expected a low surrogate (\\uDC00 to \\uDFFF) after \\u%04X, found "
                                    "\\u%04X", unit, low);
                        return;
                    }
                    c->pos += 6;
                }
                continue;
            }
            if (!strchr("\"\\/bfnrt", e) || e == 0) {
                check_error(c, c->pos + 1, "expected an escape (one of \" \\ / b f n r t u) after a backslash");
                return;
            }
            c->pos += 2;
            continue;
        }
        c->pos++;
    }
    char place[96];
    where(c->text, c->len, open, place, sizeof place);
    check_error(c, c->end, "the string opened at %s is never closed (the text is cut off?)", place);
}

static void check_number(checker *c) {
    const char *t = c->text;
    if (c->pos < c->end && t[c->pos] == '-') c->pos++;
    if (c->pos < c->end && t[c->pos] == '0')
        c->pos++;
    else if (c->pos < c->end && t[c->pos] >= '1' && t[c->pos] <= '9')
        while (c->pos < c->end && t[c->pos] >= '0' && t[c->pos] <= '9') c->pos++;
    else {
        check_error(c, c->pos, "expected a digit after '-'");
        return;
    }
    if (c->pos < c->end && t[c->pos] == '.') {
        c->pos++;
        if (c->pos >= c->end || t[c->pos] < '0' || t[c->pos] > '9') {
            check_error(c, c->pos, "expected a digit after the decimal point");
            return;
        }
        while (c->pos < c->end && t[c->pos] >= '0' && t[c->pos] <= '9') c->pos++;
    }
    if (c->pos < c->end && (t[c->pos] == 'e' || t[c->pos] == 'E')) {
        c->pos++;
        if (c->pos < c->end && (t[c->pos] == '+' || t[c->pos] == '-')) c->pos++;
        if (c->pos >= c->end || t[c->pos] < '0' || t[c->pos] > '9') {
            check_error(c, c->pos, "expected a digit in the exponent");
            return;
        }
        while (c->pos < c->end && t[c->pos] >= '0' && t[c->pos] <= '9') c->pos++;
    }
}

static void check_value(checker *c, int depth);

/* An object or array opened at c->pos. */
static void check_container(checker *c, int depth) {
    size_t open = c->pos;
    bool object = c->text[open] == '{';
    char close = object ? '}' : ']';
    const char *name = object ? "object" : "array";
    char opened[160];
    {
        char place[96];
        where(c->text, c->len, open, place, sizeof place);
        snprintf(opened, sizeof opened, "the %s opened at %s", name, place);
    }
    if (depth >= MAX_DEPTH) {
        check_error(c, open, "nesting deeper than %d levels", MAX_DEPTH);
        return;
    }
    c->pos++;
    skip_space(c);
    if (c->pos < c->end && c->text[c->pos] == close) {
        c->pos++;
        return;
    }
    for (;;) {
        if (c->pos >= c->end) {
            check_error(c, c->pos, "%s is never closed (the text is cut off, or brackets are unbalanced)", opened);
            return;
        }
        if (object) {
            if (c->text[c->pos] != '"') {
                check_error(c, c->pos, "expected a string key in %s", opened);
                return;
            }
            check_string(c);
            if (c->failed) return;
            skip_space(c);
            if (c->pos >= c->end || c->text[c->pos] != ':') {
                check_error(c, c->pos, "expected ':' after a key in %s", opened);
                return;
            }
            c->pos++;
            skip_space(c);
        }
        check_value(c, depth + 1);
        if (c->failed) return;
        skip_space(c);
        if (c->pos >= c->end) {
            check_error(c, c->pos, "%s is never closed (the text is cut off, or brackets are unbalanced)", opened);
            return;
        }
        char ch = c->text[c->pos];
        if (ch == close) {
            c->pos++;
            return;
        }
        if (ch == ',') {
            size_t comma = c->pos++;
            skip_space(c);
            if (c->pos < c->end && (c->text[c->pos] == '}' || c->text[c->pos] == ']')) {
                char place[96];
                where(c->text, c->len, comma, place, sizeof place);
                check_error(c, c->pos, "a trailing comma (at %s) before the end of %s: remove it", place, opened);
                return;
            }
            continue;
        }
        if (ch == '}' || ch == ']') {
            check_error(c, c->pos, "unbalanced brackets: this closes %s with the wrong bracket", opened);
            return;
        }
        check_error(c, c->pos, "expected ',' or '%c' after a value in %s", close, opened);
        return;
    }
}

static void check_value(checker *c, int depth) {
    skip_space(c);
    if (c->pos >= c->end) {
        check_error(c, c->pos, "expected a value (the text is cut off?)");
        return;
    }
    char ch = c->text[c->pos];
    if (ch == '{' || ch == '[') {
        check_container(c, depth);
        return;
    }
    if (ch == '"') {
        check_string(c);
        return;
    }
    if (ch == '-' || (ch >= '0' && ch <= '9')) {
        check_number(c);
        return;
    }
    static const char *const literals[] = {"true", "false", "null"};
    for (int k = 0; k < 3; k++) {
        size_t n = strlen(literals[k]);
        if (ch == literals[k][0]) {
            if (c->end - c->pos >= n && memcmp(c->text + c->pos, literals[k], n) == 0) {
                c->pos += n;
                return;
            }
            check_error(c, c->pos, "expected a value (%s?)", literals[k]);
            return;
        }
    }
    check_error(c, c->pos, "expected a value (an object, array, string, number, true, false or null)");
}

/* Checks text[start..end) as one JSON object; false with c->message otherwise. */
static bool check_object(const char *text, size_t len, size_t start, size_t end, checker *c) {
    *c = (checker){.text = text, .len = len, .pos = start, .end = end};
    skip_space(c);
    if (c->pos >= end || text[c->pos] != '{') {
        check_error(c, c->pos, "expected a JSON object ('{')");
        return false;
    }
    check_container(c, 0);
    if (!c->failed) {
        skip_space(c);
        if (c->pos < end) check_error(c, c->pos, "expected nothing after the object");
    }
    return !c->failed;
}

/* ---- finding the object ---- */

/* The end (one past '}') of the balanced object opening at text[at], or 0 if it never closes.
 * *work counts bytes scanned. */
static size_t balanced_end(const char *text, size_t end, size_t at, size_t *work) {
    size_t depth = 0;
    bool in_string = false;
    for (size_t i = at; i < end; i++) {
        ++*work;
        char ch = text[i];
        if (in_string) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_string = false;
            continue;
        }
        if (ch == '"')
            in_string = true;
        else if (ch == '{')
            depth++;
        else if (ch == '}' && --depth == 0)
            return i + 1;
    }
    return 0;
}

static bool starts_with_ci(const char *text, size_t len, size_t at, const char *word) {
    size_t n = strlen(word);
    if (len - at < n) return false;
    for (size_t i = 0; i < n; i++) {
        char ch = text[at + i];
        if (ch >= 'A' && ch <= 'Z') ch = (char)(ch - 'A' + 'a');
        if (ch != word[i]) return false;
    }
    return true;
}

static size_t find_ticks(const char *text, size_t len, size_t from) {
    for (size_t i = from; i + 3 <= len; i++)
        if (text[i] == '`' && text[i + 1] == '`' && text[i + 2] == '`') return i;
    return len;
}

/* The content [*start, *end) of the fence to read, if any. */
static bool find_fence(const char *text, size_t len, size_t *start, size_t *end) {
    bool have_other = false;
    size_t other_start = 0, other_end = 0;
    for (size_t open = find_ticks(text, len, 0); open < len;) {
        size_t tag = open + 3;
        while (tag < len && text[tag] == '`') tag++;
        bool json = starts_with_ci(text, len, tag, "json");
        size_t content = tag;
        if (json)
            content += 4;
        else
            while (content < len && text[content] != '\n' && text[content] != '{') content++;
        size_t close = find_ticks(text, len, content);
        if (json) {
            *start = content;
            *end = close;
            return true;
        }
        if (!have_other) {
            size_t first = content;
            while (first < close && (text[first] == ' ' || text[first] == '\t' || text[first] == '\n' ||
                                     text[first] == '\r'))
                first++;
            if (first < close && text[first] == '{') {
                have_other = true;
                other_start = content;
                other_end = close;
            }
        }
        if (close >= len) break;
        open = find_ticks(text, len, close + 3);
    }
    if (!have_other) return false;
    *start = other_start;
    *end = other_end;
    return true;
}

/* Finds and checks the object in text[from..to); on success [*start, *end) is valid JSON. On
 * failure, err holds the best error. */
static t2g_status locate(const char *text, size_t len, size_t from, size_t to, size_t *start, size_t *end,
                         t2g_error *err) {
    checker c;
    bool have_error = false;
    char first_error[sizeof c.message] = "", looks_error[sizeof c.message] = "";
    size_t work = 0, tried = 0;
    for (size_t at = from; at < to && tried < MAX_CANDIDATES && work < 64 * (size_t)(to - from) + 4096; at++) {
        if (text[at] != '{') continue;
        tried++;
        size_t stop = balanced_end(text, to, at, &work);
        if (!stop) continue;
        if (check_object(text, len, at, stop, &c)) {
            *start = at;
            *end = stop;
            return T2G_OK;
        }
        if (!have_error) {
            have_error = true;
            snprintf(first_error, sizeof first_error, "%s", c.message);
        }
        if (!looks_error[0]) {
            size_t k = at + 1;
            while (k < stop && (text[k] == ' ' || text[k] == '\t' || text[k] == '\n' || text[k] == '\r')) k++;
            if (text[k] == '"' || text[k] == '}') snprintf(looks_error, sizeof looks_error, "%s", c.message);
        }
        at = stop - 1; /* the next candidate starts after this one */
    }
    if (looks_error[0]) return t2g_fail(err, T2G_ERR_FORMAT, "%s", looks_error);
    if (have_error) return t2g_fail(err, T2G_ERR_FORMAT, "%s", first_error);
    /* no balanced object: check from the first '{' for a message naming the open bracket */
    for (size_t at = from; at < to; at++)
        if (text[at] == '{') {
            if (check_object(text, len, at, to, &c)) {
                *start = at;
                *end = to;
                return T2G_OK;
            }
            return t2g_fail(err, T2G_ERR_FORMAT, "%s", c.message);
        }
    size_t k = from;
    while (k < to && (text[k] == ' ' || text[k] == '\t' || text[k] == '\n' || text[k] == '\r')) k++;
    if (k == to)
        return t2g_fail(err, T2G_ERR_FORMAT, "no JSON object: the critique is empty");
    return t2g_fail(err, T2G_ERR_FORMAT,
                    "no JSON object ('{' ... '}') in the critique (looked for a ```json fence, then an object in "
                    "the text)");
}

/* One level of string escaping undone: \" -> ", \\ -> \, \/ -> /, \n \t \r -> the byte. */
static char *unescape_once(const char *text, size_t len, size_t *out_len) {
    char *out = t2g_malloc(len + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\\' && i + 1 < len && strchr("\"\\/ntr", text[i + 1]) && text[i + 1]) {
            char e = text[++i];
            out[o++] = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
        } else
            out[o++] = text[i];
    }
    out[o] = 0;
    *out_len = o;
    return out;
}

/* ---- reading the keys ---- */

/* Keys compare ignoring ASCII case, with ' ', '_' and '-' alike. */
static bool key_is(const char *key, const char *name) {
    for (;; key++, name++) {
        char a = *key, b = *name;
        if (a >= 'A' && a <= 'Z') a = (char)(a - 'A' + 'a');
        if (a == ' ' || a == '-') a = '_';
        if (a != b) return false;
        if (!a) return true;
    }
}

static const char *type_name(const cJSON *item) {
    if (cJSON_IsString(item)) return "a string";
    if (cJSON_IsNumber(item)) return "a number";
    if (cJSON_IsBool(item)) return "a boolean";
    if (cJSON_IsNull(item)) return "null";
    if (cJSON_IsArray(item)) return "an array";
    if (cJSON_IsObject(item)) return "an object";
    return "an invalid value";
}

typedef struct span_list {
    t2g_critique_span *spans;
    uint32_t count;
    size_t capacity;
    uint32_t max;            /* critic.max_spans (UINT32_MAX: none) */
} span_list;

/* at_least: the count is where reading stopped, not the whole list */
static t2g_status too_many_spans(uint64_t count, bool at_least, uint32_t max, t2g_error *err) {
    return t2g_fail(err, T2G_ERR_TOO_LARGE, "the critique quotes %s%llu spans, more than critic.max_spans = %u allows",
                    at_least ? "at least " : "", (unsigned long long)count, max);
}

static t2g_status add_span(span_list *list, const char *key, const char *text, t2g_span_kind kind, t2g_error *err) {
    if (list->count >= list->max) return too_many_spans(list->count + 1ull, true, list->max, err);
    if (!t2g_grow(&list->spans, &list->capacity, list->count + 1ull, sizeof *list->spans))
        return t2g_fail(err, T2G_ERR_MEMORY, "out of memory for %u spans reading \"%s\"", list->count + 1, key);
    size_t n = strlen(text);
    char *copy = t2g_malloc(n + 1);
    if (!copy) return t2g_fail(err, T2G_ERR_MEMORY, "out of memory for a span of %zu bytes reading \"%s\"", n, key);
    memcpy(copy, text, n + 1);
    list->spans[list->count++] = (t2g_critique_span){copy, n, kind};
    return T2G_OK;
}

/* A short JSON rendering of an item for messages. */
static void render(const cJSON *item, char *out, size_t size) {
    char *json = cJSON_PrintUnformatted(item);
    if (!json) {
        snprintf(out, size, "(%s)", type_name(item));
        return;
    }
    size_t n = strlen(json);
    if (n + 1 > size && size > 4) {
        memcpy(out, json, size - 4);
        memcpy(out + size - 4, "...", 4);
    } else
        snprintf(out, size, "%s", json);
    free(json);
}

static t2g_status read_strings(const cJSON *item, const char *key, t2g_span_kind kind, span_list *list,
                               t2g_error *err) {
    if (cJSON_IsNull(item)) return T2G_OK;
    if (!cJSON_IsArray(item))
        return t2g_fail(err, T2G_ERR_FORMAT, "\"%s\" must be an array of strings (phrases quoted from the response), "
                        "found %s", key, type_name(item));
    int index = 0;
    for (const cJSON *e = item->child; e; e = e->next, index++) {
        if (!cJSON_IsString(e) || !e->valuestring) {
            char shown[80];
            render(e, shown, sizeof shown);
            return t2g_fail(err, T2G_ERR_FORMAT, "\"%s\"[%d] must be a string, found %s %s", key, index, type_name(e),
                            shown);
        }
        t2g_status status = add_span(list, key, e->valuestring, kind, err);
        if (status) return status;
    }
    return T2G_OK;
}

static t2g_status read_words(const cJSON *item, const char *key, span_list *list, t2g_error *err) {
    if (cJSON_IsNull(item)) return T2G_OK;
    if (!cJSON_IsArray(item))
        return t2g_fail(err, T2G_ERR_FORMAT, "\"%s\" must be an array of [word, -1|0|1] entries, found %s", key,
                        type_name(item));
    int index = 0;
    for (const cJSON *e = item->child; e; e = e->next, index++) {
        const cJSON *word = cJSON_IsArray(e) ? e->child : NULL;
        const cJSON *score = word ? word->next : NULL;
        bool ok = word && score && !score->next && cJSON_IsString(word) && word->valuestring && cJSON_IsNumber(score) &&
                  (score->valuedouble == 1.0 || score->valuedouble == 0.0 || score->valuedouble == -1.0);
        if (!ok) {
            char shown[80];
            render(e, shown, sizeof shown);
            return t2g_fail(err, T2G_ERR_FORMAT, "\"%s\"[%d] must be [word, -1|0|1] (a string and a score of -1, 0 or "
                            "1), found %s", key, index, shown);
        }
        t2g_span_kind kind = score->valuedouble > 0 ? T2G_SPAN_GOOD : score->valuedouble < 0 ? T2G_SPAN_POOR : T2G_SPAN_NEUTRAL;
        t2g_status status = add_span(list, key, word->valuestring, kind, err);
        if (status) return status;
    }
    return T2G_OK;
}

void t2g_critique_free(t2g_critique *critique) {
    if (!critique) return;
    for (uint32_t i = 0; i < critique->span_count; i++) free(critique->spans[i].text);
    free(critique->spans);
    free(critique->feedback);
    memset(critique, 0, sizeof *critique);
}

static const char *const TEXT_KEYS[] = {"textual_feedback", "code_feedback", "critique", "feedback"};

static t2g_status read_object(const cJSON *root, uint32_t max_spans, t2g_critique *critique, t2g_error *err) {
    span_list list = {.max = max_spans};
    bool words = false, code = false, known = false;
    const cJSON *text = NULL;
    const char *text_key = NULL;
    int text_rank = 4;
    t2g_status status = T2G_OK;
    for (const cJSON *item = root->child; item && status == T2G_OK; item = item->next) {
        const char *key = item->string ? item->string : "";
        for (int k = 0; k < text_rank; k++)
            if (key_is(key, TEXT_KEYS[k])) {
                text = item;
                text_key = key;
                text_rank = k;
                known = true;
                if (k == 1) code = true;
                break;
            }
        if (key_is(key, "good_spans"))
            status = read_strings(item, key, T2G_SPAN_GOOD, &list, err), known = true;
        else if (key_is(key, "poor_spans"))
            status = read_strings(item, key, T2G_SPAN_POOR, &list, err), known = true;
        else if (key_is(key, "wrong_code"))
            status = read_strings(item, key, T2G_SPAN_POOR, &list, err), known = code = true;
        else if (key_is(key, "improvement_code"))
            status = read_strings(item, key, T2G_SPAN_NEUTRAL, &list, err), known = code = true;
        else if (key_is(key, "word_score_list"))
            status = read_words(item, key, &list, err), known = words = true;
        else if (key_is(key, "score") && !critique->has_score && !cJSON_IsNull(item)) {
            if (!cJSON_IsNumber(item))
                status = t2g_fail(err, T2G_ERR_FORMAT, "\"%s\" must be a number, found %s", key, type_name(item));
            else {
                critique->has_score = true;
                critique->score = item->valuedouble;
            }
        }
    }
    if (status == T2G_OK && text && !cJSON_IsNull(text) && !cJSON_IsString(text))
        status = t2g_fail(err, T2G_ERR_FORMAT, "\"%s\" must be a string (the critique in words), found %s", text_key,
                          type_name(text));
    if (status == T2G_OK && !known) {
        char keys[300] = "";
        size_t used = 0;
        for (const cJSON *item = root->child; item && used + 1 < sizeof keys; item = item->next) {
            int n = snprintf(keys + used, sizeof keys - used, "%s\"%s\"", used ? ", " : "", item->string ? item->string : "");
            if (n < 0) break;
            used += (size_t)n;
        }
        status = t2g_fail(err, T2G_ERR_FORMAT,
                          "no known critique format: expected \"textual_feedback\" with \"good_spans\"/\"poor_spans\" "
                          "or \"word_score_list\", or \"Code Feedback\" with \"wrong_code\"/\"improvement_code\"; "
                          "the object has %s",
                          used ? keys : "no keys");
    }
    if (status == T2G_OK) {
        const char *words_text = text && cJSON_IsString(text) && text->valuestring ? text->valuestring : "";
        critique->feedback = t2g_malloc(strlen(words_text) + 1);
        if (!critique->feedback)
            status = t2g_fail(err, T2G_ERR_MEMORY, "out of memory reading the critique");
        else
            strcpy(critique->feedback, words_text);
    }
    critique->spans = list.spans;
    critique->span_count = list.count;
    critique->format = words ? T2G_CRITIQUE_WORDS : code ? T2G_CRITIQUE_CODE : T2G_CRITIQUE_SPANS;
    return status;
}

/* Locates, checks and reads text[from..to) (positions relative to text, len bytes). */
static t2g_status parse_region(const char *text, size_t len, size_t from, size_t to, uint32_t max_spans,
                               t2g_critique *critique, t2g_error *err) {
    size_t start = 0, end = 0;
    t2g_status status = locate(text, len, from, to, &start, &end, err);
    if (status != T2G_OK) return status;
    const char *parse_end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text + start, end - start, &parse_end, false);
    if (!root || !cJSON_IsObject(root)) {
        /* the check above accepts only JSON that cJSON reads (surrogates paired, depth within
         * cJSON's): what is left is its allocations failing */
        cJSON_Delete(root);
        return t2g_fail(err, T2G_ERR_MEMORY, "out of memory reading the critique's JSON object of %zu bytes",
                        end - start);
    }
    status = read_object(root, max_spans, critique, err);
    cJSON_Delete(root);
    return status;
}

/* The critique's bytes as read: its words and its spans. */
static uint64_t critique_bytes(const t2g_critique *c) {
    uint64_t bytes = c->feedback ? strlen(c->feedback) : 0;
    for (uint32_t i = 0; i < c->span_count; i++) bytes += c->spans[i].text ? c->spans[i].len : 0;
    return bytes;
}

t2g_status t2g_critique_check_limits(const t2g_critique *critique, const t2g_critique_limits *limits, t2g_error *err) {
    if (!critique) return t2g_fail(err, T2G_ERR_ARGUMENT, "t2g_critique_check_limits: no critique");
    if (!limits) return T2G_OK;
    if (critique->span_count > limits->max_spans) return too_many_spans(critique->span_count, false, limits->max_spans, err);
    uint64_t bytes = critique_bytes(critique);
    if (bytes > limits->max_bytes)
        return t2g_fail(err, T2G_ERR_TOO_LARGE, "the critique has %llu bytes of words and spans, more than critic.max_bytes = "
                        "%llu allows", (unsigned long long)bytes, (unsigned long long)limits->max_bytes);
    return T2G_OK;
}

/* A second reading of the text (elsewhere than the fence, or unescaped): it replaces the
 * critique when it succeeds; out of memory or a cap passed is its error; another format error
 * keeps the first reading's. */
static t2g_status reread(const char *text, size_t len, uint32_t max_spans, t2g_critique *critique, t2g_status status,
                         t2g_error *err) {
    t2g_critique other;
    memset(&other, 0, sizeof other);
    t2g_error second = {0};
    t2g_status again = parse_region(text, len, 0, len, max_spans, &other, &second);
    if (again == T2G_OK) {
        t2g_critique_free(critique);
        *critique = other;
        return T2G_OK;
    }
    t2g_critique_free(&other);
    if (again != T2G_ERR_FORMAT) {
        if (err) *err = second;
        return again;
    }
    return status;
}

t2g_status t2g_critique_parse_limited(const char *text, size_t len, const t2g_critique_limits *limits,
                                      t2g_critique *critique, t2g_error *err) {
    if (!critique) return t2g_fail(err, T2G_ERR_ARGUMENT, "t2g_critique_parse: no critique to fill");
    memset(critique, 0, sizeof *critique);
    if (!text) {
        if (len) return t2g_fail(err, T2G_ERR_ARGUMENT, "t2g_critique_parse: no text");
        text = "";
    }
    if (limits && len > limits->max_bytes)
        return t2g_fail(err, T2G_ERR_TOO_LARGE, "the critique is %zu bytes, more than critic.max_bytes = %llu allows", len,
                        (unsigned long long)limits->max_bytes);
    uint32_t max_spans = limits ? limits->max_spans : UINT32_MAX;
    size_t from = 0, to = len;
    bool fenced = find_fence(text, len, &from, &to);
    t2g_status status = parse_region(text, len, from, to, max_spans, critique, err);
    /* the fence held no critique: one elsewhere in the text will do; else the fence's error */
    if (status == T2G_ERR_FORMAT && fenced) status = reread(text, len, max_spans, critique, status, err);
    if (status == T2G_ERR_FORMAT) {
        /* JSON pasted from inside a string: try once with its escaping undone */
        bool escaped = false;
        for (size_t i = from; i + 1 < to && !escaped; i++) escaped = text[i] == '\\' && text[i + 1] == '"';
        if (escaped) {
            size_t n = 0;
            char *plain = unescape_once(text + from, to - from, &n);
            if (!plain)
                status = t2g_fail(err, T2G_ERR_MEMORY, "out of memory unescaping a critique of %zu bytes", to - from);
            else
                status = reread(plain, n, max_spans, critique, status, err);
            free(plain);
        }
    }
    if (status != T2G_OK) t2g_critique_free(critique);
    return status;
}

t2g_status t2g_critique_parse(const char *text, size_t len, t2g_critique *critique, t2g_error *err) {
    return t2g_critique_parse_limited(text, len, NULL, critique, err);
}

t2g_status t2g_critique_copy(const t2g_critique *source, t2g_critique *copy, t2g_error *err) {
    if (!source || !copy) return t2g_fail(err, T2G_ERR_ARGUMENT, "t2g_critique_copy: no critique");
    t2g_critique c = {.format = source->format, .has_score = source->has_score, .score = source->score};
    const char *feedback = source->feedback ? source->feedback : "";
    c.feedback = t2g_malloc(strlen(feedback) + 1);
    if (c.feedback) strcpy(c.feedback, feedback);
    if (c.feedback && source->span_count) c.spans = t2g_calloc(source->span_count, sizeof *c.spans);
    bool ok = c.feedback && (source->span_count == 0 || c.spans);
    for (uint32_t i = 0; ok && i < source->span_count; i++) {
        const t2g_critique_span *s = &source->spans[i];
        size_t n = s->text ? s->len : 0;
        char *text = t2g_malloc(n + 1);
        if (!text) {
            ok = false;
            break;
        }
        if (n) memcpy(text, s->text, n);
        text[n] = 0;
        c.spans[i] = (t2g_critique_span){text, n, s->kind};
        c.span_count = i + 1;
    }
    if (!ok) {
        t2g_critique_free(&c);
        memset(copy, 0, sizeof *copy);
        return t2g_fail(err, T2G_ERR_MEMORY, "out of memory copying a critique of %u spans", source->span_count);
    }
    *copy = c;
    return T2G_OK;
}
