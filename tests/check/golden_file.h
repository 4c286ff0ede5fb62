/* Reading the golden files under tests/golden/ (little-endian binary records), shared by the
 * checks that compare with a reference made by tests/oracle/. */
#ifndef T2G_CHECK_GOLDEN_FILE_H
#define T2G_CHECK_GOLDEN_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check.h"

typedef struct golden_file {
    unsigned char *data; /* malloc'ed: the caller frees it */
    size_t len, at;
    bool bad;            /* a read past the end */
} golden_file;

/* Reads tests/golden/<folder>/<name> (at most 4 MiB) into *f; false (a failure) if it cannot. */
bool golden_load(check_ctx *ctx, const char *folder, const char *name, golden_file *f);
/* The next n bytes, or NULL (and f->bad) past the end. */
const unsigned char *golden_take(golden_file *f, size_t n);
uint32_t golden_u8(golden_file *f);
uint32_t golden_u16(golden_file *f);
uint32_t golden_u32(golden_file *f);
/* The next 8 bytes are `expected`. */
bool golden_magic(golden_file *f, const char *expected);

/* The test strings of tests/golden/tokenizers/corpus.bin ("t2gtext1"), pointing into f->data. */
typedef struct golden_corpus {
    uint32_t count;
    const unsigned char **text;
    uint32_t *len;
} golden_corpus;
/* Loads corpus.bin into *f and reads it into *c; false (a failure) if it cannot. */
bool golden_load_corpus(check_ctx *ctx, golden_file *f, golden_corpus *c);

#endif
