/* The console's word on training data that the context cuts: how many examples, how many
 * train on nothing, and the --set that keeps them. */
#include <stdio.h>

#include "cli.h"

void cli_warn_data_fit(const t2g_trainer *trainer) {
    const t2g_config *c = t2g_trainer_config(trainer);
    t2g_data_fit fit = t2g_dataset_fit(t2g_trainer_dataset(trainer), c->model.context);
    if (fit.cut == 0) return;
    size_t keep = fit.longest < T2G_CONTEXT_MAX ? fit.longest : T2G_CONTEXT_MAX;
    fprintf(stderr, "t2g: warning: %zu of %zu training examples are cut at model.context = %u", fit.cut, fit.examples,
            c->model.context);
    if (fit.cut_away) fprintf(stderr, "; %zu of them lose their whole response and train on nothing", fit.cut_away);
    fprintf(stderr, " (--set model.context=%zu keeps every example whole)\n", keep);
}
