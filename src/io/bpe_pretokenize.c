/* The BPE pre-tokenizer: tokenizer.json's pre_tokenizer (ByteLevel, Split, Digits, Sequence)
 * as a list of regex splits, and their application to a text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "io/bpe_internal.h"

/* GPT-2's pre-tokenizer regex (the one ByteLevel's use_regex means). */
static const char GPT2_REGEX[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

static t2g_status add_step(t2g_bpe *bpe, const char *pattern, uint32_t flags, bpe_behavior behavior, bool invert,
                           const char *name, const char *key, t2g_error *err) {
    if (bpe->step_count == BPE_MAX_STEPS)
        return t2g_fail(err, T2G_ERR_TOO_LARGE, "%s: %s: more than %d pre-tokenizer steps", name, key, BPE_MAX_STEPS);
    int code;
    PCRE2_SIZE at;
    uint32_t options = flags & PCRE2_LITERAL ? PCRE2_UTF | PCRE2_LITERAL : PCRE2_UTF | PCRE2_UCP | flags;
    pcre2_code *regex = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, options, &code, &at, NULL);
    if (!regex) {
        PCRE2_UCHAR message[256];
        pcre2_get_error_message(code, message, sizeof message);
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: %s: the regex does not compile at offset %zu: %s", name, key,
                        (size_t)at, (const char *)message);
    }
    pcre2_jit_compile(regex, PCRE2_JIT_COMPLETE); /* faster matching where PCRE2 has a JIT; else interpreted */
    bpe->steps[bpe->step_count++] = (bpe_split){regex, behavior, invert};
    return T2G_OK;
}

static bool bool_key(const cJSON *node, const char *key, bool fallback, bool *value) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(node, key);
    if (!item || cJSON_IsNull(item)) {
        *value = fallback;
        return true;
    }
    if (!cJSON_IsBool(item)) return false;
    *value = cJSON_IsTrue(item);
    return true;
}

static t2g_status load_byte_level(t2g_bpe *bpe, const cJSON *node, const char *name, const char *key,
                                  t2g_error *err) {
    /* add_prefix_space must be given (Hugging Face's default differs between versions); a file
     * without use_regex predates it and always used the regex. */
    bool prefix, regex;
    const cJSON *given = cJSON_GetObjectItemCaseSensitive(node, "add_prefix_space");
    if (!cJSON_IsBool(given) || !bool_key(node, "add_prefix_space", false, &prefix) ||
        !bool_key(node, "use_regex", true, &regex))
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: %s: add_prefix_space (given) and use_regex must be true or false",
                        name, key);
    if (prefix)
        return t2g_fail(err, T2G_ERR_UNSUPPORTED, "%s: %s.add_prefix_space true is not supported yet", name, key);
    return regex ? add_step(bpe, GPT2_REGEX, 0, BPE_ISOLATED, false, name, key, err) : T2G_OK;
}

static const struct {
    const char *name;
    bpe_behavior behavior;
} BEHAVIORS[] = {{"Isolated", BPE_ISOLATED},
                 {"Removed", BPE_REMOVED},
                 {"MergedWithPrevious", BPE_MERGED_WITH_PREVIOUS},
                 {"MergedWithNext", BPE_MERGED_WITH_NEXT},
                 {"Contiguous", BPE_CONTIGUOUS}};

static t2g_status load_split(t2g_bpe *bpe, const cJSON *node, const char *name, const char *key, t2g_error *err) {
    const cJSON *pattern = cJSON_GetObjectItemCaseSensitive(node, "pattern");
    const cJSON *regex = cJSON_GetObjectItemCaseSensitive(pattern, "Regex");
    const cJSON *literal = cJSON_GetObjectItemCaseSensitive(pattern, "String");
    if (!cJSON_IsString(regex) && !cJSON_IsString(literal))
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: %s.pattern: expected {\"Regex\": \"...\"} or {\"String\": \"...\"}",
                        name, key);
    const cJSON *behavior = cJSON_GetObjectItemCaseSensitive(node, "behavior");
    if (!cJSON_IsString(behavior))
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: %s.behavior: expected a string", name, key);
    size_t b = 0, count = sizeof BEHAVIORS / sizeof BEHAVIORS[0];
    while (b < count && strcmp(BEHAVIORS[b].name, behavior->valuestring) != 0) b++;
    if (b == count)
        return t2g_fail(err, T2G_ERR_UNSUPPORTED,
                        "%s: %s.behavior \"%s\" is not supported (Isolated, Removed, MergedWithPrevious, "
                        "MergedWithNext, Contiguous)",
                        name, key, behavior->valuestring);
    bool invert;
    if (!bool_key(node, "invert", false, &invert))
        return t2g_fail(err, T2G_ERR_FORMAT, "%s: %s.invert: expected true or false", name, key);
    if (cJSON_IsString(regex)) return add_step(bpe, regex->valuestring, 0, BEHAVIORS[b].behavior, invert, name, key, err);
    if (!literal->valuestring[0]) return t2g_fail(err, T2G_ERR_FORMAT, "%s: %s.pattern: an empty String", name, key);
    return add_step(bpe, literal->valuestring, PCRE2_LITERAL, BEHAVIORS[b].behavior, invert, name, key, err);
}

static t2g_status load_step(t2g_bpe *bpe, const cJSON *node, const char *name, const char *key, int depth,
                            t2g_error *err) {
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(node, "type");
    if (!cJSON_IsString(type)) return t2g_fail(err, T2G_ERR_FORMAT, "%s: %s.type: expected a string", name, key);
    const char *t = type->valuestring;
    if (strcmp(t, "ByteLevel") == 0) return load_byte_level(bpe, node, name, key, err);
    if (strcmp(t, "Split") == 0) return load_split(bpe, node, name, key, err);
    if (strcmp(t, "Digits") == 0) {
        bool individual;
        if (!bool_key(node, "individual_digits", false, &individual))
            return t2g_fail(err, T2G_ERR_FORMAT, "%s: %s.individual_digits: expected true or false", name, key);
        return add_step(bpe, individual ? "\\p{N}" : "\\p{N}+", 0, BPE_ISOLATED, false, name, key, err);
    }
    if (strcmp(t, "Sequence") == 0) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(node, "pretokenizers");
        if (!cJSON_IsArray(list) || depth > 4)
            return t2g_fail(err, T2G_ERR_FORMAT, "%s: %s.pretokenizers: expected an array (nested at most 4 deep)",
                            name, key);
        int i = 0;
        for (const cJSON *item = list->child; item; item = item->next, i++) {
            char inner[256];
            snprintf(inner, sizeof inner, "%s.pretokenizers[%d]", key, i);
            t2g_status status = load_step(bpe, item, name, inner, depth + 1, err);
            if (status != T2G_OK) return status;
        }
        return T2G_OK;
    }
    if (strcmp(t, "Metaspace") == 0)
        return t2g_fail(err, T2G_ERR_UNSUPPORTED,
                        "%s: pre_tokenizer type \"Metaspace\" is not supported (SentencePiece-style tokenizers come later)",
                        name);
    return t2g_fail(err, T2G_ERR_UNSUPPORTED,
                    "%s: %s type \"%s\" is not supported (ByteLevel, Split, Digits, Sequence)", name, key, t);
}

t2g_status bpe_load_pre_tokenizer(t2g_bpe *bpe, const cJSON *node, const char *name, t2g_error *err) {
    if (!node || cJSON_IsNull(node)) return T2G_OK;
    if (!cJSON_IsObject(node)) return t2g_fail(err, T2G_ERR_FORMAT, "%s: pre_tokenizer: expected an object", name);
    return load_step(bpe, node, name, "pre_tokenizer", 0, err);
}

/* ---- applying the steps ---- */

typedef struct piece_list {
    bpe_piece *items;
    size_t count, capacity;
} piece_list;

static bool list_push(piece_list *list, uint32_t start, uint32_t end) {
    if (start == end) return true;
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? 2 * list->capacity : 32;
        bpe_piece *items = realloc(list->items, capacity * sizeof *items);
        if (!items) return false;
        list->items = items;
        list->capacity = capacity;
    }
    list->items[list->count++] = (bpe_piece){start, end};
    return true;
}

/* Emits the segment [start, end) (a match or not) under the step's behavior; *pending holds
 * the start of a piece still open (MergedWithNext, Contiguous, MergedWithPrevious). */
static bool emit(const bpe_split *step, piece_list *out, uint32_t start, uint32_t end, bool match, uint32_t *open) {
    if (step->invert) match = !match;
    switch (step->behavior) {
    case BPE_ISOLATED: return list_push(out, start, end);
    case BPE_REMOVED: return match || list_push(out, start, end);
    case BPE_MERGED_WITH_PREVIOUS: /* a match closes the piece open before it */
        if (!match) {
            if (*open != start && !list_push(out, *open, start)) return false;
            *open = start;
            return true;
        }
        if (!list_push(out, *open, end)) return false;
        *open = end;
        return true;
    case BPE_MERGED_WITH_NEXT: /* a match opens a piece the next segment closes */
        if (match) {
            if (*open != start && !list_push(out, *open, start)) return false;
            *open = start;
            return true;
        }
        if (!list_push(out, *open, end)) return false;
        *open = end;
        return true;
    case BPE_CONTIGUOUS: /* adjacent matches form one piece */
        if (!match) {
            if (*open != start && !list_push(out, *open, start)) return false;
            *open = end;
            return list_push(out, start, end);
        }
        return true;
    }
    return false;
}

/* jit: the regex was compiled by the JIT, so pcre2_jit_match may skip pcre2_match's checks (the
 * text is valid UTF-8 already) and its dispatch: a tenth of a whole encode on short pieces. */
static t2g_status split_piece(const bpe_split *step, bool jit, const char *text, bpe_piece piece,
                              pcre2_match_data *match, piece_list *out, t2g_error *err) {
    uint32_t at = piece.start, open = piece.start, done = piece.start;
    while (at < piece.end) {
        int rc = jit ? pcre2_jit_match(step->regex, (PCRE2_SPTR)text, piece.end, at, 0, match, NULL)
                     : pcre2_match(step->regex, (PCRE2_SPTR)text, piece.end, at, PCRE2_NO_UTF_CHECK, match, NULL);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) return t2g_fail(err, T2G_ERR_FORMAT, "pre-tokenizer regex failed (PCRE2 error %d)", rc);
        PCRE2_SIZE *v = pcre2_get_ovector_pointer(match);
        uint32_t s = (uint32_t)v[0], e = (uint32_t)v[1];
        if (e == s) { /* an empty match: step over one character */
            at = s + 1;
            while (at < piece.end && ((unsigned char)text[at] & 0xC0) == 0x80) at++;
            continue;
        }
        if (s > done && !emit(step, out, done, s, false, &open)) goto memory;
        if (!emit(step, out, s, e, true, &open)) goto memory;
        done = at = e;
    }
    if (done < piece.end && !emit(step, out, done, piece.end, false, &open)) goto memory;
    if (open < piece.end && step->behavior != BPE_ISOLATED && step->behavior != BPE_REMOVED &&
        !list_push(out, open, piece.end))
        goto memory;
    return T2G_OK;
memory:
    return t2g_fail(err, T2G_ERR_MEMORY, "out of memory pre-tokenizing");
}

t2g_status bpe_pre_tokenize(const t2g_bpe *bpe, const char *text, bpe_piece span, bpe_piece **pieces, size_t *count,
                            t2g_error *err) {
    piece_list current = {0}, next = {0};
    t2g_status status = T2G_OK;
    pcre2_match_data *match = NULL;
    if (!list_push(&current, span.start, span.end)) goto memory;
    for (uint32_t s = 0; s < bpe->step_count && status == T2G_OK; s++) {
        match = pcre2_match_data_create_from_pattern(bpe->steps[s].regex, NULL);
        if (!match) goto memory;
        size_t jit_size = 0;
        bool jit = pcre2_pattern_info(bpe->steps[s].regex, PCRE2_INFO_JITSIZE, &jit_size) == 0 && jit_size > 0;
        next.count = 0;
        for (size_t i = 0; i < current.count && status == T2G_OK; i++)
            status = split_piece(&bpe->steps[s], jit, text, current.items[i], match, &next, err);
        pcre2_match_data_free(match);
        match = NULL;
        piece_list swap = current;
        current = next;
        next = swap;
    }
    free(next.items);
    if (status != T2G_OK) {
        free(current.items);
        return status;
    }
    *pieces = current.items;
    *count = current.count;
    return T2G_OK;
memory:
    free(current.items);
    free(next.items);
    return t2g_fail(err, T2G_ERR_MEMORY, "out of memory pre-tokenizing");
}
