#!/usr/bin/env bash
# socklab states: a run folder's recorded variants laid over RFC 9293's
# diagram, drawn by Graphviz into an SVG that a renderer accepts; the text
# form names the edges; bad input is one line and the documented status.
# No root needed: it reads recordings (here tests/data's, as a fake run).
# usage: states.sh <socklab binary> <build dir>
set -u
bin=$(realpath "$1")
data=$(cd "$(dirname "$0")/../data" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

for f in kernel-timewait kernel-linger-zero timewait-60s; do
	mkdir -p "$tmp/run/$f/v1"
	cp "$data/$f.tl" "$tmp/run/$f/v1/timeline.tl"
done
echo "not an experiment" > "$tmp/run/summary.txt"

out=$("$bin" states "$tmp/run") || fail "states exited $?: $out"
grep -q "3 variants" <<<"$out" || fail "no count in: $out"
[ -s "$tmp/run/states.svg" ] || fail "no states.svg"
grep -q '<svg' "$tmp/run/states.svg" || fail "states.svg is not SVG"
grep -Eq 'FIN(-|&#45;)WAIT(-|&#45;)2' "$tmp/run/states.svg" || fail "no state names in the SVG"
if command -v rsvg-convert > /dev/null; then
	rsvg-convert -o "$tmp/states.png" "$tmp/run/states.svg" ||
		fail "rsvg-convert refused states.svg"
	[ "$(stat -c %s "$tmp/states.png")" -gt 10000 ] || fail "a blank picture"
fi

text=$("$bin" states --format text "$tmp/run") || fail "text form"
grep -q '^FIN-WAIT-2    -> TIME-WAIT .* 1 variant: kernel-timewait' <<<"$text" ||
	fail "FIN-WAIT-2 -> TIME-WAIT not from kernel-timewait: $text"
grep -q '^ESTABLISHED   -> CLOSED .*(not in RFC 9293).*kernel-linger-zero' <<<"$text" ||
	fail "the abort is not Linux's own edge"
grep -q '^SYN-SENT      -> SYN-RECEIVED .*never observed' <<<"$text" ||
	fail "an edge no run made shows as observed"

"$bin" states --format dot -o - "$tmp/run" | grep -q '^digraph tcp {' ||
	fail "dot form"

"$bin" states --format png "$tmp/run" 2> "$tmp/err"
[ $? = 64 ] || fail "a bad format is not a usage error"
grep -q "svg, dot or text" "$tmp/err" || fail "bad format message: $(cat "$tmp/err")"
"$bin" states "$tmp/nothing" 2> "$tmp/err"
[ $? = 2 ] || fail "a missing run folder is not an error"
mkdir "$tmp/empty"
"$bin" states "$tmp/empty" 2> "$tmp/err"
[ $? = 2 ] || fail "an empty run folder is not an error"
grep -q "no recorded variant" "$tmp/err" || fail "empty folder message"
[ ! -e "$tmp/empty/states.svg" ] || fail "an empty run got a picture"
echo "ok: socklab states"
