#!/usr/bin/env bash
# The lab guides' generated blocks (timeline excerpts, ladders, predictions)
# are what their stored recordings give today: every guide is regenerated
# from experiments/<id>/guide/*.tl, each recording re-judged by its
# experiment's current binary, and the test fails when a guide differs (a
# hand edit of a block, a change of the harness's output) or when a
# recording no longer behaves as its variant declares.  Then the check is
# shown to fail on both kinds of drift: a generated line edited by hand,
# and an experiment whose predictions changed (rst-refused with its 50 ms
# tolerances made 60 ms, built by tests/CMakeLists.txt).
# usage: guides.sh <socklab binary> <build dir>
set -u
build=$(realpath "$2")
src=$(cd "$(dirname "$0")/../.." && pwd)
gen=$src/tools/guides.sh
for tool in jq perl diff gzip; do
	command -v $tool > /dev/null || { echo "skipped: needs $tool (make deps)"; exit 77; }
done

# No guide without blocks, and no shown variant without its recording:
# otherwise the check below would pass by checking nothing.
for f in "$src"/experiments/*/README.md; do
	id=$(basename "$(dirname "$f")")
	# One block at least with all of a variant's predictions: a block
	# narrowed by grep= or drop= would not see a change to the others.
	grep -Eq '^<!-- socklab:generated predictions variant=[A-Za-z0-9_]+ -->$' "$f" || {
		echo "FAIL: $id: the guide has no generated block of all a variant's predictions"
		exit 1
	}
	for v in $(sed -n 's/^<!-- socklab:generated [a-z]* .*variant=\([A-Za-z0-9_]*\).*-->$/\1/p' "$f" | sort -u); do
		[ -f "$src/experiments/$id/guide/$v.tl.gz" ] || {
			echo "FAIL: $id: no recording of variant $v (make guides)"
			exit 1
		}
	done
done

"$gen" "$build" check || {
	echo "FAIL: a guide differs from what its recordings give; run make guides (or tools/guides.sh build write) after changing an experiment"
	exit 1
}
echo "ok: $(ls "$src"/experiments/*/guide/*.tl.gz | wc -l) recordings give the $(ls "$src"/experiments/*/README.md | wc -l) guides as they are"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A copy of the tree's guides and tools, one generated line edited.
mkdir -p "$tmp/tree"
cp -r "$src/tools" "$src/experiments" "$tmp/tree/"
guide=$tmp/tree/experiments/close-unread-rst/README.md
# (The line itself, not the marker above it, which may name the line.)
awk '/^<!-- socklab:generated excerpt / { on = 1; print; next }
     /^<!-- \/socklab:generated -->/ { on = 0 }
     on && !done && sub(/read\(\) = 90/, "read() = 91") { done = 1 }
     { print }' "$src/experiments/close-unread-rst/README.md" > "$guide"
cmp -s "$guide" "$src/experiments/close-unread-rst/README.md" && {
	echo "FAIL: the test could not edit a generated line of close-unread-rst's guide"
	exit 1
}
if "$tmp/tree/tools/guides.sh" "$build" check close-unread-rst > "$tmp/edited.out" 2>&1; then
	echo "FAIL: a hand-edited generated line passed the check"
	exit 1
fi
grep -q '^-.*read() = 91' "$tmp/edited.out" || {
	echo "FAIL: the check failed, but did not show the edited line:"
	cat "$tmp/edited.out"
	exit 1
}
echo "ok: a hand-edited generated line fails the check"

# The same guide and recording, judged by an experiment whose predictions
# changed.
drift=$build/guide-drift
[ -x "$drift/experiments/rst-refused" ] || {
	echo "FAIL: $drift/experiments/rst-refused is not built"
	exit 1
}
if "$gen" "$drift" check rst-refused > "$tmp/drift.out" 2>&1; then
	echo "FAIL: a changed prediction passed the check"
	exit 1
fi
grep -q '^+.*within 60 ms' "$tmp/drift.out" || {
	echo "FAIL: the check failed, but did not show the changed prediction:"
	cat "$tmp/drift.out"
	exit 1
}
echo "ok: a prediction changed in the experiment fails the check"

# A recording that no longer behaves as its variant declares: the server's
# RST taken out of rst-refused's recording, so that the variant no longer
# holds.
mkdir -p "$tmp/tree2"
cp -r "$src/tools" "$src/experiments" "$tmp/tree2/"
rec=$tmp/tree2/experiments/rst-refused/guide/bound_not_listening.tl.gz
# P lines: time, the capturing host, the sender, the receiver, ...; the
# server (host 2) sends nothing any more.
gzip -dc "$rec" | awk -F'\t' '!($1 == "P" && $4 == 2)' | gzip -n > "$tmp/rec.gz" &&
	cp "$tmp/rec.gz" "$rec"
if "$tmp/tree2/tools/guides.sh" "$build" check rst-refused > "$tmp/nohold.out" 2>&1; then
	echo "FAIL: a recording that no longer holds passed the check"
	exit 1
fi
grep -q 'does not hold, but is declared to' "$tmp/nohold.out" || {
	echo "FAIL: the check failed, but did not say the variant no longer holds:"
	cat "$tmp/nohold.out"
	exit 1
}
echo "ok: a recording that no longer holds fails the check"
