#!/usr/bin/env bash
# socklab show: a stored run printed again as `socklab run` printed it,
# from its folder alone: the same table (but the duration, which the run
# measured from outside), the same evidence and timeline after it, the
# same JSON line; a failed run shows its failure and exits 1, as run did;
# a missing run or id is one line and the CLI's status.
# usage: show.sh <socklab binary> <build dir>
set -u
bin=$(realpath "$1")
build=$(realpath "$2")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
. "$(dirname "$0")/common.bash"

[ "$(id -u)" = 0 ] || { echo "needs root (real runs to show)"; exit 77; }
private_netns "$0" "$@"
cd "$tmp" || exit 1

# The table rows without their duration; and what follows the summary
# line, which is the run's story.
rows() { grep -E '^[a-z-]+ +[A-Z]+ +[A-Z]+ +[a-zA-Z]+ ' "$1" | sed -E 's/ +[0-9.]+ s$//'; }
story() { sed '1,/^[0-9]* passed, /d' "$1"; }

SOCKLAB_EXPERIMENTS_DIR=$build/experiments "$bin" run --results res \
	rst-refused > run.out 2> /dev/null || fail "the run to show did not pass"
"$bin" show res/latest/rst-refused > show.out 2> show.err || fail "show exited $?"
[ -s show.err ] && fail "show wrote to stderr: $(cat show.err)"
[ "$(rows run.out)" = "$(rows show.out)" ] || fail "rows: $(rows show.out)"
story run.out > s.run
story show.out > s.show
[ "$(wc -l < s.run)" -gt 50 ] || fail "little story: $(cat s.run)"
diff s.run s.show || fail "show's story differs from run's"
grep -q "^1 passed, 0 failed, 0 errors (as recorded in res/$(readlink res/latest))$" show.out ||
	fail "summary: $(grep passed show.out)"
echo "ok: show prints the run's story again ($(wc -l < s.run) lines)"

# The run by its name under --results; the JSON line is the stored one.
"$bin" show --results res latest > all.out || fail "show latest exited $?"
[ "$(rows all.out)" = "$(rows run.out)" ] || fail "show latest: $(cat all.out)"
"$bin" show --json res/latest > show.json 2> /dev/null || fail "show --json"
[ "$(jq -cS . show.json)" = "$(jq -cS . res/latest/rst-refused/verdict.json)" ] ||
	fail "the JSON line is not verdict.json's"
echo "ok: by name, and --json"

# A run that failed: shown failing, with its evidence, exit 1.
SOCKLAB_EXPERIMENTS_DIR=$build/negative-experiments "$bin" run --results neg \
	close-unread-fin > neg.out 2> /dev/null
[ $? = 1 ] || fail "the negative run did not fail"
"$bin" show neg/latest > negshow.out 2> /dev/null
rc=$?
[ $rc = 1 ] || fail "show of a failed run exited $rc"
grep -Eq '^close-unread-fin +REFUTED +CONFIRMED +FAIL' negshow.out ||
	fail "no FAIL row: $(cat negshow.out)"
grep -q 'instead: .*Flags \[R\.\]' negshow.out || fail "no evidence of the failure"
diff <(story neg.out) <(story negshow.out) || fail "failed story differs"
echo "ok: a failed run shows failed"

# Bad input.
"$bin" show 2> err; [ $? = 64 ] || fail "no run: not 64"
"$bin" show nowhere 2> err; [ $? = 2 ] || fail "missing run: not 2"
grep -q "^socklab: show: no run 'nowhere': no such folder, nor results/ holds it$" err ||
	fail "missing run: $(cat err)"
"$bin" show res/latest/nope 2> err; [ $? = 64 ] || fail "unknown id: not 64"
grep -q "has no experiment 'nope'" err || fail "unknown id: $(cat err)"
mkdir empty
"$bin" show empty 2> err; [ $? = 2 ] || fail "no run folder: not 2"
grep -q "is no run folder" err || fail "no run folder: $(cat err)"
[ "$(wc -l < err)" = 1 ] || fail "more than one line: $(cat err)"
"$bin" show --out x res/latest 2> err; [ $? = 64 ] || fail "show --out: not 64"
echo "ok: bad input"
exit 0
