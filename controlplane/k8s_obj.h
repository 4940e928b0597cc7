/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - Kubernetes objects as the kubernetes plugin keeps them: only what
 * DNS needs, each object one allocation. Converted from the API's JSON by the watch
 * thread (k8s_obj_from_json), applied by the engine thread (k8s_store.c).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "k8s_map.h"

typedef struct json_t json_t;

enum k8s_res { K8S_RES_NS = 0, K8S_RES_SVC, K8S_RES_SLICE, K8S_RES_POD, K8S_RES_N };

/** An IP address; fam is 4 or 6, a[] holds 4 or 16 bytes in network order. */
struct k8s_ip {
	uint8_t fam;
	uint8_t a[16];
};

/** A service or EndpointSlice port. */
struct k8s_port {
	const char *name;  /**< "" when unnamed */
	const char *proto; /**< lower case: "tcp", "udp", "sctp" ("" for the no-port sentinel) */
	int32_t port;      /**< -1: the sentinel CoreDNS adds for slices without ports */
};

/** One address of an EndpointSlice endpoint (an endpoint with two addresses gives two). */
struct k8s_ep {
	struct k8s_ip ip;
	bool ready;           /**< conditions.ready, nil = ready */
	const char *hostname; /**< endpoint hostname, NULL when unset */
	const char *target;   /**< targetRef.name when < 64 chars and endpoint_pod_names, else NULL */
};

enum k8s_svc_type { K8S_SVC_CLUSTERIP = 0, K8S_SVC_HEADLESS, K8S_SVC_EXTERNAL };

struct k8s_group;

/** One object. Engine-side links (node, gnext, group, gen) are the store's. */
struct k8s_obj {
	struct k8s_hnode node;
	enum k8s_res res;
	bool tombstone;     /**< DELETED / filtered out: only ns, name (and rv) are set */
	const char *ns;     /**< "" for namespaces */
	const char *name;
	const char *rv;     /**< metadata.resourceVersion */
	const char *key;    /**< "ns/name" (namespaces: "name") */
	/* store links */
	struct k8s_obj *gnext;    /**< next slice of the same group */
	struct k8s_group *group;  /**< slices and services: their group */
	uint64_t gen;             /**< relist generation that last saw it */
	union {
		struct {
			enum k8s_svc_type type;
			unsigned n_ips;
			struct k8s_ip *ips;     /**< spec.clusterIPs (clusterIP when absent) */
			const char *external;   /**< ExternalName, lower case, no trailing dot */
			bool external_is_ip;    /**< IP-valued ExternalName: ignored (NXDOMAIN) */
			unsigned n_ports;
			struct k8s_port *ports;
		} svc;
		struct {
			const char *service;    /**< label kubernetes.io/service-name */
			unsigned n_ports;
			struct k8s_port *ports; /**< the sentinel {"", "", -1} when the slice has none */
			unsigned n_eps;
			struct k8s_ep *eps;
			/** annotation endpoints.kubernetes.io/last-change-trigger-time (unix
			 *  ns), 0 when absent or unparsable: the DNS programming latency SLI */
			int64_t trigger_ns;
		} slice;
		struct {
			struct k8s_ip ip;       /**< status.podIP */
			const char *ipstr;
		} pod;
	} u;
};

/* ------------------------------------------------------------------------- */
/* Label selectors (labels, namespace_labels): parsed at config time, matched */
/* by the watch thread on the object's JSON labels.                           */

enum k8s_sel_op { K8S_SEL_EQ, K8S_SEL_NE, K8S_SEL_IN, K8S_SEL_NOTIN, K8S_SEL_EXISTS, K8S_SEL_NOTEXISTS };

struct k8s_sel_req {
	char *key;
	enum k8s_sel_op op;
	unsigned n_vals;
	char **vals;
};

struct k8s_selector {
	unsigned n;
	struct k8s_sel_req *reqs;
	char *text; /**< normalised text sent as labelSelector= */
};

/** Parse a Kubernetes label selector. @return NULL with a message in @p err. */
struct k8s_selector *k8s_selector_parse(const char *text, char *err, size_t errlen);
void k8s_selector_free(struct k8s_selector *s);
/** @return true when the JSON object @p labels (may be NULL) satisfies @p s. */
bool k8s_selector_match(const struct k8s_selector *s, const json_t *labels);

/* ------------------------------------------------------------------------- */
/* Conversion                                                                  */

/** Options that shape conversion (from the plugin's configuration). */
struct k8s_conv_opts {
	const struct k8s_selector *labels;    /**< services, slices: not matching = tombstone */
	const struct k8s_selector *ns_labels; /**< namespaces: not matching = tombstone */
	bool endpoint_pod_names;              /**< keep targetRef.name */
};

/**
 * Convert one API object (an item of a List, or the object of a watch event) of resource
 * @p res. Objects DNS must ignore (pods terminating or without an IP, slices of type FQDN
 * or without the service-name label, objects the selectors reject) come back as
 * tombstones, so applying them removes what the store had under that name.
 * @return the object (free with k8s_obj_free), or NULL when it has no name (malformed)
 *         or on allocation failure.
 */
struct k8s_obj *k8s_obj_from_json(enum k8s_res res, const json_t *obj,
				  const struct k8s_conv_opts *opts);

/** A tombstone for ns/name. @return NULL on allocation failure */
struct k8s_obj *k8s_obj_tombstone(enum k8s_res res, const char *ns, const char *name);

void k8s_obj_free(struct k8s_obj *o);

/** Parse an IP address text. @return 0 or -EINVAL */
int k8s_ip_parse(struct k8s_ip *ip, const char *s);
/** @return true when both addresses are equal. */
bool k8s_ip_eq(const struct k8s_ip *a, const struct k8s_ip *b);
/** @return hash of an address. */
uint64_t k8s_ip_hash(const struct k8s_ip *ip);
/** Text form (inet_ntop). @return @p buf */
const char *k8s_ip_str(const struct k8s_ip *ip, char *buf, size_t cap);

/** Parse an RFC 3339 time ("2024-05-01T10:00:00.5Z", "...+02:00"). @return 0 or -EINVAL */
int k8s_parse_time(const char *s, int64_t *unix_ns);

/** @return the resource name used in URLs ("services", ...). */
const char *k8s_res_name(enum k8s_res res);
