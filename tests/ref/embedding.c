/* Reference: token + position embedding, as in llm.c's encoder_forward / encoder_backward. */
#include <math.h>

#include "ref.h"

/* out (B,T,C) = wte (V,C)[tokens (B,T)] + wpe (T,C)[t] (wpe NULL: wte only); a token >= V gives
 * a NaN row. */
void ref_embedding_forward(double *out, const uint32_t *tokens, const double *wte, const double *wpe, int B, int T,
                           int C, int V) {
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < T; t++) {
            double *out_bt = out + ((size_t)b * T + t) * C;
            uint32_t token = tokens[(size_t)b * T + t];
            for (int c = 0; c < C; c++) {
                double position = wpe ? wpe[(size_t)t * C + c] : 0.0;
                out_bt[c] = token < (uint32_t)V ? wte[(size_t)token * C + c] + position : NAN;
            }
        }
    }
}

/* dwte (V,C) += dout rows scattered by token (tokens >= V skipped); dwpe (T,C) += sum over b
 * (dwpe NULL: skipped). */
void ref_embedding_backward(double *dwte, double *dwpe, const double *dout, const uint32_t *tokens, int B, int T,
                            int C, int V) {
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < T; t++) {
            const double *dout_bt = dout + ((size_t)b * T + t) * C;
            uint32_t token = tokens[(size_t)b * T + t];
            for (int c = 0; c < C && dwpe; c++) dwpe[(size_t)t * C + c] += dout_bt[c];
            if (token >= (uint32_t)V) continue;
            double *dwte_v = dwte + (size_t)token * C;
            for (int c = 0; c < C; c++) dwte_v[c] += dout_bt[c];
        }
    }
}
