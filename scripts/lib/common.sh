# SPDX-License-Identifier: BSD-3-Clause
# dpdns operator scripts - shared helpers. Sourced, never executed.
# shellcheck shell=bash

DPDNS_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export DPDNS_SRC

# Colour only on a terminal: CI logs stay plain text.
if [ -t 1 ]; then
	_c_b=$'\e[1m'; _c_r=$'\e[31m'; _c_g=$'\e[32m'; _c_y=$'\e[33m'; _c_0=$'\e[0m'
else
	_c_b=; _c_r=; _c_g=; _c_y=; _c_0=
fi

log()  { printf '%s==>%s %s\n' "$_c_b" "$_c_0" "$*"; }
info() { printf '    %s\n' "$*"; }
warn() { printf '%sWARNING:%s %s\n' "$_c_y" "$_c_0" "$*" >&2; }
err()  { printf '%sERROR:%s %s\n' "$_c_r" "$_c_0" "$*" >&2; }
die()  { err "$*"; exit 1; }
ok()   { printf '%sOK%s %s\n' "$_c_g" "$_c_0" "$*"; }

need_root() {
	[ "$(id -u)" = 0 ] || die "$(basename "$0") must run as root (it creates network namespaces, reserves hugepages and installs packages)"
}

# pid_is PID WORD: true when PID is alive and its command line contains WORD.
# Guards every kill against a PID the kernel has since given to another process.
pid_is() {
	local pid=$1 word=$2 cmd
	[ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
	cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
	case "$cmd" in *"$word"*) return 0 ;; esac
	return 1
}

# stop_pid PID WORD [GRACE_SECONDS]: SIGTERM, bounded wait, then SIGKILL. By PID only.
stop_pid() {
	local pid=$1 word=$2 grace=${3:-10} i
	pid_is "$pid" "$word" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < grace * 10; i++)); do
		pid_is "$pid" "$word" || return 0
		sleep 0.1
	done
	warn "$word (pid $pid) ignored SIGTERM for ${grace}s, sending SIGKILL"
	kill -KILL "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		pid_is "$pid" "$word" || return 0
		sleep 0.1
	done
	return 1
}

# Remove what a DPDK process of --file-prefix PREFIX leaves behind after it is gone.
dpdk_prefix_cleanup() {
	local prefix=$1
	[ -n "$prefix" ] || return 0
	rm -f /dev/hugepages/"${prefix}"map_* 2>/dev/null || true
	rm -rf "/var/run/dpdk/${prefix}" 2>/dev/null || true
}
