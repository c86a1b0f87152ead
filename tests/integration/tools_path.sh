#!/usr/bin/env bash
# Tools (ip, nft, iptables, tc, ...) run from the fixed folders of
# SL_EXEC_PATH (lib/exec.h), never through the caller's PATH: with a folder
# of fake tools first in PATH (what sudo -E or a root shell with ~/bin
# first gives), neither `socklab doctor` nor a run whose faults call nft,
# iptables or tc starts any of them, and the doctor names the real ones.
# usage: tools_path.sh <socklab binary> <build dir>
set -u
socklab=$(realpath "$1")
. "$(dirname "$0")/common.bash"
if [ "$(id -u)" != 0 ]; then echo "skipped: needs root (network namespaces)"; exit 77; fi
tmp=$(mktemp -d /tmp/socklab-tools-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# Each fake says it ran, then does what the real one would have done, so
# that a run still gets as far as it can and the only tell is the list.
mkdir "$tmp/bin"
for tool in ip nft iptables tc ethtool nsenter ss tcpdump sysctl; do
	real=$(PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v "$tool") || continue
	printf '#!/bin/sh\necho "%s $*" >> %s/ran\nexec %s "$@"\n' \
		"$tool" "$tmp" "$real" > "$tmp/bin/$tool"
	chmod 755 "$tmp/bin/$tool"
done
export PATH="$tmp/bin:$PATH"
check "the fakes come first in PATH" '[ "$(command -v ip)" = "$tmp/bin/ip" ]'

"$socklab" doctor > "$tmp/doctor.txt" 2>&1
check "socklab doctor started no fake" '[ ! -s "$tmp/ran" ]'
[ -s "$tmp/ran" ] && sed 's/^/  ran: /' "$tmp/ran"
check "socklab doctor names the real ip" \
	'grep -q "^ip  *yes  /[a-z/]*bin/ip " "$tmp/doctor.txt"'
check "socklab doctor names no fake" '! grep -q "$tmp" "$tmp/doctor.txt"'
check "socklab doctor lines fit in 100 columns" \
	'[ "$(awk "length > 100" "$tmp/doctor.txt" | wc -l)" = 0 ]'
: > "$tmp/ran"

# A delay (the link emulator: iptables or tc) and a drop (nft).
"$socklab" run --quiet --results "$tmp/res" rcvtimeo-abort \
	lastack-lost-ack-closed > "$tmp/run.txt" 2>&1
rc=$?
check "the runs went through (exit $rc)" '[ $rc = 0 ]'
check "the runs started no fake" '[ ! -s "$tmp/ran" ]'
[ -s "$tmp/ran" ] && sed 's/^/  ran: /' "$tmp/ran"
exit $fail
