#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Intent: prefetch. With `success 1024 6 1` and `prefetch 1 1m 50%` an entry lives 6 s and
# is published to the fast path until half of it is left; the first query after that
# point reaches the control plane, is answered from its copy (TTL still counting down) and
# triggers a refresh (coredns_cache_prefetch_total grows), after which the fast path serves
# the new entry (TTL back near 6) without the entry ever expiring for clients.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/forward_lib.sh"

fwd_nsd_start
lab_up "$(fwd_corefile "$IT_WORK/Corefile" "cache {
    success 1024 6 1
    prefetch 1 1m 50%
}" "forward . 127.0.0.1:$FWD_NSD_PORT")"

dq @"$S4" www.example.test A
assert_answer "www A" NOERROR '^qr aa rd$' 1 "192.0.2.10"
check "TTL capped to 6" "6" "$(q_ttls)"
stats_json; before=$(stat cache_hits)
dq @"$S4" www.example.test A
stats_json; check_grew "before the prefetch point: fast path" "$before" 1 "$(stat cache_hits)"
sleep 3.5
pf=$(metric_sum coredns_cache_prefetch_total)
dq @"$S4" www.example.test A
assert_answer "after the prefetch point" NOERROR '^qr rd$' 1 "192.0.2.10"
check_re "answered with the remaining TTL" '^[1-3]$' "$(q_ttls)"
sleep 0.5
check_grew "coredns_cache_prefetch_total grew" "$pf" 1 "$(metric_sum coredns_cache_prefetch_total)"
stats_json; before=$(stat cache_hits)
dq @"$S4" www.example.test A
check_re "refreshed entry: TTL back near 6" '^[5-6]$' "$(q_ttls)"
stats_json; check_grew "refreshed entry answered by the fast path" "$before" 1 "$(stat cache_hits)"
