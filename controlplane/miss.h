/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - answering the queries the fast path missed (miss ring -> engine ->
 * reply ring of the worker that received the query).
 */
#pragma once

struct cp_rt;
struct cp_miss;

/** @return the miss handler of @p rt, or NULL on allocation failure. */
struct cp_miss *cp_miss_create(struct cp_rt *rt);

/**
 * Drain the miss ring (bounded per call) and retry replies a full ring refused.
 * @return elements handled; 0 when the ring was empty.
 */
unsigned cp_miss_poll(struct cp_miss *mq);

/** @return 1 when replies are waiting for room in a reply ring. */
int cp_miss_backlogged(const struct cp_miss *mq);

/**
 * Hand every mbuf this process holds back to the fast path (reply with length 0 =
 * drop), including what is still in the miss ring, then free @p mq. Deferred answers
 * must have completed (engine freed) before.
 */
void cp_miss_free(struct cp_miss *mq);
