#include "run_files.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "t2g/report.h"

/* Appends a KEY=VALUE of a --set-like option (NULL: its value was missing, reported already). */
static int add_set(const char *command, const char *option, const char *set, const char **sets, int *count, int most) {
    if (set && *count == most) {
        cli_error("%s: at most %d %s options", command, most, option);
        return EXIT_USAGE;
    }
    if (set) sets[(*count)++] = set;
    return EXIT_OK;
}

int cli_parse_run_args(int argc, char **argv, const char *command, const char *allowed, cli_run_args *a) {
    memset(a, 0, sizeof *a);
    cli_args args = cli_args_start(argc, argv, 2, command);
    while (cli_args_more(&args)) {
        const char *option = argv[args.i], *set = NULL;
        if (strcmp(option, "--help") != 0 && strcmp(option, "-h") != 0 && !strstr(allowed, option))
            return cli_unknown(&args);
        if (cli_flag(&args, "--help") || cli_flag(&args, "-h")) {
            a->help = true;
            return EXIT_OK;
        } else if (cli_value(&args, "--set", &set)) {
            if (add_set(command, "--set", set, a->sets, &a->set_count, 64)) return EXIT_USAGE;
        } else if (cli_value(&args, "--sft-set", &set)) {
            if (add_set(command, "--sft-set", set, a->sft_sets, &a->sft_set_count, 16)) return EXIT_USAGE;
        } else if (cli_value(&args, "--config", &a->config) || cli_value(&args, "--out", &a->out) ||
                   cli_value(&args, "--resume", &a->resume) || cli_value(&args, "--device", &a->device)) {
        } else if (cli_flag(&args, "--quiet")) {
            a->quiet = true;
        } else if (cli_flag(&args, "--from-scratch")) {
            a->from_scratch = true;
        } else {
            return cli_unknown(&args);
        }
    }
    return args.failed ? EXIT_USAGE : EXIT_OK;
}

int cli_run_config(const cli_run_args *a, const char *command, const char *builtin, t2g_config *config) {
    if (a->resume && (a->config || a->out)) {
        cli_error("%s: --resume continues a run with its own config and folder; it cannot be combined with --config "
                  "or --out (use --set to change keys)",
                  command);
        return EXIT_USAGE;
    }
    int code = a->resume ? cli_resume_config(a->resume, a->sets, a->set_count, config)
               : builtin ? cli_load_builtin_config(builtin, a->sets, a->set_count, config)
                         : cli_load_config(a->config, a->sets, a->set_count, config);
    if (!code && a->device) snprintf(config->device, sizeof config->device, "%s", a->device);
    return code;
}

void cli_format_duration(double seconds, char *out, size_t size) {
    long s = (long)(seconds + 0.5);
    if (s >= 3600) snprintf(out, size, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else snprintf(out, size, "%ld:%02ld", s / 60, s % 60);
}

void cli_run_write(FILE *file, cJSON *object) {
    char *text = cJSON_PrintUnformatted(object);
    if (text) fprintf(file, "%s\n", text);
    fflush(file);
    cJSON_free(text);
    cJSON_Delete(object);
}

/* run.json: what made the run, and where it ran. */
static int write_run_json(const cli_run *run) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", run->kind ? run->kind : "train");
    cJSON_AddStringToObject(o, "t2g", T2G_VERSION);
    if (run->device) {
        const t2g_device_info *info = t2g_device_get_info(run->device);
        cJSON *device = cJSON_AddObjectToObject(o, "device");
        cJSON_AddStringToObject(device, "name", info->name);
        cJSON_AddStringToObject(device, "type", info->type);
        cJSON_AddStringToObject(device, "driver", info->driver_info[0] ? info->driver_info : info->driver_name);
        cJSON_AddStringToObject(device, "vulkan", info->api_version_string);
    }
    char started[32];
    time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", &utc);
    cJSON_AddStringToObject(o, "started", started);
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    t2g_error err = {0};
    int code = EXIT_OK;
    if (!text || t2g_write_file_atomic(run->dir, "run.json", text, strlen(text), &err)) {
        cli_error("%s", text ? err.message : "out of memory");
        code = EXIT_FAILED;
    }
    cJSON_free(text);
    return code;
}

int cli_run_open(cli_run *run, const char *out, const char *resumed_dir) {
    t2g_error err = {0};
    if (resumed_dir) snprintf(run->dir, sizeof run->dir, "%s", resumed_dir);
    else if (t2g_run_dir_create("runs", run->config->name, out, run->dir, sizeof run->dir, &err)) {
        cli_error("%s", err.message);
        return EXIT_USAGE;
    }
    char *json = t2g_config_to_json(run->config);
    if (!json || t2g_write_file_atomic(run->dir, "config.json", json, strlen(json), &err)) {
        cli_error("%s", json ? err.message : "out of memory");
        free(json);
        return EXIT_FAILED;
    }
    free(json);
    if (write_run_json(run)) return EXIT_FAILED;
    char path[1200];
    snprintf(path, sizeof path, "%s/metrics.jsonl", run->dir);
    run->metrics = fopen(path, "a");
    snprintf(path, sizeof path, "%s/samples.jsonl", run->dir);
    run->samples = fopen(path, "a");
    if (!run->metrics || !run->samples) {
        cli_error("cannot write in the run folder %s: %s", run->dir, strerror(errno));
        return EXIT_FAILED;
    }
    return EXIT_OK;
}

int cli_run_prepare_eval(cli_run *run) {
    uint32_t examples = run->config->eval.examples;
    if (!run->task || !examples) return EXIT_OK;
    t2g_error err = {0};
    if (t2g_generator_create(run->model, examples < 64 ? examples : 64, &run->generator, &err)) {
        cli_error("%s", err.message);
        return EXIT_FAILED;
    }
    return EXIT_OK;
}

static void print_eval(const char *when, const t2g_eval_result *r) {
    printf("%s:", when);
    for (uint32_t i = 0; i < r->metrics.count; i++) printf(" %s %.4f", r->metrics.names[i], r->metrics.values[i]);
    printf(" (%u examples, %.1f s)\n", r->metrics.examples, r->seconds);
    for (uint32_t i = 0; i < r->sample_count && i < 3; i++)
        printf("  %s -> %s   (reference: %s)\n", r->samples[i].prompt, r->samples[i].response, r->samples[i].reference);
    fflush(stdout);
}

static cJSON *metrics_json(const t2g_task_metrics *m) {
    cJSON *o = cJSON_CreateObject();
    for (uint32_t i = 0; i < m->count; i++) cJSON_AddNumberToObject(o, m->names[i], m->values[i]);
    return o;
}

static void write_samples(cli_run *run, uint64_t step, const t2g_eval_result *r) {
    for (uint32_t i = 0; i < r->sample_count; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "step", (double)step);
        cJSON_AddStringToObject(o, "kind", "eval");
        cJSON_AddStringToObject(o, "prompt", r->samples[i].prompt);
        cJSON_AddStringToObject(o, "response", r->samples[i].response);
        cJSON_AddStringToObject(o, "reference", r->samples[i].reference);
        cJSON_AddItemToObject(o, "score", metrics_json(&r->samples[i].score));
        cli_run_write(run->samples, o);
    }
}

int cli_run_evaluate(cli_run *run, uint64_t step, cJSON *line, const char *when) {
    const t2g_config *c = run->config;
    if (!run->task || c->eval.examples == 0) return EXIT_OK;
    t2g_eval_result result;
    t2g_error err = {0};
    if (t2g_evaluate(run->model, run->generator, run->task, c->data.seed, c->eval.examples, c->eval.samples,
                     c->eval.max_new_tokens, &result, &err)) {
        cli_error("evaluating at step %llu: %s", (unsigned long long)step, err.message);
        return EXIT_FAILED;
    }
    if (run->tty) printf("\r\033[K");
    print_eval(when, &result);
    write_samples(run, step, &result);
    cJSON *eval = metrics_json(&result.metrics);
    cJSON_AddNumberToObject(eval, "seconds", result.seconds);
    if (line) {
        cJSON_AddItemToObject(line, "eval", eval);
    } else {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "step", (double)step);
        cJSON_AddItemToObject(o, "eval", eval);
        cli_run_write(run->metrics, o);
    }
    t2g_eval_result_free(&result);
    return EXIT_OK;
}

/* <run dir>/report.html; a report that cannot be written is a warning, not a failed run. */
static void write_report(const char *dir) {
    char path[1100];
    snprintf(path, sizeof path, "%s/report.html", dir);
    t2g_error err = {0};
    t2g_status status = t2g_report_write(&dir, 1, path, &err);
    if (status == T2G_OK || status == T2G_ERR_FORMAT) printf("report: %s\n", path);
    if (status) fprintf(stderr, "t2g: warning: the run report: %s\n", err.message);
    fflush(stdout);
}

int cli_run_nonfinite(cli_run *run, uint64_t step, uint32_t what, bool update_skipped, cJSON *line) {
    if (!what) return EXIT_OK;
    char names[256];
    t2g_nonfinite_describe(what, names, sizeof names);
    cJSON_AddStringToObject(line, "nonfinite", names);
    cJSON_AddBoolToObject(line, "update_skipped", update_skipped);
    const char *update = update_skipped ? "the update was skipped" : "the update was applied (finite gradient)";
    if (run->tty) printf("\n");
    fflush(stdout);
    if (strcmp(run->config->on_nonfinite, "skip") == 0) {
        run->skipped_steps++;
        fprintf(stderr, "t2g: warning: step %llu: %s not finite (NaN or Inf); %s; going on (train.on_nonfinite=skip)\n",
                (unsigned long long)step, names, update);
        return EXIT_OK;
    }
    char path[1200];
    snprintf(path, sizeof path, "%s/checkpoint.bin", run->dir);
    bool saved = access(path, F_OK) == 0;
    cli_error("step %llu: %s not finite (NaN or Inf); %s. Stopping (train.on_nonfinite=stop): nothing from this step "
              "is saved; %s %s. Lower optim.lr, or set train.on_nonfinite=skip to skip such steps",
              (unsigned long long)step, names, update, path,
              saved ? "is the last good checkpoint, kept" : "was never written (checkpoint.every saves earlier ones)");
    return EXIT_FAILED;
}

void cli_run_close(cli_run *run) {
    if (run->skipped_steps)
        fprintf(stderr, "t2g: warning: %llu steps had NaN or Inf values (\"nonfinite\" and \"update_skipped\" in "
                        "metrics.jsonl)\n",
                (unsigned long long)run->skipped_steps);
    bool opened = run->metrics != NULL;
    if (run->metrics) fclose(run->metrics);
    if (run->samples) fclose(run->samples);
    t2g_generator_destroy(run->generator);
    run->metrics = run->samples = NULL;
    run->generator = NULL;
    if (opened) write_report(run->dir);
}

int cli_run_load_resume(const char *resume, t2g_checkpoint *checkpoint, char *dir, size_t size) {
    char path[1200];
    cli_resume_paths(resume, path, sizeof path, dir, size);
    t2g_error err = {0};
    if (t2g_checkpoint_load(path, checkpoint, &err)) {
        cli_error("--resume: %s", err.message);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}
