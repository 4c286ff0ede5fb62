/* Reference: softmax cross-entropy with per-row weights, forward and backward together. */
#include <math.h>

#include "ref.h"

/* losses (N), dlogits (N,V), logits (N,V), targets (N), weights (N).
 * losses[n] = logsumexp(logits[n]) - logits[n][targets[n]] (NaN for a target >= V);
 * dlogits[n][v] = dloss weights[n] (softmax(logits[n])[v] - (v == targets[n])), written (not
 * added), without the one-hot for a target >= V. */
void ref_crossentropy_forward_backward(double *losses, double *dlogits, const double *logits, const uint32_t *targets,
                                       const double *weights, int N, int V, double dloss) {
    for (int n = 0; n < N; n++) {
        const double *x = logits + (size_t)n * V;
        double max = x[0];
        for (int v = 1; v < V; v++) max = x[v] > max ? x[v] : max;
        double sum = 0;
        for (int v = 0; v < V; v++) sum += exp(x[v] - max);
        double lse = log(sum) + max;
        uint32_t target = targets[n];
        losses[n] = target < (uint32_t)V ? lse - x[target] : NAN;
        double scale = dloss * weights[n];
        double *d = dlogits + (size_t)n * V;
        for (int v = 0; v < V; v++) d[v] = scale * (exp(x[v] - lse) - ((uint32_t)v == target ? 1.0 : 0.0));
    }
}
