/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - the loadbalance plugin: Corefile syntax and errors; answers the control plane
 * writes are shuffled per response (hosts data, and replies relayed from an upstream,
 * where CNAMEs stay first); values published to the fast path are shuffled per epoch
 * and re-published as epochs pass; `prefer` puts the preferred networks first; without
 * the plugin nothing moves.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "pl_test.h"
#include "plugin.h"

#define N_ADDR 5

static const char hosts_lines[] =
	"        192.0.2.1 multi.example.org\n"
	"        192.0.2.2 multi.example.org\n"
	"        192.0.2.3 multi.example.org\n"
	"        192.0.2.4 multi.example.org\n"
	"        192.0.2.5 multi.example.org\n"
	"        2001:db8::1 multi.example.org\n"
	"        2001:db8::2 multi.example.org\n"
	"        192.0.2.9 single.example.org\n";

static struct cp_engine *load_hosts(const char *lb_line)
{
	char text[2048], err[1024];
	struct cp_engine *e;

	snprintf(text, sizeof(text), "example.org:53 {\n%s    hosts /nonexistent/h11/hosts {\n%s"
		 "    }\n}\n", lb_line, hosts_lines);
	e = t_load(text, err, sizeof(err));
	if (e == NULL)
		fprintf(stderr, "load: %s\n", err);
	return e;
}

/* The answer's records, data joined by spaces. */
static void order_of(const struct t_resp *r, char *out, size_t cap)
{
	size_t o = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < r->an && i < r->n_rr && o < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? " " : "", r->rr[i].data);
}

/* The addresses 192.0.2.1..N in some order, each once? */
static bool is_permutation(const struct t_resp *r, unsigned n)
{
	unsigned seen = 0;

	if (r->an != n)
		return false;
	for (unsigned i = 0; i < n; i++) {
		unsigned last;

		if (sscanf(r->rr[i].data, "192.0.2.%u", &last) != 1 || last < 1 || last > n)
			return false;
		seen |= 1u << last;
	}
	return seen == ((1u << (n + 1)) - 2);
}

/* ------------------------------------------------------------------------- */

static void test_syntax(void)
{
	static const struct {
		const char *line, *err;
	} bad[] = {
		{ "    loadbalance weighted w.txt\n", "Corefile:2: loadbalance: policy 'weighted' is not supported" },
		{ "    loadbalance random\n", "Corefile:2: loadbalance: unknown policy: random" },
		{ "    loadbalance round_robin x\n", "Corefile:2: loadbalance: unknown property for round_robin" },
		{ "    loadbalance {\n        limit_answers 2\n    }\n", "Corefile:3: loadbalance: unknown property 'limit_answers'" },
		{ "    loadbalance {\n        prefer 10.0.0.0\n    }\n", "Corefile:3: loadbalance: invalid CIDR \"10.0.0.0\"" },
		{ "    loadbalance {\n        prefer 10.0.0.0/33\n    }\n", "invalid CIDR \"10.0.0.0/33\"" },
		{ "    loadbalance\n    loadbalance\n", "Corefile:3: loadbalance: this plugin can only be used once" },
	};
	static const char *const good[] = {
		"    loadbalance\n", "    loadbalance round_robin\n",
		"    loadbalance round_robin {\n        prefer 10.0.0.0/8 2001:db8::/32\n        prefer 192.0.2.0/24\n    }\n",
	};
	char text[1024], err[1024];
	struct cp_engine *e;

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "example.org:53 {\n%s}\n", bad[i].line);
		e = t_load(text, err, sizeof(err));
		CHECK(e == NULL);
		CHECK_HAS(err, bad[i].err);
		cp_engine_free(e);
	}
	for (unsigned i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "example.org:53 {\n%s    hosts /nonexistent/h11/h\n}\n",
			 good[i]);
		e = t_load(text, err, sizeof(err));
		CHECK(e != NULL);
		if (e == NULL)
			fprintf(stderr, "%s\n", err);
		cp_engine_free(e);
	}
}

/* Control plane answers: a new random order per response, every address first sometimes. */
static void test_answers_shuffled(void)
{
	struct cp_engine *e = load_hosts("    loadbalance\n");
	char first[N_ADDR + 1] = { 0 }, o0[512], o[512];
	unsigned orders = 0;
	struct t_resp r;

	if (e == NULL) {
		CHECK(0);
		return;
	}
	for (unsigned i = 0; i < 200; i++) {
		unsigned last;

		CHECK(t_ask(e, "Multi.Example.org", DNS_T_A, &r) > 0);
		CHECK_EQ(r.rcode, 0);
		CHECK(is_permutation(&r, N_ADDR));
		CHECK_STR(r.rr[0].owner, "Multi.Example.org."); /* owners echo the question */
		order_of(&r, o, sizeof(o));
		if (i == 0)
			snprintf(o0, sizeof(o0), "%s", o);
		else if (strcmp(o, o0) != 0)
			orders++;
		if (sscanf(r.rr[0].data, "192.0.2.%u", &last) == 1 && last >= 1 && last <= N_ADDR)
			first[last - 1] = 1;
	}
	CHECK(orders > 100);
	for (unsigned i = 0; i < N_ADDR; i++)
		CHECK(first[i]);
	/* AAAA too; a single record stays as it is. */
	CHECK(t_ask(e, "multi.example.org", DNS_T_AAAA, &r) > 0);
	CHECK_EQ(r.an, 2);
	CHECK(t_ask(e, "single.example.org", DNS_T_A, &r) > 0);
	CHECK_EQ(r.an, 1);
	CHECK_STR(r.rr[0].data, "192.0.2.9");
	cp_engine_free(e);
}

/* Without the plugin the order is the file's, always. */
static void test_without_plugin(void)
{
	struct cp_engine *e = load_hosts("");
	struct t_resp r;
	char o[512];

	if (e == NULL) {
		CHECK(0);
		return;
	}
	for (unsigned i = 0; i < 20; i++) {
		CHECK(t_ask(e, "multi.example.org", DNS_T_A, &r) > 0);
		order_of(&r, o, sizeof(o));
		CHECK_STR(o, "192.0.2.1 192.0.2.2 192.0.2.3 192.0.2.4 192.0.2.5");
	}
	cp_engine_free(e);
}

/* `prefer`: addresses of the listed networks first, in the order of the list. */
static void test_prefer(void)
{
	char text[2048], err[1024];
	struct cp_engine *e;
	struct t_resp r;

	snprintf(text, sizeof(text),
		 "example.org:53 {\n    loadbalance round_robin {\n        prefer 198.51.100.7/32\n"
		 "        prefer 203.0.113.0/24\n    }\n    hosts /nonexistent/h11/hosts {\n"
		 "        192.0.2.1 p.example.org\n        203.0.113.1 p.example.org\n"
		 "        192.0.2.2 p.example.org\n        198.51.100.7 p.example.org\n"
		 "        203.0.113.2 p.example.org\n        198.51.100.8 p.example.org\n    }\n}\n");
	e = t_load(text, err, sizeof(err));
	CHECK(e != NULL);
	if (e == NULL)
		return;
	for (unsigned i = 0; i < 30; i++) {
		CHECK(t_ask(e, "p.example.org", DNS_T_A, &r) > 0);
		CHECK_EQ(r.an, 6);
		CHECK_STR(r.rr[0].data, "198.51.100.7");
		CHECK(strncmp(r.rr[1].data, "203.0.113.", 10) == 0);
		CHECK(strncmp(r.rr[2].data, "203.0.113.", 10) == 0);
	}
	cp_engine_free(e);
}

/* Published values: permuted per epoch, re-published as epochs pass. */
static void test_published_rotate(void)
{
	struct cp_engine *e = load_hosts("    loadbalance\n");
	struct t_sink s;
	char prev[512] = "", o[512];
	unsigned changes = 0;
	uint8_t msg[4096];
	const char *why;
	struct t_resp r;
	int n;

	if (e == NULL) {
		CHECK(0);
		return;
	}
	t_sink_init(&s);
	CHECK_EQ(cp_engine_sync(e, &s.sink), 0);
	for (unsigned epoch = 0; epoch < 12; epoch++) {
		/* Past the epoch: the pass re-publishes the name within a few slices. */
		pl_run(e, &s, NULL, epoch == 0 ? 50 : 1150, NULL);
		n = t_fastpath(&s, msg, t_query(msg, sizeof(msg), 7, "multi.example.org", DNS_T_A,
						DNS_C_IN, true, 4096), sizeof(msg), &why);
		CHECK(n > 0);
		CHECK_STR(why, "fastpath-entry");
		CHECK(n > 0 && t_decode(msg, (size_t)n, &r) == 0);
		CHECK(is_permutation(&r, N_ADDR));
		order_of(&r, o, sizeof(o));
		if (epoch > 0 && strcmp(o, prev) != 0)
			changes++;
		snprintf(prev, sizeof(prev), "%s", o);
	}
	/* 11 epochs, each order 1 in 120: some repeats at most. */
	CHECK(changes >= 8);
	/* A single address is published once and stays. */
	n = t_fastpath(&s, msg, t_query(msg, sizeof(msg), 8, "single.example.org", DNS_T_A,
					DNS_C_IN, true, 4096), sizeof(msg), &why);
	CHECK(n > 0 && t_decode(msg, (size_t)n, &r) == 0 && r.an == 1);
	{
		char m[8192];
		size_t ml = cp_engine_metrics(e, m, sizeof(m));

		CHECK(ml > 0);
		CHECK_HAS(m, "dpdns_loadbalance_rotating_names 1\n");
		CHECK_HAS(m, "dpdns_loadbalance_passes_total ");
	}
	printf("  published order changed in %u of 11 epochs\n", changes);
	t_sink_free(&s);
	cp_engine_free(e);
}

/* ------------------------------------------------------------------------- */
/* Relayed answers                                                             */

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * An upstream that answers "A t.example.net x2, CNAME, A x2, TXT" out of CoreDNS's order,
 * with the owners of the A records compressed against the CNAME's target.
 */
static size_t upstream_reply(struct pl_up *u, const uint8_t *q, size_t len,
			     const struct sockaddr_storage *from, socklen_t fl, uint8_t *out,
			     size_t cap)
{
	size_t qend = DNS_HDR_LEN, o, target;
	static const uint8_t tname[] = "\x01t\x07" "example\x03net";

	(void)u;
	(void)from;
	(void)fl;
	while (qend < len && q[qend] != 0)
		qend += 1u + q[qend];
	qend += 5;
	if (qend > len || qend + 200 > cap)
		return 0;
	memcpy(out, q, qend);
	out[2] = (uint8_t)(0x80 | (q[2] & 0x79));
	out[3] = 0x80;
	put16(out + 6, 6);
	put16(out + 8, 0);
	put16(out + 10, 0);
	o = qend;
	/* rec 1: t.example.net A 192.0.2.1, its owner in full: the others point at it */
	target = o;
	memcpy(out + o, tname, sizeof(tname));
	o += sizeof(tname);
	put16(out + o, DNS_T_A); put16(out + o + 2, 1); put16(out + o + 4, 0); put16(out + o + 6, 60);
	put16(out + o + 8, 4);
	memcpy(out + o + 10, "\xc0\x00\x02\x01", 4);
	o += 14;
	/* rec 2: the question's name CNAME -> pointer to t.example.net */
	put16(out + o, 0xc00c); put16(out + o + 2, DNS_T_CNAME); put16(out + o + 4, 1);
	put16(out + o + 6, 0); put16(out + o + 8, 60); put16(out + o + 10, 2);
	put16(out + o + 12, (unsigned)(0xc000 | target));
	o += 14;
	for (unsigned i = 2; i <= 4; i++) {
		put16(out + o, (unsigned)(0xc000 | target)); put16(out + o + 2, DNS_T_A);
		put16(out + o + 4, 1); put16(out + o + 6, 0); put16(out + o + 8, 60);
		put16(out + o + 10, 4);
		out[o + 12] = 192; out[o + 13] = 0; out[o + 14] = 2; out[o + 15] = (uint8_t)i;
		o += 16;
	}
	/* rec 6: a TXT of the target ("rest": after the CNAME, before the addresses) */
	put16(out + o, (unsigned)(0xc000 | target)); put16(out + o + 2, DNS_T_TXT);
	put16(out + o + 4, 1); put16(out + o + 6, 0); put16(out + o + 8, 60);
	put16(out + o + 10, 3);
	memcpy(out + o + 12, "\x02hi", 3);
	o += 15;
	return o;
}

static void test_relayed(void)
{
	struct pl_up u = { .fd = -1, .handle = upstream_reply };
	char text[512], err[1024], o0[4096] = "", o[4096];
	struct cp_engine *e;
	struct t_sink s;
	struct pl_q *q = malloc(sizeof(*q));
	unsigned orders = 0;

	CHECK(q != NULL && pl_up_open(&u) == 0);
	snprintf(text, sizeof(text), ".:53 {\n    loadbalance\n    forward . 127.0.0.1:%u\n}\n",
		 u.port);
	e = t_load(text, err, sizeof(err));
	CHECK(e != NULL);
	if (e == NULL || q == NULL) {
		pl_up_close(&u);
		free(q);
		return;
	}
	t_sink_init(&s);
	cp_engine_sync(e, &s.sink);
	for (unsigned i = 0; i < 40; i++) {
		CHECK(pl_ask(e, &s, &u, "www.Example.com", DNS_T_A, q) > 0);
		CHECK_EQ(q->r.rcode, 0);
		CHECK_EQ(q->r.an, 6);
		if (q->r.an != 6)
			continue;
		/* CoreDNS: CNAME first, then the other types, then the addresses. */
		CHECK_EQ(q->r.rr[0].type, DNS_T_CNAME);
		CHECK_STR(q->r.rr[0].owner, "www.Example.com.");
		CHECK_STR(q->r.rr[0].data, "t.example.net.");
		CHECK_EQ(q->r.rr[1].type, DNS_T_TXT);
		for (unsigned k = 2; k < 6; k++) {
			CHECK_EQ(q->r.rr[k].type, DNS_T_A);
			CHECK_STR(q->r.rr[k].owner, "t.example.net.");
			CHECK_EQ(q->r.rr[k].ttl, 60);
		}
		snprintf(o, sizeof(o), "%s %s %s %s", q->r.rr[2].data, q->r.rr[3].data,
			 q->r.rr[4].data, q->r.rr[5].data);
		if (i == 0)
			snprintf(o0, sizeof(o0), "%s", o);
		else if (strcmp(o, o0) != 0)
			orders++;
	}
	CHECK(orders > 10);
	CHECK(u.queries >= 40);
	t_sink_free(&s);
	cp_engine_free(e);
	pl_up_close(&u);
	free(q);
}

int main(void)
{
	test_syntax();
	test_answers_shuffled();
	test_without_plugin();
	test_prefer();
	test_published_rotate();
	test_relayed();
	return t_done("test_loadbalance");
}
