/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - the cache plugin in the engine in front of the forwarder, against nsd and fake
 * upstreams: entries published to the table (layout, expiry, capped TTLs), answers from
 * the control plane's copy, denial and SERVFAIL caching, DO/CD queries left alone,
 * keepttl, disable, serve_stale (immediate and verify), prefetch, show/flush, and the
 * directive's errors. Exits 77 (skip) when nsd is not installed.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dp_shm.h"
#include "fwd_engine.h"

static struct ft_nsd nsd;

static void corefile(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void corefile(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
}

static uint32_t min_ttl(const struct qres *r)
{
	uint32_t m = UINT32_MAX;

	for (unsigned i = 0; i < r->p.n; i++) {
		if (r->p.rr[i].type != DNS_T_OPT && r->p.rr[i].ttl < m)
			m = r->p.rr[i].ttl;
	}
	return m;
}

static bool all_ttl(const struct qres *r, uint32_t ttl)
{
	for (unsigned i = 0; i < r->p.n; i++) {
		if (r->p.rr[i].type != DNS_T_OPT && r->p.rr[i].ttl != ttl)
			return false;
	}
	return r->p.n > 0;
}

/* A value as the fast path will use it: question pointers, TTL offsets, expiry. */
static void check_value(const struct dns_answer *a, uint32_t ttl, int rcode, unsigned an,
			unsigned ns)
{
	CHECK(a != NULL);
	if (a == NULL)
		return;
	CHECK_EQ(a->flags & DNS_F_RCODE, rcode);
	CHECK(!(a->flags & DNS_F_AA));
	CHECK_EQ(a->ancount, an);
	CHECK_EQ(a->nscount, ns);
	CHECK_EQ(a->expire - a->stored, ttl);
	CHECK_EQ(a->n_ttl, a->ancount + a->nscount + a->arcount);
	CHECK(a->stored <= dp_monotonic_sec());
	if (an > 0)
		CHECK(a->rr[0] == 0xc0 && a->rr[1] == 0x0c);
	for (unsigned i = 0; i < a->n_ttl; i++) {
		const uint8_t *t = a->rr + dns_answer_ttl_offs(a)[i];

		CHECK_EQ((uint32_t)(t[0] << 24 | t[1] << 16 | t[2] << 8 | t[3]), ttl);
	}
}

static int count_cb(void *ctx, const struct cp_cache_entry *e)
{
	(*(int *)ctx)++;
	return e->ttl == 0; /* never: entries have a TTL */
}

static void test_basic(void)
{
	char cf[512];
	struct drv d;
	struct qres r;
	struct qopt dnssec = { .dnssec_ok = true }, cd = { .cd = true };
	int n = 0;
	unsigned dels;

	corefile(cf, sizeof(cf), ".:53 {\n  cache 30\n  forward . %s:%u\n}\n", nsd.addr, nsd.port);
	CHECK_EQ(drv_load(&d, cf), 0);
	CHECK_EQ(drv_query(&d, "www.example.test", DNS_T_A, NULL, &r), DNS_RCODE_NOERROR);
	CHECK(r.deferred);
	CHECK(all_ttl(&r, 30)); /* the capped TTL already on the first answer */
	check_value(drv_table(&d, "www.example.test", DNS_T_A), 30, DNS_RCODE_NOERROR, 1, 1);
	/* Second time from the control plane's copy: no upstream. */
	CHECK_EQ(drv_query(&d, "WWW.example.test", DNS_T_A, NULL, &r), DNS_RCODE_NOERROR);
	CHECK(!r.deferred);
	CHECK(min_ttl(&r) <= 30 && min_ttl(&r) >= 29);
	CHECK(strcmp(r.p.qname, "WWW.example.test.") == 0);
	CHECK(!(r.p.flags & DNS_F_AA));
	CHECK_EQ(drv_metric(&d, "coredns_cache_hits_total{server=\"dns://:53\",type=\"success\","
			    "zones=\".\",view=\"\"}"), 1);
	/* Denials: NXDOMAIN and NODATA with the SOA, capped at 30. */
	CHECK_EQ(drv_query(&d, "nx.example.test", DNS_T_A, NULL, &r), DNS_RCODE_NXDOMAIN);
	check_value(drv_table(&d, "nx.example.test", DNS_T_A), 30, DNS_RCODE_NXDOMAIN, 0, 1);
	CHECK_EQ(drv_query(&d, "www.example.test", DNS_T_TXT, NULL, &r), DNS_RCODE_NOERROR);
	check_value(drv_table(&d, "www.example.test", DNS_T_TXT), 30, DNS_RCODE_NOERROR, 0, 1);
	CHECK_EQ(drv_query(&d, "nx.example.test", DNS_T_A, NULL, &r), DNS_RCODE_NXDOMAIN);
	CHECK(!r.deferred);
	CHECK_EQ(drv_metric(&d, "coredns_cache_hits_total{server=\"dns://:53\",type=\"denial\","
			    "zones=\".\",view=\"\"}"), 1);
	/* The minimum TTL: short has 2, stored for 5. */
	CHECK_EQ(drv_query(&d, "short.example.test", DNS_T_A, NULL, &r), DNS_RCODE_NOERROR);
	check_value(drv_table(&d, "short.example.test", DNS_T_A), 5, DNS_RCODE_NOERROR, 1, 1);
	/* DO and CD queries are never cached nor answered from the cache. */
	CHECK_EQ(drv_query(&d, "mail.example.test", DNS_T_A, &dnssec, &r), DNS_RCODE_NOERROR);
	CHECK(drv_table(&d, "mail.example.test", DNS_T_A) == NULL);
	CHECK_EQ(drv_query(&d, "www.example.test", DNS_T_A, &dnssec, &r), DNS_RCODE_NOERROR);
	CHECK(r.deferred);
	CHECK_EQ(drv_query(&d, "mail.example.test", DNS_T_A, &cd, &r), DNS_RCODE_NOERROR);
	CHECK(drv_table(&d, "mail.example.test", DNS_T_A) == NULL);
	/* Show and flush. */
	CHECK_EQ(cp_engine_cache_show(d.e, NULL, count_cb, &n), 4);
	CHECK_EQ(n, 4);
	n = 0;
	CHECK_EQ(cp_engine_cache_show(d.e, "WWW.Example.Test.", count_cb, &n), 2);
	dels = d.ms.dels;
	CHECK_EQ(cp_engine_cache_flush(d.e, &d.sink, "www.example.test"), 2);
	CHECK_EQ(d.ms.dels, dels + 2);
	CHECK(drv_table(&d, "www.example.test", DNS_T_A) == NULL);
	CHECK(drv_table(&d, "nx.example.test", DNS_T_A) != NULL);
	CHECK_EQ(cp_engine_cache_flush(d.e, &d.sink, NULL), 2);
	CHECK(drv_table(&d, "nx.example.test", DNS_T_A) == NULL);
	CHECK_EQ(drv_query(&d, "www.example.test", DNS_T_A, NULL, &r), DNS_RCODE_NOERROR);
	CHECK(r.deferred);
	drv_free(&d);
}

static void test_servfail(void)
{
	char cf[512];
	struct ft_fake_srv f;
	struct drv d;
	struct qres r;
	const struct dns_answer *a;

	CHECK_EQ(ft_fake_start(&f, "127.0.0.4", FT_FAKE_SERVFAIL), 0);
	corefile(cf, sizeof(cf), ".:53 {\n  cache\n  forward . %s:%u\n}\n", f.addr, f.port);
	CHECK_EQ(drv_load(&d, cf), 0);
	CHECK_EQ(drv_query(&d, "sf.example.test", DNS_T_A, NULL, &r), DNS_RCODE_SERVFAIL);
	CHECK(r.deferred);
	a = drv_table(&d, "sf.example.test", DNS_T_A);
	CHECK(a != NULL && (a->flags & DNS_F_RCODE) == DNS_RCODE_SERVFAIL &&
	      a->expire - a->stored == 5);
	CHECK_EQ(drv_query(&d, "sf.example.test", DNS_T_A, NULL, &r), DNS_RCODE_SERVFAIL);
	CHECK(!r.deferred);
	CHECK_EQ(ft_fake_count(&f), 1);
	drv_free(&d);
	corefile(cf, sizeof(cf), ".:53 {\n  cache {\n    servfail 0\n  }\n  forward . %s:%u\n}\n",
		 f.addr, f.port);
	CHECK_EQ(drv_load(&d, cf), 0);
	CHECK_EQ(drv_query(&d, "sf.example.test", DNS_T_A, NULL, &r), DNS_RCODE_SERVFAIL);
	CHECK(drv_table(&d, "sf.example.test", DNS_T_A) == NULL);
	drv_free(&d);
	ft_fake_stop(&f);
}

static void test_keepttl_disable(void)
{
	char cf[512];
	struct drv d;
	struct qres r;
	const struct dns_answer *a;

	corefile(cf, sizeof(cf), ".:53 {\n  cache 30 {\n    keepttl\n    disable denial\n"
		 "    success 2000 20\n  }\n  forward . %s:%u\n}\n", nsd.addr, nsd.port);
	CHECK_EQ(drv_load(&d, cf), 0);
	CHECK_EQ(drv_query(&d, "www.example.test", DNS_T_A, NULL, &r), DNS_RCODE_NOERROR);
	a = drv_table(&d, "www.example.test", DNS_T_A);
	CHECK(a != NULL && a->n_ttl == 0 && a->expire - a->stored == 20);
	CHECK_EQ(drv_query(&d, "nx.example.test", DNS_T_A, NULL, &r), DNS_RCODE_NXDOMAIN);
	CHECK(drv_table(&d, "nx.example.test", DNS_T_A) == NULL);
	drv_run(&d, 1100);
	CHECK_EQ(drv_query(&d, "www.example.test", DNS_T_A, NULL, &r), DNS_RCODE_NOERROR);
	CHECK(!r.deferred);
	CHECK(all_ttl(&r, 20));
	drv_free(&d);
	/* Zones: only example.test is cached. */
	corefile(cf, sizeof(cf), ".:53 {\n  cache 30 example.test\n  forward . %s:%u\n}\n",
		 nsd.addr, nsd.port);
	CHECK_EQ(drv_load(&d, cf), 0);
	CHECK_EQ(drv_query(&d, "www.example.test", DNS_T_A, NULL, &r), DNS_RCODE_NOERROR);
	CHECK(drv_table(&d, "www.example.test", DNS_T_A) != NULL);
	CHECK_EQ(drv_query(&d, "www.other.test", DNS_T_A, NULL, &r), DNS_RCODE_REFUSED);
	CHECK(drv_table(&d, "www.other.test", DNS_T_A) == NULL);
	drv_free(&d);
}

/* Two ports: the table answers both, so a block's cache stays in the control plane. */
static void test_two_ports(void)
{
	char cf[512];
	struct drv d;
	struct qres r;

	corefile(cf, sizeof(cf), ".:53 {\n  cache 30\n  forward . %s:%u\n}\n"
		 ".:1053 {\n  forward . %s:%u\n}\n", nsd.addr, nsd.port, nsd.addr, nsd.port);
	CHECK_EQ(drv_load(&d, cf), 0);
	CHECK_EQ(drv_query(&d, "www.example.test", DNS_T_A, NULL, &r), DNS_RCODE_NOERROR);
	CHECK(drv_table(&d, "www.example.test", DNS_T_A) == NULL);
	CHECK_EQ(drv_query(&d, "www.example.test", DNS_T_A, NULL, &r), DNS_RCODE_NOERROR);
	CHECK(!r.deferred); /* from the control plane's copy */
	drv_free(&d);
}

/* Entries stored for 2 s, served stale afterwards. */
static void test_serve_stale(void)
{
	char cf[512];
	struct ft_fake_srv f;
	struct drv d;
	struct qres r;

	corefile(cf, sizeof(cf), ".:53 {\n  cache {\n    success 1024 2 1\n    serve_stale\n  }\n"
		 "  forward . %s:%u\n}\n", nsd.addr, nsd.port);
	CHECK_EQ(drv_load(&d, cf), 0);
	CHECK_EQ(drv_query(&d, "www.example.test", DNS_T_A, NULL, &r), DNS_RCODE_NOERROR);
	CHECK(all_ttl(&r, 2));
	drv_run(&d, 2200);
	/* immediate: the stale entry at once with TTL 0, refreshed behind. */
	CHECK_EQ(drv_query(&d, "www.example.test", DNS_T_A, NULL, &r), DNS_RCODE_NOERROR);
	CHECK(!r.deferred);
	CHECK(all_ttl(&r, 0));
	CHECK_EQ(drv_metric(&d, "coredns_cache_served_stale_total{server=\"dns://:53\",zones=\".\","
			    "view=\"\"}"), 1);
	drv_run(&d, 300);
	CHECK_EQ(drv_query(&d, "www.example.test", DNS_T_A, NULL, &r), DNS_RCODE_NOERROR);
	CHECK(!r.deferred);
	CHECK(min_ttl(&r) >= 1); /* refreshed */
	drv_free(&d);

	/* verify: ask the upstream first; a fresh answer wins. */
	corefile(cf, sizeof(cf), ".:53 {\n  cache {\n    success 1024 2 1\n    serve_stale 1h verify\n"
		 "  }\n  forward . %s:%u\n}\n", nsd.addr, nsd.port);
	CHECK_EQ(drv_load(&d, cf), 0);
	CHECK_EQ(drv_query(&d, "www.example.test", DNS_T_A, NULL, &r), DNS_RCODE_NOERROR);
	drv_run(&d, 2200);
	CHECK_EQ(drv_query(&d, "www.example.test", DNS_T_A, NULL, &r), DNS_RCODE_NOERROR);
	CHECK(r.deferred);
	CHECK(all_ttl(&r, 2));
	drv_free(&d);

	/* The upstream goes away: stale answers (immediate at once, verify after the
	 * forwarder gave up). */
	CHECK_EQ(ft_fake_start(&f, "127.0.0.5", FT_FAKE_SLOW), 0);
	corefile(cf, sizeof(cf), ".:53 {\n  cache {\n    success 1024 2 1\n    serve_stale 1h verify\n"
		 "  }\n  forward . %s:%u\n}\n", f.addr, f.port);
	CHECK_EQ(drv_load(&d, cf), 0);
	CHECK_EQ(drv_query(&d, "stale.example.test", DNS_T_A, NULL, &r), DNS_RCODE_NOERROR);
	ft_fake_stop(&f);
	drv_run(&d, 2200);
	CHECK_EQ(drv_query(&d, "stale.example.test", DNS_T_A, NULL, &r), DNS_RCODE_NOERROR);
	CHECK(r.deferred);
	CHECK(all_ttl(&r, 0));
	CHECK(r.ms >= 400); /* refused, retried, then given up (marked down) */
	drv_free(&d);
}

struct done_count {
	unsigned calls;
	bool null_resp;
};

static void count_done(void *req, const uint8_t *resp, size_t len)
{
	struct done_count *c = req;

	c->calls++;
	c->null_resp = resp == NULL && len == 0;
}

/* A client waiting for a stale verification when the engine goes (reload, exit): the
 * orphaned job is cancelled by the forwarder, the client gets "send nothing" once. */
static void test_verify_cancel(void)
{
	char cf[512];
	struct ft_fake_srv f;
	struct drv d;
	struct qres r;
	struct done_count cnt = { 0 };
	struct cp_client c;
	struct tmsg q;
	uint8_t msg[512];

	CHECK_EQ(ft_fake_start(&f, "127.0.0.9", FT_FAKE_SLOW), 0);
	corefile(cf, sizeof(cf), ".:53 {\n  cache {\n    success 1024 2 1\n    serve_stale 1h verify\n"
		 "  }\n  forward . %s:%u\n}\n", f.addr, f.port);
	CHECK_EQ(drv_load(&d, cf), 0);
	CHECK_EQ(drv_query(&d, "verify.example.test", DNS_T_A, NULL, &r), DNS_RCODE_NOERROR);
	drv_run(&d, 2200);
	memset(&c, 0, sizeof(c));
	c.addr.ss_family = AF_INET;
	c.addr_len = sizeof(struct sockaddr_in);
	c.local_port = 53;
	c.done = count_done;
	c.req = &cnt;
	tm_query(&q, 11, "verify.example.test", DNS_T_A);
	memcpy(msg, q.b, q.len);
	CHECK_EQ(cp_engine_answer(d.e, msg, q.len, sizeof(msg), &c), CP_ANSWER_DEFERRED);
	memset(msg, 0xff, sizeof(msg));
	CHECK_EQ(cnt.calls, 0);
	drv_free(&d);
	CHECK_EQ(cnt.calls, 1);
	CHECK(cnt.null_resp);
	ft_fake_stop(&f);
}

static void test_prefetch(void)
{
	char cf[512];
	struct drv d;
	struct qres r;
	const struct dns_answer *a;
	uint32_t stored;

	corefile(cf, sizeof(cf), ".:53 {\n  cache {\n    success 1024 4 1\n    prefetch 1 1m 50%%\n"
		 "  }\n  forward . %s:%u\n}\n", nsd.addr, nsd.port);
	CHECK_EQ(drv_load(&d, cf), 0);
	CHECK_EQ(drv_query(&d, "www.example.test", DNS_T_A, NULL, &r), DNS_RCODE_NOERROR);
	a = drv_table(&d, "www.example.test", DNS_T_A);
	CHECK(a != NULL);
	if (a == NULL) {
		drv_free(&d);
		return;
	}
	/* Published to expire at the prefetch point: half of the 4 s. */
	CHECK_EQ(a->expire - a->stored, 2);
	stored = a->stored;
	drv_run(&d, 2200);
	CHECK_EQ(drv_query(&d, "www.example.test", DNS_T_A, NULL, &r), DNS_RCODE_NOERROR);
	CHECK(!r.deferred);
	drv_run(&d, 300);
	CHECK_EQ(drv_metric(&d, "coredns_cache_prefetch_total{server=\"dns://:53\",zones=\".\","
			    "view=\"\"}"), 1);
	a = drv_table(&d, "www.example.test", DNS_T_A);
	CHECK(a != NULL && a->stored > stored);
	drv_free(&d);
}

static void expect_error(const char *cf, const char *what)
{
	struct drv d;

	if (drv_load(&d, cf) == 0) {
		fprintf(stderr, "loaded, expected error '%s':\n%s", what, cf);
		CHECK(0);
		drv_free(&d);
		return;
	}
	if (strstr(d.err, what) == NULL || strstr(d.err, ":3") == NULL) {
		fprintf(stderr, "error '%s' does not name line 3 and '%s'\n", d.err, what);
		CHECK(0);
	}
	unlink(d.path);
}

static void test_config(void)
{
	expect_error(".:53 {\n  forward . 127.0.0.1\n  cache 0\n}\n", "zero");
	expect_error(".:53 {\n  cache {\n    servfail 10m\n  }\n}\n", "5 minutes");
	expect_error(".:53 {\n  cache {\n    prefetch 1 1m 5%\n  }\n}\n", "range");
	expect_error(".:53 {\n  cache {\n    prefetch 1 1m 50\n  }\n}\n", "%");
	expect_error(".:53 {\n  cache {\n    bogus\n  }\n}\n", "bogus");
	expect_error(".:53 {\n  cache {\n    serve_stale 1h sometimes\n  }\n}\n", "sometimes");
	expect_error(".:53 {\n  cache {\n    disable neither\n  }\n}\n", "disable");
	expect_error(".:53 {\n  cache {\n    success\n  }\n}\n", "success");
	expect_error(".:53 {\n  cache {\n    keepttl 1\n  }\n}\n", "keepttl");
}

int main(void)
{
	int r = ft_nsd_start(&nsd, "127.0.0.1");

	if (r == 77) {
		printf("test_cache: nsd not installed, skipped\n");
		return 77;
	}
	if (r != 0) {
		fprintf(stderr, "test_cache: cannot start nsd\n");
		return 1;
	}
	test_basic();
	test_servfail();
	test_keepttl_disable();
	test_two_ports();
	test_prefetch();
	test_serve_stale();
	test_verify_cancel();
	test_config();
	ft_nsd_stop(&nsd);
	return check_summary("test_cache");
}
