/* One decode step's kernels (src/kernels/decode.h) against tests/ref/decode.c: the attention
 * of one new query per sequence against its cached keys and values, with the cache write, at
 * head sizes 7, 8, 12, 16, 64 and 128 and positions t = 0, 1, 6, 66, 129 and 200 (one, two
 * chunks of keys), multi-head (KVH = NH), grouped-query (NH = 9 over KVH = 3 as SmolLM2, 6 over
 * 2) and multi-query (KVH = 1); a grid of more than 65535 workgroups; the step's embedding at
 * position t; the shape errors.
 * The cache is poisoned at and after position t: row t must be written, the later rows neither
 * read (the output would be NaN) nor written. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "kernels/decode.h"
#include "ref/decode_ref.h"

typedef struct decode_shape {
    int n, NH, KVH, hs, t, T; /* T: cache positions per sequence, > t */
    int runs;            /* 2: also bitwise reproducibility */
} decode_shape;

/* The bits of every element of a and b agree (NaN included). */
static bool same_bits(const float *a, const float *b, size_t n, size_t *where) {
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], sizeof a[i]) != 0) {
            *where = i;
            return false;
        }
    return true;
}

static void attention_case(check_ctx *ctx, decode_shape s) {
    check_case_begin(ctx);
    int C = s.NH * s.hs, KC = s.KVH * s.hs, W = C + 2 * KC; /* widths of out, of a cache row, of qkv */
    size_t n_qkv = (size_t)s.n * W, n_out = (size_t)s.n * C, n_cache = (size_t)s.n * s.T * KC;
    char shape[96], label[192];
    snprintf(shape, sizeof shape, "n=%d NH=%d KVH=%d hs=%d t=%d T=%d", s.n, s.NH, s.KVH, s.hs, s.t, s.T);

    /* qkv (n,W); caches (n,T,KC): random before position t, NaN from t on */
    float *qkv = check_normal_floats(ctx, n_qkv, 1.0);
    float *kc = check_normal_floats(ctx, n_cache, 1.0), *vc = check_normal_floats(ctx, n_cache, 1.0);
    for (int b = 0; b < s.n; b++)
        for (int j = s.t; j < s.T; j++)
            for (int c = 0; c < KC; c++) {
                size_t i = ((size_t)b * s.T + j) * KC + c;
                kc[i] = vc[i] = NAN;
            }
    /* what the caches must hold afterwards: row t of each sequence is its k, v; the rest as before */
    float *k_after = check_host(ctx, n_cache * sizeof(float)), *v_after = check_host(ctx, n_cache * sizeof(float));
    memcpy(k_after, kc, n_cache * sizeof(float));
    memcpy(v_after, vc, n_cache * sizeof(float));
    for (int b = 0; b < s.n; b++)
        for (int c = 0; c < KC; c++) {
            size_t i = ((size_t)b * s.T + s.t) * KC + c;
            k_after[i] = qkv[(size_t)b * W + C + c];
            v_after[i] = qkv[(size_t)b * W + C + KC + c];
        }

    double *ref_out = check_doubles(ctx, n_out);
    double *ref_k = check_to_double(ctx, kc, n_cache), *ref_v = check_to_double(ctx, vc, n_cache);
    ref_decode_attention(ref_out, ref_k, ref_v, check_to_double(ctx, qkv, n_qkv), s.n, s.t, s.T, s.NH, s.KVH,
                         s.hs);

    t2g_tensor qkv_t = check_upload(ctx, qkv, n_qkv), out = check_poisoned(ctx, n_out);
    t2g_tensor kc_t = check_upload(ctx, kc, n_cache), vc_t = check_upload(ctx, vc, n_cache);
    float *outs[2] = {NULL, NULL}, *ks[2] = {NULL, NULL}, *vs[2] = {NULL, NULL};
    for (int run = 0; run < s.runs; run++) {
        check_poison(ctx, out, n_out);
        check_reupload(ctx, kc_t, kc, n_cache);
        check_reupload(ctx, vc_t, vc, n_cache);
        check_status(ctx,
                     t2g_decode_attention(ctx->recorder, out, kc_t, vc_t, qkv_t, (uint32_t)s.n, (uint32_t)s.t,
                                          (uint32_t)s.T, (uint32_t)s.NH, (uint32_t)s.KVH, (uint32_t)s.hs, &ctx->err),
                     "decode_attention");
        check_submit(ctx);
        outs[run] = check_download(ctx, out, n_out);
        ks[run] = check_download(ctx, kc_t, n_cache);
        vs[run] = check_download(ctx, vc_t, n_cache);
    }
    snprintf(label, sizeof label, "decode attention %s", shape);
    if (s.runs == 2) {
        check_bitwise(ctx, label, outs[0], outs[1], n_out);
        snprintf(label, sizeof label, "decode attention caches %s", shape);
        check_bitwise(ctx, label, ks[0], ks[1], n_cache);
        check_bitwise(ctx, label, vs[0], vs[1], n_cache);
        snprintf(label, sizeof label, "decode attention %s", shape);
    }
    check_close(ctx, label, outs[0], ref_out, n_out, 1e-5);
    const float *got[2] = {ks[0], vs[0]}, *want[2] = {k_after, v_after};
    const char *names[2] = {"key", "value"};
    for (int i = 0; i < 2; i++) {
        size_t where = 0;
        bool ok = same_bits(got[i], want[i], n_cache, &where);
        char diff[64] = "";
        if (!ok) snprintf(diff, sizeof diff, " (first difference at element %zu)", where);
        check_true(ctx, ok, "decode attention %s: %s cache = old rows, row t = new, NaN after%s", shape, names[i], diff);
    }
}

/* positions false: no wpe (a model without a position table), and the rows must be wte's bits. */
static void embedding_case(check_ctx *ctx, int n, int C, int V, int t, bool bad_token, bool positions) {
    check_case_begin(ctx);
    size_t n_out = (size_t)n * C;
    uint32_t *tokens = check_random_tokens(ctx, (size_t)n, (uint32_t)V);
    if (bad_token) tokens[n - 1] = (uint32_t)V; /* one past the vocabulary: a NaN row */
    float *wte = check_normal_floats(ctx, (size_t)V * C, 1.0), *wpe = check_normal_floats(ctx, (size_t)(t + 1) * C, 1.0);
    double *ref = check_doubles(ctx, n_out);
    int good = bad_token ? n - 1 : n;
    ref_decode_embedding(ref, tokens, check_to_double(ctx, wte, (size_t)V * C),
                         positions ? check_to_double(ctx, wpe, (size_t)(t + 1) * C) : NULL, good, t, C);
    t2g_tensor tok_t = check_upload(ctx, tokens, (size_t)n), wte_t = check_upload(ctx, wte, (size_t)V * C);
    t2g_tensor wpe_t = check_upload(ctx, wpe, (size_t)(t + 1) * C), out = check_poisoned(ctx, n_out);
    float *outs[2];
    for (int run = 0; run < 2; run++) {
        check_poison(ctx, out, n_out);
        check_status(ctx,
                     t2g_decode_embedding(ctx->recorder, out, tok_t, wte_t, positions ? &wpe_t : NULL, (uint32_t)n,
                                          (uint32_t)t, (uint32_t)C, (uint32_t)V, &ctx->err),
                     "decode_embedding");
        check_submit(ctx);
        outs[run] = check_download(ctx, out, n_out);
    }
    char label[128];
    snprintf(label, sizeof label, "decode embedding n=%d C=%d V=%d t=%d%s", n, C, V, t, positions ? "" : " no wpe");
    check_bitwise(ctx, label, outs[0], outs[1], n_out);
    check_close(ctx, label, outs[0], ref, (size_t)good * C, 1e-5);
    bool copies = true;
    for (int b = 0; b < good && !positions; b++)
        copies = copies && memcmp(outs[0] + (size_t)b * C, wte + (size_t)tokens[b] * C, (size_t)C * sizeof *wte) == 0;
    if (!positions) check_true(ctx, copies, "%s: each row is its token's wte row, bit for bit", label);
    if (bad_token) {
        bool nan_row = true;
        for (int c = 0; c < C; c++) nan_row = nan_row && isnan(outs[0][(size_t)(n - 1) * C + c]);
        check_true(ctx, nan_row, "decode embedding: a token >= V gives a NaN row");
    }
}

static void shape_errors(check_ctx *ctx) {
    check_case_begin(ctx);
    t2g_recorder *rec = ctx->recorder;
    t2g_tensor qkv = check_poisoned(ctx, 2 * 3 * 16), out = check_poisoned(ctx, 2 * 16);
    t2g_tensor cache = check_poisoned(ctx, 2 * 4 * 16), small = check_poisoned(ctx, 2 * 4 * 16 - 1);
    uint64_t before = t2g_recorder_dispatch_count(rec);
    check_refused(ctx, t2g_decode_attention(rec, out, cache, cache, qkv, 2, 4, 4, 2, 2, 8, &ctx->err), "decode", "t = T");
    check_refused(ctx, t2g_decode_attention(rec, out, cache, small, qkv, 2, 3, 4, 2, 2, 8, &ctx->err), "decode",
                  "a value cache one float short");
    check_refused(ctx, t2g_decode_attention(rec, out, cache, cache, qkv, 2, 0, 4, 3, 2, 4, &ctx->err), "decode",
                  "KVH = 2 not dividing NH = 3");
    check_refused(ctx, t2g_decode_attention(rec, out, cache, cache, qkv, 2, 0, 4, 2, 0, 8, &ctx->err), "decode", "KVH = 0");
    check_refused(ctx, t2g_decode_attention(rec, out, cache, cache, qkv, 0, 0, 4, 2, 2, 8, &ctx->err), "decode", "n = 0");
    check_refused(ctx, t2g_decode_attention(rec, out, cache, cache, out, 2, 0, 4, 2, 2, 8, &ctx->err), "decode",
                  "a qkv too short for its heads");
    t2g_tensor big = check_poisoned(ctx, 3 * 258);
    check_refused(ctx, t2g_decode_attention(rec, big, big, big, big, 1, 0, 1, 1, 1, 258, &ctx->err), "decode",
                  "head size 258");
    check_refused(ctx, t2g_decode_embedding(rec, out, qkv, qkv, &qkv, 2, 6, 16, 2, &ctx->err), "decode",
                  "wpe without row t");
    check_true(ctx, t2g_recorder_dispatch_count(rec) == before, "decode: refused calls record nothing");
}

T2G_CHECK(decode) {
    static const decode_shape cases[] = {
        /* multi-head: KVH = NH */
        {3, 2, 2, 8, 6, 9, 2},
        {3, 2, 2, 8, 0, 5, 2},
        {2, 3, 3, 12, 1, 7, 2},
        {2, 2, 2, 64, 6, 9, 2},
        {3, 1, 1, 8, 129, 131, 2},
        {2, 3, 3, 12, 129, 130, 2},
        {2, 3, 3, 64, 129, 133, 2},
        {1, 2, 2, 128, 200, 201, 2},
        {4099, 16, 16, 8, 2, 3, 1}, /* 65584 workgroups: a 2-D grid */
        /* grouped-query and multi-query: query heads share their kv head's cache */
        {3, 9, 3, 64, 6, 9, 2}, /* SmolLM2's heads */
        {1, 9, 3, 64, 0, 1, 2},
        {2, 4, 1, 16, 129, 131, 2},
        {3, 6, 2, 7, 66, 67, 2},
        {1, 4, 2, 128, 200, 203, 2},
    };
    attention_case(ctx, cases[0]);
    if (ctx->quick) return ctx->failures;
    for (size_t i = 1; i < sizeof cases / sizeof cases[0]; i++) attention_case(ctx, cases[i]);
    embedding_case(ctx, 3, 36, 259, 10, false, true);
    embedding_case(ctx, 5, 13, 7, 0, true, true);
    embedding_case(ctx, 3, 36, 259, 10, false, false);
    embedding_case(ctx, 5, 13, 7, 0, true, false);
    shape_errors(ctx);
    return ctx->failures;
}
