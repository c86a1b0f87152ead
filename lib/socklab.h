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
 *	ROLE(x, server) { ...socket code, using self and variant... }
 *	ROLE(x, client) { ... }
 *	PREDICT(x) { expect_packet(p, .from = "server", .flags = "R"); }
 *
 * Roles are ordinary socket code run in their host's network namespace, each
 * in a process of its own.  They report what the application saw through
 * sl_record() and mark moments with sl_mark(), and they wait for each other
 * with sl_wait_mark() or for a socket state with sl_wait_state(), never by
 * sleeping.  Predictions are judged by the harness on the recorded timeline
 * and the verdict is derived from them: no experiment can print one.
 */
#ifndef SOCKLAB_H
#define SOCKLAB_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

/* The port the server listens on, unless an experiment picks another. */
#define SL_PORT 5000

enum sl_verdict {
	SL_CONFIRMED,
	SL_REFUTED,
	SL_NUANCED,
	SL_ERROR,	/* could not run: never a verdict on the claim */
};

struct sl_experiment {
	const char *claim;
	enum sl_verdict expected;
	/* Longest a variant's roles may take, in seconds (default 20).  Past
	 * it the roles are killed and the run is an ERROR, not a verdict. */
	int timeout_s;
};

struct sl_role;		/* a role's handle: self */
struct sl_setup;	/* a variant's set-up handle, before roles start */
struct sl_predict;	/* a variant's prediction handle: p */

/* ---- registration (one experiment per executable) ---- */

struct sl__variant_def {
	const char *name;
	const void *knobs;
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

#define VARIANT(x, vname)						\
	static const struct x##__knobs x##__knobs_##vname;		\
	static const struct sl__variant_def x##__variant_##vname = {	\
		.name = #vname, .knobs = &x##__knobs_##vname };		\
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

/* ---- roles ---- */

/* The address of a host, with a port, ready for connect() or bind(). */
struct sockaddr_in sl_addr(struct sl_role *self, const char *host, int port);

/* Marks a named moment on the timeline ("closing", "sent 100"). */
void sl_mark(struct sl_role *self, const char *name);

/* Waits until host has marked name; past the variant's deadline the role
 * stops and the variant is an ERROR. */
void sl_wait_mark(struct sl_role *self, const char *host, const char *name);

/* Waits until the socket fd is in state (TCP_ESTABLISHED, TCP_CLOSE_WAIT,
 * ... from <netinet/tcp.h>), read through sock_diag as ss reads it. */
void sl_wait_state(struct sl_role *self, int fd, int state);

/* Waits until at least bytes are queued for reading on fd (Recv-Q). */
void sl_wait_recvq(struct sl_role *self, int fd, int bytes);

/* socket(), bind() to port on this host, listen(); marks "listening".
 * Returns the listening fd. */
int sl_listen(struct sl_role *self, int port);

/* socket(), waits for host's "listening" mark, connect(); returns the fd. */
int sl_connect(struct sl_role *self, const char *host, int port);

/* Records what a syscall returned: the expression is evaluated between two
 * timestamps, and its value and errno land on the timeline under name.
 * Evaluates to the expression's value (as long). */
#define sl_record(self, name, expr)					\
	({								\
		int64_t sl__t0 = sl__now();				\
		errno = 0;						\
		long sl__ret = (long)(expr);				\
		int sl__err = errno;					\
		sl__record((self), (name), sl__t0, sl__ret, sl__err);	\
		errno = sl__err;					\
		sl__ret;						\
	})

int64_t sl__now(void);
void sl__record(struct sl_role *self, const char *name, int64_t t0, long ret,
		int err);

/* A condition the experiment needs in order to run at all (not the claim
 * under test): when it is false the role stops and the variant is an ERROR
 * with what and errno, never a verdict. */
#define SL_REQUIRE(self, cond, what)					\
	do {								\
		if (!(cond))						\
			sl__role_fail((self), (what), errno, __FILE__,	\
				      __LINE__);			\
	} while (0)

void sl__role_fail(struct sl_role *self, const char *what, int err,
		   const char *file, int line) __attribute__((noreturn));

/* ---- predictions (PREDICT) ---- */

/* Payload length filter: .len = SL_LEN(0).  Zero (the default) means any. */
#define SL_LEN(n) ((long)(n) + 1)

struct sl_match {
	const char *from;	/* sending host, NULL: any */
	const char *to;		/* receiving host, NULL: any */
	const char *flags;	/* flags that must be set, tcpdump letters: "R", "F.", "S" */
	const char *not_flags;	/* flags that must not be set */
	long len;		/* SL_LEN(n): payload of exactly n bytes */
	const char *after;	/* mark: "closing" (any host) or "server:closing" */
	const char *before;	/* mark */
	int within_ms;		/* with after: no later than this after the mark */
};

/* At least one packet matches. */
#define expect_packet(p, ...)						\
	sl__expect_packets((p), &(struct sl_match){ __VA_ARGS__ }, -1, __LINE__)
/* No packet matches. */
#define expect_no_packet(p, ...)					\
	sl__expect_packets((p), &(struct sl_match){ __VA_ARGS__ }, 0, __LINE__)
/* Exactly n packets match. */
#define expect_packets(p, n, ...)					\
	sl__expect_packets((p), &(struct sl_match){ __VA_ARGS__ }, (n), __LINE__)

struct sl_state_match {
	const char *host;	/* where the socket lives */
	const char *state;	/* ss's name: "TIME-WAIT", "CLOSE-WAIT", ... */
	int lport, rport;	/* 0: any */
	const char *after;	/* mark */
	const char *before;	/* mark */
};

/* A socket on host was seen in state (sock_diag samples). */
#define expect_state(p, ...)						\
	sl__expect_state((p), &(struct sl_state_match){ __VA_ARGS__ }, 1, __LINE__)
/* No socket on host was ever seen in state. */
#define expect_no_state(p, ...)						\
	sl__expect_state((p), &(struct sl_state_match){ __VA_ARGS__ }, 0, __LINE__)

/* The last call recorded as name on host failed with errno err. */
void expect_errno(struct sl_predict *p, const char *host, const char *name,
		  int err);
/* The last call recorded as name on host returned ret. */
void expect_ret(struct sl_predict *p, const char *host, const char *name,
		long ret);

/* Records, as a measurement, the time in ms from the match's .after mark
 * to the first matching packet (not a prediction: it never fails). */
#define measure_packet_ms(p, name, ...)					\
	sl__measure_packet_ms((p), (name), &(struct sl_match){ __VA_ARGS__ })

void sl__expect_packets(struct sl_predict *p, const struct sl_match *m,
			int count, int line);
void sl__expect_state(struct sl_predict *p, const struct sl_state_match *m,
		      int seen, int line);
void sl__measure_packet_ms(struct sl_predict *p, const char *name,
			   const struct sl_match *m);

/* ---- faults on the path (issue: faults) ----
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
	long len;		/* SL_LEN(n) */
	int count;
	int delay_ms, jitter_ms;	/* delay */
	double loss;		/* loss: probability 0..1 */
	int reorder_pct;	/* reorder: share of segments sent ahead */
};

/* From a role: applies the fault now; returns an id for sl_fault_lift(). */
#define sl_fault(self, ...)						\
	sl__fault_role((self), &(struct sl_fault){ __VA_ARGS__ })
/* From SETUP: the fault is in force before any role starts. */
#define sl_setup_fault(s, ...)						\
	sl__fault_setup((s), &(struct sl_fault){ __VA_ARGS__ })
int sl__fault_role(struct sl_role *self, const struct sl_fault *f);
void sl__fault_setup(struct sl_setup *s, const struct sl_fault *f);
void sl_fault_lift(struct sl_role *self, int id);

/* Host crash: host vanishes silently (its role processes are stopped and
 * its traffic is blackholed, so it sends nothing: no FIN, no RST). */
void sl_crash(struct sl_role *self, const char *host);
/* Host reboot, after a crash: host comes back with the same address and no
 * socket state at all. */
void sl_reboot(struct sl_role *self, const char *host);

#endif
