// SiLU and its derivative for swiglu_forward.comp and swiglu_backward.comp, with exp only of
// non-positive arguments: e = exp(-|x|) lies in (0, 1], so nothing overflows for any finite x,
// and sigmoid(x) and sigmoid(-x) = 1 - sigmoid(x) are each computed without cancellation.

// (sigmoid(x), sigmoid(-x))
vec2 sigmoid_pair(float x) {
    float e = exp(-abs(x));
    float big = 1.0 / (1.0 + e), small = e / (1.0 + e); // big for the side x points to
    return x >= 0.0 ? vec2(big, small) : vec2(small, big);
}

float silu(float x) { return x * sigmoid_pair(x).x; }

// d silu / dx = s + x s (1 - s) = s (1 + x sigmoid(-x)), s = sigmoid(x)
float silu_grad(float x) {
    vec2 s = sigmoid_pair(x);
    return s.x * (1.0 + x * s.y);
}
