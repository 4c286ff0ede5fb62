/* Writing a file so that a reader (or a crash) never sees half of it: the bytes go to
 * "<path>.tmp.<pid>" beside it, which is flushed, synced and renamed over `path` only when
 * complete, and the directory is synced so that the rename itself lasts. Until the rename the
 * file already at `path` (if any) is untouched; a failure removes the temporary file. The
 * naming "<path>.tmp.<pid>" is what a resumed run looks for to remove the leftovers of an
 * interrupted write (src/cli/run_files.c). */
#ifndef T2G_CORE_ATOMIC_WRITE_H
#define T2G_CORE_ATOMIC_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "t2g/status.h"

typedef struct t2g_atomic_file {
    FILE *file; /* the temporary file: the caller streams into it */
    char path[4096];
    char temporary[4096 + 32];
} t2g_atomic_file;

/* Creates the temporary file beside `path` (mode 0666 less the umask, as fopen). */
t2g_status t2g_atomic_open(t2g_atomic_file *f, const char *path, t2g_error *err);

/* Flushes, syncs and closes the temporary file and renames it over the path. write_error is
 * the errno of a write of the caller's that failed (0: none), which fails the commit with that
 * error; any failure removes the temporary file and names the step that failed. */
t2g_status t2g_atomic_commit(t2g_atomic_file *f, int write_error, t2g_error *err);

/* Closes and removes the temporary file, leaving the path as it was. */
void t2g_atomic_abort(t2g_atomic_file *f);

/* The whole of `len` bytes written atomically to `path`. */
t2g_status t2g_atomic_write(const char *path, const void *data, size_t len, t2g_error *err);

#endif
