/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - answering the queries the fast path missed.
 *
 * The mbuf travels with its dp_miss element: the engine writes the response in place,
 * after the query, within max_len; the element goes back on the reply ring of the worker
 * that received the query with dns_len = response length (0 = the worker drops it).
 * Mbufs are returned to the fast path rather than freed here whenever possible: freeing
 * from this process would go through the mempool's per-lcore cache of whatever lcore id
 * this process has, which may be a fast-path lcore's (not thread safe), so the rare local
 * free bypasses the cache.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "dp_shm.h"
#include "engine.h"
#include "miss.h"
#include "runtime.h"

#define MISS_BURST        32
#define MISS_BURSTS_MAX   8     /* per call: keep the loop responsive to sockets */
#define MISS_BACKLOG      1024  /* replies held per worker while its ring is full */
#define MISS_DEFERRED_MAX 4096  /* answers in flight; beyond, the engine must answer now */

struct miss_req {
	struct cp_miss *mq;
	struct dp_miss e;
	uint64_t t0_ns;
	unsigned slot;
	struct miss_req *next;   /* free list */
};

struct miss_backlog {
	struct dp_miss e[MISS_BACKLOG];
	unsigned head, len;
};

struct cp_miss {
	struct cp_rt *rt;
	struct miss_req *free_reqs;
	unsigned deferred;       /* requests the engine still holds */
	unsigned backlogged;     /* elements in all backlogs */
	struct miss_backlog bl[DP_MAX_WORKERS];
};

static void mbuf_free_nocache(struct rte_mbuf *m)
{
	while (m != NULL) {
		struct rte_mbuf *next = m->next;
		struct rte_mbuf *seg = rte_pktmbuf_prefree_seg(m);

		if (seg != NULL)
			rte_mempool_generic_put(seg->pool, (void **)&seg, 1, NULL);
		m = next;
	}
}

/* Send an element back to its worker; keep it when the ring is full. */
static void miss_return(struct cp_miss *mq, struct dp_miss *e)
{
	struct cp_rt *rt = mq->rt;
	struct miss_backlog *bl = &mq->bl[e->worker];

	if (rt->detached)
		return; /* the mbuf went away with the fast path's memory */
	if (bl->len == 0 &&
	    rte_ring_enqueue_elem(rt->reply_ring[e->worker], e, sizeof(*e)) == 0)
		return;
	if (bl->len < MISS_BACKLOG) {
		bl->e[(bl->head + bl->len) % MISS_BACKLOG] = *e;
		bl->len++;
		mq->backlogged++;
		return;
	}
	rt->stats.miss_reply_full++;
	mbuf_free_nocache(e->mbuf);
}

static void backlog_flush(struct cp_miss *mq)
{
	unsigned w;

	for (w = 0; w < mq->rt->n_workers && mq->backlogged > 0; w++) {
		struct miss_backlog *bl = &mq->bl[w];

		while (bl->len > 0 &&
		       rte_ring_enqueue_elem(mq->rt->reply_ring[w], &bl->e[bl->head],
					     sizeof(bl->e[0])) == 0) {
			bl->head = (bl->head + 1) % MISS_BACKLOG;
			bl->len--;
			mq->backlogged--;
		}
	}
}

/* Response of length @p len (0 = none) is in place: account and return the element. */
static void miss_finish(struct cp_miss *mq, struct dp_miss *e, int len, unsigned slot,
			uint64_t t0_ns)
{
	struct cp_rt *rt = mq->rt;
	uint8_t *msg;

	cp_stats_duration(&rt->stats, cp_mono_ns() - t0_ns);
	if (len <= 0 || len > e->max_len) {
		rt->stats.miss_no_answer++;
		e->dns_len = 0;
	} else {
		msg = rte_pktmbuf_mtod_offset((struct rte_mbuf *)e->mbuf, uint8_t *, e->dns_off);
		/* Counted as a request by family/type here; the fast path counts the
		 * response (rcode[]) when it transmits it. */
		rt->stats.port[slot].miss_resp[cp_msg_rcode(msg, (size_t)len)]++;
		rt->stats.miss_replied++;
		e->dns_len = (uint16_t)len;
	}
	miss_return(mq, e);
}

static void miss_done(void *arg, const uint8_t *resp, size_t len)
{
	struct miss_req *r = arg;
	struct cp_miss *mq = r->mq;
	int n = 0;

	if (!mq->rt->detached && resp != NULL && len > 0 && len <= r->e.max_len) {
		memmove(rte_pktmbuf_mtod_offset((struct rte_mbuf *)r->e.mbuf, uint8_t *,
						r->e.dns_off), resp, len);
		n = (int)len;
	}
	mq->rt->stats.miss_deferred++;
	miss_finish(mq, &r->e, n, r->slot, r->t0_ns);
	mq->deferred--;
	r->next = mq->free_reqs;
	mq->free_reqs = r;
}

static struct miss_req *req_get(struct cp_miss *mq)
{
	struct miss_req *r = mq->free_reqs;

	if (mq->deferred >= MISS_DEFERRED_MAX)
		return NULL;
	if (r != NULL)
		mq->free_reqs = r->next;
	else
		r = malloc(sizeof(*r));
	return r;
}

/* Client address and ports from the IP/UDP headers the fast path left in the frame. */
static void miss_client(struct cp_client *c, const struct rte_mbuf *m, const struct dp_miss *e)
{
	const uint8_t *ip = rte_pktmbuf_mtod_offset(m, const uint8_t *, e->l3_off);
	const uint8_t *udp = rte_pktmbuf_mtod_offset(m, const uint8_t *, e->dns_off - 8);

	memset(c, 0, sizeof(*c));
	if (e->l3 == 6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&c->addr;

		a->sin6_family = AF_INET6;
		memcpy(&a->sin6_addr, ip + 8, 16);
		memcpy(&a->sin6_port, udp, 2);
		c->addr_len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&c->addr;

		a->sin_family = AF_INET;
		memcpy(&a->sin_addr, ip + 12, 4);
		memcpy(&a->sin_port, udp, 2);
		c->addr_len = sizeof(*a);
	}
	c->local_port = (uint16_t)(udp[2] << 8 | udp[3]);
}

/* The element comes from the other process: check it before trusting its offsets. */
static int miss_valid(const struct cp_rt *rt, const struct dp_miss *e)
{
	const struct rte_mbuf *m = e->mbuf;
	unsigned min_l3 = e->l3 == 6 ? 40 : 20;

	if (m == NULL || e->worker >= rt->n_workers)
		return -EINVAL;
	if ((e->l3 != 4 && e->l3 != 6) || e->dns_off < e->l3_off + min_l3 + 8 ||
	    e->dns_len < 12 || e->max_len < 12 ||
	    (unsigned)e->dns_off + e->dns_len > rte_pktmbuf_data_len(m) ||
	    (unsigned)e->dns_off + e->max_len > (unsigned)(m->buf_len - m->data_off))
		return -ERANGE;
	return 0;
}

static void miss_one(struct cp_miss *mq, struct dp_miss *e)
{
	struct cp_rt *rt = mq->rt;
	struct cp_client c;
	struct miss_req *r;
	uint8_t *msg;
	unsigned slot;
	uint64_t t0 = cp_mono_ns();
	int qtype, len, v;

	if ((v = miss_valid(rt, e)) < 0) {
		rt->stats.miss_bad++;
		if (v == -EINVAL) {
			mbuf_free_nocache(e->mbuf); /* no worker to return it to */
			return;
		}
		e->dns_len = 0;
		miss_return(mq, e);
		return;
	}
	msg = rte_pktmbuf_mtod_offset((struct rte_mbuf *)e->mbuf, uint8_t *, e->dns_off);
	miss_client(&c, e->mbuf, e);
	slot = cp_port_slot(cp_rt_settings(rt), c.local_port);
	qtype = cp_msg_qtype(msg, e->dns_len);
	rt->stats.port[slot].miss_req[e->l3 == 6][dp_qt_index(qtype < 0 ? 0 : (uint16_t)qtype)]++;

	r = req_get(mq);
	if (r != NULL) {
		r->mq = mq;
		r->e = *e;
		r->t0_ns = t0;
		r->slot = slot;
		c.done = miss_done;
		c.req = r;
	}
	len = cp_engine_answer(rt->engine, msg, e->dns_len, e->max_len, &c);
	if (len == CP_ANSWER_DEFERRED && r != NULL) {
		mq->deferred++;
		return;
	}
	if (r != NULL) {
		r->next = mq->free_reqs;
		mq->free_reqs = r;
	}
	miss_finish(mq, e, len, slot, t0);
}

unsigned cp_miss_poll(struct cp_miss *mq)
{
	struct dp_miss burst[MISS_BURST];
	unsigned total = 0, i, n, b;

	if (mq->backlogged > 0)
		backlog_flush(mq);
	for (b = 0; b < MISS_BURSTS_MAX; b++) {
		n = rte_ring_dequeue_burst_elem(mq->rt->miss_ring, burst, sizeof(burst[0]),
						MISS_BURST, NULL);
		mq->rt->stats.miss_dequeued += n;
		for (i = 0; i < n; i++)
			miss_one(mq, &burst[i]);
		total += n;
		if (n < MISS_BURST)
			break;
	}
	return total;
}

int cp_miss_backlogged(const struct cp_miss *mq)
{
	return mq->backlogged > 0;
}

struct cp_miss *cp_miss_create(struct cp_rt *rt)
{
	struct cp_miss *mq = calloc(1, sizeof(*mq));

	if (mq == NULL)
		return NULL;
	mq->rt = rt;
	return mq;
}

void cp_miss_free(struct cp_miss *mq)
{
	struct dp_miss e;
	unsigned w, n;

	if (mq == NULL)
		return;
	backlog_flush(mq);
	for (w = 0; w < DP_MAX_WORKERS; w++) {
		struct miss_backlog *bl = &mq->bl[w];

		for (; bl->len > 0; bl->len--, bl->head = (bl->head + 1) % MISS_BACKLOG)
			mbuf_free_nocache(bl->e[bl->head].mbuf);
	}
	/* Whatever the fast path queued meanwhile goes back as "drop". Bounded by the ring
	 * size: the fast path sees cp_pid == 0 by now and stops queueing. */
	for (n = rte_ring_get_capacity(mq->rt->miss_ring); n > 0; n--) {
		if (rte_ring_dequeue_elem(mq->rt->miss_ring, &e, sizeof(e)) != 0)
			break;
		e.dns_len = 0;
		if (miss_valid(mq->rt, &e) == -EINVAL ||
		    rte_ring_enqueue_elem(mq->rt->reply_ring[e.worker], &e, sizeof(e)) != 0)
			mbuf_free_nocache(e.mbuf);
	}
	while (mq->free_reqs != NULL) {
		struct miss_req *r = mq->free_reqs;

		mq->free_reqs = r->next;
		free(r);
	}
	free(mq);
}
