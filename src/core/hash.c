/* FNV-1a (core/hash.h). */
#include "core/hash.h"

uint64_t t2g_fnv1a64(uint64_t h, const void *data, size_t bytes) {
    const unsigned char *p = data;
    for (size_t k = 0; k < bytes; k++) h = (h ^ p[k]) * 0x100000001b3ull;
    return h;
}
