#!/usr/bin/env bash
# What a run ran on: run.json in the run's folder names socklab's version,
# the kernel and the machine (CPUs, memory, virtualised or not), as uname,
# nproc and the CPU's hypervisor flag say; every variant's verdict.json
# entry holds its end hosts' TCP sysctls as they were once SETUP had run
# (backlog-size sets the server's somaxconn, and the record shows it while
# the client keeps the namespace default); and index.html says it.
# usage: run_records.sh <socklab binary> <build dir>
set -u
bin=$(realpath "$1")
if [ "$(id -u)" != 0 ]; then
	echo "skipped: needs root (it runs an experiment)"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$bin" run backlog-size --results "$tmp/results" -q > "$tmp/out" 2>&1 ||
	fail "the run failed: $(cat "$tmp/out")"
run="$tmp/results/latest"
r="$run/run.json"
[ -f "$r" ] || fail "no run.json in $(ls "$run")"
[ "$(jq -r .kernel.release "$r")" = "$(uname -r)" ] ||
	fail "kernel.release $(jq -r .kernel.release "$r") is not $(uname -r)"
[ "$(jq -r .kernel.arch "$r")" = "$(uname -m)" ] || fail "arch: $(cat "$r")"
[ "$(jq -r .machine.cpus "$r")" = "$(nproc --all)" ] ||
	[ "$(jq -r .machine.cpus "$r")" = "$(getconf _NPROCESSORS_ONLN)" ] ||
	fail "cpus $(jq -r .machine.cpus "$r"), online $(getconf _NPROCESSORS_ONLN)"
virt=false
grep -qw hypervisor /proc/cpuinfo && virt=true
[ "$(jq -r .machine.virtualised "$r")" = "$virt" ] ||
	fail "virtualised $(jq -r .machine.virtualised "$r"), cpuinfo says $virt"
[ "$(jq -r .socklab "$r")" = "$("$bin" --version | cut -d' ' -f2)" ] ||
	fail "socklab version in run.json: $(jq -r .socklab "$r")"

v="$run/backlog-size/verdict.json"
somaxconn=$(grep -o 'define NS_SOMAXCONN [0-9]*' \
	"$(dirname "$0")/../../experiments/backlog-size/backlog-size.c" | cut -d' ' -f3)
[ -n "$somaxconn" ] || fail "NS_SOMAXCONN not found in backlog-size.c"
default=$(unshare -n cat /proc/sys/net/core/somaxconn)
jq -e --arg s "$somaxconn" --arg d "$default" 'all(.variants[];
	.sysctls.server["net.core.somaxconn"] == $s and
	.sysctls.client["net.core.somaxconn"] == $d and
	(.sysctls.client | length) >= 30 and (.sysctls.server | length) >= 30)' \
	"$v" > /dev/null ||
	fail "sysctls (server somaxconn $somaxconn, client $default): $(jq -c '.variants[0].sysctls' "$v")"
grep -q "on Linux $(uname -r)" "$run/index.html" || fail "index.html does not say what it ran on"
echo "ok: run.json and each variant's sysctls"
