/* test_linkemu_schedule.c: the link emulator's schedule
 * (lib/linkemu_schedule.c) without a kernel queue: packets go in as bytes,
 * verdicts come out to a recorder.  The end-to-end checks, on a real
 * topology with root, are test_linkemu.c's.
 *
 *  - drop: exactly the next N segments that match, once, and only on the
 *    fault's direction;
 *  - loss: the counters name exactly the packets lost, the share is inside
 *    the binomial bound, and the same seed loses the same packets;
 *  - delay: no verdict before the timerfd fires, and none early;
 *  - reorder: a held segment goes right after the one that overtook it;
 *  - flush: everything held goes, in due order.
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

/* netinet/in.h (packet.h) first: linux/netfilter.h then leaves out its
 * copy of the same definitions. */
#include <netinet/in.h>
#include <linux/netfilter.h>

#include "clock.h"
#include "linkemu_schedule.h"
#include "packet.h"

#define MAXV 8192

struct recorder {
	int n;
	struct {
		uint16_t queue;
		uint32_t pkt;
		int v;
	} v[MAXV];
};

struct fixture {
	struct sl__le_shared sh;
	struct sl__le_schedule s;
	struct recorder r;
	uint32_t next;
};

static void record(void *arg, uint16_t queue, uint32_t pkt, int v)
{
	struct recorder *r = arg;

	assert_true(r->n < MAXV);
	r->v[r->n].queue = queue;
	r->v[r->n].pkt = pkt;
	r->v[r->n].v = v;
	r->n++;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || sl__le_schedule_init(&f->s, record, &f->r, &f->sh) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sl__le_schedule_free(&f->s);
	free(f);
	return 0;
}

/* An IPv4 TCP segment with flags and len bytes of payload (not copied:
 * the queue copies headers only), fed to the schedule on direction d.
 * Returns its packet id. */
static uint32_t feed(struct fixture *f, int d, uint8_t flags, uint16_t len)
{
	uint8_t b[40] = { 0 };
	uint16_t iplen = 40 + len;
	uint32_t id = ++f->next;

	b[0] = 0x45;
	b[2] = iplen >> 8;
	b[3] = iplen & 0xff;
	b[8] = 64;
	b[9] = 6; /* TCP */
	memcpy(b + 12, (uint8_t[]){ 198, 18, 0, 2, 198, 19, 0, 2 }, 8);
	b[20] = 0xa0; /* port 41000 > 5000 */
	b[21] = 0x28;
	b[22] = 0x13;
	b[23] = 0x88;
	b[32] = 5 << 4; /* data offset */
	b[33] = flags;
	sl__le_schedule_packet(&f->s, d, id, b, sizeof(b), sl_now());
	return id;
}

static void apply(struct fixture *f, int id, struct sl__le_spec spec)
{
	f->sh.f[id].used = f->sh.f[id].active = 1;
	sl__le_schedule_apply(&f->s, id, &spec);
}

/* The verdict recorded for packet pkt, or -1 if none yet. */
static int verdict_of(const struct fixture *f, uint32_t pkt)
{
	for (int i = 0; i < f->r.n; i++)
		if (f->r.v[i].pkt == pkt)
			return f->r.v[i].v;
	return -1;
}

static void test_drop_next_n_matching(void **state)
{
	struct fixture *f = *state;
	uint32_t syn, ack1, data, ack2, ack3, other;

	apply(f, 0,
	      (struct sl__le_spec){ .kind = LE_DROP,
				    .dirs = 1,
				    .need = SL_TH_ACK,
				    .forbid = SL_TH_SYN | SL_TH_FIN |
					      SL_TH_RST | SL_TH_PSH,
				    .len = 1,
				    .count = 2 });
	syn = feed(f, 0, SL_TH_SYN, 0);
	ack1 = feed(f, 0, SL_TH_ACK, 0);
	data = feed(f, 0, SL_TH_ACK, 10);
	other = feed(f, 1, SL_TH_ACK, 0);
	ack2 = feed(f, 0, SL_TH_ACK, 0);
	ack3 = feed(f, 0, SL_TH_ACK, 0);
	assert_int_equal(verdict_of(f, syn), NF_ACCEPT);
	assert_int_equal(verdict_of(f, ack1), NF_DROP);
	assert_int_equal(verdict_of(f, data), NF_ACCEPT);
	assert_int_equal(verdict_of(f, other), NF_ACCEPT);
	assert_int_equal(verdict_of(f, ack2), NF_DROP);
	assert_int_equal(verdict_of(f, ack3), NF_ACCEPT);
	assert_int_equal(f->sh.f[0].st.seen, 5);
	assert_int_equal(f->sh.f[0].st.matched, 2);
	assert_int_equal(f->sh.f[0].st.dropped, 2);
}

/* Which of n packets a 25 % loss with seed loses, as a bitmap. */
static int lose(struct fixture *f, uint32_t seed, int n, uint8_t *lost)
{
	f->r.n = 0;
	memset(&f->sh.f[0].st, 0, sizeof(f->sh.f[0].st));
	apply(f, 0,
	      (struct sl__le_spec){
		      .kind = LE_LOSS, .dirs = 3, .loss = 0.25, .seed = seed });
	for (int i = 0; i < n; i++)
		lost[i] = verdict_of(f, feed(f, i & 1, SL_TH_ACK, 0)) ==
			  NF_DROP;
	assert_int_equal(f->r.n, n);
	return (int)f->sh.f[0].st.dropped;
}

static void test_loss_counted_and_repeatable(void **state)
{
	struct fixture *f = *state;
	static uint8_t a[4000], b[4000];
	int dropped, count = 0;

	dropped = lose(f, 7, 4000, a);
	for (int i = 0; i < 4000; i++)
		count += a[i];
	assert_int_equal(count, dropped);
	/* 1000 expected, sd 27.4: 99.9 % lie within 3.3 sd. */
	assert_in_range(dropped, 1000 - 91, 1000 + 91);
	f->next = 0;
	assert_int_equal(lose(f, 7, 4000, b), dropped);
	assert_memory_equal(a, b, sizeof(a));
	f->next = 0;
	lose(f, 8, 4000, b);
	assert_memory_not_equal(a, b, sizeof(a));
}

/* Waits for the schedule's timer to fire and lets it release what is
 * due; returns the time it did. */
static int64_t wait_due(struct fixture *f)
{
	struct pollfd p = { .fd = f->s.tfd, .events = POLLIN };

	assert_int_equal(poll(&p, 1, 5000), 1);
	sl__le_schedule_due(&f->s);
	return sl_now();
}

static void test_delay_not_early(void **state)
{
	struct fixture *f = *state;
	int64_t t0 = sl_now(), t;
	uint32_t pkt;

	apply(f, 0,
	      (struct sl__le_spec){
		      .kind = LE_DELAY, .dirs = 1, .delay_ms = 5 });
	pkt = feed(f, 0, SL_TH_SYN, 0);
	assert_int_equal(verdict_of(f, pkt), -1);
	do
		t = wait_due(f);
	while (verdict_of(f, pkt) < 0);
	assert_int_equal(verdict_of(f, pkt), NF_ACCEPT);
	assert_true(t - t0 >= 5 * SL_NS_PER_MS);
	assert_int_equal(f->sh.f[0].st.delayed, 1);
}

static void test_reorder_overtakes(void **state)
{
	struct fixture *f = *state;
	uint32_t first, second;

	/* 50 %: every other segment is held, so the first one is. */
	apply(f, 0,
	      (struct sl__le_spec){ .kind = LE_REORDER,
				    .dirs = 1,
				    .reorder_pct = 50,
				    .seed = 1 });
	first = feed(f, 0, SL_TH_ACK, 100);
	assert_int_equal(f->r.n, 0);
	second = feed(f, 0, SL_TH_ACK, 100);
	assert_int_equal(f->r.n, 2);
	assert_int_equal(f->r.v[0].pkt, second);
	assert_int_equal(f->r.v[1].pkt, first);
	assert_int_equal(f->sh.f[0].st.reordered, 1);
}

static void test_lift_releases_hold(void **state)
{
	struct fixture *f = *state;
	uint32_t held;

	apply(f, 0,
	      (struct sl__le_spec){ .kind = LE_REORDER,
				    .dirs = 1,
				    .reorder_pct = 50,
				    .seed = 1 });
	held = feed(f, 0, SL_TH_ACK, 100);
	assert_int_equal(verdict_of(f, held), -1);
	sl__le_schedule_lift(&f->s, 0);
	assert_int_equal(verdict_of(f, held), NF_ACCEPT);
	/* Lifted: the next one goes its way. */
	assert_int_equal(verdict_of(f, feed(f, 0, SL_TH_ACK, 100)), NF_ACCEPT);
}

static void test_flush_in_due_order(void **state)
{
	struct fixture *f = *state;
	uint32_t a, b, c;

	apply(f, 0,
	      (struct sl__le_spec){
		      .kind = LE_DELAY, .dirs = 3, .delay_ms = 1000 });
	a = feed(f, 1, SL_TH_ACK, 0);
	b = feed(f, 0, SL_TH_ACK, 0);
	c = feed(f, 1, SL_TH_ACK, 0);
	assert_int_equal(f->r.n, 0);
	sl__le_schedule_flush(&f->s);
	assert_int_equal(f->r.n, 3);
	assert_int_equal(f->r.v[0].pkt, a);
	assert_int_equal(f->r.v[1].pkt, b);
	assert_int_equal(f->r.v[2].pkt, c);
	assert_int_equal(f->r.v[1].queue, 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_drop_next_n_matching),
		T(test_loss_counted_and_repeatable),
		T(test_delay_not_early),
		T(test_reorder_overtakes),
		T(test_lift_releases_hold),
		T(test_flush_in_due_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
