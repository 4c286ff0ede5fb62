/* Language-model critics (critic.kind http or model): what they share. Each sample's critique
 * prompt is the template (critic/prompt.h) filled in; the cache (critic/cache.h) answers what it
 * holds; the backend (critic/http.h: an OpenAI-compatible server; critic/model.h: a model t2g
 * runs) the rest. Critiques from the cache count as judged here; the backends count theirs. */
#ifndef T2G_CRITIC_LLM_H
#define T2G_CRITIC_LLM_H

#include "t2g/config.h"
#include "t2g/critic.h"
#include "t2g/device.h"

typedef struct critic_llm critic_llm;

/* device: the model critic's (may be NULL for http). No cache until critic_llm_set_cache. */
t2g_status critic_llm_start(const t2g_config *config, t2g_device *device, critic_llm **out, t2g_error *err);
t2g_status critic_llm_set_cache(critic_llm *llm, const char *path, t2g_error *err);
t2g_status critic_llm_judge(critic_llm *llm, t2g_critic_stats *stats, const t2g_critic_request *requests, uint32_t n,
                            t2g_critic_result *results, t2g_error *err);
/* The critique prompt of a request, as it is sent (malloc'ed). */
t2g_status critic_llm_render(const critic_llm *llm, const t2g_critic_request *request, char **text, size_t *len,
                             t2g_error *err);
t2g_status critic_llm_set_log(critic_llm *llm, const char *path, t2g_error *err);
void critic_llm_stop(critic_llm *llm);
/* The device memory the backend holds (a model critic's model and generator; 0 over HTTP). */
uint64_t critic_llm_device_bytes(const critic_llm *llm);

#endif
