#!/bin/bash
# catalogue.sh: writes CATALOGUE.md, the project's index of claims, from
# what the experiments say of themselves (socklab list --json: id, claim,
# expected verdict, belief, topic) and from a run's verdicts.
#
#   tools/catalogue.sh SOCKLAB [RUN]          the catalogue, on stdout
#   tools/catalogue.sh SOCKLAB --check FILE   exit 1 when FILE's claims,
#                                             beliefs or order differ from
#                                             the experiments' own
#
# RUN is a run folder (results/latest); each claim's last verdict is read
# from RUN/<id>/verdict.json with the kernel it was found on.  The claims'
# text lives in the experiments alone, so the catalogue cannot drift from
# them: `make catalogue` rewrites it, and the test catalogue.sh checks it.
set -euo pipefail

socklab=${1:?usage: catalogue.sh SOCKLAB [RUN | --check FILE]}
shift
run= check=
if [ "${1:-}" = --check ]; then
	check=${2:?--check needs the file to check}
elif [ $# -gt 0 ]; then
	run=$1
	[ -d "$run" ] || { echo "catalogue.sh: $run: no such run folder" >&2; exit 2; }
	run_date=$(basename "$(readlink -f "$run")" |
		sed -E 's/^([0-9]{4})([0-9]{2})([0-9]{2}).*/\1-\2-\3/')
fi

list=$("$socklab" list --json) || {
	echo "catalogue.sh: socklab list --json failed" >&2
	exit 2
}
missing=$(jq -r 'select(.topic == null) | .id' <<<"$list")
if [ -n "$missing" ]; then
	echo "catalogue.sh: no .topic in EXPERIMENT of: $missing" >&2
	exit 2
fi

# The learning order, and what each part is about.
topics=(establishment acks flow-control rst teardown time-wait keepalive queues)
declare -A title=(
	[establishment]="Opening a connection"
	[acks]="Acknowledgements"
	[flow-control]="Flow control"
	[rst]="Resets"
	[teardown]="Teardown"
	[time-wait]="TIME-WAIT"
	[keepalive]="Dead peers: keepalive and retransmission limits"
	[queues]="Listen queues"
)
declare -A intro=(
	[establishment]="How SYN, SYN-ACK and ACK move both sides into ESTABLISHED, and what a SYN on a live connection draws."
	[acks]="When Linux acknowledges at once, when it waits, and what an ACK carries besides the number: SACK blocks, a window."
	[flow-control]="What a receiver that stops reading does to its window, to the sender's buffers and to send()."
	[rst]="Who sends RST, when, and what the application sees of it."
	[teardown]="FIN by FIN: half-close, lost ACKs, dead peers during the close."
	[time-wait]="Why the active closer waits, for how long, and what can cut the wait short."
	[keepalive]="How a silent peer is found out: keepalive probes, retransmission back-off, the retry limits."
	[queues]="The listen socket's two queues, what fills them and what happens when they are full."
)

header() {
	cat <<'HEAD'
# The catalogue of claims

Every claim socklab tests, in the order a learner meets the subjects. Each
row names the experiment that puts the claim to the test (its lab guide is
the link), what we believe Linux does, and the verdict the kernel gave the
last time the catalogue ran. A verdict comes from what the kernel did, never
from the belief: where they differ, the lab guide explains why.

This file is generated: `make catalogue` rewrites it from the experiments'
own claims (`socklab list --json`) and the verdicts of `results/latest`.
Edit the experiment, not this file; the test `catalogue` fails when they
disagree.

Verdicts: **CONFIRMED** (the kernel did what the claim says), **REFUTED** (it
did something else), **NUANCED** (true only under conditions the claim does
not state; the experiment shows both sides).

[The TCP state machine as the catalogue's runs walked it](docs/states.svg)
([PNG](docs/states.png)): RFC 9293's diagram with every transition the kernel
made in a whole run, each labelled with the experiments that made it
(`socklab states` draws it from any run; `make pictures` renews docs/).
HEAD
}

footer() {
	cat <<'FOOT'

## Proposing a claim

A claim is a sentence about what Linux TCP sockets do that a program can
check: "close() with unread data sends RST". To propose one, open an issue
with the claim in the words you found it in (a book, notes, a code review),
where it comes from, and what you believe the kernel does. To add it
yourself, write an experiment: [experiments/README.md](experiments/README.md)
says how, from the EXPERIMENT block (`.claim`, `.expected`, `.belief`,
`.topic`) to the lab guide. Its id is a short name of the claim, in the
topic's words (`timewait-duration`, `ack-delayed`); once published, an id
never changes, since results and guides link to it.
FOOT
}

verdict_of() {
	local id=$1 f=$run/$1/verdict.json
	if [ -z "$run" ] || [ ! -f "$f" ]; then
		echo "not run yet"
		return
	fi
	jq -r --arg d "$run_date" '"\(.verdict) (Linux \(.kernel // "?"), \($d))"' "$f"
}

# One topic's rows, all but the verdict from one jq: a claim's text may hold
# a "|", which Markdown's tables need escaped.
rows() {
	jq -r --arg t "$1" 'select(.topic == $t) |
		def cell: gsub("\\|"; "\\|");
		"\(.id)\t| [\(.id)](experiments/\(.id)/README.md) | \(.claim | cell) | \(.expected)\(if .belief then ": " + (.belief | cell) else "" end) |"' \
		<<<"$list" | while IFS=$'\t' read -r id row; do
		printf '%s %s |\n' "$row" "$(verdict_of "$id")"
	done
}

generate() {
	header
	for t in "${topics[@]}"; do
		grep -q "\"topic\":\"$t\"" <<<"$list" || continue
		printf '\n## %s\n\n%s\n\n' "${title[$t]}" "${intro[$t]}"
		printf '| experiment | the claim | we believe | last verdict |\n'
		printf '|---|---|---|---|\n'
		rows "$t"
	done
	footer
}

if [ -z "$check" ]; then
	generate
	exit 0
fi

# Everything but the verdicts, which a run gives, must be as generated.
strip() { sed -E 's/^(\| \[.*) \| [^|]*\|$/\1 |/'; }
if ! diff -u <(strip <"$check") <(generate | strip) >&2; then
	echo "catalogue.sh: $check differs from the experiments (above, - is" \
	     "the file, + the experiments); run make catalogue" >&2
	exit 1
fi
