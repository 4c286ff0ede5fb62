/* The NFC normalizer of byte-level BPE tokenizers (tokenizer.json's {"type": "NFC"}), with the
 * input byte each normalized byte came from, mapped the way Hugging Face `tokenizers` maps them.
 *
 * The Unicode data (canonical decompositions, combining classes, primary composites) comes from
 * utf8proc; the algorithm is UAX #15's: full canonical decomposition, canonical ordering, then
 * canonical composition. What utf8proc cannot give is where each output character came from, so
 * the three steps are done here one character at a time with utf8proc's per-character calls,
 * carrying for each character a "change" as `tokenizers` does: 0 for the first character of an
 * input character's decomposition, +1 for the others (inserted), and a composition adds the
 * changes of its two parts minus 1. The output is then laid over the input in order: a character
 * with change c <= 0 takes the next input character and drops the -c after it; one with c > 0
 * takes none (it is placed on the last one taken). That is positional, not by identity, exactly
 * like `tokenizers` (after reordering, a mark can take the place of another).
 *
 * Fast path (UAX #15's quick check): text whose characters all have NFC quick check Yes and
 * whose combining marks are in canonical order is NFC already and is left as is after one look
 * at each character (no table look-up below U+0300). Otherwise the text is cut before each
 * character of class 0 and quick check Yes (it never changes and never combines with what is
 * before it) into pieces, and only pieces that fail the quick check are normalized. Which
 * characters have a class and which fail the quick check is worked out once from utf8proc's
 * data (two bitmaps of 136 KiB, about 20 ms). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/utf8.h"
#include "io/bpe_internal.h"

#define NFC_CODE_POINTS 0x110000u
#define NFC_FIRST_MARK 0x300u  /* every character below U+0300 has class 0 and quick check Yes */
#define NFC_DECOMPOSE_MAX 8     /* code points of one character's full canonical decomposition (at most 4) */

static uint8_t has_class[NFC_CODE_POINTS / 8]; /* bit cp: canonical combining class != 0 */
static uint8_t not_yes[NFC_CODE_POINTS / 8];   /* bit cp: NFC quick check No or Maybe */
static pthread_once_t bitmaps_once = PTHREAD_ONCE_INIT;

static void set_bit(uint8_t *map, int32_t cp) {
    if (cp >= (int32_t)NFC_FIRST_MARK) map[cp >> 3] |= (uint8_t)(1u << (cp & 7));
}
static bool bit(const uint8_t *map, uint32_t cp) { return cp >= NFC_FIRST_MARK && (map[cp >> 3] >> (cp & 7) & 1); }
/* Class 0 and quick check Yes: a place where NFC can cut the text. */
static bool inert(uint32_t cp) { return !bit(has_class, cp) && !bit(not_yes, cp); }

/* The full canonical decomposition of cp into d[NFC_DECOMPOSE_MAX]; its length. */
static int decompose(int32_t cp, int32_t *d) {
    int boundclass = 0;
    utf8proc_ssize_t n = utf8proc_decompose_char(cp, d, NFC_DECOMPOSE_MAX, UTF8PROC_DECOMPOSE, &boundclass);
    if (n < 1 || n > NFC_DECOMPOSE_MAX) {
        d[0] = cp;
        return 1;
    }
    return (int)n;
}

/* The primary composite of (first, second), or -1 (Hangul included). Only called with a second
 * character that is not inert (utf8proc 2.8 would also join an LV syllable and U+11A7, which is
 * no T jamo: U+11A7 is inert, so it never gets here). */
static int32_t compose(int32_t first, int32_t second) {
    int32_t pair[2] = {first, second};
    utf8proc_ssize_t n = utf8proc_normalize_utf32(pair, 2, UTF8PROC_COMPOSE | UTF8PROC_STABLE);
    return n == 1 ? pair[0] : -1;
}

static int combining_class(int32_t cp) { return utf8proc_get_property(cp)->combining_class; }

/* Quick check No: a character whose decomposition does not compose back to it. Maybe: a
 * character that is not the first of some composite's decomposition (it can compose with what
 * is before it; composites below U+0300 count too: a + U+0328 is U+0105). */
static void build_bitmaps(void) {
    for (int32_t cp = 0; cp < (int32_t)NFC_CODE_POINTS; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        if (combining_class(cp) != 0) set_bit(has_class, cp);
        int32_t d[NFC_DECOMPOSE_MAX], back[NFC_DECOMPOSE_MAX];
        int n = decompose(cp, d);
        if (n == 1 && d[0] == cp) continue;
        memcpy(back, d, sizeof d);
        utf8proc_ssize_t m = utf8proc_normalize_utf32(back, n, UTF8PROC_COMPOSE | UTF8PROC_STABLE);
        if (m != 1 || back[0] != cp) {
            set_bit(not_yes, cp);
            continue;
        }
        for (int i = 1; i < n; i++) set_bit(not_yes, d[i]);
    }
}

/* A character on its way through: code point, combining class, change (see the top). */
typedef struct nfc_char {
    int32_t cp;
    int32_t change;
    int ccc;
    uint32_t place;  /* the input byte where it is placed (lay_out) */
} nfc_char;

/* Growable output: the normalized bytes and, for each, the input byte its range starts at. */
typedef struct nfc_out {
    char *text;
    uint32_t *from;
    size_t len, capacity;
    nfc_char *chars;        /* scratch for one piece: [piece_capacity * NFC_DECOMPOSE_MAX] */
    nfc_char *sorted;       /* the same size, for canonical_order */
    uint32_t *at;           /* [piece_capacity + 1] the byte offset of each input character in the piece */
    size_t piece_capacity;
} nfc_out;

static bool reserve_bytes(nfc_out *o, size_t more) {
    if (o->len + more <= o->capacity) return true;
    size_t capacity = o->capacity ? o->capacity : 64;
    while (capacity < o->len + more) capacity *= 2;
    char *text = realloc(o->text, capacity);
    if (text) o->text = text;
    uint32_t *from = realloc(o->from, (capacity + 1) * sizeof *from);
    if (from) o->from = from;
    if (!text || !from) return false;
    o->capacity = capacity;
    return true;
}

/* Room for a piece of count input characters. */
static bool reserve_piece(nfc_out *o, size_t count) {
    if (count <= o->piece_capacity) return true;
    size_t capacity = o->piece_capacity ? 2 * o->piece_capacity : 64;
    while (capacity < count) capacity *= 2;
    nfc_char *chars = realloc(o->chars, capacity * NFC_DECOMPOSE_MAX * sizeof *chars);
    if (chars) o->chars = chars;
    nfc_char *sorted = realloc(o->sorted, capacity * NFC_DECOMPOSE_MAX * sizeof *sorted);
    if (sorted) o->sorted = sorted;
    uint32_t *at = realloc(o->at, (capacity + 1) * sizeof *at);
    if (at) o->at = at;
    if (!chars || !sorted || !at) return false;
    o->piece_capacity = capacity;
    return true;
}

/* The character at text[i] (valid UTF-8): its length, its code point in *cp. */
static uint32_t char_at(const unsigned char *text, uint32_t len, uint32_t i, uint32_t *cp) {
    return (uint32_t)t2g_utf8_sequence(text + i, len - i, cp);
}

/* Canonical ordering: each run of characters of class != 0 sorted by class, stably (counting
 * sort through sorted[], so that a long run of marks costs no more than a short one each). */
static void canonical_order(nfc_char *c, size_t n, nfc_char *sorted) {
    for (size_t start = 0; start < n;) {
        size_t end = start;
        while (end < n && c[end].ccc != 0) end++;
        if (end - start > 1) {
            size_t at[257] = {0};
            for (size_t i = start; i < end; i++) at[c[i].ccc + 1]++;
            for (int k = 1; k <= 256; k++) at[k] += at[k - 1];
            for (size_t i = start; i < end; i++) sorted[at[c[i].ccc]++] = c[i];
            memcpy(c + start, sorted, (end - start) * sizeof *c);
        }
        start = end + 1;
    }
}

/* Canonical composition of c[0..n) in place; the count left. A character composes with the last
 * starter (the "composee") unless a character between them has a class >= its own, or is a
 * starter; characters left in between keep their order after the composee. */
static size_t canonical_compose(nfc_char *c, size_t n) {
    size_t out = 0, composee = SIZE_MAX;
    int last_ccc = -1; /* class of the last character kept since the composee; -1: none */
    for (size_t i = 0; i < n; i++) {
        nfc_char x = c[i];
        if (composee != SIZE_MAX && (last_ccc < 0 || (last_ccc < x.ccc && x.ccc != 0))) {
            int32_t r = compose(c[composee].cp, x.cp);
            if (r >= 0) {
                c[composee].cp = r;
                c[composee].change += x.change - 1;
                continue;
            }
        }
        if (x.ccc == 0) {
            composee = out;
            last_ccc = -1;
        } else if (composee != SIZE_MAX) {
            last_ccc = x.ccc;
        }
        c[out++] = x;
    }
    return out;
}

/* Lays the piece's output characters c[0..n) over its input characters, whose byte offsets (from
 * the piece's start) are at[0..count] (at[count]: the piece's length), and appends the bytes. A
 * character with change c <= 0 is placed on the next input character (and drops the -c after
 * it); an inserted one (c > 0) on the last input character taken so far (Hugging Face gives it
 * that character's offsets). Places never decrease. The bytes of the characters on one place
 * start at that place + 0, 1, 2, ..., but not past the next place (the piece's end for the last). */
static bool lay_out(nfc_out *o, nfc_char *c, size_t n, const uint32_t *at, size_t count, uint32_t base) {
    size_t next = 0; /* the next input character */
    for (size_t i = 0; i < n; i++) {
        size_t placed = c[i].change <= 0 ? next : next > 0 ? next - 1 : 0;
        c[i].place = base + at[placed < count ? placed : count];
        if (c[i].change <= 0) next += (size_t)(1 - c[i].change);
    }
    uint32_t laid = 0, limit = 0; /* bytes laid on the current place so far; where its room ends */
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || c[i].place != c[i - 1].place) {
            size_t j = i + 1;
            while (j < n && c[j].place == c[i].place) j++;
            limit = j < n ? c[j].place : base + at[count];
            laid = 0;
        }
        uint8_t bytes[4];
        utf8proc_ssize_t len = utf8proc_encode_char(c[i].cp, bytes);
        if (!reserve_bytes(o, (size_t)len)) return false;
        for (utf8proc_ssize_t k = 0; k < len; k++, laid++) {
            uint32_t start = c[i].place + laid;
            o->text[o->len] = (char)bytes[k];
            o->from[o->len++] = start < limit ? start : limit;
        }
    }
    return true;
}

/* One piece text[0..len) at byte base of the input: decomposed, ordered, composed, laid out. */
static bool normalize_piece(nfc_out *o, const unsigned char *text, uint32_t len, uint32_t base) {
    size_t count = 0;
    for (uint32_t i = 0; i < len; i += char_at(text, len, i, NULL)) count++;
    if (!reserve_piece(o, count)) return false;
    size_t n = 0, k = 0;
    for (uint32_t i = 0; i < len; k++) {
        uint32_t cp;
        o->at[k] = i;
        i += char_at(text, len, i, &cp);
        int32_t d[NFC_DECOMPOSE_MAX];
        int m = decompose((int32_t)cp, d);
        for (int j = 0; j < m; j++) o->chars[n++] = (nfc_char){d[j], j > 0, combining_class(d[j]), 0};
    }
    o->at[count] = len;
    canonical_order(o->chars, n, o->sorted);
    n = canonical_compose(o->chars, n);
    return lay_out(o, o->chars, n, o->at, count, base);
}

/* Whether text[0..len) passes the quick check: every character's is Yes, and marks are in
 * canonical order (a class never follows a higher one). */
static bool quick_yes(const unsigned char *text, uint32_t len) {
    int last = 0;
    for (uint32_t i = 0; i < len;) {
        if (text[i] < 0xCC) { /* below U+0300: ASCII or a 2-byte character */
            i += text[i] < 0x80 ? 1 : 2;
            while (i < len && text[i] < 0x80) i++;
            last = 0;
            continue;
        }
        uint32_t cp;
        i += char_at(text, len, i, &cp);
        int ccc = bit(has_class, cp) ? combining_class((int32_t)cp) : 0;
        if (bit(not_yes, cp) || (ccc != 0 && last > ccc)) return false;
        last = ccc;
    }
    return true;
}

static bool unchanged(const nfc_out *o, const char *text, uint32_t len) {
    if (o->len != len || memcmp(o->text, text, len) != 0) return false;
    for (uint32_t j = 0; j < len; j++)
        if (o->from[j] != j) return false;
    return true;
}

t2g_status bpe_nfc(const char *text, uint32_t len, bpe_nfc_text *result, t2g_error *err) {
    *result = (bpe_nfc_text){0};
    pthread_once(&bitmaps_once, build_bitmaps);
    const unsigned char *t = (const unsigned char *)text;
    if (quick_yes(t, len)) return T2G_OK;
    nfc_out o = {0};
    bool ok = reserve_bytes(&o, len);
    for (uint32_t i = 0; ok && i < len;) {
        uint32_t cp, start = i;
        i += char_at(t, len, i, &cp);
        while (i < len) {
            uint32_t n = char_at(t, len, i, &cp);
            if (inert(cp)) break;
            i += n;
        }
        if (!quick_yes(t + start, i - start)) {
            ok = normalize_piece(&o, t + start, i - start, start);
        } else if ((ok = reserve_bytes(&o, i - start))) {
            for (uint32_t j = start; j < i; j++) {
                o.text[o.len] = text[j];
                o.from[o.len++] = j;
            }
        }
    }
    free(o.chars);
    free(o.sorted);
    free(o.at);
    if (!ok || unchanged(&o, text, len)) {
        free(o.text);
        free(o.from);
        return ok ? T2G_OK : t2g_fail(err, T2G_ERR_MEMORY, "NFC: out of memory for %u bytes of text", len);
    }
    o.from[o.len] = len;
    result->text = o.text;
    result->len = (uint32_t)o.len;
    result->from = o.from;
    return T2G_OK;
}

void bpe_nfc_free(bpe_nfc_text *n) {
    free(n->text);
    free(n->from);
    *n = (bpe_nfc_text){0};
}
