/* Attention with an explicit choice of kernels, for tests that must run every configuration on
 * any device (lavapipe would otherwise only ever run the CPU's). Includes only public headers, so
 * tests/check/check_attention.c can include it. Not installed. */
#ifndef T2G_ATTENTION_INTERNAL_H
#define T2G_ATTENTION_INTERNAL_H

#include "t2g/device.h"
#include "t2g/kernels.h"

/* The ways attention can run (the table in src/kernels/attention.c); results differ in their
 * last bits between them. */
typedef enum t2g_attention_config {
    T2G_ATTENTION_AUTO = 0, /* the device's choice (t2g_attention_choice) */
    T2G_ATTENTION_TILED,    /* attention_forward, attention_backward_dkv, attention_backward_dq: workgroups
                             * of 128 with shared-memory tiles (GPUs) */
    T2G_ATTENTION_LANES,    /* the *_lanes kernels: one invocation per row, no shared memory (CPU
                             * devices); the forward with a 16-bit out stays tiled */
    T2G_ATTENTION_CONFIGS   /* the count */
} t2g_attention_config;

/* The device's configuration: T2G_ATTENTION_LANES on CPU devices (unless a test has them take the
 * GPU layouts: t2g_device_test_layouts_as_gpu), T2G_ATTENTION_TILED elsewhere. */
t2g_attention_config t2g_attention_choice(const t2g_device *device);
/* A configuration's name ("tiled", "lanes"; "unknown" out of range), for messages. */
const char *t2g_attention_config_name(t2g_attention_config config);

/* t2g_attention_forward and t2g_attention_backward on configuration `config`. */
t2g_status t2g_attention_forward_config(t2g_recorder *rec, t2g_attention_config config, t2g_tensor out, t2g_tensor lse,
                                        t2g_tensor qkv, uint32_t B, uint32_t T, uint32_t NH, uint32_t KVH, uint32_t hs,
                                        t2g_error *err);
t2g_status t2g_attention_backward_config(t2g_recorder *rec, t2g_attention_config config, t2g_tensor dqkv,
                                         t2g_tensor dout, t2g_tensor qkv, t2g_tensor out, t2g_tensor lse, uint32_t B,
                                         uint32_t T, uint32_t NH, uint32_t KVH, uint32_t hs, t2g_error *err);

#endif
