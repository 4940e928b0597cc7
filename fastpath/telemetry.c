/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns fast path - DPDK telemetry command /dpdns/stats: the per-worker counters of the
 * counters memzone, as `dpdk-telemetry.py` shows them. Runs in the telemetry thread and
 * only reads.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_telemetry.h>

#include "fp.h"

/* The telemetry callback has no user argument. Written once before registration. */
static const struct fp_shm *tel_shm; /**< NULL once the objects are being freed */
static const struct fp_exc *tel_exc;

static const char *const fp_drop_names[DP_DROP_MAX] = {
	[DP_DROP_RUNT] = "drop_runt",
	[DP_DROP_L2] = "drop_l2",
	[DP_DROP_IP_HDR] = "drop_ip_hdr",
	[DP_DROP_IP_LEN] = "drop_ip_len",
	[DP_DROP_IP_CSUM] = "drop_ip_csum",
	[DP_DROP_FRAG] = "drop_frag",
	[DP_DROP_UDP_LEN] = "drop_udp_len",
	[DP_DROP_UDP_CSUM] = "drop_udp_csum",
	[DP_DROP_DNS] = "drop_dns",
	[DP_DROP_MISS_FULL] = "drop_miss_full",
	[DP_DROP_TX_FULL] = "drop_tx_full",
	[DP_DROP_EXC_FULL] = "drop_exc_full",
	[DP_DROP_NO_EXC] = "drop_no_exc",
	[DP_DROP_REPLY_BAD] = "drop_reply_bad",
	[DP_DROP_CP_NOANSWER] = "drop_cp_noanswer",
};

#define FP_LD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

static void fp_tel_rcodes(struct rte_tel_data *d, const struct dp_counters *c)
{
	char name[32];

	for (unsigned int r = 0; r < RTE_DIM(c->rcode); r++) {
		const char *s = dns_rcode_str((int)r);
		unsigned int k = 0;

		/* "rcode_nxdomain"; unnamed codes as "rcode_<n>" */
		if (strncmp(s, "RCODE", 5) == 0) {
			snprintf(name, sizeof(name), "rcode_%u", r);
		} else {
			k = (unsigned int)snprintf(name, sizeof(name), "rcode_");
			for (; *s != '\0' && k + 1 < sizeof(name); s++)
				name[k++] = (char)tolower((unsigned char)*s);
			name[k] = '\0';
		}
		rte_tel_data_add_dict_u64(d, name, FP_LD(c->rcode[r]));
	}
}

static void fp_tel_counters(struct rte_tel_data *d, const struct dp_counters *c)
{
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "rx_pkts", FP_LD(c->rx_pkts));
	rte_tel_data_add_dict_u64(d, "tx_pkts", FP_LD(c->tx_pkts));
	rte_tel_data_add_dict_u64(d, "dns_queries", FP_LD(c->dns_queries));
	rte_tel_data_add_dict_u64(d, "dns_queries_v6", FP_LD(c->dns_queries_v6));
	rte_tel_data_add_dict_u64(d, "answered", FP_LD(c->answered));
	rte_tel_data_add_dict_u64(d, "hits", FP_LD(c->hits));
	rte_tel_data_add_dict_u64(d, "nodata", FP_LD(c->nodata));
	rte_tel_data_add_dict_u64(d, "zone_neg", FP_LD(c->zone_neg));
	rte_tel_data_add_dict_u64(d, "cache_hits", FP_LD(c->cache_hits));
	rte_tel_data_add_dict_u64(d, "missed", FP_LD(c->missed));
	rte_tel_data_add_dict_u64(d, "replies", FP_LD(c->replies));
	rte_tel_data_add_dict_u64(d, "truncated", FP_LD(c->truncated));
	rte_tel_data_add_dict_u64(d, "arp", FP_LD(c->arp));
	rte_tel_data_add_dict_u64(d, "nd", FP_LD(c->nd));
	rte_tel_data_add_dict_u64(d, "icmp_echo", FP_LD(c->icmp_echo));
	rte_tel_data_add_dict_u64(d, "exception_tx", FP_LD(c->exception_tx));
	rte_tel_data_add_dict_u64(d, "exception_rx", FP_LD(c->exception_rx));
	rte_tel_data_add_dict_u64(d, "bursts", FP_LD(c->bursts));
	for (unsigned int i = 0; i < DP_DROP_MAX; i++)
		rte_tel_data_add_dict_u64(d, fp_drop_names[i], FP_LD(c->drop[i]));
	fp_tel_rcodes(d, c);
}

static void fp_tel_exc(struct rte_tel_data *d, const struct fp_exc *x)
{
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "kernel_tx", FP_LD(x->kernel_tx));
	rte_tel_data_add_dict_u64(d, "kernel_tx_drop", FP_LD(x->kernel_tx_drop));
	rte_tel_data_add_dict_u64(d, "kernel_rx", FP_LD(x->kernel_rx));
	rte_tel_data_add_dict_u64(d, "kernel_rx_drop", FP_LD(x->kernel_rx_drop));
}

static int fp_tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct fp_shm *s = __atomic_load_n(&tel_shm, __ATOMIC_ACQUIRE);
	char name[32];

	(void)cmd;
	(void)params;
	if (s == NULL)
		return -ENODEV;
	rte_tel_data_start_dict(d);
	for (unsigned int i = 0; i < s->n_workers; i++) {
		struct rte_tel_data *c = rte_tel_data_alloc();

		if (c == NULL)
			return -ENOMEM;
		fp_tel_counters(c, &s->counters[i]);
		snprintf(name, sizeof(name), "worker%u", i);
		rte_tel_data_add_dict_container(d, name, c, 0);
	}
	if (tel_exc != NULL) {
		struct rte_tel_data *c = rte_tel_data_alloc();

		if (c == NULL)
			return -ENOMEM;
		fp_tel_exc(c, tel_exc);
		rte_tel_data_add_dict_container(d, "exception", c, 0);
	}
	return 0;
}

void fp_telemetry_detach(void)
{
	__atomic_store_n(&tel_shm, NULL, __ATOMIC_RELEASE);
}

int fp_telemetry_register(const struct fp_shm *s, const struct fp_exc *exc)
{
	tel_exc = exc;
	__atomic_store_n(&tel_shm, s, __ATOMIC_RELEASE);
	return rte_telemetry_register_cmd("/dpdns/stats", fp_tel_stats,
		"Per-worker fast path counters (dp_counters) and exception port counters");
}
