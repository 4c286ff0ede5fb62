/* FNV-1a, 64 bits: the one non-cryptographic hash of t2g (cache keys, build stamps). Internal to
 * t2g (src/), not installed. Not for anything an adversary chooses. */
#ifndef T2G_CORE_HASH_H
#define T2G_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define T2G_FNV1A64_START 0xcbf29ce484222325ull

/* Continues hash h over bytes data[0..bytes) (start from T2G_FNV1A64_START). */
uint64_t t2g_fnv1a64(uint64_t h, const void *data, size_t bytes);

#endif
