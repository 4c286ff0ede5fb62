/* The built-in critic of arith, written as a careful teacher would mark a sum.
 *
 * The response, trimmed of surrounding whitespace, is read as a leading run of digits (its
 * number) and whatever follows (garbage). The number's digits are compared with the answer's
 * place by place from the right (units with units):
 *   exact (the trimmed response is the answer)  "The answer 936 is correct."; the answer is one
 *                                                good span; score +1
 *   otherwise  each right digit a good span, each wrong digit a poor span ("the tens digit
 *              should be 3, not 4"), each extra digit on the left a poor span ("too long"),
 *              each missing place named ("too short: it lacks the hundreds digit (9)"), the
 *              garbage a poor span; spans listed left to right, so that single digits repeated
 *              in the response land on the right occurrence (critic_place); a good digit that
 *              would land on an earlier occurrence of a poor one were claims made by text and
 *              kind is quoted once more with its neighbours, at the end ("88" in 988 for 998).
 *   score      (right - wrong - missing - extra - [garbage ? 1 : 0]) / max(answer digits,
 *              response digits), clipped to [-1, 1); the garbage term keeps "936abc" below 1.
 *   final      what is missing cannot be quoted, so it is penalised on the response's last
 *              token as if it had been said wrong: -1 per missing digit (all of the answer's
 *              digits for a response with no number). Without it, an empty answer (nothing to
 *              quote, every token 0) would beat a wrong one (a -1 per poor digit), and a policy
 *              learns to say nothing.
 * Deterministic: the same request always gives the same critique. */
#include <math.h>
#include <string.h>

#include "critic_internal.h"

static bool is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* "units", "tens", ... for place p (0 = units). */
static void put_place(critic_text *t, size_t p) {
    static const char *const NAMES[] = {"units",         "tens",      "hundreds",          "thousands",
                                        "ten-thousands", "hundred-thousands", "millions", "ten-millions",
                                        "hundred-millions", "billions"};
    if (p < sizeof NAMES / sizeof NAMES[0])
        critic_text_printf(t, "%s", NAMES[p]);
    else
        critic_text_printf(t, "10^%zu", p);
}

/* The response's number in the text: itself when short, its length otherwise. */
static void put_number(critic_text *t, const char *digits, size_t n) {
    if (n <= 24)
        critic_text_printf(t, "The answer %.*s", (int)n, digits);
    else
        critic_text_printf(t, "The %zu-digit answer", n);
}

/* The field "sum" (else the answer) and its length, bounded by its buffer. */
static const char *sum_of(const t2g_task_example *ex, size_t *len) {
    for (uint32_t f = 0; f < ex->field_count && f < T2G_TASK_MAX_FIELDS; f++)
        if (strncmp(ex->fields[f].key, "sum", sizeof ex->fields[f].key) == 0) {
            *len = strnlen(ex->fields[f].value, sizeof ex->fields[f].value);
            return ex->fields[f].value;
        }
    *len = strnlen(ex->answer, sizeof ex->answer);
    return ex->answer;
}

t2g_status critic_arith_judge(const t2g_critic_request *request, t2g_critic_result *result, t2g_error *err) {
    if (!request->example) return t2g_fail(err, T2G_ERR_ARGUMENT, "no task example (the built-in critic needs one)");
    size_t a_start = 0, a_end;
    const char *answer = sum_of(request->example, &a_end);
    while (a_start < a_end && is_space(answer[a_start]))
        a_start++;
    while (a_end > a_start && is_space(answer[a_end - 1]))
        a_end--;
    for (size_t i = a_start; i < a_end; i++)
        if (!is_digit(answer[i])) a_end = a_start; /* not a number: refused below */
    if (a_end == a_start)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "the example's sum '%.*s' is not a number (not an arith example?)",
                        (int)strnlen(answer, 64), answer);
    answer += a_start;
    size_t A = a_end - a_start;

    const char *r = request->response ? request->response : "";
    size_t len = request->response_len;
    size_t start = 0, end = len;
    while (start < end && is_space(r[start]))
        start++;
    while (end > start && is_space(r[end - 1]))
        end--;
    size_t digits_end = start;
    while (digits_end < end && is_digit(r[digits_end]))
        digits_end++;
    size_t D = digits_end - start;
    const char *digits = r + start;
    bool garbage = digits_end < end;

    t2g_critique critique = {.format = T2G_CRITIQUE_SPANS};
    critic_placer placer = {.response = r, .len = len};
    critic_text text = {0};
    bool no_memory = false;
    double score, final_score = 0.0;

    if (!garbage && D == A && memcmp(digits, answer, A) == 0) {
        put_number(&text, digits, D);
        critic_text_printf(&text, " is correct.");
        no_memory = critic_place(&placer, &critique, start, end, start, end, T2G_SPAN_GOOD, false) == CRITIC_PLACE_NO_MEMORY;
        score = 1.0;
    } else {
        size_t right = 0, wrong = 0, extra = D > A ? D - A : 0, missing = A > D ? A - D : 0;
        for (size_t j = 0; j < D; j++) {
            size_t place = D - 1 - j;
            if (place < A && digits[j] == answer[A - 1 - place]) right++;
            if (place < A && digits[j] != answer[A - 1 - place]) wrong++;
        }
        if (D == 0) {
            critic_text_printf(&text, "The response has no number: it should be the sum, %.*s.", (int)A, answer);
        } else {
            put_number(&text, digits, D);
            if (wrong == 0 && missing == 0 && extra == 0) {
                critic_text_printf(&text, " is right, but the response goes on with text that is not part of it.");
            } else {
                critic_text_printf(&text, " is wrong: ");
                const char *sep = "";
                /* Places from the highest, as the digits are read. */
                for (size_t j = 0; j < D; j++) {
                    size_t place = D - 1 - j;
                    if (place >= A || digits[j] == answer[A - 1 - place]) continue;
                    critic_text_printf(&text, "%sthe ", sep);
                    put_place(&text, place);
                    critic_text_printf(&text, " digit should be %c, not %c", answer[A - 1 - place], digits[j]);
                    sep = "; ";
                }
                if (missing) {
                    critic_text_printf(&text, "%sthe answer is too short: it lacks the ", sep);
                    for (size_t place = A; place-- > D;) {
                        put_place(&text, place);
                        critic_text_printf(&text, " digit (%c)%s", answer[A - 1 - place],
                                           place > D + 1 ? ", the " : place == D + 1 ? " and the " : "");
                    }
                    sep = "; ";
                }
                if (extra) {
                    critic_text_printf(&text, "%sthe answer is too long: ", sep);
                    for (size_t j = 0; j < extra; j++) {
                        critic_text_printf(&text, "%sthe ", j == 0 ? "" : j + 1 == extra ? " and " : ", ");
                        put_place(&text, D - 1 - j);
                        critic_text_printf(&text, " digit (%c)", digits[j]);
                    }
                    critic_text_printf(&text, " should not be there");
                }
                critic_text_printf(&text, ".");
                if (garbage) critic_text_printf(&text, " After the number, the response goes on with text that is not part of the answer.");
                critic_text_printf(&text, " The correct answer is %.*s.", (int)A, answer);
            }
        }
        /* Spans left to right: the digits, one each (in-order claims put each on its own
         * occurrence), then the garbage. */
        for (size_t j = 0; j < D && !no_memory; j++) {
            size_t place = D - 1 - j;
            t2g_span_kind kind = place < A && digits[j] == answer[A - 1 - place] ? T2G_SPAN_GOOD : T2G_SPAN_POOR;
            no_memory = critic_place(&placer, &critique, start + j, start + j + 1, start + j, start + j + 1, kind, false) ==
                        CRITIC_PLACE_NO_MEMORY;
        }
        uint32_t digit_spans = critique.span_count;
        if (garbage && !no_memory) {
            /* From its first non-space byte, widened over the spaces after the number if need be.
             * Garbage that repeats the number's text (" 936 936") lands on the number under every
             * widening; then a good quote of the number, listed first, claims that occurrence
             * under reading A (the same text), and the garbage is quoted again after it. Its
             * overlap with the number's poor digits leaves them poor (the lower score wins);
             * under reading B (text and kind) the garbage still lands on the number: a limit of
             * quotes, which the critique's words make up for. */
            size_t g = digits_end;
            while (g < end && is_space(r[g]))
                g++;
            critic_place_result placed = critic_place(&placer, &critique, g, end, digits_end, end, T2G_SPAN_POOR, false);
            if (placed == CRITIC_NOT_PLACED) {
                placed = critic_place(&placer, &critique, start, digits_end, start, digits_end, T2G_SPAN_GOOD, false);
                if (placed != CRITIC_PLACE_NO_MEMORY)
                    placed = critic_place(&placer, &critique, g, end, digits_end, end, T2G_SPAN_POOR, false);
            }
            no_memory = placed == CRITIC_PLACE_NO_MEMORY;
        }
        /* Should claims go by text and kind, a good digit after a poor one of the same value
         * lands on the poor one (harmless: it stays poor) and leaves its own place unmarked:
         * a good quote of it with its neighbours, listed last, marks it under either reading. */
        for (uint32_t i = 0; i < digit_spans && !no_memory; i++) {
            if (critique.spans[i].kind != T2G_SPAN_GOOD || placer.start_b[i] == placer.start_a[i]) continue;
            size_t at = placer.start_a[i];
            no_memory = critic_place(&placer, &critique, at, at + 1, start, digits_end, T2G_SPAN_GOOD, true) ==
                        CRITIC_PLACE_NO_MEMORY;
        }
        final_score = -(double)missing;
        size_t n = A > D ? A : D;
        score = ((double)right - (double)wrong - (double)missing - (double)extra - (garbage ? 1.0 : 0.0)) / (double)n;
        if (score < -1.0) score = -1.0;
        if (score >= 1.0) score = nextafter(1.0, 0.0); /* not reached: only an exact answer has every term right */
    }

    critic_placer_free(&placer);
    return critic_finish(&critique, &text, no_memory, score, final_score, result, err);
}
