/* Reference: matmul with bias, out = inp weight^T + bias, as in llm.c, in double precision. */
#include "ref.h"

/* out (N,OC), inp (N,C), weight (OC,C), bias (OC) or NULL */
void ref_matmul_forward(double *out, const double *inp, const double *weight, const double *bias, int N, int C, int OC) {
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++) {
            double sum = bias ? bias[o] : 0.0;
            for (int c = 0; c < C; c++) sum += inp[(size_t)n * C + c] * weight[(size_t)o * C + c];
            out[(size_t)n * OC + o] = sum;
        }
}

/* dinp (N,C) += dout weight, or NULL; dweight (OC,C) += dout^T inp; dbias (OC) += column sums of
 * dout, or NULL; dout (N,OC), inp (N,C), weight (OC,C) */
void ref_matmul_backward(double *dinp, double *dweight, double *dbias, const double *dout, const double *inp,
                         const double *weight, int N, int C, int OC) {
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++) {
            double d = dout[(size_t)n * OC + o];
            if (dbias) dbias[o] += d;
            for (int c = 0; c < C; c++) {
                if (dinp) dinp[(size_t)n * C + c] += d * weight[(size_t)o * C + c];
                dweight[(size_t)o * C + c] += d * inp[(size_t)n * C + c];
            }
        }
}
