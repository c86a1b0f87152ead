/* test_trace.c: the kernel-event reader (lib/trace*.c, lib/kevent*.c)
 * without a kernel.
 *
 * tests/data/tracefs-6.18/ holds the format files of the six tracepoints
 * and the page header as kernel 6.18 publishes them, and one page read from
 * per_cpu/cpu1/trace_pipe_raw of an instance (trace_clock mono) while
 * rst-refused ran its variant nothing_on_port in slot 217 (client
 * 198.18.217.2, server 198.19.217.2).  Recorded timelines come from real
 * runs: tests/data/kernel-*.tl (see test_trace_predict.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipaddr.h"
#include "clock.h"
#include "err.h"
#include "timeline.h"
#include "trace.h"
#include "trace_attribute.h"
#include "trace_decode.h"

#include "recorded.h"

#define FMT_DIR SL_TEST_DATA "/tracefs-6.18/"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len)
		*len = n;
	return buf;
}

/* A decoder that knows the six tracepoints as kernel 6.18 describes them. */
static struct sl_trace_decoder *load_decoder(void)
{
	static const char *const names[SL_KEV_COUNT] = {
		[SL_KEV_SET_STATE] = "inet_sock_set_state",
		[SL_KEV_SEND_RESET] = "tcp_send_reset",
		[SL_KEV_RECEIVE_RESET] = "tcp_receive_reset",
		[SL_KEV_RETRANSMIT] = "tcp_retransmit_skb",
		[SL_KEV_RETRANSMIT_SYNACK] = "tcp_retransmit_synack",
		[SL_KEV_DROP] = "kfree_skb",
	};
	struct sl_trace_decoder *d;
	struct sl_err e = { "" };
	size_t len;
	char *text = slurp(FMT_DIR "header_page", &len);

	assert_int_equal(sl_trace_decoder_new(&d, text, len, &e), 0);
	free(text);
	for (int k = 0; k < SL_KEV_COUNT; k++) {
		char path[512];

		snprintf(path, sizeof(path), FMT_DIR "%s.format", names[k]);
		text = slurp(path, &len);
		assert_int_equal(sl_trace_decoder_add(d, k, text, len), 0);
		free(text);
	}
	return d;
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(sl_kev_name(SL_KEV_SEND_RESET), "tcp_send_reset");
	assert_int_equal(sl_kev_parse("tcp:tcp_send_reset"), SL_KEV_SEND_RESET);
	assert_int_equal(sl_kev_parse("kfree_skb"), SL_KEV_DROP);
	assert_int_equal(sl_kev_parse("sock:kfree_skb"), -1);
	assert_int_equal(sl_kev_parse("tcp_send_rst"), -1);
	assert_string_equal(sl_kstate_name(5), "FIN_WAIT2");
	assert_string_equal(sl_kstate_name(7), "CLOSE");
	assert_string_equal(sl_kstate_name(99), "?");
}

/* The reason tables and the filters come from the files, as the kernel
 * wrote them: nothing is hard-wired. */
static void test_format_files(void **state)
{
	struct sl_trace_decoder *d = load_decoder();
	struct in6_addr addr[2];
	char filter[256];

	(void)state;
	assert_string_equal(sl_trace_decoder_reason(d, SL_KEV_SEND_RESET, 11),
			    "TCP_ABORT_ON_CLOSE");
	assert_string_equal(sl_trace_decoder_reason(d, SL_KEV_SEND_RESET, 1),
			    "NO_SOCKET");
	assert_string_equal(sl_trace_decoder_reason(d, SL_KEV_SEND_RESET, 14),
			    "TCP_STATE");
	assert_null(sl_trace_decoder_reason(d, SL_KEV_SEND_RESET, 999));
	assert_true(sl_trace_decoder_nreasons(d, SL_KEV_DROP) > 100);
	assert_string_equal(sl_trace_decoder_reason(d, SL_KEV_DROP, 3),
			    "NO_SOCKET");
	assert_null(sl_trace_decoder_reason(d, SL_KEV_SET_STATE, 1));
	assert_int_equal(sl_trace_decoder_subbuf_size(d), 4096);

	/* A 4-byte saddr is compared in the kernel as the u32 it holds; the
	 * 28-byte sockaddr rooms of tcp_send_reset cannot be. */
	assert_int_equal(sl_ip_pton("198.18.217.2", &addr[0]), 0);
	assert_int_equal(sl_ip_pton("198.19.217.2", &addr[1]), 0);
	sl_trace_decoder_filter(d, SL_KEV_SET_STATE, addr, 2, filter,
				sizeof(filter));
	snprintf(filter + 200, 56,
		 "family == 2 && (saddr == %u || saddr == %u)",
		 inet_addr("198.18.217.2"), inet_addr("198.19.217.2"));
	assert_string_equal(filter, filter + 200);
	sl_trace_decoder_filter(d, SL_KEV_SEND_RESET, addr, 2, filter,
				sizeof(filter));
	assert_string_equal(filter, "");
	/* Nor can it compare a 16-byte saddr_v6: over IPv6 the kernel keeps
	 * the family, and the reader's own check on the address decides. */
	assert_int_equal(sl_ip_pton("2001:2:0:18d9::2", &addr[0]), 0);
	assert_int_equal(sl_ip_pton("2001:2:0:19d9::2", &addr[1]), 0);
	sl_trace_decoder_filter(d, SL_KEV_SET_STATE, addr, 2, filter,
				sizeof(filter));
	assert_string_equal(filter, "family == 10");
	sl_trace_decoder_filter(d, SL_KEV_SEND_RESET, addr, 2, filter,
				sizeof(filter));
	assert_string_equal(filter, "");

	/* Not a format file at all. */
	assert_int_equal(sl_trace_decoder_add(d, SL_KEV_SET_STATE,
					      "hello\nworld\n", 12),
			 -EINVAL);
	sl_trace_decoder_free(d);
}

/* The real page: rst-refused's RST and the drop of the SYN it answered. */
struct real {
	int resets, drops, closes;
	uint64_t reset_skb, drop_skb;
	int64_t reset_ts, drop_ts;
};

static void collect(void *arg, struct sl_trace_rec *x)
{
	struct real *r = arg;
	char a[32];

	sl_ip_ntop(&x->k.laddr, a, sizeof(a));
	assert_int_equal(x->host, -1);
	assert_int_equal(x->cpu, 1);
	if (x->k.type == SL_KEV_SEND_RESET && !strcmp(a, "198.19.217.2")) {
		assert_int_equal(x->k.lport, 5000);
		assert_string_equal(x->k.reason, "NO_SOCKET");
		r->reset_skb = x->skb;
		r->reset_ts = x->t;
		r->resets++;
	} else if (x->k.type == SL_KEV_DROP &&
		   !strcmp(x->k.reason, "NO_SOCKET")) {
		r->drop_skb = x->skb;
		r->drop_ts = x->t;
		r->drops++;
	} else if (x->k.type == SL_KEV_SET_STATE &&
		   !strcmp(a, "198.18.217.2") && x->k.oldstate == 2 &&
		   x->k.state == 7) {
		assert_true(x->sk != 0);
		r->closes++;
	}
}

static void test_real_page(void **state)
{
	struct sl_trace_decoder *d = load_decoder();
	struct real r = { 0 };
	size_t len;
	char *page = slurp(FMT_DIR "rst-refused-cpu1.page", &len);
	int lost;

	(void)state;
	assert_int_equal(len, 4096);
	assert_true(sl_trace_decoder_page(d, page, len, 1, collect, &r, &lost) >
		    3);
	assert_int_equal(lost, 0);
	assert_int_equal(r.resets, 1);
	assert_int_equal(r.drops, 1);
	assert_int_equal(r.closes, 1);
	/* The same packet, freed just after the RST that answered it: what
	 * sl_trace_attribute() relies on to keep such a drop. */
	assert_true(r.reset_skb != 0);
	assert_true(r.reset_skb == r.drop_skb);
	assert_true(r.drop_ts > r.reset_ts);
	assert_true(r.drop_ts - r.reset_ts < 100000);
	sl_trace_decoder_free(d);
	free(page);
}

/* Lost events are counted; a page that claims more than was read, or is
 * shorter than its header, is refused before a record is read. */
static void test_bad_pages(void **state)
{
	struct sl_trace_decoder *d = load_decoder();
	struct real r = { 0 };
	size_t len;
	char *page = slurp(FMT_DIR "rst-refused-cpu1.page", &len);
	uint64_t commit, orig;
	int lost;

	(void)state;
	memcpy(&orig, page + 8, 8);
	commit = orig | 1ull << 31;
	memcpy(page + 8, &commit, 8);
	assert_true(sl_trace_decoder_page(d, page, len, 1, collect, &r, &lost) >
		    3);
	assert_int_equal(lost, 1);

	commit = 8000;
	memcpy(page + 8, &commit, 8);
	assert_int_equal(sl_trace_decoder_page(d, page, len, 1, collect, &r,
					       &lost),
			 -EINVAL);
	memcpy(page + 8, &orig, 8);
	assert_int_equal(sl_trace_decoder_page(d, page, 64, 1, collect, &r,
					       &lost),
			 -EINVAL);
	assert_int_equal(sl_trace_decoder_page(d, page, 8, 1, collect, &r,
					       &lost),
			 -EINVAL);
	sl_trace_decoder_free(d);
	free(page);
}

/* ---- attribution ---- */

static struct sl_trace_rec rec(int64_t t, int host, int cpu, uint64_t sk,
			       uint64_t skb, int type, int oldstate, int st,
			       const char *reason)
{
	struct sl_trace_rec r = {
		.t = t,
		.host = host,
		.cpu = cpu,
		.sk = sk,
		.skb = skb,
		.k = { .type = type, .oldstate = oldstate, .state = st },
	};

	snprintf(r.k.reason, sizeof(r.k.reason), "%s", reason ? reason : "");
	sl_ip_pton(host == 0 ? "198.18.9.2" : "198.19.9.2", &r.k.laddr);
	r.k.lport = host == 0 ? 40000 : 5000;
	return r;
}

static int count(const struct sl_timeline *tl, int type, const char *reason)
{
	int n = 0;

	for (int i = 0; i < tl->n; i++)
		n += tl->ev[i].kind == SL_EV_KERNEL &&
		     tl->ev[i].k.type == type &&
		     (!reason || !strcmp(tl->ev[i].k.reason, reason));
	return n;
}

static void test_attribution(void **state)
{
	const uint64_t A = 0xffff888001000000ull, B = 0xffff888002000000ull;
	const uint64_t S = 0xffff888003000000ull, T = 0xffff888004000000ull;
	const int64_t ms = SL_NS_PER_MS;
	struct sl_trace_rec r[] = {
		/* socket A on the server, from LISTEN's child to CLOSE */
		rec(10 * ms, 2, 0, A, 0, SL_KEV_SET_STATE, 10, 3, NULL),
		rec(11 * ms, 2, 0, A, 0, SL_KEV_SET_STATE, 3, 1, NULL),
		/* a drop while A was ours: kept, on the server */
		rec(20 * ms, -1, 1, A, 0x1, SL_KEV_DROP, 0, 0,
		    "TCP_OLD_SEQUENCE"),
		rec(50 * ms, 2, 0, A, 0, SL_KEV_SET_STATE, 1, 7, NULL),
		/* after A's CLOSE the address may be anybody's: left out */
		rec(60 * ms, -1, 1, A, 0x2, SL_KEV_DROP, 0, 0,
		    "TCP_RFC7323_PAWS"),
		/* a socket we never saw: left out */
		rec(30 * ms, -1, 0, B, 0x3, SL_KEV_DROP, 0, 0,
		    "TCP_OVERWINDOW"),
		/* the RST answering packet S, and S dropped on the same CPU
		 * just after: kept, on the RST's host */
		rec(100 * ms, 2, 1, 0, S, SL_KEV_SEND_RESET, 0, 0, "NO_SOCKET"),
		rec(100 * ms + 6000, -1, 1, 0, S, SL_KEV_DROP, 0, 0,
		    "NO_SOCKET"),
		/* S again, on another CPU, or much later: left out */
		rec(100 * ms + 7000, -1, 0, 0, S, SL_KEV_DROP, 0, 0,
		    "IP_INHDR"),
		rec(103 * ms, -1, 1, 0, S, SL_KEV_DROP, 0, 0, "TCP_CSUM"),
		/* S's memory handed out again at once and freed again on the
		 * same CPU (the RST going back, say): only the first free
		 * after the RST is its packet */
		rec(100 * ms + 9000, -1, 1, 0, S, SL_KEV_DROP, 0, 0,
		    "TCP_RESET"),
		/* a RST whose packet is freed without a reason: that free
		 * takes the pairing and is not shown, and the next free of
		 * the same address is not the packet */
		rec(150 * ms, 2, 1, 0, T, SL_KEV_SEND_RESET, 0, 6,
		    "TCP_TIMEWAIT_SOCKET"),
		rec(150 * ms + 4000, -1, 1, 0, T, SL_KEV_DROP, 0, 0,
		    "NOT_SPECIFIED"),
		rec(150 * ms + 8000, -1, 1, 0, T, SL_KEV_DROP, 0, 0,
		    "TCP_OVERWINDOW"),
		/* A's address reused by a new socket of ours: a new number */
		rec(200 * ms, 0, 0, A, 0, SL_KEV_SET_STATE, 7, 2, NULL),
	};
	struct sl_timeline tl;
	int n = sizeof(r) / sizeof(r[0]);
	uint32_t first = 0, reused = 0;

	(void)state;
	sl_timeline_init(&tl);
	assert_int_equal(sl_trace_attribute(r, n, &tl), 0);
	assert_int_equal(count(&tl, SL_KEV_DROP, NULL), 2);
	assert_int_equal(count(&tl, SL_KEV_DROP, "TCP_OLD_SEQUENCE"), 1);
	assert_int_equal(count(&tl, SL_KEV_DROP, "NO_SOCKET"), 1);
	assert_int_equal(count(&tl, SL_KEV_SET_STATE, NULL), 4);
	for (int i = 0; i < tl.n; i++) {
		const struct sl_event *e = &tl.ev[i];

		if (e->k.type == SL_KEV_DROP) {
			assert_int_equal(e->host, 2);
			/* a drop takes its socket's (or RST's) endpoints */
			assert_int_equal(e->k.lport, 5000);
		}
		if (e->k.type == SL_KEV_SET_STATE && e->t == 10 * ms)
			first = e->k.sock;
		if (e->k.type == SL_KEV_SET_STATE && e->t == 200 * ms)
			reused = e->k.sock;
		/* sorted by time */
		if (i)
			assert_true(tl.ev[i - 1].t <= e->t);
	}
	assert_true(first != 0 && reused != 0 && first != reused);
	sl_timeline_free(&tl);
}

/* ---- text and recording ---- */

static int find_line(const struct sl_timeline *tl, const char *needle,
		     char *line, size_t n)
{
	for (int i = 0; i < tl->n; i++) {
		sl_timeline_format(tl, i, line, n);
		if (strstr(line, needle))
			return i;
	}
	return -1;
}

static void test_text(void **state)
{
	struct sl_timeline tl;
	char line[512];

	(void)state;
	load_recorded(&tl, "kernel-close-unread-rst.tl");
	assert_int_equal(tl.kernel, SL_KEV_ALL);
	/* The state change says why, in the learner's words. */
	assert_true(find_line(&tl,
			      "server  kernel: ESTABLISHED -> CLOSE "
			      "(RST sent: TCP_ABORT_ON_CLOSE)",
			      line, sizeof(line)) >= 0);
	assert_true(find_line(&tl,
			      "client  kernel: ESTABLISHED -> CLOSE "
			      "(RST received)",
			      line, sizeof(line)) >= 0);
	assert_true(find_line(&tl,
			      "kernel: RST sent, reason "
			      "TCP_ABORT_ON_CLOSE (socket in CLOSE)",
			      line, sizeof(line)) >= 0);
	sl_timeline_free(&tl);

	load_recorded(&tl, "kernel-rst-refused.tl");
	assert_true(find_line(&tl,
			      "server  kernel: RST sent, reason "
			      "NO_SOCKET (no socket)",
			      line, sizeof(line)) >= 0);
	assert_true(find_line(&tl,
			      "server  kernel: packet dropped, reason "
			      "NO_SOCKET",
			      line, sizeof(line)) >= 0);
	sl_timeline_free(&tl);
}

/* The order the kernel made them in: for close() with unread data,
 * tcp_close() sets CLOSE, tcp_send_active_reset() transmits and only then
 * fires tcp_send_reset; for a SYN to no socket, tcp_v4_send_reset() fires
 * it before it builds the RST. */
static void test_order_on_recordings(void **state)
{
	struct sl_timeline tl;
	char line[512];
	int close_i, pkt_i = -1, rst_i;

	(void)state;
	load_recorded(&tl, "kernel-close-unread-rst.tl");
	close_i = find_line(&tl, "server  kernel: ESTABLISHED -> CLOSE", line,
			    sizeof(line));
	rst_i = find_line(&tl, "server  kernel: RST sent", line, sizeof(line));
	for (int i = 0; i < tl.n && pkt_i < 0; i++)
		if (sl_timeline_is_sent(&tl.ev[i]) &&
		    (tl.ev[i].pkt.flags & SL_TH_RST))
			pkt_i = i;
	assert_true(close_i >= 0 && pkt_i >= 0 && rst_i >= 0);
	assert_true(close_i < pkt_i);
	assert_true(pkt_i < rst_i);
	sl_timeline_free(&tl);

	load_recorded(&tl, "kernel-rst-refused.tl");
	rst_i = find_line(&tl, "server  kernel: RST sent", line, sizeof(line));
	pkt_i = -1;
	for (int i = 0; i < tl.n && pkt_i < 0; i++)
		if (sl_timeline_is_sent(&tl.ev[i]) &&
		    (tl.ev[i].pkt.flags & SL_TH_RST))
			pkt_i = i;
	assert_true(rst_i >= 0 && pkt_i >= 0 && rst_i < pkt_i);
	sl_timeline_free(&tl);
}

static void test_save_load(void **state)
{
	struct sl_timeline tl, back;
	char a[512], b[512];

	(void)state;
	load_recorded(&tl, "kernel-rst-refused.tl");
	save_and_reload(&tl, &back);
	assert_int_equal(back.n, tl.n);
	assert_int_equal(back.kernel, tl.kernel);
	for (int i = 0; i < tl.n; i++) {
		sl_timeline_format(&tl, i, a, sizeof(a));
		sl_timeline_format(&back, i, b, sizeof(b));
		assert_string_equal(a, b);
	}
	sl_timeline_free(&tl);
	sl_timeline_free(&back);

	/* Recorded without tracefs: the reason travels with it. */
	load_recorded(&tl, "kernel-no-tracefs.tl");
	assert_int_equal(tl.kernel, 0);
	assert_non_null(strstr(tl.kernel_why, "no tracefs"));
	sl_timeline_free(&tl);
	/* Recorded before there were kernel events at all. */
	load_recorded(&tl, "close-unread-rst.tl");
	assert_int_equal(tl.kernel, 0);
	assert_non_null(strstr(tl.kernel_why, "no kernel events"));
	sl_timeline_free(&tl);
}

static void test_no_tracefs(void **state)
{
	struct sl_err e = { "" };
	int mounted;

	(void)state;
	assert_int_equal(sl_trace_mount("/nonexistent/tracefs", &mounted, &e),
			 -ENOENT);
	assert_non_null(strstr(e.msg, "no tracefs at /nonexistent/tracefs"));
	assert_int_equal(mounted, 0);
	assert_int_equal(sl_trace_mount("off", &mounted, &e), -ENOTSUP);
	assert_non_null(strstr(e.msg, "SOCKLAB_TRACEFS=off"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_format_files),
		cmocka_unit_test(test_real_page),
		cmocka_unit_test(test_bad_pages),
		cmocka_unit_test(test_attribution),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_order_on_recordings),
		cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_no_tracefs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
