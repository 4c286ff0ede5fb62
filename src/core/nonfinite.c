/* Naming what went non-finite in a step, the scan behind the checkpoint guard, and the
 * test-only poison hook (include/t2g/nonfinite.h). */
#include "t2g/nonfinite.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[T2G_NONFINITE_KINDS] = {
    "loss", "grad_norm", "value_grad_norm", "policy_loss", "value_loss", "reward", "kl", "token_score", "entropy",
};

const char *t2g_nonfinite_name(t2g_nonfinite bit) {
    for (int k = 0; k < T2G_NONFINITE_KINDS; k++)
        if ((uint32_t)bit == 1u << k) return names[k];
    return "?";
}

void t2g_nonfinite_describe(uint32_t what, char *out, size_t size) {
    if (!size) return;
    out[0] = '\0';
    for (int k = 0; k < T2G_NONFINITE_KINDS; k++) {
        if (!(what & (1u << k))) continue;
        size_t used = strlen(out);
        snprintf(out + used, size - used, "%s%s", used ? ", " : "", names[k]);
    }
}

uint32_t t2g_nonfinite_bit(double x, t2g_nonfinite bit) { return isfinite(x) ? 0u : (uint32_t)bit; }

uint64_t t2g_first_nonfinite(const float *x, uint64_t n) {
    for (uint64_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return i;
    return n;
}

bool t2g_test_poison_due(uint64_t step) {
    const char *env = getenv("T2G_TEST_POISON_STEP");
    if (!env || !*env) return false;
    char *end;
    unsigned long long at = strtoull(env, &end, 10);
    return *end == '\0' && at == step;
}
