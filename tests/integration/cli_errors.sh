#!/usr/bin/env bash
# The socklab CLI's error paths: a mistake on the command line, a results
# folder that cannot be written or a missing root is one line on stderr, the
# documented exit status, and nothing created (no namespace, no results
# folder); an experiment that hangs is stopped at its deadline and leaves no
# process; a Ctrl-C stops the run with 130 and leaves no process.
#
# The experiments here are fakes written by this script (shell scripts that
# follow lib/protocol.h), so that the CLI is tested on its own, whatever the
# state of the real experiments.
# usage: cli_errors.sh <socklab binary> <build dir>
set -u
bin=$(realpath "$1")
if [ "$(id -u)" != 0 ]; then
	echo "skipped: needs root (socklab run checks root first)"
	exit 77
fi
[ -x "$bin" ] || { echo "missing $bin"; exit 1; }

# Other socklab runs may share this machine (a parallel ctest, a developer)
# and create or leave namespaces while this test looks.  So the test runs in
# a mount namespace of its own with an empty /run/netns over the real one:
# `ip netns list` then shows exactly the namespaces created from here, which
# is what "did not grow" means.
if [ -z "${SOCKLAB_CLI_ERRORS_PRIVATE:-}" ] && [ -d /run/netns ] &&
	command -v unshare > /dev/null; then
	export SOCKLAB_CLI_ERRORS_PRIVATE=1
	exec unshare --mount --propagation private bash "$0" "$@"
fi
if [ -n "${SOCKLAB_CLI_ERRORS_PRIVATE:-}" ]; then
	mount -t tmpfs -o size=1m socklab-test /run/netns ||
		{ echo "cannot mount a private /run/netns"; exit 1; }
fi

tmp=$(mktemp -d /tmp/socklab-cli-errors-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
exps=$tmp/experiments
work=$tmp/work
mkdir -p "$exps" "$work"
export SOCKLAB_EXPERIMENTS_DIR=$exps

# One fake experiment script, behaving after the name it is called by.
# hang-* write their pid and their sleeper's pid to $SOCKLAB_FAKE_PIDS, so
# that the test can check those processes are gone afterwards.
cat > "$tmp/fake" <<'EOF'
#!/usr/bin/env bash
id=$(basename "$0")
if [ "$1" = --describe ]; then
	printf '{"id":"%s","claim":"fake %s","expected":"CONFIRMED","timeout_s":30,"variants":["only"]}\n' "$id" "$id"
	exit 0
fi
dir= progress=
while [ $# -gt 0 ]; do
	case $1 in
	--results) dir=$2; shift 2 ;;
	--progress-fd) progress=$2; shift 2 ;;
	*) shift ;;
	esac
done
mkdir -p "$dir"
case $id in
pass)
	printf '{"id":"%s","claim":"fake","verdict":"CONFIRMED","expected":"CONFIRMED","status":"pass","duration_s":0.1,"results":"%s","variants":[],"measured":{}}\n' "$id" "$dir"
	exit 0 ;;
hang)
	sleep 1000 &
	echo "$$ $!" >> "$SOCKLAB_FAKE_PIDS"
	wait
	exit 0 ;;
hang-ignoring-term)
	trap '' TERM
	sleep 1000 &
	echo "$$ $!" >> "$SOCKLAB_FAKE_PIDS"
	while :; do wait; done ;;
slow-setup)
	# Two harness phases that take more than --timeout together (as on
	# a loaded machine), then roles that take most of it again.
	sleep 1.2
	printf p >&"$progress"
	sleep 1.2
	printf p >&"$progress"
	printf r >&"$progress"
	sleep 1.5
	printf '{"id":"%s","claim":"fake","verdict":"CONFIRMED","expected":"CONFIRMED","status":"pass","duration_s":3.9,"results":"%s","variants":[],"measured":{}}\n' "$id" "$dir"
	exit 0 ;;
hang-after-roles)
	sleep 0.5
	printf r >&"$progress"
	sleep 1000 &
	echo "$$ $!" >> "$SOCKLAB_FAKE_PIDS"
	wait
	exit 0 ;;
hang-in-phase)
	sleep 0.5
	printf p >&"$progress"
	sleep 1000 &
	echo "$$ $!" >> "$SOCKLAB_FAKE_PIDS"
	wait
	exit 0 ;;
esac
EOF
chmod 755 "$tmp/fake"
for id in pass hang hang-ignoring-term slow-setup hang-after-roles \
	hang-in-phase; do
	ln -s ../fake "$exps/$id"
done
export SOCKLAB_FAKE_PIDS=$tmp/pids

fail=0
bad() {
	echo "FAIL: $*"
	fail=1
}

ns_list() {
	ip netns list 2>/dev/null | awk '{ print $1 }' | grep '^socklab' | sort
}

# A namespace that appeared during the test but belongs to a live run of
# somebody else (its slot lock is held, lib/topology.h) is not ours.
slot_held() {
	local f=/run/socklab/slot-$1.lock
	[ -e "$f" ] && ! flock -n "$f" true 2>/dev/null
}

new_namespaces() {
	comm -13 <(printf '%s\n' "$ns_before") <(ns_list) | while read -r ns; do
		slot=$(sed -n 's/^socklab-\([0-9][0-9]*\)-.*/\1/p' <<< "$ns")
		if [ -n "$slot" ] && slot_held "$slot"; then
			continue
		fi
		echo "$ns"
	done
}

# expect_one_line <exit status> <description> <command...>: the command
# prints nothing on stdout and exactly one line on stderr.
expect_one_line() {
	local want=$1 what=$2 rc
	shift 2
	(cd "$work" && "$@") > "$tmp/out" 2> "$tmp/err"
	rc=$?
	if [ "$rc" != "$want" ]; then
		bad "$what: exit $rc, expected $want"
	fi
	if [ "$(wc -l < "$tmp/err")" != 1 ]; then
		bad "$what: expected one line on stderr, got:"
		sed 's/^/    /' "$tmp/err"
	fi
	if [ -s "$tmp/out" ]; then
		bad "$what: unexpected stdout:"
		sed 's/^/    /' "$tmp/out"
	fi
	echo "ok: $what -> $rc: $(head -n 1 "$tmp/err")"
}

# Each experiment leads its own process group (pgid = the fake's $$, the
# first pid of each line): nothing may remain in any of them.
# Neither a fake nor its sleeper, nor anything of their groups, runs on
# after case $1.
no_process_left() {
	local pid pgid
	for pid in $(cat "$SOCKLAB_FAKE_PIDS"); do
		kill -0 "$pid" 2>/dev/null && bad "$1: process $pid still runs"
	done
	for pgid in $(awk '{ print $1 }' "$SOCKLAB_FAKE_PIDS"); do
		pgrep -g "$pgid" > /dev/null &&
			bad "$1: process group $pgid still has processes"
	done
}

ns_before=$(ns_list)

expect_one_line 64 "unknown experiment" "$bin" run no-such-experiment
grep -q "did you mean" "$tmp/err" &&
	bad "unknown experiment: a suggestion for an id near nothing"
expect_one_line 64 "an id one letter off" "$bin" run pas
grep -q "did you mean 'pass'?" "$tmp/err" ||
	bad "an id one letter off: no \"did you mean 'pass'?\""
expect_one_line 64 "-j past its range" "$bin" run -j 10000 pass
grep -q "from 1 to 4096, not '10000'" "$tmp/err" ||
	bad "-j past its range: the message does not give the range"
expect_one_line 64 "unknown option" "$bin" run --foo pass
expect_one_line 64 "unknown short option" "$bin" run -x pass
expect_one_line 64 "option without its value" "$bin" run pass --timeout
expect_one_line 64 "unknown command" "$bin" frobnicate
expect_one_line 2 "results folder cannot be written" \
	"$bin" run --results /proc/socklab-nope pass
grep -q "cannot write results folder '/proc/socklab-nope'" "$tmp/err" ||
	bad "results folder: message does not name the folder"
# Only the last folder of --results is created (mkdir, not mkdir -p): a
# missing folder above it is refused, and nothing is created on the way.
expect_one_line 2 "results folder under a missing folder" \
	"$bin" run --results "$tmp/missing/deep/dir" pass
grep -q "a folder above it does not exist" "$tmp/err" ||
	bad "results under a missing folder: the message does not say why"
[ -e "$tmp/missing" ] && bad "--results created $tmp/missing on the way"
# --version: one line, "socklab <version>", as ip -V and tcpdump say theirs.
version=$("$bin" --version 2> "$tmp/err")
rc=$?
if [ "$rc" != 0 ] || ! grep -Eq '^socklab [^ ]+$' <<< "$version" ||
	[ -s "$tmp/err" ]; then
	bad "--version: exit $rc, said '$version'"
else
	echo "ok: --version -> $version"
fi

if setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$bin"; then
	expect_one_line 77 "run as non-root" \
		setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$bin" run pass
	grep -q "needs root" "$tmp/err" || bad "non-root: message lacks 'needs root'"
else
	# Not a pass: say why this case did not run.
	bad "uid 65534 cannot execute $bin (a parent folder is not searchable)"
fi

before=$fail
fail=0
[ -e "$work/results" ] && bad "a results folder was created by an error path"
[ -e /proc/socklab-nope ] && bad "/proc/socklab-nope exists"
leaked=$(new_namespaces)
[ -n "$leaked" ] && bad "namespaces appeared: $leaked"
[ "$fail" = 0 ] &&
	echo "ok: no results folder and no namespace created by the error paths"
fail=$((fail | before))

# A hang: --timeout 1, the experiment ignores SIGTERM, so it takes the
# SIGKILL after the 5 s grace: an error within about 6 s, and nothing of it
# left running.
: > "$SOCKLAB_FAKE_PIDS"
start=$(date +%s%N)
(cd "$work" && "$bin" run --timeout 1 --results "$tmp/res" hang \
	hang-ignoring-term) > "$tmp/out" 2> "$tmp/err"
rc=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
[ "$rc" = 2 ] || bad "timeout: exit $rc, expected 2"
if [ "$elapsed_ms" -gt 8000 ] || [ "$elapsed_ms" -lt 5000 ]; then
	bad "timeout: took $elapsed_ms ms, expected about 6 s (1 s + 5 s grace)"
fi
for id in hang hang-ignoring-term; do
	grep -q "^$id: timed out after 1 s" "$tmp/out" ||
		bad "timeout: no 'timed out after 1 s' reason for $id"
done
grep -q "0 passed, 0 failed, 2 errors" "$tmp/out" ||
	bad "timeout: summary line missing"
[ "$(wc -w < "$SOCKLAB_FAKE_PIDS")" = 4 ] ||
	bad "timeout: the fakes did not start (pids: $(cat "$SOCKLAB_FAKE_PIDS"))"
no_process_left timeout
echo "ok: timeout -> $rc in $elapsed_ms ms, no process left"

# The deadline counts again from each sign of progress on --progress-fd
# (harness/deadline.c): harness phases and roles longer than --timeout
# together are no hang when each says it is over, and a hang after one is
# stopped a whole --timeout later, saying after what.
: > "$SOCKLAB_FAKE_PIDS"
start=$(date +%s%N)
(cd "$work" && "$bin" run --timeout 2 --results "$tmp/res" slow-setup \
	hang-after-roles hang-in-phase) > "$tmp/out" 2> "$tmp/err"
rc=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
[ "$rc" = 2 ] || bad "progress: exit $rc, expected 2"
grep -q "^slow-setup .* pass " "$tmp/out" ||
	bad "progress: slow-setup did not pass past --timeout 2: $(cat "$tmp/out" "$tmp/err")"
grep -q "^hang-after-roles: timed out 2 s after its roles started" "$tmp/out" ||
	bad "progress: no 'timed out 2 s after its roles started' for hang-after-roles"
grep -q "^hang-in-phase: timed out 2 s after the last phase of its harness ended" "$tmp/out" ||
	bad "progress: no 'timed out 2 s after the last phase ...' for hang-in-phase"
[ "$elapsed_ms" -ge 2500 ] ||
	bad "progress: over in $elapsed_ms ms, before its roles' start (0.5 s) and 2 s"
no_process_left progress
echo "ok: deadline from the latest progress -> $rc in $elapsed_ms ms"

# Ctrl-C in the middle of a run: SIGINT once the hanging experiment has
# started (its pid file says so) and the passing one has finished (its
# progress line is on stderr), then exit 130 and no process left.  Both
# run at once, so either can come first; the signal waits for both.
: > "$SOCKLAB_FAKE_PIDS"
(cd "$work" && exec "$bin" run --results "$tmp/res" pass hang) \
	> "$tmp/out" 2> "$tmp/err" &
runner=$!
for _ in $(seq 100); do
	[ -s "$SOCKLAB_FAKE_PIDS" ] && grep -q '^\[[0-9]*/2\] pass: ' "$tmp/err" &&
		break
	sleep 0.1
done
[ -s "$SOCKLAB_FAKE_PIDS" ] || bad "sigint: the hanging experiment never started"
grep -q '^\[[0-9]*/2\] pass: ' "$tmp/err" ||
	bad "sigint: the passing experiment never finished"
kill -INT "$runner"
wait "$runner"
rc=$?
[ "$rc" = 130 ] || bad "sigint: exit $rc, expected 130"
grep -q "^hang: interrupted$" "$tmp/out" ||
	bad "sigint: no 'interrupted' reason for hang"
grep -q "^interrupted by SIGINT" "$tmp/out" ||
	bad "sigint: the summary does not name the signal"
grep -q "^pass .* pass " "$tmp/out" ||
	bad "sigint: the finished experiment is missing from the summary"
no_process_left sigint
echo "ok: SIGINT -> $rc, no process left"

leaked=$(new_namespaces)
[ -n "$leaked" ] && bad "namespaces appeared: $leaked"

if [ "$fail" != 0 ]; then
	echo "--- last stdout:"; cat "$tmp/out"
	echo "--- last stderr:"; cat "$tmp/err"
fi
exit $fail
