#!/usr/bin/env bash
# Two experiments at once, each from its own socklab process, and neither
# sees the other's kernel events.  Tracepoints are global to the machine;
# each run's instance filters by its own addresses (unique per slot) in the
# kernel and again in socklab.  close-unread-rst and rst-refused run side by
# side, 3 to 10 rounds (5 variants at a time, each in its own slot), then:
#  - the runs really overlapped (timelines share CLOCK_MONOTONIC: some
#    variant of one was running while a variant of the other was);
#  - every kernel event of a variant names only that variant's addresses;
#  - each variant has exactly its own RST and none of the other's: one
#    tcp_send_reset TCP_ABORT_ON_CLOSE in close-unread-rst, one NO_SOCKET
#    (and its one drop) in rst-refused.
# usage: trace_isolation.sh <socklab binary> <build dir>
set -u
socklab=$(realpath "$1")
if [ "$(id -u)" != 0 ]; then echo "skipped: needs root (network namespaces)"; exit 77; fi
if ! "$socklab" doctor | grep -q '^tracefs *yes'; then
	echo "skipped: no tracefs here ($("$socklab" doctor | grep '^tracefs'))"; exit 77
fi
out=$(mktemp -d /tmp/socklab-trace-iso-XXXXXX)
trap 'rm -rf "$out"' EXIT
fail=0
# At least 3 rounds, and more (up to 10) until some variant of one was seen
# recording while the other's kernel events happened: two short runs
# started together do not always overlap, and without an overlap there is
# nothing to isolate.
min_rounds=3 max_rounds=10

# A variant's own addresses, from its timeline.txt header.
addrs() {
	awk '/^# (client|router|server) netns/ {
		for (i = 6; i <= NF; i += 2) { split($i, a, "/"); print a[1] } }' "$1"
}

# Checks one variant; on success prints its recording window (the first
# and the last line of its timeline, which the trace instance spans) and
# the number of its kernel events.
check_variant() {
	local tl=$1 id=$2 own
	own=$(addrs "$(dirname "$tl")/timeline.txt" | tr '\n' ' ')
	awk -F'\t' -v tl="$tl" -v id="$id" -v own="$own" '
	BEGIN { n = split(own, a, " "); for (i = 1; i <= n; i++) mine[a[i]] = 1; mine["0.0.0.0"] = 1 }
	$1 == "K" {
		k++
		if (!($8 in mine) || !($10 in mine)) { print tl ": foreign kernel event: " $0 > "/dev/stderr"; bad = 1 }
		if ($4 == "tcp_send_reset" && $7 == "TCP_ABORT_ON_CLOSE") abort++
		if ($4 == "tcp_send_reset" && $7 == "NO_SOCKET") nosock++
		if ($4 == "kfree_skb") drops++
	}
	$1 ~ /^[PKMCSG]$/ { if (!first || $2 < first) first = $2; if ($2 > last) last = $2 }
	END {
		if (!k) { print tl ": no kernel events at all" > "/dev/stderr"; exit 1 }
		if (id == "close-unread-rst" && (abort != 1 || nosock != 0)) {
			print tl ": " abort + 0 " TCP_ABORT_ON_CLOSE and " nosock + 0 " NO_SOCKET resets (want 1 and 0)" > "/dev/stderr"; bad = 1 }
		if (id == "rst-refused" && (nosock != 1 || abort != 0 || drops != 1)) {
			print tl ": " nosock + 0 " NO_SOCKET, " abort + 0 " TCP_ABORT_ON_CLOSE resets, " drops + 0 " drops (want 1, 0, 1)" > "/dev/stderr"; bad = 1 }
		if (bad) exit 1
		print first, last, k
	}' "$tl"
}

# The kernel events of the other experiment's variants that happened while
# this variant was recording: the events its instance had to turn away.
foreign_in_window() {
	local first=$1 last=$2; shift 2
	cat "$@" | awk -F'\t' -v a="$first" -v b="$last" '$1 == "K" && $2 >= a && $2 <= b { n++ } END { print n + 0 }'
}

# Checks every variant of every round so far; sets n, events, shielded
# and fail.
check_all() {
	local pair id others mine tl s
	n=0 events=0 shielded=0
	tls_a=$(find "$out" -path '*/close-unread-rst/*/timeline.tl' | sort)
	tls_b=$(find "$out" -path '*/rst-refused/*/timeline.tl' | sort)
	for pair in "close-unread-rst:$tls_b" "rst-refused:$tls_a"; do
		id=${pair%%:*} others=${pair#*:}
		[ "$id" = close-unread-rst ] && mine=$tls_a || mine=$tls_b
		for tl in $mine; do
			s=$(check_variant "$tl" "$id") || { fail=1; continue; }
			set -- $s
			events=$((events + $3)); n=$((n + 1))
			shielded=$((shielded + $(foreign_in_window "$1" "$2" $others)))
		done
	done
}

rounds=0 run_fail=0
while [ $rounds -lt $max_rounds ]; do
	rounds=$((rounds + 1)) i=$rounds
	"$socklab" run --quiet --results "$out/a$i" close-unread-rst >/dev/null 2>&1 &
	a=$!
	"$socklab" run --quiet --results "$out/b$i" rst-refused >/dev/null 2>&1 &
	b=$!
	wait $a || { echo "round $i: close-unread-rst failed"; run_fail=1; }
	wait $b || { echo "round $i: rst-refused failed"; run_fail=1; }
	[ $rounds -lt $min_rounds ] && continue
	check_all 2>/dev/null
	[ $shielded -gt 0 ] && break
done
fail=$run_fail
check_all
echo "rounds: $rounds"
want=$((rounds * 5))
[ $n = $want ] || { echo "expected $want clean timelines, got $n"; fail=1; }
echo "variants checked: $n, their kernel events: $events, the other experiment's events during their recording: $shielded (none recorded)"
[ $shielded -gt 0 ] || { echo "the two experiments never overlapped: the test proves nothing"; fail=1; }
[ $fail = 0 ] && echo "trace isolation: no variant saw another's kernel events"
exit $fail
