/* socklab.h: the one header an experiment includes.
 *
 * An experiment file holds a claim, its variants, the roles that run on the
 * hosts and the predictions the claim makes; experiments/README.md explains
 * each macro with a full example.  The shape follows the kernel's
 * kselftest_harness.h: data and code in one file, registered by macros, with
 * no harness plumbing for the author to write.
 *
 *	EXPERIMENT(x) { .claim = "...", .expected = SL_CONFIRMED };
 *	KNOBS(x) { int unread; };		  what a variant may set
 *	VARIANT(x, read_90_of_100) { .unread = 10 };
 *	VARIANT(x, read_all, .holds = false) { .unread = 0 };  declared not
 *						  to hold: FIN, no RST
 *	ROLE(x, server) { ...socket code, using self and variant... }
 *	ROLE(x, client) { ... }
 *	PREDICT(x) { expect_packet(p, .from = "server", .flags = "R"); }
 *
 * Roles are ordinary socket code run in their host's network namespace, each
 * in a process of its own.  They run the calls they need through sl_call()
 * and the calls the claim is about through sl_try(), mark moments with
 * sl_mark(), and wait for each other with sl_wait_mark() or for a socket
 * state with sl_wait_tuple(), never by sleeping.  Predictions are judged
 * by the harness on the recorded timeline and the verdict is derived from
 * them: no experiment can print one.
 */
#ifndef SOCKLAB_H
/* Laid out by hand, and left so by clang-format: this is the header authors
 * read, its macros are tables of what an experiment writes, and its option
 * structs' comments line up as a column (clang-format 14 would break the
 * registration macros' _Pragma lines and scatter the comments). */
/* clang-format off */
#define SOCKLAB_H

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

/* The port the server listens on, unless an experiment picks another. */
#define SL_PORT 7007

/* What an option left unset means where 0 is a value of its own: any
 * length (.len = 0 is zero bytes), no bound on a count (.max = 0 is
 * "never").  The expect_ macros and sl_fault() set it before the author's
 * fields, so that an author never writes it. */
#define SL__ANY LONG_MIN

/* The author's options, as designated initialisers after the defaults:
 * the statement expression builds o from defaults and then the author's
 * fields and evaluates call.  The author's fields override the defaults,
 * which -Woverride-init would report under -Wextra: it is silenced for
 * this one initialiser, as in VARIANT. */
#define SL__WITH(type, o, defaults, call, ...)				\
	({								\
		_Pragma("GCC diagnostic push")				\
		_Pragma("GCC diagnostic ignored \"-Woverride-init\"")	\
		type o = { defaults, __VA_ARGS__ };			\
		_Pragma("GCC diagnostic pop")				\
		call;							\
	})

enum sl_verdict {
	SL_CONFIRMED,
	SL_REFUTED,
	SL_NUANCED,
	SL_ERROR,	/* could not run: never a verdict on the claim */
};

/* Where a claim belongs in the catalogue (CATALOGUE.md), in the order a
 * learner meets the subjects: a connection opens, data is acknowledged
 * and paced, it is reset or torn down, TIME-WAIT, dead peers, the listen
 * queues. */
enum sl_topic {
	SL_TOPIC_NONE,
	SL_TOPIC_ESTABLISHMENT,
	SL_TOPIC_ACKS,
	SL_TOPIC_FLOW_CONTROL,
	SL_TOPIC_RST,
	SL_TOPIC_TEARDOWN,
	SL_TOPIC_TIME_WAIT,
	SL_TOPIC_KEEPALIVE,
	SL_TOPIC_QUEUES,
};

struct sl_experiment {
	const char *claim;
	enum sl_verdict expected;
	/* What we believe Linux does, beyond the verdict: the condition of a
	 * NUANCED, what a REFUTED does instead ("quick-ACK at connection
	 * start, then tens of ms").  NULL: the claim, as stated. */
	const char *belief;
	enum sl_topic topic;
	/* Longest a variant's roles may take, in seconds (default 20).  Past
	 * it the roles are killed and the run is an ERROR, not a verdict. */
	int timeout_s;
	/* The address families it runs on: 0 (default) both, 4 IPv4 only,
	 * 6 IPv6 only.  An experiment not yet ported to IPv6 says 4, and
	 * `socklab run --family 6` reports it skipped, never passed. */
	int families;
};

struct sl_role;		/* a role's handle: self */
struct sl_setup;	/* a variant's set-up handle, before roles start */
struct sl_predict;	/* a variant's prediction handle: p */

/* ---- registration (one experiment per executable) ---- */

/* What a variant declares besides its knobs, as optional designated
 * initialisers after its name:
 *
 *	VARIANT(x, second_100_arrived, .holds = false) { .arrived = true };
 *
 * holds: whether the claim's predictions are expected to be observed in
 * this variant (default true).  The run passes when every variant behaves
 * as declared; the verdict is still derived from which variants held, and
 * at start-up the declarations must derive EXPERIMENT's .expected.
 *
 * needs_sysctl: a sysctl the variant is about, which older kernels lack
 * (net.ipv4.tcp_tw_reuse_delay, say).  Where /proc/sys has no such file,
 * the variant is not run, and the result says so and why: it is neither
 * passed nor failed, and the verdict is the other variants'. */
struct sl_variant_decl {
	bool holds;
	const char *needs_sysctl;
};

struct sl__variant_def {
	const char *name;
	const void *knobs;
	struct sl_variant_decl decl;
};

struct sl__role_def {
	const char *host;
	void (*fn)(struct sl_role *self, const void *knobs);
};

void sl__register_experiment(const struct sl_experiment *x, const char *id,
			     const char *file);
void sl__register_variant(const struct sl__variant_def *v);
void sl__register_role(const struct sl__role_def *r);
void sl__register_setup(void (*fn)(struct sl_setup *s, const void *knobs));
void sl__register_predict(void (*fn)(struct sl_predict *p, const void *knobs));

/* CMake names each experiment after its folder. */
#ifndef SL_EXPERIMENT_ID
#define SL_EXPERIMENT_ID NULL
#endif

#define SL__UNUSED __attribute__((unused))

#define EXPERIMENT(x)							\
	static const struct sl_experiment x##__experiment;		\
	__attribute__((constructor)) static void x##__reg_experiment(void) \
	{								\
		sl__register_experiment(&x##__experiment, SL_EXPERIMENT_ID, \
					__FILE__);			\
	}								\
	static const struct sl_experiment x##__experiment =

#define KNOBS(x) struct x##__knobs

/* The declaration's defaults come first and the author's initialisers
 * override them, which -Woverride-init (gcc) and -Winitializer-overrides
 * (clang) would report under -Wextra: they are silenced for this one
 * initialiser only.  The author's part initialises a struct sl_variant_decl
 * of its own, so a stray .name or .knobs there is a compile error, not a
 * silent override. */
#define VARIANT(x, vname, ...)						\
	static const struct x##__knobs x##__knobs_##vname;		\
	_Pragma("GCC diagnostic push")					\
	_Pragma("GCC diagnostic ignored \"-Woverride-init\"")		\
	static const struct sl__variant_def x##__variant_##vname = {	\
		.name = #vname, .knobs = &x##__knobs_##vname,		\
		.decl = { .holds = true, __VA_ARGS__ } };		\
	_Pragma("GCC diagnostic pop")					\
	__attribute__((constructor)) static void x##__reg_variant_##vname(void) \
	{								\
		sl__register_variant(&x##__variant_##vname);		\
	}								\
	static const struct x##__knobs x##__knobs_##vname =

#define ROLE(x, h_)							\
	static void x##__role_##h_(struct sl_role *self SL__UNUSED,	\
			const struct x##__knobs *variant SL__UNUSED);	\
	static void x##__role_##h_##__thunk(struct sl_role *self,	\
					      const void *knobs)	\
	{								\
		x##__role_##h_(self, knobs);				\
	}								\
	static const struct sl__role_def x##__roledef_##h_ = {	\
		.host = #h_, .fn = x##__role_##h_##__thunk };	\
	__attribute__((constructor)) static void x##__reg_role_##h_(void) \
	{								\
		sl__register_role(&x##__roledef_##h_);		\
	}								\
	static void x##__role_##h_(struct sl_role *self SL__UNUSED,	\
			const struct x##__knobs *variant SL__UNUSED)

/* Optional: per-variant set-up before any role runs (namespace sysctls). */
#define SETUP(x)							\
	static void x##__setup(struct sl_setup *s SL__UNUSED,		\
			       const struct x##__knobs *variant SL__UNUSED); \
	static void x##__setup__thunk(struct sl_setup *s, const void *k) \
	{								\
		x##__setup(s, k);					\
	}								\
	__attribute__((constructor)) static void x##__reg_setup(void)	\
	{								\
		sl__register_setup(x##__setup__thunk);			\
	}								\
	static void x##__setup(struct sl_setup *s SL__UNUSED,		\
			       const struct x##__knobs *variant SL__UNUSED)

#define PREDICT(x)							\
	static void x##__predict(struct sl_predict *p SL__UNUSED,	\
			const struct x##__knobs *variant SL__UNUSED);	\
	static void x##__predict__thunk(struct sl_predict *p, const void *k) \
	{								\
		x##__predict(p, k);					\
	}								\
	__attribute__((constructor)) static void x##__reg_predict(void)	\
	{								\
		sl__register_predict(x##__predict__thunk);		\
	}								\
	static void x##__predict(struct sl_predict *p SL__UNUSED,	\
			const struct x##__knobs *variant SL__UNUSED)

/* ---- set-up (SETUP) ---- */

/* Sets a sysctl inside one host's namespace only, e.g.
 * sl_sysctl(s, "server", "net.ipv4.tcp_rfc1337", "1").  A failure makes the
 * variant an ERROR with the reason. */
void sl_sysctl(struct sl_setup *s, const char *host, const char *key,
	       const char *value);

/* Changes the route host reaches the other hosts by (its default route,
 * through the router) with iproute2's route options, in host's namespace
 * only ("client" or "server"):
 *	sl_route(s, "server", "quickack", "1");
 * runs `ip route change default via <router> dev eth0 quickack 1` there,
 * printed to commands.sh as `ip -n <netns> route change ...`.  Options
 * that a route carries for the sockets that use it: quickack, rto_min,
 * initcwnd, initrwnd, congctl...  SETUP runs before any socket exists,
 * so every connection of the host has them.  A failure makes the variant
 * an ERROR with ip's own message. */
#define sl_route(s, host, ...)						\
	sl__route((s), (host), (const char *const[]){ __VA_ARGS__, NULL })
void sl__route(struct sl_setup *s, const char *host, const char *const opts[]);

/* ---- roles ---- */

/* The address of a host, with a port, ready for connect() or bind(), in
 * the family the variant runs on (`socklab run --family`): a struct
 * sockaddr_in or sockaddr_in6 in a struct sockaddr_storage, which the
 * kernel takes whole (connect(fd, (struct sockaddr *)&sa, sizeof(sa))). */
struct sockaddr_storage sl_addr(struct sl_role *self, const char *host,
				int port);

/* The family the variant runs on, AF_INET or AF_INET6: what socket() takes
 * (socket(sl_family(self), SOCK_STREAM, 0)). */
int sl_family(struct sl_role *self);

/* The port of a struct sockaddr_in or sockaddr_in6, in host byte order
 * (ntohs(t.local.sin_port) for either family). */
static inline int sl_port(const struct sockaddr_storage *sa)
{
	/* sin_port and sin6_port sit at the same offset, by design. */
	return ntohs(((const struct sockaddr_in *)sa)->sin_port);
}

/* Marks a named moment on the timeline ("closing", "sent 100"). */
void sl_mark(struct sl_role *self, const char *name);

/* Waits until host has marked name; past the variant's deadline the role
 * stops and the variant is an ERROR. */
void sl_wait_mark(struct sl_role *self, const char *host, const char *name);

/* Waits until at least bytes are queued for reading on fd (Recv-Q),
 * woken by each arrival (an edge-triggered epoll on fd). */
void sl_wait_recvq(struct sl_role *self, int fd, int bytes);

/* socket(), bind() to port on this host, listen(); marks "listening".
 * Returns the listening fd. */
int sl_listen(struct sl_role *self, int port);

/* socket(), waits for host's "listening" mark, connect(); returns the fd. */
int sl_connect(struct sl_role *self, const char *host, int port);

/* A call the experiment needs in order to run at all (not the claim under
 * test), recorded on the timeline under its function's name and required to
 * succeed:
 *	int fd = sl_call(self, accept(lfd, NULL, NULL));	records "accept"
 * If it returns a negative value the role stops and the variant is an
 * ERROR naming the call, its errno and file:line, never a verdict.
 * Evaluates to the call's value (as long). */
#define sl_call(...)							\
	SL__PICK(__VA_ARGS__, sl__call_as, sl__call_auto, ~)		\
	(#__VA_ARGS__, __VA_ARGS__)

/* A call whose outcome the claim is about: recorded under its function's
 * name, whatever it returns, for the predictions to judge
 * (expect_errno(p, "client", "read", ECONNRESET)):
 *	sl_try(self, read(fd, buf, 1));				records "read"
 * A name comes first only where two calls of one function must be told
 * apart, or to record a value that is not a call:
 *	sl_try(self, "bind again", bind(fd, (struct sockaddr *)&a, sizeof(a)));
 * Evaluates to the value (as long), with errno as the call left it.
 * setsockopt() and getsockopt() are named with their option,
 * "setsockopt(SO_LINGER)", so that a role's options stay apart. */
#define sl_try(...)							\
	SL__PICK(__VA_ARGS__, sl__try_as, sl__try_auto, ~)		\
	(#__VA_ARGS__, __VA_ARGS__)

/* A condition the experiment needs that is not a call's success (a port,
 * an allocation): when it is false the role stops and the variant is an
 * ERROR with what and errno, never a verdict. */
#define SL_REQUIRE(self, cond, what)					\
	do {								\
		if (!(cond))						\
			sl__role_fail((self), (what), errno, __FILE__,	\
				      __LINE__);			\
	} while (0)

/* sl_call() and sl_try() with or without a name: the fourth argument of
 * (args..., as, auto) is "as" with three, "auto" with two.  The text of
 * the arguments, as written, names the call (lib/call.c). */
#define SL__PICK(a, b, c, pick, ...) pick
#define sl__call_auto(text, self, expr) sl__run(self, NULL, text, 1, expr)
#define sl__call_as(text, self, name, expr) sl__run(self, name, text, 1, expr)
#define sl__try_auto(text, self, expr) sl__run(self, NULL, text, 0, expr)
#define sl__try_as(text, self, name, expr) sl__run(self, name, text, 0, expr)

/* The expression is evaluated between two timestamps, with errno cleared
 * before, so that its value and errno land on the timeline as it left
 * them. */
#define sl__run(self, name, text, must, expr)				\
	({								\
		int64_t sl__t0 = sl__now();				\
		errno = 0;						\
		long sl__ret = (long)(expr);				\
		int sl__err = errno;					\
		sl__call((self), (name), (text), (must), sl__t0,	\
			 sl__ret, sl__err, __FILE__, __LINE__);		\
		errno = sl__err;					\
		sl__ret;						\
	})

int64_t sl__now(void);
void sl__call(struct sl_role *self, const char *name, const char *text,
	      int must, int64_t t0, long ret, int err, const char *file,
	      int line);
void sl__record(struct sl_role *self, const char *name, int64_t t0, long ret,
		int err);
void sl__role_fail(struct sl_role *self, const char *what, int err,
		   const char *file, int line) __attribute__((noreturn));

/* ---- predictions (PREDICT) ----
 *
 * Each expect_ or measure_ macro takes its options as designated
 * initialisers.  An option left out means any: a match without .from
 * matches every sender, one without .len every length.  A number given is
 * that number: .len = 0 is a segment without payload, .max = 0 is never.
 * The same name means the same thing in every option struct: .from and .to
 * are hosts (sender, receiver), .state a socket's state in ss's words,
 * .after and .before marks ("closing", or "server:closing" for one host's). */

struct sl_match {
	const char *from;	/* sending host */
	const char *to;		/* receiving host */
	const char *flags;	/* that must be set, tcpdump letters: "R", "F." */
	const char *not_flags;	/* that must not be set */
	long len;		/* payload bytes, exactly */
	long win;		/* the window field as on the wire (not
				 * scaled), exactly: .win = 0, a zero window */
	long min_win;		/* the window field at least this */
	long sack;		/* SACK blocks in the options, exactly */
	long dsack;		/* 1: the first SACK block is a D-SACK (RFC
				 * 2883: below the ACK number, or inside the
				 * second block); 0: it is not (or none) */
	long dup_ack;		/* 1: a duplicate ACK (RFC 5681: no payload,
				 * no SYN, FIN or RST, and the ACK number and
				 * window of the same sender's previous
				 * segment to that peer); 0: not one */
	const char *after;	/* mark */
	const char *before;	/* mark */
	int within_ms;		/* with after: no later than this after the mark */
	int answer_ms;		/* an answer: sent no later than this after
				 * its sender's capture saw the last segment
				 * of that connection arrive from the peer */
};

#define SL__MATCH(call, ...)						\
	SL__WITH(struct sl_match, sl__m,				\
		 .len = SL__ANY SL__COMMA .win = SL__ANY SL__COMMA	\
		 .min_win = SL__ANY SL__COMMA .sack = SL__ANY SL__COMMA \
		 .dsack = SL__ANY SL__COMMA .dup_ack = SL__ANY,		\
		 call, __VA_ARGS__)
#define SL__COMMA ,

/* At least one packet matches. */
#define expect_packet(p, ...)						\
	SL__MATCH(sl__expect_packets((p), &sl__m, -1, __LINE__), __VA_ARGS__)
/* No packet matches. */
#define expect_no_packet(p, ...)					\
	SL__MATCH(sl__expect_packets((p), &sl__m, 0, __LINE__), __VA_ARGS__)
/* Exactly n packets match. */
#define expect_packets(p, n, ...)					\
	SL__MATCH(sl__expect_packets((p), &sl__m, (n), __LINE__), __VA_ARGS__)

/* The address family the variant ran over, AF_INET or AF_INET6, as its
 * packets tell (AF_INET when it has none): for a prediction whose numbers
 * differ with the family, such as a full segment's length (the IPv6 header
 * is 20 bytes longer, so the MSS is 20 bytes shorter). */
int sl_predict_family(const struct sl_predict *p);

/* The last call recorded as name on host failed with errno err. */
void expect_errno(struct sl_predict *p, const char *host, const char *name,
		  int err);
/* The last call recorded as name on host returned ret. */
void expect_ret(struct sl_predict *p, const char *host, const char *name,
		long ret);

/* What the last call recorded as name on host returned, for predictions
 * whose numbers the kernel chose in this run and a role read from it
 * before the claim's timer started (the RTO, from TCP_INFO):
 *	long rto_us;
 *	if (sl_predict_ret(p, "client", "tcpi_rto", "us", &rto_us) == 0)
 *		expect_packets_at_ms(p, SL_MS(0, rto_us / 1000.0), ...);
 * 0 with *ret set, and the value kept as a measurement (host.name, in
 * unit), so the report prints what the predictions were computed from;
 * or -1 when
 * no such call was recorded (or it failed), after adding a prediction
 * skipped with that reason: the variant cannot hold on predictions that
 * were never made. */
int sl_predict_ret(struct sl_predict *p, const char *host, const char *name,
		   const char *unit, long *ret);

/* Records, as a measurement, the time in ms from the match's .after mark
 * to the first matching packet (not a prediction: it never fails). */
#define measure_packet_ms(p, name, ...)					\
	SL__MATCH(sl__measure_packet_ms((p), (name), &sl__m), __VA_ARGS__)

void sl__expect_packets(struct sl_predict *p, const struct sl_match *m,
			int count, int line);
void sl__measure_packet_ms(struct sl_predict *p, const char *name,
			   const struct sl_match *m);

/* ---- a socket's states and life ----
 *
 * States are the kernel's own changes (sock:inet_sock_set_state) where
 * tracefs is there, however short; TIME-WAIT, which the kernel does not
 * report, the end of a mini-socket, and every state without tracefs come
 * from sock_diag samples and what the roles' tuple waits recorded
 * (lib/sockhist.h).  Without tracefs a state no sample saw is skipped with
 * the reason: it may have been too short for the sampling.  Listeners are
 * not considered by expect_gone, expect_state_kept and the durations. */
struct sl_sock_match {
	const char *host;	/* where the socket lives */
	const char *state;	/* ss's name: "TIME-WAIT", "CLOSE-WAIT", ... */
	int lport, rport;	/* 0: any */
	const char *after;	/* mark */
	const char *before;	/* mark */
	int within_ms;		/* with after: no later than this after it */
	int min_ms, max_ms;	/* durations: the tolerance, printed */
	long rqueue, wqueue;	/* Recv-Q and Send-Q as ss shows them,
				 * exactly; of a LISTEN socket: the accept
				 * queue's fill and its size */
};

#define SL__SOCK(call, ...)						\
	SL__WITH(struct sl_sock_match, sl__m,				\
		 .rqueue = SL__ANY SL__COMMA .wqueue = SL__ANY,		\
		 call, __VA_ARGS__)

/* A socket on host was in state (in the window .after/.before give). */
#define expect_state(p, ...)						\
	SL__SOCK(sl__expect_state((p), &sl__m, 1, __LINE__), __VA_ARGS__)
/* No socket on host was ever in state (judged as expect_state()). */
#define expect_no_state(p, ...)						\
	SL__SOCK(sl__expect_state((p), &sl__m, 0, __LINE__), __VA_ARGS__)
/* A socket on host that was last seen in state (none: any) disappeared
 * after the mark (within within_ms of it). */
#define expect_gone(p, ...)						\
	SL__SOCK(sl__expect_gone((p), &sl__m, __LINE__), __VA_ARGS__)
/* A socket on host was in state at the mark and still was when the run
 * ended: it never left the state nor disappeared after the mark. */
#define expect_state_kept(p, ...)					\
	SL__SOCK(sl__expect_state_kept((p), &sl__m, __LINE__), __VA_ARGS__)
/* How long a socket stayed in state: from the kernel's change into it to
 * its change out of it, by the kernel's clock; where only samples saw an
 * end (a mini-socket's) or the state (no tracefs), from the segment that
 * put it there (the last one it received before it was first seen in the
 * state) to the first look that no longer showed it, which adds up to a
 * sampling period (20 ms, 1 ms while a role waits on it).  Between min_ms
 * and max_ms.  Recorded as a measurement too. */
#define expect_state_lasts(p, ...)					\
	SL__SOCK(sl__expect_state_ms((p), &sl__m, 0, __LINE__), __VA_ARGS__)
/* The same length as the socket's timer had it set: from that segment to
 * the first sample in the state, plus the time the timer still had to run
 * then.  Recorded as a measurement too. */
#define expect_state_timer(p, ...)					\
	SL__SOCK(sl__expect_state_ms((p), &sl__m, 1, __LINE__), __VA_ARGS__)

/* Measurements, never failing: name.recv_q_max and name.send_q_max, the
 * largest Recv-Q and Send-Q that the samples saw of the matching sockets
 * (a buffer filling, as ss would have shown it). */
#define measure_queues(p, name, ...)					\
	SL__SOCK(sl__measure_queues((p), (name), &sl__m), __VA_ARGS__)

void sl__expect_state(struct sl_predict *p, const struct sl_sock_match *m,
		      int seen, int line);
void sl__measure_queues(struct sl_predict *p, const char *name,
			const struct sl_sock_match *m);
void sl__expect_gone(struct sl_predict *p, const struct sl_sock_match *m,
		     int line);
void sl__expect_state_kept(struct sl_predict *p,
			   const struct sl_sock_match *m, int line);
void sl__expect_state_ms(struct sl_predict *p, const struct sl_sock_match *m,
			 int by_timer, int line);

/* ---- timing: retransmissions, probes, timeouts ----
 *
 * Timing predictions carry their tolerance, and their evidence prints what
 * was measured next to what was predicted. */

/* A tolerance: a measured time holds when it is within pct percent of the
 * predicted one, or within ms of it, whichever is wider. */
struct sl_tol {
	double pct, ms;
};
#define SL_TOL(pct_, ms_) ((struct sl_tol){ .pct = (pct_), .ms = (ms_) })

/* Times in ms for expect_packets_at_ms(): SL_MS(0, 200, 600, 1400). */
#define SL_MS(...)							\
	(const double[]){ __VA_ARGS__ },				\
	(int)(sizeof((const double[]){ __VA_ARGS__ }) / sizeof(double))

/* Exactly as many packets match as times are given, and the k-th comes
 * times[k] ms after the match's .after mark (required), within tol:
 *	expect_packets_at_ms(p, SL_MS(0, 200, 600), SL_TOL(5, 10),
 *			     .from = "client", .len = 100, .after = "sending");
 * (a segment and two retransmissions, 200 ms apart, then 400). */
#define expect_packets_at_ms(p, times, tol, ...)			\
	SL__MATCH(sl__expect_packets_at_ms((p), times, (tol), &sl__m,	\
					   __LINE__), __VA_ARGS__)

/* The last call named name on host returned ms after the mark after,
 * within tol: how long a read() blocked before it failed, for instance. */
void expect_call_ms(struct sl_predict *p, const char *host, const char *name,
		    const char *after, double ms, struct sl_tol tol);

/* Measurements, never failing: the gaps between successive matching
 * packets, in ms (name.gap1, name.gap2, ...), and how they grow
 * (name.backoff: the last gap divided by the one before it, 2 for a timer
 * that doubles). */
#define measure_gaps_ms(p, name, ...)					\
	SL__MATCH(sl__measure_gaps_ms((p), (name), &sl__m), __VA_ARGS__)

/* A timer that backs off: at least three packets match, and each gap
 * between successive ones, from the second on, is factor times the gap
 * before it, within tol (of that product).  The first gap is whatever the
 * run made it, so a timer whose first interval depends on the path (the
 * RTO, the persist timer: TCP_RTO_MIN plus the RTT) is judged on how it
 * grows:
 *	expect_backoff(p, 2, SL_TOL(12.5, 10), .from = "client", .len = 0,
 *		       .after = "zero window", .before = "reading");
 * The evidence prints each gap and its ratio to the one before. */
#define expect_backoff(p, factor, tol, ...)				\
	SL__MATCH(sl__expect_backoff((p), (factor), (tol), &sl__m,	\
				     __LINE__), __VA_ARGS__)

/* Measurement: ms from the mark after to the return of the last call named
 * name on host. */
void measure_call_ms(struct sl_predict *p, const char *mname,
		     const char *host, const char *name, const char *after);

void sl__expect_packets_at_ms(struct sl_predict *p, const double *ms, int n,
			      struct sl_tol tol, const struct sl_match *m,
			      int line);
void sl__measure_gaps_ms(struct sl_predict *p, const char *name,
			 const struct sl_match *m);
void sl__expect_backoff(struct sl_predict *p, double factor, struct sl_tol tol,
			const struct sl_match *m, int line);

/* When the peer acknowledged each matching segment that carries data (or
 * a SYN or FIN), timed from the segment itself, not from a mark: from the
 * segment, as its sender's capture saw it leave, to the first segment its
 * receiver sent back on that connection whose ACK number covers it (a pure
 * ACK, or data that carries the ACK), as the receiver's capture saw that
 * leave.  Exactly as many segments match as times are given, and the k-th
 * is acknowledged times[k] ms after it, within tol:
 *	expect_acked_at_ms(p, SL_MS(40), SL_TOL(0, 10), .from = "client",
 *			   .len = 1, .after = "sending");
 * (the server's delayed ACK of one byte).  A mark before a write times the
 * role's own lateness too; this is the receiver's delay alone. */
#define expect_acked_at_ms(p, times, tol, ...)				\
	SL__MATCH(sl__expect_acked_at_ms((p), times, (tol), &sl__m,	\
					 __LINE__), __VA_ARGS__)
/* Measurement, never failing: the same delay, name for one segment,
 * name.1, name.2, ... for several. */
#define measure_acked_ms(p, name, ...)					\
	SL__MATCH(sl__measure_acked_ms((p), (name), &sl__m), __VA_ARGS__)

void sl__expect_acked_at_ms(struct sl_predict *p, const double *ms, int n,
			    struct sl_tol tol, const struct sl_match *m,
			    int line);
void sl__measure_acked_ms(struct sl_predict *p, const char *name,
			  const struct sl_match *m);

/* ---- the kernel's own account ----
 *
 * The kernel's tracepoints say what it did and why: every TCP state change,
 * each RST sent with its reason, RSTs received, retransmissions, and drops
 * with their reason (trace.h).  Its counters say how often, as `nstat`
 * names them (counters.h).  Where tracefs is missing, predictions on kernel
 * events are skipped with the reason, and the others still decide. */

struct sl_kernel_match {
	const char *host;	/* the host of the socket (its own address) */
	/* The tracepoint: "inet_sock_set_state", "tcp_send_reset",
	 * "tcp_receive_reset", "tcp_retransmit_skb",
	 * "tcp_retransmit_synack", "kfree_skb" (a drop). */
	const char *event;
	const char *reason;	/* RST or drop reason: "TCP_ABORT_ON_CLOSE" */
	const char *old_state;	/* state changes: the state left */
	const char *state;	/* the socket's state: for a change the one
				 * entered ("CLOSE", or ss's names) */
	int lport, rport;	/* 0: any */
	const char *after;	/* mark */
	const char *before;	/* mark */
	int within_ms;		/* with after */
	long min, max;		/* counts: at least min, at most max */
};

#define SL__KERNEL(p, event, mode, ...)				\
	SL__WITH(struct sl_kernel_match, sl__m,				\
		 .min = SL__ANY SL__COMMA .max = SL__ANY,		\
		 sl__expect_kernel((p), &sl__m, (event), (mode), __LINE__), \
		 __VA_ARGS__)

/* At least one kernel event matches (with .min/.max: that many):
 *	expect_kernel(p, .host = "server", .event = "tcp_send_reset",
 *		      .reason = "TCP_ABORT_ON_CLOSE", .after = "closing"); */
#define expect_kernel(p, ...) SL__KERNEL(p, NULL, 1, __VA_ARGS__)
/* No kernel event matches. */
#define expect_no_kernel(p, ...) SL__KERNEL(p, NULL, 0, __VA_ARGS__)
/* A socket on .host passed through a state change (inet_sock_set_state):
 *	expect_state_change(p, .host = "server", .old_state = "ESTABLISHED",
 *			    .state = "CLOSE", .after = "closing");
 * The kernel reports no change to TIME_WAIT (the socket is replaced by a
 * mini-socket and goes to CLOSE): use expect_state(.state = "TIME-WAIT"). */
#define expect_state_change(p, ...)					\
	SL__KERNEL(p, "inet_sock_set_state", 1, __VA_ARGS__)
/* No socket on .host made that change (never reached .state). */
#define expect_no_state_change(p, ...)					\
	SL__KERNEL(p, "inet_sock_set_state", 0, __VA_ARGS__)
/* A packet for a socket of .host was dropped, with .reason if given.
 * Only drops provably of this run count (see the lab guides). */
#define expect_drop(p, ...) SL__KERNEL(p, "kfree_skb", 1, __VA_ARGS__)
/* The number of retransmissions by .host (segments, SYNs and SYN-ACKs) is
 * at least .min and at most .max. */
#define expect_retransmits(p, ...)					\
	SL__KERNEL(p, "tcp_retransmit", 2, __VA_ARGS__)

struct sl_count {
	long min;		/* at least (may be negative for gauges) */
	long max;		/* at most */
};

/* A kernel counter of host moved by at least .min and at most .max over
 * the run (nstat's names and deltas):
 *	expect_counter(p, "server", "TcpExtTCPAbortOnClose", .min = 1);
 *	expect_counter(p, "server", "TcpExtTCPAbortOnLinger", .max = 0); */
#define expect_counter(p, host, name, ...)				\
	SL__WITH(struct sl_count, sl__c,					\
		 .min = SL__ANY SL__COMMA .max = SL__ANY,		\
		 sl__expect_counter((p), (host), (name), &sl__c, __LINE__), \
		 __VA_ARGS__)

void sl__expect_kernel(struct sl_predict *p, const struct sl_kernel_match *m,
		       const char *event, int mode, int line);
void sl__expect_counter(struct sl_predict *p, const char *host,
			const char *name, const struct sl_count *c, int line);

/* ---- faults on the path ----
 *
 * Faults act on the router, between client and server, so that both hosts
 * keep their links up and see nothing but what the path does.  A role
 * applies one at a moment of its choosing (the call returns once the fault
 * is in force and marks "fault <kind>" on the timeline); SETUP applies one
 * from the start.  Every fault is lifted at teardown with the namespaces.
 * The backend that served it (nftables, tc netem, or socklab's own link
 * emulator through NFQUEUE) is recorded in the results. */
struct sl_fault {
	const char *kind;	/* "blackhole", "drop", "delay", "loss", "reorder" */
	const char *from;	/* sending host of the affected direction; NULL: both */
	/* drop: the next .count segments (default 1) matching these, once */
	const char *flags, *not_flags;
	long len;		/* payload bytes, exactly (see SL__LEN) */
	int count;
	int delay_ms, jitter_ms;	/* delay */
	double loss;		/* loss: probability 0..1 */
	int reorder_pct;	/* reorder: share of segments sent ahead */
};

/* The harness reads struct sl_fault's .len as 0 for any length and n + 1
 * for n bytes (lib/linkemu.c), so that a fault built without the macro
 * matches any length; sl_fault() turns the author's .len into that. */
#define SL__LEN(n) ((long)(n) + 1)

/* Applies the fault: from a role now, from SETUP before any role starts:
 *	sl_fault(self, .kind = "blackhole");
 *	sl_fault(s, .kind = "delay", .delay_ms = 50); */
#define sl_fault(h, ...)						\
	SL__WITH(struct sl_fault, sl__f, .len = SL__ANY,			\
		 (sl__f.len = sl__f.len == SL__ANY ? 0 : SL__LEN(sl__f.len), \
		  _Generic((h), struct sl_role *: sl__fault_role,	\
			   struct sl_setup *: sl__fault_setup)((h), &sl__f)), \
		 __VA_ARGS__)
int sl__fault_role(struct sl_role *self, const struct sl_fault *f);
void sl__fault_setup(struct sl_setup *s, const struct sl_fault *f);

/* Host crash: host vanishes silently (its role processes are stopped and
 * its traffic is blackholed, so it sends nothing: no FIN, no RST). */
void sl_crash(struct sl_role *self, const char *host);
/* Host reboot, after a crash: host comes back with the same address and no
 * socket state at all. */
void sl_reboot(struct sl_role *self, const char *host);

/* ---- TIME-WAIT: waiting on a 4-tuple, crafted segments 
 *
 * After close() the descriptor is gone but the connection lives on in the
 * kernel (FIN-WAIT-2, LAST-ACK, TIME-WAIT): take its 4-tuple first, then
 * wait on that.  A role can also read what the captures saw (the segments
 * every host sent, as the timeline will show them) and send a segment that
 * no socket would send, with numbers computed from them. */

/* A connection's addresses, as getsockname() and getpeername() give them. */
struct sl_tuple {
	struct sockaddr_storage local, peer; /* either family: sl_port() */
};

/* The 4-tuple of the connected socket fd; take it before close().  A socket
 * without a peer makes the variant an ERROR. */
struct sl_tuple sl_tuple(struct sl_role *self, int fd);

/* For sl_wait_tuple(): no socket on this host has the 4-tuple any more. */
#define SL_GONE 0

/* Waits until the socket on t is in state (TCP_TIME_WAIT, TCP_LAST_ACK,
 * ...), or reached it during the wait, or with SL_GONE until there is
 * none: woken by the kernel's state changes as they happen, and checked
 * with sock_diag as ss reads it (the end of a TIME-WAIT, which no event
 * announces, is polled; so is everything without tracefs).  Records what
 * sock_diag showed then (sl_record_tuple()).  Past the deadline the
 * variant is an ERROR: wait for what the experiment needs, and let the
 * predictions judge what the claim is about. */
void sl_wait_tuple(struct sl_role *self, const struct sl_tuple *t, int state);

/* Records what sock_diag shows for t now, as a socket-state line of this
 * host on the timeline ("(gone)" when no socket has the 4-tuple), and
 * returns its state or SL_GONE.  For a look at a moment the role chose
 * (after the last ACK has left): the samplers may not be looking then.
 * sl_wait_tuple() records what it saw when it returns, in the same way. */
int sl_record_tuple(struct sl_role *self, const struct sl_tuple *t);

/* Waits until the socket on t has been in TIME-WAIT for at least ms, as its
 * own timer tells (Linux arms it for 60 s on entry: the age is 60 s minus
 * what is left).  For a condition on the age of a TIME-WAIT, such as
 * net.ipv4.tcp_tw_reuse_delay, without sleeping blindly. */
void sl_wait_timewait_ms(struct sl_role *self, const struct sl_tuple *t,
			 int ms);

/* A segment as the capture saw it leave its sender. */
struct sl_segment {
	int64_t t;		/* when, CLOCK_MONOTONIC ns */
	struct in6_addr saddr, daddr; /* ipaddr.h: IPv4 as ::ffff:a.b.c.d */
	uint16_t sport, dport;	/* host byte order */
	uint32_t seq, ack;	/* absolute, host byte order */
	uint8_t flags;		/* TH_SYN, TH_FIN, ... of <netinet/tcp.h> */
	uint16_t win;		/* as on the wire, not scaled */
	uint32_t len;		/* payload bytes */
	bool has_ts;		/* timestamps option: */
	uint32_t tsval, tsecr;
};

/* The sequence number that follows s: seq + payload, + 1 for a SYN or a FIN
 * (what the receiver's rcv_nxt became). */
static inline uint32_t sl_segment_next(const struct sl_segment *s)
{
	return s->seq + s->len + !!(s->flags & TH_SYN) + !!(s->flags & TH_FIN);
}

struct sl_segment_match {
	const char *from;	/* sending host, NULL: any */
	const char *to;		/* receiving host, NULL: any */
	int sport, dport;	/* 0: any */
	const char *flags;	/* that must be set, tcpdump letters: "F", "S." */
	const char *not_flags;	/* that must not be set */
	/* The anchor, at most one; none: the start of the run. */
	const char *after;	/* mark: the first match sent after it
				 * ("closing", or "server:closing") */
	const struct sl_segment *after_segment;	/* the first match sent
						 * after this segment */
	const struct sl_segment *before_segment; /* the last match sent
						  * before this segment */
	bool zero_window;	/* only segments advertising a zero window */
};

/* The segment that matches closest to its anchor, waiting until the
 * captures have seen one: the first one sent after the anchor, or with
 * .before_segment the last one sent before it.
 *	struct sl_segment fin = sl_wait_segment(self, .from = "server",
 *						.flags = "F");
 *	struct sl_segment again = sl_wait_segment(self, .from = "server",
 *						  .flags = "F",
 *						  .after_segment = &fin);
 * The first call gives the server's first FIN even when a retransmission
 * of it has been captured by then; the second gives the retransmission.
 * "Seen" is the captures' view, a few microseconds behind the kernel's.
 * The captures keep the run's last 4096 segments: an anchor older than
 * that makes the variant an ERROR, never another segment. */
#define sl_wait_segment(self, ...)					\
	sl__wait_segment((self), &(struct sl_segment_match){ __VA_ARGS__ })
struct sl_segment sl__wait_segment(struct sl_role *self,
				   const struct sl_segment_match *m);

struct sl_inject {
	const char *from;	/* NULL or the role's own host: it leaves there */
	const char *to;		/* the receiving host */
	int sport, dport;	/* host byte order */
	const char *flags;	/* tcpdump letters: "S", "R", "R.", "P.", "F." */
	uint32_t seq, ack;	/* absolute */
	int win;		/* 0: 64240, or 0 on a RST */
	int mss;		/* MSS option, 0: none */
	bool ts;		/* timestamps option with tsval and tsecr */
	uint32_t tsval, tsecr;
	const void *payload;
	size_t len;
	const char *note;	/* where the numbers come from, for the timeline */
};

/* Sends a crafted TCP segment from this role's host, through a raw socket
 * (both checksums right, options as Linux lays them out), and returns it
 * as sent (t: just before it left), for sl_wait_segment(.after_segment =
 * ...):
 *	sl_inject(self, .to = "server", .sport = 40000, .dport = SL_PORT,
 *		  .flags = "S", .seq = sl_segment_next(&fin) + 100000,
 *		  .note = "seq: the old connection's next + 100000");
 * The timeline shows it once, as the capture saw it leave, marked
 * "(injected)" with the note.  A failure to send is an ERROR. */
#define sl_inject(self, ...)						\
	sl__inject((self), &(struct sl_inject){ __VA_ARGS__ })
struct sl_segment sl__inject(struct sl_role *self,
			     const struct sl_inject *in);

/* clang-format on */
#endif
