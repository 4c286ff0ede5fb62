/* Reading --config (a file, or a config embedded from assets/) and --set overrides. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "core/read_file.h"
#include "t2g/checkpoint.h"
#include "t2g/assets.h"

/* The command each built-in config is for. */
static const struct {
    const char *asset, *command;
} BUILTIN_CONFIGS[] = {
    {"train_arith.json", "train"}, {"train_facts.json", "train"}, {"demo_sft.json", "train"},
    {"rl_arith.json", "rl"},       {"demo.json", "rl"},
};

/* A config embedded from assets/: "train_arith.json", "train_arith", or "assets/train_arith.json". */
static const char *embedded_config(const char *name, size_t *len, char *asset_name, size_t size) {
    const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
    snprintf(asset_name, size, "%s", base);
    const char *text = t2g_asset(asset_name, len);
    if (text) return text;
    snprintf(asset_name, size, "%s.json", base);
    return t2g_asset(asset_name, len);
}

static void list_configs(char *out, size_t size) {
    out[0] = 0;
    for (const char *const *n = t2g_asset_names(); *n; n++) {
        if (!strstr(*n, ".json")) continue;
        strncat(out, out[0] ? ", " : "", size - strlen(out) - 1);
        strncat(out, *n, size - strlen(out) - 1);
    }
}

/* The library's adjustments of coupled settings, one "t2g: note:" line each. */
static void adjust(t2g_config *config, bool rl) {
    t2g_config_notes notes;
    t2g_config_adjust(config, rl, &notes);
    for (uint32_t i = 0; i < notes.count; i++) fprintf(stderr, "t2g: note: %s\n", notes.text[i]);
}

static int apply_sets(const char *const *sets, int set_count, bool rl, t2g_config *config) {
    t2g_error err = {0};
    for (int i = 0; i < set_count; i++) {
        if (t2g_config_set(config, sets[i], &err)) {
            cli_error("%s", err.message);
            return EXIT_USAGE;
        }
    }
    adjust(config, rl);
    if (t2g_config_validate(config, &err)) {
        cli_error("%s", err.message);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

int cli_resume_paths(const char *resume, char *checkpoint, size_t checkpoint_size, char *dir, size_t dir_size) {
    struct stat st;
    bool folder = stat(resume, &st) == 0 && S_ISDIR(st.st_mode);
    if (folder) {
        snprintf(dir, dir_size, "%s", resume);
        snprintf(checkpoint, checkpoint_size, "%s/checkpoint.bin", resume);
    }
    if (!folder || stat(checkpoint, &st) != 0) {
        cli_error("--resume %s: %s; --resume continues a run and takes its run folder (one with checkpoint.bin). To "
                  "start a new run from a model, use --set model.from=PATH (t2g train) or --set rl.start=PATH (t2g rl)",
                  resume, folder ? "the folder has no checkpoint.bin" : "not a run folder");
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

int cli_check_resume_kind(const char *resume, const t2g_checkpoint *checkpoint, t2g_run_kind kind) {
    if (checkpoint->kind == kind) return EXIT_OK;
    cli_error("--resume %s: the run was made by t2g %s, not t2g %s; a run continues only with its own command (to "
              "start from its model, use --set %s=%s)",
              resume, t2g_run_kind_name(checkpoint->kind), t2g_run_kind_name(kind),
              kind == T2G_RUN_TRAIN ? "model.from" : "rl.start", resume);
    return EXIT_USAGE;
}

int cli_resume_config(const char *resume, t2g_run_kind kind, const char *const *sets, int set_count, t2g_config *config) {
    char path[1200], dir[1024];
    if (cli_resume_paths(resume, path, sizeof path, dir, sizeof dir)) return EXIT_USAGE;
    t2g_checkpoint checkpoint;
    t2g_error err = {0};
    if (t2g_checkpoint_load(path, &checkpoint, &err)) {
        cli_error("--resume: %s", err.message);
        return EXIT_USAGE;
    }
    if (cli_check_resume_kind(resume, &checkpoint, kind)) {
        t2g_checkpoint_free(&checkpoint);
        return EXIT_USAGE;
    }
    *config = t2g_config_defaults();
    t2g_status status = t2g_config_parse(config, checkpoint.config_json, strlen(checkpoint.config_json), path, &err);
    t2g_checkpoint_free(&checkpoint);
    if (status) {
        cli_error("--resume: %s", err.message);
        return EXIT_USAGE;
    }
    memset(config->given, 0, sizeof config->given); /* the checkpoint's keys are the run's, not the user's */
    /* but its context is what the run chose: it caps its start's again (a Hugging Face folder's or
     * GGUF file's own context is longer, and the run's parameters and batches are for this one) */
    char context[64];
    snprintf(context, sizeof context, "model.context=%u", config->model.context);
    if (t2g_config_set(config, context, &err)) {
        cli_error("--resume: %s", err.message);
        return EXIT_USAGE;
    }
    return apply_sets(sets, set_count, kind == T2G_RUN_RL, config);
}

int cli_load_builtin_config(const char *name, const char *const *sets, int set_count, bool rl, t2g_config *config) {
    *config = t2g_config_defaults();
    size_t len = 0;
    const char *text = t2g_asset(name, &len);
    t2g_error err = {0};
    if (!text) {
        cli_error("the built-in config %s is missing from this build", name);
        return EXIT_FAILED;
    }
    if (t2g_config_parse(config, text, len, name, &err)) {
        cli_error("%s", err.message);
        return EXIT_FAILED;
    }
    return apply_sets(sets, set_count, rl, config);
}

int cli_check_config_command(const char *path, const char *command) {
    struct stat st;
    if (!path || stat(path, &st) == 0) return EXIT_OK; /* a file is the user's own */
    size_t len;
    char asset_name[256];
    if (!embedded_config(path, &len, asset_name, sizeof asset_name)) return EXIT_OK;
    for (size_t i = 0; i < sizeof BUILTIN_CONFIGS / sizeof BUILTIN_CONFIGS[0]; i++) {
        if (strcmp(BUILTIN_CONFIGS[i].asset, asset_name) != 0 || strcmp(BUILTIN_CONFIGS[i].command, command) == 0)
            continue;
        cli_error("--config %s: the built-in config %s is t2g %s's, not t2g %s's (use it with 't2g %s --config %s')", path,
                  asset_name, BUILTIN_CONFIGS[i].command, command, BUILTIN_CONFIGS[i].command, path);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

int cli_load_config(const char *path, const char *const *sets, int set_count, bool rl, t2g_config *config) {
    *config = t2g_config_defaults();
    t2g_error err = {0};
    if (path) {
        size_t len = 0;
        char *text = NULL;
        const char *source = path;
        char asset_name[256];
        const char *embedded = NULL;
        if (t2g_file_read(path, "the config", (t2g_read_cap){T2G_CONFIG_MAX_BYTES, NULL}, &text, &len, &err)) {
            if (errno != ENOENT && errno != ENOTDIR) { /* there, but not a config t2g reads */
                cli_error("--config: %s", err.message);
                return EXIT_USAGE;
            }
            embedded = embedded_config(path, &len, asset_name, sizeof asset_name);
            if (!embedded) {
                char names[512];
                list_configs(names, sizeof names);
                cli_error("--config %s: no such file, and it names no built-in config (those are: %s)", path, names);
                return EXIT_USAGE;
            }
            source = asset_name;
        }
        t2g_status status = t2g_config_parse(config, text ? text : embedded, len, source, &err);
        free(text);
        if (status) {
            cli_error("%s", err.message);
            return EXIT_USAGE;
        }
    }
    return apply_sets(sets, set_count, rl, config);
}
