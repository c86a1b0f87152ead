#!/usr/bin/env bash
# socklab run --explain: the commands that build each variant's network and
# its faults from the start, printed by the code a run executes them with
# (the topology's lines are a real run's commands.sh, slot aside), then
# tcpdump and ss to watch; nothing is made: no namespace, no slot.
# usage: explain.sh <socklab binary> <build dir>
set -u
bin=$(realpath "$1")
build=$(realpath "$2")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
. "$(dirname "$0")/common.bash"

[ "$(id -u)" = 0 ] || { echo "needs root (a real run to compare with)"; exit 77; }
private_netns "$0" "$@"
cd "$tmp" || exit 1
export SOCKLAB_EXPERIMENTS_DIR=$build/experiments
has() { grep -qxF -- "$2" "$1" || fail "$1 lacks: $2"; }

# /run/netns is this test's own (private_netns): any namespace made shows.
state() { ls -A /run/netns; }
state > before
"$bin" run --explain rst-refused simultaneous-close syn-queue-flood > x.out 2> x.err ||
	fail "--explain exited $?: $(cat x.err)"
[ -s x.err ] && fail "stderr: $(cat x.err)"
state > after
diff before after || fail "--explain made something"
[ -e results ] && fail "--explain made a results folder"

# The network, every variant of each.
[ "$(grep -c '^# ---- variant ' x.out)" = 6 ] || fail "variants: $(grep '^# ----' x.out)"
has x.out "ip netns add socklab-0-router"
has x.out "nsenter --net=/run/netns/socklab-0-router ip netns add socklab-0-client"
has x.out "ip netns exec socklab-0-router sysctl -w net.ipv4.ip_forward=1"
has x.out "ip -n socklab-0-client link add eth0 index 2 address 02:00:c6:12:00:02 type veth peer name eth0 index 3 address 02:00:c6:12:00:01 netns socklab-0-router"
has x.out "ip -n socklab-0-router neigh replace 198.19.0.2 lladdr 02:00:c6:13:00:02 dev eth1 nud permanent"
has x.out "ip -n socklab-0-server neigh replace 198.19.0.1 lladdr 02:00:c6:13:00:01 dev eth0 nud permanent"
has x.out "ip netns exec socklab-0-client ethtool -K eth0 tso off gso off gro off tx off"
has x.out "ip -n socklab-0-server addr add 198.19.0.2/24 dev eth0"
has x.out "ip -n socklab-0-client route add default via 198.18.0.1"
# The faults and sysctls of SETUP: netem for a delay, the emulator's rule
# for a one-shot drop, which netem cannot count.
has x.out "ip netns exec socklab-0-router tc qdisc replace dev eth1 root netem delay 50ms"
has x.out "ip netns exec socklab-0-router tc qdisc replace dev eth0 root netem delay 50ms"
has x.out "ip netns exec socklab-0-server sysctl -w net.ipv4.tcp_max_syn_backlog=16"
has x.out "ip netns exec socklab-0-router iptables -w -t mangle -A FORWARD -i eth0 -j NFQUEUE --queue-num 0"
grep -q "^# fault 0: drop from client, the next 15 segments with \[R\]" x.out ||
	fail "no drop explained"
# Watching, and the way back.
has x.out "ip netns exec socklab-0-router tcpdump -nn -i eth1 -w router-eth1.pcap tcp &"
has x.out "ip netns exec socklab-0-server ss -tanoi"
has x.out "ip netns del socklab-0-client"
echo "ok: the commands of three experiments, nothing made"

# The same lines as a run executes: its commands.sh, slot S as 0.
"$bin" run --results res --variant nothing_on_port rst-refused > /dev/null 2>&1 ||
	fail "the run to compare with did not pass"
cmds=$(echo res/latest/rst-refused/nothing_on_port/commands.sh)
s=$(grep -o 'socklab-[0-9]*-router' "$cmds" | head -1 | cut -d- -f2)
# The Ethernet addresses carry the slot too, in hex (topology.h).
x=$(printf %02x "$s")
grep -v '^#' "$cmds" | sed "s/socklab-$s-/socklab-0-/g; s/198\.\(1[89]\)\.$s\./198.\1.0./g; s/02:00:c6:\(1[23]\):$x:/02:00:c6:\1:00:/g" > run.cmds
"$bin" run --explain --variant nothing_on_port rst-refused |
	sed -n '/^# the network/,/^# faults the roles/p' | grep -v '^#' > explain.cmds
[ "$(wc -l < run.cmds)" -gt 15 ] || fail "a short commands.sh: $(cat run.cmds)"
diff run.cmds explain.cmds || fail "--explain differs from what a run did"
echo "ok: the network's lines are the run's commands.sh ($(wc -l < run.cmds) lines)"

# The faults a variant's roles apply at their marks, from its recording
# (experiments/<id>/guide/<variant>.tl.gz), and the same lines as a run
# executes for them.
"$bin" run --explain --variant data_after_reboot rst-peer-rebooted > r.out 2> r.err ||
	fail "--explain rst-peer-rebooted exited $?: $(cat r.err)"
grep -q '^# at mark "crash server" (the client role): by=client kind=crash host=server$' r.out ||
	fail "no crash at its mark: $(grep '^# at mark' r.out)"
grep -q '^# at mark "reboot server"' r.out || fail "no reboot at its mark"
"$bin" run --results res --variant data_after_reboot rst-peer-rebooted > /dev/null 2>&1 ||
	fail "the rst-peer-rebooted run to compare with did not pass"
cmds=$(echo res/latest/rst-peer-rebooted/data_after_reboot/commands.sh)
s=$(grep -o 'socklab-[0-9]*-router' "$cmds" | head -1 | cut -d- -f2)
grep ' nft ' "$cmds" | sed "s/socklab-$s-/socklab-0-/g; s/198\.\(1[89]\)\.$s\./198.\1.0./g" > run.nft
grep ' nft ' r.out > explain.nft
[ "$(wc -l < run.nft)" -ge 3 ] || fail "the run crashed nothing: $(cat run.nft)"
diff run.nft explain.nft || fail "--explain's crash and reboot differ from the run's"
echo "ok: the roles' faults at their marks are the run's ($(wc -l < run.nft) nft lines)"

"$bin" run --explain --keep rst-refused 2> err; [ $? = 64 ] || fail "--explain --keep: not 64"
"$bin" run --explain --variant nope rst-refused 2> err; [ $? = 64 ] || fail "unknown variant: not 64"
"$bin" run --explain no-such 2> err; [ $? = 64 ] || fail "unknown id: not 64"
echo "ok: bad input"
exit 0
