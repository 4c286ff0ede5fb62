/* The element types' table (t2g/dtype.h). */
#include "t2g/dtype.h"

static const struct {
    const char *name;
    uint32_t bytes;
} dtypes[T2G_DTYPE_COUNT] = {
    [T2G_DTYPE_F32] = {"f32", 4}, [T2G_DTYPE_F16] = {"f16", 2}, [T2G_DTYPE_BF16] = {"bf16", 2}, [T2G_DTYPE_U32] = {"u32", 4},
};

const char *t2g_dtype_name(t2g_dtype dtype) { return (unsigned)dtype < T2G_DTYPE_COUNT ? dtypes[dtype].name : "unknown"; }
uint32_t t2g_dtype_bytes(t2g_dtype dtype) { return (unsigned)dtype < T2G_DTYPE_COUNT ? dtypes[dtype].bytes : 0; }
