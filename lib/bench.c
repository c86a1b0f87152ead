/* bench.c: the harness's own cost per experiment (bench.h).
 *
 * This is what every variant pays before and after its roles: topology
 * up, observers started, observers stopped, topology down.  The phases are
 * timed separately so that a regression points at its module.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "cleanup.h"
#include "clock.h"
#include "err.h"
#include "observe.h"
#include "timeline.h"
#include "topology.h"

#define SL_BENCH_TARGET_MS 100.0

enum { PH_UP, PH_OBS_START, PH_OBS_STOP, PH_DOWN, PH_TOTAL, NPHASES };

static const char *const phase_name[NPHASES] = {
	"topology up",	 "observers start", "observers stop",
	"topology down", "total",
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The captures of a sample wrote a pcap per interface into dir: removed
 * after each sample, since a capture never writes over a file that is
 * there (resultdir.h) and the next sample would fail on them. */
static void remove_pcaps(const char *dir)
{
	static const char *const names[] = {
		"client-eth0.pcap",
		"router-eth0.pcap",
		"router-eth1.pcap",
		"server-eth0.pcap",
	};
	char path[256];

	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
}

static int one_sample(const char *dir, double ms[NPHASES], struct sl_err *e)
{
	struct sl_cleanup c = { 0 };
	struct sl_topology t;
	struct sl_observer *o = NULL;
	struct sl_timeline tl;
	int64_t t0 = sl_now(), t1;
	int ret;

	sl_timeline_init(&tl);
	ret = sl_topology_up(&t, AF_INET, &c, NULL, e);
	t1 = sl_now();
	ms[PH_UP] = (double)(t1 - t0) / SL_NS_PER_MS;
	if (ret < 0)
		goto out;
	ret = sl_observer_start(&o, &t, dir, NULL, e);
	ms[PH_OBS_START] = (double)(sl_now() - t1) / SL_NS_PER_MS;
	if (ret < 0)
		goto out;
	t1 = sl_now();
	ret = sl_observer_stop(o, &tl, e);
	ms[PH_OBS_STOP] = (double)(sl_now() - t1) / SL_NS_PER_MS;
out:
	t1 = sl_now();
	sl_cleanup_run(&c);
	ms[PH_DOWN] = (double)(sl_now() - t1) / SL_NS_PER_MS;
	ms[PH_TOTAL] = (double)(sl_now() - t0) / SL_NS_PER_MS;
	sl_timeline_free(&tl);
	remove_pcaps(dir);
	return ret;
}

int sl_bench(int n, FILE *out, struct sl_err *e)
{
	char dir[] = "/tmp/socklab-bench-XXXXXX";
	double *ms;
	int ret = 0;

	if (n < 1)
		n = 1;
	ms = calloc((size_t)n * NPHASES, sizeof(double));
	if (!ms)
		return sl_errf(e, 12, "allocate %d samples", n);
	if (!mkdtemp(dir)) {
		free(ms);
		return sl_errf(e, 2,
			       "create a scratch folder for the captures");
	}
	fprintf(out,
		"harness overhead per experiment variant: topology "
		"(3 namespaces, 2 veth pairs, offloads off) up, captures and "
		"sock_diag sampler started and stopped, topology down; %d runs\n",
		n);
	for (int i = 0; i < n && !ret; i++) {
		ret = one_sample(dir, &ms[i * NPHASES], e);
		if (isatty(fileno(out)))
			fprintf(stderr, "\r  run %d/%d", i + 1, n);
	}
	if (isatty(fileno(out)))
		fprintf(stderr, "\r");
	if (!ret) {
		double col[n];

		fprintf(out, "%-18s %10s %10s %10s\n", "phase (ms)", "median",
			"min", "max");
		for (int p = 0; p < NPHASES; p++) {
			for (int i = 0; i < n; i++)
				col[i] = ms[i * NPHASES + p];
			qsort(col, n, sizeof(double), cmp_double);
			fprintf(out, "%-18s %10.1f %10.1f %10.1f\n",
				phase_name[p],
				n % 2 ? col[n / 2] :
					(col[n / 2 - 1] + col[n / 2]) / 2,
				col[0], col[n - 1]);
			if (p == PH_TOTAL)
				fprintf(out,
					"target: <= %.0f ms per experiment "
					"(median): %s\n",
					SL_BENCH_TARGET_MS,
					(n % 2 ? col[n / 2] :
						 (col[n / 2 - 1] + col[n / 2]) /
							 2) <=
							SL_BENCH_TARGET_MS ?
						"met" :
						"NOT met");
		}
	}
	rmdir(dir);
	free(ms);
	return ret;
}
