/* t2g: train GPT-style language models on any Vulkan device. The whole public API: these
 * headers declare every function of the installed libt2g.a, and the archive exports nothing
 * else (cmake/public_archive.cmake; tests/cli/install_pkgconfig.sh checks both ways). */
#ifndef T2G_H
#define T2G_H

#include "t2g/status.h"
#include "t2g/dtype.h"

#include "t2g/device.h"
#include "t2g/memory.h"
#include "t2g/recorder.h"
#include "t2g/kernels.h"
#include "t2g/rl_kernels.h"

#include "t2g/assets.h"
#include "t2g/bpe.h"
#include "t2g/chat.h"
#include "t2g/checkpoint.h"
#include "t2g/config.h"
#include "t2g/critic.h"
#include "t2g/dataset.h"
#include "t2g/feedback.h"
#include "t2g/gguf.h"
#include "t2g/gguf_export.h"
#include "t2g/gguf_model.h"
#include "t2g/gguf_tokenizer.h"
#include "t2g/generate.h"
#include "t2g/gguf_write.h"
#include "t2g/gpt.h"
#include "t2g/hf.h"
#include "t2g/model_path.h"
#include "t2g/report.h"
#include "t2g/rl.h"
#include "t2g/rng.h"
#include "t2g/safetensors.h"
#include "t2g/tasks.h"
#include "t2g/text.h"
#include "t2g/tokenizer.h"
#include "t2g/train.h"
#include "t2g/variants.h"

#define T2G_VERSION "0.1.0"

#endif
