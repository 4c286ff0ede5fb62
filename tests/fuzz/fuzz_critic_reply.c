/* One reply line of an external critic (src/critic/external.c), read as the judge reads it:
 * an error with a message, or a critique that can be freed. */
#include "critic/critic_internal.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    t2g_critique critique;
    t2g_error err = {0};
    t2g_status status = critic_external_read_reply((const char *)data, size, &critique, &err);
    FUZZ_CHECK_ERROR(status, err);
    if (status == T2G_OK) {
        FUZZ_CHECK(critique.feedback != NULL);
        t2g_critique_free(&critique);
    }
    return 0;
}
