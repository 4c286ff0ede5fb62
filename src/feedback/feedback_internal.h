/* What the files of src/feedback/ share: UTF-8 and separator classification, the normalized
 * view of a text with its map back to byte offsets, and the bit-parallel LCS behind the fuzzy
 * similarity. Exposed (not static) so that tests/check can test them directly. */
#ifndef T2G_FEEDBACK_INTERNAL_H
#define T2G_FEEDBACK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- characters (normalize.c) ---- */

/* The length of the character at b[0..n): its valid UTF-8 sequence (core/utf8.h), or 1 for a
 * byte that starts none, which counts as a character of its own everywhere in this module. */
size_t fb_char_length(const unsigned char *b, size_t n);

/* The length of the character at b[0..n) if it is a separator, else 0. Separators: ASCII
 * whitespace (\t \n \v \f \r space) and ASCII punctuation (C's ispunct in the "C" locale), and
 * these whole characters: U+00A0 no-break space, U+00A1, U+00A7, U+00AB, U+00B6, U+00B7,
 * U+00BB, U+00BF, the General Punctuation block U+2000..U+206F (spaces, dashes, curly quotes,
 * ellipsis), U+3000..U+3003 and U+FEFF. A lone byte of a multi-byte character is never one. */
size_t fb_separator_length(const unsigned char *b, size_t n);

/* bytes[0..n) consists only of separators (false for n == 0). */
bool fb_only_separators(const unsigned char *b, size_t n);

/* out[0..n] (n + 1 entries): out[i] is true when byte i starts a character (or i == n). */
void fb_boundaries(const unsigned char *b, size_t n, bool *out);

/* A text folded for comparison: ASCII letters lowercased, every run of separators one ' ',
 * other bytes (digits, non-ASCII characters, invalid bytes) kept. Unit i of `bytes` came from
 * the original bytes [from[i], to[i]): one byte for a kept byte, the whole run for a ' '. */
typedef struct fb_normalized {
    unsigned char *bytes;
    uint32_t *from, *to; /* NULL when made without the map */
    size_t len;
} fb_normalized;

/* trim: drop the separator runs at both ends. with_map: fill from/to. false on out of memory
 * or a text of 2^32 bytes or more. */
bool fb_normalize(const unsigned char *text, size_t n, bool trim, bool with_map, fb_normalized *out);
void fb_normalized_free(fb_normalized *normalized);

/* ---- similarity (similarity.c) ---- */

/* LCS lengths of a pattern p (m bytes) against every prefix of a text fed byte by byte, with
 * Hyyro's bit-parallel recurrence: V starts all ones; for each text byte c, with U = V & PM[c],
 * V' = (V + U) | (V & ~PM[c]); the LCS of p and the text so far is the number of zero bits
 * among V's m lowest. ceil(m / 64) words of work per text byte. */
typedef struct fb_lcs {
    size_t m, words;
    uint64_t *pm; /* 256 x words: bit i of pm[c] set when p[i] == c */
    uint64_t *v;  /* words */
} fb_lcs;

bool fb_lcs_init(fb_lcs *lcs, const unsigned char *p, size_t m);
void fb_lcs_reset(fb_lcs *lcs);
void fb_lcs_step(fb_lcs *lcs, unsigned char c);
size_t fb_lcs_length(const fb_lcs *lcs);
void fb_lcs_free(fb_lcs *lcs);

/* The similarity of texts of lengths m and n with an LCS of l: 2 l / (m + n) (1 when both are
 * empty), difflib's ratio with the LCS as the matched characters. */
double fb_similarity(size_t l, size_t m, size_t n);

/* ---- the fuzzy search's limits (align.c) ---- */

/* Spans longer than this (normalized bytes) are only searched exactly and normalized. */
#define FB_FUZZY_MAX_SPAN 1024u
/* Word operations of a fuzzy scan (start positions x columns x 64-bit words); past it the scan
 * stops with the best found among the starts of highest similarity bound. */
#define FB_FUZZY_BUDGET (16u * 1024u * 1024u)

/* ---- work counted (align.c) ---- */

/* The work done by t2g_align_spans and t2g_token_scores since the program started, in every
 * thread: comparisons (occurrences tried, claimed-range and hash-table probes, tokens and span
 * edges visited) plus 64-bit word operations of the fuzzy search. Tests bound it, instead of
 * time. */
uint64_t fb_work(void);
void fb_work_add(uint64_t work);

#endif
