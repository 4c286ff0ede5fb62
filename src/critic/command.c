/* t2g_critic_check_command (include/t2g/critic.h): a critic command's program, and the script
 * an interpreter runs, looked for before anything starts, so that a mistyped critic.command is
 * an error at once rather than at the first rollout (after the first evaluation, in a run
 * folder already made).
 *
 * The command is read as the shell would read its first simple command, as far as that can be
 * done without the shell: words split at blanks, quotes ('...', and "..." without $, ` or \)
 * removed, leading NAME=value assignments and `exec` skipped. A word with anything else the
 * shell would expand or treat specially ($, `, \, globs, redirections, ;, |, &, parentheses,
 * braces, ~, #) stops the check: the command passes unchecked, as do shell builtins and
 * keywords. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "critic_internal.h"

enum { WORD_BYTES = 1024, MAX_WORDS = 16 };

typedef struct words {
    char text[MAX_WORDS][WORD_BYTES];
    int count; /* the words read before the first one the shell alone can tell (or the end) */
} words;

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n'; }

/* Reads one word at *p into out; false when the word is not plain (see above) or too long. */
static bool read_word(const char **p, char *out) {
    size_t n = 0;
    const char *s = *p;
    while (*s && !is_blank(*s)) {
        char quote = *s == '\'' || *s == '"' ? *s : 0;
        if (quote) {
            const char *end = strchr(s + 1, quote);
            if (!end) return false;
            for (const char *c = s + 1; c < end; c++) {
                if (quote == '"' && strchr("$`\\", *c)) return false;
                if (n + 1 >= WORD_BYTES) return false;
                out[n++] = *c;
            }
            s = end + 1;
            continue;
        }
        if (strchr("$`\\*?[]{}()<>;&|~#", *s) || n + 1 >= WORD_BYTES) return false;
        out[n++] = *s++;
    }
    out[n] = 0;
    *p = s;
    return true;
}

static void split(const char *command, words *w) {
    w->count = 0;
    const char *p = command;
    while (w->count < MAX_WORDS) {
        while (is_blank(*p)) p++;
        if (!*p || !read_word(&p, w->text[w->count])) return;
        w->count++;
    }
}

static bool is_assignment(const char *word) {
    const char *eq = strchr(word, '=');
    if (!eq || eq == word || (word[0] >= '0' && word[0] <= '9')) return false;
    for (const char *c = word; c < eq; c++)
        if (!(*c == '_' || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9'))) return false;
    return true;
}

static bool is_shell_word(const char *word) {
    static const char *const SHELL[] = {
        ".",      ":",      "[",     "[[",     "!",       "alias", "bg",     "break",  "case",  "cd",    "command",
        "continue", "do",   "done",  "echo",   "elif",    "else",  "esac",   "eval",   "exit",  "export", "false",
        "fg",     "fi",     "for",   "function", "getopts", "hash", "if",     "jobs",   "kill",  "local", "printf",
        "pwd",    "read",   "readonly", "return", "set",   "shift", "source", "test",   "then",  "time",  "times",
        "trap",   "true",   "type",  "ulimit", "umask",   "unalias", "unset", "until",  "wait",  "while"};
    for (size_t i = 0; i < sizeof SHELL / sizeof SHELL[0]; i++)
        if (strcmp(word, SHELL[i]) == 0) return true;
    return false;
}

/* "python3" -> true for the interpreters whose first plain argument is a script. */
static bool is_interpreter(const char *program) {
    const char *base = strrchr(program, '/');
    base = base ? base + 1 : program;
    static const char *const NAMES[] = {"python", "sh", "bash", "dash", "zsh", "node", "perl", "ruby"};
    for (size_t i = 0; i < sizeof NAMES / sizeof NAMES[0]; i++) {
        size_t n = strlen(NAMES[i]);
        if (strncmp(base, NAMES[i], n) == 0 && (!base[n] || strchr("0123456789.", base[n]))) return true;
    }
    return false;
}

static bool executable_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* The program's path: itself when it has a slash, else its first executable file on PATH. */
static bool find_program(const char *program, char *found, size_t size) {
    if (strchr(program, '/')) {
        snprintf(found, size, "%s", program);
        return executable_file(program);
    }
    const char *path = getenv("PATH");
    if (!path || !*path) path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        snprintf(found, size, "%.*s%s%s", (int)n, path, n ? "/" : "", program);
        if (executable_file(found)) return true;
        path += n + (path[n] == ':');
    }
    return false;
}

t2g_status t2g_critic_check_command(const char *command, t2g_error *err) {
    if (!command || !command[0]) return t2g_fail(err, T2G_ERR_ARGUMENT, "no critic command (critic.command is empty)");
    words *w = malloc(sizeof *w);
    if (!w) return t2g_fail(err, T2G_ERR_MEMORY, "out of memory checking the critic command");
    split(command, w);
    int i = 0;
    while (i < w->count && (is_assignment(w->text[i]) || strcmp(w->text[i], "exec") == 0)) i++;
    t2g_status status = T2G_OK;
    if (i < w->count && !is_shell_word(w->text[i])) {
        const char *program = w->text[i];
        char found[WORD_BYTES + 512];
        struct stat st;
        if (!find_program(program, found, sizeof found)) {
            if (!strchr(program, '/'))
                status = t2g_fail(err, T2G_ERR_ARGUMENT, "critic command '%s': the program '%s' is not on PATH", command,
                                  program);
            else if (stat(program, &st) != 0)
                status = t2g_fail(err, T2G_ERR_ARGUMENT, "critic command '%s': '%s' does not exist", command, program);
            else
                status = t2g_fail(err, T2G_ERR_ARGUMENT, "critic command '%s': '%s' is not an executable file", command,
                                  program);
        } else if (is_interpreter(program)) {
            /* its script: the first argument that is not an option (-c, -m, -e: code, not a file) */
            int k = i + 1;
            while (k < w->count && w->text[k][0] == '-' && !strchr("cme", w->text[k][1]))
                k += strcmp(w->text[k], "-W") == 0 || strcmp(w->text[k], "-X") == 0 ? 2 : 1; /* python's -W arg */
            const char *script = k < w->count && w->text[k][0] != '-' ? w->text[k] : NULL;
            if (script && (stat(script, &st) != 0 || !S_ISREG(st.st_mode)))
                status = t2g_fail(err, T2G_ERR_ARGUMENT, "critic command '%s': the script '%s' given to %s %s", command,
                                  script, program, stat(script, &st) != 0 ? "does not exist" : "is not a file");
        }
    }
    free(w);
    return status;
}
