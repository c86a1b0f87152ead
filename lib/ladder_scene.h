/* ladder_scene.h: what a ladder picture shows, taken from a timeline once,
 * for every way of drawing it (ladder_svg.c, ladder_mermaid.c).
 *
 * A scene has one lane per host drawn (client and server, and the router
 * between them when the path dropped something or a fault was applied),
 * the segments as arrows from the sender's capture to the receiver's
 * (a dropped one ends on the router, or half-way), and beside each lane
 * its notes: the role's calls and marks, and the TCP states the host's
 * sockets entered, in RFC 9293's names.
 *
 * Time goes down, but not at one scale: runs last microseconds to a
 * minute, so the gap between two instants takes room growing with its
 * logarithm, and a gap longer than a second is cut short and marked with
 * its length (a TIME-WAIT's 60 s is one break, not a blank page).  Every
 * instant keeps its real time, which the pictures print beside it.
 */
#ifndef SL_LADDER_SCENE_H
#define SL_LADDER_SCENE_H

#include <stdint.h>

#include "timeline.h"

#define SL_LADDER_TEXT 100

enum sl_ladder_note_kind {
	SL_NOTE_CALL,  /* a call a role made: "close() = 0" */
	SL_NOTE_MARK,  /* a role's mark: "[closing]" */
	SL_NOTE_STATE, /* a socket entered a state: "TIME-WAIT" */
	SL_NOTE_FAULT, /* a fault on the path: "fault drop" */
};

struct sl_ladder_arrow {
	int from, to;	   /* lanes */
	int64_t t0, t1;	   /* sent, received (lost: t0) */
	int lost;	   /* never reached the receiver's capture */
	int injected;	   /* crafted by a role (sl_inject) */
	int retransmitted; /* the kernel said it retransmitted it */
	char label[SL_LADDER_TEXT];
};

struct sl_ladder_note {
	int lane;
	int64_t t;
	enum sl_ladder_note_kind kind;
	char text[SL_LADDER_TEXT];
};

/* A gap cut short: between y0 and y1 of the picture, ns of real time. */
struct sl_ladder_break {
	double y0, y1;
	int64_t ns;
};

struct sl_ladder {
	const struct sl_timeline *tl;
	int nlanes;
	int lane_host[3]; /* host of each lane, left to right */
	int router_lane;  /* -1: the router is not drawn */
	struct sl_ladder_arrow *arrow;
	int narrows;
	struct sl_ladder_note *note;
	int nnotes;
	/* The instants, sorted, and where each is drawn (picture units). */
	int64_t *t;
	double *y;
	int nt;
	struct sl_ladder_break *brk;
	int nbreaks;
	double height;
};

/* Builds the scene of the exchange between client and server.  Returns 0
 * or -ENOMEM. */
int sl_ladder_build(const struct sl_timeline *tl, struct sl_ladder *l);
void sl_ladder_free(struct sl_ladder *l);

/* Where instant t is drawn (t must be one of the scene's instants). */
double sl_ladder_y(const struct sl_ladder *l, int64_t t);

/* "1.5 s", "250 ms", "80 us": a duration as a break prints it. */
void sl_ladder_duration(int64_t ns, char *buf, size_t n);

#endif
