/* Status codes and error messages shared by every t2g function.
 *
 * Every library function that can fail returns a t2g_status and, on failure, fills a
 * caller-owned t2g_error with a message a person can act on (what was being done, what went
 * wrong, what was expected). Library code never prints and never exits. */
#ifndef T2G_STATUS_H
#define T2G_STATUS_H

#include <stdarg.h>

typedef enum t2g_status {
    T2G_OK = 0,
    T2G_ERR_ARGUMENT,     /* a bad shape, a missing tensor, a misuse of the API */
    T2G_ERR_NO_LOADER,    /* no Vulkan loader (libvulkan.so.1) could be opened */
    T2G_ERR_NO_DEVICE,    /* no Vulkan device, or none matching the request */
    T2G_ERR_VULKAN,       /* a Vulkan call failed; the message names the VkResult */
    T2G_ERR_MEMORY,       /* out of host or device memory */
    T2G_ERR_TOO_LARGE,    /* a request exceeds a device limit, or an input a configured cap */
    T2G_ERR_UNSUPPORTED,  /* the device lacks a feature the request needs */
    T2G_ERR_IO,           /* a file could not be read or written */
    T2G_ERR_FORMAT,       /* a file or value is not in the expected format */
    T2G_ERR_INTERRUPTED,  /* stopped on request (t2g_interrupt_request) before changing anything */
} t2g_status;

#define T2G_ERROR_MESSAGE_BYTES 1024

typedef struct t2g_error {
    t2g_status status;
    char message[T2G_ERROR_MESSAGE_BYTES];
} t2g_error;

/* Fills err (if not NULL) and returns status, so a failure reads `return t2g_fail(...)`. */
t2g_status t2g_fail(t2g_error *err, t2g_status status, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
t2g_status t2g_failv(t2g_error *err, t2g_status status, const char *format, va_list args);

/* Puts "context: " in front of an existing message, keeping its status; returns the status. */
t2g_status t2g_error_context(t2g_error *err, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* A short name for a status, e.g. "no device". */
const char *t2g_status_name(t2g_status status);

/* A request to stop, safe to make from a signal handler: long operations (an RL step before its
 * update, an external critic's wait) then return T2G_ERR_INTERRUPTED, leaving the state as it
 * was before them. Operations that have begun changing state (an optimizer step) finish first. */
void t2g_interrupt_request(void);
int t2g_interrupt_requested(void); /* non-zero once requested */

#endif
