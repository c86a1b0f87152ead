#!/usr/bin/env bash
# socklab doctor's text: the kernel release first (uname -r), no line
# longer than 100 columns, the link emulator's backend and its timer's
# error on one line each; as a user who cannot read tracefs, tracefs is
# "permission denied", not missing tracepoints.  --json carries the same
# checks.
# usage: doctor.sh <socklab binary> <build dir>
set -u
bin=$(realpath "$1")
if [ "$(id -u)" != 0 ]; then echo "skipped: needs root (the probes make a namespace)"; exit 77; fi
. "$(dirname "$0")/common.bash"
tmp=$(mktemp -d /tmp/socklab-doctor-test-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# The text's lines: none over 100 columns; $1 names the run.
widths() {
	local long
	long=$(awk 'length($0) > 100 { printf "%d: %s\n", length($0), $0 }' "$2")
	# (expanded now: check's own $1 is its message)
	check "$1: no line over 100 columns${long:+ ($long)}" '[ -z "$long" ]'
}

# The detail of check $2 in the text $1 fits its one line: the next line
# is another check's, not its continuation (25 spaces).
# (check evaluates in here: it sees text and name, not $1 and $2.)
one_line() {
	local text=$1 name=$2
	check "$name fits one line" \
		'awk -v name="$name" "index(\$0, name) == 1 { getline; exit substr(\$0, 1, 25) ~ /^ +\$/ }" "$text"'
}

"$bin" doctor >"$tmp/root.txt" 2>&1
rc=$?
check "doctor as root: exit 0, got $rc" '[ $rc = 0 ]'
check "the first line is the kernel, with uname -r ($(uname -r))" \
	'head -1 "$tmp/root.txt" | grep -Eq "^kernel +yes +$(uname -r | sed "s/[.+]/\\\\&/g") \(uname -r\)"'
widths "doctor as root" "$tmp/root.txt"
one_line "$tmp/root.txt" "link emulator"
one_line "$tmp/root.txt" "emulator timer"
check "the timer's error says its bound" 'grep -Eq "^emulator timer .* \(bound [0-9]+ ms; SCHED_" "$tmp/root.txt"'
"$bin" doctor --json >"$tmp/root.json"
check "--json has the kernel check" \
	'grep -q "\"name\": *\"kernel\", *\"ok\": *true, *\"detail\": *\"$(uname -r)" "$tmp/root.json"'

# As nobody, tracefs (root's, 0700) is closed, not missing.  The binary
# is copied where uid 65534 can run it.
cp "$bin" "$tmp/socklab"
chmod 755 "$tmp" "$tmp/socklab"
if [ -d /sys/kernel/tracing ] && ! setpriv --reuid=65534 --regid=65534 --clear-groups \
	test -r /sys/kernel/tracing/trace_clock 2>/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$tmp/socklab" doctor >"$tmp/user.txt" 2>&1
	rc=$?
	check "doctor as nobody: exit 1 (not root), got $rc" '[ $rc = 1 ]'
	check "tracefs closed to nobody: permission denied" \
		'grep -Eq "^tracefs +no +.*permission denied" "$tmp/user.txt"'
	check "... and no tracepoint said missing" '! grep -q "no sock:inet_sock_set_state" "$tmp/user.txt"'
	widths "doctor as nobody" "$tmp/user.txt"
else
	echo "not tried: tracefs is readable by uid 65534 here (or absent)"
fi
[ $fail = 0 ] || { cat "$tmp/root.txt"; cat "$tmp/user.txt" 2>/dev/null; }
exit $fail
