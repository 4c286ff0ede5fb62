/* t2g critique --batch: rows of prompts and responses read and checked first, then judged in one
 * call (so the critic's workers all have work), one JSON line out per row. */
#ifndef T2G_CLI_CRITIQUE_ROWS_H
#define T2G_CLI_CRITIQUE_ROWS_H

#include <stddef.h>

#include "t2g/config.h"
#include "t2g/critic.h"

typedef struct critique_row {
    char *prompt, *response, *reference; /* reference NULL when the row has none */
} critique_row;

typedef struct critique_rows {
    const char *path;
    critique_row *rows;
    size_t count, cap;
} critique_rows;

/* Every line of path: EXIT_USAGE naming the line at the first that is not {"prompt": string,
 * "response": string[, "reference": string]}. */
int critique_rows_read(const char *path, const t2g_config *config, critique_rows *rows);
/* Judges every row, writes one line each to out (NULL: standard output) and the counts to
 * standard error. EXIT_FAILED when no row got a critique or a write failed. */
int critique_rows_judge(const critique_rows *rows, const char *out, t2g_critic *critic);
void critique_rows_free(critique_rows *rows);

#endif
