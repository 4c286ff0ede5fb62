/* What the safetensors reader and writer share. */
#ifndef T2G_IO_SAFETENSORS_INTERNAL_H
#define T2G_IO_SAFETENSORS_INTERNAL_H

#include "t2g/dtype.h"

/* safetensors' name of F32, F16 and BF16 ("F32", "F16", "BF16"); NULL for another dtype. */
const char *t2g_safetensors_dtype_name(t2g_dtype dtype);

#endif
