/* Files of assets/ (default configs and other small files), embedded in the binary at build
 * time so that t2g finds them from any working directory, installed or not. */
#ifndef T2G_ASSETS_H
#define T2G_ASSETS_H

#include <stddef.h>

/* The bytes of assets/<name> (e.g. "train_arith.json"), NUL-terminated; NULL if there is no
 * such asset. */
const char *t2g_asset(const char *name, size_t *len);
/* The names of every embedded asset, in a NULL-terminated array. */
const char *const *t2g_asset_names(void);

#endif
