/* tokenizer.ggml.pre, the pre-tokenizer's name llama.cpp writes into a GGUF, read as the
 * normalizer and pre_tokenizer of the model's own tokenizer.json: one table of names. */
#include <stdio.h>
#include <string.h>

#include "io/gguf_tokenizer_internal.h"

/* The regexes, as those models' tokenizer.json files give them (onig syntax, which PCRE2 reads
 * the same). Qwen2 and Llama 3 differ only in how many digits make one piece. */
#define CONTRACTIONS "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
#define AFTER_DIGITS " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
static const char QWEN2_REGEX[] = CONTRACTIONS "|\\p{N}|" AFTER_DIGITS;
static const char LLAMA3_REGEX[] = CONTRACTIONS "|\\p{N}{1,3}|" AFTER_DIGITS;

/*                                        nfc    digits split         ignore_merges add_bos */
static const gguf_pre_style GPT2_STYLE = {false, false, NULL, false, false};
static const gguf_pre_style SMOLLM_STYLE = {false, true, NULL, false, false};
static const gguf_pre_style QWEN2_STYLE = {true, false, QWEN2_REGEX, false, false};
static const gguf_pre_style LLAMA3_STYLE = {false, false, LLAMA3_REGEX, true, true};

/* llama.cpp's names (src/llama-vocab.cpp) for the styles above. */
static const struct {
    const char *name;
    const gguf_pre_style *style;
} PRE_NAMES[] = {
    {"default", &GPT2_STYLE},   {"gpt-2", &GPT2_STYLE},       {"smollm", &SMOLLM_STYLE},
    {"qwen2", &QWEN2_STYLE},    {"llama3", &LLAMA3_STYLE},    {"llama-v3", &LLAMA3_STYLE},
    {"llama-bpe", &LLAMA3_STYLE},
};
#define PRE_NAME_COUNT (sizeof PRE_NAMES / sizeof PRE_NAMES[0])

t2g_status gguf_pre_style_of(const t2g_gguf *file, const gguf_pre_style **style, t2g_error *err) {
    const char *key = "tokenizer.ggml.pre", *name = "default";
    size_t len = strlen(name);
    bool found;
    t2g_status status = t2g_gguf_get_string(file, key, &found, &name, &len, err);
    if (status != T2G_OK) return status;
    for (size_t i = 0; i < PRE_NAME_COUNT; i++)
        if (strlen(PRE_NAMES[i].name) == len && memcmp(PRE_NAMES[i].name, name, len) == 0) {
            *style = PRE_NAMES[i].style;
            return T2G_OK;
        }
    char known[256] = "";
    for (size_t i = 0, at = 0; i < PRE_NAME_COUNT && at < sizeof known; i++)
        at += (size_t)snprintf(known + at, sizeof known - at, "%s\"%s\"", i ? ", " : "", PRE_NAMES[i].name);
    return t2g_fail(err, T2G_ERR_UNSUPPORTED, "%s: key %s is \"%.*s\", a pre-tokenizer t2g does not know (known: %s)",
                    t2g_gguf_path(file), key, (int)(len > 64 ? 64 : len), name, known);
}

static cJSON *byte_level(bool use_regex) {
    cJSON *b = cJSON_CreateObject();
    if (b && !(cJSON_AddStringToObject(b, "type", "ByteLevel") && cJSON_AddFalseToObject(b, "add_prefix_space") &&
               cJSON_AddBoolToObject(b, "trim_offsets", use_regex) && cJSON_AddBoolToObject(b, "use_regex", use_regex))) {
        cJSON_Delete(b);
        return NULL;
    }
    return b;
}

static cJSON *digits(void) {
    cJSON *d = cJSON_CreateObject();
    if (d && !(cJSON_AddStringToObject(d, "type", "Digits") && cJSON_AddTrueToObject(d, "individual_digits"))) {
        cJSON_Delete(d);
        return NULL;
    }
    return d;
}

static cJSON *split(const char *regex) {
    cJSON *s = cJSON_CreateObject(), *pattern = cJSON_CreateObject();
    bool ok = s && pattern && cJSON_AddStringToObject(pattern, "Regex", regex) &&
              cJSON_AddStringToObject(s, "type", "Split") && cJSON_AddItemToObject(s, "pattern", pattern);
    if (!ok) cJSON_Delete(pattern);
    if (ok && cJSON_AddStringToObject(s, "behavior", "Isolated") && cJSON_AddFalseToObject(s, "invert")) return s;
    cJSON_Delete(s);
    return NULL;
}

static bool add_to(cJSON *array, cJSON *item) {
    if (item && cJSON_AddItemToArray(array, item)) return true;
    cJSON_Delete(item);
    return false;
}

/* Adds item to root under key, or frees it; false when item is NULL or cannot be added. */
static bool attach(cJSON *root, const char *key, cJSON *item) {
    if (item && cJSON_AddItemToObject(root, key, item)) return true;
    cJSON_Delete(item);
    return false;
}

static cJSON *pre_tokenizer(const gguf_pre_style *style) {
    if (!style->digits && !style->split) return byte_level(true);
    cJSON *sequence = cJSON_CreateObject(), *list = cJSON_CreateArray();
    bool ok = list && (!style->digits || add_to(list, digits())) && (!style->split || add_to(list, split(style->split))) &&
              add_to(list, byte_level(!style->split));
    if (!ok || !sequence || !cJSON_AddStringToObject(sequence, "type", "Sequence")) {
        cJSON_Delete(list);
        cJSON_Delete(sequence);
        return NULL;
    }
    if (attach(sequence, "pretokenizers", list)) return sequence;
    cJSON_Delete(sequence);
    return NULL;
}

bool gguf_pre_style_json(const gguf_pre_style *style, cJSON *root) {
    cJSON *normalizer = style->nfc ? cJSON_CreateObject() : cJSON_CreateNull();
    if (normalizer && style->nfc && !cJSON_AddStringToObject(normalizer, "type", "NFC")) {
        cJSON_Delete(normalizer);
        normalizer = NULL;
    }
    return attach(root, "normalizer", normalizer) && attach(root, "pre_tokenizer", pre_tokenizer(style));
}

/* ---- the reverse: a tokenizer.json's style, by name ---- */

static bool is_type(const cJSON *item, const char *type) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(item, "type");
    return cJSON_IsString(t) && strcmp(t->valuestring, type) == 0;
}

/* A bool member; `absent` when the member is missing. */
static bool flag(const cJSON *item, const char *key, bool absent) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, key);
    return v ? cJSON_IsTrue(v) : absent;
}

/* One step of a pre_tokenizer Sequence into style (false: a step no style has). */
static bool read_step(const cJSON *step, bool last, gguf_pre_style *style) {
    if (last) return is_type(step, "ByteLevel") && flag(step, "use_regex", true) == !style->split;
    if (is_type(step, "Digits") && !style->digits && !style->split) return style->digits = flag(step, "individual_digits", false);
    const cJSON *pattern = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(step, "pattern"), "Regex");
    const cJSON *behavior = cJSON_GetObjectItemCaseSensitive(step, "behavior");
    if (!is_type(step, "Split") || style->split || !cJSON_IsString(pattern) || !cJSON_IsString(behavior) ||
        strcmp(behavior->valuestring, "Isolated") != 0 || flag(step, "invert", false))
        return false;
    style->split = pattern->valuestring;
    return true;
}

static bool style_of_json(const cJSON *root, gguf_pre_style *style) {
    const cJSON *normalizer = cJSON_GetObjectItemCaseSensitive(root, "normalizer");
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer");
    *style = (gguf_pre_style){.ignore_merges = flag(cJSON_GetObjectItemCaseSensitive(root, "model"), "ignore_merges", false)};
    if (normalizer && !cJSON_IsNull(normalizer)) {
        if (!is_type(normalizer, "NFC")) return false;
        style->nfc = true;
    }
    if (is_type(pre, "ByteLevel")) return flag(pre, "use_regex", true);
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(pre, "pretokenizers");
    if (!is_type(pre, "Sequence") || !cJSON_IsArray(steps) || cJSON_GetArraySize(steps) < 1) return false;
    int n = cJSON_GetArraySize(steps);
    for (int i = 0; i < n; i++)
        if (!read_step(cJSON_GetArrayItem(steps, i), i == n - 1, style)) return false;
    return true;
}

static bool same_style(const gguf_pre_style *a, const gguf_pre_style *b) {
    bool same_split = a->split && b->split ? strcmp(a->split, b->split) == 0 : a->split == b->split;
    return a->nfc == b->nfc && a->digits == b->digits && same_split && a->ignore_merges == b->ignore_merges;
}

/* A style's last name in the table is the one written ("gpt-2", "llama-bpe": what llama.cpp's
 * converter writes). */
const char *gguf_pre_name_of_json(const cJSON *root) {
    gguf_pre_style style;
    if (!style_of_json(root, &style)) return NULL;
    for (size_t i = PRE_NAME_COUNT; i-- > 0;)
        if (same_style(PRE_NAMES[i].style, &style)) return PRE_NAMES[i].name;
    return NULL;
}

const char *gguf_pre_names_written(void) {
    return "gpt-2 (ByteLevel with GPT-2's regex), smollm (Digits, then that ByteLevel), qwen2 (NFC, Split with "
           "Qwen2's regex, ByteLevel), llama-bpe (Split with Llama 3's regex, ByteLevel, ignore_merges)";
}
