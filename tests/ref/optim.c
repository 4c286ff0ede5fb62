/* Reference: dot product, global gradient norm and clip factor, AdamW. */
#include <math.h>

#include "ref.h"

double ref_dot(const double *a, const double *b, size_t n) {
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += a[i] * b[i];
    return sum;
}

/* norm_and_scale (2), grads (n) */
void ref_grad_norm(double norm_and_scale[2], const double *grads, size_t n, double max_norm) {
    double norm = sqrt(ref_dot(grads, grads, n));
    norm_and_scale[0] = norm;
    norm_and_scale[1] = !isfinite(norm) ? 0.0 : max_norm > 0 ? fmin(1.0, max_norm / (norm + 1e-6)) : 1.0;
}

/* params, grads, m, v (n); grad_scale multiplies the gradient (1: none); step >= 1. */
void ref_adamw_update(double *params, const double *grads, double *m, double *v, size_t n, double grad_scale,
                      double learning_rate, double beta1, double beta2, double epsilon, double weight_decay, int step) {
    double m_correction = 1.0 - pow(beta1, step);
    double v_correction = 1.0 - pow(beta2, step);
    for (size_t i = 0; i < n; i++) {
        double g = grads[i] * grad_scale;
        m[i] = beta1 * m[i] + (1.0 - beta1) * g;
        v[i] = beta2 * v[i] + (1.0 - beta2) * g * g;
        double m_hat = m[i] / m_correction;
        double v_hat = v[i] / v_correction;
        params[i] -= learning_rate * (m_hat / (sqrt(v_hat) + epsilon) + weight_decay * params[i]);
    }
}

/* AdamW gated by the gradient norm: no update at all when norm_and_scale[0] is not finite. */
void ref_adamw_gated(double *params, const double *grads, double *m, double *v, size_t n,
                     const double norm_and_scale[2], double learning_rate, double beta1, double beta2, double epsilon,
                     double weight_decay, int step) {
    if (!isfinite(norm_and_scale[0])) return;
    ref_adamw_update(params, grads, m, v, n, norm_and_scale[1], learning_rate, beta1, beta2, epsilon, weight_decay,
                     step);
}
