/* help.c: every --help text and man page of socklab, from one set of data
 * (help.h). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "help.h"
#include "sweep.h"
#include "vm.h"

/* Where an installed socklab finds its experiments, relative to its own
 * executable (catalog.c); the build defines it from the install layout. */
#ifndef SL_EXPERIMENTS_RELDIR
#define SL_EXPERIMENTS_RELDIR "../libexec/socklab"
#endif

#define TEXT_WIDTH 72

static const char *const socklab_usage[] = {
	"socklab <command> [options]",
	"socklab --version",
	NULL,
};

static const struct cli_help_opt socklab_opts[] = {
	{ "-h, --help", "show this help" },
	{ "-V, --version",
	  "which socklab this is: `git describe` of the checkout it was built "
	  "from, taken when the build was configured" },
	{ NULL },
};

static const struct cli_help_section socklab_sections[] = {
	/* No text: the commands, listed from cli_helps[]. */
	{ "commands", NULL },
	{ "examples", "  socklab list\n"
		      "  sudo socklab run close-unread-rst\n"
		      "  sudo socklab run --all --json > verdicts.jsonl\n"
		      "  sudo socklab run --all --format ktap > results.ktap\n"
		      "  sudo socklab run --all --repeat 10" },
	{ "exit status",
	  "0 all passed, 1 a claim did not behave as expected, 2 something "
	  "could not run, 64 bad command line, 77 needs root." },
	{ "environment",
	  "SOCKLAB_EXPERIMENTS_DIR: the folder of experiment executables, "
	  "instead of the one beside socklab's own executable (" SL_EXPERIMENTS_RELDIR
	  " once installed, experiments/ in a build).  As root it is honoured "
	  "only when only root can change it and every folder above it.\n\n"
	  "SOCKLAB_TRACEFS: where tracefs is (default /sys/kernel/tracing), or "
	  "off to run without the kernel's events; as root, the same rule.\n\n"
	  "SOCKLAB_TIME_SCALE: a factor from 1 to 100 that stretches every "
	  "deadline (an experiment's timeout_s, its roles'), for a machine "
	  "much slower than the one the experiments were written on; "
	  "`socklab vm` sets it in a guest from a probe timed on both "
	  "(SOCKLAB_PACE_REF_NS, the host's figure).  Timing predictions are "
	  "not stretched: the kernel's timers keep the wall clock's pace.\n\n"
	  "SUDO_UID, SUDO_GID: under sudo, the results are handed over to "
	  "this user." },
	{ "files",
	  "results/ (or --results): one folder per run, results/latest the "
	  "newest; readable by their owner only.\n\n"
	  "/run/socklab: the run slots' lock files, which tell `socklab "
	  "clean` which namespaces and trace instances a killed run left." },
	{ NULL },
};

static const struct cli_help socklab_help = {
	.name = "socklab",
	.summary = "put claims about Linux TCP sockets to the test",
	.usage = socklab_usage,
	.text = "Puts claims about Linux TCP sockets to the test, between "
		"hosts in network namespaces, and derives a verdict from what "
		"the kernel did: CONFIRMED, REFUTED or NUANCED.  Each claim "
		"is an experiment, a small C program whose variants declare "
		"whether the claim holds for them; every experiment folder "
		"has a lab guide, README.md.\n\n"
		"`socklab <command> --help` describes each command, as does "
		"its man page, socklab-<command>(1).",
	.opts = socklab_opts,
	.sections = socklab_sections,
};

static const char *const list_usage[] = { "socklab list [--json]", NULL };

static const struct cli_help_opt json_only_opts[] = {
	{ "--json", "one JSON object per experiment (JSON Lines), as the "
		    "experiment describes itself" },
	{ "-h, --help", "show this help" },
	{ NULL },
};

static const struct cli_help_section list_sections[] = {
	{ "exit status",
	  "0; 2 when an experiment's --describe fails: it is listed as "
	  "broken, with the reason." },
	{ NULL },
};

static const struct cli_help list_help = {
	.name = "list",
	.summary = "show the catalogue of experiments",
	.usage = list_usage,
	.text = "Shows every experiment: its id, the verdict expected on "
		"Linux, its number of variants and its claim.  The "
		"experiments are the executables in $SOCKLAB_EXPERIMENTS_DIR, "
		"or else in the folder beside socklab's own executable: " SL_EXPERIMENTS_RELDIR
		" once installed, experiments/ in a build.  Each is asked "
		"what it is (`<id> --describe`); none is run.",
	.opts = json_only_opts,
	.sections = list_sections,
};

static const char *const run_usage[] = {
	"socklab run [options] <id>...",
	"socklab run [options] --all",
	NULL,
};

static const struct cli_help_opt run_opts[] = {
	{ "--all", "every experiment of `socklab list`" },
	{ "-j, --jobs N", "at most N experiments at a time, 1 to 4096 "
			  "(default: as many as there are experiments: all "
			  "of them, or with --family all half of their IPv4 "
			  "and IPv6 runs at a time; on a machine measured "
			  "slower, such as a `socklab vm` guest, one per "
			  "processor)" },
	{ "--timeout SEC",
	  "deadline per experiment, instead of its own (its roles' timeout_s "
	  "and 10 s), counted from its start and again each time one of its "
	  "variants moves on (a phase of the harness over, its roles "
	  "started), so that a slow setup on a loaded machine is not taken "
	  "from its roles; past it, SIGTERM, and SIGKILL 5 s later: an "
	  "error" },
	{ "--results DIR",
	  "where run folders go (default: ./results, created, but not the "
	  "folders above it); each run gets DIR/YYYYmmdd-HHMMSS-PID/<id>/ "
	  "(-PID-K for run K of --repeat) and DIR/latest points at the "
	  "newest" },
	{ "--variant NAME", "only this variant (repeatable); NAME.ipv6 for "
			    "its run over IPv6 alone" },
	{ "--family F",
	  "the address family the hosts talk over: 4 (the default), 6 or "
	  "all (both, at the same time).  Over IPv6 the hosts have "
	  "addresses in 2001:2::/48 (RFC 5180's benchmarking block; "
	  "2001:2:0:18S::2 is 198.18.S.2) and each variant runs as "
	  "NAME.ipv6, in a folder of that name and under that name in "
	  "--json; over IPv4 a variant keeps its name.  An experiment that "
	  "declares it runs over IPv4 alone (.families = 4) is skipped over "
	  "IPv6 with the reason \"not yet ported to IPv6\", never passed: "
	  "with all, its IPv4 half runs and <id>.ipv6 is reported skipped.  "
	  "The default stays 4 while both families at once double the "
	  "namespaces a whole run makes" },
	{ "--repeat N",
	  "run the selection N whole times in a row (1 to 10000), each a "
	  "normal run with its own folder, then print how often each "
	  "experiment passed, its verdicts, and which variants did not behave "
	  "as declared how often; exit 0 only when every experiment passed "
	  "every time" },
	{ "--explain",
	  "run nothing: print, per variant, the commands that build its "
	  "network and the faults it sets up from the start (ip netns, ip "
	  "link, ip addr, ip route, sysctl, ethtool, nft, tc netem or the "
	  "link emulator's rule), as you would type them, then tcpdump per "
	  "interface and ss to watch it; the faults its roles apply at their "
	  "marks (a crash, a reboot, a drop) are those of the variant's "
	  "recorded run, experiments/<id>/guide/<variant>.tl.gz (installed "
	  "in share/doc/socklab/experiments), served through the same code "
	  "(without one, each run's commands.sh lists them).  Needs no "
	  "root" },
	{ "--keep", "keep each run's namespaces for inspection with `ip netns "
		    "exec`; `socklab clean <run>` removes them (`socklab "
		    "clean`, every run's)" },
	{ "--step",
	  "one experiment, its variants one after the other, pausing at each "
	  "mark with the namespaces and the roles' sockets live: prints which "
	  "role reached which mark and each host's sockets as `ss -tanoi` "
	  "lists them, and waits for Enter (look around meanwhile with "
	  "`socklab shell <host>` in another terminal).  The roles and the "
	  "deadlines wait; the kernel's timers do not, so a timing prediction "
	  "may fail after a long pause, and the result says the run was "
	  "stepped.  Needs a terminal on stdin" },
	{ "--format FMT",
	  "what goes to stdout: text (the default: the summary, then the "
	  "evidence), json (JSON Lines: each experiment's result as one line "
	  "as it completes; with --repeat, then one line per experiment with "
	  "its counts) or ktap (KTAP version 1, the kernel's test output: one "
	  "test per experiment, a subtest per variant, ok when it behaved as "
	  "declared; with --repeat, one test per run).  With json and ktap "
	  "the summary goes to stderr" },
	{ "--json", "the same as --format json" },
	{ "--progress SECONDS",
	  "when stderr is not a terminal, print a line to stderr every "
	  "SECONDS seconds (default 10; 0: never) with the experiments still "
	  "running and how long each is expected to take: as long as its "
	  "newest earlier run under --results took (its verdict.json), or at "
	  "most its timeout when it never ran there; the line says which.  "
	  "With --format json or ktap the lines go to stderr as well, so "
	  "stdout keeps only JSON Lines or KTAP; on a terminal the status "
	  "line does this job" },
	{ "-q, --quiet", "print only the summary (no progress lines)" },
	{ "-h, --help", "show this help" },
	{ NULL },
};

static const struct cli_help_section run_sections[] = {
	{ "exit status",
	  "0 every experiment passed, 1 some variant did not behave as "
	  "declared (a finding), 2 some experiment could not run (error wins "
	  "over failure), 77 skipped here, 128 + N stopped by signal N (130 "
	  "for SIGINT, 143 for SIGTERM)." },
	{ "signals",
	  "SIGINT, SIGTERM, SIGHUP, SIGQUIT (and SIGALRM, SIGUSR1, SIGUSR2) "
	  "stop the run: each experiment gets SIGTERM and tears its "
	  "namespaces down.  A second signal kills the experiments at once, "
	  "and socklab then removes what they left, as `socklab clean` "
	  "does.  Only a SIGKILL of socklab itself leaves anything behind, "
	  "for `socklab clean` or the next run." },
	{ NULL },
};

static const struct cli_help run_help = {
	.name = "run",
	.summary = "run experiments and judge their claims",
	.usage = run_usage,
	.text = "Runs experiments, each in its own network namespaces and "
		"all at once by default, derives each claim's verdict and "
		"judges each variant against what it declared.  Needs "
		"root.\n\n"
		"An experiment passes when each of its variants held, or did "
		"not, as it declared (VARIANT(..., .holds = false): not to "
		"hold).",
	.opts = run_opts,
	.sections = run_sections,
};

static const char *const doctor_usage[] = { "socklab doctor [--json]", NULL };

static const struct cli_help_opt doctor_opts[] = {
	{ "--json", "one JSON object: "
		    "{\"ok\":..,\"checks\":[{\"name\",\"ok\",\"detail\"}]}" },
	{ "-h, --help", "show this help" },
	{ NULL },
};

static const struct cli_help_section doctor_sections[] = {
	{ "exit status",
	  "0 when root, network namespaces and veth work (what every "
	  "experiment needs), 1 otherwise." },
	{ NULL },
};

static const struct cli_help doctor_help = {
	.name = "doctor",
	.summary = "check what this machine supports",
	.usage = doctor_usage,
	.text = "Checks what this machine supports, one line each: the "
		"kernel, root, network namespaces, veth, sch_netem, nftables, "
		"NFQUEUE, the link emulator's backend and its timer's error, "
		"socket sampling, tracefs, the tools (tcpdump, ss, ethtool, "
		"iptables, nft, ip, tc), where the experiments are, and which "
		"accelerator `socklab vm` gives its guests (or that this is "
		"one).  The probes run in a scratch "
		"namespace, " SL_DOCTOR_NETNS_PREFIX "PID, removed at the end.",
	.opts = doctor_opts,
	.sections = doctor_sections,
};

static const char *const clean_usage[] = {
	"socklab clean",
	"socklab clean [--results DIR] <run>",
	NULL,
};

static const struct cli_help_opt clean_opts[] = {
	{ "--results DIR",
	  "where runs are found by name (default: ./results): <run> is a "
	  "folder, or a run's name there (latest included)" },
	{ "-h, --help", "show this help" },
	{ NULL },
};

static const struct cli_help_opt help_only_opts[] = {
	{ "-h, --help", "show this help" },
	{ NULL },
};

static const struct cli_help_section no_sections[] = { { NULL } };

static const struct cli_help clean_help = {
	.name = "clean",
	.summary = "remove what killed runs left behind",
	.usage = clean_usage,
	.text = "Removes the namespaces and trace instances of runs that "
		"were killed, the namespaces kept by `socklab run --keep`, and "
		"the scratch namespaces and instances of doctors that were "
		"killed, and the temporary folders (/tmp/socklab-vm-PID-*) of "
		"`socklab vm`s that were: only the names socklab gives them, "
		"never a run that is still going.  Needs root.\n\n"
		"With <run>, only the namespaces that run kept (`socklab run "
		"--keep`; <run> may also be one of its experiments' folders): "
		"each kept slot names the results folder of the run that kept "
		"it, so other runs' kept namespaces stay.",
	.opts = clean_opts,
	.sections = no_sections,
};

static const char *const bench_usage[] = { "socklab bench [-n N]", NULL };

static const struct cli_help_opt bench_opts[] = {
	{ "-n, --samples N", "number of samples (default 20)" },
	{ "-h, --help", "show this help" },
	{ NULL },
};

static const struct cli_help bench_help = {
	.name = "bench",
	.summary = "measure the harness's own cost per run",
	.usage = bench_usage,
	.text = "Measures what the harness costs one experiment with no role "
		"running: topology up, observers started and stopped, "
		"topology down.  Prints the median, min and max over N "
		"samples, and each phase's median, against the 100 ms "
		"target.  Needs root.",
	.opts = bench_opts,
	.sections = no_sections,
};

static const char *const states_usage[] = { "socklab states [options] [RUN]",
					    NULL };

static const struct cli_help_opt states_opts[] = {
	{ "-o, --output FILE", "where the picture goes (default: "
			       "RUN/states.svg; - for stdout)" },
	{ "--format FMT", "svg (default), dot (Graphviz's input), or text "
			  "(one line per edge, on stdout)" },
	{ "-h, --help", "show this help" },
	{ NULL },
};

static const struct cli_help_section states_sections[] = {
	{ "exit status", "0 drawn, 2 the run could not be read, 64 bad "
			 "command line." },
	{ NULL },
};

static const struct cli_help states_help = {
	.name = "states",
	.summary = "draw the TCP state machine a run walked",
	.usage = states_usage,
	.text = "Draws TCP's state diagram (RFC 9293, figure 5) with every "
		"transition that the kernel made in the run's experiments: "
		"each observed edge bold and labelled with the experiments "
		"that exercised it, the diagram's other edges faint, and the "
		"kernel's transitions that the diagram does not have (an "
		"abort, a RST) in orange.  RUN is a run folder (default: "
		"results/latest).",
	.opts = states_opts,
	.sections = states_sections,
};

static const char *const judge_usage[] = {
	"socklab judge [options] <run>[/<id>]",
	NULL,
};

static const struct cli_help_opt judge_opts[] = {
	{ "--results DIR",
	  "where runs are found by name (default: ./results): <run> is a "
	  "folder, or a run's name there (latest included)" },
	{ "--variant NAME", "only this variant (repeatable)" },
	{ "--out DIR",
	  "keep what judging wrote: DIR/<id>/ gets verdict.json, "
	  "timeline.txt and per variant the files a run derives from its "
	  "timeline (timeline.txt, ladder.txt, ladder.svg, ladder.mmd), in "
	  "folders it creates (an existing one is refused); without it "
	  "they are written to a folder of judge's own and removed" },
	{ "--json", "each experiment's result as one JSON line, as `socklab "
		    "run --json` prints it; the summary goes to stderr" },
	{ "-q, --quiet", "print only the summary" },
	{ "-h, --help", "show this help" },
	{ NULL },
};

static const struct cli_help_section judge_sections[] = {
	{ "examples", "  socklab judge results/latest/close-unread-rst\n"
		      "  socklab judge --json latest" },
	{ "exit status",
	  "as `socklab run`: 0 every experiment passed, 1 one did not "
	  "behave as declared, 2 one could not be judged (its recording is "
	  "missing) or the run is not there, 64 bad command line or an "
	  "experiment the run or the catalogue does not have." },
	{ NULL },
};

static const struct cli_help judge_help = {
	.name = "judge",
	.summary = "judge a recorded run again",
	.usage = judge_usage,
	.text = "Derives each experiment's verdict again from the timelines "
		"a run recorded (<run>/<id>/<variant>/timeline.tl), with the "
		"predictions of the experiment executables installed now, and "
		"prints it as `socklab run` prints results: the summary, and "
		"for one experiment its predictions with their evidence.  "
		"Nothing runs and no namespace is made, so it needs no root: "
		"it is how one sees whether changed predictions still hold on "
		"an old recording.  The recording is never written to.",
	.opts = judge_opts,
	.sections = judge_sections,
};

static const char *const show_usage[] = {
	"socklab show [options] <run>[/<id>]",
	NULL,
};

static const struct cli_help_opt show_opts[] = {
	{ "--results DIR",
	  "where runs are found by name (default: ./results): <run> is a "
	  "folder, or a run's name there (latest included)" },
	{ "--json", "each experiment's stored result as one JSON line, as "
		    "`socklab run --json` printed it; the summary goes to "
		    "stderr" },
	{ "-q, --quiet", "print only the summary" },
	{ "-h, --help", "show this help" },
	{ NULL },
};

static const struct cli_help_section show_sections[] = {
	{ "examples", "  socklab show latest\n"
		      "  socklab show results/latest/linger-zero-rst" },
	{ "exit status",
	  "the run's, as `socklab run` gave it: 0 every experiment passed, "
	  "1 one did not behave as declared, 2 one could not run or the run "
	  "is not there, 64 bad command line or an experiment the run does "
	  "not have." },
	{ NULL },
};

static const struct cli_help show_help = {
	.name = "show",
	.summary = "print a stored run again",
	.usage = show_usage,
	.text = "Prints a run that is over again, from its folder "
		"(verdict.json, timeline.txt): the summary table, and for one "
		"experiment its predictions with their evidence and its "
		"timeline, as `socklab run` printed them.  Nothing is judged "
		"again (`socklab judge` does that).",
	.opts = show_opts,
	.sections = show_sections,
};

static const char *const diff_usage[] = {
	"socklab diff [options] RUN_A RUN_B",
	NULL,
};

static const struct cli_help_opt diff_opts[] = {
	{ "--tolerance PCT",
	  "how far a measurement may move, in percent of RUN_A's value, "
	  "before it is a difference (default 25)" },
	{ "--min-ms MS",
	  "and, for a time, by more than MS ms (default 10: what a busy "
	  "machine adds to a sub-millisecond reply is not a change of the "
	  "kernel)" },
	{ "--json", "one JSON object per experiment that differs" },
	{ "-h, --help", "show this help" },
	{ NULL },
};

static const struct cli_help_section diff_sections[] = {
	{ "exit status", "0 no difference, 1 differences, 2 a run could not "
			 "be read, 64 bad command line." },
	{ NULL },
};

static const struct cli_help diff_help = {
	.name = "diff",
	.summary = "what changed between two runs",
	.usage = diff_usage,
	.text = "Compares two run folders (results/<run>, possibly from two "
		"machines or kernels): per experiment its verdict, per variant "
		"whether it held and behaved as declared, per prediction "
		"whether it was observed, and every measurement that moved by "
		"more than the tolerance.  Experiments in only one run are "
		"named as such.",
	.opts = diff_opts,
	.sections = diff_sections,
};

static const char *const shell_usage[] = {
	"socklab shell [SLOT] <host>",
	"socklab shell [SLOT] <host> -- <command> [<arg>...]",
	NULL,
};

static const struct cli_help_section shell_sections[] = {
	{ "examples", "  sudo socklab run --step rst-refused      "
		      "(in one terminal)\n"
		      "  sudo socklab shell client                "
		      "(in another: then ss -tanoi)\n"
		      "  sudo socklab shell 13 server -- ss -tanoi" },
	{ "exit status",
	  "the shell's or the command's; 2 when there is no such run to "
	  "enter, 64 for a bad command line (an unknown host), 77 without "
	  "root." },
	{ NULL },
};

static const struct cli_help shell_help = {
	.name = "shell",
	.summary = "a shell in a host of a paused or kept run",
	.usage = shell_usage,
	.text = "Runs your $SHELL (or /bin/sh) inside the network namespace "
		"of host (client, router or server) of a run that is paused "
		"at a mark (`socklab run --step`) or kept (`socklab run "
		"--keep`), as `ip netns exec` would, with a prompt that names "
		"the namespace; after --, runs that command there instead.  "
		"SLOT names the run: the number in its namespaces' names "
		"(socklab-SLOT-client), which a pause and a kept run print; "
		"a run that is only running is entered only when named.  "
		"Without SLOT, the newest paused or kept run, saying so when "
		"there are several.  Needs root.",
	.opts = help_only_opts,
	.sections = shell_sections,
};

static const char *const vm_usage[] = {
	"socklab vm --kernel KERNEL [options] [--] COMMAND [ARGS...]",
	"socklab vm --kernel KERNEL [options] --exec [--] PROGRAM [ARGS...]",
	NULL,
};

static const struct cli_help_opt vm_opts[] = {
	{ "-k, --kernel KERNEL",
	  "the kernel to boot: debian:X.Y (the newest linux-image-X.Y.<n>-"
	  "<abi>-amd64 of Debian's archive, fetched with apt-get download), "
	  "debian:PACKAGE, a linux-image .deb, or a kernel image with "
	  "--modules" },
	{ "--modules DIR",
	  "with a kernel image: its modules, lib/modules/<release> after "
	  "depmod" },
	{ "--accel auto|kvm|tcg",
	  "the accelerator (default auto: KVM when /dev/kvm is the stock "
	  "kvm_intel or kvm_amd module's, QEMU's TCG otherwise; doctor says "
	  "which)" },
	{ "--cpus N", "the guest's processors (default 2)" },
	{ "--memory MIB", "the guest's memory (default 3072: a whole "
			  "catalogue at once needs more than 1 GiB)" },
	{ "--boot-timeout S",
	  "give up when the guest has not started socklab after S seconds "
	  "(default 0: never; a kernel that cannot boot ends the guest "
	  "itself, with panic=-1, and how long a boot takes under TCG "
	  "depends on what else the machine runs)" },
	{ "--timeout S",
	  "give up when socklab has not ended S seconds after the start "
	  "(default 0: never; the experiments have their own deadlines)" },
	{ "--log FILE", "keep the guest's serial console in FILE" },
	{ "--exec",
	  "COMMAND is a program to run in the guest instead of a socklab "
	  "command (a test, a shell command: `--exec -- sh -c ...`); its "
	  "output and exit status come back the same way" },
	{ "-h, --help", "show this help" },
	{ NULL },
};

static const struct cli_help_section vm_sections[] = {
	{ "examples",
	  "  sudo socklab vm --kernel debian:6.1 -- doctor\n"
	  "  sudo socklab vm --kernel debian:6.1 -- run --all --json\n"
	  "  sudo socklab vm --kernel linux-image-6.1.0-57-amd64_6.1.192-3_"
	  "amd64.deb run rst-refused" },
	{ "exit status",
	  "socklab's own in the guest; 2 when the guest could not boot, "
	  "ended without it (a kernel panic) or timed out; 128+N after "
	  "signal N; 77 without QEMU or busybox." },
	{ "files", SL_VM_CACHE_DIR
	  ": the kernel packages, downloaded and "
	  "extracted once.\n\n"
	  "results/<run>/vm.json: the guest's kernel, accelerator and boot "
	  "time; results/<run>/vm-console.txt its console." },
	{ NULL },
};

static const struct cli_help vm_help = {
	.name = "vm",
	.summary = "run socklab on another kernel, in a QEMU guest",
	.usage = vm_usage,
	.text = "Boots KERNEL in a QEMU guest that shares this machine's "
		"root file system read-only (virtio-9p), with an initramfs "
		"made from the kernel's own modules, the kernel's module tree "
		"at /lib/modules/<release>, and the results folder writable; "
		"runs `socklab COMMAND ARGS...` inside, prints what it prints "
		"and exits with its status.  A run's results come back as an "
		"ordinary run folder, whose verdicts name the guest's kernel "
		"and say that it ran in a guest, on which accelerator.  The "
		"guest's console, QEMU and everything made for the guest are "
		"removed on every way out: Ctrl-C, SIGTERM, a panic, a "
		"timeout.  Needs root, qemu-system-x86 and busybox-static "
		"(make deps).",
	.opts = vm_opts,
	.sections = vm_sections,
};

static const char *const help_usage[] = { "socklab help [<command>]", NULL };

static const struct cli_help help_help = {
	.name = "help",
	.summary = "show this help, or a command's",
	.usage = help_usage,
	.text = "Shows socklab's help, or a command's: the same as `socklab "
		"--help` and `socklab <command> --help`.",
	.opts = help_only_opts,
	.sections = no_sections,
};

const struct cli_help *const cli_helps[] = {
	&socklab_help, &list_help,   &run_help,	 &doctor_help, &clean_help,
	&bench_help,   &states_help, &diff_help, &judge_help,  &show_help,
	&shell_help,   &vm_help,     &help_help, NULL,
};

const struct cli_help *cli_help_find(const char *name)
{
	for (int i = 0; cli_helps[i]; i++)
		if (!strcmp(cli_helps[i]->name, name))
			return cli_helps[i];
	return NULL;
}

static int is_top(const struct cli_help *h)
{
	return h == &socklab_help;
}

/* ---- text ---- */

/* The length of the line that starts at s (without its '\n'). */
static size_t line_len(const char *s)
{
	return strcspn(s, "\n");
}

static int verbatim(const char *line)
{
	return line[0] == ' ' && line[1] == ' ';
}

/* Fills the words of s[0..n) to width, the first line after a prefix
 * already printed of col columns, the others indented by indent. */
static void fill(FILE *f, const char *s, size_t n, int col, int indent,
		 int width)
{
	const char *end = s + n;
	int first = 1;

	while (s < end) {
		size_t w;

		while (s < end && (*s == ' ' || *s == '\n'))
			s++;
		if (s == end)
			break;
		w = strcspn(s, " \n");
		if (s + w > end)
			w = end - s;
		if (!first && col + 1 + (int)w > width) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
			first = 1;
		}
		if (!first) {
			fputc(' ', f);
			col++;
		}
		/* Two spaces after a full stop, as the texts are written. */
		if (!first && s[-1] == ' ' && s - 2 >= end - n &&
		    s[-2] == ' ') {
			fputc(' ', f);
			col++;
		}
		fwrite(s, 1, w, f);
		col += (int)w;
		first = 0;
		s += w;
	}
}

/* The paragraphs of text: filled, their verbatim lines as they are; the
 * first one begins after a prefix of col columns.  Every line is
 * indented by indent. */
static void paragraphs(FILE *f, const char *text, int col, int indent,
		       int width)
{
	const char *p = text;

	while (*p) {
		const char *q = p;
		size_t n;

		if (verbatim(p)) {
			n = line_len(p);
			if (col)
				fprintf(f, "\n");
			fprintf(f, "%*s%.*s\n", indent, "", (int)n, p);
			p += n + (p[n] == '\n');
			col = 0;
			continue;
		}
		/* A paragraph: up to a blank line or a verbatim line. */
		while (*q &&
		       !(q[0] == '\n' && (q[1] == '\n' || verbatim(q + 1))))
			q++;
		if (!col)
			fprintf(f, "%*s", indent, "");
		fill(f, p, q - p, col ? col : indent, indent, width);
		fputc('\n', f);
		col = 0;
		p = q;
		if (*p == '\n' && p[1] == '\n') {
			p += 2;
			if (*p)
				fputc('\n', f);
		} else if (*p == '\n') {
			p++;
		}
	}
}

static void text_commands(FILE *f)
{
	for (int i = 1; cli_helps[i]; i++)
		fprintf(f, "  %-8s %s\n", cli_helps[i]->name,
			cli_helps[i]->summary);
}

void cli_help_text(FILE *f, const struct cli_help *h)
{
	int col = 0;

	for (int i = 0; h->usage[i]; i++)
		fprintf(f, "%s%s\n", i ? "       " : "usage: ", h->usage[i]);
	fputc('\n', f);
	paragraphs(f, h->text, 0, 0, TEXT_WIDTH);
	for (int i = 0; h->opts[i].flags; i++) {
		int n = (int)strlen(h->opts[i].flags);

		col = n > col ? n : col;
	}
	col += 2 + 3;
	if (h->opts[0].flags)
		fputc('\n', f);
	for (int i = 0; h->opts[i].flags; i++) {
		const struct cli_help_opt *o = &h->opts[i];

		fprintf(f, "  %-*s", col - 2, o->flags);
		fill(f, o->text, strlen(o->text), col, col, TEXT_WIDTH);
		fputc('\n', f);
	}
	for (int i = 0; h->sections[i].title; i++) {
		const struct cli_help_section *s = &h->sections[i];

		fprintf(f, "\n%s:", s->title);
		if (!s->text) {
			fputc('\n', f);
			text_commands(f);
		} else if (verbatim(s->text)) {
			fputc('\n', f);
			paragraphs(f, s->text, 0, 0, TEXT_WIDTH);
		} else if (strstr(s->text, "\n\n")) {
			/* Several paragraphs: under the title, indented. */
			fputc('\n', f);
			paragraphs(f, s->text, 0, 2, TEXT_WIDTH);
		} else {
			fputc(' ', f);
			paragraphs(f, s->text, (int)strlen(s->title) + 2, 0,
				   TEXT_WIDTH);
		}
	}
}

/* ---- man ---- */

/* s[0..n) in roff: backslashes and hyphens escaped (a hyphen is then the
 * ASCII one, which a reader can copy into a shell), a line never begins
 * with a control character, `code` in bold. */
static void roff(FILE *f, const char *s, size_t n, int at_line_start)
{
	int bold = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (at_line_start && (c == '.' || c == '\''))
			fputs("\\&", f);
		at_line_start = 0;
		if (c == '`') {
			fputs(bold ? "\\fR" : "\\fB", f);
			bold = !bold;
		} else if (c == '\\') {
			fputs("\\e", f);
		} else if (c == '-') {
			fputs("\\-", f);
		} else if (c == '\n') {
			fputc('\n', f);
			at_line_start = 1;
		} else {
			fputc(c, f);
		}
	}
	if (bold)
		fputs("\\fR", f);
}

static void roff_str(FILE *f, const char *s, int at_line_start)
{
	roff(f, s, strlen(s), at_line_start);
}

/* Paragraphs as .PP, verbatim lines as an indented no-fill block. */
static void man_paragraphs(FILE *f, const char *text)
{
	const char *p = text;
	int first = 1;

	while (*p) {
		size_t n;

		if (verbatim(p)) {
			fputs(first ? "" : ".PP\n", f);
			fputs(".RS 4\n.nf\n", f);
			while (*p && verbatim(p)) {
				n = line_len(p);
				roff(f, p + 2, n - 2, 1);
				fputc('\n', f);
				p += n + (p[n] == '\n');
			}
			fputs(".fi\n.RE\n", f);
			if (*p == '\n')
				p++;
		} else {
			const char *q = p;

			while (*q && !(q[0] == '\n' &&
				       (q[1] == '\n' || verbatim(q + 1))))
				q++;
			if (!first)
				fputs(".PP\n", f);
			/* One paragraph, one input line: roff fills it. */
			for (const char *c = p; c < q; c = c + n + 1) {
				n = strcspn(c, "\n");
				if (c + n > q)
					n = q - c;
				roff(f, c, n, c == p);
				fputc(c + n < q ? ' ' : '\n', f);
			}
			p = q;
			while (*p == '\n')
				p++;
		}
		first = 0;
	}
}

/* "-j, --jobs N": each option in bold, each value's name in italics. */
static void man_flags(FILE *f, const char *flags)
{
	const char *p = flags;

	while (*p) {
		size_t part = strcspn(p, ",");
		size_t word = strcspn(p, " ,");

		fputs("\\fB", f);
		roff(f, p, word, 0);
		fputs("\\fR", f);
		if (word < part) {
			fputs(" \\fI", f);
			roff(f, p + word + 1, part - word - 1, 0);
			fputs("\\fR", f);
		}
		p += part;
		if (*p == ',') {
			fputs(", ", f);
			p++;
			while (*p == ' ')
				p++;
		}
	}
	fputc('\n', f);
}

static void man_upper(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc(toupper((unsigned char)*s), f);
}

/* The page's name: socklab, socklab-run. */
static void man_name(FILE *f, const struct cli_help *h, int upper)
{
	if (upper)
		fputs("SOCKLAB", f);
	else
		fputs("socklab", f);
	if (is_top(h))
		return;
	fputs("\\-", f);
	if (upper)
		man_upper(f, h->name);
	else
		roff_str(f, h->name, 0);
}

static void man_synopsis(FILE *f, const struct cli_help *h)
{
	fputs(".SH SYNOPSIS\n.nf\n", f);
	for (int i = 0; h->usage[i]; i++) {
		const char *u = h->usage[i];
		/* The command's own words in bold: "socklab run". */
		size_t cmd = strlen("socklab");

		if (!is_top(h) && !strncmp(u + cmd, " ", 1) &&
		    !strncmp(u + cmd + 1, h->name, strlen(h->name)))
			cmd += 1 + strlen(h->name);
		fputs("\\fB", f);
		roff(f, u, cmd, 1);
		fputs("\\fR", f);
		roff_str(f, u + cmd, 0);
		fputc('\n', f);
	}
	fputs(".fi\n", f);
}

static void man_see_also(FILE *f, const struct cli_help *h)
{
	int first = 1;

	fputs(".SH \"SEE ALSO\"\n", f);
	for (int i = 0; cli_helps[i]; i++) {
		if (cli_helps[i] == h || (!is_top(h) && i > 0))
			continue;
		fprintf(f, "%s.BR ", first ? "" : ",\n");
		man_name(f, cli_helps[i], 0);
		fputs(" (1)", f);
		first = 0;
	}
	fputs(",\n.BR ip\\-netns (8),\n.BR ss (8),\n.BR tcpdump (8)\n", f);
}

void cli_help_man(FILE *f, const struct cli_help *h, const char *version)
{
	fputs(".\\\" Generated by man/socklab-man.c from harness/help.c: "
	      "edit that, not this.\n",
	      f);
	fputs(".TH \"", f);
	man_name(f, h, 1);
	fprintf(f, "\" 1 \"\" \"socklab %s\" \"socklab manual\"\n", version);
	/* Options and ids are typed as they are printed: never hyphenated. */
	fputs(".nh\n", f);
	fputs(".SH NAME\n", f);
	man_name(f, h, 0);
	fputs(" \\- ", f);
	roff_str(f, h->summary, 0);
	fputc('\n', f);
	man_synopsis(f, h);
	fputs(".SH DESCRIPTION\n", f);
	man_paragraphs(f, h->text);
	if (h->opts[0].flags)
		fputs(".SH OPTIONS\n", f);
	for (int i = 0; h->opts[i].flags; i++) {
		fputs(".TP\n", f);
		man_flags(f, h->opts[i].flags);
		roff_str(f, h->opts[i].text, 1);
		fputs(".\n", f);
	}
	for (int i = 0; h->sections[i].title; i++) {
		const struct cli_help_section *s = &h->sections[i];

		fputs(".SH \"", f);
		man_upper(f, s->title);
		fputs("\"\n", f);
		if (s->text) {
			man_paragraphs(f, s->text);
			continue;
		}
		for (int c = 1; cli_helps[c]; c++) {
			fputs(".TP\n.B ", f);
			roff_str(f, cli_helps[c]->name, 0);
			fputc('\n', f);
			roff_str(f, cli_helps[c]->summary, 1);
			fputs(": ", f);
			fputs("\\fB", f);
			man_name(f, cli_helps[c], 0);
			fputs("\\fR(1).\n", f);
		}
	}
	man_see_also(f, h);
}
