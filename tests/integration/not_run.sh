#!/usr/bin/env bash
# What a kernel cannot run, and how long it may take:
#  1. needs-sysctl (tests/negative) has a variant about a sysctl no kernel
#     has (.needs_sysctl): the run passes on the other variant, and the
#     result says the variant was not run and why ("not_run" in the JSON,
#     a "not run:" line in timeline.txt and on the run's line), never that
#     it passed; asked for alone, the experiment is skipped (77), not
#     passed;
#  2. deadlines stretched (lib/pace.h): SOCKLAB_TIME_SCALE multiplies the
#     timeout an experiment describes, and run.json keeps the factor; a
#     value that is no factor is ignored; SOCKLAB_PACE_REF_NS, the host's
#     probe as `socklab vm` hands it to a guest, makes the run measure its
#     own and say by how much it stretches them.
# usage: not_run.sh <socklab binary> <build dir>
set -u
socklab=$1 build=$2
if [ "$(id -u)" != 0 ]; then echo "skipped: needs root (network namespaces)"; exit 77; fi
out=$(mktemp -d /tmp/socklab-not-run-XXXXXX)
trap 'rm -rf "$out"' EXIT
. "$(dirname "$0")/common.bash"
export SOCKLAB_EXPERIMENTS_DIR=$build/negative-experiments
x=$SOCKLAB_EXPERIMENTS_DIR/needs-sysctl

# 1. A variant this kernel cannot run.
"$socklab" run --json --results "$out/r" needs-sysctl >"$out/json" 2>"$out/err"
rc=$?
check "the other variant decides: exit 0, got $rc" '[ $rc = 0 ]'
check "the JSON says which variant was not run, and why" \
	'grep -q "\"not_run\":\[{\"name\":\"about_nothing\",\"why\":\"this kernel has no net.ipv4.socklab_no_such_sysctl, which the variant is about\"}\]" "$out/json"'
check "it is no variant that ran" '! grep -q "{\"name\":\"about_nothing\",\"holds\"" "$out/json"'
check "the run's line says it" \
	'grep -q "needs-sysctl: pass (CONFIRMED, expected CONFIRMED) in .*: not run: about_nothing (this kernel has no net.ipv4.socklab_no_such_sysctl" "$out/err"'
check "timeline.txt says it" \
	'grep -q "^not run: about_nothing: this kernel has no net.ipv4.socklab_no_such_sysctl" "$out"/r/*/needs-sysctl/timeline.txt'
check "no folder for it" '! ls -d "$out"/r/*/needs-sysctl/about_nothing 2>/dev/null'
"$socklab" run --results "$out/r" --variant about_nothing needs-sysctl >"$out/text" 2>"$out/err"
rc=$?
check "alone: skipped (exit 77), got $rc" '[ $rc = 77 ]'
check "alone: never a pass" '! grep -q "^needs-sysctl .* pass " "$out/text"'
check "alone: says why" 'grep -q "not run: about_nothing: this kernel has no net.ipv4.socklab_no_such_sysctl" "$out/text" "$out/err"'
check "the runs' namespaces are gone" 'none_left "$out/r"'

# 2. Deadlines stretched.
t1=$("$x" --describe | sed -n 's/.*"timeout_s":\([0-9]*\).*/\1/p')
t3=$(SOCKLAB_TIME_SCALE=3 "$x" --describe | sed -n 's/.*"timeout_s":\([0-9]*\).*/\1/p')
tbad=$(SOCKLAB_TIME_SCALE=0.5 "$x" --describe | sed -n 's/.*"timeout_s":\([0-9]*\).*/\1/p')
check "timeout as written: 10 s + 10, got $t1" '[ "$t1" = 20 ]'
check "x3: 30 s + 10, got $t3" '[ "$t3" = 40 ]'
check "a factor below 1 is ignored, got $tbad" '[ "$tbad" = 20 ]'
SOCKLAB_TIME_SCALE=2.5 "$socklab" run -q --results "$out/s" --variant read_90_of_100 needs-sysctl >/dev/null 2>&1
check "run.json keeps the factor" 'grep -q "\"time_scale\":2\.5" "$out"/s/latest/run.json'
SOCKLAB_PACE_REF_NS=1 "$socklab" run --results "$out/p" --variant read_90_of_100 needs-sysctl >/dev/null 2>"$out/err"
check "a host a million times faster: x100 at most, and said" \
	'grep -q "^socklab: run: the pace probe took [0-9.]* ms here, 0.0 ms on the host that started this machine: deadlines x 100.00$" "$out/err"'
check "... and kept" 'grep -q "\"time_scale\":100" "$out"/p/latest/run.json'
check "the runs' namespaces are gone" 'none_left "$out/s" && none_left "$out/p"'
exit $fail
