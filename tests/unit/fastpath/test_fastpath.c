/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns fast path unit test: crafted frames straight into fp_worker_process_burst() with
 * the real shared objects (EAL without hugepages or NIC), outputs checked field by field.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "ft_cases.h"
#include "ft_lib.h"

static struct ft_env env;

/* ------------------------------------------------------------------------- */
/* Table                                                                        */

static void add_addr(const char *name, const char *ip, uint32_t ttl)
{
	struct dns_builder b;
	struct dns_key k;
	uint8_t a[4];

	dns_key_from_str(&k, name, DNS_T_A);
	dns_builder_init(&b, &k, DNS_F_AA);
	inet_pton(AF_INET, ip, a);
	dns_builder_add_addr(&b, DNS_SEC_ANSWER, DNS_OWNER_QNAME, ttl, a, AF_INET);
	CHECK_MSG(ft_table_add(&env, name, DNS_T_A, &b) != NULL, "add %s", name);
}

static void add_exists(const char *name)
{
	struct dns_builder b;
	struct dns_key k;

	dns_key_from_str(&k, name, DNS_KEY_T_EXISTS);
	dns_builder_init(&b, &k, DNS_F_AA);
	CHECK_MSG(ft_table_add(&env, name, DNS_KEY_T_EXISTS, &b) != NULL, "exists %s", name);
}

static void add_big(void)
{
	struct dns_builder b;
	struct dns_key k;
	char text[101];

	memset(text, 'x', 100);
	text[100] = '\0';
	dns_key_from_str(&k, "big.example.com", DNS_T_TXT);
	dns_builder_init(&b, &k, DNS_F_AA);
	for (int i = 0; i < 10; i++)
		dns_builder_add_txt(&b, DNS_SEC_ANSWER, DNS_OWNER_QNAME, 60, text);
	CHECK_MSG(ft_table_add(&env, "big.example.com", DNS_T_TXT, &b) != NULL, "big");
}

static void add_cache(const char *name, uint32_t stored, uint32_t expire)
{
	struct dns_builder b;
	struct dns_answer *a;
	struct dns_key k;
	uint8_t ip[4] = { 192, 0, 2, 9 };

	dns_key_from_str(&k, name, DNS_T_A);
	dns_builder_init(&b, &k, 0);
	dns_builder_add_addr(&b, DNS_SEC_ANSWER, DNS_OWNER_QNAME, 300, ip, AF_INET);
	a = ft_table_add(&env, name, DNS_T_A, &b);
	CHECK_MSG(a != NULL, "cache %s", name);
	if (a != NULL) {
		a->stored = stored;
		a->expire = expire;
	}
}

static void set_zone(struct dp_zone *z, const char *name, uint16_t flags,
		     const struct dns_answer *miss)
{
	int len = dns_name_from_str(z->name, sizeof(z->name), name);

	z->name_len = (uint16_t)(len > 0 ? len : 0);
	z->flags = flags;
	z->miss = miss;
}

static void add_zones(void)
{
	struct dp_zoneset *zs = rte_zmalloc("ft_zones", sizeof(*zs) + 3 * sizeof(struct dp_zone), 8);
	struct dns_answer *nx = rte_zmalloc("ft_nx", sizeof(*nx) + DNS_BUILD_MAX, 8);
	struct dns_builder b;
	struct dns_key k;

	dns_key_from_str(&k, "cluster.local", DNS_T_SOA);
	dns_builder_init(&b, &k, DNS_F_AA | DNS_RCODE_NXDOMAIN);
	dns_builder_add_soa(&b, DNS_SEC_AUTHORITY, "cluster.local", 30, "ns.dns.cluster.local",
			    "hostmaster.cluster.local", 1, 7200, 1800, 86400, 30);
	CHECK_MSG(dns_builder_finish(&b, nx, sizeof(*nx) + DNS_BUILD_MAX) > 0, "nx value");
	/* Longest first: the forwarded sub-zone must win over its parent's negative answer. */
	set_zone(&zs->zones[0], "fwd.cluster.local", 0, NULL);
	set_zone(&zs->zones[1], "cluster.local", DP_ZONE_ANSWER_MISS, nx);
	set_zone(&zs->zones[2], "example.com", 0, NULL);
	zs->n_zones = 3;
	__atomic_store_n(&env.shm.state->zones, zs, __ATOMIC_RELEASE);
}

static void build_table(void)
{
	add_addr("www.example.com", "192.0.2.1", 300);
	add_exists("www.example.com");
	add_big();
	add_cache("old.example.com", 900, 999);
	add_cache("cache.example.com", 990, 2000);
	add_zones();
}

int main(int argc, char **argv)
{
	unsigned int avail;

	(void)argc;
	if (ft_eal_init(argv[0]) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	if (ft_env_setup(&env, 4096, 4095) < 0) {
		fprintf(stderr, "shared objects not created\n");
		return 1;
	}
	build_table();
	avail = rte_mempool_avail_count(env.shm.pool);
	ft_cases_dns(&env);
	ft_cases_l2l3(&env);
	CHECK_MSG(rte_mempool_avail_count(env.shm.pool) == avail, "mbufs leaked: %u",
		  avail - rte_mempool_avail_count(env.shm.pool));
	ft_env_teardown(&env);
	ft_eal_cleanup();
	return check_summary("fastpath");
}
