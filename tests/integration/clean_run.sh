#!/usr/bin/env bash
# socklab clean <run>: two runs kept their namespaces (run --keep); cleaning
# one removes its namespaces only, the other's stay, until `socklab clean`
# removes every run's.  A run that kept nothing, or is not there, says so.
# usage: clean_run.sh <socklab binary> <build dir>
set -u
bin=$(realpath "$1")
build=$(realpath "$2")
tmp=$(mktemp -d)
fail() { echo "FAIL: $*"; exit 1; }
. "$(dirname "$0")/common.bash"

[ "$(id -u)" = 0 ] || { echo "needs root (namespaces to keep)"; exit 77; }
private_netns "$0" "$@"
# Whatever happens, the slots these runs kept are given back.
trap '"$bin" clean "$tmp/a" > /dev/null 2>&1; "$bin" clean "$tmp/b" > /dev/null 2>&1; rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
export SOCKLAB_EXPERIMENTS_DIR=$build/experiments

present() { # how many of the namespaces of run folder $1 exist
	local ns n=0
	for ns in $(run_netns "$1"); do [ -e "/run/netns/$ns" ] && n=$((n + 1)); done
	echo $n
}

"$bin" run --keep --results a --variant nothing_on_port rst-refused > a.out 2>&1 ||
	fail "kept run a: $(cat a.out)"
"$bin" run --keep --results b --variant nothing_on_port rst-refused > b.out 2>&1 ||
	fail "kept run b: $(cat b.out)"
grep -q "^kept: ip netns exec .*socklab clean <run>. removes them" a.out || fail "no hint: $(cat a.out)"
[ "$(run_netns a | wc -l)" = 3 ] || fail "run a made $(run_netns a)"
[ "$(present a)" = 3 ] && [ "$(present b)" = 3 ] || fail "not kept: $(present a) $(present b)"
[ -z "$(comm -12 <(run_netns a) <(run_netns b))" ] || fail "a and b share namespaces"

"$bin" clean a/latest > clean.out 2>&1 || fail "clean a exited $?: $(cat clean.out)"
[ "$(present a)" = 0 ] || fail "a's namespaces stay: $(cat clean.out)"
[ "$(present b)" = 3 ] || fail "b's namespaces went with a's: $(cat clean.out)"
for ns in $(run_netns a); do
	grep -q "^ip netns del $ns$" clean.out || fail "$ns not named: $(cat clean.out)"
done
grep -q "^removed [0-9]* leftovers of 1 kept slot of a/latest$" clean.out ||
	fail "summary: $(cat clean.out)"
echo "ok: clean a removed a's namespaces, b's stay"

"$bin" clean a > again.out 2>&1 || fail "clean a again exited $?"
grep -q "^nothing to clean: no namespaces kept by a$" again.out || fail "again: $(cat again.out)"
"$bin" clean nowhere 2> err; [ $? = 2 ] || fail "missing run: not 2"
grep -q "^socklab: clean: no run 'nowhere': no such folder, nor in results$" err ||
	fail "missing run: $(cat err)"
"$bin" clean a b 2> err; [ $? = 64 ] || fail "two runs: not 64"

"$bin" clean > all.out 2>&1 || fail "clean exited $?: $(cat all.out)"
[ "$(present b)" = 0 ] || fail "clean left b's namespaces: $(cat all.out)"
echo "ok: clean removed the rest"
exit 0
