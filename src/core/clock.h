/* The monotonic clock (CLOCK_MONOTONIC), for durations and deadlines, never dates. Internal to
 * t2g (src/), not installed. */
#ifndef T2G_CORE_CLOCK_H
#define T2G_CORE_CLOCK_H

double t2g_clock_seconds(void);
double t2g_clock_ms(void);

#endif
