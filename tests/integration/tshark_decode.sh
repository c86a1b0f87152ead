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

# tshark's view of one pcap: "protocols<TAB>malformed" per frame.  It
# warns on stderr that it runs as root; a file it cannot read makes it
# fail, and that failure is kept.
frames() { # pcap [tshark options...]
	local f=$1
	shift
	tshark -n -r "$f" "$@" -T fields -e frame.protocols -e _ws.malformed \
		2>"$tmp/tshark.err"
}

# Prints what is wrong with pcap (nothing when it is right); returns 1 when
# something is.
bad_frames() { # pcap [tshark options...]
	local f=$1 out
	out=$(frames "$@") || {
		echo "tshark cannot read $f: $(grep -v 'Running as user' "$tmp/tshark.err")"
		return 1
	}
	[ -n "$out" ] || { echo "$f: no frame"; return 1; }
	echo "$out" | awk -F'\t' -v f="$(basename "$f")" '
		$2 != "" { print f ": frame " NR " malformed: " $0; bad = 1; next }
		$1 == "eth:ethertype:ip:tcp" || $1 == "eth:ethertype:ip:tcp:data" { tcp++; next }
		# The links housekeeping: ARP, and IPv6 neighbour discovery or
		# MLD, which the kernel sends on any interface that comes up.
		$1 == "eth:ethertype:arp" || $1 ~ /^eth:ethertype:ipv6:.*icmpv6$/ { next }
		{ print f ": frame " NR " decoded as " $1; bad = 1 }
		END { if (!tcp) { print f ": no plain TCP frame"; bad = 1 }
		      exit bad }'
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
		check "$pcap: every frame plain TCP or link housekeeping, none malformed" \
			'[ $rc = 0 ]' || echo "$problems" | head -5 | sed 's/^/  /'
		# The payload's segment is there and on the experiments' port.
		data=$(tshark -n -r "$f" -Y "tcp.len > 0 && tcp.port == $port" \
			-T fields -e frame.protocols 2>/dev/null | sort -u)
		check "$pcap: payload on port $port decoded as tcp:data ($data)" \
			'[ "$data" = eth:ethertype:ip:tcp:data ]'
		# What expert info calls an error (a dissector's complaint,
		# a malformed field) is none either.
		experr=$(tshark -n -r "$f" -Y '_ws.expert.severity == "Error"' \
			2>/dev/null | head -3)
		check "$pcap: no expert-info error" '[ -z "$experr" ]' ||
			echo "  $experr"
	done
	# The router forwards every segment of this fault-free run: its two
	# captures hold as many TCP frames as the client's and the server's.
	count() { tshark -n -r "$v/$1.pcap" -Y tcp 2>/dev/null | wc -l; }
	c=$(count client-eth0) r0=$(count router-eth0) r1=$(count router-eth1) \
		s=$(count server-eth0)
	check "$name: router-eth0 ($r0) and router-eth1 ($r1) saw the client's ($c) and the server's ($s) segments" \
		'[ "$c" -gt 0 ] && [ "$r0" = "$c" ] && [ "$r1" = "$c" ] && [ "$s" = "$c" ]'
done

# The checks can fail: the same capture, with the port decoded as GSM IPA
# as Wireshark decoded the old port 5000, is refused for its data segment.
f=$(echo "$variants" | head -1)/server-eth0.pcap
problems=$(bad_frames "$f" -d "tcp.port==$port,gsm_ipa")
rc=$?
check "self-check: port $port decoded as GSM IPA is refused" \
	'[ $rc != 0 ] && echo "$problems" | grep -q "gsm_ipa"' ||
	echo "  bad_frames said: $problems"
echo "  (it said: $(echo "$problems" | head -1))"
# ... and so is a payload another dissector takes without finding it
# malformed (here Echo's), and an expert-info error is seen.
problems=$(bad_frames "$f" -d "tcp.port==$port,echo")
rc=$?
check "self-check: port $port decoded as Echo is refused" \
	'[ $rc != 0 ] && echo "$problems" | grep -q "decoded as .*:echo"' ||
	echo "  bad_frames said: $problems"
experr=$(tshark -n -r "$f" -d "tcp.port==$port,gsm_ipa" \
	-Y '_ws.expert.severity == "Error"' 2>/dev/null)
check "self-check: the expert-info filter sees GSM IPA's error" \
	'[ -n "$experr" ]'

exit $fail
