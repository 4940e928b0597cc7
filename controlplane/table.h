/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - the shared answer table (rte_hash) and zone set as a cp_sink.
 */
#pragma once

#include <stdint.h>

#include "engine.h"

struct rte_hash;
struct rte_rcu_qsbr;
struct dp_state;
struct cp_table;

struct cp_table_stats {
	uint64_t puts;        /* values written (new or changed) */
	uint64_t unchanged;   /* puts skipped: byte-identical value already there */
	uint64_t dels;        /* keys removed (incremental or swept) */
	uint64_t swept;       /* of which removed by a full sync's sweep */
	uint64_t put_failed;  /* table full or out of shared memory */
	uint64_t zone_sets;   /* zone sets published */
	uint64_t freed;       /* deferred frees done after a grace period */
	uint64_t pending;     /* deferred frees still waiting for the workers */
};

/** Wrap the fast path's table, QSBR variable and state. @return NULL on allocation failure */
struct cp_table *cp_table_create(struct rte_hash *h, struct rte_rcu_qsbr *qsbr,
				 struct dp_state *state);

/** Free local memory; waits up to @p wait_ms for grace periods of pending frees
 *  (what is still pending then is leaked rather than freed under a reader). */
void cp_table_free(struct cp_table *t, unsigned wait_ms);

/** @return the sink writing into the shared table (valid while @p t lives). */
const struct cp_sink *cp_table_sink(struct cp_table *t);

/** Start a full sync: keys put from now on are remembered. @return 0 or -ENOMEM */
int cp_table_sync_begin(struct cp_table *t);

/** End a full sync. @p commit: delete every key of the shared table that was not put
 *  during the sync (mark and sweep); otherwise just forget the marks. @return keys deleted */
long cp_table_sync_end(struct cp_table *t, int commit);

/** Free values whose grace period is over. Cheap when nothing is pending. */
void cp_table_reclaim(struct cp_table *t);

/** @return entries in the shared table (rte_hash_count). */
int32_t cp_table_entries(const struct cp_table *t);

/** @return the counters. */
const struct cp_table_stats *cp_table_stats(const struct cp_table *t);
