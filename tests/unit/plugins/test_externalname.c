/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - ExternalName services whose target lies outside the cluster zones: the
 * kubernetes plugin answers the CNAME and the target is looked up through the server
 * (here: forward to nsd serving example.test), the answer is the CNAME first, then the
 * target's records with their own TTLs. CoreDNS v1.14 keeps the CNAME and NOERROR/AA
 * whatever the target's lookup gives (plugin.A appends m1.Answer, an NXDOMAIN target
 * included). The names are never in the fast path's table. With loadbalance the CNAME
 * stays first. UDP and TCP clients, an answer from the cache on the second ask.
 *
 * Usage: test_externalname SOURCE_ROOT. Exits 77 without python3/fake API server or nsd.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwd_engine.h"
#include "fwd_test.h"
#include "k8s_test.h"

#define SVC_EXT(name, target) \
	"{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"" name "\"," \
	"\"namespace\":\"ns1\"},\"spec\":{\"type\":\"ExternalName\",\"externalName\":\"" \
	target "\"}}"

static const char corefile[] =
	".:53 {\n"
	"%s"
	"    kubernetes cluster.local in-addr.arpa ip6.arpa {\n"
	"        endpoint %s\n"
	"        ttl 30\n"
	"    }\n"
	"    forward . %s:%u\n"
	"}\n";

struct rig {
	struct kt_fake f;
	struct ft_nsd nsd;
	struct drv d;
};

static bool ready(struct drv *d)
{
	char buf[256];

	for (int i = 0; i < 1000; i++) {
		drv_run(d, 10);
		if (cp_engine_ready(d->e, buf, sizeof(buf)))
			return true;
	}
	return false;
}

static int load(struct rig *r, const char *extra)
{
	char text[2048];

	snprintf(text, sizeof(text), corefile, extra, r->f.base, r->nsd.addr, r->nsd.port);
	if (drv_load(&r->d, text) != 0) {
		fprintf(stderr, "load: %s\n", r->d.err);
		return -1;
	}
	if (!ready(&r->d)) {
		fprintf(stderr, "kubernetes never got ready\n");
		return -1;
	}
	cp_engine_sync(r->d.e, &r->d.sink);
	return 0;
}

/* CNAME owned by the question, its target, then @p n_target records of @p type. */
static void check_chain(const struct qres *q, const char *qname, const char *target,
			uint16_t type, unsigned n_target)
{
	char owner[300];

	CHECK_EQ(q->rcode, DNS_RCODE_NOERROR);
	CHECK(q->p.flags & DNS_F_AA);
	CHECK_EQ(q->p.an, 1 + n_target);
	if (q->p.an < 1)
		return;
	snprintf(owner, sizeof(owner), "%s.", qname);
	CHECK_EQ(q->p.rr[0].type, DNS_T_CNAME);
	CHECK(strcmp(q->p.rr[0].owner, owner) == 0);
	CHECK(strcmp(q->p.rr[0].target, target) == 0);
	CHECK_EQ(q->p.rr[0].ttl, 30);
	for (unsigned i = 1; i < q->p.an && i <= n_target; i++)
		CHECK_EQ(q->p.rr[i].type, type);
}

static void scenario(struct rig *r)
{
	static struct qres q;
	const struct dns_answer *t;
	struct qopt tcp = { .tcp = true };

	/* A and AAAA: the CNAME then the target's address, TTL 300 from the zone. */
	drv_query(&r->d, "Ext-Www.ns1.svc.cluster.local", DNS_T_A, NULL, &q);
	CHECK(q.deferred);
	check_chain(&q, "Ext-Www.ns1.svc.cluster.local", "www.example.test.", DNS_T_A, 1);
	if (q.p.an == 2) {
		CHECK(strcmp(q.p.rr[1].owner, "www.example.test.") == 0);
		CHECK_EQ(q.p.rr[1].ttl, 300);
		CHECK(q.p.rr[1].rdlen == 4 && memcmp(q.p.rr[1].rdata, "\xc0\x00\x02\x0a", 4) == 0);
	}
	drv_query(&r->d, "ext-www.ns1.svc.cluster.local", DNS_T_AAAA, NULL, &q);
	check_chain(&q, "ext-www.ns1.svc.cluster.local", "www.example.test.", DNS_T_AAAA, 1);
	/* Over TCP too. */
	drv_query(&r->d, "ext-www.ns1.svc.cluster.local", DNS_T_A, &tcp, &q);
	check_chain(&q, "ext-www.ns1.svc.cluster.local", "www.example.test.", DNS_T_A, 1);
	/* A target that is itself a CNAME upstream: the whole chain follows ours. */
	drv_query(&r->d, "ext-alias.ns1.svc.cluster.local", DNS_T_A, NULL, &q);
	CHECK_EQ(q.rcode, 0);
	CHECK_EQ(q.p.an, 3);
	if (q.p.an == 3) {
		CHECK_EQ(q.p.rr[0].type, DNS_T_CNAME);
		CHECK(strcmp(q.p.rr[0].target, "alias.example.test.") == 0);
		CHECK_EQ(q.p.rr[1].type, DNS_T_CNAME);
		CHECK(strcmp(q.p.rr[1].owner, "alias.example.test.") == 0);
		CHECK(strcmp(q.p.rr[1].target, "www.example.test.") == 0);
		CHECK_EQ(q.p.rr[2].type, DNS_T_A);
	}
	/* NXDOMAIN target: CoreDNS keeps the CNAME (NOERROR, AA, no SOA). */
	drv_query(&r->d, "ext-nx.ns1.svc.cluster.local", DNS_T_A, NULL, &q);
	check_chain(&q, "ext-nx.ns1.svc.cluster.local", "nope.example.test.", DNS_T_A, 0);
	CHECK_EQ(q.p.ns, 0);
	/* Target known, type missing (NODATA): the CNAME alone. */
	drv_query(&r->d, "ext-mail.ns1.svc.cluster.local", DNS_T_AAAA, NULL, &q);
	check_chain(&q, "ext-mail.ns1.svc.cluster.local", "mail.example.test.", DNS_T_AAAA, 0);
	/* The CNAME query itself is the plugin's alone, and static. */
	drv_query(&r->d, "ext-www.ns1.svc.cluster.local", DNS_T_CNAME, NULL, &q);
	CHECK(!q.deferred);
	CHECK_EQ(q.p.an, 1);
	/* Never in the fast path's table (the CNAME type is: it needs no lookup). */
	cp_engine_sync(r->d.e, &r->d.sink);
	t = drv_table(&r->d, "ext-www.ns1.svc.cluster.local", DNS_T_A);
	CHECK(t == NULL);
	CHECK(drv_table(&r->d, "ext-www.ns1.svc.cluster.local", DNS_T_AAAA) == NULL);
	CHECK(drv_table(&r->d, "ext-nx.ns1.svc.cluster.local", DNS_T_A) == NULL);
	CHECK(drv_table(&r->d, "ext-www.ns1.svc.cluster.local", DNS_T_CNAME) != NULL);
}

/* With cache: the second ask finds the target in the cache (answered at once). */
static void scenario_cache(struct rig *r)
{
	static struct qres q;

	drv_query(&r->d, "ext-www.ns1.svc.cluster.local", DNS_T_A, NULL, &q);
	CHECK(q.deferred);
	check_chain(&q, "ext-www.ns1.svc.cluster.local", "www.example.test.", DNS_T_A, 1);
	drv_query(&r->d, "ext-www.ns1.svc.cluster.local", DNS_T_A, NULL, &q);
	CHECK(!q.deferred);
	check_chain(&q, "ext-www.ns1.svc.cluster.local", "www.example.test.", DNS_T_A, 1);
	if (q.p.an == 2)
		CHECK(q.p.rr[1].ttl <= 30); /* the cache's cap */
	/* The name still is not in the table; the target is (the cache published it). */
	CHECK(drv_table(&r->d, "ext-www.ns1.svc.cluster.local", DNS_T_A) == NULL);
	CHECK(drv_table(&r->d, "www.example.test", DNS_T_A) != NULL);
}

int main(int argc, char **argv)
{
	static struct rig r;
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: %s SOURCE_ROOT\n", argv[0]);
		return 2;
	}
	rc = ft_nsd_start(&r.nsd, "127.0.0.1");
	if (rc != 0) {
		printf("test_externalname: nsd unavailable, skipped\n");
		return rc == 77 ? 77 : 1;
	}
	rc = kt_fake_start(&r.f, argv[1], "basic.json", NULL, "http");
	if (rc != 0) {
		ft_nsd_stop(&r.nsd);
		printf("test_externalname: fake API server unavailable\n");
		return rc == 77 ? 77 : 1;
	}
	CHECK_EQ(kt_http(&r.f, "POST", "/api/v1/namespaces/ns1/services",
			 SVC_EXT("ext-www", "www.example.test")), 201);
	CHECK_EQ(kt_http(&r.f, "POST", "/api/v1/namespaces/ns1/services",
			 SVC_EXT("ext-alias", "alias.example.test")), 201);
	CHECK_EQ(kt_http(&r.f, "POST", "/api/v1/namespaces/ns1/services",
			 SVC_EXT("ext-nx", "nope.example.test")), 201);
	CHECK_EQ(kt_http(&r.f, "POST", "/api/v1/namespaces/ns1/services",
			 SVC_EXT("ext-mail", "mail.example.test")), 201);
	if (load(&r, "") == 0)
		scenario(&r);
	drv_free(&r.d);
	if (load(&r, "    cache 30\n") == 0)
		scenario_cache(&r);
	drv_free(&r.d);
	/* With loadbalance the CNAME stays first. */
	if (load(&r, "    loadbalance\n") == 0)
		scenario(&r);
	drv_free(&r.d);
	kt_fake_stop(&r.f);
	ft_nsd_stop(&r.nsd);
	return check_summary("test_externalname");
}
