# common.bash: what the integration scripts share; sourced, never run
# (not *.sh, so that tests/CMakeLists.txt does not make a test of it).

fail=0
# check "what" 'shell condition': prints ok/FAILED and remembers a failure.
check() { if eval "$2"; then echo "ok: $1"; else echo "FAILED: $1"; fail=1; fi; }

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
