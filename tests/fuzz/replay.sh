#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Replay inputs through a fuzz target (the 'fuzz' meson suite).
# usage: replay.sh [--libfuzzer] TARGET PATH...
#   PATH: a file, a directory of inputs, or a .tar.gz of inputs (unpacked to a temporary
#   directory that is removed afterwards; a missing tarball skips the test: exit 77, since
#   external corpora are not part of a user's clone).
#   --libfuzzer: TARGET is a libFuzzer binary; directories run with -runs=0 (execute the
#   corpus, no mutation), files run individually.
set -u

libfuzzer=0
if [ "${1:-}" = "--libfuzzer" ]; then
	libfuzzer=1
	shift
fi
if [ $# -lt 2 ]; then
	echo "usage: $0 [--libfuzzer] TARGET PATH..." >&2
	exit 2
fi
target=$1
shift

tmp=""
cleanup() {
	if [ -n "$tmp" ]; then
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Rewrite the argument list: tarballs become their unpacked directory.
n=$#
for p in "$@"; do
	case "$p" in
	*.tar.gz|*.tgz)
		if [ ! -f "$p" ]; then
			echo "replay: $p not found, skipping"
			exit 77
		fi
		if [ -z "$tmp" ]; then
			tmp=$(mktemp -d "${TMPDIR:-/tmp}/dpdns-replay.XXXXXX") || exit 1
		fi
		d="$tmp/$n"
		mkdir -p "$d" && tar -xzf "$p" -C "$d" || exit 1
		set -- "$@" "$d"
		;;
	*)
		if [ ! -e "$p" ]; then
			echo "replay: $p: no such file or directory" >&2
			exit 1
		fi
		set -- "$@" "$p"
		;;
	esac
	n=$((n + 1))
	shift
done

if [ "$libfuzzer" -eq 0 ]; then
	"$target" "$@"
	exit $?
fi

rc=0
for p in "$@"; do
	if [ -d "$p" ]; then
		# empty directories are fine; libFuzzer would start fuzzing on an empty corpus
		if [ -n "$(find "$p" -type f ! -name '.*' | head -n 1)" ]; then
			"$target" -runs=0 "$p" || rc=1
		fi
	else
		"$target" "$p" || rc=1
	fi
done
exit $rc
