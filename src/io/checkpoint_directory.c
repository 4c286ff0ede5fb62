/* A version 4 checkpoint's directory: planned from a checkpoint to save, and the checks of its
 * tensors that the saver and the loader share (t2g/checkpoint.h lists them). */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/checkpoint_directory.h"
#include "io/checkpoint_internal.h"

static const char *const group_names[GROUP_COUNT] = {
    "params", "adamw_m", "adamw_v", "value_head/params", "value_head/adamw_m", "value_head/adamw_v",
};
enum { PADDING_PER_TENSOR = 64 }; /* floats of the flat buffer a tensor may leave unused */

const char *ckpt_tensor_key(const ckpt_tensor *t) {
    const char *slash = t->group <= GROUP_V ? strchr(t->name, '/') : NULL;
    return slash ? slash + 1 : "";
}

/* ---- the checks ---- */

static int by_name(const void *a, const void *b) {
    return strcmp((*(const ckpt_tensor *const *)a)->name, (*(const ckpt_tensor *const *)b)->name);
}

static int by_offset(const void *a, const void *b) {
    const ckpt_tensor *x = *(const ckpt_tensor *const *)a, *y = *(const ckpt_tensor *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int by_buffer_offset(const void *a, const void *b) {
    const ckpt_tensor *x = *(const ckpt_tensor *const *)a, *y = *(const ckpt_tensor *const *)b;
    return x->buffer_offset < y->buffer_offset ? -1 : x->buffer_offset > y->buffer_offset;
}

/* The tensors of a group (all of them for GROUP_COUNT), sorted by `order`; *n how many. */
static const ckpt_tensor **sorted(const ckpt_directory *dir, ckpt_group group, int (*order)(const void *, const void *),
                                  uint32_t *n) {
    const ckpt_tensor **list = malloc((dir->count ? dir->count : 1) * sizeof *list);
    *n = 0;
    if (!list) return NULL;
    for (uint32_t i = 0; i < dir->count; i++)
        if (group == GROUP_COUNT || dir->tensors[i].group == group) list[(*n)++] = &dir->tensors[i];
    qsort(list, *n, sizeof *list, order);
    return list;
}

const ckpt_tensor **ckpt_directory_by_offset(const ckpt_directory *dir) {
    uint32_t n;
    return sorted(dir, GROUP_COUNT, by_offset, &n);
}

static void shape_text(const ckpt_tensor *t, char *text, size_t size) {
    if (t->rank == 1) snprintf(text, size, "[%llu]", (unsigned long long)t->shape[0]);
    else snprintf(text, size, "[%llu, %llu]", (unsigned long long)t->shape[0], (unsigned long long)t->shape[1]);
}

static bool same_shape(const ckpt_tensor *a, const ckpt_tensor *b) {
    return a->rank == b->rank && a->shape[0] == b->shape[0] && (a->rank == 1 || a->shape[1] == b->shape[1]);
}

/* No name twice; no two tensors sharing a byte of the data (an empty tensor shares none). */
static t2g_status check_names_and_data(const ckpt_directory *dir, t2g_error *err) {
    uint32_t n;
    const ckpt_tensor **list = sorted(dir, GROUP_COUNT, by_name, &n);
    if (!list) return t2g_fail(err, T2G_ERR_MEMORY, "out of memory for a directory of %u tensors", dir->count);
    t2g_status status = T2G_OK;
    for (uint32_t i = 1; i < n && !status; i++)
        if (strcmp(list[i - 1]->name, list[i]->name) == 0)
            status = t2g_fail(err, T2G_ERR_FORMAT, "tensor %s appears twice in the directory", list[i]->name);
    qsort(list, n, sizeof *list, by_offset);
    const ckpt_tensor *reach = NULL; /* the non-empty tensor so far that ends last */
    for (uint32_t i = 0; i < n && !status; i++) {
        const ckpt_tensor *t = list[i];
        if (t->bytes == 0) continue;
        if (reach && t->offset < reach->offset + reach->bytes)
            status = t2g_fail(err, T2G_ERR_FORMAT, "tensors %s (bytes %llu to %llu) and %s (bytes %llu to %llu) overlap",
                              reach->name, (unsigned long long)reach->offset,
                              (unsigned long long)(reach->offset + reach->bytes), t->name,
                              (unsigned long long)t->offset, (unsigned long long)(t->offset + t->bytes));
        if (!reach || t->offset + t->bytes > reach->offset + reach->bytes) reach = t;
    }
    free(list);
    return status;
}

/* The parameters inside the flat buffer, not sharing a float, with at most 64 floats of padding
 * each (which bounds what a loader allocates by the file's length). */
static t2g_status check_buffer(const ckpt_directory *dir, const ckpt_tensor **params, uint32_t n, t2g_error *err) {
    uint64_t P = dir->scalars.param_count, stored = 0;
    const ckpt_tensor *reach = NULL; /* the non-empty tensor so far that ends last in the buffer */
    for (uint32_t i = 0; i < n; i++) {
        const ckpt_tensor *t = params[i];
        if (t->buffer_offset > P || t->elements > P - t->buffer_offset)
            return t2g_fail(err, T2G_ERR_FORMAT, "tensor %s: floats %llu to %llu lie outside the buffer of %llu floats",
                            t->name, (unsigned long long)t->buffer_offset,
                            (unsigned long long)(t->buffer_offset + t->elements), (unsigned long long)P);
        if (t->elements == 0) continue;
        if (reach && reach->buffer_offset + reach->elements > t->buffer_offset)
            return t2g_fail(err, T2G_ERR_FORMAT, "tensors %s and %s share floats of the buffer (from float %llu)",
                            reach->name, t->name, (unsigned long long)t->buffer_offset);
        if (!reach || t->buffer_offset + t->elements > reach->buffer_offset + reach->elements) reach = t;
        stored += t->elements;
    }
    if (P - stored > (uint64_t)PADDING_PER_TENSOR * n)
        return t2g_fail(err, T2G_ERR_FORMAT,
                        "a buffer of %llu floats, but its %u parameter tensors hold %llu (at most %d floats of padding "
                        "each)",
                        (unsigned long long)P, n, (unsigned long long)stored, PADDING_PER_TENSOR);
    return T2G_OK;
}

/* Each moment tensor mirrors a parameter tensor (the same key, shape and buffer offset), and
 * each parameter has both moments. */
static t2g_status check_moments(const ckpt_directory *dir, const ckpt_tensor **params, uint32_t n, t2g_error *err) {
    t2g_status status = T2G_OK;
    for (ckpt_group g = GROUP_M; g <= GROUP_V && !status; g++) {
        uint32_t count = 0;
        for (uint32_t i = 0; i < dir->count && !status; i++) {
            const ckpt_tensor *t = &dir->tensors[i], *p = NULL;
            if (t->group != g) continue;
            count++;
            for (uint32_t k = 0; k < n && !p; k++)
                if (strcmp(ckpt_tensor_key(params[k]), ckpt_tensor_key(t)) == 0) p = params[k];
            char mine[64], theirs[64];
            if (!p)
                status = t2g_fail(err, T2G_ERR_FORMAT, "tensor %s: no parameter tensor %s%s%s", t->name,
                                  group_names[GROUP_PARAMS], *ckpt_tensor_key(t) ? "/" : "", ckpt_tensor_key(t));
            else if (!same_shape(p, t) || p->buffer_offset != t->buffer_offset) {
                shape_text(t, mine, sizeof mine);
                shape_text(p, theirs, sizeof theirs);
                status = t2g_fail(err, T2G_ERR_FORMAT,
                                  "tensor %s: shape %s at float %llu of the buffer; its parameter %s has %s at float %llu",
                                  t->name, mine, (unsigned long long)t->buffer_offset, p->name, theirs,
                                  (unsigned long long)p->buffer_offset);
            }
        }
        if (!status && count != n)
            status = t2g_fail(err, T2G_ERR_FORMAT, "%u parameter tensors but %u %s tensors: every parameter needs its %s",
                              n, count, group_names[g], group_names[g]);
    }
    return status;
}

/* The auxiliary arrays: all three of one length, or none. */
static t2g_status check_aux(const ckpt_directory *dir, t2g_error *err) {
    const ckpt_tensor *aux[3] = {NULL, NULL, NULL};
    for (uint32_t i = 0; i < dir->count; i++)
        if (dir->tensors[i].group >= GROUP_AUX_PARAMS) aux[dir->tensors[i].group - GROUP_AUX_PARAMS] = &dir->tensors[i];
    if (!aux[0] && !aux[1] && !aux[2]) return T2G_OK;
    for (int k = 0; k < 3; k++) {
        if (!aux[k])
            return t2g_fail(err, T2G_ERR_FORMAT, "tensor %s is missing beside the other value_head tensors",
                            group_names[GROUP_AUX_PARAMS + k]);
        if (aux[k]->rank != 1 || aux[k]->elements != aux[0]->elements)
            return t2g_fail(err, T2G_ERR_FORMAT, "tensor %s: the value_head tensors are vectors of one length (%s has %llu)",
                            aux[k]->name, aux[0]->name, (unsigned long long)aux[0]->elements);
    }
    return T2G_OK;
}

t2g_status ckpt_directory_check(const ckpt_directory *dir, t2g_error *err) {
    t2g_status status = check_names_and_data(dir, err);
    if (status) return status;
    uint32_t n;
    const ckpt_tensor **params = sorted(dir, GROUP_PARAMS, by_buffer_offset, &n);
    if (!params) return t2g_fail(err, T2G_ERR_MEMORY, "out of memory for a directory of %u tensors", dir->count);
    for (uint32_t i = 0; i < n && !status; i++)
        if (n > 1 && !*ckpt_tensor_key(params[i]))
            status = t2g_fail(err, T2G_ERR_FORMAT, "tensor %s (the whole buffer) beside %u other parameter tensors",
                              params[i]->name, n - 1);
    if (!status) status = check_buffer(dir, params, n, err);
    if (!status) status = check_moments(dir, params, n, err);
    if (!status) status = check_aux(dir, err);
    free(params);
    return status;
}

/* ---- a directory to save ---- */

/* A tensor name of the table: letters, digits and '_'. */
static bool valid_name(const char *name) {
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 48) return false;
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
              (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
            return false;
    return true;
}

/* The next tensor of the plan at the next aligned offset of the data. */
static ckpt_tensor *append(ckpt_directory *dir, ckpt_group group, uint64_t rows, uint64_t cols) {
    ckpt_tensor *t = &dir->tensors[dir->count++];
    t->group = group;
    t->layer = -1;
    t->rank = rows == 1 ? 1 : 2;
    t->shape[0] = rows == 1 ? cols : rows;
    t->shape[1] = rows == 1 ? 0 : cols;
    t->elements = rows * cols;
    t->bytes = 4 * t->elements;
    t->offset = (dir->data_bytes + CKPT_DATA_ALIGN - 1) / CKPT_DATA_ALIGN * CKPT_DATA_ALIGN;
    dir->data_bytes = t->offset + t->bytes;
    snprintf(t->name, sizeof t->name, "%s", group_names[group]);
    return t;
}

/* One group of the flat buffers: a tensor per row of the table, or the whole buffer. */
static t2g_status plan_buffer(const t2g_checkpoint *ck, ckpt_group group, ckpt_directory *dir, t2g_error *err) {
    if (!ck->table_count) {
        append(dir, group, 1, ck->param_count);
        return T2G_OK;
    }
    for (uint32_t i = 0; i < ck->table_count; i++) {
        const t2g_gpt_param *p = &ck->table[i];
        uint64_t count = (uint64_t)p->rows * p->cols;
        if (!valid_name(p->name) || p->layer < -1 || p->offset > ck->param_count || count > ck->param_count - p->offset)
            return t2g_fail(err, T2G_ERR_ARGUMENT,
                            "table row %u (%s, block %d, %u x %u at float %llu) is not a tensor of the %llu-float buffer "
                            "(a name of letters, digits and _; inside the buffer)",
                            i, p->name ? p->name : "(none)", p->layer, p->rows, p->cols, (unsigned long long)p->offset,
                            (unsigned long long)ck->param_count);
        ckpt_tensor *t = append(dir, group, p->rows, p->cols);
        t->layer = p->layer;
        t->buffer_offset = p->offset;
        size_t at = strlen(t->name);
        if (p->layer < 0) snprintf(t->name + at, sizeof t->name - at, "/%s", p->name);
        else snprintf(t->name + at, sizeof t->name - at, "/h.%d.%s", p->layer, p->name);
    }
    return T2G_OK;
}

t2g_status ckpt_directory_plan(const t2g_checkpoint *ck, ckpt_directory *dir, t2g_error *err) {
    memset(dir, 0, sizeof *dir);
    dir->scalars = *ck;
    dir->config = ck->config_json ? ck->config_json : "";
    uint32_t per_buffer = ck->table_count ? ck->table_count : 1;
    if (per_buffer > (UINT32_MAX - 3) / 3)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "a table of %u tensors is too long to save", ck->table_count);
    dir->tensors = calloc(3 * (size_t)per_buffer + 3, sizeof *dir->tensors);
    if (!dir->tensors) return t2g_fail(err, T2G_ERR_MEMORY, "out of memory planning a directory of %u tensors", per_buffer);
    t2g_status status = T2G_OK;
    for (ckpt_group g = GROUP_PARAMS; g <= GROUP_V && !status; g++) status = plan_buffer(ck, g, dir, err);
    for (ckpt_group g = GROUP_AUX_PARAMS; g <= GROUP_AUX_V && ck->aux_count && !status; g++)
        append(dir, g, 1, ck->aux_count);
    if (!status) status = ckpt_directory_check(dir, err);
    if (status && status != T2G_ERR_MEMORY) { /* the table is the caller's */
        status = T2G_ERR_ARGUMENT;
        if (err) err->status = status;
    }
    return status;
}

void ckpt_directory_free(ckpt_directory *dir) {
    free(dir->tensors);
    free(dir->parsed_config);
    free(dir->parsed_tokenizer);
    free(dir->parsed_tokenizer_config);
    memset(dir, 0, sizeof *dir);
}

/* ---- a directory read ---- */

bool ckpt_tensor_classify(ckpt_tensor *t) {
    for (ckpt_group g = GROUP_COUNT; g-- > GROUP_PARAMS;) {
        size_t n = strlen(group_names[g]);
        if (strncmp(t->name, group_names[g], n) != 0) continue;
        t->group = g;
        t->layer = -1;
        if (t->name[n] == '\0') return true; /* a whole buffer, or an auxiliary array */
        if (g > GROUP_V || t->name[n] != '/') return false;
        const char *key = t->name + n + 1;
        if (strncmp(key, "h.", 2) == 0) {
            char *end;
            long layer = strtol(key + 2, &end, 10);
            bool leading_zero = key[2] == '0' && end != key + 3;
            if (end == key + 2 || *end != '.' || key[2] < '0' || key[2] > '9' || leading_zero || layer > INT_MAX)
                return false;
            t->layer = (int)layer;
            key = end + 1;
        }
        return valid_name(key);
    }
    return false;
}
