/* ktap.c: `socklab run --format ktap`, the results as KTAP version 1
 * (runner.h).
 *
 * KTAP is the kernel's own test output (Documentation/dev-tools/ktap.rst):
 * a version line, a plan "1..N", then one result line per test, "ok N
 * name" or "not ok N name", each test's subtests before its result line,
 * indented four spaces under a version line and a plan of their own.  Here
 * a test is an experiment and its subtests are its variants: a variant is
 * ok when it behaved as it declared (held, or did not with .holds = false),
 * and so an experiment is ok when it passed.  What a reader needs to see
 * why goes in diagnostic lines, "# ...", just before the result they
 * explain.  With --repeat, each run is one test more, its experiments its
 * subtests.
 *
 * The results come as the experiments complete, numbered in that order;
 * when a run ends, those that never ran (an interruption) get a result too,
 * so that the plan is always kept and a consumer sees every experiment.
 * Its top level is TAP 13/14 for a TAP consumer such as prove, which sees
 * the experiments and skips the indented variants.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "protocol.h"
#include "runner.h"

/* A line of diagnostic data or of a directive's reason is one line: the
 * text with its line breaks (a stderr line, an evidence) as spaces. */
static void one_line(FILE *f, const char *s)
{
	for (; s && *s; s++)
		fputc(*s == '\n' || *s == '\r' ? ' ' : *s, f);
}

static void diag(FILE *f, int indent, const char *what, const char *s)
{
	fprintf(f, "%*s# %s", indent, "", what);
	one_line(f, s);
	fputc('\n', f);
}

/* What a prediction saw, as one diagnostic line under its name. */
static void diag_evidence(FILE *f, int indent, const json_t *p)
{
	const char *skipped = cli_json_str(p, "skipped");
	json_t *ev = json_object_get(p, "evidence");
	char *text;

	if (skipped) {
		diag(f, indent, "  skipped: ", skipped);
		return;
	}
	if (!ev || json_is_null(ev))
		return;
	if (json_is_string(ev)) {
		diag(f, indent, "  evidence: ", json_string_value(ev));
		return;
	}
	text = json_dumps(ev, JSON_COMPACT | JSON_ENCODE_ANY);
	diag(f, indent, "  evidence: ", text ? text : "?");
	free(text);
}

/* One variant of the experiment's result line, as a subtest. */
static void ktap_variant(FILE *f, int indent, int n, const json_t *v)
{
	const char *name = cli_json_str(v, "name");
	const char *error = cli_json_str(v, "error");
	int holds = cli_json_get_bool(v, "holds") == 1;
	int declared = cli_json_get_bool(v, "expected_holds") != 0;
	int as_declared = cli_json_get_bool(v, "as_declared") == 1;
	json_t *p;
	size_t i;

	if (!error)
		fprintf(f, "%*s# %s: %s, declared %s\n", indent, "",
			name ? name : "?", holds ? "holds" : "does not hold",
			declared ? "to hold" : "not to hold (.holds = false)");
	/* The predictions of a variant that did not behave as declared:
	 * each with what was seen, the reason for its "not ok". */
	if (!as_declared && !error)
		json_array_foreach(json_object_get(v, "predictions"), i, p)
		{
			int ok = cli_json_get_bool(p, "ok") == 1;

			fprintf(f, "%*s# [%s] ", indent, "",
				ok			   ? "ok" :
				cli_json_str(p, "skipped") ? "skip" :
							     "FAIL");
			one_line(f, cli_json_str(p, "what"));
			fputc('\n', f);
			diag_evidence(f, indent, p);
		}
	fprintf(f, "%*s%s %d %s", indent, "", as_declared ? "ok" : "not ok", n,
		name ? name : "?");
	if (error) {
		fputs(" # ERROR ", f);
		one_line(f, error);
	}
	fputc('\n', f);
}

/* The reason after a directive: a skip's without its "skipped: ", which
 * "# SKIP" says already. */
static void reason(FILE *f, const struct job *j, const char *none)
{
	const char *s = j->reason ? j->reason : none;

	if (j->result == R_SKIP && !strncmp(s, "skipped: ", 9))
		s += 9;
	one_line(f, s);
}

/* The variants an experiment was to run, when it left no result to say
 * which ran: every one of the catalogue's, or those of --variant. */
static int planned_variants(const struct job *j, const char ***names)
{
	const struct runner *r = j->r;

	if (r->nvariants) {
		*names = r->variants;
		return r->nvariants;
	}
	*names = (const char **)j->exp->variants;
	return j->exp->nvariants;
}

/* The subtests of one experiment: its result line's variants, or, without
 * one, the variants it was to run, each with the experiment's reason. */
static void ktap_variants(FILE *f, int indent, const struct job *j)
{
	json_t *res = j->json ? cli_json_object(j->json, strlen(j->json)) :
				NULL;
	json_t *vars = json_object_get(res, "variants"), *v;
	const char **names;
	size_t i;
	int n;

	if (json_is_array(vars) && json_array_size(vars)) {
		fprintf(f, "%*sKTAP version 1\n%*s1..%zu\n", indent, "", indent,
			"", json_array_size(vars));
		json_array_foreach(vars, i, v)
			ktap_variant(f, indent, (int)i + 1, v);
		json_decref(res);
		return;
	}
	json_decref(res);
	n = planned_variants(j, &names);
	if (n == 0)
		return;
	fprintf(f, "%*sKTAP version 1\n%*s1..%d\n", indent, "", indent, "", n);
	for (int k = 0; k < n; k++) {
		fprintf(f, "%*s%s %d %s # %s ", indent, "",
			j->result == R_SKIP ? "ok" : "not ok", k + 1, names[k],
			j->result == R_SKIP ? "SKIP" : "ERROR");
		reason(f, j, "no result");
		fputc('\n', f);
	}
}

void run_ktap_plan(struct runner *r)
{
	int indent = r->nrep > 1 ? 4 : 0;

	if (r->rep == 1 && r->nrep > 1)
		printf("KTAP version 1\n1..%d\n", r->nrep);
	printf("%*sKTAP version 1\n%*s1..%d\n", indent, "", indent, "",
	       r->njobs);
	r->ktap_n = 0;
	fflush(stdout);
}

void run_ktap_job(struct runner *r, const struct job *j)
{
	int indent = r->nrep > 1 ? 4 : 0;
	FILE *f = stdout;

	ktap_variants(f, indent + 4, j);
	fprintf(f, "%*s# %s: ", indent, "", j->name);
	if (j->result == R_PASS || j->result == R_FAIL)
		fprintf(f, "%s, expected %s; ", j->verdict ? j->verdict : "?",
			j->exp->expected);
	if (j->state == J_DONE)
		fprintf(f, "%.1f s; ", run_job_seconds(j));
	fprintf(f, "results in %s\n", j->dir ? j->dir : "(none)");
	fprintf(f, "%*s%s %d %s", indent, "",
		j->result == R_PASS || j->result == R_SKIP ? "ok" : "not ok",
		++r->ktap_n, j->name);
	if (j->result == R_SKIP || j->result == R_ERROR ||
	    j->result == R_NONE) {
		fprintf(f, " # %s ",
			j->result == R_SKIP ? "SKIP" :
			j->timed_out	    ? "TIMEOUT" :
					      "ERROR");
		reason(f, j, "not run");
	}
	fputc('\n', f);
	fflush(f);
}

void run_ktap_end(struct runner *r, int status)
{
	/* Those that never ran: the plan promised them. */
	for (int i = 0; i < r->njobs; i++) {
		struct job *j = &r->job[i];

		if (j->state == J_DONE)
			continue;
		if (!j->reason)
			j->reason = run_asprintf(
				"not run: %s",
				r->signum ? "the run was interrupted" :
					    "the run ended first");
		run_ktap_job(r, j);
	}
	if (r->nrep > 1) {
		printf("# run %d of %d: %s\n", r->rep, r->nrep,
		       r->run_shown ? r->run_shown : "no results folder");
		printf("%s %d run %d",
		       status == SL_EXIT_PASS || status == SL_EXIT_SKIP ?
			       "ok" :
			       "not ok",
		       r->rep, r->rep);
		if (status == SL_EXIT_SKIP)
			printf(" # SKIP every experiment skipped");
		putchar('\n');
	}
	fflush(stdout);
}

void run_ktap_unrun(struct runner *r, int from)
{
	/* The runs --repeat did not get to: the top plan promised them. */
	for (int k = from; r->nrep > 1 && k <= r->nrep; k++)
		printf("not ok %d run %d # ERROR not run: %s\n", k, k,
		       r->signum ? "the run was interrupted" :
				   "an earlier run could not start");
	fflush(stdout);
}
