#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Intent: an unmodified program using glibc's resolver in the client namespace (getent, with
# /etc/netns/dpdns-client/resolv.conf: nameserver 198.18.0.53, search it.test) resolves short
# names through the search path, both address families, and reverse lookups.
. "$(dirname "$0")/lib.sh"

lab_up "$(it_corefile)"

check_re "resolv.conf of the client namespace" '^nameserver 198\.18\.0\.53$' \
	"$(grep nameserver /etc/netns/$NS/resolv.conf)"

out=$(in_client getent ahostsv4 www | awk '{print $1}' | sort -u | tr '\n' ' ')
check "getent ahostsv4 www (search it.test)" "198.18.0.10 " "$out"
out=$(in_client getent ahostsv6 www | awk '{print $1}' | sort -u | tr '\n' ' ')
check "getent ahostsv6 www" "2001:db8::10 " "$out"
out=$(in_client getent hosts www.it.test | awk '{print $1, $2}')
check "getent hosts www.it.test (AAAA first)" "2001:db8::10 www.it.test" "$out"
out=$(in_client getent hosts v4only | awk '{print $1, $2}')
check "getent hosts v4only (no AAAA: falls back to A)" "198.18.0.11 v4only.it.test" "$out"
out=$(in_client getent ahosts file | awk '{print $1}' | sort -u | tr '\n' ' ')
check "getent ahosts file (both families, hosts file entry)" "198.18.0.20 2001:db8::20 " "$out"
out=$(in_client getent hosts 198.18.0.10 | awk '{print $2}')
check "getent hosts 198.18.0.10 (PTR)" "www.it.test" "$out"
out=$(in_client getent hosts 2001:db8::12 | awk '{print $2}')
check "getent hosts 2001:db8::12 (PTR)" "v6only.it.test" "$out"
in_client getent hosts nosuchname >/dev/null 2>&1; rc=$?
check "getent hosts nosuchname fails (exit 2: not found)" 2 "$rc"
