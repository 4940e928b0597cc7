/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - the `forward` plugin in the engine: the stanzas of one server
 * block (several `forward` directives chain, CoreDNS style), answering deferred through
 * cp_client.done, and the cache link (fwd_link.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "corefile.h"
#include "dns.h"
#include "forward.h"
#include "fwd_link.h"
#include "fwd_msg.h"
#include "plugin.h"

#define FWDP_OUT_MAX 65535

struct cp_fwdp {
	struct cp_fwd **st;   /* stanzas in Corefile order */
	unsigned n;
	struct cp_engine *e;
	int wep;              /* waker: edge-triggered set of the stanzas' epoll fds */
	int stop_fd;
	pthread_t waker;
	bool waker_on;
	struct fwc_link *link;
	uint8_t *out;         /* response buffer (engine thread only) */
	uint64_t no_done;     /* queries answered SERVFAIL because the caller could not wait */
};

/* One query on its way: a client's (answered through done) or the cache's (cb). */
struct fwdp_req {
	struct cp_fwdp *p;
	unsigned k;                 /* stanza handling it */
	void (*done)(void *req, const uint8_t *resp, size_t len);
	void *req;
	bool tcp;
	size_t cap;
	cp_fwd_cb cb;               /* cache-internal query */
	void *cb_ctx;
	struct dns_query q;
	size_t len;
	uint8_t msg[];
};

/* ------------------------------------------------------------------------- */
/* Block links                                                                 */

struct fwc_link {
	struct fwc_link *next;
	struct cp_engine *e;
	unsigned block;
	unsigned refs;
	struct cp_fwdp *fwd;
	struct cp_cache *cache;
	const struct cp_sink *sink;
};

/* Engines live on the engine thread; the list is only touched there. */
static struct fwc_link *links;

struct fwc_link *fwc_link_get(struct cp_engine *e, unsigned block)
{
	struct fwc_link *l;

	for (l = links; l != NULL; l = l->next) {
		if (l->e == e && l->block == block) {
			l->refs++;
			return l;
		}
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return NULL;
	l->e = e;
	l->block = block;
	l->refs = 1;
	l->next = links;
	links = l;
	return l;
}

void fwc_link_put(struct fwc_link *l)
{
	struct fwc_link **pp;

	if (l == NULL || --l->refs > 0)
		return;
	for (pp = &links; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	}
	free(l);
}

void fwc_link_set_fwd(struct fwc_link *l, struct cp_fwdp *p)
{
	l->fwd = p;
}

void fwc_link_set_cache(struct fwc_link *l, struct cp_cache *c)
{
	l->cache = c;
}

struct cp_fwdp *fwc_link_fwd(const struct fwc_link *l)
{
	return l->fwd;
}

struct cp_engine *fwc_link_engine(const struct fwc_link *l)
{
	return l->e;
}

struct cp_cache *fwc_link_cache(const struct fwc_link *l)
{
	return l->cache;
}

void fwc_link_set_sink(struct fwc_link *l, const struct cp_sink *sink)
{
	l->sink = sink;
}

const struct cp_sink *fwc_link_sink(const struct fwc_link *l)
{
	return l->sink;
}

void fwc_link_each_cache(const struct cp_engine *e, void (*fn)(struct cp_cache *c, void *arg),
			 void *arg)
{
	for (struct fwc_link *l = links; l != NULL; l = l->next) {
		if (l->e == e && l->cache != NULL)
			fn(l->cache, arg);
	}
}

/* ------------------------------------------------------------------------- */
/* Waker                                                                       */

/*
 * The engine's wake fd is an eventfd: upstream sockets cannot join it. A small thread
 * waits on the stanzas' epoll sets (edge-triggered: one wake per new event, not a spin
 * while the engine thread has yet to read) and makes the wake fd readable, so replies
 * are handled at once rather than at the runtime's next idle poll (10 ms).
 */
static void *waker_main(void *arg)
{
	struct cp_fwdp *p = arg;

	for (;;) {
		struct epoll_event ev[8];
		int n = epoll_wait(p->wep, ev, 8, -1);

		for (int i = 0; i < n; i++) {
			if (ev[i].data.fd == p->stop_fd)
				return NULL;
		}
		if (n > 0)
			cp_engine_wake(p->e);
	}
}

static int waker_start(struct cp_fwdp *p)
{
	struct epoll_event ev = { .events = EPOLLIN };

	p->wep = epoll_create1(EPOLL_CLOEXEC);
	p->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->wep < 0 || p->stop_fd < 0)
		return -errno;
	ev.data.fd = p->stop_fd;
	if (epoll_ctl(p->wep, EPOLL_CTL_ADD, p->stop_fd, &ev) != 0)
		return -errno;
	for (unsigned k = 0; k < p->n; k++) {
		ev.events = EPOLLIN | EPOLLET;
		ev.data.fd = cp_fwd_fd(p->st[k]);
		if (epoll_ctl(p->wep, EPOLL_CTL_ADD, ev.data.fd, &ev) != 0)
			return -errno;
	}
	if (pthread_create(&p->waker, NULL, waker_main, p) != 0)
		return -EAGAIN;
	p->waker_on = true;
	return 0;
}

static void waker_stop(struct cp_fwdp *p)
{
	uint64_t one = 1;

	if (p->waker_on && write(p->stop_fd, &one, sizeof(one)) == sizeof(one))
		pthread_join(p->waker, NULL);
	p->waker_on = false;
	if (p->wep >= 0)
		close(p->wep);
	if (p->stop_fd >= 0)
		close(p->stop_fd);
}

/* ------------------------------------------------------------------------- */
/* Answering                                                                   */

/* First stanza from @p from on that takes @p name (FROM and except). */
static int stanza_for(const struct cp_fwdp *p, unsigned from, const uint8_t *name, size_t len)
{
	for (unsigned k = from; k < p->n; k++) {
		if (cp_fwd_match(p->st[k], name, len))
			return (int)k;
	}
	return -1;
}

static void req_reply_client(struct fwdp_req *r, int rcode, uint8_t *reply, size_t len)
{
	int n;

	if (reply != NULL)
		n = fwd_msg_relay(r->p->out, r->cap, reply, len, r->msg, &r->q);
	else
		n = fwd_msg_rcode(r->p->out, r->cap, r->msg, &r->q, rcode);
	r->done(r->req, r->p->out, n > 0 ? (size_t)n : 0);
}

static void req_done(void *ctx, enum cp_fwd_status st, uint8_t *reply, size_t len);

/* `next RCODE`: the following forward directive of the block takes over, if one matches. */
static bool req_next(struct fwdp_req *r)
{
	int k;

	if (r->k + 1 >= r->p->n)
		return false; /* the last forward: `next` is ignored (CoreDNS) */
	k = stanza_for(r->p, r->k + 1, r->msg + DNS_HDR_LEN, r->q.qname_len);
	if (k >= 0) {
		r->k = (unsigned)k;
		if (cp_fwd_query(r->p->st[k], r->msg, r->len, &r->q, r->tcp, req_done, r) == 0)
			return true;
	}
	/* No further forward takes the name: the end of the chain answers SERVFAIL. */
	req_done(r, CP_FWD_FAIL, NULL, 0);
	return true;
}

static void req_done(void *ctx, enum cp_fwd_status st, uint8_t *reply, size_t len)
{
	struct fwdp_req *r = ctx;
	struct cp_cache *cache = fwc_link_cache(r->p->link);

	if (st == CP_FWD_NEXT && req_next(r))
		return;
	if (st == CP_FWD_NEXT)
		st = CP_FWD_REPLY;
	if (st == CP_FWD_REPLY && cache != NULL)
		cp_cache_store(cache, &r->q, reply, len);
	if (r->cb != NULL)
		r->cb(r->cb_ctx, st, reply, len);
	else if (st == CP_FWD_CANCELLED)
		r->done(r->req, NULL, 0);
	else
		req_reply_client(r, DNS_RCODE_SERVFAIL, st == CP_FWD_REPLY ? reply : NULL, len);
	free(r);
}

static struct fwdp_req *req_new(struct cp_fwdp *p, unsigned k, const uint8_t *msg, size_t len,
				const struct dns_query *q)
{
	struct fwdp_req *r = calloc(1, sizeof(*r) + len);

	if (r == NULL)
		return NULL;
	r->p = p;
	r->k = k;
	r->q = *q;
	r->len = len;
	memcpy(r->msg, msg, len);
	return r;
}

/* Start @p r on its stanza. @return CP_DEFERRED, or an rcode to answer right away. */
static int req_start(struct fwdp_req *r)
{
	int rc = cp_fwd_query(r->p->st[r->k], r->msg, r->len, &r->q, r->tcp, req_done, r);

	if (rc == 0)
		return -1;
	free(r);
	/* max_concurrent: REFUSED (CoreDNS ErrLimitExceeded); anything else SERVFAIL. */
	return rc == -EBUSY ? DNS_RCODE_REFUSED : DNS_RCODE_SERVFAIL;
}

static enum cp_serve fwdp_serve(void *inst, const struct cp_request *rq, struct dns_builder *b)
{
	struct cp_fwdp *p = inst;
	struct fwdp_req *r;
	int k = stanza_for(p, 0, rq->qname, rq->qname_len), rc;

	if (k < 0)
		return CP_NEXT;
	if (rq->sync)
		return CP_DYNAMIC;
	if (rq->client == NULL || rq->client->done == NULL || rq->q == NULL) {
		/* The caller cannot wait for an upstream: nothing sensible but SERVFAIL. */
		p->no_done++;
		b->flags = DNS_RCODE_SERVFAIL;
		return CP_ANSWERED;
	}
	r = req_new(p, (unsigned)k, rq->msg, rq->len, rq->q);
	if (r == NULL) {
		b->flags = DNS_RCODE_SERVFAIL;
		return CP_ANSWERED;
	}
	r->done = rq->client->done;
	r->req = rq->client->req;
	r->tcp = rq->client->tcp != 0;
	r->cap = rq->cap < FWDP_OUT_MAX ? rq->cap : FWDP_OUT_MAX;
	rc = req_start(r);
	if (rc < 0)
		return CP_DEFERRED;
	b->flags = (uint16_t)rc;
	return CP_ANSWERED;
}

int cp_fwdp_forward(struct cp_fwdp *p, const uint8_t *msg, size_t len, const struct dns_query *q,
		    cp_fwd_cb cb, void *ctx)
{
	int k = stanza_for(p, 0, msg + DNS_HDR_LEN, q->qname_len), rc;
	struct fwdp_req *r;

	if (k < 0)
		return -ENOENT;
	r = req_new(p, (unsigned)k, msg, len, q);
	if (r == NULL)
		return -ENOMEM;
	r->cb = cb;
	r->cb_ctx = ctx;
	rc = cp_fwd_query(p->st[k], r->msg, r->len, &r->q, false, req_done, r);
	if (rc != 0)
		free(r);
	return rc;
}

/* ------------------------------------------------------------------------- */
/* Plugin ops                                                                  */

static void fwdp_free(void *inst)
{
	struct cp_fwdp *p = inst;

	if (p == NULL)
		return;
	waker_stop(p);
	for (unsigned k = 0; k < p->n; k++)
		cp_fwd_free(p->st[k]);
	if (p->link != NULL) {
		fwc_link_set_fwd(p->link, NULL);
		fwc_link_put(p->link);
	}
	free(p->st);
	free(p->out);
	free(p);
}

static int fwdp_setup(struct cp_setup *s, const struct cf_line *const *lines, unsigned n,
		      void **inst)
{
	struct cp_fwdp *p = calloc(1, sizeof(*p));

	if (p == NULL)
		goto fail_mem;
	p->wep = p->stop_fd = -1;
	p->e = s->engine;
	p->st = calloc(n, sizeof(*p->st));
	p->out = malloc(FWDP_OUT_MAX);
	p->link = fwc_link_get(s->engine, s->block);
	if (p->st == NULL || p->out == NULL || p->link == NULL)
		goto fail_mem;
	for (unsigned i = 0; i < n; i++) {
		p->st[i] = cp_fwd_parse(lines[i], s->dir, s->err, s->errlen);
		if (p->st[i] == NULL)
			goto fail;
		p->n++;
	}
	if (waker_start(p) != 0) {
		cp_setup_err(s, &lines[0]->tok[0], "cannot start the upstream waker");
		goto fail;
	}
	fwc_link_set_fwd(p->link, p);
	*inst = p;
	return 0;
fail_mem:
	cp_setup_err(s, &lines[0]->tok[0], "out of memory");
fail:
	fwdp_free(p);
	return -EINVAL;
}

static int fwdp_tick(void *inst, struct cp_tick *t, uint64_t now_ms)
{
	struct cp_fwdp *p = inst;

	fwc_link_set_sink(p->link, cp_tick_sink(t));
	for (unsigned k = 0; k < p->n; k++)
		cp_fwd_tick(p->st[k], now_ms);
	return 0;
}

/*
 * Names of @p r it holds no data for: forwarded (dynamic) where a stanza's FROM covers
 * them, else passed on. A region only partly covered is both. Zones the region excludes
 * are ignored: when in doubt, dynamic (the engine then publishes no miss answer).
 */
static void fwdp_outcome(void *inst, const struct cp_region *r, struct cp_outcome *o)
{
	const struct cp_fwdp *p = inst;
	int rest = CP_FWD_REGION_REST;

	for (unsigned k = 0; k < p->n && rest; k++) {
		int m = cp_fwd_region(p->st[k], r->zone, r->zone_len);

		if (m & CP_FWD_REGION_SOME)
			o->dynamic = true;
		/* What this stanza does not take falls to the next stanza, then on. */
		if (!(m & CP_FWD_REGION_REST))
			rest = 0;
	}
	if (rest)
		o->next = true;
}

static size_t fwdp_metrics(void *const *inst, unsigned n, char *buf, size_t cap)
{
	struct cp_fwd **all;
	unsigned total = 0, j = 0;
	size_t len;

	for (unsigned i = 0; i < n; i++)
		total += ((const struct cp_fwdp *)inst[i])->n;
	all = calloc(total ? total : 1, sizeof(*all));
	if (all == NULL)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		const struct cp_fwdp *p = inst[i];

		for (unsigned k = 0; k < p->n; k++)
			all[j++] = p->st[k];
	}
	len = cp_fwd_metrics(all, total, buf, cap);
	free(all);
	return len;
}

static const uint16_t fwdp_types[] = { 0 };

static const struct cp_plugin_ops fwdp_ops = {
	.name = "forward",
	.flags = CP_PLUGIN_HANDLER | CP_PLUGIN_MULTI,
	.setup = fwdp_setup,
	.free = fwdp_free,
	.serve = fwdp_serve,
	.types = fwdp_types,
	.outcome = fwdp_outcome,
	.tick = fwdp_tick,
	.metrics = fwdp_metrics,
};

const struct cp_plugin_ops *cp_forward_plugin(void)
{
	return &fwdp_ops;
}
