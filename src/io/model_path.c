/* What a model path names (t2g/model_path.h), and the identity a run records of its start. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "core/read_file.h"
#include "t2g/checkpoint.h"
#include "t2g/model_path.h"

#define INDEX_MAX_BYTES (64u << 20) /* model.safetensors.index.json */
#define CRC_CHUNK (1u << 20)

static const char LOOKED_FOR[] =
    "a model is a t2g checkpoint file, a t2g run folder (with checkpoint.bin), a Hugging Face folder (with "
    "config.json and model.safetensors or model.safetensors.index.json) or a GGUF file";

static bool is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool ends_with(const char *text, const char *suffix) {
    size_t n = strlen(text), k = strlen(suffix);
    return n >= k && strcmp(text + n - k, suffix) == 0;
}

/* <dir>/<file> into out; false when it does not fit. */
static bool join(char *out, size_t size, const char *dir, const char *file) {
    int n = snprintf(out, size, "%s/%s", dir, file);
    return n >= 0 && (size_t)n < size;
}

static bool starts_with_gguf(const char *path) {
    FILE *file = fopen(path, "rb");
    char magic[4] = {0};
    bool gguf = file && fread(magic, 1, 4, file) == 4 && memcmp(magic, "GGUF", 4) == 0;
    if (file) fclose(file);
    return gguf;
}

static t2g_status classify_file(const char *path, t2g_model_path_kind *kind, t2g_error *err) {
    if (ends_with(path, ".gguf") || starts_with_gguf(path)) {
        *kind = T2G_MODEL_GGUF;
        return T2G_OK;
    }
    if (ends_with(path, ".safetensors"))
        return t2g_fail(err, T2G_ERR_ARGUMENT,
                        "%s: a single safetensors file is not a model: give its Hugging Face folder (with config.json)",
                        path);
    *kind = T2G_MODEL_CHECKPOINT;
    return T2G_OK;
}

static t2g_status classify_folder(const char *path, t2g_model_path_kind *kind, char *file, size_t size, t2g_error *err) {
    char config[4200], single[4200], index[4200];
    if (!join(file, size, path, "checkpoint.bin") || !join(config, sizeof config, path, "config.json") ||
        !join(single, sizeof single, path, "model.safetensors") ||
        !join(index, sizeof index, path, "model.safetensors.index.json"))
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: the path is too long", path);
    if (is_file(file)) {
        *kind = T2G_MODEL_RUN;
        return T2G_OK;
    }
    bool weights = is_file(single) || is_file(index);
    if (is_file(config) && weights) {
        *kind = T2G_MODEL_HF;
        return T2G_OK;
    }
    if (is_file(config))
        return t2g_fail(err, T2G_ERR_ARGUMENT,
                        "%s: has config.json but neither model.safetensors nor model.safetensors.index.json: t2g reads "
                        "a Hugging Face model's weights from safetensors files only",
                        path);
    if (weights)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: has safetensors weights but no config.json: not a Hugging Face folder",
                        path);
    return t2g_fail(err, T2G_ERR_ARGUMENT,
                    "%s: a folder with neither checkpoint.bin nor config.json and model.safetensors (or "
                    "model.safetensors.index.json): %s",
                    path, LOOKED_FOR);
}

t2g_status t2g_model_path(const char *path, t2g_model_path_kind *kind, char *resolved, size_t size, t2g_error *err) {
    if (!path || !*path) return t2g_fail(err, T2G_ERR_ARGUMENT, "no model path given (%s)", LOOKED_FOR);
    struct stat st;
    if (stat(path, &st) != 0)
        return t2g_fail(err, T2G_ERR_IO, "%s: %s (%s)", path, errno == ENOENT ? "no such file or folder" : strerror(errno),
                        LOOKED_FOR);
    t2g_status status;
    if (S_ISDIR(st.st_mode)) {
        status = classify_folder(path, kind, resolved, size, err);
        if (status || *kind == T2G_MODEL_RUN) return status;
    } else if (S_ISREG(st.st_mode)) {
        status = classify_file(path, kind, err);
        if (status) return status;
    } else {
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: neither a regular file nor a folder (%s)", path, LOOKED_FOR);
    }
    int n = snprintf(resolved, size, "%s", path);
    if (n < 0 || (size_t)n >= size) return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: the path is too long", path);
    return T2G_OK;
}

const char *t2g_model_path_kind_name(t2g_model_path_kind kind) {
    switch (kind) {
    case T2G_MODEL_CHECKPOINT: return "t2g checkpoint";
    case T2G_MODEL_RUN: return "t2g run folder";
    case T2G_MODEL_HF: return "Hugging Face folder";
    case T2G_MODEL_GGUF: return "GGUF file";
    }
    return "unknown";
}

/* ---- identity ---- */

static t2g_status crc_file(const char *path, uint32_t *crc, t2g_error *err) {
    FILE *file;
    t2g_status status = t2g_file_open(path, "a model file", &file, NULL, err);
    if (status) return status;
    unsigned char *chunk = malloc(CRC_CHUNK);
    if (!chunk) {
        fclose(file);
        return t2g_fail(err, T2G_ERR_MEMORY, "%s: out of host memory", path);
    }
    size_t got;
    while ((got = fread(chunk, 1, CRC_CHUNK, file)) > 0) *crc = t2g_crc32(*crc, chunk, got);
    bool failed = ferror(file) != 0;
    free(chunk);
    fclose(file);
    if (failed) return t2g_fail(err, T2G_ERR_IO, "%s: a read failed", path);
    return T2G_OK;
}

static int by_string(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The shard names of model.safetensors.index.json's weight_map, sorted, each once. */
static t2g_status crc_shards(const char *dir, const char *index, uint32_t *crc, t2g_error *err) {
    char *text;
    size_t len;
    t2g_status status = t2g_file_read(index, "the safetensors index", (t2g_read_cap){INDEX_MAX_BYTES, NULL}, &text, &len, err);
    if (status) return status;
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    int count = cJSON_GetArraySize(map);
    const char **names = calloc(count ? (size_t)count : 1, sizeof *names);
    if (!cJSON_IsObject(map) || !names) status = t2g_fail(err, T2G_ERR_FORMAT, "%s: no weight_map object", index);
    int i = 0;
    for (const cJSON *entry = map ? map->child : NULL; entry && !status; entry = entry->next, i++) {
        if (!cJSON_IsString(entry) || strchr(entry->valuestring, '/'))
            status = t2g_fail(err, T2G_ERR_FORMAT, "%s: weight_map[\"%s\"] is not a file name in the folder", index,
                              entry->string);
        else names[i] = entry->valuestring;
    }
    if (!status) qsort(names, (size_t)count, sizeof *names, by_string);
    char path[4200];
    for (i = 0; i < count && !status; i++) {
        if (i && strcmp(names[i], names[i - 1]) == 0) continue;
        status = join(path, sizeof path, dir, names[i]) ? crc_file(path, crc, err)
                                                        : t2g_fail(err, T2G_ERR_ARGUMENT, "%s: too long a path", dir);
    }
    free(names);
    cJSON_Delete(root);
    return status;
}

static t2g_status hf_crc(const char *dir, uint32_t *crc, t2g_error *err) {
    char config[4200], single[4200], index[4200];
    if (!join(config, sizeof config, dir, "config.json") || !join(single, sizeof single, dir, "model.safetensors") ||
        !join(index, sizeof index, dir, "model.safetensors.index.json"))
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: the path is too long", dir);
    t2g_status status = crc_file(config, crc, err);
    if (status) return status;
    if (is_file(single)) return crc_file(single, crc, err);
    status = crc_file(index, crc, err);
    return status ? status : crc_shards(dir, index, crc, err);
}

t2g_status t2g_model_path_crc(const char *path, uint32_t *crc, t2g_error *err) {
    *crc = 0;
    t2g_model_path_kind kind;
    char resolved[4200];
    t2g_status status = t2g_model_path(path, &kind, resolved, sizeof resolved, err);
    if (status) return status;
    if (kind == T2G_MODEL_GGUF) return crc_file(resolved, crc, err);
    return kind == T2G_MODEL_HF ? hf_crc(resolved, crc, err) : t2g_checkpoint_stored_crc(resolved, crc, err);
}
