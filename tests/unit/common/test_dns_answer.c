/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - unit tests: answer builder, dns_write_answer(), dns_write_rcode().
 */
#include <errno.h>
#include <sys/socket.h>

#include "test_util.h"

#define CANARY 0xa5

static union {
	struct dns_answer a;
	uint8_t raw[sizeof(struct dns_answer) + DNS_BUILD_MAX + 2 * DNS_ANS_MAX_TTL + 64];
} val_mem;

/* Build the usual A answer for @p name. @return the value (static storage). */
static const struct dns_answer *build_a(const char *name, int n_addrs, uint32_t ttl)
{
	struct dns_builder b;
	struct dns_key k;
	int r;

	CHECK_EQ(dns_key_from_str(&k, name, DNS_T_A), 0);
	dns_builder_init(&b, &k, DNS_F_AA);
	for (int i = 0; i < n_addrs; i++) {
		uint8_t addr[4] = { 10, 96, (uint8_t)(i >> 8), (uint8_t)i };

		CHECK_EQ(dns_builder_add_addr(&b, DNS_SEC_ANSWER, DNS_OWNER_QNAME, ttl, addr, AF_INET), 0);
	}
	r = dns_builder_finish(&b, &val_mem.a, sizeof(val_mem));
	CHECK(r > 0);
	return &val_mem.a;
}

static void test_builder_layout(void)
{
	struct dns_builder b;
	struct dns_key k;
	const struct dns_answer *a = &val_mem.a;
	const uint16_t *offs;
	uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	int r;

	CHECK_EQ(dns_key_from_str(&k, "Svc.NS.svc.cluster.local", DNS_T_SRV), 0);
	dns_builder_init(&b, &k, DNS_F_AA | DNS_RCODE_NOERROR);
	CHECK_EQ(dns_builder_add_srv(&b, DNS_SEC_ANSWER, DNS_OWNER_QNAME, 30, 0, 100, 8080,
				     "Pod.svc.ns.svc.cluster.local."), 0);
	CHECK_EQ(dns_builder_add_addr(&b, DNS_SEC_ADDITIONAL, "pod.SVC.ns.svc.cluster.local",
				      30, v6, AF_INET6), 0);
	/* sections must come in order */
	CHECK_EQ(dns_builder_add_name(&b, DNS_SEC_ANSWER, NULL, DNS_T_CNAME, 5, "x."), -EINVAL);
	CHECK_EQ(b.err, -EINVAL);
	CHECK_EQ(dns_builder_finish(&b, &val_mem.a, sizeof(val_mem)), -EINVAL);

	dns_builder_init(&b, &k, DNS_F_AA);
	CHECK_EQ(dns_builder_add_srv(&b, DNS_SEC_ANSWER, DNS_OWNER_QNAME, 30, 0, 100, 8080,
				     "Pod.svc.ns.svc.cluster.local."), 0);
	CHECK_EQ(dns_builder_add_addr(&b, DNS_SEC_ADDITIONAL, "pod.SVC.ns.svc.cluster.local",
				      30, v6, AF_INET6), 0);
	/* odd rr_len so the TTL offsets need the pad byte */
	CHECK_EQ(dns_builder_add_txt(&b, DNS_SEC_ADDITIONAL, "t", 7, "abc"), 0);
	memset(&val_mem, 0xee, sizeof(val_mem));
	r = dns_builder_finish(&b, &val_mem.a, sizeof(val_mem));
	CHECK(r > 0);
	CHECK_EQ((size_t)r, dns_answer_size(a));
	CHECK_EQ(a->magic, DNS_ANS_MAGIC);
	CHECK_EQ(a->flags, DNS_F_AA);
	CHECK_EQ(a->ancount, 1);
	CHECK_EQ(a->nscount, 0);
	CHECK_EQ(a->arcount, 2);
	CHECK_EQ(a->qname_len, k.name_len);
	CHECK_EQ(a->n_ttl, 3);
	CHECK_EQ(a->stored, 0);
	CHECK_EQ(a->expire, 0);
	CHECK_EQ(a->reserved, 0);
	CHECK_EQ(a->rr_len % 2, 1);
	CHECK_EQ(a->rr[a->rr_len], 0); /* pad byte zeroed */
	/* SRV: c0 0c, type 33, class 1, ttl 30, rdlen 6 + name */
	CHECK_EQ(a->rr[0], 0xc0);
	CHECK_EQ(a->rr[1], 0x0c);
	CHECK(memcmp(a->rr + 2, "\0\41\0\1\0\0\0\36", 8) == 0);
	CHECK(memcmp(a->rr + 12, "\0\0\0\144\37\220\3pod\3svc\2ns\3svc\7cluster\5local\0", 36) == 0);
	offs = dns_answer_ttl_offs(a);
	CHECK_EQ(((uintptr_t)offs) % 2, 0);
	CHECK_EQ(offs[0], 6);
	for (unsigned int i = 0; i < a->n_ttl; i++)
		CHECK(offs[i] + 4u <= a->rr_len);

	/* too small output */
	CHECK_EQ(dns_builder_finish(&b, &val_mem.a, (size_t)r - 1), -ENOSPC);
	/* bad names and families */
	dns_builder_init(&b, &k, 0);
	CHECK_EQ(dns_builder_add_addr(&b, DNS_SEC_ANSWER, NULL, 1, v6, 12345), -EINVAL);
	dns_builder_init(&b, &k, 0);
	CHECK_EQ(dns_builder_add_name(&b, DNS_SEC_ANSWER, NULL, DNS_T_PTR, 1, "a..b"), -EINVAL);
	dns_builder_init(&b, &k, 0);
	CHECK_EQ(dns_builder_add_name(&b, DNS_SEC_ANSWER, "a..b", DNS_T_PTR, 1, "a"), -EINVAL);
	dns_builder_init(&b, &k, 0);
	{
		char txt[300];

		memset(txt, 'x', sizeof(txt));
		txt[256] = '\0';
		CHECK_EQ(dns_builder_add_txt(&b, DNS_SEC_ANSWER, NULL, 1, txt), -EINVAL);
		txt[255] = '\0';
		dns_builder_init(&b, &k, 0);
		CHECK_EQ(dns_builder_add_txt(&b, DNS_SEC_ANSWER, NULL, 1, txt), 0);
		CHECK_EQ(b.buf[12], 255);
	}
}

static void test_builder_limits(void)
{
	struct dns_builder b;
	struct dns_key k;
	uint8_t addr[4] = { 1, 2, 3, 4 };
	int i, r = 0;

	CHECK_EQ(dns_key_from_str(&k, "a", DNS_T_A), 0);
	dns_builder_init(&b, &k, 0);
	for (i = 0; i < DNS_ANS_MAX_TTL; i++)
		CHECK_EQ(dns_builder_add_addr(&b, DNS_SEC_ANSWER, NULL, 1, addr, AF_INET), 0);
	CHECK_EQ(dns_builder_add_addr(&b, DNS_SEC_ANSWER, NULL, 1, addr, AF_INET), -ENOSPC);
	CHECK_EQ(b.n_ttl, DNS_ANS_MAX_TTL);
	CHECK_EQ(b.count[DNS_SEC_ANSWER], DNS_ANS_MAX_TTL);

	/* byte limit: big TXT records until the 4096-byte buffer is full */
	{
		char txt[256];

		memset(txt, 'y', 255);
		txt[255] = '\0';
		dns_builder_init(&b, &k, 0);
		for (i = 0; i < 100 && r == 0; i++)
			r = dns_builder_add_txt(&b, DNS_SEC_ANSWER, NULL, 1, txt);
		CHECK_EQ(r, -ENOSPC);
		CHECK(b.len <= DNS_BUILD_MAX);
		CHECK_EQ(b.count[0], (DNS_BUILD_MAX) / (2 + 10 + 256));
		CHECK_EQ(b.count[0], b.n_ttl);
	}
}

/*
 * With spill storage the builder goes past a table value's 64 records / 4096 bytes: the
 * records move there, TTL offsets stop (the value lists none), and a response carries
 * them all up to the storage's size, past which the builder fails as before.
 */
static void test_builder_spill(void)
{
	static uint8_t spill_mem[DNS_BUILD_SPILL_MAX];
	static uint8_t big[sizeof(struct dns_answer) + DNS_BUILD_SPILL_MAX + 2];
	static uint8_t out[DNS_BUILD_SPILL_MAX];
	struct dns_answer *a = (struct dns_answer *)(void *)big;
	struct dns_builder b;
	struct dns_key k;
	struct dns_query q;
	struct msgw m;
	char txt[256];
	int i, r = 0, len;

	CHECK_EQ(dns_key_from_str(&k, "many.example.org", DNS_T_A), 0);
	dns_builder_init(&b, &k, DNS_F_AA);
	dns_builder_set_spill(&b, spill_mem, sizeof(spill_mem));
	for (i = 0; i < 200; i++) {
		uint8_t addr[4] = { 192, 0, 2, (uint8_t)i };

		CHECK_EQ(dns_builder_add_addr(&b, DNS_SEC_ANSWER, NULL, 30, addr, AF_INET), 0);
		CHECK_EQ(dns_builder_spilled(&b), i >= DNS_ANS_MAX_TTL);
	}
	CHECK_EQ(b.count[DNS_SEC_ANSWER], 200);
	CHECK_EQ(b.len, 200 * 16);
	CHECK(dns_builder_data(&b) == spill_mem);
	CHECK_EQ(dns_builder_size(&b), sizeof(struct dns_answer) + 200 * 16);
	CHECK_EQ(dns_builder_finish(&b, a, sizeof(struct dns_answer) + 200 * 16 - 1), -ENOSPC);
	CHECK_EQ(dns_builder_finish(&b, a, sizeof(big)), (int)(sizeof(struct dns_answer) + 200 * 16));
	CHECK_EQ(a->ancount, 200);
	CHECK_EQ(a->n_ttl, 0);
	CHECK_EQ(a->rr_len, 200 * 16);
	/* every record, in order, intact across the move */
	for (i = 0; i < 200; i++)
		CHECK(a->rr[i * 16 + 15] == (uint8_t)i && a->rr[i * 16] == 0xc0);

	/* the whole answer in a big enough message; TC=1 over the client's UDP size */
	mw_query(&m, 7, "Many.Example.ORG", DNS_T_A, 65535, 0, 1);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_NOERROR);
	memcpy(out, m.buf, m.len);
	len = dns_write_answer(out, sizeof(out), &q, a, 0);
	CHECK_EQ(len, (int)(q.question_end + 200 * 16 + 11));
	CHECK_EQ(out[6] << 8 | out[7], 200);
	CHECK(!(out[2] & (DNS_F_TC >> 8)));
	mw_query(&m, 7, "many.example.org", DNS_T_A, 1232, 0, 1);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_NOERROR);
	memcpy(out, m.buf, m.len);
	len = dns_write_answer(out, sizeof(out), &q, a, 0);
	CHECK_EQ(len, (int)(q.question_end + 11));
	CHECK((out[2] & (DNS_F_TC >> 8)) && out[6] == 0 && out[7] == 0);

	/* the byte limit moves to the storage's size; a failed add commits nothing */
	memset(txt, 'y', 255);
	txt[255] = '\0';
	dns_builder_init(&b, &k, 0);
	CHECK(b.spill == NULL);
	dns_builder_set_spill(&b, spill_mem, sizeof(spill_mem));
	for (i = 0; i < 300 && r == 0; i++)
		r = dns_builder_add_txt(&b, DNS_SEC_ANSWER, NULL, 1, txt);
	CHECK_EQ(r, -ENOSPC);
	CHECK_EQ(b.count[0], DNS_BUILD_SPILL_MAX / (2 + 10 + 256));
	CHECK_EQ(b.len, b.count[0] * (2 + 10 + 256));
	CHECK(dns_builder_spilled(&b));

	/* storage no bigger than buf[] is ignored: the old limits hold */
	dns_builder_init(&b, &k, 0);
	dns_builder_set_spill(&b, spill_mem, DNS_BUILD_MAX);
	for (i = 0; i < DNS_ANS_MAX_TTL; i++)
		CHECK_EQ(dns_builder_add_addr(&b, DNS_SEC_ANSWER, NULL, 1, (const uint8_t *)"\1\2\3\4",
					      AF_INET), 0);
	CHECK_EQ(dns_builder_add_addr(&b, DNS_SEC_ANSWER, NULL, 1, (const uint8_t *)"\1\2\3\4",
				      AF_INET), -ENOSPC);
	CHECK(!dns_builder_spilled(&b));
	CHECK_EQ(b.n_ttl, DNS_ANS_MAX_TTL);
}

/* Decode a response and check header/question against the query. */
static void check_resp_common(const uint8_t *resp, int len, const char *qname, uint16_t qtype,
			      struct resp_view *v)
{
	CHECK(len > 0);
	if (len <= 0)
		return;
	CHECK_EQ(t_decode(resp, (size_t)len, v), 0);
	CHECK(v->flags & DNS_F_QR);
	CHECK_EQ(v->qd, 1);
	CHECK_STR(v->qname, qname);
	CHECK_EQ(v->qtype, qtype);
	CHECK_EQ(v->qclass, DNS_C_IN);
}

static void test_answer_roundtrip(void)
{
	struct msgw m;
	struct dns_query q;
	struct resp_view v;
	struct dns_builder b;
	struct dns_key k;
	uint8_t out[2048];
	int len;

	CHECK_EQ(dns_key_from_str(&k, "kube-dns.kube-system.svc.cluster.local", DNS_T_SRV), 0);
	dns_builder_init(&b, &k, DNS_F_AA);
	CHECK_EQ(dns_builder_add_srv(&b, DNS_SEC_ANSWER, NULL, 30, 0, 100, 53,
				     "kube-dns.kube-system.svc.cluster.local"), 0);
	CHECK_EQ(dns_builder_add_soa(&b, DNS_SEC_AUTHORITY, "cluster.local", 5, "ns.dns.cluster.local",
				     "hostmaster.cluster.local", 12345, 7200, 1800, 86400, 5), 0);
	CHECK_EQ(dns_builder_add_addr(&b, DNS_SEC_ADDITIONAL, "kube-dns.kube-system.svc.cluster.local",
				      30, (const uint8_t *)"\12\140\0\12", AF_INET), 0);
	CHECK(dns_builder_finish(&b, &val_mem.a, sizeof(val_mem)) > 0);

	mw_query(&m, 0x4242, "KUBE-DNS.kube-system.SVC.cluster.local", DNS_T_SRV, 1232, 0, 1);
	m.buf[3] |= 0x10 | 0x40 | 0x20; /* CD, Z, AD in the query */
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_NOERROR);
	memcpy(out, m.buf, m.len);
	len = dns_write_answer(out, sizeof(out), &q, &val_mem.a, 100);
	check_resp_common(out, len, "KUBE-DNS.kube-system.SVC.cluster.local.", DNS_T_SRV, &v);
	CHECK_EQ(v.id, 0x4242);
	CHECK_EQ(v.flags, DNS_F_QR | DNS_F_AA | DNS_F_RD | DNS_F_CD);
	CHECK_EQ(v.an, 1);
	CHECK_EQ(v.ns, 1);
	CHECK_EQ(v.ar, 2);
	CHECK_EQ(v.nrr, 4);
	/* owner via 0xC00C: decoded with the query's case */
	CHECK_STR(v.rr[0].owner, "KUBE-DNS.kube-system.SVC.cluster.local.");
	CHECK_EQ(v.rr[0].type, DNS_T_SRV);
	CHECK_EQ(v.rr[0].cls, DNS_C_IN);
	CHECK_EQ(v.rr[0].ttl, 30);
	CHECK_EQ(v.rr[0].rdlen, 6 + 40);
	{
		char t[1024];

		CHECK(dns_name_to_str(out, (size_t)len, v.rr[0].rdata_off + 6, t, sizeof(t)) == 40);
		CHECK_STR(t, "kube-dns.kube-system.svc.cluster.local.");
		CHECK_EQ(out[v.rr[0].rdata_off + 5], 53);
		CHECK(dns_name_to_str(out, (size_t)len, v.rr[1].rdata_off, t, sizeof(t)) > 0);
		CHECK_STR(t, "ns.dns.cluster.local.");
	}
	CHECK_STR(v.rr[1].owner, "cluster.local.");
	CHECK_EQ(v.rr[1].type, DNS_T_SOA);
	CHECK_EQ(v.rr[1].ttl, 5);
	CHECK_STR(v.rr[2].owner, "kube-dns.kube-system.svc.cluster.local.");
	CHECK_EQ(v.rr[2].type, DNS_T_A);
	CHECK_EQ(v.rr[2].rdlen, 4);
	CHECK(memcmp(out + v.rr[2].rdata_off, "\12\140\0\12", 4) == 0);
	/* OPT last: root, 1232, DO echoed, version 0, ext rcode 0 */
	CHECK_STR(v.rr[3].owner, ".");
	CHECK_EQ(v.rr[3].type, DNS_T_OPT);
	CHECK_EQ(v.rr[3].cls, DNS_EDNS_SIZE);
	CHECK_EQ(v.rr[3].ttl, 0x8000);
	CHECK_EQ(v.rr[3].rdlen, 0);
	/* the response parses as a query would, once QR is cleared, with the same key */
	{
		struct dns_query q2;

		out[2] &= (uint8_t)~0x80;
		out[2] &= (uint8_t)~0x04; /* AA is harmless but clear it anyway */
		CHECK_EQ(dns_parse_query(out, (size_t)len, &q2), DNS_RCODE_NOERROR);
		CHECK(memcmp(&q2.key, &q.key, sizeof(q.key)) == 0);
		CHECK_EQ(q2.hash, q.hash);
	}
}

static void test_rcode_from_value(void)
{
	struct msgw m;
	struct dns_query q;
	struct resp_view v;
	struct dns_builder b;
	struct dns_key k;
	uint8_t out[1024];
	int len;

	CHECK_EQ(dns_key_from_str(&k, "nope.cluster.local", DNS_T_A), 0);
	dns_builder_init(&b, &k, DNS_F_AA | DNS_F_RA | DNS_F_AD | DNS_RCODE_NXDOMAIN);
	CHECK_EQ(dns_builder_add_soa(&b, DNS_SEC_AUTHORITY, "cluster.local", 5, "ns.dns.cluster.local",
				     "hostmaster.cluster.local", 1, 2, 3, 4, 5), 0);
	CHECK(dns_builder_finish(&b, &val_mem.a, sizeof(val_mem)) > 0);
	/* value flags with junk bits: only AA/RA/AD/rcode may reach the header */
	val_mem.a.flags |= DNS_F_TC | DNS_F_Z | DNS_F_QR | DNS_F_OPCODE;
	mw_query(&m, 9, "Nope.cluster.local", DNS_T_A, 0, 0, 0);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_NOERROR);
	memcpy(out, m.buf, m.len);
	len = dns_write_answer(out, sizeof(out), &q, &val_mem.a, 0);
	check_resp_common(out, len, "Nope.cluster.local.", DNS_T_A, &v);
	CHECK_EQ(v.flags, DNS_F_QR | DNS_F_AA | DNS_F_RA | DNS_F_AD | DNS_F_RD | DNS_RCODE_NXDOMAIN);
	CHECK_EQ(v.an, 0);
	CHECK_EQ(v.ns, 1);
	CHECK_EQ(v.ar, 0);

	/* a bad magic is refused */
	val_mem.a.magic = 0;
	CHECK_EQ(dns_write_answer(out, sizeof(out), &q, &val_mem.a, 0), -EINVAL);
}

static void test_truncation(void)
{
	struct msgw m;
	struct dns_query q;
	struct resp_view v;
	uint8_t out[4096];
	const struct dns_answer *a = build_a("big.example", 40, 60); /* 40 * 16 = 640 bytes */
	int len;

	/* no EDNS: over 512 -> TC, empty */
	mw_query(&m, 1, "big.example", DNS_T_A, 0, 0, 0);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_NOERROR);
	memcpy(out, m.buf, m.len);
	len = dns_write_answer(out, sizeof(out), &q, a, 0);
	CHECK_EQ(len, (int)m.len);
	check_resp_common(out, len, "big.example.", DNS_T_A, &v);
	CHECK(v.flags & DNS_F_TC);
	CHECK(v.flags & DNS_F_AA);
	CHECK_EQ(v.an + v.ns + v.ar, 0);

	/* EDNS 4096: fits, no TC */
	mw_query(&m, 1, "big.example", DNS_T_A, 4096, 0, 0);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_NOERROR);
	memcpy(out, m.buf, m.len);
	len = dns_write_answer(out, sizeof(out), &q, a, 0);
	check_resp_common(out, len, "big.example.", DNS_T_A, &v);
	CHECK(!(v.flags & DNS_F_TC));
	CHECK_EQ(v.an, 40);
	CHECK_EQ(v.ar, 1);
	CHECK_EQ(len, 12 + 13 + 4 + 640 + 11);

	/* EDNS 4096 but the buffer is smaller: TC, OPT kept */
	memcpy(out, m.buf, m.len);
	len = dns_write_answer(out, 600, &q, a, 0);
	check_resp_common(out, len, "big.example.", DNS_T_A, &v);
	CHECK(v.flags & DNS_F_TC);
	CHECK_EQ(v.an, 0);
	CHECK_EQ(v.ar, 1);
	CHECK_EQ(v.rr[0].type, DNS_T_OPT);

	/* EDNS 512 (raised from 100): exactly at the boundary */
	{
		const struct dns_answer *a2 = build_a("big.example", 29, 60); /* 464 bytes */

		mw_query(&m, 1, "big.example", DNS_T_A, 100, 0, 0);
		CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_NOERROR);
		CHECK_EQ(12 + 17 + 464 + 11, 504);
		memcpy(out, m.buf, m.len);
		len = dns_write_answer(out, sizeof(out), &q, a2, 0);
		CHECK_EQ(len, 504);
		a2 = build_a("big.example", 30, 60); /* 480: 520 > 512 */
		memcpy(out, m.buf, m.len);
		len = dns_write_answer(out, sizeof(out), &q, a2, 0);
		CHECK_EQ(len, 12 + 17 + 11);
		CHECK(out[3] == 0 && (out[2] & 0x02)); /* TC */
	}
}

static void test_no_write_past_cap(void)
{
	struct msgw m;
	struct dns_query q;
	uint8_t out[4200];
	const struct dns_answer *a = build_a("cap.example", 40, 60);

	mw_query(&m, 1, "cap.example", DNS_T_A, 4096, 0, 0);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_NOERROR);
	for (size_t cap = 0; cap < 800; cap++) {
		int len;

		memset(out, CANARY, sizeof(out));
		memcpy(out, m.buf, m.len < cap ? m.len : cap);
		len = dns_write_answer(out, cap, &q, a, 0);
		if (cap < m.len)
			CHECK_EQ(len, -ENOSPC);
		else
			CHECK(len > 0 && (size_t)len <= cap);
		for (size_t i = cap; i < sizeof(out); i++) {
			if (out[i] != CANARY) {
				CHECK(!"write past cap");
				break;
			}
		}
		memset(out, CANARY, sizeof(out));
		memcpy(out, m.buf, m.len < cap ? m.len : cap);
		len = dns_write_rcode(out, cap, &q, DNS_RCODE_SERVFAIL);
		CHECK(cap < m.len ? len == -ENOSPC : (len > 0 && (size_t)len <= cap));
		for (size_t i = cap; i < sizeof(out); i++) {
			if (out[i] != CANARY) {
				CHECK(!"rcode write past cap");
				break;
			}
		}
	}
}

static void test_ttl_aging(void)
{
	struct msgw m;
	struct dns_query q;
	struct resp_view v;
	struct dns_builder b;
	struct dns_key k;
	uint8_t out[2048], before[sizeof(val_mem)];
	const uint8_t ip[4] = { 1, 2, 3, 4 };
	int len, size;

	CHECK_EQ(dns_key_from_str(&k, "www.example.org", DNS_T_A), 0);
	dns_builder_init(&b, &k, DNS_F_RA);
	CHECK_EQ(dns_builder_add_name(&b, DNS_SEC_ANSWER, NULL, DNS_T_CNAME, 300, "edge.example.net"), 0);
	CHECK_EQ(dns_builder_add_addr(&b, DNS_SEC_ANSWER, "edge.example.net", 20, ip, AF_INET), 0);
	CHECK_EQ(dns_builder_add_addr(&b, DNS_SEC_ANSWER, "edge.example.net", 0, ip, AF_INET), 0);
	size = dns_builder_finish(&b, &val_mem.a, sizeof(val_mem));
	CHECK(size > 0);
	val_mem.a.stored = 1000;
	val_mem.a.expire = 1020;
	memcpy(before, &val_mem, sizeof(before));

	mw_query(&m, 5, "WWW.example.org", DNS_T_A, 0, 0, 0);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_NOERROR);
	memcpy(out, m.buf, m.len);
	len = dns_write_answer(out, sizeof(out), &q, &val_mem.a, 1007);
	check_resp_common(out, len, "WWW.example.org.", DNS_T_A, &v);
	CHECK_EQ(v.an, 3);
	CHECK_EQ(v.rr[0].ttl, 293);
	CHECK_EQ(v.rr[1].ttl, 13);
	CHECK_EQ(v.rr[2].ttl, 0);
	CHECK(v.flags & DNS_F_RA);
	CHECK(!(v.flags & DNS_F_AA));
	/* the shared value is untouched */
	CHECK(memcmp(before, &val_mem, sizeof(before)) == 0);

	/* older than a TTL: clamps at 0 */
	memcpy(out, m.buf, m.len);
	len = dns_write_answer(out, sizeof(out), &q, &val_mem.a, 1100);
	check_resp_common(out, len, "WWW.example.org.", DNS_T_A, &v);
	CHECK_EQ(v.rr[0].ttl, 200);
	CHECK_EQ(v.rr[1].ttl, 0);
	/* clock before stored: age 0 */
	memcpy(out, m.buf, m.len);
	len = dns_write_answer(out, sizeof(out), &q, &val_mem.a, 10);
	check_resp_common(out, len, "WWW.example.org.", DNS_T_A, &v);
	CHECK_EQ(v.rr[0].ttl, 300);
	/* authoritative (expire 0): never rewritten */
	val_mem.a.expire = 0;
	memcpy(out, m.buf, m.len);
	len = dns_write_answer(out, sizeof(out), &q, &val_mem.a, 5000);
	check_resp_common(out, len, "WWW.example.org.", DNS_T_A, &v);
	CHECK_EQ(v.rr[0].ttl, 300);
	CHECK_EQ(v.rr[1].ttl, 20);
}

static void test_write_rcode(void)
{
	struct msgw m;
	struct dns_query q;
	struct resp_view v;
	uint8_t out[1024];
	int rc, len;

	/* BADVERS: header rcode 0, OPT ext rcode 1, DO echoed */
	mw_query(&m, 0x1111, "Bad.Vers", DNS_T_A, 1232, 3, 1);
	rc = dns_parse_query(m.buf, m.len, &q);
	CHECK_EQ(rc, DNS_RCODE_BADVERS);
	memcpy(out, m.buf, m.len);
	len = dns_write_rcode(out, sizeof(out), &q, rc);
	check_resp_common(out, len, "Bad.Vers.", DNS_T_A, &v);
	CHECK_EQ(v.id, 0x1111);
	CHECK_EQ(v.flags & DNS_F_RCODE, 0);
	CHECK_EQ(v.flags, DNS_F_QR | DNS_F_RD);
	CHECK_EQ(v.ar, 1);
	CHECK_EQ(v.rr[0].type, DNS_T_OPT);
	CHECK_EQ(v.rr[0].cls, DNS_EDNS_SIZE);
	CHECK_EQ(v.rr[0].ttl, (1u << 24) | 0x8000u);

	/* REFUSED for class CH, no EDNS */
	mw_query(&m, 0x2222, "version.bind", DNS_T_TXT, 0, 0, 0);
	m.buf[m.len - 1] = DNS_C_CH;
	rc = dns_parse_query(m.buf, m.len, &q);
	CHECK_EQ(rc, DNS_RCODE_REFUSED);
	memcpy(out, m.buf, m.len);
	len = dns_write_rcode(out, sizeof(out), &q, rc);
	CHECK_EQ(len, (int)m.len);
	CHECK_EQ(t_decode(out, (size_t)len, &v), 0);
	CHECK_EQ(v.flags, DNS_F_QR | DNS_F_RD | DNS_RCODE_REFUSED);
	CHECK_EQ(v.qclass, DNS_C_CH);
	CHECK_EQ(v.ar, 0);

	/* FORMERR without a question (qdcount 2): qd 0, ID echoed */
	mw_header(&m, 0x3333, DNS_F_RD | DNS_F_CD, 2, 0, 0, 0);
	rc = dns_parse_query(m.buf, m.len, &q);
	CHECK_EQ(rc, DNS_RCODE_FORMERR);
	memcpy(out, m.buf, m.len);
	len = dns_write_rcode(out, sizeof(out), &q, rc);
	CHECK_EQ(len, 12);
	CHECK_EQ(t_decode(out, (size_t)len, &v), 0);
	CHECK_EQ(v.id, 0x3333);
	CHECK_EQ(v.flags, DNS_F_QR | DNS_F_RD | DNS_F_CD | DNS_RCODE_FORMERR);
	CHECK_EQ(v.qd, 0);

	/* NOTIMP keeps the opcode */
	mw_query(&m, 0x4444, "a.b", DNS_T_SOA, 0, 0, 0);
	m.buf[2] = (uint8_t)((4 << 3) | 0x04 | 0x02); /* NOTIFY, AA and TC from the sender */
	rc = dns_parse_query(m.buf, m.len, &q);
	CHECK_EQ(rc, DNS_RCODE_NOTIMP);
	memcpy(out, m.buf, m.len);
	len = dns_write_rcode(out, sizeof(out), &q, rc);
	check_resp_common(out, len, "a.b.", DNS_T_SOA, &v);
	CHECK_EQ(v.flags, DNS_F_QR | (4 << 11) | DNS_RCODE_NOTIMP);

	/* SERVFAIL for a well-formed query with EDNS: question + OPT */
	mw_query(&m, 0x5555, "x.y", DNS_T_AAAA, 1400, 0, 0);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_NOERROR);
	memcpy(out, m.buf, m.len);
	len = dns_write_rcode(out, sizeof(out), &q, DNS_RCODE_SERVFAIL);
	check_resp_common(out, len, "x.y.", DNS_T_AAAA, &v);
	CHECK_EQ(v.flags & DNS_F_RCODE, DNS_RCODE_SERVFAIL);
	CHECK_EQ(v.ar, 1);
	CHECK_EQ(v.rr[0].ttl, 0);
	CHECK_EQ(len, (int)m.len);
}


static void test_answer_flags_and_misuse(void)
{
	struct msgw m;
	struct dns_query q;
	struct resp_view v;
	uint8_t out[1024];
	const struct dns_answer *a = build_a("f.example", 2, 60);
	int len;

	/* TC, Z and AD of the query never leak into the response; RD off stays off */
	mw_query(&m, 77, "F.example", DNS_T_A, 1232, 0, 0);
	m.buf[2] = (uint8_t)(DNS_F_TC >> 8);
	m.buf[3] = (uint8_t)(DNS_F_Z | DNS_F_AD);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_NOERROR);
	memcpy(out, m.buf, m.len);
	len = dns_write_answer(out, sizeof(out), &q, a, 0);
	check_resp_common(out, len, "F.example.", DNS_T_A, &v);
	CHECK_EQ(v.flags, DNS_F_QR | DNS_F_AA);
	CHECK_EQ(v.an, 2);
	CHECK_EQ(v.ar, 1);
	CHECK_EQ(v.rr[2].ttl, 0); /* OPT: no DO, version 0, no extended rcode */
	CHECK_EQ(v.rr[0].ttl, 60);

	/* a query whose question was not parsed cannot carry an answer */
	mw_header(&m, 1, 0, 0, 0, 0, 0);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_FORMERR);
	memcpy(out, m.buf, m.len);
	CHECK_EQ(dns_write_answer(out, sizeof(out), &q, a, 0), -EINVAL);

	/* TTL offsets pointing outside rr[] (a corrupt value) are ignored, not followed */
	{
		static union {
			struct dns_answer a;
			uint8_t raw[sizeof(struct dns_answer) + 64];
		} bad;
		uint16_t *offs;

		memcpy(&bad, a, dns_answer_size(a));
		bad.a.expire = 10;
		bad.a.stored = 1;
		offs = (uint16_t *)(void *)(bad.a.rr + ((bad.a.rr_len + 1u) & ~1u));
		offs[0] = (uint16_t)(bad.a.rr_len - 3);
		offs[1] = 0xffff;
		mw_query(&m, 78, "f.example", DNS_T_A, 0, 0, 0);
		CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_NOERROR);
		memcpy(out, m.buf, m.len);
		len = dns_write_answer(out, sizeof(out), &q, &bad.a, 5);
		check_resp_common(out, len, "f.example.", DNS_T_A, &v);
		CHECK_EQ(v.rr[0].ttl, 60);
		CHECK_EQ(v.rr[1].ttl, 60);
	}
}

static void test_rcode_long_name(void)
{
	struct msgw m;
	struct dns_query q;
	struct resp_view v;
	uint8_t out[1024];
	char name[200];
	int len;

	/* a name that cannot be keyed is still echoed in an rcode response */
	memset(name, 'L', sizeof(name));
	name[63] = '.';
	name[127] = '.';
	name[130] = '\0';
	mw_query(&m, 9, name, DNS_T_A, 0, 0, 0);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_NOERROR);
	CHECK(!q.key_ok);
	memcpy(out, m.buf, m.len);
	len = dns_write_rcode(out, sizeof(out), &q, DNS_RCODE_SERVFAIL);
	CHECK_EQ(len, (int)m.len);
	CHECK_EQ(t_decode(out, (size_t)len, &v), 0);
	CHECK_EQ(v.qd, 1);
	CHECK_EQ(strlen(v.qname), 131);
	CHECK_EQ(v.flags, DNS_F_QR | DNS_F_RD | DNS_RCODE_SERVFAIL);
	/* header-only message of exactly 12 bytes */
	mw_header(&m, 0xabcd, DNS_F_RD, 0, 0, 0, 0);
	CHECK_EQ(dns_parse_query(m.buf, 12, &q), DNS_RCODE_FORMERR);
	memcpy(out, m.buf, 12);
	CHECK_EQ(dns_write_rcode(out, 12, &q, DNS_RCODE_FORMERR), 12);
	CHECK_EQ(out[0], 0xab);
	CHECK_EQ(out[1], 0xcd);
	CHECK_EQ(dns_write_rcode(out, 11, &q, DNS_RCODE_FORMERR), -ENOSPC);
}

static void test_builder_errors(void)
{
	struct dns_builder b;
	struct dns_key k;
	const uint8_t ip[4] = { 1, 2, 3, 4 };

	CHECK_EQ(dns_key_from_str(&k, "e.example", DNS_T_A), 0);
	/* errors are sticky: a good record after a bad one still fails */
	dns_builder_init(&b, &k, 0);
	CHECK_EQ(dns_builder_add_raw(&b, DNS_SEC_ANSWER, NULL, DNS_T_A, 1, NULL, 4), -EINVAL);
	CHECK_EQ(dns_builder_add_addr(&b, DNS_SEC_ANSWER, NULL, 1, ip, AF_INET), -EINVAL);
	CHECK_EQ(b.count[DNS_SEC_ANSWER], 0);
	CHECK_EQ(b.len, 0);
	/* a section that does not exist */
	dns_builder_init(&b, &k, 0);
	CHECK_EQ(dns_builder_add_addr(&b, (enum dns_section)3, NULL, 1, ip, AF_INET), -EINVAL);
	/* SOA with a bad rname, SRV and NS with bad targets */
	dns_builder_init(&b, &k, 0);
	CHECK_EQ(dns_builder_add_soa(&b, DNS_SEC_AUTHORITY, "example", 1, "ns.example", "a..b",
				     1, 2, 3, 4, 5), -EINVAL);
	dns_builder_init(&b, &k, 0);
	CHECK_EQ(dns_builder_add_soa(&b, DNS_SEC_AUTHORITY, "example", 1, "", "h.example",
				     1, 2, 3, 4, 5), -EINVAL);
	dns_builder_init(&b, &k, 0);
	CHECK_EQ(dns_builder_add_srv(&b, DNS_SEC_ANSWER, NULL, 1, 0, 0, 0, ".x"), -EINVAL);
	dns_builder_init(&b, &k, 0);
	CHECK_EQ(dns_builder_add_name(&b, DNS_SEC_ANSWER, NULL, DNS_T_NS, 1, NULL), -EINVAL);
	/* empty rdata and the root as a target are fine; a NULL TXT is the empty string */
	dns_builder_init(&b, &k, 0);
	CHECK_EQ(dns_builder_add_raw(&b, DNS_SEC_ANSWER, NULL, 10, 1, NULL, 0), 0);
	CHECK_EQ(dns_builder_add_name(&b, DNS_SEC_ANSWER, "x", DNS_T_NS, 1, "."), 0);
	CHECK_EQ(dns_builder_add_txt(&b, DNS_SEC_ANSWER, NULL, 1, NULL), 0);
	CHECK_EQ(b.len, 12 + (3 + 10 + 1) + 13);
	/* uncompressed owners are lower-cased */
	dns_builder_init(&b, &k, 0);
	CHECK_EQ(dns_builder_add_addr(&b, DNS_SEC_ANSWER, "MiXeD.Example", 1, ip, AF_INET), 0);
	CHECK(memcmp(b.buf, "\5mixed\7example\0", 15) == 0);
	/* a NULL key gives qname_len 0 */
	dns_builder_init(&b, NULL, DNS_F_AA);
	CHECK_EQ(b.qname_len, 0);
	CHECK_EQ(b.flags, DNS_F_AA);
}

/* dns_builder_zone_ptr(): names made under the question's zone read in the query's case. */
static void test_zone_ptr(void)
{
	struct msgw m;
	struct dns_query q;
	struct resp_view v;
	struct dns_builder b;
	struct dns_key k;
	uint8_t out[2048], zone[DNS_MAX_NAME];
	char t[1024];
	int len, zl = dns_name_from_str(zone, sizeof(zone), "Cluster.Local");

	CHECK_EQ(zl, 15);
	CHECK_EQ(dns_key_from_str(&k, "_http._tcp.web.ns1.svc.cluster.local", DNS_T_SRV), 0);
	dns_builder_init(&b, &k, DNS_F_AA);
	dns_builder_zone_ptr(&b, DNS_ZP_RDATA, zone, (uint16_t)zl);
	CHECK_EQ(dns_builder_add_srv(&b, DNS_SEC_ANSWER, NULL, 30, 0, 100, 80,
				     "web.ns1.svc.cluster.local"), 0);
	/* Names outside the zone, or where the zone is not a whole-label ending: whole. */
	CHECK_EQ(dns_builder_add_name(&b, DNS_SEC_ANSWER, NULL, DNS_T_CNAME, 30, "www.example.org"), 0);
	CHECK_EQ(dns_builder_add_name(&b, DNS_SEC_ANSWER, NULL, DNS_T_CNAME, 30, "xcluster.local"), 0);
	dns_builder_zone_ptr(&b, DNS_ZP_OWNER, zone, (uint16_t)zl);
	CHECK_EQ(dns_builder_add_addr(&b, DNS_SEC_ADDITIONAL, "web.ns1.svc.cluster.local", 30,
				      (const uint8_t *)"\12\140\1\1", AF_INET), 0);
	dns_builder_zone_ptr(&b, 0, NULL, 0);
	CHECK_EQ(dns_builder_add_addr(&b, DNS_SEC_ADDITIONAL, "web.ns1.svc.cluster.local", 30,
				      (const uint8_t *)"\12\140\1\2", AF_INET), 0);
	CHECK(dns_builder_finish(&b, &val_mem.a, sizeof(val_mem)) > 0);

	mw_query(&m, 7, "_HTTP._tcp.Web.NS1.svc.CLUSTER.local", DNS_T_SRV, 1232, 0, 1);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_NOERROR);
	memcpy(out, m.buf, m.len);
	len = dns_write_answer(out, sizeof(out), &q, &val_mem.a, 0);
	check_resp_common(out, len, "_HTTP._tcp.Web.NS1.svc.CLUSTER.local.", DNS_T_SRV, &v);
	CHECK_EQ(v.an, 3);
	CHECK_EQ(v.ar, 3);
	CHECK_EQ(v.rr[0].rdlen, 6 + 12 + 2); /* web.ns1.svc + a pointer */
	CHECK(dns_name_to_str(out, (size_t)len, v.rr[0].rdata_off + 6, t, sizeof(t)) > 0);
	CHECK_STR(t, "web.ns1.svc.CLUSTER.local.");
	CHECK(dns_name_to_str(out, (size_t)len, v.rr[1].rdata_off, t, sizeof(t)) > 0);
	CHECK_STR(t, "www.example.org.");
	CHECK(dns_name_to_str(out, (size_t)len, v.rr[2].rdata_off, t, sizeof(t)) > 0);
	CHECK_STR(t, "xcluster.local.");
	CHECK_STR(v.rr[3].owner, "web.ns1.svc.CLUSTER.local.");
	CHECK_STR(v.rr[4].owner, "web.ns1.svc.cluster.local.");
	/* A zone longer than the question cannot end it: ignored. */
	CHECK_EQ(dns_key_from_str(&k, "local", DNS_T_NS), 0);
	dns_builder_init(&b, &k, DNS_F_AA);
	dns_builder_zone_ptr(&b, DNS_ZP_RDATA, zone, (uint16_t)zl);
	CHECK_EQ(b.zp_len, 0);
}

int main(void)
{
	test_builder_layout();
	test_builder_limits();
	test_builder_spill();
	test_builder_errors();
	test_answer_roundtrip();
	test_zone_ptr();
	test_rcode_from_value();
	test_truncation();
	test_no_write_past_cap();
	test_ttl_aging();
	test_write_rcode();
	test_answer_flags_and_misuse();
	test_rcode_long_name();
	return check_summary("test_dns_answer");
}
