/* External critics: any program, run as `/bin/sh -c command`, one process per worker.
 *
 * Protocol (include/t2g/critic.h). t2g writes one JSON line per sample to the process's stdin,
 *   {"id":N,"prompt":"...","response":"...","reference":"...","fields":{...}}
 * ("reference" and "fields" when the request or its task example has them) and reads one JSON
 * line per sample from its stdout, in any order,
 *   {"id":N,"textual_feedback":"...","good_spans":[...],"poor_spans":[...],"score":x}
 * The reply is read by t2g_critique_parse (any format of t2g/feedback.h); "critique" may stand
 * for the text ("critique": "..."), or hold the whole critique (an object, or a string such as
 * a language model's answer with its JSON inside). "score" (0 when absent) and "final_score"
 * (optional, 0 when absent) are numbers. The process's stderr is t2g's. Ids are the requests'
 * ids, which must be distinct within a call and below 2^53 (JSON numbers). A response's bytes
 * go as a JSON string: a byte that is not part of valid UTF-8, and NUL, become U+FFFD.
 *
 * Scheduling. Requests go out in order to the worker with the fewest outstanding, at most
 * MAX_OUTSTANDING per worker. A sample's clock starts when it is sent or when its worker last
 * answered, whichever is later, so a critic that answers one at a time is not blamed for its
 * queue. Everything is non-blocking (poll); nothing waits without a deadline.
 *   timeout    the worker's oldest outstanding sample passes timeout_ms: it is blamed
 *              ("timeout", or "missing" when the process has answered a sample sent after it:
 *              it skipped the id), the process group is killed, the other outstanding samples
 *              are sent again (not counted as attempts), the process restarts when next needed
 *   crash      EOF on stdout or an exit: lines already written are used; the oldest
 *              outstanding sample is blamed (one at a time, whatever the critic was doing)
 *   garbage    a line that is not a JSON object with a known, outstanding id: counted; the
 *              oldest outstanding samples are blamed (one per such line) and the process is
 *              restarted. A reply with a known id but no readable critique: counted, that
 *              sample blamed, the process kept.
 * A blamed sample is retried up to `retries` more times, then skipped (ok = false, error says
 * why) and the run goes on. A line longer than critic.max_bytes (default MAX_LINE) is garbage.
 *   stray      a line that is not a JSON object with an "id" key (print debugging, a banner):
 *              not a reply, so nothing is blamed; counted (stats->stray) and appended to the
 *              log (t2g_critic_set_log), at most MAX_LOG bytes of it.
 *
 * A command that cannot run: if the critic has never answered and a process exits with status
 * 126 or 127 (the shell's "not executable" and "not found"), or its processes exit before
 * answering anything retries + 1 times, t2g_critic_judge fails (T2G_ERR_IO naming the command
 * and the exit status) after marking every sample not ok; t2g_critic_external itself only
 * fails when /bin/sh cannot be started. A critic that has answered before and later keeps
 * dying is a per-sample matter (samples skipped, status OK), bounded by a limit of deaths in a
 * row without an answer.
 *
 * Signals. A write to a process that has exited raises SIGPIPE: around every write, SIGPIPE is
 * blocked in the calling thread (pthread_sigmask) and a SIGPIPE that the write raised is taken
 * back (sigtimedwait) before the thread's mask is restored. Nothing process-wide is changed:
 * no signal disposition, no handler. Children are started with the default disposition and an
 * empty mask for the usual signals, in a process group of their own (so that killing one kills
 * what its shell started), and every child is reaped (waitpid) when it is stopped. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/clock.h"
#include "core/grow.h"
#include "core/utf8.h"
#include "critic_internal.h"

extern char **environ;

enum { MAX_OUTSTANDING = 4 };
enum { MAX_LINE = 1 << 20 };
enum { READ_CHUNK = 1 << 16 };
#define MAX_LOG (64ll << 20) /* bytes of stray lines logged; more are only counted */
#define MAX_ID 9007199254740992.0 /* 2^53 */

typedef struct worker {
    pid_t pid;                 /* 0: no process */
    int in, out;               /* our ends of its stdin and stdout; -1 when closed */
    char *pending;             /* bytes still to write to its stdin */
    size_t pending_len, pending_off, pending_cap;
    char *line;                /* a reply line being read */
    size_t line_len, line_cap;
    bool line_too_long;
    uint32_t outstanding[MAX_OUTSTANDING]; /* sample indices, in the order sent */
    uint32_t count;
    int64_t last_reply_ms;     /* when the process last answered (or started) */
    uint64_t answered;         /* valid replies from this process */
    uint64_t sent;             /* requests sent to this process */
    uint64_t answered_after;   /* 1 + the highest send number among the samples it answered */
    uint32_t unattributed;     /* garbage lines not tied to a sample, since the last read */
    char garbage_note[MAX_OUTSTANDING][96]; /* what the first of them were */
} worker;

struct critic_external {
    char *command;
    uint32_t workers, timeout_ms, retries;
    size_t max_line;           /* the longest reply line taken (critic.max_bytes) */
    worker *w;
    FILE *log;                 /* stray stdout lines go here (NULL: only counted) */
    long long log_bytes;
    bool ever_answered;        /* some process of this critic gave a valid reply */
    uint32_t dead_starts;      /* processes that exited before answering, in a row */
};

typedef enum { SAMPLE_QUEUED, SAMPLE_SENT, SAMPLE_DONE } sample_state;

typedef struct sample {
    sample_state state;
    uint32_t attempts;
    int64_t sent_ms;
    uint64_t send_number;      /* w->sent when it was sent */
    char error[256];
} sample;

/* What one judge call works on. */
typedef struct judge {
    critic_external *x;
    t2g_critic_stats *stats;
    const t2g_critic_request *requests;
    t2g_critic_result *results;
    sample *samples;
    uint32_t n, done, next; /* next: no queued sample below it */
    bool fatal;             /* the command cannot run: fail the rest */
    t2g_error *err;
    t2g_status status;
} judge;

/* Copies a message into a fixed buffer, cut to fit. */
static void set_text(char *dst, size_t size, const char *src) {
    size_t n = strnlen(src, size - 1);
    memcpy(dst, src, n);
    dst[n] = 0;
}

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) && errno == EINTR) {
    }
}

/* ---- processes ---- */

static void close_fd(int *fd) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

static void describe_status(int status, char *out, size_t size) {
    if (WIFEXITED(status))
        snprintf(out, size, "exit status %d%s", WEXITSTATUS(status),
                 WEXITSTATUS(status) == 127   ? " (command not found)"
                 : WEXITSTATUS(status) == 126 ? " (command not executable)"
                                              : "");
    else if (WIFSIGNALED(status))
        snprintf(out, size, "killed by signal %d", WTERMSIG(status));
    else
        snprintf(out, size, "status %d", status);
}

/* Kills the process group, reaps the process, closes the pipes; *status its wait status
 * (-1 when unknown). `grace_ms`: how long it may take to exit on its own first. */
static void worker_stop(worker *w, int grace_ms, int *status) {
    if (status) *status = -1;
    close_fd(&w->in); /* EOF: a well-behaved critic ends */
    if (w->pid > 0) {
        /* Wait for an exit without reaping (WNOWAIT): the process group id stays ours until
         * the leader is reaped, so the kill below cannot reach anyone else. */
        siginfo_t info;
        for (int waited = 0;; waited++) {
            memset(&info, 0, sizeof info);
            if (waitid(P_PID, (id_t)w->pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid != 0) break;
            if (waited >= grace_ms) break;
            sleep_ms(1);
        }
        kill(-w->pid, SIGKILL);
        int st;
        pid_t got;
        while ((got = waitpid(w->pid, &st, 0)) < 0 && errno == EINTR) {
        }
        if (got == w->pid && status) *status = st;
    }
    close_fd(&w->out); /* after the end, so that the process never writes into a closed pipe */
    w->pid = 0;
    w->pending_len = w->pending_off = 0;
    w->line_len = 0;
    w->line_too_long = false;
    w->count = 0;
    w->unattributed = 0;
}

static t2g_status worker_start(critic_external *x, worker *w, t2g_error *err) {
    int to_child[2] = {-1, -1}, from_child[2] = {-1, -1};
    if (pipe(to_child) || pipe(from_child)) {
        int e = errno;
        close_fd(&to_child[0]), close_fd(&to_child[1]);
        close_fd(&from_child[0]), close_fd(&from_child[1]);
        return t2g_fail(err, T2G_ERR_IO, "critic '%s': cannot make pipes: %s", x->command, strerror(e));
    }
    /* Our ends: close-on-exec (no other child inherits them, so EOF means what it says) and
     * non-blocking. The child's ends are dup2'ed onto 0 and 1, which clears close-on-exec. */
    int ours[2] = {to_child[1], from_child[0]};
    for (int i = 0; i < 2; i++) {
        fcntl(ours[i], F_SETFD, FD_CLOEXEC);
        fcntl(ours[i], F_SETFL, fcntl(ours[i], F_GETFL) | O_NONBLOCK);
    }
    fcntl(to_child[0], F_SETFD, FD_CLOEXEC);
    fcntl(from_child[1], F_SETFD, FD_CLOEXEC);

    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_child[0], 0);
    posix_spawn_file_actions_adddup2(&actions, from_child[1], 1);
    posix_spawnattr_init(&attr);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    int to_default[] = {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGALRM, SIGUSR1, SIGUSR2};
    for (size_t i = 0; i < sizeof to_default / sizeof to_default[0]; i++)
        sigaddset(&defaults, to_default[i]);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    char *argv[] = {"sh", "-c", x->command, NULL};
    pid_t pid;
    int e = posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    close(to_child[0]);
    close(from_child[1]);
    if (e) {
        close(ours[0]);
        close(ours[1]);
        return t2g_fail(err, T2G_ERR_IO, "critic '%s': cannot start /bin/sh: %s", x->command, strerror(e));
    }
    w->pid = pid;
    w->in = ours[0];
    w->out = ours[1];
    w->answered = w->sent = w->answered_after = 0;
    w->last_reply_ms = t2g_clock_ms();
    return T2G_OK;
}

/* Writes what is pending, as far as the pipe takes it. false when the process has closed its
 * stdin (then nothing more is written to it). */
static bool worker_flush(worker *w) {
    if (w->in < 0) return false;
    sigset_t pipe_set, old, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    sigemptyset(&pending);
    sigpending(&pending);
    bool was_pending = sigismember(&pending, SIGPIPE) == 1;
    bool open = true;
    while (w->pending_off < w->pending_len) {
        ssize_t n = write(w->in, w->pending + w->pending_off, w->pending_len - w->pending_off);
        if (n > 0) {
            w->pending_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        open = false; /* EPIPE or another error: the process no longer reads */
        break;
    }
    if (!open && !was_pending) {
        /* Take back the SIGPIPE this thread's write raised (it is blocked, so it waits). */
        struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!open) {
        close_fd(&w->in);
        w->pending_len = w->pending_off = 0;
    } else if (w->pending_off == w->pending_len) {
        w->pending_len = w->pending_off = 0;
    }
    return open;
}

/* ---- requests ---- */

/* The reference and the fields of a request, given or taken from its task example. */
static bool add_context(cJSON *json, const t2g_critic_request *request) {
    const t2g_task_example *ex = request->example;
    const char *reference = request->reference ? request->reference : ex && ex->answer[0] ? ex->answer : NULL;
    if (reference && !cJSON_AddStringToObject(json, "reference", reference)) return false;
    if (request->fields) return cJSON_AddRawToObject(json, "fields", request->fields) != NULL;
    if (!ex || ex->field_count == 0) return true;
    cJSON *fields = cJSON_AddObjectToObject(json, "fields");
    for (uint32_t f = 0; fields && f < ex->field_count && f < T2G_TASK_MAX_FIELDS; f++) {
        char key[sizeof ex->fields[f].key + 1], value[sizeof ex->fields[f].value + 1];
        snprintf(key, sizeof key, "%.*s", (int)strnlen(ex->fields[f].key, sizeof ex->fields[f].key), ex->fields[f].key);
        snprintf(value, sizeof value, "%.*s", (int)strnlen(ex->fields[f].value, sizeof ex->fields[f].value),
                 ex->fields[f].value);
        if (!cJSON_AddStringToObject(fields, key, value)) return false;
    }
    return fields != NULL;
}

static bool append_request(worker *w, const t2g_critic_request *request) {
    char *response = t2g_utf8_sanitize(request->response ? request->response : "", request->response_len);
    cJSON *json = cJSON_CreateObject();
    char *line = NULL;
    if (response && json && cJSON_AddNumberToObject(json, "id", (double)request->id) &&
        cJSON_AddStringToObject(json, "prompt", request->prompt) && cJSON_AddStringToObject(json, "response", response) &&
        add_context(json, request))
        line = cJSON_PrintUnformatted(json);
    cJSON_Delete(json);
    free(response);
    if (!line) return false;
    size_t n = strlen(line);
    if (w->pending_off > 0) {
        memmove(w->pending, w->pending + w->pending_off, w->pending_len - w->pending_off);
        w->pending_len -= w->pending_off;
        w->pending_off = 0;
    }
    if (!t2g_grow(&w->pending, &w->pending_cap, w->pending_len + n + 1, 1)) {
        cJSON_free(line);
        return false;
    }
    memcpy(w->pending + w->pending_len, line, n);
    w->pending[w->pending_len + n] = '\n';
    w->pending_len += n + 1;
    cJSON_free(line);
    return true;
}

/* ---- outcomes ---- */

static void sample_done(judge *j, uint32_t i) {
    j->samples[i].state = SAMPLE_DONE;
    j->done++;
}

static const char TIMEOUT[] = "timeout after "; /* how a timeout's reason starts */

/* The sample's attempt failed: retried, or skipped when its attempts are used up. */
static void sample_blame(judge *j, uint32_t i, const char *why) {
    sample *s = &j->samples[i];
    s->attempts++;
    snprintf(s->error, sizeof s->error, "%s", why);
    if (s->attempts > j->x->retries) {
        t2g_critic_result *r = &j->results[i];
        r->ok = false;
        r->attempts = s->attempts;
        r->timed_out = strncmp(why, TIMEOUT, strlen(TIMEOUT)) == 0;
        snprintf(r->error, sizeof r->error, "%s (after %u attempt%s)", why, s->attempts, s->attempts == 1 ? "" : "s");
        j->stats->failed++;
        sample_done(j, i);
    } else {
        j->stats->retries++;
        s->state = SAMPLE_QUEUED;
        if (i < j->next) j->next = i;
    }
}

/* Sends again, without counting an attempt (the sample was not at fault). */
static void sample_requeue(judge *j, uint32_t i) {
    j->samples[i].state = SAMPLE_QUEUED;
    if (i < j->next) j->next = i;
}

static void outstanding_remove(worker *w, uint32_t k) {
    memmove(&w->outstanding[k], &w->outstanding[k + 1], (w->count - k - 1) * sizeof w->outstanding[0]);
    w->count--;
}

/* Stops the process; the first `blame` outstanding samples are blamed for `why`, the rest
 * sent again. */
static void worker_fail(judge *j, worker *w, uint32_t blame, const char *why, int *status) {
    uint32_t ids[MAX_OUTSTANDING], count = w->count;
    memcpy(ids, w->outstanding, sizeof ids);
    worker_stop(w, 0, status);
    for (uint32_t k = 0; k < count; k++) {
        if (k < blame)
            sample_blame(j, ids[k], why);
        else
            sample_requeue(j, ids[k]);
    }
}

/* Stops every process (restarted when next needed), so that no request of this call is left
 * in one: its samples are being given up. */
static void stop_all(critic_external *x) {
    for (uint32_t k = 0; k < x->workers; k++)
        if (x->w[k].pid > 0) worker_stop(&x->w[k], 0, NULL);
}

/* The command cannot run: every sample not done fails, and the call with it. */
static void judge_fatal(judge *j, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void judge_fatal(judge *j, const char *format, ...) {
    char message[T2G_ERROR_MESSAGE_BYTES];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    for (uint32_t i = 0; i < j->n; i++) {
        if (j->samples[i].state == SAMPLE_DONE) continue;
        t2g_critic_result *r = &j->results[i];
        r->ok = false;
        r->attempts = j->samples[i].attempts;
        set_text(r->error, sizeof r->error, message);
        j->stats->failed++;
        sample_done(j, i);
    }
    stop_all(j->x);
    j->fatal = true;
    j->status = t2g_fail(j->err, T2G_ERR_IO, "%s", message);
}

/* A process exited (or closed its stdout). */
static void worker_died(judge *j, worker *w) {
    critic_external *x = j->x;
    bool answered = w->answered > 0;
    uint32_t count = w->count;
    uint32_t ids[MAX_OUTSTANDING];
    memcpy(ids, w->outstanding, sizeof ids);
    int status;
    worker_stop(w, 200, &status);
    j->stats->crashes++;
    char how[96];
    if (status == -1)
        snprintf(how, sizeof how, "closed its output");
    else
        describe_status(status, how, sizeof how);
    if (!answered && !x->ever_answered) {
        x->dead_starts++;
        if (status != -1 && WIFEXITED(status) && (WEXITSTATUS(status) == 127 || WEXITSTATUS(status) == 126)) {
            judge_fatal(j, "critic command '%s' cannot run: /bin/sh -c exited with %s", x->command, how);
            return;
        }
        if (x->dead_starts > x->retries) {
            judge_fatal(j, "critic command '%s' never answered: its processes exited %u times before a reply (last: %s)",
                        x->command, x->dead_starts, how);
            return;
        }
    } else if (!answered) {
        x->dead_starts++;
        /* A critic that worked and now dies at every start: skip this call's samples. */
        if (x->dead_starts > 2 * (x->retries + 1) * x->workers + 2) {
            char why[160];
            snprintf(why, sizeof why, "critic keeps exiting before answering (%u times in a row, last: %.80s)",
                     x->dead_starts, how);
            stop_all(x);
            for (uint32_t i = 0; i < j->n; i++) {
                if (j->samples[i].state == SAMPLE_DONE) continue;
                j->samples[i].attempts = x->retries;
                sample_blame(j, i, why);
            }
            return;
        }
    }
    char why[160];
    snprintf(why, sizeof why, "critic crashed (%s)", how);
    for (uint32_t k = 0; k < count; k++) {
        if (k == 0)
            sample_blame(j, ids[k], why);
        else
            sample_requeue(j, ids[k]);
    }
}

/* Reads the critique of a reply (a JSON object with an id). */
static t2g_status read_critique(const cJSON *json, const char *line, size_t len, t2g_critique *critique, t2g_error *err) {
    const cJSON *inner = cJSON_GetObjectItemCaseSensitive(json, "critique");
    bool has_text = cJSON_GetObjectItemCaseSensitive(json, "textual_feedback") ||
                    cJSON_GetObjectItemCaseSensitive(json, "Code Feedback");
    if (inner && !has_text) {
        if (cJSON_IsObject(inner)) {
            char *text = cJSON_PrintUnformatted(inner);
            if (!text) return t2g_fail(err, T2G_ERR_MEMORY, "out of memory");
            t2g_status status = t2g_critique_parse(text, strlen(text), critique, err);
            cJSON_free(text);
            return status;
        }
        if (cJSON_IsString(inner)) {
            /* A whole critique in a string (a language model's answer), else the text. */
            const char *s = inner->valuestring;
            t2g_error ignored;
            if (strchr(s, '{') && t2g_critique_parse(s, strlen(s), critique, &ignored) == T2G_OK) return T2G_OK;
            cJSON *copy = cJSON_Duplicate(json, 1);
            if (!copy) return t2g_fail(err, T2G_ERR_MEMORY, "out of memory");
            cJSON_DeleteItemFromObjectCaseSensitive(copy, "critique");
            cJSON_AddStringToObject(copy, "textual_feedback", s);
            char *text = cJSON_PrintUnformatted(copy);
            cJSON_Delete(copy);
            if (!text) return t2g_fail(err, T2G_ERR_MEMORY, "out of memory");
            t2g_status status = t2g_critique_parse(text, strlen(text), critique, err);
            cJSON_free(text);
            return status;
        }
    }
    return t2g_critique_parse(line, len, critique, err);
}

/* A line that is not a reply: counted, and logged while the log has room. */
static void log_stray(judge *j, const char *line, size_t len) {
    critic_external *x = j->x;
    j->stats->stray++;
    bool logged = x->log && x->log_bytes + (long long)len + 1 <= MAX_LOG && fwrite(line, 1, len, x->log) == len &&
                  fputc('\n', x->log) != EOF && fflush(x->log) == 0;
    if (logged)
        x->log_bytes += (long long)len + 1;
    else
        j->stats->stray_unlogged++;
}

/* For tests/fuzz: the critique of one reply line, read as handle_line reads it. */
t2g_status critic_external_read_reply(const char *line, size_t len, t2g_critique *critique, t2g_error *err) {
    cJSON *json = cJSON_ParseWithLength(line, len);
    t2g_status status = json && cJSON_IsObject(json) ? read_critique(json, line, len, critique, err)
                                                     : t2g_fail(err, T2G_ERR_FORMAT, "not a JSON object");
    cJSON_Delete(json);
    return status;
}

static void note_garbage(worker *w, const char *what, const char *line, size_t len) {
    if (w->unattributed < MAX_OUTSTANDING) {
        char *note = w->garbage_note[w->unattributed];
        int shown = len > 40 ? 40 : (int)len;
        snprintf(note, sizeof w->garbage_note[0], "garbage: %s: '%.*s%s'", what, shown, line, len > 40 ? "..." : "");
        for (char *c = note; *c; c++)
            if ((unsigned char)*c < 0x20) *c = ' ';
    }
    w->unattributed++;
}

/* One reply line from worker w. A line that is not a reply is counted as garbage: tied to no
 * sample (w->unattributed, blamed by the caller), or to the sample whose id it has (blamed
 * here). `tail`: the process's last bytes, without a newline: used only when they are a valid
 * reply, otherwise left to the crash that follows (nothing counted, nothing blamed). */
static void handle_line(judge *j, worker *w, char *line, size_t len, bool tail) {
    while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    size_t start = 0;
    while (start < len && (line[start] == ' ' || line[start] == '\t'))
        start++;
    if (start == len) return; /* blank lines are ignored */
    line += start;
    len -= start;
    cJSON *json = cJSON_ParseWithLength(line, len);
    const cJSON *id = json && cJSON_IsObject(json) ? cJSON_GetObjectItemCaseSensitive(json, "id") : NULL;
    if (!id) { /* not a reply: the critic's own output (its last bytes before an exit: left to the crash) */
        if (!tail) log_stray(j, line, len);
        cJSON_Delete(json);
        return;
    }
    double v = cJSON_IsNumber(id) ? id->valuedouble : -1.0;
    uint32_t k = 0;
    if (v >= 0 && v < MAX_ID && v == (double)(uint64_t)v)
        while (k < w->count && j->requests[w->outstanding[k]].id != (uint64_t)v)
            k++;
    if (!(v >= 0 && v < MAX_ID && v == (double)(uint64_t)v) || k == w->count) {
        if (!tail) {
            char what[64];
            if (!(v >= 0 && v < MAX_ID && v == (double)(uint64_t)v))
                snprintf(what, sizeof what, "an id that is not a whole number");
            else
                snprintf(what, sizeof what, "unknown id %llu", (unsigned long long)v);
            j->stats->garbage++;
            note_garbage(w, what, line, len);
        }
        cJSON_Delete(json);
        return;
    }
    uint32_t i = w->outstanding[k];
    t2g_critique critique;
    memset(&critique, 0, sizeof critique);
    t2g_error err = {0};
    t2g_status read = read_critique(json, line, len, &critique, &err);
    if (read == T2G_ERR_MEMORY) { /* an error of the call, never the critic's garbage */
        cJSON_Delete(json);
        judge_fatal(j, "external critic: out of memory reading a critique");
        j->status = t2g_fail(j->err, T2G_ERR_MEMORY, "external critic: out of memory reading a critique");
        return;
    }
    if (read != T2G_OK) {
        if (!tail) {
            outstanding_remove(w, k);
            w->last_reply_ms = t2g_clock_ms();
            j->stats->garbage++;
            char why[200];
            snprintf(why, sizeof why, "garbage: the reply to id %llu has no critique: %.140s", (unsigned long long)v,
                     err.message);
            sample_blame(j, i, why);
        }
        cJSON_Delete(json);
        return;
    }
    outstanding_remove(w, k);
    w->last_reply_ms = t2g_clock_ms();
    const cJSON *score = cJSON_GetObjectItemCaseSensitive(json, "score");
    const cJSON *final_score = cJSON_GetObjectItemCaseSensitive(json, "final_score");
    t2g_critic_result *r = &j->results[i];
    r->ok = true;
    r->critique = critique;
    r->score = cJSON_IsNumber(score) ? score->valuedouble : critique.has_score ? critique.score : 0.0;
    r->final_score = cJSON_IsNumber(final_score) ? final_score->valuedouble : 0.0;
    r->attempts = j->samples[i].attempts + 1;
    j->stats->judged++;
    sample_done(j, i);
    w->answered++;
    if (j->samples[i].send_number + 1 > w->answered_after) w->answered_after = j->samples[i].send_number + 1;
    j->x->ever_answered = true;
    j->x->dead_starts = 0;
    cJSON_Delete(json);
}

/* Blames the oldest outstanding samples for the garbage lines not tied to a sample, one each. */
static uint32_t blame_unattributed(worker *w) {
    uint32_t blame = w->unattributed < w->count ? w->unattributed : w->count;
    w->unattributed = 0;
    return blame;
}

/* Reads what the process wrote; handles whole lines; EOF -> worker_died. */
static void worker_read(judge *j, worker *w) {
    char chunk[READ_CHUNK];
    bool eof = false;
    for (int reads = 0; reads < 16 && w->out >= 0; reads++) {
        ssize_t n = read(w->out, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK) eof = true;
            break;
        }
        if (n == 0) {
            eof = true;
            break;
        }
        for (ssize_t c = 0; c < n; c++) {
            char byte = chunk[c];
            if (byte == '\n') {
                if (w->line_too_long) {
                    char what[64];
                    snprintf(what, sizeof what, "a line over critic.max_bytes (%zu bytes)", j->x->max_line);
                    j->stats->garbage++;
                    note_garbage(w, what, w->line, w->line_len);
                } else {
                    handle_line(j, w, w->line ? w->line : (char *)"", w->line_len, false);
                }
                w->line_len = 0;
                w->line_too_long = false;
                continue;
            }
            if (w->line_too_long) continue;
            if (w->line_len + 2 > w->line_cap) {
                if (w->line_len + 2 > j->x->max_line + 1) { /* the line, without its newline, is over the cap */
                    w->line_too_long = true;
                    continue;
                }
                size_t need = w->line_len + 2;
                if (!t2g_grow_at_most(&w->line, &w->line_cap, need, j->x->max_line + 2, 1)) {
                    /* out of memory is an error of the call, never a critic's garbage */
                    judge_fatal(j, "external critic: out of memory for a reply line of %zu bytes", need);
                    j->status = t2g_fail(j->err, T2G_ERR_MEMORY, "external critic: out of memory for a reply line of %zu bytes", need);
                    return;
                }
            }
            w->line[w->line_len++] = byte;
            w->line[w->line_len] = 0;
        }
        if ((size_t)n < sizeof chunk) break;
    }
    if (eof) {
        if (w->line_len && !w->line_too_long) handle_line(j, w, w->line, w->line_len, true);
        w->line_len = 0;
    }
    /* The oldest outstanding samples are blamed for the garbage lines, one each, in order;
     * garbage with nothing outstanding is only counted. */
    uint32_t blame = blame_unattributed(w);
    if (eof) {
        for (uint32_t k = 0; k < blame; k++) {
            uint32_t i = w->outstanding[0];
            outstanding_remove(w, 0);
            sample_blame(j, i, w->garbage_note[k]);
        }
        worker_died(j, w);
    } else if (blame) {
        uint32_t ids[MAX_OUTSTANDING], count = w->count;
        memcpy(ids, w->outstanding, sizeof ids);
        char notes[MAX_OUTSTANDING][96];
        memcpy(notes, w->garbage_note, sizeof notes);
        worker_stop(w, 0, NULL);
        for (uint32_t k = 0; k < count; k++) {
            if (k < blame)
                sample_blame(j, ids[k], notes[k]);
            else
                sample_requeue(j, ids[k]);
        }
    }
}

/* ---- the critic ---- */

t2g_status critic_external_start(const t2g_external_critic_options *options, critic_external **external,
                                 t2g_error *err) {
    *external = NULL;
    if (!options || !options->command || !options->command[0])
        return t2g_fail(err, T2G_ERR_ARGUMENT, "external critic: no command (critic.command)");
    if (options->workers < 1 || options->workers > 256)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "external critic '%s': %u workers (critic.workers: expected 1 to 256)",
                        options->command, options->workers);
    if (options->timeout_ms < 1)
        return t2g_fail(err, T2G_ERR_ARGUMENT, "external critic '%s': timeout of 0 ms (critic.timeout_ms: expected >= 1)",
                        options->command);
    critic_external *x = calloc(1, sizeof *x);
    if (x) x->w = calloc(options->workers, sizeof *x->w);
    if (x) x->command = strdup(options->command);
    if (!x || !x->w || !x->command) {
        if (x) free(x->w), free(x->command);
        free(x);
        return t2g_fail(err, T2G_ERR_MEMORY, "external critic: out of memory");
    }
    x->workers = options->workers;
    x->timeout_ms = options->timeout_ms;
    x->retries = options->retries;
    x->max_line = options->max_bytes ? options->max_bytes : MAX_LINE;
    for (uint32_t k = 0; k < x->workers; k++)
        x->w[k].in = x->w[k].out = -1;
    for (uint32_t k = 0; k < x->workers; k++) {
        t2g_status status = worker_start(x, &x->w[k], err);
        if (status) {
            critic_external_stop(x);
            return status;
        }
    }
    *external = x;
    return T2G_OK;
}

void critic_external_stop(critic_external *x) {
    if (!x) return;
    /* EOF on every stdin first, so that well-behaved critics end on their own; then a short
     * grace, then the kill. */
    for (uint32_t k = 0; k < x->workers; k++)
        close_fd(&x->w[k].in);
    int64_t until = t2g_clock_ms() + 250;
    for (uint32_t k = 0; k < x->workers; k++) {
        int64_t left = until - t2g_clock_ms();
        worker_stop(&x->w[k], left > 0 ? (int)left : 0, NULL);
        free(x->w[k].pending);
        free(x->w[k].line);
    }
    if (x->log) fclose(x->log);
    free(x->w);
    free(x->command);
    free(x);
}

t2g_status critic_external_set_log(critic_external *x, const char *path, t2g_error *err) {
    FILE *log = fopen(path, "a");
    if (!log) return t2g_fail(err, T2G_ERR_IO, "%s: cannot open the critic's log: %s", path, strerror(errno));
    if (x->log) fclose(x->log);
    x->log = log;
    return T2G_OK;
}

static int compare_ids(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The worker that takes the next request: running or startable, fewest outstanding. */
static worker *pick_worker(critic_external *x) {
    worker *best = NULL;
    for (uint32_t k = 0; k < x->workers; k++) {
        worker *w = &x->w[k];
        if (w->count >= MAX_OUTSTANDING) continue;
        if (w->pid > 0 && w->in < 0) continue; /* it stopped reading: wait for its end */
        if (!best || w->count < best->count) best = w;
    }
    return best;
}

/* Blames timed-out samples: each worker's oldest outstanding sample once its time is up. */
static void check_deadlines(judge *j, int64_t now) {
    critic_external *x = j->x;
    for (uint32_t k = 0; k < x->workers; k++) {
        worker *w = &x->w[k];
        if (!w->count) continue;
        sample *s = &j->samples[w->outstanding[0]];
        int64_t from = s->sent_ms > w->last_reply_ms ? s->sent_ms : w->last_reply_ms;
        if (now < from + (int64_t)x->timeout_ms) continue;
        char why[160];
        if (w->answered_after > s->send_number + 1) {
            j->stats->missing++;
            snprintf(why, sizeof why, "missing: no reply for id %llu in %u ms (the critic answered later requests)",
                     (unsigned long long)j->requests[w->outstanding[0]].id, x->timeout_ms);
        } else {
            j->stats->timeouts++;
            snprintf(why, sizeof why, "%s%u ms", TIMEOUT, x->timeout_ms);
        }
        worker_fail(j, w, 1, why, NULL);
    }
}

t2g_status critic_external_judge(critic_external *x, t2g_critic_stats *stats, const t2g_critic_request *requests,
                                 uint32_t n, t2g_critic_result *results, t2g_error *err) {
    if (n == 0) return T2G_OK;
    /* Ids: distinct, and exact as JSON numbers. */
    uint64_t *ids = malloc(n * sizeof *ids);
    sample *samples = calloc(n, sizeof *samples);
    struct pollfd *fds = malloc(2 * x->workers * sizeof *fds);
    worker **owner = malloc(2 * x->workers * sizeof *owner);
    if (!ids || !samples || !fds || !owner) {
        free(ids), free(samples), free(fds), free(owner);
        return t2g_fail(err, T2G_ERR_MEMORY, "external critic: out of memory");
    }
    for (uint32_t i = 0; i < n; i++)
        ids[i] = requests[i].id;
    qsort(ids, n, sizeof *ids, compare_ids);
    for (uint32_t i = 0; i < n; i++) {
        if ((i && ids[i] == ids[i - 1]) || (double)ids[i] >= MAX_ID) {
            uint64_t bad = ids[i];
            free(ids), free(samples), free(fds), free(owner);
            return t2g_fail(err, T2G_ERR_ARGUMENT, "external critic: request id %llu is %s", (unsigned long long)bad,
                            (double)bad >= MAX_ID ? "not below 2^53" : "used twice in one call (ids must be distinct)");
        }
    }
    free(ids);

    judge j = {.x = x, .stats = stats, .requests = requests, .results = results, .samples = samples, .n = n,
               .err = err, .status = T2G_OK};
    /* Before sending: processes that ended since the last call are reaped (and counted), and
     * stray output is read and counted as garbage, not mistaken for a reply of this call. */
    for (uint32_t k = 0; k < x->workers && !j.fatal; k++)
        if (x->w[k].pid > 0 && x->w[k].out >= 0) worker_read(&j, &x->w[k]);
    while (j.done < n && !j.fatal) {
        /* Send what can be sent. */
        while (j.next < n) {
            if (j.samples[j.next].state != SAMPLE_QUEUED) {
                j.next++;
                continue;
            }
            /* A process that closed its stdin with nothing outstanding will never take more. */
            for (uint32_t k = 0; k < x->workers && !j.fatal; k++)
                if (x->w[k].pid > 0 && x->w[k].in < 0 && x->w[k].count == 0) worker_died(&j, &x->w[k]);
            if (j.fatal) break;
            worker *w = pick_worker(x);
            if (!w) break;
            if (w->pid == 0) {
                t2g_error start_err = {0};
                if (worker_start(x, w, &start_err)) {
                    judge_fatal(&j, "%s", start_err.message);
                    break;
                }
            }
            uint32_t i = j.next;
            if (!append_request(w, &requests[i])) {
                judge_fatal(&j, "external critic: out of memory writing request %u", i);
                j.status = t2g_fail(err, T2G_ERR_MEMORY, "external critic: out of memory writing request %u", i);
                break;
            }
            j.samples[i].state = SAMPLE_SENT;
            j.samples[i].sent_ms = t2g_clock_ms();
            j.samples[i].send_number = w->sent++;
            w->outstanding[w->count++] = i;
            j.next++;
        }
        if (j.fatal) break;
        for (uint32_t k = 0; k < x->workers; k++)
            if (x->w[k].pending_len > x->w[k].pending_off) worker_flush(&x->w[k]);

        /* Wait for output, room to write, or the first deadline. */
        int64_t now = t2g_clock_ms(), wake = -1;
        nfds_t count = 0;
        for (uint32_t k = 0; k < x->workers; k++) {
            worker *w = &x->w[k];
            if (w->pid == 0) continue;
            if (w->out >= 0) {
                fds[count] = (struct pollfd){.fd = w->out, .events = POLLIN};
                owner[count++] = w;
            }
            if (w->in >= 0 && w->pending_len > w->pending_off) {
                fds[count] = (struct pollfd){.fd = w->in, .events = POLLOUT};
                owner[count++] = w;
            }
            if (w->count) {
                sample *s = &j.samples[w->outstanding[0]];
                int64_t from = s->sent_ms > w->last_reply_ms ? s->sent_ms : w->last_reply_ms;
                int64_t deadline = from + (int64_t)x->timeout_ms;
                if (wake < 0 || deadline < wake) wake = deadline;
            }
        }
        int timeout = wake < 0 ? 1000 : wake <= now ? 0 : (int)(wake - now > 1000 ? 1000 : wake - now);
        int ready = poll(fds, count, timeout);
        if (ready < 0 && errno != EINTR) {
            int e = errno;
            judge_fatal(&j, "external critic '%s': poll failed: %s", x->command, strerror(e));
            break;
        }
        if (t2g_interrupt_requested()) { /* a signal: stop waiting, stop the critics */
            judge_fatal(&j, "external critic '%s': interrupted while waiting for critiques", x->command);
            j.status = t2g_fail(err, T2G_ERR_INTERRUPTED, "interrupted while waiting for the external critic");
            break;
        }
        for (nfds_t f = 0; ready > 0 && f < count; f++) {
            worker *w = owner[f];
            if (!fds[f].revents || w->pid == 0) continue;
            if (fds[f].fd == w->in && w->in >= 0) {
                if (fds[f].revents & (POLLERR | POLLHUP))
                    close_fd(&w->in), w->pending_len = w->pending_off = 0;
                else
                    worker_flush(w);
            } else if (fds[f].fd == w->out && w->out >= 0) {
                worker_read(&j, w);
            }
            if (j.fatal) break;
        }
        if (j.fatal) break;
        check_deadlines(&j, t2g_clock_ms());
    }
    free(samples);
    free(fds);
    free(owner);
    if (j.status) {
        /* On an error no result holds a critique (as for the built-in critics). */
        for (uint32_t i = 0; i < n; i++)
            if (results[i].ok) {
                t2g_critic_result_free(&results[i]);
                set_text(results[i].error, sizeof results[i].error, err ? err->message : "the critic failed");
            }
        return j.status;
    }
    return T2G_OK;
}
