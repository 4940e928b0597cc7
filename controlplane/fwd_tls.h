/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - DNS over TLS (RFC 7858) client side for the forwarder, on OpenSSL.
 * Non-blocking: every call may ask to be repeated when the socket is readable/writable.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

struct fwd_tls;

#define FWD_TLS_WANT_READ  1
#define FWD_TLS_WANT_WRITE 2

/**
 * TLS settings of one forward stanza (CoreDNS `tls [CERT KEY] [CA]` + `tls_servername`).
 * @p ca NULL = system CAs. @p cert/@p key NULL = no client authentication. @p servername
 * NULL = no SNI, and the certificate must name the upstream's IP address (what Go's
 * dialer checks for CoreDNS without tls_servername).
 * @return the context, or NULL with a message in @p err.
 */
struct fwd_tls *fwd_tls_create(const char *cert, const char *key, const char *ca,
			       const char *servername, char *err, size_t errlen);
void fwd_tls_free(struct fwd_tls *t);

/** @return a new client session on connected socket @p fd, or NULL. */
void *fwd_tls_session(struct fwd_tls *t, int fd);
/** @return 0 when the handshake is complete, FWD_TLS_WANT_*, or -EIO. */
int fwd_tls_handshake(void *ssl);
/** @return bytes written (> 0), -FWD_TLS_WANT_*, or -EIO / -EPIPE. */
ssize_t fwd_tls_write(void *ssl, const void *buf, size_t len);
/** @return bytes read (> 0), 0 at EOF, -FWD_TLS_WANT_*, or -EIO. */
ssize_t fwd_tls_read(void *ssl, void *buf, size_t len);
/** @return 1 when decrypted bytes are buffered (epoll would not say so). */
int fwd_tls_pending(void *ssl);
/** Free a session (no close_notify wait; the socket is closed by the caller). */
void fwd_tls_close(void *ssl);
