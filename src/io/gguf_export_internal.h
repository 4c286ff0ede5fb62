/* The inside of t2g_gguf_write_model (t2g/gguf_export.h), shared by src/io/gguf_export*.c. */
#ifndef T2G_IO_GGUF_EXPORT_INTERNAL_H
#define T2G_IO_GGUF_EXPORT_INTERNAL_H

#include <stdint.h>

#include "t2g/gguf_write.h"
#include "t2g/status.h"
#include "t2g/text.h"

/* Adds the tokenizer.* metadata of `text` for a model of `vocab` ids; errors name `path`. */
t2g_status gguf_export_tokenizer(t2g_gguf_writer *writer, const char *path, const t2g_text *text, uint32_t vocab,
                                 t2g_error *err);

#endif
