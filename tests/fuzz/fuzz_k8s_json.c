/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - fuzz target: what the kubernetes plugin reads from the API server (untrusted)
 * taken all the way to DNS records.
 *
 * Input: one option byte, then a watch body. The option byte picks a plugin
 * configuration (bits 0-1: selectors, endpoint_pod_names, pods, namespaces...), the size
 * of the chunks the body arrives in (bits 2-4), the resource of objects without a known
 * kind (bits 5-6) and whether the plugin has synced (bit 7). The body is split into lines
 * by k8s_stream_feed(); each line is a watch event ({"type", "object"}), a List
 * ({"items"}: a relist, stale objects deleted at its end) or a bare object. Objects are
 * converted with k8s_obj_from_json() (also as each other resource, and freed), applied to
 * a k8s_store as the plugin does, and names derived from them (services, ports, endpoint
 * hostnames, pods, reverse names) are answered by k8s_synth_answer() + k8s_build().
 *
 * Invariants (a violation aborts):
 *  - the splitter hands out the same lines whatever the chunking, each NUL-terminated,
 *    without newline, not blank, not ending in CR or space;
 *  - converted objects are consistent (key, addresses, the slice port sentinel);
 *  - the synthesis' verdict is in range, its records' strings lie in the pool, and
 *    k8s_build() sets the matching rcode; the answer written as a response parses
 *    (ldns) with that rcode and the record counts the builder had.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <ldns/ldns.h>

#include "check.h"
#include "dns.h"
#include "k8s_config.h"
#include "k8s_obj.h"
#include "k8s_store.h"
#include "k8s_synth.h"
#include "k8s_watch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_INPUT_MAX (256u << 10)
#define FZ_N_CFG     4
#define FZ_MAX_Q     64  /* questions asked per input */
#define FZ_MAX_OBJS  24  /* objects per input that contribute names */
#define FZ_MAX_EPS   4   /* endpoints per slice that contribute names */

struct fz_q {
	char name[320];
	uint16_t qtype;
};

struct fz {
	const struct k8s_config *cfg;
	struct k8s_store store;
	struct k8s_conv_opts conv;
	enum k8s_res def_res;
	unsigned n_objs;
	unsigned n_q;
	struct fz_q q[FZ_MAX_Q];
};

/* ------------------------------------------------------------------------- */
/* Configurations (built once, read only afterwards)                          */

static struct k8s_config cfgs[FZ_N_CFG];

static void cfg_option(struct k8s_config *c, const char *line)
{
	char buf[256], err[256], *args[16], *save = NULL;
	unsigned n = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *w = strtok_r(buf, " ", &save); w != NULL && n < 16; w = strtok_r(NULL, " ", &save))
		args[n++] = w;
	CHECK_OR_ABORT(n > 0 && k8s_config_option(c, args[0], (const char *const *)args + 1,
						  n - 1, err, sizeof(err)) == 0);
}

static void cfg_build(struct k8s_config *c, const char *zones, const char *const *opts)
{
	char buf[256], err[256], *save = NULL;

	k8s_config_init(c);
	snprintf(buf, sizeof(buf), "%s", zones);
	for (char *z = strtok_r(buf, " ", &save); z != NULL; z = strtok_r(NULL, " ", &save))
		CHECK_OR_ABORT(k8s_config_add_zone(c, z, err, sizeof(err)) == 0);
	for (unsigned i = 0; opts[i] != NULL; i++)
		cfg_option(c, opts[i]);
}

static void cfgs_init(void)
{
	static const char *const o0[] = { NULL };
	static const char *const o1[] = { "pods insecure", "endpoint_pod_names", "ttl 30", NULL };
	static const char *const o2[] = { "pods verified", "labels app in (web, db),!skip",
					  "namespace_labels team=a", "ignore empty_service",
					  NULL };
	static const char *const o3[] = { "namespaces ns1 default kube-system", "noendpoints",
					  "fallthrough in-addr.arpa", "labels tier!=cache",
					  "endpoint_pod_names", "ttl 0", NULL };
	static int done;

	if (done)
		return;
	done = 1;
	cfg_build(&cfgs[0], "cluster.local in-addr.arpa ip6.arpa", o0);
	cfg_build(&cfgs[1], "cluster.local in-addr.arpa ip6.arpa", o1);
	cfg_build(&cfgs[2], "cluster.local example.org in-addr.arpa ip6.arpa", o2);
	cfg_build(&cfgs[3], "in-addr.arpa cluster.local 10.0.0.0/8 fd00::/8", o3);
}

static int dep_key(void *ctx, const char *target, char *key, size_t cap)
{
	return k8s_synth_dep_key(ctx, target, key, cap);
}

/* ------------------------------------------------------------------------- */
/* Questions derived from objects                                              */

__attribute__((format(printf, 3, 4)))
static void add_q(struct fz *f, uint16_t qtype, const char *fmt, ...)
{
	struct fz_q *q;
	va_list ap;
	int n;

	if (f->n_q >= FZ_MAX_Q)
		return;
	q = &f->q[f->n_q];
	va_start(ap, fmt);
	n = vsnprintf(q->name, sizeof(q->name), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(q->name))
		return;
	q->qtype = qtype;
	f->n_q++;
}

static const char *zone0(const struct fz *f)
{
	int z = f->cfg->primary >= 0 ? f->cfg->primary : 0;

	return f->cfg->zones[z].name;
}

static void add_reverse(struct fz *f, const struct k8s_ip *ip)
{
	char rev[DNS_MAX_NAME * 4 + 2];

	add_q(f, DNS_T_PTR, "%s", k8s_reverse_name(ip, rev, sizeof(rev)));
}

static void names_svc(struct fz *f, const struct k8s_obj *o)
{
	const char *z = zone0(f);

	add_q(f, DNS_T_A, "%s.%s.svc.%s", o->name, o->ns, z);
	add_q(f, DNS_T_SRV, "%s.%s.svc.%s", o->name, o->ns, z);
	if (o->u.svc.type == K8S_SVC_EXTERNAL)
		add_q(f, DNS_T_CNAME, "%s.%s.svc.%s", o->name, o->ns, z);
	else
		add_q(f, DNS_T_AAAA, "%s.%s.svc.%s", o->name, o->ns, z);
	if (o->u.svc.n_ports > 0)
		add_q(f, DNS_T_SRV, "_%s._%s.%s.%s.svc.%s", o->u.svc.ports[0].name,
		      o->u.svc.ports[0].proto, o->name, o->ns, z);
	if (o->u.svc.n_ips > 0)
		add_reverse(f, &o->u.svc.ips[0]);
}

static void names_slice(struct fz *f, const struct k8s_obj *o)
{
	const char *z = zone0(f);
	char host[256];

	add_q(f, DNS_T_A, "%s.%s.svc.%s", o->u.slice.service, o->ns, z);
	for (unsigned i = 0; i < o->u.slice.n_eps && i < FZ_MAX_EPS; i++) {
		const struct k8s_ep *ep = &o->u.slice.eps[i];

		CHECK_OR_ABORT(ep->ip.fam == 4 || ep->ip.fam == 6);
		if (k8s_endpoint_hostname(ep, f->cfg->endpoint_pod_names, host, sizeof(host)) > 0)
			add_q(f, ep->ip.fam == 4 ? DNS_T_A : DNS_T_AAAA, "%s.%s.%s.svc.%s", host,
			      o->u.slice.service, o->ns, z);
		add_reverse(f, &ep->ip);
	}
	if (o->u.slice.n_ports > 0 && o->u.slice.ports[0].port >= 0)
		add_q(f, DNS_T_SRV, "_%s._%s.%s.%s.svc.%s", o->u.slice.ports[0].name,
		      o->u.slice.ports[0].proto, o->u.slice.service, o->ns, z);
}

static void names_pod(struct fz *f, const struct k8s_obj *o)
{
	char dashed[64];
	size_t i;

	for (i = 0; o->u.pod.ipstr[i] != '\0' && i < sizeof(dashed) - 1; i++)
		dashed[i] = o->u.pod.ipstr[i] == '.' || o->u.pod.ipstr[i] == ':' ? '-' :
			    o->u.pod.ipstr[i];
	dashed[i] = '\0';
	add_q(f, o->u.pod.ip.fam == 4 ? DNS_T_A : DNS_T_AAAA, "%s.%s.pod.%s", dashed, o->ns,
	      zone0(f));
}

static void names_of(struct fz *f, const struct k8s_obj *o)
{
	if (o->tombstone || f->n_objs >= FZ_MAX_OBJS)
		return;
	f->n_objs++;
	switch (o->res) {
	case K8S_RES_NS:
		add_q(f, DNS_T_A, "x.%s.svc.%s", o->name, zone0(f));
		break;
	case K8S_RES_SVC:
		names_svc(f, o);
		break;
	case K8S_RES_SLICE:
		names_slice(f, o);
		break;
	default:
		names_pod(f, o);
		break;
	}
}

/* ------------------------------------------------------------------------- */
/* Objects                                                                     */

static void check_obj(const struct k8s_obj *o, enum k8s_res res)
{
	size_t nl = strlen(o->ns);

	CHECK_OR_ABORT(o->res == res && o->name != NULL && o->name[0] != '\0');
	CHECK_OR_ABORT(res != K8S_RES_NS || o->ns[0] == '\0');
	/* the key is "ns/name" ("name" for namespaces), cut at its buffer's size */
	if (res == K8S_RES_NS)
		CHECK_OR_ABORT(strncmp(o->key, o->name, strlen(o->key)) == 0);
	else
		CHECK_OR_ABORT(strncmp(o->key, o->ns, strlen(o->key) < nl ? strlen(o->key) : nl) == 0);
	if (o->tombstone)
		return;
	if (res == K8S_RES_SVC) {
		for (unsigned i = 0; i < o->u.svc.n_ips; i++)
			CHECK_OR_ABORT(o->u.svc.ips[i].fam == 4 || o->u.svc.ips[i].fam == 6);
		CHECK_OR_ABORT((o->u.svc.external != NULL) == (o->u.svc.type == K8S_SVC_EXTERNAL));
		for (unsigned i = 0; i < o->u.svc.n_ports; i++)
			CHECK_OR_ABORT(o->u.svc.ports[i].name != NULL && o->u.svc.ports[i].proto != NULL);
	} else if (res == K8S_RES_SLICE) {
		CHECK_OR_ABORT(o->u.slice.n_ports >= 1 && o->u.slice.service[0] != '\0');
		for (unsigned i = 0; i < o->u.slice.n_eps; i++)
			CHECK_OR_ABORT(o->u.slice.eps[i].ip.fam == 4 || o->u.slice.eps[i].ip.fam == 6);
	} else if (res == K8S_RES_POD) {
		CHECK_OR_ABORT(o->u.pod.ip.fam == 4 || o->u.pod.ip.fam == 6);
	}
}

static void parse_time(const json_t *meta, const char *field)
{
	const char *s = json_string_value(json_object_get(meta, field));
	int64_t t1 = 0, t2 = 0;
	int rc;

	if (s == NULL)
		return;
	rc = k8s_parse_time(s, &t1);
	CHECK_OR_ABORT(rc == 0 || rc == -EINVAL);
	CHECK_OR_ABORT(k8s_parse_time(s, &t2) == rc && t1 == t2);
	/* years 1970 on, zones at most a day off */
	if (rc == 0)
		CHECK_OR_ABORT(t1 >= -86400ll * 1000000000ll);
}

static void times_of(const json_t *obj)
{
	const json_t *meta = json_object_get(obj, "metadata");

	parse_time(json_object_get(meta, "annotations"),
		   "endpoints.kubernetes.io/last-change-trigger-time");
	parse_time(meta, "creationTimestamp");
	parse_time(meta, "deletionTimestamp");
}

static enum k8s_res res_of(const struct fz *f, const json_t *obj, const char *list_kind)
{
	static const char *const kinds[K8S_RES_N] = { "Namespace", "Service", "EndpointSlice",
						       "Pod" };
	const char *kind = json_string_value(json_object_get(obj, "kind"));

	if (kind == NULL)
		kind = list_kind;
	for (int r = 0; kind != NULL && r < K8S_RES_N; r++) {
		if (strncmp(kind, kinds[r], strlen(kinds[r])) == 0)
			return (enum k8s_res)r;
	}
	return f->def_res;
}

/* The plugin's process(): unchanged objects are only touched, unknown tombstones dropped. */
static void apply(struct fz *f, struct k8s_obj *o, bool deleted)
{
	struct k8s_obj *old;

	if (deleted && !o->tombstone) {
		struct k8s_obj *t = k8s_obj_tombstone(o->res, o->ns, o->name);

		k8s_obj_free(o);
		if (t == NULL)
			return;
		o = t;
	}
	old = k8s_store_obj(&f->store, o->res, o->key);
	if (old == NULL && o->tombstone) {
		k8s_obj_free(o);
		return;
	}
	if (!deleted && old != NULL && !o->tombstone && o->rv != NULL && old->rv != NULL &&
	    strcmp(o->rv, old->rv) == 0) {
		k8s_store_touch(&f->store, old);
		k8s_obj_free(o);
		return;
	}
	names_of(f, o);
	CHECK_OR_ABORT(k8s_store_apply(&f->store, o) == 0);
}

static void convert(struct fz *f, const json_t *obj, enum k8s_res res, bool deleted)
{
	times_of(obj);
	for (int r = 0; r < K8S_RES_N; r++) {
		struct k8s_obj *o = k8s_obj_from_json((enum k8s_res)r, obj, &f->conv);

		if (o == NULL)
			continue;
		check_obj(o, (enum k8s_res)r);
		if (r == (int)res)
			apply(f, o, deleted);
		else
			k8s_obj_free(o);
	}
}

/* The plugin's list_end(): what the relist did not bring is deleted. */
static void list_end(struct fz *f, enum k8s_res res)
{
	size_t n = 0;
	struct k8s_obj **stale = k8s_store_stale(&f->store, res, &n);

	for (size_t i = 0; i < n; i++)
		CHECK_OR_ABORT(k8s_store_apply(&f->store, stale[i]) == 0);
	free(stale);
}

static void relist(struct fz *f, const json_t *list)
{
	const json_t *items = json_object_get(list, "items");
	const char *kind = json_string_value(json_object_get(list, "kind"));
	enum k8s_res res = res_of(f, list, NULL);

	k8s_store_list_begin(&f->store, res);
	for (size_t i = 0; i < json_array_size(items); i++) {
		const json_t *it = json_array_get(items, i);

		if (json_is_object(it))
			convert(f, it, res_of(f, it, kind), false);
	}
	list_end(f, res);
}

/* One line: a watch event, a List or a bare object. @return 1 after an ERROR event */
static int on_line(void *ctx, char *line, size_t len)
{
	struct fz *f = ctx;
	json_t *ev = json_loadb(line, len, 0, NULL);
	const char *type = json_string_value(json_object_get(ev, "type"));
	const json_t *obj = json_object_get(ev, "object");
	int rc = 0;

	if (!json_is_object(ev)) {
		json_decref(ev);
		return 0;
	}
	if (type != NULL && json_is_object(obj)) {
		if (strcmp(type, "ERROR") == 0)
			rc = 1;
		else if (strcmp(type, "BOOKMARK") == 0)
			times_of(obj);
		else
			convert(f, obj, res_of(f, obj, NULL), strcmp(type, "DELETED") == 0);
	} else if (json_is_array(json_object_get(ev, "items"))) {
		relist(f, ev);
	} else {
		convert(f, ev, res_of(f, ev, NULL), false);
	}
	json_decref(ev);
	return rc;
}

/* ------------------------------------------------------------------------- */
/* Stream splitting                                                            */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

struct lines {
	uint64_t hash;
	unsigned n;
};

static int hash_line(void *ctx, char *line, size_t len)
{
	struct lines *l = ctx;

	CHECK_OR_ABORT(len > 0 && line[len] == '\0' && memchr(line, '\n', len) == NULL);
	CHECK_OR_ABORT(line[len - 1] != '\r' && line[len - 1] != ' ');
	CHECK_OR_ABORT(strspn(line, " \t") < len);
	l->hash = fnv(l->hash, line, len + 1);
	l->n++;
	return 0;
}

/* Feed @p data in chunks of @p chunk bytes (0: at once). */
static void feed(struct k8s_stream *s, const uint8_t *data, size_t size, size_t chunk,
		 k8s_line_fn fn, void *ctx)
{
	size_t off = 0;

	do {
		size_t n = chunk == 0 || size - off < chunk ? size - off : chunk;
		int rc = k8s_stream_feed(s, (const char *)data + off, n, fn, ctx);

		CHECK_OR_ABORT(rc == 0 || rc == 1);
		/* an ERROR event ends the watch: the next one starts on a fresh stream */
		if (rc == 1)
			k8s_stream_reset(s);
		off += n;
	} while (off < size);
}

static void check_split(const uint8_t *data, size_t size, size_t chunk)
{
	struct lines whole = { 0xcbf29ce484222325ull, 0 }, parts = whole;
	struct k8s_stream s;

	k8s_stream_init(&s);
	feed(&s, data, size, 0, hash_line, &whole);
	k8s_stream_fini(&s);
	k8s_stream_init(&s);
	feed(&s, data, size, chunk == 0 ? 1 : chunk, hash_line, &parts);
	k8s_stream_fini(&s);
	CHECK_OR_ABORT(whole.n == parts.n && whole.hash == parts.hash);
}

/* ------------------------------------------------------------------------- */
/* Answers                                                                     */

static size_t make_query(uint8_t *msg, const uint8_t *wire, size_t wlen, uint16_t qtype)
{
	memset(msg, 0, DNS_HDR_LEN);
	msg[0] = 0x4b;
	msg[5] = 1; /* QDCOUNT */
	memcpy(msg + DNS_HDR_LEN, wire, wlen);
	msg[DNS_HDR_LEN + wlen] = (uint8_t)(qtype >> 8);
	msg[DNS_HDR_LEN + wlen + 1] = (uint8_t)qtype;
	msg[DNS_HDR_LEN + wlen + 2] = 0;
	msg[DNS_HDR_LEN + wlen + 3] = 1;
	return DNS_HDR_LEN + wlen + 4;
}

static int expect_rcode(enum k8s_rc rc)
{
	switch (rc) {
	case K8S_RC_NXDOMAIN:
		return DNS_RCODE_NXDOMAIN;
	case K8S_RC_SERVFAIL:
		return DNS_RCODE_SERVFAIL;
	case K8S_RC_REFUSED:
		return DNS_RCODE_REFUSED;
	default:
		return DNS_RCODE_NOERROR;
	}
}

/* The value as the fast path's table would hold it (no spill, whole or nothing). */
static void check_table_value(const struct k8s_synth *syn, const struct k8s_answer *a,
			      const struct dns_key *key)
{
	static struct dns_builder b;
	static union {
		struct dns_answer a;
		uint8_t raw[sizeof(struct dns_answer) + DNS_BUILD_MAX + 2 * DNS_ANS_MAX_TTL + 64];
	} v;
	int rc;

	dns_builder_init(&b, key, 0);
	rc = k8s_build(syn, a, &b, false);
	if (rc != 0)
		return;
	CHECK_OR_ABORT(dns_builder_size(&b) <= sizeof(v));
	CHECK_OR_ABORT(dns_builder_finish(&b, &v.a, sizeof(v)) > 0);
}

/* The response the control plane writes itself (spill storage, partial), in place over
 * the query in @p msg (65536 bytes). */
static void check_response(const struct k8s_synth *syn, const struct k8s_answer *a,
			   struct dns_query *q, uint8_t *msg)
{
	static struct dns_builder b;
	static uint8_t spill[DNS_BUILD_SPILL_MAX], val[DNS_BUILD_SPILL_MAX + 4096];
	ldns_pkt *pkt = NULL;
	int rc, n;

	dns_builder_init(&b, &q->key, 0);
	dns_builder_set_spill(&b, spill, sizeof(spill));
	rc = k8s_build(syn, a, &b, true);
	CHECK_OR_ABORT(rc == 0 || rc == -EINVAL || rc == -ENAMETOOLONG || rc == -ENOSPC);
	if (rc != 0)
		return;
	CHECK_OR_ABORT((int)(b.flags & DNS_F_RCODE) == expect_rcode(a->rc));
	CHECK_OR_ABORT(dns_builder_size(&b) <= sizeof(val));
	n = dns_builder_finish(&b, (struct dns_answer *)(void *)val, sizeof(val));
	CHECK_OR_ABORT(n > 0);
	q->has_edns = true; /* as over TCP: the whole answer */
	q->edns_size = 65535;
	n = dns_write_answer(msg, 65536, q, (const struct dns_answer *)(void *)val, 0);
	CHECK_OR_ABORT(n >= DNS_HDR_LEN);
	CHECK_OR_ABORT(ldns_wire2pkt(&pkt, msg, (size_t)n) == LDNS_STATUS_OK);
	CHECK_OR_ABORT((int)ldns_pkt_get_rcode(pkt) == expect_rcode(a->rc));
	CHECK_OR_ABORT(ldns_pkt_qdcount(pkt) == 1);
	if (a->rc != K8S_RC_ANSWER)
		CHECK_OR_ABORT(ldns_pkt_ancount(pkt) == 0 && ldns_pkt_nscount(pkt) == 1);
	ldns_pkt_free(pkt);
}

static void check_answer(const struct k8s_answer *a)
{
	CHECK_OR_ABORT(a->rc >= K8S_RC_ANSWER && a->rc <= K8S_RC_REFUSED);
	CHECK_OR_ABORT(a->n <= a->cap && a->slen <= a->scap && a->err == 0);
	for (unsigned i = 0; i < a->n; i++) {
		const struct k8s_rr *rr = &a->rr[i];

		CHECK_OR_ABORT(rr->sec >= DNS_SEC_ANSWER && rr->sec <= DNS_SEC_ADDITIONAL);
		CHECK_OR_ABORT(rr->owner == K8S_OWNER_QNAME || rr->owner < a->slen);
	}
}

static void ask(const struct k8s_synth *syn, struct k8s_vcache *vc, struct k8s_answer *a,
		const char *name, uint16_t qtype)
{
	static uint8_t msg[65536];
	uint8_t wire[DNS_MAX_NAME];
	struct dns_query q;
	int n = dns_name_from_str(wire, sizeof(wire), name);
	int rc;

	if (n <= 0)
		return;
	rc = k8s_synth_answer(syn, wire, (size_t)n, qtype, vc, a);
	CHECK_OR_ABORT(rc == 0);
	check_answer(a);
	if (a->rc == K8S_RC_FALLTHROUGH || a->rc == K8S_RC_NOTOURS) {
		CHECK_OR_ABORT(k8s_build(syn, a, NULL, true) == -EINVAL);
		return;
	}
	if (dns_parse_query(msg, make_query(msg, wire, (size_t)n, qtype), &q) != DNS_RCODE_NOERROR ||
	    !q.key_ok)
		return;
	check_table_value(syn, a, &q.key);
	check_response(syn, a, &q, msg);
}

static void answer_all(struct fz *f, bool synced)
{
	static const uint16_t fixed_types[] = { DNS_T_SOA, DNS_T_NS, DNS_T_A, DNS_T_TXT };
	static const char *const fixed[] = { "%s", "%s", "ns.dns.%s", "dns-version.%s" };
	struct k8s_synth syn;
	struct k8s_vcache vc;
	struct k8s_answer a;
	char name[320];

	memset(&syn, 0, sizeof(syn));
	syn.cfg = f->cfg;
	syn.store = &f->store;
	syn.serial = 1700000000;
	syn.synced = synced;
	syn.n_nsaddr = 1;
	CHECK_OR_ABORT(k8s_ip_parse(&syn.nsaddr[0], "198.18.0.10") == 0);
	k8s_vcache_init(&vc);
	k8s_answer_init(&a);
	for (unsigned i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		snprintf(name, sizeof(name), fixed[i], zone0(f));
		ask(&syn, &vc, &a, name, fixed_types[i]);
	}
	for (unsigned i = 0; i < f->n_q; i++)
		ask(&syn, &vc, &a, f->q[i].name, f->q[i].qtype);
	k8s_answer_fini(&a);
	k8s_vcache_clear(&vc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t chunks[8] = { 0, 1, 2, 7, 64, 512, 4096, 3 };
	static struct fz f;
	struct k8s_stream s;
	uint8_t opt;

	if (size < 1 || size > FZ_INPUT_MAX)
		return 0;
	cfgs_init();
	opt = data[0];
	data++;
	size--;
	check_split(data, size, chunks[(opt >> 2) & 7]);

	memset(&f, 0, sizeof(f));
	f.cfg = &cfgs[opt & 3];
	f.def_res = (enum k8s_res)((opt >> 5) & 3);
	f.conv.labels = f.cfg->labels;
	f.conv.ns_labels = f.cfg->ns_labels;
	f.conv.endpoint_pod_names = f.cfg->endpoint_pod_names;
	CHECK_OR_ABORT(k8s_store_init(&f.store, dep_key, (void *)(uintptr_t)f.cfg) == 0);
	k8s_stream_init(&s);
	feed(&s, data, size, chunks[(opt >> 2) & 7], on_line, &f);
	k8s_stream_fini(&s);
	answer_all(&f, !(opt & 0x80));
	k8s_store_fini(&f.store);
	return 0;
}
