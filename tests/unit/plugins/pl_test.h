/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - helpers of the loadbalance/loop unit tests, on top of cp_test.h: an in-process
 * UDP "upstream" on 127.0.0.1 that the test answers (or reflects into the engine) while it
 * drives the engine like the runtime does (deferred answers, ticks on the wake fd).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cp_test.h"

/** A UDP socket on 127.0.0.1 and an ephemeral port: the engine's upstream. */
struct pl_up {
	int fd;
	uint16_t port;
	unsigned queries;
	/**
	 * Handle one query (@p q, @p len bytes) from @p from: write a reply to @p out
	 * (room for @p cap) and return its length, or 0 to send nothing.
	 */
	size_t (*handle)(struct pl_up *u, const uint8_t *q, size_t len,
			 const struct sockaddr_storage *from, socklen_t fl, uint8_t *out,
			 size_t cap);
	void *ctx;
};

/** @return 0, or -1 when the socket cannot be opened. */
int pl_up_open(struct pl_up *u);
void pl_up_close(struct pl_up *u);

/** A query in flight through the engine (deferred answers land here). */
struct pl_q {
	bool done;
	int len;              /* -1 until answered; 0: nothing sent */
	uint8_t buf[65536];
	struct t_resp r;
};

/** @return CLOCK_MONOTONIC milliseconds */
uint64_t pl_ms(void);

/**
 * Drive @p e for @p ms: answer @p u's queries (may be NULL), tick the engine (with a full
 * sync into @p sink when it asks; @p sink may be NULL), until @p stop (may be NULL) is done.
 */
void pl_run(struct cp_engine *e, struct t_sink *sink, struct pl_up *u, int ms,
	    const struct pl_q *stop);

/** Start the query @p name/@p qtype (UDP, EDNS 4096, client 127.0.0.1:40000, port 53). */
void pl_ask_start(struct cp_engine *e, const char *name, uint16_t qtype, struct pl_q *q);

/** Ask and drive the engine until the answer (at most 5 s). @return the response length */
int pl_ask(struct cp_engine *e, struct t_sink *sink, struct pl_up *u, const char *name,
	   uint16_t qtype, struct pl_q *q);
