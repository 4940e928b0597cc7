/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - the shared answer table as a cp_sink.
 *
 * The table is the fast path's rte_hash (RW_CONCURRENCY_LF): this process is its only
 * writer, the workers read it without locks. Values live in the shared heap (rte_malloc)
 * so both processes see the same bytes, are immutable, and are replaced whole. A replaced
 * or deleted value, a deleted key's slot, and a replaced zone set stay valid until every
 * worker has reported a quiescent state after the change (rte_rcu_qsbr token), then they
 * are freed here.
 *
 * The deferred frees are kept in a local FIFO rather than an rte_rcu_qsbr_dq: the dq's ring
 * is a named shared object with a fixed size, which a killed control plane would leave
 * behind (its name then collides on restart), and one full sync can replace every value of
 * the table at once. Tokens only grow, so the FIFO is freed from its head.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_hash.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "dns.h"
#include "dp_shm.h"
#include "table.h"

struct cp_deferred {
	uint64_t token;  /* rte_rcu_qsbr_start() after the value was unpublished */
	void *ptr;       /* rte_malloc'ed value or zone set */
	int32_t pos;     /* key slot to release with the value, or -1 */
};

struct cp_table {
	struct rte_hash *h;
	struct rte_rcu_qsbr *qsbr;
	struct dp_state *state;
	struct cp_sink sink;

	struct cp_deferred *dq;  /* ring buffer: dq_len entries from dq_head */
	size_t dq_head, dq_len, dq_cap;
	uint32_t dq_keys;        /* deleted keys whose slot is not released yet */

	bool syncing;
	uint64_t *mark;          /* one bit per key position, set when put during a sync */
	size_t mark_bits;

	struct cp_table_stats st;
};

/* ------------------------------------------------------------------------- */
/* Deferred frees                                                              */

static int dq_grow(struct cp_table *t)
{
	size_t cap = t->dq_cap ? t->dq_cap * 2 : 1024;
	struct cp_deferred *n = malloc(cap * sizeof(*n));
	size_t i;

	if (n == NULL)
		return -ENOMEM;
	for (i = 0; i < t->dq_len; i++)
		n[i] = t->dq[(t->dq_head + i) % t->dq_cap];
	free(t->dq);
	t->dq = n;
	t->dq_cap = cap;
	t->dq_head = 0;
	return 0;
}

/* Queue @p ptr (and key slot @p pos) to be freed once the workers are past this point. */
static void table_defer(struct cp_table *t, void *ptr, int32_t pos)
{
	struct cp_deferred *d;

	if (t->dq_len == t->dq_cap && dq_grow(t) < 0) {
		/* Out of local memory: leaking one value is better than freeing it under a
		 * reader. */
		return;
	}
	d = &t->dq[(t->dq_head + t->dq_len) % t->dq_cap];
	/* The token must be taken after the store that unpublished ptr: readers that
	 * still see ptr have not reported quiescence for this token yet. start() has
	 * release semantics on the token increment. */
	d->token = rte_rcu_qsbr_start(t->qsbr);
	d->ptr = ptr;
	d->pos = pos;
	t->dq_len++;
	t->dq_keys += pos >= 0;
	t->st.pending = t->dq_len;
}

static void deferred_free(struct cp_table *t, const struct cp_deferred *d)
{
	if (d->pos >= 0) {
		rte_hash_free_key_with_position(t->h, d->pos);
		t->dq_keys--;
	}
	rte_free(d->ptr);
	t->st.freed++;
}

void cp_table_reclaim(struct cp_table *t)
{
	const struct cp_deferred *last;
	bool all;

	if (t->dq_len == 0)
		return;
	/* The newest token covers every older one: one check frees the whole queue in
	 * the common case. */
	last = &t->dq[(t->dq_head + t->dq_len - 1) % t->dq_cap];
	all = rte_rcu_qsbr_check(t->qsbr, last->token, false) == 1;
	while (t->dq_len > 0) {
		const struct cp_deferred *d = &t->dq[t->dq_head];

		if (!all && rte_rcu_qsbr_check(t->qsbr, d->token, false) != 1)
			break;
		deferred_free(t, d);
		t->dq_head = (t->dq_head + 1) % t->dq_cap;
		t->dq_len--;
	}
	t->st.pending = t->dq_len;
}

/* ------------------------------------------------------------------------- */
/* Marks of a full sync                                                        */

static void mark_pos(struct cp_table *t, int32_t pos, bool on)
{
	if (!t->syncing || pos < 0 || (size_t)pos >= t->mark_bits)
		return;
	if (on)
		t->mark[pos / 64] |= 1ull << (pos % 64);
	else
		t->mark[pos / 64] &= ~(1ull << (pos % 64));
}

static bool marked(const struct cp_table *t, int32_t pos)
{
	/* A position beyond the bitmap cannot have been marked; keep rather than
	 * delete something we cannot account for. */
	if (pos < 0 || (size_t)pos >= t->mark_bits)
		return true;
	return (t->mark[pos / 64] >> (pos % 64)) & 1;
}

/* ------------------------------------------------------------------------- */
/* Sink                                                                        */

/* Copy a key zero padded: rte_hash compares all DNS_KEY_LEN bytes, and the fast path
 * builds its keys zero padded. */
static int table_key(struct dns_key *k, const struct dns_key *in)
{
	if (in->name_len == 0 || in->name_len > DNS_KEY_NAME_MAX)
		return -EINVAL;
	memset(k, 0, sizeof(*k));
	memcpy(k->name, in->name, in->name_len);
	k->name_len = in->name_len;
	k->qtype = in->qtype;
	return 0;
}

static bool value_equal(const struct dns_answer *old, const struct dns_answer *ans, size_t size)
{
	return old->magic == DNS_ANS_MAGIC && dns_answer_size(old) == size &&
	       memcmp(old, ans, size) == 0;
}

static int table_put(void *ctx, const struct dns_key *key, uint32_t hash,
		     const struct dns_answer *ans, size_t size)
{
	struct cp_table *t = ctx;
	struct dns_key k;
	void *old = NULL;
	void *val;
	int32_t pos;
	int ret;

	(void)hash; /* recomputed: the fast path looks up with dns_key_hash() of its key */
	if (table_key(&k, key) < 0 || size < sizeof(*ans) || size != dns_answer_size(ans))
		return -EINVAL;
	hash = dns_key_hash(&k);
	pos = rte_hash_lookup_with_hash_data(t->h, &k, hash, &old);
	if (pos >= 0 && value_equal(old, ans, size)) {
		t->st.unchanged++;
		mark_pos(t, pos, true);
		return 0;
	}
	val = rte_malloc("dpdns_answer", size, 0);
	if (val == NULL) {
		t->st.put_failed++;
		return -ENOMEM;
	}
	memcpy(val, ans, size);
	/* Under RW_CONCURRENCY_LF this replaces the data pointer of an existing key with
	 * one atomic store: a reader sees the old or the new value, whole. */
	ret = rte_hash_add_key_with_hash_data(t->h, &k, hash, val);
	if (ret < 0) {
		rte_free(val);
		t->st.put_failed++;
		return ret;
	}
	if (pos >= 0)
		table_defer(t, old, -1);
	else if (t->syncing)
		pos = rte_hash_lookup_with_hash(t->h, &k, hash);
	mark_pos(t, pos, true);
	t->st.puts++;
	return 0;
}

static int table_del_key(struct cp_table *t, const struct dns_key *k)
{
	uint32_t hash = dns_key_hash(k);
	void *old = NULL;
	int32_t pos;

	if (rte_hash_lookup_with_hash_data(t->h, k, hash, &old) < 0)
		return -ENOENT;
	pos = rte_hash_del_key_with_hash(t->h, k, hash);
	if (pos < 0)
		return pos;
	/* LF mode does not recycle the key slot on delete: a reader may still compare
	 * against it. Slot and value go back after the grace period. */
	mark_pos(t, pos, false);
	table_defer(t, old, pos);
	t->st.dels++;
	return 0;
}

static int table_del(void *ctx, const struct dns_key *key, uint32_t hash)
{
	struct cp_table *t = ctx;
	struct dns_key k;

	(void)hash;
	if (table_key(&k, key) < 0)
		return -ENOENT;
	return table_del_key(t, &k);
}

static bool zone_equal(const struct dp_zone *a, const struct dp_zone *b)
{
	if (a->name_len != b->name_len || a->flags != b->flags ||
	    memcmp(a->name, b->name, a->name_len) != 0)
		return false;
	if (a->miss == NULL || b->miss == NULL)
		return a->miss == b->miss;
	return value_equal(a->miss, b->miss, dns_answer_size(b->miss));
}

static bool zoneset_equal(const struct dp_zoneset *cur, const struct dp_zone *z, unsigned n)
{
	unsigned i;

	if (cur == NULL)
		return n == 0;
	if (cur->n_zones != n)
		return false;
	for (i = 0; i < n; i++)
		if (!zone_equal(&cur->zones[i], &z[i]))
			return false;
	return true;
}

/* One allocation: header, zones, then each zone's miss answer (8-byte aligned), so a
 * single rte_free releases the set. */
static struct dp_zoneset *zoneset_build(const struct dp_zone *z, unsigned n)
{
	size_t size = sizeof(struct dp_zoneset) + n * sizeof(struct dp_zone);
	struct dp_zoneset *set;
	uint8_t *tail;
	unsigned i;

	for (i = 0; i < n; i++)
		if (z[i].miss != NULL)
			size = ((size + 7) & ~(size_t)7) + dns_answer_size(z[i].miss);
	set = rte_zmalloc("dpdns_zones", size, 0);
	if (set == NULL)
		return NULL;
	set->n_zones = n;
	tail = (uint8_t *)&set->zones[n];
	for (i = 0; i < n; i++) {
		struct dp_zone *d = &set->zones[i];

		memcpy(d->name, z[i].name, z[i].name_len);
		d->name_len = z[i].name_len;
		d->flags = z[i].flags;
		d->miss = NULL;
		if (z[i].miss != NULL) {
			size_t off = (size_t)(tail - (uint8_t *)set);

			tail = (uint8_t *)set + ((off + 7) & ~(size_t)7);
			memcpy(tail, z[i].miss, dns_answer_size(z[i].miss));
			d->miss = (const struct dns_answer *)tail;
			tail += dns_answer_size(z[i].miss);
		} else {
			d->flags &= (uint16_t)~DP_ZONE_ANSWER_MISS;
		}
	}
	return set;
}

static int table_zones(void *ctx, const void *zones, unsigned n_zones)
{
	struct cp_table *t = ctx;
	const struct dp_zone *z = zones;
	struct dp_zoneset *cur, *set = NULL;
	unsigned i;

	if (n_zones > DP_MAX_ZONES)
		return -E2BIG;
	for (i = 0; i < n_zones; i++)
		if (z[i].name_len == 0 || z[i].name_len > DNS_KEY_NAME_MAX)
			return -EINVAL;
	cur = __atomic_load_n(&t->state->zones, __ATOMIC_ACQUIRE);
	if (zoneset_equal(cur, z, n_zones))
		return 0;
	if (n_zones > 0) {
		set = zoneset_build(z, n_zones);
		if (set == NULL)
			return -ENOMEM;
	}
	/* Release: the set's contents are visible before the pointer is. */
	__atomic_store_n(&t->state->zones, set, __ATOMIC_RELEASE);
	if (cur != NULL)
		table_defer(t, cur, -1);
	t->st.zone_sets++;
	return 0;
}

/* ------------------------------------------------------------------------- */
/* Full sync                                                                   */

int cp_table_sync_begin(struct cp_table *t)
{
	size_t bits = (size_t)rte_hash_max_key_id(t->h) + 1;

	if (bits > t->mark_bits) {
		uint64_t *m = calloc((bits + 63) / 64, sizeof(*m));

		if (m == NULL)
			return -ENOMEM;
		free(t->mark);
		t->mark = m;
		t->mark_bits = bits;
	} else {
		memset(t->mark, 0, (t->mark_bits + 63) / 64 * sizeof(*t->mark));
	}
	t->syncing = true;
	return 0;
}

/* Keys to delete are collected first: the table is not modified while iterating. */
static long sweep(struct cp_table *t)
{
	struct dns_key *dead = NULL;
	size_t n = 0, cap = 0, i;
	const void *key;
	void *data;
	uint32_t next = 0;
	int32_t pos;
	long done = 0;

	while ((pos = rte_hash_iterate(t->h, &key, &data, &next)) >= 0) {
		if (marked(t, pos))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			struct dns_key *d = realloc(dead, ncap * sizeof(*d));

			if (d == NULL)
				break; /* delete what we have; the next sync gets the rest */
			dead = d;
			cap = ncap;
		}
		memcpy(&dead[n++], key, sizeof(*dead));
	}
	t->syncing = false;
	for (i = 0; i < n; i++) {
		if (table_del_key(t, &dead[i]) == 0) {
			t->st.swept++;
			done++;
		}
	}
	free(dead);
	return done;
}

long cp_table_sync_end(struct cp_table *t, int commit)
{
	if (!t->syncing)
		return 0;
	if (!commit) {
		t->syncing = false;
		return 0;
	}
	return sweep(t);
}

/* ------------------------------------------------------------------------- */

struct cp_table *cp_table_create(struct rte_hash *h, struct rte_rcu_qsbr *qsbr,
				 struct dp_state *state)
{
	struct cp_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->h = h;
	t->qsbr = qsbr;
	t->state = state;
	t->sink.put = table_put;
	t->sink.del = table_del;
	t->sink.zones = table_zones;
	t->sink.ctx = t;
	return t;
}

void cp_table_free(struct cp_table *t, unsigned wait_ms)
{
	unsigned waited = 0;

	if (t == NULL)
		return;
	cp_table_reclaim(t);
	while (t->dq_len > 0 && waited < wait_ms) {
		struct timespec ts = { 0, 1000000 };

		nanosleep(&ts, NULL);
		waited++;
		cp_table_reclaim(t);
	}
	free(t->dq);
	free(t->mark);
	free(t);
}

const struct cp_sink *cp_table_sink(struct cp_table *t)
{
	return &t->sink;
}

int32_t cp_table_entries(const struct cp_table *t)
{
	/* rte_hash_count() still counts deleted keys until their slot is released. */
	return rte_hash_count(t->h) - (int32_t)t->dq_keys;
}

const struct cp_table_stats *cp_table_stats(const struct cp_table *t)
{
	return &t->st;
}
