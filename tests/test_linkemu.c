/* test_linkemu.c: socklab's own link emulator (lib/linkemu.c), on a real
 * topology, against what the kernel observes.
 *
 * The backend is forced to "linkemu" (SOCKLAB_LINKEMU_BACKEND), so these
 * tests check the emulator even on a machine with sch_netem;
 * test_linkemu_netem.c checks netem where it exists.  Needs root and
 * network namespaces: without them the test exits 77 (skipped) and says
 * why.
 *
 *  - delay: the client's kernel's handshake RTT (TCP_INFO) minus the RTT
 *    without the fault is the delay within 2 ms, for every one of 200
 *    handshakes, idle and with the other core busy; the error
 *    distribution is printed;
 *  - loss: 2000 datagrams, a loss rate inside the binomial bound (99.9 %),
 *    exactly the datagrams the emulator says it dropped are missing, and
 *    the same seed loses the same datagrams again;
 *  - drop: the segments missing at the server's interface (libpcap) are
 *    exactly the next N that matched the pattern, once;
 *  - reorder: the share of datagrams that overtook an earlier one;
 *  - lift and stop: the rules go, the process ends, the path is clean.
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "ipaddr.h"
#include "capture.h"
#include "exec.h"
#include "packet.h"
#include "sweep.h"
#include "test_linkemu_util.h"

#define UDP_PORT (LE_PORT + 1)
#define NDGRAM 2000

static int rule_present(struct le_fixture *f, const char *in, const char *q)
{
	const char *argv[] = { "ip",	      "netns",
			       "exec",	      f->t.host[SL_HOST_ROUTER].netns,
			       "iptables",    "-w",
			       "-t",	      "mangle",
			       "-C",	      "FORWARD",
			       "-i",	      in,
			       "-j",	      "NFQUEUE",
			       "--queue-num", q,
			       NULL };
	struct sl_err e;

	return sl_exec(argv, &e) == 0;
}

static void delay_accuracy(struct le_fixture *f, int busy)
{
	long base = le_base_rtt(f, 31);
	int id;

	if (busy)
		le_busy_start(f);
	id = le_apply(f,
		      &(struct sl_fault){ .kind = "delay",
					  .from = "client",
					  .delay_ms = 10 },
		      "linkemu");
	le_check_rtts(f, 200, base, 10000,
		      busy ? "delay 10 ms, other core busy: RTT error" :
			     "delay 10 ms, idle: RTT error");
	le_busy_stop(f);
	assert_int_equal(sl_linkemu_lift(&f->t, id, &f->e), 0);
	assert_false(rule_present(f, "eth0", "0"));
	/* Lifted: the path is as fast as before. */
	le_check_rtts(f, 20, base, 0, "after lift: RTT error");
}

static void test_delay_idle(void **state)
{
	delay_accuracy(*state, 0);
}

static void test_delay_busy(void **state)
{
	delay_accuracy(*state, 1);
}

/* Each direction counts on its own, both add up, and the claim's own
 * figure (110 ms) holds too. */
static void test_delay_directions(void **state)
{
	struct le_fixture *f = *state;
	long base = le_base_rtt(f, 31);
	int id;

	id = le_apply(f,
		      &(struct sl_fault){ .kind = "delay",
					  .from = "server",
					  .delay_ms = 20 },
		      "linkemu");
	assert_true(rule_present(f, "eth1", "1"));
	assert_false(rule_present(f, "eth0", "0"));
	le_check_rtts(f, 20, base, 20000, "delay 20 ms from server: RTT error");
	assert_int_equal(sl_linkemu_lift(&f->t, id, &f->e), 0);

	id = le_apply(f, &(struct sl_fault){ .kind = "delay", .delay_ms = 15 },
		      "linkemu");
	le_check_rtts(f, 20, base, 30000, "delay 15 ms both ways: RTT error");
	assert_int_equal(sl_linkemu_lift(&f->t, id, &f->e), 0);

	id = le_apply(f,
		      &(struct sl_fault){ .kind = "delay",
					  .from = "client",
					  .delay_ms = 110 },
		      "linkemu");
	le_check_rtts(f, 10, base, 110000, "delay 110 ms: RTT error");
	assert_int_equal(sl_linkemu_lift(&f->t, id, &f->e), 0);
}

/* Jitter spreads the delay over [D - J, D + J]. */
static void test_delay_jitter(void **state)
{
	struct le_fixture *f = *state;
	long base = le_base_rtt(f, 31), v[60], stolen;
	struct le_witness w;

	le_apply(f,
		 &(struct sl_fault){ .kind = "delay",
				     .from = "client",
				     .delay_ms = 10,
				     .jitter_ms = 5 },
		 "linkemu");
	/* Within 2 ms of the range, plus what the machine took away
	 * meanwhile (le_check_rtts() says why). */
	le_witness_start(&w);
	for (int i = 0; i < 60; i++)
		v[i] = le_handshake_us(f) - base;
	stolen = le_witness_stop(&w);
	for (int i = 0; i < 60; i++)
		assert_true(v[i] >= 5000 - 2000 &&
			    v[i] <= 15000 + 2000 + stolen);
	le_summary("delay 10 +- 5 ms: added RTT", v, 60);
	/* Spread, not a constant: the 60 draws cover most of the range. */
	assert_true(v[59] - v[0] > 6000);
}

/* ---- datagrams: loss and reorder ---- */

struct dgrams {
	int sfd, cfd;
	int got[NDGRAM];   /* arrival rank of datagram i, -1 lost */
	int order[NDGRAM]; /* indexes in arrival order */
	int n;
};

static void dgram_open(struct le_fixture *f, struct dgrams *d)
{
	struct sockaddr_in a = le_addr(f, SL_HOST_SERVER, UDP_PORT);
	int big = 16 << 20;

	d->sfd = le_socket(f, SL_HOST_SERVER, SOCK_DGRAM);
	d->cfd = le_socket(f, SL_HOST_CLIENT, SOCK_DGRAM);
	assert_true(d->sfd >= 0 && d->cfd >= 0);
	assert_int_equal(setsockopt(d->sfd, SOL_SOCKET, SO_RCVBUFFORCE, &big,
				    sizeof(big)),
			 0);
	assert_int_equal(bind(d->sfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(connect(d->cfd, (struct sockaddr *)&a, sizeof(a)), 0);
}

static void dgram_drain(struct dgrams *d)
{
	uint32_t idx;

	while (recv(d->sfd, &idx, sizeof(idx), MSG_DONTWAIT) ==
	       (ssize_t)sizeof(idx))
		if (idx < NDGRAM && d->got[idx] < 0) {
			d->got[idx] = d->n;
			d->order[d->n++] = idx;
		}
}

/* Sends NDGRAM numbered datagrams from client to server, in bursts of 20
 * (paced so that nothing but the fault can lose one: the router's
 * backlog holds 1000), and collects them until the path has been quiet
 * for 200 ms. */
static void dgram_run(struct dgrams *d)
{
	struct timespec pause = { 0, 200000 };
	int64_t quiet;

	for (int i = 0; i < NDGRAM; i++)
		d->got[i] = -1;
	d->n = 0;
	for (uint32_t i = 0; i < NDGRAM; i++) {
		assert_int_equal(send(d->cfd, &i, sizeof(i), 0), sizeof(i));
		if (i % 20 == 19) {
			nanosleep(&pause, NULL);
			dgram_drain(d);
		}
	}
	quiet = sl_now();
	while (sl_now() - quiet < 200 * SL_NS_PER_MS) {
		int before = d->n;
		struct pollfd p = { .fd = d->sfd, .events = POLLIN };

		poll(&p, 1, 20);
		dgram_drain(d);
		if (d->n != before)
			quiet = sl_now();
	}
}

static void dgram_close(struct dgrams *d)
{
	close(d->sfd);
	close(d->cfd);
}

static void test_loss(void **state)
{
	struct le_fixture *f = *state;
	static struct dgrams d, again;
	struct sl_linkemu_stats st;
	int id, lost;

	dgram_open(f, &d);
	id = le_apply(f,
		      &(struct sl_fault){
			      .kind = "loss", .from = "client", .loss = 0.1 },
		      "linkemu");
	dgram_run(&d);
	assert_int_equal(sl_linkemu_stats(id, &st), 0);
	lost = NDGRAM - d.n;
	printf("# loss 10%% of %d datagrams (seed %u): %d lost, emulator "
	       "saw %llu and dropped %llu\n",
	       NDGRAM, st.seed, lost, (unsigned long long)st.seen,
	       (unsigned long long)st.dropped);
	/* Binomial(2000, 0.1): mean 200, sd 13.4; 3.29 sd is the two-sided
	 * 99.9 % bound. */
	assert_in_range(lost, 200 - 44, 200 + 44);
	/* Nothing else lost a datagram, and nothing was counted twice. */
	assert_int_equal(st.seen, NDGRAM);
	assert_int_equal(st.dropped, (uint64_t)lost);
	/* Loss never reorders. */
	for (int i = 1; i < d.n; i++)
		assert_true(d.order[i] > d.order[i - 1]);

	/* A new emulator with the same seed loses the same datagrams. */
	sl_linkemu_stop();
	assert_int_equal(sl_linkemu_start(&f->t, &f->c, &f->e), 0);
	again.sfd = d.sfd;
	again.cfd = d.cfd;
	assert_int_equal(le_apply(f,
				  &(struct sl_fault){ .kind = "loss",
						      .from = "client",
						      .loss = 0.1 },
				  "linkemu"),
			 id);
	dgram_run(&again);
	for (int i = 0; i < NDGRAM; i++)
		assert_int_equal(d.got[i] < 0, again.got[i] < 0);
	dgram_close(&d);
}

static void test_reorder(void **state)
{
	struct le_fixture *f = *state;
	static struct dgrams d;
	struct sl_linkemu_stats st;
	int id, ahead = 0;

	dgram_open(f, &d);
	id = le_apply(f,
		      &(struct sl_fault){ .kind = "reorder",
					  .from = "client",
					  .reorder_pct = 25 },
		      "linkemu");
	dgram_run(&d);
	assert_int_equal(sl_linkemu_stats(id, &st), 0);
	/* Reorder loses nothing. */
	assert_int_equal(d.n, NDGRAM);
	/* Sent ahead: arrived before a datagram sent earlier. */
	for (int i = 1; i < NDGRAM; i++) {
		int first_later = 1;

		for (int k = 0; k < i && first_later; k++)
			if (d.got[k] > d.got[i])
				first_later = 0;
		ahead += !first_later;
	}
	printf("# reorder 25%% of %d datagrams (seed %u): %d sent ahead, "
	       "emulator counted %llu\n",
	       NDGRAM, st.seed, ahead, (unsigned long long)st.reordered);
	/* 500 expected; the binomial 99.9 % bound (+-64) is wider than this
	 * chain's spread, so it is a fair bound. */
	assert_in_range(ahead, 500 - 64, 500 + 64);
	assert_int_equal(st.reordered, (uint64_t)ahead);
	/* Only neighbours swap: no datagram arrives more than one place
	 * early. */
	for (int i = 0; i < NDGRAM; i++)
		assert_true(abs(d.got[i] - i) <= 1);
	dgram_close(&d);
}

/* ---- one-shot drops, seen by libpcap ---- */

#define CAPMAX 512

struct caplist {
	int n;
	struct sl_packet p[CAPMAX];
};

static void cap_cb(void *arg, const struct sl_packet *pkt, int64_t t)
{
	struct caplist *l = arg;

	(void)t;
	if (l->n < CAPMAX)
		l->p[l->n++] = *pkt;
}

struct caps {
	char dir[64];
	struct sl_capture *c[2]; /* client eth0, server eth0 */
	struct caplist l[2];
};

static void caps_open(struct le_fixture *f, struct caps *k)
{
	static const int host[2] = { SL_HOST_CLIENT, SL_HOST_SERVER };

	snprintf(k->dir, sizeof(k->dir), "/tmp/sl-linkemu-XXXXXX");
	assert_non_null(mkdtemp(k->dir));
	for (int i = 0; i < 2; i++) {
		char path[128];

		snprintf(path, sizeof(path), "%s/%d.pcap", k->dir, i);
		assert_int_equal(sl_capture_open(&k->c[i],
						 f->t.host[host[i]].nsfd,
						 "eth0", path, &f->e),
				 0);
	}
}

static void caps_poll(struct caps *k, int ms)
{
	int64_t end = sl_now() + (int64_t)ms * SL_NS_PER_MS;

	while (sl_now() < end) {
		struct pollfd p[2] = {
			{ .fd = sl_capture_fd(k->c[0]), .events = POLLIN },
			{ .fd = sl_capture_fd(k->c[1]), .events = POLLIN },
		};

		poll(p, 2, 5);
		for (int i = 0; i < 2; i++)
			sl_capture_dispatch(k->c[i], cap_cb, &k->l[i]);
	}
}

static void caps_close(struct caps *k)
{
	char path[128];

	for (int i = 0; i < 2; i++) {
		sl_capture_dispatch(k->c[i], cap_cb, &k->l[i]);
		sl_capture_close(k->c[i]);
		snprintf(path, sizeof(path), "%s/%d.pcap", k->dir, i);
		unlink(path);
	}
	rmdir(k->dir);
}

static int same_segment(const struct sl_packet *a, const struct sl_packet *b)
{
	return a->ipid == b->ipid && a->seq == b->seq && a->ack == b->ack &&
	       a->flags == b->flags && a->len == b->len && a->sport == b->sport;
}

/* The client's segments that never reached the server's interface, in
 * the order the client sent them: their indexes in the client's list. */
static int missing_at_server(struct le_fixture *f, struct caps *k, int *miss,
			     int max)
{
	struct in6_addr cli = f->t.host[SL_HOST_CLIENT].iface[0].addr;
	int n = 0;

	for (int i = 0; i < k->l[0].n; i++) {
		const struct sl_packet *p = &k->l[0].p[i];
		int found = 0;

		if (!sl_ip_eq(&p->saddr, &cli))
			continue;
		for (int j = 0; j < k->l[1].n && !found; j++)
			found = same_segment(p, &k->l[1].p[j]);
		if (!found && n < max)
			miss[n++] = i;
	}
	return n;
}

static int pure_ack_from(struct le_fixture *f, const struct sl_packet *p,
			 int host)
{
	return sl_ip_eq(&p->saddr, &f->t.host[host].iface[0].addr) &&
	       p->flags == SL_TH_ACK && p->len == 0;
}

/* The handshake's final ACK, "the next pure ACK from client to server",
 * is dropped once; the data segment that follows completes the
 * handshake, and later pure ACKs pass. */
static void test_drop_pure_ack(void **state)
{
	struct le_fixture *f = *state;
	struct sockaddr_in a = le_addr(f, SL_HOST_SERVER, LE_PORT);
	static struct caps k;
	struct sl_linkemu_stats st;
	int fd, afd, id, miss[8], nmiss, pure_acks = 0;
	char buf[16];

	caps_open(f, &k);
	id = le_apply(f,
		      &(struct sl_fault){ .kind = "drop",
					  .from = "client",
					  .flags = ".",
					  .not_flags = "SFRP",
					  .len = SL__LEN(0) },
		      "linkemu");
	fd = le_socket(f, SL_HOST_CLIENT, SOCK_STREAM);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(send(fd, "hello", 5, 0), 5);
	afd = accept(f->lfd, NULL, NULL);
	assert_true(afd >= 0);
	assert_int_equal(recv(afd, buf, sizeof(buf), 0), 5);
	/* A clean close: more pure ACKs from the client, which must pass. */
	shutdown(fd, SHUT_WR);
	assert_int_equal(recv(afd, buf, sizeof(buf), 0), 0);
	close(afd);
	assert_int_equal(recv(fd, buf, sizeof(buf), 0), 0);
	close(fd);
	caps_poll(&k, 100);
	caps_close(&k);

	nmiss = missing_at_server(f, &k, miss, 8);
	assert_int_equal(nmiss, 1);
	assert_int_equal(k.l[0].p[miss[0]].flags, SL_TH_ACK);
	assert_int_equal(k.l[0].p[miss[0]].len, 0);
	/* ... and it was the first pure ACK the client sent. */
	for (int i = 0; i < miss[0]; i++)
		assert_false(pure_ack_from(f, &k.l[0].p[i], SL_HOST_CLIENT));
	for (int i = 0; i < k.l[0].n; i++)
		pure_acks += pure_ack_from(f, &k.l[0].p[i], SL_HOST_CLIENT);
	assert_true(pure_acks >= 2);
	assert_int_equal(sl_linkemu_stats(id, &st), 0);
	assert_int_equal(st.matched, 1);
	assert_int_equal(st.dropped, 1);
	printf("# drop the next pure ACK from client: 1 of %d pure ACKs "
	       "missing at the server, the handshake's\n",
	       pure_acks);
}

/* The next two data segments from the client are dropped, then the same
 * bytes, retransmitted, pass: all 500 bytes arrive. */
static void test_drop_two_data(void **state)
{
	struct le_fixture *f = *state;
	struct sockaddr_in a = le_addr(f, SL_HOST_SERVER, LE_PORT);
	struct timeval tv = { 5, 0 };
	static struct caps k;
	struct sl_linkemu_stats st;
	char buf[100] = { 0 }, in[600];
	int fd, afd, id, miss[8], nmiss, one = 1, got = 0, seen_p = 0;

	caps_open(f, &k);
	fd = le_socket(f, SL_HOST_CLIENT, SOCK_STREAM);
	assert_true(fd >= 0);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	afd = accept(f->lfd, NULL, NULL);
	assert_true(afd >= 0);
	setsockopt(afd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	id = le_apply(f,
		      &(struct sl_fault){ .kind = "drop",
					  .from = "client",
					  .flags = "P",
					  .count = 2 },
		      "linkemu");
	for (int i = 0; i < 5; i++)
		assert_int_equal(send(fd, buf, sizeof(buf), 0), 100);
	while (got < 500) {
		ssize_t r = recv(afd, in, sizeof(in), 0);

		assert_true(r > 0);
		got += r;
	}
	assert_int_equal(got, 500);
	close(afd);
	close(fd);
	caps_poll(&k, 100);
	caps_close(&k);

	nmiss = missing_at_server(f, &k, miss, 8);
	assert_int_equal(nmiss, 2);
	/* Exactly the first two segments with P from the client. */
	for (int i = 0; i < k.l[0].n && seen_p < 2; i++) {
		const struct sl_packet *p = &k.l[0].p[i];

		if (!sl_ip_eq(&p->saddr,
			      &f->t.host[SL_HOST_CLIENT].iface[0].addr) ||
		    !(p->flags & SL_TH_PSH))
			continue;
		assert_int_equal(i, miss[seen_p]);
		seen_p++;
	}
	assert_int_equal(sl_linkemu_stats(id, &st), 0);
	assert_int_equal(st.matched, 2);
	assert_int_equal(st.dropped, 2);
	printf("# drop the next 2 segments with [P] from client: exactly "
	       "those 2 missing at the server, all 500 bytes delivered\n");
}

/* ---- lifecycle and refusals ---- */

static void test_stop(void **state)
{
	struct le_fixture *f = *state;
	pid_t pid = sl__linkemu_pid();
	long base = le_base_rtt(f, 31);

	assert_true(pid > 0);
	le_apply(f, &(struct sl_fault){ .kind = "delay", .delay_ms = 5 },
		 "linkemu");
	assert_true(rule_present(f, "eth0", "0"));
	assert_true(rule_present(f, "eth1", "1"));
	sl_linkemu_stop();
	/* Reaped: gone from the process table. */
	assert_int_equal(kill(pid, 0), -1);
	assert_int_equal(errno, ESRCH);
	assert_false(rule_present(f, "eth0", "0"));
	assert_false(rule_present(f, "eth1", "1"));
	le_check_rtts(f, 10, base, 0, "after stop: RTT error");
	assert_int_equal(sl_linkemu_apply(&f->t,
					  &(struct sl_fault){ .kind = "delay",
							      .delay_ms = 5 },
					  NULL, &f->e),
			 -ENOTCONN);
	sl_linkemu_stop(); /* idempotent */
}

/* Dead (or a zombie nobody has reaped yet: it holds nothing). */
static int gone(pid_t pid)
{
	char path[64], line[256], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 1;
	p = fgets(line, sizeof(line), f);
	fclose(f);
	p = p ? strrchr(line, ')') : NULL;
	return p && (p[2] == 'Z' || p[2] == 'X');
}

/* A run killed outright (SIGKILL: no cleanup at all) takes its emulator
 * with it. */
static void test_dies_with_run(void **state)
{
	struct le_fixture *f = *state;
	int p[2];
	pid_t run, emu;

	(void)f;
	assert_int_equal(pipe(p), 0);
	run = fork();
	if (run == 0) {
		struct le_fixture g;

		if (le_up(&g) < 0)
			_exit(1);
		emu = sl__linkemu_pid();
		if (write(p[1], &emu, sizeof(emu)) < 0)
			_exit(1);
		pause();
		_exit(0);
	}
	assert_int_equal(read(p[0], &emu, sizeof(emu)), sizeof(emu));
	assert_true(emu > 0);
	kill(run, SIGKILL);
	waitpid(run, NULL, 0);
	/* PR_SET_PDEATHSIG: the emulator follows within moments. */
	for (int i = 0; i < 200 && !gone(emu); i++)
		usleep(5000);
	assert_true(gone(emu));
	close(p[0]);
	close(p[1]);
	/* What the killed run left (its namespaces) is removed as stale. */
	sl_sweep_stale(NULL, NULL);
}

static void test_refusals(void **state)
{
	struct le_fixture *f = *state;
	static const struct sl_fault bad[] = {
		{ .kind = "blackhole" },
		{ .kind = "delay", .from = "router", .delay_ms = 5 },
		{ .kind = "delay", .delay_ms = 0 },
		{ .kind = "delay", .delay_ms = 5, .jitter_ms = 6 },
		{ .kind = "loss", .loss = 0 },
		{ .kind = "loss", .loss = 1.5 },
		{ .kind = "reorder", .reorder_pct = 60 },
		{ .kind = "drop", .flags = "Z" },
		{ .kind = NULL },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f->e.msg[0] = '\0';
		assert_int_equal(sl_linkemu_apply(&f->t, &bad[i], NULL, &f->e),
				 -EINVAL);
		assert_true(f->e.msg[0] != '\0');
	}
	assert_int_equal(sl_linkemu_lift(&f->t, 3, &f->e), -ENOENT);
}

/* The commands a learner would type, and what the fault does. */
static void test_cmdlog(void **state)
{
	struct le_fixture *f = *state;
	char *text = NULL;
	size_t len = 0;
	FILE *log = open_memstream(&text, &len);
	char want[160];

	assert_true(sl_linkemu_apply(&f->t,
				     &(struct sl_fault){ .kind = "loss",
							 .from = "server",
							 .loss = 0.25 },
				     log, &f->e) >= 0);
	fclose(log);
	printf("%s", text);
	snprintf(want, sizeof(want),
		 "ip netns exec %s iptables -w -t mangle "
		 "-A FORWARD -i eth1 -j NFQUEUE --queue-num 1",
		 f->t.host[SL_HOST_ROUTER].netns);
	assert_non_null(strstr(text, want));
	assert_non_null(strstr(text, "backend linkemu"));
	assert_non_null(strstr(text, "seed 1"));
	free(text);
}

/* The timer alone, as the doctor measures it.  How late the timer is
 * depends on the machine and its load (the doctor reports it, and the
 * delays' tolerances derive from it): what must hold anywhere is that all
 * n timers were measured and that the figures are ordered, never a bound
 * tuned on one machine. */
static void test_timer(void **state)
{
	struct sl_linkemu_timer_error te;
	struct sl_err e;

	(void)state;
	assert_int_equal(sl_linkemu_measure_timer(500, &te, &e), 0);
	printf("# timer lateness (n=%d, %s): median %.0f us, p99 %.0f us, "
	       "max %.0f us\n",
	       te.n, te.fifo ? "SCHED_FIFO" : "SCHED_OTHER", te.median_us,
	       te.p99_us, te.max_us);
	assert_int_equal(te.n, 500);
	assert_true(te.median_us >= 0);
	assert_true(te.median_us <= te.p99_us && te.p99_us <= te.max_us);
}

static const char *why_not_runnable(void)
{
	static char why[160];
	int status;
	pid_t pid;

	if (geteuid() != 0)
		return "needs root (namespaces, iptables, NFQUEUE)";
	pid = fork();
	if (pid == 0)
		_exit(unshare(CLONE_NEWNET) == 0 ? 0 : errno);
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return "probe of unshare(CLONE_NEWNET) failed";
	if (WEXITSTATUS(status)) {
		snprintf(why, sizeof(why), "unshare(CLONE_NEWNET): %s",
			 strerror(WEXITSTATUS(status)));
		return why;
	}
	return NULL;
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, le_setup, le_teardown)
	const struct CMUnitTest tests[] = {
		T(test_refusals),
		T(test_cmdlog),
		T(test_delay_idle),
		T(test_delay_busy),
		T(test_delay_directions),
		T(test_delay_jitter),
		T(test_loss),
		T(test_reorder),
		T(test_drop_pure_ack),
		T(test_drop_two_data),
		T(test_stop),
		cmocka_unit_test(test_dies_with_run),
		cmocka_unit_test(test_timer),
	};
	const char *why = why_not_runnable();

	if (why) {
		printf("skipped: %s\n", why);
		return 77;
	}
	setenv("SOCKLAB_LINKEMU_BACKEND", "linkemu", 1);
	unsetenv("SOCKLAB_SEED");
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
