/* SPDX-License-Identifier: BSD-3-Clause
 * Unit test of the control plane's table sink (controlplane/table.c) on a real lock-free
 * rte_hash and QSBR variable, EAL without hugepages: puts, unchanged puts, replacement
 * with a deferred free held back by a reader, deletes, mark-and-sweep syncs, zone sets.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_hash.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "check.h"
#include "dns.h"
#include "dp_shm.h"
#include "table.h"

struct env {
	struct rte_hash *h;
	struct rte_rcu_qsbr *qsbr;
	struct dp_state *state;
	struct cp_table *t;
	const struct cp_sink *sink;
};

static uint32_t key_hash(const void *key, uint32_t len, uint32_t init)
{
	(void)len;
	(void)init;
	return dns_key_hash(key);
}

static int eal_init(const char *prog, char *dir, size_t cap)
{
	char prefix[32];
	char *argv[] = {
		(char *)prog, "--no-huge", "--no-pci", "--no-shconf", "-m", "128",
		"--no-telemetry", "--log-level=4", "--file-prefix", prefix, NULL,
	};

	snprintf(prefix, sizeof(prefix), "dpdns-rt%d", (int)getpid());
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) < 0)
		return -1;
	snprintf(dir, cap, "%s", rte_eal_get_runtime_dir());
	return 0;
}

static int env_setup(struct env *e)
{
	struct rte_hash_parameters p = {
		.name = "rt_test_answers", .entries = 1024, .key_len = DNS_KEY_LEN,
		.hash_func = key_hash, .socket_id = SOCKET_ID_ANY,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};

	memset(e, 0, sizeof(*e));
	e->h = rte_hash_create(&p);
	e->qsbr = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE);
	e->state = rte_zmalloc(NULL, sizeof(*e->state), 0);
	if (e->h == NULL || e->qsbr == NULL || e->state == NULL ||
	    rte_rcu_qsbr_init(e->qsbr, 1) < 0)
		return -1;
	/* One reader, online: grace periods end only when it reports quiescence. */
	rte_rcu_qsbr_thread_register(e->qsbr, 0);
	rte_rcu_qsbr_thread_online(e->qsbr, 0);
	e->t = cp_table_create(e->h, e->qsbr, e->state);
	if (e->t == NULL)
		return -1;
	e->sink = cp_table_sink(e->t);
	return 0;
}

/* An A answer for @p name with last address byte @p last. */
static int make_answer(struct dns_key *k, const char *name, uint8_t last, struct dns_answer *a,
		       size_t cap)
{
	static struct dns_builder b;
	uint8_t addr[4] = { 198, 18, 0, last };

	if (dns_key_from_str(k, name, DNS_T_A) < 0)
		return -1;
	dns_builder_init(&b, k, DNS_F_AA);
	dns_builder_add_addr(&b, DNS_SEC_ANSWER, DNS_OWNER_QNAME, 60, addr, 2 /* AF_INET */);
	return dns_builder_finish(&b, a, cap);
}

static int put(struct env *e, const char *name, uint8_t last)
{
	union { struct dns_answer a; uint8_t raw[512]; } u;
	struct dns_key k;
	int n = make_answer(&k, name, last, &u.a, sizeof(u));

	if (n < 0)
		return n;
	return e->sink->put(e->sink->ctx, &k, dns_key_hash(&k), &u.a, (size_t)n);
}

static const struct dns_answer *get(struct env *e, const char *name)
{
	struct dns_key k;
	void *data = NULL;

	dns_key_from_str(&k, name, DNS_T_A);
	if (rte_hash_lookup_with_hash_data(e->h, &k, dns_key_hash(&k), &data) < 0)
		return NULL;
	return data;
}

static uint8_t last_byte(const struct dns_answer *a)
{
	return a->rr[a->rr_len - 1];
}

static void test_put_replace(struct env *e)
{
	const struct dns_answer *v1, *v2;
	const struct cp_table_stats *st = cp_table_stats(e->t);

	CHECK(put(e, "a.example.", 1) == 0);
	CHECK(cp_table_entries(e->t) == 1);
	v1 = get(e, "A.Example");
	CHECK(v1 != NULL && last_byte(v1) == 1);
	CHECK(put(e, "a.example.", 1) == 0);
	CHECK(st->unchanged == 1 && st->puts == 1);
	CHECK(get(e, "a.example.") == v1);

	CHECK(put(e, "a.example.", 2) == 0);
	v2 = get(e, "a.example.");
	CHECK(v2 != NULL && v2 != v1 && last_byte(v2) == 2);
	/* The reader has not been quiescent since: the old value must stay. */
	cp_table_reclaim(e->t);
	CHECK(st->pending == 1 && st->freed == 0);
	rte_rcu_qsbr_quiescent(e->qsbr, 0);
	cp_table_reclaim(e->t);
	CHECK(st->pending == 0 && st->freed == 1);
}

static void test_del(struct env *e)
{
	struct dns_key k;
	const struct cp_table_stats *st = cp_table_stats(e->t);

	dns_key_from_str(&k, "a.example", DNS_T_A);
	CHECK(e->sink->del(e->sink->ctx, &k, dns_key_hash(&k)) == 0);
	CHECK(get(e, "a.example.") == NULL);
	CHECK(cp_table_entries(e->t) == 0);
	CHECK(e->sink->del(e->sink->ctx, &k, dns_key_hash(&k)) == -ENOENT);
	rte_rcu_qsbr_quiescent(e->qsbr, 0);
	cp_table_reclaim(e->t);
	CHECK(st->pending == 0);
	CHECK(rte_hash_count(e->h) == 0); /* the key slot went back too */
}

static void test_sync(struct env *e)
{
	const struct cp_table_stats *st = cp_table_stats(e->t);
	uint64_t swept0 = st->swept;

	/* What a previous control plane left: three names. */
	CHECK(put(e, "keep.example.", 1) == 0);
	CHECK(put(e, "gone.example.", 2) == 0);
	CHECK(put(e, "also-gone.example.", 3) == 0);
	/* An aborted sync deletes nothing. */
	CHECK(cp_table_sync_begin(e->t) == 0);
	CHECK(put(e, "keep.example.", 1) == 0);
	CHECK(cp_table_sync_end(e->t, 0) == 0);
	CHECK(cp_table_entries(e->t) == 3);
	/* A complete one sweeps what was not emitted, including a new key added in it. */
	CHECK(cp_table_sync_begin(e->t) == 0);
	CHECK(put(e, "keep.example.", 1) == 0);
	CHECK(put(e, "new.example.", 4) == 0);
	CHECK(cp_table_sync_end(e->t, 1) == 2);
	CHECK(st->swept - swept0 == 2);
	CHECK(get(e, "keep.example.") != NULL && get(e, "new.example.") != NULL);
	CHECK(get(e, "gone.example.") == NULL && get(e, "also-gone.example.") == NULL);
	CHECK(cp_table_entries(e->t) == 2);
	/* Incremental puts outside a sync are not swept by the next sync's bookkeeping. */
	CHECK(put(e, "incr.example.", 5) == 0);
	CHECK(get(e, "incr.example.") != NULL);
	rte_rcu_qsbr_quiescent(e->qsbr, 0);
	cp_table_reclaim(e->t);
}

static void test_zones(struct env *e)
{
	union { struct dns_answer a; uint8_t raw[512]; } u;
	struct dp_zone z[2];
	const struct dp_zoneset *s1, *s2;
	struct dns_key k;
	const struct cp_table_stats *st = cp_table_stats(e->t);

	memset(z, 0, sizeof(z));
	CHECK(make_answer(&k, "cluster.local", 9, &u.a, sizeof(u)) > 0);
	z[0].name_len = (uint16_t)dns_name_from_str(z[0].name, sizeof(z[0].name), "svc.cluster.local");
	z[0].flags = DP_ZONE_ANSWER_MISS;
	z[0].miss = &u.a;
	z[1].name_len = (uint16_t)dns_name_from_str(z[1].name, sizeof(z[1].name), "cluster.local");
	z[1].flags = DP_ZONE_ANSWER_MISS; /* no answer: the flag must be dropped */
	CHECK(e->sink->zones(e->sink->ctx, z, 2) == 0);
	s1 = e->state->zones;
	CHECK(s1 != NULL && s1->n_zones == 2);
	CHECK(s1 != NULL && s1->zones[0].miss != NULL && s1->zones[0].miss != &u.a &&
	      memcmp(s1->zones[0].miss, &u.a, dns_answer_size(&u.a)) == 0);
	CHECK(s1 != NULL && s1->zones[1].flags == 0 && s1->zones[1].miss == NULL);
	/* Same content: nothing republished. */
	z[1].flags = 0;
	CHECK(e->sink->zones(e->sink->ctx, z, 2) == 0);
	CHECK(e->state->zones == s1);
	/* Changed: new set, old one freed after the grace period. */
	CHECK(e->sink->zones(e->sink->ctx, z, 1) == 0);
	s2 = e->state->zones;
	CHECK(s2 != NULL && s2 != s1 && s2->n_zones == 1);
	CHECK(st->pending == 1);
	rte_rcu_qsbr_quiescent(e->qsbr, 0);
	cp_table_reclaim(e->t);
	CHECK(st->pending == 0);
	CHECK(e->sink->zones(e->sink->ctx, z, 0) == 0);
	CHECK(e->state->zones == NULL);
	rte_rcu_qsbr_quiescent(e->qsbr, 0);
	cp_table_reclaim(e->t);
}

int main(int argc, char **argv)
{
	char dir[PATH_MAX] = "";
	struct env e;

	(void)argc;
	if (eal_init(argv[0], dir, sizeof(dir)) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	if (env_setup(&e) < 0) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	test_put_replace(&e);
	test_del(&e);
	test_sync(&e);
	test_zones(&e);
	cp_table_free(e.t, 100);
	rte_hash_free(e.h);
	rte_eal_cleanup();
	if (dir[0] != '\0')
		rmdir(dir);
	return check_summary("test_cp_table");
}
