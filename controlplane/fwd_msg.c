/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - DNS message helpers of the forwarder and the cache (fwd_msg.h).
 * Everything here reads untrusted upstream bytes: every offset is checked against the
 * message length, compression pointers must point backwards and their hops are capped.
 */
#include <errno.h>
#include <string.h>

#include "dns.h"
#include "fwd_msg.h"

#define OPT_RR_LEN 11

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint8_t lc(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* ------------------------------------------------------------------------- */
/* Names                                                                       */

int fwd_name_len(const uint8_t *p, size_t len)
{
	size_t off = 0;

	while (off < len) {
		uint8_t l = p[off];

		if (l == 0)
			return off + 1 <= DNS_MAX_NAME ? (int)(off + 1) : -1;
		if (l > DNS_MAX_LABEL)
			return -1; /* pointer or extended label type */
		off += 1u + l;
	}
	return -1;
}

int fwd_name_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen)
		return 0;
	/* Length bytes are < 64 so lower-casing them is harmless. */
	for (size_t i = 0; i < alen; i++) {
		if (lc(a[i]) != lc(b[i]))
			return 0;
	}
	return 1;
}

int fwd_name_in_zone(const uint8_t *name, size_t len, const uint8_t *zone, size_t zlen)
{
	size_t off = 0;

	/* Walk label boundaries of name; compare the suffix of the zone's length. */
	while (off < len) {
		if (len - off == zlen)
			return fwd_name_eq(name + off, len - off, zone, zlen);
		if (len - off < zlen || name[off] == 0)
			return 0;
		off += 1u + name[off];
	}
	return 0;
}

/* ------------------------------------------------------------------------- */
/* Record walking                                                              */

struct rr_view {
	size_t owner;    /* offset of the owner name */
	size_t fixed;    /* offset of type, class, TTL, rdlength */
	size_t rdata;    /* offset of the rdata */
	uint16_t type;
	uint16_t rdlen;
	uint32_t ttl;
	int sec;         /* enum dns_section */
};

struct msg_walk {
	const uint8_t *msg;
	size_t len;
	size_t pos;
	unsigned left[3];
	int sec;
};

/* Header + question; positions the walk at the first record. @return 0 or -1 */
static int walk_init(struct msg_walk *w, const uint8_t *msg, size_t len)
{
	int nl;

	if (len < DNS_HDR_LEN || get16(msg + 4) != 1)
		return -1;
	nl = fwd_name_len(msg + DNS_HDR_LEN, len - DNS_HDR_LEN);
	if (nl < 0 || DNS_HDR_LEN + (size_t)nl + 4 > len)
		return -1;
	w->msg = msg;
	w->len = len;
	w->pos = DNS_HDR_LEN + (size_t)nl + 4;
	w->left[0] = get16(msg + 6);
	w->left[1] = get16(msg + 8);
	w->left[2] = get16(msg + 10);
	w->sec = 0;
	return 0;
}

/* @return 1 with the next record in @p rr, 0 at the end, -1 when malformed. */
static int walk_next(struct msg_walk *w, struct rr_view *rr)
{
	int n;

	while (w->sec < 3 && w->left[w->sec] == 0)
		w->sec++;
	if (w->sec == 3)
		return w->pos == w->len ? 0 : -1;
	n = dns_name_unpack(w->msg, w->len, w->pos, NULL, NULL);
	if (n < 0 || w->pos + (size_t)n + 10 > w->len)
		return -1;
	rr->owner = w->pos;
	rr->fixed = w->pos + (size_t)n;
	rr->type = get16(w->msg + rr->fixed);
	rr->ttl = get32(w->msg + rr->fixed + 4);
	rr->rdlen = get16(w->msg + rr->fixed + 8);
	rr->rdata = rr->fixed + 10;
	rr->sec = w->sec;
	if (rr->rdata + rr->rdlen > w->len)
		return -1;
	w->pos = rr->rdata + rr->rdlen;
	w->left[w->sec]--;
	return 1;
}

/* ------------------------------------------------------------------------- */
/* Queries and replies                                                         */

int fwd_msg_build_query(uint8_t *out, size_t cap, uint16_t id, const uint8_t *name,
			size_t name_len, uint16_t qtype, bool rd)
{
	size_t len = DNS_HDR_LEN + name_len + 4;

	if (len > cap)
		return -ENOSPC;
	memset(out, 0, DNS_HDR_LEN);
	put16(out, id);
	put16(out + 2, rd ? DNS_F_RD : 0);
	put16(out + 4, 1);
	memcpy(out + DNS_HDR_LEN, name, name_len);
	put16(out + DNS_HDR_LEN + name_len, qtype);
	put16(out + DNS_HDR_LEN + name_len + 2, DNS_C_IN);
	return (int)len;
}

int fwd_msg_check(const uint8_t *reply, size_t len, uint16_t id, uint16_t opcode,
		  const struct fwd_question *fq)
{
	size_t qend = DNS_HDR_LEN + fq->name_len;
	uint16_t flags;

	if (len < DNS_HDR_LEN)
		return FWD_REPLY_MALFORMED;
	flags = get16(reply + 2);
	if (!(flags & DNS_F_QR))
		return FWD_REPLY_MALFORMED;
	if (get16(reply) != id)
		return FWD_REPLY_ID;
	/* The question must be echoed: a reply without it cannot be tied to the query. */
	if ((flags & DNS_F_OPCODE) != (opcode & DNS_F_OPCODE) || get16(reply + 4) != 1 ||
	    qend + 4 > len)
		return FWD_REPLY_QUESTION;
	if (fwd_name_len(reply + DNS_HDR_LEN, len - DNS_HDR_LEN) != (int)fq->name_len ||
	    !fwd_name_eq(reply + DNS_HDR_LEN, fq->name_len, fq->name, fq->name_len) ||
	    get16(reply + qend) != fq->qtype || get16(reply + qend + 2) != fq->qclass)
		return FWD_REPLY_QUESTION;
	return FWD_REPLY_OK;
}

void fwd_msg_restore(uint8_t *reply, uint16_t client_id, const uint8_t *client_qname,
		     size_t qname_len)
{
	put16(reply, client_id);
	memcpy(reply + DNS_HDR_LEN, client_qname, qname_len);
}

static void put_opt(uint8_t *p, const struct dns_query *q)
{
	p[0] = 0;
	put16(p + 1, DNS_T_OPT);
	put16(p + 3, DNS_EDNS_SIZE);
	put32(p + 5, q->edns_do ? 0x8000u : 0);
	put16(p + 9, 0);
}

/* Header + client question (+ OPT), TC=1, no records. @p flags: QR.. rcode to keep. */
static int write_truncated(uint8_t *out, size_t limit, uint16_t flags, const uint8_t *query,
			   const struct dns_query *q)
{
	size_t qend = q->question_end;
	size_t opt = q->has_edns ? OPT_RR_LEN : 0;

	if (qend < DNS_HDR_LEN || qend + opt > limit)
		return -ENOSPC;
	if (out != query)
		memmove(out + DNS_HDR_LEN, query + DNS_HDR_LEN, qend - DNS_HDR_LEN);
	put16(out, q->id);
	put16(out + 2, (uint16_t)(flags | DNS_F_TC));
	put16(out + 4, 1);
	put16(out + 6, 0);
	put16(out + 8, 0);
	put16(out + 10, q->has_edns ? 1 : 0);
	if (opt != 0)
		put_opt(out + qend, q);
	return (int)(qend + opt);
}

int fwd_msg_relay(uint8_t *out, size_t limit, const uint8_t *reply, size_t len,
		  const uint8_t *query, const struct dns_query *q)
{
	if (len <= limit) {
		if (out != reply)
			memmove(out, reply, len);
		return (int)len;
	}
	return write_truncated(out, limit, get16(reply + 2), query, q);
}

int fwd_msg_set_ttls(uint8_t *reply, size_t len, uint32_t ttl)
{
	struct msg_walk w;
	struct rr_view rr;
	int r;

	if (walk_init(&w, reply, len) != 0)
		return -EBADMSG;
	while ((r = walk_next(&w, &rr)) == 1) {
		if (rr.type != DNS_T_OPT)
			put32(reply + rr.fixed + 4, ttl);
	}
	return r == 0 ? 0 : -EBADMSG;
}

/* ------------------------------------------------------------------------- */
/* Classification (CoreDNS response.Typify + dnsutil.MinimalTTL)              */

static enum fwd_rtype typify(int rcode, unsigned ancount, bool soa, unsigned ns)
{
	if (ancount > 0 && rcode == DNS_RCODE_NOERROR)
		return FWD_RT_NOERROR;
	if (soa && rcode == DNS_RCODE_NOERROR)
		return FWD_RT_NODATA;
	if (soa && rcode == DNS_RCODE_NXDOMAIN)
		return FWD_RT_NXDOMAIN;
	if (rcode == DNS_RCODE_SERVFAIL || rcode == DNS_RCODE_NOTIMP)
		return FWD_RT_SERVERROR;
	if (ns > 0 && rcode == DNS_RCODE_NOERROR)
		return FWD_RT_DELEGATION;
	if (rcode == DNS_RCODE_NOERROR)
		return FWD_RT_NOERROR;
	return FWD_RT_OTHER;
}

int fwd_msg_classify(const uint8_t *reply, size_t len, struct fwd_msg_info *info)
{
	struct msg_walk w;
	struct rr_view rr;
	unsigned ns = 0, an = 0;
	bool soa = false;
	uint32_t min_ttl = 3600;
	int r;

	memset(info, 0, sizeof(*info));
	if (walk_init(&w, reply, len) != 0)
		return -EBADMSG;
	info->flags = get16(reply + 2);
	info->rcode = info->flags & DNS_F_RCODE;
	info->tc = (info->flags & DNS_F_TC) != 0;
	while ((r = walk_next(&w, &rr)) == 1) {
		if (rr.type == DNS_T_OPT)
			continue;
		info->n_rr++;
		if (rr.sec == DNS_SEC_ANSWER)
			an++;
		if (rr.sec == DNS_SEC_AUTHORITY && rr.type == DNS_T_SOA)
			soa = true;
		if (rr.sec == DNS_SEC_AUTHORITY && rr.type == DNS_T_NS)
			ns++;
		if (rr.ttl < min_ttl)
			min_ttl = rr.ttl;
	}
	if (r != 0)
		return -EBADMSG;
	info->type = typify(info->rcode, an, soa, ns);
	/* No records to take a TTL from: CoreDNS's fail-safe minimum. */
	if (info->n_rr == 0 || info->type == FWD_RT_SERVERROR || info->type == FWD_RT_OTHER)
		min_ttl = 5;
	info->min_ttl = min_ttl;
	return 0;
}

/* ------------------------------------------------------------------------- */
/* Reply -> shared value                                                      */

/*
 * Layout of rdata with embedded names that may be compressed (RFC 1035 3.3, RFC 3597 4):
 * 'N' a name, '2'/'6'/'t' 2, 6 and 20 fixed bytes, 'S' a character-string,
 * '4' 4 fixed bytes. Types not listed are opaque and copied as they are.
 */
static const char *rdata_layout(uint16_t type)
{
	switch (type) {
	case DNS_T_NS: case 3: case 4: case DNS_T_CNAME: case 7: case 8: case 9:
	case DNS_T_PTR: case 39 /* DNAME */:
		return "N";
	case DNS_T_SOA:
		return "NNt";
	case 14 /* MINFO */: case 17 /* RP */:
		return "NN";
	case DNS_T_MX: case 18 /* AFSDB */: case 21 /* RT */: case 36 /* KX */:
		return "2N";
	case 26 /* PX */:
		return "2NN";
	case DNS_T_SRV:
		return "6N";
	case 35 /* NAPTR */:
		return "4SSSN";
	default:
		return NULL;
	}
}

struct out_buf {
	uint8_t *p;
	size_t len;
	size_t cap;
};

static int out_put(struct out_buf *o, const uint8_t *src, size_t n)
{
	if (o->cap - o->len < n)
		return -ENOSPC;
	memcpy(o->p + o->len, src, n);
	o->len += n;
	return 0;
}

/* Copy rdata of @p rr decompressing names. @return 0, -ENOSPC or -EBADMSG */
static int copy_rdata(struct out_buf *o, const uint8_t *msg, size_t len,
		      const struct rr_view *rr)
{
	const char *lay = rdata_layout(rr->type);
	size_t pos = rr->rdata, end = rr->rdata + rr->rdlen;
	uint8_t name[DNS_MAX_NAME];
	size_t nlen, fixed;
	int n;

	if (lay == NULL)
		return out_put(o, msg + pos, rr->rdlen);
	for (; *lay != '\0'; lay++) {
		switch (*lay) {
		case 'N':
			n = dns_name_unpack(msg, end, pos, name, &nlen);
			if (n < 0)
				return -EBADMSG;
			if (out_put(o, name, nlen) != 0)
				return -ENOSPC;
			pos += (size_t)n;
			continue;
		case 'S':
			fixed = pos < end ? 1u + msg[pos] : 1;
			break;
		case 't':
			fixed = 20;
			break;
		default:
			fixed = (size_t)(*lay - '0');
			break;
		}
		if (pos + fixed > end)
			return -EBADMSG;
		if (out_put(o, msg + pos, fixed) != 0)
			return -ENOSPC;
		pos += fixed;
	}
	(void)len;
	return pos == end ? 0 : -EBADMSG;
}

/* One record into the value. @return 0 or -errno */
static int copy_record(struct out_buf *o, const uint8_t *msg, size_t len,
		       const struct rr_view *rr, const struct dns_key *key, uint32_t ttl,
		       uint16_t *ttl_off)
{
	uint8_t owner[DNS_MAX_NAME], fixed[10];
	size_t olen, rdstart;
	int r;

	if (dns_name_unpack(msg, len, rr->owner, owner, &olen) < 0)
		return -EBADMSG;
	if (fwd_name_eq(owner, olen, key->name, key->name_len)) {
		uint8_t ptr[2] = { 0xc0, DNS_HDR_LEN };

		r = out_put(o, ptr, 2);
	} else {
		r = out_put(o, owner, olen);
	}
	if (r != 0)
		return r;
	memcpy(fixed, msg + rr->fixed, 10);
	put32(fixed + 4, ttl);
	*ttl_off = (uint16_t)(o->len + 4);
	if (out_put(o, fixed, 10) != 0)
		return -ENOSPC;
	rdstart = o->len;
	r = copy_rdata(o, msg, len, rr);
	if (r != 0)
		return r;
	if (o->len - rdstart > UINT16_MAX)
		return -EBADMSG;
	put16(o->p + rdstart - 2, (uint16_t)(o->len - rdstart));
	return 0;
}

int fwd_msg_to_answer(const uint8_t *reply, size_t len, const struct dns_key *key,
		      uint16_t flags, uint32_t ttl, bool no_age, struct dns_answer *out,
		      size_t cap)
{
	uint16_t offs[DNS_ANS_MAX_TTL], count[3] = { 0, 0, 0 };
	struct out_buf o;
	struct msg_walk w;
	struct rr_view rr;
	unsigned n = 0;
	size_t size, pad;
	int r;

	if (cap < sizeof(*out) || walk_init(&w, reply, len) != 0)
		return -EBADMSG;
	o.p = out->rr;
	o.cap = cap - sizeof(*out);
	o.len = 0;
	while ((r = walk_next(&w, &rr)) == 1) {
		if (rr.type == DNS_T_OPT || rr.type == 250 /* TSIG: hop by hop */)
			continue;
		if (n == DNS_ANS_MAX_TTL)
			return -E2BIG;
		r = copy_record(&o, reply, len, &rr, key, ttl, &offs[n]);
		if (r != 0)
			return r;
		count[rr.sec]++;
		n++;
	}
	if (r != 0 || o.len > UINT16_MAX)
		return -EBADMSG;
	pad = (o.len + 1u) & ~(size_t)1u;
	if (no_age)
		n = 0;
	size = sizeof(*out) + pad + n * sizeof(uint16_t);
	if (size > cap)
		return -ENOSPC;
	if (pad != o.len)
		out->rr[o.len] = 0;
	memcpy(out->rr + pad, offs, n * sizeof(uint16_t));
	out->magic = DNS_ANS_MAGIC;
	out->flags = flags;
	out->ancount = count[0];
	out->nscount = count[1];
	out->arcount = count[2];
	out->qname_len = key->name_len;
	out->rr_len = (uint16_t)o.len;
	out->n_ttl = (uint16_t)n;
	out->reserved = 0;
	out->stored = 0;
	out->expire = 0;
	return (int)size;
}

/* ------------------------------------------------------------------------- */
/* Shared value -> response                                                   */

/* Skip a name inside a value's records: literal labels or a pointer (to the question). */
static int value_skip_name(const uint8_t *rr, size_t len, size_t pos)
{
	size_t start = pos;

	while (pos < len) {
		uint8_t l = rr[pos];

		if ((l & 0xc0) == 0xc0)
			return pos + 2 <= len ? (int)(pos + 2 - start) : -1;
		if (l > DNS_MAX_LABEL)
			return -1;
		pos += 1u + l;
		if (l == 0)
			return pos <= len ? (int)(pos - start) : -1;
	}
	return -1;
}

/* Set every TTL of the @p count records at @p rr (a value's record image). */
static int value_set_ttls(uint8_t *rr, size_t len, unsigned count, uint32_t ttl)
{
	size_t pos = 0;

	for (unsigned i = 0; i < count; i++) {
		int n = value_skip_name(rr, len, pos);

		if (n < 0 || pos + (size_t)n + 10 > len)
			return -1;
		pos += (size_t)n;
		if (get16(rr + pos) != DNS_T_OPT)
			put32(rr + pos + 4, ttl);
		pos += 10u + get16(rr + pos + 8);
	}
	return pos == len ? 0 : -1;
}

int fwd_msg_from_answer(uint8_t *out, size_t limit, const uint8_t *query,
			const struct dns_query *q, const struct dns_answer *a, uint32_t ttl)
{
	size_t qend = q->question_end;
	size_t opt = q->has_edns ? OPT_RR_LEN : 0;
	uint16_t flags = (uint16_t)(DNS_F_QR | (q->flags & (DNS_F_OPCODE | DNS_F_RD | DNS_F_CD)) |
				    (a->flags & (DNS_F_AA | DNS_F_RA | DNS_F_AD | DNS_F_RCODE)));
	unsigned count = (unsigned)a->ancount + a->nscount + a->arcount;

	if (qend < DNS_HDR_LEN || a->magic != DNS_ANS_MAGIC)
		return -EINVAL;
	if (qend + a->rr_len + opt > limit)
		return write_truncated(out, limit, flags, query, q);
	if (out != query)
		memmove(out + DNS_HDR_LEN, query + DNS_HDR_LEN, qend - DNS_HDR_LEN);
	put16(out, q->id);
	put16(out + 2, flags);
	put16(out + 4, 1);
	put16(out + 6, a->ancount);
	put16(out + 8, a->nscount);
	put16(out + 10, (uint16_t)(a->arcount + (q->has_edns ? 1 : 0)));
	memcpy(out + qend, a->rr, a->rr_len);
	if (value_set_ttls(out + qend, a->rr_len, count, ttl) != 0)
		return -EINVAL;
	if (opt != 0)
		put_opt(out + qend + a->rr_len, q);
	return (int)(qend + a->rr_len + opt);
}

int fwd_msg_rcode(uint8_t *out, size_t cap, const uint8_t *query, const struct dns_query *q,
		  int rcode)
{
	size_t qend = q->question_end >= DNS_HDR_LEN ? q->question_end : DNS_HDR_LEN;

	if (qend > cap)
		return -ENOSPC;
	if (out != query)
		memmove(out, query, qend);
	return dns_write_rcode(out, cap, q, rcode);
}
