#!/usr/bin/env bash
# `make deb`'s package (CPack, the build's CPackConfig.cmake): its Depends
# name the run-time libraries and tools, it holds socklab, the experiments,
# the man pages, completion and the guides under /usr, and the socklab
# extracted from it into a scratch root works: --version, list, and as
# root a run of rst-refused.  Skipped, saying why, without dpkg-deb.
# usage: deb.sh <socklab binary> <build dir>
set -u
bin=$(realpath "$1") build=$(realpath "$2")
. "$(dirname "$0")/common.bash"
for tool in dpkg-deb dpkg-shlibdeps cpack; do
	command -v $tool >/dev/null || { echo "skipped: no $tool (make deps installs dpkg-dev)"; exit 77; }
done
unset SOCKLAB_EXPERIMENTS_DIR
tmp=$(mktemp -d /tmp/socklab-deb-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/pkg" >"$tmp/cpack.log" 2>&1
deb=$(ls "$tmp"/pkg/socklab_*.deb 2>/dev/null | head -1)
check "cpack made a .deb ($(basename "${deb:-none}"))" '[ -f "$deb" ]' || { cat "$tmp/cpack.log"; exit 1; }

depends=$(dpkg-deb -f "$deb" Depends)
missing=""
for pkg in libev4 libpcap0.8 libmnl0 libnetfilter-queue1 libtracefs1 libtraceevent1 \
	libjansson4 iproute2 iptables nftables; do
	grep -Eq "(^|, )$pkg( |,|$)" <<<"$depends" || missing="$missing $pkg"
done
check "Depends names the run-time libraries and tools${missing:+ (missing:$missing)}" '[ -z "$missing" ]'
check "the version is a Debian version ($(dpkg-deb -f "$deb" Version))" \
	'dpkg-deb -f "$deb" Version | grep -Eq "^[0-9][A-Za-z0-9.+~]*$"'

dpkg-deb -c "$deb" | awk '{ print $NF }' >"$tmp/contents"
for f in ./usr/bin/socklab ./usr/libexec/socklab/rst-refused ./usr/share/man/man1/socklab.1 \
	./usr/share/man/man1/socklab-run.1 ./usr/share/bash-completion/completions/socklab \
	./usr/share/doc/socklab/experiments/rst-refused/README.md; do
	check "the package holds $f" 'grep -qxF "$f" "$tmp/contents"'
done
check "nothing of the tests in it" '! grep -Eq "negative|test_|trace-experiments" "$tmp/contents"'

dpkg-deb -x "$deb" "$tmp/root"
s=$tmp/root/usr/bin/socklab
check "extracted, socklab --version" '"$s" --version | grep -q "^socklab "'
check "extracted, socklab list shows the catalogue from its own libexec" \
	'[ "$("$s" list | awk "NR > 1 { print \$1 }")" = "$(cd "$build/experiments" && ls)" ]'
if [ "$(id -u)" = 0 ]; then
	"$s" run --quiet --results "$tmp/res" rst-refused >"$tmp/run.log" 2>&1
	rc=$?
	check "extracted, socklab run rst-refused: exit 0, got $rc" '[ $rc = 0 ]' || cat "$tmp/run.log"
else
	echo "not run: rst-refused from the package (needs root)"
fi
exit $fail
