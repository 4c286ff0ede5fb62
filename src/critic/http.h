/* The HTTP critic's transport (critic.kind=http): critiques from any OpenAI-compatible
 * chat-completions server (vLLM, llama.cpp's server, Ollama, a hosted API). The caller renders
 * each sample's user message from the prompt template; this part sends it, retries, counts and
 * reads the model's answer (critic_reply_read). Internal to src/critic/.
 *
 * The request: POST URL with Content-Type: application/json and
 *   {"model": M, "messages": [{"role": "user", "content": MESSAGE}], "temperature": T,
 *    "max_tokens": N, "response_format": {"type": "json_object"}}
 * ("model" only when M is not empty, "max_tokens" only when N > 0, "response_format" per
 * critic.json_mode), and "Authorization: Bearer KEY" when a key is set. The message's bytes go
 * as a JSON string: a byte that is not part of valid UTF-8, and NUL, become U+FFFD.
 *
 * The key. critic.api_key_env names an environment variable; it is read once, at start, and
 * kept only in memory (wiped at stop). It is never written: every text that leaves this part
 * (the log, a result's error, an error message) has each occurrence of the key replaced by
 * "[key removed]", and libcurl's verbose output (which would show the header) is never on.
 *
 * Concurrency. One libcurl multi handle, `workers` transfers in flight; samples go out in
 * order (the lowest queued sample whose backoff has passed). Each request has its deadline
 * (CURLOPT_TIMEOUT_MS and CURLOPT_CONNECTTIMEOUT_MS = timeout_ms, connection and answer
 * together); waits between requests are bounded backoffs: nothing waits without a deadline.
 *
 * Outcomes of one request (stats in t2g_critic_stats; a retried outcome costs an attempt):
 *   answer      HTTP 2xx, Content-Type application/json (parameters allowed), a JSON body with
 *               choices[0].message.content a string: read by critic_reply_read; "usage"
 *               tokens added, latency summed (send to answer, every request with an HTTP
 *               status)
 *   unparsed    an answer whose content holds no readable critique: retried
 *   garbage     a 2xx body that is not such JSON, another content type, a body cut short (the
 *               connection closed before Content-Length) or over max_bytes: retried
 *   timeouts    no complete answer within timeout_ms: retried
 *   crashes     connection failures (refused, reset, closed without an answer, DNS, TLS):
 *               retried
 *   rate_limited  HTTP 429: retried after its Retry-After (seconds or an HTTP date, as libcurl
 *               reads it), never longer than timeout_ms; the backoff when it has none
 *   http_errors   every other non-2xx answer. 5xx and 408: retried. Other 4xx: the sample
 *               fails at once ("HTTP 401: <start of the body>"), except the JSON-mode case:
 *   json mode   AUTO sends response_format until a 400 whose body names response_format or
 *               json_object: then stats->json_mode_dropped is set, the critic sends without it
 *               for the rest of its life, and that request is sent again (not an attempt; the
 *               refusal counts as an HTTP error). ON always sends it (such a 400 fails the
 *               sample), OFF never does.
 * Retries wait 250 ms doubling per attempt up to 4 s, plus a jitter of up to a quarter taken
 * from the sample's id and attempt (deterministic: no clock, no random state). After
 * `retries` further attempts the sample fails: result->ok false, attempts, timed_out when the
 * last attempt ran out of time, error "URL: why" (the URL without user or password).
 *
 * TLS and proxies are libcurl's defaults, untouched: https:// verifies the peer and the host
 * name against the system's CA bundle (Debian's ca-certificates); the proxy variables
 * (http_proxy, https_proxy, all_proxy, no_proxy, and their upper-case forms but HTTP_PROXY)
 * apply as libcurl reads them.
 *
 * The log (critic_http_set_log): one JSON line per answer or failed request,
 *   {"id": N, "attempt": A, "status": S (HTTP status, 0 without one), "ms": T,
 *    "error": "..." (when the request failed), "body": "..." (the raw body, its first 64 KiB)}
 * at most 64 MiB in all (then nothing more is written). */
#ifndef T2G_CRITIC_HTTP_H
#define T2G_CRITIC_HTTP_H

#include <stdint.h>

#include "t2g/critic.h"
#include "t2g/feedback.h"
#include "t2g/status.h"

typedef struct critic_http_options {
    const char *url;            /* critic.url: a base URL (e.g. ending in /v1), to which /chat/completions is
                                 * appended, or the full .../chat/completions URL; http:// or https:// */
    const char *model;          /* critic.model: the server's model name ("": no "model" key sent) */
    const char *api_key_env;    /* critic.api_key_env: the NAME of the variable holding the key ("": no key) */
    uint32_t workers;           /* requests in flight at once (>= 1) */
    uint32_t timeout_ms;        /* per request, connection and answer (>= 1) */
    uint32_t retries;           /* further attempts of a failed sample */
    uint64_t max_bytes;         /* the longest response body taken (0: 1 MiB); longer is garbage */
    t2g_critique_limits limits; /* for critic_reply_read */
    double temperature;         /* sent as "temperature" */
    uint32_t max_tokens;        /* sent as "max_tokens" (0: not sent) */
    t2g_critic_json_mode json_mode; /* critic.json_mode (t2g/config.h) */
} critic_http_options;

typedef struct critic_http critic_http;

/* Checks the options (T2G_ERR_FORMAT naming critic.url for a URL that is not http:// or
 * https:// with a host, naming critic.api_key_env and the variable when it is unset or empty;
 * T2G_ERR_ARGUMENT for workers or timeout_ms of 0), reads the key and sets up libcurl. Does not
 * contact the server. */
t2g_status critic_http_start(const critic_http_options *options, critic_http **out, t2g_error *err);

/* Judges n samples: messages[i] is sample i's user message (NUL-terminated), ids[i] its id (for
 * the log). results[i] is filled (ok with the critique, or not ok with error, attempts,
 * timed_out); replies[i] (replies may be NULL) gets a malloc'ed copy of the model's answer text
 * for each ok sample, NULL otherwise. Failing samples are counted in stats and the call returns
 * T2G_OK; only a failure of the machinery (out of memory, libcurl) or an interrupt
 * (T2G_ERR_INTERRUPTED) is an error, and then no result holds a critique. */
t2g_status critic_http_judge(critic_http *http, t2g_critic_stats *stats, const char *const *messages,
                             const uint64_t *ids, uint32_t n, t2g_critic_result *results, char **replies,
                             t2g_error *err);

/* Appends the log lines (above) to the file at path, created if need be. */
t2g_status critic_http_set_log(critic_http *http, const char *path, t2g_error *err);

/* Frees everything, the key wiped first. NULL is fine. */
void critic_http_stop(critic_http *http);

#endif
