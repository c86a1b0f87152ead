#!/usr/bin/env bash
# socklab diff: two run folders (crafted verdict.json files, as two kernels
# might leave them) compared claim by claim: a verdict that changed, a
# variant that stopped holding, a prediction that flipped, a measurement
# beyond the tolerance, an experiment in one run only; identical runs
# differ in nothing (exit 0), different ones exit 1, like diff(1).
# usage: diff.sh <socklab binary> <build dir>
set -u
bin=$(realpath "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

verdict() { # run id kernel verdict holds ok ms
	mkdir -p "$tmp/$1/$2"
	cat > "$tmp/$1/$2/verdict.json" <<JSON
{"id":"$2","claim":"c","verdict":"$4","expected":"CONFIRMED","kernel":"$3","status":"pass",
 "variants":[{"name":"v1","holds":$5,"as_declared":true,"error":null,
   "predictions":[{"what":"a RST from server","ok":$6,"skipped":null,"evidence":"e"}]}],
 "measured":{"v1.delay":{"value":$7,"unit":"ms"},"v1.tiny":{"value":0.05,"unit":"ms"}}}
JSON
}
verdict a rst-x 6.1.0 CONFIRMED true true 200
verdict a same 6.1.0 CONFIRMED true true 40
verdict a gone 6.1.0 CONFIRMED true true 40
verdict b rst-x 6.18.0 NUANCED false false 400
verdict b same 6.18.0 CONFIRMED true true 42
verdict b new 6.18.0 CONFIRMED true true 40
sed -i 's/"value":0.05/"value":0.15/' "$tmp/b/same/verdict.json"

out=$("$bin" diff "$tmp/a" "$tmp/b"); rc=$?
[ $rc = 1 ] || fail "differing runs exited $rc"
grep -q '^--- .*(Linux 6.1.0)' <<<"$out" || fail "no kernel of the first run: $out"
grep -q '^+++ .*(Linux 6.18.0)' <<<"$out" || fail "no kernel of the second run"
grep -q 'verdict CONFIRMED -> NUANCED' <<<"$out" || fail "verdict change unseen: $out"
grep -q 'v1: holds -> does not hold' <<<"$out" || fail "variant change unseen"
grep -q 'v1: a RST from server: observed -> not observed' <<<"$out" ||
	fail "prediction flip unseen"
grep -q 'measured v1.delay: 200 -> 400 ms' <<<"$out" || fail "measurement unseen"
grep -q '^same:' <<<"$out" && fail "40 -> 42 ms or 0.05 -> 0.15 ms counted as a change"
grep -q '^gone: only in the first run' <<<"$out" || fail "gone unseen"
grep -q '^new: only in the second run' <<<"$out" || fail "new unseen"
grep -q '^3 of 3 experiments differ' <<<"$out" || fail "count: $out"

# A tighter tolerance sees the small change; the floor still keeps the
# sub-millisecond one out.
out=$("$bin" diff --tolerance 1 "$tmp/a" "$tmp/b")
grep -q 'measured v1.delay: 40 -> 42' <<<"$out" && fail "2 ms under the 10 ms floor counted"
out=$("$bin" diff --tolerance 1 --min-ms 0 "$tmp/a" "$tmp/b")
grep -q 'measured v1.delay: 40 -> 42' <<<"$out" || fail "--min-ms 0 still hides 40 -> 42"

# JSON: one line per experiment that differs.
"$bin" diff --json "$tmp/a" "$tmp/b" > "$tmp/j"
[ "$(wc -l < "$tmp/j")" = 3 ] || fail "JSON lines: $(cat "$tmp/j")"
jq -s -e '.[] | select(.id == "rst-x") | .verdict_b == "NUANCED" and (.changes | length) >= 4' \
	"$tmp/j" > /dev/null || fail "JSON of rst-x: $(cat "$tmp/j")"

"$bin" diff "$tmp/a" "$tmp/a" > /dev/null || fail "a run differs from itself"
"$bin" diff "$tmp/a" 2> /dev/null; [ $? = 64 ] || fail "one run is not a usage error"
"$bin" diff "$tmp/a" "$tmp/none" 2> /dev/null; [ $? = 2 ] || fail "a missing run is not an error"

# What each run ran on (run.json) heads the diff, and the TCP sysctls that
# differ between the runs' hosts (every variant records them) are listed
# there, without counting as a difference.
runjson() { # run release cpus hypervisor
	cat > "$tmp/$1/run.json" <<JSON
{"socklab":"v9","kernel":{"release":"$2","arch":"x86_64"},
 "machine":{"cpus":$3,"virtualised":$([ -n "$4" ] && echo true || echo false),"hypervisor":"$4"}}
JSON
}
mkdir -p "$tmp/c/same" "$tmp/d/same"
sysctls='"sysctls":{"client":{"net.ipv4.tcp_fin_timeout":"60","net.ipv4.tcp_tw_reuse_delay":"1000"}}'
sed "s/\"predictions\"/$sysctls,\"predictions\"/" "$tmp/a/same/verdict.json" > "$tmp/c/same/verdict.json"
sed "s/\"predictions\"/${sysctls/,\"net.ipv4.tcp_tw_reuse_delay\":\"1000\"/},\"predictions\"/" \
	"$tmp/a/same/verdict.json" > "$tmp/d/same/verdict.json"
runjson c 6.18.44 2 ""
runjson d 6.1.0-28-amd64 1 qemu-tcg
out=$("$bin" diff "$tmp/c" "$tmp/d"); rc=$?
[ $rc = 0 ] || fail "settings alone counted as a difference (exit $rc): $out"
grep -q '^--- .*(Linux 6.18.44 x86_64, 2 CPUs, not virtualised, socklab v9)' <<<"$out" ||
	fail "first run's machine unseen: $out"
grep -q '^+++ .*(Linux 6.1.0-28-amd64 x86_64, 1 CPUs, virtualised (qemu-tcg), socklab v9)' <<<"$out" ||
	fail "second run's machine unseen: $out"
grep -q 'client net.ipv4.tcp_tw_reuse_delay: 1000 -> (not on this kernel)' <<<"$out" ||
	fail "a sysctl only one kernel has unseen: $out"
grep -q 'tcp_fin_timeout' <<<"$out" && fail "an equal sysctl listed: $out"

# An older kernel: a prediction it could not judge is skipped with why, not
# "not observed"; a variant it could not run is not run, with why, not
# "only in the first run".
mkdir -p "$tmp/e/rst-x"
sed 's/"ok":false,"skipped":null/"ok":false,"skipped":"this kernel gives no reason"/' \
	"$tmp/b/rst-x/verdict.json" > "$tmp/e/rst-x/verdict.json"
sed -i 's/"measured"/"not_run":[{"name":"v2","why":"this kernel has no net.ipv4.x"}],"measured"/' \
	"$tmp/e/rst-x/verdict.json"
mkdir -p "$tmp/f/rst-x"
sed 's/"variants":\[/"variants":[{"name":"v2","holds":true,"as_declared":true,"error":null,"predictions":[]},/' \
	"$tmp/a/rst-x/verdict.json" > "$tmp/f/rst-x/verdict.json"
out=$("$bin" diff "$tmp/f" "$tmp/e")
grep -q 'v1: a RST from server: observed -> skipped (this kernel gives no reason)' <<<"$out" ||
	fail "a skipped prediction unseen: $out"
grep -q 'v2: not run in the second run: this kernel has no net.ipv4.x' <<<"$out" ||
	fail "a variant not run unseen: $out"
echo "ok: socklab diff"
