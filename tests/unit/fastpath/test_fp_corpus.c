/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns fast path corpus replay (suite 'fuzz'): every DNS message of a directory tree,
 * wrapped in Ethernet/IPv4 or IPv6/UDP, goes through fp_worker_process_burst(). Nothing
 * may crash, every frame that comes out must be a consistent UDP reply, and every mbuf
 * must be back in the pool at the end.
 * usage: test_fp_corpus DIR
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_malloc.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "ft_lib.h"

#define MAX_MSG 1400

struct replay {
	struct ft_env env;
	struct rte_mbuf *batch[FP_BURST];
	uint16_t n;
	unsigned long files, frames, replies, misses, exceptions;
};

/** Root zone with a negative answer: every well-formed query gets a written response. */
static int root_zone(struct ft_env *e)
{
	struct dp_zoneset *zs = rte_zmalloc("fc_zones", sizeof(*zs) + sizeof(struct dp_zone), 8);
	struct dns_answer *nx = rte_zmalloc("fc_nx", sizeof(*nx) + DNS_BUILD_MAX, 8);
	struct dns_builder b;
	struct dns_key k;

	if (zs == NULL || nx == NULL)
		return -ENOMEM;
	dns_key_from_str(&k, "example", DNS_T_SOA);
	dns_builder_init(&b, &k, DNS_F_AA | DNS_RCODE_NXDOMAIN);
	dns_builder_add_soa(&b, DNS_SEC_AUTHORITY, ".", 30, "a.root.", "h.root.", 1, 2, 3, 4, 5);
	if (dns_builder_finish(&b, nx, sizeof(*nx) + DNS_BUILD_MAX) < 0)
		return -EINVAL;
	zs->zones[0].name[0] = 0;
	zs->zones[0].name_len = 1;
	zs->zones[0].flags = DP_ZONE_ANSWER_MISS;
	zs->zones[0].miss = nx;
	zs->n_zones = 1;
	e->shm.state->zones = zs;
	return 0;
}

static void drain(struct replay *r)
{
	struct dp_miss el;
	void *obj;

	while (rte_ring_sc_dequeue_elem(r->env.shm.miss, &el, sizeof(el)) == 0) {
		r->misses++;
		rte_pktmbuf_free(el.mbuf);
	}
	while (rte_ring_sc_dequeue(r->env.shm.exc_tx, &obj) == 0) {
		r->exceptions++;
		rte_pktmbuf_free(obj);
	}
}

static void flush(struct replay *r)
{
	struct rte_mbuf *tx[FP_TX_MAX];
	uint16_t n = fp_worker_process_burst(r->env.w, r->batch, r->n, tx);

	for (uint16_t i = 0; i < n; i++) {
		const char *err = ft_check_reply(tx[i], NULL, NULL, NULL);

		CHECK_MSG(err == NULL, "reply %lu: %s", r->replies + i, err);
		rte_pktmbuf_free(tx[i]);
	}
	r->replies += n;
	r->n = 0;
	drain(r);
}

static void replay_file(struct replay *r, const char *path)
{
	uint8_t msg[MAX_MSG];
	FILE *f = fopen(path, "rb");
	size_t len;

	if (f == NULL)
		return;
	len = fread(msg, 1, sizeof(msg), f);
	fclose(f);
	r->files++;
	/* Each message twice: over IPv4 and over IPv6 (with a VLAN tag). */
	for (int v = 0; v < 2; v++) {
		struct ft_frame fr = { .v6 = v == 1, .vlan = v == 1, .tci = 42 };
		struct rte_mbuf *m = ft_udp_frame(r->env.shm.pool, &fr, msg, (uint16_t)len);

		if (m == NULL) {
			CHECK_MSG(false, "no mbuf for %s", path);
			continue;
		}
		r->batch[r->n++] = m;
		r->frames++;
		if (r->n == FP_BURST)
			flush(r);
	}
}

static void replay_dir(struct replay *r, const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[4096];
	struct stat st;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth < 4)
			replay_dir(r, path, depth + 1);
		else if (S_ISREG(st.st_mode))
			replay_file(r, path);
	}
	closedir(d);
}

int main(int argc, char **argv)
{
	static struct replay r;
	unsigned int avail;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	if (ft_eal_init(argv[0]) < 0 || ft_env_setup(&r.env, 4096, 4095) < 0 ||
	    root_zone(&r.env) < 0) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	avail = rte_mempool_avail_count(r.env.shm.pool);
	replay_dir(&r, argv[1], 0);
	if (r.n != 0)
		flush(&r);
	CHECK_MSG(r.files > 0, "no input files under %s", argv[1]);
	CHECK_EQ(rte_mempool_avail_count(r.env.shm.pool), avail);
	printf("fastpath corpus: %lu files, %lu frames: %lu replies, %lu misses, "
	       "%lu exceptions, %lu dropped\n", r.files, r.frames, r.replies, r.misses,
	       r.exceptions, r.frames - r.replies - r.misses - r.exceptions);
	for (unsigned int i = 0; i < DP_DROP_MAX; i++)
		if (r.env.w->cnt->drop[i] != 0)
			printf("  drop reason %u: %" PRIu64 "\n", i, r.env.w->cnt->drop[i]);
	ft_env_teardown(&r.env);
	ft_eal_cleanup();
	return check_summary("fastpath corpus");
}
