/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - helpers for the control-plane engine tests (see cp_test.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cp_test.h"

int t_done(const char *name)
{
	t_cleanup();
	return check_summary(name);
}

/* ------------------------------------------------------------------------- */
/* Files                                                                       */

static char *dirs[64];
static unsigned n_dirs;

const char *t_tmpdir(void)
{
	char tmpl[] = "/tmp/dpdns-cptest-XXXXXX";
	char *d = mkdtemp(tmpl);

	if (d == NULL || n_dirs == 64) {
		perror("mkdtemp");
		exit(2);
	}
	dirs[n_dirs] = strdup(d);
	return dirs[n_dirs++];
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void t_cleanup(void)
{
	for (unsigned i = 0; i < n_dirs; i++) {
		nftw(dirs[i], rm_one, 16, FTW_DEPTH | FTW_PHYS);
		free(dirs[i]);
	}
	n_dirs = 0;
}

const char *t_write(const char *dir, const char *name, const char *text)
{
	static char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL) {
		perror(path);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
	return path;
}

const char *t_read(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

struct cp_engine *t_load(const char *corefile, char *err, size_t errlen)
{
	const char *dir = t_tmpdir();
	char path[4096];

	snprintf(path, sizeof(path), "%s", t_write(dir, "Corefile", corefile));
	err[0] = '\0';
	return cp_engine_load(path, err, errlen);
}

/* ------------------------------------------------------------------------- */
/* Queries                                                                     */

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static unsigned get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

size_t t_query(uint8_t *buf, size_t cap, uint16_t id, const char *name, uint16_t qtype,
	       uint16_t qclass, bool edns, uint16_t edns_size)
{
	size_t o = 12;
	const char *p = name;

	memset(buf, 0, 12);
	put16(buf, id);
	put16(buf + 2, DNS_F_RD);
	put16(buf + 4, 1);
	while (*p != '\0' && strcmp(p, ".") != 0) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		buf[o++] = (uint8_t)l;
		memcpy(buf + o, p, l);
		o += l;
		p += l + (dot != NULL);
	}
	buf[o++] = 0;
	put16(buf + o, qtype);
	put16(buf + o + 2, qclass);
	o += 4;
	if (edns) {
		put16(buf + 10, 1);
		buf[o] = 0;
		put16(buf + o + 1, DNS_T_OPT);
		put16(buf + o + 3, edns_size);
		memset(buf + o + 5, 0, 6);
		o += 11;
	}
	(void)cap;
	return o;
}

static void rr_data(const uint8_t *msg, size_t len, size_t off, struct t_rr *rr, unsigned rdlen)
{
	char a[300];

	rr->data[0] = '\0';
	if (rr->type == DNS_T_A && rdlen == 4) {
		inet_ntop(AF_INET, msg + off, rr->data, sizeof(rr->data));
	} else if (rr->type == DNS_T_AAAA && rdlen == 16) {
		inet_ntop(AF_INET6, msg + off, rr->data, sizeof(rr->data));
	} else if (rr->type == DNS_T_PTR || rr->type == DNS_T_CNAME || rr->type == DNS_T_NS) {
		dns_name_to_str(msg, len, off, rr->data, sizeof(rr->data));
	} else if (rr->type == DNS_T_SOA) {
		int n = dns_name_to_str(msg, len, off, a, sizeof(a));
		char b[300];
		int m = n > 0 ? dns_name_to_str(msg, len, off + (size_t)n, b, sizeof(b)) : -1;
		const uint8_t *f = msg + off + (size_t)n + (size_t)m;

		if (m > 0)
			snprintf(rr->data, sizeof(rr->data), "%s %s %u %u %u %u %u", a, b,
				 (unsigned)(get16(f) << 16 | get16(f + 2)),
				 (unsigned)(get16(f + 4) << 16 | get16(f + 6)),
				 (unsigned)(get16(f + 8) << 16 | get16(f + 10)),
				 (unsigned)(get16(f + 12) << 16 | get16(f + 14)),
				 (unsigned)(get16(f + 16) << 16 | get16(f + 18)));
	} else {
		for (unsigned i = 0; i < rdlen && i < 140; i++)
			sprintf(rr->data + 2 * i, "%02x", msg[off + i]);
	}
}

int t_decode(const uint8_t *msg, size_t len, struct t_resp *r)
{
	size_t off = 12;
	int n;

	memset(r, 0, sizeof(*r));
	r->len = (int)len;
	if (len < 12)
		return -1;
	r->id = (uint16_t)get16(msg);
	r->flags = (uint16_t)get16(msg + 2);
	r->rcode = r->flags & 0xf;
	r->qd = (uint16_t)get16(msg + 4);
	r->an = (uint16_t)get16(msg + 6);
	r->ns = (uint16_t)get16(msg + 8);
	r->ar = (uint16_t)get16(msg + 10);
	if (r->qd == 1) {
		n = dns_name_to_str(msg, len, off, r->qname, sizeof(r->qname));
		if (n < 0 || off + (size_t)n + 4 > len)
			return -1;
		off += (size_t)n;
		r->qtype = (uint16_t)get16(msg + off);
		off += 4;
	}
	for (unsigned i = 0; i < (unsigned)r->an + r->ns + r->ar; i++) {
		struct t_rr rr;
		unsigned rdlen;

		memset(&rr, 0, sizeof(rr));
		n = dns_name_to_str(msg, len, off, rr.owner, sizeof(rr.owner));
		if (n < 0 || off + (size_t)n + 10 > len)
			return -1;
		off += (size_t)n;
		rr.type = (uint16_t)get16(msg + off);
		rr.cls = (uint16_t)get16(msg + off + 2);
		rr.ttl = (uint32_t)get16(msg + off + 4) << 16 | get16(msg + off + 6);
		rdlen = get16(msg + off + 8);
		off += 10;
		if (off + rdlen > len)
			return -1;
		if (rr.type == DNS_T_OPT) {
			r->has_opt = true;
			r->rcode |= (int)((rr.ttl >> 24) << 4);
		} else if (r->n_rr < 80) {
			rr_data(msg, len, off, &rr, rdlen);
			r->rr[r->n_rr++] = rr;
		}
		off += rdlen;
	}
	return off == len ? 0 : -1;
}

int t_ask_port(struct cp_engine *e, uint16_t port, const char *name, uint16_t qtype,
	       struct t_resp *r)
{
	uint8_t buf[65535];
	struct cp_client c;
	struct sockaddr_in *sin = (struct sockaddr_in *)&c.addr;
	size_t len = t_query(buf, sizeof(buf), 0x4242, name, qtype, DNS_C_IN, true, 4096);
	int n;

	memset(&c, 0, sizeof(c));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(40000);
	sin->sin_addr.s_addr = htonl(0x7f000001);
	c.addr_len = sizeof(*sin);
	c.local_port = port;
	n = cp_engine_answer(e, buf, len, sizeof(buf), &c);
	memset(r, 0, sizeof(*r));
	if (n > 0 && t_decode(buf, (size_t)n, r) < 0)
		r->len = -1;
	return n;
}

int t_ask(struct cp_engine *e, const char *name, uint16_t qtype, struct t_resp *r)
{
	return t_ask_port(e, 53, name, qtype, r);
}

static const char *type_name(uint16_t t, char *buf)
{
	const char *s = dns_type_str(t);

	if (s != NULL)
		return s;
	sprintf(buf, "TYPE%u", t);
	return buf;
}

void t_format(const struct t_resp *r, char *out, size_t cap)
{
	static const struct {
		uint16_t bit;
		const char *name;
	} fl[] = {
		{ DNS_F_QR, "qr" }, { DNS_F_AA, "aa" }, { DNS_F_TC, "tc" }, { DNS_F_RD, "rd" },
		{ DNS_F_RA, "ra" }, { DNS_F_AD, "ad" }, { DNS_F_CD, "cd" },
	};
	static const char *const sec[] = { "answer", "authority", "additional" };
	size_t o = 0;
	char tb[16];

	if (r->len <= 0) {
		snprintf(out, cap, "no response\n");
		return;
	}
	o += (size_t)snprintf(out + o, cap - o, "rcode: %s\nflags:", dns_rcode_str(r->rcode));
	for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++) {
		if (r->flags & fl[i].bit)
			o += (size_t)snprintf(out + o, cap - o, " %s", fl[i].name);
	}
	o += (size_t)snprintf(out + o, cap - o, "\n");
	if (r->qd == 1)
		o += (size_t)snprintf(out + o, cap - o, "question: %s %s\n", r->qname,
				      type_name(r->qtype, tb));
	for (unsigned i = 0; i < r->n_rr && o < cap; i++) {
		const struct t_rr *rr = &r->rr[i];
		unsigned s = i < r->an ? 0 : i < (unsigned)r->an + r->ns ? 1 : 2;

		o += (size_t)snprintf(out + o, cap - o, "%s: %s %u %s %s %s\n", sec[s], rr->owner,
				      rr->ttl, rr->cls == DNS_C_IN ? "IN" : "CLASS?",
				      type_name(rr->type, tb), rr->data);
	}
}

/* ------------------------------------------------------------------------- */
/* Sink                                                                        */

static int find(const struct t_sink *s, const struct dns_key *k)
{
	for (unsigned i = 0; i < s->n; i++) {
		if (memcmp(&s->e[i].key, k, sizeof(*k)) == 0)
			return (int)i;
	}
	return -1;
}

static int sink_put(void *ctx, const struct dns_key *key, uint32_t hash,
		    const struct dns_answer *ans, size_t size)
{
	struct t_sink *s = ctx;
	int i = find(s, key);

	if (hash != dns_key_hash(key) || size != dns_answer_size(ans))
		return -EINVAL;
	if (s->fail_after >= 0 && s->puts >= (unsigned)s->fail_after)
		return -ENOSPC;
	s->puts++;
	if (i < 0) {
		if (s->n == s->cap) {
			s->cap = s->cap ? s->cap * 2 : 256;
			s->e = realloc(s->e, s->cap * sizeof(*s->e));
		}
		i = (int)s->n++;
		s->e[i].key = *key;
		s->e[i].val = NULL;
	}
	free(s->e[i].val);
	s->e[i].val = malloc(size);
	memcpy(s->e[i].val, ans, size);
	s->e[i].size = size;
	s->e[i].put_this_sync = true;
	return 0;
}

static int sink_del(void *ctx, const struct dns_key *key, uint32_t hash)
{
	struct t_sink *s = ctx;
	int i = find(s, key);

	(void)hash;
	if (i < 0)
		return -ENOENT;
	free(s->e[i].val);
	s->e[i] = s->e[--s->n];
	s->dels++;
	return 0;
}

static int sink_zones(void *ctx, const void *zones, unsigned n)
{
	struct t_sink *s = ctx;
	const struct dp_zone *z = zones;

	if (n > DP_MAX_ZONES)
		return -E2BIG;
	for (unsigned i = 0; i < s->n_zones; i++)
		free(s->zone_val[i]);
	for (unsigned i = 0; i < n; i++) {
		s->zones[i] = z[i];
		s->zone_val[i] = NULL;
		if (z[i].miss != NULL) {
			size_t sz = dns_answer_size(z[i].miss);

			s->zone_val[i] = malloc(sz);
			memcpy(s->zone_val[i], z[i].miss, sz);
			s->zones[i].miss = (const struct dns_answer *)(void *)s->zone_val[i];
		}
	}
	s->n_zones = n;
	s->zone_calls++;
	return 0;
}

void t_sink_init(struct t_sink *s)
{
	memset(s, 0, sizeof(*s));
	s->sink.put = sink_put;
	s->sink.del = sink_del;
	s->sink.zones = sink_zones;
	s->sink.ctx = s;
	s->fail_after = -1;
}

void t_sink_free(struct t_sink *s)
{
	for (unsigned i = 0; i < s->n; i++)
		free(s->e[i].val);
	for (unsigned i = 0; i < s->n_zones; i++)
		free(s->zone_val[i]);
	free(s->e);
	memset(s, 0, sizeof(*s));
}

const struct t_entry *t_sink_get(const struct t_sink *s, const char *name, uint16_t qtype)
{
	struct dns_key k;
	int i;

	if (dns_key_from_str(&k, name, qtype) < 0)
		return NULL;
	i = find(s, &k);
	return i < 0 ? NULL : &s->e[i];
}

/* The fast path: exact entry, exists-marker, then the longest zone (first in the set). */
int t_fastpath(const struct t_sink *s, uint8_t *msg, size_t len, size_t cap, const char **why)
{
	const struct dns_answer *a = NULL;
	struct dns_query q;
	struct dns_key k;
	const char *w = "control-plane";
	int rc = dns_parse_query(msg, len, &q), i, n = 0;

	if (rc == DNS_PARSE_DROP) {
		w = "dropped";
		goto out;
	}
	if (rc != DNS_RCODE_NOERROR) {
		w = "fastpath-rcode";
		n = dns_write_rcode(msg, cap, &q, rc);
		goto out;
	}
	if (!q.key_ok)
		goto out;
	k = q.key;
	if ((i = find(s, &k)) >= 0) {
		a = (const struct dns_answer *)(const void *)s->e[i].val;
		w = "fastpath-entry";
	} else {
		k.qtype = DNS_KEY_T_EXISTS;
		if ((i = find(s, &k)) >= 0) {
			a = (const struct dns_answer *)(const void *)s->e[i].val;
			w = "fastpath-exists";
		}
	}
	for (unsigned z = 0; a == NULL && z < s->n_zones; z++) {
		const struct dp_zone *dz = &s->zones[z];
		size_t off = 0;
		bool under = false;

		while (off < q.key.name_len && !under) {
			under = q.key.name_len - off == dz->name_len &&
				memcmp(q.key.name + off, dz->name, dz->name_len) == 0;
			if (q.key.name[off] == 0)
				break;
			off += (size_t)q.key.name[off] + 1;
		}
		if (!under)
			continue;
		if (!(dz->flags & DP_ZONE_ANSWER_MISS))
			goto out;
		a = dz->miss;
		w = "fastpath-zone";
	}
	if (a != NULL)
		n = dns_write_answer(msg, cap, &q, a, dp_monotonic_sec());
out:
	if (why != NULL)
		*why = w;
	return n;
}
