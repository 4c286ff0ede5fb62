/* The host's available memory: Linux's own estimate (MemAvailable, which counts reclaimable page
 * cache) where /proc/meminfo has it, else the free pages sysconf reports. */
#include "host_memory.h"

#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

static uint64_t meminfo_available(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return 0;
    char line[256];
    unsigned long long kib = 0;
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = sscanf(line, "MemAvailable: %llu kB", &kib) == 1;
    fclose(f);
    return found ? (uint64_t)kib * 1024u : 0;
}

uint64_t t2g_host_available_bytes(void) {
    uint64_t bytes = meminfo_available();
    if (bytes) return bytes;
    long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
}
