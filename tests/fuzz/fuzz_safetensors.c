/* t2g_safetensors_open on an arbitrary file: an error with a message, or a file whose tensors
 * hold together: each is found by its name, its byte range is the size its shape and dtype
 * give, and reading it (whole, and a range) succeeds for F32/F16/BF16 and is refused with a
 * message for any other dtype. */
#include <string.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    t2g_safetensors *st = NULL;
    t2g_error err = {0};
    t2g_status status = t2g_safetensors_open(fuzz_file(data, size), &st, &err);
    FUZZ_CHECK_ERROR(status, err);
    if (status != T2G_OK) return 0;
    float *out = malloc(size * sizeof *out + sizeof *out); /* no tensor holds more elements than the file bytes */
    FUZZ_CHECK(out != NULL);
    for (uint32_t i = 0; i < t2g_safetensors_count(st); i++) {
        const t2g_safetensors_tensor *t = t2g_safetensors_at(st, i);
        FUZZ_CHECK(t && t2g_safetensors_find(st, t->name) == t);
        FUZZ_CHECK(t->begin <= t->end && t->end - t->begin == t->elements * t->element_bytes && t->end <= size);
        bool readable = t->dtype == T2G_DTYPE_F32 || t->dtype == T2G_DTYPE_F16 || t->dtype == T2G_DTYPE_BF16;
        err.message[0] = '\0';
        status = t2g_safetensors_read_f32(st, t, out, t->elements, &err);
        FUZZ_CHECK(readable ? status == T2G_OK : status != T2G_OK && strstr(err.message, t->dtype_name));
        if (readable && t->elements > 1) {
            status = t2g_safetensors_read_range(st, t, 1, t->elements - 1, out, &err);
            FUZZ_CHECK(status == T2G_OK);
            FUZZ_CHECK(t2g_safetensors_read_range(st, t, 1, t->elements, out, &err) != T2G_OK);
        }
    }
    free(out);
    t2g_safetensors_close(st);
    return 0;
}
