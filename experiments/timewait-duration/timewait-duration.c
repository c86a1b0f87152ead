/*
 * timewait-duration
 *
 * Claim: TIME_WAIT lasts 2MSL; on Linux it is a fixed 60 s, not tunable by
 * tcp_fin_timeout (which bounds FIN_WAIT_2).
 *
 * Why: tcp_time_wait() in net/ipv4/tcp_minisocks.c arms the TIME-WAIT
 * socket's timer with TCP_TIMEWAIT_LEN, a constant of include/net/tcp.h
 * (60 * HZ, "how long to wait to destroy TIME-WAIT state, about 60
 * seconds"), whatever the sysctls say.  net.ipv4.tcp_fin_timeout is read by
 * tcp_fin_time() for an orphaned socket in FIN-WAIT-2 only: the peer has
 * ACKed our FIN but not sent its own, and we will not wait for it forever.
 * When that FIN does arrive, the FIN-WAIT-2 mini-socket becomes TIME-WAIT
 * and is rescheduled for TCP_TIMEWAIT_LEN again (tcp_timewait_state_process).
 *
 * How it is measured, twice: by the socket's own timer (the first sample in
 * TIME-WAIT reads how long the timer still has to run; add the time since
 * the FIN that started it) and by the entry's disappearance from sock_diag.
 * The two differ by the kernel's timer wheel, which never fires a timer
 * early but runs a 60 s one in a bucket up to 1/8 of it late (2.048 s with
 * HZ=250, 4.096 s with HZ=1000, 5.12 s with HZ=100): the tolerances say so.
 *
 * Variants: tcp_fin_timeout on the client (the side that closes first) at
 * its default, 60 s, and at 5 s, with a server that closes as soon as it
 * reads EOF (TIME-WAIT 60 s in both); and at 5 s with a server that keeps
 * its end open, where FIN-WAIT-2 ends after 5 s and never becomes
 * TIME-WAIT.  A variant waits out its timer, so the experiment takes about
 * a minute; it is run with the others, not after them.
 */
#include "socklab.h"
#include "../common.h"

/* TCP_TIMEWAIT_LEN, as the notes have it. */
#define TW_MS 60000
/* The timer is read in jiffies (4 ms at HZ=250) by a dump that takes a
 * fraction of a millisecond: a generous margin either way. */
#define TIMER_TOL_MS 50
/* The wheel's lateness for a 60 s timer on any HZ from 100 to 1000, plus
 * the samplers' 20 ms. */
#define TW_WHEEL_MS 5200
#define FW2_WHEEL_MS 600

EXPERIMENT(timewait_duration) {
	.claim = "TIME_WAIT lasts a fixed 60 s on Linux, not tunable by "
		 "tcp_fin_timeout (which bounds FIN_WAIT_2)",
	.expected = SL_CONFIRMED,
	.topic = SL_TOPIC_TIME_WAIT,
	.belief = "measured: the 60 s of TCP_TIMEWAIT_LEN",
	/* 60 s of TIME-WAIT, up to 5 s of timer wheel, and the rest. */
	.timeout_s = 75,
};

KNOBS(timewait_duration) {
	const char *fin_timeout;	/* net.ipv4.tcp_fin_timeout, client */
	bool peer_keeps_open;		/* the server does not close */
};

VARIANT(timewait_duration, fin_timeout_default) { .fin_timeout = NULL };
VARIANT(timewait_duration, fin_timeout_5) { .fin_timeout = "5" };
VARIANT(timewait_duration, fin_timeout_5_peer_keeps_open) {
	.fin_timeout = "5", .peer_keeps_open = true,
};

SETUP(timewait_duration)
{
	if (variant->fin_timeout)
		sl_sysctl(s, "client", "net.ipv4.tcp_fin_timeout",
			  variant->fin_timeout);
}

ROLE(timewait_duration, server)
{
	int lfd = sl_listen(self, SL_PORT);
	int fd = sl_call(self, accept(lfd, NULL, NULL));

	read_fin(self, fd);
	if (variant->peer_keeps_open)
		sl_wait_mark(self, "client", "over");
	sl_mark(self, "closing");
	sl_try(self, close(fd));
}

ROLE(timewait_duration, client)
{
	int fd = sl_connect(self, "server", SL_PORT);
	struct sl_tuple t = sl_tuple(self, fd);

	sl_mark(self, "closing");
	sl_try(self, close(fd));
	/* What the experiment needs is a closed socket whose end it can
	 * watch: FIN-WAIT-2 when the server keeps its end open, TIME-WAIT
	 * once it has closed too.  Then it waits the state out. */
	sl_wait_tuple(self, &t, variant->peer_keeps_open ? TCP_FIN_WAIT2 :
							 TCP_TIME_WAIT);
	sl_mark(self, "waiting");
	sl_wait_tuple(self, &t, SL_GONE);
	sl_mark(self, "over");
}

PREDICT(timewait_duration)
{
	if (!variant->peer_keeps_open) {
		/* 60 s by the timer, and gone after 60 s plus the wheel's
		 * rounding, whatever tcp_fin_timeout says. */
		expect_state_timer(p, .host = "client", .state = "TIME-WAIT",
				   .min_ms = TW_MS - TIMER_TOL_MS,
				   .max_ms = TW_MS + TIMER_TOL_MS);
		expect_state_lasts(p, .host = "client", .state = "TIME-WAIT",
				   .min_ms = TW_MS - TIMER_TOL_MS,
				   .max_ms = TW_MS + TW_WHEEL_MS);
	} else {
		/* tcp_fin_timeout bounds FIN-WAIT-2: 5 s, then the socket
		 * is gone without passing through TIME-WAIT, and the
		 * server's late FIN meets nobody. */
		expect_state_timer(p, .host = "client", .state = "FIN-WAIT-2",
				   .min_ms = 5000 - TIMER_TOL_MS,
				   .max_ms = 5000 + TIMER_TOL_MS);
		expect_state_lasts(p, .host = "client", .state = "FIN-WAIT-2",
				   .min_ms = 5000 - TIMER_TOL_MS,
				   .max_ms = 5000 + FW2_WHEEL_MS);
		expect_no_state(p, .host = "client", .state = "TIME-WAIT");
		expect_packet(p, .from = "client", .flags = "R",
			      .after = "server:closing", .answer_ms = 50);
	}
}
