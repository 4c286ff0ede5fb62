/* t2g data TASK --n N --seed S [--out FILE]: a built-in task's demonstrations as JSONL. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "core/atomic_write.h"
#include "t2g/tasks.h"

static const char HELP[] =
    "usage: t2g data TASK --n N [--seed S] [--out FILE]\n"
    "\n"
    "Writes examples 0..N-1 of a built-in task's stream for seed S as JSONL, one object a line:\n"
    "  {\"prompt\": ..., \"response\": ..., \"answer\": ..., \"fields\": {...}}\n"
    "where response is the reference answer (a demonstration for supervised training, in the\n"
    "format that a config's JSONL data expects) and fields are the facts behind the example.\n"
    "The same task, N and S always give the same lines.\n"
    "\n"
    "  TASK       a built-in task:\n"
    "%s"
    "  --n N      how many examples (1 to 100000000)\n"
    "  --seed S   the stream (a whole number, 0 to 2^64-1; default 1). Evaluation uses another\n"
    "             stream derived from the seed, so these examples are not the test set.\n"
    "  --out FILE write FILE (through a temporary file, renamed when complete) instead of\n"
    "             standard output\n"
    "\n"
    "example: t2g data arith --n 1000 --seed 7 --out arith.jsonl\n";

/* "    arith  description\n" for every task, in `out` of `cap` bytes. */
static void task_lines(char *out, size_t cap, const char *indent) {
    size_t count, used = 0;
    const t2g_task *const *tasks = t2g_task_list(&count);
    out[0] = 0;
    for (size_t i = 0; i < count && used < cap; i++) {
        int n = snprintf(out + used, cap - used, "%s%-6s %s\n", indent, t2g_task_name(tasks[i]),
                         t2g_task_description(tasks[i]));
        if (n < 0) break;
        used += (size_t)n;
    }
}

static void print_help(void) {
    char tasks[2048];
    task_lines(tasks, sizeof tasks, "               ");
    printf(HELP, tasks);
}

static void unknown_task(const char *name) {
    char tasks[2048];
    task_lines(tasks, sizeof tasks, "  ");
    if (name)
        cli_error("data: unknown task '%s'; the tasks are:\n%s(see 't2g data --help')", name, tasks);
    else
        cli_error("data: no task named; expected one of:\n%s(see 't2g data --help')", tasks);
}

/* A whole decimal number in [lo, hi], nothing else. */
static bool parse_u64(const char *text, uint64_t lo, uint64_t hi, uint64_t *out) {
    if (!*text) return false;
    uint64_t v = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9') return false;
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    if (v < lo || v > hi) return false;
    *out = v;
    return true;
}

static cJSON *example_json(const t2g_task_example *ex) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON *fields = cJSON_CreateObject();
    bool ok = fields && cJSON_AddStringToObject(o, "prompt", ex->prompt) &&
              cJSON_AddStringToObject(o, "response", ex->answer) && cJSON_AddStringToObject(o, "answer", ex->answer);
    if (ok) {
        cJSON_AddItemToObject(o, "fields", fields);
        for (uint32_t f = 0; f < ex->field_count && ok; f++)
            ok = cJSON_AddStringToObject(fields, ex->fields[f].key, ex->fields[f].value) != NULL;
    } else
        cJSON_Delete(fields);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Writes the n lines; false (with a message) on a write error or out of memory. */
static bool write_examples(FILE *out, const char *where, const t2g_task *task, uint64_t seed, uint64_t n) {
    t2g_task_example ex;
    for (uint64_t i = 0; i < n; i++) {
        t2g_task_example_at(task, seed, i, &ex);
        cJSON *o = example_json(&ex);
        char *line = o ? cJSON_PrintUnformatted(o) : NULL;
        cJSON_Delete(o);
        if (!line) {
            cli_error("data: out of memory writing example %llu", (unsigned long long)i);
            return false;
        }
        int failed = fputs(line, out) == EOF || fputc('\n', out) == EOF;
        free(line);
        if (failed) {
            cli_error("data: cannot write %s: %s", where, strerror(errno));
            return false;
        }
    }
    if (fflush(out) != 0) {
        cli_error("data: cannot write %s: %s", where, strerror(errno));
        return false;
    }
    return true;
}

/* FILE written atomically (src/core/atomic_write.h), so a reader never sees half a file. */
static int write_file(const char *path, const t2g_task *task, uint64_t seed, uint64_t n) {
    t2g_atomic_file out;
    t2g_error err = {0};
    if (t2g_atomic_open(&out, path, &err)) {
        cli_error("data: %s", err.message);
        return EXIT_FAILED;
    }
    if (!write_examples(out.file, path, task, seed, n)) {
        t2g_atomic_abort(&out);
        return EXIT_FAILED;
    }
    if (t2g_atomic_commit(&out, 0, &err)) {
        cli_error("data: %s", err.message);
        return EXIT_FAILED;
    }
    return EXIT_OK;
}

int cmd_data(int argc, char **argv) {
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_help();
            return EXIT_OK;
        }
    cli_args args = cli_args_start(argc, argv, 2, "data");
    const char *task_name = NULL, *n_text = NULL, *seed_text = NULL, *out_path = NULL;
    while (cli_args_more(&args)) {
        if (cli_value(&args, "--n", &n_text) || cli_value(&args, "--seed", &seed_text) ||
            cli_value(&args, "--out", &out_path))
            continue;
        const char *arg = argv[args.i];
        if (arg[0] == '-' || task_name) return cli_unknown(&args);
        task_name = arg;
        args.i++;
    }
    if (args.failed) return EXIT_USAGE;
    const t2g_task *task = t2g_task_find(task_name);
    if (!task) {
        unknown_task(task_name);
        return EXIT_USAGE;
    }
    uint64_t n = 0, seed = 1;
    if (!n_text) {
        cli_error("data: --n N is needed: how many examples to write (see 't2g data --help')");
        return EXIT_USAGE;
    }
    if (!parse_u64(n_text, 1, 100000000, &n)) {
        cli_error("data: --n '%s': expected a whole number of examples from 1 to 100000000", n_text);
        return EXIT_USAGE;
    }
    if (seed_text && !parse_u64(seed_text, 0, UINT64_MAX, &seed)) {
        cli_error("data: --seed '%s': expected a whole number from 0 to 18446744073709551615", seed_text);
        return EXIT_USAGE;
    }
    if (out_path) return write_file(out_path, task, seed, n);
    return write_examples(stdout, "standard output", task, seed, n) ? EXIT_OK : EXIT_FAILED;
}
