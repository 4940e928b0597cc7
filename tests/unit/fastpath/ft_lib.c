/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns fast path tests - fixture, frame builder and reply checker.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <rte_udp.h>

#include "ft_lib.h"

const uint8_t ft_server_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x53 };
const uint8_t ft_client_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

static char ft_runtime_dir[PATH_MAX];

int ft_eal_init(const char *prog)
{
	char prefix[32];
	char *argv[] = {
		(char *)prog, "--no-huge", "--no-pci", "--no-shconf", "-m", "512",
		"--no-telemetry", "--log-level=5", "--file-prefix", prefix, NULL,
	};

	/* Tests run in parallel: one runtime directory each (empty with --no-shconf). */
	snprintf(prefix, sizeof(prefix), "dpdns-ft%d", (int)getpid());
	if (rte_eal_init((int)RTE_DIM(argv) - 1, argv) < 0)
		return -1;
	snprintf(ft_runtime_dir, sizeof(ft_runtime_dir), "%s", rte_eal_get_runtime_dir());
	return 0;
}

void ft_eal_cleanup(void)
{
	rte_eal_cleanup();
	if (ft_runtime_dir[0] != '\0')
		rmdir(ft_runtime_dir);
}

int ft_env_setup(struct ft_env *e, uint32_t table_size, uint32_t mbufs)
{
	int ret;

	memset(e, 0, sizeof(*e));
	e->cfg.port_id = -1;
	e->cfg.table_size = table_size;
	e->cfg.mbufs = mbufs;
	strcpy(e->cfg.exc_iface, "ft0");
	inet_pton(AF_INET, FT_SERVER4, &e->cfg.addr4[0]);
	inet_pton(AF_INET, "198.18.0.54", &e->cfg.addr4[1]);
	e->cfg.n_addr4 = 2;
	inet_pton(AF_INET6, FT_SERVER6, e->cfg.addr6[0]);
	e->cfg.n_addr6 = 1;
	ret = fp_shm_create(&e->shm, &e->cfg, 1, SOCKET_ID_ANY);
	if (ret < 0)
		return ret;
	memcpy(e->shm.state->mac, ft_server_mac, 6);
	e->shm.state->now = 1000;
	e->shm.state->cp_pid = (int32_t)getpid(); /* misses are queued only with a control plane */
	e->w = rte_zmalloc("ft_worker", sizeof(*e->w), RTE_CACHE_LINE_SIZE);
	if (e->w == NULL) {
		fp_shm_destroy(&e->shm);
		return -ENOMEM;
	}
	fp_worker_init(e->w, &e->shm, 0, UINT16_MAX, 0);
	fp_shm_publish(&e->shm);
	return 0;
}

void ft_env_teardown(struct ft_env *e)
{
	rte_free(e->w);
	fp_shm_destroy(&e->shm);
}

static uint8_t *ft_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

/* Case is kept (the responder must echo it): no lower-casing encoder from common/. */
static uint8_t *ft_put_name(uint8_t *p, const char *name)
{
	while (*name != '\0') {
		const char *dot = strchr(name, '.');
		size_t n = dot != NULL ? (size_t)(dot - name) : strlen(name);

		*p++ = (uint8_t)n;
		memcpy(p, name, n);
		p += n;
		name += n;
		if (*name == '.')
			name++;
	}
	*p++ = 0;
	return p;
}

uint16_t ft_dns_query(uint8_t *out, uint16_t id, uint16_t flags, const char *name,
		      uint16_t qtype, uint16_t edns, uint8_t edns_version)
{
	uint8_t *p = out;

	p = ft_put16(p, id);
	p = ft_put16(p, flags);
	p = ft_put16(p, 1);
	p = ft_put16(p, 0);
	p = ft_put16(p, 0);
	p = ft_put16(p, edns != 0);
	p = ft_put_name(p, name);
	p = ft_put16(p, qtype);
	p = ft_put16(p, DNS_C_IN);
	if (edns != 0) {
		*p++ = 0;
		p = ft_put16(p, DNS_T_OPT);
		p = ft_put16(p, edns);
		*p++ = 0;
		*p++ = edns_version;
		p = ft_put16(p, 0);
		p = ft_put16(p, 0);
	}
	return (uint16_t)(p - out);
}

struct rte_mbuf *ft_raw_frame(struct rte_mempool *pool, const uint8_t *b, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	char *d;

	if (m == NULL)
		return NULL;
	d = rte_pktmbuf_append(m, len);
	if (d == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memcpy(d, b, len);
	return m;
}

static uint8_t *ft_put_l2(uint8_t *p, const struct ft_frame *f)
{
	memcpy(p, f->dst_mac != NULL ? f->dst_mac : ft_server_mac, 6);
	memcpy(p + 6, ft_client_mac, 6);
	p += 12;
	if (f->vlan || f->qinq) {
		p = ft_put16(p, RTE_ETHER_TYPE_VLAN);
		p = ft_put16(p, f->tci);
	}
	if (f->qinq) {
		p = ft_put16(p, RTE_ETHER_TYPE_VLAN);
		p = ft_put16(p, 7);
	}
	return ft_put16(p, f->v6 ? RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4);
}

static void ft_udp_csum(struct rte_udp_hdr *u, const void *ip, const struct ft_frame *f)
{
	u->dgram_cksum = 0;
	if (f->zero_udp_csum)
		return;
	if (!f->v6)
		u->dgram_cksum = rte_ipv4_udptcp_cksum(ip, u);
	else if (!f->hop_by_hop && !f->frag)
		u->dgram_cksum = rte_ipv6_udptcp_cksum(ip, u);
	if (f->bad_udp_csum)
		u->dgram_cksum ^= 0x0100;
}

static uint8_t *ft_put_ip4(uint8_t *p, const struct ft_frame *f, uint16_t l4_len, uint8_t proto)
{
	struct rte_ipv4_hdr *ip = (void *)p;
	uint8_t ihl = (uint8_t)(20 + f->ip_opts);

	memset(ip, 0, ihl);
	ip->version_ihl = (uint8_t)(0x40 | (ihl / 4));
	ip->total_length = rte_cpu_to_be_16(ihl + l4_len);
	ip->packet_id = rte_cpu_to_be_16(0x1234);
	ip->fragment_offset = rte_cpu_to_be_16(f->frag ? RTE_IPV4_HDR_MF_FLAG : 0);
	ip->time_to_live = f->hop != 0 ? f->hop : 17;
	ip->next_proto_id = proto;
	inet_pton(AF_INET, f->src != NULL ? f->src : FT_CLIENT4, &ip->src_addr);
	inet_pton(AF_INET, f->dst != NULL ? f->dst : FT_SERVER4, &ip->dst_addr);
	memset(p + 20, 1, f->ip_opts); /* NOP options */
	return p + ihl;
}

static uint8_t *ft_put_ip6(uint8_t *p, const struct ft_frame *f, uint16_t l4_len, uint8_t proto)
{
	struct rte_ipv6_hdr *ip6 = (void *)p;
	uint16_t ext = (f->hop_by_hop || f->frag) ? 8 : 0;

	memset(ip6, 0, sizeof(*ip6));
	ip6->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip6->payload_len = rte_cpu_to_be_16(ext + l4_len);
	ip6->proto = f->hop_by_hop ? 0 : f->frag ? 44 : proto;
	ip6->hop_limits = f->hop != 0 ? f->hop : 17;
	inet_pton(AF_INET6, f->src != NULL ? f->src : FT_CLIENT6, ip6->src_addr);
	inet_pton(AF_INET6, f->dst != NULL ? f->dst : FT_SERVER6, ip6->dst_addr);
	p += sizeof(*ip6);
	if (ext != 0) {
		memset(p, 0, 8);
		p[0] = proto;
		if (f->hop_by_hop) {
			p[2] = 1; /* PadN */
			p[3] = 4;
		} else {
			p[3] = 1; /* M flag */
			p[7] = 9;
		}
		p += 8;
	}
	return p;
}

struct rte_mbuf *ft_udp_frame(struct rte_mempool *pool, const struct ft_frame *f,
			      const uint8_t *payload, uint16_t len)
{
	uint8_t buf[4096], *p = ft_put_l2(buf, f), *l3 = p;
	struct rte_udp_hdr *u;
	uint16_t l4_len = (uint16_t)(8 + len), total;

	p = f->v6 ? ft_put_ip6(p, f, l4_len, IPPROTO_UDP) : ft_put_ip4(p, f, l4_len, IPPROTO_UDP);
	u = (void *)p;
	u->src_port = rte_cpu_to_be_16(f->sport != 0 ? f->sport : 40000);
	u->dst_port = rte_cpu_to_be_16(f->dport != 0 ? f->dport : 53);
	u->dgram_len = rte_cpu_to_be_16((uint16_t)(l4_len + f->udp_len_delta));
	memcpy(p + 8, payload, len);
	ft_udp_csum(u, l3, f);
	if (f->v6) {
		struct rte_ipv6_hdr *ip6 = (void *)l3;

		ip6->payload_len = rte_cpu_to_be_16((uint16_t)(rte_be_to_cpu_16(ip6->payload_len) +
							       f->ip_len_delta));
	} else {
		struct rte_ipv4_hdr *ip = (void *)l3;

		ip->total_length = rte_cpu_to_be_16((uint16_t)(rte_be_to_cpu_16(ip->total_length) +
							       f->ip_len_delta));
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		if (f->bad_ip_csum)
			ip->hdr_checksum ^= 0x0100;
	}
	total = (uint16_t)(p + l4_len - buf);
	memset(buf + total, 0, f->pad);
	return ft_raw_frame(pool, buf, (uint16_t)(total + f->pad));
}

struct rte_mbuf *ft_ip_frame(struct rte_mempool *pool, const struct ft_frame *f,
			     uint8_t proto, const uint8_t *l4, uint16_t len)
{
	uint8_t buf[4096], *p = ft_put_l2(buf, f), *l3 = p;

	p = f->v6 ? ft_put_ip6(p, f, len, proto) : ft_put_ip4(p, f, len, proto);
	memcpy(p, l4, len);
	if (!f->v6) {
		struct rte_ipv4_hdr *ip = (void *)l3;

		ip->hdr_checksum = rte_ipv4_cksum(ip);
		if (f->bad_ip_csum)
			ip->hdr_checksum ^= 0x0100;
	}
	return ft_raw_frame(pool, buf, (uint16_t)(p + len - buf));
}

static const char *ft_check_l2(const uint8_t *d, const struct ft_frame *f, uint16_t *off,
			       uint16_t *type)
{
	if (memcmp(d, ft_client_mac, 6) != 0 || memcmp(d + 6, ft_server_mac, 6) != 0)
		return "MAC addresses not swapped";
	*type = (uint16_t)(d[12] << 8 | d[13]);
	*off = 14;
	if (*type == RTE_ETHER_TYPE_VLAN) {
		if (f != NULL && (!f->vlan || (uint16_t)(d[14] << 8 | d[15]) != f->tci))
			return "VLAN tag not kept";
		*type = (uint16_t)(d[16] << 8 | d[17]);
		*off = 18;
	} else if (f != NULL && f->vlan) {
		return "VLAN tag lost";
	}
	return NULL;
}

static const char *ft_check_ip4(const uint8_t *d, uint16_t len, const struct ft_frame *f)
{
	const struct rte_ipv4_hdr *ip = (const void *)d;
	uint32_t a;

	if (len < 28 || ip->version_ihl != 0x45)
		return "IPv4 header not a plain 20-byte header";
	if (rte_be_to_cpu_16(ip->total_length) != len)
		return "IPv4 total length does not match the frame";
	if (rte_raw_cksum(ip, 20) != 0xffff)
		return "IPv4 header checksum wrong";
	if (ip->time_to_live != 64 || ip->packet_id != 0 ||
	    ip->fragment_offset != rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG))
		return "IPv4 TTL/ID/DF not as specified";
	if (ip->next_proto_id != IPPROTO_UDP)
		return "not UDP";
	if (f != NULL) {
		inet_pton(AF_INET, f->dst != NULL ? f->dst : FT_SERVER4, &a);
		if (ip->src_addr != a)
			return "IPv4 source is not the queried address";
		inet_pton(AF_INET, f->src != NULL ? f->src : FT_CLIENT4, &a);
		if (ip->dst_addr != a)
			return "IPv4 destination is not the client";
	}
	return NULL;
}

static const char *ft_check_ip6(const uint8_t *d, uint16_t len, const struct ft_frame *f)
{
	const struct rte_ipv6_hdr *ip6 = (const void *)d;
	uint8_t a[16];

	if (len < 48 || (d[0] >> 4) != 6 || ip6->proto != IPPROTO_UDP)
		return "not IPv6/UDP";
	if (rte_be_to_cpu_16(ip6->payload_len) != len - 40)
		return "IPv6 payload length does not match the frame";
	if (f != NULL) {
		inet_pton(AF_INET6, f->dst != NULL ? f->dst : FT_SERVER6, a);
		if (memcmp(ip6->src_addr, a, 16) != 0)
			return "IPv6 source is not the queried address";
		inet_pton(AF_INET6, f->src != NULL ? f->src : FT_CLIENT6, a);
		if (memcmp(ip6->dst_addr, a, 16) != 0)
			return "IPv6 destination is not the client";
	}
	return NULL;
}

static const char *ft_check_udp(const uint8_t *ip, bool v6, const uint8_t *l4, uint16_t len,
				const struct ft_frame *f)
{
	const struct rte_udp_hdr *u = (const void *)l4;
	uint32_t s;

	if (rte_be_to_cpu_16(u->dgram_len) != len)
		return "UDP length does not match";
	if (u->dgram_cksum == 0)
		return "UDP checksum not set";
	s = rte_raw_cksum(l4, len);
	s += v6 ? rte_ipv6_phdr_cksum((const void *)ip, 0) : rte_ipv4_phdr_cksum((const void *)ip, 0);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	if (s != 0xffff)
		return "UDP checksum wrong";
	if (f != NULL && (rte_be_to_cpu_16(u->src_port) != (f->dport ? f->dport : 53) ||
			  rte_be_to_cpu_16(u->dst_port) != (f->sport ? f->sport : 40000)))
		return "UDP ports not swapped";
	if (len < 8 + DNS_HDR_LEN)
		return "DNS message shorter than a header";
	if (!(l4[8 + 2] & 0x80))
		return "QR not set";
	return NULL;
}

const char *ft_check_reply(const struct rte_mbuf *m, const struct ft_frame *f,
			   const uint8_t **dns, uint16_t *dns_len)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	uint16_t off, type, hl;
	const char *err;

	if (m->nb_segs != 1 || m->data_len != m->pkt_len || m->data_len < 14)
		return "mbuf lengths inconsistent";
	err = ft_check_l2(d, f, &off, &type);
	if (err != NULL)
		return err;
	if (type == RTE_ETHER_TYPE_IPV4) {
		err = ft_check_ip4(d + off, m->data_len - off, f);
		hl = 20;
	} else if (type == RTE_ETHER_TYPE_IPV6) {
		err = ft_check_ip6(d + off, m->data_len - off, f);
		hl = 40;
	} else {
		return "not IP";
	}
	if (err != NULL)
		return err;
	err = ft_check_udp(d + off, type == RTE_ETHER_TYPE_IPV6, d + off + hl,
			   (uint16_t)(m->data_len - off - hl), f);
	if (err != NULL)
		return err;
	if (dns != NULL) {
		*dns = d + off + hl + 8;
		*dns_len = (uint16_t)(m->data_len - off - hl - 8);
	}
	return NULL;
}

struct dns_answer *ft_table_add(struct ft_env *e, const char *name, uint16_t qtype,
				const struct dns_builder *b)
{
	struct dns_key key;
	struct dns_answer *a;
	int len;

	if (dns_key_from_str(&key, name, qtype) < 0)
		return NULL;
	a = rte_zmalloc("ft_answer", sizeof(*a) + DNS_BUILD_MAX + 2 * DNS_ANS_MAX_TTL, 8);
	if (a == NULL)
		return NULL;
	len = dns_builder_finish(b, a, sizeof(*a) + DNS_BUILD_MAX + 2 * DNS_ANS_MAX_TTL);
	if (len < 0 ||
	    rte_hash_add_key_with_hash_data(e->shm.hash, &key, dns_key_hash(&key), a) < 0) {
		rte_free(a);
		return NULL;
	}
	return a;
}

/* ------------------------------------------------------------------------- */

uint16_t ft_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

struct rte_mbuf *ft_query(struct ft_env *e, const struct ft_frame *f, const char *name,
			  uint16_t qtype, uint16_t edns)
{
	uint8_t q[512];
	uint16_t len = ft_dns_query(q, 0xbeef, DNS_F_RD, name, qtype, edns, 0);

	return ft_udp_frame(e->shm.pool, f, q, len);
}

struct rte_mbuf *ft_run1(struct ft_env *e, struct rte_mbuf *m)
{
	struct rte_mbuf *tx[FP_TX_MAX];
	uint16_t n;

	CHECK_MSG(m != NULL, "frame built");
	if (m == NULL)
		return NULL;
	n = fp_worker_process_burst(e->w, &m, 1, tx);
	CHECK_MSG(n <= 1, "at most one reply, got %u", n);
	return n == 1 ? tx[0] : NULL;
}

const uint8_t *ft_answered(struct ft_env *e, const struct ft_frame *f, struct rte_mbuf *m,
			   struct rte_mbuf **out, uint16_t *dlen)
{
	const uint8_t *dns = NULL;
	const char *err;

	*out = ft_run1(e, m);
	CHECK_MSG(*out != NULL, "query answered");
	if (*out == NULL)
		return NULL;
	err = ft_check_reply(*out, f, &dns, dlen);
	CHECK_MSG(err == NULL, "%s", err);
	if (err != NULL)
		return NULL;
	CHECK_EQ(ft_rd16(dns), 0xbeef);
	return dns;
}

void ft_expect_drop(struct ft_env *e, const char *what, struct rte_mbuf *m, enum dp_drop why)
{
	struct rte_mbuf *r;

	FT_SNAP(e);
	r = ft_run1(e, m);
	CHECK_MSG(r == NULL, "%s: no reply", what);
	rte_pktmbuf_free(r);
	CHECK_MSG(FT_DELTA(e, drop[why]) == 1, "%s: drop reason %d counted", what, why);
}

void ft_expect_exception(struct ft_env *e, const char *what, struct rte_mbuf *m)
{
	struct rte_mbuf *r;
	void *obj = NULL;

	FT_SNAP(e);
	r = ft_run1(e, m);
	CHECK_MSG(r == NULL, "%s: no reply", what);
	rte_pktmbuf_free(r);
	CHECK_MSG(FT_DELTA(e, exception_tx) == 1, "%s: sent to the exception port", what);
	CHECK_MSG(rte_ring_sc_dequeue(e->shm.exc_tx, &obj) == 0 && obj == m,
		  "%s: frame on the exception ring", what);
	rte_pktmbuf_free(obj);
}

bool ft_take_miss(struct ft_env *e, struct dp_miss *el)
{
	return rte_ring_sc_dequeue_elem(e->shm.miss, el, sizeof(*el)) == 0;
}

void ft_expect_miss(struct ft_env *e, const char *what, struct rte_mbuf *m,
		    enum dp_miss_reason why, uint16_t max_len)
{
	struct dp_miss el;
	struct rte_mbuf *r;

	FT_SNAP(e);
	r = ft_run1(e, m);
	CHECK_MSG(r == NULL, "%s: no reply", what);
	rte_pktmbuf_free(r);
	CHECK_MSG(FT_DELTA(e, missed) == 1, "%s: counted as missed", what);
	if (!ft_take_miss(e, &el)) {
		CHECK_MSG(false, "%s: nothing on the miss ring", what);
		return;
	}
	CHECK_MSG(el.mbuf == m && el.reason == why && el.worker == 0,
		  "%s: element (reason %u, want %u)", what, el.reason, why);
	CHECK_MSG(el.max_len == max_len, "%s: max_len %u, want %u", what, el.max_len, max_len);
	rte_pktmbuf_free(el.mbuf);
}
