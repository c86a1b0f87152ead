/* capture.h: libpcap capture on one interface of one host namespace.
 *
 * Each capture writes every frame to a pcap file (nanosecond timestamps,
 * opens in Wireshark and tcpdump -r) and hands each decoded TCP segment,
 * stamped on CLOCK_MONOTONIC (clock.h), to a callback.  Captures are polled
 * from the run's observer thread: sl_capture_fd() is a selectable fd and
 * sl_capture_dispatch() never blocks.
 */
#ifndef SL_CAPTURE_H
#define SL_CAPTURE_H

#include <stdint.h>

struct sl_err;
struct sl_packet;
struct sl_capture;

typedef void (*sl_capture_cb)(void *arg, const struct sl_packet *pkt,
			      int64_t t_mono_ns);

/* Opens a capture on ifname inside the namespace nsfd (the calling thread
 * enters it for the open and returns to the namespace it was in), in
 * immediate mode, non-blocking, full snap length, and starts writing
 * pcap_path.  Returns 0 or -errno with a reason in e. */
int sl_capture_open(struct sl_capture **cp, int nsfd, const char *ifname,
		    const char *pcap_path, struct sl_err *e);

/* A file descriptor that polls readable when frames are waiting. */
int sl_capture_fd(const struct sl_capture *c);

/* Reads every frame waiting now (never blocks), writes it to the pcap file
 * and calls cb for each TCP segment.  Returns the number of frames or
 * -errno. */
int sl_capture_dispatch(struct sl_capture *c, sl_capture_cb cb, void *arg);

/* Drains what is left, flushes and closes the file and the handle. */
void sl_capture_close(struct sl_capture *c);

/* Kernel-side counters: frames received and dropped by the capture. */
void sl_capture_stats(struct sl_capture *c, unsigned *received,
		      unsigned *dropped);

#endif
