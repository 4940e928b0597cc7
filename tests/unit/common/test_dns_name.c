/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - unit tests: names, keys, hashes, mnemonics.
 */
#include <errno.h>

#include "test_util.h"

static void check_from_str(const char *s, const char *wire, int wlen)
{
	uint8_t out[300];
	int r = dns_name_from_str(out, sizeof(out), s);

	CHECK_EQ(r, wlen);
	if (r == wlen && wlen > 0)
		CHECK(memcmp(out, wire, (size_t)wlen) == 0);
}

static void test_name_from_str(void)
{
	uint8_t out[300];
	char buf[600];

	check_from_str(".", "\0", 1);
	check_from_str("a", "\1a\0", 3);
	check_from_str("a.", "\1a\0", 3);
	check_from_str("WWW.Example.COM.", "\3www\7example\3com\0", 17);
	check_from_str("a\\.b.c", "\3a.b\1c\0", 7);
	check_from_str("\\065\\066c", "\3abc\0", 5);
	check_from_str("x\\000y", "\3x\0y\0", 5);
	check_from_str("a\\\\b", "\3a\\b\0", 5);
	check_from_str("_srv._tcp.x", "\4_srv\4_tcp\1x\0", 13);
	check_from_str("", NULL, -EINVAL);
	check_from_str("a..b", NULL, -EINVAL);
	check_from_str(".a", NULL, -EINVAL);
	check_from_str("..", NULL, -EINVAL);
	check_from_str("a\\", NULL, -EINVAL);
	check_from_str("a\\25", NULL, -EINVAL);
	check_from_str("a\\256", NULL, -EINVAL);
	check_from_str("a\\2x5", NULL, -EINVAL);
	CHECK_EQ(dns_name_from_str(out, sizeof(out), NULL), -EINVAL);

	/* label of 63 ok, 64 -EINVAL */
	memset(buf, 'a', 64);
	buf[63] = '\0';
	CHECK_EQ(dns_name_from_str(out, sizeof(out), buf), 65);
	buf[63] = 'a';
	buf[64] = '\0';
	CHECK_EQ(dns_name_from_str(out, sizeof(out), buf), -EINVAL);

	/* 255 ok, 256 -ENAMETOOLONG: 3 x 63 + 61 labels (+ 4 length bytes + root) = 255 */
	{
		size_t o = 0;

		for (int i = 0; i < 4; i++) {
			int l = i < 3 ? 63 : 61;

			memset(buf + o, 'b', (size_t)l);
			o += (size_t)l;
			buf[o++] = '.';
		}
		buf[o] = '\0';
		CHECK_EQ(dns_name_from_str(out, sizeof(out), buf), 255);
		buf[o - 1] = 'b';
		buf[o] = '.';
		buf[o + 1] = '\0';
		CHECK_EQ(dns_name_from_str(out, sizeof(out), buf), -ENAMETOOLONG);
		/* and with one more label */
		strcpy(buf + o, ".c");
		CHECK_EQ(dns_name_from_str(out, sizeof(out), buf), -ENAMETOOLONG);
	}
	/* output buffer too small */
	CHECK_EQ(dns_name_from_str(out, 4, "abc.d"), -ENOSPC);
	CHECK_EQ(dns_name_from_str(out, 7, "abc.d"), 7);
}

static void test_key_from_str(void)
{
	struct dns_key k;
	char buf[300];

	memset(&k, 0xff, sizeof(k));
	CHECK_EQ(dns_key_from_str(&k, "Foo.BAR", DNS_T_MX), 0);
	CHECK_EQ(k.name_len, 9);
	CHECK_EQ(k.qtype, DNS_T_MX);
	CHECK(memcmp(k.name, "\3foo\3bar\0", 9) == 0);
	for (size_t i = 9; i < DNS_KEY_NAME_MAX; i++)
		CHECK_EQ(k.name[i], 0);

	CHECK_EQ(dns_key_from_str(&k, "a..b", 1), -EINVAL);
	/* 124 wire bytes ok, 125 too long for a key */
	memset(buf, 'k', sizeof(buf));
	buf[62] = '.';
	buf[63 + 1 + 58] = '\0';
	CHECK_EQ(dns_key_from_str(&k, buf, 1), 0);
	CHECK_EQ(k.name_len, 124);
	buf[63 + 1 + 58] = 'k';
	buf[63 + 1 + 59] = '\0';
	CHECK_EQ(dns_key_from_str(&k, buf, 1), -ENAMETOOLONG);
	CHECK_EQ(dns_key_from_str(&k, ".", DNS_KEY_T_EXISTS), 0);
	CHECK_EQ(k.name_len, 1);
	CHECK_EQ(k.qtype, 0);
}

static void test_hash(void)
{
	struct dns_key k1, k2;
	uint8_t big[300];
	uint32_t h;

	CHECK_EQ(dns_key_from_str(&k1, "a.cluster.local", DNS_T_A), 0);
	CHECK_EQ(dns_key_from_str(&k2, "A.Cluster.Local.", DNS_T_A), 0);
	CHECK_EQ(dns_key_hash(&k1), dns_key_hash(&k2));
	h = dns_key_hash(&k1);
	CHECK_EQ(h, dns_hash_mix(dns_name_hash(k1.name, k1.name_len), DNS_T_A));
	k2.qtype = DNS_KEY_T_EXISTS;
	CHECK(dns_key_hash(&k2) != h);
	CHECK_EQ(dns_key_hash(&k2), dns_hash_mix(dns_name_hash(k1.name, k1.name_len), 0));
	CHECK_EQ(dns_key_from_str(&k2, "b.cluster.local", DNS_T_A), 0);
	CHECK(dns_key_hash(&k2) != h);

	/* dns_name_hash reads only len bytes: garbage after len must not matter */
	memset(big, 0xab, sizeof(big));
	memcpy(big, k1.name, k1.name_len);
	CHECK_EQ(dns_name_hash(big, k1.name_len), dns_name_hash(k1.name, k1.name_len));
	/* and it works on names longer than a key */
	memset(big, 'z', sizeof(big));
	CHECK(dns_name_hash(big, 255) != dns_name_hash(big, 254));
	/* clamps a corrupted name_len */
	k1.name_len = 0xffff;
	(void)dns_key_hash(&k1);

	/* crude spread check: 4096 names, low 12 bits: no bucket over 12 */
	{
		static unsigned int buckets[4096];
		unsigned int worst = 0;
		char name[64];

		for (int i = 0; i < 4096; i++) {
			snprintf(name, sizeof(name), "pod-%d.ns.svc.cluster.local", i);
			CHECK_EQ(dns_key_from_str(&k1, name, DNS_T_A), 0);
			buckets[dns_key_hash(&k1) & 4095]++;
		}
		for (int i = 0; i < 4096; i++)
			worst = buckets[i] > worst ? buckets[i] : worst;
		CHECK(worst <= 12);
	}
}

static void test_name_lower(void)
{
	uint8_t n[40];
	const char *in = "\7ExAmPlE\3COM\x05" "AZaz@\x03[`{\0";
	const char *ex = "\7example\3com\x05" "azaz@\x03[`{\0";
	uint8_t hi[16];

	memcpy(n, in, 23);
	dns_name_lower(n, 23);
	CHECK(memcmp(n, ex, 23) == 0);
	/* bytes >= 0x80 are not letters: 0xc1 must not become 0xe1 */
	for (int i = 0; i < 16; i++)
		hi[i] = (uint8_t)(0xc1 + i);
	dns_name_lower(hi, 16);
	for (int i = 0; i < 16; i++)
		CHECK_EQ(hi[i], 0xc1 + i);
	/* every byte value, at every position of a word */
	for (int pos = 0; pos < 8; pos++) {
		for (int c = 0; c < 256; c++) {
			uint8_t w[9] = { 0 };
			int want = (c >= 'A' && c <= 'Z') ? c + 32 : c;

			w[pos] = (uint8_t)c;
			w[(pos + 1) % 8] = 0xff;
			dns_name_lower(w, 8);
			CHECK_EQ(w[pos], want);
			CHECK_EQ(w[(pos + 1) % 8], 0xff);
		}
	}
}

static void test_name_to_str(void)
{
	char out[1024];
	uint8_t msg[512];

	{
		const uint8_t m[] = "\3WwW\7example\3com\0";

		CHECK_EQ(dns_name_to_str(m, sizeof(m) - 1, 0, out, sizeof(out)), 17);
		CHECK_STR(out, "WwW.example.com.");
	}
	{
		const uint8_t m[] = "\0";

		CHECK_EQ(dns_name_to_str(m, 1, 0, out, sizeof(out)), 1);
		CHECK_STR(out, ".");
	}
	{
		/* escapes: '.', '\\', space, 0x00, 0xff, '"' */
		const uint8_t m[] = "\7a.b\\ \0\xff\1\"\0";

		CHECK_EQ(dns_name_to_str(m, 11, 0, out, sizeof(out)), 11);
		CHECK_STR(out, "a\\.b\\\\\\032\\000\\255.\\\".");
		/* and back */
		{
			uint8_t w[64];

			CHECK_EQ(dns_name_from_str(w, sizeof(w), out), 11);
			CHECK(memcmp(w, m, 11) == 0);
		}
	}
	/* compression: "x" + pointer to "example.com" at 4 */
	memset(msg, 0, sizeof(msg));
	memcpy(msg, "\3www\7example\3com\0", 17);
	memcpy(msg + 17, "\1x\xc0\x04", 4);
	CHECK_EQ(dns_name_to_str(msg, 21, 17, out, sizeof(out)), 4);
	CHECK_STR(out, "x.example.com.");
	/* pointer straight away */
	memcpy(msg + 21, "\xc0\x11", 2);
	CHECK_EQ(dns_name_to_str(msg, 23, 21, out, sizeof(out)), 2);
	CHECK_STR(out, "x.example.com.");
	/* loop: pointer to itself */
	memcpy(msg + 30, "\xc0\x1e", 2);
	CHECK_EQ(dns_name_to_str(msg, 32, 30, out, sizeof(out)), -ELOOP);
	/* two-pointer loop */
	memcpy(msg + 40, "\xc0\x2a\xc0\x28", 4);
	CHECK_EQ(dns_name_to_str(msg, 44, 40, out, sizeof(out)), -ELOOP);
	/* label + pointer back to the label: grows until the name limit */
	memcpy(msg + 50, "\1a\xc0\x32", 4);
	CHECK(dns_name_to_str(msg, 54, 50, out, sizeof(out)) < 0);
	/* chain of exactly DNS_PTR_HOPS_MAX pointers ok, one more -ELOOP */
	memset(msg, 0, sizeof(msg));
	msg[100] = 0; /* root at 100 */
	for (int i = 0; i < DNS_PTR_HOPS_MAX + 1; i++) {
		int at = 102 + 2 * i, to = i == 0 ? 100 : at - 2;

		msg[at] = (uint8_t)(0xc0 | (to >> 8));
		msg[at + 1] = (uint8_t)to;
	}
	CHECK_EQ(dns_name_to_str(msg, 200, 102 + 2 * (DNS_PTR_HOPS_MAX - 1), out, sizeof(out)), 2);
	CHECK_STR(out, ".");
	CHECK_EQ(dns_name_to_str(msg, 200, 102 + 2 * DNS_PTR_HOPS_MAX, out, sizeof(out)), -ELOOP);
	/* truncated, bad label types, pointer out of the message */
	CHECK_EQ(dns_name_to_str((const uint8_t *)"\3ab", 3, 0, out, sizeof(out)), -EBADMSG);
	CHECK_EQ(dns_name_to_str((const uint8_t *)"\3abc", 4, 0, out, sizeof(out)), -EBADMSG);
	CHECK_EQ(dns_name_to_str((const uint8_t *)"\xc0", 1, 0, out, sizeof(out)), -EBADMSG);
	CHECK_EQ(dns_name_to_str((const uint8_t *)"\xc0\x09", 2, 0, out, sizeof(out)), -EBADMSG);
	CHECK_EQ(dns_name_to_str((const uint8_t *)"\x41\0", 2, 0, out, sizeof(out)), -EBADMSG);
	CHECK_EQ(dns_name_to_str((const uint8_t *)"\x81\0", 2, 0, out, sizeof(out)), -EBADMSG);
	CHECK_EQ(dns_name_to_str((const uint8_t *)"\0", 1, 1, out, sizeof(out)), -EBADMSG);
	/* output too small */
	CHECK_EQ(dns_name_to_str((const uint8_t *)"\3abc\0", 5, 0, out, 4), -ENOSPC);
	CHECK_EQ(dns_name_to_str((const uint8_t *)"\3abc\0", 5, 0, out, 5), 5);
	CHECK_EQ(dns_name_to_str((const uint8_t *)"\0", 1, 0, out, 1), -ENOSPC);
	CHECK_EQ(dns_name_to_str((const uint8_t *)"\0", 1, 0, out, 2), 1);
}

/* Worst-case presentation length fits 1024: 255 bytes of \DDD. */
/* Uncompressed wire out, bytes used at the offset, backward pointers only, loops refused. */
static void test_name_unpack(void)
{
	/* header(12) | "\3www\7Example\3com\0" at 12 | "\4mail" + ptr to 16 at 29 */
	uint8_t msg[64] = { 0 };
	uint8_t out[DNS_MAX_NAME];
	size_t olen = 0;
	static const uint8_t name[] = "\3www\7Example\3com";

	memcpy(msg + 12, name, sizeof(name)); /* 17 bytes incl. the root */
	memcpy(msg + 29, "\4mail\xc0\x10", 7);
	CHECK(dns_name_unpack(msg, 36, 12, out, &olen) == 17);
	CHECK(olen == 17 && memcmp(out, name, 17) == 0);
	CHECK(dns_name_unpack(msg, 36, 29, out, &olen) == 7);
	CHECK(olen == 18 && memcmp(out, "\4mail\7Example\3com", 18) == 0);
	CHECK(dns_name_unpack(msg, 36, 29, NULL, NULL) == 7);
	/* a pointer to itself or forward: refused (this also rules out loops) */
	msg[40] = 0xc0;
	msg[41] = 40;
	CHECK(dns_name_unpack(msg, 42, 40, out, &olen) == -EBADMSG);
	msg[41] = 41;
	CHECK(dns_name_unpack(msg, 42, 40, out, &olen) == -EBADMSG);
	/* truncated label, label type 0x40, out of data */
	CHECK(dns_name_unpack(msg, 20, 12, out, &olen) == -EBADMSG);
	msg[50] = 0x41;
	CHECK(dns_name_unpack(msg, 60, 50, out, &olen) == -EBADMSG);
	CHECK(dns_name_unpack(msg, 36, 36, out, &olen) == -EBADMSG);
}

static void test_name_to_str_worst(void)
{
	uint8_t m[255];
	char out[1024];
	size_t o = 0;

	for (int i = 0; i < 4; i++) {
		int l = i < 3 ? 63 : 61;

		m[o++] = (uint8_t)l;
		memset(m + o, 0x01, (size_t)l);
		o += (size_t)l;
	}
	m[o++] = 0;
	CHECK_EQ(o, 255);
	CHECK_EQ(dns_name_to_str(m, o, 0, out, sizeof(out)), 255);
	CHECK_EQ(strlen(out), 250 * 4 + 4);
}

static void test_mnemonics(void)
{
	CHECK_STR(dns_rcode_str(0), "NOERROR");
	CHECK_STR(dns_rcode_str(3), "NXDOMAIN");
	CHECK_STR(dns_rcode_str(5), "REFUSED");
	CHECK_STR(dns_rcode_str(16), "BADVERS");
	CHECK_STR(dns_rcode_str(12), "RCODE12");
	CHECK_STR(dns_rcode_str(-1), "RCODE-1");
	CHECK_STR(dns_rcode_str(4000), "RCODE4000");
	CHECK_STR(dns_type_str(DNS_T_A), "A");
	CHECK_STR(dns_type_str(DNS_T_AAAA), "AAAA");
	CHECK_STR(dns_type_str(DNS_T_SRV), "SRV");
	CHECK_STR(dns_type_str(65), "HTTPS");
	CHECK(dns_type_str(65280) == NULL);
	CHECK_EQ(dns_type_from_str("aaaa"), DNS_T_AAAA);
	CHECK_EQ(dns_type_from_str("Ptr"), DNS_T_PTR);
	CHECK_EQ(dns_type_from_str("TYPE65"), 65);
	CHECK_EQ(dns_type_from_str("type65535"), 65535);
	CHECK_EQ(dns_type_from_str("TYPE65536"), -EINVAL);
	CHECK_EQ(dns_type_from_str("TYPE"), -EINVAL);
	CHECK_EQ(dns_type_from_str("TYPE1x"), -EINVAL);
	CHECK_EQ(dns_type_from_str("TYPE-1"), -EINVAL);
	CHECK_EQ(dns_type_from_str("TYPE000000001"), -EINVAL);
	CHECK_EQ(dns_type_from_str("bogus"), -EINVAL);
	CHECK_EQ(dns_type_from_str(""), -EINVAL);
	CHECK_EQ(dns_type_from_str(NULL), -EINVAL);
	/* every known mnemonic round-trips */
	for (unsigned int t = 0; t < 65536; t++) {
		const char *s = dns_type_str((uint16_t)t);

		if (s != NULL)
			CHECK_EQ(dns_type_from_str(s), t);
	}
}

int main(void)
{
	test_name_from_str();
	test_key_from_str();
	test_hash();
	test_name_lower();
	test_name_to_str();
	test_name_to_str_worst();
	test_name_unpack();
	test_mnemonics();
	return check_summary("test_dns_name");
}
