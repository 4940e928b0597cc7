/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns fast path - Ethernet/VLAN/ARP/IPv4/IPv6/ICMP/NDP/UDP: validation of received
 * frames, replies built in place, and the one reply rewrite every response goes through.
 * Every frame ends as exactly one verdict; every drop is counted by reason.
 */
#include <netinet/in.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "csum.h"
#include "fp.h"

#define FP_TTL          64
#define FP_IP4_HDR      20
#define FP_IP6_HDR      40
#define FP_UDP_HDR      8
#define FP_ICMP6_NS     135
#define FP_ICMP6_NA     136
#define FP_ICMP6_ECHO   128
#define FP_ICMP6_REPLY  129
#define FP_ND_MIN       24  /**< NS/NA: type, code, checksum, reserved/flags, target */
#define FP_NA_LEN       32  /**< NA + target link-layer address option */
#define FP_NA_FLAGS     0x60 /**< Solicited | Override (we are not a router) */
#define FP_ETHER_TYPE_MIN 0x0600 /**< smaller values are 802.3 lengths, not types */

static inline enum fp_verdict fp_drop(struct fp_worker *w, enum dp_drop why)
{
	w->cnt->drop[why]++;
	return FP_V_DROP;
}

/** @return true when the pseudo header + L4 bytes (checksum field included) sum to 0xffff. */
static inline bool fp_l4_sum_ok(const void *ip, uint8_t l3, const void *l4, uint16_t len)
{
	uint64_t acc = l3 == 4 ? fp_csum_phdr4(ip, len) : fp_csum_phdr6(ip, len);

	return fp_csum_fold(fp_csum_add(l4, len, acc)) == 0xffff;
}

/** @return the checksum to store for @p len bytes at @p l4 (field zeroed) after @p phdr. */
static inline uint16_t fp_l4_csum(uint64_t phdr, const void *l4, uint16_t len)
{
	return (uint16_t)~fp_csum_fold(fp_csum_add(l4, len, phdr));
}

/* RX checksum flags are only meaningful when the port offers the offload (NONE means
 * the NIC checked integrity though the field itself is not filled: as good as GOOD). */
static inline bool fp_ip4_csum_ok(const struct fp_worker *w, const struct rte_mbuf *m,
				  const void *ip, uint16_t ihl)
{
	if (w->rx_csum) {
		uint64_t f = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;

		if (f == RTE_MBUF_F_RX_IP_CKSUM_BAD)
			return false;
		if (f != RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN)
			return true;
	}
	return fp_csum_fold(fp_csum_add(ip, ihl, 0)) == 0xffff;
}

static inline bool fp_l4_csum_ok(const struct fp_worker *w, const struct rte_mbuf *m,
				 const void *ip, uint8_t l3, const void *l4, uint16_t len)
{
	if (w->rx_csum) {
		uint64_t f = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;

		if (f == RTE_MBUF_F_RX_L4_CKSUM_BAD)
			return false;
		if (f != RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN)
			return true;
	}
	return fp_l4_sum_ok(ip, l3, l4, len);
}

static inline int fp_addr4_idx(const struct fp_worker *w, uint32_t a)
{
	for (unsigned int i = 0; i < w->n_addr4; i++)
		if (w->addr4[i] == a)
			return (int)i;
	return -1;
}

static inline int fp_addr6_idx(const struct fp_worker *w, const uint8_t *a)
{
	for (unsigned int i = 0; i < w->n_addr6; i++)
		if (memcmp(w->addr6[i], a, 16) == 0)
			return (int)i;
	return -1;
}

/* A DNS client must be a unicast host that is not us: answering a spoofed multicast,
 * broadcast, loopback or own source would turn the server into a reflector or a loop. */
static inline bool fp_src4_ok(const struct fp_worker *w, uint32_t src)
{
	uint8_t b0 = (uint8_t)(rte_be_to_cpu_32(src) >> 24);

	return b0 != 0 && b0 != 127 && b0 < 224 && fp_addr4_idx(w, src) < 0;
}

static inline bool fp_src6_ok(const struct fp_worker *w, const uint8_t *src)
{
	static const uint8_t any[16], loop[16] = { [15] = 1 };

	return src[0] != 0xff && memcmp(src, any, 16) != 0 && memcmp(src, loop, 16) != 0 &&
	       fp_addr6_idx(w, src) < 0;
}

static inline bool fp_dns_port(const struct fp_worker *w, uint16_t port_be)
{
	uint16_t port = rte_be_to_cpu_16(port_be);

	for (unsigned int i = 0; i < DP_MAX_PORTS; i++)
		if (w->dns_ports[i] == port && port != 0)
			return true;
	return false;
}

/* ------------------------------------------------------------------------- */
/* Reply headers                                                               */

/*
 * The reply's checksums are computed from the values written, never by reading back the
 * headers just rewritten: a wide load over several narrower stores that have not reached
 * the cache yet cannot be forwarded from the store buffer and waits for them (the
 * largest single cost of the rewrite when it read them back). Sums are in native-load
 * order, as fp_csum_add() leaves them; 16-bit fields are added as their network-order
 * image (rte_cpu_to_be_16).
 */

/** Header checksum of the IPv4 reply fp_l3_reply() builds (TTL 64, DF, ID 0, TOS 0). */
static inline uint16_t fp_ip4_reply_csum(uint64_t addr_sum, uint16_t tot_len, uint8_t proto)
{
	uint64_t words = (uint64_t)rte_cpu_to_be_16(RTE_IPV4_VHL_DEF << 8) +
			 rte_cpu_to_be_16(tot_len) + rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG) +
			 rte_cpu_to_be_16(FP_TTL << 8 | proto);

	return (uint16_t)~fp_csum_fold(fp_csum_word(addr_sum, words));
}

/**
 * Rewrite the Ethernet and IP headers of a received frame into those of the reply that
 * carries @p l4_len bytes of L4 protocol @p proto (which stay where they are). IPv4 options are not
 * reflected: the Ethernet + fixed IPv4 header move up over them, so the payload is never
 * copied. The IPv4 header checksum is left 0 (offload, or the caller's
 * fp_ip4_reply_csum()). @p addr_sum receives the sum of the two addresses, taken before
 * they were swapped (the swap does not change it). @return the IP header.
 */
static void *fp_l3_reply(const struct fp_worker *w, struct rte_mbuf *m, uint16_t l3_off,
			 uint8_t l3, uint8_t proto, uint16_t l4_len, uint64_t *addr_sum)
{
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ether_hdr *eth;
	uint16_t hlen = FP_IP6_HDR;

	if (l3 == 4) {
		struct rte_ipv4_hdr *ip = (void *)(d + l3_off);
		uint16_t opt = rte_ipv4_hdr_len(ip) - FP_IP4_HDR;
		uint32_t src, dst;

		if (opt != 0) {
			memmove(d + opt, d, l3_off + FP_IP4_HDR);
			rte_pktmbuf_adj(m, opt);
			d += opt;
			ip = (void *)(d + l3_off);
		}
		src = ip->src_addr;
		dst = ip->dst_addr;
		*addr_sum = (uint64_t)src + dst;
		ip->src_addr = dst;
		ip->dst_addr = src;
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->type_of_service = 0;
		ip->total_length = rte_cpu_to_be_16(FP_IP4_HDR + l4_len);
		ip->packet_id = 0;
		ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
		ip->time_to_live = FP_TTL;
		ip->next_proto_id = proto;
		ip->hdr_checksum = 0;
		hlen = FP_IP4_HDR;
	} else {
		struct rte_ipv6_hdr *ip6 = (void *)(d + l3_off);
		uint8_t a[16];

		*addr_sum = fp_csum_add(ip6->src_addr, 32, 0);
		memcpy(a, ip6->src_addr, 16);
		memcpy(ip6->src_addr, ip6->dst_addr, 16);
		memcpy(ip6->dst_addr, a, 16);
		ip6->vtc_flow = rte_cpu_to_be_32(6u << 28);
		ip6->payload_len = rte_cpu_to_be_16(l4_len);
		ip6->proto = proto;
		ip6->hop_limits = FP_TTL;
	}
	eth = (void *)d;
	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&w->mac, &eth->src_addr);
	m->data_len = (uint16_t)(l3_off + hlen + l4_len);
	m->pkt_len = m->data_len;
	m->ol_flags = 0;
	return d + l3_off;
}

void fp_l2l3_reply_udp(const struct fp_worker *w, struct rte_mbuf *m, uint16_t l3_off,
		       uint8_t l3, uint16_t dns_off, uint16_t dns_len)
{
	/* The UDP header does not move in fp_l3_reply(): take it before. */
	struct rte_udp_hdr *u = rte_pktmbuf_mtod_offset(m, struct rte_udp_hdr *,
							dns_off - FP_UDP_HDR);
	uint16_t l4_len = FP_UDP_HDR + dns_len, port = u->src_port;
	uint32_t ports;
	uint64_t addr_sum, phdr;
	struct rte_ipv4_hdr *ip;

	memcpy(&ports, u, sizeof(ports)); /* their sum does not change with the swap */
	ip = fp_l3_reply(w, m, l3_off, l3, IPPROTO_UDP, l4_len, &addr_sum);
	u->src_port = u->dst_port;
	u->dst_port = port;
	u->dgram_len = rte_cpu_to_be_16(l4_len);
	u->dgram_cksum = 0;
	/* fp_csum_word(): an IPv6 address sum may use all 64 bits, so adding carries. */
	phdr = fp_csum_word(addr_sum, (uint64_t)rte_cpu_to_be_16(IPPROTO_UDP) +
				      rte_cpu_to_be_16(l4_len));
	if (w->tx_csum) {
		/* The port sums the L4 bytes onto the pseudo header's sum (not complemented). */
		m->l2_len = l3_off;
		m->l3_len = l3 == 4 ? FP_IP4_HDR : FP_IP6_HDR;
		m->ol_flags = l3 == 4 ? RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM |
					RTE_MBUF_F_TX_UDP_CKSUM :
					RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_UDP_CKSUM;
		u->dgram_cksum = fp_csum_fold(phdr);
		return;
	}
	if (l3 == 4)
		ip->hdr_checksum = fp_ip4_reply_csum(addr_sum, FP_IP4_HDR + l4_len, IPPROTO_UDP);
	/* UDP header words: the ports, the length, a zero checksum; then the DNS message. */
	u->dgram_cksum = fp_l4_csum(fp_csum_word(phdr, (uint64_t)ports + rte_cpu_to_be_16(l4_len)),
				    u + 1, dns_len);
	/* RFC 768: a computed zero is sent as all ones (zero means "no checksum"). */
	if (u->dgram_cksum == 0)
		u->dgram_cksum = 0xffff;
}

/* ------------------------------------------------------------------------- */
/* ARP                                                                         */

static enum fp_verdict fp_arp(struct fp_worker *w, struct rte_mbuf *m, uint16_t off)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *a;
	struct rte_arp_ipv4 *d;
	uint32_t tip;

	if (m->data_len < off + sizeof(*a))
		return fp_drop(w, DP_DROP_RUNT);
	a = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, off);
	d = &a->arp_data;
	/* Replies, gratuitous announcements and requests for other hosts are the kernel's
	 * business (its neighbour table serves the exception path). */
	if (a->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    a->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    a->arp_hlen != RTE_ETHER_ADDR_LEN || a->arp_plen != 4 ||
	    a->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) ||
	    fp_addr4_idx(w, d->arp_tip) < 0 || !rte_is_unicast_ether_addr(&d->arp_sha))
		return FP_V_EXC;
	tip = d->arp_tip;
	a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	rte_ether_addr_copy(&d->arp_sha, &d->arp_tha);
	d->arp_tip = d->arp_sip;
	rte_ether_addr_copy(&w->mac, &d->arp_sha);
	d->arp_sip = tip;
	rte_ether_addr_copy(&d->arp_tha, &eth->dst_addr);
	rte_ether_addr_copy(&w->mac, &eth->src_addr);
	m->ol_flags = 0;
	w->cnt->arp++;
	return FP_V_TX;
}

/* ------------------------------------------------------------------------- */
/* IPv4                                                                        */

static enum fp_verdict fp_udp_query(struct fp_worker *w, struct rte_mbuf *m, struct fp_pkt *p,
				    uint16_t l4_off, uint16_t ulen, uint8_t l3)
{
	uint32_t room = m->buf_len - m->data_off - (l4_off + FP_UDP_HDR);
	uint32_t mtu_room = w->mtu - (l3 == 4 ? FP_IP4_HDR : FP_IP6_HDR) - FP_UDP_HDR;

	p->l3 = l3;
	p->dns_off = l4_off + FP_UDP_HDR;
	p->dns_len = ulen - FP_UDP_HDR;
	p->max_len = (uint16_t)RTE_MIN(room, mtu_room);
	w->cnt->dns_queries++;
	if (l3 == 6)
		w->cnt->dns_queries_v6++;
	return FP_V_DNS;
}

static enum fp_verdict fp_udp4(struct fp_worker *w, struct rte_mbuf *m, struct fp_pkt *p,
			       const struct rte_ipv4_hdr *ip, uint16_t ihl)
{
	uint16_t plen = rte_be_to_cpu_16(ip->total_length) - ihl, l4_off = p->l3_off + ihl;
	const struct rte_udp_hdr *u;

	if (plen < FP_UDP_HDR)
		return fp_drop(w, DP_DROP_UDP_LEN);
	u = rte_pktmbuf_mtod_offset(m, const struct rte_udp_hdr *, l4_off);
	if (!fp_dns_port(w, u->dst_port))
		return FP_V_EXC;
	/* A UDP length that disagrees with the IP length is a lie one way or the other. */
	if (rte_be_to_cpu_16(u->dgram_len) != plen)
		return fp_drop(w, DP_DROP_UDP_LEN);
	if (u->dgram_cksum != 0 && !fp_l4_csum_ok(w, m, ip, 4, u, plen))
		return fp_drop(w, DP_DROP_UDP_CSUM);
	if (!fp_src4_ok(w, ip->src_addr))
		return fp_drop(w, DP_DROP_IP_HDR);
	return fp_udp_query(w, m, p, l4_off, plen, 4);
}

static enum fp_verdict fp_icmp4(struct fp_worker *w, struct rte_mbuf *m, struct fp_pkt *p,
				const struct rte_ipv4_hdr *ip, uint16_t ihl)
{
	uint16_t plen = rte_be_to_cpu_16(ip->total_length) - ihl;
	struct rte_icmp_hdr *ic = rte_pktmbuf_mtod_offset(m, struct rte_icmp_hdr *,
							  p->l3_off + ihl);
	struct rte_ipv4_hdr *rip;
	uint64_t addr_sum;

	/* Everything but a well-formed echo request from a unicast host goes to the kernel,
	 * which validates and counts it itself. */
	if (plen < sizeof(*ic) || ic->icmp_type != RTE_IP_ICMP_ECHO_REQUEST ||
	    ic->icmp_code != 0 || fp_csum_fold(fp_csum_add(ic, plen, 0)) != 0xffff ||
	    !fp_src4_ok(w, ip->src_addr))
		return FP_V_EXC;
	ic->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	ic->icmp_cksum = 0;
	ic->icmp_cksum = fp_l4_csum(0, ic, plen);
	rip = fp_l3_reply(w, m, p->l3_off, 4, IPPROTO_ICMP, plen, &addr_sum);
	rip->hdr_checksum = fp_ip4_reply_csum(addr_sum, FP_IP4_HDR + plen, IPPROTO_ICMP);
	w->cnt->icmp_echo++;
	return FP_V_TX;
}

static enum fp_verdict fp_ipv4(struct fp_worker *w, struct rte_mbuf *m, struct fp_pkt *p)
{
	uint16_t avail = m->data_len - p->l3_off, ihl, tot;
	const struct rte_ipv4_hdr *ip;

	if (avail < FP_IP4_HDR)
		return fp_drop(w, DP_DROP_RUNT);
	ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, p->l3_off);
	ihl = rte_ipv4_hdr_len(ip);
	if ((ip->version_ihl >> 4) != 4 || ihl < FP_IP4_HDR)
		return fp_drop(w, DP_DROP_IP_HDR);
	if (avail < ihl)
		return fp_drop(w, DP_DROP_RUNT);
	tot = rte_be_to_cpu_16(ip->total_length);
	if (tot < ihl || tot > avail)
		return fp_drop(w, DP_DROP_IP_LEN);
	if (!fp_ip4_csum_ok(w, m, ip, ihl))
		return fp_drop(w, DP_DROP_IP_CSUM);
	/* Ethernet padding of short frames is not part of the packet. */
	m->data_len = p->l3_off + tot;
	m->pkt_len = m->data_len;
	if (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
		return w->exc_ring != NULL ? FP_V_EXC : fp_drop(w, DP_DROP_FRAG);
	if (fp_addr4_idx(w, ip->dst_addr) < 0)
		return FP_V_EXC;
	if (ip->next_proto_id == IPPROTO_UDP)
		return fp_udp4(w, m, p, ip, ihl);
	if (ip->next_proto_id == IPPROTO_ICMP)
		return fp_icmp4(w, m, p, ip, ihl);
	return FP_V_EXC;
}

/* ------------------------------------------------------------------------- */
/* IPv6                                                                        */

static enum fp_verdict fp_udp6(struct fp_worker *w, struct rte_mbuf *m, struct fp_pkt *p,
			       const struct rte_ipv6_hdr *ip6, uint16_t plen)
{
	uint16_t l4_off = p->l3_off + FP_IP6_HDR;
	const struct rte_udp_hdr *u;

	if (fp_addr6_idx(w, ip6->dst_addr) < 0)
		return FP_V_EXC;
	if (plen < FP_UDP_HDR)
		return fp_drop(w, DP_DROP_UDP_LEN);
	u = rte_pktmbuf_mtod_offset(m, const struct rte_udp_hdr *, l4_off);
	if (!fp_dns_port(w, u->dst_port))
		return FP_V_EXC;
	if (rte_be_to_cpu_16(u->dgram_len) != plen)
		return fp_drop(w, DP_DROP_UDP_LEN);
	/* RFC 8200 8.1: a zero UDP checksum is invalid over IPv6. */
	if (u->dgram_cksum == 0 || !fp_l4_csum_ok(w, m, ip6, 6, u, plen))
		return fp_drop(w, DP_DROP_UDP_CSUM);
	if (!fp_src6_ok(w, ip6->src_addr))
		return fp_drop(w, DP_DROP_IP_HDR);
	return fp_udp_query(w, m, p, l4_off, plen, 6);
}

/* ICMPv6 checksum over the payload length already in the IPv6 header. */
static inline void fp_icmp6_csum(const struct rte_ipv6_hdr *ip6, uint8_t *ic)
{
	uint16_t len = rte_be_to_cpu_16(ip6->payload_len), c;

	ic[2] = ic[3] = 0;
	c = fp_l4_csum(fp_csum_phdr6(ip6, len), ic, len);
	memcpy(ic + 2, &c, sizeof(c));
}

static inline bool fp_solicited_node(const uint8_t *dst)
{
	static const uint8_t pfx[13] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff };

	return memcmp(dst, pfx, sizeof(pfx)) == 0;
}

/** Neighbour advertisement for our address @p target, built over the solicitation. */
static enum fp_verdict fp_nd_advert(struct fp_worker *w, struct rte_mbuf *m, uint16_t l3_off,
				    struct rte_ipv6_hdr *ip6, uint8_t *nd)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	if ((uint32_t)m->buf_len - m->data_off < (uint32_t)l3_off + FP_IP6_HDR + FP_NA_LEN)
		return fp_drop(w, DP_DROP_RUNT);
	nd[0] = FP_ICMP6_NA;
	nd[1] = 0;
	memset(nd + 2, 0, 6);
	nd[4] = FP_NA_FLAGS;
	/* nd + 8: the target stays where the solicitation had it. */
	nd[FP_ND_MIN] = 2; /* target link-layer address option, 8 bytes */
	nd[FP_ND_MIN + 1] = 1;
	memcpy(nd + FP_ND_MIN + 2, &w->mac, RTE_ETHER_ADDR_LEN);
	memcpy(ip6->dst_addr, ip6->src_addr, 16);
	memcpy(ip6->src_addr, nd + 8, 16);
	ip6->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip6->payload_len = rte_cpu_to_be_16(FP_NA_LEN);
	ip6->hop_limits = 255; /* RFC 4861 7.1.2: receivers drop NA with any other value */
	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&w->mac, &eth->src_addr);
	fp_icmp6_csum(ip6, nd);
	m->data_len = (uint16_t)(l3_off + FP_IP6_HDR + FP_NA_LEN);
	m->pkt_len = m->data_len;
	m->ol_flags = 0;
	w->cnt->nd++;
	return FP_V_TX;
}

static enum fp_verdict fp_icmp6(struct fp_worker *w, struct rte_mbuf *m, struct fp_pkt *p,
				struct rte_ipv6_hdr *ip6, uint16_t plen)
{
	uint8_t *ic = rte_pktmbuf_mtod_offset(m, uint8_t *, p->l3_off + FP_IP6_HDR);
	bool unicast = fp_addr6_idx(w, ip6->dst_addr) >= 0;
	uint64_t addr_sum;

	if (plen < 8 || (!unicast && !fp_solicited_node(ip6->dst_addr)) ||
	    !fp_l4_sum_ok(ip6, 6, ic, plen) || ic[1] != 0)
		return FP_V_EXC;
	/* NS: RFC 4861 7.1.1 checks; DAD probes (source ::) are left to the kernel. */
	if (ic[0] == FP_ICMP6_NS && ip6->hop_limits == 255 && plen >= FP_ND_MIN &&
	    fp_addr6_idx(w, ic + 8) >= 0 && fp_src6_ok(w, ip6->src_addr) &&
	    (unicast || memcmp(ip6->dst_addr + 13, ic + 8 + 13, 3) == 0))
		return fp_nd_advert(w, m, p->l3_off, ip6, ic);
	if (ic[0] == FP_ICMP6_ECHO && unicast && fp_src6_ok(w, ip6->src_addr)) {
		ic[0] = FP_ICMP6_REPLY;
		fp_l3_reply(w, m, p->l3_off, 6, IPPROTO_ICMPV6, plen, &addr_sum);
		fp_icmp6_csum(ip6, ic);
		w->cnt->icmp_echo++;
		return FP_V_TX;
	}
	return FP_V_EXC;
}

static enum fp_verdict fp_ipv6(struct fp_worker *w, struct rte_mbuf *m, struct fp_pkt *p)
{
	uint16_t avail = m->data_len - p->l3_off, plen;
	struct rte_ipv6_hdr *ip6;

	if (avail < FP_IP6_HDR)
		return fp_drop(w, DP_DROP_RUNT);
	ip6 = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, p->l3_off);
	if ((rte_be_to_cpu_32(ip6->vtc_flow) >> 28) != 6)
		return fp_drop(w, DP_DROP_IP_HDR);
	plen = rte_be_to_cpu_16(ip6->payload_len);
	if (plen > avail - FP_IP6_HDR)
		return fp_drop(w, DP_DROP_IP_LEN);
	m->data_len = p->l3_off + FP_IP6_HDR + plen;
	m->pkt_len = m->data_len;
	switch (ip6->proto) {
	case IPPROTO_UDP:
		return fp_udp6(w, m, p, ip6, plen);
	case IPPROTO_ICMPV6:
		return fp_icmp6(w, m, p, ip6, plen);
	case IPPROTO_FRAGMENT:
		return w->exc_ring != NULL ? FP_V_EXC : fp_drop(w, DP_DROP_FRAG);
	default:
		/* Extension headers, TCP, ...: the kernel and the control plane's sockets. */
		return FP_V_EXC;
	}
}

/* ------------------------------------------------------------------------- */

enum fp_verdict fp_l2l3_classify(struct fp_worker *w, struct rte_mbuf *m, struct fp_pkt *p)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	uint16_t off = sizeof(*eth), type;

	if (unlikely(m->nb_segs != 1))
		return FP_V_EXC; /* never produced with the default MTU and buffer size */
	if (m->data_len < sizeof(*eth))
		return fp_drop(w, DP_DROP_RUNT);
	/* Broadcast is a multicast address too (group bit). */
	if (!rte_is_same_ether_addr(&eth->dst_addr, &w->mac) &&
	    !rte_is_multicast_ether_addr(&eth->dst_addr))
		return fp_drop(w, DP_DROP_L2);
	type = rte_be_to_cpu_16(eth->ether_type);
	if (type == RTE_ETHER_TYPE_VLAN) {
		const struct rte_vlan_hdr *vh = (const void *)(eth + 1);

		if (m->data_len < off + sizeof(*vh))
			return fp_drop(w, DP_DROP_RUNT);
		type = rte_be_to_cpu_16(vh->eth_proto);
		off += sizeof(*vh);
		if (type == RTE_ETHER_TYPE_VLAN || type == RTE_ETHER_TYPE_QINQ)
			return fp_drop(w, DP_DROP_L2);
	}
	p->l3_off = off;
	switch (type) {
	case RTE_ETHER_TYPE_IPV4:
		return fp_ipv4(w, m, p);
	case RTE_ETHER_TYPE_IPV6:
		return fp_ipv6(w, m, p);
	case RTE_ETHER_TYPE_ARP:
		return fp_arp(w, m, off);
	case RTE_ETHER_TYPE_QINQ:
	case RTE_ETHER_TYPE_QINQ1:
	case RTE_ETHER_TYPE_QINQ2:
	case RTE_ETHER_TYPE_QINQ3:
		return fp_drop(w, DP_DROP_L2);
	default:
		/* Below 0x0600 the field is an 802.3 length: LLC frames we never speak. */
		return type < FP_ETHER_TYPE_MIN ? fp_drop(w, DP_DROP_L2) : FP_V_EXC;
	}
}
