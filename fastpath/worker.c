/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns fast path - the worker loop (l3fwd shape): rx burst, classify, DNS stage, one tx
 * burst; control-plane replies and kernel frames join the same tx burst. No allocation,
 * no lock, no system call, no log line in here.
 */
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <rte_udp.h>

#include "fp.h"

#define FP_PREFETCH_AHEAD 3
#define FP_MAIN_PERIOD_US 100 /**< exception poll / clock refresh in single-lcore mode */

void fp_worker_init(struct fp_worker *w, const struct fp_shm *s, unsigned int idx,
		    uint16_t port_id, uint16_t queue_id)
{
	const struct dp_state *st = s->state;

	memset(w, 0, sizeof(*w));
	w->idx = (uint16_t)idx;
	w->port_id = port_id;
	w->queue_id = queue_id;
	w->mtu = RTE_ETHER_MTU;
	memcpy(&w->mac, st->mac, RTE_ETHER_ADDR_LEN);
	w->n_addr4 = st->n_addr4;
	w->n_addr6 = st->n_addr6;
	for (unsigned int i = 0; i < st->n_addr4; i++)
		memcpy(&w->addr4[i], st->addr4[i], 4);
	memcpy(w->addr6, st->addr6, sizeof(w->addr6));
	w->state = s->state;
	w->cnt = &s->counters[idx];
	w->hash = s->hash;
	w->miss_ring = s->miss;
	w->reply_ring = s->reply[idx];
	w->exc_ring = s->exc_tx;
	w->kern_ring = idx == 0 ? s->exc_rx : NULL;
	w->qsbr = s->qsbr;
}

/* The control plane may change the answered ports at any time; a burst sees one set. */
static inline void fp_worker_refresh(struct fp_worker *w)
{
	w->now = __atomic_load_n(&w->state->now, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < DP_MAX_PORTS; i++)
		w->dns_ports[i] = __atomic_load_n(&w->state->dns_ports[i], __ATOMIC_RELAXED);
}

static uint16_t fp_worker_burst(struct fp_worker *w, struct rte_mbuf **pkts, uint16_t n,
				struct rte_mbuf **tx)
{
	struct rte_mbuf *dns[FP_BURST], *exc[FP_BURST], *drop[FP_BURST];
	uint16_t ntx = 0, nd = 0, nexc = 0, ndrop = 0;

	w->cnt->rx_pkts += n;
	w->cnt->bursts++;
	for (uint16_t i = 0; i < n && i < FP_PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		if (i + FP_PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + FP_PREFETCH_AHEAD], void *));
		switch (fp_l2l3_classify(w, m, &w->pkt[nd])) {
		case FP_V_DNS:
			dns[nd++] = m;
			break;
		case FP_V_TX:
			tx[ntx++] = m;
			break;
		case FP_V_EXC:
			exc[nexc++] = m;
			break;
		default:
			drop[ndrop++] = m;
			break;
		}
	}
	if (nd != 0)
		ntx += fp_answer_burst(w, dns, nd, tx + ntx);
	fp_exc_send(w, exc, nexc);
	if (ndrop != 0)
		rte_pktmbuf_free_bulk(drop, ndrop);
	return ntx;
}

uint16_t fp_worker_process_burst(struct fp_worker *w, struct rte_mbuf **pkts, uint16_t n,
				 struct rte_mbuf **tx)
{
	uint16_t ntx = 0;

	fp_worker_refresh(w);
	/* The per-burst scratch holds FP_BURST queries: longer inputs go in slices. */
	for (uint16_t done = 0; done < n; done += FP_BURST)
		ntx += fp_worker_burst(w, pkts + done, RTE_MIN((uint16_t)(n - done), FP_BURST),
				       tx + ntx);
	return ntx;
}

/* Elements come from another process: check everything the rewrite relies on, against
 * the headers the fast path itself validated when the query arrived. */
static bool fp_reply_valid(const struct dp_miss *e)
{
	const struct rte_mbuf *m = e->mbuf;
	uint16_t l4_off;

	if (e->dns_len == 0 || e->dns_len > e->max_len ||
	    (e->l3_off != RTE_ETHER_HDR_LEN && e->l3_off != RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN) ||
	    (uint32_t)e->dns_off + e->dns_len > (uint32_t)m->buf_len - m->data_off ||
	    e->dns_off > m->data_len)
		return false;
	if (e->l3 == 4)
		l4_off = e->l3_off + rte_ipv4_hdr_len(rte_pktmbuf_mtod_offset(m,
				const struct rte_ipv4_hdr *, e->l3_off));
	else if (e->l3 == 6)
		l4_off = e->l3_off + sizeof(struct rte_ipv6_hdr);
	else
		return false;
	return e->dns_off == l4_off + sizeof(struct rte_udp_hdr);
}

uint16_t fp_worker_drain_replies(struct fp_worker *w, struct rte_mbuf **tx, uint16_t room)
{
	struct dp_miss el[FP_BURST];
	unsigned int n;
	uint16_t ntx = 0;

	n = rte_ring_sc_dequeue_burst_elem(w->reply_ring, el, sizeof(el[0]),
					   RTE_MIN(room, FP_BURST), NULL);
	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = el[i].mbuf;
		const uint8_t *msg;

		/* dns_len 0 is the control plane's "send nothing" (dp_shm.h), not an error. */
		if (m != NULL && el[i].dns_len == 0) {
			w->cnt->drop[DP_DROP_CP_NOANSWER]++;
			rte_pktmbuf_free(m);
			continue;
		}
		if (m == NULL || !fp_reply_valid(&el[i])) {
			w->cnt->drop[DP_DROP_REPLY_BAD]++;
			rte_pktmbuf_free(m);
			continue;
		}
		msg = rte_pktmbuf_mtod_offset(m, const uint8_t *, el[i].dns_off);
		if (el[i].dns_len >= DNS_HDR_LEN) {
			fp_count_rcode(w, msg[3] & DNS_F_RCODE);
			if (msg[2] & (DNS_F_TC >> 8))
				w->cnt->truncated++;
		}
		fp_l2l3_reply_udp(w, m, el[i].l3_off, el[i].l3, el[i].dns_off, el[i].dns_len);
		w->cnt->replies++;
		tx[ntx++] = m;
	}
	return ntx;
}

static inline void fp_worker_tx(struct fp_worker *w, struct rte_mbuf **tx, uint16_t n)
{
	uint16_t sent = rte_eth_tx_burst(w->port_id, w->queue_id, tx, n);

	w->cnt->tx_pkts += sent;
	if (unlikely(sent < n)) {
		w->cnt->drop[DP_DROP_TX_FULL] += n - sent;
		rte_pktmbuf_free_bulk(tx + sent, n - sent);
	}
}

void fp_main_duties(struct dp_state *st, struct fp_exc *x)
{
	if (x != NULL)
		fp_exc_poll(x);
	__atomic_store_n(&st->now, dp_monotonic_sec(), __ATOMIC_RELAXED);
}

int fp_worker_main(void *arg)
{
	struct fp_worker *w = arg;
	struct rte_mbuf *rx[FP_BURST], *tx[FP_TX_MAX];
	uint64_t period = rte_get_tsc_hz() / 1000000 * FP_MAIN_PERIOD_US, next = 0;

	rte_rcu_qsbr_thread_register(w->qsbr, w->idx);
	rte_rcu_qsbr_thread_online(w->qsbr, w->idx);
	while (!__atomic_load_n(&w->state->quit, __ATOMIC_RELAXED)) {
		uint16_t nrx = rte_eth_rx_burst(w->port_id, w->queue_id, rx, FP_BURST);
		uint16_t ntx = 0;

		if (nrx != 0)
			ntx = fp_worker_process_burst(w, rx, nrx, tx);
		ntx += fp_worker_drain_replies(w, tx + ntx, FP_BURST);
		if (w->kern_ring != NULL)
			ntx += fp_exc_from_kernel(w, tx + ntx, FP_BURST);
		if (ntx != 0)
			fp_worker_tx(w, tx, ntx);
		/* Nothing from the tables is held past this point. */
		rte_rcu_qsbr_quiescent(w->qsbr, w->idx);
		if (w->main_duties) {
			uint64_t now = rte_rdtsc();

			if (now >= next) {
				fp_main_duties(w->state, w->exc);
				next = now + period;
			}
		}
	}
	rte_rcu_qsbr_thread_offline(w->qsbr, w->idx);
	rte_rcu_qsbr_thread_unregister(w->qsbr, w->idx);
	return 0;
}
