/* Critics (include/t2g/critic.h): creation, judging, results and statistics, and the helpers
 * the built-in critics share to write a critique (its words, and spans that land where meant).
 *
 * Ownership: every critique in a result was made by t2g/feedback.h (t2g_critique_parse for an
 * external critic, t2g_critique_copy of what a built-in critic wrote), so t2g_critique_free and
 * t2g_critic_result_free both free it. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "core/utf8.h"
#include "critic/llm.h"
#include "critic_internal.h"

/* ---- text ---- */

static bool text_reserve(critic_text *t, size_t extra) {
    if (t->failed) return false;
    if (extra > SIZE_MAX - t->len - 1 || !t2g_grow(&t->p, &t->cap, t->len + extra + 1, 1)) t->failed = true;
    return !t->failed;
}

void critic_text_put(critic_text *t, const char *bytes, size_t len) {
    if (!text_reserve(t, len)) return;
    memcpy(t->p + t->len, bytes, len);
    t->len += len;
    t->p[t->len] = 0;
}

void critic_text_printf(critic_text *t, const char *format, ...) {
    va_list args;
    va_start(args, format);
    int n = vsnprintf(NULL, 0, format, args);
    va_end(args);
    if (n < 0 || !text_reserve(t, (size_t)n)) return;
    va_start(args, format);
    vsnprintf(t->p + t->len, (size_t)n + 1, format, args);
    va_end(args);
    t->len += (size_t)n;
}

bool critic_text_give(critic_text *t, t2g_critique *critique) {
    if (!t->p && !t->failed) critic_text_put(t, "", 0);
    if (t->failed) return false;
    free(critique->feedback);
    critique->feedback = t->p;
    *t = (critic_text){0};
    return true;
}

void critic_text_free(critic_text *t) {
    free(t->p);
    *t = (critic_text){0};
}

/* ---- spans ---- */

bool critic_add_span(t2g_critique *critique, const char *text, size_t len, t2g_span_kind kind) {
    char *copy = malloc(len + 1);
    t2g_critique_span *spans = realloc(critique->spans, (critique->span_count + 1) * sizeof *spans);
    if (spans) critique->spans = spans;
    if (!copy || !spans) {
        free(copy);
        return false;
    }
    memcpy(copy, text, len);
    copy[len] = 0;
    spans[critique->span_count++] = (t2g_critique_span){.text = copy, .len = len, .kind = kind};
    return true;
}

void critic_critique_clear(t2g_critique *critique) {
    for (uint32_t i = 0; i < critique->span_count; i++)
        free(critique->spans[i].text);
    free(critique->spans);
    free(critique->feedback);
    memset(critique, 0, sizeof *critique);
}

t2g_status critic_finish(t2g_critique *critique, critic_text *text, bool no_memory, double score, double final_score,
                         t2g_critic_result *result, t2g_error *err) {
    critique->has_score = true;
    critique->score = score;
    if (no_memory || !critic_text_give(text, critique)) {
        critic_text_free(text);
        critic_critique_clear(critique);
        return t2g_fail(err, T2G_ERR_MEMORY, "out of memory writing a critique");
    }
    t2g_status status = t2g_critique_copy(critique, &result->critique, err);
    critic_critique_clear(critique);
    if (status) return status;
    result->ok = true;
    result->score = score;
    result->final_score = final_score;
    return T2G_OK;
}

t2g_status critic_reply_read(const char *text, size_t len, const t2g_critique_limits *limits,
                             t2g_critic_result *result, t2g_error *err) {
    t2g_error why = {0};
    t2g_critique critique = {0};
    size_t clean_len = 0;
    char *clean = t2g_utf8_sanitize(text, len, &clean_len);
    if (!clean) return t2g_fail(err, T2G_ERR_MEMORY, "out of memory reading an answer");
    t2g_status status = t2g_critique_parse_limited(clean, clean_len, limits, &critique, &why);
    free(clean);
    if (status == T2G_ERR_MEMORY) return t2g_fail(err, T2G_ERR_MEMORY, "%s", why.message);
    if (status) {
        result->ok = false;
        snprintf(result->error, sizeof result->error, "no critique in the answer: %.200s", why.message);
        return T2G_OK;
    }
    result->ok = true;
    result->critique = critique;
    result->score = critique.has_score ? critique.score : 0.0;
    result->final_score = 0.0;
    result->error[0] = 0;
    return T2G_OK;
}

/* Where text[0..n) of `kind` lands after the critique's spans so far: its first occurrence in
 * the response that overlaps no occurrence of an earlier identical span (reading A: the same
 * text; B: the same text and kind); len + 1 when there is none. */
static size_t landing(const critic_placer *placer, const t2g_critique *critique, const char *text, size_t n,
                      t2g_span_kind kind, bool by_kind) {
    const size_t *starts = by_kind ? placer->start_b : placer->start_a;
    if (n == 0 || n > placer->len) return placer->len + 1;
    for (size_t p = 0; p + n <= placer->len; p++) {
        if (memcmp(placer->response + p, text, n) != 0) continue;
        bool claimed = false;
        for (uint32_t i = 0; i < critique->span_count && !claimed; i++) {
            const t2g_critique_span *s = &critique->spans[i];
            claimed = s->len == n && (!by_kind || s->kind == kind) && memcmp(s->text, text, n) == 0 &&
                      p < starts[i] + n && starts[i] < p + n;
        }
        if (!claimed) return p;
    }
    return placer->len + 1;
}

static bool is_separator(unsigned char c) {
    /* Whitespace and ASCII punctuation: what the token scores leave at 0 anyway. */
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '!' && c <= '/') || (c >= ':' && c <= '@') ||
           (c >= '[' && c <= '`') || (c >= '{' && c <= '~');
}

void critic_separators_around(const critic_placer *placer, size_t start, size_t end, size_t *lo, size_t *hi) {
    *lo = start;
    *hi = end;
    while (*lo > 0 && is_separator((unsigned char)placer->response[*lo - 1]))
        (*lo)--;
    while (*hi < placer->len && is_separator((unsigned char)placer->response[*hi]))
        (*hi)++;
}

enum { MAX_WIDENING = 48 }; /* bytes a quote may grow by: bounds the search */

critic_place_result critic_place(critic_placer *placer, t2g_critique *critique, size_t start, size_t end, size_t lo,
                                 size_t hi, t2g_span_kind kind, bool both_only) {
    if (start >= end || end > placer->len || lo > start || hi < end || hi > placer->len) return CRITIC_NOT_PLACED;
    if (critique->span_count + 1 > placer->cap) { /* a and b grow together: b to the capacity a reached */
        size_t a_cap = placer->cap, b_cap = placer->cap;
        if (!t2g_grow(&placer->start_a, &a_cap, critique->span_count + 1, sizeof *placer->start_a) ||
            !t2g_grow(&placer->start_b, &b_cap, a_cap, sizeof *placer->start_b))
            return CRITIC_PLACE_NO_MEMORY;
        placer->cap = a_cap;
    }
    /* Stretches by length, then by latest start; the first that lands under both readings,
     * else the first that lands under A. */
    bool found = false;
    size_t best_s = 0, best_e = 0;
    size_t most = (start - lo) + (hi - end);
    if (most > MAX_WIDENING) most = MAX_WIDENING;
    for (size_t extra = 0; extra <= most; extra++) {
        for (size_t left = 0; left <= extra && left <= start - lo; left++) {
            size_t right = extra - left;
            if (right <= hi - end) {
                size_t s = start - left, e = end + right;
                const char *text = placer->response + s;
                if (landing(placer, critique, text, e - s, kind, false) == s) {
                    if (landing(placer, critique, text, e - s, kind, true) == s) {
                        best_s = s, best_e = e, found = true;
                        goto place;
                    }
                    if (!found && !both_only) best_s = s, best_e = e, found = true;
                }
            }
        }
    }
    if (!found) return CRITIC_NOT_PLACED;
place:
    if (!critic_add_span(critique, placer->response + best_s, best_e - best_s, kind)) return CRITIC_PLACE_NO_MEMORY;
    uint32_t i = critique->span_count - 1;
    placer->start_a[i] = best_s;
    /* under reading B it may land elsewhere (a fallback): where, for the spans after it */
    critique->span_count--;
    placer->start_b[i] = landing(placer, critique, placer->response + best_s, best_e - best_s, kind, true);
    critique->span_count++;
    return CRITIC_PLACED;
}

void critic_placer_free(critic_placer *placer) {
    free(placer->start_a);
    free(placer->start_b);
    placer->start_a = placer->start_b = NULL;
    placer->cap = 0;
}

/* ---- the critic object ---- */

t2g_status t2g_critic_builtin(const t2g_task *task, t2g_critic **critic, t2g_error *err) {
    if (!critic) return t2g_fail(err, T2G_ERR_ARGUMENT, "t2g_critic_builtin: no place for the critic");
    *critic = NULL;
    critic_kind kind;
    if (task && task == t2g_task_find("arith"))
        kind = CRITIC_ARITH;
    else if (task && task == t2g_task_find("facts"))
        kind = CRITIC_FACTS;
    else
        return t2g_fail(err, T2G_ERR_ARGUMENT, "t2g_critic_builtin: no built-in critic for task '%s' (expected arith or facts)",
                        task ? t2g_task_name(task) : "(none)");
    t2g_critic *c = calloc(1, sizeof *c);
    if (!c) return t2g_fail(err, T2G_ERR_MEMORY, "t2g_critic_builtin: out of memory");
    c->kind = kind;
    c->task = task;
    *critic = c;
    return T2G_OK;
}

t2g_status t2g_critic_external(const t2g_external_critic_options *options, t2g_critic **critic, t2g_error *err) {
    if (!critic) return t2g_fail(err, T2G_ERR_ARGUMENT, "t2g_critic_external: no place for the critic");
    *critic = NULL;
    t2g_critic *c = calloc(1, sizeof *c);
    if (!c) return t2g_fail(err, T2G_ERR_MEMORY, "t2g_critic_external: out of memory");
    c->kind = CRITIC_EXTERNAL;
    t2g_status status = critic_external_start(options, &c->external, err);
    if (status) {
        free(c);
        return status;
    }
    *critic = c;
    return T2G_OK;
}

t2g_status t2g_critic_language_model(const t2g_config *config, t2g_device *device, t2g_critic **critic,
                                     t2g_error *err) {
    if (!critic || !config) return t2g_fail(err, T2G_ERR_ARGUMENT, "t2g_critic_language_model: no config or place for the critic");
    *critic = NULL;
    t2g_critic *c = calloc(1, sizeof *c);
    if (!c) return t2g_fail(err, T2G_ERR_MEMORY, "t2g_critic_language_model: out of memory");
    c->kind = CRITIC_LLM;
    t2g_status status = critic_llm_start(config, device, &c->llm, err);
    if (status) {
        free(c);
        return status;
    }
    *critic = c;
    return T2G_OK;
}

t2g_status t2g_critic_from_config(const t2g_config *config, const t2g_task *task, t2g_device *device, t2g_critic **critic,
                                  t2g_error *err) {
    switch (config->critic.kind) {
    case T2G_CRITIC_BUILTIN: return t2g_critic_builtin(task, critic, err);
    case T2G_CRITIC_HTTP:
    case T2G_CRITIC_MODEL: return t2g_critic_language_model(config, device, critic, err);
    case T2G_CRITIC_EXTERNAL: break;
    }
    t2g_external_critic_options o = {config->critic.command, config->critic.workers, config->critic.timeout_ms,
                                     config->critic.retries, config->critic.max_bytes};
    return t2g_critic_external(&o, critic, err);
}

t2g_status t2g_critic_prompt(const t2g_critic *critic, const t2g_critic_request *request, char **text, size_t *len,
                             t2g_error *err) {
    if (!critic || !critic->llm)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "only the http and model critics have a critique prompt");
    return critic_llm_render(critic->llm, request, text, len, err);
}

t2g_status t2g_critic_judge(t2g_critic *critic, const t2g_critic_request *requests, uint32_t n,
                            t2g_critic_result *results, t2g_error *err) {
    if (!critic || (n && (!requests || !results)))
        return t2g_fail(err, T2G_ERR_ARGUMENT, "t2g_critic_judge: no critic, requests or results");
    for (uint32_t i = 0; i < n; i++)
        memset(&results[i], 0, sizeof results[i]);
    for (uint32_t i = 0; i < n; i++)
        if (!requests[i].prompt || (!requests[i].response && requests[i].response_len))
            return t2g_fail(err, T2G_ERR_ARGUMENT, "t2g_critic_judge: request %u (id %llu) has no prompt or response", i,
                            (unsigned long long)requests[i].id);
    if (critic->kind == CRITIC_EXTERNAL)
        return critic_external_judge(critic->external, &critic->stats, requests, n, results, err);
    if (critic->kind == CRITIC_LLM) return critic_llm_judge(critic->llm, &critic->stats, requests, n, results, err);

    for (uint32_t i = 0; i < n; i++) {
        t2g_status status = critic->kind == CRITIC_ARITH ? critic_arith_judge(&requests[i], &results[i], err)
                                                         : critic_facts_judge(critic->task, &requests[i], &results[i], err);
        if (status) {
            for (uint32_t j = 0; j <= i; j++)
                t2g_critic_result_free(&results[j]);
            return t2g_error_context(err, "%s critic, request %u (id %llu)", t2g_task_name(critic->task), i,
                                     (unsigned long long)requests[i].id);
        }
        results[i].attempts = 1;
        if (results[i].ok)
            critic->stats.judged++;
        else
            critic->stats.failed++;
    }
    return T2G_OK;
}

void t2g_critic_result_free(t2g_critic_result *result) {
    if (!result) return;
    if (result->ok) t2g_critique_free(&result->critique);
    memset(&result->critique, 0, sizeof result->critique);
    result->ok = false;
    free(result->answer);
    result->answer = NULL;
}

t2g_status t2g_critic_set_log(t2g_critic *critic, const char *path, t2g_error *err) {
    if (!critic || !path) return t2g_fail(err, T2G_ERR_ARGUMENT, "t2g_critic_set_log: no critic or path");
    if (critic->llm) return critic_llm_set_log(critic->llm, path, err);
    return critic->external ? critic_external_set_log(critic->external, path, err) : T2G_OK;
}

t2g_status t2g_critic_set_cache(t2g_critic *critic, const char *path, t2g_error *err) {
    if (!critic || !path) return t2g_fail(err, T2G_ERR_ARGUMENT, "t2g_critic_set_cache: no critic or path");
    return critic->llm ? critic_llm_set_cache(critic->llm, path, err) : T2G_OK;
}

const t2g_critic_stats *t2g_critic_get_stats(const t2g_critic *critic) { return critic ? &critic->stats : NULL; }

t2g_critic_stats t2g_critic_stats_since(const t2g_critic_stats *now, const t2g_critic_stats *before) {
    t2g_critic_stats d = *now;
    d.judged -= before->judged, d.failed -= before->failed, d.retries -= before->retries;
    d.timeouts -= before->timeouts, d.crashes -= before->crashes, d.garbage -= before->garbage;
    d.missing -= before->missing, d.stray -= before->stray, d.stray_unlogged -= before->stray_unlogged;
    d.requests -= before->requests, d.rate_limited -= before->rate_limited, d.http_errors -= before->http_errors;
    d.unparsed -= before->unparsed, d.prompt_tokens -= before->prompt_tokens;
    d.completion_tokens -= before->completion_tokens, d.cache_hits -= before->cache_hits;
    d.cache_misses -= before->cache_misses, d.latency_ms -= before->latency_ms;
    return d;
}

uint64_t t2g_critic_device_bytes(const t2g_critic *critic) { return critic->llm ? critic_llm_device_bytes(critic->llm) : 0; }

void t2g_critic_destroy(t2g_critic *critic) {
    if (!critic) return;
    if (critic->external) critic_external_stop(critic->external);
    critic_llm_stop(critic->llm);
    free(critic);
}
