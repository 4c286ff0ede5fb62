#version 450
// Softmax cross-entropy whose gradient overwrites the logits (crossentropy.glsl): one binding
// for logits and dlogits (N,V), never the same buffer bound twice. A separate module rather
// than a specialization constant: a binding used only on a specialized-away branch still
// counts as statically used in Vulkan (Vulkan-Docs issue 1671), so it would have to be bound.
#include "common.glsl"

layout(std430, binding = 3) buffer Logits { float logits[]; };  // (N,V): logits in, dlogits out

float load_logit(uint i) { return logits[i]; }
void store_dlogit(uint i, float value) { logits[i] = value; }

#include "crossentropy.glsl"
