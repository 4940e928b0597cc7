/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - fuzz target: the query parser and the in-place responders on arbitrary input.
 *
 * Every invariant the fast path relies on is checked, and a violation aborts (what
 * libFuzzer and the replay driver report as a crash):
 *  - the parser's verdict is one of the documented values and consistent with q;
 *  - the key is the lower-cased question name, zero padded, and its hash matches;
 *  - responses never exceed the capacity (canary bytes after it stay intact), decode
 *    cleanly, echo ID/opcode/question, and parse again as the same question;
 *  - dns_name_to_str() output re-encodes with dns_name_from_str().
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "check.h"
#include "dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CANARY     0x5a
#define CANARY_LEN 64
#define MSG_MAX    65535

static uint8_t work[MSG_MAX + CANARY_LEN];

union value {
	struct dns_answer a;
	uint8_t raw[sizeof(struct dns_answer) + DNS_BUILD_MAX + 2 * DNS_ANS_MAX_TTL + 2];
};

static union value v_small, v_big, v_cache;

static void build_values(void)
{
	static int done;
	struct dns_builder b;
	struct dns_key k;
	const uint8_t ip[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };

	if (done)
		return;
	done = 1;
	CHECK_OR_ABORT(dns_key_from_str(&k, "fuzz.example", DNS_T_A) == 0);
	dns_builder_init(&b, &k, DNS_F_AA);
	CHECK_OR_ABORT(dns_builder_add_addr(&b, DNS_SEC_ANSWER, NULL, 60, ip, AF_INET) == 0);
	CHECK_OR_ABORT(dns_builder_add_soa(&b, DNS_SEC_AUTHORITY, "example", 5, "ns.example",
					   "h.example", 1, 2, 3, 4, 5) == 0);
	CHECK_OR_ABORT(dns_builder_add_addr(&b, DNS_SEC_ADDITIONAL, "ns.example", 60, ip, AF_INET6) == 0);
	CHECK_OR_ABORT(dns_builder_finish(&b, &v_small.a, sizeof(v_small)) > 0);

	dns_builder_init(&b, &k, DNS_F_AA | DNS_RCODE_NXDOMAIN);
	for (int i = 0; i < DNS_ANS_MAX_TTL; i++)
		CHECK_OR_ABORT(dns_builder_add_addr(&b, DNS_SEC_ANSWER, NULL, (uint32_t)i, ip,
						    AF_INET6) == 0);
	CHECK_OR_ABORT(dns_builder_finish(&b, &v_big.a, sizeof(v_big)) > 0);

	dns_builder_init(&b, &k, DNS_F_RA);
	CHECK_OR_ABORT(dns_builder_add_name(&b, DNS_SEC_ANSWER, NULL, DNS_T_CNAME, 300, "t.example") == 0);
	CHECK_OR_ABORT(dns_builder_add_addr(&b, DNS_SEC_ANSWER, "t.example", 10, ip, AF_INET) == 0);
	CHECK_OR_ABORT(dns_builder_finish(&b, &v_cache.a, sizeof(v_cache)) > 0);
	v_cache.a.stored = 1000;
	v_cache.a.expire = 1300;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void check_query(const uint8_t *data, size_t size, const struct dns_query *q, int rc)
{
	CHECK_OR_ABORT(rc == DNS_PARSE_DROP || rc == DNS_RCODE_NOERROR || rc == DNS_RCODE_FORMERR ||
		       rc == DNS_RCODE_NOTIMP || rc == DNS_RCODE_BADVERS || rc == DNS_RCODE_REFUSED);
	CHECK_OR_ABORT(q->msg_len == size);
	if (size < DNS_HDR_LEN || (data[2] & 0x80))
		CHECK_OR_ABORT(rc == DNS_PARSE_DROP);
	if (rc == DNS_PARSE_DROP) {
		CHECK_OR_ABORT(q->question_end == 0 && !q->key_ok && !q->has_edns);
		return;
	}
	if (q->question_end != 0) {
		CHECK_OR_ABORT(q->qname_len >= 1 && q->qname_len <= DNS_MAX_NAME);
		CHECK_OR_ABORT(q->question_end == DNS_HDR_LEN + q->qname_len + 4);
		CHECK_OR_ABORT(q->question_end <= size);
		CHECK_OR_ABORT(rd16(data + 4) == 1);
		CHECK_OR_ABORT(q->qtype == rd16(data + q->question_end - 4));
		CHECK_OR_ABORT(q->qclass == rd16(data + q->question_end - 2));
		CHECK_OR_ABORT(q->key_ok == (q->qname_len <= DNS_KEY_NAME_MAX));
	} else {
		CHECK_OR_ABORT(!q->key_ok && !q->has_edns);
		CHECK_OR_ABORT(rc == DNS_RCODE_FORMERR || rc == DNS_RCODE_NOTIMP);
	}
	if (q->key_ok) {
		const uint8_t *kb = (const uint8_t *)&q->key;

		CHECK_OR_ABORT(q->key.name_len == q->qname_len && q->key.qtype == q->qtype);
		for (size_t i = 0; i < q->qname_len; i++) {
			uint8_t c = data[DNS_HDR_LEN + i];

			if (c >= 'A' && c <= 'Z')
				c |= 0x20;
			CHECK_OR_ABORT(q->key.name[i] == c);
		}
		for (size_t i = q->qname_len; i < DNS_KEY_NAME_MAX; i++)
			CHECK_OR_ABORT(kb[i] == 0);
		CHECK_OR_ABORT(dns_key_hash(&q->key) == q->hash);
		CHECK_OR_ABORT(dns_name_hash(q->key.name, q->key.name_len) == q->name_hash);
		CHECK_OR_ABORT(dns_hash_mix(q->name_hash, q->qtype) == q->hash);
	}
	if (q->has_edns)
		CHECK_OR_ABORT(q->edns_size >= DNS_UDP_MIN);
	if (rc == DNS_RCODE_NOERROR)
		CHECK_OR_ABORT(q->question_end != 0 && q->qclass == DNS_C_IN && (data[2] & 0x78) == 0);
	if (rc == DNS_RCODE_BADVERS)
		CHECK_OR_ABORT(q->has_edns && q->edns_version > 0);
}

/* Canary after cap intact; the response decodes and re-parses as the same question. */
static void check_response(const struct dns_query *q, size_t cap, int len, int rcode)
{
	struct dns_query q2;
	int rc2;

	for (size_t i = cap; i < cap + CANARY_LEN; i++)
		CHECK_OR_ABORT(work[i] == CANARY);
	if (len < 0) {
		CHECK_OR_ABORT((size_t)(q->question_end ? q->question_end : DNS_HDR_LEN) +
			       (q->has_edns ? 11u : 0u) > cap);
		return;
	}
	CHECK_OR_ABORT((size_t)len <= cap && len >= DNS_HDR_LEN);
	CHECK_OR_ABORT(rd16(work) == q->id);
	CHECK_OR_ABORT(work[2] & 0x80);
	CHECK_OR_ABORT((work[2] & 0x78) == ((q->flags >> 8) & 0x78));
	CHECK_OR_ABORT((work[3] & 0x0f) == (rcode & 0x0f));
	CHECK_OR_ABORT(rd16(work + 4) == (q->question_end != 0));
	if (work[2] & 0x02)
		CHECK_OR_ABORT(rd16(work + 6) == 0 && rd16(work + 8) == 0 &&
			       rd16(work + 10) == (q->has_edns ? 1 : 0));
	/* the response is a well-formed message: it parses (QR cleared) with the same key */
	work[2] &= 0x7f;
	rc2 = dns_parse_query(work, (size_t)len, &q2);
	work[2] |= 0x80;
	if (q->question_end == 0)
		return;
	CHECK_OR_ABORT(rc2 != DNS_PARSE_DROP && rc2 != DNS_RCODE_FORMERR && rc2 != DNS_RCODE_BADVERS);
	CHECK_OR_ABORT(q2.question_end == q->question_end && q2.qname_len == q->qname_len);
	CHECK_OR_ABORT(q2.has_edns == q->has_edns);
	if (q->has_edns)
		CHECK_OR_ABORT(q2.edns_do == q->edns_do && q2.edns_size == DNS_EDNS_SIZE);
	if (q->key_ok)
		CHECK_OR_ABORT(q2.hash == q->hash && memcmp(&q2.key, &q->key, sizeof(q->key)) == 0);
}

static void prepare(const uint8_t *data, size_t size, size_t cap)
{
	memcpy(work, data, size < cap ? size : cap);
	memset(work + cap, CANARY, CANARY_LEN);
}

static void check_answers(const uint8_t *data, size_t size, const struct dns_query *q)
{
	const struct dns_answer *vals[3] = { &v_small.a, &v_big.a, &v_cache.a };
	const size_t caps[4] = { size, DNS_UDP_MIN, q->question_end, 4096 };

	for (size_t v = 0; v < 3; v++) {
		for (size_t c = 0; c < 4; c++) {
			size_t cap = caps[c] > MSG_MAX ? MSG_MAX : caps[c];
			int len;

			if (cap < q->question_end)
				continue;
			prepare(data, size, cap);
			len = dns_write_answer(work, cap, q, vals[v], 1100);
			check_response(q, cap, len, vals[v]->flags & DNS_F_RCODE);
		}
	}
}

/* @return wire length of the name at @p off when it has no pointer, else -1. */
static int plain_name_len(const uint8_t *data, size_t size, size_t off)
{
	size_t p = off;

	while (p < size && data[p] != 0) {
		if (data[p] & 0xc0)
			return -1;
		p += (size_t)data[p] + 1;
	}
	return p < size ? (int)(p + 1 - off) : -1;
}

static void check_name_to_str(const uint8_t *data, size_t size)
{
	static char text[1024];
	uint8_t wire[DNS_MAX_NAME];
	int n, w;

	n = dns_name_to_str(data, size, DNS_HDR_LEN, text, sizeof(text));
	if (n < 0)
		return;
	CHECK_OR_ABORT((size_t)n <= size - DNS_HDR_LEN);
	CHECK_OR_ABORT(strlen(text) < sizeof(text) && text[strlen(text) - 1] == '.');
	w = dns_name_from_str(wire, sizeof(wire), text);
	CHECK_OR_ABORT(w > 0);
	/* an uncompressed name must come back byte for byte, lower-cased */
	if (plain_name_len(data, size, DNS_HDR_LEN) == n) {
		CHECK_OR_ABORT(w == n);
		for (int i = 0; i < n; i++) {
			uint8_t c = data[DNS_HDR_LEN + (size_t)i];

			CHECK_OR_ABORT(wire[i] == ((c >= 'A' && c <= 'Z') ? (c | 0x20) : c));
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_query q;
	int rc;

	if (size > MSG_MAX)
		return 0;
	build_values();
	rc = dns_parse_query(data, size, &q);
	check_query(data, size, &q, rc);
	if (size > DNS_HDR_LEN)
		check_name_to_str(data, size);
	if (rc == DNS_PARSE_DROP)
		return 0;
	prepare(data, size, size);
	check_response(&q, size, dns_write_rcode(work, size, &q, rc), rc);
	prepare(data, size, DNS_UDP_MIN);
	if (size <= DNS_UDP_MIN)
		check_response(&q, DNS_UDP_MIN,
			       dns_write_rcode(work, DNS_UDP_MIN, &q, DNS_RCODE_SERVFAIL),
			       DNS_RCODE_SERVFAIL);
	if (rc == DNS_RCODE_NOERROR)
		check_answers(data, size, &q);
	return 0;
}
