#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Intent: what the kubernetes plugin publishes is answered by the fast path itself:
# services and endpoints from table entries (hits), existing names with another type
# from the exists-marker (nodata), and search-path misses like
# api.github.com.ns1.svc.cluster.local from the zone's NXDOMAIN answer (zone_neg), with
# cluster.local and in-addr.arpa as server block zones. The cluster has no out-of-zone
# ExternalName (it is deleted first): such a name needs the control plane, and without
# cp_sync_zone in the engine it takes the zone answer away.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/k8s_lib.sh"
k8s_require
trap 'rc=$?; k8s_cleanup; it_exit $rc' EXIT

fake_start
check "delete the out-of-zone ExternalName" 200 "$(api DELETE /api/v1/namespaces/ns2/services/ext)"

cat >"$IT_WORK/Corefile" <<EOF
cluster.local:53 in-addr.arpa:53 {
    health 127.0.0.1:8080
    ready 127.0.0.1:8181
    prometheus 127.0.0.1:9153
    kubernetes cluster.local in-addr.arpa {
        endpoint http://127.0.0.1:$API_PORT
    }
}
EOF
lab_up "$IT_WORK/Corefile" --search "ns1.svc.cluster.local svc.cluster.local cluster.local"

stats_json
hits0=$(stat total.hits); nodata0=$(stat total.nodata); neg0=$(stat total.zone_negative); missed0=$(stat total.missed)
for n in web.ns1 api.ns1 db.ns1 kubernetes.default; do
	dq @$S4 $n.svc.cluster.local A
	assert_answer "$n A" NOERROR 'aa' 1
done
for n in ns1.svc.cluster.local web.ns1.svc.cluster.local; do
	dq @$S4 $n MX
	assert_answer "$n MX: NODATA" NOERROR 'aa' 0
done
for n in api.github.com.ns1.svc.cluster.local api.github.com.svc.cluster.local \
	api.github.com.cluster.local www.example.org.ns2.svc.cluster.local 9.9.9.9.in-addr.arpa; do
	dq @$S4 $n A
	assert_answer "$n: NXDOMAIN" NXDOMAIN 'aa' 0
	check_re "$n: SOA in authority" ' IN SOA ns\.dns\.' "$(q_section AUTHORITY)"
done
stats_json
check_grew "answers from table entries (hits)" "$hits0" 4 "$(stat total.hits)"
check_grew "NODATA from exists-markers" "$nodata0" 2 "$(stat total.nodata)"
check_grew "search-path misses from the zone answer (zone_neg)" "$neg0" 5 "$(stat total.zone_negative)"
check "nothing went to the control plane" "$missed0" "$(stat total.missed)"

# A new service: published incrementally, answered by the fast path.
check "create a service" 201 "$(api POST /api/v1/namespaces/ns1/services \
	'{"metadata":{"name":"fresh","namespace":"ns1"},"spec":{"clusterIP":"10.96.9.9","ports":[{"name":"http","port":80}]}}')"
poll_answer 10 "new service within a second" A 10.96.9.9 @$S4 fresh.ns1.svc.cluster.local A
stats_json
missed1=$(stat total.missed)
dq @$S4 fresh.ns1.svc.cluster.local A
dq @$S4 9.9.96.10.in-addr.arpa PTR
assert_answer "its PTR" NOERROR 'aa' 1 fresh.ns1.svc.cluster.local.
stats_json
check "the new names come from the table" "$missed1" "$(stat total.missed)"
