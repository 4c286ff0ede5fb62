/* Sampling one token from a row of logits on the host (t2g_sample_token), as t2g_generate
 * does: the banned ids (the byte tokenizer's BOS and PAD) are never candidates; temperature 0 is the argmax (ties to the lowest id);
 * otherwise the logits over the temperature, top-k, then top-p of what top-k kept (the smallest
 * prefix, in descending order, whose renormalised probability reaches p, at least one token),
 * renormalised, and one uniform draw from the stream. Probabilities in double. */
#include <math.h>
#include <stdlib.h>

#include "generate_internal.h"
#include "t2g/tokenizer.h"

static bool banned(const t2g_sampling *s, uint32_t id) {
    for (uint32_t k = 0; k < s->banned_count && k < 2; k++)
        if (s->banned_ids[k] == id) return true;
    return false;
}

/* The argmax over the candidates (ties to the lowest id); 0 if there is none. */
static uint32_t argmax(const float *logits, uint32_t V, const t2g_sampling *s) {
    uint32_t best = UINT32_MAX;
    for (uint32_t i = 0; i < V; i++) {
        if (banned(s, i) || isnan(logits[i])) continue;
        if (best == UINT32_MAX || logits[i] > logits[best]) best = i;
    }
    return best == UINT32_MAX ? 0 : best;
}

/* Descending z, then ascending id: a total order, so the sort's result is unique. */
static int by_probability(const void *a, const void *b) {
    const gen_candidate *x = a, *y = b;
    if (x->z != y->z) return x->z > y->z ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

uint32_t gen_sample_token(const float *logits, uint32_t V, const t2g_sampling *s, t2g_rng *rng, gen_candidate *work) {
    if (!(s->temperature > 0.0f)) return argmax(logits, V, s);
    uint32_t count = 0;
    double zmax = -INFINITY;
    for (uint32_t i = 0; i < V; i++) {
        if (banned(s, i) || isnan(logits[i])) continue;
        double z = (double)logits[i] / s->temperature;
        work[count++] = (gen_candidate){z, i};
        if (z > zmax) zmax = z;
    }
    if (count == 0) return 0;
    bool top_p = s->top_p < 1.0f, top_k = s->top_k > 0 && s->top_k < count;
    if (top_p || top_k || isinf(zmax)) {
        qsort(work, count, sizeof *work, by_probability);
        if (isinf(zmax)) return work[0].id; /* +inf: that token is certain */
        if (top_k) count = s->top_k;
    }
    double total = 0;
    for (uint32_t i = 0; i < count; i++) total += exp(work[i].z - zmax);
    if (top_p) {
        /* the smallest prefix whose probability (renormalised over what top-k kept) reaches p */
        double need = (double)s->top_p * total, prefix = 0;
        uint32_t keep = 0;
        while (keep < count) {
            prefix += exp(work[keep].z - zmax);
            keep++;
            if (prefix >= need) break;
        }
        count = keep;
        total = prefix;
    }
    double u = t2g_rng_uniform(rng) * total, cumulative = 0;
    for (uint32_t i = 0; i < count; i++) {
        cumulative += exp(work[i].z - zmax);
        if (u < cumulative) return work[i].id;
    }
    return work[count - 1].id; /* u within rounding of the total */
}

uint32_t t2g_sample_token(const float *logits, uint32_t V, const t2g_sampling *sampling, t2g_rng *rng) {
    if (!(sampling->temperature > 0.0f)) return argmax(logits, V, sampling);
    gen_candidate *work = malloc((size_t)V * sizeof *work);
    if (!work) return argmax(logits, V, sampling); /* out of host memory: the most likely token */
    uint32_t token = gen_sample_token(logits, V, sampling, rng, work);
    free(work);
    return token;
}

double gen_log_probability(const float *logits, uint32_t V, uint32_t token) {
    double m = -INFINITY;
    for (uint32_t i = 0; i < V; i++)
        if (logits[i] > m) m = logits[i];
    double sum = 0;
    for (uint32_t i = 0; i < V; i++) sum += exp((double)logits[i] - m);
    return (double)logits[token] - m - log(sum);
}

t2g_sampling t2g_sampling_default(void) {
    return (t2g_sampling){.temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .max_new_tokens = 64, .seed = 1,
                          .stop_at_eos = true, .stop_ids = {T2G_TOKEN_EOS}, .stop_count = 1,
                          .banned_ids = {T2G_TOKEN_BOS, T2G_TOKEN_PAD}, .banned_count = 2, .keep_logits = false};
}
