#!/bin/bash
# guides.sh: keeps the "what you will see" parts of the lab guides true to a
# real run.  Each guide, experiments/<id>/README.md, marks those parts as
# generated blocks (timeline excerpts, the Mermaid ladder, the predictions
# with their evidence; tools/guide_blocks.pl says how a block is written),
# and each block names the variant it shows.  The recordings they come from
# are checked in: experiments/<id>/guide/<variant>.tl.gz, the variant's
# timeline.tl from a real run, one per variant of the experiment, compressed
# (gzip -n: the same bytes for the same recording) because a recording is
# read by the judge, not by people, and is ten times smaller so.
#
#   tools/guides.sh BUILD update [RUN] run the experiments that have guide
#                                      blocks (or take the run folder RUN),
#                                      record, then write: `make guides`
#   tools/guides.sh BUILD record RUN   copy each variant's timeline.tl
#                                      from the run folder RUN into
#                                      experiments/<id>/guide/ (those a
#                                      block shows must be there)
#   tools/guides.sh BUILD write        regenerate every block from the
#                                      stored recordings
#   tools/guides.sh BUILD write-run RUN   the same from RUN's own derived
#                                      files, without re-judging
#   tools/guides.sh BUILD check [ID]...   exit 1 when a guide differs from
#                                      what its recordings give (and show
#                                      how), or when a recording no longer
#                                      behaves as its variant declares; ID:
#                                      only these guides
#
# BUILD is the build folder (its experiments/ holds the binaries).  The
# text of a block is derived by the experiment itself, never re-derived
# here: `<binary> --judge` re-judges the stored recording with the
# experiment's current predictions and writes what a run would (the report's
# timeline.txt with the predictions and their evidence, and each variant's
# timeline.txt and ladder.mmd).  So a change of an experiment's predictions,
# or of the harness's output, shows up as a difference.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
usage="usage: guides.sh BUILD update [RUN] | record RUN | write | write-run RUN | check [ID]..."
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

# The variant's part of the report (timeline.txt of the experiment, as
# lib/report.c writes it): whether it held as declared, its faults, each
# prediction with its evidence, the measurements; up to the counters.
predictions() {
	awk -v v="$1" '
		index($0, "== variant " v ":") == 1 { on = 1; print; next }
		on && (/^$/ || /^  kernel counters that moved/) { exit }
		on { print }' "$2"
}

# Derives the guide blocks' sources of experiment $1 into $2/<variant>/
# from its stored recordings: the experiment re-judges each one.
derive() {
	local id=$1 out=$2 bin="$build/experiments/$1" v args=()

	[ -x "$bin" ] || die "$id: no experiment binary $bin (build first)"
	"$bin" --help 2>&1 | grep -- --judge >/dev/null ||
		die "$bin has no --judge: this build cannot re-judge recordings"
	mkdir -p "$tmp/rec/$id" "$(dirname "$out")"
	for v in $(shown_variants "$id"); do
		local tl="$top/experiments/$id/guide/$v.tl.gz"
		[ -f "$tl" ] || die "$id: no recording of variant $v ($tl): run make guides"
		mkdir -p "$tmp/rec/$id/$v"
		gzip -dc "$tl" >"$tmp/rec/$id/$v/timeline.tl" ||
			die "$id: $tl: cannot decompress it"
		args+=(--variant "$v")
	done
	if ! "$bin" --judge --results "$tmp/rec/$id" "${args[@]}" \
		--out "$out" >"$tmp/$id.json" 2>"$tmp/$id.err"; then
		# A judge that ran prints its result whatever the verdict; no
		# result at all is a failure to judge.
		[ -s "$tmp/$id.json" ] || {
			cat "$tmp/$id.err" >&2
			die "$id: $bin --judge failed"
		}
	fi
	for v in $(shown_variants "$id"); do
		predictions "$v" "$out/timeline.txt" >"$out/$v/predictions.txt"
	done
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
		predictions "$v" "$run/$id/timeline.txt" >"$out/$v/predictions.txt"
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
		for v in $(shown_variants "$id"); do
			src="$run/$id/$v/timeline.tl"
			[ -f "$src" ] || die "$id: $src: the run has no recording of variant $v"
		done
		# Every variant the run has, not only those a block shows:
		# `socklab run --explain` prints the faults a variant's roles
		# applied at their marks from its recording.  A variant gone
		# from the experiment leaves with its recording.
		find "$dir" -name '*.tl.gz' -delete
		for src in "$run/$id"/*/timeline.tl; do
			[ -f "$src" ] || continue
			v=$(basename "$(dirname "$src")")
			gzip -9n <"$src" >"$dir/$v.tl.gz"
			chmod 0644 "$dir/$v.tl.gz"
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
	shift 2
	ids=("$@")
	[ ${#ids[@]} -gt 0 ] || mapfile -t ids < <(guide_ids)
	status=0
	for id in "${ids[@]}"; do
		[ -f "$top/experiments/$id/README.md" ] || die "$id: no such guide"
		derive "$id" "$tmp/der/$id"
		# A recording that no longer behaves as its variant declares is
		# a guide that teaches what the experiment no longer says.
		jq -r '.variants[] | select(.as_declared != true)
			| "\(.name): \(if .error then "error: \(.error)"
			   elif .holds then "holds, but is declared not to"
			   else "does not hold, but is declared to" end)"' \
			"$tmp/$id.json" >"$tmp/undeclared"
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
