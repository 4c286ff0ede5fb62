/* The CPU devices' GEMM on packed operands: matmul_pack_cpu.comp copies the rows of A and the
 * columns of B that a chunk of tiles of C needs into panels (f32, a k step of a tile's rows
 * contiguous), matmul_panels_cpu.comp multiplies them. The shaders say why it pays on lavapipe. */
#include <string.h>

#include "matmul_panels.h"

static uint64_t panel_bytes_max = T2G_MATMUL_PANEL_BYTES;
static t2g_panels_in_place panels_in_place = T2G_PANELS_AUTO;

void t2g_matmul_test_panels(uint64_t bytes, t2g_panels_in_place in_place) {
    panel_bytes_max = bytes ? bytes : T2G_MATMUL_PANEL_BYTES;
    panels_in_place = in_place;
}

enum { PANEL_BIAS = 1u, PANEL_ACCUMULATE = 2u, PANEL_C_QUADS = 8u }; /* matmul_panels_cpu's flags */
enum { PACK_QUADS = 1u };                                            /* matmul_pack_cpu's */
#define PACK_GROUP 64u

bool t2g_gemm_bind_outputs(const t2g_device_info *info, t2g_tensor c, uint32_t ldc, const t2g_tensor *bias,
                           const t2g_tensor *aux, t2g_binding bindings[4], t2g_texel texels[4], uint32_t first[3]) {
    bool c_fits = t2g_bind_quads(info, c, &bindings[0], &texels[0], &first[0]);
    bool bias_fits = t2g_bind_quads(info, bias ? *bias : c, &bindings[1], &texels[1], &first[1]);
    bool aux_fits = t2g_bind_quads(info, aux ? *aux : c, &bindings[2], &texels[2], &first[2]);
    bindings[3] = (t2g_binding){aux ? *aux : c, T2G_READ};
    return c_fits && (bias_fits || !bias) && (aux_fits || !aux) && ldc % 4 == 0;
}

static uint32_t min_u32(uint64_t a, uint64_t b) { return (uint32_t)(a < b ? a : b); }

/* The chunks: the whole product where both operands' panels fit at once; else one operand whole
 * (packed once) and the other in chunks of what room is left, whichever gives the GEMM more tiles
 * a dispatch; else both in chunks, B taking up to half the room. Each panel also fits one texel
 * view (a view starts up to an alignment before it). */
static bool plan_chunks(const t2g_device_info *info, const t2g_matmul_tile_config *cfg, const t2g_panel_product *p,
                        t2g_panel_from a_from, t2g_panel_from b_from, t2g_panel_plan *plan) {
    uint64_t k4 = ((uint64_t)p->K + 3) / 4;
    uint64_t room = panel_bytes_max / (16 * k4); /* panel rows of A and B at once */
    uint64_t slack = info->min_texel_buffer_offset_alignment / 16 + 1;
    uint64_t view = info->max_texel_buffer_elements > slack ? (info->max_texel_buffer_elements - slack) / k4 : 0;
    uint32_t tiles_m = t2g_ceil_div(p->M, cfg->bm), tiles_n = t2g_ceil_div(p->N, cfg->bn);
    uint64_t a_rows = a_from == T2G_PANEL_FROM_PANEL ? (uint64_t)tiles_m * cfg->bm : 0;
    uint64_t b_rows = b_from == T2G_PANEL_FROM_PANEL ? (uint64_t)tiles_n * cfg->bn : 0;
    *plan = (t2g_panel_plan){(uint32_t)k4, tiles_m, tiles_n, tiles_m, tiles_n, a_from, b_from};
    if (a_rows + b_rows <= room && a_rows <= view && b_rows <= view) return true;
    /* tiles of the other operand a chunk takes beside one whole */
    uint32_t n_beside_a = a_rows < room && a_rows <= view ? min_u32((room - a_rows) / cfg->bn, view / cfg->bn) : 0;
    uint32_t m_beside_b = b_rows < room && b_rows <= view ? min_u32((room - b_rows) / cfg->bm, view / cfg->bm) : 0;
    if (n_beside_a || m_beside_b) {
        if ((uint64_t)n_beside_a * tiles_m >= (uint64_t)m_beside_b * tiles_n)
            plan->chunk_n = min_u32(n_beside_a, tiles_n);
        else
            plan->chunk_m = min_u32(m_beside_b, tiles_m);
        return true;
    }
    plan->chunk_n = min_u32(min_u32(room / 2, view) / cfg->bn, tiles_n);
    plan->chunk_m = min_u32(min_u32(room - (uint64_t)plan->chunk_n * cfg->bn, view) / cfg->bm, tiles_m);
    return plan->chunk_m > 0 && plan->chunk_n > 0;
}

/* Whether an operand can be read in place with k contiguous (FROM_ROWS: A stored (M,K)) or one
 * row per k (FROM_K_ROWS: A stored (K,M), B stored (K,N); `width` M or N): f32, its leading
 * dimension and K (rows) or width (k rows) multiples of 4, and a texel view that holds it. */
static bool readable_in_place(const t2g_device_info *info, const t2g_gemm_operand *op, t2g_panel_from from,
                              uint32_t K, uint32_t width) {
    t2g_quads view;
    return op->tensor.dtype == T2G_DTYPE_F32 && op->ld % 4 == 0 &&
           (from == T2G_PANEL_FROM_ROWS ? K % 4 == 0 : width % 4 == 0) && t2g_quad_view(info, op->tensor, &view);
}

/* Where the GEMM reads A and B: in place where packing would not pay and the operand can be read
 * there, else from panels. A (stored (M,K), or (K,M) a row per k) is packed from the
 * configuration's pack_a_min_n columns of C, B stored (K,N) from its pack_b_min_m rows of C:
 * then each of its quads is read by enough tiles to pay for the copy (which transposes an operand
 * stored a row per k). B stored (N,K) is always packed (read in place, its columns' rows are read
 * again and again from cache sets that they share). The tests' t2g_matmul_test_panels packs both
 * or reads in place wherever it can. */
static void choose_sources(const t2g_device_info *info, const t2g_matmul_tile_config *cfg, const t2g_panel_product *p,
                           t2g_panel_from *a_from, t2g_panel_from *b_from) {
    t2g_panel_from a_way = p->A.trans ? T2G_PANEL_FROM_K_ROWS : T2G_PANEL_FROM_ROWS;
    bool a_wanted = panels_in_place == T2G_PANELS_AUTO ? p->N < cfg->pack_a_min_n : panels_in_place == T2G_PANELS_IN_PLACE;
    bool b_wanted = panels_in_place == T2G_PANELS_AUTO ? p->M < cfg->pack_b_min_m : panels_in_place == T2G_PANELS_IN_PLACE;
    *a_from = a_wanted && readable_in_place(info, &p->A, a_way, p->K, p->M) ? a_way : T2G_PANEL_FROM_PANEL;
    *b_from = b_wanted && !p->B.trans && readable_in_place(info, &p->B, T2G_PANEL_FROM_K_ROWS, p->K, p->N)
                  ? T2G_PANEL_FROM_K_ROWS : T2G_PANEL_FROM_PANEL;
}

bool t2g_panels_plan(t2g_recorder *rec, const t2g_matmul_tile_config *cfg, const t2g_panel_product *product,
                     t2g_panel_plan *plan) {
    const t2g_device_info *info = t2g_device_get_info(t2g_recorder_device(rec));
    t2g_panel_from a_from, b_from;
    choose_sources(info, cfg, product, &a_from, &b_from);
    return plan_chunks(info, cfg, product, a_from, b_from, plan);
}

/* Rows row0 .. row0 + count - 1 (tiles of W) of an operand (A: rows = M; B: its columns, rows =
 * N) packed into `panel`. */
typedef struct pack_job {
    const char *shader; /* matmul_pack_cpu's variant for the operand's type */
    t2g_gemm_operand op;
    bool is_a;
    uint32_t rows, row0, count, W;
} pack_job;

/* The packing of job's rows into `panel`, in dispatches of as many panel rows (a tile's W quads
 * at one k quad) as one storage-buffer binding holds. */
static t2g_status record_pack(t2g_recorder *rec, const char *label, const pack_job *job, const t2g_panel_plan *plan,
                              uint32_t K, t2g_tensor panel, t2g_error *err) {
    const t2g_device_info *info = t2g_device_get_info(t2g_recorder_device(rec));
    /* the element (row, k) at k * ld + row: A stored (K,M), or B stored (K,N) */
    bool trans = job->is_a ? job->op.trans : !job->op.trans;
    uint64_t panel_rows = (uint64_t)job->count / job->W * plan->k4;
    uint64_t at_once = info->max_storage_buffer_range / (16ull * job->W);
    struct {
        uint32_t rows, K, ld, row0, pr0, count, W, K4, flags, src_first;
    } push = {job->rows, K, job->op.ld, job->row0, 0, 0, job->W, plan->k4, 0, 0};
    t2g_binding bindings[3] = {{panel, T2G_WRITE}, {job->op.tensor, T2G_READ}};
    t2g_texel texels[3] = {T2G_TEXEL_NONE};
    if (t2g_bind_quads(info, job->op.tensor, &bindings[2], &texels[2], &push.src_first) && job->op.ld % 4 == 0)
        push.flags |= PACK_QUADS;
    bool quads_only = (push.flags & PACK_QUADS) && K % 4 == 0 && (!trans || job->rows % 4 == 0);
    const uint32_t spec[] = {PACK_GROUP, trans, quads_only};
    t2g_status status = at_once ? t2g_need_index(panel_rows * job->W, label, "panel quads", err)
                                : t2g_fail(err, T2G_ERR_TOO_LARGE, "%s: a panel row of %u quads passes %s's "
                                           "storage-buffer range", label, job->W, info->name);
    for (uint64_t pr = 0; pr < panel_rows && !status; pr += at_once) {
        push.pr0 = (uint32_t)pr, push.count = min_u32(at_once, panel_rows - pr);
        bindings[0].tensor = t2g_tensor_slice(panel, 4 * pr * job->W, 4ull * push.count * job->W);
        t2g_dispatch dispatch = {
            .shader = job->shader, .spec = spec, .spec_count = 3, .bindings = bindings, .binding_count = 3,
            .texels = texels, .push = &push, .push_bytes = sizeof push, .label = "matmul_pack",
        };
        t2g_groups_2d(t2g_ceil_div((uint64_t)push.count * job->W / 4, PACK_GROUP), dispatch.groups);
        status = t2g_record_dispatch(rec, &dispatch, err);
    }
    return status;
}

/* The GEMM of the chunk of tiles from (m_tile0, n_tile0), tiles_m x tiles_n of them, on panels
 * a_panel and b_panel, or on the operands themselves where the plan reads them in place. */
typedef struct panel_chunk {
    uint32_t m_tile0, n_tile0, tiles_m, tiles_n;
} panel_chunk;

/* The push constants of matmul_panels_cpu.comp. */
typedef struct panels_push {
    uint32_t M, N, K, ldc, tiles_m, tiles_n, m_tile0, n_tile0, flags, a_first, b_first, c_first, bias_first, lda, ldb,
        aux_first;
} panels_push;

/* One dispatch of the GEMM: the tiles of `part`, a rectangle of the chunk's tiles `within`
 * tiles from its first, whose panels start that many tiles in (`push` holds the chunk's). */
static t2g_status record_part(t2g_recorder *rec, const t2g_matmul_tile_config *cfg, const t2g_panel_product *p,
                              const t2g_panel_plan *plan, t2g_dispatch dispatch, panels_push push, panel_chunk part,
                              panel_chunk within, bool whole, t2g_error *err) {
    if (!part.tiles_m || !part.tiles_n) return T2G_OK;
    push.tiles_m = part.tiles_m, push.tiles_n = part.tiles_n;
    push.m_tile0 = part.m_tile0, push.n_tile0 = part.n_tile0;
    if (plan->a_from == T2G_PANEL_FROM_PANEL) push.a_first += within.m_tile0 * plan->k4 * cfg->bm;
    if (plan->b_from == T2G_PANEL_FROM_PANEL) push.b_first += within.n_tile0 * plan->k4 * cfg->bn;
    const uint32_t spec[] = {t2g_matmul_tile_invocations(cfg), cfg->bm, cfg->bn, cfg->tm, cfg->tn, plan->a_from,
                             plan->b_from, p->epilogue, whole};
    dispatch.spec = spec;
    dispatch.push = &push;
    t2g_groups_2d((uint64_t)part.tiles_m * part.tiles_n, dispatch.groups);
    return t2g_record_dispatch(rec, &dispatch, err);
}

/* The chunk's tiles inside C in one dispatch of the WHOLE variant (where the outputs go as quads
 * and K % 4 == 0), and the tiles on C's edges (its last tile row and column, where M or N is not
 * a multiple of the tile) in dispatches of their own: lavapipe runs both sides of every `if`, so
 * the edges' stores one at a time would cost every tile their time (a vocabulary of 259 columns:
 * four whole tiles of 64, one of 3 columns). */
static t2g_status record_chunk(t2g_recorder *rec, const char *label, const t2g_matmul_tile_config *cfg,
                               const t2g_panel_product *p, const t2g_panel_plan *plan, panel_chunk chunk,
                               t2g_tensor a_panel, t2g_tensor b_panel, t2g_error *err) {
    const t2g_device_info *info = t2g_device_get_info(t2g_recorder_device(rec));
    panels_push push = {p->M, p->N, p->K, p->ldc, chunk.tiles_m, chunk.tiles_n, chunk.m_tile0, chunk.n_tile0,
                        (p->bias ? PANEL_BIAS : 0u) | (p->accumulate ? PANEL_ACCUMULATE : 0u), 0, 0, 0, 0, p->A.ld,
                        p->B.ld, 0};
    t2g_tensor a = plan->a_from == T2G_PANEL_FROM_PANEL ? a_panel : p->A.tensor;
    t2g_tensor b = plan->b_from == T2G_PANEL_FROM_PANEL ? b_panel : p->B.tensor;
    /* without a bias, binding 1 is B's first quad (never read) */
    t2g_binding bindings[8] = {{p->c, p->accumulate ? T2G_READ_WRITE : T2G_WRITE},
                               {p->bias ? *p->bias : t2g_tensor_slice(b, 0, 4), T2G_READ}};
    t2g_texel texels[8] = {T2G_TEXEL_NONE};
    bool a_fits = t2g_bind_quads(info, a, &bindings[2], &texels[2], &push.a_first);
    bool b_fits = t2g_bind_quads(info, b, &bindings[3], &texels[3], &push.b_first);
    if (!a_fits || !b_fits)
        return t2g_fail(err, T2G_ERR_TOO_LARGE, "%s: the operands of %u x %u tiles (%llu and %llu bytes) do not fit "
                        "%s's texel views", label, chunk.tiles_m, chunk.tiles_n, (unsigned long long)a.bytes,
                        (unsigned long long)b.bytes, info->name);
    uint32_t first[3];
    if (t2g_gemm_bind_outputs(info, p->c, p->ldc, p->bias, p->epilogue ? &p->aux : NULL, &bindings[4], &texels[4],
                              first))
        push.flags |= PANEL_C_QUADS;
    push.c_first = first[0], push.bias_first = first[1], push.aux_first = first[2];
    t2g_dispatch dispatch = { /* record_part adds the constants, push constants and grid */
        .shader = "matmul_panels_cpu", .spec_count = 9, .bindings = bindings, .binding_count = 8,
        .texels = texels, .push_bytes = sizeof push, .label = label,
    };
    /* the tiles wholly inside C along m and n: all but an edge tile (none where WHOLE cannot be) */
    bool quads = (push.flags & PANEL_C_QUADS) && p->K % 4 == 0;
    uint32_t inside_m = quads ? min_u32(p->M / cfg->bm, (uint64_t)chunk.m_tile0 + chunk.tiles_m) : 0;
    uint32_t inside_n = quads ? min_u32(p->N / cfg->bn, (uint64_t)chunk.n_tile0 + chunk.tiles_n) : 0;
    uint32_t whole_m = inside_m > chunk.m_tile0 ? inside_m - chunk.m_tile0 : 0;
    uint32_t whole_n = inside_n > chunk.n_tile0 ? inside_n - chunk.n_tile0 : 0;
    panel_chunk parts[3] = {
        {0, 0, whole_m, whole_n},                               /* inside C: WHOLE */
        {0, whole_n, chunk.tiles_m, chunk.tiles_n - whole_n},   /* the last tile column */
        {whole_m, 0, chunk.tiles_m - whole_m, whole_n},         /* the last tile row, but its corner */
    };
    t2g_status status = T2G_OK;
    for (int i = 0; i < 3 && !status; i++) {
        panel_chunk part = {chunk.m_tile0 + parts[i].m_tile0, chunk.n_tile0 + parts[i].n_tile0, parts[i].tiles_m,
                            parts[i].tiles_n};
        status = record_part(rec, cfg, p, plan, dispatch, push, part, parts[i], i == 0, err);
    }
    return status;
}

/* The pairs of operand types t2g multiplies (A, B: the model's forward and backward at each
 * precision), as matmul_gemm_cpu's variants; the self-check checks each 16-bit pair. */
static const t2g_dtype panel_pairs[][2] = {
    {T2G_DTYPE_F32, T2G_DTYPE_F32},   {T2G_DTYPE_BF16, T2G_DTYPE_BF16}, {T2G_DTYPE_F32, T2G_DTYPE_BF16},
    {T2G_DTYPE_F16, T2G_DTYPE_F16},   {T2G_DTYPE_F32, T2G_DTYPE_F16},
};

static bool panel_pair(t2g_dtype a, t2g_dtype b) {
    for (size_t i = 0; i < sizeof panel_pairs / sizeof panel_pairs[0]; i++)
        if (panel_pairs[i][0] == a && panel_pairs[i][1] == b) return true;
    return false;
}

t2g_status t2g_record_panels(t2g_recorder *rec, const char *label, const t2g_matmul_tile_config *cfg,
                             const t2g_panel_product *p, const t2g_panel_plan *plan, t2g_error *err) {
    const t2g_dtype types[] = {p->A.tensor.dtype, p->B.tensor.dtype};
    char name[T2G_SHADER_NAME_MAX], pack_a[T2G_SHADER_NAME_MAX], pack_b[T2G_SHADER_NAME_MAX];
    t2g_status status = t2g_variant_allowed(rec, label, "matmul_panels_cpu", types, 2, name, err);
    if (!status && !panel_pair(types[0], types[1]))
        status = t2g_fail(err, T2G_ERR_ARGUMENT, "%s: t2g has no variant of shader matmul_panels_cpu for these element "
                          "types (%s)", label, name);
    if (!status) status = t2g_shader_variant(rec, label, "matmul_pack_cpu", &types[0], 1, pack_a, err);
    if (!status) status = t2g_shader_variant(rec, label, "matmul_pack_cpu", &types[1], 1, pack_b, err);
    /* the panels: A's rows of a chunk (chunk_m BM), then B's columns (chunk_n BN), k4 quads each;
     * none of an operand read in place */
    bool a_packed = plan->a_from == T2G_PANEL_FROM_PANEL, b_packed = plan->b_from == T2G_PANEL_FROM_PANEL;
    uint64_t a_floats = a_packed ? 4ull * plan->chunk_m * cfg->bm * plan->k4 : 0;
    uint64_t b_floats = b_packed ? 4ull * plan->chunk_n * cfg->bn * plan->k4 : 0;
    t2g_tensor panels = {0};
    if (!status && a_floats + b_floats) status = t2g_recorder_shared_scratch(rec, 4 * (a_floats + b_floats), &panels, err);
    if (status) return status;
    panels.dtype = T2G_DTYPE_F32;
    t2g_tensor a_panel = a_packed ? t2g_tensor_slice(panels, 0, a_floats) : (t2g_tensor){0};
    t2g_tensor b_panel = b_packed ? t2g_tensor_slice(panels, a_floats, b_floats) : (t2g_tensor){0};
    pack_job a_job = {pack_a, p->A, true, p->M, 0, 0, cfg->bm}, b_job = {pack_b, p->B, false, p->N, 0, 0, cfg->bn};
    /* n outer, m inner: an operand whole in one chunk is packed once */
    for (uint32_t tn = 0; tn < plan->tiles_n && !status; tn += plan->chunk_n) {
        panel_chunk chunk = {0, tn, 0, min_u32(plan->chunk_n, plan->tiles_n - tn)};
        b_job.row0 = tn * cfg->bn, b_job.count = chunk.tiles_n * cfg->bn;
        if (b_packed && (tn == 0 || plan->chunk_n < plan->tiles_n))
            status = record_pack(rec, label, &b_job, plan, p->K, b_panel, err);
        for (uint32_t tm = 0; tm < plan->tiles_m && !status; tm += plan->chunk_m) {
            chunk.m_tile0 = tm, chunk.tiles_m = min_u32(plan->chunk_m, plan->tiles_m - tm);
            a_job.row0 = tm * cfg->bm, a_job.count = chunk.tiles_m * cfg->bm;
            if (a_packed && (tn == 0 || plan->chunk_m < plan->tiles_m))
                status = record_pack(rec, label, &a_job, plan, p->K, a_panel, err);
            if (!status) status = record_chunk(rec, label, cfg, p, plan, chunk, a_panel, b_panel, err);
        }
    }
    return status;
}
