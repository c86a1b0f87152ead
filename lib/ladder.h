/* ladder.h: the exchange as a ladder diagram, the way TCP textbooks draw
 * it: one column per host, one arrow per segment, marks and calls beside
 * the host that made them.  A segment that left its sender but never
 * reached the receiver's capture (dropped on the path) ends in "x".
 */
#ifndef SL_LADDER_H
#define SL_LADDER_H

#include <stdio.h>

#include "timeline.h"

/* Draws the exchange between hosts left and right (host ids of tl). */
void sl_ladder_write(const struct sl_timeline *tl, int left, int right,
		     FILE *f);

#endif
