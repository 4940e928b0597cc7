/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns fast path - the DNS stage of a burst: parse (common codec), bulk table lookups,
 * answers encoded in place, everything else handed to the control plane on the miss ring.
 * Transport-free: frames come in validated, responses leave through fp_l2l3_reply_udp().
 */
#include <errno.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "fp.h"

/** Queries of one burst still waiting for an answer, by index into w->q / w->pkt. */
struct fp_lookup {
	uint16_t n;
	uint16_t idx[FP_BURST];
	const void *keys[FP_BURST];
	hash_sig_t sig[FP_BURST];
	void *data[FP_BURST];
};

/*
 * Values live in hugepage memory the control plane wrote, rarely in cache: each is
 * prefetched this many answers ahead. Prefetching all of a burst's values at once, right
 * after the lookup's own key and bucket misses, measured about 10% slower per hit with a
 * 100,000-name table (fp_bench): most of those prefetches found no free miss buffer.
 */
#define FP_VALUE_AHEAD 8

/** Misses of one burst, enqueued together. */
struct fp_misses {
	uint16_t n;
	struct dp_miss el[FP_BURST];
};

void fp_count_rcode(struct fp_worker *w, unsigned int rcode)
{
	if (rcode < RTE_DIM(w->cnt->rcode))
		w->cnt->rcode[rcode]++;
}

static inline uint8_t *fp_dns_msg(struct rte_mbuf *m, const struct fp_pkt *p)
{
	return rte_pktmbuf_mtod_offset(m, uint8_t *, p->dns_off);
}

/** Finish a response of @p len bytes already written at p->dns_off. */
static inline void fp_respond(struct fp_worker *w, struct rte_mbuf *m, const struct fp_pkt *p,
			      int len, unsigned int rcode, struct rte_mbuf **tx, uint16_t *ntx)
{
	const uint8_t *msg = fp_dns_msg(m, p);

	if (unlikely(len < DNS_HDR_LEN)) {
		w->cnt->drop[DP_DROP_DNS]++;
		rte_pktmbuf_free(m);
		return;
	}
	if (msg[2] & (DNS_F_TC >> 8))
		w->cnt->truncated++;
	fp_count_rcode(w, rcode);
	fp_l2l3_reply_udp(w, m, p->l3_off, p->l3, p->dns_off, (uint16_t)len);
	tx[(*ntx)++] = m;
}

static inline void fp_miss_add(struct fp_worker *w, struct fp_misses *ms, struct rte_mbuf *m,
			       const struct fp_pkt *p, const struct dns_query *q,
			       enum dp_miss_reason why)
{
	struct dp_miss *e = &ms->el[ms->n++];
	uint16_t client = q->has_edns ? q->edns_size : DNS_UDP_MIN;

	e->mbuf = m;
	e->worker = w->idx;
	e->l3_off = p->l3_off;
	e->dns_off = p->dns_off;
	e->dns_len = p->dns_len;
	e->l3 = p->l3;
	e->reason = (uint8_t)why;
	e->max_len = RTE_MIN(client, p->max_len);
}

static void fp_miss_flush(struct fp_worker *w, struct fp_misses *ms)
{
	unsigned int done;

	if (ms->n == 0)
		return;
	/* No control plane attached: queueing would only hand it stale queries (and hold
	 * mbufs) when one attaches; count them as dropped for a full ring instead. */
	if (__atomic_load_n(&w->state->cp_pid, __ATOMIC_RELAXED) == 0)
		done = 0;
	else
		done = rte_ring_mp_enqueue_burst_elem(w->miss_ring, ms->el,
						      sizeof(struct dp_miss), ms->n, NULL);
	w->cnt->missed += done;
	for (unsigned int i = done; i < ms->n; i++) {
		w->cnt->drop[DP_DROP_MISS_FULL]++;
		rte_pktmbuf_free(ms->el[i].mbuf);
	}
	ms->n = 0;
}

/** Parse one query; it either ends here (rcode, drop, miss) or joins the lookup batch. */
static void fp_parse_one(struct fp_worker *w, struct rte_mbuf *m, uint16_t i,
			 struct fp_lookup *lk, struct fp_misses *ms, struct rte_mbuf **tx,
			 uint16_t *ntx)
{
	const struct fp_pkt *p = &w->pkt[i];
	struct dns_query *q = &w->q[i];
	uint8_t *msg = fp_dns_msg(m, p);
	int rc = dns_parse_query(msg, p->dns_len, q);

	if (rc == DNS_RCODE_NOERROR)
		w->cnt->qtype[p->l3 == 6][dp_qt_index(q->qtype)]++;
	if (rc == DNS_PARSE_DROP) {
		w->cnt->drop[DP_DROP_DNS]++;
		rte_pktmbuf_free(m);
	} else if (rc != DNS_RCODE_NOERROR) {
		fp_respond(w, m, p, dns_write_rcode(msg, p->max_len, q, rc), (unsigned int)rc,
			   tx, ntx);
	} else if (!q->key_ok) {
		fp_miss_add(w, ms, m, p, q, DP_MISS_LONG_NAME);
	} else if (q->qtype == DNS_T_ANY || q->qtype == DNS_T_AXFR || q->qtype == DNS_T_IXFR) {
		fp_miss_add(w, ms, m, p, q, DP_MISS_QTYPE);
	} else {
		lk->idx[lk->n] = i;
		lk->keys[lk->n] = &q->key;
		lk->sig[lk->n] = q->hash;
		lk->n++;
	}
}

/**
 * Cache values hold an upstream's answer to a query without DO and CD (the cache plugin
 * stores nothing else): a DNSSEC-aware client must not get them, since they carry no
 * RRSIGs and were validated, or not, on someone else's terms.
 * @return true when cache value @p a may answer query @p q now.
 */
static inline bool fp_cache_usable(const struct fp_worker *w, const struct dns_query *q,
				   const struct dns_answer *a)
{
	return w->now < a->expire && !q->edns_do && !(q->flags & DNS_F_CD);
}

/**
 * Answer query @p i from value @p a. @return false when the value cannot be used
 * (cache entry expired, or asked for with DO/CD): the caller sends the query to the
 * control plane.
 */
static bool fp_answer_one(struct fp_worker *w, struct rte_mbuf **m, uint16_t i,
			  const struct dns_answer *a, struct rte_mbuf **tx, uint16_t *ntx)
{
	const struct fp_pkt *p = &w->pkt[i];
	int len;

	if (a->expire != 0 && !fp_cache_usable(w, &w->q[i], a))
		return false;
	len = dns_write_answer(fp_dns_msg(m[i], p), p->max_len, &w->q[i], a, w->now);
	w->cnt->answered++;
	if (a->expire != 0)
		w->cnt->cache_hits++;
	fp_respond(w, m[i], p, len, a->flags & DNS_F_RCODE, tx, ntx);
	return true;
}

/** @return true when @p zone_len bytes at the end of @p k's name start at a label. */
static bool fp_label_suffix(const struct dns_key *k, const uint8_t *zone, uint16_t zone_len)
{
	uint16_t off, pos = 0;

	if (zone_len > k->name_len)
		return false;
	off = k->name_len - zone_len;
	while (pos < off)
		pos += k->name[pos] + 1u;
	return pos == off && memcmp(k->name + off, zone, zone_len) == 0;
}

/**
 * The zone policy for a name with no entry: the longest enclosing zone decides, so a
 * delegated or forwarded sub-zone without DP_ZONE_ANSWER_MISS is never answered from its
 * parent's negative answer. @return the answer, or NULL to ask the control plane.
 */
static const struct dns_answer *fp_zone_miss(const struct dp_zoneset *zs,
					     const struct dns_key *k)
{
	if (zs == NULL)
		return NULL;
	for (uint32_t z = 0; z < zs->n_zones && z < DP_MAX_ZONES; z++) {
		const struct dp_zone *zn = &zs->zones[z];

		if (zn->name_len == 0 || zn->name_len > DNS_KEY_NAME_MAX ||
		    !fp_label_suffix(k, zn->name, zn->name_len))
			continue;
		return (zn->flags & DP_ZONE_ANSWER_MISS) ? zn->miss : NULL;
	}
	return NULL;
}

static inline void fp_prefetch_value(const struct fp_lookup *lk, uint64_t hit, uint16_t j)
{
	if (j < lk->n && (hit & (1ull << j)))
		rte_prefetch0(lk->data[j]);
}

/** Exact (name, qtype) lookups; what is not found moves on to the exists-marker batch. */
static void fp_lookup_exact(struct fp_worker *w, struct rte_mbuf **m, struct fp_lookup *lk,
			    struct fp_lookup *next, struct fp_misses *ms,
			    struct rte_mbuf **tx, uint16_t *ntx)
{
	uint64_t hit = 0;

	rte_hash_lookup_with_hash_bulk_data(w->hash, lk->keys, lk->sig, lk->n, &hit, lk->data);
	for (uint16_t j = 0; j < FP_VALUE_AHEAD; j++)
		fp_prefetch_value(lk, hit, j);
	for (uint16_t j = 0; j < lk->n; j++) {
		uint16_t i = lk->idx[j];
		struct dns_query *q = &w->q[i];

		fp_prefetch_value(lk, hit, j + FP_VALUE_AHEAD);
		if (hit & (1ull << j)) {
			if (fp_answer_one(w, m, i, lk->data[j], tx, ntx))
				w->cnt->hits++;
			else
				fp_miss_add(w, ms, m[i], &w->pkt[i], q, DP_MISS_EXPIRED);
			continue;
		}
		/* Same name, qtype 0: only the qtype part of the hash is remixed. */
		q->key.qtype = DNS_KEY_T_EXISTS;
		next->idx[next->n] = i;
		next->keys[next->n] = &q->key;
		next->sig[next->n] = dns_hash_mix(q->name_hash, DNS_KEY_T_EXISTS);
		next->n++;
	}
}

/** Exists-marker lookups (NODATA), then the zone policy, then the miss ring. */
static void fp_lookup_exists(struct fp_worker *w, struct rte_mbuf **m, struct fp_lookup *lk,
			     struct fp_misses *ms, struct rte_mbuf **tx, uint16_t *ntx)
{
	const struct dp_zoneset *zs;
	uint64_t hit = 0;

	if (lk->n == 0)
		return;
	rte_hash_lookup_with_hash_bulk_data(w->hash, lk->keys, lk->sig, lk->n, &hit, lk->data);
	for (uint16_t j = 0; j < FP_VALUE_AHEAD; j++)
		fp_prefetch_value(lk, hit, j);
	/* Published with release by the control plane; freed only after our quiescent
	 * report, which comes after this burst. */
	zs = __atomic_load_n(&w->state->zones, __ATOMIC_ACQUIRE);
	for (uint16_t j = 0; j < lk->n; j++) {
		uint16_t i = lk->idx[j];
		struct dns_query *q = &w->q[i];
		const struct dns_answer *za;

		fp_prefetch_value(lk, hit, j + FP_VALUE_AHEAD);

		q->key.qtype = q->qtype;
		if (hit & (1ull << j)) {
			if (fp_answer_one(w, m, i, lk->data[j], tx, ntx))
				w->cnt->nodata++;
			else
				fp_miss_add(w, ms, m[i], &w->pkt[i], q, DP_MISS_EXPIRED);
			continue;
		}
		za = fp_zone_miss(zs, &q->key);
		if (za != NULL && fp_answer_one(w, m, i, za, tx, ntx))
			w->cnt->zone_neg++;
		else
			fp_miss_add(w, ms, m[i], &w->pkt[i], q, DP_MISS_NOT_FOUND);
	}
}

uint16_t fp_answer_burst(struct fp_worker *w, struct rte_mbuf **m, uint16_t n,
			 struct rte_mbuf **tx)
{
	struct fp_lookup exact, exists;
	struct fp_misses ms;
	uint16_t ntx = 0;

	exact.n = exists.n = ms.n = 0;
	for (uint16_t i = 0; i < n; i++)
		fp_parse_one(w, m[i], i, &exact, &ms, tx, &ntx);
	if (exact.n != 0)
		fp_lookup_exact(w, m, &exact, &exists, &ms, tx, &ntx);
	fp_lookup_exists(w, m, &exists, &ms, tx, &ntx);
	fp_miss_flush(w, &ms);
	return ntx;
}
