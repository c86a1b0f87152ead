/* catalog.h: the catalogue of experiments, as their executables describe
 * themselves.
 *
 * There is one list of experiments and it is the folder of executables:
 * each experiments/<id>/ folder builds <id> into the build's experiments/,
 * beside the socklab executable (an install puts them in
 * ../libexec/socklab beside it; $SOCKLAB_EXPERIMENTS_DIR names another),
 * and `<id> --describe` says what it is (lib/protocol.h).  Nothing in the harness names an experiment, so adding
 * one never touches harness/.
 */
#ifndef CLI_CATALOG_H
#define CLI_CATALOG_H

#include <stddef.h>

struct sl_err;

struct cli_exp {
	char *path; /* the executable */
	char *id;   /* from --describe; the file name if broken */
	char *claim;
	char *expected; /* "CONFIRMED", "REFUTED", "NUANCED" */
	double timeout_s;
	int nvariants;
	char **variants;
	char *describe;	  /* the --describe line, verbatim */
	int runs4, runs6; /* the address families it runs on */
	/* Why --describe could not be used, or NULL.  A broken experiment
	 * stays in the catalogue, so that it shows up as an error instead of
	 * silently going missing from `run --all`. */
	char *broken;
};

struct cli_catalog {
	char *dir;
	int n;
	struct cli_exp *exp; /* sorted by id */
};

/* The experiments' folder, its real path in dir: $SOCKLAB_EXPERIMENTS_DIR
 * when set (*from_env then 1; checked as root, lib/envdir.h), else the one
 * beside socklab's own executable, installed or in a build.  Returns 0 or
 * -errno with the reason in e. */
int cli_catalog_dir(char *dir, size_t n, int *from_env, struct sl_err *e);

/* Lists the folder and runs every executable in it with --describe, all at
 * once, each within a few seconds.  Returns 0 or -errno with a reason in e
 * (the folder cannot be read); broken experiments are not a failure here. */
int cli_catalog_load(struct cli_catalog *r, struct sl_err *e);

/* The experiment with this id, or NULL. */
struct cli_exp *cli_catalog_find(const struct cli_catalog *r, const char *id);

void cli_catalog_free(struct cli_catalog *r);

#endif
