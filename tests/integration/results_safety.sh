#!/usr/bin/env bash
# Results written as root cannot be turned against root (lib/resultdir.h):
# a results folder that is a planted link, that another user owns or that
# others can write to is refused; a planted `latest` is replaced, never
# followed; a run folder swapped for a link while the run is on keeps its
# results, and nothing is written through the link; under sudo the results
# are the invoking user's, folders 0700 and files 0600.
# usage: results_safety.sh <socklab binary> <build dir>
set -u
bin=$(realpath "$1")
if [ "$(id -u)" != 0 ]; then
	echo "skipped: needs root (socklab run checks root first)"
	exit 77
fi
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
if ! nobody true 2>/dev/null; then
	echo "skipped: cannot run as uid 65534 (setpriv)"
	exit 77
fi
. "$(dirname "$0")/common.bash"
exp=rst-refused

tmp=$(mktemp -d /tmp/socklab-results-safety-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# uid 65534 plays the other user: it must reach its folders in here.
chmod 755 "$tmp"
cd "$tmp"

# victim <name>: a folder of root's elsewhere, with a 0600 file of root's
# that no run may touch; untouched <name>: it is as it was.
victim() {
	mkdir -p "$1/$exp"
	echo precious > "$1/$exp/verdict.json"
	chmod 600 "$1/$exp/verdict.json"
}
untouched() {
	[ "$(cat "$1/$exp/verdict.json")" = precious ] &&
		[ "$(ls "$1/$exp")" = verdict.json ] &&
		[ "$(ls "$1")" = $exp ]
}

# 1. `results` is a link someone planted: refused, nothing written there.
victim victim1
mkdir planted && ln -s "$tmp/victim1" planted/results
(cd planted && "$bin" run --quiet $exp) > out 2> err
rc=$?
check "a planted results link is refused (exit $rc)" '[ $rc = 2 ]'
check "its message names the folder" \
	'grep -q "cannot write results folder '\''results'\''" err'
check "nothing written through the results link" 'untouched victim1'

# 2. A results folder of another user, or one that others can write to.
mkdir -p theirs/results && chown 65534:65534 theirs/results
(cd theirs && "$bin" run --quiet $exp) > out 2> err
rc=$?
check "another user's results folder is refused (exit $rc)" '[ $rc = 2 ]'
check "its message says whose it is" 'grep -q "belongs to uid 65534" err'
check "nothing written in it" '[ -z "$(ls -A theirs/results)" ]'
mkdir -p open/results && chmod 777 open/results
(cd open && "$bin" run --quiet $exp) > out 2> err
rc=$?
check "a results folder anyone can write to is refused (exit $rc)" \
	'[ $rc = 2 ]'
check "its message says why" 'grep -q "others can write to it" err'

# 3. `latest` planted as a link to a folder elsewhere: replaced by the link
# to the run, and what it pointed to is left alone.
victim victim3
mkdir -p own/results && ln -s "$tmp/victim3/$exp" own/results/latest
(cd own && "$bin" run --quiet $exp) > out 2> err
rc=$?
check "a run with a planted latest passes (exit $rc)" '[ $rc = 0 ]'
check "latest now points at the run" \
	'[[ $(readlink own/results/latest) =~ ^[0-9]{8}-[0-9]{6}-[0-9]+$ ]]'
check "nothing written through the latest link" 'untouched victim3'

# 4. Under sudo (simulated): the results are the invoking user's, folders
# 0700 and files 0600, and a results folder of that user is accepted.
mkdir -p mine/results && chown 65534:65534 mine mine/results
(cd mine && SUDO_UID=65534 SUDO_GID=65534 "$bin" run --quiet $exp) \
	> out 2> err
rc=$?
check "under sudo, the user's own results folder is used (exit $rc)" \
	'[ $rc = 0 ]'
check "every result belongs to the user" \
	'[ -z "$(find mine/results -mindepth 1 ! -user 65534 -o ! -group 65534)" ]'
check "folders are 0700" \
	'[ -z "$(find mine/results -mindepth 1 -type d ! -perm 700)" ]'
check "files are 0600" '[ -z "$(find mine/results -type f ! -perm 600)" ]'
check "the user can read the verdict and delete the run" \
	'nobody cat mine/results/latest/$exp/verdict.json >/dev/null &&
	 nobody rm -rf "mine/results/$(readlink mine/results/latest)"'

# 5. The race: while the run is on, the user who owns the results folder
# moves the fresh run folder aside and puts a link to root's folder in its
# place (in the same folder: moving a folder of root's to another one
# would need its own write permission).  The run must keep writing into its
# own folder (now "aside"), or refuse, and never write through the link.
victim victim5
mkdir -p race/results && chown 65534:65534 race/results
cat > swap.sh <<'EOF'
#!/usr/bin/env bash
# Swaps each run folder that appears for a link, until it is killed: a run
# that recreates its folder by its path gets it swapped again.
cd "$1/race/results" || exit 1
touch ready
n=0
while :; do
	for d in 2*; do
		[ -d "$d" ] && [ ! -L "$d" ] || continue
		n=$((n + 1))
		mv "$d" aside.$n && ln -s "$1/victim5" "$d" && echo "$d" >> swapped
	done
done
EOF
chmod 755 swap.sh
setpriv --reuid=65534 --regid=65534 --clear-groups ./swap.sh "$tmp" &
swapper=$!
trap 'kill $swapper 2>/dev/null; rm -rf "$tmp"' EXIT
while [ ! -e race/results/ready ] && kill -0 $swapper 2>/dev/null; do :; done
(cd race && SUDO_UID=65534 SUDO_GID=65534 "$bin" run --quiet $exp) \
	> out 2> err
rc=$?
kill $swapper 2>/dev/null
wait $swapper 2>/dev/null
check "the run folder was swapped during the run" '[ -s race/results/swapped ]'
check "nothing written through the swapped-in link" 'untouched victim5'
check "the run wrote into its own folder (exit $rc)" \
	'[ $rc = 2 ] || [ -s race/results/aside.1/$exp/verdict.json ]'

exit $fail
