/* trace_decode.h: the instance's ring-buffer pages as kernel events.
 *
 * What trace_pipe_raw hands out is the kernel's own sub-buffers; the
 * kernel tracing maintainers' libtraceevent reads them: a tep handle holds
 * the event formats of the running kernel (the field offsets and the names
 * of RST and drop reasons, which change between kernels), and its kbuffer
 * walks a page, with the deltas, time extends and absolute stamps of the
 * ring buffer's encoding.  This module turns each record into a struct
 * sl_trace_rec, with the kernel's pointers still in it, for the reader
 * (trace.c) to keep or drop and for attribution (trace_attribute.c).
 */
#ifndef SL_TRACE_DECODE_H
#define SL_TRACE_DECODE_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "kevent.h"

struct sl_err;

/* One event of the ring buffer that passed the address filter (or a drop,
 * host -1, waiting to be attributed), with the kernel's pointers. */
struct sl_trace_rec {
	int64_t t;
	int host; /* -1: a drop, or not attributed yet */
	int cpu;
	uint64_t sk, skb; /* socket and packet, 0 when not given */
	struct sl_kevent k;
};

struct sl_trace_decoder;

/* A decoder for pages laid out as header_page (events/header_page, the
 * text of len bytes) says.  Returns 0 or -errno with a reason in e. */
int sl_trace_decoder_new(struct sl_trace_decoder **dp, char *header_page,
			 size_t len, struct sl_err *e);
void sl_trace_decoder_free(struct sl_trace_decoder *d);

/* Teaches it tracepoint kev from its format file's text.  Returns 0, or
 * -EINVAL when the text is not a format this library can read. */
int sl_trace_decoder_add(struct sl_trace_decoder *d, int kev,
			 const char *format, size_t len);

/* The bytes one read() of trace_pipe_raw hands out, as header_page says. */
int sl_trace_decoder_subbuf_size(const struct sl_trace_decoder *d);

/* The kernel filter that keeps only events of tracepoint kev whose local
 * address is one of addr[n] ("" when its addresses cannot be compared
 * there: then only the reader's own check applies). */
void sl_trace_decoder_filter(const struct sl_trace_decoder *d, int kev,
			     const struct in6_addr *addr, int n, char *buf,
			     size_t len);

/* The kernel's name of reason value v of tracepoint kev, or NULL. */
const char *sl_trace_decoder_reason(const struct sl_trace_decoder *d, int kev,
				    long v);

/* How many reasons tracepoint kev's table names. */
int sl_trace_decoder_nreasons(const struct sl_trace_decoder *d, int kev);

/* True when this kernel's tracepoint kev has a field named name. */
int sl_trace_decoder_has_field(const struct sl_trace_decoder *d, int kev,
			       const char *name);

/* Walks one sub-buffer of size bytes read on cpu and calls fn for each
 * TCP event (IPv4 or IPv6) of a known tracepoint (every IPv4 or IPv6
 * drop), with host -1.
 * Returns the number of records, or -EINVAL for a page that makes no
 * sense; *lost is the number of events the kernel lost before this page
 * (1 when it does not say how many). */
int sl_trace_decoder_page(struct sl_trace_decoder *d, void *page, size_t size,
			  int cpu,
			  void (*fn)(void *arg, struct sl_trace_rec *x),
			  void *arg, int *lost);

#endif
