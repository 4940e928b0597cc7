/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - the `forward` plugin: one struct cp_fwd per `forward FROM TO...`
 * directive (CoreDNS v1.14 semantics and defaults). Asynchronous: a query is sent to an
 * upstream and the caller's callback runs later from cp_fwd_tick() on the engine thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cf_line;
struct dns_query;
struct cp_fwd;
struct cp_plugin_ops;

/** @return the plugin's operations (registry entry "forward", fwd_plugin.c). */
const struct cp_plugin_ops *cp_forward_plugin(void);

#define CP_FWD_MAX_UPSTREAMS 15          /* CoreDNS's limit */
#define CP_FWD_MAX_INFLIGHT  4096        /* hard cap per stanza when max_concurrent is 0 */

/** Outcome of a forwarded query, passed to cp_fwd_cb. */
enum cp_fwd_status {
	CP_FWD_REPLY = 0,  /**< @p reply holds the upstream's response (full length, the
			    *   client's ID and question case restored) */
	CP_FWD_NEXT,       /**< the rcode is listed in `next`: try the next forward stanza
			    *   (@p reply is still given, for when there is none) */
	CP_FWD_FAIL,       /**< no upstream answered: SERVFAIL */
	CP_FWD_CANCELLED,  /**< the stanza is being freed: send nothing */
};

/** Completion of cp_fwd_query(). @p reply is valid during the call only. */
typedef void (*cp_fwd_cb)(void *ctx, enum cp_fwd_status st, uint8_t *reply, size_t len);

/**
 * Parse one `forward` directive (tok[0] == "forward") and its block. Relative file
 * names (resolv.conf-style files, TLS files) are taken from @p dir.
 * @return the stanza, or NULL with "FILE:LINE: message" in @p err.
 */
struct cp_fwd *cp_fwd_parse(const struct cf_line *line, const char *dir, char *err,
			    size_t errlen);

/** Cancel everything in flight (callbacks get CP_FWD_CANCELLED) and free. */
void cp_fwd_free(struct cp_fwd *f);

/** @return the epoll descriptor of the stanza's sockets (readable when there is I/O). */
int cp_fwd_fd(const struct cp_fwd *f);

/** @return 1 when @p qname (wire, any case) is under FROM and not excluded by `except`. */
int cp_fwd_match(const struct cp_fwd *f, const uint8_t *qname, size_t len);

/**
 * Forward the client's query (@p query, @p len bytes, parsed in @p q). The message is
 * copied. @p client_tcp selects the upstream protocol unless force_tcp/prefer_udp.
 * @return 0 (the callback will run later, never inside this call); -EBUSY when
 *         max_concurrent is reached (answer REFUSED; counted); -ENOSPC at the hard
 *         in-flight cap; -ENOMEM.
 */
int cp_fwd_query(struct cp_fwd *f, const uint8_t *query, size_t len, const struct dns_query *q,
		 bool client_tcp, cp_fwd_cb cb, void *ctx);

/** Socket events, timeouts, health checks, idle connection expiry. */
void cp_fwd_tick(struct cp_fwd *f, uint64_t now_ms);

/** @return the FROM zone as text ("." or "example.org."). */
const char *cp_fwd_from(const struct cp_fwd *f);

#define CP_FWD_REGION_SOME 0x1 /**< some names of the region are forwarded */
#define CP_FWD_REGION_REST 0x2 /**< some are not (outside FROM, or under `except`) */

/** @return CP_FWD_REGION_* bits for the names at or under wire name @p zone. */
int cp_fwd_region(const struct cp_fwd *f, const uint8_t *zone, size_t len);

/** @return queries in flight. */
unsigned cp_fwd_inflight(const struct cp_fwd *f);

/** Counters (all monotonic). */
struct cp_fwd_stats {
	uint64_t queries;            /**< queries accepted */
	uint64_t max_concurrent_rejects;
	uint64_t inflight_rejects;   /**< refused at the hard cap */
	uint64_t healthcheck_broken; /**< every upstream down: a random one was used */
	uint64_t failed;             /**< answered SERVFAIL: no upstream replied */
	uint64_t tcp_retries;        /**< TC=1 over UDP retried over TCP */
	uint64_t spoofed;            /**< replies dropped: wrong ID, question or source */
};

/** Fill @p s. */
void cp_fwd_get_stats(const struct cp_fwd *f, struct cp_fwd_stats *s);

/**
 * Prometheus text for a set of stanzas (families printed once): coredns_forward_*,
 * coredns_proxy_* and dpdns_forward_*. @return bytes written (truncated at @p cap).
 */
size_t cp_fwd_metrics(struct cp_fwd *const *f, unsigned n, char *buf, size_t cap);
