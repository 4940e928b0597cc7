/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - engine internals shared by engine.c (loading, answering) and
 * sync.c (table contents and zone policy). Not seen by plugins (plugin.h is theirs).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "dns.h"
#include "dp_shm.h"
#include "engine.h"
#include "plugin.h"

/** Stands for "every type no plugin treats specially" (a private-use type). */
#define CP_TYPE_OTHER 0xff00u
#define CP_MAX_TYPES  32
#define CP_T_DS       43      /* DS: routed to the parent-most zone (dns.h has no name) */

/** Largest value the builder can finish into. */
#define CP_VAL_MAX (sizeof(struct dns_answer) + DNS_BUILD_MAX + 2 + 2 * DNS_ANS_MAX_TTL)

struct cf_file;
struct cf_token;
struct cp_defer;

struct cp_pinst {
	const struct cp_plugin_ops *ops;
	void *inst;
};

struct cp_server {
	unsigned idx;
	struct cp_zone *zones;
	unsigned n_zones;
	struct cp_pinst *pl;     /* plugin.cfg order */
	unsigned n_pl;
	bool handler;            /* has a CoreDNS handler: else every query is REFUSED */
	bool metrics;            /* has prometheus: plugin_enabled lines */
};

/** A zone of a server block as routing sees it. */
struct cp_route {
	struct cp_zone z;
	unsigned srv;
	const struct cf_token *key;
};

/** A zone as the fast path's zone set will hold it. */
struct cp_zpol {
	uint8_t wire[DNS_MAX_NAME];
	uint16_t len;
	uint16_t size;           /* of val */
	uint8_t *val;            /* miss answer for the whole zone; NULL: misses go to us */
	int req;                 /* sync.c: what listed names need from it */
};

struct cp_engine {
	struct cf_file *cf;
	struct cp_settings set;
	struct cp_server *srv;
	unsigned n_srv;
	struct cp_route *rt;
	unsigned n_rt;
	uint16_t ports[DP_MAX_PORTS];
	unsigned n_ports;
	uint16_t types[CP_MAX_TYPES];    /* types evaluated for every offered name */
	unsigned n_types;
	int wake_fd;
	bool need_sync;
	struct cp_zpol *pub;             /* zone set published by the last sync */
	unsigned n_pub;
	struct cp_defer *defers;         /* deferred answers not completed yet (engine.c) */
	bool freeing;                    /* cp_engine_free runs: plugins cancel, no observe */
	char fatal[512];                 /* cp_engine_set_fatal: "" while all is well */
};

struct cp_tick {
	struct cp_engine *e;
	const struct cp_sink *sink;
};

/** Block serving (@p name, @p qtype) on @p port (CoreDNS routing), or -1 (REFUSED). */
int cp_route_find(const struct cp_engine *e, uint16_t port, const uint8_t *name, size_t len,
		  uint16_t qtype);

/**
 * Run rq through the block routing picks for rq->port; fills @p b.
 * @return CP_ANSWERED, or what a plugin returned (CP_DYNAMIC, CP_DEFERRED).
 */
enum cp_serve cp_engine_run(struct cp_engine *e, struct cp_request *rq, struct dns_builder *b);

/** Free the published zone set copy. */
void cp_zpol_free(struct cp_zpol *z, unsigned n);
