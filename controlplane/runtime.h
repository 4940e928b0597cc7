/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane runtime - state shared by the runtime modules (cp_main.c, table.c,
 * miss.c, dnssrv.c, http.c, ctl.c, metrics.c). One thread: everything below is touched
 * by the main loop only, except the signal flags (__atomic).
 */
#pragma once

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp_shm.h"
#include "engine.h"

struct rte_hash;
struct rte_ring;
struct rte_rcu_qsbr;
struct cp_table;
struct cp_miss;
struct cp_dnssrv;
struct cp_http;
struct cp_ctl;

#ifndef DPDNS_VERSION
#define DPDNS_VERSION "0.0.0"
#endif

/* ------------------------------------------------------------------------- */
/* Poll set: each module registers its descriptors for one loop iteration.   */

typedef void (*cp_poll_fn)(void *obj, int fd, short revents);

struct cp_poll {
	struct pollfd *fds;
	struct cp_poll_ent {
		cp_poll_fn fn;
		void *obj;
	} *ent;
	unsigned n, cap;
};

/** Register @p fd for @p events; @p fn(obj, fd, revents) runs when it fires. @return 0/-ENOMEM */
int cp_poll_add(struct cp_poll *p, int fd, short events, cp_poll_fn fn, void *obj);

/* ------------------------------------------------------------------------- */
/* Query accounting of what the control plane answered itself.               */

enum cp_proto { CP_PROTO_UDP = 0, CP_PROTO_TCP, CP_PROTO_N };

#define CP_RCODE_N   24  /* like dp_counters.rcode[] */
#define CP_HIST_N    17  /* request duration buckets: 16 bounds (CoreDNS) + Inf */


/** Counters per server port slot (settings.dns_ports index). */
struct cp_port_stats {
	/* Kernel listeners (TCP and what the fast path punts): requests and responses. */
	uint64_t req[CP_PROTO_N][2][DP_QT_N]; /* [proto][family v4=0 v6=1][qtype] */
	uint64_t resp[CP_PROTO_N][CP_RCODE_N];
	/* Miss ring: the fast path counts these requests and the replies it sends. */
	uint64_t miss_req[2][DP_QT_N];
	uint64_t miss_resp[CP_RCODE_N];
};

struct cp_stats {
	struct cp_port_stats port[DP_MAX_PORTS];
	uint64_t hist[CP_HIST_N];  /* non-cumulative counts per bucket; last = +Inf */
	double hist_sum;           /* seconds */
	uint64_t hist_count;
	uint64_t miss_dequeued;    /* elements taken from the miss ring */
	uint64_t miss_replied;     /* enqueued to a reply ring */
	uint64_t miss_no_answer;   /* engine returned 0: mbuf freed */
	uint64_t miss_reply_full;  /* reply ring full: mbuf freed */
	uint64_t miss_bad;         /* malformed element (bad worker, offsets) */
	uint64_t miss_deferred;    /* answers that came back through client->done */
	uint64_t tcp_accepted, tcp_refused, tcp_timeouts;
	uint64_t http_requests;
	uint64_t ctl_requests;
	uint64_t syncs, sync_failed;
};

/** @return the label text of a dp_qt bucket. */
const char *cp_qt_name(enum dp_qt qt);
/** Account one answered request: duration histogram. */
void cp_stats_duration(struct cp_stats *s, uint64_t ns);
/** @return index of @p port in the published dns_ports (0 when not found). */
unsigned cp_port_slot(const struct cp_settings *set, uint16_t port);
/** @return the qtype of the question of a DNS message, or -1 when it has none. */
int cp_msg_qtype(const uint8_t *msg, size_t len);
/** @return the rcode (low 4 bits) of a DNS response header, 0 when too short. */
unsigned cp_msg_rcode(const uint8_t *msg, size_t len);

/* ------------------------------------------------------------------------- */

struct cp_rt {
	/* Shared objects of the fast path (DPDK primary). */
	struct dp_state *state;
	struct dp_counters *counters;
	unsigned n_counters;          /* blocks in the counters memzone */
	struct rte_rcu_qsbr *qsbr;
	struct rte_hash *hash;
	struct rte_ring *miss_ring;
	struct rte_ring *reply_ring[DP_MAX_WORKERS];
	unsigned n_workers;

	/* Configuration. */
	char corefile[4096];
	char ctl_path[108];
	struct cp_engine *engine;
	uint64_t corefile_hash;       /* hash of the Corefile and its imports as (last tried
	                               * to be) loaded: cp_main.c config_hash() */
	uint64_t config_gen;
	bool synced;                  /* a full sync completed with the current engine */
	bool relisten;                /* settings changed: reopen listeners after dispatch */
	bool tick_now;                /* engine wake fd fired */
	bool fp_gone;                 /* the fast path's process is gone (seen once a second) */
	bool detached;                /* the fast path is gone: shared objects are off limits */
	uint64_t reloads, reload_failed;
	uint64_t next_reload_ms;

	/* Modules. */
	struct cp_table *table;
	struct cp_miss *miss;
	struct cp_dnssrv *dns;
	struct cp_http *http;
	struct cp_ctl *ctl;

	/* Time. */
	uint64_t start_unix;
	uint64_t start_ms;
	uint64_t now_ms;              /* CLOCK_MONOTONIC ms at the top of the iteration */
	uint64_t lameduck_until_ms;   /* 0 = not in lameduck */

	struct cp_stats stats;
};

/** Log a line to stderr as CoreDNS does ("[INFO] ..."); never per query. */
void cp_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** @return CLOCK_MONOTONIC in milliseconds / nanoseconds. */
uint64_t cp_mono_ms(void);
uint64_t cp_mono_ns(void);

/** @return the current engine's settings. */
const struct cp_settings *cp_rt_settings(const struct cp_rt *rt);

/**
 * Load the Corefile again. On error the running configuration stays and @p err names the
 * problem (file:line). On success the engine is swapped, the table fully synced and
 * config_gen bumped. @return 0 or negative errno.
 */
int cp_rt_reload(struct cp_rt *rt, char *err, size_t errlen);

/** Full mark-and-sweep sync of the engine into the shared table. @return 0 or -errno */
int cp_rt_sync(struct cp_rt *rt);

/** @return true when attached, synced and every plugin is ready; else the names of
 *  what is not ready in @p buf. */
bool cp_rt_ready(const struct cp_rt *rt, char *buf, size_t cap);
