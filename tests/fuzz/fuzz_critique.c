/* t2g_critique_parse on arbitrary bytes: an error with a message, or a critique whose spans
 * hold their stated bytes, and whose copy (t2g_critique_copy) equals it. */
#include <string.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    t2g_critique critique;
    t2g_error err = {0};
    t2g_status status = t2g_critique_parse((const char *)data, size, &critique, &err);
    FUZZ_CHECK_ERROR(status, err);
    if (status != T2G_OK) return 0;
    FUZZ_CHECK(critique.feedback != NULL);
    t2g_critique copy;
    FUZZ_CHECK(t2g_critique_copy(&critique, &copy, &err) == T2G_OK);
    FUZZ_CHECK(copy.span_count == critique.span_count && strcmp(copy.feedback, critique.feedback) == 0);
    for (uint32_t i = 0; i < critique.span_count; i++) {
        const t2g_critique_span *s = &critique.spans[i];
        FUZZ_CHECK(s->text != NULL && s->text[s->len] == '\0');
        FUZZ_CHECK(s->kind == T2G_SPAN_GOOD || s->kind == T2G_SPAN_POOR || s->kind == T2G_SPAN_NEUTRAL);
        FUZZ_CHECK(copy.spans[i].len == s->len && copy.spans[i].kind == s->kind);
        FUZZ_CHECK(memcmp(copy.spans[i].text, s->text, s->len) == 0);
    }
    t2g_critique_free(&copy);
    t2g_critique_free(&critique);
    return 0;
}
