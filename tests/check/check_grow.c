/* The growable array (src/core/grow.h): room for what is needed, the capacity doubling from
 * 16; a cap respected; and every failure (out of memory, a size past size_t, a need over the
 * cap) leaves the array and its capacity as they were, contents intact. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "core/alloc.h"
#include "core/grow.h"

T2G_HOST_CHECK(grow_array) {
    check_case_begin(ctx);
    uint64_t *items = NULL;
    size_t capacity = 0;
    bool ok = true;
    size_t doublings = 0;
    for (size_t n = 0; n < 5000 && ok; n++) {
        size_t before = capacity;
        ok = t2g_grow(&items, &capacity, n + 1, sizeof *items);
        if (ok) items[n] = n * 7919u;
        if (capacity != before) doublings++;
        ok = ok && capacity >= n + 1 && (before == 0 ? capacity == 16 : capacity == before || capacity == 2 * before);
    }
    bool kept = ok;
    for (size_t n = 0; n < 5000 && kept; n++) kept = items[n] == n * 7919u;
    check_true(ctx, ok && kept && doublings == 10 && capacity == 8192,
               "5000 appends: capacity 16 doubled to %zu in %zu allocations, every item kept", capacity, doublings);

    uint64_t *before = items;
    size_t capacity_before = capacity;
    t2g_alloc_fail_at(1);
    ok = t2g_grow(&items, &capacity, capacity + 1, sizeof *items);
    t2g_alloc_fail_at(0);
    check_true(ctx, !ok && items == before && capacity == capacity_before && items[4999] == 4999u * 7919u,
               "a failed allocation is false and leaves the array as it was");
    ok = t2g_grow(&items, &capacity, SIZE_MAX / 4, sizeof *items);
    check_true(ctx, !ok && items == before && capacity == capacity_before,
               "a size past size_t is false and leaves the array as it was");
    free(items);

    char *line = NULL;
    size_t line_capacity = 0;
    ok = t2g_grow_at_most(&line, &line_capacity, 20, 40, 1) && line_capacity == 32;
    ok = ok && t2g_grow_at_most(&line, &line_capacity, 33, 40, 1) && line_capacity == 40;
    check_true(ctx, ok, "under a cap of 40 the capacity goes 32, then 40 (not 64): %zu", line_capacity);
    ok = t2g_grow_at_most(&line, &line_capacity, 41, 40, 1);
    check_true(ctx, !ok && line_capacity == 40, "a need over the cap is false");
    free(line);
    return ctx->failures;
}
