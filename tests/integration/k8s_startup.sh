#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Intent: a control plane starting while the Kubernetes API is slow or down behaves as
# CoreDNS does with startup_timeout. With the API stalled, a cluster question waits for
# the initial sync and gets the real answer (NOERROR, or NXDOMAIN for an unknown name),
# not SERVFAIL, while /ready is 503; hosts-like answers from the table never wait. With
# the API down, the question is answered SERVFAIL once startup_timeout has passed, the
# WARNING line and the failed API requests are logged, and the data comes when the API is
# back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/k8s_lib.sh"
k8s_require
trap 'rc=$?; k8s_cleanup; it_exit $rc' EXIT

health_code() { timeout 5 curl -s -o /dev/null -w '%{http_code}' --max-time 2 http://127.0.0.1:8080/health 2>/dev/null || true; }

# A crash and a restart in the background (its /ready wait may fail: that is the point).
cp_crash_restart() {
	local i
	timeout 20 "$LAB" cp-stop --kill >/dev/null 2>&1
	DPDNS_LAB_WAIT=${1:-30} timeout 90 "$LAB" cp-start >"$IT_WORK/cp-start.log" 2>&1 &
	BG_PID=$!
	# The new control plane is up (its HTTP servers answer) once its first table sync
	# and listeners are done.
	for ((i = 0; i < 200; i++)); do
		[ "$(health_code)" == 200 ] && return 0
		sleep 0.05
	done
	fail "restarted control plane answers /health" "$(cat "$IT_WORK/cp-start.log")"
	exit 1
}
cp_start_wait() { wait "$BG_PID" 2>/dev/null; local rc=$?; BG_PID=; return $rc; }

fake_start
k8s_block "        startup_timeout 3s" >"$IT_WORK/Corefile"
cat >>"$IT_WORK/Corefile" <<EOF
it.test:53 {
    hosts {
        198.18.0.77 static.it.test
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
fake_stop
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
check_re "API failures logged" "^\\[ERROR\\] plugin/kubernetes: http://127\\.0\\.0\\.1:$API_PORT: .*failed request" \
	"$(grep -h 'ERROR.*plugin/kubernetes' /run/dpdns-lab/controlplane.log 2>/dev/null | tail -1)"
cp_start_wait
fake_start "$API_PORT"
# What is listed is answered at once (services before the other resources, as CoreDNS);
# a would-be NXDOMAIN stays SERVFAIL until every resource is listed: /ready says when.
# Both bounded by the client's retry backoff after the failures of the outage.
poll_answer 300 "API back: web answered" A 10.96.1.1 @$S4 web.ns1.svc.cluster.local A
for ((i = 0; i < 300; i++)); do
	[ "$(ready_code)" = 200 ] && break
	sleep 0.1
done
check "ready once synced" 200 "$(ready_code)"
dq @$S4 nope.ns1.svc.cluster.local A
assert_answer "synced: unknown service NXDOMAIN" NXDOMAIN 'aa' 0
