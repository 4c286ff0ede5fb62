/* The JSON of chat completions for the HTTP critic (http_internal.h): the request's body and
 * the reading of an answer. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "core/utf8.h"
#include "http_internal.h"

char *critic_http_request_body(const critic_http_body_options *options, const char *message) {
    char *content = t2g_utf8_sanitize(message, strlen(message), NULL);
    cJSON *json = cJSON_CreateObject();
    cJSON *messages = json ? cJSON_AddArrayToObject(json, "messages") : NULL;
    cJSON *user = cJSON_CreateObject();
    bool built = content && messages && user && cJSON_AddItemToArray(messages, user);
    if (!built) cJSON_Delete(user);
    built = built && cJSON_AddStringToObject(user, "role", "user") && cJSON_AddStringToObject(user, "content", content);
    if (built && options->model && options->model[0]) built = cJSON_AddStringToObject(json, "model", options->model);
    if (built) built = cJSON_AddNumberToObject(json, "temperature", options->temperature) != NULL;
    if (built && options->max_tokens) built = cJSON_AddNumberToObject(json, "max_tokens", options->max_tokens) != NULL;
    if (built && options->json_mode) {
        cJSON *format = cJSON_AddObjectToObject(json, "response_format");
        built = format && cJSON_AddStringToObject(format, "type", "json_object");
    }
    char *text = built ? cJSON_PrintUnformatted(json) : NULL;
    cJSON_Delete(json);
    free(content);
    return text;
}

bool critic_http_is_json(const char *content_type) {
    static const char want[] = "application/json";
    if (!content_type) return false;
    while (*content_type == ' ' || *content_type == '\t')
        content_type++;
    if (strncasecmp(content_type, want, sizeof want - 1) != 0) return false;
    const char *rest = content_type + sizeof want - 1;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    return *rest == 0 || *rest == ';';
}

/* Whether needle occurs in text[0..len), ignoring case. */
static bool contains(const char *text, size_t len, const char *needle) {
    size_t n = strlen(needle);
    for (size_t p = 0; p + n <= len; p++) {
        size_t k = 0;
        while (k < n && tolower((unsigned char)text[p + k]) == needle[k])
            k++;
        if (k == n) return true;
    }
    return false;
}

bool critic_http_refuses_json_mode(const char *body, size_t len) {
    return body && (contains(body, len, "response_format") || contains(body, len, "json_object"));
}

/* Adds a usage count (a non-negative whole number) to *total. */
static void add_tokens(const cJSON *usage, const char *key, uint64_t *total) {
    const cJSON *count = cJSON_GetObjectItemCaseSensitive(usage, key);
    if (cJSON_IsNumber(count) && count->valuedouble >= 0 && count->valuedouble < 1e15)
        *total += (uint64_t)count->valuedouble;
}

t2g_status critic_http_read_completion(const char *body, size_t len, char **content, uint64_t *prompt_tokens,
                                       uint64_t *completion_tokens, char *why, size_t why_size) {
    *content = NULL;
    cJSON *json = cJSON_ParseWithLength(body, len);
    if (!json || !cJSON_IsObject(json)) {
        snprintf(why, why_size, "%s", json ? "the body is JSON but not an object" : "the body is not JSON");
        cJSON_Delete(json);
        return T2G_ERR_FORMAT;
    }
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(json, "choices");
    const cJSON *first = cJSON_IsArray(choices) ? cJSON_GetArrayItem(choices, 0) : NULL;
    const cJSON *message = cJSON_GetObjectItemCaseSensitive(first, "message");
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(message, "content");
    if (!cJSON_IsString(text)) {
        snprintf(why, why_size, "%s", !cJSON_IsArray(choices) ? "no \"choices\" array in the answer"
                                      : !first              ? "an empty \"choices\" array"
                                      : !message            ? "no choices[0].message in the answer"
                                                            : "choices[0].message.content is not a string");
        cJSON_Delete(json);
        return T2G_ERR_FORMAT;
    }
    *content = strdup(text->valuestring);
    if (!*content) {
        cJSON_Delete(json);
        snprintf(why, why_size, "out of memory");
        return T2G_ERR_MEMORY;
    }
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(json, "usage");
    if (cJSON_IsObject(usage)) {
        add_tokens(usage, "prompt_tokens", prompt_tokens);
        add_tokens(usage, "completion_tokens", completion_tokens);
    }
    cJSON_Delete(json);
    return T2G_OK;
}
