#!/usr/bin/env bash
# Where tracefs is missing, a run says so once, reports its predictions on
# kernel events as skipped with the reason (never as passed), and everything
# else runs: the verdicts come from the packets, the calls and the counters.
# SOCKLAB_TRACEFS pointing at a folder that is no tracefs plays such a
# machine; SOCKLAB_TRACEFS=off turns kernel events off outright.
# usage: trace_unavailable.sh <socklab binary> <build dir>
set -u
socklab=$(realpath "$1")
if [ "$(id -u)" != 0 ]; then echo "skipped: needs root (network namespaces)"; exit 77; fi
out=$(mktemp -d /tmp/socklab-trace-off-XXXXXX)
trap 'rm -rf "$out"' EXIT
. "$(dirname "$0")/common.bash"

mkdir -p "$out/not-a-tracefs"
for how in "$out/not-a-tracefs" off; do
	tag=res-$(basename "$how")
	SOCKLAB_TRACEFS=$how "$socklab" run --json --results "$out/$tag" \
		close-unread-rst rst-refused >"$out/$tag.json" 2>"$out/$tag.err"
	rc=$?
	check "$tag: both experiments pass on what could be judged (exit $rc)" '[ $rc = 0 ]'
	check "$tag: kernel predictions skipped with the reason" \
		'grep -q "\"ok\":false,\"skipped\":\"kernel events were not recorded: " "$out/$tag.json"'
	check "$tag: no kernel prediction reported as observed" \
		'! grep -o "{\"what\":\"kernel: [^}]*}" "$out/$tag.json" | grep -q "\"ok\":true"'
	check "$tag: counters still judged" \
		'grep -o "{\"what\":\"kernel counter: [^}]*}" "$out/$tag.json" | grep -q "\"ok\":true"'
	check "$tag: each variant says why in its JSON" \
		'[ $(grep -o "\"kernel_note\":\"kernel events not recorded" "$out/$tag.json" | wc -l) = 5 ]'
	for x in close-unread-rst rst-refused; do
		txt=$(find "$out/$tag" -path "*/$x/timeline.txt" -not -path "*/latest/*" | head -1)
		check "$tag: $x says it once, at the top of its report" \
			'[ "$(grep -c "^note: kernel events not recorded" "$txt")" = 1 ] && sed -n 4p "$txt" | grep -q "^note:"'
	done
done
check "nothing was mounted or created at the fake root" '[ -z "$(ls -A "$out/not-a-tracefs")" ]'
exit $fail
