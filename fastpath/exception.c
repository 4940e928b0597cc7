/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns fast path - exception port. The tap is a kernel file descriptor: every rx/tx on it
 * is a system call, so workers only touch rings; the main lcore moves frames between the
 * rings and the tap, and worker 0 sends what the kernel wrote on its own TX queue.
 */
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "fp.h"

#define FP_EXC_POLL_ROUNDS 4 /**< bursts per direction per poll: bounded work per wake-up */

void fp_exc_send(struct fp_worker *w, struct rte_mbuf **m, uint16_t n)
{
	unsigned int done;

	if (n == 0)
		return;
	if (w->exc_ring == NULL) {
		w->cnt->drop[DP_DROP_NO_EXC] += n;
		rte_pktmbuf_free_bulk(m, n);
		return;
	}
	done = rte_ring_mp_enqueue_burst(w->exc_ring, (void **)m, n, NULL);
	w->cnt->exception_tx += done;
	if (done < n) {
		w->cnt->drop[DP_DROP_EXC_FULL] += n - done;
		rte_pktmbuf_free_bulk(m + done, n - done);
	}
}

uint16_t fp_exc_from_kernel(struct fp_worker *w, struct rte_mbuf **tx, uint16_t room)
{
	unsigned int n = rte_ring_sc_dequeue_burst(w->kern_ring, (void **)tx, room, NULL);

	w->cnt->exception_rx += n;
	return (uint16_t)n;
}

static unsigned int fp_exc_to_kernel(struct fp_exc *x)
{
	struct rte_mbuf *b[FP_BURST];
	unsigned int n = rte_ring_sc_dequeue_burst(x->to_kernel, (void **)b, FP_BURST, NULL);
	uint16_t sent;

	if (n == 0)
		return 0;
	sent = rte_eth_tx_burst(x->port_id, 0, b, (uint16_t)n);
	x->kernel_tx += sent;
	if (sent < n) {
		x->kernel_tx_drop += n - sent;
		rte_pktmbuf_free_bulk(b + sent, n - sent);
	}
	return n;
}

static unsigned int fp_exc_to_wire(struct fp_exc *x)
{
	struct rte_mbuf *b[FP_BURST];
	uint16_t n = rte_eth_rx_burst(x->port_id, 0, b, FP_BURST);
	unsigned int done;

	if (n == 0)
		return 0;
	done = rte_ring_sp_enqueue_burst(x->to_wire, (void **)b, n, NULL);
	x->kernel_rx += done;
	if (done < n) {
		x->kernel_rx_drop += n - done;
		rte_pktmbuf_free_bulk(b + done, n - done);
	}
	return n;
}

unsigned int fp_exc_poll(struct fp_exc *x)
{
	unsigned int total = 0;

	for (unsigned int r = 0; r < FP_EXC_POLL_ROUNDS; r++) {
		unsigned int moved = fp_exc_to_kernel(x) + fp_exc_to_wire(x);

		total += moved;
		if (moved == 0)
			break;
	}
	return total;
}
