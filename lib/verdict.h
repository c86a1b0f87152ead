/* verdict.h: the verdict on a claim, derived from its variants, never
 * declared by an experiment; and whether a run passes.
 *
 *   every variant holds		CONFIRMED
 *   no variant holds			REFUTED
 *   some hold, some do not		NUANCED
 *   any variant could not run		ERROR (no verdict on the claim)
 *
 * Each variant declares whether it is expected to hold (VARIANT(x, v,
 * .holds = false), socklab.h), and a run passes when every variant behaved
 * as declared.  Comparing verdicts alone would not do: a NUANCED claim
 * stays NUANCED whichever of its variants flip, so a variant that starts
 * to hold while another stops would pass unnoticed.  The declarations
 * derive a verdict of their own, which must be EXPERIMENT's .expected
 * (registry.h checks it at start-up): so a pass still means that the
 * derived verdict is the expected one.
 */
#ifndef SL_VERDICT_H
#define SL_VERDICT_H

#include "socklab.h"

enum sl_verdict sl_verdict_derive(int n, const int holds[], const int error[]);

/* A run against its declarations: "pass", "fail" or "error" in results. */
enum sl_status {
	SL_STATUS_PASS,	 /* every variant behaved as declared */
	SL_STATUS_FAIL,	 /* some variant did not: a finding */
	SL_STATUS_ERROR, /* some variant could not run, or none ran */
};

/* Whether variant i behaved as declared: it ran, and it held exactly when
 * it was declared to hold. */
static inline int sl_verdict_as_declared(int holds, int error, int declared)
{
	return !error && !holds == !declared;
}

/* The status of a run of n variants: holds[i] and error[i] as run,
 * declared[i] as the variant declared. */
enum sl_status sl_verdict_judge(int n, const int holds[], const int error[],
				const int declared[]);

/* "pass", "fail", "error" */
const char *sl_status_name(enum sl_status s);

#endif
