# SPDX-License-Identifier: BSD-3-Clause
# dpdns integration tests - helpers of the forward_*.sh tests (sourced after lib.sh; not a
# test itself): a real upstream (Debian's nsd on 127.0.0.1 in the root namespace, where
# the control plane runs), fake upstreams (small python3 UDP responders on 127.0.0.x), and
# their cleanup, which runs before lib.sh's EXIT handler.
# shellcheck shell=bash

FWD_NSD_PID=
FWD_NSD_DIR=
FWD_NSD_PORT=
FWD_FAKE_PIDS=

fwd_cleanup() {
	local p
	[ -n "$FWD_NSD_PID" ] && fwd_nsd_stop
	for p in $FWD_FAKE_PIDS; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	FWD_FAKE_PIDS=
	return 0
}
trap 'fwd_rc=$?; fwd_cleanup; it_exit $fwd_rc' EXIT

if ! command -v nsd >/dev/null 2>&1 && [ ! -x /usr/sbin/nsd ]; then
	echo "SKIP $IT_NAME: nsd is not installed"
	trap - EXIT
	[ -n "$IT_WORK" ] && rm -rf "$IT_WORK"
	exit 77
fi
FWD_NSD_BIN=$(command -v nsd || echo /usr/sbin/nsd)

# ls_free_port, ls_nsd_conf: shared with the demo and the benchmarks.
. "$IT_SRC/scripts/lib/local-servers.sh"

# The zone: www (A/AAAA, TTL 300), alias CNAME, MX, TXT, short (TTL 2), big (30 TXT records,
# > 512 bytes: truncated over UDP without EDNS), negative TTL 60 from the SOA minimum.
fwd_zone() {
	local i
	cat <<'EOF'
$ORIGIN example.test.
$TTL 300
@ IN SOA ns1.example.test. hostmaster.example.test. 1 7200 1800 86400 60
@ IN NS ns1
ns1 IN A 127.0.0.1
www IN A 192.0.2.10
www IN AAAA 2001:db8::10
alias IN CNAME www
@ IN MX 10 mail
mail IN A 192.0.2.25
txt IN TXT "hello world"
short 2 IN A 192.0.2.2
EOF
	for ((i = 0; i < 30; i++)); do
		printf 'big IN TXT "%040d-padding-padding"\n' "$i"
	done
}

# fwd_nsd_start [PORT]: nsd in the foreground (its PID is ours) on 127.0.0.1:PORT (a free
# one by default); waits until it answers. Sets FWD_NSD_PORT.
fwd_nsd_start() {
	local i d
	FWD_NSD_PORT=${1:-$(ls_free_port 127.0.0.1)}
	FWD_NSD_DIR=$IT_WORK/nsd
	d=$FWD_NSD_DIR
	mkdir -p "$d"
	fwd_zone >"$d/example.test.zone"
	ls_nsd_conf "$d" "$FWD_NSD_PORT" example.test
	"$FWD_NSD_BIN" -d -c "$d/nsd.conf" >>"$d/nsd.out" 2>&1 &
	FWD_NSD_PID=$!
	for ((i = 0; i < 50; i++)); do
		if timeout 2 dig +short +time=1 +tries=1 @127.0.0.1 -p "$FWD_NSD_PORT" example.test SOA \
			2>/dev/null | grep -q hostmaster; then
			return 0
		fi
		sleep 0.1
	done
	fail "nsd up on 127.0.0.1:$FWD_NSD_PORT" "$(cat "$d/nsd.out" "$d/nsd.log" 2>/dev/null)"
	exit 1
}

fwd_nsd_stop() {
	local i
	[ -z "$FWD_NSD_PID" ] && return 0
	kill "$FWD_NSD_PID" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$FWD_NSD_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$FWD_NSD_PID" 2>/dev/null
	wait "$FWD_NSD_PID" 2>/dev/null
	FWD_NSD_PID=
	return 0
}

# fwd_fake_start ADDR MODE: a python3 UDP responder on ADDR and a free port, set in
# FWD_FAKE_PORT (not printed: called in $(...) the PID would be lost to the cleanup).
# Modes: spoof (first a reply with a wrong ID, then one with another question, then the
# right one: A 192.0.2.99), slow (A 192.0.2.98 after one second, queries handled in
# parallel). The PID is remembered for the cleanup.
fwd_fake_start() {
	local addr=$1 mode=$2 port i
	port=$(ls_free_port "$addr")
	FWD_FAKE_PORT=$port
	python3 - "$addr" "$port" "$mode" >>"$IT_WORK/fake-$mode.log" 2>&1 <<'EOF' &
import socket, struct, sys, threading, time
addr, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((addr, port))

def question_end(q):
    i = 12
    while q[i] != 0:
        i += 1 + q[i]
    return i + 5

def answer(q, last_octet):
    qe = question_end(q)
    hdr = q[:2] + bytes([0x80 | (q[2] & 0x79), 0x80]) + struct.pack(">HHHH", 1, 1, 0, 0)
    rr = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([192, 0, 2, last_octet])
    return bytearray(hdr + q[12:qe] + rr)

def serve(q, peer):
    if mode == "slow":
        time.sleep(1.0)
        s.sendto(answer(q, 98), peer)
        return
    bad_id = answer(q, 99)
    bad_id[0] ^= 0xff
    s.sendto(bad_id, peer)
    bad_q = answer(q, 99)
    bad_q[13] ^= 0x01
    s.sendto(bad_q, peer)
    s.sendto(answer(q, 99), peer)

while True:
    q, peer = s.recvfrom(4096)
    if len(q) < 17:
        continue
    threading.Thread(target=serve, args=(q, peer), daemon=True).start()
EOF
	FWD_FAKE_PIDS="$FWD_FAKE_PIDS $!"
	for ((i = 0; i < 30; i++)); do
		ss -lun 2>/dev/null | grep -q "$addr:$port " && break
		sleep 0.1
	done
}

# fwd_corefile FILE CACHE_LINES FORWARD_LINE...: the standard server block with the given
# cache configuration (may be empty) and forward directive(s).
fwd_corefile() {
	local f=$1 cache=$2; shift 2
	{
		echo ".:53 {"
		echo "    errors"
		echo "    log"
		echo "    health 127.0.0.1:8080"
		echo "    ready 127.0.0.1:8181"
		echo "    prometheus 127.0.0.1:9153"
		[ -n "$cache" ] && printf '%s\n' "$cache" | sed 's/^/    /'
		printf '%s\n' "$@" | sed 's/^/    /'
		echo "}"
	} >"$f"
	echo "$f"
}
