/* counter.h: a kernel counter as a timeline holds and records it.
 *
 * What the timeline needs of counters.h and nothing more: the type of one
 * counter's delta, how a prediction reads it and how a recording keeps
 * it, so that timeline.h can include it without including the reader of
 * /proc (counters.h, which includes the timeline).  counters.c implements
 * both headers.
 */
#ifndef SL_COUNTER_H
#define SL_COUNTER_H

#include <stdint.h>
#include <stdio.h>

struct sl_timeline;

#define SL_COUNTER_NAME 56

struct sl_counter {
	int host; /* host index (timeline and topology agree) */
	char name[SL_COUNTER_NAME]; /* nstat's name: TcpExtTCPAbortOnClose */
	int64_t value;		    /* a reading, or on a timeline the delta */
};

/* The delta of name on host in tl: 0 and *found = 1 when known, *found = 0
 * when this kernel (or this recording) has no such counter. */
int64_t sl_counters_get(const struct sl_timeline *tl, int host,
			const char *name, int *found);

/* The recording format (timeline.c).  Only the deltas that are not zero
 * are saved ("N host name delta"), after a "counters <state> <why>"
 * header; a loaded timeline then treats a missing name as 0. */
void sl_counters_save(FILE *f, const struct sl_timeline *tl);
int sl_counters_load_header(struct sl_timeline *tl, char **field, int nfield);
int sl_counters_load(struct sl_timeline *tl, char **field, int nfield);

#endif
