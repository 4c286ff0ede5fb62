/* What the evaluations of a task (evaluate.c) and of a data file (evaluate_data.c) share. */
#ifndef T2G_EVALUATE_INTERNAL_H
#define T2G_EVALUATE_INTERNAL_H

#include "t2g/train.h"

#define EVAL_BATCH 64u /* prompts generated at once */

/* Greedy responses to n <= EVAL_BATCH prompts (texts, NUL-terminated, wrapped by the text's chat
 * template) into responses (malloc'ed bytes, special tokens left out) and lengths; a prompt that
 * leaves no room in the context is an error. */
t2g_status t2g_eval_respond(t2g_generator *generator, const t2g_text *text, bool parse_special,
                            const char *const *texts, uint32_t n, uint32_t context, uint32_t max_new_tokens,
                            char **responses, size_t *lengths, t2g_error *err);

#endif
