/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - DNS message helpers of the forwarder and the cache: checking an
 * upstream reply against the query, handing it back to the client (ID and question case
 * restored, truncated to what the client accepts), classifying it like CoreDNS's
 * response.Typify, and converting it to and from shared answer values (struct dns_answer).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dns_query;
struct dns_answer;
struct dns_key;

/** The question a reply must echo: wire name (any case), type, class. */
struct fwd_question {
	const uint8_t *name;
	uint16_t name_len;
	uint16_t qtype;
	uint16_t qclass;
};

/** Outcome of fwd_msg_check(). Anything but OK is dropped and counted. */
enum fwd_reply {
	FWD_REPLY_OK = 0,
	FWD_REPLY_MALFORMED, /**< shorter than a header, QR=0, unreadable question */
	FWD_REPLY_ID,        /**< another ID */
	FWD_REPLY_QUESTION,  /**< another question (name compared case-insensitively) or opcode */
};

/** Classes of a reply (CoreDNS response.Type, the ones the cache cares about). */
enum fwd_rtype {
	FWD_RT_NOERROR = 0, /**< NOERROR with answers, or NOERROR without SOA/NS */
	FWD_RT_DELEGATION,  /**< NOERROR, no answer, NS in authority */
	FWD_RT_NODATA,      /**< NOERROR, no answer, SOA in authority */
	FWD_RT_NXDOMAIN,    /**< NXDOMAIN with SOA */
	FWD_RT_SERVERROR,   /**< SERVFAIL or NOTIMP */
	FWD_RT_OTHER,       /**< anything else: never cached */
};

struct fwd_msg_info {
	enum fwd_rtype type;
	int rcode;           /**< header rcode (low 4 bits) */
	uint16_t flags;      /**< header flags word */
	uint32_t min_ttl;    /**< smallest record TTL in seconds (CoreDNS MinimalTTL) */
	unsigned n_rr;       /**< records without OPT */
	bool tc;
};

/** Wire length of a name at @p p (uncompressed, within @p len), or -1. */
int fwd_name_len(const uint8_t *p, size_t len);

/** @return 1 when two uncompressed wire names are equal ignoring ASCII case. */
int fwd_name_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/** @return 1 when wire name @p name is @p zone or below it (both uncompressed). */
int fwd_name_in_zone(const uint8_t *name, size_t len, const uint8_t *zone, size_t zlen);

/**
 * Build a query: header with @p id and RD when @p rd, one question. For health checks.
 * @return length, or -ENOSPC.
 */
int fwd_msg_build_query(uint8_t *out, size_t cap, uint16_t id, const uint8_t *name,
			size_t name_len, uint16_t qtype, bool rd);

/** Check a reply to the query sent with @p id and @p opcode. @return enum fwd_reply */
int fwd_msg_check(const uint8_t *reply, size_t len, uint16_t id, uint16_t opcode,
		  const struct fwd_question *fq);

/**
 * Put the client's ID and its question name bytes (case as the client wrote them) into a
 * reply that passed fwd_msg_check().
 */
void fwd_msg_restore(uint8_t *reply, uint16_t client_id, const uint8_t *client_qname,
		     size_t qname_len);

/**
 * Copy @p reply (already restored) to @p out when it fits @p limit; else write the
 * truncated form: the reply's header with TC=1 and no records, the client's question, and
 * an OPT record when the client sent one (RFC 6891: a truncated response keeps its OPT).
 * @p query / @p q are the client's query.
 * @return bytes written to @p out, or -ENOSPC when not even the header and question fit.
 */
int fwd_msg_relay(uint8_t *out, size_t limit, const uint8_t *reply, size_t len,
		  const uint8_t *query, const struct dns_query *q);

/** Set the TTL of every record but OPT to @p ttl (the cache's capped TTL, CoreDNS does the
 *  same to the reply it caches). @return 0 or -EBADMSG. */
int fwd_msg_set_ttls(uint8_t *reply, size_t len, uint32_t ttl);

/** Walk all records of a reply. @return 0 and fill @p info, or -EBADMSG. */
int fwd_msg_classify(const uint8_t *reply, size_t len, struct fwd_msg_info *info);

/**
 * Convert a classified reply to a shared answer value for key @p key (the lower-cased
 * question name): names decompressed, owners equal to the question name written as the
 * pointer 0xC00C, OPT dropped, every TTL set to @p ttl and its offset recorded unless
 * @p no_age (keepttl: the fast path then never rewrites them). Flags = @p flags.
 * stored/expire are left 0 for the caller.
 * @return the value size, -E2BIG (more records than DNS_ANS_MAX_TTL), -ENOSPC, -EBADMSG.
 */
int fwd_msg_to_answer(const uint8_t *reply, size_t len, const struct dns_key *key,
		      uint16_t flags, uint32_t ttl, bool no_age, struct dns_answer *out,
		      size_t cap);

/**
 * Answer the client's query from a value: header from the query (ID, opcode, RD, CD), flags
 * and rcode from the value, the question as received, the records with every TTL set to
 * @p ttl, OPT when the query had one. Over @p limit: header + question (+ OPT), TC=1.
 * @return response length, or -ENOSPC / -EINVAL.
 */
int fwd_msg_from_answer(uint8_t *out, size_t limit, const uint8_t *query,
			const struct dns_query *q, const struct dns_answer *a, uint32_t ttl);

/**
 * Response with @p rcode and no records for the client's query (REFUSED, SERVFAIL), written
 * to @p out (which may be the query buffer itself). @return length or -ENOSPC.
 */
int fwd_msg_rcode(uint8_t *out, size_t cap, const uint8_t *query, const struct dns_query *q,
		  int rcode);
