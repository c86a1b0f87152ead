/* bench.h: the harness's own cost per experiment, with no role running.
 *
 * One sample = topology up, observers started (captures open, sock_diag
 * sampler running), observers stopped, topology down.  `socklab bench` and
 * `make bench` print the median, min and max over n samples and each phase's
 * median, against the 100 ms target.
 */
#ifndef SL_BENCH_H
#define SL_BENCH_H

#include <stdio.h>

struct sl_err;

/* Runs n samples, prints the table to out.  Returns 0 or -errno. */
int sl_bench(int n, FILE *out, struct sl_err *e);

#endif
