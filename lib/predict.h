/* predict.h: judging a variant's predictions on its timeline.
 *
 * Each expect_* call in an experiment's PREDICT block adds one result: what
 * was predicted (in words), whether the timeline shows it, and the evidence
 * (the timeline line that satisfied it, or what happened instead).  A
 * prediction that could not be evaluated (a mark it refers to never
 * happened, a source that did not run) is skipped with the reason: it never
 * counts as observed.  measure_* calls add measurements, which never fail.
 */
#ifndef SL_PREDICT_H
#define SL_PREDICT_H

#include "timeline.h"

#define SL_MAX_RESULTS 32
#define SL_MAX_MEASURES 32
#define SL_MAX_COUNTERS 128

struct sl_result {
	char what[200];
	int ok;			/* 1 observed, 0 not */
	char skipped[160];	/* non-empty: not evaluated, and why */
	/* With skipped: a source this machine lacks (tracefs) could not
	 * judge it.  It is never observed, but it does not stop the variant
	 * from holding on the predictions that could be judged. */
	int unavailable;
	char evidence[600];
	int line;		/* line of the PREDICT block */
};

struct sl_measure {
	char name[64];
	double value;
	char unit[8];
};

struct sl_predict {
	const struct sl_timeline *tl;
	int nresults;
	struct sl_result result[SL_MAX_RESULTS];
	int nmeasures;
	struct sl_measure measure[SL_MAX_MEASURES];
	/* What the kernel said that is not a prediction, for the report:
	 * why kernel events were not recorded (empty when they were), and
	 * the counters that moved (sl_predict_observe()). */
	char kernel_note[200];
	char host[SL_TL_MAX_HOSTS][16];	/* names of counter[].host */
	int ncounters;
	struct sl_counter counter[SL_MAX_COUNTERS];
};

void sl_predict_init(struct sl_predict *p, const struct sl_timeline *tl);

/* Adds a measurement (also used by the run for harness figures). */
void sl_predict_measure(struct sl_predict *p, const char *name, double value,
			const char *unit);

/* A variant holds when at least one prediction was evaluated and every
 * prediction was observed; a skipped prediction means it cannot hold,
 * unless it was skipped only because this machine lacks its source
 * (result.unavailable). */
int sl_predict_holds(const struct sl_predict *p);

/* The number of predictions skipped because a source is missing here. */
int sl_predict_unavailable(const struct sl_predict *p);

/* Copies what the report shows of the kernel's side from tl: the note on
 * kernel events and the counters that moved. */
void sl_predict_observe(struct sl_predict *p, const struct sl_timeline *tl);

#endif
