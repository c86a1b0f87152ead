/* test_sockstate.c: sock_diag dumps and ss-style text (lib/sockstate.c).
 *
 * Two parts in one executable.  The unit part needs nothing: state names in
 * both directions, timer texts and lines for hand-filled sockets, and the
 * error path of opening in a namespace.  The live part needs root and
 * network namespaces (it is skipped with the reason otherwise): it builds
 * two namespaces joined by a veth pair, drives a connection through
 * LISTEN, ESTAB, FIN-WAIT-2 and TIME-WAIT, and checks each dump against what
 * the kernel must report and against `ss -tanoi` run on the same sockets.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cmocka.h>

#include "ipaddr.h"
#include "clock.h"
#include "err.h"
#include "exec.h"
#include "sockstate.h"

/* ---------------------------------------------------------------- unit */

/* An address of a dump (ipaddr.h) is the IPv4 one the socket has. */
static void assert_addr4(const struct in6_addr *a, struct in_addr want)
{
	assert_true(sl_ip_is4(a));
	assert_int_equal(sl_ip_to4(a).s_addr, want.s_addr);
}

static void test_state_names_round_trip(void **state)
{
	static const char *const ss_names[] = {
		[TCP_ESTABLISHED] = "ESTAB",	[TCP_SYN_SENT] = "SYN-SENT",
		[TCP_SYN_RECV] = "SYN-RECV",	[TCP_FIN_WAIT1] = "FIN-WAIT-1",
		[TCP_FIN_WAIT2] = "FIN-WAIT-2", [TCP_TIME_WAIT] = "TIME-WAIT",
		[TCP_CLOSE] = "UNCONN",		[TCP_CLOSE_WAIT] = "CLOSE-WAIT",
		[TCP_LAST_ACK] = "LAST-ACK",	[TCP_LISTEN] = "LISTEN",
		[TCP_CLOSING] = "CLOSING",	[12] = "NEW-SYN-RECV",
	};

	(void)state;
	for (int st = TCP_ESTABLISHED; st <= 12; st++) {
		assert_string_equal(sl_state_name(st), ss_names[st]);
		assert_int_equal(sl_state_parse(sl_state_name(st)), st);
	}
	assert_string_equal(sl_state_name(0), "?");
	assert_string_equal(sl_state_name(13), "?");
	assert_string_equal(sl_state_name(-1), "?");
	assert_string_equal(sl_state_name(255), "?");
}

static void test_state_parse_spellings(void **state)
{
	static const struct {
		const char *name;
		int state;
	} cases[] = {
		{ "TIME_WAIT", TCP_TIME_WAIT },
		{ "time-wait", TCP_TIME_WAIT },
		{ "TCP_TIME_WAIT", TCP_TIME_WAIT },
		{ "ESTABLISHED", TCP_ESTABLISHED },
		{ "estab", TCP_ESTABLISHED },
		{ "TCP_ESTABLISHED", TCP_ESTABLISHED },
		{ "SYN_SENT", TCP_SYN_SENT },
		{ "syn_recv", TCP_SYN_RECV },
		{ "FIN_WAIT1", TCP_FIN_WAIT1 },
		{ "fin-wait-1", TCP_FIN_WAIT1 },
		{ "FIN_WAIT2", TCP_FIN_WAIT2 },
		{ "CLOSE", TCP_CLOSE },
		{ "CLOSED", TCP_CLOSE },
		{ "TCP_CLOSE", TCP_CLOSE },
		{ "unconn", TCP_CLOSE },
		{ "CLOSE_WAIT", TCP_CLOSE_WAIT },
		{ "LAST_ACK", TCP_LAST_ACK },
		{ "Listen", TCP_LISTEN },
		{ "CLOSING", TCP_CLOSING },
		{ "NEW_SYN_RECV", 12 },
		/* Near misses must not match. */
		{ "", -1 },
		{ "EST", -1 },
		{ "ESTABX", -1 },
		{ "TIME WAIT", -1 },
		{ "FIN-WAIT", -1 },
		{ "TCP_", -1 },
		{ "?", -1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = sl_state_parse(cases[i].name);

		if (got != cases[i].state)
			fail_msg("sl_state_parse(\"%s\") = %d, want %d",
				 cases[i].name, got, cases[i].state);
	}
	assert_int_equal(sl_state_parse(NULL), -1);
}

static void test_timer_text(void **state)
{
	/* Expected texts follow ss's print_ms_timer() (iproute2 misc/ss.c). */
	static const struct {
		uint8_t timer;
		uint32_t ms;
		uint8_t retrans;
		const char *text;
	} cases[] = {
		{ SL_TIMER_NONE, 1234, 0, "" },
		{ SL_TIMER_ON, 200, 0, "timer:(on,200ms,0)" },
		{ SL_TIMER_ON, 5, 1, "timer:(on,005ms,1)" },
		{ SL_TIMER_ON, 1000, 0, "timer:(on,1sec,0)" },
		{ SL_TIMER_ON, 0, 2, "timer:(on,,2)" },
		{ SL_TIMER_KEEPALIVE, 7200, 0, "timer:(keepalive,7.200ms,0)" },
		{ SL_TIMER_KEEPALIVE, 9999, 3, "timer:(keepalive,9.999ms,3)" },
		{ SL_TIMER_KEEPALIVE, 10500, 0, "timer:(keepalive,10sec,0)" },
		{ SL_TIMER_KEEPALIVE, 61000, 0,
		  "timer:(keepalive,1min1sec,0)" },
		{ SL_TIMER_KEEPALIVE, 125500, 0,
		  "timer:(keepalive,2min5sec,0)" },
		{ SL_TIMER_KEEPALIVE, 605000, 0, "timer:(keepalive,10min,0)" },
		{ SL_TIMER_KEEPALIVE, 7199999, 0,
		  "timer:(keepalive,119min,0)" },
		{ SL_TIMER_TIMEWAIT, 59000, 0, "timer:(timewait,59sec,0)" },
		{ SL_TIMER_TIMEWAIT, 59876, 0, "timer:(timewait,59sec,0)" },
		{ SL_TIMER_TIMEWAIT, 60000, 0, "timer:(timewait,1min,0)" },
		{ SL_TIMER_PERSIST, 1500, 4, "timer:(persist,1.500ms,4)" },
		{ 7, 300, 0, "timer:(unknown,300ms,0)" },
	};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sl_sock s = {
			.timer = cases[i].timer,
			.expires_ms = cases[i].ms,
			.retrans = cases[i].retrans,
		};
		int len;

		memset(buf, 'x', sizeof(buf));
		len = sl_sock_format_timer(&s, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].text);
		assert_int_equal(len, strlen(cases[i].text));
	}
}

static struct sl_sock mk(int st, const char *la, uint16_t lp, const char *ra,
			 uint16_t rp, uint32_t rq, uint32_t wq)
{
	struct sl_sock s = {
		.state = st,
		.lport = lp,
		.rport = rp,
		.rqueue = rq,
		.wqueue = wq,
	};

	assert_int_equal(sl_ip_pton(la, &s.laddr), 0);
	assert_int_equal(sl_ip_pton(ra, &s.raddr), 0);
	return s;
}

static void test_line_format(void **state)
{
	struct sl_sock tw = mk(TCP_TIME_WAIT, "198.18.3.2", 41234, "198.19.3.2",
			       5000, 0, 0);
	struct sl_sock ls =
		mk(TCP_LISTEN, "0.0.0.0", 5000, "0.0.0.0", 0, 1, 128);
	struct sl_sock es = mk(TCP_ESTABLISHED, "198.19.3.2", 5000,
			       "198.18.3.2", 41234, 100, 0);
	struct sl_sock un = mk(TCP_CLOSE, "0.0.0.0", 0, "0.0.0.0", 0, 0, 0);
	struct sl_sock on =
		mk(TCP_SYN_SENT, "10.0.0.1", 40000, "10.0.0.2", 80, 0, 1);
	char buf[160];
	const char *want;
	int len;

	(void)state;
	tw.timer = SL_TIMER_TIMEWAIT;
	tw.expires_ms = 59400;
	want = "TIME-WAIT 0 0 198.18.3.2:41234 198.19.3.2:5000 "
	       "timer:(timewait,59sec,0)";
	len = sl_sock_format(&tw, buf, sizeof(buf));
	assert_string_equal(buf, want);
	assert_int_equal(len, strlen(want));

	/* A listener: accept queue fill and backlog, and the peer as ss
	 * writes an unconnected one. */
	sl_sock_format(&ls, buf, sizeof(buf));
	assert_string_equal(buf, "LISTEN 1 128 0.0.0.0:5000 0.0.0.0:*");

	/* No timer: no trailing blank. */
	sl_sock_format(&es, buf, sizeof(buf));
	assert_string_equal(buf, "ESTAB 100 0 198.19.3.2:5000 "
				 "198.18.3.2:41234");

	sl_sock_format(&un, buf, sizeof(buf));
	assert_string_equal(buf, "UNCONN 0 0 0.0.0.0:* 0.0.0.0:*");

	on.timer = SL_TIMER_ON;
	on.expires_ms = 3000;
	on.retrans = 1;
	sl_sock_format(&on, buf, sizeof(buf));
	assert_string_equal(buf, "SYN-SENT 0 1 10.0.0.1:40000 10.0.0.2:80 "
				 "timer:(on,3sec,1)");

	/* Truncation: the length is what fits, and the text stays a C
	 * string. */
	len = sl_sock_format(&tw, buf, 10);
	assert_int_equal(len, 9);
	assert_string_equal(buf, "TIME-WAIT");
	len = sl_sock_format_timer(&tw, buf, 7);
	assert_int_equal(len, 6);
	assert_string_equal(buf, "timer:");
	assert_int_equal(sl_sock_format(&tw, buf, 0), 0);
}

static ino_t own_netns(void)
{
	struct stat st;

	assert_int_equal(stat("/proc/thread-self/ns/net", &st), 0);
	return st.st_ino;
}

static void test_open_bad_namespace(void **state)
{
	struct sl_sockdiag *d = (struct sl_sockdiag *)&d;
	struct sl_err e = { "" };
	ino_t before = own_netns();
	int fd, ret;

	(void)state;
	/* Not a namespace file: setns() refuses with EINVAL, with or without
	 * privileges, and the thread must stay where it was. */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	ret = sl_sockdiag_open(&d, fd, &e);
	close(fd);
	assert_int_equal(ret, -EINVAL);
	assert_null(d);
	assert_non_null(strstr(e.msg, "in namespace"));
	assert_non_null(strstr(e.msg, strerror(EINVAL)));
	assert_true(own_netns() == before);
}

static void test_open_own_namespace(void **state)
{
	struct sl_sockdiag *d = NULL;
	struct sl_sock socks[64];
	struct sl_err e = { "" };
	int n = -1;

	(void)state;
	/* sock_diag needs no privilege to read one's own namespace; this only
	 * reads, it creates no socket in the machine's namespace. */
	if (sl_sockdiag_open(&d, -1, &e) < 0)
		fail_msg("%s", e.msg);
	if (sl_sockdiag_dump(d, socks, 64, &n, &e) < 0)
		fail_msg("%s", e.msg);
	assert_true(n >= 0 && n <= 64);
	sl_sockdiag_close(d);
	sl_sockdiag_close(NULL);
}

/* ---------------------------------------------------------------- live */

#define CLIENT_ADDR "198.18.254.1"
#define SERVER_ADDR "198.18.254.2"
#define SERVER_PORT 5000
#define BACKLOG 16
#define MAXSOCK 64
#define WAIT_MS 3000

struct live {
	char ns[2][64]; /* client, server */
	bool made[2];
	int nsfd[2];
	struct sl_sockdiag *d[2];
	char skip[256]; /* set when the live tests cannot run here */
};

enum { C = 0, S = 1 };

static int ip(struct sl_err *e, ...)
{
	const char *argv[16];
	va_list ap;
	int i = 0;

	argv[i++] = "ip";
	va_start(ap, e);
	while (i < 15 && (argv[i] = va_arg(ap, const char *)))
		i++;
	va_end(ap);
	argv[i] = NULL;
	return sl_exec(argv, e);
}

static int live_teardown(void **state);

/* cmocka runs no teardown after a failed setup, so setup undoes itself. */
static int live_setup_failed(void **state, const char *why)
{
	print_error("setup: %s\n", why);
	live_teardown(state);
	*state = NULL;
	return -1;
}

static int live_setup(void **state)
{
	struct live *l = calloc(1, sizeof(*l));
	struct sl_err e = { "" };
	char path[128];

	assert_non_null(l);
	*state = l;
	l->nsfd[C] = l->nsfd[S] = -1;
	if (geteuid() != 0) {
		snprintf(l->skip, sizeof(l->skip),
			 "not root: namespaces and veth need CAP_NET_ADMIN");
		return 0;
	}
	for (int h = 0; h < 2; h++) {
		snprintf(l->ns[h], sizeof(l->ns[h]), "socklab-test-sd-%d-%s",
			 (int)getpid(), h == C ? "c" : "s");
		if (ip(&e, "netns", "add", l->ns[h], NULL) < 0) {
			snprintf(l->skip, sizeof(l->skip),
				 "network namespaces unavailable: %.200s",
				 e.msg);
			return 0;
		}
		l->made[h] = true;
		snprintf(path, sizeof(path), "/run/netns/%s", l->ns[h]);
		l->nsfd[h] = open(path, O_RDONLY | O_CLOEXEC);
		if (l->nsfd[h] < 0) {
			sl_errf(&e, errno, "open %s", path);
			return live_setup_failed(state, e.msg);
		}
	}
	/* The pair is created straight into the two namespaces, so nothing
	 * ever appears in the machine's own. */
	if (ip(&e, "-n", l->ns[C], "link", "add", "eth0", "type", "veth",
	       "peer", "name", "eth0", "netns", l->ns[S], NULL) < 0 ||
	    ip(&e, "-n", l->ns[C], "addr", "add", CLIENT_ADDR "/24", "dev",
	       "eth0", NULL) < 0 ||
	    ip(&e, "-n", l->ns[S], "addr", "add", SERVER_ADDR "/24", "dev",
	       "eth0", NULL) < 0 ||
	    ip(&e, "-n", l->ns[C], "link", "set", "eth0", "up", NULL) < 0 ||
	    ip(&e, "-n", l->ns[S], "link", "set", "eth0", "up", NULL) < 0)
		return live_setup_failed(state, e.msg);
	for (int h = 0; h < 2; h++)
		if (sl_sockdiag_open(&l->d[h], l->nsfd[h], &e) < 0)
			return live_setup_failed(state, e.msg);
	return 0;
}

static int live_teardown(void **state)
{
	struct live *l = *state;
	struct sl_err e = { "" };
	int ret = 0;

	for (int h = 0; h < 2; h++) {
		sl_sockdiag_close(l->d[h]);
		if (l->nsfd[h] >= 0)
			close(l->nsfd[h]);
		if (l->made[h] && ip(&e, "netns", "del", l->ns[h], NULL) < 0) {
			print_error("teardown: %s\n", e.msg);
			ret = -1;
		}
	}
	free(l);
	return ret;
}

static void skip_unless_live(struct live *l)
{
	if (l->skip[0]) {
		print_message("SKIP live sock_diag test: %s\n", l->skip);
		skip();
	}
}

/* A TCP socket created inside host h's namespace; like a netlink socket it
 * stays there, so the thread returns to its own namespace at once. */
static int socket_in(struct live *l, int h)
{
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int fd;

	assert_true(self >= 0);
	assert_int_equal(setns(l->nsfd[h], CLONE_NEWNET), 0);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(setns(self, CLONE_NEWNET), 0);
	close(self);
	assert_true(fd >= 0);
	return fd;
}

static struct sockaddr_in sin_of(const char *addr, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };

	assert_int_equal(inet_pton(AF_INET, addr, &a.sin_addr), 1);
	return a;
}

static int dump(struct live *l, int h, struct sl_sock *out)
{
	struct sl_err e = { "" };
	int n = 0;

	if (sl_sockdiag_dump(l->d[h], out, MAXSOCK, &n, &e) < 0)
		fail_msg("%s", e.msg);
	return n;
}

/* The socket of host h with this local and remote port, or NULL. */
static const struct sl_sock *find(const struct sl_sock *v, int n,
				  uint16_t lport, uint16_t rport)
{
	for (int i = 0; i < n; i++)
		if (v[i].lport == lport && v[i].rport == rport)
			return &v[i];
	return NULL;
}

/* Samples host h until the socket (lport, rport) is in state st and, when
 * rq >= 0, has rq bytes in its Recv-Q: the kernel acts on its own time
 * (ACKs, FINs), so we poll with a deadline instead of sleeping blindly.
 * st < 0 waits for the socket to be gone.  Returns the last sample. */
static struct sl_sock wait_sock(struct live *l, int h, uint16_t lport,
				uint16_t rport, int st, long rq)
{
	struct sl_sock v[MAXSOCK], last = { 0 };
	int64_t deadline = sl_now() + WAIT_MS * SL_NS_PER_MS;
	const struct timespec ms = { 0, 1000000 };

	for (;;) {
		int n = dump(l, h, v);
		const struct sl_sock *s = find(v, n, lport, rport);

		if (s)
			last = *s;
		if (st < 0 && !s)
			return last;
		if (s && s->state == st && (rq < 0 || s->rqueue == rq))
			return last;
		if (sl_now() > deadline)
			fail_msg("%s: socket %u->%u is %s (Recv-Q %u) after "
				 "%d ms, want %s (Recv-Q %ld)",
				 l->ns[h], lport, rport,
				 s ? sl_state_name(s->state) : "gone",
				 s ? s->rqueue : 0, WAIT_MS,
				 st < 0 ? "gone" : sl_state_name(st), rq);
		nanosleep(&ms, NULL);
	}
}

/* Runs `ip netns exec NS ss -tanoi` and returns its output (malloc'd). */
static char *ss_output(const char *ns)
{
	size_t cap = 65536, got = 0;
	char *out = malloc(cap);
	int pfd[2], status;
	pid_t pid;

	assert_non_null(out);
	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		execlp("ip", "ip", "netns", "exec", ns, "ss", "-tanoi",
		       (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		ssize_t r = read(pfd[0], out + got, cap - 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += r;
	}
	close(pfd[0]);
	out[got] = '\0';
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("ip netns exec %s ss -tanoi failed (status %d)", ns,
			 status);
	return out;
}

/* ss's timer time ("59sec", "7.200ms", "2min5sec", "200ms") back in ms. */
static long ss_ms(const char *t)
{
	long total = 0;

	while (*t && *t != ',') {
		char *end;
		long v = strtol(t, &end, 10);

		if (end == t)
			return -1;
		if (!strncmp(end, "min", 3)) {
			total += v * 60000;
			t = end + 3;
		} else if (!strncmp(end, "sec", 3)) {
			total += v * 1000;
			t = end + 3;
		} else if (*end == '.') {
			total += v * 1000;
			t = end + 1;
		} else if (!strncmp(end, "ms", 2)) {
			total += v;
			t = end + 2;
		} else {
			return -1;
		}
	}
	return total;
}

/* Splits a line into at most max blank-separated words, in place. */
static int words(char *line, char **w, int max)
{
	int n = 0;

	for (char *tok = strtok(line, " \t"); tok && n < max;
	     tok = strtok(NULL, " \t"))
		w[n++] = tok;
	return n;
}

/* Our line for s against ss's line for the same socket: state, queues and
 * endpoints must be equal, the timer's kind and retry count too, and its
 * time may differ only by the time between our dump and ss's (ss reads
 * later, so its time is at most a little smaller). */
static void compare_with_ss(const struct sl_sock *s, const char *ss)
{
	char mine[160], mcopy[160], sline[512];
	char *mw[8], *sw[8];
	const char *p = ss;
	int nm = 0, ns = 0;

	sl_sock_format(s, mine, sizeof(mine));
	for (;;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (!len && !eol)
			fail_msg("ss shows no line for: %s\n%s", mine, ss);
		if (len >= sizeof(sline))
			len = sizeof(sline) - 1;
		memcpy(sline, p, len);
		sline[len] = '\0';
		p = eol ? eol + 1 : p + len;
		if (sline[0] == ' ' || sline[0] == '\t')
			continue; /* the tcp_info line */
		ns = words(sline, sw, 8);
		strcpy(mcopy, mine);
		nm = words(mcopy, mw, 8);
		if (ns >= 5 && nm >= 5 && !strcmp(sw[3], mw[3]) &&
		    !strcmp(sw[4], mw[4]))
			break;
	}
	print_message("  ours: %s\n  ss:   ", mine);
	for (int i = 0; i < ns; i++)
		print_message("%s%s", i ? " " : "", sw[i]);
	print_message("\n");
	for (int i = 0; i < 5; i++)
		if (strcmp(sw[i], mw[i]))
			fail_msg("field %d differs: ours '%s', ss '%s'", i,
				 mw[i], sw[i]);
	if (nm == 5) {
		if (ns > 5 && !strncmp(sw[5], "timer:", 6))
			fail_msg("ss shows %s, we show no timer", sw[5]);
		return;
	}
	if (ns < 6)
		fail_msg("we show %s, ss shows no timer", mw[5]);
	{
		const char *mc = strchr(mw[5], ','), *sc = strchr(sw[5], ',');
		long mms = ss_ms(mc + 1), sms = ss_ms(sc + 1);

		assert_non_null(mc);
		assert_non_null(sc);
		assert_int_equal(mc - mw[5], sc - sw[5]);
		assert_memory_equal(mw[5], sw[5], mc - mw[5]);
		assert_string_equal(strrchr(mw[5], ','), strrchr(sw[5], ','));
		/* Rounding in ss's text ("59sec" for 59.9 s) costs up to a
		 * second; ss runs a few ms after our dump. */
		if (mms < 0 || sms < 0 || sms > mms + 5 || sms < mms - 1500)
			fail_msg("timer time: ours %ld ms, ss %ld ms (want ss "
				 "within [-1500, +5] ms of ours)",
				 mms, sms);
	}
}

static void compare_all_with_ss(struct live *l, int h)
{
	struct sl_sock v[MAXSOCK];
	int n = dump(l, h, v), lines = 0;
	/* ss reads after us: its timer times can only be smaller. */
	char *ss = ss_output(l->ns[h]);

	print_message("%s (%d sockets):\n", l->ns[h], n);
	for (int i = 0; i < n; i++)
		compare_with_ss(&v[i], ss);
	/* And nothing more on ss's side: count its socket lines. */
	for (const char *p = ss; *p;) {
		const char *eol = strchr(p, '\n');

		if (p != ss && *p != ' ' && *p != '\t' && *p != '\n')
			lines++; /* the first line is the header */
		if (!eol)
			break;
		p = eol + 1;
	}
	if (lines != n)
		fail_msg("ss shows %d sockets, our dump %d:\n%s", lines, n, ss);
	free(ss);
}

static void test_live_states(void **state)
{
	struct live *l = *state;
	struct sockaddr_in srv = sin_of(SERVER_ADDR, SERVER_PORT), cli;
	socklen_t alen = sizeof(cli);
	struct sl_sock v[MAXSOCK], s;
	const struct sl_sock *p;
	char buf[100] = { 0 };
	int lfd, cfd, sfd, one = 1, n;
	uint16_t cport;

	skip_unless_live(l);

	lfd = socket_in(l, S);
	assert_int_equal(setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one,
				    sizeof(one)),
			 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&srv, sizeof(srv)), 0);
	assert_int_equal(listen(lfd, BACKLOG), 0);

	/* LISTEN: ss's Recv-Q is the accept queue, Send-Q the backlog. */
	n = dump(l, S, v);
	p = find(v, n, SERVER_PORT, 0);
	assert_non_null(p);
	assert_string_equal(sl_state_name(p->state), "LISTEN");
	assert_int_equal(p->rqueue, 0);
	assert_int_equal(p->wqueue, BACKLOG);
	assert_addr4(&p->laddr, srv.sin_addr);
	assert_true(p->inode != 0);
	assert_true(p->has_info);

	cfd = socket_in(l, C);
	assert_int_equal(connect(cfd, (struct sockaddr *)&srv, sizeof(srv)), 0);
	assert_int_equal(getsockname(cfd, (struct sockaddr *)&cli, &alen), 0);
	cport = ntohs(cli.sin_port);

	/* Not yet accepted: one connection waits in the accept queue. */
	s = wait_sock(l, S, SERVER_PORT, 0, TCP_LISTEN, 1);
	assert_int_equal(s.wqueue, BACKLOG);
	sfd = accept(lfd, NULL, NULL);
	assert_true(sfd >= 0);
	s = wait_sock(l, S, SERVER_PORT, 0, TCP_LISTEN, 0);

	/* ESTAB on both sides, ports the right way round. */
	s = wait_sock(l, C, cport, SERVER_PORT, TCP_ESTABLISHED, 0);
	assert_addr4(&s.raddr, srv.sin_addr);
	assert_addr4(&s.laddr, cli.sin_addr);
	assert_true(s.has_info);
	assert_true(s.rto_us >= 200000); /* TCP_RTO_MIN */
	s = wait_sock(l, S, SERVER_PORT, cport, TCP_ESTABLISHED, 0);
	assert_addr4(&s.laddr, srv.sin_addr);
	assert_addr4(&s.raddr, cli.sin_addr);
	assert_true(s.has_info);

	/* 100 bytes written, none read: Recv-Q 100 on the receiver, and the
	 * sender's Send-Q drains to 0 once they are acknowledged. */
	assert_int_equal(write(cfd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	s = wait_sock(l, S, SERVER_PORT, cport, TCP_ESTABLISHED, 100);
	assert_int_equal(s.rqueue, 100);
	for (int64_t end = sl_now() + WAIT_MS * SL_NS_PER_MS;;) {
		s = wait_sock(l, C, cport, SERVER_PORT, TCP_ESTABLISHED, 0);
		const struct timespec ms = { 0, 1000000 };

		if (s.wqueue == 0 && s.timer == SL_TIMER_NONE)
			break;
		if (sl_now() > end)
			fail_msg("client Send-Q still %u", s.wqueue);
		nanosleep(&ms, NULL);
	}
	assert_int_equal(s.unacked, 0);
	compare_all_with_ss(l, S);
	compare_all_with_ss(l, C);

	/* The server reads everything first: close() with unread data would
	 * send RST and there would be no TIME-WAIT to see. */
	assert_int_equal(read(sfd, buf, sizeof(buf)), (ssize_t)sizeof(buf));

	/* Client closes first: FIN-WAIT-2 (the orphan is a mini-socket now,
	 * with the FIN-WAIT-2 timer) against CLOSE-WAIT. */
	assert_int_equal(close(cfd), 0);
	wait_sock(l, S, SERVER_PORT, cport, TCP_CLOSE_WAIT, -1);
	s = wait_sock(l, C, cport, SERVER_PORT, TCP_FIN_WAIT2, -1);
	print_message("after the client's close():\n");
	compare_all_with_ss(l, C);
	assert_int_equal(read(sfd, buf, sizeof(buf)), 0);

	/* Then the server: LAST-ACK, gone on the client's ACK, and the client
	 * holds TIME-WAIT for TCP_TIMEWAIT_LEN, 60 s. */
	assert_int_equal(close(sfd), 0);
	wait_sock(l, S, SERVER_PORT, cport, -1, -1);
	s = wait_sock(l, C, cport, SERVER_PORT, TCP_TIME_WAIT, -1);
	assert_string_equal(sl_state_name(s.state), "TIME-WAIT");
	assert_int_equal(s.timer, SL_TIMER_TIMEWAIT);
	if (s.expires_ms > 60000 || s.expires_ms < 57000)
		fail_msg("TIME-WAIT expires in %u ms, want 60000 ms "
			 "(tolerance -3000 ms)",
			 s.expires_ms);
	print_message("TIME-WAIT timer: %u ms (want 60000, -3000 ms)\n",
		      s.expires_ms);
	assert_false(s.has_info);
	assert_int_equal(s.rqueue, 0);
	assert_int_equal(s.wqueue, 0);
	assert_int_equal(s.inode, 0);
	print_message("after the server's close():\n");
	compare_all_with_ss(l, C);
	compare_all_with_ss(l, S);
	close(lfd);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int64_t cpu_now(void)
{
	struct timespec ts;

	assert_int_equal(clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts), 0);
	return ts.tv_sec * SL_NS_PER_SEC + ts.tv_nsec;
}

static void test_live_dump_partial(void **state)
{
	struct live *l = *state;
	struct sockaddr_in srv = sin_of(SERVER_ADDR, SERVER_PORT);
	struct sl_sock v[MAXSOCK];
	struct sl_err e = { "" };
	int64_t t[100], c[100];
	int lfd, cfd[9], n = 0;

	skip_unless_live(l);

	/* A listener and nine connections left in its accept queue: ten
	 * full sockets with tcp_info on the server side. */
	lfd = socket_in(l, S);
	assert_int_equal(bind(lfd, (struct sockaddr *)&srv, sizeof(srv)), 0);
	assert_int_equal(listen(lfd, BACKLOG), 0);
	for (int i = 0; i < 9; i++) {
		cfd[i] = socket_in(l, C);
		assert_int_equal(connect(cfd[i], (struct sockaddr *)&srv,
					 sizeof(srv)),
				 0);
	}
	wait_sock(l, S, SERVER_PORT, 0, TCP_LISTEN, 9);

	/* What a dump costs here, printed for the record only: these
	 * namespaces share the machine's TCP hash table, which a dump walks
	 * whole, so the figure depends on the machine (a run's hosts have a
	 * table of their own: test_topology's test_private_ehash).  Nothing
	 * in socklab is judged by it. */
	for (int i = 0; i < 100; i++) {
		int64_t t0 = sl_now(), c0 = cpu_now();

		if (sl_sockdiag_dump(l->d[S], v, MAXSOCK, &n, &e) < 0)
			fail_msg("%s", e.msg);
		t[i] = sl_now() - t0;
		c[i] = cpu_now() - c0;
	}
	assert_int_equal(n, 10);
	qsort(t, 100, sizeof(t[0]), cmp_i64);
	qsort(c, 100, sizeof(c[0]), cmp_i64);
	print_message("sock_diag dump of %d sockets in a namespace sharing "
		      "the machine's hash, 100 dumps: wall median %.1f us "
		      "(min %.1f, max %.1f), cpu median %.1f us\n",
		      n, t[50] / 1e3, t[0] / 1e3, t[99] / 1e3, c[50] / 1e3);

	/* Fewer slots than sockets: the first ones are filled, and the rest
	 * of the dump is still consumed, so the next full dump is whole. */
	if (sl_sockdiag_dump(l->d[S], v, 3, &n, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(n, 3);
	if (sl_sockdiag_dump(l->d[S], v, 0, &n, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(n, 0);
	assert_int_equal(dump(l, S, v), 10);

	for (int i = 0; i < 9; i++)
		close(cfd[i]);
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest unit[] = {
		cmocka_unit_test(test_state_names_round_trip),
		cmocka_unit_test(test_state_parse_spellings),
		cmocka_unit_test(test_timer_text),
		cmocka_unit_test(test_line_format),
		cmocka_unit_test(test_open_bad_namespace),
		cmocka_unit_test(test_open_own_namespace),
		cmocka_unit_test_setup_teardown(test_live_states, live_setup,
						live_teardown),
		cmocka_unit_test_setup_teardown(test_live_dump_partial,
						live_setup, live_teardown),
	};

	return cmocka_run_group_tests_name("sockstate", unit, NULL, NULL);
}
