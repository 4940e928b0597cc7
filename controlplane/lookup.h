/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - `dpdnsctl lookup`: what the fast path would answer for a name and
 * type (exact entry, exists marker, zone policy), or what the engine answers when the
 * query would go to the control plane; the response decoded to text.
 */
#pragma once

#include <jansson.h>

struct cp_rt;

/** Called with the result of a deferred lookup (owned by the callee). */
typedef void (*cp_lookup_cb)(void *ctx, json_t *result);

/**
 * Look @p name / @p type ("A" when NULL) up.
 * @return the result object ({"ok":true,...} or {"ok":false,"error":...}), or NULL when
 *         the engine deferred the answer: @p cb(ctx, result) is called later.
 */
json_t *cp_lookup(struct cp_rt *rt, const char *name, const char *type, cp_lookup_cb cb,
		  void *ctx);

/**
 * Decode a DNS response into @p obj: "rcode", "flags", "answer", "authority",
 * "additional" (records as zone-file text; the OPT record as "edns").
 * @return 0, or -EINVAL when it is malformed.
 */
int cp_decode_response(const uint8_t *msg, size_t len, json_t *obj);
