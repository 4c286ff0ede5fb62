/* Reading input files with bounds: the one way t2g reads a file or stream it did not just
 * write. Only regular files are opened (a FIFO, a device such as /dev/zero, a directory or a
 * socket is refused at once, without blocking), and nothing is read past a cap: a whole file
 * above its cap, or a line above its cap, is an error naming the file (and line), its size and
 * the cap, and the config key that raises the cap when there is one. */
#ifndef T2G_CORE_READ_FILE_H
#define T2G_CORE_READ_FILE_H

#include <stdint.h>
#include <stdio.h>

#include "t2g/status.h"

/* Caps of the files no config key governs. */
#define T2G_CONFIG_MAX_BYTES (1u << 20)    /* a config file (--config) */
#define T2G_RUN_LINE_MAX_BYTES (64u << 20) /* a line of a run folder's JSONL files, or its JSON files */

/* A cap and how to raise it: `key` is a config key ("critic.max_bytes"), or NULL for a fixed
 * cap. */
typedef struct t2g_read_cap {
    uint64_t max_bytes;
    const char *key;
} t2g_read_cap;

/* Opens `path` for reading if it is a regular file; *size (may be NULL) its size. `what` names
 * it in messages ("the config", "the data file"). On failure errno is open(2)'s when the file
 * could not be opened (a caller may treat ENOENT as "absent"), else 0; so too for
 * t2g_file_read and t2g_lines_open. */
t2g_status t2g_file_open(const char *path, const char *what, FILE **file, uint64_t *size, t2g_error *err);

/* The whole regular file at `path`, malloc'ed and NUL-terminated (*len bytes before the NUL). */
t2g_status t2g_file_read(const char *path, const char *what, t2g_read_cap cap, char **data, size_t *len,
                         t2g_error *err);

/* A stream (standard input) read to its end, at most cap.max_bytes; `name` for messages. */
t2g_status t2g_stream_read(FILE *stream, const char *name, t2g_read_cap cap, char **data, size_t *len, t2g_error *err);

/* A file read line by line, each line at most cap.max_bytes without its "\n" (a "\r" before
 * it is dropped too). */
typedef struct t2g_line_reader {
    FILE *file;
    const char *path;
    t2g_read_cap cap;
    char *line;      /* the current line, NUL-terminated (it may hold NUL bytes: use len) */
    size_t capacity;
    uint64_t number; /* of the current line, from 1 */
} t2g_line_reader;

t2g_status t2g_lines_open(t2g_line_reader *reader, const char *path, const char *what, t2g_read_cap cap,
                          t2g_error *err);
/* The next line in *line (valid until the next call), *len bytes; *line NULL at the end. */
t2g_status t2g_lines_next(t2g_line_reader *reader, const char **line, size_t *len, t2g_error *err);
void t2g_lines_close(t2g_line_reader *reader);

#endif
