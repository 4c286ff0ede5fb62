/* Reference: rotary position embedding, Hugging Face Llama's rotate-half form
 * (q * cos + rotate_half(q) * sin, rotate_half(x) = (-x2, x1)), every angle computed in double
 * from theta (not from a table). */
#include <math.h>

#include "ref.h"

void ref_rope(double *x, int B, int T, int stride, int heads, int hs, int pos0, double theta, int inverse) {
    int half = hs / 2;
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < T; t++) {
            double *row = x + ((size_t)b * T + t) * stride; /* (stride) */
            for (int h = 0; h < heads; h++) {
                double *head = row + (size_t)h * hs; /* (hs): halves x1 = [0, half), x2 = [half, hs) */
                for (int i = 0; i < half; i++) {
                    double angle = (double)(pos0 + t) / pow(theta, 2.0 * i / hs); /* HF: t / theta^(2i/hs) */
                    double c = cos(angle), s = inverse ? -sin(angle) : sin(angle);
                    double x1 = head[i], x2 = head[half + i];
                    head[i] = x1 * c - x2 * s;
                    head[half + i] = x2 * c + x1 * s;
                }
            }
        }
    }
}
