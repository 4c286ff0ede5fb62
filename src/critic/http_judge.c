/* The HTTP critic's requests (src/critic/http.h): samples sent in order through the multi
 * handle, each answer or failure classified, counted, logged, and retried after a backoff or
 * given up. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "core/clock.h"
#include "critic/http.h"
#include "critic_internal.h"
#include "http_internal.h"

enum { BACKOFF_FIRST_MS = 250, BACKOFF_MAX_MS = 4000 };
enum { WAIT_MAX_MS = 200 }; /* the longest wait between looks at the interrupt flag */

typedef enum { SAMPLE_WAITING, SAMPLE_SENT, SAMPLE_DONE } sample_state;

typedef struct sample {
    sample_state state;
    uint32_t attempts;         /* attempts that failed so far */
    double ready_ms;           /* WAITING: not sent before this (its backoff) */
} sample;

/* What one judge call works on. */
typedef struct judge {
    critic_http *h;
    t2g_critic_stats *stats;
    const char *const *messages;
    const uint64_t *ids;
    t2g_critic_result *results;
    char **replies;
    sample *samples;
    uint32_t n, done;
    t2g_error *err;
    t2g_status status;         /* not OK: the machinery failed, the call ends */
} judge;

/* How one request ended, for the sample and the log. */
typedef struct outcome {
    long status;               /* HTTP status, 0 without an answer */
    double ms;                 /* sent to answer or failure */
    char why[200];             /* "" for an answer with a critique */
    bool retry;                /* a failure worth another attempt */
    bool timed_out;
    double wait_ms;            /* before the retry; < 0: the backoff */
} outcome;

static const char TIMEOUT[] = "timeout after";

/* 250 ms doubling per failed attempt up to 4 s, plus up to a quarter more, taken from the id
 * and the attempt: retries of samples that failed together spread out, without a clock or a
 * random state. */
static double backoff_ms(uint64_t id, uint32_t attempts) {
    double delay = BACKOFF_FIRST_MS;
    for (uint32_t k = 1; k < attempts && delay < BACKOFF_MAX_MS; k++)
        delay *= 2;
    if (delay > BACKOFF_MAX_MS) delay = BACKOFF_MAX_MS;
    uint64_t mix = (id + 1) * 0x9E3779B97F4A7C15ull ^ (uint64_t)attempts * 0xBF58476D1CE4E5B9ull;
    mix ^= mix >> 31;
    return delay + delay * (double)(mix % 1024) / 4096.0;
}

static void sample_done(judge *j, uint32_t i) {
    j->samples[i].state = SAMPLE_DONE;
    j->done++;
}

/* Sample i fails for good: result not ok, its error "URL: why (after N attempts)", why cut to
 * fit (with "..."), the key removed. */
static void sample_fail(judge *j, uint32_t i, const char *why, bool timed_out) {
    t2g_critic_result *r = &j->results[i];
    uint32_t attempts = j->samples[i].attempts;
    char url[96], after[40], cut[sizeof r->error];
    critic_http_snippet(url, sizeof url, j->h->shown_url, strlen(j->h->shown_url), j->h->key);
    snprintf(after, sizeof after, " (after %u attempt%s)", attempts, attempts == 1 ? "" : "s");
    size_t room = sizeof r->error - strlen(url) - strlen(after) - 2; /* ": " */
    critic_http_snippet(cut, room, why, strlen(why), j->h->key);
    char full[sizeof url + sizeof cut + sizeof after + 2]; /* fits r->error by the room left */
    snprintf(full, sizeof full, "%s: %s%s", url, cut, after);
    snprintf(r->error, sizeof r->error, "%.255s", full);
    r->ok = false;
    r->attempts = attempts;
    r->timed_out = timed_out;
    j->stats->failed++;
    sample_done(j, i);
}

/* The attempt of sample i failed: retried after its wait, or the sample fails. */
static void sample_blame(judge *j, uint32_t i, const outcome *o) {
    sample *s = &j->samples[i];
    s->attempts++;
    if (!o->retry || s->attempts > j->h->retries) {
        sample_fail(j, i, o->why, o->timed_out);
        return;
    }
    j->stats->retries++;
    s->state = SAMPLE_WAITING;
    s->ready_ms = t2g_clock_ms() + (o->wait_ms >= 0 ? o->wait_ms : backoff_ms(j->ids[i], s->attempts));
}

/* The machinery failed: every sample not done fails with the message, and the call with it. */
static void judge_fatal(judge *j, t2g_status status, const char *format, ...) __attribute__((format(printf, 3, 4)));
static void judge_fatal(judge *j, t2g_status status, const char *format, ...) {
    char message[T2G_ERROR_MESSAGE_BYTES];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    for (uint32_t i = 0; i < j->n; i++)
        if (j->samples[i].state != SAMPLE_DONE) sample_fail(j, i, message, false);
    j->status = t2g_fail(j->err, status, "%s: %s", j->h->shown_url, message);
}

/* Sends sample i on the free slot t; false when out of memory or libcurl refuses. */
static bool send_sample(judge *j, critic_http_transfer *t, uint32_t i) {
    critic_http *h = j->h;
    bool json_mode =
        h->json_mode == T2G_CRITIC_JSON_ON || (h->json_mode == T2G_CRITIC_JSON_AUTO && !h->json_mode_dropped);
    critic_http_body_options body = {.model = h->model, .temperature = h->temperature, .max_tokens = h->max_tokens,
                                     .json_mode = json_mode};
    char *payload = critic_http_request_body(&body, j->messages[i]);
    if (!payload) return false;
    free(t->payload);
    t->payload = payload;
    t->sample = i;
    t->json_mode = json_mode;
    t->body_len = 0;
    if (t->body) t->body[0] = 0;
    t->too_big = t->no_memory = false;
    t->curl_error[0] = 0;
    if (curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(payload)) != CURLE_OK ||
        curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, payload) != CURLE_OK ||
        curl_multi_add_handle(h->multi, t->easy) != CURLM_OK)
        return false;
    t->busy = true;
    t->sent_ms = t2g_clock_ms();
    j->samples[i].state = SAMPLE_SENT;
    j->stats->requests++;
    return true;
}

/* ---- outcomes ---- */

/* The system's error number behind a failed connection (0 when unknown). */
static long os_error(const critic_http_transfer *t) {
    long error = 0;
    return curl_easy_getinfo(t->easy, CURLINFO_OS_ERRNO, &error) == CURLE_OK ? error : 0;
}

/* A transfer that ended without a whole answer (libcurl's result not OK). */
static void transport_failure(judge *j, const critic_http_transfer *t, CURLcode result, outcome *o) {
    critic_http *h = j->h;
    o->retry = true;
    const char *detail = t->curl_error[0] ? t->curl_error : curl_easy_strerror(result);
    if (t->too_big || result == CURLE_FILESIZE_EXCEEDED) {
        j->stats->garbage++;
        snprintf(o->why, sizeof o->why, "garbage: body over critic.max_bytes (%llu bytes)",
                 (unsigned long long)t->max_bytes);
    } else if (result == CURLE_OPERATION_TIMEDOUT) {
        j->stats->timeouts++;
        o->timed_out = true;
        snprintf(o->why, sizeof o->why, "%s %u ms", TIMEOUT, h->timeout_ms);
    } else if (result == CURLE_PARTIAL_FILE) {
        j->stats->garbage++;
        snprintf(o->why, sizeof o->why, "garbage: a truncated body (the connection closed after %zu bytes)",
                 t->body_len);
    } else if (result == CURLE_COULDNT_CONNECT && os_error(t) == ECONNREFUSED) {
        j->stats->crashes++;
        snprintf(o->why, sizeof o->why, "connection refused");
    } else if (result == CURLE_GOT_NOTHING) {
        j->stats->crashes++;
        snprintf(o->why, sizeof o->why, "connection closed without an answer");
    } else {
        j->stats->crashes++;
        snprintf(o->why, sizeof o->why, "connection failed: %.170s", detail);
    }
}

/* An HTTP answer that is not 2xx. */
static void http_failure(judge *j, const critic_http_transfer *t, outcome *o) {
    critic_http *h = j->h;
    char start[120];
    critic_http_snippet(start, sizeof start, t->body, t->body_len, h->key);
    if (o->status == 429) {
        j->stats->rate_limited++;
        curl_off_t after = 0; /* Retry-After in seconds (a date converted), 0 when absent */
        if (curl_easy_getinfo(t->easy, CURLINFO_RETRY_AFTER, &after) != CURLE_OK) after = 0;
        o->retry = true;
        o->wait_ms = after > 0 ? fmin((double)after * 1000.0, (double)h->timeout_ms) : -1;
        snprintf(o->why, sizeof o->why, "HTTP 429 (rate limited): %s", start);
        return;
    }
    j->stats->http_errors++;
    o->retry = o->status >= 500 || o->status == 408;
    snprintf(o->why, sizeof o->why, "HTTP %ld: %s", o->status, start);
}

/* A 2xx answer: its critique into results[i] (and the reply text kept), or why not. */
static void answer(judge *j, critic_http_transfer *t, uint32_t i, outcome *o) {
    critic_http *h = j->h;
    const char *type = NULL;
    if (curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &type) != CURLE_OK) type = NULL;
    o->retry = true;
    if (!critic_http_is_json(type)) {
        j->stats->garbage++;
        snprintf(o->why, sizeof o->why, "garbage: content type '%.60s', not application/json", type ? type : "(none)");
        return;
    }
    char *content = NULL, why[120];
    t2g_status read = critic_http_read_completion(t->body ? t->body : "", t->body_len, &content, &j->stats->prompt_tokens,
                                                  &j->stats->completion_tokens, why, sizeof why);
    if (read == T2G_ERR_MEMORY) {
        judge_fatal(j, T2G_ERR_MEMORY, "out of memory reading an answer");
        return;
    }
    if (read) {
        j->stats->garbage++;
        snprintf(o->why, sizeof o->why, "garbage: %s", why);
        return;
    }
    t2g_critic_result *r = &j->results[i];
    t2g_error err = {0};
    if (critic_reply_read(content, strlen(content), &h->limits, r, &err)) {
        free(content);
        judge_fatal(j, T2G_ERR_MEMORY, "%s", err.message);
        return;
    }
    if (!r->ok) {
        j->stats->unparsed++;
        snprintf(o->why, sizeof o->why, "%.190s", r->error);
        free(r->answer); /* the last answer is kept, for a person tuning the prompt */
        r->answer = critic_http_redact(content, strlen(content), h->key, NULL);
        free(content);
        return;
    }
    free(r->answer);
    r->answer = NULL;
    r->attempts = j->samples[i].attempts + 1;
    j->stats->judged++;
    sample_done(j, i);
    if (j->replies)
        j->replies[i] = content;
    else
        free(content);
}

/* A transfer ended: its sample answered, retried or failed, and a log line. */
static void transfer_done(judge *j, critic_http_transfer *t, CURLcode result) {
    critic_http *h = j->h;
    curl_multi_remove_handle(h->multi, t->easy);
    t->busy = false;
    uint32_t i = t->sample;
    outcome o = {.ms = t2g_clock_ms() - t->sent_ms, .wait_ms = -1};
    if (curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &o.status) != CURLE_OK) o.status = 0;
    if (t->no_memory) {
        judge_fatal(j, T2G_ERR_MEMORY, "out of memory for an answer of %zu bytes", t->body_len);
        return;
    }
    bool refused_json_mode = false;
    if (result != CURLE_OK) {
        transport_failure(j, t, result, &o);
    } else {
        j->stats->latency_ms += o.ms;
        refused_json_mode = o.status == 400 && t->json_mode && h->json_mode == T2G_CRITIC_JSON_AUTO &&
                            critic_http_refuses_json_mode(t->body, t->body_len);
        if (refused_json_mode) {
            j->stats->http_errors++;
            snprintf(o.why, sizeof o.why, "HTTP 400: the server refused response_format: sent without it from now on");
        } else if (o.status < 200 || o.status > 299) {
            http_failure(j, t, &o);
        } else {
            answer(j, t, i, &o);
            if (j->status) return;
        }
    }
    critic_http_log_entry entry = {.id = j->ids[i], .attempt = j->samples[i].attempts + 1, .status = o.status,
                                   .ms = o.ms, .error = o.why, .body = t->body, .body_len = t->body_len};
    if (!critic_http_log_write(&h->log, h->key, &entry)) {
        judge_fatal(j, T2G_ERR_MEMORY, "out of memory writing the critic's log");
        return;
    }
    if (refused_json_mode) { /* sent again at once, not counted as an attempt */
        h->json_mode_dropped = true;
        j->stats->json_mode_dropped = true;
        j->samples[i].state = SAMPLE_WAITING;
        j->samples[i].ready_ms = 0;
    } else if (j->samples[i].state == SAMPLE_SENT) {
        sample_blame(j, i, &o);
    }
}

/* ---- the loop ---- */

/* The first waiting sample whose backoff has passed (n: none). */
static uint32_t next_ready(const judge *j, double now) {
    for (uint32_t i = 0; i < j->n; i++)
        if (j->samples[i].state == SAMPLE_WAITING && j->samples[i].ready_ms <= now) return i;
    return j->n;
}

/* Sends what can be sent: free slots take ready samples, in order. */
static void send_ready(judge *j) {
    critic_http *h = j->h;
    double now = t2g_clock_ms();
    for (uint32_t k = 0; k < h->workers && !j->status; k++) {
        if (h->t[k].busy) continue;
        uint32_t i = next_ready(j, now);
        if (i == j->n) break;
        if (!send_sample(j, &h->t[k], i)) judge_fatal(j, T2G_ERR_MEMORY, "cannot send a request (out of memory)");
    }
}

/* How long to wait for the network: until the next backoff ends, at most WAIT_MAX_MS; 0 when
 * a slot is free and a sample ready. */
static int wait_ms(const judge *j) {
    const critic_http *h = j->h;
    bool free_slot = false;
    for (uint32_t k = 0; k < h->workers; k++)
        free_slot = free_slot || !h->t[k].busy;
    double now = t2g_clock_ms(), wake = now + WAIT_MAX_MS;
    for (uint32_t i = 0; i < j->n && free_slot; i++)
        if (j->samples[i].state == SAMPLE_WAITING && j->samples[i].ready_ms < wake) wake = j->samples[i].ready_ms;
    return wake <= now ? 0 : (int)ceil(wake - now);
}

t2g_status critic_http_judge(critic_http *h, t2g_critic_stats *stats, const char *const *messages,
                             const uint64_t *ids, uint32_t n, t2g_critic_result *results, char **replies,
                             t2g_error *err) {
    if (!h || !stats || (n && (!messages || !ids || !results)))
        return t2g_fail(err, T2G_ERR_ARGUMENT, "critic_http_judge: no critic, stats, messages, ids or results");
    for (uint32_t i = 0; i < n; i++) {
        memset(&results[i], 0, sizeof results[i]);
        if (replies) replies[i] = NULL;
        if (!messages[i])
            return t2g_fail(err, T2G_ERR_ARGUMENT, "critic_http_judge: sample %u (id %llu) has no message", i,
                            (unsigned long long)ids[i]);
    }
    if (n == 0) return T2G_OK;
    sample *samples = calloc(n, sizeof *samples);
    if (!samples) return t2g_fail(err, T2G_ERR_MEMORY, "HTTP critic: out of memory");
    judge j = {.h = h, .stats = stats, .messages = messages, .ids = ids, .results = results, .replies = replies,
               .samples = samples, .n = n, .err = err, .status = T2G_OK};
    while (j.done < n && !j.status) {
        send_ready(&j);
        if (j.status) break;
        int running = 0;
        CURLMcode code = curl_multi_perform(h->multi, &running);
        int left = 0;
        CURLMsg *message;
        while (code == CURLM_OK && !j.status && (message = curl_multi_info_read(h->multi, &left))) {
            if (message->msg != CURLMSG_DONE) continue;
            char *slot = NULL;
            curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &slot);
            transfer_done(&j, (critic_http_transfer *)slot, message->data.result);
        }
        if (code != CURLM_OK) {
            judge_fatal(&j, T2G_ERR_IO, "libcurl failed: %s", curl_multi_strerror(code));
            break;
        }
        if (j.done == n || j.status) break;
        int wait = wait_ms(&j);
        if (wait > 0 && (code = curl_multi_poll(h->multi, NULL, 0, wait, NULL)) != CURLM_OK) {
            judge_fatal(&j, T2G_ERR_IO, "libcurl failed while waiting: %s", curl_multi_strerror(code));
            break;
        }
        if (t2g_interrupt_requested()) {
            judge_fatal(&j, T2G_ERR_INTERRUPTED, "interrupted while waiting for critiques");
            break;
        }
    }
    /* Nothing of this call stays in flight. */
    for (uint32_t k = 0; k < h->workers; k++)
        if (h->t[k].busy) curl_multi_remove_handle(h->multi, h->t[k].easy), h->t[k].busy = false;
    free(samples);
    if (j.status) { /* no result holds a critique, no reply is kept */
        for (uint32_t i = 0; i < n; i++) {
            if (results[i].ok) {
                t2g_critic_result_free(&results[i]);
                snprintf(results[i].error, sizeof results[i].error, "%.200s", err ? err->message : "the critic failed");
            }
            if (replies) free(replies[i]), replies[i] = NULL;
        }
    }
    return j.status;
}
