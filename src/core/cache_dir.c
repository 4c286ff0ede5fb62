/* The cache folder (core/cache_dir.h). */
#include "cache_dir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

bool t2g_cache_default_dir(char *out, size_t size) {
    const char *dir = getenv("T2G_CACHE_DIR");
    if (dir && *dir) return snprintf(out, size, "%s", dir) < (int)size;
    dir = getenv("XDG_CACHE_HOME");
    if (dir && *dir) return snprintf(out, size, "%s/t2g", dir) < (int)size;
    dir = getenv("HOME");
    if (dir && *dir) return snprintf(out, size, "%s/.cache/t2g", dir) < (int)size;
    return false;
}

bool t2g_make_dirs(const char *path) {
    char partial[1024];
    size_t n = strlen(path);
    if (n >= sizeof partial) return false;
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != 0) continue;
        memcpy(partial, path, i);
        partial[i] = 0;
        if (mkdir(partial, 0755) != 0 && errno != EEXIST) return false;
    }
    return true;
}
