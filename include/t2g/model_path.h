/* What a model path names, in one place: every command that takes a model (model.from, rl.start,
 * --model, t2g export) asks here.
 *
 *   a t2g checkpoint file      any regular file but the two below (t2g_checkpoint_load checks it)
 *   a t2g run folder           a folder holding checkpoint.bin
 *   a Hugging Face folder      a folder holding config.json and model.safetensors or
 *                              model.safetensors.index.json, and no checkpoint.bin (t2g/hf.h)
 *   a GGUF file                a file named *.gguf or starting with "GGUF" (t2g/gguf_model.h)
 *   a single .safetensors file refused: its folder (with config.json) is the model
 *
 * Anything else is an error naming the path and what was looked for. */
#ifndef T2G_MODEL_PATH_H
#define T2G_MODEL_PATH_H

#include <stddef.h>
#include <stdint.h>

#include "t2g/status.h"

typedef enum t2g_model_path_kind {
    T2G_MODEL_CHECKPOINT = 1, /* a t2g checkpoint file */
    T2G_MODEL_RUN = 2,        /* a t2g run folder: its checkpoint.bin */
    T2G_MODEL_HF = 3,         /* a Hugging Face folder */
    T2G_MODEL_GGUF = 4,       /* a GGUF file */
} t2g_model_path_kind;

/* What `path` names; `resolved` (size bytes) receives the file to load for a checkpoint or a run
 * folder (path, or path/checkpoint.bin) and the folder itself for a Hugging Face folder. */
t2g_status t2g_model_path(const char *path, t2g_model_path_kind *kind, char *resolved, size_t size, t2g_error *err);

/* "t2g checkpoint", "t2g run folder", "Hugging Face folder", "GGUF file". */
const char *t2g_model_path_kind_name(t2g_model_path_kind kind);

/* The identity of the model at `path` (what a run records as its start, checkpoint v3's start
 * CRC): a checkpoint's (or run folder's checkpoint.bin's) stored CRC-32; for a Hugging Face
 * folder, the CRC-32 (t2g_crc32, continued file after file) of the bytes of config.json, then of
 * model.safetensors or, when there is none, of model.safetensors.index.json and the shard files
 * it names, in the order of their names; for a GGUF file, the CRC-32 of its bytes. A folder or
 * file whose bytes change gives another CRC. */
t2g_status t2g_model_path_crc(const char *path, uint32_t *crc, t2g_error *err);

#endif
