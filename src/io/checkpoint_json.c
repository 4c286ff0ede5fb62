/* A version 4 checkpoint's directory as JSON text (t2g/checkpoint.h): written from a planned
 * directory, and parsed strictly (every key known and there once, every value of its type and
 * range) before the checks of checkpoint_directory.c. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "io/checkpoint_directory.h"
#include "io/checkpoint_internal.h"

/* ---- writing ---- */

/* A whole number as JSON number text (cJSON would print a double). */
static bool add_whole(cJSON *object, const char *key, uint64_t value) {
    char text[24];
    snprintf(text, sizeof text, "%llu", (unsigned long long)value);
    return cJSON_AddRawToObject(object, key, text) != NULL;
}

/* A 64-bit integer as a string of decimal digits (a JSON number is a double). */
static bool add_u64_string(cJSON *object, const char *key, uint64_t value) {
    char text[24];
    snprintf(text, sizeof text, "%llu", (unsigned long long)value);
    return cJSON_AddStringToObject(object, key, text) != NULL;
}

static bool add_tensor(cJSON *list, const ckpt_tensor *t) {
    cJSON *entry = cJSON_CreateObject(), *shape = NULL;
    if (!entry || !cJSON_AddItemToArray(list, entry)) {
        cJSON_Delete(entry);
        return false;
    }
    bool ok = cJSON_AddStringToObject(entry, "name", t->name) && cJSON_AddStringToObject(entry, "dtype", "f32") &&
              (shape = cJSON_AddArrayToObject(entry, "shape"));
    for (uint32_t d = 0; d < t->rank && ok; d++) {
        char text[24];
        snprintf(text, sizeof text, "%llu", (unsigned long long)t->shape[d]);
        cJSON *dim = cJSON_CreateRaw(text);
        ok = dim && cJSON_AddItemToArray(shape, dim);
    }
    ok = ok && add_whole(entry, "offset", t->offset) && add_whole(entry, "bytes", t->bytes);
    if (t->group <= GROUP_V) ok = ok && add_whole(entry, "buffer_offset", t->buffer_offset);
    return ok;
}

/* The fewest significant digits (15 to 17) that read back as exactly x (17 always do). */
static void shortest_exact(double x, char *text, size_t size) {
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(text, size, "%.*g", digits, x);
        double back = strtod(text, NULL);
        if (memcmp(&back, &x, sizeof x) == 0) return;
    }
}

char *ckpt_directory_json(const ckpt_directory *dir) {
    const t2g_checkpoint *s = &dir->scalars;
    cJSON *root = cJSON_CreateObject(), *cursor = NULL, *tensors = NULL;
    char scalar[40];
    shortest_exact(s->aux_scalar, scalar, sizeof scalar);
    bool ok = root && add_u64_string(root, "step", s->step) && (cursor = cJSON_AddObjectToObject(root, "data_cursor")) &&
              add_u64_string(cursor, "seed", s->cursor.seed) && add_u64_string(cursor, "epoch", s->cursor.epoch) &&
              add_u64_string(cursor, "position", s->cursor.position) && add_u64_string(root, "rng_state", s->rng_state) &&
              cJSON_AddStringToObject(root, "run_kind", t2g_run_kind_name(s->kind)) &&
              add_whole(root, "start_crc", s->start_crc) && cJSON_AddRawToObject(root, "aux_scalar", scalar) &&
              cJSON_AddStringToObject(root, "config", dir->config) && add_whole(root, "buffer_floats", s->param_count) &&
              add_whole(root, "data_bytes", dir->data_bytes) &&
              (!s->tokenizer_json || cJSON_AddStringToObject(root, "tokenizer", s->tokenizer_json)) &&
              (!s->tokenizer_config_json || cJSON_AddStringToObject(root, "tokenizer_config", s->tokenizer_config_json)) &&
              (tensors = cJSON_AddArrayToObject(root, "tensors"));
    for (uint32_t i = 0; i < dir->count && ok; i++) ok = add_tensor(tensors, &dir->tensors[i]);
    char *text = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    return text;
}

/* ---- parsing ---- */

/* A JSON number that is a whole number below 2^64 (past 2^53 not every one is exact, but every
 * such size is past the end of any file, and refused as that). */
static bool whole(const cJSON *item, uint64_t *value) {
    if (!cJSON_IsNumber(item)) return false;
    double d = item->valuedouble;
    if (!(d >= 0 && d < 18446744073709551616.0) || d != floor(d)) return false;
    *value = (uint64_t)d;
    return true;
}

/* A string of 1 to 20 decimal digits whose value fits 64 bits. */
static bool decimal_u64(const cJSON *item, uint64_t *value) {
    const char *s = cJSON_IsString(item) ? item->valuestring : NULL;
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 20) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10) return false;
        v = 10 * v + (uint64_t)(s[i] - '0');
    }
    *value = v;
    return true;
}

/* The members of an object, each by its key into slots[i] for keys[i]: an unknown key, one
 * there twice or one missing (the first `required` keys) is an error naming it and `what`. */
static t2g_status members(const cJSON *object, const char *what, const char *const *keys, int count, int required,
                          const cJSON **slots, t2g_error *err) {
    if (!cJSON_IsObject(object)) return t2g_fail(err, T2G_ERR_FORMAT, "%s is not a JSON object", what);
    for (int k = 0; k < count; k++) slots[k] = NULL;
    for (const cJSON *m = object->child; m; m = m->next) {
        int k = 0;
        while (k < count && strcmp(keys[k], m->string) != 0) k++;
        if (k == count) return t2g_fail(err, T2G_ERR_FORMAT, "%s: an unknown key \"%s\"", what, m->string);
        if (slots[k]) return t2g_fail(err, T2G_ERR_FORMAT, "%s: the key \"%s\" appears twice", what, m->string);
        slots[k] = m;
    }
    for (int k = 0; k < required; k++)
        if (!slots[k]) return t2g_fail(err, T2G_ERR_FORMAT, "%s: no key \"%s\"", what, keys[k]);
    return T2G_OK;
}

static t2g_status parse_shape(const cJSON *shape, ckpt_tensor *t, t2g_error *err) {
    int rank = cJSON_IsArray(shape) ? cJSON_GetArraySize(shape) : 0;
    if (rank < 1 || rank > 2)
        return t2g_fail(err, T2G_ERR_FORMAT, "tensor %s: \"shape\" is not an array of 1 or 2 sizes", t->name);
    t->rank = (uint32_t)rank;
    t->elements = 1;
    bool overflow = false;
    uint32_t d = 0;
    for (const cJSON *dim = shape->child; dim; dim = dim->next, d++) {
        if (!whole(dim, &t->shape[d]))
            return t2g_fail(err, T2G_ERR_FORMAT, "tensor %s: shape entry %u is not a whole number", t->name, d);
        if (t->group <= GROUP_V && t->shape[d] > UINT32_MAX) overflow = true; /* rows and cols are 32-bit */
        if (t->shape[d] && t->elements > UINT64_MAX / 4 / t->shape[d]) overflow = true;
        else t->elements *= t->shape[d];
    }
    if (overflow) return t2g_fail(err, T2G_ERR_FORMAT, "tensor %s: its shape is too large", t->name);
    return T2G_OK;
}

static t2g_status parse_tensor(const cJSON *entry, uint64_t data_bytes, ckpt_tensor *t, t2g_error *err) {
    static const char *const keys[] = {"name", "dtype", "shape", "offset", "bytes", "buffer_offset"};
    const cJSON *v[6];
    t2g_status status = members(entry, "a tensor of the directory", keys, 6, 5, v, err);
    if (status) return status;
    if (!cJSON_IsString(v[0]) || strlen(v[0]->valuestring) >= sizeof t->name)
        return t2g_fail(err, T2G_ERR_FORMAT, "a tensor's \"name\" is not a string of at most %d bytes",
                        (int)sizeof t->name - 1);
    snprintf(t->name, sizeof t->name, "%s", v[0]->valuestring);
    if (!ckpt_tensor_classify(t))
        return t2g_fail(err, T2G_ERR_FORMAT,
                        "tensor %s: not a name a checkpoint holds (params, adamw_m or adamw_v, whole or /<tensor> "
                        "or /h.<block>.<tensor>; value_head/params, value_head/adamw_m, value_head/adamw_v)",
                        t->name);
    if (!cJSON_IsString(v[1]) || strcmp(v[1]->valuestring, "f32") != 0)
        return t2g_fail(err, T2G_ERR_FORMAT, "tensor %s: dtype %s%s%s is not one a checkpoint holds (\"f32\")", t->name,
                        cJSON_IsString(v[1]) ? "\"" : "", cJSON_IsString(v[1]) ? v[1]->valuestring : "(not a string)",
                        cJSON_IsString(v[1]) ? "\"" : "");
    status = parse_shape(v[2], t, err);
    if (status) return status;
    if (!whole(v[3], &t->offset) || !whole(v[4], &t->bytes))
        return t2g_fail(err, T2G_ERR_FORMAT, "tensor %s: \"offset\" and \"bytes\" are not whole numbers", t->name);
    if (t->bytes != 4 * t->elements)
        return t2g_fail(err, T2G_ERR_FORMAT, "tensor %s: %llu f32 elements are %llu bytes; its entry says %llu", t->name,
                        (unsigned long long)t->elements, (unsigned long long)(4 * t->elements),
                        (unsigned long long)t->bytes);
    if (t->offset > data_bytes || t->bytes > data_bytes - t->offset)
        return t2g_fail(err, T2G_ERR_FORMAT, "tensor %s: bytes %llu to %llu lie past the end of the data (%llu bytes)",
                        t->name, (unsigned long long)t->offset, (unsigned long long)t->offset + t->bytes,
                        (unsigned long long)data_bytes);
    if ((v[5] != NULL) != (t->group <= GROUP_V) || (v[5] && !whole(v[5], &t->buffer_offset)))
        return t2g_fail(err, T2G_ERR_FORMAT,
                        "tensor %s: a \"buffer_offset\" (a whole number) belongs to the tensors of params, adamw_m and "
                        "adamw_v, and only to them",
                        t->name);
    return T2G_OK;
}

/* The scalars: step, cursor, rng state, kind, start CRC, auxiliary scalar. */
static t2g_status parse_scalars(const cJSON *const *v, t2g_checkpoint *s, t2g_error *err) {
    static const char *const cursor_keys[] = {"seed", "epoch", "position"};
    const cJSON *c[3];
    t2g_status status = members(v[1], "\"data_cursor\"", cursor_keys, 3, 3, c, err);
    if (status) return status;
    uint64_t crc = 0;
    if (!decimal_u64(v[0], &s->step) || !decimal_u64(c[0], &s->cursor.seed) || !decimal_u64(c[1], &s->cursor.epoch) ||
        !decimal_u64(c[2], &s->cursor.position) || !decimal_u64(v[2], &s->rng_state))
        return t2g_fail(err, T2G_ERR_FORMAT,
                        "\"step\", \"rng_state\" and the data cursor's values are 64-bit integers as strings of decimal digits");
    const char *kind = cJSON_IsString(v[3]) ? v[3]->valuestring : "";
    s->kind = strcmp(kind, "train") == 0 ? T2G_RUN_TRAIN : strcmp(kind, "rl") == 0 ? T2G_RUN_RL : T2G_RUN_UNKNOWN;
    if (s->kind == T2G_RUN_UNKNOWN)
        return t2g_fail(err, T2G_ERR_FORMAT, "\"run_kind\" is neither \"train\" nor \"rl\"");
    if (!whole(v[4], &crc) || crc > UINT32_MAX)
        return t2g_fail(err, T2G_ERR_FORMAT, "\"start_crc\" is not a CRC-32 (a whole number below 2^32)");
    s->start_crc = (uint32_t)crc;
    if (!cJSON_IsNumber(v[5]) || !isfinite(v[5]->valuedouble))
        return t2g_fail(err, T2G_ERR_FORMAT, "\"aux_scalar\" is not a finite number");
    s->aux_scalar = v[5]->valuedouble;
    return T2G_OK;
}

static t2g_status parse_root(const cJSON *root, uint64_t data_start, uint64_t file_bytes, ckpt_directory *dir,
                             t2g_error *err) {
    uint64_t file_data_bytes = file_bytes - data_start - CKPT_CRC_BYTES;
    static const char *const keys[] = {"step",   "data_cursor",   "rng_state",  "run_kind", "start_crc",
                                       "aux_scalar", "config", "buffer_floats", "data_bytes", "tensors",
                                       "tokenizer", "tokenizer_config"};
    const cJSON *v[12];
    t2g_status status = members(root, "the directory", keys, 12, 10, v, err);
    if (!status) status = parse_scalars(v, &dir->scalars, err);
    if (status) return status;
    if (!cJSON_IsString(v[6])) return t2g_fail(err, T2G_ERR_FORMAT, "\"config\" is not a string");
    if (!whole(v[7], &dir->scalars.param_count) || !whole(v[8], &dir->data_bytes))
        return t2g_fail(err, T2G_ERR_FORMAT, "\"buffer_floats\" and \"data_bytes\" are not whole numbers");
    if (dir->data_bytes > file_data_bytes)
        return t2g_fail(err, T2G_ERR_FORMAT,
                        "truncated: its directory describes %llu bytes of data (from byte %llu), the file has %llu bytes",
                        (unsigned long long)dir->data_bytes, (unsigned long long)data_start, (unsigned long long)file_bytes);
    if (dir->data_bytes < file_data_bytes)
        return t2g_fail(err, T2G_ERR_FORMAT, "corrupted: the file has %llu bytes, %llu more than its directory describes",
                        (unsigned long long)file_bytes, (unsigned long long)(file_data_bytes - dir->data_bytes));
    int count = cJSON_IsArray(v[9]) ? cJSON_GetArraySize(v[9]) : -1;
    if (count < 0) return t2g_fail(err, T2G_ERR_FORMAT, "\"tensors\" is not an array");
    dir->parsed_config = strdup(v[6]->valuestring);
    dir->tensors = calloc(count ? (size_t)count : 1, sizeof *dir->tensors);
    if (!dir->parsed_config || !dir->tensors)
        return t2g_fail(err, T2G_ERR_MEMORY, "out of memory for a directory of %d tensors", count);
    dir->config = dir->parsed_config;
    for (int k = 10; k < 12; k++) {
        if (!v[k]) continue;
        if (!cJSON_IsString(v[k])) return t2g_fail(err, T2G_ERR_FORMAT, "\"%s\" is not a string", keys[k]);
        char **slot = k == 10 ? &dir->parsed_tokenizer : &dir->parsed_tokenizer_config;
        if (!(*slot = strdup(v[k]->valuestring))) return t2g_fail(err, T2G_ERR_MEMORY, "out of memory for \"%s\"", keys[k]);
    }
    for (const cJSON *e = v[9]->child; e && !status; e = e->next)
        status = parse_tensor(e, dir->data_bytes, &dir->tensors[dir->count++], err);
    return status;
}

t2g_status ckpt_directory_parse(const char *text, size_t len, uint64_t data_start, uint64_t file_bytes,
                                ckpt_directory *dir, t2g_error *err) {
    memset(dir, 0, sizeof *dir);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!root) {
        if (!end || end < text || end > text + len) end = text;
        return t2g_fail(err, T2G_ERR_FORMAT, "corrupted: its directory is not JSON (at byte %zu of %zu)",
                        (size_t)(end - text), len);
    }
    t2g_status status = T2G_OK;
    for (const char *p = end; p < text + len && !status; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            status = t2g_fail(err, T2G_ERR_FORMAT, "corrupted: its directory holds more than one JSON value (byte %zu)",
                              (size_t)(p - text));
    if (!status) status = parse_root(root, data_start, file_bytes, dir, err);
    cJSON_Delete(root);
    if (!status) status = ckpt_directory_check(dir, err);
    return status;
}
