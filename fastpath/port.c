/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns fast path - DNS port and exception tap setup. Works on any ethdev: offloads and RSS
 * are used when the port offers them and replaced by software otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "fp.h"

#define FP_NB_RXD        1024
#define FP_NB_TXD        1024
#define FP_EXC_NB_DESC   512
#define FP_LINK_WAIT_MS  5000
#define FP_LINK_POLL_MS  100

int fp_port_default(uint16_t skip)
{
	uint16_t p;

	RTE_ETH_FOREACH_DEV(p) {
		if (p != skip)
			return p;
	}
	return -ENODEV;
}

/** Port-level configuration: RSS over UDP ports, checksum offloads when offered. */
static int fp_port_configure(uint16_t port, uint16_t nq, struct rte_eth_conf *conf,
			     struct fp_port_caps *caps)
{
	const uint64_t rx_cs = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	const uint64_t tx_cs = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	struct rte_eth_dev_info di;
	int ret = rte_eth_dev_info_get(port, &di);

	if (ret < 0)
		return ret;
	if (nq > di.max_rx_queues || nq > di.max_tx_queues) {
		RTE_LOG(ERR, DPDNS, "port %u has %u RX / %u TX queues, %u workers need as many: "
			"use fewer lcores (-l)\n", port, di.max_rx_queues, di.max_tx_queues, nq);
		return -EINVAL;
	}
	memset(conf, 0, sizeof(*conf));
	if (nq > 1) {
		uint64_t hf = RTE_ETH_RSS_UDP & di.flow_type_rss_offloads;

		if (hf == 0) {
			hf = RTE_ETH_RSS_IP & di.flow_type_rss_offloads;
			if (hf != 0)
				RTE_LOG(WARNING, DPDNS, "port %u: no UDP RSS, spreading by IP only\n",
					port);
		}
		/* Software ports (AF_PACKET fanout, AF_XDP on the kernel's queues) spread
		 * frames themselves and offer no RSS to configure. */
		if (hf != 0) {
			conf->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
			conf->rx_adv_conf.rss_conf.rss_hf = hf;
		} else {
			RTE_LOG(INFO, DPDNS, "port %u: no RSS to configure, the device spreads "
				"frames itself\n", port);
		}
	}
	caps->rx_csum = (di.rx_offload_capa & rx_cs) == rx_cs;
	caps->tx_csum = (di.tx_offload_capa & tx_cs) == tx_cs;
	if (caps->rx_csum)
		conf->rxmode.offloads |= rx_cs;
	if (caps->tx_csum)
		conf->txmode.offloads |= tx_cs;
	ret = rte_eth_dev_configure(port, nq, nq, conf);
	if (ret < 0)
		RTE_LOG(ERR, DPDNS, "port %u: configure: %s\n", port, rte_strerror(-ret));
	return ret;
}

static int fp_port_queues(uint16_t port, uint16_t nq, uint16_t nrxd, uint16_t ntxd,
			  const struct rte_eth_conf *conf, struct rte_mempool *pool)
{
	struct rte_eth_dev_info di;
	int socket = rte_eth_dev_socket_id(port), ret;

	ret = rte_eth_dev_info_get(port, &di);
	if (ret < 0)
		return ret;
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nrxd, &ntxd);
	if (ret < 0)
		return ret;
	di.default_rxconf.offloads = conf->rxmode.offloads;
	di.default_txconf.offloads = conf->txmode.offloads;
	for (uint16_t q = 0; q < nq; q++) {
		ret = rte_eth_rx_queue_setup(port, q, nrxd, socket, &di.default_rxconf, pool);
		if (ret < 0)
			break;
		ret = rte_eth_tx_queue_setup(port, q, ntxd, socket, &di.default_txconf);
		if (ret < 0)
			break;
	}
	if (ret < 0)
		RTE_LOG(ERR, DPDNS, "port %u: queue setup: %s\n", port, rte_strerror(-ret));
	return ret;
}

/* Bounded: a port whose link never comes up still starts (it may come up later). */
static void fp_port_wait_link(uint16_t port)
{
	struct rte_eth_link link;

	for (unsigned int ms = 0; ms <= FP_LINK_WAIT_MS; ms += FP_LINK_POLL_MS) {
		memset(&link, 0, sizeof(link));
		if (rte_eth_link_get_nowait(port, &link) == 0 &&
		    link.link_status == RTE_ETH_LINK_UP)
			break;
		rte_delay_ms(FP_LINK_POLL_MS);
	}
	if (link.link_status == RTE_ETH_LINK_UP)
		RTE_LOG(INFO, DPDNS, "port %u: link up, %u Mbps\n", port, link.link_speed);
	else
		RTE_LOG(WARNING, DPDNS, "port %u: link still down after %u ms, starting anyway\n",
			port, FP_LINK_WAIT_MS);
}

int fp_port_setup(uint16_t port, uint16_t nq, struct rte_mempool *pool,
		  struct fp_port_caps *caps)
{
	struct rte_eth_conf conf;
	uint16_t mtu = RTE_ETHER_MTU;
	int ret;

	ret = fp_port_configure(port, nq, &conf, caps);
	if (ret < 0)
		return ret;
	ret = fp_port_queues(port, nq, FP_NB_RXD, FP_NB_TXD, &conf, pool);
	if (ret < 0)
		return ret;
	if (rte_eth_dev_get_mtu(port, &mtu) < 0 || mtu < 1280)
		mtu = RTE_ETHER_MTU;
	caps->mtu = mtu;
	/* IPv6 neighbour solicitations arrive on solicited-node multicast groups. */
	if (rte_eth_allmulticast_enable(port) < 0)
		RTE_LOG(WARNING, DPDNS, "port %u: all-multicast not available\n", port);
	ret = rte_eth_dev_start(port);
	if (ret < 0) {
		RTE_LOG(ERR, DPDNS, "port %u: start: %s\n", port, rte_strerror(-ret));
		return ret;
	}
	fp_port_wait_link(port);
	return 0;
}

int fp_port_exc_create(const char *iface, const struct rte_ether_addr *mac,
		       struct rte_mempool *pool)
{
	struct rte_eth_conf conf;
	char args[128], mac_s[RTE_ETHER_ADDR_FMT_SIZE];
	uint16_t port;
	int ret;

	/* Same MAC as the DNS port: the kernel's replies leave through it unchanged. */
	rte_ether_format_addr(mac_s, sizeof(mac_s), mac);
	snprintf(args, sizeof(args), "iface=%s,mac=%s", iface, mac_s);
	ret = rte_vdev_init(FP_EXC_VDEV, args);
	if (ret < 0) {
		RTE_LOG(ERR, DPDNS, "exception tap %s: %s\n", iface, rte_strerror(-ret));
		return ret;
	}
	ret = rte_eth_dev_get_port_by_name(FP_EXC_VDEV, &port);
	if (ret < 0)
		goto fail_vdev;
	memset(&conf, 0, sizeof(conf));
	ret = rte_eth_dev_configure(port, 1, 1, &conf);
	if (ret == 0)
		ret = fp_port_queues(port, 1, FP_EXC_NB_DESC, FP_EXC_NB_DESC, &conf, pool);
	if (ret == 0)
		ret = rte_eth_dev_start(port);
	if (ret < 0)
		goto fail_vdev;
	return port;
fail_vdev:
	RTE_LOG(ERR, DPDNS, "exception tap %s: setup: %s\n", iface, rte_strerror(-ret));
	rte_vdev_uninit(FP_EXC_VDEV);
	return ret;
}

void fp_port_close(uint16_t port)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	bool vdev = rte_eth_dev_get_name_by_port(port, name) == 0 &&
		    strcmp(name, FP_EXC_VDEV) == 0;
	int ret = rte_eth_dev_stop(port);

	if (ret < 0)
		RTE_LOG(WARNING, DPDNS, "port %u: stop: %s\n", port, rte_strerror(-ret));
	rte_eth_dev_close(port);
	if (vdev)
		rte_vdev_uninit(FP_EXC_VDEV);
}
