/* The one growable array: room for more items in a malloc'ed array, its capacity doubling
 * (from 16 items) so that n appends cost O(n) copying. Allocation goes through t2g_realloc
 * (src/core/alloc.h), so the tests that fail each allocation in turn reach these too. */
#ifndef T2G_CORE_GROW_H
#define T2G_CORE_GROW_H

#include <stdbool.h>
#include <stddef.h>

/* Makes *items (an array of *capacity items of item_size bytes, or NULL with capacity 0) hold at
 * least `needed` items. `array` is the address of the array's pointer (a T ** for a T array).
 * False when out of memory or when the bytes would overflow size_t: then the array and its
 * capacity are as they were (still valid, still the caller's to free). */
bool t2g_grow(void *array, size_t *capacity, size_t needed, size_t item_size);

/* The same with the capacity never above `most` items (a configured cap): needed <= most. */
bool t2g_grow_at_most(void *array, size_t *capacity, size_t needed, size_t most, size_t item_size);

#endif
