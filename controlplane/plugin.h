/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - the engine's plugin interface (engine-internal, not an ABI).
 *
 * Adding a plugin = one module that fills a struct cp_plugin_ops, plus one line in the
 * registry (plugins.c: cp_plugin_registry). The registry is in CoreDNS's plugin.cfg
 * order, which is the order a server block's chain runs in, whatever the Corefile order.
 *
 * How answers reach the fast path: a plugin never writes table entries itself. During a
 * sync it offers the names it holds data for (cp_sync_name); the engine then evaluates
 * every (name, type) the fast path could be asked through the real routing and chain in
 * static mode (cp_request.sync), and publishes only answers that are static and equal
 * on every configured port. For names it holds no data for, a plugin describes what it
 * does (cp_plugin_ops.outcome); the engine publishes a zone's miss answer only when the
 * whole chain is certain of it. So the fast path and cp_engine_answer() cannot disagree
 * as long as serve(), types and outcome() tell the truth.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns.h"
#include "engine.h"

struct cf_line;
struct cf_token;
struct cp_server;
struct cp_sync;
struct cp_tick;

/* ------------------------------------------------------------------------- */
/* Zones                                                                       */

/** A zone (server block key, plugin ZONES argument): lower-case wire name and port. */
struct cp_zone {
	uint8_t wire[DNS_MAX_NAME];
	uint16_t len;
	uint16_t port;          /**< 0 when the text had none (plugin arguments) */
};

#define CP_ZONE_EXPAND_MAX 128 /**< zones one CIDR key can expand to (IPv4 /n: 2^(8-n%8)) */

/**
 * Parse "[dns://]ZONE[:PORT]": "." is the root, a CIDR ("10.0.0.0/8", "2001:db8::/32")
 * becomes its reverse zones (one when octet/nibble aligned, else each covered zone at the
 * next boundary). Names are lower-cased.
 * @return number of zones written to @p out (<= @p max), or -EINVAL with a reason in
 *         @p why ("unsupported scheme", "invalid port", ...).
 */
int cp_zone_parse(const char *text, struct cp_zone *out, unsigned max, char *why, size_t whylen);

/** @return true when wire name @p name equals @p zone or lies below it. */
bool cp_name_under(const uint8_t *name, size_t len, const uint8_t *zone, size_t zlen);

/** @return index of the longest zone of @p z[0..n) that @p name is under, or -1. */
int cp_zone_match(const struct cp_zone *z, unsigned n, const uint8_t *name, size_t len);

/** Presentation form of a wire name, with the trailing dot ("." for the root). */
void cp_name_text(const uint8_t *wire, size_t len, char *out, size_t cap);

/* ------------------------------------------------------------------------- */
/* Setup                                                                       */

/** What a plugin's setup gets: one server block's occurrences of its directive. */
struct cp_setup {
	struct cp_engine *engine;
	struct cp_settings *settings; /**< process-wide settings (health, reload, bind...) */
	const struct cp_zone *zones;  /**< the block's zones: the default ZONES of a plugin */
	unsigned n_zones;
	unsigned block;               /**< index of the server block in the Corefile */
	const char *dir;              /**< directory of the Corefile (relative FILE paths) */
	const char *name;             /**< the directive */
	char *err;
	size_t errlen;
};

/** Write "FILE:LINE: DIRECTIVE: message" to s->err. @return -EINVAL */
int cp_setup_err(struct cp_setup *s, const struct cf_token *t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/** Go time.ParseDuration syntax ("300ms", "1.5h", "1h30m", "0"). @return 0 or -EINVAL */
int cp_parse_duration(const char *s, int64_t *ns);
/** Unsigned decimal within [min, max]. @return 0 or -EINVAL */
int cp_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out);
/** "host:port" as Go's net.SplitHostPort takes it, numeric port. @return 0 or -EINVAL */
int cp_parse_hostport(const char *s);
/** Parse ZONES arguments (tokens @p t[0..n)) into a malloc'd array. @return count or -errno */
int cp_setup_zones(struct cp_setup *s, const struct cf_token *t, unsigned n,
		   struct cp_zone **out);

/* ------------------------------------------------------------------------- */
/* Answering                                                                   */

enum cp_serve {
	CP_NEXT = 0,   /**< not mine: the next plugin of the chain (end of chain: SERVFAIL) */
	CP_ANSWERED,   /**< the builder holds the answer: flags/rcode and records */
	CP_DYNAMIC,    /**< sync mode only: the answer depends on time, upstreams, clients */
	CP_DEFERRED,   /**< answer mode only, client->done set: answered later via
			*   client->done(client->req, ...), exactly once, never from within
			*   serve; on free the plugin calls it with (NULL, 0) for what it holds.
			*   Every other result means done is never called for this query. */
};

/** Text appended to a caller's fixed buffer (metrics): output past cap is cut, never overrun. */
struct cp_text {
	char *p;
	size_t len;
	size_t cap;
};

/** Append printf-style text to @p t (stops at t->cap). */
void cp_text_printf(struct cp_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** One question on its way through a server block's chain. */
struct cp_request {
	struct cp_engine *engine;
	const struct cp_server *srv;  /**< block the routing chose */
	const uint8_t *qname;         /**< lower-case wire name */
	uint16_t qname_len;
	uint16_t qtype;
	uint16_t port;
	bool sync;                    /**< static evaluation for the table: no side effects */
	/* Answer mode only (sync == false). */
	const struct dns_query *q;
	const uint8_t *msg;           /**< the query as received (question case preserved) */
	size_t len;
	size_t cap;
	const struct cp_client *client;
	/** Engine only: storage the answer may outgrow a table value into (the builder
	 *  spills there, dns_builder_set_spill()); NULL in sync mode, whose values must fit. */
	uint8_t *spill;
	size_t spill_cap;
};

/** Names at or under @c zone on @c port, except those at or under a zone of @c excl. */
struct cp_region {
	const uint8_t *zone;
	uint16_t zone_len;
	uint16_t port;
	const struct cp_zone *excl;
	unsigned n_excl;
};

#define CP_OUT_MAX     4
#define CP_OUT_VAL_MAX 512

/** What a plugin does with the names of a region it holds no data for (any type). */
struct cp_outcome {
	bool next;      /**< some of them go to the next plugin */
	bool dynamic;   /**< some answers are not static (or did not fit here) */
	unsigned n;
	uint16_t size[CP_OUT_MAX];
	uint8_t val[CP_OUT_MAX][CP_OUT_VAL_MAX]; /**< struct dns_answer images */
};

/** Add "answers with no records and these header bits" (e.g. DNS_RCODE_SERVFAIL). */
void cp_outcome_flags(struct cp_outcome *o, uint16_t flags);
/**
 * Add a static answer built for no particular question (dns_builder_init(b, NULL, ...)):
 * owners must be explicit names, never DNS_OWNER_QNAME.
 */
void cp_outcome_value(struct cp_outcome *o, const struct dns_builder *b);

/* ------------------------------------------------------------------------- */
/* Table contents                                                              */

/**
 * Offer a lower-case wire name this plugin holds data for. The engine evaluates its
 * answers for every type some plugin treats specially (cp_plugin_ops.types), DS, and
 * one ordinary type, through the whole configuration, and publishes them.
 * Every name whose answers differ from what outcome() says for unlisted names must be
 * offered (names with records, empty non-terminals answered NODATA, ...): the fast path
 * answers the others from their zone's miss answer.
 * @return 0 or negative errno from the sink.
 */
int cp_sync_name(struct cp_sync *s, const uint8_t *name, size_t len);

/**
 * From a plugin's sync, before its names: make @p name a zone of the fast path's zone
 * policy in its own right (its names are judged apart from the enclosing zone's, which
 * excludes them). For sub-zones whose names need the control plane while the rest of the
 * enclosing zone has a static miss answer. @return 0 or negative errno
 */
#define CP_HAVE_SYNC_ZONE 1
int cp_sync_zone(struct cp_sync *s, const uint8_t *name, size_t len);

/**
 * From tick: re-evaluate one name and put/del its entries right away.
 * @return 0, 1 when a full cp_engine_sync is needed instead, or negative errno.
 */
int cp_tick_name(struct cp_tick *t, const uint8_t *name, size_t len);

/**
 * @return the table sink the runtime passed to this tick. For values the chain cannot
 * evaluate (the cache's entries carry an expiry the builder cannot set): everything else
 * goes through cp_sync_name()/cp_tick_name().
 */
const struct cp_sink *cp_tick_sink(const struct cp_tick *t);

/** Make cp_engine_wake_fd() readable (from any thread): the runtime then ticks soon. */
void cp_engine_wake(struct cp_engine *e);

/**
 * A plugin found the process cannot go on (loop: a forwarding loop). @p msg (already
 * logged) is kept for cp_engine_fatal(); the runtime exits non-zero. Engine thread only.
 */
void cp_engine_set_fatal(struct cp_engine *e, const char *msg);

/* ------------------------------------------------------------------------- */
/* Responses                                                                   */

/**
 * Write the response carrying @p b to the query @p q, whose bytes start @p msg (room for
 * @p cap bytes), as the engine writes its own answers: over UDP TC=1 without records when
 * it exceeds what the client accepts, over TCP (@p tcp) up to @p cap; SERVFAIL when @p b
 * cannot be finished. @return the length, or negative errno.
 */
int cp_write_answer(uint8_t *msg, size_t cap, const struct dns_query *q,
		    const struct dns_builder *b, bool tcp);

#define CP_MSG_SEC(sec) (1u << (sec)) /**< cp_msg_to_builder() section mask bit */

/**
 * Append the records of the sections in @p sec_mask (CP_MSG_SEC bits) of the DNS message
 * @p msg to the same sections of @p b, names decompressed, OPT left out. With
 * @p qname_owner, owners equal to the message's question name are written as the question
 * pointer (the response then echoes the query's case). Stops at the first record that
 * does not fit @p b (the ones before it stay, b->err stays 0).
 * @return 0, -ENOSPC (not all fitted), -EBADMSG.
 */
int cp_msg_to_builder(const uint8_t *msg, size_t len, unsigned sec_mask, bool qname_owner,
		      struct dns_builder *b);

/**
 * CoreDNS's upstream lookup for a CNAME whose target the answering plugin does not hold
 * (kubernetes: ExternalName services outside the cluster zones): @p b holds the plugin's
 * answer (the CNAME, owned by the question); (@p target, rq->qtype) is resolved through
 * the server again (routing, then the whole chain of the block serving it: cache,
 * forward...), as a query from the same client, and the target's answer records are
 * appended with their own TTLs. The answer stays the plugin's (its rcode, AA): CoreDNS
 * keeps the CNAME whatever the target's rcode. Lookups nest at most 8 deep.
 * @return CP_ANSWERED with the result in @p b (the target was answered at once, or the
 *         caller cannot wait: then the CNAME alone), or CP_DEFERRED (answer only mode:
 *         the response goes to rq->client->done later).
 */
enum cp_serve cp_upstream_complete(const struct cp_request *rq, struct dns_builder *b,
				   const uint8_t *target, size_t target_len);

/**
 * Run again, through the chain of the block it routes to, a query a plugin deferred
 * (CP_DEFERRED) because it could not answer it yet (kubernetes before its initial sync):
 * @p msg (@p len bytes, room for @p cap) is the query as the client sent it, @p client a
 * copy of the rq->client the plugin got (its done/req are the engine's, so the answer is
 * still observed and rewritten once). The response goes to client->done exactly once:
 * before this returns, or later when a plugin defers it again. @p msg is the caller's
 * again on return. Engine thread only.
 */
void cp_engine_resume(struct cp_engine *e, uint8_t *msg, size_t len, size_t cap,
		      const struct cp_client *client);

/* ------------------------------------------------------------------------- */
/* The plugin                                                                  */

#define CP_PLUGIN_HANDLER 0x1 /**< a CoreDNS handler: a block without one answers REFUSED */
#define CP_PLUGIN_MULTI   0x2 /**< may appear more than once in a block (log, bind) */

struct cp_plugin_ops {
	const char *name;
	unsigned flags;
	/** Parse every occurrence (@p lines[0..n)) in one block into an instance. @return 0/-errno */
	int (*setup)(struct cp_setup *s, const struct cf_line *const *lines, unsigned n,
		     void **inst);
	void (*free)(void *inst);
	/** After every block's setup: checks across blocks (@p inst: its instances, block
	 *  order; @p n_blocks: blocks in the Corefile). s->zones is NULL here. @return 0/-errno */
	int (*finish)(struct cp_setup *s, void *const *inst, unsigned n, unsigned n_blocks);
	/**
	 * Answer or pass. NULL for plugins that never answer. In sync mode it must not
	 * depend on anything but the question and its data, else return CP_DYNAMIC.
	 */
	enum cp_serve (*serve)(void *inst, const struct cp_request *rq, struct dns_builder *b);
	/** 0-terminated types it answers differently from an arbitrary other type. */
	const uint16_t *types;
	/** Required with serve: outcomes for names of @p r it holds no data for. */
	void (*outcome)(void *inst, const struct cp_region *r, struct cp_outcome *o);
	/** Offer its names with cp_sync_name(). */
	int (*sync)(void *inst, struct cp_sync *s);
	/** Periodic work. @return 1 when its data changed (full sync), 0, or -errno. */
	int (*tick)(void *inst, struct cp_tick *t, uint64_t now_ms);
	/** @return 1 when ready (NULL: always). */
	int (*ready)(const void *inst);
	/** Called after the control plane answered a query routed to its block (log). */
	void (*observe)(void *inst, const struct cp_request *rq, const uint8_t *resp, size_t len,
			uint64_t dur_ns);
	/** Prometheus text for all instances (block order), once per scrape (cp_text_printf
	 *  appends to a bounded buffer). @return bytes */
	size_t (*metrics)(void *const *inst, unsigned n, char *buf, size_t cap);
	/**
	 * Rewrite the answers of its block after the plugin that made them (loadbalance, the
	 * way CoreDNS's response writers wrap the rest of the chain): called for every
	 * CP_ANSWERED of a plugin, in both modes. In sync mode the result must depend only on
	 * the question and the records (the engine compares values across ports); answers
	 * that should change over time are re-evaluated with cp_tick_name().
	 */
	void (*post)(void *inst, const struct cp_request *rq, struct dns_builder *b);
	/**
	 * The same for answers completed later (CP_DEFERRED: forward), before the client gets
	 * them: @p resp (@p len bytes) answers rq->msg. Write the rewritten response to @p out
	 * (room for @p cap bytes, rq->cap). @return its length, or 0 to leave @p resp as it is.
	 */
	size_t (*post_wire)(void *inst, const struct cp_request *rq, const uint8_t *resp,
			    size_t len, uint8_t *out, size_t cap);
};

/** One registry line: directive name -> ops (NULL ops: a CoreDNS plugin dpdns lacks). */
struct cp_plugin_reg {
	const char *name;
	const struct cp_plugin_ops *(*ops)(void);
};

/** @return the registry in plugin.cfg order, terminated by a NULL name. */
const struct cp_plugin_reg *cp_plugin_registry(void);

/* Plugins of this tree. */
const struct cp_plugin_ops *cp_hosts_plugin(void);
const struct cp_plugin_ops *cp_errors_plugin(void);
const struct cp_plugin_ops *cp_log_plugin(void);
const struct cp_plugin_ops *cp_health_plugin(void);
const struct cp_plugin_ops *cp_ready_plugin(void);
const struct cp_plugin_ops *cp_prometheus_plugin(void);
const struct cp_plugin_ops *cp_reload_plugin(void);
const struct cp_plugin_ops *cp_bind_plugin(void);
const struct cp_plugin_ops *cp_loadbalance_plugin(void);
const struct cp_plugin_ops *cp_loop_plugin(void);

/** Log a line the way CoreDNS does: "[LEVEL] plugin/NAME: message" on stderr. */
void cp_plog(const char *level, const char *plugin, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
