/* The learning-rate schedule: linear warm-up, then cosine decay to a floor (or constant). */
#include <math.h>
#include <string.h>

#include "t2g/train.h"

double t2g_schedule_lr(const t2g_config *config, uint64_t step) {
    double lr = config->optim.lr;
    uint64_t warmup = config->schedule.warmup_steps, total = config->steps;
    if (step == 0) step = 1;
    if (warmup && step <= warmup) return lr * (double)step / (double)warmup;
    if (config->schedule.kind != T2G_SCHEDULE_COSINE || total <= warmup) return lr;
    double floor = lr * config->schedule.min_lr_fraction;
    double progress = (double)(step - warmup) / (double)(total - warmup); /* (0, 1] over the decay */
    if (progress > 1) progress = 1;
    return floor + 0.5 * (lr - floor) * (1.0 + cos(3.14159265358979323846 * progress));
}
