/* The critique cache of the language-model critics (critic.cache): a JSONL file, one line per
 * critique, appended as critiques arrive, so that a resumed or repeated run never asks twice.
 *
 *   {"key": "<16 hex digits>", "settings": "...", "message": "...", "answer": "..."}
 *
 * settings: the critic's settings that shape an answer (kind, server URL and model or model file,
 * temperature, token budget, constraint); message: the critique prompt as sent (the template with
 * prompt, response and reference filled in: the template itself is part of the key through it);
 * answer: the model's text, read again by critic_reply_read on a hit. The key (FNV-1a of settings and message) only finds a line: a
 * hit also needs settings and message to be equal byte for byte, so a hash collision is a miss.
 * Only the index (key and offset) is kept in memory; a hit reads its line back from the file.
 *
 * Errors name the file and line: a line that is not such an object. A last line without its
 * newline that does not read (a run stopped mid-write) is left out, and cut off by the first
 * store if the file is still as it was read (else that store starts a new line). Lines
 * are appended with O_APPEND, one write each, so runs sharing one file do not interleave. */
#ifndef T2G_CRITIC_CACHE_H
#define T2G_CRITIC_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "t2g/status.h"

typedef struct critic_cache critic_cache;

/* Reads the index of the cache at path; a file that does not exist is an empty cache, created at
 * the first store. */
t2g_status critic_cache_open(const char *path, critic_cache **out, t2g_error *err);
/* The answer stored for (settings, message): *answer malloc'ed (NUL-terminated, *len bytes), or
 * NULL when there is none. Errors: the file cannot be read back, or its line changed. */
t2g_status critic_cache_find(critic_cache *cache, const char *settings, const char *message, char **answer,
                             size_t *len, t2g_error *err);
t2g_status critic_cache_store(critic_cache *cache, const char *settings, const char *message, const char *answer,
                              size_t answer_len, t2g_error *err);
/* Entries indexed (those read at open and those stored since). */
size_t critic_cache_size(const critic_cache *cache);
void critic_cache_close(critic_cache *cache);

#endif
