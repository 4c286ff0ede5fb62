/* t2g bench kernels: every kernel at stated shapes, timed with GPU timestamps. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kernels/matmul_internal.h"

static const char HELP[] =
    "usage: t2g bench kernels [--device N|NAME] [--size small|medium|large] [--repeat R]\n"
    "                         [--only KERNEL[,KERNEL...]] [--matmul N[,N...]]\n"
    "                         [--tiles NAME[,NAME...]] [--matmul-type T[,T...]] [--json]\n"
    "\n"
    "Times every kernel at shapes of a GPT's training step: R timed runs after a warm-up, each\n"
    "timed by GPU timestamps around its dispatches; prints the median and the best time, and\n"
    "GFLOP/s (matmul, attention) or GB/s (the rest: bytes read + written once). The default\n"
    "size fits the device: 'small' on a CPU device (about a minute on lavapipe), 'large' on a\n"
    "GPU (with square matmuls of 4096^3 and 8192^3). Figures from a CPU device are for\n"
    "information; claims come from GPUs.\n"
    "\n"
    "  --size S    small: B=8 T=128 C=256 heads=4 V=256, matmul 512^3\n"
    "              medium: B=8 T=256 C=384 heads=6 V=256, matmul 1024^3 and 2048^3\n"
    "              large: B=64 T=256 C=384 heads=6 V=50257, matmul 4096^3 and 8192^3\n"
    "  --repeat R  timed runs per kernel (default 10 on a GPU, 5 on a CPU)\n"
    "  --only K    only these kernels (names as printed, e.g. matmul_forward,attention_forward)\n"
    "  --matmul N  square matmuls (matmul_square) of these sizes N^3 instead of the size's\n"
    "  --tiles T   time matmul_square on each of these tile configurations (auto: the one the\n"
    "              device would choose, the default; or a name of src/kernels/matmul.c's table,\n"
    "              e.g. cpu_large) to compare them in one run\n"
    "  --matmul-type T  time matmul_square with operands of these types: f32 (the default),\n"
    "              bf16, f16 (both operands), or inp_weight pairs such as f32_bf16 (f32 inp,\n"
    "              bf16 weight: a backward's products); the sums are f32 in every case\n"
    "  --json      one JSON object on standard output instead of the table\n"
    "\n"
    "example: t2g bench kernels --size medium --json > bench.json\n"
    "         t2g bench kernels --only matmul_square --matmul 512,1024 --tiles auto,cpu_small\n"
    "         t2g bench kernels --only matmul_square --matmul 512 --matmul-type f32,bf16,f16\n";

typedef struct bench_config {
    const char *name;
    uint32_t B, T, C, NH, V;
    uint32_t squares[2];  /* square matmul sizes, 0 = none */
    uint64_t params;      /* AdamW / grad norm elements */
} bench_config;

static const bench_config CONFIGS[] = {
    {"small", 8, 128, 256, 4, 256, {512, 0}, 4u << 20},
    {"medium", 8, 256, 384, 6, 256, {1024, 2048}, 10u << 20},
    {"large", 64, 256, 384, 6, 50257, {4096, 8192}, 124u << 20},
};

/* One benchmark: its tensors and how to record one run of it. */
typedef struct bench_item bench_item;
typedef t2g_status (*bench_record_fn)(t2g_recorder *rec, const bench_item *item, t2g_error *err);

enum { MAX_TENSORS = 10 };
typedef enum { FILL_RANDOM, FILL_TOKENS, FILL_ONES } fill_kind;

struct bench_item {
    char kernel[40];
    char shape[80];
    double flops;  /* 0: a bandwidth-bound kernel, reported in GB/s */
    double bytes;
    bench_record_fn record;
    uint32_t dims[6];
    uint64_t count;
    t2g_matmul_tiles tiles; /* matmul_square's tile configuration */
    bool auto_tiles;        /* tiles is the device's own choice */
    t2g_dtype types[2];     /* matmul_square's operand types: inp, weight */
    t2g_tensor t[MAX_TENSORS];
};

typedef struct bench_result {
    bench_item item;
    bool ran;
    char skipped[T2G_ERROR_MESSAGE_BYTES];
    double median_ms, best_ms;
    uint32_t dispatches;
} bench_result;

/* ---- the kernels' record functions ---- */

#define D(i) item->dims[i]
#define T(i) item->t[i]

static t2g_status record_matmul_forward(t2g_recorder *rec, const bench_item *item, t2g_error *err) {
    return t2g_matmul_forward(rec, T(0), T(1), T(2), &T(3), D(0), D(1), D(2), err);
}
static t2g_status record_matmul_square(t2g_recorder *rec, const bench_item *item, t2g_error *err) {
    return t2g_matmul_forward_tiles(rec, item->tiles, T(0), T(1), T(2), NULL, D(0), D(1), D(2), err);
}
static t2g_status record_matmul_backward(t2g_recorder *rec, const bench_item *item, t2g_error *err) {
    return t2g_matmul_backward(rec, &T(0), T(1), &T(2), T(3), T(4), T(5), D(0), D(1), D(2), err);
}
static t2g_status record_attention_forward(t2g_recorder *rec, const bench_item *item, t2g_error *err) {
    return t2g_attention_forward(rec, T(0), T(1), T(2), D(0), D(1), D(3), D(3), D(2) / D(3), err);
}
static t2g_status record_attention_backward(t2g_recorder *rec, const bench_item *item, t2g_error *err) {
    return t2g_attention_backward(rec, T(0), T(1), T(2), T(3), T(4), D(0), D(1), D(3), D(3), D(2) / D(3), err);
}
static t2g_status record_layernorm_forward(t2g_recorder *rec, const bench_item *item, t2g_error *err) {
    return t2g_layernorm_forward(rec, T(0), T(1), T(2), T(3), T(4), T(5), D(0), D(1), err);
}
static t2g_status record_layernorm_backward(t2g_recorder *rec, const bench_item *item, t2g_error *err) {
    return t2g_layernorm_backward(rec, T(0), T(1), T(2), T(3), T(4), T(5), T(6), T(7), D(0), D(1), err);
}
static t2g_status record_rmsnorm_forward(t2g_recorder *rec, const bench_item *item, t2g_error *err) {
    return t2g_rmsnorm_forward(rec, T(0), T(1), T(2), T(3), D(0), D(1), 1e-5f, err);
}
static t2g_status record_swiglu_forward(t2g_recorder *rec, const bench_item *item, t2g_error *err) {
    return t2g_swiglu_forward(rec, T(0), T(1), D(0), D(1), err);
}
static t2g_status record_gelu_forward(t2g_recorder *rec, const bench_item *item, t2g_error *err) {
    return t2g_gelu_forward(rec, T(0), T(1), item->count, err);
}
static t2g_status record_gelu_backward(t2g_recorder *rec, const bench_item *item, t2g_error *err) {
    return t2g_gelu_backward(rec, T(0), T(1), T(2), item->count, err);
}
static t2g_status record_residual_forward(t2g_recorder *rec, const bench_item *item, t2g_error *err) {
    return t2g_residual_forward(rec, T(0), T(1), T(2), item->count, err);
}
static t2g_status record_crossentropy(t2g_recorder *rec, const bench_item *item, t2g_error *err) {
    return t2g_crossentropy_forward_backward(rec, T(0), T(1), T(1), T(2), T(3), D(0), D(1), 1.0f / (float)D(0), err);
}
static t2g_status record_embedding_forward(t2g_recorder *rec, const bench_item *item, t2g_error *err) {
    return t2g_embedding_forward(rec, T(0), T(1), T(2), &T(3), D(0), D(1), D(2), D(3), err);
}
static t2g_status record_embedding_backward(t2g_recorder *rec, const bench_item *item, t2g_error *err) {
    return t2g_embedding_backward(rec, T(0), &T(1), T(2), T(3), D(0), D(1), D(2), D(3), err);
}
static t2g_status record_axpby(t2g_recorder *rec, const bench_item *item, t2g_error *err) {
    return t2g_axpby(rec, T(0), T(1), item->count, 1.0f, 1.0f, err);
}
static t2g_status record_grad_norm(t2g_recorder *rec, const bench_item *item, t2g_error *err) {
    return t2g_grad_norm(rec, T(0), T(1), item->count, 1.0f, err);
}
static t2g_status record_adamw(t2g_recorder *rec, const bench_item *item, t2g_error *err) {
    t2g_adamw_settings settings = {3e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, 1};
    return t2g_adamw_update(rec, T(0), T(1), T(2), T(3), &T(4), 0, item->count, &settings, err);
}

#undef D
#undef T

/* ---- building the items ---- */

typedef struct tensor_spec {
    uint64_t count;  /* elements of dtype */
    fill_kind fill;
    t2g_dtype dtype; /* f32 unless given: random values are rounded to a 16-bit type */
} tensor_spec;

/* The kernels of a size, plus a square matmul per size, tile configuration and operand types. */
enum { MAX_SQUARES = 8, MAX_TILES = T2G_MATMUL_TILES_COUNT + 1, MAX_TYPES = 6 };
enum { MAX_ITEMS = 20 + MAX_SQUARES * MAX_TILES * MAX_TYPES };

/* The square matmuls to time: sizes (N^3), tile configurations and operand types (inp, weight). */
typedef struct square_plan {
    uint32_t sizes[MAX_SQUARES];
    uint32_t size_count;
    t2g_matmul_tiles tiles[MAX_TILES];
    uint32_t tiles_count;
    t2g_dtype types[MAX_TYPES][2];
    uint32_t types_count;
} square_plan;

typedef struct bench_plan {
    bench_item items[MAX_ITEMS];
    tensor_spec specs[MAX_ITEMS][MAX_TENSORS];
    uint32_t tensor_counts[MAX_ITEMS];
    uint32_t count;
} bench_plan;

static bench_item *add_item(bench_plan *plan, const char *kernel, bench_record_fn record, double flops, double bytes) {
    bench_item *item = &plan->items[plan->count];
    memset(item, 0, sizeof *item);
    snprintf(item->kernel, sizeof item->kernel, "%s", kernel);
    item->record = record;
    item->flops = flops;
    item->bytes = bytes;
    plan->tensor_counts[plan->count] = 0;
    plan->count++;
    return item;
}

static void add_typed_tensor(bench_plan *plan, uint64_t count, fill_kind fill, t2g_dtype dtype) {
    uint32_t i = plan->count - 1;
    plan->specs[i][plan->tensor_counts[i]++] = (tensor_spec){count, fill, dtype};
}

static void add_tensor(bench_plan *plan, uint64_t count, fill_kind fill) {
    add_typed_tensor(plan, count, fill, T2G_DTYPE_F32);
}

static void plan_kernels(bench_plan *plan, const bench_config *c, const square_plan *squares) {
    const double B = c->B, T = c->T, C = c->C, V = c->V, N = B * T, F = 4.0 * C;
    uint64_t n = (uint64_t)(N + 0.5);
    bench_item *item;

    /* The MLP's first projection: (N, C) x (C, 4C). */
    item = add_item(plan, "matmul_forward", record_matmul_forward, 2 * N * C * F, 4 * (N * C + F * C + F + N * F));
    snprintf(item->shape, sizeof item->shape, "N=%u C=%u OC=%u", (unsigned)n, c->C, 4 * c->C);
    item->dims[0] = (uint32_t)n, item->dims[1] = c->C, item->dims[2] = 4 * c->C;
    add_tensor(plan, n * 4 * c->C, FILL_RANDOM), add_tensor(plan, n * c->C, FILL_RANDOM);
    add_tensor(plan, 16ull * c->C * c->C, FILL_RANDOM), add_tensor(plan, 4 * c->C, FILL_RANDOM);

    item = add_item(plan, "matmul_backward", record_matmul_backward, 4 * N * C * F,
                    4 * (2 * N * F + 2 * N * C + 2 * F * C + F));
    snprintf(item->shape, sizeof item->shape, "N=%u C=%u OC=%u", (unsigned)n, c->C, 4 * c->C);
    item->dims[0] = (uint32_t)n, item->dims[1] = c->C, item->dims[2] = 4 * c->C;
    add_tensor(plan, n * c->C, FILL_RANDOM), add_tensor(plan, 16ull * c->C * c->C, FILL_RANDOM);
    add_tensor(plan, 4 * c->C, FILL_RANDOM), add_tensor(plan, n * 4 * c->C, FILL_RANDOM);
    add_tensor(plan, n * c->C, FILL_RANDOM), add_tensor(plan, 16ull * c->C * c->C, FILL_RANDOM);

    for (uint32_t s = 0; s < squares->size_count; s++)
        for (uint32_t t = 0; t < squares->tiles_count; t++)
            for (uint32_t y = 0; y < squares->types_count; y++) {
                uint32_t size = squares->sizes[s];
                const t2g_dtype *types = squares->types[y];
                double m = size, bytes = (4.0 + t2g_dtype_bytes(types[0]) + t2g_dtype_bytes(types[1])) * m * m;
                item = add_item(plan, "matmul_square", record_matmul_square, 2 * m * m * m, bytes);
                snprintf(item->shape, sizeof item->shape, "%u^3", size);
                item->dims[0] = item->dims[1] = item->dims[2] = size;
                item->tiles = squares->tiles[t];
                item->types[0] = types[0], item->types[1] = types[1];
                add_tensor(plan, (uint64_t)size * size, FILL_RANDOM);
                for (int k = 0; k < 2; k++) add_typed_tensor(plan, (uint64_t)size * size, FILL_RANDOM, types[k]);
            }

    /* Causal attention: per head T(T+1)/2 scores, each 2 hs flops for q.k and 2 for p.v. */
    double hs = C / c->NH, pairs = B * c->NH * T * (T + 1) / 2;
    item = add_item(plan, "attention_forward", record_attention_forward, 4 * pairs * hs, 4 * (N * 3 * C + N * C));
    snprintf(item->shape, sizeof item->shape, "B=%u T=%u C=%u NH=%u", c->B, c->T, c->C, c->NH);
    item->dims[0] = c->B, item->dims[1] = c->T, item->dims[2] = c->C, item->dims[3] = c->NH;
    add_tensor(plan, n * c->C, FILL_RANDOM), add_tensor(plan, (uint64_t)c->B * c->NH * c->T, FILL_RANDOM);
    add_tensor(plan, n * 3 * c->C, FILL_RANDOM);

    /* Backward: the four products dV, dP, dK, dQ (twice the forward's), not counting recomputation. */
    item = add_item(plan, "attention_backward", record_attention_backward, 8 * pairs * hs, 4 * (2 * N * 3 * C + 2 * N * C));
    snprintf(item->shape, sizeof item->shape, "B=%u T=%u C=%u NH=%u", c->B, c->T, c->C, c->NH);
    item->dims[0] = c->B, item->dims[1] = c->T, item->dims[2] = c->C, item->dims[3] = c->NH;
    add_tensor(plan, n * 3 * c->C, FILL_RANDOM), add_tensor(plan, n * c->C, FILL_RANDOM);
    add_tensor(plan, n * 3 * c->C, FILL_RANDOM), add_tensor(plan, n * c->C, FILL_RANDOM);
    add_tensor(plan, (uint64_t)c->B * c->NH * c->T, FILL_ONES);

    item = add_item(plan, "layernorm_forward", record_layernorm_forward, 0, 4 * (2 * N * C + 2 * N + 2 * C));
    snprintf(item->shape, sizeof item->shape, "N=%u C=%u", (unsigned)n, c->C);
    item->dims[0] = (uint32_t)n, item->dims[1] = c->C;
    add_tensor(plan, n * c->C, FILL_RANDOM), add_tensor(plan, n, FILL_RANDOM), add_tensor(plan, n, FILL_RANDOM);
    add_tensor(plan, n * c->C, FILL_RANDOM), add_tensor(plan, c->C, FILL_ONES), add_tensor(plan, c->C, FILL_RANDOM);

    item = add_item(plan, "layernorm_backward", record_layernorm_backward, 0, 4 * (4 * N * C + 2 * N + 4 * C));
    snprintf(item->shape, sizeof item->shape, "N=%u C=%u", (unsigned)n, c->C);
    item->dims[0] = (uint32_t)n, item->dims[1] = c->C;
    add_tensor(plan, n * c->C, FILL_RANDOM), add_tensor(plan, c->C, FILL_RANDOM), add_tensor(plan, c->C, FILL_RANDOM);
    add_tensor(plan, n * c->C, FILL_RANDOM), add_tensor(plan, n * c->C, FILL_RANDOM), add_tensor(plan, c->C, FILL_ONES);
    add_tensor(plan, n, FILL_RANDOM), add_tensor(plan, n, FILL_ONES);

    item = add_item(plan, "rmsnorm_forward", record_rmsnorm_forward, 0, 4 * (2 * N * C + N + C));
    snprintf(item->shape, sizeof item->shape, "N=%u C=%u", (unsigned)n, c->C);
    item->dims[0] = (uint32_t)n, item->dims[1] = c->C;
    add_tensor(plan, n * c->C, FILL_RANDOM), add_tensor(plan, n, FILL_RANDOM);
    add_tensor(plan, n * c->C, FILL_RANDOM), add_tensor(plan, c->C, FILL_ONES);

    uint64_t hidden = n * 4 * c->C;
    item = add_item(plan, "gelu_forward", record_gelu_forward, 0, 4 * 2 * (double)hidden);
    snprintf(item->shape, sizeof item->shape, "n=%llu", (unsigned long long)hidden);
    item->count = hidden;
    add_tensor(plan, hidden, FILL_RANDOM), add_tensor(plan, hidden, FILL_RANDOM);

    item = add_item(plan, "gelu_backward", record_gelu_backward, 0, 4 * 4 * (double)hidden);
    snprintf(item->shape, sizeof item->shape, "n=%llu", (unsigned long long)hidden);
    item->count = hidden;
    for (int k = 0; k < 3; k++) add_tensor(plan, hidden, FILL_RANDOM);

    /* The gated MLP's activation, F = 4C: h (N, 2F) in, out (N, F). */
    item = add_item(plan, "swiglu_forward", record_swiglu_forward, 0, 4 * 3 * (double)hidden);
    snprintf(item->shape, sizeof item->shape, "N=%u F=%u", (unsigned)n, 4 * c->C);
    item->dims[0] = (uint32_t)n, item->dims[1] = 4 * c->C;
    add_tensor(plan, hidden, FILL_RANDOM), add_tensor(plan, 2 * hidden, FILL_RANDOM);

    item = add_item(plan, "residual_forward", record_residual_forward, 0, 4 * 3 * N * C);
    snprintf(item->shape, sizeof item->shape, "n=%llu", (unsigned long long)(n * c->C));
    item->count = n * c->C;
    for (int k = 0; k < 3; k++) add_tensor(plan, n * c->C, FILL_RANDOM);

    item = add_item(plan, "crossentropy", record_crossentropy, 0, 4 * (2 * N * V + 3 * N));
    snprintf(item->shape, sizeof item->shape, "N=%u V=%u (in place)", (unsigned)n, c->V);
    item->dims[0] = (uint32_t)n, item->dims[1] = c->V;
    add_tensor(plan, n, FILL_RANDOM), add_tensor(plan, n * c->V, FILL_RANDOM);
    add_tensor(plan, n, FILL_TOKENS), add_tensor(plan, n, FILL_ONES);

    item = add_item(plan, "embedding_forward", record_embedding_forward, 0, 4 * (3 * N * C + N));
    snprintf(item->shape, sizeof item->shape, "B=%u T=%u C=%u V=%u", c->B, c->T, c->C, c->V);
    item->dims[0] = c->B, item->dims[1] = c->T, item->dims[2] = c->C, item->dims[3] = c->V;
    add_tensor(plan, n * c->C, FILL_RANDOM), add_tensor(plan, n, FILL_TOKENS);
    add_tensor(plan, (uint64_t)c->V * c->C, FILL_RANDOM), add_tensor(plan, (uint64_t)c->T * c->C, FILL_RANDOM);

    item = add_item(plan, "embedding_backward", record_embedding_backward, 0, 4 * (2 * V * C + 3 * T * C + N * C + N));
    snprintf(item->shape, sizeof item->shape, "B=%u T=%u C=%u V=%u", c->B, c->T, c->C, c->V);
    item->dims[0] = c->B, item->dims[1] = c->T, item->dims[2] = c->C, item->dims[3] = c->V;
    add_tensor(plan, (uint64_t)c->V * c->C, FILL_RANDOM), add_tensor(plan, (uint64_t)c->T * c->C, FILL_RANDOM);
    add_tensor(plan, n * c->C, FILL_RANDOM), add_tensor(plan, n, FILL_TOKENS);

    double P = (double)c->params;
    item = add_item(plan, "axpby", record_axpby, 0, 4 * 3 * P);
    snprintf(item->shape, sizeof item->shape, "n=%llu", (unsigned long long)c->params);
    item->count = c->params;
    add_tensor(plan, c->params, FILL_RANDOM), add_tensor(plan, c->params, FILL_RANDOM);

    item = add_item(plan, "grad_norm", record_grad_norm, 0, 4 * P);
    snprintf(item->shape, sizeof item->shape, "n=%llu", (unsigned long long)c->params);
    item->count = c->params;
    add_tensor(plan, 2, FILL_RANDOM), add_tensor(plan, c->params, FILL_RANDOM);

    item = add_item(plan, "adamw", record_adamw, 0, 4 * 7 * P);
    snprintf(item->shape, sizeof item->shape, "n=%llu", (unsigned long long)c->params);
    item->count = c->params;
    for (int k = 0; k < 4; k++) add_tensor(plan, c->params, FILL_RANDOM);
    add_tensor(plan, 2, FILL_ONES);
}

/* ---- running ---- */

/* Allocates and fills the item's tensors in `arena`, in chunks to bound host memory. */
static t2g_status fill_tensors(t2g_arena *arena, bench_item *item, const tensor_spec *specs, uint32_t count, uint32_t V,
                               t2g_error *err) {
    enum { CHUNK = 1 << 20 };
    uint32_t *host = malloc(CHUNK * sizeof *host);
    if (!host) return t2g_fail(err, T2G_ERR_MEMORY, "out of host memory filling benchmark inputs");
    t2g_rng rng = {42};
    t2g_status status = T2G_OK;
    for (uint32_t k = 0; k < count && !status; k++) {
        t2g_dtype dtype = specs[k].dtype;
        status = t2g_tensor_alloc_typed(arena, dtype, specs[k].count, &item->t[k], err);
        for (uint64_t done = 0; !status && done < specs[k].count; done += CHUNK) {
            uint64_t n = specs[k].count - done < CHUNK ? specs[k].count - done : CHUNK;
            uint16_t *half = (uint16_t *)host; /* 16-bit types: n elements in the chunk's first half */
            for (uint64_t i = 0; i < n; i++) {
                uint64_t r = t2g_rng_u64(&rng);
                float value = specs[k].fill == FILL_ONES ? 1.0f : (float)((double)(r >> 11) * 0x1.0p-53 - 0.5);
                if (specs[k].fill == FILL_TOKENS) host[i] = (uint32_t)(r % V);
                else if (dtype == T2G_DTYPE_BF16) half[i] = t2g_f32_to_bf16(value);
                else if (dtype == T2G_DTYPE_F16) half[i] = t2g_f32_to_f16(value);
                else memcpy(&host[i], &value, 4);
            }
            t2g_tensor part = t2g_tensor_slice(item->t[k], done, n);
            status = t2g_tensor_upload(part, host, part.bytes, err);
        }
    }
    free(host);
    return status;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static t2g_status measure(t2g_device *device, bench_result *result, uint32_t repeat, t2g_error *err) {
    bench_item *item = &result->item;
    /* Warm-up: builds the pipelines and counts the dispatches of one run. */
    t2g_recorder *rec = NULL;
    t2g_status status = t2g_recorder_create(device, NULL, &rec, err);
    uint64_t before = rec ? t2g_recorder_dispatch_count(rec) : 0;
    if (!status) status = item->record(rec, item, err);
    if (!status) status = t2g_recorder_submit(rec, err);
    uint32_t per_run = rec ? (uint32_t)(t2g_recorder_dispatch_count(rec) - before) : 0;
    t2g_recorder_destroy(rec);
    rec = NULL;
    if (status) return status;
    if (per_run == 0) return t2g_fail(err, T2G_ERR_ARGUMENT, "%s recorded no dispatch", item->kernel);
    result->dispatches = per_run;

    /* One more run than timed, first: it meets the recorder's scratch memory fresh (a CPU device
     * faults its pages in; measured on lavapipe, the first product of a run of bench kernels ran
     * at 60 to 80% of the speed of the same product later). */
    t2g_recorder_options options = {.timestamp_capacity = per_run * (repeat + 1)};
    status = t2g_recorder_create(device, &options, &rec, err);
    for (uint32_t r = 0; r <= repeat && !status; r++) status = item->record(rec, item, err);
    if (!status) status = t2g_recorder_submit(rec, err);
    const t2g_timing *timings = NULL;
    uint32_t count = status ? 0 : t2g_recorder_timings(rec, &timings);
    double *runs = calloc(repeat, sizeof *runs);
    if (!status && (!runs || count != per_run * (repeat + 1)))
        status = t2g_fail(err, T2G_ERR_VULKAN, "%s: %u timings for %u dispatches", item->kernel, count,
                          per_run * (repeat + 1));
    if (!status) {
        for (uint32_t i = per_run; i < count; i++) runs[i / per_run - 1] += timings[i].ms;
        qsort(runs, repeat, sizeof *runs, compare_doubles);
        result->best_ms = runs[0];
        result->median_ms = repeat % 2 ? runs[repeat / 2] : 0.5 * (runs[repeat / 2 - 1] + runs[repeat / 2]);
        result->ran = true;
    }
    free(runs);
    t2g_recorder_destroy(rec);
    return status;
}

static uint64_t plan_bytes(const tensor_spec *specs, uint32_t count) {
    uint64_t total = 0;
    for (uint32_t k = 0; k < count; k++) total += (specs[k].count * t2g_dtype_bytes(specs[k].dtype) + 4095) / 4096 * 4096;
    return total;
}

static bool selected(const char *only, const char *kernel) {
    if (!only) return true;
    size_t n = strlen(kernel);
    for (const char *p = only; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && strncmp(p, kernel, n) == 0) return true;
        p += len + (comma ? 1 : 0);
    }
    return false;
}

static void run_one(t2g_device *device, bench_result *result, const tensor_spec *specs, uint32_t count, uint32_t V,
                    uint32_t repeat) {
    t2g_error err = {0};
    t2g_arena *arena = NULL;
    t2g_status status = t2g_arena_create(device, plan_bytes(specs, count), result->item.kernel, &arena, &err);
    if (!status) status = fill_tensors(arena, &result->item, specs, count, V, &err);
    if (!status) status = measure(device, result, repeat, &err);
    if (status) snprintf(result->skipped, sizeof result->skipped, "%s", err.message);
    t2g_arena_destroy(arena);
}

/* ---- output ---- */

static double rate(const bench_result *r) {
    double work = r->item.flops ? r->item.flops : r->item.bytes;
    return r->median_ms > 0 ? work / (r->median_ms * 1e-3) / 1e9 : 0;
}

static void print_table(const t2g_device_info *info, const bench_config *config, uint32_t repeat,
                        const bench_result *results, uint32_t count) {
    printf("bench kernels on %s (%s), size %s, median of %u runs (GPU timestamps)\n", info->name, info->type, config->name,
           repeat);
    printf("%-20s %-30s %10s %10s %12s\n", "kernel", "shape", "median ms", "best ms", "rate");
    for (uint32_t i = 0; i < count; i++) {
        const bench_result *r = &results[i];
        if (!r->ran) {
            printf("%-20s %-30s skipped: %s\n", r->item.kernel, r->item.shape, r->skipped);
            continue;
        }
        char shape[sizeof r->item.shape + 40];
        if (r->item.record == record_matmul_square)
            snprintf(shape, sizeof shape, "%s %s%s %s_%s", r->item.shape, t2g_matmul_tile_config_get(r->item.tiles)->name,
                     r->item.auto_tiles ? " (auto)" : "", t2g_dtype_name(r->item.types[0]),
                     t2g_dtype_name(r->item.types[1]));
        else
            snprintf(shape, sizeof shape, "%s", r->item.shape);
        printf("%-20s %-30s %10.4f %10.4f %8.1f %s\n", r->item.kernel, shape, r->median_ms, r->best_ms, rate(r),
               r->item.flops ? "GFLOP/s" : "GB/s");
    }
}

static void print_json(const t2g_device_info *info, const bench_config *config, uint32_t repeat,
                       const bench_result *results, uint32_t count) {
    cJSON *root = cJSON_CreateObject();
    cJSON *device = cJSON_AddObjectToObject(root, "device");
    cJSON_AddStringToObject(device, "name", info->name);
    cJSON_AddStringToObject(device, "type", info->type);
    cJSON_AddStringToObject(device, "driver", info->driver_name);
    cJSON_AddStringToObject(device, "driver_info", info->driver_info);
    cJSON_AddStringToObject(device, "vulkan", info->api_version_string);
    cJSON_AddStringToObject(root, "size", config->name);
    cJSON_AddNumberToObject(root, "repeat", repeat);
    cJSON_AddStringToObject(root, "timing", "GPU timestamps; median and best of the timed runs");
    cJSON *list = cJSON_AddArrayToObject(root, "results");
    for (uint32_t i = 0; i < count; i++) {
        const bench_result *r = &results[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "kernel", r->item.kernel);
        cJSON_AddStringToObject(o, "shape", r->item.shape);
        if (r->item.record == record_matmul_square) {
            cJSON_AddStringToObject(o, "tiles", t2g_matmul_tile_config_get(r->item.tiles)->name);
            cJSON_AddBoolToObject(o, "auto_tiles", r->item.auto_tiles);
            cJSON_AddStringToObject(o, "inp_type", t2g_dtype_name(r->item.types[0]));
            cJSON_AddStringToObject(o, "weight_type", t2g_dtype_name(r->item.types[1]));
        }
        if (r->ran) {
            cJSON_AddNumberToObject(o, "median_ms", r->median_ms);
            cJSON_AddNumberToObject(o, "best_ms", r->best_ms);
            cJSON_AddNumberToObject(o, "dispatches", r->dispatches);
            cJSON_AddNumberToObject(o, r->item.flops ? "gflops" : "gbps", rate(r));
        } else {
            cJSON_AddStringToObject(o, "skipped", r->skipped);
        }
        cJSON_AddItemToArray(list, o);
    }
    char *text = cJSON_Print(root);
    puts(text);
    cJSON_free(text);
    cJSON_Delete(root);
}

/* ---- the command ---- */

/* The next comma-separated element of *list into `out` (false at the end or when too long). */
static bool next_element(const char **list, char *out, size_t size) {
    if (!**list) return false;
    const char *comma = strchr(*list, ',');
    size_t len = comma ? (size_t)(comma - *list) : strlen(*list);
    if (len >= size) return false;
    memcpy(out, *list, len);
    out[len] = '\0';
    *list += len + (comma ? 1 : 0);
    return true;
}

/* --matmul N[,N...]: sizes from 1 to 16384. */
static bool parse_squares(const char *text, square_plan *squares) {
    char element[16];
    const char *rest = text;
    bool ok = true;
    squares->size_count = 0;
    while (ok && next_element(&rest, element, sizeof element)) {
        char *end;
        long n = strtol(element, &end, 10);
        ok = !*end && end != element && n >= 1 && n <= 16384 && squares->size_count < MAX_SQUARES;
        if (ok) squares->sizes[squares->size_count++] = (uint32_t)n;
    }
    if (ok && *rest == '\0' && squares->size_count > 0) return true;
    cli_error("bench kernels: --matmul expects up to %d sizes from 1 to 16384 separated by commas, got '%s'",
              MAX_SQUARES, text);
    return false;
}

/* --tiles NAME[,NAME...]: auto or the names of the tile configurations. */
static bool parse_tiles(const char *text, square_plan *squares) {
    char element[32];
    const char *rest = text;
    bool ok = true;
    squares->tiles_count = 0;
    while (ok && next_element(&rest, element, sizeof element)) {
        int found = strcmp(element, "auto") == 0 ? T2G_MATMUL_TILES_AUTO : T2G_MATMUL_TILES_COUNT;
        for (int t = 0; t < T2G_MATMUL_TILES_COUNT; t++)
            if (strcmp(element, t2g_matmul_tile_config_get(t)->name) == 0) found = t;
        ok = found != T2G_MATMUL_TILES_COUNT && squares->tiles_count < MAX_TILES;
        if (ok) squares->tiles[squares->tiles_count++] = (t2g_matmul_tiles)found;
    }
    if (ok && *rest == '\0' && squares->tiles_count > 0) return true;
    cli_error("bench kernels: --tiles expects auto or tile configurations separated by commas, got '%s'; the "
              "configurations are:", text);
    for (int t = 0; t < T2G_MATMUL_TILES_COUNT; t++) fprintf(stderr, " %s", t2g_matmul_tile_config_get(t)->name);
    fputc('\n', stderr);
    return false;
}

/* One float type's name (f32, bf16, f16) at the start of text, its length in *length. */
static bool float_type(const char *text, t2g_dtype *dtype, size_t *length) {
    static const t2g_dtype types[] = {T2G_DTYPE_F32, T2G_DTYPE_BF16, T2G_DTYPE_F16};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        const char *name = t2g_dtype_name(types[i]);
        size_t n = strlen(name);
        if (strncmp(text, name, n) == 0 && (text[n] == '\0' || text[n] == '_')) {
            *dtype = types[i], *length = n;
            return true;
        }
    }
    return false;
}

/* --matmul-type T[,T...]: a float type (both operands) or a pair inp_weight. */
static bool parse_types(const char *text, square_plan *squares) {
    char element[16];
    const char *rest = text;
    bool ok = true;
    squares->types_count = 0;
    while (ok && next_element(&rest, element, sizeof element)) {
        t2g_dtype inp, weight;
        size_t first, second = 0;
        ok = float_type(element, &inp, &first) && squares->types_count < MAX_TYPES;
        weight = inp;
        if (ok && element[first] == '_') ok = float_type(element + first + 1, &weight, &second) && !element[first + 1 + second];
        if (ok) squares->types[squares->types_count][0] = inp, squares->types[squares->types_count++][1] = weight;
    }
    if (ok && *rest == '\0' && squares->types_count > 0) return true;
    cli_error("bench kernels: --matmul-type expects up to %d of f32, bf16, f16 or inp_weight pairs such as f32_bf16, "
              "separated by commas, got '%s'", MAX_TYPES, text);
    return false;
}

int bench_kernels(int argc, char **argv) {
    const char *device_name = NULL, *size = NULL, *repeat_text = NULL, *only = NULL, *matmul = NULL, *tiles = NULL;
    const char *types = NULL;
    bool json = false;
    cli_args args = cli_args_start(argc, argv, 3, "bench kernels");
    while (cli_args_more(&args)) {
        if (cli_flag(&args, "--help") || cli_flag(&args, "-h")) {
            fputs(HELP, stdout);
            return EXIT_OK;
        } else if (cli_value(&args, "--device", &device_name) || cli_value(&args, "--size", &size) ||
                   cli_value(&args, "--repeat", &repeat_text) || cli_value(&args, "--only", &only) ||
                   cli_value(&args, "--matmul", &matmul) || cli_value(&args, "--tiles", &tiles) ||
                   cli_value(&args, "--matmul-type", &types)) {
        } else if (cli_flag(&args, "--json")) {
            json = true;
        } else {
            return cli_unknown(&args);
        }
    }
    if (args.failed) return EXIT_USAGE;
    const bench_config *config = NULL;
    for (size_t i = 0; size && i < sizeof CONFIGS / sizeof CONFIGS[0]; i++)
        if (strcmp(size, CONFIGS[i].name) == 0) config = &CONFIGS[i];
    if (size && !config) {
        cli_error("bench kernels: --size expects small, medium or large, got '%s'", size);
        return EXIT_USAGE;
    }
    square_plan squares = {.tiles = {T2G_MATMUL_TILES_AUTO}, .tiles_count = 1, .types_count = 1};
    if ((matmul && !parse_squares(matmul, &squares)) || (tiles && !parse_tiles(tiles, &squares)) ||
        (types && !parse_types(types, &squares)))
        return EXIT_USAGE;
    long repeat = 0;
    if (repeat_text) {
        char *end;
        repeat = strtol(repeat_text, &end, 10);
        if (*end || repeat < 1 || repeat > 1000) {
            cli_error("bench kernels: --repeat expects an integer from 1 to 1000, got '%s'", repeat_text);
            return EXIT_USAGE;
        }
    }

    t2g_device *device;
    int code = cli_open_device(device_name, &device);
    if (code) return code;
    const t2g_device_info *info = t2g_device_get_info(device);
    bool cpu = info->kind == T2G_DEVICE_CPU;
    if (!config) config = cpu ? &CONFIGS[0] : &CONFIGS[2];
    if (!repeat) repeat = cpu ? 5 : 10;
    if (!matmul)
        for (squares.size_count = 0; squares.size_count < 2 && config->squares[squares.size_count];)
            squares.sizes[squares.size_count] = config->squares[squares.size_count], squares.size_count++;

    static bench_plan plan;
    plan.count = 0;
    plan_kernels(&plan, config, &squares);
    bench_result *results = calloc(plan.count, sizeof *results);
    uint32_t count = 0;
    for (uint32_t i = 0; results && i < plan.count; i++) {
        if (!selected(only, plan.items[i].kernel)) continue;
        results[count].item = plan.items[i];
        bench_item *item = &results[count].item;
        item->auto_tiles = item->tiles == T2G_MATMUL_TILES_AUTO;
        if (item->auto_tiles) /* M, N, K of the forward: N rows, OC, C */
            item->tiles = t2g_matmul_choose_tiles(device, item->dims[0], item->dims[2], item->dims[1]);
        if (!json) fprintf(stderr, "timing %s %s\n", plan.items[i].kernel, plan.items[i].shape);
        run_one(device, &results[count], plan.specs[i], plan.tensor_counts[i], config->V, (uint32_t)repeat);
        count++;
    }
    if (only && count == 0) {
        cli_error("bench kernels: --only '%s' names no kernel", only);
        free(results);
        t2g_device_destroy(device);
        return EXIT_USAGE;
    }
    if (json) print_json(info, config, (uint32_t)repeat, results, count);
    else print_table(info, config, (uint32_t)repeat, results, count);
    free(results);
    return cli_close_device(device);
}
