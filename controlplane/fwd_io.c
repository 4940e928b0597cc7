/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - upstream transport of the forwarder (see fwd_io.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns.h"
#include "fwd_io.h"
#include "fwd_tls.h"

#define FWD_RECV_MAX 65535

enum x_state { X_CONNECT, X_HANDSHAKE, X_SEND, X_RECV };

struct fwd_xchg {
	struct fwd_xchg *prev, *next;
	struct fwd_target *t;
	enum fwd_proto proto;
	enum x_state state;
	int fd;
	void *ssl;
	bool reused;     /* connection came from the idle pool */
	bool dead;       /* finished or cancelled: freed at the end of fwd_io_poll */
	bool cancelled;
	uint16_t id;
	uint16_t opcode;
	uint32_t events; /* current epoll interest */
	struct fwd_question fq;
	uint64_t deadline_ms;
	fwd_xchg_cb cb;
	void *ctx;
	size_t in_off;   /* stream: bytes of length prefix + body read so far */
	size_t in_len;   /* stream: announced body length (valid once in_off >= 2) */
	uint8_t *in;
	uint8_t lenbuf[2];
	size_t out_len, out_off;
	uint8_t out[];   /* 2-byte length prefix, then the message */
};

struct fwd_io {
	int epfd;
	unsigned n_active;
	struct fwd_xchg *active;  /* in progress (doubly linked, NULL-terminated) */
	struct fwd_xchg *grave;   /* finished exchanges, freed after the event batch */
	uint64_t now_ms;
	uint64_t next_deadline_ms; /* no exchange times out before this */
	struct fwd_io_stats stats;
	uint8_t buf[FWD_RECV_MAX];
};

/* ------------------------------------------------------------------------- */
/* Randomness: IDs and shuffles come from getrandom(), read in blocks.        */

static uint8_t rnd_buf[256];
static size_t rnd_left;

static void rnd_bytes(void *out, size_t n)
{
	uint8_t *o = out;

	while (n > 0) {
		size_t k;

		if (rnd_left == 0) {
			ssize_t r = getrandom(rnd_buf, sizeof(rnd_buf), 0);

			if (r <= 0) {
				/* getrandom() on Linux >= 3.17 only fails when interrupted. */
				continue;
			}
			rnd_left = (size_t)r;
		}
		k = n < rnd_left ? n : rnd_left;
		memcpy(o, rnd_buf + sizeof(rnd_buf) - rnd_left, k);
		rnd_left -= k;
		o += k;
		n -= k;
	}
}

uint16_t fwd_random16(void)
{
	uint16_t v;

	rnd_bytes(&v, sizeof(v));
	return v;
}

uint32_t fwd_random_below(uint32_t n)
{
	uint32_t v, lim;

	if (n <= 1)
		return 0;
	lim = UINT32_MAX - UINT32_MAX % n; /* reject the biased tail */
	do
		rnd_bytes(&v, sizeof(v));
	while (v >= lim);
	return v % n;
}

/* ------------------------------------------------------------------------- */
/* Targets and their idle connections                                          */

void fwd_target_init(struct fwd_target *t, const struct sockaddr *addr, socklen_t len)
{
	memset(t, 0, sizeof(*t));
	memcpy(&t->addr, addr, len);
	t->addr_len = len;
}

static void conn_close(int fd, void *ssl)
{
	if (ssl != NULL)
		fwd_tls_close(ssl);
	if (fd >= 0)
		close(fd);
}

void fwd_target_trim(struct fwd_target *t, uint64_t now_ms, uint64_t expire_ms)
{
	for (int k = 0; k < 2; k++) {
		unsigned j = 0;

		for (unsigned i = 0; i < t->n_idle[k]; i++) {
			if (expire_ms != 0 && now_ms - t->idle[k][i].used_ms <= expire_ms) {
				t->idle[k][j++] = t->idle[k][i];
				continue;
			}
			conn_close(t->idle[k][i].fd, t->idle[k][i].ssl);
		}
		t->n_idle[k] = j;
	}
}

/* Take the oldest usable idle connection (FIFO, like CoreDNS). @return 0 or -ENOENT */
static int idle_take(struct fwd_target *t, int k, uint64_t now_ms, uint64_t expire_ms,
		     int *fd, void **ssl)
{
	while (t->n_idle[k] > 0) {
		int cfd = t->idle[k][0].fd;
		void *cssl = t->idle[k][0].ssl;
		bool fresh = now_ms - t->idle[k][0].used_ms <= expire_ms;
		uint8_t b;
		ssize_t r;

		t->n_idle[k]--;
		memmove(&t->idle[k][0], &t->idle[k][1], t->n_idle[k] * sizeof(t->idle[k][0]));
		/* A peer that closed (or sent junk) while idle shows up as readable. */
		r = recv(cfd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
		if (fresh && r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
		    (cssl == NULL || !fwd_tls_pending(cssl))) {
			*fd = cfd;
			*ssl = cssl;
			return 0;
		}
		conn_close(cfd, cssl);
	}
	return -ENOENT;
}

static bool idle_put(struct fwd_target *t, int k, int fd, void *ssl, uint64_t now_ms)
{
	if (t->n_idle[k] == FWD_IDLE_MAX)
		return false;
	t->idle[k][t->n_idle[k]].fd = fd;
	t->idle[k][t->n_idle[k]].ssl = ssl;
	t->idle[k][t->n_idle[k]].used_ms = now_ms;
	t->n_idle[k]++;
	return true;
}

/* ------------------------------------------------------------------------- */
/* Exchange lifecycle                                                          */

static void x_unlink(struct fwd_io *io, struct fwd_xchg *x)
{
	if (x->prev != NULL)
		x->prev->next = x->next;
	else
		io->active = x->next;
	if (x->next != NULL)
		x->next->prev = x->prev;
	x->dead = true;
	x->next = io->grave;
	io->grave = x;
	io->n_active--;
}

/*
 * End an exchange. A stream connection that delivered its reply goes back to the idle
 * pool; anything else is closed. The callback runs after the exchange left the active
 * list, so it may start new exchanges.
 */
static void x_finish(struct fwd_io *io, struct fwd_xchg *x, int err, uint8_t *reply,
		     size_t len)
{
	bool keep = err == 0 && x->proto != FWD_UDP;

	if (x->fd >= 0)
		epoll_ctl(io->epfd, EPOLL_CTL_DEL, x->fd, NULL);
	if (!keep || !idle_put(x->t, x->proto == FWD_TLS, x->fd, x->ssl, io->now_ms))
		conn_close(x->fd, x->ssl);
	x->fd = -1;
	x->ssl = NULL;
	x_unlink(io, x);
	if (!x->cancelled)
		x->cb(x->ctx, err, reply, len);
}

static int x_want(struct fwd_io *io, struct fwd_xchg *x, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = x };

	if (x->events == events)
		return 0;
	if (epoll_ctl(io->epfd, x->events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, x->fd, &ev) != 0)
		return -errno;
	x->events = events;
	return 0;
}

/* A reply arrived: check it belongs to the query. @return 1 accepted, 0 dropped */
static int x_accept(struct fwd_io *io, struct fwd_xchg *x, const uint8_t *msg, size_t len)
{
	switch (fwd_msg_check(msg, len, x->id, x->opcode, &x->fq)) {
	case FWD_REPLY_OK:
		return 1;
	case FWD_REPLY_ID:
		io->stats.bad_id++;
		return 0;
	case FWD_REPLY_QUESTION:
		io->stats.bad_question++;
		return 0;
	default:
		io->stats.malformed++;
		return 0;
	}
}

static int sock_open(const struct fwd_target *t, int type)
{
	int fd = socket(t->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&t->addr, t->addr_len) != 0 &&
	    errno != EINPROGRESS) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

/* ------------------------------------------------------------------------- */
/* UDP                                                                          */

static void udp_send(struct fwd_io *io, struct fwd_xchg *x)
{
	ssize_t r = send(x->fd, x->out + 2, x->out_len - 2, 0);

	if (r < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (x_want(io, x, EPOLLOUT) != 0)
				x_finish(io, x, -EIO, NULL, 0);
			return;
		}
		x_finish(io, x, -errno, NULL, 0);
		return;
	}
	x->state = X_RECV;
	if (x_want(io, x, EPOLLIN) != 0)
		x_finish(io, x, -EIO, NULL, 0);
}

static void udp_recv(struct fwd_io *io, struct fwd_xchg *x)
{
	/* Bounded: a flood of junk datagrams cannot pin the engine thread. */
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		ssize_t r = recvfrom(x->fd, io->buf, sizeof(io->buf), 0,
				     (struct sockaddr *)&from, &flen);

		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			x_finish(io, x, -errno, NULL, 0);
			return;
		}
		/* Connected socket: the kernel already filters, this is belt and braces. */
		if (flen != x->t->addr_len || memcmp(&from, &x->t->addr, flen) != 0) {
			io->stats.bad_addr++;
			continue;
		}
		if (x_accept(io, x, io->buf, (size_t)r)) {
			x_finish(io, x, 0, io->buf, (size_t)r);
			return;
		}
	}
}

/* ------------------------------------------------------------------------- */
/* TCP and TLS                                                                  */

/* @return bytes moved (> 0), 0 at EOF, -EAGAIN with interest updated, or -errno. */
static ssize_t stream_io(struct fwd_io *io, struct fwd_xchg *x, bool wr, uint8_t *p,
			 size_t n)
{
	ssize_t r;

	if (x->ssl != NULL) {
		r = wr ? fwd_tls_write(x->ssl, p, n) : fwd_tls_read(x->ssl, p, n);
		if (r == -FWD_TLS_WANT_READ || r == -FWD_TLS_WANT_WRITE) {
			if (x_want(io, x, r == -FWD_TLS_WANT_READ ? EPOLLIN : EPOLLOUT) != 0)
				return -EIO;
			return -EAGAIN;
		}
		return r;
	}
	r = wr ? send(x->fd, p, n, MSG_NOSIGNAL) : recv(x->fd, p, n, 0);
	if (r >= 0)
		return r;
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		if (x_want(io, x, wr ? EPOLLOUT : EPOLLIN) != 0)
			return -EIO;
		return -EAGAIN;
	}
	return -errno;
}

static void stream_fail(struct fwd_io *io, struct fwd_xchg *x, int err)
{
	/* A reused connection that dies before the reply starts was closed while idle. */
	if (x->reused && x->in_off == 0)
		err = -EPIPE;
	x_finish(io, x, err, NULL, 0);
}

static void stream_recv(struct fwd_io *io, struct fwd_xchg *x)
{
	for (;;) {
		ssize_t r;

		if (x->in_off < 2)
			r = stream_io(io, x, false, x->lenbuf + x->in_off, 2 - x->in_off);
		else
			r = stream_io(io, x, false, x->in + x->in_off - 2, x->in_len + 2 - x->in_off);
		if (r == -EAGAIN)
			return;
		if (r <= 0) {
			stream_fail(io, x, r == 0 ? -ECONNRESET : (int)r);
			return;
		}
		x->in_off += (size_t)r;
		if (x->in_off == 2 && x->in == NULL) {
			x->in_len = (size_t)x->lenbuf[0] << 8 | x->lenbuf[1];
			if (x->in_len < DNS_HDR_LEN) {
				stream_fail(io, x, -EIO);
				return;
			}
			x->in = malloc(x->in_len);
			if (x->in == NULL) {
				stream_fail(io, x, -ENOMEM);
				return;
			}
		}
		if (x->in_off < x->in_len + 2)
			continue;
		if (x_accept(io, x, x->in, x->in_len)) {
			x_finish(io, x, 0, x->in, x->in_len);
			return;
		}
		/* Out-of-order or foreign reply on the stream: drop it, read the next one. */
		free(x->in);
		x->in = NULL;
		x->in_off = 0;
		x->in_len = 0;
	}
}

static void stream_send(struct fwd_io *io, struct fwd_xchg *x)
{
	while (x->out_off < x->out_len) {
		ssize_t r = stream_io(io, x, true, x->out + x->out_off, x->out_len - x->out_off);

		if (r == -EAGAIN)
			return;
		if (r <= 0) {
			stream_fail(io, x, r == 0 ? -EIO : (int)r);
			return;
		}
		x->out_off += (size_t)r;
	}
	x->state = X_RECV;
	if (x_want(io, x, EPOLLIN) != 0) {
		stream_fail(io, x, -EIO);
		return;
	}
	/* TLS may already hold the reply's records. */
	if (x->ssl != NULL && fwd_tls_pending(x->ssl))
		stream_recv(io, x);
}

static void stream_handshake(struct fwd_io *io, struct fwd_xchg *x)
{
	int r = fwd_tls_handshake(x->ssl);

	if (r == FWD_TLS_WANT_READ || r == FWD_TLS_WANT_WRITE) {
		if (x_want(io, x, r == FWD_TLS_WANT_READ ? EPOLLIN : EPOLLOUT) != 0)
			x_finish(io, x, -EIO, NULL, 0);
		return;
	}
	if (r != 0) {
		x_finish(io, x, -EIO, NULL, 0);
		return;
	}
	x->state = X_SEND;
	stream_send(io, x);
}

static void stream_connected(struct fwd_io *io, struct fwd_xchg *x)
{
	int err = 0;
	socklen_t elen = sizeof(err);

	if (getsockopt(x->fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0)
		err = errno;
	if (err != 0) {
		x_finish(io, x, -err, NULL, 0);
		return;
	}
	if (x->proto == FWD_TLS) {
		x->ssl = fwd_tls_session(x->t->tls_ctx, x->fd);
		if (x->ssl == NULL) {
			x_finish(io, x, -ENOMEM, NULL, 0);
			return;
		}
		x->state = X_HANDSHAKE;
		stream_handshake(io, x);
		return;
	}
	x->state = X_SEND;
	stream_send(io, x);
}

static void x_event(struct fwd_io *io, struct fwd_xchg *x, uint32_t ev)
{
	if (x->dead)
		return;
	if (x->proto == FWD_UDP) {
		if (x->state == X_SEND)
			udp_send(io, x);
		else
			udp_recv(io, x);
		return;
	}
	switch (x->state) {
	case X_CONNECT:
		stream_connected(io, x);
		break;
	case X_HANDSHAKE:
		stream_handshake(io, x);
		break;
	case X_SEND:
		stream_send(io, x);
		break;
	case X_RECV:
		stream_recv(io, x);
		break;
	}
	(void)ev;
}

/* ------------------------------------------------------------------------- */
/* Public                                                                       */

struct fwd_io *fwd_io_create(void)
{
	struct fwd_io *io = calloc(1, sizeof(*io));

	if (io == NULL)
		return NULL;
	io->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (io->epfd < 0) {
		free(io);
		return NULL;
	}
	io->next_deadline_ms = UINT64_MAX;
	return io;
}

static void reap(struct fwd_io *io)
{
	while (io->grave != NULL) {
		struct fwd_xchg *x = io->grave;

		io->grave = x->next;
		free(x->in);
		free(x);
	}
}

void fwd_io_free(struct fwd_io *io)
{
	if (io == NULL)
		return;
	while (io->active != NULL) {
		struct fwd_xchg *x = io->active;

		x->cancelled = true;
		x_finish(io, x, -ECANCELED, NULL, 0);
	}
	reap(io);
	close(io->epfd);
	free(io);
}

int fwd_io_fd(const struct fwd_io *io)
{
	return io->epfd;
}

const struct fwd_io_stats *fwd_io_stats(const struct fwd_io *io)
{
	return &io->stats;
}

unsigned fwd_io_inflight(const struct fwd_io *io)
{
	return io->n_active;
}

/* Get a connected (or connecting) descriptor for @p x. @return 0 or -errno */
static int x_connect(struct fwd_io *io, struct fwd_xchg *x, uint64_t expire_ms)
{
	int k = x->proto == FWD_TLS;

	if (x->proto != FWD_UDP &&
	    idle_take(x->t, k, io->now_ms, expire_ms, &x->fd, &x->ssl) == 0) {
		x->reused = true;
		x->state = X_SEND;
		io->stats.conn_reused++;
		return 0;
	}
	x->fd = sock_open(x->t, x->proto == FWD_UDP ? SOCK_DGRAM : SOCK_STREAM);
	if (x->fd < 0)
		return x->fd;
	io->stats.conn_new++;
	x->state = x->proto == FWD_UDP ? X_SEND : X_CONNECT;
	return 0;
}

int fwd_io_start(struct fwd_io *io, struct fwd_target *t, enum fwd_proto proto,
		 const uint8_t *msg, size_t len, uint16_t id, const struct fwd_question *fq,
		 uint64_t now_ms, uint64_t timeout_ms, uint64_t expire_ms, fwd_xchg_cb cb,
		 void *ctx, struct fwd_xchg **out)
{
	struct fwd_xchg *x;
	int r;

	if (len < DNS_HDR_LEN || len > UINT16_MAX)
		return -EINVAL;
	if (t->tls)
		proto = FWD_TLS;
	x = calloc(1, sizeof(*x) + len + 2);
	if (x == NULL)
		return -ENOMEM;
	x->t = t;
	x->proto = proto;
	x->fd = -1;
	x->id = id;
	x->fq = *fq;
	x->cb = cb;
	x->ctx = ctx;
	x->out[0] = (uint8_t)(len >> 8);
	x->out[1] = (uint8_t)len;
	memcpy(x->out + 2, msg, len);
	x->out[2] = (uint8_t)(id >> 8);
	x->out[3] = (uint8_t)id;
	x->opcode = (uint16_t)((msg[2] << 8 | msg[3]) & DNS_F_OPCODE);
	/* UDP sends the bare message; streams send the prefix too (out_off skips it). */
	x->out_len = len + 2;
	x->out_off = 0;
	io->now_ms = now_ms;
	x->deadline_ms = now_ms + timeout_ms;
	if (x->deadline_ms < io->next_deadline_ms)
		io->next_deadline_ms = x->deadline_ms;
	r = x_connect(io, x, expire_ms);
	if (r != 0) {
		free(x);
		return r;
	}
	x->prev = NULL;
	x->next = io->active;
	if (io->active != NULL)
		io->active->prev = x;
	io->active = x;
	io->n_active++;
	if (out != NULL)
		*out = x;
	/*
	 * UDP sends now: a failure is returned, not reported through the callback, so the
	 * caller never sees its callback run inside this call. Streams write once the
	 * socket is writable (a reused one is at once: the next poll).
	 */
	if (proto == FWD_UDP) {
		ssize_t s = send(x->fd, x->out + 2, len, 0);

		r = s >= 0 ? 0 : (errno == EAGAIN || errno == EWOULDBLOCK) ? 1 : -errno;
		if (r == 0) {
			x->state = X_RECV;
			r = x_want(io, x, EPOLLIN);
		} else if (r == 1) {
			r = x_want(io, x, EPOLLOUT);
		}
	} else {
		r = x_want(io, x, EPOLLOUT);
	}
	if (r != 0) {
		x->cancelled = true;
		x_finish(io, x, r, NULL, 0);
		return r;
	}
	return 0;
}

void fwd_io_cancel(struct fwd_io *io, struct fwd_xchg *x)
{
	if (x == NULL || x->dead)
		return;
	x->cancelled = true;
	x_finish(io, x, -ECANCELED, NULL, 0);
}

void fwd_io_poll(struct fwd_io *io, uint64_t now_ms)
{
	struct epoll_event ev[64];
	int n;

	io->now_ms = now_ms;
	/* Bounded number of batches so a busy upstream cannot starve the runtime loop. */
	for (int round = 0; round < 16; round++) {
		n = epoll_wait(io->epfd, ev, 64, 0);
		for (int i = 0; i < n; i++)
			x_event(io, ev[i].data.ptr, ev[i].events);
		reap(io);
		if (n < 64)
			break;
	}
	/* Timeouts: a walk of the active list only when the earliest deadline has passed. */
	if (now_ms < io->next_deadline_ms)
		return;
	io->next_deadline_ms = UINT64_MAX;
	for (struct fwd_xchg *x = io->active, *nx; x != NULL; x = nx) {
		nx = x->next;
		if (now_ms >= x->deadline_ms)
			x_finish(io, x, -ETIMEDOUT, NULL, 0);
		else if (x->deadline_ms < io->next_deadline_ms)
			io->next_deadline_ms = x->deadline_ms;
	}
	reap(io);
}
