/* linkemu_queue.h: the link emulator's NFQUEUE reader (internal to
 * lib/linkemu_*.c).
 *
 * Binds the router namespace's queues 0..LE_NDIRS-1 over libmnl, hands
 * every queued packet to on_packet and sends the verdicts it is given.
 * What to do with a packet, and when, is the schedule's business
 * (linkemu_schedule.h); this module only speaks the protocol.
 */
#ifndef SL_LINKEMU_QUEUE_H
#define SL_LINKEMU_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

struct mnl_socket;

struct sl__le_queue {
	struct mnl_socket *nl; /* NULL until opened */
	unsigned int portid;
	ev_io w;
	/* A packet of queue (= direction) with its id, its first bytes
	 * (IPv4 and TCP headers; data may be NULL) and the time read. */
	void (*on_packet)(void *arg, uint16_t queue, uint32_t pkt,
			  const uint8_t *data, size_t n, int64_t now);
	/* The kernel dropped packets it could not hand us (ENOBUFS). */
	void (*on_overrun)(void *arg);
	void *arg;
	char buf[65536 + 4096];
};

/* Opens the netlink socket, binds the queues and starts watching them on
 * loop.  Returns 0, or -errno with the reason in why. */
int sl__le_queue_open(struct sl__le_queue *q, struct ev_loop *loop, char *why,
		      size_t n);

/* Gives packet pkt of queue its verdict (NF_ACCEPT, NF_DROP). */
void sl__le_queue_verdict(struct sl__le_queue *q, uint16_t queue, uint32_t pkt,
			  int verdict);

void sl__le_queue_close(struct sl__le_queue *q);

#endif
