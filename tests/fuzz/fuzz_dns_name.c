/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - fuzz target: presentation <-> wire names, keys, type mnemonics, and the
 * builder fed with arbitrary names (the control plane encodes names from Corefiles,
 * hosts files and Kubernetes objects: untrusted text).
 *
 * Invariants (abort on violation):
 *  - dns_name_from_str() either fails or yields a valid wire name (labels <= 63,
 *    total <= 255) that dns_name_to_str() renders to text encoding back to the same wire;
 *  - dns_key_from_str() agrees with dns_name_from_str() and zero-pads;
 *  - dns_name_to_str() on the input as wire never writes past its capacity;
 *  - a builder value made from the names answers a query for the name, and the
 *    response parses again.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "check.h"
#include "dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TEXT_MAX 1100
#define CANARY 0x77

static void check_wire_name(const uint8_t *w, int len)
{
	int p = 0;

	CHECK_OR_ABORT(len >= 1 && len <= DNS_MAX_NAME);
	while (w[p] != 0) {
		CHECK_OR_ABORT(w[p] <= DNS_MAX_LABEL);
		p += w[p] + 1;
		CHECK_OR_ABORT(p < len);
	}
	CHECK_OR_ABORT(p == len - 1);
	for (int i = 0; i < len; i++)
		CHECK_OR_ABORT(!(w[i] >= 'A' && w[i] <= 'Z'));
}

static void check_text(const char *text)
{
	uint8_t w1[DNS_MAX_NAME], w2[DNS_MAX_NAME];
	char back[1024];
	struct dns_key k;
	int n1, n2, r, t;

	n1 = dns_name_from_str(w1, sizeof(w1), text);
	r = dns_key_from_str(&k, text, 1);
	if (n1 < 0) {
		CHECK_OR_ABORT(n1 == -EINVAL || n1 == -ENAMETOOLONG);
		CHECK_OR_ABORT(r == n1);
	} else {
		check_wire_name(w1, n1);
		CHECK_OR_ABORT(dns_name_to_str(w1, (size_t)n1, 0, back, sizeof(back)) == n1);
		n2 = dns_name_from_str(w2, sizeof(w2), back);
		CHECK_OR_ABORT(n2 == n1 && memcmp(w1, w2, (size_t)n1) == 0);
		if (n1 <= DNS_KEY_NAME_MAX) {
			CHECK_OR_ABORT(r == 0 && k.name_len == n1 && memcmp(k.name, w1, (size_t)n1) == 0);
			for (size_t i = (size_t)n1; i < DNS_KEY_NAME_MAX; i++)
				CHECK_OR_ABORT(k.name[i] == 0);
			CHECK_OR_ABORT(dns_key_hash(&k) ==
				       dns_hash_mix(dns_name_hash(w1, (size_t)n1), 1));
		} else {
			CHECK_OR_ABORT(r == -ENAMETOOLONG);
		}
	}
	t = dns_type_from_str(text);
	if (t >= 0) {
		const char *s;

		CHECK_OR_ABORT(t <= UINT16_MAX);
		s = dns_type_str((uint16_t)t);
		if (s != NULL)
			CHECK_OR_ABORT(dns_type_from_str(s) == t);
	}
}

/* Input as wire: render with every small capacity; nothing past cap may change. */
static void check_to_str_caps(const uint8_t *data, size_t size)
{
	static char full_text[1024];
	static char out[1024 + 16];
	int full = dns_name_to_str(data, size, 0, full_text, sizeof(full_text));

	/* a few tiny capacities, and every one around what the name needs */
	size_t need = full >= 0 ? strlen(full_text) + 1 : 16;

	for (size_t cap = 0; cap <= need + 2 && cap + 16 <= sizeof(out); cap++) {
		int r;

		if (cap > 4 && cap + 8 < need)
			continue;
		memset(out, CANARY, cap + 16);
		r = dns_name_to_str(data, size, 0, out, cap);
		for (size_t i = cap; i < cap + 16; i++)
			CHECK_OR_ABORT((uint8_t)out[i] == CANARY);
		/* a small buffer may run out before a later error is seen */
		CHECK_OR_ABORT(r == full || r == -ENOSPC);
		if (full >= 0) {
			CHECK_OR_ABORT((r == -ENOSPC) == (cap <= strlen(full_text)));
			if (r >= 0)
				CHECK_OR_ABORT(strcmp(out, full_text) == 0);
		}
	}
}

/* Split the text at the first '|' into owner and target; build, answer, re-parse. */
static void check_builder(const char *text)
{
	static union {
		struct dns_answer a;
		uint8_t raw[sizeof(struct dns_answer) + DNS_BUILD_MAX + 2 * DNS_ANS_MAX_TTL + 2];
	} val;
	static uint8_t msg[4096];
	char owner[TEXT_MAX];
	const char *bar = strchr(text, '|');
	const char *target = bar ? bar + 1 : "t.example";
	struct dns_builder b;
	struct dns_key k;
	struct dns_query q;
	int qlen, len;

	snprintf(owner, sizeof(owner), "%.*s", bar ? (int)(bar - text) : (int)strlen(text), text);
	if (dns_key_from_str(&k, owner, DNS_T_CNAME) != 0)
		return;
	dns_builder_init(&b, &k, DNS_F_AA);
	if (dns_builder_add_name(&b, DNS_SEC_ANSWER, NULL, DNS_T_CNAME, 5, target) != 0)
		return;
	if (dns_builder_add_srv(&b, DNS_SEC_ADDITIONAL, owner, 5, 1, 2, 3, target) != 0)
		return;
	CHECK_OR_ABORT(dns_builder_finish(&b, &val.a, sizeof(val)) == (int)dns_answer_size(&val.a));
	/* query for the key's name */
	memset(msg, 0, DNS_HDR_LEN);
	msg[5] = 1;
	memcpy(msg + DNS_HDR_LEN, k.name, k.name_len);
	qlen = DNS_HDR_LEN + k.name_len;
	msg[qlen++] = 0;
	msg[qlen++] = DNS_T_CNAME;
	msg[qlen++] = 0;
	msg[qlen++] = DNS_C_IN;
	CHECK_OR_ABORT(dns_parse_query(msg, (size_t)qlen, &q) == DNS_RCODE_NOERROR);
	CHECK_OR_ABORT(q.hash == dns_key_hash(&k));
	len = dns_write_answer(msg, sizeof(msg), &q, &val.a, 0);
	CHECK_OR_ABORT(len > 0);
	if (msg[2] & 0x02)
		return; /* truncated at 512: nothing more to check */
	msg[2] &= 0x7f;
	CHECK_OR_ABORT(dns_parse_query(msg, (size_t)len, &q) == DNS_RCODE_NOERROR);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[TEXT_MAX];
	size_t n = size < TEXT_MAX - 1 ? size : TEXT_MAX - 1;

	memcpy(text, data, n);
	text[n] = '\0';
	check_text(text);
	check_builder(text);
	check_to_str_caps(data, size);
	return 0;
}
