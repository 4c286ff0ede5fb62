/* t2g_config_parse on arbitrary bytes: an error with a message, or a config whose JSON form
 * (t2g_config_to_json) parses back to the same JSON. */
#include <string.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    t2g_config config = t2g_config_defaults();
    t2g_error err = {0};
    t2g_status status = t2g_config_parse(&config, (const char *)data, size, "fuzz.json", &err);
    FUZZ_CHECK_ERROR(status, err);
    if (status != T2G_OK) return 0;
    t2g_error invalid = {0};
    FUZZ_CHECK_ERROR(t2g_config_validate(&config, &invalid), invalid);
    char *json = t2g_config_to_json(&config);
    FUZZ_CHECK(json != NULL);
    t2g_config again = t2g_config_defaults();
    status = t2g_config_parse(&again, json, strlen(json), "written", &err);
    if (status != T2G_OK) fprintf(stderr, "%s\n%s\n", err.message, json);
    FUZZ_CHECK(status == T2G_OK);
    char *json_again = t2g_config_to_json(&again);
    FUZZ_CHECK(json_again != NULL);
    FUZZ_CHECK(strcmp(json, json_again) == 0);
    free(json);
    free(json_again);
    return 0;
}
