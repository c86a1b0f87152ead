/* ladder_svg.h: the ladder picture of an exchange as an SVG file: one
 * lifeline per host (the router's where the path dropped or a fault was
 * applied), one arrow per segment with its flags, relative seq/ack and
 * length, a dropped one ending in a cross, the TCP states and the roles'
 * calls and marks beside the lifelines, time going down, long waits cut
 * short and marked (ladder_scene.h).  ladder_mermaid.h draws the same
 * scene as text for the guides.
 */
#ifndef SL_LADDER_SVG_H
#define SL_LADDER_SVG_H

#include <stdio.h>

#include "timeline.h"

/* Writes the picture of tl's exchange between client and server to f,
 * titled title.  Returns 0, -ENOMEM or -EIO. */
int sl_ladder_svg(const struct sl_timeline *tl, const char *title, FILE *f);

#endif
