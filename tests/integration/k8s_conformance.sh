#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Intent: conformance of the kubernetes plugin with the Kubernetes DNS specification (schema
# 1.1.0) and CoreDNS's answering rules, one step per rule of sections 1 and 2 of
# /work/shared/reference/kubernetes-dns.md, through the real fast path in the lab, with dig
# and kdig, asserting on what a user sees: rcode, flags, sections, TTLs, owner names,
# targets, and the fast path's counters (hits, nodata, zone_negative) where it answers.
# Cluster: tests/k8s/objects/conformance.json served by tests/k8s/fake-apiserver.
# Three server blocks share the cluster: cluster.local (the default Kubernetes Corefile's
# shape, ttl 30, pods insecure), k8s5.test + 198.in-addr.arpa (no ttl: default 5, ignore
# empty_service, no fallthrough) and k8s600.test (ttl 600: the SOA TTL is capped at 300).
. "$(dirname "$0")/lib.sh"
K8S_OBJECTS=$IT_SRC/tests/k8s/objects/conformance.json
. "$(dirname "$0")/k8s_lib.sh"
k8s_require kdig
trap 'rc=$?; k8s_cleanup; it_exit $rc' EXIT

T0=$(date +%s)
fake_start
{ k8s_block; cat <<EOF
k8s5.test:53 198.in-addr.arpa:53 {
    kubernetes k8s5.test 198.in-addr.arpa {
        endpoint http://127.0.0.1:$API_PORT
        ignore empty_service
    }
}
k8s600.test:53 {
    kubernetes k8s600.test {
        endpoint http://127.0.0.1:$API_PORT
        ttl 600
    }
}
EOF
} >"$IT_WORK/Corefile"
lab_up "$IT_WORK/Corefile" --search "default.svc.cluster.local svc.cluster.local cluster.local"

Z=cluster.local
SVC=conf.svc.$Z
SOA30='^cluster\.local\. 30 IN SOA ns\.dns\.cluster\.local\. hostmaster\.cluster\.local\. [0-9]+ 7200 1800 86400 30$'

# Records of a section as "owner type rdata..." (TTL and class left out), sorted, '|'-joined.
sect() { q_section "$1" | awk '{ $2 = ""; $3 = ""; print }' | tr -s ' ' | sort | paste -sd '|'; }
# SRV answers as "prio weight port target", sorted, '|'-joined.
srvs() { q_section ANSWER | awk '$4 == "SRV" { print $5, $6, $7, $8 }' | sort | paste -sd '|'; }
# check_neg DESC RCODE SOA_ERE: a negative answer (NXDOMAIN or NODATA) with the zone's SOA
check_neg() {
	assert_answer "$1" "$2" '^qr aa rd$' 0
	check "$1: one authority record" 1 "$(q_count AUTHORITY)"
	check_re "$1: SOA in authority" "$3" "$(q_section AUTHORITY)"
}
counters() { stats_json; C_HITS=$(stat total.hits); C_NODATA=$(stat total.nodata); C_NEG=$(stat total.zone_negative); }

step "dns-version.<zone> TXT \"1.1.0\", TTL 28800"
kq @$S4 dns-version.$Z TXT
assert_answer "dns-version (kdig)" NOERROR '^qr aa rd$' 1 '"1.1.0"'
check "dns-version TTL" 28800 "$(q_ttls)"

step "ClusterIP service: <svc>.<ns>.svc.<zone> A and AAAA (dual stack)"
counters
H0=$C_HITS
dq @$S4 dual.$SVC A
assert_answer "dual A" NOERROR '^qr aa rd$' 1 10.96.10.1
check "dual A TTL (ttl 30)" 30 "$(q_ttls)"
kq @$S4 dual.$SVC AAAA
assert_answer "dual AAAA (kdig)" NOERROR '^qr aa rd$' 1 fd00:10:96::a01
kq @$S6 dual.$SVC AAAA
assert_answer "dual AAAA (kdig over IPv6)" NOERROR '^qr aa rd$' 1 fd00:10:96::a01
dq @$S4 plain.$SVC A
assert_answer "plain (single stack, unnamed port) A" NOERROR 'aa' 1 10.96.10.2
dq @$S4 plain.$SVC AAAA
assert_answer "plain AAAA: NODATA (no IPv6 ClusterIP)" NOERROR 'aa' 0
counters
check_grew "ClusterIP answers come from the fast path's table (hits)" "$H0" 4 "$C_HITS"

step "named port: _<port>._<proto>.<svc> SRV 0 floor(100/N) port <svc>., additional A/AAAA"
kq @$S4 _http._tcp.dual.$SVC SRV
assert_answer "_http._tcp.dual SRV (kdig)" NOERROR 'aa' 1
check "SRV record (2 ClusterIPs: N=2, weight 50, dedup on target+port)" \
	"0 50 80 dual.conf.svc.cluster.local." "$(srvs)"
check "SRV additional: the target's A and AAAA" \
	"dual.conf.svc.cluster.local. A 10.96.10.1|dual.conf.svc.cluster.local. AAAA fd00:10:96::a01" "$(sect ADDITIONAL)"
dq @$S4 _dns._udp.dual.$SVC SRV
check "_dns._udp.dual SRV (UDP port)" "0 50 53 dual.conf.svc.cluster.local." "$(srvs)"

step "unnamed ports give no SRV"
dq @$S4 _http._tcp.plain.$SVC SRV
check_neg "_http._tcp.plain (only an unnamed port)" NXDOMAIN "$SOA30"

step "bare-name SRV returns all ports (extension)"
kq @$S4 dual.$SVC SRV
assert_answer "dual SRV (kdig)" NOERROR 'aa' 2
check "all ports, N=4 (2 IPs x 2 ports) => weight 25, deduplicated" \
	"0 25 53 dual.conf.svc.cluster.local.|0 25 80 dual.conf.svc.cluster.local." "$(srvs)"
check "additional: A and AAAA once each" \
	"dual.conf.svc.cluster.local. A 10.96.10.1|dual.conf.svc.cluster.local. AAAA fd00:10:96::a01" "$(sect ADDITIONAL)"

step "PTR of a ClusterIP -> service name"
dq @$S4 -x 10.96.10.1
assert_answer "PTR 10.96.10.1" NOERROR '^qr aa rd$' 1 dual.conf.svc.cluster.local.
kq @$S4 -x fd00:10:96::a01
assert_answer "PTR fd00:10:96::a01 (kdig)" NOERROR 'aa' 1 dual.conf.svc.cluster.local.
check "PTR TTL" 30 "$(q_ttls)"

step "headless: one A/AAAA per ready endpoint (ready absent = ready, not-ready excluded)"
counters
H0=$C_HITS
dq @$S4 hl.$SVC A
assert_answer "hl A: 10.244.20.1 (ready) and .2 (conditions {}), not .3 (ready false)" \
	NOERROR '^qr aa rd$' 2 "10.244.20.1 10.244.20.2"
kq @$S4 hl.$SVC AAAA
assert_answer "hl AAAA (kdig; one endpoint with conditions {serving} only)" \
	NOERROR 'aa' 2 "fd00:10:244:20:: fd00:10:244::21"

step "headless with no ready endpoints => NXDOMAIN"
dq @$S4 nready.$SVC A
check_neg "nready (its only endpoint not ready)" NXDOMAIN "$SOA30"
kq @$S4 noeps.$SVC A
check_neg "noeps (no EndpointSlice at all, kdig)" NXDOMAIN "$SOA30"

step "<hostname>.<svc>: endpoint with a hostname"
dq @$S4 hl-0.hl.$SVC A
assert_answer "hl-0.hl A" NOERROR '^qr aa rd$' 1 10.244.20.1
dq @$S4 hl-2.hl.$SVC A
check_neg "hl-2.hl (endpoint not ready)" NXDOMAIN "$SOA30"

step "dashed-IP endpoint names (no hostname): IPv4, IPv6 with '--' and a trailing '0'"
kq @$S4 10-244-20-2.hl.$SVC A
assert_answer "10-244-20-2.hl A (kdig)" NOERROR 'aa' 1 10.244.20.2
dq @$S4 fd00-10-244--21.hl.$SVC AAAA
assert_answer "fd00-10-244--21.hl AAAA ('::' -> '--')" NOERROR 'aa' 1 fd00:10:244::21
dq @$S4 fd00-10-244-20--0.hl.$SVC AAAA
assert_answer "fd00-10-244-20--0.hl AAAA (trailing '-' gets '0')" NOERROR 'aa' 1 fd00:10:244:20::
counters
check_grew "headless and endpoint answers come from the fast path's table (hits)" "$H0" 5 "$C_HITS"

step "headless SRV: one per ready endpoint x named port, target <hostname>.<svc>"
kq @$S4 _db._tcp.hl.$SVC SRV
assert_answer "_db._tcp.hl SRV (kdig)" NOERROR 'aa' 4
check "SRV records (N=4 => weight 25)" "$(printf '%s|' \
	"0 25 5432 10-244-20-2.hl.conf.svc.cluster.local." \
	"0 25 5432 fd00-10-244--21.hl.conf.svc.cluster.local." \
	"0 25 5432 fd00-10-244-20--0.hl.conf.svc.cluster.local." \
	"0 25 5432 hl-0.hl.conf.svc.cluster.local." | sed 's/|$//')" "$(srvs)"
check "SRV additional: each target's address" "$(printf '%s|' \
	"10-244-20-2.hl.conf.svc.cluster.local. A 10.244.20.2" \
	"fd00-10-244--21.hl.conf.svc.cluster.local. AAAA fd00:10:244::21" \
	"fd00-10-244-20--0.hl.conf.svc.cluster.local. AAAA fd00:10:244:20::" \
	"hl-0.hl.conf.svc.cluster.local. A 10.244.20.1" | sed 's/|$//')" "$(sect ADDITIONAL)"
dq @$S4 _metrics._tcp.hl.$SVC SRV
check "_metrics._tcp.hl: the other named port, same targets" 4 \
	"$(q_section ANSWER | awk '$4 == "SRV" && $5 == 0 && $6 == 25 && $7 == 9187' | wc -l)"

step "PTR of an endpoint IP -> <hostname>.<svc>"
dq @$S4 -x 10.244.20.1
assert_answer "PTR 10.244.20.1" NOERROR 'aa' 1 hl-0.hl.conf.svc.cluster.local.
kq @$S4 -x 10.244.20.2
assert_answer "PTR 10.244.20.2 (kdig, dashed name)" NOERROR 'aa' 1 10-244-20-2.hl.conf.svc.cluster.local.
dq @$S4 -x fd00:10:244:20::
assert_answer "PTR fd00:10:244:20::" NOERROR 'aa' 1 fd00-10-244-20--0.hl.conf.svc.cluster.local.

step "one PTR per distinct selecting service"
kq @$S4 -x 10.244.30.1
assert_answer "PTR 10.244.30.1 (alpha: two slices, beta: one)" NOERROR 'aa' 2 \
	"10-244-30-1.alpha.conf.svc.cluster.local. 10-244-30-1.beta.conf.svc.cluster.local."

step "ExternalName: CNAME <extname>., TTL = ttl"
dq @$S4 extn.$SVC CNAME
assert_answer "extn CNAME" NOERROR '^qr aa rd$' 1 www.example.org.
check "CNAME TTL (ttl 30)" 30 "$(q_ttls)"
kq @$S4 extn.conf.svc.k8s5.test CNAME
assert_answer "extn CNAME in k8s5.test (kdig)" NOERROR 'aa' 1 www.example.org.
check "CNAME TTL (no ttl: default 5)" 5 "$(q_ttls)"

step "ExternalName with an in-zone target: resolved internally, CNAME first"
dq @$S4 alias.$SVC A
assert_answer "alias A" NOERROR 'aa' 2
check "CNAME first, then the target's A" \
	"alias.conf.svc.cluster.local. CNAME dual.conf.svc.cluster.local.|dual.conf.svc.cluster.local. A 10.96.10.1" \
	"$(q_section ANSWER | awk '{ print $1, $4, $5 }' | paste -sd '|')"

step "IP-valued ExternalName is ignored => NXDOMAIN"
kq @$S4 ipext.$SVC A
check_neg "ipext (externalName 192.0.2.5, kdig)" NXDOMAIN "$SOA30"

step "ClusterIP service with no endpoints still answers"
dq @$S4 lonely.$SVC A
assert_answer "lonely A" NOERROR 'aa' 1 10.96.10.3

step "ignore empty_service: a service without endpoints => NXDOMAIN"
dq @$S4 lonely.conf.svc.k8s5.test A
check_neg "lonely in k8s5.test" NXDOMAIN \
	'^k8s5\.test\. 5 IN SOA ns\.dns\.k8s5\.test\. hostmaster\.k8s5\.test\. [0-9]+ 7200 1800 86400 5$'
dq @$S4 dual.conf.svc.k8s5.test A
assert_answer "dual in k8s5.test (has endpoints)" NOERROR 'aa' 1 10.96.10.1

step "TTL default 5 when ttl is absent"
check "dual A TTL in k8s5.test" 5 "$(q_ttls)"

step "endpoint name under a ClusterIP service resolves (extension)"
kq @$S4 10-244-10-1.dual.$SVC A
assert_answer "10-244-10-1.dual A (kdig)" NOERROR 'aa' 1 10.244.10.1

step "pods insecure: a-b-c-d.<ns>.pod.<zone>"
dq @$S4 10-244-20-1.conf.pod.$Z A
assert_answer "10-244-20-1.conf.pod A" NOERROR 'aa' 1 10.244.20.1
check "pod A TTL" 30 "$(q_ttls)"

step "last label must be svc|pod, else NXDOMAIN"
counters
N0=$C_NEG
dq @$S4 dual.conf.foo.$Z A
check_neg "dual.conf.foo.cluster.local" NXDOMAIN "$SOA30"
kq @$S4 foo.$Z A
check_neg "foo.cluster.local (kdig)" NXDOMAIN "$SOA30"

step "too many labels => NXDOMAIN"
dq @$S4 x.hl-0.hl.$SVC A
check_neg "x.hl-0.hl (one label more than an endpoint)" NXDOMAIN "$SOA30"
kq @$S4 a.b.dual.$SVC A
check_neg "a.b.dual (two labels but no _port._proto, kdig)" NXDOMAIN "$SOA30"
dq @$S4 x._http._tcp.dual.$SVC SRV
check_neg "x._http._tcp.dual (one label more than a port)" NXDOMAIN "$SOA30"

step "bare svc / bare pod => NODATA"
dq @$S4 svc.$Z A
check_neg "svc.cluster.local" NOERROR "$SOA30"
kq @$S4 pod.$Z A
check_neg "pod.cluster.local (kdig)" NOERROR "$SOA30"

step "<ns>.svc.<zone>: existing namespace NODATA, unknown namespace NXDOMAIN"
counters
D0=$C_NODATA
dq @$S4 conf.svc.$Z A
check_neg "conf.svc (namespace with services)" NOERROR "$SOA30"
kq @$S4 quiet.svc.$Z A
check_neg "quiet.svc (namespace without services, kdig)" NOERROR "$SOA30"
dq @$S4 nons.svc.$Z A
check_neg "nons.svc (no such namespace)" NXDOMAIN "$SOA30"
dq @$S4 nope.$SVC A
check_neg "nope.conf.svc (no such service)" NXDOMAIN "$SOA30"

step "existing name, missing type => NODATA, SOA: AA, TTL min(ttl,300), ns.dns, hostmaster, 7200 1800 86400 ttl"
dq @$S4 dual.$SVC MX
check_neg "dual MX" NOERROR "$SOA30"
kq @$S4 hl-0.hl.$SVC AAAA
check_neg "hl-0.hl AAAA (kdig; the endpoint is IPv4)" NOERROR "$SOA30"
dq @$S4 dual.conf.svc.k8s600.test TXT
check_neg "dual TXT in k8s600.test (ttl 600: SOA TTL 300, minimum 600)" NOERROR \
	'^k8s600\.test\. 300 IN SOA ns\.dns\.k8s600\.test\. hostmaster\.k8s600\.test\. [0-9]+ 7200 1800 86400 600$'
dq @$S4 dual.conf.svc.k8s600.test A
check "TTL 600 in k8s600.test" 600 "$(q_ttls)"
counters
check_grew "NODATA answered by the fast path (nodata)" "$D0" 4 "$C_NODATA"
check_grew "NXDOMAIN answered by the fast path's zone answer (zone_negative)" "$N0" 7 "$C_NEG"

step "SOA serial = unix time of the last API change"
dq @$S4 nope.$SVC A
serial=$(q_section AUTHORITY | awk '{ print $7 }')
check_re "serial is a number" '^[0-9]+$' "$serial"
check_ge "serial >= the time the fake API server was started" "$T0" "${serial:-0}"
check_ge "serial <= now" "${serial:-0}" "$(date +%s)"

step "unknown IP without fallthrough => NXDOMAIN with the reverse zone's SOA"
kq @$S4 -x 198.9.9.9
check_neg "PTR 198.9.9.9 in 198.in-addr.arpa (kdig)" NXDOMAIN \
	'^198\.in-addr\.arpa\. 5 IN SOA ns\.dns\.198\.in-addr\.arpa\. hostmaster\.198\.in-addr\.arpa\. [0-9]+ 7200 1800 86400 5$'

step "owner name echoes the query's case"
# (dig here: kdig sends the name in lower case)
dq @$S4 DuAl.CoNf.SvC.Cluster.Local A
assert_answer "DuAl.CoNf.SvC.Cluster.Local A" NOERROR 'aa' 1 10.96.10.1
check "owner" "DuAl.CoNf.SvC.Cluster.Local." "$(q_section ANSWER | awk '{ print $1 }')"
dq @$S4 HL.conf.SVC.cluster.LOCAL A
check "headless owner" "HL.conf.SVC.cluster.LOCAL.|HL.conf.SVC.cluster.LOCAL." \
	"$(q_section ANSWER | awk '{ print $1 }' | paste -sd '|')"
dq @$S4 NoPe.Conf.Svc.Cluster.Local A
check "NXDOMAIN keeps the question's case" "NoPe.Conf.Svc.Cluster.Local." \
	"$(printf '%s\n' "$Q_OUT" | awk '/^;; QUESTION SECTION:/ { getline; sub(/^;/, ""); print $1 }')"
dq @$S4 1.10.96.10.IN-ADDR.ARPA PTR
assert_answer "PTR in upper case" NOERROR 'aa' 1 dual.conf.svc.cluster.local.
check "PTR owner" "1.10.96.10.IN-ADDR.ARPA." "$(q_section ANSWER | awk '{ print $1 }')"

step "SRV targets: object names + zone in the query's case"
dq @$S4 _HTTP._Tcp.Dual.Conf.SVC.Cluster.LOCAL SRV
assert_answer "mixed-case SRV" NOERROR 'aa' 1
check "SRV owner" "_HTTP._Tcp.Dual.Conf.SVC.Cluster.LOCAL." "$(q_section ANSWER | awk '{ print $1 }')"
check "SRV target: object names, zone as asked" "0 50 80 dual.conf.svc.Cluster.LOCAL." "$(srvs)"
check "additional owners: the target" \
	"dual.conf.svc.Cluster.LOCAL. A 10.96.10.1|dual.conf.svc.Cluster.LOCAL. AAAA fd00:10:96::a01" "$(sect ADDITIONAL)"
dq @$S4 _db._tcp.hl.conf.svc.CLUSTER.local SRV
check "headless SRV targets: zone as asked" "$(printf '%s|' \
	"0 25 5432 10-244-20-2.hl.conf.svc.CLUSTER.local." \
	"0 25 5432 fd00-10-244--21.hl.conf.svc.CLUSTER.local." \
	"0 25 5432 fd00-10-244-20--0.hl.conf.svc.CLUSTER.local." \
	"0 25 5432 hl-0.hl.conf.svc.CLUSTER.local." | sed 's/|$//')" "$(srvs)"

step "apex SOA and NS"
kq @$S4 $Z SOA
assert_answer "cluster.local SOA (kdig)" NOERROR '^qr aa rd$' 1
check_re "apex SOA record" "$SOA30" "$(q_section ANSWER)"
dq @$S4 $Z NS
assert_answer "cluster.local NS" NOERROR '^qr aa rd$' 1 ns.dns.cluster.local.
dq @$S4 k8s600.test SOA
check_re "k8s600.test SOA (TTL capped at 300)" \
	'^k8s600\.test\. 300 IN SOA ns\.dns\.k8s600\.test\. hostmaster\.k8s600\.test\. [0-9]+ 7200 1800 86400 600$' \
	"$(q_section ANSWER)"

step "AXFR and IXFR REFUSED"
kq @$S4 +tcp $Z AXFR
check_re "kdig AXFR over TCP: REFUSED" "replied with error 'REFUSED'" "$Q_OUT"
kq @$S4 $Z IXFR=1
check_re "kdig IXFR (TCP): REFUSED" "replied with error 'REFUSED'" "$Q_OUT"
check_re "kdig IXFR went over TCP" '\(TCP\)' "$Q_OUT"
dq @$S4 +tcp $Z AXFR
check_re "dig AXFR: transfer failed" 'Transfer failed|REFUSED' "$Q_OUT"

step "answers over TCP equal UDP's"
kq @$S4 +tcp dual.$SVC A
assert_answer "dual A over TCP (kdig)" NOERROR '^qr aa rd$' 1 10.96.10.1
dq @$S6 +tcp hl.$SVC AAAA
assert_answer "hl AAAA over TCP/IPv6" NOERROR 'aa' 2 "fd00:10:244:20:: fd00:10:244::21"

step "search path with ndots:5 (a pod's resolv.conf): NXDOMAIN from the zone answer, then the hit"
counters
N0=$C_NEG; H0=$C_HITS
out=$(in_client env RES_OPTIONS=ndots:5 getent ahostsv4 dual.conf | awk '{ print $1 }' | sort -u | paste -sd ' ')
check "getent ahostsv4 dual.conf (ndots:5, search default.svc.cluster.local ...)" 10.96.10.1 "$out"
dq +search +ndots=5 dual.conf A
assert_answer "dig +search +ndots=5 dual.conf" NOERROR 'aa' 1 10.96.10.1
check "dig +search: the name that answered" "dual.conf.svc.cluster.local." "$(q_section ANSWER | awk '{ print $1 }')"
counters
check_grew "search-path NXDOMAIN (dual.conf.default.svc...) from the zone answer" "$N0" 2 "$C_NEG"
check_grew "then the service from the table" "$H0" 2 "$C_HITS"
