/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - engine driver of the forward/cache unit tests: loads a Corefile written to a
 * temporary file, asks queries through cp_engine_answer() the way the runtime does
 * (deferred answers through cp_client.done), ticks the engine, and records what it
 * publishes in an in-memory table sink.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns.h"
#include "engine.h"
#include "fwd_test.h"

#define MS_MAX 1024

struct ms_ent {
	struct dns_key key;
	uint8_t *val;
	size_t size;
};

/** In-memory table: what the engine put and deleted. */
struct mem_sink {
	struct ms_ent ent[MS_MAX];
	unsigned n;
	unsigned puts, dels;
};

struct drv {
	struct cp_engine *e;
	struct mem_sink ms;
	struct cp_sink sink;
	char path[128];
	char err[1024];
};

/** Query options. */
struct qopt {
	bool tcp;
	bool edns;          /* add an OPT record (size 4096 unless @p edns_size) */
	uint16_t edns_size;
	bool dnssec_ok;
	bool cd;
	size_t cap;         /* response room (default: 65535 TCP, EDNS size, else 512) */
	int timeout_ms;     /* default 8000 */
};

/** Result of drv_query(). */
struct qres {
	int rcode;          /* -1: no answer */
	bool deferred;      /* answered through client->done */
	int ms;             /* time to the answer */
	uint8_t raw[65536];
	size_t len;
	struct tparsed p;
};

/** Write @p text to a Corefile and load it. @return 0, or -1 with d->err set. */
int drv_load(struct drv *d, const char *text);
void drv_free(struct drv *d);
/** Tick for @p ms milliseconds (waiting on the wake fd in between). */
void drv_run(struct drv *d, int ms);
/** Ask a question; ticks until the answer or the timeout. @return res->rcode */
int drv_query(struct drv *d, const char *name, uint16_t qtype, const struct qopt *o,
	      struct qres *res);
/** Start a question without waiting (deferred answers land in @p res later). */
int drv_query_start(struct drv *d, const char *name, uint16_t qtype, const struct qopt *o,
		    struct qres *res);
/** @return the table value for (name, type), or NULL. */
const struct dns_answer *drv_table(const struct drv *d, const char *name, uint16_t qtype);
/** @return the value of the metric line starting with @p prefix (e.g. `x{a="b"}`), or -1. */
double drv_metric(const struct drv *d, const char *prefix);
