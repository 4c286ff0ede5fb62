/* t2g_checkpoint_load on an arbitrary file: an error with a message, or a checkpoint whose
 * config text is NUL-terminated, arrays are there and directory (version 4) lies inside the
 * parameter buffer; t2g_checkpoint_match_table then accepts the checkpoint's own directory. The first byte chooses whether the last
 * four bytes of the file are replaced by the right CRC-32 (odd: yes), so that the fuzzer gets
 * past the CRC to the fields it guards. */
#include <string.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    size_t len = size - 1;
    uint8_t *file = malloc(len ? len : 1);
    FUZZ_CHECK(file != NULL);
    memcpy(file, data + 1, len);
    if ((data[0] & 1) && len >= 4) {
        uint32_t crc = t2g_crc32(0, file, len - 4);
        for (int i = 0; i < 4; i++)
            file[len - 4 + i] = (uint8_t)(crc >> (8 * i));
    }
    t2g_checkpoint checkpoint;
    t2g_error err = {0};
    t2g_status status = t2g_checkpoint_load(fuzz_file(file, len), &checkpoint, &err);
    FUZZ_CHECK_ERROR(status, err);
    if (status == T2G_OK) {
        FUZZ_CHECK(checkpoint.config_json != NULL && checkpoint.params && checkpoint.m && checkpoint.v);
        FUZZ_CHECK(strlen(checkpoint.config_json) < len);
        FUZZ_CHECK(checkpoint.aux_count == 0 || (checkpoint.aux_params && checkpoint.aux_m && checkpoint.aux_v));
        FUZZ_CHECK((checkpoint.table != NULL) == (checkpoint.table_count > 0));
        for (uint32_t i = 0; i < checkpoint.table_count; i++) {
            const t2g_gpt_param *p = &checkpoint.table[i];
            FUZZ_CHECK(p->name && p->layer >= -1 && p->offset <= checkpoint.param_count &&
                       (uint64_t)p->rows * p->cols <= checkpoint.param_count - p->offset);
        }
        FUZZ_CHECK(t2g_checkpoint_match_table(&checkpoint, checkpoint.table, checkpoint.table_count,
                                              checkpoint.param_count, &err) == T2G_OK);
        t2g_checkpoint_free(&checkpoint);
    }
    free(file);
    return 0;
}
