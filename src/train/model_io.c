/* A model from a checkpoint: its config, its parameters, its optimizer moments. */
#include <stdio.h>
#include <string.h>

#include "t2g/train.h"

t2g_status t2g_model_load(t2g_device *device, const char *path, uint32_t B, uint32_t T, t2g_gpt **gpt,
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
    if (!status) status = t2g_gpt_create(device, &config->model, B, T ? T : config->model.context, gpt, err);
    if (!status) status = t2g_checkpoint_match_model(&checkpoint, *gpt, path, err);
    if (!status) status = t2g_gpt_write(*gpt, checkpoint.params, checkpoint.m, checkpoint.v, err);
    if (status) {
        t2g_gpt_destroy(*gpt);
        *gpt = NULL;
    }
    t2g_checkpoint_free(&checkpoint);
    return status;
}
