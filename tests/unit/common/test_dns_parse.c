/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - unit tests: read cursor and dns_parse_query().
 */
#include "test_util.h"

static void test_wire_cursor(void)
{
	const uint8_t b[] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde };
	struct dns_wire w;

	dns_wire_init(&w, b, sizeof(b));
	CHECK_EQ(dns_wire_read_u8(&w), 0x12);
	CHECK_EQ(dns_wire_read_u16(&w), 0x3456);
	CHECK_EQ(dns_wire_avail(&w), 4);
	CHECK_EQ(dns_wire_read_u32(&w), 0x789abcde);
	CHECK_EQ(w.err, 0);
	CHECK_EQ(dns_wire_avail(&w), 0);
	CHECK_EQ(dns_wire_read_u8(&w), 0);
	CHECK(w.err != 0);
	/* sticky: later reads fail even though they would fit a fresh cursor */
	CHECK_EQ(dns_wire_read_u16(&w), 0);

	dns_wire_init(&w, b, sizeof(b));
	dns_wire_skip(&w, 6);
	CHECK_EQ(w.err, 0);
	CHECK_EQ(dns_wire_read_u16(&w), 0);
	CHECK(w.err != 0);
	CHECK_EQ(dns_wire_avail(&w), 0);
	/* a failed read does not move the cursor past the end */
	CHECK(w.pos <= w.end);

	dns_wire_init(&w, b, sizeof(b));
	dns_wire_skip(&w, 8);
	CHECK(w.err != 0);
	CHECK_EQ(dns_wire_read_u8(&w), 0);

	dns_wire_init(&w, b, 3);
	CHECK_EQ(dns_wire_read_u32(&w), 0);
	CHECK(w.err != 0);
}

static void test_basic_query(void)
{
	struct msgw m;
	struct dns_query q;
	struct dns_key k;

	mw_query(&m, 0xbeef, "WwW.ExAmple.COM", DNS_T_AAAA, 0, 0, 0);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_NOERROR);
	CHECK_EQ(q.id, 0xbeef);
	CHECK_EQ(q.flags, DNS_F_RD);
	CHECK_EQ(q.qtype, DNS_T_AAAA);
	CHECK_EQ(q.qclass, DNS_C_IN);
	CHECK_EQ(q.qname_len, 17);
	CHECK_EQ(q.question_end, 12 + 17 + 4);
	CHECK_EQ(q.msg_len, m.len);
	CHECK(q.key_ok);
	CHECK(!q.has_edns);
	CHECK_EQ(q.key.name_len, 17);
	CHECK_EQ(q.key.qtype, DNS_T_AAAA);
	CHECK(memcmp(q.key.name, "\3www\7example\3com", 17) == 0);
	/* zero padding of the whole key after the name */
	for (size_t i = 17; i < DNS_KEY_NAME_MAX; i++)
		CHECK_EQ(q.key.name[i], 0);
	/* the message itself is untouched (case preserved for the echo) */
	CHECK(memcmp(m.buf + 12, "\3WwW\7ExAmple\3COM", 17) == 0);

	CHECK_EQ(dns_key_from_str(&k, "www.example.com.", DNS_T_AAAA), 0);
	CHECK(memcmp(&k, &q.key, sizeof(k)) == 0);
	CHECK_EQ(dns_key_hash(&k), q.hash);
	CHECK_EQ(dns_name_hash(k.name, k.name_len), q.name_hash);
	CHECK_EQ(dns_hash_mix(q.name_hash, DNS_T_AAAA), q.hash);
}

static void test_hash_case_and_len(void)
{
	static const char *const names[] = {
		".", "a", "ab.c", "abcdefg", "abcdefgh", "ABCDEFGHIJKLMNOPQRSTUVWXYZ.com",
		"kubernetes.default.svc.cluster.local",
		"x12345678901234567890123456789012345678901234567890123456789012.y",
	};
	struct msgw m;
	struct dns_query q1, q2;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char upper[256], lower[256];
		struct dns_key k;
		size_t j;

		for (j = 0; names[i][j] != '\0'; j++) {
			upper[j] = (char)((names[i][j] >= 'a' && names[i][j] <= 'z') ?
					  names[i][j] - 32 : names[i][j]);
			lower[j] = (char)((names[i][j] >= 'A' && names[i][j] <= 'Z') ?
					  names[i][j] + 32 : names[i][j]);
		}
		upper[j] = lower[j] = '\0';
		mw_query(&m, 1, upper, DNS_T_A, 0, 0, 0);
		CHECK_EQ(dns_parse_query(m.buf, m.len, &q1), DNS_RCODE_NOERROR);
		mw_query(&m, 1, lower, DNS_T_A, 0, 0, 0);
		CHECK_EQ(dns_parse_query(m.buf, m.len, &q2), DNS_RCODE_NOERROR);
		CHECK(q1.key_ok && q2.key_ok);
		CHECK(memcmp(&q1.key, &q2.key, sizeof(q1.key)) == 0);
		CHECK_EQ(q1.hash, q2.hash);
		CHECK_EQ(q1.name_hash, q2.name_hash);
		CHECK_EQ(dns_key_from_str(&k, names[i], DNS_T_A), 0);
		CHECK_EQ(dns_key_hash(&k), q1.hash);
		CHECK(memcmp(&k, &q1.key, sizeof(k)) == 0);
	}
	/* qtype is part of the final hash, and lengths are distinguished */
	CHECK(dns_hash_mix(1234, DNS_T_A) != dns_hash_mix(1234, DNS_T_AAAA));
	CHECK(dns_name_hash((const uint8_t *)"\1a\0\0\0\0\0\0", 3) !=
	      dns_name_hash((const uint8_t *)"\1a\0\0\0\0\0\0", 4));
}

/* Every name length from 1 to 124: padded-key hashing == unpadded dns_name_hash(). */
static void test_hash_all_lengths(void)
{
	struct msgw m;
	struct dns_query q;
	char name[300];

	for (int total = 1; total <= 255; total++) {
		/* labels of up to 63 chars summing to a wire length of total */
		size_t o = 0, wire = 1;

		while ((size_t)total - wire >= 2) {
			size_t rem = (size_t)total - wire;
			size_t l = rem - 1 > 63 ? 63 : rem - 1;

			if (rem - (l + 1) == 1)
				l--; /* never leave exactly one byte: no label fits it */
			if (o > 0)
				name[o++] = '.';
			for (size_t i = 0; i < l; i++)
				name[o++] = (char)('A' + (i + wire) % 26);
			wire += l + 1;
		}
		name[o] = '\0';
		mw_query(&m, 7, o ? name : ".", DNS_T_TXT, 0, 0, 0);
		CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_NOERROR);
		CHECK_EQ(q.qname_len, wire);
		if (wire <= DNS_KEY_NAME_MAX) {
			uint8_t copy[DNS_KEY_NAME_MAX];

			CHECK(q.key_ok);
			memcpy(copy, q.key.name, wire);
			CHECK_EQ(dns_name_hash(copy, wire), q.name_hash);
			CHECK_EQ(dns_key_hash(&q.key), q.hash);
			for (size_t i = wire; i < DNS_KEY_NAME_MAX; i++)
				CHECK_EQ(q.key.name[i], 0);
		} else {
			CHECK(!q.key_ok);
			CHECK_EQ(q.question_end, 12 + wire + 4);
		}
	}
}

static void test_drop_and_notimp(void)
{
	struct msgw m;
	struct dns_query q;

	mw_query(&m, 1, "a.b", DNS_T_A, 0, 0, 0);
	for (size_t l = 0; l < 12; l++) {
		CHECK_EQ(dns_parse_query(m.buf, l, &q), DNS_PARSE_DROP);
		CHECK_EQ(q.question_end, 0);
	}
	m.buf[2] |= 0x80; /* QR */
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_PARSE_DROP);

	mw_query(&m, 1, "a.b", DNS_T_A, 1232, 0, 1);
	m.buf[2] = (uint8_t)(m.buf[2] | (2 << 3)); /* opcode STATUS */
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_NOTIMP);
	CHECK_EQ(q.question_end, 12 + 5 + 4);
	CHECK(q.has_edns);
	CHECK(q.edns_do);

	/* opcode NOTIFY with a broken question: NOTIMP, nothing echoed */
	mw_header(&m, 1, 4 << 11, 1, 0, 0, 0);
	mw_u8(&m, 0xc0);
	mw_u8(&m, 12);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_NOTIMP);
	CHECK_EQ(q.question_end, 0);
	/* opcode UPDATE, qdcount 0 */
	mw_header(&m, 1, 5 << 11, 0, 0, 0, 0);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_NOTIMP);
}

static void test_formerr_question(void)
{
	struct msgw m;
	struct dns_query q;

	mw_header(&m, 1, 0, 0, 0, 0, 0);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_FORMERR);
	CHECK_EQ(q.question_end, 0);

	mw_header(&m, 1, 0, 2, 0, 0, 0);
	mw_name(&m, "a");
	mw_u16(&m, 1);
	mw_u16(&m, 1);
	mw_name(&m, "b");
	mw_u16(&m, 1);
	mw_u16(&m, 1);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_FORMERR);
	CHECK_EQ(q.question_end, 0);

	/* pointer in the question */
	mw_header(&m, 1, 0, 1, 0, 0, 0);
	mw_u8(&m, 1);
	mw_u8(&m, 'a');
	mw_u8(&m, 0xc0);
	mw_u8(&m, 12);
	mw_u16(&m, 1);
	mw_u16(&m, 1);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_FORMERR);
	CHECK_EQ(q.question_end, 0);

	/* label types 0x40 and 0x80 */
	for (unsigned int t = 0x40; t <= 0x80; t += 0x40) {
		mw_header(&m, 1, 0, 1, 0, 0, 0);
		mw_u8(&m, t | 1);
		mw_u8(&m, 'a');
		mw_u8(&m, 0);
		mw_u16(&m, 1);
		mw_u16(&m, 1);
		CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_FORMERR);
	}

	/* truncated qtype / qclass / name */
	mw_query(&m, 1, "abc.de", DNS_T_A, 0, 0, 0);
	for (size_t l = 12; l < m.len; l++) {
		CHECK_EQ(dns_parse_query(m.buf, l, &q), DNS_RCODE_FORMERR);
		CHECK_EQ(q.question_end, 0);
	}

	/* name over 255 bytes: 4 labels of 63 + root = 257 */
	mw_header(&m, 1, 0, 1, 0, 0, 0);
	for (int i = 0; i < 4; i++) {
		mw_u8(&m, 63);
		for (int j = 0; j < 63; j++)
			mw_u8(&m, 'x');
	}
	mw_u8(&m, 0);
	mw_u16(&m, 1);
	mw_u16(&m, 1);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_FORMERR);
	/* exactly 255 is fine: 3x63 + 61 + root = 255 */
	mw_header(&m, 1, 0, 1, 0, 0, 0);
	for (int i = 0; i < 4; i++) {
		int l = i < 3 ? 63 : 61;

		mw_u8(&m, (unsigned int)l);
		for (int j = 0; j < l; j++)
			mw_u8(&m, 'x');
	}
	mw_u8(&m, 0);
	mw_u16(&m, 1);
	mw_u16(&m, 1);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_NOERROR);
	CHECK_EQ(q.qname_len, 255);
	CHECK(!q.key_ok);

	/* trailing garbage */
	mw_query(&m, 1, "a", DNS_T_A, 0, 0, 0);
	mw_u8(&m, 0);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_FORMERR);
	CHECK_EQ(q.question_end, 12 + 3 + 4); /* question parsed: echoed in the FORMERR */
}

static void test_long_name_boundary(void)
{
	struct msgw m;
	struct dns_query q;
	char name[200];

	/* 124 wire bytes: 62 + 59 label bytes + 2 length bytes + root */
	memset(name, 'q', sizeof(name));
	name[62] = '.';
	name[63 + 1 + 58] = '\0';
	mw_query(&m, 1, name, DNS_T_A, 0, 0, 0);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_NOERROR);
	CHECK_EQ(q.qname_len, 124);
	CHECK(q.key_ok);
	CHECK_EQ(q.key.qtype, DNS_T_A);
	CHECK_EQ(q.key.name_len, 124);
	CHECK_EQ(dns_key_hash(&q.key), q.hash);
	name[63 + 1 + 58] = 'q';
	name[63 + 1 + 59] = '\0';
	mw_query(&m, 1, name, DNS_T_A, 0, 0, 0);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_NOERROR);
	CHECK_EQ(q.qname_len, 125);
	CHECK(!q.key_ok);
	CHECK_EQ(q.question_end, 12 + 125 + 4);
}

static void test_edns(void)
{
	struct msgw m;
	struct dns_query q;

	mw_query(&m, 1, "a", DNS_T_A, 4096, 0, 1);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_NOERROR);
	CHECK(q.has_edns);
	CHECK(q.edns_do);
	CHECK_EQ(q.edns_size, 4096);
	CHECK_EQ(q.edns_version, 0);

	mw_query(&m, 1, "a", DNS_T_A, 100, 0, 0);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_NOERROR);
	CHECK_EQ(q.edns_size, 512);
	CHECK(!q.edns_do);

	mw_query(&m, 1, "a", DNS_T_A, 1232, 1, 0);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_BADVERS);
	CHECK_EQ(q.edns_version, 1);
	CHECK(q.question_end != 0);

	/* two OPTs */
	mw_query(&m, 1, "a", DNS_T_A, 1232, 0, 0);
	m.buf[11] = 2;
	mw_opt(&m, 1232, 0, 0);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_FORMERR);
	CHECK(!q.has_edns);

	/* OPT owner not root */
	mw_header(&m, 1, 0, 1, 0, 0, 1);
	mw_name(&m, "a");
	mw_u16(&m, 1);
	mw_u16(&m, 1);
	mw_name(&m, "a");
	mw_u16(&m, DNS_T_OPT);
	mw_u16(&m, 1232);
	mw_u32(&m, 0);
	mw_u16(&m, 0);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_FORMERR);
	/* OPT owner as a pointer to the root of the question: still not a root owner */
	mw_header(&m, 1, 0, 1, 0, 0, 1);
	mw_name(&m, "a");
	mw_u16(&m, 1);
	mw_u16(&m, 1);
	mw_u8(&m, 0xc0);
	mw_u8(&m, 14);
	mw_u16(&m, DNS_T_OPT);
	mw_u16(&m, 1232);
	mw_u32(&m, 0);
	mw_u16(&m, 0);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_FORMERR);

	/* OPT rdata longer than the message, and with an option overrunning it */
	mw_query(&m, 1, "a", DNS_T_A, 1232, 0, 0);
	m.buf[m.len - 1] = 4;
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_FORMERR);
	mw_u16(&m, 10); /* option code: cookie */
	mw_u16(&m, 8);  /* claims 8 bytes, has 0 */
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_FORMERR);
	/* well-formed option */
	mw_query(&m, 1, "a", DNS_T_A, 1232, 0, 0);
	m.buf[m.len - 1] = 12;
	mw_u16(&m, 10);
	mw_u16(&m, 8);
	mw_bytes(&m, "12345678", 8);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_NOERROR);
	CHECK(q.has_edns);

	/* OPT in the answer section */
	mw_header(&m, 1, 0, 1, 1, 0, 0);
	mw_name(&m, "a");
	mw_u16(&m, 1);
	mw_u16(&m, 1);
	mw_opt(&m, 1232, 0, 0);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_FORMERR);

	/* BADVERS before REFUSED (class CH with version 1) */
	mw_query(&m, 1, "a", DNS_T_A, 1232, 1, 0);
	m.buf[12 + 3 + 3] = DNS_C_CH;
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_BADVERS);
}

static void test_class_and_records(void)
{
	struct msgw m;
	struct dns_query q;

	mw_query(&m, 1, "version.bind", DNS_T_TXT, 0, 0, 0);
	m.buf[m.len - 1] = DNS_C_CH;
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_REFUSED);
	CHECK_EQ(q.qclass, DNS_C_CH);
	CHECK(q.question_end != 0);
	/* REFUSED only when the rest is well formed */
	mw_u8(&m, 1);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_FORMERR);

	/* answer + authority records with compressed names are skipped */
	mw_header(&m, 1, 0, 1, 1, 1, 2);
	mw_name(&m, "a.example");
	mw_u16(&m, 1);
	mw_u16(&m, 1);
	mw_u8(&m, 0xc0); /* answer: owner = question name */
	mw_u8(&m, 12);
	mw_u16(&m, 1);
	mw_u16(&m, 1);
	mw_u32(&m, 60);
	mw_u16(&m, 4);
	mw_u32(&m, 0x01020304);
	mw_u8(&m, 1); /* authority: "x" + pointer to "example" */
	mw_u8(&m, 'x');
	mw_u8(&m, 0xc0);
	mw_u8(&m, 14);
	mw_u16(&m, DNS_T_NS);
	mw_u16(&m, 1);
	mw_u32(&m, 60);
	mw_u16(&m, 2);
	mw_u8(&m, 0xc0);
	mw_u8(&m, 12);
	mw_name(&m, "glue"); /* additional: a normal record then the OPT */
	mw_u16(&m, 1);
	mw_u16(&m, 1);
	mw_u32(&m, 60);
	mw_u16(&m, 0);
	mw_opt(&m, 2048, 0, 0);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_NOERROR);
	CHECK(q.has_edns);
	CHECK_EQ(q.edns_size, 2048);
	/* truncate anywhere inside the records: FORMERR, question still echoed */
	for (size_t l = 12 + 11 + 4; l < m.len; l++) {
		CHECK_EQ(dns_parse_query(m.buf, l, &q), DNS_RCODE_FORMERR);
		CHECK_EQ(q.question_end, 12 + 11 + 4);
		CHECK(!q.has_edns);
	}
	/* record count larger than the records present */
	m.buf[11] = 3;
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_FORMERR);
}

static void test_additional_loop(void)
{
	struct msgw m;
	struct dns_query q;
	size_t at;

	/* additional record whose owner is a pointer to itself */
	mw_header(&m, 1, 0, 1, 0, 0, 1);
	mw_name(&m, "a");
	mw_u16(&m, 1);
	mw_u16(&m, 1);
	at = m.len;
	mw_u8(&m, 0xc0 | (unsigned int)(at >> 8));
	mw_u8(&m, at & 0xff);
	mw_u16(&m, 1);
	mw_u16(&m, 1);
	mw_u32(&m, 0);
	mw_u16(&m, 0);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_FORMERR);

	/* label then a pointer back to that label: a two-step loop */
	mw_header(&m, 1, 0, 1, 0, 0, 1);
	mw_name(&m, "a");
	mw_u16(&m, 1);
	mw_u16(&m, 1);
	at = m.len;
	mw_u8(&m, 1);
	mw_u8(&m, 'z');
	mw_u8(&m, 0xc0 | (unsigned int)(at >> 8));
	mw_u8(&m, at & 0xff);
	mw_u16(&m, 1);
	mw_u16(&m, 1);
	mw_u32(&m, 0);
	mw_u16(&m, 0);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_FORMERR);

	/* forward pointer and pointer into the header */
	mw_header(&m, 1, 0, 1, 0, 0, 1);
	mw_name(&m, "a");
	mw_u16(&m, 1);
	mw_u16(&m, 1);
	mw_u8(&m, 0xc0);
	mw_u8(&m, 4);
	mw_u16(&m, 1);
	mw_u16(&m, 1);
	mw_u32(&m, 0);
	mw_u16(&m, 0);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_FORMERR);
	m.buf[12 + 3 + 4 + 1] = 0xff;
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_FORMERR);
	/* a valid backwards pointer in the same place parses */
	m.buf[12 + 3 + 4 + 1] = 12;
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_NOERROR);
}

static void test_reparse_resets(void)
{
	struct msgw m;
	struct dns_query q;

	mw_query(&m, 1, "a", DNS_T_A, 4096, 0, 1);
	CHECK_EQ(dns_parse_query(m.buf, m.len, &q), DNS_RCODE_NOERROR);
	CHECK(q.has_edns);
	CHECK_EQ(dns_parse_query(m.buf, 5, &q), DNS_PARSE_DROP);
	CHECK(!q.has_edns);
	CHECK(!q.key_ok);
	CHECK_EQ(q.question_end, 0);
	CHECK_EQ(q.msg_len, 5);
}

int main(void)
{
	test_wire_cursor();
	test_basic_query();
	test_hash_case_and_len();
	test_hash_all_lengths();
	test_drop_and_notimp();
	test_formerr_question();
	test_long_name_boundary();
	test_edns();
	test_class_and_records();
	test_additional_loop();
	test_reparse_resets();
	return check_summary("test_dns_parse");
}
