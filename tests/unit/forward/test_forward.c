/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - the forward plugin in the engine against a real upstream (nsd on 127.0.0.1,
 * started by the test) and fake upstreams (forked UDP responders on 127.0.0.x):
 * asynchronous answers, ID and question case, TCP retry on TC=1, TCP clients, except,
 * max_concurrent, spoofed replies, failover, next, dead upstreams, DNS over TLS, and the
 * directive's errors. Exits 77 (skip) when nsd is not installed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fwd_engine.h"

static struct ft_nsd nsd;

static void corefile(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void corefile(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
}

static bool has_a(const struct qres *r, const char *addr)
{
	struct in_addr a;

	inet_pton(AF_INET, addr, &a);
	for (unsigned i = 0; i < r->p.n; i++) {
		if (r->p.rr[i].type == DNS_T_A && r->p.rr[i].rdlen == 4 &&
		    memcmp(r->p.rr[i].rdata, &a, 4) == 0)
			return true;
	}
	return false;
}

static void test_basic(void)
{
	char cf[512];
	struct drv d;
	struct qres r;
	struct qopt tcp = { .tcp = true };

	corefile(cf, sizeof(cf), ".:53 {\n  forward . %s:%u\n}\n", nsd.addr, nsd.port);
	CHECK_EQ(drv_load(&d, cf), 0);
	CHECK_EQ(drv_query(&d, "wWw.ExAmple.TEST", DNS_T_A, NULL, &r), DNS_RCODE_NOERROR);
	CHECK(r.deferred);
	CHECK(has_a(&r, "192.0.2.10"));
	CHECK(strcmp(r.p.qname, "wWw.ExAmple.TEST.") == 0);
	CHECK(r.p.flags & DNS_F_QR);
	CHECK(r.p.flags & DNS_F_RD);
	/* Answer owners compressed to the question carry the client's case. */
	CHECK(strcmp(r.p.rr[0].owner, "wWw.ExAmple.TEST.") == 0);
	CHECK_EQ(drv_query(&d, "nx.example.test", DNS_T_A, NULL, &r), DNS_RCODE_NXDOMAIN);
	CHECK(r.p.ns == 1 && r.p.rr[0].type == DNS_T_SOA);
	CHECK_EQ(drv_query(&d, "www.example.test", DNS_T_TXT, NULL, &r), DNS_RCODE_NOERROR);
	CHECK_EQ(r.p.an, 0);
	CHECK_EQ(drv_query(&d, "alias.example.test", DNS_T_A, &tcp, &r), DNS_RCODE_NOERROR);
	CHECK_EQ(r.p.an, 2);
	CHECK(has_a(&r, "192.0.2.10"));
	CHECK_EQ(drv_query(&d, "example.test", DNS_T_MX, NULL, &r), DNS_RCODE_NOERROR);
	CHECK(r.p.an == 1 && strcmp(r.p.rr[0].target, "mail.example.test.") == 0);
	CHECK(drv_metric(&d, "coredns_proxy_request_duration_seconds_count{proxy_name=\"forward\"") != 0);
	drv_free(&d);
}

static void test_truncation(void)
{
	char cf[512], m[128];
	struct drv d;
	struct qres r;
	struct qopt big = { .edns = true, .edns_size = 4096 };

	corefile(cf, sizeof(cf), ".:53 {\n  forward . %s:%u\n}\n", nsd.addr, nsd.port);
	CHECK_EQ(drv_load(&d, cf), 0);
	/* nsd truncates over UDP (the query has no room): retried over TCP, all 30. */
	CHECK_EQ(drv_query(&d, "big.example.test", DNS_T_TXT, &big, &r), DNS_RCODE_NOERROR);
	CHECK_EQ(r.p.an, 30);
	CHECK(!(r.p.flags & DNS_F_TC));
	CHECK_EQ(drv_metric(&d, "dpdns_forward_tcp_retries_total"), 1);
	/* A client without EDNS gets TC=1 with its question (and retries over TCP). */
	CHECK_EQ(drv_query(&d, "Big.example.test", DNS_T_TXT, NULL, &r), DNS_RCODE_NOERROR);
	CHECK(r.p.flags & DNS_F_TC);
	CHECK_EQ(r.p.an, 0);
	CHECK(r.len <= 512);
	CHECK(strcmp(r.p.qname, "Big.example.test.") == 0);
	snprintf(m, sizeof(m), "dpdns_forward_dropped_replies_total{reason=\"id\"}");
	CHECK_EQ(drv_metric(&d, m), 0);
	drv_free(&d);
}

static void test_except_and_chain_end(void)
{
	char cf[512];
	struct drv d;
	struct qres r;

	corefile(cf, sizeof(cf), ".:53 {\n  forward . %s:%u {\n    except example.test\n  }\n}\n",
		 nsd.addr, nsd.port);
	CHECK_EQ(drv_load(&d, cf), 0);
	/* Not forwarded: the end of the chain answers SERVFAIL at once. */
	CHECK_EQ(drv_query(&d, "www.example.test", DNS_T_A, NULL, &r), DNS_RCODE_SERVFAIL);
	CHECK(!r.deferred);
	/* Forwarded: nsd is not authoritative for it and refuses. */
	CHECK_EQ(drv_query(&d, "www.other.test", DNS_T_A, NULL, &r), DNS_RCODE_REFUSED);
	CHECK(r.deferred);
	drv_free(&d);
}

static void test_max_concurrent(void)
{
	char cf[512];
	struct ft_fake_srv slow;
	struct drv d;
	static struct qres r[3];

	CHECK_EQ(ft_fake_start(&slow, "127.0.0.2", FT_FAKE_SLOW), 0);
	corefile(cf, sizeof(cf), ".:53 {\n  forward . %s:%u {\n    max_concurrent 2\n  }\n}\n",
		 slow.addr, slow.port);
	CHECK_EQ(drv_load(&d, cf), 0);
	for (int i = 0; i < 3; i++)
		drv_query_start(&d, "q.example.test", DNS_T_A, NULL, &r[i]);
	CHECK(r[0].deferred && r[1].deferred);
	CHECK(!r[2].deferred);
	CHECK_EQ(r[2].rcode, DNS_RCODE_REFUSED);
	CHECK_EQ(drv_metric(&d, "coredns_forward_max_concurrent_rejects_total"), 1);
	drv_run(&d, 1500);
	CHECK(r[0].rcode == DNS_RCODE_NOERROR && has_a(&r[0], "192.0.2.98"));
	CHECK(r[1].rcode == DNS_RCODE_NOERROR && has_a(&r[1], "192.0.2.98"));
	drv_free(&d);
	ft_fake_stop(&slow);
}

static void test_spoof(void)
{
	char cf[512];
	struct ft_fake_srv f;
	struct drv d;
	struct qres r;

	CHECK_EQ(ft_fake_start(&f, "127.0.0.3", FT_FAKE_SPOOF), 0);
	corefile(cf, sizeof(cf), ".:53 {\n  forward . %s:%u\n}\n", f.addr, f.port);
	CHECK_EQ(drv_load(&d, cf), 0);
	CHECK_EQ(drv_query(&d, "spoof.example.test", DNS_T_A, NULL, &r), DNS_RCODE_NOERROR);
	CHECK(has_a(&r, "192.0.2.99"));
	CHECK_EQ(drv_metric(&d, "dpdns_forward_dropped_replies_total{reason=\"id\"}"), 1);
	CHECK_EQ(drv_metric(&d, "dpdns_forward_dropped_replies_total{reason=\"question\"}"), 1);
	drv_free(&d);
	ft_fake_stop(&f);
}

static void test_failover_and_next(void)
{
	char cf[1024];
	struct ft_fake_srv sf, nx;
	struct drv d;
	struct qres r;

	CHECK_EQ(ft_fake_start(&sf, "127.0.0.4", FT_FAKE_SERVFAIL), 0);
	CHECK_EQ(ft_fake_start(&nx, "127.0.0.5", FT_FAKE_NXDOMAIN), 0);
	/* Without failover the upstream's SERVFAIL is the answer. */
	corefile(cf, sizeof(cf), ".:53 {\n  forward . %s:%u %s:%u {\n    policy sequential\n  }\n}\n",
		 sf.addr, sf.port, nsd.addr, nsd.port);
	CHECK_EQ(drv_load(&d, cf), 0);
	CHECK_EQ(drv_query(&d, "www.example.test", DNS_T_A, NULL, &r), DNS_RCODE_SERVFAIL);
	drv_free(&d);
	corefile(cf, sizeof(cf), ".:53 {\n  forward . %s:%u %s:%u {\n    policy sequential\n"
		 "    failover SERVFAIL REFUSED\n  }\n}\n", sf.addr, sf.port, nsd.addr, nsd.port);
	CHECK_EQ(drv_load(&d, cf), 0);
	CHECK_EQ(drv_query(&d, "www.example.test", DNS_T_A, NULL, &r), DNS_RCODE_NOERROR);
	CHECK(has_a(&r, "192.0.2.10"));
	drv_free(&d);
	/* next NXDOMAIN: the second forward directive of the block takes over. */
	corefile(cf, sizeof(cf), ".:53 {\n  forward . %s:%u {\n    next NXDOMAIN\n  }\n"
		 "  forward . %s:%u\n}\n", nx.addr, nx.port, nsd.addr, nsd.port);
	CHECK_EQ(drv_load(&d, cf), 0);
	CHECK_EQ(drv_query(&d, "www.example.test", DNS_T_A, NULL, &r), DNS_RCODE_NOERROR);
	CHECK(has_a(&r, "192.0.2.10"));
	drv_free(&d);
	/* The last forward of a block ignores next. */
	corefile(cf, sizeof(cf), ".:53 {\n  forward . %s:%u {\n    next NXDOMAIN\n  }\n}\n",
		 nx.addr, nx.port);
	CHECK_EQ(drv_load(&d, cf), 0);
	CHECK_EQ(drv_query(&d, "www.example.test", DNS_T_A, NULL, &r), DNS_RCODE_NXDOMAIN);
	drv_free(&d);
	ft_fake_stop(&sf);
	ft_fake_stop(&nx);
}

/* Nothing listens on the upstream: SERVFAIL within CoreDNS's 5 s deadline, health checks
 * mark it down, and failfast_all_unhealthy_upstreams then fails at once. */
static void test_dead_upstream(void)
{
	char cf[512];
	struct drv d;
	struct qres r;
	uint16_t port = ft_free_port("127.0.0.6");

	corefile(cf, sizeof(cf), ".:53 {\n  forward . 127.0.0.6:%u {\n"
		 "    failfast_all_unhealthy_upstreams\n    health_check 100ms\n  }\n}\n", port);
	CHECK_EQ(drv_load(&d, cf), 0);
	CHECK_EQ(drv_query(&d, "www.example.test", DNS_T_A, NULL, &r), DNS_RCODE_SERVFAIL);
	CHECK(r.deferred);
	CHECK(r.ms < 5600);
	drv_run(&d, 500);
	CHECK_EQ(drv_query(&d, "www.example.test", DNS_T_A, NULL, &r), DNS_RCODE_SERVFAIL);
	CHECK(r.ms < 200);
	CHECK(drv_metric(&d, "coredns_forward_healthcheck_broken_total") >= 1);
	CHECK(drv_metric(&d, "coredns_proxy_healthcheck_failures_total{proxy_name=\"forward\","
			 "to=\"127.0.0.6:" ) != 0);
	drv_free(&d);
}

static void test_no_done(void)
{
	char cf[512];
	struct drv d;
	uint8_t msg[512];
	struct tmsg q;
	int n;

	corefile(cf, sizeof(cf), ".:53 {\n  forward . %s:%u\n}\n", nsd.addr, nsd.port);
	CHECK_EQ(drv_load(&d, cf), 0);
	tm_query(&q, 7, "www.example.test", DNS_T_A);
	memcpy(msg, q.b, q.len);
	/* A caller that cannot wait (no client, no done): SERVFAIL right away. */
	n = cp_engine_answer(d.e, msg, q.len, sizeof(msg), NULL);
	CHECK(n >= DNS_HDR_LEN);
	CHECK_EQ(msg[3] & 0xf, DNS_RCODE_SERVFAIL);
	drv_free(&d);
}

/* Run @p fn with stdout going to a file; @return what it printed (malloc'd) or NULL. */
static char *capture_stdout(void (*fn)(void *arg), void *arg)
{
	char path[] = "/tmp/dpdns-fwdtest-log.XXXXXX";
	int fd = mkstemp(path), saved;
	char *out = NULL;
	FILE *f;
	long n;

	if (fd < 0)
		return NULL;
	fflush(stdout);
	saved = dup(1);
	dup2(fd, 1);
	close(fd);
	fn(arg);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	f = fopen(path, "r");
	if (f != NULL && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    (out = calloc(1, (size_t)n + 1)) != NULL) {
		rewind(f);
		if (fread(out, 1, (size_t)n, f) != (size_t)n)
			out[0] = '\0';
	}
	if (f != NULL)
		fclose(f);
	unlink(path);
	return out;
}

struct log_run {
	struct drv *d;
	struct qres *r;
	int rcode;
};

static void log_query(void *arg)
{
	struct log_run *lr = arg;

	lr->rcode = drv_query(lr->d, "Logged.Example.TEST", DNS_T_A, NULL, lr->r);
}

struct done_count {
	unsigned calls;
	size_t len;
	bool null_resp;
};

static void count_done(void *req, const uint8_t *resp, size_t len)
{
	struct done_count *c = req;

	c->calls++;
	c->len = len;
	c->null_resp = resp == NULL;
}

/* Freeing the engine cancels what it still waits for: done(NULL, 0), once, not logged. */
static void log_cancel(void *arg)
{
	struct drv *d = arg;
	struct done_count cnt = { 0 };
	struct cp_client c;
	struct sockaddr_in *sa = (struct sockaddr_in *)&c.addr;
	struct tmsg q;
	uint8_t msg[512];

	memset(&c, 0, sizeof(c));
	sa->sin_family = AF_INET;
	c.addr_len = sizeof(*sa);
	c.local_port = 53;
	c.done = count_done;
	c.req = &cnt;
	tm_query(&q, 9, "cancelled.example.test", DNS_T_A);
	memcpy(msg, q.b, q.len);
	CHECK_EQ(cp_engine_answer(d->e, msg, q.len, sizeof(msg), &c), CP_ANSWER_DEFERRED);
	/* The runtime reuses its buffer at once: the engine and plugins have their copy. */
	memset(msg, 0xff, sizeof(msg));
	drv_run(d, 50);
	CHECK_EQ(cnt.calls, 0);
	drv_free(d);
	CHECK_EQ(cnt.calls, 1);
	CHECK(cnt.null_resp && cnt.len == 0);
}

static void scribble_done(void *req, const uint8_t *resp, size_t len)
{
	struct qres *r = req;

	r->len = resp != NULL && len < sizeof(r->raw) ? len : 0;
	if (r->len > 0)
		memcpy(r->raw, resp, r->len);
	r->rcode = r->len >= DNS_HDR_LEN ? (r->raw[3] & 0xf) : -2;
	if (r->len > 0 && tp_parse(r->raw, r->len, &r->p) != 0)
		r->rcode = -3;
}

/* The runtime reuses its query buffer as soon as cp_engine_answer returns: a deferred
 * answer comes from the copies the engine and the forwarder made. */
static void scribble_query(void *arg)
{
	struct drv *d = arg;
	static struct qres r;
	struct tmsg q;
	uint8_t msg[512];
	struct cp_client c;
	struct sockaddr_in *sa = (struct sockaddr_in *)&c.addr;
	int n;

	memset(&c, 0, sizeof(c));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(40001);
	inet_pton(AF_INET, "127.0.0.1", &sa->sin_addr);
	c.addr_len = sizeof(*sa);
	c.local_port = 53;
	c.done = scribble_done;
	c.req = &r;
	memset(&r, 0, sizeof(r));
	r.rcode = -1;
	tm_query(&q, 0x4242, "Scribble.Example.TEST", DNS_T_A);
	memcpy(msg, q.b, q.len);
	n = cp_engine_answer(d->e, msg, q.len, sizeof(msg), &c);
	CHECK_EQ(n, CP_ANSWER_DEFERRED);
	memset(msg, 0xff, sizeof(msg));
	for (int i = 0; i < 400 && r.rcode == -1; i++)
		drv_run(d, 5);
	CHECK_EQ(r.rcode, DNS_RCODE_NOERROR);
	CHECK_EQ(r.p.id, 0x4242);
	CHECK(strcmp(r.p.qname, "Scribble.Example.TEST.") == 0);
	CHECK(has_a(&r, "192.0.2.98"));
}

/* The log plugin sees forwarded answers (delivered later through done) like any other. */
static void test_log_forwarded(void)
{
	char cf[512], *out, *p;
	struct ft_fake_srv slow, silent;
	struct drv d;
	struct qres r;
	struct log_run lr = { &d, &r, -1 };

	CHECK_EQ(ft_fake_start(&slow, "127.0.0.7", FT_FAKE_SLOW), 0);
	CHECK_EQ(ft_fake_start(&silent, "127.0.0.8", FT_FAKE_SILENT), 0);
	corefile(cf, sizeof(cf), ".:53 {\n  log\n  forward . %s:%u\n}\n", slow.addr, slow.port);
	CHECK_EQ(drv_load(&d, cf), 0);
	out = capture_stdout(log_query, &lr);
	CHECK_EQ(lr.rcode, DNS_RCODE_NOERROR);
	CHECK(r.deferred && has_a(&r, "192.0.2.98"));
	CHECK(out != NULL);
	p = out != NULL ? strstr(out, "\"A IN logged.example.test. udp ") : NULL;
	CHECK(p != NULL);
	CHECK(out != NULL && strstr(out, "[INFO] 127.0.0.1:40000 - ") == out);
	CHECK(p != NULL && strstr(p, "\" NOERROR qr,rd,ra ") != NULL);
	/* The duration runs from the query: the fake answers after 300 ms. */
	p = out != NULL ? strrchr(out, ' ') : NULL;
	CHECK(p != NULL && strtod(p + 1, NULL) >= 0.29);
	free(out);
	out = capture_stdout(scribble_query, &d);
	CHECK(out != NULL && strstr(out, "[INFO] 127.0.0.1:40001 - 16962 \"A IN "
				    "scribble.example.test. udp ") != NULL);
	free(out);
	drv_free(&d);

	corefile(cf, sizeof(cf), ".:53 {\n  log\n  forward . %s:%u\n}\n", silent.addr,
		 silent.port);
	CHECK_EQ(drv_load(&d, cf), 0);
	out = capture_stdout(log_cancel, &d);
	CHECK(out != NULL && out[0] == '\0');
	free(out);
	ft_fake_stop(&slow);
	ft_fake_stop(&silent);
}

static int write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static void expect_error(const char *cf, const char *what)
{
	struct drv d;

	if (drv_load(&d, cf) == 0) {
		fprintf(stderr, "loaded, expected error '%s':\n%s", what, cf);
		CHECK(0);
		drv_free(&d);
		return;
	}
	if (strstr(d.err, what) == NULL || strstr(d.err, "fwdtest-corefile") == NULL ||
	    strstr(d.err, ":3") == NULL) {
		fprintf(stderr, "error '%s' does not name file:3 and '%s'\n", d.err, what);
		CHECK(0);
	}
	unlink(d.path);
}

static void test_config(void)
{
	char cf[2048], path[64], text[512];
	struct drv d;
	size_t o;

	expect_error(".:53 {\n  forward . 127.0.0.1 {\n    bogus_option 1\n  }\n}\n", "bogus_option");
	expect_error(".:53 {\n  forward . 127.0.0.1 {\n    policy fastest\n  }\n}\n", "fastest");
	expect_error(".:53 {\n  forward . 127.0.0.1 {\n    max_fails x\n  }\n}\n", "max_fails");
	expect_error(".:53 {\n  forward . 127.0.0.1 {\n    health_check 1s bogus\n  }\n}\n", "bogus");
	expect_error(".:53 {\n  forward . 127.0.0.1 {\n    next BOGUS\n  }\n}\n", "BOGUS");
	expect_error(".:53 {\n  forward . 127.0.0.1 {\n    failover NOERROR\n  }\n}\n", "NoError");
	expect_error(".:53 {\n  forward . 127.0.0.1 {\n    force_tcp yes\n  }\n}\n", "force_tcp");
	expect_error(".:53 {\n\n  forward . https://127.0.0.1\n}\n", "not supported");
	expect_error(".:53 {\n\n  forward . /nonexistent/resolv.conf\n}\n", "not an IP address or file");
	o = (size_t)snprintf(cf, sizeof(cf), ".:53 {\n\n  forward .");
	for (int i = 1; i <= 16; i++)
		o += (size_t)snprintf(cf + o, sizeof(cf) - o, " 127.0.0.%d", i);
	snprintf(cf + o, sizeof(cf) - o, "\n}\n");
	expect_error(cf, "more than 15");
	/* A resolv.conf-style file: its nameserver lines (written here, loopback only). */
	snprintf(path, sizeof(path), "/tmp/dpdns-fwdtest-resolv.%d", (int)getpid());
	snprintf(text, sizeof(text), "# test\nsearch example.test\nnameserver 127.0.0.7\n"
		 "nameserver 127.0.0.8\noptions ndots:5\n");
	CHECK_EQ(write_text(path, text), 0);
	snprintf(cf, sizeof(cf), ".:53 {\n  forward . %s {\n    max_concurrent 1000\n"
		 "    expire 10s\n    max_fails 2\n    health_check 0.5s no_rec\n"
		 "    policy round_robin\n    prefer_udp\n  }\n}\n", path);
	CHECK_EQ(drv_load(&d, cf), 0);
	if (d.e != NULL)
		drv_free(&d);
	else
		fprintf(stderr, "resolv.conf: %s\n", d.err);
	CHECK_EQ(write_text(path, "search example.test\n"), 0);
	snprintf(cf, sizeof(cf), ".:53 {\n\n  forward . %s\n}\n", path);
	expect_error(cf, "no nameservers");
	unlink(path);
}

/* DNS over TLS against nsd's TLS port, with a certificate made for the test. */
static void test_tls(void)
{
	char dir[64], cmd[1024], conf[1024], cf[1024];
	struct ft_nsd tn;
	struct drv d;
	struct qres r;
	pid_t pid;

	if (access("/usr/bin/openssl", X_OK) != 0) {
		printf("test_tls: skipped (no openssl command)\n");
		return;
	}
	snprintf(dir, sizeof(dir), "%s", nsd.dir);
	snprintf(cmd, sizeof(cmd), "/usr/bin/openssl req -x509 -newkey rsa:2048 -nodes -keyout "
		 "%s/tls.key -out %s/tls.pem -days 2 -subj /CN=dpdns.test -addext "
		 "subjectAltName=DNS:dpdns.test,IP:127.0.0.1 >/dev/null 2>&1", dir, dir);
	CHECK_EQ(system(cmd), 0);
	/* A second nsd on the same zone file with a TLS port. */
	memset(&tn, 0, sizeof(tn));
	tn.port = ft_free_port("127.0.0.1");
	snprintf(conf, sizeof(conf), "server:\n  ip-address: 127.0.0.1@%u\n  tls-port: %u\n"
		 "  tls-service-key: \"%s/tls.key\"\n  tls-service-pem: \"%s/tls.pem\"\n"
		 "  username: \"\"\n  chroot: \"\"\n  zonesdir: \"%s\"\n  pidfile: \"\"\n"
		 "  database: \"\"\n  xfrdfile: \"%s/xfrd2.state\"\n  zonelistfile: \"%s/zl2\"\n"
		 "  xfrdir: \"%s\"\n  server-count: 1\nremote-control:\n  control-enable: no\n"
		 "zone:\n  name: example.test\n  zonefile: example.test.zone\n",
		 tn.port, tn.port, dir, dir, dir, dir, dir, dir);
	snprintf(cmd, sizeof(cmd), "%s/nsd-tls.conf", dir);
	CHECK_EQ(write_text(cmd, conf), 0);
	pid = fork();
	if (pid == 0) {
		freopen("/dev/null", "w", stderr);
		execl("/usr/sbin/nsd", "nsd", "-d", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	usleep(800 * 1000);
	snprintf(cf, sizeof(cf), ".:53 {\n  forward . tls://127.0.0.1:%u {\n    tls %s/tls.pem\n"
		 "    tls_servername dpdns.test\n  }\n}\n", tn.port, dir);
	CHECK_EQ(drv_load(&d, cf), 0);
	CHECK_EQ(drv_query(&d, "www.example.test", DNS_T_A, NULL, &r), DNS_RCODE_NOERROR);
	CHECK(has_a(&r, "192.0.2.10"));
	CHECK_EQ(drv_query(&d, "alias.example.test", DNS_T_A, NULL, &r), DNS_RCODE_NOERROR);
	drv_free(&d);
	/* No tls_servername: the certificate is checked against the upstream's address. */
	snprintf(cf, sizeof(cf), ".:53 {\n  forward . tls://127.0.0.1:%u {\n    tls %s/tls.pem\n"
		 "  }\n}\n", tn.port, dir);
	CHECK_EQ(drv_load(&d, cf), 0);
	CHECK_EQ(drv_query(&d, "www.example.test", DNS_T_AAAA, NULL, &r), DNS_RCODE_NOERROR);
	CHECK_EQ(r.p.an, 1);
	drv_free(&d);
	/* The wrong name: the handshake fails, no answer is taken from that server. */
	snprintf(cf, sizeof(cf), ".:53 {\n  forward . tls://127.0.0.1:%u {\n    tls %s/tls.pem\n"
		 "    tls_servername other.test\n    max_connect_attempts 2\n  }\n}\n", tn.port, dir);
	CHECK_EQ(drv_load(&d, cf), 0);
	CHECK_EQ(drv_query(&d, "www.example.test", DNS_T_A, NULL, &r), DNS_RCODE_SERVFAIL);
	drv_free(&d);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -f %s/tls.key %s/tls.pem %s/nsd-tls.conf %s/xfrd2.state "
		 "%s/zl2", dir, dir, dir, dir, dir);
	CHECK_EQ(system(cmd), 0);
}

int main(void)
{
	int r = ft_nsd_start(&nsd, "127.0.0.1");

	if (r == 77) {
		printf("test_forward: nsd not installed, skipped\n");
		return 77;
	}
	if (r != 0) {
		fprintf(stderr, "test_forward: cannot start nsd\n");
		return 1;
	}
	srand((unsigned)getpid());
	test_basic();
	test_truncation();
	test_except_and_chain_end();
	test_max_concurrent();
	test_spoof();
	test_failover_and_next();
	test_no_done();
	test_log_forwarded();
	test_config();
	test_tls();
	test_dead_upstream();
	ft_nsd_stop(&nsd);
	return check_summary("test_forward");
}
