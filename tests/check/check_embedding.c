/* Token + position embedding forward and backward against tests/ref/embedding.c: odd shapes,
 * tokens repeated heavily (many positions accumulate into one row, across several scan tiles),
 * token ids >= V (NaN rows forward, ignored backward), more vocabulary rows than one grid
 * dimension of workgroups covers, and models without a position table (wpe NULL: out = wte
 * rows, bit for bit). */
#include <math.h>
#include <string.h>

#include "check.h"
#include "ref/ref.h"

typedef enum token_mode {
    TOKENS_RANDOM,  /* uniform below V */
    TOKENS_FEW,     /* only the ids 0, 1, 2: every row gathers many positions */
    TOKENS_INVALID, /* a few ids >= V among random ones */
    TOKENS_HIGH,    /* random, plus ids in the rows beyond 65535 workgroups */
} token_mode;

typedef struct embedding_loss {
    const uint32_t *tokens;
    const double *wte, *wpe, *g;
    double *out;
    int B, T, C, V;
} embedding_loss;

/* sum of g * out: its gradients are what embedding_backward computes from dout = g. */
static double loss_of(void *user) {
    embedding_loss *l = user;
    ref_embedding_forward(l->out, l->tokens, l->wte, l->wpe, l->B, l->T, l->C, l->V);
    double sum = 0;
    for (size_t i = 0; i < (size_t)l->B * l->T * l->C; i++) sum += l->g[i] * l->out[i];
    return sum;
}

/* Copies the rows (of C) where keep[row] into a compact array. */
static size_t gather_rows(const float *src_f, const double *src_d, float *dst_f, double *dst_d, const bool *keep,
                          size_t rows, size_t C) {
    size_t kept = 0;
    for (size_t r = 0; r < rows; r++) {
        if (!keep[r]) continue;
        if (src_f) memcpy(dst_f + kept * C, src_f + r * C, C * sizeof *dst_f);
        if (src_d) memcpy(dst_d + kept * C, src_d + r * C, C * sizeof *dst_d);
        kept++;
    }
    return kept;
}

/* positions false: no wpe and no dwpe (a model without a position table). */
static void embedding_case(check_ctx *ctx, uint32_t B, uint32_t T, uint32_t C, uint32_t V, token_mode mode,
                           bool positions) {
    check_case_begin(ctx);
    char shape[112], label[176];
    static const char *mode_names[] = {"random", "few ids", "ids >= V", "high rows"};
    snprintf(shape, sizeof shape, "B=%u T=%u C=%u V=%u %s%s", B, T, C, V, mode_names[mode],
             positions ? "" : ", no wpe");
    size_t N = (size_t)B * T, n = N * C, VC = (size_t)V * C, TC = (size_t)T * C;
    uint32_t Tmax = T + 3; /* wpe holds more rows than T: only the first T are read */

    uint32_t *tokens = check_random_tokens(ctx, N, mode == TOKENS_FEW && V > 3 ? 3 : V);
    if (mode == TOKENS_INVALID) {
        tokens[0] = V;
        tokens[N / 2] = V + 7;
        tokens[N - 1] = 0xFFFFFFFFu;
    }
    if (mode == TOKENS_HIGH) { /* rows of workgroups past the first grid row (16 rows a group) */
        tokens[0] = V - 1;
        tokens[N - 1] = V - 1;
        tokens[N / 2] = 65535u * 16u + 5u;
    }
    float *wte = check_random_floats(ctx, VC, -1, 1), *wpe = check_random_floats(ctx, (size_t)Tmax * C, -1, 1);
    float *g = check_random_floats(ctx, n, -1, 1);
    float *dwte0 = check_random_floats(ctx, VC, -1, 1), *dwpe0 = check_random_floats(ctx, TC, -1, 1);
    double *wte_d = check_to_double(ctx, wte, VC), *wpe_d = check_to_double(ctx, wpe, (size_t)Tmax * C);
    double *g_d = check_to_double(ctx, g, n);
    double *ref_out = check_doubles(ctx, n);
    double *ref_dwte = check_to_double(ctx, dwte0, VC), *ref_dwpe = check_to_double(ctx, dwpe0, TC);
    if (!positions) wpe_d = ref_dwpe = NULL;
    ref_embedding_forward(ref_out, tokens, wte_d, wpe_d, (int)B, (int)T, (int)C, (int)V);
    ref_embedding_backward(ref_dwte, ref_dwpe, g_d, tokens, (int)B, (int)T, (int)C, (int)V);

    t2g_tensor tok = check_upload(ctx, tokens, N), wte_t = check_upload(ctx, wte, VC);
    t2g_tensor wpe_t = check_upload(ctx, wpe, (size_t)Tmax * C), dout = check_upload(ctx, g, n);
    t2g_tensor out = check_poisoned(ctx, n), dwte = check_poisoned(ctx, VC), dwpe = check_poisoned(ctx, TC);
    float *outs[2], *dwtes[2], *dwpes[2];
    for (int run = 0; run < 2; run++) {
        check_poison(ctx, out, n);
        check_reupload(ctx, dwte, dwte0, VC);
        check_reupload(ctx, dwpe, dwpe0, TC);
        check_status(ctx,
                     t2g_embedding_forward(ctx->recorder, out, tok, wte_t, positions ? &wpe_t : NULL, B, T, C, V,
                                           &ctx->err),
                     "embedding_forward");
        check_status(ctx,
                     t2g_embedding_backward(ctx->recorder, dwte, positions ? &dwpe : NULL, dout, tok, B, T, C, V,
                                            &ctx->err),
                     "embedding_backward");
        check_submit(ctx);
        outs[run] = check_download(ctx, out, n);
        dwtes[run] = check_download(ctx, dwte, VC);
        dwpes[run] = check_download(ctx, dwpe, TC);
    }

    /* forward: rows of valid tokens against the reference, rows of ids >= V all NaN */
    bool *valid = check_host(ctx, N * sizeof *valid);
    bool nan_rows_ok = true;
    for (size_t p = 0; p < N; p++) {
        valid[p] = tokens[p] < V;
        for (size_t c = 0; c < C && !valid[p]; c++) nan_rows_ok = nan_rows_ok && isnan(outs[0][p * C + c]);
    }
    snprintf(label, sizeof label, "embedding forward %s", shape);
    check_bitwise(ctx, label, outs[0], outs[1], n);
    float *kept_out = check_host(ctx, n * sizeof *kept_out);
    double *kept_ref = check_doubles(ctx, n);
    size_t kept = gather_rows(outs[0], ref_out, kept_out, kept_ref, valid, N, C);
    check_close(ctx, label, kept_out, kept_ref, kept * C, 1e-5);
    /* one float add per element, correctly rounded in Vulkan: the same bits as on the host */
    bool exact = true;
    for (size_t p = 0; p < N && exact; p++) {
        if (!valid[p]) continue;
        const float *wte_row = wte + (size_t)tokens[p] * C, *wpe_row = wpe + (p % T) * C;
        for (size_t c = 0; c < C && exact; c++) {
            float expected = positions ? wte_row[c] + wpe_row[c] : wte_row[c];
            exact = memcmp(&expected, &outs[0][p * C + c], sizeof expected) == 0;
        }
    }
    check_true(ctx, exact, "embedding forward %s: valid rows equal wte%s in float, bit for bit", shape,
               positions ? " + wpe" : "");
    if (kept < N) check_true(ctx, nan_rows_ok, "embedding forward %s: %zu rows of ids >= V are NaN", shape, N - kept);

    /* backward: everything, the rows some token hits, and the untouched rows bit for bit */
    snprintf(label, sizeof label, "embedding backward dwte %s", shape);
    check_bitwise(ctx, label, dwtes[0], dwtes[1], VC);
    check_close(ctx, label, dwtes[0], ref_dwte, VC, 1e-5);
    bool *hit = check_host(ctx, V * sizeof *hit);
    for (size_t p = 0; p < N; p++)
        if (tokens[p] < V) hit[tokens[p]] = true;
    float *hit_gpu = check_host(ctx, VC * sizeof *hit_gpu);
    double *hit_ref = check_doubles(ctx, VC);
    size_t hit_rows = gather_rows(dwtes[0], ref_dwte, hit_gpu, hit_ref, hit, V, C);
    snprintf(label, sizeof label, "embedding backward dwte %s, %zu rows hit", shape, hit_rows);
    check_close(ctx, label, hit_gpu, hit_ref, hit_rows * C, 1e-5);
    bool untouched = true;
    for (size_t r = 0; r < V && untouched; r++)
        if (!hit[r]) untouched = memcmp(dwtes[0] + r * C, dwte0 + r * C, C * sizeof *dwte0) == 0;
    check_true(ctx, untouched, "embedding backward dwte %s: %zu rows no token hits stay bit-identical", shape,
               V - hit_rows);
    if (positions) {
        snprintf(label, sizeof label, "embedding backward dwpe %s", shape);
        check_bitwise(ctx, label, dwpes[0], dwpes[1], TC);
        check_close(ctx, label, dwpes[0], ref_dwpe, TC, 1e-5);
    }

    /* the reference backward against finite differences of sum(g * out) */
    if (mode != TOKENS_INVALID) {
        double *analytic_wte = check_doubles(ctx, VC), *analytic_wpe = check_doubles(ctx, TC);
        if (!positions) analytic_wpe = NULL;
        ref_embedding_backward(analytic_wte, analytic_wpe, g_d, tokens, (int)B, (int)T, (int)C, (int)V);
        embedding_loss l = {tokens, wte_d, wpe_d, g_d, check_doubles(ctx, n), (int)B, (int)T, (int)C, (int)V};
        snprintf(label, sizeof label, "embedding reference backward wte vs finite diff %s", shape);
        check_finite_differences(ctx, label, loss_of, &l, wte_d, analytic_wte, VC, 64, 1e-6);
        snprintf(label, sizeof label, "embedding reference backward wpe vs finite diff %s", shape);
        if (positions) check_finite_differences(ctx, label, loss_of, &l, wpe_d, analytic_wpe, TC, 64, 1e-6);
    }
}

/* The forward reading wte's and wpe's quads (C % 4 == 0) through texel views of their own
 * tensors, through ones that start before them and through none (views of at most 4 texels: one
 * channel at a time): the same bits. */
typedef struct embedding_views {
    uint32_t B, T, C, V;
    t2g_tensor tokens;
    const float *wte, *wpe;
} embedding_views;

static t2g_status record_embedding_views(check_ctx *ctx, int way, size_t pad, void *user,
                                         t2g_tensor outs[CHECK_WAY_OUTPUTS]) {
    const embedding_views *c = user;
    t2g_tensor wte = check_upload_for_way(ctx, way, c->wte, (size_t)c->V * c->C, pad);
    t2g_tensor wpe = check_upload_for_way(ctx, way, c->wpe, (size_t)c->T * c->C, pad);
    outs[0] = check_poisoned(ctx, (size_t)c->B * c->T * c->C);
    return t2g_embedding_forward(ctx->recorder, outs[0], c->tokens, wte, &wpe, c->B, c->T, c->C, c->V, &ctx->err);
}

static void embedding_views_case(check_ctx *ctx, uint32_t B, uint32_t T, uint32_t C, uint32_t V) {
    check_case_begin(ctx);
    size_t N = (size_t)B * T, n = N * C;
    uint32_t *tokens = check_random_tokens(ctx, N, V);
    tokens[N / 2] = V; /* a row of NaN */
    embedding_views c = {B, T, C, V, check_upload(ctx, tokens, N), check_random_floats(ctx, (size_t)V * C, -1, 1),
                         check_random_floats(ctx, (size_t)T * C, -1, 1)};
    static const char *names[1] = {"forward"};
    float *got[CHECK_TEXEL_WAYS][CHECK_WAY_OUTPUTS] = {{NULL}};
    char what[64];
    snprintf(what, sizeof what, "embedding B=%u T=%u C=%u V=%u", B, T, C, V);
    check_texel_ways_case(ctx, what, names, &n, 1, record_embedding_views, &c, got);
}

T2G_CHECK(embedding) {
    embedding_case(ctx, 2, 7, 48, 259, TOKENS_RANDOM, true);
    if (ctx->quick) return ctx->failures;
    embedding_case(ctx, 1, 1, 1, 1, TOKENS_RANDOM, true);
    embedding_case(ctx, 3, 130, 48, 259, TOKENS_RANDOM, true);
    embedding_case(ctx, 2, 5, 7, 3, TOKENS_FEW, true);
    embedding_case(ctx, 4, 2100, 5, 37, TOKENS_FEW, true);  /* 8400 positions: more than one scan tile */
    embedding_case(ctx, 2, 9, 16, 50, TOKENS_INVALID, true);
    embedding_case(ctx, 2, 50, 2, 65535u * 16u + 1003u, TOKENS_HIGH, true); /* > 65535 workgroups */
    embedding_case(ctx, 3, 130, 48, 259, TOKENS_RANDOM, false);
    embedding_case(ctx, 2, 9, 16, 50, TOKENS_INVALID, false);
    embedding_case(ctx, 4, 2100, 5, 37, TOKENS_FEW, false);
    embedding_views_case(ctx, 3, 37, 48, 259);
    return ctx->failures;
}
