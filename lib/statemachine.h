/* statemachine.h: the TCP state machine as the kernel walked it.
 *
 * RFC 9293's state diagram (its figure 5) is the map: eleven states and
 * the transitions between them, each with the event the RFC names.  Runs
 * are laid over it: every change of state that a run's kernel reported
 * (sock:inet_sock_set_state) marks its edge as observed, with the
 * experiments that made it happen.  Changes the diagram does not draw
 * (an abort's ESTABLISHED -> CLOSED, a RST in SYN-SENT) are kept as
 * edges of their own, so that what Linux does beyond the RFC shows too.
 *
 * Two things the kernel does not say are taken from the samples, as the
 * predictions take them (sockhist.h): a socket entering TIME-WAIT is
 * reported as a change to CLOSE (the full socket makes way for a
 * mini-socket), so a CLOSE whose 4-tuple is then sampled in TIME-WAIT is
 * an edge into TIME-WAIT; and a TIME-WAIT that disappeared within the run
 * is its 2 MSL timeout to CLOSED.  Without the kernel's events, the
 * samples' changes are all there is, and short states may be missing.
 */
#ifndef SL_STATEMACHINE_H
#define SL_STATEMACHINE_H

#include <stdio.h>

#include "timeline.h"

/* RFC 9293's states. */
enum sl_sm_state {
	SL_SM_CLOSED,
	SL_SM_LISTEN,
	SL_SM_SYN_SENT,
	SL_SM_SYN_RECEIVED,
	SL_SM_ESTABLISHED,
	SL_SM_FIN_WAIT_1,
	SL_SM_FIN_WAIT_2,
	SL_SM_CLOSE_WAIT,
	SL_SM_CLOSING,
	SL_SM_LAST_ACK,
	SL_SM_TIME_WAIT,
	SL_SM_NSTATES,
};

#define SL_SM_MAX_EDGES 64
#define SL_SM_MAX_WHO 48

struct sl_sm_edge {
	int from, to;	   /* enum sl_sm_state */
	const char *event; /* the RFC's label; NULL: not in its diagram */
	int seen;	   /* variants in which the kernel made it */
	int nwho;	   /* experiments that made it, */
	char who[SL_SM_MAX_WHO][48]; /* in the order first seen */
};

struct sl_sm {
	int nedges;
	struct sl_sm_edge edge[SL_SM_MAX_EDGES];
	int timelines; /* laid over it */
	int sampled;   /* of which without the kernel's events */
};

/* The RFC's diagram, nothing observed yet. */
void sl_sm_init(struct sl_sm *m);

/* RFC 9293's name: "SYN-RECEIVED". */
const char *sl_sm_state_name(int s);

/* Lays one variant's timeline over the map; who is its experiment's id.
 * Returns 0, or -ENOSPC when more edges than the map holds. */
int sl_sm_add(struct sl_sm *m, const struct sl_timeline *tl, const char *who);

/* The map as Graphviz's dot language: observed edges bold and labelled
 * with their experiments, the RFC's unobserved ones faint, Linux's own
 * (not in the diagram) in orange. */
void sl_sm_dot(const struct sl_sm *m, FILE *f);

/* The map as text, one edge per line, observed first:
 *   ESTABLISHED -> FIN-WAIT-1  close / snd FIN  (12: close-unread-rst, ...) */
void sl_sm_text(const struct sl_sm *m, FILE *f);

#endif
