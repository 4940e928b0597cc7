#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Intent: the reload plugin reacts to the whole configuration, as CoreDNS's does: editing a
# file the Corefile imports (the Corefile itself untouched) reloads, and its new data is
# answered; with no file changed, reload checks do not reload.
. "$(dirname "$0")/lib.sh"

SNIP=$IT_WORK/records.conf
COREFILE=$IT_WORK/Corefile
: >"$IT_WORK/hosts.empty"
cat >"$SNIP" <<EOF2
hosts $IT_WORK/hosts.empty {
    198.18.0.70    imp.it.test
}
EOF2
cat >"$COREFILE" <<EOF2
it.test:53 {
    errors
    health 127.0.0.1:8080
    ready 127.0.0.1:8181
    prometheus 127.0.0.1:9153
    reload 2s 1s
    import $SNIP
}
EOF2
lab_up "$COREFILE"
# `dpdnsctl status` carries the reload counter (controlplane.reloads).
status_json() { STATS=$(ctl --json status 2>/dev/null) || STATS=; }

dq @"$S4" imp.it.test A
assert_answer "the imported hosts entry" NOERROR '^qr aa rd$' 1 198.18.0.70

step "no file changed: no reload"
status_json
r0=$(stat controlplane.reloads)
check_re "reloads counter present" '^[0-9]+$' "$r0"
sleep 3.5 # longer than interval + jitter/2: at least one check ran
status_json
check "reload checks without a change do not reload" "$r0" "$(stat controlplane.reloads)"

step "the imported file changes"
sed -i 's/198\.18\.0\.70 /198.18.0.71 /' "$SNIP"
# Next check within interval + jitter/2 (2.5 s) plus the 100 ms timer: poll up to 5 s.
poll_answer 50 "an edit of the imported file is answered after the reload" A 198.18.0.71 \
	@"$S4" imp.it.test A
status_json
check_ge "reloads counter grew" "$((r0 + 1))" "$(stat controlplane.reloads)"
check "the Corefile itself was not touched" 0 \
	"$(grep -c '198\.18\.0\.71' "$COREFILE")"
