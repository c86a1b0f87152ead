#!/usr/bin/env bash
# Progress without a terminal: `socklab run` with stdout and stderr to
# files prints, every --progress seconds, a line on stderr with the
# experiments still running and how long each is expected to take.  The
# expectation comes from something measured: the first run of an
# experiment under --results has only its timeout to go by ("at most ...
# (its timeout: T s)", T from `socklab list --json`); the next says
# "about ... (its last run took D s, in RUN)", D and RUN from the first
# run's verdict.json; with --variant, D is the longest of those variants'
# durations in the newest run.  stdout is left alone: with --json every
# line of it is still JSON.  The check fails without the lines: with
# --progress 0 (and with -q) the same count is 0.
# usage: progress.sh <socklab binary> <build dir>
set -u
export LC_ALL=C
bin=$(realpath "$1")
if [ "$(id -u)" != 0 ]; then
	echo "skipped: needs root (it runs an experiment)"
	exit 77
fi
. "$(dirname "$0")/common.bash"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Some five seconds long: with a line a second there are several.
id=keepalive-vs-retransmit
# A variant shorter than the whole (some 3.8 s of 5.5), yet long enough
# for two lines.
short_variant=data_tcp_retries2_2
timeout=$("$bin" list --json | jq -r --arg id $id \
	'select(.id == $id) | .timeout_s')
check "$id's timeout from socklab list --json ($timeout s)" \
	'[ -n "$timeout" ] && [ "$timeout" != null ]' || exit 1

# The progress lines of a run's stderr, for experiment $id.
progress() { grep -E "^socklab: [0-9]+ s: 0 of 1 done; $id running [0-9]+ s, " "$1"; }

run() { # name options...
	local name=$1
	shift
	"$bin" run $id --results "$tmp/results" "$@" > "$tmp/$name.out" \
		2> "$tmp/$name.err"
	echo $? > "$tmp/$name.rc"
	basename "$(realpath "$tmp/results/latest")" > "$tmp/$name.run"
}

# 1. First run here: only the timeout to go by.
run first --progress 1
# Whether the claim held is not this test's business: a run that ended
# with a verdict (pass or fail, 0 or 1) has a verdict.json to go by.
ran() { [ "$(cat "$tmp/$1.rc")" = 0 ] || [ "$(cat "$tmp/$1.rc")" = 1 ]; }
check "first run ran" 'ran first' || cat "$tmp/first.err"
n=$(progress "$tmp/first.err" | wc -l)
check "first run: $n progress lines on stderr (at least 2)" '[ "$n" -ge 2 ]'
check "first run: each says at most the timeout ($timeout s) is left" \
	'[ "$(progress "$tmp/first.err" | grep -cE ", at most [0-9]+ s left \(its timeout: $timeout s\)$")" = "$n" ]' ||
	progress "$tmp/first.err" | head -3
check "first run: none on stdout" '! grep -q "^socklab: [0-9]* s:" "$tmp/first.out"'

# 2. The next run knows how long the first took.
first_run=$(cat "$tmp/first.run")
# Rounded by printf as socklab rounds it (C's %.1f).
d=$(printf '%.1f' "$(jq -r .duration_s \
	"$tmp/results/$first_run/$id/verdict.json")")
run second --progress 1
check "second run ran" 'ran second'
n=$(progress "$tmp/second.err" | wc -l)
# "its last run took D s, in RUN)", or once it runs longer "N s longer
# than its last run (D s, in RUN)".
want="$d s, in $first_run)"
check "second run: $n progress lines, each expecting '$want'" \
	'[ "$n" -ge 2 ] && [ "$(progress "$tmp/second.err" | grep -cF "$want")" = "$n" ]' ||
	progress "$tmp/second.err" | head -3

# 3. --json and --variant: stdout is JSON Lines only; the expectation is
# that variant's duration in the newest run (the second).
second_run=$(cat "$tmp/second.run")
dv=$(printf '%.1f' "$(jq -r --arg v $short_variant \
	'.variants[] | select(.name == $v) | .duration_s' \
	"$tmp/results/$second_run/$id/verdict.json")")
check "the variant's duration ($dv s) is not the experiment's ($d s)" \
	'[ "$dv" != "$d" ]'
run json --progress 1 --json --variant $short_variant
check "--json run ran" 'ran json'
check "--json: every stdout line is JSON" \
	'[ -s "$tmp/json.out" ] && jq -e . "$tmp/json.out" > /dev/null'
n=$(progress "$tmp/json.err" | wc -l)
want="$dv s, in $second_run)"
check "--json --variant: $n progress lines on stderr, each expecting '$want'" \
	'[ "$n" -ge 2 ] && [ "$(progress "$tmp/json.err" | grep -cF "$want")" = "$n" ]' ||
	progress "$tmp/json.err" | head -3

# 4. A run of one variant says nothing of the whole experiment: the next
# full run goes by the second run (the newest with every variant).
d2=$(printf '%.1f' "$(jq -r .duration_s \
	"$tmp/results/$second_run/$id/verdict.json")")
run fourth --progress 1
want="$d2 s, in $second_run)"
n=$(progress "$tmp/fourth.err" | wc -l)
check "full run after a --variant run: $n progress lines expecting '$want'" \
	'[ "$n" -ge 2 ] && [ "$(progress "$tmp/fourth.err" | grep -cF "$want")" = "$n" ]' ||
	progress "$tmp/fourth.err" | head -3

# 5. The check fails without the lines: none with --progress 0 or -q.
run none --progress 0
n=$(progress "$tmp/none.err" | wc -l)
check "--progress 0: no progress line ($n)" '[ "$n" = 0 ]'
run quiet --progress 1 -q
n=$(progress "$tmp/quiet.err" | wc -l)
check "-q: no progress line ($n)" '[ "$n" = 0 ]'
check "both runs ran" 'ran none && ran quiet'

# 6. A bad value is refused with the reason.
"$bin" run $id --results "$tmp/results" --progress -1 > /dev/null \
	2> "$tmp/bad.err"
rc=$?
check "--progress -1 refused (exit $rc): $(head -1 "$tmp/bad.err")" \
	'[ $rc = 64 ] && grep -q -- "--progress needs seconds" "$tmp/bad.err"'

exit $fail
