/* t2g: train GPT-style language models on any Vulkan device. The whole public API. */
#ifndef T2G_H
#define T2G_H

#include "t2g/device.h"
#include "t2g/kernels.h"
#include "t2g/memory.h"
#include "t2g/recorder.h"
#include "t2g/status.h"

#define T2G_VERSION "0.1.0"

#endif
