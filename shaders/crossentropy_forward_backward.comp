#version 450
// Softmax cross-entropy with dlogits a tensor of its own (crossentropy.glsl):
// losses (N), targets (N), weights (N), logits (N,V) -> dlogits (N,V).
#include "common.glsl"

layout(std430, binding = 3) readonly buffer Logits { float logits[]; };     // (N,V)
layout(std430, binding = 4) writeonly buffer DLogits { float dlogits[]; };  // (N,V)

float load_logit(uint i) { return logits[i]; }
void store_dlogit(uint i, float value) { dlogits[i] = value; }

#include "crossentropy.glsl"
