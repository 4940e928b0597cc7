/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - a small non-blocking HTTP/1.1 server for /health, /ready and
 * /metrics. GET and HEAD only, one request per connection (Connection: close): the
 * clients are probes and Prometheus scrapers, and this keeps the server a loop of reads
 * into a fixed buffer and one write.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "http.h"
#include "metrics.h"
#include "runtime.h"

#define HTTP_MAX_LISTEN 3
#define HTTP_MAX_CONNS  64
#define HTTP_REQ_MAX    4096
#define HTTP_TIMEOUT_MS 5000

enum { EP_HEALTH = 1, EP_READY = 2, EP_METRICS = 4 };

struct http_listener {
	struct cp_http *h;
	int fd;
	unsigned mask;                 /* endpoints served on this socket */
	struct sockaddr_storage addr;
	unsigned addr_len;
};

struct http_conn {
	struct cp_http *h;
	int fd;
	unsigned mask;
	char req[HTTP_REQ_MAX + 1];
	size_t rlen;
	char *resp;                    /* NULL until the request is complete */
	size_t rsize, roff;
	uint64_t start_ms;
};

struct cp_http {
	struct cp_rt *rt;
	struct http_listener l[HTTP_MAX_LISTEN];
	unsigned n_l;
	char spec[3][64];              /* health, ready, metrics as listened */
	struct http_conn *c[HTTP_MAX_CONNS];
	unsigned n_c;
};

int cp_http_parse_addr(const char *spec, void *out, unsigned *out_len)
{
	char host[64];
	const char *colon = strrchr(spec, ':');
	char *end;
	unsigned long port;
	size_t hl;
	struct sockaddr_in *sin = out;
	struct sockaddr_in6 *sin6 = out;

	if (colon == NULL || (hl = (size_t)(colon - spec)) >= sizeof(host))
		return -EINVAL;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || port == 0 || port > 65535)
		return -EINVAL;
	memcpy(host, spec, hl);
	host[hl] = '\0';
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	memset(out, 0, sizeof(struct sockaddr_storage));
	if (host[0] == '\0' || inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6; /* "" -> in6addr_any, dual-stack */
		sin6->sin6_port = htons((uint16_t)port);
		*out_len = sizeof(*sin6);
		return 0;
	}
	/* Go's net.Listen binds "localhost" to its first address, 127.0.0.1. Names are not
	 * resolved otherwise: no DNS traffic from the DNS server's own config. */
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return -EINVAL;
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	*out_len = sizeof(*sin);
	return 0;
}

/* ------------------------------------------------------------------------- */
/* Responses                                                                   */

static void conn_free(struct http_conn *c)
{
	struct cp_http *h = c->h;
	unsigned i;

	close(c->fd);
	for (i = 0; i < h->n_c; i++) {
		if (h->c[i] == c) {
			h->c[i] = h->c[--h->n_c];
			break;
		}
	}
	free(c->resp);
	free(c);
}

static void respond(struct http_conn *c, int status, const char *ctype, const char *body,
		    size_t blen, bool head)
{
	const char *reason = status == 200 ? "OK" : status == 404 ? "Not Found" :
			     status == 405 ? "Method Not Allowed" :
			     status == 503 ? "Service Unavailable" : "Bad Request";
	char hdr[256];
	int hl = snprintf(hdr, sizeof(hdr),
			  "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			  "%sConnection: close\r\n\r\n", status, reason, ctype, blen,
			  status == 405 ? "Allow: GET, HEAD\r\n" : "");

	if (head)
		blen = 0;
	c->resp = malloc((size_t)hl + blen);
	if (c->resp == NULL)
		return;
	memcpy(c->resp, hdr, (size_t)hl);
	memcpy(c->resp + hl, body, blen);
	c->rsize = (size_t)hl + blen;
	c->roff = 0;
}

#define TEXT "text/plain; charset=utf-8"

static void route(struct http_conn *c, const char *method, const char *path)
{
	struct cp_rt *rt = c->h->rt;
	bool head = strcmp(method, "HEAD") == 0;
	char names[512];

	if (!head && strcmp(method, "GET") != 0) {
		respond(c, 405, TEXT, "method not allowed\n", 19, false);
	} else if ((c->mask & EP_HEALTH) && strcmp(path, "/health") == 0) {
		/* Lameduck keeps answering OK, as CoreDNS does. */
		respond(c, 200, TEXT, "OK", 2, head);
	} else if ((c->mask & EP_READY) && strcmp(path, "/ready") == 0) {
		if (cp_rt_ready(rt, names, sizeof(names)))
			respond(c, 200, TEXT, "OK", 2, head);
		else
			respond(c, 503, TEXT, names, strlen(names), head);
	} else if ((c->mask & EP_METRICS) && strcmp(path, "/metrics") == 0) {
		size_t len = 0;
		char *body = cp_metrics_render(rt, &len);

		if (body == NULL)
			respond(c, 503, TEXT, "out of memory\n", 14, head);
		else
			respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", body, len, head);
		free(body);
	} else {
		respond(c, 404, TEXT, "404 page not found\n", 19, head);
	}
}

/* The request line once the header block is complete; the rest of the headers is
 * ignored (no body for GET). */
static void parse_request(struct http_conn *c)
{
	char method[16], path[1024], proto[16];
	char *q;

	c->h->rt->stats.http_requests++;
	if (sscanf(c->req, "%15s %1023s %15s", method, path, proto) != 3 ||
	    strncmp(proto, "HTTP/1.", 7) != 0) {
		respond(c, 400, TEXT, "bad request\n", 12, false);
		return;
	}
	q = strchr(path, '?');
	if (q != NULL)
		*q = '\0';
	route(c, method, path);
}

static void conn_event(void *obj, int fd, short revents)
{
	struct http_conn *c = obj;
	ssize_t n;

	if (revents & (POLLERR | POLLNVAL)) {
		conn_free(c);
		return;
	}
	if (c->resp == NULL) {
		n = recv(fd, c->req + c->rlen, HTTP_REQ_MAX - c->rlen, MSG_DONTWAIT);
		if (n <= 0) {
			if (n == 0 || (errno != EAGAIN && errno != EINTR))
				conn_free(c);
			return;
		}
		c->rlen += (size_t)n;
		c->req[c->rlen] = '\0';
		if (strstr(c->req, "\r\n\r\n") != NULL || strstr(c->req, "\n\n") != NULL)
			parse_request(c);
		else if (c->rlen == HTTP_REQ_MAX)
			respond(c, 400, TEXT, "request too large\n", 18, false);
		if (c->resp == NULL && c->rlen == HTTP_REQ_MAX) {
			conn_free(c);
			return;
		}
	}
	if (c->resp != NULL) {
		n = send(fd, c->resp + c->roff, c->rsize - c->roff, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			conn_free(c);
			return;
		}
		if (n > 0)
			c->roff += (size_t)n;
		if (c->roff == c->rsize)
			conn_free(c);
	}
}

static void accept_event(void *obj, int fd, short revents)
{
	struct http_listener *l = obj;
	struct cp_http *h = l->h;
	struct http_conn *c;
	int cfd, i;

	(void)revents;
	for (i = 0; i < 8; i++) {
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0)
			return;
		if (h->n_c >= HTTP_MAX_CONNS || (c = calloc(1, sizeof(*c))) == NULL) {
			close(cfd);
			continue;
		}
		c->h = h;
		c->fd = cfd;
		c->mask = l->mask;
		c->start_ms = h->rt->now_ms;
		h->c[h->n_c++] = c;
	}
}

/* ------------------------------------------------------------------------- */
/* Listeners                                                                   */

static int listen_on(struct http_listener *l)
{
	int one = 1, zero = 0, ret;
	int fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l->addr.ss_family == AF_INET6) /* ":port" serves IPv4 too, as Go does */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (struct sockaddr *)&l->addr, l->addr_len) < 0 || listen(fd, 64) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	l->fd = fd;
	return 0;
}

static void close_listeners(struct cp_http *h)
{
	unsigned i;

	for (i = 0; i < h->n_l; i++)
		close(h->l[i].fd);
	h->n_l = 0;
}

static int add_endpoint(struct cp_http *h, const char *spec, unsigned ep)
{
	struct sockaddr_storage sa;
	unsigned len, i;
	int ret;

	if (spec[0] == '\0')
		return 0;
	if (cp_http_parse_addr(spec, &sa, &len) < 0) {
		cp_log("ERROR", "http listener \"%s\": not an address", spec);
		return -EINVAL;
	}
	for (i = 0; i < h->n_l; i++) {
		if (h->l[i].addr_len == len && memcmp(&h->l[i].addr, &sa, len) == 0) {
			h->l[i].mask |= ep;
			return 0;
		}
	}
	h->l[h->n_l] = (struct http_listener){ .h = h, .fd = -1, .mask = ep, .addr = sa,
					       .addr_len = len };
	ret = listen_on(&h->l[h->n_l]);
	if (ret < 0) {
		cp_log("ERROR", "http listener %s: %s", spec, strerror(-ret));
		return ret;
	}
	h->n_l++;
	return 0;
}

int cp_http_listen(struct cp_http *h, const struct cp_settings *set)
{
	const char *want[3] = { set->health_addr, set->ready_addr, set->metrics_addr };
	unsigned eps[3] = { EP_HEALTH, EP_READY, EP_METRICS };
	int ret = 0, r, i;

	if (h->n_l > 0 && strcmp(want[0], h->spec[0]) == 0 &&
	    strcmp(want[1], h->spec[1]) == 0 && strcmp(want[2], h->spec[2]) == 0)
		return 0;
	close_listeners(h);
	for (i = 0; i < 3; i++) {
		snprintf(h->spec[i], sizeof(h->spec[i]), "%s", want[i]);
		r = add_endpoint(h, want[i], eps[i]);
		if (r < 0 && ret == 0)
			ret = r;
	}
	return ret;
}

void cp_http_fill(struct cp_http *h, struct cp_poll *p)
{
	unsigned i;

	for (i = 0; i < h->n_l; i++)
		cp_poll_add(p, h->l[i].fd, POLLIN, accept_event, &h->l[i]);
	for (i = 0; i < h->n_c; i++)
		cp_poll_add(p, h->c[i]->fd, h->c[i]->resp ? POLLOUT : POLLIN, conn_event, h->c[i]);
}

void cp_http_timer(struct cp_http *h, uint64_t now_ms)
{
	unsigned i = 0;

	while (i < h->n_c) {
		if (now_ms - h->c[i]->start_ms >= HTTP_TIMEOUT_MS) {
			conn_free(h->c[i]);
			continue;
		}
		i++;
	}
}

struct cp_http *cp_http_create(struct cp_rt *rt)
{
	struct cp_http *h = calloc(1, sizeof(*h));

	if (h != NULL)
		h->rt = rt;
	return h;
}

void cp_http_free(struct cp_http *h)
{
	if (h == NULL)
		return;
	while (h->n_c > 0)
		conn_free(h->c[0]);
	close_listeners(h);
	free(h);
}
