#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Intent: frames the fast path must not answer normally, sent raw from the client namespace
# (frames.py, AF_PACKET on dpdns-veth1): each is dropped and counted under its reason, or
# answered with the RFC's error (FORMERR, NOTIMP, BADVERS) - and after each one a normal
# dig is still answered. Fragments go to the kernel through the exception tap and are
# answered by the control plane.
. "$(dirname "$0")/lib.sh"

lab_up "$(it_corefile)"

frame() { in_client python3 "$FRAMES" --dst-mac "$FP_MAC" "$@"; }

still_answered() {
	dq @"$S4" www.it.test A
	check "after $1: normal query still answered" "NOERROR 198.18.0.10" "$(q_status) $(q_rdata A)"
}

# drop_case CASE COUNTER: no reply, the drop counter grows by at least one
drop_case() {
	local c=$1 before out
	stats_json; before=$(stat "$2")
	out=$(frame "$c")
	check "$c: no reply" "reply=no" "$out"
	stats_json
	check_grew "$c: drop counter $2 grew" "$before" 1 "$(stat "$2")"
	still_answered "$c"
}

# reply_case CASE ERE: a reply matching ERE
reply_case() {
	local out
	out=$(frame "$1")
	check_re "$1: reply" "$2" "$out"
	still_answered "$1"
}

step "sanity: a well-formed raw frame is answered"
reply_case valid '^reply=yes id_ok=1 qr=1 opcode=0 rcode=NOERROR tc=0 qd=1 an=1 '

step "dropped and counted"
drop_case runt total.drops.runt
drop_case ip_len total.drops.ip_length
drop_case ip_csum total.drops.ip_checksum
drop_case udp_csum total.drops.udp_checksum
drop_case qr1 total.drops.dns

step "IPv4 fragments: reassembled by the kernel, answered by the control plane"
stats_json; exc0=$(stat total.exception_tx)
reply_case frag '^reply=yes id_ok=1 qr=1 opcode=0 rcode=NOERROR tc=0 qd=1 an=1 '
stats_json
check_grew "frag: both fragments went to the exception port" "$exc0" 2 "$(stat total.exception_tx)"

step "answered with an error"
reply_case qd0 '^reply=yes id_ok=1 qr=1 opcode=0 rcode=FORMERR .*qd=0 an=0 '
reply_case qd2 '^reply=yes id_ok=1 qr=1 opcode=0 rcode=FORMERR .* an=0 '
reply_case comp_loop '^reply=yes id_ok=1 qr=1 opcode=0 rcode=FORMERR .* an=0 '
reply_case opcode2 '^reply=yes id_ok=1 qr=1 opcode=2 rcode=NOTIMP .* an=0 '
reply_case edns1 '^reply=yes id_ok=1 qr=1 opcode=0 rcode=BADVERS .* an=0 .*opt=1 edns_version=0$'

step "fast path still healthy"
check "/ready" 200 "$(ready_code)"
