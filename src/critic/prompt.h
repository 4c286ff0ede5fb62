/* The critique prompt of a language-model critic (critic.kind http or model): a template with
 * placeholders, filled in for each sample.
 *
 *   {{prompt}}      the prompt the policy answered
 *   {{response}}    the policy's response (bytes that are not valid UTF-8, and NUL, become U+FFFD)
 *   {{reference}}   the task's reference answer ("" when the sample has none)
 *   {{#reference}} ... {{/reference}}   kept only when the sample has a reference
 *
 * Anything else between {{ and }} is an error naming the file and line, and so is a template
 * without {{response}} (a critic that never sees the response can quote nothing of it) or an
 * unclosed or stray section. Single braces are text (JSON examples need them). The built-in
 * template (critic.prompt_file = "") asks for the Text2Grad critique JSON with a score:
 *   {"textual_feedback": "...", "good_spans": [...], "poor_spans": [...], "score": x} */
#ifndef T2G_CRITIC_PROMPT_H
#define T2G_CRITIC_PROMPT_H

#include <stddef.h>

#include "t2g/critic.h"
#include "t2g/status.h"

typedef struct critic_prompt critic_prompt;

/* The template in the file at path, or the built-in one when path is NULL or "". */
t2g_status critic_prompt_load(const char *path, critic_prompt **out, t2g_error *err);
/* A template from text[0..len); `where` names it in messages ("critic.prompt_file x.txt"). */
t2g_status critic_prompt_parse(const char *text, size_t len, const char *where, critic_prompt **out, t2g_error *err);
/* The user message for one sample: malloc'ed, NUL-terminated, *len bytes, valid UTF-8. The
 * reference is the request's, else its task example's answer, when either is non-empty. */
t2g_status critic_prompt_render(const critic_prompt *prompt, const t2g_critic_request *request, char **out, size_t *len,
                                t2g_error *err);
void critic_prompt_free(critic_prompt *prompt);

#endif
