/* Line charts as inline SVG: axes with round-number ticks, one line per run (colour, dash
 * pattern and marker shape apart, so that they stay apart in greyscale), and a legend. Long
 * series are drawn with at most a few points per pixel column (each column's first, lowest,
 * highest and last value), so thousands of steps cost little and lose no spike. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

/* Okabe and Ito's colours (told apart with the common colour blindnesses), darkened for white. */
static const char *const COLOURS[REPORT_STYLES] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                                   "#B07800", "#3A9AD9", "#222222", "#7B5EA7"};
static const char *const DASHES[REPORT_STYLES] = {"", "7 4", "2 3", "10 3 2 3", "4 2", "1 4", "12 4", "6 2 2 2"};

const char *svg_colour(int style) { return COLOURS[style % REPORT_STYLES]; }

enum { WIDTH = 470, HEIGHT = 236, LEFT = 54, RIGHT = 14, TOP = 10, BOTTOM = 40 };
enum { SMOOTH_FROM = 120 }; /* points from which a line is drawn faint with its moving mean over it */

typedef struct axis {
    double lo, hi;  /* the data range shown (log10 of it on a log axis) */
    double step;    /* between ticks (decades on a log axis) */
    bool log;
} axis;

static double nice_step(double range, int target) {
    double raw = range / target;
    double magnitude = pow(10, floor(log10(raw)));
    double f = raw / magnitude;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * magnitude;
}

/* One format for every tick of an axis (`largest`: the largest |tick|), with enough decimals to
 * tell neighbouring ticks apart. */
static void tick_label(double v, double step, double largest, char *out, size_t size) {
    if (fabs(v) < step * 1e-6) v = 0;
    if (largest >= 1e4 && largest < 1e7 && step >= 1) {
        int decimals = step >= 1000 ? 0 : (int)ceil(-log10(step / 1000) - 1e-9);
        snprintf(out, size, "%.*fk", decimals, v / 1000);
    } else if (largest >= 1e7 || largest < 1e-3) {
        int digits = (int)ceil(log10(largest / step) - 1e-9); /* decimals of the mantissa */
        snprintf(out, size, "%.*e", digits < 1 ? 1 : digits > 8 ? 8 : digits, v);
    } else {
        int decimals = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
        snprintf(out, size, "%.*f", decimals, v);
    }
}

static double map_x(const axis *a, double x) { return LEFT + (x - a->lo) / (a->hi - a->lo) * (WIDTH - LEFT - RIGHT); }
static double map_y(const axis *a, double y) {
    if (a->log) y = log10(y);
    return HEIGHT - BOTTOM - (y - a->lo) / (a->hi - a->lo) * (HEIGHT - TOP - BOTTOM);
}

static void put_dash(rbuf *b, int style) {
    const char *dash = DASHES[style % REPORT_STYLES];
    if (*dash) rb_printf(b, " stroke-dasharray=\"%s\"", dash);
}

/* A marker of the style's shape (circle, square, triangle, diamond) centred at (x, y). */
static void put_marker(rbuf *b, int style, double x, double y, double r) {
    const char *colour = COLOURS[style % REPORT_STYLES];
    switch (style % 4) {
    case 0: rb_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\"/>", x, y, r, colour); break;
    case 1:
        rb_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>", x - r * 0.9,
                  y - r * 0.9, r * 1.8, r * 1.8, colour);
        break;
    case 2:
        rb_printf(b, "<path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fZ\" fill=\"%s\"/>", x, y - r * 1.2, x + r * 1.1,
                  y + r * 0.8, x - r * 1.1, y + r * 0.8, colour);
        break;
    default:
        rb_printf(b, "<path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1fZ\" fill=\"%s\"/>", x, y - r * 1.25,
                  x + r * 1.25, y, x, y + r * 1.25, x - r * 1.25, y, colour);
        break;
    }
}

void svg_swatch(rbuf *b, int style, bool marker) {
    rb_printf(b, "<svg class=\"swatch\" width=\"34\" height=\"12\" viewBox=\"0 0 34 12\" aria-hidden=\"true\">"
                 "<line x1=\"1\" y1=\"6\" x2=\"33\" y2=\"6\" stroke=\"%s\" stroke-width=\"2.2\"",
              COLOURS[style % REPORT_STYLES]);
    put_dash(b, style);
    rb_puts(b, "/>");
    if (marker) put_marker(b, style, 17, 6, 3.2);
    rb_puts(b, "</svg>");
}

/* The path of one line, at most ~4 points per half-pixel column; NaN leaves a gap. */
typedef struct pen {
    rbuf *b;
    bool up, have;
    long column;
    double x, first, last, low, high;
    double px, py; /* the last point put */
    size_t points;
} pen;

static void pen_point(pen *p, double x, double y) {
    if (!p->up && x == p->px && y == p->py) return;
    rb_printf(p->b, "%s%.1f %.1f", p->up ? "M" : "L", x, y);
    p->up = false;
    p->px = x;
    p->py = y;
    p->points++;
}

static void pen_flush(pen *p) {
    if (!p->have) return;
    pen_point(p, p->x, p->first);
    pen_point(p, p->x, p->low);
    pen_point(p, p->x, p->high);
    pen_point(p, p->x, p->last);
    p->have = false;
}

static size_t draw_path(rbuf *b, const axis *ax, const axis *ay, const chart_line *line) {
    pen p = {.b = b, .up = true};
    for (size_t i = 0; i < line->n; i++) {
        double y = line->y[i];
        if (!isfinite(y) || !isfinite(line->x[i])) {
            pen_flush(&p);
            p.up = true;
            continue;
        }
        double px = map_x(ax, line->x[i]), py = map_y(ay, y);
        long column = (long)floor(px * 2);
        if (p.have && column == p.column) {
            p.last = py;
            if (py < p.low) p.low = py;
            if (py > p.high) p.high = py;
            continue;
        }
        pen_flush(&p);
        p.have = true;
        p.column = column;
        p.x = px;
        p.first = p.last = p.low = p.high = py;
    }
    pen_flush(&p);
    return p.points;
}

/* A centred moving mean of the finite values over `window` points (odd); NaN stays NaN. NULL
 * when out of memory. */
static double *moving_mean(const chart_line *line, size_t window) {
    size_t n = line->n, half = window / 2;
    double *sums = malloc((n + 1) * sizeof *sums), *counts = malloc((n + 1) * sizeof *counts);
    double *mean = malloc(n * sizeof *mean);
    if (!sums || !counts || !mean) {
        free(sums), free(counts), free(mean);
        return NULL;
    }
    sums[0] = counts[0] = 0;
    for (size_t i = 0; i < n; i++) {
        bool finite = isfinite(line->y[i]);
        sums[i + 1] = sums[i] + (finite ? line->y[i] : 0);
        counts[i + 1] = counts[i] + finite;
    }
    for (size_t i = 0; i < n; i++) {
        size_t lo = i > half ? i - half : 0, hi = i + half + 1 < n ? i + half + 1 : n;
        mean[i] = isfinite(line->y[i]) ? (sums[hi] - sums[lo]) / (counts[hi] - counts[lo]) : NAN;
    }
    free(sums), free(counts);
    return mean;
}

static size_t finite_points(const chart_line *line) {
    size_t count = 0;
    for (size_t i = 0; i < line->n; i++) count += isfinite(line->y[i]) && isfinite(line->x[i]);
    return count;
}

void svg_chart(rbuf *b, const char *title, const char *note, const chart_line *lines, size_t count, unsigned flags) {
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    for (size_t l = 0; l < count; l++)
        for (size_t i = 0; i < lines[l].n; i++) {
            double x = lines[l].x[i], y = lines[l].y[i];
            if (!isfinite(x) || !isfinite(y)) continue;
            xlo = fmin(xlo, x), xhi = fmax(xhi, x), ylo = fmin(ylo, y), yhi = fmax(yhi, y);
        }
    if (!(xlo <= xhi)) return; /* nothing to draw */
    axis ax = {.lo = xlo, .hi = xhi}, ay = {0};
    if (ax.hi - ax.lo < 1) ax.hi = ax.lo + 1;
    ax.step = fmax(1, nice_step(ax.hi - ax.lo, 6));
    if ((flags & CHART_UNIT) && ylo >= 0 && yhi <= 1) ylo = 0, yhi = 1;
    if ((flags & CHART_LOG) && ylo > 0 && yhi / ylo > 30) {
        ay.log = true;
        ay.lo = floor(log10(ylo));
        ay.hi = ceil(log10(yhi));
        ay.step = 1;
    } else {
        if (yhi - ylo < 1e-12 * fmax(1, fabs(yhi))) {
            double pad = ylo == 0 ? 1 : fabs(ylo) * 0.1;
            ylo -= pad, yhi += pad;
        }
        ay.step = nice_step(yhi - ylo, 5);
        ay.lo = floor(ylo / ay.step + 1e-9) * ay.step;
        ay.hi = ceil(yhi / ay.step - 1e-9) * ay.step;
        if (ay.hi <= ay.lo) ay.hi = ay.lo + ay.step;
    }

    rb_puts(b, "<figure class=\"chart\"><figcaption><b>");
    rb_textz(b, title, 0);
    rb_puts(b, "</b>");
    bool smoothed = false; /* long series: each step faint, a moving mean over 1/40 of them bold */
    for (size_t l = 0; l < count; l++) smoothed |= !lines[l].markers && finite_points(&lines[l]) >= SMOOTH_FROM;
    if ((note && *note) || ay.log || smoothed) {
        const char *sep = note && *note ? "; " : "";
        rb_puts(b, " <span class=\"note\">");
        rb_textz(b, note, 0);
        if (ay.log) rb_puts(b, sep), rb_puts(b, "log scale"), sep = "; ";
        if (smoothed) rb_puts(b, sep), rb_puts(b, "bold: moving mean");
        rb_puts(b, "</span>");
    }
    rb_puts(b, "</figcaption>");
    rb_printf(b, "<svg class=\"plot\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"", WIDTH, HEIGHT);
    rb_textz(b, title, 0);
    rb_puts(b, " over steps\">");
    /* grid and y ticks */
    rb_puts(b, "<g class=\"grid\">");
    char label[48];
    if (ay.log) {
        for (double k = ay.lo; k <= ay.hi + 1e-9; k++) {
            bool dense = ay.hi - ay.lo <= 2;
            static const double within[] = {1, 2, 5};
            for (int m = 0; m < (dense ? 3 : 1); m++) {
                double v = within[m] * pow(10, k);
                if (log10(v) > ay.hi + 1e-9) break;
                double y = map_y(&ay, v);
                format_number(v, 3, label, sizeof label);
                rb_printf(b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>", LEFT, y, WIDTH - RIGHT, y);
                rb_printf(b, "<text class=\"ty\" x=\"%d\" y=\"%.1f\">%s</text>", LEFT - 6, y + 4, label);
            }
        }
    } else {
        for (double v = ay.lo; v <= ay.hi + ay.step * 1e-6; v += ay.step) {
            double y = map_y(&ay, v);
            tick_label(v, ay.step, fmax(fabs(ay.lo), fabs(ay.hi)), label, sizeof label);
            rb_printf(b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>", LEFT, y, WIDTH - RIGHT, y);
            rb_printf(b, "<text class=\"ty\" x=\"%d\" y=\"%.1f\">%s</text>", LEFT - 6, y + 4, label);
        }
    }
    for (double v = ceil(ax.lo / ax.step) * ax.step; v <= ax.hi + 1e-9; v += ax.step) {
        double x = map_x(&ax, v);
        tick_label(v, ax.step, fmax(fabs(ax.lo), fabs(ax.hi)), label, sizeof label);
        rb_printf(b, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>", x, TOP, x, HEIGHT - BOTTOM + 4);
        rb_printf(b, "<text class=\"tx\" x=\"%.1f\" y=\"%d\">%s</text>", x, HEIGHT - BOTTOM + 17, label);
    }
    rb_puts(b, "</g>");
    rb_printf(b, "<path class=\"axis\" d=\"M%d %dV%dH%d\"/>", LEFT, TOP, HEIGHT - BOTTOM, WIDTH - RIGHT);
    rb_printf(b, "<text class=\"xl\" x=\"%d\" y=\"%d\">step</text>", (LEFT + WIDTH - RIGHT) / 2, HEIGHT - 3);
    /* the lines, then the markers above them */
    for (size_t l = 0; l < count; l++) {
        const chart_line *line = &lines[l];
        size_t finite = finite_points(line);
        if (finite == 0) continue;
        double *mean = !line->markers && finite >= SMOOTH_FROM ? moving_mean(line, finite / 40 | 1) : NULL;
        if (mean) {
            rb_printf(b, "<path class=\"raw\" stroke=\"%s\" d=\"", COLOURS[line->style % REPORT_STYLES]);
            draw_path(b, &ax, &ay, line);
            rb_puts(b, "\"/>");
        }
        chart_line drawn = *line;
        if (mean) drawn.y = mean;
        rb_printf(b, "<path class=\"line\" stroke=\"%s\"", COLOURS[line->style % REPORT_STYLES]);
        put_dash(b, line->style);
        rb_puts(b, " d=\"");
        size_t points = draw_path(b, &ax, &ay, &drawn);
        rb_puts(b, "\"/>");
        free(mean);
        if (points <= 1 && !line->markers) /* one point draws no line: show it */
            for (size_t i = 0; i < line->n; i++)
                if (isfinite(line->y[i]) && isfinite(line->x[i]))
                    put_marker(b, line->style, map_x(&ax, line->x[i]), map_y(&ay, line->y[i]), 3.5);
    }
    for (size_t l = 0; l < count; l++) {
        if (!lines[l].markers) continue;
        rb_puts(b, "<g class=\"markers\">");
        for (size_t i = 0; i < lines[l].n; i++)
            if (isfinite(lines[l].y[i]) && isfinite(lines[l].x[i]))
                put_marker(b, lines[l].style, map_x(&ax, lines[l].x[i]), map_y(&ay, lines[l].y[i]), 4);
        rb_puts(b, "</g>");
    }
    rb_puts(b, "</svg>");
    /* the legend: each run with its last value */
    rb_puts(b, "<ul class=\"legend\">");
    for (size_t l = 0; l < count; l++) {
        const chart_line *line = &lines[l];
        rb_puts(b, "<li>");
        svg_swatch(b, line->style, line->markers);
        rb_puts(b, "<span class=\"name\">");
        rb_textz(b, line->label, 0);
        rb_puts(b, "</span>");
        for (size_t i = line->n; i-- > 0;)
            if (isfinite(line->y[i])) {
                char value[48];
                format_number(line->y[i], 4, value, sizeof value);
                rb_printf(b, " <span class=\"last\">%s at step %.0f</span>", value, line->x[i]);
                break;
            }
        if (finite_points(line) == 0) rb_puts(b, " <span class=\"last\">no values</span>");
        rb_puts(b, "</li>");
    }
    rb_puts(b, "</ul></figure>\n");
}
