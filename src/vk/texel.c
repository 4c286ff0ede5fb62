/* The texel formats a binding may be seen through (t2g_texel): quads of f32, bf16 and f16
 * elements, each one texel of a uniform texel buffer. */
#include "vk_internal.h"

static const struct {
    VkFormat format;
    uint32_t bytes;
    const char *name;
    t2g_dtype quads_of; /* the element type whose quads this format reads */
} texels[T2G_TEXEL_COUNT] = {
    [T2G_TEXEL_NONE] = {VK_FORMAT_UNDEFINED, 0, "storage buffer", T2G_DTYPE_F32},
    [T2G_TEXEL_F32X4] = {VK_FORMAT_R32G32B32A32_SFLOAT, 16, "R32G32B32A32_SFLOAT", T2G_DTYPE_F32},
    [T2G_TEXEL_U32X2] = {VK_FORMAT_R32G32_UINT, 8, "R32G32_UINT", T2G_DTYPE_BF16},
    [T2G_TEXEL_F16X4] = {VK_FORMAT_R16G16B16A16_SFLOAT, 8, "R16G16B16A16_SFLOAT", T2G_DTYPE_F16},
};

static bool known(t2g_texel texel) { return texel >= T2G_TEXEL_NONE && texel < T2G_TEXEL_COUNT; }

VkFormat t2g_texel_format(t2g_texel texel) { return known(texel) ? texels[texel].format : VK_FORMAT_UNDEFINED; }
uint32_t t2g_texel_bytes(t2g_texel texel) { return known(texel) ? texels[texel].bytes : 0; }
const char *t2g_texel_name(t2g_texel texel) { return known(texel) ? texels[texel].name : "(no such texel format)"; }

t2g_texel t2g_texel_of_quads(t2g_dtype dtype) {
    for (int texel = T2G_TEXEL_NONE + 1; texel < T2G_TEXEL_COUNT; texel++)
        if (texels[texel].quads_of == dtype) return (t2g_texel)texel;
    return T2G_TEXEL_NONE;
}
