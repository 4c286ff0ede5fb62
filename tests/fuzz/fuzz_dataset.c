/* t2g_dataset_load_jsonl and t2g_dataset_load_prompts (RL prompts, other keys kept as JSON) on
 * an arbitrary file, with a small line cap so that over-long lines are reached too: an error
 * with a message, or at least one example whose prompt and response hold their stated number
 * of bytes (and, for prompts, an empty response and fields that are a JSON object). */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"

static void load(const char *path, bool prompts) {
    t2g_dataset dataset;
    t2g_error err = {0};
    const uint64_t max_line_bytes = 256;
    t2g_status status = prompts ? t2g_dataset_load_prompts(path, max_line_bytes, &dataset, &err)
                                : t2g_dataset_load_jsonl(path, max_line_bytes, &dataset, &err);
    FUZZ_CHECK_ERROR(status, err);
    if (status != T2G_OK) return;
    FUZZ_CHECK(dataset.count > 0);
    for (size_t i = 0; i < dataset.count; i++) {
        const t2g_example *e = &dataset.examples[i];
        FUZZ_CHECK(strlen(e->prompt) == e->prompt_len && strlen(e->response) == e->response_len);
        FUZZ_CHECK(!prompts || (e->response_len == 0 && dataset.fields && dataset.fields[i][0] == '{'));
    }
    t2g_dataset_free(&dataset);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file(data, size);
    load(path, false);
    load(path, true);
    return 0;
}
