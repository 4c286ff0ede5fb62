// Rotary position embedding's turn of one pair, Hugging Face Llama's rotate-half form: channels
// (a, b) = (i, i + hs/2) of a head turned by the angle whose cosine and sine are c and s.
// Shared by rope.comp (training) and decode_store.comp (generation), so both turn alike.
vec2 rope_turn(float a, float b, float c, float s) { return vec2(a * c - b * s, b * c + a * s); }
