/* Reference: causal grouped-query self-attention, in the style of llm.c's attention_forward and
 * attention_backward, with the pre-softmax scores and the probabilities materialized per head
 * (T x T), and each row's log-sum-exp kept as the kernels keep it.
 *
 * NH query heads share KVH key/value heads: query head h uses kv head h / (NH / KVH).
 * qkv (B,T,(NH + 2 KVH) hs): q of head h at [b][t][h*hs + d], k of kv head g at
 * [b][t][(NH + g)*hs + d], v at [b][t][(NH + KVH + g)*hs + d]; out (B,T,NH hs); lse (B,NH,T). */
#include <math.h>
#include <stdlib.h>

#include "ref.h"

typedef struct heads {
    int T, NH, KVH, hs;
} heads;

/* Offsets in qkv of position t of batch b: its row, the q of query head h, the k and v that h uses. */
static size_t row_at(heads s, int b, int t) { return ((size_t)b * s.T + t) * (size_t)(s.NH + 2 * s.KVH) * s.hs; }
static size_t q_at(heads s, int b, int t, int h) { return row_at(s, b, t) + (size_t)h * s.hs; }
static size_t k_at(heads s, int b, int t, int h) {
    return row_at(s, b, t) + (size_t)(s.NH + h / (s.NH / s.KVH)) * s.hs;
}
static size_t v_at(heads s, int b, int t, int h) { return k_at(s, b, t, h) + (size_t)s.KVH * s.hs; }
/* Offset in out, dout (B,T,NH hs) of query head h at position t of batch b. */
static size_t out_at(heads s, int b, int t, int h) { return (((size_t)b * s.T + t) * s.NH + h) * s.hs; }

/* Probabilities att (T,T) of query head h of batch b: att[t][t2] for t2 <= t, 0 above the
 * diagonal. lse_row (T), if not NULL, receives each row's log-sum-exp of the scaled scores. */
static void head_probabilities(double *att, double *lse_row, const double *qkv, int b, int h, heads s) {
    double scale = 1.0 / sqrt((double)s.hs);
    for (int t = 0; t < s.T; t++) {
        const double *q = qkv + q_at(s, b, t, h);
        double *row = att + (size_t)t * s.T;
        double maxval = -INFINITY;
        for (int t2 = 0; t2 <= t; t2++) {
            const double *k = qkv + k_at(s, b, t2, h);
            double dot = 0;
            for (int d = 0; d < s.hs; d++) dot += q[d] * k[d];
            row[t2] = dot * scale;
            if (row[t2] > maxval) maxval = row[t2];
        }
        double sum = 0;
        for (int t2 = 0; t2 <= t; t2++) sum += exp(row[t2] - maxval);
        for (int t2 = 0; t2 <= t; t2++) row[t2] = exp(row[t2] - maxval) / sum;
        for (int t2 = t + 1; t2 < s.T; t2++) row[t2] = 0;
        if (lse_row) lse_row[t] = maxval + log(sum);
    }
}

void ref_attention_forward(double *out, double *lse, const double *qkv, int B, int T, int NH, int KVH, int hs) {
    heads s = {T, NH, KVH, hs};
    double *att = malloc((size_t)T * T * sizeof *att);
    if (!att) abort();
    for (int b = 0; b < B; b++) {
        for (int h = 0; h < NH; h++) {
            head_probabilities(att, lse + ((size_t)b * NH + h) * T, qkv, b, h, s);
            for (int t = 0; t < T; t++) {
                double *o = out + out_at(s, b, t, h);
                for (int d = 0; d < hs; d++) o[d] = 0;
                for (int t2 = 0; t2 <= t; t2++) {
                    const double *v = qkv + v_at(s, b, t2, h);
                    double a = att[(size_t)t * T + t2];
                    for (int d = 0; d < hs; d++) o[d] += a * v[d];
                }
            }
        }
    }
    free(att);
}

/* Backward through out = att v, att = softmax(preatt), preatt = q k^T scale, with the softmax's
 * Jacobian written out: dpreatt[t][j] = sum_k att[t][k] (delta_jk - att[t][j]) datt[t][k].
 * Each query head adds its share to the dk, dv of the kv head it uses. Given the forward's out,
 * the Jacobian's row term sum_k att[t][k] datt[t][k] is dout[t] . out[t] instead (equal when out is
 * exact): dpreatt[t][j] = att[t][j] (datt[t][j] - dout[t] . out[t]). */
void ref_attention_backward_from_out(double *dqkv, const double *dout, const double *qkv, const double *out, int B,
                                     int T, int NH, int KVH, int hs) {
    heads s = {T, NH, KVH, hs};
    double scale = 1.0 / sqrt((double)hs);
    double *att = malloc((size_t)T * T * sizeof *att);
    double *datt = malloc((size_t)T * T * sizeof *datt);
    double *dpreatt = malloc((size_t)T * T * sizeof *dpreatt);
    if (!att || !datt || !dpreatt) abort();
    for (int b = 0; b < B; b++) {
        for (int h = 0; h < NH; h++) {
            head_probabilities(att, NULL, qkv, b, h, s);
            /* out[t] = sum_t2 att[t][t2] v[t2]: datt[t][t2] = dout[t] . v[t2], dv[t2] += att[t][t2] dout[t] */
            for (int t = 0; t < T; t++) {
                const double *g = dout + out_at(s, b, t, h);
                for (int t2 = 0; t2 < T; t2++) {
                    double dot = 0;
                    if (t2 <= t) {
                        const double *v = qkv + v_at(s, b, t2, h);
                        double *dv = dqkv + v_at(s, b, t2, h);
                        double a = att[(size_t)t * T + t2];
                        for (int d = 0; d < hs; d++) {
                            dot += g[d] * v[d];
                            dv[d] += a * g[d];
                        }
                    }
                    datt[(size_t)t * T + t2] = dot;
                }
            }
            /* softmax over t2 <= t */
            for (int t = 0; t < T; t++) {
                const double *a = att + (size_t)t * T;
                if (out) {
                    const double *g = dout + out_at(s, b, t, h), *o = out + out_at(s, b, t, h);
                    double row = 0;
                    for (int d = 0; d < hs; d++) row += g[d] * o[d];
                    for (int j = 0; j <= t; j++) dpreatt[(size_t)t * T + j] = a[j] * (datt[(size_t)t * T + j] - row);
                    continue;
                }
                for (int j = 0; j <= t; j++) {
                    double sum = 0;
                    for (int k = 0; k <= t; k++) sum += a[k] * ((j == k ? 1.0 : 0.0) - a[j]) * datt[(size_t)t * T + k];
                    dpreatt[(size_t)t * T + j] = sum;
                }
            }
            /* preatt[t][t2] = scale q[t] . k[t2] */
            for (int t = 0; t < T; t++) {
                const double *q = qkv + q_at(s, b, t, h);
                double *dq = dqkv + q_at(s, b, t, h);
                for (int t2 = 0; t2 <= t; t2++) {
                    const double *k = qkv + k_at(s, b, t2, h);
                    double *dk = dqkv + k_at(s, b, t2, h);
                    double g = dpreatt[(size_t)t * T + t2] * scale;
                    for (int d = 0; d < hs; d++) {
                        dq[d] += g * k[d];
                        dk[d] += g * q[d];
                    }
                }
            }
        }
    }
    free(att);
    free(datt);
    free(dpreatt);
}

void ref_attention_backward(double *dqkv, const double *dout, const double *qkv, int B, int T, int NH, int KVH,
                            int hs) {
    ref_attention_backward_from_out(dqkv, dout, qkv, NULL, B, T, NH, KVH, hs);
}
