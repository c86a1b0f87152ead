/* linkemu_queue.c: the link emulator's NFQUEUE reader (linkemu_queue.h),
 * libmnl and libnetfilter_queue's message builders. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "clock.h"
#include "linkemu_proto.h"
#include "linkemu_queue.h"

#define COPY_RANGE 128 /* IPv4 and TCP headers with options */

void sl__le_queue_verdict(struct sl__le_queue *q, uint16_t queue, uint32_t pkt,
			  int verdict)
{
	char buf[256];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT, queue);

	nfq_nlmsg_verdict_put(nlh, pkt, verdict);
	/* A verdict that cannot be sent leaves the packet queued until the
	 * queue is torn down: nothing better to do than go on. */
	mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len);
}

static int queue_cb(const struct nlmsghdr *nlh, void *data)
{
	struct sl__le_queue *q = data;
	struct nlattr *attr[NFQA_MAX + 1] = { NULL };
	struct nfqnl_msg_packet_hdr *ph;
	struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	const uint8_t *payload = NULL;
	size_t n = 0;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
		return MNL_CB_OK;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	if (attr[NFQA_PAYLOAD]) {
		payload = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
		n = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	}
	q->on_packet(q->arg, ntohs(g->res_id), ntohl(ph->packet_id), payload, n,
		     sl_now());
	return MNL_CB_OK;
}

static void nfq_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sl__le_queue *q = w->data;

	(void)loop;
	(void)revents;
	for (;;) {
		ssize_t n = recv(mnl_socket_get_fd(q->nl), q->buf,
				 sizeof(q->buf), MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			/* The kernel could not hand us a packet and dropped
			 * it: say so. */
			q->on_overrun(q->arg);
			continue;
		}
		if (n <= 0)
			return;
		mnl_cb_run(q->buf, n, 0, q->portid, queue_cb, q);
	}
}

/* Sends one NFQUEUE config message and waits for the kernel's answer. */
static int nfq_config(struct sl__le_queue *q, struct nlmsghdr *nlh,
		      const char *what, char *why, size_t n)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t seq = (uint32_t)sl_now();
	ssize_t got;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		goto fail;
	got = mnl_socket_recvfrom(q->nl, buf, sizeof(buf));
	if (got < 0 || mnl_cb_run(buf, got, seq, q->portid, NULL, NULL) < 0)
		goto fail;
	return 0;
fail:
	snprintf(why, n, "NFQUEUE %s in the router: %s", what, strerror(errno));
	return -errno;
}

/* Binds queue number qnum to us, copying COPY_RANGE bytes of each packet
 * and letting the kernel hold LE_QMAXLEN of them. */
static int bind_queue(struct sl__le_queue *q, uint16_t qnum, char *why,
		      size_t n)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, qnum);
	int ret;

	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	ret = nfq_config(q, nlh, "bind", why, n);
	if (ret < 0)
		return ret;
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, qnum);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, COPY_RANGE);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, LE_QMAXLEN);
	return nfq_config(q, nlh, "config", why, n);
}

int sl__le_queue_open(struct sl__le_queue *q, struct ev_loop *loop, char *why,
		      size_t n)
{
	int rcvbuf = 8 << 20;
	int ret;

	q->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!q->nl) {
		snprintf(why, n, "NFQUEUE: netlink socket: %s",
			 strerror(errno));
		return -errno;
	}
	if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		snprintf(why, n, "NFQUEUE: bind: %s", strerror(errno));
		goto fail;
	}
	q->portid = mnl_socket_get_portid(q->nl);
	/* Packets wait in this buffer while we sleep: make room for a
	 * whole queue's worth rather than lose them (ENOBUFS). */
	setsockopt(mnl_socket_get_fd(q->nl), SOL_SOCKET, SO_RCVBUFFORCE,
		   &rcvbuf, sizeof(rcvbuf));
	for (uint16_t qnum = 0; qnum < LE_NDIRS; qnum++) {
		ret = bind_queue(q, qnum, why, n);
		if (ret < 0)
			goto fail;
	}
	ev_io_init(&q->w, nfq_cb, mnl_socket_get_fd(q->nl), EV_READ);
	q->w.data = q;
	ev_io_start(loop, &q->w);
	return 0;
fail:
	sl__le_queue_close(q);
	return ret;
}

void sl__le_queue_close(struct sl__le_queue *q)
{
	if (q->nl)
		mnl_socket_close(q->nl);
	q->nl = NULL;
}
