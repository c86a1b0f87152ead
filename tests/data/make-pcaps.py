#!/usr/bin/env python3
"""Regenerates the pcaps tests/test_packet.c checks sl_packet_format against.

Run as root from anywhere:  python3 tests/data/make-pcaps.py

handshake.pcap (Ethernet) and handshake-any.pcap (Linux "any" device,
LINUX_SLL2) are a real exchange between two namespaces of our own, recorded
by tcpdump itself, not by socklab: a data exchange closed with FINs, a close()
with unread data (RST-ACK), data sent into a half-closed peer (a bare RST),
and a connect() to a closed port (RST-ACK to a SYN).

options.pcap is built here byte by byte: SACK blocks, every option tcpdump
knows, malformed option lengths, odd flag sets, IP options, VLAN tags, padding
and frames that are not IPv4 TCP at all.  Real stacks rarely send these, and
the point is to see what tcpdump prints for them.

For each pcap P, P.tcpdump.txt is `tcpdump -nn -t -r P` (relative sequence
numbers) and P.tcpdump-S.txt the same with -S (absolute).
"""
import os
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NS_C = "socklab-test-rec-c"
NS_S = "socklab-test-rec-s"
C_ADDR = "198.18.200.2"
S_ADDR = "198.18.200.3"


def run(*argv, check=True):
    return subprocess.run(argv, check=check, capture_output=True, text=True)


def cleanup():
    for ns in (NS_C, NS_S):
        run("ip", "netns", "del", ns, check=False)


SERVER = r"""
import socket, select, sys
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", 5000)); ls.listen(8)
print("ready", flush=True)
# 1: read 100, answer 50, then close after the client's FIN.
s, _ = ls.accept()
got = b""
while len(got) < 100:
    got += s.recv(100 - len(got))
s.sendall(b"b" * 50)
assert s.recv(10) == b""
s.close()
# 2: close with 100 bytes unread: RST-ACK.
s, _ = ls.accept()
select.select([s], [], [])
s.close()
# 3: close first; the client's data then meets an orphan: bare RST.
s, _ = ls.accept()
s.close()
sys.stdin.readline()
"""

CLIENT = r"""
import socket, time, errno
a = ("%s", 5000)
c = socket.create_connection(a)
c.sendall(b"a" * 100)
got = b""
while len(got) < 50:
    got += c.recv(50 - len(got))
c.close()
time.sleep(0.2)
c = socket.create_connection(a)
c.sendall(b"a" * 100)
try:
    c.recv(10)
except ConnectionResetError:
    pass
c.close()
time.sleep(0.2)
c = socket.create_connection(a)
assert c.recv(10) == b""
time.sleep(0.1)
c.send(b"a" * 10)
time.sleep(0.2)
try:
    c.recv(10)
except ConnectionResetError:
    pass
c.close()
time.sleep(0.2)
try:
    socket.create_connection(("%s", 5001))
except ConnectionRefusedError:
    pass
time.sleep(0.2)
""" % (S_ADDR, S_ADDR)


procs = []


def start_tcpdump(ns, iface, path):
    # Immediate mode, or the last frames wait in a ring block that tcpdump
    # does not read when it is told to stop.
    p = subprocess.Popen(["ip", "netns", "exec", ns, "tcpdump", "-i", iface,
                          "-U", "--immediate-mode", "-s", "0", "-Z", "root",
                          "--time-stamp-precision=nano", "-w", path],
                         stderr=subprocess.PIPE, text=True)
    procs.append(p)
    # tcpdump says "listening on ..." once the capture is live.
    for line in p.stderr:
        if "listening" in line:
            return p
    raise RuntimeError("tcpdump on %s in %s did not start" % (iface, ns))


def record():
    cleanup()
    try:
        run("ip", "netns", "add", NS_C)
        run("ip", "netns", "add", NS_S)
        run("ip", "link", "add", "rec-c", "netns", NS_C, "type", "veth",
            "peer", "name", "rec-s", "netns", NS_S)
        for ns, dev, addr in ((NS_C, "rec-c", C_ADDR), (NS_S, "rec-s", S_ADDR)):
            run("ip", "-n", ns, "addr", "add", addr + "/24", "dev", dev)
            run("ip", "-n", ns, "link", "set", dev, "up")
            run("ip", "-n", ns, "link", "set", "lo", "up")
        # No IPv6: its neighbour discovery would only add noise.  The ARP
        # exchange stays in, a real frame that is not ours to decode.
        for ns in (NS_C, NS_S):
            run("ip", "netns", "exec", ns, "sysctl", "-qw",
                "net.ipv6.conf.all.disable_ipv6=1")
        eth = start_tcpdump(NS_C, "rec-c", os.path.join(HERE, "handshake.pcap"))
        anyd = start_tcpdump(NS_S, "any",
                             os.path.join(HERE, "handshake-any.pcap"))
        srv = subprocess.Popen(["ip", "netns", "exec", NS_S, "python3", "-c",
                                SERVER], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
        assert srv.stdout.readline().strip() == "ready"
        run("ip", "netns", "exec", NS_C, "python3", "-c", CLIENT)
        srv.stdin.write("\n")
        srv.stdin.close()
        srv.wait(10)
        time.sleep(0.5)
        for p in (eth, anyd):
            p.terminate()
            p.wait(10)
            p.stderr.close()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        cleanup()


# ---- synthetic frames -------------------------------------------------------

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(a):
    return bytes(int(x) for x in a.split("."))


F, S, R, P, A, U, E, W = 1, 2, 4, 8, 16, 32, 64, 128
CLI, SRV = ("198.18.1.2", 40000), ("198.19.1.2", 5000)
ISN_C, ISN_S = 1000000, 4294967000   # the server's wraps during the test


def tcp(src, dst, seq, ack, flags, opts=b"", payload=b"", win=502, urp=0,
        ipopts=b"", iplen=None, ipoff=0x4000, proto=6):
    assert len(opts) % 4 == 0 and len(ipopts) % 4 == 0
    th = struct.pack("!HHIIBBHHH", src[1], dst[1], seq & 0xFFFFFFFF,
                     ack & 0xFFFFFFFF, (5 + len(opts) // 4) << 4, flags,
                     win, 0, urp) + opts
    pseudo = ip4(src[0]) + ip4(dst[0]) + struct.pack("!BBH", 0, 6,
                                                     len(th) + len(payload))
    c = csum(pseudo + th + payload)
    th = th[:16] + struct.pack("!H", c) + th[18:]
    ihl = 5 + len(ipopts) // 4
    total = iplen if iplen is not None else ihl * 4 + len(th) + len(payload)
    ih = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, total, 1, ipoff, 64,
                     proto, 0, ip4(src[0]), ip4(dst[0])) + ipopts
    ih = ih[:10] + struct.pack("!H", csum(ih)) + ih[12:]
    return ih + th + payload


def eth(l3, ethertype=0x0800, vlan=None):
    h = bytes.fromhex("020000000002020000000001")
    if vlan is not None:
        h += struct.pack("!HH", 0x8100, vlan)
    return h + struct.pack("!H", ethertype) + l3


def ts(val, ecr):
    return struct.pack("!BBII", 8, 10, val, ecr)


NOP, EOL = b"\x01", b"\x00"


def sack(*blocks):
    return bytes([5, 2 + 8 * len(blocks)]) + b"".join(
        struct.pack("!II", s & 0xFFFFFFFF, e & 0xFFFFFFFF) for s, e in blocks)


def synthetic():
    fr = []
    c1, s1 = ISN_C + 1, ISN_S + 1
    syn_opts = (struct.pack("!BBH", 2, 4, 1460) + b"\x04\x02" + ts(100, 0) +
                NOP + b"\x03\x03\x07")
    fr.append(eth(tcp(CLI, SRV, ISN_C, 0, S, syn_opts, win=64240)))
    fr.append(eth(tcp(SRV, CLI, ISN_S, c1, S | A,
                      struct.pack("!BBH", 2, 4, 1460) + b"\x04\x02" +
                      ts(200, 100) + NOP + b"\x03\x03\x07", win=65160)))
    fr.append(eth(tcp(CLI, SRV, c1, s1, A, NOP + NOP + ts(101, 200))))
    fr.append(eth(tcp(CLI, SRV, c1, s1, P | A, NOP + NOP + ts(102, 200),
                      b"x" * 100)))
    # Server: one SACK block, then three beside a timestamp, then four.
    fr.append(eth(tcp(SRV, CLI, s1, c1 + 100, A, NOP + NOP + ts(201, 102) +
                      NOP + NOP + sack((c1 + 200, c1 + 300)))))
    fr.append(eth(tcp(SRV, CLI, s1, c1 + 100, A, NOP + NOP + ts(202, 102) +
                      NOP + NOP + sack((c1 + 500, c1 + 600),
                                       (c1 + 300, c1 + 400),
                                       (c1 + 200, c1 + 250)))))
    fr.append(eth(tcp(SRV, CLI, s1, c1 + 100, A, NOP + NOP +
                      sack((c1 + 700, c1 + 800), (c1 + 500, c1 + 600),
                           (c1 + 300, c1 + 400), (c1 + 200, c1 + 250)))))
    # Server data across its sequence wrap, and the client's ACK of it.
    fr.append(eth(tcp(SRV, CLI, s1, c1 + 100, P | A, NOP + NOP + ts(203, 102),
                      b"y" * 1000)))
    fr.append(eth(tcp(CLI, SRV, c1 + 100, s1 + 1000, A,
                      NOP + NOP + ts(103, 203))))
    # Urgent data: URG+PSH+ACK prints as "P.U" and shows the pointer.
    fr.append(eth(tcp(CLI, SRV, c1 + 100, s1 + 1000, U | P | A,
                      NOP + NOP + ts(104, 203), b"u" * 10, urp=10)))
    # Options with wrong length bytes, unknown kinds, EOL and padding.
    body = [
        bytes([99, 4, 0xAB, 0xCD]),                   # unknown-99 0xabcd
        struct.pack("!BBH", 2, 3, 1460) + NOP * 4,   # mss [len 3]
        bytes([3, 4, 7, 1]),                          # wscale [len 4]
        struct.pack("!BBH", 2, 4, 1460) + EOL + b"\0\0\0",   # eol ends it
        bytes([3, 0, 0, 0]),                          # len 0: bad opt
        NOP + bytes([8, 30]) + NOP,                   # len past the end
        bytes([5, 7]) + b"\0" * 5 + NOP,              # invalid sack
        bytes([5, 2]) + NOP + NOP,                    # sack with no blocks
        NOP * 40,                                     # all padding
        bytes([34, 2]) + NOP + NOP,                   # tfo cookie request
        bytes([34, 10]) + bytes(range(8)) + NOP + NOP,      # tfo cookie
        bytes([34, 5, 1, 2, 3]) + NOP * 3,            # tfo invalid cookie
        bytes([254, 4, 0xF9, 0x89]),                  # exp-tfo cookiereq
        bytes([254, 8, 0x12, 0x34, 1, 2, 3, 4]),      # exp-1234
        bytes([254, 3, 0xF9]) + NOP,                  # exp too short: bad
        bytes([19, 18]) + bytes(range(16)) + NOP + NOP,     # md5
        bytes([28, 4, 0x01, 0x2D]),                   # uto, minutes
        bytes([28, 4, 0x01, 0x2C]),                   # uto, seconds
        bytes([20, 4, 0x81, 7]),                      # scps
        bytes([29, 4, 1, 2]),                         # tcp-ao, no mac
        bytes([29, 8, 1, 2, 0xDE, 0xAD, 0xBE, 0xEF]),  # tcp-ao with mac
        bytes([29, 3, 1]) + NOP,                      # tcp-ao invalid
        bytes([6, 6, 0, 0, 1, 0]) + NOP + NOP,        # echo
        bytes([7, 6, 0, 0, 1, 1]) + NOP + NOP,        # echoreply
        bytes([11, 6, 0, 0, 0, 9]) + NOP + NOP,       # cc
        bytes([12, 6, 0, 0, 0, 9]) + NOP + NOP,       # ccnew
        bytes([13, 6, 0, 0, 0, 9]) + NOP + NOP,       # ccecho: no name
        bytes([8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 3, 3]),  # TS and wscale [len]
    ]
    for o in body:
        fr.append(eth(tcp(CLI, SRV, c1 + 110, s1 + 1000, A, o)))
    # A kind with no room for its length byte: tcpdump takes the first
    # payload byte for it.
    fr.append(eth(tcp(CLI, SRV, c1 + 110, s1 + 1000, P | A,
                      NOP + NOP + NOP + bytes([2]), b"\x05")))
    # Flags: none, FIN+PSH+ACK with data, ECN SYN, SYN+FIN, CWR+ACK.
    c2 = ("198.18.1.2", 40001)
    fr.append(eth(tcp(CLI, SRV, c1 + 110, s1 + 1000, 0)))
    fr.append(eth(tcp(CLI, SRV, c1 + 110, s1 + 1000, F | P | A,
                      NOP + NOP + ts(105, 203), b"z" * 20)))
    fr.append(eth(tcp(c2, SRV, 7, 0, S | E | W, syn_opts)))
    fr.append(eth(tcp(("198.18.1.2", 40002), SRV, 9, 0, S | F)))
    fr.append(eth(tcp(SRV, CLI, s1 + 1000, c1 + 131, F | A | W)))
    # A bare ACK padded to Ethernet's minimum: length from IP, not frame.
    fr.append(eth(tcp(CLI, SRV, c1 + 131, s1 + 1001, A)) + b"\0" * 6)
    # IP options (ihl 6) before the TCP header.
    fr.append(eth(tcp(CLI, SRV, c1 + 131, s1 + 1001, A,
                      ipopts=NOP + NOP + NOP + EOL)))
    # An 802.1Q-tagged segment.
    fr.append(eth(tcp(CLI, SRV, c1 + 131, s1 + 1001, A), vlan=5))
    # Resets: a bare RST (no ACK) and an RST-ACK.
    fr.append(eth(tcp(SRV, CLI, s1 + 1001, 0, R, win=0)))
    fr.append(eth(tcp(SRV, CLI, s1 + 1001, c1 + 131, R | A, win=0)))
    # Not ours: ARP, UDP, IPv6 TCP, a later fragment.
    fr.append(eth(bytes.fromhex("0001080006040001020000000001c6120102"
                                "000000000000c6130102"), ethertype=0x0806))
    udp = tcp(CLI, SRV, 0, 0, 0, proto=17)[:20] + struct.pack(
        "!HHHH", 40000, 5000, 8, 0)
    udp = udp[:2] + struct.pack("!H", 28) + udp[4:]
    fr.append(eth(udp))
    ip6 = (struct.pack("!IHBB", 0x60000000, 20, 6, 64) + b"\xfd" + b"\0" * 14 +
           b"\x01" + b"\xfd" + b"\0" * 14 + b"\x02" +
           tcp(CLI, SRV, 1, 0, S)[20:])
    fr.append(eth(ip6, ethertype=0x86DD))
    fr.append(eth(tcp(CLI, SRV, c1, s1, A, payload=b"f" * 8, ipoff=0x0001)))

    path = os.path.join(HERE, "options.pcap")
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1))
        for i, b in enumerate(fr):
            f.write(struct.pack("<IIII", 1700000000, i * 1000, len(b),
                                len(b)))
            f.write(b)


def texts():
    for name in ("handshake.pcap", "handshake-any.pcap", "options.pcap"):
        path = os.path.join(HERE, name)
        if not os.path.exists(path):
            continue
        base = path[:-len(".pcap")]
        for suffix, extra in ((".tcpdump.txt", []), (".tcpdump-S.txt", ["-S"])):
            out = run("tcpdump", "-nn", "-t", *extra, "-r", path).stdout
            with open(base + suffix, "w") as f:
                f.write(out)


if __name__ == "__main__":
    if "--synthetic-only" not in sys.argv:
        if os.geteuid() != 0:
            sys.exit("make-pcaps.py: needs root for namespaces "
                     "(or --synthetic-only)")
        record()
    synthetic()
    texts()
