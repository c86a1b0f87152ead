# bash completion for socklab                              -*- shell-script -*-
#
# Installed as share/bash-completion/completions/socklab; for a build tree,
# `. completion/socklab.bash` then `complete -F _socklab ./build/socklab`.
#
# Everything is asked of the socklab being completed (the first word of the
# line), so that nothing here can drift from it: the commands come from
# `socklab --help`, each command's options (and which take a value) from
# `socklab <command> --help`, the experiment ids and their variants from
# `socklab list --json`.  Only --format's values are written here (run's and
# states'), and tests/integration/completion.sh checks that socklab
# accepts each.

# The commands: the "commands:" list of socklab --help.
_socklab_commands()
{
	"$1" --help 2>/dev/null |
		sed -n '/^commands:$/,/^$/s/^  \([a-z][a-z-]*\)  .*/\1/p'
}

# The options of a command, one a line, each followed by 1 when it takes a
# value: from its --help lines "  -j, --jobs N   text...", where a word
# after the options names the value.
_socklab_options()
{
	"$@" --help 2>/dev/null | sed -n 's/^  \(-[^ ].*\)$/\1/p' |
		awk '{
			sub(/   .*/, "")
			n = split($0, w, /[ ,]+/)
			for (i = 1; i <= n; i++)
				if (w[i] ~ /^-/)
					print w[i], (w[n] !~ /^-/)
		}'
}

# Experiment ids, or with ids given the variants of those (of every
# experiment when none is given): from the JSON Lines of socklab list
# --json.  Ids and variant names are plain words; a claim may hold
# anything, but in JSON a quote inside a string is always \", so the
# patterns below never match inside one.
_socklab_ids()
{
	"$1" list --json 2>/dev/null |
		sed -n 's/^{.*"id": *"\([^"\\]*\)".*/\1/p'
}

_socklab_variants()
{
	local bin=$1 line id want
	shift
	"$bin" list --json 2>/dev/null | while IFS= read -r line; do
		[[ $line =~ \"id\":\ *\"([^\"\\]*)\" ]] || continue
		id=${BASH_REMATCH[1]}
		if [ $# -gt 0 ]; then
			for want in "$@"; do [ "$want" = "$id" ] && break; done
			[ "$want" = "$id" ] || continue
		fi
		[[ $line =~ \"variants\":\ *\[([^]]*)\] ]] || continue
		tr -d '" ' <<<"${BASH_REMATCH[1]}" | tr ',' '\n'
	done | sort -u
}

_socklab()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev= bin=${COMP_WORDS[0]}
	local cmd= opt takes i w ids=()

	COMPREPLY=()
	# A leading ~ as the shell would expand it.
	[[ $bin == "~"* ]] && bin=$HOME${bin:1}
	if [ "$COMP_CWORD" -gt 0 ]; then
		prev=${COMP_WORDS[COMP_CWORD - 1]}
	fi
	# "--variant=x": bash splits it at "=" (COMP_WORDBREAKS).
	if [ "$cur" = "=" ]; then
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		cur=
	elif [ "$prev" = "=" ] && [ "$COMP_CWORD" -gt 1 ]; then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	fi

	if [ "$COMP_CWORD" -le 1 ]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$(_socklab_options "$bin" | awk '{ print $1 }')" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_socklab_commands "$bin")" -- "$cur"))
		fi
		return
	fi
	cmd=${COMP_WORDS[1]}
	case $cmd in
	help)
		[ "$COMP_CWORD" = 2 ] &&
			COMPREPLY=($(compgen -W "$(_socklab_commands "$bin")" -- "$cur"))
		return ;;
	-*)
		return ;;
	esac

	# The value of an option that takes one.
	takes=$(_socklab_options "$bin" "$cmd" | awk -v o="$prev" '$1 == o { print $2 }')
	if [ "$takes" = 1 ]; then
		case $prev in
		--variant)
			# The variants of the ids already on the line.
			for ((i = 2; i < COMP_CWORD; i++)); do
				w=${COMP_WORDS[i]}
				[[ $w == -* || $w == "=" ]] && continue
				opt=$(_socklab_options "$bin" "$cmd" |
					awk -v o="${COMP_WORDS[i - 1]}" '$1 == o { print $2 }')
				[ "$opt" = 1 ] && continue
				ids+=("$w")
			done
			COMPREPLY=($(compgen -W "$(_socklab_variants "$bin" "${ids[@]}")" -- "$cur")) ;;
		--family)
			COMPREPLY=($(compgen -W "4 6 all" -- "$cur")) ;;
		--format)
			case $cmd in
			run) COMPREPLY=($(compgen -W "text json ktap" -- "$cur")) ;;
			states) COMPREPLY=($(compgen -W "svg dot text" -- "$cur")) ;;
			esac ;;
		--results | --out)
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -d -- "$cur")) ;;
		-o | --output | --log)
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -f -- "$cur")) ;;
		-k | --kernel)
			# vm's kernel: a package or image file, or debian:X.Y.
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -f -- "$cur") $(compgen -W "debian:6.1" -- "$cur")) ;;
		--modules)
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -d -- "$cur")) ;;
		--accel)
			COMPREPLY=($(compgen -W "auto kvm tcg" -- "$cur")) ;;
		esac
		return
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_socklab_options "$bin" "$cmd" | awk '{ print $1 }')" -- "$cur"))
		return
	fi
	case $cmd in
	run)
		COMPREPLY=($(compgen -W "$(_socklab_ids "$bin")" -- "$cur")) ;;
	shell)
		# A host of a paused or kept run, after its slot if one is
		# named; nothing for the command after --.
		for ((i = 2; i < COMP_CWORD; i++)); do
			[ "${COMP_WORDS[i]}" = -- ] && return
		done
		COMPREPLY=($(compgen -W "client router server" -- "$cur")) ;;
	states | diff | judge | show | clean)
		# Run folders (and, for judge and show, an experiment's in
		# one).
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -d -- "$cur")) ;;
	esac
}

complete -F _socklab socklab
