/* linkemu_schedule.h: the link emulator's schedule (internal to
 * lib/linkemu_*.c): which queued packet goes when, or not at all.
 *
 * For each packet of a direction it applies, in order, the one-shot drops,
 * the loss, the delay and the reorder of every fault active there, and
 * gives the verdict at once or holds the packet on a heap ordered by due
 * time, with one timerfd armed for the earliest.  Verdicts go to a
 * callback (the NFQUEUE reader's in the emulator, a recorder in
 * tests/test_linkemu_schedule.c), counters to the shared page
 * (linkemu_proto.h).
 */
#ifndef SL_LINKEMU_SCHEDULE_H
#define SL_LINKEMU_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "linkemu_proto.h"

struct sl__le_held {
	int64_t due;
	uint64_t order; /* ties keep arrival order */
	uint32_t pkt;
	uint16_t queue;
};

struct sl__le_schedule {
	/* Packet pkt of queue gets verdict (NF_ACCEPT, NF_DROP). */
	void (*verdict)(void *arg, uint16_t queue, uint32_t pkt, int verdict);
	void *arg;
	struct sl__le_shared *sh; /* counters go here */
	int tfd;		  /* armed for the earliest due */
	int64_t armed;
	struct sl__le_held *heap;
	int nheap, cap;
	uint64_t order;
	struct {
		int valid, fault;
		struct sl__le_held h;
		int64_t until; /* released anyway at this time */
	} hold[LE_NDIRS];
	struct {
		int active;
		struct sl__le_spec spec;
		uint64_t rng;
		int left; /* drop: segments still to drop */
	} f[SL_LINKEMU_MAX_FAULTS];
};

/* Allocates the whole heap (no allocation, and no page fault, while a
 * packet waits for its verdict) and the timerfd.  Returns 0 or -errno. */
int sl__le_schedule_init(struct sl__le_schedule *s,
			 void (*verdict)(void *arg, uint16_t queue,
					 uint32_t pkt, int verdict),
			 void *arg, struct sl__le_shared *sh);

/* The queue's callbacks (arg: the schedule): a packet read at now; a
 * packet the kernel could not queue to us. */
void sl__le_schedule_packet(void *arg, uint16_t queue, uint32_t pkt,
			    const uint8_t *data, size_t n, int64_t now);
void sl__le_schedule_overrun(void *arg);

/* The timerfd fired: releases what is due and arms it again. */
void sl__le_schedule_due(struct sl__le_schedule *s);

/* Fault id starts (spec) or stops applying to packets read from now on.
 * A lifted fault's held segment goes at once; delayed packets keep the
 * time they were given. */
void sl__le_schedule_apply(struct sl__le_schedule *s, int id,
			   const struct sl__le_spec *spec);
void sl__le_schedule_lift(struct sl__le_schedule *s, int id);

/* Releases every packet held, now. */
void sl__le_schedule_flush(struct sl__le_schedule *s);

/* Frees the heap and closes the timerfd (the emulator leaves that to
 * _exit()). */
void sl__le_schedule_free(struct sl__le_schedule *s);

#endif
