/* A version 4 checkpoint's directory (t2g/checkpoint.h) in memory: its tensors and the checks
 * that the saver and the loader both make of them, and its JSON text written and parsed. */
#ifndef T2G_IO_CHECKPOINT_DIRECTORY_H
#define T2G_IO_CHECKPOINT_DIRECTORY_H

#include <stdbool.h>
#include <stdint.h>

#include "t2g/checkpoint.h"

/* What a tensor holds: the flat buffers' (params, m, v) or the auxiliary arrays'. */
typedef enum ckpt_group {
    GROUP_PARAMS, GROUP_M, GROUP_V,          /* "params[/<p>]", "adamw_m[/<p>]", "adamw_v[/<p>]" */
    GROUP_AUX_PARAMS, GROUP_AUX_M, GROUP_AUX_V, /* "value_head/params", ".../adamw_m", ".../adamw_v" */
    GROUP_COUNT,
} ckpt_group;

enum { CKPT_NAME_BYTES = 96 }; /* a tensor's whole name, with its NUL */

typedef struct ckpt_tensor {
    char name[CKPT_NAME_BYTES]; /* "params/h.3.qkvw" */
    ckpt_group group;
    int layer;                  /* the parameter's block, -1 for none */
    uint32_t rank;              /* 1 or 2 */
    uint64_t shape[2];
    uint64_t elements;          /* the product of the shape */
    uint64_t offset, bytes;     /* in the data */
    uint64_t buffer_offset;     /* floats into the flat buffer (params, m and v) */
} ckpt_tensor;

typedef struct ckpt_directory {
    t2g_checkpoint scalars;     /* step, cursor, rng, kind, start CRC, aux scalar, param_count */
    const char *config;         /* the checkpoint's, borrowed (save) */
    char *parsed_config;        /* the file's, malloc'ed (load) */
    char *parsed_tokenizer;     /* the file's tokenizer texts, malloc'ed (load; NULL when absent) */
    char *parsed_tokenizer_config;
    uint64_t data_bytes;
    uint32_t count;
    ckpt_tensor *tensors;       /* (count) malloc'ed, in the file's order */
} ckpt_directory;

/* The directory of a checkpoint to save: every tensor of its table (or the buffers whole), at
 * consecutive offsets aligned to 64 bytes. Its tensors are checked as a loader checks them. */
t2g_status ckpt_directory_plan(const t2g_checkpoint *ck, ckpt_directory *dir, t2g_error *err);
/* Every check of t2g/checkpoint.h that involves more than one tensor: names unique, no two
 * sharing a byte of the data or a float of the buffer, the buffer's padding bounded, each
 * parameter with its two moments, the auxiliary arrays all three or none. */
t2g_status ckpt_directory_check(const ckpt_directory *dir, t2g_error *err);
/* Whether t->name is one a checkpoint holds; if so t->group and t->layer from it. */
bool ckpt_tensor_classify(ckpt_tensor *t);
/* The directory as JSON text (malloc'ed). */
char *ckpt_directory_json(const ckpt_directory *dir);
/* Parses and checks the JSON text of a directory (not NUL-terminated) of a file of file_bytes
 * whose data starts at data_start (its data is what lies between that and the CRC). Every tensor
 * is checked, against the data and the others, before the caller allocates anything. Messages
 * carry no file name. */
t2g_status ckpt_directory_parse(const char *text, size_t len, uint64_t data_start, uint64_t file_bytes,
                                ckpt_directory *dir, t2g_error *err);
void ckpt_directory_free(ckpt_directory *dir);

/* The tensors ordered by their offset in the data (malloc'ed; NULL when out of memory). */
const ckpt_tensor **ckpt_directory_by_offset(const ckpt_directory *dir);
/* "h.3.qkvw" of "params/h.3.qkvw"; "" for a whole buffer or an auxiliary array. */
const char *ckpt_tensor_key(const ckpt_tensor *t);

#endif
