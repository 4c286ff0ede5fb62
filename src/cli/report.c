/* t2g report: one self-contained HTML page showing one run folder, or several overlaid. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "t2g/report.h"

static const char HELP[] =
    "usage: t2g report RUN_DIR [RUN_DIR ...] [--out FILE]\n"
    "\n"
    "Writes one HTML page that shows a run folder (made by t2g train, t2g rl or t2g demo): the\n"
    "device and timings, the config, the curves of every metric (loss, critic score, reward, KL,\n"
    "clip fraction, entropy, ... and each evaluation metric), the samples of the first and last\n"
    "evaluation, the rollouts of the first and last RL step with each token coloured by its score\n"
    "beside the critique, and how to reproduce the run. Several folders are overlaid in the same\n"
    "charts, and the config keys that differ are marked. The page is self-contained (no scripts,\n"
    "nothing loaded from elsewhere): open it in any browser, mail it, print it. t2g train, rl and\n"
    "demo write it at the end of every run as RUN_DIR/report.html.\n"
    "\n"
    "  --out FILE   where to write the page (default: the first RUN_DIR/report.html)\n"
    "\n"
    "A malformed line of metrics.jsonl or samples.jsonl is named (file and line) and left out;\n"
    "the page is still written, and the exit code is 2.\n"
    "\n"
    "example: t2g report runs/sft runs/rl --out compare.html\n";

int cmd_report(int argc, char **argv) {
    cli_args args = cli_args_start(argc, argv, 2, "report");
    const char *dirs[64];
    uint32_t count = 0;
    const char *out = NULL;
    while (cli_args_more(&args)) {
        const char *arg = argv[args.i];
        if (cli_flag(&args, "--help") || cli_flag(&args, "-h")) {
            fputs(HELP, stdout);
            return EXIT_OK;
        } else if (cli_value(&args, "--out", &out)) {
        } else if (arg[0] == '-' && arg[1]) {
            return cli_unknown(&args);
        } else {
            if (count == sizeof dirs / sizeof dirs[0]) {
                cli_error("report: too many run folders");
                return EXIT_USAGE;
            }
            dirs[count++] = arg;
            args.i++;
        }
    }
    if (args.failed) return EXIT_USAGE;
    if (count == 0) {
        cli_error("report: name at least one run folder (see 't2g report --help')");
        return EXIT_USAGE;
    }
    char path[1200];
    if (out) snprintf(path, sizeof path, "%s", out);
    else {
        size_t n = strlen(dirs[0]);
        while (n > 1 && dirs[0][n - 1] == '/') n--;
        snprintf(path, sizeof path, "%.*s/report.html", (int)n, dirs[0]);
    }
    t2g_error err = {0};
    t2g_status status = t2g_report_write(dirs, count, path, &err);
    if (status == T2G_OK || status == T2G_ERR_FORMAT) printf("report: %s\n", path);
    if (status == T2G_OK) return EXIT_OK;
    cli_error("report: %s", err.message);
    return EXIT_USAGE;
}
