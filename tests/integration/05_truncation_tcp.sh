#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Intent: an answer larger than the client accepts (big.it.test has 40 A records, ~700 bytes)
# comes back with TC=1 within 512 bytes without EDNS (and within an advertised 512), whole
# with +bufsize=4096, and whole over TCP - TCP goes through the exception tap to the control
# plane, over IPv4 and IPv6. dig's own retry over TCP after TC=1 gets everything too.
. "$(dirname "$0")/lib.sh"

lab_up "$(it_corefile)"
ALL40=$(for i in $(seq 1 40); do echo 198.18.1.$i; done | sort | tr '\n' ' ' | sed 's/ $//')
stats_json; tr0=$(stat total.truncated)

for srv in "$S4" "$S6"; do
	dq @"$srv" +noedns +ignore big.it.test A
	check "no EDNS @$srv: rcode" NOERROR "$(q_status)"
	check_re "no EDNS @$srv: TC=1" '(^| )tc( |$)' "$(q_flags)"
	size=$(q_size)
	check_re "no EDNS @$srv: reply size known" '^[0-9]+$' "$size"
	[ -n "$size" ] && check_ge "no EDNS @$srv: reply fits 512 bytes (512 - size >= 0)" 0 $((512 - size))

	dq @"$srv" +bufsize=512 +ignore big.it.test A
	check_re "EDNS 512 @$srv: TC=1" '(^| )tc( |$)' "$(q_flags)"

	dq @"$srv" +bufsize=4096 big.it.test A
	assert_answer "+bufsize=4096 @$srv" NOERROR '^qr aa rd$' 40 "$ALL40"

	dq @"$srv" +tcp big.it.test A
	assert_answer "+tcp big @$srv" NOERROR '^qr aa rd$' 40 "$ALL40"
	dq @"$srv" +tcp www.it.test AAAA
	assert_answer "+tcp www AAAA @$srv" NOERROR '^qr aa rd$' 1 2001:db8::10

	dq @"$srv" +noedns big.it.test A
	check_re "dig retries over TCP after TC=1 @$srv" 'Truncated, retrying in TCP mode' "$Q_OUT"
	assert_answer "dig's TCP retry @$srv" NOERROR '^qr aa rd$' 40 "$ALL40"
done

kq @"$S4" +tcp big.it.test A
assert_answer "kdig +tcp big" NOERROR '^qr aa rd$' 40 "$ALL40"

stats_json
check_grew "counter truncated grew by 4" "$tr0" 4 "$(stat total.truncated)"
