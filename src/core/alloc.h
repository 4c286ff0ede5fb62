/* Host allocation for code whose every allocation failure must reach its caller as an error
 * (src/feedback/, the RL rollout): malloc, calloc and realloc, with a failure hook that tests
 * arm to make one chosen allocation fail. Unarmed (always, outside tests) the hook costs one
 * relaxed atomic load. */
#ifndef T2G_CORE_ALLOC_H
#define T2G_CORE_ALLOC_H

#include <stddef.h>
#include <stdint.h>

void *t2g_malloc(size_t bytes);
void *t2g_calloc(size_t count, size_t size);
void *t2g_realloc(void *old, size_t bytes);

/* Tests only: the nth call of the three above from now on (1 = the next) returns NULL, the
 * others succeed; 0 disarms. Counts calls from every thread. */
void t2g_alloc_fail_at(uint64_t nth);
/* Calls of the three since the last t2g_alloc_fail_at (for a test that fails each in turn). */
uint64_t t2g_alloc_calls(void);

#endif
