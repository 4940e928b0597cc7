/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - the query engine: a loaded Corefile with its plugin instances.
 * Pure (no DPDK): it produces table contents through a sink and answers the queries the
 * fast path missed. The runtime (cp_main.c) owns shared memory, sockets and timers.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct dns_key;
struct dns_answer;
struct cp_engine;

/** Where table contents go. The runtime implements it on the shared rte_hash; tests in memory. */
struct cp_sink {
	/** Insert or replace the value for @p key. @return 0 or -errno */
	int (*put)(void *ctx, const struct dns_key *key, uint32_t hash,
		   const struct dns_answer *ans, size_t size);
	/** Remove @p key. @return 0 or -ENOENT */
	int (*del)(void *ctx, const struct dns_key *key, uint32_t hash);
	/** Publish the fast path's per-zone miss policy (whole set). zones is an array of
	 *  struct dp_zone, longest first. @return 0 or -errno */
	int (*zones)(void *ctx, const void *zones, unsigned n_zones);
	void *ctx;
};

/** Listener/operational settings the runtime needs from the Corefile. */
struct cp_settings {
	char health_addr[64];   /**< "" when no health plugin; default ":8080" */
	unsigned lameduck_ms;   /**< health lameduck */
	char ready_addr[64];    /**< "" when no ready plugin; default ":8181" */
	char metrics_addr[64];  /**< "" when no prometheus plugin; default "localhost:9153" */
	unsigned reload_ms;     /**< 0 = no reload plugin; else interval (default 30s) */
	unsigned reload_jitter_ms;
	uint16_t dns_ports[8];  /**< UDP/TCP ports of the server blocks, 0-terminated */
	char bind[8][64];       /**< bind addresses ("" = all) */
	unsigned n_bind;
	int log;                /**< log plugin present in any block */
	int errors;             /**< errors plugin present */
};

/** cp_engine_answer() kept the query and will answer through client->done later. */
#define CP_ANSWER_DEFERRED (-115) /* -EINPROGRESS */

/** A client as the runtime saw it (for `log` and ACL-style decisions). */
struct cp_client {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	uint16_t local_port;    /**< server port the query came to */
	int tcp;                /**< 1 when over TCP */
	/** Completion for deferred answers (forwarding): called once with the response
	 *  (len 0 = send nothing). NULL = the runtime cannot wait: the engine must answer
	 *  synchronously. The engine copies the struct; @p req stays the runtime's. */
	void (*done)(void *req, const uint8_t *resp, size_t len);
	void *req;
};

/**
 * Load and validate a Corefile. Every error names file, line and directive.
 * @return the engine, or NULL with the message in @p err.
 */
struct cp_engine *cp_engine_load(const char *path, char *err, size_t errlen);

/** Free an engine (its plugins' memory, not the shared table). */
void cp_engine_free(struct cp_engine *e);

/** @return the settings of a loaded engine (valid while the engine lives). */
const struct cp_settings *cp_engine_settings(const struct cp_engine *e);

/**
 * The files the load read its configuration from: the Corefile (as named to
 * cp_engine_load) first, then every imported file, each once, in the order first read.
 * What a reload check compares (CoreDNS reloads when any of them changes). Files plugins
 * read themselves (hosts files, ...) are not listed: the plugins watch those.
 * @return the number of files; *files gets the array (valid while the engine lives).
 */
unsigned cp_engine_files(const struct cp_engine *e, const char *const **files);

/**
 * Emit every table entry and the zone set the fast path should hold. The runtime diffs
 * against what it published before (unchanged values are not rewritten).
 * @return 0 or the first negative errno a sink call returned.
 */
int cp_engine_sync(struct cp_engine *e, const struct cp_sink *sink);

/**
 * Periodic work, called every loop iteration (at least every 10 ms): hosts file reload
 * checks, applying watch events. Plugins may push incremental changes straight to
 * @p sink (put/del of the affected names only). @p now_ms is CLOCK_MONOTONIC ms.
 * @return 1 when a full cp_engine_sync is needed, 0, or -errno.
 */
int cp_engine_tick(struct cp_engine *e, const struct cp_sink *sink, uint64_t now_ms);

/**
 * @return a file descriptor that becomes readable when plugins have work for
 *         cp_engine_tick (watch events, upstream replies), or -1. The runtime polls it and
 *         calls cp_engine_tick promptly when it is readable; the engine drains it.
 */
int cp_engine_wake_fd(const struct cp_engine *e);

/**
 * Answer a query the fast path could not: @p msg holds @p len bytes of the query and has
 * room for @p cap bytes of response (already limited to what the client accepts).
 * @return response length, 0 to send nothing, or CP_ANSWER_DEFERRED (only when
 *         client->done is set) when the answer comes later through client->done.
 */
int cp_engine_answer(struct cp_engine *e, uint8_t *msg, size_t len, size_t cap,
		     const struct cp_client *client);

/**
 * @return NULL, or why the control plane must stop: a plugin's fatal finding (loop: a
 * forwarding loop), already logged. The runtime checks it after every tick and exits
 * non-zero, as CoreDNS's log.Fatal does.
 */
const char *cp_engine_fatal(const struct cp_engine *e);

/** @return 1 when every plugin is ready (ready plugin), else 0 and the names of those
 *  that are not, comma separated, in @p buf. */
int cp_engine_ready(const struct cp_engine *e, char *buf, size_t cap);

/**
 * Add (@p add = 1) or remove a hosts entry NAME -> ADDR, persisted atomically
 * (write temp file + rename) to the first hosts plugin's file.
 * @return 0 or -errno with a message in @p err.
 */
int cp_engine_hosts_edit(struct cp_engine *e, int add, const char *name, const char *addr,
			 char *err, size_t errlen);

/** Plugin-specific metrics for /metrics (coredns_hosts_entries, coredns_plugin_enabled, ...).
 *  Request/response totals and process-wide families (coredns_build_info, reload
 *  failures) are the runtime's (fast path counters + what it answered).
 *  Appends Prometheus text to @p buf. @return bytes written. */
size_t cp_engine_metrics(const struct cp_engine *e, char *buf, size_t cap);

/* ------------------------------------------------------------------------- */
/* Cache inspection (`dpdnsctl cache show|flush`), implemented by the cache plugin. */

#include <stdbool.h>

/** One entry of a `cache` plugin as `dpdnsctl cache show` lists it. */
struct cp_cache_entry {
	char name[1025];        /**< presentation form, trailing dot, lower case */
	uint16_t qtype;
	uint8_t rcode;
	const char *kind;       /**< "success" or "denial" (CoreDNS's cache types) */
	uint32_t ttl;           /**< TTL it was stored with (capped), seconds */
	int64_t ttl_left;       /**< seconds until it expires; <= 0: expired (stale) */
	uint16_t ancount, nscount, arcount;
	bool published;         /**< in the shared table: the fast path answers it */
	unsigned block;         /**< server block index */
};

/**
 * Call @p fn for every entry of every cache (only those of @p name when not NULL; all
 * types). @p fn returns nonzero to stop.
 * @return entries visited, or -EINVAL for a bad name.
 */
long cp_engine_cache_show(const struct cp_engine *e, const char *name,
			  int (*fn)(void *ctx, const struct cp_cache_entry *ent), void *ctx);

/**
 * Remove every entry (or those of @p name) from the caches and, through @p sink, from the
 * shared table. @return entries removed, or -EINVAL for a bad name.
 */
long cp_engine_cache_flush(struct cp_engine *e, const struct cp_sink *sink, const char *name);
