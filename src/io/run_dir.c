/* Run directories: a new folder per run, never an existing one; files written atomically. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/atomic_write.h"
#include "t2g/train.h"

static bool empty_dir(const char *path) {
    DIR *dir = opendir(path);
    if (!dir) return false;
    struct dirent *entry;
    bool empty = true;
    while (empty && (entry = readdir(dir)))
        if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0) empty = false;
    closedir(dir);
    return empty;
}

/* mkdir -p of the parents of path (not path itself). */
static void make_parents(const char *path) {
    char partial[1024];
    size_t n = strlen(path);
    if (n >= sizeof partial) return;
    for (size_t i = 1; i < n; i++) {
        if (path[i] != '/') continue;
        memcpy(partial, path, i);
        partial[i] = 0;
        mkdir(partial, 0755);
    }
}

t2g_status t2g_run_dir_create(const char *base, const char *name, const char *out, char *path, size_t size,
                              t2g_error *err) {
    if (out && *out) {
        if (snprintf(path, size, "%s", out) >= (int)size)
            return t2g_fail(err, T2G_ERR_ARGUMENT, "--out: the path is too long");
        make_parents(path);
        if (mkdir(path, 0755) == 0) return T2G_OK;
        if (errno == EEXIST && empty_dir(path)) return T2G_OK;
        if (errno == EEXIST)
            return t2g_fail(err, T2G_ERR_IO, "%s already exists and is not an empty folder: a run is never written over "
                                             "another (choose a new --out)", path);
        return t2g_fail(err, T2G_ERR_IO, "cannot create the run folder %s: %s", path, strerror(errno));
    }
    char stamp[32];
    time_t now = time(NULL);
    struct tm local;
    localtime_r(&now, &local);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &local);
    for (int attempt = 1; attempt < 1000; attempt++) {
        int n = attempt == 1 ? snprintf(path, size, "%s/%s-%s", base, name, stamp)
                             : snprintf(path, size, "%s/%s-%s-%d", base, name, stamp, attempt);
        if (n < 0 || n >= (int)size) return t2g_fail(err, T2G_ERR_ARGUMENT, "the run folder's path is too long");
        make_parents(path);
        if (mkdir(path, 0755) == 0) return T2G_OK;
        if (errno != EEXIST) return t2g_fail(err, T2G_ERR_IO, "cannot create the run folder %s: %s", path, strerror(errno));
    }
    return t2g_fail(err, T2G_ERR_IO, "cannot find a new name for the run folder under %s", base);
}

t2g_status t2g_write_file_atomic(const char *dir, const char *file, const char *text, size_t len, t2g_error *err) {
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "cannot write %s in %s: the path is too long", file, dir);
    if (t2g_atomic_write(path, text, len, err)) return t2g_error_context(err, "cannot write %s", path);
    return T2G_OK;
}
