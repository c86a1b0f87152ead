#!/usr/bin/env bash
# Failing cleanly: however a run is asked to stop, short of SIGKILL, nothing
# of it is left once socklab has exited: no namespace, no trace instance.
# GNU timeout sends its signal to socklab and then again to its whole
# process group, so socklab sees it twice in a row; a user who presses
# Ctrl-C twice does the same by hand.  The summary says "interrupted by
# SIGINT" once, and names `socklab clean`.
#
# The runs are of tests/negative's role-hang (roles that block until
# stopped), through the real CLI; one more is the real timewait-duration
# under `timeout -s INT`, as a user would type it.
# usage: interrupt_twice.sh <socklab binary> <build dir>
set -u
socklab=$(realpath "$1") build=$(realpath "$2")
if [ "$(id -u)" != 0 ]; then echo "skipped: needs root (network namespaces)"; exit 77; fi
. "$(dirname "$0")/common.bash"
# Other runs on this machine sweep dead runs' namespaces when they start:
# they must not remove this test's leftovers before it looks for them.
private_netns "$0" "$@"
out=$(mktemp -d /tmp/socklab-interrupt-XXXXXX)
trap 'rm -rf "$out"' EXIT
instances=/sys/kernel/tracing/instances

# Waits (bounded) until the run under $1 has its namespaces up and its
# roles connected.
wait_blocking() {
	local i server
	for i in $(seq 1 300); do
		server=$(run_netns "$1" | grep server | head -1)
		[ -n "$server" ] && [ -e "/run/netns/$server" ] &&
			ip netns exec "$server" ss -tn 2>/dev/null | grep -q ESTAB &&
			return 0
		sleep 0.05
	done
	return 1
}

# The trace instances of the run under $1 still there.  The instance of a
# slot that a live run holds now is that run's, not a leftover of ours
# (the machine's instances are shared, unlike this test's /run/netns).
instances_left() {
	local ns slot
	for slot in $(run_netns "$1" | sed -n 's/^socklab-\([0-9]*\)-.*/\1/p' | sort -u); do
		[ -d "$instances/socklab-$slot" ] || continue
		flock -n "/run/socklab/slot-$slot.lock" true 2>/dev/null &&
			echo "socklab-$slot"
	done
}

# The checks after a run under $1 whose output is in $1.log; $2 names it.
# (check evaluates its condition in here: it sees run and log, not $1.)
nothing_left() {
	local run=$1 what=$2 log=$1.log left n
	check "$what: no namespace left" 'none_left "$run"'
	if [ -d "$instances" ]; then
		left=$(instances_left "$run" | tr '\n' ' ')
		check "$what: no trace instance left${left:+ (left: $left)}" '[ -z "$left" ]'
	fi
	n=$(grep -c "interrupted by SIG" "$log")
	check "$what: \"interrupted by SIG...\" printed once (got $n)" '[ "$n" = 1 ]'
	check "$what: that message names socklab clean" \
		'grep -q "interrupted by SIG.*socklab clean" "$log"'
}

# Starts role-hang into $1, waits until it blocks, sends the signals $2...
# and waits for socklab.  Each signal but the first waits (bounded) for
# socklab to say it is stopping, as a user pressing Ctrl-C again does;
# GNU timeout's two come back to back (case 2).
signals_by_hand() {
	local dir=$1 pid sig want
	shift
	want=$((128 + $(kill -l "$1")))
	SOCKLAB_EXPERIMENTS_DIR=$build/negative-experiments \
		"$socklab" run --results "$dir" role-hang >"$dir.log" 2>&1 &
	pid=$!
	if ! wait_blocking "$dir"; then
		kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null
		check "$*: the run got going within 15 s" false
		return 1
	fi
	for sig in "$@"; do
		for _ in $(seq 1 100); do
			grep -q stopping "$dir.log" && break
			[ "$sig" = "$1" ] && break
			sleep 0.02
		done
		kill -"$sig" $pid 2>/dev/null	# the run may be over already
	done
	wait $pid
	rc=$?
	check "$*: socklab exits $want (128 + the first signal), got $rc" \
		'[ $rc = $want ]'
}

# 1. Ctrl-C twice, by hand; then SIGTERM twice, SIGINT then SIGTERM, and
# the signals a closed terminal or Ctrl-\ sends.
for sigs in "INT INT" "TERM TERM" "INT TERM" "HUP" "QUIT" "HUP INT INT"; do
	dir=$out/$(echo "$sigs" | tr ' ' -)
	mkdir -p "$dir"
	# shellcheck disable=SC2086
	signals_by_hand "$dir" $sigs && nothing_left "$dir" "$sigs"
	[ $fail = 0 ] || { echo "--- $sigs:"; cat "$dir.log"; }
done

# 2. GNU timeout: SIGINT to socklab, then to its process group, 3 s into
# the real timewait-duration (its variants wait out TIME-WAIT, so they are
# mid-flight then).  On a machine so busy that the run has made nothing in
# 3 s (socklab then dies of the signal with nothing to leave), again with
# a longer deadline.
for secs in 3 6 12; do
	dir=$out/timeout-$secs
	mkdir -p "$dir"
	timeout -s INT $secs "$socklab" run --results "$dir" timewait-duration >"$dir.log" 2>&1
	rc=$?
	[ -n "$(run_netns "$dir")" ] && break
	echo "note: timeout -s INT $secs: the run had made no namespace yet"
done
check "timeout -s INT $secs: timeout reports the deadline (124), got $rc" '[ $rc = 124 ]'
check "timeout -s INT $secs: the run made its namespaces in time" '[ -n "$(run_netns "$dir")" ]' &&
	nothing_left "$dir" "timeout -s INT $secs"
[ $fail = 0 ] || { echo "--- timeout:"; cat "$dir.log"; }
exit $fail
