/* The HTTP critic (src/critic/http.h): its options checked, the key read, libcurl set up (one
 * multi handle, an easy handle per worker that takes each answer's body within max_bytes).
 * The requests themselves: http_judge.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "core/grow.h"
#include "critic/http.h"
#include "http_internal.h"

enum { DEFAULT_MAX_BODY = 1 << 20 };
enum { MAX_WORKERS = 256 };

static const char COMPLETIONS[] = "/chat/completions";

/* ---- start and stop ---- */

/* Wipes and frees a string that may hold the key. */
static void wipe(char *s) {
    if (s) explicit_bzero(s, strlen(s));
    free(s);
}

/* The key from the environment variable named `name`, checked. */
static t2g_status read_key(const char *name, char **key, t2g_error *err) {
    *key = NULL;
    if (!name || !name[0]) return T2G_OK;
    const char *value = getenv(name);
    if (!value || !value[0])
        return t2g_fail(err, T2G_ERR_FORMAT,
                        "critic.api_key_env names the environment variable %s, which is %s (set it to the API key, "
                        "or set critic.api_key_env to \"\" for a server without one)",
                        name, value ? "empty" : "not set");
    for (const char *c = value; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return t2g_fail(err, T2G_ERR_FORMAT,
                            "critic.api_key_env: the environment variable %s holds a control character (a key is "
                            "one line of printable text)", name);
    *key = strdup(value);
    return *key ? T2G_OK : t2g_fail(err, T2G_ERR_MEMORY, "HTTP critic: out of memory");
}

/* A URL's path ending in /chat/completions: as it is when it does (trailing slashes dropped),
 * else with it appended. Malloc'ed; NULL when out of memory. */
static char *completions_path(const char *path) {
    size_t len = strlen(path);
    while (len && path[len - 1] == '/')
        len--;
    size_t tail = sizeof COMPLETIONS - 1;
    bool complete = len >= tail && memcmp(path + len - tail, COMPLETIONS, tail) == 0;
    char *out = malloc(len + tail + 1);
    if (!out) return NULL;
    memcpy(out, path, len);
    memcpy(out + len, COMPLETIONS, tail + 1);
    if (complete) out[len] = 0;
    return out;
}

/* The URL checked and completed: h->url (.../chat/completions) and h->shown_url. */
static t2g_status read_url(critic_http *h, const char *url, t2g_error *err) {
    CURLU *u = curl_url();
    if (!u) return t2g_fail(err, T2G_ERR_MEMORY, "HTTP critic: out of memory");
    char *scheme = NULL, *host = NULL, *path = NULL, *full = NULL, *shown = NULL, *with_path = NULL;
    /* libcurl reads "http:/h" and "http:///h" as host h: a host must follow "://" here */
    const char *slashes = url ? strstr(url, "://") : NULL;
    bool parsed = slashes && slashes[3] && slashes[3] != '/' && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
                  curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
                  (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) &&
                  curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host[0];
    t2g_status status = T2G_OK;
    if (!parsed) {
        size_t len = 0;
        char *quoted = critic_http_redact(url ? url : "", url ? strlen(url) : 0, h->key, &len);
        status = t2g_fail(err, T2G_ERR_FORMAT, "critic.url '%.300s': expected an http:// or https:// URL with a host "
                          "(a base such as http://127.0.0.1:8000/v1, or the full .../v1/chat/completions)",
                          quoted ? quoted : "");
        free(quoted);
        goto done;
    }
    if (curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) path = NULL;
    with_path = completions_path(path ? path : "");
    if (!with_path || curl_url_set(u, CURLUPART_PATH, with_path, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK || curl_url_set(u, CURLUPART_USER, NULL, 0) != CURLUE_OK ||
        curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) != CURLUE_OK || curl_url_get(u, CURLUPART_URL, &shown, 0) != CURLUE_OK ||
        !(h->url = strdup(full)) || !(h->shown_url = critic_http_redact(shown, strlen(shown), h->key, NULL)))
        status = t2g_fail(err, T2G_ERR_MEMORY, "HTTP critic: out of memory reading critic.url");
done:
    if (full) explicit_bzero(full, strlen(full));
    curl_free(scheme), curl_free(host), curl_free(path), curl_free(full), curl_free(shown);
    free(with_path);
    curl_url_cleanup(u);
    return status;
}

/* The headers of every request; the Authorization line when there is a key. */
static bool make_headers(critic_http *h) {
    const char *fixed[] = {"Content-Type: application/json", "Accept: application/json",
                           "Expect:" /* no 100-continue round trip */};
    for (size_t k = 0; k < sizeof fixed / sizeof fixed[0]; k++) {
        struct curl_slist *more = curl_slist_append(h->headers, fixed[k]);
        if (!more) return false;
        h->headers = more;
    }
    if (!h->key) return true;
    static const char bearer[] = "Authorization: Bearer ";
    size_t n = sizeof bearer + strlen(h->key);
    char *line = malloc(n);
    if (!line) return false;
    snprintf(line, n, "%s%s", bearer, h->key);
    struct curl_slist *more = curl_slist_append(h->headers, line);
    wipe(line);
    if (more) h->headers = more;
    return more != NULL;
}

static size_t take_body(char *data, size_t size, size_t count, void *user);

static bool make_transfer(critic_http *h, critic_http_transfer *t, uint64_t max_bytes) {
    t->max_bytes = max_bytes;
    t->easy = curl_easy_init();
    if (!t->easy) return false;
    CURL *e = t->easy;
    /* libcurl's own TLS and proxy defaults are kept (http.h); CURLOPT_VERBOSE is never set. */
    return curl_easy_setopt(e, CURLOPT_URL, h->url) == CURLE_OK &&
           curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
           curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->headers) == CURLE_OK &&
           curl_easy_setopt(e, CURLOPT_USERAGENT, "t2g") == CURLE_OK &&
           curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, take_body) == CURLE_OK &&
           curl_easy_setopt(e, CURLOPT_WRITEDATA, t) == CURLE_OK &&
           curl_easy_setopt(e, CURLOPT_PRIVATE, t) == CURLE_OK &&
           curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->curl_error) == CURLE_OK &&
           curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
           curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)h->timeout_ms) == CURLE_OK &&
           curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)h->timeout_ms) == CURLE_OK &&
           curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_bytes) == CURLE_OK;
}

t2g_status critic_http_start(const critic_http_options *options, critic_http **out, t2g_error *err) {
    *out = NULL;
    if (!options) return t2g_fail(err, T2G_ERR_ARGUMENT, "HTTP critic: no options");
    if (options->workers < 1 || options->workers > MAX_WORKERS)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "HTTP critic: %u workers (critic.workers: expected 1 to %d)",
                        options->workers, MAX_WORKERS);
    if (options->timeout_ms < 1)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "HTTP critic: a timeout of 0 ms (critic.timeout_ms: expected >= 1)");
    critic_http *h = calloc(1, sizeof *h);
    if (!h) return t2g_fail(err, T2G_ERR_MEMORY, "HTTP critic: out of memory");
    t2g_status status = read_key(options->api_key_env, &h->key, err);
    if (!status) status = read_url(h, options->url, err);
    if (status) {
        critic_http_stop(h);
        return status;
    }
    h->workers = options->workers;
    h->timeout_ms = options->timeout_ms;
    h->retries = options->retries;
    h->limits = options->limits;
    h->temperature = options->temperature;
    h->max_tokens = options->max_tokens;
    h->json_mode = options->json_mode;
    h->curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    if (!h->curl_ready) {
        critic_http_stop(h);
        return t2g_fail(err, T2G_ERR_IO, "HTTP critic: libcurl cannot initialise");
    }
    h->model = strdup(options->model ? options->model : "");
    h->t = calloc(h->workers, sizeof *h->t);
    h->multi = curl_multi_init();
    bool made = h->model && h->t && h->multi && make_headers(h);
    for (uint32_t k = 0; made && k < h->workers; k++)
        made = make_transfer(h, &h->t[k], options->max_bytes ? options->max_bytes : DEFAULT_MAX_BODY);
    if (!made) {
        critic_http_stop(h);
        return t2g_fail(err, T2G_ERR_MEMORY, "HTTP critic: out of memory setting up libcurl");
    }
    *out = h;
    return T2G_OK;
}

void critic_http_stop(critic_http *h) {
    if (!h) return;
    for (uint32_t k = 0; h->t && k < h->workers; k++) {
        critic_http_transfer *t = &h->t[k];
        if (t->busy) curl_multi_remove_handle(h->multi, t->easy);
        if (t->easy) curl_easy_cleanup(t->easy);
        free(t->payload);
        free(t->body);
    }
    if (h->multi) curl_multi_cleanup(h->multi);
    for (struct curl_slist *s = h->headers; s; s = s->next)
        explicit_bzero(s->data, strlen(s->data));
    curl_slist_free_all(h->headers);
    if (h->curl_ready) curl_global_cleanup();
    if (h->log.file) fclose(h->log.file);
    wipe(h->key);
    free(h->t), free(h->url), free(h->shown_url), free(h->model);
    free(h);
}

t2g_status critic_http_set_log(critic_http *h, const char *path, t2g_error *err) {
    FILE *file = fopen(path, "a");
    if (!file) return t2g_fail(err, T2G_ERR_IO, "%s: cannot open the critic's log: %s", path, strerror(errno));
    if (h->log.file) fclose(h->log.file);
    h->log = (critic_http_log){.file = file};
    return T2G_OK;
}

/* ---- one request ---- */

static size_t take_body(char *data, size_t size, size_t count, void *user) {
    critic_http_transfer *t = user;
    size_t n = size * count;
    if (t->body_len + n > t->max_bytes) {
        t->too_big = true;
        return 0; /* stops the transfer: CURLE_WRITE_ERROR */
    }
    if (!t2g_grow(&t->body, &t->body_cap, t->body_len + n + 1, 1)) {
        t->no_memory = true;
        return 0;
    }
    memcpy(t->body + t->body_len, data, n);
    t->body_len += n;
    t->body[t->body_len] = 0;
    return n;
}
