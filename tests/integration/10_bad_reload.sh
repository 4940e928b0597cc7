#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Intent: a reload with a broken Corefile keeps the running configuration: `dpdnsctl reload`
# fails and names the file and line of the error, queries keep their old answers, /ready
# stays 200; a fixed Corefile then reloads and its new data is answered.
. "$(dirname "$0")/lib.sh"

COREFILE=$(it_corefile)
lab_up "$COREFILE"

dq @"$S4" www.it.test A
assert_answer "before the reload" NOERROR '^qr aa rd$' 1 198.18.0.10

cp "$COREFILE" "$IT_WORK/Corefile.good"
# Line 8 gets a directive dpdns does not know.
sed -i '8i\    no_such_plugin on' "$COREFILE"
check "the broken line is line 8" "    no_such_plugin on" "$(sed -n 8p "$COREFILE")"
out=$(ctl reload 2>&1); rc=$?
check_re "dpdnsctl reload of a broken Corefile fails" '^[1-9]' "$rc"
check_re "the error names file:line" 'Corefile:8([^0-9]|$)' "$out"
check_re "the error names the directive" 'no_such_plugin' "$out"

dq @"$S4" www.it.test A
assert_answer "after the failed reload: old answer" NOERROR '^qr aa rd$' 1 198.18.0.10
dq @"$S6" nosuch.it.test A
check "after the failed reload: misses still answered by the control plane" SERVFAIL "$(q_status)"
check "/ready after the failed reload" 200 "$(ready_code)"
check_cmd "dpdnsctl status after the failed reload" ctl status

sed 's/198\.18\.0\.10    www\.it\.test/198.18.0.110   www.it.test/' "$IT_WORK/Corefile.good" >"$COREFILE"
out=$(ctl reload 2>&1); rc=$?
check "dpdnsctl reload of a fixed Corefile" 0 "$rc"
poll_answer 10 "the reloaded configuration is answered" A 198.18.0.110 @"$S4" www.it.test A
check "/ready after the good reload" 200 "$(ready_code)"
