/* Host allocation with a test-only failure hook (alloc.h). */
#include "core/alloc.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

static _Atomic uint64_t fail_at; /* 0: never */
static _Atomic uint64_t calls;

/* Counts the call and says whether it is the one to fail. */
static bool failing(void) {
    uint64_t n = atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed) + 1;
    uint64_t at = atomic_load_explicit(&fail_at, memory_order_relaxed);
    return at != 0 && n == at;
}

void *t2g_malloc(size_t bytes) { return failing() ? NULL : malloc(bytes ? bytes : 1); }

void *t2g_calloc(size_t count, size_t size) { return failing() ? NULL : calloc(count ? count : 1, size ? size : 1); }

void *t2g_realloc(void *old, size_t bytes) { return failing() ? NULL : realloc(old, bytes ? bytes : 1); }

void t2g_alloc_fail_at(uint64_t nth) {
    atomic_store(&fail_at, 0);
    atomic_store(&calls, 0);
    atomic_store(&fail_at, nth);
}

uint64_t t2g_alloc_calls(void) { return atomic_load(&calls); }
