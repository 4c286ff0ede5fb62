/* fuzz_file (fuzz.h): one file in memory (memfd) per fuzzer process, rewritten for every input
 * and opened by the parsers through /proc/self/fd. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

const char *fuzz_file(const uint8_t *bytes, size_t len) {
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("t2g-fuzz", 0);
        FUZZ_CHECK(fd >= 0);
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    FUZZ_CHECK(ftruncate(fd, 0) == 0);
    for (size_t done = 0; done < len;) {
        ssize_t wrote = pwrite(fd, bytes + done, len - done, (off_t)done);
        FUZZ_CHECK(wrote > 0);
        done += (size_t)wrote;
    }
    return path;
}
