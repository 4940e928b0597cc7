/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - shared answer values: the builder that encodes them and the responders that
 * turn a parsed query into a response in place.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "dns.h"
#include "dns_internal.h"

#define OPT_RR_LEN 11 /* root owner, type, class, TTL, rdlen */

/* ------------------------------------------------------------------------- */
/* Builder                                                                     */

/** Start a value; @p key->name_len is recorded as the value's qname_len. */
void dns_builder_init(struct dns_builder *b, const struct dns_key *key, uint16_t flags)
{
	memset(b, 0, offsetof(struct dns_builder, ttl_off));
	b->qname_len = key != NULL ? key->name_len : 0;
	b->flags = flags;
	b->spill = NULL;
	b->spill_cap = 0;
}

/** Storage @p b may move its records to; @p cap below DNS_BUILD_MAX + 1 is ignored. */
void dns_builder_set_spill(struct dns_builder *b, uint8_t *buf, size_t cap)
{
	if (buf == NULL || cap <= DNS_BUILD_MAX || dns_builder_spilled(b))
		return;
	b->spill = buf;
	b->spill_cap = (uint16_t)(cap > DNS_BUILD_SPILL_MAX ? DNS_BUILD_SPILL_MAX : cap);
}

size_t dns_builder_size(const struct dns_builder *b)
{
	size_t n_ttl = dns_builder_spilled(b) ? 0 : b->n_ttl;

	return sizeof(struct dns_answer) + (((size_t)b->len + 1u) & ~(size_t)1u) +
	       n_ttl * sizeof(uint16_t);
}

/*
 * Move the records to the spill storage. From here on TTL offsets are not kept: they
 * only matter to cache values, and a spilled builder never makes one. @return 0, or
 * -ENOSPC when there is no spill storage.
 */
static int spill(struct dns_builder *b)
{
	if (b->spill == NULL)
		return -ENOSPC;
	memcpy(b->spill, b->buf, b->len);
	b->n_ttl = DNS_BUILD_SPILLED;
	return 0;
}

static int builder_fail(struct dns_builder *b, int err)
{
	if (b->err == 0)
		b->err = err;
	return b->err;
}

void dns_builder_zone_ptr(struct dns_builder *b, unsigned which, const uint8_t *zone,
			  uint16_t zone_len)
{
	b->zp_which = 0;
	b->zp_len = 0;
	/* The root would save nothing; a zone longer than the question cannot end it. */
	if (which == 0 || zone == NULL || zone_len <= 1 || zone_len > DNS_MAX_NAME ||
	    zone_len > b->qname_len)
		return;
	memcpy(b->zp_zone, zone, zone_len);
	dns_name_lower(b->zp_zone, zone_len);
	b->zp_len = zone_len;
	b->zp_which = (uint8_t)which;
}

/*
 * The wire name @p w (@p n bytes, lower case) with its zone ending replaced by a pointer
 * to where the zone starts in the question (at offset 12, qname_len bytes), when the
 * builder was told to for names of kind @p kind. @return the new length.
 */
static int zone_ptr(const struct dns_builder *b, unsigned kind, uint8_t *w, int n)
{
	int at = n - (int)b->zp_len, o = 0;

	if (!(b->zp_which & kind) || at < 0 || memcmp(w + at, b->zp_zone, b->zp_len) != 0)
		return n;
	while (o < at)
		o += w[o] + 1;
	if (o != at)
		return n; /* the ending is not on a label boundary */
	dns_put16(w + at, (uint16_t)(0xc000 | (DNS_HDR_LEN + b->qname_len - b->zp_len)));
	return at + 2;
}

/*
 * Owner: DNS_OWNER_QNAME is a pointer to the question at offset 12 (where the question
 * name always sits in a response), anything else is written lower-cased, uncompressed
 * but for dns_builder_zone_ptr()'s zone. @return its length in @p out (DNS_MAX_NAME
 * bytes), or negative errno.
 */
static int put_owner(const struct dns_builder *b, uint8_t *out, const char *owner)
{
	int n;

	if (owner == DNS_OWNER_QNAME) {
		dns_put16(out, 0xc000 | DNS_HDR_LEN);
		return 2;
	}
	n = dns_name_from_str(out, DNS_MAX_NAME, owner);
	return n < 0 ? n : zone_ptr(b, DNS_ZP_OWNER, out, n);
}

/*
 * Records of a section must be added before those of the next one: the value is the
 * wire image of the three sections back to back.
 */
static int section_ok(const struct dns_builder *b, enum dns_section sec)
{
	if ((unsigned int)sec > DNS_SEC_ADDITIONAL)
		return 0;
	for (unsigned int s = (unsigned int)sec + 1; s <= DNS_SEC_ADDITIONAL; s++) {
		if (b->count[s] != 0)
			return 0;
	}
	return 1;
}

/*
 * Append a record whose rdata is @p nparts pieces. @return 0 or -errno (sticky).
 * The record is only committed (len, counts, TTL offset) once it fully fits.
 */
struct rd_part {
	const uint8_t *p;
	size_t len;
};

static int builder_add(struct dns_builder *b, enum dns_section sec, const char *owner,
		       uint16_t type, uint32_t ttl, const struct rd_part *parts, size_t nparts)
{
	uint8_t own[DNS_MAX_NAME], *p;
	size_t rdlen = 0, need;
	bool spilled = dns_builder_spilled(b);
	int n;

	if (b->err != 0)
		return b->err;
	if (!section_ok(b, sec))
		return builder_fail(b, -EINVAL);
	if (b->count[sec] == UINT16_MAX)
		return builder_fail(b, -ENOSPC);
	for (size_t i = 0; i < nparts; i++)
		rdlen += parts[i].len;
	if (rdlen > UINT16_MAX)
		return builder_fail(b, -EINVAL);
	n = put_owner(b, own, owner);
	if (n < 0)
		return builder_fail(b, n);
	need = (size_t)n + 10 + rdlen;
	/* Past what a table value holds only with spill storage (see dns_builder_set_spill). */
	if (!spilled && (b->n_ttl >= DNS_ANS_MAX_TTL || (size_t)DNS_BUILD_MAX - b->len < need)) {
		if (spill(b) < 0)
			return builder_fail(b, -ENOSPC);
		spilled = true;
	}
	if ((size_t)(spilled ? b->spill_cap : DNS_BUILD_MAX) - b->len < need)
		return builder_fail(b, -ENOSPC);
	p = (spilled ? b->spill : b->buf) + b->len;
	memcpy(p, own, (size_t)n);
	p += n;
	dns_put16(p, type);
	dns_put16(p + 2, DNS_C_IN);
	dns_put32(p + 4, ttl);
	dns_put16(p + 8, (uint16_t)rdlen);
	if (!spilled)
		b->ttl_off[b->n_ttl++] = (uint16_t)(b->len + n + 4);
	p += 10;
	for (size_t i = 0; i < nparts; i++) {
		if (parts[i].len != 0)
			memcpy(p, parts[i].p, parts[i].len);
		p += parts[i].len;
	}
	b->len = (uint16_t)(b->len + need);
	b->count[sec]++;
	return 0;
}

int dns_builder_add_raw(struct dns_builder *b, enum dns_section sec, const char *owner,
			uint16_t type, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	struct rd_part part = { rdata, rdlen };

	if (rdlen != 0 && rdata == NULL)
		return builder_fail(b, -EINVAL);
	return builder_add(b, sec, owner, type, ttl, &part, 1);
}

/** @p family is AF_INET (4-byte @p addr) or AF_INET6 (16 bytes); else -EINVAL. */
int dns_builder_add_addr(struct dns_builder *b, enum dns_section sec, const char *owner,
			 uint32_t ttl, const uint8_t *addr, int family)
{
	if (family == AF_INET)
		return dns_builder_add_raw(b, sec, owner, DNS_T_A, ttl, addr, 4);
	if (family == AF_INET6)
		return dns_builder_add_raw(b, sec, owner, DNS_T_AAAA, ttl, addr, 16);
	return builder_fail(b, -EINVAL);
}

/* Encode a presentation name for rdata. @return wire length or -errno (sticky). */
static int rdata_name(struct dns_builder *b, uint8_t *out, const char *name)
{
	int n;

	if (b->err != 0)
		return b->err;
	n = dns_name_from_str(out, DNS_MAX_NAME, name);
	if (n < 0)
		return builder_fail(b, n);
	return zone_ptr(b, DNS_ZP_RDATA, out, n);
}

int dns_builder_add_name(struct dns_builder *b, enum dns_section sec, const char *owner,
			 uint16_t type, uint32_t ttl, const char *target)
{
	uint8_t name[DNS_MAX_NAME];
	int n = rdata_name(b, name, target);

	if (n < 0)
		return n;
	return dns_builder_add_raw(b, sec, owner, type, ttl, name, (uint16_t)n);
}

int dns_builder_add_srv(struct dns_builder *b, enum dns_section sec, const char *owner, uint32_t ttl,
			uint16_t prio, uint16_t weight, uint16_t port, const char *target)
{
	uint8_t fixed[6], name[DNS_MAX_NAME];
	int n = rdata_name(b, name, target);
	struct rd_part parts[2];

	if (n < 0)
		return n;
	dns_put16(fixed, prio);
	dns_put16(fixed + 2, weight);
	dns_put16(fixed + 4, port);
	parts[0] = (struct rd_part){ fixed, sizeof(fixed) };
	parts[1] = (struct rd_part){ name, (size_t)n };
	return builder_add(b, sec, owner, DNS_T_SRV, ttl, parts, 2);
}

int dns_builder_add_soa(struct dns_builder *b, enum dns_section sec, const char *owner, uint32_t ttl,
			const char *mname, const char *rname, uint32_t serial, uint32_t refresh,
			uint32_t retry, uint32_t expire, uint32_t minimum)
{
	uint8_t m[DNS_MAX_NAME], r[DNS_MAX_NAME], fixed[20];
	int mn = rdata_name(b, m, mname);
	int rn = mn < 0 ? mn : rdata_name(b, r, rname);
	struct rd_part parts[3];

	if (rn < 0)
		return rn;
	dns_put32(fixed, serial);
	dns_put32(fixed + 4, refresh);
	dns_put32(fixed + 8, retry);
	dns_put32(fixed + 12, expire);
	dns_put32(fixed + 16, minimum);
	parts[0] = (struct rd_part){ m, (size_t)mn };
	parts[1] = (struct rd_part){ r, (size_t)rn };
	parts[2] = (struct rd_part){ fixed, sizeof(fixed) };
	return builder_add(b, sec, owner, DNS_T_SOA, ttl, parts, 3);
}

/** One character-string of up to 255 bytes (longer: -EINVAL). */
int dns_builder_add_txt(struct dns_builder *b, enum dns_section sec, const char *owner,
			uint32_t ttl, const char *text)
{
	size_t len = text != NULL ? strlen(text) : 0;
	uint8_t lb = (uint8_t)len;
	struct rd_part parts[2];

	if (len > 255)
		return builder_fail(b, -EINVAL);
	parts[0] = (struct rd_part){ &lb, 1 };
	parts[1] = (struct rd_part){ (const uint8_t *)text, len };
	return builder_add(b, sec, owner, DNS_T_TXT, ttl, parts, 2);
}

/**
 * Write the value: struct dns_answer (stored = expire = 0: the cache filler sets them),
 * rr[], a zero pad byte when rr_len is odd, then the TTL offsets (none once spilled).
 */
int dns_builder_finish(const struct dns_builder *b, struct dns_answer *out, size_t cap)
{
	size_t rr_pad = ((size_t)b->len + 1u) & ~(size_t)1u;
	size_t size = dns_builder_size(b);
	uint16_t n_ttl = dns_builder_spilled(b) ? 0 : b->n_ttl;

	if (b->err != 0)
		return b->err;
	if (size > cap)
		return -ENOSPC;
	memset(out, 0, sizeof(*out));
	out->magic = DNS_ANS_MAGIC;
	out->flags = b->flags;
	out->ancount = b->count[DNS_SEC_ANSWER];
	out->nscount = b->count[DNS_SEC_AUTHORITY];
	out->arcount = b->count[DNS_SEC_ADDITIONAL];
	out->qname_len = b->qname_len;
	out->rr_len = b->len;
	out->n_ttl = n_ttl;
	memcpy(out->rr, dns_builder_data(b), b->len);
	if (rr_pad != b->len)
		out->rr[b->len] = 0;
	memcpy(out->rr + rr_pad, b->ttl_off, (size_t)n_ttl * sizeof(uint16_t));
	return (int)size;
}

/* ------------------------------------------------------------------------- */
/* Responders                                                                  */

/*
 * OPT of our response (RFC 6891 6.1.3): our UDP size, extended rcode bits, version 0,
 * DO echoed. @p p must have OPT_RR_LEN bytes.
 */
static void put_opt(uint8_t *p, const struct dns_query *q, int rcode)
{
	uint32_t ttl = ((uint32_t)((rcode >> 4) & 0xff) << 24) | (q->edns_do ? 0x8000u : 0);

	p[0] = 0;
	dns_put16(p + 1, DNS_T_OPT);
	dns_put16(p + 3, DNS_EDNS_SIZE);
	dns_put32(p + 5, ttl);
	dns_put16(p + 9, 0);
}

/* Header: ID kept from the query image; QR set; opcode, RD, CD echoed; TC/Z cleared. */
static void put_header(uint8_t *msg, const struct dns_query *q, uint16_t flags, uint16_t qd,
		       uint16_t an, uint16_t ns, uint16_t ar)
{
	uint16_t f = DNS_F_QR | (q->flags & (DNS_F_OPCODE | DNS_F_RD | DNS_F_CD)) | flags;

	dns_put16(msg, q->id);
	dns_put16(msg + 2, f);
	dns_put16(msg + 4, qd);
	dns_put16(msg + 6, an);
	dns_put16(msg + 8, ns);
	dns_put16(msg + 10, ar);
}

/* Lower every record TTL by the value's age, in the output only (the value is shared). */
static void age_ttls(uint8_t *rr, const struct dns_answer *a, uint32_t now)
{
	const uint16_t *offs = dns_answer_ttl_offs(a);
	uint32_t age = now > a->stored ? now - a->stored : 0;

	for (unsigned int i = 0; i < a->n_ttl; i++) {
		uint16_t off = offs[i];
		uint32_t ttl;

		if ((size_t)off + 4 > a->rr_len)
			continue;
		ttl = dns_get32(rr + off);
		dns_put32(rr + off, ttl > age ? ttl - age : 0);
	}
}

/**
 * Respond with @p a in place (see dns.h). Limit = min(@p cap, EDNS size or 512). A
 * response over the limit keeps only the header, the question and the OPT, with TC=1.
 * @p q must come from a dns_parse_query() that parsed the question (question_end != 0).
 * @return response length, -ENOSPC (header + question + OPT exceed @p cap), -EINVAL (no
 *         question, or @p a is not a value: bad magic).
 */
int dns_write_answer(uint8_t *msg, size_t cap, const struct dns_query *q,
		     const struct dns_answer *a, uint32_t now)
{
	size_t qend = q->question_end;
	size_t opt = q->has_edns ? OPT_RR_LEN : 0;
	size_t limit = q->has_edns ? q->edns_size : DNS_UDP_MIN;
	uint16_t flags = a->flags & (DNS_F_AA | DNS_F_RA | DNS_F_AD | DNS_F_RCODE);
	int rcode = a->flags & DNS_F_RCODE;

	if (qend < DNS_HDR_LEN || a->magic != DNS_ANS_MAGIC)
		return -EINVAL;
	if (qend + opt > cap)
		return -ENOSPC;
	if (limit > cap)
		limit = cap;
	if (qend + a->rr_len + opt > limit) {
		put_header(msg, q, flags | DNS_F_TC, 1, 0, 0, q->has_edns);
		if (opt != 0)
			put_opt(msg + qend, q, rcode);
		return (int)(qend + opt);
	}
	put_header(msg, q, flags, 1, a->ancount, a->nscount,
		   (uint16_t)(a->arcount + q->has_edns));
	memcpy(msg + qend, a->rr, a->rr_len);
	if (a->expire != 0)
		age_ttls(msg + qend, a, now);
	if (opt != 0)
		put_opt(msg + qend + a->rr_len, q, rcode);
	return (int)(qend + a->rr_len + opt);
}

/**
 * Respond with @p rcode and no records (see dns.h). The question is echoed only when
 * q->question_end != 0 (QDCOUNT 0 otherwise). The low 4 bits of @p rcode go in the
 * header, the upper 8 bits in the OPT TTL (when the query had EDNS; without it they are
 * lost, which only matters for BADVERS, which needs EDNS anyway).
 * @return response length, or -ENOSPC when it does not fit @p cap.
 */
int dns_write_rcode(uint8_t *msg, size_t cap, const struct dns_query *q, int rcode)
{
	size_t qend = q->question_end >= DNS_HDR_LEN ? q->question_end : DNS_HDR_LEN;
	size_t opt = q->has_edns ? OPT_RR_LEN : 0;

	if (qend + opt > cap)
		return -ENOSPC;
	put_header(msg, q, (uint16_t)(rcode & DNS_F_RCODE), q->question_end >= DNS_HDR_LEN,
		   0, 0, q->has_edns);
	if (opt != 0)
		put_opt(msg + qend, q, rcode);
	return (int)(qend + opt);
}
