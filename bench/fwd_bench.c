/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - benchmark of the control plane's forward and cache plugins, in process through
 * cp_engine_answer()/cp_engine_tick() the way the runtime drives them.
 *
 *   fwd_bench UPSTREAM_IP:PORT [SECONDS] [INFLIGHT]
 *
 * The upstream should be a local authoritative server for example.test, e.g. nsd as in
 * tests/unit/forward (loopback only) with `rrl-ratelimit: 0` (nsd's default response rate
 * limiting otherwise truncates and drops most of the load). FWD_BENCH_METRICS=1 prints the
 * engine's metrics after each forwarding scenario. Scenarios:
 *   cache-hit   one cached name asked again and again (answers built from the copy)
 *   forward     INFLIGHT distinct names kept in flight, no cache: queries/s and latency
 *   fill        the same with `cache`: every reply converted and published to the table
 * Numbers are for comparison between builds on one machine, never assertions.
 */
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dns.h"
#include "engine.h"

#define MAX_INFLIGHT 1024

struct slot {
	uint64_t t0_ns;
	int busy;
};

static struct slot slots[MAX_INFLIGHT];
static uint64_t lat_ns[1 << 20];
static unsigned n_lat;
static uint64_t done_count;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int sink_put(void *ctx, const struct dns_key *k, uint32_t h, const struct dns_answer *a,
		    size_t size)
{
	(void)ctx;
	(void)k;
	(void)h;
	(void)a;
	(void)size;
	return 0;
}

static int sink_del(void *ctx, const struct dns_key *k, uint32_t h)
{
	(void)ctx;
	(void)k;
	(void)h;
	return 0;
}

static int sink_zones(void *ctx, const void *z, unsigned n)
{
	(void)ctx;
	(void)z;
	(void)n;
	return 0;
}

static const struct cp_sink sink = { sink_put, sink_del, sink_zones, NULL };

static struct cp_engine *load(const char *upstream, int cache)
{
	char path[] = "/tmp/dpdns-fwdbench.XXXXXX", err[512];
	struct cp_engine *e;
	int fd = mkstemp(path);
	FILE *f;

	if (fd < 0)
		return NULL;
	f = fdopen(fd, "w");
	fprintf(f, ".:53 {\n%s  forward . %s {\n    max_concurrent %d\n  }\n}\n",
		cache ? "  cache 30\n" : "", upstream, MAX_INFLIGHT * 2);
	fclose(f);
	e = cp_engine_load(path, err, sizeof(err));
	unlink(path);
	if (e == NULL)
		fprintf(stderr, "fwd_bench: %s\n", err);
	return e;
}

static size_t query(uint8_t *m, uint16_t id, const char *name, uint16_t qtype)
{
	int n;

	memset(m, 0, DNS_HDR_LEN);
	m[0] = (uint8_t)(id >> 8);
	m[1] = (uint8_t)id;
	m[2] = 0x01; /* RD */
	m[5] = 1;
	n = dns_name_from_str(m + DNS_HDR_LEN, DNS_MAX_NAME, name);
	m[DNS_HDR_LEN + n] = (uint8_t)(qtype >> 8);
	m[DNS_HDR_LEN + n + 1] = (uint8_t)qtype;
	m[DNS_HDR_LEN + n + 2] = 0;
	m[DNS_HDR_LEN + n + 3] = DNS_C_IN;
	return DNS_HDR_LEN + (size_t)n + 4;
}

static void done_cb(void *req, const uint8_t *resp, size_t len)
{
	struct slot *s = req;

	(void)resp;
	(void)len;
	if (n_lat < sizeof(lat_ns) / sizeof(lat_ns[0]))
		lat_ns[n_lat++] = now_ns() - s->t0_ns;
	s->busy = 0;
	done_count++;
}

static int ask(struct cp_engine *e, struct slot *s, const char *name)
{
	static uint8_t m[512];
	struct cp_client c;
	size_t len = query(m, (uint16_t)rand(), name, DNS_T_A);
	int n;

	memset(&c, 0, sizeof(c));
	c.addr.ss_family = AF_INET;
	c.addr_len = sizeof(struct sockaddr_in);
	c.local_port = 53;
	c.done = done_cb;
	c.req = s;
	s->t0_ns = now_ns();
	s->busy = 1;
	n = cp_engine_answer(e, m, len, sizeof(m), &c);
	if (n != CP_ANSWER_DEFERRED)
		done_cb(s, m, n > 0 ? (size_t)n : 0);
	return n;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *what, uint64_t t_ns)
{
	qsort(lat_ns, n_lat, sizeof(lat_ns[0]), cmp_u64);
	printf("%-10s %10.0f queries/s  latency p50 %7.1f us  p99 %7.1f us  (%lu answers)\n",
	       what, (double)done_count * 1e9 / (double)t_ns,
	       n_lat ? (double)lat_ns[n_lat / 2] / 1e3 : 0.0,
	       n_lat ? (double)lat_ns[n_lat * 99 / 100] / 1e3 : 0.0, (unsigned long)done_count);
}

static void run_forward(const char *upstream, int cache, unsigned secs, unsigned inflight,
			const char *label)
{
	struct cp_engine *e = load(upstream, cache);
	uint64_t t0, end, seq = 0;
	char name[64];

	if (e == NULL)
		exit(1);
	n_lat = 0;
	done_count = 0;
	t0 = now_ns();
	end = t0 + (uint64_t)secs * 1000000000u;
	while (now_ns() < end) {
		struct pollfd p = { .fd = cp_engine_wake_fd(e), .events = POLLIN };

		for (unsigned i = 0; i < inflight; i++) {
			if (slots[i].busy)
				continue;
			snprintf(name, sizeof(name), "q%lu.example.test", (unsigned long)seq++);
			ask(e, &slots[i], name);
		}
		poll(&p, 1, 1);
		cp_engine_tick(e, &sink, now_ns() / 1000000u);
	}
	report(label, now_ns() - t0);
	if (getenv("FWD_BENCH_METRICS") != NULL) {
		static char buf[1 << 20];
		size_t n = cp_engine_metrics(e, buf, sizeof(buf) - 1);

		fwrite(buf, 1, n, stdout);
	}
	cp_engine_free(e);
	memset(slots, 0, sizeof(slots));
}

static void run_cache_hit(const char *upstream, unsigned secs)
{
	struct cp_engine *e = load(upstream, 1);
	uint64_t t0, end;

	if (e == NULL)
		exit(1);
	ask(e, &slots[0], "www.example.test");
	for (int i = 0; i < 2000 && slots[0].busy; i++) {
		usleep(1000);
		cp_engine_tick(e, &sink, now_ns() / 1000000u);
	}
	n_lat = 0;
	done_count = 0;
	t0 = now_ns();
	end = t0 + (uint64_t)secs * 1000000000u;
	while (now_ns() < end) {
		for (int i = 0; i < 1000; i++)
			ask(e, &slots[0], "www.example.test");
	}
	report("cache-hit", now_ns() - t0);
	cp_engine_free(e);
}

int main(int argc, char **argv)
{
	unsigned secs = argc > 2 ? (unsigned)atoi(argv[2]) : 3;
	unsigned inflight = argc > 3 ? (unsigned)atoi(argv[3]) : 64;

	if (argc < 2 || secs == 0 || inflight == 0 || inflight > MAX_INFLIGHT) {
		fprintf(stderr, "usage: fwd_bench UPSTREAM_IP:PORT [SECONDS] [INFLIGHT<=%d]\n",
			MAX_INFLIGHT);
		return 2;
	}
	run_cache_hit(argv[1], secs);
	run_forward(argv[1], 0, secs, inflight, "forward");
	run_forward(argv[1], 1, secs, inflight, "fill");
	return 0;
}
