#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Intent: the lab itself is what it claims: the root namespace routes the lab prefixes only
# to the exception tap, the client namespace has no route out, the tap carries the server
# addresses, and `scripts/lab down` leaves nothing behind (namespace, links, netns resolv.conf,
# hugepage files of --file-prefix dpdns-lab, state directory) and can be run twice.
. "$(dirname "$0")/lib.sh"

lab_up "$(it_corefile)"

# Every root-namespace route inside or covering the lab prefixes, the default route aside.
routes() {
	{ timeout 10 ip "$1" route show root "$2"; timeout 10 ip "$1" route show match "$2"; } | grep -v '^default' |
		awk '{print $1, $2, $3}' | sort -u | tr '\n' ';' | sed 's/;$//'
}
check "root: routes for 198.18.0.0/24" "198.18.0.0/24 dev dpdns-exc0" "$(routes -4 198.18.0.0/24)"
check "root: routes for 2001:db8::/64" "2001:db8::/64 dev dpdns-exc0" "$(routes -6 2001:db8::/64)"
check_re "exception tap has 198.18.0.53/24" 'inet 198\.18\.0\.53/24' "$(timeout 10 ip -4 addr show dev dpdns-exc0)"
check_re "exception tap has 2001:db8::53/64" 'inet6 2001:db8::53/64' "$(timeout 10 ip -6 addr show dev dpdns-exc0)"
check "client: no default route (IPv4)" "" "$(in_client ip -4 route show default)"
check "client: no default route (IPv6)" "" "$(in_client ip -6 route show default)"
check "dpdns-veth0 has no address" "" "$(timeout 10 ip addr show dev dpdns-veth0 | grep -E 'inet6? ')"
check_re "lab status says ready 200" 'ready: +200' "$(timeout 20 "$LAB" status)"

timeout 60 "$LAB" down >/dev/null 2>&1; rc=$?
IT_LAB_UP=0
check "lab down" 0 "$rc"
check "namespace gone" "" "$(timeout 10 ip netns list | grep -w dpdns-client)"
check "links gone" "" "$(timeout 10 ip -br link | grep -E '^dpdns-(veth0|exc0)')"
check "netns resolv.conf gone" no "$([ -e /etc/netns/dpdns-client ] && echo yes || echo no)"
check "hugepage files gone" "" "$(ls /dev/hugepages 2>/dev/null | grep '^dpdns-labmap_')"
check "state directory gone" no "$([ -e /run/dpdns-lab ] && echo yes || echo no)"
check "no fast path or control plane left" "" "$(pgrep -a -f 'dpdns-(fastpath|controlplane).*dpdns-lab' || true)"
timeout 60 "$LAB" down >/dev/null 2>&1; rc=$?
check "lab down again (idempotent)" 0 "$rc"
