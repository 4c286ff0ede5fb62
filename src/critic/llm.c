/* Language-model critics (critic.kind http or model), the part they share: each sample's
 * critique prompt from the template (prompt.h), the cache (cache.h), then the backend (http.h,
 * model.h) for what the cache does not hold. An answer is stored as critic_reply_read reads it
 * (made valid UTF-8), so a cached critique reads exactly as it did when it was written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "critic/cache.h"
#include "critic/http.h"
#include "critic/llm.h"
#include "critic/model.h"
#include "critic/prompt.h"
#include "critic_internal.h"

struct critic_llm {
    critic_prompt *prompt;
    critic_cache *cache;         /* NULL: none */
    critic_http *http;           /* one backend of the two */
    critic_model *model;
    t2g_critique_limits limits;
    char settings[1024];         /* what shapes an answer, for the cache */
};

static t2g_status start_http(critic_llm *llm, const t2g_config *config, t2g_error *err) {
    critic_http_options o = {
        .url = config->critic.url,
        .model = config->critic.model,
        .api_key_env = config->critic.api_key_env,
        .workers = config->critic.workers,
        .timeout_ms = config->critic.timeout_ms,
        .retries = config->critic.retries,
        .max_bytes = config->critic.max_bytes + (64u << 10), /* the critique and the reply around it */
        .limits = llm->limits,
        .temperature = config->critic.temperature,
        .max_tokens = config->critic.max_tokens,
        .json_mode = config->critic.json_mode,
    };
    snprintf(llm->settings, sizeof llm->settings, "http url=%s model=%s temperature=%.17g max_tokens=%u json_mode=%s",
             config->critic.url, config->critic.model, config->critic.temperature, config->critic.max_tokens,
             t2g_config_name("critic.json_mode", config->critic.json_mode));
    return critic_http_start(&o, &llm->http, err);
}

t2g_status critic_llm_start(const t2g_config *config, t2g_device *device, critic_llm **out, t2g_error *err) {
    *out = NULL;
    critic_llm *llm = calloc(1, sizeof *llm);
    if (!llm) return t2g_fail(err, T2G_ERR_MEMORY, "out of memory starting the critic");
    llm->limits = (t2g_critique_limits){config->critic.max_spans, config->critic.max_bytes};
    t2g_status status = critic_prompt_load(config->critic.prompt_file, &llm->prompt, err);
    if (!status && config->critic.kind == T2G_CRITIC_HTTP) {
        status = start_http(llm, config, err);
    } else if (!status && config->critic.kind == T2G_CRITIC_MODEL) {
        if (!device) status = t2g_fail(err, T2G_ERR_ARGUMENT, "critic.kind \"model\" needs a device");
        else status = critic_model_start(config, device, &llm->model, llm->settings, sizeof llm->settings, err);
    } else if (!status) {
        status = t2g_fail(err, T2G_ERR_ARGUMENT, "critic.kind \"%s\" is not a language-model critic",
                          t2g_config_name("critic.kind", config->critic.kind));
    }
    if (status) {
        critic_llm_stop(llm);
        return status;
    }
    *out = llm;
    return T2G_OK;
}

t2g_status critic_llm_render(const critic_llm *llm, const t2g_critic_request *request, char **text, size_t *len,
                             t2g_error *err) {
    return critic_prompt_render(llm->prompt, request, text, len, err);
}

/* The cached critique of message, if the cache holds one that still reads (within today's limits). */
static t2g_status from_cache(critic_llm *llm, const char *message, t2g_critic_result *result, bool *hit, t2g_error *err) {
    char *answer = NULL;
    size_t len = 0;
    t2g_status status = critic_cache_find(llm->cache, llm->settings, message, &answer, &len, err);
    bool found = !status && answer;
    if (found) status = critic_reply_read(answer, len, &llm->limits, result, err);
    free(answer);
    *hit = found && !status && result->ok;
    if (found && !status && !result->ok) result->error[0] = 0; /* e.g. critic.max_spans lowered since: ask again */
    if (*hit) result->attempts = 0;
    return status;
}

/* A backend's answer, stored as critic_reply_read read it: valid UTF-8. */
static t2g_status keep_answer(critic_llm *llm, const char *message, const char *answer, t2g_error *err) {
    size_t len = 0;
    char *clean = t2g_utf8_sanitize(answer, strlen(answer), &len);
    if (!clean) return t2g_fail(err, T2G_ERR_MEMORY, "out of memory keeping a critique");
    t2g_status status = critic_cache_store(llm->cache, llm->settings, message, clean, len, err);
    free(clean);
    return status;
}

t2g_status critic_llm_judge(critic_llm *llm, t2g_critic_stats *stats, const t2g_critic_request *requests, uint32_t n,
                            t2g_critic_result *results, t2g_error *err) {
    char **messages = calloc(n ? n : 1, sizeof *messages), **replies = calloc(n ? n : 1, sizeof *replies);
    uint32_t *misses = calloc(n ? n : 1, sizeof *misses);
    t2g_critic_request *asked = calloc(n ? n : 1, sizeof *asked);
    t2g_critic_result *answers = calloc(n ? n : 1, sizeof *answers);
    uint64_t *ids = calloc(n ? n : 1, sizeof *ids);
    t2g_status status = messages && replies && misses && asked && answers && ids
                            ? T2G_OK
                            : t2g_fail(err, T2G_ERR_MEMORY, "out of memory judging %u samples", n);
    uint32_t missing = 0;
    for (uint32_t i = 0; !status && i < n; i++) {
        size_t len;
        status = critic_prompt_render(llm->prompt, &requests[i], &messages[i], &len, err);
        bool hit = false;
        if (!status && llm->cache) status = from_cache(llm, messages[i], &results[i], &hit, err);
        if (!status && llm->cache) hit ? stats->cache_hits++ : stats->cache_misses++;
        if (!status && hit) stats->judged++; /* the backends count what they judge */
        if (!status && hit) { /* its slot may take a later miss's message */
            free(messages[i]);
            messages[i] = NULL;
        }
        if (!status && !hit) {
            misses[missing] = i;
            asked[missing] = requests[i];
            ids[missing] = requests[i].id;
            messages[missing] = messages[i]; /* the misses' messages in front, in order */
            if (missing != i) messages[i] = NULL;
            missing++;
        }
    }
    if (!status && missing && llm->http)
        status = critic_http_judge(llm->http, stats, (const char *const *)messages, ids, missing, answers, replies, err);
    if (!status && missing && llm->model)
        status = critic_model_judge(llm->model, stats, asked, messages, missing, &llm->limits, answers, replies, err);
    for (uint32_t k = 0; !status && k < missing; k++) {
        results[misses[k]] = answers[k];
        answers[k] = (t2g_critic_result){0};
        if (llm->cache && replies[k] && results[misses[k]].ok) status = keep_answer(llm, messages[k], replies[k], err);
    }
    for (uint32_t k = 0; answers && k < missing; k++) t2g_critic_result_free(&answers[k]);
    for (uint32_t i = 0; messages && i < n; i++) free(messages[i]);
    for (uint32_t i = 0; replies && i < n; i++) free(replies[i]);
    if (status)
        for (uint32_t i = 0; i < n; i++) t2g_critic_result_free(&results[i]);
    free(messages);
    free(replies);
    free(misses);
    free(asked);
    free(answers);
    free(ids);
    return status;
}

t2g_status critic_llm_set_cache(critic_llm *llm, const char *path, t2g_error *err) {
    critic_cache *cache = NULL;
    t2g_status status = critic_cache_open(path, &cache, err);
    if (status) return status;
    critic_cache_close(llm->cache);
    llm->cache = cache;
    return T2G_OK;
}

t2g_status critic_llm_set_log(critic_llm *llm, const char *path, t2g_error *err) {
    return llm->http ? critic_http_set_log(llm->http, path, err) : T2G_OK;
}

uint64_t critic_llm_device_bytes(const critic_llm *llm) { return llm->model ? critic_model_device_bytes(llm->model) : 0; }

void critic_llm_stop(critic_llm *llm) {
    if (!llm) return;
    critic_http_stop(llm->http);
    critic_model_stop(llm->model);
    critic_cache_close(llm->cache);
    critic_prompt_free(llm->prompt);
    free(llm);
}
