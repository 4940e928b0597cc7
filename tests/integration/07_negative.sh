#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Intent: CoreDNS's negative answers without a zone to be authoritative with SOA: a name the
# hosts plugin does not know (no fallthrough) is SERVFAIL; a PTR miss falls through to the
# end of the chain: SERVFAIL; a name outside every zone of the server is REFUSED, as is
# class CH; a known name without the asked type is NODATA (NOERROR, aa, no records, no SOA).
. "$(dirname "$0")/lib.sh"

lab_up "$(it_corefile)"

for srv in "$S4" "$S6"; do
	dq @"$srv" nosuch.it.test A
	assert_answer "miss in zone @$srv" SERVFAIL '^qr rd$' 0
	check "miss in zone @$srv: authority count" 0 "$(q_count AUTHORITY)"

	dq @"$srv" www.example.com A
	assert_answer "outside the zones @$srv" REFUSED '^qr rd$' 0

	dq @"$srv" v4only.it.test AAAA
	assert_answer "NODATA (AAAA of an A-only name) @$srv" NOERROR '^qr aa rd$' 0
	check "NODATA @$srv: no SOA in authority" 0 "$(q_count AUTHORITY)"

	dq @"$srv" v6only.it.test A
	assert_answer "NODATA (A of an AAAA-only name) @$srv" NOERROR '^qr aa rd$' 0

	dq @"$srv" www.it.test MX
	assert_answer "NODATA (MX of a hosts name) @$srv" NOERROR '^qr aa rd$' 0

	dq @"$srv" -x 198.18.0.99
	assert_answer "PTR miss @$srv" SERVFAIL '^qr rd$' 0

	dq @"$srv" -c CH www.it.test TXT
	check "class CH @$srv" REFUSED "$(q_status)"
done

kq @"$S4" nosuch.it.test A
assert_answer "kdig miss" SERVFAIL '^qr rd$' 0
kq @"$S4" www.example.com A
assert_answer "kdig outside the zones" REFUSED '^qr rd$' 0
