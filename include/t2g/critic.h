/* Critics: who writes the critiques. A critic reads (prompt, response) pairs and answers each
 * with a critique in words quoting spans of the response (t2g/feedback.h) and a scalar score
 * (for the standard-PPO baseline).
 *
 *   built-in   for the built-in tasks, written as a human or an LLM judge would:
 *              arith  "The answer 936 has a wrong tens digit: it should be 2, not 3." with the
 *                     wrong digits quoted as poor spans and the right ones as good spans,
 *                     missing digits named and penalised on the last token (-1 each);
 *              facts  stated fields that are right are good spans, wrong or invented values are
 *                     poor spans, omitted fields are named in the text and penalised on the last
 *                     token (final_score: -1 per byte of the omitted value, what it would have
 *                     cost said wrong; otherwise leaving things out would pay).
 *   external   any program (critic.command): t2g writes one JSON line per sample,
 *                {"id": N, "prompt": "...", "response": "...", "reference": "...",
 *                 "fields": {...}}
 *              ("reference": the task's reference answer, when there is one; "fields": the
 *              facts behind the prompt, a built-in task's or a prompt file row's other keys)
 *              and reads one line back per sample, in any order,
 *                {"id": N, "textual_feedback": "...", "good_spans": [...], "poor_spans": [...],
 *                 "score": x}
 *              (or "critique" for the text, or any critique format of t2g/feedback.h, plus id
 *              and score). A line that is not a JSON object with an "id" (a critic's debugging
 *              on stdout) is not a reply: it is counted and written to the critic's log.
 *              Timeouts, crashes, garbage and missing ids are retried (the process is restarted
 *              when it died or misbehaved), then the sample is skipped and counted; the run
 *              goes on. Several processes run at once (critic.workers).
 *
 * The scores. "score" is the critic's judgement of the whole response: standard PPO puts it on
 * the last token; span rewards (t2g/rl.h) put it there too, times rl.score_weight, beside the
 * spans. "final_score" is the part of that judgement no span can quote (what the response
 * leaves out: the built-in critics charge each omitted digit or value as if it were said
 * wrong); span rewards add it to the last token as it is. */
#ifndef T2G_CRITIC_H
#define T2G_CRITIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "t2g/config.h"
#include "t2g/device.h"
#include "t2g/feedback.h"
#include "t2g/status.h"
#include "t2g/tasks.h"

typedef struct t2g_critic t2g_critic;

typedef struct t2g_critic_request {
    uint64_t id;
    const char *prompt;                 /* NUL-terminated */
    const char *response;               /* bytes, response_len of them (may hold anything) */
    size_t response_len;
    const t2g_task_example *example;    /* the task example behind the prompt (built-in critics) */
    /* For an external critic (NULL: none, or the example's answer and fields when it has one): */
    const char *reference;              /* the reference answer, NUL-terminated */
    const char *fields;                 /* the facts behind the prompt: a JSON object's text */
} t2g_critic_request;

typedef struct t2g_critic_result {
    bool ok;                            /* false: no usable critique after every retry */
    t2g_critique critique;              /* when ok */
    double score;                       /* the scalar score (the critique's "score"; 0 if absent) */
    double final_score;                 /* what no span can quote, for the response's last token (0 if none) */
    uint32_t attempts;
    bool timed_out;                     /* not ok, and the last attempt ran out of time */
    char error[256];                    /* why not ok: "timeout after 5000 ms", "garbage: ...", ... */
    char *answer;                       /* not ok: a language model's last answer, the one that held no
                                         * critique (malloc'ed, any API key removed), else NULL */
} t2g_critic_result;

typedef struct t2g_critic_stats {
    uint64_t judged, failed;            /* samples with a critique, samples skipped */
    uint64_t retries, timeouts, crashes, garbage, missing;
    uint64_t stray;                     /* stdout lines that are not replies (debugging): logged */
    uint64_t stray_unlogged;            /* of those, lines not written to the log (none set, full, a write failed) */
    /* Language-model critics (critic.kind http or model): */
    uint64_t requests;                  /* HTTP requests sent, retries included; critiques generated */
    uint64_t rate_limited;              /* HTTP 429 answers */
    uint64_t http_errors;               /* other answers with a status that is not 2xx */
    uint64_t unparsed;                  /* answers whose text held no readable critique */
    uint64_t prompt_tokens, completion_tokens; /* the server's "usage" (http), or counted (model) */
    uint64_t cache_hits, cache_misses;  /* critiques found in / missing from critic.cache */
    double latency_ms;                  /* summed over requests answered: sent to answer */
    bool json_mode_dropped;             /* the server refused response_format: sent without it since */
} t2g_critic_stats;

/* What was counted between `before` and `now` (a field added above is subtracted here too);
 * json_mode_dropped as it is now. */
t2g_critic_stats t2g_critic_stats_since(const t2g_critic_stats *now, const t2g_critic_stats *before);

/* The built-in critic of a task ("arith" or "facts"). */
t2g_status t2g_critic_builtin(const t2g_task *task, t2g_critic **critic, t2g_error *err);

typedef struct t2g_external_critic_options {
    const char *command;                /* run with /bin/sh -c */
    uint32_t workers;                   /* processes at once (>= 1) */
    uint32_t timeout_ms;                /* per sample */
    uint32_t retries;                   /* further attempts after the first */
    size_t max_bytes;                   /* longest reply line (critic.max_bytes); 0: 1 MiB */
} t2g_external_critic_options;

/* Starts the external critic's processes (T2G_ERR_IO naming the command if it cannot start). */
t2g_status t2g_critic_external(const t2g_external_critic_options *options, t2g_critic **critic, t2g_error *err);

/* A language-model critic (config->critic.kind "http" or "model"; the critic.* keys): each
 * sample's critique prompt is critic.prompt_file's template (or the built-in one) filled in with
 * its prompt, response and reference; the answer is read as any critique format above, its
 * "score" the scalar score. http: an OpenAI-compatible chat-completions server (critic.url),
 * critic.workers requests in flight, retries, 429 Retry-After, JSON mode; the API key is read
 * from the environment variable critic.api_key_env and never written anywhere. model: a model
 * t2g loads on `device` (critic.model_path), writing critiques with the batched sampler, its
 * tokens constrained to valid critique JSON (critic.constrain). Fails naming the key at fault
 * (a bad URL, an unset key variable, a model that does not load, a bad template). */
t2g_status t2g_critic_language_model(const t2g_config *config, t2g_device *device, t2g_critic **critic,
                                     t2g_error *err);
/* The critic config->critic.kind names, with the critic.* keys: builtin (task's: an error
 * naming it when it has none), external (critic.command, started; t2g_critic_check_command is
 * the caller's to run first, before anything slow), http or model (on device). */
t2g_status t2g_critic_from_config(const t2g_config *config, const t2g_task *task, t2g_device *device, t2g_critic **critic,
                                  t2g_error *err);
/* Gives a language-model critic its critique cache (critic.cache): a JSONL file, read now, to
 * which each new critique is appended; what it holds is never asked again. Other critics have
 * none: OK. Fails naming the file and line of a malformed cache. */
t2g_status t2g_critic_set_cache(t2g_critic *critic, const char *path, t2g_error *err);
/* The critique prompt a language-model critic sends for a request (malloc'ed, *len bytes). */
t2g_status t2g_critic_prompt(const t2g_critic *critic, const t2g_critic_request *request, char **text, size_t *len,
                             t2g_error *err);

/* Checks, without running it, that a critic command's program exists and is executable, and
 * that the script an interpreter is given (python3 critic.py, sh critic.sh, ...) exists: an
 * error naming the command and what is missing. Commands that the shell alone can tell
 * (quotes, variables, builtins) pass unchecked. */
t2g_status t2g_critic_check_command(const char *command, t2g_error *err);

/* Appends an external critic's stray stdout lines to the file at path (created if need be);
 * without a log they are only counted. A built-in critic has nothing to log: OK. */
t2g_status t2g_critic_set_log(t2g_critic *critic, const char *path, t2g_error *err);

/* Judges n samples: results[i] answers requests[i]. A sample that fails every attempt has
 * ok = false and is counted; only a failure of the critic machinery itself (not of a sample) is
 * an error. */
t2g_status t2g_critic_judge(t2g_critic *critic, const t2g_critic_request *requests, uint32_t n,
                            t2g_critic_result *results, t2g_error *err);
void t2g_critic_result_free(t2g_critic_result *result);
const t2g_critic_stats *t2g_critic_get_stats(const t2g_critic *critic);
/* The device memory the critic holds, in bytes: a model critic's model and generator; 0 for
 * the others. */
uint64_t t2g_critic_device_bytes(const t2g_critic *critic);
/* Stops the processes of an external critic and frees everything. NULL is fine. */
void t2g_critic_destroy(t2g_critic *critic);

#endif
