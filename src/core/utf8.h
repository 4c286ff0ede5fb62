/* UTF-8 validation and encoding, the one copy for all of t2g. Internal to t2g (src/), not installed. */
#ifndef T2G_CORE_UTF8_H
#define T2G_CORE_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* The length (1 to 4) of the valid UTF-8 sequence at b[0..n), or 0 when b[0] does not start
 * one. Valid means the shortest encoding (no overlong forms: C0, C1, E0 80..9F, F0 80..8F), no
 * surrogates (ED A0..BF), at most U+10FFFF (F4 80..8F, nothing from F5 up) and complete within
 * n bytes (0 when n is 0). NUL is a valid sequence of 1. Its code point goes to *cp unless cp is
 * NULL. */
size_t t2g_utf8_sequence(const unsigned char *b, size_t n, uint32_t *cp);

/* Writes code point cp (at most U+10FFFF, not a surrogate) as UTF-8 to out; returns its length
 * (1 to 4), or 0 (nothing written) for a code point that has no UTF-8 form. */
size_t t2g_utf8_encode(uint32_t cp, char out[4]);

/* A malloc'ed, NUL-terminated copy of s[0..len) that is valid UTF-8 with no NUL inside (for
 * cJSON, which takes C strings): a byte that does not start a valid sequence, and NUL, become
 * U+FFFD. NULL when out of memory. */
char *t2g_utf8_sanitize(const char *s, size_t len);

#endif
