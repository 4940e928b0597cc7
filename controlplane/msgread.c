/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - a response's records read back into a builder (cp_msg_to_builder):
 * for plugins that rework answers they did not build (loadbalance on relayed replies) or
 * add another lookup's records to theirs (upstream lookups). Names are decompressed
 * (owners, and the rdata names of the types RFC 3597 section 4 allows to be compressed),
 * so the records can be moved and written after another question.
 */
#include <errno.h>
#include <string.h>

#include "dns.h"
#include "plugin.h"

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

/* Layout of the rdata of types whose names may come compressed (RFC 3597 section 4). */
static void rdata_layout(uint16_t type, unsigned *fixed, unsigned *names, unsigned *tail)
{
	*fixed = *names = *tail = 0;
	switch (type) {
	case DNS_T_NS: case DNS_T_CNAME: case DNS_T_PTR: case 39 /* DNAME */:
		*names = 1;
		break;
	case DNS_T_MX:
		*fixed = 2;
		*names = 1;
		break;
	case DNS_T_SRV:
		*fixed = 6;
		*names = 1;
		break;
	case DNS_T_SOA:
		*names = 2;
		*tail = 20;
		break;
	default:
		break;
	}
}

/* The rdata at @p off, names expanded, into @p out. @return its length or -EBADMSG */
static int rdata_expand(const uint8_t *msg, size_t len, size_t off, uint16_t rdlen,
			uint16_t type, uint8_t *out, size_t cap)
{
	unsigned fixed, names, tail;
	size_t pos = off, o = 0;

	rdata_layout(type, &fixed, &names, &tail);
	if (names == 0) {
		if (rdlen > cap)
			return -ENOSPC;
		memcpy(out, msg + off, rdlen);
		return rdlen;
	}
	if (fixed > rdlen || fixed > cap)
		return -EBADMSG;
	memcpy(out, msg + pos, fixed);
	o = fixed;
	pos += fixed;
	for (unsigned i = 0; i < names; i++) {
		uint8_t w[DNS_MAX_NAME];
		size_t wl;
		int n = dns_name_unpack(msg, len, pos, w, &wl);

		if (n < 0 || o + wl > cap)
			return -EBADMSG;
		memcpy(out + o, w, wl);
		o += wl;
		pos += (size_t)n;
	}
	if (pos + tail != off + rdlen || o + tail > cap)
		return -EBADMSG;
	memcpy(out + o, msg + pos, tail);
	return (int)(o + tail);
}

static bool wire_eq_nocase(const uint8_t *a, const uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t x = a[i], y = b[i];

		if (x >= 'A' && x <= 'Z')
			x = (uint8_t)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (uint8_t)(y + 32);
		if (x != y)
			return false;
	}
	return true;
}

struct rd_ctx {
	const uint8_t *msg;
	size_t len;
	uint8_t qname[DNS_MAX_NAME];
	int qlen;                    /* -1: no question */
	bool qname_owner;
};

/* One record at *pos into @p b when @p want. @return 0, -ENOSPC, -EBADMSG */
static int add_record(struct rd_ctx *c, size_t *pos, enum dns_section sec, bool want,
		      struct dns_builder *b)
{
	uint8_t own[DNS_MAX_NAME], rd[DNS_BUILD_MAX];
	char text[DNS_MAX_NAME * 4 + 2];
	size_t olen = 0;
	int used = dns_name_unpack(c->msg, c->len, *pos, own, &olen), ol = (int)olen, rl;
	uint16_t type, cls, rdlen;
	uint32_t ttl;
	bool qowner;

	if (used < 0 || *pos + (size_t)used + 10 > c->len)
		return -EBADMSG;
	if (dns_name_to_str(c->msg, c->len, *pos, text, sizeof(text)) < 0)
		return -EBADMSG;
	*pos += (size_t)used;
	type = rd16(c->msg + *pos);
	cls = rd16(c->msg + *pos + 2);
	ttl = (uint32_t)rd16(c->msg + *pos + 4) << 16 | rd16(c->msg + *pos + 6);
	rdlen = rd16(c->msg + *pos + 8);
	*pos += 10;
	if (*pos + rdlen > c->len)
		return -EBADMSG;
	*pos += rdlen;
	/* The builder writes class IN only. */
	if (!want || type == DNS_T_OPT || cls != DNS_C_IN)
		return 0;
	rl = rdata_expand(c->msg, c->len, *pos - rdlen, rdlen, type, rd, sizeof(rd));
	if (rl < 0)
		return rl;
	qowner = c->qname_owner && c->qlen == ol && wire_eq_nocase(own, c->qname, (size_t)ol);
	if (b->n_ttl >= DNS_ANS_MAX_TTL ||
	    (size_t)DNS_BUILD_MAX - b->len < (qowner ? 2u : (size_t)ol) + 10u + (size_t)rl)
		return -ENOSPC;
	dns_builder_add_raw(b, sec, qowner ? DNS_OWNER_QNAME : text, type, ttl, rd, (uint16_t)rl);
	return b->err;
}

int cp_msg_to_builder(const uint8_t *msg, size_t len, unsigned sec_mask, bool qname_owner,
		      struct dns_builder *b)
{
	struct rd_ctx c = { .msg = msg, .len = len, .qlen = -1, .qname_owner = qname_owner };
	size_t pos = DNS_HDR_LEN;
	unsigned cnt[3];
	int rc;

	if (len < DNS_HDR_LEN)
		return -EBADMSG;
	cnt[0] = rd16(msg + 6);
	cnt[1] = rd16(msg + 8);
	cnt[2] = rd16(msg + 10);
	for (unsigned i = 0; i < rd16(msg + 4); i++) {
		size_t qlen;
		int n = dns_name_unpack(msg, len, pos, c.qname, &qlen);

		if (n < 0 || pos + (size_t)n + 4 > len)
			return -EBADMSG;
		if (i == 0)
			c.qlen = (int)qlen;
		pos += (size_t)n + 4;
	}
	for (unsigned s = 0; s < 3; s++) {
		for (unsigned i = 0; i < cnt[s]; i++) {
			rc = add_record(&c, &pos, (enum dns_section)s, (sec_mask & (1u << s)) != 0, b);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}
