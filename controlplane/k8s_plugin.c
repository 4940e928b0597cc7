/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - the kubernetes plugin as an engine plugin.
 *
 *   kubernetes [ZONES...] {
 *       endpoint URL | tls CERT KEY CACERT | kubeconfig FILE [CONTEXT]
 *       namespaces NS...  labels SELECTOR  namespace_labels SELECTOR
 *       pods disabled|insecure|verified  endpoint_pod_names  noendpoints
 *       ttl SECONDS  fallthrough [ZONES...]  ignore empty_service  startup_timeout DURATION
 *   }
 *
 * An "informer" (store + watch thread) is shared by every instance with the same
 * configuration: a reload of an unchanged Corefile keeps serving the synced store while
 * the new engine takes over, instead of listing the whole cluster again.
 *
 * SOA serial. CoreDNS's serial is the unix time of the last API change, and every
 * negative answer carries it: in the fast path that is every name's NODATA value and each
 * zone's NXDOMAIN value. Refreshing them is a full table sync, which holds the engine
 * thread (and with it every query the fast path hands over) for as long as it runs. So
 * the serial the answers carry (syn.serial) follows the last change at most once per
 * second, less often when a sync is expensive (every 20 x its duration), and only hourly
 * once a sync takes more than a second (a 1M-endpoint cluster's takes ~15 s: refreshing
 * it each minute would stall the control plane a quarter of the time), counted from the
 * end of the last full sync, which publishes the current serial whatever started it.
 * Incremental updates between refreshes use the published serial, so the fast path and
 * the control plane always agree.
 *
 * Startup. CoreDNS does not open its listeners before the plugin has listed everything,
 * for at most startup_timeout (5 s). Here the fast path answers hosts and cached names
 * from the start; a query the plugin cannot answer yet (a would-be NXDOMAIN, which is
 * SERVFAIL before the sync) waits in the plugin until the sync or the timeout, then goes
 * through the chain again, so clients see what CoreDNS's would: a late answer.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "corefile.h"
#include "k8s_config.h"
#include "k8s_names.h"
#include "k8s_plugin.h"
#include "k8s_store.h"
#include "k8s_synth.h"
#include "k8s_watch.h"
#include "plugin.h"

#define TICK_BUDGET_NS   (20u * 1000000u) /* event work per tick before yielding */
#define DIRTY_MAX        50000            /* more names than this: a full sync instead */
#define DEP_DEPTH        8                /* ExternalName chains followed for updates */
#define HOLD_MAX         1024             /* held questions (the runtime has 4096 slots) */
#define PROG_BUCKETS     20               /* 1 ms x 2^i, as CoreDNS's histogram */
#define PROG_PEND        256              /* trigger times observed once published */

struct dirty {
	struct k8s_hnode node;
	uint16_t len;
	uint8_t name[];
};

struct k8s_informer {
	struct k8s_informer *next;
	unsigned refs;
	char *key;                    /* the whole configuration, canonical */
	struct k8s_config cfg;
	struct k8s_store store;
	struct k8s_synth syn;         /* syn.serial: the serial published answers carry */
	struct k8s_vcache vc;         /* views of the current store */
	struct k8s_answer ans;
	struct k8s_watch *watch;
	pthread_mutex_t wake_mu;
	struct cp_engine *wake_e;     /* engine to wake on events (the one that ticks) */
	bool listed[K8S_RES_N];
	bool synced, warned;
	uint32_t modified;            /* unix time of the last change (CoreDNS Modified) */
	uint64_t serial_next_ms;
	uint64_t sync_cost_ms;
	uint64_t start_ms;
	bool need_full;
	struct k8s_event *pend, *pend_tail;
	struct k8s_hmap dirty;
	size_t n_dirty;
	/* counters */
	uint64_t applied, ticked_names, full_syncs;
	uint64_t lat_last_ns, lat_max_ns;
	uint64_t err_seen, err_next_ms;  /* API errors logged so far, next log allowed */
	/* coredns_kubernetes_dns_programming_duration_seconds (headless_with_selector) */
	uint64_t prog_bucket[PROG_BUCKETS], prog_count;
	double prog_sum;
	int64_t prog_pend[PROG_PEND];  /* trigger times of slices applied this tick */
	unsigned n_prog_pend;
};

/* A query answered once the initial sync is done (or startup_timeout has passed). */
struct held {
	struct held *next;
	struct cp_client client;      /* the engine's completion: done(req, ...) once */
	size_t len, cap;
	uint8_t msg[];
};

struct k8s_inst {
	struct k8s_informer *inf;
	struct cp_engine *engine;
	struct held *held, **held_tail;
	unsigned n_held;
};

/* Engine thread only: the instances' shared informers. */
static struct k8s_informer *informers;

static void release(struct k8s_inst *inst, bool answer);

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------------- */
/* Setup                                                                       */

static int dep_key(void *ctx, const char *target, char *key, size_t cap)
{
	return k8s_synth_dep_key(ctx, target, key, cap);
}

/* Relative file names are relative to the Corefile's directory (as hosts FILE). */
static int abs_path(char **p, const char *dir)
{
	char *n;

	if (*p == NULL || (*p)[0] == '/' || dir == NULL || dir[0] == '\0')
		return 0;
	if (asprintf(&n, "%s/%s", dir, *p) < 0)
		return -ENOMEM;
	free(*p);
	*p = n;
	return 0;
}

static int parse_zones(struct cp_setup *s, const struct cf_line *l, struct k8s_config *c)
{
	struct cp_zone *zs = NULL;
	const struct cp_zone *use = s->zones;
	char err[256], text[1024];
	int n = (int)s->n_zones, rc = 0;

	if (l->n_tok > 1) {
		n = cp_setup_zones(s, &l->tok[1], l->n_tok - 1, &zs);
		if (n < 0)
			return n;
		use = zs;
	}
	for (int i = 0; i < n && rc == 0; i++) {
		cp_name_text(use[i].wire, use[i].len, text, sizeof(text));
		if (k8s_config_add_zone(c, text, err, sizeof(err)) != 0)
			rc = cp_setup_err(s, &l->tok[l->n_tok > 1 ? 1 : 0], "%s", err);
	}
	free(zs);
	return rc;
}

static int parse_options(struct cp_setup *s, const struct cf_line *l, struct k8s_config *c)
{
	char err[512];

	for (unsigned i = 0; i < l->n_sub; i++) {
		const struct cf_line *o = &l->sub[i];
		const char *args[64];
		unsigned n = o->n_tok - 1;

		if (o->has_block)
			return cp_setup_err(s, &o->tok[0], "unexpected block after '%s'", o->tok[0].text);
		if (n > 64)
			return cp_setup_err(s, &o->tok[0], "too many arguments for '%s'", o->tok[0].text);
		for (unsigned k = 0; k < n; k++)
			args[k] = o->tok[k + 1].text;
		if (k8s_config_option(c, o->tok[0].text, args, n, err, sizeof(err)) != 0)
			return cp_setup_err(s, &o->tok[0], "%s", err);
	}
	if (abs_path(&c->kubeconfig, s->dir) < 0 || abs_path(&c->tls_cert, s->dir) < 0 ||
	    abs_path(&c->tls_key, s->dir) < 0 || abs_path(&c->tls_ca, s->dir) < 0)
		return -ENOMEM;
	if (k8s_config_finish(c, err, sizeof(err)) != 0)
		return cp_setup_err(s, &l->tok[0], "%s", err);
	return 0;
}

/* Canonical text of everything that shapes the store and the answers. */
static char *config_key(const struct k8s_config *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	const struct k8s_conn *k = &c->conn;

	if (f == NULL)
		return NULL;
	for (unsigned i = 0; i < c->n_zones; i++)
		fprintf(f, "z=%s;", c->zones[i].name);
	fprintf(f, "srv=%s;ca=%s;cad=%zu;cert=%s;key=%s;certd=%zu;keyd=%zu;tok=%s;tokf=%s;ins=%d;",
		k->server, k->ca_file ? k->ca_file : "", k->ca_len, k->cert_file ? k->cert_file : "",
		k->key_file ? k->key_file : "", k->cert_len, k->key_len, k->token ? k->token : "",
		k->token_file ? k->token_file : "", k->insecure);
	if (k->ca_data != NULL)
		fwrite(k->ca_data, 1, k->ca_len, f);
	if (k->cert_data != NULL)
		fwrite(k->cert_data, 1, k->cert_len, f);
	fprintf(f, ";lab=%s;nslab=%s;pods=%d;epn=%d;noep=%d;ign=%d;ttl=%u;fall=%d;",
		c->labels ? c->labels->text : "", c->ns_labels ? c->ns_labels->text : "",
		(int)c->pods, c->endpoint_pod_names, c->noendpoints, c->ignore_empty_service,
		c->ttl, c->fall);
	for (unsigned i = 0; i < c->n_fall; i++)
		fprintf(f, "f=%s;", c->fall_zones[i].name);
	for (unsigned i = 0; i < c->n_namespaces; i++)
		fprintf(f, "ns=%s;", c->namespaces[i]);
	fprintf(f, "st=%u", c->startup_timeout_ms);
	fclose(f);
	return buf;
}

static void wake_cb(void *ctx)
{
	struct k8s_informer *inf = ctx;

	pthread_mutex_lock(&inf->wake_mu);
	if (inf->wake_e != NULL)
		cp_engine_wake(inf->wake_e);
	pthread_mutex_unlock(&inf->wake_mu);
}

static void dirty_clear(struct k8s_informer *inf)
{
	struct k8s_hiter it = { 0, NULL };
	struct k8s_hnode *n, *next;

	/* Fetch the next node before freeing the current one. */
	for (n = k8s_hmap_iter(&inf->dirty, &it); n != NULL; n = next) {
		next = k8s_hmap_iter(&inf->dirty, &it);
		free(k8s_container_of(n, struct dirty, node));
	}
	k8s_hmap_fini(&inf->dirty);
	k8s_hmap_init(&inf->dirty);
	inf->n_dirty = 0;
}

static void informer_free(struct k8s_informer *inf)
{
	struct k8s_event *ev, *next;

	k8s_watch_stop(inf->watch);
	for (ev = inf->pend; ev != NULL; ev = next) {
		next = ev->next;
		k8s_event_free(ev);
	}
	dirty_clear(inf);
	k8s_vcache_clear(&inf->vc);
	k8s_answer_fini(&inf->ans);
	k8s_store_fini(&inf->store);
	k8s_config_fini(&inf->cfg);
	pthread_mutex_destroy(&inf->wake_mu);
	free(inf->key);
	free(inf);
}

/* client-go's feature gate, from the environment as client-go reads it (Go ParseBool). */
static bool watch_list_enabled(void)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
	const char *v = getenv("KUBE_FEATURE_WatchListClient");

	for (size_t i = 0; v != NULL && i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(v, yes[i]) == 0)
			return true;
	}
	return false;
}

static struct k8s_informer *informer_new(struct k8s_config *c, char *key, char *err,
					 size_t errlen)
{
	struct k8s_informer *inf = calloc(1, sizeof(*inf));
	struct k8s_watch_cfg wc;

	if (inf == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	inf->key = key;
	inf->cfg = *c; /* takes the config's allocations */
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&inf->wake_mu, NULL);
	k8s_store_init(&inf->store, dep_key, &inf->cfg);
	k8s_vcache_init(&inf->vc);
	k8s_answer_init(&inf->ans);
	k8s_hmap_init(&inf->dirty);
	inf->syn.cfg = &inf->cfg;
	inf->syn.store = &inf->store;
	inf->start_ms = now_ns() / 1000000u;
	inf->modified = (uint32_t)time(NULL);
	inf->syn.serial = inf->modified;
	memset(&wc, 0, sizeof(wc));
	wc.conn = &inf->cfg.conn;
	wc.watch[K8S_RES_NS] = true;
	wc.watch[K8S_RES_SVC] = true;
	wc.watch[K8S_RES_SLICE] = !inf->cfg.noendpoints;
	wc.watch[K8S_RES_POD] = inf->cfg.pods == K8S_PODS_VERIFIED;
	wc.labels = inf->cfg.labels ? inf->cfg.labels->text : NULL;
	wc.ns_labels = inf->cfg.ns_labels ? inf->cfg.ns_labels->text : NULL;
	wc.conv.labels = inf->cfg.labels;
	wc.conv.ns_labels = inf->cfg.ns_labels;
	wc.conv.endpoint_pod_names = inf->cfg.endpoint_pod_names;
	wc.wake = wake_cb;
	wc.wake_ctx = inf;
	wc.watch_list = watch_list_enabled();
	for (int i = 0; i < K8S_RES_N; i++)
		inf->listed[i] = !wc.watch[i];
	inf->watch = k8s_watch_start(&wc, err, errlen);
	if (inf->watch == NULL) {
		inf->key = NULL;
		informer_free(inf);
		return NULL;
	}
	return inf;
}

static int k8s_setup(struct cp_setup *s, const struct cf_line *const *lines, unsigned n,
		     void **instp)
{
	const struct cf_line *l = lines[0];
	struct k8s_config c;
	struct k8s_informer *inf;
	struct k8s_inst *inst;
	char err[256];
	char *key;
	int rc;

	(void)n;
	k8s_config_init(&c);
	rc = parse_zones(s, l, &c);
	if (rc == 0)
		rc = parse_options(s, l, &c);
	key = rc == 0 ? config_key(&c) : NULL;
	inst = key != NULL ? calloc(1, sizeof(*inst)) : NULL;
	if (inst == NULL) {
		k8s_config_fini(&c);
		free(key);
		return rc < 0 ? rc : -ENOMEM;
	}
	for (inf = informers; inf != NULL && strcmp(inf->key, key) != 0; inf = inf->next)
		;
	if (inf != NULL) {
		k8s_config_fini(&c);
		free(key);
	} else {
		inf = informer_new(&c, key, err, sizeof(err));
		if (inf == NULL) {
			k8s_config_fini(&c);
			free(key);
			free(inst);
			return cp_setup_err(s, &l->tok[0], "%s", err);
		}
		inf->next = informers;
		informers = inf;
	}
	inf->refs++;
	inst->inf = inf;
	inst->engine = s->engine;
	inst->held_tail = &inst->held;
	*instp = inst;
	return 0;
}

static void k8s_free(void *vi)
{
	struct k8s_inst *inst = vi;
	struct k8s_informer *inf = inst->inf, **pp;

	release(inst, false);
	pthread_mutex_lock(&inf->wake_mu);
	if (inf->wake_e == inst->engine)
		inf->wake_e = NULL; /* the next instance to tick claims it */
	pthread_mutex_unlock(&inf->wake_mu);
	if (--inf->refs == 0) {
		for (pp = &informers; *pp != inf; pp = &(*pp)->next)
			;
		*pp = inf->next;
		informer_free(inf);
	}
	free(inst);
}

/* ns.dns.<zone> gets the addresses the server binds, when `bind` names them. */
static int k8s_finish(struct cp_setup *s, void *const *insts, unsigned n, unsigned n_blocks)
{
	(void)n_blocks;
	for (unsigned i = 0; i < n; i++) {
		struct k8s_synth *syn = &((struct k8s_inst *)insts[i])->inf->syn;

		syn->n_nsaddr = 0;
		for (unsigned k = 0; k < s->settings->n_bind && syn->n_nsaddr < K8S_MAX_NSADDR; k++) {
			if (k8s_ip_parse(&syn->nsaddr[syn->n_nsaddr], s->settings->bind[k]) == 0)
				syn->n_nsaddr++;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------- */
/* Startup: CoreDNS opens its listeners only once the plugin has synced, or when  */
/* startup_timeout has passed. Here the fast path answers everything else from   */
/* the start; the questions that need the cluster's data wait in the plugin.     */

static bool starting(const struct k8s_informer *inf)
{
	return !inf->synced && now_ns() / 1000000u - inf->start_ms <= inf->cfg.startup_timeout_ms;
}

/* Keep the query for release(). @return false when it cannot wait (answer it now). */
static bool hold(struct k8s_inst *inst, const struct cp_request *rq)
{
	struct held *h;

	if (rq->client == NULL || rq->client->done == NULL || rq->msg == NULL ||
	    inst->n_held >= HOLD_MAX)
		return false;
	h = malloc(sizeof(*h) + rq->len);
	if (h == NULL)
		return false;
	h->next = NULL;
	h->client = *rq->client;
	h->len = rq->len;
	h->cap = rq->cap;
	memcpy(h->msg, rq->msg, rq->len);
	*inst->held_tail = h;
	inst->held_tail = &h->next;
	inst->n_held++;
	return true;
}

/* Answer the held queries through the chain again (@p answer), or drop them (free). */
static void release(struct k8s_inst *inst, bool answer)
{
	struct held *h = inst->held, *next;

	inst->held = NULL;
	inst->held_tail = &inst->held;
	inst->n_held = 0;
	for (; h != NULL; h = next) {
		uint8_t *buf = answer ? malloc(h->cap) : NULL;

		next = h->next;
		if (buf != NULL) {
			memcpy(buf, h->msg, h->len);
			cp_engine_resume(inst->engine, buf, h->len, h->cap, &h->client);
		} else {
			h->client.done(h->client.req, NULL, 0);
		}
		free(buf);
		free(h);
	}
}

/* ------------------------------------------------------------------------- */
/* Answering                                                                   */

/*
 * CoreDNS plugin.A: "this means we can not complete the CNAME, try to look else where":
 * the target is looked up through the server and its answer records follow the CNAME.
 * The lookup may come back into this plugin, whose answer buffer @p a is shared: the name
 * is copied out first.
 */
static enum cp_serve upstream(const struct k8s_answer *a, const struct cp_request *rq,
			      struct dns_builder *b)
{
	uint8_t target[DNS_MAX_NAME];
	int n = dns_name_from_str(target, sizeof(target), a->upstream_name);

	if (n <= 0)
		return CP_ANSWERED;
	return cp_upstream_complete(rq, b, target, (size_t)n);
}

static enum cp_serve k8s_serve(void *vi, const struct cp_request *rq, struct dns_builder *b)
{
	struct k8s_inst *inst = vi;
	struct k8s_informer *inf = inst->inf;
	struct k8s_answer *a = &inf->ans;
	int rc = k8s_synth_answer(&inf->syn, rq->qname, rq->qname_len, rq->qtype, &inf->vc, a);

	if (rc < 0) {
		if (rq->sync)
			return CP_DYNAMIC;
		b->flags = DNS_RCODE_SERVFAIL;
		return CP_ANSWERED;
	}
	switch (a->rc) {
	case K8S_RC_NOTOURS:
	case K8S_RC_FALLTHROUGH:
		return CP_NEXT;
	case K8S_RC_SERVFAIL:
		/* Not synced yet: nothing the fast path should keep. */
		if (rq->sync)
			return CP_DYNAMIC;
		if (starting(inf) && hold(inst, rq))
			return CP_DEFERRED;
		break;
	case K8S_RC_ANSWER:
		/* An out-of-zone ExternalName: the target's records come from the server's
		 * own chain (cp_upstream_complete), never from the table. */
		if (a->upstream && rq->sync)
			return CP_DYNAMIC;
		break;
	default:
		break;
	}
	rc = k8s_build(&inf->syn, a, b, !rq->sync);
	if (rc < 0) {
		/* Larger than a value holds: the control plane answers it (what fits). */
		if (rq->sync)
			return CP_DYNAMIC;
		b->flags = DNS_RCODE_SERVFAIL;
	} else if (a->rc == K8S_RC_ANSWER && a->upstream) {
		return upstream(a, rq, b);
	}
	return CP_ANSWERED;
}

static const uint16_t k8s_types[] = {
	DNS_T_A, DNS_T_AAAA, DNS_T_SRV, DNS_T_TXT, DNS_T_CNAME, DNS_T_PTR, DNS_T_SOA, DNS_T_NS, 0
};

/* Is the subtree at @p name (wholly) excluded from region @p r? */
static bool excluded(const struct cp_region *r, const uint8_t *name, size_t len)
{
	return cp_zone_match(r->excl, r->n_excl, name, len) >= 0;
}

/* Unlisted names of region @p r that fall in zone @p zi of the plugin. */
static void zone_outcome(struct k8s_informer *inf, int zi, const struct cp_region *r,
			 struct cp_outcome *o)
{
	const struct k8s_config *c = &inf->cfg;
	const struct k8s_zone *z = &c->zones[zi];
	const uint8_t *top = r->zone_len >= z->wire_len ? r->zone : z->wire;
	size_t top_len = r->zone_len >= z->wire_len ? r->zone_len : z->wire_len;
	struct dns_builder b;

	if (!inf->synced) {
		o->dynamic = true; /* SERVFAIL until the first list: nothing to keep */
		return;
	}
	if (k8s_config_falls(c, top, top_len)) {
		o->next = true;
		return;
	}
	for (unsigned i = 0; i < c->n_fall; i++) {
		const struct k8s_zone *f = &c->fall_zones[i];

		if (k8s_name_under(f->wire, f->wire_len, top, top_len) && !excluded(r, f->wire, f->wire_len))
			o->next = true; /* part of it falls through */
	}
	if (c->pods != K8S_PODS_DISABLED && !z->reverse) {
		uint8_t pod[DNS_MAX_NAME];

		pod[0] = 3;
		memcpy(pod + 1, "pod", 3);
		memcpy(pod + 4, z->wire, z->wire_len);
		/* Every a-b-c-d.<ns>.pod.<zone> may exist: only the control plane knows. */
		if ((k8s_name_under(pod, z->wire_len + 4u, top, top_len) ||
		     k8s_name_under(top, top_len, pod, z->wire_len + 4u)) &&
		    !excluded(r, pod, z->wire_len + 4u)) {
			o->dynamic = true;
			return;
		}
	}
	dns_builder_init(&b, NULL, DNS_F_AA | DNS_RCODE_NXDOMAIN);
	k8s_build_soa(&inf->syn, zi, DNS_SEC_AUTHORITY, z->name, &b);
	cp_outcome_value(o, &b);
}

static void k8s_outcome(void *vi, const struct cp_region *r, struct cp_outcome *o)
{
	struct k8s_informer *inf = ((struct k8s_inst *)vi)->inf;
	const struct k8s_config *c = &inf->cfg;
	int zi = k8s_config_zone_of(c, r->zone, r->zone_len);

	if (zi >= 0) {
		zone_outcome(inf, zi, r, o);
		return;
	}
	/* The region holds zones of the plugin (and names that go on to the next plugin). */
	for (unsigned i = 0; i < c->n_zones; i++) {
		const struct k8s_zone *z = &c->zones[i];

		if (k8s_name_under(z->wire, z->wire_len, r->zone, r->zone_len) &&
		    !excluded(r, z->wire, z->wire_len))
			zone_outcome(inf, (int)i, r, o);
	}
	o->next = true;
}

/* ------------------------------------------------------------------------- */
/* Table contents                                                              */

static int sync_cb(void *ctx, const uint8_t *name, size_t len)
{
	return cp_sync_name(ctx, name, len);
}

#ifdef CP_HAVE_SYNC_ZONE
#define OWN_ZONES_MAX 32 /* of the fast path's DP_MAX_ZONES, for ExternalNames */

/* ExternalName services whose target lies outside zone @p zi (the chain completes them). */
static bool ext_out_of_zone(const struct k8s_informer *inf, const struct k8s_group *g, int zi)
{
	const struct k8s_zone *z = &inf->cfg.zones[zi];
	uint8_t w[DNS_MAX_NAME];
	int n;

	if (g->svc->u.svc.type != K8S_SVC_EXTERNAL || g->svc->u.svc.external_is_ip)
		return false;
	n = dns_name_from_str(w, sizeof(w), g->svc->u.svc.external);
	return n > 0 && !k8s_name_under(w, (size_t)n, z->wire, z->wire_len);
}

/* Headless services whose answers (every ready endpoint; SRV with additional records)
 * may not fit a table value: the control plane answers those names. */
static bool too_big(const struct k8s_informer *inf, const struct k8s_group *g, int zi)
{
	/* Worst case per record: an owner or target "<host 63>.<svc>.<ns>.svc.<zone>", the
	 * fixed fields and SRV rdata. */
	size_t per = 64 + strlen(g->name) + strlen(g->ns) + 6 + inf->cfg.zones[zi].wire_len + 22;
	unsigned recs = 0;

	if (g->svc->u.svc.type != K8S_SVC_HEADLESS)
		return false;
	for (const struct k8s_obj *sl = g->slices; sl != NULL; sl = sl->gnext) {
		unsigned ready = 0;

		for (unsigned i = 0; i < sl->u.slice.n_eps; i++)
			ready += sl->u.slice.eps[i].ready;
		recs += ready * (sl->u.slice.n_ports + 1);
	}
	/* A value holds DNS_ANS_MAX_TTL records in DNS_BUILD_MAX bytes. */
	return recs > DNS_ANS_MAX_TTL * 2 / 3 || recs * per > DNS_BUILD_MAX - 256;
}

/* Groups of zone @p zi whose names the fast path must send to the control plane. */
static bool needs_route(const struct k8s_informer *inf, const struct k8s_group *g, int zi)
{
	if (g->svc == NULL || !k8s_synth_ns_exposed(&inf->syn, g->ns))
		return false;
	return ext_out_of_zone(inf, g, zi) || too_big(inf, g, zi);
}

static int offer_zone(struct cp_sync *s, const struct k8s_zone *z, const char *labels)
{
	char text[2048];
	uint8_t w[DNS_MAX_NAME];
	int n;

	snprintf(text, sizeof(text), "%s.%s", labels, strcmp(z->name, ".") == 0 ? "" : z->name);
	n = dns_name_from_str(w, sizeof(w), text);
	return n > 0 ? cp_sync_zone(s, w, (size_t)n) : 0;
}

/* Namespaces holding groups that need routes in zone @p zi; the groups in @p n_svc. */
static unsigned route_count(const struct k8s_informer *inf, int zi, unsigned *n_svc)
{
	struct k8s_hiter it = { 0, NULL };
	struct k8s_hnode *m;
	unsigned nss = 0;

	*n_svc = 0;
	while ((m = k8s_hmap_iter(&inf->store.ns, &it)) != NULL) {
		const struct k8s_nsent *e = k8s_container_of(m, struct k8s_nsent, node);
		unsigned k = 0;

		for (const struct k8s_group *g = e->groups; g != NULL; g = g->ns_next)
			k += needs_route(inf, g, zi);
		*n_svc += k;
		nss += k != 0;
	}
	return nss;
}

/* Groups needing the control plane as zones: one per service, or per namespace when
 * there are many, or none (the whole zone then goes to the control plane). */
static int offer_route_zones(struct k8s_informer *inf, struct cp_sync *s, int zi)
{
	const struct k8s_zone *z = &inf->cfg.zones[zi];
	struct k8s_hiter it = { 0, NULL };
	struct k8s_hnode *n;
	unsigned n_svc, n_ns = route_count(inf, zi, &n_svc);
	bool per_ns = n_svc > OWN_ZONES_MAX;
	char lb[512];
	int rc = 0;

	if (per_ns && n_ns > OWN_ZONES_MAX)
		return 0;
	while (rc == 0 && (n = k8s_hmap_iter(&inf->store.groups, &it)) != NULL) {
		const struct k8s_group *g = k8s_container_of(n, struct k8s_group, node);

		if (!needs_route(inf, g, zi))
			continue;
		if (per_ns)
			snprintf(lb, sizeof(lb), "%s.svc", g->ns); /* repeats are merged */
		else
			snprintf(lb, sizeof(lb), "%s.%s.svc", g->name, g->ns);
		rc = offer_zone(s, z, lb);
	}
	return rc;
}

/*
 * The plugin's zones, and zones of their own for what the fast path must send to the
 * control plane so the rest of each zone keeps its NXDOMAIN answer: pod.<zone> (every
 * a-b-c-d.<ns>.pod.<zone> may exist), out-of-zone ExternalNames, headless services too
 * big for a value, and fallthrough zones below the plugin's zones.
 * Offered before any name, so each name counts against its own zone.
 */
static int offer_zones(struct k8s_informer *inf, struct cp_sync *s)
{
	const struct k8s_config *c = &inf->cfg;
	int rc = 0;

	for (unsigned i = 0; i < c->n_zones && rc == 0; i++) {
		const struct k8s_zone *z = &c->zones[i];

		/* The plugin's own zones: a `.:53` block has no other candidate for them. */
		rc = cp_sync_zone(s, z->wire, z->wire_len);
		if (rc != 0 || z->reverse)
			continue;
		if (c->pods != K8S_PODS_DISABLED)
			rc = offer_zone(s, z, "pod");
		if (rc == 0)
			rc = offer_route_zones(inf, s, (int)i);
	}
	for (unsigned i = 0; i < c->n_fall && rc == 0; i++) {
		const struct k8s_zone *f = &c->fall_zones[i];

		if (k8s_config_zone_of(c, f->wire, f->wire_len) >= 0)
			rc = cp_sync_zone(s, f->wire, f->wire_len);
	}
	return rc;
}
#endif

/* Time between serial refreshes: see the file header. */
static uint64_t serial_gap_ms(const struct k8s_informer *inf)
{
	uint64_t gap = inf->sync_cost_ms > 1000 ? 3600000 : inf->sync_cost_ms * 20;

	return gap > 1000 ? gap : 1000;
}

static int k8s_sync(void *vi, struct cp_sync *s)
{
	struct k8s_informer *inf = ((struct k8s_inst *)vi)->inf;
	uint64_t t0 = now_ns();
	int rc = 0;

	/* Every value is rewritten (zone answers after this): it carries the serial of
	 * the last change, which this sync publishes whatever asked for it. */
	if (inf->synced)
		inf->syn.serial = inf->modified;
#ifdef CP_HAVE_SYNC_ZONE
	if (inf->synced)
		rc = offer_zones(inf, s);
#endif
	if (rc == 0)
		rc = k8s_names_all(&inf->syn, &inf->vc, sync_cb, s);

	inf->sync_cost_ms = (now_ns() - t0) / 1000000u;
	inf->full_syncs++;
	/* The next refresh (another full sync) no sooner than its gap after this one: the
	 * first change after the initial sync must not start one at once (a 100,000
	 * service cluster's takes seconds, holding every query the fast path hands over). */
	inf->serial_next_ms = now_ns() / 1000000u + serial_gap_ms(inf);
	return rc;
}

/* ------------------------------------------------------------------------- */
/* Events                                                                      */

static int dirty_add(void *ctx, const uint8_t *name, size_t len)
{
	struct k8s_informer *inf = ctx;
	uint64_t h = k8s_hash_bytes(name, len, 0);
	struct dirty *d;

	for (struct k8s_hnode *n = k8s_hmap_first(&inf->dirty, h); n != NULL; n = k8s_hmap_next(n)) {
		d = k8s_container_of(n, struct dirty, node);
		if (d->len == len && memcmp(d->name, name, len) == 0)
			return 0;
	}
	if (inf->n_dirty >= DIRTY_MAX) {
		inf->need_full = true; /* too many for name-by-name updates */
		return 0;
	}
	d = malloc(sizeof(*d) + len);
	if (d == NULL) {
		inf->need_full = true;
		return 0;
	}
	d->node.hash = h;
	d->len = (uint16_t)len;
	memcpy(d->name, name, len);
	if (k8s_hmap_insert(&inf->dirty, &d->node) != 0) {
		free(d);
		inf->need_full = true;
		return 0;
	}
	inf->n_dirty++;
	return 0;
}

/* Names whose answers depend on group @p g through in-zone ExternalName targets. */
static void dep_names(struct k8s_informer *inf, const struct k8s_group *g, unsigned depth)
{
	const struct k8s_dep *d = depth < DEP_DEPTH ? k8s_store_dep(&inf->store, g->key) : NULL;

	for (const struct k8s_group *x = d != NULL ? d->dependents : NULL; x != NULL; x = x->dep_next) {
		k8s_names_group(&inf->syn, &inf->vc, x, K8S_GN_ALL, NULL, dirty_add, inf);
		dep_names(inf, x, depth + 1);
	}
}

static void slice_ptrs(struct k8s_informer *inf, const struct k8s_obj *sl)
{
	for (unsigned i = 0; i < sl->u.slice.n_eps; i++) {
		if (sl->u.slice.eps[i].ready)
			k8s_names_ptr(&inf->syn, &sl->u.slice.eps[i].ip, dirty_add, inf);
	}
}

static void group_names(struct k8s_informer *inf, const struct k8s_group *g)
{
	k8s_names_group(&inf->syn, &inf->vc, g, K8S_GN_ALL, NULL, dirty_add, inf);
	for (unsigned i = 0; g->svc != NULL && i < g->svc->u.svc.n_ips; i++)
		k8s_names_ptr(&inf->syn, &g->svc->u.svc.ips[i], dirty_add, inf);
	dep_names(inf, g, 0);
}

/* Every name object @p key of @p res currently contributes to (before or after a change). */
static void touched_names(struct k8s_informer *inf, enum k8s_res res, const char *key)
{
	const struct k8s_obj *o = k8s_store_obj(&inf->store, res, key);
	const struct k8s_group *g;

	switch (res) {
	case K8S_RES_SVC:
		g = k8s_store_group_key(&inf->store, key);
		if (g != NULL)
			group_names(inf, g);
		break;
	case K8S_RES_SLICE:
		if (o == NULL)
			break;
		k8s_names_group(&inf->syn, &inf->vc, o->group, K8S_GN_SLICE, o, dirty_add, inf);
		slice_ptrs(inf, o);
		dep_names(inf, o->group, 0);
		break;
	case K8S_RES_NS: {
		const struct k8s_nsent *e = k8s_store_ns(&inf->store, key);

		k8s_names_ns(&inf->syn, key, dirty_add, inf);
		/* With namespace_labels a namespace's presence exposes its services. */
		for (g = e != NULL && inf->cfg.ns_labels != NULL ? e->groups : NULL; g != NULL; g = g->ns_next) {
			group_names(inf, g);
			for (const struct k8s_obj *sl = g->slices; sl != NULL; sl = sl->gnext)
				slice_ptrs(inf, sl);
		}
		break;
	}
	default:
		break; /* pod names live under pod.<zone>, answered by the control plane */
	}
}

/*
 * DNS programming latency (CoreDNS's SLI metric): from the trigger time the endpoint
 * controller stamps on a slice to the change being served. As CoreDNS, only slices of
 * headless services count ("headless_with_selector": only the controller stamps them).
 * Unlike CoreDNS, slices of the initial list do not: their changes were programmed long
 * before this process existed, and would only fill the top bucket.
 */
static void prog_record(struct k8s_informer *inf, int64_t trigger_ns, int64_t now)
{
	double sec = now > trigger_ns ? (double)(now - trigger_ns) / 1e9 : 0.0;
	double le = 0.001;

	for (unsigned i = 0; i < PROG_BUCKETS; i++, le *= 2) {
		if (sec <= le)
			inf->prog_bucket[i]++;
	}
	inf->prog_count++;
	inf->prog_sum += sec;
}

static int64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A slice of @p key was applied: observed once its names are published (prog_observe). */
static void prog_note(struct k8s_informer *inf, const char *key, int64_t trigger_ns)
{
	const struct k8s_obj *sl = k8s_store_obj(&inf->store, K8S_RES_SLICE, key);
	const struct k8s_group *g = sl != NULL ? sl->group : NULL;

	if (g == NULL || g->svc == NULL || g->svc->u.svc.type != K8S_SVC_HEADLESS)
		return;
	if (inf->n_prog_pend == PROG_PEND)
		prog_record(inf, trigger_ns, real_ns());
	else
		inf->prog_pend[inf->n_prog_pend++] = trigger_ns;
}

static void prog_observe(struct k8s_informer *inf)
{
	int64_t now = inf->n_prog_pend > 0 ? real_ns() : 0;

	for (unsigned i = 0; i < inf->n_prog_pend; i++)
		prog_record(inf, inf->prog_pend[i], now);
	inf->n_prog_pend = 0;
}

/* Apply one object (or tombstone); collect the names it touches before and after. */
static void apply_obj(struct k8s_informer *inf, struct k8s_obj *o)
{
	enum k8s_res res = o->res;
	int64_t trigger = res == K8S_RES_SLICE && !o->tombstone ? o->u.slice.trigger_ns : 0;
	char *key = strdup(o->key);

	if (key == NULL) {
		k8s_obj_free(o);
		inf->need_full = true;
		return;
	}
	if (inf->synced)
		touched_names(inf, res, key);
	if (k8s_store_apply(&inf->store, o) != 0)
		inf->need_full = true;
	k8s_vcache_clear(&inf->vc);
	if (inf->synced) {
		touched_names(inf, res, key);
		if (trigger != 0)
			prog_note(inf, key, trigger);
	}
	inf->applied++;
	inf->modified = (uint32_t)time(NULL);
	free(key);
}

static void list_end(struct k8s_informer *inf, enum k8s_res res)
{
	size_t n = 0;
	struct k8s_obj **stale = k8s_store_stale(&inf->store, res, &n);

	for (size_t i = 0; i < n; i++)
		apply_obj(inf, stale[i]);
	free(stale);
	inf->listed[res] = true;
}

static void process(struct k8s_informer *inf, struct k8s_event *ev)
{
	struct k8s_obj *old;

	switch (ev->type) {
	case K8S_EV_LIST_BEGIN:
		k8s_store_list_begin(&inf->store, ev->res);
		break;
	case K8S_EV_LIST_END:
		list_end(inf, ev->res);
		break;
	default:
		old = k8s_store_obj(&inf->store, ev->res, ev->obj->key);
		if (old == NULL && ev->obj->tombstone)
			break;
		/* A relist brings everything again: unchanged objects only count as seen. */
		if (ev->type == K8S_EV_UPSERT && old != NULL && !ev->obj->tombstone &&
		    ev->obj->rv != NULL && old->rv != NULL && strcmp(ev->obj->rv, old->rv) == 0) {
			k8s_store_touch(&inf->store, old);
			break;
		}
		apply_obj(inf, ev->obj);
		ev->obj = NULL;
		break;
	}
	k8s_event_free(ev);
}

/* ------------------------------------------------------------------------- */
/* Tick                                                                        */

static void take_events(struct k8s_informer *inf)
{
	struct k8s_event *ev = k8s_watch_take(inf->watch), *last;

	if (ev == NULL)
		return;
	for (last = ev; last->next != NULL; last = last->next)
		;
	if (inf->pend_tail != NULL)
		inf->pend_tail->next = ev;
	else
		inf->pend = ev;
	inf->pend_tail = last;
}

/* Apply queued events for at most TICK_BUDGET_NS. @return true when some are left. */
static bool apply_events(struct k8s_informer *inf, uint64_t t0)
{
	unsigned n = 0;

	while (inf->pend != NULL) {
		struct k8s_event *ev = inf->pend;
		uint64_t recv = ev->recv_ns;

		inf->pend = ev->next;
		if (inf->pend == NULL)
			inf->pend_tail = NULL;
		process(inf, ev);
		if (recv != 0) {
			inf->lat_last_ns = now_ns() - recv;
			if (inf->lat_last_ns > inf->lat_max_ns && inf->synced)
				inf->lat_max_ns = inf->lat_last_ns;
		}
		if ((++n & 63) == 0 && now_ns() - t0 > TICK_BUDGET_NS)
			return inf->pend != NULL;
	}
	return false;
}

static bool all_listed(const struct k8s_informer *inf)
{
	for (int i = 0; i < K8S_RES_N; i++) {
		if (!inf->listed[i])
			return false;
	}
	return true;
}

/* Re-evaluate the touched names through the engine (put/del of their entries). */
static void tick_names(struct k8s_informer *inf, struct cp_tick *t)
{
	struct k8s_hiter it = { 0, NULL };
	struct k8s_hnode *n;

	if (inf->need_full) {
		dirty_clear(inf);
		return;
	}
	while ((n = k8s_hmap_iter(&inf->dirty, &it)) != NULL) {
		const struct dirty *d = k8s_container_of(n, struct dirty, node);
		int rc = cp_tick_name(t, d->name, d->len);

		inf->ticked_names++;
		if (rc != 0) {
			/* 1: a zone's published answer no longer fits; <0: the table refused. */
			inf->need_full = true;
			break;
		}
	}
	dirty_clear(inf);
}

static void startup_state(struct k8s_informer *inf, uint64_t now_ms)
{
	if (!inf->synced && all_listed(inf)) {
		inf->synced = inf->syn.synced = true;
		inf->syn.serial = inf->modified;
		inf->need_full = true;
		cp_plog("INFO", "kubernetes", "synced with the Kubernetes API (%zu services, "
			"%zu endpoint addresses)", (size_t)inf->store.objs[K8S_RES_SVC].n,
			inf->store.n_eps);
	}
	if (!inf->synced && !inf->warned && now_ms - inf->start_ms > inf->cfg.startup_timeout_ms) {
		inf->warned = true;
		cp_plog("WARNING", "kubernetes", "starting server with unsynced Kubernetes API");
	}
}

#define ERR_LOG_MS 5000 /* API failures are logged at most this often */

/* Failed API requests go to the log, as client-go's reflector errors do in CoreDNS. */
static void log_api_errors(struct k8s_informer *inf, uint64_t now_ms)
{
	struct k8s_watch_stats st;
	char code[32] = "";

	if (now_ms < inf->err_next_ms)
		return;
	k8s_watch_get_stats(inf->watch, &st);
	if (st.errors == inf->err_seen)
		return;
	if (st.last_status > 0)
		snprintf(code, sizeof(code), " (HTTP %ld)", st.last_status);
	cp_plog("ERROR", "kubernetes", "%s: %s%s; %lu failed request(s) since the last report",
		inf->cfg.conn.server, st.last_error, code, (unsigned long)(st.errors - inf->err_seen));
	inf->err_seen = st.errors;
	inf->err_next_ms = now_ms + ERR_LOG_MS;
}

static int k8s_tick(void *vi, struct cp_tick *t, uint64_t now_ms)
{
	struct k8s_inst *inst = vi;
	struct k8s_informer *inf = inst->inf;
	uint64_t t0 = now_ns();
	bool more;

	pthread_mutex_lock(&inf->wake_mu);
	inf->wake_e = inst->engine;
	pthread_mutex_unlock(&inf->wake_mu);
	take_events(inf);
	more = apply_events(inf, t0);
	if (more)
		cp_engine_wake(inst->engine); /* the rest on the next tick, soon */
	startup_state(inf, now_ms);
	log_api_errors(inf, now_ms);
	if (inst->held != NULL && !starting(inf))
		release(inst, true);
	if (inf->synced)
		tick_names(inf, t);
	else
		dirty_clear(inf);
	prog_observe(inf);
	/* The serial negative answers carry: see the file header. */
	if (inf->synced && inf->syn.serial != inf->modified && now_ms >= inf->serial_next_ms &&
	    !more) {
		inf->syn.serial = inf->modified;
		inf->serial_next_ms = now_ms + serial_gap_ms(inf);
		inf->need_full = true;
	}
	if (inf->need_full) {
		inf->need_full = false;
		return 1;
	}
	return 0;
}

static int k8s_ready(const void *vi)
{
	return ((const struct k8s_inst *)vi)->inf->synced;
}

/* One histogram for the process, as CoreDNS's (informers shared by instances count once);
 * like a Prometheus vector it has no series before the first observation. */
static size_t prog_metrics(void *const *insts, unsigned n, char *buf, size_t cap)
{
	static const char name[] = "coredns_kubernetes_dns_programming_duration_seconds";
	static const char kind[] = "service_kind=\"headless_with_selector\"";
	struct cp_text t = { buf, 0, cap };
	uint64_t bucket[PROG_BUCKETS] = { 0 }, count = 0;
	double sum = 0, le = 0.001;

	for (unsigned i = 0; i < n; i++) {
		const struct k8s_informer *inf = ((struct k8s_inst *)insts[i])->inf;
		bool seen = false;

		for (unsigned k = 0; k < i && !seen; k++)
			seen = ((struct k8s_inst *)insts[k])->inf == inf;
		for (unsigned b = 0; b < PROG_BUCKETS && !seen; b++)
			bucket[b] += inf->prog_bucket[b];
		count += seen ? 0 : inf->prog_count;
		sum += seen ? 0 : inf->prog_sum;
	}
	if (count == 0 || cap == 0)
		return 0;
	cp_text_printf(&t, "# HELP %s Histogram of the time (in seconds) it took to program a dns "
		       "instance.\n# TYPE %s histogram\n", name, name);
	for (unsigned b = 0; b < PROG_BUCKETS; b++, le *= 2)
		cp_text_printf(&t, "%s_bucket{%s,le=\"%g\"} %lu\n", name, kind, le,
			       (unsigned long)bucket[b]);
	cp_text_printf(&t, "%s_bucket{%s,le=\"+Inf\"} %lu\n%s_sum{%s} %.9g\n%s_count{%s} %lu\n",
		       name, kind, (unsigned long)count, name, kind, sum, name, kind,
		       (unsigned long)count);
	return t.len;
}

static size_t k8s_metrics(void *const *insts, unsigned n, char *buf, size_t cap)
{
	size_t o = 0;
	int k = snprintf(buf, cap,
			 "# HELP dpdns_kubernetes_synced 1 when every watched resource has been listed.\n"
			 "# TYPE dpdns_kubernetes_synced gauge\n");

	o = k < 0 ? 0 : (size_t)k < cap ? (size_t)k : cap;
	for (unsigned i = 0; i < n && o < cap; i++) {
		const struct k8s_informer *inf = ((struct k8s_inst *)insts[i])->inf;
		struct k8s_watch_stats st;

		k8s_watch_get_stats(inf->watch, &st);
		k = snprintf(buf + o, cap - o,
			     "dpdns_kubernetes_synced{instance=\"%u\"} %d\n"
			     "dpdns_kubernetes_objects{instance=\"%u\",resource=\"services\"} %zu\n"
			     "dpdns_kubernetes_objects{instance=\"%u\",resource=\"endpointslices\"} %zu\n"
			     "dpdns_kubernetes_objects{instance=\"%u\",resource=\"namespaces\"} %zu\n"
			     "dpdns_kubernetes_objects{instance=\"%u\",resource=\"pods\"} %zu\n"
			     "dpdns_kubernetes_events_total{instance=\"%u\"} %lu\n"
			     "dpdns_kubernetes_relists_total{instance=\"%u\"} %lu\n"
			     "dpdns_kubernetes_api_errors_total{instance=\"%u\"} %lu\n"
			     "dpdns_kubernetes_event_apply_seconds_max{instance=\"%u\"} %.6f\n",
			     i, inf->synced, i, inf->store.objs[K8S_RES_SVC].n,
			     i, inf->store.objs[K8S_RES_SLICE].n, i, inf->store.objs[K8S_RES_NS].n,
			     i, inf->store.objs[K8S_RES_POD].n, i, (unsigned long)st.events,
			     i, (unsigned long)st.relists, i, (unsigned long)st.errors,
			     i, (double)inf->lat_max_ns / 1e9);
		o += k < 0 ? 0 : (size_t)k < cap - o ? (size_t)k : cap - o;
	}
	return o + prog_metrics(insts, n, buf + o, cap - o);
}

static const struct cp_plugin_ops k8s_ops = {
	.name = "kubernetes",
	.flags = CP_PLUGIN_HANDLER,
	.setup = k8s_setup,
	.free = k8s_free,
	.finish = k8s_finish,
	.serve = k8s_serve,
	.types = k8s_types,
	.outcome = k8s_outcome,
	.sync = k8s_sync,
	.tick = k8s_tick,
	.ready = k8s_ready,
	.metrics = k8s_metrics,
};

const struct cp_plugin_ops *cp_kubernetes_plugin(void)
{
	return &k8s_ops;
}
