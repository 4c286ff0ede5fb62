/* The one random number generator of t2g (splitmix64): parameter initialisation, data
 * shuffling, task generation and sampling all draw from it, so a seed reproduces a run and a
 * checkpoint can store the whole state (one uint64). */
#ifndef T2G_RNG_H
#define T2G_RNG_H

#include <math.h>
#include <stdint.h>

typedef struct t2g_rng {
    uint64_t state;
} t2g_rng;

static inline t2g_rng t2g_rng_seeded(uint64_t seed) { return (t2g_rng){seed ^ 0x6A09E667F3BCC909ull}; }

/* An independent stream for (seed, stream): e.g. one per sequence of a sampled batch. */
static inline t2g_rng t2g_rng_stream(uint64_t seed, uint64_t stream) {
    return t2g_rng_seeded(seed ^ (stream * 0xD1B54A32D192ED03ull + 0x8CB92BA72F3D8DD7ull));
}

static inline uint64_t t2g_rng_u64(t2g_rng *rng) {
    uint64_t z = (rng->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1), 53 bits. */
static inline double t2g_rng_uniform(t2g_rng *rng) { return (double)(t2g_rng_u64(rng) >> 11) * 0x1.0p-53; }

/* Uniform in [0, n), n >= 1 (the modulo bias is below 2^-32 for n < 2^32). */
static inline uint64_t t2g_rng_below(t2g_rng *rng, uint64_t n) { return t2g_rng_u64(rng) % n; }

/* Standard normal (Box-Muller). */
static inline double t2g_rng_normal(t2g_rng *rng) {
    double u1 = 1.0 - t2g_rng_uniform(rng), u2 = t2g_rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

#endif
