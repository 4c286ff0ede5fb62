// GELU, tanh form: gelu(x) = 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3).
// Since 1 + tanh(u) = 2 sigmoid(2u), gelu(x) = x sigmoid(2u): no cancellation for large
// negative x (where 1 + tanh(u) would lose every digit), and exp overflowing to +inf gives the
// right limit 0.
const float GELU_SCALE = 0.7978845608028654; // sqrt(2/pi)
const float GELU_CUBE = 0.044715;

float gelu_u(float x) { return GELU_SCALE * (x + GELU_CUBE * x * x * x); }
float sigmoid_of(float z) { return 1.0 / (1.0 + exp(-z)); }

float gelu(float x) { return x * sigmoid_of(2.0 * gelu_u(x)); }

// d gelu / dx = s + x s (1 - s) 2 u', s = sigmoid(2u); 1 - s is sigmoid(-2u), computed as such.
float gelu_grad(float x) {
    float u = gelu_u(x);
    float s = sigmoid_of(2.0 * u);
    float one_minus_s = sigmoid_of(-2.0 * u);
    float du = GELU_SCALE * (1.0 + 3.0 * GELU_CUBE * x * x);
    return s + x * s * one_minus_s * 2.0 * du;
}
