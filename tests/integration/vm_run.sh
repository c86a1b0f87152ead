#!/usr/bin/env bash
# socklab vm: one short experiment in a QEMU guest on Debian's 6.1 kernel,
# and a guest killed mid-run.
#  1. `socklab vm --kernel debian:6.1 -- run --json rst-refused`: the JSON
#     line comes back on stdout with the guest's kernel release (not the
#     host's) and the accelerator `socklab doctor` names, the run folder
#     is an ordinary one on the host (latest, verdict.json naming the
#     guest, vm.json), and nothing of the guest is left;
#  2. SIGTERM once the guest's run has begun: socklab vm exits 143, its
#     QEMU is gone, and so is its temporary folder;
#  3. SIGKILL while QEMU boots: QEMU dies with it (PR_SET_PDEATHSIG), and
#     `socklab clean` removes the temporary folder it could not.
# The kernel package comes from Debian's archive (apt-get download, into
# socklab's cache, once); when the archive cannot be reached the test is
# skipped, saying so, which never counts as a pass.  Each guest gets
# --timeout 400, so that socklab vm tears it down itself before ctest's
# deadline for the test (tests/CMakeLists.txt: 900 s for three guests)
# would kill this script around it.
# usage: vm_run.sh <socklab binary> <build dir>
set -u
socklab=$(realpath "$1")
if [ "$(id -u)" != 0 ]; then echo "skipped: needs root (QEMU shares the root, experiments)"; exit 77; fi
for t in qemu-system-x86_64 busybox jq; do
	command -v $t >/dev/null || { echo "skipped: no $t (make deps installs it)"; exit 77; }
done
. "$(dirname "$0")/common.bash"
# The guest mounts tmpfs on /tmp: its results must live elsewhere (in the
# build folder), and it starts socklab in the folder it was started from.
cd "$(realpath "$2")" || exit 1
out=$(mktemp -d "$PWD/vmtest-XXXXXX")
trap 'rm -rf "$out"' EXIT

# Starts `socklab vm ARGS...` in the background (stdout and stderr into
# $out/$1.out, $1.err) and notes its QEMU's PID and temporary folder
# (QEMU's -initrd) as soon as they exist: $pid, $qemu, $tmp.
start_vm() {
	local name=$1
	shift
	"$socklab" vm --timeout 400 "$@" >"$out/$name.out" 2>"$out/$name.err" &
	pid=$!
	qemu= tmp=
}
# Polls (every 0.1 s, at most 300 s) until `$1` is true or socklab vm has
# ended, noting QEMU and its folder on the way.
watch_vm() {
	local i
	for i in $(seq 1 3000); do
		[ -z "$qemu" ] && qemu=$(pgrep -P $pid qemu-system)
		if [ -n "$qemu" ] && [ -z "$tmp" ]; then
			tmp=$(tr '\0' '\n' </proc/$qemu/cmdline 2>/dev/null |
				sed -n 's|^\(/tmp/socklab-vm-[^/]*\)/initramfs.cpio$|\1|p')
		fi
		eval "$1" && return 0
		kill -0 $pid 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# 1. The kernel: the newest 6.1 package, fetched by socklab itself.  A
# failure to reach the archive is a skip; any other failure is the test's.
# The experiment gets the CLI's --timeout 200: under TCG, and more so with
# the sanitizers' build (make test-asan), the guest is many times slower
# than the host, and rst-refused's own deadline is for a host's pace.
start_vm a --kernel debian:6.1 -- run --json --timeout 200 --results "$out/a" rst-refused
watch_vm '[ -n "$tmp" ]'
wait $pid
rc=$?
if [ $rc = 2 ] && grep -Eq "apt-get|apt-cache|package lists" "$out/a.err" &&
	! ls /var/cache/socklab/vm/debs/linux-image-6.1.*.deb >/dev/null 2>&1; then
	echo "skipped: Debian's archive is unreachable: $(head -1 "$out/a.err")"
	exit 77
fi
deb=$(ls /var/cache/socklab/vm/debs/linux-image-6.1.*-amd64_*.deb 2>/dev/null | sort -V | tail -1)
release=$(basename "$deb" | sed -E 's/^linux-image-([^_]*)_.*/\1/')
accel=$("$socklab" doctor --json | jq -r '.checks[] | select(.name == "vm") | .detail' |
	sed -nE 's/^socklab vm runs guests on (TCG|KVM).*/\1/p' | tr A-Z a-z)

check "1: socklab vm exits with rst-refused's status (0 or 1), got $rc" \
	'[ $rc = 0 ] || [ $rc = 1 ]'
check "1: the kernel package was fetched ($deb, release '$release')" '[ -n "$release" ]'
check "1: one JSON line on stdout, for rst-refused" \
	'[ "$(wc -l <"$out/a.out")" = 1 ] && [ "$(jq -r .id "$out/a.out")" = rst-refused ]'
check "1: it names the guest's kernel $release, not the host's $(uname -r)" \
	'[ "$(jq -r .kernel "$out/a.out")" = "$release" ] && [ "$release" != "$(uname -r)" ]'
check "1: it names the accelerator doctor gives ($accel)" \
	'[ -n "$accel" ] && [ "$(jq -r .guest.accel "$out/a.out")" = "$accel" ] &&
	 [ "$(jq -r .guest.vmm "$out/a.out")" = qemu ]'
run="$out/a/latest"
check "1: the run folder is on the host, latest pointing at it" \
	'[ -L "$run" ] && [ -f "$run/rst-refused/verdict.json" ]'
check "1: its verdict.json names the guest and its kernel" \
	'[ "$(jq -r .guest.accel "$run/rst-refused/verdict.json")" = "$accel" ] &&
	 [ "$(jq -r .kernel "$run/rst-refused/verdict.json")" = "$release" ]'
check "1: vm.json says kernel, accelerator and boot time" \
	'[ "$(jq -r .release "$run/vm.json")" = "$release" ] &&
	 [ "$(jq -r .accel "$run/vm.json")" = "$accel" ] &&
	 jq -e ".boot_s > 0" "$run/vm.json" >/dev/null'
check "1: the guest's console came back, with socklab's exit status" \
	'grep -q "^socklab-vm: exit $rc" "$run/vm-console.txt"'
check "1: stderr ends with the guest's line (kernel, accelerator, boot time)" \
	'tail -1 "$out/a.err" | grep -q "^socklab: vm: $release on $accel .*booted in"'
check "1: its QEMU ($qemu) is gone" '[ -n "$qemu" ] && ! kill -0 "$qemu" 2>/dev/null'
check "1: its temporary folder ($tmp) is gone" '[ -n "$tmp" ] && [ ! -e "$tmp" ]'
[ $fail = 0 ] || sed 's/^/  stderr: /' "$out/a.err" | tail -8

# 2. SIGTERM mid-run: once the guest's socklab has made its run folder.
start_vm b --kernel "$deb" -- run --results "$out/b" rst-refused
watch_vm 'ls -d "$out"/b/2* >/dev/null 2>&1'
if ls -d "$out"/b/2* >/dev/null 2>&1 && kill -0 $pid 2>/dev/null; then
	kill -TERM $pid
	wait $pid
	rc=$?
	check "2: SIGTERM mid-run: socklab vm exits 143, got $rc" '[ $rc = 143 ]'
	check "2: it says so" 'grep -q "interrupted by SIGTERM; QEMU killed" "$out/b.err"'
	check "2: its QEMU ($qemu) is gone" '[ -n "$qemu" ] && ! kill -0 "$qemu" 2>/dev/null'
	check "2: its temporary folder ($tmp) is gone" '[ -n "$tmp" ] && [ ! -e "$tmp" ]'
else
	kill -KILL $pid 2>/dev/null
	wait $pid 2>/dev/null
	check "2: the guest began its run (within 300 s)" false
fi

# 3. SIGKILL as soon as QEMU runs.
start_vm c --kernel "$deb" -- run --results "$out/c" rst-refused
if watch_vm '[ -n "$tmp" ]'; then
	kill -KILL $pid
	wait $pid 2>/dev/null
	for i in $(seq 1 50); do kill -0 "$qemu" 2>/dev/null || break; sleep 0.1; done
	check "3: SIGKILL: its QEMU ($qemu) died with it (within 5 s)" '! kill -0 "$qemu" 2>/dev/null'
	check "3: SIGKILL: its temporary folder ($tmp) is left, named by its PID" \
		'[ -d "$tmp" ] && [[ $tmp == /tmp/socklab-vm-$pid-* ]]'
	"$socklab" clean >"$out/clean.txt" 2>&1
	check "3: socklab clean removes it, and says so" \
		'[ ! -e "$tmp" ] && grep -qx "rm -r $tmp" "$out/clean.txt"'
else
	kill -KILL $pid 2>/dev/null
	check "3: QEMU started (within 300 s)" false
fi
exit $fail
