#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Intent: a control plane starting while the Kubernetes API is slow or down behaves as
# CoreDNS does with startup_timeout. With the API stalled, a cluster question waits for
# the initial sync and gets the real answer (NOERROR, or NXDOMAIN for an unknown name),
# not SERVFAIL, while /ready is 503; hosts-like answers from the table never wait. With
# the API down, the question is answered SERVFAIL once startup_timeout has passed, the
# WARNING line is logged, and the data comes when the API is back.
. "$(dirname "$0")/lib.sh"

FAKE=$IT_SRC/tests/k8s/fake-apiserver
OBJECTS=$IT_SRC/tests/k8s/objects/basic.json
FAKE_PID= CPS_PID=
if [ ! -f "$FAKE" ] || ! command -v python3 >/dev/null; then
	echo "SKIP $IT_NAME: no fake API server or python3"
	exit 77
fi

startup_cleanup() {
	[ -n "$CPS_PID" ] && kill "$CPS_PID" 2>/dev/null && wait "$CPS_PID" 2>/dev/null
	[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null && wait "$FAKE_PID" 2>/dev/null
	CPS_PID= FAKE_PID=
}
trap 'rc=$?; startup_cleanup; it_exit $rc' EXIT

# fake_start [PORT]: the fake API server in the background; sets API_PORT.
fake_start() {
	local i
	rm -f "$IT_WORK/api.port"
	python3 "$FAKE" --listen "127.0.0.1:${1:-0}" --ready-file "$IT_WORK/api.port" \
		--objects "$OBJECTS" --quiet &
	FAKE_PID=$!
	for ((i = 0; i < 100; i++)); do
		[ -s "$IT_WORK/api.port" ] && break
		sleep 0.1
	done
	API_PORT=$(cat "$IT_WORK/api.port" 2>/dev/null)
	[ -n "$API_PORT" ] || { fail "fake API server started" "no port file"; exit 1; }
}
fault() { timeout 10 curl -s -o /dev/null -w '%{http_code}' -X POST \
	-H 'Content-Type: application/json' --data "$1" "http://127.0.0.1:$API_PORT/fake/fault"; }
health_code() { timeout 5 curl -s -o /dev/null -w '%{http_code}' --max-time 2 http://127.0.0.1:8080/health 2>/dev/null || true; }

# A crash and a restart in the background (its /ready wait may fail: that is the point).
cp_crash_restart() {
	local i
	timeout 20 "$LAB" cp-stop --kill >/dev/null 2>&1
	DPDNS_LAB_WAIT=${1:-30} timeout 90 "$LAB" cp-start >"$IT_WORK/cp-start.log" 2>&1 &
	CPS_PID=$!
	# The new control plane is up (its HTTP servers answer) once its first table sync
	# and listeners are done.
	for ((i = 0; i < 200; i++)); do
		[ "$(health_code)" == 200 ] && return 0
		sleep 0.05
	done
	fail "restarted control plane answers /health" "$(cat "$IT_WORK/cp-start.log")"
	exit 1
}
cp_start_wait() { wait "$CPS_PID" 2>/dev/null; local rc=$?; CPS_PID=; return $rc; }

fake_start
cat >"$IT_WORK/Corefile" <<EOF
.:53 {
    errors
    health 127.0.0.1:8080
    ready 127.0.0.1:8181
    prometheus 127.0.0.1:9153
    hosts {
        198.18.0.77 static.it.test
        fallthrough
    }
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        endpoint http://127.0.0.1:$API_PORT
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
        startup_timeout 3s
    }
}
EOF
lab_up "$IT_WORK/Corefile"
dq @$S4 web.ns1.svc.cluster.local A
assert_answer "synced: web A" NOERROR 'aa' 1 10.96.1.1

step "API slow at start: questions wait for the sync"
check "stall the API for 2 s" 200 "$(fault '{"action":"stall","seconds":2}')"
cp_crash_restart 30
check "not ready before the sync" 503 "$(ready_code)"
dq @$S4 +time=8 +tries=1 web.ns1.svc.cluster.local A
assert_answer "web A waited for the sync" NOERROR 'aa' 1 10.96.1.1
dq @$S4 +time=8 +tries=1 nope.ns1.svc.cluster.local A
assert_answer "unknown service: NXDOMAIN after the sync, not SERVFAIL" NXDOMAIN 'aa' 0
dq @$S4 static.it.test A
assert_answer "table names never wait" NOERROR 'aa' 1 198.18.0.77
if cp_start_wait; then pass "control plane ready after the stall"; else fail "control plane ready after the stall" "$(cat "$IT_WORK/cp-start.log")"; fi
check "ready after the sync" 200 "$(ready_code)"

step "API down at start: SERVFAIL after startup_timeout, data once it is back"
kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null; FAKE_PID=
cp_crash_restart 8
dq @$S4 +time=8 +tries=1 nope.ns1.svc.cluster.local A
assert_answer "unknown service before any sync: SERVFAIL (after startup_timeout)" SERVFAIL '' 0
dq @$S4 +time=8 +tries=1 web.ns1.svc.cluster.local A
assert_answer "past startup_timeout: SERVFAIL at once" SERVFAIL '' 0
dq @$S4 static.it.test A
assert_answer "table names still answered" NOERROR 'aa' 1 198.18.0.77
check "not ready while the API is down" 503 "$(ready_code)"
check_re "WARNING logged" 'plugin/kubernetes: starting server with unsynced Kubernetes API' \
	"$(grep -h 'unsynced' /run/dpdns-lab/controlplane.log 2>/dev/null | tail -1)"
cp_start_wait
fake_start "$API_PORT"
poll_answer 100 "API back: web answered" A 10.96.1.1 @$S4 web.ns1.svc.cluster.local A
poll_rcode 20 "API back: unknown service NXDOMAIN" NXDOMAIN @$S4 nope.ns1.svc.cluster.local A
check "ready once synced" 200 "$(ready_code)"
