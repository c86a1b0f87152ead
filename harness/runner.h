/* runner.h: what the files of `socklab run` share (internal to harness/).
 *
 * run_cmd.c parses the command line into a struct runner, rundir.c makes
 * each run's folder, runner.c runs the experiments on one event loop,
 * judge.c turns what each one left into a result, and output.c tells the
 * user: the status line, JSON Lines and the summary.
 */
#ifndef CLI_RUNNER_H
#define CLI_RUNNER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ev.h>

#include "catalog.h"
#include "cli.h"

#define STDERR_FILE "stderr.txt"

enum result { R_NONE, R_PASS, R_FAIL, R_ERROR, R_SKIP };

/* How the summary says it, and the status of the JSON result object
 * (DESIGN.md). */
extern const char *const run_result_word[];
extern const char *const run_result_status[];

enum job_state { J_WAITING, J_RUNNING, J_DONE };

struct runner;

struct job {
	struct runner *r;
	struct cli_exp *exp;
	/* Its name in the results and the summary: the id, or
	 * "<id>.ipv6" for the IPv6 half of an experiment that runs on IPv4
	 * alone, which --family all reports skipped with the reason. */
	char *name;
	const char *family; /* what --family the executable gets, or NULL */
	char *dir;	    /* absolute: what the experiment shows */
	char *shown;	    /* relative to the user's --results */
	int dirfd;	    /* its folder, held from its creation on */
	enum job_state state;
	pid_t pid;
	int out_fd;
	ev_io out_w;
	ev_child child_w;
	ev_timer timeout_w;
	ev_timer grace_w;
	char *out;
	size_t outlen, outcap;
	int64_t t0, t1;
	int wstatus;
	int timed_out;
	int stopped; /* sent SIGTERM: the CLI was interrupted */
	enum result result;
	char *verdict;
	char *reason;
	char *json;	 /* its result line, when valid */
	int json_agrees; /* ... and says what we concluded */
	/* --step (step.c): the channel its pauses come on, -1 without */
	int step_fd;
	ev_io step_w;
	ev_io stdin_w;	  /* the terminal, while paused */
	int paused;	  /* a pause is shown, waiting for Enter */
	int npauses;	  /* pauses so far */
	double remaining; /* the deadline's time left when it paused */
	/* Its deadline (deadline.c): the channel its variants say their
	 * progress on, -1 without; the latest sign (SL_PROGRESS_*, or 0
	 * before any), and when it came. */
	int progress_fd;
	ev_io progress_w;
	char progress;
	int64_t progress_t;
	/* How long it is expected to take (progress.c): its last run's
	 * duration, from the verdict.json in the run folder expect_from (its
	 * name in --results), or its timeout when expect_from is NULL. */
	double expect_s;
	char *expect_from;
};

/* What `socklab run` prints on stdout (--format). */
enum run_format { FORMAT_TEXT, FORMAT_JSON, FORMAT_KTAP };

struct runner {
	struct ev_loop *loop;
	struct job *job;
	int njobs;
	int next; /* the next job to start */
	int running;
	int done;
	/* options */
	int max_jobs;
	double timeout; /* 0: each experiment's own */
	int keep, quiet;
	int step;	 /* --step: pause at each mark (step.c) */
	int step_eof;	 /* the terminal said Ctrl-D: pauses go on alone */
	double progress; /* seconds between progress lines; 0: none */
	enum run_format format;
	const char **variants;
	int nvariants;
	const char *family; /* --family: "4" (default), "6" or "all" */
	int rep, nrep;	    /* this run, of --repeat's */
	/* the run folder */
	char *base_shown;
	int base_fd; /* --results, opened once for every run */
	char *run_shown;
	char *run_abs;
	int run_fd;
	/* progress */
	int tty;
	int drawn;
	ev_timer status_w;
	ev_timer progress_w;
	ev_signal sig_w[CLI_NSTOP_SIGNALS]; /* one per cli_stop_signals[] */
	int signum;			    /* the first stop signal, or 0 */
	int insisted;			    /* a second stop signal came */
	int killed; /* some experiment's group got SIGKILL */
	int64_t t0;
	int ktap_n; /* the KTAP results printed in this run */
	/* A stored run told again (replay.c): how the summary says so, in
	 * place of the wall time, "as recorded in"; NULL for a run. */
	const char *told;
};

/* Formatting that cannot fail visibly: on ENOMEM the text is lost (NULL),
 * which is better than losing the run's result. */
char *run_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* How long the job has run, or ran. */
double run_job_seconds(const struct job *j);

/* Frees what the job holds (not the job). */
void run_job_free(struct job *j);

/* Makes j a fresh job of experiment x under name (which it takes), with
 * --family family (NULL: none given): no descriptor, nothing run. */
void run_job_init(struct job *j, struct runner *r, struct cli_exp *x,
		  char *name, const char *family);

/* Runs the selection --repeat times (once by default) and returns the
 * worst exit status of the runs. */
int run_all(struct runner *r);

/* rundir.c: opens --results (once), creates this run's folder in it, points
 * latest at it and sets each job's paths.  Returns 0 or -errno, the reason
 * printed. */
int run_folder_make(struct runner *r);

/* judge.c: the result of a finished job, from its exit status, its result
 * line and its stderr.txt. */
void run_judge(struct job *j);

/* j->reason = fmt, then ": why" when there is a why (which is consumed). */
void run_set_reason(struct job *j, char *why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* step.c: --step's side in the CLI, on the channel j->step_fd
 * (cli_channel(), passed with --step-fd).  run_step_watch() watches it
 * from the loop: each pause is shown, the job's deadline stopped, and
 * Enter on stdin lets it go on.  run_step_stop() stops watching and
 * closes it. */
void run_step_watch(struct job *j);
void run_step_stop(struct job *j);

/* deadline.c: how long an experiment may run (--timeout, else its
 * timeout_s), counted from its start and again from each sign of progress
 * of its variants (a phase of the harness over, their roles' start) on
 * the channel j->progress_fd (cli_channel(), passed with --progress-fd).
 * run_deadline_watch() moves the job's deadline from the loop as they
 * come; run_deadline_stop() stops watching and closes it. */
double run_deadline_s(const struct job *j);
void run_deadline_watch(struct job *j);
void run_deadline_stop(struct job *j);

/* output.c: the status line on a terminal (drawn, cleared), what is said
 * when a job is done, and the summary; run_summary() returns the run's exit
 * status. */
void run_status_clear(struct runner *r);
void run_status_draw(struct runner *r);
void run_report_done(struct runner *r, const struct job *j);
int run_summary(struct runner *r);

/* progress.c: without a terminal, a line on stderr every r->progress
 * seconds with the experiments still running and how long each is
 * expected to take.  run_progress_expect() sets every job's expectation
 * (from the newest earlier verdict.json of its experiment under --results,
 * else its timeout), once the run's folder exists; run_progress_line()
 * prints the line. */
void run_progress_expect(struct runner *r);
void run_progress_line(struct runner *r);

/* ktap.c: --format ktap.  The version and the plan when a run starts (and
 * the top level's first, with --repeat), each experiment's result as it is
 * done, the experiments that never ran and the run's own result when it
 * ends (status: its exit status), and the runs of --repeat that never
 * started, from run number from on. */
void run_ktap_plan(struct runner *r);
void run_ktap_job(struct runner *r, const struct job *j);
void run_ktap_end(struct runner *r, int status);
void run_ktap_unrun(struct runner *r, int from);

#endif
