/* trace.c: a private tracefs instance per run, read in binary (trace.h).
 *
 * The special problem of the ring buffer's pages: trace_pipe_raw hands out
 * the kernel's own sub-buffers, one per read(), as the ring buffer keeps
 * them (kernel/trace/ring_buffer.c; the layout is described by
 * events/header_page and events/header_event):
 *
 *	u64 timestamp		time of the page's first event
 *	local_t commit		bytes of events; bit 31: events were lost
 *	events			4-byte header: type_len (5 bits), time_delta
 *				(27 bits), then:
 *	  type_len 1..28	a record of type_len * 4 bytes
 *	  type_len 0		a u32 length (itself included), then the record
 *	  29 padding		the rest of the page (delta 0), or a discarded
 *				record: a u32 length follows
 *	  30 time extend	a u32: the delta's bits 27 and up
 *	  31 time stamp		a u32: an absolute time, bits 27 and up
 *
 * Each record's time is the page's timestamp plus every delta before it, in
 * the instance's trace clock: "mono", so nanoseconds of CLOCK_MONOTONIC, the
 * timeline's clock.  A record starts with the event's common fields
 * (common_type, the event's ID) and then its own, at the offsets its format
 * file gives.  Nothing here assumes those offsets: they are read from the
 * format files of the running kernel, and so are the names of RST and drop
 * reasons (the __print_symbolic() tables), which change between kernels.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "clock.h"
#include "err.h"
#include "timeline.h"
#include "topology.h"
#include "priority.h"
#include "trace.h"
#include "trace_attribute.h"

#define TRACEFS_MAGIC 0x74726163
/* The reader empties the buffer (the kernel's default for an instance,
 * 1.4 MB per CPU) this often: enough for a burst of a few hundred thousand
 * events a second. */
#define READ_PERIOD_MS 50
#define MAX_ADDRS 8

/* ---- names ---- */

static const struct {
	const char *system, *name;
	const char *sym;	/* the field whose symbolic names we keep */
} tracepoints[SL_KEV_COUNT] = {
	[SL_KEV_SET_STATE] = { "sock", "inet_sock_set_state", NULL },
	[SL_KEV_SEND_RESET] = { "tcp", "tcp_send_reset", "reason" },
	[SL_KEV_RECEIVE_RESET] = { "tcp", "tcp_receive_reset", NULL },
	[SL_KEV_RETRANSMIT] = { "tcp", "tcp_retransmit_skb", NULL },
	[SL_KEV_RETRANSMIT_SYNACK] = { "tcp", "tcp_retransmit_synack", NULL },
	[SL_KEV_DROP] = { "skb", "kfree_skb", "reason" },
};

/* ---- format files ---- */

const struct sl_tp_field *sl_tp_field(const struct sl_tp_format *fmt,
				      const char *name)
{
	for (int i = 0; i < fmt->nfields; i++)
		if (!strcmp(fmt->field[i].name, name))
			return &fmt->field[i];
	return NULL;
}

/* "field:__u8 saddr[4];	offset:32;	size:4;	signed:0;" */
static int parse_field(struct sl_tp_field *f, const char *line)
{
	const char *decl = strstr(line, "field:"), *semi, *o, *s, *g;
	char d[128], *end, *name;
	size_t len;

	if (!decl)
		return -EINVAL;
	decl += 6;
	semi = strchr(decl, ';');
	o = strstr(line, "offset:");
	s = strstr(line, "size:");
	g = strstr(line, "signed:");
	if (!semi || !o || !s)
		return -EINVAL;
	len = semi - decl;
	if (len >= sizeof(d))
		return -EINVAL;
	memcpy(d, decl, len);
	d[len] = '\0';
	end = strchr(d, '[');
	if (end)
		*end = '\0';
	end = d + strlen(d);
	while (end > d && end[-1] == ' ')
		*--end = '\0';
	name = end;
	while (name > d && name[-1] != ' ' && name[-1] != '*')
		name--;
	if (!*name || strlen(name) >= sizeof(f->name))
		return -EINVAL;
	strcpy(f->name, name);
	f->offset = atoi(o + 7);
	f->size = atoi(s + 5);
	f->is_signed = g ? atoi(g + 7) : 0;
	return 0;
}

/* The { value, "NAME" } pairs of __print_symbolic(REC->field, ...).  A table
 * whose values are not numbers (tcp_send_reset's states are printed with
 * the names of the constants) is left out. */
static void parse_syms(struct sl_tp_format *fmt, const char *text)
{
	char key[64];
	const char *p;

	snprintf(key, sizeof(key), "__print_symbolic(REC->%s,",
		 fmt->sym_field);
	p = strstr(text, key);
	if (!p)
		return;
	p += strlen(key);
	for (;;) {
		const char *q, *end;
		char *num_end;
		long v;

		while (*p == ' ' || *p == ',')
			p++;
		if (*p != '{')
			return;
		p++;
		v = strtol(p, &num_end, 0);
		if (num_end == p)
			return;
		q = strchr(num_end, '"');
		end = q ? strchr(q + 1, '"') : NULL;
		if (!end || fmt->nsyms >= SL_TP_MAX_SYMS)
			return;
		fmt->sym[fmt->nsyms].value = v;
		snprintf(fmt->sym[fmt->nsyms].name,
			 sizeof(fmt->sym[0].name), "%.*s",
			 (int)(end - q - 1), q + 1);
		fmt->nsyms++;
		p = strchr(end, '}');
		if (!p)
			return;
		p++;
	}
}

int sl_tp_format_parse(struct sl_tp_format *fmt, const char *text,
		       const char *sym_field)
{
	const char *line = text;

	memset(fmt, 0, sizeof(*fmt));
	fmt->id = -1;
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		char buf[256];
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		if (len < sizeof(buf)) {
			memcpy(buf, line, len);
			buf[len] = '\0';
			if (!strncmp(buf, "name: ", 6))
				snprintf(fmt->name, sizeof(fmt->name), "%s",
					 buf + 6);
			else if (!strncmp(buf, "ID: ", 4))
				fmt->id = atoi(buf + 4);
			else if (strstr(buf, "field:") &&
				 fmt->nfields < SL_TP_MAX_FIELDS &&
				 parse_field(&fmt->field[fmt->nfields], buf) == 0)
				fmt->nfields++;
		}
		line = nl ? nl + 1 : NULL;
	}
	if (fmt->id < 0 || fmt->nfields == 0)
		return -EINVAL;
	if (sym_field) {
		snprintf(fmt->sym_field, sizeof(fmt->sym_field), "%s",
			 sym_field);
		parse_syms(fmt, text);
	}
	return 0;
}

uint64_t sl_tp_read(const struct sl_tp_field *f, const void *rec, size_t len)
{
	const uint8_t *p = rec;

	if (!f || f->offset < 0 || (size_t)f->offset + f->size > len)
		return 0;
	p += f->offset;
	switch (f->size) {
	case 1:
		return f->is_signed ? (uint64_t)(int64_t)*(const int8_t *)p : *p;
	case 2: {
		uint16_t v;

		memcpy(&v, p, 2);
		return f->is_signed ? (uint64_t)(int64_t)(int16_t)v : v;
	}
	case 4: {
		uint32_t v;

		memcpy(&v, p, 4);
		return f->is_signed ? (uint64_t)(int64_t)(int32_t)v : v;
	}
	case 8: {
		uint64_t v;

		memcpy(&v, p, 8);
		return v;
	}
	}
	return 0;
}

const char *sl_tp_sym(const struct sl_tp_format *fmt, long value)
{
	for (int i = 0; i < fmt->nsyms; i++)
		if (fmt->sym[i].value == value)
			return fmt->sym[i].name;
	return NULL;
}

/* ---- pages ---- */

#define RB_TYPE_PADDING 29
#define RB_TYPE_TIME_EXTEND 30
#define RB_TYPE_TIME_STAMP 31
#define RB_TS_SHIFT 27
#define RB_COMMIT_MASK ((1u << 27) - 1)
#define RB_MISSED_EVENTS (1ull << 31)
#define RB_PAGE_HEADER 16	/* u64 timestamp, 8-byte local_t commit */
/* Absolute time stamps lack the top 5 bits; they come from the clock. */
#define RB_TS_MSB (0xf8ull << 56)

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

int sl_tp_page_walk(const void *page, size_t size,
		    void (*fn)(void *arg, uint64_t ts, const void *rec,
			       size_t len),
		    void *arg, int *lost)
{
	const uint8_t *p = page;
	uint64_t ts, commit;
	size_t off = RB_PAGE_HEADER, end;
	int n = 0;

	*lost = 0;
	if (size < RB_PAGE_HEADER)
		return -EINVAL;
	memcpy(&ts, p, 8);
	memcpy(&commit, p + 8, 8);
	*lost = (commit & RB_MISSED_EVENTS) != 0;
	end = RB_PAGE_HEADER + (commit & RB_COMMIT_MASK);
	if (end > size)
		return -EINVAL;
	while (off + 4 <= end) {
		uint32_t h = rd32(p + off);
		unsigned type_len = h & 31;
		uint32_t delta = h >> 5;
		size_t len;

		off += 4;
		switch (type_len) {
		case RB_TYPE_PADDING:
			/* Delta 0: nothing more on this page.  Otherwise a
			 * record that was discarded after it was reserved;
			 * its delta still counts (libtraceevent's kbuffer
			 * reads it the same way). */
			if (delta == 0 || off + 4 > end)
				return n;
			ts += delta;
			off += rd32(p + off);
			continue;
		case RB_TYPE_TIME_EXTEND:
			if (off + 4 > end)
				return -EINVAL;
			ts += ((uint64_t)rd32(p + off) << RB_TS_SHIFT) + delta;
			off += 4;
			continue;
		case RB_TYPE_TIME_STAMP: {
			uint64_t abs;

			if (off + 4 > end)
				return -EINVAL;
			abs = ((uint64_t)rd32(p + off) << RB_TS_SHIFT) | delta;
			if (ts & RB_TS_MSB) {
				uint64_t prev = ts;

				abs |= ts & RB_TS_MSB;
				if (abs < prev)
					abs += 1ull << 59;
			}
			ts = abs;
			off += 4;
			continue;
		}
		case 0:
			if (off + 4 > end || rd32(p + off) < 4)
				return -EINVAL;
			len = rd32(p + off) - 4;
			off += 4;
			break;
		default:
			len = type_len * 4;
			break;
		}
		if (off + len > end)
			return -EINVAL;
		ts += delta;
		fn(arg, ts, p + off, len);
		n++;
		off += (len + 3) & ~(size_t)3;
	}
	return n;
}

/* ---- the records of one run, before attribution ---- */

struct recs {
	struct sl_trace_rec *r;
	int n, cap;
};

static struct sl_trace_rec *recs_add(struct recs *v)
{
	if (v->n == v->cap) {
		int cap = v->cap ? v->cap * 2 : 256;
		struct sl_trace_rec *n = realloc(v->r, cap * sizeof(*n));

		if (!n)
			return NULL;
		v->r = n;
		v->cap = cap;
	}
	memset(&v->r[v->n], 0, sizeof(v->r[0]));
	return &v->r[v->n++];
}

/* ---- the instance ---- */

struct tp {
	int enabled;
	struct sl_tp_format fmt;
	/* fields, looked up once */
	const struct sl_tp_field *family, *protocol, *saddr, *daddr, *sport,
		*dport, *oldstate, *newstate, *state, *sk, *skb, *reason;
};

struct sl_trace {
	char root[400];		/* tracefs */
	int slot;
	char dir[512];		/* the instance, once made */
	size_t page;
	int ncpu;
	int *fd;		/* per CPU: trace_pipe_raw, O_NONBLOCK */
	struct tp tp[SL_KEV_COUNT];
	unsigned enabled;
	char why[160];		/* why an event is not enabled */
	int naddr;
	struct in_addr addr[MAX_ADDRS];
	int addr_host[MAX_ADDRS];
	pthread_t thread;	/* sets the instance up, then reads it */
	int started;
	int stopfd;
	pthread_mutex_t mu;	/* ready, setup_err, setup_msg */
	pthread_cond_t cv;
	int ready;
	int setup_err;
	struct sl_err setup_msg;
	int stopped;		/* read for the last time */
	pthread_t remover;	/* removes the instance after the last read */
	int removing;
	void *buf;
	int cur_cpu;		/* while a page is walked */
	struct recs recs;	/* owned by the reader thread until joined */
	/* The live feed (sl_trace_feed()), under feed_mu: turning it off
	 * must wait for a publication under way, whose argument (the
	 * roles' log) is about to go. */
	pthread_mutex_t feed_mu;
	void *feed_arg;
	void (*feed)(void *arg, const struct sl_event *ev);
	int lost;
	int err;
	struct sl_err errmsg;
};

const char *sl_trace_root(void)
{
	const char *r = getenv("SOCKLAB_TRACEFS");

	return r && *r ? r : SL_TRACEFS;
}

static int is_tracefs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == TRACEFS_MAGIC;
}

int sl_trace_mount(const char *root, int *mounted, struct sl_err *e)
{
	int lock, ret = 0;

	*mounted = 0;
	if (!strcmp(root, "off"))
		return sl_errf(e, ENOTSUP, "turned off (SOCKLAB_TRACEFS=off)");
	if (is_tracefs(root))
		return 0;
	if (strcmp(root, SL_TRACEFS))
		return sl_errf(e, ENOENT, "no tracefs at %s", root);
	/* Two runs that start together must not mount it twice (it would
	 * work, stacked, but leave two mounts behind). */
	mkdir(SL_RUN_DIR, 0755);
	lock = open(SL_RUN_DIR "/tracefs.lock", O_RDONLY | O_CREAT | O_CLOEXEC,
		    0644);
	if (lock >= 0)
		flock(lock, LOCK_EX);
	if (!is_tracefs(root)) {
		if (mount("nodev", root, "tracefs", 0, NULL) < 0)
			ret = sl_errf(e, errno, "mount tracefs at %s", root);
		else
			*mounted = 1;
	}
	if (lock >= 0)
		close(lock);
	return ret;
}

static int write_file(const char *dir, const char *name, const char *val)
{
	char path[1024];
	size_t len = strlen(val);
	ssize_t w;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	w = write(fd, val, len);
	if (w < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	close(fd);
	return (size_t)w == len ? 0 : -EIO;
}

/* Reads a tracefs file whole (their sizes read as 0). */
static char *read_file(const char *path)
{
	size_t cap = 8192, len = 0;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (!buf || fd < 0) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((r = read(fd, buf + len, cap - len - 1)) > 0) {
		len += r;
		if (cap - len < 1024) {
			char *n = realloc(buf, cap * 2);

			if (!n) {
				r = -1;
				break;
			}
			buf = n;
			cap *= 2;
		}
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

static int host_of(const struct sl_trace *tr, struct in_addr a)
{
	for (int i = 0; i < tr->naddr; i++)
		if (tr->addr[i].s_addr == a.s_addr)
			return tr->addr_host[i];
	return -1;
}

static void copy_addr(const struct sl_tp_field *f, const uint8_t *rec,
		      size_t len, struct in_addr *a, uint16_t *port)
{
	/* Either a plain 4-byte address, or (tcp_send_reset since 6.x) a
	 * struct sockaddr_in6-sized room holding a sockaddr_in. */
	a->s_addr = 0;
	if (!f || (size_t)f->offset + f->size > len)
		return;
	if (f->size == 4) {
		memcpy(&a->s_addr, rec + f->offset, 4);
	} else if (f->size >= (int)sizeof(struct sockaddr_in)) {
		struct sockaddr_in sin;

		memcpy(&sin, rec + f->offset, sizeof(sin));
		if (sin.sin_family == AF_INET) {
			*a = sin.sin_addr;
			if (port)
				*port = ntohs(sin.sin_port);
		}
	}
}

/* An event of this run's sockets, to the live feed as soon as it is read
 * (drops wait for sl_trace_attribute(), which alone can tell whose they
 * are). */
static void publish(struct sl_trace *tr, const struct sl_trace_rec *x)
{
	struct sl_event ev;

	sl_trace_rec_event(x, &ev);
	pthread_mutex_lock(&tr->feed_mu);
	if (tr->feed)
		tr->feed(tr->feed_arg, &ev);
	pthread_mutex_unlock(&tr->feed_mu);
}

/* One record of the ring buffer: this run's, or dropped on the floor. */
static void on_record(void *arg, uint64_t ts, const void *data, size_t len)
{
	struct sl_trace *tr = arg;
	const uint8_t *r = data;
	uint16_t type;
	struct tp *tp = NULL;
	struct sl_kevent k;
	struct sl_trace_rec *x;
	int kev, host;

	if (len < 2)
		return;
	memcpy(&type, r, 2);
	for (kev = 0; kev < SL_KEV_COUNT; kev++) {
		if (tr->tp[kev].enabled && tr->tp[kev].fmt.id == type) {
			tp = &tr->tp[kev];
			break;
		}
	}
	if (!tp)
		return;
	memset(&k, 0, sizeof(k));
	k.type = kev;
	if (kev == SL_KEV_DROP) {
		/* No address to go by: kept aside until sl_trace_stop()
		 * can tell whether it is ours. */
		if (sl_tp_read(tp->protocol, r, len) != 0x0800)
			return;
		host = -1;
	} else {
		if (tp->family && sl_tp_read(tp->family, r, len) != AF_INET)
			return;
		if (tp->protocol && sl_tp_read(tp->protocol, r, len) != IPPROTO_TCP)
			return;
		copy_addr(tp->saddr, r, len, &k.laddr, &k.lport);
		copy_addr(tp->daddr, r, len, &k.raddr, &k.rport);
		if (tp->sport)
			k.lport = sl_tp_read(tp->sport, r, len);
		if (tp->dport)
			k.rport = sl_tp_read(tp->dport, r, len);
		/* The second filter, the one that decides: the event's own
		 * address must be one of this run's hosts. */
		host = host_of(tr, k.laddr);
		if (host < 0)
			return;
	}
	if (tp->oldstate)
		k.oldstate = sl_tp_read(tp->oldstate, r, len);
	if (tp->newstate)
		k.state = sl_tp_read(tp->newstate, r, len);
	if (tp->state)
		k.state = sl_tp_read(tp->state, r, len);
	if (tp->reason) {
		long v = (long)sl_tp_read(tp->reason, r, len);
		const char *name = sl_tp_sym(&tp->fmt, v);

		if (name)
			snprintf(k.reason, sizeof(k.reason), "%s", name);
		else
			snprintf(k.reason, sizeof(k.reason), "reason %ld", v);
	}
	x = recs_add(&tr->recs);
	if (!x) {
		if (!tr->err)
			tr->err = sl_errf(&tr->errmsg, ENOMEM,
					  "record a kernel event");
		return;
	}
	x->t = (int64_t)ts;
	x->host = host;
	x->k = k;
	x->cpu = tr->cur_cpu;
	x->sk = sl_tp_read(tp->sk, r, len);
	x->skb = sl_tp_read(tp->skb, r, len);
	if (host >= 0)
		publish(tr, x);
}

/* Reads every page the kernel has for us, on every CPU. */
static void drain(struct sl_trace *tr)
{
	for (int c = 0; c < tr->ncpu; c++) {
		ssize_t r;

		if (tr->fd[c] < 0)
			continue;
		tr->cur_cpu = c;
		while ((r = read(tr->fd[c], tr->buf, tr->page)) > 0) {
			int lost = 0;

			if (sl_tp_page_walk(tr->buf, r, on_record, tr,
					    &lost) < 0 && !tr->err)
				tr->err = sl_errf(&tr->errmsg, EINVAL,
						  "a trace page of CPU %d "
						  "makes no sense", c);
			tr->lost += lost;
		}
		if (r < 0 && errno != EAGAIN && errno != EINTR && !tr->err)
			tr->err = sl_errf(&tr->errmsg, errno,
					  "read %s/per_cpu/cpu%d/trace_pipe_raw",
					  tr->dir, c);
	}
}

static int setup(struct sl_trace *tr, struct sl_err *e);

/* The special problem of reading the kernel's events as they happen: the
 * roles wait on them (role.c), so the reader must wake for each one, not
 * at intervals.  poll() on trace_pipe_raw wakes when the instance's
 * buffer_percent of the ring is full, half of it by default; setup() sets
 * it to 0, "any event", and the reader sleeps in poll() on every CPU's
 * file.  An event costs a wake-up of this thread: tens per run.  The
 * timeout is only a safety net against a wake-up the kernel never sent. */
static void *reader_main(void *arg)
{
	struct sl_trace *tr = arg;
	struct sl_err e = { "" };
	int ret = setup(tr, &e);
	struct pollfd *pfd = NULL;
	int n = 0;

	pthread_mutex_lock(&tr->mu);
	tr->ready = 1;
	tr->setup_err = ret;
	tr->setup_msg = e;
	pthread_cond_broadcast(&tr->cv);
	pthread_mutex_unlock(&tr->mu);
	if (ret < 0)
		return NULL;
	/* The roles wait on what this thread publishes (priority.h). */
	sl_priority_observed();
	pfd = calloc(tr->ncpu + 1, sizeof(*pfd));
	if (pfd) {
		for (int c = 0; c < tr->ncpu; c++) {
			if (tr->fd[c] < 0)
				continue;
			pfd[n].fd = tr->fd[c];
			pfd[n++].events = POLLIN;
		}
	}
	for (;;) {
		struct pollfd stop = { .fd = tr->stopfd, .events = POLLIN };
		int r;

		if (pfd) {
			pfd[n] = stop;
			r = poll(pfd, n + 1, READ_PERIOD_MS);
			drain(tr);
			if (r > 0 && (pfd[n].revents & POLLIN))
				break;
		} else {
			r = poll(&stop, 1, READ_PERIOD_MS);
			drain(tr);
			if (r > 0)
				break;
		}
	}
	free(pfd);
	return NULL;
}

static void instance_dir(char *buf, size_t n, const char *root, int slot)
{
	snprintf(buf, n, "%.400s/instances/" SL_TRACE_INSTANCE_PREFIX "%d", root,
		 slot);
}

/* The instance goes with everything in it; it refuses while a file of it
 * is open, so the caller closes its descriptors first. */
static int remove_dir(const char *dir)
{
	if (rmdir(dir) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static void close_fds(struct sl_trace *tr)
{
	for (int c = 0; tr->fd && c < tr->ncpu; c++)
		if (tr->fd[c] >= 0)
			close(tr->fd[c]);
	free(tr->fd);
	tr->fd = NULL;
}

/* Removes the instance; its files must all be closed first, in every
 * process.  A process forked while they were open holds copies of them
 * (the link emulator forks while the reader sets the instance up), and
 * the kernel refuses (EBUSY) until it is gone: the directory is then kept
 * in tr->dir for the next try, which trace_free() makes after the run's
 * later undo steps (the emulator's among them) have run. */
static void remove_instance(struct sl_trace *tr)
{
	if (!tr->dir[0])
		return;
	/* Nothing more is recorded once tracing is off, even if the
	 * directory cannot go yet. */
	write_file(tr->dir, "tracing_on", "0");
	if (remove_dir(tr->dir) == 0)
		tr->dir[0] = '\0';
}

/* Closing the instance's files takes the same kernel lock as removing
 * it: both are done here, off the run's path. */
static void *remover_main(void *arg)
{
	close_fds(arg);
	remove_instance(arg);
	return NULL;
}

static void trace_free(struct sl_trace *tr)
{
	if (!tr)
		return;
	if (tr->removing)
		pthread_join(tr->remover, NULL);
	close_fds(tr);
	if (tr->stopfd >= 0)
		close(tr->stopfd);
	remove_instance(tr);
	pthread_mutex_destroy(&tr->mu);
	pthread_mutex_destroy(&tr->feed_mu);
	pthread_cond_destroy(&tr->cv);
	free(tr->recs.r);
	free(tr->buf);
	free(tr);
}

static void add_why(struct sl_trace *tr, const char *fmt, const char *what)
{
	size_t used = strlen(tr->why);

	snprintf(tr->why + used, sizeof(tr->why) - used, "%s", used ? "; " : "");
	used = strlen(tr->why);
	snprintf(tr->why + used, sizeof(tr->why) - used, fmt, what);
}

/* "family == 2 && (saddr == A || saddr == B ...)": the kernel compares a
 * 4-byte array as the u32 it holds in memory, which is s_addr as stored. */
static void address_filter(const struct sl_trace *tr, const struct tp *tp,
			   char *buf, size_t n)
{
	size_t used = 0;

	buf[0] = '\0';
	if (!tp->saddr || tp->saddr->size != 4)
		return;
	if (tp->family)
		used += snprintf(buf + used, n - used, "family == %d && ",
				 AF_INET);
	used += snprintf(buf + used, n - used, "(");
	for (int i = 0; i < tr->naddr && used < n; i++)
		used += snprintf(buf + used, n - used, "%ssaddr == %u",
				 i ? " || " : "", tr->addr[i].s_addr);
	if (used < n)
		snprintf(buf + used, n - used, ")");
}

static void lookup_fields(struct tp *tp)
{
	const struct sl_tp_format *f = &tp->fmt;

	tp->family = sl_tp_field(f, "family");
	tp->protocol = sl_tp_field(f, "protocol");
	tp->saddr = sl_tp_field(f, "saddr");
	tp->daddr = sl_tp_field(f, "daddr");
	tp->sport = sl_tp_field(f, "sport");
	tp->dport = sl_tp_field(f, "dport");
	tp->oldstate = sl_tp_field(f, "oldstate");
	tp->newstate = sl_tp_field(f, "newstate");
	tp->state = sl_tp_field(f, "state");
	tp->sk = sl_tp_field(f, "skaddr");
	if (!tp->sk)
		tp->sk = sl_tp_field(f, "rx_sk");
	tp->skb = sl_tp_field(f, "skbaddr");
	tp->reason = sl_tp_field(f, "reason");
}

/* Enables one tracepoint in the instance, its filter first so that no
 * event of another run is ever recorded.  A tracepoint this kernel lacks
 * is left out with the reason; only an instance that will not take any
 * write at all is an error. */
static int enable(struct sl_trace *tr, int kev)
{
	char path[1024], filter[512];
	struct tp *tp = &tr->tp[kev];
	char *text;
	int ret;

	snprintf(path, sizeof(path), "%s/events/%s/%s/format", tr->dir,
		 tracepoints[kev].system, tracepoints[kev].name);
	text = read_file(path);
	if (!text || sl_tp_format_parse(&tp->fmt, text,
					tracepoints[kev].sym) < 0) {
		free(text);
		add_why(tr, "this kernel has no tracepoint %s",
			tracepoints[kev].name);
		return 0;
	}
	free(text);
	lookup_fields(tp);
	snprintf(path, sizeof(path), "%s/events/%s/%s", tr->dir,
		 tracepoints[kev].system, tracepoints[kev].name);
	if (kev == SL_KEV_DROP)
		/* IPv4 only: the machine's IPv6 neighbour chatter is most
		 * of what is dropped on a quiet machine.  The drops without
		 * a reason stay: they are not shown (drop_says_nothing()),
		 * but pairing a drop with its RST must see every free of a
		 * packet (sl_trace_attribute()). */
		snprintf(filter, sizeof(filter), "protocol == 2048");
	else
		/* tcp_send_reset keeps its addresses in 28-byte sockaddr
		 * rooms, which the filter cannot compare: for it only the
		 * check in on_record() applies. */
		address_filter(tr, tp, filter, sizeof(filter));
	/* A filter the kernel refuses leaves the event unfiltered there:
	 * on_record() still keeps only this run's. */
	if (filter[0])
		write_file(path, "filter", filter);
	ret = write_file(path, "enable", "1");
	if (ret < 0)
		return ret;
	tp->enabled = 1;
	tr->enabled |= 1u << kev;
	return 0;
}

static int count_cpus(const char *dir)
{
	char path[1024];
	struct dirent *de;
	int max = -1;
	DIR *d;

	snprintf(path, sizeof(path), "%s/per_cpu", dir);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		int c;

		if (sscanf(de->d_name, "cpu%d", &c) == 1 && c > max)
			max = c;
	}
	closedir(d);
	return max + 1;
}

/* The size of one sub-buffer, what each read() of trace_pipe_raw hands
 * out: the instance's buffer_subbuf_size_kb where the kernel has it (6.8
 * and later), else the page layout in events/header_page. */
static int page_size(const char *dir, const char *root)
{
	char path[1024], *text;
	struct sl_tp_format hdr;
	const struct sl_tp_field *data;
	int size = 4096, kb;

	snprintf(path, sizeof(path), "%s/buffer_subbuf_size_kb", dir);
	text = read_file(path);
	kb = text ? atoi(text) : 0;
	free(text);
	if (kb > 0 && kb <= 1024)
		return kb * 1024;

	/* header_page lists "field: char data; offset:16; size:4080;": the
	 * sub-buffer is the data's end. */
	snprintf(path, sizeof(path), "%s/events/header_page", root);
	text = read_file(path);
	if (text) {
		char *fixed = malloc(strlen(text) + 32);

		if (fixed) {
			/* It has no name and no ID: give it some. */
			sprintf(fixed, "ID: 0\n%s", text);
			if (sl_tp_format_parse(&hdr, fixed, NULL) == 0) {
				data = sl_tp_field(&hdr, "data");
				if (data && data->offset == RB_PAGE_HEADER)
					size = data->offset + data->size;
			}
			free(fixed);
		}
		free(text);
	}
	return size;
}

/* The instance, made on the reader thread (sl_trace_start()). */
static int setup(struct sl_trace *tr, struct sl_err *e)
{
	char path[1024], *clock;
	int ret;

	instance_dir(tr->dir, sizeof(tr->dir), tr->root, tr->slot);
	/* We hold the slot's lock: an instance of this slot is a leftover
	 * of a run that was killed, however it got past clean_stale(). */
	ret = mkdir(tr->dir, 0755);
	if (ret < 0 && errno == EEXIST) {
		remove_dir(tr->dir);
		ret = mkdir(tr->dir, 0755);
	}
	if (ret < 0) {
		ret = sl_errf(e, errno, "create trace instance %s", tr->dir);
		tr->dir[0] = '\0';
		return ret;
	}

	/* The instance's clock must be the timeline's, or nothing it says
	 * could be put next to a packet. */
	ret = write_file(tr->dir, "trace_clock", "mono");
	snprintf(path, sizeof(path), "%s/trace_clock", tr->dir);
	clock = read_file(path);
	if (ret < 0 || !clock || !strstr(clock, "[mono]")) {
		free(clock);
		return sl_errf(e, ret < 0 ? -ret : EINVAL,
			       "set %s/trace_clock to mono", tr->dir);
	}
	free(clock);
	/* The buffer keeps the kernel's default size for an instance (1.4 MB
	 * per CPU): resizing it would wait for one more grace period, under
	 * the lock every run's set-up takes. */
	tr->page = page_size(tr->dir, tr->root);
	tr->ncpu = count_cpus(tr->dir);
	if (tr->ncpu <= 0)
		return sl_errf(e, tr->ncpu < 0 ? -tr->ncpu : ENOENT,
			       "list %s/per_cpu", tr->dir);
	tr->buf = malloc(tr->page);
	tr->fd = malloc(tr->ncpu * sizeof(int));
	if (!tr->buf || !tr->fd)
		return sl_errf(e, ENOMEM, "allocate the trace reader");
	for (int c = 0; c < tr->ncpu; c++) {
		snprintf(path, sizeof(path), "%s/per_cpu/cpu%d/trace_pipe_raw",
			 tr->dir, c);
		/* A CPU that is offline has no buffer to read. */
		tr->fd[c] = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	}
	/* Wake the reader at every event (reader_main()).  A kernel without
	 * the file (before 5.x) wakes it at its safety period instead. */
	write_file(tr->dir, "buffer_percent", "0");
	for (int k = 0; k < SL_KEV_COUNT; k++) {
		ret = enable(tr, k);
		if (ret < 0)
			return sl_errf(e, -ret, "enable %s in %s",
				       tracepoints[k].name, tr->dir);
	}
	if (!tr->enabled)
		return sl_errf(e, ENOENT, "%s", tr->why);
	return 0;
}

/* The special problem of grace periods: setting an instance's clock waits
 * for an RCU grace period (the buffer is reset), and removing it waits for
 * the tracepoints' own (tracepoint_synchronize_unregister()): 60 to 80 ms
 * per run on a small machine, against 3 ms for its whole topology.  Worse,
 * the kernel holds one lock (trace_types_lock) across those waits, so the
 * runs that start together queue up for it.  Nothing of ours can shorten a
 * grace period; what we can do is not wait idle.  The instance is made on
 * the reader thread while the run sets up the rest (sl_trace_ready() waits
 * for it before the roles start), and removed on a thread of its own while
 * the run takes down the rest; and the buffer keeps its default size, since
 * resizing it would be one more wait under that lock. */
int sl_trace_start(struct sl_trace **tp, const struct sl_topology *t,
		   const char *root, struct sl_err *e)
{
	struct sl_trace *tr;
	int ret, mounted;

	*tp = NULL;
	if (!root)
		root = sl_trace_root();
	ret = sl_trace_mount(root, &mounted, e);
	if (ret < 0)
		return ret;
	tr = calloc(1, sizeof(*tr));
	if (!tr)
		return sl_errf(e, ENOMEM, "allocate the trace reader");
	snprintf(tr->root, sizeof(tr->root), "%s", root);
	tr->slot = t->slot;
	tr->stopfd = -1;
	pthread_mutex_init(&tr->mu, NULL);
	pthread_mutex_init(&tr->feed_mu, NULL);
	pthread_cond_init(&tr->cv, NULL);
	for (int h = 0; h < SL_NHOSTS; h++)
		for (int i = 0; i < t->host[h].nif && tr->naddr < MAX_ADDRS; i++) {
			tr->addr[tr->naddr] = t->host[h].iface[i].addr;
			tr->addr_host[tr->naddr++] = h;
		}
	tr->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (tr->stopfd < 0) {
		ret = sl_errf(e, errno, "eventfd for the trace reader");
		goto fail;
	}
	ret = pthread_create(&tr->thread, NULL, reader_main, tr);
	if (ret) {
		ret = sl_errf(e, ret, "start the trace reader");
		goto fail;
	}
	tr->started = 1;
	*tp = tr;
	return 0;
fail:
	trace_free(tr);
	return ret;
}

int sl_trace_ready(struct sl_trace *tr, struct sl_err *e)
{
	int ret;

	pthread_mutex_lock(&tr->mu);
	while (!tr->ready)
		pthread_cond_wait(&tr->cv, &tr->mu);
	ret = tr->setup_err;
	if (ret < 0 && e)
		*e = tr->setup_msg;
	pthread_mutex_unlock(&tr->mu);
	return ret;
}

void sl_trace_feed(struct sl_trace *tr,
		   void (*fn)(void *arg, const struct sl_event *ev), void *arg)
{
	pthread_mutex_lock(&tr->feed_mu);
	tr->feed = fn;
	tr->feed_arg = arg;
	pthread_mutex_unlock(&tr->feed_mu);
}

void sl_trace_feed_off(void *arg)
{
	struct sl_trace **tp = arg;

	if (*tp)
		sl_trace_feed(*tp, NULL, NULL);
}

/* Stops the reader and takes the last events; the instance then goes. */
static void stop_reading(struct sl_trace *tr)
{
	uint64_t one = 1;

	if (tr->stopped)
		return;
	tr->stopped = 1;
	/* Not tracing_on = 0 here: that write takes the lock that other
	 * runs' set-ups hold across grace periods (see sl_trace_start()).
	 * What arrives after the last read goes with the instance. */
	if (tr->started) {
		/* An eventfd write cannot fail here (the counter is far from
		 * full); if it ever did, cancel the reader rather than wait
		 * for it forever. */
		if (write(tr->stopfd, &one, sizeof(one)) != sizeof(one))
			pthread_cancel(tr->thread);
		pthread_join(tr->thread, NULL);
		tr->started = 0;
	}
	if (tr->fd)
		drain(tr);
}

void sl_trace_undo(void *arg)
{
	struct sl_trace **tp = arg;

	if (!*tp)
		return;
	stop_reading(*tp);
	trace_free(*tp);
	*tp = NULL;
}

int sl_trace_stop(struct sl_trace *tr, struct sl_timeline *tl,
		  struct sl_err *e)
{
	int ret;

	if (!tr)
		return 0;
	stop_reading(tr);
	ret = tr->setup_err < 0 ? tr->setup_err : tr->err;
	if (ret < 0 && e)
		*e = tr->setup_err < 0 ? tr->setup_msg : tr->errmsg;
	tl->kernel = tr->enabled;
	tl->kernel_lost = tr->lost;
	snprintf(tl->kernel_why, sizeof(tl->kernel_why), "%s", tr->why);
	if (ret == 0) {
		ret = sl_trace_attribute(tr->recs.r, tr->recs.n, tl);
		if (ret < 0)
			sl_errf(e, -ret, "put kernel events on the timeline");
	}
	/* The instance goes while the run goes on (see sl_trace_start());
	 * sl_trace_undo() waits for it. */
	if (tr->dir[0] && !tr->removing)
		tr->removing = pthread_create(&tr->remover, NULL,
					      remover_main, tr) == 0;
	return ret;
}

/* ---- leftovers ---- */

void sl_trace_instance_slots(unsigned char *seen, int nslots)
{
	char path[1024];
	struct dirent *de;
	DIR *d;

	if (!is_tracefs(sl_trace_root()))
		return;
	snprintf(path, sizeof(path), "%s/instances", sl_trace_root());
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		int slot, len = 0;

		if (sscanf(de->d_name, SL_TRACE_INSTANCE_PREFIX "%d%n", &slot,
			   &len) == 1 && de->d_name[len] == '\0' &&
		    slot >= 0 && slot < nslots)
			seen[slot] = 1;
	}
	closedir(d);
}

int sl_trace_remove_instance(int slot, FILE *log)
{
	char path[1024];

	if (!is_tracefs(sl_trace_root()))
		return 0;
	instance_dir(path, sizeof(path), sl_trace_root(), slot);
	if (access(path, F_OK) < 0)
		return 0;
	write_file(path, "tracing_on", "0");
	if (rmdir(path) < 0)
		return -errno;
	if (log)
		fprintf(log, "rmdir %s\n", path);
	return 1;
}

/* ---- socklab doctor and clean ---- */

#define DOCTOR_PREFIX SL_TRACE_INSTANCE_PREFIX "doctor-"

static int kernel_knows_tracefs(void)
{
	char line[256];
	int known = 0;
	FILE *f = fopen("/proc/filesystems", "re");

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "\ttracefs"))
			known = 1;
	if (f)
		fclose(f);
	return known;
}

int sl_trace_doctor(char *detail, size_t n)
{
	const char *root = sl_trace_root();
	char dir[512], path[1024], *clock;
	struct sl_tp_format *fmt;
	int missing = 0, nreasons = 0, ok;
	size_t used;

	if (!strcmp(root, "off")) {
		snprintf(detail, n, "turned off by SOCKLAB_TRACEFS=off: runs go "
			 "without kernel events");
		return 0;
	}
	if (!is_tracefs(root)) {
		if (!strcmp(root, SL_TRACEFS) && kernel_knows_tracefs()) {
			snprintf(detail, n, "not mounted; a run mounts it at %s "
				 "(the kernel has tracefs)", SL_TRACEFS);
			return 1;
		}
		snprintf(detail, n, "no tracefs at %s: runs go without kernel "
			 "events, and predictions on them are skipped", root);
		return 0;
	}
	used = snprintf(detail, n, "mounted at %s", root);
	fmt = malloc(sizeof(*fmt));
	for (int k = 0; fmt && k < SL_KEV_COUNT; k++) {
		char *text;

		snprintf(path, sizeof(path), "%s/events/%s/%s/format", root,
			 tracepoints[k].system, tracepoints[k].name);
		text = read_file(path);
		if (!text || sl_tp_format_parse(fmt, text,
						tracepoints[k].sym) < 0) {
			if (used < n)
				used += snprintf(detail + used, n - used,
						 "%s no %s:%s",
						 missing ? "," : ";",
						 tracepoints[k].system,
						 tracepoints[k].name);
			missing++;
		} else if (k == SL_KEV_SEND_RESET) {
			nreasons = fmt->nsyms;
		}
		free(text);
	}
	free(fmt);
	if (used < n && !missing)
		used += snprintf(detail + used, n - used,
				 "; all %d tracepoints (%d RST reasons)",
				 SL_KEV_COUNT, nreasons);
	/* Tried for real: a private instance on the timeline's clock. */
	snprintf(dir, sizeof(dir), "%.400s/instances/" DOCTOR_PREFIX "%d", root,
		 (int)getpid());
	ok = mkdir(dir, 0755) == 0;
	if (!ok) {
		if (used < n)
			snprintf(detail + used, n - used,
				 "; cannot create an instance: %s",
				 strerror(errno));
		return 0;
	}
	write_file(dir, "trace_clock", "mono");
	snprintf(path, sizeof(path), "%s/trace_clock", dir);
	clock = read_file(path);
	ok = clock && strstr(clock, "[mono]");
	free(clock);
	rmdir(dir);
	if (used < n)
		snprintf(detail + used, n - used, ok ?
			 "; private instances with the mono clock work" :
			 "; an instance refused the mono clock");
	return ok && missing < SL_KEV_COUNT;
}

int sl_trace_clean_doctors(FILE *log)
{
	char path[1024];
	struct dirent *de;
	int removed = 0;
	DIR *d;

	if (!is_tracefs(sl_trace_root()))
		return 0;
	snprintf(path, sizeof(path), "%s/instances", sl_trace_root());
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		int pid, len = 0;

		if (sscanf(de->d_name, DOCTOR_PREFIX "%d%n", &pid, &len) != 1 ||
		    de->d_name[len] || pid <= 0)
			continue;
		/* A live doctor (or one we may not signal) still uses it. */
		if (kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/instances/%s", sl_trace_root(),
			 de->d_name);
		if (rmdir(path) == 0) {
			if (log)
				fprintf(log, "rmdir %s\n", path);
			removed++;
		}
	}
	closedir(d);
	return removed;
}
