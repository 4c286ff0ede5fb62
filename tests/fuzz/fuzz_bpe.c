/* The byte-level BPE tokenizer on arbitrary bytes. An input with a NUL byte is a tokenizer.json
 * (before it), loaded from a file, and a text (after it); an input without one is a text for a
 * fixed tokenizer (Llama 3's Split regex, then ByteLevel's, a few merges, one special and one
 * plain added token). Loading gives a tokenizer or an error with a message; encoding gives an
 * error with a message (invalid UTF-8) or spans in order within the text, and with the fixed
 * tokenizer spans that tile the text and decode back to it, with or without special tokens. */
#include <string.h>

#include "fuzz.h"
#include "io/bpe_internal.h"

static const char LLAMA3_SPLIT[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+|\\\\p{N}{1,3}| ?[^\\\\s\\\\p{L}\\\\p{N}]+"
    "[\\\\r\\\\n]*|\\\\s*[\\\\r\\\\n]+|\\\\s+(?!\\\\S)|\\\\s+";

static t2g_bpe *fixed_tokenizer(void) {
    static char json[16384];
    size_t k = (size_t)snprintf(json, sizeof json, "{\"model\": {\"type\": \"BPE\", \"vocab\": {");
    for (unsigned b = 0; b < 256; b++)
        k += (size_t)snprintf(json + k, sizeof json - k, "\"\\u%04x\": %u, ", (unsigned)bpe_byte_char((uint8_t)b), b);
    snprintf(json + k, sizeof json - k,
             "\"\\u0120t\": 256, \"he\": 257, \"\\u0120the\": 258, \"ll\": 259, \"12\": 260, \"<|endoftext|>\": 261}, "
             "\"merges\": [\"\\u0120 t\", \"h e\", [\"\\u0120t\", \"he\"], \"l l\", \"1 2\"]}, "
             "\"added_tokens\": [{\"id\": 261, \"content\": \"<|endoftext|>\", \"special\": true}, "
             "{\"id\": 262, \"content\": \"<|im\", \"special\": false}], \"normalizer\": null, "
             "\"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": "
             "{\"Regex\": \"%s\"}, \"behavior\": \"Isolated\", \"invert\": false}, {\"type\": \"Digits\", "
             "\"individual_digits\": false}, {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": true}]}, "
             "\"decoder\": {\"type\": \"ByteLevel\"}}",
             LLAMA3_SPLIT);
    t2g_bpe *bpe = NULL;
    t2g_error err = {0};
    if (t2g_bpe_parse(json, strlen(json), "fixed", &bpe, &err) != T2G_OK) fprintf(stderr, "%s\n", err.message);
    FUZZ_CHECK(bpe != NULL);
    return bpe;
}

static void encode(const t2g_bpe *bpe, const char *text, size_t len, bool parse_special, bool round_trip) {
    uint32_t *ids;
    t2g_token_span *spans;
    size_t count;
    t2g_error err = {0};
    t2g_status status = t2g_bpe_encode(bpe, text, len, parse_special, &ids, &spans, &count, &err);
    FUZZ_CHECK_ERROR(status, err);
    if (status != T2G_OK) return;
    for (size_t i = 0; i < count; i++) {
        FUZZ_CHECK(ids[i] < t2g_bpe_vocab_size(bpe));
        FUZZ_CHECK(spans[i].start < spans[i].end && spans[i].end <= len && (!i || spans[i].start >= spans[i - 1].end));
        FUZZ_CHECK(!round_trip || spans[i].start == (i ? spans[i - 1].end : 0));
    }
    char *bytes;
    size_t out_len;
    FUZZ_CHECK(t2g_bpe_decode(bpe, ids, count, false, &bytes, &out_len, &err) == T2G_OK);
    FUZZ_CHECK(!round_trip || (out_len == len && memcmp(bytes, text, len) == 0));
    free(bytes);
    free(ids);
    free(spans);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static t2g_bpe *fixed;
    const uint8_t *nul = memchr(data, 0, size);
    if (!nul) {
        if (!fixed) fixed = fixed_tokenizer();
        encode(fixed, (const char *)data, size, false, true);
        encode(fixed, (const char *)data, size, true, true);
        return 0;
    }
    t2g_bpe *bpe = NULL;
    t2g_error err = {0};
    t2g_status status = t2g_bpe_load(fuzz_file(data, (size_t)(nul - data)), &bpe, &err);
    FUZZ_CHECK_ERROR(status, err);
    if (status != T2G_OK) return 0;
    const char *text = (const char *)nul + 1;
    size_t len = size - (size_t)(nul - data) - 1;
    encode(bpe, text, len, false, false);
    encode(bpe, text, len, true, false);
    t2g_bpe_free(bpe);
    return 0;
}
