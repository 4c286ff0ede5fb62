/* Byte-level BPE tokenizers (GPT-2, SmolLM2, Qwen2, Llama 3 style) loaded from a Hugging Face
 * tokenizer.json. Host code only.
 *
 * Supported: model BPE (vocab, merges as "a b" strings or ["a", "b"] arrays, ignore_merges);
 * added_tokens (content, id, special; single_word/lstrip/rstrip must be false; with NFC,
 * normalized must be false); normalizer null, NFC (Unicode data from utf8proc), or a Sequence of
 * NFC (empty included); pre_tokenizer ByteLevel (add_prefix_space false, use_regex with GPT-2's
 * regex), Split (Regex or String pattern; behavior Isolated, Removed, MergedWithPrevious,
 * MergedWithNext, Contiguous; invert), Digits (individual_digits), and Sequence of these;
 * decoder ByteLevel. post_processor is ignored (no BOS/EOS is added). Anything else (model
 * WordPiece/Unigram, byte_fallback, Metaspace, NFD/NFKC/Lowercase, ...) is refused by name when
 * loading.
 *
 * NFC is applied to the text between added tokens (which are matched in the original text), and
 * token spans are mapped back to bytes of the ORIGINAL text. Each normalized character is placed
 * on one original character exactly as Hugging Face `tokenizers` places it (a character NFC
 * leaves alone on itself; one composed from several on the first of them); a token's span starts
 * where its first character is placed and also covers the original characters folded into its
 * characters, so the spans still tile the text (e + U+0301 as the one token é: [0, 3), where
 * `tokenizers` reports [0, 1) and leaves the mark in no token). Where NFC makes more bytes than
 * the original had (U+0344 -> U+0308 U+0301), a token holding only the last of them can get an
 * empty span. Text already in NFC is not copied (a quick check of each character). */
#ifndef T2G_BPE_H
#define T2G_BPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "t2g/status.h"
#include "t2g/tokenizer.h"

typedef struct t2g_bpe t2g_bpe;

/* Loads the tokenizer.json at `path` (at most 64 MiB). Errors name the file and the key. */
t2g_status t2g_bpe_load(const char *path, t2g_bpe **out, t2g_error *err);
/* The same from len bytes of JSON in memory; `name` stands for the file in messages. */
t2g_status t2g_bpe_parse(const char *json, size_t len, const char *name, t2g_bpe **out, t2g_error *err);
void t2g_bpe_free(t2g_bpe *bpe);

/* One more than the largest id (every id below it names a token). */
uint32_t t2g_bpe_vocab_size(const t2g_bpe *bpe);
/* The id of the token whose vocab string (or added token content) is `content`, or -1. */
int64_t t2g_bpe_token_id(const t2g_bpe *bpe, const char *content);
/* Whether id is an added token marked special. */
bool t2g_bpe_is_special(const t2g_bpe *bpe, uint32_t id);
/* The raw bytes token id decodes to (*len of them; not NUL-terminated), or NULL for an id
 * that names no token. */
const char *t2g_bpe_token_bytes(const t2g_bpe *bpe, uint32_t id, size_t *len);
/* The token's vocab string (ByteLevel characters) or added token's content, NUL-terminated, or
 * NULL for an id that names no token. */
const char *t2g_bpe_token_text(const t2g_bpe *bpe, uint32_t id);

/* Encodes len bytes of UTF-8 text (invalid UTF-8 is refused, naming the byte offset) into
 * malloc'ed *ids and *spans (spans may be NULL), *count of each. Spans are byte ranges
 * [start, end) of the text (the original, before NFC), in order, tiling it (except bytes
 * dropped by a Split "Removed", and bytes model.vocab has no token for: those are dropped before
 * the merges, as Hugging Face's BPE without an unk_token drops them).
 * Added tokens that are not special are always split out, as Hugging Face does; special ones
 * only when parse_special is true (otherwise their text is encoded as ordinary text). */
t2g_status t2g_bpe_encode(const t2g_bpe *bpe, const char *text, size_t len, bool parse_special, uint32_t **ids,
                          t2g_token_span **spans, size_t *count, t2g_error *err);

/* The bytes of ids[0..n) (special tokens left out when skip_special), malloc'ed and
 * NUL-terminated, *len bytes before the NUL. Ids at or above the vocab size are refused. */
t2g_status t2g_bpe_decode(const t2g_bpe *bpe, const uint32_t *ids, size_t n, bool skip_special, char **bytes,
                          size_t *len, t2g_error *err);

/* Streaming decode, for printing while sampling: bytes come out only up to the last complete
 * UTF-8 character; an incomplete but so far valid start of one (at most 3 bytes) is held back
 * until the next token completes it. Invalid bytes are not held (they can never complete). */
typedef struct t2g_bpe_stream {
    unsigned char held[4];
    uint32_t held_len;
} t2g_bpe_stream; /* start from {0} */

/* The bytes that id lets out now: malloc'ed, NUL-terminated, *len bytes (possibly 0). */
t2g_status t2g_bpe_stream_next(const t2g_bpe *bpe, t2g_bpe_stream *stream, uint32_t id, bool skip_special,
                               char **bytes, size_t *len, t2g_error *err);
/* The same for any bytes (add_len of them): what a stream of any tokenizer lets out. */
t2g_status t2g_bpe_stream_push(t2g_bpe_stream *stream, const char *add, size_t add_len, char **bytes, size_t *len,
                               t2g_error *err);
/* At the end: the bytes still held (at most 3, an incomplete character) go to out; the stream
 * is reset. Returns their count. */
size_t t2g_bpe_stream_finish(t2g_bpe_stream *stream, char out[4]);

/* encode, decode and the stream functions only read the t2g_bpe: one tokenizer may serve
 * several threads at once. */

#endif
