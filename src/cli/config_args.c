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

static int apply_sets(const char *const *sets, int set_count, t2g_config *config) {
    t2g_error err = {0};
    for (int i = 0; i < set_count; i++) {
        if (t2g_config_set(config, sets[i], &err)) {
            cli_error("%s", err.message);
            return EXIT_USAGE;
        }
    }
    if (t2g_config_validate(config, &err)) {
        cli_error("%s", err.message);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

void cli_resume_paths(const char *resume, char *checkpoint, size_t checkpoint_size, char *dir, size_t dir_size) {
    struct stat st;
    if (stat(resume, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(dir, dir_size, "%s", resume);
        snprintf(checkpoint, checkpoint_size, "%s/checkpoint.bin", resume);
        return;
    }
    snprintf(checkpoint, checkpoint_size, "%s", resume);
    snprintf(dir, dir_size, "%s", resume);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else snprintf(dir, dir_size, ".");
}

int cli_resume_config(const char *resume, const char *const *sets, int set_count, t2g_config *config) {
    char path[1200], dir[1024];
    cli_resume_paths(resume, path, sizeof path, dir, sizeof dir);
    t2g_checkpoint checkpoint;
    t2g_error err = {0};
    if (t2g_checkpoint_load(path, &checkpoint, &err)) {
        cli_error("--resume: %s", err.message);
        return EXIT_USAGE;
    }
    *config = t2g_config_defaults();
    t2g_status status = t2g_config_parse(config, checkpoint.config_json, strlen(checkpoint.config_json), path, &err);
    t2g_checkpoint_free(&checkpoint);
    if (status) {
        cli_error("--resume: %s", err.message);
        return EXIT_USAGE;
    }
    return apply_sets(sets, set_count, config);
}

int cli_load_builtin_config(const char *name, const char *const *sets, int set_count, t2g_config *config) {
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
    return apply_sets(sets, set_count, config);
}

int cli_load_config(const char *path, const char *const *sets, int set_count, t2g_config *config) {
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
    return apply_sets(sets, set_count, config);
}
