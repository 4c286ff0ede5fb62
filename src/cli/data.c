/* t2g data TASK --n N --seed S [--out FILE]: a built-in task's demonstrations as JSONL. */
#include "cli.h"

int cmd_data(int argc, char **argv) {
    (void)argc;
    (void)argv;
    cli_error("data: not built yet");
    return EXIT_USAGE;
}
