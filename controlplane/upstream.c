/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - lookups through the server itself (CoreDNS's plugin/pkg/upstream).
 *
 * A plugin answering a CNAME whose target it does not hold (kubernetes: an ExternalName
 * service pointing outside the cluster zones) asks the server for the target: a new query
 * from the same client goes through cp_engine_answer(), so the target is routed like any
 * question and meets the chain of the block that serves it (cache, forward...). When that
 * chain answers at once the records are merged before the plugin returns; when it defers
 * (forward), the plugin's answer waits here with a copy of the client's query and is
 * written when the target's answer arrives. The client's completion is the engine's own
 * (cp_defer), so the final answer is still observed (log) and rewritten (loadbalance).
 *
 * Answers merged here are never static: the plugin returns CP_DYNAMIC for them in sync
 * mode, so they are never in the fast path's table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "plugin.h"

#define UP_DEPTH_MAX 8       /* nested lookups (a target that is itself a CNAME to look up) */
#define UP_SUB_CAP   65535   /* the target's answer: the client's limit applies to ours */

/* A plugin's answer waiting for its target's records. */
struct up_job {
	struct dns_builder b;
	void (*done)(void *req, const uint8_t *resp, size_t len); /* the client's */
	void *req;
	bool tcp;
	size_t cap;
	struct dns_query q;
	size_t len;
	uint8_t msg[];               /* the client's query */
};

/* Lookups running inside one another (engine thread only: the engine is single-threaded). */
static unsigned up_depth;

/* The target's answer records after the plugin's; a truncated one truncates ours. */
static void merge(struct dns_builder *b, const uint8_t *resp, size_t len)
{
	if (len < DNS_HDR_LEN)
		return;
	if (resp[2] & (DNS_F_TC >> 8))
		b->flags |= DNS_F_TC;
	/* Partial when it does not all fit a value: what fits (TCP gets the rest cut). */
	cp_msg_to_builder(resp, len, CP_MSG_SEC(DNS_SEC_ANSWER), false, b);
}

static void up_done(void *req, const uint8_t *resp, size_t len)
{
	struct up_job *j = req;
	uint8_t *out = malloc(j->cap);
	int n = -ENOMEM;

	if (resp != NULL && len > 0)
		merge(&j->b, resp, len);
	if (out != NULL) {
		memcpy(out, j->msg, j->len);
		n = cp_write_answer(out, j->cap, &j->q, &j->b, j->tcp);
	}
	j->done(j->req, n > 0 ? out : NULL, n > 0 ? (size_t)n : 0);
	free(out);
	free(j);
}

/*
 * The question for the target: the client's header (opcode, RD, CD) and EDNS (its OPT
 * follows the question), a new ID. @return its length, or 0 when it does not fit.
 */
static size_t sub_query(const struct cp_request *rq, const uint8_t *target, size_t tlen,
			uint8_t *out, size_t cap)
{
	size_t tail = rq->len - rq->q->question_end;
	size_t n = DNS_HDR_LEN + tlen + 4 + tail;
	uint16_t id = (uint16_t)random();

	if (n > cap || rq->q->question_end < DNS_HDR_LEN || rq->q->question_end > rq->len)
		return 0;
	memcpy(out, rq->msg, DNS_HDR_LEN);
	out[0] = (uint8_t)(id >> 8);
	out[1] = (uint8_t)id;
	out[4] = 0;
	out[5] = 1;
	memcpy(out + DNS_HDR_LEN, target, tlen);
	out[DNS_HDR_LEN + tlen] = (uint8_t)(rq->qtype >> 8);
	out[DNS_HDR_LEN + tlen + 1] = (uint8_t)rq->qtype;
	out[DNS_HDR_LEN + tlen + 2] = 0;
	out[DNS_HDR_LEN + tlen + 3] = DNS_C_IN;
	memcpy(out + DNS_HDR_LEN + tlen + 4, rq->msg + rq->q->question_end, tail);
	return n;
}

static struct up_job *job_new(const struct cp_request *rq, const struct dns_builder *b)
{
	struct up_job *j;

	/* The spill storage belongs to this answer's engine call and is freed when the
	 * answer is deferred: a job keeps only what fits the builder itself. */
	if (dns_builder_spilled(b))
		return NULL;
	j = malloc(sizeof(*j) + rq->len);
	if (j == NULL)
		return NULL;
	j->b = *b;
	j->b.spill = NULL;
	j->b.spill_cap = 0;
	j->done = rq->client->done;
	j->req = rq->client->req;
	j->tcp = rq->client->tcp != 0;
	j->cap = rq->cap;
	j->q = *rq->q;
	j->len = rq->len;
	memcpy(j->msg, rq->msg, rq->len);
	return j;
}

enum cp_serve cp_upstream_complete(const struct cp_request *rq, struct dns_builder *b,
				   const uint8_t *target, size_t target_len)
{
	bool wait = rq->client != NULL && rq->client->done != NULL;
	struct cp_client sub = { 0 };
	struct up_job *j = NULL;
	uint8_t *buf;
	size_t len;
	int n;

	/* Records go after the plugin's answer section only. */
	if (rq->sync || rq->q == NULL || up_depth >= UP_DEPTH_MAX || b->err != 0 ||
	    b->count[DNS_SEC_AUTHORITY] != 0 || b->count[DNS_SEC_ADDITIONAL] != 0)
		return CP_ANSWERED;
	buf = malloc(UP_SUB_CAP);
	if (buf == NULL || (len = sub_query(rq, target, target_len, buf, UP_SUB_CAP)) == 0 ||
	    (wait && (j = job_new(rq, b)) == NULL)) {
		free(buf);
		return CP_ANSWERED;
	}
	if (rq->client != NULL)
		sub = *rq->client;
	sub.local_port = rq->port;
	sub.done = wait ? up_done : NULL;
	sub.req = j;
	up_depth++;
	n = cp_engine_answer(rq->engine, buf, len, UP_SUB_CAP, &sub);
	up_depth--;
	if (n == CP_ANSWER_DEFERRED) {
		free(buf);
		return CP_DEFERRED;
	}
	if (n > 0)
		merge(b, buf, (size_t)n);
	free(buf);
	free(j);
	return CP_ANSWERED;
}
