#!/usr/bin/env python3
"""Tests of tests/k8s/fake-apiserver (stdlib unittest; every wait is bounded).

Each test starts its own server as a subprocess on 127.0.0.1 port 0 and learns
the port from --ready-file; tearDown stops it by PID.
"""

import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.realpath(__file__))
SERVER = os.path.join(HERE, "fake-apiserver")
BASIC = os.path.join(HERE, "objects", "basic.json")
DEMO = os.path.join(HERE, "..", "..", "examples", "k8s", "demo-cluster.json")
TOKEN = "h6-test-token"
SVC = "/api/v1/services"
DEFAULT = object()


class Watch:
    """A watch stream over a raw socket, with our own chunked decoding.

    http.client hides an abrupt close (no terminating chunk) as a clean EOF, but
    the difference matters here: timeoutSeconds ends a stream cleanly, the
    drop-watches fault must not.
    """

    def __init__(self, sock, f):
        self.sock, self.f, self.buf = sock, f, b""

    def _chunk(self):
        size_line = self.f.readline()
        if not size_line.endswith(b"\r\n"):
            raise ConnectionError("stream cut between chunks")
        size = int(size_line.split(b";")[0], 16)
        data = self.f.read(size + 2)
        if len(data) != size + 2:
            raise ConnectionError("stream cut inside a chunk")
        return data[:-2]

    def next(self, timeout=2.0):
        """Next event, or None at a clean end of stream (terminating chunk)."""
        self.sock.settimeout(timeout)
        while b"\n" not in self.buf:
            chunk = self._chunk()
            if not chunk:
                return None
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return json.loads(line)

    def take(self, n, timeout=2.0):
        return [self.next(timeout) for _ in range(n)]

    def close(self):
        self.f.close()
        self.sock.close()


def read_head(f):
    """Status code and lower-cased headers of an HTTP/1.1 response."""
    status = int(f.readline().split()[1])
    headers = {}
    for line in iter(f.readline, b"\r\n"):
        if not line:
            raise ConnectionError("connection closed in the response head")
        k, _, v = line.decode().partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers


class FakeApiTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="h6-fakeapi-")
        self.proc, self.streams, self.ssl_ctx = None, [], None

    def tearDown(self):
        for w in self.streams:
            w.close()
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            self.errlog.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- helpers

    def start(self, *extra, objects=BASIC, token=TOKEN):
        ready = os.path.join(self.tmp, "ready")
        args = [sys.executable, SERVER, "--listen", "127.0.0.1:0", "--ready-file", ready,
                "--objects", objects, "--quiet"] + list(extra)
        if token:
            args += ["--token", token]
        self.errlog = open(os.path.join(self.tmp, "stderr"), "w+")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self.errlog)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if os.path.exists(ready):
                with open(ready) as f:
                    self.port = int(f.read())
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.errlog.seek(0)
        self.fail("server did not start: " + self.errlog.read())

    def conn(self, timeout=5.0):
        if self.ssl_ctx:
            c = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout, context=self.ssl_ctx)
        else:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        c.connect()
        return c

    def headers(self, token, ctype):
        h = {"Content-Type": ctype}
        token = TOKEN if token is DEFAULT else token
        if token:
            h["Authorization"] = "Bearer " + token
        return h

    def request(self, method, path, body=None, token=DEFAULT, ctype="application/json"):
        c = self.conn()
        data = json.dumps(body) if body is not None else None
        c.request(method, path, body=data, headers=self.headers(token, ctype))
        resp = c.getresponse()
        raw = resp.read()
        c.close()
        ok_json = resp.getheader("Content-Type", "").startswith("application/json")
        return resp.status, (json.loads(raw) if ok_json else raw.decode())

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def ok(self, method, path, body=None, **kw):
        code, doc = self.request(method, path, body, **kw)
        self.assertIn(code, (200, 201), doc)
        return doc

    def names(self, path):
        return sorted(i["metadata"]["name"] for i in self.ok("GET", path)["items"])

    def fault(self, **spec):
        return self.ok("POST", "/fake/fault", spec, token=None)

    def watch(self, path, token=DEFAULT):
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        if self.ssl_ctx:
            sock = self.ssl_ctx.wrap_socket(sock, server_hostname="127.0.0.1")
        head = "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: application/json\r\n" % (path, self.port)
        for k, v in self.headers(token, "application/json").items():
            head += "%s: %s\r\n" % (k, v)
        sock.sendall((head + "\r\n").encode())
        f = sock.makefile("rb")
        status, headers = read_head(f)
        if status != 200:
            body = json.loads(f.read(int(headers["content-length"])))
            f.close()
            sock.close()
            return status, body
        self.assertEqual(headers.get("transfer-encoding"), "chunked")
        w = Watch(sock, f)
        self.streams.append(w)
        return 200, w

    def open_watch(self, path):
        code, w = self.watch(path)
        self.assertEqual(code, 200, w)
        return w

    def list_rv(self, path=SVC):
        return int(self.ok("GET", path)["metadata"]["resourceVersion"])

    def new_service(self, ns, name, labels=None):
        body = {"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": name, "labels": labels or {}},
                "spec": {"ports": [{"name": "http", "port": 80}]}}
        return self.ok("POST", "/api/v1/namespaces/%s/services" % ns, body)

    # -- basics

    def test_discovery_and_health(self):
        self.start()
        self.assertEqual(self.ok("GET", "/version")["gitVersion"][:2], "v1")
        self.assertEqual(self.ok("GET", "/api")["versions"], ["v1"])
        groups = [g["name"] for g in self.ok("GET", "/apis")["groups"]]
        self.assertIn("discovery.k8s.io", groups)
        self.assertEqual(self.get("/healthz"), (200, "ok"))
        code, st = self.get("/api/v1/nonsense")
        self.assertEqual((code, st["kind"], st["reason"]), (404, "Status", "NotFound"))

    def test_list_and_get(self):
        self.start()
        doc = self.ok("GET", SVC)
        self.assertEqual((doc["kind"], doc["apiVersion"]), ("ServiceList", "v1"))
        rv = int(doc["metadata"]["resourceVersion"])
        self.assertEqual(len(doc["items"]), 6)
        for item in doc["items"]:
            self.assertLessEqual(int(item["metadata"]["resourceVersion"]), rv)
            self.assertNotIn("kind", item)  # like the real server's typed lists
        self.assertEqual(self.names("/api/v1/namespaces/ns1/services"), ["api", "db", "web"])
        eps = self.ok("GET", "/apis/discovery.k8s.io/v1/namespaces/ns1/endpointslices")
        self.assertEqual((eps["kind"], eps["apiVersion"]), ("EndpointSliceList", "discovery.k8s.io/v1"))
        self.assertEqual(len(eps["items"]), 2)
        self.assertEqual(len(self.ok("GET", "/api/v1/namespaces")["items"]), 4)
        self.assertEqual(self.ok("GET", "/api/v1/namespaces/ns1")["kind"], "Namespace")
        svc = self.ok("GET", "/api/v1/namespaces/ns1/services/web")
        self.assertEqual((svc["kind"], svc["spec"]["ipFamilies"]), ("Service", ["IPv4", "IPv6"]))
        code, st = self.get("/api/v1/namespaces/ns1/services/nope")
        self.assertEqual((code, st["reason"], st["details"]["kind"]), (404, "NotFound", "services"))

    def test_chunked_list_is_a_consistent_snapshot(self):
        self.start()
        full = self.names(SVC)
        page = self.ok("GET", SVC + "?limit=2")
        rv = page["metadata"]["resourceVersion"]
        self.assertEqual(page["metadata"]["remainingItemCount"], 4)
        got = [i["metadata"]["name"] for i in page["items"]]
        self.new_service("ns2", "zzz-late")  # after the snapshot: must not show up
        while "continue" in page["metadata"]:
            page = self.ok("GET", SVC + "?limit=2&continue=" + page["metadata"]["continue"])
            self.assertEqual(page["metadata"]["resourceVersion"], rv)
            self.assertLessEqual(len(page["items"]), 2)
            got += [i["metadata"]["name"] for i in page["items"]]
        self.assertEqual(sorted(got), full)
        code, _ = self.get(SVC + "?limit=2&continue=garbage")
        self.assertEqual(code, 400)
        token = self.ok("GET", SVC + "?limit=1")["metadata"]["continue"]
        self.new_service("ns2", "zzz-later")
        self.fault(action="gone")  # compaction expires the token's RV
        self.fault(action="clear")
        code, st = self.get(SVC + "?limit=1&continue=" + token)
        self.assertEqual((code, st["reason"]), (410, "Expired"))

    def test_label_selectors(self):
        self.start()
        cases = {"app=web": ["other", "web"],
                 "app!=web": ["api", "db", "ext", "kubernetes"],
                 "app in (api,db)": ["api", "db"],
                 "app notin (web,api)": ["db", "ext", "kubernetes"],
                 "tier": ["api", "web"],
                 "!tier": ["db", "ext", "kubernetes", "other"],
                 "app=web,env=prod": ["other"],
                 "app==web,!env": ["web"]}
        for sel, want in cases.items():
            q = urllib.parse.quote(sel)
            self.assertEqual(self.names(SVC + "?labelSelector=" + q), want, sel)
        code, st = self.get(SVC + "?labelSelector=app%20in%20web")
        self.assertEqual((code, st["reason"]), (400, "BadRequest"))

    def test_field_selectors(self):
        self.start()
        self.assertEqual(self.names("/api/v1/pods?fieldSelector=status.phase!=Succeeded,status.phase!=Failed"),
                         ["db-0", "other-1", "web-1"])
        self.assertEqual(self.names("/api/v1/pods?fieldSelector=metadata.namespace=ns2"), ["other-1"])
        self.assertEqual(self.names("/api/v1/pods?fieldSelector=metadata.name%3D%3Dweb-1"), ["web-1"])
        code, st = self.get("/api/v1/pods?fieldSelector=spec.bogus=x")
        self.assertEqual(code, 400)
        self.assertIn("field label not supported", st["message"])

    def test_token_required(self):
        self.start()
        for token in (None, "wrong"):
            code, st = self.get(SVC, token=token)
            self.assertEqual((code, st["kind"], st["status"], st["reason"], st["code"]),
                             (401, "Status", "Failure", "Unauthorized", 401))
        self.assertEqual(self.get(SVC)[0], 200)
        self.assertEqual(self.get("/fake/state", token=None)[0], 200)
        self.fault(action="set-token", token="rotated")  # token rotation
        self.assertEqual(self.get(SVC)[0], 401)
        self.assertEqual(self.get(SVC, token="rotated")[0], 200)

    # -- writes

    def test_writes(self):
        self.start()
        svc = self.new_service("ns1", "fresh", {"app": "fresh"})
        self.assertTrue(svc["spec"]["clusterIP"].startswith("10.96."))
        self.assertTrue(svc["metadata"]["uid"] and svc["metadata"]["creationTimestamp"])
        code, st = self.request("POST", "/api/v1/namespaces/ns1/services", svc)
        self.assertEqual((code, st["reason"]), (409, "AlreadyExists"))
        code, st = self.request("PUT", "/api/v1/namespaces/ns1/services/missing", svc)
        self.assertEqual(code, 404)
        stale = dict(svc, metadata=dict(svc["metadata"], resourceVersion="1"))
        code, st = self.request("PUT", "/api/v1/namespaces/ns1/services/fresh", stale)
        self.assertEqual((code, st["reason"]), (409, "Conflict"))
        patch = {"metadata": {"labels": {"app": None, "new": "yes"}}}
        code, st = self.request("PATCH", "/api/v1/namespaces/ns1/services/fresh", patch,
                                ctype="application/json-patch+json")
        self.assertEqual(code, 415)
        out = self.ok("PATCH", "/api/v1/namespaces/ns1/services/fresh", patch,
                      ctype="application/merge-patch+json")
        self.assertEqual(out["metadata"]["labels"], {"new": "yes"})
        self.assertGreater(int(out["metadata"]["resourceVersion"]), int(svc["metadata"]["resourceVersion"]))
        self.assertEqual(out["metadata"]["uid"], svc["metadata"]["uid"])
        self.ok("DELETE", "/api/v1/namespaces/ns1/services/fresh")
        self.assertEqual(self.get("/api/v1/namespaces/ns1/services/fresh")[0], 404)
        self.assertEqual(self.request("DELETE", "/api/v1/namespaces/ns1/services/fresh")[0], 404)
        code, _ = self.request("POST", "/api/v1/namespaces/ns1/services", {"kind": "Pod", "metadata": {"name": "x"}})
        self.assertEqual(code, 400)

    def test_namespace_delete_cascades(self):
        self.start()
        rv = self.list_rv()
        ws = {p: self.open_watch("%s?watch=1&resourceVersion=%d" % (p, rv)) for p in
              (SVC, "/apis/discovery.k8s.io/v1/endpointslices", "/api/v1/pods")}
        ns = self.ok("DELETE", "/api/v1/namespaces/ns1")
        self.assertEqual(ns["kind"], "Namespace")
        want = {SVC: ["api", "db", "web"], "/api/v1/pods": ["db-0", "failed-1", "job-1", "web-1"],
                "/apis/discovery.k8s.io/v1/endpointslices": ["db-fghij", "web-abcde"]}
        for path, names in want.items():
            evs = ws[path].take(len(names))
            self.assertEqual({e["type"] for e in evs}, {"DELETED"})
            self.assertEqual(sorted(e["object"]["metadata"]["name"] for e in evs), names)
        self.assertEqual(self.names("/api/v1/namespaces/ns1/services"), [])
        self.assertEqual(self.get("/api/v1/namespaces/ns1")[0], 404)
        self.assertEqual(self.request("POST", "/api/v1/namespaces/ns1/services",
                                      {"metadata": {"name": "x"}})[0], 404)

    # -- watch

    def test_watch_from_rv_delivers_changes_fast(self):
        self.start()
        rv = self.list_rv()
        w = self.open_watch(SVC + "?watch=1&resourceVersion=%d" % rv)
        t0 = time.monotonic()
        self.new_service("ns2", "hot")
        ev = w.next(timeout=1.0)
        self.assertLess(time.monotonic() - t0, 1.0)
        self.assertEqual((ev["type"], ev["object"]["kind"], ev["object"]["apiVersion"]), ("ADDED", "Service", "v1"))
        added_rv = int(ev["object"]["metadata"]["resourceVersion"])
        self.assertGreater(added_rv, rv)
        self.ok("PATCH", "/api/v1/namespaces/ns2/services/hot", {"metadata": {"labels": {"x": "y"}}},
                ctype="application/merge-patch+json")
        self.ok("DELETE", "/api/v1/namespaces/ns2/services/hot")
        evs = w.take(2)
        self.assertEqual([e["type"] for e in evs], ["MODIFIED", "DELETED"])
        self.assertGreater(int(evs[1]["object"]["metadata"]["resourceVersion"]), added_rv)

    def test_watch_without_rv_sends_current_objects(self):
        self.start()
        for rv in ("", "&resourceVersion=0"):
            w = self.open_watch("/api/v1/namespaces/ns1/services?watch=true" + rv)
            evs = w.take(3)
            self.assertEqual({e["type"] for e in evs}, {"ADDED"})
            self.assertEqual(sorted(e["object"]["metadata"]["name"] for e in evs), ["api", "db", "web"])

    def test_watch_selector_transitions(self):
        self.start()
        rv = self.list_rv()
        w = self.open_watch("/api/v1/namespaces/ns1/services?watch=1&labelSelector=tier%%3Dfront&resourceVersion=%d" % rv)
        mp = "application/merge-patch+json"
        self.ok("PATCH", "/api/v1/namespaces/ns1/services/api", {"metadata": {"labels": {"tier": "front"}}}, ctype=mp)
        self.ok("PATCH", "/api/v1/namespaces/ns1/services/web", {"metadata": {"labels": {"tier": None}}}, ctype=mp)
        self.new_service("ns1", "ignored", {"tier": "back"})
        self.new_service("ns1", "seen", {"tier": "front"})
        evs = [(e["type"], e["object"]["metadata"]["name"]) for e in w.take(3)]
        self.assertEqual(evs, [("ADDED", "api"), ("DELETED", "web"), ("ADDED", "seen")])

    def test_bookmarks(self):
        self.start("--bookmark-interval", "0.2")
        rv = self.list_rv()
        w = self.open_watch(SVC + "?watch=1&allowWatchBookmarks=true&resourceVersion=%d" % rv)
        ev = w.next(timeout=2.0)
        self.assertEqual(ev["type"], "BOOKMARK")
        self.assertEqual(sorted(ev["object"]), ["apiVersion", "kind", "metadata"])
        self.assertEqual(ev["object"]["metadata"]["resourceVersion"], str(rv))
        created = int(self.new_service("ns2", "bm")["metadata"]["resourceVersion"])
        ev = w.next()
        while ev["type"] == "BOOKMARK":
            ev = w.next()
        self.assertEqual(ev["type"], "ADDED")
        ev = w.next()
        self.assertEqual(ev["type"], "BOOKMARK")
        self.assertGreaterEqual(int(ev["object"]["metadata"]["resourceVersion"]), created)

    def test_timeout_seconds_ends_stream_cleanly(self):
        self.start()
        w = self.open_watch(SVC + "?watch=1&timeoutSeconds=1&resourceVersion=%d" % self.list_rv())
        t0 = time.monotonic()
        self.assertIsNone(w.next(timeout=3.0))
        self.assertLess(time.monotonic() - t0, 2.5)

    def test_watchlist_initial_events_end(self):
        self.start()
        rv = self.list_rv()
        code, st = self.watch(SVC + "?watch=1&sendInitialEvents=true&allowWatchBookmarks=true")
        self.assertEqual((code, st["reason"]), (422, "Invalid"))
        w = self.open_watch(SVC + "?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
                            "&allowWatchBookmarks=true")
        evs = w.take(7)
        self.assertEqual([e["type"] for e in evs], ["ADDED"] * 6 + ["BOOKMARK"])
        meta = evs[-1]["object"]["metadata"]
        self.assertEqual(meta["annotations"], {"k8s.io/initial-events-end": "true"})
        self.assertEqual(meta["resourceVersion"], str(rv))
        self.new_service("ns2", "after")
        ev = w.next()
        self.assertEqual((ev["type"], ev["object"]["metadata"]["name"]), ("ADDED", "after"))

    def test_expired_rv_http_410(self):
        self.start("--history", "3")
        rv = self.list_rv()
        for i in range(5):
            self.new_service("ns2", "churn-%d" % i)
        code, st = self.watch(SVC + "?watch=1&resourceVersion=%d" % rv)
        self.assertEqual((code, st["kind"], st["reason"], st["code"]), (410, "Status", "Expired", 410))
        self.assertEqual(self.watch(SVC + "?watch=1&resourceVersion=%d" % self.list_rv())[0], 200)

    def test_too_large_rv_504(self):
        # A resourceVersion the server has not reached (it was restored from older data):
        # the watch cache waits, then answers 504 with cause ResourceVersionTooLarge.
        self.start()
        rv = self.list_rv()
        t0 = time.monotonic()
        code, st = self.watch(SVC + "?watch=1&resourceVersion=%d" % (rv + 5))
        self.assertEqual((code, st["reason"], st["details"]["causes"][0]["reason"]),
                         (504, "Timeout", "ResourceVersionTooLarge"))
        self.assertGreaterEqual(time.monotonic() - t0, 2.5)
        # Reached while the watch waits: it goes on from there.
        timer = threading.Timer(0.5, self.new_service, ("ns2", "late"))
        timer.start()
        w = self.open_watch(SVC + "?watch=1&resourceVersion=%d" % (rv + 1))
        timer.join()
        self.new_service("ns2", "later")
        self.assertEqual(w.next()["object"]["metadata"]["name"], "later")

    def test_gone_fault_http_then_recovers(self):
        self.start()
        rv = self.list_rv()
        self.fault(action="gone")
        code, st = self.watch(SVC + "?watch=1&resourceVersion=%d" % rv)
        self.assertEqual((code, st["code"]), (410, 410))
        # The RV held before the fault stays expired; a relist's RV watches on.
        self.assertEqual(self.watch(SVC + "?watch=1&resourceVersion=%d" % rv)[0], 410)
        self.assertGreater(self.list_rv(), rv)
        self.assertEqual(self.watch(SVC + "?watch=1&resourceVersion=%d" % self.list_rv())[0], 200)

    def test_gone_fault_ends_watches_in_progress(self):
        self.start()
        w = self.open_watch(SVC + "?watch=1&resourceVersion=%d" % self.list_rv())
        self.fault(action="gone", count=0)
        ev = w.next()
        self.assertEqual((ev["type"], ev["object"]["code"]), ("ERROR", 410))

    def test_gone_fault_error_event(self):
        self.start()
        rv = self.list_rv()
        self.new_service("ns2", "moved-on")
        self.fault(action="gone", mode="event")
        for from_rv in (self.list_rv(), rv):  # forced, then compacted-away RV
            w = self.open_watch(SVC + "?watch=1&resourceVersion=%d" % from_rv)
            ev = w.next()
            self.assertEqual(ev["type"], "ERROR")
            self.assertEqual((ev["object"]["kind"], ev["object"]["code"], ev["object"]["reason"]),
                             ("Status", 410, "Expired"))
            self.assertIsNone(w.next())

    def test_drop_watches(self):
        self.start()
        rv = self.list_rv()
        ws = [self.open_watch(SVC + "?watch=1&resourceVersion=%d" % rv) for _ in range(2)]
        self.assertEqual(self.ok("GET", "/fake/state", token=None)["watchers"], 2)
        self.fault(action="drop-watches")
        for w in ws:
            with self.assertRaises(ConnectionError):
                w.next(timeout=2.0)
        w = self.open_watch(SVC + "?watch=1&resourceVersion=%d" % rv)
        self.new_service("ns2", "after-drop")
        self.assertEqual(w.next()["type"], "ADDED")

    def test_stall(self):
        self.start("--bookmark-interval", "0.5")
        w = self.open_watch(SVC + "?watch=1&allowWatchBookmarks=true&resourceVersion=%d" % self.list_rv())
        self.assertEqual(w.next()["type"], "BOOKMARK")
        t0 = time.monotonic()
        self.fault(action="stall", seconds=1)
        self.assertEqual(w.next(timeout=3.0)["type"], "BOOKMARK")  # held back by the stall
        self.assertGreater(time.monotonic() - t0, 0.8)
        t0 = time.monotonic()
        self.fault(action="stall", seconds=1)
        self.assertEqual(self.get(SVC)[0], 200)  # requests hang, then answer
        self.assertGreater(time.monotonic() - t0, 0.8)

    def test_error_injection(self):
        self.start()
        self.fault(action="error", code=500, count=2)
        for _ in range(2):
            code, st = self.get(SVC)
            self.assertEqual((code, st["kind"], st["reason"]), (500, "Status", "InternalError"))
        self.assertEqual(self.get(SVC)[0], 200)
        self.fault(action="error", code=503, count=5)
        self.fault(action="clear")
        self.assertEqual(self.get(SVC)[0], 200)

    def test_fail_start(self):
        self.start("--fail-start-seconds", "1")
        code, st = self.get(SVC)
        self.assertEqual((code, st["reason"]), (503, "ServiceUnavailable"))
        time.sleep(1.1)
        self.assertEqual(self.get(SVC)[0], 200)

    def test_replace_objects_generates_diff(self):
        self.start()
        w = self.open_watch(SVC + "?watch=1&resourceVersion=%d" % self.list_rv())
        with open(DEMO) as f:
            demo = json.load(f)
        state = self.ok("POST", "/fake/objects", demo, token=None)
        self.assertEqual(state["counts"]["services"], 9)
        # 5 services only in basic.json go, 8 only in the demo come, kubernetes changes.
        evs = {(e["type"], e["object"]["metadata"]["name"]) for e in w.take(14)}
        self.assertEqual(len([t for t, _ in evs if t == "DELETED"]), 5)
        self.assertEqual(len([t for t, _ in evs if t == "ADDED"]), 8)
        self.assertIn(("DELETED", "web"), evs)
        self.assertIn(("ADDED", "kube-dns"), evs)
        self.assertIn(("MODIFIED", "kubernetes"), evs)

    def test_request_log(self):
        self.start()
        self.get(SVC + "?limit=5")
        log = self.ok("GET", "/fake/requests", token=None)
        self.assertEqual(log["requests"][-1]["path"], SVC + "?limit=5")
        self.assertTrue(log["requests"][-1]["authorization"])
        self.assertEqual(log["counts"]["list"], 1)

    # -- files and transport

    def test_demo_cluster(self):
        self.start(objects=DEMO)
        svcs = {(s["metadata"]["namespace"], s["metadata"]["name"]): s for s in self.ok("GET", SVC)["items"]}
        slices = self.ok("GET", "/apis/discovery.k8s.io/v1/endpointslices")["items"]
        self.assertEqual(sorted({ns for ns, _ in svcs}), ["db", "default", "kube-system", "shop"])
        for sl in slices:
            owner = sl["metadata"]["labels"]["kubernetes.io/service-name"]
            self.assertIn((sl["metadata"]["namespace"], owner), svcs)
        self.assertEqual(svcs[("db", "postgres")]["spec"]["clusterIP"], "None")
        self.assertEqual(len(svcs[("shop", "frontend")]["spec"]["clusterIPs"]), 2)
        self.assertEqual(svcs[("shop", "payments")]["spec"]["type"], "ExternalName")
        pg = [s for s in slices if s["metadata"]["name"].startswith("postgres")][0]
        self.assertEqual([e["conditions"]["ready"] for e in pg["endpoints"]], [True, True, False])
        self.assertTrue(all(e.get("hostname") for e in pg["endpoints"]))
        running = self.names("/api/v1/pods?fieldSelector=status.phase!=Succeeded")
        self.assertEqual(len(running), 10)

    def test_refuses_non_loopback(self):
        for addr in ("0.0.0.0:0", "192.0.2.1:6443", "::1:0"):
            p = subprocess.run([sys.executable, SERVER, "--listen", addr, "--objects", BASIC],
                               capture_output=True, text=True, timeout=10)
            self.assertNotEqual(p.returncode, 0, addr)
            self.assertIn("127.0.0.0/8", p.stderr)

    def make_cert(self, name):
        cert, key = (os.path.join(self.tmp, name + ext) for ext in (".crt", ".key"))
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=" + name, "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=60)
        return cert, key

    @unittest.skipIf(shutil.which("openssl") is None, "openssl not installed")
    def test_tls(self):
        cert, key = self.make_cert("fake-apiserver")
        client_cert, client_key = self.make_cert("h6-client")
        self.start("--tls-cert", cert, "--tls-key", key, "--client-ca", client_cert)
        self.ssl_ctx = ssl.create_default_context(cafile=cert)
        rv = self.list_rv()
        w = self.open_watch(SVC + "?watch=1&resourceVersion=%d" % rv)
        self.new_service("ns2", "tls")
        self.assertEqual(w.next()["type"], "ADDED")
        self.assertEqual(self.get(SVC, token=None)[0], 401)
        self.ssl_ctx.load_cert_chain(client_cert, client_key)  # x509 client auth, no token
        self.assertEqual(self.get(SVC, token=None)[0], 200)
        self.ssl_ctx = None
        with self.assertRaises((http.client.HTTPException, OSError)):
            self.get(SVC)  # plain HTTP against the TLS listener


if __name__ == "__main__":
    unittest.main(verbosity=2)
