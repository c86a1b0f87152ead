/* report.h: an experiment's results, for people and for programs.
 *
 * verdict.json and the JSON line on stdout carry the contract of DESIGN.md
 * (id, verdict, expected, status, duration_s, results, variants with each
 * prediction's ok and evidence, measured), and per variant what it was
 * declared to do ("expected_holds") and whether it did ("as_declared", null
 * for a variant that could not run); timeline.txt puts, per variant, the
 * predictions and measurements above the timeline they were judged on.
 */
#ifndef SL_REPORT_H
#define SL_REPORT_H

#include <stdio.h>

#include <jansson.h>

#include "registry.h"
#include "run.h"
#include "verdict.h"

struct sl_report {
	const struct sl_registry *reg;
	const struct sl_outcome *out; /* one per variant */
	int n;
	enum sl_verdict verdict;
	enum sl_status status; /* each variant as declared? */
	double duration_s;
	const char *dir; /* as shown in the result */
	int dirfd;	 /* that folder, or -1 */
	/* The kernel release the variants ran on, when it is not this
	 * machine's (a recording judged again; "" for one that does not say,
	 * made before recordings kept it: null in the JSON); NULL: uname's. */
	const char *kernel;
	/* Variants left out because this kernel lacks what they are about
	 * (sl_variant_decl's needs_sysctl), each with why. */
	int nnot_run;
	const char *not_run[SL_MAX_VARIANTS];
	const char *not_run_why[SL_MAX_VARIANTS];
};

/* "pass", "fail" or "error" */
const char *sl_report_status(const struct sl_report *r);

/* The result object as one line of JSON, newline-terminated. */
void sl_report_json(FILE *f, const struct sl_report *r);

/* The experiment's describe object (protocol.h), one line. */
void sl_report_describe(FILE *f, const struct sl_registry *reg);

/* The human text: per variant, holds or not, each prediction with its
 * evidence, the measurements, and the variant's timeline (read from
 * <variant>/timeline.txt in dirfd). */
void sl_report_text(FILE *f, const struct sl_report *r);

/* A JSON string of s, null for NULL; when s is not valid UTF-8, its
 * non-ASCII bytes become '?'.  NULL only when memory ran out. */
json_t *sl_json_text(const char *s);

/* Writes v (which it releases) as one line of compact JSON, numbers at six
 * significant digits.  Returns 0 or -EIO (v NULL: memory ran out). */
int sl_json_line(FILE *f, json_t *v);

#endif
