#include "run_files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/read_file.h"
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
        } else if (cli_flag(&args, "--trust-critic")) {
            a->trust_critic = true;
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
    if (!a->resume && !builtin && cli_check_config_command(a->config, command)) return EXIT_USAGE;
    t2g_run_kind kind = strcmp(command, "rl") == 0 ? T2G_RUN_RL : T2G_RUN_TRAIN;
    bool rl = strcmp(command, "train") != 0; /* rl, and demo's own config (its SFT config is loaded apart) */
    int code = a->resume ? cli_resume_config(a->resume, kind, a->sets, a->set_count, config)
               : builtin ? cli_load_builtin_config(builtin, a->sets, a->set_count, rl, config)
                         : cli_load_config(a->config, a->sets, a->set_count, rl, config);
    if (!code && a->device) snprintf(config->device, sizeof config->device, "%s", a->device);
    return code;
}

void cli_format_duration(double seconds, char *out, size_t size) {
    long s = (long)(seconds + 0.5);
    if (s >= 3600) snprintf(out, size, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else snprintf(out, size, "%ld:%02ld", s / 60, s % 60);
}

int cli_run_write(cli_run *run, FILE *file, cJSON *object) {
    char *text = cJSON_PrintUnformatted(object);
    cJSON_Delete(object);
    if (run->write_failed) {
        cJSON_free(text);
        return EXIT_FAILED;
    }
    int error = 0;
    errno = 0;
    if (!text) error = ENOMEM;
    else if (fputs(text, file) == EOF || fputc('\n', file) == EOF || fflush(file) != 0) error = errno ? errno : EIO;
    cJSON_free(text);
    if (!error) return EXIT_OK;
    run->write_failed = true;
    cli_error("writing %s/%s: %s; the run stops here%s", run->dir, file == run->metrics ? "metrics.jsonl" : "samples.jsonl",
              strerror(error), error == ENOSPC ? " (the disk is full: free some space, then continue with --resume)" : "");
    return EXIT_FAILED;
}

int cli_run_stopped(const cli_run *run, const char *command, uint64_t steps_done, int code) {
    int signal_number = cli_interrupted();
    if (!signal_number) return code;
    if (run->tty) printf("\n");
    fflush(stdout);
    fprintf(stderr, "t2g: %s: stopped by %s after step %llu; %s\n", command, cli_signal_name(signal_number),
            (unsigned long long)steps_done,
            code ? "the run also failed (see above)" : "its checkpoint is saved");
    if (!code) fprintf(stderr, "t2g: continue with: t2g %s --resume %s\n", command, run->dir);
    return 128 + signal_number;
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

/* <dir>/lock, locked for the life of the run: a second process on the same run is refused. */
static int lock_run(cli_run *run) {
    char path[1200];
    snprintf(path, sizeof path, "%s/lock", run->dir);
    run->lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (run->lock < 0) {
        cli_error("cannot create the lock file %s: %s", path, strerror(errno));
        return EXIT_FAILED;
    }
    if (flock(run->lock, LOCK_EX | LOCK_NB) != 0) {
        char holder[32] = "";
        ssize_t n = pread(run->lock, holder, sizeof holder - 1, 0);
        holder[n > 0 ? n : 0] = 0;
        holder[strcspn(holder, "\n")] = 0;
        cli_error("the run folder %s is in use by another t2g process%s%s; one process per run", run->dir,
                  holder[0] ? " (pid " : "", holder[0] ? strcat(holder, ")") : "");
        close(run->lock);
        run->lock = -1;
        return EXIT_USAGE;
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(run->lock, 0) != 0 || pwrite(run->lock, pid, (size_t)len, 0) != len) {
        /* the pid is only a courtesy to the next process: the lock itself is held */
    }
    return EXIT_OK;
}

/* Temporary files of writes that were interrupted ("<file>.tmp.<pid>"): with the lock held, no
 * other process is writing them. */
static void remove_stale_temporaries(const cli_run *run) {
    DIR *dir = opendir(run->dir);
    if (!dir) return;
    struct dirent *entry;
    while ((entry = readdir(dir))) {
        if (!strstr(entry->d_name, ".tmp.")) continue;
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", run->dir, entry->d_name);
        if (remove(path) == 0) fprintf(stderr, "t2g: removed %s, left by an interrupted write\n", path);
    }
    closedir(dir);
}

/* Keeps the lines of <dir>/<name> whose "step" is at most `step`: a run continued from an older
 * checkpoint writes its later steps again. A line that does not parse (cut by a crash or a full
 * disk) is dropped too. */
static int keep_lines_up_to(const cli_run *run, const char *name, uint64_t step) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", run->dir, name);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return EXIT_OK; /* none yet, or not a file to rewrite */
    size_t len = 0;
    char *text = NULL;
    t2g_error read_err = {0};
    if (t2g_file_read(path, "the run's lines", (t2g_read_cap){UINT64_MAX / 2, NULL}, &text, &len, &read_err)) {
        cli_error("%s", read_err.message);
        return EXIT_FAILED;
    }
    size_t kept = 0, dropped = 0;
    for (char *line = text; line < text + len;) {
        char *end = memchr(line, '\n', (size_t)(text + len - line));
        size_t n = end ? (size_t)(end - line) + 1 : (size_t)(text + len - line);
        cJSON *o = end ? cJSON_ParseWithLength(line, n) : NULL;
        const cJSON *at = cJSON_GetObjectItemCaseSensitive(o, "step");
        bool keep = cJSON_IsNumber(at) && at->valuedouble <= (double)step;
        cJSON_Delete(o);
        if (keep) memmove(text + kept, line, n), kept += n;
        else dropped++;
        line += n;
    }
    int code = EXIT_OK;
    t2g_error err = {0};
    if (dropped && t2g_write_file_atomic(run->dir, name, text, kept, &err)) {
        cli_error("%s", err.message);
        code = EXIT_FAILED;
    } else if (dropped) {
        fprintf(stderr, "t2g: %s: dropped %zu line%s past the checkpoint's step %llu\n", path, dropped,
                dropped == 1 ? "" : "s", (unsigned long long)step);
    }
    free(text);
    return code;
}

int cli_run_open(cli_run *run, const char *out, const char *resumed_dir) {
    t2g_error err = {0};
    run->lock = -1;
    if (resumed_dir) snprintf(run->dir, sizeof run->dir, "%s", resumed_dir);
    else if (t2g_run_dir_create("runs", run->config->name, out, run->dir, sizeof run->dir, &err)) {
        cli_error("%s", err.message);
        return EXIT_USAGE;
    }
    int code = lock_run(run);
    if (code) return code;
    remove_stale_temporaries(run);
    if (resumed_dir && (keep_lines_up_to(run, "metrics.jsonl", run->resumed_step) ||
                        keep_lines_up_to(run, "samples.jsonl", run->resumed_step)))
        return EXIT_FAILED;
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
    const char *path = run->config->eval.path;
    t2g_error err = {0};
    if (examples && !run->task && !path[0])
        fprintf(stderr, "t2g: note: no evaluation: the data is a file (data.path) and eval.path is empty; set "
                        "eval.path=FILE (held-out prompt/response rows) to evaluate every eval.every steps\n");
    if (!examples || (!run->task && !path[0])) return EXIT_OK;
    const t2g_config *c = run->config;
    if (path[0] && (t2g_dataset_load_jsonl(path, c->data.max_line_bytes, &run->eval_data, &err) ||
                    t2g_dataset_tokenize(&run->eval_data, run->text, c->data.parse_special != 0, c->model.context, path,
                                         &err))) {
        cli_error("eval.path: %s", err.message);
        return EXIT_USAGE;
    }
    if (path[0] && run->eval_data.count == 0) {
        cli_error("eval.path: %s holds no row", path);
        return EXIT_USAGE;
    }
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

static int write_samples(cli_run *run, uint64_t step, const t2g_eval_result *r) {
    for (uint32_t i = 0; i < r->sample_count; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "step", (double)step);
        cJSON_AddStringToObject(o, "kind", "eval");
        cJSON_AddStringToObject(o, "prompt", r->samples[i].prompt);
        cJSON_AddStringToObject(o, "response", r->samples[i].response);
        cJSON_AddStringToObject(o, "reference", r->samples[i].reference);
        cJSON_AddItemToObject(o, "score", metrics_json(&r->samples[i].score));
        if (cli_run_write(run, run->samples, o)) return EXIT_FAILED;
    }
    return EXIT_OK;
}

/* A failed evaluation: a warning, and "eval_error" where "eval" would have been. */
static void eval_failed(cli_run *run, uint64_t step, cJSON *line, const char *message) {
    if (run->tty) printf("\r\033[K");
    fflush(stdout);
    fprintf(stderr, "t2g: warning: evaluating at step %llu failed; the run goes on: %s\n", (unsigned long long)step,
            message);
    run->eval_failures++;
    cJSON *o = line ? line : cJSON_CreateObject();
    if (!line) cJSON_AddNumberToObject(o, "step", (double)step);
    cJSON_AddStringToObject(o, "eval_error", message);
    if (!line) cli_run_write(run, run->metrics, o);
}

int cli_run_evaluate(cli_run *run, uint64_t step, cJSON *line, const char *when) {
    const t2g_config *c = run->config;
    if ((!run->task && !run->eval_data.count) || c->eval.examples == 0) return EXIT_OK;
    t2g_eval_result result;
    t2g_error err = {0};
    t2g_status status = run->eval_data.count
                            ? t2g_evaluate_data(run->model, run->generator, run->text, run->critic, &run->eval_data,
                                                c->eval.examples, c->eval.samples, c->eval.max_new_tokens, &result, &err)
                            : t2g_evaluate(run->model, run->generator, run->text, run->task, c->data.seed,
                                           c->eval.examples, c->eval.samples, c->eval.max_new_tokens, &result, &err);
    if (status) {
        eval_failed(run, step, line, err.message);
        return EXIT_OK;
    }
    if (run->tty) printf("\r\033[K");
    print_eval(when, &result);
    int code = write_samples(run, step, &result);
    cJSON *eval = metrics_json(&result.metrics);
    cJSON_AddNumberToObject(eval, "seconds", result.seconds);
    if (line) {
        cJSON_AddItemToObject(line, "eval", eval);
    } else {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "step", (double)step);
        cJSON_AddItemToObject(o, "eval", eval);
        if (!code) code = cli_run_write(run, run->metrics, o);
        else cJSON_Delete(o);
    }
    t2g_eval_result_free(&result);
    return code;
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

int cli_run_eval_verdict(const cli_run *run) {
    if (!run->eval_failures) return EXIT_OK;
    cli_error("%u evaluation%s failed (\"eval_error\" in %s/metrics.jsonl); the checkpoint and the report were written",
              run->eval_failures, run->eval_failures == 1 ? "" : "s", run->dir);
    return EXIT_EVAL_FAILED;
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
    if (run->config->on_nonfinite == T2G_ON_NONFINITE_SKIP) {
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

void cli_run_first_step(const cli_run *run, double ms) {
    if (run->quiet) return;
    t2g_pipeline_stats pipelines = t2g_device_pipeline_stats(run->device);
    printf("%sfirst step %.0f ms (pipelines: %u created so far, %.0f ms)\n", run->tty ? "\n" : "", ms,
           pipelines.created, pipelines.create_ms);
    fflush(stdout);
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
    t2g_dataset_free(&run->eval_data);
    run->metrics = run->samples = NULL;
    run->generator = NULL;
    if (opened) write_report(run->dir);
    if (run->lock >= 0) close(run->lock); /* the lock goes with its descriptor */
    run->lock = -1;
}

int cli_run_load_resume(const char *resume, t2g_run_kind kind, t2g_checkpoint *checkpoint, char *dir, size_t size) {
    char path[1200];
    if (cli_resume_paths(resume, path, sizeof path, dir, size)) return EXIT_USAGE;
    t2g_error err = {0};
    if (t2g_checkpoint_load(path, checkpoint, &err)) {
        cli_error("--resume: %s", err.message);
        return EXIT_USAGE;
    }
    return cli_check_resume_kind(resume, checkpoint, kind);
}
