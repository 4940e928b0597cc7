# SPDX-License-Identifier: BSD-3-Clause
# dpdns integration tests - shared helpers, sourced by every tests/integration/*.sh.
#
# A test: writes its Corefile, calls lab_up (scripts/lab up; torn down by an EXIT trap, also
# when the test fails or is interrupted), runs real clients in the client namespace and
# checks what a user sees with the check* functions. Assertions never stop the test: each
# prints PASS/FAIL with expected and got, and the EXIT trap prints "N passed, N failed"
# and sets the exit status. Exit 77 = skipped (meson's convention): not root.
# shellcheck shell=bash

set -uo pipefail

IT_SRC=${DPDNS_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
IT_BUILD=${DPDNS_BUILD:-$IT_SRC/build}
IT_NAME=$(basename "$0" .sh)
LAB=$IT_SRC/scripts/lab
DPDNSCTL=$IT_BUILD/controlplane/dpdnsctl
CTL=/run/dpdns-lab/ctl.sock
NS=dpdns-client
S4=198.18.0.53
S6=2001:db8::53
READY_URL=http://127.0.0.1:8181/ready
METRICS_URL=http://127.0.0.1:9153/metrics
FRAMES=$IT_SRC/tests/integration/frames.py
JSONGET=$IT_SRC/tests/integration/jsonget.py

T_PASS=0
T_FAIL=0
IT_LAB_UP=0
IT_WORK=

if [ "$(id -u)" != 0 ]; then
	echo "SKIP $IT_NAME: integration tests need root (namespaces, veth, hugepages)"
	exit 77
fi
IT_WORK=$(mktemp -d "/tmp/dpdns-it-$IT_NAME.XXXXXX")

# ---- reporting --------------------------------------------------------------------------

pass() { T_PASS=$((T_PASS + 1)); printf 'PASS %s\n' "$1"; }
fail() { T_FAIL=$((T_FAIL + 1)); printf 'FAIL %s\n' "$1"; shift; [ $# -gt 0 ] && printf '     %s\n' "$@"; return 0; }
step() { printf '\n--- %s\n' "$*"; }

# check DESC EXPECTED GOT: string equality
check() {
	if [ "$2" == "$3" ]; then pass "$1"; else fail "$1" "expected: $2" "got:      $3"; fi
}
# check_re DESC ERE GOT: GOT matches the extended regular expression
check_re() {
	if printf '%s' "$3" | grep -Eq -- "$2"; then pass "$1"; else fail "$1" "expected to match: $2" "got: $3"; fi
}
# check_not_re DESC ERE GOT
check_not_re() {
	if printf '%s' "$3" | grep -Eq -- "$2"; then fail "$1" "expected NOT to match: $2" "got: $3"; else pass "$1"; fi
}
# check_ge DESC MIN GOT: integer GOT >= MIN
check_ge() {
	if [[ "$3" =~ ^-?[0-9]+$ ]] && [ "$3" -ge "$2" ]; then pass "$1"; else fail "$1" "expected: >= $2" "got:      $3"; fi
}
# check_grew DESC BEFORE MIN_DELTA AFTER: a counter grew by at least MIN_DELTA
check_grew() {
	if ! [[ "$2" =~ ^[0-9]+$ && "$4" =~ ^[0-9]+$ ]]; then
		fail "$1" "expected two counter readings" "got: before '$2', after '$4'"
	elif [ $(($4 - $2)) -ge "$3" ]; then
		pass "$1"
	else
		fail "$1" "expected: grew by >= $3 (from $2)" "got:      $4 (grew by $(($4 - $2)))"
	fi
}
# check_cmd DESC CMD...: command exits 0 (its output shown on failure)
check_cmd() {
	local d=$1 out rc; shift
	out=$("$@" 2>&1); rc=$?
	if [ $rc = 0 ]; then pass "$d"; else fail "$d" "command: $*" "exit $rc, output: ${out:0:600}"; fi
}

it_exit() {
	local rc=$1
	trap - EXIT INT TERM
	if [ "$IT_LAB_UP" = 1 ]; then
		if [ "$rc" != 0 ] || [ "$T_FAIL" -gt 0 ]; then
			echo "--- lab logs ($IT_NAME failed)"
			timeout 10 "$LAB" logs 2>&1 | sed 's/^/    /'
		fi
		timeout 60 "$LAB" down >/dev/null 2>&1 || echo "WARNING: lab down failed"
	fi
	[ -n "$IT_WORK" ] && rm -rf "$IT_WORK"
	echo
	echo "$IT_NAME: $T_PASS passed, $T_FAIL failed"
	if [ "$rc" = 0 ] && [ "$T_FAIL" -gt 0 ]; then rc=1; fi
	if [ "$rc" = 0 ] && [ "$T_PASS" = 0 ]; then echo "$IT_NAME: no assertion ran"; rc=1; fi
	exit "$rc"
}
trap 'it_exit $?' EXIT
trap 'exit 130' INT TERM

# ---- lab ----------------------------------------------------------------------------------

# lab_up COREFILE [lab up options]: bring the lab up or fail the whole test.
lab_up() {
	local corefile=$1; shift
	local rc
	IT_LAB_UP=1
	timeout 180 "$LAB" up --corefile "$corefile" --build "$IT_BUILD" --search it.test "$@"
	rc=$?
	if [ $rc != 0 ]; then
		# 3: another lab is running (another test run?): leave it alone.
		[ $rc = 3 ] && IT_LAB_UP=0
		fail "lab up with $corefile" "scripts/lab up exited $rc (see above)"
		exit 1
	fi
	FP_MAC=$(cat /sys/class/net/dpdns-veth0/address)
}

# Restart the control plane after a stop/kill; waits for /ready.
lab_cp_restart() { timeout 120 "$LAB" cp-start; }

# Standard Corefile of the tests: zone it.test plus the reverse zones of the lab prefixes,
# inline entries and the hosts file $IT_WORK/hosts (reload 300ms). Extra plugin lines for
# the server block can be given as arguments.
it_corefile() {
	local f=$IT_WORK/Corefile extra
	extra=$(printf '    %s\n' "$@")
	it_hosts_file
	cat >"$f" <<EOF
it.test:53 0.18.198.in-addr.arpa:53 8.b.d.0.1.0.0.2.ip6.arpa:53 {
    errors
    log
    health 127.0.0.1:8080
    ready 127.0.0.1:8181
    prometheus 127.0.0.1:9153
$extra
    hosts $IT_WORK/hosts {
        198.18.0.10    www.it.test
        2001:db8::10   www.it.test
        198.18.0.11    v4only.it.test
        2001:db8::12   v6only.it.test
        reload 300ms
    }
}
EOF
	echo "$f"
}

# The hosts file: a few names plus big.it.test with 40 A records (its answer is > 512 bytes).
it_hosts_file() {
	local i
	{
		echo "198.18.0.20    file.it.test"
		echo "2001:db8::20   file.it.test"
		for ((i = 1; i <= 40; i++)); do echo "198.18.1.$i    big.it.test"; done
	} >"$IT_WORK/hosts"
}

# ---- clients -------------------------------------------------------------------------------

# in_client CMD...: run in the client namespace, bounded.
in_client() { timeout 20 ip netns exec "$NS" "$@"; }

# dq [dig args...]: dig from the client namespace; output in Q_OUT, exit status in Q_RC.
dq() {
	Q_OUT=$(timeout 20 ip netns exec "$NS" dig +time=1 +tries=2 "$@" 2>&1); Q_RC=$?
}
# kq [kdig args...]: the same with kdig.
kq() {
	Q_OUT=$(timeout 20 ip netns exec "$NS" kdig +time=1 +retry=1 "$@" 2>&1); Q_RC=$?
}

# Parsers over Q_OUT (dig and kdig formats).
q_status() { printf '%s\n' "$Q_OUT" | sed -nE 's/.*->>HEADER<<-.*status: ([A-Z0-9]+).*/\1/p' | head -1; }
q_flags() {
	printf '%s\n' "$Q_OUT" | sed -nE 's/^;; [Ff]lags: ([a-z ]*);.*/\1/p' | head -1 | tr -s ' ' | sed 's/ *$//'
}
q_has_flag() { [[ " $(q_flags) " == *" $1 "* ]]; }
q_count() { printf '%s\n' "$Q_OUT" | sed -nE "s/^;; [Ff]lags:.*[ ;]$1: ([0-9]+).*/\1/p" | head -1; }
# Records of a section (ANSWER, AUTHORITY, ADDITIONAL), one per line: "name ttl class type rdata"
q_section() {
	printf '%s\n' "$Q_OUT" | awk -v s=";; $1 SECTION:" '
		$0 == s { on = 1; next }
		on && (/^$/ || /^;;/) { on = 0 }
		on { $1 = $1; print }'
}
# q_rdata TYPE: the rdata of the answer records of TYPE, sorted, space separated
q_rdata() { q_section ANSWER | awk -v t="$1" '$4 == t { print $5 }' | sort | tr '\n' ' ' | sed 's/ $//'; }
q_ttls() { q_section ANSWER | awk '{ print $2 }' | sort -u | tr '\n' ' ' | sed 's/ $//'; }
q_edns() { printf '%s\n' "$Q_OUT" | grep -E '^; EDNS:' | head -1; }
# dig's "MSG SIZE  rcvd: N"
q_size() { printf '%s\n' "$Q_OUT" | sed -nE 's/^;; MSG SIZE +rcvd: ([0-9]+).*/\1/p' | head -1; }

# assert_answer DESC STATUS FLAGS_ERE ANSWER_COUNT [RDATA]: one query's outcome
assert_answer() {
	local d=$1
	if [ "$Q_RC" != 0 ] && [ -z "$(q_status)" ]; then
		fail "$d: answered" "dig/kdig exit $Q_RC: ${Q_OUT:0:400}"
		return
	fi
	check "$d: rcode" "$2" "$(q_status)"
	check_re "$d: flags" "$3" "$(q_flags)"
	check "$d: answer count" "$4" "$(q_count ANSWER)"
	[ $# -ge 5 ] && check "$d: records" "$5" "$(q_rdata "$(q_section ANSWER | awk 'NR==1{print $4}')")"
	return 0
}

# poll_answer TRIES DESC RDATA_TYPE EXPECTED dig args...: repeat (every 100 ms) until the
# answer's records of the type equal EXPECTED; pass/fail once.
poll_answer() {
	local tries=$1 d=$2 t=$3 want=$4 i got=; shift 4
	for ((i = 0; i < tries; i++)); do
		dq "$@"
		got=$(q_rdata "$t")
		[ "$got" == "$want" ] && { pass "$d (try $((i + 1)))"; return 0; }
		sleep 0.1
	done
	fail "$d" "expected within $tries tries: $want" "got: $got (rcode $(q_status))"
}

# poll_rcode TRIES DESC RCODE dig args...: repeat (every 100 ms) until the rcode is RCODE.
poll_rcode() {
	local tries=$1 d=$2 want=$3 i got=; shift 3
	for ((i = 0; i < tries; i++)); do
		dq "$@"
		got=$(q_status)
		[ "$got" == "$want" ] && { pass "$d (try $((i + 1)))"; return 0; }
		sleep 0.1
	done
	fail "$d" "expected within $tries tries: rcode $want" "got: ${got:-no answer}"
}

# ---- control plane views --------------------------------------------------------------------

ctl() { timeout 10 "$DPDNSCTL" --socket "$CTL" "$@"; }

# stats_json: the current `dpdnsctl --json stats` into STATS (empty on failure)
stats_json() { STATS=$(ctl --json stats 2>/dev/null) || STATS=; }
# stat KEY...: a counter from STATS (see jsonget.py: a dotted path, or a key summed over the
# tree, e.g. per-worker blocks); prints "missing" when absent.
stat() { printf '%s' "$STATS" | python3 "$JSONGET" "$@" 2>/dev/null || echo missing; }

metrics() { timeout 5 curl -s --max-time 3 "$METRICS_URL"; }
# metric_sum NAME [LABEL_ERE]: sum of the samples of NAME whose labels match LABEL_ERE
metric_sum() {
	metrics | awk -v n="$1" -v l="${2:-.}" '
		{ name = $1; sub(/\{.*/, "", name) }
		name == n && $1 ~ l { s += $NF; f = 1 }
		END { if (f) printf "%d\n", s; else print "missing" }'
}

ready_code() { timeout 5 curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$READY_URL" 2>/dev/null || true; }
