/* What the checks of whole models against a reference share (hf_golden, gguf_model, gguf_export,
 * model_gguf_oracle): a tensor of an expected-results safetensors file, two model configs
 * compared, greedy tokens compared while the reference's top-2 margin holds. */
#ifndef T2G_CHECK_MODEL_CHECKS_H
#define T2G_CHECK_MODEL_CHECKS_H

#include <stdbool.h>
#include <stdint.h>

#include "check.h"
#include "t2g/config.h"
#include "t2g/generate.h"
#include "t2g/gpt.h"
#include "t2g/safetensors.h"
#include "t2g/text.h"

/* Tensor `name` of the expected file as doubles (NULL and a failure when it is missing), its
 * element count in *count. */
double *check_expected(check_ctx *ctx, t2g_safetensors *file, const char *name, uint64_t *count);
/* Every architecture key equal (rope_theta and norm_eps as float32: files store them so). */
bool check_same_model_config(const t2g_model_config *a, const t2g_model_config *b);
/* Greedy generation of `steps` tokens after the P prompt ids (text: its stop and banned ids; NULL:
 * the defaults), compared with greedy[P + k] while margin[k] > min_margin, each difference a
 * failure naming `label` (none compared is a failure too). The generation stays in *out for the
 * caller, who frees it (t2g_generation_free); false when it could not run. */
bool check_greedy(check_ctx *ctx, const char *label, t2g_gpt *gpt, const t2g_text *text, const uint32_t *ids,
                  uint32_t P, const double *greedy, const double *margin, uint32_t steps, double min_margin,
                  t2g_generation *out);

#endif
