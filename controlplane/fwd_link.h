/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - the link between the `cache` and `forward` instances of one server
 * block. CoreDNS's cache wraps the response writer of the plugins after it; here the only
 * answers worth caching are the forwarder's (everything else is already in the shared
 * table), so the forward plugin hands each upstream reply to its block's cache before the
 * client gets it, and the cache asks its block's forwarder for refreshes (prefetch,
 * serve_stale).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "forward.h"

struct cp_engine;
struct cp_sink;
struct cp_cache;
struct cp_fwdp;
struct dns_query;
struct fwc_link;

/** Find or create the link of (@p e, @p block) and take a reference. @return NULL: ENOMEM */
struct fwc_link *fwc_link_get(struct cp_engine *e, unsigned block);
/** Drop a reference (the link goes with the last). */
void fwc_link_put(struct fwc_link *l);

void fwc_link_set_fwd(struct fwc_link *l, struct cp_fwdp *p);
void fwc_link_set_cache(struct fwc_link *l, struct cp_cache *c);
struct cp_fwdp *fwc_link_fwd(const struct fwc_link *l);
struct cp_engine *fwc_link_engine(const struct fwc_link *l);
struct cp_cache *fwc_link_cache(const struct fwc_link *l);

/**
 * The table sink of the engine, as last seen by a tick of either plugin (values are only
 * written from ticks, where the runtime passes its sink). NULL before the first tick.
 */
void fwc_link_set_sink(struct fwc_link *l, const struct cp_sink *sink);
const struct cp_sink *fwc_link_sink(const struct fwc_link *l);

/** Visit the caches of engine @p e (for cp_engine_cache_show/flush). */
void fwc_link_each_cache(const struct cp_engine *e, void (*fn)(struct cp_cache *c, void *arg),
			 void *arg);

/* ------------------------------------------------------------------------- */
/* Forward plugin side, used by the cache                                      */

/**
 * Forward a query on behalf of the cache (refresh or stale verification). The reply is
 * first offered to the cache (cp_cache_store) like any forwarded reply, then @p cb runs.
 * @return 0, or -ENOENT (no stanza matches), -EBUSY, -ENOSPC, -ENOMEM.
 */
int cp_fwdp_forward(struct cp_fwdp *p, const uint8_t *msg, size_t len, const struct dns_query *q,
		    cp_fwd_cb cb, void *ctx);

/* ------------------------------------------------------------------------- */
/* Cache side, used by the forward plugin                                      */

/**
 * Offer an upstream reply (client's ID/question restored) to the cache for query @p q.
 * Applies the cache's capped TTL to @p reply in place when the name is in the cache's
 * zones (as CoreDNS does to the reply it caches), and stores it when cacheable.
 */
void cp_cache_store(struct cp_cache *c, const struct dns_query *q, uint8_t *reply, size_t len);
