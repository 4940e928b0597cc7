/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - internals of the forward plugin shared by fwd_conf.c (parsing)
 * and forward.c (runtime); the value parsers at the end are used by cache.c too.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "dns.h"
#include "forward.h"
#include "fwd_io.h"

enum fwd_policy { FWD_POLICY_RANDOM = 0, FWD_POLICY_ROUND_ROBIN, FWD_POLICY_SEQUENTIAL };

/* coredns_proxy_request_duration_seconds buckets: prometheus.ExponentialBuckets(.00025, 2, 16) */
#define FWD_HIST_N  16
#define FWD_RCODE_N 24

struct fwd_hist {
	uint64_t bucket[FWD_HIST_N]; /* non-cumulative; the rest is +Inf */
	uint64_t count;
	double sum;
};

struct fwd_up {
	struct fwd_target t;
	char name[80];             /* "IP:port", the `to` label */
	uint32_t fails;            /* consecutive failed health checks */
	bool hc_on;                /* probing until a check succeeds */
	uint64_t hc_next_ms;
	struct fwd_xchg *hc_x;
	uint16_t hc_id;
	uint64_t hc_failures;
	struct fwd_hist dur[FWD_RCODE_N];
};

struct fwd_zone {
	uint8_t name[DNS_MAX_NAME];
	uint16_t len;
};

struct fwd_txn;

struct cp_fwd {
	/* Configuration. */
	char from_txt[DNS_MAX_NAME + 2];
	struct fwd_zone from;
	struct fwd_zone *except;
	unsigned n_except;
	struct fwd_up *up;
	unsigned n_up;
	enum fwd_policy policy;
	bool force_tcp;
	bool prefer_udp;
	bool failfast;
	bool hc_rd;
	struct fwd_zone hc_domain;
	uint64_t expire_ms;
	uint64_t hc_ms;
	uint32_t max_fails;
	uint32_t max_concurrent;
	uint32_t max_connect_attempts;
	uint32_t next_mask;        /* bit per rcode < 32 */
	uint32_t failover_mask;
	struct fwd_tls *tls;

	/* Runtime. */
	struct fwd_io *io;
	struct fwd_txn *txns;      /* in flight (doubly linked) */
	unsigned inflight;
	bool any_waiting;          /* some transaction waits for its next pass */
	uint32_t rr_next;
	uint64_t now_ms;
	uint64_t last_trim_ms;
	struct cp_fwd_stats st;
};

/** Allocate a stanza with CoreDNS's defaults. */
struct cp_fwd *fwd_alloc(void);
/** Free configuration memory (not the runtime: cp_fwd_free does both). */
void fwd_conf_free(struct cp_fwd *f);
/** @return monotonic milliseconds. */
uint64_t fwd_now_ms(void);

/** Go time.ParseDuration subset ("0.5s", "1m30s", "0"). @return 0 or -EINVAL/-ERANGE */
int fwd_parse_duration(const char *s, uint64_t *ms);
/** @return the rcode for a name ("NXDOMAIN", case-insensitive), or -EINVAL. */
int fwd_parse_rcode(const char *s);
/**
 * A zone argument (CoreDNS plugin.Host(...).NormalizeExact()): [dns://]NAME[:PORT] or an
 * IPv4 CIDR on an octet boundary. @p txt (optional) gets the name with a trailing dot.
 * @return 0 or -EINVAL.
 */
int fwd_parse_zone(const char *in, struct fwd_zone *z, char *txt, size_t txtlen);
