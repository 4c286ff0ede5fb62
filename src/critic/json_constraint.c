/* The byte automaton of the critique JSON (critic/json_constraint.h): stepping, and the length
 * of a shortest completion.
 *
 * The output is five templates of fixed bytes with a string, two lists and the score between
 * them. In a template ' ' stands for optional whitespace:
 *   {"textual_feedback":"  STRING  ,"good_spans":[  LIST  ,"poor_spans":[  LIST  ,"score":  NUMBER  }
 * A shortest completion writes no whitespace, the rest of the current string (the escape or
 * character under way, and in SUBSTRINGS mode a span's first character if it has none), "" or
 * nothing for the string's and list's ends, 0 for the score. */
#include <string.h>

#include "json_constraint_internal.h"

enum { PHASE_TEMPLATE, PHASE_STRING, PHASE_LIST_OPEN, PHASE_LIST_ITEM, PHASE_LIST_COMMA, PHASE_NUMBER, PHASE_DONE };
enum { LIST_FEEDBACK, LIST_GOOD, LIST_POOR };
enum { TEMPLATE_OPEN, TEMPLATE_GOOD, TEMPLATE_POOR, TEMPLATE_SCORE, TEMPLATE_CLOSE, TEMPLATES };

static const char *const TEMPLATE[TEMPLATES] = {
    "{ \"textual_feedback\" : \"", " , \"good_spans\" : [", " , \"poor_spans\" : [", " , \"score\" : ", " }",
};

/* The score, by what has been written of it: -1 0 1 -?0.ddd -?1.000 */
enum { NUM_START, NUM_MINUS, NUM_ZERO, NUM_NEG_ZERO, NUM_ONE, NUM_ZERO_DOT, NUM_ZERO_FRAC, NUM_ONE_DOT, NUM_ONE_FRAC };
/* bytes each form needs to be a number: "0", "1", "", ".0", "", "0", "", "0", "" */
static const uint8_t NUMBER_CLOSE[] = {1, 1, 0, 2, 0, 1, 0, 1, 0};

#define MAX_SPACE 8
#define MAX_FRACTION_DIGITS 3

static bool is_space(unsigned char b) { return b == ' ' || b == '\n' || b == '\t'; }

/* ---- costs of what follows ---- */

/* The non-space bytes of template k from position at. */
static uint32_t template_bytes(uint32_t k, uint32_t at) {
    uint32_t n = 0;
    for (const char *t = TEMPLATE[k] + at; *t; t++) n += *t != ' ';
    return n;
}

/* The fewest bytes from the start of template k to the end, writing nothing optional: an empty
 * feedback, empty lists, a score of 0. */
static uint32_t from_template(uint32_t k) {
    static const uint8_t between[TEMPLATES] = {1 /* " */, 1 /* ] */, 1 /* ] */, 1 /* 0 */, 0};
    uint32_t n = 0;
    for (uint32_t j = k; j < TEMPLATES; j++) n += template_bytes(j, 0) + between[j];
    return n;
}

/* After a list of `list` is closed. */
static uint32_t after_list(uint32_t list) { return from_template(list == LIST_GOOD ? TEMPLATE_POOR : TEMPLATE_SCORE); }

static bool span_possible(const critic_json_shape *shape, const critic_json_state *st) {
    return st->count < shape->max_spans && (!shape->substrings || shape->first_cost != CJ_NONE);
}

static bool in_span_automaton(const critic_json_shape *shape, const critic_json_state *st) {
    return shape->substrings && st->list != LIST_FEEDBACK;
}

/* Decoded bytes the current string may still take. */
static uint32_t room(const critic_json_shape *shape, const critic_json_state *st) {
    return (st->list == LIST_FEEDBACK ? shape->max_feedback_bytes : shape->max_span_bytes) - st->length;
}

/* SUBSTRINGS mode, after a '\' in state s: 1 for a one-letter escape the response has, 5 for
 * \u00XX of an ASCII byte it has (not NUL), CJ_NONE when it has no ASCII byte there. */
static uint32_t escape_cost(const critic_json_shape *shape, uint32_t s) {
    static const unsigned char letters[] = {'"', '\\', '/', '\b', '\f', '\n', '\r', '\t'};
    for (size_t i = 0; i < sizeof letters; i++)
        if (cj_sam_next(shape, s, letters[i]) != CJ_NONE) return 1;
    uint32_t e = shape->edge_start[s];
    if (e < shape->edge_start[s + 1] && shape->edge_byte[e] == 0) e++;
    return e < shape->edge_start[s + 1] && shape->edge_byte[e] < 0x80 ? 5 : CJ_NONE;
}

/* The bytes that finish the string's content (not its closing quote). */
static uint32_t string_rest(const critic_json_shape *shape, const critic_json_state *st) {
    bool sam = in_span_automaton(shape, st);
    if (st->escape == 1) return sam ? escape_cost(shape, st->sam) : 1;
    if (st->escape >= 2) return 4 - (uint32_t)(st->escape - 2);
    if (st->utf8 != CJ_U8_BOUNDARY) return cj_utf8_left(st->utf8);
    return sam && st->length == 0 ? shape->first_cost : 0;
}

bool cj_in_plain_text(const critic_json_shape *shape, const critic_json_state *st, uint32_t *room_left) {
    if (st->phase != PHASE_STRING || st->escape || st->utf8 != CJ_U8_BOUNDARY || in_span_automaton(shape, st)) return false;
    *room_left = room(shape, st);
    return true;
}

uint32_t critic_json_close_bytes(const critic_json_shape *shape, const critic_json_state *st) {
    switch (st->phase) {
    case PHASE_TEMPLATE: {
        uint32_t k = st->part;
        return template_bytes(k, st->at) + from_template(k) - template_bytes(k, 0);
    }
    case PHASE_STRING:
        return string_rest(shape, st) + 1 +
               (st->list == LIST_FEEDBACK ? from_template(TEMPLATE_GOOD) : 1 + after_list(st->list));
    case PHASE_LIST_OPEN:
    case PHASE_LIST_ITEM: return 1 + after_list(st->list);
    case PHASE_LIST_COMMA: /* a span: "" or, in SUBSTRINGS mode, its cheapest first character quoted */
        return 2 + (shape->substrings ? shape->first_cost : 0) + 1 + after_list(st->list);
    case PHASE_NUMBER: return NUMBER_CLOSE[st->part] + from_template(TEMPLATE_CLOSE);
    default: return 0;
    }
}

bool critic_json_done(const critic_json_state *st) { return st->phase == PHASE_DONE; }

critic_json_state critic_json_start(const critic_json_shape *shape) {
    (void)shape;
    critic_json_state st;
    memset(&st, 0, sizeof st);
    st.phase = PHASE_TEMPLATE;
    st.part = TEMPLATE_OPEN;
    return st;
}

/* ---- stepping ---- */

static void begin_string(critic_json_state *st, uint8_t list) {
    st->phase = PHASE_STRING;
    st->list = list;
    st->length = 0;
    st->sam = 0;
    st->escape = 0;
    st->utf8 = CJ_U8_BOUNDARY;
}

/* Every field not in use is 0, so equal states have equal bytes. */
static void begin_template(critic_json_state *st, uint8_t k) {
    memset(st, 0, sizeof *st);
    st->phase = PHASE_TEMPLATE;
    st->part = k;
}

/* What comes when template k is written through. */
static void after_template(critic_json_state *st) {
    st->at = 0;
    switch (st->part) {
    case TEMPLATE_OPEN: begin_string(st, LIST_FEEDBACK); break;
    case TEMPLATE_GOOD:
    case TEMPLATE_POOR:
        st->phase = PHASE_LIST_OPEN;
        st->list = st->part == TEMPLATE_GOOD ? LIST_GOOD : LIST_POOR;
        st->count = 0;
        break;
    case TEMPLATE_SCORE:
        st->phase = PHASE_NUMBER;
        st->part = NUM_START;
        st->digits = 0;
        break;
    default: st->phase = PHASE_DONE; break;
    }
}

static bool step_template(const critic_json_shape *shape, critic_json_state *st, unsigned char b) {
    const char *t = TEMPLATE[st->part];
    if (t[st->at] == ' ') {
        if (is_space(b)) return st->space < MAX_SPACE && ++st->space;
        st->at++;
    }
    st->space = 0;
    if (t[st->at] == 0) { /* a template that ends in whitespace: b belongs to what follows */
        after_template(st);
        return cj_step(shape, st, b);
    }
    if ((unsigned char)t[st->at] != b) return false;
    if (t[++st->at] == 0) after_template(st);
    return true;
}

static bool step_number(const critic_json_shape *shape, critic_json_state *st, unsigned char b) {
    bool digit = b >= '0' && b <= '9';
    uint8_t to = 0xFF;
    switch (st->part) {
    case NUM_START: to = b == '-' ? NUM_MINUS : b == '0' ? NUM_ZERO : b == '1' ? NUM_ONE : 0xFF; break;
    case NUM_MINUS: to = b == '0' ? NUM_NEG_ZERO : b == '1' ? NUM_ONE : 0xFF; break;
    case NUM_ZERO:
    case NUM_NEG_ZERO: to = b == '.' ? NUM_ZERO_DOT : 0xFF; break;
    case NUM_ONE: to = b == '.' ? NUM_ONE_DOT : 0xFF; break;
    case NUM_ZERO_DOT: to = digit ? NUM_ZERO_FRAC : 0xFF; break;
    case NUM_ONE_DOT: to = b == '0' ? NUM_ONE_FRAC : 0xFF; break;
    case NUM_ZERO_FRAC: to = digit && st->digits < MAX_FRACTION_DIGITS ? NUM_ZERO_FRAC : 0xFF; break;
    case NUM_ONE_FRAC: to = b == '0' && st->digits < MAX_FRACTION_DIGITS ? NUM_ONE_FRAC : 0xFF; break;
    default: break;
    }
    if (to != 0xFF) {
        if (to == NUM_ZERO_FRAC || to == NUM_ONE_FRAC) st->digits++;
        st->part = to;
        return true;
    }
    if (NUMBER_CLOSE[st->part] != 0) return false;
    begin_template(st, TEMPLATE_CLOSE); /* a complete number: b is whitespace or the '}' */
    return step_template(shape, st, b);
}

/* A list's whitespace, '"' (a string), ',' and ']' by phase. */
static bool step_list(const critic_json_shape *shape, critic_json_state *st, unsigned char b) {
    if (is_space(b)) return st->space < MAX_SPACE && ++st->space;
    st->space = 0;
    bool item = st->phase == PHASE_LIST_ITEM;
    if (b == ']' && st->phase != PHASE_LIST_COMMA) {
        begin_template(st, st->list == LIST_GOOD ? TEMPLATE_POOR : TEMPLATE_SCORE);
        return true;
    }
    if (b == ',' && item && span_possible(shape, st)) {
        st->phase = PHASE_LIST_COMMA;
        return true;
    }
    if (b == '"' && !item && span_possible(shape, st)) {
        st->count++;
        begin_string(st, st->list);
        return true;
    }
    return false;
}

/* ---- inside a string ---- */

/* Adds one decoded byte (a whole ASCII character, or a byte of a longer one) to the string;
 * in SUBSTRINGS mode the response must go on with it and still finish the character (utf8:
 * the decoder's state after it). */
static bool put_decoded(const critic_json_shape *shape, critic_json_state *st, unsigned char b, uint8_t utf8) {
    if (in_span_automaton(shape, st)) {
        uint32_t to = cj_sam_next(shape, st->sam, b);
        if (to == CJ_NONE || !(shape->live[to] >> utf8 & 1)) return false;
        st->sam = to;
    }
    st->length++;
    st->utf8 = utf8;
    return true;
}

static uint32_t utf8_bytes(uint32_t cp) { return cp < 0x80 ? 1 : cp < 0x800 ? 2 : 3; }

/* The smallest value a \u escape can still end with, once `digits` of its digits are `value`,
 * or CJ_NONE. Plain strings: not NUL, not a surrogate, within the room. Spans in SUBSTRINGS
 * mode: an ASCII byte (not NUL) that the response has next. */
static uint32_t smallest_escape(const critic_json_shape *shape, const critic_json_state *st, uint32_t value,
                                uint32_t digits) {
    uint32_t shift = 4 * (4 - digits), lo = value << shift, hi = lo + (1u << shift) - 1;
    if (lo == 0) lo = 1;
    if (in_span_automaton(shape, st)) {
        for (uint32_t e = shape->edge_start[st->sam]; e < shape->edge_start[st->sam + 1]; e++) {
            uint32_t b = shape->edge_byte[e];
            if (b >= lo && b <= hi && b < 0x80) return b;
        }
        return CJ_NONE;
    }
    if (lo >= 0xD800 && lo <= 0xDFFF) lo = 0xE000;
    return lo <= hi && utf8_bytes(lo) <= room(shape, st) ? lo : CJ_NONE;
}

static int hex_value(unsigned char b) {
    if (b >= '0' && b <= '9') return b - '0';
    if ((b | 0x20) >= 'a' && (b | 0x20) <= 'f') return (b | 0x20) - 'a' + 10;
    return -1;
}

static bool step_escape(const critic_json_shape *shape, critic_json_state *st, unsigned char b) {
    if (st->escape == 1) {
        static const char letters[] = "\"\\/bfnrt", decoded[] = "\"\\/\b\f\n\r\t";
        if (b == 'u') {
            if (smallest_escape(shape, st, 0, 0) == CJ_NONE) return false;
            st->escape = 2;
            st->hex = 0;
            return true;
        }
        const char *letter = b ? strchr(letters, b) : NULL;
        if (!letter || !put_decoded(shape, st, (unsigned char)decoded[letter - letters], CJ_U8_BOUNDARY)) return false;
        st->escape = 0;
        return true;
    }
    int h = hex_value(b);
    uint32_t digits = st->escape - 2u + 1, value = st->hex * 16 + (uint32_t)(h < 0 ? 0 : h);
    if (h < 0 || smallest_escape(shape, st, value, digits) == CJ_NONE) return false;
    if (digits < 4) {
        st->escape++;
        st->hex = value;
        return true;
    }
    st->escape = 0;
    st->hex = 0;
    if (in_span_automaton(shape, st)) return put_decoded(shape, st, (unsigned char)value, CJ_U8_BOUNDARY);
    st->length += utf8_bytes(value); /* smallest_escape checked the room */
    return true;
}

static bool step_string(const critic_json_shape *shape, critic_json_state *st, unsigned char b) {
    if (st->escape) return step_escape(shape, st, b);
    if (st->utf8 != CJ_U8_BOUNDARY)
        return cj_utf8_fits(st->utf8, b) && put_decoded(shape, st, b, cj_utf8_after(st->utf8));
    if (b == '"') {
        if (in_span_automaton(shape, st) && st->length == 0) return false;
        st->space = 0;
        if (st->list == LIST_FEEDBACK) {
            begin_template(st, TEMPLATE_GOOD);
        } else {
            st->phase = PHASE_LIST_ITEM;
            st->length = 0;
            st->sam = 0;
        }
        return true;
    }
    if (b == '\\') {
        if (room(shape, st) < 1 || (in_span_automaton(shape, st) && escape_cost(shape, st->sam) == CJ_NONE)) return false;
        st->escape = 1;
        return true;
    }
    if (b < 0x20) return false;
    if (b < 0x80) return room(shape, st) >= 1 && put_decoded(shape, st, b, CJ_U8_BOUNDARY);
    uint8_t u = cj_utf8_lead(b);
    return u != CJ_U8_BAD && room(shape, st) >= 1 + cj_utf8_left(u) && put_decoded(shape, st, b, u);
}

bool cj_step(const critic_json_shape *shape, critic_json_state *st, unsigned char b) {
    switch (st->phase) {
    case PHASE_TEMPLATE: return step_template(shape, st, b);
    case PHASE_STRING: return step_string(shape, st, b);
    case PHASE_LIST_OPEN:
    case PHASE_LIST_ITEM:
    case PHASE_LIST_COMMA: return step_list(shape, st, b);
    case PHASE_NUMBER: return step_number(shape, st, b);
    default: return false;
    }
}

bool critic_json_step(const critic_json_shape *shape, critic_json_state *state, unsigned char byte) {
    critic_json_state next = *state;
    if (!cj_step(shape, &next, byte)) return false;
    *state = next;
    return true;
}

/* A shortest completion, byte by byte: from a state that needs c bytes, some byte leads to one
 * that needs c - 1 (the smallest such byte is taken). */
size_t critic_json_close(const critic_json_shape *shape, critic_json_state state, char *out, size_t cap) {
    size_t n = 0;
    for (uint32_t need = critic_json_close_bytes(shape, &state); need > 0; need--, n++) {
        critic_json_state next = state;
        unsigned b = 0;
        for (; b < 256; b++) {
            next = state;
            if (cj_step(shape, &next, (unsigned char)b) && critic_json_close_bytes(shape, &next) == need - 1) break;
        }
        if (b == 256) break; /* unreachable while critic_json_close_bytes is exact */
        if (n < cap) out[n] = (char)b;
        state = next;
    }
    if (n < cap) out[n] = 0;
    return n;
}
