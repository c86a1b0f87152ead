/* judge.c: the result of one finished experiment (runner.h).
 *
 * An experiment says what happened three ways: its exit status, its last
 * line on stdout (the result object of lib/protocol.h) and its stderr.txt.
 * They must agree before a pass or a failure is believed; anything else is
 * an error, with the most telling reason found.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "json.h"
#include "proc.h"
#include "protocol.h"
#include "resultdir.h"
#include "runner.h"

const char *const run_result_word[] = {
	[R_NONE] = "not run", [R_PASS] = "pass", [R_FAIL] = "FAIL",
	[R_ERROR] = "ERROR",  [R_SKIP] = "skip",
};

const char *const run_result_status[] = {
	[R_NONE] = "error",  [R_PASS] = "pass", [R_FAIL] = "fail",
	[R_ERROR] = "error", [R_SKIP] = "skip",
};

/* The last line the experiment wrote to its stderr, for the reason of an
 * error that it did not explain on stdout. */
static char *last_stderr_line(const struct job *j)
{
	int fd = sl_resultdir_read(j->dirfd, STDERR_FILE);
	const char *line;
	char buf[4096];
	ssize_t n = -1;
	size_t len;
	off_t size;

	if (fd < 0)
		return NULL;
	size = lseek(fd, 0, SEEK_END);
	if (size >= 0)
		n = pread(fd, buf, sizeof(buf) - 1,
			  size > (off_t)sizeof(buf) - 1 ?
				  size - (off_t)sizeof(buf) + 1 :
				  0);
	close(fd);
	if (n <= 0)
		return NULL;
	line = cli_last_line(buf, n, &len);
	return line ? strndup(line, len) : NULL;
}

/* What an experiment that could not run says about why: its result's
 * "error", else the first variant's error, else its last word on stderr. */
static char *error_reason(const struct job *j, const json_t *res)
{
	char *s = cli_json_get_strdup(res, "error");
	json_t *v;
	size_t i;

	if (s)
		return s;
	json_array_foreach(json_object_get(res, "variants"), i, v)
	{
		const char *msg = cli_json_str(v, "error");
		const char *name = cli_json_str(v, "name");

		if (msg)
			return run_asprintf("%s: %s", name ? name : "variant",
					    msg);
	}
	return last_stderr_line(j);
}

void run_set_reason(struct job *j, char *why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* reason = fmt, then ": why" when there is a why (which is consumed). */
void run_set_reason(struct job *j, char *why, const char *fmt, ...)
{
	char *head = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&head, fmt, ap) < 0)
		head = NULL;
	va_end(ap);
	free(j->reason);
	if (why && head)
		j->reason = run_asprintf("%s: %s", head, why);
	else
		j->reason = head;
	if (j->reason != head)
		free(head);
	free(why);
}

/* The variants of a result line that did not behave as they declared
 * ("as_declared": false), as "name holds, declared not to; ..." in *list
 * (NULL when there are none).  Returns how many, or -EINVAL when a variant
 * has no boolean "as_declared": then *list is its name. */
static int not_as_declared(const json_t *res, char **list)
{
	json_t *vars = json_object_get(res, "variants"), *v;
	size_t i;
	int n = 0;

	*list = NULL;
	if (!json_is_array(vars))
		return -EINVAL;
	json_array_foreach(vars, i, v)
	{
		const char *name = cli_json_str(v, "name");
		int as = cli_json_get_bool(v, "as_declared");
		char *more;

		if (as < 0) {
			free(*list);
			*list = name ? strdup(name) : NULL;
			return -EINVAL;
		}
		if (as)
			continue;
		more = run_asprintf("%s%s%s %s", *list ? *list : "",
				    *list ? "; " : "", name ? name : "?",
				    cli_json_get_bool(v, "holds") == 1 ?
					    "holds, declared not to" :
					    "does not hold, declared to");
		free(*list);
		*list = more;
		n++;
	}
	return n;
}

/* The variants this kernel could not run ("not_run": an older kernel
 * without the sysctl a variant is about), added to the job's reason: a
 * pass says what it did not cover. */
static void not_run(struct job *j, const json_t *res)
{
	json_t *nr = json_object_get(res, "not_run"), *v;
	char *list = NULL, *more;
	size_t i;

	json_array_foreach(nr, i, v)
	{
		const char *name =
			json_string_value(json_object_get(v, "name"));
		const char *why = json_string_value(json_object_get(v, "why"));

		more = run_asprintf("%s%s%s (%s)", list ? list : "",
				    list ? "; " : "", name ? name : "?",
				    why ? why : "?");
		free(list);
		list = more;
	}
	if (!list)
		return;
	if (j->reason) {
		more = run_asprintf("%s; not run: %s", j->reason, list);
		free(list);
		free(j->reason);
		j->reason = more;
	} else {
		j->reason = run_asprintf("not run: %s", list);
		free(list);
	}
}

/* A pass is every variant as declared, a failure is at least one that is
 * not: the result line's variants must say the same as its exit status,
 * or neither can be believed. */
static void judge_variants(struct job *j, const json_t *res, int code,
			   const char *how)
{
	char *list = NULL;
	int n = not_as_declared(res, &list);

	if (n < 0) {
		run_set_reason(j, NULL,
			       "%s but its result says no "
			       "\"as_declared\" for variant %s",
			       how, list ? list : "(none)");
		free(list);
	} else if ((code == SL_EXIT_PASS) != (n == 0)) {
		run_set_reason(j, list,
			       "%s but %d of its variants did not "
			       "behave as declared",
			       how, n);
	} else if (n) {
		j->result = R_FAIL;
		run_set_reason(j, list, "not as declared");
	} else {
		j->result = R_PASS;
	}
	not_run(j, res);
}

/* A pass or a failure, as the exit status says: believed only when the
 * result line says the same. */
static void judge_outcome(struct job *j, const json_t *res, int code,
			  const char *line, size_t n, const char *how)
{
	const char *want = code == SL_EXIT_PASS ? "pass" : "fail";
	const char *status = cli_json_str(res, "status");

	if (!line)
		run_set_reason(j, NULL, "%s but printed no result line", how);
	else if (!res)
		run_set_reason(j, NULL,
			       "printed an invalid result line: "
			       "%.*s%s",
			       (int)(n > 60 ? 60 : n), line,
			       n > 60 ? "..." : "");
	else if (!status || strcmp(status, want))
		run_set_reason(j, NULL,
			       "%s but its result says status "
			       "\"%s\"",
			       how, status ? status : "(none)");
	else
		judge_variants(j, res, code, how);
}

/* An experiment that did not pass or fail: why, as well as it can be
 * told. */
static void judge_error(struct job *j, const json_t *res, int code,
			const char *how)
{
	char *why;

	if (code == SL_EXIT_SKIP) {
		j->result = R_SKIP;
		run_set_reason(j, error_reason(j, res), "skipped");
	} else if (code == SL_EXIT_ERROR) {
		why = error_reason(j, res);
		if (why)
			run_set_reason(j, NULL, "%s", why);
		else
			run_set_reason(j, NULL, "%s (see %s/" STDERR_FILE ")",
				       how, j->shown);
		free(why);
	} else if (code == SL_EXIT_USAGE) {
		run_set_reason(j, last_stderr_line(j),
			       "rejected its command line (exit 64)");
	} else {
		run_set_reason(j, last_stderr_line(j), "%s", how);
	}
}

void run_judge(struct job *j)
{
	const char *line, *status;
	json_t *res = NULL;
	char how[160];
	size_t n;
	int code = WIFEXITED(j->wstatus) ? WEXITSTATUS(j->wstatus) : -1;

	line = cli_last_line(j->out, j->outlen, &n);
	if (line && (res = cli_json_object(line, n))) {
		j->json = strndup(line, n);
		j->verdict = cli_json_get_strdup(res, "verdict");
	}
	status = cli_json_str(res, "status");
	cli_describe_status(j->wstatus, how, sizeof(how));
	j->result = R_ERROR;
	if (j->timed_out && j->progress)
		/* Its deadline counted again from there (deadline.c). */
		run_set_reason(j, NULL,
			       "timed out %g s after %s (%.1f s into its run)",
			       run_deadline_s(j),
			       j->progress == SL_PROGRESS_ROLES ?
				       "its roles started" :
				       "the last phase of its harness ended",
			       (double)(j->progress_t - j->t0) / SL_NS_PER_SEC);
	else if (j->timed_out)
		run_set_reason(j, NULL, "timed out after %g s",
			       run_deadline_s(j));
	else if (j->stopped &&
		 !(res && (code == SL_EXIT_PASS || code == SL_EXIT_FAIL)))
		/* The signal is the run's news, said once in the summary. */
		run_set_reason(j, NULL, "interrupted");
	else if (WIFSIGNALED(j->wstatus))
		run_set_reason(j, NULL, "crashed: %s", how);
	else if (code == SL_EXIT_PASS || code == SL_EXIT_FAIL)
		judge_outcome(j, res, code, line, n, how);
	else
		judge_error(j, res, code, how);
	/* Whatever verdict a run that did not complete printed, it is not
	 * one: ERROR is never a verdict, only the lack of one. */
	if (j->result != R_PASS && j->result != R_FAIL) {
		free(j->verdict);
		j->verdict = strdup(j->result == R_SKIP ? "-" : "ERROR");
	}
	/* A deadline or a Ctrl-C is news the experiment's own line cannot
	 * carry, even when it says "error" too. */
	j->json_agrees =
		status && !strcmp(status, run_result_status[j->result]) &&
		!(j->result == R_ERROR && (j->timed_out || j->stopped));
	json_decref(res);
}
