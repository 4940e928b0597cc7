/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns fast path - internal interfaces between the fast path's files, the unit tests and
 * the benchmark. Not an ABI: the cross-process layout is common/dp_shm.h.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <net/if.h>

#include <rte_ether.h>
#include <rte_log.h>

#include "dns.h"
#include "dp_shm.h"

struct rte_mbuf;
struct rte_mempool;
struct rte_hash;
struct rte_ring;
struct rte_rcu_qsbr;
struct rte_memzone;

/** Log lines read "DPDNS: ..." (the DPDK examples' idiom: an alias of a user log type). */
#define RTE_LOGTYPE_DPDNS RTE_LOGTYPE_USER1

#define FP_BURST          32   /**< RX burst and lookup batch (< RTE_HASH_LOOKUP_BULK_MAX) */
#define FP_TX_MAX         (3 * FP_BURST) /**< answers + control-plane replies + kernel frames */
#define FP_DEFAULT_TABLE  262144u
#define FP_DEFAULT_MBUFS  16383u
#define FP_DEFAULT_EXC    "dpdns0"
#define FP_EXC_VDEV       "net_tap_dpdns"
#define FP_RING_EXC_TX    "dpdns_exc_tx"  /**< workers -> kernel (MP/SC), private to the fast path */
#define FP_RING_EXC_RX    "dpdns_exc_rx"  /**< kernel -> wire (SP/SC), drained by worker 0 */
#define FP_REPLY_RING_SZ  1024u
#define FP_EXC_RING_SZ    1024u

/* ------------------------------------------------------------------------- */
/* Command line (args.c)                                                       */

struct fp_config {
	uint32_t addr4[DP_MAX_ADDRS];      /**< network order */
	uint8_t addr6[DP_MAX_ADDRS][16];
	unsigned int n_addr4;
	unsigned int n_addr6;
	int port_id;                       /**< -1: first ethdev that is not the exception tap */
	bool no_exception;
	char exc_iface[IF_NAMESIZE];
	uint32_t table_size;
	uint32_t mbufs;
};

/** Print the application's usage (after the EAL's) to @p out. */
void fp_usage(FILE *out, const char *prog);
/**
 * Parse the application arguments (those after "--"). Errors are printed to @p err
 * naming the argument.
 * @return 0, 1 when --help was given (usage printed to stdout), -EINVAL on a bad argument.
 */
int fp_args_parse(struct fp_config *cfg, int argc, char **argv, FILE *err);

/* ------------------------------------------------------------------------- */
/* Shared objects (shm.c)                                                      */

struct fp_shm {
	const struct rte_memzone *mz_state;
	const struct rte_memzone *mz_counters;
	const struct rte_memzone *mz_qsbr;
	struct dp_state *state;
	struct dp_counters *counters;       /**< [DP_MAX_WORKERS] */
	struct rte_rcu_qsbr *qsbr;
	struct rte_hash *hash;
	struct rte_ring *miss;
	struct rte_ring *reply[DP_MAX_WORKERS];
	struct rte_ring *exc_tx;            /**< NULL without exception port */
	struct rte_ring *exc_rx;
	struct rte_mempool *pool;
	unsigned int n_workers;
};

/**
 * Create every object of dp_shm.h plus the private exception rings, and fill the
 * configuration part of dp_state (magic is published later by fp_shm_publish()).
 * @return 0 or negative errno (everything created so far is freed again).
 */
int fp_shm_create(struct fp_shm *s, const struct fp_config *cfg, unsigned int n_workers,
		  int socket);
/** Make dp_state visible to the control plane (magic store with release order). */
void fp_shm_publish(struct fp_shm *s);
/** Free everything fp_shm_create() made (safe on a partly created set). */
void fp_shm_destroy(struct fp_shm *s);
/** Hash function given to rte_hash_create(); only ever used by non-_with_hash calls. */
uint32_t fp_shm_key_hash(const void *key, uint32_t key_len, uint32_t init_val);

/* ------------------------------------------------------------------------- */
/* Per-worker state (worker.c), packet handling (l2l3.c, answer.c)            */

/** What classification decided for one received frame. */
enum fp_verdict {
	FP_V_DROP = 0, /**< counted, caller frees */
	FP_V_EXC,      /**< hand to the kernel through the exception port */
	FP_V_TX,       /**< reply built in place (ARP, ICMP, NA): transmit */
	FP_V_DNS,      /**< UDP DNS query to us: struct fp_pkt filled */
};

/** Offsets of a validated UDP DNS query inside its mbuf. */
struct fp_pkt {
	uint16_t l3_off;
	uint16_t dns_off;
	uint16_t dns_len;
	uint16_t max_len;  /**< largest response the mbuf, the MTU and the client allow */
	uint8_t l3;        /**< 4 or 6 */
};

struct fp_worker {
	/* Read-only after fp_worker_init(). */
	uint16_t idx;            /**< worker index: QSBR thread id, counter block, reply ring */
	uint16_t port_id;
	uint16_t queue_id;
	uint16_t mtu;
	bool rx_csum;            /**< trust RX checksum flags (port offers the offload) */
	bool tx_csum;            /**< let the port compute IPv4/UDP checksums */
	bool main_duties;        /**< single-lcore mode: also poll the exception port, refresh now */
	struct rte_ether_addr mac;
	uint16_t n_addr4;
	uint16_t n_addr6;
	uint32_t addr4[DP_MAX_ADDRS];
	uint8_t addr6[DP_MAX_ADDRS][16];
	struct dp_state *state;
	struct dp_counters *cnt;
	struct rte_hash *hash;
	struct rte_ring *miss_ring;
	struct rte_ring *reply_ring;
	struct rte_ring *exc_ring;   /**< frames to the kernel; NULL without exception port */
	struct rte_ring *kern_ring;  /**< frames from the kernel; worker 0 only */
	struct rte_rcu_qsbr *qsbr;
	struct fp_exc *exc;          /**< main_duties only */

	/* Refreshed per burst. */
	uint32_t now;
	uint16_t dns_ports[DP_MAX_PORTS];

	/* Scratch for one burst (kept here so the loop never allocates). */
	struct fp_pkt pkt[FP_BURST];
	struct dns_query q[FP_BURST];
} __rte_cache_aligned;

/** Fill @p w for worker @p idx from the shared objects; port_id UINT16_MAX = no port (tests). */
void fp_worker_init(struct fp_worker *w, const struct fp_shm *s, unsigned int idx,
		    uint16_t port_id, uint16_t queue_id);

/**
 * Handle @p n received frames: replies built in place are stored in @p tx, misses go to
 * the miss ring, other frames to the exception ring, the rest is freed and counted.
 * @return number of frames stored in @p tx (at most @p n).
 */
uint16_t fp_worker_process_burst(struct fp_worker *w, struct rte_mbuf **pkts, uint16_t n,
				 struct rte_mbuf **tx);
/**
 * Take up to @p room control-plane replies from the worker's reply ring, rewrite them
 * into responses and store them in @p tx.
 * @return frames stored.
 */
uint16_t fp_worker_drain_replies(struct fp_worker *w, struct rte_mbuf **tx, uint16_t room);
/** Main-lcore housekeeping: exception port (@p x may be NULL), dp_state.now. */
void fp_main_duties(struct dp_state *st, struct fp_exc *x);
/** Worker lcore entry point (rte_eal_remote_launch); @p arg is a struct fp_worker *. */
int fp_worker_main(void *arg);

/** L2/L3/L4 checks of one frame; ARP/ICMP/NDP replies are built in place. */
enum fp_verdict fp_l2l3_classify(struct fp_worker *w, struct rte_mbuf *m, struct fp_pkt *p);
/**
 * Turn the query frame in @p m into the UDP response whose DNS message (@p dns_len bytes)
 * is already at @p dns_off: addresses and ports swapped, VLAN tag kept, fresh 20-byte
 * IPv4 header (TTL 64, DF, ID 0) or IPv6 header, lengths and checksums set.
 */
void fp_l2l3_reply_udp(const struct fp_worker *w, struct rte_mbuf *m, uint16_t l3_off,
		       uint8_t l3, uint16_t dns_off, uint16_t dns_len);

/**
 * DNS stage for the @p n queries of a burst (frames @p m, offsets in w->pkt):
 * parse, bulk lookup, encode in place; misses to the miss ring.
 * @return responses stored in @p tx.
 */
uint16_t fp_answer_burst(struct fp_worker *w, struct rte_mbuf **m, uint16_t n,
			 struct rte_mbuf **tx);
/** Record a response with @p rcode in the worker's counters. */
void fp_count_rcode(struct fp_worker *w, unsigned int rcode);

/* ------------------------------------------------------------------------- */
/* Exception port (exception.c)                                                */

/** Main-lcore side of the exception path; counts are private to the fast path. */
struct fp_exc {
	uint16_t port_id;           /**< tap port */
	struct rte_ring *to_kernel; /**< FP_RING_EXC_TX */
	struct rte_ring *to_wire;   /**< FP_RING_EXC_RX */
	uint64_t kernel_tx;         /**< frames written to the tap */
	uint64_t kernel_tx_drop;    /**< refused by the tap */
	uint64_t kernel_rx;         /**< frames read from the tap */
	uint64_t kernel_rx_drop;    /**< kernel->wire ring full */
};

/** Hand @p n frames to the kernel (or free and count them when there is no exception port). */
void fp_exc_send(struct fp_worker *w, struct rte_mbuf **m, uint16_t n);
/** Worker 0: append up to @p room frames the kernel sent to @p tx. @return frames stored */
uint16_t fp_exc_from_kernel(struct fp_worker *w, struct rte_mbuf **tx, uint16_t room);
/** Main lcore: move frames ring -> tap and tap -> ring. @return frames moved */
unsigned int fp_exc_poll(struct fp_exc *x);

/* ------------------------------------------------------------------------- */
/* Ports (port.c)                                                              */

struct fp_port_caps {
	bool rx_csum;
	bool tx_csum;
	uint16_t mtu;
};

/** @return the first valid ethdev that is not @p skip, or -ENODEV. */
int fp_port_default(uint16_t skip);
/** Configure and start the DNS port with @p n_queues queue pairs. @return 0 or -errno */
int fp_port_setup(uint16_t port_id, uint16_t n_queues, struct rte_mempool *pool,
		  struct fp_port_caps *caps);
/** Create and start the exception tap @p iface with @p mac. @return its port id or -errno */
int fp_port_exc_create(const char *iface, const struct rte_ether_addr *mac,
		       struct rte_mempool *pool);
/** Stop and close a port (the tap vdev is removed too). */
void fp_port_close(uint16_t port_id);

/* ------------------------------------------------------------------------- */
/* Telemetry (telemetry.c)                                                     */

/** Register /dpdns/stats; @p exc may be NULL. @return 0 or negative errno */
int fp_telemetry_register(const struct fp_shm *s, const struct fp_exc *exc);
/** Make /dpdns/stats answer an error from now on (before the objects are freed). */
void fp_telemetry_detach(void);
