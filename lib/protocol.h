/* protocol.h: how the socklab CLI talks to an experiment executable.
 *
 * Each experiments/<id>/ folder builds one executable, <id>, into the
 * build's experiments/ (installed: libexec/socklab/; or the folder
 * $SOCKLAB_EXPERIMENTS_DIR names: harness/catalog.h).  The CLI finds them by
 * listing that folder, and drives each one as a child process (one process
 * per experiment, as libuv's test runner does, so a crash or a hang stays in
 * its own process):
 *
 *   <id> --describe
 *	prints one JSON object on one line and exits 0:
 *	{"id":"close-unread-rst","claim":"...","expected":"CONFIRMED",
 *	 "timeout_s":30,"variants":["read_90_of_100", ...],
 *	 "families":[4,6]}  (the address families it runs on)
 *	An experiment defined inconsistently (sl_registry_check() in
 *	registry.h) prints the reason on stderr and exits SL_EXIT_ERROR
 *	instead, for --describe as for --run: the CLI lists it as broken.
 *
 *   <id> --run --results DIR [--keep] [--variant NAME]... [--results-fd N]
 *	    [--family 4|6|all] [--progress-fd N]
 *	runs the variants (each in its own topology, concurrently; over
 *	IPv4 unless --family says otherwise: a variant run over IPv6 is
 *	named NAME.ipv6 in everything it writes, and --variant takes either
 *	name; a family the experiment does not run on is left out, and when
 *	nothing is left it exits SL_EXIT_SKIP with "not yet ported to IPv6"
 *	on stderr), writes
 *	DIR/verdict.json, DIR/timeline.txt, DIR/<variant>/... (pcaps, the
 *	variant's timeline.txt, commands.sh), relative to descriptor N (the
 *	CLI passes the folder it created, so that nothing is found by a path
 *	someone could swap; DIR is then only what the result line shows) or
 *	to DIR opened once (lib/resultdir.h), and prints, as its last line on
 *	stdout, the result object of DESIGN.md as one JSON line:
 *	{"id":..,"claim":..,"verdict":"CONFIRMED","expected":"CONFIRMED",
 *	 "status":"pass","duration_s":1.234,"harness_s":0.08,"results":"DIR",
 *	 "variants":[{"name":..,"holds":true,"expected_holds":true,
 *	   "as_declared":true,"error":null,
 *	   "predictions":[{"what":..,"ok":true,"skipped":null,"evidence":..}]}],
 *	 "measured":{"rst_after_close_ms":{"value":0.1,"unit":"ms"}}}
 *	Progress and diagnostics go to stderr.  On SIGTERM or SIGINT it stops
 *	its roles, tears its namespaces down, and exits SL_EXIT_ERROR.
 *	With --progress-fd N (a SOCK_SEQPACKET socket), each variant sends
 *	one byte on N as it moves on: SL_PROGRESS_PHASE when a phase of the
 *	harness is over (topology up, observers started, trace ready, ...),
 *	SL_PROGRESS_ROLES as its roles start.  The CLI's deadline for the
 *	experiment (timeout_s) counts again from each, so that the harness's
 *	setup, which on a loaded machine waits on the kernel's locks for
 *	many seconds, is not taken from the roles' time, while a phase that
 *	hangs is still stopped.
 *
 *   <id> --judge --results DIR [--variant NAME]... [--out OUTDIR]
 *	judges the run recorded in DIR again, with this executable's
 *	predictions: for each variant, DIR/<variant>/timeline.tl (which keeps
 *	the run's kernel, its error and its faults, timeline.h) is judged as
 *	a run judges the timeline it has just built, and the result object
 *	above is printed, with the same exit status; no role runs and no
 *	namespace is made, so it needs no root.  A variant whose recording is
 *	missing or will not load is an ERROR saying so.  With --out, OUTDIR
 *	gets verdict.json, timeline.txt and per variant the files a run
 *	derives from its timeline (timeline.txt, timeline.tl, ladder.txt,
 *	ladder.svg, ladder.mmd), in folders it creates: an existing one is
 *	refused, so a recording is never written over.  Without --out
 *	nothing is written.
 *
 *   <id> --explain [--variant NAME]...
 *	prints, per variant, the commands that build its network, the
 *	faults its SETUP applies and those its roles applied at their marks
 *	in the variant's recording (guide/<variant>.tl.gz, fault_spec.h), as
 *	a learner would type them (the code
 *	that logs a run's commands.sh, on a topology that only prints:
 *	topology.h), then tcpdump and ss lines to watch it, and exits 0.
 *	Nothing is made and no root is needed.
 */
#ifndef SL_PROTOCOL_H
#define SL_PROTOCOL_H

#define SL_EXIT_PASS 0	 /* every variant behaved as declared */
#define SL_EXIT_FAIL 1	 /* some variant did not: a finding */
#define SL_EXIT_ERROR 2	 /* could not run: setup failed, role timed out */
#define SL_EXIT_USAGE 64 /* bad command line */
#define SL_EXIT_SKIP 77	 /* cannot run here (not root): ctest's skip */

/* What a variant sends on --progress-fd. */
#define SL_PROGRESS_PHASE 'p' /* a phase of the harness is over */
#define SL_PROGRESS_ROLES 'r' /* its roles start */

#endif
