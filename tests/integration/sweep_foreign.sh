#!/usr/bin/env bash
# The sweep of leftovers (lib/sweep.h) removes only names socklab makes, and
# only those of a run that died: namespaces named socklab-250-foreign and
# socklab-0251-notmine, and a trace instance socklab-S of a slot that no run
# of socklab had, belong to somebody else and survive a run (which sweeps
# first) and `socklab clean`.  (They were removed by every run before.)  So
# do trace instances socklab-doctor-+N and socklab-doctor-0N, which look
# like a dead doctor's socklab-doctor-N to a loose number parser.
# usage: sweep_foreign.sh <socklab binary> <build dir>
set -u
socklab=$(realpath "$1")
if [ "$(id -u)" != 0 ]; then echo "skipped: needs root (network namespaces)"; exit 77; fi
. "$(dirname "$0")/common.bash"
# Other socklab processes on this machine sweep too: the foreign namespaces
# live in a private /run/netns, so that only this test's runs could take
# them.
private_netns "$0" "$@"
out=$(mktemp -d /tmp/socklab-sweep-XXXXXX)

tracefs=${SOCKLAB_TRACEFS:-/sys/kernel/tracing}
foreign_ns="socklab-250-foreign socklab-0251-notmine"
mkdir -p /run/socklab
# Trace instances are the machine's, not the mount namespace's.  The
# instance's slot must be one that no run of socklab has had (no lock
# file): 252 unless a killed run left one there.  A kept mark keeps the
# slot from being claimed while the test runs, since a run that held it
# would rightly own the name; the mark alone is no sign of a dead run.
slot=
for s in 252 253 254 255; do
	[ -e "/run/socklab/slot-$s.lock" ] || [ -e "/run/socklab/slot-$s.kept" ] ||
		[ -e "$tracefs/instances/socklab-$s" ] || { slot=$s; break; }
done
instance=
if [ -n "$slot" ] && [ -d "$tracefs/instances" ]; then
	instance=$tracefs/instances/socklab-$slot
	: > "/run/socklab/slot-$slot.kept"
	mkdir "$instance" || { echo "cannot mkdir $instance"; exit 1; }
else
	echo "note: no tracefs or no free slot in 252-255: the instance is not tried"
fi
# A pid that is not running: a doctor of that pid would be dead.
pid=4000000
while kill -0 "$pid" 2>/dev/null; do pid=$((pid + 1)); done
doctors=
if [ -d "$tracefs/instances" ]; then
	for d in "socklab-doctor-+$pid" "socklab-doctor-0$pid"; do
		mkdir "$tracefs/instances/$d" &&
			doctors="$doctors $tracefs/instances/$d"
	done
fi
cleanup() {
	local ns d
	for d in $doctors; do rmdir "$d" 2>/dev/null; done
	for ns in $foreign_ns; do ip netns del "$ns" 2>/dev/null; done
	[ -n "$instance" ] && rmdir "$instance" 2>/dev/null
	[ -n "$slot" ] && rm -f "/run/socklab/slot-$slot.kept"
	rm -rf "$out"
}
trap cleanup EXIT
for ns in $foreign_ns; do
	ip netns add "$ns" || { echo "cannot add namespace $ns"; exit 1; }
done

survived() {
	local ns
	for ns in $foreign_ns; do
		check "$1: namespace $ns is still there" '[ -e "/run/netns/$ns" ]'
	done
	[ -z "$instance" ] ||
		check "$1: trace instance socklab-$slot is still there" '[ -d "$instance" ]'
	for d in $doctors; do
		check "$1: trace instance ${d##*/} is still there" '[ -d "$d" ]'
	done
}

"$socklab" run --quiet --results "$out/run" rst-refused >"$out/run.txt" 2>&1
rc=$?
check "the run went through (exit $rc)" '[ $rc = 0 ]'
survived "after a run"
"$socklab" clean >"$out/clean.txt" 2>&1
sed 's/^/  clean: /' "$out/clean.txt"
survived "after socklab clean"
check "socklab clean named none of them" \
	'! grep -q "socklab-250-foreign\|socklab-0251-notmine\|instances/socklab-$slot\$" "$out/clean.txt"'
exit $fail
