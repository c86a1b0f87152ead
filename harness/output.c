/* output.c: what `socklab run` tells the user (runner.h).
 *
 * While the experiments run: a status line on a terminal, or a line per
 * experiment as it completes, and with --json its result as one JSON line
 * on stdout.  At the end: the summary, on stdout (stderr with --json, which
 * keeps stdout JSON Lines only), with the evidence of what did not go as
 * declared.
 */
#include <errno.h>
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

	len = snprintf(line, sizeof(line), "[%d/%d done]%s", r->done,
		       r->njobs, r->running ? " running:" : "");
	for (int i = 0; i < r->njobs && len < (int)sizeof(line); i++) {
		struct job *j = &r->job[i];

		if (j->state != J_RUNNING)
			continue;
		len += snprintf(line + len, sizeof(line) - len, "%s %s %.1fs",
				first ? "" : ",", j->exp->id, run_job_seconds(j));
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

/* Starts one member of the object being printed. */
static void json_key(int *first, const char *key)
{
	printf("%s\"%s\":", *first ? "" : ",", key);
	*first = 0;
}

static void json_string_or_null(const char *s)
{
	if (s)
		sl_json_string(stdout, s);
	else
		fputs("null", stdout);
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
	int have = 0, first = 1, error = j->result != R_PASS &&
					 j->result != R_FAIL;
	struct cli_json own, v;

	if (j->json && j->json_agrees &&
	    !cli_json_parse(j->json, strlen(j->json), &own)) {
		const char *close = own.p + own.len - 1;
		const char *p = own.p + 1;

		have = 1;
		while (p < close && strchr(" \t\r", *p))
			p++;
		first = p == close;
		fwrite(j->json, 1, close - j->json, stdout);
	} else {
		putchar('{');
	}
#define MISSING(key) (!have || cli_json_member(&own, key, &v) == -ENOENT)
	if (MISSING("id")) {
		json_key(&first, "id");
		json_string_or_null(x->id);
	}
	if (MISSING("claim")) {
		json_key(&first, "claim");
		json_string_or_null(x->claim);
	}
	if (MISSING("verdict")) {
		json_key(&first, "verdict");
		json_string_or_null(j->result == R_SKIP ? NULL :
				    error ? "ERROR" : j->verdict);
	}
	if (MISSING("expected")) {
		json_key(&first, "expected");
		json_string_or_null(x->expected);
	}
	if (MISSING("status")) {
		json_key(&first, "status");
		json_string_or_null(run_result_status[j->result]);
	}
	if (error && MISSING("error")) {
		json_key(&first, "error");
		json_string_or_null(j->reason ? j->reason : "?");
	}
	if (MISSING("duration_s")) {
		json_key(&first, "duration_s");
		printf("%.3f", d);
	}
	if (MISSING("results")) {
		json_key(&first, "results");
		json_string_or_null(j->dir);
	}
	if (MISSING("variants")) {
		json_key(&first, "variants");
		fputs("[]", stdout);
	}
	if (MISSING("measured")) {
		json_key(&first, "measured");
		fputs("{}", stdout);
	}
#undef MISSING
	puts("}");
	fflush(stdout);
}

void run_report_done(struct runner *r, const struct job *j)
{
	if (r->json)
		print_json_line(j);
	if (r->quiet)
		return;
	if (r->tty) {
		run_status_draw(r);
		return;
	}
	fprintf(stderr, "[%d/%d] %s: %s", r->done, r->njobs, j->exp->id,
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

/* A prediction's evidence, indented under it. */
static void print_evidence(FILE *f, const struct cli_json *p,
			   const char *indent)
{
	struct cli_json ev;
	char *skipped = cli_json_get_strdup(p, "skipped");

	/* A prediction that could not be judged says why, not what. */
	if (skipped) {
		fprintf(f, "%sskipped: %s\n", indent, skipped);
		free(skipped);
		return;
	}
	if (cli_json_member(p, "evidence", &ev) || ev.type == CLI_JSON_NULL)
		return;
	if (ev.type == CLI_JSON_STRING) {
		char *s = cli_json_strdup(&ev);

		fprintf(f, "%sevidence: %s\n", indent, s ? s : "?");
		free(s);
	} else {
		fprintf(f, "%sevidence: %.*s\n", indent, (int)ev.len, ev.p);
	}
}

static int is_skipped(const struct cli_json *p)
{
	char *skipped = cli_json_get_strdup(p, "skipped");

	free(skipped);
	return skipped != NULL;
}

/* The predictions that did not hold, with their evidence: why a variant
 * does not hold.  Those of a variant declared not to hold are what was
 * expected, and are marked so. */
static void print_failed_predictions(FILE *f, const struct job *j)
{
	struct cli_json obj, vars, v, preds, p;
	size_t vpos = 0;
	int header = 0;

	if (!j->json || cli_json_parse(j->json, strlen(j->json), &obj) ||
	    cli_json_member(&obj, "variants", &vars))
		return;
	while (cli_json_next(&vars, &vpos, &v) > 0) {
		char *name = cli_json_get_strdup(&v, "name");
		int declared_not = cli_json_get_bool(&v, "expected_holds") == 0;
		size_t ppos = 0;

		if (cli_json_member(&v, "predictions", &preds))
			goto next;
		while (cli_json_next(&preds, &ppos, &p) > 0) {
			char *what;

			if (cli_json_get_bool(&p, "ok") != 0)
				continue;
			if (!header)
				fprintf(f, "\npredictions that did not hold "
					"(or could not be judged here):\n");
			header = 1;
			what = cli_json_get_strdup(&p, "what");
			fprintf(f, "  %s: %s%s\n", name ? name : "?",
				what ? what : "?",
				declared_not ? " (declared not to hold)" : "");
			free(what);
			print_evidence(f, &p, "      ");
		}
next:
		free(name);
	}
}

/* The variants that did not behave as declared, each with its evidence:
 * the reason a run failed.  A variant that holds against its declaration
 * shows what was observed for each prediction; one that does not hold shows
 * the predictions that failed, unless print_failed_predictions() has just
 * listed them (listed). */
static void print_not_as_declared(FILE *f, const struct job *j, int listed)
{
	struct cli_json obj, vars, v, preds, p;
	size_t vpos = 0;
	int header = 0;

	if (!j->json || cli_json_parse(j->json, strlen(j->json), &obj) ||
	    cli_json_member(&obj, "variants", &vars))
		return;
	while (cli_json_next(&vars, &vpos, &v) > 0) {
		int holds = cli_json_get_bool(&v, "holds") == 1;
		char *name;
		size_t ppos = 0;

		if (cli_json_get_bool(&v, "as_declared") != 0)
			continue;
		if (!header)
			fprintf(f, "\n%s: variants that did not behave as "
				"declared:\n", j->exp->id);
		header = 1;
		name = cli_json_get_strdup(&v, "name");
		fprintf(f, "  %s: %s\n", name ? name : "?",
			holds ? "holds, but is declared not to hold "
				"(.holds = false)" :
			listed ? "does not hold, but is declared to hold "
				 "(its failed predictions are above)" :
				 "does not hold, but is declared to hold");
		free(name);
		if ((!holds && listed) ||
		    cli_json_member(&v, "predictions", &preds))
			continue;
		while (cli_json_next(&preds, &ppos, &p) > 0) {
			int ok = cli_json_get_bool(&p, "ok") == 1;
			char *what;

			if (!holds && ok)
				continue;
			what = cli_json_get_strdup(&p, "what");
			fprintf(f, "      [%s] %s\n", ok ? "ok" :
				is_skipped(&p) ? "skip" : "FAIL",
				what ? what : "?");
			free(what);
			print_evidence(f, &p, "          ");
		}
	}
}

/* The table: one line per experiment, in the catalogue's order. */
static void print_table(FILE *f, const struct runner *r)
{
	int idw = 2, vw = 7, ew = 8;

	for (int i = 0; i < r->njobs; i++) {
		const struct job *j = &r->job[i];
		int n = (int)strlen(j->exp->id);

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

		fprintf(f, "%-*s  %-*s  %-*s  %-7s  ", idw, j->exp->id, vw,
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
		fprintf(f, "%s: %s\n", j->exp->id, j->reason);
	}
}

/* The evidence: for one experiment, the story of what happened, then its
 * diagnostics (which, with --keep, say how to enter the kept namespaces),
 * then why its verdict is not the expected one; for many, only the
 * evidence of the failures, the rest is in each one's timeline.txt. */
static void print_evidence_of_run(FILE *f, const struct runner *r)
{
	if (r->njobs == 1) {
		if (!r->quiet && !r->json) {
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
		fprintf(f, "namespaces kept: each %s/<id>/" STDERR_FILE " says "
			"how to enter them; `socklab clean` removes them\n",
			r->run_shown);
}

int run_summary(struct runner *r)
{
	FILE *f = r->json ? stderr : stdout;
	double wall = (double)(sl_now() - r->t0) / SL_NS_PER_SEC;
	int count[5] = { 0 };

	run_status_clear(r);
	for (int i = 0; i < r->njobs; i++)
		count[r->job[i].result]++;
	print_table(f, r);
	fputc('\n', f);
	if (r->signum)
		fprintf(f, "interrupted by %s\n",
			r->signum == SIGINT ? "SIGINT" : "SIGTERM");
	fprintf(f, "%d passed, %d failed, %d error%s", count[R_PASS],
		count[R_FAIL], count[R_ERROR], count[R_ERROR] == 1 ? "" : "s");
	if (count[R_SKIP])
		fprintf(f, ", %d skipped", count[R_SKIP]);
	if (count[R_NONE])
		fprintf(f, ", %d not run", count[R_NONE]);
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
