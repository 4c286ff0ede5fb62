/* Constrained decoding for a critic that is a language model: an automaton over bytes that
 * accepts exactly the critique JSON
 *
 *   {"textual_feedback": STRING, "good_spans": [STRING, ...], "poor_spans": [STRING, ...], "score": NUMBER}
 *
 * (keys in that order, all present, lists may be empty), and a mask over a tokenizer's
 * vocabulary that lets through only the tokens whose bytes keep the output a prefix of such
 * JSON with enough of the token budget left to close it. Every output it completes is read by
 * t2g_critique_parse (t2g/feedback.h).
 *
 * The shape, byte by byte:
 * - whitespace (space, \n, \t; at most 8 bytes in a row) may stand between structural tokens:
 *   after '{' and '[', around ':' and ',', before ']' and '}'; none before '{' or after '}'.
 * - STRING: a JSON string of valid UTF-8 (checked as a strict decoder does: no stray
 *   continuation bytes, overlong forms, surrogates or code points past U+10FFFF), no raw '"',
 *   '\' or control bytes below 0x20, escapes \" \\ \/ \b \f \n \r \t \uXXXX. A \u escape may
 *   not be \u0000 or a surrogate (D800..DFFF): characters past U+FFFF are written as raw UTF-8.
 *   Its decoded length (escapes resolved) is capped by max_feedback_bytes (the feedback) and
 *   max_span_bytes (each span); 0 means no cap.
 * - each list holds at most max_spans strings (0: no cap).
 * - NUMBER (score): -1, 0, 1, -?0. then 1 to 3 digits, or -?1. then 1 to 3 zeros. So it lies in
 *   [-1, 1].
 * - spans_from_response (SUBSTRINGS mode): each span, decoded, is a non-empty substring of the
 *   response (bytes, any content: quotes, backslashes, control bytes, invalid UTF-8) that is
 *   itself valid UTF-8. A \u escape in such a span stands for one ASCII byte (\u0001..\u007F):
 *   other characters are written as raw UTF-8. Bytes the response cannot supply are refused
 *   as they come, through a suffix automaton of the response (O(n) states, built once); a span
 *   may begin and end wherever the response has a valid UTF-8 substring, and a byte that
 *   begins or continues a character is accepted only where the response goes on to finish
 *   that character (known per automaton state from its construction). A response holding no
 *   valid UTF-8 character leaves both lists empty.
 * - after the closing '}' the output is complete: no byte is allowed.
 *
 * The automaton never enters a state it cannot leave: every byte it accepts leaves a completion
 * possible, and critic_json_close_bytes is the exact length of a shortest one. */
#ifndef T2G_CRITIC_JSON_CONSTRAINT_H
#define T2G_CRITIC_JSON_CONSTRAINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "t2g/status.h"

/* ---- the shape: options and the response's suffix automaton, built once per critique ---- */

typedef struct critic_json_shape critic_json_shape;

typedef struct critic_json_options {
    bool spans_from_response;  /* SUBSTRINGS mode: spans are non-empty substrings of the response */
    const char *response;      /* its bytes (read during create only); NULL only with response_len 0 */
    size_t response_len;       /* at most CRITIC_JSON_MAX_RESPONSE */
    uint32_t max_spans;        /* per list; 0: no cap */
    uint32_t max_feedback_bytes, max_span_bytes; /* decoded bytes; 0: no cap */
} critic_json_options;

#define CRITIC_JSON_MAX_RESPONSE ((size_t)1 << 28)

/* Errors: no options or out (T2G_ERR_ARGUMENT), a NULL response with a length
 * (T2G_ERR_ARGUMENT), a response over CRITIC_JSON_MAX_RESPONSE bytes (T2G_ERR_TOO_LARGE), out of
 * memory (T2G_ERR_MEMORY). */
t2g_status critic_json_shape_create(const critic_json_options *options, critic_json_shape **out, t2g_error *err);
void critic_json_shape_free(critic_json_shape *shape);

/* ---- bytes ---- */

/* Where the output stands: a small value (copy it freely, e.g. one per prefix depth of a trie
 * walk); its fields belong to json_constraint*.c. It has no padding and the fields a state
 * does not use are 0, so two states are the same exactly when their bytes are equal (memcmp). */
typedef struct critic_json_state {
    uint32_t sam;     /* SUBSTRINGS mode, inside a span: the suffix-automaton state of its decoded bytes */
    uint32_t length;  /* decoded bytes of the string being written */
    uint32_t count;   /* strings in the list being written */
    uint32_t hex;     /* inside \uXXXX: the value of the digits so far */
    uint8_t phase;    /* a template of fixed bytes, a string, a list, the number, done */
    uint8_t part;     /* the template's index, or the number's form */
    uint8_t at;       /* the next byte of the template */
    uint8_t space;    /* whitespace bytes in a row */
    uint8_t escape;   /* 0; 1 after '\'; 2 + digits read after "\u" */
    uint8_t utf8;     /* the UTF-8 decoder: 0 between characters, else what the next byte must be */
    uint8_t list;     /* the string being written: 0 feedback, 1 a good span, 2 a poor span */
    uint8_t digits;   /* the number's digits after its point */
} critic_json_state;

critic_json_state critic_json_start(const critic_json_shape *shape);
/* Appends one byte; false (state unchanged) when the byte may not come next. */
bool critic_json_step(const critic_json_shape *shape, critic_json_state *state, unsigned char byte);
bool critic_json_done(const critic_json_state *state);
/* The fewest bytes that complete the JSON from here (0 when done). */
uint32_t critic_json_close_bytes(const critic_json_shape *shape, const critic_json_state *state);
/* Writes a shortest completion (critic_json_close_bytes of them) to out: its first min(length,
 * cap) bytes, then a NUL when there is room; returns its length. */
size_t critic_json_close(const critic_json_shape *shape, critic_json_state state, char *out, size_t cap);

/* ---- tokens ---- */

typedef struct critic_vocab critic_vocab;

/* The vocabulary of V tokens: token_bytes(user, id, &len) gives the bytes token id decodes to
 * (NULL: a token that never appears inside the JSON, as do special tokens, special(user, id)
 * true, and tokens of no bytes). stop_ids (stop_count of them): the tokens that end generation,
 * allowed once the JSON is done, and then alone. The bytes are copied: the callbacks are not
 * kept. Errors (T2G_ERR_ARGUMENT): no callbacks, a stop id not below V, and a byte a shortest
 * completion may need whatever the response (ASCII 0x20..0x7F, UTF-8 continuation bytes
 * 0x80..0xBF) that no single-byte non-special token decodes to: the message names the byte.
 * T2G_ERR_MEMORY when out of memory. The lead bytes C2..F4 are needed only to open a span in
 * SUBSTRINGS mode when the response's cheapest first character starts with one; a vocabulary
 * may lack some (SmolLM2's lacks F1 and F2, which begin only unassigned planes 4 to 11), and
 * then critic_json_mask may allow no token at a budget of exactly critic_json_close_bytes. */
t2g_status critic_vocab_create(uint32_t V, const char *(*token_bytes)(void *user, uint32_t id, size_t *len),
                               bool (*special)(void *user, uint32_t id), void *user, const uint32_t *stop_ids,
                               uint32_t stop_count, critic_vocab **out, t2g_error *err);
void critic_vocab_free(critic_vocab *vocab);

/* Sets logits[id] (V of them) to -INFINITY for every token that may not come next: its bytes
 * do not all step the automaton, or afterwards the JSON needs more than budget - 1 bytes to
 * close, where budget counts the tokens the generation may still produce, this one included.
 * Once the JSON is done only the stop ids stay. Other logits are left as they are. Returns how
 * many tokens stay allowed: at least 1 whenever budget >= critic_json_close_bytes(state), which
 * holds at every step when it holds at the start and each token is one the mask allowed (each
 * byte of a shortest completion has a one-byte token; see critic_vocab_create for the one
 * exception). Reads only vocab, shape and state: calls may run in parallel. */
uint32_t critic_json_mask(const critic_vocab *vocab, const critic_json_shape *shape, const critic_json_state *state,
                          uint32_t budget, float *logits);
/* Steps the state by a token's bytes; false (state unchanged) when the token may not come next
 * (the budget is not checked). A stop id once done: true, the state stays done. */
bool critic_json_advance(const critic_vocab *vocab, const critic_json_shape *shape, critic_json_state *state,
                         uint32_t token);

#endif
