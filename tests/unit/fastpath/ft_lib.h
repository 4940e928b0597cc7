/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns fast path tests - EAL without hugepages or NIC, crafted frames, reply checks.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "fp.h"

/** Test fixture: the shared objects of a one-worker fast path, no port. */
struct ft_env {
	struct fp_config cfg;
	struct fp_shm shm;
	struct fp_worker *w;
	struct dp_counters before; /**< snapshot taken by FT_SNAP() */
};

#define FT_SNAP(e) ((e)->before = *(e)->w->cnt)
#define FT_DELTA(e, field) ((e)->w->cnt->field - (e)->before.field)

#define FT_SERVER4 "198.18.0.53"
#define FT_SERVER6 "2001:db8::53"
#define FT_CLIENT4 "198.18.0.1"
#define FT_CLIENT6 "2001:db8::1"

extern const uint8_t ft_server_mac[6];
extern const uint8_t ft_client_mac[6];

/** rte_eal_init() with no hugepages, no PCI, no shared files. @return 0 or -1 */
int ft_eal_init(const char *prog);
/** rte_eal_cleanup() and removal of the (empty) runtime directory. */
void ft_eal_cleanup(void);
/** Create the shared objects and worker 0. @return 0 or negative errno */
int ft_env_setup(struct ft_env *e, uint32_t table_size, uint32_t mbufs);
void ft_env_teardown(struct ft_env *e);

/** How to build a query frame; zero-initialised = IPv4, no VLAN, server port 53. */
struct ft_frame {
	bool v6;
	bool vlan;
	bool qinq;              /**< a second 802.1Q tag */
	uint16_t tci;
	uint8_t ip_opts;        /**< IPv4 option bytes (multiple of 4) */
	uint16_t sport;         /**< default 40000 */
	uint16_t dport;         /**< default 53 */
	const char *src;        /**< default FT_CLIENT4/6 */
	const char *dst;        /**< default FT_SERVER4/6 */
	const uint8_t *dst_mac; /**< default ft_server_mac */
	bool bad_ip_csum;
	bool bad_udp_csum;
	bool zero_udp_csum;
	bool frag;              /**< IPv4 MF / IPv6 fragment header */
	bool hop_by_hop;        /**< IPv6 extension header before UDP */
	int ip_len_delta;       /**< added to the IP total/payload length after checksums */
	int udp_len_delta;      /**< added to the UDP length (checksums computed after) */
	uint16_t pad;           /**< Ethernet padding bytes after the packet */
	uint8_t hop;            /**< TTL / hop limit, default 17 */
};

/** Encode a query: @p edns 0 = no OPT record, else the advertised size. @return length */
uint16_t ft_dns_query(uint8_t *out, uint16_t id, uint16_t flags, const char *name,
		      uint16_t qtype, uint16_t edns, uint8_t edns_version);
/** @return an mbuf holding Ethernet/[VLAN]/IP/UDP around @p payload, or NULL. */
struct rte_mbuf *ft_udp_frame(struct rte_mempool *pool, const struct ft_frame *f,
			      const uint8_t *payload, uint16_t len);
/** @return Ethernet/[VLAN]/IP around raw L4 bytes (no L4 checksum computed), or NULL. */
struct rte_mbuf *ft_ip_frame(struct rte_mempool *pool, const struct ft_frame *f,
			     uint8_t proto, const uint8_t *l4, uint16_t len);
/** @return an mbuf with @p len raw bytes. */
struct rte_mbuf *ft_raw_frame(struct rte_mempool *pool, const uint8_t *b, uint16_t len);

/**
 * Check that @p m is a well-formed UDP reply to a query built from @p f (addresses,
 * ports, MACs swapped, VLAN kept, 20-byte IPv4 header with DF/TTL 64, lengths and
 * checksums consistent). @p f may be NULL to check consistency only.
 * @return NULL, or a description of the first problem. *dns / *dns_len point at the DNS message.
 */
const char *ft_check_reply(const struct rte_mbuf *m, const struct ft_frame *f,
			   const uint8_t **dns, uint16_t *dns_len);

/** Add a value for (@p name, @p qtype) built by @p b to the table. @return the value */
struct dns_answer *ft_table_add(struct ft_env *e, const char *name, uint16_t qtype,
				const struct dns_builder *b);

/* ------------------------------------------------------------------------- */
/* Running frames through the worker                                            */

/** Query frame for @p name / @p qtype (ID 0xbeef, RD), @p edns 0 = no OPT. */
struct rte_mbuf *ft_query(struct ft_env *e, const struct ft_frame *f, const char *name,
			  uint16_t qtype, uint16_t edns);
/** Run one frame; @return the single reply, or NULL when none was produced. */
struct rte_mbuf *ft_run1(struct ft_env *e, struct rte_mbuf *m);
/** Run a query expected to be answered. @return the DNS message (mbuf in *out) or NULL */
const uint8_t *ft_answered(struct ft_env *e, const struct ft_frame *f, struct rte_mbuf *m,
			   struct rte_mbuf **out, uint16_t *dlen);
void ft_expect_drop(struct ft_env *e, const char *what, struct rte_mbuf *m, enum dp_drop why);
void ft_expect_exception(struct ft_env *e, const char *what, struct rte_mbuf *m);
/** Take one element from the miss ring. @return true when there was one */
bool ft_take_miss(struct ft_env *e, struct dp_miss *el);
void ft_expect_miss(struct ft_env *e, const char *what, struct rte_mbuf *m,
		    enum dp_miss_reason why, uint16_t max_len);
/** @return the big-endian 16-bit value at @p p */
uint16_t ft_rd16(const uint8_t *p);
