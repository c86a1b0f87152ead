#!/usr/bin/env bash
# Kernel events sit on the timeline in the order the kernel made them, next
# to the packets (same clock, CLOCK_MONOTONIC).  Checked on 5 real runs of
# each case, from the recorded timeline.tl:
#  - close() with unread data (close-unread-rst): tcp_close() sets CLOSE,
#    tcp_send_active_reset() transmits, and only then fires tcp_send_reset:
#    state change < RST packet (server's capture) < reset event; the client
#    takes the RST after it left the server.
#  - a SYN to no socket (rst-refused): tcp_v4_send_reset() fires
#    tcp_send_reset before it builds the RST: reset event < RST packet, and
#    the SYN is dropped (NO_SOCKET) after the reset event.
#  - TIME_WAIT (tests/data/trace-experiments/kernel-timewait): tcp_fin()
#    sends the last ACK, then tcp_time_wait() swaps the socket for a
#    mini-socket: last ACK < FIN_WAIT2 -> CLOSE < sock_diag's TIME-WAIT.
# usage: trace_order.sh <socklab binary> <build dir>
set -u
socklab=$(realpath "$1") build=$(realpath "$2")
if [ "$(id -u)" != 0 ]; then echo "skipped: needs root (network namespaces)"; exit 77; fi
if ! "$socklab" doctor | grep -q '^tracefs *yes'; then
	echo "skipped: no tracefs here ($("$socklab" doctor | grep '^tracefs'))"; exit 77
fi
out=$(mktemp -d /tmp/socklab-trace-order-XXXXXX)
trap 'rm -rf "$out"' EXIT
fail=0
runs=5

# .tl fields: P t host from to saddr sport daddr dport seq ack flags win len
#             K t host type oldstate state reason laddr lport raddr rport sock
#             S t host state laddr lport raddr rport ...   (hosts 0 client, 2 server)
check_unread() {
	awk -F'\t' -v tl="$1" '
	$1 == "K" && $3 == 2 && $4 == "inet_sock_set_state" && $5 == 1 && $6 == 7 && !t_close { t_close = $2 }
	$1 == "P" && $3 == 2 && $4 == 2 && int($12 / 4) % 2 && !rst { rst = $2 }
	$1 == "P" && $3 == 0 && $4 == 2 && int($12 / 4) % 2 && !rst_in { rst_in = $2 }
	$1 == "K" && $3 == 2 && $4 == "tcp_send_reset" && $7 == "TCP_ABORT_ON_CLOSE" && !ev { ev = $2 }
	$1 == "K" && $3 == 0 && $4 == "tcp_receive_reset" && !recv { recv = $2 }
	END {
		if (!t_close || !rst || !ev || !recv || !rst_in) { print tl ": missing events"; exit 1 }
		bad = 0
		if (!(t_close < rst)) { print tl ": RST packet before the change to CLOSE"; bad = 1 }
		if (!(rst < ev)) { print tl ": tcp_send_reset before the packet it sent"; bad = 1 }
		if (!(rst_in < recv)) { print tl ": RST taken before it reached the client"; bad = 1 }
		printf "%s: CLOSE -> RST %.1f us -> tcp_send_reset %.1f us\n", tl, (rst - t_close) / 1000, (ev - rst) / 1000
		exit bad
	}' "$1"
}

check_refused() {
	awk -F'\t' -v tl="$1" '
	$1 == "K" && $3 == 2 && $4 == "tcp_send_reset" && $7 == "NO_SOCKET" && !ev { ev = $2 }
	$1 == "P" && $3 == 2 && $4 == 2 && int($12 / 4) % 2 && !rst { rst = $2 }
	$1 == "K" && $3 == 2 && $4 == "kfree_skb" && $7 == "NO_SOCKET" && !drop { drop = $2 }
	$1 == "K" && $3 == 0 && $4 == "inet_sock_set_state" && $5 == 2 && $6 == 7 && !t_close { t_close = $2 }
	END {
		if (!ev || !rst || !drop || !t_close) { print tl ": missing events"; exit 1 }
		bad = 0
		if (!(ev < rst)) { print tl ": RST packet before tcp_send_reset"; bad = 1 }
		if (!(ev < drop)) { print tl ": SYN dropped before the RST answered it"; bad = 1 }
		if (!(rst < t_close)) { print tl ": client closed before the RST left"; bad = 1 }
		printf "%s: tcp_send_reset -> RST %.1f us, drop +%.1f us\n", tl, (rst - ev) / 1000, (drop - ev) / 1000
		exit bad
	}' "$1"
}

check_timewait() {
	awk -F'\t' -v tl="$1" '
	$1 == "P" && $3 == 2 && $4 == 2 && $12 % 2 { fin = $2 }
	$1 == "P" && $3 == 0 && $4 == 0 && fin && $2 > fin && $14 == 0 && int($12 / 16) % 2 && !ack { ack = $2 }
	$1 == "K" && $3 == 0 && $4 == "inet_sock_set_state" && $5 == 5 && $6 == 7 { t_close = $2 }
	$1 == "S" && $3 == 0 && $4 == 6 && !tw { tw = $2 }
	END {
		if (!ack || !t_close || !tw) { print tl ": missing events"; exit 1 }
		bad = 0
		if (!(ack < t_close)) { print tl ": FIN_WAIT2 -> CLOSE before the last ACK"; bad = 1 }
		if (!(t_close < tw)) { print tl ": TIME-WAIT seen before the change"; bad = 1 }
		printf "%s: last ACK -> FIN_WAIT2->CLOSE %.1f us -> TIME-WAIT sampled %.1f us\n", tl, (t_close - ack) / 1000, (tw - t_close) / 1000
		exit bad
	}' "$1"
}

for i in $(seq 1 $runs); do
	"$socklab" run --quiet --results "$out/u$i" close-unread-rst >/dev/null 2>&1 ||
		{ echo "close-unread-rst run $i failed"; fail=1; }
	"$socklab" run --quiet --results "$out/r$i" rst-refused >/dev/null 2>&1 ||
		{ echo "rst-refused run $i failed"; fail=1; }
	SOCKLAB_EXPERIMENTS_DIR=$build/trace-experiments \
		"$socklab" run --quiet --results "$out/t$i" kernel-timewait >"$out/t$i.txt" 2>&1 ||
		{ echo "kernel-timewait run $i failed:"; tail -n 20 "$out/t$i.txt";
		  cat "$out"/t$i/*/kernel-timewait/timeline.txt 2>/dev/null | grep -E "FAIL|ERROR|skip" ; fail=1; }
done
n=0
# find, not a glob: each results folder also has a "latest" link.
tls() { find "$out" -path "*/$1/*/timeline.tl" | sort; }
for tl in $(tls close-unread-rst); do check_unread "$tl" || fail=1; n=$((n + 1)); done
for tl in $(tls rst-refused); do check_refused "$tl" || fail=1; n=$((n + 1)); done
for tl in $(tls kernel-timewait); do check_timewait "$tl" || fail=1; n=$((n + 1)); done
[ $n = $((runs * 6)) ] || { echo "expected $((runs * 6)) timelines, found $n"; fail=1; }
[ $fail = 0 ] && echo "trace order: $n timelines consistent"
exit $fail
