/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - cross-check: responses written by the codec, decoded by an independent
 * implementation (ldns), and queries encoded by ldns parsed by the codec.
 */
#include <errno.h>
#include <sys/socket.h>

#include <ldns/ldns.h>

#include "test_util.h"

static union {
	struct dns_answer a;
	uint8_t raw[sizeof(struct dns_answer) + DNS_BUILD_MAX + 2 * DNS_ANS_MAX_TTL + 2];
} val;

/* Query as ldns encodes it (RD, optional EDNS). @return wire length in @p out. */
static size_t ldns_query(uint8_t *out, size_t cap, const char *name, ldns_rr_type type,
			 uint16_t edns_size, bool dobit)
{
	ldns_pkt *p = NULL;
	uint8_t *wire = NULL;
	size_t len = 0;

	CHECK_EQ(ldns_pkt_query_new_frm_str(&p, name, type, LDNS_RR_CLASS_IN, LDNS_RD),
		 LDNS_STATUS_OK);
	if (p == NULL)
		return 0;
	ldns_pkt_set_id(p, 0x5150);
	if (edns_size != 0) {
		ldns_pkt_set_edns_udp_size(p, edns_size);
		ldns_pkt_set_edns_do(p, dobit);
	}
	CHECK_EQ(ldns_pkt2wire(&wire, p, &len), LDNS_STATUS_OK);
	CHECK(len <= cap);
	if (wire != NULL && len <= cap)
		memcpy(out, wire, len);
	free(wire);
	ldns_pkt_free(p);
	return len;
}

static void test_answer_via_ldns(void)
{
	struct dns_builder b;
	struct dns_key k;
	struct dns_query q;
	ldns_pkt *p = NULL;
	uint8_t msg[4096];
	const uint8_t ip[4] = { 10, 96, 0, 10 };
	size_t qlen;
	int len;

	CHECK_EQ(dns_key_from_str(&k, "kube-dns.kube-system.svc.cluster.local", DNS_T_A), 0);
	dns_builder_init(&b, &k, DNS_F_AA);
	CHECK_EQ(dns_builder_add_addr(&b, DNS_SEC_ANSWER, NULL, 30, ip, AF_INET), 0);
	CHECK_EQ(dns_builder_add_soa(&b, DNS_SEC_AUTHORITY, "cluster.local", 30, "ns.dns.cluster.local",
				     "hostmaster.cluster.local", 7, 7200, 1800, 86400, 30), 0);
	CHECK(dns_builder_finish(&b, &val.a, sizeof(val)) > 0);

	qlen = ldns_query(msg, sizeof(msg), "Kube-DNS.kube-system.svc.cluster.local.", LDNS_RR_TYPE_A,
			  1232, true);
	CHECK_EQ(dns_parse_query(msg, qlen, &q), DNS_RCODE_NOERROR);
	CHECK(q.has_edns && q.edns_do && q.edns_size == 1232);
	CHECK_EQ(q.hash, dns_key_hash(&k));
	len = dns_write_answer(msg, sizeof(msg), &q, &val.a, 0);
	CHECK(len > 0);
	CHECK_EQ(ldns_wire2pkt(&p, msg, (size_t)len), LDNS_STATUS_OK);
	if (p == NULL)
		return;
	CHECK_EQ(ldns_pkt_id(p), 0x5150);
	CHECK(ldns_pkt_qr(p) && ldns_pkt_aa(p) && ldns_pkt_rd(p));
	CHECK(!ldns_pkt_tc(p) && !ldns_pkt_ra(p));
	CHECK_EQ(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	CHECK_EQ(ldns_pkt_qdcount(p), 1);
	CHECK_EQ(ldns_pkt_ancount(p), 1);
	CHECK_EQ(ldns_pkt_nscount(p), 1);
	CHECK_EQ(ldns_pkt_arcount(p), 0); /* ldns moves the OPT out of the section */
	CHECK(ldns_pkt_edns(p));
	CHECK_EQ(ldns_pkt_edns_udp_size(p), DNS_EDNS_SIZE);
	CHECK(ldns_pkt_edns_do(p));
	CHECK_EQ(ldns_pkt_edns_version(p), 0);
	{
		ldns_rr *a = ldns_rr_list_rr(ldns_pkt_answer(p), 0);
		ldns_rr *soa = ldns_rr_list_rr(ldns_pkt_authority(p), 0);
		char *owner = ldns_rdf2str(ldns_rr_owner(a));
		char *addr = ldns_rdf2str(ldns_rr_rdf(a, 0));
		char *mname = ldns_rdf2str(ldns_rr_rdf(soa, 0));

		CHECK_STR(owner, "Kube-DNS.kube-system.svc.cluster.local.");
		CHECK_EQ(ldns_rr_get_type(a), LDNS_RR_TYPE_A);
		CHECK_EQ(ldns_rr_ttl(a), 30);
		CHECK_STR(addr, "10.96.0.10");
		CHECK_EQ(ldns_rr_get_type(soa), LDNS_RR_TYPE_SOA);
		CHECK_STR(mname, "ns.dns.cluster.local.");
		CHECK_EQ(ldns_rdf2native_int32(ldns_rr_rdf(soa, 2)), 7);
		free(owner);
		free(addr);
		free(mname);
	}
	ldns_pkt_free(p);
}

static void test_badvers_via_ldns(void)
{
	struct dns_query q;
	ldns_pkt *p = NULL;
	uint8_t msg[512];
	size_t qlen = ldns_query(msg, sizeof(msg), "x.example.", LDNS_RR_TYPE_AAAA, 4096, false);
	int rc, len;

	/* ldns cannot set an EDNS version in a query: patch the OPT TTL's version byte */
	CHECK(qlen > 11);
	msg[qlen - 11 + 6] = 2;
	rc = dns_parse_query(msg, qlen, &q);
	CHECK_EQ(rc, DNS_RCODE_BADVERS);
	len = dns_write_rcode(msg, sizeof(msg), &q, rc);
	CHECK(len > 0);
	CHECK_EQ(ldns_wire2pkt(&p, msg, (size_t)len), LDNS_STATUS_OK);
	if (p == NULL)
		return;
	CHECK_EQ(ldns_pkt_get_rcode(p), 0);
	CHECK_EQ(ldns_pkt_edns_extended_rcode(p), 1);
	CHECK(!ldns_pkt_edns_do(p));
	CHECK_EQ(ldns_pkt_qdcount(p), 1);
	ldns_pkt_free(p);
}

static void test_tc_via_ldns(void)
{
	struct dns_builder b;
	struct dns_key k;
	struct dns_query q;
	ldns_pkt *p = NULL;
	uint8_t msg[4096];
	uint8_t ip6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	size_t qlen;
	int len;

	CHECK_EQ(dns_key_from_str(&k, "many.example", DNS_T_AAAA), 0);
	dns_builder_init(&b, &k, DNS_F_AA);
	for (int i = 0; i < 30; i++) {
		ip6[15] = (uint8_t)i;
		CHECK_EQ(dns_builder_add_addr(&b, DNS_SEC_ANSWER, NULL, 60, ip6, AF_INET6), 0);
	}
	CHECK(dns_builder_finish(&b, &val.a, sizeof(val)) > 0);
	qlen = ldns_query(msg, sizeof(msg), "many.example.", LDNS_RR_TYPE_AAAA, 0, false);
	CHECK_EQ(dns_parse_query(msg, qlen, &q), DNS_RCODE_NOERROR);
	len = dns_write_answer(msg, sizeof(msg), &q, &val.a, 0);
	CHECK_EQ(len, (int)qlen);
	CHECK_EQ(ldns_wire2pkt(&p, msg, (size_t)len), LDNS_STATUS_OK);
	if (p == NULL)
		return;
	CHECK(ldns_pkt_tc(p));
	CHECK_EQ(ldns_pkt_ancount(p), 0);
	CHECK(!ldns_pkt_edns(p));
	ldns_pkt_free(p);
}

int main(void)
{
	test_answer_via_ldns();
	test_badvers_via_ldns();
	test_tc_via_ldns();
	return check_summary("test_dns_ldns");
}
