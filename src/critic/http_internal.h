/* What the HTTP critic's files share (src/critic/http.h): the critic and its request slots
 * (set up in http.c, driven in http_judge.c), the chat-completions JSON (http_json.c) and the
 * texts that leave the critic, with the key removed (http_log.c). */
#ifndef T2G_CRITIC_HTTP_INTERNAL_H
#define T2G_CRITIC_HTTP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <curl/curl.h>

#include "critic/http.h"
#include "t2g/status.h"

/* The log of raw answers: one JSON line per answer or failed request, at most a fixed total. */
typedef struct critic_http_log {
    FILE *file;             /* NULL: no log */
    long long bytes;        /* written so far */
} critic_http_log;

/* ---- the critic (http.c) and its requests (http_judge.c) ---- */

/* One request slot of the multi handle: an easy handle kept for the critic's life. */
typedef struct critic_http_transfer {
    CURL *easy;
    bool busy;
    uint32_t sample;           /* the sample in flight */
    bool json_mode;            /* it was sent with response_format */
    double sent_ms;
    char *payload;             /* the request's body, alive while in flight */
    char *body;                /* the answer's body so far, NUL-terminated */
    size_t body_len, body_cap;
    uint64_t max_bytes;
    bool too_big, no_memory;   /* why the write callback stopped the transfer */
    char curl_error[CURL_ERROR_SIZE];
} critic_http_transfer;

struct critic_http {
    char *url;                 /* the chat-completions URL requests go to */
    char *shown_url;           /* the same without user or password: for messages */
    char *model;
    char *key;                 /* the API key (NULL: none); never written anywhere */
    struct curl_slist *headers;
    uint32_t workers, timeout_ms, retries;
    t2g_critique_limits limits;
    double temperature;
    uint32_t max_tokens;
    t2g_critic_json_mode json_mode;
    bool json_mode_dropped;    /* AUTO, after the server refused response_format */
    bool curl_ready;           /* curl_global_init succeeded */
    CURLM *multi;
    critic_http_transfer *t;    /* workers of them */
    critic_http_log log;
};

/* ---- the JSON of chat completions (http_json.c) ---- */

typedef struct critic_http_body_options {
    const char *model;      /* "": no "model" key */
    double temperature;
    uint32_t max_tokens;    /* 0: not sent */
    bool json_mode;         /* send "response_format": {"type": "json_object"} */
} critic_http_body_options;

/* The request's body for one user message (bytes that are not valid UTF-8, and NUL, become
 * U+FFFD): a malloc'ed JSON text, NULL when out of memory. */
char *critic_http_request_body(const critic_http_body_options *options, const char *message);

/* Whether a Content-Type is application/json (any case, parameters such as charset allowed). */
bool critic_http_is_json(const char *content_type);

/* Whether a 400's body says that response_format (or json_object) is not supported. */
bool critic_http_refuses_json_mode(const char *body, size_t len);

/* Reads a 2xx body as a chat completion: *content = a malloc'ed copy of
 * choices[0].message.content and the usage's tokens added to *prompt_tokens and
 * *completion_tokens (when present). A body that is not one: T2G_ERR_FORMAT with why (what was
 * wrong, no body text). T2G_ERR_MEMORY when out of memory. */
t2g_status critic_http_read_completion(const char *body, size_t len, char **content, uint64_t *prompt_tokens,
                                       uint64_t *completion_tokens, char *why, size_t why_size);

/* ---- texts that leave the critic (http_log.c) ---- */

/* A copy of text[0..len) with every occurrence of key (NULL or "": none) replaced by
 * "[key removed]": malloc'ed, NUL-terminated, its length in *out_len; NULL when out of memory. */
char *critic_http_redact(const char *text, size_t len, const char *key, size_t *out_len);

/* The start of a body for an error message: the key removed, cut to fit `size` (with "..."),
 * control characters as spaces. */
void critic_http_snippet(char *dst, size_t size, const char *body, size_t len, const char *key);

typedef struct critic_http_log_entry {
    uint64_t id;
    uint32_t attempt;       /* 1 for the first */
    long status;            /* HTTP status, 0 without one */
    double ms;              /* from send to answer or failure */
    const char *error;      /* NULL or "": none */
    const char *body;       /* the raw body (any bytes), body_len of them */
    size_t body_len;
} critic_http_log_entry;

/* Appends the entry's line, the key removed from the error and the body. false only when out
 * of memory (a full log or a failed write only stops the logging). */
bool critic_http_log_write(critic_http_log *log, const char *key, const critic_http_log_entry *entry);

#endif
