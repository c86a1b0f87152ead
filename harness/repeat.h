/* repeat.h: `socklab run --repeat N`, the tally of N runs of the same
 * experiments.
 *
 * A verdict that flips with the machine's load says nothing about the claim
 * (experiments/README.md), and one run cannot tell a steady result from a
 * lucky one.  runner.c runs the selection N whole times, each a normal run
 * with its own results folder; after each run it hands every experiment's
 * outcome to cli_tally_add(), and at the end the tally says, per
 * experiment, how often it passed, which verdicts it got, and which
 * variants did not behave as declared (or could not run) how often.
 */
#ifndef CLI_REPEAT_H
#define CLI_REPEAT_H

#include <stdio.h>

struct cli_exp;
struct cli_tally;

/* A tally for n experiments, in the order given (the summary's).  Only the
 * variants named in only[] (--variant) are counted, or all when nonly is 0.
 * Returns NULL when memory runs out. */
struct cli_tally *cli_tally_new(struct cli_exp *const *exps, int n,
				const char *const *only, int nonly);

/* One run of experiment i: its status ("pass", "fail", "error", "skip"),
 * the verdict shown in the summary ("CONFIRMED", ..., "ERROR", "-"), and
 * its result line (NULL when it printed none: crash, timeout). */
void cli_tally_add(struct cli_tally *t, int i, const char *status,
		   const char *verdict, const char *json);

/* The table, for people: per experiment "passed k/N" and the verdicts,
 * then, under it, each variant that did not behave as declared or could
 * not run, with how often. */
void cli_tally_print(FILE *f, const struct cli_tally *t);

/* One JSON object per experiment (JSON Lines), after the result lines:
 * {"id":..,"repeat":{"runs":N,"passed":..,"failed":..,"errors":..,
 *  "skipped":..,"verdicts":{"NUANCED":9,"CONFIRMED":1},
 *  "variants":[{"name":..,"not_as_declared":1,"held_declared_not_to":1,
 *		 "failed_declared_to":0,"errors":0}]}} */
void cli_tally_json(FILE *f, const struct cli_tally *t);

/* Whether every experiment passed every run counted. */
int cli_tally_all_passed(const struct cli_tally *t);

void cli_tally_free(struct cli_tally *t);

#endif
