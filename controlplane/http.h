/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - HTTP endpoints of the health, ready and prometheus plugins.
 */
#pragma once

#include <stdint.h>

struct cp_rt;
struct cp_poll;
struct cp_settings;
struct cp_http;

/** @return a server with no listeners, or NULL. */
struct cp_http *cp_http_create(struct cp_rt *rt);

/**
 * Listen where the settings say: health_addr (/health), ready_addr (/ready),
 * metrics_addr (/metrics); "" = that plugin is absent. Endpoints sharing an address share
 * a socket. Unchanged addresses keep their sockets. @return 0 or the first -errno.
 */
int cp_http_listen(struct cp_http *h, const struct cp_settings *set);

/** Register the sockets for this loop iteration. */
void cp_http_fill(struct cp_http *h, struct cp_poll *p);

/** Close connections that did not finish within 5 s. */
void cp_http_timer(struct cp_http *h, uint64_t now_ms);

/** Close everything. */
void cp_http_free(struct cp_http *h);

/**
 * Parse "host:port", ":port", "[v6]:port" ("localhost" means 127.0.0.1; no name lookups).
 * @return 0 and the address in @p sa (all addresses: AF_INET6 in6addr_any), or -EINVAL.
 */
int cp_http_parse_addr(const char *spec, void *sa, unsigned *sa_len);
