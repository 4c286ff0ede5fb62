/* UTF-8 validation and encoding (core/utf8.h). */
#include "core/utf8.h"

#include <stdlib.h>
#include <string.h>

size_t t2g_utf8_sequence(const unsigned char *b, size_t n, uint32_t *cp) {
    if (n == 0) return 0;
    unsigned char c = b[0];
    if (c < 0x80) {
        if (cp) *cp = c;
        return 1;
    }
    size_t need;
    uint32_t value;
    unsigned char lo = 0x80, hi = 0xBF; /* the second byte's range depends on the first */
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2, value = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3, value = c & 0x0F;
        if (c == 0xE0) lo = 0xA0;      /* overlong below U+0800 */
        else if (c == 0xED) hi = 0x9F; /* surrogates U+D800..DFFF */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4, value = c & 0x07;
        if (c == 0xF0) lo = 0x90;      /* overlong below U+10000 */
        else if (c == 0xF4) hi = 0x8F; /* beyond U+10FFFF */
    } else {
        return 0; /* a continuation byte, C0/C1 (always overlong) or F5..FF */
    }
    if (n < need || b[1] < lo || b[1] > hi) return 0;
    for (size_t i = 1; i < need; i++) {
        if (b[i] < 0x80 || b[i] > 0xBF) return 0;
        value = value << 6 | (b[i] & 0x3F);
    }
    if (cp) *cp = value;
    return need;
}

size_t t2g_utf8_encode(uint32_t cp, char out[4]) {
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    size_t n = cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    static const unsigned char lead[5] = {0, 0, 0xC0, 0xE0, 0xF0};
    for (size_t i = n - 1; i > 0; i--, cp >>= 6) out[i] = (char)(0x80 | (cp & 0x3F));
    out[0] = (char)(lead[n] | cp);
    return n;
}

char *t2g_utf8_sanitize(const char *s, size_t len) {
    char *out = len <= (SIZE_MAX - 1) / 3 ? malloc(len * 3 + 1) : NULL;
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t n = s[i] ? t2g_utf8_sequence((const unsigned char *)s + i, len - i, NULL) : 0;
        if (n) {
            memcpy(out + o, s + i, n);
            o += n;
            i += n;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    out[o] = 0;
    return out;
}
