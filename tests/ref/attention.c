/* Reference: causal multi-head self-attention, in the style of llm.c's attention_forward and
 * attention_backward, with the pre-softmax scores and the probabilities materialized per head
 * (T x T), and each row's log-sum-exp kept as the kernels keep it.
 *
 * qkv (B,T,3C): q of head h at [b][t][h*hs + d], k at [b][t][C + h*hs + d], v at
 * [b][t][2C + h*hs + d]; out (B,T,C); lse (B,NH,T). */
#include <math.h>
#include <stdlib.h>

#include "ref.h"

/* Probabilities att (T,T) of head h of batch b: att[t][t2] for t2 <= t, 0 above the diagonal.
 * lse_row (T), if not NULL, receives each row's log-sum-exp of the scaled scores. */
static void head_probabilities(double *att, double *lse_row, const double *qkv, int b, int h, int T, int C, int NH) {
    int hs = C / NH;
    double scale = 1.0 / sqrt((double)hs);
    for (int t = 0; t < T; t++) {
        const double *q = qkv + ((size_t)b * T + t) * 3 * C + (size_t)h * hs;
        double *row = att + (size_t)t * T;
        double maxval = -INFINITY;
        for (int t2 = 0; t2 <= t; t2++) {
            const double *k = qkv + ((size_t)b * T + t2) * 3 * C + C + (size_t)h * hs;
            double s = 0;
            for (int d = 0; d < hs; d++) s += q[d] * k[d];
            row[t2] = s * scale;
            if (row[t2] > maxval) maxval = row[t2];
        }
        double sum = 0;
        for (int t2 = 0; t2 <= t; t2++) sum += exp(row[t2] - maxval);
        for (int t2 = 0; t2 <= t; t2++) row[t2] = exp(row[t2] - maxval) / sum;
        for (int t2 = t + 1; t2 < T; t2++) row[t2] = 0;
        if (lse_row) lse_row[t] = maxval + log(sum);
    }
}

void ref_attention_forward(double *out, double *lse, const double *qkv, int B, int T, int C, int NH) {
    int hs = C / NH;
    double *att = malloc((size_t)T * T * sizeof *att);
    if (!att) abort();
    for (int b = 0; b < B; b++) {
        for (int h = 0; h < NH; h++) {
            head_probabilities(att, lse + ((size_t)b * NH + h) * T, qkv, b, h, T, C, NH);
            for (int t = 0; t < T; t++) {
                double *o = out + ((size_t)b * T + t) * C + (size_t)h * hs;
                for (int d = 0; d < hs; d++) o[d] = 0;
                for (int t2 = 0; t2 <= t; t2++) {
                    const double *v = qkv + ((size_t)b * T + t2) * 3 * C + 2 * C + (size_t)h * hs;
                    double a = att[(size_t)t * T + t2];
                    for (int d = 0; d < hs; d++) o[d] += a * v[d];
                }
            }
        }
    }
    free(att);
}

/* Backward through out = att v, att = softmax(preatt), preatt = q k^T scale, with the softmax's
 * Jacobian written out: dpreatt[t][j] = sum_k att[t][k] (delta_jk - att[t][j]) datt[t][k]. */
void ref_attention_backward(double *dqkv, const double *dout, const double *qkv, int B, int T, int C, int NH) {
    int hs = C / NH;
    double scale = 1.0 / sqrt((double)hs);
    double *att = malloc((size_t)T * T * sizeof *att);
    double *datt = malloc((size_t)T * T * sizeof *datt);
    double *dpreatt = malloc((size_t)T * T * sizeof *dpreatt);
    if (!att || !datt || !dpreatt) abort();
    for (int b = 0; b < B; b++) {
        for (int h = 0; h < NH; h++) {
            head_probabilities(att, NULL, qkv, b, h, T, C, NH);
            /* out[t] = sum_t2 att[t][t2] v[t2]: datt[t][t2] = dout[t] . v[t2], dv[t2] += att[t][t2] dout[t] */
            for (int t = 0; t < T; t++) {
                const double *g = dout + ((size_t)b * T + t) * C + (size_t)h * hs;
                for (int t2 = 0; t2 < T; t2++) {
                    double s = 0;
                    if (t2 <= t) {
                        const double *v = qkv + ((size_t)b * T + t2) * 3 * C + 2 * C + (size_t)h * hs;
                        double *dv = dqkv + ((size_t)b * T + t2) * 3 * C + 2 * C + (size_t)h * hs;
                        double a = att[(size_t)t * T + t2];
                        for (int d = 0; d < hs; d++) {
                            s += g[d] * v[d];
                            dv[d] += a * g[d];
                        }
                    }
                    datt[(size_t)t * T + t2] = s;
                }
            }
            /* softmax over t2 <= t */
            for (int t = 0; t < T; t++) {
                const double *a = att + (size_t)t * T;
                for (int j = 0; j <= t; j++) {
                    double s = 0;
                    for (int k = 0; k <= t; k++) s += a[k] * ((j == k ? 1.0 : 0.0) - a[j]) * datt[(size_t)t * T + k];
                    dpreatt[(size_t)t * T + j] = s;
                }
            }
            /* preatt[t][t2] = scale q[t] . k[t2] */
            for (int t = 0; t < T; t++) {
                const double *q = qkv + ((size_t)b * T + t) * 3 * C + (size_t)h * hs;
                double *dq = dqkv + ((size_t)b * T + t) * 3 * C + (size_t)h * hs;
                for (int t2 = 0; t2 <= t; t2++) {
                    const double *k = qkv + ((size_t)b * T + t2) * 3 * C + C + (size_t)h * hs;
                    double *dk = dqkv + ((size_t)b * T + t2) * 3 * C + C + (size_t)h * hs;
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
