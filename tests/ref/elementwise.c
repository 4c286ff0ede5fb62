/* Reference: residual add and scaled add. */
#include "ref.h"

void ref_residual_forward(double *out, const double *a, const double *b, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

void ref_residual_backward(double *da, double *db, const double *dout, size_t n) {
    for (size_t i = 0; i < n; i++) {
        da[i] += dout[i];
        db[i] += dout[i];
    }
}

void ref_axpby(double *y, const double *x, size_t n, double alpha, double beta) {
    for (size_t i = 0; i < n; i++) y[i] = alpha * x[i] + (beta == 0 ? 0 : beta * y[i]);
}
