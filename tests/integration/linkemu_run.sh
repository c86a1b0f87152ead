#!/usr/bin/env bash
# The link emulator through the real CLI, with rcvtimeo-abort (a delay from
# SETUP on each variant):
#  1. the results name the backend that served the delay, the one `socklab
#     doctor` says this machine gets, and so does commands.sh;
#  2. SIGTERM while the emulator holds the SYN: the emulator process ends
#     with the run and nothing is left;
#  3. --keep: the kept router has no NFQUEUE rule that nobody reads (its
#     path forwards again), and the emulator process is gone.
# usage: linkemu_run.sh <socklab binary> <build dir>
set -u
socklab=$(realpath "$1")
if [ "$(id -u)" != 0 ]; then echo "skipped: needs root (network namespaces)"; exit 77; fi
out=$(mktemp -d /tmp/socklab-linkemu-XXXXXX)
trap 'rm -rf "$out"' EXIT
. "$(dirname "$0")/common.bash"

# The processes of a run's experiment (each variant's process and its
# emulator share the command line).
run_procs() { pgrep -f "experiments/rcvtimeo-abort --run --results $1"; }
# Bounded wait until every process of a run is gone: a reaped child
# vanishes at once, SIGKILL delivery takes a moment.
procs_gone() {
	local i
	for i in $(seq 1 100); do
		[ -z "$(run_procs "$1")" ] && return 0
		sleep 0.02
	done
	run_procs "$1" | sed 's/^/  still running: /'
	return 1
}

# 1. The backend, in the results and in commands.sh.
want=linkemu
"$socklab" doctor | grep -q '^sch_netem  *yes' && want=netem
"$socklab" run --json --results "$out/a" rcvtimeo-abort >"$out/a.json" 2>/dev/null
rc=$?
check "rcvtimeo-abort passes (NUANCED), got exit $rc" '[ $rc = 0 ]'
check "both variants name the backend \"$want\"" \
	'[ "$(grep -o "\"backend\":\"$want\"" "$out/a.json" | wc -l)" = 2 ]'
check "commands.sh says \"backend $want\" and shows the rule or qdisc" \
	'grep -q "backend $want" "$out"/a/*/rcvtimeo-abort/sndtimeo_*/commands.sh &&
	 grep -Eq "NFQUEUE --queue-num 0|netem delay 300ms" "$out"/a/*/rcvtimeo-abort/sndtimeo_*/commands.sh'
check "no emulator process left" 'procs_gone "$out/a"'
check "no namespace left" 'none_left "$out/a"'

# 2. SIGTERM while the SYN is held (300 ms), the NFQUEUE rule in force.
nfqueue_held() { ip netns exec "$1" iptables -w -t mangle -S FORWARD 2>/dev/null | grep -q NFQUEUE; }
if sigterm_when_held nfqueue_held "$out/b" \
	--variant sndtimeo_100ms_delay_300ms rcvtimeo-abort; then
	check "SIGTERM: socklab exits 130/143, got $rc" '[ $rc = 130 ] || [ $rc = 143 ]'
	check "SIGTERM: no emulator process left" 'procs_gone "$out/b"'
	check "SIGTERM: no namespace left" 'none_left "$out/b"'
else
	check "SIGTERM: caught the run with its fault in force" false
fi

# 3. --keep.
"$socklab" run --keep --results "$out/c" --variant sndtimeo_100ms_delay_300ms \
	rcvtimeo-abort >/dev/null 2>&1
router=$(run_netns "$out/c" | grep router)
check "keep: the router is still there" '[ -n "$router" ] && [ -e "/run/netns/$router" ]'
check "keep: no NFQUEUE rule left in it" \
	'! ip netns exec "$router" iptables -w -t mangle -S FORWARD | grep -q NFQUEUE'
check "keep: no emulator process left" 'procs_gone "$out/c"'
# Our kept namespaces only: `socklab clean` would take other runs' too.
for ns in $(run_netns "$out/c"); do ip netns delete "$ns" 2>/dev/null; done
slot=${router#socklab-}
slot=${slot%-router}
[ -n "$slot" ] && rm -f "/run/socklab/slot-$slot.kept"
check "keep: removed again" 'none_left "$out/c"'
exit $fail
