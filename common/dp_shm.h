/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - names and layouts of the DPDK objects the fast path (primary) creates and the
 * control plane (secondary) attaches to. This header is the cross-process ABI: bump
 * DP_SHM_VERSION on any layout change. No DPDK types here (pointers are void *).
 */
#pragma once

#include <stdint.h>

#include "dns.h"

#define DP_SHM_MAGIC   0x64706e73u /**< "dpns" */
#define DP_SHM_VERSION 3u

/* Object names (looked up with rte_memzone_lookup / rte_hash_find_existing / rte_ring_lookup). */
#define DP_MZ_STATE     "dpdns_state"     /**< struct dp_state */
#define DP_MZ_COUNTERS  "dpdns_counters"  /**< struct dp_counters[DP_MAX_WORKERS] */
#define DP_MZ_QSBR      "dpdns_qsbr"      /**< struct rte_rcu_qsbr for the workers */
#define DP_HASH_ANSWERS "dpdns_answers"   /**< rte_hash: struct dns_key -> struct dns_answer * */
#define DP_RING_MISS    "dpdns_miss"      /**< MP/SC ring of struct dp_miss (workers -> control plane) */
#define DP_RING_REPLY_FMT "dpdns_reply_%u"/**< SP/SC ring per worker of struct dp_miss (control plane -> worker) */
#define DP_POOL_MBUF    "dpdns_mbufs"     /**< packet mbuf pool */

#define DP_MAX_WORKERS 16
#define DP_MAX_ADDRS   8
#define DP_MAX_PORTS   8   /**< UDP ports answered as DNS */
#define DP_MAX_ZONES   64

/**
 * A query the fast path hands to the control plane, and the same element coming back on
 * a reply ring. The mbuf travels with it: the receiver owns it.
 */
struct dp_miss {
	void *mbuf;        /**< struct rte_mbuf * holding the whole frame */
	uint16_t worker;   /**< worker index: reply goes to its reply ring */
	uint16_t l3_off;   /**< offset of the IP header from the mbuf data start */
	uint16_t dns_off;  /**< offset of the DNS header from the mbuf data start */
	uint16_t dns_len;  /**< DNS message length; in a reply: the response length, 0 = drop */
	uint8_t l3;        /**< 4 or 6 */
	uint8_t reason;    /**< enum dp_miss_reason */
	uint16_t max_len;  /**< largest response the mbuf and the client's size allow */
};

enum dp_miss_reason {
	DP_MISS_NOT_FOUND = 0, /**< no table entry and no fast-path zone answer */
	DP_MISS_LONG_NAME,     /**< name longer than DNS_KEY_NAME_MAX */
	DP_MISS_EXPIRED,       /**< cache entry found but expired, or the query has DO/CD */
	DP_MISS_QTYPE,         /**< type the fast path never answers (ANY, AXFR, ...) */
};

/** Per-zone fast-path policy for names with no table entry. */
struct dp_zone {
	uint8_t name[DNS_KEY_NAME_MAX]; /**< lower-cased wire name */
	uint16_t name_len;
	uint16_t flags;                 /**< DP_ZONE_* */
	const struct dns_answer *miss;  /**< answer for names under the zone with no entry
					     (e.g. NXDOMAIN + SOA); NULL = miss ring */
};

#define DP_ZONE_ANSWER_MISS 0x1 /**< zone->miss is valid and the zone is synced */

/** Zone set, published as a whole through dp_state.zones and freed after a QSBR grace period. */
struct dp_zoneset {
	uint32_t n_zones;
	uint32_t pad;
	struct dp_zone zones[]; /**< longest names first: the first suffix match wins */
};

/** Drop reasons, counted per worker. Never logged per packet. */
enum dp_drop {
	DP_DROP_RUNT = 0,     /**< frame shorter than its headers */
	DP_DROP_L2,           /**< not for us / bad ethertype / more than one VLAN tag */
	DP_DROP_IP_HDR,       /**< bad IP version / header length */
	DP_DROP_IP_LEN,       /**< IP length lies about the frame */
	DP_DROP_IP_CSUM,
	DP_DROP_FRAG,         /**< IPv4/IPv6 fragment */
	DP_DROP_UDP_LEN,
	DP_DROP_UDP_CSUM,
	DP_DROP_DNS,          /**< not answerable (QR=1, shorter than a header) */
	DP_DROP_MISS_FULL,    /**< miss ring full (control plane away or overloaded) */
	DP_DROP_TX_FULL,      /**< TX queue refused */
	DP_DROP_EXC_FULL,     /**< exception port refused */
	DP_DROP_NO_EXC,       /**< no exception port configured */
	DP_DROP_REPLY_BAD,    /**< malformed reply element from the control plane */
	DP_DROP_CP_NOANSWER,  /**< control plane returned the query unanswered (dns_len 0) */
	DP_DROP_MAX
};

/**
 * Query type buckets of coredns_dns_requests_total{type}: CoreDNS names the common types,
 * the rest are "other". Counted by the fast path and the control plane alike.
 */
enum dp_qt {
	DP_QT_A, DP_QT_AAAA, DP_QT_CNAME, DP_QT_MX, DP_QT_NS, DP_QT_PTR, DP_QT_SOA,
	DP_QT_SRV, DP_QT_TXT, DP_QT_HTTPS, DP_QT_DS, DP_QT_DNSKEY, DP_QT_ANY,
	DP_QT_AXFR, DP_QT_IXFR, DP_QT_OTHER, DP_QT_N
};

/** @return the enum dp_qt bucket of query type @p qtype. */
static inline unsigned int dp_qt_index(uint16_t qtype)
{
	switch (qtype) {
	case 1: return DP_QT_A;
	case 28: return DP_QT_AAAA;
	case 5: return DP_QT_CNAME;
	case 15: return DP_QT_MX;
	case 2: return DP_QT_NS;
	case 12: return DP_QT_PTR;
	case 6: return DP_QT_SOA;
	case 33: return DP_QT_SRV;
	case 16: return DP_QT_TXT;
	case 65: return DP_QT_HTTPS;
	case 43: return DP_QT_DS;
	case 48: return DP_QT_DNSKEY;
	case 255: return DP_QT_ANY;
	case 252: return DP_QT_AXFR;
	case 251: return DP_QT_IXFR;
	default: return DP_QT_OTHER;
	}
}

/** Per-worker counters, one cache-aligned block each. Written by one worker only. */
struct dp_counters {
	uint64_t rx_pkts;        /**< frames received on the DNS port queue */
	uint64_t tx_pkts;        /**< frames sent on the DNS port queue */
	uint64_t dns_queries;    /**< UDP DNS queries seen */
	uint64_t dns_queries_v6; /**< of which over IPv6 */
	uint64_t answered;       /**< answered from the table (hit, NODATA, zone negative) */
	uint64_t hits;           /**< exact (name, type) hits */
	uint64_t nodata;         /**< answered from the name's exists-marker */
	uint64_t zone_neg;       /**< answered by a zone's miss answer */
	uint64_t cache_hits;     /**< hits on entries with an expiry */
	uint64_t missed;         /**< handed to the control plane */
	uint64_t replies;        /**< control-plane replies transmitted */
	uint64_t truncated;      /**< answered with TC=1 */
	uint64_t arp;            /**< ARP requests answered */
	uint64_t nd;             /**< neighbour solicitations answered */
	uint64_t icmp_echo;      /**< ICMP/ICMPv6 echo requests answered */
	uint64_t exception_tx;   /**< frames sent to the kernel */
	uint64_t exception_rx;   /**< frames from the kernel sent out the port */
	uint64_t rcode[24];      /**< responses sent by the fast path (incl. replies) by rcode */
	/** parsed queries by [family v4=0 v6=1][enum dp_qt]; the unparsable ones are
	 *  dns_queries minus these (type "other" of coredns_dns_requests_total) */
	uint64_t qtype[2][DP_QT_N];
	uint64_t drop[DP_DROP_MAX];
	uint64_t bursts;         /**< loop iterations that received something */
} __attribute__((aligned(64)));

/** Global state in memzone DP_MZ_STATE. Fields written by one process, read by both. */
struct dp_state {
	uint32_t magic;             /**< DP_SHM_MAGIC */
	uint32_t version;           /**< DP_SHM_VERSION */
	int32_t fp_pid;             /**< fast path PID */
	uint32_t n_workers;
	uint64_t fp_start_unix;     /**< fast path start, unix seconds */
	uint16_t port_id;
	uint16_t exc_port_id;       /**< UINT16_MAX when there is none */
	uint16_t n_rxq;
	uint16_t table_entries;     /**< unused; see table_size */
	uint32_t table_size;        /**< capacity of DP_HASH_ANSWERS */
	uint32_t mbufs;             /**< size of the mbuf pool */
	char port_name[64];
	char exc_name[32];          /**< kernel interface name of the exception port */
	uint8_t mac[6];
	uint16_t n_addr4;
	uint16_t n_addr6;
	uint16_t pad;
	uint8_t addr4[DP_MAX_ADDRS][4];   /**< network order */
	uint8_t addr6[DP_MAX_ADDRS][16];
	uint16_t worker_lcore[DP_MAX_WORKERS];

	/* Written by the control plane (__atomic builtins, release/acquire). */
	uint16_t dns_ports[DP_MAX_PORTS]; /**< UDP ports answered, 0 = unused; default {53} */
	struct dp_zoneset *zones;   /**< RCU-published; NULL = no zone policy (all misses to the ring) */
	uint64_t config_gen;        /**< configuration generation the control plane applied */
	int32_t cp_pid;             /**< control plane PID, 0 = none attached */
	uint32_t cp_heartbeat;      /**< CLOCK_MONOTONIC seconds, refreshed every second */

	/* Written by the fast path. */
	uint32_t now;               /**< CLOCK_MONOTONIC seconds, refreshed by the main lcore */
	uint32_t quit;              /**< set on SIGINT/SIGTERM */
};

/** @return CLOCK_MONOTONIC seconds (what dns_answer.stored/expire and dp_state.now use). */
uint32_t dp_monotonic_sec(void);
