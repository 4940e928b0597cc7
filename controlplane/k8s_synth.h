/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - kubernetes record synthesis: store + options + query -> answer.
 * Pure: no I/O, no clock, no globals. The same code answers the queries the fast path
 * misses and produces the values the fast path serves, so both always agree.
 *
 * The rules are CoreDNS v1.14's kubernetes plugin (parseRequest, findServices,
 * findPods, serviceRecordForIP and the plugin/backend_lookup.go helpers); see
 * shared/reference/kubernetes-dns.md. Deliberate differences are listed in
 * k8s_synth.c's header comment.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns.h"
#include "k8s_obj.h"

struct k8s_config;
struct k8s_store;
struct k8s_group;

#define K8S_MAX_NSADDR 8
#define K8S_DNS_VERSION "1.1.0"
#define K8S_DNS_VERSION_TTL 28800

struct k8s_synth {
	const struct k8s_config *cfg;
	const struct k8s_store *store;
	uint32_t serial;     /**< SOA serial: unix time of the last API change */
	bool synced;         /**< every watched resource listed once */
	unsigned n_nsaddr;   /**< addresses of ns.dns.<zone> (the server's own) */
	struct k8s_ip nsaddr[K8S_MAX_NSADDR];
};

enum k8s_rc {
	K8S_RC_ANSWER = 0,  /**< records in the answer section */
	K8S_RC_NODATA,      /**< NOERROR, SOA in authority */
	K8S_RC_NXDOMAIN,    /**< NXDOMAIN, SOA in authority */
	K8S_RC_SERVFAIL,    /**< name error before the initial sync */
	K8S_RC_FALLTHROUGH, /**< name error under a fallthrough zone: next plugin */
	K8S_RC_NOTOURS,     /**< not under any zone of the plugin: next plugin */
	K8S_RC_REFUSED,     /**< AXFR / IXFR */
};

#define K8S_OWNER_QNAME UINT32_MAX

/** One record; names are offsets into the answer's string pool. */
struct k8s_rr {
	uint8_t sec;      /**< enum dns_section */
	uint16_t type;
	uint32_t ttl;
	uint32_t owner;   /**< K8S_OWNER_QNAME or string offset */
	uint8_t zq;       /**< DNS_ZP_* : names made under the question's zone (its case) */
	union {
		struct k8s_ip addr;
		uint32_t name; /**< CNAME, PTR, NS target; TXT text */
		struct {
			uint16_t prio, weight, port;
			uint32_t target;
		} srv;
	} d;
};

struct k8s_answer {
	enum k8s_rc rc;
	int zone;           /**< zone index of the SOA (negative answers, apex SOA) */
	unsigned n, cap;
	struct k8s_rr *rr;
	char *str;          /**< string pool */
	size_t slen, scap;
	bool upstream;      /**< an out-of-zone CNAME: the target's records come from the chain */
	char upstream_name[DNS_MAX_NAME * 4 + 2];
	uint16_t upstream_type;
	int err;            /**< sticky -ENOMEM */
};

void k8s_answer_init(struct k8s_answer *a);
void k8s_answer_reset(struct k8s_answer *a);
void k8s_answer_fini(struct k8s_answer *a);
/** @return the string at offset @p off of the pool. */
static inline const char *k8s_answer_str(const struct k8s_answer *a, uint32_t off)
{
	return a->str + off;
}

/** Ready endpoints of one group, with hostnames, indexed by hostname. */
struct k8s_view;

/** A few views kept across calls (answering many names of one group). */
#define K8S_VCACHE_N 4
struct k8s_vcache {
	struct k8s_view *v[K8S_VCACHE_N];
	unsigned next;
};

void k8s_vcache_init(struct k8s_vcache *vc);
/** Free the cached views (call whenever the store changes). */
void k8s_vcache_clear(struct k8s_vcache *vc);

/**
 * Answer @p qtype for the lower-cased wire name @p qname. @p vc may be NULL.
 * Records owned by the question use K8S_OWNER_QNAME (rendered as a pointer, so the
 * response echoes the query's case). @return 0, or -ENOMEM.
 */
int k8s_synth_answer(const struct k8s_synth *s, const uint8_t *qname, size_t qlen,
		     uint16_t qtype, struct k8s_vcache *vc, struct k8s_answer *a);

/**
 * Put @p a into @p b (records, header flags; negative answers get the zone's SOA in
 * authority). A dns_builder holds DNS_ANS_MAX_TTL records / DNS_BUILD_MAX bytes, or its
 * spill storage's size (answers): with @p partial what does not fit is dropped and
 * DNS_F_TC set in b->flags, else that is -ENOSPC.
 * @return 0 or negative errno (-EINVAL for FALLTHROUGH / NOTOURS).
 */
int k8s_build(const struct k8s_synth *s, const struct k8s_answer *a, struct dns_builder *b,
	      bool partial);

/** Add zone @p zone's SOA (TTL min(ttl, 300), minimum ttl) owned by @p owner (NULL: the
 *  question). @return 0 or negative errno */
int k8s_build_soa(const struct k8s_synth *s, int zone, enum dns_section sec, const char *owner,
		  struct dns_builder *b);


/**
 * For the store's ExternalName index: the "ns/name" of the service an in-zone target
 * (lower case, no trailing dot) lies under. @return 0, or -ENOENT when it is not below
 * <svc>.<ns>.svc.<zone> of a forward zone.
 */
int k8s_synth_dep_key(const struct k8s_config *cfg, const char *target, char *key, size_t cap);

/* ------------------------------------------------------------------------- */
/* Helpers shared with the publisher                                          */

/** @return true when namespace @p ns is exposed (namespaces list, namespace_labels). */
bool k8s_synth_ns_exposed(const struct k8s_synth *s, const char *ns);

/** Hostname of an endpoint as CoreDNS derives it. @return length written to @p out */
size_t k8s_endpoint_hostname(const struct k8s_ep *ep, bool pod_names, char *out, size_t cap);

/** Reverse name ("4.3.2.1.in-addr.arpa.") of @p ip. @return @p out */
char *k8s_reverse_name(const struct k8s_ip *ip, char *out, size_t cap);

/** Iterate the ready endpoints of a group view (for name enumeration). */
struct k8s_view *k8s_view_get(const struct k8s_synth *s, struct k8s_vcache *vc,
			      const struct k8s_group *g);
unsigned k8s_view_count(const struct k8s_view *v);
const char *k8s_view_host(const struct k8s_view *v, unsigned i);
/** @return true when endpoint @p i is the first with its hostname. */
bool k8s_view_host_first(const struct k8s_view *v, unsigned i);
