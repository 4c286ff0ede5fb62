/* What the libFuzzer targets of tests/fuzz share. Each fuzz_<name>.c feeds arbitrary bytes to
 * one parser of t2g and checks what the parser promises (an error with a message, or a result
 * that holds together); any crash, sanitizer report or broken promise aborts. CMake builds them
 * with clang's -fsanitize=fuzzer in a T2G_SANITIZE build; .ci/run runs each on its corpus,
 * tests/fuzz/corpus/<name>/, for a fixed number of inputs. */
#ifndef T2G_FUZZ_H
#define T2G_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "t2g/t2g.h"

/* Aborts (libFuzzer saves the input) when a promise is broken. */
#define FUZZ_CHECK(condition)                                                                      \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            fprintf(stderr, "%s:%d: broken: %s\n", __FILE__, __LINE__, #condition);                \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A failed call names what went wrong. */
#define FUZZ_CHECK_ERROR(status, err) FUZZ_CHECK((status) == T2G_OK || (err).message[0] != '\0')

/* The path of a regular file holding exactly bytes[0..len), for parsers that read files; the
 * same file (in memory) is rewritten for every input. */
const char *fuzz_file(const uint8_t *bytes, size_t len);

#endif
