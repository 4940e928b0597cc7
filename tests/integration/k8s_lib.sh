# SPDX-License-Identifier: BSD-3-Clause
# Sourced after lib.sh by the tests that serve a fake cluster: tests/k8s/fake-apiserver on
# 127.0.0.1 (stopped by PID in k8s_cleanup, which the tests' EXIT trap calls, with one
# background job of the test, BG_PID), requests to
# it, and the server block of the default Kubernetes Corefile.
# Before sourcing: K8S_OBJECTS (default tests/k8s/objects/basic.json).

FAKE=$IT_SRC/tests/k8s/fake-apiserver
K8S_OBJECTS=${K8S_OBJECTS:-$IT_SRC/tests/k8s/objects/basic.json}
FAKE_PID=
API_PORT=

# k8s_require [COMMAND...]: skip the test (77) without the fake server, python3 or COMMANDs.
k8s_require() {
	local c
	for c in python3 "$@"; do
		if ! command -v "$c" >/dev/null; then
			echo "SKIP $IT_NAME: no $c"
			exit 77
		fi
	done
	[ -f "$FAKE" ] || { echo "SKIP $IT_NAME: no $FAKE"; exit 77; }
}

# fake_start [PORT]: the fake API server in the background (bookmarks every second); sets
# FAKE_PID and API_PORT, or fails the test.
fake_start() {
	local i
	rm -f "$IT_WORK/api.port"
	python3 "$FAKE" --listen "127.0.0.1:${1:-0}" --ready-file "$IT_WORK/api.port" \
		--objects "$K8S_OBJECTS" --bookmark-interval 1 --quiet &
	FAKE_PID=$!
	for ((i = 0; i < 100; i++)); do
		[ -s "$IT_WORK/api.port" ] && break
		sleep 0.1
	done
	API_PORT=$(cat "$IT_WORK/api.port" 2>/dev/null)
	[ -n "$API_PORT" ] || { fail "fake API server started" "no port file"; exit 1; }
}

# BG_PID: a background job of the test (a request, a restart) stopped with the server.
BG_PID=

# fake_stop: stop the fake API server (an outage).
fake_stop() {
	[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null && wait "$FAKE_PID" 2>/dev/null
	FAKE_PID=
}

# k8s_cleanup: stop BG_PID and the fake API server (the tests' EXIT trap).
k8s_cleanup() {
	[ -n "$BG_PID" ] && kill "$BG_PID" 2>/dev/null && wait "$BG_PID" 2>/dev/null
	BG_PID=
	fake_stop
}

# api METHOD PATH [JSON]: the HTTP status of an API request.
api() {
	timeout 20 curl -s -o /dev/null -w '%{http_code}' -X "$1" -H 'Content-Type: application/json' \
		${3:+--data "$3"} "http://127.0.0.1:$API_PORT$2"
}
# fault JSON: a fault of the fake server (POST /fake/fault); its HTTP status.
fault() { api POST /fake/fault "$1"; }

# k8s_block [KUBERNETES_LINES [BLOCK_LINES]]: the default Kubernetes Corefile's server
# block for the fake cluster (health, ready, prometheus on 127.0.0.1; kubernetes with pods
# insecure, reverse fallthrough, ttl 30); KUBERNETES_LINES (e.g. "startup_timeout 3s") go
# inside kubernetes { }, BLOCK_LINES (forward, cache...) after it.
k8s_block() {
	cat <<EOF
.:53 {
    errors
    health 127.0.0.1:8080
    ready 127.0.0.1:8181
    prometheus 127.0.0.1:9153
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        endpoint http://127.0.0.1:$API_PORT
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
${1:+$1
}    }
${2:+$2
}}
EOF
}
