#!/usr/bin/env bash
# CATALOGUE.md, the project's index of claims, says what the experiments say
# of themselves: every experiment once, under its topic and in the learning
# order, with its claim, expected verdict and belief as its EXPERIMENT block
# has them (only the verdicts, which a run gives, may differ).  And the check
# itself can fail: a catalogue with one claim's text changed is refused.
# usage: catalogue.sh <socklab binary> <build dir>
set -u
bin=$(realpath "$1")
src=$(cd "$(dirname "$0")/../.." && pwd)
gen=$src/tools/catalogue.sh
command -v jq > /dev/null || { echo "skipped: needs jq (make deps)"; exit 77; }

"$gen" "$bin" --check "$src/CATALOGUE.md" || {
	echo "FAIL: CATALOGUE.md has drifted from the experiments"
	exit 1
}

# Every experiment has its row, and its guide exists.
for id in $("$bin" list --json | jq -r .id); do
	grep -q "^| \[$id\](experiments/$id/README.md) |" "$src/CATALOGUE.md" || {
		echo "FAIL: $id has no row in CATALOGUE.md"
		exit 1
	}
	[ -f "$src/experiments/$id/README.md" ] || {
		echo "FAIL: $id has no lab guide"
		exit 1
	}
done

# The check sees a drifted claim, and a missing row.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed -E '0,/^\| \[/s/^(\| \[[^]]*\]\([^)]*\) \| )[^|]/\1X/' "$src/CATALOGUE.md" > "$tmp/changed.md"
if "$gen" "$bin" --check "$tmp/changed.md" 2> /dev/null; then
	echo "FAIL: a changed claim passed the check"
	exit 1
fi
grep -v '^| \[rst-refused\]' "$src/CATALOGUE.md" > "$tmp/missing.md"
if "$gen" "$bin" --check "$tmp/missing.md" 2> /dev/null; then
	echo "FAIL: a missing row passed the check"
	exit 1
fi
echo "ok: CATALOGUE.md matches the $("$bin" list --json | wc -l) experiments"
