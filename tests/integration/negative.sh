#!/usr/bin/env bash
# End to end, a prediction that is wrong on purpose must be reported as not
# holding, with the evidence: tests/negative/close-unread-fin.c claims an
# orderly FIN close where Linux sends RST.  Run through the real CLI.
# usage: negative.sh <socklab binary> <build dir>
set -u
socklab=$1 build=$2
if [ "$(id -u)" != 0 ]; then echo "skipped: needs root (network namespaces)"; exit 77; fi
out=$(mktemp -d /tmp/socklab-negative-XXXXXX)
trap 'rm -rf "$out"' EXIT
SOCKLAB_EXPERIMENTS_DIR=$build/negative-experiments \
	"$socklab" run --json --results "$out" close-unread-fin >"$out/json" 2>"$out/err"
rc=$?
. "$(dirname "$0")/common.bash"
check "exit status 1 (a finding, not an error): got $rc" '[ $rc = 1 ]'
check "status fail" 'grep -q "\"status\":\"fail\"" "$out/json"'
check "derived verdict REFUTED" 'grep -q "\"verdict\":\"REFUTED\"" "$out/json"'
check "variant does not hold" 'grep -q "\"holds\":false" "$out/json"'
check "evidence shows the RST instead of the FIN" 'grep -q "instead: .*Flags \[R\.\]" "$out/json"'
check "evidence shows ECONNRESET instead of EOF" 'grep -q "read() = -1 ECONNRESET" "$out/json"'
check "the run's namespaces ($(echo $(run_netns "$out"))) are gone" 'none_left "$out"'
[ $fail = 0 ] || { cat "$out/err"; head -c 3000 "$out/json"; }
exit $fail
