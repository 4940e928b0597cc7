#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Intent: EDNS(0) handling seen from dig: an OPT record comes back when the query had one
# (version 0, with the server's UDP size), none with +noedns; the DO bit is echoed; a query
# with EDNS version 1 gets BADVERS with an OPT record of version 0 (RFC 6891 6.1.3).
. "$(dirname "$0")/lib.sh"

lab_up "$(it_corefile)"

for srv in "$S4" "$S6"; do
	dq @"$srv" www.it.test A
	assert_answer "EDNS query @$srv" NOERROR '^qr aa rd$' 1 198.18.0.10
	check_re "EDNS query @$srv: OPT version 0 with a UDP size" '^; EDNS: version: 0, flags:.*; udp: [0-9]+' "$(q_edns)"
	check "EDNS query @$srv: additional count (OPT)" 1 "$(q_count ADDITIONAL)"

	dq @"$srv" +noedns www.it.test A
	assert_answer "+noedns @$srv" NOERROR '^qr aa rd$' 1 198.18.0.10
	check "+noedns @$srv: no OPT in the reply" "" "$(q_edns)"
	check "+noedns @$srv: additional count" 0 "$(q_count ADDITIONAL)"

	dq @"$srv" +dnssec www.it.test A
	assert_answer "+dnssec @$srv" NOERROR '^qr aa rd$' 1 198.18.0.10
	check_re "+dnssec @$srv: DO bit echoed" '^; EDNS: version: 0, flags: do;' "$(q_edns)"

	dq @"$srv" +edns=1 +noednsneg www.it.test A
	check "EDNS version 1 @$srv: rcode" BADVERS "$(q_status)"
	check_re "EDNS version 1 @$srv: OPT version 0 in the reply" '^; EDNS: version: 0,' "$(q_edns)"
	check "EDNS version 1 @$srv: no answer" 0 "$(q_count ANSWER)"
done

kq @"$S4" +edns www.it.test A
assert_answer "kdig +edns" NOERROR '^qr aa rd$' 1 198.18.0.10
check_re "kdig +edns: OPT in the reply" 'EDNS PSEUDOSECTION' "$Q_OUT"
kq @"$S4" +noedns www.it.test A
assert_answer "kdig +noedns" NOERROR '^qr aa rd$' 1 198.18.0.10
check_not_re "kdig +noedns: no OPT" 'EDNS PSEUDOSECTION' "$Q_OUT"
