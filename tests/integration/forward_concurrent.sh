#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Intent: max_concurrent. A slow fake upstream (python3 on 127.0.0.22, answers after one
# second) behind `forward ... { max_concurrent 2 }`: of six queries sent at once, the two
# that fit are answered (A 192.0.2.98), the others are REFUSED at once and counted in
# coredns_forward_max_concurrent_rejects_total.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/forward_lib.sh"

fwd_fake_start 127.0.0.22 slow
fake=$FWD_FAKE_PORT
lab_up "$(fwd_corefile "$IT_WORK/Corefile" "" "forward . 127.0.0.22:$fake {
    max_concurrent 2
}")"

before=$(metric_sum coredns_forward_max_concurrent_rejects_total)
pids=
for i in 1 2 3 4 5 6; do
	timeout 20 ip netns exec "$NS" dig +time=4 +tries=1 @"$S4" "c$i.slow.test" A \
		>"$IT_WORK/dig.$i" 2>&1 &
	pids="$pids $!"
done
for p in $pids; do wait "$p"; done
ok=0
refused=0
for i in 1 2 3 4 5 6; do
	Q_OUT=$(cat "$IT_WORK/dig.$i")
	case "$(q_status)" in
	NOERROR) [ "$(q_rdata A)" = 192.0.2.98 ] && ok=$((ok + 1)) ;;
	REFUSED) refused=$((refused + 1)) ;;
	esac
done
check_ge "answered within the limit" 1 "$ok"
check_ge "refused beyond max_concurrent" 1 "$refused"
check "every query answered or refused" 6 $((ok + refused))
check_grew "coredns_forward_max_concurrent_rejects_total grew" "$before" "$refused" \
	"$(metric_sum coredns_forward_max_concurrent_rejects_total)"
step "after the burst: answered again"
dq @"$S4" +time=4 +tries=1 after.slow.test A
assert_answer "after.slow.test" NOERROR '^qr rd ra$' 1 "192.0.2.98"
