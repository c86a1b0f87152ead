#!/usr/bin/env bash
# The timeline's sources share one clock: a SYN can never appear before the
# connect() call that sent it, the server's capture never sees a segment
# before the client's capture saw it leave, and the RST never precedes the
# "closing" mark of the close() that caused it.  Checked on 5 real runs of
# close-unread-rst (both variants each), from the recorded timeline.tl.
# usage: clock_order.sh <socklab binary> <build dir>
set -u
build=$2
exp=$build/experiments/close-unread-rst
if [ "$(id -u)" != 0 ]; then echo "skipped: needs root (network namespaces)"; exit 77; fi
[ -x "$exp" ] || { echo "missing $exp"; exit 1; }
out=$(mktemp -d /tmp/socklab-clock-XXXXXX)
trap 'rm -rf "$out"' EXIT
fail=0
for i in 1 2 3 4 5; do
	"$exp" --run --results "$out/$i" >/dev/null || { echo "run $i failed"; fail=1; continue; }
	for tl in "$out/$i"/*/timeline.tl; do
		awk -F'\t' -v tl="$tl" '
		$1 == "C" && $7 == "connect" && $4 == 0 { connect = $3 }
		$1 == "M" && $4 == "closing" { closing = $2 }
		$1 == "P" && $4 == 0 && int($12 / 2) % 2 && !syn_c && $3 == 0 { syn_c = $2 }
		$1 == "P" && $4 == 0 && int($12 / 2) % 2 && !syn_s && $3 == 2 { syn_s = $2 }
		$1 == "P" && $4 == 2 && int($12 / 4) % 2 && !rst && $3 == 2 { rst = $2 }
		END {
			bad = 0
			if (!connect || !syn_c || !syn_s || !closing || !rst) {
				print tl ": missing events"; exit 1 }
			if (syn_c < connect) { print tl ": SYN " syn_c " before connect() " connect; bad = 1 }
			if (syn_s < syn_c) { print tl ": SYN at server " syn_s " before it left the client " syn_c; bad = 1 }
			if (rst < closing) { print tl ": RST " rst " before the closing mark " closing; bad = 1 }
			printf "%s: connect->SYN %.1f us, client->server capture %.1f us, closing->RST %.1f us\n",
				tl, (syn_c - connect) / 1000, (syn_s - syn_c) / 1000, (rst - closing) / 1000
			exit bad
		}' "$tl" || fail=1
	done
done
[ $fail = 0 ] && echo "clock order: 10 timelines consistent"
exit $fail
