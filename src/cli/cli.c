#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

void cli_error(const char *format, ...) {
    va_list args;
    va_start(args, format);
    fputs("t2g: error: ", stderr);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
}

cli_args cli_args_start(int argc, char **argv, int first, const char *command) {
    return (cli_args){.argc = argc, .argv = argv, .i = first, .command = command};
}

bool cli_args_more(const cli_args *args) { return !args->failed && args->i < args->argc; }

bool cli_flag(cli_args *args, const char *name) {
    if (strcmp(args->argv[args->i], name) != 0) return false;
    args->i++;
    return true;
}

bool cli_value(cli_args *args, const char *name, const char **value) {
    if (strcmp(args->argv[args->i], name) != 0) return false;
    if (args->i + 1 >= args->argc) {
        cli_error("%s: option %s needs a value (see 't2g %s --help')", args->command, name, args->command);
        args->failed = true;
        args->i++;
        return true;
    }
    *value = args->argv[args->i + 1];
    args->i += 2;
    return true;
}

int cli_unknown(cli_args *args) {
    cli_error("%s: unknown argument '%s' (see 't2g %s --help')", args->command, args->argv[args->i], args->command);
    return EXIT_USAGE;
}

bool cli_parse_u64(const char *text, uint64_t max, uint64_t *value) {
    if (!text || !*text || *text == '-' || *text == '+' || *text == ' ') return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (*end || errno || v > max) return false;
    *value = v;
    return true;
}

bool cli_parse_double(const char *text, double min, double max, double *value) {
    if (!text || !*text) return false;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (*end || errno || !(v >= min && v <= max)) return false;
    *value = v;
    return true;
}

static void print_log(void *user, const char *message) {
    (void)user;
    fprintf(stderr, "t2g: %s\n", message);
}

int cli_open_device(const char *device, t2g_device **out) {
    t2g_device_options options = t2g_device_options_default();
    options.device = device;
    options.log = print_log;
    t2g_error err = {0};
    if (t2g_device_create(&options, out, &err)) {
        cli_error("%s", err.message);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

int cli_close_device(t2g_device *device) {
    if (!device) return EXIT_OK;
    uint32_t messages = t2g_device_validation_messages(device);
    bool validating = t2g_device_validation_enabled(device);
    t2g_device_destroy(device);
    if (validating && messages) {
        cli_error("%u Vulkan validation messages (the first is above)", messages);
        return EXIT_FAILED;
    }
    return EXIT_OK;
}
