#!/usr/bin/env bash
# Judging a recorded run again: an experiment's --judge reads each
# variant's timeline.tl and prints the result a run printed, running
# nothing; --out writes the files a run derives from its timeline, the
# same bytes as the run wrote, and never over a recording; a recording
# edited (the server's RST taken out) makes the prediction on it fail.
# `socklab judge` prints what `socklab run` printed: the same verdict and
# prediction lines, and the edited recording's failure.
# usage: judge.sh <socklab binary> <build dir>
set -u
bin=$(realpath "$1")
build=$(realpath "$2")
exp=$build/experiments/rst-refused
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
. "$(dirname "$0")/common.bash"

[ "$(id -u)" = 0 ] || { echo "needs root (a real run to judge)"; exit 77; }
[ -x "$exp" ] || fail "no $exp"
private_netns "$0" "$@"

# The predictions of a result line: name, holds, and each one's text, ok
# and evidence, one per line.
preds() {
	jq -r '.variants[] | .name as $v | "\($v) holds=\(.holds) error=\(.error)",
		(.predictions[] | "\($v) \(.ok) \(.what) | \(.evidence)")' "$1"
}

export SOCKLAB_EXPERIMENTS_DIR=$build/experiments
"$bin" run --results "$tmp/res" rst-refused > "$tmp/run.out" 2>&1 ||
	fail "the run to judge did not pass"
rec=$(realpath "$tmp/res/latest/rst-refused")
ns_before=$(ls /run/netns | wc -l)

# Judged again as it was: the same verdict and the same predictions.
"$exp" --judge --results "$rec" > "$tmp/j.json" || fail "--judge exited $?"
[ "$(wc -l < "$tmp/j.json")" = 1 ] || fail "more than the result line"
[ "$(jq -r .verdict "$tmp/j.json")" = "$(jq -r .verdict "$rec/verdict.json")" ] ||
	fail "verdict differs"
[ "$(jq -r .kernel "$tmp/j.json")" = "$(jq -r .kernel "$rec/verdict.json")" ] ||
	fail "kernel differs"
preds "$rec/verdict.json" > "$tmp/p.run"
preds "$tmp/j.json" > "$tmp/p.judge"
[ "$(wc -l < "$tmp/p.run")" -gt 6 ] || fail "too few predictions: $(cat "$tmp/p.run")"
diff "$tmp/p.run" "$tmp/p.judge" || fail "predictions differ"
[ "$(ls /run/netns | wc -l)" = "$ns_before" ] || fail "--judge made namespaces"
echo "ok: re-judged like the run ($(wc -l < "$tmp/p.run") lines)"

# --variant: only that one.
"$exp" --judge --results "$rec" --variant nothing_on_port > "$tmp/one.json" ||
	fail "--variant exited $?"
[ "$(jq -r '[.variants[].name] | join(",")' "$tmp/one.json")" = nothing_on_port ] ||
	fail "--variant judged $(jq -c '[.variants[].name]' "$tmp/one.json")"

# --out: the derived files, byte for byte what the run wrote.
"$exp" --judge --results "$rec" --out "$tmp/out" > /dev/null || fail "--out exited $?"
for v in nothing_on_port bound_not_listening listening_on_other_port; do
	for f in timeline.txt ladder.txt ladder.svg ladder.mmd; do
		cmp -s "$rec/$v/$f" "$tmp/out/$v/$f" || fail "$v/$f differs from the run's"
	done
done
[ "$(jq -r .results "$tmp/out/verdict.json")" = "$tmp/out" ] || fail "results not OUT"
grep -q '^== variant nothing_on_port: holds, as declared ==' "$tmp/out/timeline.txt" ||
	fail "no report timeline.txt in OUT"
echo "ok: --out wrote the run's files again"

# Never over a recording: OUT the recorded run itself is refused.
before=$(md5sum "$rec"/*/timeline.txt "$rec/verdict.json")
"$exp" --judge --results "$rec" --out "$rec" > "$tmp/self.json" 2>&1
[ $? = 2 ] || fail "--out onto the recording did not fail"
[ "$(md5sum "$rec"/*/timeline.txt "$rec/verdict.json")" = "$before" ] ||
	fail "the recording was written over"
"$exp" --judge --out "$tmp/x" > /dev/null 2>&1
[ $? = 64 ] || fail "--judge without --results is not a usage error"
"$exp" --judge --keep --results "$rec" > /dev/null 2>&1
[ $? = 64 ] || fail "--judge --keep is not a usage error"

# A recording edited: the server's RST (flags R. = 20) taken out of a copy
# of one variant.  That prediction fails, the others still hold.
cp -r "$rec" "$tmp/edited"
tl=$tmp/edited/nothing_on_port/timeline.tl
awk -F'\t' '!($1 == "P" && $12 == 20)' "$tl" > "$tmp/tl" && cp "$tmp/tl" "$tl"
[ "$(grep -c '^P' "$tl")" -lt "$(grep -c '^P' "$rec/nothing_on_port/timeline.tl")" ] ||
	fail "no RST segment to take out"
"$exp" --judge --results "$tmp/edited" > "$tmp/e.json"
rc=$?
[ $rc = 1 ] || fail "edited recording exited $rc, not 1"
[ "$(jq -r .verdict "$tmp/e.json")" = NUANCED ] || fail "verdict $(jq -r .verdict "$tmp/e.json")"
jq -e '.variants[] | select(.name == "nothing_on_port") | .holds == false and
	any(.predictions[]; .ok == false and (.what | test("from server with \\[R.\\]")))' \
	"$tmp/e.json" > /dev/null || fail "the RST prediction did not fail"
echo "ok: without its RST the variant fails"

# A variant with no recording is an ERROR that says why.
rm "$tmp/edited/bound_not_listening/timeline.tl"
"$exp" --judge --results "$tmp/edited" --variant bound_not_listening > "$tmp/m.json"
[ $? = 2 ] || fail "a missing recording is not an error"
jq -e '.variants[0].error | test("no recording to judge: load .*timeline.tl")' \
	"$tmp/m.json" > /dev/null || fail "error: $(jq .variants[0].error "$tmp/m.json")"
echo "ok: a missing recording is an error"

# socklab judge: the same table row (but the duration), verdict line and
# prediction lines with their evidence as the run printed.
lines() { # the lines that carry the verdict and the predictions
	grep -E '^(rst-refused  |verdict |  \[|         )' "$1" |
		sed -E 's/ +[0-9.]+ s$//'
}
(cd "$tmp" && "$bin" judge res/latest/rst-refused) > "$tmp/judge.out" 2>&1 ||
	fail "socklab judge exited $?: $(cat "$tmp/judge.out")"
lines "$tmp/run.out" > "$tmp/l.run"
lines "$tmp/judge.out" > "$tmp/l.judge"
[ "$(grep -c '^  \[ ok \]' "$tmp/l.run")" -ge 30 ] || fail "few prediction lines: $(cat "$tmp/l.run")"
diff "$tmp/l.run" "$tmp/l.judge" || fail "socklab judge printed other lines than run"
grep -q "^1 passed, 0 failed, 0 errors (judged again from the recording in res/$(readlink "$tmp/res/latest"))" \
	"$tmp/judge.out" || fail "summary line: $(grep passed "$tmp/judge.out")"
echo "ok: socklab judge prints what run printed ($(wc -l < "$tmp/l.run") lines)"
ls /tmp | grep -q '^socklab-judge-' && fail "judge left its folder in /tmp"

# A run's name under --results, and --json as run --json.
"$bin" judge --results "$tmp/res" --json latest > "$tmp/judge.json" 2> /dev/null ||
	fail "judge --json exited $?"
[ "$(jq -r .results "$tmp/judge.json")" = "$tmp/res/$(readlink "$tmp/res/latest")/rst-refused" ] ||
	fail "results: $(jq -r .results "$tmp/judge.json")"
preds "$tmp/judge.json" > "$tmp/p.cli"
diff "$tmp/p.run" "$tmp/p.cli" || fail "judge --json predictions differ"

# The edited recording, as a run: a finding, exit 1, the failure shown.
mkdir "$tmp/editrun" && cp -r "$rec" "$tmp/editrun/rst-refused"
awk -F'\t' '!($1 == "P" && $12 == 20)' "$rec/nothing_on_port/timeline.tl" \
	> "$tmp/editrun/rst-refused/nothing_on_port/timeline.tl"
"$bin" judge "$tmp/editrun" > "$tmp/edit.out" 2>&1
rc=$?
[ $rc = 1 ] || fail "judge of the edited run exited $rc: $(cat "$tmp/edit.out")"
grep -Eq '^rst-refused +NUANCED +CONFIRMED +FAIL' "$tmp/edit.out" ||
	fail "no NUANCED row: $(cat "$tmp/edit.out")"
grep -q '^  nothing_on_port: a packet from server with \[R.\] after "connecting", sent within 50 ms' \
	"$tmp/edit.out" || fail "the failed prediction is not shown"
echo "ok: socklab judge sees the edited recording fail"

# Bad input: one line, the CLI's statuses.
"$bin" judge 2> "$tmp/err"; [ $? = 64 ] || fail "no run: not 64"
"$bin" judge "$tmp/nowhere/none" 2> "$tmp/err"; [ $? = 2 ] || fail "missing run: not 2"
grep -q "no run '$tmp/nowhere/none'" "$tmp/err" || fail "missing run: $(cat "$tmp/err")"
"$bin" judge "$tmp/editrun/nope" 2> "$tmp/err"; [ $? = 64 ] || fail "unknown id: not 64"
grep -q "has no experiment 'nope'" "$tmp/err" || fail "unknown id: $(cat "$tmp/err")"
mkdir -p "$tmp/editrun/not-an-experiment" && touch "$tmp/editrun/not-an-experiment/verdict.json"
"$bin" judge "$tmp/editrun" 2> "$tmp/err" > /dev/null; [ $? = 64 ] || fail "unknown experiment: not 64"
grep -q "'not-an-experiment', which is no experiment of the catalogue" "$tmp/err" ||
	fail "unknown experiment: $(cat "$tmp/err")"
echo "ok: bad input"
exit 0
