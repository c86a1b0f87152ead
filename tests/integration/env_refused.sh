#!/usr/bin/env bash
# As root, a folder that the environment names is honoured only when only
# root can change it (lib/envdir.h): SOCKLAB_EXPERIMENTS_DIR owned by
# nobody, writable by its group or by everyone, under a parent that nobody
# owns, or holding an executable that nobody owns is refused with the
# reason, and not one of its executables is started (before, each was run
# with --describe as root); a root-only folder is used.  SOCKLAB_TRACEFS
# owned by nobody is refused the same way, and the run goes on without
# kernel events, saying why.
# usage: env_refused.sh <socklab binary> <build dir>
set -u
socklab=$(realpath "$1")
. "$(dirname "$0")/common.bash"
if [ "$(id -u)" != 0 ]; then echo "skipped: needs root (the rule is root's)"; exit 77; fi
nobody=$(id -u nobody 2>/dev/null) || { echo "skipped: no user nobody"; exit 77; }
tmp=$(mktemp -d /tmp/socklab-env-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# A fake experiment that leaves a mark when it is started at all.
fake() {
	mkdir -p "$1"
	cat > "$1/fake" <<EOF
#!/bin/sh
touch $tmp/started
echo '{"id":"fake","claim":"fake","expected":"CONFIRMED","variants":["only"]}'
EOF
	chmod 755 "$1/fake"
}
# refused NAME DIR REASON: `socklab list` with that folder fails, gives the
# reason and starts nothing.
refused() {
	local why=$3
	rm -f "$tmp/started"
	SOCKLAB_EXPERIMENTS_DIR=$2 "$socklab" list >/dev/null 2>"$tmp/err"
	rc=$?
	check "$1: refused (exit $rc)" '[ $rc != 0 ]'
	check "$1: says why ($(head -c 160 "$tmp/err"))" \
		'grep -q "SOCKLAB_EXPERIMENTS_DIR=.* refused as root: .*$why" "$tmp/err"'
	check "$1: started nothing" '[ ! -e "$tmp/started" ]'
}

fake "$tmp/nobodys"; chown "$nobody" "$tmp/nobodys"
refused "owned by nobody" "$tmp/nobodys" "owned by uid $nobody"
fake "$tmp/group"; chmod 775 "$tmp/group"
refused "group-writable" "$tmp/group" "writable by its group"
fake "$tmp/world"; chmod 777 "$tmp/world"
refused "world-writable" "$tmp/world" "writable by everyone"
mkdir "$tmp/parent"; fake "$tmp/parent/exps"; chown "$nobody" "$tmp/parent"
refused "under a parent owned by nobody" "$tmp/parent/exps" "$tmp/parent is owned"
fake "$tmp/file"; chown "$nobody" "$tmp/file/fake"
refused "an executable owned by nobody" "$tmp/file" "fake is owned by uid $nobody"
mkdir "$tmp/link"; ln -s "$tmp/nobodys/fake" "$tmp/link/fake"
refused "a symlink into a folder owned by nobody" "$tmp/link" "nobodys is owned"

rm -f "$tmp/started"
fake "$tmp/good"
SOCKLAB_EXPERIMENTS_DIR=$tmp/good "$socklab" list >"$tmp/out" 2>"$tmp/err"
rc=$?
check "a root-only folder (in sticky /tmp) is used (exit $rc)" \
	'[ $rc = 0 ] && grep -q "^fake " "$tmp/out"'

mkdir "$tmp/tracefs"; chown "$nobody" "$tmp/tracefs"
SOCKLAB_TRACEFS=$tmp/tracefs "$socklab" run --json --results "$tmp/res" \
	rst-refused >"$tmp/run.json" 2>/dev/null
rc=$?
check "SOCKLAB_TRACEFS owned by nobody: the run goes on (exit $rc)" '[ $rc = 0 ]'
check "SOCKLAB_TRACEFS owned by nobody: refused, and the run says why" \
	'grep -q "kernel events not recorded: SOCKLAB_TRACEFS=[^\"]* refused as root: [^\"]* owned by uid $nobody" "$tmp/run.json"'
check "SOCKLAB_TRACEFS owned by nobody: nothing written there" '[ -z "$(ls -A "$tmp/tracefs")" ]'
exit $fail
