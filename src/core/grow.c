/* The one growable array (see grow.h). */
#include "core/grow.h"

#include <stdint.h>
#include <string.h>

#include "core/alloc.h"

enum { FIRST_CAPACITY = 16 };

bool t2g_grow_at_most(void *array, size_t *capacity, size_t needed, size_t most, size_t item_size) {
    if (needed <= *capacity) return true;
    if (needed > most || item_size == 0) return false;
    size_t grown = *capacity ? *capacity : FIRST_CAPACITY;
    while (grown < needed) grown = grown > SIZE_MAX / 2 ? SIZE_MAX : 2 * grown;
    if (grown > most) grown = most;
    if (grown > SIZE_MAX / item_size) return false;
    void *items;
    memcpy(&items, array, sizeof items); /* the caller's T *, read as the void * it converts to */
    void *bigger = t2g_realloc(items, grown * item_size);
    if (!bigger) return false;
    memcpy(array, &bigger, sizeof bigger);
    *capacity = grown;
    return true;
}

bool t2g_grow(void *array, size_t *capacity, size_t needed, size_t item_size) {
    return t2g_grow_at_most(array, capacity, needed, SIZE_MAX, item_size);
}
