/*
 * test_capture.c: a live capture in a namespace of our own (needs root).
 *
 * Two namespaces joined by a veth pair, a capture on the client's end, one
 * TCP connection across with data and FINs.  Checked: the SYN reaches the
 * callback stamped on CLOCK_MONOTONIC between what we read just before
 * connect() and just after accept(); the pcap file has nanosecond
 * timestamps, reads back with libpcap, and `tcpdump -nn -S -r` prints the
 * same lines as sl_packet_format(); opening a capture returns the thread to
 * its own namespace, on success and on failure alike.
 *
 * The namespaces are named socklab-test-cap-<pid>-{c,s}.  They are removed
 * by the group teardown, at exit and on SIGINT/SIGTERM/SIGHUP; a run killed
 * harder than that leaves them behind, and the next run removes those whose
 * pid is gone.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "capture.h"
#include "clock.h"
#include "err.h"
#include "exec.h"
#include "packet.h"

#define NS_PREFIX "socklab-test-cap-"
#define CLIENT_ADDR "198.18.251.2"
#define SERVER_ADDR "198.18.251.3"
#define PORT 5000
#define MAX_PKTS 64
#define DEADLINE_NS (5 * SL_NS_PER_SEC)

static char ns_c[64], ns_s[64];
static char tmpdir[64], pcap_path[128];
static int nsfd_c = -1, nsfd_s = -1;

/* ---- namespaces, made and removed on every path ------------------------ */

/* What `ip netns del` does, in two syscalls that are safe in a signal
 * handler: the bind mount keeps the namespace alive, and once it and our
 * file descriptors are gone, the kernel frees it. */
static void ns_remove(const char *name)
{
	char path[128];

	if (!name[0])
		return;
	snprintf(path, sizeof(path), "/run/netns/%.100s", name);
	umount2(path, MNT_DETACH);
	unlink(path);
}

static void cleanup(void)
{
	ns_remove(ns_c);
	ns_remove(ns_s);
	ns_c[0] = ns_s[0] = '\0';
	if (nsfd_c >= 0)
		close(nsfd_c);
	if (nsfd_s >= 0)
		close(nsfd_s);
	nsfd_c = nsfd_s = -1;
	if (pcap_path[0])
		unlink(pcap_path);
	if (tmpdir[0])
		rmdir(tmpdir);
	pcap_path[0] = tmpdir[0] = '\0';
}

static void on_signal(int sig)
{
	ns_remove(ns_c);
	ns_remove(ns_s);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Namespaces of ours whose process is gone: a run killed by SIGKILL. */
static void remove_leftovers(void)
{
	struct dirent *d;
	DIR *dir = opendir("/run/netns");

	if (!dir)
		return;
	while ((d = readdir(dir))) {
		long pid;
		char *end;

		if (strncmp(d->d_name, NS_PREFIX, strlen(NS_PREFIX)))
			continue;
		pid = strtol(d->d_name + strlen(NS_PREFIX), &end, 10);
		if (*end != '-' || pid <= 0)
			continue;
		if (kill((pid_t)pid, 0) < 0 && errno == ESRCH) {
			fprintf(stderr, "removing leftover namespace %s\n",
				d->d_name);
			ns_remove(d->d_name);
		}
	}
	closedir(dir);
}

static int ip(struct sl_err *e, ...)
{
	const char *argv[24] = { "ip" };
	va_list ap;
	int n = 1;

	va_start(ap, e);
	while (n < 23 && (argv[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	return sl_exec(argv, e);
}

static int group_setup(void **state)
{
	char veth_c[16], veth_s[16], path[128];
	struct sl_err e = { "" };
	int rc;

	(void)state;
	remove_leftovers();
	snprintf(ns_c, sizeof(ns_c), NS_PREFIX "%d-c", (int)getpid());
	snprintf(ns_s, sizeof(ns_s), NS_PREFIX "%d-s", (int)getpid());
	snprintf(veth_c, sizeof(veth_c), "slcap%dc", (int)getpid() % 10000000);
	snprintf(veth_s, sizeof(veth_s), "slcap%ds", (int)getpid() % 10000000);

	/* Both ends are created inside the namespaces (IFLA_NET_NS_FD), so
	 * no interface ever appears in the machine's own namespace. */
	rc = ip(&e, "netns", "add", ns_c, NULL);
	if (!rc)
		rc = ip(&e, "netns", "add", ns_s, NULL);
	if (!rc)
		rc = ip(&e, "link", "add", veth_c, "netns", ns_c, "type",
			"veth", "peer", "name", veth_s, "netns", ns_s, NULL);
	if (!rc)
		rc = ip(&e, "-n", ns_c, "link", "set", veth_c, "name", "eth0",
			NULL);
	if (!rc)
		rc = ip(&e, "-n", ns_s, "link", "set", veth_s, "name", "eth0",
			NULL);
	if (!rc)
		rc = ip(&e, "-n", ns_c, "addr", "add", CLIENT_ADDR "/24", "dev",
			"eth0", NULL);
	if (!rc)
		rc = ip(&e, "-n", ns_s, "addr", "add", SERVER_ADDR "/24", "dev",
			"eth0", NULL);
	if (!rc)
		rc = ip(&e, "-n", ns_c, "link", "set", "eth0", "up", NULL);
	if (!rc)
		rc = ip(&e, "-n", ns_s, "link", "set", "eth0", "up", NULL);
	if (rc) {
		fprintf(stderr, "setup: %s\n", e.msg);
		cleanup();
		return -1;
	}
	snprintf(path, sizeof(path), "/run/netns/%s", ns_c);
	nsfd_c = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/run/netns/%s", ns_s);
	nsfd_s = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/socklab-test-cap-XXXXXX");
	if (nsfd_c < 0 || nsfd_s < 0 || !mkdtemp(tmpdir)) {
		fprintf(stderr, "setup: %s\n", strerror(errno));
		tmpdir[0] = '\0';
		cleanup();
		return -1;
	}
	snprintf(pcap_path, sizeof(pcap_path), "%s/client-eth0.pcap", tmpdir);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	cleanup();
	return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static ino_t own_netns(void)
{
	struct stat st;

	assert_int_equal(stat("/proc/thread-self/ns/net", &st), 0);
	return st.st_ino;
}

/* A TCP socket that lives in the namespace nsfd. */
static int socket_in(int nsfd)
{
	int origin = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int fd;

	assert_true(origin >= 0);
	assert_int_equal(setns(nsfd, CLONE_NEWNET), 0);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(setns(origin, CLONE_NEWNET), 0);
	close(origin);
	assert_true(fd >= 0);
	return fd;
}

struct seen {
	int n;
	struct sl_packet pkt[MAX_PKTS];
	int64_t t[MAX_PKTS];
};

static void on_packet(void *arg, const struct sl_packet *pkt, int64_t t_mono_ns)
{
	struct seen *s = arg;

	if (s->n < MAX_PKTS) {
		s->pkt[s->n] = *pkt;
		s->t[s->n] = t_mono_ns;
	}
	s->n++;
}

/* Polls and dispatches until done(s) or the deadline; fails on timeout. */
static void wait_for(struct sl_capture *c, struct seen *s,
		     bool (*done)(const struct seen *), const char *what)
{
	int64_t end = sl_now() + DEADLINE_NS;
	struct pollfd pfd = { .fd = sl_capture_fd(c), .events = POLLIN };

	assert_true(pfd.fd >= 0);
	while (!done(s)) {
		int left = (int)((end - sl_now()) / SL_NS_PER_MS);

		if (left <= 0)
			fail_msg("no %s within %lld s (%d packets seen)", what,
				 DEADLINE_NS / SL_NS_PER_SEC, s->n);
		poll(&pfd, 1, left < 100 ? left : 100);
		assert_true(sl_capture_dispatch(c, on_packet, s) >= 0);
	}
}

static int find(const struct seen *s, uint8_t flags, int from)
{
	for (int i = from; i < s->n && i < MAX_PKTS; i++)
		if (s->pkt[i].flags == flags)
			return i;
	return -1;
}

static bool saw_syn(const struct seen *s)
{
	return find(s, SL_TH_SYN, 0) >= 0;
}

/* Both FINs, and the ACK of the later one: the exchange is over. */
static bool saw_close(const struct seen *s)
{
	int fin1 = -1, fin2 = -1;

	for (int i = 0; i < s->n && i < MAX_PKTS; i++) {
		if (!(s->pkt[i].flags & SL_TH_FIN))
			continue;
		if (fin1 < 0)
			fin1 = i;
		else if (s->pkt[i].sport != s->pkt[fin1].sport)
			fin2 = i;
	}
	return fin2 >= 0 && s->n > fin2 + 1;
}

/* Runs argv and returns its standard output (malloc'd); fails unless the
 * command exits with status 0.  Its standard error goes to a file that is
 * shown only on failure (tcpdump -r always says what it is reading). */
static char *run_output(const char *const argv[])
{
	size_t cap = 65536, used = 0;
	char *out = malloc(cap), errpath[160], err[256] = "";
	int pfd[2], status, efd;
	pid_t pid;

	assert_non_null(out);
	snprintf(errpath, sizeof(errpath), "%s/stderr", tmpdir);
	efd = open(errpath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(efd >= 0);
	unlink(errpath);
	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		dup2(efd, STDERR_FILENO);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		ssize_t r = read(pfd[0], out + used, cap - 1 - used);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		used += (size_t)r;
		assert_true(used < cap - 1);
	}
	out[used] = '\0';
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (pread(efd, err, sizeof(err) - 1, 0) < 0)
		err[0] = '\0';
	close(efd);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("%s %s exited with status %d: %s", argv[0], argv[1],
			 status, err);
	return out;
}

/* ---- tests -------------------------------------------------------------- */

/* A failed open says what and where, and leaves us in our namespace. */
static void open_failure_has_reason(void **state)
{
	struct sl_capture *c = (struct sl_capture *)0x1;
	struct sl_err e = { "" };
	ino_t before = own_netns();
	int rc;

	(void)state;
	rc = sl_capture_open(&c, nsfd_c, "nosuch0", pcap_path, &e);
	assert_true(rc < 0);
	assert_null(c);
	assert_int_equal(own_netns(), before);
	print_message("reason: %s\n", e.msg);
	assert_non_null(strstr(e.msg, "capture on nosuch0 in "));
	assert_non_null(strstr(e.msg, ns_c));

	/* An unwritable pcap path fails after the handle is open. */
	rc = sl_capture_open(&c, nsfd_c, "eth0", "/nonexistent/dir/x.pcap", &e);
	assert_true(rc < 0);
	assert_null(c);
	assert_int_equal(own_netns(), before);
	assert_non_null(strstr(e.msg, "/nonexistent/dir/x.pcap"));

	/* A descriptor that is not a namespace. */
	rc = sl_capture_open(&c, STDIN_FILENO, "eth0", pcap_path, &e);
	assert_true(rc < 0);
	assert_int_equal(own_netns(), before);
	assert_non_null(strstr(e.msg, "enter namespace"));
}

static void capture_sees_connection(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(PORT) };
	static struct seen seen;
	struct sl_err e = { "" };
	const char *tcpdump[] = { "tcpdump", "-nn",	"-S", "-t",
				  "-r",	     pcap_path, NULL };
	char buf[100] = { 0 }, line[512], errbuf[PCAP_ERRBUF_SIZE];
	ino_t before = own_netns();
	struct sl_capture *c;
	struct pcap_pkthdr *h;
	const u_char *bytes;
	unsigned recv = 0, drop = 0;
	int64_t t_before, t_after;
	int lfd, cfd, afd, isyn, one = 1, ntcp, nframes;
	char *out, *p;
	uint32_t magic;
	FILE *f;
	pcap_t *pc;

	(void)state;
	memset(&seen, 0, sizeof(seen));
	if (sl_capture_open(&c, nsfd_c, "eth0", pcap_path, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(own_netns(), before);

	lfd = socket_in(nsfd_s);
	assert_int_equal(setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one,
				    sizeof(one)),
			 0);
	sa.sin_addr.s_addr = htonl(INADDR_ANY);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	cfd = socket_in(nsfd_c);
	inet_pton(AF_INET, SERVER_ADDR, &sa.sin_addr);

	t_before = sl_now();
	assert_int_equal(connect(cfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	afd = accept(lfd, NULL, NULL);
	t_after = sl_now();
	assert_true(afd >= 0);

	wait_for(c, &seen, saw_syn, "SYN");
	isyn = find(&seen, SL_TH_SYN, 0);
	print_message("SYN at %+.3f us after the clock read before connect(), "
		      "%.3f us before the one after accept()\n",
		      (seen.t[isyn] - t_before) / 1e3,
		      (t_after - seen.t[isyn]) / 1e3);
	/* Tolerance 0: the kernel stamps the SYN after connect() starts and
	 * before accept() returns; only the REALTIME to MONOTONIC mapping
	 * (well under a microsecond) stands between the two clocks. */
	assert_true(seen.t[isyn] >= t_before);
	assert_true(seen.t[isyn] <= t_after);
	assert_int_equal(seen.pkt[isyn].dport, PORT);
	assert_int_equal(seen.pkt[isyn].opt.mss, 1460);

	/* Data, then both sides close. */
	assert_int_equal(write(cfd, buf, sizeof(buf)), sizeof(buf));
	assert_int_equal(read(afd, buf, sizeof(buf)), sizeof(buf));
	close(cfd);
	assert_int_equal(read(afd, buf, sizeof(buf)), 0);
	close(afd);
	close(lfd);
	wait_for(c, &seen, saw_close, "FIN from both sides");
	assert_true(seen.n <= MAX_PKTS);
	/* Timestamps never run backwards within one capture. */
	for (int i = 1; i < seen.n; i++)
		assert_true(seen.t[i] >= seen.t[i - 1]);

	sl_capture_stats(c, &recv, &drop);
	print_message("capture: %d TCP segments, kernel counted %u received, "
		      "%u dropped\n",
		      seen.n, recv, drop);
	assert_true(recv >= (unsigned)seen.n);
	assert_int_equal(drop, 0);
	sl_capture_close(c);

	/* The file: nanosecond magic, readable by libpcap, and every TCP
	 * frame in it is one the callback saw, at the same time. */
	f = fopen(pcap_path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(&magic, sizeof(magic), 1, f), 1);
	fclose(f);
	assert_int_equal(magic, 0xa1b23c4d);
	pc = pcap_open_offline_with_tstamp_precision(
		pcap_path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!pc)
		fail_msg("%s", errbuf);
	assert_int_equal(pcap_datalink(pc), DLT_EN10MB);
	ntcp = nframes = 0;
	while (pcap_next_ex(pc, &h, &bytes) == 1) {
		struct sl_packet pkt;
		int64_t rt =
			(int64_t)h->ts.tv_sec * SL_NS_PER_SEC + h->ts.tv_usec;

		nframes++;
		if (sl_packet_decode(bytes, h->caplen, DLT_EN10MB, &pkt))
			continue;
		assert_true(ntcp < seen.n);
		assert_memory_equal(&pkt, &seen.pkt[ntcp], sizeof(pkt));
		assert_int_equal(sl_clock_realtime_to_mono(rt), seen.t[ntcp]);
		ntcp++;
	}
	pcap_close(pc);
	assert_int_equal(ntcp, seen.n);

	/* tcpdump reads it too, and prints what we print. */
	out = run_output(tcpdump);
	ntcp = 0;
	for (p = strtok(out, "\n"); p; p = strtok(NULL, "\n")) {
		nframes--;
		if (strncmp(p, "IP ", 3) || !strstr(p, ": Flags ["))
			continue;
		assert_true(ntcp < seen.n);
		sl_packet_format(&seen.pkt[ntcp], false, 0, 0, line,
				 sizeof(line));
		assert_string_equal(line, p + 3);
		ntcp++;
	}
	free(out);
	assert_int_equal(ntcp, seen.n);
	assert_int_equal(nframes, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(open_failure_has_reason),
		cmocka_unit_test(capture_sees_connection),
	};
	const char *probe[] = { "tcpdump", "--version", NULL };
	struct sl_err e;

	if (geteuid() != 0) {
		printf("SKIP: test_capture needs root (namespaces, packet "
		       "sockets)\n");
		return 77;
	}
	if (sl_exec(probe, &e)) {
		printf("SKIP: tcpdump is needed to read the pcap back: %s\n",
		       e.msg);
		return 77;
	}
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
