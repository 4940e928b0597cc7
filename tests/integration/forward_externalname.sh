#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Intent: ExternalName services whose target is outside the cluster, in the default
# Kubernetes Corefile's shape (kubernetes, forward, cache, loop, loadbalance) through the
# real fast path: the answer is the CNAME first, then the target's records from the
# upstream (nsd serving example.test) with their own TTLs, over UDP and TCP, for A and
# AAAA, a CNAME chain upstream, an NXDOMAIN target (CoreDNS keeps the CNAME, NOERROR);
# the ExternalName itself never answered by the fast path, the target (cached) is; loop
# stays quiet with a sane upstream. Then a reload into a Corefile that forwards to the
# server itself: loop detects it, logs CoreDNS's FATAL line and the control plane exits.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/forward_lib.sh"

. "$(dirname "$0")/k8s_lib.sh"
if [ ! -f "$FAKE" ] || ! command -v python3 >/dev/null; then
	echo "SKIP $IT_NAME: no fake API server or python3"
	trap - EXIT
	rm -rf "$IT_WORK"
	exit 77
fi
ext_cleanup() {
	k8s_cleanup
	fwd_cleanup
}
trap 'rc=$?; ext_cleanup; it_exit $rc' EXIT

svc_ext() {
	printf '{"apiVersion":"v1","kind":"Service","metadata":{"name":"%s","namespace":"ns1"},' "$1"
	printf '"spec":{"type":"ExternalName","externalName":"%s"}}' "$2"
}

# corefile UPSTREAM: the default Kubernetes Corefile's shape, forwarding to UPSTREAM
corefile() {
	k8s_block "" "    forward . $1 {
        max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance" >"$IT_WORK/Corefile"
}

fake_start
fwd_nsd_start
check "POST ext-www" 201 "$(api POST /api/v1/namespaces/ns1/services "$(svc_ext ext-www www.example.test)")"
check "POST ext-alias" 201 "$(api POST /api/v1/namespaces/ns1/services "$(svc_ext ext-alias alias.example.test)")"
check "POST ext-nx" 201 "$(api POST /api/v1/namespaces/ns1/services "$(svc_ext ext-nx nope.example.test)")"
corefile "127.0.0.1:$FWD_NSD_PORT"
lab_up "$IT_WORK/Corefile" --search "ns1.svc.cluster.local svc.cluster.local cluster.local"

step "ExternalName outside the cluster: CNAME, then the target's records"
stats_json
cp0=$(stat total.missed)
dq @$S4 ext-www.ns1.svc.cluster.local A
assert_answer "A" NOERROR 'aa' 2
check "A: CNAME first, then the target's A (TTL 300 capped by cache 30 to 30)" \
	"ext-www.ns1.svc.cluster.local. 30 IN CNAME www.example.test.|www.example.test. 30 IN A 192.0.2.10" \
	"$(q_section ANSWER | paste -sd '|')"
dq @$S4 ext-www.ns1.svc.cluster.local AAAA
assert_answer "AAAA" NOERROR 'aa' 2
check "AAAA records" "CNAME www.example.test.|AAAA 2001:db8::10" \
	"$(q_section ANSWER | awk '{print $4, $5}' | paste -sd '|')"
dq +tcp @$S4 ext-www.ns1.svc.cluster.local A
assert_answer "A over TCP" NOERROR 'aa' 2
check "TCP records" "CNAME www.example.test.|A 192.0.2.10" \
	"$(q_section ANSWER | awk '{print $4, $5}' | paste -sd '|')"
dq @$S4 ext-alias.ns1.svc.cluster.local A
assert_answer "target is a CNAME upstream" NOERROR 'aa' 3
check "the upstream's chain follows ours" \
	"ext-alias.ns1.svc.cluster.local. CNAME alias.example.test.|alias.example.test. CNAME www.example.test.|www.example.test. A 192.0.2.10" \
	"$(q_section ANSWER | awk '{print $1, $4, $5}' | paste -sd '|')"
dq @$S4 ext-nx.ns1.svc.cluster.local A
assert_answer "NXDOMAIN target: CNAME kept, NOERROR (CoreDNS)" NOERROR 'aa' 1 nope.example.test.
dq +search @$S4 ext-www A
assert_answer "through the search path (glibc-style short name)" NOERROR 'aa' 2
for i in 1 2 3; do dq @$S4 ext-www.ns1.svc.cluster.local A; done
stats_json
check_grew "ExternalName answers come from the control plane" "$cp0" 6 "$(stat total.missed)"
hits0=$(stat cache_hits)
dq @$S4 www.example.test A
assert_answer "the target itself (cached)" NOERROR '' 1 192.0.2.10
stats_json
check_grew "the cached target is a fast path answer" "$hits0" 1 "$(stat cache_hits)"
check "loop stayed quiet, the control plane runs" 200 "$(ready_code)"

step "a forwarding loop: reload into 'forward . $S4' (the server itself)"
cp_pid=$(cat /run/dpdns-lab/controlplane.pid 2>/dev/null)
corefile "$S4"
ctl reload >/dev/null 2>&1
for ((i = 0; i < 100; i++)); do
	kill -0 "$cp_pid" 2>/dev/null || break
	sleep 0.1
done
check "the control plane exited" gone "$(kill -0 "$cp_pid" 2>/dev/null && echo running || echo gone)"
log=$(timeout 10 "$LAB" logs 2>&1)
check_re "CoreDNS's FATAL line" \
	'\[FATAL\] plugin/loop: Loop \([0-9.]+:[0-9]+ -> :53\) detected for zone "\.", see https://coredns\.io/plugins/loop#troubleshooting\. Query: "HINFO [0-9]+\.[0-9]+\."' \
	"$log"
