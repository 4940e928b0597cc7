/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - the `forward` plugin at run time: upstream selection (policy,
 * health), retries, TCP fallback, failover/next rcodes, max_concurrent, metrics.
 *
 * Follows CoreDNS's Forward.ServeDNS loop as an event-driven state machine: within an
 * overall 5 s deadline, walk the policy-ordered upstream list skipping those marked down
 * (more than max_fails failed health checks); when every one is down, use a random one
 * (unless failfast_all_unhealthy_upstreams). A network error starts health checking of
 * that upstream and moves on to the next. One deviation: CoreDNS restarts the list at once
 * when it reaches the end, which spins while every upstream refuses; here a new pass
 * starts at least FWD_PASS_MIN_MS after the previous one began.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fwd_int.h"
#include "plugin.h"

#define FWD_DEADLINE_MS     5000 /* CoreDNS defaultTimeout */
#define FWD_READ_TIMEOUT_MS 2000 /* CoreDNS proxy readTimeout */
#define FWD_HC_TIMEOUT_MS   1000 /* CoreDNS health check client timeout */
#define FWD_PASS_MIN_MS     500

struct fwd_txn {
	struct fwd_txn *prev, *next;
	struct cp_fwd *f;
	cp_fwd_cb cb;
	void *ctx;
	struct fwd_question fq;        /* name points into msg: the client's case */
	uint16_t client_id;
	bool client_tcp;
	bool tcp;                      /* current upstream: retry over TCP after TC=1 */
	bool waiting;                  /* between passes, or not started yet */
	bool fail_now;                 /* could not start inside cp_fwd_query: fail at tick */
	uint8_t order[CP_FWD_MAX_UPSTREAMS];
	unsigned n, i, fails, attempts;
	int cur;
	uint64_t deadline_ms, pass_ms, wait_until_ms;
	uint64_t attempt_ns;           /* for coredns_proxy_request_duration_seconds */
	struct fwd_xchg *x;
	uint8_t *last;                 /* failover: last reply, returned when all were tried */
	size_t last_len;
	size_t len;
	uint8_t msg[];
};

enum attempt { ATT_STARTED, ATT_WAIT, ATT_FAIL };

static enum attempt txn_attempt(struct fwd_txn *t);

/* ------------------------------------------------------------------------- */
/* Upstream state                                                              */

static bool up_down(const struct cp_fwd *f, const struct fwd_up *u)
{
	return f->max_fails != 0 && u->fails > f->max_fails;
}

static void hc_kick(struct cp_fwd *f, struct fwd_up *u)
{
	if (f->max_fails == 0 || f->hc_ms == 0 || u->hc_on)
		return;
	u->hc_on = true;
	u->hc_next_ms = f->now_ms;
}

static void hc_done(void *ctx, int err, uint8_t *reply, size_t len)
{
	struct fwd_up *u = ctx;

	(void)reply;
	(void)len;
	u->hc_x = NULL;
	/* Any reply (even SERVFAIL) is a live upstream; only I/O errors count. */
	if (err == 0) {
		u->fails = 0;
		u->hc_on = false;
		return;
	}
	if (u->fails != UINT32_MAX)
		u->fails++;
	u->hc_failures++;
}

static enum fwd_proto fwd_proto_for(const struct cp_fwd *f, bool client_tcp)
{
	if (f->force_tcp)
		return FWD_TCP;
	if (f->prefer_udp)
		return FWD_UDP;
	return client_tcp ? FWD_TCP : FWD_UDP;
}

static void hc_tick(struct cp_fwd *f, struct fwd_up *u)
{
	uint8_t q[DNS_HDR_LEN + DNS_MAX_NAME + 4];
	struct fwd_question fq = { f->hc_domain.name, f->hc_domain.len, DNS_T_NS, DNS_C_IN };
	int len;

	if (!u->hc_on || u->hc_x != NULL || f->now_ms < u->hc_next_ms)
		return;
	u->hc_next_ms = f->now_ms + f->hc_ms;
	u->hc_id = fwd_random16();
	len = fwd_msg_build_query(q, sizeof(q), u->hc_id, f->hc_domain.name, f->hc_domain.len,
				  DNS_T_NS, f->hc_rd);
	/* The health check uses UDP, TCP with force_tcp, TLS for tls:// (CoreDNS). */
	if (len < 0 || fwd_io_start(f->io, &u->t, f->force_tcp ? FWD_TCP : FWD_UDP, q,
				    (size_t)len, u->hc_id, &fq, f->now_ms, FWD_HC_TIMEOUT_MS,
				    f->expire_ms, hc_done, u, &u->hc_x) != 0) {
		u->hc_x = NULL;
		if (u->fails != UINT32_MAX)
			u->fails++;
		u->hc_failures++;
	}
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void hist_add(struct fwd_hist *h, uint64_t ns)
{
	double s = (double)ns / 1e9, le = 0.00025;

	for (unsigned i = 0; i < FWD_HIST_N; i++, le *= 2) {
		if (s <= le) {
			h->bucket[i]++;
			break;
		}
	}
	h->count++;
	h->sum += s;
}

/* ------------------------------------------------------------------------- */
/* Transactions                                                                */

static void txn_order(struct cp_fwd *f, struct fwd_txn *t)
{
	unsigned n = f->n_up;

	for (unsigned i = 0; i < n; i++)
		t->order[i] = (uint8_t)i;
	t->n = n;
	if (f->policy == FWD_POLICY_ROUND_ROBIN && n > 1) {
		unsigned k = ++f->rr_next % n;

		for (unsigned i = 0; i < n; i++)
			t->order[i] = (uint8_t)((k + i) % n);
	} else if (f->policy == FWD_POLICY_RANDOM && n > 1) {
		/* Fisher-Yates with getrandom() bits. */
		for (unsigned i = n - 1; i > 0; i--) {
			unsigned j = fwd_random_below(i + 1);
			uint8_t tmp = t->order[i];

			t->order[i] = t->order[j];
			t->order[j] = tmp;
		}
	}
}

static void txn_unlink(struct fwd_txn *t)
{
	struct cp_fwd *f = t->f;

	if (t->prev != NULL)
		t->prev->next = t->next;
	else
		f->txns = t->next;
	if (t->next != NULL)
		t->next->prev = t->prev;
	f->inflight--;
}

static void txn_end(struct fwd_txn *t, enum cp_fwd_status st, uint8_t *reply, size_t len)
{
	if (t->x != NULL)
		fwd_io_cancel(t->f->io, t->x);
	txn_unlink(t);
	if (st == CP_FWD_FAIL && t->last != NULL) {
		/* failover: every upstream answered with a listed rcode: return the last one. */
		st = CP_FWD_REPLY;
		reply = t->last;
		len = t->last_len;
	}
	if (st == CP_FWD_FAIL)
		t->f->st.failed++;
	t->cb(t->ctx, st, reply, len);
	free(t->last);
	free(t);
}

static void txn_xchg_done(void *ctx, int err, uint8_t *reply, size_t len);

static int txn_send(struct fwd_txn *t)
{
	struct cp_fwd *f = t->f;
	struct fwd_up *u = &f->up[t->cur];
	uint64_t left = t->deadline_ms > f->now_ms ? t->deadline_ms - f->now_ms : 1;
	enum fwd_proto p = t->tcp ? FWD_TCP : fwd_proto_for(f, t->client_tcp);

	t->attempt_ns = mono_ns();
	return fwd_io_start(f->io, &u->t, p, t->msg, t->len, fwd_random16(), &t->fq, f->now_ms,
			    left < FWD_READ_TIMEOUT_MS ? left : FWD_READ_TIMEOUT_MS, f->expire_ms,
			    txn_xchg_done, t, &t->x);
}

/* After an error of the current attempt: keep going or give up (CoreDNS's `continue`). */
static enum attempt txn_error(struct fwd_txn *t)
{
	struct cp_fwd *f = t->f;

	hc_kick(f, &f->up[t->cur]);
	t->attempts++;
	if (t->fails >= f->n_up)
		return ATT_FAIL;
	return txn_attempt(t);
}

/* Pick the next upstream and start an exchange. Never calls back. */
static enum attempt txn_attempt(struct fwd_txn *t)
{
	struct cp_fwd *f = t->f;

	for (;;) {
		if (f->now_ms >= t->deadline_ms ||
		    (f->max_connect_attempts != 0 && t->attempts >= f->max_connect_attempts))
			return ATT_FAIL;
		if (t->i >= t->n) {
			t->i = 0;
			t->fails = 0;
			if (f->now_ms - t->pass_ms < FWD_PASS_MIN_MS) {
				t->wait_until_ms = t->pass_ms + FWD_PASS_MIN_MS;
				return ATT_WAIT;
			}
			t->pass_ms = f->now_ms;
		}
		t->cur = t->order[t->i++];
		t->tcp = false;
		if (up_down(f, &f->up[t->cur])) {
			if (++t->fails < f->n_up)
				continue;
			/* Every upstream is down: health checking itself is probably broken. */
			f->st.healthcheck_broken++;
			if (f->failfast)
				return ATT_FAIL;
			t->cur = (int)fwd_random_below(f->n_up);
		}
		if (txn_send(t) == 0)
			return ATT_STARTED;
		t->x = NULL;
		hc_kick(f, &f->up[t->cur]);
		t->attempts++;
		if (t->fails >= f->n_up)
			return ATT_FAIL;
	}
}

static void txn_continue(struct fwd_txn *t, enum attempt a)
{
	if (a == ATT_FAIL) {
		txn_end(t, CP_FWD_FAIL, NULL, 0);
		return;
	}
	t->waiting = a == ATT_WAIT;
	t->f->any_waiting |= t->waiting;
}

/* A reply passed the ID/question checks: TC retry, failover, next, or done. */
static void txn_reply(struct fwd_txn *t, uint8_t *reply, size_t len)
{
	struct cp_fwd *f = t->f;
	struct fwd_up *u = &f->up[t->cur];
	uint16_t flags = (uint16_t)(reply[2] << 8 | reply[3]);
	int rcode = flags & DNS_F_RCODE;

	hist_add(&u->dur[rcode], mono_ns() - t->attempt_ns);
	if ((flags & DNS_F_TC) && !t->tcp && fwd_proto_for(f, t->client_tcp) == FWD_UDP &&
	    !u->t.tls) {
		/* Truncated over UDP: ask the same upstream again over TCP. */
		f->st.tcp_retries++;
		t->tcp = true;
		if (txn_send(t) == 0)
			return;
		t->x = NULL;
		txn_continue(t, txn_error(t));
		return;
	}
	fwd_msg_restore(reply, t->client_id, t->fq.name, t->fq.name_len);
	if ((f->failover_mask & (1u << rcode)) && t->fails < f->n_up) {
		uint8_t *copy = malloc(len);

		if (copy != NULL) {
			memcpy(copy, reply, len);
			free(t->last);
			t->last = copy;
			t->last_len = len;
		}
		t->fails++;
		txn_continue(t, txn_attempt(t));
		return;
	}
	free(t->last);
	t->last = NULL;
	txn_end(t, (f->next_mask & (1u << rcode)) ? CP_FWD_NEXT : CP_FWD_REPLY, reply, len);
}

static void txn_xchg_done(void *ctx, int err, uint8_t *reply, size_t len)
{
	struct fwd_txn *t = ctx;

	t->x = NULL;
	if (err == -EPIPE) {
		/* A cached connection the peer had closed: retry at once (CoreDNS). */
		if (txn_send(t) == 0)
			return;
		t->x = NULL;
	}
	if (err != 0) {
		txn_continue(t, txn_error(t));
		return;
	}
	txn_reply(t, reply, len);
}

/* ------------------------------------------------------------------------- */
/* Public                                                                       */

int cp_fwd_query(struct cp_fwd *f, const uint8_t *query, size_t len, const struct dns_query *q,
		 bool client_tcp, cp_fwd_cb cb, void *ctx)
{
	struct fwd_txn *t;

	if (f->max_concurrent != 0 && f->inflight >= f->max_concurrent) {
		f->st.max_concurrent_rejects++;
		return -EBUSY;
	}
	if (f->inflight >= CP_FWD_MAX_INFLIGHT) {
		f->st.inflight_rejects++;
		return -ENOSPC;
	}
	if (len < DNS_HDR_LEN || q->question_end < DNS_HDR_LEN + 5 || f->n_up == 0)
		return -EINVAL;
	t = calloc(1, sizeof(*t) + len);
	if (t == NULL)
		return -ENOMEM;
	memcpy(t->msg, query, len);
	t->len = len;
	t->f = f;
	t->cb = cb;
	t->ctx = ctx;
	t->fq.name = t->msg + DNS_HDR_LEN;
	t->fq.name_len = q->qname_len;
	t->fq.qtype = q->qtype;
	t->fq.qclass = q->qclass;
	t->client_id = q->id;
	t->client_tcp = client_tcp;
	f->now_ms = fwd_now_ms();
	t->deadline_ms = f->now_ms + FWD_DEADLINE_MS;
	t->pass_ms = f->now_ms;
	txn_order(f, t);
	t->next = f->txns;
	if (f->txns != NULL)
		f->txns->prev = t;
	f->txns = t;
	f->inflight++;
	f->st.queries++;
	/* The callback must not run inside this call: what did not start is settled at tick. */
	switch (txn_attempt(t)) {
	case ATT_STARTED:
		break;
	case ATT_FAIL:
		t->fail_now = true;
		/* fall through */
	case ATT_WAIT:
		t->waiting = true;
		f->any_waiting = true;
		break;
	}
	return 0;
}

/* Transactions waiting for their next pass (rare): walked only while some exist. */
static void txn_wake(struct cp_fwd *f, uint64_t now_ms)
{
	if (!f->any_waiting)
		return;
	f->any_waiting = false;
	for (struct fwd_txn *t = f->txns, *nx; t != NULL; t = nx) {
		nx = t->next;
		if (!t->waiting)
			continue;
		if (t->fail_now || now_ms >= t->deadline_ms) {
			txn_end(t, CP_FWD_FAIL, NULL, 0);
		} else if (now_ms >= t->wait_until_ms) {
			t->waiting = false;
			txn_continue(t, txn_attempt(t));
		} else {
			f->any_waiting = true;
		}
	}
}

void cp_fwd_tick(struct cp_fwd *f, uint64_t now_ms)
{
	f->now_ms = now_ms;
	fwd_io_poll(f->io, now_ms);
	for (unsigned i = 0; i < f->n_up; i++)
		hc_tick(f, &f->up[i]);
	txn_wake(f, now_ms);
	if (now_ms - f->last_trim_ms >= 1000) {
		f->last_trim_ms = now_ms;
		for (unsigned i = 0; i < f->n_up; i++)
			fwd_target_trim(&f->up[i].t, now_ms, f->expire_ms);
	}
}

void cp_fwd_free(struct cp_fwd *f)
{
	if (f == NULL)
		return;
	while (f->txns != NULL)
		txn_end(f->txns, CP_FWD_CANCELLED, NULL, 0);
	fwd_io_free(f->io);
	for (unsigned i = 0; i < f->n_up; i++)
		fwd_target_trim(&f->up[i].t, 0, 0);
	fwd_conf_free(f);
}

int cp_fwd_fd(const struct cp_fwd *f)
{
	return fwd_io_fd(f->io);
}

int cp_fwd_match(const struct cp_fwd *f, const uint8_t *qname, size_t len)
{
	if (!fwd_name_in_zone(qname, len, f->from.name, f->from.len))
		return 0;
	/* The FROM name itself is always forwarded (CoreDNS isAllowedDomain). */
	if (fwd_name_eq(qname, len, f->from.name, f->from.len))
		return 1;
	for (unsigned i = 0; i < f->n_except; i++) {
		if (fwd_name_in_zone(qname, len, f->except[i].name, f->except[i].len))
			return 0;
	}
	return 1;
}

int cp_fwd_region(const struct cp_fwd *f, const uint8_t *zone, size_t len)
{
	int r = CP_FWD_REGION_SOME;

	if (!fwd_name_in_zone(zone, len, f->from.name, f->from.len))
		return fwd_name_in_zone(f->from.name, f->from.len, zone, len) ?
		       CP_FWD_REGION_SOME | CP_FWD_REGION_REST : CP_FWD_REGION_REST;
	if (!cp_fwd_match(f, zone, len))
		return CP_FWD_REGION_REST;
	for (unsigned i = 0; i < f->n_except; i++) {
		if (fwd_name_in_zone(f->except[i].name, f->except[i].len, zone, len))
			r |= CP_FWD_REGION_REST;
	}
	return r;
}

const char *cp_fwd_from(const struct cp_fwd *f)
{
	return f->from_txt;
}

unsigned cp_fwd_inflight(const struct cp_fwd *f)
{
	return f->inflight;
}

void cp_fwd_get_stats(const struct cp_fwd *f, struct cp_fwd_stats *s)
{
	const struct fwd_io_stats *io = fwd_io_stats(f->io);

	*s = f->st;
	s->spoofed = io->bad_id + io->bad_question + io->bad_addr + io->malformed;
}

/* ------------------------------------------------------------------------- */
/* Metrics                                                                     */

static void mb_head(struct cp_text *b, const char *name, const char *type, const char *help)
{
	cp_text_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void m_hist(struct cp_text *b, const struct fwd_up *u, int rc, const struct fwd_hist *h)
{
	static const char *name = "coredns_proxy_request_duration_seconds";
	char lbl[160], rcs[16];
	const char *rn = dns_rcode_str(rc);
	uint64_t cum = 0;
	double le = 0.00025;

	snprintf(rcs, sizeof(rcs), "%s", rn != NULL ? rn : "");
	snprintf(lbl, sizeof(lbl), "proxy_name=\"forward\",to=\"%s\",rcode=\"%s\"", u->name, rcs);
	for (unsigned i = 0; i < FWD_HIST_N; i++, le *= 2) {
		cum += h->bucket[i];
		cp_text_printf(b, "%s_bucket{%s,le=\"%g\"} %lu\n", name, lbl, le, (unsigned long)cum);
	}
	cp_text_printf(b, "%s_bucket{%s,le=\"+Inf\"} %lu\n", name, lbl, (unsigned long)h->count);
	cp_text_printf(b, "%s_sum{%s} %.6f\n%s_count{%s} %lu\n", name, lbl, h->sum, name, lbl,
		  (unsigned long)h->count);
}

size_t cp_fwd_metrics(struct cp_fwd *const *f, unsigned n, char *buf, size_t cap)
{
	struct cp_text b = { buf, 0, cap };
	struct cp_fwd_stats s, sum;
	uint64_t drop[4] = { 0, 0, 0, 0 };
	unsigned inflight = 0;

	if (n == 0 || cap == 0)
		return 0;
	memset(&sum, 0, sizeof(sum));
	for (unsigned i = 0; i < n; i++) {
		const struct fwd_io_stats *io = fwd_io_stats(f[i]->io);

		cp_fwd_get_stats(f[i], &s);
		sum.max_concurrent_rejects += s.max_concurrent_rejects;
		sum.healthcheck_broken += s.healthcheck_broken;
		sum.tcp_retries += s.tcp_retries;
		sum.failed += s.failed;
		drop[0] += io->bad_id;
		drop[1] += io->bad_question;
		drop[2] += io->bad_addr;
		drop[3] += io->malformed;
		inflight += f[i]->inflight;
	}
	mb_head(&b, "coredns_forward_max_concurrent_rejects_total", "counter",
		"Counter of the number of queries rejected because the concurrent queries were at maximum.");
	cp_text_printf(&b, "coredns_forward_max_concurrent_rejects_total %lu\n",
		  (unsigned long)sum.max_concurrent_rejects);
	mb_head(&b, "coredns_forward_healthcheck_broken_total", "counter",
		"Counter of the number of complete failures of the healthchecks.");
	cp_text_printf(&b, "coredns_forward_healthcheck_broken_total %lu\n",
		  (unsigned long)sum.healthcheck_broken);
	mb_head(&b, "coredns_proxy_request_duration_seconds", "histogram",
		"Histogram of the time each request took.");
	for (unsigned i = 0; i < n; i++)
		for (unsigned u = 0; u < f[i]->n_up; u++)
			for (int rc = 0; rc < FWD_RCODE_N; rc++)
				if (f[i]->up[u].dur[rc].count != 0)
					m_hist(&b, &f[i]->up[u], rc, &f[i]->up[u].dur[rc]);
	mb_head(&b, "coredns_proxy_healthcheck_failures_total", "counter",
		"Counter of the number of failed healthchecks.");
	for (unsigned i = 0; i < n; i++)
		for (unsigned u = 0; u < f[i]->n_up; u++)
			if (f[i]->up[u].hc_failures != 0)
				cp_text_printf(&b, "coredns_proxy_healthcheck_failures_total{proxy_name="
					  "\"forward\",to=\"%s\"} %lu\n", f[i]->up[u].name,
					  (unsigned long)f[i]->up[u].hc_failures);
	mb_head(&b, "dpdns_forward_dropped_replies_total", "counter",
		"Upstream replies dropped because they did not match the query (possible spoofing).");
	cp_text_printf(&b, "dpdns_forward_dropped_replies_total{reason=\"id\"} %lu\n"
		  "dpdns_forward_dropped_replies_total{reason=\"question\"} %lu\n"
		  "dpdns_forward_dropped_replies_total{reason=\"source\"} %lu\n"
		  "dpdns_forward_dropped_replies_total{reason=\"malformed\"} %lu\n",
		  (unsigned long)drop[0], (unsigned long)drop[1], (unsigned long)drop[2],
		  (unsigned long)drop[3]);
	mb_head(&b, "dpdns_forward_tcp_retries_total", "counter",
		"Truncated UDP replies retried over TCP.");
	cp_text_printf(&b, "dpdns_forward_tcp_retries_total %lu\n", (unsigned long)sum.tcp_retries);
	mb_head(&b, "dpdns_forward_failures_total", "counter",
		"Queries answered SERVFAIL because no upstream replied.");
	cp_text_printf(&b, "dpdns_forward_failures_total %lu\n", (unsigned long)sum.failed);
	mb_head(&b, "dpdns_forward_inflight", "gauge", "Forwarded queries in flight.");
	cp_text_printf(&b, "dpdns_forward_inflight %u\n", inflight);
	return b.len;
}
