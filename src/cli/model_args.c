/* The model a command reads: --ckpt (a t2g checkpoint or run folder) or --model (any model path,
 * t2g/model_path.h), and the note printed when a Hugging Face folder's text is read with t2g's
 * byte tokenizer because the folder has no tokenizer.json (t2g_hf_check_tokenizer). */
#include <stdio.h>
#include <unistd.h>

#include "cli.h"

void cli_note_model(const char *what, const char *path) {
    t2g_model_path_kind kind;
    char dir[4200], tokenizer[4300];
    if (!path || !*path || t2g_model_path(path, &kind, dir, sizeof dir, NULL) || kind != T2G_MODEL_HF) return;
    snprintf(tokenizer, sizeof tokenizer, "%s/tokenizer.json", dir);
    if (access(tokenizer, F_OK) == 0) return;
    fprintf(stderr,
            "t2g: note: %s %s has no tokenizer.json: its text is read with t2g's byte tokenizer (ids 0-255 the bytes, "
            "256 <|bos|>, 257 <|eos|>, 258 <|pad|>)\n",
            what, path);
}

void cli_note_text(const t2g_text *text, const char *chosen) {
    if (text && !t2g_text_is_bytes(text) && chosen && chosen[0]) fprintf(stderr, "t2g: note: %s\n", chosen);
}

int cli_model_arg(const char *command, const char *ckpt, const char *model, const char **path) {
    *path = ckpt ? ckpt : model;
    if (ckpt && model) {
        cli_error("%s: give --ckpt or --model, not both (--model takes any model: a checkpoint, a run folder or a "
                  "Hugging Face folder)",
                  command);
        return EXIT_USAGE;
    }
    if (!*path) return EXIT_OK;
    t2g_model_path_kind kind;
    char resolved[4200];
    t2g_error err = {0};
    if (t2g_model_path(*path, &kind, resolved, sizeof resolved, &err)) {
        cli_error("%s: %s %s", command, ckpt ? "--ckpt" : "--model", err.message);
        return EXIT_USAGE;
    }
    if (ckpt && (kind == T2G_MODEL_HF || kind == T2G_MODEL_GGUF)) {
        cli_error("%s: --ckpt %s is a %s; --ckpt takes a t2g checkpoint or run folder: use --model %s", command, ckpt,
                  t2g_model_path_kind_name(kind), ckpt);
        return EXIT_USAGE;
    }
    cli_note_model("--model", model);
    return EXIT_OK;
}
