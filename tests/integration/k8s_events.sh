#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Intent: watch events and API faults while dpdns serves the fake cluster
# (tests/k8s/objects/conformance.json) through the real fast path: a service's ClusterIP and
# port changed (A, SRV, PTR follow), an EndpointSlice's ready condition toggled by PUT (the
# headless A set changes; NXDOMAIN while none is ready), a namespace deleted (its services
# NXDOMAIN), an ExternalName turned into a ClusterIP service (CNAME -> A), a service deleted
# and re-created; then faults of tests/k8s/fake-apiserver: watches dropped, 500s on the next
# requests, a stalled API during a change (last known data answered meanwhile), 410 Gone on
# the watch (HTTP status and ERROR event) => relist with correct data; the
# dpdns_kubernetes_relists_total / api_errors_total metrics grow where they should; the SOA
# serial follows the last change. Finally glibc (getent) and `dig +search` in the client
# namespace with a pod's search path, ndots 1 (resolv.conf) and ndots:5 (RES_OPTIONS: the
# lab's resolv.conf has no ndots option). Waits are bounded polls, never timing thresholds.
. "$(dirname "$0")/lib.sh"
K8S_OBJECTS=$IT_SRC/tests/k8s/objects/conformance.json
. "$(dirname "$0")/k8s_lib.sh"
k8s_require
trap 'rc=$?; k8s_cleanup; it_exit $rc' EXIT

fake_start

# api_edit PATH PYTHON: GET the object, run PYTHON on it (as `o`), PUT it back; HTTP status
api_edit() {
	local body
	body=$(timeout 10 curl -s "http://127.0.0.1:$API_PORT$1" |
		python3 -c 'import json, sys; o = json.load(sys.stdin); exec(sys.argv[1]); print(json.dumps(o))' "$2") ||
		{ echo "edit-failed"; return; }
	api PUT "$1" "$body"
}
SVCS=/api/v1/namespaces/conf/services
SLICES=/apis/discovery.k8s.io/v1/namespaces/conf/endpointslices
SVC=conf.svc.cluster.local

k8s_block >"$IT_WORK/Corefile"
lab_up "$IT_WORK/Corefile" --search "default.svc.cluster.local svc.cluster.local cluster.local"

srvs() { q_section ANSWER | awk '$4 == "SRV" { print $5, $6, $7, $8 }' | sort | paste -sd '|'; }
serial() { dq @$S4 nope.$SVC A; q_section AUTHORITY | awk '{ print $7 }'; }
# poll_srv TRIES DESC EXPECTED dig args...: until the sorted SRV answers equal EXPECTED
poll_srv() {
	local tries=$1 d=$2 want=$3 i got=; shift 3
	for ((i = 0; i < tries; i++)); do
		dq "$@"; got=$(srvs)
		[ "$got" == "$want" ] && { pass "$d (try $((i + 1)))"; return 0; }
		sleep 0.1
	done
	fail "$d" "expected within $tries tries: $want" "got: $got (rcode $(q_status))"
}

step "initial data"
dq @$S4 lonely.$SVC A
assert_answer "lonely A" NOERROR 'aa' 1 10.96.10.3
dq @$S4 _http._tcp.lonely.$SVC SRV
check "lonely SRV" "0 100 80 lonely.conf.svc.cluster.local." "$(srvs)"
serial0=$(serial)
check_re "SOA serial" '^[0-9]+$' "$serial0"
relists0=$(metric_sum dpdns_kubernetes_relists_total)
errors0=$(metric_sum dpdns_kubernetes_api_errors_total)
check_re "relists metric present" '^[0-9]+$' "$relists0"
check_re "api errors metric present" '^[0-9]+$' "$errors0"

step "service modified: ClusterIP and port change"
sleep 1 # the serial has a resolution of one second: make the change's second a later one
t_change=$(date +%s)
check "PUT lonely (new ClusterIP, port http 80 -> web 8081)" 200 "$(api_edit $SVCS/lonely \
	'o["spec"].update(clusterIP="10.96.10.30", clusterIPs=["10.96.10.30"], ports=[{"name": "web", "port": 8081, "protocol": "TCP", "targetPort": 8081}])')"
poll_answer 10 "new ClusterIP within a second" A 10.96.10.30 @$S4 lonely.$SVC A
poll_srv 10 "SRV of the new port" "0 100 8081 lonely.conf.svc.cluster.local." @$S4 _web._tcp.lonely.$SVC SRV
dq @$S4 _http._tcp.lonely.$SVC SRV
assert_answer "SRV of the removed port" NXDOMAIN 'aa' 0
dq @$S4 -x 10.96.10.30
assert_answer "PTR of the new ClusterIP" NOERROR 'aa' 1 lonely.conf.svc.cluster.local.
dq @$S4 -x 10.96.10.3
check "no PTR for the old ClusterIP" "" "$(q_rdata PTR)"
s=$(serial)
check_ge "SOA serial moved to the change's time" "$t_change" "${s:-0}"

step "EndpointSlice ready toggled (PUT): headless A set follows"
check "PUT hl-v4abc with hl-0 not ready" 200 "$(api_edit $SLICES/hl-v4abc \
	'o["endpoints"][0]["conditions"] = {"ready": False, "serving": False, "terminating": True}')"
poll_answer 10 "hl A without hl-0 within a second" A 10.244.20.2 @$S4 hl.$SVC A
poll_rcode 10 "hl-0.hl NXDOMAIN" NXDOMAIN @$S4 hl-0.hl.$SVC A
dq @$S4 _db._tcp.hl.$SVC SRV
check "SRV: 3 ready endpoints left (weight 33)" 3 "$(q_section ANSWER | awk '$4 == "SRV" && $6 == 33' | wc -l)"
check "PUT hl-v4abc with hl-0 ready again" 200 "$(api_edit $SLICES/hl-v4abc \
	'o["endpoints"][0]["conditions"] = {"ready": True, "serving": True, "terminating": False}')"
poll_answer 10 "hl A with hl-0 again" A "10.244.20.1 10.244.20.2" @$S4 hl.$SVC A
poll_answer 10 "hl-0.hl back" A 10.244.20.1 @$S4 hl-0.hl.$SVC A
dq @$S4 nready.$SVC A
assert_answer "nready: none ready" NXDOMAIN 'aa' 0
check "PUT nready-ghijk ready" 200 "$(api_edit $SLICES/nready-ghijk \
	'o["endpoints"][0]["conditions"] = {"ready": True, "serving": True, "terminating": False}')"
poll_answer 10 "nready A once its endpoint is ready" A 10.244.40.1 @$S4 nready.$SVC A
check "PUT nready-ghijk not ready" 200 "$(api_edit $SLICES/nready-ghijk \
	'o["endpoints"][0]["conditions"] = {"ready": False, "serving": False, "terminating": False}')"
poll_rcode 10 "nready NXDOMAIN again when none is ready" NXDOMAIN @$S4 nready.$SVC A

step "namespace deleted: its services go NXDOMAIN"
dq @$S4 victim.doomed.svc.cluster.local A
assert_answer "victim A before" NOERROR 'aa' 1 10.96.11.1
check "DELETE namespace doomed" 200 "$(api DELETE /api/v1/namespaces/doomed)"
poll_rcode 10 "victim NXDOMAIN within a second" NXDOMAIN @$S4 victim.doomed.svc.cluster.local A
dq @$S4 doomed.svc.cluster.local A
assert_answer "the namespace itself: NXDOMAIN" NXDOMAIN 'aa' 0
dq @$S4 -x 10.96.11.1
check "no PTR for its ClusterIP" "" "$(q_rdata PTR)"

step "ExternalName switched to ClusterIP: CNAME -> A"
dq @$S4 extn.$SVC A
assert_answer "extn A before: the CNAME" NOERROR 'aa' 1 www.example.org.
check "PUT extn as a ClusterIP service" 200 "$(api_edit $SVCS/extn \
	'o["spec"] = {"type": "ClusterIP", "clusterIP": "10.96.10.40", "clusterIPs": ["10.96.10.40"], "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}')"
poll_answer 10 "extn A within a second" A 10.96.10.40 @$S4 extn.$SVC A
check "no CNAME left in the answer" "" "$(q_rdata CNAME)"
dq @$S4 extn.$SVC CNAME
assert_answer "extn CNAME query: NODATA" NOERROR 'aa' 0

step "service deleted and re-created"
check "DELETE plain" 200 "$(api DELETE $SVCS/plain)"
poll_rcode 10 "plain NXDOMAIN within a second" NXDOMAIN @$S4 plain.$SVC A
check "POST plain again, another ClusterIP" 201 "$(api POST $SVCS \
	'{"apiVersion":"v1","kind":"Service","metadata":{"name":"plain","namespace":"conf"},"spec":{"clusterIP":"10.96.10.50","ports":[{"name":"http","port":80}]}}')"
poll_answer 10 "plain A again within a second" A 10.96.10.50 @$S4 plain.$SVC A

step "fault: watches dropped, then a change is still picked up"
check "drop-watches" 200 "$(fault '{"action":"drop-watches"}')"
check "POST f1" 201 "$(api POST $SVCS '{"metadata":{"name":"f1","namespace":"conf"},"spec":{"clusterIP":"10.96.12.1","ports":[{"name":"http","port":80}]}}')"
poll_answer 100 "f1 visible" A 10.96.12.1 @$S4 f1.$SVC A
dq @$S4 dual.$SVC A
assert_answer "other data kept" NOERROR 'aa' 1 10.96.10.1

step "fault: 500 on the next API requests, then a change is still picked up"
check "error 500 x6" 200 "$(fault '{"action":"error","code":500,"count":6}')"
check "drop-watches (their reconnects meet the 500s)" 200 "$(fault '{"action":"drop-watches"}')"
dq @$S4 dual.$SVC A
assert_answer "last known data answered during the errors" NOERROR 'aa' 1 10.96.10.1
# the POST itself may meet one of the injected 500s: retry it (bounded)
for ((i = 0; i < 8; i++)); do
	code=$(api POST $SVCS '{"metadata":{"name":"f2","namespace":"conf"},"spec":{"clusterIP":"10.96.12.2","ports":[{"name":"http","port":80}]}}')
	[ "$code" = 201 ] && break
	sleep 0.2
done
check "POST f2 (after the injected 500s)" 201 "$code"
poll_answer 200 "f2 visible after the errors" A 10.96.12.2 @$S4 f2.$SVC A
check_grew "dpdns_kubernetes_api_errors_total grew" "$errors0" 1 "$(metric_sum dpdns_kubernetes_api_errors_total)"
fault '{"action":"clear"}' >/dev/null

step "fault: slow API (stall) during a change"
check "stall 2 s" 200 "$(fault '{"action":"stall","seconds":2}')"
api POST $SVCS '{"metadata":{"name":"f3","namespace":"conf"},"spec":{"clusterIP":"10.96.12.3","ports":[{"name":"http","port":80}]}}' \
	>"$IT_WORK/f3.code" &
BG_PID=$!
dq @$S4 dual.$SVC A
assert_answer "answered while the API is stalled (UDP)" NOERROR 'aa' 1 10.96.10.1
dq @$S4 +tcp f1.$SVC A
assert_answer "answered while the API is stalled (TCP)" NOERROR 'aa' 1 10.96.12.1
wait "$BG_PID"; BG_PID=
check "POST f3 (held by the stall)" 201 "$(cat "$IT_WORK/f3.code")"
poll_answer 100 "f3 visible after the stall" A 10.96.12.3 @$S4 f3.$SVC A
check "ready during and after the stall" 200 "$(ready_code)"

# snapshot PYTHON: the whole cluster as a v1 List (for POST /fake/objects, which is never
# failed or stalled), after PYTHON edited `items` (each item with its kind)
snapshot() {
	local r
	for r in /api/v1/namespaces /api/v1/services /apis/discovery.k8s.io/v1/endpointslices /api/v1/pods; do
		timeout 10 curl -s "http://127.0.0.1:$API_PORT$r"; echo
	done | python3 -c '
import json, sys
items = []
for line in sys.stdin:
    if line.strip():
        doc = json.loads(line)
        for it in doc["items"]:
            it["kind"] = doc["kind"][:-4]
            items.append(it)
exec(sys.argv[1])
print(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))' "$1"
}
# gone_relist MODE DESC PYTHON: 410 (MODE http|event) for the next watches; the watches are
# cut and cannot come back (500s) while the cluster changes (PYTHON on the snapshot); the
# last known data is answered meanwhile; then the 500s stop, the watches meet the 410 and
# relist.
gone_relist() {
	local snap
	snap=$(snapshot "$3")
	check "$2: gone ($1) for the next 3 watches" 200 "$(fault "{\"action\":\"gone\",\"mode\":\"$1\",\"count\":3}")"
	check "$2: 500 for every request" 200 "$(fault '{"action":"error","code":500,"count":100000}')"
	check "$2: drop-watches" 200 "$(fault '{"action":"drop-watches"}')"
	check "$2: the cluster changes (POST /fake/objects)" 200 "$(api POST /fake/objects "$snap")"
}

step "fault: 410 Gone on the watch (HTTP status) => relist, correct data"
relists1=$(metric_sum dpdns_kubernetes_relists_total)
gone_relist http "410 http" 'items = [i for i in items if not (i["kind"] == "Service" and i["metadata"]["name"] == "f1")]'
dq @$S4 f1.$SVC A
assert_answer "f1 still answered (last known data) while the API fails" NOERROR 'aa' 1 10.96.12.1
check "500s stop" 200 "$(fault '{"action":"error","code":500,"count":0}')"
poll_rcode 200 "f1 NXDOMAIN after the relist" NXDOMAIN @$S4 f1.$SVC A
check_grew "dpdns_kubernetes_relists_total grew" "$relists1" 1 "$(metric_sum dpdns_kubernetes_relists_total)"
dq @$S4 f2.$SVC A
assert_answer "f2 still there after the relist" NOERROR 'aa' 1 10.96.12.2
dq @$S4 hl.$SVC A
assert_answer "hl A unchanged after the relist" NOERROR 'aa' 2 "10.244.20.1 10.244.20.2"
dq @$S4 -x 10.96.12.1
check "no PTR for f1's ClusterIP" "" "$(q_rdata PTR)"

step "fault: 410 Gone as an ERROR event => relist, correct data"
relists2=$(metric_sum dpdns_kubernetes_relists_total)
gone_relist event "410 event" '
for i in items:
    if i["kind"] == "Service" and i["metadata"]["name"] == "f2":
        i["spec"].update(clusterIP="10.96.12.22", clusterIPs=["10.96.12.22"])'
dq @$S4 f2.$SVC A
assert_answer "f2's old ClusterIP answered while the API fails" NOERROR 'aa' 1 10.96.12.2
check "500s stop" 200 "$(fault '{"action":"error","code":500,"count":0}')"
poll_answer 200 "f2's new ClusterIP after the relist" A 10.96.12.22 @$S4 f2.$SVC A
check_grew "dpdns_kubernetes_relists_total grew again" "$relists2" 1 "$(metric_sum dpdns_kubernetes_relists_total)"
fault '{"action":"clear"}' >/dev/null
check "synced" 1 "$(metric_sum dpdns_kubernetes_synced)"

step "glibc and dig +search with a pod's search path (ndots 1 from resolv.conf)"
out=$(in_client getent hosts kubernetes | awk '{ print $1, $2 }')
check "getent hosts kubernetes (search default.svc.cluster.local)" "10.96.0.1 kubernetes.default.svc.cluster.local" "$out"
out=$(in_client getent ahostsv4 dual.conf | awk '{ print $1 }' | sort -u | paste -sd ' ')
check "getent ahostsv4 dual.conf (svc.cluster.local)" 10.96.10.1 "$out"
out=$(in_client getent hosts 10.96.10.1 | awk '{ print $2 }')
check "getent hosts 10.96.10.1 (PTR)" dual.conf.svc.cluster.local "$out"
dq +search kubernetes A
assert_answer "dig +search kubernetes" NOERROR 'aa' 1 10.96.0.1
check "dig +search: the name that answered" "kubernetes.default.svc.cluster.local." "$(q_section ANSWER | awk '{ print $1 }')"
in_client getent hosts nosuchservice >/dev/null; rc=$?
check "getent hosts of an unknown name: exit 2" 2 "$rc"

step "glibc and dig +search with ndots:5"
stats_json
neg0=$(stat total.zone_negative); hits0=$(stat total.hits)
out=$(in_client env RES_OPTIONS=ndots:5 getent ahostsv4 f3.conf | awk '{ print $1 }' | sort -u | paste -sd ' ')
check "getent ahostsv4 f3.conf (ndots:5: f3.conf.default.svc.cluster.local first)" 10.96.12.3 "$out"
dq +search +ndots=5 hl.conf A
assert_answer "dig +search +ndots=5 hl.conf" NOERROR 'aa' 2 "10.244.20.1 10.244.20.2"
stats_json
check_grew "search-path NXDOMAINs from the fast path's zone answer" "$neg0" 2 "$(stat total.zone_negative)"
check_grew "then the answers from the table" "$hits0" 2 "$(stat total.hits)"
check "POST g1" 201 "$(api POST $SVCS '{"metadata":{"name":"g1","namespace":"conf"},"spec":{"clusterIP":"10.96.12.9","ports":[{"name":"http","port":80}]}}')"
for ((i = 0; i < 10; i++)); do
	out=$(in_client env RES_OPTIONS=ndots:5 getent ahostsv4 g1.conf | awk '{ print $1 }' | sort -u | paste -sd ' ')
	[ "$out" = 10.96.12.9 ] && break
	sleep 0.1
done
check "getent: a new service within a second (ndots:5)" 10.96.12.9 "$out"
check "DELETE g1" 200 "$(api DELETE $SVCS/g1)"
for ((i = 0; i < 10; i++)); do
	in_client env RES_OPTIONS=ndots:5 getent ahostsv4 g1.conf >/dev/null; rc=$?
	[ "$rc" = 2 ] && break
	sleep 0.1
done
check "getent: the deleted service not found within a second (exit 2)" 2 "$rc"
