/* Reference: SwiGLU, out = silu(gate) * up with silu(x) = x sigmoid(x), gate and up the two
 * halves of each row of h (N,2F). The sigmoid takes exp of -|x| only, so no x overflows it. */
#include <math.h>

#include "ref.h"

static double sigmoid(double x) {
    double e = exp(-fabs(x));
    return x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}

void ref_swiglu_forward(double *out, const double *h, int N, int F) {
    for (int n = 0; n < N; n++) {
        const double *gate = h + (size_t)n * 2 * F, *up = gate + F;
        for (int f = 0; f < F; f++) out[(size_t)n * F + f] = gate[f] * sigmoid(gate[f]) * up[f];
    }
}

/* d out / d gate = up s (1 + gate (1 - s)), s = sigmoid(gate); d out / d up = silu(gate). */
void ref_swiglu_backward(double *dh, const double *h, const double *dout, int N, int F) {
    for (int n = 0; n < N; n++) {
        const double *gate = h + (size_t)n * 2 * F, *up = gate + F, *g = dout + (size_t)n * F;
        double *dgate = dh + (size_t)n * 2 * F, *dup = dgate + F;
        for (int f = 0; f < F; f++) {
            double s = sigmoid(gate[f]);
            dgate[f] += g[f] * up[f] * s * (1.0 + gate[f] * sigmoid(-gate[f]));
            dup[f] += g[f] * gate[f] * s;
        }
    }
}
