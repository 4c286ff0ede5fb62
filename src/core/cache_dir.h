/* Where t2g keeps what it caches on disk (compiled pipelines, the self-check's verdicts). */
#ifndef T2G_CACHE_DIR_H
#define T2G_CACHE_DIR_H

#include <stdbool.h>
#include <stddef.h>

/* $T2G_CACHE_DIR, else $XDG_CACHE_HOME/t2g, else $HOME/.cache/t2g; false when none is set or
 * the path does not fit. */
bool t2g_cache_default_dir(char *out, size_t size);

/* mkdir -p: every missing folder of `path`; false (errno set) when one cannot be made. */
bool t2g_make_dirs(const char *path);

#endif
