/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - kubernetes plugin benchmark (not a test): a generated cluster of N services
 * with K ready endpoints each (one EndpointSlice per service, every Mth service headless)
 * goes through what the plugin does with it:
 *   1. JSON -> k8s_obj (the watch thread's conversion) and store apply (engine thread),
 *   2. a full sync's worth of answers: every name the plugin offers, answered for the
 *      types the engine evaluates (A AAAA SRV TXT CNAME PTR SOA NS DS other) and built
 *      into values (the engine adds routing and the table write on top of this),
 *   3. single EndpointSlice updates: touched names + their answers.
 * It prints the figures, the peak RSS and the command line.
 *
 *   k8s_bench [--services N] [--endpoints K] [--headless-every M]
 *
 * End to end through the engine, with the fake API server:
 *   k8s_bench --services N --endpoints K --write-objects FILE
 *   tests/k8s/fake-apiserver --listen 127.0.0.1:PORT --objects FILE --quiet &
 *   k8s_bench --engine http://127.0.0.1:PORT
 * loads a Corefile with `kubernetes cluster.local in-addr.arpa { endpoint URL }` and
 * times LIST to ready, and the engine's full sync into a counting sink.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "dns.h"
#include "engine.h"
#include "k8s_config.h"
#include "k8s_names.h"
#include "k8s_obj.h"
#include "k8s_store.h"
#include "k8s_synth.h"

struct bench {
	struct k8s_config cfg;
	struct k8s_store store;
	struct k8s_synth syn;
	struct k8s_vcache vc;
	struct k8s_answer ans;
	struct k8s_conv_opts conv;
	struct dns_builder b;
	unsigned long names, values, bytes, dynamic;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	}
	if (f != NULL)
		fclose(f);
	return kb;
}

static int dep_key(void *ctx, const char *target, char *key, size_t cap)
{
	return k8s_synth_dep_key(ctx, target, key, cap);
}

/* Service i: ClusterIP 10.(96+i/65536).x.y, endpoints 10.(128+...) */
static void svc_ip(unsigned i, char *out, size_t cap)
{
	snprintf(out, cap, "10.%u.%u.%u", 96 + i / 65536, (i / 256) % 256, i % 256);
}

static void ep_ip(unsigned long n, char *out, size_t cap)
{
	snprintf(out, cap, "10.%lu.%lu.%lu", 128 + n / 65536, (n / 256) % 256, n % 256);
}

static void apply(struct bench *bn, enum k8s_res res, const char *json)
{
	json_error_t err;
	json_t *j = json_loads(json, 0, &err);
	struct k8s_obj *o = j != NULL ? k8s_obj_from_json(res, j, &bn->conv) : NULL;

	json_decref(j);
	if (o == NULL || k8s_store_apply(&bn->store, o) != 0) {
		fprintf(stderr, "apply failed\n");
		exit(1);
	}
}

static char *slice_json(unsigned i, unsigned k, unsigned long first, unsigned gen)
{
	size_t cap = 256 + (size_t)k * 128, o;
	char *s = malloc(cap), ip[32];

	o = (size_t)snprintf(s, cap, "{\"metadata\":{\"name\":\"svc-%u-x%u\",\"namespace\":\"ns-%u\","
			     "\"resourceVersion\":\"%u\",\"labels\":{\"kubernetes.io/service-name\":"
			     "\"svc-%u\"}},\"addressType\":\"IPv4\",\"ports\":[{\"name\":\"http\","
			     "\"port\":8080,\"protocol\":\"TCP\"}],\"endpoints\":[", i, 0u, i % 100,
			     gen, i);
	for (unsigned e = 0; e < k; e++) {
		ep_ip(first + e, ip, sizeof(ip));
		o += (size_t)snprintf(s + o, cap - o, "%s{\"addresses\":[\"%s\"],\"conditions\":"
				      "{\"ready\":true},\"targetRef\":{\"kind\":\"Pod\",\"name\":"
				      "\"pod-%lu\"}}", e ? "," : "", ip, first + e);
	}
	snprintf(s + o, cap - o, "]}");
	return s;
}

static void build(struct bench *bn, unsigned n, unsigned k, unsigned hl_every)
{
	char json[1024], ip[32];
	double t0 = now_s();
	unsigned long ep = 0;

	for (unsigned i = 0; i < 100; i++) {
		snprintf(json, sizeof(json), "{\"metadata\":{\"name\":\"ns-%u\",\"resourceVersion\":\"1\"}}", i);
		apply(bn, K8S_RES_NS, json);
	}
	for (unsigned i = 0; i < n; i++) {
		char *sj;

		svc_ip(i, ip, sizeof(ip));
		if (hl_every != 0 && i % hl_every == 0)
			snprintf(json, sizeof(json), "{\"metadata\":{\"name\":\"svc-%u\",\"namespace\":\"ns-%u\","
				 "\"resourceVersion\":\"1\"},\"spec\":{\"clusterIP\":\"None\",\"ports\":"
				 "[{\"name\":\"http\",\"port\":80,\"protocol\":\"TCP\"}]}}", i, i % 100);
		else
			snprintf(json, sizeof(json), "{\"metadata\":{\"name\":\"svc-%u\",\"namespace\":\"ns-%u\","
				 "\"resourceVersion\":\"1\"},\"spec\":{\"clusterIPs\":[\"%s\"],\"ports\":"
				 "[{\"name\":\"http\",\"port\":80,\"protocol\":\"TCP\"}]}}", i, i % 100, ip);
		apply(bn, K8S_RES_SVC, json);
		sj = slice_json(i, k, ep, 1);
		apply(bn, K8S_RES_SLICE, sj);
		free(sj);
		ep += k;
	}
	printf("store: %u services, %lu endpoints from JSON in %.2f s, RSS %ld MiB\n", n, ep,
	       now_s() - t0, rss_kb() / 1024);
}

static const uint16_t types[] = {
	DNS_T_A, DNS_T_AAAA, DNS_T_SRV, DNS_T_TXT, DNS_T_CNAME, DNS_T_PTR, DNS_T_SOA, DNS_T_NS,
	43, 0xff00, 0,
};

/* What the engine asks per offered name: an answer per type, built into a value. */
static int eval_name(void *ctx, const uint8_t *name, size_t len)
{
	struct bench *bn = ctx;
	struct dns_key key = { .name_len = (uint16_t)len };

	bn->names++;
	for (unsigned t = 0; types[t] != 0; t++) {
		key.qtype = types[t];
		if (k8s_synth_answer(&bn->syn, name, len, types[t], &bn->vc, &bn->ans) != 0)
			continue;
		dns_builder_init(&bn->b, &key, 0);
		if (k8s_build(&bn->syn, &bn->ans, &bn->b, false) != 0) {
			bn->dynamic++;
			continue;
		}
		bn->values++;
		bn->bytes += bn->b.len;
	}
	return 0;
}

static void full_sync(struct bench *bn)
{
	double t0 = now_s();

	bn->names = bn->values = bn->bytes = bn->dynamic = 0;
	k8s_names_all(&bn->syn, &bn->vc, eval_name, bn);
	printf("full sync answers: %lu names, %lu answers (%lu too big for a value) in %.2f s "
	       "(%.1f us/name), %.0f MiB built\n", bn->names, bn->values, bn->dynamic,
	       now_s() - t0, (now_s() - t0) * 1e6 / (double)(bn->names ? bn->names : 1),
	       (double)bn->bytes / 1048576.0);
}

/* Replace one service's slice (one endpoint moved) and answer the names it touches. */
static void updates(struct bench *bn, unsigned n, unsigned k, unsigned count)
{
	double t0 = now_s(), worst = 0;

	for (unsigned u = 0; u < count; u++) {
		unsigned i = (u * 7919u) % n;
		char *sj = slice_json(i, k, (unsigned long)i * k + 1, 2 + u);
		struct k8s_group *g;
		char key[64];
		double t1 = now_s(), d;

		snprintf(key, sizeof(key), "ns-%u/svc-%u-x0", i % 100, i);
		bn->names = 0;
		/* Before and after, as the plugin's tick does. */
		g = k8s_store_obj(&bn->store, K8S_RES_SLICE, key)->group;
		k8s_names_group(&bn->syn, &bn->vc, g, K8S_GN_SLICE,
				k8s_store_obj(&bn->store, K8S_RES_SLICE, key), eval_name, bn);
		apply(bn, K8S_RES_SLICE, sj);
		k8s_vcache_clear(&bn->vc);
		g = k8s_store_obj(&bn->store, K8S_RES_SLICE, key)->group;
		k8s_names_group(&bn->syn, &bn->vc, g, K8S_GN_SLICE,
				k8s_store_obj(&bn->store, K8S_RES_SLICE, key), eval_name, bn);
		free(sj);
		d = now_s() - t1;
		if (d > worst)
			worst = d;
	}
	printf("slice updates: %u in %.3f s (%.3f ms each, worst %.3f ms; %lu names touched last)\n",
	       count, now_s() - t0, (now_s() - t0) * 1e3 / count, worst * 1e3, bn->names);
}

/* A v1 List of the generated cluster, for the fake API server. */
static int write_objects(const char *path, unsigned n, unsigned k, unsigned hl_every)
{
	FILE *f = fopen(path, "w");
	char ip[32];
	unsigned long ep = 0;

	if (f == NULL)
		return -1;
	fprintf(f, "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[");
	for (unsigned i = 0; i < 100; i++)
		fprintf(f, "%s{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"ns-%u\"}}",
			i ? "," : "", i);
	for (unsigned i = 0; i < n; i++) {
		char *sj = slice_json(i, k, ep, 1);

		svc_ip(i, ip, sizeof(ip));
		fprintf(f, ",{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"svc-%u\","
			"\"namespace\":\"ns-%u\"},\"spec\":{\"clusterIP\":\"%s\",\"clusterIPs\":[\"%s\"],"
			"\"ports\":[{\"name\":\"http\",\"port\":80,\"protocol\":\"TCP\"}]}}", i, i % 100,
			hl_every && i % hl_every == 0 ? "None" : ip,
			hl_every && i % hl_every == 0 ? "None" : ip);
		/* slice_json's object plus kind/apiVersion */
		fprintf(f, ",{\"apiVersion\":\"discovery.k8s.io/v1\",\"kind\":\"EndpointSlice\",%s", sj + 1);
		free(sj);
		ep += k;
	}
	fprintf(f, "]}\n");
	return fclose(f);
}

struct csink {
	unsigned long puts, bytes, dels;
};

static int c_put(void *ctx, const struct dns_key *key, uint32_t hash, const struct dns_answer *a,
		 size_t size)
{
	struct csink *c = ctx;

	(void)key;
	(void)hash;
	(void)a;
	c->puts++;
	c->bytes += size;
	return 0;
}

static int c_del(void *ctx, const struct dns_key *key, uint32_t hash)
{
	(void)key;
	(void)hash;
	((struct csink *)ctx)->dels++;
	return 0;
}

static int c_zones(void *ctx, const void *zones, unsigned n)
{
	(void)ctx;
	(void)zones;
	(void)n;
	return 0;
}

static int engine_run(const char *url)
{
	char path[] = "/tmp/k8s-bench-XXXXXX", cf[512], err[512], buf[64];
	struct csink c = { 0, 0, 0 };
	struct cp_sink sink = { c_put, c_del, c_zones, &c };
	struct cp_engine *e;
	int fd = mkstemp(path);
	double t0 = now_s(), t1;

	if (fd < 0)
		return 1;
	snprintf(cf, sizeof(cf), "cluster.local:53 in-addr.arpa:53 {\n kubernetes cluster.local "
		 "in-addr.arpa {\n  endpoint %s\n }\n}\n", url);
	if (write(fd, cf, strlen(cf)) < 0 || close(fd) < 0)
		return 1;
	e = cp_engine_load(path, err, sizeof(err));
	unlink(path);
	if (e == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	while (!cp_engine_ready(e, buf, sizeof(buf)) && now_s() - t0 < 600) {
		cp_engine_tick(e, &sink, (uint64_t)(now_s() * 1000));
		usleep(1000);
	}
	t1 = now_s();
	printf("engine: LIST to ready in %.2f s, RSS %ld MiB\n", t1 - t0, rss_kb() / 1024);
	c.puts = c.bytes = 0;
	cp_engine_sync(e, &sink);
	printf("engine: full sync %.2f s, %lu entries, %.0f MiB of values\n", now_s() - t1, c.puts,
	       (double)c.bytes / 1048576.0);
	cp_engine_free(e);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned n = 100000, k = 10, hl = 10;
	const char *objects = NULL, *url = NULL;
	struct bench *bn = calloc(1, sizeof(*bn));
	char err[256];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--services") == 0 && i + 1 < argc)
			n = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--endpoints") == 0 && i + 1 < argc)
			k = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--headless-every") == 0 && i + 1 < argc)
			hl = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--write-objects") == 0 && i + 1 < argc)
			objects = argv[++i];
		else if (strcmp(argv[i], "--engine") == 0 && i + 1 < argc)
			url = argv[++i];
		else {
			fprintf(stderr, "usage: %s [--services N] [--endpoints K] [--headless-every M] "
				"[--write-objects FILE | --engine URL]\n", argv[0]);
			return 2;
		}
	}
	if (bn == NULL || n == 0)
		return 1;
	printf("command: ");
	for (int i = 0; i < argc; i++)
		printf("%s ", argv[i]);
	printf("\n");
	if (objects != NULL)
		return write_objects(objects, n, k, hl) == 0 ? 0 : 1;
	if (url != NULL)
		return engine_run(url);
	k8s_config_init(&bn->cfg);
	k8s_config_add_zone(&bn->cfg, "cluster.local", err, sizeof(err));
	k8s_config_add_zone(&bn->cfg, "in-addr.arpa", err, sizeof(err));
	k8s_config_add_zone(&bn->cfg, "ip6.arpa", err, sizeof(err));
	bn->cfg.ttl = 30;
	k8s_store_init(&bn->store, dep_key, &bn->cfg);
	k8s_vcache_init(&bn->vc);
	k8s_answer_init(&bn->ans);
	bn->syn = (struct k8s_synth){ .cfg = &bn->cfg, .store = &bn->store, .serial = 1, .synced = true };
	build(bn, n, k, hl);
	full_sync(bn);
	updates(bn, n, k, 1000);
	printf("peak RSS: ");
	{
		struct rusage ru;

		getrusage(RUSAGE_SELF, &ru);
		printf("%ld MiB\n", ru.ru_maxrss / 1024);
	}
	k8s_vcache_clear(&bn->vc);
	k8s_answer_fini(&bn->ans);
	k8s_store_fini(&bn->store);
	k8s_config_fini(&bn->cfg);
	free(bn);
	return 0;
}
