/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - the engine: answers (hosts semantics, routing, REFUSED/SERVFAIL rules), table
 * contents and zone policy from cp_engine_sync, and the fast path / control plane
 * equivalence (every answer the table gives equals what cp_engine_answer says), hosts
 * reloads and edits, readiness, metrics, the log plugin.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cp_test.h"
#include "engine_int.h"
#include "plugin.h"

static const char HOSTS[] =
	"192.0.2.1 www.example.org alias.example.org\n"
	"2001:db8::1 www.example.org\n"
	"192.0.2.2 v4only.example.org\n"
	"2001:db8::2 v6only.example.org\n"
	"192.0.2.3 outside.example.net\n";

static char dir[1024];

/* Load @p corefile with "HOSTS" replaced by the path of a hosts file holding @p hosts. */
static struct cp_engine *load(const char *corefile, const char *hosts)
{
	char text[8192], path[4096], err[512];
	const char *p, *hit;
	size_t o = 0;
	struct cp_engine *e;

	snprintf(dir, sizeof(dir), "%s", t_tmpdir());
	snprintf(path, sizeof(path), "%s/hosts", dir);
	t_write(dir, "hosts", hosts);
	for (p = corefile; (hit = strstr(p, "HOSTS")) != NULL; p = hit + 5)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%.*s%s", (int)(hit - p), p, path);
	snprintf(text + o, sizeof(text) - o, "%s", p);
	snprintf(path, sizeof(path), "%s", t_write(dir, "Corefile", text));
	e = cp_engine_load(path, err, sizeof(err));
	if (e == NULL)
		fprintf(stderr, "load failed: %s\n", err);
	CHECK(e != NULL);
	return e;
}

static const char *hosts_path(void)
{
	static char p[4200];

	snprintf(p, sizeof(p), "%s/hosts", dir);
	return p;
}

#define ASK(e, name, type, r) \
	do { \
		CHECK(t_ask(e, name, type, r) > 0); \
	} while (0)

/* ------------------------------------------------------------------------- */
/* Answers                                                                     */

static void test_answers_zone(void)
{
	struct cp_engine *e = load("example.org {\n  hosts HOSTS {\n    192.0.2.100 inline.example.org\n"
				   "    ttl 300\n  }\n}\n", HOSTS);
	struct t_resp r;

	if (e == NULL)
		return;
	ASK(e, "WwW.Example.ORG", DNS_T_A, &r);
	CHECK_EQ(r.rcode, DNS_RCODE_NOERROR);
	CHECK(r.flags & DNS_F_AA);
	CHECK(r.flags & DNS_F_QR);
	CHECK(r.flags & DNS_F_RD);      /* echoed */
	CHECK(!(r.flags & DNS_F_RA));   /* authoritative: RA=0 */
	CHECK_EQ(r.id, 0x4242);
	CHECK_EQ(r.an, 1);
	CHECK_EQ(r.ns, 0);
	CHECK(r.has_opt);
	CHECK_STR(r.qname, "WwW.Example.ORG.");
	CHECK_STR(r.rr[0].owner, "WwW.Example.ORG."); /* owner points at the question */
	CHECK_EQ(r.rr[0].ttl, 300);
	CHECK_STR(r.rr[0].data, "192.0.2.1");
	ASK(e, "www.example.org", DNS_T_AAAA, &r);
	CHECK(r.an == 1 && strcmp(r.rr[0].data, "2001:db8::1") == 0);
	/* The name exists without that type: AA NOERROR, nothing, no SOA. */
	ASK(e, "v4only.example.org", DNS_T_AAAA, &r);
	CHECK(r.rcode == DNS_RCODE_NOERROR && (r.flags & DNS_F_AA) && r.an == 0 && r.ns == 0);
	ASK(e, "v6only.example.org", DNS_T_A, &r);
	CHECK(r.rcode == DNS_RCODE_NOERROR && (r.flags & DNS_F_AA) && r.an == 0 && r.ns == 0);
	ASK(e, "www.example.org", DNS_T_MX, &r);
	CHECK(r.rcode == DNS_RCODE_NOERROR && (r.flags & DNS_F_AA) && r.an == 0);
	ASK(e, "www.example.org", DNS_T_ANY, &r);
	CHECK(r.rcode == DNS_RCODE_NOERROR && r.an == 0);
	ASK(e, "inline.example.org", DNS_T_A, &r);
	CHECK(r.an == 1 && strcmp(r.rr[0].data, "192.0.2.100") == 0);
	ASK(e, "alias.example.org", DNS_T_A, &r);
	CHECK(r.an == 1 && strcmp(r.rr[0].data, "192.0.2.1") == 0);
	/* Unknown name without fallthrough: SERVFAIL (no SOA to deny with), AA=0. */
	ASK(e, "missing.example.org", DNS_T_A, &r);
	CHECK_EQ(r.rcode, DNS_RCODE_SERVFAIL);
	CHECK(!(r.flags & DNS_F_AA));
	CHECK_EQ(r.an + r.ns + r.ar, 1); /* just the OPT */
	ASK(e, "example.org", DNS_T_SOA, &r);
	CHECK_EQ(r.rcode, DNS_RCODE_SERVFAIL);
	/* Outside every zone of the port: REFUSED. */
	ASK(e, "outside.example.net", DNS_T_A, &r);
	CHECK_EQ(r.rcode, DNS_RCODE_REFUSED);
	ASK(e, "1.2.0.192.in-addr.arpa", DNS_T_PTR, &r);
	CHECK_EQ(r.rcode, DNS_RCODE_REFUSED);
	/* A port without server blocks. */
	CHECK(t_ask_port(e, 5353, "www.example.org", DNS_T_A, &r) > 0);
	CHECK_EQ(r.rcode, DNS_RCODE_REFUSED);
	cp_engine_free(e);
}

static void test_answers_root(void)
{
	struct cp_engine *e = load(". {\n  hosts HOSTS example.org {\n    fallthrough\n  }\n}\n", HOSTS);
	struct t_resp r;

	if (e == NULL)
		return;
	ASK(e, "1.2.0.192.in-addr.arpa", DNS_T_PTR, &r);
	CHECK(r.rcode == DNS_RCODE_NOERROR && (r.flags & DNS_F_AA));
	CHECK_EQ(r.an, 2);
	CHECK_STR(r.rr[0].data, "www.example.org.");
	CHECK_STR(r.rr[1].data, "alias.example.org.");
	CHECK_EQ(r.rr[0].ttl, 3600);
	ASK(e, "1.0.2.0.0.0.0.c.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa", DNS_T_PTR, &r);
	CHECK(r.an == 2 && strcmp(r.rr[0].data, "www.example.org.") == 0);
	ASK(e, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.IP6.ARPA", DNS_T_PTR, &r);
	CHECK(r.an == 1 && strcmp(r.rr[0].data, "www.example.org.") == 0);
	/* PTR misses always go on: here the end of the chain, SERVFAIL. */
	ASK(e, "9.9.9.9.in-addr.arpa", DNS_T_PTR, &r);
	CHECK_EQ(r.rcode, DNS_RCODE_SERVFAIL);
	ASK(e, "3.2.0.192.in-addr.arpa", DNS_T_PTR, &r); /* its name is outside the hosts zones */
	CHECK_EQ(r.rcode, DNS_RCODE_SERVFAIL);
	ASK(e, "www.example.org", DNS_T_PTR, &r);
	CHECK_EQ(r.rcode, DNS_RCODE_SERVFAIL);
	ASK(e, "1.2.0.192.in-addr.arpa", DNS_T_A, &r);
	CHECK_EQ(r.rcode, DNS_RCODE_SERVFAIL);
	/* Outside the hosts zones, and fallthrough: the next plugin (none: SERVFAIL). */
	ASK(e, "outside.example.net", DNS_T_A, &r);
	CHECK_EQ(r.rcode, DNS_RCODE_SERVFAIL);
	ASK(e, "missing.example.org", DNS_T_A, &r);
	CHECK_EQ(r.rcode, DNS_RCODE_SERVFAIL);
	ASK(e, "www.example.org", DNS_T_A, &r);
	CHECK(r.rcode == DNS_RCODE_NOERROR && r.an == 1);
	cp_engine_free(e);

	e = load(". {\n  hosts HOSTS {\n    no_reverse\n  }\n}\n", HOSTS);
	if (e == NULL)
		return;
	ASK(e, "1.2.0.192.in-addr.arpa", DNS_T_PTR, &r);
	CHECK_EQ(r.rcode, DNS_RCODE_SERVFAIL);
	ASK(e, "outside.example.net", DNS_T_A, &r);
	CHECK(r.rcode == DNS_RCODE_NOERROR && r.an == 1);
	cp_engine_free(e);
}

static void test_routing(void)
{
	struct cp_engine *e = load("example.org {\n  hosts HOSTS {\n    192.0.2.50 sub.example.org\n  }\n}\n"
				   "sub.example.org {\n  errors\n}\n"
				   "example.net:1053 {\n  hosts HOSTS\n}\n"
				   "health.example {\n  health\n}\n"
				   "errors.example {\n  errors\n}\n", HOSTS);
	struct t_resp r;

	if (e == NULL)
		return;
	ASK(e, "x.sub.example.org", DNS_T_A, &r);
	CHECK_EQ(r.rcode, DNS_RCODE_SERVFAIL);      /* longest zone: the errors-only block */
	ASK(e, "sub.example.org", DNS_T_A, &r);
	CHECK_EQ(r.rcode, DNS_RCODE_SERVFAIL);
	/* DS goes to the parent-most zone, where the hosts entry is. */
	ASK(e, "sub.example.org", 43, &r);
	CHECK(r.rcode == DNS_RCODE_NOERROR && (r.flags & DNS_F_AA) && r.an == 0);
	ASK(e, "www.example.org", DNS_T_A, &r);
	CHECK_EQ(r.an, 1);
	ASK(e, "outside.example.net", DNS_T_A, &r);
	CHECK_EQ(r.rcode, DNS_RCODE_REFUSED);        /* example.net is on port 1053 only */
	CHECK(t_ask_port(e, 1053, "outside.example.net", DNS_T_A, &r) > 0);
	CHECK(r.rcode == DNS_RCODE_NOERROR && r.an == 1);
	CHECK(t_ask_port(e, 1053, "www.example.org", DNS_T_A, &r) > 0);
	CHECK_EQ(r.rcode, DNS_RCODE_REFUSED);
	/* A block without any CoreDNS handler refuses; with only errors it ends in SERVFAIL. */
	ASK(e, "health.example", DNS_T_A, &r);
	CHECK_EQ(r.rcode, DNS_RCODE_REFUSED);
	ASK(e, "a.errors.example", DNS_T_A, &r);
	CHECK_EQ(r.rcode, DNS_RCODE_SERVFAIL);
	cp_engine_free(e);
}

static int ask_raw(struct cp_engine *e, uint8_t *buf, size_t len, size_t cap, struct t_resp *r)
{
	int n = cp_engine_answer(e, buf, len, cap, NULL);

	memset(r, 0, sizeof(*r));
	if (n > 0)
		CHECK_EQ(t_decode(buf, (size_t)n, r), 0);
	return n;
}

static void test_wire_cases(void)
{
	char hosts[16384], name[300];
	size_t o = 0;
	struct cp_engine *e;
	struct t_resp r;
	uint8_t buf[65535];
	size_t len;

	for (unsigned i = 0; i < 100; i++)
		o += (size_t)snprintf(hosts + o, sizeof(hosts) - o, "192.0.2.%u many.example.org\n", i + 1);
	/* A name longer than a table key (124 wire bytes) is still answered here. */
	snprintf(name, sizeof(name), "%s.%s.%s.%s.example.org",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
		 "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc", "dddd");
	o += (size_t)snprintf(hosts + o, sizeof(hosts) - o, "192.0.2.200 %s\n", name);
	e = load("example.org {\n  hosts HOSTS\n}\n", hosts);
	if (e == NULL)
		return;
	ASK(e, name, DNS_T_A, &r);
	CHECK(r.rcode == DNS_RCODE_NOERROR && r.an == 1 && strcmp(r.rr[0].data, "192.0.2.200") == 0);

	/* 100 addresses, more than a value's 64 records: all of them when the client takes
	 * them; over its UDP size (512 without EDNS, 1232) TC=1 and no records. */
	len = t_query(buf, sizeof(buf), 7, "many.example.org", DNS_T_A, DNS_C_IN, true, 65535);
	ask_raw(e, buf, len, sizeof(buf), &r);
	CHECK(r.an == 100 && !(r.flags & DNS_F_TC) && strcmp(r.rr[79].data, "192.0.2.80") == 0);
	len = t_query(buf, sizeof(buf), 7, "many.example.org", DNS_T_A, DNS_C_IN, false, 0);
	CHECK(ask_raw(e, buf, len, sizeof(buf), &r) <= 512);
	CHECK(r.flags & DNS_F_TC);
	CHECK(r.an == 0 && r.ns == 0 && r.ar == 0 && !r.has_opt && r.qd == 1);
	len = t_query(buf, sizeof(buf), 7, "many.example.org", DNS_T_A, DNS_C_IN, true, 1232);
	CHECK(ask_raw(e, buf, len, sizeof(buf), &r) <= 1232);
	CHECK((r.flags & DNS_F_TC) && r.an == 0 && r.has_opt && r.ar == 1);
	/* Over TCP the client's UDP size does not apply (and no OPT appears without EDNS). */
	{
		struct cp_client tcp = { .local_port = 53, .tcp = 1 };
		int n;

		len = t_query(buf, sizeof(buf), 7, "many.example.org", DNS_T_A, DNS_C_IN, false, 0);
		n = cp_engine_answer(e, buf, len, sizeof(buf), &tcp);
		CHECK(n > 512);
		CHECK_EQ(t_decode(buf, (size_t)n, &r), 0);
		CHECK(!(r.flags & DNS_F_TC) && !r.has_opt && r.an == 100 && r.ar == 0);
		CHECK_EQ(n, (int)(len + 100 * 16));
		len = t_query(buf, sizeof(buf), 7, "many.example.org", DNS_T_A, DNS_C_IN, true, 512);
		n = cp_engine_answer(e, buf, len, sizeof(buf), &tcp);
		CHECK_EQ(t_decode(buf, (size_t)n, &r), 0);
		CHECK(!(r.flags & DNS_F_TC) && r.has_opt && r.an == 100 && r.ar == 1);
		len = t_query(buf, sizeof(buf), 7, "nothere.example.org", DNS_T_A, DNS_C_IN, false, 0);
		n = cp_engine_answer(e, buf, len, sizeof(buf), &tcp);
		CHECK_EQ(t_decode(buf, (size_t)n, &r), 0);
		CHECK(r.rcode == DNS_RCODE_SERVFAIL && r.ar == 0 && !r.has_opt);
	}
	/* Not IN: REFUSED. A response: dropped. Two questions: FORMERR. Opcode: NOTIMP. */
	len = t_query(buf, sizeof(buf), 7, "www.example.org", DNS_T_A, DNS_C_CH, false, 0);
	ask_raw(e, buf, len, sizeof(buf), &r);
	CHECK_EQ(r.rcode, DNS_RCODE_REFUSED);
	len = t_query(buf, sizeof(buf), 7, "www.example.org", DNS_T_A, DNS_C_IN, false, 0);
	buf[2] |= 0x80;
	CHECK_EQ(cp_engine_answer(e, buf, len, sizeof(buf), NULL), 0);
	CHECK_EQ(cp_engine_answer(e, buf, 5, sizeof(buf), NULL), 0);
	len = t_query(buf, sizeof(buf), 7, "www.example.org", DNS_T_A, DNS_C_IN, false, 0);
	buf[5] = 2;
	ask_raw(e, buf, len, sizeof(buf), &r);
	CHECK_EQ(r.rcode, DNS_RCODE_FORMERR);
	len = t_query(buf, sizeof(buf), 7, "www.example.org", DNS_T_A, DNS_C_IN, false, 0);
	buf[2] |= 0x10; /* opcode 2 */
	ask_raw(e, buf, len, sizeof(buf), &r);
	CHECK_EQ(r.rcode, DNS_RCODE_NOTIMP);
	cp_engine_free(e);
}

/* ------------------------------------------------------------------------- */
/* Table contents                                                              */

static const struct dns_answer *val(const struct t_entry *t)
{
	return t != NULL ? (const struct dns_answer *)(const void *)t->val : NULL;
}

static void test_sync_contents(void)
{
	struct cp_engine *e = load("example.org {\n  hosts HOSTS\n}\n", HOSTS);
	struct t_sink s, s2;
	const struct t_entry *t;
	char zone[300];

	if (e == NULL)
		return;
	t_sink_init(&s);
	t_sink_init(&s2);
	CHECK_EQ(cp_engine_sync(e, &s.sink), 0);
	t = t_sink_get(&s, "www.example.org", DNS_T_A);
	CHECK(t != NULL && val(t)->ancount == 1 && (val(t)->flags & DNS_F_AA) &&
	      val(t)->qname_len == 17 && val(t)->expire == 0);
	t = t_sink_get(&s, "www.example.org", DNS_T_AAAA);
	CHECK(t != NULL && val(t)->ancount == 1);
	t = t_sink_get(&s, "www.example.org", DNS_KEY_T_EXISTS);
	CHECK(t != NULL && val(t)->ancount == 0 && val(t)->flags == DNS_F_AA);
	/* PTR of a forward name goes to the next plugin (SERVFAIL here), not the NODATA marker. */
	t = t_sink_get(&s, "www.example.org", DNS_T_PTR);
	CHECK(t != NULL && (val(t)->flags & DNS_F_RCODE) == DNS_RCODE_SERVFAIL);
	CHECK(t_sink_get(&s, "www.example.org", DNS_T_MX) == NULL); /* the marker answers it */
	CHECK(t_sink_get(&s, "v4only.example.org", DNS_T_AAAA) == NULL);
	CHECK(t_sink_get(&s, "v4only.example.org", DNS_KEY_T_EXISTS) != NULL);
	CHECK(t_sink_get(&s, "outside.example.net", DNS_T_A) == NULL);
	/* Reverse names are REFUSED here (no block serves in-addr.arpa): nothing to publish. */
	CHECK(t_sink_get(&s, "1.2.0.192.in-addr.arpa", DNS_T_PTR) == NULL);
	CHECK_EQ(s.n, 4 + 3 + 3 + 3);
	/* Zones: example.org misses are SERVFAIL, everything else REFUSED. */
	CHECK_EQ(s.n_zones, 2);
	cp_name_text(s.zones[0].name, s.zones[0].name_len, zone, sizeof(zone));
	CHECK_STR(zone, "example.org.");
	CHECK(s.zones[0].flags & DP_ZONE_ANSWER_MISS);
	CHECK_EQ(s.zones[0].miss->flags, DNS_RCODE_SERVFAIL);
	CHECK_EQ(s.zones[1].name_len, 1);
	CHECK_EQ(s.zones[1].miss->flags, DNS_RCODE_REFUSED);

	/* Nothing changed: byte-identical values. */
	CHECK_EQ(cp_engine_sync(e, &s2.sink), 0);
	CHECK_EQ(s2.n, s.n);
	for (unsigned i = 0; i < s.n; i++) {
		const struct t_entry *o = NULL;

		for (unsigned k = 0; k < s2.n; k++) {
			if (memcmp(&s2.e[k].key, &s.e[i].key, sizeof(s.e[i].key)) == 0)
				o = &s2.e[k];
		}
		CHECK(o != NULL && o->size == s.e[i].size && memcmp(o->val, s.e[i].val, o->size) == 0);
	}
	t_sink_free(&s);
	t_sink_free(&s2);
	cp_engine_free(e);

	/* With the reverse zones served, PTR entries appear: v4, its ::ffff: form, v6. */
	e = load(". {\n  hosts HOSTS example.org\n}\n", HOSTS);
	if (e == NULL)
		return;
	t_sink_init(&s);
	CHECK_EQ(cp_engine_sync(e, &s.sink), 0);
	t = t_sink_get(&s, "1.2.0.192.in-addr.arpa", DNS_T_PTR);
	CHECK(t != NULL && val(t)->ancount == 2);
	CHECK(t_sink_get(&s, "1.2.0.192.in-addr.arpa", DNS_KEY_T_EXISTS) == NULL);
	CHECK(t_sink_get(&s, "1.2.0.192.in-addr.arpa", DNS_T_A) == NULL); /* zone answer */
	CHECK(t_sink_get(&s, "1.0.2.0.0.0.0.c.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa",
			 DNS_T_PTR) != NULL);
	CHECK(t_sink_get(&s, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
			 DNS_T_PTR) != NULL);
	CHECK(t_sink_get(&s, "3.2.0.192.in-addr.arpa", DNS_T_PTR) == NULL); /* not in the zones */
	CHECK_EQ(s.n_zones, 1); /* ".": SERVFAIL for every unlisted name */
	CHECK_EQ(s.zones[0].miss->flags, DNS_RCODE_SERVFAIL);
	t_sink_free(&s);
	cp_engine_free(e);
}

/* ------------------------------------------------------------------------- */
/* Equivalence: what the fast path would answer from the table == the engine   */

static const char *const extra_names[] = {
	"missing.example.org", "a.b.c.example.org", "example.org", "org", ".", "example.net",
	"outside.example.net", "x.outside.example.net", "sub.example.org", "x.sub.example.org",
	"www.example.org.example.net", "9.9.9.9.in-addr.arpa", "3.2.0.192.in-addr.arpa",
	"2.0.192.in-addr.arpa", "in-addr.arpa", "ip6.arpa", "1.2.0.192.in-addr.arpa",
	"2.2.0.192.in-addr.arpa", "100.2.0.192.in-addr.arpa", "WWW.EXAMPLE.ORG",
	"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
	"2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
	"1.0.2.0.0.0.0.c.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa",
	"f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa", "health.example", "x.errors.example",
	"www.example.org", "alias.example.org", "v4only.example.org", "v6only.example.org",
	"inline.example.org", "1.0.0.10.in-addr.arpa", "10.in-addr.arpa",
};

static const uint16_t types[] = {
	DNS_T_A, DNS_T_AAAA, DNS_T_PTR, DNS_T_MX, DNS_T_TXT, DNS_T_SOA, DNS_T_NS, DNS_T_SRV,
	DNS_T_CNAME, 43, DNS_T_ANY, 65280, 99, 65535,
};

/*
 * Every query the model fast path answers from @p s must get exactly the engine's bytes.
 * @return how many it answered.
 */
static unsigned equivalent(struct cp_engine *e, const struct t_sink *s, uint16_t port)
{
	unsigned answered = 0;

	for (size_t i = 0; i < sizeof(extra_names) / sizeof(extra_names[0]); i++) {
		for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++) {
			uint8_t q[512], a[4096], b[4096];
			size_t len = t_query(q, sizeof(q), 99, extra_names[i], types[k], DNS_C_IN, true, 1232);
			struct cp_client c = { .local_port = port };
			int fa, ea;

			memcpy(a, q, len);
			memcpy(b, q, len);
			fa = t_fastpath(s, a, len, sizeof(a), NULL);
			ea = cp_engine_answer(e, b, len, sizeof(b), &c);
			if (fa == 0)
				continue;
			answered++;
			CHECK(ea > 0);
			if (fa != ea || memcmp(a, b, (size_t)fa) != 0) {
				struct t_resp ra, rb;
				char fa_s[2048], ea_s[2048];

				t_decode(a, (size_t)fa, &ra);
				t_decode(b, (size_t)ea, &rb);
				t_format(&ra, fa_s, sizeof(fa_s));
				t_format(&rb, ea_s, sizeof(ea_s));
				CHECK(fa == ea && memcmp(a, b, (size_t)fa) == 0);
				fprintf(stderr, "  %s type %u: fast path\n%s  engine\n%s", extra_names[i],
					types[k], fa_s, ea_s);
			}
		}
	}
	return answered;
}

static unsigned check_corefile(const char *corefile, const char *hosts, unsigned min_answered)
{
	struct cp_engine *e = load(corefile, hosts);
	struct t_sink s;
	unsigned n = 0;

	if (e == NULL)
		return 0;
	t_sink_init(&s);
	CHECK_EQ(cp_engine_sync(e, &s.sink), 0);
	for (unsigned p = 0; p < DP_MAX_PORTS && cp_engine_settings(e)->dns_ports[p] != 0; p++)
		n += equivalent(e, &s, cp_engine_settings(e)->dns_ports[p]);
	if (n < min_answered)
		fprintf(stderr, "  only %u answered from the table for:\n%s", n, corefile);
	CHECK(n >= min_answered);
	t_sink_free(&s);
	cp_engine_free(e);
	return n;
}

static void test_equivalence(void)
{
	const unsigned all = (unsigned)(sizeof(extra_names) / sizeof(extra_names[0]) *
					(sizeof(types) / sizeof(types[0])));

	/* hosts alone: every answer is known, so the fast path answers everything. */
	CHECK_EQ(check_corefile("example.org {\n  hosts HOSTS {\n  192.0.2.100 inline.example.org\n }\n}\n",
				HOSTS, all), all);
	CHECK_EQ(check_corefile(". {\n  hosts HOSTS example.org {\n    fallthrough\n  }\n}\n", HOSTS, all), all);
	CHECK_EQ(check_corefile(". {\n  hosts HOSTS {\n    no_reverse\n    ttl 10\n  }\n  errors\n}\n",
				HOSTS, all), all);
	check_corefile("example.org {\n  hosts HOSTS {\n    192.0.2.50 sub.example.org\n  }\n}\n"
		       "sub.example.org {\n  errors\n}\nexample.net:1053 {\n  hosts HOSTS\n}\n"
		       "health.example {\n  health\n}\nerrors.example {\n  errors\n}\n"
		       "10.0.0.0/8 {\n hosts HOSTS\n}\n", HOSTS, all / 2);
	/* Different data on two ports: those names must be left to the control plane. */
	check_corefile("example.org:53 {\n  hosts HOSTS\n}\nexample.org:1053 {\n  hosts {\n"
		       "   192.0.2.1 www.example.org\n  }\n}\n", HOSTS, 50);
	check_corefile("in-addr.arpa {\n  hosts HOSTS\n}\n. {\n  hosts HOSTS example.org\n}\n", HOSTS, all);
}

/* Random configurations (fixed seed): the equivalence must hold for every one. */
static const char *const rnd_zones[] = {
	".", "example.org", "sub.example.org", "example.net", "in-addr.arpa",
	"2.0.192.in-addr.arpa", "ip6.arpa", "10.0.0.0/8", "192.0.2.0/25", "health.example",
	"errors.example", "org",
};

static size_t rnd_hosts(char *out, size_t cap, unsigned *seed)
{
	size_t o = 0;
	unsigned nz = 1 + (unsigned)rand_r(seed) % 2;

	o += (size_t)snprintf(out + o, cap - o, "  hosts HOSTS");
	for (unsigned z = 0; z < nz && rand_r(seed) % 2; z++)
		o += (size_t)snprintf(out + o, cap - o, " %s",
				      rnd_zones[(unsigned)rand_r(seed) % (sizeof(rnd_zones) / sizeof(rnd_zones[0]))]);
	o += (size_t)snprintf(out + o, cap - o, " {\n");
	if (rand_r(seed) % 2)
		o += (size_t)snprintf(out + o, cap - o, "    192.0.2.7 sub.example.org\n    10.0.0.1 www.example.org\n");
	if (rand_r(seed) % 3 == 0)
		o += (size_t)snprintf(out + o, cap - o, "    no_reverse\n");
	switch (rand_r(seed) % 4) {
	case 0:
		o += (size_t)snprintf(out + o, cap - o, "    fallthrough\n");
		break;
	case 1:
		o += (size_t)snprintf(out + o, cap - o, "    fallthrough %s\n",
				      rnd_zones[(unsigned)rand_r(seed) % (sizeof(rnd_zones) / sizeof(rnd_zones[0]))]);
		break;
	default:
		break;
	}
	return o + (size_t)snprintf(out + o, cap - o, "  }\n");
}

static void rnd_corefile(char *out, size_t cap, unsigned *seed)
{
	unsigned nb = 1 + (unsigned)rand_r(seed) % 4, used[16], n_used = 0;
	size_t o = 0;

	for (unsigned b = 0; b < nb; b++) {
		unsigned zi = (unsigned)rand_r(seed) % (sizeof(rnd_zones) / sizeof(rnd_zones[0]));
		unsigned port = rand_r(seed) % 5 == 0 ? 1053 : 53, k;

		for (k = 0; k < n_used && used[k] != zi * 100000 + port; k++)
			;
		if (k < n_used)
			continue;
		used[n_used++] = zi * 100000 + port;
		o += (size_t)snprintf(out + o, cap - o, "%s:%u {\n", rnd_zones[zi], port);
		if (rand_r(seed) % 5 != 0)
			o += rnd_hosts(out + o, cap - o, seed);
		if (rand_r(seed) % 3 == 0)
			o += (size_t)snprintf(out + o, cap - o, "  errors\n");
		if (rand_r(seed) % 8 == 0)
			o += (size_t)snprintf(out + o, cap - o, "  health\n");
		o += (size_t)snprintf(out + o, cap - o, "}\n");
	}
}

static void test_random_configs(void)
{
	unsigned seed = getenv("CP_SEED") ? (unsigned)atoi(getenv("CP_SEED")) : 20261126, total = 0;
	int failures = check_failures;

	for (unsigned i = 0; i < (getenv("CP_ITER") ? (unsigned)atoi(getenv("CP_ITER")) : 150) && check_failures == failures; i++) {
		char corefile[4096];

		rnd_corefile(corefile, sizeof(corefile), &seed);
		total += check_corefile(corefile, HOSTS, 0);
		if (check_failures != failures)
			fprintf(stderr, "  with random Corefile #%u:\n%s", i, corefile);
		t_cleanup();
	}
	CHECK(total > 150 * 100);
	printf("random configurations: %u answers from the table checked\n", total);
}

static void test_port_split(void)
{
	struct cp_engine *e = load("example.org:53 {\n  hosts HOSTS\n}\nexample.org:1053 {\n  hosts {\n"
				   "   192.0.2.1 www.example.org\n  }\n}\n", HOSTS);
	struct t_sink s;

	if (e == NULL)
		return;
	t_sink_init(&s);
	CHECK_EQ(cp_engine_sync(e, &s.sink), 0);
	/* www: A equal on both ports, AAAA not; v4only differs: no entries, no zone answer. */
	CHECK(t_sink_get(&s, "www.example.org", DNS_T_A) != NULL);
	CHECK(t_sink_get(&s, "www.example.org", DNS_T_AAAA) == NULL);
	/* AAAA differs: the marker would answer it NODATA on 53, so there is none. */
	CHECK(t_sink_get(&s, "www.example.org", DNS_KEY_T_EXISTS) == NULL);
	CHECK(t_sink_get(&s, "v4only.example.org", DNS_T_A) == NULL);
	CHECK(t_sink_get(&s, "v4only.example.org", DNS_KEY_T_EXISTS) == NULL);
	for (unsigned i = 0; i < s.n_zones; i++) {
		if (s.zones[i].name_len > 1)
			CHECK(!(s.zones[i].flags & DP_ZONE_ANSWER_MISS));
	}
	t_sink_free(&s);
	cp_engine_free(e);
}

/* A table that takes no more entries: what is missing must not be answered by a zone. */
/*
 * A name with more records than a value holds is not published cut short: no entry (the
 * fast path hands it to the control plane, which answers it whole), or a whole one.
 */
static void test_big_answer_sync(void)
{
	char hosts[16384];
	size_t o = 0, len;
	struct cp_engine *e;
	const struct t_entry *t;
	const char *why = NULL;
	struct t_sink s;
	uint8_t buf[4096];
	struct t_resp r;
	int n;

	for (unsigned i = 0; i < 100; i++)
		o += (size_t)snprintf(hosts + o, sizeof(hosts) - o, "192.0.2.%u many.example.org\n",
				      i + 1);
	o += (size_t)snprintf(hosts + o, sizeof(hosts) - o, "192.0.2.200 few.example.org\n");
	e = load("example.org {\n  hosts HOSTS\n}\n", hosts);
	if (e == NULL)
		return;
	t_sink_init(&s);
	CHECK_EQ(cp_engine_sync(e, &s.sink), 0);
	t = t_sink_get(&s, "many.example.org", DNS_T_A);
	CHECK(t == NULL || (val(t)->ancount == 100 && val(t)->n_ttl == 100));
	t = t_sink_get(&s, "few.example.org", DNS_T_A);
	CHECK(t != NULL && val(t)->ancount == 1);
	len = t_query(buf, sizeof(buf), 9, "many.example.org", DNS_T_A, DNS_C_IN, true, 4096);
	n = t_fastpath(&s, buf, len, sizeof(buf), &why);
	if (n > 0) {
		CHECK_EQ(t_decode(buf, (size_t)n, &r), 0);
		CHECK(r.an == 100 || (r.flags & DNS_F_TC));
	} else {
		CHECK_STR(why, "control-plane");
	}
	/* AAAA: the name's NODATA is still the fast path's */
	len = t_query(buf, sizeof(buf), 9, "many.example.org", DNS_T_AAAA, DNS_C_IN, true, 4096);
	n = t_fastpath(&s, buf, len, sizeof(buf), &why);
	CHECK(n == 0 || (t_decode(buf, (size_t)n, &r) == 0 && r.an == 0));
	t_sink_free(&s);
	cp_engine_free(e);
}

static void test_sink_full(void)
{
	struct cp_engine *e = load("example.org {\n  hosts HOSTS\n}\n", HOSTS);
	struct t_sink s;

	if (e == NULL)
		return;
	t_sink_init(&s);
	s.fail_after = 2;
	CHECK_EQ(cp_engine_sync(e, &s.sink), -ENOSPC);
	CHECK_EQ(s.n, 2);
	CHECK(s.n_zones >= 1 && !(s.zones[0].flags & DP_ZONE_ANSWER_MISS));
	equivalent(e, &s, 53);
	t_sink_free(&s);
	cp_engine_free(e);
}

/* ------------------------------------------------------------------------- */
/* Reloads and edits                                                           */

static void replace_file(const char *path, const char *text)
{
	char tmp[4200];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "w");
	fputs(text, f);
	fclose(f);
	rename(tmp, path); /* a new inode, whatever the mtime granularity */
}

static void test_reload(void)
{
	struct cp_engine *e = load("example.org {\n  hosts HOSTS {\n    reload 1s\n  }\n}\n", HOSTS);
	struct t_sink s;
	struct t_resp r;

	if (e == NULL)
		return;
	t_sink_init(&s);
	CHECK_EQ(cp_engine_tick(e, &s.sink, 1000), 0);
	replace_file(hosts_path(), "192.0.2.99 www.example.org\n");
	CHECK_EQ(cp_engine_tick(e, &s.sink, 1500), 0);   /* not due yet */
	CHECK_EQ(cp_engine_tick(e, &s.sink, 2000), 1);   /* changed */
	ASK(e, "www.example.org", DNS_T_A, &r);
	CHECK(r.an == 1 && strcmp(r.rr[0].data, "192.0.2.99") == 0);
	ASK(e, "v4only.example.org", DNS_T_A, &r);
	CHECK_EQ(r.rcode, DNS_RCODE_SERVFAIL);
	replace_file(hosts_path(), "192.0.2.99 www.example.org\n"); /* same content */
	CHECK_EQ(cp_engine_tick(e, &s.sink, 3000), 0);
	unlink(hosts_path());                              /* gone: keep what we have */
	CHECK_EQ(cp_engine_tick(e, &s.sink, 4000), 0);
	ASK(e, "www.example.org", DNS_T_A, &r);
	CHECK(r.an == 1);
	replace_file(hosts_path(), "192.0.2.98 www.example.org\n");
	CHECK_EQ(cp_engine_tick(e, &s.sink, 5000), 1);
	t_sink_free(&s);
	cp_engine_free(e);

	e = load("example.org {\n  hosts HOSTS {\n    reload 0\n  }\n}\n", HOSTS);
	if (e == NULL)
		return;
	replace_file(hosts_path(), "192.0.2.99 www.example.org\n");
	CHECK_EQ(cp_engine_tick(e, NULL, 100000), 0);
	ASK(e, "www.example.org", DNS_T_A, &r);
	CHECK(r.an == 1 && strcmp(r.rr[0].data, "192.0.2.1") == 0);
	cp_engine_free(e);

	/* A file that appears later is read at the next check. */
	e = load("example.org {\n  hosts HOSTS.later\n}\n", HOSTS);
	if (e == NULL)
		return;
	ASK(e, "www.example.org", DNS_T_A, &r);
	CHECK_EQ(r.rcode, DNS_RCODE_SERVFAIL);
	{
		char later[4300];

		snprintf(later, sizeof(later), "%s.later", hosts_path());
		replace_file(later, HOSTS);
	}
	CHECK_EQ(cp_engine_tick(e, NULL, 10000), 1);
	ASK(e, "www.example.org", DNS_T_A, &r);
	CHECK_EQ(r.an, 1);
	cp_engine_free(e);
}

static void test_hosts_edit(void)
{
	struct cp_engine *e = load("example.org {\n  hosts HOSTS {\n    reload 0\n  }\n}\n", HOSTS);
	struct t_sink s;
	struct t_resp r;
	char err[256];

	if (e == NULL)
		return;
	t_sink_init(&s);
	CHECK_EQ(cp_engine_hosts_edit(e, 1, "New.Example.org", "192.0.2.77", err, sizeof(err)), 0);
	ASK(e, "new.example.org", DNS_T_A, &r);
	CHECK(r.an == 1 && strcmp(r.rr[0].data, "192.0.2.77") == 0);
	CHECK_EQ(cp_engine_tick(e, &s.sink, 1), 1); /* the runtime syncs */
	CHECK_EQ(cp_engine_tick(e, &s.sink, 2), 0);
	CHECK_EQ(cp_engine_sync(e, &s.sink), 0);
	CHECK(t_sink_get(&s, "new.example.org", DNS_T_A) != NULL);
	CHECK_HAS(t_read(hosts_path()), "192.0.2.77 New.Example.org\n");
	CHECK_EQ(cp_engine_hosts_edit(e, 1, "new.example.org", "192.0.2.77", err, sizeof(err)), -EEXIST);
	CHECK_EQ(cp_engine_hosts_edit(e, 1, "new.example.com", "192.0.2.77", err, sizeof(err)), -EINVAL);
	CHECK_HAS(err, "outside the zones of the hosts plugin at ");
	CHECK_EQ(cp_engine_hosts_edit(e, 1, "x.example.org", "192.0.2.300", err, sizeof(err)), -EINVAL);
	CHECK_HAS(err, "invalid address '192.0.2.300'");
	CHECK_EQ(cp_engine_hosts_edit(e, 1, "x..example.org", "192.0.2.3", err, sizeof(err)), -EINVAL);
	CHECK_HAS(err, "invalid name");
	CHECK_EQ(cp_engine_hosts_edit(e, 1, "x.example.org", NULL, err, sizeof(err)), -EINVAL);
	CHECK_EQ(cp_engine_hosts_edit(e, 1, "v6.example.org", "2001:db8::77", err, sizeof(err)), 0);
	CHECK_EQ(cp_engine_hosts_edit(e, 0, "www.example.org", "192.0.2.1", err, sizeof(err)), 0);
	ASK(e, "www.example.org", DNS_T_A, &r);
	CHECK(r.rcode == DNS_RCODE_NOERROR && r.an == 0); /* still has its AAAA */
	CHECK_EQ(cp_engine_hosts_edit(e, 0, "www.example.org", NULL, err, sizeof(err)), 0);
	ASK(e, "www.example.org", DNS_T_AAAA, &r);
	CHECK_EQ(r.rcode, DNS_RCODE_SERVFAIL);
	ASK(e, "alias.example.org", DNS_T_A, &r); /* the alias on the same line stays */
	CHECK_EQ(r.an, 1);
	CHECK_EQ(cp_engine_hosts_edit(e, 0, "www.example.org", NULL, err, sizeof(err)), -ENOENT);
	t_sink_free(&s);
	cp_engine_free(e);

	e = load("example.org {\n  hosts\n}\n", HOSTS); /* /etc/hosts by default: not edited */
	if (e == NULL)
		return;
	CHECK_EQ(cp_engine_hosts_edit(e, 1, "n.example.org", "192.0.2.1", err, sizeof(err)), -ENOENT);
	CHECK_HAS(err, "no hosts plugin with a FILE");
	cp_engine_free(e);
}

/* ------------------------------------------------------------------------- */
/* Readiness, metrics, log                                                      */

static void test_misc(void)
{
	struct cp_engine *e = load(". {\n  hosts HOSTS example.org\n  prometheus\n  errors\n}\n"
				   "example.net:1053 {\n  hosts HOSTS\n}\n", HOSTS);
	char buf[16384];
	size_t n;

	if (e == NULL)
		return;
	CHECK_EQ(cp_engine_ready(e, buf, sizeof(buf)), 1);
	CHECK_STR(buf, "");
	CHECK(cp_engine_wake_fd(e) >= 0);
	n = cp_engine_metrics(e, buf, sizeof(buf));
	CHECK(n == strlen(buf));
	/* Process-wide families are the runtime's (metrics.c): one source each. */
	CHECK(strstr(buf, "coredns_build_info") == NULL);
	CHECK_HAS(buf, "coredns_plugin_enabled{name=\"hosts\",server=\"dns://:53\",view=\"\",zone=\".\"} 1\n");
	CHECK_HAS(buf, "coredns_plugin_enabled{name=\"prometheus\",server=\"dns://:53\",view=\"\",zone=\".\"} 1\n");
	CHECK_HAS(buf, "coredns_plugin_enabled{name=\"errors\",server=\"dns://:53\",view=\"\",zone=\".\"} 1\n");
	CHECK(strstr(buf, "example.net") == NULL); /* no prometheus in that block */
	/* Block 1: www(2) alias v4only v6only + 5 reverses; block 2: outside + its reverse. */
	CHECK_HAS(buf, "coredns_hosts_entries 12\n");
	CHECK_HAS(buf, "coredns_hosts_reload_timestamp_seconds ");
	CHECK_HAS(buf, "dpdns_hosts_invalid_lines{file=\"");
	/* A tiny buffer is never overrun. */
	n = cp_engine_metrics(e, buf, 10);
	CHECK(n < 10 && buf[n] == '\0');
	cp_engine_free(e);
}

static void test_log(void)
{
	struct cp_engine *e = load("example.org {\n  hosts HOSTS\n  log . {combined}\n}\n"
				   "example.net {\n  hosts HOSTS\n  log {\n    class denial\n  }\n}\n", HOSTS);
	char path[4200];
	struct t_resp r;
	const char *out;
	int fd, saved;

	if (e == NULL)
		return;
	snprintf(path, sizeof(path), "%s/log.out", dir);
	fflush(stdout);
	saved = dup(1);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd, 1);
	close(fd);
	ASK(e, "Www.example.org", DNS_T_A, &r);
	ASK(e, "outside.example.net", DNS_T_A, &r);   /* success: not logged (denial only) */
	ASK(e, "outside.example.net", DNS_T_AAAA, &r); /* NODATA: denial, logged */
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	out = t_read(path);
	CHECK_HAS(out, "[INFO] 127.0.0.1:40000 - 16962 \"A IN www.example.org. udp 44 false 4096\" "
		       "NOERROR qr,aa,rd 60 ");
	CHECK_HAS(out, "s \"0\"\n");
	CHECK_HAS(out, "\"AAAA IN outside.example.net. udp 48 false 4096\" NOERROR qr,aa,rd");
	CHECK(strstr(out, "\"A IN outside.example.net.") == NULL);
	cp_engine_free(e);
}

/* Plugins reach the sink of a tick through plugin.h (the cache publishes its entries). */
static void test_tick_sink(void)
{
	struct cp_sink sink = { 0 };
	struct cp_tick t = { .e = NULL, .sink = &sink };

	CHECK(cp_tick_sink(&t) == &sink);
}

int main(void)
{
	test_answers_zone();
	test_answers_root();
	test_routing();
	test_wire_cases();
	test_sync_contents();
	test_equivalence();
	test_random_configs();
	test_port_split();
	test_big_answer_sync();
	test_sink_full();
	test_reload();
	test_hosts_edit();
	test_misc();
	test_log();
	test_tick_sink();
	return t_done("test_engine");
}
