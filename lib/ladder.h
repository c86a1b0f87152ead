/* ladder.h: the exchange as a ladder diagram, the way TCP textbooks draw
 * it: one column per host, one arrow per segment, marks and calls beside
 * the host that made them.  A segment that left its sender but never
 * reached the receiver's capture (dropped on the path) ends in "x".
 */
#ifndef SL_LADDER_H
#define SL_LADDER_H

#include <stdio.h>

#include "timeline.h"

/* The label on segment i's arrow: flags, then relative seq/ack as the
 * timeline shows them, and the length ("P. 1:101 ack 1 (100)"). */
void sl_ladder_label(const struct sl_timeline *tl, int i, char *buf, size_t n);

/* A call or a mark as a ladder shows it beside its host: "close() = 0",
 * "read() = -1 ECONNRESET", "[closing]". */
void sl_ladder_note_text(const struct sl_event *e, char *buf, size_t n);

/* Draws the exchange between hosts left and right (host ids of tl). */
void sl_ladder_write(const struct sl_timeline *tl, int left, int right,
		     FILE *f);

#endif
