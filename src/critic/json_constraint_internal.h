/* What json_constraint*.c share: the shape's layout, its suffix automaton, and the incremental
 * UTF-8 decoder (the byte-at-a-time form of the rules of core/utf8.h). */
#ifndef T2G_CRITIC_JSON_CONSTRAINT_INTERNAL_H
#define T2G_CRITIC_JSON_CONSTRAINT_INTERNAL_H

#include "json_constraint.h"

#define CJ_NONE UINT32_MAX  /* no state, no transition, no completion */

struct critic_json_shape {
    bool substrings;                               /* spans_from_response */
    uint32_t max_spans, max_feedback_bytes, max_span_bytes; /* 0 became UINT32_MAX */
    /* The suffix automaton of the response (SUBSTRINGS mode): state 0 is the empty string; the
     * edges of state s are [edge_start[s], edge_start[s + 1]), bytes ascending. */
    uint32_t states;
    uint32_t *edge_start;      /* [states + 1] */
    unsigned char *edge_byte;  /* [edges] */
    uint32_t *edge_to;         /* [edges] */
    uint8_t *live;             /* [states]: bit u when (state, decoder state u) can finish its character */
    uint32_t first_cost;       /* JSON bytes of the cheapest first character of a span; CJ_NONE: no span */
};

/* The state reached from s by byte b, or CJ_NONE. */
static inline uint32_t cj_sam_next(const critic_json_shape *shape, uint32_t s, unsigned char b) {
    uint32_t lo = shape->edge_start[s], hi = shape->edge_start[s + 1];
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (shape->edge_byte[mid] < b)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < shape->edge_start[s + 1] && shape->edge_byte[lo] == b ? shape->edge_to[lo] : CJ_NONE;
}

/* critic_json_step without keeping the state on a refusal (it may then hold anything). */
bool cj_step(const critic_json_shape *shape, critic_json_state *st, unsigned char b);

/* Whether the state is inside a string that any text without '"', '\\' and control bytes,
 * made of whole UTF-8 characters, extends as it is (no span automaton, no escape or character
 * under way): then such text of n bytes steps it iff n <= *room, and leaves its
 * critic_json_close_bytes as it was. */
bool cj_in_plain_text(const critic_json_shape *shape, const critic_json_state *st, uint32_t *room);

/* ---- the UTF-8 decoder: what the next byte of a character must be ---- */

enum {
    CJ_U8_BOUNDARY,  /* between characters */
    CJ_U8_1,         /* one continuation byte left, 80..BF */
    CJ_U8_2,         /* two left, 80..BF first */
    CJ_U8_2_E0,      /* two left, A0..BF first (no overlong forms) */
    CJ_U8_2_ED,      /* two left, 80..9F first (no surrogates) */
    CJ_U8_3,         /* three left, 80..BF first */
    CJ_U8_3_F0,      /* three left, 90..BF first (no overlong forms) */
    CJ_U8_3_F4,      /* three left, 80..8F first (nothing past U+10FFFF) */
    CJ_U8_STATES,
    CJ_U8_BAD = 0xFF /* a byte no character starts with */
};

/* The decoder's state after the first byte b (>= 0x80) of a character, or CJ_U8_BAD. */
static inline uint8_t cj_utf8_lead(unsigned char b) {
    if (b >= 0xC2 && b <= 0xDF) return CJ_U8_1;
    if (b == 0xE0) return CJ_U8_2_E0;
    if (b == 0xED) return CJ_U8_2_ED;
    if (b >= 0xE1 && b <= 0xEF) return CJ_U8_2;
    if (b == 0xF0) return CJ_U8_3_F0;
    if (b == 0xF4) return CJ_U8_3_F4;
    if (b >= 0xF1 && b <= 0xF3) return CJ_U8_3;
    return CJ_U8_BAD;
}

/* Continuation bytes still to come in state u. */
static inline uint32_t cj_utf8_left(uint8_t u) { return u == CJ_U8_BOUNDARY ? 0 : u == CJ_U8_1 ? 1 : u <= CJ_U8_2_ED ? 2 : 3; }

/* Whether b may come next in state u (not CJ_U8_BOUNDARY). */
static inline bool cj_utf8_fits(uint8_t u, unsigned char b) {
    unsigned char lo = u == CJ_U8_2_E0 ? 0xA0 : u == CJ_U8_3_F0 ? 0x90 : 0x80;
    unsigned char hi = u == CJ_U8_2_ED ? 0x9F : u == CJ_U8_3_F4 ? 0x8F : 0xBF;
    return b >= lo && b <= hi;
}

/* The state after a continuation byte that fits. */
static inline uint8_t cj_utf8_after(uint8_t u) {
    uint32_t left = cj_utf8_left(u);
    return left == 1 ? CJ_U8_BOUNDARY : left == 2 ? CJ_U8_1 : CJ_U8_2;
}

#endif
