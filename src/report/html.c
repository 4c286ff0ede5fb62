/* The report's text buffer and its escaping: nothing read from a file reaches the page as markup. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "core/utf8.h"
#include "report_internal.h"

static bool grow(rbuf *b, size_t more) {
    if (b->failed) return false;
    if (more > SIZE_MAX - b->len - 1 || !t2g_grow(&b->data, &b->cap, b->len + more + 1, 1)) b->failed = true;
    return !b->failed;
}

void rb_put(rbuf *b, const char *s, size_t n) {
    if (!grow(b, n)) return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = 0;
}

void rb_puts(rbuf *b, const char *s) { rb_put(b, s, strlen(s)); }

void rb_printf(rbuf *b, const char *format, ...) {
    va_list args;
    va_start(args, format);
    char small[512];
    int n = vsnprintf(small, sizeof small, format, args);
    va_end(args);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        rb_put(b, small, (size_t)n);
        return;
    }
    if (!grow(b, (size_t)n)) return;
    va_start(args, format);
    vsnprintf(b->data + b->len, (size_t)n + 1, format, args);
    va_end(args);
    b->len += (size_t)n;
}

void rb_free(rbuf *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* Code points shown as an escape rather than as themselves: they are invisible, reorder the
 * text around them, or are not allowed in an HTML document. */
static bool shown_escaped(uint32_t cp, unsigned flags) {
    if (cp == '\n' || cp == '\t') return !(flags & RB_NEWLINES);
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return true;
    if (cp == 0x200E || cp == 0x200F || (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069)) return true;
    if (cp >= 0xFDD0 && cp <= 0xFDEF) return true;
    if ((cp & 0xFFFE) == 0xFFFE) return true;
    return false;
}

static void put_escape(rbuf *b, const char *text, unsigned flags) {
    if (flags & RB_MARK) rb_puts(b, "<span class=\"esc\">");
    rb_puts(b, text);
    if (flags & RB_MARK) rb_puts(b, "</span>");
}

void rb_text(rbuf *b, const char *text, size_t n, unsigned flags) {
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0, plain = 0; /* s[plain..i) is waiting to be copied as it is */
    char escape[16];
    while (i < n) {
        const char *entity = NULL;
        switch (s[i]) {
        case '&': entity = "&amp;"; break;
        case '<': entity = "&lt;"; break;
        case '>': entity = "&gt;"; break;
        case '"': entity = "&quot;"; break;
        case '\'': entity = "&#39;"; break;
        default: break;
        }
        if (entity) {
            rb_put(b, text + plain, i - plain);
            rb_puts(b, entity);
            plain = ++i;
            continue;
        }
        uint32_t cp = 0;
        size_t len = t2g_utf8_sequence(s + i, n - i, &cp);
        if (len == 0) {
            snprintf(escape, sizeof escape, "\\x%02X", s[i]);
        } else if (shown_escaped(cp, flags)) {
            if (cp < 0x80) snprintf(escape, sizeof escape, "\\x%02X", (unsigned)cp);
            else snprintf(escape, sizeof escape, cp > 0xFFFF ? "\\U%08X" : "\\u%04X", (unsigned)cp);
        } else {
            i += len;
            continue;
        }
        rb_put(b, text + plain, i - plain);
        put_escape(b, escape, flags);
        i += len ? len : 1;
        plain = i;
    }
    rb_put(b, text + plain, n - plain);
}

void rb_textz(rbuf *b, const char *s, unsigned flags) {
    if (s) rb_text(b, s, strlen(s), flags);
}

void rb_text_limited(rbuf *b, const char *s, size_t limit, unsigned flags) {
    if (!s) return;
    size_t n = strlen(s);
    if (n <= limit) {
        rb_text(b, s, n, flags);
        return;
    }
    size_t cut = limit;
    for (int back = 0; back < 3 && cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80; back++) cut--;
    rb_text(b, s, cut, flags);
    rb_printf(b, " \xE2\x80\xA6 (%zu more bytes)", n - cut);
}

void format_number(double v, int digits, char *out, size_t size) {
    if (isnan(v)) {
        snprintf(out, size, "n/a");
        return;
    }
    if (isinf(v)) {
        snprintf(out, size, v > 0 ? "inf" : "-inf");
        return;
    }
    double a = fabs(v);
    if (a != 0 && (a >= 1e7 || a < 1e-4)) {
        snprintf(out, size, "%.*e", digits > 1 ? digits - 1 : 0, v);
        return;
    }
    snprintf(out, size, "%.*g", digits, v);
    if (strchr(out, 'e')) snprintf(out, size, "%.0f", v); /* %g chose an exponent for a large whole number */
}
