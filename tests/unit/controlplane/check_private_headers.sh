#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# engine_int.h belongs to the engine core (engine.c, sync.c): plugins see plugin.h only,
# so the engine can change its internals without touching them.
# Usage: check_private_headers.sh CONTROLPLANE_DIR
dir=${1:?usage: $0 CONTROLPLANE_DIR}
bad=0
for f in "$dir"/*.c "$dir"/*.h; do
	case "${f##*/}" in
	engine.c | sync.c | engine_int.h) continue ;;
	esac
	if grep -q '#include[[:space:]]*"engine_int.h"' "$f"; then
		echo "${f##*/} includes engine_int.h (engine-internal); use plugin.h" >&2
		bad=1
	fi
done
[ "$bad" = 0 ] && echo "private headers: ok"
exit "$bad"
