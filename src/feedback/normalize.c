/* Characters, separators and the normalized view of a text (feedback_internal.h). */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/utf8.h"
#include "feedback/feedback_internal.h"

size_t fb_char_length(const unsigned char *b, size_t n) {
    size_t k = t2g_utf8_sequence(b, n, NULL);
    return k ? k : 1;
}

static bool ascii_separator(unsigned char c) {
    if (c == ' ' || (c >= '\t' && c <= '\r')) return true;
    return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
}

size_t fb_separator_length(const unsigned char *b, size_t n) {
    if (n == 0) return 0;
    if (b[0] < 0x80) return ascii_separator(b[0]) ? 1 : 0;
    uint32_t u = 0;
    size_t k = t2g_utf8_sequence(b, n, &u);
    if (k < 2) return 0;
    bool sep = u == 0xA0 || u == 0xA1 || u == 0xA7 || u == 0xAB || u == 0xB6 || u == 0xB7 || u == 0xBB ||
               u == 0xBF || (u >= 0x2000 && u <= 0x206F) || (u >= 0x3000 && u <= 0x3003) || u == 0xFEFF;
    return sep ? k : 0;
}

bool fb_only_separators(const unsigned char *b, size_t n) {
    if (n == 0) return false;
    for (size_t i = 0; i < n;) {
        size_t k = fb_separator_length(b + i, n - i);
        if (!k) return false;
        i += k;
    }
    return true;
}

void fb_boundaries(const unsigned char *b, size_t n, bool *out) {
    memset(out, 0, n + 1);
    for (size_t i = 0; i < n; i += fb_char_length(b + i, n - i)) out[i] = true;
    out[n] = true;
}

void fb_normalized_free(fb_normalized *normalized) {
    free(normalized->bytes);
    free(normalized->from);
    free(normalized->to);
    memset(normalized, 0, sizeof *normalized);
}

bool fb_normalize(const unsigned char *text, size_t n, bool trim, bool with_map, fb_normalized *out) {
    memset(out, 0, sizeof *out);
    if (n >= UINT32_MAX) return false;
    out->bytes = t2g_malloc(n + 1);
    if (with_map) {
        out->from = t2g_malloc((n + 1) * sizeof *out->from);
        out->to = t2g_malloc((n + 1) * sizeof *out->to);
    }
    if (!out->bytes || (with_map && (!out->from || !out->to))) {
        fb_normalized_free(out);
        return false;
    }
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t k = fb_separator_length(text + i, n - i);
        if (k) {
            size_t start = i;
            while (i < n && (k = fb_separator_length(text + i, n - i)) != 0) i += k;
            if (trim && (o == 0 || i == n)) continue; /* a run at either end */
            out->bytes[o] = ' ';
            if (with_map) out->from[o] = (uint32_t)start, out->to[o] = (uint32_t)i;
            o++;
            continue;
        }
        unsigned char c = text[i];
        out->bytes[o] = c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
        if (with_map) out->from[o] = (uint32_t)i, out->to[o] = (uint32_t)(i + 1);
        o++;
        i++;
    }
    out->bytes[o] = 0;
    out->len = o;
    return true;
}
