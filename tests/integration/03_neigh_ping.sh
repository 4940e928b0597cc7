#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Intent: the fast path answers ARP and IPv6 neighbour solicitations for its addresses with
# the port's MAC (the client's neighbour table shows it usable after a query), and answers
# ICMP and ICMPv6 echo requests; its arp/nd/icmp_echo counters move.
. "$(dirname "$0")/lib.sh"

lab_up "$(it_corefile)"
stats_json; arp0=$(stat total.arp); nd0=$(stat total.nd); echo0=$(stat total.icmp_echo)

in_client ip neigh flush dev dpdns-veth1 >/dev/null 2>&1
check "neighbour table empty after flush" "" "$(in_client ip neigh show dev dpdns-veth1 | grep -E '198\.18\.0\.53|2001:db8::53')"

dq @"$S4" www.it.test A
assert_answer "A over IPv4 after flush" NOERROR '^qr aa rd$' 1 198.18.0.10
dq @"$S6" www.it.test AAAA
assert_answer "AAAA over IPv6 after flush" NOERROR '^qr aa rd$' 1 2001:db8::10

n4=$(in_client ip neigh show "$S4" dev dpdns-veth1)
n6=$(in_client ip neigh show "$S6" dev dpdns-veth1)
check_re "ARP entry for $S4 has the fast path's MAC" "lladdr $FP_MAC " "$n4"
check_re "ARP entry usable" "(REACHABLE|STALE|DELAY) *\$" "$n4"
check_re "NDP entry for $S6 has the fast path's MAC" "lladdr $FP_MAC " "$n6"
check_re "NDP entry usable" "(REACHABLE|STALE|DELAY) *\$" "$n6"

out=$(in_client ping -n -c 3 -i 0.2 -W 1 "$S4" 2>&1)
check_re "ping $S4: 3 replies" ' 3 received' "$out"
out=$(in_client ping -6 -n -c 3 -i 0.2 -W 1 "$S6" 2>&1)
check_re "ping -6 $S6: 3 replies" ' 3 received' "$out"

stats_json
check_grew "counter arp grew" "$arp0" 1 "$(stat total.arp)"
check_grew "counter nd grew" "$nd0" 1 "$(stat total.nd)"
check_grew "counter icmp_echo grew by 6" "$echo0" 6 "$(stat total.icmp_echo)"
