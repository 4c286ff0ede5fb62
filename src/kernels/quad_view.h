/* Where a kernel reads a tensor's quads through a uniform texel buffer (t2g_quad_view; the
 * binding itself: t2g_bind_quads in kernel_util.h). Includes only public headers, so tests can
 * include it. Not installed. */
#ifndef T2G_QUAD_VIEW_H
#define T2G_QUAD_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "t2g/device.h"
#include "t2g/memory.h"

/* Where a shader reads a tensor's quads (4 elements, one texel of a uniform texel buffer): the
 * view of the arena's bytes [offset, offset + bytes), from the device's texel-buffer offset
 * alignment at or below the tensor's start to past its last element (inside the arena's buffer,
 * which ends on a multiple of 256 bytes), and the quad of the view where the tensor starts. False
 * where the quads cannot serve: the tensor does not start on a quad of the view, or the view would
 * hold more texels than the device allows; the view is then the buffer's first texel, bound for
 * the layout's sake and never read (the shader takes its scalar loads). */
typedef struct t2g_quads {
    uint64_t offset, bytes;
    uint32_t first;
} t2g_quads;
bool t2g_quad_view(const t2g_device_info *info, t2g_tensor tensor, t2g_quads *view);

#endif
