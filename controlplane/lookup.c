/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - the `lookup` command: replay the fast path's decision for a
 * question on the live shared table, and decode the resulting response to text.
 *
 * The replay follows the fast path's order: exact (name, type) entry; the name's exists
 * marker (NODATA); the first zone of the zone set the name falls under (longest first)
 * with a miss answer; else the query goes to the control plane, and the engine's answer
 * is shown instead.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <rte_hash.h>

#include "dns.h"
#include "dp_shm.h"
#include "lookup.h"
#include "runtime.h"

#define LK_BUF        65535
#define LK_EDNS_SIZE  4096
#define NAME_TXT      1100 /* 255 wire bytes, every one possibly \DDD */

struct lk_req {
	json_t *obj;
	cp_lookup_cb cb;
	void *ctx;
	uint8_t *buf;
};

/* ------------------------------------------------------------------------- */
/* Decoding                                                                    */

static void type_text(uint16_t type, char *out, size_t cap)
{
	const char *t = dns_type_str(type);

	if (t != NULL)
		snprintf(out, cap, "%s", t);
	else
		snprintf(out, cap, "TYPE%u", type);
}

static int txt_text(const uint8_t *rd, size_t rdlen, char *out, size_t cap)
{
	size_t i = 0, o = 0;

	while (i < rdlen) {
		size_t l = rd[i++], j;

		if (i + l > rdlen)
			return -EINVAL;
		o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%s\"", o ? " " : "");
		for (j = 0; j < l && o < cap; j++, i++) {
			uint8_t c = rd[i];

			if (c == '"' || c == '\\')
				o += (size_t)snprintf(out + o, cap - o, "\\%c", c);
			else if (c < 0x20 || c > 0x7e)
				o += (size_t)snprintf(out + o, cap - o, "\\%03u", c);
			else
				out[o++] = (char)c;
		}
		if (o < cap)
			o += (size_t)snprintf(out + o, cap - o, "\"");
	}
	if (o >= cap)
		out[cap - 1] = '\0';
	else
		out[o] = '\0';
	return 0;
}

static int rdata_names(const uint8_t *msg, size_t len, size_t off, int n, char *out, size_t cap)
{
	char a[NAME_TXT], b[NAME_TXT];
	int r = dns_name_to_str(msg, len, off, a, sizeof(a));

	if (r < 0)
		return r;
	if (n == 1) {
		snprintf(out, cap, "%s", a);
		return r;
	}
	int r2 = dns_name_to_str(msg, len, off + (size_t)r, b, sizeof(b));

	if (r2 < 0)
		return r2;
	snprintf(out, cap, "%s %s", a, b);
	return r + r2;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int rdata_text(const uint8_t *msg, size_t len, size_t off, uint16_t type,
		      uint16_t rdlen, char *out, size_t cap)
{
	const uint8_t *rd = msg + off;
	char n[NAME_TXT * 2 + 2];
	int r;
	size_t i, o;

	switch (type) {
	case DNS_T_A:
		return rdlen == 4 && inet_ntop(AF_INET, rd, out, (socklen_t)cap) ? 0 : -EINVAL;
	case DNS_T_AAAA:
		return rdlen == 16 && inet_ntop(AF_INET6, rd, out, (socklen_t)cap) ? 0 : -EINVAL;
	case DNS_T_NS: case DNS_T_CNAME: case DNS_T_PTR:
		return rdata_names(msg, len, off, 1, out, cap) < 0 ? -EINVAL : 0;
	case DNS_T_MX:
		if (rdlen < 3 || rdata_names(msg, len, off + 2, 1, n, sizeof(n)) < 0)
			return -EINVAL;
		snprintf(out, cap, "%u %s", rd[0] << 8 | rd[1], n);
		return 0;
	case DNS_T_SRV:
		if (rdlen < 7 || rdata_names(msg, len, off + 6, 1, n, sizeof(n)) < 0)
			return -EINVAL;
		snprintf(out, cap, "%u %u %u %s", rd[0] << 8 | rd[1], rd[2] << 8 | rd[3],
			 rd[4] << 8 | rd[5], n);
		return 0;
	case DNS_T_SOA:
		r = rdata_names(msg, len, off, 2, n, sizeof(n));
		if (r < 0 || (size_t)r + 20 > rdlen)
			return -EINVAL;
		rd += r;
		snprintf(out, cap, "%s %u %u %u %u %u", n, rd32(rd), rd32(rd + 4), rd32(rd + 8),
			 rd32(rd + 12), rd32(rd + 16));
		return 0;
	case DNS_T_TXT:
		return txt_text(rd, rdlen, out, cap);
	default: /* RFC 3597 generic form */
		o = (size_t)snprintf(out, cap, "\\# %u ", rdlen);
		for (i = 0; i < rdlen && o + 3 < cap; i++)
			o += (size_t)snprintf(out + o, cap - o, "%02x", rd[i]);
		return 0;
	}
}

static void edns_text(const uint8_t *rr, uint16_t size, char *out, size_t cap)
{
	/* TTL of OPT: extended rcode, version, DO bit. */
	snprintf(out, cap, "version %u; flags:%s; udp: %u", rr[1], (rr[2] & 0x80) ? " do" : "",
		 size);
}

/* One record at *off. @return 0, or -EINVAL (malformed). */
static int rr_decode(const uint8_t *msg, size_t len, size_t *off, json_t *list, json_t *obj)
{
	char owner[NAME_TXT], rdata[4096], tbuf[16], line[NAME_TXT + 4096 + 64];
	int n = dns_name_to_str(msg, len, *off, owner, sizeof(owner));
	size_t p;
	uint16_t type, cls, rdlen;

	if (n < 0 || *off + (size_t)n + 10 > len)
		return -EINVAL;
	p = *off + (size_t)n;
	type = (uint16_t)(msg[p] << 8 | msg[p + 1]);
	cls = (uint16_t)(msg[p + 2] << 8 | msg[p + 3]);
	rdlen = (uint16_t)(msg[p + 8] << 8 | msg[p + 9]);
	if (p + 10 + rdlen > len)
		return -EINVAL;
	*off = p + 10 + rdlen;
	if (type == DNS_T_OPT) {
		edns_text(msg + p + 4, cls, rdata, sizeof(rdata));
		json_object_set_new(obj, "edns", json_string(rdata));
		return 0;
	}
	if (rdata_text(msg, len, p + 10, type, rdlen, rdata, sizeof(rdata)) < 0)
		return -EINVAL;
	type_text(type, tbuf, sizeof(tbuf));
	if (cls == DNS_C_IN)
		snprintf(line, sizeof(line), "%s %u IN %s %s", owner, rd32(msg + p + 4), tbuf, rdata);
	else
		snprintf(line, sizeof(line), "%s %u CLASS%u %s %s", owner, rd32(msg + p + 4), cls,
			 tbuf, rdata);
	json_array_append_new(list, json_string(line));
	return 0;
}

static json_t *flags_json(uint16_t f)
{
	static const struct { uint16_t bit; const char *name; } names[] = {
		{ DNS_F_QR, "qr" }, { DNS_F_AA, "aa" }, { DNS_F_TC, "tc" }, { DNS_F_RD, "rd" },
		{ DNS_F_RA, "ra" }, { DNS_F_AD, "ad" }, { DNS_F_CD, "cd" },
	};
	char buf[32] = "";
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (f & names[i].bit) {
			if (buf[0] != '\0')
				strcat(buf, " ");
			strcat(buf, names[i].name);
		}
	}
	return json_string(buf);
}

int cp_decode_response(const uint8_t *msg, size_t len, json_t *obj)
{
	static const char *const sec[3] = { "answer", "authority", "additional" };
	uint16_t flags, count[4];
	size_t off = DNS_HDR_LEN;
	unsigned s, i;

	if (len < DNS_HDR_LEN)
		return -EINVAL;
	flags = (uint16_t)(msg[2] << 8 | msg[3]);
	for (i = 0; i < 4; i++)
		count[i] = (uint16_t)(msg[4 + 2 * i] << 8 | msg[5 + 2 * i]);
	json_object_set_new(obj, "rcode", json_string(dns_rcode_str(flags & DNS_F_RCODE)));
	json_object_set_new(obj, "flags", flags_json(flags));
	for (i = 0; i < count[0]; i++) {
		char q[NAME_TXT];
		int n = dns_name_to_str(msg, len, off, q, sizeof(q));

		if (n < 0 || off + (size_t)n + 4 > len)
			return -EINVAL;
		off += (size_t)n + 4;
	}
	for (s = 0; s < 3; s++) {
		json_t *list = json_array();

		json_object_set_new(obj, sec[s], list);
		for (i = 0; i < count[s + 1]; i++)
			if (rr_decode(msg, len, &off, list, obj) < 0)
				return -EINVAL;
	}
	return 0;
}

/* ------------------------------------------------------------------------- */
/* Fast path replay                                                            */

static int build_query(uint8_t *msg, size_t cap, const char *name, uint16_t qtype)
{
	int nl = dns_name_from_str(msg + DNS_HDR_LEN, cap - DNS_HDR_LEN - 15, name);
	size_t p;

	if (nl < 0)
		return nl;
	memset(msg, 0, DNS_HDR_LEN);
	msg[0] = 0x64; /* arbitrary ID */
	msg[1] = 0x70;
	msg[2] = DNS_F_RD >> 8;
	msg[5] = 1;    /* QDCOUNT */
	msg[11] = 1;   /* ARCOUNT: OPT, so answers are sized as for a modern client */
	p = DNS_HDR_LEN + (size_t)nl;
	msg[p++] = (uint8_t)(qtype >> 8);
	msg[p++] = (uint8_t)qtype;
	msg[p++] = 0;
	msg[p++] = DNS_C_IN;
	msg[p++] = 0;                       /* root owner */
	msg[p++] = 0;
	msg[p++] = DNS_T_OPT;
	msg[p++] = LK_EDNS_SIZE >> 8;
	msg[p++] = LK_EDNS_SIZE & 0xff;
	memset(msg + p, 0, 6);              /* TTL (ext rcode, version, flags), RDLEN */
	return (int)(p + 6);
}

static bool name_under(const uint8_t *name, unsigned nlen, const uint8_t *zone, unsigned zlen)
{
	unsigned off = 0;

	while (off < nlen) {
		if (nlen - off == zlen)
			return memcmp(name + off, zone, zlen) == 0;
		if (nlen - off < zlen || name[off] == 0)
			return false;
		off += name[off] + 1u;
	}
	return false;
}

/* @return the value the fast path would answer with (and its source), or NULL with the
 * reason it would hand the query to the control plane. */
static const struct dns_answer *fp_decide(struct cp_rt *rt, const struct dns_query *q,
					  const char **source, const char **reason, json_t *obj)
{
	uint32_t now = __atomic_load_n(&rt->state->now, __ATOMIC_RELAXED);
	const struct dp_zoneset *zs;
	struct dns_key k;
	void *data = NULL;
	char zname[NAME_TXT];
	unsigned i;

	if (!q->key_ok)
		return *reason = "name longer than the table key", NULL;
	if (q->qtype == DNS_T_ANY || q->qtype == DNS_T_AXFR || q->qtype == DNS_T_IXFR)
		return *reason = "type the fast path does not answer", NULL;
	if (rte_hash_lookup_with_hash_data(rt->hash, &q->key, q->hash, &data) >= 0) {
		const struct dns_answer *a = data;

		if (a->expire != 0 && a->expire <= now)
			return *reason = "cache entry expired", NULL;
		return *source = a->expire ? "cache" : "table", a;
	}
	k = q->key;
	k.qtype = DNS_KEY_T_EXISTS;
	if (rte_hash_lookup_with_hash_data(rt->hash, &k, dns_hash_mix(q->name_hash, 0),
					   &data) >= 0) {
		const struct dns_answer *a = data;

		if (a->expire != 0 && a->expire <= now)
			return *reason = "cache entry (exists marker) expired", NULL;
		return *source = "exists marker (NODATA)", a;
	}
	zs = __atomic_load_n(&rt->state->zones, __ATOMIC_ACQUIRE);
	for (i = 0; zs != NULL && i < zs->n_zones; i++) {
		const struct dp_zone *z = &zs->zones[i];

		if (!name_under(q->key.name, q->key.name_len, z->name, z->name_len))
			continue;
		if (dns_name_to_str(z->name, z->name_len, 0, zname, sizeof(zname)) >= 0)
			json_object_set_new(obj, "zone", json_string(zname));
		if ((z->flags & DP_ZONE_ANSWER_MISS) && z->miss != NULL)
			return *source = "zone miss answer", z->miss;
		return *reason = "zone has no miss answer (not synced or forwarded)", NULL;
	}
	return *reason = "no table entry and no zone", NULL;
}

static void lk_finish(json_t *obj, const uint8_t *resp, size_t len)
{
	if (len == 0) {
		json_object_set_new(obj, "rcode", json_null());
		json_object_set_new(obj, "note", json_string("no response would be sent"));
		return;
	}
	if (cp_decode_response(resp, len, obj) < 0)
		json_object_set_new(obj, "note", json_string("response could not be decoded"));
}

static void lk_done(void *arg, const uint8_t *resp, size_t len)
{
	struct lk_req *r = arg;

	lk_finish(r->obj, resp, resp != NULL ? len : 0);
	r->cb(r->ctx, r->obj);
	free(r->buf);
	free(r);
}

static json_t *lk_error(json_t *obj, const char *msg)
{
	json_decref(obj);
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

/* Ask the engine, as for a miss from the fast path. */
static json_t *lk_engine(struct cp_rt *rt, json_t *obj, uint8_t *buf, size_t qlen,
			 cp_lookup_cb cb, void *ctx)
{
	const struct cp_settings *set = cp_rt_settings(rt);
	struct cp_client c = { .addr_len = sizeof(struct sockaddr_in), .tcp = 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&c.addr;
	struct lk_req *r = malloc(sizeof(*r));
	int len;

	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c.local_port = set->dns_ports[0] ? set->dns_ports[0] : 53;
	if (r != NULL) {
		*r = (struct lk_req){ .obj = obj, .cb = cb, .ctx = ctx, .buf = buf };
		c.done = lk_done;
		c.req = r;
	}
	len = cp_engine_answer(rt->engine, buf, qlen, LK_BUF, &c);
	if (len == CP_ANSWER_DEFERRED && r != NULL)
		return NULL;
	free(r);
	lk_finish(obj, buf, len > 0 ? (size_t)len : 0);
	free(buf);
	return obj;
}

json_t *cp_lookup(struct cp_rt *rt, const char *name, const char *type, cp_lookup_cb cb,
		  void *ctx)
{
	json_t *obj = json_pack("{s:b, s:s}", "ok", 1, "name", name);
	const struct dns_answer *a;
	const char *source = NULL, *reason = NULL;
	struct dns_query q;
	uint8_t *buf = malloc(LK_BUF);
	int qt = dns_type_from_str(type != NULL ? type : "A"), len;

	if (obj == NULL || buf == NULL) {
		free(buf);
		return lk_error(obj, "out of memory");
	}
	if (qt < 0 || qt > 65535) {
		free(buf);
		return lk_error(obj, "unknown type");
	}
	json_object_set_new(obj, "type", json_string(type != NULL ? type : "A"));
	len = build_query(buf, LK_BUF, name, (uint16_t)qt);
	memset(&q, 0, sizeof(q));
	if (len < 0 || dns_parse_query(buf, (size_t)len, &q) != DNS_RCODE_NOERROR) {
		free(buf);
		return lk_error(obj, "not a valid domain name");
	}
	a = fp_decide(rt, &q, &source, &reason, obj);
	if (a == NULL) {
		json_object_set_new(obj, "path", json_string("controlplane"));
		json_object_set_new(obj, "reason", json_string(reason));
		return lk_engine(rt, obj, buf, (size_t)len, cb, ctx);
	}
	json_object_set_new(obj, "path", json_string("fastpath"));
	json_object_set_new(obj, "source", json_string(source));
	len = dns_write_answer(buf, LK_BUF, &q, a, __atomic_load_n(&rt->state->now,
								  __ATOMIC_RELAXED));
	lk_finish(obj, buf, len > 0 ? (size_t)len : 0);
	free(buf);
	return obj;
}
