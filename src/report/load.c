/* A run folder read for the report: run.json, config.json, every metric as a series over
 * steps, and the samples of the first and last evaluation and RL step. What cannot be read
 * becomes a note and is left out; only a missing folder or an unreadable file stops. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/grow.h"
#include "core/read_file.h"
#include "report_internal.h"

void report_note(report_notes *notes, const char *format, ...) {
    if (notes->count < REPORT_MAX_NOTES) {
        va_list args;
        va_start(args, format);
        vsnprintf(notes->text[notes->count], sizeof notes->text[0], format, args);
        va_end(args);
    }
    notes->count++;
}

const report_series *report_find(const report_run *run, const char *name) {
    for (size_t i = 0; i < run->series_count; i++)
        if (strcmp(run->series[i].name, name) == 0) return &run->series[i];
    return NULL;
}

static report_series *series_for(report_run *run, const char *prefix, const char *name) {
    char full[256];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    for (size_t i = 0; i < run->series_count; i++)
        if (strcmp(run->series[i].name, full) == 0) return &run->series[i];
    if (run->series_count == REPORT_MAX_SERIES) return &run->overflow; /* a sink: never drawn */
    if (!t2g_grow(&run->series, &run->series_cap, run->series_count + 1, sizeof *run->series)) return NULL;
    report_series *s = &run->series[run->series_count];
    memset(s, 0, sizeof *s);
    s->name = strdup(full);
    if (!s->name) return NULL;
    run->series_count++;
    return s;
}

static bool series_add(report_series *s, double x, double y) {
    if (!s->name) return true; /* the sink of metrics past REPORT_MAX_SERIES */
    if (s->n == s->cap) { /* x and y grow together: y to the capacity x reached */
        size_t x_cap = s->cap, y_cap = s->cap;
        if (!t2g_grow(&s->x, &x_cap, s->n + 1, sizeof *s->x) || !t2g_grow(&s->y, &y_cap, x_cap, sizeof *s->y))
            return false;
        s->cap = x_cap;
    }
    s->x[s->n] = x;
    s->y[s->n] = y;
    s->n++;
    return true;
}

/* The numbers of one object (numbers, and null as a gap) added at `step`. */
static bool add_numbers(report_run *run, const cJSON *object, const char *prefix, double step) {
    for (const cJSON *item = object->child; item; item = item->next) {
        if (!item->string || strcmp(item->string, "step") == 0) continue;
        if (*prefix && strcmp(item->string, "seconds") == 0) continue; /* an evaluation's own time */
        double value;
        if (cJSON_IsNumber(item)) value = item->valuedouble;
        else if (cJSON_IsNull(item)) value = NAN;
        else continue;
        report_series *s = series_for(run, prefix, item->string);
        if (!s || !series_add(s, step, value)) return false;
    }
    return true;
}

/* Reads a JSONL file line by line; each line that is a JSON object with a numeric "step" >= 0
 * goes to `take` (which owns it). Returns T2G_ERR_IO if the file cannot be read. */
typedef bool (*line_fn)(report_run *run, cJSON *line, double step);

static t2g_status read_jsonl(report_run *run, const char *file, line_fn take, bool required, report_notes *notes,
                             t2g_error *err) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", run->dir, file);
    t2g_line_reader lines;
    t2g_read_cap cap = {T2G_RUN_LINE_MAX_BYTES, NULL};
    if (t2g_lines_open(&lines, path, "the run file", cap, err)) {
        if (errno == ENOENT) {
            if (required) report_note(notes, "%s: missing (the run wrote no metrics)", path);
            return T2G_OK;
        }
        return err ? err->status : T2G_ERR_IO;
    }
    t2g_status status = T2G_OK;
    for (;;) {
        const char *line;
        size_t n;
        status = t2g_lines_next(&lines, &line, &n, err);
        if (status || !line) break;
        uint64_t number = lines.number;
        while (n > 0 && line[n - 1] == ' ') n--;
        if (n == 0) continue;
        cJSON *object = cJSON_ParseWithLength(line, n);
        const cJSON *step = cJSON_GetObjectItemCaseSensitive(object, "step");
        if (!object || !cJSON_IsObject(object)) {
            report_note(notes, "%s line %llu: not a JSON object", path, (unsigned long long)number);
        } else if (!cJSON_IsNumber(step) || !(step->valuedouble >= 0) || !isfinite(step->valuedouble)) {
            report_note(notes, "%s line %llu: no \"step\" (a number >= 0)", path, (unsigned long long)number);
        } else {
            if (!take(run, object, step->valuedouble)) {
                status = t2g_fail(err, T2G_ERR_MEMORY, "out of memory reading %s", path);
                break;
            }
            continue;
        }
        cJSON_Delete(object);
    }
    t2g_lines_close(&lines);
    return status;
}

static bool take_metrics(report_run *run, cJSON *line, double step) {
    bool ok = add_numbers(run, line, "", step);
    const cJSON *eval = cJSON_GetObjectItemCaseSensitive(line, "eval");
    if (ok && cJSON_IsObject(eval)) ok = add_numbers(run, eval, "eval.", step);
    const cJSON *critic = cJSON_GetObjectItemCaseSensitive(line, "critic");
    if (ok && cJSON_IsObject(critic)) ok = add_numbers(run, critic, "critic.", step);
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(line, "ms_per_step");
    if (cJSON_IsNumber(ms) && isfinite(ms->valuedouble)) run->wall_ms += ms->valuedouble;
    if (ms || cJSON_GetObjectItemCaseSensitive(line, "loss") || cJSON_GetObjectItemCaseSensitive(line, "score"))
        run->steps_logged++;
    if (step > run->last_step) run->last_step = step;
    cJSON_Delete(line);
    return ok;
}

static bool start_group(report_samples *group, cJSON *line, double step) {
    cJSON_Delete(group->lines);
    group->lines = cJSON_CreateArray();
    group->present = group->lines != NULL;
    group->step = step;
    if (!group->present) {
        cJSON_Delete(line);
        return false;
    }
    cJSON_AddItemToArray(group->lines, line);
    return true;
}

/* `first` keeps the lines of the smallest step, `last` those of the largest step after it. */
static bool take_group(report_samples *first, report_samples *last, cJSON *line, double step) {
    if (!first->present) return start_group(first, line, step);
    if (step == first->step) return cJSON_AddItemToArray(first->lines, line);
    if (step < first->step) { /* out of order: the old first group may be the last one */
        if (!last->present) {
            *last = *first;
            first->lines = NULL;
        }
        return start_group(first, line, step);
    }
    if (!last->present || step > last->step) return start_group(last, line, step);
    if (step == last->step) return cJSON_AddItemToArray(last->lines, line);
    cJSON_Delete(line);
    return true;
}

static bool take_sample(report_run *run, cJSON *line, double step) {
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(line, "kind");
    const char *k = cJSON_IsString(kind) ? kind->valuestring : "";
    if (strcmp(k, "eval") == 0) return take_group(&run->eval_first, &run->eval_last, line, step);
    if (strcmp(k, "rollout") == 0) return take_group(&run->rollout_first, &run->rollout_last, line, step);
    cJSON_Delete(line);
    return true;
}

static t2g_status read_json(report_run *run, const char *file, cJSON **out, report_notes *notes, t2g_error *err) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", run->dir, file);
    char *text = NULL;
    size_t len = 0;
    t2g_status status = t2g_file_read(path, "the run file", (t2g_read_cap){T2G_RUN_LINE_MAX_BYTES, NULL}, &text, &len, err);
    if (status) return errno == ENOENT ? T2G_OK : status;
    *out = cJSON_ParseWithLength(text, len);
    if (!*out || !cJSON_IsObject(*out)) {
        report_note(notes, "%s: not a JSON object (left out)", path);
        cJSON_Delete(*out);
        *out = NULL;
    }
    free(text);
    return T2G_OK;
}

static bool exists(const char *dir, const char *file) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    struct stat st;
    return stat(path, &st) == 0;
}

t2g_status report_run_load(report_run *run, const char *dir, report_notes *notes, t2g_error *err) {
    memset(run, 0, sizeof *run);
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') n--; /* "runs/x/" is "runs/x" */
    if (n >= sizeof run->dir) return t2g_fail(err, T2G_ERR_ARGUMENT, "the run folder's path is too long: %s", dir);
    memcpy(run->dir, dir, n);
    run->dir[n] = 0;
    struct stat st;
    if (stat(run->dir, &st) != 0)
        return t2g_fail(err, T2G_ERR_IO, "cannot open the run folder %s: %s", run->dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return t2g_fail(err, T2G_ERR_IO, "%s is not a folder (a run folder holds config.json and metrics.jsonl)",
                        run->dir);
    if (!exists(run->dir, "config.json") && !exists(run->dir, "metrics.jsonl"))
        return t2g_fail(err, T2G_ERR_IO,
                        "%s is not a run folder: it has neither config.json nor metrics.jsonl (made by t2g train, "
                        "t2g rl or t2g demo)",
                        run->dir);
    const char *base = strrchr(run->dir, '/');
    snprintf(run->name, sizeof run->name, "%s", base && base[1] ? base + 1 : run->dir);
    t2g_status status = read_json(run, "run.json", &run->info, notes, err);
    if (!status) status = read_json(run, "config.json", &run->config, notes, err);
    if (!status) status = read_jsonl(run, "metrics.jsonl", take_metrics, true, notes, err);
    if (!status) status = read_jsonl(run, "samples.jsonl", take_sample, false, notes, err);
    return status;
}

void report_run_free(report_run *run) {
    for (size_t i = 0; i < run->series_count; i++) {
        free(run->series[i].name);
        free(run->series[i].x);
        free(run->series[i].y);
    }
    free(run->series);
    cJSON_Delete(run->info);
    cJSON_Delete(run->config);
    cJSON_Delete(run->eval_first.lines);
    cJSON_Delete(run->eval_last.lines);
    cJSON_Delete(run->rollout_first.lines);
    cJSON_Delete(run->rollout_last.lines);
    memset(run, 0, sizeof *run);
}

const char *report_run_kind(const report_run *run, bool *guessed) {
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(run->info, "kind");
    *guessed = false;
    if (cJSON_IsString(kind) && kind->valuestring[0]) return kind->valuestring;
    *guessed = true;
    return report_find(run, "score") || report_find(run, "reward") ? "rl" : "train";
}
