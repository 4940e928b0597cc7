/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - kubernetes object store and indices (see k8s_store.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_store.h"

/* ------------------------------------------------------------------------- */
/* Lookups                                                                     */

static bool obj_eq(const struct k8s_hnode *n, const void *key)
{
	return strcmp(k8s_container_of(n, struct k8s_obj, node)->key, key) == 0;
}

static bool ns_eq(const struct k8s_hnode *n, const void *key)
{
	return strcmp(k8s_container_of(n, struct k8s_nsent, node)->name, key) == 0;
}

static bool group_eq(const struct k8s_hnode *n, const void *key)
{
	return strcmp(k8s_container_of(n, struct k8s_group, node)->key, key) == 0;
}

static bool dep_eq(const struct k8s_hnode *n, const void *key)
{
	return strcmp(k8s_container_of(n, struct k8s_dep, node)->key, key) == 0;
}

static bool ip_eq(const struct k8s_hnode *n, const void *key)
{
	return k8s_ip_eq(&k8s_container_of(n, struct k8s_ipent, node)->ip, key);
}

struct podip_key {
	const char *ns;
	const struct k8s_ip *ip;
};

static bool podip_eq(const struct k8s_hnode *n, const void *key)
{
	const struct k8s_podip *p = k8s_container_of(n, struct k8s_podip, node);
	const struct podip_key *k = key;

	return k8s_ip_eq(&p->ip, k->ip) && strcmp(p->ns, k->ns) == 0;
}

static uint64_t podip_hash(const char *ns, const struct k8s_ip *ip)
{
	return k8s_hash_str(ns) ^ (k8s_ip_hash(ip) * 31);
}

struct k8s_obj *k8s_store_obj(const struct k8s_store *s, enum k8s_res res, const char *key)
{
	struct k8s_hnode *n = k8s_hmap_find(&s->objs[res], k8s_hash_str(key), obj_eq, key);

	return n != NULL ? k8s_container_of(n, struct k8s_obj, node) : NULL;
}

struct k8s_group *k8s_store_group_key(const struct k8s_store *s, const char *key)
{
	struct k8s_hnode *n = k8s_hmap_find(&s->groups, k8s_hash_str(key), group_eq, key);

	return n != NULL ? k8s_container_of(n, struct k8s_group, node) : NULL;
}

struct k8s_group *k8s_store_group(const struct k8s_store *s, const char *ns, const char *name)
{
	char key[512];

	if ((size_t)snprintf(key, sizeof(key), "%s/%s", ns, name) >= sizeof(key))
		return NULL;
	return k8s_store_group_key(s, key);
}

struct k8s_nsent *k8s_store_ns(const struct k8s_store *s, const char *name)
{
	struct k8s_hnode *n = k8s_hmap_find(&s->ns, k8s_hash_str(name), ns_eq, name);

	return n != NULL ? k8s_container_of(n, struct k8s_nsent, node) : NULL;
}

const struct k8s_ipent *k8s_store_ip(const struct k8s_store *s, const struct k8s_ip *ip)
{
	struct k8s_hnode *n = k8s_hmap_find(&s->ips, k8s_ip_hash(ip), ip_eq, ip);

	return n != NULL ? k8s_container_of(n, struct k8s_ipent, node) : NULL;
}

unsigned k8s_store_pod_ip(const struct k8s_store *s, const char *ns, const struct k8s_ip *ip)
{
	struct podip_key k = { ns, ip };
	struct k8s_hnode *n = k8s_hmap_find(&s->podips, podip_hash(ns, ip), podip_eq, &k);

	return n != NULL ? k8s_container_of(n, struct k8s_podip, node)->count : 0;
}

const struct k8s_dep *k8s_store_dep(const struct k8s_store *s, const char *key)
{
	struct k8s_hnode *n = k8s_hmap_find(&s->deps, k8s_hash_str(key), dep_eq, key);

	return n != NULL ? k8s_container_of(n, struct k8s_dep, node) : NULL;
}

/* ------------------------------------------------------------------------- */
/* Namespaces and groups                                                       */

static struct k8s_nsent *ns_get(struct k8s_store *s, const char *name)
{
	struct k8s_nsent *e = k8s_store_ns(s, name);
	size_t l = strlen(name);

	if (e != NULL)
		return e;
	e = calloc(1, sizeof(*e) + l + 1);
	if (e == NULL)
		return NULL;
	memcpy(e->name, name, l + 1);
	e->node.hash = k8s_hash_str(name);
	if (k8s_hmap_insert(&s->ns, &e->node) != 0) {
		free(e);
		return NULL;
	}
	return e;
}

static void ns_put(struct k8s_store *s, struct k8s_nsent *e)
{
	if (e->obj != NULL || e->groups != NULL || e->n_pods != 0)
		return;
	k8s_hmap_remove(&s->ns, &e->node);
	free(e);
}

static struct k8s_group *group_get(struct k8s_store *s, const char *ns, const char *name)
{
	size_t ln = strlen(ns), lm = strlen(name);
	struct k8s_group *g = k8s_store_group(s, ns, name);
	struct k8s_nsent *e;

	if (g != NULL)
		return g;
	e = ns_get(s, ns);
	g = e != NULL ? calloc(1, sizeof(*g) + 2 * (ln + lm + 2)) : NULL;
	if (g == NULL)
		return NULL;
	sprintf(g->key, "%s/%s", ns, name);
	g->ns = g->key + ln + lm + 2;
	memcpy((char *)(uintptr_t)g->ns, ns, ln + 1);
	g->name = g->ns + ln + 1;
	memcpy((char *)(uintptr_t)g->name, name, lm + 1);
	g->node.hash = k8s_hash_str(g->key);
	if (k8s_hmap_insert(&s->groups, &g->node) != 0) {
		free(g);
		ns_put(s, e);
		return NULL;
	}
	g->nsent = e;
	g->ns_next = e->groups;
	if (e->groups != NULL)
		e->groups->ns_prev = g;
	e->groups = g;
	e->n_groups++;
	return g;
}

static void group_put(struct k8s_store *s, struct k8s_group *g)
{
	struct k8s_nsent *e = g->nsent;

	if (g->svc != NULL || g->slices != NULL)
		return;
	k8s_hmap_remove(&s->groups, &g->node);
	if (g->ns_prev != NULL)
		g->ns_prev->ns_next = g->ns_next;
	else
		e->groups = g->ns_next;
	if (g->ns_next != NULL)
		g->ns_next->ns_prev = g->ns_prev;
	e->n_groups--;
	free(g);
	ns_put(s, e);
}

/* ------------------------------------------------------------------------- */
/* Address index                                                               */

static int ip_ref_add(struct k8s_store *s, const struct k8s_ip *ip, struct k8s_group *g,
		      const struct k8s_ep *ep)
{
	struct k8s_hnode *n = k8s_hmap_find(&s->ips, k8s_ip_hash(ip), ip_eq, ip);
	struct k8s_ipent *e;

	if (n == NULL) {
		e = calloc(1, sizeof(*e));
		if (e == NULL)
			return -ENOMEM;
		e->ip = *ip;
		e->node.hash = k8s_ip_hash(ip);
		e->refs = &e->one;
		e->cap = 1;
		if (k8s_hmap_insert(&s->ips, &e->node) != 0) {
			free(e);
			return -ENOMEM;
		}
	} else {
		e = k8s_container_of(n, struct k8s_ipent, node);
	}
	if (e->n == e->cap) {
		unsigned ncap = e->cap * 2;
		struct k8s_ipref *r = malloc(ncap * sizeof(*r));

		if (r == NULL)
			return -ENOMEM;
		memcpy(r, e->refs, e->n * sizeof(*r));
		if (e->refs != &e->one)
			free(e->refs);
		e->refs = r;
		e->cap = ncap;
	}
	e->refs[e->n++] = (struct k8s_ipref){ g, ep };
	return 0;
}

static void ip_ref_del(struct k8s_store *s, const struct k8s_ip *ip, struct k8s_group *g,
		       const struct k8s_ep *ep)
{
	struct k8s_hnode *n = k8s_hmap_find(&s->ips, k8s_ip_hash(ip), ip_eq, ip);
	struct k8s_ipent *e;

	if (n == NULL)
		return;
	e = k8s_container_of(n, struct k8s_ipent, node);
	for (unsigned i = 0; i < e->n; i++) {
		if (e->refs[i].g == g && e->refs[i].ep == ep) {
			/* Keep the order: PTR answers list services in arrival order. */
			memmove(&e->refs[i], &e->refs[i + 1], (e->n - i - 1) * sizeof(e->refs[0]));
			e->n--;
			break;
		}
	}
	if (e->n == 0) {
		k8s_hmap_remove(&s->ips, &e->node);
		if (e->refs != &e->one)
			free(e->refs);
		free(e);
	}
}

/* ------------------------------------------------------------------------- */
/* ExternalName dependencies                                                   */

static void dep_unlink(struct k8s_store *s, struct k8s_group *g)
{
	struct k8s_dep *d = g->dep;

	if (d == NULL)
		return;
	if (g->dep_prev != NULL)
		g->dep_prev->dep_next = g->dep_next;
	else
		d->dependents = g->dep_next;
	if (g->dep_next != NULL)
		g->dep_next->dep_prev = g->dep_prev;
	g->dep = NULL;
	g->dep_next = g->dep_prev = NULL;
	if (d->dependents == NULL) {
		k8s_hmap_remove(&s->deps, &d->node);
		free(d);
	}
}

static void dep_link(struct k8s_store *s, struct k8s_group *g, const char *target)
{
	char key[512];
	struct k8s_hnode *n;
	struct k8s_dep *d;

	if (s->dep_key == NULL || s->dep_key(s->dep_ctx, target, key, sizeof(key)) != 0)
		return;
	n = k8s_hmap_find(&s->deps, k8s_hash_str(key), dep_eq, key);
	if (n == NULL) {
		d = calloc(1, sizeof(*d) + strlen(key) + 1);
		if (d == NULL)
			return; /* without the link the dependent is only refreshed by its own events */
		strcpy(d->key, key);
		d->node.hash = k8s_hash_str(key);
		if (k8s_hmap_insert(&s->deps, &d->node) != 0) {
			free(d);
			return;
		}
	} else {
		d = k8s_container_of(n, struct k8s_dep, node);
	}
	g->dep = d;
	g->dep_prev = NULL;
	g->dep_next = d->dependents;
	if (d->dependents != NULL)
		d->dependents->dep_prev = g;
	d->dependents = g;
}

/* ------------------------------------------------------------------------- */
/* Applying objects                                                            */

static void svc_unindex(struct k8s_store *s, struct k8s_group *g, struct k8s_obj *o)
{
	for (unsigned i = 0; i < o->u.svc.n_ips; i++)
		ip_ref_del(s, &o->u.svc.ips[i], g, NULL);
	dep_unlink(s, g);
}

static int svc_index(struct k8s_store *s, struct k8s_group *g, struct k8s_obj *o)
{
	for (unsigned i = 0; i < o->u.svc.n_ips; i++) {
		if (ip_ref_add(s, &o->u.svc.ips[i], g, NULL) != 0) {
			while (i-- > 0)
				ip_ref_del(s, &o->u.svc.ips[i], g, NULL);
			return -ENOMEM;
		}
	}
	if (o->u.svc.type == K8S_SVC_EXTERNAL && !o->u.svc.external_is_ip)
		dep_link(s, g, o->u.svc.external);
	return 0;
}

static void slice_unindex(struct k8s_store *s, struct k8s_obj *o)
{
	for (unsigned i = 0; i < o->u.slice.n_eps; i++) {
		if (o->u.slice.eps[i].ready)
			ip_ref_del(s, &o->u.slice.eps[i].ip, o->group, &o->u.slice.eps[i]);
	}
	s->n_eps -= o->u.slice.n_eps;
}

static int slice_index(struct k8s_store *s, struct k8s_obj *o)
{
	for (unsigned i = 0; i < o->u.slice.n_eps; i++) {
		const struct k8s_ep *ep = &o->u.slice.eps[i];

		if (ep->ready && ip_ref_add(s, &ep->ip, o->group, ep) != 0) {
			while (i-- > 0) {
				ep = &o->u.slice.eps[i];
				if (ep->ready)
					ip_ref_del(s, &ep->ip, o->group, ep);
			}
			return -ENOMEM;
		}
	}
	s->n_eps += o->u.slice.n_eps;
	return 0;
}

static void slice_unlink(struct k8s_obj *o)
{
	struct k8s_obj **pp = &o->group->slices;

	for (; *pp != NULL; pp = &(*pp)->gnext) {
		if (*pp == o) {
			*pp = o->gnext;
			o->group->n_slices--;
			return;
		}
	}
}

/* Replace the group's Service @p old (may be NULL) by @p o (may be NULL), re-indexing. */
static int apply_svc(struct k8s_store *s, struct k8s_obj *old, struct k8s_obj *o)
{
	const struct k8s_obj *id = o != NULL ? o : old;
	struct k8s_group *g = group_get(s, id->ns, id->name);

	if (g == NULL)
		return -ENOMEM;
	if (old != NULL)
		svc_unindex(s, g, old);
	if (o != NULL && svc_index(s, g, o) != 0) {
		if (old != NULL)
			svc_index(s, g, old); /* best effort: back to the previous state */
		group_put(s, g);
		return -ENOMEM;
	}
	g->svc = o;
	if (o != NULL)
		o->group = g;
	group_put(s, g);
	return 0;
}

static int apply_slice(struct k8s_store *s, struct k8s_obj *old, struct k8s_obj *o)
{
	if (o != NULL) {
		struct k8s_group *g = group_get(s, o->ns, o->u.slice.service);
		struct k8s_obj **pp;

		if (g == NULL)
			return -ENOMEM;
		o->group = g;
		if (slice_index(s, o) != 0) {
			group_put(s, g);
			return -ENOMEM;
		}
		/* Linked before the old one leaves: a group of slices only must not be freed
		 * in between when both are in it. */
		for (pp = &g->slices; *pp != NULL; pp = &(*pp)->gnext)
			;
		*pp = o;
		o->gnext = NULL;
		g->n_slices++;
	}
	if (old != NULL) {
		struct k8s_group *og = old->group;

		slice_unindex(s, old);
		slice_unlink(old);
		group_put(s, og);
	}
	return 0;
}

static int apply_ns(struct k8s_store *s, struct k8s_obj *old, struct k8s_obj *o)
{
	const char *name = o != NULL ? o->name : old->name;
	struct k8s_nsent *e = ns_get(s, name);

	if (e == NULL)
		return -ENOMEM;
	e->obj = o;
	ns_put(s, e);
	return 0;
}

static int podip_add(struct k8s_store *s, const char *ns, const struct k8s_ip *ip)
{
	struct podip_key k = { ns, ip };
	uint64_t h = podip_hash(ns, ip);
	struct k8s_hnode *n = k8s_hmap_find(&s->podips, h, podip_eq, &k);
	struct k8s_podip *p;

	if (n != NULL) {
		k8s_container_of(n, struct k8s_podip, node)->count++;
		return 0;
	}
	p = calloc(1, sizeof(*p) + strlen(ns) + 1);
	if (p == NULL)
		return -ENOMEM;
	p->ip = *ip;
	p->count = 1;
	strcpy(p->ns, ns);
	p->node.hash = h;
	if (k8s_hmap_insert(&s->podips, &p->node) != 0) {
		free(p);
		return -ENOMEM;
	}
	return 0;
}

static void podip_del(struct k8s_store *s, const char *ns, const struct k8s_ip *ip)
{
	struct podip_key k = { ns, ip };
	struct k8s_hnode *n = k8s_hmap_find(&s->podips, podip_hash(ns, ip), podip_eq, &k);
	struct k8s_podip *p;

	if (n == NULL)
		return;
	p = k8s_container_of(n, struct k8s_podip, node);
	if (--p->count == 0) {
		k8s_hmap_remove(&s->podips, &p->node);
		free(p);
	}
}

static int apply_pod(struct k8s_store *s, struct k8s_obj *old, struct k8s_obj *o)
{
	struct k8s_nsent *e;

	if (o != NULL) {
		e = ns_get(s, o->ns);
		if (e == NULL || podip_add(s, o->ns, &o->u.pod.ip) != 0) {
			if (e != NULL)
				ns_put(s, e);
			return -ENOMEM;
		}
		e->n_pods++;
	}
	if (old != NULL) {
		podip_del(s, old->ns, &old->u.pod.ip);
		e = k8s_store_ns(s, old->ns);
		if (e != NULL) {
			e->n_pods--;
			ns_put(s, e);
		}
	}
	return 0;
}

int k8s_store_apply(struct k8s_store *s, struct k8s_obj *o)
{
	enum k8s_res res = o->res;
	struct k8s_obj *old = k8s_store_obj(s, res, o->key);
	struct k8s_obj *nw = o->tombstone ? NULL : o;
	int rc = 0;

	if (old == NULL && nw == NULL) {
		k8s_obj_free(o);
		return 0;
	}
	if (nw != NULL) {
		nw->node.hash = k8s_hash_str(nw->key);
		nw->gen = s->gen[res];
		/* Link first: the only step that can fail without side effects to undo. */
		if (k8s_hmap_insert(&s->objs[res], &nw->node) != 0) {
			k8s_obj_free(o);
			return -ENOMEM;
		}
	}
	switch (res) {
	case K8S_RES_SVC:
		rc = apply_svc(s, old, nw);
		break;
	case K8S_RES_SLICE:
		rc = apply_slice(s, old, nw);
		break;
	case K8S_RES_NS:
		rc = apply_ns(s, old, nw);
		break;
	default:
		rc = apply_pod(s, old, nw);
		break;
	}
	if (rc != 0) {
		if (nw != NULL)
			k8s_hmap_remove(&s->objs[res], &nw->node);
		k8s_obj_free(o);
		return rc;
	}
	if (old != NULL) {
		k8s_hmap_remove(&s->objs[res], &old->node);
		k8s_obj_free(old);
	}
	if (nw == NULL)
		k8s_obj_free(o);
	return 0;
}

void k8s_store_touch(struct k8s_store *s, struct k8s_obj *o)
{
	o->gen = s->gen[o->res];
}

void k8s_store_list_begin(struct k8s_store *s, enum k8s_res res)
{
	s->gen[res]++;
}

struct k8s_obj **k8s_store_stale(const struct k8s_store *s, enum k8s_res res, size_t *n)
{
	struct k8s_hiter it = { 0, NULL };
	struct k8s_hnode *node;
	struct k8s_obj **dead = NULL;
	size_t cnt = 0, cap = 0;

	*n = 0;
	while ((node = k8s_hmap_iter(&s->objs[res], &it)) != NULL) {
		struct k8s_obj *o = k8s_container_of(node, struct k8s_obj, node);

		if (o->gen == s->gen[res])
			continue;
		if (cnt == cap) {
			size_t ncap = cap == 0 ? 64 : cap * 2;
			struct k8s_obj **nd = realloc(dead, ncap * sizeof(*nd));

			if (nd == NULL)
				break;
			dead = nd;
			cap = ncap;
		}
		dead[cnt] = k8s_obj_tombstone(res, o->ns, o->name);
		if (dead[cnt] == NULL)
			break;
		cnt++;
	}
	*n = cnt;
	return dead;
}

int k8s_store_init(struct k8s_store *s, k8s_dep_key_fn dep_key, void *dep_ctx)
{
	memset(s, 0, sizeof(*s));
	k8s_hmap_init(&s->ns);
	k8s_hmap_init(&s->groups);
	for (int i = 0; i < K8S_RES_N; i++)
		k8s_hmap_init(&s->objs[i]);
	k8s_hmap_init(&s->ips);
	k8s_hmap_init(&s->podips);
	k8s_hmap_init(&s->deps);
	s->dep_key = dep_key;
	s->dep_ctx = dep_ctx;
	return 0;
}

/* Free every node of a map whose node sits at offset @p off of a malloc'd block. */
static void free_nodes(struct k8s_hmap *m, size_t off, void (*extra)(void *))
{
	if (m->b != NULL) {
		for (size_t i = 0; i <= m->mask; i++) {
			struct k8s_hnode *n = m->b[i], *next;

			for (; n != NULL; n = next) {
				void *blk = (char *)n - off;

				next = n->next;
				if (extra != NULL)
					extra(blk);
				free(blk);
			}
		}
	}
	k8s_hmap_fini(m);
}

static void ipent_extra(void *blk)
{
	struct k8s_ipent *e = blk;

	if (e->refs != &e->one)
		free(e->refs);
}

void k8s_store_fini(struct k8s_store *s)
{
	for (int i = 0; i < K8S_RES_N; i++)
		free_nodes(&s->objs[i], offsetof(struct k8s_obj, node), NULL);
	free_nodes(&s->ns, offsetof(struct k8s_nsent, node), NULL);
	free_nodes(&s->groups, offsetof(struct k8s_group, node), NULL);
	free_nodes(&s->ips, offsetof(struct k8s_ipent, node), ipent_extra);
	free_nodes(&s->podips, offsetof(struct k8s_podip, node), NULL);
	free_nodes(&s->deps, offsetof(struct k8s_dep, node), NULL);
}
