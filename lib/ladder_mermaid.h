/* ladder_mermaid.h: the ladder of an exchange as a Mermaid
 * sequenceDiagram, the text a lab guide embeds (GitHub and most Markdown
 * viewers draw it): the same scene as the SVG (ladder_scene.h), in order
 * rather than to a time scale; long waits are notes that say how long.
 */
#ifndef SL_LADDER_MERMAID_H
#define SL_LADDER_MERMAID_H

#include <stdio.h>

#include "timeline.h"

/* Writes tl's exchange between client and server to f.  Returns 0,
 * -ENOMEM or -EIO. */
int sl_ladder_mermaid(const struct sl_timeline *tl, FILE *f);

#endif
