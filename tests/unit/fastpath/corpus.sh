#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Replay a tarball of DNS messages through the fast path (suite 'fuzz').
# usage: corpus.sh TEST_BINARY TARBALL
# The corpus is not part of the project: a missing tarball skips the test (exit 77).
set -u
bin=$1
tarball=$2
if [ ! -f "$tarball" ]; then
	echo "corpus $tarball not found, skipping"
	exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dpdns-fpcorpus.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
tar -xzf "$tarball" -C "$tmp" || exit 1
"$bin" "$tmp"
exit $?
