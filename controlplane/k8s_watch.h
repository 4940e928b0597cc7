/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - the kubernetes plugin's API client: LIST then WATCH of each
 * resource (libcurl multi + jansson) in a thread of its own per plugin instance. Parsed
 * and converted objects are handed to the engine thread through a mutex-protected queue;
 * the engine thread never touches the network.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "k8s_config.h"
#include "k8s_obj.h"

/* ------------------------------------------------------------------------- */
/* Newline-delimited JSON stream splitting (watch bodies arrive in any chunks) */

#define K8S_STREAM_MAX_LINE (64u << 20) /**< longest event accepted (64 MiB) */

struct k8s_stream {
	char *buf;
	size_t len, cap;
	int err;          /**< -E2BIG once a line exceeded K8S_STREAM_MAX_LINE */
};

/** Called per complete line (without the newline, NUL-terminated). @return 0 to go on */
typedef int (*k8s_line_fn)(void *ctx, char *line, size_t len);

void k8s_stream_init(struct k8s_stream *s);
void k8s_stream_fini(struct k8s_stream *s);
/** Forget a partial line (a new connection). */
void k8s_stream_reset(struct k8s_stream *s);
/**
 * Feed @p len bytes; @p fn runs for every complete non-blank line.
 * @return 0, the first non-zero @p fn result, or -E2BIG / -ENOMEM.
 */
int k8s_stream_feed(struct k8s_stream *s, const char *data, size_t len, k8s_line_fn fn,
		    void *ctx);

/* ------------------------------------------------------------------------- */
/* Events                                                                      */

enum k8s_ev_type {
	K8S_EV_UPSERT = 0, /**< ADDED / MODIFIED / a listed item: obj (may be a tombstone) */
	K8S_EV_DELETE,     /**< DELETED: obj is a tombstone */
	K8S_EV_LIST_BEGIN, /**< a (re)list of res starts */
	K8S_EV_LIST_END,   /**< ... and is complete: stale objects of res are gone */
};

struct k8s_event {
	struct k8s_event *next;
	enum k8s_ev_type type;
	enum k8s_res res;
	struct k8s_obj *obj;
	uint64_t recv_ns;  /**< CLOCK_MONOTONIC when the watch thread received it */
};

void k8s_event_free(struct k8s_event *ev);

/* ------------------------------------------------------------------------- */
/* Watch thread                                                                */

struct k8s_watch_cfg {
	const struct k8s_conn *conn;        /**< copied */
	bool watch[K8S_RES_N];              /**< resources to list and watch */
	const char *labels;                 /**< labelSelector for services and slices */
	const char *ns_labels;              /**< labelSelector for namespaces */
	struct k8s_conv_opts conv;          /**< selectors must outlive the watch */
	void (*wake)(void *ctx);            /**< called (watch thread) after events queue */
	void *wake_ctx;
	unsigned list_limit;                /**< page size (0: 500) */
	unsigned backoff_min_ms;            /**< 0: 800 */
	unsigned backoff_max_ms;            /**< 0: 30000 */
	unsigned watch_min_s, watch_max_s;  /**< timeoutSeconds range (0: 300..600) */
	unsigned connect_timeout_ms;        /**< 0: 5000 */
	unsigned idle_timeout_s;            /**< a watch silent this long is dropped (0: 90) */
	/** client-go's WatchListClient: (re)lists are streamed by a watch with
	 *  sendInitialEvents=true, ended by the k8s.io/initial-events-end bookmark; a
	 *  server that rejects it (4xx) gets paged LISTs from then on. */
	bool watch_list;
};

struct k8s_watch_stats {
	uint64_t events;       /**< watch events received */
	uint64_t lists;        /**< LIST requests (pages) */
	uint64_t relists;      /**< relists after 410 Gone */
	uint64_t watches;      /**< WATCH requests started */
	uint64_t errors;       /**< failed requests (connection, HTTP status) */
	uint64_t bookmarks;
	long last_status;      /**< last HTTP status (0 = connection failure) */
	char last_error[160];
};

struct k8s_watch;

/** Start the thread. @return the watch, or NULL with a message in @p err. */
struct k8s_watch *k8s_watch_start(const struct k8s_watch_cfg *cfg, char *err, size_t errlen);
/** Stop and join the thread; free queued events. */
void k8s_watch_stop(struct k8s_watch *w);
/** @return every queued event, oldest first (the caller frees them), or NULL. */
struct k8s_event *k8s_watch_take(struct k8s_watch *w);
/** Copy the counters (thread-safe). */
void k8s_watch_get_stats(struct k8s_watch *w, struct k8s_watch_stats *st);
