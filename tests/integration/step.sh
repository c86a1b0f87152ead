#!/usr/bin/env bash
# `socklab run --step` and `socklab shell`, through the real CLI:
#  1. --step without a terminal on stdin is refused at once, with nothing
#     created (no results folder, no namespace); and with --all or two ids;
#  2. --step on a pseudo-terminal (tests/helpers/ptydrive, which presses
#     Enter at each "Press Enter" and, meanwhile, looks into the paused run
#     with `socklab shell`): a pause at each of rst-refused's marks, by the
#     right role, with each host's ss; the run completes, passes, says it
#     was stepped, and leaves nothing;
#     and a pause longer than every deadline (the roles', the CLI's)
#     makes none of them fire; Ctrl-C at a pause stops the run cleanly;
#  3. `socklab shell` in kept runs: a command after --, a shell fed on
#     stdin, the newest of two kept runs named, an unknown host and a run
#     that is not there refused.
# usage: step.sh <socklab binary> <build dir>
set -u
socklab=$(realpath "$1") build=$(realpath "$2")
if [ "$(id -u)" != 0 ]; then echo "skipped: needs root (network namespaces)"; exit 77; fi
. "$(dirname "$0")/common.bash"
# A /run/netns of our own: "no namespace made" and "the newest kept run"
# must not see other socklab runs on this machine.
private_netns "$0" "$@"
out=$(mktemp -d /tmp/socklab-step-XXXXXX)
drive=$build/tests/ptydrive
trap 'rm -rf "$out"' EXIT
[ -x "$drive" ] || { echo "no $drive (built with the tests)"; exit 1; }

# True when no slot of the run under $1 still says it is paused.
no_paused_mark() {
	local ns s
	for ns in $(run_netns "$1" | grep client); do
		s=${ns#socklab-}
		s=${s%-client}
		[ -e "/run/socklab/slot-$s.paused" ] && { echo "  left: slot-$s.paused"; return 1; }
	done
	return 0
}

# 1. No terminal: refused before anything exists.
"$socklab" run --step --results "$out/a" rst-refused </dev/null >"$out/a.out" 2>"$out/a.err"
rc=$?
check "no terminal: exit 64 (got $rc)" '[ $rc = 64 ]'
check "no terminal: says why ($(head -1 "$out/a.err"))" \
	'grep -q -- "--step waits for Enter at each mark, and stdin is not a terminal" "$out/a.err"'
check "no terminal: no results folder" '[ ! -e "$out/a" ]'
check "no terminal: no namespace" '[ -z "$(ls /run/netns)" ]'
"$drive" "Press Enter" "$socklab" run --step --all --results "$out/b" >"$out/b.out" 2>&1
rc=$?
check "--step --all: exit 64 (got $rc)" '[ $rc = 64 ] && grep -q "runs one experiment" "$out/b.out"'
"$drive" "Press Enter" "$socklab" run --step --results "$out/b" rst-refused rst-to-closed-port >"$out/b.out" 2>&1
rc=$?
check "--step with two ids: exit 64 (got $rc)" '[ $rc = 64 ] && [ ! -e "$out/b" ]'

# 2. On a terminal.  listening_on_other_port marks listening and ready
# (server), connecting and done (client).  At each pause, another
# "terminal" lists the paused server's listeners through socklab shell.
"$drive" -x "\"$socklab\" shell server -- ss -Htln >\"$out/shell.\$PTYDRIVE_N\" 2>&1" \
	"Press Enter" "$socklab" run --step --variant listening_on_other_port \
	--results "$out/c" rst-refused >"$out/c.out" 2>"$out/c.err"
rc=$?
# A terminal ends its lines with \r\n.
tr -d '\r' <"$out/c.out" >"$out/c.txt"
check "stepped: exit 0 (got $rc)" '[ $rc = 0 ]'
check "stepped: 4 prompts answered ($(cat "$out/c.err"))" 'grep -q "answered 4 prompts" "$out/c.err"'
n=0
for want in "1 server listening" "2 server ready" "3 client connecting" "4 client done"; do
	set -- $want
	check "pause $1: $2 reached mark '$3'" \
		"grep -q \"^== rst-refused, pause $1 (--step): $2 reached mark '$3' (rst-refused/listening_on_other_port, run slot [0-9]*)\" \"$out/c.txt\""
done
# Its ss: the server listens on the other port (SL_PORT + 1) from the
# first pause on, and the client has no socket yet when it pauses at
# "connecting" (the mark comes before connect()).
check "pause 1: the server's LISTEN, as ss -tanoi prints it" \
	'sed -n "/pause 1 /,/Press Enter/p" "$out/c.txt" | grep -Eq "^    LISTEN 0 16 198\.19\.[0-9]+\.2:7008 0\.0\.0\.0:\*$"'
check "pause 3: the client has no TCP socket yet" \
	'sed -n "/pause 3 /,/Press Enter/p" "$out/c.txt" | grep -q "^  client: no TCP sockets$"'
check "pause 1: how to look around, and what a pause does to timers" \
	'grep -q "socklab shell client" "$out/c.txt" && grep -q "kernel does not: its timers" "$out/c.txt"'
for i in 1 2 3 4; do
	check "pause $i: socklab shell server saw the live listener" \
		"grep -q 'LISTEN .*:7008' \"$out/shell.$i\""
done
check "stepped: the run passed" 'grep -q "rst-refused  CONFIRMED  CONFIRMED  pass" "$out/c.txt"'
v=$(ls "$out"/c/*/rst-refused/verdict.json 2>/dev/null | head -1)
check "stepped: verdict.json says stepped" '[ -n "$v" ] && grep -q "\"stepped\": *true" "$v"'
check "stepped: the pauses are on the timeline" \
	'[ "$(grep -c "paused .* before mark" "$(dirname "$v")/listening_on_other_port/timeline.txt")" = 4 ]'
check "stepped: nothing left" 'none_left "$out/c" && no_paused_mark "$out/c"'

# 2b. A pause longer than every deadline: step-deadline's roles have 3 s,
# the CLI is given 3 s, and the learner (ptydrive -x) takes 4 s at the
# first mark while the client waits for it (3 s, not less: a loaded
# machine must not be what makes it fail).  The sleep is the learner's
# reading time, the very thing under test, not a wait for anything.
SOCKLAB_EXPERIMENTS_DIR=$build/step-experiments \
	"$drive" -x '[ "$PTYDRIVE_N" != 1 ] || sleep 4' "Press Enter" \
	"$socklab" run --step --timeout 3 --results "$out/k" step-deadline \
	>"$out/k.out" 2>"$out/k.err"
rc=$?
tr -d '\r' <"$out/k.out" >"$out/k.txt"
check "long pause: exit 0 (got $rc), no deadline fired" \
	'[ $rc = 0 ] && grep -q "step-deadline  CONFIRMED  CONFIRMED  pass" "$out/k.txt"'
check "long pause: the run says how long it was paused" \
	'grep -Eq "^stepped: paused ([4-9]\.[0-9]|[1-9][0-9]+\.[0-9]) s at marks" "$out/k.txt"'

# 2c. Ctrl-C at a pause (SIGINT to socklab, as the terminal sends it, at
# the second pause): the run stops (130) and tears everything down, and
# shows no pause after it.
"$drive" -x '[ "$PTYDRIVE_N" != 2 ] || kill -INT "$PTYDRIVE_PID"' "Press Enter" \
	"$socklab" run --step --results "$out/l" rst-refused >"$out/l.out" 2>"$out/l.err"
rc=$?
tr -d '\r' <"$out/l.out" >"$out/l.txt"
check "Ctrl-C at a pause: exit 130 (got $rc)" '[ $rc = 130 ]'
check "Ctrl-C at a pause: no pause shown after it" \
	'! grep -q "pause 3 (--step)" "$out/l.txt" && grep -q "answered 2 prompts" "$out/l.err"'
check "Ctrl-C at a pause: the variants not run yet say so" \
	'grep -q "not run: the run was stopped before its turn" "$out/l.txt"'
check "Ctrl-C at a pause: nothing left" 'none_left "$out/l" && no_paused_mark "$out/l"'

# 3. socklab shell in kept runs (ours: the private /run/netns has no
# others).
"$socklab" run --keep --variant nothing_on_port --results "$out/d" rst-refused >/dev/null 2>&1
"$socklab" run --keep --variant nothing_on_port --results "$out/e" rst-refused >/dev/null 2>&1
slot_of() {
	local c
	c=$(run_netns "$1" | grep client)
	c=${c#socklab-}
	echo "${c%-client}"
}
d=$(slot_of "$out/d") e=$(slot_of "$out/e")
check "two kept runs: slots $d and $e" '[ -n "$d" ] && [ -n "$e" ] && [ "$d" != "$e" ]'
"$socklab" shell "$d" client -- ip -br -4 addr show eth0 >"$out/f.out" 2>"$out/f.err"
rc=$?
check "shell $d client -- ip: exit 0, the client's address 198.18.$d.2 (got $rc: $(cat "$out/f.out"))" \
	"[ $rc = 0 ] && grep -q ' 198\.18\.$d\.2/24' \"$out/f.out\""
check "shell $d client -- ip: names the run" "grep -q 'client of run slot $d (kept)' \"$out/f.err\""
printf 'ip -br -4 addr show eth1\nexit 7\n' | SHELL=/bin/sh "$socklab" shell router >"$out/g.out" 2>"$out/g.err"
rc=$?
check "shell router (stdin): the shell's exit status 7 (got $rc)" '[ $rc = 7 ]'
check "shell router: the newest kept run, $e, named as such" \
	"grep -q 'runs are paused or kept (slots .*): entering the newest, slot $e' \"$out/g.err\""
check "shell router: the router's eth1 198.19.$e.1 ($(cat "$out/g.out"))" \
	"grep -q ' 198\.19\.$e\.1/24' \"$out/g.out\""
"$socklab" shell "$d" nowhere -- true >"$out/h.out" 2>&1
rc=$?
check "unknown host: exit 64 (got $rc)" '[ $rc = 64 ] && grep -q "unknown host .nowhere." "$out/h.out"'
free=0
while [ -e "/run/netns/socklab-$free-client" ]; do free=$((free + 1)); done
"$socklab" shell "$free" client -- true >"$out/i.out" 2>&1
rc=$?
check "a run that is not there: exit 2 (got $rc)" "[ $rc = 2 ] && grep -q 'run slot $free is not paused, kept or running' \"$out/i.out\""
# Our kept runs only: `socklab clean` would take other runs' too.
for s in "$d" "$e"; do
	for h in client router server; do ip netns delete "socklab-$s-$h" 2>/dev/null; done
	[ -n "$s" ] && rm -f "/run/socklab/slot-$s.kept"
done
"$socklab" shell client -- true >"$out/j.out" 2>&1
rc=$?
check "nothing paused or kept: exit 2 (got $rc)" '[ $rc = 2 ] && grep -q "no run is paused or kept" "$out/j.out"'
exit $fail
