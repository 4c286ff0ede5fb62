/* The inside of t2g_bpe (include/t2g/bpe.h), shared by src/io/bpe_*.c. */
#ifndef T2G_IO_BPE_INTERNAL_H
#define T2G_IO_BPE_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "t2g/bpe.h"

#define BPE_MAX_TOKENS (1u << 24)  /* vocab entries and added tokens */
#define BPE_MAX_STEPS 16           /* pre-tokenizer steps after flattening Sequences */

/* A token: its vocab string (ByteLevel characters, or an added token's content) and the raw
 * bytes it decodes to. */
typedef struct bpe_token {
    char *text;
    uint32_t text_len;
    char *bytes;
    uint32_t bytes_len;
    bool present, added, special;
} bpe_token;

typedef struct bpe_merge_slot {
    uint64_t pair;   /* left id << 32 | right id; UINT64_MAX: empty */
    uint32_t rank, merged;
} bpe_merge_slot;

typedef enum bpe_behavior {
    BPE_ISOLATED, BPE_REMOVED, BPE_MERGED_WITH_PREVIOUS, BPE_MERGED_WITH_NEXT, BPE_CONTIGUOUS
} bpe_behavior;

/* One pre-tokenizer step: split every piece by the matches of `regex`. */
typedef struct bpe_split {
    pcre2_code *regex;
    bpe_behavior behavior;
    bool invert;
} bpe_split;

struct t2g_bpe {
    bpe_token *tokens;         /* [size] */
    uint32_t size;
    uint32_t *text_index;      /* [text_slots]: open addressing over tokens' text; UINT32_MAX empty */
    uint32_t text_slots;
    bpe_merge_slot *merges;    /* [merge_slots] */
    uint32_t merge_slots;
    uint32_t byte_id[256];     /* the token of each single byte; UINT32_MAX: none (the byte is dropped) */
    uint32_t *added;           /* [added_count] ids of added tokens, longest content first */
    uint32_t added_count;
    bool ignore_merges;
    bool nfc;                  /* normalizer NFC (bpe_normalize.c) */
    bpe_split steps[BPE_MAX_STEPS];
    uint32_t step_count;
};

/* GPT-2's byte alphabet: the code point that stands for byte b, and back (-1: none). */
uint32_t bpe_byte_char(uint8_t b);
int bpe_char_byte(uint32_t cp);

uint64_t bpe_hash(const char *s, size_t n);
/* The id of the token whose text is s[0..n), or UINT32_MAX. */
uint32_t bpe_find(const t2g_bpe *bpe, const char *s, size_t n);
/* Indexes every present token's text; false on out of memory. *duplicate: the first id whose
 * text an earlier id has, or UINT32_MAX. */
bool bpe_index_texts(t2g_bpe *bpe, uint32_t *duplicate);
/* The merge of (left, right): false when there is none. */
bool bpe_find_merge(const t2g_bpe *bpe, uint32_t left, uint32_t right, uint32_t *rank, uint32_t *merged);

/* Adds a merge unless the pair has one already (the first, lowest rank, wins); merge_slots must
 * leave room. */
void bpe_add_merge(t2g_bpe *bpe, uint32_t left, uint32_t right, uint32_t rank, uint32_t merged);

/* Parses the pre_tokenizer object (NULL: none) into bpe->steps. */
struct cJSON;
t2g_status bpe_load_pre_tokenizer(t2g_bpe *bpe, const struct cJSON *node, const char *name, t2g_error *err);

/* A piece of text: bytes [start, end). */
typedef struct bpe_piece { uint32_t start, end; } bpe_piece;
/* Splits text[span] by every step into pieces (malloc'ed *pieces, *count). */
t2g_status bpe_pre_tokenize(const t2g_bpe *bpe, const char *text, bpe_piece span, bpe_piece **pieces,
                            size_t *count, t2g_error *err);

/* Appends the BPE tokens of the word text[piece] to ids/spans (capacity grown as needed). */
typedef struct bpe_output {
    uint32_t *ids;
    t2g_token_span *spans;
    size_t count, capacity;
} bpe_output;
bool bpe_output_push(bpe_output *out, uint32_t id, uint32_t start, uint32_t end);
/* Ends an encoding: on T2G_OK hands out's arrays to *ids, *spans (spans may be NULL: freed) and
 * *count; otherwise frees them. Returns status. */
t2g_status bpe_output_give(bpe_output *out, t2g_status status, uint32_t **ids, t2g_token_span **spans, size_t *count);
bool bpe_merge_word(const t2g_bpe *bpe, const char *text, bpe_piece piece, bpe_output *out);

/* NFC-normalized text (bpe_normalize.c): byte j of text came from the input's bytes
 * [from[j], from[j + 1]). from is non-decreasing, from[0] = 0, from[len] = the input's length,
 * so token ranges mapped through it tile the input. Each NFC character is placed on an input
 * character as Hugging Face `tokenizers` places it (its offsets are that character's), and its
 * first byte maps there: a character NFC leaves alone keeps its bytes; a composed one is placed
 * on the first input character it was made from and owns those it absorbed (e + U+0301 -> é:
 * [0, 1) and [1, 3)); after reordering, characters take the input's places in order; a second
 * character of a decomposition shares the place of the input character before it. Characters on
 * one place take its bytes one each, up to the next place: a range can be empty only where NFC
 * makes more bytes than the input had there (U+0344 -> U+0308 U+0301: [0, 1) [1, 2) [2, 2) [2, 2)). */
typedef struct bpe_nfc_text {
    char *text;       /* [len], malloc'ed; NULL when the input is NFC already (nothing else set) */
    uint32_t len;
    uint32_t *from;   /* [len + 1] */
} bpe_nfc_text;
/* Normalizes len bytes of valid UTF-8. Text already in NFC costs one look at each byte. */
t2g_status bpe_nfc(const char *text, uint32_t len, bpe_nfc_text *result, t2g_error *err);
void bpe_nfc_free(bpe_nfc_text *n);

/* The words t2g_bpe_encode looked up in its word cache and those it found there, summed over
 * every call of the process (for t2g bench tokenize). */
void bpe_word_cache_counts(uint64_t *lookups, uint64_t *hits);

#endif
