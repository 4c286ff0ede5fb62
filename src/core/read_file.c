/* Bounded reading of input files and streams (read_file.h). */
#include "core/read_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/grow.h"

static const char *file_kind(mode_t mode) {
    if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

/* "; raise it with --set KEY=N" or "" for a fixed cap. */
static void raise_hint(const t2g_read_cap *cap, char *out, size_t size) {
    if (cap->key)
        snprintf(out, size, " (%s; raise it with --set %s=N)", cap->key, cap->key);
    else
        snprintf(out, size, " (a fixed limit)");
}

/* "<what> <name> is <size>, more than the N bytes allowed (...)"; what may be "". */
static t2g_status too_large(const char *what, const char *name, const char *size_text, const t2g_read_cap *cap,
                            t2g_error *err) {
    char hint[160];
    raise_hint(cap, hint, sizeof hint);
    return t2g_fail(err, T2G_ERR_TOO_LARGE, "%s%s%s is %s, more than the %llu bytes allowed%s", what, *what ? " " : "",
                    name, size_text, (unsigned long long)cap->max_bytes, hint);
}

t2g_status t2g_file_open(const char *path, const char *what, FILE **file, uint64_t *size, t2g_error *err) {
    *file = NULL;
    /* O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        int saved = errno;
        t2g_fail(err, T2G_ERR_IO, "cannot read %s %s: %s", what, path, strerror(saved));
        errno = saved;
        return T2G_ERR_IO;
    }
    struct stat st;
    t2g_status status = T2G_OK;
    if (fstat(fd, &st) != 0)
        status = t2g_fail(err, T2G_ERR_IO, "cannot read %s %s: %s", what, path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        status = t2g_fail(err, T2G_ERR_IO, "cannot read %s %s: it is %s, not a regular file (t2g reads its inputs only "
                          "from regular files)", what, path, file_kind(st.st_mode));
    else {
        int flags = fcntl(fd, F_GETFL);
        if (flags >= 0) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
        *file = fdopen(fd, "rb");
        if (!*file) status = t2g_fail(err, T2G_ERR_MEMORY, "%s: cannot open a stream of %s: %s", path, what, strerror(errno));
    }
    if (status) {
        close(fd);
        errno = 0; /* opened: not "absent" */
        return status;
    }
    if (size) *size = (uint64_t)st.st_size;
    return T2G_OK;
}

/* Reads `stream` to its end, at most cap->max_bytes (one byte more is read to tell that there
 * is more: then an error). `expected`: the size to start with (the file's, or 0). */
static t2g_status read_bounded(FILE *stream, const char *what, const char *name, const t2g_read_cap *cap,
                               uint64_t expected, char **data, size_t *len, t2g_error *err) {
    *data = NULL;
    *len = 0;
    uint64_t limit = cap->max_bytes;
    size_t capacity = (size_t)(expected < limit ? expected : limit) + 1;
    if (capacity < 4096) capacity = 4096;
    char *buffer = malloc(capacity);
    if (!buffer) return t2g_fail(err, T2G_ERR_MEMORY, "out of memory reading %s%s%s", what, *what ? " " : "", name);
    size_t used = 0;
    for (;;) {
        if (used + 1 == capacity) {
            if (used > limit) break;
            if (!t2g_grow_at_most(&buffer, &capacity, used + 2, (size_t)limit + 2, 1)) {
                free(buffer);
                return t2g_fail(err, T2G_ERR_MEMORY, "out of memory reading %s%s%s (%zu bytes)", what, *what ? " " : "",
                                name, used + 2);
            }
        }
        size_t got = fread(buffer + used, 1, capacity - used - 1, stream);
        used += got;
        if (got == 0 || used > limit) break;
    }
    if (ferror(stream)) {
        int saved = errno;
        free(buffer);
        return t2g_fail(err, T2G_ERR_IO, "cannot read %s%s%s: %s", what, *what ? " " : "", name, strerror(saved));
    }
    if (used > limit) {
        free(buffer);
        char size_text[48];
        if (expected > limit)
            snprintf(size_text, sizeof size_text, "%llu bytes", (unsigned long long)expected);
        else
            snprintf(size_text, sizeof size_text, "over %llu bytes", (unsigned long long)limit);
        return too_large(what, name, size_text, cap, err);
    }
    buffer[used] = 0;
    *data = buffer;
    *len = used;
    return T2G_OK;
}

t2g_status t2g_file_read(const char *path, const char *what, t2g_read_cap cap, char **data, size_t *len,
                         t2g_error *err) {
    *data = NULL;
    *len = 0;
    FILE *file;
    uint64_t size = 0;
    t2g_status status = t2g_file_open(path, what, &file, &size, err);
    if (status) return status;
    if (size > cap.max_bytes) {
        char size_text[48];
        snprintf(size_text, sizeof size_text, "%llu bytes", (unsigned long long)size);
        status = too_large(what, path, size_text, &cap, err);
    } else
        status = read_bounded(file, what, path, &cap, size, data, len, err); /* it may have grown since */
    fclose(file);
    if (status) errno = 0; /* opened: not "absent" */
    return status;
}

t2g_status t2g_stream_read(FILE *stream, const char *name, t2g_read_cap cap, char **data, size_t *len, t2g_error *err) {
    return read_bounded(stream, "", name, &cap, 0, data, len, err);
}

t2g_status t2g_lines_open(t2g_line_reader *reader, const char *path, const char *what, t2g_read_cap cap,
                          t2g_error *err) {
    memset(reader, 0, sizeof *reader);
    reader->path = path;
    reader->cap = cap;
    return t2g_file_open(path, what, &reader->file, NULL, err);
}

t2g_status t2g_lines_next(t2g_line_reader *r, const char **line, size_t *len, t2g_error *err) {
    *line = NULL;
    *len = 0;
    if (!r->file) return T2G_OK;
    size_t used = 0;
    int c = EOF;
    flockfile(r->file);
    while ((c = getc_unlocked(r->file)) != EOF && c != '\n') {
        if (used + 2 > r->capacity) {
            if (used > r->cap.max_bytes) break; /* "\r" may still follow a line of exactly the cap */
            if (!t2g_grow_at_most(&r->line, &r->capacity, used + 2, (size_t)r->cap.max_bytes + 2, 1)) {
                funlockfile(r->file);
                return t2g_fail(err, T2G_ERR_MEMORY, "%s:%llu: out of memory for a line of %zu bytes", r->path,
                                (unsigned long long)r->number + 1, used + 2);
            }
        }
        r->line[used++] = (char)c;
    }
    funlockfile(r->file);
    if (ferror(r->file))
        return t2g_fail(err, T2G_ERR_IO, "%s: read error after line %llu: %s", r->path, (unsigned long long)r->number,
                        strerror(errno));
    if (c == EOF && used == 0) return T2G_OK; /* the end */
    r->number++;
    if (used && r->line[used - 1] == '\r') used--;
    if (used > r->cap.max_bytes) {
        char hint[160];
        raise_hint(&r->cap, hint, sizeof hint);
        return t2g_fail(err, T2G_ERR_TOO_LARGE, "%s:%llu: the line is longer than the %llu bytes allowed%s", r->path,
                        (unsigned long long)r->number, (unsigned long long)r->cap.max_bytes, hint);
    }
    if (!r->line) { /* an empty first line */
        r->line = malloc(1);
        if (!r->line) return t2g_fail(err, T2G_ERR_MEMORY, "%s: out of memory", r->path);
        r->capacity = 1;
    }
    r->line[used] = 0;
    *line = r->line;
    *len = used;
    return T2G_OK;
}

void t2g_lines_close(t2g_line_reader *r) {
    if (r->file) fclose(r->file);
    free(r->line);
    memset(r, 0, sizeof *r);
}
