/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns fast path - creation of the shared objects of common/dp_shm.h. The control plane
 * finds them by name as a DPDK secondary process.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "fp.h"

#define FP_MISS_RING_MAX  4096u
#define FP_POOL_CACHE     256u

uint32_t fp_shm_key_hash(const void *key, uint32_t key_len, uint32_t init_val)
{
	(void)key_len;
	(void)init_val;
	return dns_key_hash(key);
}

static int fp_shm_memzones(struct fp_shm *s, unsigned int n_workers, int socket)
{
	size_t qsbr_sz = rte_rcu_qsbr_get_memsize(n_workers);

	s->mz_state = rte_memzone_reserve(DP_MZ_STATE, sizeof(struct dp_state), socket, 0);
	s->mz_counters = rte_memzone_reserve_aligned(DP_MZ_COUNTERS,
			sizeof(struct dp_counters) * DP_MAX_WORKERS, socket, 0, RTE_CACHE_LINE_SIZE);
	s->mz_qsbr = rte_memzone_reserve_aligned(DP_MZ_QSBR, qsbr_sz, socket, 0,
						 RTE_CACHE_LINE_SIZE);
	if (s->mz_state == NULL || s->mz_counters == NULL || s->mz_qsbr == NULL)
		return -rte_errno;
	s->state = s->mz_state->addr;
	s->counters = s->mz_counters->addr;
	s->qsbr = s->mz_qsbr->addr;
	memset(s->state, 0, sizeof(*s->state));
	memset(s->counters, 0, sizeof(struct dp_counters) * DP_MAX_WORKERS);
	return rte_rcu_qsbr_init(s->qsbr, n_workers) < 0 ? -rte_errno : 0;
}

static int fp_shm_hash(struct fp_shm *s, uint32_t entries, int socket)
{
	struct rte_hash_parameters p = {
		.name = DP_HASH_ANSWERS,
		.entries = entries,
		.key_len = DNS_KEY_LEN,
		.hash_func = fp_shm_key_hash,
		.socket_id = socket,
		/* Lock-free readers: the workers never block on the control plane's writes. */
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};

	s->hash = rte_hash_create(&p);
	return s->hash == NULL ? -rte_errno : 0;
}

static int fp_shm_rings(struct fp_shm *s, uint32_t mbufs, bool exception, int socket)
{
	unsigned int miss_sz = FP_MISS_RING_MAX;
	char name[RTE_RING_NAMESIZE];

	/* The miss ring holds mbufs while the control plane is away: keep most of the pool
	 * for RX so a stalled control plane cannot starve ARP/ICMP/table answers. */
	while (miss_sz > 64 && miss_sz > mbufs / 4)
		miss_sz /= 2;
	s->miss = rte_ring_create_elem(DP_RING_MISS, sizeof(struct dp_miss), miss_sz, socket,
				       RING_F_SC_DEQ);
	if (s->miss == NULL)
		return -rte_errno;
	for (unsigned int i = 0; i < s->n_workers; i++) {
		snprintf(name, sizeof(name), DP_RING_REPLY_FMT, i);
		s->reply[i] = rte_ring_create_elem(name, sizeof(struct dp_miss), FP_REPLY_RING_SZ,
						   socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (s->reply[i] == NULL)
			return -rte_errno;
	}
	if (!exception)
		return 0;
	s->exc_tx = rte_ring_create(FP_RING_EXC_TX, FP_EXC_RING_SZ, socket, RING_F_SC_DEQ);
	s->exc_rx = rte_ring_create(FP_RING_EXC_RX, FP_EXC_RING_SZ, socket,
				    RING_F_SP_ENQ | RING_F_SC_DEQ);
	return s->exc_tx == NULL || s->exc_rx == NULL ? -rte_errno : 0;
}

static void fp_shm_fill_state(struct fp_shm *s, const struct fp_config *cfg)
{
	struct dp_state *st = s->state;

	st->version = DP_SHM_VERSION;
	st->fp_pid = (int32_t)getpid();
	st->n_workers = s->n_workers;
	st->fp_start_unix = (uint64_t)time(NULL);
	st->port_id = UINT16_MAX;
	st->exc_port_id = UINT16_MAX;
	st->table_size = cfg->table_size;
	st->mbufs = cfg->mbufs;
	st->n_addr4 = (uint16_t)cfg->n_addr4;
	st->n_addr6 = (uint16_t)cfg->n_addr6;
	for (unsigned int i = 0; i < cfg->n_addr4; i++)
		memcpy(st->addr4[i], &cfg->addr4[i], 4);
	memcpy(st->addr6, cfg->addr6, sizeof(st->addr6));
	if (!cfg->no_exception)
		snprintf(st->exc_name, sizeof(st->exc_name), "%s", cfg->exc_iface);
	st->dns_ports[0] = 53;
	st->now = dp_monotonic_sec();
}

int fp_shm_create(struct fp_shm *s, const struct fp_config *cfg, unsigned int n_workers,
		  int socket)
{
	int ret;

	memset(s, 0, sizeof(*s));
	if (n_workers == 0 || n_workers > DP_MAX_WORKERS)
		return -EINVAL;
	s->n_workers = n_workers;
	ret = fp_shm_memzones(s, n_workers, socket);
	if (ret < 0)
		goto fail;
	ret = fp_shm_hash(s, cfg->table_size, socket);
	if (ret < 0)
		goto fail;
	ret = fp_shm_rings(s, cfg->mbufs, !cfg->no_exception, socket);
	if (ret < 0)
		goto fail;
	s->pool = rte_pktmbuf_pool_create(DP_POOL_MBUF, cfg->mbufs, FP_POOL_CACHE, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (s->pool == NULL) {
		ret = -rte_errno;
		goto fail;
	}
	fp_shm_fill_state(s, cfg);
	return 0;
fail:
	fp_shm_destroy(s);
	return ret < 0 ? ret : -ENOMEM;
}

void fp_shm_publish(struct fp_shm *s)
{
	/* The control plane checks magic first: everything above must be visible before it. */
	__atomic_store_n(&s->state->magic, DP_SHM_MAGIC, __ATOMIC_RELEASE);
}

void fp_shm_destroy(struct fp_shm *s)
{
	if (s->state != NULL)
		__atomic_store_n(&s->state->magic, 0, __ATOMIC_RELEASE);
	rte_mempool_free(s->pool);
	rte_ring_free(s->exc_rx);
	rte_ring_free(s->exc_tx);
	for (unsigned int i = 0; i < DP_MAX_WORKERS; i++)
		rte_ring_free(s->reply[i]);
	rte_ring_free(s->miss);
	rte_hash_free(s->hash);
	if (s->mz_qsbr != NULL)
		rte_memzone_free(s->mz_qsbr);
	if (s->mz_counters != NULL)
		rte_memzone_free(s->mz_counters);
	if (s->mz_state != NULL)
		rte_memzone_free(s->mz_state);
	memset(s, 0, sizeof(*s));
}
