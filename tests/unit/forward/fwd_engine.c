/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - engine driver of the forward/cache unit tests (see fwd_engine.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fwd_engine.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ------------------------------------------------------------------------- */
/* Sink                                                                        */

static int ms_find(const struct mem_sink *m, const struct dns_key *k)
{
	for (unsigned i = 0; i < m->n; i++) {
		const struct dns_key *e = &m->ent[i].key;

		if (e->qtype == k->qtype && e->name_len == k->name_len &&
		    memcmp(e->name, k->name, k->name_len) == 0)
			return (int)i;
	}
	return -1;
}

static int ms_put(void *ctx, const struct dns_key *key, uint32_t hash,
		  const struct dns_answer *ans, size_t size)
{
	struct mem_sink *m = ctx;
	int i = ms_find(m, key);
	uint8_t *v = malloc(size);

	(void)hash;
	if (v == NULL || size != dns_answer_size(ans) || ans->magic != DNS_ANS_MAGIC) {
		free(v);
		return -EINVAL;
	}
	memcpy(v, ans, size);
	if (i < 0) {
		if (m->n == MS_MAX) {
			free(v);
			return -ENOSPC;
		}
		i = (int)m->n++;
		memset(&m->ent[i].key, 0, sizeof(m->ent[i].key));
		memcpy(m->ent[i].key.name, key->name, key->name_len);
		m->ent[i].key.name_len = key->name_len;
		m->ent[i].key.qtype = key->qtype;
	} else {
		free(m->ent[i].val);
	}
	m->ent[i].val = v;
	m->ent[i].size = size;
	m->puts++;
	return 0;
}

static int ms_del(void *ctx, const struct dns_key *key, uint32_t hash)
{
	struct mem_sink *m = ctx;
	int i = ms_find(m, key);

	(void)hash;
	if (i < 0)
		return -ENOENT;
	free(m->ent[i].val);
	m->ent[i] = m->ent[--m->n];
	m->dels++;
	return 0;
}

static int ms_zones(void *ctx, const void *zones, unsigned n)
{
	(void)ctx;
	(void)zones;
	(void)n;
	return 0;
}

const struct dns_answer *drv_table(const struct drv *d, const char *name, uint16_t qtype)
{
	struct dns_key k;
	int i;

	if (dns_key_from_str(&k, name, qtype) != 0)
		return NULL;
	i = ms_find(&d->ms, &k);
	return i < 0 ? NULL : (const struct dns_answer *)d->ms.ent[i].val;
}

/* ------------------------------------------------------------------------- */
/* Engine                                                                      */

int drv_load(struct drv *d, const char *text)
{
	FILE *f;

	memset(d, 0, sizeof(*d));
	snprintf(d->path, sizeof(d->path), "/tmp/dpdns-fwdtest-corefile.XXXXXX");
	{
		int fd = mkstemp(d->path);

		if (fd < 0)
			return -1;
		close(fd);
	}
	f = fopen(d->path, "w");
	if (f == NULL)
		return -1;
	fputs(text, f);
	fclose(f);
	d->sink = (struct cp_sink){ .put = ms_put, .del = ms_del, .zones = ms_zones,
				    .ctx = &d->ms };
	d->e = cp_engine_load(d->path, d->err, sizeof(d->err));
	if (d->e == NULL) {
		unlink(d->path);
		return -1;
	}
	cp_engine_sync(d->e, &d->sink);
	return 0;
}

void drv_free(struct drv *d)
{
	if (d->e != NULL)
		cp_engine_free(d->e);
	d->e = NULL;
	for (unsigned i = 0; i < d->ms.n; i++)
		free(d->ms.ent[i].val);
	d->ms.n = 0;
	if (d->path[0] != '\0')
		unlink(d->path);
	d->path[0] = '\0';
}

void drv_run(struct drv *d, int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;

	do {
		struct pollfd p = { .fd = cp_engine_wake_fd(d->e), .events = POLLIN };

		poll(&p, p.fd >= 0 ? 1 : 0, 5);
		if (cp_engine_tick(d->e, &d->sink, now_ms()) == 1)
			cp_engine_sync(d->e, &d->sink);
	} while (now_ms() < end);
}

/* ------------------------------------------------------------------------- */
/* Queries                                                                     */

static void res_done(void *req, const uint8_t *resp, size_t len)
{
	struct qres *r = req;

	r->len = len < sizeof(r->raw) ? len : 0;
	if (resp != NULL && r->len > 0)
		memcpy(r->raw, resp, r->len);
	r->rcode = r->len >= DNS_HDR_LEN ? (r->raw[3] & 0xf) : -2;
	if (r->len > 0 && tp_parse(r->raw, r->len, &r->p) != 0)
		r->rcode = -3;
}

static size_t build_query(uint8_t *buf, const char *name, uint16_t qtype, const struct qopt *o)
{
	struct tmsg m;

	tm_query(&m, (unsigned)(rand() & 0xffff), name, qtype);
	if (o->cd)
		m.b[3] |= DNS_F_CD;
	if (o->edns || o->dnssec_ok) {
		m.b[11] = 1;
		tm_opt(&m, o->edns_size ? o->edns_size : 4096, o->dnssec_ok);
	}
	memcpy(buf, m.b, m.len);
	return m.len;
}

int drv_query_start(struct drv *d, const char *name, uint16_t qtype, const struct qopt *o,
		    struct qres *res)
{
	static const struct qopt none;
	struct cp_client c;
	struct sockaddr_in *sa = (struct sockaddr_in *)&c.addr;
	size_t len, cap;
	int n;

	if (o == NULL)
		o = &none;
	memset(res, 0, sizeof(*res));
	res->rcode = -1;
	len = build_query(res->raw, name, qtype, o);
	cap = o->cap ? o->cap : o->tcp ? 65535 : (o->edns || o->dnssec_ok) ?
	      (o->edns_size ? o->edns_size : 4096) : 512;
	memset(&c, 0, sizeof(c));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(40000);
	inet_pton(AF_INET, "127.0.0.1", &sa->sin_addr);
	c.addr_len = sizeof(*sa);
	c.local_port = 53;
	c.tcp = o->tcp;
	c.done = res_done;
	c.req = res;
	n = cp_engine_answer(d->e, res->raw, len, cap, &c);
	if (n == CP_ANSWER_DEFERRED) {
		res->deferred = true;
		return 0;
	}
	res_done(res, n > 0 ? res->raw : NULL, n > 0 ? (size_t)n : 0);
	return 0;
}

int drv_query(struct drv *d, const char *name, uint16_t qtype, const struct qopt *o,
	      struct qres *res)
{
	uint64_t t0 = now_ms();
	int timeout = o != NULL && o->timeout_ms ? o->timeout_ms : 8000;

	drv_query_start(d, name, qtype, o, res);
	while (res->rcode == -1 && now_ms() - t0 < (uint64_t)timeout)
		drv_run(d, 1);
	res->ms = (int)(now_ms() - t0);
	/* Let the engine publish what the answer brought (cache). */
	drv_run(d, 2);
	return res->rcode;
}

double drv_metric(const struct drv *d, const char *prefix)
{
	static char buf[1 << 20];
	size_t n = cp_engine_metrics(d->e, buf, sizeof(buf) - 1);
	size_t pl = strlen(prefix);
	char *p = buf;

	buf[n] = '\0';
	while ((p = strstr(p, prefix)) != NULL) {
		if ((p == buf || p[-1] == '\n') && p[pl] == ' ')
			return strtod(p + pl + 1, NULL);
		p += pl;
	}
	return -1;
}
