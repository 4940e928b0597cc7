/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - helpers for the control-plane engine tests: temporary files, queries
 * and decoded responses, an in-memory sink and a model of the fast path's lookups.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "dns.h"
#include "dp_shm.h"
#include "engine.h"

/** Remove the temporary directories, then check_summary(). @return the exit status */
int t_done(const char *name);

/* ------------------------------------------------------------------------- */
/* Files                                                                       */

/** Make a fresh temporary directory (removed by t_cleanup). @return its path */
const char *t_tmpdir(void);
/** Write @p text to DIR/@p name. @return the full path (static storage per call: copy it) */
const char *t_write(const char *dir, const char *name, const char *text);
/** Remove the temporary directories made by t_tmpdir. */
void t_cleanup(void);
/** Read a file into a static buffer. @return it, or NULL */
const char *t_read(const char *path);

/** Write @p corefile into a temporary dir as "Corefile" and load it. */
struct cp_engine *t_load(const char *corefile, char *err, size_t errlen);

/* ------------------------------------------------------------------------- */
/* Queries and responses                                                       */

struct t_rr {
	char owner[300];
	uint16_t type, cls;
	uint32_t ttl;
	char data[700];   /* A/AAAA address, PTR/CNAME/NS target, SOA fields, or hex */
};

struct t_resp {
	int len;          /* 0: no response */
	uint16_t id, flags;
	int rcode;        /* with the extended bits from OPT */
	uint16_t qd, an, ns, ar;
	char qname[300];  /* question as echoed (case kept) */
	uint16_t qtype;
	bool has_opt;
	struct t_rr rr[80];
	unsigned n_rr;    /* answer + authority + additional (OPT excluded) */
};

/** Build a query for @p name (case kept) and @p qtype into @p buf. @return its length */
size_t t_query(uint8_t *buf, size_t cap, uint16_t id, const char *name, uint16_t qtype,
	       uint16_t qclass, bool edns, uint16_t edns_size);

/** Decode a response. @return 0 or -1 when malformed */
int t_decode(const uint8_t *msg, size_t len, struct t_resp *r);

/**
 * Ask @p e (port 53, UDP client 127.0.0.1) for @p name/@p qtype, decode into @p r.
 * @return response length
 */
int t_ask(struct cp_engine *e, const char *name, uint16_t qtype, struct t_resp *r);
/** Same with a server port. */
int t_ask_port(struct cp_engine *e, uint16_t port, const char *name, uint16_t qtype,
	       struct t_resp *r);

/** Format a decoded response like dig's sections (for golden files and messages). */
void t_format(const struct t_resp *r, char *out, size_t cap);

/* ------------------------------------------------------------------------- */
/* In-memory sink and a model of the fast path                                 */

struct t_entry {
	struct dns_key key;
	uint8_t *val;
	size_t size;
	bool put_this_sync;
};

struct t_sink {
	struct cp_sink sink;
	struct t_entry *e;
	unsigned n, cap;
	struct dp_zone zones[DP_MAX_ZONES];
	uint8_t *zone_val[DP_MAX_ZONES];
	unsigned n_zones;
	unsigned puts, dels, zone_calls;
	int fail_after;   /* >= 0: puts beyond this many fail with -ENOSPC */
};

void t_sink_init(struct t_sink *s);
void t_sink_free(struct t_sink *s);
/** @return the entry for (name, qtype), or NULL. */
const struct t_entry *t_sink_get(const struct t_sink *s, const char *name, uint16_t qtype);

/**
 * What the fast path would send for the query in @p msg using only @p s's contents:
 * exact entry, exists-marker, zone miss answer. @return response length, or 0 when it
 * would go to the control plane; @p why (may be NULL) says which ("fastpath-entry",
 * "fastpath-exists", "fastpath-zone", "fastpath-rcode", "control-plane", "dropped").
 */
int t_fastpath(const struct t_sink *s, uint8_t *msg, size_t len, size_t cap, const char **why);
