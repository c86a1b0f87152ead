#!/usr/bin/env bash
# `cmake --install build --prefix P`: P/bin/socklab, the experiments in
# P/libexec/socklab, the man pages (man finds them under P/share/man), bash
# completion, the lab guides in P/share/doc/socklab; and the installed
# socklab finds its experiments relative to its own executable, not in the
# build: it lists the same catalogue, after the whole tree is moved too,
# and carries no path of the build.  As root it runs one for real.
# usage: install.sh <socklab binary> <build dir>
set -u
bin=$(realpath "$1") build=$(realpath "$2")
src=$(realpath "$(dirname "$0")/../..")
. "$(dirname "$0")/common.bash"
unset SOCKLAB_EXPERIMENTS_DIR
tmp=$(mktemp -d /tmp/socklab-install-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/p" >"$tmp/install.log" 2>&1
rc=$?
check "cmake --install --prefix: exit 0, got $rc" '[ $rc = 0 ]' || { cat "$tmp/install.log"; exit 1; }

ids=$(cd "$build/experiments" && ls)
p=$tmp/p
check "bin/socklab" '[ -x "$p/bin/socklab" ]'
missing=""
for id in $ids; do
	[ -x "$p/libexec/socklab/$id" ] || missing="$missing $id"
	[ -f "$p/share/doc/socklab/experiments/$id/README.md" ] || missing="$missing $id/README.md"
done
check "every experiment in libexec/socklab, its guide in share/doc/socklab/experiments${missing:+ (missing:$missing)}" \
	'[ -z "$missing" ]'
check "nothing else in libexec/socklab (every file there is run as an experiment)" \
	'[ "$(cd "$p/libexec/socklab" && ls)" = "$ids" ]'
check "the top README, the catalogue and the index of claims" \
	'[ -f "$p/share/doc/socklab/README.md" ] && [ -f "$p/share/doc/socklab/CATALOGUE.md" ] &&
	 [ -f "$p/share/doc/socklab/experiments/README.md" ]'
check "bash completion in share/bash-completion/completions/socklab" \
	'[ -f "$p/share/bash-completion/completions/socklab" ]'
for page in socklab socklab-run socklab-list socklab-doctor socklab-clean socklab-bench; do
	check "man finds $page under P/share/man" \
		'[ "$(MANPATH="$p/share/man" man -w "$page" 2>/dev/null)" = "$p/share/man/man1/$page.1" ]'
done

check "the installed socklab says the same version" \
	'[ "$("$p/bin/socklab" --version)" = "$("$bin" --version)" ]'
list_ids() { "$1" list | awk 'NR > 1 { print $1 }'; }
check "the installed socklab lists the build's catalogue" '[ "$(list_ids "$p/bin/socklab")" = "$ids" ]'
check "... from its own libexec/socklab" \
	'"$p/bin/socklab" doctor 2>/dev/null | grep -q "^experiments .* in $p/libexec/socklab (beside socklab)" ||
	 [ "$(id -u)" != 0 ]'
check "no path of the build's experiments in the installed socklab" '! grep -qF "$build/experiments" "$p/bin/socklab"'
mv "$p" "$tmp/moved"
p=$tmp/moved
check "moved elsewhere, it still lists them all" '[ "$(list_ids "$p/bin/socklab")" = "$ids" ]'

# The recorded runs the lab guides show are installed beside them, and an
# installed experiment's --explain takes the faults its roles applied, and
# the path of its code, from there: not from the checkout it was built
# from, which a user of the package does not have.
recorded=""
for f in "$src"/experiments/*/guide/*.tl.gz; do
	rel=${f#"$src"/experiments/}
	[ -f "$p/share/doc/socklab/experiments/$rel" ] || recorded="$recorded $rel"
done
check "every recording in share/doc/socklab/experiments/<id>/guide${recorded:+ (missing:$recorded)}" \
	'[ -z "$recorded" ]'
if [ -x "$p/libexec/socklab/rst-peer-crashed" ]; then
	"$p/bin/socklab" run --explain rst-peer-crashed >"$tmp/explain" 2>&1
	check "installed --explain serves a role's fault from the installed recording" \
		'grep -A1 "^# faults the roles apply at their marks" "$tmp/explain" |
		 grep -qF "($p/share/doc/socklab/experiments/rst-peer-crashed/guide/"' ||
		cat "$tmp/explain"
	check "... and names the installed source as the roles' code" \
		'grep -qF "their code: $p/share/doc/socklab/experiments/rst-peer-crashed/rst-peer-crashed.c" "$tmp/explain"'
	check "... and nothing of the checkout" '! grep -qF "$src/" "$tmp/explain"'
fi

if [ "$(id -u)" = 0 ] && [ -x "$p/libexec/socklab/rst-refused" ]; then
	"$p/bin/socklab" run --quiet --results "$tmp/res" rst-refused >"$tmp/run.log" 2>&1
	rc=$?
	check "the installed socklab runs rst-refused: exit 0, got $rc" '[ $rc = 0 ]' || cat "$tmp/run.log"
	check "its index.html links the installed lab guide" \
		'grep -qF "$p/share/doc/socklab/experiments/rst-refused/README.md" "$tmp"/res/latest/index.html'
else
	echo "not run: rst-refused from the install (needs root)"
fi
exit $fail
