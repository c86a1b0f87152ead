#!/usr/bin/env bash
# The man pages are written at build time from the data of the --help
# texts (harness/help.c, man/socklab-man.c): each command that `socklab
# --help` lists has its page, socklab-<command>.1, beside socklab.1; each
# page names every option its command's --help shows, and the summary
# `socklab --help` gives the command; and man reads each one without a
# warning.  Needs no root.
# usage: man_pages.sh <socklab binary> <build dir>
set -u
bin=$(realpath "$1") build=$(realpath "$2")
man=$build/man
. "$(dirname "$0")/common.bash"

# The commands, from the "commands:" list of socklab --help:
# "  run      run experiments and judge their claims".
commands=$("$bin" --help | sed -n '/^commands:$/,/^$/p' | sed -n 's/^  \([a-z][a-z]*\)  .*/\1/p')
check "socklab --help lists commands ($(echo $commands))" '[ -n "$commands" ]'

# The options a --help text shows: the words that begin with - in the
# first column of its option lines ("  -j, --jobs N   at most...").
options_of() {
	"$@" --help | sed -n 's/^  \(-[^ ].*\)$/\1/p' |
		sed 's/   .*//' | tr ',' '\n' | awk '{ print $1 }' | grep '^-'
}

# The page's text as a reader types it: roff's \- is a -, fonts go.
plain() {
	sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\&//g' -e 's/\\e/\\/g' "$1"
}

# One page: it exists, carries each option of its command's --help, and
# reads without a warning.  $1: the page, the rest: the command.
check_page() {
	local page=$1 opt missing="" text
	shift
	check "$page exists" '[ -s "$man/$page" ]' || return
	text=$(plain "$man/$page")
	for opt in $(options_of "$@"); do
		grep -Eq -- "(^|[^-[:alnum:]])$opt([^-[:alnum:]]|\$)" <<<"$text" ||
			missing="$missing $opt"
	done
	check "$page carries every option of \`${*##*/} --help\`${missing:+ (missing:$missing)}" \
		'[ -z "$missing" ]'
	if command -v man >/dev/null; then
		warn=$(MANWIDTH=80 man --warnings -l "$man/$page" 2>&1 >/dev/null)
		check "$page reads without a warning${warn:+: $warn}" '[ -z "$warn" ]'
	fi
}

check_page socklab.1 "$bin"
for cmd in $commands; do
	check_page "socklab-$cmd.1" "$bin" "$cmd"
	summary=$("$bin" --help | sed -n "s/^  $cmd  *//p")
	check "socklab-$cmd.1's NAME is its summary ($summary)" \
		'plain "$man/socklab-$cmd.1" | grep -qxF "socklab-$cmd - $summary"'
done

# Nothing stale: a page for a command that is no longer listed would be
# installed all the same.
for page in "$man"/*.1; do
	name=$(basename "$page" .1)
	[ "$name" = socklab ] && continue
	check "$name.1 is a listed command's" 'grep -qxw "${name#socklab-}" <<<"$commands"'
done
exit $fail
