/* The texts that leave the HTTP critic (http_internal.h): every one with the key removed. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/utf8.h"
#include "http_internal.h"

#define MAX_LOG (64ll << 20)   /* bytes of log in all; then nothing more is written */
enum { LOG_BODY = 64 << 10 };  /* bytes of a body logged */

static const char REMOVED[] = "[key removed]";

char *critic_http_redact(const char *text, size_t len, const char *key, size_t *out_len) {
    size_t key_len = key ? strlen(key) : 0;
    size_t found = 0;
    for (size_t p = 0; key_len && p + key_len <= len; p++)
        if (memcmp(text + p, key, key_len) == 0) found++, p += key_len - 1;
    /* each occurrence grows by at most sizeof REMOVED bytes */
    char *out = malloc(len + found * sizeof REMOVED + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t p = 0; p < len;) {
        if (key_len && p + key_len <= len && memcmp(text + p, key, key_len) == 0) {
            memcpy(out + o, REMOVED, sizeof REMOVED - 1);
            o += sizeof REMOVED - 1;
            p += key_len;
        } else {
            out[o++] = text[p++];
        }
    }
    out[o] = 0;
    if (out_len) *out_len = o;
    return out;
}

void critic_http_snippet(char *dst, size_t size, const char *body, size_t len, const char *key) {
    if (size == 0) return;
    dst[0] = 0;
    size_t shown_len = 0;
    char *shown = critic_http_redact(body ? body : "", body ? len : 0, key, &shown_len);
    if (!shown) {
        snprintf(dst, size, "(body not shown: out of memory)");
        return;
    }
    bool cut = shown_len > size - 1;
    size_t n = cut ? (size > 4 ? size - 4 : 0) : shown_len;
    while (cut && n > 0 && ((unsigned char)shown[n] & 0xC0) == 0x80) /* not inside a UTF-8 sequence */
        n--;
    memcpy(dst, shown, n);
    if (cut && size > 4) memcpy(dst + n, "...", 3), n += 3;
    dst[n] = 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)dst[i] < 0x20 || dst[i] == 0x7f) dst[i] = ' ';
    free(shown);
}

bool critic_http_log_write(critic_http_log *log, const char *key, const critic_http_log_entry *entry) {
    if (!log->file || log->bytes >= MAX_LOG) return true;
    /* The key is removed before the cut, so that no part of it is left at the edge. */
    size_t body_len = 0, error_len = 0;
    char *body = critic_http_redact(entry->body ? entry->body : "", entry->body ? entry->body_len : 0, key, &body_len);
    char *error = entry->error && entry->error[0] ? critic_http_redact(entry->error, strlen(entry->error), key, &error_len)
                                                  : NULL;
    char *body_text = body ? t2g_utf8_sanitize(body, body_len > LOG_BODY ? LOG_BODY : body_len, NULL) : NULL;
    char *error_text = error ? t2g_utf8_sanitize(error, error_len, NULL) : NULL;
    cJSON *json = cJSON_CreateObject();
    bool built = body_text && (!entry->error || !entry->error[0] || error_text) && json &&
                 cJSON_AddNumberToObject(json, "id", (double)entry->id) &&
                 cJSON_AddNumberToObject(json, "attempt", entry->attempt) &&
                 cJSON_AddNumberToObject(json, "status", (double)entry->status) &&
                 cJSON_AddNumberToObject(json, "ms", entry->ms) &&
                 (!error_text || cJSON_AddStringToObject(json, "error", error_text)) &&
                 cJSON_AddStringToObject(json, "body", body_text);
    char *line = built ? cJSON_PrintUnformatted(json) : NULL;
    cJSON_Delete(json);
    free(body), free(error), free(body_text), free(error_text);
    if (!line) return false;
    size_t n = strlen(line);
    if (log->bytes + (long long)n + 1 <= MAX_LOG && fwrite(line, 1, n, log->file) == n && fputc('\n', log->file) != EOF &&
        fflush(log->file) == 0)
        log->bytes += (long long)n + 1;
    else
        log->bytes = MAX_LOG; /* full, or a write failed: no more lines (none half-written after it) */
    cJSON_free(line);
    return true;
}
