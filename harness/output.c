/* output.c: what `socklab run` tells the user (runner.h).
 *
 * While the experiments run: a status line on a terminal, or a line per
 * experiment as it completes, and with --json its result as one JSON line
 * on stdout.  At the end: the summary, on stdout (stderr with --json, which
 * keeps stdout JSON Lines only), with the evidence of what did not go as
 * declared.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "json.h"
#include "report.h"
#include "resultdir.h"
#include "runner.h"

void run_status_clear(struct runner *r)
{
	if (r->drawn) {
		fputs("\r\033[K", stderr);
		r->drawn = 0;
	}
}

void run_status_draw(struct runner *r)
{
	char line[1024];
	int width = cli_term_width(STDERR_FILENO), len, first = 1;

	len = snprintf(line, sizeof(line), "[%d/%d done]%s", r->done, r->njobs,
		       r->running ? " running:" : "");
	for (int i = 0; i < r->njobs && len < (int)sizeof(line); i++) {
		struct job *j = &r->job[i];

		if (j->state != J_RUNNING)
			continue;
		len += snprintf(line + len, sizeof(line) - len, "%s %s %.1fs",
				first ? "" : ",", j->name, run_job_seconds(j));
		first = 0;
	}
	/* One column short of the width, so that the terminal never wraps
	 * and \r always returns to the start of this same line. */
	fputs("\r", stderr);
	cli_print_cut(stderr, line, width > 1 ? width - 1 : 0);
	fputs("\033[K", stderr);
	fflush(stderr);
	r->drawn = 1;
}

/* The job's result line as an object (NULL when it has no valid one). */
static json_t *result_of(const struct job *j)
{
	return j->json ? cli_json_object(j->json, strlen(j->json)) : NULL;
}

/* Sets member key of obj to v unless obj has it already (then v is
 * released). */
static void set_missing(json_t *obj, const char *key, json_t *v)
{
	if (json_object_get(obj, key))
		json_decref(v);
	else
		json_object_set_new(obj, key, v);
}

/* One JSON line per experiment, with at least the fields DESIGN.md lists.
 * It is the experiment's own line whenever that agrees with what we
 * concluded, completed with any required field it left out; otherwise
 * (crash, timeout, no line) one we write, so that a consumer of the JSON
 * Lines sees every experiment exactly once, in one shape. */
static void print_json_line(const struct job *j)
{
	const struct cli_exp *x = j->exp;
	double d = j->t1 > j->t0 ? (double)(j->t1 - j->t0) / SL_NS_PER_SEC : 0;
	int error = j->result != R_PASS && j->result != R_FAIL;
	json_t *o = j->json && j->json_agrees ? result_of(j) : NULL;

	if (!o)
		o = json_object();
	set_missing(o, "id", sl_json_text(x->id));
	set_missing(o, "claim", sl_json_text(x->claim));
	set_missing(o, "verdict",
		    sl_json_text(j->result == R_SKIP ? NULL :
				 error		     ? "ERROR" :
						       j->verdict));
	set_missing(o, "expected", sl_json_text(x->expected));
	set_missing(o, "status", sl_json_text(run_result_status[j->result]));
	if (error)
		set_missing(o, "error",
			    sl_json_text(j->reason ? j->reason : "?"));
	/* To the millisecond, as the experiments' own durations. */
	set_missing(o, "duration_s", json_real(round(d * 1000) / 1000));
	set_missing(o, "results", sl_json_text(j->dir));
	set_missing(o, "variants", json_array());
	set_missing(o, "measured", json_object());
	sl_json_line(stdout, o);
	fflush(stdout);
}

void run_report_done(struct runner *r, const struct job *j)
{
	if (r->format == FORMAT_JSON)
		print_json_line(j);
	if (r->format == FORMAT_KTAP)
		run_ktap_job(r, j);
	if (r->quiet)
		return;
	if (r->tty) {
		run_status_draw(r);
		return;
	}
	fprintf(stderr, "[%d/%d] %s: %s", r->done, r->njobs, j->name,
		run_result_word[j->result]);
	if (j->result == R_PASS || j->result == R_FAIL)
		fprintf(stderr, " (%s, expected %s)",
			j->verdict ? j->verdict : "?", j->exp->expected);
	fprintf(stderr, " in %.1f s", run_job_seconds(j));
	if (j->reason)
		fprintf(stderr, ": %s", j->reason);
	fputc('\n', stderr);
}

/* Copies the job's file name to stdout under a header, if it has one that
 * is not empty. */
static void print_file(const struct job *j, const char *name)
{
	int fd = sl_resultdir_read(j->dirfd, name), c;
	char buf[8192];
	size_t n;
	FILE *f;

	f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return;
	}
	c = fgetc(f);
	if (c != EOF) {
		printf("\n%s/%s:\n", j->shown, name);
		putchar(c);
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			fwrite(buf, 1, n, stdout);
	}
	fclose(f);
}

/* A string member, or what stands for a missing one. */
static const char *str_or(const json_t *obj, const char *key, const char * or)
{
	const char *s = cli_json_str(obj, key);

	return s ? s : or ;
}

/* A prediction's evidence, indented under it. */
static void print_evidence(FILE *f, const json_t *p, const char *indent)
{
	const char *skipped = cli_json_str(p, "skipped");
	json_t *ev = json_object_get(p, "evidence");
	char *text;

	/* A prediction that could not be judged says why, not what. */
	if (skipped) {
		fprintf(f, "%sskipped: %s\n", indent, skipped);
		return;
	}
	if (!ev || json_is_null(ev))
		return;
	if (json_is_string(ev)) {
		fprintf(f, "%sevidence: %s\n", indent, json_string_value(ev));
		return;
	}
	text = json_dumps(ev, JSON_COMPACT | JSON_ENCODE_ANY);
	fprintf(f, "%sevidence: %s\n", indent, text ? text : "?");
	free(text);
}

/* The predictions that did not hold, with their evidence: why a variant
 * does not hold.  Those of a variant declared not to hold are what was
 * expected, and are marked so. */
static void print_failed_predictions(FILE *f, const struct job *j)
{
	json_t *res = result_of(j), *v, *p;
	size_t vi, pi;
	int header = 0;

	json_array_foreach(json_object_get(res, "variants"), vi, v)
	{
		int declared_not = cli_json_get_bool(v, "expected_holds") == 0;

		json_array_foreach(json_object_get(v, "predictions"), pi, p)
		{
			if (cli_json_get_bool(p, "ok") != 0)
				continue;
			if (!header)
				fprintf(f, "\npredictions that did not hold "
					   "(or could not be judged here):\n");
			header = 1;
			fprintf(f, "  %s: %s%s\n", str_or(v, "name", "?"),
				str_or(p, "what", "?"),
				declared_not ? " (declared not to hold)" : "");
			print_evidence(f, p, "      ");
		}
	}
	json_decref(res);
}

/* What was observed for each prediction of a variant that did not behave
 * as declared: all of them for one that holds, the failed ones for one
 * that does not. */
static void print_predictions(FILE *f, const json_t *v, int holds)
{
	json_t *p;
	size_t i;

	json_array_foreach(json_object_get(v, "predictions"), i, p)
	{
		int ok = cli_json_get_bool(p, "ok") == 1;

		if (!holds && ok)
			continue;
		fprintf(f, "      [%s] %s\n",
			ok					      ? "ok" :
			json_is_string(json_object_get(p, "skipped")) ? "skip" :
									"FAIL",
			str_or(p, "what", "?"));
		print_evidence(f, p, "          ");
	}
}

/* The variants that did not behave as declared, each with its evidence:
 * the reason a run failed.  A variant that does not hold shows its failed
 * predictions, unless print_failed_predictions() has just listed them
 * (listed). */
static void print_not_as_declared(FILE *f, const struct job *j, int listed)
{
	json_t *res = result_of(j), *v;
	size_t i;
	int header = 0;

	json_array_foreach(json_object_get(res, "variants"), i, v)
	{
		int holds = cli_json_get_bool(v, "holds") == 1;

		if (cli_json_get_bool(v, "as_declared") != 0)
			continue;
		if (!header)
			fprintf(f,
				"\n%s: variants that did not behave as "
				"declared:\n",
				j->name);
		header = 1;
		fprintf(f, "  %s: %s\n", str_or(v, "name", "?"),
			holds  ? "holds, but is declared not to hold "
				 "(.holds = false)" :
			listed ? "does not hold, but is declared to hold "
				 "(its failed predictions are above)" :
				 "does not hold, but is declared to hold");
		if (holds || !listed)
			print_predictions(f, v, holds);
	}
	json_decref(res);
}

/* The table: one line per experiment, in the catalogue's order. */
static void print_table(FILE *f, const struct runner *r)
{
	int idw = 2, vw = 7, ew = 8;

	for (int i = 0; i < r->njobs; i++) {
		const struct job *j = &r->job[i];
		int n = (int)strlen(j->name);

		idw = n > idw ? n : idw;
		if (j->verdict && (int)strlen(j->verdict) > vw)
			vw = strlen(j->verdict);
		if (j->exp->expected && (int)strlen(j->exp->expected) > ew)
			ew = strlen(j->exp->expected);
	}
	fprintf(f, "\n%-*s  %-*s  %-*s  %-7s  %8s\n", idw, "id", vw, "verdict",
		ew, "expected", "result", "duration");
	for (int i = 0; i < r->njobs; i++) {
		const struct job *j = &r->job[i];

		fprintf(f, "%-*s  %-*s  %-*s  %-7s  ", idw, j->name, vw,
			j->verdict ? j->verdict : "-", ew,
			j->exp->expected ? j->exp->expected : "?",
			run_result_word[j->result]);
		if (j->state == J_DONE)
			fprintf(f, "%6.1f s\n", run_job_seconds(j));
		else
			fprintf(f, "%8s\n", "-");
	}
	for (int i = 0, first = 1; i < r->njobs; i++) {
		const struct job *j = &r->job[i];

		if (!j->reason || j->result == R_PASS)
			continue;
		if (first)
			fputc('\n', f);
		first = 0;
		fprintf(f, "%s: %s\n", j->name, j->reason);
	}
}

/* The evidence: for one experiment, the story of what happened, then its
 * diagnostics (which, with --keep, say how to enter the kept namespaces),
 * then why its verdict is not the expected one; for many, only the
 * evidence of the failures, the rest is in each one's timeline.txt. */
static void print_evidence_of_run(FILE *f, const struct runner *r)
{
	if (r->njobs == 1) {
		if (!r->quiet && r->format == FORMAT_TEXT) {
			print_file(&r->job[0], "timeline.txt");
			print_file(&r->job[0], STDERR_FILE);
		}
		print_failed_predictions(f, &r->job[0]);
		if (r->job[0].result == R_FAIL)
			print_not_as_declared(f, &r->job[0], 1);
		return;
	}
	for (int i = 0; i < r->njobs; i++)
		if (r->job[i].result == R_FAIL)
			print_not_as_declared(f, &r->job[i], 0);
	if (r->keep)
		fprintf(f,
			"namespaces kept: each %s/<id>/" STDERR_FILE " says "
			"how to enter them; `socklab clean %s` removes "
			"them\n",
			r->run_shown, r->run_shown);
}

int run_summary(struct runner *r)
{
	/* stdout is the JSON Lines or the KTAP alone: the summary, for
	 * people, goes beside it. */
	FILE *f = r->format == FORMAT_TEXT ? stdout : stderr;
	double wall = (double)(sl_now() - r->t0) / SL_NS_PER_SEC;
	int count[5] = { 0 };

	run_status_clear(r);
	for (int i = 0; i < r->njobs; i++)
		count[r->job[i].result]++;
	print_table(f, r);
	fputc('\n', f);
	if (r->signum)
		fprintf(f,
			"interrupted by %s (should anything be left behind, "
			"`socklab clean` removes it)\n",
			cli_signal_name(r->signum));
	fprintf(f, "%d passed, %d failed, %d error%s", count[R_PASS],
		count[R_FAIL], count[R_ERROR], count[R_ERROR] == 1 ? "" : "s");
	if (count[R_SKIP])
		fprintf(f, ", %d skipped", count[R_SKIP]);
	if (count[R_NONE])
		fprintf(f, ", %d not run", count[R_NONE]);
	/* A run told again (judge, show) has no wall time of its own. */
	if (r->told)
		fprintf(f, " (%s %s)\n", r->told, r->run_shown);
	else
		fprintf(f, " in %.1f s wall (%s)\n", wall, r->run_shown);
	print_evidence_of_run(f, r);
	fflush(f);

	if (r->signum)
		return 128 + r->signum;
	if (count[R_ERROR] || count[R_NONE])
		return SL_EXIT_ERROR;
	if (count[R_FAIL])
		return SL_EXIT_FAIL;
	return count[R_SKIP] ? SL_EXIT_SKIP : SL_EXIT_PASS;
}
