/* A model from what a model path names (t2g/model_path.h): a t2g checkpoint (its config, its
 * parameters, its optimizer moments) or a Hugging Face folder (config.json, the safetensors
 * weights, fresh moments). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t2g/gguf_model.h"
#include "t2g/gguf_tokenizer.h"
#include "t2g/hf.h"
#include "t2g/train.h"

/* A Hugging Face folder's config: the defaults with its model, and no data (it names no task). */
static t2g_status open_hf(t2g_model_source *source, uint32_t max_context, t2g_error *err) {
    source->config = t2g_config_defaults();
    source->config.data.task[0] = '\0';
    t2g_status status = t2g_hf_read_config(source->path, max_context, &source->config.model, err);
    if (!status) status = t2g_text_load_dir(source->path, &source->text, err);
    return status;
}

/* A GGUF file: mapped; its model and tokenizer from the metadata, its weights read later. */
static t2g_status open_gguf(t2g_model_source *source, uint32_t max_context, t2g_error *err) {
    source->config = t2g_config_defaults();
    source->config.data.task[0] = '\0';
    t2g_status status = t2g_gguf_open(source->path, &source->gguf, err);
    if (!status) status = t2g_gguf_read_config(source->gguf, max_context, &source->config.model, err);
    char *tokenizer = NULL, *config = NULL;
    if (!status) status = t2g_gguf_tokenizer_files(source->gguf, &tokenizer, &config, err);
    if (!status)
        status = t2g_text_parse(tokenizer, strlen(tokenizer), config, config ? strlen(config) : 0, source->path,
                                &source->text, err);
    free(tokenizer);
    free(config);
    return status;
}

static t2g_status open_checkpoint(t2g_model_source *source, t2g_error *err) {
    t2g_status status = t2g_checkpoint_load(source->path, &source->checkpoint, err);
    if (status) return status;
    source->config = t2g_config_defaults();
    const t2g_checkpoint *ck = &source->checkpoint;
    status = t2g_config_parse(&source->config, ck->config_json, strlen(ck->config_json), source->path, err);
    if (status) return status;
    if (!ck->tokenizer_json) return t2g_text_bytes(&source->text, err);
    const char *config = ck->tokenizer_config_json;
    return t2g_text_parse(ck->tokenizer_json, strlen(ck->tokenizer_json), config, config ? strlen(config) : 0,
                          source->path, &source->text, err);
}

/* A model can embed every id its tokenizer makes. */
static t2g_status check_vocab(const t2g_model_source *source, t2g_error *err) {
    uint32_t tokens = t2g_text_vocab(source->text), vocab = source->config.model.vocab;
    if (tokens <= vocab) return T2G_OK;
    return t2g_fail(err, T2G_ERR_FORMAT, "%s: its tokenizer has %u tokens but the model's vocabulary only %u: expected "
                    "the tokenizer made for this model", source->path, tokens, vocab);
}

t2g_status t2g_model_source_open(const char *path, uint32_t max_context, t2g_model_source *source, t2g_error *err) {
    memset(source, 0, sizeof *source);
    t2g_status status = t2g_model_path(path, &source->kind, source->path, sizeof source->path, err);
    if (!status)
        status = source->kind == T2G_MODEL_HF     ? open_hf(source, max_context, err)
                 : source->kind == T2G_MODEL_GGUF ? open_gguf(source, max_context, err)
                                                  : open_checkpoint(source, err);
    if (!status) status = check_vocab(source, err);
    if (status) t2g_model_source_close(source);
    return status;
}

void t2g_model_source_close(t2g_model_source *source) {
    t2g_checkpoint_free(&source->checkpoint);
    t2g_text_free(source->text);
    source->text = NULL;
    t2g_gguf_close(source->gguf);
    source->gguf = NULL;
}

t2g_status t2g_model_source_text(t2g_model_source *source, const t2g_config *config, t2g_text **text, char *chosen,
                                 size_t chosen_size, t2g_error *err) {
    *text = NULL;
    if (!source->text) return t2g_fail(err, T2G_ERR_ARGUMENT, "%s: its text was taken already", source->path);
    const char *name = t2g_config_name("model.chat_template", config->chat_template);
    t2g_status status = t2g_text_set_chat(source->text, name, config->system_prompt, chosen, chosen_size, err);
    if (status) return t2g_error_context(err, "%s", source->path);
    *text = source->text;
    source->text = NULL;
    return T2G_OK;
}

/* A Hugging Face folder's or GGUF file's tensors in the model's table (the padding between tensors
 * stays 0), read from the files once and kept in source->checkpoint.params: RL's policy and
 * reference, models of one table, share that read. */
static t2g_status read_weights(t2g_model_source *source, const t2g_gpt *gpt, t2g_error *err) {
    uint64_t n = t2g_gpt_buffer_floats(gpt);
    t2g_checkpoint *ck = &source->checkpoint;
    if (ck->params && ck->param_count == n) return T2G_OK;
    free(ck->params);
    ck->param_count = 0;
    ck->params = calloc(n ? n : 1, sizeof *ck->params);
    if (!ck->params) return t2g_fail(err, T2G_ERR_MEMORY, "%s: out of host memory", source->path);
    const t2g_gpt_param *table;
    uint32_t count = t2g_gpt_params(gpt, &table);
    t2g_status status = source->kind == T2G_MODEL_GGUF
                            ? t2g_gguf_read_weights(source->gguf, t2g_gpt_config(gpt), table, count, ck->params, err)
                            : t2g_hf_read_weights(source->path, t2g_gpt_config(gpt), table, count, ck->params, err);
    if (!status) ck->param_count = n;
    return status;
}

t2g_status t2g_model_source_write(t2g_model_source *source, t2g_gpt *gpt, bool moments, t2g_error *err) {
    uint64_t n = t2g_gpt_buffer_floats(gpt);
    const t2g_checkpoint *ck = &source->checkpoint;
    bool files = source->kind == T2G_MODEL_HF || source->kind == T2G_MODEL_GGUF; /* no moments of their own */
    t2g_status status = files ? read_weights(source, gpt, err) : t2g_checkpoint_match_model(ck, gpt, source->path, err);
    if (status) return status;
    bool own_moments = moments && !files;
    float *zeros = own_moments ? NULL : calloc(n ? n : 1, sizeof *zeros);
    if (!own_moments && !zeros) return t2g_fail(err, T2G_ERR_MEMORY, "%s: out of host memory", source->path);
    status = t2g_gpt_write(gpt, ck->params, own_moments ? ck->m : zeros, own_moments ? ck->v : zeros, err);
    free(zeros);
    return status;
}

t2g_status t2g_model_source_crc(const t2g_model_source *source, uint32_t *crc, t2g_error *err) {
    if (source->kind == T2G_MODEL_HF || source->kind == T2G_MODEL_GGUF) return t2g_model_path_crc(source->path, crc, err);
    *crc = source->checkpoint.file_crc;
    return T2G_OK;
}

static t2g_status load(t2g_device *device, const char *path, uint32_t max_context, uint32_t B, uint32_t T, bool frozen,
                       t2g_gpt **gpt, t2g_config *config, t2g_text **text, char *chosen, size_t chosen_size,
                       t2g_error *err) {
    *gpt = NULL;
    t2g_model_source source;
    t2g_status status = t2g_model_source_open(path, max_context, &source, err);
    if (status) return status;
    t2g_model_config model = source.config.model;
    if (!T) T = model.context;
    if (frozen) { /* B is the most rows a pass takes: fewer where the device holds no more */
        /* logits whole where they fit, else in pieces: commands read a frozen model's forward logits through
         * t2g_gpt_loss (eval) or not at all (generation keeps its own) */
        model.logit_rows = t2g_logit_rows_for_device(0, model.vocab, (uint64_t)B * T, t2g_device_get_info(device));
        uint32_t fit = t2g_gpt_fit_batch(&model, B, T, true, t2g_device_get_info(device));
        B = fit ? fit : 1; /* none: the refusal below names one sequence's need */
    }
    status = (frozen ? t2g_gpt_create_frozen : t2g_gpt_create)(device, &model, B, T, gpt, err);
    if (!status) status = t2g_model_source_write(&source, *gpt, true, err);
    if (!status && text) status = t2g_model_source_text(&source, &source.config, text, chosen, chosen_size, err);
    if (status) {
        t2g_gpt_destroy(*gpt);
        *gpt = NULL;
    } else {
        *config = source.config;
    }
    t2g_model_source_close(&source);
    return status;
}

t2g_status t2g_model_load_context(t2g_device *device, const char *path, uint32_t max_context, uint32_t B, uint32_t T,
                                  t2g_gpt **gpt, t2g_config *config, t2g_error *err) {
    return load(device, path, max_context, B, T, false, gpt, config, NULL, NULL, 0, err);
}

t2g_status t2g_model_load(t2g_device *device, const char *path, uint32_t B, uint32_t T, t2g_gpt **gpt,
                          t2g_config *config, t2g_error *err) {
    return load(device, path, 0, B, T, false, gpt, config, NULL, NULL, 0, err);
}

t2g_status t2g_model_load_frozen(t2g_device *device, const char *path, uint32_t B, uint32_t T, t2g_gpt **gpt,
                                 t2g_config *config, t2g_error *err) {
    return load(device, path, 0, B, T, true, gpt, config, NULL, NULL, 0, err);
}

t2g_status t2g_model_load_frozen_text(t2g_device *device, const char *path, uint32_t max_context, uint32_t B,
                                      uint32_t T, t2g_gpt **gpt, t2g_config *config, t2g_text **text, char *chosen,
                                      size_t chosen_size, t2g_error *err) {
    return load(device, path, max_context, B, T, true, gpt, config, text, chosen, chosen_size, err);
}

void t2g_checkpoint_set_tokenizer(t2g_checkpoint *checkpoint, const t2g_text *text) {
    const char *tokenizer, *config;
    size_t tokenizer_len, config_len;
    t2g_text_files(text, &tokenizer, &tokenizer_len, &config, &config_len);
    checkpoint->tokenizer_json = (char *)tokenizer;        /* borrowed: saving only reads it */
    checkpoint->tokenizer_config_json = (char *)config;
}
