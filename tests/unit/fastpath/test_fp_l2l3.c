/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns fast path unit test - Ethernet/ARP/IP/ICMP/NDP/UDP handling of the burst function.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "ft_cases.h"
#include "ft_lib.h"

static const struct ft_frame v4 = { 0 };
static const struct ft_frame v6 = { .v6 = true };

static uint16_t sum_fold(uint32_t s)
{
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)((s & 0xffff) + (s >> 16));
}

/* ------------------------------------------------------------------------- */
/* ARP                                                                          */

static struct rte_mbuf *arp_frame(struct ft_env *e, uint16_t op, const char *tip)
{
	uint8_t b[60] = { 0 };
	struct rte_arp_hdr *a = (void *)(b + 14);

	memset(b, 0xff, 6);
	memcpy(b + 6, ft_client_mac, 6);
	b[12] = 0x08;
	b[13] = 0x06;
	a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	a->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	a->arp_hlen = 6;
	a->arp_plen = 4;
	a->arp_opcode = rte_cpu_to_be_16(op);
	memcpy(&a->arp_data.arp_sha, ft_client_mac, 6);
	inet_pton(AF_INET, FT_CLIENT4, &a->arp_data.arp_sip);
	inet_pton(AF_INET, tip, &a->arp_data.arp_tip);
	return ft_raw_frame(e->shm.pool, b, sizeof(b)); /* padded to the 60-byte minimum */
}

static void case_arp(struct ft_env *e)
{
	struct rte_mbuf *r;
	const uint8_t *d;
	const struct rte_arp_hdr *a;
	uint32_t ip;

	FT_SNAP(e);
	r = ft_run1(e, arp_frame(e, RTE_ARP_OP_REQUEST, FT_SERVER4));
	CHECK_MSG(r != NULL, "ARP request answered");
	if (r != NULL) {
		d = rte_pktmbuf_mtod(r, const uint8_t *);
		a = (const void *)(d + 14);
		CHECK_MSG(memcmp(d, ft_client_mac, 6) == 0 && memcmp(d + 6, ft_server_mac, 6) == 0,
			  "ARP reply MACs");
		CHECK_EQ(rte_be_to_cpu_16(a->arp_opcode), RTE_ARP_OP_REPLY);
		CHECK_MSG(memcmp(&a->arp_data.arp_sha, ft_server_mac, 6) == 0 &&
			  memcmp(&a->arp_data.arp_tha, ft_client_mac, 6) == 0, "ARP hw addresses");
		inet_pton(AF_INET, FT_SERVER4, &ip);
		CHECK_MSG(a->arp_data.arp_sip == ip, "ARP sender is our address");
		inet_pton(AF_INET, FT_CLIENT4, &ip);
		CHECK_MSG(a->arp_data.arp_tip == ip, "ARP target is the client");
		rte_pktmbuf_free(r);
	}
	CHECK_EQ(FT_DELTA(e, arp), 1);
	ft_expect_exception(e, "ARP for another host", arp_frame(e, RTE_ARP_OP_REQUEST,
								   "198.18.0.99"));
	ft_expect_exception(e, "ARP reply", arp_frame(e, RTE_ARP_OP_REPLY, FT_SERVER4));
}

/* ------------------------------------------------------------------------- */
/* ICMP echo                                                                    */

static void check_echo_reply(struct rte_mbuf *r, bool is_v6, uint16_t l4_len)
{
	const uint8_t *d = rte_pktmbuf_mtod(r, const uint8_t *), *ic;
	uint16_t hl = is_v6 ? 40 : 20;

	CHECK_MSG(memcmp(d, ft_client_mac, 6) == 0, "echo reply to the client MAC");
	CHECK_EQ(r->data_len, 14 + hl + l4_len);
	ic = d + 14 + hl;
	if (is_v6) {
		CHECK_EQ(ic[0], 129);
		CHECK_EQ(sum_fold((uint32_t)rte_raw_cksum(ic, l4_len) +
				  rte_ipv6_phdr_cksum((const void *)(d + 14), 0)), 0xffff);
	} else {
		CHECK_EQ(d[14], 0x45);
		CHECK_EQ(rte_raw_cksum(d + 14, 20), 0xffff);
		CHECK_EQ(ic[0], 0);
		CHECK_EQ(rte_raw_cksum(ic, l4_len), 0xffff);
	}
}

static void case_echo(struct ft_env *e)
{
	struct ft_frame opts = { .ip_opts = 4 };
	uint8_t ic[40] = { 8, 0, 0, 0, 0x12, 0x34, 0, 1 };
	uint16_t c = (uint16_t)~rte_raw_cksum(ic, sizeof(ic));
	struct rte_mbuf *m, *r;

	memcpy(ic + 2, &c, 2);
	FT_SNAP(e);
	r = ft_run1(e, ft_ip_frame(e->shm.pool, &opts, IPPROTO_ICMP, ic, sizeof(ic)));
	CHECK_MSG(r != NULL, "ICMP echo answered");
	if (r != NULL) {
		check_echo_reply(r, false, sizeof(ic));
		rte_pktmbuf_free(r);
	}
	ic[0] = 128; /* ICMPv6 echo request */
	ic[2] = ic[3] = 0;
	m = ft_ip_frame(e->shm.pool, &v6, IPPROTO_ICMPV6, ic, sizeof(ic));
	if (m != NULL) {
		uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);

		c = rte_ipv6_udptcp_cksum((void *)(d + 14), d + 54);
		memcpy(d + 56, &c, 2);
	}
	r = ft_run1(e, m);
	CHECK_MSG(r != NULL, "ICMPv6 echo answered");
	if (r != NULL) {
		check_echo_reply(r, true, sizeof(ic));
		rte_pktmbuf_free(r);
	}
	CHECK_EQ(FT_DELTA(e, icmp_echo), 2);
}

/* ------------------------------------------------------------------------- */
/* Neighbour discovery                                                          */

static struct rte_mbuf *ns_frame(struct ft_env *e, bool multicast, const char *target,
				 uint8_t hop)
{
	static const uint8_t mmac[6] = { 0x33, 0x33, 0xff, 0x00, 0x00, 0x53 };
	struct ft_frame f = { .v6 = true, .hop = hop };
	uint8_t ns[32] = { 135 };
	struct rte_mbuf *m;
	uint16_t c;

	if (multicast) {
		f.dst_mac = mmac;
		f.dst = "ff02::1:ff00:53";
	}
	inet_pton(AF_INET6, target, ns + 8);
	ns[24] = 1; /* source link-layer address option */
	ns[25] = 1;
	memcpy(ns + 26, ft_client_mac, 6);
	m = ft_ip_frame(e->shm.pool, &f, IPPROTO_ICMPV6, ns, sizeof(ns));
	if (m != NULL) {
		uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);

		c = rte_ipv6_udptcp_cksum((void *)(d + 14), d + 54);
		memcpy(d + 56, &c, 2);
	}
	return m;
}

static void check_na(struct rte_mbuf *r)
{
	const uint8_t *d = rte_pktmbuf_mtod(r, const uint8_t *), *na = d + 54;
	const struct rte_ipv6_hdr *ip6 = (const void *)(d + 14);
	uint8_t a[16];

	CHECK_EQ(r->data_len, 14 + 40 + 32);
	CHECK_MSG(memcmp(d, ft_client_mac, 6) == 0 && memcmp(d + 6, ft_server_mac, 6) == 0,
		  "NA MACs");
	inet_pton(AF_INET6, FT_SERVER6, a);
	CHECK_MSG(memcmp(ip6->src_addr, a, 16) == 0, "NA from the target address");
	inet_pton(AF_INET6, FT_CLIENT6, a);
	CHECK_MSG(memcmp(ip6->dst_addr, a, 16) == 0, "NA to the soliciting host");
	CHECK_EQ(ip6->hop_limits, 255);
	CHECK_EQ(rte_be_to_cpu_16(ip6->payload_len), 32);
	CHECK_EQ(na[0], 136);
	CHECK_EQ(na[4], 0x60); /* solicited, override */
	inet_pton(AF_INET6, FT_SERVER6, a);
	CHECK_MSG(memcmp(na + 8, a, 16) == 0, "NA target");
	CHECK_MSG(na[24] == 2 && na[25] == 1 && memcmp(na + 26, ft_server_mac, 6) == 0,
		  "target link-layer option");
	CHECK_EQ(sum_fold((uint32_t)rte_raw_cksum(na, 32) + rte_ipv6_phdr_cksum(ip6, 0)), 0xffff);
}

static void case_ndp(struct ft_env *e)
{
	struct rte_mbuf *r;

	FT_SNAP(e);
	for (int mc = 0; mc < 2; mc++) {
		r = ft_run1(e, ns_frame(e, mc, FT_SERVER6, 255));
		CHECK_MSG(r != NULL, "NS (%s) answered", mc ? "solicited-node" : "unicast");
		if (r != NULL) {
			check_na(r);
			rte_pktmbuf_free(r);
		}
	}
	CHECK_EQ(FT_DELTA(e, nd), 2);
	ft_expect_exception(e, "NS for another target", ns_frame(e, false, "2001:db8::99", 255));
	ft_expect_exception(e, "NS with hop limit 64", ns_frame(e, false, FT_SERVER6, 64));
}

/*
 * With TX checksum offload the port finishes the checksums: the IPv4 header checksum is
 * left 0 and the UDP field holds the pseudo header's sum, as rte_ipv4/6_phdr_cksum()
 * give it for the finished headers.
 */
static void case_tx_offload(struct ft_env *e)
{
	static const struct ft_frame shapes[] = {
		{ 0 }, { .ip_opts = 8 }, { .v6 = true, .vlan = true, .tci = 7 },
	};

	e->w->tx_csum = true;
	for (size_t i = 0; i < RTE_DIM(shapes); i++) {
		struct rte_mbuf *r = ft_run1(e, ft_query(e, &shapes[i], "www.example.com",
							 DNS_T_A, 0));
		uint16_t l3_off = shapes[i].vlan ? 18 : 14;
		uint8_t *d;

		CHECK_MSG(r != NULL, "offload shape %zu answered", i);
		if (r == NULL)
			continue;
		d = rte_pktmbuf_mtod(r, uint8_t *);
		CHECK_EQ(r->l2_len, l3_off);
		if (shapes[i].v6) {
			const struct rte_udp_hdr *u = (const void *)(d + l3_off + 40);

			CHECK_EQ(r->l3_len, 40);
			CHECK_EQ(r->ol_flags, RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_UDP_CKSUM);
			CHECK_EQ(u->dgram_cksum, rte_ipv6_phdr_cksum((const void *)(d + l3_off),
								     r->ol_flags));
		} else {
			const struct rte_ipv4_hdr *ip = (const void *)(d + l3_off);
			const struct rte_udp_hdr *u = (const void *)(d + l3_off + 20);

			CHECK_EQ(r->l3_len, 20);
			CHECK_EQ(r->ol_flags, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM |
					      RTE_MBUF_F_TX_UDP_CKSUM);
			CHECK_EQ(ip->hdr_checksum, 0);
			CHECK_EQ(rte_ipv4_hdr_len(ip), 20);
			CHECK_EQ(u->dgram_cksum, rte_ipv4_phdr_cksum(ip, r->ol_flags));
		}
		rte_pktmbuf_free(r);
	}
	e->w->tx_csum = false;
}

/* ------------------------------------------------------------------------- */
/* IP and UDP validation                                                        */

static void case_reply_shapes(struct ft_env *e)
{
	static const struct ft_frame shapes[] = {
		{ .ip_opts = 8 },              /* options not reflected: 20-byte header */
		{ .ip_opts = 40 },
		{ .vlan = true, .tci = 100 },  /* tag kept */
		{ .v6 = true, .vlan = true, .tci = 0x2005 },
		{ .pad = 24 },                 /* Ethernet padding ignored */
		{ .zero_udp_csum = true },     /* no checksum is fine over IPv4 */
	};
	struct rte_mbuf *out;
	uint16_t len;

	for (size_t i = 0; i < RTE_DIM(shapes); i++) {
		const uint8_t *dns = ft_answered(e, &shapes[i],
			ft_query(e, &shapes[i], "www.example.com", DNS_T_A, 0), &out, &len);

		CHECK_MSG(dns != NULL, "shape %zu answered", i);
		rte_pktmbuf_free(out);
	}
}

static struct rte_mbuf *q4(struct ft_env *e, const struct ft_frame *f)
{
	return ft_query(e, f, "www.example.com", DNS_T_A, 0);
}

/** A valid IPv4 query with header byte @p off set to @p val (checksum fixed again). */
static struct rte_mbuf *q4_patched(struct ft_env *e, unsigned int off, uint8_t val)
{
	struct rte_mbuf *m = q4(e, &v4);
	struct rte_ipv4_hdr *ip;

	if (m == NULL)
		return NULL;
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
	((uint8_t *)ip)[off] = val;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	return m;
}

static void case_drops(struct ft_env *e)
{
	static const uint8_t other_mac[6] = { 0x02, 0, 0, 0, 0, 0x77 };
	uint8_t raw[64] = { 0 };

	ft_expect_drop(e, "bad IP checksum", q4(e, &(struct ft_frame){ .bad_ip_csum = true }),
		       DP_DROP_IP_CSUM);
	ft_expect_drop(e, "bad UDP checksum", q4(e, &(struct ft_frame){ .bad_udp_csum = true }),
		       DP_DROP_UDP_CSUM);
	ft_expect_drop(e, "bad UDP checksum v6",
		       q4(e, &(struct ft_frame){ .v6 = true, .bad_udp_csum = true }),
		       DP_DROP_UDP_CSUM);
	ft_expect_drop(e, "zero UDP checksum v6",
		       q4(e, &(struct ft_frame){ .v6 = true, .zero_udp_csum = true }),
		       DP_DROP_UDP_CSUM);
	ft_expect_drop(e, "IP length beyond the frame",
		       q4(e, &(struct ft_frame){ .ip_len_delta = 10 }), DP_DROP_IP_LEN);
	ft_expect_drop(e, "IPv6 length beyond the frame",
		       q4(e, &(struct ft_frame){ .v6 = true, .ip_len_delta = 1 }), DP_DROP_IP_LEN);
	ft_expect_drop(e, "IP length short of UDP length",
		       q4(e, &(struct ft_frame){ .ip_len_delta = -3 }), DP_DROP_UDP_LEN);
	ft_expect_drop(e, "UDP length too long",
		       q4(e, &(struct ft_frame){ .udp_len_delta = 4 }), DP_DROP_UDP_LEN);
	ft_expect_drop(e, "UDP length too short",
		       q4(e, &(struct ft_frame){ .udp_len_delta = -4 }), DP_DROP_UDP_LEN);
	ft_expect_drop(e, "IPv4 version 5", q4_patched(e, 0, 0x55), DP_DROP_IP_HDR);
	ft_expect_drop(e, "IHL 4", q4_patched(e, 0, 0x44), DP_DROP_IP_HDR);
	ft_expect_drop(e, "QinQ", q4(e, &(struct ft_frame){ .qinq = true }), DP_DROP_L2);
	ft_expect_drop(e, "not our MAC", q4(e, &(struct ft_frame){ .dst_mac = other_mac }),
		       DP_DROP_L2);
	ft_expect_drop(e, "loopback source", q4(e, &(struct ft_frame){ .src = "127.0.0.1" }),
		       DP_DROP_IP_HDR);
	ft_expect_drop(e, "own source", q4(e, &(struct ft_frame){ .src = "198.18.0.54" }),
		       DP_DROP_IP_HDR);
	ft_expect_drop(e, "multicast source", q4(e, &(struct ft_frame){ .src = "224.0.0.1" }),
		       DP_DROP_IP_HDR);
	ft_expect_drop(e, "multicast source v6",
		       q4(e, &(struct ft_frame){ .v6 = true, .src = "ff02::1" }), DP_DROP_IP_HDR);
	ft_expect_drop(e, "runt", ft_raw_frame(e->shm.pool, raw, 10), DP_DROP_RUNT);
	memcpy(raw, ft_server_mac, 6);
	raw[12] = 0x08;
	ft_expect_drop(e, "runt IPv4", ft_raw_frame(e->shm.pool, raw, 30), DP_DROP_RUNT);
	raw[12] = 0x81;
	ft_expect_drop(e, "runt VLAN", ft_raw_frame(e->shm.pool, raw, 16), DP_DROP_RUNT);
	raw[12] = 0x00;
	raw[13] = 0x40;
	ft_expect_drop(e, "802.3 length frame", ft_raw_frame(e->shm.pool, raw, 60), DP_DROP_L2);
}

static void case_exceptions(struct ft_env *e)
{
	uint8_t raw[60] = { 0 };

	ft_expect_exception(e, "IPv4 fragment", q4(e, &(struct ft_frame){ .frag = true }));
	ft_expect_exception(e, "IPv6 fragment",
			    q4(e, &(struct ft_frame){ .v6 = true, .frag = true }));
	ft_expect_exception(e, "IPv6 hop-by-hop",
			    q4(e, &(struct ft_frame){ .v6 = true, .hop_by_hop = true }));
	ft_expect_exception(e, "TCP", q4_patched(e, 9, IPPROTO_TCP));
	ft_expect_exception(e, "UDP to another address",
			    q4(e, &(struct ft_frame){ .dst = "198.18.0.99" }));
	memcpy(raw, ft_server_mac, 6);
	raw[12] = 0x88;
	raw[13] = 0xcc;
	ft_expect_exception(e, "LLDP", ft_raw_frame(e->shm.pool, raw, sizeof(raw)));
}

/* Without an exception port the same frames are dropped and counted. */
static void case_no_exception(struct ft_env *e)
{
	struct rte_ring *exc = e->w->exc_ring;

	e->w->exc_ring = NULL;
	ft_expect_drop(e, "TCP without exception port", q4_patched(e, 9, IPPROTO_TCP),
		       DP_DROP_NO_EXC);
	ft_expect_drop(e, "fragment without exception port",
		       q4(e, &(struct ft_frame){ .frag = true }), DP_DROP_FRAG);
	e->w->exc_ring = exc;
}

void ft_cases_l2l3(struct ft_env *e)
{
	case_arp(e);
	case_echo(e);
	case_ndp(e);
	case_reply_shapes(e);
	case_tx_offload(e);
	case_drops(e);
	case_exceptions(e);
	case_no_exception(e);
}
