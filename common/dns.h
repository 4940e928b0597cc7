/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - DNS wire codec shared by the fast path, the control plane and the tests.
 * Pure C11: no DPDK, no allocation on the query path.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_HDR_LEN        12
#define DNS_MAX_NAME       255  /**< max wire length of a name, root label included */
#define DNS_MAX_LABEL      63
#define DNS_PTR_HOPS_MAX   16   /**< compression pointers followed before a name is rejected */
#define DNS_UDP_MIN        512  /**< RFC 1035 size limit without EDNS(0) */
#define DNS_EDNS_SIZE      1232 /**< UDP size dpdns advertises in its own OPT record */

/* Header flag bits (host byte order of the 16-bit flags word). */
#define DNS_F_QR     0x8000u
#define DNS_F_OPCODE 0x7800u
#define DNS_F_AA     0x0400u
#define DNS_F_TC     0x0200u
#define DNS_F_RD     0x0100u
#define DNS_F_RA     0x0080u
#define DNS_F_Z      0x0040u
#define DNS_F_AD     0x0020u
#define DNS_F_CD     0x0010u
#define DNS_F_RCODE  0x000fu

enum dns_type {
	DNS_T_A = 1, DNS_T_NS = 2, DNS_T_CNAME = 5, DNS_T_SOA = 6, DNS_T_PTR = 12,
	DNS_T_HINFO = 13, DNS_T_MX = 15, DNS_T_TXT = 16, DNS_T_AAAA = 28, DNS_T_SRV = 33,
	DNS_T_OPT = 41, DNS_T_IXFR = 251, DNS_T_AXFR = 252, DNS_T_ANY = 255,
};

enum dns_class { DNS_C_IN = 1, DNS_C_CH = 3, DNS_C_NONE = 254, DNS_C_ANY = 255 };

enum dns_rcode {
	DNS_RCODE_NOERROR = 0, DNS_RCODE_FORMERR = 1, DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3, DNS_RCODE_NOTIMP = 4, DNS_RCODE_REFUSED = 5,
	DNS_RCODE_BADVERS = 16, /**< extended: upper 8 bits travel in the OPT TTL */
};

/** Result of dns_parse_query() other than an rcode: the message must not be answered. */
#define DNS_PARSE_DROP (-1)

/* ------------------------------------------------------------------------- */
/* Read cursor with a sticky error (Knot's wire_ctx shape).                   */

struct dns_wire {
	const uint8_t *start; /**< message start (compression pointers are relative to it) */
	const uint8_t *pos;   /**< next byte to read */
	const uint8_t *end;   /**< one past the last byte */
	int err;              /**< 0, or the first error hit; reads after an error return 0 */
};

/** Start reading @p len bytes at @p msg. */
void dns_wire_init(struct dns_wire *w, const uint8_t *msg, size_t len);
/** @return the next byte, or 0 with w->err set when out of data. */
uint8_t dns_wire_read_u8(struct dns_wire *w);
/** @return the next big-endian 16-bit value, or 0 with w->err set. */
uint16_t dns_wire_read_u16(struct dns_wire *w);
/** @return the next big-endian 32-bit value, or 0 with w->err set. */
uint32_t dns_wire_read_u32(struct dns_wire *w);
/** Skip @p n bytes (sets w->err when fewer remain). */
void dns_wire_skip(struct dns_wire *w, size_t n);
/** @return bytes left to read (0 after an error). */
size_t dns_wire_avail(const struct dns_wire *w);

/* ------------------------------------------------------------------------- */
/* Table key: lower-cased wire name + qtype. Layout is shared memory ABI.    */

#define DNS_KEY_LEN      128 /**< rte_hash has fast compare for multiples of 16 up to 128 */
#define DNS_KEY_NAME_MAX 124 /**< longer names cannot be keyed and go to the slow path */
/** qtype value of the per-name "exists" entry: answers NODATA for types the name lacks. */
#define DNS_KEY_T_EXISTS 0

struct dns_key {
	uint8_t name[DNS_KEY_NAME_MAX]; /**< lower-cased wire name, zero padded */
	uint16_t qtype;                 /**< host byte order; DNS_KEY_T_EXISTS for the name marker */
	uint16_t name_len;              /**< wire length of name[] including the root label */
};

_Static_assert(sizeof(struct dns_key) == DNS_KEY_LEN, "dns_key must be DNS_KEY_LEN bytes");

/**
 * Final hash from the hash of the name part and a qtype. The name part is computed once
 * per query (dns_query.name_hash); the exists-marker lookup only re-mixes the qtype.
 * @return 32-bit hash used with rte_hash *_with_hash calls.
 */
static inline uint32_t dns_hash_mix(uint64_t name_hash, uint16_t qtype)
{
	uint64_t h = name_hash ^ ((uint64_t)qtype * 0x9e3779b97f4a7c15ull);

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return (uint32_t)h;
}

/**
 * Hash of a key as both processes compute it (the rte_hash is always used with
 * *_with_hash calls; function pointers do not cross processes).
 * Equals dns_hash_mix(dns_name_hash(key->name, key->name_len), key->qtype).
 * @return 32-bit hash of key->name[0..name_len) and key->qtype.
 */
uint32_t dns_key_hash(const struct dns_key *key);

/** @return 64-bit hash of a lower-cased wire name (the part dns_hash_mix() finishes). */
uint64_t dns_name_hash(const uint8_t *name, size_t len);

/**
 * Build a key from a presentation-format name ("www.example.com", trailing dot optional,
 * case-insensitive). Used by the control plane and tests.
 * @return 0, or -EINVAL for a bad name, -ENAMETOOLONG when it does not fit DNS_KEY_NAME_MAX.
 */
int dns_key_from_str(struct dns_key *key, const char *name, uint16_t qtype);

/* ------------------------------------------------------------------------- */
/* Query parsing                                                               */

struct dns_query {
	uint16_t id;
	uint16_t flags;       /**< as received, host order */
	uint16_t qtype;
	uint16_t qclass;
	uint16_t qname_len;   /**< wire length of the question name (uncompressed, root included) */
	uint16_t question_end;/**< offset of the first byte after the question */
	uint16_t msg_len;     /**< length of the received message */
	bool key_ok;          /**< key/hash are valid (name fits DNS_KEY_NAME_MAX) */
	bool has_edns;        /**< an OPT record was present */
	bool edns_do;         /**< DO bit of the client's OPT */
	uint8_t edns_version;
	uint16_t edns_size;   /**< client's advertised UDP size, already raised to >= 512 */
	uint64_t name_hash;   /**< dns_name_hash() of key.name, computed while parsing */
	uint32_t hash;        /**< dns_hash_mix(name_hash, qtype) == dns_key_hash(&key) */
	struct dns_key key;   /**< lower-cased qname + qtype, zero padded */
};

/**
 * Parse a query: header, exactly one question (no compression in the question name),
 * and at most one OPT record in the additional section; lower-cases the name into
 * q->key and hashes it in the same pass.
 *
 * @return DNS_RCODE_NOERROR when the query is well formed and may be looked up;
 *         DNS_RCODE_FORMERR / DNS_RCODE_NOTIMP / DNS_RCODE_BADVERS / DNS_RCODE_REFUSED
 *         (class not IN) when it must be answered with that rcode (dns_write_rcode());
 *         DNS_PARSE_DROP when it must not be answered at all (QR=1, shorter than a header).
 */
int dns_parse_query(const uint8_t *msg, size_t len, struct dns_query *q);

/* ------------------------------------------------------------------------- */
/* Shared answer values. Layout is shared memory ABI: both processes map the  */
/* same bytes. Values are immutable once published; replace whole.           */

#define DNS_ANS_MAGIC 0x444e5341u /**< "DNSA" */
#define DNS_ANS_MAX_TTL 64        /**< max TTL fields tracked for cache rewriting */

struct dns_answer {
	uint32_t magic;       /**< DNS_ANS_MAGIC */
	uint16_t flags;       /**< header bits to set: DNS_F_AA, DNS_F_RA, DNS_F_AD and rcode (low 4 bits) */
	uint16_t ancount;
	uint16_t nscount;
	uint16_t arcount;     /**< excluding the OPT record the responder appends */
	uint16_t qname_len;   /**< question name length the records were encoded for (0xC00C pointers) */
	uint16_t rr_len;      /**< bytes of pre-encoded records in rr[] */
	uint16_t n_ttl;       /**< TTL fields in rr[], offsets in dns_answer_ttl_offs() */
	uint16_t reserved;
	uint32_t stored;      /**< CLOCK_MONOTONIC seconds when inserted (cache entries) */
	uint32_t expire;      /**< CLOCK_MONOTONIC seconds it expires; 0 = never (authoritative) */
	uint8_t rr[];         /**< records in wire form, then uint16_t ttl offsets (rr-relative) */
};

/** @return the TTL offset array that follows rr[] (2-byte aligned). */
static inline const uint16_t *dns_answer_ttl_offs(const struct dns_answer *a)
{
	return (const uint16_t *)(const void *)(a->rr + ((a->rr_len + 1u) & ~1u));
}

/** @return total size in bytes of an answer value (header, records, TTL offsets). */
static inline size_t dns_answer_size(const struct dns_answer *a)
{
	return sizeof(*a) + ((a->rr_len + 1u) & ~1u) + a->n_ttl * sizeof(uint16_t);
}

/* Answer builder: the control plane and tests encode values with it. */

#define DNS_BUILD_MAX 4096 /**< largest value the builder produces */

enum dns_section { DNS_SEC_ANSWER, DNS_SEC_AUTHORITY, DNS_SEC_ADDITIONAL };

struct dns_builder {
	uint16_t qname_len;   /**< length of the question the value is for */
	uint16_t flags;
	uint16_t count[3];
	uint16_t len;
	uint16_t n_ttl;
	int err;              /**< sticky: -ENOSPC, -EINVAL */
	uint16_t zp_len;      /**< dns_builder_zone_ptr(): zone length (0: off) */
	uint8_t zp_which;     /**< dns_builder_zone_ptr(): DNS_ZP_* */
	uint16_t ttl_off[DNS_ANS_MAX_TTL];
	uint8_t buf[DNS_BUILD_MAX];
	uint8_t *spill;       /**< dns_builder_set_spill() storage, or NULL */
	uint16_t spill_cap;   /**< bytes of it the builder may use */
	uint8_t zp_zone[DNS_MAX_NAME]; /**< dns_builder_zone_ptr(): the zone, lower case */
};

#define DNS_ZP_OWNER 0x1 /**< dns_builder_zone_ptr(): owner names */
#define DNS_ZP_RDATA 0x2 /**< dns_builder_zone_ptr(): names in rdata (targets, SOA names) */

/** dns_builder.n_ttl once the records moved to the spill storage (no TTL offsets kept). */
#define DNS_BUILD_SPILLED   0xffffu
/** Largest spill storage a builder uses: the records of one 64 KiB TCP message. */
#define DNS_BUILD_SPILL_MAX 65535

/** Owner argument meaning "the question name" (encoded as pointer 0xC00C). */
#define DNS_OWNER_QNAME NULL

/**
 * Start a value for the question @p key (its name_len fixes compression offsets).
 * @p flags: DNS_F_AA etc. plus rcode in the low bits.
 */
void dns_builder_init(struct dns_builder *b, const struct dns_key *key, uint16_t flags);
/**
 * Append a record. @p owner is a presentation name, or DNS_OWNER_QNAME for the question;
 * rdata is raw wire rdata (names inside must be uncompressed: use the typed helpers).
 * @return 0 or negative errno (also kept in b->err).
 */
int dns_builder_add_raw(struct dns_builder *b, enum dns_section sec, const char *owner,
			uint16_t type, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen);
/** Append an A (@p addr 4 bytes network order) or AAAA (16 bytes) record. @return 0 or -errno */
int dns_builder_add_addr(struct dns_builder *b, enum dns_section sec, const char *owner,
			 uint32_t ttl, const uint8_t *addr, int family);
/** Append a record whose rdata is one name (PTR, CNAME, NS). @return 0 or -errno */
int dns_builder_add_name(struct dns_builder *b, enum dns_section sec, const char *owner,
			 uint16_t type, uint32_t ttl, const char *target);
/** Append an SRV record. @return 0 or -errno */
int dns_builder_add_srv(struct dns_builder *b, enum dns_section sec, const char *owner, uint32_t ttl,
			uint16_t prio, uint16_t weight, uint16_t port, const char *target);
/** Append an SOA record. @return 0 or -errno */
int dns_builder_add_soa(struct dns_builder *b, enum dns_section sec, const char *owner, uint32_t ttl,
			const char *mname, const char *rname, uint32_t serial, uint32_t refresh,
			uint32_t retry, uint32_t expire, uint32_t minimum);
/** Append a TXT record with one character-string. @return 0 or -errno */
int dns_builder_add_txt(struct dns_builder *b, enum dns_section sec, const char *owner,
			uint32_t ttl, const char *text);
/**
 * For the records added next (until called again): the names of the kinds in @p which
 * (DNS_ZP_* bits, 0 for none) that end in @p zone (wire form, @p zone_len bytes), the
 * zone the question name ends with, get that ending written as a pointer into the
 * question, so the zone reads as the client spelled it (CoreDNS writes the names it makes
 * under the zone in the query's case). Other names are written whole, lower-cased.
 */
void dns_builder_zone_ptr(struct dns_builder *b, unsigned which, const uint8_t *zone,
			  uint16_t zone_len);

/**
 * Write the finished value into @p out (capacity @p cap, dns_builder_size() needed).
 * The value of a spilled builder lists no TTL offsets (n_ttl 0) and may be larger than
 * DNS_BUILD_MAX: it is for one response, never for the shared table or the cache.
 * @return its size (dns_answer_size()), or negative errno (b->err, or -ENOSPC).
 */
int dns_builder_finish(const struct dns_builder *b, struct dns_answer *out, size_t cap);

/**
 * Let @p b outgrow a table value (DNS_BUILD_MAX bytes, DNS_ANS_MAX_TTL records), for
 * answers the control plane writes itself: when a record does not fit, the records move
 * to @p buf (@p cap bytes, of which DNS_BUILD_SPILL_MAX at most are used) and TTL offsets
 * stop being kept (n_ttl becomes DNS_BUILD_SPILLED). A @p cap not above DNS_BUILD_MAX is
 * ignored. @p buf must outlive every use of @p b; dns_builder_init() forgets it.
 */
void dns_builder_set_spill(struct dns_builder *b, uint8_t *buf, size_t cap);

/** @return true when @p b's records moved to its spill storage (see dns_builder_finish). */
static inline bool dns_builder_spilled(const struct dns_builder *b)
{
	return b->n_ttl == DNS_BUILD_SPILLED;
}

/** @return the records of @p b (b->len bytes): buf[], or the spill storage. */
static inline const uint8_t *dns_builder_data(const struct dns_builder *b)
{
	return dns_builder_spilled(b) ? b->spill : b->buf;
}

/** @return the bytes dns_builder_finish() needs for @p b's value. */
size_t dns_builder_size(const struct dns_builder *b);

/* ------------------------------------------------------------------------- */
/* Responding in place                                                         */

/**
 * Turn the query in @p msg (parsed into @p q) into the response carrying @p a:
 * header from the query (ID, opcode, RD, CD kept; QR set; flags/rcode from @p a),
 * the question exactly as received (case preserved), the records, and an OPT record when
 * the query had one (DO echoed). Cache values (a->expire != 0) get their TTLs lowered by
 * the age (@p now - a->stored). When the result exceeds the client's size (512 without
 * EDNS, else its advertised size) or @p cap, the answer is replaced by an empty one with TC=1.
 * @return the response length (never more than @p cap), or -ENOSPC when even the
 *         header and question do not fit.
 */
int dns_write_answer(uint8_t *msg, size_t cap, const struct dns_query *q,
		     const struct dns_answer *a, uint32_t now);

/**
 * Turn the query in @p msg into a response with no records and @p rcode
 * (FORMERR, NOTIMP, REFUSED, SERVFAIL, BADVERS...). The question is echoed when it was
 * parsed (q->question_end != 0), OPT included when the query had EDNS (BADVERS needs it).
 * @return the response length, or -ENOSPC.
 */
int dns_write_rcode(uint8_t *msg, size_t cap, const struct dns_query *q, int rcode);

/* ------------------------------------------------------------------------- */
/* Names                                                                       */

/**
 * Encode a presentation name ("a.b.c." or "a.b.c"; "." for root; \DDD and \X escapes)
 * into lower-cased wire form.
 * @return wire length, or -EINVAL / -ENAMETOOLONG.
 */
int dns_name_from_str(uint8_t *out, size_t cap, const char *name);
/**
 * Decode the wire name at @p off of @p msg (compression followed, hops capped) to text
 * with a trailing dot.
 * @return bytes consumed at @p off in the message, or negative errno.
 */
int dns_name_to_str(const uint8_t *msg, size_t len, size_t off, char *out, size_t cap);
/** Lower-case a wire name in place. */
void dns_name_lower(uint8_t *name, size_t len);
/**
 * Expand the possibly compressed name at @p off of @p msg into uncompressed wire form
 * (case kept). Every pointer must point before itself, which with the DNS_PTR_HOPS_MAX
 * cap rules out loops. @p out (room for DNS_MAX_NAME) and @p out_len may be NULL.
 * @return bytes the name occupies at @p off (up to and including its first pointer),
 *         or -EBADMSG.
 */
int dns_name_unpack(const uint8_t *msg, size_t len, size_t off, uint8_t *out, size_t *out_len);

/** @return a static string for an rcode ("NOERROR", ...), or "RCODE<n>". */
const char *dns_rcode_str(int rcode);
/** @return a static string for a type ("A", "AAAA", ...), or NULL when unknown. */
const char *dns_type_str(uint16_t type);
/** @return the type for a mnemonic ("aaaa" case-insensitive, "TYPE65"), or -EINVAL. */
int dns_type_from_str(const char *s);
