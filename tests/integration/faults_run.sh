#!/usr/bin/env bash
# Faults through the real CLI:
#  1. a crash and a reboot (rst-peer-rebooted): the results name the backend
#     of each (nftables, netns), commands.sh shows the nft lines and the
#     namespace built again, the rebooted server's capture is a file of its
#     own, the crashed role's SIGKILL is no error, and nothing is left;
#  2. SIGTERM while a blackhole is in force (keepalive-vs-retransmit): the
#     run ends, and its namespaces go, with the nftables table in them.
# usage: faults_run.sh <socklab binary> <build dir>
set -u
socklab=$(realpath "$1")
if [ "$(id -u)" != 0 ]; then echo "skipped: needs root (network namespaces)"; exit 77; fi
if ! command -v nft >/dev/null; then echo "skipped: nft (nftables) is not installed"; exit 77; fi
out=$(mktemp -d /tmp/socklab-faults-XXXXXX)
trap 'rm -rf "$out"' EXIT
. "$(dirname "$0")/common.bash"

# 1. Crash and reboot.
"$socklab" run --json --results "$out/a" rst-peer-rebooted >"$out/a.json" 2>/dev/null
rc=$?
check "rst-peer-rebooted passes, got exit $rc" '[ $rc = 0 ]'
check "both variants: the crash served by nftables" \
	'[ "$(grep -o "\"kind\":\"crash\",\"backend\":\"nftables\"" "$out/a.json" | wc -l)" = 2 ]'
check "both variants: the reboot served by a fresh namespace" \
	'[ "$(grep -o "\"kind\":\"reboot\",\"backend\":\"netns\"" "$out/a.json" | wc -l)" = 2 ]'
cmds=$out/a/latest/rst-peer-rebooted/data_after_reboot/commands.sh
check "commands.sh: the server silenced, the router dropping its address" \
	'grep -q "nft .*hook output priority -160; policy drop" "$cmds" &&
	 grep -q "nft .*crash_server ip daddr" "$cmds"'
check "commands.sh: the server's namespace deleted and made again" \
	'grep -q "^ip netns del socklab-[0-9]*-server" "$cmds" &&
	 [ "$(grep -c "^nsenter --net=/run/netns/socklab-[0-9]*-router ip netns add socklab-[0-9]*-server" "$cmds")" = 2 ]'
check "commands.sh: the router's drop lifted after the reboot" \
	'grep -q "nft .delete chain inet socklab crash_server" "$cmds"'
for v in data_after_reboot keepalive_after_reboot; do
	pcap=$out/a/latest/rst-peer-rebooted/$v/server-eth0-after-reboot.pcap
	check "$v: the rebooted server's capture is a file of its own, not empty" \
		'[ -s "$pcap" ] && [ "$(stat -c %s "$pcap")" -gt 24 ]'
done
check "the crashed role's SIGKILL is not reported as an error" \
	'! grep -q "killed by signal" "$out/a.json"'
check "no namespace left" 'none_left "$out/a"'

# 2. SIGTERM with the blackhole in force (its chain in the router).
blackhole_held() { ip netns exec "$1" nft list chain inet socklab fault0 >/dev/null 2>&1; }
if sigterm_when_held blackhole_held "$out/b" \
	--variant idle_keepalive_2s_1s_3 keepalive-vs-retransmit; then
	check "SIGTERM: socklab exits 130/143, got $rc" '[ $rc = 130 ] || [ $rc = 143 ]'
	check "SIGTERM: no namespace left (the table went with the router)" 'none_left "$out/b"'
else
	check "SIGTERM: caught the run with its blackhole in force" false
fi
exit $fail
