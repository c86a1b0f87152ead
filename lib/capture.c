/*
 * capture.c: libpcap capture on one interface of one host namespace
 * (capture.h).
 *
 * The special problem of capturing inside a namespace: a packet socket
 * belongs to the network namespace of the thread that creates it, and stays
 * there.  So the calling thread enters the host's namespace, creates and
 * activates the handle, and goes back at once; from then on the handle is
 * read from any namespace.  Only this thread moves (setns() acts on the
 * calling thread), which is why we save and restore
 * /proc/thread-self/ns/net and not /proc/self/ns/net: in a multithreaded
 * process the two can differ.  A thread left in the wrong namespace would
 * quietly run the rest of the run in the host, so failing to come back is
 * reported as the error it is.
 *
 * libpcap itself looks the interface up by name with ioctls on sockets it
 * opens during pcap_activate(), which is why activation, and not only
 * pcap_create(), happens inside the namespace.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "capture.h"
#include "clock.h"
#include "err.h"
#include "packet.h"
#include "resultdir.h"

/* Large enough for a GSO super-packet as the sender's stack hands it to
 * the capture, before segmentation. */
#define SL_SNAPLEN 262144
/* The ring each capture pins in the kernel for the whole variant.  In
 * immediate mode libpcap uses TPACKET_V2, whose slots it sizes for the
 * link's MTU when offloads are off (they are, on every veth): about 1.6 KB
 * each, so 1 MB holds some 650 frames.  That is more than any variant of
 * the catalogue sends through one interface in its whole run (the largest,
 * flow-control-zero-window's, under 300), so a capture loses nothing even
 * if the observer thread fell behind for the whole run.  It was 4 MB: four
 * captures a variant pinned 21 MB, and the catalogue's hundred-odd
 * variants at once more than a 1 GB guest has, whose OOM killer then
 * killed variant processes (a guest's "variant process died before
 * reporting"). */
#define SL_CAPTURE_BUFFER (1 << 20)

struct sl_capture {
	pcap_t *pcap;
	pcap_dumper_t *dumper;
	int linktype;
	sl_capture_cb cb; /* valid only during one dispatch */
	void *arg;
	char where[128]; /* "eth0 in <netns>" for reasons */
};

/*
 * Name of the namespace behind nsfd, for reasons a person can act on: the
 * `ip netns` name when one of /run/netns/ is the same namespace (same
 * device and inode), else the kernel's "net:[inode]".
 */
static void ns_name(int nsfd, char *buf, size_t n)
{
	struct stat want, st;
	struct dirent *d;
	DIR *dir;

	if (fstat(nsfd, &want) < 0) {
		snprintf(buf, n, "namespace fd %d", nsfd);
		return;
	}
	snprintf(buf, n, "net:[%lu]", (unsigned long)want.st_ino);
	dir = opendir("/run/netns");
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.' ||
		    fstatat(dirfd(dir), d->d_name, &st, 0) < 0)
			continue;
		if (st.st_dev == want.st_dev && st.st_ino == want.st_ino) {
			snprintf(buf, n, "%.*s", (int)(n > 0 ? n - 1 : 0),
				 d->d_name);
			break;
		}
	}
	closedir(dir);
}

/*
 * Creates and activates the handle; runs inside the target namespace.
 * Returns 0 or -errno with the reason in e.
 */
/* pcap_activate()'s failure rc as -errno, with libpcap's words in e. */
static int activate_error(const struct sl_capture *c, int rc, struct sl_err *e)
{
	const char *msg;
	int err;

	switch (rc) {
	case PCAP_ERROR_NO_SUCH_DEVICE:
		err = ENODEV;
		break;
	case PCAP_ERROR_PERM_DENIED:
		err = EPERM;
		break;
	case PCAP_ERROR_IFACE_NOT_UP:
		err = ENETDOWN;
		break;
	default:
		err = EIO;
		break;
	}
	/* Some failures leave no text behind, only the code. */
	msg = pcap_geterr(c->pcap);
	if (!msg || !*msg)
		msg = pcap_statustostr(rc);
	sl_errf(e, 0, "capture on %s: %s", c->where, msg);
	return -err;
}

static int open_live(struct sl_capture *c, const char *ifname, struct sl_err *e)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	int rc;

	c->pcap = pcap_create(ifname, errbuf);
	if (!c->pcap)
		return sl_errf(e, 0, "capture on %s: %s", c->where, errbuf);

	/* Immediate mode hands each frame over as it arrives instead of
	 * when a TPACKET_V3 ring block fills or times out.  The stamps are
	 * the kernel's either way, but a role waiting on a segment must not
	 * wait a block timeout for it, and the last frames of a run must
	 * not sit in a block when we close (tcpdump without
	 * --immediate-mode loses them on SIGTERM). */
	if (pcap_set_snaplen(c->pcap, SL_SNAPLEN) ||
	    pcap_set_immediate_mode(c->pcap, 1) ||
	    pcap_set_buffer_size(c->pcap, SL_CAPTURE_BUFFER) ||
	    pcap_set_promisc(c->pcap, 0)) {
		rc = sl_errf(e, EINVAL, "capture on %s: setting options",
			     c->where);
		goto err_close;
	}
	/* Nanoseconds, so that packets a few microseconds apart keep their
	 * order on the timeline; the dump file gets the nanosecond magic. */
	rc = pcap_set_tstamp_precision(c->pcap, PCAP_TSTAMP_PRECISION_NANO);
	if (rc) {
		rc = sl_errf(e, ENOTSUP, "capture on %s: nanosecond timestamps",
			     c->where);
		goto err_close;
	}

	rc = pcap_activate(c->pcap);
	if (rc < 0) {
		rc = activate_error(c, rc, e);
		goto err_close;
	}
	/* rc > 0 is a warning (e.g. PCAP_WARNING_TSTAMP_TYPE_NOTSUP); the
	 * precision we asked for is what we check. */
	if (pcap_get_tstamp_precision(c->pcap) != PCAP_TSTAMP_PRECISION_NANO) {
		rc = sl_errf(e, ENOTSUP,
			     "capture on %s: no nanosecond timestamps",
			     c->where);
		goto err_close;
	}
	if (pcap_setdirection(c->pcap, PCAP_D_INOUT) < 0) {
		sl_errf(e, 0, "capture on %s: direction: %s", c->where,
			pcap_geterr(c->pcap));
		rc = -EIO;
		goto err_close;
	}
	if (pcap_setnonblock(c->pcap, 1, errbuf) < 0) {
		sl_errf(e, 0, "capture on %s: non-blocking: %s", c->where,
			errbuf);
		rc = -EIO;
		goto err_close;
	}
	c->linktype = pcap_datalink(c->pcap);
	return 0;

err_close:
	pcap_close(c->pcap);
	c->pcap = NULL;
	return rc;
}

int sl_capture_open(struct sl_capture **cp, int nsfd, const char *ifname,
		    const char *pcap_path, struct sl_err *e)
{
	struct sl_capture *c;
	char ns[64];
	int origin, rc;
	FILE *dump;

	*cp = NULL;
	ns_name(nsfd, ns, sizeof(ns));
	c = calloc(1, sizeof(*c));
	if (!c)
		return sl_errf(e, ENOMEM, "capture on %s in %s", ifname, ns);
	snprintf(c->where, sizeof(c->where), "%s in %s", ifname, ns);

	origin = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (origin < 0) {
		rc = sl_errf(e, errno, "capture on %s: open own namespace",
			     c->where);
		goto out_free;
	}
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		rc = sl_errf(e, errno, "capture on %s: enter namespace",
			     c->where);
		goto out_origin;
	}
	rc = open_live(c, ifname, e);
	if (setns(origin, CLONE_NEWNET) < 0) {
		/* Overrides a reason open_live() may have written: this
		 * thread being in the wrong namespace matters more. */
		rc = sl_errf(e, errno, "capture on %s: return to own namespace",
			     c->where);
		goto out_pcap;
	}
	if (rc)
		goto out_origin;

	/* The dump file gets its precision from the live handle, so it is
	 * written with the nanosecond magic.  The path is opened after we
	 * are back, although the file system is not namespaced by netns. */
	dump = sl_resultdir_fopen(AT_FDCWD, pcap_path);
	if (!dump) {
		rc = sl_errf(e, errno, "capture on %s: create %s", c->where,
			     pcap_path);
		goto out_pcap;
	}
	errno = 0;
	c->dumper = pcap_dump_fopen(c->pcap, dump);
	if (!c->dumper) {
		fclose(dump);
		/* libpcap's text already names the file and says why;
		 * errno, when fopen() left one, is what we return. */
		rc = errno ? -errno : -EIO;
		sl_errf(e, 0, "capture on %s: %s", c->where,
			pcap_geterr(c->pcap));
		goto out_pcap;
	}
	close(origin);
	*cp = c;
	return 0;

out_pcap:
	if (c->pcap)
		pcap_close(c->pcap);
out_origin:
	close(origin);
out_free:
	free(c);
	return rc;
}

int sl_capture_fd(const struct sl_capture *c)
{
	return pcap_get_selectable_fd(c->pcap);
}

static void on_frame(u_char *user, const struct pcap_pkthdr *h,
		     const u_char *bytes)
{
	struct sl_capture *c = (struct sl_capture *)user;
	struct sl_packet pkt;
	int64_t rt;

	pcap_dump((u_char *)c->dumper, h, bytes);
	if (!c->cb || sl_packet_decode(bytes, h->caplen, c->linktype, &pkt))
		return;
	/* With nanosecond precision libpcap puts nanoseconds in tv_usec. */
	rt = (int64_t)h->ts.tv_sec * SL_NS_PER_SEC + h->ts.tv_usec;
	c->cb(c->arg, &pkt, sl_clock_realtime_to_mono(rt));
}

int sl_capture_dispatch(struct sl_capture *c, sl_capture_cb cb, void *arg)
{
	int n;

	c->cb = cb;
	c->arg = arg;
	n = pcap_dispatch(c->pcap, -1, on_frame, (u_char *)c);
	c->cb = NULL;
	c->arg = NULL;
	if (n == PCAP_ERROR_BREAK)
		return -EINTR;
	if (n < 0)
		return -EIO;
	return n;
}

void sl_capture_close(struct sl_capture *c)
{
	if (!c)
		return;
	/* What is still in the ring goes to the file, so the pcap holds
	 * everything the capture saw; there is no callback any more to hand
	 * it to, so callers that want it on the timeline dispatch until 0
	 * first.  The bound keeps a flood from holding us here forever. */
	for (int i = 0; i < 1000; i++)
		if (sl_capture_dispatch(c, NULL, NULL) <= 0)
			break;
	pcap_dump_flush(c->dumper);
	pcap_dump_close(c->dumper);
	pcap_close(c->pcap);
	free(c);
}

void sl_capture_stats(struct sl_capture *c, unsigned *received,
		      unsigned *dropped)
{
	struct pcap_stat st;

	if (pcap_stats(c->pcap, &st) < 0) {
		st.ps_recv = 0;
		st.ps_drop = 0;
	}
	if (received)
		*received = st.ps_recv;
	if (dropped)
		*dropped = st.ps_drop;
}
