/* The host's processors online, as sysconf reports them. */
#include "host_cpus.h"

#include <unistd.h>

uint32_t t2g_host_cpus(void) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return cpus > 0 ? (uint32_t)cpus : 1u;
}
