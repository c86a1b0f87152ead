/* timeline_io.c: a timeline saved to and loaded from socklab's recording
 * format (timeline.h), the .tl files of tests/data/.
 *
 * One event per line, fields separated by tabs:
 *   host-names line: "hosts<TAB>client<TAB>router<TAB>server"
 *   "P t host from to saddr sport daddr dport seq ack flags win len
 *    [injected[=note]] [opt=HEX] [sack=L-R,L-R]" (the option bytes as on the
 *    wire, which the text prints; or, for a segment built by hand with
 *    none, its SACK blocks, absolute)
 *   "M t host name"
 *   "C t t_start host ret err name"
 *   "S t host state laddr lport raddr rport rq wq timer expires retrans"
 *   "G t host laddr lport raddr rport"
 *   "E t host text"   (a role error; "T t host text [name]" for a note)
 *   "W t cause host begun kind text [laddr lport raddr rport state flags]"
 *	(a role's wait, on a socket)
 *   "K t host type oldstate state reason laddr lport raddr rport sock"
 *   header lines "kernel mask why" and "counters state why", then
 *   "N host name delta" per counter that moved (trace.h, counters.h)
 *   "uname release", "error why" (why the run failed before it could be
 *   judged), "late max_ns samples" (how late its timers ran) and
 *   "F kind backend lifted what" per fault served: what the report of a
 *   recording judged again shows (timeline.h)
 * Times are nanoseconds.  Only what predictions and the report read is
 * kept.
 *
 * The special problem of loading: a recording is input, and whoever reads
 * the timeline afterwards indexes tl->host[] with an event's host, from
 * and to numbers without checking them again (predict.c, ladder.c).  So
 * the loader is where a number is checked, once: every field is parsed in
 * full (strtoll, nothing left over) and against its range, hosts against
 * the one hosts line that must come before them, and a line that does not
 * fit is refused with the file, the line number and what is wrong, rather
 * than loaded as something else.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "ipaddr.h"
#include "counter.h"
#include "err.h"
#include "timeline.h"
#include "kevent.h"

#define MAX_FIELDS 20
#define MAX_LINE 1024

/* ---- saving ---- */

static void save_packet(FILE *f, const struct sl_event *e)
{
	char a[SL_IPSTRLEN], b[SL_IPSTRLEN];

	sl_ip_ntop(&e->pkt.saddr, a, sizeof(a));
	sl_ip_ntop(&e->pkt.daddr, b, sizeof(b));
	fprintf(f, "P\t%lld\t%d\t%d\t%d\t%s\t%u\t%s\t%u\t%u\t%u\t%u\t%u\t%u",
		(long long)e->t, e->host, e->from, e->to, a, e->pkt.sport, b,
		e->pkt.dport, e->pkt.seq, e->pkt.ack, e->pkt.flags, e->pkt.win,
		e->pkt.len);
	/* An injected segment keeps the role's note on where its numbers
	 * came from, as the run's own text shows it. */
	if (!strcmp(e->name, "injected")) {
		fputs("\tinjected", f);
		if (e->text[0]) {
			fputc('=', f);
			for (const char *s = e->text; *s; s++)
				fputc(*s == '\t' || *s == '\n' || *s == '\r' ?
					      ' ' :
					      *s,
				      f);
		}
	}
	for (int i = 0; i < e->pkt.opt.rawlen; i++)
		fprintf(f, "%s%02x", i ? "" : "\topt=", e->pkt.opt.raw[i]);
	/* The option bytes hold the SACK blocks; a segment built by hand
	 * without them has its blocks only. */
	for (int i = 0; !e->pkt.opt.rawlen && i < e->pkt.opt.nsack; i++)
		fprintf(f, "%s%u-%u",
			i ? "," : "\tsack=", e->pkt.opt.sack[i][0],
			e->pkt.opt.sack[i][1]);
	fputc('\n', f);
}

static void save_sock(FILE *f, const struct sl_event *e)
{
	char a[SL_IPSTRLEN], b[SL_IPSTRLEN];

	sl_ip_ntop(&e->sock.laddr, a, sizeof(a));
	sl_ip_ntop(&e->sock.raddr, b, sizeof(b));
	fprintf(f, "%c\t%lld\t%d\t%u\t%s\t%u\t%s\t%u\t%u\t%u\t%u\t%u\t%u\n",
		e->kind == SL_EV_STATE ? 'S' : 'G', (long long)e->t, e->host,
		e->sock.state, a, e->sock.lport, b, e->sock.rport,
		e->sock.rqueue, e->sock.wqueue, e->sock.timer,
		e->sock.expires_ms, e->sock.retrans);
}

static void save_wait(FILE *f, const struct sl_event *e)
{
	char a[SL_IPSTRLEN], b[SL_IPSTRLEN];

	fprintf(f, "W\t%lld\t%lld\t%d\t%ld\t%s\t%s", (long long)e->t,
		(long long)e->t_start, e->host, e->ret, e->name, e->text);
	if (e->sock.lport) {
		sl_ip_ntop(&e->sock.laddr, a, sizeof(a));
		sl_ip_ntop(&e->sock.raddr, b, sizeof(b));
		fprintf(f, "\t%s\t%u\t%s\t%u\t%u\t%d", a, e->sock.lport, b,
			e->sock.rport, e->sock.state, e->err);
	}
	fprintf(f, "\n");
}

/* Role errors load back as role errors, notes as notes: a prediction must
 * not mistake one for the other in a recorded run. */
static void save_text(FILE *f, const struct sl_event *e)
{
	fprintf(f, "%c\t%lld\t%d\t%s", e->kind == SL_EV_ROLE_ERROR ? 'E' : 'T',
		(long long)e->t, e->host, e->text);
	/* A note's name says what it is about ("reboot": sockhist.c reads
	 * it). */
	if (e->kind != SL_EV_ROLE_ERROR && e->name[0])
		fprintf(f, "\t%s", e->name);
	fprintf(f, "\n");
}

static void save_event(FILE *f, const struct sl_event *e)
{
	switch (e->kind) {
	case SL_EV_PACKET:
		save_packet(f, e);
		break;
	case SL_EV_INJECT:
		/* Kept as the "injected" field of the packets it matched;
		 * predictions never read the injection. */
		break;
	case SL_EV_MARK:
		fprintf(f, "M\t%lld\t%d\t%s\n", (long long)e->t, e->host,
			e->name);
		break;
	case SL_EV_CALL:
		fprintf(f, "C\t%lld\t%lld\t%d\t%ld\t%d\t%s\n", (long long)e->t,
			(long long)e->t_start, e->host, e->ret, e->err,
			e->name);
		break;
	case SL_EV_STATE:
	case SL_EV_GONE:
		save_sock(f, e);
		break;
	case SL_EV_KERNEL:
		sl_kevent_save(f, e);
		break;
	case SL_EV_WAIT:
		save_wait(f, e);
		break;
	default:
		save_text(f, e);
		break;
	}
}

int sl_timeline_save(const struct sl_timeline *tl, const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	return sl_timeline_save_to(tl, f);
}

/* A text field: a tab or a line break in it would end the field or the
 * line, so each is written as a space. */
static void save_field(FILE *f, const char *s)
{
	fputc('\t', f);
	for (; *s; s++)
		fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, f);
}

/* The run around the events: its kernel, its error, its faults. */
static void save_run(FILE *f, const struct sl_timeline *tl)
{
	if (tl->release[0]) {
		fprintf(f, "uname");
		save_field(f, tl->release);
		fputc('\n', f);
	}
	if (tl->error[0]) {
		fprintf(f, "error");
		save_field(f, tl->error);
		fputc('\n', f);
	}
	if (tl->late_n > 0)
		fprintf(f, "late\t%lld\t%ld\n", (long long)tl->late_ns,
			tl->late_n);
	for (int i = 0; i < tl->nfaults; i++) {
		const struct sl_tl_fault *x = &tl->fault[i];

		fprintf(f, "F");
		save_field(f, x->kind[0] ? x->kind : "-");
		save_field(f, x->backend[0] ? x->backend : "-");
		fprintf(f, "\t%d", x->lifted ? 1 : 0);
		save_field(f, x->what[0] ? x->what : "-");
		if (x->spec[0])
			save_field(f, x->spec);
		fputc('\n', f);
	}
}

int sl_timeline_save_to(const struct sl_timeline *tl, FILE *f)
{
	fprintf(f, "hosts");
	for (int i = 0; i < tl->nhosts; i++)
		fprintf(f, "\t%s", tl->host[i]);
	fprintf(f, "\n");
	sl_trace_save_header(f, tl);
	sl_counters_save(f, tl);
	save_run(f, tl);
	for (int i = 0; i < tl->n; i++)
		save_event(f, &tl->ev[i]);
	if (fclose(f) != 0)
		return -errno;
	return 0;
}

/* ---- loading ---- */

/* The line being read.  The field readers below return a value even when
 * the field is bad, and the first refusal sticks: a line's loader reads
 * all its fields and checks once, at the end. */
struct reader {
	const char *path;
	int line;
	char *f[MAX_FIELDS];
	int nf;
	int hosts_seen;
	int ret;
	struct sl_timeline *tl;
	struct sl_err *e;
};

static int refuse(struct reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int refuse(struct reader *r, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	if (r->ret < 0)
		return r->ret;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (r->e)
		snprintf(r->e->msg, sizeof(r->e->msg), "load %s: line %d: %s",
			 r->path, r->line, what);
	r->ret = -EINVAL;
	return r->ret;
}

/* Field i as a whole decimal number in lo..hi; what names it. */
static long long num(struct reader *r, int i, long long lo, long long hi,
		     const char *what)
{
	const char *s = r->f[i];
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end || errno) {
		refuse(r, "%s \"%s\" is not a number", what, s);
		return lo;
	}
	if (v < lo || v > hi) {
		refuse(r, "%s %lld is out of range (%lld..%lld)", what, v, lo,
		       hi);
		return lo;
	}
	return v;
}

static int64_t when(struct reader *r, int i, const char *what)
{
	return num(r, i, 0, INT64_MAX, what);
}

/* A host number, which the hosts line (before it) must name; unknown_ok
 * admits -1, a packet's sender or receiver that is none of the hosts. */
static int host(struct reader *r, int i, int unknown_ok, const char *what)
{
	if (!r->hosts_seen) {
		refuse(r, "%s \"%s\" before the hosts line that names it", what,
		       r->f[i]);
		return 0;
	}
	return num(r, i, unknown_ok ? -1 : 0, r->tl->nhosts - 1, what);
}

/* a.b.c.d or an IPv6 address (ipaddr.h), as the recording wrote it. */
static void addr(struct reader *r, int i, const char *what,
		 struct in6_addr *out)
{
	if (sl_ip_pton(r->f[i], out) < 0)
		refuse(r, "%s \"%s\" is not an IPv4 or IPv6 address", what,
		       r->f[i]);
}

static void text(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src);
}

/* SACK blocks "L-R,L-R": up to four, as a header holds them. */
static void load_sack(struct reader *r, const char *v, struct sl_tcpopts *o)
{
	const char *all = v;

	while (*v && r->ret == 0) {
		unsigned long long b[2];
		char *end;

		if (o->nsack == 4) {
			refuse(r, "more than 4 SACK blocks");
			return;
		}
		for (int k = 0; k < 2; k++) {
			/* The left edge ends at '-', the right one at ','
			 * before the next block, or at the end. */
			int ok;

			errno = 0;
			b[k] = strtoull(v, &end, 10);
			ok = !errno && isdigit((unsigned char)*v) &&
			     b[k] <= UINT32_MAX &&
			     (k == 0 ? *end == '-' :
				       *end == '\0' || (*end == ',' && end[1]));
			if (!ok) {
				refuse(r, "bad SACK blocks \"%s\"", all);
				return;
			}
			v = end + (*end != '\0');
		}
		o->sack[o->nsack][0] = b[0];
		o->sack[o->nsack][1] = b[1];
		o->nsack++;
	}
}

/* The option bytes "opt=HEX", as saved: two hex digits a byte, at most
 * 40 bytes. */
static void load_opt(struct reader *r, const char *v, struct sl_tcpopts *o)
{
	uint8_t raw[40];
	size_t n = strlen(v) / 2;

	if (strlen(v) % 2 || n == 0 || n > sizeof(raw)) {
		refuse(r, "option bytes \"%.90s\" are not 1 to 40 bytes in hex",
		       v);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned int b;

		if (!isxdigit((unsigned char)v[2 * i]) ||
		    !isxdigit((unsigned char)v[2 * i + 1]) ||
		    sscanf(v + 2 * i, "%2x", &b) != 1) {
			refuse(r, "option bytes \"%.90s\" are not hex", v);
			return;
		}
		raw[i] = (uint8_t)b;
	}
	sl_packet_options(raw, n, o);
}

static int load_packet(struct reader *r, struct sl_event *e)
{
	struct sl_packet *p = &e->pkt;
	const char *opt = NULL, *sack = NULL;
	int injected = 0;

	/* Each optional field at most once, in the order saved. */
	for (int i = 14; i < r->nf; i++) {
		const char *v = r->f[i];

		if ((!strcmp(v, "injected") || !strncmp(v, "injected=", 9)) &&
		    !injected && !opt && !sack)
			injected = v[8] ? i : -1;
		else if (!strncmp(v, "opt=", 4) && !opt && !sack)
			opt = v + 4;
		else if (!strncmp(v, "sack=", 5) && !sack && !opt)
			sack = v + 5;
		else
			return refuse(
				r,
				"a packet's field %d is \"%.40s\", not "
				"injected[=note], opt=HEX or sack=L-R,... "
				"(each once, opt= or sack=, in that "
				"order)",
				i + 1, v);
	}
	if (injected)
		text(e->name, sizeof(e->name), "injected");
	if (injected > 0)
		text(e->text, sizeof(e->text), r->f[injected] + 9);
	e->kind = SL_EV_PACKET;
	e->t = when(r, 1, "time");
	e->host = host(r, 2, 0, "host");
	e->from = host(r, 3, 1, "sender");
	e->to = host(r, 4, 1, "receiver");
	addr(r, 5, "source address", &p->saddr);
	p->sport = num(r, 6, 0, UINT16_MAX, "source port");
	addr(r, 7, "destination address", &p->daddr);
	p->dport = num(r, 8, 0, UINT16_MAX, "destination port");
	p->seq = num(r, 9, 0, UINT32_MAX, "seq");
	p->ack = num(r, 10, 0, UINT32_MAX, "ack");
	p->flags = num(r, 11, 0, UINT8_MAX, "flags");
	p->win = num(r, 12, 0, UINT16_MAX, "win");
	p->len = num(r, 13, 0, UINT32_MAX, "length");
	p->opt.wscale = -1;
	if (opt)
		load_opt(r, opt, &p->opt);
	else if (sack)
		load_sack(r, sack, &p->opt);
	return r->ret;
}

static int load_mark(struct reader *r, struct sl_event *e)
{
	e->kind = SL_EV_MARK;
	e->t = when(r, 1, "time");
	e->host = host(r, 2, 0, "host");
	text(e->name, sizeof(e->name), r->f[3]);
	return r->ret;
}

static int load_call(struct reader *r, struct sl_event *e)
{
	e->kind = SL_EV_CALL;
	e->t = when(r, 1, "time");
	e->t_start = when(r, 2, "start time");
	e->host = host(r, 3, 0, "host");
	e->ret = num(r, 4, LONG_MIN, LONG_MAX, "return value");
	e->err = num(r, 5, 0, 4095, "errno");
	text(e->name, sizeof(e->name), r->f[6]);
	return r->ret;
}

/* The socket fields of an S or G line, or of a wait's tail, from field
 * i on: laddr lport raddr rport. */
static void load_tuple(struct reader *r, int i, struct sl_sock *s)
{
	addr(r, i, "local address", &s->laddr);
	s->lport = num(r, i + 1, 0, UINT16_MAX, "local port");
	addr(r, i + 2, "remote address", &s->raddr);
	s->rport = num(r, i + 3, 0, UINT16_MAX, "remote port");
}

static int load_sock(struct reader *r, struct sl_event *e)
{
	struct sl_sock *s = &e->sock;

	e->kind = r->f[0][0] == 'S' ? SL_EV_STATE : SL_EV_GONE;
	e->t = when(r, 1, "time");
	e->host = host(r, 2, 0, "host");
	s->state = num(r, 3, 0, UINT8_MAX, "state");
	load_tuple(r, 4, s);
	s->rqueue = num(r, 8, 0, UINT32_MAX, "Recv-Q");
	s->wqueue = num(r, 9, 0, UINT32_MAX, "Send-Q");
	s->timer = num(r, 10, 0, UINT8_MAX, "timer");
	s->expires_ms = num(r, 11, 0, UINT32_MAX, "timer expiry");
	s->retrans = num(r, 12, 0, UINT8_MAX, "retransmissions");
	return r->ret;
}

static int load_wait(struct reader *r, struct sl_event *e)
{
	if (r->nf != 7 && r->nf != 13)
		return refuse(r,
			      "a wait line has 7 fields, or 13 with its "
			      "socket; this one %d",
			      r->nf);
	e->kind = SL_EV_WAIT;
	e->t = when(r, 1, "time");
	e->t_start = when(r, 2, "cause time");
	e->host = host(r, 3, 0, "host");
	e->ret = num(r, 4, INT64_MIN, INT64_MAX, "begin time");
	text(e->name, sizeof(e->name), r->f[5]);
	text(e->text, sizeof(e->text), r->f[6]);
	if (r->nf == 13) {
		load_tuple(r, 7, &e->sock);
		e->sock.state = num(r, 11, 0, UINT8_MAX, "state");
		e->err = num(r, 12, 0, INT32_MAX, "wait flags");
	}
	return r->ret;
}

static int load_text(struct reader *r, struct sl_event *e)
{
	if (r->nf == 5 && r->f[0][0] != 'T')
		return refuse(r, "a role error has 4 fields, not 5");
	e->kind = r->f[0][0] == 'E' ? SL_EV_ROLE_ERROR : SL_EV_NOTE;
	e->t = when(r, 1, "time");
	e->host = host(r, 2, 0, "host");
	text(e->text, sizeof(e->text), r->f[3]);
	if (r->nf == 5)
		text(e->name, sizeof(e->name), r->f[4]);
	return r->ret;
}

/* The kernel event's fields are trace.c's to read; its host is ours to
 * check, as for every other event. */
static int load_kernel(struct reader *r, struct sl_event *e)
{
	when(r, 1, "time");
	host(r, 2, 0, "host");
	if (r->ret == 0 && sl_kevent_load(e, r->f, r->nf) < 0)
		return refuse(r, "a kernel event's type, state or address is "
				 "not one trace.h knows");
	return r->ret;
}

static const struct event_line {
	const char *kind;
	int min, max; /* fields, the kind's included */
	int (*load)(struct reader *r, struct sl_event *e);
	const char *what;
} event_lines[] = {
	{ "P", 14, 17, load_packet, "packet" },
	{ "M", 4, 4, load_mark, "mark" },
	{ "C", 7, 7, load_call, "call" },
	{ "S", 13, 13, load_sock, "socket state" },
	{ "G", 13, 13, load_sock, "socket's end" },
	{ "K", 12, 12, load_kernel, "kernel event" },
	{ "W", 7, 13, load_wait, "wait" },
	{ "E", 4, 4, load_text, "role error" },
	{ "T", 4, 5, load_text, "note" },
};

static int load_event(struct reader *r)
{
	const struct event_line *l = NULL;
	struct sl_event e;

	for (size_t i = 0; i < sizeof(event_lines) / sizeof(*l); i++)
		if (!strcmp(r->f[0], event_lines[i].kind))
			l = &event_lines[i];
	if (!l)
		return refuse(r, "unknown line kind \"%.20s\"", r->f[0]);
	if (r->nf < l->min || r->nf > l->max) {
		if (l->min == l->max)
			return refuse(r, "a %s line has %d fields, this one %d",
				      l->what, l->min, r->nf);
		return refuse(r, "a %s line has %d to %d fields, this one %d",
			      l->what, l->min, l->max, r->nf);
	}
	memset(&e, 0, sizeof(e));
	e.from = e.to = -1;
	if (l->load(r, &e) < 0)
		return r->ret;
	if (sl_timeline_add(r->tl, &e) < 0)
		return sl_errf(r->e, ENOMEM, "load %s: line %d", r->path,
			       r->line);
	return 0;
}

static int load_hosts(struct reader *r)
{
	if (r->hosts_seen)
		return refuse(r, "a second hosts line");
	if (r->nf - 1 > SL_TL_MAX_HOSTS)
		return refuse(r, "%d hosts, more than the %d a timeline holds",
			      r->nf - 1, SL_TL_MAX_HOSTS);
	for (int i = 1; i < r->nf; i++)
		if (!r->f[i][0] || strlen(r->f[i]) >= sizeof(r->tl->host[0]))
			return refuse(r,
				      "host name \"%.40s\" is empty or "
				      "longer than %zu characters",
				      r->f[i], sizeof(r->tl->host[0]) - 1);
	sl_timeline_set_hosts(r->tl, (const char *const *)&r->f[1], r->nf - 1);
	r->hosts_seen = 1;
	return 0;
}

/* The header lines and the counters are the kernel modules' to read. */
static int load_other(struct reader *r)
{
	if (!strcmp(r->f[0], "kernel")) {
		if (sl_trace_load_header(r->tl, r->f, r->nf) < 0)
			return refuse(r, "malformed kernel header (kernel mask "
					 "lost why)");
		return 0;
	}
	if (!strcmp(r->f[0], "klimit")) {
		if (sl_trace_load_limit(r->tl, r->f, r->nf) < 0)
			return refuse(r, "malformed kernel limit (klimit "
					 "tracepoint what)");
		return 0;
	}
	if (!strcmp(r->f[0], "counters")) {
		if (sl_counters_load_header(r->tl, r->f, r->nf) < 0)
			return refuse(r, "malformed counters header (counters "
					 "state why)");
		return 0;
	}
	if (r->nf != 4)
		return refuse(r, "a counter line has 4 fields, this one %d",
			      r->nf);
	host(r, 1, 0, "counter's host");
	if (r->ret == 0 && sl_counters_load(r->tl, r->f, r->nf) < 0)
		return refuse(r, "counter value \"%s\" is not a number",
			      r->f[3]);
	return r->ret;
}

/* "uname release", "error why", "late max_ns samples", "F kind backend
 * lifted what [spec]": the run around the events, each kept as saved. */
static int load_run(struct reader *r)
{
	struct sl_timeline *tl = r->tl;
	struct sl_tl_fault *x;

	if (!strcmp(r->f[0], "late")) {
		if (r->nf != 3)
			return refuse(r,
				      "a line \"late\" has 3 fields, this "
				      "one %d",
				      r->nf);
		tl->late_ns = num(r, 1, 0, INT64_MAX, "late max_ns");
		tl->late_n = (long)num(r, 2, 1, LONG_MAX, "late samples");
		return r->ret;
	}
	if (!strcmp(r->f[0], "uname") || !strcmp(r->f[0], "error")) {
		if (r->nf != 2 || !r->f[1][0])
			return refuse(r,
				      "a line \"%s\" has 2 fields, the "
				      "second not empty",
				      r->f[0]);
		if (r->f[0][0] == 'u')
			text(tl->release, sizeof(tl->release), r->f[1]);
		else
			text(tl->error, sizeof(tl->error), r->f[1]);
		return 0;
	}
	/* The sixth, what was asked (fault_spec.h), is newer. */
	if (r->nf != 5 && r->nf != 6)
		return refuse(r, "a fault line has 5 or 6 fields, this one %d",
			      r->nf);
	if (tl->nfaults == SL_TL_FAULTS_MAX)
		return refuse(r, "more than %d faults", SL_TL_FAULTS_MAX);
	x = &tl->fault[tl->nfaults];
	x->lifted = num(r, 3, 0, 1, "lifted");
	if (r->ret < 0)
		return r->ret;
	text(x->kind, sizeof(x->kind), strcmp(r->f[1], "-") ? r->f[1] : "");
	text(x->backend, sizeof(x->backend),
	     strcmp(r->f[2], "-") ? r->f[2] : "");
	text(x->what, sizeof(x->what), strcmp(r->f[4], "-") ? r->f[4] : "");
	text(x->spec, sizeof(x->spec), r->nf == 6 ? r->f[5] : "");
	tl->nfaults++;
	return 0;
}

/* Splits line into r->f at tabs.  Returns the number of fields, or
 * -EINVAL for more than MAX_FIELDS. */
static int split(struct reader *r, char *line)
{
	r->nf = 0;
	for (char *s = line; s; r->nf++) {
		if (r->nf == MAX_FIELDS)
			return refuse(r, "more than %d fields", MAX_FIELDS);
		r->f[r->nf] = s;
		s = strchr(s, '\t');
		if (s)
			*s++ = '\0';
	}
	return r->nf;
}

static int load_line(struct reader *r, char *line)
{
	size_t len = strcspn(line, "\n");

	line[len] = '\0';
	if (!*line || line[0] == '#')
		return 0;
	if (split(r, line) < 0)
		return r->ret;
	if (!strcmp(r->f[0], "hosts"))
		return load_hosts(r);
	if (!strcmp(r->f[0], "uname") || !strcmp(r->f[0], "error") ||
	    !strcmp(r->f[0], "late") || !strcmp(r->f[0], "F"))
		return load_run(r);
	if (!strcmp(r->f[0], "kernel") || !strcmp(r->f[0], "klimit") ||
	    !strcmp(r->f[0], "counters") || !strcmp(r->f[0], "N"))
		return load_other(r);
	return load_event(r);
}

static void load_init(struct sl_timeline *tl)
{
	sl_timeline_init(tl);
	snprintf(tl->kernel_why, sizeof(tl->kernel_why),
		 "the recording has no kernel events");
	snprintf(tl->counters_why, sizeof(tl->counters_why),
		 "the recording has no kernel counters");
}

int sl_timeline_read(struct sl_timeline *tl, const char *path, struct sl_err *e)
{
	struct reader r = { .path = path, .tl = tl, .e = e };
	/* zlib reads a recording as kept in the guides (.tl.gz) and a run's
	 * plain timeline.tl alike. */
	gzFile f = gzopen(path, "rb");
	char line[MAX_LINE];
	int zerr;

	load_init(tl);
	if (!f)
		return sl_errf(e, errno ? errno : ENOMEM, "load %s", path);
	while (r.ret == 0 && gzgets(f, line, sizeof(line))) {
		r.line++;
		/* A longer line would come back as two. */
		if (!strchr(line, '\n') && !gzeof(f))
			refuse(&r, "longer than %d characters", MAX_LINE - 2);
		else
			load_line(&r, line);
	}
	if (r.ret == 0 &&
	    (gzerror(f, &zerr), zerr != Z_OK && zerr != Z_STREAM_END))
		r.ret = sl_errf(e, EIO, "load %s: line %d", path, r.line + 1);
	gzclose(f);
	if (r.ret < 0) {
		sl_timeline_free(tl);
		return r.ret;
	}
	sl_timeline_finish(tl);
	return 0;
}

int sl_timeline_load(struct sl_timeline *tl, const char *path)
{
	return sl_timeline_read(tl, path, NULL);
}
