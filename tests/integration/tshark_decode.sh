#!/usr/bin/env bash
# The captures open in Wireshark as plain TCP: a run of close-unread-rst
# (100 bytes of payload, then RST) writes one pcap per interface in each
# variant's folder, the router's two included, and tshark reads every one
# of them with every TCP frame decoded as eth:ethertype:ip:tcp (plus :data
# for the payload), no frame malformed, no frame handed to another
# protocol's dissector, and only the links' own housekeeping (ARP, IPv6
# neighbour discovery and MLD) besides.  The files are nanosecond pcaps,
# and the router's see the same segments as the hosts' (no fault here).
#
# The check is shown to fail: on the same capture with the experiments'
# port decoded as GSM IPA (`-d tcp.port==PORT,gsm_ipa`), which is what
# Wireshark did with the old port 5000, it reports the data segment.
# usage: tshark_decode.sh <socklab binary> <build dir>
set -u
bin=$(realpath "$1")
if [ "$(id -u)" != 0 ]; then
	echo "skipped: needs root (it runs an experiment)"
	exit 77
fi
if ! command -v tshark >/dev/null; then
	echo "skipped: no tshark here (make deps installs it)"
	exit 77
fi
. "$(dirname "$0")/common.bash"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The port the experiments use, from the header they include.
port=$(awk '$1 == "#define" && $2 == "SL_PORT" { print $3 }' \
	"$(dirname "$0")/../../lib/socklab.h")
check "SL_PORT read from lib/socklab.h ($port)" '[ -n "$port" ]' || exit 1

# What is wrong with one pcap, as tshark reads it (nothing when it is
# right); returns 1 when something is.  One tshark per file, which takes
# seconds on a busy machine: each frame's protocols, whether it is
# malformed, its TCP payload length and ports, and its expert-info
# severities (2097152 chat, 4194304 note, 6291456 warning, 8388608
# error).  The number of TCP frames goes to $tmp/tcp-count.  tshark warns
# on stderr that it runs as root; a file it cannot read makes it fail, and
# that failure is kept.
bad_frames() { # pcap [tshark options...]
	local f=$1 out
	shift
	out=$(tshark -n -r "$f" "$@" -T fields -e frame.protocols \
		-e _ws.malformed -e tcp.len -e tcp.srcport -e tcp.dstport \
		-e _ws.expert.severity 2>"$tmp/tshark.err") || {
		echo "tshark cannot read $f: $(grep -v 'Running as user' "$tmp/tshark.err")"
		return 1
	}
	[ -n "$out" ] || { echo "$f: no frame"; return 1; }
	echo "$out" | awk -F'\t' -v f="$(basename "$f")" -v port="$port" \
		-v countfile="$tmp/tcp-count" '
		{ n = split($6, sev, ",")
		  for (i = 1; i <= n; i++)
			if (sev[i] + 0 >= 8388608) {
				print f ": frame " NR " has an expert-info error: " $1
				bad = 1
			} }
		$2 != "" { print f ": frame " NR " malformed: " $1 " " $2; bad = 1; next }
		$1 == "eth:ethertype:ip:tcp" || $1 == "eth:ethertype:ip:tcp:data" {
			tcp++
			if ($3 > 0 && $1 == "eth:ethertype:ip:tcp:data" &&
			    ($4 == port || $5 == port))
				data++
			next
		}
		# The links housekeeping: ARP, and IPv6 neighbour discovery or
		# MLD, which the kernel sends on any interface that comes up.
		$1 == "eth:ethertype:arp" || $1 ~ /^eth:ethertype:ipv6:.*icmpv6$/ { next }
		{ print f ": frame " NR " decoded as " $1; bad = 1 }
		END {
			print tcp + 0 > countfile
			if (!tcp) { print f ": no plain TCP frame"; bad = 1 }
			if (!data) { print f ": no payload on port " port " decoded as tcp:data"; bad = 1 }
			exit bad
		}'
}

"$bin" run close-unread-rst --results "$tmp/results" -q > "$tmp/out" 2>&1
rc=$?
check "close-unread-rst ran and passed" '[ $rc = 0 ]' || {
	cat "$tmp/out"
	exit 1
}
exp=$(realpath "$tmp/results/latest")/close-unread-rst
variants=$(find "$exp" -mindepth 1 -maxdepth 1 -type d | sort)
check "the run has variant folders" '[ -n "$variants" ]' || exit 1

for v in $variants; do
	name=$(basename "$v")
	for want in client-eth0 router-eth0 router-eth1 server-eth0; do
		check "$name: $want.pcap written" "[ -s '$v/$want.pcap' ]"
	done
	for f in "$v"/*.pcap; do
		pcap=$name/$(basename "$f")
		# 4d 3c b2 a1 on disk: the nanosecond magic, in this
		# machine's byte order (libpcap writes it natively).
		magic=$(od -An -tx4 -N4 "$f" | tr -d ' ')
		check "$pcap: nanosecond pcap (magic $magic)" \
			'[ "$magic" = a1b23c4d ]'
		problems=$(bad_frames "$f")
		rc=$?
		check "$pcap: every frame plain TCP or link housekeeping, none malformed, no expert error, payload on port $port as tcp:data" \
			'[ $rc = 0 ]' || echo "$problems" | head -5 | sed 's/^/  /'
		eval "tcp_$(basename "$f" .pcap | tr -- - _)=$(cat "$tmp/tcp-count")"
	done
	# The router forwards every segment of this fault-free run: its two
	# captures hold as many TCP frames as the client's and the server's.
	c=${tcp_client_eth0:-0} r0=${tcp_router_eth0:-none} r1=${tcp_router_eth1:-none} \
		s=${tcp_server_eth0:-none}
	check "$name: router-eth0 ($r0) and router-eth1 ($r1) saw the client's ($c) and the server's ($s) segments" \
		'[ "$c" -gt 0 ] && [ "$r0" = "$c" ] && [ "$r1" = "$c" ] && [ "$s" = "$c" ]'
	unset tcp_client_eth0 tcp_router_eth0 tcp_router_eth1 tcp_server_eth0
done

# The checks can fail: the same capture, with the port decoded as GSM IPA
# as Wireshark decoded the old port 5000, is refused for its data segment.
f=$(echo "$variants" | head -1)/server-eth0.pcap
problems=$(bad_frames "$f" -d "tcp.port==$port,gsm_ipa")
rc=$?
check "self-check: port $port decoded as GSM IPA is refused" \
	'[ $rc != 0 ] && echo "$problems" | grep -q "malformed: .*gsm_ipa" &&
	 echo "$problems" | grep -q "expert-info error"' ||
	echo "  bad_frames said: $problems"
echo "  (it said: $(echo "$problems" | head -1))"
# ... and so is a payload another dissector takes without finding it
# malformed (here Echo's).
problems=$(bad_frames "$f" -d "tcp.port==$port,echo")
rc=$?
check "self-check: port $port decoded as Echo is refused" \
	'[ $rc != 0 ] && echo "$problems" | grep -q "decoded as .*:echo"' ||
	echo "  bad_frames said: $problems"

exit $fail
