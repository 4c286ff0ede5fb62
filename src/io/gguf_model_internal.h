/* How a t2g model is laid out in a GGUF file, shared by the reader (gguf_model.c) and the writer
 * (gguf_export.c): one table of architectures and one mapping of t2g tensors onto GGUF tensors. */
#ifndef T2G_IO_GGUF_MODEL_INTERNAL_H
#define T2G_IO_GGUF_MODEL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "t2g/config.h"
#include "t2g/gguf.h"

typedef struct gguf_arch {
    const char *name;          /* general.architecture */
    t2g_arch arch;
    bool qkv_bias;
    bool interleaved_qk;       /* q/k rows stored interleaved per head (llama.cpp's converter permutes them) */
    const char *eps_key;       /* the norm epsilon's key, after "<name>." */
} gguf_arch;

/* The architecture named `name` (len bytes), NULL when t2g runs no such one. */
const gguf_arch *gguf_arch_named(const char *name, size_t len);
/* The architecture a t2g model is written as: gpt2; llama (qwen2 with q/k/v biases). */
const gguf_arch *gguf_arch_of_model(const t2g_model_config *model);
/* "llama, qwen2, gpt2": the names, for messages. */
const char *gguf_arch_names(void);

/* One GGUF tensor holding part of a t2g tensor. */
typedef struct gguf_part {
    char name[T2G_GGUF_MAX_NAME];
    uint64_t rows, cols;       /* as stored: dims {cols, rows}; a vector has rows 1 and one dim; rows 0: a
                                  position table, as many rows as the file has (at least take_rows) */
    uint64_t take_rows;        /* the rows t2g holds (a position table: the model's context) */
    uint32_t heads;            /* > 0: rows interleaved per head in the file, rotate-half order in t2g */
} gguf_part;

#define GGUF_MAX_PARTS 3u

/* The parts (up to GGUF_MAX_PARTS) of t2g tensor `name` of block `layer` (-1: none), in the order they fill it; 0 when
 * the tensor has no GGUF counterpart. */
uint32_t gguf_parts_of(const t2g_model_config *model, const gguf_arch *arch, const char *name, int layer,
                       gguf_part *parts);

/* The floats a part fills in t2g's tensor. */
uint64_t gguf_part_floats(const gguf_part *part);

/* Within a block of rows interleaved per head (head_size rows each), the rotate-half row that
 * stored row `stored` holds: stored row 2j + i of a head is its row i head_size/2 + j. */
uint64_t gguf_unpermuted_row(uint64_t stored, uint64_t head_size);

#endif
