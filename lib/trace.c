/* trace.c: the live reader of a run's kernel events (trace.h).
 *
 * A thread of this module sets the run's instance up (trace_instance.c),
 * then sleeps in poll() on every CPU's trace_pipe_raw and reads each page
 * as it arrives: the roles wait on what it reads (role.c).  Each page goes
 * through the decoder (trace_decode.c); what is this run's is kept for
 * attribution at the end (trace_attribute.c) and, but for drops, handed
 * at once to the live feed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tracefs/tracefs.h>

#include "ipaddr.h"
#include "envdir.h"
#include "err.h"
#include "priority.h"
#include "timeline.h"
#include "topology.h"
#include "trace.h"
#include "trace_attribute.h"
#include "trace_instance.h"
#include "trace_decode.h"

/* The reader empties the buffer (the kernel's default for an instance,
 * 1.4 MB per CPU) at least this often, should a wake-up never come. */
#define READ_PERIOD_MS 50
#define MAX_ADDRS 8

/* The records of one run, before attribution. */
struct recs {
	struct sl_trace_rec *r;
	int n, cap;
};

struct sl_trace {
	char root[400]; /* tracefs */
	int slot;
	struct tracefs_instance *inst; /* once made */
	char dir[512];		       /* its directory, for messages */
	struct sl_trace_decoder *dec;
	int ncpu;
	int *fd;		  /* per CPU: trace_pipe_raw, O_NONBLOCK */
	struct tracefs_cpu **cpu; /* libtracefs's reader of each fd */
	void *buf;		  /* one sub-buffer */
	unsigned enabled;
	char why[160];		       /* why an event is not enabled */
	char limit[SL_KEV_COUNT][200]; /* what an enabled one leaves out */
	int naddr;
	struct in6_addr addr[MAX_ADDRS]; /* ipaddr.h */
	int family;			 /* the run's: AF_INET or AF_INET6 */
	int addr_host[MAX_ADDRS];
	pthread_t thread; /* sets the instance up, then reads it */
	int started;
	int stopfd;
	pthread_mutex_t mu; /* ready, setup_err, setup_msg */
	pthread_cond_t cv;
	int ready;
	int setup_err;
	struct sl_err setup_msg;
	int stopped;	   /* read for the last time */
	pthread_t remover; /* removes the instance after the last read */
	int removing;
	struct recs recs; /* owned by the reader thread until joined */
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

int sl_trace_mount(const char *root, int *mounted, struct sl_err *e)
{
	int lock, ret = 0;

	*mounted = 0;
	if (!strcmp(root, "off"))
		return sl_errf(e, ENOTSUP, "turned off (SOCKLAB_TRACEFS=off)");
	/* Root writes there: a folder from the environment must be one that
	 * only root can change (envdir.h). */
	if (strcmp(root, SL_TRACEFS) && access(root, F_OK) == 0 &&
	    (ret = sl_envdir_check("SOCKLAB_TRACEFS", root, NULL, 0, e)) < 0)
		return ret;
	if (sl_trace_is_tracefs(root))
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
	if (!sl_trace_is_tracefs(root)) {
		if (mount("nodev", root, "tracefs", 0, NULL) < 0)
			ret = sl_errf(e, errno, "mount tracefs at %s", root);
		else
			*mounted = 1;
	}
	if (lock >= 0)
		close(lock);
	return ret;
}

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
	return &v->r[v->n++];
}

static int host_of(const struct sl_trace *tr, struct in6_addr a)
{
	for (int i = 0; i < tr->naddr; i++)
		if (sl_ip_eq(&tr->addr[i], &a))
			return tr->addr_host[i];
	return -1;
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

/* One decoded record: this run's, a drop kept aside until sl_trace_stop()
 * can tell whether it is ours, or dropped on the floor. */
static void on_record(void *arg, struct sl_trace_rec *x)
{
	struct sl_trace *tr = arg;
	struct sl_trace_rec *keep;

	/* The second filter, the one that decides: the event's own address
	 * must be one of this run's hosts. */
	if (x->k.type != SL_KEV_DROP) {
		x->host = host_of(tr, x->k.laddr);
		if (x->host < 0)
			return;
	}
	keep = recs_add(&tr->recs);
	if (!keep) {
		if (!tr->err)
			tr->err = sl_errf(&tr->errmsg, ENOMEM,
					  "record a kernel event");
		return;
	}
	*keep = *x;
	if (keep->host >= 0)
		publish(tr, keep);
}

/* Reads every page the kernel has for us, on every CPU. */
static void drain(struct sl_trace *tr)
{
	for (int c = 0; c < tr->ncpu; c++) {
		int r;

		if (!tr->cpu[c])
			continue;
		while ((r = tracefs_cpu_read(tr->cpu[c], tr->buf, true)) > 0) {
			int lost = 0;

			if (sl_trace_decoder_page(tr->dec, tr->buf, r, c,
						  on_record, tr, &lost) < 0 &&
			    !tr->err)
				tr->err = sl_errf(&tr->errmsg, EINVAL,
						  "a trace page of CPU %d "
						  "makes no sense",
						  c);
			tr->lost += lost;
		}
		if (r < 0 && errno != EAGAIN && errno != EINTR && !tr->err)
			tr->err =
				sl_errf(&tr->errmsg, errno,
					"read %s/per_cpu/cpu%d/trace_pipe_raw",
					tr->dir, c);
	}
}

static int setup(struct sl_trace *tr, struct sl_err *e);

/* Says whether the set-up worked, to sl_trace_ready(). */
static void set_ready(struct sl_trace *tr, int ret, const struct sl_err *e)
{
	pthread_mutex_lock(&tr->mu);
	tr->ready = 1;
	tr->setup_err = ret;
	tr->setup_msg = *e;
	pthread_cond_broadcast(&tr->cv);
	pthread_mutex_unlock(&tr->mu);
}

/* The special problem of reading the kernel's events as they happen: the
 * roles wait on them (role.c), so the reader must wake for each one, not
 * at intervals.  poll() on trace_pipe_raw wakes when the instance's
 * buffer_percent of the ring is full, half of it by default; the instance
 * has it at 0, "any event" (trace_instance.c), and the reader sleeps in
 * poll() on every CPU's file.  An event costs a wake-up of this thread:
 * tens per run.  The timeout is only a safety net against a wake-up the
 * kernel never sent. */
static void *reader_main(void *arg)
{
	struct sl_trace *tr = arg;
	struct sl_err e = { "" };
	int ret = setup(tr, &e);
	struct pollfd *pfd = NULL;
	int n = 0;

	set_ready(tr, ret, &e);
	if (ret < 0)
		return NULL;
	/* The roles wait on what this thread publishes (priority.h). */
	sl_priority_observed();
	pfd = calloc(tr->ncpu + 1, sizeof(*pfd));
	for (int c = 0; pfd && c < tr->ncpu; c++) {
		if (tr->fd[c] < 0)
			continue;
		pfd[n].fd = tr->fd[c];
		pfd[n++].events = POLLIN;
	}
	for (;;) {
		struct pollfd stop = { .fd = tr->stopfd, .events = POLLIN };
		struct pollfd *wait = pfd ? pfd : &stop;
		int r;

		if (pfd)
			pfd[n] = stop;
		r = poll(wait, pfd ? n + 1 : 1, READ_PERIOD_MS);
		drain(tr);
		if (r > 0 && (wait[pfd ? n : 0].revents & POLLIN))
			break;
	}
	free(pfd);
	return NULL;
}

static void close_fds(struct sl_trace *tr)
{
	for (int c = 0; tr->fd && tr->cpu && c < tr->ncpu; c++) {
		if (tr->cpu[c])
			tracefs_cpu_free_fd(tr->cpu[c]);
		if (tr->fd[c] >= 0)
			close(tr->fd[c]);
	}
	free(tr->cpu);
	free(tr->fd);
	tr->cpu = NULL;
	tr->fd = NULL;
}

/* Removes the instance; its files must all be closed first, in every
 * process.  A process forked while they were open holds copies of them
 * (the link emulator forks while the reader sets the instance up), and
 * the kernel refuses (EBUSY) until it is gone: the instance is then kept
 * in tr->inst for the next try, which trace_free() makes after the run's
 * later undo steps (the emulator's among them) have run. */
static void remove_instance(struct sl_trace *tr)
{
	sl_trace_instance_remove(&tr->inst);
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
	/* Still there: a leftover, which the next run of this slot and
	 * `socklab clean` remove (trace_instance.h). */
	tracefs_instance_free(tr->inst);
	sl_trace_decoder_free(tr->dec);
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

	snprintf(tr->why + used, sizeof(tr->why) - used, "%s",
		 used ? "; " : "");
	used = strlen(tr->why);
	snprintf(tr->why + used, sizeof(tr->why) - used, fmt, what);
}

/* What this kernel's version of tracepoint kev leaves out, told by its
 * format: older kernels have the tracepoints but not the fields that make
 * their events complete.  Before Linux 6.10, tcp_send_reset carried no
 * reason and fired only when a full socket sent the RST: a RST for no
 * socket (a refused connection) or from a TIME-WAIT socket went unseen.
 * Before 6.11, kfree_skb did not name the socket (rx_sk), so a drop can
 * be proved this run's only when a traced RST answered the very packet
 * (trace_attribute.h): a missing drop proves nothing there.  The version
 * numbers are what a learner can look up; the field is what decides. */
static void note_limit(struct sl_trace *tr, int kev)
{
	if (kev == SL_KEV_SEND_RESET &&
	    !sl_trace_decoder_has_field(tr->dec, kev, "reason"))
		snprintf(tr->limit[kev], sizeof(tr->limit[kev]),
			 "this kernel's tcp_send_reset gives no reason and "
			 "misses the RSTs sent for no socket or from "
			 "TIME-WAIT (both came with Linux 6.10)");
	else if (kev == SL_KEV_DROP &&
		 !sl_trace_decoder_has_field(tr->dec, kev, "rx_sk"))
		snprintf(tr->limit[kev], sizeof(tr->limit[kev]),
			 "this kernel's kfree_skb names no socket (rx_sk "
			 "came with Linux 6.11): a drop is provably this "
			 "run's only when a traced RST answered it");
}

/* Enables one tracepoint in the instance, behind its filter.  A tracepoint
 * this kernel lacks is left out with the reason; only an instance that
 * will not take any write at all is an error. */
static int enable(struct sl_trace *tr, int kev)
{
	char filter[512];
	int len, ret;
	char *text = sl_trace_instance_format(tr->inst, kev, &len);

	if (!text || sl_trace_decoder_add(tr->dec, kev, text, len) < 0) {
		free(text);
		add_why(tr, "this kernel has no tracepoint %s",
			sl_kev_name(kev));
		return 0;
	}
	free(text);
	note_limit(tr, kev);
	if (kev == SL_KEV_DROP)
		/* The run's family only: the machine's IPv6 neighbour
		 * chatter is most of what is dropped on a quiet machine, and
		 * a run over IPv4 need not see it.  The drops without a
		 * reason stay: they are not shown, but pairing a drop with
		 * its RST must see every free of a packet
		 * (trace_attribute.h). */
		snprintf(filter, sizeof(filter), "protocol == %d",
			 tr->family == AF_INET6 ? 0x86dd : 0x0800);
	else
		sl_trace_decoder_filter(tr->dec, kev, tr->addr, tr->naddr,
					filter, sizeof(filter));
	ret = sl_trace_instance_enable(tr->inst, kev, filter);
	if (ret < 0)
		return ret;
	tr->enabled |= 1u << kev;
	return 0;
}

/* The reader's side of the instance: the decoder for its pages and one
 * non-blocking reader per CPU.  A CPU that is offline has no buffer to
 * read. */
static int open_buffers(struct sl_trace *tr, struct sl_err *e)
{
	int len, page;
	char *header = sl_trace_instance_header_page(&len);
	int ret = header ?
			  sl_trace_decoder_new(&tr->dec, header, len, e) :
			  sl_errf(e, ENOENT, "read events/header_page under %s",
				  tr->root);

	free(header);
	if (ret < 0)
		return ret;
	page = sl_trace_instance_subbuf_size(tr->inst);
	if (page <= 0)
		page = sl_trace_decoder_subbuf_size(tr->dec);
	tr->ncpu = sl_trace_instance_ncpus(tr->inst);
	if (tr->ncpu <= 0 || page <= 0)
		return sl_errf(e, tr->ncpu < 0 ? -tr->ncpu : ENOENT,
			       "list the buffers of %s", tr->dir);
	tr->buf = malloc(page);
	tr->fd = malloc(tr->ncpu * sizeof(int));
	tr->cpu = calloc(tr->ncpu, sizeof(*tr->cpu));
	if (!tr->buf || !tr->fd || !tr->cpu)
		return sl_errf(e, ENOMEM, "allocate the trace reader");
	for (int c = 0; c < tr->ncpu; c++)
		tr->fd[c] = -1;
	for (int c = 0; c < tr->ncpu; c++) {
		tr->fd[c] = sl_trace_instance_open_cpu(tr->inst, c);
		if (tr->fd[c] >= 0)
			tr->cpu[c] =
				tracefs_cpu_alloc_fd(tr->fd[c], page, true);
		if (tr->fd[c] >= 0 && !tr->cpu[c])
			return sl_errf(e, ENOMEM, "allocate the trace reader");
	}
	return 0;
}

/* The instance, made on the reader thread (sl_trace_start()). */
static int setup(struct sl_trace *tr, struct sl_err *e)
{
	char *dir;
	int ret = sl_trace_instance_create(&tr->inst, tr->root, tr->slot, e);

	dir = tr->inst ? tracefs_instance_get_dir(tr->inst) : NULL;
	snprintf(tr->dir, sizeof(tr->dir), "%s", dir ? dir : tr->root);
	free(dir);
	if (ret == 0)
		ret = open_buffers(tr, e);
	for (int k = 0; ret == 0 && k < SL_KEV_COUNT; k++) {
		ret = enable(tr, k);
		if (ret < 0)
			return sl_errf(e, -ret, "enable %s in %s",
				       sl_kev_name(k), tr->dir);
	}
	if (ret == 0 && !tr->enabled)
		return sl_errf(e, ENOENT, "%s", tr->why);
	return ret;
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
	tr->family = t->family;
	for (int h = 0; h < SL_NHOSTS; h++)
		for (int i = 0; i < t->host[h].nif && tr->naddr < MAX_ADDRS;
		     i++) {
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
	if (tr->fd && tr->cpu)
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

int sl_trace_stop(struct sl_trace *tr, struct sl_timeline *tl, struct sl_err *e)
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
	memcpy(tl->kernel_limit, tr->limit, sizeof(tl->kernel_limit));
	if (ret == 0) {
		ret = sl_trace_attribute(tr->recs.r, tr->recs.n, tl);
		if (ret < 0)
			sl_errf(e, -ret, "put kernel events on the timeline");
	}
	/* The instance goes while the run goes on (see sl_trace_start());
	 * sl_trace_undo() waits for it. */
	if (tr->inst && !tr->removing)
		tr->removing = pthread_create(&tr->remover, NULL, remover_main,
					      tr) == 0;
	return ret;
}
