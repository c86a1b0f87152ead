/* rps.h: every packet a namespace's interface receives handled on one
 * processor, so that a path keeps the order segments were sent in.
 *
 * The special problem of a veth on a machine with several processors: a
 * veth hands each packet to its peer on the processor that sent it
 * (netif_rx() queues it on that processor's backlog), and each backlog is
 * worked through on its own.  Two segments that one host sends from two
 * processors, the ACK from the softirq that took the peer's FIN and its own
 * FIN from the process's close() a moment later, can therefore be
 * forwarded in the other order when the first processor's backlog falls
 * behind.  On a fast machine that window is microseconds wide; in a QEMU
 * guest whose softirqs were handed to a starved ksoftirqd it was 18 ms:
 * the client took the FIN first, went to TIME-WAIT, answered the late ACK,
 * and the server's RST to that answer assassinated the TIME-WAIT the
 * experiment was about to time.
 *
 * Receive packet steering (RPS) moves each received packet to a processor
 * chosen from the interface's rps_cpus mask before it is handled; with one
 * processor in the mask, every packet of the interface is queued on that
 * processor's backlog in the order it arrived.  The mask lives in sysfs,
 * /sys/class/net/IF/queues/rx-0/rps_cpus, and sysfs shows the interfaces
 * of the namespace it was mounted in, so the write is made by a child that
 * enters the namespace and mounts sysfs of its own, as `ip netns exec` does.
 */
#ifndef SL_RPS_H
#define SL_RPS_H

#include <stddef.h>

#include "err.h"

/* The processor a run's interfaces are steered to: the (slot mod n)-th of
 * the n this process may run on, so that runs side by side spread over
 * them.  Returns it, or -errno. */
int sl_rps_cpu(int slot);

/* The mask for cpu as rps_cpus takes it: hexadecimal, in comma-separated
 * groups of 32 bits, most significant first ("4", "1,00000000"). */
void sl_rps_mask(int cpu, char *buf, size_t n);

/* Writes mask to rps_cpus of each of the n interfaces named in ifnames in
 * the namespace open as nsfd.  0; 1 when the kernel has no RPS (built
 * without CONFIG_RPS: nothing to write, the path may reorder); -errno with
 * e set otherwise. */
int sl_rps_pin(int nsfd, const char *netns, const char *const ifnames[], int n,
	       const char *mask, struct sl_err *e);

#endif
