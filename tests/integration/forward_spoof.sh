#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Intent: replies that do not belong to the query are dropped. A fake upstream (python3 on
# 127.0.0.21) answers every query three times: with another ID, with another question, and
# correctly (A 192.0.2.99). The client gets the right answer with its own ID; the two
# others are counted in dpdns_forward_dropped_replies_total{reason="id"|"question"}.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/forward_lib.sh"

fwd_fake_start 127.0.0.21 spoof
fake=$FWD_FAKE_PORT
lab_up "$(fwd_corefile "$IT_WORK/Corefile" "" "forward . 127.0.0.21:$fake")"

for i in 1 2 3; do
	dq @"$S4" "q$i.spoof.test" A
	assert_answer "q$i.spoof.test" NOERROR '^qr rd ra$' 1 "192.0.2.99"
done
check_ge "replies with a wrong ID dropped" 3 \
	"$(metric_sum dpdns_forward_dropped_replies_total 'reason="id"')"
check_ge "replies with a wrong question dropped" 3 \
	"$(metric_sum dpdns_forward_dropped_replies_total 'reason="question"')"
