#!/usr/bin/env bash
# End to end, through the real CLI, with experiments that are wrong on
# purpose (tests/negative/):
#  1. close-unread-fin claims an orderly FIN close where Linux sends RST: the
#     prediction is reported as not holding, with the evidence;
#  2. declared-swapped's variants declare the opposite of what they do: the
#     derived verdict is the expected NUANCED, yet the run fails and names
#     both variants, with their evidence;
#  3. declared-inconsistent's declarations do not derive its .expected: a
#     definition error, reported as an error and never run;
#  4. call-fails's client needs a connect() that is refused: an ERROR that
#     names the call as written, its errno and file:line, never a verdict;
#  5. timewait-never's client waits for a TIME-WAIT that its reset
#     connection never makes: an ERROR at once, not at the deadline;
#  6. setup-slow's setup takes 3 s and its roles 3.5 s: with --timeout 6
#     it passes, since the CLI's deadline counts again from the roles'
#     start, which the real experiment says on --progress-fd.
# usage: negative.sh <socklab binary> <build dir>
set -u
socklab=$1 build=$2
if [ "$(id -u)" != 0 ]; then echo "skipped: needs root (network namespaces)"; exit 77; fi
out=$(mktemp -d /tmp/socklab-negative-XXXXXX)
trap 'rm -rf "$out"' EXIT
export SOCKLAB_EXPERIMENTS_DIR=$build/negative-experiments
. "$(dirname "$0")/common.bash"

# 1. A prediction that does not hold.
"$socklab" run --json --results "$out/fin" close-unread-fin >"$out/json" 2>"$out/err"
rc=$?
check "exit status 1 (a finding, not an error): got $rc" '[ $rc = 1 ]'
check "status fail" 'grep -q "\"status\":\"fail\"" "$out/json"'
check "derived verdict REFUTED" 'grep -q "\"verdict\":\"REFUTED\"" "$out/json"'
check "variant does not hold, declared to" \
	'grep -q "\"holds\":false,\"expected_holds\":true,\"as_declared\":false" "$out/json"'
check "evidence shows the RST instead of the FIN" 'grep -q "instead: .*Flags \[R\.\]" "$out/json"'
check "evidence shows ECONNRESET instead of EOF" 'grep -q "read() = -1 ECONNRESET" "$out/json"'
check "the run's namespaces ($(echo $(run_netns "$out/fin"))) are gone" 'none_left "$out/fin"'
[ $fail = 0 ] || { cat "$out/err"; head -c 3000 "$out/json"; }

# 2. Variants that do not behave as declared, with the verdict as expected.
f0=$fail fail=0
"$socklab" run --results "$out/swap" declared-swapped >"$out/text" 2>"$out/err"
rc=$?
"$socklab" run --json --results "$out/swap" declared-swapped >"$out/json" 2>/dev/null
rcj=$?
check "swapped: exit status 1 (a finding): got $rc and $rcj (--json)" '[ $rc = 1 ] && [ $rcj = 1 ]'
check "swapped: verdict NUANCED as expected, and yet FAIL" \
	'grep -q "^declared-swapped  *NUANCED  *NUANCED  *FAIL " "$out/text"'
# (verdict.json's "kernel" may sit between expected and status.)
check "swapped: status fail" \
	'grep -q "\"verdict\":\"NUANCED\",\"expected\":\"NUANCED\"," "$out/json" &&
	 grep -q "\"status\":\"fail\"" "$out/json"'
check "swapped: unread_10 holds, declared not to" \
	'grep -q "{\"name\":\"unread_10\",\"holds\":true,\"expected_holds\":false,\"as_declared\":false" "$out/json"'
check "swapped: unread_0 does not hold, declared to" \
	'grep -q "{\"name\":\"unread_0\",\"holds\":false,\"expected_holds\":true,\"as_declared\":false" "$out/json"'
check "swapped: the reason names both variants" \
	'grep -q "^declared-swapped: not as declared: unread_10 holds, declared not to; unread_0 does not hold, declared to$" "$out/text"'
check "swapped: unread_10 named in the failure output" \
	'grep -q "^  unread_10: holds, but is declared not to hold (.holds = false)$" "$out/text"'
check "swapped: with the evidence that it held (the RST)" \
	'grep -A2 "^  unread_10: holds" "$out/text" | grep -q "evidence: 1 matching: .*Flags \[R\.\]"'
check "swapped: unread_0 named too" \
	'grep -q "^  unread_0: does not hold, but is declared to hold" "$out/text"'
check "swapped: with its failed prediction and evidence (EOF)" \
	'grep -q "^  unread_0: client: read fails with ECONNRESET$" "$out/text" && grep -q "evidence: .*client  read() = 0" "$out/text"'
check "swapped: timeline.txt names it too" \
	'grep -q "^not as declared: unread_10 holds, but is declared not to hold$" "$out"/swap/latest/declared-swapped/timeline.txt'
check "swapped: the run's namespaces are gone" 'none_left "$out/swap"'
[ $fail = 0 ] || { cat "$out/text" "$out/err"; head -c 3000 "$out/json"; }
fail=$((fail | f0))

# 3. A definition error: an error at start-up, named, and nothing run.
f0=$fail fail=0
exe=$build/negative-experiments/declared-inconsistent
"$exe" --describe >"$out/desc" 2>"$out/err"
rc=$?
check "inconsistent: --describe exits 2: got $rc" '[ $rc = 2 ]'
check "inconsistent: --describe prints nothing on stdout" '[ ! -s "$out/desc" ]'
check "inconsistent: --describe names the experiment and the error" \
	'grep -q "^declared-inconsistent: definition error: EXPERIMENT says .expected = CONFIRMED, but its VARIANTs. declarations derive NUANCED (1 of 2 declared to hold; .holds = false: unread_0)" "$out/err"'
"$exe" --run --results "$out/direct" >"$out/desc" 2>"$out/err"
rc=$?
check "inconsistent: --run exits 2: got $rc" '[ $rc = 2 ]'
check "inconsistent: --run says why" 'grep -q "definition error" "$out/err"'
check "inconsistent: --run made no results folder" '[ ! -e "$out/direct" ]'
"$socklab" list >"$out/text" 2>&1
check "inconsistent: socklab list shows it broken" \
	'grep -q "^declared-inconsistent .*(broken: --describe exited with status 2: declared-inconsistent: definition error" "$out/text"'
"$socklab" run --json --results "$out/broken" declared-inconsistent >"$out/json" 2>"$out/text"
rc=$?
check "inconsistent: socklab run exits 2 (error, not a finding): got $rc" '[ $rc = 2 ]'
check "inconsistent: reported as an error, not a verdict" \
	'grep -q "\"verdict\":\"ERROR\".*\"status\":\"error\",\"error\":\"broken experiment: .*definition error" "$out/json"'
check "inconsistent: not run (no namespace, no variant folder)" \
	'[ -z "$(run_netns "$out/broken")" ] && [ -z "$(ls "$out"/broken/*/declared-inconsistent/ 2>/dev/null | grep -v stderr.txt)" ]'
[ $fail = 0 ] || { cat "$out/text"; head -c 3000 "$out/json"; }
fail=$((fail | f0))

# 4. A call the experiment needs fails (sl_call()): ERROR, the call named.
f0=$fail fail=0
"$socklab" run --json --results "$out/call" call-fails >"$out/json" 2>"$out/err"
rc=$?
check "call-fails: exit status 2 (an error, not a finding): got $rc" '[ $rc = 2 ]'
check "call-fails: verdict ERROR" 'grep -q "\"verdict\":\"ERROR\"" "$out/json"'
check "call-fails: the call as written, its errno and file:line" \
	'grep -q "client: connect(fd, (struct sockaddr \*)&sa, sizeof(sa)): Connection refused (call-fails.c:34)" "$out/json"'
[ $fail = 0 ] || { cat "$out/err"; head -c 3000 "$out/json"; }
fail=$((fail | f0))

# 5. A wait that can never end ends at once, and says why.
f0=$fail fail=0
start=$(date +%s)
"$socklab" run --json --results "$out/tw" timewait-never >"$out/json" 2>"$out/err"
rc=$? took=$(($(date +%s) - start))
check "timewait-never: exit status 2 (an error): got $rc" '[ $rc = 2 ]'
check "timewait-never: the wait says the connection left no TIME-WAIT" \
	'grep -q "client: wait for TIME-WAIT on port [0-9]* (it is gone: the connection closed and left no TIME-WAIT" "$out/json"'
# Its deadline is 20 s; ending at once is well inside half of it.
check "timewait-never: ended in $took s, not at the 20 s deadline" '[ $took -lt 10 ]'
[ $fail = 0 ] || { cat "$out/err"; head -c 3000 "$out/json"; }
fail=$((fail | f0))

# 6. The deadline counts from the roles' start, not the setup's.
f0=$fail fail=0
"$socklab" run --timeout 6 --json --results "$out/slow" setup-slow >"$out/json" 2>"$out/err"
rc=$?
check "setup-slow --timeout 6: exit status 0 (passed): got $rc" '[ $rc = 0 ]'
# Setup and roles alone are 6.5 s: past a deadline counted from the start.
check "setup-slow: ran past 6 s ($(jq -r .duration_s "$out/json") s)" \
	'jq -e ".duration_s > 6" "$out/json" >/dev/null'
check "the run's namespaces are gone" 'none_left "$out/slow"'
[ $fail = 0 ] || { cat "$out/err"; head -c 3000 "$out/json"; }
fail=$((fail | f0))
exit $fail
