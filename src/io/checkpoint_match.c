/* Whether a checkpoint's directory is the model's table (t2g_checkpoint_match_table). */
#include <stdio.h>
#include <string.h>

#include "t2g/checkpoint.h"

/* "h.3.qkvw" or "wte". */
static void tensor_name(const t2g_gpt_param *p, char *text, size_t size) {
    if (p->layer < 0) snprintf(text, size, "%s", p->name);
    else snprintf(text, size, "h.%d.%s", p->layer, p->name);
}

/* "[cols]" for a vector, "[rows, cols]" for a matrix: as the checkpoint's directory writes it. */
static void shape_name(const t2g_gpt_param *p, char *text, size_t size) {
    if (p->rows == 1) snprintf(text, size, "[%u]", p->cols);
    else snprintf(text, size, "[%u, %u]", p->rows, p->cols);
}

static const t2g_gpt_param *find(const t2g_gpt_param *table, uint32_t count, const t2g_gpt_param *p) {
    for (uint32_t i = 0; i < count; i++)
        if (table[i].layer == p->layer && strcmp(table[i].name, p->name) == 0) return &table[i];
    return NULL;
}

t2g_status t2g_checkpoint_match_table(const t2g_checkpoint *ck, const t2g_gpt_param *table, uint32_t count,
                                      uint64_t buffer_floats, t2g_error *err) {
    char name[96], mine[48], theirs[48];
    for (uint32_t i = 0; i < count && ck->table_count; i++) {
        const t2g_gpt_param *want = &table[i], *have = find(ck->table, ck->table_count, want);
        tensor_name(want, name, sizeof name);
        shape_name(want, theirs, sizeof theirs);
        if (!have)
            return t2g_fail(err, T2G_ERR_FORMAT, "the checkpoint has no tensor %s (the model's is %s)", name, theirs);
        shape_name(have, mine, sizeof mine);
        if (have->rows != want->rows || have->cols != want->cols)
            return t2g_fail(err, T2G_ERR_FORMAT, "tensor %s is %s in the checkpoint, %s in the model", name, mine, theirs);
        if (have->offset != want->offset)
            return t2g_fail(err, T2G_ERR_FORMAT,
                            "tensor %s %s lies at float %llu of the checkpoint's buffer, at float %llu of the model's",
                            name, mine, (unsigned long long)have->offset, (unsigned long long)want->offset);
    }
    for (uint32_t i = 0; i < ck->table_count; i++)
        if (!find(table, count, &ck->table[i])) {
            tensor_name(&ck->table[i], name, sizeof name);
            shape_name(&ck->table[i], mine, sizeof mine);
            return t2g_fail(err, T2G_ERR_FORMAT, "the checkpoint has a tensor %s %s that the model has not", name, mine);
        }
    if (ck->param_count != buffer_floats)
        return t2g_fail(err, T2G_ERR_FORMAT,
                        "the checkpoint holds %llu floats of parameters (with their padding), the model %llu",
                        (unsigned long long)ck->param_count, (unsigned long long)buffer_floats);
    return T2G_OK;
}

t2g_status t2g_checkpoint_match_model(const t2g_checkpoint *ck, const t2g_gpt *gpt, const char *what, t2g_error *err) {
    const t2g_gpt_param *table;
    uint32_t count = t2g_gpt_params(gpt, &table);
    t2g_status status = t2g_checkpoint_match_table(ck, table, count, t2g_gpt_buffer_floats(gpt), err);
    return status ? t2g_error_context(err, "%s", what) : T2G_OK;
}
