/* A Hugging Face folder's weights into t2g's flat parameter buffer, and a t2g model out as a
 * Hugging Face folder (t2g/hf.h). The files' tensors are indexed by their name without the base
 * model's prefix; each t2g tensor is filled from its parts (src/io/hf_names.c), and every tensor
 * of the files must be used by one, or be a known buffer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "core/read_file.h"
#include "io/hf_internal.h"
#include "t2g/hf.h"
#include "t2g/safetensors.h"
#include "t2g/tokenizer.h"
#include "t2g/train.h"

#define INDEX_MAX_BYTES (64u << 20)

/* One tensor of the folder's files. */
typedef struct stored {
    const char *name;                     /* without the base model's prefix */
    const t2g_safetensors_tensor *tensor;
    t2g_safetensors *file;
    bool used;
} stored;

typedef struct weights {
    const char *dir;
    const t2g_model_config *model;
    t2g_safetensors **files;
    uint32_t file_count;
    stored *tensors;                      /* sorted by name */
    uint32_t count;
} weights;

static void close_weights(weights *w) {
    for (uint32_t i = 0; i < w->file_count; i++) t2g_safetensors_close(w->files[i]);
    free(w->files);
    free(w->tensors);
}

static bool exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static t2g_status add_file(weights *w, const char *path, t2g_error *err) {
    t2g_safetensors **grown = realloc(w->files, (w->file_count + 1) * sizeof *grown);
    if (!grown) return t2g_fail(err, T2G_ERR_MEMORY, "%s: out of memory", path);
    w->files = grown;
    t2g_status status = t2g_safetensors_open(path, &w->files[w->file_count], err);
    if (!status) w->file_count++;
    return status;
}

/* ---- the sharded index ---- */

static bool plain_file_name(const char *name) {
    return *name && !strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

/* The shard (a name) of each tensor of the weight map agrees with the shards' own headers. */
static t2g_status check_shards(weights *w, const char *index, const cJSON *map, t2g_error *err) {
    for (uint32_t f = 0; f < w->file_count; f++) {
        const char *path = t2g_safetensors_path(w->files[f]), *shard = strrchr(path, '/') + 1;
        for (uint32_t i = 0; i < t2g_safetensors_count(w->files[f]); i++) {
            const char *name = t2g_safetensors_at(w->files[f], i)->name;
            const cJSON *listed = cJSON_GetObjectItemCaseSensitive(map, name);
            if (!listed || strcmp(listed->valuestring, shard) != 0)
                return t2g_fail(err, T2G_ERR_FORMAT, "%s: tensor %s is in this shard, but %s %s", path, name, index,
                                listed ? "names another shard for it" : "does not list it");
        }
    }
    for (const cJSON *e = map->child; e; e = e->next) {
        uint32_t f = 0;
        while (strcmp(strrchr(t2g_safetensors_path(w->files[f]), '/') + 1, e->valuestring) != 0) f++;
        if (!t2g_safetensors_find(w->files[f], e->string))
            return t2g_fail(err, T2G_ERR_FORMAT, "%s: tensor %s is listed in shard %s, which does not hold it", index,
                            e->string, e->valuestring);
    }
    return T2G_OK;
}

static t2g_status open_shards(weights *w, const char *index, t2g_error *err) {
    char *text = NULL;
    size_t len = 0;
    t2g_status status = t2g_file_read(index, "the safetensors index", (t2g_read_cap){INDEX_MAX_BYTES, NULL}, &text, &len, err);
    if (status) return status;
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    if (!cJSON_IsObject(root) || !cJSON_IsObject(map))
        status = t2g_fail(err, T2G_ERR_FORMAT, "%s: not a JSON object with a \"weight_map\" object", index);
    for (const cJSON *k = root && !status ? root->child : NULL; k && !status; k = k->next)
        if (strcmp(k->string, "weight_map") != 0 && strcmp(k->string, "metadata") != 0)
            status = t2g_fail(err, T2G_ERR_FORMAT, "%s: unknown key \"%s\" (expected metadata, weight_map)", index, k->string);
    for (const cJSON *e = status ? NULL : map->child; e && !status; e = e->next) {
        if (!cJSON_IsString(e) || !plain_file_name(e->valuestring)) {
            status = t2g_fail(err, T2G_ERR_FORMAT, "%s: tensor %s: the shard is not a file name inside the folder", index,
                              e->string);
            break;
        }
        const cJSON *earlier = map->child;
        while (earlier != e && strcmp(earlier->valuestring, e->valuestring) != 0) earlier = earlier->next;
        if (earlier != e) continue; /* a shard already opened */
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", w->dir, e->valuestring);
        status = add_file(w, path, err);
    }
    if (!status) status = check_shards(w, index, map, err);
    cJSON_Delete(root);
    return status;
}

/* ---- the folder's tensors by name ---- */

static int by_name(const void *a, const void *b) { return strcmp(((const stored *)a)->name, ((const stored *)b)->name); }

static t2g_status index_tensors(weights *w, t2g_error *err) {
    uint64_t total = 0;
    for (uint32_t f = 0; f < w->file_count; f++) total += t2g_safetensors_count(w->files[f]);
    w->tensors = calloc(total ? total : 1, sizeof *w->tensors);
    if (!w->tensors) return t2g_fail(err, T2G_ERR_MEMORY, "%s: out of memory for %llu tensors", w->dir, (unsigned long long)total);
    const char *prefix = t2g_hf_prefix(w->model);
    size_t prefix_len = strlen(prefix);
    for (uint32_t f = 0; f < w->file_count; f++)
        for (uint32_t i = 0; i < t2g_safetensors_count(w->files[f]); i++) {
            const t2g_safetensors_tensor *t = t2g_safetensors_at(w->files[f], i);
            bool prefixed = strncmp(t->name, prefix, prefix_len) == 0;
            w->tensors[w->count++] = (stored){prefixed ? t->name + prefix_len : t->name, t, w->files[f], false};
        }
    qsort(w->tensors, w->count, sizeof *w->tensors, by_name);
    for (uint32_t i = 1; i < w->count; i++)
        if (strcmp(w->tensors[i - 1].name, w->tensors[i].name) == 0)
            return t2g_fail(err, T2G_ERR_FORMAT, "%s: tensors %s (%s) and %s (%s) are the same tensor, %s, twice", w->dir,
                            w->tensors[i - 1].tensor->name, t2g_safetensors_path(w->tensors[i - 1].file),
                            w->tensors[i].tensor->name, t2g_safetensors_path(w->tensors[i].file), w->tensors[i].name);
    return T2G_OK;
}

static stored *find(weights *w, const char *name) {
    stored key = {.name = name};
    return bsearch(&key, w->tensors, w->count, sizeof *w->tensors, by_name);
}

static t2g_status open_weights(weights *w, t2g_error *err) {
    char single[4200], index[4200];
    snprintf(single, sizeof single, "%s/model.safetensors", w->dir);
    snprintf(index, sizeof index, "%s/model.safetensors.index.json", w->dir);
    t2g_status status;
    if (exists(single))
        status = add_file(w, single, err);
    else if (exists(index))
        status = open_shards(w, index, err);
    else
        status = t2g_fail(err, T2G_ERR_IO, "%s: neither model.safetensors nor model.safetensors.index.json is there", w->dir);
    return status ? status : index_tensors(w, err);
}

/* ---- reading ---- */

static void format_shape(char *out, size_t size, uint32_t rank, const uint64_t *shape) {
    size_t used = (size_t)snprintf(out, size, "[");
    for (uint32_t i = 0; i < rank && used < size; i++)
        used += (size_t)snprintf(out + used, size - used, "%s%llu", i ? ", " : "", (unsigned long long)shape[i]);
    if (used < size) snprintf(out + used, size - used, "]");
}

static t2g_status check_shape(const stored *s, const hf_part *part, t2g_error *err) {
    const t2g_safetensors_tensor *t = s->tensor;
    bool same = t->rank == part->rank;
    for (uint32_t i = 0; same && i < part->rank; i++) same = t->shape[i] == part->shape[i];
    if (same) return T2G_OK;
    char found[128], expected[64];
    format_shape(found, sizeof found, t->rank, t->shape);
    format_shape(expected, sizeof expected, part->rank, part->shape);
    return t2g_fail(err, T2G_ERR_FORMAT, "%s: tensor %s has shape %s; config.json implies %s", t2g_safetensors_path(s->file),
                    t->name, found, expected);
}

/* Part `part` of the t2g tensor at `dst` (its rows x cols floats). */
static t2g_status read_part(stored *s, const hf_part *part, float *dst, t2g_error *err) {
    if (!part->transposed)
        return t2g_safetensors_read_range(s->file, s->tensor, 0, part->elements, dst + part->offset, err);
    uint64_t in = part->shape[0], out = part->shape[1]; /* stored (in, out); t2g (out, in) */
    float *stored_order = malloc(part->elements * sizeof *stored_order);
    if (!stored_order)
        return t2g_fail(err, T2G_ERR_MEMORY, "%s: out of memory for tensor %s", t2g_safetensors_path(s->file), s->tensor->name);
    t2g_status status = t2g_safetensors_read_f32(s->file, s->tensor, stored_order, part->elements, err);
    for (uint64_t i = 0; !status && i < in; i++)
        for (uint64_t o = 0; o < out; o++) dst[o * in + i] = stored_order[i * out + o];
    free(stored_order);
    return status;
}

static t2g_status read_param(weights *w, const t2g_gpt_param *p, uint64_t positions, float *params, t2g_error *err) {
    hf_part parts[HF_MAX_PARTS];
    uint32_t n;
    t2g_status status = t2g_hf_parts(w->model, positions, p, parts, &n, err);
    for (uint32_t k = 0; k < n && !status; k++) {
        stored *s = find(w, parts[k].name);
        if (!s)
            return t2g_fail(err, T2G_ERR_FORMAT, "%s: tensor %s%s (t2g's %s, layer %d) is missing from %s", w->dir,
                            parts[k].prefixed ? t2g_hf_prefix(w->model) : "", parts[k].name, p->name, p->layer,
                            w->file_count == 1 ? "model.safetensors" : "the shards of model.safetensors.index.json");
        status = check_shape(s, &parts[k], err);
        if (!status) status = read_part(s, &parts[k], params + p->offset, err);
        s->used = true;
    }
    return status;
}

/* A tied model's lm_head.weight, when the file has one, must be the embedding. */
static t2g_status check_tied_head(weights *w, const t2g_gpt_param *table, uint32_t count, const float *params,
                                  t2g_error *err) {
    stored *head = find(w, "lm_head.weight");
    if (!head || !w->model->tied_head) return T2G_OK;
    uint32_t e = 0;
    while (e < count && !(strcmp(table[e].name, "wte") == 0 && table[e].layer == -1)) e++;
    hf_part part = {.rank = 2, .shape = {w->model->vocab, w->model->width}};
    t2g_status status = check_shape(head, &part, err);
    enum { CHUNK = 16384 };
    float chunk[CHUNK];
    uint64_t elements = (uint64_t)w->model->vocab * w->model->width;
    for (uint64_t done = 0; !status && done < elements; done += CHUNK) {
        uint64_t n = elements - done < CHUNK ? elements - done : CHUNK;
        status = t2g_safetensors_read_range(head->file, head->tensor, done, n, chunk, err);
        if (!status && memcmp(chunk, params + table[e].offset + done, n * sizeof *chunk) != 0)
            status = t2g_fail(err, T2G_ERR_FORMAT,
                              "%s: tensor %s differs from the embedding, but config.json ties them (tie_word_embeddings)",
                              t2g_safetensors_path(head->file), head->tensor->name);
    }
    head->used = true;
    return status;
}

static t2g_status refuse_unused(weights *w, t2g_error *err) {
    for (uint32_t i = 0; i < w->count; i++)
        if (!w->tensors[i].used && !t2g_hf_is_buffer(w->model, w->tensors[i].name))
            return t2g_fail(err, T2G_ERR_FORMAT,
                            "%s: tensor %s fills no tensor of t2g's %s model (config.json): refused rather than ignored",
                            t2g_safetensors_path(w->tensors[i].file), w->tensors[i].tensor->name,
                            w->model->arch == T2G_ARCH_GPT2 ? "gpt2" : "llama");
    return T2G_OK;
}

/* `model` is the folder's, up to its context: a field that differs is named. */
static t2g_status check_model(const char *dir, const t2g_model_config *model, const t2g_model_config *folder,
                              t2g_error *err) {
    const struct {
        const char *key;
        double given, theirs;
    } fields[] = {
        {"arch", model->arch, folder->arch},
        {"vocab", model->vocab, folder->vocab},
        {"layers", model->layers, folder->layers},
        {"heads", model->heads, folder->heads},
        {"width", model->width, folder->width},
        {"kv_heads", t2g_model_kv_heads(model), t2g_model_kv_heads(folder)},
        {"ffn_width", t2g_model_ffn_width(model), t2g_model_ffn_width(folder)},
        {"rope_theta", model->rope_theta, folder->rope_theta},
        {"norm_eps", model->norm_eps, folder->norm_eps},
        {"qkv_bias", model->qkv_bias, folder->qkv_bias},
        {"tied_head", model->tied_head, folder->tied_head},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (fields[i].given != fields[i].theirs)
            return t2g_fail(err, T2G_ERR_ARGUMENT, "%s/config.json gives model.%s = %.17g; the model given has %.17g", dir,
                            fields[i].key, fields[i].theirs, fields[i].given);
    if (model->context > folder->context)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "%s/config.json: the model's context %u is longer than the folder's %u", dir,
                        model->context, folder->context);
    return T2G_OK;
}

t2g_status t2g_hf_read_weights(const char *dir, const t2g_model_config *model, const t2g_gpt_param *table,
                               uint32_t count, float *params, t2g_error *err) {
    t2g_model_config folder;
    uint64_t positions = 0;
    t2g_status status = t2g_hf_config_read(dir, 0, &folder, &positions, err);
    if (!status) status = check_model(dir, model, &folder, err);
    if (!status) status = t2g_hf_check_table(model, table, count, err);
    if (status) return status;
    weights w = {.dir = dir, .model = model};
    status = open_weights(&w, err);
    for (uint32_t i = 0; i < count && !status; i++) status = read_param(&w, &table[i], positions, params, err);
    if (!status) status = check_tied_head(&w, table, count, params, err);
    if (!status) status = refuse_unused(&w, err);
    close_weights(&w);
    return status;
}

/* ---- writing ---- */

static t2g_status write_json(const char *dir, const char *file, char *text, t2g_error *err) {
    if (!text) return t2g_fail(err, T2G_ERR_MEMORY, "%s/%s: out of memory", dir, file);
    t2g_status status = t2g_write_file_atomic(dir, file, text, strlen(text), err);
    free(text);
    return status;
}

static t2g_status write_weights(const char *dir, const t2g_model_config *m, const t2g_gpt_param *table, uint32_t count,
                                const float *params, t2g_error *err) {
    t2g_safetensors_entry *entries = calloc((size_t)count * HF_MAX_PARTS + 1, sizeof *entries);
    char (*names)[128] = calloc((size_t)count * HF_MAX_PARTS + 1, sizeof *names);
    if (!entries || !names) {
        free(entries);
        free(names);
        return t2g_fail(err, T2G_ERR_MEMORY, "%s: out of memory for %u tensors", dir, count);
    }
    uint32_t n = 0;
    t2g_status status = T2G_OK;
    for (uint32_t i = 0; i < count && !status; i++) {
        hf_part parts[HF_MAX_PARTS];
        uint32_t k;
        status = t2g_hf_parts(m, m->context, &table[i], parts, &k, err);
        for (uint32_t j = 0; j < k && !status; j++, n++) {
            int len = snprintf(names[n], sizeof names[n], "%s%s", parts[j].prefixed ? t2g_hf_prefix(m) : "", parts[j].name);
            if (len < 0 || len >= (int)sizeof names[n]) status = t2g_fail(err, T2G_ERR_ARGUMENT, "%s: too long a name", dir);
            entries[n] = (t2g_safetensors_entry){.name = names[n], .rank = parts[j].rank, .data = params + table[i].offset + parts[j].offset,
                                                 .transposed = parts[j].transposed, .dtype = T2G_DTYPE_F32};
            memcpy(entries[n].shape, parts[j].shape, sizeof parts[j].shape);
        }
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (!status) status = t2g_safetensors_write(path, entries, n, err);
    free(entries);
    free(names);
    return status;
}

/* A copy of text for write_json, which frees what it writes. */
static char *copy_of(const char *text) { return text ? strdup(text) : NULL; }

t2g_status t2g_hf_write(const char *dir, const t2g_model_config *m, const t2g_gpt_param *table, uint32_t count,
                        const float *params, const t2g_hf_text *text, t2g_error *err) {
    if (!dir || !*dir || strlen(dir) > 4000) return t2g_fail(err, T2G_ERR_ARGUMENT, "writing a Hugging Face folder: no folder, or too long a path");
    if (m->vocab < T2G_BYTE_VOCAB || !m->heads || m->width % m->heads || m->heads % t2g_model_kv_heads(m))
        return t2g_fail(err, T2G_ERR_ARGUMENT,
                        "%s: the model (vocab %u, width %u, heads %u, kv_heads %u) does not fit t2g's byte tokenizer "
                        "(vocab >= 259) or its heads do not divide",
                        dir, m->vocab, m->width, m->heads, t2g_model_kv_heads(m));
    t2g_status status = t2g_hf_check_table(m, table, count, err);
    if (status) return status;
    struct stat st;
    if (mkdir(dir, 0755) != 0 && !(errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode)))
        return t2g_fail(err, T2G_ERR_IO, "cannot create the folder %s: %s", dir,
                        errno == EEXIST ? "a file of that name is there" : strerror(errno));
    status = write_weights(dir, m, table, count, params, err);
    if (!status) status = write_json(dir, "config.json", t2g_hf_config_json(m, text), err);
    if (!status) status = write_json(dir, "generation_config.json", t2g_hf_generation_config_json(text), err);
    if (!status)
        status = write_json(dir, "tokenizer.json", text ? copy_of(text->tokenizer_json) : t2g_hf_tokenizer_json(), err);
    if (!status && (!text || text->tokenizer_config_json))
        status = write_json(dir, "tokenizer_config.json",
                            text ? copy_of(text->tokenizer_config_json) : t2g_hf_tokenizer_config_json(m), err);
    return status;
}
