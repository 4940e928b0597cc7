#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Intent: hosts data changes reach the fast path quickly. With `hosts FILE { reload 300ms }`,
# a line added to / changed in / removed from the file is answered within a second (polled
# 10 x 100 ms). `dpdnsctl hosts add|del` likewise, and what it adds is persisted to the file.
. "$(dirname "$0")/lib.sh"

lab_up "$(it_corefile)"
HOSTS=$IT_WORK/hosts

step "hosts file edits (reload 300ms)"
dq @"$S4" new.it.test A
check "new.it.test unknown at first" SERVFAIL "$(q_status)"
echo "198.18.0.30    new.it.test" >>"$HOSTS"
poll_answer 10 "line added to the file is answered within 1 s" A 198.18.0.30 @"$S4" new.it.test A
sed -i 's/^198\.18\.0\.30 /198.18.0.31 /' "$HOSTS"
poll_answer 10 "changed address is answered within 1 s" A 198.18.0.31 @"$S4" new.it.test A
echo "2001:db8::31   new.it.test" >>"$HOSTS"
poll_answer 10 "AAAA added to the file, over IPv6" AAAA 2001:db8::31 @"$S6" new.it.test AAAA
sed -i '/new\.it\.test/d' "$HOSTS"
poll_rcode 10 "removed name is a miss (SERVFAIL) within 1 s" SERVFAIL @"$S4" new.it.test A

step "dpdnsctl hosts add/del"
out=$(ctl hosts add ctl.it.test 198.18.0.40 2>&1); rc=$?
check "dpdnsctl hosts add exit status" 0 "$rc"
poll_answer 10 "dpdnsctl hosts add: A visible within 1 s" A 198.18.0.40 @"$S4" ctl.it.test A
check_re "dpdnsctl hosts add persisted to the hosts file" '^198\.18\.0\.40[[:space:]]+ctl\.it\.test' "$(grep ctl.it.test "$HOSTS")"
out=$(ctl hosts add ctl.it.test 2001:db8::40 2>&1); rc=$?
check "dpdnsctl hosts add (AAAA) exit status" 0 "$rc"
poll_answer 10 "dpdnsctl hosts add: AAAA visible within 1 s" AAAA 2001:db8::40 @"$S6" ctl.it.test AAAA
poll_answer 10 "dpdnsctl hosts add: PTR visible" PTR ctl.it.test. @"$S4" -x 198.18.0.40

out=$(ctl lookup ctl.it.test A 2>&1); rc=$?
check "dpdnsctl lookup exit status" 0 "$rc"
check_re "dpdnsctl lookup shows the record" '198\.18\.0\.40' "$out"

out=$(ctl hosts del ctl.it.test 2>&1); rc=$?
check "dpdnsctl hosts del exit status" 0 "$rc"
poll_rcode 10 "dpdnsctl hosts del: miss within 1 s" SERVFAIL @"$S4" ctl.it.test A
check "dpdnsctl hosts del removed it from the file" "" "$(grep ctl.it.test "$HOSTS")"

out=$(ctl hosts add 'bad name!' 198.18.0.41 2>&1); rc=$?
check_re "dpdnsctl hosts add rejects a bad name (non-zero exit)" '^[1-9]' "$rc"
