/* The in-process critic (model.h). One generator for critic.workers sequences; the samples go
 * through it in chunks of that many. With a constraint, each sequence has its own automaton
 * state (and, for "substrings", its own response's shape); the sampler's constrain hook masks
 * the logits, on_token advances the state by the token drawn. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/hash.h"
#include "critic/json_constraint.h"
#include "critic/model.h"
#include "critic_internal.h"
#include "t2g/generate.h"
#include "t2g/gpt.h"
#include "t2g/model_path.h"
#include "t2g/text.h"
#include "t2g/train.h"

struct critic_model {
    char path[512];
    t2g_gpt *gpt;
    t2g_text *text;
    t2g_generator *generator;
    critic_vocab *vocab;            /* NULL without a constraint */
    uint32_t batch;                 /* critiques written at once (critic.workers) */
    uint32_t context;               /* the model's context as loaded */
    uint32_t max_tokens;
    double temperature;
    t2g_critic_constrain constrain;
    uint32_t max_spans;
    t2g_sampling sampling;          /* stop tokens of the model's text; the rest per call */
};

/* What one chunk's sequences need during generation. */
typedef struct sequence_constraint {
    critic_json_shape *shape;
    critic_json_state state;
    bool broken;                    /* a token the constraint refused was drawn (never expected) */
} sequence_constraint;

typedef struct chunk {
    critic_model *model;
    sequence_constraint *seq;       /* (n): the chunk's samples */
    const uint32_t *which;          /* (live): the sample of each generated sequence */
} chunk;

static const char *token_bytes(void *user, uint32_t id, size_t *len) {
    return t2g_text_token_bytes(user, id, len);
}

static bool token_special(void *user, uint32_t id) { return t2g_text_is_special(user, id); }

static void constrain(void *user, uint32_t sequence, float *logits, uint32_t V, uint32_t budget) {
    (void)V;
    chunk *c = user;
    sequence_constraint *s = &c->seq[c->which[sequence]];
    if (!s->broken) critic_json_mask(c->model->vocab, s->shape, &s->state, budget, logits);
}

static void advance(void *user, uint32_t sequence, uint32_t token) {
    chunk *c = user;
    sequence_constraint *s = &c->seq[c->which[sequence]];
    if (!s->broken && !critic_json_advance(c->model->vocab, s->shape, &s->state, token)) s->broken = true;
}

/* The bytes (so at most the tokens) of the shortest critique the constraint allows; 0 when out of memory. */
static uint32_t shortest_critique(t2g_error *err) {
    critic_json_shape *shape = NULL;
    critic_json_options o = {0};
    if (critic_json_shape_create(&o, &shape, err)) return 0;
    critic_json_state start = critic_json_start(shape);
    uint32_t bytes = critic_json_close_bytes(shape, &start);
    critic_json_shape_free(shape);
    return bytes;
}

t2g_status critic_model_start(const t2g_config *config, t2g_device *device, critic_model **out, char *settings,
                              size_t settings_size, t2g_error *err) {
    *out = NULL;
    critic_model *m = calloc(1, sizeof *m);
    if (!m) return t2g_fail(err, T2G_ERR_MEMORY, "out of memory starting the model critic");
    snprintf(m->path, sizeof m->path, "%s", config->critic.model_path);
    m->batch = config->critic.workers;
    m->max_tokens = config->critic.max_tokens;
    m->temperature = config->critic.temperature;
    m->constrain = config->critic.constrain;
    m->max_spans = config->critic.max_spans;
    t2g_config model_config;
    uint32_t crc = 0;
    t2g_status status = t2g_model_load_frozen_text(device, m->path, config->critic.context, 1, 1, &m->gpt, &model_config,
                                                   &m->text, NULL, 0, err);
    if (!status) status = t2g_model_path_crc(m->path, &crc, err);
    if (!status) {
        m->context = t2g_gpt_config(m->gpt)->context;
        m->sampling = t2g_sampling_default();
        t2g_text_sampling(m->text, &m->sampling);
        status = t2g_generator_create(m->gpt, m->batch, &m->generator, err);
    }
    if (!status && m->constrain != T2G_CRITIC_CONSTRAIN_NONE)
        status = critic_vocab_create(t2g_text_vocab(m->text), token_bytes, token_special, m->text, m->sampling.stop_ids,
                                     m->sampling.stop_count, &m->vocab, err);
    if (status) {
        critic_model_stop(m);
        return t2g_error_context(err, "critic.model_path %s", config->critic.model_path);
    }
    uint32_t shortest = m->vocab ? shortest_critique(err) : 0;
    if (m->vocab && (shortest == 0 || m->max_tokens < shortest)) {
        critic_model_stop(m);
        if (!shortest) return T2G_ERR_MEMORY;
        return t2g_fail(err, T2G_ERR_FORMAT,
                        "critic.max_tokens %u is below the %u tokens the shortest critique JSON takes (critic.constrain %s)",
                        config->critic.max_tokens, shortest, t2g_config_name("critic.constrain", config->critic.constrain));
    }
    snprintf(settings, settings_size, "model crc=%08x context=%u temperature=%.17g max_tokens=%u constrain=%s max_spans=%u",
             crc, m->context, m->temperature, m->max_tokens, t2g_config_name("critic.constrain", m->constrain),
             m->max_spans);
    *out = m;
    return T2G_OK;
}

uint64_t critic_model_device_bytes(const critic_model *m) {
    return t2g_gpt_device_bytes(m->gpt) + t2g_generator_device_bytes(m->generator);
}

void critic_model_stop(critic_model *m) {
    if (!m) return;
    critic_vocab_free(m->vocab);
    t2g_generator_destroy(m->generator);
    t2g_gpt_destroy(m->gpt);
    t2g_text_free(m->text);
    free(m);
}

/* The constraint of one sample: its shape (the response, for substrings) and start state. */
static t2g_status start_constraint(const critic_model *m, const t2g_critic_request *r, sequence_constraint *s,
                                   t2g_error *err) {
    critic_json_options o = {.spans_from_response = m->constrain == T2G_CRITIC_CONSTRAIN_SUBSTRINGS,
                             .response = r->response ? r->response : "",
                             .response_len = r->response_len,
                             .max_spans = m->max_spans};
    t2g_status status = critic_json_shape_create(&o, &s->shape, err);
    if (!status) s->state = critic_json_start(s->shape);
    return status;
}

/* Tokens of one critique prompt, or why the sample cannot be judged (not ok, *ids NULL). */
static t2g_status prompt_ids(const critic_model *m, const char *message, const sequence_constraint *s,
                             t2g_critic_result *result, uint32_t **ids, uint32_t *count, t2g_error *err) {
    size_t n = 0;
    t2g_error why = {0};
    t2g_status status = t2g_text_prompt(m->text, message, strlen(message), false, ids, &n, &why);
    if (status == T2G_ERR_MEMORY) return t2g_fail(err, status, "%s", why.message);
    uint32_t least = m->vocab ? critic_json_close_bytes(s->shape, &s->state) : 1;
    if (status) {
        snprintf(result->error, sizeof result->error, "the critique prompt: %.200s", why.message);
    } else if (n + least > m->context) {
        snprintf(result->error, sizeof result->error,
                 "the critique prompt is %zu tokens: with the %u a critique needs at least, over critic.context %u", n,
                 least, m->context);
    } else {
        *count = (uint32_t)n;
        return T2G_OK;
    }
    free(*ids);
    *ids = NULL;
    return T2G_OK;
}

/* Reads generated sequence i into result and reply (an answer with no critique: result->answer). */
static t2g_status read_critique(const critic_model *m, const t2g_generation *g, uint32_t i, const sequence_constraint *s,
                                const t2g_critique_limits *limits, t2g_critic_stats *stats, t2g_critic_result *result,
                                char **reply, t2g_error *err) {
    char *text = NULL;
    size_t len = 0;
    t2g_status status = t2g_text_decode(m->text, g->tokens + (size_t)i * g->max_new_tokens, g->lengths[i], true, &text,
                                        &len, err);
    if (status) return status;
    stats->completion_tokens += g->lengths[i];
    status = critic_reply_read(text, len, limits, result, err);
    if (!status && !result->ok) {
        stats->unparsed++;
        if (s && s->broken) {
            char why[sizeof result->error];
            memcpy(why, result->error, sizeof why);
            snprintf(result->error, sizeof result->error, "the constraint was broken (a bug): %.200s", why);
        }
    }
    if (status) free(text);
    else if (!result->ok) result->answer = text; /* for a person tuning the prompt */
    else *reply = text;
    return status;
}

/* One chunk of at most m->batch samples: those whose prompt fits go to the generator together. */
static t2g_status judge_chunk(critic_model *m, t2g_critic_stats *stats, const t2g_critic_request *requests,
                              char *const *messages, uint32_t n, const t2g_critique_limits *limits,
                              t2g_critic_result *results, char **replies, t2g_error *err) {
    sequence_constraint *seq = calloc(n, sizeof *seq);       /* (n) */
    uint32_t **ids = calloc(n, sizeof *ids), *counts = calloc(n, sizeof *counts); /* (n) each sample's prompt */
    const uint32_t **live_ids = calloc(n, sizeof *live_ids); /* (live) the generated sequences' prompts */
    uint32_t *live_counts = calloc(n, sizeof *live_counts), *which = calloc(n, sizeof *which);
    t2g_status status = seq && ids && counts && live_ids && live_counts && which
                            ? T2G_OK
                            : t2g_fail(err, T2G_ERR_MEMORY, "out of memory");
    uint32_t live = 0;
    uint64_t seed = T2G_FNV1A64_START;
    for (uint32_t i = 0; !status && i < n; i++) {
        results[i].attempts = 1;
        if (m->vocab) status = start_constraint(m, &requests[i], &seq[i], err);
        if (!status) status = prompt_ids(m, messages[i], &seq[i], &results[i], &ids[i], &counts[i], err);
        if (status || !ids[i]) continue; /* a prompt that does not fit: that sample's failure, said in its result */
        live_ids[live] = ids[i];
        live_counts[live] = counts[i];
        which[live++] = i;
        stats->prompt_tokens += counts[i];
        seed = t2g_fnv1a64(seed, messages[i], strlen(messages[i]));
    }
    t2g_generation g = {0};
    if (!status && live) {
        chunk c = {m, seq, which};
        t2g_sampling s = m->sampling;
        s.temperature = (float)m->temperature;
        s.max_new_tokens = m->max_tokens;
        s.seed = seed; /* the same prompts give the same critiques, whatever ran before */
        if (m->vocab) {
            s.constrain = constrain;
            s.constrain_user = &c;
            s.on_token = advance;
            s.on_token_user = &c;
        }
        double start = t2g_clock_ms();
        stats->requests += live;
        status = t2g_generate(m->generator, live_ids, live_counts, live, &s, &g, err);
        if (!status) stats->latency_ms += (t2g_clock_ms() - start) * live;
    }
    for (uint32_t k = 0; !status && k < live; k++) {
        uint32_t i = which[k];
        status = read_critique(m, &g, k, m->vocab ? &seq[i] : NULL, limits, stats, &results[i], &replies[i], err);
    }
    for (uint32_t i = 0; !status && i < n; i++) results[i].ok ? stats->judged++ : stats->failed++;
    t2g_generation_free(&g);
    for (uint32_t i = 0; seq && ids && i < n; i++) {
        critic_json_shape_free(seq[i].shape);
        free(ids[i]);
    }
    free(seq);
    free(ids);
    free(counts);
    free(live_ids);
    free(live_counts);
    free(which);
    return status;
}

t2g_status critic_model_judge(critic_model *m, t2g_critic_stats *stats, const t2g_critic_request *requests,
                              char *const *messages, uint32_t n, const t2g_critique_limits *limits,
                              t2g_critic_result *results, char **replies, t2g_error *err) {
    for (uint32_t first = 0; first < n; first += m->batch) {
        uint32_t count = n - first < m->batch ? n - first : m->batch;
        t2g_status status =
            judge_chunk(m, stats, requests + first, messages + first, count, limits, results + first, replies + first, err);
        if (status) return t2g_error_context(err, "the model critic (%s)", m->path);
    }
    return T2G_OK;
}
