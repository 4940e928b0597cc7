/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - the `loop` plugin (CoreDNS v1.14): `loop`, no arguments.
 *
 * Once the runtime runs the engine (its first tick: listeners open, table attached) the
 * plugin asks the server "<random>.<random>.<zone> HINFO", zone being the block's first
 * zone, as a client on the block's port would: through cp_engine_answer(), so the query
 * meets the block's chain and, through forward, the upstreams. Every time the probe name
 * comes back through the chain it is counted; seen more than twice, the upstreams send our
 * own queries back to us (a forwarding loop): the plugin logs CoreDNS's message
 *
 *   [FATAL] plugin/loop: Loop (REMOTE -> :PORT) detected for zone "ZONE", see
 *   https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO NAME"
 *
 * and sets the engine's fatal state: the runtime exits non-zero (CoreDNS's log.Fatal).
 * As in CoreDNS the probe is retried every second while it gets no answer, for at most
 * 30 s, and the plugin turns itself off 2 s after the probe was answered (a later query
 * for the name is not a loop, and must not become a query of death).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "corefile.h"
#include "dns.h"
#include "plugin.h"

#define LOOP_DEADLINE_MS 30000 /* give up sending the probe after this */
#define LOOP_RETRY_MS    1000  /* between unanswered probes */
#define LOOP_GRACE_MS    2000  /* off this long after the probe was answered */
#define LOOP_SEEN_MAX    2     /* more than this: a loop */
#define LOOP_QUERY_CAP   512

struct loop_probe;

struct loop {
	struct cp_engine *e;
	uint8_t zone[DNS_MAX_NAME];
	uint16_t zone_len;
	uint16_t port;
	char zone_text[DNS_MAX_NAME * 4 + 2];
	uint8_t qname[DNS_MAX_NAME];
	uint16_t qlen;
	char qname_text[DNS_MAX_NAME * 4 + 2];
	unsigned seen;
	bool off;                 /* probing is over: every query goes on untouched */
	bool fatal;
	uint64_t deadline_ms;     /* 0 until the first tick */
	uint64_t next_send_ms;
	uint64_t off_at_ms;       /* 0 until the probe is answered */
	struct loop_probe *probe; /* in flight */
};

/* A probe in flight; it outlives the instance when the engine is freed first. */
struct loop_probe {
	struct loop *l;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Go's rand.Int(): a non-negative 63-bit number. */
static unsigned long long rand63(void)
{
	unsigned long long v = 0;

	for (int i = 0; i < 3; i++)
		v = v << 31 ^ (unsigned long long)random();
	return v & 0x7fffffffffffffffull;
}

/* "<rand>.<rand>.<zone>" (CoreDNS's qname()). @return 0 or -ENAMETOOLONG */
static int make_qname(struct loop *l)
{
	char text[sizeof(l->zone_text) + 48];
	int n;

	snprintf(text, sizeof(text), "%llu.%llu.%s", rand63(), rand63(),
		 strcmp(l->zone_text, ".") == 0 ? "" : l->zone_text);
	n = dns_name_from_str(l->qname, sizeof(l->qname), text);
	if (n < 0)
		return -ENAMETOOLONG;
	l->qlen = (uint16_t)n;
	cp_name_text(l->qname, l->qlen, l->qname_text, sizeof(l->qname_text));
	return 0;
}

/* ------------------------------------------------------------------------- */
/* The probe                                                                   */

static void probe_done(void *req, const uint8_t *resp, size_t len)
{
	struct loop_probe *p = req;
	struct loop *l = p->l;

	if (l != NULL) {
		l->probe = NULL;
		/* Any answer (SERVFAIL too) is an exchange that worked (CoreDNS: no error). */
		if (resp != NULL && len > 0)
			l->off_at_ms = now_ms() + LOOP_GRACE_MS;
		else
			l->next_send_ms = now_ms() + LOOP_RETRY_MS;
	}
	free(p);
}

/* The query CoreDNS's dns.Exchange sends: RD, one question, no EDNS. */
static size_t probe_query(const struct loop *l, uint8_t *q)
{
	uint16_t id = (uint16_t)random();
	size_t o = DNS_HDR_LEN;

	memset(q, 0, DNS_HDR_LEN);
	q[0] = (uint8_t)(id >> 8);
	q[1] = (uint8_t)id;
	q[2] = DNS_F_RD >> 8;
	q[5] = 1;
	memcpy(q + o, l->qname, l->qlen);
	o += l->qlen;
	q[o++] = 0;
	q[o++] = DNS_T_HINFO;
	q[o++] = 0;
	q[o++] = DNS_C_IN;
	return o;
}

static void probe_send(struct loop *l, uint64_t now)
{
	uint8_t q[LOOP_QUERY_CAP];
	struct cp_client c;
	struct sockaddr_in *sa = (struct sockaddr_in *)&c.addr;
	struct loop_probe *p = malloc(sizeof(*p));
	int n;

	l->next_send_ms = now + LOOP_RETRY_MS;
	if (p == NULL)
		return;
	p->l = l;
	memset(&c, 0, sizeof(c));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c.addr_len = sizeof(*sa);
	c.local_port = l->port;
	c.done = probe_done;
	c.req = p;
	l->probe = p;
	n = cp_engine_answer(l->e, q, probe_query(l, q), sizeof(q), &c);
	if (n == CP_ANSWER_DEFERRED)
		return;
	probe_done(p, n > 0 ? q : NULL, n > 0 ? (size_t)n : 0);
}

/* ------------------------------------------------------------------------- */
/* Plugin ops                                                                  */

static void client_text(const struct cp_client *c, char *out, size_t cap)
{
	char a[INET6_ADDRSTRLEN] = "";
	unsigned port = 0;

	if (c != NULL && c->addr.ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)&c->addr;

		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		port = ntohs(s->sin_port);
		snprintf(out, cap, "%s:%u", a, port);
	} else if (c != NULL && c->addr.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)&c->addr;

		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		port = ntohs(s->sin6_port);
		snprintf(out, cap, "[%s]:%u", a, port);
	} else {
		snprintf(out, cap, "unknown");
	}
}

static void detected(struct loop *l, const struct cp_request *rq)
{
	char from[INET6_ADDRSTRLEN + 16], msg[2 * sizeof(l->zone_text) + 256];

	client_text(rq->client, from, sizeof(from));
	snprintf(msg, sizeof(msg), "Loop (%s -> :%u) detected for zone \"%s\", see "
		 "https://coredns.io/plugins/loop#troubleshooting. Query: \"HINFO %s\"", from,
		 l->port, l->zone_text, l->qname_text);
	cp_plog("FATAL", "loop", "%s", msg);
	cp_engine_set_fatal(l->e, msg);
	l->fatal = true;
}

static enum cp_serve loop_serve(void *inst, const struct cp_request *rq, struct dns_builder *b)
{
	struct loop *l = inst;

	if (rq->sync || l->off || rq->qtype != DNS_T_HINFO ||
	    !cp_name_under(rq->qname, rq->qname_len, l->zone, l->zone_len))
		return CP_NEXT;
	if (rq->qname_len != l->qlen || memcmp(rq->qname, l->qname, l->qlen) != 0)
		return CP_NEXT;
	if (!l->fatal && ++l->seen > LOOP_SEEN_MAX)
		detected(l, rq);
	if (l->fatal) {
		/* The process is on its way out: stop feeding the loop. */
		b->flags = DNS_RCODE_SERVFAIL;
		return CP_ANSWERED;
	}
	return CP_NEXT;
}

static int loop_tick(void *inst, struct cp_tick *t, uint64_t now)
{
	struct loop *l = inst;

	(void)t;
	if (l->off)
		return 0;
	if (l->deadline_ms == 0) {
		l->deadline_ms = now + LOOP_DEADLINE_MS;
		l->next_send_ms = now;
	}
	/* A probe still in flight at the deadline gets the time one exchange would. */
	if ((l->off_at_ms != 0 && now >= l->off_at_ms) ||
	    (now >= l->deadline_ms && (l->probe == NULL || now >= l->deadline_ms + LOOP_GRACE_MS))) {
		l->off = true;
		return 0;
	}
	if (l->probe == NULL && l->off_at_ms == 0 && now >= l->next_send_ms)
		probe_send(l, now);
	return 0;
}

/* It only counts: whatever it does not answer goes on (the probe name is never static). */
static void loop_outcome(void *inst, const struct cp_region *r, struct cp_outcome *o)
{
	(void)inst;
	(void)r;
	o->next = true;
}

static void loop_free(void *inst)
{
	struct loop *l = inst;

	if (l == NULL)
		return;
	if (l->probe != NULL)
		l->probe->l = NULL; /* the engine completes it later, once */
	free(l);
}

static int loop_setup(struct cp_setup *s, const struct cf_line *const *lines, unsigned n,
		      void **inst)
{
	const struct cf_line *l = lines[0];
	struct loop *lp;

	(void)n;
	if (l->n_tok > 1)
		return cp_setup_err(s, &l->tok[1], "wrong argument count or unexpected line "
				    "ending after '%s'", l->tok[0].text);
	if (l->has_block)
		return cp_setup_err(s, &l->tok[0], "loop takes no block");
	lp = calloc(1, sizeof(*lp));
	if (lp == NULL)
		return -ENOMEM;
	lp->e = s->engine;
	if (s->n_zones > 0) {
		memcpy(lp->zone, s->zones[0].wire, s->zones[0].len);
		lp->zone_len = s->zones[0].len;
		lp->port = s->zones[0].port;
	} else {
		lp->zone_len = 1;
		lp->port = 53;
	}
	cp_name_text(lp->zone, lp->zone_len, lp->zone_text, sizeof(lp->zone_text));
	if (make_qname(lp) < 0)
		lp->off = true; /* a zone too long for two more labels: nothing to probe with */
	*inst = lp;
	return 0;
}

static const struct cp_plugin_ops loop_ops = {
	.name = "loop",
	.flags = CP_PLUGIN_HANDLER,
	.setup = loop_setup,
	.free = loop_free,
	.serve = loop_serve,
	.outcome = loop_outcome,
	.tick = loop_tick,
};

const struct cp_plugin_ops *cp_loop_plugin(void)
{
	return &loop_ops;
}
