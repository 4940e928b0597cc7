#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Intent: the fast path answers hosts names like CoreDNS would - A, AAAA and PTR, over IPv4
# and IPv6 transport, with dig and kdig: NOERROR, qr+aa (rd echoed, no ra), one question,
# the right records with the hosts plugin's TTL (3600 by default, `ttl` when set), the
# question's letter case preserved, and the fast path's counters moving.
. "$(dirname "$0")/lib.sh"

lab_up "$(it_corefile)"
stats_json; hits0=$(stat total.hits); q0=$(stat total.queries)

for srv in "$S4" "$S6"; do
	step "dig @$srv"
	dq @"$srv" www.it.test A
	assert_answer "dig @$srv A www" NOERROR '^qr aa rd$' 1 198.18.0.10
	check "dig @$srv A www: question count" 1 "$(q_count QUERY)"
	check "dig @$srv A www: TTL" 3600 "$(q_ttls)"

	dq @"$srv" www.it.test AAAA
	assert_answer "dig @$srv AAAA www" NOERROR '^qr aa rd$' 1 2001:db8::10
	check "dig @$srv AAAA www: TTL" 3600 "$(q_ttls)"

	dq @"$srv" file.it.test A
	assert_answer "dig @$srv A file (hosts file)" NOERROR '^qr aa rd$' 1 198.18.0.20

	dq @"$srv" -x 198.18.0.10
	assert_answer "dig @$srv PTR 198.18.0.10" NOERROR '^qr aa rd$' 1 www.it.test.
	dq @"$srv" -x 2001:db8::20
	assert_answer "dig @$srv PTR 2001:db8::20" NOERROR '^qr aa rd$' 1 file.it.test.

	dq @"$srv" +norecurse www.it.test A
	assert_answer "dig @$srv +norecurse A www" NOERROR '^qr aa$' 1 198.18.0.10

	step "kdig @$srv"
	kq @"$srv" www.it.test A
	assert_answer "kdig @$srv A www" NOERROR '^qr aa rd$' 1 198.18.0.10
	kq @"$srv" www.it.test AAAA
	assert_answer "kdig @$srv AAAA www" NOERROR '^qr aa rd$' 1 2001:db8::10
	kq @"$srv" -x 198.18.0.11
	assert_answer "kdig @$srv PTR 198.18.0.11" NOERROR '^qr aa rd$' 1 v4only.it.test.
done

step "letter case of the question is preserved"
dq @"$S4" WwW.iT.TeSt A
assert_answer "dig A WwW.iT.TeSt" NOERROR '^qr aa rd$' 1 198.18.0.10
check "owner name keeps the question's case" "WwW.iT.TeSt." "$(q_section ANSWER | awk 'NR==1{print $1}')"

step "counters"
stats_json
check_grew "dpdnsctl stats: queries grew by the 19 sent" "$q0" 19 "$(stat total.queries)"
check_grew "dpdnsctl stats: hits grew" "$hits0" 15 "$(stat total.hits)"
