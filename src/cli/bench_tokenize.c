/* t2g bench tokenize: the speed of the byte-level BPE tokenizer (t2g_bpe_encode and decode) on
 * one thread of the host, on a text given or made here from a fixed seed. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/atomic_write.h"
#include "core/clock.h"
#include "core/read_file.h"
#include "io/bpe_internal.h"
#include "t2g/bpe.h"
#include "t2g/rng.h"

static const char HELP[] =
    "usage: t2g bench tokenize --tokenizer FILE [--text FILE] [--mb N] [--repeat N] [--special]\n"
    "                          [--write-text FILE] [--write-ids FILE] [--json]\n"
    "\n"
    "Times t2g_bpe_encode of a whole text as one string, then of each of its lines (with its\n"
    "newline) by itself, and t2g_bpe_decode of the ids, on one thread of the host (no device);\n"
    "reports the best of --repeat runs (default 3) as MB/s\n"
    "(MB = 10^6 bytes of text) and tokens/s, with the token count, the word cache's hit rate, the\n"
    "tokenizer file and the CPU.\n"
    "\n"
    "  --tokenizer FILE   a Hugging Face tokenizer.json (byte-level BPE)\n"
    "  --text FILE        the UTF-8 text to encode (default: a built-in text of --mb MB from a fixed\n"
    "                     seed: English, other scripts, digits, code, emoji, runs of whitespace,\n"
    "                     and <|endoftext|> between documents)\n"
    "  --mb N             the built-in text's size in MB, 0.001 to 1024 (default 4)\n"
    "  --special          match special tokens' texts (otherwise they are encoded as plain text)\n"
    "  --write-text FILE  writes the text encoded (the built-in one, to time other tokenizers on it)\n"
    "  --write-ids FILE   writes the ids, 4 bytes each, little-endian\n"
    "\n"
    "tools/bench_tokenize.sh times Hugging Face tokenizers on the same text in the same run.\n"
    "\n"
    "example: t2g bench tokenize --tokenizer tests/golden/tokenizers/gpt2/tokenizer.json --json\n";

/* ---- the built-in text ---- */

static const char *const ENGLISH[] = {
    "the", "of", "and", "to", "in", "is", "that", "it", "was", "for", "on", "are", "with", "as", "they", "be",
    "at", "one", "have", "this", "from", "or", "had", "by", "word", "but", "what", "some", "we", "can", "out",
    "other", "were", "all", "there", "when", "up", "use", "your", "how", "said", "each", "which", "their",
    "time", "will", "way", "about", "many", "then", "them", "would", "like", "these", "long", "make", "thing",
    "see", "two", "look", "more", "day", "could", "come", "number", "sound", "people", "over", "know", "water",
    "than", "first", "down", "side", "been", "now", "find", "new", "work", "part", "take", "place", "made",
    "after", "back", "little", "only", "round", "year", "every", "good", "give", "under", "name", "very",
    "through", "just", "sentence", "great", "think", "help", "line", "before", "move", "right", "old", "same",
    "tell", "does", "three", "want", "well", "also", "play", "small", "end", "home", "read", "hand", "large",
    "even", "land", "here", "must", "big", "high", "such", "follow", "change", "light", "kind", "need",
    "house", "picture", "again", "animal", "point", "mother", "world", "near", "build", "earth", "father",
    "tokenizer", "gradient", "training", "feedback", "critique", "response", "model", "learning", "Monday",
    "London", "January", "Python", "Vulkan", "GitHub", "HTTP", "JSON", "extraordinarily", "misunderstanding"};
static const char *const FOREIGN[] = {
    "café", "naïve", "façade", "Ångström", "Straße", "crème", "brûlée", "señor", "Kraków", "İstanbul",
    "Привет", "мир", "как", "дела", "Москва", "Україна", "съешь", "ещё", "мягких", "булок",
    "Καλημέρα", "κόσμε", "φιλοσοφία", "ψυχή", "你好世界", "日本語のテキスト", "中文分词", "漢字", "カタカナ",
    "ひらがな", "한국어", "텍스트", "東京", "مرحبا", "بالعالم", "العربية", "कताब", "नमस्ते", "दुनिया", "हिन्दी",
    "สวัสดี", "שלום", "עולם", "გამარჯობა"};
static const char *const CODE[] = {
    "def f(x):\n    return x ** 2\n", "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}\n",
    "const add = (a, b) => a + b;\n", "#include <stdio.h>\n", "SELECT id, name FROM users WHERE id = 42;\n",
    "if (err != nil) {\n        return err\n    }\n", "x = [i * i for i in range(10) if i % 2]\n",
    "<div class=\"row\"><a href=\"/index.html\">home</a></div>\n", "$ git commit -m 'fix: off by one'\n",
    "{\"key\": [1, 2.5, null, true], \"nested\": {\"a\": \"b\"}}\n"};
static const char *const EMOJI[] = {"😀", "👍", "👍🏽", "👨‍👩‍👧‍👦", "❤️", "🇫🇷", "🔥🔥", "🙂"};
static const char *const SPACES[] = {"  ", "   ", "\t", "\n", "\n\n", "\r\n", "    ", "\t\t", " \n", "        "};
static const char *const PUNCTUATION[] = {",", ".", ";", ":", "!", "?", " -", " (", ")", "\"", "'s", "n't", "'re", "..."};

typedef struct text_buffer {
    char *bytes;
    size_t len, capacity;
} text_buffer;

/* Appends s whole; what does not fit fills the rest with spaces, so the text ends on a whole
 * character at exactly its capacity. */
static void put(text_buffer *t, const char *s) {
    size_t n = strlen(s);
    if (t->len + n > t->capacity) {
        memset(t->bytes + t->len, ' ', t->capacity - t->len);
        t->len = t->capacity;
        return;
    }
    memcpy(t->bytes + t->len, s, n);
    t->len += n;
}

static const char *pick(t2g_rng *rng, const char *const *list, size_t count) {
    return list[t2g_rng_below(rng, count)];
}
#define PICK(rng, list) pick(rng, list, sizeof list / sizeof list[0])

/* One item of the mix: mostly English words, then the rest. */
static void put_item(text_buffer *t, t2g_rng *rng) {
    char number[32];
    uint64_t kind = t2g_rng_below(rng, 100);
    if (kind < 62) {
        const char *word = PICK(rng, ENGLISH);
        if (t2g_rng_below(rng, 12) == 0) { /* capitalized */
            char capital[2] = {(char)(word[0] >= 'a' && word[0] <= 'z' ? word[0] - 32 : word[0]), 0};
            put(t, " ");
            put(t, capital);
            put(t, word + 1);
        } else {
            put(t, " ");
            put(t, word);
        }
    } else if (kind < 72) {
        put(t, PICK(rng, PUNCTUATION));
    } else if (kind < 80) {
        put(t, " ");
        put(t, PICK(rng, FOREIGN));
    } else if (kind < 87) {
        uint64_t digits = 1 + t2g_rng_below(rng, 8), value = t2g_rng_u64(rng);
        snprintf(number, sizeof number, t2g_rng_below(rng, 4) ? " %.*llu" : " %.*llu.%02u", (int)digits,
                 (unsigned long long)(value % 100000000u), (unsigned)(value >> 40) % 100);
        put(t, number);
    } else if (kind < 93) {
        put(t, PICK(rng, SPACES));
    } else if (kind < 96) {
        put(t, "\n");
        put(t, PICK(rng, CODE));
    } else if (kind < 98) {
        put(t, " ");
        put(t, PICK(rng, EMOJI));
    } else {
        put(t, ".\n");
    }
}

/* bytes of text from seed 1: items in lines, documents of 1 to 8 KB ending with <|endoftext|>. */
static char *built_in_text(size_t bytes, size_t *len) {
    text_buffer t = {malloc(bytes + 1), 0, bytes};
    if (!t.bytes) return NULL;
    t2g_rng rng = t2g_rng_seeded(1);
    size_t document_end = 1024 + t2g_rng_below(&rng, 7168);
    while (t.len < t.capacity) {
        put_item(&t, &rng);
        if (t.len >= document_end) {
            put(&t, "<|endoftext|>");
            document_end = t.len + 1024 + t2g_rng_below(&rng, 7168);
        }
    }
    t.bytes[t.len] = 0;
    *len = t.len;
    return t.bytes;
}

/* ---- the measurement ---- */

/* The "model name" of /proc/cpuinfo, or "unknown". */
static void cpu_model(char *out, size_t size) {
    snprintf(out, size, "unknown");
    t2g_line_reader reader;
    t2g_error err = {0};
    if (t2g_lines_open(&reader, "/proc/cpuinfo", "the CPU description", (t2g_read_cap){1 << 16, NULL}, &err) != T2G_OK)
        return;
    const char *line;
    size_t len;
    while (t2g_lines_next(&reader, &line, &len, &err) == T2G_OK && line) {
        const char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) != 0 || !colon) continue;
        colon++;
        while (*colon == ' ') colon++;
        snprintf(out, size, "%s", colon);
        break;
    }
    t2g_lines_close(&reader);
}

typedef struct tokenize_result {
    double encode_s, decode_s; /* best of the repeats */
    double lines_s;            /* encoding each line (up to and with its "\n") by itself */
    size_t lines, line_tokens;
    uint32_t *ids;             /* [tokens] */
    size_t tokens;
    uint64_t words, hits;      /* word cache lookups and hits, over one encode */
    bool round_trip;           /* decode(encode(text)) == text */
} tokenize_result;

/* Each line of the text (up to and with its "\n") encoded by itself, as a batch of short
 * strings: the best time of `repeat`. */
static int measure_lines(const t2g_bpe *bpe, const char *text_name, const char *text, size_t len, bool special,
                         uint32_t repeat, tokenize_result *r) {
    t2g_error err = {0};
    for (uint32_t i = 0; i < repeat; i++) {
        size_t lines = 0, tokens = 0;
        double start = t2g_clock_seconds();
        for (size_t at = 0; at < len; lines++) {
            const char *newline = memchr(text + at, '\n', len - at);
            size_t end = newline ? (size_t)(newline - text) + 1 : len;
            uint32_t *ids;
            size_t count;
            if (t2g_bpe_encode(bpe, text + at, end - at, special, &ids, NULL, &count, &err) != T2G_OK) {
                cli_error("bench tokenize: %s: line %zu: %s", text_name, lines + 1, err.message);
                return EXIT_USAGE;
            }
            free(ids);
            tokens += count;
            at = end;
        }
        double s = t2g_clock_seconds() - start;
        if (i == 0 || s < r->lines_s) r->lines_s = s;
        r->lines = lines;
        r->line_tokens = tokens;
    }
    return EXIT_OK;
}

/* text_name: the file, or "the built-in text", for messages. */
static int measure(const t2g_bpe *bpe, const char *text_name, const char *text, size_t len, bool special,
                   uint32_t repeat, tokenize_result *r) {
    memset(r, 0, sizeof *r);
    t2g_error err = {0};
    for (uint32_t i = 0; i < repeat; i++) {
        uint32_t *ids;
        size_t count;
        uint64_t words, hits, words_after, hits_after;
        bpe_word_cache_counts(&words, &hits);
        double start = t2g_clock_seconds();
        t2g_status status = t2g_bpe_encode(bpe, text, len, special, &ids, NULL, &count, &err);
        double s = t2g_clock_seconds() - start;
        bpe_word_cache_counts(&words_after, &hits_after);
        if (status != T2G_OK) {
            cli_error("bench tokenize: %s: %s", text_name, err.message);
            return EXIT_USAGE;
        }
        if (i == 0 || s < r->encode_s) r->encode_s = s;
        free(r->ids);
        r->ids = ids;
        r->tokens = count;
        r->words = words_after - words;
        r->hits = hits_after - hits;
    }
    for (uint32_t i = 0; i < repeat; i++) {
        char *bytes;
        size_t n;
        double start = t2g_clock_seconds();
        t2g_status status = t2g_bpe_decode(bpe, r->ids, r->tokens, false, &bytes, &n, &err);
        double s = t2g_clock_seconds() - start;
        if (status != T2G_OK) {
            cli_error("bench tokenize: %s", err.message);
            return EXIT_FAILED;
        }
        if (i == 0 || s < r->decode_s) r->decode_s = s;
        r->round_trip = n == len && memcmp(bytes, text, len) == 0;
        free(bytes);
    }
    return measure_lines(bpe, text_name, text, len, special, repeat, r);
}

/* ids as 4 little-endian bytes each. */
static int write_ids(const char *path, const uint32_t *ids, size_t count) {
    unsigned char *bytes = malloc(4 * count + 1);
    if (!bytes) {
        cli_error("bench tokenize: out of memory writing %s", path);
        return EXIT_FAILED;
    }
    for (size_t i = 0; i < count; i++)
        for (int b = 0; b < 4; b++) bytes[4 * i + b] = (unsigned char)(ids[i] >> 8 * b);
    t2g_error err = {0};
    t2g_status status = t2g_atomic_write(path, bytes, 4 * count, &err);
    free(bytes);
    if (status != T2G_OK) {
        cli_error("bench tokenize: %s", err.message);
        return EXIT_FAILED;
    }
    return EXIT_OK;
}

/* ---- the report ---- */

typedef struct tokenize_run {
    const char *tokenizer, *text_path; /* text_path NULL: built in */
    size_t bytes;
    uint32_t repeat;
    bool special;
    char cpu[256];
} tokenize_run;

static double per_s(double amount, double s) { return s > 0 ? amount / s : 0; }

static void print_table(const tokenize_run *run, const tokenize_result *r) {
    printf("bench tokenize on the host (1 thread): %s\n", run->cpu);
    printf("tokenizer %s, text %s (%zu bytes), special tokens %s, best of %u\n", run->tokenizer,
           run->text_path ? run->text_path : "built in", run->bytes, run->special ? "matched" : "as text", run->repeat);
    printf("encode: %.1f MB/s, %.2fM tokens/s, %zu tokens in %.1f ms; word cache hits %.1f%%\n",
           per_s((double)run->bytes / 1e6, r->encode_s), per_s((double)r->tokens / 1e6, r->encode_s), r->tokens,
           1e3 * r->encode_s, r->words ? 100.0 * (double)r->hits / (double)r->words : 0.0);
    printf("encode line by line: %.1f MB/s, %zu lines, %zu tokens in %.1f ms\n",
           per_s((double)run->bytes / 1e6, r->lines_s), r->lines, r->line_tokens, 1e3 * r->lines_s);
    printf("decode: %.1f MB/s in %.1f ms; decode(encode(text)) %s the text\n",
           per_s((double)run->bytes / 1e6, r->decode_s), 1e3 * r->decode_s, r->round_trip ? "is" : "is NOT");
}

static int print_json(const tokenize_run *run, const tokenize_result *r) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "tokenizer", run->tokenizer);
    cJSON_AddStringToObject(o, "text", run->text_path ? run->text_path : "built-in");
    cJSON_AddStringToObject(o, "cpu", run->cpu);
    cJSON_AddNumberToObject(o, "threads", 1);
    cJSON_AddNumberToObject(o, "repeat", run->repeat);
    cJSON_AddBoolToObject(o, "special", run->special);
    cJSON_AddNumberToObject(o, "bytes", (double)run->bytes);
    cJSON_AddNumberToObject(o, "tokens", (double)r->tokens);
    cJSON_AddNumberToObject(o, "encode_ms", 1e3 * r->encode_s);
    cJSON_AddNumberToObject(o, "encode_mb_per_s", per_s((double)run->bytes / 1e6, r->encode_s));
    cJSON_AddNumberToObject(o, "encode_tokens_per_s", per_s((double)r->tokens, r->encode_s));
    cJSON_AddNumberToObject(o, "encode_lines", (double)r->lines);
    cJSON_AddNumberToObject(o, "encode_lines_tokens", (double)r->line_tokens);
    cJSON_AddNumberToObject(o, "encode_lines_ms", 1e3 * r->lines_s);
    cJSON_AddNumberToObject(o, "encode_lines_mb_per_s", per_s((double)run->bytes / 1e6, r->lines_s));
    cJSON_AddNumberToObject(o, "decode_ms", 1e3 * r->decode_s);
    cJSON_AddNumberToObject(o, "decode_mb_per_s", per_s((double)run->bytes / 1e6, r->decode_s));
    cJSON_AddNumberToObject(o, "word_cache_lookups", (double)r->words);
    cJSON_AddNumberToObject(o, "word_cache_hit_rate", r->words ? (double)r->hits / (double)r->words : 0.0);
    cJSON_AddBoolToObject(o, "round_trip", r->round_trip);
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    if (!text) {
        cli_error("bench tokenize: out of memory writing JSON");
        return EXIT_FAILED;
    }
    puts(text);
    free(text);
    return EXIT_OK;
}

/* ---- the command ---- */

typedef struct tokenize_options {
    const char *tokenizer, *text, *write_text, *write_ids;
    double mb;
    uint64_t repeat;
    bool special, json;
} tokenize_options;

static int parse_options(int argc, char **argv, tokenize_options *o) {
    const char *mb = NULL, *repeat = NULL;
    *o = (tokenize_options){.mb = 4, .repeat = 3};
    cli_args args = cli_args_start(argc, argv, 3, "bench tokenize");
    while (cli_args_more(&args)) {
        if (cli_flag(&args, "--help") || cli_flag(&args, "-h")) {
            fputs(HELP, stdout);
            return -1;
        } else if (cli_value(&args, "--tokenizer", &o->tokenizer) || cli_value(&args, "--text", &o->text) ||
                   cli_value(&args, "--mb", &mb) || cli_value(&args, "--repeat", &repeat) ||
                   cli_value(&args, "--write-text", &o->write_text) || cli_value(&args, "--write-ids", &o->write_ids)) {
        } else if (cli_flag(&args, "--special")) {
            o->special = true;
        } else if (cli_flag(&args, "--json")) {
            o->json = true;
        } else {
            return cli_unknown(&args);
        }
    }
    if (args.failed) return EXIT_USAGE;
    if (!o->tokenizer) {
        cli_error("bench tokenize: --tokenizer FILE is required (a tokenizer.json; see 't2g bench tokenize --help')");
        return EXIT_USAGE;
    }
    if (mb && !cli_parse_double(mb, 0.001, 1024, &o->mb)) {
        cli_error("bench tokenize: --mb expects a number of MB from 0.001 to 1024, got '%s'", mb);
        return EXIT_USAGE;
    }
    if (mb && o->text) {
        cli_error("bench tokenize: --mb sizes the built-in text; with --text the file's size is used");
        return EXIT_USAGE;
    }
    if (repeat && !(cli_parse_u64(repeat, 1000, &o->repeat) && o->repeat >= 1)) {
        cli_error("bench tokenize: --repeat expects an integer from 1 to 1000, got '%s'", repeat);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* The text to encode: --text's file, or the built-in one. */
static int load_text(const tokenize_options *o, char **text, size_t *len) {
    if (!o->text) {
        *text = built_in_text((size_t)(o->mb * 1e6 + 0.5), len);
        if (!*text) cli_error("bench tokenize: out of memory for a text of %.3f MB", o->mb);
        return *text ? EXIT_OK : EXIT_FAILED;
    }
    t2g_error err = {0};
    if (t2g_file_read(o->text, "the text", (t2g_read_cap){(uint64_t)UINT32_MAX - 1, NULL}, text, len, &err) != T2G_OK) {
        cli_error("bench tokenize: %s", err.message);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

int bench_tokenize(int argc, char **argv) {
    tokenize_options o;
    int code = parse_options(argc, argv, &o);
    if (code) return code < 0 ? EXIT_OK : code;
    t2g_error err = {0};
    t2g_bpe *bpe;
    if (t2g_bpe_load(o.tokenizer, &bpe, &err) != T2G_OK) {
        cli_error("bench tokenize: %s", err.message);
        return EXIT_USAGE;
    }
    char *text = NULL;
    size_t len = 0;
    code = load_text(&o, &text, &len);
    if (code == EXIT_OK && o.write_text && t2g_atomic_write(o.write_text, text, len, &err) != T2G_OK) {
        cli_error("bench tokenize: %s", err.message);
        code = EXIT_FAILED;
    }
    tokenize_run run = {o.tokenizer, o.text, len, (uint32_t)o.repeat, o.special, ""};
    cpu_model(run.cpu, sizeof run.cpu);
    tokenize_result r = {0};
    if (code == EXIT_OK)
        code = measure(bpe, o.text ? o.text : "the built-in text", text, len, o.special, run.repeat, &r);
    if (code == EXIT_OK && o.write_ids) code = write_ids(o.write_ids, r.ids, r.tokens);
    if (code == EXIT_OK) {
        if (o.json) code = print_json(&run, &r);
        else print_table(&run, &r);
    }
    free(r.ids);
    free(text);
    t2g_bpe_free(bpe);
    return code;
}
