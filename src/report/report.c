/* t2g_report_write: the page. A header with each run's facts, the config, the curves, the
 * samples before and after, how to reproduce. Everything from a file goes through rb_text. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "report_internal.h"
#include "t2g/t2g.h"
#include "t2g/train.h"

enum { TEXT_LIMIT = 4000, MAX_SAMPLES_SHOWN = 12, MAX_TOKENS_SHOWN = 2000 };

/* ---- small helpers ---- */

static const char *json_string(const cJSON *object, const char *key) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

static bool json_number(const cJSON *object, const char *key, double *value) {
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);
    if (!cJSON_IsNumber(item)) return false;
    *value = item->valuedouble;
    return true;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double series_median(const report_series *s) {
    if (!s || s->n == 0) return NAN;
    double *values = malloc(s->n * sizeof *values);
    if (!values) return NAN;
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        if (isfinite(s->y[i])) values[n++] = s->y[i];
    double median = NAN;
    if (n) {
        qsort(values, n, sizeof *values, compare_doubles);
        median = n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
    }
    free(values);
    return median;
}

static bool series_has_values(const report_series *s) {
    if (!s) return false;
    for (size_t i = 0; i < s->n; i++)
        if (isfinite(s->y[i])) return true;
    return false;
}

static void put_number(rbuf *b, double v, int digits) {
    char text[48];
    format_number(v, digits, text, sizeof text);
    rb_puts(b, text);
}

static void put_duration(rbuf *b, double seconds) {
    if (seconds < 60) {
        rb_printf(b, "%.1f s", seconds);
        return;
    }
    long s = (long)(seconds + 0.5);
    if (s >= 3600) rb_printf(b, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else rb_printf(b, "%ld:%02ld", s / 60, s % 60);
}

static void put_rate(rbuf *b, double tokens_per_s) {
    if (tokens_per_s >= 1e4) rb_printf(b, "%.1fk", tokens_per_s / 1000);
    else rb_printf(b, "%.0f", tokens_per_s);
}

/* A shell word for a path: as it is when it is plain, else in single quotes. */
static void put_shell_word(rbuf *b, const char *word) {
    bool plain = *word != 0;
    for (const char *c = word; *c; c++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./+=:,@", *c)) plain = false;
    if (plain) {
        rb_textz(b, word, RB_MARK);
        return;
    }
    rb_puts(b, "&#39;");
    for (const char *c = word; *c; c++) {
        const char *end = strchr(c, '\'');
        size_t n = end ? (size_t)(end - c) : strlen(c);
        rb_text(b, c, n, RB_MARK);
        if (!end) break;
        rb_puts(b, "&#39;\\&#39;&#39;");
        c = end;
    }
    rb_puts(b, "&#39;");
}

/* ---- the config, flattened to dotted keys ---- */

typedef struct config_entry {
    char key[192];
    char *value;
    bool string;
} config_entry;

typedef struct config_list {
    config_entry *entries;
    size_t n, cap;
    bool failed;
} config_list;

static void config_add(config_list *list, const char *key, char *value, bool string) {
    if (!value) list->failed = true;
    if (list->failed) {
        free(value);
        return;
    }
    if (!t2g_grow(&list->entries, &list->cap, list->n + 1, sizeof *list->entries)) {
        list->failed = true;
        free(value);
        return;
    }
    config_entry *e = &list->entries[list->n++];
    snprintf(e->key, sizeof e->key, "%s", key);
    e->value = value;
    e->string = string;
}

static void flatten(const cJSON *object, const char *prefix, config_list *list) {
    for (const cJSON *item = object->child; item; item = item->next) {
        char key[192];
        snprintf(key, sizeof key, "%s%s%s", prefix, *prefix ? "." : "", item->string ? item->string : "?");
        if (cJSON_IsObject(item)) {
            flatten(item, key, list);
        } else if (cJSON_IsString(item)) {
            config_add(list, key, strdup(item->valuestring), true);
        } else if (cJSON_IsNumber(item)) {
            char text[48];
            double v = item->valuedouble;
            if (v == floor(v) && fabs(v) < 1e15) snprintf(text, sizeof text, "%.0f", v);
            else snprintf(text, sizeof text, "%.10g", v);
            config_add(list, key, strdup(text), false);
        } else if (cJSON_IsBool(item)) {
            config_add(list, key, strdup(cJSON_IsTrue(item) ? "true" : "false"), false);
        } else {
            config_add(list, key, cJSON_PrintUnformatted(item), false);
        }
    }
}

static void config_free(config_list *list) {
    for (size_t i = 0; i < list->n; i++) cJSON_free(list->entries[i].value);
    free(list->entries);
}

static const config_entry *config_get(const config_list *list, const char *key) {
    for (size_t i = 0; i < list->n; i++)
        if (strcmp(list->entries[i].key, key) == 0) return &list->entries[i];
    return NULL;
}

static void put_config_value(rbuf *b, const config_entry *e) {
    if (!e) rb_puts(b, "<span class=\"empty\">absent</span>");
    else if (e->string && !e->value[0]) rb_puts(b, "<span class=\"empty\">\"\"</span>");
    else rb_text_limited(b, e->value, TEXT_LIMIT, RB_MARK);
}

static bool section_of(const char *key, char *section, size_t size) {
    const char *dot = strchr(key, '.');
    if (!dot) return snprintf(section, size, "run"), false;
    snprintf(section, size, "%.*s", (int)(dot - key), key);
    return true;
}

static void put_config(rbuf *b, const report_run *runs, uint32_t count, bool *failed) {
    config_list lists[REPORT_MAX_RUNS] = {{0}};
    config_list keys = {0}; /* every key once, in the order of first appearance */
    for (uint32_t r = 0; r < count; r++) {
        if (runs[r].config) flatten(runs[r].config, "", &lists[r]);
        for (size_t i = 0; i < lists[r].n; i++)
            if (!config_get(&keys, lists[r].entries[i].key))
                config_add(&keys, lists[r].entries[i].key, strdup(""), false);
        if (lists[r].failed) *failed = true;
    }
    if (keys.failed) *failed = true;
    /* which keys differ */
    bool *differs = calloc(keys.n ? keys.n : 1, sizeof *differs);
    if (!differs) *failed = true;
    size_t differing = 0;
    for (size_t k = 0; differs && k < keys.n; k++) {
        const config_entry *a = config_get(&lists[0], keys.entries[k].key);
        for (uint32_t r = 1; r < count && !differs[k]; r++) {
            const config_entry *e = config_get(&lists[r], keys.entries[k].key);
            differs[k] = !a || !e || strcmp(a->value, e->value) != 0;
        }
        differing += differs[k];
    }
    rb_puts(b, "<section id=\"config\"><h2>Config</h2>\n");
    if (keys.n == 0) rb_puts(b, "<p class=\"empty\">No config.json.</p>\n");
    if (count > 1 && keys.n) {
        rb_printf(b, "<p class=\"sub\">%zu of %zu keys differ between the runs", differing, keys.n);
        if (differing) {
            rb_puts(b, " (marked &#8800;): ");
            size_t shown = 0;
            for (size_t k = 0; differs && k < keys.n && shown < 16; k++)
                if (differs[k]) {
                    rb_puts(b, shown++ ? ", " : "");
                    rb_puts(b, "<b class=\"mono\">");
                    rb_textz(b, keys.entries[k].key, RB_MARK);
                    rb_puts(b, "</b>");
                }
            if (differing > shown) rb_printf(b, " and %zu more", differing - shown);
        }
        rb_puts(b, ".</p>\n");
    }
    rb_puts(b, count > 1 ? "<div class=\"config multi\">\n" : "<div class=\"config\">\n");
    /* a table per section (the part before the first dot), in the order the sections are met */
    for (size_t k = 0; differs && k < keys.n; k++) {
        char section[192], other[192];
        section_of(keys.entries[k].key, section, sizeof section);
        bool met = false;
        for (size_t j = 0; j < k && !met; j++) {
            section_of(keys.entries[j].key, other, sizeof other);
            met = strcmp(section, other) == 0;
        }
        if (met) continue;
        rb_puts(b, "<table><caption>");
        rb_textz(b, section, RB_MARK);
        rb_puts(b, "</caption>");
        if (count > 1) {
            rb_puts(b, "<thead><tr><th class=\"k\">key</th>");
            for (uint32_t r = 0; r < count; r++) {
                rb_puts(b, "<th>");
                svg_swatch(b, (int)r, false);
                rb_text_limited(b, runs[r].name, 40, RB_MARK);
                rb_puts(b, "</th>");
            }
            rb_puts(b, "</tr></thead>");
        }
        rb_puts(b, "<tbody>");
        for (size_t j = k; j < keys.n; j++) {
            bool dotted = section_of(keys.entries[j].key, other, sizeof other);
            if (strcmp(section, other) != 0) continue;
            const char *key = keys.entries[j].key;
            rb_puts(b, differs[j] ? "<tr class=\"diff\"><td class=\"k\">" : "<tr><td class=\"k\">");
            rb_textz(b, dotted ? strchr(key, '.') + 1 : key, RB_MARK);
            rb_puts(b, "</td>");
            for (uint32_t r = 0; r < count; r++) {
                rb_puts(b, "<td class=\"v\">");
                put_config_value(b, config_get(&lists[r], key));
                rb_puts(b, "</td>");
            }
            rb_puts(b, "</tr>");
        }
        rb_puts(b, "</tbody></table>\n");
    }
    rb_puts(b, "</div></section>\n");
    free(differs);
    config_free(&keys);
    for (uint32_t r = 0; r < count; r++) config_free(&lists[r]);
}

/* ---- the header ---- */

static void put_eval_summary(rbuf *b, const report_run *run) {
    bool any = false;
    for (size_t i = 0; i < run->series_count; i++) {
        const report_series *s = &run->series[i];
        if (strncmp(s->name, "eval.", 5) != 0 || !series_has_values(s)) continue;
        size_t first = 0, last = s->n - 1;
        while (!isfinite(s->y[first])) first++;
        while (!isfinite(s->y[last])) last--;
        rb_puts(b, any ? "<br>" : "");
        rb_textz(b, s->name + 5, RB_MARK);
        rb_puts(b, " <span class=\"num\">");
        put_number(b, s->y[first], 3);
        rb_printf(b, " <span class=\"small\">(step %.0f)</span>", s->x[first]);
        if (last != first) {
            rb_puts(b, " &#8594; ");
            put_number(b, s->y[last], 3);
            rb_printf(b, " <span class=\"small\">(step %.0f)</span>", s->x[last]);
        }
        rb_puts(b, "</span>");
        any = true;
    }
    if (!any) rb_puts(b, "<span class=\"empty\">none</span>");
}

static void put_header(rbuf *b, const report_run *runs, uint32_t count) {
    rb_puts(b, "<header><h1>t2g run report<span class=\"runs\"> &#8212; ");
    for (uint32_t r = 0; r < count; r++) {
        rb_puts(b, r ? ", " : "");
        rb_text_limited(b, runs[r].name, 120, RB_MARK);
    }
    rb_puts(b, "</span></h1>\n<p class=\"sub\">");
    if (count > 1) rb_printf(b, "%u runs overlaid. ", count);
    rb_puts(b, "Curves, samples before and after, the config, and how to reproduce.</p>\n");
    rb_puts(b, "<div class=\"wide\"><table class=\"runs\"><thead><tr><th>run</th><th>kind</th><th>device</th>"
               "<th>t2g</th><th>started</th><th>steps</th><th>wall time</th><th>throughput</th>"
               "<th>evaluation (first &#8594; last)</th></tr></thead><tbody>\n");
    for (uint32_t r = 0; r < count; r++) {
        const report_run *run = &runs[r];
        rb_puts(b, "<tr><td>");
        svg_swatch(b, (int)r, false);
        rb_puts(b, "<b>");
        rb_text_limited(b, run->name, 200, RB_MARK);
        rb_puts(b, "</b>");
        const char *config_name = json_string(run->config, "name");
        if (config_name && strcmp(config_name, run->name) != 0) {
            rb_puts(b, "<br><span class=\"small\">name: ");
            rb_text_limited(b, config_name, 200, RB_MARK);
            rb_puts(b, "</span>");
        }
        if (strcmp(run->dir, run->name) != 0) {
            rb_puts(b, "<br><span class=\"small\">");
            rb_text_limited(b, run->dir, 300, RB_MARK);
            rb_puts(b, "</span>");
        }
        bool guessed;
        const char *kind = report_run_kind(run, &guessed);
        rb_puts(b, "</td><td>");
        rb_text_limited(b, kind, 40, RB_MARK);
        if (guessed) rb_puts(b, " <span class=\"small\">(guessed: no run.json)</span>");
        rb_puts(b, "</td><td>");
        const cJSON *device = cJSON_GetObjectItemCaseSensitive(run->info, "device");
        if (json_string(device, "name")) {
            rb_text_limited(b, json_string(device, "name"), 200, RB_MARK);
            const char *parts[] = {json_string(device, "type"), json_string(device, "driver"),
                                   json_string(device, "vulkan")};
            rb_puts(b, "<br><span class=\"small\">");
            bool first = true;
            for (int i = 0; i < 3; i++) {
                if (!parts[i] || !parts[i][0]) continue;
                rb_puts(b, first ? "" : " &#183; ");
                rb_puts(b, i == 2 ? "Vulkan " : "");
                rb_text_limited(b, parts[i], 200, RB_MARK);
                first = false;
            }
            rb_puts(b, "</span>");
        } else {
            rb_puts(b, "<span class=\"empty\">unknown</span>");
        }
        rb_puts(b, "</td><td>");
        if (json_string(run->info, "t2g")) rb_text_limited(b, json_string(run->info, "t2g"), 40, RB_MARK);
        else rb_puts(b, "<span class=\"empty\">unknown</span>");
        rb_puts(b, "</td><td class=\"num\">");
        if (json_string(run->info, "started")) rb_text_limited(b, json_string(run->info, "started"), 60, RB_MARK);
        else rb_puts(b, "<span class=\"empty\">unknown</span>");
        rb_printf(b, "</td><td class=\"num\">%.0f", run->last_step);
        double planned;
        const cJSON *train = cJSON_GetObjectItemCaseSensitive(run->config, "train");
        if (json_number(train, "steps", &planned) && planned != run->last_step) rb_printf(b, " of %.0f", planned);
        rb_puts(b, "</td><td class=\"num\">");
        if (run->wall_ms > 0) put_duration(b, run->wall_ms / 1000);
        else rb_puts(b, "<span class=\"empty\">&#8212;</span>");
        rb_puts(b, "</td><td class=\"num\">");
        double train_rate = series_median(report_find(run, "tokens_per_s"));
        double rollout_rate = series_median(report_find(run, "rollout_tokens_per_s"));
        double rl_rate = series_median(report_find(run, "train_tokens_per_s"));
        bool any = false;
        if (isfinite(train_rate)) {
            put_rate(b, train_rate);
            rb_puts(b, " tokens/s");
            any = true;
        }
        if (isfinite(rollout_rate)) {
            rb_puts(b, any ? "<br>" : "");
            put_rate(b, rollout_rate);
            rb_puts(b, " tokens/s rollout");
            any = true;
        }
        if (isfinite(rl_rate)) {
            rb_puts(b, any ? "<br>" : "");
            put_rate(b, rl_rate);
            rb_puts(b, " tokens/s training");
            any = true;
        }
        if (any) rb_puts(b, "<br><span class=\"small\">median over steps</span>");
        else rb_puts(b, "<span class=\"empty\">&#8212;</span>");
        rb_puts(b, "</td><td>");
        put_eval_summary(b, run);
        rb_puts(b, "</td></tr>\n");
    }
    rb_puts(b, "</tbody></table></div></header>\n");
}

static void put_notes(rbuf *b, const report_notes *notes) {
    if (!notes->count) return;
    rb_printf(b, "<section class=\"notes\" id=\"notes\"><b>Left out of this report (%u):</b><ul>", notes->count);
    for (uint32_t i = 0; i < notes->count && i < REPORT_MAX_NOTES; i++) {
        rb_puts(b, "<li>");
        rb_textz(b, notes->text[i], RB_MARK);
        rb_puts(b, "</li>");
    }
    if (notes->count > REPORT_MAX_NOTES) rb_printf(b, "<li>and %u more</li>", notes->count - REPORT_MAX_NOTES);
    rb_puts(b, "</ul></section>\n");
}

/* ---- the curves ---- */

typedef struct chart_spec {
    const char *key, *title, *note;
    unsigned flags; /* CHART_LOG, CHART_UNIT */
} chart_spec;

static const chart_spec TRAIN_CHARTS[] = {
    {"loss", "loss", "training; mean over weighted tokens", CHART_LOG},
    {"lr", "learning rate", "", 0},
    {"grad_norm", "gradient norm", "before clipping", CHART_LOG},
    {"tokens_per_s", "throughput", "tokens/s", 0},
};
static const chart_spec RL_CHARTS[] = {
    {"score", "critic score", "mean over responses", 0},
    {"token_score", "token score", "mean over response tokens", 0},
    {"reward", "reward", "per response, with the KL penalty", 0},
    {"kl", "KL to the start", "per response, summed over tokens", 0},
    {"beta", "\xCE\xB2, the KL coefficient", "", 0},
    {"clip_fraction", "clip fraction", "PPO", 0},
    {"approx_kl", "approximate KL", "policy step, PPO", 0},
    {"value_loss", "value loss", "", CHART_LOG},
    {"policy_loss", "policy loss", "", 0},
    {"entropy", "entropy", "nats per token", 0},
    {"span_match_rate", "span match rate", "critique spans found in the response", CHART_UNIT},
    {"response_tokens", "response length", "tokens, mean", 0},
    {"critic_failures", "critic failures", "responses without a usable critique", 0},
    {"rollout_tokens_per_s", "rollout throughput", "tokens/s", 0},
    {"train_tokens_per_s", "training throughput", "tokens/s", 0},
};

/* A language-model critic's figures (metrics.jsonl's "critic" object), shown when some run asked
 * one (requests or cache hits): a built-in critic's would be a page of zeros. */
static const chart_spec CRITIC_CHARTS[] = {
    {"critic.ms", "critic time", "ms per step, judging every response", 0},
    {"critic.latency_ms", "critic latency", "ms per answered request, mean", 0},
    {"critic.requests", "critic requests", "per step, retries included", 0},
    {"critic.retries", "critic retries", "per step", 0},
    {"critic.unparsed", "unparsed critiques", "answers with no readable critique, per step", 0},
    {"critic.failed", "no critique", "responses left without one after the retries, per step", 0},
    {"critic.cache_hits", "critique cache hits", "per step", 0},
    {"critic.spans_per_critique", "spans per critique", "mean", 0},
    {"critic.spans_found", "spans found", "share found in their responses", CHART_UNIT},
    {"critic.completion_tokens", "critique tokens", "generated per step", 0},
};

static bool asked_a_model(const report_run *runs, uint32_t count) {
    static const char *const keys[] = {"critic.requests", "critic.cache_hits"};
    for (uint32_t r = 0; r < count; r++)
        for (size_t k = 0; k < 2; k++) {
            const report_series *s = report_find(&runs[r], keys[k]);
            for (size_t i = 0; s && i < s->n; i++)
                if (s->y[i] > 0) return true;
        }
    return false;
}

static bool put_chart(rbuf *b, const report_run *runs, uint32_t count, const char *key, const char *title,
                      const char *note, unsigned flags, bool markers) {
    chart_line lines[REPORT_MAX_RUNS];
    size_t n = 0;
    for (uint32_t r = 0; r < count; r++) {
        const report_series *s = report_find(&runs[r], key);
        if (!series_has_values(s)) continue;
        lines[n++] = (chart_line){.label = runs[r].name, .x = s->x, .y = s->y, .n = s->n, .style = (int)r,
                                  .markers = markers};
    }
    if (!n) return false;
    svg_chart(b, title, note, lines, n, flags);
    return true;
}

static void put_chart_group(rbuf *b, const report_run *runs, uint32_t count, const char *heading,
                            const chart_spec *specs, size_t spec_count) {
    bool any = false;
    for (size_t i = 0; i < spec_count && !any; i++)
        for (uint32_t r = 0; r < count && !any; r++) any = series_has_values(report_find(&runs[r], specs[i].key));
    if (!any) return;
    rb_printf(b, "<h3>%s</h3>\n<div class=\"charts\">\n", heading);
    for (size_t i = 0; i < spec_count; i++)
        put_chart(b, runs, count, specs[i].key, specs[i].title, specs[i].note, specs[i].flags, false);
    rb_puts(b, "</div>\n");
}

static void put_curves(rbuf *b, const report_run *runs, uint32_t count) {
    rb_puts(b, "<section id=\"curves\"><h2>Curves</h2>\n");
    size_t before = b->len;
    put_chart_group(b, runs, count, "Training", TRAIN_CHARTS, sizeof TRAIN_CHARTS / sizeof TRAIN_CHARTS[0]);
    put_chart_group(b, runs, count, "Reinforcement learning from critiques", RL_CHARTS,
                    sizeof RL_CHARTS / sizeof RL_CHARTS[0]);
    if (asked_a_model(runs, count))
        put_chart_group(b, runs, count, "The critic", CRITIC_CHARTS, sizeof CRITIC_CHARTS / sizeof CRITIC_CHARTS[0]);
    /* every evaluation metric of any run, in the order met */
    bool any = false;
    for (uint32_t r = 0; r < count; r++)
        for (size_t i = 0; i < runs[r].series_count; i++)
            any |= strncmp(runs[r].series[i].name, "eval.", 5) == 0 && series_has_values(&runs[r].series[i]);
    if (any) rb_puts(b, "<h3>Evaluation</h3>\n<div class=\"charts\">\n");
    for (uint32_t r = 0; any && r < count; r++)
        for (size_t i = 0; i < runs[r].series_count; i++) {
            const char *key = runs[r].series[i].name;
            if (strncmp(key, "eval.", 5) != 0) continue;
            bool seen = false;
            for (uint32_t q = 0; q < r && !seen; q++) seen = report_find(&runs[q], key) != NULL;
            if (!seen)
                put_chart(b, runs, count, key, key + 5, "held-out prompts; a marker per evaluation", CHART_UNIT, true);
        }
    if (any) rb_puts(b, "</div>\n");
    if (b->len == before) rb_puts(b, "<p class=\"empty\">No metrics.</p>\n");
    rb_puts(b, "</section>\n");
}

/* ---- the samples ---- */

static void put_text_cell(rbuf *b, const char *cls, const char *text) {
    rb_printf(b, "<td class=\"%s\">", cls);
    if (!text) rb_puts(b, "<span class=\"empty\">absent</span>");
    else if (!*text) rb_puts(b, "<span class=\"empty\">(empty)</span>");
    else rb_text_limited(b, text, TEXT_LIMIT, RB_MARK | RB_NEWLINES);
    rb_puts(b, "</td>");
}

static void put_score(rbuf *b, const cJSON *score) {
    const cJSON *only = cJSON_IsObject(score) && score->child && !score->child->next ? score->child : score;
    if (cJSON_IsNumber(only) && only->valuedouble > 0 && only->valuedouble <= 1) /* a metric in [0, 1]: tinted */
        rb_printf(b, "<td class=\"s num\" style=\"background:rgba(var(--good),%.2f)\">",
                  0.08 + 0.3 * only->valuedouble);
    else
        rb_puts(b, "<td class=\"s num\">");
    if (cJSON_IsNumber(score)) {
        put_number(b, score->valuedouble, 4);
    } else if (cJSON_IsObject(score)) {
        bool single = score->child && !score->child->next;
        for (const cJSON *m = score->child; m; m = m->next) {
            if (m != score->child) rb_puts(b, "<br>");
            if (!single) {
                rb_textz(b, m->string, RB_MARK);
                rb_puts(b, " ");
            }
            if (cJSON_IsNumber(m)) put_number(b, m->valuedouble, 4);
            else rb_puts(b, "<span class=\"empty\">?</span>");
        }
    } else {
        rb_puts(b, "<span class=\"empty\">&#8212;</span>");
    }
    rb_puts(b, "</td>");
}

static bool same_prompts(const cJSON *a, const cJSON *b) {
    if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b)) return false;
    for (const cJSON *x = a->child, *y = b->child; x && y; x = x->next, y = y->next) {
        const char *p = json_string(x, "prompt"), *q = json_string(y, "prompt");
        if (!p || !q || strcmp(p, q) != 0) return false;
    }
    return true;
}

static void put_more(rbuf *b, int total, int shown) {
    if (total > shown) rb_printf(b, "<p class=\"small\">%d more not shown.</p>\n", total - shown);
}

static void put_eval_table(rbuf *b, const report_samples *first, const report_samples *last) {
    bool paired = last && same_prompts(first->lines, last->lines);
    rb_puts(b, "<div class=\"wide\"><table class=\"samples\"><thead><tr><th>prompt</th><th>reference</th>");
    rb_printf(b, "<th>response at step %.0f</th><th>score</th>", first->step);
    if (paired) rb_printf(b, "<th>response at step %.0f</th><th>score</th>", last->step);
    rb_puts(b, "</tr></thead><tbody>\n");
    int shown = 0;
    const cJSON *y = paired ? last->lines->child : NULL;
    for (const cJSON *x = first->lines->child; x && shown < MAX_SAMPLES_SHOWN; x = x->next, shown++) {
        rb_puts(b, "<tr>");
        put_text_cell(b, "t", json_string(x, "prompt"));
        put_text_cell(b, "t", json_string(x, "reference"));
        put_text_cell(b, "t", json_string(x, "response"));
        put_score(b, cJSON_GetObjectItemCaseSensitive(x, "score"));
        if (paired) {
            put_text_cell(b, "t", json_string(y, "response"));
            put_score(b, cJSON_GetObjectItemCaseSensitive(y, "score"));
            y = y->next;
        }
        rb_puts(b, "</tr>\n");
    }
    rb_puts(b, "</tbody></table></div>\n");
    put_more(b, cJSON_GetArraySize(first->lines), shown);
    if (last && !paired) {
        rb_printf(b, "<h4>the last evaluation, step %.0f (other prompts)</h4>\n", last->step);
        put_eval_table(b, last, NULL);
    }
}

static void put_token(rbuf *b, const char *text, double score, double scale) {
    const char *cls = score > 0 ? "g" : score < 0 ? "p" : "n";
    rb_printf(b, "<span class=\"tok %s\"", cls);
    if (score != 0 && isfinite(score)) {
        double alpha = 0.14 + 0.56 * fmin(1, fabs(score) / scale);
        rb_printf(b, " style=\"background:rgba(var(--%s),%.2f)\"", score > 0 ? "good" : "poor", alpha);
    }
    char value[48];
    format_number(score, 3, value, sizeof value);
    rb_printf(b, " title=\"%s\">", value);
    if (text && *text) rb_text_limited(b, text, TEXT_LIMIT, RB_MARK | RB_NEWLINES);
    rb_puts(b, "</span>");
}

static double token_scale(const cJSON *lines) {
    double scale = 0;
    for (const cJSON *line = lines->child; line; line = line->next) {
        const cJSON *tokens = cJSON_GetObjectItemCaseSensitive(line, "tokens");
        for (const cJSON *t = cJSON_IsArray(tokens) ? tokens->child : NULL; t; t = t->next) {
            double s;
            if (json_number(t, "score", &s) && isfinite(s)) scale = fmax(scale, fabs(s));
        }
    }
    return scale > 0 ? scale : 1;
}

static void put_rollout(rbuf *b, const cJSON *line, double scale) {
    const cJSON *tokens = cJSON_GetObjectItemCaseSensitive(line, "tokens");
    const char *response = json_string(line, "response");
    int token_count = cJSON_IsArray(tokens) ? cJSON_GetArraySize(tokens) : 0;
    rb_puts(b, "<div class=\"rollout\"><div class=\"resp\"><div class=\"head\"><div class=\"prompt\">"
               "<span class=\"lab\">prompt</span> <code>");
    const char *prompt = json_string(line, "prompt");
    if (prompt && *prompt) rb_text_limited(b, prompt, TEXT_LIMIT, RB_MARK | RB_NEWLINES);
    else rb_puts(b, "<span class=\"empty\">(empty)</span>");
    rb_puts(b, "</code></div><div class=\"small num\">score ");
    double score;
    if (json_number(line, "score", &score)) put_number(b, score, 4);
    else rb_puts(b, "&#8212;");
    rb_printf(b, " &#183; %d tokens</div></div><div class=\"lab\">response</div><div class=\"tokens\">", token_count);
    if (token_count > 0) {
        int shown = 0;
        for (const cJSON *t = tokens->child; t && shown < MAX_TOKENS_SHOWN; t = t->next, shown++) {
            double s = 0;
            json_number(t, "score", &s);
            put_token(b, json_string(t, "text"), s, scale);
        }
        if (token_count > shown)
            rb_printf(b, " <span class=\"empty\">&#8230; %d more tokens</span>", token_count - shown);
    } else if (response && *response) {
        rb_text_limited(b, response, TEXT_LIMIT, RB_MARK | RB_NEWLINES);
    } else {
        rb_puts(b, "<span class=\"empty\">(empty response)</span>");
    }
    rb_puts(b, "</div></div>");
    rb_puts(b, "<div class=\"crit\"><div class=\"lab\">critique</div><p>");
    const char *critique = json_string(line, "critique");
    if (critique && *critique) rb_text_limited(b, critique, TEXT_LIMIT, RB_MARK | RB_NEWLINES);
    else rb_puts(b, "<span class=\"empty\">(none)</span>");
    rb_puts(b, "</p>");
    const cJSON *spans = cJSON_GetObjectItemCaseSensitive(line, "spans");
    int total = 0, unmatched = 0;
    for (const cJSON *s = cJSON_IsArray(spans) ? spans->child : NULL; s; s = s->next) {
        const char *match = json_string(s, "match");
        total++;
        unmatched += match && strcmp(match, "none") == 0;
    }
    if (total == 0) rb_puts(b, "<div class=\"lab\">no spans</div>");
    else if (!unmatched) rb_printf(b, "<div class=\"lab\">spans: %d, each found in the response</div>", total);
    else rb_printf(b, "<div class=\"lab\">spans: %d; not found in the response:</div>", total);
    if (unmatched) {
        rb_puts(b, "<ul class=\"unmatched\">");
        for (const cJSON *s = spans->child; s; s = s->next) {
            const char *match = json_string(s, "match"), *kind = json_string(s, "kind");
            if (!match || strcmp(match, "none") != 0) continue;
            const char *cls = kind && (!strcmp(kind, "good") || !strcmp(kind, "poor")) ? kind : "neutral";
            rb_printf(b, "<li><span class=\"kind %s\">", cls);
            rb_text_limited(b, kind ? kind : "?", 40, RB_MARK);
            rb_puts(b, "</span>&#8220;");
            rb_text_limited(b, json_string(s, "text"), TEXT_LIMIT, RB_MARK | RB_NEWLINES);
            rb_puts(b, "&#8221;</li>");
        }
        rb_puts(b, "</ul>");
    }
    rb_puts(b, "</div></div>\n");
}

static void put_rollouts(rbuf *b, const report_samples *group, const char *which) {
    rb_printf(b, "<h4>rollouts at step %.0f (%s)</h4>\n<div class=\"rollouts\">\n", group->step, which);
    double scale = token_scale(group->lines);
    int shown = 0;
    for (const cJSON *line = group->lines->child; line && shown < MAX_SAMPLES_SHOWN; line = line->next, shown++)
        put_rollout(b, line, scale);
    rb_puts(b, "</div>\n");
    put_more(b, cJSON_GetArraySize(group->lines), shown);
}

static void put_samples(rbuf *b, const report_run *runs, uint32_t count) {
    rb_puts(b, "<section id=\"samples\"><h2>Samples</h2>\n");
    bool any_rollouts = false;
    for (uint32_t r = 0; r < count; r++) any_rollouts |= runs[r].rollout_first.present;
    if (any_rollouts)
        rb_puts(b, "<p class=\"key\">Token colours: <span class=\"tok g\" style=\"background:rgba(var(--good),.55)\">"
                   "good</span> score &gt; 0, <span class=\"tok p\" style=\"background:rgba(var(--poor),.55)\">poor"
                   "</span> score &lt; 0, <span class=\"tok n\">neutral</span> 0; the stronger the colour, the larger "
                   "the score (hover a token for its value). <span class=\"esc\">\\x07</span> marks a byte or "
                   "character shown escaped.</p>\n");
    for (uint32_t r = 0; r < count; r++) {
        const report_run *run = &runs[r];
        rb_puts(b, "<h3>");
        svg_swatch(b, (int)r, false);
        rb_text_limited(b, run->name, 200, RB_MARK);
        rb_puts(b, "</h3>\n");
        if (!run->eval_first.present && !run->rollout_first.present) {
            rb_puts(b, "<p class=\"empty\">No samples.</p>\n");
            continue;
        }
        if (run->eval_first.present) {
            const report_samples *last = run->eval_last.present ? &run->eval_last : NULL;
            if (last)
                rb_printf(b, "<h4>evaluation: %s (step %.0f) and %s (step %.0f)</h4>\n",
                          run->eval_first.step == 0 ? "before" : "first", run->eval_first.step,
                          run->eval_first.step == 0 ? "after" : "last", last->step);
            else rb_printf(b, "<h4>evaluation at step %.0f</h4>\n", run->eval_first.step);
            put_eval_table(b, &run->eval_first, last);
        }
        if (run->rollout_first.present) put_rollouts(b, &run->rollout_first, "the first RL step");
        if (run->rollout_last.present) put_rollouts(b, &run->rollout_last, "the last RL step");
    }
    rb_puts(b, "</section>\n");
}

/* ---- the footer ---- */

static void put_footer(rbuf *b, const report_run *runs, uint32_t count) {
    rb_puts(b, "<footer id=\"reproduce\"><h2>Reproduce</h2>\n<p>config.json holds every key of a run; the same "
               "command with it trains the same model again (the same bits on the same device).</p>\n");
    for (uint32_t r = 0; r < count; r++) {
        const report_run *run = &runs[r];
        bool guessed;
        const char *kind = report_run_kind(run, &guessed);
        bool rl = strcmp(kind, "rl") == 0;
        rb_puts(b, "<h3>");
        svg_swatch(b, (int)r, false);
        rb_text_limited(b, run->name, 200, RB_MARK);
        rb_puts(b, "</h3>\n<pre class=\"cmd\">");
        char config_path[1100];
        snprintf(config_path, sizeof config_path, "%s/config.json", run->dir);
        if (strcmp(kind, "demo") == 0) rb_puts(b, "t2g demo --out NEW_RUN_DIR    # or: t2g train --config ");
        else rb_puts(b, rl ? "t2g rl --config " : "t2g train --config ");
        put_shell_word(b, config_path);
        if (strcmp(kind, "demo") != 0) rb_puts(b, " --out NEW_RUN_DIR");
        const cJSON *device = cJSON_GetObjectItemCaseSensitive(run->info, "device");
        if (json_string(device, "name")) {
            rb_puts(b, " --device ");
            put_shell_word(b, json_string(device, "name"));
        }
        rb_puts(b, "</pre>\n");
        const cJSON *rl_config = cJSON_GetObjectItemCaseSensitive(run->config, "rl");
        const char *start = json_string(rl_config, "start");
        if (rl && start && *start) {
            rb_puts(b, "<p class=\"small\">rl.start names the checkpoint the run started from, <code>");
            rb_text_limited(b, start, 600, RB_MARK);
            rb_puts(b, "</code>, relative to the folder the run was started in: run it from there, or --set "
                       "rl.start=PATH.</p>\n");
        }
        if (!run->config) rb_puts(b, "<p class=\"small\">This run has no readable config.json.</p>\n");
    }
    rb_printf(b, "<p class=\"made\">Made by t2g %s (<code>t2g report</code>). Self-contained: no scripts, nothing "
                 "loaded from elsewhere. Text from the runs is shown escaped.</p>\n</footer>\n",
              T2G_VERSION);
}

/* ---- the page ---- */

static void put_page(rbuf *b, const report_run *runs, uint32_t count, const report_notes *notes, bool *failed) {
    rb_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>t2g report: ");
    for (uint32_t r = 0; r < count; r++) {
        rb_puts(b, r ? ", " : "");
        rb_text_limited(b, runs[r].name, 80, 0);
    }
    rb_puts(b, "</title>\n<style>\n");
    rb_puts(b, report_style);
    rb_puts(b, "</style>\n</head>\n<body>\n");
    put_header(b, runs, count);
    rb_puts(b, "<nav><a href=\"#config\">Config</a><a href=\"#curves\">Curves</a><a href=\"#samples\">Samples</a>"
               "<a href=\"#reproduce\">Reproduce</a></nav>\n<main>\n");
    put_notes(b, notes);
    put_config(b, runs, count, failed);
    put_curves(b, runs, count);
    put_samples(b, runs, count);
    rb_puts(b, "</main>\n");
    put_footer(b, runs, count);
    rb_puts(b, "</body>\n</html>\n");
}

/* Two runs of the same base name (a/sft, b/sft) are told apart by their whole paths. */
static void unique_names(report_run *runs, uint32_t count) {
    bool clash[REPORT_MAX_RUNS] = {false};
    for (uint32_t i = 0; i < count; i++)
        for (uint32_t j = i + 1; j < count; j++)
            if (strcmp(runs[i].name, runs[j].name) == 0) clash[i] = clash[j] = true;
    for (uint32_t i = 0; i < count; i++)
        if (clash[i]) snprintf(runs[i].name, sizeof runs[i].name, "%s", runs[i].dir);
}

t2g_status t2g_report_write(const char *const *run_dirs, uint32_t count, const char *out_path, t2g_error *err) {
    if (!run_dirs || count == 0) return t2g_fail(err, T2G_ERR_ARGUMENT, "report: no run folder given");
    if (count > REPORT_MAX_RUNS)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "report: %u run folders; at most %d in one report", count,
                        REPORT_MAX_RUNS);
    report_run *runs = calloc(count, sizeof *runs);
    report_notes *notes = calloc(1, sizeof *notes);
    if (!runs || !notes) {
        free(runs);
        free(notes);
        return t2g_fail(err, T2G_ERR_MEMORY, "report: out of memory");
    }
    t2g_status status = T2G_OK;
    uint32_t loaded = 0;
    for (; loaded < count && !status; loaded++) status = report_run_load(&runs[loaded], run_dirs[loaded], notes, err);
    char path[1200];
    if (!status) {
        if (out_path && *out_path) snprintf(path, sizeof path, "%s", out_path);
        else snprintf(path, sizeof path, "%s/report.html", runs[0].dir);
        unique_names(runs, count);
        rbuf page = {0};
        bool failed = false;
        put_page(&page, runs, count, notes, &failed);
        if (page.failed || failed) {
            status = t2g_fail(err, T2G_ERR_MEMORY, "report: out of memory");
        } else {
            char dir[1200];
            const char *slash = strrchr(path, '/');
            if (slash == path) snprintf(dir, sizeof dir, "/");
            else if (slash) snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
            else snprintf(dir, sizeof dir, ".");
            const char *file = slash ? slash + 1 : path;
            if (!*file) status = t2g_fail(err, T2G_ERR_ARGUMENT, "report: %s names a folder, not a file", path);
            else status = t2g_write_file_atomic(dir, file, page.data, page.len, err);
        }
        rb_free(&page);
    }
    if (!status && notes->count)
        status = t2g_fail(err, T2G_ERR_FORMAT, "%s%s; the report %s was written without %s", notes->text[0],
                          notes->count > 1 ? " (and more: see the report)" : "", path,
                          notes->count > 1 ? "them" : "it");
    for (uint32_t r = 0; r < loaded; r++) report_run_free(&runs[r]);
    free(runs);
    free(notes);
    return status;
}
