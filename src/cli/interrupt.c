/* SIGINT, SIGTERM and SIGHUP during a run: the first asks the run to stop after the step in
 * progress (or to abandon it where nothing of it has been applied), so that the checkpoint of
 * the last completed step and the report are written; a second one exits at once. */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static volatile sig_atomic_t caught;

static void on_signal(int signal_number) {
    if (caught) {
        static const char message[] = "\nt2g: interrupted again: exiting now, without a checkpoint of this step\n";
        ssize_t ignored = write(STDERR_FILENO, message, sizeof message - 1);
        (void)ignored;
        _exit(128 + signal_number);
    }
    caught = signal_number;
    t2g_interrupt_request();
}

int cli_interrupts_install(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0; /* no SA_RESTART: a wait (poll, sleep) returns and notices */
    const int signals[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        if (sigaction(signals[i], &action, NULL) != 0) {
            cli_error("cannot install the handler of signal %d", signals[i]);
            return EXIT_FAILED;
        }
    }
    return EXIT_OK;
}

int cli_interrupted(void) { return caught; }

const char *cli_signal_name(int signal_number) {
    return signal_number == SIGINT ? "SIGINT" : signal_number == SIGTERM ? "SIGTERM" : signal_number == SIGHUP ? "SIGHUP" : "a signal";
}
