/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - unit tests of the forwarder's message helpers (fwd_msg.c): reply checks,
 * restoration, truncation, classification, and the conversion of upstream replies to
 * shared answer values (decompression, question pointers, TTL offsets) and back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "fwd_msg.h"
#include "fwd_test.h"

static uint8_t valbuf[sizeof(struct dns_answer) + 8192];

static struct fwd_question question(const uint8_t *msg, uint16_t qtype)
{
	struct fwd_question fq = { msg + DNS_HDR_LEN, 0, qtype, DNS_C_IN };

	fq.name_len = (uint16_t)fwd_name_len(msg + DNS_HDR_LEN, 255);
	return fq;
}

/* A reply to "Www.Example.Test A": alias CNAME chain with compression everywhere. */
static void build_cname_reply(struct tmsg *m, unsigned id, const char *qname)
{
	unsigned target;

	tm_header(m, id, DNS_F_QR | DNS_F_RD | DNS_F_RA | DNS_F_AD, 1, 2, 1, 2);
	tm_labels(m, qname, true);                 /* question at 12 */
	tm_u16(m, DNS_T_A);
	tm_u16(m, DNS_C_IN);
	tm_ptr(m, 12);                             /* owner = qname */
	tm_rr(m, DNS_T_CNAME, 300, 7);
	target = (unsigned)m->len;
	tm_labels(m, "real", false);               /* real.<example.test via pointer> */
	tm_ptr(m, 12 + 4);                         /* "example.test" inside the question */
	tm_ptr(m, target);                         /* owner = real.example.test */
	tm_rr(m, DNS_T_A, 120, 4);
	tm_bytes(m, "\xc0\x00\x02\x0a", 4);
	tm_ptr(m, 12 + 4);                         /* authority: example.test NS ns1 */
	tm_rr(m, DNS_T_NS, 60, 6);
	tm_labels(m, "ns1", false);
	tm_ptr(m, 12 + 4);
	tm_labels(m, "ns1", false);                /* additional: ns1.example.test A */
	tm_ptr(m, 12 + 4);
	tm_rr(m, DNS_T_A, 60, 4);
	tm_bytes(m, "\x7f\x00\x00\x01", 4);
	tm_opt(m, 1232, false);
}

static void test_check(void)
{
	struct tmsg q, r;
	struct fwd_question fq;

	tm_query(&q, 0x1111, "Www.Example.Test", DNS_T_A);
	fq = question(q.b, DNS_T_A);
	build_cname_reply(&r, 0x2222, "www.example.test");
	CHECK_EQ(fwd_msg_check(r.b, r.len, 0x2222, 0, &fq), FWD_REPLY_OK);
	CHECK_EQ(fwd_msg_check(r.b, r.len, 0x2223, 0, &fq), FWD_REPLY_ID);
	CHECK_EQ(fwd_msg_check(r.b, 11, 0x2222, 0, &fq), FWD_REPLY_MALFORMED);
	fq.qtype = DNS_T_AAAA;
	CHECK_EQ(fwd_msg_check(r.b, r.len, 0x2222, 0, &fq), FWD_REPLY_QUESTION);
	fq.qtype = DNS_T_A;
	r.b[DNS_HDR_LEN + 2] = 'X';               /* wXw: another name */
	CHECK_EQ(fwd_msg_check(r.b, r.len, 0x2222, 0, &fq), FWD_REPLY_QUESTION);
	r.b[DNS_HDR_LEN + 2] = 'w';
	r.b[2] &= 0x7f;                           /* QR=0: a query, not a reply */
	CHECK_EQ(fwd_msg_check(r.b, r.len, 0x2222, 0, &fq), FWD_REPLY_MALFORMED);
	r.b[2] |= 0x80;
	r.b[5] = 0;                               /* QDCOUNT 0 */
	CHECK_EQ(fwd_msg_check(r.b, r.len, 0x2222, 0, &fq), FWD_REPLY_QUESTION);
	r.b[5] = 1;
	fq.qclass = DNS_C_CH;
	CHECK_EQ(fwd_msg_check(r.b, r.len, 0x2222, 0, &fq), FWD_REPLY_QUESTION);
	fq.qclass = DNS_C_IN;

	fwd_msg_restore(r.b, 0x1111, fq.name, fq.name_len);
	CHECK_EQ(r.b[0] << 8 | r.b[1], 0x1111);
	CHECK(memcmp(r.b + DNS_HDR_LEN, "\x03Www\x07" "Example\x04Test", 17) == 0);
}

static void test_classify(void)
{
	struct tmsg r;
	struct fwd_msg_info in;

	build_cname_reply(&r, 1, "www.example.test");
	CHECK_EQ(fwd_msg_classify(r.b, r.len, &in), 0);
	CHECK_EQ(in.type, FWD_RT_NOERROR);
	CHECK_EQ(in.min_ttl, 60);
	CHECK_EQ(in.n_rr, 4);

	/* NXDOMAIN with SOA; without SOA it is an "other" error (not cached). */
	tm_header(&r, 1, DNS_F_QR | DNS_RCODE_NXDOMAIN, 1, 0, 1, 0);
	tm_labels(&r, "nx.example.test", true);
	tm_u16(&r, DNS_T_A);
	tm_u16(&r, DNS_C_IN);
	tm_ptr(&r, 12 + 3);
	tm_rr(&r, DNS_T_SOA, 45, 2 + 2 + 20);
	tm_ptr(&r, 12 + 3);
	tm_ptr(&r, 12 + 3);
	for (int i = 0; i < 5; i++)
		tm_u32(&r, 100);
	CHECK_EQ(fwd_msg_classify(r.b, r.len, &in), 0);
	CHECK_EQ(in.type, FWD_RT_NXDOMAIN);
	CHECK_EQ(in.min_ttl, 45);
	r.b[3] = DNS_RCODE_NOERROR;
	CHECK_EQ(fwd_msg_classify(r.b, r.len, &in), 0);
	CHECK_EQ(in.type, FWD_RT_NODATA);
	tm_header(&r, 1, DNS_F_QR | DNS_RCODE_NXDOMAIN, 1, 0, 0, 0);
	tm_labels(&r, "nx.example.test", true);
	tm_u16(&r, DNS_T_A);
	tm_u16(&r, DNS_C_IN);
	CHECK_EQ(fwd_msg_classify(r.b, r.len, &in), 0);
	CHECK_EQ(in.type, FWD_RT_OTHER);
	r.b[3] = DNS_RCODE_SERVFAIL;
	CHECK_EQ(fwd_msg_classify(r.b, r.len, &in), 0);
	CHECK_EQ(in.type, FWD_RT_SERVERROR);
	CHECK_EQ(in.min_ttl, 5);
	r.b[3] = DNS_RCODE_REFUSED;
	CHECK_EQ(fwd_msg_classify(r.b, r.len, &in), 0);
	CHECK_EQ(in.type, FWD_RT_OTHER);
}

static void test_malformed(void)
{
	struct tmsg r;
	struct fwd_msg_info in;

	/* A pointer to itself, a forward pointer, an rdata running past the end. */
	tm_header(&r, 1, DNS_F_QR, 1, 1, 0, 0);
	tm_labels(&r, "a.test", true);
	tm_u16(&r, DNS_T_A);
	tm_u16(&r, DNS_C_IN);
	tm_ptr(&r, (unsigned)r.len);
	tm_rr(&r, DNS_T_A, 1, 4);
	tm_u32(&r, 0);
	CHECK_EQ(fwd_msg_classify(r.b, r.len, &in), -EBADMSG);
	r.b[DNS_HDR_LEN + 12] = 0xc0;
	r.b[DNS_HDR_LEN + 13] = 0xff;
	CHECK_EQ(fwd_msg_classify(r.b, r.len, &in), -EBADMSG);
	r.b[DNS_HDR_LEN + 13] = 12;
	CHECK_EQ(fwd_msg_classify(r.b, r.len, &in), 0);
	CHECK_EQ(fwd_msg_classify(r.b, r.len - 1, &in), -EBADMSG);
	tm_u8(&r, 0); /* trailing garbage */
	CHECK_EQ(fwd_msg_classify(r.b, r.len, &in), -EBADMSG);
}

static void test_to_answer(void)
{
	struct tmsg q, r;
	struct dns_answer *a = (struct dns_answer *)valbuf;
	struct dns_query dq;
	struct tparsed p;
	uint8_t out[2048];
	int size, n;

	tm_query(&q, 0x7777, "WWW.example.TEST", DNS_T_A);
	CHECK_EQ(dns_parse_query(q.b, q.len, &dq), DNS_RCODE_NOERROR);
	build_cname_reply(&r, 0x7777, "WWW.example.TEST");
	size = fwd_msg_to_answer(r.b, r.len, &dq.key, DNS_F_RA, 30, false, a, sizeof(valbuf));
	CHECK(size > 0);
	CHECK_EQ(a->magic, DNS_ANS_MAGIC);
	CHECK_EQ(a->ancount, 2);
	CHECK_EQ(a->nscount, 1);
	CHECK_EQ(a->arcount, 1);            /* OPT dropped */
	CHECK_EQ(a->n_ttl, 4);
	CHECK_EQ(a->qname_len, dq.qname_len);
	CHECK_EQ((size_t)size, dns_answer_size(a));
	/* The first owner equals the question: a pointer to it. */
	CHECK(a->rr[0] == 0xc0 && a->rr[1] == 0x0c);
	/* Every TTL offset points at a TTL of 30. */
	for (unsigned i = 0; i < a->n_ttl; i++) {
		const uint8_t *t = a->rr + dns_answer_ttl_offs(a)[i];

		CHECK_EQ(t[0] << 24 | t[1] << 16 | t[2] << 8 | t[3], 30);
	}
	/* The fast path's responder on a client's query with another case. */
	tm_query(&q, 0x1234, "www.EXAMPLE.test", DNS_T_A);
	CHECK_EQ(dns_parse_query(q.b, q.len, &dq), DNS_RCODE_NOERROR);
	memcpy(out, q.b, q.len);
	a->stored = 1000;
	a->expire = 1030;
	n = dns_write_answer(out, sizeof(out), &dq, a, 1010);
	CHECK(n > 0);
	CHECK_EQ(tp_parse(out, (size_t)n, &p), 0);
	CHECK_EQ(p.id, 0x1234);
	CHECK_EQ(p.n, 4);
	CHECK(strcmp(p.rr[0].owner, "www.EXAMPLE.test.") == 0);
	CHECK(strcmp(p.rr[0].target, "real.example.TEST.") == 0);
	CHECK(strcmp(p.rr[1].owner, "real.example.TEST.") == 0);
	CHECK(strcmp(p.rr[2].target, "ns1.example.TEST.") == 0);
	CHECK_EQ(p.rr[0].ttl, 20);          /* aged by 10 s */
	CHECK_EQ(p.rr[3].ttl, 20);
	CHECK_EQ(p.rr[3].type, DNS_T_A);

	/* keepttl: no offsets, so the fast path never ages them. */
	size = fwd_msg_to_answer(r.b, r.len, &dq.key, DNS_F_RA, 30, true, a, sizeof(valbuf));
	CHECK(size > 0);
	CHECK_EQ(a->n_ttl, 0);

	/* Too small a buffer. */
	CHECK_EQ(fwd_msg_to_answer(r.b, r.len, &dq.key, 0, 30, false, a, 64), -ENOSPC);
}

static void test_rdata_names(void)
{
	struct tmsg q, r;
	struct dns_answer *a = (struct dns_answer *)valbuf;
	struct dns_query dq;
	struct tparsed p;
	uint8_t out[2048];
	int n;

	tm_query(&q, 1, "example.test", DNS_T_MX);
	CHECK_EQ(dns_parse_query(q.b, q.len, &dq), DNS_RCODE_NOERROR);
	tm_header(&r, 1, DNS_F_QR, 1, 2, 1, 0);
	tm_labels(&r, "example.test", true);
	tm_u16(&r, DNS_T_MX);
	tm_u16(&r, DNS_C_IN);
	tm_ptr(&r, 12);
	tm_rr(&r, DNS_T_MX, 100, 2 + 5 + 2);
	tm_u16(&r, 10);
	tm_labels(&r, "mail", false);
	tm_ptr(&r, 12);
	tm_ptr(&r, 12);
	tm_rr(&r, DNS_T_SRV, 100, 6 + 2);
	tm_u16(&r, 1);
	tm_u16(&r, 2);
	tm_u16(&r, 53);
	tm_ptr(&r, 12);
	tm_ptr(&r, 12);
	tm_rr(&r, DNS_T_SOA, 100, 2 + 2 + 20);
	tm_ptr(&r, 12);
	tm_ptr(&r, 12);
	for (int i = 0; i < 5; i++)
		tm_u32(&r, 7);
	n = fwd_msg_to_answer(r.b, r.len, &dq.key, 0, 50, false, a, sizeof(valbuf));
	CHECK(n > 0);
	memcpy(out, q.b, q.len);
	a->stored = a->expire = 0;
	n = dns_write_answer(out, sizeof(out), &dq, a, 0);
	CHECK(n > 0);
	CHECK_EQ(tp_parse(out, (size_t)n, &p), 0);
	CHECK(strcmp(p.rr[0].target, "mail.example.test.") == 0);
	CHECK(strcmp(p.rr[1].target, "example.test.") == 0);
	CHECK(strcmp(p.rr[2].target, "example.test.") == 0);
	CHECK_EQ(p.rr[2].rdlen, 14 + 14 + 20);  /* both SOA names expanded */
}

static void test_too_many(void)
{
	struct tmsg q, r;
	struct dns_query dq;

	tm_query(&q, 1, "many.test", DNS_T_A);
	CHECK_EQ(dns_parse_query(q.b, q.len, &dq), DNS_RCODE_NOERROR);
	tm_header(&r, 1, DNS_F_QR, 1, DNS_ANS_MAX_TTL + 1, 0, 0);
	tm_labels(&r, "many.test", true);
	tm_u16(&r, DNS_T_A);
	tm_u16(&r, DNS_C_IN);
	for (unsigned i = 0; i <= DNS_ANS_MAX_TTL; i++) {
		tm_ptr(&r, 12);
		tm_rr(&r, DNS_T_A, 100, 4);
		tm_u32(&r, i);
	}
	CHECK_EQ(fwd_msg_to_answer(r.b, r.len, &dq.key, 0, 50, false,
				   (struct dns_answer *)valbuf, sizeof(valbuf)), -E2BIG);
}

static void test_relay_truncate(void)
{
	struct tmsg q, r;
	struct dns_query dq;
	struct tparsed p;
	uint8_t out[4096];
	int n;

	tm_query(&q, 0x5555, "Www.Example.Test", DNS_T_A);
	q.b[11] = 1;
	tm_opt(&q, 600, true);
	CHECK_EQ(dns_parse_query(q.b, q.len, &dq), DNS_RCODE_NOERROR);
	build_cname_reply(&r, 0x5555, "Www.Example.Test");
	n = fwd_msg_relay(out, sizeof(out), r.b, r.len, q.b, &dq);
	CHECK_EQ(n, (int)r.len);
	CHECK(memcmp(out, r.b, r.len) == 0);
	n = fwd_msg_relay(out, 60, r.b, r.len, q.b, &dq);
	CHECK(n > 0 && n <= 60);
	CHECK_EQ(tp_parse(out, (size_t)n, &p), 0);
	CHECK(p.flags & DNS_F_TC);
	CHECK_EQ(p.an, 0);
	CHECK_EQ(p.ar, 1);                  /* the OPT */
	CHECK_EQ(p.rr[0].type, DNS_T_OPT);
	CHECK(strcmp(p.qname, "Www.Example.Test.") == 0);
	CHECK_EQ(fwd_msg_relay(out, 20, r.b, r.len, q.b, &dq), -ENOSPC);

	CHECK_EQ(fwd_msg_set_ttls(r.b, r.len, 7), 0);
	CHECK_EQ(tp_parse(r.b, r.len, &p), 0);
	for (unsigned i = 0; i < p.n; i++)
		CHECK_EQ(p.rr[i].ttl, p.rr[i].type == DNS_T_OPT ? 0 : 7);
}

static void test_from_answer(void)
{
	struct tmsg q, r;
	struct dns_answer *a = (struct dns_answer *)valbuf;
	struct dns_query dq;
	struct tparsed p;
	uint8_t out[4096];
	int n;

	tm_query(&q, 0x4444, "www.example.test", DNS_T_A);
	CHECK_EQ(dns_parse_query(q.b, q.len, &dq), DNS_RCODE_NOERROR);
	build_cname_reply(&r, 1, "www.example.test");
	CHECK(fwd_msg_to_answer(r.b, r.len, &dq.key, DNS_F_RA | DNS_RCODE_NOERROR, 30, false, a,
				sizeof(valbuf)) > 0);
	n = fwd_msg_from_answer(out, 512, q.b, &dq, a, 0);
	CHECK(n > 0);
	CHECK_EQ(tp_parse(out, (size_t)n, &p), 0);
	CHECK_EQ(p.id, 0x4444);
	CHECK((p.flags & (DNS_F_QR | DNS_F_RA | DNS_F_RD)) == (DNS_F_QR | DNS_F_RA | DNS_F_RD));
	CHECK(!(p.flags & DNS_F_AA));
	for (unsigned i = 0; i < p.n; i++)
		CHECK_EQ(p.rr[i].ttl, 0);
	n = fwd_msg_from_answer(out, 40, q.b, &dq, a, 0);
	CHECK(n > 0);
	CHECK_EQ(tp_parse(out, (size_t)n, &p), 0);
	CHECK(p.flags & DNS_F_TC);
	n = fwd_msg_rcode(out, sizeof(out), q.b, &dq, DNS_RCODE_REFUSED);
	CHECK(n > 0);
	CHECK_EQ(out[3] & 0xf, DNS_RCODE_REFUSED);
}

static void test_names(void)
{
	uint8_t a[64], b[64], z[64];
	int na = dns_name_from_str(a, sizeof(a), "www.example.test");
	int nb = dns_name_from_str(b, sizeof(b), "example.test");
	int nz = dns_name_from_str(z, sizeof(z), ".");

	CHECK(fwd_name_in_zone(a, (size_t)na, b, (size_t)nb));
	CHECK(fwd_name_in_zone(a, (size_t)na, z, (size_t)nz));
	CHECK(fwd_name_in_zone(b, (size_t)nb, b, (size_t)nb));
	CHECK(!fwd_name_in_zone(b, (size_t)nb, a, (size_t)na));
	nb = dns_name_from_str(b, sizeof(b), "ample.test");
	CHECK(!fwd_name_in_zone(a, (size_t)na, b, (size_t)nb));
}

int main(void)
{
	test_check();
	test_classify();
	test_malformed();
	test_to_answer();
	test_rdata_names();
	test_too_many();
	test_relay_truncate();
	test_from_answer();
	test_names();
	return check_summary("test_fwd_msg");
}
