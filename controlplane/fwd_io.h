/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - upstream transport of the forwarder: one exchange = one query sent
 * to one upstream over UDP, TCP or TLS, and its reply. Non-blocking sockets on an epoll
 * set whose descriptor the engine hands to the runtime as its wake fd; everything runs on
 * the engine thread from fwd_io_poll().
 *
 * UDP uses a fresh connected socket per exchange: the kernel picks a random source port
 * and drops datagrams from any other address; replies with another ID or question are
 * dropped, counted, and the exchange keeps waiting. TCP/TLS connections are kept idle per
 * upstream for `expire` and reused (CoreDNS's connection cache).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "fwd_msg.h"

struct fwd_io;
struct fwd_xchg;
struct fwd_tls;

enum fwd_proto { FWD_UDP = 0, FWD_TCP, FWD_TLS };

#define FWD_IDLE_MAX 8 /* idle connections kept per upstream and stream protocol */

/** An upstream endpoint with its idle stream connections. Owned by the forwarder. */
struct fwd_target {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	bool tls;                     /**< tls:// upstream: every exchange is DNS over TLS */
	struct fwd_tls *tls_ctx;      /**< shared TLS settings (NULL without tls) */
	struct {
		int fd;
		void *ssl;
		uint64_t used_ms;
	} idle[2][FWD_IDLE_MAX];      /**< [0] TCP, [1] TLS */
	unsigned n_idle[2];
};

/** Drop counters: replies that did not belong to their query. */
struct fwd_io_stats {
	uint64_t bad_id;
	uint64_t bad_question;
	uint64_t malformed;
	uint64_t bad_addr;
	uint64_t conn_reused;
	uint64_t conn_new;
};

/**
 * Completion: @p err 0 with the reply (valid during the call only), or -ETIMEDOUT,
 * -ECONNREFUSED, -EPIPE (a reused connection was closed by the peer before replying: retry
 * on a fresh one), -EIO and other -errno. Called exactly once unless cancelled.
 */
typedef void (*fwd_xchg_cb)(void *ctx, int err, uint8_t *reply, size_t len);

/** @return a new transport, or NULL (errno set). */
struct fwd_io *fwd_io_create(void);
/** Cancel every exchange (no callbacks) and free. */
void fwd_io_free(struct fwd_io *io);
/** @return the epoll descriptor (readable when some exchange has I/O). */
int fwd_io_fd(const struct fwd_io *io);
/** @return drop counters. */
const struct fwd_io_stats *fwd_io_stats(const struct fwd_io *io);
/** @return exchanges in progress. */
unsigned fwd_io_inflight(const struct fwd_io *io);

/**
 * Start an exchange of @p msg (@p len bytes; its ID is overwritten with @p id) with @p t.
 * @p fq is the question the reply must echo (its name must stay valid until completion).
 * @p expire_ms: idle stream connections older than this are not reused.
 * @return 0, or -errno when it could not even start (then @p cb is not called).
 */
int fwd_io_start(struct fwd_io *io, struct fwd_target *t, enum fwd_proto proto,
		 const uint8_t *msg, size_t len, uint16_t id, const struct fwd_question *fq,
		 uint64_t now_ms, uint64_t timeout_ms, uint64_t expire_ms, fwd_xchg_cb cb,
		 void *ctx, struct fwd_xchg **out);

/** Cancel an exchange: its callback will not run. */
void fwd_io_cancel(struct fwd_io *io, struct fwd_xchg *x);

/** Handle ready descriptors and timeouts (non-blocking). Runs callbacks. */
void fwd_io_poll(struct fwd_io *io, uint64_t now_ms);

/** Close idle connections of @p t older than @p expire_ms (all when 0). */
void fwd_target_trim(struct fwd_target *t, uint64_t now_ms, uint64_t expire_ms);

/** Initialise a target for @p addr (no connections). */
void fwd_target_init(struct fwd_target *t, const struct sockaddr *addr, socklen_t len);

/** 16 random bits from getrandom() (buffered). */
uint16_t fwd_random16(void);
/** Random value in [0, n). */
uint32_t fwd_random_below(uint32_t n);
