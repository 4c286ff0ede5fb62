/* The run report: one self-contained HTML page that shows one run folder, or several overlaid.
 *
 * A run folder (see README.md, "Run folder") holds config.json, metrics.jsonl, samples.jsonl
 * and run.json (older runs lack run.json: then the kind is guessed from the metrics and the
 * device is unknown). The page has: a header (each run's name, kind, device, t2g version, start,
 * steps, wall time summed from ms_per_step, throughput, first and last evaluation); the config
 * (every key; with several runs, the keys that differ marked); line charts of every metric some
 * run has (loss, learning rate, gradient norm, critic and token score, reward, KL and beta, clip
 * fraction and approximate KL, value and policy loss, entropy, span match rate, throughput, and
 * each evaluation metric with its evaluations as markers), the runs overlaid with a legend,
 * told apart by colour and by dash pattern; the samples of the first and last evaluation, and
 * the rollouts of the first and last RL step with each token coloured by its score, the
 * critique beside it and the critique's unmatched spans; and how to reproduce each run.
 *
 * The page has no script and refers to nothing outside itself (inline CSS and SVG). Every text
 * that came from a file is escaped: & < > " ' as entities, bytes that are not valid UTF-8 as
 * \xHH, and control, bidirectional-override and non-characters as visible \xHH or \uHHHH. */
#ifndef T2G_REPORT_H
#define T2G_REPORT_H

#include <stdint.h>

#include "t2g/status.h"

/* Writes the report of `count` (1..16) run folders to `out_path` (NULL: <run_dirs[0]>/report.html),
 * atomically (a temporary file, then renamed).
 *
 * Returns T2G_OK; or T2G_ERR_FORMAT when some content could not be read (a line of a JSONL file
 * that is not a JSON object with a numeric "step", a config.json or run.json that is not JSON, a
 * missing metrics.jsonl): the report IS then written without that content, the page lists what
 * was left out, and err names the first file and line and how many were left out. Any other
 * status means nothing was written: T2G_ERR_ARGUMENT (no run, too many), T2G_ERR_IO (a folder
 * that does not exist or is not a run folder — neither config.json nor metrics.jsonl — a file
 * that cannot be read, the page that cannot be written), T2G_ERR_MEMORY. */
t2g_status t2g_report_write(const char *const *run_dirs, uint32_t count, const char *out_path, t2g_error *err);

#endif
