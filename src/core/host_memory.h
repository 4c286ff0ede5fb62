/* The host's memory as the kernel reports it. Internal to t2g (src/), not installed. */
#ifndef T2G_CORE_HOST_MEMORY_H
#define T2G_CORE_HOST_MEMORY_H

#include <stdint.h>

/* Bytes the host can give a process now without swapping: MemAvailable of /proc/meminfo, else
 * the free pages sysconf counts; 0 when neither is known. */
uint64_t t2g_host_available_bytes(void);

#endif
