/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns fast path benchmark (not a test: no timing assertions). Drives the worker's burst
 * function on one lcore without a NIC: bursts of pre-built query frames are copied into
 * mbufs (standing in for the NIC's DMA), handed to fp_worker_process_burst(), and the
 * "TX side" counts the replies and frees them. The table holds --names names (A record +
 * exists marker each). Scenarios: (a) table hits, (b) NODATA via the exists marker,
 * (c) misses to the miss ring (drained by the bench), (d) names missing under a synced
 * zone: NXDOMAIN + SOA from the zone policy, in the fast path.
 *
 * --cache adds (e): --names cache entries (expire != 0, as the cache plugin writes them)
 * asked for: the TTL-rewrite path.
 *
 * --k8s URL|KUBECONFIG builds the table instead the way the control plane does: the
 * engine loads a Corefile with `kubernetes cluster.local in-addr.arpa ip6.arpa` reading
 * that API server, and its full sync goes through the control plane's table code
 * (controlplane/table.c) into the fast path's table and zone set. The cluster must be the
 * one `k8s_bench --write-objects` generates (svc-N.ns-(N%100), every 10th headless).
 * Scenarios: (k) A of ClusterIP services, (s) search-path misses
 * (host.example.com.ns-X.svc.cluster.local, .svc.cluster.local, .cluster.local): NXDOMAIN.
 *
 * usage: fp_bench [EAL args] -- [--names N] [--seconds S] [--only a|b|c|d|e|k|s|r] [--cache]
 *                                [--k8s URL|KUBECONFIG] [--table-size N] [--repeat N]
 * --repeat runs the scenarios N times over the same table (a --k8s table takes minutes).
 *   e.g. build/bench/fp_bench --no-huge -m 1024 -l 0 --no-pci --no-telemetry -- --names 100000
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <rte_udp.h>

#include "engine.h"
#include "fp.h"
#include "table.h"

#define FRAME_STRIDE 128 /**< bytes per pre-built frame */
#define PERMUTE      7919u /**< stride through the names: no sequential prefetch luck */

static const uint8_t server_mac[6] = { 0x02, 0, 0, 0, 0, 0x53 };
static const uint8_t client_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };

/* The refill baseline stays last: the other figures are also given minus it. */
enum scenario {
	SC_HIT, SC_NODATA, SC_MISS, SC_ZONE, SC_CACHE, SC_K8S_HIT, SC_K8S_NX, SC_BASELINE, SC_MAX
};

static const char *const sc_names[SC_MAX] = {
	"(a) table hits", "(b) NODATA", "(c) misses to ring", "(d) zone NXDOMAIN",
	"(e) cache hits", "(k) k8s service A", "(s) k8s search-path NX", "refill only (baseline)",
};
static const char sc_keys[SC_MAX + 1] = "abcdeksr";

#define K8S_HEADLESS_EVERY 10 /**< k8s_bench --write-objects' default */
#define K8S_NAMESPACES     100

struct bench {
	struct fp_config cfg;
	struct fp_shm shm;
	struct fp_worker *w;
	uint32_t names;
	uint32_t table_size;     /**< 0: derived from --names */
	double seconds;
	unsigned repeat;         /**< rounds of all scenarios over the same table */
	char only;               /**< run one scenario (for profiling), 0 = all */
	bool cache;              /**< --cache: scenario (e) and its entries */
	const char *k8s;         /**< --k8s: API server URL or kubeconfig */
	bool run[SC_MAX];
	struct dp_zoneset *zones;
	struct cp_table *table;  /**< --k8s: the control plane's table code */
	uint8_t *frames[SC_MAX]; /**< names x FRAME_STRIDE pre-built frames per scenario */
	uint16_t *lens[SC_MAX];
};

/* Service i of the generated cluster that has a ClusterIP (every 10th is headless). */
static uint32_t k8s_clusterip_svc(const struct bench *b, uint32_t i)
{
	uint32_t per = K8S_HEADLESS_EVERY - 1;

	return ((i / per) * K8S_HEADLESS_EVERY + i % per + 1) % b->names;
}

static void name_of(const struct bench *b, char *out, size_t cap, enum scenario sc, uint32_t i)
{
	uint32_t j;

	switch (sc) {
	case SC_MISS:
		snprintf(out, cap, "nx%u.example.org", i);  /* outside every zone */
		break;
	case SC_ZONE:
		snprintf(out, cap, "nx%u.ns%u.svc.cluster.local", i, i % 97);
		break;
	case SC_CACHE:
		snprintf(out, cap, "www%u.example.org", i);
		break;
	case SC_K8S_HIT:
		j = k8s_clusterip_svc(b, i);
		snprintf(out, cap, "svc-%u.ns-%u.svc.cluster.local", j, j % K8S_NAMESPACES);
		break;
	case SC_K8S_NX:
		/* A pod of namespace ns-X resolving host.example.com with ndots:5 tries these
		 * three before the name itself. */
		if (i % 3 == 0)
			snprintf(out, cap, "host%u.example.com.ns-%u.svc.cluster.local", i,
				 i % K8S_NAMESPACES);
		else
			snprintf(out, cap, "host%u.example.com.%scluster.local", i,
				 i % 3 == 1 ? "svc." : "");
		break;
	default:
		snprintf(out, cap, "svc%u.ns%u.svc.cluster.local", i, i % 97);
		break;
	}
}

/** cluster.local answers names it lacks with NXDOMAIN + SOA in the fast path. */
static int add_zone(struct bench *b)
{
	struct dp_zoneset *zs = rte_zmalloc("bench_zones", sizeof(*zs) + sizeof(struct dp_zone), 8);
	struct dns_answer *nx = rte_zmalloc("bench_nx", sizeof(*nx) + 256, 8);
	struct dns_builder bl;
	struct dns_key key;
	int len;

	if (zs == NULL || nx == NULL)
		return -ENOMEM;
	dns_key_from_str(&key, "cluster.local", DNS_T_SOA);
	dns_builder_init(&bl, &key, DNS_F_AA | DNS_RCODE_NXDOMAIN);
	dns_builder_add_soa(&bl, DNS_SEC_AUTHORITY, "cluster.local", 5, "ns.dns.cluster.local",
			    "hostmaster.cluster.local", 1, 7200, 1800, 86400, 5);
	if (dns_builder_finish(&bl, nx, sizeof(*nx) + 256) < 0)
		return -EINVAL;
	len = dns_name_from_str(zs->zones[0].name, sizeof(zs->zones[0].name), "cluster.local");
	zs->zones[0].name_len = (uint16_t)len;
	zs->zones[0].flags = DP_ZONE_ANSWER_MISS;
	zs->zones[0].miss = nx;
	zs->n_zones = 1;
	b->zones = zs;
	__atomic_store_n(&b->shm.state->zones, zs, __ATOMIC_RELEASE);
	return 0;
}

static uint16_t build_query(uint8_t *f, const char *name, uint16_t qtype, uint16_t id)
{
	struct rte_ipv4_hdr *ip = (void *)(f + 14);
	struct rte_udp_hdr *u = (void *)(f + 34);
	uint8_t *d = f + 42, *p = d + 12;
	int nl = dns_name_from_str(p, DNS_MAX_NAME, name);
	uint16_t dlen = (uint16_t)(12 + nl + 4);

	memcpy(f, server_mac, 6);
	memcpy(f + 6, client_mac, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(d, 0, 12);
	d[0] = (uint8_t)(id >> 8);
	d[1] = (uint8_t)id;
	d[2] = 0x01; /* RD */
	d[5] = 1;
	p += nl;
	p[0] = (uint8_t)(qtype >> 8);
	p[1] = (uint8_t)qtype;
	p[2] = 0;
	p[3] = DNS_C_IN;
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(20 + 8 + dlen);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(0xc6120100u + (id & 0xff)); /* 198.18.1.x */
	ip->dst_addr = rte_cpu_to_be_32(0xc6120035u);               /* 198.18.0.53 */
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	u->src_port = rte_cpu_to_be_16((uint16_t)(1024 + id));
	u->dst_port = rte_cpu_to_be_16(53);
	u->dgram_len = rte_cpu_to_be_16(8 + dlen);
	u->dgram_cksum = 0;
	u->dgram_cksum = rte_ipv4_udptcp_cksum(ip, u);
	return (uint16_t)(42 + dlen);
}

static int fill_table(struct bench *b)
{
	uint8_t addr[4] = { 10, 96, 0, 0 };
	char name[96];

	for (uint32_t i = 0; i < b->names; i++) {
		for (int k = 0; k < 2; k++) {
			uint16_t qtype = k == 0 ? DNS_T_A : DNS_KEY_T_EXISTS;
			struct dns_builder bl;
			struct dns_answer *a;
			struct dns_key key;
			int len;

			name_of(b, name, sizeof(name), SC_HIT, i);
			if (dns_key_from_str(&key, name, qtype) < 0)
				return -EINVAL;
			dns_builder_init(&bl, &key, DNS_F_AA);
			addr[2] = (uint8_t)(i >> 8);
			addr[3] = (uint8_t)i;
			if (k == 0)
				dns_builder_add_addr(&bl, DNS_SEC_ANSWER, DNS_OWNER_QNAME, 5, addr,
						     AF_INET);
			a = rte_malloc("bench_answer", sizeof(*a) + 64, 8);
			len = a != NULL ? dns_builder_finish(&bl, a, sizeof(*a) + 64) : -ENOMEM;
			if (len < 0 || rte_hash_add_key_with_hash_data(b->shm.hash, &key,
								       dns_key_hash(&key), a) < 0)
				return len < 0 ? len : -ENOSPC;
		}
	}
	return 0;
}

/*
 * Cache entries as the cache plugin leaves them: expire != 0, stored = now, so the fast
 * path checks the expiry and rewrites every TTL to the time left. Two A records, as a
 * forwarded answer often has; expiry far enough away for the longest run.
 */
static int fill_cache(struct bench *b)
{
	uint8_t addr[4] = { 192, 0, 2, 0 };
	uint32_t now = dp_monotonic_sec();
	char name[64];

	for (uint32_t i = 0; i < b->names; i++) {
		struct dns_builder bl;
		struct dns_answer *a;
		struct dns_key key;
		int len;

		name_of(b, name, sizeof(name), SC_CACHE, i);
		if (dns_key_from_str(&key, name, DNS_T_A) < 0)
			return -EINVAL;
		dns_builder_init(&bl, &key, DNS_F_RA);
		for (int r = 0; r < 2; r++) {
			addr[3] = (uint8_t)(i + r);
			dns_builder_add_addr(&bl, DNS_SEC_ANSWER, DNS_OWNER_QNAME, 300, addr, AF_INET);
		}
		a = rte_malloc("bench_cache", sizeof(*a) + 96, 8);
		len = a != NULL ? dns_builder_finish(&bl, a, sizeof(*a) + 96) : -ENOMEM;
		if (len < 0)
			return len;
		a->stored = now;
		a->expire = now + 600;
		if (rte_hash_add_key_with_hash_data(b->shm.hash, &key, dns_key_hash(&key), a) < 0)
			return -ENOSPC;
	}
	return 0;
}

static int build_frames(struct bench *b)
{
	static const uint16_t qtypes[SC_MAX] = {
		DNS_T_A, DNS_T_AAAA, DNS_T_A, DNS_T_A, DNS_T_A, DNS_T_A, DNS_T_A, DNS_T_A,
	};
	char name[96];

	for (int sc = 0; sc < SC_MAX; sc++) {
		if (!b->run[sc])
			continue;
		b->frames[sc] = rte_malloc("bench_frames", (size_t)b->names * FRAME_STRIDE, 64);
		b->lens[sc] = rte_malloc("bench_lens", (size_t)b->names * sizeof(uint16_t), 64);
		if (b->frames[sc] == NULL || b->lens[sc] == NULL)
			return -ENOMEM;
		for (uint32_t i = 0; i < b->names; i++) {
			name_of(b, name, sizeof(name), (enum scenario)sc, i);
			b->lens[sc][i] = build_query(b->frames[sc] + (size_t)i * FRAME_STRIDE, name,
						     qtypes[sc], (uint16_t)i);
		}
	}
	return 0;
}

/** One burst of scenario @p sc starting at name index *pos. @return replies sent */
static uint16_t one_burst(struct bench *b, enum scenario sc, uint32_t *pos)
{
	struct rte_mbuf *rx[FP_BURST], *tx[FP_TX_MAX];
	struct dp_miss el[FP_BURST];
	uint16_t ntx;
	unsigned int nm;

	if (rte_pktmbuf_alloc_bulk(b->shm.pool, rx, FP_BURST) != 0)
		return 0;
	for (int i = 0; i < FP_BURST; i++) {
		uint32_t k = *pos;
		uint16_t len = b->lens[sc][k];

		*pos = (k + PERMUTE) % b->names;
		memcpy(rte_pktmbuf_mtod(rx[i], void *), b->frames[sc] + (size_t)k * FRAME_STRIDE,
		       len);
		rx[i]->data_len = len;
		rx[i]->pkt_len = len;
	}
	if (sc == SC_BASELINE) {
		rte_pktmbuf_free_bulk(rx, FP_BURST);
		return FP_BURST;
	}
	ntx = fp_worker_process_burst(b->w, rx, FP_BURST, tx);
	if (ntx != 0)
		rte_pktmbuf_free_bulk(tx, ntx);
	/* The control plane's side of the miss ring: take everything back. */
	while ((nm = rte_ring_sc_dequeue_burst_elem(b->shm.miss, el, sizeof(el[0]), FP_BURST,
						    NULL)) != 0)
		for (unsigned int i = 0; i < nm; i++)
			rte_pktmbuf_free(el[i].mbuf);
	return ntx;
}

static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * Wall time (TSC) and this thread's CPU time are both reported: on a shared machine the
 * lcore may be preempted, and CPU time is then the fairer per-core figure.
 */
static void run_scenario(struct bench *b, enum scenario sc, double *ns_per_q)
{
	uint64_t hz = rte_get_tsc_hz(), start, end, deadline, q = 0, replies = 0;
	struct dp_counters c0;
	uint32_t pos = 0;
	double cpu0, cpu_ns;

	for (int i = 0; i < 1000; i++) /* warm caches and the pool */
		one_burst(b, sc, &pos);
	c0 = *b->w->cnt;
	cpu0 = cpu_seconds();
	start = rte_rdtsc();
	deadline = start + (uint64_t)(b->seconds * (double)hz);
	do {
		for (int i = 0; i < 256; i++)
			replies += one_burst(b, sc, &pos);
		q += 256 * FP_BURST;
		/* The fast path's main lcore keeps the clock the cache expiry is checked
		 * against; here the worker does, every 8192 queries. */
		__atomic_store_n(&b->shm.state->now, dp_monotonic_sec(), __ATOMIC_RELAXED);
		end = rte_rdtsc();
	} while (end < deadline);
	cpu_ns = (cpu_seconds() - cpu0) * 1e9 / (double)q;

	*ns_per_q = cpu_ns;
	printf("  %-24s wall %6.2f Mqps %6.1f ns/q | cpu %6.2f Mqps %6.1f ns/q | %" PRIu64
	       " queries, %" PRIu64 " replies, %" PRIu64 " misses", sc_names[sc],
	       (double)q * (double)hz / (double)(end - start) / 1e6,
	       (double)(end - start) * 1e9 / (double)hz / (double)q, 1e3 / cpu_ns, cpu_ns, q,
	       sc == SC_BASELINE ? 0 : replies, b->w->cnt->missed - c0.missed);
	if (sc >= SC_CACHE && sc != SC_BASELINE)
		printf(" (hits %" PRIu64 ", cache hits %" PRIu64 ", zone NXDOMAIN %" PRIu64 ")",
		       b->w->cnt->hits - c0.hits, b->w->cnt->cache_hits - c0.cache_hits,
		       b->w->cnt->zone_neg - c0.zone_neg);
	printf("\n");
}

/* Which scenarios run: --only one, else the default set of the mode. */
static int pick_scenarios(struct bench *b)
{
	const char *k = b->only != 0 ? strchr(sc_keys, b->only) : NULL;

	if (b->only != 0 && k == NULL) {
		fprintf(stderr, "--only takes one of %s\n", sc_keys);
		return -EINVAL;
	}
	for (int sc = 0; sc < SC_MAX; sc++) {
		bool k8s_sc = sc == SC_K8S_HIT || sc == SC_K8S_NX;

		if (b->only != 0)
			b->run[sc] = sc == k - sc_keys;
		else
			b->run[sc] = b->k8s != NULL ? k8s_sc || sc == SC_BASELINE :
				     !k8s_sc && (sc != SC_CACHE || b->cache);
	}
	if (b->run[SC_CACHE])
		b->cache = true;
	if ((b->run[SC_K8S_HIT] || b->run[SC_K8S_NX]) && b->k8s == NULL) {
		fprintf(stderr, "scenarios k and s need --k8s\n");
		return -EINVAL;
	}
	for (int sc = 0; sc < SC_BASELINE; sc++)
		if (b->k8s != NULL && b->run[sc] && sc != SC_K8S_HIT && sc != SC_K8S_NX) {
			fprintf(stderr, "with --k8s only k, s and r run\n");
			return -EINVAL;
		}
	return 0;
}

static int parse_args(struct bench *b, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "names", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ "only", required_argument, NULL, 'o' },
		{ "cache", no_argument, NULL, 'c' },
		{ "k8s", required_argument, NULL, 'k' },
		{ "table-size", required_argument, NULL, 't' },
		{ "repeat", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	b->names = 100000;
	b->seconds = 2.0;
	b->repeat = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'n')
			b->names = (uint32_t)strtoul(optarg, NULL, 0);
		else if (c == 's')
			b->seconds = strtod(optarg, NULL);
		else if (c == 'o')
			b->only = optarg[0]; /* a scenario key, r = refill baseline */
		else if (c == 'c')
			b->cache = true;
		else if (c == 'k')
			b->k8s = optarg;
		else if (c == 't')
			b->table_size = (uint32_t)strtoul(optarg, NULL, 0);
		else if (c == 'r')
			b->repeat = (unsigned)strtoul(optarg, NULL, 0);
		else
			return -EINVAL;
	}
	if (b->names < FP_BURST || b->names > 4000000 || b->seconds <= 0 || b->seconds > 60 ||
	    b->table_size > (1u << 26) || b->repeat < 1 || b->repeat > 100) {
		fprintf(stderr, "--names 32..4000000, --seconds (0, 60], --table-size <= 2^26, "
			"--repeat 1..100\n");
		return -EINVAL;
	}
	return pick_scenarios(b);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The Corefile of a cluster DNS server (CoreDNS's default shape) reading b->k8s. */
static struct cp_engine *k8s_engine(const struct bench *b)
{
	char path[] = "/tmp/fp-bench-XXXXXX", cf[1024], err[512];
	bool url = strncmp(b->k8s, "http://", 7) == 0 || strncmp(b->k8s, "https://", 8) == 0;
	struct cp_engine *e;
	int fd = mkstemp(path), n;

	if (fd < 0)
		return NULL;
	n = snprintf(cf, sizeof(cf), ".:53 {\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n"
		     "        %s %s\n        pods insecure\n        fallthrough in-addr.arpa ip6.arpa\n"
		     "        ttl 30\n    }\n}\n", url ? "endpoint" : "kubeconfig", b->k8s);
	if (n <= 0 || (size_t)n >= sizeof(cf) || write(fd, cf, (size_t)n) != n) {
		close(fd);
		unlink(path);
		return NULL;
	}
	close(fd);
	e = cp_engine_load(path, err, sizeof(err));
	unlink(path);
	if (e == NULL)
		fprintf(stderr, "kubernetes Corefile: %s\n", err);
	return e;
}

/*
 * The control plane's part, in this process: LIST + watch until the plugin is ready,
 * then one full sync into the shared table through controlplane/table.c. The engine is
 * freed before measuring (its watch threads would share the machine with the worker).
 */
static int k8s_fill(struct bench *b)
{
	struct cp_engine *e = k8s_engine(b);
	const struct cp_sink *sink;
	char buf[128];
	double t0 = now_s(), t1;
	int ret;

	if (e == NULL)
		return -EINVAL;
	b->table = cp_table_create(b->shm.hash, b->shm.qsbr, b->shm.state);
	if (b->table == NULL) {
		cp_engine_free(e);
		return -ENOMEM;
	}
	sink = cp_table_sink(b->table);
	while (!cp_engine_ready(e, buf, sizeof(buf)) && now_s() - t0 < 900) {
		cp_engine_tick(e, sink, (uint64_t)(now_s() * 1000));
		usleep(1000);
	}
	t1 = now_s();
	ret = cp_table_sync_begin(b->table);
	if (ret == 0)
		ret = cp_engine_sync(e, sink);
	cp_table_sync_end(b->table, ret == 0);
	printf("kubernetes: ready after %.1f s (LIST + watch), full sync into the table %.1f s: "
	       "%d entries, %" PRIu64 " failed puts, %s\n", t1 - t0, now_s() - t1,
	       cp_table_entries(b->table), cp_table_stats(b->table)->put_failed,
	       b->shm.state->zones != NULL ? "zone set published" : "NO zone set");
	cp_engine_free(e);
	if (ret == 0 && cp_table_stats(b->table)->put_failed != 0)
		ret = -ENOSPC; /* a partial table would measure the wrong thing */
	return ret;
}

static int setup(struct bench *b)
{
	int ret;

	b->cfg.table_size = b->table_size != 0 ? b->table_size :
			    RTE_MAX(1024u, rte_align32pow2(b->names * (b->cache ? 3 : 2) +
							   b->names / 2));
	b->cfg.mbufs = 8191;
	b->cfg.no_exception = true;
	b->cfg.addr4[0] = rte_cpu_to_be_32(0xc6120035u);
	b->cfg.n_addr4 = 1;
	ret = fp_shm_create(&b->shm, &b->cfg, 1, (int)rte_socket_id());
	if (ret < 0)
		return ret;
	memcpy(b->shm.state->mac, server_mac, 6);
	b->shm.state->cp_pid = (int32_t)getpid(); /* the bench plays the control plane */
	b->shm.state->now = dp_monotonic_sec();
	b->w = rte_zmalloc("bench_worker", sizeof(*b->w), RTE_CACHE_LINE_SIZE);
	if (b->w == NULL)
		return -ENOMEM;
	fp_worker_init(b->w, &b->shm, 0, UINT16_MAX, 0);
	if (b->k8s != NULL) {
		ret = k8s_fill(b);
	} else {
		ret = fill_table(b);
		if (ret == 0 && b->cache)
			ret = fill_cache(b);
		if (ret == 0)
			ret = add_zone(b);
	}
	return ret < 0 ? ret : build_frames(b);
}

static void teardown(struct bench *b)
{
	const void *key;
	void *data;
	uint32_t it = 0;

	while (rte_hash_iterate(b->shm.hash, &key, &data, &it) >= 0)
		rte_free(data);
	for (int sc = 0; sc < SC_MAX; sc++) {
		rte_free(b->frames[sc]);
		rte_free(b->lens[sc]);
	}
	if (b->zones != NULL)
		rte_free((void *)(uintptr_t)b->zones->zones[0].miss);
	rte_free(b->zones);
	if (b->table != NULL) {
		/* The zone set is one allocation made by the table code. */
		rte_free(b->shm.state->zones);
		cp_table_free(b->table, 0);
	}
	rte_free(b->w);
	fp_shm_destroy(&b->shm);
}

static void print_command(int argc, char **argv)
{
	printf("reproduce with:");
	for (int i = 0; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\n");
}

int main(int argc, char **argv)
{
	static struct bench b;
	double ns[SC_MAX];
	int n, ret;

	print_command(argc, argv);
	n = rte_eal_init(argc, argv);
	if (n < 0)
		return 1;
	argv[n] = argv[0];
	if (parse_args(&b, argc - n, argv + n) < 0)
		return 2;
	ret = setup(&b);
	if (ret < 0) {
		fprintf(stderr, "setup: %s\n", rte_strerror(-ret));
		return 1;
	}
	printf("fast path burst benchmark: %u names (%d table entries, capacity %u), burst %d, "
	       "1 lcore, TSC %" PRIu64 " MHz\n", b.names, rte_hash_count(b.shm.hash),
	       b.cfg.table_size, FP_BURST, rte_get_tsc_hz() / 1000000);
	for (unsigned r = 0; r < b.repeat; r++) {
		for (int sc = 0; sc < SC_MAX; sc++)
			if (b.run[sc])
				run_scenario(&b, (enum scenario)sc, &ns[sc]);
		if (b.only != 0)
			continue;
		printf("  cpu time minus the refill baseline (frame copy standing in for NIC DMA):\n");
		for (int sc = 0; sc < SC_BASELINE; sc++)
			if (b.run[sc])
				printf("  %-24s %6.2f Mqps %6.1f ns/q\n", sc_names[sc],
				       1e3 / (ns[sc] - ns[SC_BASELINE]), ns[sc] - ns[SC_BASELINE]);
	}
	teardown(&b);
	rte_eal_cleanup();
	return 0;
}
