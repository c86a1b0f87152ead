# common.bash: what the integration scripts share; sourced, never run
# (not *.sh, so that tests/CMakeLists.txt does not make a test of it).

fail=0
# check "what" 'shell condition': prints ok/FAILED and remembers a failure;
# returns the condition's truth, for `check ... || what to do then`.
check() {
	if eval "$2"; then echo "ok: $1"; return 0; fi
	echo "FAILED: $1"
	fail=1
	return 1
}

# The namespaces a run made, from the commands.sh of each of its variants
# (results/<run>/<id>/<variant>/commands.sh; `latest` repeats them, hence
# sort -u).
run_netns() {
	# "ip netns add NS", or "nsenter --net=ROUTER ip netns add NS" for
	# the hosts made from inside the router (their own TCP hash table).
	cat "$1"/*/*/*/commands.sh 2>/dev/null |
		awk '$1 == "ip" && $2 == "netns" && $3 == "add" { print $4 }
		     $1 == "nsenter" && $3 == "ip" && $4 == "netns" &&
		     $5 == "add" { print $6 }' |
		sort -u
}

# True when the run under $1 made namespaces and none of them is left.
none_left() {
	local ns left=0
	for ns in $(run_netns "$1"); do
		[ -e "/run/netns/$ns" ] && { echo "  left behind: $ns"; left=1; }
	done
	[ -n "$(run_netns "$1")" ] && [ $left = 0 ]
}

# Runs the calling script again in a mount namespace of its own with an
# empty private /run/netns, which only it sees: other socklab runs on the
# machine remove the leftovers of dead runs when they start, and must not
# see (or take) the namespaces the test plays with.
# usage: private_netns "$0" "$@"   (before anything else is done)
private_netns() {
	if [ -z "${SOCKLAB_PRIVATE_NETNS:-}" ] && command -v unshare >/dev/null; then
		export SOCKLAB_PRIVATE_NETNS=1
		exec unshare --mount --propagation private bash "$@"
	fi
	if [ -n "${SOCKLAB_PRIVATE_NETNS:-}" ]; then
		mkdir -p /run/netns
		mount -t tmpfs -o size=1m socklab-private /run/netns ||
			{ echo "cannot mount a private /run/netns"; exit 1; }
	fi
}

# Starts `socklab run --results DIR ARGS...` in the background ($socklab:
# the binary under test) and polls, for as long as the run lasts, until
# `HELD ROUTER` is true of the run's router namespace (its fault in force),
# then sends the run SIGTERM and waits for it: the teardown is then tested
# with the fault mid-flight, not after it.  Returns 0 with socklab's exit
# status in $rc; 1 when the run ended without the fault ever seen in force.
# The run's own life is the deadline: a busy machine makes it slower to
# start and the fault no shorter, so no count of tries stands in for it.
# usage: sigterm_when_held HELD DIR ARGS...
sigterm_when_held() {
	local held=$1 dir=$2 pid router
	shift 2
	"$socklab" run --results "$dir" "$@" >/dev/null 2>&1 &
	pid=$!
	while kill -0 $pid 2>/dev/null; do
		router=$(run_netns "$dir" | grep router)
		if [ -n "$router" ] && "$held" "$router"; then
			kill -TERM $pid
			wait $pid
			rc=$?
			return 0
		fi
		sleep 0.01
	done
	wait $pid 2>/dev/null
	return 1
}
