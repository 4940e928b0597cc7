/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns fast path unit test - DNS behaviour of the burst function.
 */
#include <string.h>

#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "ft_cases.h"
#include "ft_lib.h"

#define F_QR 0x80 /* in the third header byte */
#define F_AA 0x04
#define F_TC 0x02

static const struct ft_frame v4 = { 0 };
static const struct ft_frame v6 = { .v6 = true };

static void case_hit(struct ft_env *e, const struct ft_frame *f)
{
	static const uint8_t addr[4] = { 192, 0, 2, 1 };
	struct rte_mbuf *out;
	const uint8_t *dns;
	uint16_t len;

	FT_SNAP(e);
	dns = ft_answered(e, f, ft_query(e, f, "www.example.com", DNS_T_A, 0), &out, &len);
	if (dns != NULL) {
		CHECK_MSG(dns[2] == (F_QR | F_AA | 0x01) && dns[3] == 0, "flags %02x%02x",
			  dns[2], dns[3]);
		CHECK_EQ(ft_rd16(dns + 6), 1);
		CHECK_MSG(memcmp(dns + len - 4, addr, 4) == 0, "A rdata");
	}
	CHECK_EQ(FT_DELTA(e, hits), 1);
	CHECK_EQ(FT_DELTA(e, answered), 1);
	CHECK_EQ(FT_DELTA(e, rcode[0]), 1);
	CHECK_EQ(FT_DELTA(e, dns_queries_v6), f->v6 ? 1 : 0);
	/* coredns_dns_requests_total{type="A",family=...} */
	CHECK_EQ(FT_DELTA(e, qtype[f->v6][DP_QT_A]), 1);
	CHECK_EQ(FT_DELTA(e, qtype[!f->v6][DP_QT_A]), 0);
	CHECK_EQ(FT_DELTA(e, qtype[f->v6][DP_QT_OTHER]), 0);
	rte_pktmbuf_free(out);
}

static void case_case_kept(struct ft_env *e)
{
	static const char name[] = "\3WwW\7ExAmPlE\3cOm";
	struct rte_mbuf *out;
	const uint8_t *dns;
	uint16_t len;

	dns = ft_answered(e, &v4, ft_query(e, &v4, "WwW.ExAmPlE.cOm", DNS_T_A, 0), &out, &len);
	if (dns != NULL) {
		CHECK_MSG(memcmp(dns + 12, name, sizeof(name)) == 0, "question case kept");
		CHECK_EQ(ft_rd16(dns + 6), 1);
	}
	rte_pktmbuf_free(out);
}

static void case_nodata(struct ft_env *e)
{
	struct rte_mbuf *out;
	const uint8_t *dns;
	uint16_t len;

	FT_SNAP(e);
	dns = ft_answered(e, &v6, ft_query(e, &v6, "www.example.com", DNS_T_AAAA, 1232), &out,
			  &len);
	if (dns != NULL) {
		CHECK_MSG((dns[2] & F_AA) && (dns[3] & 0x0f) == 0, "NOERROR AA");
		CHECK_EQ(ft_rd16(dns + 6), 0);
		CHECK_EQ(ft_rd16(dns + 10), 1); /* OPT echoed */
	}
	CHECK_EQ(FT_DELTA(e, nodata), 1);
	CHECK_EQ(FT_DELTA(e, qtype[1][DP_QT_AAAA]), 1);
	rte_pktmbuf_free(out);
}

static void case_zone(struct ft_env *e)
{
	struct rte_mbuf *out;
	const uint8_t *dns;
	uint16_t len;

	FT_SNAP(e);
	dns = ft_answered(e, &v4, ft_query(e, &v4, "nope.default.svc.cluster.local", DNS_T_A, 0),
			  &out, &len);
	if (dns != NULL) {
		CHECK_EQ(dns[3] & 0x0f, DNS_RCODE_NXDOMAIN);
		CHECK_EQ(ft_rd16(dns + 6), 0);
		CHECK_EQ(ft_rd16(dns + 8), 1); /* SOA */
	}
	CHECK_EQ(FT_DELTA(e, zone_neg), 1);
	CHECK_EQ(FT_DELTA(e, rcode[DNS_RCODE_NXDOMAIN]), 1);
	rte_pktmbuf_free(out);
	/* The longest enclosing zone decides; suffixes must start at a label. */
	ft_expect_miss(e, "sub-zone without policy",
		       ft_query(e, &v4, "x.fwd.cluster.local", DNS_T_A, 0), DP_MISS_NOT_FOUND, 512);
	ft_expect_miss(e, "not a label boundary",
		       ft_query(e, &v4, "xcluster.local", DNS_T_A, 0), DP_MISS_NOT_FOUND, 512);
}

static void case_misses(struct ft_env *e)
{
	char longname[200];

	ft_expect_miss(e, "not found", ft_query(e, &v4, "nope.example.com", DNS_T_A, 0),
		       DP_MISS_NOT_FOUND, 512);
	ft_expect_miss(e, "not found, EDNS 1232",
		       ft_query(e, &v4, "nope.example.com", DNS_T_A, 1232), DP_MISS_NOT_FOUND, 1232);
	/* 1500 - 20 - 8: never more than one unfragmented frame */
	ft_expect_miss(e, "not found, EDNS 4096",
		       ft_query(e, &v4, "nope.example.com", DNS_T_A, 4096), DP_MISS_NOT_FOUND, 1472);
	ft_expect_miss(e, "not found, v6 EDNS 4096",
		       ft_query(e, &v6, "nope.example.com", DNS_T_A, 4096), DP_MISS_NOT_FOUND, 1452);
	memset(longname, 'a', sizeof(longname));
	longname[50] = longname[101] = '.';
	strcpy(longname + 152, ".example.com");
	ft_expect_miss(e, "long name", ft_query(e, &v4, longname, DNS_T_A, 0),
		       DP_MISS_LONG_NAME, 512);
	ft_expect_miss(e, "ANY", ft_query(e, &v4, "www.example.com", DNS_T_ANY, 0),
		       DP_MISS_QTYPE, 512);
	ft_expect_miss(e, "expired cache entry", ft_query(e, &v4, "old.example.com", DNS_T_A, 0),
		       DP_MISS_EXPIRED, 512);
}

/* DO or CD queries never get cache values (made from answers to queries without them). */
static void case_cache_dnssec(struct ft_env *e)
{
	uint8_t q[512];
	uint16_t len;

	len = ft_dns_query(q, 0xbeef, DNS_F_RD | DNS_F_CD, "cache.example.com", DNS_T_A, 0, 0);
	ft_expect_miss(e, "cache entry, CD query", ft_udp_frame(e->shm.pool, &v4, q, len),
		       DP_MISS_EXPIRED, 512);
	len = ft_dns_query(q, 0xbeef, DNS_F_RD, "cache.example.com", DNS_T_A, 1232, 0);
	q[len - 4] |= 0x80; /* OPT TTL flags word: DO */
	ft_expect_miss(e, "cache entry, DO query", ft_udp_frame(e->shm.pool, &v4, q, len),
		       DP_MISS_EXPIRED, 1232);
}

static void case_cache(struct ft_env *e)
{
	struct rte_mbuf *out;
	const uint8_t *dns;
	uint16_t len;

	FT_SNAP(e);
	dns = ft_answered(e, &v4, ft_query(e, &v4, "cache.example.com", DNS_T_A, 0), &out, &len);
	/* TTL sits before RDLENGTH(2) + A(4): aged by now - stored = 10 s */
	if (dns != NULL)
		CHECK_EQ(ft_rd16(dns + len - 8), 290);
	CHECK_EQ(FT_DELTA(e, cache_hits), 1);
	rte_pktmbuf_free(out);
	case_cache_dnssec(e);
}

static void case_truncation(struct ft_env *e)
{
	struct rte_mbuf *out;
	const uint8_t *dns;
	uint16_t len;

	FT_SNAP(e);
	dns = ft_answered(e, &v4, ft_query(e, &v4, "big.example.com", DNS_T_TXT, 0), &out, &len);
	if (dns != NULL) {
		CHECK_MSG(dns[2] & F_TC, "TC set over 512 without EDNS");
		CHECK_EQ(ft_rd16(dns + 6), 0);
		CHECK_MSG(len <= 512, "length %u", len);
	}
	CHECK_EQ(FT_DELTA(e, truncated), 1);
	rte_pktmbuf_free(out);
	dns = ft_answered(e, &v4, ft_query(e, &v4, "big.example.com", DNS_T_TXT, 1232), &out,
			  &len);
	if (dns != NULL) {
		CHECK_MSG(!(dns[2] & F_TC), "no TC with EDNS 1232");
		CHECK_EQ(ft_rd16(dns + 6), 10);
	}
	rte_pktmbuf_free(out);
}

static const uint8_t *rcode_reply(struct ft_env *e, const uint8_t *q, uint16_t qlen,
				  struct rte_mbuf **out, uint16_t *len)
{
	return ft_answered(e, &v4, ft_udp_frame(e->shm.pool, &v4, q, qlen), out, len);
}

static void case_rcodes(struct ft_env *e)
{
	uint8_t q[512];
	struct rte_mbuf *out;
	const uint8_t *dns;
	uint16_t qlen, len;

	FT_SNAP(e);
	qlen = ft_dns_query(q, 0xbeef, DNS_F_RD, "www.example.com", DNS_T_A, 1232, 1);
	dns = rcode_reply(e, q, qlen, &out, &len);
	if (dns != NULL) /* BADVERS = 16: header 0, OPT extended rcode 1 */
		CHECK_MSG((dns[3] & 0x0f) == 0 && len >= 23 && dns[len - 11 + 5] == 1,
			  "BADVERS in OPT");
	CHECK_EQ(FT_DELTA(e, rcode[DNS_RCODE_BADVERS]), 1);
	rte_pktmbuf_free(out);

	qlen = ft_dns_query(q, 0xbeef, DNS_F_RD | (2 << 11), "www.example.com", DNS_T_A, 0, 0);
	dns = rcode_reply(e, q, qlen, &out, &len);
	if (dns != NULL)
		CHECK_EQ(dns[3] & 0x0f, DNS_RCODE_NOTIMP);
	rte_pktmbuf_free(out);

	qlen = ft_dns_query(q, 0xbeef, DNS_F_RD, "www.example.com", DNS_T_A, 0, 0);
	q[qlen - 1] = DNS_C_CH;
	dns = rcode_reply(e, q, qlen, &out, &len);
	if (dns != NULL)
		CHECK_EQ(dns[3] & 0x0f, DNS_RCODE_REFUSED);
	rte_pktmbuf_free(out);

	q[5] = 0; /* QDCOUNT 0 */
	dns = rcode_reply(e, q, DNS_HDR_LEN, &out, &len);
	if (dns != NULL)
		CHECK_EQ(dns[3] & 0x0f, DNS_RCODE_FORMERR);
	rte_pktmbuf_free(out);

	qlen = ft_dns_query(q, 0xbeef, DNS_F_QR, "www.example.com", DNS_T_A, 0, 0);
	ft_expect_drop(e, "QR=1", ft_udp_frame(e->shm.pool, &v4, q, qlen), DP_DROP_DNS);
	ft_expect_drop(e, "short DNS", ft_udp_frame(e->shm.pool, &v4, q, 5), DP_DROP_DNS);
}

/** The control plane's side: answer a miss through the reply ring. */
static void case_reply_ring(struct ft_env *e, const struct ft_frame *f)
{
	struct rte_mbuf *tx[FP_TX_MAX];
	struct dp_miss el;
	uint8_t *msg;
	const char *err;
	uint16_t n;

	CHECK_MSG(ft_run1(e, ft_query(e, f, "nope.example.com", DNS_T_A, 0)) == NULL, "miss");
	if (!ft_take_miss(e, &el)) {
		CHECK_MSG(false, "miss element");
		return;
	}
	msg = rte_pktmbuf_mtod_offset((struct rte_mbuf *)el.mbuf, uint8_t *, el.dns_off);
	msg[2] |= F_QR;
	msg[3] = DNS_RCODE_NXDOMAIN;
	memset(msg + el.dns_len, 0, 4);
	el.dns_len += 4;
	FT_SNAP(e);
	CHECK_MSG(rte_ring_sp_enqueue_elem(e->shm.reply[0], &el, sizeof(el)) == 0, "enqueue");
	n = fp_worker_drain_replies(e->w, tx, FP_BURST);
	CHECK_EQ(n, 1);
	if (n == 1) {
		err = ft_check_reply(tx[0], f, NULL, NULL);
		CHECK_MSG(err == NULL, "reply: %s", err);
		rte_pktmbuf_free(tx[0]);
	}
	CHECK_EQ(FT_DELTA(e, replies), 1);
	CHECK_EQ(FT_DELTA(e, rcode[DNS_RCODE_NXDOMAIN]), 1);
}

static void bad_reply(struct ft_env *e, const char *what, uint16_t dns_len, bool null_mbuf,
		      unsigned int reason)
{
	struct rte_mbuf *tx[FP_TX_MAX];
	struct dp_miss el;

	CHECK_MSG(ft_run1(e, ft_query(e, &v4, "nope.example.com", DNS_T_A, 0)) == NULL, "miss");
	if (!ft_take_miss(e, &el))
		return;
	if (null_mbuf) {
		rte_pktmbuf_free(el.mbuf);
		el.mbuf = NULL;
	}
	el.dns_len = dns_len;
	FT_SNAP(e);
	rte_ring_sp_enqueue_elem(e->shm.reply[0], &el, sizeof(el));
	CHECK_EQ(fp_worker_drain_replies(e->w, tx, FP_BURST), 0);
	CHECK_MSG(FT_DELTA(e, drop[reason]) == 1, "%s counted", what);
}

static void case_miss_full(struct ft_env *e)
{
	unsigned int cap = rte_ring_get_capacity(e->shm.miss), left = cap;
	struct rte_mbuf *b[FP_BURST], *tx[FP_TX_MAX];
	struct dp_miss el;

	while (left > 0) {
		uint16_t n = (uint16_t)RTE_MIN(left, (unsigned int)FP_BURST);

		for (uint16_t i = 0; i < n; i++)
			b[i] = ft_query(e, &v4, "nope.example.com", DNS_T_A, 0);
		fp_worker_process_burst(e->w, b, n, tx);
		left -= n;
	}
	CHECK_EQ(rte_ring_count(e->shm.miss), cap);
	ft_expect_drop(e, "miss ring full", ft_query(e, &v4, "nope.example.com", DNS_T_A, 0),
		       DP_DROP_MISS_FULL);
	while (ft_take_miss(e, &el))
		rte_pktmbuf_free(el.mbuf);
}

static void case_no_control_plane(struct ft_env *e)
{
	int32_t pid = e->shm.state->cp_pid;

	__atomic_store_n(&e->shm.state->cp_pid, 0, __ATOMIC_RELAXED);
	ft_expect_drop(e, "miss without a control plane",
		       ft_query(e, &v4, "nope.example.com", DNS_T_A, 0), DP_DROP_MISS_FULL);
	CHECK_EQ(rte_ring_count(e->shm.miss), 0);
	__atomic_store_n(&e->shm.state->cp_pid, pid, __ATOMIC_RELAXED);
}

static void case_dns_ports(struct ft_env *e)
{
	struct ft_frame f = { .dport = 5353 };
	struct rte_mbuf *out;
	uint16_t len;

	ft_expect_exception(e, "port 5353 not answered",
			    ft_query(e, &f, "www.example.com", DNS_T_A, 0));
	__atomic_store_n(&e->shm.state->dns_ports[1], 5353, __ATOMIC_RELAXED);
	CHECK_MSG(ft_answered(e, &f, ft_query(e, &f, "www.example.com", DNS_T_A, 0), &out, &len)
		  != NULL, "port 5353 answered once configured");
	rte_pktmbuf_free(out);
	__atomic_store_n(&e->shm.state->dns_ports[1], 0, __ATOMIC_RELAXED);
}

static void case_mixed_burst(struct ft_env *e)
{
	struct ft_frame bad = { .bad_ip_csum = true };
	struct rte_mbuf *b[4], *tx[FP_TX_MAX];
	struct dp_miss el;
	uint16_t n;

	b[0] = ft_query(e, &v4, "www.example.com", DNS_T_A, 0);
	b[1] = ft_query(e, &v6, "www.example.com", DNS_T_MX, 0);
	b[2] = ft_query(e, &v4, "nope.example.com", DNS_T_A, 0);
	b[3] = ft_query(e, &bad, "www.example.com", DNS_T_A, 0);
	FT_SNAP(e);
	n = fp_worker_process_burst(e->w, b, 4, tx);
	CHECK_EQ(n, 2);
	for (uint16_t i = 0; i < n; i++) {
		const char *err = ft_check_reply(tx[i], NULL, NULL, NULL);

		CHECK_MSG(err == NULL, "burst reply %u: %s", i, err);
		rte_pktmbuf_free(tx[i]);
	}
	CHECK_EQ(FT_DELTA(e, hits), 1);
	CHECK_EQ(FT_DELTA(e, nodata), 1);
	CHECK_EQ(FT_DELTA(e, missed), 1);
	CHECK_EQ(FT_DELTA(e, drop[DP_DROP_IP_CSUM]), 1);
	CHECK_EQ(FT_DELTA(e, rx_pkts), 4);
	if (ft_take_miss(e, &el))
		rte_pktmbuf_free(el.mbuf);
}

void ft_cases_dns(struct ft_env *e)
{
	struct ft_frame opts = { .ip_opts = 8 };

	case_hit(e, &v4);
	case_hit(e, &v6);
	case_case_kept(e);
	case_nodata(e);
	case_zone(e);
	case_misses(e);
	case_cache(e);
	case_truncation(e);
	case_rcodes(e);
	case_reply_ring(e, &v4);
	case_reply_ring(e, &v6);
	case_reply_ring(e, &opts);
	bad_reply(e, "reply with dns_len 0 (no answer)", 0, false, DP_DROP_CP_NOANSWER);
	bad_reply(e, "reply longer than max_len", 513, false, DP_DROP_REPLY_BAD);
	bad_reply(e, "reply without mbuf", 40, true, DP_DROP_REPLY_BAD);
	case_miss_full(e);
	case_no_control_plane(e);
	case_dns_ports(e);
	case_mixed_burst(e);
}
