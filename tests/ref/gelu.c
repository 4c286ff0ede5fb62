/* Reference: GELU, tanh form, as in GPT-2. */
#include <math.h>

#include "ref.h"

#define GELU_SCALE 0.79788456080286535588 /* sqrt(2/pi) */

void ref_gelu_forward(double *out, const double *inp, size_t n) {
    for (size_t i = 0; i < n; i++) {
        double x = inp[i];
        double u = GELU_SCALE * (x + 0.044715 * x * x * x);
        out[i] = 0.5 * x * (1.0 + tanh(u));
    }
}

void ref_gelu_backward(double *dinp, const double *inp, const double *dout, size_t n) {
    for (size_t i = 0; i < n; i++) {
        double x = inp[i];
        double u = GELU_SCALE * (x + 0.044715 * x * x * x);
        double t = tanh(u);
        double sech2 = 1.0 - t * t;
        double du = GELU_SCALE * (1.0 + 3.0 * 0.044715 * x * x);
        dinp[i] += (0.5 * (1.0 + t) + 0.5 * x * sech2 * du) * dout[i];
    }
}
