#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Intent: the prometheus plugin's /metrics carries CoreDNS's request and response totals
# (responses labelled by rcode) that count what the fast path answered as well as the
# control plane, plus the fast path's own dpdns_fastpath_* counters; /health says OK.
. "$(dirname "$0")/lib.sh"

lab_up "$(it_corefile)"

m=$(metrics)
check_re "/metrics has coredns_dns_requests_total" '^coredns_dns_requests_total(\{| )' "$m"
check_re "/metrics has coredns_dns_responses_total" '^coredns_dns_responses_total(\{| )' "$m"
check_re "/metrics has dpdns_fastpath_ counters" '^dpdns_fastpath_[a-z_]+(\{| )' "$m"
check_re "/metrics declares its types" '^# TYPE coredns_dns_requests_total counter' "$m"
check "coredns_build_info: one sample (one source)" 1 \
	"$(printf '%s\n' "$m" | grep -c '^coredns_build_info{')"
check "coredns_build_info: one TYPE line" 1 \
	"$(printf '%s\n' "$m" | grep -c '^# TYPE coredns_build_info gauge')"

req0=$(metric_sum coredns_dns_requests_total)
a0=$(metric_sum coredns_dns_requests_total 'type="A"')
a60=$(metric_sum coredns_dns_requests_total 'family="2",type="A"')
[ "$a0" = missing ] && a0=0
[ "$a60" = missing ] && a60=0
ok0=$(metric_sum coredns_dns_responses_total 'rcode="NOERROR"')
sf0=$(metric_sum coredns_dns_responses_total 'rcode="SERVFAIL"')
rf0=$(metric_sum coredns_dns_responses_total 'rcode="REFUSED"')
# A label value that has not been seen yet has no sample: that is zero.
[ "$ok0" = missing ] && ok0=0
[ "$sf0" = missing ] && sf0=0
[ "$rf0" = missing ] && rf0=0

for i in 1 2 3 4 5; do dq @"$S4" www.it.test A; done
for i in 1 2; do dq @"$S6" nosuch.it.test A; done
dq @"$S4" www.example.com A

check_grew "coredns_dns_requests_total grew by 8" "$req0" 8 "$(metric_sum coredns_dns_requests_total)"
check_grew 'requests{type="A"} grew by 8 (the fast path counts by type)' "$a0" 8 \
	"$(metric_sum coredns_dns_requests_total 'type="A"')"
check_grew 'requests{family="2",type="A"} grew by 2 (over IPv6)' "$a60" 2 \
	"$(metric_sum coredns_dns_requests_total 'family="2",type="A"')"
check_grew 'responses{rcode="NOERROR"} grew by 5 (fast path answers)' "$ok0" 5 \
	"$(metric_sum coredns_dns_responses_total 'rcode="NOERROR"')"
check_grew 'responses{rcode="SERVFAIL"} grew by 2' "$sf0" 2 \
	"$(metric_sum coredns_dns_responses_total 'rcode="SERVFAIL"')"
check_grew 'responses{rcode="REFUSED"} grew by 1' "$rf0" 1 \
	"$(metric_sum coredns_dns_responses_total 'rcode="REFUSED"')"

h=$(timeout 5 curl -s --max-time 2 http://127.0.0.1:8080/health)
check "/health" OK "$h"
