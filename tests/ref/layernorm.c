/* Reference: LayerNorm over the last dimension, eps = 1e-5, biased variance (as GPT-2). */
#include <math.h>

#include "ref.h"

#define LAYERNORM_EPS 1e-5

/* out (N,C), mean (N), rstd (N), inp (N,C), weight (C), bias (C) */
void ref_layernorm_forward(double *out, double *mean, double *rstd, const double *inp, const double *weight,
                           const double *bias, int N, int C) {
    for (int n = 0; n < N; n++) {
        const double *x = inp + (size_t)n * C;
        double m = 0;
        for (int c = 0; c < C; c++) m += x[c];
        m /= C;
        double var = 0;
        for (int c = 0; c < C; c++) var += (x[c] - m) * (x[c] - m);
        var /= C;
        double s = 1.0 / sqrt(var + LAYERNORM_EPS);
        double *o = out + (size_t)n * C;
        for (int c = 0; c < C; c++) o[c] = (x[c] - m) * s * weight[c] + bias[c];
        mean[n] = m;
        rstd[n] = s;
    }
}

/* dinp (N,C) +=, dweight (C) +=, dbias (C) +=; dout, inp (N,C), weight (C), mean, rstd (N).
 * With xhat = (x - mean) rstd and dnorm = dout * weight:
 *   dinp = rstd (dnorm - mean_c(dnorm) - xhat mean_c(dnorm xhat)),
 *   dweight = sum_n dout xhat, dbias = sum_n dout. */
void ref_layernorm_backward(double *dinp, double *dweight, double *dbias, const double *dout, const double *inp,
                            const double *weight, const double *mean, const double *rstd, int N, int C) {
    for (int n = 0; n < N; n++) {
        const double *x = inp + (size_t)n * C, *g = dout + (size_t)n * C;
        double *dx = dinp + (size_t)n * C;
        double mean_dnorm = 0, mean_dnorm_xhat = 0;
        for (int c = 0; c < C; c++) {
            double xhat = (x[c] - mean[n]) * rstd[n];
            double dnorm = g[c] * weight[c];
            mean_dnorm += dnorm;
            mean_dnorm_xhat += dnorm * xhat;
        }
        mean_dnorm /= C;
        mean_dnorm_xhat /= C;
        for (int c = 0; c < C; c++) {
            double xhat = (x[c] - mean[n]) * rstd[n];
            double dnorm = g[c] * weight[c];
            dx[c] += rstd[n] * (dnorm - mean_dnorm - xhat * mean_dnorm_xhat);
            dweight[c] += g[c] * xhat;
            dbias[c] += g[c];
        }
    }
}
