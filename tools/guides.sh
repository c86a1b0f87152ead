#!/bin/bash
# guides.sh: keeps the "what you will see" parts of the lab guides true to a
# real run.  Each guide, experiments/<id>/README.md, marks those parts as
# generated blocks (timeline excerpts, the Mermaid ladder, the predictions
# with their evidence; tools/guide_blocks.pl says how a block is written),
# and each block names the variant it shows.  The recordings they come from
# are checked in: experiments/<id>/guide/<variant>.tl, a copy of the
# variant's timeline.tl from a real run, one per variant a block shows.
#
#   tools/guides.sh BUILD update [RUN] run the experiments that have guide
#                                      blocks (or take the run folder RUN),
#                                      record, then write: `make guides`
#   tools/guides.sh BUILD record RUN   copy each shown variant's timeline.tl
#                                      from the run folder RUN into
#                                      experiments/<id>/guide/
#   tools/guides.sh BUILD write        regenerate every block from the
#                                      stored recordings
#   tools/guides.sh BUILD write-run RUN   the same from RUN's own derived
#                                      files, without re-judging
#   tools/guides.sh BUILD check        exit 1 when a guide differs from what
#                                      its recordings give (and show how),
#                                      or when a recording no longer behaves
#                                      as its variant declares
#
# BUILD is the build folder (its experiments/ holds the binaries).  The
# text of a block is derived by the experiment itself, never re-derived
# here: `<binary> --judge` re-judges the stored recording with the
# experiment's current predictions and writes the variant's timeline.txt and
# ladder.mmd as a run would; only the predictions' layout (the report's
# "[ ok ] what" and its evidence) is copied from lib/report.c, from the
# result object the judge prints.  So a change of an experiment's
# predictions, or of the harness's output, shows up as a difference.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
usage="usage: guides.sh BUILD update [RUN] | record RUN | write | write-run RUN | check"
build=${1:?$usage}
mode=${2:?$usage}
build=$(cd "$build" && pwd)

die() {
	echo "guides.sh: $*" >&2
	exit 2
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The guides that have generated blocks, as experiment ids.
guide_ids() {
	local f
	for f in "$top"/experiments/*/README.md; do
		grep -q '^<!-- socklab:generated ' "$f" && basename "$(dirname "$f")"
	done
	return 0
}

# The variants the blocks of guide $1 show, one a line.
shown_variants() {
	sed -n 's/^<!-- socklab:generated [a-z]* .*variant=\([A-Za-z0-9_]*\).*-->$/\1/p' \
		"$top/experiments/$1/README.md" | sort -u
}

# The layout of lib/report.c's text_variant(), first part: whether the
# variant held as declared, each prediction with its evidence (or why it
# was skipped), and the measurements, with the same %.3f.
predictions_jq='
def f3: (. * 1000 | round) as $m | ($m | fabs) as $a
	| (($a / 1000 | floor | tostring) + "."
	   + ((1000 + ($a % 1000)) | tostring | .[1:]))
	| if $m < 0 then "-" + . else . end;
. as $root | .variants[] | select(.name == $v) as $var
| (if $var.error then "== variant \($v): ERROR =="
   elif $var.as_declared then
	"== variant \($v): \(if $var.holds then "holds" else "does not hold" end), as declared =="
   else "== variant \($v): \(if $var.holds then "holds" else "does not hold" end), NOT AS DECLARED (declared \(if $var.holds then "not to hold" else "to hold" end)) =="
   end),
  ($var.predictions[]
   | "  [\(if .skipped then "skip" elif .ok then " ok " else "FAIL" end)] \(.what)",
     (if .skipped then "         skipped: \(.skipped)"
      elif (.evidence // "") != "" then "         \(.evidence)"
      else empty end)),
  ($root.measured // {} | to_entries[]
   | select(.key | startswith($v + "."))
   | "  measured \(.key[($v | length) + 1:]) = \(.value.value | f3) \(.value.unit)")
'

# Derives the guide blocks' sources of experiment $1 into $2/<variant>/
# from its stored recordings: the experiment re-judges each one.
derive() {
	local id=$1 out=$2 bin="$build/experiments/$1" v args=()

	[ -x "$bin" ] || die "$id: no experiment binary $bin (build first)"
	"$bin" --help 2>&1 | grep -q -- --judge ||
		die "$bin has no --judge: this build cannot re-judge recordings"
	mkdir -p "$tmp/rec/$id" "$out"
	for v in $(shown_variants "$id"); do
		local tl="$top/experiments/$id/guide/$v.tl"
		[ -f "$tl" ] || die "$id: no recording of variant $v ($tl): run make guides"
		mkdir -p "$tmp/rec/$id/$v"
		cp "$tl" "$tmp/rec/$id/$v/timeline.tl"
		args+=(--variant "$v")
	done
	if ! "$bin" --judge --results "$tmp/rec/$id" "${args[@]}" \
		--out "$out" >"$out/result.json" 2>"$out/stderr.txt"; then
		# A judge that ran prints its result whatever the verdict; no
		# result at all is a failure to judge.
		[ -s "$out/result.json" ] || {
			cat "$out/stderr.txt" >&2
			die "$id: $bin --judge failed"
		}
	fi
	for v in $(shown_variants "$id"); do
		predictions "$v" "$out/result.json" >"$out/$v/predictions.txt"
	done
}

predictions() {
	jq -r --arg v "$1" "$predictions_jq" "$2"
}

# The same sources from a run folder's own files, as the run derived them
# (no re-judging): for writing the blocks where the binaries cannot judge.
derive_run() {
	local id=$1 run=$2 out=$3 v

	for v in $(shown_variants "$id"); do
		[ -f "$run/$id/$v/timeline.txt" ] ||
			die "$id: $run/$id/$v: the run has no variant $v"
		mkdir -p "$out/$v"
		cp "$run/$id/$v/timeline.txt" "$run/$id/$v/ladder.mmd" "$out/$v/"
		predictions "$v" "$run/$id/verdict.json" >"$out/$v/predictions.txt"
	done
}

# Prints the guide of $1 with its blocks regenerated from $2.
render() {
	perl "$here/guide_blocks.pl" "$top/experiments/$1/README.md" "$2"
}

record() {
	local run=$1 id dir v src

	[ -d "$run" ] || die "$run: no such run folder"
	for id in $(guide_ids); do
		dir="$top/experiments/$id/guide"
		mkdir -p "$dir"
		# A variant no block shows any more leaves with its recording.
		find "$dir" -name '*.tl' -delete
		for v in $(shown_variants "$id"); do
			src="$run/$id/$v/timeline.tl"
			[ -f "$src" ] || die "$id: $src: the run has no recording of variant $v"
			cp "$src" "$dir/$v.tl"
			chmod 0644 "$dir/$v.tl"
		done
	done
}

write() {
	local id

	for id in $(guide_ids); do
		derive "$id" "$tmp/der/$id"
		render "$id" "$tmp/der/$id" >"$tmp/$id.md"
		if ! cmp -s "$tmp/$id.md" "$top/experiments/$id/README.md"; then
			cp "$tmp/$id.md" "$top/experiments/$id/README.md"
			echo "guides.sh: experiments/$id/README.md regenerated"
		fi
	done
}

case $mode in
update)
	run=${3:-}
	if [ -z "$run" ]; then
		# Only the experiments that have blocks; a run that fails is no
		# recording to teach from.
		(cd "$top" && "$build/socklab" run -q $(guide_ids)) ||
			die "the run did not pass: no guide is changed"
		run=$top/results/latest
	fi
	record "$run"
	write
	;;
record)
	record "${3:?usage: guides.sh BUILD record RUN}"
	;;
write)
	write
	;;
write-run)
	run=${3:?usage: guides.sh BUILD write-run RUN}
	for id in $(guide_ids); do
		derive_run "$id" "$run" "$tmp/der/$id"
		render "$id" "$tmp/der/$id" >"$tmp/$id.md"
		cmp -s "$tmp/$id.md" "$top/experiments/$id/README.md" ||
			cp "$tmp/$id.md" "$top/experiments/$id/README.md"
	done
	;;
check)
	status=0
	for id in $(guide_ids); do
		derive "$id" "$tmp/der/$id"
		# A recording that no longer behaves as its variant declares is
		# a guide that teaches what the experiment no longer says.
		jq -r '.variants[] | select(.as_declared != true)
			| "\(.name): \(if .error then "error: \(.error)"
			   elif .holds then "holds, but is declared not to"
			   else "does not hold, but is declared to" end)"' \
			"$tmp/der/$id/result.json" >"$tmp/undeclared"
		if [ -s "$tmp/undeclared" ]; then
			sed "s|^|guides.sh: $id: stored recording of |" "$tmp/undeclared" >&2
			status=1
		fi
		render "$id" "$tmp/der/$id" >"$tmp/$id.md" || { status=1; continue; }
		if ! diff -u --label "experiments/$id/README.md" \
			--label "regenerated from experiments/$id/guide/" \
			"$top/experiments/$id/README.md" "$tmp/$id.md"; then
			echo "guides.sh: experiments/$id/README.md differs from what its recordings give (make guides RUN=... or tools/guides.sh BUILD write)" >&2
			status=1
		fi
	done
	exit $status
	;;
*)
	die "unknown mode $mode: record RUN, write or check"
	;;
esac
