/* The one atomic file write (see atomic_write.h). */
#include "core/atomic_write.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

t2g_status t2g_atomic_open(t2g_atomic_file *f, const char *path, t2g_error *err) {
    f->file = NULL;
    if (snprintf(f->path, sizeof f->path, "%s", path) >= (int)sizeof f->path ||
        snprintf(f->temporary, sizeof f->temporary, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof f->temporary)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "cannot write %s: the path is too long", path);
    f->file = fopen(f->temporary, "wb");
    if (!f->file)
        return t2g_fail(err, T2G_ERR_IO, "cannot create a temporary file beside %s (%s): %s", path, f->temporary,
                        strerror(errno));
    return T2G_OK;
}

/* Makes the rename itself durable; a failure here leaves the complete file in place, so it is
 * not an error. */
static void sync_directory_of(const char *path) {
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == path) snprintf(dir, sizeof dir, "/");
    else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

t2g_status t2g_atomic_commit(t2g_atomic_file *f, int write_error, t2g_error *err) {
    int error = write_error;
    const char *step = "writing";
    if (!error && fflush(f->file) != 0) error = errno, step = "flushing";
    if (!error && fsync(fileno(f->file)) != 0) error = errno, step = "syncing";
    if (fclose(f->file) != 0 && !error) error = errno, step = "closing";
    f->file = NULL;
    if (!error && rename(f->temporary, f->path) != 0) error = errno, step = "renaming";
    if (error) {
        remove(f->temporary);
        return t2g_fail(err, T2G_ERR_IO, "%s %s failed: %s (the file at %s, if any, is untouched)", step, f->temporary,
                        strerror(error), f->path);
    }
    sync_directory_of(f->path);
    return T2G_OK;
}

void t2g_atomic_abort(t2g_atomic_file *f) {
    if (f->file) fclose(f->file);
    f->file = NULL;
    remove(f->temporary);
}

t2g_status t2g_atomic_write(const char *path, const void *data, size_t len, t2g_error *err) {
    t2g_atomic_file f;
    t2g_status status = t2g_atomic_open(&f, path, err);
    if (status) return status;
    errno = 0;
    int write_error = fwrite(data, 1, len, f.file) == len ? 0 : errno ? errno : EIO;
    return t2g_atomic_commit(&f, write_error, err);
}
