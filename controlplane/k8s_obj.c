/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - Kubernetes API JSON -> k8s_obj, label selectors.
 *
 * An object is converted into a draft whose strings still point into the JSON tree and
 * whose arrays are temporary, then packed into one allocation: at a million endpoints a
 * malloc per string would cost more than the data.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "k8s_obj.h"

const char *k8s_res_name(enum k8s_res res)
{
	static const char *const names[K8S_RES_N] = {
		[K8S_RES_NS] = "namespaces", [K8S_RES_SVC] = "services",
		[K8S_RES_SLICE] = "endpointslices", [K8S_RES_POD] = "pods",
	};

	return (unsigned)res < K8S_RES_N ? names[res] : "?";
}

/* ------------------------------------------------------------------------- */
/* Addresses                                                                   */

int k8s_ip_parse(struct k8s_ip *ip, const char *s)
{
	memset(ip, 0, sizeof(*ip));
	if (s == NULL)
		return -EINVAL;
	if (inet_pton(AF_INET, s, ip->a) == 1) {
		ip->fam = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, ip->a) == 1) {
		ip->fam = 6;
		return 0;
	}
	return -EINVAL;
}

bool k8s_ip_eq(const struct k8s_ip *a, const struct k8s_ip *b)
{
	return a->fam == b->fam && memcmp(a->a, b->a, a->fam == 4 ? 4 : 16) == 0;
}

uint64_t k8s_ip_hash(const struct k8s_ip *ip)
{
	return k8s_hash_bytes(ip->a, ip->fam == 4 ? 4 : 16, ip->fam);
}

const char *k8s_ip_str(const struct k8s_ip *ip, char *buf, size_t cap)
{
	if (inet_ntop(ip->fam == 4 ? AF_INET : AF_INET6, ip->a, buf, (socklen_t)cap) == NULL)
		snprintf(buf, cap, "?");
	return buf;
}

/* ------------------------------------------------------------------------- */
/* Packing                                                                     */

struct pack {
	char *base;
	size_t used, cap; /* cap 0: measuring only */
};

static void *pack_mem(struct pack *p, const void *src, size_t len, size_t align)
{
	void *dst;

	p->used = (p->used + align - 1) & ~(align - 1);
	dst = p->base != NULL ? p->base + p->used : NULL;
	if (dst != NULL && src != NULL && len != 0)
		memcpy(dst, src, len);
	p->used += len;
	return dst;
}

static const char *pack_str(struct pack *p, const char *s)
{
	if (s == NULL)
		return NULL;
	return pack_mem(p, s, strlen(s) + 1, 1);
}

static const char *const protos[] = { "tcp", "udp", "sctp", "" };

/* Protocol names are interned: lower case, and no bytes spent per port. */
static const char *proto_intern(const char *s)
{
	if (s == NULL)
		return protos[0]; /* the API defaults to TCP */
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]) - 1; i++) {
		if (strcasecmp(s, protos[i]) == 0)
			return protos[i];
	}
	return NULL;
}

static bool is_interned(const char *s)
{
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		if (s == protos[i])
			return true;
	}
	return false;
}

static void pack_ports(struct pack *p, struct k8s_port **ports, unsigned n)
{
	struct k8s_port *dst = pack_mem(p, *ports, n * sizeof(**ports), 8);

	for (unsigned i = 0; i < n; i++) {
		const char *name = pack_str(p, (*ports)[i].name);
		const char *proto = (*ports)[i].proto;

		if (!is_interned(proto))
			proto = pack_str(p, proto);
		if (dst != NULL) {
			dst[i].name = name;
			dst[i].proto = proto;
		}
	}
	if (dst != NULL)
		*ports = dst;
}

/* Copy draft @p d into @p p (measure when p->base is NULL). Pointers of @p out are set. */
static void pack_obj(struct pack *p, const struct k8s_obj *d, struct k8s_obj *out)
{
	struct k8s_obj tmp = *d;

	pack_mem(p, NULL, sizeof(*d), 8);
	tmp.ns = pack_str(p, d->ns);
	tmp.name = pack_str(p, d->name);
	tmp.rv = pack_str(p, d->rv);
	tmp.key = pack_str(p, d->key);
	switch (d->tombstone ? K8S_RES_N : d->res) {
	case K8S_RES_SVC:
		tmp.u.svc.ips = pack_mem(p, d->u.svc.ips, d->u.svc.n_ips * sizeof(struct k8s_ip), 4);
		tmp.u.svc.external = pack_str(p, d->u.svc.external);
		pack_ports(p, &tmp.u.svc.ports, d->u.svc.n_ports);
		break;
	case K8S_RES_SLICE:
		tmp.u.slice.service = pack_str(p, d->u.slice.service);
		pack_ports(p, &tmp.u.slice.ports, d->u.slice.n_ports);
		tmp.u.slice.eps = pack_mem(p, d->u.slice.eps,
					   d->u.slice.n_eps * sizeof(struct k8s_ep), 8);
		for (unsigned i = 0; i < d->u.slice.n_eps; i++) {
			const char *h = pack_str(p, d->u.slice.eps[i].hostname);
			const char *t = pack_str(p, d->u.slice.eps[i].target);

			if (p->base != NULL) {
				tmp.u.slice.eps[i].hostname = h;
				tmp.u.slice.eps[i].target = t;
			}
		}
		break;
	case K8S_RES_POD:
		tmp.u.pod.ipstr = pack_str(p, d->u.pod.ipstr);
		break;
	default:
		break;
	}
	if (out != NULL)
		*out = tmp;
}

static struct k8s_obj *obj_pack(const struct k8s_obj *draft)
{
	struct pack p = { NULL, 0, 0 };
	struct k8s_obj *o;

	pack_obj(&p, draft, NULL);
	p.base = malloc(p.used);
	if (p.base == NULL)
		return NULL;
	p.cap = p.used;
	p.used = 0;
	o = (struct k8s_obj *)(void *)p.base;
	pack_obj(&p, draft, o);
	memset(&o->node, 0, sizeof(o->node));
	o->gnext = NULL;
	o->group = NULL;
	o->gen = 0;
	return o;
}

void k8s_obj_free(struct k8s_obj *o)
{
	free(o);
}

/* ------------------------------------------------------------------------- */
/* Times                                                                       */

/* @p n decimal digits at *@p p (advanced). @return the value, or -1 */
static int digits(const char **p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (**p - '0');
	}
	return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (no time zone involved). */
static int64_t days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* @p sep then @p n digits at *@p p (advanced). @return the value, or -1 */
static int field(const char **p, char sep, int n)
{
	if (**p != sep)
		return -1;
	(*p)++;
	return digits(p, n);
}

/* "[+-]hh:mm" or "Z" ending the text. @return the zone's offset east in seconds, or -1 */
static int zone_offset(const char *p, int *off)
{
	int zh, zm;
	char sign = *p;

	if ((sign == 'Z' || sign == 'z') && p[1] == '\0') {
		*off = 0;
		return 0;
	}
	if ((sign != '+' && sign != '-') || strlen(p) != 6)
		return -EINVAL;
	p++;
	zh = digits(&p, 2);
	zm = field(&p, ':', 2);
	if (zh < 0 || zh > 23 || zm < 0 || zm > 59)
		return -EINVAL;
	*off = (sign == '+' ? 1 : -1) * (zh * 3600 + zm * 60);
	return 0;
}

int k8s_parse_time(const char *s, int64_t *unix_ns)
{
	const char *p = s;
	int y, mo, d, hh, mm, ss, off;
	int64_t frac = 0, scale = 100000000, secs;

	if (s == NULL)
		return -EINVAL;
	y = digits(&p, 4);
	mo = field(&p, '-', 2);
	d = field(&p, '-', 2);
	hh = *p == 't' ? field(&p, 't', 2) : field(&p, 'T', 2);
	mm = field(&p, ':', 2);
	ss = field(&p, ':', 2);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || hh < 0 || hh > 23 || mm < 0 ||
	    mm > 59 || ss < 0 || ss > 60)
		return -EINVAL;
	if (*p == '.') {
		/* Digits past nanoseconds are dropped (Go's RFC3339Nano has 9 at most). */
		for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
			frac += (*p - '0') * scale;
	}
	if (zone_offset(p, &off) != 0)
		return -EINVAL;
	secs = days_from_civil(y, mo, d) * 86400 + hh * 3600 + mm * 60 + ss - off;
	/* Nanoseconds since 1970 fit int64 until 2262: later years (the API's text is
	 * untrusted) would overflow. */
	if (secs > (INT64_MAX - 999999999) / 1000000000)
		return -EINVAL;
	*unix_ns = secs * 1000000000 + frac;
	return 0;
}

/* ------------------------------------------------------------------------- */
/* JSON helpers                                                                */

static const char *jstr(const json_t *o, const char *key)
{
	const json_t *v = o != NULL ? json_object_get(o, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static const json_t *jobj(const json_t *o, const char *key)
{
	const json_t *v = o != NULL ? json_object_get(o, key) : NULL;

	return json_is_object(v) ? v : NULL;
}

static const json_t *jarr(const json_t *o, const char *key)
{
	const json_t *v = o != NULL ? json_object_get(o, key) : NULL;

	return json_is_array(v) ? v : NULL;
}

/* Draft identity: namespace, name, RV and the "ns/name" key (written to @p keybuf). */
static int draft_meta(struct k8s_obj *d, enum k8s_res res, const json_t *obj, char *keybuf,
		      size_t cap)
{
	const json_t *meta = jobj(obj, "metadata");

	memset(d, 0, sizeof(*d));
	d->res = res;
	d->name = jstr(meta, "name");
	d->ns = res == K8S_RES_NS ? "" : jstr(meta, "namespace");
	d->rv = jstr(meta, "resourceVersion");
	if (d->name == NULL || d->name[0] == '\0' || d->ns == NULL)
		return -EINVAL;
	if (res == K8S_RES_NS)
		snprintf(keybuf, cap, "%s", d->name);
	else
		snprintf(keybuf, cap, "%s/%s", d->ns, d->name);
	d->key = keybuf;
	return 0;
}

/* Ports of a service or slice; @p sentinel adds CoreDNS's {"", "", -1} when empty. */
static struct k8s_port *conv_ports(const json_t *arr, unsigned *n, bool sentinel)
{
	size_t cnt = json_array_size(arr), k = 0;
	struct k8s_port *ports = calloc(cnt + 1, sizeof(*ports));

	if (ports == NULL)
		return NULL;
	for (size_t i = 0; i < cnt; i++) {
		const json_t *pj = json_array_get(arr, i);
		const json_t *num = json_object_get(pj, "port");
		const char *proto = proto_intern(jstr(pj, "protocol"));
		const char *name = jstr(pj, "name");

		if (!json_is_object(pj))
			continue;
		ports[k].name = name != NULL ? name : "";
		/* An unknown protocol keeps its (lower-cased later) text. */
		ports[k].proto = proto != NULL ? proto : jstr(pj, "protocol");
		ports[k].port = json_is_integer(num) ? (int32_t)json_integer_value(num) : -1;
		k++;
	}
	if (k == 0 && sentinel) {
		ports[0] = (struct k8s_port){ "", "", -1 };
		k = 1;
	}
	*n = (unsigned)k;
	return ports;
}

static void lower_str(char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

static void lower_ports(struct k8s_port *ports, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (!is_interned(ports[i].proto))
			lower_str((char *)(uintptr_t)ports[i].proto);
	}
}

/* ------------------------------------------------------------------------- */
/* Per-resource conversion                                                     */

static int conv_svc(struct k8s_obj *d, const json_t *obj, struct k8s_ip **ips,
		    struct k8s_port **ports)
{
	const json_t *spec = jobj(obj, "spec");
	const char *type = jstr(spec, "type");
	const char *cip = jstr(spec, "clusterIP");
	const json_t *cips = jarr(spec, "clusterIPs");
	size_t n = cips != NULL ? json_array_size(cips) : 0;
	struct k8s_ip probe;

	*ips = calloc(n + 1, sizeof(**ips));
	if (*ips == NULL)
		return -ENOMEM;
	if (type != NULL && strcmp(type, "ExternalName") == 0) {
		d->u.svc.type = K8S_SVC_EXTERNAL;
		d->u.svc.external = jstr(spec, "externalName");
		if (d->u.svc.external == NULL)
			d->u.svc.external = "";
		d->u.svc.external_is_ip = k8s_ip_parse(&probe, d->u.svc.external) == 0;
	} else if (cip != NULL && strcmp(cip, "None") == 0) {
		d->u.svc.type = K8S_SVC_HEADLESS;
	} else {
		d->u.svc.type = K8S_SVC_CLUSTERIP;
		/* clusterIPs[0] == clusterIP; older objects only have clusterIP. */
		for (size_t i = 0; i < n; i++) {
			if (k8s_ip_parse(&(*ips)[d->u.svc.n_ips],
					 json_string_value(json_array_get(cips, i))) == 0)
				d->u.svc.n_ips++;
		}
		if (n == 0 && k8s_ip_parse(&(*ips)[0], cip) == 0)
			d->u.svc.n_ips = 1;
	}
	d->u.svc.ips = *ips;
	*ports = conv_ports(jarr(spec, "ports"), &d->u.svc.n_ports, false);
	if (*ports == NULL)
		return -ENOMEM;
	d->u.svc.ports = *ports;
	return 0;
}

static void conv_ep_addr(struct k8s_ep *ep, const json_t *ej, const char *addr,
			 const struct k8s_conv_opts *opts)
{
	const json_t *cond = jobj(ej, "conditions");
	const json_t *ready = cond != NULL ? json_object_get(cond, "ready") : NULL;
	const char *target = jstr(jobj(ej, "targetRef"), "name");

	k8s_ip_parse(&ep->ip, addr);
	/* EndpointSlice semantics: an absent (nil) ready condition means ready. */
	ep->ready = !json_is_false(ready);
	ep->hostname = jstr(ej, "hostname");
	if (ep->hostname != NULL && ep->hostname[0] == '\0')
		ep->hostname = NULL;
	/* CoreDNS ignores pod names that cannot be a DNS label. */
	ep->target = opts->endpoint_pod_names && target != NULL && target[0] != '\0' &&
		     strlen(target) < 64 ? target : NULL;
}

static int conv_slice(struct k8s_obj *d, const json_t *obj, struct k8s_ep **eps,
		      struct k8s_port **ports, const struct k8s_conv_opts *opts)
{
	const json_t *arr = jarr(obj, "endpoints");
	const char *atype = jstr(obj, "addressType");
	size_t n = 0, k = 0;

	d->u.slice.service = jstr(jobj(jobj(obj, "metadata"), "labels"),
				  "kubernetes.io/service-name");
	if (d->u.slice.service == NULL || d->u.slice.service[0] == '\0' ||
	    (atype != NULL && strcmp(atype, "FQDN") == 0)) {
		d->tombstone = true;
		return 0;
	}
	for (size_t i = 0; i < json_array_size(arr); i++)
		n += json_array_size(jarr(json_array_get(arr, i), "addresses"));
	*eps = calloc(n + 1, sizeof(**eps));
	if (*eps == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const json_t *ej = json_array_get(arr, i);
		const json_t *addrs = jarr(ej, "addresses");

		for (size_t j = 0; j < json_array_size(addrs); j++) {
			const char *a = json_string_value(json_array_get(addrs, j));
			struct k8s_ip probe;

			if (k8s_ip_parse(&probe, a) != 0)
				continue;
			conv_ep_addr(&(*eps)[k++], ej, a, opts);
		}
	}
	d->u.slice.eps = *eps;
	d->u.slice.n_eps = (unsigned)k;
	*ports = conv_ports(jarr(obj, "ports"), &d->u.slice.n_ports, true);
	if (*ports == NULL)
		return -ENOMEM;
	d->u.slice.ports = *ports;
	if (k8s_parse_time(jstr(jobj(jobj(obj, "metadata"), "annotations"),
				"endpoints.kubernetes.io/last-change-trigger-time"),
			   &d->u.slice.trigger_ns) != 0)
		d->u.slice.trigger_ns = 0;
	return 0;
}

static void conv_pod(struct k8s_obj *d, const json_t *obj)
{
	const json_t *meta = jobj(obj, "metadata");
	const json_t *del = json_object_get(meta, "deletionTimestamp");
	const json_t *status = jobj(obj, "status");
	const char *phase = jstr(status, "phase");

	d->u.pod.ipstr = jstr(status, "podIP");
	/* Terminating, finished or address-less pods have no record (CoreDNS skips them). */
	if ((del != NULL && !json_is_null(del)) || d->u.pod.ipstr == NULL ||
	    k8s_ip_parse(&d->u.pod.ip, d->u.pod.ipstr) != 0 ||
	    (phase != NULL && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0)))
		d->tombstone = true;
}

static bool selected(enum k8s_res res, const json_t *obj, const struct k8s_conv_opts *opts)
{
	const json_t *labels = jobj(jobj(obj, "metadata"), "labels");

	if (res == K8S_RES_NS)
		return opts->ns_labels == NULL || k8s_selector_match(opts->ns_labels, labels);
	if (res == K8S_RES_SVC || res == K8S_RES_SLICE)
		return opts->labels == NULL || k8s_selector_match(opts->labels, labels);
	return true;
}

struct k8s_obj *k8s_obj_from_json(enum k8s_res res, const json_t *obj,
				  const struct k8s_conv_opts *opts)
{
	struct k8s_obj d, *o = NULL;
	struct k8s_ip *ips = NULL;
	struct k8s_port *ports = NULL;
	struct k8s_ep *eps = NULL;
	char key[512];
	int rc = 0;

	if (!json_is_object(obj) || draft_meta(&d, res, obj, key, sizeof(key)) != 0)
		return NULL;
	if (!selected(res, obj, opts))
		d.tombstone = true;
	else if (res == K8S_RES_SVC)
		rc = conv_svc(&d, obj, &ips, &ports);
	else if (res == K8S_RES_SLICE)
		rc = conv_slice(&d, obj, &eps, &ports, opts);
	else if (res == K8S_RES_POD)
		conv_pod(&d, obj);
	if (rc == 0)
		o = obj_pack(&d);
	free(ips);
	free(ports);
	free(eps);
	if (o != NULL && !o->tombstone && res == K8S_RES_SVC) {
		lower_str((char *)(uintptr_t)o->u.svc.external);
		lower_ports(o->u.svc.ports, o->u.svc.n_ports);
		/* "foo.example.com." and "foo.example.com" are the same target. */
		if (o->u.svc.external != NULL) {
			size_t l = strlen(o->u.svc.external);

			if (l > 0 && o->u.svc.external[l - 1] == '.')
				((char *)(uintptr_t)o->u.svc.external)[l - 1] = '\0';
		}
	}
	if (o != NULL && !o->tombstone && res == K8S_RES_SLICE)
		lower_ports(o->u.slice.ports, o->u.slice.n_ports);
	return o;
}

struct k8s_obj *k8s_obj_tombstone(enum k8s_res res, const char *ns, const char *name)
{
	struct k8s_obj d;
	char key[512];

	memset(&d, 0, sizeof(d));
	d.res = res;
	d.tombstone = true;
	d.ns = res == K8S_RES_NS ? "" : ns;
	d.name = name;
	if (res == K8S_RES_NS)
		snprintf(key, sizeof(key), "%s", name);
	else
		snprintf(key, sizeof(key), "%s/%s", ns, name);
	d.key = key;
	return obj_pack(&d);
}

/* ------------------------------------------------------------------------- */
/* Label selectors                                                             */

static bool sel_word_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.' || c == '/';
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Read a key or value word into a new string. @return the position after it, NULL on error */
static const char *sel_word(const char *p, char **out, bool allow_empty)
{
	const char *s = skip_ws(p);
	const char *e = s;

	while (sel_word_char(*e))
		e++;
	if (e == s && !allow_empty)
		return NULL;
	*out = strndup(s, (size_t)(e - s));
	return *out != NULL ? skip_ws(e) : NULL;
}

static int sel_add_val(struct k8s_sel_req *r, char *v)
{
	char **nv = realloc(r->vals, (r->n_vals + 1) * sizeof(*nv));

	if (nv == NULL) {
		free(v);
		return -ENOMEM;
	}
	r->vals = nv;
	r->vals[r->n_vals++] = v;
	return 0;
}

/* "(a, b, c)" after in/notin. */
static const char *sel_set(const char *p, struct k8s_sel_req *r)
{
	p = skip_ws(p);
	if (*p++ != '(')
		return NULL;
	for (;;) {
		char *v;

		p = sel_word(p, &v, true);
		if (p == NULL || sel_add_val(r, v) != 0)
			return NULL;
		if (*p == ')')
			return skip_ws(p + 1);
		if (*p++ != ',')
			return NULL;
	}
}

static const char *sel_op(const char *p, struct k8s_sel_req *r)
{
	char *v;

	if (p[0] == '!' && p[1] == '=') {
		r->op = K8S_SEL_NE;
		p += 2;
	} else if (p[0] == '=' && p[1] == '=') {
		r->op = K8S_SEL_EQ;
		p += 2;
	} else if (p[0] == '=') {
		r->op = K8S_SEL_EQ;
		p += 1;
	} else if (strncmp(p, "in", 2) == 0 && !sel_word_char(p[2]) && p[2] != '\0') {
		r->op = K8S_SEL_IN;
		return sel_set(p + 2, r);
	} else if (strncmp(p, "notin", 5) == 0 && !sel_word_char(p[5]) && p[5] != '\0') {
		r->op = K8S_SEL_NOTIN;
		return sel_set(p + 5, r);
	} else if (*p == ',' || *p == '\0') {
		r->op = K8S_SEL_EXISTS;
		return p;
	} else {
		return NULL;
	}
	p = sel_word(p, &v, true);
	if (p == NULL || sel_add_val(r, v) != 0)
		return NULL;
	return p;
}

static const char *sel_req(const char *p, struct k8s_selector *s)
{
	struct k8s_sel_req *nr = realloc(s->reqs, (s->n + 1) * sizeof(*nr));
	struct k8s_sel_req *r;
	bool neg;

	if (nr == NULL)
		return NULL;
	s->reqs = nr;
	r = &s->reqs[s->n++];
	memset(r, 0, sizeof(*r));
	p = skip_ws(p);
	neg = *p == '!';
	p = sel_word(neg ? p + 1 : p, &r->key, false);
	if (p == NULL)
		return NULL;
	if (neg) {
		r->op = K8S_SEL_NOTEXISTS;
		return p;
	}
	return sel_op(p, r);
}

void k8s_selector_free(struct k8s_selector *s)
{
	if (s == NULL)
		return;
	for (unsigned i = 0; i < s->n; i++) {
		free(s->reqs[i].key);
		for (unsigned j = 0; j < s->reqs[i].n_vals; j++)
			free(s->reqs[i].vals[j]);
		free(s->reqs[i].vals);
	}
	free(s->reqs);
	free(s->text);
	free(s);
}

struct k8s_selector *k8s_selector_parse(const char *text, char *err, size_t errlen)
{
	struct k8s_selector *s = calloc(1, sizeof(*s));
	const char *p = text;

	if (s == NULL || (s->text = strdup(text)) == NULL)
		goto fail;
	p = skip_ws(p);
	while (*p != '\0') {
		p = sel_req(p, s);
		if (p == NULL)
			goto fail;
		if (*p == ',') {
			p = skip_ws(p + 1);
			if (*p == '\0')
				goto fail; /* "a=b," : a requirement must follow */
		} else if (*p != '\0') {
			goto fail;
		}
	}
	if (s->n == 0)
		goto fail;
	return s;
fail:
	snprintf(err, errlen, "invalid label selector \"%s\"", text);
	k8s_selector_free(s);
	return NULL;
}

static bool sel_in(const struct k8s_sel_req *r, const char *v)
{
	for (unsigned i = 0; i < r->n_vals; i++) {
		if (strcmp(r->vals[i], v) == 0)
			return true;
	}
	return false;
}

bool k8s_selector_match(const struct k8s_selector *s, const json_t *labels)
{
	for (unsigned i = 0; i < s->n; i++) {
		const struct k8s_sel_req *r = &s->reqs[i];
		const char *v = jstr(labels, r->key);
		bool ok;

		switch (r->op) {
		case K8S_SEL_EXISTS:
			ok = v != NULL;
			break;
		case K8S_SEL_NOTEXISTS:
			ok = v == NULL;
			break;
		case K8S_SEL_EQ:
		case K8S_SEL_IN:
			ok = v != NULL && sel_in(r, v);
			break;
		default: /* NE, NOTIN: an absent label satisfies them */
			ok = v == NULL || !sel_in(r, v);
			break;
		}
		if (!ok)
			return false;
	}
	return true;
}
