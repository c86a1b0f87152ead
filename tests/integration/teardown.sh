#!/usr/bin/env bash
# Every exit path tears the run's namespaces down: a role that crashes, roles
# that hang past the timeout, SIGINT and SIGTERM in the middle of a run; and
# what a SIGKILLed run leaves behind is removed by `socklab clean`.  Uses the
# experiments in tests/negative, through the real CLI.
# usage: teardown.sh <socklab binary> <build dir>
set -u
socklab=$(realpath "$1") build=$(realpath "$2")
if [ "$(id -u)" != 0 ]; then echo "skipped: needs root (network namespaces)"; exit 77; fi
export SOCKLAB_EXPERIMENTS_DIR=$build/negative-experiments
. "$(dirname "$0")/common.bash"
# Other socklab runs on this machine remove the leftovers of dead runs
# when they start, which would hide whether this test's SIGKILLed run left
# any.
private_netns "$0" "$@"
out=$(mktemp -d /tmp/socklab-teardown-XXXXXX)
trap 'rm -rf "$out"' EXIT

# Waits (bounded) until the run has built its namespaces and its roles block.
wait_blocking() {
	local i
	for i in $(seq 1 200); do
		[ -n "$(run_netns "$1")" ] && [ -e "/run/netns/$(run_netns "$1" | head -1)" ] &&
			ip netns exec "$(run_netns "$1" | grep server)" ss -tn 2>/dev/null | grep -q ESTAB && return 0
		sleep 0.05
	done
	return 1
}

# 1. A role that crashes: ERROR (exit 2), the signal named, nothing left.
"$socklab" run --json --results "$out/crash" role-crash >"$out/crash.json" 2>/dev/null
rc=$?
check "crashing role: exit 2 (error), got $rc" '[ $rc = 2 ]'
check "crashing role: reported with its signal" 'grep -q "signal 6" "$out/crash.json"'
check "crashing role: namespaces removed" 'none_left "$out/crash"'

# 2. Roles that hang: stopped at the experiment's 3 s timeout, ERROR.
start=$(date +%s%N)
"$socklab" run --json --results "$out/hang" role-hang >"$out/hang.json" 2>/dev/null
rc=$? took=$(( ($(date +%s%N) - start) / 1000000 ))
check "hanging roles: exit 2 (error), got $rc" '[ $rc = 2 ]'
check "hanging roles: reason is the timeout" 'grep -q "did not finish within 3 s" "$out/hang.json"'
check "hanging roles: stopped after ${took} ms (3 s timeout, < 8 s)" '[ $took -ge 3000 ] && [ $took -lt 8000 ]'
check "hanging roles: namespaces removed" 'none_left "$out/hang"'

# 3 and 4. SIGINT and SIGTERM in the middle of a run.
for sig in INT TERM; do
	"$socklab" run --results "$out/sig$sig" role-hang >/dev/null 2>&1 &
	pid=$!
	if wait_blocking "$out/sig$sig"; then
		kill -$sig $pid
		wait $pid
		rc=$?
		check "SIG$sig: socklab exits 130/143, got $rc" '[ $rc = 130 ] || [ $rc = 143 ]'
		check "SIG$sig: namespaces removed" 'none_left "$out/sig$sig"'
	else
		kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null
		check "SIG$sig: run got going within 10 s" false
	fi
done

# Runs role-hang into $1 and SIGKILLs it once it blocks, leaving its
# namespaces behind; holds the dead run's slot lock (fd 9) from the moment
# the run lets go: the lock file is what tells the sweep that a run of
# socklab had the slot (lib/sweep.h), and nobody else must sweep the slot
# before the caller does (release() lets go).  $slot is the dead run's.
kill_run() {
	local pid pids fl i p alive leftover
	"$socklab" run --results "$1" role-hang >/dev/null 2>&1 &
	pid=$!
	if ! wait_blocking "$1"; then
		kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null
		check "SIGKILL: run got going within 10 s" false
		return 1
	fi
	# Every process of the run at once, socklab and the experiment's
	# own, so that nobody gets to clean up.
	pids=$(pgrep -f "negative-experiments/role-hang --run --results $1")
	slot=$(run_netns "$1" | head -1 | cut -d- -f2)
	exec 9<"/run/socklab/slot-$slot.lock"
	flock 9 &
	fl=$!
	kill -KILL $pid $pids 2>/dev/null
	wait $pid 2>/dev/null
	# SIGKILL is delivered asynchronously: wait (bounded) until every one
	# of them is gone, so that their slot lock is really released.
	for i in $(seq 1 100); do
		alive=0
		for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.05
	done
	wait $fl
	leftover=$(run_netns "$1" | while read -r ns; do [ -e "/run/netns/$ns" ] && echo "$ns"; done)
	check "SIGKILL: namespaces were left behind (so the next check means something)" '[ -n "$leftover" ]'
}
release() { exec 9<&-; }

# 5. SIGKILL leaves namespaces behind; socklab clean removes them.
if kill_run "$out/kill"; then
	release
	"$socklab" clean >/dev/null 2>&1
	check "SIGKILL: socklab clean removed them" 'none_left "$out/kill"'
fi

# 6. The same, and the next run removes them first and says so.  (Only
# this test's runs see its private /run/netns.)
if kill_run "$out/kill2"; then
	release
	"$socklab" run --quiet --results "$out/next" role-crash >/dev/null 2>"$out/next.err"
	check "SIGKILL: the next run removed them" 'none_left "$out/kill2"'
	check "SIGKILL: the next run said so" \
		'grep -q "leftovers of killed runs found" "$out/next.err" &&
		 grep -q "^ip netns del socklab-$slot-client\$" "$out/next.err"'
fi
exit $fail
