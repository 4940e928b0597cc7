#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the hand-made seed corpora of the fuzz targets to corpus/<target>/.

Each seed exercises one rule of dns_parse_query() or of the responders, so the fuzzer
starts next to every branch; fuzz_k8s_json's seeds are watch streams made from the
objects of tests/k8s/objects/ plus malformed-but-parsable variants. Run from anywhere;
the output is committed."""
import copy
import json
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


# fuzz_k8s_json: an option byte (see fuzz_k8s_json.c), then a newline-delimited body.
K8S_OBJECTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "k8s", "objects")
K8S_LIST_KINDS = {"Namespace": 0, "Service": 1, "EndpointSlice": 2, "Pod": 3}


def k8s_opt(cfg=0, chunk=0, res=0, unsynced=False):
    """cfg 0-3, chunk index 0-7 (0: whole body), res for kind-less objects, synced flag."""
    return bytes([cfg | chunk << 2 | res << 5 | (0x80 if unsynced else 0)])


def k8s_line(obj):
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode() + b"\n"


def k8s_event(etype, obj):
    return k8s_line({"type": etype, "object": obj})


def k8s_items():
    items = []
    for fname in ("basic.json", "conformance.json"):
        with open(os.path.join(K8S_OBJECTS, fname)) as f:
            items += json.load(f)["items"]
    return items


def k8s_meta(name, ns="ns1", **extra):
    meta = {"name": name, "namespace": ns, "resourceVersion": "7"}
    meta.update(extra)
    return meta


def k8s_svc(name, spec, ns="ns1", **meta):
    return {"kind": "Service", "metadata": k8s_meta(name, ns, **meta), "spec": spec}


def k8s_slice(name, svc, eps, ports=None, ns="ns1", atype="IPv4", **meta):
    labels = meta.pop("labels", {"kubernetes.io/service-name": svc})
    obj = {"kind": "EndpointSlice", "addressType": atype, "endpoints": eps,
           "metadata": k8s_meta(name, ns, labels=labels, **meta)}
    if ports is not None:
        obj["ports"] = ports
    return obj


def k8s_pod(name, ip, ns="ns1", phase="Running", **meta):
    return {"kind": "Pod", "metadata": k8s_meta(name, ns, **meta),
            "status": {"phase": phase, "podIP": ip}}


LONG63 = "l" * 63
LONG300 = "n" * 300
TRIGGER = "endpoints.kubernetes.io/last-change-trigger-time"

K8S_EDGE = {
    "no-metadata": {"kind": "Service", "spec": {"clusterIP": "10.0.0.1"}},
    "name-number": {"kind": "Pod", "metadata": {"name": 5, "namespace": "ns1"}},
    "name-empty": k8s_svc("", {"clusterIP": "10.0.0.1"}),
    "ns-missing": {"kind": "Service", "metadata": {"name": "a"}, "spec": {}},
    "ns-empty": k8s_svc("a", {"clusterIP": "10.0.0.1"}, ns=""),
    "metadata-array": {"kind": "Namespace", "metadata": ["name", "x"]},
    "spec-string": {"kind": "Service", "metadata": k8s_meta("s"), "spec": "ClusterIP"},
    "svc-ipv6": k8s_svc("v6", {"clusterIP": "2001:db8::10", "clusterIPs": ["2001:db8::10",
                                "198.18.0.10"], "ports": [{"name": "dns", "port": 53,
                                "protocol": "UDP"}]}),
    "svc-ips-wrong-types": k8s_svc("w", {"clusterIP": 7, "clusterIPs": [1, None, "x", {},
                                         "198.18.0.1"], "ports": "80"}),
    "svc-headless": k8s_svc("h", {"clusterIP": "None", "ports": [{"port": 80}]}),
    "svc-ports-huge": k8s_svc("p", {"clusterIP": "198.18.0.2", "ports": [
        {"name": "a", "port": 2 ** 63 - 1, "protocol": "TCP"},
        {"name": "b", "port": -(2 ** 63), "protocol": "udp"},
        {"name": "c", "port": 70000, "protocol": "SCTP"},
        {"name": "", "port": 1e300, "protocol": "QUIC"},
        {"name": 1, "port": "80", "protocol": 6}, 5, None]}),
    "svc-external": k8s_svc("e", {"type": "ExternalName",
                                  "externalName": "Target.Example.COM."}),
    "svc-external-in-zone": k8s_svc("e2", {"type": "ExternalName",
                                           "externalName": "h.ns1.svc.cluster.local"}),
    "svc-external-ip": k8s_svc("e3", {"type": "ExternalName", "externalName": "198.18.0.3"}),
    "svc-external-empty": k8s_svc("e4", {"type": "ExternalName", "externalName": ""}),
    "svc-external-missing": k8s_svc("e5", {"type": "ExternalName"}),
    "svc-external-long": k8s_svc("e6", {"type": "ExternalName",
                                        "externalName": ".".join([LONG63] * 5)}),
    "svc-long-name": k8s_svc(LONG300, {"clusterIP": "198.18.0.4"}, ns=LONG300),
    "svc-labels-odd": k8s_svc("lab", {"clusterIP": "198.18.0.5"},
                              labels={"": "", "app": "web", "team": 1, "skip": None}),
    "slice-full": k8s_slice("sl-1", "h", [
        {"addresses": ["198.18.1.1", "198.18.1.2"], "hostname": "host-a",
         "conditions": {"ready": True}, "targetRef": {"kind": "Pod", "name": "pod-a"}},
        {"addresses": ["198.18.1.3"], "conditions": {"ready": False}},
        {"addresses": ["198.18.1.4"], "conditions": {"ready": None},
         "targetRef": {"name": LONG63 + "x"}},
        {"addresses": ["bad", 4, "198.18.1.5"], "hostname": ""}],
        [{"name": "http", "port": 80, "protocol": "TCP"}], **{"annotations": {
            TRIGGER: "2024-05-01T10:00:00.123456789Z"}}),
    "slice-ipv6": k8s_slice("sl-6", "h", [{"addresses": ["2001:db8::1"],
                                           "hostname": "h6"}], atype="IPv6"),
    "slice-fqdn": k8s_slice("sl-f", "h", [{"addresses": ["example.org"]}], atype="FQDN"),
    "slice-no-label": k8s_slice("sl-n", "h", [], labels={}),
    "slice-label-empty": k8s_slice("sl-e", "", []),
    "slice-no-ports": k8s_slice("sl-np", "h", [{"addresses": ["198.18.1.9"]}], ports=[]),
    "slice-endpoints-wrong": k8s_slice("sl-w", "h", {"addresses": ["198.18.1.1"]},
                                       ports=[{}]),
    "slice-hostname-long": k8s_slice("sl-l", "h", [{"addresses": ["198.18.1.8"],
                                                    "hostname": LONG300}]),
    "time-far-future": k8s_slice("sl-t1", "h", [], annotations={TRIGGER: "9999-12-31T23:59:59Z"}),
    "time-offset": k8s_slice("sl-t2", "h", [], annotations={TRIGGER: "1970-01-01T00:00:00+14:00"}),
    "time-bad": k8s_slice("sl-t3", "h", [], annotations={TRIGGER: "2024-02-30T25:61:61.Zjunk"}),
    "time-many-digits": k8s_slice("sl-t4", "h", [], annotations={
        TRIGGER: "2262-04-11T23:47:16.854775807999999999999Z"}),
    "pod-v4": k8s_pod("p4", "198.18.2.1"),
    "pod-v6": k8s_pod("p6", "2001:db8::2"),
    "pod-deleting": k8s_pod("pd", "198.18.2.2", deletionTimestamp="2024-05-01T10:00:00Z"),
    "pod-failed": k8s_pod("pf", "198.18.2.3", phase="Failed"),
    "pod-no-ip": k8s_pod("pn", None),
    "pod-ip-junk": k8s_pod("pj", "198.18.2.300"),
    "ns-labels": {"kind": "Namespace", "metadata": {"name": "ns1", "labels": {"team": "a"}}},
    "ns-unicode": {"kind": "Namespace", "metadata": {"name": "n\u00e9\u0000s"}},
}


def k8s_seeds():
    items = k8s_items()
    seeds = {}
    # every real object as an ADDED event under each configuration
    for i, it in enumerate(items):
        kind = it["kind"].lower()
        seeds[f"event-{i:02d}-{kind}"] = k8s_opt(cfg=i % 4) + k8s_event("ADDED", it)
    # one List per kind, then the same relisted with one object gone
    for kind, res in K8S_LIST_KINDS.items():
        objs = [it for it in items if it["kind"] == kind]
        lst = {"kind": kind + "List", "metadata": {"resourceVersion": "9"}, "items": objs}
        again = dict(lst, items=objs[1:])
        for cfg in range(4):
            seeds[f"list-{kind.lower()}-cfg{cfg}"] = (k8s_opt(cfg=cfg, res=res) +
                                                     k8s_line(lst) + k8s_line(again))
    # a whole session (basic.json's objects): added, some modified and deleted, a bookmark,
    # an error event (the watch ends: the rest of that chunk is dropped)
    items = items[:17]
    body = b"".join(k8s_event("ADDED", it) for it in items)
    mod = copy.deepcopy(items[5])
    mod["metadata"]["resourceVersion"] = "999"
    body += k8s_event("MODIFIED", mod) + k8s_event("MODIFIED", items[6])
    body += k8s_event("DELETED", items[7]) + k8s_event("DELETED", items[0])
    body += k8s_event("BOOKMARK", {"kind": "Service", "metadata": {
        "resourceVersion": "1000", "annotations": {"k8s.io/initial-events-end": "true"}}})
    body += k8s_event("ERROR", {"kind": "Status", "code": 410, "message": "too old"})
    body += k8s_event("ADDED", items[0])
    for cfg, chunk in enumerate((0, 3, 6, 1)):
        seeds[f"session-cfg{cfg}-chunk{chunk}"] = k8s_opt(cfg=cfg, chunk=chunk) + body
    seeds["session-unsynced"] = k8s_opt(cfg=1, unsynced=True) + body
    # malformed-but-parsable objects, as events and bare
    for i, (name, obj) in enumerate(sorted(K8S_EDGE.items())):
        seeds[f"edge-{name}"] = k8s_opt(cfg=i % 4, res=i % 4) + k8s_event("ADDED", obj)
    seeds["edge-all-bare"] = k8s_opt(cfg=2) + b"".join(k8s_line(o) for _, o in sorted(K8S_EDGE.items()))
    seeds["edge-all-events-cfg1"] = k8s_opt(cfg=1, chunk=2) + b"".join(
        k8s_event("ADDED", o) for _, o in sorted(K8S_EDGE.items()))
    # the splitter
    ev = k8s_event("ADDED", K8S_EDGE["pod-v4"])
    seeds["stream-crlf-blank"] = (k8s_opt(cfg=1, chunk=1) + b"\r\n  \t \n" +
                                  ev.replace(b"\n", b" \r\n") + b"\n\n")
    seeds["stream-no-newline"] = k8s_opt(cfg=1) + ev.rstrip(b"\n")
    seeds["stream-nul"] = k8s_opt(cfg=1, chunk=7) + ev[:20] + b"\0" + ev[20:] + ev
    seeds["stream-junk"] = k8s_opt(chunk=4) + b"{\n[]\n\"x\"\n{\"type\":1}\n" + ev
    seeds["stream-type-no-object"] = k8s_opt() + k8s_line({"type": "ADDED", "object": 5})
    return seeds


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
    write("k8s_json", k8s_seeds())


if __name__ == "__main__":
    main()
