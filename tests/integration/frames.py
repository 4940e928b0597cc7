#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Send one hand-made (usually malformed) DNS-over-UDP/IPv4 frame to the fast path and report
the reply, for tests/integration/08_malformed.sh. Runs inside the client namespace.

    frames.py --dst-mac MAC [--iface dpdns-veth1] [--name www.it.test] [--wait 1.5] CASE

The frame goes out through a raw AF_PACKET socket on the veth (the kernel's own stack never
sees it); the reply, if any, comes back to an ordinary UDP socket bound to the source port,
so the kernel delivers it to us. Prints one line of key=value pairs:
    reply=no
    reply=yes id_ok=1 qr=1 opcode=0 rcode=FORMERR tc=0 qd=0 an=0 ns=0 ar=1 opt=1 edns_version=0

CASE: valid runt ip_len ip_csum udp_csum frag qd0 qd2 comp_loop qr1 opcode2 edns1
"""
import argparse
import random
import select
import socket
import struct
import sys

CLIENT = "198.18.0.1"
SERVER = "198.18.0.53"
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP",
          5: "REFUSED", 16: "BADVERS"}


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def qname(name):
    out = b""
    for label in name.strip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def dns_query(qid, name, flags=0x0100, questions=1, extra_ar=b"", arcount=0):
    hdr = struct.pack("!HHHHHH", qid, flags, questions, 0, 0, arcount)
    q = (qname(name) + struct.pack("!HH", 1, 1)) * questions
    return hdr + q + extra_ar


def opt_rr(version=0, size=1232):
    # root name, type OPT, class = UDP size, TTL = ext-rcode | version | flags, rdlen 0
    return b"\0" + struct.pack("!HHIH", 41, size, version << 16, 0)


def ipv4(payload, ident, frag=0, tot_len=None, bad_csum=False, proto=17):
    tl = tot_len if tot_len is not None else 20 + len(payload)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, tl, ident, frag, 64, proto, 0,
                      socket.inet_aton(CLIENT), socket.inet_aton(SERVER))
    c = csum(hdr)
    if bad_csum:
        c ^= 0x5A5A
    return hdr[:10] + struct.pack("!H", c) + hdr[12:] + payload


def udp(payload, sport, bad_csum=False):
    length = 8 + len(payload)
    pseudo = struct.pack("!4s4sBBH", socket.inet_aton(CLIENT), socket.inet_aton(SERVER), 0, 17, length)
    hdr = struct.pack("!HHHH", sport, 53, length, 0)
    c = csum(pseudo + hdr + payload) or 0xFFFF
    if bad_csum:
        c = (c + 0x1111) & 0xFFFF or 1
    return hdr[:6] + struct.pack("!H", c) + payload


def frames_for(case, sport, qid, name):
    """List of IPv4 packets (without Ethernet) for CASE."""
    ident = random.randint(1, 0xFFFF)
    q = dns_query(qid, name)
    if case == "valid":
        return [ipv4(udp(q, sport), ident)]
    if case == "runt":
        return [ipv4(udp(q, sport), ident)[:8]]
    if case == "ip_len":
        pkt = udp(q, sport)
        return [ipv4(pkt, ident, tot_len=20 + len(pkt) + 40)]
    if case == "ip_csum":
        return [ipv4(udp(q, sport), ident, bad_csum=True)]
    if case == "udp_csum":
        return [ipv4(udp(q, sport, bad_csum=True), ident)]
    if case == "frag":
        whole = udp(q, sport)
        first, rest = whole[:16], whole[16:]          # 16: a multiple of 8 bytes
        return [ipv4(first, ident, frag=0x2000), ipv4(rest, ident, frag=16 // 8)]
    if case == "qd0":
        return [ipv4(udp(dns_query(qid, name, questions=0), sport), ident)]
    if case == "qd2":
        return [ipv4(udp(dns_query(qid, name, questions=2), sport), ident)]
    if case == "comp_loop":
        base = dns_query(qid, name, arcount=1)
        off = len(base)                               # the record's owner points at itself
        rr = struct.pack("!H", 0xC000 | off) + struct.pack("!HHIH", 1, 1, 60, 4) + b"\x01\x02\x03\x04"
        return [ipv4(udp(base + rr, sport), ident)]
    if case == "qr1":
        return [ipv4(udp(dns_query(qid, name, flags=0x8100), sport), ident)]
    if case == "opcode2":
        return [ipv4(udp(dns_query(qid, name, flags=(2 << 11) | 0x0100), sport), ident)]
    if case == "edns1":
        return [ipv4(udp(dns_query(qid, name, arcount=1, extra_ar=opt_rr(version=1)), sport), ident)]
    raise SystemExit("unknown case " + case)


def skip_name(msg, off):
    for _ in range(128):
        n = msg[off]
        if n & 0xC0 == 0xC0:
            return off + 2
        off += 1 + n
        if n == 0:
            return off
    raise ValueError("name too long")


def describe(msg, qid):
    if len(msg) < 12:
        return "reply=yes short=%d" % len(msg)
    rid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", msg[:12])
    rcode = flags & 0xF
    opt, version = 0, "-"
    try:
        off = 12
        for _ in range(qd):
            off = skip_name(msg, off) + 4
        for _ in range(an + ns):
            off = skip_name(msg, off)
            off += 10 + struct.unpack("!H", msg[off + 8:off + 10])[0]
        for _ in range(ar):
            start = off
            off = skip_name(msg, off)
            rtype, _cls, ttl, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
            if rtype == 41 and msg[start] == 0:
                opt, version = 1, (ttl >> 16) & 0xFF
                rcode |= (ttl >> 24) << 4
            off += 10 + rdlen
    except (IndexError, ValueError, struct.error):
        pass
    return ("reply=yes id_ok=%d qr=%d opcode=%d rcode=%s tc=%d qd=%d an=%d ns=%d ar=%d opt=%d edns_version=%s"
            % (rid == qid, flags >> 15, (flags >> 11) & 0xF, RCODES.get(rcode, str(rcode)),
               (flags >> 9) & 1, qd, an, ns, ar, opt, version))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dst-mac", required=True)
    ap.add_argument("--iface", default="dpdns-veth1")
    ap.add_argument("--name", default="www.it.test")
    ap.add_argument("--wait", type=float, default=1.5)
    ap.add_argument("case")
    a = ap.parse_args()

    with open("/sys/class/net/%s/address" % a.iface) as f:
        src_mac = bytes.fromhex(f.read().strip().replace(":", ""))
    dst_mac = bytes.fromhex(a.dst_mac.replace(":", ""))

    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind((CLIENT, 0))
    sport = rx.getsockname()[1]
    qid = random.randint(1, 0xFFFF)

    tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    tx.bind((a.iface, 0))
    for pkt in frames_for(a.case, sport, qid, a.name):
        tx.send(dst_mac + src_mac + b"\x08\x00" + pkt)

    r, _, _ = select.select([rx], [], [], a.wait)
    if not r:
        print("reply=no")
        return 0
    msg = rx.recv(65535)
    print(describe(msg, qid))
    return 0


if __name__ == "__main__":
    sys.exit(main())
