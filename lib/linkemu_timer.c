/* linkemu_timer.c: the link emulator's clock (linkemu_proto.h): the timer
 * that releases delayed packets, the scheduling of the thread that waits on
 * it, the PRNG of loss and reorder, and the timer's error on this machine
 * for `socklab doctor` (sl_linkemu_measure_timer, linkemu.h).
 *
 * The special problem of a delay line in user space: a packet is only
 * as late as the timer that releases it.  libev's epoll backend sleeps in
 * epoll_wait(), whose timeout is in milliseconds and rounded up, so
 * ev_timer lets a 10 ms delay come out anywhere in 10..11 ms plus the
 * wake-up latency.  The emulator instead arms one timerfd (CLOCK_MONOTONIC,
 * absolute, nanoseconds) for the earliest due packet and watches it as an
 * ev_io, and its only thread runs SCHED_FIFO (with SCHED_RESET_ON_FORK,
 * so that nothing forked from it would inherit the policy): a timer
 * that expires while the other core spins in a busy loop then preempts
 * the loop at once instead of waiting for the scheduler to give us our
 * share.  SCHED_FIFO is a setting of this one thread, not of the machine;
 * where it is refused (no CAP_SYS_NICE) the emulator runs SCHED_OTHER and
 * `socklab doctor` says so.  The delay of a packet counts from the moment
 * the emulator read it from the queue.
 *
 * Measured on this project's build machine (a 2-core VM, kernel 6.18,
 * HZ=250, no sch_netem), end to end: the handshake RTT the client's kernel
 * reports (tcpi_rtt) with a 10 ms delay on the client's direction, minus
 * 10 ms and minus the RTT without the fault (tests/test_linkemu.c, 200
 * handshakes a run, 14 runs, other developers' builds running beside):
 *
 *			median		p99		max
 *	idle		44..150 us	114..490 us	0.19..1.0 ms
 *	other core busy	47..79 us	83..320 us	0.15..1.3 ms
 *
 * (2.8 ms once, while other test suites ran on both cores; on a quiet
 * machine, other core busy, 2000 handshakes: median 63 us, p99 152 us,
 * max 382 us).  The error is always late, never early: the queue's round
 * trip through user space plus the timer.  The timer alone (3000 timers
 * 0.2 to 5 ms ahead, lateness; sl_linkemu_measure_timer() is this):
 *
 *				median		p99		max
 *	ev_timer, SCHED_OTHER	600 us		2.6 ms		4.5 ms
 *	ev_timer, SCHED_FIFO	520 us		1.0 ms		1.1 ms
 *	timerfd, SCHED_OTHER	35..79 us	0.17..1.7 ms	0.9..8 ms
 *	timerfd, SCHED_FIFO	23..82 us	88..155 us	0.25..1.7 ms
 *
 * hence timerfd and SCHED_FIFO.  A busy-wait for the last part of each
 * delay would shave the median further, but the median is already a
 * twentieth of the 2 ms budget, and spinning would take a whole core away
 * from the hosts whose timing the experiments measure (two cores here).
 * What is left in the tail is the host taking the VM's CPU away, which
 * no setting of ours can prevent: `socklab doctor` measures the timer on
 * the machine at hand and prints it.
 *
 * Loss and reorder draw from a PRNG of their own per fault (xorshift64*),
 * seeded with SOCKLAB_SEED (default 1) plus the fault's id, so a run is
 * repeatable and the seed is printed with the fault.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "clock.h"
#include "err.h"
#include "linkemu_proto.h"

#define FIFO_PRIO 10

/* xorshift64*: small, fast, and the same sequence for the same seed on
 * every machine, which is all a repeatable loss pattern needs. */
static uint64_t rnd_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

double sl__le_rnd_unit(uint64_t *s)
{
	return (double)(rnd_next(s) >> 11) * 0x1p-53;
}

uint64_t sl__le_rnd_seed(uint32_t seed)
{
	/* splitmix64 of the seed: never 0, and seeds 1 and 2 start far
	 * apart. */
	uint64_t z = (uint64_t)seed + 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return z ? z : 1;
}

/* SCHED_FIFO for this thread when allowed (see the top of the file).
 * SOCKLAB_LINKEMU_FIFO=0 turns it off, to measure what it buys. */
int sl__le_sched(void)
{
	struct sched_param sp = { .sched_priority = FIFO_PRIO };
	const char *env = getenv("SOCKLAB_LINKEMU_FIFO");

	if (env && !strcmp(env, "0"))
		return 0;
	return sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) ==
	       0;
}

void sl__le_arm_timer(int tfd, int64_t due)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };

	if (due > 0) {
		its.it_value.tv_sec = due / SL_NS_PER_SEC;
		its.it_value.tv_nsec = due % SL_NS_PER_SEC;
	}
	timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* ---- the timer alone, for the doctor ---- */

struct tmeasure {
	struct ev_loop *loop;
	ev_io w;
	int tfd;
	int64_t due;
	int64_t late;
};

static void tmeasure_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct tmeasure *tm = w->data;
	uint64_t ticks;

	(void)revents;
	if (read(tm->tfd, &ticks, sizeof(ticks)) < 0)
		return;
	tm->late = sl_now() - tm->due;
	ev_break(loop, EVBREAK_ONE);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The child: arms n timers one after the other, 0.2 to 5 ms ahead (the
 * gaps a delay line sees between packets), and writes the sorted
 * lateness values (ns) and its scheduling to fd. */
static void tmeasure_main(int n, int fd)
{
	struct tmeasure tm = { 0 };
	uint64_t rng = sl__le_rnd_seed(1);
	int64_t *late = calloc(n, sizeof(*late));
	int fifo = sl__le_sched();

	tm.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	tm.loop = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV);
	if (!late || tm.tfd < 0 || !tm.loop)
		_exit(1);
	ev_io_init(&tm.w, tmeasure_cb, tm.tfd, EV_READ);
	tm.w.data = &tm;
	ev_io_start(tm.loop, &tm.w);
	for (int i = 0; i < n; i++) {
		tm.due = sl_now() + 200000 +
			 (int64_t)(sl__le_rnd_unit(&rng) * 4800000);
		sl__le_arm_timer(tm.tfd, tm.due);
		ev_run(tm.loop, 0);
		late[i] = tm.late;
	}
	qsort(late, n, sizeof(*late), cmp_i64);
	if (write(fd, &fifo, sizeof(fifo)) < 0 ||
	    write(fd, late, n * sizeof(*late)) < 0)
		_exit(1);
	_exit(0);
}

/* Reads up to want bytes from fd; returns how many came before the end or
 * an error. */
static size_t read_upto(int fd, char *buf, size_t want)
{
	size_t got = 0;
	ssize_t r;

	while (got < want) {
		r = read(fd, buf + got, want - got);
		if (r > 0)
			got += r;
		else if (r == 0 || errno != EINTR)
			break;
	}
	return got;
}

int sl_linkemu_measure_timer(int n, struct sl_linkemu_timer_error *out,
			     struct sl_err *e)
{
	int64_t *late;
	int pfd[2], status, ret = 0;
	size_t want = sizeof(int) + n * sizeof(int64_t), got;
	char *buf;
	pid_t pid;

	if (n < 1)
		return sl_errf(e, EINVAL, "timer measure: n = %d", n);
	buf = malloc(want);
	if (!buf)
		return sl_errf(e, ENOMEM, "timer measure");
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		free(buf);
		return sl_errf(e, errno, "timer measure: pipe");
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		ret = sl_errf(e, errno, "timer measure: fork");
		close(pfd[0]);
		close(pfd[1]);
		free(buf);
		return ret;
	}
	if (pid == 0) {
		close(pfd[0]);
		tmeasure_main(n, pfd[1]);
	}
	close(pfd[1]);
	got = read_upto(pfd[0], buf, want);
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got < want) {
		free(buf);
		return sl_errf(e, EIO,
			       "timer measure: the child gave %zu of "
			       "%zu bytes",
			       got, want);
	}
	late = malloc(n * sizeof(*late));
	if (!late) {
		free(buf);
		return sl_errf(e, ENOMEM, "timer measure");
	}
	memcpy(&out->fifo, buf, sizeof(int));
	memcpy(late, buf + sizeof(int), n * sizeof(*late));
	out->n = n;
	out->median_us = late[n / 2] / 1e3;
	out->p99_us = late[(n * 99) / 100] / 1e3;
	out->max_us = late[n - 1] / 1e3;
	free(late);
	free(buf);
	return 0;
}
