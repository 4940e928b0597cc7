# SPDX-License-Identifier: BSD-3-Clause
# dpdns operator scripts - the demo's and the benchmarks' local servers on 127.0.0.1:
# Debian's nsd as the upstream of `forward`, and tests/k8s/fake-apiserver as the Kubernetes
# API. Sourced after common.sh, never executed. Every server runs in the foreground of a
# background job whose PID is recorded in a file of the caller's state directory; stopping
# is by that PID only.
# shellcheck shell=bash

# ls_free_port [ADDR]: a port free for both UDP and TCP on ADDR (default 127.0.0.1)
ls_free_port() {
	python3 - "${1:-127.0.0.1}" <<'EOF'
import socket, sys
for _ in range(50):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((sys.argv[1], 0))
    port = u.getsockname()[1]
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        t.bind((sys.argv[1], port))
    except OSError:
        continue
    finally:
        t.close()
        u.close()
    print(port)
    break
EOF
}

# ls_wait_file FILE TENTHS: wait (bounded) until FILE is non-empty
ls_wait_file() {
	local i
	for ((i = 0; i < $2; i++)); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# ls_stop PIDFILE WORD [GRACE]: stop the process recorded in PIDFILE (if it is still WORD),
# forget it
ls_stop() {
	[ -f "$1" ] || return 0
	stop_pid "$(cat "$1")" "$2" "${3:-5}" || warn "$2 (pid $(cat "$1")) would not stop"
	rm -f "$1"
}

# The demo's zones. Data only: the addresses are documentation prefixes, never contacted.
ls_zone_example_org() {
	cat <<'EOF'
$ORIGIN example.org.
$TTL 300
@     IN SOA ns1.example.org. hostmaster.example.org. 1 7200 1800 86400 60
@     IN NS  ns1
ns1   IN A   127.0.0.1
www   IN A   192.0.2.10
www   IN AAAA 2001:db8::10
EOF
	# Many distinct names for load tests (dnsperf query files).
	local i
	for ((i = 0; i < ${LS_ZONE_NAMES:-0}; i++)); do
		printf 'n%d IN A 192.0.2.%d\n' "$i" $((i % 250 + 1))
	done
}

# A root zone standing in for the rest of the DNS: every other name is NXDOMAIN (a recursive
# resolver's answer), not REFUSED.
ls_zone_root() {
	cat <<'EOF'
$ORIGIN .
$TTL 300
.        IN SOA ns1.example.org. hostmaster.example.org. 1 7200 1800 86400 60
.        IN NS  ns1.example.org.
EOF
}

ls_zone_example_net() {
	cat <<'EOF'
$ORIGIN example.net.
$TTL 300
@        IN SOA ns1.example.net. hostmaster.example.net. 1 7200 1800 86400 60
@        IN NS  ns1.example.org.
payments IN A   192.0.2.80
EOF
}

# ls_nsd_conf DIR PORT ZONE...: DIR/nsd.conf for nsd in the foreground on 127.0.0.1@PORT,
# everything (log, state) in DIR, response rate limiting off (load tests), serving each
# ZONE from DIR/ZONE.zone (the root "." from DIR/root.zone).
ls_nsd_conf() {
	local d=$1 port=$2 z
	shift 2
	cat >"$d/nsd.conf" <<EOF
server:
  ip-address: 127.0.0.1@$port
  username: ""
  chroot: ""
  zonesdir: "$d"
  pidfile: ""
  logfile: "$d/nsd.log"
  database: ""
  xfrdfile: "$d/xfrd.state"
  zonelistfile: "$d/zone.list"
  xfrdir: "$d"
  server-count: 1
  verbosity: 1
  rrl-ratelimit: 0
remote-control:
  control-enable: no
EOF
	for z in "$@"; do
		printf 'zone:\n  name: "%s"\n  zonefile: %s.zone\n' "$z" "$([ "$z" = . ] && echo root || echo "$z")" \
			>>"$d/nsd.conf"
	done
}

# ls_nsd_start DIR [PORT]: nsd on 127.0.0.1:PORT (a free one by default), authoritative for
# example.org, example.net and the root, response rate limiting off (load tests). Files, log and
# nsd.pid in DIR. Sets LS_NSD_PORT. @return 0 once it answers, 1 otherwise (stopped again)
ls_nsd_start() {
	local d=$1 bin i
	bin=$(command -v nsd || echo /usr/sbin/nsd)
	[ -x "$bin" ] || { err "nsd is not installed (apt-get install nsd)"; return 1; }
	LS_NSD_PORT=${2:-$(ls_free_port)}
	mkdir -p "$d"
	ls_zone_example_org >"$d/example.org.zone"
	ls_zone_example_net >"$d/example.net.zone"
	ls_zone_root >"$d/root.zone"
	ls_nsd_conf "$d" "$LS_NSD_PORT" example.org example.net .
	setsid "$bin" -d -c "$d/nsd.conf" </dev/null >>"$d/nsd.out" 2>&1 &
	echo $! >"$d/nsd.pid"
	for ((i = 0; i < 50; i++)); do
		if timeout 2 dig +short +time=1 +tries=1 @127.0.0.1 -p "$LS_NSD_PORT" example.org SOA \
			2>/dev/null | grep -q hostmaster; then
			return 0
		fi
		sleep 0.1
	done
	err "nsd did not answer on 127.0.0.1:$LS_NSD_PORT"
	cat "$d/nsd.out" "$d/nsd.log" 2>/dev/null | tail -n 20 >&2
	ls_nsd_stop "$d"
	return 1
}

ls_nsd_stop() { ls_stop "$1/nsd.pid" nsd; }

# ls_api_start DIR OBJECTS [SERVER]: the fake Kubernetes API server on 127.0.0.1 (a free
# port) with OBJECTS, requiring the bearer token in DIR/token (made up here), plus
# DIR/kubeconfig naming both (server URL and tokenFile). SERVER: the server program
# (default tests/k8s/fake-apiserver). LS_API_NO_TOKEN=1: no token required (clients with
# `endpoint URL`). LS_API_WAIT: tenths of a second to wait for it (default 100).
# Sets LS_API_PORT. @return 0 once it listens
ls_api_start() {
	local d=$1 objects=$2 server=${3:-$DPDNS_SRC/tests/k8s/fake-apiserver} tenths=${LS_API_WAIT:-100}
	local tok=()
	mkdir -p "$d"
	rm -f "$d/api.port" "$d/token"
	if [ "${LS_API_NO_TOKEN:-0}" != 1 ]; then
		# Any unguessable string will do; the API is on loopback only.
		head -c 18 /dev/urandom | base64 | tr '+/' 'xy' >"$d/token"
		tok=(--token "$(cat "$d/token")")
	fi
	setsid python3 "$server" --listen 127.0.0.1:0 --ready-file "$d/api.port" \
		--objects "$objects" "${tok[@]}" --bookmark-interval 5 --quiet \
		</dev/null >>"$d/api.log" 2>&1 &
	echo $! >"$d/api.pid"
	if ! ls_wait_file "$d/api.port" "$tenths"; then
		err "the fake API server did not start"
		tail -n 20 "$d/api.log" >&2
		ls_api_stop "$d"
		return 1
	fi
	LS_API_PORT=$(cat "$d/api.port")
	cat >"$d/kubeconfig" <<EOF
# written by dpdns scripts: the fake API server of $d
apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: http://127.0.0.1:$LS_API_PORT
users:
- name: dpdns
$([ -f "$d/token" ] && printf '  user:\n    tokenFile: %s\n' "$d/token" || echo "  user: {}")
contexts:
- name: fake
  context:
    cluster: fake
    user: dpdns
current-context: fake
EOF
}

# (a server holding a big cluster takes a while to let go of it)
ls_api_stop() { ls_stop "$1/api.pid" fake-apiserver 20; }

# ls_api DIR METHOD PATH [JSON]: one API request; prints the HTTP status
ls_api() {
	local ct=application/json
	[ "$2" = PATCH ] && ct=application/merge-patch+json
	timeout 10 curl -s -o /dev/null -w '%{http_code}' -X "$2" -H "Content-Type: $ct" \
		-H "Authorization: Bearer $(cat "$1/token" 2>/dev/null)" ${4:+--data "$4"} \
		"http://127.0.0.1:$LS_API_PORT$3"
}
