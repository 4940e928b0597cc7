/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - what the fast path holds: table entries and the zone policy.
 *
 * Table entries. For every name a plugin offers, each type some plugin treats specially
 * (plus DS, routed apart) and one "other" type stand-in are answered through the real
 * routing and chains, in static mode, on every configured port. An answer is published
 * only when it is static and the same on every port. When the "other" answer is NODATA
 * and nothing was dynamic, the name gets its exists-marker (DNS_KEY_T_EXISTS), which the
 * fast path answers for every type without an entry of its own; types whose answer is
 * that same NODATA need no entry.
 *
 * Zone policy. A name the fast path finds no entry for gets its zone's miss answer, so a
 * zone may only carry one when every unlisted (name, type) under it gets that answer on
 * every port: each plugin describes what it does with the names it holds no data for
 * (cp_plugin_ops.outcome), the chain's outcomes are combined, and a single static answer
 * is required. Listed names without an exists-marker fall to their zone too: their
 * "other" answer must equal the zone's, or the zone sends misses to the control plane.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmap.h"
#include "engine_int.h"

#define REQ_ANY  (-1)  /* no listed name relies on the zone answer */
#define REQ_NONE (-2)  /* some listed name needs misses to come to the control plane */
#define REQ_VALS 16

/* A finished value; bytes, because struct dns_answer ends in a flexible array. */
struct val {
	int size;
	_Alignas(8) uint8_t b[CP_VAL_MAX];
};

static struct dns_answer *ans(struct val *v)
{
	return (struct dns_answer *)(void *)v->b;
}

static const struct dns_answer *cans(const struct val *v)
{
	return (const struct dns_answer *)(const void *)v->b;
}

/** What a listed name needs from the zone it falls in. */
struct need {
	bool none;               /* the control plane must see its misses */
	const struct val *v;     /* the zone's answer must be this (NULL: anything) */
};

struct cp_sync {
	struct cp_engine *e;
	const struct cp_sink *sink;
	bool incremental;        /* cp_tick_name: delete what is no longer published */
	bool put_failed;         /* the current name lacks an entry it should have */
	int err;                 /* first sink error */
	struct dns_builder b;
	struct val rep, v;
	/* Names evaluated in this sync: each once, whichever plugins offer it. */
	uint8_t *names;
	size_t names_len, names_cap;
	struct name_ent {
		uint32_t off;
		uint16_t len;
	} *ent;
	uint32_t n_ent, cap_ent;
	struct cp_bmap seen;
	/* The zone set being built, and the answers names require from it. */
	struct cp_zpol *zp;
	unsigned n_zp;
	struct val *reqv[REQ_VALS];
	unsigned n_reqv;
};

/* ------------------------------------------------------------------------- */
/* Values                                                                      */

/* Equal except for the question length they were built for (0xC00C-free values). */
static bool same_anyq(const uint8_t *a, size_t asz, const uint8_t *b, size_t bsz)
{
	size_t off = offsetof(struct dns_answer, qname_len) + sizeof(uint16_t);

	return asz == bsz && asz >= off &&
	       memcmp(a, b, offsetof(struct dns_answer, qname_len)) == 0 &&
	       memcmp(a + off, b + off, asz - off) == 0;
}

static bool same(const struct val *a, const struct val *b)
{
	return a->size == b->size && memcmp(a->b, b->b, (size_t)a->size) == 0;
}

static bool is_nodata(const struct val *v)
{
	return (cans(v)->flags & DNS_F_RCODE) == DNS_RCODE_NOERROR && cans(v)->ancount == 0;
}

void cp_outcome_value(struct cp_outcome *o, const struct dns_builder *b)
{
	struct val v;

	v.size = dns_builder_finish(b, ans(&v), sizeof(v.b));
	if (v.size < 0 || v.size > CP_OUT_VAL_MAX) {
		o->dynamic = true;
		return;
	}
	for (unsigned i = 0; i < o->n; i++) {
		if (o->size[i] == v.size && memcmp(o->val[i], v.b, (size_t)v.size) == 0)
			return;
	}
	if (o->n == CP_OUT_MAX) {
		o->dynamic = true;
		return;
	}
	memcpy(o->val[o->n], v.b, (size_t)v.size);
	o->size[o->n++] = (uint16_t)v.size;
}

void cp_outcome_flags(struct cp_outcome *o, uint16_t flags)
{
	struct dns_builder b;

	dns_builder_init(&b, NULL, flags);
	cp_outcome_value(o, &b);
}

/* ------------------------------------------------------------------------- */
/* Evaluating names                                                            */

/* Answer of (name, qtype) on every port: 1 when static and equal everywhere, else 0. */
static int eval(struct cp_sync *s, const uint8_t *name, size_t len, uint16_t qtype,
		struct val *out)
{
	struct cp_request rq = {
		.engine = s->e, .qname = name, .qname_len = (uint16_t)len, .qtype = qtype,
		.sync = true,
	};
	struct val *tmp = NULL;
	int ok = 1;

	for (unsigned p = 0; p < s->e->n_ports && ok; p++) {
		struct val *dst = out;

		rq.port = s->e->ports[p];
		if (p > 0 && tmp == NULL && (tmp = malloc(sizeof(*tmp))) == NULL)
			return 0;
		if (p > 0)
			dst = tmp;
		if (cp_engine_run(s->e, &rq, &s->b) != CP_ANSWERED)
			ok = 0;
		else if ((dst->size = dns_builder_finish(&s->b, ans(dst), sizeof(dst->b))) < 0)
			ok = 0;
		else if (p > 0 && !same(dst, out))
			ok = 0;
	}
	free(tmp);
	return ok;
}

static void key_of(struct dns_key *k, const uint8_t *name, size_t len, uint16_t qtype)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->name, name, len);
	k->name_len = (uint16_t)len;
	k->qtype = qtype;
}

static void put_val(struct cp_sync *s, const uint8_t *name, size_t len, uint16_t qtype,
		    const struct val *v)
{
	struct dns_key k;
	int rc;

	key_of(&k, name, len, qtype);
	rc = s->sink->put(s->sink->ctx, &k, dns_key_hash(&k), cans(v), (size_t)v->size);
	if (rc < 0) {
		s->put_failed = true;
		if (s->err == 0)
			s->err = rc;
	}
}

static void del_key(struct cp_sync *s, const uint8_t *name, size_t len, uint16_t qtype)
{
	struct dns_key k;
	int rc;

	if (!s->incremental || s->sink->del == NULL)
		return;
	key_of(&k, name, len, qtype);
	rc = s->sink->del(s->sink->ctx, &k, dns_key_hash(&k));
	if (rc < 0 && rc != -ENOENT && s->err == 0)
		s->err = rc;
}

/* Publish one name's entries. @return what it needs from its zone. */
static struct need eval_name(struct cp_sync *s, const uint8_t *name, size_t len)
{
	struct cp_engine *e = s->e;
	int rep_ok = eval(s, name, len, CP_TYPE_OTHER, &s->rep);
	bool dyn = !rep_ok;
	struct need nd = { 0 };

	s->put_failed = false;
	for (unsigned i = 0; i < e->n_types; i++) {
		uint16_t t = e->types[i];

		if (!eval(s, name, len, t, &s->v)) {
			dyn = true;
			del_key(s, name, len, t);
		} else if (rep_ok && same(&s->v, &s->rep)) {
			del_key(s, name, len, t);
		} else {
			put_val(s, name, len, t, &s->v);
		}
	}
	if (rep_ok && !dyn && is_nodata(&s->rep))
		put_val(s, name, len, DNS_KEY_T_EXISTS, &s->rep);
	else
		del_key(s, name, len, DNS_KEY_T_EXISTS);
	if (s->put_failed || dyn)
		nd.none = true;
	else if (!is_nodata(&s->rep))
		nd.v = &s->rep;
	return nd;
}

/* Longest zone of @p z[0..n) the name is under, or -1. */
static int zone_of(const struct cp_zpol *z, unsigned n, const uint8_t *name, size_t len)
{
	int best = -1;

	for (unsigned i = 0; i < n; i++) {
		if ((best < 0 || z[i].len > z[best].len) &&
		    cp_name_under(name, len, z[i].wire, z[i].len))
			best = (int)i;
	}
	return best;
}

static int intern_req(struct cp_sync *s, const struct val *v)
{
	for (unsigned i = 0; i < s->n_reqv; i++) {
		if (same_anyq(s->reqv[i]->b, (size_t)s->reqv[i]->size, v->b, (size_t)v->size))
			return (int)i;
	}
	if (s->n_reqv == REQ_VALS || (s->reqv[s->n_reqv] = malloc(sizeof(*v))) == NULL)
		return REQ_NONE;
	*s->reqv[s->n_reqv] = *v;
	return (int)s->n_reqv++;
}

static void require(struct cp_sync *s, const uint8_t *name, size_t len, struct need nd)
{
	int zi = zone_of(s->zp, s->n_zp, name, len), idx;
	struct cp_zpol *z;

	if (zi < 0 || (!nd.none && nd.v == NULL))
		return;
	z = &s->zp[zi];
	if (z->req == REQ_NONE)
		return;
	idx = nd.none ? REQ_NONE : intern_req(s, nd.v);
	if (z->req == REQ_ANY || idx == REQ_NONE)
		z->req = idx;
	else if (z->req != idx)
		z->req = REQ_NONE;
}

static bool seen_before(struct cp_sync *s, const uint8_t *name, size_t len)
{
	if (cp_bmap_find(&s->seen, name, len) >= 0)
		return true;
	if (s->names_len + len > s->names_cap) {
		size_t cap = s->names_cap ? s->names_cap * 2 : 65536;
		uint8_t *p;

		while (cap < s->names_len + len)
			cap *= 2;
		if ((p = realloc(s->names, cap)) == NULL)
			return false;
		s->names = p;
		s->names_cap = cap;
	}
	if (s->n_ent == s->cap_ent) {
		uint32_t cap = s->cap_ent ? s->cap_ent * 2 : 1024;
		struct name_ent *p = realloc(s->ent, cap * sizeof(*p));

		if (p == NULL)
			return false;
		s->ent = p;
		s->cap_ent = cap;
	}
	memcpy(s->names + s->names_len, name, len);
	s->ent[s->n_ent].off = (uint32_t)s->names_len;
	s->ent[s->n_ent].len = (uint16_t)len;
	s->names_len += len;
	cp_bmap_add(&s->seen, s->n_ent++);
	return false;
}

int cp_sync_name(struct cp_sync *s, const uint8_t *name, size_t len)
{
	/* Longer names cannot be keyed: the fast path hands them all to the control plane. */
	if (len == 0 || len > DNS_KEY_NAME_MAX || seen_before(s, name, len))
		return 0;
	require(s, name, len, eval_name(s, name, len));
	return 0;
}

int cp_sync_zone(struct cp_sync *s, const uint8_t *name, size_t len)
{
	struct cp_zpol *zp;

	if (len == 0 || len > DNS_KEY_NAME_MAX)
		return 0;
	for (unsigned k = 0; k < s->n_zp; k++) {
		if (s->zp[k].len == len && memcmp(s->zp[k].wire, name, len) == 0)
			return 0;
	}
	zp = realloc(s->zp, (s->n_zp + 1) * sizeof(*zp));
	if (zp == NULL)
		return -ENOMEM;
	s->zp = zp;
	memset(&zp[s->n_zp], 0, sizeof(*zp));
	memcpy(zp[s->n_zp].wire, name, len);
	zp[s->n_zp].len = (uint16_t)len;
	zp[s->n_zp].req = REQ_ANY;
	s->n_zp++;
	return 0;
}

/* ------------------------------------------------------------------------- */
/* Sync context                                                                */

static const uint8_t *seen_key(const void *ctx, uint32_t idx, size_t *len)
{
	const struct cp_sync *s = ctx;

	*len = s->ent[idx].len;
	return s->names + s->ent[idx].off;
}

static struct cp_sync *sync_new(struct cp_engine *e, const struct cp_sink *sink, bool incr)
{
	struct cp_sync *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->e = e;
	s->sink = sink;
	s->incremental = incr;
	cp_bmap_init(&s->seen, seen_key, s);
	return s;
}

void cp_zpol_free(struct cp_zpol *z, unsigned n)
{
	for (unsigned i = 0; z != NULL && i < n; i++)
		free(z[i].val);
	free(z);
}

static void sync_free(struct cp_sync *s)
{
	cp_bmap_free(&s->seen);
	free(s->names);
	free(s->ent);
	cp_zpol_free(s->zp, s->n_zp);
	for (unsigned i = 0; i < s->n_reqv; i++)
		free(s->reqv[i]);
	free(s);
}

/* ------------------------------------------------------------------------- */
/* Zone policy                                                                 */

/* Every zone a block serves (any port), and the root: the fast path's candidates. */
static int zp_build(struct cp_sync *s)
{
	const struct cp_engine *e = s->e;
	static const uint8_t root = 0;

	s->zp = calloc(e->n_rt + 1, sizeof(*s->zp));
	if (s->zp == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i <= e->n_rt; i++) {
		const uint8_t *w = i < e->n_rt ? e->rt[i].z.wire : &root;
		uint16_t len = i < e->n_rt ? e->rt[i].z.len : 1;
		unsigned k;

		if (len > DNS_KEY_NAME_MAX)
			continue; /* names under it are too long for the fast path's keys */
		for (k = 0; k < s->n_zp && (s->zp[k].len != len || memcmp(s->zp[k].wire, w, len)); k++)
			;
		if (k < s->n_zp)
			continue;
		memcpy(s->zp[k].wire, w, len);
		s->zp[k].len = len;
		s->zp[k].req = REQ_ANY;
		s->n_zp++;
	}
	return 0;
}

static void outcome_merge(struct cp_outcome *dst, const struct cp_outcome *src)
{
	dst->dynamic |= src->dynamic;
	dst->next |= src->next;
	for (unsigned i = 0; i < src->n && !dst->dynamic; i++) {
		unsigned k;

		for (k = 0; k < dst->n; k++) {
			if (dst->size[k] == src->size[i] &&
			    memcmp(dst->val[k], src->val[i], src->size[i]) == 0)
				break;
		}
		if (k < dst->n)
			continue;
		if (dst->n == CP_OUT_MAX) {
			dst->dynamic = true;
			break;
		}
		memcpy(dst->val[dst->n], src->val[i], src->size[i]);
		dst->size[dst->n++] = src->size[i];
	}
}

/* What block @p si's chain does with the unlisted names of @p r. */
static void block_outcome(const struct cp_engine *e, int si, const struct cp_region *r,
			  struct cp_outcome *total)
{
	struct cp_outcome *o = calloc(1, sizeof(*o));
	const struct cp_server *s = si >= 0 ? &e->srv[si] : NULL;

	if (o == NULL) {
		total->dynamic = true;
		return;
	}
	if (s == NULL || !s->handler) {
		cp_outcome_flags(o, DNS_RCODE_REFUSED);
	} else {
		o->next = true;
		for (unsigned i = 0; i < s->n_pl && o->next; i++) {
			if (s->pl[i].ops->serve == NULL)
				continue;
			o->next = false;
			if (s->pl[i].ops->outcome == NULL)
				o->dynamic = true;
			else
				s->pl[i].ops->outcome(s->pl[i].inst, r, o);
		}
		if (o->next)
			cp_outcome_flags(o, DNS_RCODE_SERVFAIL); /* end of the chain */
		o->next = false;
	}
	outcome_merge(total, o);
	free(o);
}

/* The single answer every unlisted name of zone @p i gets on every port, if there is one. */
static int zp_analyze_one(struct cp_sync *s, unsigned i, struct cp_zone *excl)
{
	const struct cp_engine *e = s->e;
	struct cp_zpol *z = &s->zp[i];
	struct cp_region r = { .zone = z->wire, .zone_len = z->len, .excl = excl };
	struct cp_outcome *o = calloc(1, sizeof(*o));

	if (o == NULL)
		return -ENOMEM;
	for (unsigned k = 0; k < s->n_zp; k++) {
		if (k != i && cp_name_under(s->zp[k].wire, s->zp[k].len, z->wire, z->len)) {
			memcpy(excl[r.n_excl].wire, s->zp[k].wire, s->zp[k].len);
			excl[r.n_excl++].len = s->zp[k].len;
		}
	}
	for (unsigned p = 0; p < e->n_ports; p++) {
		int si = cp_route_find(e, e->ports[p], z->wire, z->len, DNS_T_A);
		int ds = cp_route_find(e, e->ports[p], z->wire, z->len, CP_T_DS);

		r.port = e->ports[p];
		block_outcome(e, si, &r, o);
		if (ds != si)
			block_outcome(e, ds, &r, o);
	}
	if (!o->dynamic && !o->next && o->n == 1 &&
	    (z->req == REQ_ANY ||
	     (z->req >= 0 && same_anyq(o->val[0], o->size[0], s->reqv[z->req]->b,
				       (size_t)s->reqv[z->req]->size)))) {
		z->val = malloc(o->size[0]);
		if (z->val != NULL) {
			memcpy(z->val, o->val[0], o->size[0]);
			z->size = o->size[0];
		}
	}
	free(o);
	return 0;
}

static bool same_policy(const struct cp_zpol *a, const struct cp_zpol *b)
{
	const uint8_t *bv = b != NULL ? b->val : NULL;

	if (a->val == NULL || bv == NULL)
		return a->val == bv;
	return a->size == b->size && memcmp(a->val, bv, a->size) == 0;
}

static int by_len_asc(const void *x, const void *y)
{
	const struct cp_zpol *a = x, *b = y;

	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return memcmp(a->wire, b->wire, a->len);
}

/*
 * Drop zones whose nearest kept ancestor has the same policy (the fast path's longest
 * match then lands on an equal answer), then publish longest first.
 */
static int zp_publish(struct cp_sync *s)
{
	struct cp_zpol *kept = calloc(s->n_zp + 1, sizeof(*kept));
	struct dp_zone *dz;
	unsigned n = 0;
	int rc;

	if (kept == NULL)
		return -ENOMEM;
	qsort(s->zp, s->n_zp, sizeof(*s->zp), by_len_asc);
	for (unsigned i = 0; i < s->n_zp; i++) {
		int anc = zone_of(kept, n, s->zp[i].wire, s->zp[i].len);

		if (same_policy(&s->zp[i], anc >= 0 ? &kept[anc] : NULL))
			continue;
		kept[n] = s->zp[i];
		s->zp[i].val = NULL; /* moved */
		n++;
	}
	if (n > DP_MAX_ZONES) {
		cp_plog("WARNING", "engine", "%u zones exceed the fast path's %d: all misses go to "
			"the control plane", n, DP_MAX_ZONES);
		for (unsigned i = 0; i < n; i++) {
			free(kept[i].val);
			kept[i].val = NULL;
		}
		n = 0;
	}
	dz = calloc(n + 1, sizeof(*dz));
	if (dz == NULL) {
		cp_zpol_free(kept, n);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < n; i++) {
		const struct cp_zpol *z = &kept[n - 1 - i]; /* longest first */

		memcpy(dz[i].name, z->wire, z->len);
		dz[i].name_len = z->len;
		dz[i].flags = z->val != NULL ? DP_ZONE_ANSWER_MISS : 0;
		dz[i].miss = (const struct dns_answer *)(const void *)z->val;
	}
	rc = s->sink->zones != NULL ? s->sink->zones(s->sink->ctx, dz, n) : 0;
	free(dz);
	cp_zpol_free(s->e->pub, s->e->n_pub);
	s->e->pub = kept;
	s->e->n_pub = n;
	return rc;
}

int cp_engine_sync(struct cp_engine *e, const struct cp_sink *sink)
{
	struct cp_sync *s = sync_new(e, sink, false);
	struct cp_zone *excl;
	int rc;

	if (s == NULL)
		return -ENOMEM;
	rc = zp_build(s);
	for (unsigned si = 0; si < e->n_srv && rc == 0; si++) {
		for (unsigned p = 0; p < e->srv[si].n_pl && rc == 0; p++) {
			const struct cp_pinst *pi = &e->srv[si].pl[p];

			if (pi->ops->sync != NULL)
				rc = pi->ops->sync(pi->inst, s);
		}
	}
	excl = rc == 0 ? calloc(s->n_zp + 1, sizeof(*excl)) : NULL;
	if (rc == 0 && excl == NULL)
		rc = -ENOMEM;
	for (unsigned i = 0; i < s->n_zp && rc == 0; i++)
		rc = zp_analyze_one(s, i, excl);
	free(excl);
	if (rc == 0)
		rc = zp_publish(s);
	if (rc == 0)
		rc = s->err;
	sync_free(s);
	return rc;
}

int cp_tick_name(struct cp_tick *t, const uint8_t *name, size_t len)
{
	struct cp_engine *e = t->e;
	struct cp_sync *s;
	struct need nd;
	int zi, rc = 0;

	if (len == 0 || len > DNS_KEY_NAME_MAX)
		return 0;
	if ((s = sync_new(e, t->sink, true)) == NULL)
		return -ENOMEM;
	nd = eval_name(s, name, len);
	zi = zone_of(e->pub, e->n_pub, name, len);
	if (zi >= 0 && e->pub[zi].val != NULL) {
		const struct cp_zpol *z = &e->pub[zi];

		/* The published zone answer would now be wrong for this name. */
		if (nd.none || (nd.v != NULL && !same_anyq(z->val, z->size, nd.v->b,
							    (size_t)nd.v->size)))
			rc = 1;
	}
	if (s->err < 0)
		rc = s->err;
	sync_free(s);
	return rc;
}
