/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - helpers of the loadbalance/loop unit tests (see pl_test.h).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "pl_test.h"

uint64_t pl_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int pl_up_open(struct pl_up *u)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);

	u->queries = 0;
	u->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (u->fd < 0 || bind(u->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(u->fd, (struct sockaddr *)&sa, &sl) != 0)
		return -1;
	u->port = ntohs(sa.sin_port);
	return 0;
}

void pl_up_close(struct pl_up *u)
{
	if (u->fd >= 0)
		close(u->fd);
	u->fd = -1;
}

static void up_serve(struct pl_up *u)
{
	static uint8_t q[65536], out[65536];

	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(u->fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
		size_t rl;

		if (n < DNS_HDR_LEN)
			return;
		u->queries++;
		rl = u->handle(u, q, (size_t)n, &from, fl, out, sizeof(out));
		if (rl > 0)
			sendto(u->fd, out, rl, 0, (struct sockaddr *)&from, fl);
	}
}

void pl_run(struct cp_engine *e, struct t_sink *sink, struct pl_up *u, int ms,
	    const struct pl_q *stop)
{
	static struct t_sink none;
	uint64_t end = pl_ms() + (uint64_t)ms;

	if (sink == NULL) {
		if (none.sink.put == NULL)
			t_sink_init(&none);
		sink = &none;
	}
	do {
		struct pollfd p[2] = {
			{ .fd = cp_engine_wake_fd(e), .events = POLLIN },
			{ .fd = u != NULL ? u->fd : -1, .events = POLLIN },
		};

		poll(p, 2, 2);
		if (u != NULL && (p[1].revents & POLLIN))
			up_serve(u);
		if (cp_engine_tick(e, &sink->sink, pl_ms()) == 1)
			cp_engine_sync(e, &sink->sink);
	} while (pl_ms() < end && (stop == NULL || !stop->done));
}

static void q_done(void *req, const uint8_t *resp, size_t len)
{
	struct pl_q *q = req;

	q->done = true;
	q->len = resp != NULL && len <= sizeof(q->buf) ? (int)len : 0;
	if (q->len > 0) {
		memmove(q->buf, resp, (size_t)q->len);
		t_decode(q->buf, (size_t)q->len, &q->r);
	}
}

void pl_ask_start(struct cp_engine *e, const char *name, uint16_t qtype, struct pl_q *q)
{
	struct cp_client c;
	struct sockaddr_in *sin = (struct sockaddr_in *)&c.addr;
	size_t len;
	int n;

	memset(q, 0, sizeof(*q));
	q->len = -1;
	len = t_query(q->buf, sizeof(q->buf), 0x4243, name, qtype, DNS_C_IN, true, 4096);
	memset(&c, 0, sizeof(c));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(40000);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c.addr_len = sizeof(*sin);
	c.local_port = 53;
	c.done = q_done;
	c.req = q;
	n = cp_engine_answer(e, q->buf, len, 4096, &c);
	if (n != CP_ANSWER_DEFERRED)
		q_done(q, n > 0 ? q->buf : NULL, n > 0 ? (size_t)n : 0);
}

int pl_ask(struct cp_engine *e, struct t_sink *sink, struct pl_up *u, const char *name,
	   uint16_t qtype, struct pl_q *q)
{
	pl_ask_start(e, name, qtype, q);
	if (!q->done)
		pl_run(e, sink, u, 5000, q);
	return q->len;
}
