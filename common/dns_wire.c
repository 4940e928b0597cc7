/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - read cursor and query parser.
 *
 * The parser is on the fast path: no allocation, one pass over the message, and every
 * limit on wire input is a runtime check. It decides the rcode a query must be answered
 * with; it never answers anything itself.
 */
#include <errno.h>
#include <string.h>

#include "dns.h"
#include "dns_internal.h"

void dns_wire_init(struct dns_wire *w, const uint8_t *msg, size_t len)
{
	w->start = msg;
	w->pos = msg;
	w->end = msg + len;
	w->err = 0;
}

uint8_t dns_wire_read_u8(struct dns_wire *w)
{
	return dns_wire_get8(w);
}

uint16_t dns_wire_read_u16(struct dns_wire *w)
{
	return dns_wire_get16(w);
}

uint32_t dns_wire_read_u32(struct dns_wire *w)
{
	return dns_wire_get32(w);
}

void dns_wire_skip(struct dns_wire *w, size_t n)
{
	dns_wire_advance(w, n);
}

size_t dns_wire_avail(const struct dns_wire *w)
{
	if (w->err != 0)
		return 0;
	return (size_t)(w->end - w->pos);
}

/* ------------------------------------------------------------------------- */

/*
 * Scan the uncompressed question name at the cursor. Compression is refused here: the
 * question is the first name of the message, so a pointer could only point backwards
 * into the header, and keeping the question pointer-free lets the key be a plain copy.
 * Label types 0x40 (RFC 6891 extended, obsolete) and 0x80 (reserved) are malformed too.
 * @return wire length of the name (root included), or -1 with w->err set.
 */
static int scan_qname(struct dns_wire *w)
{
	size_t avail = (size_t)(w->end - w->pos), len = 0;
	uint8_t l;

	/* A name may not run past 255 bytes any more than past the message: one bound. */
	if (avail > DNS_MAX_NAME)
		avail = DNS_MAX_NAME;
	/* One test per label: l - 1 wraps for the root label, and lengths with type bits
	 * 0x40/0x80/0xc0 are over 63 too; which of them ended the name is sorted out once. */
	for (;;) {
		if (len >= avail)
			goto fail;
		l = w->pos[len];
		if ((uint8_t)(l - 1) >= DNS_MAX_LABEL)
			break;
		len += (size_t)l + 1;
	}
	if (l != 0)
		goto fail;
	len++;
	w->pos += len;
	return (int)len;
fail:
	w->err = -EBADMSG;
	return -1;
}

/*
 * Skip a possibly compressed name without following pointers. A pointer ends the name;
 * its target must lie after the header and before the start of this name. Compressors
 * only ever refer to names already written, and the rule makes every pointer chain
 * strictly decreasing, so no later reader of this message can loop on it (stricter than
 * RFC 1035, which does not forbid forward pointers; no real encoder emits them).
 */
static void skip_name(struct dns_wire *w)
{
	size_t name_start = (size_t)(w->pos - w->start);
	size_t len = 0;

	while (w->err == 0) {
		uint8_t l = dns_wire_get8(w);

		if ((l & 0xc0) == 0xc0) {
			size_t target = ((size_t)(l & 0x3f) << 8) | dns_wire_get8(w);

			if (w->err == 0 && (target < DNS_HDR_LEN || target >= name_start))
				w->err = -EBADMSG;
			return;
		}
		if (l & 0xc0) {
			w->err = -EBADMSG;
			return;
		}
		len += (size_t)l + 1;
		if (len > DNS_MAX_NAME) {
			w->err = -EBADMSG;
			return;
		}
		if (l == 0)
			return;
		dns_wire_advance(w, l);
	}
}

/* Validate the options of an OPT rdata: a sequence of {code, length, data}. */
static int check_opt_rdata(const uint8_t *p, size_t rdlen)
{
	while (rdlen > 0) {
		size_t olen;

		if (rdlen < 4)
			return -1;
		olen = dns_get16(p + 2);
		if (olen > rdlen - 4)
			return -1;
		p += 4 + olen;
		rdlen -= 4 + olen;
	}
	return 0;
}

/* An OPT record (RFC 6891 6.1.2): owner root, class = UDP size, TTL = ext rcode|version|DO. */
static int parse_opt(struct dns_wire *w, const uint8_t *owner, struct dns_query *q)
{
	uint16_t size = dns_wire_get16(w);
	uint32_t ttl = dns_wire_get32(w);
	uint16_t rdlen = dns_wire_get16(w);
	const uint8_t *rdata = w->pos;

	dns_wire_advance(w, rdlen);
	if (w->err != 0 || *owner != 0 || q->has_edns)
		return -1;
	if (check_opt_rdata(rdata, rdlen) != 0)
		return -1;
	q->has_edns = true;
	q->edns_size = size < DNS_UDP_MIN ? DNS_UDP_MIN : size;
	q->edns_version = (uint8_t)(ttl >> 16);
	q->edns_do = (ttl & 0x8000u) != 0;
	return 0;
}

/*
 * Skip @p count records of section @p sec with full validation. OPT is only legal in
 * the additional section, and at most once (RFC 6891 6.1.1).
 * @return 0, or -1 when the section is malformed.
 */
static int skip_section(struct dns_wire *w, unsigned int count, enum dns_section sec,
			struct dns_query *q)
{
	while (count-- > 0) {
		const uint8_t *owner = w->pos;
		uint16_t type;

		skip_name(w);
		type = dns_wire_get16(w);
		if (w->err != 0)
			return -1;
		if (type == DNS_T_OPT) {
			if (sec != DNS_SEC_ADDITIONAL || parse_opt(w, owner, q) != 0)
				return -1;
			continue;
		}
		dns_wire_advance(w, 2 + 4); /* class, TTL */
		dns_wire_advance(w, dns_wire_get16(w));
		if (w->err != 0)
			return -1;
	}
	return 0;
}

/* Keep the first @p r (< 8) bytes of the native load @p v, zero the rest. */
static inline uint64_t word_head(uint64_t v, size_t r)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return v & (~0ull >> (8 * (8 - r)));
#else
	return v & (~0ull << (8 * (8 - r)));
#endif
}

/*
 * The last, partial word of the name: its @p r (1..7) bytes at @p p, the rest zeroed,
 * which is the word dns_name_hash() builds from a zero-extended tail. @p avail bytes of
 * the message are readable at @p p; qtype and qclass follow the name, so a whole-word
 * load stays inside it unless the name ends 1-3 bytes before the last 8 of the message,
 * and then a 4-byte load does. The byte copy is a fallback no parsed question reaches:
 * narrow stores followed by a wide load cannot be store-forwarded and stall.
 */
static inline uint64_t name_tail(const uint8_t *p, size_t r, size_t avail)
{
	uint64_t v = 0;
	uint32_t v32;

	if (avail >= 8) {
		memcpy(&v, p, 8);
		return word_head(v, r);
	}
	if (avail >= 4 && r < 4) {
		memcpy(&v32, p, 4);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		v = v32;
#else
		v = (uint64_t)v32 << 32;
#endif
		return word_head(v, r);
	}
	memcpy(&v, p, r);
	return v;
}

/* A structure copy from this constant compiles to a few vector moves; a 128-byte
 * memset() to "rep stos", whose start-up alone cost as much as the name's hash. */
static const struct dns_key zero_key;

/*
 * Lower-case the question name into the key and hash it in the same pass of 8-byte
 * words, loaded from the message (@p avail bytes from @p name, at least @p len + 4).
 * rte_hash compares all DNS_KEY_LEN bytes, so the key is zeroed first; whole words may
 * then be written (qtype and name_len come after them), and they equal the zero-extended
 * words dns_name_hash() reads from an unpadded buffer, hence the same hash.
 */
static void set_key(struct dns_query *q, const uint8_t *name, size_t len, size_t avail,
		    uint16_t qtype)
{
	uint8_t *k = (uint8_t *)&q->key;
	uint64_t h = dns_hash_seed(len), v;
	size_t i = 0;

	q->key = zero_key;
	for (; i + 8 <= len; i += 8) {
		memcpy(&v, name + i, 8);
		v = dns_lower64(v);
		memcpy(k + i, &v, 8);
		h = dns_hash_step(h, v);
	}
	if (i < len) {
		v = dns_lower64(name_tail(name + i, len - i, avail - i));
		memcpy(k + i, &v, 8);
		h = dns_hash_step(h, v);
	}
	q->name_hash = dns_hash_final(h);
	q->key.qtype = qtype;
	q->key.name_len = (uint16_t)len;
	q->hash = dns_hash_mix(q->name_hash, qtype);
	q->key_ok = true;
}

/* Question: name, qtype, qclass. @return 0 or -1 (then q->question_end stays 0). */
static int parse_question(struct dns_wire *w, struct dns_query *q)
{
	const uint8_t *name = w->pos;
	int nlen = scan_qname(w);

	q->qtype = dns_wire_get16(w);
	q->qclass = dns_wire_get16(w);
	if (nlen < 0 || w->err != 0) {
		q->qtype = 0;
		q->qclass = 0;
		return -1;
	}
	q->qname_len = (uint16_t)nlen;
	q->question_end = (uint16_t)(w->pos - w->start);
	if (nlen <= DNS_KEY_NAME_MAX)
		set_key(q, name, (size_t)nlen, (size_t)(w->end - name), q->qtype);
	return 0;
}

/* Sections after the question; sets EDNS fields. @return 0 or -1 when malformed. */
static int parse_records(struct dns_wire *w, struct dns_query *q, const uint8_t *hdr)
{
	uint16_t an = dns_get16(hdr + 6), ns = dns_get16(hdr + 8), ar = dns_get16(hdr + 10);

	/* Queries rarely carry more than an OPT record: no call for an empty section. */
	if ((an != 0 && skip_section(w, an, DNS_SEC_ANSWER, q) != 0) ||
	    (ns != 0 && skip_section(w, ns, DNS_SEC_AUTHORITY, q) != 0) ||
	    (ar != 0 && skip_section(w, ar, DNS_SEC_ADDITIONAL, q) != 0))
		return -1;
	/* Trailing garbage after the last record: a sender that cannot count its records. */
	if (dns_wire_avail(w) != 0)
		return -1;
	return 0;
}

/** dns_parse_query() but for the key of a query without one. */
static int parse_query(const uint8_t *msg, size_t len, struct dns_query *q)
{
	struct dns_wire w;
	int rc = DNS_RCODE_NOERROR;

	/* field by field: one memset of the whole struct compiles to a slow rep stos */
	q->id = 0;
	q->flags = 0;
	q->qtype = 0;
	q->qclass = 0;
	q->qname_len = 0;
	q->question_end = 0;
	q->key_ok = false;
	q->has_edns = false;
	q->edns_do = false;
	q->edns_version = 0;
	q->edns_size = 0;
	q->name_hash = 0;
	q->hash = 0;
	q->msg_len = len > UINT16_MAX ? UINT16_MAX : (uint16_t)len;
	if (len < DNS_HDR_LEN)
		return DNS_PARSE_DROP;
	q->id = dns_get16(msg);
	q->flags = dns_get16(msg + 2);
	if (q->flags & DNS_F_QR)
		return DNS_PARSE_DROP;
	if (q->flags & DNS_F_OPCODE)
		rc = DNS_RCODE_NOTIMP;
	if (dns_get16(msg + 4) != 1)
		return rc != DNS_RCODE_NOERROR ? rc : DNS_RCODE_FORMERR;

	dns_wire_init(&w, msg, len);
	dns_wire_advance(&w, DNS_HDR_LEN);
	if (parse_question(&w, q) != 0)
		return rc != DNS_RCODE_NOERROR ? rc : DNS_RCODE_FORMERR;
	if (parse_records(&w, q, msg) != 0) {
		q->has_edns = false;
		q->edns_do = false;
		q->edns_version = 0;
		q->edns_size = 0;
		return rc != DNS_RCODE_NOERROR ? rc : DNS_RCODE_FORMERR;
	}
	if (rc != DNS_RCODE_NOERROR)
		return rc;
	if (q->has_edns && q->edns_version > 0)
		return DNS_RCODE_BADVERS;
	if (q->qclass != DNS_C_IN)
		return DNS_RCODE_REFUSED;
	return DNS_RCODE_NOERROR;
}

/**
 * Parse a query (see dns.h). Decisions, in order:
 *  - shorter than a header, or QR=1: DNS_PARSE_DROP (never answer a response: loops);
 *  - opcode != QUERY: NOTIMP; the question (and EDNS) are still parsed so the answer can
 *    echo them when the message is otherwise well formed;
 *  - QDCOUNT != 1: FORMERR without a question;
 *  - question name with a compression pointer or label type 0x40/0x80, a label over 63,
 *    a name over 255, or qtype/qclass missing: FORMERR, question_end = 0;
 *  - answer/authority/additional records malformed (names may be compressed there; a
 *    pointer must point before the name it ends), OPT outside the additional section,
 *    a second OPT, an OPT owner other than root, OPT options overrunning the rdata, or
 *    bytes after the last record: FORMERR with the question echoed, EDNS ignored;
 *  - EDNS version > 0: BADVERS;
 *  - qclass != IN: REFUSED;
 *  - else NOERROR.
 * Names longer than DNS_KEY_NAME_MAX wire bytes are valid but have key_ok = false
 * (key and hashes unset). q is fully (re)initialised on every call.
 */
int dns_parse_query(const uint8_t *msg, size_t len, struct dns_query *q)
{
	int rc = parse_query(msg, len, q);

	/* Only a keyed query has its key written (set_key()); the others get a zero key,
	 * so every field is (re)initialised on every call. */
	if (!q->key_ok)
		q->key = zero_key;
	return rc;
}
