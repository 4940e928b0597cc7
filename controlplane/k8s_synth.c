/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - kubernetes record synthesis (see k8s_synth.h).
 *
 * Structure follows CoreDNS so each rule can be checked against it: parse the name
 * (parseRequest), collect "service entries" (Records -> findServices / findPods: an
 * address or a CNAME target, a port, and the name the entry lives under), then turn them
 * into records per qtype (plugin.A / SRV / TXT / PTR / NS / SOA) and map errors to
 * NXDOMAIN / SERVFAIL / fallthrough as the plugin's ServeDNS does.
 *
 * Deliberate differences from CoreDNS v1.14 (all so the fast path and the control plane
 * give the same answer for a name whatever the transport):
 *  - SRV port/protocol labels must carry their underscore ("_http._tcp"); CoreDNS also
 *    accepts "http.tcp" and "_" as a wildcard. Other forms are NXDOMAIN.
 *  - SOA for a name below the apex is answered like any other type (NODATA when the name
 *    exists, else NXDOMAIN), MX is NODATA for existing names.
 *  - The negative answer's SOA (owner, MNAME, RNAME) uses the configured zone in lower
 *    case (CoreDNS: the zone as the query spelled it): the fast path gives every name
 *    of a zone one NXDOMAIN value. Names made under the zone in positive answers (SRV
 *    targets and their additional owners, the apex NS, SOA) end in a pointer to the
 *    zone in the question, so they read in the query's case as in CoreDNS.
 *  - ns.dns.<zone> has the addresses the runtime gives (k8s_synth.nsaddr); without any,
 *    the apex NS record is answered without glue.
 * Elsewhere in the plugin (k8s_plugin.c): before the initial sync only the questions the
 * plugin cannot answer wait (CoreDNS opens no listener at all); the SOA serial follows
 * the last change at most once a second; the programming-latency histogram leaves out
 * the initial list.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "k8s_config.h"
#include "k8s_store.h"
#include "k8s_synth.h"

#define CHAIN_MAX 8 /* CNAMEs followed, as plugin.A's len(previousRecords) > 7 */

/* ------------------------------------------------------------------------- */
/* Answer                                                                      */

void k8s_answer_init(struct k8s_answer *a)
{
	memset(a, 0, sizeof(*a));
	a->zone = -1;
}

void k8s_answer_reset(struct k8s_answer *a)
{
	a->rc = K8S_RC_ANSWER;
	a->zone = -1;
	a->n = 0;
	a->slen = 0;
	a->upstream = false;
	a->upstream_name[0] = '\0';
	a->upstream_type = 0;
	a->err = 0;
}

void k8s_answer_fini(struct k8s_answer *a)
{
	free(a->rr);
	free(a->str);
	memset(a, 0, sizeof(*a));
}

/* @return the pool offset of a copy of @p s, or 0 on ENOMEM (a->err set). */
static uint32_t ans_str(struct k8s_answer *a, const char *s)
{
	size_t l = strlen(s) + 1;
	uint32_t off;

	if (a->slen + l > a->scap) {
		size_t ncap = a->scap == 0 ? 1024 : a->scap * 2;
		char *n;

		while (ncap < a->slen + l)
			ncap *= 2;
		n = realloc(a->str, ncap);
		if (n == NULL) {
			a->err = -ENOMEM;
			return 0;
		}
		a->str = n;
		a->scap = ncap;
	}
	off = (uint32_t)a->slen;
	memcpy(a->str + off, s, l);
	a->slen += l;
	return off;
}

static struct k8s_rr *ans_rr(struct k8s_answer *a, enum dns_section sec, uint16_t type,
			     uint32_t ttl, uint32_t owner)
{
	struct k8s_rr *rr;

	if (a->n == a->cap) {
		unsigned ncap = a->cap == 0 ? 16 : a->cap * 2;
		struct k8s_rr *n = realloc(a->rr, ncap * sizeof(*n));

		if (n == NULL) {
			a->err = -ENOMEM;
			return NULL;
		}
		a->rr = n;
		a->cap = ncap;
	}
	rr = &a->rr[a->n++];
	memset(rr, 0, sizeof(*rr));
	rr->sec = (uint8_t)sec;
	rr->type = type;
	rr->ttl = ttl;
	rr->owner = owner;
	return rr;
}

/* ------------------------------------------------------------------------- */
/* Index set: dedup by hash with exact check through a callback                */

struct idxset {
	uint32_t *slot; /* index + 1; 0 = empty */
	size_t mask;
};

static int idxset_init(struct idxset *s, size_t n)
{
	size_t cap = 16;

	while (cap < n * 2)
		cap *= 2;
	s->slot = calloc(cap, sizeof(*s->slot));
	s->mask = cap - 1;
	return s->slot != NULL ? 0 : -ENOMEM;
}

static void idxset_fini(struct idxset *s)
{
	free(s->slot);
}

/* @return true when @p idx was added, false when an equal entry was there. */
static bool idxset_add(struct idxset *s, uint64_t h, uint32_t idx,
		       bool (*eq)(const void *ctx, uint32_t a, uint32_t b), const void *ctx)
{
	size_t i = h & s->mask;

	for (;; i = (i + 1) & s->mask) {
		if (s->slot[i] == 0) {
			s->slot[i] = idx + 1;
			return true;
		}
		if (eq(ctx, s->slot[i] - 1, idx))
			return false;
	}
}

/* ------------------------------------------------------------------------- */
/* Names                                                                       */

/* snprintf "%s" that @return the bytes written: the API's hostname is not trusted to be
 * a label, and callers pack names one after another (view_build's 64-byte slots). */
static size_t put_str(char *out, size_t cap, const char *s)
{
	int n = snprintf(out, cap, "%s", s);

	if (n < 0 || cap == 0)
		return 0;
	return (size_t)n < cap ? (size_t)n : cap - 1;
}

size_t k8s_endpoint_hostname(const struct k8s_ep *ep, bool pod_names, char *out, size_t cap)
{
	char ip[64];
	size_t l;

	if (ep->hostname != NULL)
		return put_str(out, cap, ep->hostname);
	if (pod_names && ep->target != NULL)
		return put_str(out, cap, ep->target);
	k8s_ip_str(&ep->ip, ip, sizeof(ip));
	for (char *p = ip; *p != '\0'; p++) {
		if (*p == '.' || *p == ':')
			*p = '-';
	}
	l = put_str(out, cap, ip);
	/* "5678:abcd::" would give a label ending in '-': CoreDNS appends a 0. */
	if (ep->ip.fam == 6 && l > 0 && l + 1 < cap && out[l - 1] == '-') {
		out[l++] = '0';
		out[l] = '\0';
	}
	return l;
}

char *k8s_reverse_name(const struct k8s_ip *ip, char *out, size_t cap)
{
	size_t o = 0;

	if (ip->fam == 4) {
		snprintf(out, cap, "%u.%u.%u.%u.in-addr.arpa.", ip->a[3], ip->a[2], ip->a[1],
			 ip->a[0]);
		return out;
	}
	for (int i = 15; i >= 0 && o + 4 < cap; i--)
		o += (size_t)snprintf(out + o, cap - o, "%x.%x.", ip->a[i] & 0xf, ip->a[i] >> 4);
	snprintf(out + o, cap - o, "ip6.arpa.");
	return out;
}

/* "<a>.<b>.<c>.<zone>" with the zone's presentation (root: nothing after the dot). */
static void compose(char *out, size_t cap, const char *labels, const struct k8s_zone *z)
{
	snprintf(out, cap, "%s.%s", labels, strcmp(z->name, ".") == 0 ? "" : z->name);
}

/* ------------------------------------------------------------------------- */
/* Request parsing (CoreDNS parseRequest)                                      */

#define LBL_MAX 64

enum req_kind { REQ_EMPTY, REQ_INVALID, REQ_OK };

struct req {
	int zone;
	enum req_kind kind;
	bool pod;
	unsigned nbase;     /* labels below the zone */
	char ns[LBL_MAX], svc[LBL_MAX], ep[LBL_MAX], port[LBL_MAX], proto[LBL_MAX];
};

struct wname {
	const uint8_t *w;
	size_t len;
	unsigned n;
	uint16_t off[128];
};

static int wname_split(struct wname *wn, const uint8_t *w, size_t len)
{
	size_t o = 0;

	wn->w = w;
	wn->len = len;
	wn->n = 0;
	while (o < len && w[o] != 0) {
		if (wn->n >= 128 || o + 1 + w[o] > len)
			return -EINVAL;
		wn->off[wn->n++] = (uint16_t)o;
		o += (size_t)w[o] + 1;
	}
	return o + 1 == len ? 0 : -EINVAL;
}

static bool label_is(const struct wname *wn, unsigned i, const char *s)
{
	size_t l = strlen(s);

	return wn->w[wn->off[i]] == l && memcmp(wn->w + wn->off[i] + 1, s, l) == 0;
}

/* Copy label @p i as a C string. @return false when it cannot name an object. */
static bool label_copy(const struct wname *wn, unsigned i, char *out)
{
	const uint8_t *p = wn->w + wn->off[i];

	memcpy(out, p + 1, p[0]);
	out[p[0]] = '\0';
	return memchr(p + 1, 0, p[0]) == NULL && memchr(p + 1, '/', p[0]) == NULL;
}

/* "_http" -> "http"; anything else cannot name a port in dpdns (see the file header). */
static bool port_label(const struct wname *wn, unsigned i, char *out)
{
	if (!label_copy(wn, i, out) || out[0] != '_' || out[1] == '\0')
		return false;
	memmove(out, out + 1, strlen(out));
	return true;
}

static void parse_req(const struct wname *wn, unsigned nbase, int zone, struct req *r)
{
	bool ok = true;
	unsigned last;

	memset(r, 0, sizeof(*r));
	r->zone = zone;
	r->nbase = nbase;
	r->kind = REQ_EMPTY;
	if (nbase == 0 || (nbase == 1 && (label_is(wn, 0, "svc") || label_is(wn, 0, "pod"))))
		return;
	last = nbase - 1;
	r->pod = label_is(wn, last, "pod");
	if (!r->pod && !label_is(wn, last, "svc")) {
		r->kind = REQ_INVALID;
		return;
	}
	r->kind = REQ_OK;
	if (nbase >= 2)
		ok &= label_copy(wn, last - 1, r->ns);
	if (nbase >= 3)
		ok &= label_copy(wn, last - 2, r->svc);
	if (nbase == 4)
		ok &= label_copy(wn, 0, r->ep);
	if (nbase == 5 && !r->pod)
		ok &= port_label(wn, 0, r->port) && port_label(wn, 1, r->proto);
	if (nbase > 5 || !ok)
		r->kind = REQ_INVALID;
}

/* ------------------------------------------------------------------------- */
/* Group views                                                                 */

struct k8s_vep {
	const struct k8s_ep *ep;
	const struct k8s_obj *slice;
	uint32_t host;   /* offset in hosts */
	uint32_t next;   /* next index with the same host bucket, UINT32_MAX = end */
	bool first;      /* first endpoint with this hostname */
};

struct k8s_view {
	const struct k8s_group *g;
	unsigned n;
	struct k8s_vep *e;
	char *hosts;
	uint32_t *bucket;
	size_t nb;
};

static void view_free(struct k8s_view *v)
{
	if (v == NULL)
		return;
	free(v->e);
	free(v->hosts);
	free(v->bucket);
	free(v);
}

void k8s_vcache_init(struct k8s_vcache *vc)
{
	memset(vc, 0, sizeof(*vc));
}

void k8s_vcache_clear(struct k8s_vcache *vc)
{
	for (unsigned i = 0; i < K8S_VCACHE_N; i++) {
		view_free(vc->v[i]);
		vc->v[i] = NULL;
	}
	vc->next = 0;
}

unsigned k8s_view_count(const struct k8s_view *v)
{
	return v->n;
}

const char *k8s_view_host(const struct k8s_view *v, unsigned i)
{
	return v->hosts + v->e[i].host;
}

bool k8s_view_host_first(const struct k8s_view *v, unsigned i)
{
	return v->e[i].first;
}

/* Index endpoint @p i by hostname; marks the first of each hostname. */
static void view_index(struct k8s_view *v, unsigned i)
{
	const char *h = v->hosts + v->e[i].host;
	size_t b = k8s_hash_str(h) & (v->nb - 1);
	uint32_t *pp = &v->bucket[b];

	v->e[i].first = true;
	for (uint32_t j = *pp; j != UINT32_MAX; j = v->e[j].next) {
		if (strcmp(v->hosts + v->e[j].host, h) == 0)
			v->e[i].first = false;
		pp = &v->e[j].next;
	}
	/* Append: keeps arrival order inside a bucket chain. */
	*pp = i;
	v->e[i].next = UINT32_MAX;
}

static struct k8s_view *view_build(const struct k8s_synth *s, const struct k8s_group *g)
{
	struct k8s_view *v = calloc(1, sizeof(*v));
	size_t n = 0, k = 0, hl = 0;
	const struct k8s_obj *sl;

	if (v == NULL)
		return NULL;
	v->g = g;
	for (sl = g->slices; sl != NULL; sl = sl->gnext)
		n += sl->u.slice.n_eps;
	for (v->nb = 16; v->nb < n * 2; v->nb *= 2)
		;
	v->e = malloc((n + 1) * sizeof(*v->e));
	v->hosts = malloc(n * 64 + 1);
	v->bucket = malloc(v->nb * sizeof(*v->bucket));
	if (v->e == NULL || v->hosts == NULL || v->bucket == NULL) {
		view_free(v);
		return NULL;
	}
	memset(v->bucket, 0xff, v->nb * sizeof(*v->bucket));
	for (sl = g->slices; sl != NULL; sl = sl->gnext) {
		for (unsigned i = 0; i < sl->u.slice.n_eps; i++) {
			const struct k8s_ep *ep = &sl->u.slice.eps[i];

			if (!ep->ready)
				continue;
			v->e[k] = (struct k8s_vep){ ep, sl, (uint32_t)hl, UINT32_MAX, false };
			hl += k8s_endpoint_hostname(ep, s->cfg->endpoint_pod_names, v->hosts + hl,
						    64) + 1;
			view_index(v, (unsigned)k);
			k++;
		}
	}
	v->n = (unsigned)k;
	return v;
}

struct k8s_view *k8s_view_get(const struct k8s_synth *s, struct k8s_vcache *vc,
			      const struct k8s_group *g)
{
	struct k8s_view *v;

	if (vc != NULL) {
		for (unsigned i = 0; i < K8S_VCACHE_N; i++) {
			if (vc->v[i] != NULL && vc->v[i]->g == g)
				return vc->v[i];
		}
	}
	v = view_build(s, g);
	if (v != NULL && vc != NULL) {
		view_free(vc->v[vc->next]);
		vc->v[vc->next] = v;
		vc->next = (vc->next + 1) % K8S_VCACHE_N;
	}
	return v;
}

/* ------------------------------------------------------------------------- */
/* Service entries (CoreDNS msg.Service as findServices/findPods produce them) */

enum sent_kind { SENT_ADDR, SENT_CNAME };
enum sent_at { AT_SVC, AT_POD, AT_NSDNS };

struct sent {
	enum sent_kind kind;
	enum sent_at at;
	struct k8s_ip ip;
	int32_t port;
	const char *ext;  /* CNAME target */
	const char *host; /* endpoint hostname / pod name, NULL for the service itself */
	const char *svc;
	const char *ns;
};

/* The name an entry lives under (CoreDNS msg.Domain(serv.Key)). */
static void sent_name(const struct k8s_synth *s, int zone, const struct sent *e, char *out,
		      size_t cap)
{
	char lb[4 * LBL_MAX];

	if (e->at == AT_NSDNS)
		snprintf(lb, sizeof(lb), "ns.dns");
	else if (e->at == AT_POD)
		snprintf(lb, sizeof(lb), "%s.%s.pod", e->host, e->ns);
	else if (e->host != NULL)
		snprintf(lb, sizeof(lb), "%s.%s.%s.svc", e->host, e->svc, e->ns);
	else
		snprintf(lb, sizeof(lb), "%s.%s.svc", e->svc, e->ns);
	compose(out, cap, lb, &s->cfg->zones[zone]);
}

struct sents {
	unsigned n, cap;
	struct sent *v;
	int err;
};

static struct sent *sent_add(struct sents *l)
{
	if (l->n == l->cap) {
		unsigned ncap = l->cap == 0 ? 8 : l->cap * 2;
		struct sent *n = realloc(l->v, ncap * sizeof(*n));

		if (n == NULL) {
			l->err = -ENOMEM;
			return NULL;
		}
		l->v = n;
		l->cap = ncap;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	return &l->v[l->n++];
}

enum { SV_OK = 0, SV_NOITEMS = 1 };

bool k8s_synth_ns_exposed(const struct k8s_synth *s, const char *ns)
{
	const struct k8s_nsent *e;

	if (!k8s_config_ns_listed(s->cfg, ns))
		return false;
	if (s->cfg->ns_labels == NULL)
		return true;
	/* namespace_labels: only namespaces the filtered watch delivered exist. */
	e = k8s_store_ns(s->store, ns);
	return e != NULL && e->obj != NULL;
}

static bool ns_exists(const struct k8s_synth *s, const char *ns)
{
	const struct k8s_nsent *e = k8s_store_ns(s->store, ns);

	return e != NULL && e->obj != NULL;
}

static bool port_match(const struct req *r, const struct k8s_port *p)
{
	/* An absent request part matches everything (CoreDNS's match("", x)). */
	return (r->port[0] == '\0' || strcasecmp(r->port, p->name) == 0) &&
	       (r->proto[0] == '\0' || strcasecmp(r->proto, p->proto) == 0);
}

/* Endpoint entries of a headless service, or of an endpoint name below any service. */
static int find_endpoints(const struct k8s_synth *s, struct k8s_vcache *vc, const struct req *r,
			  const struct k8s_group *g, struct sents *out)
{
	struct k8s_view *v = k8s_view_get(s, vc, g);
	int rc = SV_NOITEMS;

	if (v == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < v->n; i++) {
		const struct k8s_vep *e = &v->e[i];
		const char *host = v->hosts + e->host;

		if (r->ep[0] != '\0' && strcasecmp(r->ep, host) != 0)
			continue;
		for (unsigned j = 0; j < e->slice->u.slice.n_ports; j++) {
			const struct k8s_port *p = &e->slice->u.slice.ports[j];
			struct sent *se;

			if (!port_match(r, p))
				continue;
			se = sent_add(out);
			if (se == NULL)
				break;
			*se = (struct sent){ SENT_ADDR, AT_SVC, e->ep->ip, p->port, NULL, host,
					     g->name, g->ns };
			rc = SV_OK;
		}
	}
	/* Entries point at the view's hostnames: the cache keeps it while they are used
	 * (only CNAME entries, which hold none, lead to a recursive lookup). */
	return out->err != 0 ? out->err : rc;
}

/* CoreDNS findServices, for one service name. */
static int find_services(const struct k8s_synth *s, struct k8s_vcache *vc, const struct req *r,
			 struct sents *out)
{
	const struct k8s_group *g;
	const struct k8s_obj *svc;
	struct sent *se;
	int rc = SV_NOITEMS;

	if (r->svc[0] == '\0') /* <ns>.svc.<zone>: NODATA for a namespace that exists */
		return ns_exists(s, r->ns) ? SV_OK : SV_NOITEMS;
	g = k8s_store_group(s->store, r->ns, r->svc);
	svc = g != NULL ? g->svc : NULL;
	if (svc == NULL)
		return SV_NOITEMS;
	if (s->cfg->ignore_empty_service && svc->u.svc.type == K8S_SVC_CLUSTERIP) {
		struct k8s_view *v = k8s_view_get(s, vc, g);
		if (v == NULL)
			return -ENOMEM;
		if (v->n == 0)
			return SV_NOITEMS;
	}
	if (svc->u.svc.type == K8S_SVC_EXTERNAL) {
		if (r->ep[0] != '\0' || r->port[0] != '\0' || r->proto[0] != '\0' ||
		    svc->u.svc.external_is_ip || svc->u.svc.external[0] == '\0')
			return SV_NOITEMS;
		se = sent_add(out);
		if (se == NULL)
			return -ENOMEM;
		*se = (struct sent){ SENT_CNAME, AT_SVC, { 0, { 0 } }, 0, svc->u.svc.external, NULL,
				     g->name, g->ns };
		return SV_OK;
	}
	if (svc->u.svc.type == K8S_SVC_HEADLESS || r->ep[0] != '\0')
		return find_endpoints(s, vc, r, g, out);
	for (unsigned i = 0; i < svc->u.svc.n_ports; i++) {
		const struct k8s_port *p = &svc->u.svc.ports[i];

		if (!port_match(r, p))
			continue;
		rc = SV_OK;
		for (unsigned j = 0; j < svc->u.svc.n_ips; j++) {
			se = sent_add(out);
			if (se == NULL)
				return -ENOMEM;
			*se = (struct sent){ SENT_ADDR, AT_SVC, svc->u.svc.ips[j], p->port, NULL, NULL,
					     g->name, g->ns };
		}
	}
	return rc;
}

/* "1-2-3-4" -> 1.2.3.4, "fd00--1" -> fd00::1, as CoreDNS findPods converts them. */
static bool pod_ip(const char *podname, struct k8s_ip *ip)
{
	char buf[LBL_MAX];
	unsigned dashes = 0;
	bool v4;

	for (const char *p = podname; *p != '\0'; p++)
		dashes += *p == '-';
	v4 = dashes == 3 && strstr(podname, "--") == NULL;
	snprintf(buf, sizeof(buf), "%s", podname);
	for (char *p = buf; *p != '\0'; p++) {
		if (*p == '-')
			*p = v4 ? '.' : ':';
	}
	return k8s_ip_parse(ip, buf) == 0;
}

/* CoreDNS findPods. */
static int find_pods(const struct k8s_synth *s, const struct req *r, struct sents *out)
{
	struct k8s_ip ip;
	struct sent *se;

	if (s->cfg->pods == K8S_PODS_DISABLED || !ns_exists(s, r->ns))
		return SV_NOITEMS;
	if (r->svc[0] == '\0')
		return SV_OK;
	if (!pod_ip(r->svc, &ip))
		return SV_NOITEMS;
	if (s->cfg->pods == K8S_PODS_VERIFIED && k8s_store_pod_ip(s->store, r->ns, &ip) == 0)
		return SV_NOITEMS;
	se = sent_add(out);
	if (se == NULL)
		return -ENOMEM;
	*se = (struct sent){ SENT_ADDR, AT_POD, ip, 0, NULL, r->svc, NULL, r->ns };
	return SV_OK;
}

static bool is_reverse(const struct wname *wn)
{
	return (wn->n >= 2 && label_is(wn, wn->n - 2, "in-addr") && label_is(wn, wn->n - 1, "arpa")) ||
	       (wn->n >= 2 && label_is(wn, wn->n - 2, "ip6") && label_is(wn, wn->n - 1, "arpa"));
}

/* CoreDNS Records(). */
static int records(const struct k8s_synth *s, struct k8s_vcache *vc, const struct wname *wn,
		   const struct req *r, struct sents *out)
{
	if (r->kind == REQ_INVALID)
		return SV_NOITEMS;
	if (r->kind == REQ_EMPTY || r->nbase == 1)
		return SV_OK; /* apex, "svc", "pod" and "<x>.svc" with nothing above: NODATA */
	if (is_reverse(wn))
		return SV_NOITEMS;
	if (!k8s_synth_ns_exposed(s, r->ns))
		return SV_NOITEMS;
	if (r->pod)
		return find_pods(s, r, out);
	return find_services(s, vc, r, out);
}

static bool is_ns_dns(const struct wname *wn, unsigned nbase)
{
	return nbase == 2 && label_is(wn, 0, "ns") && label_is(wn, 1, "dns");
}

/* CoreDNS Services(): Records plus the ns.dns.<zone> addresses and the SRV filter. */
static int services(const struct k8s_synth *s, struct k8s_vcache *vc, const struct wname *wn,
		    const struct req *r, uint16_t qtype, struct sents *out)
{
	int rc;

	if (is_ns_dns(wn, r->nbase)) {
		for (unsigned i = 0; i < s->n_nsaddr; i++) {
			struct sent *se;

			if ((qtype == DNS_T_A) != (s->nsaddr[i].fam == 4) ||
			    (qtype != DNS_T_A && qtype != DNS_T_AAAA))
				continue;
			se = sent_add(out);
			if (se == NULL)
				return -ENOMEM;
			*se = (struct sent){ SENT_ADDR, AT_NSDNS, s->nsaddr[i], 0, NULL, NULL, NULL, NULL };
		}
		return SV_OK;
	}
	rc = records(s, vc, wn, r, out);
	if (rc == SV_OK && qtype == DNS_T_SRV) {
		/* "SRV for external services is not yet implemented": drop CNAME entries. */
		unsigned k = 0;

		for (unsigned i = 0; i < out->n; i++) {
			if (out->v[i].kind != SENT_CNAME)
				out->v[k++] = out->v[i];
		}
		out->n = k;
	}
	return rc;
}

static void sents_fini(struct sents *l)
{
	free(l->v);
}

/* ------------------------------------------------------------------------- */
/* Records per qtype (CoreDNS plugin/backend_lookup.go)                        */

struct qctx {
	const struct k8s_synth *s;
	struct k8s_vcache *vc;
	struct k8s_answer *a;
	int zone;
	uint16_t qtype;
	unsigned nchain;                 /* CNAMEs in the chain so far (previousRecords) */
	uint8_t chain[CHAIN_MAX][2][DNS_MAX_NAME];
	uint16_t chain_len[CHAIN_MAX][2];
};

static bool rr_addr_eq(const void *ctx, uint32_t x, uint32_t y)
{
	const struct k8s_answer *a = ctx;

	return k8s_ip_eq(&a->rr[x].d.addr, &a->rr[y].d.addr);
}

/* Address records of @p l matching the qtype, deduplicated by address (plugin.A's dup). */
static void add_addrs(struct qctx *q, const struct sents *l, uint32_t owner, int fam)
{
	struct idxset set;
	bool use_set = l->n > 8 && idxset_init(&set, l->n) == 0;
	unsigned start = q->a->n;

	for (unsigned i = 0; i < l->n; i++) {
		const struct sent *e = &l->v[i];
		struct k8s_rr *rr;
		bool dup = false;

		if (e->kind != SENT_ADDR || e->ip.fam != fam)
			continue;
		rr = ans_rr(q->a, DNS_SEC_ANSWER, fam == 4 ? DNS_T_A : DNS_T_AAAA, q->s->cfg->ttl,
			    owner);
		if (rr == NULL)
			break;
		rr->d.addr = e->ip;
		if (use_set)
			dup = !idxset_add(&set, k8s_ip_hash(&e->ip), q->a->n - 1, rr_addr_eq, q->a);
		else
			for (unsigned j = start; j + 1 < q->a->n && !dup; j++)
				dup = k8s_ip_eq(&q->a->rr[j].d.addr, &e->ip);
		if (dup)
			q->a->n--;
	}
	if (use_set)
		idxset_fini(&set);
}

static int do_addr(struct qctx *q, const uint8_t *name, size_t len, uint32_t owner,
		   bool *nameerr);

static bool chain_dup(const struct qctx *q, const uint8_t *o, size_t ol, const uint8_t *t,
		      size_t tl)
{
	for (unsigned i = 0; i < q->nchain; i++) {
		if (q->chain_len[i][0] == ol && q->chain_len[i][1] == tl &&
		    memcmp(q->chain[i][0], o, ol) == 0 && memcmp(q->chain[i][1], t, tl) == 0)
			return true;
	}
	return false;
}

/* A CNAME entry of an A/AAAA lookup: follow an in-zone target, else leave it to the chain. */
static int add_cname(struct qctx *q, const uint8_t *name, size_t len, uint32_t owner,
		     const char *target)
{
	const struct k8s_zone *z = &q->s->cfg->zones[q->zone];
	uint8_t tw[DNS_MAX_NAME];
	int tl = dns_name_from_str(tw, sizeof(tw), target);
	unsigned mark = q->a->n;
	struct k8s_rr *rr;
	bool err = false;
	int rc;

	if (tl < 0 || ((size_t)tl == len && memcmp(tw, name, len) == 0))
		return 0; /* x CNAME x: a direct loop */
	if (q->nchain >= CHAIN_MAX || chain_dup(q, name, len, tw, (size_t)tl))
		return 0;
	rr = ans_rr(q->a, DNS_SEC_ANSWER, DNS_T_CNAME, q->s->cfg->ttl, owner);
	if (rr == NULL)
		return -ENOMEM;
	rr->d.name = ans_str(q->a, target);
	if (!k8s_name_under(tw, (size_t)tl, z->wire, z->wire_len)) {
		/* Out of zone: CoreDNS asks its upstream (the server's own chain). */
		if (!q->a->upstream) {
			q->a->upstream = true;
			snprintf(q->a->upstream_name, sizeof(q->a->upstream_name), "%s", target);
			q->a->upstream_type = q->qtype;
		}
		return 0;
	}
	memcpy(q->chain[q->nchain][0], name, len);
	memcpy(q->chain[q->nchain][1], tw, (size_t)tl);
	q->chain_len[q->nchain][0] = (uint16_t)len;
	q->chain_len[q->nchain][1] = (uint16_t)tl;
	q->nchain++;
	rc = do_addr(q, tw, (size_t)tl, ans_str(q->a, target), &err);
	q->nchain--;
	/* "Not only have we found something we should add the CNAME and the IP addresses":
	 * a target without records leaves no CNAME either. */
	if (rc == 0 && (err || q->a->n == mark + 1))
		q->a->n = mark;
	return rc;
}

/* CoreDNS plugin.A / plugin.AAAA (checkForApex is implied: the apex parses as empty). */
static int do_addr(struct qctx *q, const uint8_t *name, size_t len, uint32_t owner,
		   bool *nameerr)
{
	const struct k8s_zone *z = &q->s->cfg->zones[q->zone];
	struct sents l = { 0, 0, NULL, 0 };
	struct wname wn;
	struct req r;
	int rc;

	if (wname_split(&wn, name, len) != 0 || wn.n < z->n_labels) {
		*nameerr = true;
		return 0;
	}
	parse_req(&wn, wn.n - z->n_labels, q->zone, &r);
	rc = services(q->s, q->vc, &wn, &r, q->qtype, &l);
	if (rc == SV_NOITEMS)
		*nameerr = true;
	if (rc != SV_OK) {
		sents_fini(&l);
		return rc < 0 ? rc : 0;
	}
	for (unsigned i = 0; i < l.n && rc == 0; i++) {
		if (l.v[i].kind == SENT_CNAME)
			rc = add_cname(q, name, len, owner, l.v[i].ext);
	}
	add_addrs(q, &l, owner, q->qtype == DNS_T_A ? 4 : 6);
	sents_fini(&l);
	return rc != 0 ? rc : q->a->err;
}

struct srv_key {
	const struct k8s_answer *a;
	bool addr; /* compare (target, address) instead of (target, port) */
};

static bool srv_eq(const void *ctx, uint32_t x, uint32_t y)
{
	const struct srv_key *k = ctx;
	const struct k8s_rr *rx = &k->a->rr[x], *ry = &k->a->rr[y];

	if (k->addr)
		return rx->owner == ry->owner && k8s_ip_eq(&rx->d.addr, &ry->d.addr);
	return rx->d.srv.port == ry->d.srv.port && rx->d.srv.target == ry->d.srv.target;
}

/* Target names are interned in the pool so equal names have equal offsets. */
static uint32_t intern(struct k8s_answer *a, struct idxset *names, const char *s)
{
	uint64_t h = k8s_hash_str(s);
	size_t i = h & names->mask;

	for (;; i = (i + 1) & names->mask) {
		if (names->slot[i] == 0) {
			uint32_t off = ans_str(a, s);

			names->slot[i] = off + 1;
			return off;
		}
		if (strcmp(a->str + names->slot[i] - 1, s) == 0)
			return names->slot[i] - 1;
	}
}

/* One pass of plugin.SRV: the SRV records, or (@p extra) the target addresses. */
static void srv_pass(struct qctx *q, const struct sents *l, uint16_t weight, bool extra,
		     struct idxset *names)
{
	struct srv_key key = { q->a, extra };
	struct idxset dup;
	char target[DNS_MAX_NAME * 4 + 2];

	if (idxset_init(&dup, l->n) != 0) {
		q->a->err = -ENOMEM;
		return;
	}
	for (unsigned i = 0; i < l->n && q->a->err == 0; i++) {
		const struct sent *e = &l->v[i];
		uint32_t toff;
		struct k8s_rr *rr;
		uint64_t h;

		if (e->port == -1 || e->kind != SENT_ADDR)
			continue;
		sent_name(q->s, q->zone, e, target, sizeof(target));
		toff = intern(q->a, names, target);
		if (extra) {
			rr = ans_rr(q->a, DNS_SEC_ADDITIONAL, e->ip.fam == 4 ? DNS_T_A : DNS_T_AAAA,
				    q->s->cfg->ttl, toff);
			if (rr != NULL) {
				rr->d.addr = e->ip;
				rr->zq = DNS_ZP_OWNER;
			}
			h = toff * 31u + k8s_ip_hash(&e->ip);
		} else {
			rr = ans_rr(q->a, DNS_SEC_ANSWER, DNS_T_SRV, q->s->cfg->ttl, K8S_OWNER_QNAME);
			if (rr != NULL) {
				rr->d.srv.weight = weight;
				rr->d.srv.port = (uint16_t)e->port;
				rr->d.srv.target = toff;
				rr->zq = DNS_ZP_RDATA;
			}
			h = toff * 31u + (uint64_t)e->port;
		}
		if (rr != NULL && !idxset_add(&dup, h, q->a->n - 1, srv_eq, &key))
			q->a->n--;
	}
	idxset_fini(&dup);
}

/* CoreDNS plugin.SRV: weight floor(100/N) with N counted before dedup. */
static int do_srv(struct qctx *q, const struct wname *wn, const struct req *r, bool *nameerr)
{
	struct sents l = { 0, 0, NULL, 0 };
	struct idxset names;
	uint16_t weight;
	double w;
	int rc = services(q->s, q->vc, wn, r, DNS_T_SRV, &l);

	if (rc == SV_NOITEMS)
		*nameerr = true;
	if (rc != SV_OK || l.n == 0) {
		sents_fini(&l);
		return rc < 0 ? rc : 0;
	}
	/* Same floating point steps as Go: 100/sum(100 per entry), times 100, floored. */
	w = 100.0 / (100.0 * (double)l.n);
	w *= 100.0;
	weight = (uint16_t)w;
	if (weight == 0)
		weight = 1;
	if (idxset_init(&names, l.n) != 0) {
		sents_fini(&l);
		return -ENOMEM;
	}
	srv_pass(q, &l, weight, false, &names);
	srv_pass(q, &l, weight, true, &names);
	idxset_fini(&names);
	sents_fini(&l);
	return q->a->err;
}

/* ExtractAddressFromReverse: the full-length reverse name of one address, or false. */
static bool reverse_ip(const struct wname *wn, struct k8s_ip *ip)
{
	bool v4 = wn->n == 6 && label_is(wn, 4, "in-addr");
	bool v6 = wn->n == 34 && label_is(wn, 32, "ip6");
	char txt[64];
	size_t o = 0;

	if (!v4 && !v6)
		return false;
	for (int i = (int)(v4 ? 3 : 31); i >= 0; i--) {
		const uint8_t *l = wn->w + wn->off[i];

		if (l[0] == 0 || l[0] > 3 || (v6 && l[0] != 1))
			return false;
		if (o + l[0] + 2 >= sizeof(txt))
			return false;
		memcpy(txt + o, l + 1, l[0]);
		o += l[0];
		if (i > 0 && (v4 || i % 4 == 0))
			txt[o++] = v4 ? '.' : ':';
	}
	txt[o] = '\0';
	return k8s_ip_parse(ip, txt) == 0 && ip->fam == (v4 ? 4 : 6);
}

static const struct k8s_zone *primary_zone(const struct k8s_config *c)
{
	return &c->zones[c->primary >= 0 ? c->primary : 0];
}

/* CoreDNS serviceRecordForIP: the first exposed service with this ClusterIP, else one
 * name per endpoint address (deduplicated, as plugin.PTR does). */
static void ptr_targets(struct qctx *q, const struct k8s_ip *ip)
{
	const struct k8s_ipent *e = k8s_store_ip(q->s->store, ip);
	const struct k8s_zone *z = primary_zone(q->s->cfg);
	char lb[4 * LBL_MAX], name[DNS_MAX_NAME * 4 + 2];

	if (e == NULL)
		return;
	for (unsigned i = 0; i < e->n; i++) {
		const struct k8s_group *g = e->refs[i].g;

		if (e->refs[i].ep != NULL || g->svc == NULL || !k8s_synth_ns_exposed(q->s, g->ns))
			continue;
		snprintf(lb, sizeof(lb), "%s.%s.svc", g->name, g->ns);
		compose(name, sizeof(name), lb, z);
		ans_rr(q->a, DNS_SEC_ANSWER, DNS_T_PTR, q->s->cfg->ttl, K8S_OWNER_QNAME);
		if (q->a->err == 0)
			q->a->rr[q->a->n - 1].d.name = ans_str(q->a, name);
		return;
	}
	for (unsigned i = 0; i < e->n && q->a->err == 0; i++) {
		const struct k8s_group *g = e->refs[i].g;
		char host[LBL_MAX];
		bool dup = false;

		if (e->refs[i].ep == NULL || !k8s_synth_ns_exposed(q->s, g->ns))
			continue;
		k8s_endpoint_hostname(e->refs[i].ep, q->s->cfg->endpoint_pod_names, host,
				      sizeof(host));
		snprintf(lb, sizeof(lb), "%s.%s.%s.svc", host, g->name, g->ns);
		compose(name, sizeof(name), lb, z);
		for (unsigned j = 0; j < q->a->n && !dup; j++)
			dup = strcmp(q->a->str + q->a->rr[j].d.name, name) == 0;
		if (dup)
			continue;
		ans_rr(q->a, DNS_SEC_ANSWER, DNS_T_PTR, q->s->cfg->ttl, K8S_OWNER_QNAME);
		if (q->a->err == 0)
			q->a->rr[q->a->n - 1].d.name = ans_str(q->a, name);
	}
}

static int do_ptr(struct qctx *q, const struct wname *wn, const struct req *r, bool *nameerr)
{
	struct sents l = { 0, 0, NULL, 0 };
	struct k8s_ip ip;
	int rc;

	if (reverse_ip(wn, &ip)) {
		ptr_targets(q, &ip);
		if (q->a->n == 0)
			*nameerr = true;
		return q->a->err;
	}
	rc = records(q->s, q->vc, wn, r, &l);
	sents_fini(&l);
	if (rc == SV_NOITEMS)
		*nameerr = true;
	return rc < 0 ? rc : 0;
}

static int do_txt(struct qctx *q, const struct wname *wn, const struct req *r, bool *nameerr)
{
	struct sents l = { 0, 0, NULL, 0 };
	struct k8s_rr *rr;
	int rc;

	if (r->nbase == 1 && label_is(wn, 0, "dns-version")) {
		rr = ans_rr(q->a, DNS_SEC_ANSWER, DNS_T_TXT, K8S_DNS_VERSION_TTL, K8S_OWNER_QNAME);
		if (rr != NULL)
			rr->d.name = ans_str(q->a, K8S_DNS_VERSION);
		return q->a->err;
	}
	/* Any record of another type: NODATA; none at all (even for the apex or a bare
	 * namespace): NXDOMAIN, as CoreDNS's Services() does for TXT. */
	rc = records(q->s, q->vc, wn, r, &l);
	if (rc == SV_NOITEMS || (rc == SV_OK && l.n == 0))
		*nameerr = true;
	sents_fini(&l);
	return rc < 0 ? rc : 0;
}

static int do_cname(struct qctx *q, const struct wname *wn, const struct req *r,
		    bool *nameerr)
{
	struct sents l = { 0, 0, NULL, 0 };
	int rc = services(q->s, q->vc, wn, r, DNS_T_CNAME, &l);

	if (rc == SV_NOITEMS)
		*nameerr = true;
	if (rc == SV_OK && l.n > 0 && l.v[0].kind == SENT_CNAME) {
		struct k8s_rr *rr = ans_rr(q->a, DNS_SEC_ANSWER, DNS_T_CNAME, q->s->cfg->ttl,
					   K8S_OWNER_QNAME);

		if (rr != NULL)
			rr->d.name = ans_str(q->a, l.v[0].ext);
	}
	sents_fini(&l);
	return rc < 0 ? rc : q->a->err;
}

/* Apex NS: ns.dns.<zone>, with the server's addresses as glue. */
static int do_ns(struct qctx *q)
{
	char name[DNS_MAX_NAME * 4 + 2];
	struct k8s_rr *rr;
	uint32_t off;

	compose(name, sizeof(name), "ns.dns", &q->s->cfg->zones[q->zone]);
	rr = ans_rr(q->a, DNS_SEC_ANSWER, DNS_T_NS, q->s->cfg->ttl, K8S_OWNER_QNAME);
	if (rr == NULL)
		return -ENOMEM;
	off = ans_str(q->a, name);
	rr->d.name = off;
	rr->zq = DNS_ZP_RDATA;
	for (unsigned i = 0; i < q->s->n_nsaddr; i++) {
		const struct k8s_ip *ip = &q->s->nsaddr[i];

		rr = ans_rr(q->a, DNS_SEC_ADDITIONAL, ip->fam == 4 ? DNS_T_A : DNS_T_AAAA,
			    q->s->cfg->ttl, off);
		if (rr != NULL) {
			rr->d.addr = *ip;
			rr->zq = DNS_ZP_OWNER;
		}
	}
	return q->a->err;
}

/* Apex SOA: one record; the builder fills the rdata from the zone. */
static int do_soa(struct qctx *q)
{
	uint32_t ttl = q->s->cfg->ttl < 300 ? q->s->cfg->ttl : 300;
	struct k8s_rr *rr = ans_rr(q->a, DNS_SEC_ANSWER, DNS_T_SOA, ttl, K8S_OWNER_QNAME);

	if (rr == NULL)
		return -ENOMEM;
	rr->zq = DNS_ZP_RDATA;
	return 0;
}

static int dispatch(struct qctx *q, const struct wname *wn, const struct req *r, bool *nameerr)
{
	bool apex = r->nbase == 0;

	switch (q->qtype) {
	case DNS_T_A:
	case DNS_T_AAAA:
		return do_addr(q, wn->w, wn->len, K8S_OWNER_QNAME, nameerr);
	case DNS_T_SRV:
		return do_srv(q, wn, r, nameerr);
	case DNS_T_TXT:
		return do_txt(q, wn, r, nameerr);
	case DNS_T_CNAME:
		return do_cname(q, wn, r, nameerr);
	case DNS_T_PTR:
		return do_ptr(q, wn, r, nameerr);
	case DNS_T_SOA:
		if (apex)
			return do_soa(q);
		break;
	case DNS_T_NS:
		if (apex)
			return do_ns(q);
		break;
	default:
		break;
	}
	/* Every other type: a fake A lookup tells NODATA from NXDOMAIN. */
	q->qtype = DNS_T_A;
	{
		unsigned n = q->a->n;
		int rc = do_addr(q, wn->w, wn->len, K8S_OWNER_QNAME, nameerr);

		q->a->n = n;
		q->a->upstream = false;
		return rc;
	}
}

int k8s_synth_answer(const struct k8s_synth *s, const uint8_t *qname, size_t qlen,
		     uint16_t qtype, struct k8s_vcache *vc, struct k8s_answer *a)
{
	struct k8s_vcache local;
	struct qctx *q;
	struct wname wn;
	struct req r;
	bool nameerr = false;
	int zone, rc;

	k8s_answer_reset(a);
	zone = wname_split(&wn, qname, qlen) == 0 ? k8s_config_zone_of(s->cfg, qname, qlen) : -1;
	if (zone < 0) {
		a->rc = K8S_RC_NOTOURS;
		return 0;
	}
	a->zone = zone;
	if (qtype == DNS_T_AXFR || qtype == DNS_T_IXFR) {
		a->rc = K8S_RC_REFUSED;
		return 0;
	}
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return -ENOMEM;
	if (vc == NULL) {
		k8s_vcache_init(&local);
		vc = &local;
	}
	*q = (struct qctx){ .s = s, .vc = vc, .a = a, .zone = zone, .qtype = qtype };
	parse_req(&wn, wn.n - s->cfg->zones[zone].n_labels, zone, &r);
	rc = dispatch(q, &wn, &r, &nameerr);
	if (vc == &local)
		k8s_vcache_clear(&local);
	free(q);
	if (rc != 0)
		return rc;
	if (nameerr) {
		a->n = 0;
		a->upstream = false;
		a->rc = k8s_config_falls(s->cfg, qname, qlen) ? K8S_RC_FALLTHROUGH :
			!s->synced ? K8S_RC_SERVFAIL : K8S_RC_NXDOMAIN;
	} else {
		unsigned an = 0;

		for (unsigned i = 0; i < a->n; i++)
			an += a->rr[i].sec == DNS_SEC_ANSWER;
		if (an == 0) {
			a->n = 0;
			a->upstream = false;
		}
		a->rc = an != 0 ? K8S_RC_ANSWER : K8S_RC_NODATA;
	}
	return 0;
}

int k8s_synth_dep_key(const struct k8s_config *cfg, const char *target, char *key, size_t cap)
{
	uint8_t w[DNS_MAX_NAME];
	int l = dns_name_from_str(w, sizeof(w), target);
	struct wname wn;
	int zone;
	unsigned nb;

	if (l < 0 || wname_split(&wn, w, (size_t)l) != 0)
		return -ENOENT;
	for (zone = 0; zone < (int)cfg->n_zones; zone++) {
		const struct k8s_zone *z = &cfg->zones[zone];
		char ns[LBL_MAX], svc[LBL_MAX];

		if (z->reverse || !k8s_name_under(w, (size_t)l, z->wire, z->wire_len))
			continue;
		nb = wn.n - z->n_labels;
		if (nb < 3 || nb > 5 || !label_is(&wn, nb - 1, "svc") ||
		    !label_copy(&wn, nb - 2, ns) || !label_copy(&wn, nb - 3, svc))
			continue;
		snprintf(key, cap, "%s/%s", ns, svc);
		return 0;
	}
	return -ENOENT;
}

/* ------------------------------------------------------------------------- */
/* Into a dns_builder (the engine's answer path)                               */

static uint16_t rc_flags(enum k8s_rc rc)
{
	switch (rc) {
	case K8S_RC_NXDOMAIN:
		return DNS_F_AA | DNS_RCODE_NXDOMAIN;
	case K8S_RC_SERVFAIL:
		return DNS_F_AA | DNS_RCODE_SERVFAIL;
	case K8S_RC_REFUSED:
		return DNS_RCODE_REFUSED; /* the server's error reply: not authoritative */
	default:
		return DNS_F_AA;
	}
}

static int build_rr(const struct k8s_synth *s, const struct k8s_answer *a, const struct k8s_rr *rr,
		    struct dns_builder *b)
{
	const char *owner = rr->owner == K8S_OWNER_QNAME ? DNS_OWNER_QNAME :
			    k8s_answer_str(a, rr->owner);
	enum dns_section sec = (enum dns_section)rr->sec;
	const struct k8s_zone *z = &s->cfg->zones[a->zone];

	/* Names made under the question's zone spell it as the query did (CoreDNS). */
	dns_builder_zone_ptr(b, rr->zq, z->wire, z->wire_len);
	switch (rr->type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		return dns_builder_add_addr(b, sec, owner, rr->ttl, rr->d.addr.a,
					    rr->type == DNS_T_A ? AF_INET : AF_INET6);
	case DNS_T_CNAME:
	case DNS_T_PTR:
	case DNS_T_NS:
		return dns_builder_add_name(b, sec, owner, rr->type, rr->ttl,
					    k8s_answer_str(a, rr->d.name));
	case DNS_T_TXT:
		return dns_builder_add_txt(b, sec, owner, rr->ttl, k8s_answer_str(a, rr->d.name));
	case DNS_T_SRV:
		return dns_builder_add_srv(b, sec, owner, rr->ttl, rr->d.srv.prio, rr->d.srv.weight,
					   rr->d.srv.port, k8s_answer_str(a, rr->d.srv.target));
	case DNS_T_SOA:
		return k8s_build_soa(s, a->zone, sec, owner, b);
	default:
		return -EINVAL;
	}
}

int k8s_build_soa(const struct k8s_synth *s, int zone, enum dns_section sec, const char *owner,
		  struct dns_builder *b)
{
	const struct k8s_zone *z = &s->cfg->zones[zone];
	char mname[DNS_MAX_NAME * 4 + 16], rname[DNS_MAX_NAME * 4 + 16];
	uint32_t ttl = s->cfg->ttl < 300 ? s->cfg->ttl : 300;

	compose(mname, sizeof(mname), "ns.dns", z);
	compose(rname, sizeof(rname), "hostmaster", z);
	return dns_builder_add_soa(b, sec, owner != NULL ? owner : DNS_OWNER_QNAME, ttl, mname,
				   rname, s->serial, 7200, 1800, 86400, s->cfg->ttl);
}

int k8s_build(const struct k8s_synth *s, const struct k8s_answer *a, struct dns_builder *b,
	      bool partial)
{
	if (a->rc == K8S_RC_FALLTHROUGH || a->rc == K8S_RC_NOTOURS)
		return -EINVAL;
	b->flags = rc_flags(a->rc);
	for (int sec = DNS_SEC_ANSWER; sec <= DNS_SEC_ADDITIONAL && a->rc == K8S_RC_ANSWER; sec++) {
		for (unsigned i = 0; i < a->n; i++) {
			if (a->rr[i].sec != sec)
				continue;
			if (build_rr(s, a, &a->rr[i], b) == 0)
				continue;
			/* A record that does not fit is not committed by the builder: with
			 * @p partial the answer keeps what fits and says it is truncated
			 * (TC=1: a UDP client retries over TCP), never passes for whole. */
			if (!partial || b->err != -ENOSPC)
				return b->err != 0 ? b->err : -EINVAL;
			b->err = 0;
			b->flags |= DNS_F_TC;
			return 0;
		}
	}
	dns_builder_zone_ptr(b, 0, NULL, 0);
	/* The negative answer's SOA stays in lower case: the fast path gives the same
	 * value to every name of the zone, whatever the length of the question. */
	if (a->rc == K8S_RC_NODATA || a->rc == K8S_RC_NXDOMAIN || a->rc == K8S_RC_SERVFAIL)
		return k8s_build_soa(s, a->zone, DNS_SEC_AUTHORITY, s->cfg->zones[a->zone].name, b);
	return 0;
}
