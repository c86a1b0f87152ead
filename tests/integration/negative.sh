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
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAILED: $1"; fail=1; fi; }
check "exit status 1 (a finding, not an error): got $rc" '[ $rc = 1 ]'
check "status fail" 'grep -q "\"status\":\"fail\"" "$out/json"'
check "derived verdict REFUTED" 'grep -q "\"verdict\":\"REFUTED\"" "$out/json"'
check "variant does not hold" 'grep -q "\"holds\":false" "$out/json"'
check "evidence shows the RST instead of the FIN" 'grep -q "instead: .*Flags \[R\.\]" "$out/json"'
check "evidence shows ECONNRESET instead of EOF" 'grep -q "read() = -1 ECONNRESET" "$out/json"'
# The namespaces this run made (its commands.sh) must all be gone; other
# runs on the machine may have theirs up meanwhile.
made=$(cat "$out"/*/*/*/commands.sh 2>/dev/null | awk '$1 == "ip" && $2 == "netns" && $3 == "add" { print $4 }' | sort -u)
left=$(for ns in $made; do [ -e "/run/netns/$ns" ] && echo "$ns"; done)
check "the run's namespaces ($(echo $made)) are gone" '[ -n "$made" ] && [ -z "$left" ]'
[ $fail = 0 ] || { cat "$out/err"; head -c 3000 "$out/json"; }
exit $fail
