/* trace_decode.c: ring-buffer pages as kernel events, on libtraceevent
 * (trace_decode.h).
 *
 * Nothing here assumes the layout of a record: the offsets and sizes of
 * its fields come from the format files of the running kernel, and so do
 * the names of RST and drop reasons, from the __print_symbolic() tables of
 * their print formats.  Each record's time is in the instance's trace
 * clock: "mono", nanoseconds of CLOCK_MONOTONIC, the timeline's clock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <traceevent/event-parse.h>
#include <traceevent/kbuffer.h>

#include "ipaddr.h"
#include "err.h"
#include "trace_decode.h"

/* One tracepoint: its event in the tep handle and its fields, looked up
 * once. */
struct tp {
	struct tep_event *ev;
	struct tep_format_field *family, *protocol, *saddr, *daddr, *saddr6,
		*daddr6, *sport, *dport, *oldstate, *newstate, *state, *sk,
		*skb, *reason;
	/* The reason's __print_symbolic() table, owned by the tep handle. */
	struct tep_print_flag_sym *reasons;
};

struct sl_trace_decoder {
	struct tep_handle *tep;
	struct kbuffer *kbuf;
	struct tp tp[SL_KEV_COUNT];
};

int sl_trace_decoder_new(struct sl_trace_decoder **dp, char *header_page,
			 size_t len, struct sl_err *e)
{
	struct sl_trace_decoder *d = calloc(1, sizeof(*d));

	*dp = NULL;
	if (!d)
		return sl_errf(e, ENOMEM, "allocate the trace decoder");
	/* The library reports what it cannot parse through its return
	 * values; its own messages would only interleave with the run's. */
	tep_set_loglevel(TEP_LOG_NONE);
	d->tep = tep_alloc();
	if (!d->tep) {
		free(d);
		return sl_errf(e, ENOMEM, "allocate the trace decoder");
	}
	if (tep_parse_header_page(d->tep, header_page, len, sizeof(long)) < 0) {
		sl_trace_decoder_free(d);
		return sl_errf(e, EINVAL, "parse events/header_page");
	}
	/* The page's commit is a local_t, the kernel's long: kbuffer reads
	 * it with the tep handle's long size, which header_page gives. */
	tep_set_long_size(d->tep, tep_get_header_page_size(d->tep));
	d->kbuf = tep_kbuffer(d->tep);
	if (!d->kbuf) {
		sl_trace_decoder_free(d);
		return sl_errf(e, ENOMEM, "allocate the trace page reader");
	}
	*dp = d;
	return 0;
}

void sl_trace_decoder_free(struct sl_trace_decoder *d)
{
	if (!d)
		return;
	if (d->kbuf)
		kbuffer_free(d->kbuf);
	tep_free(d->tep);
	free(d);
}

int sl_trace_decoder_subbuf_size(const struct sl_trace_decoder *d)
{
	return tep_get_sub_buffer_size(d->tep);
}

/* The table of __print_symbolic(REC->name, ...) in arg or its operands. */
static struct tep_print_flag_sym *symbols_of(struct tep_print_arg *arg,
					     const char *name)
{
	struct tep_print_flag_sym *s = NULL;

	for (; arg && !s; arg = arg->next) {
		switch (arg->type) {
		case TEP_PRINT_SYMBOL: {
			struct tep_print_arg *f = arg->symbol.field;

			if (f && f->type == TEP_PRINT_FIELD &&
			    !strcmp(f->field.name, name))
				s = arg->symbol.symbols;
			break;
		}
		case TEP_PRINT_OP:
			s = symbols_of(arg->op.left, name);
			if (!s)
				s = symbols_of(arg->op.right, name);
			break;
		case TEP_PRINT_TYPE:
			s = symbols_of(arg->typecast.item, name);
			break;
		default:
			break;
		}
	}
	return s;
}

int sl_trace_decoder_add(struct sl_trace_decoder *d, int kev,
			 const char *format, size_t len)
{
	struct tp *tp = &d->tp[kev];
	struct tep_event *ev = NULL;

	if (tep_parse_format(d->tep, &ev, format, len, sl_kev_system(kev)) ||
	    !ev)
		return -EINVAL;
	tp->ev = ev;
	tp->family = tep_find_field(ev, "family");
	tp->protocol = tep_find_field(ev, "protocol");
	tp->saddr = tep_find_field(ev, "saddr");
	tp->daddr = tep_find_field(ev, "daddr");
	tp->saddr6 = tep_find_field(ev, "saddr_v6");
	tp->daddr6 = tep_find_field(ev, "daddr_v6");
	tp->sport = tep_find_field(ev, "sport");
	tp->dport = tep_find_field(ev, "dport");
	tp->oldstate = tep_find_field(ev, "oldstate");
	tp->newstate = tep_find_field(ev, "newstate");
	tp->state = tep_find_field(ev, "state");
	tp->sk = tep_find_field(ev, "skaddr");
	if (!tp->sk)
		tp->sk = tep_find_field(ev, "rx_sk");
	tp->skb = tep_find_field(ev, "skbaddr");
	tp->reason = tep_find_field(ev, "reason");
	if (tp->reason)
		tp->reasons = symbols_of(ev->print_fmt.args, "reason");
	return 0;
}

/* "family == 2 && (saddr == A || saddr == B ...)": the kernel compares a
 * 4-byte array as the u32 it holds in memory, which is s_addr as stored.
 * tcp_send_reset keeps its addresses in 28-byte sockaddr rooms, which the
 * filter cannot compare.  Nor can it compare a 16-byte saddr_v6: a run over
 * IPv6 filters on the family alone, and the reader's own check on the
 * address decides (trace.c). */
void sl_trace_decoder_filter(const struct sl_trace_decoder *d, int kev,
			     const struct in6_addr *addr, int n, char *buf,
			     size_t len)
{
	const struct tp *tp = &d->tp[kev];
	size_t used = 0;

	buf[0] = '\0';
	if (n > 0 && !sl_ip_is4(&addr[0])) {
		if (tp->family)
			snprintf(buf, len, "family == %d", AF_INET6);
		return;
	}
	if (!tp->saddr || tp->saddr->size != 4)
		return;
	if (tp->family)
		used += snprintf(buf + used, len - used, "family == %d && ",
				 AF_INET);
	used += snprintf(buf + used, len - used, "(");
	for (int i = 0; i < n && used < len; i++)
		used += snprintf(buf + used, len - used, "%ssaddr == %u",
				 i ? " || " : "", sl_ip_to4(&addr[i]).s_addr);
	if (used < len)
		snprintf(buf + used, len - used, ")");
}

const char *sl_trace_decoder_reason(const struct sl_trace_decoder *d, int kev,
				    long v)
{
	/* A table whose values are not numbers (tcp_send_reset's states are
	 * printed with the names of the constants) matches nothing. */
	for (const struct tep_print_flag_sym *s = d->tp[kev].reasons; s;
	     s = s->next) {
		char *end;
		long x = strtol(s->value, &end, 0);

		if (end != s->value && !*end && x == v)
			return s->str;
	}
	return NULL;
}

int sl_trace_decoder_nreasons(const struct sl_trace_decoder *d, int kev)
{
	int n = 0;

	for (const struct tep_print_flag_sym *s = d->tp[kev].reasons; s;
	     s = s->next)
		n++;
	return n;
}

int sl_trace_decoder_has_field(const struct sl_trace_decoder *d, int kev,
			       const char *name)
{
	return d->tp[kev].ev && tep_find_field(d->tp[kev].ev, name) != NULL;
}

/* A numeric field of a record; 0 when the event has no such field. */
static uint64_t num(struct tep_format_field *f, const void *data)
{
	unsigned long long v;

	if (!f || tep_read_number_field(f, data, &v) < 0)
		return 0;
	return v;
}

/* Either a plain 4-byte address, or (tcp_send_reset since 6.x) a struct
 * sockaddr_in6-sized room holding a sockaddr_in or a sockaddr_in6. */
static void copy_addr(const struct tep_format_field *f, const uint8_t *rec,
		      size_t len, struct in6_addr *a, uint16_t *port)
{
	memset(a, 0, sizeof(*a));
	if (!f || (size_t)f->offset + f->size > len)
		return;
	if (f->size == 4) {
		struct in_addr v4;

		memcpy(&v4.s_addr, rec + f->offset, 4);
		*a = sl_ip_from4(v4);
	} else if (f->size == 16) {
		memcpy(a, rec + f->offset, 16);
	} else if (f->size >= (int)sizeof(struct sockaddr_in6)) {
		struct sockaddr_storage ss;

		memset(&ss, 0, sizeof(ss));
		memcpy(&ss, rec + f->offset, sizeof(struct sockaddr_in6));
		if (sl_ip_from_sockaddr(&ss, a, port) < 0)
			memset(a, 0, sizeof(*a));
	}
}

/* The record's event among ours, or -1. */
static int kev_of(const struct sl_trace_decoder *d, const void *data,
		  size_t len)
{
	struct tep_record r = { .data = (void *)data, .size = (int)len };
	int id = tep_data_type(d->tep, &r);

	for (int k = 0; k < SL_KEV_COUNT; k++)
		if (d->tp[k].ev && d->tp[k].ev->id == id)
			return k;
	return -1;
}

/* One record as x; 0 when it is not TCP over IPv4 or IPv6 (IPv4 or IPv6
 * for a drop). */
static int decode(const struct sl_trace_decoder *d, int kev, const void *data,
		  size_t len, struct sl_trace_rec *x)
{
	struct tp *tp = (struct tp *)&d->tp[kev];
	struct sl_kevent *k = &x->k;

	if (kev == SL_KEV_DROP) {
		/* No address to go by: kept aside until attribution can
		 * tell whether it is ours. */
		uint64_t proto = num(tp->protocol, data);

		if (proto != 0x0800 && proto != 0x86dd)
			return 0;
	} else {
		uint64_t family = tp->family ? num(tp->family, data) : AF_INET;

		if (family != AF_INET && family != AF_INET6)
			return 0;
		if (tp->protocol && num(tp->protocol, data) != IPPROTO_TCP)
			return 0;
		/* inet_sock_set_state and tcp_receive_reset give both: the
		 * IPv4 one, and saddr_v6, which holds an IPv6 address (or
		 * the IPv4 one mapped, the same thing in ipaddr.h's terms). */
		if (family == AF_INET6 && tp->saddr6) {
			copy_addr(tp->saddr6, data, len, &k->laddr, &k->lport);
			copy_addr(tp->daddr6, data, len, &k->raddr, &k->rport);
		} else {
			copy_addr(tp->saddr, data, len, &k->laddr, &k->lport);
			copy_addr(tp->daddr, data, len, &k->raddr, &k->rport);
		}
		/* tcp_send_reset's rooms say the family themselves; an
		 * empty room (no socket, no packet) is no address. */
		if (tp->sport)
			k->lport = num(tp->sport, data);
		if (tp->dport)
			k->rport = num(tp->dport, data);
	}
	k->type = kev;
	k->oldstate = num(tp->oldstate, data);
	if (tp->newstate)
		k->state = num(tp->newstate, data);
	if (tp->state)
		k->state = num(tp->state, data);
	if (tp->reason) {
		long v = (long)(int)num(tp->reason, data);
		const char *name = sl_trace_decoder_reason(d, kev, v);

		if (name)
			snprintf(k->reason, sizeof(k->reason), "%s", name);
		else
			snprintf(k->reason, sizeof(k->reason), "reason %ld", v);
	}
	x->sk = num(tp->sk, data);
	x->skb = num(tp->skb, data);
	return 1;
}

int sl_trace_decoder_page(struct sl_trace_decoder *d, void *page, size_t size,
			  int cpu,
			  void (*fn)(void *arg, struct sl_trace_rec *x),
			  void *arg, int *lost)
{
	unsigned long long ts;
	void *data;
	int n = 0, missed;

	*lost = 0;
	/* The page header: a u64 time stamp and the commit (a local_t, of
	 * the size header_page gives). */
	if (size < 8 + (size_t)tep_get_header_page_size(d->tep) ||
	    kbuffer_load_subbuffer(d->kbuf, page) < 0)
		return -EINVAL;
	/* kbuffer trusts the page's commit; a page that claims more than
	 * was read is refused before a record of it is touched. */
	if ((size_t)kbuffer_start_of_data(d->kbuf) +
		    kbuffer_subbuffer_size(d->kbuf) >
	    size)
		return -EINVAL;
	missed = kbuffer_missed_events(d->kbuf);
	*lost = missed < 0 ? 1 : missed;
	for (data = kbuffer_read_event(d->kbuf, &ts); data;
	     data = kbuffer_next_event(d->kbuf, &ts)) {
		size_t len = kbuffer_event_size(d->kbuf);
		struct sl_trace_rec x;
		int kev = kev_of(d, data, len);

		memset(&x, 0, sizeof(x));
		if (kev < 0 || !decode(d, kev, data, len, &x))
			continue;
		x.t = (int64_t)ts;
		x.host = -1;
		x.cpu = cpu;
		fn(arg, &x);
		n++;
	}
	return n;
}
