/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - the loop plugin: its probe goes through the block's chain to the upstream; an
 * upstream that sends our queries back to us (here: the test hands every query the
 * forwarder sends it to the engine, as our own listener would get it) makes the engine
 * fatal with CoreDNS's message; an upstream that answers, or never answers, does not, and
 * the probe is sent once. Syntax: no arguments, no block.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "pl_test.h"

/* ------------------------------------------------------------------------- */
/* Upstreams                                                                   */

/* A reflected query waiting for the engine's answer (to go back to the forwarder). */
struct refl {
	int fd;
	struct sockaddr_storage to;
	socklen_t tl;
};

static void refl_done(void *req, const uint8_t *resp, size_t len)
{
	struct refl *r = req;

	if (resp != NULL && len > 0)
		sendto(r->fd, resp, len, 0, (struct sockaddr *)&r->to, r->tl);
	free(r);
}

/* "Forwards to itself": the query arrives at the server as a client's. */
static size_t reflect(struct pl_up *u, const uint8_t *q, size_t len,
		      const struct sockaddr_storage *from, socklen_t fl, uint8_t *out, size_t cap)
{
	struct cp_engine *e = u->ctx;
	struct refl *r = malloc(sizeof(*r));
	struct cp_client c;
	int n;

	if (r == NULL || len > cap)
		return 0;
	r->fd = u->fd;
	r->to = *from;
	r->tl = fl;
	memset(&c, 0, sizeof(c));
	c.addr = *from;
	c.addr_len = fl;
	c.local_port = 53;
	c.done = refl_done;
	c.req = r;
	memcpy(out, q, len);
	n = cp_engine_answer(e, out, len, 4096, &c);
	if (n == CP_ANSWER_DEFERRED)
		return 0;
	free(r);
	return n > 0 ? (size_t)n : 0;
}

/* An ordinary upstream: NXDOMAIN for everything. */
static size_t nxdomain(struct pl_up *u, const uint8_t *q, size_t len,
		       const struct sockaddr_storage *from, socklen_t fl, uint8_t *out, size_t cap)
{
	(void)u;
	(void)from;
	(void)fl;
	if (len > cap)
		return 0;
	memcpy(out, q, len);
	out[2] = (uint8_t)(0x80 | (q[2] & 0x79));
	out[3] = 0x80 | DNS_RCODE_NXDOMAIN;
	return len;
}

static size_t silent(struct pl_up *u, const uint8_t *q, size_t len,
		     const struct sockaddr_storage *from, socklen_t fl, uint8_t *out, size_t cap)
{
	(void)u;
	(void)q;
	(void)len;
	(void)from;
	(void)fl;
	(void)out;
	(void)cap;
	return 0;
}

/* ------------------------------------------------------------------------- */

static struct cp_engine *load_fwd(const char *zone, bool loop, const struct pl_up *u)
{
	char text[512], err[1024];
	struct cp_engine *e;

	snprintf(text, sizeof(text), "%s:53 {\n%s    forward . 127.0.0.1:%u\n}\n", zone,
		 loop ? "    loop\n" : "", u->port);
	e = t_load(text, err, sizeof(err));
	if (e == NULL)
		fprintf(stderr, "load: %s\n", err);
	return e;
}

/* Tick until the engine is fatal or @p ms pass. @return ms it took, or -1 */
static long run_until_fatal(struct cp_engine *e, struct t_sink *s, struct pl_up *u, int ms)
{
	uint64_t t0 = pl_ms();

	while (pl_ms() - t0 < (uint64_t)ms) {
		pl_run(e, s, u, 5, NULL);
		if (cp_engine_fatal(e) != NULL)
			return (long)(pl_ms() - t0);
	}
	return -1;
}

static void test_loop_detected(const char *zone, const char *zone_text)
{
	struct pl_up u = { .fd = -1, .handle = reflect };
	struct cp_engine *e;
	struct t_sink s;
	char want[128];
	long ms;

	CHECK_EQ(pl_up_open(&u), 0);
	e = load_fwd(zone, true, &u);
	CHECK(e != NULL);
	if (e == NULL) {
		pl_up_close(&u);
		return;
	}
	u.ctx = e;
	t_sink_init(&s);
	cp_engine_sync(e, &s.sink);
	CHECK(cp_engine_fatal(e) == NULL);
	ms = run_until_fatal(e, &s, &u, 5000);
	CHECK(ms >= 0 && ms < 3000);
	printf("  zone %s: loop detected after %ld ms, %u queries forwarded\n", zone_text, ms,
	       u.queries);
	CHECK_HAS(cp_engine_fatal(e), "Loop (127.0.0.1:");
	snprintf(want, sizeof(want), " -> :53) detected for zone \"%s\", see https://coredns.io/"
		 "plugins/loop#troubleshooting. Query: \"HINFO ", zone_text);
	CHECK_HAS(cp_engine_fatal(e), want);
	/* The probe itself, then it comes back twice: the second return is the third sight. */
	CHECK_EQ(u.queries, 2);
	/* Once fatal, the probe is answered at once: the loop unwinds. */
	pl_run(e, &s, &u, 300, NULL);
	CHECK_EQ(u.queries, 2);
	t_sink_free(&s);
	cp_engine_free(e);
	pl_up_close(&u);
}

/* A working upstream: one probe, no fatal; the plugin is off after 2 s. */
static void test_no_loop(size_t (*handle)(struct pl_up *, const uint8_t *, size_t,
					  const struct sockaddr_storage *, socklen_t, uint8_t *,
					  size_t), int ms, unsigned want_queries)
{
	struct pl_up u = { .fd = -1, .handle = handle };
	struct cp_engine *e;
	struct t_sink s;

	CHECK_EQ(pl_up_open(&u), 0);
	e = load_fwd(".", true, &u);
	CHECK(e != NULL);
	if (e == NULL) {
		pl_up_close(&u);
		return;
	}
	t_sink_init(&s);
	cp_engine_sync(e, &s.sink);
	CHECK_EQ(run_until_fatal(e, &s, &u, ms), -1);
	CHECK(cp_engine_fatal(e) == NULL);
	if (want_queries > 0)
		CHECK_EQ(u.queries, want_queries);
	t_sink_free(&s);
	cp_engine_free(e);
	pl_up_close(&u);
}

/* Without the plugin nothing is sent, loop or not. */
static void test_without_plugin(void)
{
	struct pl_up u = { .fd = -1, .handle = reflect };
	struct cp_engine *e;
	struct t_sink s;

	CHECK_EQ(pl_up_open(&u), 0);
	e = load_fwd(".", false, &u);
	CHECK(e != NULL);
	if (e == NULL) {
		pl_up_close(&u);
		return;
	}
	u.ctx = e;
	t_sink_init(&s);
	cp_engine_sync(e, &s.sink);
	CHECK_EQ(run_until_fatal(e, &s, &u, 1000), -1);
	CHECK_EQ(u.queries, 0);
	t_sink_free(&s);
	cp_engine_free(e);
	pl_up_close(&u);
}

static void test_syntax(void)
{
	char err[1024];
	struct cp_engine *e;

	e = t_load(".:53 {\n    loop 1\n    forward . 127.0.0.1\n}\n", err, sizeof(err));
	CHECK(e == NULL);
	CHECK_HAS(err, "Corefile:2: loop: wrong argument count");
	cp_engine_free(e);
	e = t_load(".:53 {\n    loop {\n    }\n}\n", err, sizeof(err));
	CHECK(e == NULL);
	CHECK_HAS(err, "Corefile:2: loop: loop takes no block");
	cp_engine_free(e);
	e = t_load(".:53 {\n    loop\n    loop\n}\n", err, sizeof(err));
	CHECK(e == NULL);
	CHECK_HAS(err, "Corefile:3: loop: this plugin can only be used once");
	cp_engine_free(e);
	/* A block of its own answers nothing: SERVFAIL at the end of the chain. */
	e = t_load(".:53 {\n    loop\n}\n", err, sizeof(err));
	CHECK(e != NULL);
	if (e != NULL) {
		struct t_resp r;

		CHECK(t_ask(e, "example.org", DNS_T_A, &r) > 0);
		CHECK_EQ(r.rcode, DNS_RCODE_SERVFAIL);
	}
	cp_engine_free(e);
}

int main(void)
{
	test_syntax();
	test_loop_detected(".", ".");
	test_loop_detected("example.org", "example.org.");
	test_no_loop(nxdomain, 3000, 1);
	/* Nothing comes back: no loop (forward's own retries aside, nothing is counted). */
	test_no_loop(silent, 3000, 0);
	test_without_plugin();
	return t_done("test_loop");
}
