/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - the engine: a loaded Corefile (server blocks, their zones and
 * plugin chains), CoreDNS routing, and the answers for what the fast path missed.
 * Table contents and the zone policy are in sync.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "corefile.h"
#include "engine_int.h"
#include "hosts.h"

/* ------------------------------------------------------------------------- */
/* Loading                                                                     */

static int server_zones(struct cp_engine *e, unsigned si, const struct cf_server *cs,
			char *err, size_t errlen)
{
	struct cp_server *s = &e->srv[si];
	struct cp_zone tmp[CP_ZONE_EXPAND_MAX];
	char why[256];

	for (unsigned k = 0; k < cs->n_keys; k++) {
		int n = cp_zone_parse(cs->keys[k].text, tmp, CP_ZONE_EXPAND_MAX, why, sizeof(why));
		void *nz, *nr;

		if (n < 0)
			return cf_errf(err, errlen, &cs->keys[k], "%s", why);
		nz = realloc(s->zones, (s->n_zones + (unsigned)n) * sizeof(*s->zones));
		nr = nz ? realloc(e->rt, (e->n_rt + (unsigned)n) * sizeof(*e->rt)) : NULL;
		if (nz != NULL)
			s->zones = nz;
		if (nr == NULL)
			return -ENOMEM;
		e->rt = nr;
		for (int i = 0; i < n; i++) {
			if (tmp[i].port == 0)
				tmp[i].port = 53;
			s->zones[s->n_zones++] = tmp[i];
			e->rt[e->n_rt].z = tmp[i];
			e->rt[e->n_rt].srv = si;
			e->rt[e->n_rt].key = &cs->keys[k];
			e->n_rt++;
		}
	}
	return 0;
}

static const struct cp_plugin_reg *reg_find(const char *name, unsigned *idx)
{
	const struct cp_plugin_reg *r = cp_plugin_registry();

	for (unsigned i = 0; r[i].name != NULL; i++) {
		if (strcmp(r[i].name, name) == 0) {
			*idx = i;
			return &r[i];
		}
	}
	return NULL;
}

/* Every directive must be one dpdns knows; said in file order, before any setup runs. */
static int check_directives(const struct cf_server *cs, char *err, size_t errlen)
{
	for (unsigned d = 0; d < cs->n_dirs; d++) {
		const struct cf_token *t = &cs->dirs[d].tok[0];
		const struct cp_plugin_reg *r;
		unsigned idx;

		if (t->brace != 0 || (r = reg_find(t->text, &idx)) == NULL)
			return cf_errf(err, errlen, t, "unknown directive '%s'", t->text);
		if (r->ops == NULL)
			return cf_errf(err, errlen, t, "directive '%s' is not supported by dpdns",
				       t->text);
	}
	return 0;
}

static int setup_one(struct cp_engine *e, unsigned si, const struct cp_plugin_reg *r,
		     const struct cf_line *const *lines, unsigned n, char *err, size_t errlen)
{
	struct cp_server *s = &e->srv[si];
	const struct cp_plugin_ops *ops = r->ops();
	struct cp_setup st = {
		.engine = e, .settings = &e->set, .zones = s->zones, .n_zones = s->n_zones,
		.block = si, .dir = e->cf->dir, .name = r->name, .err = err, .errlen = errlen,
	};
	struct cp_pinst *pl;
	void *inst = NULL;
	int rc;

	if (n > 1 && !(ops->flags & CP_PLUGIN_MULTI))
		return cf_errf(err, errlen, &lines[1]->tok[0],
			       "%s: this plugin can only be used once per server block", r->name);
	pl = realloc(s->pl, (s->n_pl + 1) * sizeof(*pl));
	if (pl == NULL)
		return -ENOMEM;
	s->pl = pl;
	rc = ops->setup(&st, lines, n, &inst);
	if (rc < 0)
		return rc;
	s->pl[s->n_pl].ops = ops;
	s->pl[s->n_pl].inst = inst;
	s->n_pl++;
	s->handler |= (ops->flags & CP_PLUGIN_HANDLER) != 0;
	s->metrics |= strcmp(r->name, "prometheus") == 0;
	return 0;
}

/* Plugins of one block, set up in plugin.cfg order (the order the chain runs in). */
static int server_plugins(struct cp_engine *e, unsigned si, const struct cf_server *cs,
			  char *err, size_t errlen)
{
	const struct cp_plugin_reg *reg = cp_plugin_registry();
	const struct cf_line **lines;
	int rc = check_directives(cs, err, errlen);

	if (rc < 0)
		return rc;
	lines = calloc(cs->n_dirs + 1, sizeof(*lines));
	if (lines == NULL)
		return -ENOMEM;
	for (unsigned r = 0; reg[r].name != NULL && rc == 0; r++) {
		unsigned n = 0;

		for (unsigned d = 0; d < cs->n_dirs; d++) {
			if (strcmp(cs->dirs[d].tok[0].text, reg[r].name) == 0)
				lines[n++] = &cs->dirs[d];
		}
		if (n > 0)
			rc = setup_one(e, si, &reg[r], lines, n, err, errlen);
	}
	free(lines);
	return rc;
}

static int check_duplicates(const struct cp_engine *e, char *err, size_t errlen)
{
	for (unsigned j = 1; j < e->n_rt; j++) {
		for (unsigned i = 0; i < j; i++) {
			const struct cp_zone *a = &e->rt[i].z, *b = &e->rt[j].z;
			char name[1024];

			if (a->port != b->port || a->len != b->len || memcmp(a->wire, b->wire, a->len))
				continue;
			cp_name_text(b->wire, b->len, name, sizeof(name));
			return cf_errf(err, errlen, e->rt[j].key,
				       "zone '%s:%u' is defined more than once", name, b->port);
		}
	}
	return 0;
}

/* Cross-block checks of each plugin type (bind must agree, ...). */
static int finish_plugins(struct cp_engine *e, char *err, size_t errlen)
{
	const struct cp_plugin_reg *reg = cp_plugin_registry();
	void **inst = calloc(e->n_srv + 1, sizeof(*inst));
	int rc = 0;

	if (inst == NULL)
		return -ENOMEM;
	for (unsigned r = 0; reg[r].name != NULL && rc == 0; r++) {
		const struct cp_plugin_ops *ops = reg[r].ops ? reg[r].ops() : NULL;
		struct cp_setup st = {
			.engine = e, .settings = &e->set, .dir = e->cf->dir, .name = reg[r].name,
			.err = err, .errlen = errlen,
		};
		unsigned n = 0;

		if (ops == NULL || ops->finish == NULL)
			continue;
		for (unsigned s = 0; s < e->n_srv; s++) {
			for (unsigned p = 0; p < e->srv[s].n_pl; p++) {
				if (e->srv[s].pl[p].ops == ops)
					inst[n++] = e->srv[s].pl[p].inst;
			}
		}
		rc = ops->finish(&st, inst, n, e->n_srv);
	}
	free(inst);
	return rc;
}

/* Ports of the blocks (settings, and the ports sync checks answers on). */
static int collect_ports(struct cp_engine *e, char *err, size_t errlen)
{
	for (unsigned i = 0; i < e->n_rt; i++) {
		unsigned p;

		for (p = 0; p < e->n_ports && e->ports[p] != e->rt[i].z.port; p++)
			;
		if (p < e->n_ports)
			continue;
		if (e->n_ports == DP_MAX_PORTS)
			return cf_errf(err, errlen, e->rt[i].key, "more than %d different server ports",
				       DP_MAX_PORTS);
		e->ports[e->n_ports++] = e->rt[i].z.port;
	}
	for (unsigned p = 0; p < e->n_ports; p++)
		e->set.dns_ports[p] = e->ports[p];
	return 0;
}

/* Types some plugin answers specially, and DS (routed differently). */
static void collect_types(struct cp_engine *e)
{
	e->types[e->n_types++] = CP_T_DS;
	for (unsigned s = 0; s < e->n_srv; s++) {
		for (unsigned p = 0; p < e->srv[s].n_pl; p++) {
			const uint16_t *t = e->srv[s].pl[p].ops->types;

			for (; t != NULL && *t != 0; t++) {
				unsigned k;

				for (k = 0; k < e->n_types && e->types[k] != *t; k++)
					;
				if (k == e->n_types && e->n_types < CP_MAX_TYPES)
					e->types[e->n_types++] = *t;
			}
		}
	}
}

static int engine_build(struct cp_engine *e, const char *path, char *err, size_t errlen)
{
	const struct cf_file *f = e->cf;
	int rc;

	if (f->n_srv == 0)
		return cf_errf(err, errlen, NULL, "%s: no server blocks", path);
	e->srv = calloc(f->n_srv, sizeof(*e->srv));
	if (e->srv == NULL)
		return -ENOMEM;
	e->n_srv = f->n_srv;
	for (unsigned i = 0; i < f->n_srv; i++) {
		e->srv[i].idx = i;
		rc = server_zones(e, i, &f->srv[i], err, errlen);
		if (rc < 0)
			return rc;
	}
	if ((rc = check_duplicates(e, err, errlen)) < 0 || (rc = collect_ports(e, err, errlen)) < 0)
		return rc;
	for (unsigned i = 0; i < f->n_srv; i++) {
		rc = server_plugins(e, i, &f->srv[i], err, errlen);
		if (rc < 0)
			return rc;
	}
	if ((rc = finish_plugins(e, err, errlen)) < 0)
		return rc;
	collect_types(e);
	e->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return e->wake_fd < 0 ? -errno : 0;
}

struct cp_engine *cp_engine_load(const char *path, char *err, size_t errlen)
{
	struct cp_engine *e = calloc(1, sizeof(*e));
	int rc;

	if (e == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->wake_fd = -1;
	e->cf = cf_parse_file(path, err, errlen);
	if (e->cf == NULL) {
		cp_engine_free(e);
		return NULL;
	}
	rc = engine_build(e, path, err, errlen);
	if (rc < 0) {
		if (rc != -EINVAL)
			snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		cp_engine_free(e);
		return NULL;
	}
	return e;
}

static void defer_flush(struct cp_engine *e);

void cp_engine_free(struct cp_engine *e)
{
	if (e == NULL)
		return;
	/* Plugins cancel what they hold while they are freed: their done() calls reach
	 * defer_done, which passes "send nothing" to the runtime without observing (the
	 * observers may be gone already). */
	e->freeing = true;
	for (unsigned s = 0; s < e->n_srv; s++) {
		for (unsigned p = 0; p < e->srv[s].n_pl; p++)
			e->srv[s].pl[p].ops->free(e->srv[s].pl[p].inst);
	}
	defer_flush(e);
	for (unsigned s = 0; s < e->n_srv; s++) {
		free(e->srv[s].pl);
		free(e->srv[s].zones);
	}
	free(e->srv);
	free(e->rt);
	cp_zpol_free(e->pub, e->n_pub);
	if (e->wake_fd >= 0)
		close(e->wake_fd);
	cf_free(e->cf);
	free(e);
}

const struct cp_settings *cp_engine_settings(const struct cp_engine *e)
{
	return &e->set;
}

unsigned cp_engine_files(const struct cp_engine *e, const char *const **files)
{
	*files = e->cf->files;
	return e->cf->n_files;
}

/* ------------------------------------------------------------------------- */
/* Routing and answering                                                       */

/*
 * CoreDNS's server: the longest zone of the port wins; the root zone is the last
 * resort; DS goes to the shortest (parent-most) matching zone, where the delegation
 * would be.
 */
int cp_route_find(const struct cp_engine *e, uint16_t port, const uint8_t *name, size_t len,
		  uint16_t qtype)
{
	int best = -1, root = -1;

	for (unsigned i = 0; i < e->n_rt; i++) {
		const struct cp_zone *z = &e->rt[i].z;

		if (z->port != port)
			continue;
		if (z->len == 1) {
			root = (int)i;
			continue;
		}
		if (!cp_name_under(name, len, z->wire, z->len))
			continue;
		if (best < 0 || (qtype == CP_T_DS ? z->len < e->rt[best].z.len
						   : z->len > e->rt[best].z.len))
			best = (int)i;
	}
	if (best < 0)
		best = root;
	return best < 0 ? -1 : (int)e->rt[best].srv;
}

/* The block's answer rewriters (loadbalance) see what a plugin answered. */
static void post_answer(const struct cp_server *s, const struct cp_request *rq,
			struct dns_builder *b)
{
	for (unsigned i = 0; i < s->n_pl; i++) {
		if (s->pl[i].ops->post != NULL)
			s->pl[i].ops->post(s->pl[i].inst, rq, b);
	}
}

/*
 * The same for a response completed later. Each rewriter writes into a buffer of its own
 * (@p bufs, allocated here, freed by the caller) and the next one reads that.
 * @return the response to send.
 */
static const uint8_t *post_deferred(const struct cp_request *rq, const uint8_t *resp,
				    size_t *len, uint8_t *bufs[2])
{
	const struct cp_server *s = rq->srv;
	unsigned k = 0;

	for (unsigned i = 0; s != NULL && resp != NULL && *len > 0 && i < s->n_pl; i++) {
		const struct cp_plugin_ops *ops = s->pl[i].ops;
		size_t n;

		if (ops->post_wire == NULL)
			continue;
		if (bufs[k] == NULL && (bufs[k] = malloc(rq->cap)) == NULL)
			break;
		n = ops->post_wire(s->pl[i].inst, rq, resp, *len, bufs[k], rq->cap);
		if (n > 0 && n <= rq->cap) {
			resp = bufs[k];
			*len = n;
			k ^= 1;
		}
	}
	return resp;
}

enum cp_serve cp_engine_run(struct cp_engine *e, struct cp_request *rq, struct dns_builder *b)
{
	int si = cp_route_find(e, rq->port, rq->qname, rq->qname_len, rq->qtype);
	struct dns_key k = { .name_len = rq->qname_len, .qtype = rq->qtype };
	const struct cp_server *s;

	rq->srv = NULL;
	if (si < 0 || !e->srv[si].handler) {
		dns_builder_init(b, &k, DNS_RCODE_REFUSED);
		return CP_ANSWERED;
	}
	s = &e->srv[si];
	rq->srv = s;
	for (unsigned i = 0; i < s->n_pl; i++) {
		enum cp_serve r;

		if (s->pl[i].ops->serve == NULL)
			continue;
		dns_builder_init(b, &k, 0);
		if (rq->spill != NULL)
			dns_builder_set_spill(b, rq->spill, rq->spill_cap);
		r = s->pl[i].ops->serve(s->pl[i].inst, rq, b);
		if (r == CP_ANSWERED)
			post_answer(s, rq, b);
		if (r != CP_NEXT)
			return r;
	}
	dns_builder_init(b, &k, DNS_RCODE_SERVFAIL); /* end of the chain */
	return CP_ANSWERED;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void observe(const struct cp_request *rq, const uint8_t *resp, size_t len, uint64_t t0)
{
	uint64_t dur = mono_ns() - t0;

	if (rq->srv == NULL)
		return;
	for (unsigned i = 0; i < rq->srv->n_pl; i++) {
		if (rq->srv->pl[i].ops->observe != NULL)
			rq->srv->pl[i].ops->observe(rq->srv->pl[i].inst, rq, resp, len, dur);
	}
}

/*
 * A deferred answer on its way. Plugins get the engine's completion (defer_done, with this
 * as req) instead of the runtime's, so the answer is observed like a synchronous one when
 * it arrives: the query was copied (the runtime reuses its buffer at once), with the
 * lower-cased name, the block and the start time. Every record is on the engine's list
 * until its done() ran, so cp_engine_free can complete what plugins did not.
 */
struct cp_defer {
	struct cp_defer *prev, *next;
	struct cp_engine *e;
	const struct cp_server *srv;
	struct cp_client client;     /* the runtime's: client.done(client.req, ...) once */
	struct dns_query q;
	uint64_t t0;
	uint16_t port;
	size_t cap, len;
	uint8_t qname[DNS_MAX_NAME];
	uint8_t msg[];
};

static void defer_unlink(struct cp_defer *d)
{
	if (d->prev != NULL)
		d->prev->next = d->next;
	else
		d->e->defers = d->next;
	if (d->next != NULL)
		d->next->prev = d->prev;
}

static void defer_done(void *req, const uint8_t *resp, size_t len)
{
	struct cp_defer *d = req;
	struct cp_request rq = {
		.engine = d->e, .srv = d->srv, .qname = d->qname, .qname_len = d->q.qname_len,
		.qtype = d->q.qtype, .port = d->port, .q = &d->q, .msg = d->msg, .len = d->len,
		.cap = d->cap, .client = &d->client,
	};
	uint8_t *bufs[2] = { NULL, NULL };

	defer_unlink(d);
	if (!d->e->freeing && resp != NULL && len > 0) {
		resp = post_deferred(&rq, resp, &len, bufs);
		observe(&rq, resp, len, d->t0);
	}
	d->client.done(d->client.req, resp, len);
	free(bufs[0]);
	free(bufs[1]);
	free(d);
}

/* Record what observing the answer needs, before the chain runs (plugins keep req). */
static struct cp_defer *defer_new(struct cp_engine *e, const struct cp_request *rq,
				  const struct cp_client *client, uint64_t t0)
{
	struct cp_defer *d = malloc(sizeof(*d) + rq->len);

	if (d == NULL)
		return NULL;
	d->e = e;
	d->srv = NULL;
	d->client = *client;
	d->q = *rq->q;
	d->t0 = t0;
	d->port = rq->port;
	d->cap = rq->cap;
	d->len = rq->len;
	memcpy(d->qname, rq->qname, rq->qname_len);
	memcpy(d->msg, rq->msg, rq->len);
	d->prev = NULL;
	d->next = e->defers;
	if (e->defers != NULL)
		e->defers->prev = d;
	e->defers = d;
	return d;
}

/* Engine going away: what no plugin completed gets "send nothing", exactly once. */
static void defer_flush(struct cp_engine *e)
{
	while (e->defers != NULL) {
		struct cp_defer *d = e->defers;

		defer_unlink(d);
		d->client.done(d->client.req, NULL, 0);
		free(d);
	}
}

/*
 * Over TCP only the 64 KiB message limits an answer (RFC 7766), not the UDP size the query
 * advertised, which is what dns_write_answer() sizes by: answer as if the client had
 * advertised @p cap, then take back the OPT record that adds when the query had none
 * (it is the last record, 11 bytes).
 */
static int write_tcp(uint8_t *msg, size_t cap, const struct dns_query *q,
		     const struct dns_answer *a)
{
	struct dns_query tq = *q;
	unsigned ar;
	int n;

	tq.edns_size = cap > UINT16_MAX ? UINT16_MAX : (uint16_t)cap;
	if (q->has_edns)
		return dns_write_answer(msg, cap, &tq, a, dp_monotonic_sec());
	tq.has_edns = true;
	n = dns_write_answer(msg, cap, &tq, a, dp_monotonic_sec());
	if (n < DNS_HDR_LEN + 11)
		return n;
	ar = ((unsigned)msg[10] << 8 | msg[11]) - 1;
	msg[10] = (uint8_t)(ar >> 8);
	msg[11] = (uint8_t)ar;
	return n - 11;
}

/*
 * Header, question and OPT with TC=1: the answer is cut (a plugin passed on a truncated
 * upstream answer, or it did not fit even the spill storage), so the client must not
 * take what it gets as complete. dns_write_answer keeps TC to itself, so it is set here.
 */
static int write_truncated(uint8_t *msg, size_t cap, const struct dns_query *q,
			   const struct dns_builder *b)
{
	struct dns_answer a = {
		.magic = DNS_ANS_MAGIC, .flags = b->flags, .qname_len = b->qname_len,
	};
	int n = dns_write_answer(msg, cap, q, &a, dp_monotonic_sec());

	if (n >= DNS_HDR_LEN)
		msg[2] |= DNS_F_TC >> 8;
	return n;
}

/*
 * Finish @p b into @p stack (CP_VAL_MAX bytes), or into a heap buffer (*@p heap, freed by
 * the caller) when it spilled past what a table value holds. @return the value, or NULL.
 */
static struct dns_answer *finish_value(const struct dns_builder *b, uint8_t *stack,
				       uint8_t **heap)
{
	size_t size = dns_builder_size(b);
	uint8_t *buf = stack;

	*heap = NULL;
	if (size > CP_VAL_MAX && (buf = *heap = malloc(size)) == NULL)
		return NULL;
	if (dns_builder_finish(b, (struct dns_answer *)(void *)buf, size) < 0)
		return NULL;
	return (struct dns_answer *)(void *)buf;
}

/*
 * Build and write the answer; a value that cannot be built is a SERVFAIL, one that did
 * not fit even the spill storage is truncated (TC=1: over UDP the client retries over
 * TCP, where a spilled answer is whole up to the 64 KiB message limit).
 */
static int write_built(const struct dns_builder *b, uint8_t *msg, size_t cap,
		       const struct dns_query *q, bool tcp)
{
	_Alignas(8) uint8_t buf[CP_VAL_MAX];
	uint8_t *heap = NULL;
	struct dns_answer *a;
	int n;

	if (b->err == -ENOSPC || ((b->flags & DNS_F_TC) && !tcp))
		return write_truncated(msg, cap, q, b);
	a = finish_value(b, buf, &heap);
	if (a == NULL)
		n = dns_write_rcode(msg, cap, q, DNS_RCODE_SERVFAIL);
	else if (tcp)
		n = write_tcp(msg, cap, q, a);
	else
		n = dns_write_answer(msg, cap, q, a, dp_monotonic_sec());
	free(heap);
	return n;
}

int cp_write_answer(uint8_t *msg, size_t cap, const struct dns_query *q,
		    const struct dns_builder *b, bool tcp)
{
	return write_built(b, msg, cap, q, tcp);
}

/*
 * The chain, with the engine's completion interposed when the runtime can wait. Without
 * memory for the record the runtime's own completion goes through: the answer still
 * arrives, it is only not observed.
 */
static enum cp_serve run_chain(struct cp_engine *e, struct cp_request *rq,
			       struct dns_builder *b, uint64_t t0)
{
	const struct cp_client *client = rq->client;
	struct cp_client wrap;
	struct cp_defer *d = NULL;
	enum cp_serve r;

	if (client != NULL && client->done != NULL && (d = defer_new(e, rq, client, t0)) != NULL) {
		wrap = *client;
		wrap.done = defer_done;
		wrap.req = d;
		rq->client = &wrap;
	}
	r = cp_engine_run(e, rq, b);
	rq->client = client;
	if (d == NULL)
		return r;
	if (r == CP_DEFERRED) {
		d->srv = rq->srv;
		return r;
	}
	defer_unlink(d); /* answered now: no plugin kept req */
	free(d);
	return r;
}

/* The request for a parsed query (@p qname: room for its lower-cased name). */
static void request_init(struct cp_engine *e, struct cp_request *rq, uint8_t *msg, size_t len,
			 size_t cap, const struct dns_query *q, uint8_t *qname,
			 const struct cp_client *client)
{
	memcpy(qname, msg + DNS_HDR_LEN, q->qname_len);
	dns_name_lower(qname, q->qname_len);
	*rq = (struct cp_request){
		.engine = e, .qname = qname, .qname_len = q->qname_len, .qtype = q->qtype,
		.port = client != NULL && client->local_port != 0 ? client->local_port : e->ports[0],
		.q = q, .msg = msg, .len = len, .cap = cap, .client = client,
	};
	/* Answers larger than a table value (many addresses, big headless services) are
	 * whole here: over TCP they go out complete, over UDP they are truncated by size.
	 * Without the memory the builder stops at a value's size and the answer is cut. */
	rq->spill = malloc(DNS_BUILD_SPILL_MAX);
	rq->spill_cap = rq->spill != NULL ? DNS_BUILD_SPILL_MAX : 0;
}

/* The response to what the chain returned (@p r, not CP_DEFERRED). @return its length */
static int respond(enum cp_serve r, struct dns_builder *b, uint8_t *msg, size_t cap,
		   const struct dns_query *q, const struct cp_client *client)
{
	if (r != CP_ANSWERED) {
		struct dns_key k = { .name_len = q->qname_len, .qtype = q->qtype };

		dns_builder_init(b, &k, DNS_RCODE_SERVFAIL);
	}
	return write_built(b, msg, cap, q, client != NULL && client->tcp);
}

int cp_engine_answer(struct cp_engine *e, uint8_t *msg, size_t len, size_t cap,
		     const struct cp_client *client)
{
	struct dns_builder b;
	struct dns_query q;
	struct cp_request rq;
	uint8_t qname[DNS_MAX_NAME];
	uint64_t t0 = mono_ns();
	enum cp_serve r;
	int rc = dns_parse_query(msg, len, &q), n;

	if (rc == DNS_PARSE_DROP)
		return 0;
	if (rc != DNS_RCODE_NOERROR) {
		n = dns_write_rcode(msg, cap, &q, rc);
		return n < 0 ? 0 : n;
	}
	request_init(e, &rq, msg, len, cap, &q, qname, client);
	r = run_chain(e, &rq, &b, t0);
	if (r == CP_DEFERRED) {
		free(rq.spill);
		return client != NULL && client->done != NULL ? CP_ANSWER_DEFERRED : 0;
	}
	n = respond(r, &b, msg, cap, &q, client);
	free(rq.spill);
	if (n < 0)
		return 0;
	observe(&rq, msg, (size_t)n, t0);
	return n;
}

void cp_engine_resume(struct cp_engine *e, uint8_t *msg, size_t len, size_t cap,
		      const struct cp_client *client)
{
	struct dns_builder b;
	struct dns_query q;
	struct cp_request rq;
	uint8_t qname[DNS_MAX_NAME];
	enum cp_serve r;
	int n;

	/* It was parsed once already: this only fails on a corrupted copy. */
	if (dns_parse_query(msg, len, &q) != DNS_RCODE_NOERROR) {
		client->done(client->req, NULL, 0);
		return;
	}
	request_init(e, &rq, msg, len, cap, &q, qname, client);
	/* No run_chain(): the client's completion already is the engine's (cp_defer). */
	r = cp_engine_run(e, &rq, &b);
	if (r != CP_DEFERRED) {
		n = respond(r, &b, msg, cap, &q, client);
		client->done(client->req, n > 0 ? msg : NULL, n > 0 ? (size_t)n : 0);
	}
	free(rq.spill);
}

/* ------------------------------------------------------------------------- */
/* Periodic work, readiness, hosts edits                                       */

void cp_engine_wake(struct cp_engine *e)
{
	uint64_t one = 1;

	if (e->wake_fd >= 0 && write(e->wake_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is already non-zero, the runtime will wake anyway */
	}
}

int cp_engine_wake_fd(const struct cp_engine *e)
{
	return e->wake_fd;
}

void cp_engine_set_fatal(struct cp_engine *e, const char *msg)
{
	if (e->fatal[0] == '\0')
		snprintf(e->fatal, sizeof(e->fatal), "%s", msg != NULL && msg[0] ? msg : "fatal");
}

const char *cp_engine_fatal(const struct cp_engine *e)
{
	return e->fatal[0] != '\0' ? e->fatal : NULL;
}

const struct cp_sink *cp_tick_sink(const struct cp_tick *t)
{
	return t->sink;
}

int cp_engine_tick(struct cp_engine *e, const struct cp_sink *sink, uint64_t now_ms)
{
	struct cp_tick t = { .e = e, .sink = sink };
	uint64_t drain;
	int need = 0, err = 0;

	if (e->wake_fd >= 0 && read(e->wake_fd, &drain, sizeof(drain)) < 0) {
		/* EAGAIN: nothing was signalled */
	}
	if (e->need_sync) {
		e->need_sync = false;
		need = 1;
	}
	for (unsigned s = 0; s < e->n_srv; s++) {
		for (unsigned p = 0; p < e->srv[s].n_pl; p++) {
			const struct cp_pinst *pi = &e->srv[s].pl[p];
			int r;

			if (pi->ops->tick == NULL)
				continue;
			r = pi->ops->tick(pi->inst, &t, now_ms);
			if (r > 0)
				need = 1;
			else if (r < 0 && err == 0)
				err = r;
		}
	}
	return need ? 1 : err;
}

/* Is @p name an item of the comma-separated @p list? (each plugin is named once) */
static bool list_has(const char *list, const char *name, size_t nl)
{
	for (const char *p = list; (p = strstr(p, name)) != NULL; p += nl) {
		if ((p == list || p[-1] == ',') && (p[nl] == ',' || p[nl] == '\0'))
			return true;
	}
	return false;
}

int cp_engine_ready(const struct cp_engine *e, char *buf, size_t cap)
{
	size_t o = 0;
	int ready = 1;

	if (cap > 0)
		buf[0] = '\0';
	for (unsigned s = 0; s < e->n_srv; s++) {
		for (unsigned p = 0; p < e->srv[s].n_pl; p++) {
			const struct cp_pinst *pi = &e->srv[s].pl[p];
			const char *name = pi->ops->name;
			size_t nl = strlen(name);

			if (pi->ops->ready == NULL || pi->ops->ready(pi->inst))
				continue;
			ready = 0;
			if (buf == NULL || cap == 0 || list_has(buf, name, nl))
				continue;
			o += (size_t)snprintf(buf + o, o < cap ? cap - o : 0, "%s%s", o ? "," : "", name);
			if (o >= cap)
				o = cap - 1;
		}
	}
	return ready;
}

int cp_engine_hosts_edit(struct cp_engine *e, int add, const char *name, const char *addr,
			 char *err, size_t errlen)
{
	const struct cp_plugin_ops *hosts = cp_hosts_plugin();

	for (unsigned s = 0; s < e->n_srv; s++) {
		for (unsigned p = 0; p < e->srv[s].n_pl; p++) {
			const struct cp_pinst *pi = &e->srv[s].pl[p];
			int rc;

			if (pi->ops != hosts || !hosts_plugin_has_file(pi->inst))
				continue;
			rc = hosts_plugin_edit(pi->inst, add != 0, name, addr, err, errlen);
			if (rc == 0)
				e->need_sync = true;
			return rc;
		}
	}
	snprintf(err, errlen, "no hosts plugin with a FILE argument in the Corefile");
	return -ENOENT;
}

/* ------------------------------------------------------------------------- */
/* Metrics                                                                     */

void cp_text_printf(struct cp_text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->len >= t->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len = (size_t)n < t->cap - t->len ? t->len + (size_t)n : t->cap;
}

/* coredns_plugin_enabled: per listen address, zone and handler of blocks with prometheus. */
static void plugin_enabled(const struct cp_engine *e, struct cp_text *t)
{
	cp_text_printf(t,
		"# HELP coredns_plugin_enabled A metric that indicates whether a plugin is enabled on per server and zone basis.\n"
		"# TYPE coredns_plugin_enabled gauge\n");
	for (unsigned s = 0; s < e->n_srv; s++) {
		const struct cp_server *sv = &e->srv[s];

		for (unsigned z = 0; sv->metrics && z < sv->n_zones; z++) {
			unsigned nh = e->set.n_bind ? e->set.n_bind : 1;
			char zone[1024];

			cp_name_text(sv->zones[z].wire, sv->zones[z].len, zone, sizeof(zone));
			for (unsigned h = 0; h < nh; h++) {
				const char *host = e->set.n_bind ? e->set.bind[h] : "";
				bool v6 = strchr(host, ':') != NULL;

				for (unsigned p = 0; p < sv->n_pl; p++) {
					if (!(sv->pl[p].ops->flags & CP_PLUGIN_HANDLER))
						continue;
					cp_text_printf(t,
						"coredns_plugin_enabled{name=\"%s\",server=\"dns://%s%s%s:%u\",view=\"\",zone=\"%s\"} 1\n",
						sv->pl[p].ops->name, v6 ? "[" : "", host, v6 ? "]" : "",
						sv->zones[z].port, zone);
				}
			}
		}
	}
}

size_t cp_engine_metrics(const struct cp_engine *e, char *buf, size_t cap)
{
	const struct cp_plugin_reg *reg = cp_plugin_registry();
	void **inst = calloc(e->n_srv + 1, sizeof(*inst));
	struct cp_text t = { buf, 0, cap };
	size_t o;

	if (cap == 0 || inst == NULL) {
		free(inst);
		return 0;
	}
	plugin_enabled(e, &t);
	o = t.len;
	for (unsigned r = 0; reg[r].name != NULL; r++) {
		const struct cp_plugin_ops *ops = reg[r].ops ? reg[r].ops() : NULL;
		unsigned n = 0;

		if (ops == NULL || ops->metrics == NULL)
			continue;
		for (unsigned s = 0; s < e->n_srv; s++) {
			for (unsigned p = 0; p < e->srv[s].n_pl; p++) {
				if (e->srv[s].pl[p].ops == ops)
					inst[n++] = e->srv[s].pl[p].inst;
			}
		}
		if (n > 0 && o < cap)
			o += ops->metrics(inst, n, buf + o, cap - o);
	}
	free(inst);
	if (o >= cap)
		o = cap - 1;
	buf[o] = '\0';
	return o;
}
