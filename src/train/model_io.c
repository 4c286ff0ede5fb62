/* A model from a checkpoint: its config, its parameters, its optimizer moments. */
#include <stdio.h>
#include <string.h>

#include "t2g/train.h"

static t2g_status load(t2g_device *device, const char *path, uint32_t B, uint32_t T, bool frozen, t2g_gpt **gpt,
                       t2g_config *config, t2g_error *err) {
    *gpt = NULL;
    char resolved[1100]; /* a run folder: its checkpoint.bin */
    t2g_status status = t2g_checkpoint_resolve(path, resolved, sizeof resolved, err);
    if (status) return status;
    path = resolved;
    t2g_checkpoint checkpoint;
    status = t2g_checkpoint_load(path, &checkpoint, err);
    if (status) return status;
    *config = t2g_config_defaults();
    status = t2g_config_parse(config, checkpoint.config_json, strlen(checkpoint.config_json), path, err);
    if (!status) status = (frozen ? t2g_gpt_create_frozen : t2g_gpt_create)(device, &config->model, B,
                                                                             T ? T : config->model.context, gpt, err);
    if (!status && checkpoint.param_count != t2g_gpt_buffer_floats(*gpt))
        status = t2g_fail(err, T2G_ERR_FORMAT, "%s: holds %llu parameters, but its config describes a model of %llu", path,
                          (unsigned long long)checkpoint.param_count,
                          (unsigned long long)t2g_gpt_buffer_floats(*gpt));
    if (!status) status = t2g_gpt_write(*gpt, checkpoint.params, checkpoint.m, checkpoint.v, err);
    if (status) {
        t2g_gpt_destroy(*gpt);
        *gpt = NULL;
    }
    t2g_checkpoint_free(&checkpoint);
    return status;
}

t2g_status t2g_model_load(t2g_device *device, const char *path, uint32_t B, uint32_t T, t2g_gpt **gpt,
                          t2g_config *config, t2g_error *err) {
    return load(device, path, B, T, false, gpt, config, err);
}

t2g_status t2g_model_load_frozen(t2g_device *device, const char *path, uint32_t B, uint32_t T, t2g_gpt **gpt,
                                 t2g_config *config, t2g_error *err) {
    return load(device, path, B, T, true, gpt, config, err);
}
