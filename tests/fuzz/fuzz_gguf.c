/* t2g_gguf_open on an arbitrary file: an error with a message naming the file, or a file that
 * holds together: every key found by its name and read by the getter of its type (and refused
 * by another), every array element read, every tensor found by its name, inside the file,
 * aligned, and read (dequantized, or refused with its type's name when t2g does not read it). */
#include <string.h>

#include "fuzz.h"

static void read_key(const t2g_gguf *g, uint64_t index) {
    const char *key = t2g_gguf_key(g, index);
    FUZZ_CHECK(key && t2g_gguf_find_key(g, key) == (int64_t)index);
    t2g_error err = {0};
    uint64_t u;
    int64_t i;
    double f;
    bool b, found = false;
    const char *text;
    size_t len;
    t2g_gguf_array array;
    t2g_status statuses[] = {
        t2g_gguf_get_u64(g, key, &found, &u, &err), t2g_gguf_get_i64(g, key, NULL, &i, &err),
        t2g_gguf_get_f64(g, key, NULL, &f, &err),   t2g_gguf_get_bool(g, key, NULL, &b, &err),
        t2g_gguf_get_string(g, key, NULL, &text, &len, &err), t2g_gguf_get_array(g, key, NULL, &array, &err),
    };
    FUZZ_CHECK(found);
    t2g_gguf_value_type type = t2g_gguf_value_type_at(g, index);
    FUZZ_CHECK(type < T2G_GGUF_VALUE_TYPE_COUNT);
    FUZZ_CHECK((statuses[2] == T2G_OK) == (type == T2G_GGUF_F32 || type == T2G_GGUF_F64));
    FUZZ_CHECK((statuses[3] == T2G_OK) == (type == T2G_GGUF_BOOL));
    FUZZ_CHECK((statuses[4] == T2G_OK) == (type == T2G_GGUF_STRING));
    FUZZ_CHECK((statuses[5] == T2G_OK) == (type == T2G_GGUF_ARRAY));
    if (statuses[4] == T2G_OK) {
        char *copy = NULL;
        t2g_status status = t2g_gguf_get_string_copy(g, key, NULL, &copy, &err);
        FUZZ_CHECK(status == T2G_OK ? strlen(copy) == len : memchr(text, 0, len) != NULL);
        free(copy);
    }
    if (statuses[5] != T2G_OK) return;
    uint64_t sum = 0;
    for (uint64_t e = 0; e < array.count; e++) {
        t2g_status s1 = t2g_gguf_array_string(&array, e, &text, &len, &err);
        t2g_status s2 = t2g_gguf_array_i64(&array, e, &i, &err);
        t2g_status s3 = t2g_gguf_array_f64(&array, e, &f, &err);
        FUZZ_CHECK((s1 == T2G_OK) == (array.type == T2G_GGUF_STRING));
        FUZZ_CHECK(s3 == T2G_OK ? array.type == T2G_GGUF_F32 || array.type == T2G_GGUF_F64 : err.message[0] != '\0');
        if (s1 == T2G_OK) sum += len ? (uint8_t)text[len - 1] : 0; /* touch the last byte */
        (void)s2;
    }
    FUZZ_CHECK(t2g_gguf_array_i64(&array, array.count, &i, &err) != T2G_OK);
    (void)sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file(data, size);
    t2g_gguf *g = NULL;
    t2g_error err = {0};
    t2g_status status = t2g_gguf_open(path, &g, &err);
    FUZZ_CHECK_ERROR(status, err);
    if (status != T2G_OK) {
        FUZZ_CHECK(g == NULL && strstr(err.message, path) != NULL);
        return 0;
    }
    for (uint64_t k = 0; k < t2g_gguf_key_count(g); k++) read_key(g, k);
    uint64_t data_offset = t2g_gguf_data_offset(g);
    FUZZ_CHECK(data_offset <= size && (data_offset % t2g_gguf_alignment(g) == 0 || data_offset == size));
    for (uint64_t t = 0; t < t2g_gguf_tensor_count(g); t++) {
        const t2g_gguf_tensor *tensor = t2g_gguf_tensor_at(g, t);
        uint64_t index = 0;
        FUZZ_CHECK(tensor && t2g_gguf_tensor_find(g, tensor->name, &index) == tensor && index == t);
        FUZZ_CHECK(tensor->offset % t2g_gguf_alignment(g) == 0 && tensor->bytes <= size - data_offset - tensor->offset);
        float *out = malloc(tensor->elements * sizeof *out + sizeof *out);
        FUZZ_CHECK(out != NULL);
        err.message[0] = '\0';
        status = t2g_gguf_tensor_read_f32(g, t, out, (size_t)tensor->elements, &err);
        FUZZ_CHECK(status == T2G_OK ? t2g_gguf_type_readable(tensor->type)
                                    : strstr(err.message, t2g_gguf_type_name(tensor->type)) != NULL);
        free(out);
    }
    t2g_gguf_close(g);
    return 0;
}
