/* linkemu_schedule.c: which queued packet goes when (linkemu_schedule.h).
 *
 * Loss and reorder draw from a PRNG of their own per fault, seeded with
 * the fault's seed (SOCKLAB_SEED plus its id), so a run is repeatable.
 * The delay of a packet counts from the moment the emulator read it from
 * the queue.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/timerfd.h>
#include <unistd.h>

/* netinet/in.h (packet.h) before linux/netfilter.h, which then leaves
 * its own copy of the same definitions out. */
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <pcap/dlt.h>

#include "clock.h"
#include "linkemu_schedule.h"
#include "packet.h"

int sl__le_schedule_init(struct sl__le_schedule *s,
			 void (*verdict)(void *arg, uint16_t queue,
					 uint32_t pkt, int verdict),
			 void *arg, struct sl__le_shared *sh)
{
	s->verdict = verdict;
	s->arg = arg;
	s->sh = sh;
	/* Twice what the kernel can queue on both queues: schedule() never
	 * finds it full. */
	s->cap = 2 * LE_QMAXLEN + 64;
	s->heap = calloc(s->cap, sizeof(*s->heap));
	if (!s->heap)
		return -ENOMEM;
	s->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->tfd < 0) {
		free(s->heap);
		s->heap = NULL;
		return -errno;
	}
	return 0;
}

static int heap_less(const struct sl__le_held *a, const struct sl__le_held *b)
{
	return a->due < b->due || (a->due == b->due && a->order < b->order);
}

static void heap_push(struct sl__le_schedule *s, const struct sl__le_held *h)
{
	int i = s->nheap++;

	while (i > 0) {
		int parent = (i - 1) / 2;

		if (!heap_less(h, &s->heap[parent]))
			break;
		s->heap[i] = s->heap[parent];
		i = parent;
	}
	s->heap[i] = *h;
}

static struct sl__le_held heap_pop(struct sl__le_schedule *s)
{
	struct sl__le_held top = s->heap[0], last = s->heap[--s->nheap];
	int i = 0;

	for (;;) {
		int c = 2 * i + 1;

		if (c >= s->nheap)
			break;
		if (c + 1 < s->nheap && heap_less(&s->heap[c + 1], &s->heap[c]))
			c++;
		if (!heap_less(&s->heap[c], &last))
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	if (s->nheap > 0)
		s->heap[i] = last;
	return top;
}

static void pass(struct sl__le_schedule *s, const struct sl__le_held *h)
{
	s->verdict(s->arg, h->queue, h->pkt, NF_ACCEPT);
}

static void rearm(struct sl__le_schedule *s)
{
	int64_t next = s->nheap ? s->heap[0].due : 0;

	for (int d = 0; d < LE_NDIRS; d++)
		if (s->hold[d].valid && (!next || s->hold[d].until < next))
			next = s->hold[d].until;
	if (next != s->armed) {
		sl__le_arm_timer(s->tfd, next);
		s->armed = next;
	}
}

/* Releases h at its due time: now if that has passed, else on the timer. */
static void schedule(struct sl__le_schedule *s, const struct sl__le_held *h,
		     int64_t now)
{
	if (h->due <= now) {
		pass(s, h);
		return;
	}
	if (s->nheap < s->cap) {
		heap_push(s, h);
		return;
	}
	/* More held than the kernel can queue: cannot happen with cap above
	 * twice LE_QMAXLEN, but never lose a packet silently. */
	pass(s, h);
}

static void release_hold(struct sl__le_schedule *s, int d, int64_t now)
{
	if (!s->hold[d].valid)
		return;
	s->hold[d].valid = 0;
	schedule(s, &s->hold[d].h, now);
}

static int drop_matches(const struct sl__le_spec *s, const struct sl_packet *p)
{
	if ((p->flags & s->need) != s->need || (p->flags & s->forbid))
		return 0;
	return !s->len || (long)p->len == s->len - 1;
}

/* Fault i applies to direction d now. */
static int on_dir(const struct sl__le_schedule *s, int i, int d)
{
	return s->f[i].active && (s->f[i].spec.dirs & (1 << d));
}

/* The one-shot drops come first: "the next pure ACK" means the next one
 * that reaches the router, whatever loss would have done to it.  Returns 1
 * when the packet was dropped. */
static int drop_once(struct sl__le_schedule *s, int d,
		     const struct sl_packet *p, const struct sl__le_held *h)
{
	for (int i = 0; i < SL_LINKEMU_MAX_FAULTS; i++) {
		if (!on_dir(s, i, d) || s->f[i].spec.kind != LE_DROP ||
		    s->f[i].left <= 0 || !p || !drop_matches(&s->f[i].spec, p))
			continue;
		s->f[i].left--;
		s->sh->f[i].st.matched++;
		s->sh->f[i].st.dropped++;
		s->verdict(s->arg, h->queue, h->pkt, NF_DROP);
		return 1;
	}
	return 0;
}

/* Loss and delay of every fault on direction d, in their order.  Returns
 * -1 when the packet was lost, else its delay (ns); *reorder is the
 * reorder fault on d, or -1. */
static int64_t loss_delay(struct sl__le_schedule *s, int d,
			  const struct sl__le_held *h, int *reorder)
{
	int64_t delay = 0;

	*reorder = -1;
	for (int i = 0; i < SL_LINKEMU_MAX_FAULTS; i++) {
		const struct sl__le_spec *f = &s->f[i].spec;

		if (!on_dir(s, i, d))
			continue;
		if (f->kind == LE_LOSS &&
		    sl__le_rnd_unit(&s->f[i].rng) < f->loss) {
			s->sh->f[i].st.dropped++;
			s->verdict(s->arg, h->queue, h->pkt, NF_DROP);
			return -1;
		}
		if (f->kind == LE_DELAY) {
			delay += (int64_t)f->delay_ms * SL_NS_PER_MS;
			if (f->jitter_ms > 0)
				delay += (int64_t)((2 * sl__le_rnd_unit(
								&s->f[i].rng) -
						    1) *
						   f->jitter_ms * SL_NS_PER_MS);
			s->sh->f[i].st.delayed++;
		}
		if (f->kind == LE_REORDER)
			*reorder = i;
	}
	return delay > 0 ? delay : 0;
}

/* Reorder fault r on direction d: h overtakes the segment held there, or
 * is held itself, with probability p/(1-p) (which sends a share p of all
 * segments ahead: each hold lets exactly one overtake).  Returns 1 when
 * it did either, 0 when h goes its way. */
static int reorder(struct sl__le_schedule *s, int d, int r,
		   const struct sl__le_held *h, int64_t now)
{
	double pct = s->f[r].spec.reorder_pct / 100.0;
	int gap;

	if (s->hold[d].valid) {
		/* Release the held one just after h, and never before its
		 * own due time. */
		struct sl__le_held old = s->hold[d].h;

		schedule(s, h, now);
		if (old.due < h->due)
			old.due = h->due;
		old.order = s->order++;
		s->hold[d].valid = 0;
		s->sh->f[s->hold[d].fault].st.reordered++;
		schedule(s, &old, now);
		return 1;
	}
	if (sl__le_rnd_unit(&s->f[r].rng) >= pct / (1 - pct))
		return 0;
	gap = s->f[r].spec.delay_ms > 0 ? s->f[r].spec.delay_ms :
					  LE_REORDER_GAP_MS;
	s->hold[d].valid = 1;
	s->hold[d].fault = r;
	s->hold[d].h = *h;
	s->hold[d].until = now + (int64_t)gap * SL_NS_PER_MS;
	return 1;
}

void sl__le_schedule_packet(void *arg, uint16_t queue, uint32_t pkt,
			    const uint8_t *data, size_t n, int64_t now)
{
	struct sl__le_schedule *s = arg;
	struct sl__le_held h = { .pkt = pkt, .queue = queue };
	struct sl_packet p;
	int d = queue, tcp, r;
	int64_t delay;

	if (d < 0 || d >= LE_NDIRS) {
		pass(s, &h);
		return;
	}
	tcp = data && sl_packet_decode(data, n, DLT_RAW, &p) == 0;
	for (int i = 0; i < SL_LINKEMU_MAX_FAULTS; i++)
		if (on_dir(s, i, d))
			s->sh->f[i].st.seen++;
	if (drop_once(s, d, tcp ? &p : NULL, &h))
		return;
	delay = loss_delay(s, d, &h, &r);
	if (delay < 0)
		return;
	h.due = now + delay;
	h.order = s->order++;
	if (r < 0 || !reorder(s, d, r, &h, now))
		schedule(s, &h, now);
	rearm(s);
}

void sl__le_schedule_overrun(void *arg)
{
	struct sl__le_schedule *s = arg;

	for (int i = 0; i < SL_LINKEMU_MAX_FAULTS; i++)
		if (s->f[i].active)
			s->sh->f[i].st.overruns++;
}

void sl__le_schedule_due(struct sl__le_schedule *s)
{
	uint64_t ticks;
	int64_t now;

	if (read(s->tfd, &ticks, sizeof(ticks)) < 0 && errno == EAGAIN)
		return;
	s->armed = 0;
	now = sl_now();
	while (s->nheap && s->heap[0].due <= now) {
		struct sl__le_held h = heap_pop(s);

		pass(s, &h);
	}
	for (int d = 0; d < LE_NDIRS; d++)
		if (s->hold[d].valid && s->hold[d].until <= now)
			release_hold(s, d, now);
	rearm(s);
}

void sl__le_schedule_apply(struct sl__le_schedule *s, int id,
			   const struct sl__le_spec *spec)
{
	s->f[id].spec = *spec;
	s->f[id].rng = sl__le_rnd_seed(spec->seed);
	s->f[id].left = spec->count;
	s->f[id].active = 1;
	s->sh->f[id].st.seed = spec->seed;
}

void sl__le_schedule_lift(struct sl__le_schedule *s, int id)
{
	s->f[id].active = 0;
	for (int d = 0; d < LE_NDIRS; d++)
		if (s->hold[d].valid && s->hold[d].fault == id)
			release_hold(s, d, sl_now());
	rearm(s);
}

void sl__le_schedule_flush(struct sl__le_schedule *s)
{
	for (int d = 0; d < LE_NDIRS; d++)
		if (s->hold[d].valid) {
			s->hold[d].valid = 0;
			pass(s, &s->hold[d].h);
		}
	while (s->nheap) {
		struct sl__le_held h = heap_pop(s);

		pass(s, &h);
	}
}

void sl__le_schedule_free(struct sl__le_schedule *s)
{
	free(s->heap);
	s->heap = NULL;
	s->nheap = 0;
	if (s->tfd >= 0)
		close(s->tfd);
	s->tfd = -1;
}
