/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - DNS over TLS client sessions for the forwarder (OpenSSL).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "fwd_tls.h"

struct fwd_tls {
	SSL_CTX *ctx;
	char servername[256];
};

static void tls_error(char *err, size_t errlen, const char *what, const char *file)
{
	unsigned long e = ERR_get_error();
	char buf[160];

	ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(err, errlen, "%s%s%s: %s", what, file ? " " : "", file ? file : "", buf);
	ERR_clear_error();
}

struct fwd_tls *fwd_tls_create(const char *cert, const char *key, const char *ca,
			       const char *servername, char *err, size_t errlen)
{
	struct fwd_tls *t = calloc(1, sizeof(*t));

	if (t == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->ctx = SSL_CTX_new(TLS_client_method());
	if (t->ctx == NULL) {
		tls_error(err, errlen, "tls: cannot create context", NULL);
		goto fail_free;
	}
	/* RFC 7858 needs TLS 1.2 at least; CoreDNS (Go) defaults to the same. */
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
	if (ca != NULL ? SSL_CTX_load_verify_locations(t->ctx, ca, NULL) != 1
		       : SSL_CTX_set_default_verify_paths(t->ctx) != 1) {
		tls_error(err, errlen, "tls: cannot load CA", ca);
		goto fail_ctx;
	}
	if (cert != NULL && SSL_CTX_use_certificate_chain_file(t->ctx, cert) != 1) {
		tls_error(err, errlen, "tls: cannot load certificate", cert);
		goto fail_ctx;
	}
	if (key != NULL && SSL_CTX_use_PrivateKey_file(t->ctx, key, SSL_FILETYPE_PEM) != 1) {
		tls_error(err, errlen, "tls: cannot load key", key);
		goto fail_ctx;
	}
	if (servername != NULL)
		snprintf(t->servername, sizeof(t->servername), "%s", servername);
	return t;

fail_ctx:
	SSL_CTX_free(t->ctx);
fail_free:
	free(t);
	return NULL;
}

void fwd_tls_free(struct fwd_tls *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}

/* Expect the connected peer's IP address in the certificate. @return 0 or -1 */
static int set_peer_ip(SSL *ssl, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	const unsigned char *ip;
	size_t iplen;

	if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	if (ss.ss_family == AF_INET6) {
		ip = (const unsigned char *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
		iplen = 16;
	} else {
		ip = (const unsigned char *)&((struct sockaddr_in *)&ss)->sin_addr;
		iplen = 4;
	}
	return X509_VERIFY_PARAM_set1_ip(SSL_get0_param(ssl), ip, iplen) == 1 ? 0 : -1;
}

void *fwd_tls_session(struct fwd_tls *t, int fd)
{
	SSL *ssl = SSL_new(t->ctx);

	if (ssl == NULL)
		return NULL;
	if (SSL_set_fd(ssl, fd) != 1)
		goto fail;
	/*
	 * With a server name: SNI and a host name check, as Go's tls.Config.ServerName does.
	 * Without one Go's dialer verifies against the host of the address it dialled, an IP
	 * here: the certificate must carry the upstream's address (IP SAN).
	 */
	if (t->servername[0] != '\0') {
		if (SSL_set_tlsext_host_name(ssl, t->servername) != 1 ||
		    SSL_set1_host(ssl, t->servername) != 1)
			goto fail;
	} else if (set_peer_ip(ssl, fd) != 0) {
		goto fail;
	}
	SSL_set_connect_state(ssl);
	return ssl;
fail:
	SSL_free(ssl);
	return NULL;
}

static int want(SSL *ssl, int r)
{
	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_WANT_READ:
		return FWD_TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return FWD_TLS_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		ERR_clear_error();
		return 0;
	default:
		ERR_clear_error();
		return -EIO;
	}
}

int fwd_tls_handshake(void *ssl)
{
	int r = SSL_do_handshake(ssl);

	if (r == 1)
		return 0;
	r = want(ssl, r);
	return r == 0 ? -EIO : r;
}

ssize_t fwd_tls_write(void *ssl, const void *buf, size_t len)
{
	size_t done = 0;
	int r = SSL_write_ex(ssl, buf, len, &done);

	if (r == 1)
		return (ssize_t)done;
	r = want(ssl, r);
	return r > 0 ? -r : -EPIPE;
}

ssize_t fwd_tls_read(void *ssl, void *buf, size_t len)
{
	size_t done = 0;
	int r = SSL_read_ex(ssl, buf, len, &done);

	if (r == 1)
		return (ssize_t)done;
	r = want(ssl, r);
	return r > 0 ? -r : r; /* 0: clean close_notify = EOF */
}

int fwd_tls_pending(void *ssl)
{
	return SSL_pending(ssl) > 0;
}

void fwd_tls_close(void *ssl)
{
	SSL_free(ssl);
}
