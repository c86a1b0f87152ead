#!/usr/bin/env bash
# A run's trace instance goes with the run on every exit path it gets to
# take (checked for SIGTERM, and for every ordinary run by the last check);
# what a SIGKILLed run leaves (instances/socklab-<slot>, its slot lock now
# free) is removed by `socklab clean`, and by the next run.  Uses
# tests/negative/role-hang, whose roles block until they are killed.
# usage: trace_cleanup.sh <socklab binary> <build dir>
set -u
socklab=$(realpath "$1") build=$(realpath "$2")
if [ "$(id -u)" != 0 ]; then echo "skipped: needs root (network namespaces)"; exit 77; fi
if ! "$socklab" doctor | grep -q '^tracefs *yes'; then
	echo "skipped: no tracefs here ($("$socklab" doctor | grep '^tracefs'))"; exit 77
fi
tracefs=${SOCKLAB_TRACEFS:-/sys/kernel/tracing}
out=$(mktemp -d /tmp/socklab-trace-clean-XXXXXX)
trap 'rm -rf "$out"' EXIT
. "$(dirname "$0")/common.bash"

# The slot of the run writing into $1, from its commands.sh.
slot_of() {
	cat "$1"/*/*/*/commands.sh 2>/dev/null |
		awk '$1 == "ip" && $2 == "netns" && $3 == "add" { split($4, a, "-"); print a[2]; exit }'
}
# Waits (bounded) until the run has its instance and its roles block.
wait_traced() {
	local i s
	for i in $(seq 1 200); do
		s=$(slot_of "$1")
		[ -n "$s" ] && [ -d "$tracefs/instances/socklab-$s" ] &&
			ip netns exec "socklab-$s-server" ss -tn 2>/dev/null | grep -q ESTAB && return 0
		sleep 0.05
	done
	return 1
}
# Every process under $1, by id.
descendants() {
	local c
	for c in $(ps -o pid= --ppid "$1"); do echo "$c"; descendants "$c"; done
}
# SIGKILL to the run and all of its processes: nobody cleans up.  They are
# stopped first, since one dying makes the others tidy up (a variant gets
# SIGTERM when its parent dies) in the microseconds kill(1) takes to reach
# them all.
kill_run() {
	local pids i alive p
	pids="$1 $(descendants "$1")"
	kill -STOP $pids 2>/dev/null
	kill -KILL $pids 2>/dev/null
	wait "$1" 2>/dev/null
	for i in $(seq 1 100); do
		alive=0
		for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && return 0
		sleep 0.05
	done
	return 1
}
start_hang() {
	SOCKLAB_EXPERIMENTS_DIR=$build/negative-experiments \
		"$socklab" run --results "$1" role-hang >/dev/null 2>&1 &
}

# 1. SIGTERM: the run tears its instance down itself.
start_hang "$out/term"
pid=$!
if wait_traced "$out/term"; then
	s=$(slot_of "$out/term")
	kill -TERM $pid
	wait $pid
	check "SIGTERM: instance socklab-$s removed by the run" '[ ! -d "$tracefs/instances/socklab-$s" ]'
else
	kill_run $pid
	check "SIGTERM: run got its instance within 10 s" false
fi

# Leaves a SIGKILLed run's instance behind, in slot $left, and holds that
# slot's lock (fd 9) from the moment the dead run lets go of it: on a shared
# machine any other socklab run starting meanwhile would clean the leftover
# up first (that is its job) and the checks below would prove nothing.
# release() lets go; the caller then acts at once.
leave_one() {
	local try fl
	for try in 1 2 3; do
		start_hang "$1.$try"
		pid=$!
		if ! wait_traced "$1.$try"; then
			kill_run $pid
			continue
		fi
		left=$(slot_of "$1.$try")
		exec 9<"/run/socklab/slot-$left.lock"
		flock 9 &
		fl=$!
		kill_run $pid
		wait $fl
		[ -d "$tracefs/instances/socklab-$left" ] && return 0
		release
	done
	return 1
}
release() { exec 9<&-; }

# 2. SIGKILL, then socklab clean.
if leave_one "$out/kill1"; then
	s=$left
	echo "ok: SIGKILL: instance socklab-$s left behind"
	release
	"$socklab" clean >"$out/clean.txt" 2>&1
	check "socklab clean: removed it" '[ ! -d "$tracefs/instances/socklab-$s" ]'
	check "socklab clean: said so" 'grep -q "rmdir .*instances/socklab-$s\$" "$out/clean.txt"'
	check "socklab clean: and the namespaces" '[ ! -e "/run/netns/socklab-$s-client" ]'
else
	check "SIGKILL: a run left its instance behind" false
fi

# 3. SIGKILL, then the next run cleans up before it starts.
if leave_one "$out/kill2"; then
	s=$left
	echo "ok: SIGKILL again: instance socklab-$s left behind"
	release
	"$socklab" run --quiet --results "$out/next" rst-refused >/dev/null 2>&1
	check "the next run removed it" '[ ! -d "$tracefs/instances/socklab-$s" ]'
else
	check "SIGKILL again: a run left its instance behind" false
fi

# 4. Ordinary runs, many variants at once: the catalogue but its minute-long
# TIME-WAIT, twice.  The link emulator is forked while the trace reader
# opens the instance's files, and so holds copies of them until it is
# stopped; an instance removed before that was refused (EBUSY) and stayed
# behind, a few variants in a whole run.
ids=$("$socklab" list | awk 'NR > 1 && $1 != "timewait-duration" { print $1 }')
for i in 1 2; do
	"$socklab" run --quiet --results "$out/many$i" $ids >/dev/null 2>&1
done
many=$(cat "$out"/many*/*/*/*/commands.sh 2>/dev/null |
	awk '$1 == "ip" && $2 == "netns" && $3 == "add" { split($4, a, "-"); print a[2] }' |
	sort -u)
stayed=0
for s in $many; do
	[ -d "$tracefs/instances/socklab-$s" ] && { echo "  left: socklab-$s"; stayed=1; }
done
check "$(echo $many | wc -w) variants of the catalogue: no instance left" \
	'[ -n "$many" ] && [ $stayed = 0 ]'

# 5. No instance of a finished run remains: every slot our runs used.
for d in "$out"/*/; do
	[ -d "$d" ] || continue
	s=$(slot_of "$d")
	[ -n "$s" ] || continue
	check "slot $s: no instance left" '[ ! -d "$tracefs/instances/socklab-$s" ]'
done
# The machine's own tracing was never touched.
check "top-level tracing_on still 1" '[ "$(cat "$tracefs/tracing_on")" = 1 ]'
check "top-level events all off" '! grep -q . "$tracefs/set_event"'
check "top-level clock still local" 'grep -q "\[local\]" "$tracefs/trace_clock"'
exit $fail
