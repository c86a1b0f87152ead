#!/usr/bin/env bash
# Bash completion (completion/socklab.bash), driven as bash drives it:
# COMP_WORDS and COMP_CWORD set, the completion function called, COMPREPLY
# read.  `socklab ru<TAB>` gives run, `socklab run time<TAB>` the timewait-*
# ids of `socklab list`, `socklab run -<TAB>` run's options, --variant the
# variants of the ids on the line, --format values socklab accepts.  Needs
# no root.
# usage: completion.sh <socklab binary> <build dir>
set -u
bin=$(realpath "$1")
src=$(realpath "$(dirname "$0")/../../completion/socklab.bash")
. "$(dirname "$0")/common.bash"
unset SOCKLAB_EXPERIMENTS_DIR

# shellcheck source=../../completion/socklab.bash
. "$src"
check "sourcing it registers _socklab for socklab" \
	'[ "$(complete -p socklab 2>/dev/null)" = "complete -F _socklab socklab" ]'

# complete WORD...: what _socklab offers for the last word, sorted, on one
# line; the command is the binary under test, as when typed by its path.
complete_words() {
	COMP_WORDS=("$bin" "$@")
	COMP_CWORD=$#
	COMP_LINE="${COMP_WORDS[*]}"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_socklab
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

got=$(complete_words ru)
check "socklab ru<TAB> -> run (got '$got')" '[ "$got" = run ]'
got=$(complete_words do)
check "socklab do<TAB> -> doctor (got '$got')" '[ "$got" = doctor ]'
want=$("$bin" --help | sed -n '/^commands:$/,/^$/s/^  \([a-z]*\) .*/\1/p' | sort | tr '\n' ' ' | sed 's/ $//')
got=$(complete_words "")
check "socklab <TAB> -> every command of socklab --help (got '$got')" \
	'[ -n "$want" ] && [ "$got" = "$want" ]'

want=$("$bin" list | awk 'NR > 1 && $1 ~ /^timewait-/ { print $1 }' | sort | tr '\n' ' ' | sed 's/ $//')
got=$(complete_words run time)
check "socklab run time<TAB> -> the timewait-* ids (got '$got')" '[ -n "$want" ] && [ "$got" = "$want" ]'
got=$(complete_words run -j 2 rst-ref)
check "socklab run -j 2 rst-ref<TAB> -> rst-refused (got '$got')" '[ "$got" = rst-refused ]'

got=$(complete_words run -)
missing=""
for opt in --all -j --jobs --timeout --results --variant --repeat --family --keep --format --json -q --quiet -h --help; do
	grep -qw -- "$opt" <<<"$got" || missing="$missing $opt"
done
check "socklab run -<TAB> -> run's options${missing:+ (missing:$missing)}" '[ -z "$missing" ]'
got=$(complete_words run --v)
check "socklab run --v<TAB> -> --variant (got '$got')" '[ "$got" = --variant ]'
got=$(complete_words list --)
check "socklab list --<TAB> -> --help --json (got '$got')" '[ "$got" = "--help --json" ]'

want=$("$bin" list --json | grep '"id":"rst-refused"' | sed 's/.*"variants":\[\([^]]*\)\].*/\1/' |
	tr -d '"' | tr ',' '\n' | sort | tr '\n' ' ' | sed 's/ $//')
got=$(complete_words run rst-refused --variant "")
check "socklab run rst-refused --variant <TAB> -> its variants (got '$got')" \
	'[ -n "$want" ] && [ "$got" = "$want" ]'
got=$(complete_words run rst-refused --variant = "")
check "... and after --variant= (got '$got')" '[ "$got" = "$want" ]'
got=$(complete_words run --jobs "")
check "socklab run --jobs <TAB> -> nothing (a number; got '$got')" '[ -z "$got" ]'

got=$(complete_words run --format "")
check "socklab run --format <TAB> -> text json ktap (got '$got')" '[ "$got" = "json ktap text" ]'
for f in $got; do
	check "socklab run --format $f is accepted" '"$bin" run --format "$f" --help >/dev/null 2>&1'
done
got=$(complete_words run --family "")
check "socklab run --family <TAB> -> 4 6 all (got '$got')" '[ "$got" = "4 6 all" ]'
for f in $got; do
	check "socklab run --family $f is accepted" '"$bin" run --family "$f" --help >/dev/null 2>&1'
done
got=$(complete_words states --format "")
check "socklab states --format <TAB> -> svg dot text (got '$got')" '[ "$got" = "dot svg text" ]'
for f in $got; do
	"$bin" states --format "$f" /nonexistent >/dev/null 2>&1
	rc=$?
	check "socklab states --format $f is accepted (exit $rc, not 64)" '[ $rc != 64 ]'
done
got=$(complete_words shell "")
check "socklab shell <TAB> -> client router server (got '$got')" '[ "$got" = "client router server" ]'
got=$(complete_words shell 3 se)
check "socklab shell 3 se<TAB> -> server (got '$got')" '[ "$got" = server ]'
got=$(complete_words shell client -- "")
check "socklab shell client -- <TAB> -> nothing of ours (got '$got')" '[ -z "$got" ]'
got=$(complete_words run --st)
check "socklab run --st<TAB> -> --step (got '$got')" '[ "$got" = --step ]'
got=$(complete_words help r)
check "socklab help r<TAB> -> run (got '$got')" '[ "$got" = run ]'
exit $fail
