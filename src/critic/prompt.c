/* The critique prompt's template (prompt.h): parsed once into pieces, filled in per sample. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "core/read_file.h"
#include "core/utf8.h"
#include "critic/prompt.h"

/* The built-in template: the Text2Grad critique (arXiv 2505.22338) asked for in our own words. */
static const char builtin_template[] =
    "You are reviewing a response written by an assistant. Judge how well it answers the prompt"
    "{{#reference}}, taking the reference answer as the truth{{/reference}}.\n"
    "\n"
    "Prompt:\n"
    "<<<\n"
    "{{prompt}}\n"
    ">>>\n"
    "\n"
    "Response:\n"
    "<<<\n"
    "{{response}}\n"
    ">>>\n"
    "{{#reference}}\n"
    "Reference answer:\n"
    "<<<\n"
    "{{reference}}\n"
    ">>>\n"
    "{{/reference}}\n"
    "Write your review as one JSON object and nothing else:\n"
    "{\"textual_feedback\": \"...\", \"good_spans\": [\"...\"], \"poor_spans\": [\"...\"], \"score\": 0.0}\n"
    "- textual_feedback: a few sentences on what is right, what is wrong, and why.\n"
    "- good_spans: short phrases of the response that are correct or helpful.\n"
    "- poor_spans: short phrases of the response that are wrong, misleading or unhelpful.\n"
    "- score: your overall judgement, from -1 (wrong or useless) to 1 (fully correct).\n"
    "Copy every span character for character from the response, never from the prompt or the "
    "reference. Leave a list empty when there is nothing to quote.\n";

typedef enum piece_kind { PIECE_TEXT, PIECE_PROMPT, PIECE_RESPONSE, PIECE_REFERENCE, PIECE_IF_REFERENCE, PIECE_END_IF } piece_kind;

typedef struct piece {
    piece_kind kind;
    size_t start, len; /* PIECE_TEXT: bytes of the template */
} piece;

struct critic_prompt {
    char *text;
    size_t len;
    piece *pieces;
    size_t count, cap;
};

static const struct {
    const char *name;
    piece_kind kind;
} placeholders[] = {
    {"prompt", PIECE_PROMPT},   {"response", PIECE_RESPONSE},    {"reference", PIECE_REFERENCE},
    {"#reference", PIECE_IF_REFERENCE}, {"/reference", PIECE_END_IF},
};

static bool add_piece(critic_prompt *p, piece_kind kind, size_t start, size_t len) {
    if (kind == PIECE_TEXT && len == 0) return true;
    if (!t2g_grow(&p->pieces, &p->cap, p->count + 1, sizeof *p->pieces)) return false;
    p->pieces[p->count++] = (piece){kind, start, len};
    return true;
}

static size_t line_of(const char *text, size_t offset) {
    size_t line = 1;
    for (size_t i = 0; i < offset; i++) line += text[i] == '\n';
    return line;
}

/* Splits p->text into pieces and checks them. */
static t2g_status split(critic_prompt *p, const char *where, t2g_error *err) {
    size_t text_start = 0, i = 0, open_at = 0;
    bool in_section = false, has_response = false;
    while (i + 1 < p->len) {
        if (p->text[i] != '{' || p->text[i + 1] != '{') {
            i++;
            continue;
        }
        const char *close = NULL;
        for (size_t k = i + 2; k + 1 < p->len && !close; k++)
            if (p->text[k] == '}' && p->text[k + 1] == '}') close = p->text + k;
        if (!close) return t2g_fail(err, T2G_ERR_FORMAT, "%s, line %zu: \"{{\" without \"}}\"", where, line_of(p->text, i));
        size_t name_len = (size_t)(close - (p->text + i + 2));
        const char *name = p->text + i + 2;
        int found = -1;
        for (size_t k = 0; k < sizeof placeholders / sizeof placeholders[0]; k++)
            if (strlen(placeholders[k].name) == name_len && memcmp(placeholders[k].name, name, name_len) == 0) found = (int)k;
        if (found < 0)
            return t2g_fail(err, T2G_ERR_FORMAT,
                            "%s, line %zu: unknown placeholder {{%.*s}} (expected {{prompt}}, {{response}}, {{reference}}, "
                            "{{#reference}} or {{/reference}})",
                            where, line_of(p->text, i), (int)(name_len > 40 ? 40 : name_len), name);
        piece_kind kind = placeholders[found].kind;
        if (kind == PIECE_IF_REFERENCE && in_section)
            return t2g_fail(err, T2G_ERR_FORMAT, "%s, line %zu: {{#reference}} inside the {{#reference}} of line %zu", where,
                            line_of(p->text, i), line_of(p->text, open_at));
        if (kind == PIECE_END_IF && !in_section)
            return t2g_fail(err, T2G_ERR_FORMAT, "%s, line %zu: {{/reference}} without {{#reference}}", where,
                            line_of(p->text, i));
        if (kind == PIECE_IF_REFERENCE) open_at = i;
        if (kind == PIECE_IF_REFERENCE || kind == PIECE_END_IF) in_section = kind == PIECE_IF_REFERENCE;
        has_response = has_response || kind == PIECE_RESPONSE;
        if (!add_piece(p, PIECE_TEXT, text_start, i - text_start) || !add_piece(p, kind, 0, 0))
            return t2g_fail(err, T2G_ERR_MEMORY, "out of memory reading %s", where);
        i = (size_t)(close - p->text) + 2;
        text_start = i;
    }
    if (!add_piece(p, PIECE_TEXT, text_start, p->len - text_start))
        return t2g_fail(err, T2G_ERR_MEMORY, "out of memory reading %s", where);
    if (in_section)
        return t2g_fail(err, T2G_ERR_FORMAT, "%s, line %zu: {{#reference}} is never closed by {{/reference}}", where,
                        line_of(p->text, open_at));
    if (!has_response)
        return t2g_fail(err, T2G_ERR_FORMAT,
                        "%s: no {{response}} placeholder: the critic would never see the response it is to quote", where);
    return T2G_OK;
}

t2g_status critic_prompt_parse(const char *text, size_t len, const char *where, critic_prompt **out, t2g_error *err) {
    *out = NULL;
    critic_prompt *p = calloc(1, sizeof *p);
    if (p) p->text = malloc(len + 1);
    if (!p || !p->text) {
        free(p);
        return t2g_fail(err, T2G_ERR_MEMORY, "out of memory reading %s", where);
    }
    memcpy(p->text, text, len);
    p->text[len] = 0;
    p->len = len;
    for (size_t i = 0; i < len; i++) {
        size_t n = text[i] ? t2g_utf8_sequence((const unsigned char *)text + i, len - i, NULL) : 0;
        if (n == 0) {
            critic_prompt_free(p);
            return t2g_fail(err, T2G_ERR_FORMAT, "%s, line %zu: byte %zu is not valid UTF-8 text", where,
                            line_of(text, i), i);
        }
        i += n - 1;
    }
    t2g_status status = split(p, where, err);
    if (status) {
        critic_prompt_free(p);
        return status;
    }
    *out = p;
    return T2G_OK;
}

t2g_status critic_prompt_load(const char *path, critic_prompt **out, t2g_error *err) {
    if (!path || !path[0]) return critic_prompt_parse(builtin_template, strlen(builtin_template), "the built-in critique prompt", out, err);
    char where[600];
    snprintf(where, sizeof where, "critic.prompt_file %s", path);
    char *text = NULL;
    size_t len = 0;
    t2g_status status = t2g_file_read(path, "critic.prompt_file", (t2g_read_cap){1u << 20, "critic.prompt_file"}, &text, &len, err);
    if (!status) status = critic_prompt_parse(text, len, where, out, err);
    free(text);
    return status;
}

static const char *reference_of(const t2g_critic_request *r) {
    if (r->reference && r->reference[0]) return r->reference;
    if (r->example && r->example->answer[0]) return r->example->answer;
    return NULL;
}

typedef struct builder {
    char *p;
    size_t len, cap;
    bool failed;
} builder;

static void put(builder *b, const char *s, size_t n) {
    if (b->failed || !t2g_grow(&b->p, &b->cap, b->len + n + 1, 1)) {
        b->failed = true;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

/* Text from outside (prompt, response, reference) as valid UTF-8. */
static void put_clean(builder *b, const char *s, size_t n) {
    size_t clean_len = 0;
    char *clean = t2g_utf8_sanitize(s, n, &clean_len);
    if (!clean) b->failed = true;
    else put(b, clean, clean_len);
    free(clean);
}

t2g_status critic_prompt_render(const critic_prompt *prompt, const t2g_critic_request *request, char **out, size_t *len,
                                t2g_error *err) {
    *out = NULL;
    const char *reference = reference_of(request);
    builder b = {0};
    bool skipping = false;
    for (size_t i = 0; i < prompt->count; i++) {
        const piece *q = &prompt->pieces[i];
        if (q->kind == PIECE_IF_REFERENCE) skipping = !reference;
        if (q->kind == PIECE_END_IF) skipping = false;
        if (skipping) continue;
        switch (q->kind) {
        case PIECE_TEXT: put(&b, prompt->text + q->start, q->len); break;
        case PIECE_PROMPT: put_clean(&b, request->prompt, strlen(request->prompt)); break;
        case PIECE_RESPONSE: put_clean(&b, request->response ? request->response : "", request->response_len); break;
        case PIECE_REFERENCE: put_clean(&b, reference ? reference : "", reference ? strlen(reference) : 0); break;
        case PIECE_IF_REFERENCE:
        case PIECE_END_IF: break;
        }
    }
    put(&b, "", 0);
    if (b.failed) {
        free(b.p);
        return t2g_fail(err, T2G_ERR_MEMORY, "out of memory writing a critique prompt");
    }
    *out = b.p;
    *len = b.len;
    return T2G_OK;
}

void critic_prompt_free(critic_prompt *prompt) {
    if (!prompt) return;
    free(prompt->text);
    free(prompt->pieces);
    free(prompt);
}
