#!/usr/bin/env bash
# The socklab CLI's normal paths, on fake experiments written by this script
# (shell scripts that follow lib/protocol.h): the catalogue, the mapping of
# an experiment's exit status and result line to pass/FAIL/ERROR/skip and to
# the CLI's own exit status, --json, the run folder and results/latest,
# overlapping runs by default, -j, and what --variant and --keep pass on.
# usage: cli_run.sh <socklab binary> <build dir>
set -u
bin=$(realpath "$1")
if [ "$(id -u)" != 0 ]; then
	echo "skipped: needs root (socklab run checks root first)"
	exit 77
fi
[ -x "$bin" ] || { echo "missing $bin"; exit 1; }

tmp=$(mktemp -d /tmp/socklab-cli-run-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

cat > "$tmp/fake" <<'EOF'
#!/usr/bin/env bash
id=$(basename "$0")
if [ "$1" = --describe ]; then
	[ "$id" = broken ] && { echo "no describe here" >&2; exit 3; }
	printf '{"id":"%s","claim":"fake claim of %s","expected":"CONFIRMED","timeout_s":30,"variants":["one_1","two_2"]}\n' "$id" "$id"
	exit 0
fi
echo "$*" > "$SOCKLAB_FAKE_ARGS.$id"
dir=
while [ $# -gt 0 ]; do
	case $1 in
	--results) dir=$2; shift 2 ;;
	*) shift ;;
	esac
done
mkdir -p "$dir"
result() {	# verdict status holds [as_declared]
	printf '{"id":"%s","claim":"c","verdict":"%s","expected":"CONFIRMED","status":"%s","duration_s":0.1,"results":"%s","variants":[{"name":"two_2","holds":%s,"expected_holds":true%s,"error":null,"predictions":[{"what":"server sends R.","ok":%s,"skipped":null,"evidence":"saw F. at 0.2 ms"}]}],"measured":{}}\n' "$id" "$1" "$2" "$dir" "$3" "${4-,\"as_declared\":$3}" "$3"
}
case $id in
pass*)
	echo " 0.000000  client  connect() = 0" > "$dir/timeline.txt"
	echo "noise before the result line"
	result CONFIRMED pass true
	exit 0 ;;
slow*)	date +%s%N > "$SOCKLAB_FAKE_ARGS.$id.start"; sleep 1
	date +%s%N > "$SOCKLAB_FAKE_ARGS.$id.end"
	result CONFIRMED pass true; exit 0 ;;
fail)	result NUANCED fail false; exit 1 ;;
# Exit status and variants that disagree, or a variant that does not say
# whether it behaved as declared: neither can be believed.
liar)	result CONFIRMED pass false ',"as_declared":false'; exit 0 ;;
# Fails its first run, passes the next (for --repeat).
flaky)
	n=$(($(cat "$SOCKLAB_FAKE_ARGS.runs" 2>/dev/null || echo 0) + 1))
	echo $n > "$SOCKLAB_FAKE_ARGS.runs"
	[ $n -gt 1 ] && { result CONFIRMED pass true; exit 0; }
	result NUANCED fail false; exit 1 ;;
mute)	result CONFIRMED pass true ''; exit 0 ;;
crash)	kill -SEGV $$ ;;
nojson)	echo "no result here"; exit 0 ;;
skip)	echo "needs tracefs" >&2; exit 77 ;;
esac
EOF
chmod 755 "$tmp/fake"
mkdir "$tmp/exps"
for id in pass pass2 slow1 slow2 fail crash nojson skip broken liar mute flaky; do
	ln -s ../fake "$tmp/exps/$id"
done
export SOCKLAB_EXPERIMENTS_DIR=$tmp/exps SOCKLAB_FAKE_ARGS=$tmp/args

fail=0
bad() {
	echo "FAIL: $*"
	fail=1
}

# run_cli <expected exit> <args...>: output in $tmp/out and $tmp/err.
run_cli() {
	local want=$1 rc
	shift
	"$bin" "$@" > "$tmp/out" 2> "$tmp/err"
	rc=$?
	[ "$rc" = "$want" ] || {
		bad "socklab $*: exit $rc, expected $want"
		sed 's/^/    /' "$tmp/out" "$tmp/err"
	}
	return 0
}

# The catalogue: sorted, the broken one listed with its reason, exit 2.
run_cli 2 list
[ "$(awk 'NR > 1 { print $1 }' "$tmp/out" | tr '\n' ' ')" = \
  "broken crash fail flaky liar mute nojson pass pass2 skip slow1 slow2 " ] ||
	bad "list: ids not all there in order: $(cat "$tmp/out")"
grep -q '^broken .*(broken: --describe exited with status 3: no describe here)' \
	"$tmp/out" || bad "list: the broken experiment's reason is missing"
run_cli 2 list --json
[ "$(grep -c '^{"id":' "$tmp/out")" = 12 ] || bad "list --json: not 12 lines"
echo "ok: list"

# Exit statuses: error wins over failure, failure over skip.
run_cli 0 run pass
run_cli 1 run pass fail
run_cli 2 run pass fail crash
run_cli 77 run pass skip
run_cli 2 run nojson
grep -q '^nojson: printed an invalid result line: no result here' "$tmp/out" ||
	bad "nojson: reason missing"
run_cli 2 run crash
grep -q '^crash: crashed: killed by signal 11' "$tmp/out" ||
	bad "crash: reason missing"
run_cli 2 run broken
grep -q '^broken: broken experiment: --describe exited' "$tmp/out" ||
	bad "broken: reason missing"
run_cli 2 run liar
grep -q '^liar: exited with status 0 but 1 of its variants did not behave as declared: two_2 does not hold, declared to$' \
	"$tmp/out" || bad "liar: reason missing"
run_cli 2 run mute
grep -q '^mute: exited with status 0 but its result says no "as_declared" for variant two_2$' \
	"$tmp/out" || bad "mute: reason missing"
echo "ok: exit statuses"

# One experiment: the summary, its timeline, the prediction that failed.
run_cli 1 run fail
grep -q '^fail  *NUANCED  *CONFIRMED  *FAIL ' "$tmp/out" ||
	bad "fail: summary row missing"
grep -q '^0 passed, 1 failed, 0 errors in .* wall (results/' "$tmp/out" ||
	bad "fail: summary line missing"
grep -q '^  two_2: server sends R\.$' "$tmp/out" &&
	grep -q '^      evidence: saw F. at 0.2 ms$' "$tmp/out" ||
	bad "fail: the failed prediction and its evidence are missing"
grep -q '^fail: not as declared: two_2 does not hold, declared to$' "$tmp/out" &&
	grep -q '^  two_2: does not hold, but is declared to hold (its failed predictions are above)$' "$tmp/out" ||
	bad "fail: the variant not as declared is not named"
# Several experiments: each failure's variants, with their evidence.
run_cli 1 run pass fail
grep -q '^fail: variants that did not behave as declared:$' "$tmp/out" &&
	grep -q '^  two_2: does not hold, but is declared to hold$' "$tmp/out" &&
	grep -q '^      \[FAIL\] server sends R\.$' "$tmp/out" &&
	grep -q '^          evidence: saw F. at 0.2 ms$' "$tmp/out" ||
	bad "pass fail: the failure's variant and evidence are missing"
grep -q '^pass: ' "$tmp/out" && bad "pass fail: a reason for the pass"
run_cli 0 run pass
grep -q 'pass/timeline.txt:$' "$tmp/out" &&
	grep -q '^ 0.000000  client  connect() = 0$' "$tmp/out" ||
	bad "pass: the timeline is not printed"
run_cli 0 run --quiet pass
grep -q 'timeline' "$tmp/out" && bad "--quiet: the timeline is printed"
[ -s "$tmp/err" ] && bad "--quiet: something on stderr: $(cat "$tmp/err")"
echo "ok: single experiment output"

# --json: one line per experiment on stdout, the experiment's own line when
# it has one, and nothing else; the summary goes to stderr.
run_cli 2 run --json pass fail crash
[ "$(wc -l < "$tmp/out")" = 3 ] || bad "--json: not 3 lines on stdout"
[ "$(grep -c '^{.*}$' "$tmp/out")" = 3 ] || bad "--json: a line is not an object"
grep -q '^{"id":"pass","claim":"c","verdict":"CONFIRMED".*"status":"pass"' \
	"$tmp/out" || bad "--json: pass's own line is not passed on"
grep -q '^{"id":"crash",.*"verdict":"ERROR".*"status":"error","error":"crashed: ' \
	"$tmp/out" || bad "--json: crash has no error line"
grep -q '1 passed, 1 failed, 1 error in' "$tmp/err" ||
	bad "--json: the summary is not on stderr"
echo "ok: --json"

# The run folder: results/YYYYmmdd-HHMMSS-PID/<id>/, with the experiment's
# stderr next to its results, and results/latest pointing at the newest.
run_cli 0 run pass
latest=$(readlink results/latest)
[[ $latest =~ ^[0-9]{8}-[0-9]{6}-[0-9]+$ ]] || bad "latest -> '$latest'"
[ -f "results/$latest/pass/timeline.txt" ] || bad "no results/latest/pass"
[ -f "results/$latest/pass/stderr.txt" ] || bad "no stderr.txt"
grep -q "(results/$latest)" "$tmp/out" || bad "summary does not name the run"
[ -e results/.latest-* ] 2>/dev/null && bad "a temporary link was left"
echo "ok: results folder"

# By default every experiment starts at once: each of two 1 s experiments
# starts before the other ends; -j 1 runs them one after the other, the
# second starting after the first ended.  Judged from when each ran, not
# from the wall time, which a busy machine stretches.
a=$tmp/args
overlap() { [ "$(cat "$a.slow1.start")" -lt "$(cat "$a.slow2.end")" ] &&
	[ "$(cat "$a.slow2.start")" -lt "$(cat "$a.slow1.end")" ]; }
run_cli 0 run --quiet slow1 slow2
overlap || bad "default -j: the two experiments did not overlap"
ms=$((($(cat "$a.slow1.end") - $(cat "$a.slow2.start")) / 1000000))
run_cli 0 run --quiet -j 1 slow1 slow2
overlap && bad "-j 1: the two experiments overlapped"
echo "ok: overlap (slow2 started, slow1 ended: $ms ms apart) and -j 1 (one after the other)"

# What reaches the experiment.
run_cli 0 run --keep --variant two_2 pass
grep -q -- "^--run --results $tmp/results/.*/pass --keep --variant two_2 --results-fd 3 --progress-fd [0-9]*$" \
	"$tmp/args.pass" || bad "pass-through: $(cat "$tmp/args.pass")"
run_cli 64 run --variant nope pass
grep -q "pass has no variant 'nope' (its variants: one_1 two_2)" "$tmp/err" ||
	bad "unknown variant: $(cat "$tmp/err")"
echo "ok: --keep and --variant"

# --repeat N: N whole runs, each with its own folder, then the tally; exit 0
# only when every experiment passed every time.
run_cli 64 run --repeat 0 pass
grep -q "^socklab: run: --repeat needs a number of runs from 1 to 10000, not '0'" \
	"$tmp/err" || bad "--repeat 0: $(cat "$tmp/err")"
run_cli 64 run --repeat 10001 pass
run_cli 64 run --repeat two pass
run_cli 64 run --repeat 2 --keep pass
grep -q -- "--keep and --repeat do not go together" "$tmp/err" ||
	bad "--repeat --keep: $(cat "$tmp/err")"
rm -rf results
run_cli 0 run --quiet --repeat 2 pass pass2
[ "$(ls results | grep -c -- '-[12]$')" = 2 ] ||
	bad "--repeat 2: not two run folders: $(ls results)"
[ "$(grep -c '^2 passed, 0 failed, 0 errors in ' "$tmp/out")" = 2 ] ||
	bad "--repeat 2: not two summaries"
grep -q '^over 2 runs:$' "$tmp/out" &&
	grep -q '^pass  *2/2  CONFIRMED x2$' "$tmp/out" &&
	grep -q '^pass2  *2/2  CONFIRMED x2$' "$tmp/out" &&
	grep -q '^2 of 2 experiments passed every run$' "$tmp/out" ||
	bad "--repeat 2: tally missing: $(cat "$tmp/out")"
rm -f "$tmp/args.runs"
run_cli 1 run --repeat 2 flaky pass
grep -q '^socklab: run 2 of 2: running 2 experiments; results in ' "$tmp/err" ||
	bad "--repeat: no progress line for run 2"
grep -q '^flaky  *1/2  CONFIRMED x1, NUANCED x1$' "$tmp/out" &&
	grep -q '^  two_2: did not hold although declared to 1/2$' "$tmp/out" &&
	grep -q '^pass  *2/2  CONFIRMED x2$' "$tmp/out" &&
	grep -q '^1 of 2 experiments passed every run$' "$tmp/out" ||
	bad "--repeat flaky: tally wrong: $(cat "$tmp/out")"
rm -f "$tmp/args.runs"
run_cli 1 run --json --repeat 2 flaky
[ "$(grep -c '^{"id":"flaky","claim"' "$tmp/out")" = 2 ] ||
	bad "--repeat --json: not two result lines"
grep -q '^{"id":"flaky","repeat":{"runs":2,"passed":1,"failed":1,"errors":0,"skipped":0,"verdicts":{"CONFIRMED":1,"NUANCED":1},"variants":\[{"name":"one_1","not_as_declared":0,.*},{"name":"two_2","not_as_declared":1,"held_declared_not_to":0,"failed_declared_to":1,"errors":0}\]}}$' \
	"$tmp/out" || bad "--repeat --json: no tally line: $(cat "$tmp/out")"
[ "$(tail -n 1 "$tmp/out" | cut -c1-26)" = '{"id":"flaky","repeat":{"r' ] ||
	bad "--repeat --json: the tally is not last"
grep -q '^over 2 runs:$' "$tmp/err" || bad "--repeat --json: tally not on stderr"
run_cli 2 run --quiet --repeat 2 crash
grep -q '^crash  *0/2  ERROR x2$' "$tmp/out" || bad "--repeat crash: $(cat "$tmp/out")"
echo "ok: --repeat"

# The same on a real experiment, the fastest of the catalogue.
if [ -x "$2/experiments/rst-refused" ]; then
	SOCKLAB_EXPERIMENTS_DIR=$2/experiments run_cli 0 run --quiet --repeat 2 rst-refused
	grep -q '^rst-refused  *2/2  CONFIRMED x2$' "$tmp/out" ||
		bad "--repeat rst-refused: $(cat "$tmp/out")"
	echo "ok: --repeat 2 rst-refused"
else
	bad "no $2/experiments/rst-refused to run"
fi

exit $fail
