/* The in-process critic (critic.kind model): a language model t2g loads itself
 * (critic.model_path: a GGUF file or Hugging Face folder), frozen, on the policy's device, writing
 * critiques with the batched KV-cache sampler (t2g/generate.h) in the model's own chat template.
 *
 * critic.constrain "json" (the default) lets the sampler draw only tokens that keep the output a
 * prefix of the critique JSON (critic/json_constraint.h), keeping enough of the token budget to
 * close it, so every critique parses; "substrings" also keeps each quoted span a substring of the
 * response; "none" samples freely (a benchmark of how often a small critic fails without it). */
#ifndef T2G_CRITIC_MODEL_H
#define T2G_CRITIC_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "t2g/config.h"
#include "t2g/critic.h"
#include "t2g/device.h"

typedef struct critic_model critic_model;

/* Loads the model of config->critic (model_path, context, workers: the critiques written at
 * once, max_tokens, temperature, constrain, max_spans). *settings receives what shapes its
 * critiques, for the cache's key (the model file's CRC among them). */
t2g_status critic_model_start(const t2g_config *config, t2g_device *device, critic_model **out, char *settings,
                              size_t settings_size, t2g_error *err);
/* Writes the critiques of n samples: messages[i] is the rendered critique prompt of requests[i]
 * (the user turn); results[i] and replies[i] (the model's text, malloc'ed; NULL when there is
 * none) as critic_http_judge gives them. A prompt longer than critic.context allows is that
 * sample's failure; only the machinery failing (the device, memory) is an error. */
t2g_status critic_model_judge(critic_model *model, t2g_critic_stats *stats, const t2g_critic_request *requests,
                              char *const *messages, uint32_t n, const t2g_critique_limits *limits,
                              t2g_critic_result *results, char **replies, t2g_error *err);
void critic_model_stop(critic_model *model);
/* The device memory its model and generator hold, in bytes. */
uint64_t critic_model_device_bytes(const critic_model *model);

#endif
