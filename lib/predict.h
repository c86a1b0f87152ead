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

#include <stddef.h>
#include <stdint.h>

#include "timeline.h"

#define SL_MAX_RESULTS 32
#define SL_MAX_MEASURES 32
#define SL_MAX_COUNTERS 128

struct sl_result {
	char what[200];
	int ok;		   /* 1 observed, 0 not */
	char skipped[160]; /* non-empty: not evaluated, and why */
	/* With skipped: a source this machine lacks (tracefs) could not
	 * judge it.  It is never observed, but it does not stop the variant
	 * from holding on the predictions that could be judged. */
	int unavailable;
	char evidence[600];
	int line; /* line of the PREDICT block */
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
	char kernel_note[600];
	char host[SL_TL_MAX_HOSTS][16]; /* names of counter[].host */
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

/* ---- shared by the files that judge predictions ----
 *
 * Each job of the prediction vocabulary has its file: packets
 * (predict_packet.c), socket states (predict_state.c), timing
 * (predict_timing.c), the kernel's events and counters (predict_kernel.c);
 * predict.c keeps the results, the calls the roles recorded and what the
 * others share, below. */

struct sl_match;

/* A new result for the prediction on line, or a slot that says there were
 * too many (the variant then cannot hold). */
struct sl_result *sl__predict_result(struct sl_predict *p, int line);

/* Appends to the string in buf, as snprintf() would write it. */
void sl__appendf(char *buf, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The time window marks give: [after, after + within_ms] cut at before,
 * each bound open when its mark is not given.  Returns 0, or -1 with the
 * reason in why when a mark never happened. */
int sl__predict_window(const struct sl_timeline *tl, const char *after,
		       const char *before, int within_ms, int64_t *lo,
		       int64_t *hi, char *why, size_t n);

/* Skips r: a state ss does not know can never count as observed. */
void sl__skip_unknown_state(struct sl_result *r, const char *name);

/* The last call named name on host, or -1. */
int sl__last_call(const struct sl_timeline *tl, const char *host,
		  const char *name);

/* "a packet from server with [R] after ..." into buf: count -1 any, 0 none,
 * n exactly n. */
void sl__describe_match(const struct sl_match *m, int count, char *buf,
			size_t n);

/* Up to max matching packets in the match's window, as timeline indexes;
 * returns how many matched in all, or -1 (reason in why) when the window
 * cannot be known. */
int sl__collect_packets(const struct sl_timeline *tl, const struct sl_match *m,
			int *idx, int max, char *why, size_t n);

struct sl_tol;

/* Whether measured is within tol of predicted: tol.pct percent of it or
 * tol.ms, whichever is wider (predict_timing.c). */
int sl__tol_ok(double measured, double predicted, struct sl_tol tol);

/* Appends " (+/- 10% or 20 ms)" for tol. */
void sl__describe_tol(struct sl_tol tol, char *buf, size_t n);

/* How late the run's timers woke, in ms; 0 when it was not measured (a
 * recording older than lateness.h). */
double sl__late_ms(const struct sl_timeline *tl);

/* A time against its prediction on a run whose timers ran late
 * (lateness.h): SL__ON_TIME within tol, SL__LATE above it by no more than
 * the run's lateness (which only ever delays), SL__OFF otherwise. */
enum { SL__OFF, SL__ON_TIME, SL__LATE };
int sl__tol_judge(const struct sl_timeline *tl, double measured,
		  double predicted, struct sl_tol tol);

/* What follows a measured time in the evidence for sl__tol_judge()'s
 * verdict: "", " (late)" or " (off)". */
const char *sl__tol_mark(int judged);

/* Appends, when the run measured its timers' lateness, how late they ran
 * and that the tolerances allowed that much more above. */
void sl__describe_late(const struct sl_timeline *tl, char *buf, size_t n);

/* Appends where a prediction looks: the ports (0: any) and the window of
 * its marks, " (local port 7007) after \"closing\" within 50 ms". */
void sl__describe_scope(char *buf, size_t n, int lport, int rport,
			const char *after, int within_ms, const char *before);

/* The evidence of a count: "0 matching", or "3 matching: " with the
 * timeline line at index shown and the time from the mark after to the
 * first match. */
void sl__evidence_matching(const struct sl_timeline *tl, struct sl_result *r,
			   int found, int shown, int first, const char *after);

#endif
