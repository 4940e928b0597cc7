#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the hand-made seed corpus of fuzz_dns_query to corpus/dns_query/.

Each seed exercises one rule of dns_parse_query() or of the responders, so the fuzzer
starts next to every branch. Run from anywhere; the output is committed."""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "dns_query")

QR, AA, TC, RD, CD = 0x8000, 0x0400, 0x0200, 0x0100, 0x0010


def name(text):
    """Wire name from dotted text, case kept; '' or '.' is the root."""
    out = b""
    for label in text.strip(".").split("."):
        if label:
            raw = label.encode()
            out += bytes([len(raw)]) + raw
    return out + b"\0"


def header(qid=0x1234, flags=RD, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!6H", qid, flags, qd, an, ns, ar)


def question(qname, qtype=1, qclass=1):
    return name(qname) + struct.pack("!HH", qtype, qclass)


def opt(size=1232, version=0, do=False, rdata=b"", ext_rcode=0):
    ttl = (ext_rcode << 24) | (version << 16) | (0x8000 if do else 0)
    return b"\0" + struct.pack("!HHIH", 41, size, ttl, len(rdata)) + rdata


def rr(owner_wire, rtype, rdata, ttl=60, rclass=1):
    return owner_wire + struct.pack("!HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def query(qname, qtype=1, flags=RD, edns=None, qclass=1):
    ar = 1 if edns is not None else 0
    msg = header(flags=flags, ar=ar) + question(qname, qtype, qclass)
    if edns is not None:
        msg += edns
    return msg


LONG = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])  # 255 wire bytes
KEYMAX = "k" * 62 + "." + "m" * 59                           # 124 wire bytes
KEYMAX1 = "k" * 62 + "." + "m" * 60                          # 125 wire bytes
COOKIE = struct.pack("!HH", 10, 8) + b"\x01\x02\x03\x04\x05\x06\x07\x08"

SEEDS = {
    "a-plain": query("www.example.com"),
    "aaaa-mixed-case": query("KuBe-DNS.kube-system.SVC.cluster.local", 28),
    "srv-edns-do": query("_dns._udp.kube-dns.kube-system.svc.cluster.local", 33,
                         edns=opt(4096, do=True)),
    "ptr-edns-small": query("10.0.96.10.in-addr.arpa", 12, edns=opt(100)),
    "root-ns": query(".", 2),
    "edns-cookie": header(ar=1) + question("example.org") + opt(rdata=COOKIE),
    "edns-badvers": query("example.org", edns=opt(version=1, do=True)),
    "edns-two-opt": header(ar=2) + question("example.org") + opt() + opt(),
    "edns-opt-owner": header(ar=1) + question("example.org") + name("x") + opt()[1:],
    "edns-bad-option": header(ar=1) + question("example.org") + opt(rdata=b"\0\x0a\0\x08\1"),
    "class-ch": query("version.bind", 16, qclass=3),
    "opcode-notify": query("example.org", 6, flags=(4 << 11) | AA),
    "opcode-update-qd0": header(flags=5 << 11, qd=0),
    "qr-set": query("example.org", flags=QR | RD),
    "qd0": header(qd=0, ar=1) + opt(),
    "qd2": header(qd=2) + question("a.example") + question("b.example"),
    "question-pointer": header() + b"\x01a\xc0\x0c" + struct.pack("!HH", 1, 1),
    "question-label-0x40": header() + b"\x41a\0" + struct.pack("!HH", 1, 1),
    "question-truncated": header() + name("example.org") + b"\0",
    "name-255": query(LONG, 16),
    "name-key-max": query(KEYMAX),
    "name-key-max-plus-1": query(KEYMAX1, 28, edns=opt()),
    "trailing-byte": query("example.org") + b"\0",
    "short-11": header()[:11],
    "answer-compressed": header(an=1, ns=1, ar=2) + question("a.example")
    + rr(b"\xc0\x0c", 1, b"\x0a\x60\x00\x0a")
    + rr(b"\x01x\xc0\x0e", 2, b"\xc0\x0c")
    + rr(name("glue.example"), 1, b"\x7f\0\0\1") + opt(2048),
    "additional-loop": header(ar=1) + question("a") + rr(b"\xc0\x13", 1, b""),
    "additional-label-loop": header(ar=1) + question("a") + rr(b"\x01z\xc0\x13", 1, b""),
    "opt-in-answer": header(an=1) + question("a") + opt(),
    "rdlen-overrun": header(ar=1) + question("a") + name("b") + struct.pack("!HHIH", 1, 1, 0, 9),
}


# fuzz_dns_name: text names (owner|target for the builder part), and wire names.
NAME_SEEDS = {
    "plain": b"www.example.com",
    "trailing-dot": b"Kube-DNS.kube-system.svc.cluster.local.",
    "root": b".",
    "empty-label": b"a..b",
    "leading-dot": b".a",
    "escapes": b"a\\.b\\065\\000\\255.c",
    "bad-escape": b"a\\25x",
    "label-64": b"x" * 64 + b".y",
    "name-256": b".".join([b"a" * 63, b"b" * 63, b"c" * 63, b"d" * 62]),
    "builder-pair": b"svc.ns.svc.cluster.local|pod-1.svc.ns.svc.cluster.local",
    "type-mnemonic": b"aaaa",
    "type-generic": b"TYPE65",
    "wire-compressed": b"\x03www\xc0\x00",
    "wire-loop": b"\xc0\x00",
    "wire-plain": b"\x03www\x07example\x03com\x00",
}


def write(subdir, seeds):
    out = os.path.join(os.path.dirname(OUT), subdir)
    os.makedirs(out, exist_ok=True)
    for fname, data in sorted(seeds.items()):
        with open(os.path.join(out, fname), "wb") as f:
            f.write(data)
    print(f"wrote {len(seeds)} seeds to {out}")


def main():
    write("dns_query", SEEDS)
    write("dns_name", NAME_SEEDS)


if __name__ == "__main__":
    main()
