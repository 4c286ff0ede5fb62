/* Reference: one decode step of the embedding and of causal grouped-query self-attention with
 * a KV cache, written as the full forward's reference (tests/ref/attention.c) restricted to the
 * last row: scores of the one query against keys 0..t, softmax, weighted sum of the values. */
#include <math.h>
#include <stdlib.h>

#include "decode_ref.h"

void ref_decode_embedding(double *out, const uint32_t *tokens, const double *wte, const double *wpe, int n, int t,
                          int C) {
    for (int b = 0; b < n; b++) {
        const double *e = wte + (size_t)tokens[b] * C;
        for (int c = 0; c < C; c++) out[(size_t)b * C + c] = e[c] + (wpe ? wpe[(size_t)t * C + c] : 0.0);
    }
}

void ref_decode_attention(double *out, double *kcache, double *vcache, const double *qkv, int n, int t, int T, int NH,
                          int KVH, int hs) {
    double scale = 1.0 / sqrt((double)hs);
    size_t W = (size_t)(NH + 2 * KVH) * hs, KC = (size_t)KVH * hs; /* widths of a qkv row, of a cache row */
    double *att = malloc((size_t)(t + 1) * sizeof *att);          /* (t+1) scores, then probabilities */
    if (!att) abort();
    for (int b = 0; b < n; b++) {
        const double *row = qkv + (size_t)b * W; /* q, k, v of position t */
        double *krow = kcache + ((size_t)b * T + t) * KC, *vrow = vcache + ((size_t)b * T + t) * KC;
        for (size_t c = 0; c < KC; c++) {
            krow[c] = row[(size_t)NH * hs + c];
            vrow[c] = row[(size_t)NH * hs + KC + c];
        }
        for (int h = 0; h < NH; h++) {
            const double *q = row + (size_t)h * hs;
            size_t kv = (size_t)(h / (NH / KVH)) * hs; /* the kv head's column in a cache row */
            double maxval = -INFINITY;
            for (int j = 0; j <= t; j++) {
                const double *k = kcache + ((size_t)b * T + j) * KC + kv;
                double s = 0;
                for (int d = 0; d < hs; d++) s += q[d] * k[d];
                att[j] = s * scale;
                if (att[j] > maxval) maxval = att[j];
            }
            double sum = 0;
            for (int j = 0; j <= t; j++) sum += exp(att[j] - maxval);
            double *o = out + ((size_t)b * NH + h) * hs;
            for (int d = 0; d < hs; d++) o[d] = 0;
            for (int j = 0; j <= t; j++) {
                const double *v = vcache + ((size_t)b * T + j) * KC + kv;
                double a = exp(att[j] - maxval) / sum;
                for (int d = 0; d < hs; d++) o[d] += a * v[d];
            }
        }
    }
    free(att);
}
