/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - the `loadbalance` plugin (CoreDNS v1.14):
 *
 *   loadbalance [round_robin] {
 *       prefer CIDR [CIDR...]
 *   }
 *
 * Every NOERROR answer of its server block (AXFR/IXFR aside) has the order of its records
 * randomized, section by section, as CoreDNS's roundRobin does: a section of A or AAAA
 * records only is shuffled; any other mix becomes CNAMEs first, then the other types in
 * their order, then the A/AAAA records shuffled, then the MX records shuffled. `prefer`
 * then moves addresses inside the listed networks to the front of the answer and
 * additional sections (in the order of the list), after the CNAMEs and before the MX and
 * other records, as CoreDNS's prefer does. The `weighted` policy is refused (dpdns has no
 * weight files).
 *
 * The fast path. Its answers are values published once and copied to every client, so it
 * cannot shuffle per query. Answers the control plane writes (misses of the fast path,
 * TCP, forwarded and cached replies it relays) are shuffled per response, as CoreDNS does.
 * Published values are shuffled too, but by a permutation drawn per (epoch, name, type):
 * each value is the same on every port (the engine requires that) and between epochs.
 * The plugin remembers the names whose published answers it reorders and re-evaluates
 * them (cp_tick_name) once per epoch of LB_EPOCH_MS, within LB_SLICE_NS of engine time
 * per LB_SLICE_EVERY_MS so the rotation never starves queries: a pass over N such names
 * takes about N x (cost of evaluating a name) / 10% of the engine thread, so with many
 * multi-address names an order lasts longer than an epoch. Within an epoch every client
 * of the fast path sees the same order; over time each order comes up equally often.
 * Values the cache plugin publishes itself (forwarded answers) keep the order they were
 * received in until they expire, at most the cache's TTL.
 * The trade-off chosen: multi-address answers stay in the fast path (a default Kubernetes
 * Corefile has loadbalance; headless services would otherwise all be control plane
 * answers) at the cost of per-epoch rather than per-response order for them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bmap.h"
#include "corefile.h"
#include "dns.h"
#include "plugin.h"

#define LB_EPOCH_MS        1000u  /* published orders change this often at most */
#define LB_SLICE_NS        1000000u /* engine time per slice of a rotation pass */
#define LB_SLICE_EVERY_MS  10u    /* one slice per this many ms: <= 10% of the thread */
#define LB_PREFER_MAX      64
#define LB_REC_MAX         DNS_ANS_MAX_TTL

struct lb_net {
	int fam;
	uint8_t addr[16];
	unsigned bits;
};

/* A name whose published answers this plugin reorders. */
struct lb_name {
	uint32_t off;
	uint16_t len;
	bool keep;       /* reordered since its last re-evaluation */
};

struct lb {
	struct lb_net prefer[LB_PREFER_MAX];
	unsigned n_prefer;
	uint64_t rng;            /* answers written per response */
	uint64_t epoch;          /* published orders */
	uint64_t epoch_ms;       /* start of the current epoch; 0: none yet */
	uint64_t next_slice_ms;
	bool in_pass;
	uint32_t cursor;
	/* The names (bytes back to back), their entries and an index. */
	uint8_t *names;
	size_t names_len, names_cap;
	struct lb_name *ent;
	uint32_t n_ent, cap_ent;
	struct cp_bmap idx;
	/* counters */
	uint64_t passes, reeval, shuffled;
};

/* ------------------------------------------------------------------------- */
/* Random numbers                                                              */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Fisher-Yates over idx[0..n) (CoreDNS's roundRobinShuffle, any uniform one will do). */
static void shuffle(uint16_t *idx, unsigned n, uint64_t *rng)
{
	for (unsigned j = n; j > 1; j--) {
		unsigned p = (unsigned)(splitmix(rng) % j);
		uint16_t t = idx[j - 1];

		idx[j - 1] = idx[p];
		idx[p] = t;
	}
}

/* ------------------------------------------------------------------------- */
/* Records of a builder                                                        */

struct lb_rec {
	uint16_t off, len;   /* the whole record in b->buf */
	uint16_t own;        /* owner bytes */
	uint16_t type;
};

/* Split b->buf into records. @return their number, or -1 when it does not parse. */
static int split(const struct dns_builder *b, struct lb_rec *r, unsigned max)
{
	unsigned n = (unsigned)b->count[0] + b->count[1] + b->count[2];
	size_t pos = 0;

	if (n > max || n != b->n_ttl)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		size_t start = pos, rdlen;

		while (pos < b->len && b->buf[pos] != 0 && (b->buf[pos] & 0xc0) != 0xc0)
			pos += 1u + b->buf[pos];
		if (pos >= b->len)
			return -1;
		pos += b->buf[pos] == 0 ? 1 : 2;
		if (pos + 10 > b->len)
			return -1;
		rdlen = (size_t)b->buf[pos + 8] << 8 | b->buf[pos + 9];
		r[i].own = (uint16_t)(pos - start);
		r[i].type = (uint16_t)(b->buf[pos] << 8 | b->buf[pos + 1]);
		pos += 10 + rdlen;
		if (pos > b->len)
			return -1;
		r[i].off = (uint16_t)start;
		r[i].len = (uint16_t)(pos - start);
	}
	return pos == b->len ? (int)n : -1;
}

static bool is_addr(uint16_t t)
{
	return t == DNS_T_A || t == DNS_T_AAAA;
}

/* Does a section of @p n records (types in r[]) have an order to randomize? */
static bool section_varies(const struct lb_rec *r, unsigned n)
{
	unsigned addr = 0, mx = 0;

	for (unsigned i = 0; i < n; i++) {
		addr += is_addr(r[i].type);
		mx += r[i].type == DNS_T_MX;
	}
	return addr > 1 || mx > 1;
}

/* CoreDNS roundRobin for one section: @p ord gets the new order of r[0..n). */
static void round_robin(const struct lb_rec *r, unsigned n, uint16_t *ord, uint64_t *rng)
{
	uint16_t cname[LB_REC_MAX], addr[LB_REC_MAX], mx[LB_REC_MAX], rest[LB_REC_MAX];
	unsigned nc = 0, na = 0, nm = 0, nr = 0, o = 0;
	bool same = true;

	for (unsigned i = 0; i < n; i++) {
		ord[i] = (uint16_t)i;
		same &= r[i].type == r[0].type;
	}
	if (n <= 1)
		return;
	if (same && is_addr(r[0].type)) {
		shuffle(ord, n, rng);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		if (r[i].type == DNS_T_CNAME)
			cname[nc++] = (uint16_t)i;
		else if (is_addr(r[i].type))
			addr[na++] = (uint16_t)i;
		else if (r[i].type == DNS_T_MX)
			mx[nm++] = (uint16_t)i;
		else
			rest[nr++] = (uint16_t)i;
	}
	shuffle(addr, na, rng);
	shuffle(mx, nm, rng);
	memcpy(ord + o, cname, nc * sizeof(*ord));
	o += nc;
	memcpy(ord + o, rest, nr * sizeof(*ord));
	o += nr;
	memcpy(ord + o, addr, na * sizeof(*ord));
	o += na;
	memcpy(ord + o, mx, nm * sizeof(*ord));
}

static bool net_has(const struct lb_net *net, const uint8_t *a, int fam)
{
	unsigned full = net->bits / 8, rem = net->bits % 8;

	if (net->fam != fam || memcmp(net->addr, a, full) != 0)
		return false;
	return rem == 0 || ((net->addr[full] ^ a[full]) & (0xff00u >> rem) & 0xff) == 0;
}

/* Address of an A/AAAA record of @p b, or NULL. */
static const uint8_t *rec_addr(const struct dns_builder *b, const struct lb_rec *r, int *fam)
{
	const uint8_t *rd = b->buf + r->off + r->own + 10;
	size_t rdlen = r->len - r->own - 10u;

	*fam = r->type == DNS_T_A ? AF_INET : AF_INET6;
	if (!is_addr(r->type) || rdlen != (r->type == DNS_T_A ? 4u : 16u))
		return NULL;
	return rd;
}

/* CoreDNS reorderRecords: cname, addresses (preferred networks first), mx, rest. */
static void prefer(const struct lb *lb, const struct dns_builder *b, const struct lb_rec *r,
		   uint16_t *ord, unsigned n)
{
	uint16_t out[LB_REC_MAX];
	bool taken[LB_REC_MAX] = { false };
	unsigned o = 0;
	int fam;

	for (unsigned i = 0; i < n; i++) {
		if (r[ord[i]].type == DNS_T_CNAME)
			out[o++] = ord[i];
	}
	for (unsigned k = 0; k < lb->n_prefer; k++) {
		for (unsigned i = 0; i < n; i++) {
			const uint8_t *a = rec_addr(b, &r[ord[i]], &fam);

			if (!taken[i] && a != NULL && net_has(&lb->prefer[k], a, fam)) {
				out[o++] = ord[i];
				taken[i] = true;
			}
		}
	}
	for (unsigned i = 0; i < n; i++) {
		if (is_addr(r[ord[i]].type) && !taken[i])
			out[o++] = ord[i];
	}
	for (unsigned i = 0; i < n; i++) {
		if (r[ord[i]].type == DNS_T_MX)
			out[o++] = ord[i];
	}
	for (unsigned i = 0; i < n; i++) {
		uint16_t t = r[ord[i]].type;

		if (t != DNS_T_CNAME && t != DNS_T_MX && !is_addr(t))
			out[o++] = ord[i];
	}
	memcpy(ord, out, n * sizeof(*ord));
}

#define LB_VARIES  0x1 /* some section has an order to randomize */
#define LB_CHANGED 0x2 /* the records moved */

/* Reorder the records of @p b. @return LB_* bits, or -1 when @p b could not be read. */
static int reorder(const struct lb *lb, struct dns_builder *b, uint64_t *rng)
{
	struct lb_rec r[LB_REC_MAX];
	uint16_t ord[LB_REC_MAX];
	uint8_t tmp[DNS_BUILD_MAX];
	unsigned base = 0, o = 0;
	int n, res = 0;

	/* Most answers (one address, NODATA, NXDOMAIN) have nothing to move. */
	if ((unsigned)b->count[0] + b->count[1] + b->count[2] < 2)
		return 0;
	if ((n = split(b, r, LB_REC_MAX)) < 0)
		return -1;
	for (unsigned s = 0; s < 3; s++) {
		unsigned cnt = b->count[s];

		if (section_varies(r + base, cnt))
			res |= LB_VARIES;
		round_robin(r + base, cnt, ord, rng);
		if (lb->n_prefer > 0 && s != DNS_SEC_AUTHORITY)
			prefer(lb, b, r + base, ord, cnt);
		for (unsigned i = 0; i < cnt; i++) {
			const struct lb_rec *x = &r[base + ord[i]];

			if (ord[i] != i)
				res |= LB_CHANGED;
			memcpy(tmp + o, b->buf + x->off, x->len);
			b->ttl_off[base + i] = (uint16_t)(o + x->own + 4);
			o += x->len;
		}
		base += cnt;
	}
	memcpy(b->buf, tmp, o);
	return res;
}

/* ------------------------------------------------------------------------- */
/* Names to re-evaluate                                                        */

static const uint8_t *name_key(const void *ctx, uint32_t idx, size_t *len)
{
	const struct lb *lb = ctx;

	*len = lb->ent[idx].len;
	return lb->names + lb->ent[idx].off;
}

static void remember(struct lb *lb, const uint8_t *name, size_t len)
{
	int64_t i = cp_bmap_find(&lb->idx, name, len);

	if (i >= 0) {
		lb->ent[i].keep = true;
		return;
	}
	if (lb->names_len + len > lb->names_cap) {
		size_t cap = lb->names_cap ? lb->names_cap * 2 : 4096;
		uint8_t *p;

		while (cap < lb->names_len + len)
			cap *= 2;
		if ((p = realloc(lb->names, cap)) == NULL)
			return;
		lb->names = p;
		lb->names_cap = cap;
	}
	if (lb->n_ent == lb->cap_ent) {
		uint32_t cap = lb->cap_ent ? lb->cap_ent * 2 : 64;
		struct lb_name *p = realloc(lb->ent, cap * sizeof(*p));

		if (p == NULL)
			return;
		lb->ent = p;
		lb->cap_ent = cap;
	}
	memcpy(lb->names + lb->names_len, name, len);
	lb->ent[lb->n_ent] = (struct lb_name){ (uint32_t)lb->names_len, (uint16_t)len, true };
	if (cp_bmap_add(&lb->idx, lb->n_ent) != 0)
		return;
	lb->names_len += len;
	lb->n_ent++;
}

/* After a pass: drop the names no longer reordered (deleted, now single-address). */
static void compact(struct lb *lb)
{
	uint32_t k = 0;
	size_t o = 0;

	for (uint32_t i = 0; i < lb->n_ent; i++) {
		if (!lb->ent[i].keep)
			continue;
		memmove(lb->names + o, lb->names + lb->ent[i].off, lb->ent[i].len);
		lb->ent[k] = (struct lb_name){ (uint32_t)o, lb->ent[i].len, true };
		o += lb->ent[i].len;
		k++;
	}
	lb->names_len = o;
	lb->n_ent = k;
	cp_bmap_free(&lb->idx);
	cp_bmap_init(&lb->idx, name_key, lb);
	for (uint32_t i = 0; i < k; i++)
		cp_bmap_add(&lb->idx, i);
}

/* ------------------------------------------------------------------------- */
/* Plugin ops                                                                  */

static bool applies(const struct cp_request *rq, uint16_t flags)
{
	return (flags & DNS_F_RCODE) == DNS_RCODE_NOERROR && rq->qtype != DNS_T_AXFR &&
	       rq->qtype != DNS_T_IXFR;
}

/* Published values: a permutation per (epoch, name, type), the same on every port. */
static uint64_t value_seed(const struct lb *lb, const struct cp_request *rq)
{
	uint64_t h = dns_name_hash(rq->qname, rq->qname_len);

	return h ^ ((uint64_t)rq->qtype << 48) ^ (lb->epoch * 0x9e3779b97f4a7c15ull);
}

static void lb_post(void *inst, const struct cp_request *rq, struct dns_builder *b)
{
	struct lb *lb = inst;
	uint64_t seed;
	int r;

	if (!applies(rq, b->flags) || b->err != 0)
		return;
	if (!rq->sync) {
		if ((r = reorder(lb, b, &lb->rng)) > 0 && (r & LB_VARIES))
			lb->shuffled++;
		return;
	}
	seed = value_seed(lb, rq);
	r = reorder(lb, b, &seed);
	if (r > 0 && (r & LB_VARIES))
		remember(lb, rq->qname, rq->qname_len);
}

/* Relayed answers (forward): read back into a builder, reordered, written again. */
static size_t lb_post_wire(void *inst, const struct cp_request *rq, const uint8_t *resp,
			   size_t len, uint8_t *out, size_t cap)
{
	const unsigned all = CP_MSG_SEC(DNS_SEC_ANSWER) | CP_MSG_SEC(DNS_SEC_AUTHORITY) |
			     CP_MSG_SEC(DNS_SEC_ADDITIONAL);
	struct lb *lb = inst;
	struct dns_builder *b;
	struct dns_key k = { .name_len = rq->q != NULL ? rq->q->qname_len : 0 };
	uint16_t flags;
	int n = 0, r;

	if (len < DNS_HDR_LEN || rq->q == NULL || rq->client == NULL || cap < rq->len)
		return 0;
	flags = (uint16_t)((unsigned)resp[2] << 8 | resp[3]);
	/* Fewer than two records (an OPT counted): nothing to reorder. */
	if (!applies(rq, flags) || (flags & DNS_F_TC) ||
	    (unsigned)resp[7] + resp[9] + resp[11] + ((resp[6] | resp[8] | resp[10]) << 8) < 2)
		return 0;
	b = malloc(sizeof(*b));
	if (b == NULL)
		return 0;
	dns_builder_init(b, &k, flags & (DNS_F_AA | DNS_F_RA | DNS_F_AD | DNS_F_RCODE));
	if (cp_msg_to_builder(resp, len, all, true, b) == 0 &&
	    (r = reorder(lb, b, &lb->rng)) > 0 && (r & LB_CHANGED)) {
		memcpy(out, rq->msg, rq->len);
		n = cp_write_answer(out, cap, rq->q, b, rq->client->tcp != 0);
		/* Names written out in full may not fit where the compressed ones did. */
		if (n < DNS_HDR_LEN || (out[2] & (DNS_F_TC >> 8)))
			n = 0;
		else
			lb->shuffled++;
	}
	free(b);
	return n > 0 ? (size_t)n : 0;
}

/* One slice of the rotation pass: re-evaluate names within the time budget. */
static int lb_tick(void *inst, struct cp_tick *t, uint64_t now_ms)
{
	struct lb *lb = inst;
	uint64_t t0;
	int need = 0;

	if (lb->epoch_ms == 0)
		lb->epoch_ms = now_ms;
	if (!lb->in_pass) {
		if (now_ms < lb->epoch_ms + LB_EPOCH_MS || lb->n_ent == 0)
			return 0;
		lb->epoch++;
		lb->epoch_ms = now_ms;
		lb->in_pass = true;
		lb->cursor = 0;
	}
	if (now_ms < lb->next_slice_ms)
		return 0;
	lb->next_slice_ms = now_ms + LB_SLICE_EVERY_MS;
	t0 = mono_ns();
	while (lb->cursor < lb->n_ent && mono_ns() - t0 < LB_SLICE_NS) {
		struct lb_name *e = &lb->ent[lb->cursor++];
		int rc;

		e->keep = false;
		rc = cp_tick_name(t, lb->names + e->off, e->len);
		lb->reeval++;
		if (rc < 0)
			return rc;
		need |= rc;
	}
	if (lb->cursor >= lb->n_ent) {
		lb->in_pass = false;
		lb->passes++;
		compact(lb);
	}
	return need;
}

static size_t lb_metrics(void *const *inst, unsigned n, char *buf, size_t cap)
{
	uint64_t names = 0, passes = 0, reeval = 0, shuffled = 0;
	int k;

	for (unsigned i = 0; i < n; i++) {
		const struct lb *lb = inst[i];

		names += lb->n_ent;
		passes += lb->passes;
		reeval += lb->reeval;
		shuffled += lb->shuffled;
	}
	k = snprintf(buf, cap,
		     "# HELP dpdns_loadbalance_rotating_names Names whose published answers loadbalance reorders.\n"
		     "# TYPE dpdns_loadbalance_rotating_names gauge\n"
		     "dpdns_loadbalance_rotating_names %lu\n"
		     "# HELP dpdns_loadbalance_passes_total Completed passes publishing a new order.\n"
		     "# TYPE dpdns_loadbalance_passes_total counter\n"
		     "dpdns_loadbalance_passes_total %lu\n"
		     "# HELP dpdns_loadbalance_reevaluations_total Names re-evaluated for a new order.\n"
		     "# TYPE dpdns_loadbalance_reevaluations_total counter\n"
		     "dpdns_loadbalance_reevaluations_total %lu\n"
		     "# HELP dpdns_loadbalance_shuffled_total Responses the control plane shuffled.\n"
		     "# TYPE dpdns_loadbalance_shuffled_total counter\n"
		     "dpdns_loadbalance_shuffled_total %lu\n",
		     (unsigned long)names, (unsigned long)passes, (unsigned long)reeval,
		     (unsigned long)shuffled);
	return k < 0 ? 0 : (size_t)k < cap ? (size_t)k : cap;
}

/* ------------------------------------------------------------------------- */
/* Setup                                                                       */

/* Go's net.ParseCIDR: ADDR/BITS, both required. */
static int parse_cidr(const char *text, struct lb_net *net)
{
	char a[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	unsigned long bits;
	size_t al;

	if (slash == NULL || (al = (size_t)(slash - text)) == 0 || al >= sizeof(a))
		return -EINVAL;
	memcpy(a, text, al);
	a[al] = '\0';
	memset(net, 0, sizeof(*net));
	if (inet_pton(AF_INET, a, net->addr) == 1)
		net->fam = AF_INET;
	else if (inet_pton(AF_INET6, a, net->addr) == 1)
		net->fam = AF_INET6;
	else
		return -EINVAL;
	if (cp_parse_uint(slash + 1, 0, net->fam == AF_INET ? 32 : 128, &bits) != 0)
		return -EINVAL;
	net->bits = (unsigned)bits;
	return 0;
}

static int lb_options(struct cp_setup *s, struct lb *lb, const struct cf_line *l)
{
	for (unsigned i = 0; i < l->n_sub; i++) {
		const struct cf_line *o = &l->sub[i];

		if (strcmp(o->tok[0].text, "prefer") != 0 || o->has_block)
			return cp_setup_err(s, &o->tok[0], "unknown property '%s'", o->tok[0].text);
		for (unsigned k = 1; k < o->n_tok; k++) {
			if (lb->n_prefer == LB_PREFER_MAX)
				return cp_setup_err(s, &o->tok[k], "more than %d prefer networks",
						    LB_PREFER_MAX);
			if (parse_cidr(o->tok[k].text, &lb->prefer[lb->n_prefer]) != 0)
				return cp_setup_err(s, &o->tok[k], "invalid CIDR \"%s\"", o->tok[k].text);
			lb->n_prefer++;
		}
	}
	return 0;
}

static void lb_free(void *inst)
{
	struct lb *lb = inst;

	if (lb == NULL)
		return;
	cp_bmap_free(&lb->idx);
	free(lb->names);
	free(lb->ent);
	free(lb);
}

static int lb_setup(struct cp_setup *s, const struct cf_line *const *lines, unsigned n,
		    void **inst)
{
	const struct cf_line *l = lines[0];
	struct lb *lb;
	int rc;

	(void)n;
	if (l->n_tok > 1) {
		const char *p = l->tok[1].text;

		if (strcmp(p, "weighted") == 0)
			return cp_setup_err(s, &l->tok[1], "policy 'weighted' is not supported by "
					    "dpdns (round_robin is)");
		if (strcmp(p, "round_robin") != 0)
			return cp_setup_err(s, &l->tok[1], "unknown policy: %s", p);
		if (l->n_tok > 2)
			return cp_setup_err(s, &l->tok[2], "unknown property for %s", p);
	}
	lb = calloc(1, sizeof(*lb));
	if (lb == NULL)
		return -ENOMEM;
	lb->rng = mono_ns() ^ ((uint64_t)(uintptr_t)lb << 16);
	cp_bmap_init(&lb->idx, name_key, lb);
	rc = lb_options(s, lb, l);
	if (rc < 0) {
		lb_free(lb);
		return rc;
	}
	*inst = lb;
	return 0;
}

static const struct cp_plugin_ops lb_ops = {
	.name = "loadbalance",
	.flags = CP_PLUGIN_HANDLER,
	.setup = lb_setup,
	.free = lb_free,
	.tick = lb_tick,
	.metrics = lb_metrics,
	.post = lb_post,
	.post_wire = lb_post_wire,
};

const struct cp_plugin_ops *cp_loadbalance_plugin(void)
{
	return &lb_ops;
}
