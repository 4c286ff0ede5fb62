/* The inside of t2g_text (include/t2g/text.h), shared by src/io/text*.c. */
#ifndef T2G_IO_TEXT_INTERNAL_H
#define T2G_IO_TEXT_INTERNAL_H

#include "t2g/text.h"

struct t2g_text {
    t2g_bpe *bpe;                /* NULL: the byte tokenizer */
    char *tokenizer_json;        /* the files a BPE came from (NULL for bytes; config NULL if none) */
    size_t tokenizer_len;
    char *config_json;
    size_t config_len;
    char where[512];             /* their origin, for messages */
    int64_t bos, eos, pad;       /* ids from tokenizer_config.json (-1: none) */
    bool add_bos;                /* the tokenizer puts BOS in front of a text it encodes */
    char *template_jinja;        /* tokenizer_config.json's chat_template (NULL: none) */
    t2g_chat_format chat;        /* set by t2g_text_set_chat (NONE until then) */
    char *system;                /* the system prompt the template gets (NULL: none) */
    int64_t end_of_turn;         /* the token that ends a response (-1: none, a BPE without eos_token and template) */
};

#endif
