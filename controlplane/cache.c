/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - the `cache` plugin (see cache.h).
 *
 * Entries live in a chained hash table keyed by the table key (lower-cased name + type),
 * with one array per kind (success, denial) for random eviction at capacity, as CoreDNS
 * evicts randomly. Times are CLOCK_MONOTONIC seconds (dp_monotonic_sec), the clock of
 * dns_answer.stored/expire and of the fast path.
 *
 * Prefetch: the fast path serves hits without telling anyone, so an entry is published
 * with an expiry at its prefetch point (PERCENTAGE of its TTL left). The first query after
 * that point reaches the engine, which answers from its copy with the true remaining TTL,
 * counts the hit (CoreDNS's frequency: hits with no gap of DURATION) and refreshes the
 * entry once AMOUNT hits were seen. Hits the fast path served before that point are not
 * counted, so AMOUNT > 1 needs that many queries after the prefetch point.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "corefile.h"
#include "dns.h"
#include "dp_shm.h"
#include "engine.h"
#include "fwd_int.h"
#include "fwd_link.h"
#include "fwd_msg.h"
#include "plugin.h"

enum { C_SUCCESS = 0, C_DENIAL = 1 };

#define CACHE_DEFAULT_CAP  9984 /* 256 shards x 39 */
#define CACHE_SHARDS       256
#define CACHE_MAX_TTL      3600
#define CACHE_MAX_NTTL     1800
#define CACHE_MIN_TTL      5
#define CACHE_SERVFAIL_MAX 300  /* servfail: at most 5 minutes */
#define CACHE_OUT_MAX      65535
#define CACHE_VAL_MAX      (sizeof(struct dns_answer) + DNS_BUILD_MAX + 2 * DNS_ANS_MAX_TTL)

struct cache_ent {
	struct cache_ent *hnext;
	uint32_t slot;          /* index in arr[kind] */
	uint8_t kind;
	uint8_t rcode;
	bool published;
	bool refreshing;
	uint32_t stored, expire, ttl;
	uint32_t hits;          /* prefetch frequency */
	uint64_t last_hit_ms;
	uint32_t hash;
	struct dns_key key;
	size_t size;
	struct dns_answer *val;
};

/* A refresh or a stale verification in flight (the cache may be freed meanwhile). */
struct cache_job {
	struct cache_job *prev, *next;
	struct cp_cache *c;     /* NULL once the cache is gone */
	struct dns_key key;
	uint32_t hash;
	void (*done)(void *req, const uint8_t *resp, size_t len); /* verify: the client */
	void *req;
	size_t cap;
	struct dns_query q;
	size_t len;
	uint8_t msg[];
};

struct cp_cache {
	struct fwc_link *link;
	unsigned block;
	char server[32];
	char zones_label[256];
	struct cp_zone *zones;
	unsigned n_zones;
	uint32_t max_ttl[2], min_ttl[2], cap[2];
	uint32_t prefetch, pct;
	uint64_t prefetch_ms;
	uint64_t stale_ms;
	bool verify;
	uint32_t servfail_s;
	bool keepttl;
	struct cp_zone *disable[2];
	int n_disable[2];          /* -1: disabled everywhere */

	struct cache_ent **bucket;
	uint32_t nbucket;          /* power of two */
	struct cache_ent **arr[2];
	uint32_t n[2];
	struct cache_job *jobs;
	uint64_t last_sweep_ms;
	bool republish;            /* a full sync swept the table: put everything back */
	uint8_t *tmp;              /* value being built */
	uint8_t *out;              /* response to a waiting client (verify) */

	uint64_t hits[2], misses, requests, prefetches, stale, evictions[2], inserts, uncacheable;
};

/* ------------------------------------------------------------------------- */
/* Store                                                                       */

static struct cache_ent **slot_of(struct cp_cache *c, const struct dns_key *k, uint32_t hash)
{
	struct cache_ent **pp = &c->bucket[hash & (c->nbucket - 1)];

	while (*pp != NULL && ((*pp)->hash != hash || memcmp(&(*pp)->key, k, sizeof(*k)) != 0))
		pp = &(*pp)->hnext;
	return pp;
}

static struct cache_ent *ent_find(struct cp_cache *c, const struct dns_key *k, uint32_t hash)
{
	return *slot_of(c, k, hash);
}

/*
 * The shared table is keyed by (name, type) only and answers every port the fast path
 * serves: with server blocks on several ports a block's cache would answer the others'
 * queries, so entries then stay in the control plane.
 */
static bool table_ok(const struct cp_cache *c)
{
	const struct cp_settings *set = cp_engine_settings(fwc_link_engine(c->link));

	return set == NULL || set->dns_ports[0] == 0 || set->dns_ports[1] == 0;
}

static void ent_publish(struct cp_cache *c, struct cache_ent *e)
{
	const struct cp_sink *sink = fwc_link_sink(c->link);

	if (sink == NULL || !table_ok(c))
		return; /* the next tick publishes it (one port) */
	e->published = sink->put(sink->ctx, &e->key, e->hash, e->val, e->size) == 0;
}

/* Unlink and free; the table entry goes too (else the fast path would keep using it). */
static void ent_remove(struct cp_cache *c, struct cache_ent *e)
{
	const struct cp_sink *sink = fwc_link_sink(c->link);
	struct cache_ent **pp = slot_of(c, &e->key, e->hash);
	uint32_t last;

	if (e->published && sink != NULL)
		sink->del(sink->ctx, &e->key, e->hash);
	*pp = e->hnext;
	last = --c->n[e->kind];
	c->arr[e->kind][e->slot] = c->arr[e->kind][last];
	c->arr[e->kind][e->slot]->slot = e->slot;
	free(e->val);
	free(e);
}

static void ent_evict(struct cp_cache *c, int kind)
{
	if (c->n[kind] == 0)
		return;
	ent_remove(c, c->arr[kind][fwd_random_below(c->n[kind])]);
	c->evictions[kind]++;
}

/* The expiry written in the shared table: the prefetch point when prefetching. */
static uint32_t pub_expire(const struct cp_cache *c, uint32_t stored, uint32_t ttl)
{
	uint32_t thr;

	if (c->prefetch == 0)
		return stored + ttl;
	thr = (uint32_t)(((uint64_t)ttl * c->pct + 99) / 100);
	if (thr < 1)
		thr = 1;
	return stored + (ttl > thr ? ttl - thr : 0);
}

/* Insert or replace the entry for @p k with the value in c->tmp. */
static void ent_put(struct cp_cache *c, const struct dns_key *k, uint32_t hash, int kind,
		    uint32_t ttl, size_t size)
{
	struct cache_ent *e = ent_find(c, k, hash);
	struct dns_answer *val = malloc(size);
	uint32_t now = dp_monotonic_sec(), hits = 0;
	uint64_t last_hit = 0;

	if (val == NULL)
		return;
	memcpy(val, c->tmp, size);
	if (e != NULL && e->kind != kind) {
		hits = e->hits;
		last_hit = e->last_hit_ms;
		e->published = false; /* the put below replaces the table value in place */
		ent_remove(c, e);
		e = NULL;
	}
	if (e == NULL) {
		if (c->n[kind] >= c->cap[kind])
			ent_evict(c, kind);
		e = calloc(1, sizeof(*e));
		if (e == NULL) {
			free(val);
			return;
		}
		e->key = *k;
		e->hash = hash;
		e->kind = (uint8_t)kind;
		e->slot = c->n[kind];
		e->hits = hits;
		e->last_hit_ms = last_hit;
		c->arr[kind][c->n[kind]++] = e;
		e->hnext = c->bucket[hash & (c->nbucket - 1)];
		c->bucket[hash & (c->nbucket - 1)] = e;
	} else {
		free(e->val);
	}
	/* A refresh keeps the frequency gathered so far (CoreDNS copies it over). */
	e->val = val;
	e->size = size;
	e->rcode = (uint8_t)(val->flags & DNS_F_RCODE);
	e->stored = now;
	e->ttl = ttl;
	e->expire = now + ttl;
	e->refreshing = false;
	val->stored = now;
	val->expire = pub_expire(c, now, ttl);
	c->inserts++;
	ent_publish(c, e);
}

/* ------------------------------------------------------------------------- */
/* Caching replies                                                             */

static bool in_zones(const struct cp_zone *z, int n, const uint8_t *name, size_t len)
{
	if (n < 0)
		return true;
	return cp_zone_match(z, (unsigned)n, name, len) >= 0;
}

static uint32_t clamp_ttl(uint32_t v, uint32_t lo, uint32_t hi)
{
	if (v < lo)
		v = lo;
	if (v > hi)
		v = hi;
	return v;
}

/* Duration a reply is cached for (CoreDNS ResponseWriter.WriteMsg). */
static uint32_t reply_ttl(const struct cp_cache *c, const struct fwd_msg_info *in)
{
	if (in->type == FWD_RT_NXDOMAIN || in->type == FWD_RT_NODATA)
		return clamp_ttl(in->min_ttl, c->min_ttl[C_DENIAL], c->max_ttl[C_DENIAL]);
	if (in->type == FWD_RT_SERVERROR)
		return c->servfail_s;
	return clamp_ttl(in->min_ttl, c->min_ttl[C_SUCCESS], c->max_ttl[C_SUCCESS]);
}

static bool query_cacheable(const struct dns_query *q)
{
	return q->key_ok && !q->edns_do && !(q->flags & DNS_F_CD) && q->qclass == DNS_C_IN &&
	       !(q->flags & DNS_F_OPCODE) && q->qtype != DNS_T_AXFR && q->qtype != DNS_T_IXFR;
}

void cp_cache_store(struct cp_cache *c, const struct dns_query *q, uint8_t *reply, size_t len)
{
	const uint8_t *name = q->key.name;
	struct fwd_msg_info in;
	struct cache_ent *old;
	uint32_t ttl;
	int kind, size;

	if (!q->key_ok || !in_zones(c->zones, (int)c->n_zones, name, q->key.name_len) ||
	    fwd_msg_classify(reply, len, &in) != 0)
		return;
	ttl = reply_ttl(c, &in);
	/* CoreDNS gives the client the capped TTL too ("avoid jarring TTL experience"). */
	if (in.type != FWD_RT_SERVERROR)
		fwd_msg_set_ttls(reply, len, ttl);
	kind = in.type == FWD_RT_NXDOMAIN || in.type == FWD_RT_NODATA ||
	       in.type == FWD_RT_SERVERROR ? C_DENIAL : C_SUCCESS;
	if (in.tc || in.type == FWD_RT_OTHER || ttl == 0 || !query_cacheable(q) ||
	    in_zones(c->disable[kind], c->n_disable[kind], name, q->key.name_len)) {
		c->uncacheable++;
		return;
	}
	/* A SERVFAIL never replaces a real answer (fresh, or stale and still servable). */
	old = ent_find(c, &q->key, q->hash);
	if (in.type == FWD_RT_SERVERROR && old != NULL && old->rcode != DNS_RCODE_SERVFAIL)
		return;
	/* AA off (it comes from a cache), AD off (the table serves every client alike). */
	size = fwd_msg_to_answer(reply, len, &q->key, (uint16_t)((in.flags & DNS_F_RA) | in.rcode),
				 ttl, c->keepttl, (struct dns_answer *)c->tmp, CACHE_VAL_MAX);
	if (size < 0 || ((struct dns_answer *)c->tmp)->rr_len > DNS_BUILD_MAX) {
		c->uncacheable++;
		return;
	}
	ent_put(c, &q->key, q->hash, kind, ttl, (size_t)size);
}

/* ------------------------------------------------------------------------- */
/* Answering                                                                   */

/* Put the entry's records in the builder with every TTL = @p ttl. */
static int fill_builder(struct dns_builder *b, const struct cache_ent *e, uint32_t ttl)
{
	const struct dns_answer *a = e->val;
	size_t pos = 0;
	unsigned n = (unsigned)a->ancount + a->nscount + a->arcount;

	if (a->rr_len > DNS_BUILD_MAX || n > DNS_ANS_MAX_TTL)
		return -ENOSPC;
	memcpy(b->buf, a->rr, a->rr_len);
	b->len = a->rr_len;
	b->count[DNS_SEC_ANSWER] = a->ancount;
	b->count[DNS_SEC_AUTHORITY] = a->nscount;
	b->count[DNS_SEC_ADDITIONAL] = a->arcount;
	b->flags = a->flags;
	b->err = 0;
	b->n_ttl = 0;
	for (unsigned i = 0; i < n; i++) {
		/* Owners in a value are the question pointer or an uncompressed name. */
		while (pos < b->len && b->buf[pos] != 0 && (b->buf[pos] & 0xc0) != 0xc0)
			pos += 1u + b->buf[pos];
		pos += pos < b->len && b->buf[pos] == 0 ? 1 : 2;
		if (pos + 10 > b->len)
			return -EINVAL;
		b->ttl_off[b->n_ttl++] = (uint16_t)(pos + 4);
		b->buf[pos + 4] = (uint8_t)(ttl >> 24);
		b->buf[pos + 5] = (uint8_t)(ttl >> 16);
		b->buf[pos + 6] = (uint8_t)(ttl >> 8);
		b->buf[pos + 7] = (uint8_t)ttl;
		pos += 10u + ((size_t)b->buf[pos + 8] << 8 | b->buf[pos + 9]);
	}
	return pos == b->len ? 0 : -EINVAL;
}

static void job_unlink(struct cache_job *j)
{
	if (j->c != NULL) {
		if (j->prev != NULL)
			j->prev->next = j->next;
		else
			j->c->jobs = j->next;
		if (j->next != NULL)
			j->next->prev = j->prev;
	}
}

static void job_done(void *ctx, enum cp_fwd_status st, uint8_t *reply, size_t len);

/* Start a refresh (or, with @p done, a stale verification) of @p e. @return 0 or -errno */
static int job_start(struct cp_cache *c, struct cache_ent *e, const struct cp_request *rq)
{
	struct cp_fwdp *fwd = fwc_link_fwd(c->link);
	size_t len = rq != NULL ? rq->len : DNS_HDR_LEN + e->key.name_len + 4u;
	struct cache_job *j;
	int r;

	if (fwd == NULL)
		return -ENOENT;
	j = calloc(1, sizeof(*j) + len);
	if (j == NULL)
		return -ENOMEM;
	j->c = c;
	j->key = e->key;
	j->hash = e->hash;
	j->len = len;
	if (rq != NULL) {
		/* Verify: the client's own query goes out; the client waits for the outcome. */
		memcpy(j->msg, rq->msg, len);
		j->q = *rq->q;
		j->done = rq->client->done;
		j->req = rq->client->req;
		j->cap = rq->cap < CACHE_OUT_MAX ? rq->cap : CACHE_OUT_MAX;
	} else {
		fwd_msg_build_query(j->msg, len, fwd_random16(), e->key.name, e->key.name_len,
				    e->key.qtype, true);
		if (dns_parse_query(j->msg, len, &j->q) != DNS_RCODE_NOERROR) {
			free(j);
			return -EINVAL;
		}
	}
	r = cp_fwdp_forward(fwd, j->msg, j->len, &j->q, job_done, j);
	if (r != 0) {
		free(j);
		return r;
	}
	j->next = c->jobs;
	if (c->jobs != NULL)
		c->jobs->prev = j;
	c->jobs = j;
	e->refreshing = true;
	return 0;
}

/* Verify mode: the reply when it refreshed the entry (NOERROR/NXDOMAIN), else stale. */
static void job_answer(struct cache_job *j, enum cp_fwd_status st, uint8_t *reply, size_t len)
{
	struct cp_cache *c = j->c;
	struct cache_ent *e = c != NULL ? ent_find(c, &j->key, j->hash) : NULL;
	uint8_t *out = c != NULL ? c->out : NULL;
	int rc = st == CP_FWD_REPLY ? (reply[3] & 0xf) : -1, n = 0;

	if (st == CP_FWD_CANCELLED || out == NULL) {
		j->done(j->req, NULL, 0);
		return;
	}
	if (rc == DNS_RCODE_NOERROR || rc == DNS_RCODE_NXDOMAIN) {
		n = fwd_msg_relay(out, j->cap, reply, len, j->msg, &j->q);
	} else if (e != NULL) {
		c->stale++;
		n = fwd_msg_from_answer(out, j->cap, j->msg, &j->q, e->val, 0);
	} else {
		n = fwd_msg_rcode(out, j->cap, j->msg, &j->q, DNS_RCODE_SERVFAIL);
	}
	j->done(j->req, out, n > 0 ? (size_t)n : 0);
}

static void job_done(void *ctx, enum cp_fwd_status st, uint8_t *reply, size_t len)
{
	struct cache_job *j = ctx;
	struct cache_ent *e;

	if (j->c != NULL) {
		e = ent_find(j->c, &j->key, j->hash);
		if (e != NULL)
			e->refreshing = false;
	}
	if (j->done != NULL)
		job_answer(j, st, reply, len);
	job_unlink(j);
	free(j);
}

/* CoreDNS freq.Freq.Update: hits with no gap of DURATION or more. */
static uint32_t freq_update(const struct cp_cache *c, struct cache_ent *e, uint64_t now_ms)
{
	if (e->hits == 0 || now_ms - e->last_hit_ms >= c->prefetch_ms)
		e->hits = 1;
	else
		e->hits++;
	e->last_hit_ms = now_ms;
	return e->hits;
}

static enum cp_serve serve_entry(struct cp_cache *c, struct cache_ent *e,
				 const struct cp_request *rq, struct dns_builder *b)
{
	uint32_t now = dp_monotonic_sec();
	int64_t left = (int64_t)e->expire - now;

	if (left > 0) {
		c->hits[e->kind]++;
		if (c->prefetch != 0 && !e->refreshing &&
		    freq_update(c, e, fwd_now_ms()) >= c->prefetch &&
		    now >= pub_expire(c, e->stored, e->ttl) && job_start(c, e, NULL) == 0)
			c->prefetches++;
		if (fill_builder(b, e, c->keepttl ? e->ttl : (uint32_t)left) != 0)
			return CP_NEXT;
		return CP_ANSWERED;
	}
	/* Stale: servable within serve_stale's window (never a cached SERVFAIL). */
	if (c->stale_ms == 0 || e->rcode == DNS_RCODE_SERVFAIL ||
	    (uint64_t)(-left) * 1000 >= c->stale_ms) {
		ent_remove(c, e);
		c->misses++;
		return CP_NEXT;
	}
	if (c->verify && rq->client != NULL && rq->client->done != NULL && !e->refreshing &&
	    job_start(c, e, rq) == 0)
		return CP_DEFERRED;
	if (!e->refreshing)
		job_start(c, e, NULL);
	c->stale++;
	c->hits[e->kind]++;
	return fill_builder(b, e, 0) == 0 ? CP_ANSWERED : CP_NEXT;
}

static enum cp_serve cache_serve(void *inst, const struct cp_request *rq, struct dns_builder *b)
{
	struct cp_cache *c = inst;
	struct cache_ent *e;

	/* The table is filled from ticks, never from static evaluation. */
	if (rq->sync || rq->q == NULL)
		return CP_NEXT;
	if (!in_zones(c->zones, (int)c->n_zones, rq->qname, rq->qname_len))
		return CP_NEXT;
	c->requests++;
	if (!query_cacheable(rq->q)) {
		c->misses++;
		return CP_NEXT;
	}
	e = ent_find(c, &rq->q->key, rq->q->hash);
	if (e == NULL) {
		c->misses++;
		return CP_NEXT;
	}
	return serve_entry(c, e, rq, b);
}

/* ------------------------------------------------------------------------- */
/* Ticks and syncs                                                             */

static void cache_sweep(struct cp_cache *c)
{
	uint32_t now = dp_monotonic_sec();

	for (int k = 0; k < 2; k++) {
		for (uint32_t i = 0; i < c->n[k];) {
			struct cache_ent *e = c->arr[k][i];
			uint64_t stale = e->rcode == DNS_RCODE_SERVFAIL ? 0 : c->stale_ms / 1000;

			if (now >= e->expire + stale && !e->refreshing) {
				ent_remove(c, e); /* the last entry moved into slot i */
				continue;
			}
			if (!e->published)
				ent_publish(c, e);
			i++;
		}
	}
}

static int cache_tick(void *inst, struct cp_tick *t, uint64_t now_ms)
{
	struct cp_cache *c = inst;

	fwc_link_set_sink(c->link, cp_tick_sink(t));
	if (c->republish || now_ms - c->last_sweep_ms >= 1000) {
		c->republish = false;
		c->last_sweep_ms = now_ms;
		cache_sweep(c);
	}
	return 0;
}

/*
 * A full sync deletes every key it was not given, and plugins only offer names for the
 * chain to evaluate: the entries are put back by the next tick (the fast path sends
 * their queries here meanwhile, and they are answered from this copy).
 */
static int cache_sync(void *inst, struct cp_sync *s)
{
	struct cp_cache *c = inst;

	(void)s;
	for (int k = 0; k < 2; k++) {
		for (uint32_t i = 0; i < c->n[k]; i++)
			c->arr[k][i]->published = false;
	}
	c->republish = true;
	return 0;
}

static void cache_outcome(void *inst, const struct cp_region *r, struct cp_outcome *o)
{
	(void)inst;
	(void)r;
	o->next = true;
}

/* ------------------------------------------------------------------------- */
/* Setup                                                                       */

/* CoreDNS pkg/cache.New: 256 shards of at least 4 items, capacity rounded down. */
static uint32_t norm_cap(unsigned long v)
{
	unsigned long per = v / CACHE_SHARDS;

	if (per < 4)
		per = 4;
	if (per > (1ul << 22))
		per = 1ul << 22;
	return (uint32_t)(per * CACHE_SHARDS);
}

static int arg_err(struct cp_setup *s, const struct cf_line *l)
{
	return cp_setup_err(s, &l->tok[0], "%s: wrong argument count or unexpected line ending "
			    "after '%s'", l->tok[0].text, l->tok[l->n_tok - 1].text);
}

static int opt_u32(struct cp_setup *s, const struct cf_token *t, unsigned long min,
		   unsigned long max, uint32_t *out)
{
	unsigned long v;

	if (cp_parse_uint(t->text, min, max, &v) != 0)
		return cp_setup_err(s, t, "invalid value '%s'", t->text);
	*out = (uint32_t)v;
	return 0;
}

/* success|denial CAPACITY [TTL] [MINTTL] */
static int opt_kind(struct cp_cache *c, struct cp_setup *s, const struct cf_line *l, int kind)
{
	unsigned long cap;

	if (l->n_tok < 2 || l->n_tok > 4)
		return arg_err(s, l);
	if (cp_parse_uint(l->tok[1].text, 0, UINT32_MAX, &cap) != 0)
		return cp_setup_err(s, &l->tok[1], "invalid capacity '%s'", l->tok[1].text);
	c->cap[kind] = norm_cap(cap);
	if (l->n_tok > 2 && opt_u32(s, &l->tok[2], 1, UINT32_MAX, &c->max_ttl[kind]) != 0)
		return -EINVAL;
	if (l->n_tok > 3 && opt_u32(s, &l->tok[3], 0, UINT32_MAX, &c->min_ttl[kind]) != 0)
		return -EINVAL;
	return 0;
}

static int opt_duration(struct cp_setup *s, const struct cf_token *t, uint64_t *ms)
{
	if (fwd_parse_duration(t->text, ms) != 0)
		return cp_setup_err(s, t, "invalid duration '%s'", t->text);
	return 0;
}

/* prefetch AMOUNT [[DURATION] [PERCENTAGE%]] */
static int opt_prefetch(struct cp_cache *c, struct cp_setup *s, const struct cf_line *l)
{
	const struct cf_token *pt;
	size_t n;
	char num[16];

	if (l->n_tok < 2 || l->n_tok > 4)
		return arg_err(s, l);
	if (opt_u32(s, &l->tok[1], 0, UINT32_MAX, &c->prefetch) != 0)
		return -EINVAL;
	if (l->n_tok > 2 && opt_duration(s, &l->tok[2], &c->prefetch_ms) != 0)
		return -EINVAL;
	if (l->n_tok < 4)
		return 0;
	pt = &l->tok[3];
	n = strlen(pt->text);
	if (n < 2 || n > sizeof(num) || pt->text[n - 1] != '%')
		return cp_setup_err(s, pt, "last character of percentage should be `%%`, but is: "
				    "'%s'", pt->text);
	memcpy(num, pt->text, n - 1);
	num[n - 1] = '\0';
	{
		unsigned long v;

		if (cp_parse_uint(num, 10, 90, &v) != 0)
			return cp_setup_err(s, pt, "percentage should fall in range [10, 90]: %s",
					    pt->text);
		c->pct = (uint32_t)v;
	}
	return 0;
}

/* serve_stale [DURATION] [immediate|verify] */
static int opt_stale(struct cp_cache *c, struct cp_setup *s, const struct cf_line *l)
{
	if (l->n_tok > 3)
		return arg_err(s, l);
	c->stale_ms = 3600 * 1000;
	if (l->n_tok > 1 && opt_duration(s, &l->tok[1], &c->stale_ms) != 0)
		return -EINVAL;
	if (l->n_tok > 2) {
		if (strcmp(l->tok[2].text, "verify") == 0)
			c->verify = true;
		else if (strcmp(l->tok[2].text, "immediate") != 0)
			return cp_setup_err(s, &l->tok[2], "invalid value for serve_stale refresh "
					    "mode: %s", l->tok[2].text);
	}
	return 0;
}

static int opt_servfail(struct cp_cache *c, struct cp_setup *s, const struct cf_line *l)
{
	uint64_t ms;

	if (l->n_tok != 2)
		return arg_err(s, l);
	if (opt_duration(s, &l->tok[1], &ms) != 0)
		return -EINVAL;
	if (ms > CACHE_SERVFAIL_MAX * 1000u)
		return cp_setup_err(s, &l->tok[1], "caching SERVFAIL responses over 5 minutes is "
				    "not permitted");
	c->servfail_s = (uint32_t)(ms / 1000);
	return 0;
}

/* disable success|denial [ZONES...] (no zones: the cache's zones) */
static int opt_disable(struct cp_cache *c, struct cp_setup *s, const struct cf_line *l)
{
	int kind, n;

	if (l->n_tok < 2)
		return arg_err(s, l);
	if (strcmp(l->tok[1].text, "success") == 0)
		kind = C_SUCCESS;
	else if (strcmp(l->tok[1].text, "denial") == 0)
		kind = C_DENIAL;
	else
		return cp_setup_err(s, &l->tok[1], "cache type for disable must be \"success\" or "
				    "\"denial\"");
	free(c->disable[kind]);
	c->disable[kind] = NULL;
	if (l->n_tok == 2) {
		c->n_disable[kind] = -1;
		return 0;
	}
	n = cp_setup_zones(s, &l->tok[2], l->n_tok - 2, &c->disable[kind]);
	if (n < 0)
		return n;
	c->n_disable[kind] = n;
	return 0;
}

static int cache_option(struct cp_cache *c, struct cp_setup *s, const struct cf_line *l)
{
	const char *o = l->tok[0].text;

	if (l->has_block)
		return cp_setup_err(s, &l->tok[0], "unexpected block after '%s'", o);
	if (strcmp(o, "success") == 0)
		return opt_kind(c, s, l, C_SUCCESS);
	if (strcmp(o, "denial") == 0)
		return opt_kind(c, s, l, C_DENIAL);
	if (strcmp(o, "prefetch") == 0)
		return opt_prefetch(c, s, l);
	if (strcmp(o, "serve_stale") == 0)
		return opt_stale(c, s, l);
	if (strcmp(o, "servfail") == 0)
		return opt_servfail(c, s, l);
	if (strcmp(o, "disable") == 0)
		return opt_disable(c, s, l);
	if (strcmp(o, "keepttl") == 0) {
		if (l->n_tok != 1)
			return arg_err(s, l);
		c->keepttl = true;
		return 0;
	}
	return cp_setup_err(s, &l->tok[0], "unknown property '%s'", o);
}

static void cache_defaults(struct cp_cache *c)
{
	c->max_ttl[C_SUCCESS] = CACHE_MAX_TTL;
	c->max_ttl[C_DENIAL] = CACHE_MAX_NTTL;
	c->min_ttl[C_SUCCESS] = c->min_ttl[C_DENIAL] = CACHE_MIN_TTL;
	c->cap[C_SUCCESS] = c->cap[C_DENIAL] = norm_cap(CACHE_DEFAULT_CAP);
	c->servfail_s = CACHE_MIN_TTL;
	c->prefetch_ms = 60 * 1000;
	c->pct = 10;
}

/* cache [TTL] [ZONES...] */
static int cache_head(struct cp_cache *c, struct cp_setup *s, const struct cf_line *l)
{
	unsigned first = 1;
	unsigned long ttl;
	int n;

	if (l->n_tok > 1 && cp_parse_uint(l->tok[1].text, 0, UINT32_MAX, &ttl) == 0) {
		if (ttl == 0)
			return cp_setup_err(s, &l->tok[1], "cache TTL can not be zero or negative: "
					    "%s", l->tok[1].text);
		c->max_ttl[C_SUCCESS] = c->max_ttl[C_DENIAL] = (uint32_t)ttl;
		first = 2;
	}
	if (l->n_tok > first) {
		n = cp_setup_zones(s, &l->tok[first], l->n_tok - first, &c->zones);
		if (n < 0)
			return n;
		c->n_zones = (unsigned)n;
		return 0;
	}
	c->zones = malloc((s->n_zones ? s->n_zones : 1) * sizeof(*c->zones));
	if (c->zones == NULL)
		return cp_setup_err(s, &l->tok[0], "out of memory");
	memcpy(c->zones, s->zones, s->n_zones * sizeof(*c->zones));
	c->n_zones = s->n_zones;
	return 0;
}

static void cache_labels(struct cp_cache *c, const struct cp_setup *s)
{
	size_t off = 0;

	snprintf(c->server, sizeof(c->server), "dns://:%u",
		 s->n_zones && s->zones[0].port ? s->zones[0].port : 53);
	for (unsigned i = 0; i < c->n_zones && off < sizeof(c->zones_label); i++) {
		char name[DNS_MAX_NAME * 4 + 2];

		cp_name_text(c->zones[i].wire, c->zones[i].len, name, sizeof(name));
		off += (size_t)snprintf(c->zones_label + off, sizeof(c->zones_label) - off, "%s%s",
					i ? "," : "", name);
	}
}

static int cache_alloc(struct cp_cache *c)
{
	uint32_t want = c->cap[0] + c->cap[1];

	c->nbucket = 1024;
	while (c->nbucket < want && c->nbucket < (1u << 24))
		c->nbucket <<= 1;
	c->bucket = calloc(c->nbucket, sizeof(*c->bucket));
	c->arr[0] = calloc(c->cap[0], sizeof(*c->arr[0]));
	c->arr[1] = calloc(c->cap[1], sizeof(*c->arr[1]));
	c->tmp = malloc(CACHE_VAL_MAX);
	c->out = malloc(CACHE_OUT_MAX);
	return c->bucket && c->arr[0] && c->arr[1] && c->tmp && c->out ? 0 : -ENOMEM;
}

static void cache_free(void *inst)
{
	struct cp_cache *c = inst;

	if (c == NULL)
		return;
	/* Jobs in flight belong to the forwarder now: orphan them. The table is left alone:
	 * a reload's full sync sweeps what the new engine does not hold. */
	for (struct cache_job *j = c->jobs; j != NULL; j = j->next)
		j->c = NULL;
	for (int k = 0; k < 2; k++) {
		for (uint32_t i = 0; i < c->n[k]; i++) {
			free(c->arr[k][i]->val);
			free(c->arr[k][i]);
		}
		free(c->arr[k]);
		free(c->disable[k]);
	}
	if (c->link != NULL) {
		fwc_link_set_cache(c->link, NULL);
		fwc_link_put(c->link);
	}
	free(c->bucket);
	free(c->zones);
	free(c->tmp);
	free(c->out);
	free(c);
}

static int cache_setup(struct cp_setup *s, const struct cf_line *const *lines, unsigned n,
		       void **inst)
{
	const struct cf_line *l = lines[0];
	struct cp_cache *c;

	if (n > 1)
		return cp_setup_err(s, &lines[1]->tok[0], "this plugin can only be used once per "
				    "Server Block");
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return cp_setup_err(s, &l->tok[0], "out of memory");
	cache_defaults(c);
	c->block = s->block;
	if (cache_head(c, s, l) != 0)
		goto fail;
	for (unsigned i = 0; i < l->n_sub; i++) {
		if (cache_option(c, s, &l->sub[i]) != 0)
			goto fail;
	}
	c->link = fwc_link_get(s->engine, s->block);
	if (c->link == NULL || cache_alloc(c) != 0) {
		cp_setup_err(s, &l->tok[0], "out of memory");
		goto fail;
	}
	fwc_link_set_cache(c->link, c);
	cache_labels(c, s);
	*inst = c;
	return 0;
fail:
	cache_free(c);
	return -EINVAL;
}

/* ------------------------------------------------------------------------- */
/* Metrics                                                                     */

enum { M_ENTRIES, M_HITS, M_REQUESTS, M_MISSES, M_PREFETCH, M_STALE, M_EVICT, M_N };

static const struct { const char *name, *type, *help; bool typed; } cache_m[M_N] = {
	{ "coredns_cache_entries", "gauge", "The number of elements in the cache.", true },
	{ "coredns_cache_hits_total", "counter",
	  "The count of cache hits answered by the control plane (the fast path's are "
	  "dpdns_fastpath_cache_hits_total).", true },
	{ "coredns_cache_requests_total", "counter", "The count of cache requests.", false },
	{ "coredns_cache_misses_total", "counter", "The count of cache misses.", false },
	{ "coredns_cache_prefetch_total", "counter", "The number of times the cache has "
	  "prefetched a cached item.", false },
	{ "coredns_cache_served_stale_total", "counter", "The number of requests served from "
	  "stale cache entries.", false },
	{ "coredns_cache_evictions_total", "counter", "The count of cache evictions.", true },
};

static uint64_t m_value(const struct cp_cache *c, int m, int kind)
{
	switch (m) {
	case M_ENTRIES: return c->n[kind];
	case M_HITS: return c->hits[kind];
	case M_REQUESTS: return c->requests;
	case M_MISSES: return c->misses;
	case M_PREFETCH: return c->prefetches;
	case M_STALE: return c->stale;
	default: return c->evictions[kind];
	}
}

static size_t cache_metrics(void *const *inst, unsigned n, char *buf, size_t cap)
{
	static const char *kinds[2] = { "success", "denial" };
	struct cp_text b = { buf, 0, cap };

	if (n == 0)
		return 0;
	for (int m = 0; m < M_N; m++) {
		cp_text_printf(&b, "# HELP %s %s\n# TYPE %s %s\n", cache_m[m].name, cache_m[m].help,
			  cache_m[m].name, cache_m[m].type);
		for (unsigned i = 0; i < n; i++) {
			const struct cp_cache *c = inst[i];

			for (int k = 0; k < (cache_m[m].typed ? 2 : 1); k++)
				cp_text_printf(&b, "%s{server=\"%s\",%s%s%szones=\"%s\",view=\"\"} %lu\n",
					  cache_m[m].name, c->server, cache_m[m].typed ? "type=\"" : "",
					  cache_m[m].typed ? kinds[k] : "",
					  cache_m[m].typed ? "\"," : "", c->zones_label,
					  (unsigned long)m_value(c, m, k));
		}
	}
	return b.len;
}

/* ------------------------------------------------------------------------- */
/* dpdnsctl cache show|flush                                                   */

struct cache_walk {
	const uint8_t *name;       /* NULL: every entry */
	size_t len;
	int (*fn)(void *ctx, const struct cp_cache_entry *ent);
	void *ctx;
	const struct cp_sink *sink;
	long count;
	bool stop;
};

static bool walk_match(const struct cache_walk *w, const struct cache_ent *e)
{
	return w->name == NULL ||
	       (e->key.name_len == w->len && memcmp(e->key.name, w->name, w->len) == 0);
}

static void show_one(struct cp_cache *c, void *arg)
{
	struct cache_walk *w = arg;
	uint32_t now = dp_monotonic_sec();

	for (int k = 0; k < 2 && !w->stop; k++) {
		for (uint32_t i = 0; i < c->n[k] && !w->stop; i++) {
			const struct cache_ent *e = c->arr[k][i];
			struct cp_cache_entry out;

			if (!walk_match(w, e))
				continue;
			memset(&out, 0, sizeof(out));
			cp_name_text(e->key.name, e->key.name_len, out.name, sizeof(out.name));
			out.qtype = e->key.qtype;
			out.rcode = e->rcode;
			out.kind = k == C_SUCCESS ? "success" : "denial";
			out.ttl = e->ttl;
			out.ttl_left = (int64_t)e->expire - now;
			out.ancount = e->val->ancount;
			out.nscount = e->val->nscount;
			out.arcount = e->val->arcount;
			out.published = e->published;
			out.block = c->block;
			w->count++;
			if (w->fn(w->ctx, &out) != 0)
				w->stop = true;
		}
	}
}

static int name_arg(const char *name, uint8_t *wire, size_t *len)
{
	int n;

	if (name == NULL)
		return 0;
	n = dns_name_from_str(wire, DNS_MAX_NAME, name);
	if (n < 0)
		return n;
	*len = (size_t)n;
	return 1;
}

long cp_engine_cache_show(const struct cp_engine *e, const char *name,
			  int (*fn)(void *ctx, const struct cp_cache_entry *ent), void *ctx)
{
	uint8_t wire[DNS_MAX_NAME];
	struct cache_walk w = { NULL, 0, fn, ctx, NULL, 0, false };
	int r = name_arg(name, wire, &w.len);

	if (r < 0)
		return r;
	if (r > 0)
		w.name = wire;
	fwc_link_each_cache(e, show_one, &w);
	return w.count;
}

static void flush_one(struct cp_cache *c, void *arg)
{
	struct cache_walk *w = arg;

	if (w->sink != NULL)
		fwc_link_set_sink(c->link, w->sink);
	for (int k = 0; k < 2; k++) {
		for (uint32_t i = 0; i < c->n[k];) {
			if (!walk_match(w, c->arr[k][i])) {
				i++;
				continue;
			}
			ent_remove(c, c->arr[k][i]);
			w->count++;
		}
	}
}

long cp_engine_cache_flush(struct cp_engine *e, const struct cp_sink *sink, const char *name)
{
	uint8_t wire[DNS_MAX_NAME];
	struct cache_walk w = { NULL, 0, NULL, NULL, sink, 0, false };
	int r = name_arg(name, wire, &w.len);

	if (r < 0)
		return r;
	if (r > 0)
		w.name = wire;
	fwc_link_each_cache(e, flush_one, &w);
	return w.count;
}

/* ------------------------------------------------------------------------- */

static const struct cp_plugin_ops cache_ops = {
	.name = "cache",
	.setup = cache_setup,
	.free = cache_free,
	.serve = cache_serve,
	.outcome = cache_outcome,
	.sync = cache_sync,
	.tick = cache_tick,
	.metrics = cache_metrics,
};

const struct cp_plugin_ops *cp_cache_plugin(void)
{
	return &cache_ops;
}
