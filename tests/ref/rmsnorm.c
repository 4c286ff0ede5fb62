/* Reference: RMSNorm over the last dimension, as Hugging Face's LlamaRMSNorm:
 * out = x / sqrt(mean(x^2) + eps) * weight, no mean subtracted, no bias. */
#include <math.h>

#include "ref.h"

/* out (N,C), rstd (N), inp (N,C), weight (C) */
void ref_rmsnorm_forward(double *out, double *rstd, const double *inp, const double *weight, int N, int C, double eps) {
    for (int n = 0; n < N; n++) {
        const double *x = inp + (size_t)n * C;
        double mean_square = 0;
        for (int c = 0; c < C; c++) mean_square += x[c] * x[c];
        mean_square /= C;
        double s = 1.0 / sqrt(mean_square + eps);
        double *o = out + (size_t)n * C;
        for (int c = 0; c < C; c++) o[c] = x[c] * s * weight[c];
        rstd[n] = s;
    }
}

/* dinp (N,C) +=, dweight (C) +=; dout, inp (N,C), weight (C), rstd (N).
 * With xhat = x rstd and dnorm = dout * weight, and d rstd / d x_c = -rstd^3 x_c / C:
 *   dinp = rstd (dnorm - xhat mean_c(dnorm xhat)),  dweight = sum_n dout xhat. */
void ref_rmsnorm_backward(double *dinp, double *dweight, const double *dout, const double *inp, const double *weight,
                          const double *rstd, int N, int C) {
    for (int n = 0; n < N; n++) {
        const double *x = inp + (size_t)n * C, *g = dout + (size_t)n * C;
        double *dx = dinp + (size_t)n * C;
        double mean_dnorm_xhat = 0;
        for (int c = 0; c < C; c++) mean_dnorm_xhat += g[c] * weight[c] * x[c] * rstd[n];
        mean_dnorm_xhat /= C;
        for (int c = 0; c < C; c++) {
            double xhat = x[c] * rstd[n];
            dx[c] += rstd[n] * (g[c] * weight[c] - xhat * mean_dnorm_xhat);
            dweight[c] += g[c] * xhat;
        }
    }
}
