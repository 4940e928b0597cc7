#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Intent: forwarding and caching through the lab with a real upstream (nsd on 127.0.0.1 in
# the root namespace): the first answer comes from nsd through the control plane with the
# client's ID and letter case and the cache's capped TTL (30); the second comes from the
# fast path's table (cache_hits grows, AA cleared) with TTLs falling with age; NXDOMAIN and
# NODATA are cached with their SOA; a big answer is truncated over UDP without EDNS,
# fetched over TCP by the forwarder, answered whole with +bufsize=4096 and over TCP; IPv6,
# kdig, a name outside the zone (nsd's REFUSED passed through), and `dpdnsctl cache show`
# / `cache flush NAME` (the flushed name is forwarded again).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/forward_lib.sh"

fwd_nsd_start
lab_up "$(fwd_corefile "$IT_WORK/Corefile" "cache 30" "forward . 127.0.0.1:$FWD_NSD_PORT")"

step "first answer: forwarded"
dq @"$S4" wWw.Example.TEST A
assert_answer "www A (forwarded)" NOERROR '^qr aa rd$' 1 "192.0.2.10"
check "www A: owner in the client's case" "wWw.Example.TEST." "$(q_section ANSWER | awk 'NR==1{print $1}')"
check "www A: TTL capped by cache 30" "30" "$(q_ttls)"

step "second answer: from the fast path's cache"
stats_json; before=$(stat cache_hits)
dq @"$S4" www.example.test A
assert_answer "www A (cached)" NOERROR '^qr rd$' 1 "192.0.2.10"
stats_json; check_grew "cache_hits grew" "$before" 1 "$(stat cache_hits)"
ttl1=$(q_ttls)
check_re "cached TTL <= 30" '^(30|2[0-9])$' "$ttl1"
sleep 2.2
dq @"$S4" www.example.test A
ttl2=$(q_ttls)
check_re "TTL falls with age (was $ttl1)" '^([0-9]|1[0-9]|2[0-8])$' "$ttl2"
if [[ "$ttl1" =~ ^[0-9]+$ && "$ttl2" =~ ^[0-9]+$ ]]; then
	check_ge "TTL fell by >= 2" 2 $((ttl1 - ttl2))
fi

step "denial: NXDOMAIN and NODATA cached with the SOA"
dq @"$S4" nx.example.test A
assert_answer "nx (forwarded)" NXDOMAIN '^qr aa rd$' 0
check "nx: SOA in authority" "SOA" "$(q_section AUTHORITY | awk '{print $4}')"
stats_json; before=$(stat cache_hits)
dq @"$S4" nx.example.test A
assert_answer "nx (cached)" NXDOMAIN '^qr rd$' 0
check "nx cached: SOA in authority" "SOA" "$(q_section AUTHORITY | awk '{print $4}')"
dq @"$S4" www.example.test TXT
assert_answer "NODATA (forwarded)" NOERROR '^qr aa rd$' 0
dq @"$S4" www.example.test TXT
assert_answer "NODATA (cached)" NOERROR '^qr rd$' 0
check "NODATA cached: SOA in authority" "SOA" "$(q_section AUTHORITY | awk '{print $4}')"
stats_json; check_grew "cache_hits grew by the two denials" "$before" 2 "$(stat cache_hits)"

step "dpdnsctl cache show / flush"
out=$(ctl cache show)
check_re "cache show lists www A" 'www\.example\.test\. +A +NOERROR +success +30 ' "$out"
check_re "cache show lists the NXDOMAIN" 'nx\.example\.test\. +A +NXDOMAIN +denial ' "$out"
n=$(ctl --json cache show www.example.test | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')
check "cache show www.example.test: A and TXT" 2 "$n"
check_re "cache flush www.example.test" '^flushed 2 entries' "$(ctl cache flush www.example.test)"
stats_json; before=$(stat cache_hits)
dq @"$S4" www.example.test A
assert_answer "www A after the flush: forwarded again" NOERROR '^qr aa rd$' 1 "192.0.2.10"
stats_json; check "after the flush: no fast path cache hit" "$before" "$(stat cache_hits)"

step "a big answer: TC over UDP, TCP towards nsd, whole over TCP and with a big buffer"
dq @"$S4" +noedns +ignore big.example.test TXT
check "no EDNS: TC=1" "yes" "$(q_has_flag tc && echo yes || echo no)"
check "no EDNS: no records" "0" "$(q_count ANSWER)"
dq @"$S4" +tcp big.example.test TXT
assert_answer "+tcp" NOERROR '^qr (aa )?rd$' 30
dq @"$S4" +bufsize=4096 big.example.test TXT
check "+bufsize=4096: all 30 over UDP" "30" "$(q_count ANSWER)"
check "+bufsize=4096: no TC" "no" "$(q_has_flag tc && echo yes || echo no)"
dq @"$S4" big.example.test TXT
check "dig's own TCP retry: all 30" "30" "$(q_count ANSWER)"
check_ge "forwarder retried over TCP" 1 "$(metric_sum dpdns_forward_tcp_retries_total)"

step "IPv6, TCP clients, kdig, other types"
dq @"$S6" www.example.test AAAA
assert_answer "AAAA @$S6" NOERROR '^qr aa rd$' 1 "2001:db8::10"
dq @"$S4" +tcp alias.example.test A
assert_answer "CNAME chain over TCP" NOERROR '^qr aa rd$' 2
kq @"$S4" example.test MX
check "kdig MX" "NOERROR" "$(q_status)"
check_re "kdig MX: target" 'mail\.example\.test\.' "$(q_section ANSWER)"
dq @"$S4" www.other.test A
check "outside nsd's zone: nsd's REFUSED" "REFUSED" "$(q_status)"

step "metrics"
check_ge "coredns_proxy_request_duration_seconds_count" 5 \
	"$(metric_sum coredns_proxy_request_duration_seconds_count 'proxy_name="forward"')"
check_ge "coredns_cache_entries" 3 "$(metric_sum coredns_cache_entries)"
