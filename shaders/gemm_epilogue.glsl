// What a GEMM's outputs take besides the product and bias (EPILOGUE), output by output with the
// operations of the kernels it fuses, aux (M,N) f32 laid out as C (rows ldc apart):
//   EPILOGUE_GELU_GRAD: C += gelu'(aux) * the product (gelu_backward.comp's dinp += gelu'(inp) *
//     dout, dout the product: t2g_matmul_backward_gelu); accumulating, without a bias;
//   EPILOGUE_ADD: C = aux + (the product + bias) (residual_forward.comp's a + b, b the product:
//     t2g_matmul_forward_residual); not accumulating;
//   EPILOGUE_NONE: C = the product + bias, or C + that when accumulating.
// Shared by matmul_gemm.comp, matmul_gemm_cpu.comp and matmul_panels_cpu.comp. The including
// shader declares, before including this, the specialization constant EPILOGUE, C as c[] and
// aux as aux[] (a stand-in, never read, without an epilogue); with GEMM_EPILOGUE_QUADS defined,
// also c_quads and aux_quads (texel views of C and aux) and push constants c_first, aux_first
// (the texels where they start).
#include "gelu.glsl"

const uint EPILOGUE_NONE = 0u, EPILOGUE_GELU_GRAD = 1u, EPILOGUE_ADD = 2u;

// The output of C at element `at`, from v (the product, bias added).
float epilogue_one(float v, uint at, bool accumulate) {
    if (EPILOGUE == EPILOGUE_GELU_GRAD) return c[at] + gelu_grad(aux[at]) * v;
    if (EPILOGUE == EPILOGUE_ADD) return aux[at] + v;
    return accumulate ? c[at] + v : v;
}

#ifdef GEMM_EPILOGUE_QUADS
// The same for the four outputs at elements at .. at + 3 (at % 4 == 0), read as texels.
vec4 epilogue_quad(vec4 v, uint at, bool accumulate) {
    if (EPILOGUE == EPILOGUE_GELU_GRAD) {
        vec4 d = texelFetch(c_quads, int(p.c_first + at / 4u)), x = texelFetch(aux_quads, int(p.aux_first + at / 4u));
        return vec4(d.x + gelu_grad(x.x) * v.x, d.y + gelu_grad(x.y) * v.y, d.z + gelu_grad(x.z) * v.z,
                    d.w + gelu_grad(x.w) * v.w);
    }
    if (EPILOGUE == EPILOGUE_ADD) return texelFetch(aux_quads, int(p.aux_first + at / 4u)) + v;
    return accumulate ? texelFetch(c_quads, int(p.c_first + at / 4u)) + v : v;
}
#endif
