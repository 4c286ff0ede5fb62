/* The shape of the critique JSON (critic/json_constraint.h): its options and, in SUBSTRINGS
 * mode, the suffix automaton of the response with what the byte automaton asks of it at each
 * step: which of its states can still finish a UTF-8 character, and what the cheapest first
 * character of a span costs. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "json_constraint_internal.h"

/* ---- the suffix automaton, built online (edges in linked lists), then packed ---- */

typedef struct sam_builder {
    uint32_t *len, *link, *first;      /* per state: longest string, suffix link, first edge */
    uint32_t *next_edge, *edge_to;     /* per edge */
    unsigned char *edge_byte;
    uint32_t states, edges, max_states, max_edges;
} sam_builder;

static uint32_t *find_edge(sam_builder *b, uint32_t s, unsigned char c) {
    for (uint32_t e = b->first[s]; e != CJ_NONE; e = b->next_edge[e])
        if (b->edge_byte[e] == c) return &b->edge_to[e];
    return NULL;
}

static void add_edge(sam_builder *b, uint32_t s, unsigned char c, uint32_t to) {
    uint32_t e = b->edges++;
    b->edge_byte[e] = c;
    b->edge_to[e] = to;
    b->next_edge[e] = b->first[s];
    b->first[s] = e;
}

static uint32_t add_state(sam_builder *b, uint32_t len, uint32_t link) {
    uint32_t s = b->states++;
    b->len[s] = len;
    b->link[s] = link;
    b->first[s] = CJ_NONE;
    return s;
}

/* Appends byte c to the automaton whose whole text ends in state *last. */
static void sam_extend(sam_builder *b, uint32_t *last, unsigned char c) {
    uint32_t cur = add_state(b, b->len[*last] + 1, 0);
    uint32_t p = *last;
    while (p != CJ_NONE && !find_edge(b, p, c)) {
        add_edge(b, p, c, cur);
        p = b->link[p];
    }
    if (p != CJ_NONE) {
        uint32_t q = *find_edge(b, p, c);
        if (b->len[p] + 1 == b->len[q]) {
            b->link[cur] = q;
        } else {
            uint32_t clone = add_state(b, b->len[p] + 1, b->link[q]);
            for (uint32_t e = b->first[q]; e != CJ_NONE; e = b->next_edge[e]) add_edge(b, clone, b->edge_byte[e], b->edge_to[e]);
            for (uint32_t *to; p != CJ_NONE && (to = find_edge(b, p, c)) && *to == q; p = b->link[p]) *to = clone;
            b->link[q] = clone;
            b->link[cur] = clone;
        }
    }
    *last = cur;
}

static void builder_free(sam_builder *b) {
    free(b->len), free(b->link), free(b->first), free(b->next_edge), free(b->edge_to), free(b->edge_byte);
}

/* Copies the builder's edges into the shape, each state's sorted by byte. */
static bool pack_edges(const sam_builder *b, critic_json_shape *shape) {
    shape->states = b->states;
    shape->edge_start = t2g_malloc((b->states + 1) * sizeof *shape->edge_start);
    shape->edge_byte = t2g_malloc(b->edges ? b->edges : 1);
    shape->edge_to = t2g_malloc((b->edges ? b->edges : 1) * sizeof *shape->edge_to);
    if (!shape->edge_start || !shape->edge_byte || !shape->edge_to) return false;
    uint32_t at = 0;
    for (uint32_t s = 0; s < b->states; s++) {
        shape->edge_start[s] = at;
        for (uint32_t e = b->first[s]; e != CJ_NONE; e = b->next_edge[e]) {
            /* insertion by byte: a state has few edges, the root at most 256 */
            uint32_t k = at++;
            for (; k > shape->edge_start[s] && shape->edge_byte[k - 1] > b->edge_byte[e]; k--) {
                shape->edge_byte[k] = shape->edge_byte[k - 1];
                shape->edge_to[k] = shape->edge_to[k - 1];
            }
            shape->edge_byte[k] = b->edge_byte[e];
            shape->edge_to[k] = b->edge_to[e];
        }
    }
    shape->edge_start[b->states] = at;
    return true;
}

static bool build_automaton(const unsigned char *text, size_t n, critic_json_shape *shape) {
    sam_builder b = {.max_states = 2 * (uint32_t)n + 2, .max_edges = 3 * (uint32_t)n + 8};
    b.len = t2g_malloc(b.max_states * sizeof *b.len);
    b.link = t2g_malloc(b.max_states * sizeof *b.link);
    b.first = t2g_malloc(b.max_states * sizeof *b.first);
    b.next_edge = t2g_malloc(b.max_edges * sizeof *b.next_edge);
    b.edge_to = t2g_malloc(b.max_edges * sizeof *b.edge_to);
    b.edge_byte = t2g_malloc(b.max_edges);
    bool ok = b.len && b.link && b.first && b.next_edge && b.edge_to && b.edge_byte;
    if (ok) {
        uint32_t last = add_state(&b, 0, CJ_NONE);
        for (size_t i = 0; i < n; i++) sam_extend(&b, &last, text[i]);
        ok = pack_edges(&b, shape);
    }
    builder_free(&b);
    return ok;
}

/* ---- what the byte automaton asks of the suffix automaton ---- */

/* live[s] bit u: from state s, in decoder state u, the response continues with bytes that
 * finish the character. Filled by the bytes left: one, then two, then three. */
static void mark_live(critic_json_shape *shape) {
    for (uint32_t left = 0; left <= 3; left++)
        for (uint32_t s = 0; s < shape->states; s++) {
            if (left == 0) {
                shape->live[s] = 1u << CJ_U8_BOUNDARY;
                continue;
            }
            for (uint8_t u = CJ_U8_1; u < CJ_U8_STATES; u++) {
                if (cj_utf8_left(u) != left) continue;
                uint8_t after = cj_utf8_after(u);
                for (uint32_t e = shape->edge_start[s]; e < shape->edge_start[s + 1]; e++)
                    if (cj_utf8_fits(u, shape->edge_byte[e]) && (shape->live[shape->edge_to[e]] >> after & 1)) {
                        shape->live[s] |= (uint8_t)(1u << u);
                        break;
                    }
            }
        }
}

/* JSON bytes that write the decoded ASCII byte b inside a string. */
static uint32_t json_bytes(unsigned char b) {
    if (b == '"' || b == '\\' || b == '\b' || b == '\f' || b == '\n' || b == '\r' || b == '\t') return 2;
    return b < 0x20 ? 6 : 1;
}

/* The cheapest first character of a span: a byte the root has an edge for (not NUL, which
 * the JSON cannot hold) that starts a character the response finishes within the span cap. */
static uint32_t first_character_cost(const critic_json_shape *shape) {
    uint32_t best = CJ_NONE;
    for (uint32_t e = shape->edge_start[0]; e < shape->edge_start[1]; e++) {
        unsigned char b = shape->edge_byte[e];
        uint32_t cost = CJ_NONE;
        if (b >= 0x01 && b < 0x80) {
            cost = json_bytes(b);
        } else if (b >= 0x80) {
            uint8_t u = cj_utf8_lead(b);
            if (u != CJ_U8_BAD && (shape->live[shape->edge_to[e]] >> u & 1)) cost = 1 + cj_utf8_left(u);
        }
        /* the character's decoded bytes: 1 for ASCII, else one per JSON byte */
        uint32_t decoded = b < 0x80 ? 1 : cost;
        if (cost < best && decoded <= shape->max_span_bytes) best = cost;
    }
    return best;
}

/* ---- the shape ---- */

t2g_status critic_json_shape_create(const critic_json_options *o, critic_json_shape **out, t2g_error *err) {
    if (!o || !out) return t2g_fail(err, T2G_ERR_ARGUMENT, "critic_json_shape_create: no options or no place for the shape");
    *out = NULL;
    if (o->spans_from_response && !o->response && o->response_len)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "critic_json_shape_create: no response bytes but a length of %zu",
                        o->response_len);
    if (o->spans_from_response && o->response_len > CRITIC_JSON_MAX_RESPONSE)
        return t2g_fail(err, T2G_ERR_TOO_LARGE, "the response of %zu bytes is longer than the %zu bytes spans may be "
                        "quoted from (spans_from_response)", o->response_len, CRITIC_JSON_MAX_RESPONSE);
    critic_json_shape *shape = t2g_calloc(1, sizeof *shape);
    if (!shape) return t2g_fail(err, T2G_ERR_MEMORY, "out of memory for the critique JSON's shape");
    shape->substrings = o->spans_from_response;
    shape->max_spans = o->max_spans ? o->max_spans : UINT32_MAX;
    shape->max_feedback_bytes = o->max_feedback_bytes ? o->max_feedback_bytes : UINT32_MAX;
    shape->max_span_bytes = o->max_span_bytes ? o->max_span_bytes : UINT32_MAX;
    size_t n = shape->substrings ? o->response_len : 0;
    bool ok = build_automaton((const unsigned char *)o->response, n, shape);
    if (ok) ok = (shape->live = t2g_malloc(shape->states)) != NULL;
    if (!ok) {
        critic_json_shape_free(shape);
        return t2g_fail(err, T2G_ERR_MEMORY, "out of memory for the suffix automaton of a response of %zu bytes", n);
    }
    mark_live(shape);
    shape->first_cost = shape->substrings ? first_character_cost(shape) : 0;
    *out = shape;
    return T2G_OK;
}

void critic_json_shape_free(critic_json_shape *shape) {
    if (!shape) return;
    free(shape->edge_start), free(shape->edge_byte), free(shape->edge_to), free(shape->live);
    free(shape);
}
