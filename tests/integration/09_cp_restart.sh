#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Intent: the fast path keeps answering what is in its tables while the control plane is
# gone (kill -9: a crash), and a restarted control plane re-attaches to the running fast
# path: /ready 200 again, dpdnsctl status works, and hosts changes reach the fast path.
. "$(dirname "$0")/lib.sh"

lab_up "$(it_corefile)"
fp_pid=$(cat /run/dpdns-lab/fastpath.pid)

check_cmd "dpdnsctl status before the crash" ctl status
check_cmd "kill -9 the control plane" timeout 20 "$LAB" cp-stop --kill

check_re "/ready no longer 200" '^(000|)$' "$(ready_code)"
ok=0
for i in $(seq 1 10); do
	dq @"$S4" www.it.test A
	[ "$(q_status) $(q_rdata A)" == "NOERROR 198.18.0.10" ] && ok=$((ok + 1))
	dq @"$S6" file.it.test AAAA
	[ "$(q_status) $(q_rdata AAAA)" == "NOERROR 2001:db8::20" ] && ok=$((ok + 1))
done
check "without a control plane: 20 of 20 hosts queries answered by the fast path" 20 "$ok"
dq @"$S4" v4only.it.test AAAA
assert_answer "without a control plane: NODATA still answered" NOERROR '^qr aa rd$' 0
ctl status >/dev/null 2>&1; rc=$?
check_re "dpdnsctl status fails while the control plane is gone" '^[1-9]' "$rc"
check "fast path survived the crash (same pid)" yes "$(kill -0 "$fp_pid" 2>/dev/null && echo yes || echo no)"

if lab_cp_restart; then pass "control plane restarted"; else fail "control plane restarted" "scripts/lab cp-start failed"; fi
check "/ready after restart" 200 "$(ready_code)"
out=$(ctl status 2>&1); rc=$?
check "dpdnsctl status after restart" 0 "$rc"
out=$(ctl --json status 2>&1)
check_re "dpdnsctl --json status shows the fast path's pid" "\"[a-z_]*pid\"[^,}]*$fp_pid" "$out"
check_cmd "dpdnsctl hosts add after restart" ctl hosts add again.it.test 198.18.0.50
poll_answer 10 "hosts add after restart visible within 1 s" A 198.18.0.50 @"$S4" again.it.test A
dq @"$S4" nosuch.it.test A
check "misses are answered by the new control plane" SERVFAIL "$(q_status)"
dq @"$S4" +tcp www.it.test A
assert_answer "TCP answered by the new control plane" NOERROR '^qr aa rd$' 1 198.18.0.10
