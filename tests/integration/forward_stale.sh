#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Intent: the upstream goes away. Entries cached for 2 s (success 1024 2 1) with
# serve_stale: while nsd answers they are refreshed normally; once nsd is stopped an
# uncached name answers SERVFAIL (after the forwarder's retries), and an expired entry is
# served stale at once with TTL 0 (coredns_cache_served_stale_total grows); when nsd is
# back the stale entry is refreshed and the fast path serves it again with a real TTL.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/forward_lib.sh"

fwd_nsd_start
port=$FWD_NSD_PORT
lab_up "$(fwd_corefile "$IT_WORK/Corefile" "cache {
    success 1024 2 1
    denial 1024 2 1
    serve_stale 1h
}" "forward . 127.0.0.1:$port")"

step "cached for 2 s while nsd answers"
dq @"$S4" www.example.test A
assert_answer "www A" NOERROR '^qr aa rd$' 1 "192.0.2.10"
check "TTL capped to 2" "2" "$(q_ttls)"

step "nsd stopped"
fwd_nsd_stop
dq @"$S4" +time=8 +tries=1 mail.example.test A
check "uncached name with the upstream down: SERVFAIL" "SERVFAIL" "$(q_status)"
sleep 2.5
before=$(metric_sum coredns_cache_served_stale_total)
dq @"$S4" www.example.test A
assert_answer "expired entry served stale" NOERROR '^qr rd$' 1 "192.0.2.10"
check "stale answer: TTL 0" "0" "$(q_ttls)"
check_grew "coredns_cache_served_stale_total grew" "$before" 1 \
	"$(metric_sum coredns_cache_served_stale_total)"
dq @"$S4" +tcp www.example.test A
assert_answer "stale over TCP" NOERROR '^qr rd$' 1 "192.0.2.10"

step "nsd back on the same port: refreshed"
fwd_nsd_start "$port"
refreshed=no
for ((i = 0; i < 30; i++)); do
	dq @"$S4" www.example.test A
	ttl=$(q_ttls)
	if [[ "$ttl" =~ ^[12]$ ]]; then refreshed=yes; break; fi
	sleep 0.2
done
check "refreshed after nsd came back (TTL 1..2)" "yes" "$refreshed"
stats_json; before=$(stat cache_hits)
dq @"$S4" www.example.test A
stats_json
if [[ "$(q_ttls)" =~ ^[12]$ ]]; then
	check_grew "refreshed entry answered by the fast path" "$before" 1 "$(stat cache_hits)"
else
	pass "entry expired again between the queries (TTL $(q_ttls)); fast path check skipped"
fi
