#!/usr/bin/env bash
# Both address families, end to end through the real CLI:
#  1. close-unread-rst with --family all: each variant runs twice, over
#     IPv4 under its own name and over IPv6 as NAME.ipv6, in folders of
#     those names; the IPv6 one's timeline speaks IPv6 (tcpdump's IP6,
#     the tracepoints' IPv6 addresses, 2001:2::/48; ss's [addr]:port, in
#     simultaneous-close's, whose TIME-WAIT ss always sees) and
#     the IPv4 one's is as it always was; neither's captures carry ARP or
#     a neighbour's resolution (the topology's neighbours are permanent);
#  2. ipv4-only (tests/negative), which declares .families = 4: with
#     --family 6 it is skipped with "not yet ported to IPv6", never passed;
#     with --family all its IPv4 half passes and ipv4-only.ipv6 is skipped;
#  3. --family with anything but 4, 6 or all is a usage error.
# usage: families.sh <socklab binary> <build dir>
set -u
socklab=$1 build=$2
if [ "$(id -u)" != 0 ]; then echo "skipped: needs root (network namespaces)"; exit 77; fi
out=$(mktemp -d /tmp/socklab-families-XXXXXX)
trap 'rm -rf "$out"' EXIT
. "$(dirname "$0")/common.bash"

# 1. A real experiment over both families.
"$socklab" run --json --family all --results "$out/both" --variant read_90_of_100 \
	close-unread-rst >"$out/json" 2>"$out/err"
rc=$?
check "both families pass: exit 0, got $rc" '[ $rc = 0 ]'
check "--json names the IPv4 variant as before" \
	'grep -q "{\"name\":\"read_90_of_100\",\"holds\":true" "$out/json"'
check "--json names the IPv6 variant NAME.ipv6" \
	'grep -q "{\"name\":\"read_90_of_100.ipv6\",\"holds\":true" "$out/json"'
v4=$(ls -d "$out"/both/*/close-unread-rst/read_90_of_100 2>/dev/null | head -1)
v6=$(ls -d "$out"/both/*/close-unread-rst/read_90_of_100.ipv6 2>/dev/null | head -1)
check "a folder per variant and family" '[ -d "$v4" ] && [ -d "$v6" ]'
check "IPv6: tcpdump's IP6 and RFC 5180's addresses" \
	'grep -q "server  IP6 2001:2:0:19[0-9a-f]*::2\.7007 > 2001:2:0:18[0-9a-f]*::2\.[0-9]*: Flags \[R\.\]" "$v6/timeline.txt"'
# ss samples a run every 2 ms while packets flow and once at its end, and
# close-unread-rst's sockets can all be gone within a millisecond: its
# timeline may hold no ss line at all.  simultaneous-close leaves both
# sides in TIME-WAIT, which the last sample always sees.
"$socklab" run --family 6 --results "$out/ss" simultaneous-close >/dev/null 2>&1
tw=$(ls -d "$out"/ss/*/simultaneous-close/*.ipv6 2>/dev/null | head -1)
check "IPv6: ss's [addr]:port" \
	'grep -q "ss: TIME-WAIT .*\[2001:2:0:1[89][0-9a-f]*::2\]:[0-9]" "$tw/timeline.txt"'
check "IPv6: the kernel's RST with its reason and IPv6 addresses" \
	'grep -q "kernel: RST sent, reason TCP_ABORT_ON_CLOSE .*\[\[2001:2:0:19[0-9a-f]*::2\]:7007 " "$v6/timeline.txt"'
check "IPv6: no IPv4 packet in it" '! grep -q "  IP 198\." "$v6/timeline.txt"'
check "IPv4: as it always was, no IPv6" \
	'grep -q "server  IP 198\.19\.[0-9]*\.2\.7007 > .*Flags \[R\.\]" "$v4/timeline.txt" &&
	 ! grep -q "IP6 " "$v4/timeline.txt"'
check "IPv6: its commands.sh adds addresses without DAD" \
	'grep -q "ip -n [^ ]* addr add 2001:2:0:18[0-9a-f]*::2/64 dev eth0 nodad" "$v6/commands.sh"'
check "IPv6: its commands.sh makes the router's neighbours permanent" \
	'grep -q "ip -n [^ ]*-router neigh replace 2001:2:0:19[0-9a-f]*::2 lladdr 02:00:c6:13:[0-9a-f]*:02 dev eth1 nud permanent" "$v6/commands.sh"'
# Every neighbour is known from the start (topology.c): no capture of
# either family carries ARP or a neighbour's resolution, which a fault on
# the router's way out would delay along with the segments.  The
# solicitations from :: are duplicate address detection of the link-local
# addresses as links come up (over IPv4, where it stays on), not a
# resolution: nothing waits on them.
resolutions() {
	for p in "$v4"/*.pcap "$v6"/*.pcap; do
		tcpdump -nn -r "$p" 2>/dev/null
	done | grep -E "ARP|neighbor (solicitation|advertisement)" | grep -v " IP6 :: > "
}
check "no ARP or neighbour resolution in any capture" '! resolutions'
check "the run's namespaces are gone" 'none_left "$out/both"'
[ $fail = 0 ] || { cat "$out/err"; head -c 2000 "$out/json"; }

# 2. An experiment over IPv4 alone.
f0=$fail fail=0
export SOCKLAB_EXPERIMENTS_DIR=$build/negative-experiments
"$socklab" run --family 6 --results "$out/six" ipv4-only >"$out/text" 2>"$out/err"
rc=$?
check "--family 6: skipped (exit 77), got $rc" '[ $rc = 77 ]'
check "--family 6: the reason" \
	'grep -q "^ipv4-only: skipped: ipv4-only: not yet ported to IPv6$" "$out/text"'
check "--family 6: never a pass" '! grep -q "^ipv4-only  .* pass " "$out/text"'
"$socklab" run --family all --json --results "$out/all" ipv4-only >"$out/json" 2>"$out/err"
rc=$?
check "--family all: the IPv6 half skipped (exit 77), got $rc" '[ $rc = 77 ]'
check "--family all: the IPv4 half ran and passed" \
	'grep "\"id\":\"ipv4-only\"" "$out/json" | grep -q "\"status\":\"pass\""'
check "--family all: no IPv6 variant ran" '! grep -q "read_90_of_100.ipv6" "$out/json"'
check "--family all: ipv4-only.ipv6 skipped with the reason" \
	'grep "\"id\":\"ipv4-only.ipv6\"\|ipv4-only.ipv6" "$out/json" | grep -q "not yet ported to IPv6"'
"$socklab" run --family all --results "$out/all" ipv4-only >"$out/text" 2>/dev/null
check "--family all: the table shows both halves" \
	'grep -q "^ipv4-only  .* pass " "$out/text" &&
	 grep -q "^ipv4-only.ipv6  .* skip " "$out/text"'
[ $fail = 0 ] || { cat "$out/text" "$out/err"; head -c 2000 "$out/json"; }

# 3. A family that does not exist.
f1=$fail fail=0
"$socklab" run --family 5 ipv4-only >/dev/null 2>"$out/err"
rc=$?
check "--family 5: usage error (64), got $rc" '[ $rc = 64 ]'
check "--family 5: says what it takes" 'grep -q "4, 6 or all" "$out/err"'
[ $f0 = 0 ] && [ $f1 = 0 ] && [ $fail = 0 ]
