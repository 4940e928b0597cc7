/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - DNS over kernel UDP and TCP sockets.
 *
 * UDP replies carry the destination address of the query back as the source (pktinfo) so
 * wildcard listeners answer from the address that was asked. TCP follows RFC 7766:
 * 2-byte length prefix, several queries pipelined on one connection, answers possibly out
 * of order when one of them is deferred (forwarding), idle connections closed after 10 s.
 * A malformed length prefix (0, or shorter than a DNS header) closes the connection, as
 * other servers do: there is no way to answer a message without its header.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "dns.h"
#include "dnssrv.h"
#include "runtime.h"

#define TCP_MAX_CONNS     256
#define TCP_IDLE_MS       10000
#define TCP_MSG_MAX       65535
#define TCP_WBUF_HIGH     (256 * 1024) /* stop reading while this much waits to be sent */
#define TCP_PENDING_MAX   64           /* deferred answers per connection */
#define UDP_BURST         64           /* datagrams per readable socket per iteration */
#define UDP_DEFERRED_MAX  4096
#define MAX_WANT          256

struct dns_listener {
	struct cp_dnssrv *srv;
	int fd;                        /* -1 once closed (kept while answers are deferred) */
	bool tcp;
	bool keep;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	uint16_t port;
	unsigned pending;              /* deferred UDP answers that will use fd */
};

struct udp_pi {
	int family;                    /* 0 = no pktinfo received */
	union {
		struct in_pktinfo v4;
		struct in6_pktinfo v6;
	} u;
};

struct udp_req {
	struct dns_listener *l;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	struct udp_pi pi;
	uint64_t t0_ns;
	unsigned slot;
};

struct tcp_conn;

struct tcp_req {
	struct tcp_conn *c;            /* NULL once the connection closed */
	struct tcp_req *prev, *next;   /* the connection's pending list */
	uint64_t t0_ns;
	unsigned slot;
};

struct tcp_conn {
	struct cp_dnssrv *srv;
	int fd;
	struct cp_client client;
	unsigned slot;
	uint8_t *rbuf;
	size_t rlen, rcap;
	uint8_t *wbuf;
	size_t woff, wlen, wcap;
	uint64_t last_ms;
	bool eof;                      /* peer half-closed: answer what came, then close */
	unsigned pending;
	struct tcp_req *reqs;
};

struct cp_dnssrv {
	struct cp_rt *rt;
	struct dns_listener **l;
	unsigned n_l, cap_l;
	struct tcp_conn *conns[TCP_MAX_CONNS];
	unsigned n_conns;
	unsigned udp_deferred;
	uint8_t buf[TCP_MSG_MAX + 1];
};

/* ------------------------------------------------------------------------- */
/* Accounting                                                                  */

static void count_req(struct cp_dnssrv *s, unsigned slot, int tcp, int family,
		      const uint8_t *msg, size_t len)
{
	int qt = cp_msg_qtype(msg, len);

	s->rt->stats.port[slot].req[tcp][family == AF_INET6]
		[dp_qt_index(qt < 0 ? 0 : (uint16_t)qt)]++;
}

static void count_resp(struct cp_dnssrv *s, unsigned slot, int tcp, const uint8_t *msg,
		       size_t len, uint64_t t0_ns)
{
	s->rt->stats.port[slot].resp[tcp][cp_msg_rcode(msg, len)]++;
	cp_stats_duration(&s->rt->stats, cp_mono_ns() - t0_ns);
}

/* ------------------------------------------------------------------------- */
/* UDP                                                                         */

static void udp_send(int fd, const uint8_t *msg, size_t len, const struct sockaddr_storage *peer,
		     socklen_t peer_len, const struct udp_pi *pi)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} cbuf;
	struct iovec iov = { (void *)(uintptr_t)msg, len };
	struct msghdr mh = { .msg_name = (void *)(uintptr_t)peer, .msg_namelen = peer_len,
			     .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	memset(&cbuf, 0, sizeof(cbuf));
	if (pi->family == AF_INET) {
		struct in_pktinfo p = { .ipi_ifindex = 0, .ipi_spec_dst = pi->u.v4.ipi_addr };

		mh.msg_control = cbuf.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(p));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(p));
		memcpy(CMSG_DATA(cm), &p, sizeof(p));
	} else if (pi->family == AF_INET6) {
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(pi->u.v6));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi->u.v6));
		memcpy(CMSG_DATA(cm), &pi->u.v6, sizeof(pi->u.v6));
	}
	/* A full socket buffer loses the answer like a lost datagram: the client retries. */
	(void)sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static ssize_t udp_recv(int fd, uint8_t *buf, size_t cap, struct sockaddr_storage *peer,
			socklen_t *peer_len, struct udp_pi *pi)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + 64];
	} cbuf;
	struct iovec iov = { buf, cap };
	struct msghdr mh = { .msg_name = peer, .msg_namelen = sizeof(*peer), .msg_iov = &iov,
			     .msg_iovlen = 1, .msg_control = cbuf.buf,
			     .msg_controllen = sizeof(cbuf.buf) };
	struct cmsghdr *cm;
	ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);

	if (n < 0)
		return n;
	*peer_len = mh.msg_namelen;
	pi->family = 0;
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			memcpy(&pi->u.v4, CMSG_DATA(cm), sizeof(pi->u.v4));
			pi->family = AF_INET;
		} else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
			memcpy(&pi->u.v6, CMSG_DATA(cm), sizeof(pi->u.v6));
			pi->family = AF_INET6;
		}
	}
	return n;
}

static void udp_done(void *arg, const uint8_t *resp, size_t len)
{
	struct udp_req *r = arg;
	struct dns_listener *l = r->l;
	struct cp_dnssrv *s = l->srv;

	if (resp != NULL && len > 0) {
		count_resp(s, r->slot, 0, resp, len, r->t0_ns);
		if (l->fd >= 0)
			udp_send(l->fd, resp, len, &r->peer, r->peer_len, &r->pi);
	}
	l->pending--;
	s->udp_deferred--;
	free(r);
}

/* Largest answer the client accepts: 512 without EDNS, else its advertised size. */
static size_t udp_cap(const uint8_t *msg, size_t len)
{
	struct dns_query q;

	memset(&q, 0, sizeof(q));
	if (dns_parse_query(msg, len, &q) == DNS_RCODE_NOERROR && q.has_edns &&
	    q.edns_size > DNS_UDP_MIN)
		return q.edns_size;
	return DNS_UDP_MIN;
}

static void udp_one(struct dns_listener *l, size_t n, const struct sockaddr_storage *peer,
		    socklen_t peer_len, const struct udp_pi *pi)
{
	struct cp_dnssrv *s = l->srv;
	struct cp_client c = { .addr_len = peer_len, .local_port = l->port, .tcp = 0 };
	unsigned slot = cp_port_slot(cp_rt_settings(s->rt), l->port);
	uint64_t t0 = cp_mono_ns();
	struct udp_req *r = NULL;
	int len;

	memcpy(&c.addr, peer, sizeof(c.addr));
	count_req(s, slot, 0, peer->ss_family, s->buf, n);
	if (s->udp_deferred < UDP_DEFERRED_MAX && (r = malloc(sizeof(*r))) != NULL) {
		*r = (struct udp_req){ .l = l, .peer = *peer, .peer_len = peer_len, .pi = *pi,
				       .t0_ns = t0, .slot = slot };
		c.done = udp_done;
		c.req = r;
	}
	len = cp_engine_answer(s->rt->engine, s->buf, n, udp_cap(s->buf, n), &c);
	if (len == CP_ANSWER_DEFERRED && r != NULL) {
		l->pending++;
		s->udp_deferred++;
		return;
	}
	free(r);
	if (len > 0) {
		count_resp(s, slot, 0, s->buf, (size_t)len, t0);
		udp_send(l->fd, s->buf, (size_t)len, peer, peer_len, pi);
	}
}

static void udp_readable(void *obj, int fd, short revents)
{
	struct dns_listener *l = obj;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	struct udp_pi pi;
	unsigned i;

	(void)revents;
	for (i = 0; i < UDP_BURST; i++) {
		ssize_t n = udp_recv(fd, l->srv->buf, TCP_MSG_MAX, &peer, &peer_len, &pi);

		if (n < 0)
			break;
		if (n < DNS_HDR_LEN)
			continue; /* nothing to answer without a header */
		udp_one(l, (size_t)n, &peer, peer_len, &pi);
	}
}

/* ------------------------------------------------------------------------- */
/* TCP                                                                         */

static int buf_reserve(uint8_t **buf, size_t *cap, size_t need)
{
	size_t ncap = *cap ? *cap : 4096;
	uint8_t *n;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	n = realloc(*buf, ncap);
	if (n == NULL)
		return -ENOMEM;
	*buf = n;
	*cap = ncap;
	return 0;
}

/* Queue one length-prefixed answer. */
static void tcp_queue(struct tcp_conn *c, const uint8_t *msg, size_t len)
{
	if (c->woff > 0 && c->woff == c->wlen)
		c->woff = c->wlen = 0;
	if (buf_reserve(&c->wbuf, &c->wcap, c->wlen + 2 + len) < 0)
		return; /* the client times out and retries */
	c->wbuf[c->wlen] = (uint8_t)(len >> 8);
	c->wbuf[c->wlen + 1] = (uint8_t)len;
	memcpy(c->wbuf + c->wlen + 2, msg, len);
	c->wlen += 2 + len;
}

static void tcp_close(struct tcp_conn *c)
{
	struct cp_dnssrv *s = c->srv;
	struct tcp_req *r;
	unsigned i;

	/* Deferred answers still refer to the connection: detach them. */
	for (r = c->reqs; r != NULL; r = r->next)
		r->c = NULL;
	close(c->fd);
	for (i = 0; i < s->n_conns; i++) {
		if (s->conns[i] == c) {
			s->conns[i] = s->conns[--s->n_conns];
			break;
		}
	}
	free(c->rbuf);
	free(c->wbuf);
	free(c);
}

static void tcp_done(void *arg, const uint8_t *resp, size_t len)
{
	struct tcp_req *r = arg;
	struct tcp_conn *c = r->c;

	if (c != NULL) {
		if (r->prev != NULL)
			r->prev->next = r->next;
		else
			c->reqs = r->next;
		if (r->next != NULL)
			r->next->prev = r->prev;
		c->pending--;
		if (resp != NULL && len > 0 && len <= TCP_MSG_MAX) {
			count_resp(c->srv, r->slot, 1, resp, len, r->t0_ns);
			tcp_queue(c, resp, len);
		}
	}
	free(r);
}

static void tcp_answer(struct tcp_conn *c, const uint8_t *msg, size_t n)
{
	struct cp_dnssrv *s = c->srv;
	struct cp_client cl = c->client;
	uint64_t t0 = cp_mono_ns();
	struct tcp_req *r;
	int len;

	/* Answer in the shared buffer: the engine writes the response over the query. */
	memcpy(s->buf, msg, n);
	count_req(s, c->slot, 1, cl.addr.ss_family, s->buf, n);
	r = calloc(1, sizeof(*r));
	if (r != NULL) {
		r->c = c;
		r->t0_ns = t0;
		r->slot = c->slot;
		cl.done = tcp_done;
		cl.req = r;
	}
	len = cp_engine_answer(s->rt->engine, s->buf, n, TCP_MSG_MAX, &cl);
	if (len == CP_ANSWER_DEFERRED && r != NULL) {
		r->next = c->reqs;
		if (c->reqs != NULL)
			c->reqs->prev = r;
		c->reqs = r;
		c->pending++;
		return;
	}
	free(r);
	if (len > 0) {
		count_resp(s, c->slot, 1, s->buf, (size_t)len, t0);
		tcp_queue(c, s->buf, (size_t)len);
	}
}

/* Answer every complete message in rbuf. @return -1 when the stream is malformed. */
static int tcp_process(struct tcp_conn *c)
{
	size_t off = 0;

	while (c->rlen - off >= 2 && c->pending < TCP_PENDING_MAX &&
	       c->wlen - c->woff < TCP_WBUF_HIGH) {
		size_t mlen = (size_t)c->rbuf[off] << 8 | c->rbuf[off + 1];

		if (mlen < DNS_HDR_LEN)
			return -1;
		if (c->rlen - off - 2 < mlen)
			break; /* wait for the rest until the idle timeout */
		tcp_answer(c, c->rbuf + off + 2, mlen);
		off += 2 + mlen;
	}
	memmove(c->rbuf, c->rbuf + off, c->rlen - off);
	c->rlen -= off;
	return 0;
}

static bool tcp_want_read(const struct tcp_conn *c)
{
	return !c->eof && c->pending < TCP_PENDING_MAX && c->wlen - c->woff < TCP_WBUF_HIGH;
}

static int tcp_read(struct tcp_conn *c)
{
	ssize_t n;

	if (buf_reserve(&c->rbuf, &c->rcap, c->rlen + 4096) < 0)
		return -1;
	/* Never buffer more than one maximal message plus its prefix beyond what is parsed. */
	n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, MSG_DONTWAIT);
	if (n == 0) {
		c->eof = true;
		return 0;
	}
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	c->rlen += (size_t)n;
	if (c->rlen > 2 + TCP_MSG_MAX + 4096)
		return -1;
	return 0;
}

static int tcp_write(struct tcp_conn *c)
{
	ssize_t n = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	c->woff += (size_t)n;
	if (c->woff == c->wlen)
		c->woff = c->wlen = 0;
	return 0;
}

static void tcp_event(void *obj, int fd, short revents)
{
	struct tcp_conn *c = obj;

	(void)fd;
	/* POLLHUP: both directions are gone (or reset); unless there is data left to
	 * read, nothing more can be exchanged. */
	if ((revents & (POLLERR | POLLNVAL)) ||
	    ((revents & POLLHUP) && !((revents & POLLIN) && tcp_want_read(c)))) {
		tcp_close(c);
		return;
	}
	if ((revents & (POLLIN | POLLHUP)) && tcp_want_read(c)) {
		if (tcp_read(c) < 0) {
			tcp_close(c);
			return;
		}
		c->last_ms = c->srv->rt->now_ms;
	}
	if (tcp_process(c) < 0) {
		tcp_close(c);
		return;
	}
	if ((revents & POLLOUT) || c->wlen > c->woff) {
		if (tcp_write(c) < 0) {
			tcp_close(c);
			return;
		}
		c->last_ms = c->srv->rt->now_ms;
	}
	/* After EOF, once everything is answered and sent; a partial message left in
	 * rbuf can never complete. */
	if (c->eof && c->pending == 0 && c->wlen == c->woff)
		tcp_close(c);
}

static void tcp_accept(void *obj, int fd, short revents)
{
	struct dns_listener *l = obj;
	struct cp_dnssrv *s = l->srv;
	struct tcp_conn *c;
	struct sockaddr_storage peer;
	socklen_t plen;
	int cfd, i;

	(void)revents;
	for (i = 0; i < 16; i++) {
		plen = sizeof(peer);
		cfd = accept4(fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0)
			return;
		if (s->n_conns >= TCP_MAX_CONNS || (c = calloc(1, sizeof(*c))) == NULL) {
			s->rt->stats.tcp_refused++;
			close(cfd);
			continue;
		}
		c->srv = s;
		c->fd = cfd;
		memcpy(&c->client.addr, &peer, sizeof(peer));
		c->client.addr_len = plen;
		c->client.local_port = l->port;
		c->client.tcp = 1;
		c->slot = cp_port_slot(cp_rt_settings(s->rt), l->port);
		c->last_ms = s->rt->now_ms;
		s->conns[s->n_conns++] = c;
		s->rt->stats.tcp_accepted++;
	}
}

/* ------------------------------------------------------------------------- */
/* Listeners                                                                   */

static int listener_open(struct dns_listener *l)
{
	int fam = l->addr.ss_family, one = 1;
	int fd = socket(fam, (l->tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int ret;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* The addresses are the fast path's: they may appear on the exception interface
	 * only after we start. */
	if (fam == AF_INET6) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one));
		if (!l->tcp)
			setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	} else {
		setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
		if (!l->tcp)
			setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	}
	if (bind(fd, (struct sockaddr *)&l->addr, l->addr_len) < 0 ||
	    (l->tcp && listen(fd, 128) < 0)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	l->fd = fd;
	return 0;
}

static bool addr_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

	return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
	       memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
}

struct want {
	struct sockaddr_storage addr;
	socklen_t len;
};

static void want_add(struct want *w, unsigned *n, const struct sockaddr *sa)
{
	unsigned i;

	if (*n >= MAX_WANT || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return;
	memset(&w[*n], 0, sizeof(w[*n]));
	w[*n].len = sa->sa_family == AF_INET ? sizeof(struct sockaddr_in)
					     : sizeof(struct sockaddr_in6);
	memcpy(&w[*n].addr, sa, w[*n].len);
	for (i = 0; i < *n; i++)
		if (addr_same(&w[i].addr, &w[*n].addr))
			return;
	(*n)++;
}

static void want_v4(struct want *w, unsigned *n, const void *a4)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	memcpy(&sin.sin_addr, a4, 4);
	want_add(w, n, (struct sockaddr *)&sin);
}

static void want_v6(struct want *w, unsigned *n, const void *a6, unsigned scope)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_scope_id = scope };

	memcpy(&sin6.sin6_addr, a6, 16);
	want_add(w, n, (struct sockaddr *)&sin6);
}

/* A `bind` argument: "" (all), an IP literal, or an interface name (its addresses). */
static int want_bind(struct want *w, unsigned *n, const char *b)
{
	struct in_addr a4;
	struct in6_addr a6;
	struct ifaddrs *ifa, *i;
	unsigned before = *n;

	if (b[0] == '\0') {
		want_v4(w, n, &(struct in_addr){ INADDR_ANY });
		want_v6(w, n, &in6addr_any, 0);
		return 0;
	}
	if (inet_pton(AF_INET, b, &a4) == 1) {
		want_v4(w, n, &a4);
		return 0;
	}
	if (inet_pton(AF_INET6, b, &a6) == 1) {
		want_v6(w, n, &a6, 0);
		return 0;
	}
	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i != NULL; i = i->ifa_next)
		if (i->ifa_addr != NULL && strcmp(i->ifa_name, b) == 0)
			want_add(w, n, i->ifa_addr);
	freeifaddrs(ifa);
	return *n > before ? 0 : -ENODEV;
}

static unsigned want_build(struct cp_dnssrv *s, const struct cp_settings *set, struct want *w)
{
	const struct dp_state *st = s->rt->state;
	unsigned n = 0, i;

	for (i = 0; i < set->n_bind && i < 8; i++)
		if (want_bind(w, &n, set->bind[i]) < 0)
			cp_log("ERROR", "bind %s: no such address or interface", set->bind[i]);
	if (set->n_bind > 0)
		return n;
	for (i = 0; i < st->n_addr4 && i < DP_MAX_ADDRS; i++)
		want_v4(w, &n, st->addr4[i]);
	for (i = 0; i < st->n_addr6 && i < DP_MAX_ADDRS; i++)
		want_v6(w, &n, st->addr6[i], 0);
	if (n == 0)
		want_bind(w, &n, "");
	return n;
}

static struct dns_listener *listener_find(struct cp_dnssrv *s, const struct sockaddr_storage *a,
					  bool tcp)
{
	unsigned i;

	for (i = 0; i < s->n_l; i++)
		if (s->l[i]->fd >= 0 && s->l[i]->tcp == tcp && addr_same(&s->l[i]->addr, a))
			return s->l[i];
	return NULL;
}

static int listener_add(struct cp_dnssrv *s, const struct want *w, uint16_t port, bool tcp)
{
	struct dns_listener *l;
	char txt[INET6_ADDRSTRLEN] = "?";
	int ret;

	if (s->n_l == s->cap_l) {
		unsigned cap = s->cap_l ? s->cap_l * 2 : 16;
		struct dns_listener **n = realloc(s->l, cap * sizeof(*n));

		if (n == NULL)
			return -ENOMEM;
		s->l = n;
		s->cap_l = cap;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return -ENOMEM;
	*l = (struct dns_listener){ .srv = s, .fd = -1, .tcp = tcp, .keep = true,
				    .addr = w->addr, .addr_len = w->len, .port = port };
	((struct sockaddr_in *)&l->addr)->sin_port = htons(port); /* same offset in v6 */
	ret = listener_open(l);
	if (ret < 0) {
		if (w->addr.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&l->addr)->sin_addr, txt, sizeof(txt));
		else
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&l->addr)->sin6_addr, txt, sizeof(txt));
		cp_log("ERROR", "listen %s %s port %u: %s", tcp ? "tcp" : "udp", txt, port,
		       strerror(-ret));
		free(l);
		return ret;
	}
	s->l[s->n_l++] = l;
	return 0;
}

/* Close listeners not kept; free the closed ones no deferred answer refers to. */
static void listeners_prune(struct cp_dnssrv *s, bool all)
{
	unsigned i = 0;

	while (i < s->n_l) {
		struct dns_listener *l = s->l[i];

		if ((all || !l->keep) && l->fd >= 0) {
			close(l->fd);
			l->fd = -1;
		}
		if (l->fd < 0 && l->pending == 0) {
			free(l);
			s->l[i] = s->l[--s->n_l];
			continue;
		}
		i++;
	}
}

int cp_dnssrv_listen(struct cp_dnssrv *s, const struct cp_settings *set)
{
	struct want *w = calloc(MAX_WANT, sizeof(*w));
	unsigned n, i, p, t;
	int ret = 0, r;

	if (w == NULL)
		return -ENOMEM;
	n = want_build(s, set, w);
	for (i = 0; i < s->n_l; i++)
		s->l[i]->keep = false;
	for (p = 0; p < 8 && set->dns_ports[p] != 0; p++) {
		for (i = 0; i < n; i++) {
			for (t = 0; t < 2; t++) {
				struct sockaddr_storage a = w[i].addr;
				struct dns_listener *l;

				((struct sockaddr_in *)&a)->sin_port = htons(set->dns_ports[p]);
				l = listener_find(s, &a, t);
				if (l != NULL) {
					l->keep = true;
					continue;
				}
				r = listener_add(s, &w[i], set->dns_ports[p], t);
				if (r < 0 && ret == 0)
					ret = r;
			}
		}
	}
	/* New sockets are bound before old ones close: a changed bind list never leaves
	 * a moment with nothing listening on an address kept. */
	listeners_prune(s, false);
	free(w);
	return ret;
}

/* ------------------------------------------------------------------------- */

void cp_dnssrv_fill(struct cp_dnssrv *s, struct cp_poll *p)
{
	unsigned i;

	for (i = 0; i < s->n_l; i++) {
		struct dns_listener *l = s->l[i];

		if (l->fd >= 0)
			cp_poll_add(p, l->fd, POLLIN, l->tcp ? tcp_accept : udp_readable, l);
	}
	for (i = 0; i < s->n_conns; i++) {
		struct tcp_conn *c = s->conns[i];
		short ev = (tcp_want_read(c) ? POLLIN : 0) | (c->wlen > c->woff ? POLLOUT : 0);

		cp_poll_add(p, c->fd, ev, tcp_event, c);
	}
}

void cp_dnssrv_timer(struct cp_dnssrv *s, uint64_t now_ms)
{
	unsigned i = 0;

	while (i < s->n_conns) {
		struct tcp_conn *c = s->conns[i];

		if (now_ms - c->last_ms >= TCP_IDLE_MS) {
			s->rt->stats.tcp_timeouts++;
			tcp_close(c); /* moves the last connection to slot i */
			continue;
		}
		i++;
	}
	listeners_prune(s, false);
}

unsigned cp_dnssrv_conns(const struct cp_dnssrv *s)
{
	return s->n_conns;
}

unsigned cp_dnssrv_listeners(const struct cp_dnssrv *s)
{
	unsigned i, n = 0;

	for (i = 0; i < s->n_l; i++)
		n += s->l[i]->fd >= 0;
	return n;
}

struct cp_dnssrv *cp_dnssrv_create(struct cp_rt *rt)
{
	struct cp_dnssrv *s = calloc(1, sizeof(*s));

	if (s != NULL)
		s->rt = rt;
	return s;
}

void cp_dnssrv_free(struct cp_dnssrv *s)
{
	unsigned i;

	if (s == NULL)
		return;
	while (s->n_conns > 0)
		tcp_close(s->conns[0]);
	listeners_prune(s, true);
	/* Listeners still referenced by a deferred answer the engine never completed. */
	for (i = 0; i < s->n_l; i++)
		free(s->l[i]);
	free(s->l);
	free(s);
}
