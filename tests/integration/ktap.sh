#!/usr/bin/env bash
# `socklab run --format ktap`: KTAP version 1 on stdout, nothing else (the
# summary goes to stderr), one test per experiment with a subtest per
# variant, checked three ways: by ktap_check below (the structure, as the
# kernel's kunit_parser.py reads it: version and plan at every level,
# results numbered 1..N in order, subtests indented four spaces before
# their parent's result), by prove (perl's TAP consumer: the top level is
# TAP), and by what each line says: a variant that did not behave as
# declared is "not ok", a skipped experiment "ok ... # SKIP", a crashed one
# "not ok ... # ERROR".  Fake experiments (shell scripts that follow
# lib/protocol.h) make each case happen, so that the CLI is tested alone.
# usage: ktap.sh <socklab binary> <build dir>
set -u
bin=$(realpath "$1")
if [ "$(id -u)" != 0 ]; then
	echo "skipped: needs root (socklab run checks root first)"
	exit 77
fi
command -v prove >/dev/null || { echo "skipped: no prove (perl)"; exit 77; }
. "$(dirname "$0")/common.bash"

tmp=$(mktemp -d /tmp/socklab-ktap-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/exps"
export SOCKLAB_EXPERIMENTS_DIR=$tmp/exps

cat >"$tmp/fake" <<'EOF'
#!/usr/bin/env bash
id=$(basename "$0")
if [ "$1" = --describe ]; then
	printf '{"id":"%s","claim":"fake %s","expected":"CONFIRMED","timeout_s":30,"variants":["one","two"]}\n' "$id" "$id"
	exit 0
fi
dir=
while [ $# -gt 0 ]; do
	case $1 in
	--results) dir=$2; shift 2 ;;
	*) shift ;;
	esac
done
mkdir -p "$dir"
# variant NAME HOLDS DECLARED AS_DECLARED: one variant's result object, its
# evidence two lines long (a KTAP line must stay one line).
variant() {
	printf '{"name":"%s","holds":%s,"expected_holds":%s,"as_declared":%s,"error":null,"predictions":[{"what":"server sends R.","ok":%s,"skipped":null,"evidence":"saw F. at 0.2 ms\\nthen R."}]}' "$1" "$2" "$3" "$4" "$2"
}
result() {	# status exit variants...
	local status=$1 code=$2 vs
	shift 2
	vs=$(IFS=,; echo "$*")
	printf '{"id":"%s","claim":"c","verdict":"NUANCED","expected":"CONFIRMED","status":"%s","duration_s":0.1,"results":"%s","variants":[%s],"measured":{}}\n' "$id" "$status" "$dir" "$vs"
	exit "$code"
}
case $id in
pass) result pass 0 "$(variant one true true true)" "$(variant two false false true)" ;;
fail) result fail 1 "$(variant one true true true)" "$(variant two true false false)" ;;
skip) echo "skip: needs a kernel with something" >&2; exit 77 ;;
crash) kill -SEGV $$ ;;
esac
EOF
chmod 755 "$tmp/fake"
for id in pass fail skip crash; do ln -s ../fake "$tmp/exps/$id"; done

# The structure of KTAP version 1, strictly: every line is a version line,
# a plan, a result or a diagnostic, indented 4 spaces per level of
# nesting; each level opens with "KTAP version 1" and "1..N" and numbers
# its results 1, 2, ... N; a nested level sits just before its parent's
# result line and has kept its plan by then; at the end the top level has.
ktap_check() {
	awk '
	function bad(why) { printf "line %d: %s: %s\n", NR, why, $0; err = 1; exit 1 }
	{
		match($0, /^ */); ind = RLENGTH; line = substr($0, ind + 1)
		if (ind % 4) bad("indent not a multiple of 4")
		d = ind / 4
		if (line == "KTAP version 1") {
			if (d > 0 && !open[d - 1]) bad("nested version line with no parent")
			if (open[d] && d == 0) bad("a second top-level version line")
			open[d] = 1; plan[d] = -1; n[d] = 0; next
		}
		if (!open[d]) bad("line outside a KTAP level")
		if (line ~ /^1\.\.[0-9]+$/) {
			if (plan[d] != -1) bad("plan twice or late")
			plan[d] = substr(line, 4) + 0; next
		}
		if (line ~ /^# / || line == "#") next
		if (line ~ /^(not )?ok [0-9]+ [^#]+( # .*)?$/) {
			if (plan[d] == -1) bad("result before the plan")
			split(line, w, " "); num = (w[1] == "not") ? w[3] : w[2]
			if (num != n[d] + 1) bad("result " num " after " n[d])
			n[d] = num
			if (open[d + 1]) {
				if (n[d + 1] != plan[d + 1]) bad("subtests " n[d + 1] " of a plan of " plan[d + 1])
				open[d + 1] = 0
			}
			next
		}
		bad("not a KTAP line")
	}
	END {
		if (err) exit 1
		if (!open[0]) { print "no KTAP version line"; exit 1 }
		if (n[0] != plan[0]) { printf "%d results, plan %d\n", n[0], plan[0]; exit 1 }
		if (open[1]) { print "subtests after the last result"; exit 1 }
	}' "$1"
}

run_ktap() {	# name args...: stdout to $tmp/$name.ktap, stderr beside it
	local name=$1
	shift
	(cd "$tmp" && "$bin" run --results "$tmp/res" "$@") \
		>"$tmp/$name.ktap" 2>"$tmp/$name.err"
}

# 1. Passes and a skip: exit 77 (skipped here), valid KTAP, and prove
# passes it.
run_ktap ok --format ktap pass skip
rc=$?
check "pass+skip: exit 77, got $rc" '[ $rc = 77 ]'
check "pass+skip: valid KTAP ($(ktap_check "$tmp/ok.ktap"))" 'ktap_check "$tmp/ok.ktap"'
check "pass+skip: prove passes it" 'prove --exec cat "$tmp/ok.ktap" >"$tmp/ok.prove" 2>&1'
check "pass+skip: the skip is ok # SKIP with its reason" \
	'grep -Eq "^ok [0-9] skip # SKIP skip: needs a kernel with something$" "$tmp/ok.ktap"'
check "pass+skip: a variant declared not to hold, and so not holding, is ok" \
	'grep -q "^    ok 2 two$" "$tmp/ok.ktap" &&
	 grep -q "^    # two: does not hold, declared not to hold" "$tmp/ok.ktap"'
check "pass+skip: the summary went to stderr" \
	'grep -q "^1 passed, 0 failed, 0 errors, 1 skipped" "$tmp/ok.err"'

# 2. A failing variant and a crash: "not ok" at both levels, prove fails.
run_ktap bad --format ktap pass fail skip crash
rc=$?
check "with a failure and a crash: exit 2 (error wins), got $rc" '[ $rc = 2 ]'
check "with a failure: valid KTAP ($(ktap_check "$tmp/bad.ktap"))" 'ktap_check "$tmp/bad.ktap"'
check "with a failure: the failing variant is not ok" 'grep -q "^    not ok 2 two$" "$tmp/bad.ktap"'
check "with a failure: its predictions and evidence are diagnostics, one line each" \
	'grep -q "^    # \[ok\] server sends R\.$" "$tmp/bad.ktap" &&
	 grep -q "^    #   evidence: saw F\. at 0\.2 ms then R\.$" "$tmp/bad.ktap"'
check "with a failure: the experiment is not ok" 'grep -Eq "^not ok [0-9] fail$" "$tmp/bad.ktap"'
check "with a crash: not ok # ERROR, its variants too" \
	'grep -Eq "^not ok [0-9] crash # ERROR crashed: " "$tmp/bad.ktap" &&
	 grep -q "^    not ok 1 one # ERROR crashed: " "$tmp/bad.ktap"'
prove --exec cat "$tmp/bad.ktap" >"$tmp/bad.prove" 2>&1
rc=$?
check "with a failure: prove fails it (exit $rc), on 2 of 4" \
	'[ $rc != 0 ] && grep -q "Failed 2/4 subtests" "$tmp/bad.prove"'

# 3. --repeat: one test per run, the experiments its subtests.
run_ktap rep --format ktap --repeat 2 pass
rc=$?
check "--repeat 2: exit 0, got $rc" '[ $rc = 0 ]'
check "--repeat 2: valid KTAP ($(ktap_check "$tmp/rep.ktap"))" 'ktap_check "$tmp/rep.ktap"'
check "--repeat 2: two runs, each ok" \
	'grep -q "^1\.\.2$" "$tmp/rep.ktap" && grep -q "^ok 2 run 2$" "$tmp/rep.ktap" &&
	 grep -q "^        ok 2 two$" "$tmp/rep.ktap"'
check "--repeat 2: prove passes it" 'prove --exec cat "$tmp/rep.ktap" >/dev/null 2>&1'

# 4. The formats: --json is --format json; two different ones, or an
# unknown one, are a usage error.
run_ktap json1 --json pass
run_ktap json2 --format json pass
check "--json and --format json print the same fields" \
	'[ "$(sed "s/\"duration_s\":[0-9.]*//; s/\"results\":\"[^\"]*\"//" "$tmp/json1.ktap")" = \
	   "$(sed "s/\"duration_s\":[0-9.]*//; s/\"results\":\"[^\"]*\"//" "$tmp/json2.ktap")" ]'
run_ktap both --json --format ktap pass
rc=$?
check "--json with --format ktap: exit 64, got $rc" \
	'[ $rc = 64 ] && grep -q "two output formats" "$tmp/both.err"'
run_ktap xml --format xml pass
rc=$?
check "--format xml: exit 64, got $rc" '[ $rc = 64 ] && grep -q "text, json or ktap" "$tmp/xml.err"'

if [ $fail != 0 ]; then
	for f in ok bad rep; do echo "--- $f.ktap"; cat "$tmp/$f.ktap"; done
fi
exit $fail
