/* The critique cache (cache.h): an index of (key, line offset) in memory, lines in the file. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/grow.h"
#include "core/hash.h"
#include "critic/cache.h"

enum { MAX_LINE = 64 << 20 }; /* the longest line read: a message and answer of many MiB */

typedef struct entry {
    uint64_t key;
    uint64_t offset; /* of the line in the file */
    uint64_t len;    /* its bytes, without the newline */
} entry;

struct critic_cache {
    char *path;
    int fd;                /* O_RDWR | O_APPEND, opened at the first store */
    FILE *read;            /* the file as it was opened, kept for reading hits back (NULL: it did not exist) */
    entry *slots;          /* open addressing, key 0 = empty (a key of 0 is stored as 1) */
    size_t slot_count, used;
    bool torn;             /* the file ends in a line without its newline (a run stopped mid-write) */
    uint64_t torn_at, size_seen; /* where that line starts, and the file's size when it was read */
    bool needs_newline;    /* the last line is whole but has no newline: the next store starts a line */
};

static uint64_t key_of(const char *settings, const char *message) {
    uint64_t h = t2g_fnv1a64(T2G_FNV1A64_START, settings, strlen(settings) + 1);
    h = t2g_fnv1a64(h, message, strlen(message));
    return h ? h : 1;
}

static bool index_grow(critic_cache *c) {
    size_t count = c->slot_count ? c->slot_count * 2 : 1024;
    entry *slots = calloc(count, sizeof *slots);
    if (!slots) return false;
    for (size_t i = 0; i < c->slot_count; i++) {
        if (!c->slots[i].key) continue;
        size_t k = c->slots[i].key & (count - 1);
        while (slots[k].key) k = (k + 1) & (count - 1);
        slots[k] = c->slots[i];
    }
    free(c->slots);
    c->slots = slots;
    c->slot_count = count;
    return true;
}

static bool index_add(critic_cache *c, entry e) {
    if ((c->used + 1) * 2 > c->slot_count && !index_grow(c)) return false;
    size_t k = e.key & (c->slot_count - 1);
    while (c->slots[k].key) k = (k + 1) & (c->slot_count - 1);
    c->slots[k] = e;
    c->used++;
    return true;
}

/* The line's fields, or an error naming the line. */
static t2g_status read_line(const char *line, size_t len, const char *path, uint64_t number, cJSON **json,
                            t2g_error *err) {
    *json = cJSON_ParseWithLength(line, len);
    static const char *const keys[] = {"key", "settings", "message", "answer"};
    static const char *const missing[] = {"no string \"key\"", "no string \"settings\"", "no string \"message\"",
                                          "no string \"answer\""};
    const char *problem = !*json || !cJSON_IsObject(*json) ? "not a JSON object" : NULL;
    for (size_t k = 0; !problem && k < 4; k++)
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(*json, keys[k]))) problem = missing[k];
    if (!problem) return T2G_OK;
    cJSON_Delete(*json);
    *json = NULL;
    return t2g_fail(err, T2G_ERR_FORMAT,
                    "critic.cache %s, line %llu: %s (a cache line is {\"key\", \"settings\", \"message\", \"answer\"}; "
                    "move the file away to start a new cache)",
                    path, (unsigned long long)number, problem);
}

static t2g_status load(critic_cache *c, FILE *f, t2g_error *err) {
    char *line = NULL;
    size_t cap = 0;
    uint64_t offset = 0, number = 0;
    t2g_status status = T2G_OK;
    for (;;) {
        ssize_t got = getline(&line, &cap, f);
        if (got < 0) break;
        number++;
        size_t len = (size_t)got;
        bool complete = len > 0 && line[len - 1] == '\n';
        if (complete) len--;
        if (len > MAX_LINE) {
            status = t2g_fail(err, T2G_ERR_TOO_LARGE, "critic.cache %s, line %llu: over %d MiB", c->path,
                              (unsigned long long)number, MAX_LINE >> 20);
            break;
        }
        bool blank = true;
        for (size_t i = 0; i < len && blank; i++) blank = line[i] == ' ' || line[i] == '\t' || line[i] == '\r';
        if (!blank) {
            cJSON *json = NULL;
            t2g_status s = read_line(line, len, c->path, number, &json, err);
            if (s && !complete) { /* a torn last line: a run stopped mid-write */
                c->torn = true;
                c->torn_at = offset;
                c->size_seen = offset + (uint64_t)got;
                break;
            }
            if (s) {
                status = s;
                break;
            }
            c->needs_newline = !complete;
            const char *settings = cJSON_GetObjectItemCaseSensitive(json, "settings")->valuestring;
            const char *message = cJSON_GetObjectItemCaseSensitive(json, "message")->valuestring;
            bool added = index_add(c, (entry){key_of(settings, message), offset, len});
            cJSON_Delete(json);
            if (!added) {
                status = t2g_fail(err, T2G_ERR_MEMORY, "out of memory indexing critic.cache %s", c->path);
                break;
            }
        } else if (!complete && len > 0) {
            c->torn = true;
            c->torn_at = offset;
            c->size_seen = offset + (uint64_t)got;
        }
        offset += (uint64_t)got;
    }
    if (!status && ferror(f)) status = t2g_fail(err, T2G_ERR_IO, "reading critic.cache %s: %s", c->path, strerror(errno));
    free(line);
    return status;
}

t2g_status critic_cache_open(const char *path, critic_cache **out, t2g_error *err) {
    *out = NULL;
    critic_cache *c = calloc(1, sizeof *c);
    if (c) c->path = strdup(path);
    if (!c || !c->path) {
        free(c);
        return t2g_fail(err, T2G_ERR_MEMORY, "out of memory opening critic.cache %s", path);
    }
    c->fd = -1;
    t2g_status status = index_grow(c) ? T2G_OK : t2g_fail(err, T2G_ERR_MEMORY, "out of memory opening critic.cache %s", path);
    FILE *f = status ? NULL : fopen(path, "rbe"); /* e: close-on-exec, as the critics start processes */
    if (!status && !f && errno != ENOENT)
        status = t2g_fail(err, T2G_ERR_IO, "opening critic.cache %s: %s", path, strerror(errno));
    if (f) {
        struct stat st;
        if (fstat(fileno(f), &st) == 0 && !S_ISREG(st.st_mode))
            status = t2g_fail(err, T2G_ERR_IO, "critic.cache %s is not a regular file", path);
        if (!status) status = load(c, f, err);
        c->read = f;
    }
    if (status) {
        critic_cache_close(c);
        return status;
    }
    *out = c;
    return T2G_OK;
}

/* Reads back the line of e and checks that it is (settings, message); its answer then. */
static t2g_status read_back(critic_cache *c, const entry *e, const char *settings, const char *message, char **answer,
                            size_t *len, t2g_error *err) {
    int fd = c->fd >= 0 ? c->fd : fileno(c->read); /* the same file: one of them is open */
    char *line = malloc(e->len + 1);
    ssize_t got = line ? pread(fd, line, e->len, (off_t)e->offset) : -1;
    if (got != (ssize_t)e->len) {
        free(line);
        return t2g_fail(err, T2G_ERR_IO, "critic.cache %s: reading a critique back at byte %llu: %s", c->path,
                        (unsigned long long)e->offset, got < 0 ? strerror(errno) : "the file is shorter than it was");
    }
    cJSON *json = cJSON_ParseWithLength(line, e->len);
    free(line);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(json, "settings"), *m = cJSON_GetObjectItemCaseSensitive(json, "message"),
                *a = cJSON_GetObjectItemCaseSensitive(json, "answer");
    t2g_status status = T2G_OK;
    if (!cJSON_IsString(s) || !cJSON_IsString(m) || !cJSON_IsString(a))
        status = t2g_fail(err, T2G_ERR_FORMAT, "critic.cache %s: the line at byte %llu changed since it was read", c->path,
                          (unsigned long long)e->offset);
    else if (strcmp(s->valuestring, settings) == 0 && strcmp(m->valuestring, message) == 0) {
        *len = strlen(a->valuestring);
        *answer = strdup(a->valuestring);
        if (!*answer) status = t2g_fail(err, T2G_ERR_MEMORY, "out of memory reading critic.cache %s", c->path);
    }
    cJSON_Delete(json);
    return status;
}

t2g_status critic_cache_find(critic_cache *c, const char *settings, const char *message, char **answer, size_t *len,
                             t2g_error *err) {
    *answer = NULL;
    *len = 0;
    uint64_t key = key_of(settings, message);
    for (size_t k = key & (c->slot_count - 1); c->slots[k].key; k = (k + 1) & (c->slot_count - 1)) {
        if (c->slots[k].key != key) continue;
        t2g_status status = read_back(c, &c->slots[k], settings, message, answer, len, err);
        if (status || *answer) return status;
    }
    return T2G_OK;
}

t2g_status critic_cache_store(critic_cache *c, const char *settings, const char *message, const char *answer,
                              size_t answer_len, t2g_error *err) {
    if (c->fd < 0) {
        c->fd = open(c->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (c->fd < 0) return t2g_fail(err, T2G_ERR_IO, "opening critic.cache %s for writing: %s", c->path, strerror(errno));
    }
    uint64_t key = key_of(settings, message);
    char hex[17];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)key);
    char *answer_copy = strndup(answer, answer_len);
    cJSON *json = cJSON_CreateObject();
    char *text = NULL;
    if (answer_copy && json && cJSON_AddStringToObject(json, "key", hex) && cJSON_AddStringToObject(json, "settings", settings) &&
        cJSON_AddStringToObject(json, "message", message) && cJSON_AddStringToObject(json, "answer", answer_copy))
        text = cJSON_PrintUnformatted(json);
    cJSON_Delete(json);
    free(answer_copy);
    size_t n = text ? strlen(text) : 0;
    char *line = text ? malloc(n + 2) : NULL;
    if (!line) {
        cJSON_free(text);
        return t2g_fail(err, T2G_ERR_MEMORY, "out of memory writing to critic.cache %s", c->path);
    }
    /* A torn last line goes before the first new one, if the file is still as it was read;
     * else (another run appended since) the new line starts on a line of its own. */
    struct stat st;
    if (c->torn && fstat(c->fd, &st) == 0 && (uint64_t)st.st_size == c->size_seen && ftruncate(c->fd, (off_t)c->torn_at) == 0)
        c->torn = false;
    size_t start = c->torn || c->needs_newline ? 1 : 0;
    line[0] = '\n';
    memcpy(line + start, text, n);
    line[start + n] = '\n';
    cJSON_free(text);
    ssize_t wrote = write(c->fd, line, start + n + 1);
    free(line);
    if (wrote != (ssize_t)(start + n + 1))
        return t2g_fail(err, T2G_ERR_IO, "writing to critic.cache %s: %s", c->path, wrote < 0 ? strerror(errno) : "a short write");
    c->torn = c->needs_newline = false;
    off_t end = lseek(c->fd, 0, SEEK_CUR);
    if (end < 0 || !index_add(c, (entry){key, (uint64_t)end - n - 1, n}))
        return t2g_fail(err, T2G_ERR_MEMORY, "indexing critic.cache %s", c->path);
    return T2G_OK;
}

size_t critic_cache_size(const critic_cache *c) { return c->used; }

void critic_cache_close(critic_cache *c) {
    if (!c) return;
    if (c->fd >= 0) close(c->fd);
    if (c->read) fclose(c->read);
    free(c->slots);
    free(c->path);
    free(c);
}
