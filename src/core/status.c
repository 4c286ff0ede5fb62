#include "t2g/status.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

t2g_status t2g_failv(t2g_error *err, t2g_status status, const char *format, va_list args) {
    if (err) {
        err->status = status;
        vsnprintf(err->message, sizeof err->message, format, args);
    }
    return status;
}

t2g_status t2g_fail(t2g_error *err, t2g_status status, const char *format, ...) {
    va_list args;
    va_start(args, format);
    t2g_failv(err, status, format, args);
    va_end(args);
    return status;
}

t2g_status t2g_error_context(t2g_error *err, const char *format, ...) {
    if (!err) return T2G_ERR_ARGUMENT;
    char context[T2G_ERROR_MESSAGE_BYTES];
    va_list args;
    va_start(args, format);
    vsnprintf(context, sizeof context, format, args);
    va_end(args);
    char joined[T2G_ERROR_MESSAGE_BYTES];
    /* A message too long for the buffer is cut: the context is at its start. */
    if (snprintf(joined, sizeof joined, "%s: %s", context, err->message) >= 0)
        memcpy(err->message, joined, sizeof joined);
    return err->status;
}

const char *t2g_status_name(t2g_status status) {
    switch (status) {
    case T2G_OK: return "ok";
    case T2G_ERR_ARGUMENT: return "invalid argument";
    case T2G_ERR_NO_LOADER: return "no Vulkan loader";
    case T2G_ERR_NO_DEVICE: return "no device";
    case T2G_ERR_VULKAN: return "Vulkan error";
    case T2G_ERR_MEMORY: return "out of memory";
    case T2G_ERR_TOO_LARGE: return "too large for the device";
    case T2G_ERR_UNSUPPORTED: return "unsupported";
    case T2G_ERR_IO: return "I/O error";
    case T2G_ERR_FORMAT: return "bad format";
    case T2G_ERR_INTERRUPTED: return "interrupted";
    }
    return "unknown status";
}

static volatile sig_atomic_t interrupt_flag;

void t2g_interrupt_request(void) { interrupt_flag = 1; }
int t2g_interrupt_requested(void) { return interrupt_flag != 0; }
