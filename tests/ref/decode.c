/* Reference: a decode step's embedding, cache write and causal grouped-query self-attention
 * with a KV cache, row by row: the full forward's reference (tests/ref/attention.c) restricted
 * to one query, the row's, against the keys of its sequence up to its position. */
#include <math.h>
#include <stdlib.h>

#include "decode_ref.h"

void ref_decode_embedding(double *out, const uint32_t *rows, const double *wte, const double *wpe, int n, int C) {
    for (int r = 0; r < n; r++) {
        const double *e = wte + (size_t)rows[3 * r] * C;
        for (int c = 0; c < C; c++) out[(size_t)r * C + c] = e[c] + (wpe ? wpe[(size_t)rows[3 * r + 2] * C + c] : 0.0);
    }
}

/* Turns the pairs (i, i + hs/2) of `heads` heads of x by row p of the table. */
static void turn(double *x, int heads, int hs, const double *table, uint32_t p) {
    int half = hs / 2;
    for (int h = 0; h < heads; h++)
        for (int i = 0; i < half; i++) {
            double *a = x + (size_t)h * hs + i, *b = a + half;
            double c = table[(size_t)p * hs + i], s = table[(size_t)p * hs + half + i];
            double a0 = *a, b0 = *b;
            *a = a0 * c - b0 * s;
            *b = b0 * c + a0 * s;
        }
}

void ref_decode_store(double *qkv, double *kcache, double *vcache, const uint32_t *rows, const double *table, int n,
                      int slots, int T, int NH, int KVH, int hs) {
    size_t W = (size_t)(NH + 2 * KVH) * hs, KC = (size_t)KVH * hs; /* widths of a qkv row, of a cache row */
    for (int r = 0; r < n; r++) {
        uint32_t slot = rows[3 * r + 1], p = rows[3 * r + 2];
        if (slot >= (uint32_t)slots || p >= (uint32_t)T) continue;
        double *row = qkv + (size_t)r * W;
        double *krow = kcache + ((size_t)slot * T + p) * KC, *vrow = vcache + ((size_t)slot * T + p) * KC;
        for (size_t c = 0; c < KC; c++) {
            krow[c] = row[(size_t)NH * hs + c];
            vrow[c] = row[(size_t)NH * hs + KC + c];
        }
        if (!table) continue;
        turn(row, NH, hs, table, p);   /* q in place */
        turn(krow, KVH, hs, table, p); /* k as it goes into the cache */
    }
}

void ref_decode_attention(double *out, const double *kcache, const double *vcache, const double *qkv,
                          const uint32_t *rows, int n, int T, int NH, int KVH, int hs) {
    double scale = 1.0 / sqrt((double)hs);
    size_t W = (size_t)(NH + 2 * KVH) * hs, KC = (size_t)KVH * hs;
    double *att = malloc((size_t)T * sizeof *att); /* (t+1) scores, then probabilities */
    if (!att) abort();
    for (int r = 0; r < n; r++) {
        uint32_t slot = rows[3 * r + 1];
        int t = (int)rows[3 * r + 2];
        const double *kbase = kcache + (size_t)slot * T * KC, *vbase = vcache + (size_t)slot * T * KC;
        for (int h = 0; h < NH; h++) {
            const double *q = qkv + (size_t)r * W + (size_t)h * hs;
            size_t kv = (size_t)(h / (NH / KVH)) * hs; /* the kv head's column in a cache row */
            double maxval = -INFINITY;
            for (int j = 0; j <= t; j++) {
                const double *k = kbase + (size_t)j * KC + kv;
                double s = 0;
                for (int d = 0; d < hs; d++) s += q[d] * k[d];
                att[j] = s * scale;
                if (att[j] > maxval) maxval = att[j];
            }
            double sum = 0;
            for (int j = 0; j <= t; j++) sum += exp(att[j] - maxval);
            double *o = out + ((size_t)r * NH + h) * hs;
            for (int d = 0; d < hs; d++) o[d] = 0;
            for (int j = 0; j <= t; j++) {
                const double *v = vbase + (size_t)j * KC + kv;
                double a = exp(att[j] - maxval) / sum;
                for (int d = 0; d < hs; d++) o[d] += a * v[d];
            }
        }
    }
    free(att);
}
