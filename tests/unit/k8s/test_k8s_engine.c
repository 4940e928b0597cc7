/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - the kubernetes plugin inside the engine, fed by the fake API server on
 * 127.0.0.1: Corefile options and their errors, the table and zone set it publishes,
 * and equivalence: for every probed (name, type) the fast path's answer (modelled on
 * fastpath/answer.c: exact entry, exists-marker, zone miss answer) is byte for byte the
 * control plane's. Then incremental updates after API changes, and the SOA serial.
 * Skips (77) when the fake server or python3 is missing.
 *
 * Usage: test_k8s_engine SOURCE_ROOT
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "dp_shm.h"
#include "engine.h"
#include "k8s_map.h"
#include "k8s_test.h"
#include "plugin.h"

/* ------------------------------------------------------------------------- */
/* In-memory table and zone set                                                */

struct ment {
	struct k8s_hnode node;
	struct dns_key key;
	size_t size;
	uint8_t val[];
};

struct msink {
	struct k8s_hmap m;
	unsigned nz;
	struct dp_zone z[DP_MAX_ZONES];
	uint8_t *zval[DP_MAX_ZONES];
	unsigned puts, dels;
};

static struct ment *mfind(const struct msink *s, const struct dns_key *k)
{
	uint64_t h = k8s_hash_bytes(k, sizeof(*k), 0);

	for (struct k8s_hnode *n = k8s_hmap_first(&s->m, h); n != NULL; n = k8s_hmap_next(n)) {
		struct ment *e = k8s_container_of(n, struct ment, node);

		if (memcmp(&e->key, k, sizeof(*k)) == 0)
			return e;
	}
	return NULL;
}

static int m_put(void *ctx, const struct dns_key *key, uint32_t hash, const struct dns_answer *a,
		 size_t size)
{
	struct msink *s = ctx;
	struct ment *e = mfind(s, key);

	(void)hash;
	if (e != NULL) {
		k8s_hmap_remove(&s->m, &e->node);
		free(e);
	}
	e = malloc(sizeof(*e) + size);
	if (e == NULL)
		return -ENOMEM;
	e->key = *key;
	e->size = size;
	memcpy(e->val, a, size);
	e->node.hash = k8s_hash_bytes(key, sizeof(*key), 0);
	k8s_hmap_insert(&s->m, &e->node);
	s->puts++;
	return 0;
}

static int m_del(void *ctx, const struct dns_key *key, uint32_t hash)
{
	struct msink *s = ctx;
	struct ment *e = mfind(s, key);

	(void)hash;
	if (e == NULL)
		return -ENOENT;
	k8s_hmap_remove(&s->m, &e->node);
	free(e);
	s->dels++;
	return 0;
}

static int m_zones(void *ctx, const void *zones, unsigned n)
{
	struct msink *s = ctx;
	const struct dp_zone *z = zones;

	for (unsigned i = 0; i < s->nz; i++)
		free(s->zval[i]);
	s->nz = n;
	for (unsigned i = 0; i < n; i++) {
		s->z[i] = z[i];
		s->zval[i] = NULL;
		if (z[i].miss != NULL) {
			size_t sz = dns_answer_size(z[i].miss);

			s->zval[i] = malloc(sz);
			memcpy(s->zval[i], z[i].miss, sz);
			s->z[i].miss = (const struct dns_answer *)(void *)s->zval[i];
		}
	}
	return 0;
}

static void msink_clear(struct msink *s)
{
	struct k8s_hiter it = { 0, NULL };
	struct k8s_hnode *n, *next;

	for (n = k8s_hmap_iter(&s->m, &it); n != NULL; n = next) {
		next = k8s_hmap_iter(&s->m, &it);
		free(k8s_container_of(n, struct ment, node));
	}
	k8s_hmap_fini(&s->m);
	m_zones(s, NULL, 0);
}

/* The fast path's decision for a parsed query: the value it answers with, or NULL. */
static const struct dns_answer *fp_lookup(const struct msink *s, const struct dns_query *q,
					  int *how)
{
	struct dns_key k = q->key;
	struct ment *e;

	*how = 0;
	if (!q->key_ok || q->qtype == DNS_T_ANY || q->qtype == DNS_T_AXFR || q->qtype == DNS_T_IXFR)
		return NULL;
	if ((e = mfind(s, &k)) != NULL) {
		*how = 1;
		return (const struct dns_answer *)(const void *)e->val;
	}
	k.qtype = DNS_KEY_T_EXISTS;
	if ((e = mfind(s, &k)) != NULL) {
		*how = 2;
		return (const struct dns_answer *)(const void *)e->val;
	}
	for (unsigned i = 0; i < s->nz; i++) {
		const struct dp_zone *z = &s->z[i];

		if (!k8s_name_under(q->key.name, q->key.name_len, z->name, z->name_len))
			continue;
		*how = 3;
		return (z->flags & DP_ZONE_ANSWER_MISS) ? z->miss : NULL;
	}
	return NULL;
}

/* ------------------------------------------------------------------------- */
/* Engine                                                                      */

struct rig {
	struct kt_fake f;
	struct cp_engine *e;
	struct msink ms;
	struct cp_sink sink;
	char dir[64];
	unsigned syncs;
};

static const char *write_file(struct rig *r, const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", r->dir, name);
	f = fopen(path, "w");
	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
	return path;
}

/* Load @p corefile (with %s replaced by the server's base URL). */
static struct cp_engine *load(struct rig *r, const char *corefile, char *err, size_t errlen)
{
	char text[4096];

	snprintf(text, sizeof(text), corefile, r->f.base);
	return cp_engine_load(write_file(r, "Corefile", text), err, errlen);
}

static void full_sync(struct rig *r)
{
	CHECK_EQ(cp_engine_sync(r->e, &r->sink), 0);
	r->syncs++;
}

/* Tick like the runtime (a full sync when asked) for @p ms. */
static void run(struct rig *r, unsigned ms)
{
	uint64_t until = kt_ms() + ms;

	do {
		int rc = cp_engine_tick(r->e, &r->sink, kt_ms());

		CHECK(rc >= 0);
		if (rc == 1)
			full_sync(r);
		usleep(1000);
	} while (kt_ms() < until);
}

/* Tick until the engine is ready (at most 10 s). */
static bool run_until_ready(struct rig *r)
{
	uint64_t until = kt_ms() + 10000;
	char buf[256];

	while (kt_ms() < until) {
		int rc = cp_engine_tick(r->e, &r->sink, kt_ms());

		if (rc == 1)
			full_sync(r);
		if (cp_engine_ready(r->e, buf, sizeof(buf)) && rc == 0)
			return true;
		usleep(1000);
	}
	return false;
}

static int rig_start(struct rig *r, const char *root, const char *token)
{
	int rc;

	memset(r, 0, sizeof(*r));
	snprintf(r->dir, sizeof(r->dir), "/tmp/h7-k8se-XXXXXX");
	if (mkdtemp(r->dir) == NULL)
		return -1;
	k8s_hmap_init(&r->ms.m);
	r->sink = (struct cp_sink){ m_put, m_del, m_zones, &r->ms };
	rc = kt_fake_start(&r->f, root, "basic.json", token, "http");
	return rc;
}

static void rig_engine_free(struct rig *r)
{
	cp_engine_free(r->e);
	r->e = NULL;
	msink_clear(&r->ms);
	k8s_hmap_init(&r->ms.m);
}

static void rig_stop(struct rig *r)
{
	char path[256];

	rig_engine_free(r);
	kt_fake_stop(&r->f);
	snprintf(path, sizeof(path), "%s/Corefile", r->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/kubeconfig", r->dir);
	unlink(path);
	rmdir(r->dir);
}

/* ------------------------------------------------------------------------- */
/* Queries                                                                     */

static size_t mkquery(uint8_t *msg, const char *qname, uint16_t qtype)
{
	size_t o = DNS_HDR_LEN;
	const char *p = qname;

	memset(msg, 0, DNS_HDR_LEN);
	msg[0] = 0xab;
	msg[1] = 0xcd;
	msg[2] = 0x01; /* RD */
	msg[5] = 1;
	while (*p != '\0') {
		const char *dot = strchr(p, '.');
		size_t l = dot != NULL ? (size_t)(dot - p) : strlen(p);

		msg[o++] = (uint8_t)l;
		memcpy(msg + o, p, l);
		o += l;
		p += l + (dot != NULL);
	}
	msg[o++] = 0;
	msg[o++] = (uint8_t)(qtype >> 8);
	msg[o++] = (uint8_t)qtype;
	msg[o++] = 0;
	msg[o++] = 1;
	/* EDNS(0), 4096 */
	msg[11] = 1;
	msg[o++] = 0;
	msg[o++] = 0;
	msg[o++] = 41;
	msg[o++] = 0x10;
	msg[o++] = 0;
	memset(msg + o, 0, 6);
	o += 6;
	return o;
}

struct probe {
	int fp_how;      /* 0: control plane; 1 entry, 2 exists-marker, 3 zone answer */
	int rcode;
	uint16_t ancount;
	int cp_len;
	uint8_t cp[4096];
};

/* Ask both; CHECK that a fast-path answer equals the control plane's. */
static void probe(struct rig *r, const char *qname, uint16_t qtype, struct probe *p)
{
	uint8_t q1[4096], q2[4096];
	size_t len = mkquery(q1, qname, qtype);
	struct dns_query q;
	const struct dns_answer *a;
	int n;

	memcpy(q2, q1, len);
	p->cp_len = cp_engine_answer(r->e, q2, len, sizeof(q2), NULL);
	CHECK(p->cp_len > 0);
	memcpy(p->cp, q2, p->cp_len > 0 ? (size_t)p->cp_len : 0);
	p->rcode = p->cp_len > 3 ? (q2[3] & 0x0f) : -1;
	p->ancount = p->cp_len > 7 ? (uint16_t)(q2[6] << 8 | q2[7]) : 0;
	CHECK_EQ(dns_parse_query(q1, len, &q), DNS_RCODE_NOERROR);
	a = fp_lookup(&r->ms, &q, &p->fp_how);
	if (a == NULL) {
		p->fp_how = 0;
		return;
	}
	n = dns_write_answer(q1, sizeof(q1), &q, a, 0);
	CHECK_MSG(n == p->cp_len && memcmp(q1, p->cp, (size_t)n) == 0,
		  "fast path and control plane differ for %s type %u (how %d, len %d vs %d)", qname,
		  qtype, p->fp_how, n, p->cp_len);
}

static const char *const probe_names[] = {
	"cluster.local", "svc.cluster.local", "pod.cluster.local", "dns-version.cluster.local",
	"ns.dns.cluster.local", "apex.dns.cluster.local",
	"default.svc.cluster.local", "ns1.svc.cluster.local", "ns2.pod.cluster.local",
	"nope.svc.cluster.local", "kube-system.svc.cluster.local",
	"kubernetes.default.svc.cluster.local", "web.ns1.svc.cluster.local",
	"Web.NS1.svc.Cluster.Local", "api.ns1.svc.cluster.local", "db.ns1.svc.cluster.local",
	"other.ns2.svc.cluster.local", "ext.ns2.svc.cluster.local", "nope.ns1.svc.cluster.local",
	"_https._tcp.kubernetes.default.svc.cluster.local", "_http._tcp.web.ns1.svc.cluster.local",
	"_http._udp.web.ns1.svc.cluster.local", "_grpc._tcp.api.ns1.svc.cluster.local",
	"_pg._tcp.db.ns1.svc.cluster.local", "_x._tcp.web.ns1.svc.cluster.local",
	"10-244-1-10.web.ns1.svc.cluster.local", "db-0.db.ns1.svc.cluster.local",
	"db-1.db.ns1.svc.cluster.local", "x.db.ns1.svc.cluster.local",
	"a.b.c.d.db.ns1.svc.cluster.local",
	"10-244-1-10.ns1.pod.cluster.local", "1-2-3-4.nope.pod.cluster.local",
	"api.github.com.ns1.svc.cluster.local", "api.github.com.svc.cluster.local",
	"api.github.com.cluster.local", "www.google.com.default.svc.cluster.local",
	"1.0.96.10.in-addr.arpa", "1.1.96.10.in-addr.arpa", "10.1.244.10.in-addr.arpa",
	"20.1.244.10.in-addr.arpa", "21.1.244.10.in-addr.arpa", "9.9.9.9.in-addr.arpa",
	"96.10.in-addr.arpa", "in-addr.arpa",
	"1.0.1.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa",
	"1.0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa",
	NULL,
};

static const uint16_t probe_types[] = {
	DNS_T_A, DNS_T_AAAA, DNS_T_SRV, DNS_T_TXT, DNS_T_PTR, DNS_T_CNAME, DNS_T_MX, DNS_T_SOA,
	DNS_T_NS, 43 /* DS */, DNS_T_HINFO, 0,
};

/* Every probe: equal answers where the fast path answers. @return fast-path answers */
static unsigned probe_all(struct rig *r)
{
	struct probe p;
	unsigned fp = 0;

	for (unsigned i = 0; probe_names[i] != NULL; i++) {
		for (unsigned k = 0; probe_types[k] != 0; k++) {
			probe(r, probe_names[i], probe_types[k], &p);
			fp += p.fp_how != 0;
		}
	}
	return fp;
}

static bool zone_has_policy(const struct rig *r, const char *zone)
{
	uint8_t w[DNS_MAX_NAME];
	int n = dns_name_from_str(w, sizeof(w), zone);

	for (unsigned i = 0; i < r->ms.nz; i++) {
		if (r->ms.z[i].name_len == n && memcmp(r->ms.z[i].name, w, (size_t)n) == 0)
			return (r->ms.z[i].flags & DP_ZONE_ANSWER_MISS) != 0;
	}
	return false;
}

/* The SOA serial of the zone's miss answer (0 when none). */
static uint32_t zone_serial(const struct rig *r, const char *zone)
{
	uint8_t w[DNS_MAX_NAME];
	int n = dns_name_from_str(w, sizeof(w), zone);

	for (unsigned i = 0; i < r->ms.nz; i++) {
		const struct dns_answer *a = r->ms.z[i].miss;

		if (r->ms.z[i].name_len == n && memcmp(r->ms.z[i].name, w, (size_t)n) == 0 &&
		    a != NULL && a->rr_len > 24) {
			/* SOA rdata ends with serial, refresh, retry, expire, minimum. */
			const uint8_t *p = a->rr + a->rr_len - 20;

			return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
		}
	}
	return 0;
}

/*
 * Every name the table holds, asked for every probe type, and two names below it (an
 * unknown label, a search-path miss): the fast path's answers must all be the control
 * plane's. @return the number of names
 */
static unsigned probe_table(struct rig *r)
{
	struct k8s_hiter it = { 0, NULL };
	struct k8s_hnode *n;
	char (*names)[DNS_MAX_NAME * 4] = NULL;
	unsigned cnt = 0, cap = 0;
	struct probe p;

	while ((n = k8s_hmap_iter(&r->ms.m, &it)) != NULL) {
		const struct ment *e = k8s_container_of(n, struct ment, node);
		char text[DNS_MAX_NAME * 4];
		bool dup = false;

		if (dns_name_to_str(e->key.name, e->key.name_len, 0, text, sizeof(text)) < 0)
			continue;
		text[strlen(text) - 1] = '\0'; /* no trailing dot */
		for (unsigned i = 0; i < cnt && !dup; i++)
			dup = strcmp(names[i], text) == 0;
		if (dup)
			continue;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof(*names));
		}
		snprintf(names[cnt++], sizeof(names[0]), "%s", text);
	}
	for (unsigned i = 0; i < cnt; i++) {
		char sub[DNS_MAX_NAME * 4 + 32];

		for (unsigned k = 0; probe_types[k] != 0; k++)
			probe(r, names[i], probe_types[k], &p);
		snprintf(sub, sizeof(sub), "nope.%s", names[i]);
		probe(r, sub, DNS_T_A, &p);
		snprintf(sub, sizeof(sub), "api.github.com.%s", names[i]);
		probe(r, sub, DNS_T_AAAA, &p);
	}
	free(names);
	return cnt;
}

/* Wait until @p qname/@p qtype is answered by the fast path with rcode @p rcode and
 * @p how; @return milliseconds it took, or -1. */
static long wait_fp(struct rig *r, const char *qname, uint16_t qtype, int rcode, int how,
		    unsigned max_ms)
{
	uint64_t t0 = kt_ms();
	struct probe p;

	do {
		int rc = cp_engine_tick(r->e, &r->sink, kt_ms());

		if (rc == 1)
			full_sync(r);
		probe(r, qname, qtype, &p);
		if (p.fp_how == how && p.rcode == rcode)
			return (long)(kt_ms() - t0);
		usleep(500);
	} while (kt_ms() - t0 < max_ms);
	return -1;
}

/* ------------------------------------------------------------------------- */
/* Scenarios                                                                   */

static const char corefile_a[] =
	"cluster.local:53 in-addr.arpa:53 ip6.arpa:53 {\n"
	"    kubernetes cluster.local in-addr.arpa ip6.arpa {\n"
	"        endpoint %s\n"
	"        ttl 30\n"
	"    }\n"
	"}\n";

#define NEW_SVC "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"new1\"," \
	"\"namespace\":\"ns1\"},\"spec\":{\"clusterIP\":\"10.96.7.7\",\"ports\":[{\"name\":\"http\",\"port\":80}]}}"
#define NEW_SLICE "{\"apiVersion\":\"discovery.k8s.io/v1\",\"kind\":\"EndpointSlice\"," \
	"\"metadata\":{\"name\":\"new1-x\",\"namespace\":\"ns1\",\"labels\":" \
	"{\"kubernetes.io/service-name\":\"new1\"}},\"addressType\":\"IPv4\",\"endpoints\":" \
	"[{\"addresses\":[\"10.244.7.7\"],\"conditions\":{\"ready\":true}}],\"ports\":" \
	"[{\"name\":\"http\",\"port\":8080,\"protocol\":\"TCP\"}]}"

static void scenario_updates(struct rig *r)
{
	struct probe p;
	long ms;
	uint32_t serial0, serial1;
	time_t t_change;

	/* Unix seconds: let the clock move past the initial serial first. */
	run(r, 1100);
	serial0 = zone_serial(r, "cluster.local");
	/* A new service: in the fast path within a few ticks. */
	CHECK_EQ(kt_http(&r->f, "POST", "/api/v1/namespaces/ns1/services", NEW_SVC), 201);
	t_change = time(NULL);
	ms = wait_fp(r, "new1.ns1.svc.cluster.local", DNS_T_A, 0, 1, 3000);
	CHECK(ms >= 0 && ms < 2000);
	printf("  new service in the fast path after %ld ms\n", ms);
	probe(r, "7.7.96.10.in-addr.arpa", DNS_T_PTR, &p);
	CHECK_EQ(p.fp_how, 1);
	/* Its endpoints. */
	CHECK_EQ(kt_http(&r->f, "POST", "/apis/discovery.k8s.io/v1/namespaces/ns1/endpointslices",
			 NEW_SLICE), 201);
	ms = wait_fp(r, "10-244-7-7.new1.ns1.svc.cluster.local", DNS_T_A, 0, 1, 3000);
	CHECK(ms >= 0 && ms < 2000);
	printf("  new endpoint in the fast path after %ld ms\n", ms);
	probe(r, "7.7.244.10.in-addr.arpa", DNS_T_PTR, &p);
	CHECK_EQ(p.fp_how, 1);
	/* A deleted service: NXDOMAIN from the zone answer, PTR gone. */
	CHECK_EQ(kt_http(&r->f, "DELETE", "/api/v1/namespaces/ns1/services/web", NULL), 200);
	ms = wait_fp(r, "web.ns1.svc.cluster.local", DNS_T_A, 3, 3, 3000);
	CHECK(ms >= 0 && ms < 2000);
	printf("  deleted service NXDOMAIN in the fast path after %ld ms\n", ms);
	probe(r, "1.1.96.10.in-addr.arpa", DNS_T_PTR, &p);
	CHECK_EQ(p.rcode, 3);
	/* The serial of negative answers follows the last change (refreshed within ~1 s). */
	run(r, 2500);
	serial1 = zone_serial(r, "cluster.local");
	CHECK(serial1 >= (uint32_t)t_change);
	CHECK(serial1 > serial0);
	printf("  SOA serial %u -> %u (change at %ld)\n", serial0, serial1, (long)t_change);
	probe_all(r);
	probe_table(r);
}

/*
 * Over TCP (a client with tcp set, room for a whole message): @return the answer's
 * length; *@p an / *@p ar its counts, *@p tc its TC bit.
 */
static int ask_tcp(struct rig *r, const char *qname, uint16_t qtype, unsigned *an,
		   unsigned *ar, bool *tc)
{
	static uint8_t msg[65535];
	struct cp_client tcp = { .local_port = 53, .tcp = 1 };
	size_t len = mkquery(msg, qname, qtype);
	int n = cp_engine_answer(r->e, msg, len, sizeof(msg), &tcp);

	*an = n > DNS_HDR_LEN ? (unsigned)(msg[6] << 8 | msg[7]) : 0;
	*ar = n > DNS_HDR_LEN ? (unsigned)(msg[10] << 8 | msg[11]) : 0;
	*tc = n > DNS_HDR_LEN && (msg[2] & (DNS_F_TC >> 8));
	return n;
}

/*
 * A headless service with 200 ready endpoints: its answers do not fit a table value (64
 * records). The control plane answers them whole: over UDP when they fit the client's
 * size (A: 200 records in 3.2 KB of the 4096 asked), else TC=1; over TCP always.
 */
static void scenario_big(struct rig *r)
{
	char *slice = malloc(16384);
	size_t o;
	struct probe p;
	unsigned an, ar;
	bool tc;

	CHECK_EQ(kt_http(&r->f, "POST", "/api/v1/namespaces/ns1/services",
			 "{\"metadata\":{\"name\":\"big\",\"namespace\":\"ns1\"},\"spec\":"
			 "{\"clusterIP\":\"None\",\"ports\":[{\"name\":\"http\",\"port\":80}]}}"), 201);
	o = (size_t)snprintf(slice, 16384, "{\"metadata\":{\"name\":\"big-1\",\"namespace\":\"ns1\","
			     "\"labels\":{\"kubernetes.io/service-name\":\"big\"}},\"addressType\":"
			     "\"IPv4\",\"ports\":[{\"name\":\"http\",\"port\":80,\"protocol\":\"TCP\"}],"
			     "\"endpoints\":[");
	for (int i = 1; i <= 200; i++)
		o += (size_t)snprintf(slice + o, 16384 - o, "%s{\"addresses\":[\"10.244.50.%d\"]}",
				      i > 1 ? "," : "", i);
	snprintf(slice + o, 16384 - o, "]}");
	CHECK_EQ(kt_http(&r->f, "POST", "/apis/discovery.k8s.io/v1/namespaces/ns1/endpointslices",
			 slice), 201);
	free(slice);
	run(r, 1500);
	probe(r, "big.ns1.svc.cluster.local", DNS_T_A, &p);
	CHECK_EQ(p.fp_how, 0);
	CHECK_EQ(p.rcode, 0);
	CHECK_EQ(p.ancount, 200);
	CHECK(!(p.cp[2] & (DNS_F_TC >> 8)));
	/* SRV with an address per target in additional: over 4096 bytes, TC=1 over UDP */
	probe(r, "_http._tcp.big.ns1.svc.cluster.local", DNS_T_SRV, &p);
	CHECK_EQ(p.fp_how, 0);
	CHECK((p.cp[2] & (DNS_F_TC >> 8)) && p.ancount == 0);
	CHECK(ask_tcp(r, "_http._tcp.big.ns1.svc.cluster.local", DNS_T_SRV, &an, &ar, &tc) > 4096);
	CHECK(an == 200 && ar == 201 && !tc); /* 200 A records and the OPT */
	CHECK(ask_tcp(r, "big.ns1.svc.cluster.local", DNS_T_A, &an, &ar, &tc) > 0);
	CHECK(an == 200 && !tc);
	probe(r, "10-244-50-7.big.ns1.svc.cluster.local", DNS_T_A, &p);
	CHECK_EQ(p.ancount, 1);
#ifdef CP_HAVE_SYNC_ZONE
	CHECK(zone_has_policy(r, "cluster.local"));
	probe(r, "api.github.com.ns1.svc.cluster.local", DNS_T_A, &p);
	CHECK_EQ(p.fp_how, 3);
#else
	/* Without plugin zones in the engine such a name takes cluster.local's answer away. */
	CHECK(!zone_has_policy(r, "cluster.local"));
#endif
	probe_table(r);
	CHECK_EQ(kt_http(&r->f, "DELETE", "/api/v1/namespaces/ns1/services/big", NULL), 200);
	CHECK_EQ(kt_http(&r->f, "DELETE", "/apis/discovery.k8s.io/v1/namespaces/ns1/endpointslices/big-1",
			 NULL), 200);
	run(r, 1500);
	CHECK(zone_has_policy(r, "cluster.local"));
}

/* A reload with the same kubernetes configuration shares the synced store: the new
 * engine is ready at once (no relist), and keeps receiving changes after the old one
 * is gone. */
static void scenario_reload(struct rig *r)
{
	char err[512];
	struct cp_engine *old = r->e;
	struct probe p;
	long ms;

	r->e = load(r, corefile_a, err, sizeof(err));
	CHECK(r->e != NULL);
	if (r->e == NULL) {
		r->e = old;
		return;
	}
	CHECK(cp_engine_ready(r->e, err, sizeof(err)));
	cp_engine_free(old);
	full_sync(r);
	probe(r, "new1.ns1.svc.cluster.local", DNS_T_A, &p);
	CHECK_EQ(p.fp_how, 1);
	CHECK_EQ(kt_http(&r->f, "DELETE", "/api/v1/namespaces/ns1/services/new1", NULL), 200);
	ms = wait_fp(r, "new1.ns1.svc.cluster.local", DNS_T_A, 3, 3, 3000);
	CHECK(ms >= 0);
	printf("  after a reload: deletion in the fast path after %ld ms\n", ms);
}

static void scenario_a(const char *root, int *skip)
{
	struct rig r;
	char err[512];
	unsigned fp;
	struct probe p;
	int rc = rig_start(&r, root, NULL);

	if (rc != 0) {
		*skip |= rc == 77;
		CHECK(rc == 77);
		rig_stop(&r);
		return;
	}
#ifndef CP_HAVE_SYNC_ZONE
	/* An out-of-zone ExternalName needs the chain (forward): without zones offered by
	 * plugins the engine takes the zone answer away for it; start without one. */
	CHECK_EQ(kt_http(&r.f, "DELETE", "/api/v1/namespaces/ns2/services/ext", NULL), 200);
#endif
	r.e = load(&r, corefile_a, err, sizeof(err));
	CHECK(r.e != NULL);
	if (r.e == NULL) {
		fprintf(stderr, "load: %s\n", err);
		rig_stop(&r);
		return;
	}
	full_sync(&r);
	CHECK(!cp_engine_ready(r.e, err, sizeof(err)));
	CHECK_STR(err, "kubernetes");
	CHECK(run_until_ready(&r));
	/* Every probe agrees; most are answered by the fast path. */
	fp = probe_all(&r);
	printf("  %u of the probes answered by the fast path\n", fp);
	printf("  %u table names probed\n", probe_table(&r));
	CHECK(fp > 300);
	CHECK(zone_has_policy(&r, "cluster.local"));
	CHECK(zone_has_policy(&r, "in-addr.arpa"));
	probe(&r, "web.ns1.svc.cluster.local", DNS_T_A, &p);
	CHECK_EQ(p.fp_how, 1);
	CHECK_EQ(p.ancount, 1);
	probe(&r, "api.github.com.ns1.svc.cluster.local", DNS_T_A, &p);
	CHECK_EQ(p.fp_how, 3); /* the search-path miss never leaves the fast path */
	CHECK_EQ(p.rcode, 3);
	probe(&r, "ns1.svc.cluster.local", DNS_T_AAAA, &p);
	CHECK_EQ(p.fp_how, 2);
	CHECK_EQ(p.rcode, 0);
	probe(&r, "9.9.9.9.in-addr.arpa", DNS_T_PTR, &p);
	CHECK_EQ(p.fp_how, 3);
	CHECK_EQ(p.rcode, 3);
	probe(&r, "cluster.local", DNS_T_AXFR, &p);
	CHECK_EQ(p.rcode, 5);
	scenario_updates(&r);
	scenario_big(&r);
	scenario_reload(&r);
	rig_stop(&r);
}

static const char corefile_b[] =
	".:53 {\n"
	"    kubernetes cluster.local in-addr.arpa ip6.arpa {\n"
	"        kubeconfig kubeconfig dpdns\n"
	"        pods insecure\n"
	"        fallthrough in-addr.arpa ip6.arpa\n"
	"        ttl 30\n"
	"    }\n"
	"}\n";

static const char kubeconfig_yaml[] =
	"apiVersion: v1\n"
	"kind: Config\n"
	"clusters:\n"
	"- cluster:\n"
	"    server: %s\n"
	"  name: fake\n"
	"contexts:\n"
	"- context:\n"
	"    cluster: fake\n"
	"    user: tester # a comment\n"
	"  name: dpdns\n"
	"- context:\n"
	"    cluster: other\n"
	"    user: nobody\n"
	"  name: unused\n"
	"current-context: unused\n"
	"users:\n"
	"- name: tester\n"
	"  user:\n"
	"    token: \"h7-engine-token\"\n"
	"preferences: {}\n";

static void scenario_b(const char *root, int *skip)
{
	struct rig r;
	char err[512], kc[2048];
	struct probe p;
	int rc = rig_start(&r, root, "h7-engine-token");

	if (rc != 0) {
		*skip |= rc == 77;
		CHECK(rc == 77);
		rig_stop(&r);
		return;
	}
	snprintf(kc, sizeof(kc), kubeconfig_yaml, r.f.base);
	write_file(&r, "kubeconfig", kc);
	r.e = load(&r, corefile_b, err, sizeof(err));
	CHECK(r.e != NULL);
	if (r.e == NULL) {
		fprintf(stderr, "load: %s\n", err);
		rig_stop(&r);
		return;
	}
	full_sync(&r);
	CHECK(run_until_ready(&r)); /* the token of the kubeconfig's user was accepted */
	probe_all(&r);
	probe(&r, "10-244-1-10.ns1.pod.cluster.local", DNS_T_A, &p);
	CHECK_EQ(p.rcode, 0);
	CHECK_EQ(p.ancount, 1);
	CHECK_EQ(p.fp_how, 0); /* pod names: the control plane */
	probe(&r, "9.9.9.9.in-addr.arpa", DNS_T_PTR, &p);
	CHECK_EQ(p.rcode, 2); /* fallthrough to the end of the chain */
	probe(&r, "ext.ns2.svc.cluster.local", DNS_T_CNAME, &p);
	CHECK_EQ(p.fp_how, 1);
	probe(&r, "ext.ns2.svc.cluster.local", DNS_T_A, &p);
	CHECK_EQ(p.fp_how, 0); /* the target's records come from the chain */
	CHECK_EQ(p.ancount, 1);
#ifdef CP_HAVE_SYNC_ZONE
	/* The default Corefile shape (`.:53`, pods insecure, an ExternalName) still answers
	 * search-path misses in the fast path. */
	CHECK(zone_has_policy(&r, "cluster.local"));
	CHECK(!zone_has_policy(&r, "pod.cluster.local"));
	probe(&r, "api.github.com.ns1.svc.cluster.local", DNS_T_AAAA, &p);
	CHECK_EQ(p.fp_how, 3);
	CHECK_EQ(p.rcode, 3);
	probe(&r, "1-2-3-4.ns1.pod.cluster.local", DNS_T_A, &p);
	CHECK_EQ(p.fp_how, 0);
	CHECK_EQ(p.ancount, 1);
#endif
	rig_stop(&r);
}

/* A CA, a server certificate for 127.0.0.1 and a client certificate, with openssl(1). */
static int make_certs(const char *dir)
{
	char cmd[4096];

	snprintf(cmd, sizeof(cmd),
		 "cd %s && exec >/dev/null 2>&1 && "
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		 "-keyout ca.key -out ca.crt -days 2 -subj /CN=h7-test-ca && "
		 "printf 'subjectAltName=IP:127.0.0.1\n' > san.ext && "
		 "for n in srv client; do "
		 "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		 "-keyout $n.key -out $n.csr -subj /CN=h7-$n && "
		 "openssl x509 -req -in $n.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
		 "-out $n.crt -days 2 -extfile san.ext || exit 1; done", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char corefile_tls[] =
	"cluster.local:53 {\n"
	"    kubernetes cluster.local {\n"
	"        endpoint %s\n"
	"        tls client.crt client.key %s\n"
	"    }\n"
	"}\n";

/* HTTPS with the server verified against the CA and the client authenticated by its
 * certificate (the server also wants a token nobody sends). */
static void scenario_tls(const char *root, int *skip)
{
	struct rig r;
	char err[512], text[1024], arg[3][256];
	const char *extra[7];
	struct probe p;
	int rc;

	memset(&r, 0, sizeof(r));
	snprintf(r.dir, sizeof(r.dir), "/tmp/h7-k8st-XXXXXX");
	if (mkdtemp(r.dir) == NULL)
		return;
	k8s_hmap_init(&r.ms.m);
	r.sink = (struct cp_sink){ m_put, m_del, m_zones, &r.ms };
	if (make_certs(r.dir) != 0) {
		*skip = 1;
		goto out;
	}
	snprintf(arg[0], sizeof(arg[0]), "%s/srv.crt", r.dir);
	snprintf(arg[1], sizeof(arg[1]), "%s/srv.key", r.dir);
	snprintf(arg[2], sizeof(arg[2]), "%s/ca.crt", r.dir);
	extra[0] = "--tls-cert";
	extra[1] = arg[0];
	extra[2] = "--tls-key";
	extra[3] = arg[1];
	extra[4] = "--client-ca";
	extra[5] = arg[2];
	extra[6] = NULL;
	rc = kt_fake_start_args(&r.f, root, "basic.json", "nobody-has-this", "http", extra, true);
	if (rc != 0) {
		*skip |= rc == 77;
		CHECK(rc == 77);
		goto out;
	}
	snprintf(text, sizeof(text), corefile_tls, r.f.base, "ca.crt");
	r.e = cp_engine_load(write_file(&r, "Corefile", text), err, sizeof(err));
	CHECK(r.e != NULL);
	if (r.e == NULL) {
		fprintf(stderr, "load: %s\n", err);
		goto out;
	}
	full_sync(&r);
	CHECK(run_until_ready(&r));
	probe(&r, "web.ns1.svc.cluster.local", DNS_T_A, &p);
	CHECK_EQ(p.ancount, 1);
	CHECK_EQ(p.fp_how, 1);
	rig_engine_free(&r);
	/* A CA that did not sign the server's certificate: never synced. */
	snprintf(text, sizeof(text), corefile_tls, r.f.base, "client.crt");
	r.e = cp_engine_load(write_file(&r, "Corefile", text), err, sizeof(err));
	CHECK(r.e != NULL);
	if (r.e != NULL) {
		full_sync(&r);
		run(&r, 1500);
		CHECK(!cp_engine_ready(r.e, err, sizeof(err)));
		probe(&r, "nope.ns1.svc.cluster.local", DNS_T_A, &p);
		CHECK_EQ(p.rcode, 2); /* would-be NXDOMAIN before the first sync */
	}
out:
	rig_engine_free(&r);
	kt_fake_stop(&r.f);
	snprintf(text, sizeof(text), "rm -f %s/*.crt %s/*.key %s/*.csr %s/*.srl %s/san.ext %s/Corefile",
		 r.dir, r.dir, r.dir, r.dir, r.dir, r.dir);
	rc = system(text);
	(void)rc;
	rmdir(r.dir);
}

/* The demo cluster (examples/k8s/demo-cluster.json) with the default Corefile's shape. */
static void scenario_demo(const char *root, int *skip)
{
	static const char corefile[] =
		".:53 {\n"
		"    kubernetes cluster.local in-addr.arpa ip6.arpa {\n"
		"        endpoint %s\n"
		"        pods insecure\n"
		"        fallthrough in-addr.arpa ip6.arpa\n"
		"        ttl 30\n"
		"    }\n"
		"}\n";
	struct rig r;
	char err[512], path[1024];
	struct probe p;
	int rc;

	memset(&r, 0, sizeof(r));
	snprintf(r.dir, sizeof(r.dir), "/tmp/h7-k8sd-XXXXXX");
	if (mkdtemp(r.dir) == NULL)
		return;
	k8s_hmap_init(&r.ms.m);
	r.sink = (struct cp_sink){ m_put, m_del, m_zones, &r.ms };
	snprintf(path, sizeof(path), "%s/examples/k8s/demo-cluster.json", root);
	rc = access(path, R_OK) == 0 ? kt_fake_start(&r.f, root, path, NULL, "http") : 77;
	if (rc != 0) {
		*skip |= rc == 77;
		rig_stop(&r);
		return;
	}
	r.e = load(&r, corefile, err, sizeof(err));
	CHECK(r.e != NULL);
	if (r.e == NULL) {
		rig_stop(&r);
		return;
	}
	full_sync(&r);
	CHECK(run_until_ready(&r));
	printf("  demo cluster: %u table names probed\n", probe_table(&r));
	probe_all(&r);
	probe(&r, "catalog-db.shop.svc.cluster.local", DNS_T_A, &p);
	CHECK_EQ(p.fp_how, 1); /* in-zone ExternalName: CNAME + the headless target's A records */
	CHECK_EQ(p.ancount, 3);
	probe(&r, "redis.db.svc.cluster.local", DNS_T_AAAA, &p);
	CHECK_EQ(p.ancount, 1);
	probe(&r, "analytics.db.svc.cluster.local", DNS_T_A, &p);
	CHECK_EQ(p.rcode, 3); /* headless, no endpoints */
	probe(&r, "_dns._udp.kube-dns.kube-system.svc.cluster.local", DNS_T_SRV, &p);
	CHECK_EQ(p.ancount, 1);
	rig_stop(&r);
}

/* ------------------------------------------------------------------------- */
/* Startup: held until the initial sync or startup_timeout; SOA serial timer;  */
/* DNS programming latency                                                     */

struct held_resp {
	int calls;
	int rcode;
	unsigned an;
	size_t len;
};

static void held_done(void *req, const uint8_t *resp, size_t len)
{
	struct held_resp *h = req;

	h->calls++;
	h->len = len;
	h->rcode = resp != NULL && len > 3 ? resp[3] & 0x0f : -1;
	h->an = resp != NULL && len > 7 ? (unsigned)(resp[6] << 8 | resp[7]) : 0;
}

/* Ask as a runtime that can wait. @return what cp_engine_answer() returned */
static int ask_wait(struct rig *r, const char *qname, uint16_t qtype, struct held_resp *h)
{
	uint8_t msg[4096];
	size_t len = mkquery(msg, qname, qtype);
	struct cp_client c = { .done = held_done, .req = h };
	int n;

	memset(h, 0, sizeof(*h));
	n = cp_engine_answer(r->e, msg, len, sizeof(msg), &c);
	if (n > 0)
		held_done(h, msg, (size_t)n);
	return n;
}

/* Tick until @p h was answered, at most @p max_ms. */
static void run_until_done(struct rig *r, const struct held_resp *h, unsigned max_ms)
{
	uint64_t until = kt_ms() + max_ms;

	while (h->calls == 0 && kt_ms() < until)
		run(r, 5);
}

static const char corefile_hold[] =
	"cluster.local:53 {\n"
	"    kubernetes cluster.local {\n"
	"        endpoint %s\n"
	"        startup_timeout 20s\n"
	"    }\n"
	"}\n";

/* A headless service's new slice, stamped by "the endpoint controller" 2 s ago. */
static void post_stamped_slice(struct rig *r)
{
	char body[1024], stamp[64];
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec -= 2;
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(body, sizeof(body),
		 "{\"apiVersion\":\"discovery.k8s.io/v1\",\"kind\":\"EndpointSlice\",\"metadata\":"
		 "{\"name\":\"db-late\",\"namespace\":\"ns1\",\"labels\":{\"kubernetes.io/service-name\":"
		 "\"db\"},\"annotations\":{\"endpoints.kubernetes.io/last-change-trigger-time\":"
		 "\"%s.%06ldZ\"}},\"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":"
		 "[\"10.244.1.77\"],\"hostname\":\"db-late\"}],\"ports\":[{\"name\":\"pg\","
		 "\"port\":5432,\"protocol\":\"TCP\"}]}", stamp, ts.tv_nsec / 1000);
	CHECK_EQ(kt_http(&r->f, "POST", "/apis/discovery.k8s.io/v1/namespaces/ns1/endpointslices",
			 body), 201);
}

static void check_prog_metric(struct rig *r)
{
	static char buf[65536];
	static const char m[] = "coredns_kubernetes_dns_programming_duration_seconds";
	char line[256];
	size_t n;

	n = cp_engine_metrics(r->e, buf, sizeof(buf) - 1);
	buf[n] = '\0';
	snprintf(line, sizeof(line), "%s_count{service_kind=\"headless_with_selector\"} 1\n", m);
	CHECK(strstr(buf, line) != NULL);
	/* 2 s and a little: in the 2.048 s bucket, not in the 1.024 s one. */
	snprintf(line, sizeof(line), "%s_bucket{service_kind=\"headless_with_selector\","
		 "le=\"1.024\"} 0\n", m);
	CHECK(strstr(buf, line) != NULL);
	snprintf(line, sizeof(line), "%s_bucket{service_kind=\"headless_with_selector\","
		 "le=\"2.048\"} 1\n", m);
	CHECK(strstr(buf, line) != NULL);
	snprintf(line, sizeof(line), "# TYPE %s histogram\n", m);
	CHECK(strstr(buf, line) != NULL);
}

/* The API stalls the first list: questions wait for the sync, then get its answers. */
static void scenario_hold(const char *root, int *skip)
{
	struct rig r;
	char err[512];
	struct held_resp web, nope, now;
	uint8_t msg[512];
	size_t len;
	unsigned syncs;
	uint64_t t_sync;
	int rc = rig_start(&r, root, NULL);

	if (rc != 0) {
		*skip |= rc == 77;
		CHECK(rc == 77);
		rig_stop(&r);
		return;
	}
	CHECK_EQ(kt_http(&r.f, "POST", "/fake/fault", "{\"action\":\"stall\",\"seconds\":1.5}"), 200);
	r.e = load(&r, corefile_hold, err, sizeof(err));
	CHECK(r.e != NULL);
	if (r.e == NULL) {
		rig_stop(&r);
		return;
	}
	full_sync(&r);
	CHECK_EQ(ask_wait(&r, "web.ns1.svc.cluster.local", DNS_T_A, &web), CP_ANSWER_DEFERRED);
	CHECK_EQ(ask_wait(&r, "nope.ns1.svc.cluster.local", DNS_T_A, &nope), CP_ANSWER_DEFERRED);
	/* A runtime that cannot wait gets the before-sync answer at once: SERVFAIL. */
	len = mkquery(msg, "web.ns1.svc.cluster.local", DNS_T_A);
	CHECK(cp_engine_answer(r.e, msg, len, sizeof(msg), NULL) > 0);
	CHECK_EQ(msg[3] & 0x0f, DNS_RCODE_SERVFAIL);
	run(&r, 200);
	CHECK_EQ(web.calls, 0);
	CHECK(run_until_ready(&r));
	run_until_done(&r, &nope, 1000);
	CHECK_EQ(web.calls, 1);
	CHECK_EQ(web.rcode, DNS_RCODE_NOERROR);
	CHECK_EQ(web.an, 1);
	CHECK_EQ(nope.calls, 1);
	CHECK_EQ(nope.rcode, DNS_RCODE_NXDOMAIN);
	CHECK(ask_wait(&r, "nope.ns1.svc.cluster.local", DNS_T_A, &now) > 0);
	CHECK_EQ(now.rcode, DNS_RCODE_NXDOMAIN);

	/* The first change after a full sync goes in name by name: the serial refresh (a
	 * full sync) waits for its gap (1 s here) after that sync instead of starting at
	 * once. The change must fall in a new unix second (the serial's unit) early in the
	 * gap: a full sync late in a second, the change just after it. */
	{
		struct timespec ts;
		time_t sec;

		do {
			usleep(1000);
			clock_gettime(CLOCK_REALTIME, &ts);
		} while (ts.tv_nsec < 750000000);
		full_sync(&r);
		t_sync = kt_ms();
		for (sec = ts.tv_sec; time(NULL) == sec;)
			usleep(1000);
	}
	syncs = r.syncs;
	CHECK_EQ(kt_http(&r.f, "POST", "/api/v1/namespaces/ns1/services", NEW_SVC), 201);
	CHECK(wait_fp(&r, "new1.ns1.svc.cluster.local", DNS_T_A, 0, 1, 3000) >= 0);
	if (kt_ms() - t_sync < 1000)
		CHECK_EQ(r.syncs, syncs);
	else
		printf("  (machine too slow to tell a refresh from the last sync: not checked)\n");
	/* The new endpoint of a headless service counts in the programming latency. */
	post_stamped_slice(&r);
	CHECK(wait_fp(&r, "db-late.db.ns1.svc.cluster.local", DNS_T_A, 0, 1, 3000) >= 0);
	check_prog_metric(&r);
	rig_stop(&r);
}

/* The API is down: held questions get SERVFAIL once startup_timeout has passed. */
static void scenario_down(void)
{
	struct rig r;
	char err[512];
	struct held_resp h, late;
	uint64_t t0;

	memset(&r, 0, sizeof(r));
	k8s_hmap_init(&r.ms.m);
	r.sink = (struct cp_sink){ m_put, m_del, m_zones, &r.ms };
	snprintf(r.dir, sizeof(r.dir), "/tmp/h7-k8sd-XXXXXX");
	if (mkdtemp(r.dir) == NULL)
		return;
	snprintf(r.f.base, sizeof(r.f.base), "http://127.0.0.1:1");
	r.e = load(&r, ".:53 {\n kubernetes cluster.local {\n  endpoint %s\n"
		   "  startup_timeout 1s\n }\n}\n", err, sizeof(err));
	CHECK(r.e != NULL);
	if (r.e == NULL) {
		rig_stop(&r);
		return;
	}
	full_sync(&r);
	t0 = kt_ms();
	CHECK_EQ(ask_wait(&r, "web.ns1.svc.cluster.local", DNS_T_A, &h), CP_ANSWER_DEFERRED);
	run_until_done(&r, &h, 5000);
	CHECK_EQ(h.calls, 1);
	CHECK_EQ(h.rcode, DNS_RCODE_SERVFAIL);
	CHECK(kt_ms() - t0 >= 500); /* held, not answered on the spot */
	/* Past the timeout nothing waits. */
	CHECK(ask_wait(&r, "web.ns1.svc.cluster.local", DNS_T_A, &late) > 0);
	CHECK_EQ(late.rcode, DNS_RCODE_SERVFAIL);
	CHECK(!cp_engine_ready(r.e, err, sizeof(err)));
	rig_engine_free(&r);
	/* An engine freed (reload, exit) with questions held: "send nothing" for each. */
	r.e = load(&r, ".:53 {\n kubernetes cluster.local {\n  endpoint %s\n"
		   "  startup_timeout 30s\n }\n}\n", err, sizeof(err));
	CHECK(r.e != NULL);
	if (r.e != NULL) {
		full_sync(&r);
		CHECK_EQ(ask_wait(&r, "web.ns1.svc.cluster.local", DNS_T_A, &h), CP_ANSWER_DEFERRED);
		rig_engine_free(&r);
		CHECK_EQ(h.calls, 1);
		CHECK_EQ(h.len, 0);
	}
	rig_stop(&r);
}

static void expect_error(struct rig *r, const char *corefile, const char *needle)
{
	char err[512] = "";
	struct cp_engine *e = load(r, corefile, err, sizeof(err));

	CHECK(e == NULL);
	cp_engine_free(e);
	CHECK_MSG(strstr(err, needle) != NULL && strstr(err, "Corefile:") != NULL,
		  "error \"%s\" lacks \"%s\" or the file name", err, needle);
}

static void scenario_errors(void)
{
	struct rig r;

	memset(&r, 0, sizeof(r));
	snprintf(r.dir, sizeof(r.dir), "/tmp/h7-k8sc-XXXXXX");
	if (mkdtemp(r.dir) == NULL)
		return;
	snprintf(r.f.base, sizeof(r.f.base), "http://127.0.0.1:1");
	expect_error(&r, ".:53 {\n kubernetes {\n  endpoint %s\n  bogus 1\n }\n}\n",
		     ":4: kubernetes: unknown property 'bogus'");
	expect_error(&r, ".:53 {\n kubernetes {\n  endpoint %s\n  ttl 3601\n }\n}\n",
		     ":4: kubernetes: ttl must be in range [0, 3600]: 3601");
	expect_error(&r, ".:53 {\n kubernetes {\n  endpoint %s\n  pods maybe\n }\n}\n",
		     ":4: kubernetes: invalid value for pods");
	expect_error(&r, ".:53 {\n kubernetes {\n  endpoint %s\n  ignore nothing\n }\n}\n",
		     ":4: kubernetes: unable to parse ignore value");
	expect_error(&r, ".:53 {\n kubernetes {\n  endpoint %s\n  labels a in (b\n }\n}\n",
		     ":4: kubernetes: invalid label selector");
	expect_error(&r, ".:53 {\n kubernetes {\n  kubeconfig /nonexistent/kc\n }\n}\n",
		     "kubeconfig /nonexistent/kc");
	expect_error(&r, ".:53 {\n kubernetes {\n  endpoint %s\n  startup_timeout soon\n }\n}\n",
		     "invalid startup_timeout");
	rig_stop(&r);
}

int main(int argc, char **argv)
{
	int skip = 0;

	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	unsetenv("KUBERNETES_SERVICE_HOST");
	scenario_errors();
	scenario_down();
	if (argc > 1) {
		scenario_hold(argv[1], &skip);
		scenario_a(argv[1], &skip);
		scenario_b(argv[1], &skip);
		scenario_tls(argv[1], &skip);
		scenario_demo(argv[1], &skip);
	} else {
		skip = 1;
	}
	curl_global_cleanup();
	if (check_failures == 0 && skip) {
		printf("test_k8s_engine: %d checks passed; fake API server scenarios skipped\n",
		       check_count);
		return 77;
	}
	return check_summary("test_k8s_engine");
}
