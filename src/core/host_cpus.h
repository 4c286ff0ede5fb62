/* The host's processors as the kernel reports them. Internal to t2g (src/), not installed. */
#ifndef T2G_CORE_HOST_CPUS_H
#define T2G_CORE_HOST_CPUS_H

#include <stdint.h>

/* Processors online (sysconf), at least 1. */
uint32_t t2g_host_cpus(void);

#endif
