/* What the GGUF writer's checks share: metadata and tensors described as data (added through
 * the writer, compared with what the tests' parser found), and scratch folders. */
#ifndef T2G_TESTS_GGUF_WRITE_CASES_H
#define T2G_TESTS_GGUF_WRITE_CASES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "gguf_parse.h"
#include "t2g/gguf_write.h"

/* GGUF's metadata value types, as the format numbers them. */
enum {
    GGUF_U8 = 0, GGUF_I8, GGUF_U16, GGUF_I16, GGUF_U32, GGUF_I32, GGUF_F32, GGUF_BOOL, GGUF_STRING, GGUF_ARRAY,
    GGUF_U64, GGUF_I64, GGUF_F64,
};

/* A key and its value(s): values points to `count` of the type's C values (uint8_t, ..., bool;
 * strings: const char *), a scalar's to one; lengths: strings' lengths, or NULL for strlen. */
typedef struct gguf_case {
    const char *key;
    uint32_t type;
    bool array;
    const void *values;
    uint64_t count;
    const uint64_t *lengths;
} gguf_case;

typedef struct gguf_tensor_case {
    const char *name;
    t2g_gguf_write_type type;
    uint32_t n_dims;
    uint64_t dims[4];
} gguf_tensor_case;

t2g_status gguf_case_add(t2g_gguf_writer *w, const gguf_case *c, t2g_error *err);
/* The parsed pair holds exactly the case's key, type and values. */
bool gguf_case_matches(const gguf_parsed_kv *kv, const gguf_case *c);

uint64_t gguf_case_elements(const gguf_tensor_case *t);
t2g_status gguf_tensor_case_add(t2g_gguf_writer *w, const gguf_tensor_case *t, t2g_error *err);

/* A new folder under $TMPDIR (or /tmp). */
bool gguf_scratch_dir(check_ctx *ctx, char *dir, size_t size);
/* Whether the folder holds nothing. */
bool gguf_dir_empty(const char *dir);
/* Removes the (empty) folder: false when something was left in it (which is then removed too). */
bool gguf_remove_scratch(const char *dir);

#endif
