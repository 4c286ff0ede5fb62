/* An HTTP critic's answer (src/critic/http_json.c), read as the judge reads a 2xx body: the
 * chat completion's content, then the critique in it; and the texts the critic writes out,
 * from which the key must be gone whatever the body holds. */
#define _GNU_SOURCE /* memmem */
#include <string.h>

#include "critic/critic_internal.h"
#include "critic/http_internal.h"
#include "fuzz.h"

static const char KEY[] = "sk-fuzz-KEY0123456789";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *body = (const char *)data;
    char *content = NULL, why[120] = {0};
    uint64_t prompt_tokens = 0, completion_tokens = 0;
    t2g_status status = critic_http_read_completion(body, size, &content, &prompt_tokens, &completion_tokens, why,
                                                    sizeof why);
    FUZZ_CHECK(status == T2G_OK ? content != NULL : content == NULL && why[0] != '\0');
    if (content) {
        t2g_critic_result result = {0};
        t2g_critique_limits limits = {.max_spans = 64, .max_bytes = 1 << 16};
        t2g_error err = {0};
        FUZZ_CHECK(critic_reply_read(content, strlen(content), &limits, &result, &err) == T2G_OK);
        FUZZ_CHECK(result.ok || result.error[0] != '\0');
        if (result.ok) t2g_critique_free(&result.critique);
        free(content);
    }
    /* the key is removed from anything written out (a key without '[', ']' or spaces cannot
     * be formed again around "[key removed]") */
    size_t len = 0;
    char *redacted = critic_http_redact(body, size, KEY, &len);
    FUZZ_CHECK(redacted != NULL && strlen(redacted) <= len);
    FUZZ_CHECK(memmem(redacted, len, KEY, sizeof KEY - 1) == NULL);
    free(redacted);
    char snippet[100];
    critic_http_snippet(snippet, sizeof snippet, body, size, KEY);
    FUZZ_CHECK(strlen(snippet) < sizeof snippet && !strstr(snippet, KEY));
    return 0;
}
