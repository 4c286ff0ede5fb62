/* The run report's parts: a growing text buffer with HTML escaping (html.c), SVG line charts
 * (svg.c), the run folders read into memory (load.c), the page (report.c). */
#ifndef T2G_REPORT_INTERNAL_H
#define T2G_REPORT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "t2g/report.h"

/* ---- html.c: text that grows; a failed allocation sets `failed` and later writes do nothing ---- */

typedef struct rbuf {
    char *data;
    size_t len, cap;
    bool failed;
} rbuf;

void rb_put(rbuf *b, const char *s, size_t n);
void rb_puts(rbuf *b, const char *s);
void rb_printf(rbuf *b, const char *format, ...) __attribute__((format(printf, 2, 3)));
void rb_free(rbuf *b);

enum {
    RB_NEWLINES = 1, /* keep \n and \t as they are (text shown with white-space: pre-wrap) */
    RB_MARK = 2,     /* wrap the visible escapes in <span class="esc"> (element content only) */
};
/* Appends n bytes of untrusted text, escaped for HTML element content and for quoted attribute
 * values alike: & < > " ' as entities; bytes that are not UTF-8 as \xHH; C0 and C1 controls,
 * DEL, bidirectional controls, line/paragraph separators and non-characters as \xHH / \uHHHH. */
void rb_text(rbuf *b, const char *s, size_t n, unsigned flags);
void rb_textz(rbuf *b, const char *s, unsigned flags); /* NULL: nothing */
/* At most `limit` bytes of the text (cut at a character), then " … (N more bytes)". */
void rb_text_limited(rbuf *b, const char *s, size_t limit, unsigned flags);
/* A number for people: up to `digits` significant digits, no exponent for ordinary magnitudes. */
void format_number(double v, int digits, char *out, size_t size);

/* ---- load.c: a run folder in memory ---- */

typedef struct report_series {
    char *name; /* a metrics.jsonl key, "eval.<metric>" for evaluation metrics */
    double *x, *y; /* step, value (NaN: a gap) */
    size_t n, cap;
} report_series;

/* The samples.jsonl lines of one step of one kind (a cJSON array of the line objects). */
typedef struct report_samples {
    bool present;
    double step;
    cJSON *lines;
} report_samples;

#define REPORT_MAX_RUNS 16
#define REPORT_MAX_NOTES 24
#define REPORT_MAX_SERIES 256 /* metrics per run; more are left out */

typedef struct report_notes {
    char text[REPORT_MAX_NOTES][300]; /* "file line N: what" */
    uint32_t count;                   /* every note, also those past REPORT_MAX_NOTES */
} report_notes;

typedef struct report_run {
    char dir[1024];
    char name[1024]; /* the label: the folder's base name, or its whole path when two are alike */
    cJSON *info;     /* run.json, or NULL */
    cJSON *config;   /* config.json, or NULL */
    report_series *series;
    size_t series_count, series_cap;
    report_series overflow; /* where the values of metrics past REPORT_MAX_SERIES go: nowhere */
    double last_step;
    double wall_ms;  /* sum of ms_per_step */
    uint64_t steps_logged;
    report_samples eval_first, eval_last, rollout_first, rollout_last;
} report_run;

/* Reads one run folder; problems with its content become notes (and the run goes on). */
t2g_status report_run_load(report_run *run, const char *dir, report_notes *notes, t2g_error *err);
void report_run_free(report_run *run);
const report_series *report_find(const report_run *run, const char *name);
/* "rl", "train", "demo" (run.json), else guessed from the metrics. */
const char *report_run_kind(const report_run *run, bool *guessed);
void report_note(report_notes *notes, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* ---- svg.c: line charts ---- */

#define REPORT_STYLES 8
typedef struct chart_line {
    const char *label;
    const double *x, *y;
    size_t n;
    int style;     /* the run's index: colour, dash pattern and marker shape */
    bool markers;  /* a marker at every point (evaluations) */
} chart_line;

enum {
    CHART_LOG = 1,  /* a log y axis when every value is positive and they span more than 30x */
    CHART_UNIT = 2, /* the y axis from 0 to 1 when every value is in [0, 1] (rates, task metrics) */
};
/* A <figure> with the title, an SVG chart of the lines (axes, ticks, labels) and the legend. */
void svg_chart(rbuf *b, const char *title, const char *note, const chart_line *lines, size_t count, unsigned flags);
/* A small SVG swatch of a style (for legends). */
void svg_swatch(rbuf *b, int style, bool marker);
const char *svg_colour(int style);

/* ---- style.c ---- */

extern const char report_style[];

#endif
