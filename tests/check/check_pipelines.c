/* Pipelines: created lazily, on the first dispatch that uses each (a command creates only what it
 * uses), and once each when several threads ask for the same one at the same time. Each check
 * opens a device of its own (no on-disk cache) so that it counts only its own pipelines. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

static void print_nothing(void *user, const char *message) {
    (void)user;
    (void)message;
}

/* A device of its own on ctx's device, without an on-disk pipeline cache; NULL (a failure noted). */
static t2g_device *own_device(check_ctx *ctx) {
    t2g_device_options options = t2g_device_options_default();
    options.cache_dir = "";
    options.device = t2g_device_get_info(ctx->device)->name;
    options.log = print_nothing;
    t2g_device *device = NULL;
    t2g_error err = {0};
    if (t2g_device_create(&options, &device, &err)) check_fail(ctx, "opening a device of its own: %s", err.message);
    return device;
}

static void check_no_validation_messages(check_ctx *ctx, t2g_device *device) {
    uint32_t messages = t2g_device_validation_messages(device);
    check_true(ctx, messages == 0, "the device of its own had no validation messages (%u: %s)", messages,
               t2g_device_first_validation_message(device));
}

T2G_CHECK(pipelines_lazy) {
    check_case_begin(ctx);
    t2g_device *device = own_device(ctx);
    if (!device) return ctx->failures;
    t2g_pipeline_stats opened = t2g_device_pipeline_stats(device);
    check_true(ctx, opened.created == 0, "opening a device creates no pipeline (%u)", opened.created);
    t2g_arena *arena = NULL;
    t2g_recorder *rec = NULL;
    t2g_tensor x, y; /* (37) each */
    t2g_error err = {0};
    bool ok = !t2g_arena_create(device, 1 << 16, "lazy pipelines", &arena, &err) &&
              !t2g_recorder_create(device, NULL, &rec, &err) && !t2g_tensor_alloc_f32(arena, 37, &x, &err) &&
              !t2g_tensor_alloc_f32(arena, 37, &y, &err);
    uint32_t after_fill = 0, after_copy = 0, after_two_copies = 0, after_gelu = 0;
    if (ok) ok = !t2g_fill(rec, x, 37, 1.0f, &err) && !t2g_recorder_submit(rec, &err);
    after_fill = t2g_device_pipeline_stats(device).created;
    if (ok) ok = !t2g_copy(rec, y, x, 37, &err) && !t2g_recorder_submit(rec, &err);
    after_copy = t2g_device_pipeline_stats(device).created;
    /* the same kernel again, on another length: its pipeline is reused */
    if (ok) ok = !t2g_copy(rec, y, x, 5, &err) && !t2g_recorder_submit(rec, &err);
    after_two_copies = t2g_device_pipeline_stats(device).created;
    if (ok) ok = !t2g_gelu_forward(rec, y, x, 37, &err) && !t2g_recorder_submit(rec, &err);
    after_gelu = t2g_device_pipeline_stats(device).created;
    if (!ok) check_fail(ctx, "using the device of its own: %s", err.message);
    check_true(ctx, after_fill == 0, "a fill (the driver's) creates no pipeline (%u)", after_fill);
    check_true(ctx, after_copy == 1, "one copy creates one pipeline, the copy's (%u)", after_copy);
    check_true(ctx, after_two_copies == 1, "a second copy creates none (%u)", after_two_copies);
    check_true(ctx, after_gelu == 2, "a GELU then creates its own, one more (%u)", after_gelu);
    check_no_validation_messages(ctx, device);
    t2g_recorder_destroy(rec);
    t2g_arena_destroy(arena);
    t2g_device_destroy(device);
    return ctx->failures;
}

#define THREADS 4
#define THREAD_N 1000 /* floats each thread copies */

/* The threads wait until `go` is set, so that they ask for the pipeline at the same time. */
typedef struct start_line {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    bool go;
} start_line;

typedef struct copy_job {
    start_line *start;
    t2g_recorder *rec;
    t2g_tensor out, in; /* (THREAD_N) each; in holds `value` */
    float value;
    t2g_status status;
    t2g_error err;
} copy_job;

/* Waits for the start, then records one copy. */
static void *record_copy(void *arg) {
    copy_job *job = arg;
    pthread_mutex_lock(&job->start->lock);
    while (!job->start->go) pthread_cond_wait(&job->start->changed, &job->start->lock);
    pthread_mutex_unlock(&job->start->lock);
    job->status = t2g_copy(job->rec, job->out, job->in, THREAD_N, &job->err);
    return NULL;
}

static bool all_equal(const float *x, size_t n, float value) {
    for (size_t i = 0; i < n; i++)
        if (x[i] != value) return false;
    return true;
}

/* Records the jobs' copies in THREADS threads at once; false (a failure noted) if not all started. */
static bool record_in_threads(check_ctx *ctx, copy_job *jobs) {
    start_line start = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER, .go = false};
    pthread_t threads[THREADS];
    int started = 0;
    while (started < THREADS) {
        jobs[started].start = &start;
        if (pthread_create(&threads[started], NULL, record_copy, &jobs[started])) break;
        started++;
    }
    pthread_mutex_lock(&start.lock);
    start.go = true;
    pthread_cond_broadcast(&start.changed);
    pthread_mutex_unlock(&start.lock);
    for (int i = 0; i < started; i++) pthread_join(threads[i], NULL);
    if (started < THREADS) check_fail(ctx, "could start only %d of %d threads", started, THREADS);
    return started == THREADS;
}

T2G_CHECK(pipelines_threads) {
    check_case_begin(ctx);
    t2g_device *device = own_device(ctx);
    if (!device) return ctx->failures;
    copy_job jobs[THREADS];
    memset(jobs, 0, sizeof jobs);
    t2g_arena *arena = NULL;
    t2g_error err = {0};
    bool ok = !t2g_arena_create(device, 2 * THREADS * (THREAD_N * 4 + 256), "threads", &arena, &err);
    for (int i = 0; ok && i < THREADS; i++) {
        float values[THREAD_N];
        jobs[i].value = (float)(i + 1);
        for (int e = 0; e < THREAD_N; e++) values[e] = jobs[i].value;
        ok = !t2g_recorder_create(device, NULL, &jobs[i].rec, &err) &&
             !t2g_tensor_alloc_f32(arena, THREAD_N, &jobs[i].out, &err) &&
             !t2g_tensor_alloc_f32(arena, THREAD_N, &jobs[i].in, &err) &&
             !t2g_tensor_upload(jobs[i].in, values, sizeof values, &err);
    }
    if (!ok) check_fail(ctx, "setting up: %s", err.message);
    /* the thread that creates the pipeline holds until the others wait for it */
    t2g_device_test_hold_pipelines(device, THREADS - 1);
    if (ok) ok = record_in_threads(ctx, jobs);
    for (int i = 0; ok && i < THREADS; i++) {
        float host[THREAD_N];
        if (jobs[i].status) {
            check_fail(ctx, "thread %d recording a copy: %s", i, jobs[i].err.message);
        } else if (t2g_recorder_submit(jobs[i].rec, &err) ||
                   t2g_tensor_download(jobs[i].out, host, sizeof host, &err)) {
            check_fail(ctx, "running thread %d's copy: %s", i, err.message);
        } else {
            check_true(ctx, all_equal(host, THREAD_N, jobs[i].value), "thread %d's copy wrote %g (got %g)", i,
                       jobs[i].value, host[0]);
        }
    }
    t2g_pipeline_stats stats = t2g_device_pipeline_stats(device);
    check_true(ctx, stats.created == 1 && stats.waits == THREADS - 1,
               "%d threads asking for the copy's pipeline at once: one creates it, %d wait (%u created, %u waits)",
               THREADS, THREADS - 1, stats.created, stats.waits);
    check_no_validation_messages(ctx, device);
    for (int i = 0; i < THREADS; i++) t2g_recorder_destroy(jobs[i].rec);
    t2g_arena_destroy(arena);
    t2g_device_destroy(device);
    return ctx->failures;
}
