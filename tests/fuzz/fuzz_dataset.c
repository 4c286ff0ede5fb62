/* t2g_dataset_load_jsonl on an arbitrary file: an error with a message, or at least one
 * example whose prompt and response hold their stated number of bytes. */
#include <string.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    t2g_dataset dataset;
    t2g_error err = {0};
    t2g_status status = t2g_dataset_load_jsonl(fuzz_file(data, size), &dataset, &err);
    FUZZ_CHECK_ERROR(status, err);
    if (status != T2G_OK) return 0;
    FUZZ_CHECK(dataset.count > 0);
    for (size_t i = 0; i < dataset.count; i++) {
        const t2g_example *e = &dataset.examples[i];
        FUZZ_CHECK(strlen(e->prompt) == e->prompt_len && strlen(e->response) == e->response_len);
    }
    t2g_dataset_free(&dataset);
    return 0;
}
